-- wrk: POST /v1/positions in batches of 1000 fixes with a dispatcher's key ($WANGGE_KEY).
-- $WANGGE_SHAPE picks what a batch is:
--   gateway (default): 1000 distinct workers of the $WANGGE_WORKERS ids B00000.. (stride 7 from a
--     random start), anywhere in the city box, at one device time (an hour ago plus 2 ms per
--     request of the thread, plus the thread's number): a gateway forwarding current positions;
--   phone: one worker's buffered track, 1000 fixes a second apart ending 3 minutes ago, from a
--     random walk; each request is the next worker round the fleet (a phone back online).
-- Every fix is new (stored, not a duplicate) and within the accepted window.
local nworkers = tonumber(os.getenv("WANGGE_WORKERS") or "10000")
local shape = os.getenv("WANGGE_SHAPE") or "gateway"
local batch = 1000
local counter, t0, headers = 0, 0, nil
local next_tid, nthreads = 0, 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  t0 = (os.time() - 3600) * 1000 + math.random(0, 999)
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("WANGGE_KEY")}
  math.randomseed(1000 + tid)
end
local function gateway()
  local at = t0 + counter * 2 + tid
  local start = math.random(0, nworkers - 1)
  local parts = {}
  for j = 0, batch - 1 do
    local w = (start + j * 7) % nworkers
    parts[j + 1] = string.format('{"worker_id":"B%05d","lon":%.6f,"lat":%.6f,"at":%d}', w,
      114.0 + math.random() * 0.7, 22.0 + math.random() * 0.7, at)
  end
  return parts
end
local function phone()
  local w = (counter * 2 + tid) % nworkers
  local lon, lat = 114.0 + math.random() * 0.7, 22.0 + math.random() * 0.7
  local last = t0 + 3600 * 1000 - 180 * 1000
  local parts = {}
  for j = 0, batch - 1 do
    lon = lon + (math.random() - 0.5) * 0.0002
    lat = lat + (math.random() - 0.5) * 0.0002
    parts[j + 1] = string.format('{"worker_id":"B%05d","lon":%.6f,"lat":%.6f,"at":%d,"accuracy_m":5}', w, lon, lat,
      last - (batch - 1 - j) * 1000)
  end
  return parts
end
request = function()
  counter = counter + 1
  local parts = shape == "phone" and phone() or gateway()
  return wrk.format("POST", "/v1/positions", headers, "[" .. table.concat(parts, ",") .. "]")
end
