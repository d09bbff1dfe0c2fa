-- Preloads players into one region of an empty benchmark board (loadtests/bulk.py);
-- _lib.lua is put in front, so buckets are computed as the service's scripts do.
-- KEYS[1] the region's zset; ARGV[1] activity time (unix s), ARGV[2] bucket count, then
-- pairs: player id, internal score.
local z, now, buckets = KEYS[1], ARGV[1], tonumber(ARGV[2])
local base = base_of(z)
local members = {}
for i = 3, #ARGV, 2 do
  members[#members + 1] = ARGV[i + 1]
  members[#members + 1] = ARGV[i]
  if #members >= 2000 then
    redis.call('ZADD', z, unpack(members))
    members = {}
  end
  redis.call('HSET', base .. 'a:' .. bucket_of(ARGV[i], buckets), ARGV[i], now)
end
if #members > 0 then redis.call('ZADD', z, unpack(members)) end
return (#ARGV - 2) / 2
