-- Helpers shared by every script: scripts.py puts this file in front of each one.
-- A region's keys all start with one base, "<prefix>{<board>:<region>}:", so that on
-- Redis Cluster they share a slot; a script derives bucket keys from its zset key.

local function fmt(n)
  return string.format('%d', n)
end

-- Bucket of a player id: 32-bit FNV-1a, the multiply split so doubles stay exact.
local function bucket_of(id, buckets)
  local h = 2166136261
  for i = 1, #id do
    h = bit.bxor(h, string.byte(id, i))
    if h < 0 then h = h + 4294967296 end
    h = (h * 403 + (h % 256) * 16777216) % 4294967296
  end
  return h % buckets
end

local function base_of(zkey)
  return string.sub(zkey, 1, -2)
end

-- Byte-wise a < b (Lua's own < follows the server's locale).
local function bytes_lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The board's meta hash (one per region, same content): fails the call before any
-- write when the board is gone or the caller's view of it is out of date.
local function check_meta(meta_key, version)
  local m = redis.call('HMGET', meta_key, 'version', 'mode', 'buckets')
  if not m[1] then
    return redis.error_reply('NOBOARD board is gone')
  end
  if m[1] ~= version then
    return redis.error_reply('STALE board configuration changed')
  end
  return {m[2], tonumber(m[3])}
end

local function name_of(base, named, b, pid)
  if not named then return false end
  return redis.call('HGET', base .. 'n:' .. b, pid)
end

-- Entries of zset positions [start, stop], flat: id, score, name, ...
local function slice(zkey, start, stop, buckets)
  local out = {}
  if stop < start then return out end
  local base = base_of(zkey)
  local named = redis.call('EXISTS', base .. 'named') == 1
  local items = redis.call('ZRANGE', zkey, start, stop, 'WITHSCORES')
  for i = 1, #items, 2 do
    local pid = items[i]
    out[#out + 1] = pid
    out[#out + 1] = items[i + 1]
    out[#out + 1] = name_of(base, named, bucket_of(pid, buckets), pid)
  end
  return out
end

local function count_better(zkey, score)
  return redis.call('ZCOUNT', zkey, '-inf', '(' .. score)
end
