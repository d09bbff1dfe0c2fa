-- What regions know of a player: the first step of a global standing or window.
-- KEYS: four per region (its meta hash, zset, out records, in records); on Redis Cluster
-- one region per call, on one Redis every region of the board in one call, which then
-- shows one instant and answers the standing's counts without a second round trip.
-- ARGV[1] expected board version, ARGV[2] player id
-- Answers, per region, {score or false, name or false, better, total, outs, ins, moves
-- (see moved)}: better counts the entries strictly better than the player's score in any
-- region of the call (0 in every region when none holds it).

local pid, found, score = ARGV[2], {}, nil
for k = 1, #KEYS, 4 do
  local meta = check_meta(KEYS[k], ARGV[1])
  if meta.err then return meta end
  local z = KEYS[k + 1]
  local here = redis.call('ZSCORE', z, pid)
  local name = false
  if here then
    local base = base_of(z)
    name = name_of(base, redis.call('EXISTS', base .. 'named') == 1, meta, pid)
    score = here
  end
  found[#found + 1] = {here or false, name, 0, redis.call('ZCARD', z),
    redis.call('HGETALL', KEYS[k + 2]), redis.call('HGETALL', KEYS[k + 3]), meta.mv}
end
if score then
  for i, region in ipairs(found) do region[3] = count_better(KEYS[4 * i - 2], score) end
end
return found
