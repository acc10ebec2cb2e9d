#!/usr/bin/env bash
# Nearest worker and GPS positions, printed figures (same machine, one run):
#   1. in-process (bench_nearest): 10,000 workers over a city box (lon 114.0-114.7, lat
#      22.0-22.7, about 72 x 78 km); nearest k=1 on duty on one thread, alone and while another
#      thread applies 100,000 position updates a second (target >= 2M queries/s); other query
#      shapes; exactness against a brute-force geod_inverse scan;
#   2. over HTTP: the same 10,000 workers imported into a store with the sample's grids;
#      wangge-server (2 threads) answering GET /v1/workers/nearest to wrk (2 threads, 64
#      keep-alive connections, 15 s; target >= 100k requests/s), against Redis 7 (Debian's
#      redis-server on a private loopback port, no persistence) answering
#      GEOSEARCH w FROMLONLAT lon lat BYRADIUS 5000 m ASC COUNT 1 to redis-benchmark (2 threads,
#      64 connections) at random points of the same box; Redis holds only the on-duty workers
#      (it has no filters). Both servers and both load generators share the same two cores;
#   3. Redis against the ellipsoid: 5,000 random points asked of both; Redis computes on a
#      sphere (haversine, R = 6,372,797.560856 m) from 52-bit geohashes: how often its nearest
#      is another worker than the exact ellipsoidal one, its distance errors, and how often it
#      finds nobody within its radius (wangge has no radius: it always answers);
#   4. positions over HTTP: wrk POSTing batches of 1,000 fixes (8 connections, 15 s; target
#      >= 200,000 positions/s), every fix stored (synchronous=FULL), in two shapes: a phone's
#      buffered track (1,000 fixes of one worker) and a gateway's current positions (1,000
#      different workers, which dirties about 1,000 pages of the track's B-tree per commit).
# Also, as baselines of the HTTP layer: GET /v1/lookup without a key and with one (every keyed
# request verifies its key in the store: wangge/auth.h).
# usage: bench/run_nearest.sh [BUILD_DIR]   (default build-rel; installs wrk and redis-server)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
build=${1:-$here/build-rel}
[ -x "$build/server/wangge-server" ] && [ -x "$build/bench/bench_nearest" ] ||
  "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
command -v wrk > /dev/null || apt-get install -y -qq wrk > /dev/null
command -v redis-server > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server > /dev/null
work="$build/bench-data/nearest"
mkdir -p "$work"
SERVER="$build/server/wangge-server"
W="$build/tools/wangge"
pid=
rpid=
stop() { [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null; pid=; }
stop_redis() { [ -n "$rpid" ] && kill "$rpid" 2> /dev/null && wait "$rpid" 2> /dev/null; rpid=; }
trap 'stop; stop_redis' EXIT
start() { # start STORE [args]: sets $base
  local store=$1; shift
  bench_server "$work/server.log" "$SERVER" --store "$store" --access-log off --threads 2 "$@"
}
echo "== $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')); load generators share them"

echo "== 1. in-process"
"$build/bench/bench_nearest" --workers 10000 --seconds 5 --updates 100000 --check 300

echo "== 2. over HTTP, against Redis GEOSEARCH"
store="$work/city.sqlite"
rm -f "$store" "$store"-wal "$store"-shm
start "$store" --geodata "$here/geodata" # creates the store from the sample
stop
sqlite3 "$store" "SELECT code FROM units WHERE level = 3" > "$work/grids.txt"
# 10,000 workers: 85 % grid workers on the sample's grids, 70 % on duty, uniform over the box
awk -v seed=20261123 'BEGIN { srand(seed) } { g[n++] = $1 } END {
  print "id,name,phone,role,home_grid,lon,lat,on_duty"
  for (i = 0; i < 10000; i++) {
    gw = rand() < 0.85
    printf "B%05d,worker %d,138%08d,%s,%s,%.7f,%.7f,%d\n", i, i, i, gw ? "grid_worker" : "officer",
      gw ? g[int(rand() * n)] : "", 114.0 + 0.7 * rand(), 22.0 + 0.7 * rand(), rand() < 0.7
  } }' "$work/grids.txt" > "$work/workers.csv"
"$W" -s "$store" import --workers "$work/workers.csv" --replace > /dev/null
VIEW=$("$W" -s "$store" key create --role viewer 2> /dev/null)
DISP=$("$W" -s "$store" key create --role dispatcher 2> /dev/null)
start "$store"
echo "wangge-server: $(grep -o 'generation.*' "$work/server.log" | head -1); $(tail -n +2 "$work/workers.csv" | wc -l) workers, $(awk -F, 'NR > 1 && $8 == 1' "$work/workers.csv" | wc -l) on duty"
curl -sf -H "X-API-Key: $VIEW" "$base/v1/workers/nearest?lon=114.35&lat=22.35" > /dev/null
echo "-- baselines: GET /v1/lookup over the sample, without a key and with a viewer's key: wrk -t2 -c64 -d8s"
wrk -t2 -c64 -d8s -s "$here/bench/http/lookup.lua" "$base" | grep -E "Requests/sec"
WANGGE_KEY=$VIEW wrk -t2 -c64 -d8s -s "$here/bench/http/lookup_key.lua" "$base" | grep -E "Requests/sec"
echo "-- wangge GET /v1/workers/nearest (k=1, on duty, a viewer's key): wrk -t2 -c64 -d15s"
WANGGE_KEY=$VIEW wrk -t2 -c64 -d15s -s "$here/bench/http/nearest.lua" "$base" | tee "$work/wrk-nearest.txt" |
  grep -E "Requests/sec|Latency|requests in|Non-2xx"
stop
# Redis on a free private port, no persistence, the on-duty workers in one GEO key
rport=$((20000 + RANDOM % 20000))
while redis-cli -p "$rport" ping > /dev/null 2>&1; do rport=$((rport + 1)); done
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --logfile "$work/redis.log" &
rpid=$!
for _ in $(seq 100); do redis-cli -p "$rport" ping > /dev/null 2>&1 && break; sleep 0.05; done
awk -F, 'NR > 1 && $8 == 1 { printf "GEOADD w %s %s %s\n", $6, $7, $1 }' "$work/workers.csv" | redis-cli -p "$rport" > /dev/null
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$rport: $(redis-cli -p "$rport" zcard w) workers in key w"
echo "-- Redis GEOSEARCH w FROMLONLAT lon lat BYRADIUS 5000 m ASC COUNT 1: redis-benchmark --threads 2 -c 64"
redis-benchmark -p "$rport" --threads 2 -c 64 -n 1500000 -r 700000000000 -q \
  GEOSEARCH w FROMLONLAT 114.__rand_int__ 22.__rand_int__ BYRADIUS 5000 m ASC COUNT 1 | tr '\r' '\n' | grep -v '^$' |
  tail -1 | tee "$work/redis-bench.txt"
# the HTTP target, in the same run as Redis; answers other than 2xx (wrk's Non-2xx) fail it
awk -v redis="$(sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' "$work/redis-bench.txt")" '
  /^Requests\/sec:/ { rps = $2 } /Non-2xx/ { bad = $NF }
  END { printf "HTTP nearest: %.0f req/s (target >= 100,000: %s)%s; Redis GEOSEARCH %.0f req/s: wangge %.2fx\n", rps,
          (rps >= 100000 && !bad ? "PASS" : "FAIL"), (bad ? ", " bad " answers not 2xx" : ""), redis, redis ? rps / redis : 0 }' \
  "$work/wrk-nearest.txt"

echo "== 3. Redis (sphere) against wangge (ellipsoid), 5,000 random points"
awk 'BEGIN { srand(7); for (i = 0; i < 5000; i++) printf "%.7f,%.7f\n", 114.0 + 0.7 * rand(), 22.0 + 0.7 * rand() }' > "$work/points.csv"
awk -F, '{ printf "GEOSEARCH w FROMLONLAT %s %s BYRADIUS 5000 m ASC COUNT 1 WITHDIST\n", $1, $2 }' "$work/points.csv" |
  redis-cli -p "$rport" | awk 'BEGIN { want = 0 } want { print id "," $0; want = 0; next } /^$/ { print ","; next } { id = $0; want = 1 }' > "$work/redis.txt"
"$W" -s "$store" workers nearest --batch "$work/points.csv" | cut -d, -f3,4 > "$work/wangge.txt"
paste -d, "$work/wangge.txt" "$work/redis.txt" | awk -F, '
  { n++ }
  $3 == "" { empty++; next }
  { found++; rel = ($4 - $2) / $2; if (rel < 0) rel = -rel; sum += rel; if (rel > max) max = rel
    ad = $4 - $2; if (ad < 0) ad = -ad; if (ad > maxabs) maxabs = ad }
  $3 != $1 { other++ }
  END {
    printf "wangge answered %d of %d points (no radius); Redis found nobody within 5 km for %d (%.2f %%)\n", n, n, empty, 100 * empty / n
    printf "Redis named another worker than the ellipsoidal nearest for %d of its %d answers (%.2f %%)\n", other, found, 100 * other / found
    printf "Redis distance vs geodesic: mean |error| %.3f %%, max %.3f %% (%.1f m)\n", 100 * sum / found, 100 * max, maxabs }'
stop_redis

echo "== 4. positions over HTTP: batches of 1,000 fixes, wrk -t2 -c8 -d15s"
start "$store"
for shape in phone gateway; do
  before=$(sqlite3 "$store" "SELECT (SELECT count(*) FROM worker_positions) + (SELECT count(*) FROM position_inbox)")
  echo "-- $shape batches"
  WANGGE_KEY=$DISP WANGGE_WORKERS=10000 WANGGE_SHAPE=$shape wrk -t2 -c8 -d15s -s "$here/bench/http/positions.lua" "$base" |
    tee "$work/wrk-positions-$shape.txt" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
  after=$(sqlite3 "$store" "SELECT (SELECT count(*) FROM worker_positions) + (SELECT count(*) FROM position_inbox)")
  rps=$(sed -n 's/^Requests\/sec: *//p' "$work/wrk-positions-$shape.txt")
  awk -v r="$rps" -v s=$((after - before)) -v shape="$shape" 'BEGIN {
    printf "%s: %.0f positions/s (%.1f batches/s x 1000; target >= 200,000: %s); %d fixes stored\n", shape, r * 1000, r,
      (r * 1000 >= 200000 ? "PASS" : "FAIL"), s }'
done
stop
