-- Many players at once (a friends or party board): where each is and what its score is.
-- KEYS: four per region (its meta hash, zset, out records, in records); on Redis Cluster
-- one region per call, on one Redis every region of the scope in one call, which then
-- shows one instant and counts in every region at once.
-- ARGV[1] expected board version, ARGV[2..] player ids
-- Answers {found, regions}: found is flat (id, region's place in KEYS (1-based), internal
-- score, name or false, entries strictly better in the regions of the call) per player
-- a zset of the call holds; regions holds per region {total, outs, ins, moves}.

local found, regions, zsets = {}, {}, {}
for k = 1, #KEYS, 4 do
  local meta = check_meta(KEYS[k], ARGV[1])
  if meta.err then return meta end
  local named = redis.call('EXISTS', base_of(KEYS[k + 1]) .. 'named') == 1
  zsets[#zsets + 1] = {KEYS[k + 1], meta, named}
  regions[#regions + 1] = {redis.call('ZCARD', KEYS[k + 1]), redis.call('HGETALL', KEYS[k + 2]),
    redis.call('HGETALL', KEYS[k + 3]), meta.mv}
end
for i = 2, #ARGV do
  local pid = ARGV[i]
  for r, z in ipairs(zsets) do
    local score = redis.call('ZSCORE', z[1], pid)
    if score then
      local better = 0
      for _, other in ipairs(zsets) do better = better + count_better(other[1], score) end
      found[#found + 1] = pid
      found[#found + 1] = r
      found[#found + 1] = score
      found[#found + 1] = name_of(base_of(z[1]), z[3], z[2], pid)
      found[#found + 1] = better
      break
    end
  end
end
return {found, regions}
