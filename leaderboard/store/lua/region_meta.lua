-- Writes (or removes) one region's copy of the board's configuration, after put_board.lua.
-- KEYS[1] the region's meta hash, KEYS[2] its zset
-- ARGV[1] version, ARGV[2] mode, ARGV[3] buckets, ARGV[4] top, ARGV[5] sign, ARGV[6] "1"
-- when the region stays on the board, "0" when it was removed, ARGV[7..9] the newest
-- period anchor (period, start in unix ms, schedule), ARGV[10] now (unix ms), ARGV[11]
-- event stream cap, ARGV[12] the bucket hash.
-- A version older than the one the meta holds is ignored (two changes racing). A region
-- whose period the new anchor ends (a manual reset) enters the new one at once.
-- Answers 1 when it wrote, with the snapshot of a period entered ({} if none).
local held = redis.call('HGET', KEYS[1], 'version')
if held and tonumber(held) > tonumber(ARGV[1]) then return {0, {}} end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'mode', ARGV[2], 'buckets', ARGV[3],
    'top', ARGV[4], 'sign', ARGV[5], 'p0', ARGV[7], 't0', ARGV[8], 'every', ARGV[9],
    'hash', ARGV[12])
  local meta = check_meta(KEYS[1], ARGV[1])
  local ev = events(meta.top, meta.sign, ARGV[11], ARGV[10])
  ev.period = period_at(meta, tonumber(ARGV[10]))
  if enter_period(KEYS[1], meta, ev.period, ev) then
    return {1, top_snapshot(ev, KEYS[1], period_base(KEYS[1], ev.period) .. 'z', true)}
  end
else
  local base = base_of(KEYS[2])
  redis.call('DEL', KEYS[1], base .. 'named', base .. 'described', base .. 'ev',
    base .. 'out', base .. 'in', base .. 'hold', base .. 'periods')
end
return {1, {}}
