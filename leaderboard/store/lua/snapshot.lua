-- A region's top N with a new sequence number, for rebuilding the board's global mirror.
-- KEYS[1] the region's meta hash, KEYS[2] its zset; ARGV[1] expected board version.
-- Answers the snapshot (see top_snapshot).
local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
EV = {n = meta.top}
return top_snapshot(KEYS[1], KEYS[2], true)
