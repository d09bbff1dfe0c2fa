-- Writes activity buckets for loadtests/bulk.py, grouped by bucket on the client: one
-- reply per call instead of one per bucket, which cost the sender more than Redis this.
-- KEYS[1] the region's zset (bucket keys share its base); ARGV[1] activity time (unix s),
-- then groups: bucket, count, that many player ids.
local base, now, i = string.sub(KEYS[1], 1, -2), ARGV[1], 2
while i <= #ARGV do
  local n, fields = tonumber(ARGV[i + 1]), {}
  for j = 1, n do
    fields[2 * j - 1] = ARGV[i + 1 + j]
    fields[2 * j] = now
  end
  redis.call('HSET', base .. 'a:' .. ARGV[i], unpack(fields))
  i = i + 2 + n
end
return 'OK'
