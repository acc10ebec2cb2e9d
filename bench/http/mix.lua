-- wrk: the soak mix (bench/run_soak.sh), every request valid, all with a dispatcher's key
-- ($WANGGE_KEY): 50 % lookups, 18 % tiles (z13..z15 over the sample), 10 % OGC feature pages
-- (bbox), 10 % nearest workers, 7 % GPS position batches (20 fixes of the sample's workers,
-- fresh device times), 5 % events filed. Reads are prepared once in init; writes are made per
-- request so their times stay fresh. Every status but 2xx/304 counts as an error (wrk's
-- "Non-2xx or 3xx responses"; response() keeps per-kind counts, printed by done()).
local reads, nreads, i, counter = {}, 0, 0, 0
local workers = {}
local headers, jheaders
local kinds = {}
function setup(thread) thread:set("tid", #kinds); table.insert(kinds, thread) end
function init(args)
  math.randomseed(20261121 + (tid or 0))
  headers = {["Authorization"] = "Bearer " .. os.getenv("WANGGE_KEY")}
  jheaders = {["Authorization"] = headers["Authorization"], ["Content-Type"] = "application/json"}
  for w in string.gmatch(os.getenv("WANGGE_WORKERS") or "", "[^,]+") do table.insert(workers, w) end
  local function pt() return 114.40 + math.random() * 0.14, 22.58 + math.random() * 0.10 end
  for k = 1, 20000 do
    local r = math.random(100)
    local lon, lat = pt()
    local path
    if r <= 58 then
      path = string.format("/v1/lookup?lon=%.6f&lat=%.6f", lon, lat)
    elseif r <= 79 then
      local z = 13 + math.random(0, 2)
      local n = 2 ^ z
      local x = math.floor((lon + 180) / 360 * n)
      local y = math.floor((1 - math.log(math.tan(math.rad(lat)) + 1 / math.cos(math.rad(lat))) / math.pi) / 2 * n)
      path = string.format("/tiles/districts,communities,grids,labels/%d/%d/%d.mvt", z, x, y)
    elseif r <= 91 then
      path = string.format("/collections/grids/items?bbox=%.5f,%.5f,%.5f,%.5f&limit=10", lon, lat, lon + 0.01, lat + 0.01)
    else
      path = string.format("/v1/workers/nearest?lon=%.6f&lat=%.6f&k=3&on_duty=any", lon, lat)
    end
    reads[k] = wrk.format("GET", path, headers)
  end
  nreads = #reads
end
request = function()
  counter = counter + 1
  local r = counter % 100
  if r < 7 and #workers > 0 then
    local at = (os.time() - 60) * 1000 + (counter % 1000) * 7 + (tid or 0)
    local parts = {}
    for j = 1, 20 do
      parts[j] = string.format('{"worker_id":"%s","lon":%.6f,"lat":%.6f,"at":%d}', workers[math.random(#workers)],
        114.40 + math.random() * 0.14, 22.58 + math.random() * 0.10, at + j)
    end
    return wrk.format("POST", "/v1/positions", jheaders, "[" .. table.concat(parts, ",") .. "]")
  elseif r < 12 then
    return wrk.format("POST", "/v1/events", jheaders, string.format(
      '{"lon":%.6f,"lat":%.6f,"category":"0201","description":"soak %d"}', 114.42 + math.random() * 0.10,
      22.59 + math.random() * 0.08, counter))
  end
  i = i % nreads + 1
  return reads[i]
end
