-- wrk: GET tiles from a list (one path per line in the file named by WANGGE_TILES), in turn
local paths = {}
for line in io.lines(os.getenv("WANGGE_TILES")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
