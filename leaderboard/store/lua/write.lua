-- Applies a chunk of score updates to one region, atomically, with their top-N events.
-- KEYS[1]  the region's meta hash (version, mode, buckets, top, sign)
-- KEYS[2]  the region's zset (internal scores: lower is better)
-- KEYS[3]  the board's global mirror zset (players inside their region's top N)
-- KEYS[4..] the zsets of the board's other regions (a player found there moves here)
-- ARGV[1] expected board version, ARGV[2] now (unix ms), ARGV[3] "1" to answer ranks,
-- ARGV[4] event stream cap, then triples: player id, internal score, name ("" keeps it).
-- Answers {applied} or, with ranks, {score, updated, better} per update.
-- Errors before any write: NOBOARD, STALE, RANGE <index> (an incr leaves the exact range).

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local mode, buckets = meta.mode, meta.buckets
local z, gz, want = KEYS[2], KEYS[3], ARGV[3] == '1'
local now = math.floor(tonumber(ARGV[2]) / 1000)
local base = base_of(z)
local LIMIT = 9007199254740991
EV = {n = meta.top, sign = meta.sign, cap = ARGV[4], now = ARGV[2]}

local function stored(pid)
  local s = redis.call('ZSCORE', z, pid)
  if s then return tonumber(s), nil end
  for j = 4, #KEYS do
    s = redis.call('ZSCORE', KEYS[j], pid)
    if s then return tonumber(s), KEYS[j] end
  end
  return nil, nil
end

local function combine(old, val)
  if old == nil or mode == 'set' then return val end
  if mode == 'best' then return math.min(old, val) end
  return old + val
end

if mode == 'incr' then
  local seen = {}
  for i = 5, #ARGV, 3 do
    local pid = ARGV[i]
    local old = seen[pid]
    if old == nil then old = stored(pid) end
    local new = combine(old, tonumber(ARGV[i + 1]))
    if new > LIMIT or new < -LIMIT then
      return redis.error_reply('RANGE ' .. ((i - 5) / 3))
    end
    seen[pid] = new
  end
end

local out, any_name = {}, false
for i = 5, #ARGV, 3 do
  local pid, val, name = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local b = bucket_of(pid, buckets)
  local old, from = stored(pid)
  local changed = {}
  if from then
    local obase = base_of(from)
    changed = set_score(from, pid, nil, old)
    redis.call('HDEL', obase .. 'a:' .. b, pid)
    local oldname = redis.call('HGET', obase .. 'n:' .. b, pid)
    if oldname then
      redis.call('HDEL', obase .. 'n:' .. b, pid)
      if name == '' then name = oldname end
    end
  end
  local new = combine(old, val)
  local updated = new ~= old
  if updated or from then
    for _, c in ipairs(set_score(z, pid, new, (not from) and old or nil)) do
      changed[#changed + 1] = c
    end
  end
  if #changed > 0 then follow(gz, changed) end
  redis.call('HSET', base .. 'a:' .. b, pid, now)
  if name ~= '' then
    redis.call('HSET', base .. 'n:' .. b, pid, name)
    any_name = true
  end
  if want then
    out[#out + 1] = fmt(new)
    out[#out + 1] = updated and 1 or 0
    out[#out + 1] = count_better(z, fmt(new))
  end
end
if any_name then redis.call('SET', base .. 'named', '1') end
if want then return out end
return (#ARGV - 4) / 3
