#!/usr/bin/env bash
# The main job: set up, build, load the bundled sample (geodata/) into a store, publish it,
# and answer lookups. (The HTTP server takes over this job once it exists.)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
"$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
W="$build/tools/wangge"
store="${WANGGE_STORE:-$here/wangge.sqlite}"
if [ ! -s "$store" ]; then
  g="$here/geodata"
  "$W" -s "$store" import --level district "$g/districts.geojson"
  "$W" -s "$store" import --level community "$g/communities.geojson"
  "$W" -s "$store" import --level grid "$g/grids.geojson"
  "$W" -s "$store" validate
  "$W" -s "$store" publish
  "$W" -s "$store" import --addresses "$g/addresses.csv"
  "$W" -s "$store" import --events "$g/events.csv"
  "$W" -s "$store" import --workers "$g/workers.csv"
  for layer in roads rivers thematic_rental thematic_family_planning; do
    "$W" -s "$store" import --layer "$layer" "$g/$layer.geojson"
  done
  "$W" -s "$store" assign
fi
"$W" -s "$store" generations
"$W" -s "$store" layers
echo "lookup of a point in the sample (lon 114.47, lat 22.63, 葵涌 street office):"
"$W" -s "$store" lookup --json 114.47 22.63
echo "lookup of a point out at sea, east of it:"
"$W" -s "$store" lookup --json 114.52 22.62
