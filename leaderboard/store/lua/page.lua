-- One region's slice of a top page.
-- KEYS[1] the region's meta hash, KEYS[2] the region's zset
-- ARGV[1] expected board version, ARGV[2] start, ARGV[3] stop (zset positions)
-- Answers {total, better, id, score, name, ...}: better counts the entries strictly
-- better than the first one returned (ranks of ties that began before the slice).

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local z = KEYS[2]
local items = slice(z, tonumber(ARGV[2]), tonumber(ARGV[3]), meta.buckets)
local better = 0
if #items > 0 then better = count_better(z, items[2]) end
local out = {redis.call('ZCARD', z), better}
for i = 1, #items do out[#out + 1] = items[i] end
return out
