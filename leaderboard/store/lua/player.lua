-- Where a player stands: its region, score, name and the counts its ranks come from.
-- KEYS[1] the board's first region meta hash, KEYS[2..] the zsets of every region
-- ARGV[1] expected board version, ARGV[2] player id
-- Answers {} when the player is not on the board, else
-- {region index (0-based), score, name, better in region, better overall,
--  total in region, total overall}.

local meta = check_meta(KEYS[1], ARGV[1])
if meta.err then return meta end
local pid = ARGV[2]
local home, score
for j = 2, #KEYS do
  score = redis.call('ZSCORE', KEYS[j], pid)
  if score then home = j; break end
end
if not home then return {} end
local better, total, home_better, home_total = 0, 0, 0, 0
for j = 2, #KEYS do
  local b, t = count_better(KEYS[j], score), redis.call('ZCARD', KEYS[j])
  better, total = better + b, total + t
  if j == home then home_better, home_total = b, t end
end
local base = base_of(KEYS[home])
local named = redis.call('EXISTS', base .. 'named') == 1
local name = name_of(base, named, meta.buckets, pid)
return {home - 2, score, name, home_better, better, home_total, total}
