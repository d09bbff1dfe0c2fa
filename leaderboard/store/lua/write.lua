-- Applies a chunk of score updates to one region, atomically, with its top-N events.
-- KEYS[1] the region's meta hash (version, mode, buckets, top, sign, seq, period anchor)
-- KEYS[2] (idempotent requests only) the request's record of its chunks applied here
-- ARGV[1] expected board version, ARGV[2] now (unix ms), ARGV[3] "1" to answer ranks,
-- ARGV[4] event stream cap, ARGV[5] "1" when a player absent from this region may be
-- added without a lock (the board has no other region), ARGV[6] the batch token (fast
-- path) or the move token (locked path), ARGV[7] the chunk's mark in KEYS[2] ("" when
-- the request is not idempotent), ARGV[8] how long KEYS[2] lives (ms), ARGV[9] the
-- period the locked path pulled its players in ("" on the fast path), ARGV[10]
-- the count C of locked players, then C triples (player id, carried internal score or "",
-- carried name), then quadruples: player id, internal score, what is shown (name and
-- metadata in the form of store/shown.py; "" keeps what is stored), and the player's
-- bucket (store/buckets.py: the caller hashes the id, at C speed where Lua would not).
-- The chunk goes to the region's current period (period_at): its zset, activity, names
-- and move records are the keys under that period's base; the first write of a period
-- enters it (enter_period). The locked path's period must not have ended (else PERIOD).
-- A chunk already marked was applied by an earlier attempt of its request: it answers
-- what it answered then and applies nothing (the mark is written with the chunk, in the
-- same slot, so a failover keeps both or neither).
-- A player absent from this region may live in another one (other slots, out of reach),
-- so it is only added under the caller's lock, with the score it carried from there.
-- Answers {absent, ranks, snapshot, period}: when absent (players neither here nor
-- locked) is not empty nothing was applied; ranks holds {score, updated, better} per
-- update when asked.
-- Once a chunk of a batch finds players absent, the region holds the batch's later chunks
-- back too (absent = {'*'}; the batch's token joins the set base..'hold' for 10 s), so that
-- the locked path applies them in their order.
-- Errors before any write: NOBOARD, STALE, PERIOD <the region's period>, RANGE <index>
-- (an incr leaves the exact range).

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local mode = meta.mode
local period = period_at(meta, tonumber(ARGV[2]))
if ARGV[9] ~= '' then
  if period > tonumber(ARGV[9]) then return redis.error_reply('PERIOD ' .. period) end
  period = tonumber(ARGV[9])  -- a region that lags the move's follows it
end
local base = period_base(KEYS[1], period)
local z, outs, ins, want = base .. 'z', base .. 'out', base .. 'in', ARGV[3] == '1'
local now = fmt(math.floor(tonumber(ARGV[2]) / 1000))  -- formatted once, not per HSET
local free, token = ARGV[5] == '1', ARGV[6]
local LIMIT = 9007199254740991
local ev = events(meta.top, meta.sign, ARGV[4], ARGV[2])
ev.period = period

local mark, once = ARGV[7], KEYS[2]
if mark ~= '' then
  local done = redis.call('HGET', once, mark)
  if done then
    return {{}, want and cjson.decode(done) or {}, top_snapshot(ev, KEYS[1], z, true), period}
  end
end

local hold = period_base(KEYS[1], 1) .. 'hold'
if ARGV[10] == '0' and token ~= '' and redis.call('SISMEMBER', hold, token) == 1 then
  return {{'*'}, {}, {}, period}
end

local locked, first = {}, 11 + 3 * tonumber(ARGV[10])
for i = 11, first - 1, 3 do
  locked[ARGV[i]] = {score = tonumber(ARGV[i + 1]), name = ARGV[i + 2]}
end

-- Score before this chunk (s: the zset's, from one ZMSCORE of the chunk's players), and
-- what the player brings along when it arrives here: the score carried from another
-- region, or one left by a move out of here that never finished (only trusted under the
-- lock, which no mover then holds).
local function stored(pid, s)
  if s then return tonumber(s), nil end
  local lock = locked[pid]
  if not lock then return nil, nil end
  if lock.score then return lock.score, lock end
  local left = redis.call('HGET', outs, pid)
  if left then
    local _, _, score, name = parse_out(left)
    return score, {score = score, name = name, stale = true}
  end
  return nil, nil
end

local function combine(old, val)
  if old == nil or mode == 'set' then return val end
  if mode == 'best' then return math.min(old, val) end
  return old + val
end

-- found/brought: each player's score and carried state before the chunk, looked up
-- once; the loop below keeps found up to date as it writes (false stands for none).
-- A player absent from here has a score elsewhere, so its range is checked once it came.
local found, brought, seen, absent, away = {}, {}, {}, {}, {}
local ids, at = {}, {}
for i = first, #ARGV, 4 do
  if not at[ARGV[i]] then
    ids[#ids + 1] = ARGV[i]
    at[ARGV[i]] = #ids
  end
end
local scores = #ids > 0 and redis.call('ZMSCORE', z, unpack(ids)) or {}
for i = first, #ARGV, 4 do
  local pid = ARGV[i]
  if found[pid] == nil then
    local old, carried = stored(pid, scores[at[pid]])
    if old == nil and not free and not locked[pid] then
      absent[#absent + 1] = pid
      away[pid] = true
    end
    found[pid], brought[pid], seen[pid] = old or false, carried or false, old or false
  end
  if mode == 'incr' and not away[pid] then
    local new = combine(seen[pid] or nil, tonumber(ARGV[i + 1]))
    if new > LIMIT or new < -LIMIT then
      return redis.error_reply('RANGE ' .. ((i - first) / 4))
    end
    seen[pid] = new
  end
end
if #absent > 0 then
  redis.call('SADD', hold, token)
  redis.call('PEXPIRE', hold, 10000)
  return {absent, {}, {}, period}
end
local entered = enter_period(KEYS[1], meta, period, ev)

local out, any_name, any_meta, touched = {}, false, false, false
local later = not want and later_for(z) or nil  -- a rank counts the zset after each update
local described = redis.call('EXISTS', base .. 'described') == 1
for i = first, #ARGV, 4 do
  local pid, val, name = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local b = ARGV[i + 3]
  local old, carried = found[pid] or nil, brought[pid] or nil
  brought[pid] = false
  if locked[pid] then
    locked[pid] = nil
    redis.call('HDEL', outs, pid)
  end
  if carried then
    moved(KEYS[1])
    if not carried.stale then redis.call('HSET', ins, pid, token) end
    name = shown_after(name, carried.name)
  elseif name ~= '' and (described or any_meta or string.byte(name, 1) == 0) then
    name = shown_after(name, redis.call('HGET', base .. 'n:' .. b, pid) or '')
  end
  local new = combine(old, val)
  local updated = new ~= old
  if updated or carried then
    local here = (not carried) and old or nil
    if #set_score(ev, z, pid, new, here, later) > 0 then touched = true end
  end
  found[pid] = new
  redis.call('HSET', base .. 'a:' .. b, pid, now)
  if name ~= '' then
    redis.call('HSET', base .. 'n:' .. b, pid, name)
    any_name = true
    any_meta = any_meta or has_metadata(name)
  end
  if want then
    out[#out + 1] = fmt(new)
    out[#out + 1] = updated and 1 or 0
    out[#out + 1] = count_better(z, fmt(new))
  end
end
flush(later)
if any_name then redis.call('SET', base .. 'named', '1') end
if any_meta then redis.call('SET', base .. 'described', '1') end
if mark ~= '' then
  redis.call('HSET', once, mark, want and cjson.encode(out) or '')
  redis.call('PEXPIRE', once, ARGV[8])
end
return {{}, out, top_snapshot(ev, KEYS[1], z, touched or entered), period}
