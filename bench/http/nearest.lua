-- wrk: GET /v1/workers/nearest (k=1, on duty: the default) at seeded random points over the
-- benchmark's city box (lon 114.0-114.7, lat 22.0-22.7), with the API key of $WANGGE_KEY. The
-- 20,000 requests are made once in init and sent in turn (see lookup.lua for why).
local reqs, n, i = {}, 20000, 0
function init(args)
  math.randomseed(20261123)
  local headers = {["X-API-Key"] = os.getenv("WANGGE_KEY")}
  for k = 1, n do
    local lon = 114.0 + math.random() * 0.7
    local lat = 22.0 + math.random() * 0.7
    reqs[k] = wrk.format("GET", string.format("/v1/workers/nearest?lon=%.6f&lat=%.6f", lon, lat), headers)
  end
end
request = function()
  i = i % n + 1
  return reqs[i]
end
