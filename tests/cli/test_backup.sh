#!/usr/bin/env bash
# Backups and restores (docs/backup.md):
#   - a running wangge-server takes a stream of events (POST /v1/events) and GPS fixes
#     (POST /v1/positions) from a client loop that logs when each 201 arrived; four backups are
#     taken meanwhile with `wangge backup`; every write meanwhile is answered 201 (the backup
#     blocks no writer) and some land while a backup runs; each backup passes `wangge check`
#     (full) and holds every event acknowledged before it started, once;
#   - one backup restored into a new path with `wangge restore`, a server started on it serves
#     those events (HTTP), and a restore over the store of a running server is refused;
#   - backups and restores killed with SIGKILL at random points leave the target either as it
#     was or whole (the seed printed; WANGGE_CRASH_SEED replays);
#   - errors: a backup into a directory that cannot be written, over an existing file without
#     --force, over the store itself; a restore of a truncated copy, of random bytes, of a copy
#     that breaks an invariant (unless --allow-faults), of a missing file, over an existing store
#     without --force: each refused with a message and a non-zero exit, the target's bytes
#     unchanged (sha256sum) and nothing left beside it.
set -uo pipefail
W=$1
SRC=$2
WORK=$3
SERVER=$4
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
T="$WORK/backup"
rm -rf "$T"
mkdir -p "$T"
SEED=${WANGGE_CRASH_SEED:-$(($(date +%s) % 100000))}
echo "seed $SEED (replay with WANGGE_CRASH_SEED=$SEED)"
RANDOM=$SEED
S="$T/store.sqlite"
now_ms() { date +%s%3N; }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
sq() { sqlite3 -cmd ".timeout 10000" "$@"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
# the files beside a store other than itself (leftovers of a refused or killed restore)
beside() { (cd "$(dirname "$1")" && ls -a | grep -F "$(basename "$1")" | grep -vx "$(basename "$1")" | tr '\n' ' '); }

start_server "$T/server.log" --store "$S" --geodata "$SRC/geodata"
KEY=$("$W" -s "$S" key create --role dispatcher --name backup 2> /dev/null)
WKEY=$("$W" -s "$S" key create --role worker --worker W440307006001001 2> /dev/null)
expect_eq "${#KEY}${#WKEY}" "4848" "keys"

# writer: events and fixes until $T/stop appears; "A token id ms" per acknowledged event,
# "E code" per answer that is not 201
writer() {
  local n=0 code id t
  : > "$T/acks"
  while [ ! -e "$T/stop" ]; do
    n=$((n + 1))
    code=$(curl -s -m 10 -o "$T/w.body" -w '%{http_code}' -X POST "$BASE/v1/events" \
      -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      -d "{\"lon\":114.47,\"lat\":22.63,\"category\":\"0102\",\"description\":\"bk-$n\"}")
    t=$(now_ms)
    if [ "$code" = 201 ]; then
      id=$(grep -o '"id":[0-9]*' "$T/w.body" | head -1 | cut -d: -f2)
      echo "A bk-$n $id $t" >> "$T/acks"
    else
      echo "E $code" >> "$T/acks"
    fi
    code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/positions" \
      -H "Authorization: Bearer $WKEY" -H 'Content-Type: application/json' \
      -d "{\"worker_id\":\"W440307006001001\",\"lon\":114.4$((RANDOM % 90 + 10)),\"lat\":22.6$((RANDOM % 50 + 10)),\"at\":$(now_ms)}")
    [ "$code" = 201 ] || [ "$code" = 200 ] || echo "E positions $code" >> "$T/acks"
  done
}
rm -f "$T/stop"
writer &
WRITER=$!
sleep 1
for i in 1 2 3 4; do
  t0=$(now_ms)
  expect_exit 0 "$W" -s "$S" backup "$T/b$i.sqlite"
  t1=$(now_ms)
  expect_in "written to $T/b$i.sqlite" "$out"
  expect_in "12 checks, 0 failed" "$out"
  echo "$t0 $t1" > "$T/b$i.window"
  sleep 0.$((RANDOM % 5 + 3))
done
touch "$T/stop"
wait $WRITER
stop_server

NACK=$(grep -c '^A ' "$T/acks")
expect_eq "$(grep -c '^E' "$T/acks")" "0" "every write answered 201 while the backups ran: $(grep '^E' "$T/acks" | sort | uniq -c | head -3)"
checks=$((checks + 1))
[ "$NACK" -ge 20 ] || fail "only $NACK events acknowledged"
during=0
for i in 1 2 3 4; do
  B="$T/b$i.sqlite"
  read -r t0 t1 < "$T/b$i.window"
  expect_exit 0 "$W" -s "$B" check
  expect_in "all 12 checks passed" "$out"
  # every event acknowledged before the backup began is in it, once; none twice
  awk -v t0="$t0" '$1 == "A" && $4 < t0 { print $2 " " $3 }' "$T/acks" | sort > "$T/want$i"
  sq -separator ' ' "$B" "SELECT description, id FROM events WHERE description LIKE 'bk-%'" | sort > "$T/have$i"
  expect_eq "$(comm -23 "$T/want$i" "$T/have$i" | head -3 | tr '\n' ' ')" "" "events acknowledged before backup $i began, missing from it"
  expect_eq "$(cut -d' ' -f1 "$T/have$i" | uniq -d | head -3)" "" "events twice in backup $i"
  checks=$((checks + 1))
  [ "$(wc -l < "$T/want$i")" -gt 0 ] || fail "no event acknowledged before backup $i"
  during=$((during + $(awk -v t0="$t0" -v t1="$t1" '$1 == "A" && $4 > t0 && $4 < t1' "$T/acks" | wc -l)))
  # a backup is one self-contained file in rollback-journal mode
  expect_eq "$(od -A n -t u1 -j 18 -N 2 "$B" | tr -s ' ')" " 1 1" "backup $i: file format bytes (rollback journal)"
  expect_eq "$(beside "$B")" "" "files beside backup $i"
done
echo "$NACK events acknowledged, $during of them while a backup ran"
[ "$during" -ge 1 ] || echo "note: no event was acknowledged during a backup (they are short)"

# --- restore backup 2 into a new path; a server on it serves what was acknowledged before it
R="$T/restored.sqlite"
expect_exit 0 "$W" -s "$R" restore "$T/b2.sqlite"
expect_in "restored $T/b2.sqlite into $R: 12 checks, 0 failed" "$out"
expect_eq "$(beside "$R")" "" "files beside the restored store"
expect_eq "$(sq "$R" "SELECT count(*) FROM events WHERE description LIKE 'bk-%'")" "$(wc -l < "$T/have2")" "restored events = backup 2's"
start_server "$T/server2.log" --store "$R"
ok=0
while read -r tok id; do
  http GET "$BASE/v1/events/$id" -H "Authorization: Bearer $KEY"
  [ "$code" = 200 ] && case "$body" in *"\"description\":\"$tok\""*) ok=$((ok + 1)) ;; esac
done < "$T/want2"
expect_eq "$ok" "$(wc -l < "$T/want2")" "events acknowledged before backup 2, served by a server on the restored store"
# a restore over the store of a running server: refused whatever the flags, bytes unchanged
before=$(sum "$R")
expect_exit 2 "$W" -s "$R" restore --force "$T/b3.sqlite"
expect_in "is open in another process" "$err"
expect_eq "$(sum "$R")" "$before" "the served store untouched"
stop_server

# --- kills: a backup killed at a random point leaves the previous backup whole; a restore killed
# at a random point leaves the target either as it was or the backup's copy
cp "$T/b1.sqlite" "$T/kb.sqlite"
K1=$(sum "$T/kb.sqlite")
t0=$(now_ms)
expect_exit 0 "$W" -s "$T/b4.sqlite" backup --force "$T/probe.sqlite"
D=$(($(now_ms) - t0))
kb=0 kr=0
for k in $(seq 1 10); do
  d=$((RANDOM % (D + 20)))
  { "$W" -s "$T/b4.sqlite" backup --force "$T/kb.sqlite" > /dev/null 2>&1 & } 2> /dev/null
  pid=$!
  sleep_ms "$d"
  kill -KILL $pid 2> /dev/null
  wait $pid 2> /dev/null
  [ $? = 137 ] && kb=$((kb + 1))
  now=$(sum "$T/kb.sqlite")
  if [ "$now" != "$K1" ]; then
    expect_exit 0 "$W" -s "$T/kb.sqlite" check --quick
    K1=$now
  fi
done
expect_exit 0 "$W" -s "$T/b4.sqlite" backup --force "$T/kb.sqlite"
expect_eq "$(beside "$T/kb.sqlite")" "" "a backup after killed ones leaves nothing beside"
cp "$T/b1.sqlite" "$T/kr.sqlite"
OLD=$(sum "$T/kr.sqlite")
NEW=$(sum "$T/b4.sqlite")
for k in $(seq 1 10); do
  d=$((RANDOM % (D + 20)))
  src="$T/b4.sqlite"
  [ $((k % 2)) = 0 ] && src="$T/b1.sqlite"
  { "$W" -s "$T/kr.sqlite" restore --force "$src" > /dev/null 2>&1 & } 2> /dev/null
  pid=$!
  sleep_ms "$d"
  kill -KILL $pid 2> /dev/null
  wait $pid 2> /dev/null
  [ $? = 137 ] && kr=$((kr + 1))
  now=$(sum "$T/kr.sqlite")
  checks=$((checks + 1))
  [ "$now" = "$OLD" ] || [ "$now" = "$NEW" ] || fail "a killed restore left a store that is neither the old one nor the backup (round $k, seed $SEED)"
  rm -f "$T"/kr.sqlite.restore-* # a killed restore may leave its temporary copy (docs/backup.md)
done
expect_exit 0 "$W" -s "$T/kr.sqlite" check --quick
echo "backup: kills survived: $kb; restore: kills survived: $kr"

# --- errors
touch "$T/afile"
expect_exit 2 "$W" -s "$T/b1.sqlite" backup "$T/afile/x.sqlite"
expect_in "cannot create $T/afile/x.sqlite.tmp: Not a directory" "$err"
expect_exit 2 "$W" -s "$T/b1.sqlite" backup "$T/no-such-dir/x.sqlite"
expect_in "No such file or directory" "$err"
if [ "$(id -u)" != 0 ]; then # root writes anywhere: this case needs an ordinary user
  mkdir -p "$T/ro" && chmod 555 "$T/ro"
  expect_exit 2 "$W" -s "$T/b1.sqlite" backup "$T/ro/x.sqlite"
  expect_in "Permission denied" "$err"
  chmod 755 "$T/ro"
fi
expect_exit 2 "$W" -s "$T/b1.sqlite" backup "$T/b2.sqlite"
expect_in "exists: use --force to replace it" "$err"
expect_exit 1 "$W" -s "$T/b1.sqlite" backup "$T/b1.sqlite"
expect_in "is the store itself" "$err"
expect_exit 1 "$W" -s "$T/b1.sqlite" backup
expect_exit 3 "$W" -s "$T/missing.sqlite" backup "$T/x.sqlite"

TARGET="$T/target.sqlite"
cp "$T/b1.sqlite" "$TARGET"
KEEP=$(sum "$TARGET")
refused() { # refused WHAT EXIT MESSAGE RESTORE-ARGS...: refused, target unchanged, nothing left
  local what=$1 code=$2 msg=$3
  shift 3
  expect_exit "$code" "$W" -s "$TARGET" restore "$@"
  expect_in "$msg" "$err"
  expect_eq "$(sum "$TARGET")" "$KEEP" "target unchanged after a restore of $what"
  expect_eq "$(beside "$TARGET")" "" "nothing beside the target after a restore of $what"
}
cp "$T/b3.sqlite" "$T/truncated.sqlite"
truncate -s $(($(stat -c %s "$T/truncated.sqlite") / 2)) "$T/truncated.sqlite"
refused "a truncated copy" 2 "is not a wangge store: database disk image is malformed: not restored" --force "$T/truncated.sqlite"
head -c 300000 /dev/urandom > "$T/noise.sqlite"
refused "random bytes" 2 "is not a wangge store: file is not a database" --force "$T/noise.sqlite"
cp "$T/b3.sqlite" "$T/pages.sqlite"
dd if=/dev/urandom of="$T/pages.sqlite" bs=4096 seek=$(($(stat -c %s "$T/pages.sqlite") / 4096 - 40)) count=3 conv=notrunc 2> /dev/null
refused "a copy with damaged pages" 2 "not restored" --force "$T/pages.sqlite"
: > "$T/empty.sqlite"
refused "an empty file" 2 "is not a wangge store" --force "$T/empty.sqlite"
cp "$T/b3.sqlite" "$T/unassigned.sqlite"
sq "$T/unassigned.sqlite" "DELETE FROM assignments WHERE kind = 'address' AND item_id IN (3, 4)"
refused "a copy with unassigned addresses" 2 "breaks the store's invariants (failed: unassigned)" --force "$T/unassigned.sqlite"
expect_in "addresses 3, 4" "$err"
refused "a missing file" 2 "cannot read backup" --force "$T/nothing.sqlite"
refused "a directory" 2 "is not a regular file" --force "$T"
refused "a backup over an existing store without --force" 2 "exists: use --force to replace it" "$T/b3.sqlite"
refused "the store onto itself" 1 "is the store itself" --force "$TARGET"
expect_exit 1 "$W" -s "$TARGET" restore
expect_exit 0 "$W" -s "$TARGET" restore --force --allow-faults "$T/unassigned.sqlite"
expect_in "12 checks, 1 failed" "$out"
expect_in "warning (--allow-faults): unassigned" "$err"
expect_exit 0 "$W" -s "$TARGET" restore --force "$T/b3.sqlite"
expect_eq "$(sum "$TARGET")" "$(sum "$T/b3.sqlite")" "restored bytes = the backup's"
finish
