-- Helpers shared by every script: scripts.py puts this file in front of each one.
-- A region's keys all start with one base, "<prefix>{<board>:<region>}:", so that on
-- Redis Cluster they share a slot; a script derives bucket keys from its zset key. Every
-- script call touches one slot only on Redis Cluster: one region's keys, or one board's
-- (lb:{B}:...); on one Redis, player.lua takes every region of a board at once.

local function fmt(n)
  return string.format('%d', n)
end

-- Bucket of a player id under the board's hash (meta.hash, see store/buckets.py, which
-- computes the same numbers): 'radix' reads the id as a base-256 number modulo a prime
-- and multiplies it on; boards from before it keep 32-bit FNV-1a (the multiply split so
-- doubles stay exact).
local function bucket_of(id, meta)
  if meta.hash == 'radix' then
    local h = 0
    for i = 1, #id do h = (h * 256 + string.byte(id, i)) % 67108859 end
    return h * 48271 % 67108859 % meta.buckets
  end
  local h = 2166136261
  for i = 1, #id do
    h = bit.bxor(h, string.byte(id, i))
    if h < 0 then h = h + 4294967296 end
    h = (h * 403 + (h % 256) * 16777216) % 4294967296
  end
  return h % meta.buckets
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
-- write when the board is gone or the caller's view of it is out of date. p0, t0, every:
-- the period anchor (see period_at); cur: the newest period the region entered.
local function check_meta(meta_key, version)
  local m = redis.call('HMGET', meta_key, 'version', 'mode', 'buckets', 'top', 'sign', 'mv',
    'p0', 't0', 'every', 'cur', 'hash')
  if not m[1] then
    return redis.error_reply('NOBOARD board is gone')
  end
  if m[1] ~= version then
    return redis.error_reply('STALE board configuration changed')
  end
  return {mode = m[2], buckets = tonumber(m[3]), top = tonumber(m[4]), sign = tonumber(m[5]),
    mv = tonumber(m[6] or '0'), p0 = tonumber(m[7] or '1'), t0 = tonumber(m[8] or '0'),
    every = m[9] or 'never', cur = tonumber(m[10] or '1'), hash = m[11] or 'fnv1a'}
end

-- Periods: the same numbers as leaderboard/periods.py. Boundaries passed between the
-- epoch and t (unix ms, UTC) under a schedule; weeks start on Mondays.
local function boundary_index(t, every)
  if every == 'hourly' then return math.floor(t / 3600000) end
  local day = math.floor(t / 86400000)
  if every == 'daily' then return day end
  if every == 'weekly' then return math.floor((day + 3) / 7) end
  if every ~= 'monthly' then return 0 end
  local z = day + 719468  -- days to a civil date (proleptic Gregorian)
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return year * 12 + month - 1
end

-- The region's period at now (unix ms; Redis's own clock when it is later, so that a
-- writer whose clock lags cannot write into an ended period): the anchor's, plus the
-- boundaries passed since, never before the newest one the region entered.
local function period_at(meta, now)
  local t = redis.call('TIME')
  now = math.max(now, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  local p = meta.p0
  if now > meta.t0 then
    p = p + boundary_index(now, meta.every) - boundary_index(meta.t0, meta.every)
  end
  return math.max(p, meta.cur)
end

-- Keys of a period start with the region's base, then "p<N>:" from period 2 on.
local function period_base(meta_key, p)
  local base = string.sub(meta_key, 1, -2)
  if p == 1 then return base end
  return base .. 'p' .. p .. ':'
end

-- Counts every change to a region's move records or to a moving player's presence in it
-- (field mv of its meta). A global read reads each region twice and retries when a count
-- changed in between: what it used is then the regions' state at one instant, at which
-- the move steps count every player once.
local function moved(meta_key)
  redis.call('HINCRBY', meta_key, 'mv', 1)
end

-- What is shown of a player (its name bucket's value, see store/shown.py): the name, or
-- NUL metadata NUL name once it has metadata; a name starting with NUL is NUL NUL name.
-- Any other value is a name kept from before metadata existed.
local function shown_parts(v)
  if string.byte(v, 1) ~= 0 then return v, '' end
  if string.byte(v, 2) == 0 then return string.sub(v, 3), '' end
  local cut = string.find(v, '\0', 2, true)
  if string.byte(v, 2) ~= 123 or not cut then return v, '' end
  return string.sub(v, cut + 1), string.sub(v, 2, cut - 1)
end

local function shown_of(name, meta)
  if meta ~= '' then return '\0' .. meta .. '\0' .. name end
  if string.byte(name, 1) == 0 then return '\0\0' .. name end
  return name
end

-- An update's parts over the stored ones ("" in the update keeps the stored part).
local function shown_after(update, stored)
  if update == '' or stored == '' then return update .. stored end
  local name, meta = shown_parts(update)
  local old_name, old_meta = shown_parts(stored)
  if name == '' then name = old_name end
  if meta == '' then meta = old_meta end
  return shown_of(name, meta)
end

local function has_metadata(v)
  return string.byte(v, 1) == 0 and string.byte(v, 2) == 123
end

local function name_of(base, named, meta, pid)
  if not named then return false end
  return redis.call('HGET', base .. 'n:' .. bucket_of(pid, meta), pid)
end

-- Entries of zset positions [start, stop], flat: id, score, name, ... (names false when
-- not wanted: a merged page asks those of its own entries only, see names.lua).
local function slice(zkey, start, stop, meta, nameless)
  local out = {}
  if stop < start then return out end
  local base = base_of(zkey)
  local named = not nameless and redis.call('EXISTS', base .. 'named') == 1
  local items = redis.call('ZRANGE', zkey, start, stop, 'WITHSCORES')
  for i = 1, #items, 2 do
    local pid = items[i]
    out[#out + 1] = pid
    out[#out + 1] = items[i + 1]
    out[#out + 1] = name_of(base, named, meta, pid)
  end
  return out
end

local function count_better(zkey, score)
  return redis.call('ZCOUNT', zkey, '-inf', '(' .. score)
end

-- Top-N events. A scope is a zset: a region's (lb:{B:R}:z) or the board's global mirror
-- (lb:{B}:z), which holds exactly the players inside their region's top N, so that its
-- first N entries are the global top N. Each scope's events go to its stream, base..'ev'.
-- Region scripts write their region's events and answer a snapshot of its top N; sync.lua
-- then carries it into the mirror, in the board's slot.
-- Each script makes its events context with events() and hands it to the functions below:
-- n (top_events, 0: none), sign, cap (stream length), now (ms), and the entry at place N
-- of each scope, cached for the call (edges).
local function events(n, sign, cap, now)
  return {n = tonumber(n), sign = tonumber(sign), cap = cap, now = now, edges = {}, written = 0,
    period = 1}
end

local function scope_names(zkey)
  local inner = string.match(zkey, '{(.*)}')
  local board, region = string.match(inner, '^(.*):([^:#]*)#?%d*$')
  if board then return board, region end
  return inner, 'global'
end

-- A scope's stream: one for all its periods, so not under a period's base.
local function stream_of(key)
  return string.match(key, '^(.-}:)') .. 'ev'
end

local function emit(ev, zkey, kind, pid, rank, previous, score)
  local board, scope = scope_names(zkey)
  redis.call('XADD', stream_of(zkey), 'MAXLEN', '~', ev.cap, '*',
    'type', kind, 'board', board, 'scope', scope, 'player_id', pid,
    'rank', rank or '', 'previous_rank', previous or '', 'score', fmt(ev.sign * score),
    'ts', ev.now, 'period', ev.period)
  ev.written = ev.written + 1
end

local function emit_reset(ev, key)
  local board, scope = scope_names(key)
  redis.call('XADD', stream_of(key), 'MAXLEN', '~', ev.cap, '*',
    'type', 'reset', 'board', board, 'scope', scope, 'period', ev.period, 'ts', ev.now)
  ev.written = ev.written + 1
end

-- Makes period p the region's current one when it is newer than the one it entered: that
-- one joins the region's archives (base..'periods') when it holds players, and the
-- region's stream gets a reset event. Answers whether it did.
local function enter_period(meta_key, meta, p, ev)
  if p <= meta.cur then return false end
  local old = period_base(meta_key, meta.cur)
  if redis.call('ZCARD', old .. 'z') > 0 or redis.call('HLEN', old .. 'out') > 0 then
    redis.call('ZADD', string.sub(meta_key, 1, -2) .. 'periods', meta.cur, meta.cur)
  end
  redis.call('HSET', meta_key, 'cur', p)
  meta.cur = p
  if ev.n > 0 then emit_reset(ev, meta_key) end
  return true
end

local function rank_of(zkey, score)
  return 1 + count_better(zkey, fmt(score))
end

-- The entry at place N, cached for the call until the top N of that scope changes.
local function edge_of(ev, zkey)
  local e = ev.edges[zkey]
  if e == nil then
    local r = redis.call('ZRANGE', zkey, ev.n - 1, ev.n - 1, 'WITHSCORES')
    e = (#r > 0) and {r[1], tonumber(r[2])} or false
    ev.edges[zkey] = e
  end
  return e
end

local function behind(score, pid, edge)
  if score ~= edge[2] then return score > edge[2] end
  return bytes_lt(edge[1], pid)
end

local function put(zkey, pid, new)
  if new then redis.call('ZADD', zkey, fmt(new), pid) else redis.call('ZREM', zkey, pid) end
end

-- Scores bound for one zset, sent as one ZADD: each command a script calls has a cost of
-- its own besides its work. A ZADD applies its pairs in order.
local function later_for(zkey)
  return {key = zkey, args = {}}
end

local function flush(later)
  if later and #later.args > 0 then
    redis.call('ZADD', later.key, unpack(later.args))
    later.args = {}
  end
end

local function put_later(later, zkey, pid, new)
  if not (later and new) then return put(zkey, pid, new) end
  local args = later.args
  args[#args + 1] = fmt(new)
  args[#args + 1] = pid
  if #args >= 2000 then flush(later) end  -- Lua's stack bounds unpack
end

-- Sets a player's score in a scope (new == nil removes it; old is its score there or nil)
-- and writes the events this causes. Far below the top N this costs one comparison with
-- the entry at place N. Answers the players whose top-N membership or score changed, as
-- a list of {pid, score or false}. With later (later_for), a score that leaves the top N
-- as it is waits there for the caller's flush; what reads the zset here flushes it first.
local function set_score(ev, zkey, pid, new, old, later)
  if ev.n == 0 then put_later(later, zkey, pid, new); return {} end
  local edge = edge_of(ev, zkey)
  if edge and (not old or behind(old, pid, edge)) and (not new or behind(new, pid, edge)) then
    put_later(later, zkey, pid, new)
    return {}
  end
  flush(later)
  ev.edges[zkey] = nil
  local before = old and redis.call('ZRANK', zkey, pid)
  local before_rank = old and rank_of(zkey, old)
  local edge_rank = edge and rank_of(zkey, edge[2])
  put(zkey, pid, new)
  local after = new and redis.call('ZRANK', zkey, pid)
  local was_in = before and before < ev.n
  local is_in = after and after < ev.n
  local changed = {}
  if is_in and not was_in then
    if edge then
      emit(ev, zkey, 'left', edge[1], nil, edge_rank, edge[2])
      changed[#changed + 1] = {edge[1], false}
    end
    emit(ev, zkey, 'entered', pid, rank_of(zkey, new), nil, new)
    changed[#changed + 1] = {pid, new}
  elseif was_in and not is_in then
    emit(ev, zkey, 'left', pid, nil, before_rank, old)
    changed[#changed + 1] = {pid, false}
    local pulled = redis.call('ZRANGE', zkey, ev.n - 1, ev.n - 1, 'WITHSCORES')
    if #pulled > 0 then
      local score = tonumber(pulled[2])
      emit(ev, zkey, 'entered', pulled[1], rank_of(zkey, score), nil, score)
      changed[#changed + 1] = {pulled[1], score}
    end
  elseif was_in and new ~= old then
    emit(ev, zkey, 'moved', pid, rank_of(zkey, new), before_rank, new)
    changed[#changed + 1] = {pid, new}
  end
  return changed
end

-- What a region script answers after changing its region's top N: a sequence number
-- (so that sync.lua drops snapshots older than one it applied), the top N itself, the
-- number of events the script wrote (for the metrics) and the period.
local function top_snapshot(ev, meta_key, zkey, touched)
  if not touched or ev.n == 0 then return {} end
  local seq = redis.call('HINCRBY', meta_key, 'seq', 1)
  return {seq, redis.call('ZRANGE', zkey, 0, ev.n - 1, 'WITHSCORES'), ev.written, ev.period}
end

-- A record of a player on its way out of a region (see pull.lua): token, destination,
-- score and name, tab-separated, the name last since it may hold anything.
local function parse_out(record)
  local token, dst, score, name = string.match(record, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$')
  return token, dst, tonumber(score), name
end

-- Carries regional top-N changes into the board's global mirror, then writes the global
-- events as the difference of the global top N before and after them all, so that one
-- write never shows a passing entry. Events come in an order a consumer can apply one by
-- one (leaving players worst first, then the new top N best first), each rank counted in
-- what such a consumer holds at that point.
local function follow(ev, global_key, changed)
  local last, order = {}, {}
  for _, c in ipairs(changed) do
    if last[c[1]] == nil then order[#order + 1] = c[1] end
    last[c[1]] = c[2]
  end
  local edge = ev.n > 0 and edge_of(ev, global_key)
  local touches = ev.n > 0 and not edge
  for _, pid in ipairs(order) do
    local old = redis.call('ZSCORE', global_key, pid)
    old = old and tonumber(old)
    local new = last[pid] or nil
    if edge and not ((not old or behind(old, pid, edge)) and (not new or behind(new, pid, edge)))
    then
      touches = true
    end
  end
  if not touches then
    for _, pid in ipairs(order) do put(global_key, pid, last[pid] or nil) end
    return
  end
  ev.edges[global_key] = nil
  local before = redis.call('ZRANGE', global_key, 0, ev.n - 1, 'WITHSCORES')
  for _, pid in ipairs(order) do put(global_key, pid, last[pid] or nil) end
  local after = redis.call('ZRANGE', global_key, 0, ev.n - 1, 'WITHSCORES')
  local held, kept = {}, {}
  for i = 1, #before, 2 do held[before[i]] = tonumber(before[i + 1]) end
  for i = 1, #after, 2 do kept[after[i]] = true end
  local function rank_in_held(score, pid)
    local r = 1
    for q, s in pairs(held) do
      if q ~= pid and s < score then r = r + 1 end
    end
    return r
  end
  for i = #before - 1, 1, -2 do
    local pid = before[i]
    if not kept[pid] then
      emit(ev, global_key, 'left', pid, nil, rank_in_held(held[pid], pid), held[pid])
      held[pid] = nil
    end
  end
  for i = 1, #after, 2 do
    local pid, score = after[i], tonumber(after[i + 1])
    local old = held[pid]
    if old ~= score then
      local previous = old and rank_in_held(old, pid)
      held[pid] = score
      emit(ev, global_key, old and 'moved' or 'entered', pid, rank_in_held(score, pid), previous,
        score)
    end
  end
end
