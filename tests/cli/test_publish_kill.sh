#!/usr/bin/env bash
# Publish (and rollback) are atomic: the wangge command is killed with SIGKILL at many points of
# a publish or rollback of the bundled sample, and after each kill the store, reopened, has
#   - exactly one active generation, which validates with no fault;
#   - either the old state whole (the draft still a draft) or the new one whole;
#   - every address and event still there, and each assigned in the active generation.
# Two ways to kill, both with their seed printed (set KILL_SEED to replay):
#   - at the N-th tick of the switch, through the library's test hook WANGGE_TEST_KILL_AT=N
#     (a tick: every 64 SQLite VM steps and every step boundary of the transaction; the range
#     comes from an unkilled run), N uniform over the whole switch or among its last ticks (the
#     status flip and the commit);
#   - after a random delay, from outside, so kills also land inside SQLite's own writes.
set -uo pipefail
W=$1
SRC=$2
WORK=$3
. "$SRC/tests/cli/lib.sh"
T="$WORK/publish-kill"
rm -rf "$T"
mkdir -p "$T"
S="$T/s.sqlite"
G="$SRC/geodata"
HOOK_KILLS=${HOOK_KILLS:-60}
TIMED_KILLS=${TIMED_KILLS:-20}
SEED=${KILL_SEED:-$(( $(date +%s) % 100000 ))}
echo "seed $SEED (replay with KILL_SEED=$SEED)"
RANDOM=$SEED
C=440307006005

import_levels "$S" "$G"
expect_exit 0 "$W" -s "$S" import --addresses "$G/addresses.csv"
expect_exit 0 "$W" -s "$S" import --events "$G/events.csv"
expect_exit 0 "$W" -s "$S" publish
NA=$(sqlite3 "$S" "SELECT count(*) FROM addresses")
NE=$(sqlite3 "$S" "SELECT count(*) FROM events")
expect_eq "$NA $NE" "2776 2000" "sample points"

# The redraw every draft gets: the community's grids with two of them merged, as a file.
sqlite3 -batch -noheader -cmd "SELECT load_extension('mod_spatialite')" "$S" > "$T/edit.geojson" <<SQL | sed '1{/^$/d}'
SELECT '{"type":"FeatureCollection","features":[' || group_concat(f, ',') || ']}' FROM (
  SELECT '{"type":"Feature","properties":{},"geometry":' || AsGeoJSON(geom, 15) || '}' AS f FROM units
    WHERE level = 3 AND parent_code = '$C' AND code NOT IN ('${C}001', '${C}002')
  UNION ALL SELECT '{"type":"Feature","properties":{},"geometry":' || AsGeoJSON(ST_Union(geom), 15) || '}'
    FROM units WHERE code IN ('${C}001', '${C}002'));
SQL
sed -i '1{/^$/d}' "$T/edit.geojson"
make_draft() { "$W" -s "$S" draft replace --level grid --parent "$C" "$T/edit.geojson" > /dev/null 2> "$T/draft.err" ||
  fail "cannot make a draft: $(cat "$T/draft.err")"; }

# state: "active draft" ids ("-" for no draft), as a fresh process sees them
state() { sqlite3 "$S" "SELECT coalesce((SELECT id FROM generations WHERE status = 'active'), '-') || ' ' ||
  coalesce((SELECT id FROM generations WHERE status = 'draft'), '-') || ' ' ||
  (SELECT count(*) FROM generations WHERE status = 'active')"; }

# After a kill: one active generation, valid, all points there and assigned in it; and the
# switch either happened whole or not at all. $1 = state before, $2 = the generation the
# switch was making active.
check_after() {
  local before=$1 target=$2 now active draft nactive
  now=$(state)
  read -r active draft nactive <<< "$now"
  expect_eq "$nactive" "1" "one active generation after the kill (seed $SEED, $3)"
  checks=$((checks + 1))
  if [ "$active" != "$target" ] && [ "$now" != "$before" ]; then
    fail "half a switch: before '$before', after '$now', target $target ($3)"
  fi
  expect_exit 0 "$W" -s "$S" validate --generation "$active"
  expect_in "0 faults" "$out"
  expect_eq "$(sqlite3 "$S" "SELECT (SELECT count(*) FROM addresses) || ' ' || (SELECT count(*) FROM events)")" "$NA $NE" "no point lost ($3)"
  expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM assignments WHERE generation = $active")" "$((NA + NE))" \
    "every point assigned in the active generation ($3)"
  [ "$active" = "$target" ] && switched=$((switched + 1))
}

# The next switch: publish the draft if there is one, else roll back (which needs a draft to be
# made again afterwards, so the runs alternate between the two operations).
next_switch() {
  read -r active draft _ <<< "$(state)"
  if [ "$draft" = "-" ] && [ "$active" = "1" ]; then make_draft; read -r active draft _ <<< "$(state)"; fi
  if [ "$draft" != "-" ]; then op=publish; target=$draft; else op=rollback; target=1; fi
}

# Ticks of an unkilled publish and rollback (on a copy).
make_draft
sqlite3 "$S" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
cp "$S" "$T/probe.sqlite"
WANGGE_TEST_KILL_AT=1000000000 "$W" -s "$T/probe.sqlite" publish > /dev/null 2> "$T/probe.err"
PUB_TICKS=$(sed -n 's/^wangge-test: \([0-9]*\) ticks$/\1/p' "$T/probe.err")
WANGGE_TEST_KILL_AT=1000000000 "$W" -s "$T/probe.sqlite" rollback > /dev/null 2> "$T/probe.err"
RB_TICKS=$(sed -n 's/^wangge-test: \([0-9]*\) ticks$/\1/p' "$T/probe.err")
checks=$((checks + 1))
[ "${PUB_TICKS:-0}" -gt 100 ] && [ "${RB_TICKS:-0}" -gt 100 ] || fail "no tick counts: publish '$PUB_TICKS', rollback '$RB_TICKS'"
echo "a publish makes $PUB_TICKS ticks, a rollback $RB_TICKS"

switched=0
killed=0
for k in $(seq 1 "$HOOK_KILLS"); do
  next_switch
  ticks=$PUB_TICKS
  [ $op = rollback ] && ticks=$RB_TICKS
  if [ $((k % 3)) = 0 ]; then at=$((ticks - RANDOM % 40)); else at=$((1 + (RANDOM * 32768 + RANDOM) % ticks)); fi
  # the first two runs: the last tick (after the commit) and the one before (before it)
  [ "$k" -le 2 ] && at=$((ticks + 1 - k))
  [ "$at" -lt 1 ] && at=1
  before=$(state)
  was=$switched
  (WANGGE_TEST_KILL_AT=$at "$W" -s "$S" $op; exit $?) > /dev/null 2>&1
  rc=$?
  [ $rc = 137 ] && killed=$((killed + 1))
  checks=$((checks + 1))
  [ $rc = 137 ] || [ $rc = 0 ] || fail "$op exited $rc (tick $at)"
  check_after "$before" "$target" "$op killed at tick $at"
  if [ "$k" -le 2 ]; then
    expect_eq "$rc $((switched - was))" "137 $((2 - k))" "$op killed at its last tick $at: switched only if after the commit"
  fi
done

for k in $(seq 1 "$TIMED_KILLS"); do
  next_switch
  delay=$(printf '0.%03d' $((RANDOM % 400)))
  before=$(state)
  { "$W" -s "$S" $op > /dev/null 2>&1 & } 2> /dev/null
  pid=$!
  sleep "$delay"
  kill -KILL $pid 2> /dev/null
  wait $pid 2> /dev/null
  rc=$?
  [ $rc = 137 ] && killed=$((killed + 1))
  check_after "$before" "$target" "$op killed after ${delay}s"
done
echo "$killed kills, $switched of $((HOOK_KILLS + TIMED_KILLS)) runs ended with the switch made"
checks=$((checks + 1))
[ "$killed" -ge $((HOOK_KILLS / 2)) ] || fail "only $killed runs were killed"
checks=$((checks + 1))
[ "$switched" -ge 1 ] && [ "$switched" -lt $((HOOK_KILLS + TIMED_KILLS)) ] || fail "$switched switches made: kills before and after the commit expected"
finish
