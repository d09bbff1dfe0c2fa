-- Applies a chunk of score updates to one region, atomically.
-- KEYS[1]  the region's meta hash (version, mode, buckets)
-- KEYS[2]  the region's zset (internal scores: lower is better)
-- KEYS[3..] the zsets of the board's other regions (a player found there moves here)
-- ARGV[1] expected board version, ARGV[2] now (unix seconds), ARGV[3] "1" to answer ranks,
-- then triples: player id, internal score, name ("" keeps the stored name).
-- Answers {applied} or, with ranks, {score, updated, better} per update.
-- Errors before any write: NOBOARD, STALE, RANGE <index> (an incr leaves the exact range).

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local mode, buckets = meta[1], meta[2]
local z, now, want = KEYS[2], ARGV[2], ARGV[3] == '1'
local base = base_of(z)
local LIMIT = 9007199254740991

local function stored(pid)
  local s = redis.call('ZSCORE', z, pid)
  if s then return tonumber(s), nil end
  for j = 3, #KEYS do
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
  for i = 4, #ARGV, 3 do
    local pid = ARGV[i]
    local old = seen[pid]
    if old == nil then old = stored(pid) end
    local new = combine(old, tonumber(ARGV[i + 1]))
    if new > LIMIT or new < -LIMIT then
      return redis.error_reply('RANGE ' .. ((i - 4) / 3))
    end
    seen[pid] = new
  end
end

local out, any_name = {}, false
for i = 4, #ARGV, 3 do
  local pid, val, name = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local b = bucket_of(pid, buckets)
  local old, from = stored(pid)
  if from then
    local obase = base_of(from)
    redis.call('ZREM', from, pid)
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
    redis.call('ZADD', z, fmt(new), pid)
  end
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
return (#ARGV - 3) / 3
