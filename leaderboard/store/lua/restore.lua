-- Undoes pull.lua for players whose write elsewhere was refused: puts them back here.
-- KEYS[1] the region's meta hash, KEYS[2] its zset, KEYS[3] its out records (of the
-- move's period, ARGV[4]: players go back where they were, even to a period that ended
-- meanwhile, whose standings they belonged to)
-- ARGV[1] now (unix ms), ARGV[2] event stream cap, ARGV[3] the move token, ARGV[4] the
-- period, then player ids.
-- Answers {snapshot}. A region that entered a later period meanwhile gets its players back
-- in the archive without events or snapshot: its stream and the mirror are past that.
local m = redis.call('HMGET', KEYS[1], 'buckets', 'top', 'sign', 'cur', 'hash')
if not m[1] then return {{}} end
local ev = events(m[2], m[3], ARGV[2], ARGV[1])
ev.period = tonumber(ARGV[4])
if tonumber(m[4] or '1') > ev.period then ev.n = 0 end
local z, outs, token = KEYS[2], KEYS[3], ARGV[3]
local base, now = base_of(z), math.floor(tonumber(ARGV[1]) / 1000)
local touched = false
for i = 5, #ARGV do
  local pid = ARGV[i]
  local record = redis.call('HGET', outs, pid)
  if record then
    local owner, _, score, name = parse_out(record)
    if owner == token and not redis.call('ZSCORE', z, pid) then
      if #set_score(ev, z, pid, score, nil) > 0 then touched = true end
      local b = bucket_of(pid, {buckets = tonumber(m[1]), hash = m[5]})
      redis.call('HSET', base .. 'a:' .. b, pid, now)
      if name ~= '' then
        redis.call('HSET', base .. 'n:' .. b, pid, name)
        redis.call('SET', base .. 'named', '1')
        if has_metadata(name) then redis.call('SET', base .. 'described', '1') end
      end
    end
    if owner == token then
      redis.call('HDEL', outs, pid)
      moved(KEYS[1])
    end
  end
end
return {top_snapshot(ev, KEYS[1], z, touched)}
