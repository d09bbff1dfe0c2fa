-- Removes a player from every structure of the board, with its top-N events.
-- KEYS[1] the board's first region meta hash, KEYS[2] the board's global mirror zset,
-- KEYS[3..] the zsets of every region
-- ARGV[1] expected board version, ARGV[2] player id, ARGV[3] now (unix ms),
-- ARGV[4] event stream cap
-- Answers 1 when the player was removed, 0 when it was not on the board.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
EV = {n = meta.top, sign = meta.sign, cap = ARGV[4], now = ARGV[3]}
local pid = ARGV[2]
for j = 3, #KEYS do
  local score = redis.call('ZSCORE', KEYS[j], pid)
  if score then
    local changed = set_score(KEYS[j], pid, nil, tonumber(score))
    if #changed > 0 then follow(KEYS[2], changed) end
    local base, b = base_of(KEYS[j]), bucket_of(pid, meta.buckets)
    redis.call('HDEL', base .. 'a:' .. b, pid)
    redis.call('HDEL', base .. 'n:' .. b, pid)
    return 1
  end
end
return 0
