#!/usr/bin/env bash
# HTTP figures of wangge-server on this machine (load generator on the same cores):
#   1. lookups: wrk, keep-alive, 64 connections, 20 s, random points over the sample;
#   2. warm tiles: every z12-z15 tile of the sample (all layers, gzip), rendered once, then
#      served from the cache under wrk;
#   3. start-up: time from starting the server on a --scale 100 store (10k grids) to its
#      first lookup answer.
# usage: bench/run_http.sh [BUILD_DIR]   (needs wrk: apt-get install wrk)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
[ -x "$build/server/wangge-server" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
work="$build/bench-data/http"
mkdir -p "$work"
SERVER="$build/server/wangge-server"
W="$build/tools/wangge"
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap stop EXIT
start() { # start STORE [args]: sets $base
  local store=$1; shift
  "$SERVER" --port 0 --store "$store" --access-log off "$@" 2> "$work/server.log" &
  pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/server.log")
    [ -n "$port" ] && break
    sleep 0.05
  done
  base="http://127.0.0.1:$port"
}
echo "== $(nproc) cores; server and wrk share them"
rm -f "$work/sample.sqlite"*
start "$work/sample.sqlite" --geodata "$here/geodata" --threads 2
echo "-- lookups: wrk -t2 -c64 -d20s, random points over the sample"
wrk -t2 -c64 -d20s -s "$here/bench/http/lookup.lua" "$base" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
echo "-- warm tiles: z12-z15 over the sample, all layers, gzip"
read -r w s e n <<< "$(curl -s "$base/tiles/districts,communities,grids,labels.json" | sed 's/.*"bounds":\[\([^]]*\)\].*/\1/' | tr ',' ' ')"
awk -v w="$w" -v s="$s" -v e="$e" -v n="$n" 'function tx(lon, z) { return int((lon + 180) / 360 * 2^z) }
  function ty(lat, z,  r) { r = lat * atan2(0, -1) / 180; return int((1 - log(sin(r)/cos(r) + 1/cos(r)) / atan2(0, -1)) / 2 * 2^z) }
  BEGIN { for (z = 12; z <= 15; z++) for (x = tx(w, z); x <= tx(e, z); x++) for (y = ty(n, z); y <= ty(s, z); y++)
    printf "/tiles/districts,communities,grids,labels/%d/%d/%d.mvt\n", z, x, y }' > "$work/tiles.txt"
t0=$(date +%s.%N)
while read -r p; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$base$p"; done < "$work/tiles.txt"
t1=$(date +%s.%N)
echo "$(wc -l < "$work/tiles.txt") tiles rendered and cached (one curl each) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
WANGGE_TILES="$work/tiles.txt" wrk -t2 -c64 -d20s -s "$here/bench/http/tiles.lua" "$base" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
curl -s "$base/metrics" | grep -E "^wangge_tile_cache"
stop
echo "-- start-up on --scale 100 (10k grids)"
big="$work/scale100.sqlite"
if [ ! -s "$big" ]; then
  "$W" gen --quiet --seed 1 --scale 100 "$work/scale100"
  "$SERVER" --port 0 --store "$big" --geodata "$work/scale100" --access-log off 2> "$work/create.log" &
  pid=$!
  until grep -q listening "$work/create.log"; do sleep 0.5; done
  stop
fi
t0=$(date +%s.%N)
"$SERVER" --port 18123 --store "$big" --access-log off 2> "$work/server.log" &
pid=$!
until curl -sf "http://127.0.0.1:18123/v1/lookup?lon=114.47&lat=22.63" > /dev/null; do sleep 0.01; done
t1=$(date +%s.%N)
echo "first lookup answer $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after start ($(grep -o '[0-9]* grids' "$work/server.log"))"
