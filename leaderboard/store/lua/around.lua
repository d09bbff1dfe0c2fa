-- One region's window around where a player stands, or would stand, for a merged window.
-- KEYS[1] the region's meta hash, KEYS[2] its zset
-- ARGV[1] expected board version, ARGV[2] player id, ARGV[3] the player's internal score
-- (found by player.lua), ARGV[4] radius
-- Answers {start, better, entries, moves (see moved)}: the window starts at list position `start` (radius
-- before the player's place among entries ordered by (score, id byte-wise)); better counts
-- the entries strictly better than the first one returned (or than the player when none
-- is); entries are flat id, score, name.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local z, pid, score, radius = KEYS[2], ARGV[2], ARGV[3], tonumber(ARGV[4])

local function position()
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

local pos, here = position()
local start = math.max(0, pos - radius)
local items = slice(z, start, pos + here + radius - 1, meta.buckets)
local better
if #items > 0 then better = count_better(z, items[2]) else better = count_better(z, score) end
return {start, better, items, meta.mv}
