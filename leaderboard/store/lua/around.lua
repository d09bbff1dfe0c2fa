-- Windows around where a player stands, or would stand, for a merged window.
-- KEYS: two per region (its meta hash, its zset); on Redis Cluster one region per call,
-- on one Redis every region of the scope in one call.
-- ARGV[1] expected board version, ARGV[2] player id, ARGV[3] the player's internal score
-- (found by player.lua), or '' to take it from the zsets of the call (then the answer is
-- empty when none holds the player), ARGV[4] radius, ARGV[5] "1" to leave names out (a
-- merged window asks its own entries' names afterwards, see names.lua)
-- Answers, per region, {start, better, entries, moves (see moved), nameless (1 when names
-- were left out and the region holds some)}: the window starts at
-- list position `start` (radius before the player's place among entries ordered by
-- (score, id byte-wise)); better counts the entries strictly better than the first one
-- returned (or than the player when none is); entries are flat id, score, name.

local pid, score, radius = ARGV[2], ARGV[3], tonumber(ARGV[4])
local metas = {}
for k = 1, #KEYS, 2 do
  local meta = check_meta(KEYS[k], ARGV[1])
  if meta.err then return meta end
  metas[#metas + 1] = meta
  if score == '' then score = redis.call('ZSCORE', KEYS[k + 1], pid) or '' end
end
if score == '' then return {} end

local function position(z)
  local rank = redis.call('ZRANK', z, pid)
  if rank then return rank, 1 end
  local lo = count_better(z, score)
  local hi = redis.call('ZCOUNT', z, '-inf', score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member = redis.call('ZRANGE', z, mid, mid)[1]
    if bytes_lt(member, pid) then lo = mid + 1 else hi = mid end
  end
  return lo, 0
end

local windows = {}
for i, meta in ipairs(metas) do
  local z = KEYS[2 * i]
  local pos, here = position(z)
  local start = math.max(0, pos - radius)
  local items = slice(z, start, pos + here + radius - 1, meta, ARGV[5] == '1')
  local better
  if #items > 0 then better = count_better(z, items[2]) else better = count_better(z, score) end
  local nameless = ARGV[5] == '1' and redis.call('EXISTS', base_of(z) .. 'named')
  windows[#windows + 1] = {start, better, items, meta.mv, nameless or 0}
end
return windows
