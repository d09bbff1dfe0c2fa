-- Per-player locks of a board, for the writes that may move a player between regions.
-- KEYS[1] the board's lock hash (player id -> token, expiry in unix ms)
-- ARGV[1] token, ARGV[2] "take" or "release", ARGV[3] time to live (ms), then player ids.
-- take: all of them or none; answers 1 or 0. release: drops those still holding token.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = ARGV[1]
local function holder(pid)
  local v = redis.call('HGET', KEYS[1], pid)
  if not v then return nil end
  local owner, expiry = string.match(v, '^(.*) (%d+)$')
  if tonumber(expiry) < now then return nil end
  return owner
end
if ARGV[2] == 'release' then
  for i = 4, #ARGV do
    if holder(ARGV[i]) == token then redis.call('HDEL', KEYS[1], ARGV[i]) end
  end
  return 1
end
for i = 4, #ARGV do
  local owner = holder(ARGV[i])
  if owner and owner ~= token then return 0 end
end
local value = token .. ' ' .. fmt(now + tonumber(ARGV[3]))
for i = 4, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], value) end
return 1
