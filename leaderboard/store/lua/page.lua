-- One region's slice of a top page.
-- KEYS[1] the region's meta hash, KEYS[2] its zset, KEYS[3] its out records, KEYS[4] its
-- in records; ARGV[1] expected board version, ARGV[2] start, ARGV[3] stop (zset
-- positions), ARGV[4] "1" to answer the move records too (for global views), ARGV[5]
-- "1" to leave names out (a global page asks its own entries' names after the merge)
-- Answers {total, better, entries, outs, ins, moves (see moved), nameless (1 when names
-- were left out and the region holds some)}: better counts the entries
-- strictly better than the first one returned (ranks of ties that began before the slice);
-- entries are flat id, score, name; outs and ins are the move records as HGETALL gives them.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local z = KEYS[2]
local items = slice(z, tonumber(ARGV[2]), tonumber(ARGV[3]), meta, ARGV[5] == '1')
local better = 0
if #items > 0 then better = count_better(z, items[2]) end
local outs, ins = {}, {}
if ARGV[4] == '1' then
  outs, ins = redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])
end
local nameless = ARGV[5] == '1' and redis.call('EXISTS', base_of(z) .. 'named')
return {redis.call('ZCARD', z), better, items, outs, ins, meta.mv, nameless or 0}
