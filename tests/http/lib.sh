# Helpers for the HTTP tests (sourced after tests/cli/lib.sh): start a wangge-server on a free
# loopback port and stop it on exit.
# start_server LOGFILE ARGS... : sets $PORT, $BASE and $SERVER_PID; fails the test if it
# does not answer /health within 60 s.
start_server() {
  local log=$1; shift
  "$SERVER" --port 0 --access-log off "$@" 2> "$log" &
  SERVER_PID=$!
  PORT=
  for _ in $(seq 600); do
    PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT" ]; then
    echo "FAIL: server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  BASE="http://127.0.0.1:$PORT"
  curl -sf "$BASE/health" > /dev/null || { echo "FAIL: /health" >&2; exit 1; }
}
# fresh_work DIR: $WORK = DIR, emptied, $S the store in it (made by the server on its first
# start) and $W the wangge CLI built beside $SERVER.
fresh_work() {
  WORK=$1
  W=$(dirname "$SERVER")/../tools/wangge
  rm -rf "$WORK"
  mkdir -p "$WORK"
  S="$WORK/store.sqlite"
}
stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
trap stop_server EXIT
# wrong_key KEY: KEY with its last character changed (a key of the right form that is not KEY)
wrong_key() {
  case "$1" in *0) printf '%s1' "${1%?}" ;; *) printf '%s0' "${1%?}" ;; esac
}

# http METHOD URL [curl args...]: sets $code (status) and $body
http() {
  local m=$1 u=$2; shift 2
  body=$(curl -s -o - -w '\n%{http_code}' -X "$m" "$u" "$@" | tr -d '\0')
  code=${body##*$'\n'}
  body=${body%$'\n'*}
}
expect_status() { # expect_status WANT METHOD URL [curl args...]
  local want=$1; shift
  http "$@"
  checks=$((checks + 1))
  [ "$code" = "$want" ] || fail "status $code (want $want): $* -> $body"
}
