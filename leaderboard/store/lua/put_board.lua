-- Creates or replaces a board's configuration, refusing changes that would orphan data.
-- KEYS[1] the board's config hash, KEYS[2] the marker of a deletion under way (the caller
-- finishes it first), KEYS[3] the global mirror zset, KEYS[4] the hash of sequence numbers
-- applied per region, then per region of the old and new configs together, in ARGV's
-- order: the board's copy of that region's top N (all in the board's slot)
-- ARGV[1] the version the caller read ("" for a new board): any change since, a reset
-- included, is a RETRY; ARGV[2] the new
-- regions (comma-separated), ARGV[3] order, ARGV[4] mode, ARGV[5] inactive_after_days,
-- ARGV[6] top_events, ARGV[7] activity buckets for a new board, ARGV[8] the regions' tags
-- (keys.place), ARGV[9] reset_every, ARGV[10] keep_periods, ARGV[11] the period anchors
-- (periods.py), ARGV[12] the mark of the idempotent reset this change is ("" if none:
-- a retry of the reset finds it in field 'reset' and resets nothing more), ARGV[13] the
-- bucket hash for a new board (a board keeps its own; one without the field is 'fnv1a'),
-- then per region of the old and new configs together: its name and its player count in
-- the current period, read by the caller.
-- Answers {created (0/1), version, buckets, rebuild (1 when the mirror was emptied and
-- must be rebuilt from the regions), hash}; errors: RETRY (config changed since it was read),
-- REGION_IN_USE <region>, NOT_EMPTY (order or mode change on a board with players).
-- The regions' meta hashes follow in region_meta.lua (other slots).

local cfg = KEYS[1]
local current = redis.call('HMGET', cfg, 'regions', 'order', 'mode', 'buckets', 'version',
  'top_events', 'hash')
if (current[5] or '') ~= ARGV[1] or redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('RETRY board configuration changed meanwhile')
end
local new_regions = {}
for r in string.gmatch(ARGV[2], '[^,]+') do new_regions[r] = true end

local players = 0
for i = 14, #ARGV, 2 do
  local region, n = ARGV[i], tonumber(ARGV[i + 1])
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
local hash = current[7] or (current[1] and 'fnv1a') or ARGV[13]
-- A version never used before by this board id, even across delete and re-create.
local now = redis.call('TIME')
local version = tonumber(now[1]) * 1000000 + tonumber(now[2])
if current[5] and version <= tonumber(current[5]) then version = tonumber(current[5]) + 1 end
version = fmt(version)
redis.call('HSET', cfg, 'regions', ARGV[2], 'order', ARGV[3], 'mode', ARGV[4],
  'inactive_after_days', ARGV[5], 'top_events', ARGV[6], 'buckets', buckets,
  'version', version, 'tags', ARGV[8], 'reset_every', ARGV[9], 'keep_periods', ARGV[10],
  'anchors', ARGV[11], 'hash', hash)
if ARGV[12] ~= '' then redis.call('HSET', cfg, 'reset', ARGV[12]) end
local rebuild = current[6] and current[6] ~= ARGV[6]
for i = 14, #ARGV, 2 do
  if rebuild or not new_regions[ARGV[i]] then
    redis.call('DEL', KEYS[5 + (i - 14) / 2])
    redis.call('HDEL', KEYS[4], ARGV[i])
  end
end
if rebuild then redis.call('DEL', KEYS[3]) end
return {created, version, buckets, rebuild and 1 or 0, hash}
