-- One request against a rate limit (GCRA): shared by every process and server on this Redis.
-- KEYS[1] the subject's key (its theoretical arrival time, unix ms)
-- ARGV[1] the rate, requests per second; an idle subject may send twice that at once.
-- Answers 0 when the request is allowed (and counted), else the ms until one would be.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = 1000 / tonumber(ARGV[1])
local burst = 2000
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local wait = tat + interval - now - burst
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], string.format('%.6f', tat + interval), 'PX',
  math.max(1, math.ceil(tat + interval - now)))
return 0
