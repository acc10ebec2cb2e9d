#!/usr/bin/env bash
# Prepares the us-atlas counties in a store (as the us-atlas test does) and runs bench_lookup
# over the conterminous United States. usage: bench/run_lookup.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
[ -x "$build/bench/bench_lookup" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
W="$build/tools/wangge"
work="$build/bench-data"
mkdir -p "$work"
bash "$here/tests/data/usatlas/prep.sh" "$work/usatlas" >/dev/null
S="$work/usatlas.sqlite"
if [ ! -s "$S" ]; then
  "$W" -s "$S" import --level district --repair "$work/usatlas/nation.geojson" 2>/dev/null
  "$W" -s "$S" import --level community --repair "$work/usatlas/states.geojson" 2>/dev/null
  "$W" -s "$S" import --level grid --repair --skip-rejected "$work/usatlas/counties.geojson" 2>/dev/null
  "$W" -s "$S" publish --force 2>/dev/null
fi
"$build/bench/bench_lookup" "$S" --bbox -125,24,-66,50 "$@"
