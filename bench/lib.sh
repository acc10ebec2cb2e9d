# Shared by the bench scripts (sourced).

# usatlas_store W WORK: the us-atlas counties prepared in WORK/usatlas and imported as the grid
# level of the store WORK/usatlas.sqlite (nation and states above them), as the us-atlas test
# does; a store left by an earlier run is kept. Sets $S to the store.
usatlas_store() {
  local w=$1 work=$2
  mkdir -p "$work"
  bash "$(dirname "${BASH_SOURCE[0]}")/../tests/data/usatlas/prep.sh" "$work/usatlas" >/dev/null
  S="$work/usatlas.sqlite"
  if [ ! -s "$S" ]; then
    "$w" -s "$S" import --level district --repair "$work/usatlas/nation.geojson" 2>/dev/null
    "$w" -s "$S" import --level community --repair "$work/usatlas/states.geojson" 2>/dev/null
    "$w" -s "$S" import --level grid --repair --skip-rejected "$work/usatlas/counties.geojson" 2>/dev/null
    "$w" -s "$S" publish --force 2>/dev/null
  fi
}

# bench_server LOG SERVER ARGS...: starts SERVER --port 0 ARGS in the background, logging to
# LOG, and waits until it listens; sets $pid, $port and $base (exit 3 with the log if it never
# does).
bench_server() {
  local log=$1 srv=$2; shift 2
  : > "$log"
  "$srv" --port 0 "$@" 2> "$log" &
  pid=$!
  port=
  for _ in $(seq 1200); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$log"; exit 3; }
  base="http://127.0.0.1:$port"
}
