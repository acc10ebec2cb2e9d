-- wrk: GET /v1/lookup at seeded random points over the sample street office (inside and
-- around it, so some answers are "outside" with the nearest grid). The 20,000 requests are
-- made once in init and then sent in turn, so the load generator, which shares the two cores
-- with the server, spends its time on sockets rather than on formatting numbers.
local reqs, n, i = {}, 20000, 0
function init(args)
  math.randomseed(20261121)
  for k = 1, n do
    local lon = 114.40 + math.random() * 0.14
    local lat = 22.58 + math.random() * 0.10
    reqs[k] = wrk.format("GET", string.format("/v1/lookup?lon=%.6f&lat=%.6f", lon, lat))
  end
end
request = function()
  i = i % n + 1
  return reqs[i]
end
