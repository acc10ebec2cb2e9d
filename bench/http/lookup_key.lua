-- wrk: lookup.lua's requests with an API key ($WANGGE_KEY): the same answers, plus the key's
-- verification in the store that every keyed request pays.
local reqs, n, i = {}, 20000, 0
function init(args)
  math.randomseed(20261121)
  local headers = {["X-API-Key"] = os.getenv("WANGGE_KEY")}
  for k = 1, n do
    local lon = 114.40 + math.random() * 0.14
    local lat = 22.58 + math.random() * 0.10
    reqs[k] = wrk.format("GET", string.format("/v1/lookup?lon=%.6f&lat=%.6f", lon, lat), headers)
  end
end
request = function()
  i = i % n + 1
  return reqs[i]
end
