#!/usr/bin/env bash
# The main job: set up, build, and run wangge-server on the bundled sample. On its first start
# the server creates ./wangge.sqlite from geodata/ (districts, communities, grids, addresses,
# events, workers, roads, rivers, thematic layers), then serves http://127.0.0.1:8080/:
# the map at /map, lookups at /v1/lookup, tiles at /tiles, OGC API Features at /.
# Extra arguments go to the server (wangge-server --help).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
"$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$here"
echo "wangge-server: open http://127.0.0.1:8080/map (Ctrl-C stops it)"
exec "$build/server/wangge-server" "$@"
