-- A region's periods: enters the current one first (so that boundaries passed with no
-- write give the region its reset event now), then answers its archives.
-- KEYS[1] the region's meta hash; ARGV[1] expected board version, ARGV[2] now (unix ms),
-- ARGV[3] event stream cap
-- Answers {current period, archives, snapshot}: archives is flat (period, players) for
-- each period the region ended with players (enter_period), players counted now (those
-- on their way between regions too, as enter_period counts them).
local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local ev = events(meta.top, meta.sign, ARGV[3], ARGV[2])
ev.period = period_at(meta, tonumber(ARGV[2]))
local snapshot = {}
if enter_period(KEYS[1], meta, ev.period, ev) then
  snapshot = top_snapshot(ev, KEYS[1], period_base(KEYS[1], ev.period) .. 'z', true)
end
local archives = {}
for _, p in ipairs(redis.call('ZRANGE', string.sub(KEYS[1], 1, -2) .. 'periods', 0, -1)) do
  archives[#archives + 1] = p
  local base = period_base(KEYS[1], tonumber(p))
  archives[#archives + 1] = redis.call('ZCARD', base .. 'z') + redis.call('HLEN', base .. 'out')
end
return {ev.period, archives, snapshot}
