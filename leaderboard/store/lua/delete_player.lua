-- Removes a player from one region, with its top-N events and any move records.
-- KEYS[1] the region's meta hash; the player goes from the region's current period
-- (its zset, out and in records under period_base). ARGV[1] expected board version,
-- ARGV[2] player id, ARGV[3] now (unix ms), ARGV[4] event stream cap. The caller holds
-- the player's lock and calls every region.
-- Answers {removed (1 when the player was here or on its way out), snapshot}.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local ev = events(meta.top, meta.sign, ARGV[4], ARGV[3])
ev.period = period_at(meta, tonumber(ARGV[3]))
local base, pid = period_base(KEYS[1], ev.period), ARGV[2]
local z = base .. 'z'
local removed = redis.call('HDEL', base .. 'out', pid)
redis.call('HDEL', base .. 'in', pid)
local score = redis.call('ZSCORE', z, pid)
local touched = false
if score then
  touched = #set_score(ev, z, pid, nil, tonumber(score)) > 0
  local b = bucket_of(pid, meta)
  redis.call('HDEL', base .. 'a:' .. b, pid)
  redis.call('HDEL', base .. 'n:' .. b, pid)
  removed = 1
end
return {removed, top_snapshot(ev, KEYS[1], z, touched)}
