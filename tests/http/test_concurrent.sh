#!/usr/bin/env bash
# The server under concurrent load of every kind at once (curl --parallel), the test the
# ThreadSanitizer build runs (scripts/test.sh, build-tsan) as well as the ASan one:
#   - readers: lookups (half with a key: the per-thread key cache), tiles, nearest workers;
#   - writers: GPS position batches, duty toggles (which change lookup answers in place),
#     events filed and registered;
#   - the planner: draft, publish and rollback, five times, while the readers read (snapshot
#     swaps under load), and a CLI publish from another process;
# then: every request got the status it should (no 5xx, no dropped connection), the server is
# alive, its log holds no sanitizer report, exactly one generation is active, and every event
# that was acknowledged (201) is stored exactly once.
set -uo pipefail
SERVER=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
fresh_work "$3/http-concurrent"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"

# a first start killed while it builds the store leaves no store (or a whole one), and the next
# start builds it
"$SERVER" --port 0 --store "$S" --geodata "$SRC/geodata" --access-log off 2> "$WORK/first.log" &
first=$!
sleep 0.4
kill -9 $first; wait $first 2> /dev/null
[ -e "$S" ] && expect_exit 0 "$W" -s "$S" check --quick # killed after the rename: whole
start_server "$WORK/server.log" --store "$S" --geodata "$SRC/geodata" --threads 4 --max-batch 1000
expect_exit 0 "$W" -s "$S" check --quick
DISP=$("$W" -s "$S" key create --role dispatcher 2> /dev/null)
PLAN=$("$W" -s "$S" key create --role planner 2> /dev/null)
workers=$(sqlite3 "$S" "SELECT id FROM workers WHERE active = 1 ORDER BY id")
nw=$(echo "$workers" | wc -l)
expect_eq "$([ "$nw" -gt 50 ] && echo yes)" "yes" "sample workers ($nw)"

# curl config files: one request each, its status appended to a file per kind
cfg() { # cfg KIND: writes $WORK/KIND.cfg from stdin lines "URL [METHOD BODYFILE]"
  local kind=$1 url m f first=1
  : > "$WORK/$kind.cfg"
  while read -r url m f; do
    {
      [ $first = 1 ] || echo next
      first=0
      echo "url = \"$url\""
      echo "output = /dev/null"
      echo "write-out = \"%{http_code} %{exitcode} %{errormsg}\\n\""
      [ "${KEYED:-}" = 1 ] && echo "header = \"Authorization: Bearer $DISP\""
      if [ -n "${m:-}" ]; then
        echo "request = $m"
        echo "header = \"Content-Type: application/json\""
        [ -n "${f:-}" ] && echo "data-binary = \"@$f\""
      fi
    } >> "$WORK/$kind.cfg"
  done
}
run() { # run KIND PARALLEL: the requests of KIND.cfg, statuses to KIND.codes
  curl -s -Z --parallel-max "$2" --max-time 120 -K "$WORK/$1.cfg" > "$WORK/$1.codes" 2> "$WORK/$1.err"
}

awk 'BEGIN { srand(11); for (i = 0; i < 2000; i++)
  printf "BASE/v1/lookup?lon=%.6f&lat=%.6f\n", 114.40 + 0.14 * rand(), 22.58 + 0.10 * rand() }' |
  sed "s|^BASE|$BASE|" > "$WORK/lookup.urls"
head -1000 "$WORK/lookup.urls" | cfg lookup_anon
tail -1000 "$WORK/lookup.urls" | KEYED=1 cfg lookup_key
for pass in 1 2 3; do
  for x in $(seq 13397 13405); do for y in $(seq 7130 7137); do echo "$BASE/tiles/grids/14/$x/$y.mvt"; done; done
done | cfg tiles
awk 'BEGIN { srand(12); for (i = 0; i < 1500; i++)
  printf "BASE/v1/workers/nearest?lon=%.6f&lat=%.6f&k=%d&on_duty=any\n", 114.40 + 0.14 * rand(), 22.58 + 0.10 * rand(), 1 + int(5 * rand()) }' |
  sed "s|^BASE|$BASE|" | KEYED=1 cfg nearest
# position batches: 100 batches of 100 fixes, each fix of a random worker at a fresh time
now=$(date -u +%s%3N)
mkdir -p "$WORK/pos"
echo "$workers" | awk -v t0=$((now - 600000)) -v dir="$WORK/pos" 'BEGIN { srand(13) } { w[n++] = $1 } END {
  for (b = 0; b < 100; b++) {
    f = dir "/" b ".json"; printf "[" > f
    for (i = 0; i < 100; i++)
      printf "%s{\"worker_id\":\"%s\",\"lon\":%.6f,\"lat\":%.6f,\"at\":%.0f}", (i ? "," : ""), w[int(rand() * n)],
        114.40 + 0.14 * rand(), 22.58 + 0.10 * rand(), t0 + b * 1000 + i > f
    printf "]" > f; close(f) } }'
for b in $(seq 0 99); do echo "$BASE/v1/positions POST $WORK/pos/$b.json"; done | KEYED=1 cfg positions
# duty toggles of grid workers (lookup answers change in place)
echo '{"on_duty":false}' > "$WORK/off.json"
echo '{"on_duty":true}' > "$WORK/on.json"
sqlite3 "$S" "SELECT id FROM workers WHERE role = 'grid_worker' AND active = 1 ORDER BY id LIMIT 100" |
  awk -v base="$BASE" -v dir="$WORK" '{ printf "%s/v1/workers/%s/duty POST %s/off.json\n%s/v1/workers/%s/duty POST %s/on.json\n", base, $1, dir, base, $1, dir }' |
  KEYED=1 cfg duty
# events: 300 filings over the sample
mkdir -p "$WORK/ev"
awk -v dir="$WORK/ev" 'BEGIN { srand(14); for (i = 0; i < 300; i++) {
  f = dir "/" i ".json"
  printf "{\"lon\":%.6f,\"lat\":%.6f,\"category\":\"0201\",\"description\":\"load %d\"}", 114.42 + 0.10 * rand(), 22.59 + 0.08 * rand(), i > f
  close(f) } }'
for i in $(seq 0 299); do echo "$BASE/v1/events POST $WORK/ev/$i.json"; done | KEYED=1 cfg events

gen0=$(sqlite3 "$S" "SELECT id FROM generations WHERE status = 'active'")
t0=$(date +%s.%N)
run lookup_anon 8 & p1=$!
run lookup_key 8 & p2=$!
run tiles 4 & p3=$!
run nearest 8 & p4=$!
run positions 4 & p5=$!
run duty 4 & p6=$!
run events 4 & p7=$!
# the planner: draft, publish, rollback, while all of the above runs
PK=(-H "Authorization: Bearer $PLAN")
plan_codes=
for i in 1 2 3 4 5; do
  for step in "POST /v1/draft" "POST /v1/draft/publish" "POST /v1/generations/rollback"; do
    http ${step% *} "$BASE${step#* }" "${PK[@]}"
    plan_codes="$plan_codes $code"
    case $code in 2??) ;; *) echo "planner $step: $code $body" ;; esac
  done
done
# a publish by another process (the CLI), noticed through the store
"$W" -s "$S" draft new > /dev/null 2>&1 && "$W" -s "$S" publish > /dev/null 2>&1 || fail "CLI publish under load"
# events registered while others are filed
reg_codes=
for id in $(sqlite3 "$S" "SELECT id FROM events WHERE status = 'reported' ORDER BY id DESC LIMIT 40"); do
  http POST "$BASE/v1/events/$id/register" -H "Authorization: Bearer $DISP" -H 'Content-Type: application/json' --data-binary '{}'
  reg_codes="$reg_codes $code"
done
wait $p1 $p2 $p3 $p4 $p5 $p6 $p7
t1=$(date +%s.%N)

want() { # want KIND ALLOWED-REGEX COUNT
  local n bad
  n=$(wc -l < "$WORK/$1.codes")
  bad=$(cut -d' ' -f1 "$WORK/$1.codes" | grep -Evc "^($2)$")
  expect_eq "$n" "$3" "$1: answers"
  expect_eq "$bad" "0" "$1: answers other than $2 ($(sort "$WORK/$1.codes" | uniq -c | sort -rn | head -5 | tr '\n' ' '))"
}
want lookup_anon 200 1000
want lookup_key 200 1000
want tiles '200|204' 216
want nearest 200 1500
want positions 200 100
want duty 200 "$(grep -c '^url' "$WORK/duty.cfg")"
want events 201 300
expect_eq "$(echo $plan_codes)" "$(echo "201 200 200 201 200 200 201 200 200 201 200 200 201 200 200")" "planner: draft, publish, rollback x5"
expect_eq "$(echo "$reg_codes" | tr ' ' '\n' | grep -v '^$' | sort -u | tr '\n' ' ')" "200 " "events registered under load"
echo "$(cat "$WORK"/*.codes | wc -l) requests in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

# the server is alive and consistent
expect_status 200 GET "$BASE/health"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM generations WHERE status = 'active'")" "1" "one active generation"
expect_eq "$(sqlite3 "$S" "SELECT count(*) > 0 FROM generations WHERE status = 'active' AND id <> $gen0")" "1" "the CLI publish is active"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM events WHERE description LIKE 'load %'")" "300" "every acknowledged event stored"
expect_eq "$(sqlite3 "$S" "SELECT count(DISTINCT description) FROM events WHERE description LIKE 'load %'")" "300" "none twice"
http GET "$BASE/v1/lookup?lon=114.47&lat=22.63"
expect_eq "$body" "$("$W" -s "$S" lookup --json 114.47 22.63 | sed 's/,"phone":"[0-9]*"//')" "lookup after the load = CLI"
stop_server
expect_eq "$(grep -c 'ThreadSanitizer\|AddressSanitizer\|runtime error' "$WORK/server.log")" "0" \
  "sanitizer reports in the server log ($(grep -m3 -A12 'Sanitizer\|runtime error' "$WORK/server.log" | head -40))"
finish
