#!/usr/bin/env bash
# Planner endpoints over HTTP against a real server (curl; the CLI for keys and as the
# reference; sqlite3 for stored rows):
#   - keys: no key 401, a viewer key 403, a planner key passes, on every planner endpoint;
#   - a draft, division of one community with a household band, validation, the diff (equal to
#     the CLI's), the draft's own tiles (?generation=N) beside the active ones;
#   - publish: lookups and tiles switch to the new generation at once; rollback goes back;
#   - edits from GeoJSON (replace, split, merge), discard;
#   - bad input: unknown community (404), impossible band (400 with the feasible range), bad
#     JSON, broken GeoJSON (400 listing the features), a draft with a gap refused (422 + report).
# usage: test_plan.sh SERVER_BIN SRC_DIR WORK_DIR
set -uo pipefail
SERVER=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
fresh_work "$3/http-plan"

start_server "$WORK/server.log" --store "$S" --geodata "$SRC/geodata"
P=$("$W" -s "$S" key create --role planner 2> /dev/null)
V=$("$W" -s "$S" key create --role viewer 2> /dev/null)
PK=(-H "X-API-Key: $P" -H 'Content-Type: application/json') # curl -d would say form-urlencoded: 415

# --- who may do what
expect_status 200 GET "$BASE/v1/generations"
expect_in '"generations":[{"id":1,"status":"active"' "$body"
for ep in "POST /v1/draft" "DELETE /v1/draft" "GET /v1/draft" "GET /v1/draft/validate" "GET /v1/draft/diff" \
          "POST /v1/draft/publish" "PUT /v1/draft/children?parent=440307006001" "POST /v1/draft/split?code=440307006001001" \
          "POST /v1/draft/merge" "POST /v1/divide" "POST /v1/merge" "POST /v1/generations/rollback"; do
  set -- $ep
  expect_status 401 "$1" "$BASE$2"
  expect_in '"error":{"code":"unauthorized"' "$body"
  expect_status 403 "$1" "$BASE$2" -H "X-API-Key: $V"
  expect_in '"error":{"code":"forbidden"' "$body"
done
expect_eq "$(SQ "$S" "SELECT count(*) FROM generations")" "1" "refused calls wrote nothing"

# --- a draft, divided
expect_status 404 GET "$BASE/v1/draft" "${PK[@]}"
expect_status 201 POST "$BASE/v1/draft" "${PK[@]}"
expect_in '"draft":2,"created":true' "$body"
expect_status 200 POST "$BASE/v1/draft" "${PK[@]}"
expect_in '"draft":2,"created":false' "$body"
C=440307006002
expect_status 200 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"band\":[300,500]}"
expect_in '"written":true' "$body"
expect_in '"band_met":true' "$body"
expect_in '"gap_m2":0.000,"overlap_m2":0.000' "$body"
n=$(echo "$body" | sed 's/.*"grids":\([0-9]*\),"thematic_before".*/\1/')
expect_eq "$(SQ "$S" "SELECT count(*) FROM units WHERE level = 3 AND parent_code = '$C' AND first_gen <= 2 AND (last_gen IS NULL OR last_gen >= 2)")" "$n" "the draft holds the plan's grids"
hh=$(SQ "$S" "SELECT sum(households) FROM addresses a JOIN assignments s ON s.kind = 'address' AND s.item_id = a.id AND s.generation = 1 WHERE s.grid_code LIKE '$C%'")
expect_in "\"households\":$hh," "$body"
expect_status 200 GET "$BASE/v1/draft/validate" "${PK[@]}"
expect_in '"generation":2' "$body"
expect_in '"ok":true,"faults":[]' "$body"
expect_status 200 GET "$BASE/v1/draft/diff" "${PK[@]}"
expect_eq "$(echo "$body" | sed 's/,"seconds":[0-9.]*}$/}/')" "$("$W" -s "$S" diff --json | sed 's/,"seconds":[0-9.]*}$/}/')" "HTTP diff = CLI diff"
moved=$(echo "$body" | sed 's/.*"addresses":{"total":[0-9]*,"changed":\([0-9]*\),.*/\1/')
expect_eq "$([ "$moved" -gt 0 ] && echo yes)" "yes" "some addresses change grid ($moved)"
expect_not_in "\"from\":\"440307006001" "$(echo "$body" | sed 's/.*"addresses"//; s/"events".*//')"

# --- the draft's tiles beside the active ones
expect_status 200 GET "$BASE/tiles/grids.json?generation=2"
expect_in '/tiles/grids/{z}/{x}/{y}.mvt?generation=2"' "$body"
read -r w s e nn <<< "$(SQ "$S" "SELECT MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM units WHERE level = 2 AND code = '$C' AND last_gen IS NULL" | tr '|' ' ')"
tile=$(awk -v lon="$(echo "($w + $e) / 2" | bc -l)" -v lat="$(echo "($s + $nn) / 2" | bc -l)" 'BEGIN { z = 13; pi = atan2(0, -1); r = lat * pi / 180
  printf "%d/%d/%d", z, int((lon + 180) / 360 * 2^z), int((1 - log(sin(r)/cos(r) + 1/cos(r)) / pi) / 2 * 2^z) }')
curl -s -o "$WORK/active.mvt" "$BASE/tiles/grids/$tile.mvt"
curl -s -o "$WORK/draft.mvt" "$BASE/tiles/grids/$tile.mvt?generation=2"
checks=$((checks + 1))
[ -s "$WORK/active.mvt" ] && [ -s "$WORK/draft.mvt" ] && ! cmp -s "$WORK/active.mvt" "$WORK/draft.mvt" || fail "draft tile $tile differs from the active one"
count_in() { ogrinfo -ro -al -so "$1" 2>/dev/null | sed -n 's/^Feature Count: //p' | head -1; }
# the tile's box in lon/lat: the new grids meeting it (a grid only in the clip buffer is not
# the tile's feature)
box=$(echo "$tile" | awk -F/ 'function lat(y,  t) { t = pi * (1 - 2 * y / n); return atan2(exp(t) - exp(-t), 2) * 180 / pi }
  { z = $1; n = 2^z; b = 0; pi = atan2(0, -1)
  printf "%.9f, %.9f, %.9f, %.9f", ($2 - b) / n * 360 - 180, lat($3 + 1 + b), ($2 + 1 + b) / n * 360 - 180, lat($3 - b) }')
expect_eq "$(ogrinfo -ro -al "$WORK/draft.mvt" 2>/dev/null | grep -c "code (String) = $C")" \
  "$(SQ "$S" "SELECT count(*) FROM units WHERE level = 3 AND parent_code = '$C' AND first_gen = 2 AND Intersects(geom, BuildMbr($box, 4326))")" "the draft tile holds the new grids it meets"
# an edit makes the draft's tiles new at once (keyed by the draft's revision)
expect_status 200 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"grids\":3}"
curl -s -o "$WORK/draft3.mvt" "$BASE/tiles/grids/$tile.mvt?generation=2"
expect_eq "$(ogrinfo -ro -al "$WORK/draft3.mvt" 2>/dev/null | grep -c "code (String) = $C")" "3" "after a second division the draft tile shows 3 grids"
expect_status 200 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"band\":[300,500]}"

# --- bad input
expect_status 404 POST "$BASE/v1/divide" "${PK[@]}" -d '{"community":"440307006999","band":[300,500]}'
expect_in "no community or district '440307006999'" "$body"
expect_status 400 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"band\":[300,310]}"
expect_in 'feasible bands' "$body"
expect_status 400 POST "$BASE/v1/divide" "${PK[@]}" -d '{"community":'
expect_in '"error":{"code":"bad_json"' "$body"
expect_status 400 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"band\":[500,300]}"
expect_status 400 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"grids\":0}"
expect_status 400 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\"}"
expect_status 400 PUT "$BASE/v1/draft/children?parent=$C" "${PK[@]}" -d '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[114.4,22.6],[114.41,22.6],[114.41,22.61]]]}}]}'
expect_in '"error":{"code":"bad_geojson"' "$body"
expect_in '"features":[{"feature":0' "$body"
expect_status 400 PUT "$BASE/v1/draft/children?parent=$C&bogus=1" "${PK[@]}" -d '{}'
expect_status 405 GET "$BASE/v1/draft/publish" "${PK[@]}"

# --- a gap cannot be published: replace a community's grids by one of them
g1=$(SQ "$S" "SELECT code FROM units WHERE level = 3 AND parent_code = '440307006003' AND last_gen IS NULL ORDER BY code LIMIT 1")
"$W" -s "$S" export --level grid --generation 2 2>/dev/null | grep -o "{\"type\":\"Feature\",[^\n]*\"code\":\"$g1\"[^\n]*" > /dev/null
SQ "$S" "SELECT '{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"code\":\"$g1\"},\"geometry\":' || AsGeoJSON(geom) || '}]}' FROM units WHERE code = '$g1' AND last_gen IS NULL" > "$WORK/one.geojson"
expect_status 200 PUT "$BASE/v1/draft/children?level=grid&parent=440307006003" "${PK[@]}" --data-binary @"$WORK/one.geojson"
expect_in "\"codes\":[\"$g1\"]" "$body"
expect_status 422 POST "$BASE/v1/draft/publish" "${PK[@]}"
expect_in '"error":{"code":"validation_faults"' "$body"
expect_in '"kind":"gap"' "$body"
expect_eq "$(SQ "$S" "SELECT id FROM generations WHERE status = 'active'")" "1" "still generation 1 active"
# undo by discarding and redoing the division
expect_status 200 DELETE "$BASE/v1/draft" "${PK[@]}"
expect_in '"discarded":2' "$body"
expect_status 404 DELETE "$BASE/v1/draft" "${PK[@]}"
expect_status 201 POST "$BASE/v1/draft" "${PK[@]}"
D=$(echo "$body" | sed 's/.*"draft":\([0-9]*\).*/\1/')
expect_status 200 POST "$BASE/v1/divide" "${PK[@]}" -d "{\"community\":\"$C\",\"band\":[300,500]}"

# --- split and merge from GeoJSON / JSON
a=$(SQ "$S" "SELECT code FROM units WHERE level = 3 AND parent_code = '440307006004' AND last_gen IS NULL ORDER BY code LIMIT 1")
b=$(SQ "$S" "SELECT code FROM units WHERE level = 3 AND parent_code = '440307006004' AND last_gen IS NULL ORDER BY code LIMIT 1 OFFSET 1")
adj=$(SQ "$S" "SELECT ST_Touches(x.geom, y.geom) FROM units x, units y WHERE x.code = '$a' AND y.code = '$b' AND x.last_gen IS NULL AND y.last_gen IS NULL")
if [ "$adj" = 1 ]; then
  expect_status 200 POST "$BASE/v1/draft/merge" "${PK[@]}" -d "{\"codes\":[\"$a\",\"$b\"]}"
  expect_in '"code":"440307006004' "$body"
fi
expect_status 400 POST "$BASE/v1/draft/merge" "${PK[@]}" -d "{\"codes\":[\"$a\"]}"
expect_status 404 POST "$BASE/v1/draft/merge" "${PK[@]}" -d '{"codes":["440307006004998","440307006004999"]}'

# --- publish: lookups and tiles switch at once; rollback goes back
expect_status 200 GET "$BASE/v1/draft/validate" "${PK[@]}"
expect_in '"ok":true' "$body"
expect_status 200 POST "$BASE/v1/draft/publish" "${PK[@]}"
expect_in "\"published\":$D" "$body"
pt=$(SQ "$S" "SELECT lon || '&lat=' || lat FROM addresses a JOIN assignments s ON s.kind = 'address' AND s.item_id = a.id AND s.generation = $D WHERE s.grid_code LIKE '$C%' LIMIT 1")
expect_status 200 GET "$BASE/v1/lookup?lon=$pt"
expect_in "\"generation\":$D," "$body"
expect_eq "$(echo "$body" | sed 's/.*"grid":{"code":"\([0-9]*\)".*/\1/')" \
  "$(SQ "$S" "SELECT s.grid_code FROM addresses a JOIN assignments s ON s.kind = 'address' AND s.item_id = a.id AND s.generation = $D WHERE s.grid_code LIKE '$C%' LIMIT 1")" "the lookup answers from the published generation"
curl -s -o "$WORK/after.mvt" "$BASE/tiles/grids/$tile.mvt"
checks=$((checks + 1))
cmp -s "$WORK/after.mvt" "$WORK/active.mvt" && fail "the active tile changed with the publish"
expect_status 200 GET "$BASE/v1/generations"
expect_in "{\"id\":$D,\"status\":\"active\"" "$body"
expect_status 200 POST "$BASE/v1/generations/rollback" "${PK[@]}"
expect_in '"active":1' "$body"
expect_status 200 GET "$BASE/v1/lookup?lon=$pt"
expect_in '"generation":1,' "$body"
curl -s -o "$WORK/back.mvt" "$BASE/tiles/grids/$tile.mvt"
checks=$((checks + 1))
cmp -s "$WORK/back.mvt" "$WORK/active.mvt" || fail "after the rollback the tile is the first one again"
stop_server
finish
