-- Each region's window around a player's place in list order, for a merged window.
-- KEYS[1] the board's first region meta hash, KEYS[2..] the zsets of the scope's regions
-- ARGV[1] expected board version, ARGV[2] player id, ARGV[3] radius
-- Answers {} when the player is in none of these zsets, else per zset in KEYS order:
-- start, better, count, then count triples (id, score, name): the window starts at list
-- position `start` (radius before where the player stands or would stand) and better
-- counts the entries strictly better than the first one returned (or than the player
-- when none is).

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local pid, radius, buckets = ARGV[2], tonumber(ARGV[3]), meta.buckets
local score
for j = 2, #KEYS do
  score = redis.call('ZSCORE', KEYS[j], pid)
  if score then break end
end
if not score then return {} end

-- Position of (score, pid) among entries ordered by (score, id byte-wise).
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

local out = {}
for j = 2, #KEYS do
  local z = KEYS[j]
  local pos, here = position(z)
  local start = math.max(0, pos - radius)
  local items = slice(z, start, pos + here + radius - 1, buckets)
  local better
  if #items > 0 then better = count_better(z, items[2]) else better = count_better(z, score) end
  out[#out + 1] = start
  out[#out + 1] = better
  out[#out + 1] = #items / 3
  for i = 1, #items do out[#out + 1] = items[i] end
end
return out
