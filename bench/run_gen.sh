#!/usr/bin/env bash
# Generator figures: time and peak memory of the bundled sample and of --scale 10 and
# --scale N (default 100: ~10k work grids, 3M households), then the scaled city imported and
# validated. Memory must stay flat as the scale grows (offices are streamed to disk one by one).
# usage: bench/run_gen.sh [BUILD_DIR] [N]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
scale=${2:-100}
[ -x "$build/tools/wangge" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
W="$build/tools/wangge"
work="$build/bench-data/gen"
rm -rf "$work"
mkdir -p "$work"
run() { # run LABEL CMD...: prints wall time and peak resident memory
  local label=$1; shift
  /usr/bin/time -o "$work/time.txt" -f "$label: %e s wall, %M KB max RSS" "$@" >/dev/null
  cat "$work/time.txt"
}
echo "== wangge gen ($(nproc) cores)"
run "sample (seed 1, 1 office)" "$W" gen --quiet --seed 1 "$work/sample"
run "--scale 10" "$W" gen --quiet --seed 1 --scale 10 "$work/scale10"
run "--scale $scale" "$W" gen --quiet --seed 1 --scale "$scale" "$work/scale$scale"
echo "output of --scale $scale: $(du -sh "$work/scale$scale" | cut -f1) in $(ls "$work/scale$scale" | wc -l) files"
grep -o '"totals":{[^}]*}' "$work/scale$scale/summary.json"
echo "== import and validate --scale $scale"
S="$work/scale$scale.sqlite"
run "import districts" "$W" -s "$S" import --level district "$work/scale$scale/districts.geojson"
run "import communities" "$W" -s "$S" import --level community "$work/scale$scale/communities.geojson"
run "import grids" "$W" -s "$S" import --level grid "$work/scale$scale/grids.geojson"
/usr/bin/time -o "$work/time.txt" -f "validate: %e s wall, %M KB max RSS" "$W" -s "$S" validate --json > "$work/validate.json"
cat "$work/time.txt"
grep -o '"units":{[^}]*},"ok":[a-z]*' "$work/validate.json"
grep -q '"ok":true,"faults":\[\]' "$work/validate.json" && echo "validation: 0 faults" || { echo "validation FAILED"; exit 1; }
