#!/usr/bin/env bash
# The HTTP bad-input matrix (issue 7): every case of tests/http/badinput.tsv plus the
# systematic ones badinput_gen.py makes (SQL injection in every query parameter and every
# string member of every JSON body, path traversal in every variable path segment, missing /
# forged / revoked / malformed / under-privileged keys on every write, malformed, mistyped,
# oversized, deeply nested and non-UTF-8 bodies on every endpoint that reads one, bowtie and
# unclosed rings, NaN / Infinity / 1e400 / out-of-range coordinates, empty geometries, the
# batch and vertex caps, a 10M-vertex polygon, requests that never complete) is sent with
# curl --max-time to a real wangge-server, and each answer must be the expected status with a
# JSON error body of the expected code (parsed with jq) -- never a 5xx, a hang or a crash.
# Per group, the store's content is fingerprinted before and after (sqlite3 .dump of every
# wangge table: nothing is volatile, reads write nothing) and must not change; the server must
# still be alive and answer /health and a known lookup as before. Prints the matrix size by
# group and the number passing; exits non-zero naming every failing case.
# BADINPUT_GROUPS=REGEX runs only the groups it matches (while working on one).
set -uo pipefail
SERVER=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
fresh_work "$3/http-badinput"
GEN="$SRC/tests/http/badinput_gen.py"

# A lowered vertex cap (10,000) so that a polygon over it fits in the default 8 MiB body cap;
# a long --timeout (the time a whole request may take) so that the 250 MB of the 10M-vertex
# polygon, read and dropped after the body cap, arrive in time on a loaded machine. (Clients
# that never finish are tests/http/test_slowclient.sh's.)
start_server "$WORK/server.log" --store "$S" --geodata "$SRC/geodata" --max-vertices 10000 --timeout 120
key() { "$W" -s "$S" key create "$@" 2> /dev/null; }
declare -A KEYS
KEYS[viewer]=$(key --role viewer --name mx-viewer)
KEYS[dispatcher]=$(key --role dispatcher --name mx-dispatcher)
KEYS[planner]=$(key --role planner --name mx-planner)
KEYS[admin]=$(key --role admin --name mx-admin)
KEYS[worker]=$(key --role worker --name mx-worker --worker W440307006001001)
KEYS[revoked]=$(key --role admin --name mx-revoked)
"$W" -s "$S" key revoke "$(echo "${KEYS[revoked]}" | cut -d_ -f2)" > /dev/null 2>&1 ||
  fail "cannot revoke a key"
KEYS[forged]=wg_0123456789ab_0123456789abcdef0123456789abcdef # well-formed, not in the store
KEYS[malformed]="wg_not-a-key"
KEYS[huge]=$(head -c 20000 /dev/zero | tr '\0' a) # a request head over the server's 8 KiB (CONN_MEMORY)
for k in viewer dispatcher planner admin worker revoked; do
  [ "${#KEYS[$k]}" = 48 ] || { fail "no $k key"; finish; exit 1; }
done
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM api_keys WHERE name = 'mx-revoked' AND revoked_ms IS NOT NULL")" 1 "revoked key"

# A draft is open before the matrix, so that planner edits meet a real draft.
expect_status 201 POST "$BASE/v1/draft" -H "X-API-Key: ${KEYS[planner]}"

q1() { sqlite3 "$S" "$1" | head -1; }
GRID=$(q1 "SELECT code FROM units WHERE level = 3 AND last_gen IS NULL ORDER BY code")
GRID2=$(q1 "SELECT code FROM units WHERE level = 3 AND last_gen IS NULL ORDER BY code LIMIT 1 OFFSET 1")
COMMUNITY=$(q1 "SELECT code FROM units WHERE level = 2 AND last_gen IS NULL ORDER BY code")
WORKER=W440307006001002
EV_ARCHIVED=$(q1 "SELECT min(id) FROM events WHERE status = 'archived'")
EV_REGISTERED=$(q1 "SELECT min(id) FROM events WHERE status = 'registered'")
EV_DISPATCHED=$(q1 "SELECT min(id) FROM events WHERE status = 'dispatched' AND coalesce(assignee, '') <> 'W440307006001001'")
NOW=$(date +%s%3N)
for v in GRID GRID2 COMMUNITY EV_ARCHIVED EV_REGISTERED EV_DISPATCHED; do
  [ -n "${!v}" ] || { fail "no $v in the sample store"; finish; exit 1; }
done
expect_eq "$(q1 "SELECT count(*) FROM workers WHERE id = '$WORKER'")" 1 "worker $WORKER in the sample"

total=$(python3 "$GEN" expand "$SRC/tests/http/badinput.tsv" "$WORK" GRID="$GRID" GRID2="$GRID2" \
  COMMUNITY="$COMMUNITY" WORKER="$WORKER" EV_ARCHIVED="$EV_ARCHIVED" EV_REGISTERED="$EV_REGISTERED" \
  EV_DISPATCHED="$EV_DISPATCHED" NOW="$NOW" KEY_FORGED="${KEYS[forged]}" KEY_REVOKED="${KEYS[revoked]}") ||
  { fail "cannot expand the matrix"; finish; exit 1; }

# The content of every wangge table (the SpatiaLite bookkeeping tables are not ours).
TABLES="generations units addresses assignments assign_runs events event_steps workers
        worker_positions categories calendar_days api_keys layer_features wg_meta"
fingerprint() { for t in $TABLES; do sqlite3 "$S" ".dump $t"; done | sha256sum | cut -c1-16; }
LOOKUP="$BASE/v1/lookup?lon=114.47&lat=22.63"
state() { # what must not change: the store, /health (less its clock) and a lookup
  printf '%s %s %s' "$(fingerprint)" \
    "$(curl -s --max-time 10 "$BASE/health" | jq -c 'del(.uptime_s)' 2> /dev/null)" \
    "$(curl -s --max-time 10 "$LOOKUP" | sha256sum | cut -c1-16)"
}

# check_body STATUS CODE FILE PATH: the answer's body has the shape and code expected
check_body() {
  local status=$1 code=$2 f=$3 path=$4
  case "$code" in
    closed) [ ! -s "$f" ] ;;
    mhd) grep -q '^<html><head><title>' "$f" ;;
    =empty) jq -e 'if type == "array" then length == 0 else .count == 0 end' "$f" > /dev/null 2>&1 ;;
    =rejected:*)
      jq -e --arg r "${code#=rejected:}" '.count > 0 and .rejected == .count and
        all(.results[]; .status == "rejected" and .reason == $r)' "$f" > /dev/null 2>&1 ;;
    o311)
      jq -e --argjson s "$status" 'type == "array" and length == 1 and .[0].code == $s and
        (.[0].description | type == "string" and length > 0)' "$f" > /dev/null 2>&1 ;;
    *)
      jq -e --arg c "$code" '(keys == ["error"]) and .error.code == $c and
        (.error.message | type == "string" and length > 0)' "$f" > /dev/null 2>&1 ;;
  esac
}

declare -A NCASES NPASS
FAILED=()
run_case() { # one row: sets got (the status) and checks it
  local group=$1 name=$2 method=$3 path=$4 ctype=$5 key=$6 body=$7 status=$8 code=$9
  local out="$WORK/answer" args=(-s -o "$WORK/answer" -w '%{http_code}' --max-time 60 --path-as-is -g -X "$method")
  local k=${key#bearer:}
  [ "$ctype" != - ] && args+=(-H "Content-Type: $ctype")
  if [ "$k" != none ]; then
    if [ "$k" != "$key" ]; then args+=(-H "Authorization: Bearer ${KEYS[$k]}"); else args+=(-H "X-API-Key: ${KEYS[$k]}"); fi
  fi
  : > "$out"
  case "$body" in
    -) got=$(curl "${args[@]}" "$BASE$path") ;;
    @stream:*) got=$(python3 "$GEN" stream "${body#@stream:}" | curl "${args[@]}" -T - "$BASE$path") ;;
    @raw:*) got=$(python3 "$GEN" raw 127.0.0.1 "$PORT" "${body#@raw:}" "$out" "${KEYS[$k]:-}") ;;
    *) got=$(curl "${args[@]}" --data-binary "@$body" "$BASE$path") ;;
  esac
  NCASES[$group]=$((${NCASES[$group]:-0} + 1))
  checks=$((checks + 1))
  if [ "$got" = "$status" ] && check_body "$status" "$code" "$out" "$path"; then
    NPASS[$group]=$((${NPASS[$group]:-0} + 1))
  else
    fail "[$group] $name: $method $path -> $got $(head -c 300 "$out" | tr -d '\0' | tr '\n' ' ') (want $status $code)"
    FAILED+=("$group: $name")
  fi
  kill -0 "$SERVER_PID" 2> /dev/null || { fail "the server died at [$group] $name"; finish; exit 1; }
}

GROUPS_SEEN=()
current= before=
end_group() {
  [ -n "$current" ] || return 0
  local after
  after=$(state)
  checks=$((checks + 1))
  [ "$after" = "$before" ] || {
    fail "[$current] something stored or served changed: before $before, after $after"
    FAILED+=("$current: stored state changed")
  }
}
while IFS=$'\t' read -r group name method path ctype key body status code; do
  if [ "$group" != "$current" ]; then
    end_group
    current=$group
    GROUPS_SEEN+=("$group")
    before=$(state)
    case "$before" in *'"status":"ok"'*) ;; *) fail "[$group] the server does not answer /health: $before" ;; esac
  fi
  run_case "$group" "$name" "$method" "$path" "$ctype" "$key" "$body" "$status" "$code"
done < <(sort -s -t $'\t' -k1,1 "$WORK/cases.tsv" | grep -E "^(${BADINPUT_GROUPS:-[a-z0-9]+})"$'\t')
end_group

# The server is alive and answers as at the start; its log has no sanitizer report.
expect_status 200 GET "$BASE/health"
expect_status 200 GET "$LOOKUP"
expect_eq "$(jq -r '.grid.code' <<< "$body")" "$(jq -r '.grid.code' < <("$W" -s "$S" lookup --json 114.47 22.63))" "lookup = CLI"
stop_server
expect_not_in "ERROR: AddressSanitizer" "$(cat "$WORK/server.log")"
expect_not_in "runtime error" "$(cat "$WORK/server.log")"

n=0 p=0
echo "bad-input matrix: $total cases"
for g in "${GROUPS_SEEN[@]}"; do
  printf '  %-10s %4d cases, %4d passing\n' "$g" "${NCASES[$g]}" "${NPASS[$g]:-0}"
  n=$((n + NCASES[$g])) p=$((p + ${NPASS[$g]:-0}))
done
echo "  total      $n cases, $p passing"
[ -n "${BADINPUT_GROUPS:-}" ] || expect_eq "$n" "$total" "every case ran"
for f in "${FAILED[@]}"; do echo "FAILED: $f" >&2; done
finish
