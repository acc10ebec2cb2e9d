#!/usr/bin/env bash
# The wangge command end to end on the bundled sample: import, validate, publish, lookup
# (with the boundary rule and outside distances checked against independent figures),
# assign, export, and the error paths with their exit codes.
set -uo pipefail
W=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S="$tmp/s.sqlite"
G="$SRC/tests/data/mini"

expect_exit 0 "$W" -s "$S" init
expect_exit 0 "$W" -s "$S" import --level district "$G/districts.geojson"
expect_in "imported 1 of 1 features into draft generation 1" "$out"
expect_exit 0 "$W" -s "$S" import --level community "$G/communities.geojson"
expect_exit 0 "$W" -s "$S" import --level grid "$G/grids.geojson"
expect_in "imported 8 of 8 features" "$out"
expect_in "codes: 15 digits" "$out"
expect_exit 0 "$W" -s "$S" validate
expect_in "0 faults" "$out"
expect_exit 0 "$W" -s "$S" publish
expect_in "generation 1 is active" "$out"

# interior, shared edge (east), shared vertex (north-east), community edge, outside
expect_exit 0 "$W" -s "$S" lookup 114.455 22.625
expect_in "114.455,22.625,440307006,440307006001,440307006001002" "$out"
expect_exit 0 "$W" -s "$S" lookup 114.45 22.625
expect_in ",440307006001002" "$out"
expect_exit 0 "$W" -s "$S" lookup 114.45 22.62
expect_in ",440307006001002" "$out"
expect_exit 0 "$W" -s "$S" lookup 114.46 22.615
expect_in ",440307006002,440307006002003" "$out"
expect_exit 0 "$W" -s "$S" lookup --json 114.50 22.62
expect_in '"outside":true' "$out"
expect_in '"nearest":{"code":"440307006002' "$out"
# independent figure: geodesic distance from (114.50, 22.62) to (114.48, 22.62) by PROJ's geod
want=$(echo "22.62 114.50 22.62 114.48" | geod +ellps=WGS84 -I +units=m -f "%.3f" | awk '{print $3}')
got=$(echo "$out" | sed 's/.*"distance_m":\([0-9.]*\).*/\1/')
checks=$((checks + 1))
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 0.5 && d > -0.5) }' ||
  fail "outside distance $got m, geod says $want m"
printf '114.455,22.625\n114.441,22.611\n' > "$tmp/pts.csv"
expect_exit 0 "$W" -s "$S" lookup --batch "$tmp/pts.csv"
expect_in "440307006001003" "$out"

# assignment: every sample address lies in the district; a second run changes nothing
expect_exit 0 "$W" -s "$S" import --addresses "$G/addresses.csv"
expect_in "imported 400 of 400 addresses" "$out"
expect_exit 0 "$W" -s "$S" import --events "$G/events.csv"
expect_in "imported 60 of 60 events" "$out"
expect_exit 0 "$W" -s "$S" assign
expect_in "assigned 460, outside 0, changed 0" "$out"
hh=$(awk -F, 'NR > 1 { s += $3 } END { print s }' "$G/addresses.csv")
expect_in "households assigned $hh;" "$out"
expect_exit 0 "$W" -s "$S" assign --changes "$tmp/changes.csv"
expect_in "changed 0 since the last run (generation 1), new 0" "$out"
expect_eq "$(wc -l < "$tmp/changes.csv")" "1" "changes file has only its header"
sql="SELECT count(*) FROM assignments WHERE generation = 1 AND grid_code = '440307006001002'"
n_sql=$(sqlite3 "$S" "$sql")
n_pts=$(awk -F, 'NR > 1 && $1 >= 114.45 && $1 < 114.46 && $2 >= 22.62 && $2 < 22.63' "$G/addresses.csv" "$G/events.csv" | wc -l)
expect_eq "$n_sql" "$n_pts" "points in grid 001002 by coordinates"

# export
expect_exit 0 "$W" -s "$S" export --level grid -o "$tmp/grids.geojson"
expect_eq "$(grep -o '"type":"Feature"' "$tmp/grids.geojson" | wc -l | tr -d ' ')" "8" "exported grids"
expect_exit 0 "$W" -s "$S" export --report
expect_in '"faults":[]' "$(echo "$out" | tr -d ' ')"

# a redraw: a second draft whose grid overlaps a sibling is refused on publish
cat > "$tmp/bad.geojson" <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"440307006001005","name":"overlapping"},"geometry":{"type":"Polygon","coordinates":[[[114.445,22.615],[114.455,22.615],[114.455,22.625],[114.445,22.625],[114.445,22.615]]]}}]}
JSON
expect_exit 0 "$W" -s "$S" import --level grid "$tmp/bad.geojson"
expect_in "draft generation 2" "$out"
expect_exit 2 "$W" -s "$S" validate
expect_in "overlap" "$out"
expect_exit 2 "$W" -s "$S" publish
expect_in "not published" "$err"
expect_exit 0 "$W" -s "$S" lookup 114.455 22.625
expect_in "440307006001002" "$out"

# bad input: each refused with a reason naming the feature, and nothing stored
cat > "$tmp/broken.geojson" <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"440307006002009"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[114.48,22.62],[114.48,22.61],[114.47,22.62],[114.47,22.61]]]}},
{"type":"Feature","properties":{"code":"440307006002010"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[114.48,22.61],[114.48,22.62],[114.47,22.62]]]}},
{"type":"Feature","properties":{"code":"440307006002011"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[114.48,22.61],[114.47,22.61]]]}},
{"type":"Feature","properties":{"code":"440307006002012"},"geometry":{"type":"Polygon","coordinates":[[[114.47,95],[114.48,22.61],[114.48,22.62],[114.47,95]]]}},
{"type":"Feature","properties":{"code":"440307006002013"},"geometry":{"type":"LineString","coordinates":[[114.47,22.61],[114.48,22.61]]}},
{"type":"Feature","properties":{"name":"no code"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[114.48,22.61],[114.48,22.62],[114.47,22.61]]]}},
{"type":"Feature","properties":{"code":"X1"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[114.48,22.61],[114.48,22.62],[114.47,22.61]]]}},
{"type":"Feature","properties":{"code":"440307006002014"},"geometry":{"type":"Polygon","coordinates":[[[114.47,22.61],[NaN,22.61],[114.48,22.62],[114.47,22.61]]]}}
]}
JSON
before=$(sqlite3 "$S" "SELECT count(*) FROM units")
expect_exit 2 "$W" -s "$S" import --level grid "$tmp/broken.geojson"
expect_in "feature 0 (code 440307006002009): rejected: invalid: Self-intersection" "$err"
expect_in "feature 1 (code 440307006002010): rejected: unclosed_ring" "$err"
expect_in "feature 2 (code 440307006002011): rejected: too_few_points" "$err"
expect_in "feature 3 (code 440307006002012): rejected: out_of_range" "$err"
expect_in "feature 4 (code 440307006002013): rejected: wrong_type" "$err"
expect_in "feature 5: rejected: missing_code" "$err"
expect_in "feature 6 (code X1): rejected: missing_parent" "$err"
expect_in "feature 7 (code 440307006002014): rejected: nan" "$err"
expect_in "8 of 8 features rejected; nothing was imported" "$err"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM units")" "$before" "units unchanged after refused import"
expect_exit 0 "$W" -s "$S" import --level grid --repair --skip-rejected "$tmp/broken.geojson"
expect_in "imported 2 of 8 features, 6 rejected, 2 repaired" "$out"
expect_in "repaired: invalid: Self-intersection" "$err"
expect_in "repaired: unclosed_ring: closed ring" "$err"

printf 'lon,lat,households\n114.45,22.62,3\n114.45,91,1\n114.45,x,1\n114.45,22.62,-2\n' > "$tmp/a.csv"
expect_exit 2 "$W" -s "$S" import --addresses "$tmp/a.csv"
expect_in "line 3: rejected: out_of_range" "$err"
expect_in "line 4: rejected: malformed" "$err"
expect_in "line 5: rejected: bad_households" "$err"
printf 'x,y\n1,2\n' > "$tmp/b.csv"
expect_exit 2 "$W" -s "$S" import --addresses "$tmp/b.csv"
expect_in "no 'lon' and 'lat' columns" "$err"
expect_exit 2 "$W" -s "$S" import --level grid "$tmp/missing.geojson"

# workers: imported, re-imported as updates; a bad roster refused whole
cat > "$tmp/workers.csv" <<'CSV'
id,name,phone,role,home_grid,lon,lat,on_duty
W440307006001001,张伟,13800138000,grid_worker,440307006001001,114.4512345,22.6212345,1
W440307006001002,李娜,13800138001,grid_worker,440307006001002,,,0
O440307006,王芳,,officer,,114.46,22.62,1
CSV
expect_exit 0 "$W" -s "$S" import --workers "$tmp/workers.csv"
expect_in "imported 3 of 3 workers (3 new, 0 updated)" "$out"
expect_eq "$(sqlite3 "$S" "SELECT name || '|' || home_grid || '|' || lon || '|' || on_duty FROM workers WHERE id = 'W440307006001001'")" \
  "张伟|440307006001001|114.4512345|1" "worker read back"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM workers WHERE lon IS NULL")" "1" "worker without a position"
expect_exit 0 "$W" -s "$S" import --workers "$tmp/workers.csv"
expect_in "imported 3 of 3 workers (0 new, 3 updated)" "$out"
printf 'id,name,role,lon,lat
W9,赵,boss,,
,钱,officer,,
W9,孙,officer,,
W8,李,officer,190,22.6
W7,周,officer,114.4,22.6
' > "$tmp/bad-workers.csv"
expect_exit 2 "$W" -s "$S" import --workers "$tmp/bad-workers.csv"
expect_in "line 2 (code W9): rejected: bad_role" "$err"
expect_in "line 3: rejected: missing_id" "$err"
expect_in "line 4 (code W9): rejected: duplicate_id" "$err"
expect_in "line 5 (code W8): rejected: bad_coordinates" "$err"
expect_in "4 of 5 workers rejected; nothing was imported" "$err"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM workers")" "3" "workers unchanged after refused import"
expect_exit 0 "$W" -s "$S" import --workers --replace --skip-rejected "$tmp/bad-workers.csv"
expect_in "imported 1 of 5 workers (1 new, 0 updated), 4 rejected" "$out"
expect_eq "$(sqlite3 "$S" "SELECT group_concat(id) FROM workers")" "W7" "workers replaced"
expect_exit 2 "$W" -s "$S" import --workers "$tmp/missing.csv"

# reference layers: lines and polygons under a name; listed with their counts
cat > "$tmp/roads.geojson" <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"R1","name":"深南大道","class":"arterial"},"geometry":{"type":"LineString","coordinates":[[114.44,22.62],[114.48,22.62]]}},
{"type":"Feature","properties":{"code":"R2","name":"桂庙路","class":"street"},"geometry":{"type":"MultiLineString","coordinates":[[[114.45,22.61],[114.45,22.63]],[[114.46,22.61],[114.46,22.63]]]}}
]}
JSON
cat > "$tmp/rental.geojson" <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"T1","theme":"rental"},"geometry":{"type":"Polygon","coordinates":[[[114.44,22.61],[114.46,22.61],[114.46,22.63],[114.44,22.63],[114.44,22.61]]]}},
{"type":"Feature","properties":{"code":"T2","theme":"rental"},"geometry":{"type":"Polygon","coordinates":[[[114.46,22.61],[114.47,22.62],[114.47,22.61],[114.46,22.62],[114.46,22.61]]]}}
]}
JSON
expect_exit 0 "$W" -s "$S" layers
expect_in "no layers" "$out"
expect_exit 0 "$W" -s "$S" import --layer roads "$tmp/roads.geojson"
expect_in "imported 2 of 2 features into layer roads" "$out"
expect_exit 2 "$W" -s "$S" import --layer thematic_rental "$tmp/rental.geojson"
expect_in "feature 1 (code T2): rejected: invalid: Self-intersection" "$err"
expect_exit 0 "$W" -s "$S" import --layer thematic_rental --repair "$tmp/rental.geojson"
expect_in "imported 2 of 2 features into layer thematic_rental, 1 repaired" "$out"
expect_exit 0 "$W" -s "$S" import --layer roads --replace "$tmp/roads.geojson"
expect_exit 0 "$W" -s "$S" layers
expect_eq "$(echo "$out" | awk '$1 == "roads" { print $2, $3, $4, $5 }')" "2 0 2 0" "roads listed"
expect_eq "$(echo "$out" | awk '$1 == "thematic_rental" { print $2, $5 }')" "2 2" "thematic layer listed"
expect_eq "$(sqlite3 "$S" "SELECT class FROM layer_features WHERE code = 'T1'")" "rental" "class from theme"
printf '{"type":"Feature","properties":{"code":"R9"},"geometry":{"type":"LineString","coordinates":[[114.44,22.62]]}}\n' > "$tmp/short.geojson"
expect_exit 2 "$W" -s "$S" import --layer roads "$tmp/short.geojson"
expect_in "feature 0 (code R9): rejected: too_few_points" "$err"
expect_exit 1 "$W" -s "$S" import --layer Roads "$tmp/roads.geojson"
expect_in "layer name" "$err"
expect_exit 2 "$W" -s "$S" import --layer roads "$tmp/missing.geojson"
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM layer_features")" "4" "layers unchanged after refused imports"

# usage errors
expect_exit 1 "$W" -s "$S" frobnicate
expect_exit 1 "$W" -s "$S" lookup 114.45 95
expect_exit 1 "$W" -s "$S" lookup 114.45
expect_exit 1 "$W" -s "$S" import "$G/grids.geojson"
expect_exit 1 "$W" -s "$S" import --level moon "$G/grids.geojson"
expect_exit 0 "$W" help
expect_in "exit codes" "$out"
expect_exit 0 "$W" import --help
expect_in "--repair" "$out"
expect_in "--workers" "$out"
expect_in "--layer NAME" "$out"
expect_exit 1 "$W" -s "$S" layers extra
expect_exit 2 "$W" -s "$S" lookup --generation 99 114.45 22.62
expect_in "generation 99 does not exist" "$err"
echo "not a store" > "$tmp/junk.sqlite"
expect_exit 3 "$W" -s "$tmp/junk.sqlite" generations
finish
