#!/usr/bin/env bash
# Workers, GPS positions and the nearest worker over HTTP, against a real wangge-server on
# loopback (curl; PROJ's geod for an independent distance):
#   - keys: nearest and worker reads need a viewer/worker/dispatcher key (401 without, 403 for
#     a planner); phones only for dispatchers; writes refused for the wrong roles;
#   - nearest on the sample equals the CLI's answer (same library) and its distance equals
#     PROJ's geod -I; filters (k, on_duty, role, grid, grid=same, community=same,
#     seen_within_min); crs=gcj02 gives the answer for the converted point;
#   - register (201/200, Location), duty (dispatcher, the worker's own key, 403 for another's),
#     deregister (409 on duty afterwards, gone from nearest);
#   - positions: a batch with current, out-of-order, duplicate, future, too old, unknown and
#     malformed items, each with its result; oversized batch -> 413; a worker key posts only
#     its own fixes; the nearest answer follows the fixes; the track by time range;
#   - a change made by another process (the CLI) shows in nearest within the sync interval;
#   - bad parameters -> 400 with a JSON error; metrics per route.
set -uo pipefail
SERVER=$1
SRC=$2
WORK=$3/http-workers
W=$(dirname "$SERVER")/../tools/wangge
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
rm -rf "$WORK"
mkdir -p "$WORK"
S="$WORK/store.sqlite"
json() { curl -s -H 'Content-Type: application/json' "$@"; }

start_server "$WORK/server.log" --store "$S" --geodata "$SRC/geodata" --max-batch 100
DISP=$("$W" -s "$S" key create --role dispatcher --name disp 2> /dev/null)
VIEW=$("$W" -s "$S" key create --role viewer 2> /dev/null)
PLAN=$("$W" -s "$S" key create --role planner 2> /dev/null)
WKEY=$("$W" -s "$S" key create --role worker --worker W440307006001001 2> /dev/null)
expect_eq "${#DISP}${#VIEW}${#PLAN}${#WKEY}" "48484848" "four keys"
AD=(-H "Authorization: Bearer $DISP")
AV=(-H "X-API-Key: $VIEW")
AW=(-H "Authorization: Bearer $WKEY")
P="lon=114.47&lat=22.63"

# --- who may ask
expect_status 401 GET "$BASE/v1/workers/nearest?$P"
expect_in '"error":{"code":"unauthorized"' "$body"
expect_status 403 GET "$BASE/v1/workers/nearest?$P" -H "X-API-Key: $PLAN"
expect_in '"error":{"code":"forbidden"' "$body"
expect_status 401 GET "$BASE/v1/workers/nearest?$P" -H "X-API-Key: $(wrong_key "$VIEW")"
expect_status 200 GET "$BASE/v1/workers/nearest?$P" "${AV[@]}"
expect_not_in 'phone' "$body"
expect_status 200 GET "$BASE/v1/workers/nearest?$P" "${AW[@]}"
expect_not_in 'phone' "$body"

# --- the sample: the dispatcher's answer is the CLI's (the same library, phones included)
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=5" "${AD[@]}"
expect_eq "$body" "$("$W" -s "$S" workers nearest --k 5 --json 114.47 22.63)" "nearest k=5 = CLI"
expect_in '"filters":{"on_duty":true,"seen_within_min":null,"role":null,"grid":null,"community":null},"generation":1,"count":5' "$body"
expect_in '"phone":"1' "$body"
expect_in '"current_grid":{"code":"4403070060' "$body"
# the first distance against PROJ's geod (an independent implementation of the same geodesic)
read -r wlon wlat dist <<< "$(echo "$body" | sed 's/.*"workers":\[{[^}]*"lon":\([0-9.]*\),"lat":\([0-9.]*\),"seen_at":[^,]*,"distance_m":\([0-9.]*\).*/\1 \2 \3/')"
gd=$(echo "22.63 114.47 $wlat $wlon" | geod +ellps=WGS84 -I -f %.4f | awk '{ print $3 }')
expect_eq "$(awk -v a="$dist" -v b="$gd" 'BEGIN { d = a - b; print (d < 0 ? -d : d) < 0.002 }')" "1" "distance $dist m = geod -I $gd m"
# distances ascend
expect_eq "$(echo "$body" | grep -o '"distance_m":[0-9.]*' | cut -d: -f2 | sort -c -g && echo sorted)" "sorted" "distances ascend"
# filters
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=3&role=officer&on_duty=any" "${AV[@]}"
expect_eq "$(echo "$body" | grep -o '"role":"[a-z_]*"' | sort -u)" '"role":"officer"' "only officers"
expect_eq "$body" "$("$W" -s "$S" workers nearest --k 3 --role officer --on-duty=any --json 114.47 22.63 | sed 's/,"phone":[^,]*//g')" "officers = CLI"
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=100&on_duty=false" "${AV[@]}"
expect_not_in '"on_duty":true,"lon"' "$body"
n_off=$(echo "$body" | grep -o '"count":[0-9]*' | cut -d: -f2)
expect_eq "$n_off" "$(sqlite3 "$S" "SELECT count(*) FROM workers_now WHERE on_duty = 0 AND lon IS NOT NULL")" "every off-duty worker"
grid=$(curl -s "$BASE/v1/lookup?$P" | sed 's/.*"grid":{"code":"\([0-9]*\)".*/\1/')
expect_status 200 GET "$BASE/v1/workers/nearest?$P&grid=same&on_duty=any" "${AV[@]}"
expect_in "\"grid\":\"$grid\",\"community\":null},\"generation\":1,\"count\":1" "$body"
expect_in "\"id\":\"W$grid\"" "$body"
expect_status 200 GET "$BASE/v1/workers/nearest?$P&grid=$grid&on_duty=any" "${AV[@]}"
expect_in "\"id\":\"W$grid\"" "$body"
expect_status 200 GET "$BASE/v1/workers/nearest?$P&community=same&k=20&on_duty=any" "${AV[@]}"
expect_eq "$(echo "$body" | grep -o '"community":{"code":"[0-9]*"' | sort -u | wc -l)" "1" "one community"
expect_in "\"community\":{\"code\":\"${grid:0:12}\"" "$body"
expect_status 200 GET "$BASE/v1/workers/nearest?$P&grid=nosuchgrid" "${AV[@]}"
expect_in '"count":0,"workers":[]' "$body"
expect_status 400 GET "$BASE/v1/workers/nearest?lon=114.52&lat=22.62&grid=same" "${AV[@]}"
expect_in '"error":{"code":"outside"' "$body"
# the sample's positions have no time: seen_within_min leaves nobody until fixes arrive
expect_status 200 GET "$BASE/v1/workers/nearest?$P&seen_within_min=10" "${AV[@]}"
expect_in '"count":0' "$body"
# GCJ-02: the answer for the converted point, with the input echoed and GCJ-02 positions added
expect_status 200 GET "$BASE/v1/lookup?lon=114.4750&lat=22.6271&crs=gcj02"
read -r clon clat <<< "$(echo "$body" | sed -n 's/^{"lon":\([0-9.]*\),"lat":\([0-9.]*\).*/\1 \2/p')"
expect_status 200 GET "$BASE/v1/workers/nearest?lon=114.4750&lat=22.6271&crs=gcj02&k=3" "${AV[@]}"
expect_in '"input":{"lon":114.475,"lat":22.6271,"crs":"gcj02"}' "$body"
expect_in '"gcj02":{"lon":' "$body"
g_ids=$(echo "$body" | grep -o '"id":"[^"]*"' | tr '\n' ' ')
g_d=$(echo "$body" | grep -o '"distance_m":[0-9.]*' | cut -d: -f2 | tr '\n' ' ')
expect_status 200 GET "$BASE/v1/workers/nearest?lon=$clon&lat=$clat&k=3" "${AV[@]}"
expect_eq "$(echo "$body" | grep -o '"id":"[^"]*"' | tr '\n' ' ')" "$g_ids" "gcj02 nearest = WGS84 nearest of the converted point"
w_d=$(echo "$body" | grep -o '"distance_m":[0-9.]*' | cut -d: -f2 | tr '\n' ' ')
# the lookup prints the converted point to 1e-7 degrees (about a centimetre)
expect_eq "$(awk -v a="$g_d" -v b="$w_d" 'BEGIN { n = split(a, x, " "); split(b, y, " "); ok = n == 3;
  for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < -0.03 || d > 0.03) ok = 0 } print ok }')" "1" "distances $g_d ~ $w_d"
# bad parameters
for q in "lat=22.6" "lon=x&lat=22.6" "lon=114&lat=91" "$P&k=0" "$P&k=101" "$P&k=x" "$P&on_duty=maybe" \
         "$P&seen_within_min=0" "$P&seen_within_min=x" "$P&role=boss" "$P&crs=bd09" "$P&radius=5"; do
  expect_status 400 GET "$BASE/v1/workers/nearest?$q" "${AV[@]}"
  expect_in '"error":{"code":"' "$body"
done
expect_status 405 POST "$BASE/v1/workers/nearest?$P" "${AD[@]}"

# --- register, read, duty, deregister
R='{"id":"T001","name":"测试员","phone":"13812345678","role":"officer","on_duty":true}'
expect_status 401 POST "$BASE/v1/workers" -H 'Content-Type: application/json' -d "$R"
expect_status 403 POST "$BASE/v1/workers" "${AV[@]}" -H 'Content-Type: application/json' -d "$R"
expect_status 403 POST "$BASE/v1/workers" "${AW[@]}" -H 'Content-Type: application/json' -d "$R"
curl -s -D "$WORK/reg.h" -o "$WORK/reg.json" "${AD[@]}" -H 'Content-Type: application/json' -d "$R" "$BASE/v1/workers"
expect_in "201" "$(head -1 "$WORK/reg.h")"
expect_in "Location: /v1/workers/T001" "$(tr -d '\r' < "$WORK/reg.h")"
expect_eq "$(cat "$WORK/reg.json")" '{"id":"T001","name":"测试员","phone":"13812345678","role":"officer","home_grid":null,"on_duty":true,"active":true,"lon":null,"lat":null,"seen_at":null,"seen_ms":null}' "registered"
expect_status 200 POST "$BASE/v1/workers" "${AD[@]}" -H 'Content-Type: application/json' \
  -d '{"id":"T001","name":"测试员","phone":"13812345678","role":"grid_worker","home_grid":"440307006001001"}'
expect_in '"role":"grid_worker","home_grid":"440307006001001","on_duty":true' "$body"
for b in '{"id":"T002","name":"x","role":"boss"}' '{"id":"T002","name":"x","role":"officer","age":3}' \
         '{"id":"a/b","name":"x","role":"officer"}' '{"id":"nearest","name":"x","role":"officer"}' \
         '{"id":"T002","name":"","role":"officer"}' '{"id":"T002","name":"x","role":"officer","on_duty":"yes"}' \
         '{"id":7,"name":"x","role":"officer"}' '[1]' '{"id":"T002",'; do
  expect_status 400 POST "$BASE/v1/workers" "${AD[@]}" -H 'Content-Type: application/json' -d "$b"
  expect_in '"error":{"code":"' "$body"
done
expect_status 415 POST "$BASE/v1/workers" "${AD[@]}" -H 'Content-Type: text/plain' -d "$R"
expect_status 200 GET "$BASE/v1/workers/T001" "${AV[@]}"
expect_not_in 'phone' "$body"
expect_status 200 GET "$BASE/v1/workers/T001" "${AD[@]}"
expect_in '"phone":"13812345678"' "$body"
expect_status 404 GET "$BASE/v1/workers/nobody" "${AD[@]}"
expect_status 401 GET "$BASE/v1/workers/T001"
expect_status 200 GET "$BASE/v1/workers" "${AD[@]}"
expect_in '"count":111,' "$body"
expect_status 403 GET "$BASE/v1/workers" "${AV[@]}"
# duty: the dispatcher, or the worker's own key
expect_status 200 POST "$BASE/v1/workers/T001/duty" "${AD[@]}" -H 'Content-Type: application/json' -d '{"on_duty":false}'
expect_in '"on_duty":false' "$body"
expect_status 403 POST "$BASE/v1/workers/T001/duty" "${AW[@]}" -H 'Content-Type: application/json' -d '{"on_duty":true}'
# lookups in the worker's grid show the duty as it is now (set over HTTP, or by the CLI)
G1=$(SQ "$S" "SELECT X(p) || '&lat=' || Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM units
  WHERE level = 3 AND code = '440307006001001' AND last_gen IS NULL)")
expect_status 200 GET "$BASE/v1/lookup?lon=$G1"
expect_in '"worker":{"id":"W440307006001001","name":"' "$body"
expect_in '"on_duty":true},"outside":false' "$body"
expect_status 200 POST "$BASE/v1/workers/W440307006001001/duty" "${AW[@]}" -H 'Content-Type: application/json' -d '{"on_duty":false}'
expect_in '"on_duty":false' "$body"
expect_not_in 'phone' "$body"
for i in 1 2 3 4; do # every server thread
  expect_status 200 GET "$BASE/v1/lookup?lon=$G1"
  expect_in '"on_duty":false},"outside":false' "$body"
done
"$W" -s "$S" workers duty W440307006001001 on > /dev/null 2>&1 || fail "CLI duty on"
sleep 1.2 # changes by other processes are picked up within a second
for i in 1 2 3 4; do
  expect_status 200 GET "$BASE/v1/lookup?lon=$G1"
  expect_in '"on_duty":true},"outside":false' "$body"
done
expect_status 200 POST "$BASE/v1/workers/W440307006001001/duty" "${AW[@]}" -H 'Content-Type: application/json' -d '{"on_duty":true}'
expect_status 403 POST "$BASE/v1/workers/T001/duty" "${AV[@]}" -H 'Content-Type: application/json' -d '{"on_duty":true}'
expect_status 404 POST "$BASE/v1/workers/nobody/duty" "${AD[@]}" -H 'Content-Type: application/json' -d '{"on_duty":true}'
expect_status 400 POST "$BASE/v1/workers/T001/duty" "${AD[@]}" -H 'Content-Type: application/json' -d '{"on_duty":1}'
expect_status 400 POST "$BASE/v1/workers/T001/duty" "${AD[@]}" -H 'Content-Type: application/json' -d '{}'
expect_status 200 POST "$BASE/v1/workers/T001/duty" "${AD[@]}" -H 'Content-Type: application/json' -d '{"on_duty":true}'

# --- positions
now=$(date -u +%s%3N)
iso() { date -u -d "@$(( $1 / 1000 ))" +%Y-%m-%dT%H:%M:%SZ; }
t1=$((now - 60000)); t2=$((now - 120000)); t3=$((now + 600000)); t4=$((now - 40 * 86400000))
# T001 right at the query point (so it becomes the nearest there), then the rest of the cases
cat > "$WORK/batch.json" <<EOF
[{"worker_id":"T001","lon":114.47,"lat":22.63,"at":$t1,"accuracy_m":4.5},
 {"worker_id":"T001","lon":114.46,"lat":22.62,"at":"$(iso $t2)"},
 {"worker_id":"T001","lon":114.47,"lat":22.63,"at":$t1},
 {"worker_id":"T001","lon":114.47,"lat":22.63,"at":$t3},
 {"worker_id":"T001","lon":114.47,"lat":22.63,"at":$t4},
 {"worker_id":"nobody","lon":114.47,"lat":22.63,"at":$t1},
 {"worker_id":"T001","lon":"114.47","lat":22.63,"at":$t1},
 {"worker_id":"T001","lon":114.47,"lat":95,"at":$t1},
 {"worker_id":"T001","lon":114.47,"lat":22.63,"at":"yesterday"},
 {"worker_id":"T001","lon":114.47,"lat":22.63,"at":$t1,"speed":3},
 {"worker_id":"T001","lon":114.47,"lat":22.63,"at":$t1,"accuracy_m":-2},
 7,
 {"worker_id":"W440307006001002","lon":114.47001,"lat":22.63001,"at":"$(iso $now)"}]
EOF
expect_status 401 POST "$BASE/v1/positions" -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json"
expect_status 403 POST "$BASE/v1/positions" "${AV[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json"
expect_status 403 POST "$BASE/v1/positions" "${AW[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json"
expect_in 'only its own positions' "$body"
expect_status 200 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json"
expect_in '"count":13,"current":2,"out_of_order":1,"duplicate":1,"rejected":9,' "$body"
got=$(echo "$body" | grep -o '"status":"[a-z_]*"\(,"reason":"[a-z_]*"\)\?' | sed 's/"status"://; s/,"reason":/:/; s/"//g' | tr '\n' ' ')
expect_eq "$got" "current out_of_order duplicate rejected:future rejected:too_old rejected:unknown_worker rejected:bad_item rejected:bad_coordinates rejected:bad_time rejected:bad_item rejected:bad_accuracy rejected:bad_item current " "per-item results"
expect_in '"message":"the fix lies more than 5 minutes in the future' "$body"
expect_eq "$(sqlite3 "$S" "SELECT (SELECT count(*) FROM worker_positions) + (SELECT count(*) FROM position_inbox)")" "3" "fixes stored"
# the same batch again: the stored fixes are duplicates now
expect_status 200 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json"
expect_in '"current":0,"out_of_order":0,"duplicate":4,' "$body"
# the worker's own key, one fix, no worker_id
expect_status 200 POST "$BASE/v1/positions" "${AW[@]}" -H 'Content-Type: application/json' \
  -d "{\"lon\":114.4262,\"lat\":22.6333,\"at\":$now}"
expect_in '"count":1,"current":1' "$body"
# GCJ-02 input
expect_status 200 POST "$BASE/v1/positions?crs=gcj02" "${AD[@]}" -H 'Content-Type: application/json' \
  -d "[{\"worker_id\":\"W440307006001003\",\"lon\":114.4750,\"lat\":22.6271,\"at\":$now}]"
expect_eq "$(sqlite3 "$S" "SELECT abs(lon - $clon) < 1e-6 AND abs(lat - $clat) < 1e-6 FROM workers_now WHERE id = 'W440307006001003'")" \
  "1" "GCJ-02 fix stored as WGS84 ($clon $clat)"
# limits and bad bodies
awk -v t="$now" 'BEGIN { printf "["; for (i = 0; i < 101; i++) printf "%s{\"worker_id\":\"T001\",\"lon\":114.47,\"lat\":22.63,\"at\":%d}", (i ? "," : ""), t - i; print "]" }' > "$WORK/big.json"
expect_status 413 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/big.json"
expect_in '"error":{"code":"batch_too_large"' "$body"
expect_status 400 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' -d '[{"worker_id":'
expect_in '"error":{"code":"bad_json"' "$body"
expect_status 400 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' -d '"x"'
expect_status 400 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' -d ''
expect_status 405 GET "$BASE/v1/positions" "${AD[@]}"
# nearest follows the fixes: T001 is on duty at the query point, seen a minute ago
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=2&seen_within_min=10" "${AD[@]}"
expect_in '"count":2,"workers":[{"id":"T001","name":"测试员","phone":"13812345678","role":"grid_worker","on_duty":true,"lon":114.47,"lat":22.63,' "$body"
expect_in '"distance_m":0.000' "$body"
expect_in '{"id":"W440307006001002"' "$body"
expect_eq "$(echo "$body" | grep -o '"seen_at":"[^"]*"' | head -1)" "\"seen_at\":\"$(date -u -d "@$((t1 / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((t1 % 1000)))Z\"" "seen_at"
# the track
expect_status 403 GET "$BASE/v1/workers/T001/track" "${AV[@]}"
expect_status 200 GET "$BASE/v1/workers/T001/track?from=$((now - 3600000))&to=$((now + 1000))" "${AD[@]}"
expect_in '"worker_id":"T001",' "$body"
expect_in '"count":2,"truncated":false,"points":[{"at":"' "$body"
expect_eq "$(echo "$body" | grep -o '"at_ms":[0-9]*' | cut -d: -f2 | tr '\n' ' ')" "$((t2 / 1000 * 1000)) $t1 " "track order (t2 was sent as RFC 3339, whole seconds)"
expect_in '"accuracy_m":4.5}' "$body"
expect_status 200 GET "$BASE/v1/workers/T001/track?from=$(iso $((now - 3600000)))&limit=1" "${AD[@]}"
expect_in '"count":1,"truncated":true' "$body"
expect_status 400 GET "$BASE/v1/workers/T001/track?from=soon" "${AD[@]}"
expect_status 400 GET "$BASE/v1/workers/T001/track?from=$now&to=$((now - 1))" "${AD[@]}"
expect_status 400 GET "$BASE/v1/workers/T001/track?limit=0" "${AD[@]}"
expect_status 404 GET "$BASE/v1/workers/nobody/track" "${AD[@]}"

# --- deregistration
expect_status 200 DELETE "$BASE/v1/workers/T001" "${AD[@]}"
expect_in '"on_duty":false,"active":false' "$body"
expect_status 403 DELETE "$BASE/v1/workers/T001" "${AV[@]}"
expect_status 404 DELETE "$BASE/v1/workers/nobody" "${AD[@]}"
expect_status 409 POST "$BASE/v1/workers/T001/duty" "${AD[@]}" -H 'Content-Type: application/json' -d '{"on_duty":true}'
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=100&on_duty=any" "${AD[@]}"
expect_not_in '"id":"T001"' "$body"
expect_status 200 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' \
  -d "{\"worker_id\":\"T001\",\"lon\":114.47,\"lat\":22.63,\"at\":$now}"
expect_in '"reason":"deregistered"' "$body"

# --- another process changes the store: the server's index follows within its sync interval
expect_exit 0 "$W" -s "$S" workers duty W440307006001002 off
sleep 1.5
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=3&seen_within_min=10" "${AD[@]}"
expect_not_in '"id":"W440307006001002"' "$body"
expect_exit 0 "$W" -s "$S" workers duty W440307006001002 on
sleep 1.5
expect_status 200 GET "$BASE/v1/workers/nearest?$P&k=3&seen_within_min=10" "${AD[@]}"
expect_in '"id":"W440307006001002"' "$body"

# --- routing leftovers and metrics
expect_status 404 GET "$BASE/v1/workers/T001/elsewhere" "${AD[@]}"
expect_status 405 PUT "$BASE/v1/workers/T001" "${AD[@]}"
expect_status 200 GET "$BASE/metrics"
expect_in 'wangge_requests_total{route="nearest",code="2xx"}' "$body"
expect_in 'wangge_requests_total{route="positions",code="2xx"}' "$body"
expect_in 'wangge_requests_total{route="workers",code="4xx"}' "$body"
stop_server

# --- the same from the command line
expect_exit 0 "$W" -s "$S" workers add --id T002 --name 李雷 --role officer --phone 13900000002 --on-duty
expect_in "worker T002 registered" "$err"
expect_exit 1 "$W" -s "$S" workers add --id T003 --name x --role boss
expect_exit 1 "$W" -s "$S" workers add --id 'a/b' --name x --role officer
expect_exit 0 "$W" -s "$S" workers show T002
expect_in '"id":"T002","name":"李雷","phone":"13900000002","role":"officer","home_grid":null,"on_duty":true,"active":true' "$out"
expect_exit 2 "$W" -s "$S" workers show nobody
now=$(date -u +%s%3N)
printf 'worker_id,lon,lat,at,accuracy_m\nT002,114.47,22.63,%s,3\nT002,114.46,22.62,%s,\nT002,x,22.6,%s,\nT002,114.47,22.63,%s,\nnobody,114.47,22.63,%s,\n' \
  "$now" "$((now - 5000))" "$now" "$((now + 3600000))" "$now" > "$WORK/fixes.csv"
expect_exit 2 "$W" -s "$S" workers fixes "$WORK/fixes.csv"
expect_eq "$out" "current 1, out_of_order 1, duplicate 0, rejected 2, unreadable 1" "CLI fixes"
expect_in "fixes.csv:4: expected worker_id,lon,lat,at" "$err"
expect_in "fixes.csv:5: future" "$err"
expect_in "fixes.csv:6: unknown_worker" "$err"
expect_exit 0 "$W" -s "$S" workers track T002 --from "$((now - 60000))"
expect_eq "$(echo "$out" | cut -d, -f2 | tail -n +2 | tr '\n' ' ')" "$((now - 5000)) $now " "CLI track"
expect_exit 0 "$W" -s "$S" workers nearest --k 1 --role officer 114.4701 22.6301
read -r d <<< "$(echo "$out" | cut -d, -f4)"
gd=$(echo "22.6301 114.4701 22.63 114.47" | geod +ellps=WGS84 -I -f %.4f | awk '{ print $3 }')
expect_eq "$(echo "$out" | cut -d, -f1-3)" "114.4701000,22.6301000,T002" "CLI nearest: the officer at 114.47, 22.63"
expect_eq "$(awk -v a="$d" -v b="$gd" 'BEGIN { d = a - b; print (d < 0 ? -d : d) < 0.001 }')" "1" "CLI distance $d = geod -I $gd"
printf '114.4701,22.6301\n114.47,22.63\n' > "$WORK/pts.csv"
expect_exit 0 "$W" -s "$S" workers nearest --batch "$WORK/pts.csv" --role officer
expect_eq "$(echo "$out" | cut -d, -f3 | tr '\n' ' ')" "T002 T002 " "CLI nearest --batch"
expect_exit 0 "$W" -s "$S" workers duty T002 off
expect_exit 0 "$W" -s "$S" workers nearest --k 1 --role officer --on-duty=false 114.4701 22.6301
expect_in ",T002," "$out"
expect_exit 0 "$W" -s "$S" workers remove T002
expect_exit 2 "$W" -s "$S" workers duty T002 on
expect_exit 0 "$W" -s "$S" workers prune --days 0.5 --now "$((now + 86400000))"
expect_in "pruned " "$out"
expect_eq "$(sqlite3 "$S" "SELECT (SELECT count(*) FROM worker_positions WHERE worker_id = 'T002') + (SELECT count(*) FROM position_inbox WHERE worker_id = 'T002')")" "0" "pruned"
expect_exit 0 "$W" -s "$S" workers list
expect_eq "$(echo "$out" | head -1)" "id,name,phone,role,home_grid,on_duty,active,lon,lat,seen_at" "CLI list header"
expect_eq "$(echo "$out" | grep -c '^T00[12],')" "2" "CLI list"

# --- the position inbox across a crash and a clean stop: every acknowledged fix ends up in the
# track, the newest as the worker's position, and nothing is left waiting
start_server "$WORK/server1.log" --store "$S"
WK=W440307006001004
inbox() { sqlite3 "$S" "SELECT count(*) FROM position_inbox"; }
stored() { sqlite3 "$S" "SELECT count(*) FROM worker_positions WHERE worker_id = '$WK'"; }
before=$(( $(stored) + $(sqlite3 "$S" "SELECT count(*) FROM position_inbox WHERE worker_id = '$WK'") ))
t=$(( $(date -u +%s%3N) - 60000 ))
batch() { # batch FIRST N: N fixes of $WK a second apart from FIRST
  awk -v w=$WK -v t0="$1" -v n="$2" 'BEGIN { printf "["; for (i = 0; i < n; i++)
    printf "%s{\"worker_id\":\"%s\",\"lon\":%.5f,\"lat\":22.63,\"at\":%.0f}", (i ? "," : ""), w, 114.47 + i / 1e5, t0 + 1000 * i
    printf "]" }' > "$WORK/inbox.json"
}
batch "$t" 20
expect_status 200 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/inbox.json"
expect_in '"current":20,' "$body"
batch "$((t + 20000))" 20
expect_status 200 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/inbox.json"
expect_in '"current":20,' "$body"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2> /dev/null; SERVER_PID=
echo "inbox after SIGKILL: $(inbox) fixes waiting"
start_server "$WORK/server2.log" --store "$S"
expect_eq "$(inbox)" "0" "the inbox is merged at start"
expect_eq "$(stored)" "$((before + 40))" "every acknowledged fix in the track after a crash"
expect_eq "$(sqlite3 "$S" "SELECT seen_ms || ' ' || lon FROM workers WHERE id = '$WK'")" "$((t + 39000)) 114.47019" "newest fix is the position"
batch "$((t + 40000))" 5
expect_status 200 POST "$BASE/v1/positions" "${AD[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/inbox.json"
expect_in '"current":5,' "$body"
expect_status 200 GET "$BASE/v1/workers/$WK" "${AD[@]}"
expect_in "\"seen_ms\":$((t + 44000))}" "$body"
stop_server
expect_eq "$(inbox)" "0" "the inbox is merged at a clean stop"
expect_eq "$(stored)" "$((before + 45))" "every acknowledged fix in the track after a stop"
finish
