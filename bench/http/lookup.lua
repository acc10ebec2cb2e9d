-- wrk: GET /v1/lookup at seeded random points over the sample street office
math.randomseed(20261121)
request = function()
  local lon = 114.40 + math.random() * 0.14
  local lat = 22.58 + math.random() * 0.10
  return wrk.format("GET", string.format("/v1/lookup?lon=%.6f&lat=%.6f", lon, lat))
end
