#!/usr/bin/env bash
# wangge-server against a real running instance on loopback (curl):
#   - first start creates the store from geodata/;
#   - lookups over HTTP (GET and POST batches) agree with the library (the CLI) for 3,000
#     random points and put every sample address in the grid the generator placed it in;
#   - crs=gcj02, generation=N, outside answers, worker in the answer;
#   - limits (batch size, body size) and bad input give the right 4xx with a JSON error;
#   - tiles: MVT read back with GDAL's MVT driver holds the grids SpatiaLite finds in the
#     tile; ETag / If-None-Match; gzip; TileJSON 3.0.0; a publish changes tile and ETag;
#   - /health, /metrics, config file.
set -uo pipefail
SERVER=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
fresh_work "$3/http-server"

start_server "$WORK/server.log" --store "$S" --geodata "$SRC/geodata" --max-batch 5000 --max-body 1048576
expect_in "creating $S from $SRC/geodata" "$(cat "$WORK/server.log")"
expect_status 200 GET "$BASE/health"
expect_in '"status":"ok","generation":1,"grids":97' "$body"

# --- single lookups
# --- keys and personal data: the worker's phone only for dispatchers (and admins)
DISP=$("$W" -s "$S" key create --role dispatcher --name test 2> /dev/null)
VIEW=$("$W" -s "$S" key create --role viewer 2> /dev/null)
expect_eq "${#DISP}" "48" "a key is 48 characters"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63" -H "Authorization: Bearer $DISP"
expect_eq "$body" "$("$W" -s "$S" lookup --json 114.47 22.63)" "GET lookup (dispatcher) = CLI lookup"
expect_in '"worker":{"id":"W440307006007007"' "$body"
expect_in '"phone":"1' "$body"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63"
expect_eq "$body" "$("$W" -s "$S" lookup --json 114.47 22.63 | sed 's/,"phone":"[0-9]*"//')" "anonymous lookup = CLI lookup without the phone"
expect_not_in 'phone' "$body"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63" -H "X-API-Key: $VIEW"
expect_not_in 'phone' "$body"
expect_status 200 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' -d '[[114.47,22.63]]'
expect_not_in 'phone' "$body"
expect_status 401 GET "$BASE/v1/lookup?lon=114.47&lat=22.63" -H "Authorization: Bearer $(wrong_key "$DISP")"
expect_in '"error":{"code":"unauthorized"' "$body"
expect_status 401 GET "$BASE/v1/lookup?lon=114.47&lat=22.63" -H "X-API-Key: ' OR 1=1 --"
"$W" -s "$S" key revoke "$(echo "$VIEW" | cut -c4-15)" 2> /dev/null
sleep 1.2 # verified keys are remembered for up to a second per server thread
expect_status 401 GET "$BASE/v1/lookup?lon=114.47&lat=22.63" -H "X-API-Key: $VIEW"
expect_status 200 GET "$BASE/v1/lookup?lon=114.52&lat=22.62"
expect_in '"outside":true,"nearest":{"code":"440307006004003"' "$body"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63&generation=1"
expect_status 404 GET "$BASE/v1/lookup?lon=114.47&lat=22.63&generation=99"
expect_in '"error":{"code":"no_such_generation"' "$body"
# GCJ-02: the point a Chinese web map shows for WGS84 116.404,39.915 is 116.41024449916938,
# 39.91640428150164 (the published control point); here, the sample's own point shifted back
expect_status 200 GET "$BASE/v1/lookup?lon=114.4750&lat=22.6271&crs=gcj02"
expect_in '"input":{"lon":114.475,"lat":22.6271,"crs":"gcj02"}' "$body"
wlon=$(echo "$body" | sed -n 's/^{"lon":\([0-9.]*\),"lat":\([0-9.]*\).*/\1 \2/p')
expect_eq "$(echo "$wlon" | awk '{ d = (114.4750 - $1) * 102800; e = (22.6271 - $2) * 110574;
  print (d*d + e*e > 200*200 && d*d + e*e < 800*800) }')" "1" "GCJ-02 shift is a few hundred metres ($wlon)"
expect_eq "$(echo "$body" | sed 's/,"input".*//; s/"lon":[^,]*,"lat":[^,]*,//')" \
  "$("$W" -s "$S" lookup --json $wlon | sed 's/}$//; s/"lon":[^,]*,"lat":[^,]*,//; s/,"phone":"[0-9]*"//')" "gcj02 lookup = WGS84 lookup of the converted point"

# --- 3,000 random points: GET (300 of them) and POST batches agree with the CLI
awk 'BEGIN { srand(20261122); for (i = 0; i < 3000; i++) printf "%.7f,%.7f\n", 114.40 + 0.14 * rand(), 22.58 + 0.10 * rand() }' > "$WORK/points.csv"
"$W" -s "$S" lookup --batch "$WORK/points.csv" | cut -d, -f5 > "$WORK/cli.txt"
awk -F, 'BEGIN { printf "[" } { printf "%s[%s,%s]", (NR > 1 ? "," : ""), $1, $2 } END { print "]" }' "$WORK/points.csv" > "$WORK/points.json"
expect_status 200 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary "@$WORK/points.json"
echo "$body" | grep -o '"grid":{[^}]*}\|"grid":null' | sed 's/"grid":{"code":"\([0-9]*\)".*/\1/; s/"grid":null/outside/' > "$WORK/http.txt"
expect_eq "$(wc -l < "$WORK/http.txt")" "3000" "batch answers"
expect_eq "$(diff "$WORK/cli.txt" "$WORK/http.txt" | grep -c '^<')" "0" "batch answers that differ from the library"
expect_eq "$(grep -vc outside "$WORK/http.txt")" "$(grep -vc outside "$WORK/cli.txt")" "inside count"
mism=0
n=0
while IFS=, read -r lon lat; do
  n=$((n + 1))
  [ $((n % 10)) = 0 ] || continue
  g=$(curl -s "$BASE/v1/lookup?lon=$lon&lat=$lat" | sed -n 's/.*"grid":{"code":"\([0-9]*\)".*/\1/p')
  [ -n "$g" ] || g=outside
  [ "$g" = "$(sed -n "${n}p" "$WORK/cli.txt")" ] || mism=$((mism + 1))
done < "$WORK/points.csv"
expect_eq "$mism" "0" "GET answers (300) that differ from the library"

# --- every sample address, as GeoJSON points, lands in the generator's grid
awk -F, 'NR > 1 { printf "%s{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[%s,%s]}}", (NR > 2 ? "," : ""), $1, $2 }
  BEGIN { printf "{\"type\":\"FeatureCollection\",\"features\":[" } END { print "]}" }' "$SRC/geodata/addresses.csv" > "$WORK/addresses.geojson"
expect_status 200 POST "$BASE/v1/lookup" -H 'Content-Type: application/geo+json' --data-binary "@$WORK/addresses.geojson"
echo "$body" | grep -o '"grid":{"code":"[0-9]*"' | cut -d'"' -f6 > "$WORK/addr-http.txt"
tail -n +2 "$SRC/geodata/addresses.csv" | awk -F, '{ print $NF }' > "$WORK/addr-gen.txt"
expect_eq "$(wc -l < "$WORK/addr-http.txt")" "2776" "addresses answered inside a grid"
expect_eq "$(diff "$WORK/addr-gen.txt" "$WORK/addr-http.txt" | grep -c '^<')" "0" "addresses in another grid than the generator's"

# --- limits and bad input
awk 'BEGIN { printf "["; for (i = 0; i < 5001; i++) printf "%s[114.47,22.63]", (i ? "," : ""); print "]" }' > "$WORK/big.json"
expect_status 413 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary "@$WORK/big.json"
expect_in '"error":{"code":"batch_too_large"' "$body"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$WORK/huge.json"
expect_status 413 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary "@$WORK/huge.json"
expect_in '"error":{"code":"body_too_large"' "$body"
# a body declared over the cap is refused at once, before it is sent (curl would wait for it)
expect_status 413 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' \
  -H 'Content-Length: 1000000000' --data-binary '[' --max-time 5
expect_in '"error":{"code":"body_too_large"' "$body"
# the request head's limit (CONN_MEMORY, 8 KiB): 7,000 bytes of header or URL reach the handlers
# (the URL's unknown parameter is refused by wangge, not libmicrohttpd); 9,000 bytes do not
expect_status 200 GET "$BASE/health" -H "X-Pad: $(head -c 7000 /dev/zero | tr '\0' a)"
expect_status 400 GET "$BASE/v1/lookup?lon=114.47&lat=22.63&pad=$(head -c 7000 /dev/zero | tr '\0' a)"
expect_in '"error":{"code":"unknown_parameter"' "$body"
expect_status 431 GET "$BASE/health" -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)"
expect_status 400 GET "$BASE/v1/lookup?lat=22.63"
expect_in '"error":{"code":"missing_parameter"' "$body"
expect_status 400 GET "$BASE/v1/lookup?lon=abc&lat=22.63"
expect_in '"error":{"code":"bad_coordinates"' "$body"
expect_status 400 GET "$BASE/v1/lookup?lon=114.4x&lat=22.63"
expect_status 400 GET "$BASE/v1/lookup?lon=114.47&lat=91"
expect_status 400 GET "$BASE/v1/lookup?lon=181&lat=22"
expect_status 400 GET "$BASE/v1/lookup?lon=NaN&lat=22.63"
expect_status 400 GET "$BASE/v1/lookup?lon=114.47&lat=1e400"
expect_status 400 GET "$BASE/v1/lookup?lon=114.47&lat=22.63&crs=bd09"
expect_status 400 GET "$BASE/v1/lookup?lon=114.47&lat=22.63&generation=x"
expect_status 400 GET "$BASE/v1/lookup?lon=114.47&lat=22.63&zoom=3"
expect_in '"error":{"code":"unknown_parameter"' "$body"
expect_status 400 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary '[[114.47,22.63],'
expect_in '"error":{"code":"bad_json"' "$body"
expect_status 400 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary '[[114.47,"x"]]'
expect_status 400 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary '[[114.47,95]]'
expect_status 400 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary '{"a":1}'
expect_status 400 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary ''
expect_status 415 POST "$BASE/v1/lookup" -H 'Content-Type: text/plain' --data-binary '[[114.47,22.63]]'
expect_status 200 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' --data-binary '[]'
expect_in '"count":0,"results":[]' "$body"
expect_status 405 PUT "$BASE/v1/lookup"
expect_status 404 GET "$BASE/nothing/here"
expect_in '"error":{"code":"not_found"' "$body"

# --- tiles
expect_status 200 GET "$BASE/tiles/districts,communities,grids,labels.json"
expect_in '"tilejson":"3.0.0"' "$body"
expect_in "\"tiles\":[\"$BASE/tiles/districts,communities,grids,labels/{z}/{x}/{y}.mvt\"]" "$body"
expect_in '"id":"grids"' "$body"
expect_status 400 GET "$BASE/tiles/roads/12/3400/1780.mvt"
expect_in '"error":{"code":"bad_layers"' "$body"
expect_status 400 GET "$BASE/tiles/grids/23/0/0.mvt"
expect_status 400 GET "$BASE/tiles/grids/12/4096/0.mvt"
expect_status 400 GET "$BASE/tiles/grids/12/-1/0.mvt"
expect_status 400 GET "$BASE/tiles/grids/12/a/0.mvt"
expect_status 400 GET "$BASE/tiles/grids/12/1/2.png"
# the z12 tile holding 114.47 E 22.63 N
read -r X Y <<< "$(awk 'BEGIN { pi = atan2(0, -1); n = 4096; lat = 22.63 * pi / 180;
  printf "%d %d\n", (114.47 + 180) / 360 * n, (1 - log(sin(lat)/cos(lat) + 1/cos(lat)) / pi) / 2 * n }')"
T="$BASE/tiles/districts,communities,grids/12/$X/$Y.mvt"
curl -s -D "$WORK/h1.txt" -o "$WORK/t1.mvt" "$T"
expect_in "200" "$(head -1 "$WORK/h1.txt")"
expect_in "application/vnd.mapbox-vector-tile" "$(cat "$WORK/h1.txt")"
etag1=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$WORK/h1.txt")
expect_in '"g1-' "$etag1"
expect_status 304 GET "$T" -H "If-None-Match: $etag1"
curl -s -H 'Accept-Encoding: gzip' -D "$WORK/h2.txt" -o "$WORK/t1.mvt.gz" "$T"
expect_in "gzip" "$(grep -i '^content-encoding' "$WORK/h2.txt")"
expect_eq "$(gunzip -c "$WORK/t1.mvt.gz" | cmp - "$WORK/t1.mvt" && echo same)" "same" "gzip body = raw body"
# GDAL's MVT driver reads it back; the grids in it are the grids SpatiaLite finds in the tile
ogrinfo -ro -al -so -oo X=$X -oo Y=$Y -oo Z=12 "$WORK/t1.mvt" > "$WORK/ogr.txt" 2>&1
for l in districts communities grids; do expect_in "Layer name: $l" "$(cat "$WORK/ogr.txt")"; done
got=$(awk '/Layer name: grids/ { g = 1 } g && /Feature Count/ { print $3; exit }' "$WORK/ogr.txt")
read -r W0 S0 E0 N0 <<< "$(awk -v x=$X -v y=$Y 'function lat(t) { return atan2(exp(pi * (1 - 2 * t / 4096)) - exp(-pi * (1 - 2 * t / 4096)), 2) * 180 / pi }
  BEGIN { pi = atan2(0, -1); b = 64 / 4096; printf "%.10f %.10f %.10f %.10f\n", (x - b) / 4096 * 360 - 180, lat(y + 1 + b), (x + 1 + b) / 4096 * 360 - 180, lat(y - b) }')"
want=$(SQ "$S" "SELECT count(*) FROM units WHERE level = 3 AND Intersects(geom, BuildMbr($W0, $S0, $E0, $N0, 4326))")
echo "tile 12/$X/$Y: $got grids decoded by ogrinfo, $want intersect the buffered tile (SpatiaLite)"
expect_eq "$got" "$want" "grids in the tile"
# a publish makes the old tile unreachable: same URL, new content and ETag
sed 's/三溪社区第7网格/三溪社区第七网格/' "$SRC/geodata/grids.geojson" > "$WORK/grids2.geojson"
expect_exit 0 "$W" -s "$S" import --level grid --replace "$WORK/grids2.geojson"
expect_exit 0 "$W" -s "$S" publish
curl -s -D "$WORK/h3.txt" -o "$WORK/t2.mvt" "$T"
etag2=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$WORK/h3.txt")
expect_in '"g2-' "$etag2"
expect_eq "$(cmp -s "$WORK/t1.mvt" "$WORK/t2.mvt" && echo same || echo differ)" "differ" "tile after publish"
expect_status 200 GET "$T" -H "If-None-Match: $etag1"
expect_status 200 GET "$BASE/health"
expect_in '"generation":2' "$body"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63"
expect_in '"name":"三溪社区第七网格"' "$body"

# --- metrics
expect_status 200 GET "$BASE/metrics"
expect_in 'wangge_requests_total{route="lookup",code="2xx"}' "$body"
expect_in 'wangge_requests_total{route="lookup_batch",code="4xx"}' "$body"
expect_in 'wangge_tile_cache_hits_total' "$body"
expect_in 'wangge_active_generation 2' "$body"
stop_server

# --- a config file, and refusals at start
printf '# test\nstore = %s\nthreads = 2\nmax-batch = 3\npublic-reads = off\n' "$S" > "$WORK/server.conf"
start_server "$WORK/server2.log" --config "$WORK/server.conf"
expect_status 413 POST "$BASE/v1/lookup" -H 'Content-Type: application/json' -H "X-API-Key: $DISP" --data-binary '[[1,2],[1,2],[1,2],[1,2]]'
# public reads off: lookups, tiles and features need a key, any valid one
expect_status 401 GET "$BASE/v1/lookup?lon=114.47&lat=22.63"
expect_in '"error":{"code":"unauthorized"' "$body"
expect_status 401 GET "$BASE/tiles/grids/14/13400/7141.mvt"
expect_status 401 GET "$BASE/collections/grids/items?limit=1"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63" -H "X-API-Key: $DISP"
expect_status 200 GET "$BASE/collections/grids/items?limit=1" -H "X-API-Key: $DISP"
stop_server
expect_exit 1 "$SERVER" --public-reads maybe
expect_in "--public-reads takes on or off" "$err"
printf 'bogus = 1\n' > "$WORK/bad.conf"
expect_exit 1 "$SERVER" --config "$WORK/bad.conf"
expect_in "unknown key 'bogus'" "$err"
expect_exit 1 "$SERVER" --port 70000
expect_exit 2 "$SERVER" --port 0 --store "$WORK/none.sqlite" --geodata "$WORK/no-such-dir"
expect_eq "$(ls "$WORK"/none.sqlite* 2>/dev/null | wc -l)" "0" "no half-made store left"
finish
