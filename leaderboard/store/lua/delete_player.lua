-- Removes a player from every structure of the board.
-- KEYS[1] the board's first region meta hash, KEYS[2..] the zsets of every region
-- ARGV[1] expected board version, ARGV[2] player id
-- Answers 1 when the player was removed, 0 when it was not on the board.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local pid = ARGV[2]
for j = 2, #KEYS do
  if redis.call('ZREM', KEYS[j], pid) == 1 then
    local base, b = base_of(KEYS[j]), bucket_of(pid, meta[2])
    redis.call('HDEL', base .. 'a:' .. b, pid)
    redis.call('HDEL', base .. 'n:' .. b, pid)
    return 1
  end
end
return 0
