-- What one region knows of a player, the first step of a global standing or window.
-- KEYS[1] the region's meta hash, KEYS[2] its zset, KEYS[3] its out records, KEYS[4] its
-- in records; ARGV[1] expected board version, ARGV[2] player id
-- Answers {score or false, name or false, better, total, outs, ins, moves (see moved)}:
-- better counts the entries strictly better than the player here (0 when it is not here).

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local z, pid = KEYS[2], ARGV[2]
local score = redis.call('ZSCORE', z, pid)
local name, better = false, 0
if score then
  local base = base_of(z)
  name = name_of(base, redis.call('EXISTS', base .. 'named') == 1, meta.buckets, pid)
  better = count_better(z, score)
end
return {score or false, name, better, redis.call('ZCARD', z), redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]), meta.mv}
