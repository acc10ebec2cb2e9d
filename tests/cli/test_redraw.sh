#!/usr/bin/env bash
# Redrawing one community of the bundled sample through generations, end to end:
#   - the sample (units, addresses, events, workers) is published as generation 1, with every
#     address and event assigned by the publish itself;
#   - two neighbouring grids of one community are replaced by a hand-made cut of their union
#     (SpatiaLite SQL writes the GeoJSON: the community's other grids as they are, and the
#     union cut in two across its longer side);
#   - codes: the unchanged grids keep theirs, the two new ones take the two old codes in the
#     assignment that keeps most households (checked against both assignments in SQL);
#   - the diff lists exactly the addresses and events whose grid changes, compared with an
#     independent point-in-polygon pass in SpatiaLite (ST_Covers), and the households per
#     grid after; the redrawn grids' workers are listed;
#   - publish: rows outside the community untouched, every address and event assigned in
#     generation 2 as the diff said; lookup answers the new grid;
#   - rollback, a draft made after it holding generation 1, discard; a draft with a gap is
#     refused with the fault named; bad edits refused with their exit codes.
set -uo pipefail
W=$1
SRC=$2
WORK=$3
. "$SRC/tests/cli/lib.sh"
mkdir -p "$WORK"
T="$WORK/redraw"
rm -rf "$T"
mkdir -p "$T"
S="$T/s.sqlite"
G="$SRC/geodata"
C=440307006003 # the community redrawn

# --- generation 1: the sample, points imported before the publish assigns them
import_levels "$S" "$G"
expect_exit 0 "$W" -s "$S" import --addresses "$G/addresses.csv"
expect_exit 0 "$W" -s "$S" import --events "$G/events.csv"
expect_exit 0 "$W" -s "$S" import --workers "$G/workers.csv"
expect_exit 0 "$W" -s "$S" publish
expect_in "generation 1 is active" "$out"
npoints=$(sqlite3 "$S" "SELECT (SELECT count(*) FROM addresses) + (SELECT count(*) FROM events)")
expect_eq "$npoints" "4776" "addresses and events of the sample"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM assignments WHERE generation = 1")" "$npoints" "assigned by the publish"
expect_exit 2 "$W" -s "$S" diff
expect_in "no draft generation" "$err"

# --- the two neighbouring grids with the longest shared edge
read -r A B < <(SQ "$S" "SELECT a.code || ' ' || b.code FROM units a JOIN units b ON a.level = 3 AND b.level = 3
  AND a.parent_code = '$C' AND b.parent_code = '$C' AND a.code < b.code
  WHERE ST_Touches(a.geom, b.geom) ORDER BY GLength(ST_Intersection(a.geom, b.geom), 1) DESC LIMIT 1")
checks=$((checks + 1))
[ -n "$A" ] && [ -n "$B" ] || fail "no neighbouring grids found in $C"
others=$(sqlite3 "$S" "SELECT group_concat(code, ' ') FROM (SELECT code FROM units WHERE level = 3 AND parent_code = '$C' AND code NOT IN ('$A', '$B') ORDER BY code)")
nothers=$(echo "$others" | wc -w)
SQ "$S" > "$T/redraw.geojson" <<SQL
CREATE TEMP TABLE u AS SELECT ST_Union(geom) AS g FROM units WHERE code IN ('$A', '$B');
CREATE TEMP TABLE cut AS SELECT (MbrMaxX(g) - MbrMinX(g)) * cos(radians(MbrMinY(g))) > MbrMaxY(g) - MbrMinY(g) AS vertical,
  (MbrMinX(g) + MbrMaxX(g)) / 2 + 3.1e-8 AS xm, (MbrMinY(g) + MbrMaxY(g)) / 2 + 3.1e-8 AS ym,
  MbrMinX(g) - 1 AS x0, MbrMaxX(g) + 1 AS x1, MbrMinY(g) - 1 AS y0, MbrMaxY(g) + 1 AS y1 FROM u;
CREATE TEMP TABLE parts AS
  SELECT 1 AS k, CastToMultiPolygon(CollectionExtract(ST_Intersection(u.g, CASE WHEN vertical
    THEN BuildMbr(x0, y0, xm, y1, 4326) ELSE BuildMbr(x0, ym, x1, y1, 4326) END), 3)) AS g FROM u, cut
  UNION ALL
  SELECT 2, CastToMultiPolygon(CollectionExtract(ST_Intersection(u.g, CASE WHEN vertical
    THEN BuildMbr(xm, y0, x1, y1, 4326) ELSE BuildMbr(x0, y0, x1, ym, 4326) END), 3)) FROM u, cut;
SELECT '{"type":"FeatureCollection","features":[' || group_concat(f, ',') || ']}' FROM (
  SELECT '{"type":"Feature","properties":{},"geometry":' || AsGeoJSON(geom, 15) || '}' AS f FROM
    (SELECT geom FROM units WHERE level = 3 AND parent_code = '$C' AND code NOT IN ('$A', '$B') ORDER BY code)
  UNION ALL SELECT '{"type":"Feature","properties":{},"geometry":' || AsGeoJSON(g, 15) || '}' FROM
    (SELECT g FROM parts ORDER BY k));
SQL
rows_outside=$(sqlite3 "$S" "SELECT group_concat(id || ':' || first_gen || ':' || coalesce(last_gen, '-')) FROM units WHERE NOT (level = 3 AND parent_code = '$C')")

# --- the edit: unchanged grids keep their codes, the two parts take A and B
expect_exit 0 "$W" -s "$S" draft replace --level grid --parent "$C" "$T/redraw.geojson"
expect_in "draft generation 2: $((nothers + 2)) units written" "$out"
i=0
for code in $others; do
  expect_in "feature $i: $code" "$out"
  i=$((i + 1))
done
P1=$(echo "$out" | sed -n "s/^feature $nothers: //p")
P2=$(echo "$out" | sed -n "s/^feature $((nothers + 1)): //p")
expect_eq "$(printf '%s\n' "$P1" "$P2" | sort | tr '\n' ' ')" "$(printf '%s\n' "$A" "$B" | sort | tr '\n' ' ')" "the parts take the two old codes"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units WHERE level = 3 AND parent_code = '$C' AND first_gen = 1 AND last_gen IS NULL")" \
  "$nothers" "unchanged grids keep their rows"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units WHERE first_gen = 2")" "2" "two new rows"
expect_eq "$(sqlite3 "$S" "SELECT group_concat(id || ':' || first_gen || ':' || coalesce(last_gen, '-')) FROM units WHERE NOT (level = 3 AND parent_code = '$C')")" \
  "$rows_outside" "rows outside the community untouched"
expect_exit 0 "$W" -s "$S" validate
expect_in "generation 2: 0 faults" "$out"

# --- independent point-in-polygon pass: the grid of every address and event of the community
#     in both generations (SpatiaLite ST_Covers), households per pair of old and new grid
SQ "$S" > "$T/pip.txt" <<SQL
CREATE TEMP TABLE g AS
  SELECT 1 AS gen, code, geom FROM units WHERE level = 3 AND parent_code = '$C' AND first_gen <= 1 AND coalesce(last_gen, 1e18) >= 1
  UNION ALL SELECT 2, code, geom FROM units WHERE level = 3 AND parent_code = '$C' AND first_gen <= 2 AND coalesce(last_gen, 1e18) >= 2;
CREATE TEMP TABLE pts AS SELECT 'address' AS kind, id, households AS hh, MakePoint(lon, lat, 4326) AS pt FROM addresses
  UNION ALL SELECT 'event', id, 0, MakePoint(lon, lat, 4326) FROM events;
CREATE TEMP TABLE hit AS SELECT p.kind, p.id, p.hh, g.gen, g.code FROM pts p JOIN g ON MbrWithin(p.pt, g.geom) AND ST_Covers(g.geom, p.pt);
SELECT 'ambiguous ' || count(*) FROM (SELECT 1 FROM hit GROUP BY kind, id, gen HAVING count(*) > 1);
SELECT 'move ' || h1.kind || ' ' || h1.id || '|' || h1.code || '|' || h2.code FROM hit h1 JOIN hit h2
  ON h1.kind = h2.kind AND h1.id = h2.id AND h1.gen = 1 AND h2.gen = 2 WHERE h1.code <> h2.code ORDER BY h1.kind, h1.id;
SELECT 'pair ' || h1.code || ' ' || h2.code || ' ' || sum(h1.hh) FROM hit h1 JOIN hit h2
  ON h1.kind = 'address' AND h2.kind = 'address' AND h1.id = h2.id AND h1.gen = 1 AND h2.gen = 2 GROUP BY h1.code, h2.code;
SELECT 'after ' || code || ' ' || sum(hh) FROM hit WHERE kind = 'address' AND gen = 2 GROUP BY code;
SQL
expect_in "ambiguous 0" "$(cat "$T/pip.txt")"
pair() { awk -v a="$1" -v b="$2" '$1 == "pair" && $2 == a && $3 == b { print $4 }' "$T/pip.txt"; }
keep=$(( $(pair "$A" "$A") + $(pair "$B" "$B") + 0 ))
swap=$(( $(pair "$A" "$B") + $(pair "$B" "$A") + 0 ))
checks=$((checks + 1))
[ "$keep" -ge "$swap" ] || fail "codes keep $keep households under their code, the other assignment $swap"

expect_exit 0 "$W" -s "$S" diff --json -o "$T/diff.json"
items() { sqlite3 -batch "$S" "SELECT '$1 ' || json_extract(value, '\$.id') || '|' || json_extract(value, '\$.from') || '|' || json_extract(value, '\$.to') FROM json_each(readfile('$T/diff.json'), '\$.$2.items')"; }
want=$(grep '^move ' "$T/pip.txt" | sed 's/^move //')
got=$( (items address addresses; items event events) )
expect_eq "$got" "$want" "moves in the diff vs SpatiaLite point-in-polygon"
nmoved=$(echo "$want" | grep -c '^address')
checks=$((checks + 1))
[ "$nmoved" -ge 5 ] || fail "the cut moves only $nmoved addresses: a weak test"
dj() { sqlite3 -batch "$S" "SELECT $1 FROM (SELECT readfile('$T/diff.json') AS j)"; }
expect_eq "$(dj "json_extract(j, '\$.addresses.changed') || ' ' || json_array_length(json_extract(j, '\$.units.changed')) || ' ' || json_array_length(json_extract(j, '\$.units.added')) || ' ' || json_extract(j, '\$.units.unchanged.grid')")" \
  "$nmoved 2 0 95" "diff counts"
for code in "$A" "$B"; do
  want_hh=$(awk -v c="$code" '$1 == "after" && $2 == c { print $3 }' "$T/pip.txt")
  got_hh=$(sqlite3 -batch "$S" "SELECT json_extract(value, '\$.to') FROM json_each(readfile('$T/diff.json'), '\$.households.grid') WHERE json_extract(value, '\$.code') = '$code'")
  expect_eq "$got_hh" "$want_hh" "households of $code after the redraw"
done
expect_eq "$(sqlite3 -batch "$S" "SELECT group_concat(json_extract(value, '\$.id'), ' ') FROM json_each(readfile('$T/diff.json'), '\$.workers') WHERE json_extract(value, '\$.home_changed')")" \
  "W$A W$B" "workers of the redrawn grids"
expect_exit 0 "$W" -s "$S" diff
expect_in "units: 0 added, 0 removed, 2 changed (2 in geometry), 105 unchanged" "$out"
expect_in "addresses: $nmoved of 2776 change grid" "$out"

# --- publish: every point assigned in generation 2 as the diff said, nothing else moved
expect_exit 0 "$W" -s "$S" publish
expect_in "generation 2 is active" "$out"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM assignments WHERE generation = 2")" "$npoints" "all assigned in generation 2"
stored=$(sqlite3 "$S" "SELECT a.kind || ' ' || a.item_id || '|' || a.grid_code || '|' || b.grid_code FROM assignments a JOIN assignments b
  ON a.kind = b.kind AND a.item_id = b.item_id AND a.generation = 1 AND b.generation = 2 WHERE a.grid_code IS NOT b.grid_code ORDER BY a.kind, a.item_id")
expect_eq "$stored" "$want" "stored assignments of generation 2 change exactly as the diff said"
expect_eq "$(sqlite3 "$S" "SELECT group_concat(id || ':' || first_gen || ':' || coalesce(last_gen, '-')) FROM units WHERE NOT (level = 3 AND parent_code = '$C')")" \
  "$rows_outside" "rows outside the community untouched after publish"
pt=$(SQ "$S" "SELECT printf('%.9f %.9f', X(p), Y(p)) FROM (SELECT ST_PointOnSurface(geom) AS p FROM units WHERE code = '$P1' AND first_gen = 2)")
expect_exit 0 "$W" -s "$S" lookup $pt
expect_in ",$P1" "$out"
expect_exit 0 "$W" -s "$S" assign
expect_in "assigned $npoints, outside 0" "$out"

# --- rollback; a draft made then holds generation 1; discard
expect_exit 0 "$W" -s "$S" rollback
expect_in "generation 1 is active (generation 2 rolled back)" "$out"
expect_exit 0 "$W" -s "$S" generations
expect_eq "$(echo "$out" | awk '$2 == "active" { print $1 }')" "1" "active after rollback"
expect_exit 2 "$W" -s "$S" rollback
expect_in "no earlier generation" "$err"
expect_exit 0 "$W" -s "$S" lookup $pt
expect_in ",$(SQ "$S" "SELECT code FROM units WHERE level = 3 AND first_gen <= 1 AND coalesce(last_gen, 9) >= 1 AND ST_Covers(geom, MakePoint($(echo $pt | tr ' ' ','), 4326))")" "$out"
expect_exit 0 "$W" -s "$S" draft new
expect_in "draft generation 3" "$out"
expect_exit 0 "$W" -s "$S" diff --from 1 --to 3
expect_in "units: 0 added, 0 removed, 0 changed (0 in geometry), 107 unchanged" "$out"
expect_in "addresses: 0 of 2776 change grid" "$out"
expect_exit 0 "$W" -s "$S" diff --from 2 --to 3
expect_in "addresses: $nmoved of 2776 change grid" "$out"
expect_exit 0 "$W" -s "$S" draft discard
expect_in "draft generation 3 discarded" "$out"
expect_exit 2 "$W" -s "$S" draft discard

# --- merge keeps the code of the grid with more households; a gap is refused
bigger=$(sqlite3 "$S" "SELECT grid_code FROM assignments s JOIN addresses a ON a.id = s.item_id AND s.kind = 'address' AND s.generation = 1
  WHERE grid_code IN ('$A', '$B') GROUP BY grid_code ORDER BY sum(households) DESC LIMIT 1")
expect_exit 0 "$W" -s "$S" draft merge "$A,$B" --name 合并网格
expect_in "merged 2 units into $bigger" "$out"
expect_exit 0 "$W" -s "$S" validate
expect_exit 0 "$W" -s "$S" draft discard
SQ "$S" > "$T/gap.geojson" <<SQL
SELECT '{"type":"Feature","properties":{},"geometry":' || AsGeoJSON(ST_Buffer(geom, -0.0002), 15) || '}' FROM units WHERE code = '$A' AND first_gen = 1;
SQL
expect_exit 0 "$W" -s "$S" draft split "$A" "$T/gap.geojson"
expect_in "feature 0: $A" "$out"
expect_exit 2 "$W" -s "$S" publish
expect_in "gap" "$err"
expect_in "$C" "$err"
expect_in "not published" "$err"
expect_eq "$(sqlite3 "$S" "SELECT id FROM generations WHERE status = 'active'")" "1" "still generation 1"
expect_exit 0 "$W" -s "$S" draft discard

# --- bad edits
expect_exit 2 "$W" -s "$S" draft replace --level grid --parent 440307006099 "$T/redraw.geojson"
expect_in "no community 440307006099" "$err"
expect_exit 1 "$W" -s "$S" draft merge "$A,440307006001001"
expect_in "different parents" "$err"
expect_exit 2 "$W" -s "$S" draft split 440307006003999 "$T/redraw.geojson"
expect_exit 1 "$W" -s "$S" draft merge "$A"
expect_exit 1 "$W" -s "$S" draft replace --parent "$C" "$T/redraw.geojson"
expect_exit 1 "$W" -s "$S" draft frobnicate
printf '{"type":"Feature","properties":{"code":"X"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[114.48,22.62],[114.48,22.61],[114.47,22.62],[114.47,22.61]]]}}\n' > "$T/bow.geojson"
expect_exit 2 "$W" -s "$S" draft split "$A" "$T/bow.geojson"
expect_in "feature 0 (code X): rejected: invalid" "$err"
expect_exit 2 "$W" -s "$S" draft discard
expect_in "no draft generation" "$err"
expect_exit 0 "$W" draft --help
expect_in "wangge draft split CODE" "$out"
finish
