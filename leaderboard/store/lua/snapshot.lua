-- A region's top N with a new sequence number, for rebuilding the board's global mirror.
-- KEYS[1] the region's meta hash; ARGV[1] expected board version, ARGV[2] now (unix ms).
-- Answers the snapshot of the region's current period (see top_snapshot).
local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local ev = events(meta.top, meta.sign, 0, 0)
ev.period = period_at(meta, tonumber(ARGV[2]))
return top_snapshot(ev, KEYS[1], period_base(KEYS[1], ev.period) .. 'z', true)
