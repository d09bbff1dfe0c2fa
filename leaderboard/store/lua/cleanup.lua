-- Removes one region's inactive players, a bounded batch of activity buckets at a time.
-- KEYS[1] the region's meta hash, KEYS[2] the region's cleanup lock, which must hold
-- ARGV[8] (else error UNLOCKED); players go from the region's current period
-- ARGV[1] expected board version, ARGV[2] cutoff (unix s: older activity is removed),
-- ARGV[3] first bucket, ARGV[4] most buckets to read, ARGV[5] most players to examine,
-- ARGV[6] now (unix ms), ARGV[7] event stream cap
-- Answers {next bucket or -1 when the region is done, removed, examined, snapshot}. The activity
-- is read inside this call, so a score written meanwhile is never removed.
-- A region of at most ARGV[5] players is done in this call, from its zset, without reading
-- the buckets: the scripts that give a player activity put it in the zset (write, restore)
-- and those that take it out of the zset drop its activity (pull, delete_player, this one),
-- so the zset names every player that has activity.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
if redis.call('GET', KEYS[2]) ~= ARGV[8] then
  return redis.error_reply('UNLOCKED the cleanup lock was lost')
end
local ev = events(meta.top, meta.sign, ARGV[7], ARGV[6])
ev.period = period_at(meta, tonumber(ARGV[6]))
local base, touched = period_base(KEYS[1], ev.period), false
local z, cutoff = base .. 'z', tonumber(ARGV[2])
local most = tonumber(ARGV[5])
local examined, removed = 0, 0

-- Removes the player when its activity (in bucket b) is older than the cutoff.
local function sweep(pid, at, b)
  if tonumber(at) >= cutoff then return end
  local score = redis.call('ZSCORE', z, pid)
  if score then
    if #set_score(ev, z, pid, nil, tonumber(score)) > 0 then touched = true end
  end
  redis.call('HDEL', base .. 'a:' .. b, pid)
  redis.call('HDEL', base .. 'n:' .. b, pid)
  removed = removed + 1
end

if redis.call('ZCARD', z) <= most then
  local players = redis.call('ZRANGE', z, 0, -1)
  for _, pid in ipairs(players) do
    local b = bucket_of(pid, meta)
    local at = redis.call('HGET', base .. 'a:' .. b, pid)
    if at then sweep(pid, at, b) end
  end
  return {-1, removed, #players, top_snapshot(ev, KEYS[1], z, touched)}
end

local b = tonumber(ARGV[3])
local last = math.min(meta.buckets, b + tonumber(ARGV[4]))
while b < last and examined < most do
  local flat = redis.call('HGETALL', base .. 'a:' .. b)
  for i = 1, #flat, 2 do
    sweep(flat[i], flat[i + 1], b)
  end
  examined = examined + #flat / 2
  b = b + 1
end
if b >= meta.buckets then b = -1 end
return {b, removed, examined, top_snapshot(ev, KEYS[1], z, touched)}
