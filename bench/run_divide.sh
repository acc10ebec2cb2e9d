#!/usr/bin/env bash
# Division figures (issue 5's targets), printed:
#   - a 5,000-household community (wangge gen --households 5000 --communities 1) into 15 grids:
#     target < 1 s;
#   - the whole sample office (geodata/, 9 communities, 30,003 households): divide with band
#     300-500 and 多网合一 of its two thematic layers: target < 10 s each;
#   - balance: max |deviation| from the target per community, the repaired plan against plain
#     METIS on the same base units (METIS's own partition, first seed); target <= 3 % where grids
#     hold >= 20 base units, and better than plain METIS.
# Dry runs: nothing is written. Times are wall clock of the whole command (store reads
# included) and the library's own runtime_ms.
# usage: bench/run_divide.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
[ -x "$build/tools/wangge" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
W="$build/tools/wangge"
work="$build/bench-data/divide"
rm -rf "$work"
mkdir -p "$work"

load() { # load STORE DIR: a city directory into a new store (units, addresses, roads, layers)
  local s=$1 d=$2
  "$W" -s "$s" import --level district "$d/districts.geojson" >/dev/null
  "$W" -s "$s" import --level community "$d/communities.geojson" >/dev/null
  "$W" -s "$s" import --level grid "$d/grids.geojson" >/dev/null
  "$W" -s "$s" publish >/dev/null
  "$W" -s "$s" import --addresses "$d/addresses.csv" >/dev/null
  for layer in roads rivers thematic_rental thematic_family_planning; do
    "$W" -s "$s" import --layer "$layer" "$d/$layer.geojson" >/dev/null
  done
}
plan() { # plan LABEL TARGET_S STORE ARGS...: times a dry run, keeps its JSON in $work/LABEL.json
  local label=$1 target=$2 s=$3; shift 3
  /usr/bin/time -o "$work/time.txt" -f "%e" "$W" -s "$s" "$@" --dry-run --json > "$work/$label.json"
  local wall; wall=$(cat "$work/time.txt")
  local J="readfile('$work/$label.json')"
  sqlite3 -batch -noheader :memory: "SELECT printf('%-34s %5.2f s wall (library %6.0f ms)  %s households -> %s grids   [target < %s s: %s]',
      '$label', $wall, json_extract($J, '\$.runtime_ms'), json_extract($J, '\$.households'), json_extract($J, '\$.grids'),
      '$target', CASE WHEN $wall < $target THEN 'met' ELSE 'MISSED' END)"
}
balance() { # balance LABEL: per community, units per grid and max |deviation|, repaired vs plain METIS
  local J="readfile('$work/$1.json')"
  sqlite3 -batch -noheader :memory: "
    SELECT printf('  %-14s %5d hh %3d grids %5.1f units/grid  max |dev| %5.2f %% (METIS alone %6.2f %%)  cut on roads %5.1f %%%s',
      json_extract(p.value, '\$.community'), json_extract(p.value, '\$.households'), json_extract(p.value, '\$.grids'),
      1.0 * json_extract(p.value, '\$.units') / json_extract(p.value, '\$.grids'),
      json_extract(p.value, '\$.max_abs_deviation_pct'), coalesce(json_extract(p.value, '\$.metis_max_abs_deviation_pct'), -1),
      100 * json_extract(p.value, '\$.cut_on_roads_share'),
      CASE WHEN json_extract(p.value, '\$.units') >= 20 * json_extract(p.value, '\$.grids')
           THEN CASE WHEN json_extract(p.value, '\$.max_abs_deviation_pct') <= 3 THEN '  [<= 3 %: met]' ELSE '  [<= 3 %: MISSED]' END
           ELSE '' END)
    FROM json_each($J, '\$.plans') p;
    SELECT printf('  %s: worst grid %.2f %% off (plain METIS %.2f %%), %d of %d communities better than plain METIS, %d equal',
      '$1', max(json_extract(p.value, '\$.max_abs_deviation_pct')), max(json_extract(p.value, '\$.metis_max_abs_deviation_pct')),
      sum(json_extract(p.value, '\$.max_abs_deviation_pct') < json_extract(p.value, '\$.metis_max_abs_deviation_pct')),
      count(*), sum(json_extract(p.value, '\$.max_abs_deviation_pct') = json_extract(p.value, '\$.metis_max_abs_deviation_pct')))
    FROM json_each($J, '\$.plans') p;"
}

echo "== wangge divide ($(nproc) cores, $(basename "$build"))"
"$W" gen --quiet --seed 1 --households 5000 --communities 1 --grids 15 "$work/c5000"
load "$work/c5000.sqlite" "$work/c5000"
load "$work/sample.sqlite" "$here/geodata"
plan "5000 households, 15 grids" 1 "$work/c5000.sqlite" divide --community 440307006001 --grids 15
plan "5000 households, band 300-500" 1 "$work/c5000.sqlite" divide --community 440307006001 --band 300-500
plan "5000 households, 5 grids" 1 "$work/c5000.sqlite" divide --community 440307006001 --grids 5
plan "sample office, band 300-500" 10 "$work/sample.sqlite" divide --district 440307006 --band 300-500
plan "sample office, 多网合一" 10 "$work/sample.sqlite" merge --layers thematic_rental,thematic_family_planning
echo "== balance"
for label in "5000 households, 15 grids" "5000 households, band 300-500" "5000 households, 5 grids" \
             "sample office, band 300-500" "sample office, 多网合一"; do
  echo "$label"
  balance "$label"
done
