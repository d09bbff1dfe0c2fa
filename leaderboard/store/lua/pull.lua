-- First step of a region move: takes players out of this region for a write elsewhere.
-- KEYS[1] the region's meta hash, KEYS[2] its zset, KEYS[3] its records of players on
-- their way out (both of period ARGV[6])
-- ARGV[1] expected board version, ARGV[2] now (unix ms), ARGV[3] event stream cap,
-- ARGV[4] the move token (the caller holds these players' locks), ARGV[5] destination
-- region, ARGV[6] the period of the move (it must not have ended here, else PERIOD and
-- the region's period), then player ids.
-- Each player found here leaves the zset (with its activity and name) and leaves a record
-- (token, destination, score, name) that global reads count in its place until the
-- destination holds it with the same token: never lost, never counted twice. A record
-- left by an earlier move that never finished is taken over the same way.
-- Answers {found, snapshot}: found holds id, internal score, name, origin per player
-- found; origin is "" for the zset, else the taken-over record's old token and destination
-- (tab-separated), for the caller to check that that move never arrived.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local period = period_at(meta, tonumber(ARGV[2]))
if period > tonumber(ARGV[6]) then return redis.error_reply('PERIOD ' .. period) end
local ev = events(meta.top, meta.sign, ARGV[3], ARGV[2])
ev.period = tonumber(ARGV[6])
local z, outs, token, dst = KEYS[2], KEYS[3], ARGV[4], ARGV[5]
local base = base_of(z)
local found, touched = {}, false
for i = 7, #ARGV do
  local pid = ARGV[i]
  local score, name, origin = redis.call('ZSCORE', z, pid), nil, ''
  if score then
    score = tonumber(score)
    if #set_score(ev, z, pid, nil, score) > 0 then touched = true end
    local b = bucket_of(pid, meta)
    redis.call('HDEL', base .. 'a:' .. b, pid)
    name = redis.call('HGET', base .. 'n:' .. b, pid) or ''
    redis.call('HDEL', base .. 'n:' .. b, pid)
  else
    local left = redis.call('HGET', outs, pid)
    if left then
      local token0, dst0
      token0, dst0, score, name = parse_out(left)
      origin = token0 .. '\t' .. dst0
    end
  end
  if score then
    redis.call('HSET', outs, pid, token .. '\t' .. dst .. '\t' .. fmt(score) .. '\t' .. name)
    found[#found + 1] = pid
    found[#found + 1] = fmt(score)
    found[#found + 1] = name
    found[#found + 1] = origin
  end
end
if #found > 0 then moved(KEYS[1]) end
return {found, top_snapshot(ev, KEYS[1], z, touched)}
