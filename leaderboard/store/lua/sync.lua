-- Carries one region's top N into the board's global mirror, with the global events.
-- KEYS[1] the board's config hash, KEYS[2] the global mirror zset, KEYS[3] the hash of
-- the last sequence number applied per region, KEYS[4] this region's copy of its top N,
-- KEYS[5..] the other regions' copies (all in the board's slot)
-- ARGV[1] region, ARGV[2] sequence number of the snapshot, ARGV[3] event stream cap,
-- ARGV[4] now (unix ms), ARGV[5] the snapshot's period, then the region's top N, flat:
-- id, internal score, ...
-- A snapshot older than one already applied is dropped: the newer one holds its changes.
-- The mirror holds one period (field '#period' of KEYS[3]): a snapshot of an older one
-- is dropped, the first of a newer one empties the mirror and writes the global reset.
-- Answers the number of global events it wrote.

local cfg = redis.call('HMGET', KEYS[1], 'top_events', 'order')
if not cfg[1] or cfg[1] == '0' then return 0 end
local ev = events(cfg[1], cfg[2] == 'desc' and -1 or 1, ARGV[3], ARGV[4])
local period = tonumber(ARGV[5])
local held = tonumber(redis.call('HGET', KEYS[3], '#period') or '1')
if period < held then return 0 end
ev.period = period
if period > held then
  for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[3], '#period', period)
  emit_reset(ev, KEYS[2])
end
local seq = tonumber(ARGV[2])
if seq <= tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') then return ev.written end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])

local copy, old, new = KEYS[4], {}, {}
local held = redis.call('ZRANGE', copy, 0, -1, 'WITHSCORES')
for i = 1, #held, 2 do old[held[i]] = tonumber(held[i + 1]) end
for i = 6, #ARGV, 2 do new[ARGV[i]] = tonumber(ARGV[i + 1]) end

local changed = {}
for i = 1, #held, 2 do
  local pid = held[i]
  if new[pid] == nil then
    local elsewhere = false  -- a player on its way between regions may be in two copies
    for j = 5, #KEYS do
      local s = redis.call('ZSCORE', KEYS[j], pid)
      if s then elsewhere = tonumber(s); break end
    end
    changed[#changed + 1] = {pid, elsewhere}
    redis.call('ZREM', copy, pid)
  end
end
for i = 6, #ARGV, 2 do
  local pid, score = ARGV[i], tonumber(ARGV[i + 1])
  if old[pid] ~= score then
    changed[#changed + 1] = {pid, score}
    redis.call('ZADD', copy, ARGV[i + 1], pid)
  end
end
if #changed > 0 then follow(ev, KEYS[2], changed) end
return ev.written
