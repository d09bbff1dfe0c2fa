-- Creates or replaces a board's configuration, refusing changes that would orphan data.
-- KEYS[1] the board's config hash, KEYS[2] the registry set of board ids, KEYS[3] the
-- board's global mirror zset (rebuilt, without events, when top_events changes), KEYS[4]
-- the marker of a deletion under way (the caller finishes it first), then per region of
-- the old and new configs together: its meta hash, its zset.
-- ARGV[1] the old regions as read by the caller ("" for a new board), ARGV[2] the new
-- regions (comma-separated), ARGV[3] order, ARGV[4] mode, ARGV[5] inactive_after_days,
-- ARGV[6] top_events, ARGV[7] activity buckets for a new board, ARGV[8] board id.
-- Answers {created (0/1), version}; errors: RETRY (config changed since it was read),
-- REGION_IN_USE <region>, NOT_EMPTY (order or mode change on a board with players).

local cfg = KEYS[1]
local current = redis.call('HMGET', cfg, 'regions', 'order', 'mode', 'buckets', 'version',
  'top_events')
if (current[1] or '') ~= ARGV[1] or redis.call('EXISTS', KEYS[4]) == 1 then
  return redis.error_reply('RETRY board configuration changed meanwhile')
end
local new_regions = {}
for r in string.gmatch(ARGV[2], '[^,]+') do new_regions[r] = true end

local players = 0
for i = 5, #KEYS, 2 do
  local region = string.match(KEYS[i + 1], ':([^:}]+)}:z$')
  local n = redis.call('ZCARD', KEYS[i + 1])
  players = players + n
  if not new_regions[region] and n > 0 then
    return redis.error_reply('REGION_IN_USE ' .. region)
  end
end
if current[1] and players > 0 and (current[2] ~= ARGV[3] or current[3] ~= ARGV[4]) then
  return redis.error_reply('NOT_EMPTY board holds players')
end

local created = current[1] and 0 or 1
local buckets = current[4] or ARGV[7]
-- A version never used before by this board id, even across delete and re-create.
local now = redis.call('TIME')
local version = tonumber(now[1]) * 1000000 + tonumber(now[2])
if current[5] and version <= tonumber(current[5]) then version = tonumber(current[5]) + 1 end
version = fmt(version)
redis.call('HSET', cfg, 'regions', ARGV[2], 'order', ARGV[3], 'mode', ARGV[4],
  'inactive_after_days', ARGV[5], 'top_events', ARGV[6], 'buckets', buckets,
  'version', version)
redis.call('SADD', KEYS[2], ARGV[8])
for i = 5, #KEYS, 2 do
  local region = string.match(KEYS[i + 1], ':([^:}]+)}:z$')
  if new_regions[region] then
    redis.call('HSET', KEYS[i], 'version', version, 'mode', ARGV[4], 'buckets', buckets,
      'top', ARGV[6], 'sign', ARGV[3] == 'desc' and -1 or 1)
  else
    redis.call('DEL', KEYS[i], base_of(KEYS[i + 1]) .. 'named', base_of(KEYS[i + 1]) .. 'ev')
  end
end
if current[6] and current[6] ~= ARGV[6] then
  redis.call('DEL', KEYS[3])
  local n = tonumber(ARGV[6])
  for i = 5, #KEYS, 2 do
    if n > 0 then
      local top = redis.call('ZRANGE', KEYS[i + 1], 0, n - 1, 'WITHSCORES')
      for j = 1, #top, 2 do redis.call('ZADD', KEYS[3], top[j + 1], top[j]) end
    end
  end
end
return {created, version}
