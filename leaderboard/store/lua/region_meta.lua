-- Writes (or removes) one region's copy of the board's configuration, after put_board.lua.
-- KEYS[1] the region's meta hash, KEYS[2] its zset
-- ARGV[1] version, ARGV[2] mode, ARGV[3] buckets, ARGV[4] top, ARGV[5] sign, ARGV[6] "1"
-- when the region stays on the board, "0" when it was removed.
-- A version older than the one the meta holds is ignored (two changes racing).
local held = redis.call('HGET', KEYS[1], 'version')
if held and tonumber(held) > tonumber(ARGV[1]) then return 0 end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'mode', ARGV[2], 'buckets', ARGV[3],
    'top', ARGV[4], 'sign', ARGV[5])
else
  local base = base_of(KEYS[2])
  redis.call('DEL', KEYS[1], base .. 'named', base .. 'described', base .. 'ev',
    base .. 'out', base .. 'in', base .. 'hold')
end
return 1
