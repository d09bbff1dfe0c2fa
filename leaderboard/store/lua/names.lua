-- What is shown (name, metadata) of some players of one region: the second step of a
-- global top page, whose regions' slices came without names (page.lua) so that only the
-- page's own entries are looked up.
-- KEYS[1] the region's meta hash, KEYS[2] its zset (of the period read)
-- ARGV[1] expected board version, then player ids.
-- Answers per player what its name bucket holds, or false.
local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local base = base_of(KEYS[2])
local named = redis.call('EXISTS', base .. 'named') == 1
local out = {}
for i = 2, #ARGV do out[#out + 1] = name_of(base, named, meta, ARGV[i]) end
return out
