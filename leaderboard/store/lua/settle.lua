-- Last steps of a region move: drops the records of moves that are complete.
-- KEYS[1] a region's out or in records, KEYS[2] its meta hash (counts the change)
-- ARGV[1] the move token, then player ids.
-- A record is dropped only if it still belongs to this move (its token).
for i = 2, #ARGV do
  local record = redis.call('HGET', KEYS[1], ARGV[i])
  if record and string.sub(record, 1, #ARGV[1]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    if redis.call('EXISTS', KEYS[2]) == 1 then moved(KEYS[2]) end
  end
end
return 0
