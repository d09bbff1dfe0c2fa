-- A region's top N with a new sequence number, for rebuilding the board's global mirror.
-- KEYS[1] the region's meta hash, KEYS[2] its zset; ARGV[1] expected board version.
-- Answers the snapshot (see top_snapshot).
local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local ev = events(meta.top, meta.sign, 0, 0)
return top_snapshot(ev, KEYS[1], KEYS[2], true)
