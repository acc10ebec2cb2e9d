#!/usr/bin/env bash
# wangge divide and wangge merge on the bundled sample (geodata/: 9 communities, 30,003
# households, roads, river, 111 + 63 thematic grids), every figure measured independently with
# SpatiaLite SQL on what was written into the draft:
#   - band 300-500 for the whole office: every grid in the band (households by ST_Contains of
#     the addresses), one polygon each, no gap, overlap or spill against its community
#     (ST_Area on the ellipsoid), >= 80 % of the boundary between grids on roads or rivers
#     (shared boundaries overlaid with the road and river lines), the draft validates;
#   - the same command gives the same bytes; a dry run writes nothing;
#   - --grids N gives exactly N grids;
#   - bad input: usage errors (exit 1), an unknown community, an impossible band with the
#     feasible choices, an unknown layer (exit 2);
#   - merge of the two thematic layers: about 97 work grids, valid.
set -uo pipefail
W=$1
SRC=$2
WORK=$3
. "$SRC/tests/cli/lib.sh"
mkdir -p "$WORK"
D="$SRC/geodata"
S="$WORK/divide.sqlite"
rm -f "$S" "$S-wal" "$S-shm"
import_levels "$S" "$D"
expect_exit 0 "$W" -s "$S" publish
expect_exit 0 "$W" -s "$S" import --addresses "$D/addresses.csv"
for layer in roads rivers thematic_rental thematic_family_planning; do
  expect_exit 0 "$W" -s "$S" import --layer "$layer" "$D/$layer.geojson"
done

# --- bad input
expect_exit 1 "$W" -s "$S" divide --band 300-500
expect_exit 1 "$W" -s "$S" divide --community 440307006001
expect_exit 1 "$W" -s "$S" divide --community 440307006001 --grids 3 --band 300-500
expect_exit 1 "$W" -s "$S" divide --community 440307006001 --band 500-300
expect_exit 1 "$W" -s "$S" divide --community 440307006001 --grids 0
expect_exit 1 "$W" -s "$S" divide --community 440307006001 --grids 1000
expect_exit 1 "$W" -s "$S" merge
expect_exit 2 "$W" -s "$S" divide --community 440307006099 --grids 3 --dry-run
expect_in "no community or district '440307006099'" "$err"
expect_exit 2 "$W" -s "$S" divide --community 440307006001 --band 460-480 --dry-run
expect_in "community 440307006001 (葵新社区) has 1,374 households: band 460–480 cannot be met" "$err"
expect_in "e.g. 460–687 (2 grids) or 458–480 (3 grids)" "$err"
expect_exit 0 "$W" -s "$S" divide --community 440307006001 --band 460-480 --dry-run --best-effort
expect_in "NOT met" "$out"
expect_exit 2 "$W" -s "$S" merge --layers no_such_layer --dry-run
expect_in "no layer 'no_such_layer'" "$err"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM generations WHERE status = 'draft'")" 0 "failed runs write nothing"

# --- a dry run: the plan as JSON, twice the same bytes, nothing written
strip() { sed -E 's/"runtime_ms":[0-9.]+,?//g'; }
expect_exit 0 "$W" -s "$S" divide --district 440307006 --band 300-500 --dry-run --json --geometry
first=$(echo "$out" | strip)
echo "$out" > "$WORK/divide-plan.json"
expect_exit 0 "$W" -s "$S" divide --district 440307006 --band 300-500 --dry-run --json --geometry
expect_eq "$(echo "$out" | strip | md5sum)" "$(echo "$first" | md5sum)" "same input, same bytes"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM generations WHERE status = 'draft'")" 0 "a dry run writes nothing"
J="readfile('$WORK/divide-plan.json')"
planned=$(sqlite3 "$S" "SELECT json_extract($J, '\$.grids')")
expect_eq "$(sqlite3 "$S" "SELECT json_extract($J, '\$.households')")" 30003 "households planned"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM json_each($J, '\$.plans') p, json_each(p.value, '\$.work_grids') g
  WHERE json_extract(g.value, '\$.households') NOT BETWEEN 300 AND 500 OR json_extract(g.value, '\$.parts') != 1")" 0 \
  "planned grids outside the band or in pieces"

# --- write it, then measure what is stored
expect_exit 0 "$W" -s "$S" divide --district 440307006 --band 300-500
expect_in "$planned work grids" "$out"
expect_in "written into the draft" "$out"
G=$(sqlite3 "$S" "SELECT id FROM generations WHERE status = 'draft'")
in_gen() { echo "$1first_gen <= $G AND ($1last_gen IS NULL OR $1last_gen >= $G)"; }
IN=$(in_gen "")
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units WHERE level = 3 AND $IN")" "$planned" "grids in the draft"
expect_eq "$(SQ "$S" "SELECT count(*) FROM units WHERE level = 3 AND $IN AND ST_NumGeometries(geom) != 1")" 0 \
  "grids in more than one piece"
# households by point in polygon: every address in exactly one grid, every grid in the band
SQ "$S" "CREATE TABLE hh AS SELECT g.code, g.parent_code, count(*) AS n, sum(a.households) AS hh
  FROM units g JOIN addresses a ON MbrContains(g.geom, MakePoint(a.lon, a.lat, 4326))
   AND ST_Contains(g.geom, MakePoint(a.lon, a.lat, 4326))
  WHERE g.level = 3 AND $(in_gen g.) GROUP BY g.code" >/dev/null
expect_eq "$(sqlite3 "$S" "SELECT sum(n), sum(hh), count(*) FROM hh")" "2776|30003|$planned" "addresses, households, grids"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM hh WHERE hh NOT BETWEEN 300 AND 500")" 0 "grids outside 300-500"
# coverage of each community: gap, spill and overlap on the ellipsoid, in m2
cover=$(SQ "$S" "SELECT max(ST_Area(ST_Difference(c.geom, u.geom), 1)), max(ST_Area(ST_Difference(u.geom, c.geom), 1))
  FROM units c JOIN (SELECT parent_code, ST_Union(geom) AS geom FROM units WHERE level = 3 AND $IN GROUP BY parent_code) u
    ON u.parent_code = c.code WHERE c.level = 2 AND $(in_gen c.)")
overlap=$(SQ "$S" "SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom), 1)), 0) FROM units a JOIN units b
  ON a.parent_code = b.parent_code AND a.code < b.code AND MbrIntersects(a.geom, b.geom)
  WHERE a.level = 3 AND b.level = 3 AND $(in_gen a.) AND $(in_gen b.)")
echo "largest gap|spill of a community, total overlap (m2): $cover, $overlap"
awk -v c="$cover" -v o="$overlap" 'BEGIN { n = split(c, v, "|"); exit !(n == 2 && v[1] != "" && v[1] < 0.001 && v[2] != "" && v[2] < 0.001 && o != "" && o < 0.001) }' ||
  fail "gap|spill $cover, overlap $overlap m2 (want < 0.001)"
checks=$((checks + 1))
# boundary between grids on roads or rivers: shared boundaries overlaid with the lines
shares=$(SQ "$S" "WITH r AS (SELECT ST_Buffer(ST_Union(geom), 0.000001) AS geom FROM layer_features
    WHERE layer IN ('roads', 'rivers')),
  s AS (SELECT ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom)) AS geom FROM units a JOIN units b
    ON a.parent_code = b.parent_code AND a.code < b.code AND MbrIntersects(a.geom, b.geom)
    WHERE a.level = 3 AND b.level = 3 AND $(in_gen a.) AND $(in_gen b.))
  SELECT sum(GLength(s.geom, 1)), sum(GLength(ST_Intersection(s.geom, r.geom), 1)) FROM s, r")
echo "boundary between grids, on roads or rivers (m): $shares"
awk -v s="$shares" 'BEGIN { split(s, v, "|"); exit !(v[1] > 1000 && v[2] >= 0.8 * v[1]) }' ||
  fail "less than 80 % of the boundary between grids on roads or rivers: $shares"
checks=$((checks + 1))
expect_exit 0 "$W" -s "$S" validate
expect_in "0 faults" "$out"

# --- exactly N grids
for n in 1 7 40; do
  expect_exit 0 "$W" -s "$S" divide --community 440307006009 --grids $n
  expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units WHERE level = 3 AND parent_code = '440307006009' AND $IN")" $n \
    "grids of 440307006009 after --grids $n"
done
expect_exit 0 "$W" -s "$S" validate
expect_in "0 faults" "$out"

# --- 多网合一: the two thematic layers into work grids
expect_exit 0 "$W" -s "$S" draft discard
expect_exit 0 "$W" -s "$S" merge --layers thematic_rental,thematic_family_planning
expect_in "from 174 thematic grids" "$out"
merged=$(echo "$out" | awk '/work grids from/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "work") print $i }')
echo "merge: 174 thematic grids -> $merged work grids"
awk -v n="$merged" 'BEGIN { exit !(n >= 90 && n <= 105) }' || fail "merge made $merged work grids, not about 97"
checks=$((checks + 1))
G=$(sqlite3 "$S" "SELECT id FROM generations WHERE status = 'draft'")
IN=$(in_gen "")
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units WHERE level = 3 AND $IN")" "$merged" "merged grids in the draft"
expect_exit 0 "$W" -s "$S" validate
expect_in "0 faults" "$out"
finish
