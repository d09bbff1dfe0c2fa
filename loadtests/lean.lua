-- wrk script of loadtests/lean.py: score posts with fresh random scores in every request,
-- players player-<n> in region n mod R, as the bench's preload wrote them.
-- Environment: LEAN_BOARD, LEAN_REGIONS (comma-separated), LEAN_PLAYERS, LEAN_BATCH (updates
-- per batch post; 0: single-score posts).
local board = os.getenv('LEAN_BOARD')
local players = tonumber(os.getenv('LEAN_PLAYERS'))
local batch = tonumber(os.getenv('LEAN_BATCH'))
local regions = {}
for r in string.gmatch(os.getenv('LEAN_REGIONS'), '[^,]+') do regions[#regions + 1] = r end
local headers = {['Content-Type'] = 'application/json'}
local path = '/v1/boards/' .. board .. (batch > 0 and '/scores/batch' or '/scores')

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match('0x(%x+)') or '0', 16) % 100000)
end

local function update()
  local n = math.random(0, players - 1)
  return string.format('{"player_id":"player-%d","region":"%s","score":%d}', n,
    regions[n % #regions + 1], math.random(0, 999999999))
end

function request()
  if batch == 0 then return wrk.format('POST', path, headers, update()) end
  local items = {}
  for i = 1, batch do items[i] = update() end
  return wrk.format('POST', path, headers, '{"updates":[' .. table.concat(items, ',') .. ']}')
end

function done(summary, latency, requests)
  io.write(string.format('LEAN {"requests": %d, "us": %d, "non2xx": %d, "errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d}\n', summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50),
    latency:percentile(99), latency.max))
end
