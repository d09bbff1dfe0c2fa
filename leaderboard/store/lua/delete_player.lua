-- Removes a player from one region, with its top-N events and any move records.
-- KEYS[1] the region's meta hash, KEYS[2] its zset, KEYS[3] its out records, KEYS[4] its
-- in records; ARGV[1] expected board version, ARGV[2] player id, ARGV[3] now (unix ms),
-- ARGV[4] event stream cap. The caller holds the player's lock and calls every region.
-- Answers {removed (1 when the player was here or on its way out), snapshot}.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local ev = events(meta.top, meta.sign, ARGV[4], ARGV[3])
local z, pid = KEYS[2], ARGV[2]
local removed = redis.call('HDEL', KEYS[3], pid)
redis.call('HDEL', KEYS[4], pid)
local score = redis.call('ZSCORE', z, pid)
local touched = false
if score then
  touched = #set_score(ev, z, pid, nil, tonumber(score)) > 0
  local base, b = base_of(z), bucket_of(pid, meta.buckets)
  redis.call('HDEL', base .. 'a:' .. b, pid)
  redis.call('HDEL', base .. 'n:' .. b, pid)
  removed = 1
end
return {removed, top_snapshot(ev, KEYS[1], z, touched)}
