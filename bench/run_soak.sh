#!/usr/bin/env bash
# Load and soak (issue 7): wangge-server on the sample driven by wrk for $SOAK_SECONDS (60) at
# $SOAK_CONNECTIONS (256) connections over the mix of bench/http/mix.lua (lookups, tiles, OGC
# features, nearest workers, GPS position batches, event filing: all valid requests, with a
# dispatcher's key). Prints wrk's figures, the non-2xx count (must be 0), whether the server
# is still alive, and its resident memory each second; the growth from the 10th to the last
# second must stay under 10 %. Exit 1 when any of these fails.
# usage: bench/run_soak.sh [BUILD_DIR]   (default build-rel; made with scripts/setup.sh if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
build=${1:-$here/build-rel}
secs=${SOAK_SECONDS:-60}
conns=${SOAK_CONNECTIONS:-256}
[ -x "$build/server/wangge-server" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
command -v wrk > /dev/null || apt-get install -y -qq wrk > /dev/null
work="$build/bench-data/soak"
rm -rf "$work"
mkdir -p "$work"
store="$work/sample.sqlite"
W="$build/tools/wangge"
bench_server "$work/server.log" "$build/server/wangge-server" --store "$store" --geodata "$here/geodata" \
  --access-log off --per-ip $((conns + 64)) --max-connections $((conns + 256)) --threads "${SOAK_THREADS:-8}"
trap 'kill $pid 2> /dev/null; wait $pid 2> /dev/null' EXIT
key=$("$W" -s "$store" key create --role dispatcher 2> /dev/null)
workers=$(sqlite3 "$store" "SELECT group_concat(id) FROM workers WHERE active = 1")
echo "== $(nproc) cores; wangge-server (pid $pid) on the sample, wrk -t2 -c$conns -d${secs}s, the load generator on the same cores"
( for s in $(seq 1 $((secs + 2))); do
    printf '%d %s\n' "$s" "$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status 2> /dev/null || echo 0)"
    { [ "$s" = 10 ] || [ "$s" = "$secs" ]; } &&
      curl -s -m 5 "$base/metrics" | awk -v s="$s" '/^wangge_memory_bytes/ {
        sub(/.*what="/, ""); sub(/"} /, " "); printf "%s:%s=%.1fMB ", s, $1, $2 / 1048576 }' > "$work/mem-$s.txt"
    sleep 1
  done ) > "$work/rss.txt" &
sampler=$!
events0=$(sqlite3 "$store" "SELECT count(*) FROM events")
WANGGE_KEY=$key WANGGE_WORKERS=$workers wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency \
  -s "$here/bench/http/mix.lua" "$base" > "$work/wrk.txt"
wait $sampler
cat "$work/wrk.txt" | grep -E "Requests/sec|Latency|requests in|Non-2xx|Socket errors|50%|99%"
non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$work/wrk.txt")
sockerr=$(grep -c "Socket errors" "$work/wrk.txt" || true)
alive=no
kill -0 $pid 2> /dev/null && curl -sf "$base/health" > /dev/null && alive=yes
events=$(( $(sqlite3 "$store" "SELECT count(*) FROM events") - events0 ))
fixes=$(sqlite3 "$store" "SELECT (SELECT count(*) FROM worker_positions) + (SELECT count(*) FROM position_inbox)")
r10=$(awk '$1 == 10 { print $2 }' "$work/rss.txt")
rend=$(tail -1 "$work/rss.txt" | awk '{ print $2 }')
echo "resident memory (KiB) by second: $(awk '$1 % 10 == 0 || $1 == 1 { printf "%s:%s ", $1, $2 }' "$work/rss.txt")"
growth=$(awk -v a="$r10" -v b="$rend" 'BEGIN { printf "%.1f", 100 * (b - a) / a }')
echo "memory by holder (second 10, then the end): $(cat "$work/mem-10.txt" "$work/mem-$secs.txt" 2> /dev/null)"
echo "events filed: $events; fixes stored: $fixes; server alive after the run: $alive"
echo "non-2xx answers: ${non2xx:-0}; socket errors reported: $sockerr; memory growth from second 10 to the end: $growth % (limit 10 %)"
ok=1
[ "${non2xx:-0}" = 0 ] || ok=0
[ "$alive" = yes ] || ok=0
awk -v g="$growth" 'BEGIN { exit !(g < 10) }' || ok=0
grep -q "Sanitizer\|runtime error" "$work/server.log" && ok=0
[ $ok = 1 ] && echo "soak: PASS" || { echo "soak: FAIL"; exit 1; }
