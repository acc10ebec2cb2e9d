#!/usr/bin/env bash
# The generator (wangge gen) and the bundled sample it made:
#   - same seed -> byte-identical files (and geodata/ is exactly `wangge gen --seed 1`);
#     another seed -> another city;
#   - the sample imports and validates with zero faults at all three levels;
#   - every household lands in exactly one work grid, the one the generator put it in, and
#     the totals per grid, community and district add up to what the generator wrote;
#   - events land in the grid the generator placed them in;
#   - the thematic layers overlap each other and cut across communities (areas measured
#     with SpatiaLite on the ellipsoid, independently of wangge);
#   - --scale N offices side by side validate too; bad options are refused.
set -uo pipefail
W=$1
SRC=$2
WORK=$3
. "$SRC/tests/cli/lib.sh"
mkdir -p "$WORK"

D="$WORK/gen-seed1"
rm -rf "$D" "$WORK/gen-seed1b" "$WORK/gen-seed2"
expect_exit 0 "$W" gen --seed 1 "$D"
expect_in "1 office(s), 9 communities, 97 grids" "$out"
expect_in "110 workers" "$out"
expect_in "111 rental + 63 family-planning grids" "$out"
expect_exit 0 "$W" gen --quiet --seed 1 "$WORK/gen-seed1b"
expect_exit 0 diff -r "$D" "$WORK/gen-seed1b"
expect_exit 0 diff -r -x README.md "$D" "$SRC/geodata"
expect_exit 0 "$W" gen --quiet --seed 2 "$WORK/gen-seed2"
for f in districts.geojson grids.geojson addresses.csv events.csv roads.geojson; do
  expect_exit 1 cmp -s "$D/$f" "$WORK/gen-seed2/$f"
done
expect_eq "$(ls "$D" | tr '\n' ' ')" "addresses.csv categories.csv communities.geojson districts.geojson events.csv grids.geojson rivers.geojson roads.geojson summary.json thematic_family_planning.geojson thematic_rental.geojson workers.csv " "files written, no temporary file left"

# --- import the sample and validate it
S="$WORK/gen.sqlite"
rm -f "$S" "$S-wal" "$S-shm"
import_levels "$S" "$D"
expect_in "codes: 15 digits" "$out"
expect_exit 0 "$W" -s "$S" validate --json
expect_in '"units":{"district":1,"community":9,"grid":97},"ok":true,"faults":[]' "$out"
expect_in '"below_tolerance":{"count":0,' "$out"
expect_exit 0 "$W" -s "$S" publish
expect_exit 0 "$W" -s "$S" import --addresses "$D/addresses.csv"
expect_exit 0 "$W" -s "$S" import --events "$D/events.csv"
expect_in "imported 2000 of 2000 events" "$out"
expect_exit 0 "$W" -s "$S" import --workers "$D/workers.csv"
expect_in "imported 110 of 110 workers" "$out"
for layer in roads rivers thematic_rental thematic_family_planning; do
  expect_exit 0 "$W" -s "$S" import --layer "$layer" "$D/$layer.geojson"
done
expect_exit 0 "$W" -s "$S" assign --threads 2
expect_in "outside 0," "$out"

# --- households: each in exactly one grid, the generator's; totals add up
sqlite3 "$S" ".import --csv $D/addresses.csv gen_addr" ".import --csv $D/events.csv gen_evt"
total=$(sqlite3 "$S" "SELECT json_extract(readfile('$D/summary.json'), '\$.totals.households')")
expect_eq "$(sqlite3 "$S" "SELECT count(*), sum(households) FROM addresses")" \
  "$(sqlite3 "$S" "SELECT json_extract(readfile('$D/summary.json'), '\$.totals.addresses')")|$total" "addresses stored"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM addresses a JOIN assignments s ON s.generation = 1
  AND s.kind = 'address' AND s.item_id = a.id WHERE s.grid_code IS NOT NULL")" \
  "$(sqlite3 "$S" "SELECT count(*) FROM addresses")" "every address has a grid"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM addresses a JOIN gen_addr g ON g.code = a.code
  JOIN assignments s ON s.generation = 1 AND s.kind = 'address' AND s.item_id = a.id
  WHERE s.grid_code IS NOT g.grid")" "0" "addresses in a grid other than the generator's"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM (SELECT u.code, json_extract(u.props, '\$.households') AS want,
  (SELECT coalesce(sum(a.households), 0) FROM assignments s JOIN addresses a ON a.id = s.item_id
    WHERE s.generation = 1 AND s.kind = 'address' AND s.grid_code = u.code) AS got
  FROM units u WHERE u.level = 3) WHERE want IS NOT got")" "0" "grids whose households differ from the generator's"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM (
  SELECT json_extract(c.value, '\$.code'), json_extract(c.value, '\$.households')
    FROM json_each(readfile('$D/summary.json'), '\$.offices[0].communities') c
  EXCEPT SELECT substr(s.grid_code, 1, 12), sum(a.households) FROM assignments s
    JOIN addresses a ON a.id = s.item_id WHERE s.generation = 1 AND s.kind = 'address' GROUP BY 1)")" \
  "0" "communities whose households differ from summary.json"
expect_eq "$(sqlite3 "$S" "SELECT json_extract(props, '\$.households') FROM units WHERE level = 1")" "$total" "district households"
expect_eq "$(sqlite3 "$S" "SELECT sum(json_extract(props, '\$.households')) FROM units WHERE level = 2")" "$total" "community households add up"
sqlite3 "$S" "SELECT 'grid households: min ' || min(h) || ', max ' || max(h) || ', mean ' || round(avg(h), 1)
  FROM (SELECT json_extract(props, '\$.households') AS h FROM units WHERE level = 3)"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units WHERE level = 3
  AND json_extract(props, '\$.households') NOT BETWEEN 100 AND 700")" "0" "grids far off the ~310 household mean"

# --- events: in the grid the generator placed them in (events keep file order as ids)
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM events e JOIN gen_evt g ON g.rowid = e.id
  JOIN assignments s ON s.generation = 1 AND s.kind = 'event' AND s.item_id = e.id
  WHERE s.grid_code IS NOT g.grid")" "0" "events in a grid other than the generator's"
expect_eq "$(sqlite3 "$S" "SELECT count(DISTINCT category) > 20, min(reported_at) >= '2026-10-01',
  max(reported_at) < '2026-10-31' FROM events")" "1|1|1" "event categories and 30-day window"

# --- geometry facts measured by SpatiaLite
expect_eq "$(SQ "$S" "SELECT count(*) FROM units WHERE level = 3 AND NumGeometries(geom) <> 1")" "0" "grids that are not one polygon"
district_m2=$(SQ "$S" "SELECT Area(geom, 1) FROM units WHERE level = 1")
SQ "$S" > "$WORK/gen-thematic.txt" <<'SQL'
SELECT count(*), sum(a) FROM (
  SELECT Area(Intersection(r.geom, f.geom), 1) AS a FROM layer_features r, layer_features f
   WHERE r.layer = 'thematic_rental' AND f.layer = 'thematic_family_planning'
     AND Intersects(r.geom, f.geom)) WHERE a > 1;
SELECT r.layer, count(*) FROM (
  SELECT r.id, r.layer, max(Area(Intersection(r.geom, u.geom), 1)) / Area(r.geom, 1) AS share
    FROM layer_features r JOIN units u ON u.level = 2 AND Intersects(r.geom, u.geom)
   WHERE r.layer LIKE 'thematic_%' GROUP BY r.id) r WHERE share < 0.99 GROUP BY r.layer ORDER BY r.layer;
SQL
cat "$WORK/gen-thematic.txt"
pairs=$(sed -n 1p "$WORK/gen-thematic.txt" | cut -d'|' -f1)
overlap=$(sed -n 1p "$WORK/gen-thematic.txt" | cut -d'|' -f2)
echo "district ${district_m2} m2; rental x family-planning: $pairs overlapping pairs, ${overlap} m2 of overlap"
# both layers tile the district, so their overlap is the whole district (to 0.1 %), shared
# among many more pairs than either layer has grids: they cross each other everywhere
expect_eq "$(awk -v a="$overlap" -v d="$district_m2" 'BEGIN { r = a / d; print (r > 0.999 && r < 1.001) }')" "1" "overlap area vs district area"
expect_eq "$(awk -v p="$pairs" 'BEGIN { print (p > 2 * 111) }')" "1" "overlapping pairs ($pairs)"
# not nested: most thematic grids straddle community lines
expect_eq "$(awk -F'|' '$1 == "thematic_family_planning" { print ($2 >= 30) }' "$WORK/gen-thematic.txt")" "1" "family-planning grids across communities"
expect_eq "$(awk -F'|' '$1 == "thematic_rental" { print ($2 >= 40) }' "$WORK/gen-thematic.txt")" "1" "rental grids across communities"

# --- several offices side by side
D3="$WORK/gen-scale3"
S3="$WORK/gen-scale3.sqlite"
rm -rf "$D3" "$S3" "$S3-wal" "$S3-shm"
expect_exit 0 "$W" gen --quiet --scale 3 --seed 7 "$D3"
import_levels "$S3" "$D3"
expect_exit 0 "$W" -s "$S3" validate --json
expect_in '"units":{"district":3,"community":27,"grid":291},"ok":true,"faults":[]' "$out"
expect_eq "$(sqlite3 "$S3" "SELECT group_concat(code, ' ') FROM (SELECT code FROM units WHERE level = 1 ORDER BY code)")" \
  "440307006 440307007 440307008" "office codes"
expect_eq "$(SQ "$S3" "SELECT count(*) FROM units a, units b WHERE a.level = 1 AND b.level = 1 AND a.id < b.id
  AND Intersects(a.geom, b.geom)")" "0" "offices that touch"
expect_eq "$(sqlite3 "$S3" "SELECT count(DISTINCT code) FROM units")" "321" "distinct codes"

# --- bad options
expect_exit 1 "$W" gen --scale 0 "$WORK/gen-bad"
expect_exit 1 "$W" gen --scale 1000 "$WORK/gen-bad"
expect_in "scale must be 1 to 999" "$err"
expect_exit 1 "$W" gen --county 4403 "$WORK/gen-bad"
expect_in "county code must be 6 digits" "$err"
expect_exit 1 "$W" gen --street 998 --scale 3 "$WORK/gen-bad"
expect_in "do not fit in 3 digits" "$err"
expect_exit 1 "$W" gen --grids 5 "$WORK/gen-bad"
expect_exit 1 "$W" gen --seed -3 "$WORK/gen-bad"
expect_exit 1 "$W" gen
expect_exit 2 "$W" gen --quiet /proc/wangge-cannot-write-here
expect_in "cannot create" "$err"
expect_eq "$(ls "$WORK/gen-bad" 2>/dev/null | wc -l)" "0" "nothing written for refused options"
finish
