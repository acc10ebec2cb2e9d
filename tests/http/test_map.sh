#!/usr/bin/env bash
# The map page at /map in real headless Chromium (Debian's chromium, driven by playwright-core
# from the npm registry): the page loads without console errors, the canvas shows the grids in
# their community colours, grid-code labels are placed, a click opens the lookup popup with the
# grid and its worker, the level toggles work. Screenshots are kept as artefacts:
# WORK_DIR/http-map/map.png and map-popup.png.
# usage: test_map.sh SERVER_BIN SRC_DIR WORK_DIR
set -uo pipefail
SERVER=$1
SRC=$2
WORK=$3/http-map
CHROMIUM=${WANGGE_CHROMIUM:-/usr/bin/chromium}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
mkdir -p "$WORK"
rm -f "$WORK"/map.sqlite* "$WORK"/*.png

# --- Debian's chromium (and a CJK font, so the screenshots show the Chinese names)
apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null || return 1
  echo "test_map: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq --no-install-recommends "$@" || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; }; } > "$WORK/apt.log" 2>&1
}
if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium || { echo "FAIL: $CHROMIUM is missing and could not be installed (see $WORK/apt.log)" >&2; exit 1; }
fi
if command -v fc-list > /dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then
  apt_install fonts-wqy-zenhei || echo "test_map: no CJK font (Chinese text shows as boxes in the screenshots)" >&2
fi

# --- playwright-core from the npm registry, installed into WORK (again only when the lock changes)
command -v npm > /dev/null || { echo "FAIL: npm is needed (apt-get install nodejs npm)" >&2; exit 1; }
NODE_DIR="$WORK/node"
if ! cmp -s "$SRC/tests/http/map/package-lock.json" "$NODE_DIR/package-lock.json" ||
   [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp "$SRC/tests/http/map/package.json" "$SRC/tests/http/map/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) ||
    { rm -f "$NODE_DIR/package-lock.json"; echo "FAIL: npm ci of tests/http/map" >&2; exit 1; }
fi

# --- the server, from the bundled city; its map page is the build's server/web
start_server "$WORK/server.log" --store "$WORK/map.sqlite" --geodata "$SRC/geodata"
expect_status 200 GET "$BASE/map"
expect_in '<script type="module" src="/map/map.js">' "$body"
expect_status 200 GET "$BASE/map/maplibre-gl.mjs"
expect_status 200 GET "$BASE/map/maplibre-gl-worker.mjs"
expect_status 404 GET "$BASE/map/no-such-file.js"
expect_in '"error":{"code":"not_found"' "$body"
expect_status 404 GET "$BASE/map/../health" --path-as-is
expect_status 404 GET "$BASE/map/..%2fmap.js"
expect_status 404 GET "$BASE/map/.hidden.js"
[ "$fails" = 0 ] || { echo "the map page is not served (was the server built with npm?)" >&2; finish; exit 1; }

# --- the browser
NODE_PATH="$NODE_DIR/node_modules" timeout 300 node "$SRC/tests/http/map/map_test.cjs" "$BASE" "$WORK" "$CHROMIUM"
rc=$?
checks=$((checks + 1))
[ "$rc" = 0 ] || fail "the browser test failed (exit $rc)"

# --- a draft beside the active generation: one community redrawn by the CLI
W=$(dirname "$SERVER")/../tools/wangge
C=440307006002
expect_exit 0 "$W" -s "$WORK/map.sqlite" divide --community $C --grids 4
an=$(sqlite3 "$WORK/map.sqlite" "SELECT count(*) FROM units u JOIN generations g ON g.status = 'active' WHERE level = 3 AND parent_code = '$C' AND first_gen <= g.id AND (last_gen IS NULL OR last_gen >= g.id)")
MAP_TEST_MODE=compare COMPARE_COMMUNITY=$C COMPARE_ACTIVE_N=$an COMPARE_DRAFT_N=4 NODE_PATH="$NODE_DIR/node_modules" \
  timeout 300 node "$SRC/tests/http/map/map_test.cjs" "$BASE" "$WORK" "$CHROMIUM"
rc=$?
checks=$((checks + 1))
[ "$rc" = 0 ] || fail "the side-by-side browser test failed (exit $rc)"
stop_server

# --- no map page directory: /map answers 503 with a JSON error, the rest of the server works
start_server "$WORK/server-noweb.log" --store "$WORK/map.sqlite" --web "$WORK/no-such-web-dir"
expect_status 503 GET "$BASE/map"
expect_in '"error":{"code":"map_unavailable"' "$body"
expect_status 503 GET "$BASE/map/map.js"
expect_status 200 GET "$BASE/health"
expect_in "the map page is unavailable" "$(cat "$WORK/server-noweb.log")"
stop_server

[ -f "$WORK/map.png" ] && echo "artefact: $WORK/map.png"
[ -f "$WORK/map-popup.png" ] && echo "artefact: $WORK/map-popup.png"
[ -f "$WORK/map-compare.png" ] && echo "artefact: $WORK/map-compare.png"
finish
