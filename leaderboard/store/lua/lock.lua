-- One holder per lock: extends or releases it only for the token that holds it.
-- KEYS[1] the lock key
-- ARGV[1] the holder's token, ARGV[2] new time to live in ms, or 0 to release
-- Answers 1 when the token held the lock, else 0.

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
