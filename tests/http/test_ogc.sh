#!/usr/bin/env bash
# OGC API - Features (server/h_ogc.c over lib/src/features.c) against a running wangge-server
# loaded from geodata/. Expected answers come from elsewhere: SpatiaLite SQL on the same store
# (ST_Intersects, counts, extents, assignments), SQLite's JSON functions to read the answers,
# and GDAL's OAPIF driver as the client:
#   - landing page, conformance, OpenAPI document (valid JSON, every $ref resolves), collections
#     with counts and extents equal to the store's;
#   - items: walking the next links covers every feature exactly once in id order, with the
#     ids, codes and (addresses) grids of the store; numberMatched / numberReturned; limit
#     above the maximum lowered to it; bbox = ST_Intersects for grids (including a box cornered
#     on a grid vertex and a point on it), lon/lat range for addresses;
#   - one item by id; 400 for unknown parameters and bad bbox, bbox-crs, limit, offset, f, id;
#     404 for an unknown collection or feature;
#   - ogrinfo lists 1 / 9 / 97 / 2776 features, and its -spat query (sent as bbox) returns
#     exactly SpatiaLite's set.
# usage: test_ogc.sh SERVER_BIN SRC_DIR WORK_DIR
set -uo pipefail
SERVER=$1
SRC=$2
S="$3/ogc.sqlite"
T="$3/ogc"
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
rm -rf "$T" "$S" "$S-wal" "$S-shm"
mkdir -p "$T"

# SQL on the store, with SpatiaLite
SQ() { sqlite3 -batch -noheader -cmd "SELECT load_extension('mod_spatialite')" "$S" "$1" | sed '1{/^$/d}'; }
# SQL over a JSON file, as d(j)
JS() { sqlite3 -batch -noheader :memory: "WITH d(j) AS (SELECT readfile('$1')) $2"; }
# get URL FILE: the body into FILE, the status into $code, the media type into $ctype
get() {
  local out
  out=$(curl -s -o "$2" -w '%{http_code} %{content_type}' "$1")
  code=${out%% *}
  ctype=${out#* }
}
# rel type href of every link of a JSON file, one a line
links_of() {
  JS "$1" "SELECT json_extract(value, '\$.rel') || ' ' || json_extract(value, '\$.type') || ' ' ||
           json_extract(value, '\$.href') FROM d, json_each(d.j, '\$.links')"
}

start_server "$T/server.log" --store "$S" --geodata "$SRC/geodata"
GEN=$(SQ "SELECT id FROM generations WHERE status = 'active'")
IN_GEN="first_gen <= $GEN AND (last_gen IS NULL OR last_gen >= $GEN)"

# --- landing page, conformance, API definition
get "$BASE/" "$T/landing.json"
expect_eq "$code $ctype" "200 application/json" "landing page"
L=$(links_of "$T/landing.json")
expect_in "self application/json $BASE/" "$L"
expect_in "service-desc application/vnd.oai.openapi+json;version=3.0 $BASE/api" "$L"
expect_in "conformance application/json $BASE/conformance" "$L"
expect_in "data application/json $BASE/collections" "$L"
expect_in "alternate text/html $BASE/map" "$L"
expect_eq "$(JS "$T/landing.json" "SELECT json_type(j, '\$.title') FROM d")" "text" "landing title"

get "$BASE/conformance" "$T/conf.json"
expect_eq "$code $ctype" "200 application/json" "conformance"
C=$(JS "$T/conf.json" "SELECT group_concat(value, ' ') FROM d, json_each(d.j, '\$.conformsTo')")
for c in core geojson oas30; do
  expect_in "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/$c" "$C"
done

get "$BASE/api" "$T/api.json"
expect_eq "$code $ctype" "200 application/vnd.oai.openapi+json;version=3.0" "API definition"
expect_eq "$(JS "$T/api.json" "SELECT json_valid(j) FROM d")" "1" "the API definition is JSON"
expect_eq "$(JS "$T/api.json" "SELECT json_extract(j, '\$.openapi') LIKE '3.0.%' FROM d")" "1" "openapi 3.0.x"
expect_eq "$(JS "$T/api.json" "SELECT json_extract(j, '\$.servers[0].url') FROM d")" "$BASE" "servers"
P=$(JS "$T/api.json" "SELECT group_concat(key, ' ') FROM d, json_each(d.j, '\$.paths')")
for p in / /conformance /api /collections /collections/{collectionId} /collections/{collectionId}/items \
  /collections/{collectionId}/items/{featureId} /v1/lookup /tiles/{layers}/{z}/{x}/{y}.mvt /tiles/{layers}.json; do
  expect_in " $p " " $P "
done
expect_eq "$(JS "$T/api.json" "SELECT json_extract(j, '\$.components.parameters.limit.schema.maximum') || ' ' ||
  json_extract(j, '\$.components.parameters.limit.schema.default') FROM d")" "10000 100" "limit: maximum and default"
unresolved=0
while read -r ref; do
  path='$'
  IFS=/ read -ra segs <<< "${ref#\#/}"
  for s in "${segs[@]}"; do path="$path.\"$s\""; done
  [ "$(JS "$T/api.json" "SELECT json_type(j, '$path') IS NOT NULL FROM d")" = 1 ] || { unresolved=$((unresolved + 1)); echo "unresolved: $ref" >&2; }
done < <(JS "$T/api.json" "SELECT DISTINCT value FROM d, json_tree(d.j) WHERE key = '\$ref'")
expect_eq "$unresolved" "0" "\$refs of the API definition that do not resolve"

# --- collections: ids, links, counts and extents as in the store
get "$BASE/collections" "$T/colls.json"
expect_eq "$code $ctype" "200 application/json" "collections"
expect_eq "$(JS "$T/colls.json" "SELECT group_concat(json_extract(value, '\$.id'), ',') FROM d, json_each(d.j, '\$.collections')")" \
  "districts,communities,grids,addresses" "collection ids"
expect_in "self application/json $BASE/collections" "$(links_of "$T/colls.json")"
i=0
for id in districts communities grids addresses; do
  expect_eq "$(JS "$T/colls.json" "SELECT json_extract(value, '\$.rel') || ' ' || json_extract(value, '\$.type') || ' ' ||
    json_extract(value, '\$.href') FROM d, json_each(d.j, '\$.collections[$i].links') WHERE json_extract(value, '\$.rel') = 'items'")" \
    "items application/geo+json $BASE/collections/$id/items" "$id: items link"
  if [ $id = addresses ]; then
    ext="SELECT min(lon), min(lat), max(lon), max(lat) FROM addresses"
  else
    ext="SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)) FROM units
         WHERE level = $((i + 1)) AND $IN_GEN"
  fi
  expect_eq "$(SQ "WITH e(x0, y0, x1, y1) AS ($ext), b(v) AS (SELECT json_extract(readfile('$T/colls.json'),
      '\$.collections[$i].extent.spatial.bbox[0]'))
    SELECT json_extract(v, '\$[0]') = x0 AND json_extract(v, '\$[1]') = y0 AND json_extract(v, '\$[2]') = x1
       AND json_extract(v, '\$[3]') = y1 FROM e, b")" "1" "$id: extent = the store's, to the bit"
  get "$BASE/collections/$id" "$T/coll.json"
  expect_eq "$code $(JS "$T/coll.json" "SELECT json_extract(j, '\$.id') FROM d")" "200 $id" "/collections/$id"
  i=$((i + 1))
done
want_counts=$(SQ "SELECT group_concat(n, ' ') FROM (SELECT level, count(*) AS n FROM units WHERE $IN_GEN GROUP BY level ORDER BY level)")
want_counts="$want_counts $(SQ "SELECT count(*) FROM addresses")"
expect_eq "$want_counts" "1 9 97 2776" "the sample's counts in SQL"

# --- items: walk the next links
# walk URL: follows next links from URL; writes "id code grid" per feature to $T/walk.txt; sets
# $pages and $matched (numberMatched, which must be the same on every page)
walk() {
  local url=$1 m
  pages=0
  matched=
  : > "$T/walk.txt"
  while [ -n "$url" ]; do
    get "$url" "$T/page.json"
    [ "$code" = 200 ] || { fail "status $code for $url"; break; }
    [ "$ctype" = application/geo+json ] || fail "items media type $ctype"
    pages=$((pages + 1))
    JS "$T/page.json" "SELECT json_extract(value, '\$.id') || ' ' || json_extract(value, '\$.properties.code') || ' ' ||
      coalesce(json_extract(value, '\$.properties.grid'), '') FROM d, json_each(d.j, '\$.features')" >> "$T/walk.txt"
    m=$(JS "$T/page.json" "SELECT json_extract(j, '\$.numberMatched') || ' ' || (json_extract(j, '\$.numberReturned') =
      json_array_length(j, '\$.features')) || ' ' || (json_extract(j, '\$.timeStamp') GLOB
      '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z') FROM d")
    [ "${m#* }" = "1 1" ] || fail "numberReturned or timeStamp wrong on $url"
    [ -z "$matched" ] || [ "$matched" = "${m%% *}" ] || fail "numberMatched changed on $url"
    matched=${m%% *}
    url=$(JS "$T/page.json" "SELECT json_extract(value, '\$.href') FROM d, json_each(d.j, '\$.links')
      WHERE json_extract(value, '\$.rel') = 'next' AND json_extract(value, '\$.type') = 'application/geo+json'")
    [ $pages -lt 1000 ] || { fail "more than 1000 pages from $1"; break; }
  done
}
walk "$BASE/collections/grids/items?limit=10"
expect_eq "$pages $matched" "10 97" "grids: pages of 10"
expect_eq "$(cat "$T/walk.txt")" "$(SQ "SELECT id || ' ' || code || ' ' FROM units WHERE level = 3 AND $IN_GEN ORDER BY id")" \
  "grids walked = the store's grids, each once, in id order"
walk "$BASE/collections/communities/items?limit=4"
expect_eq "$pages $matched $(wc -l < "$T/walk.txt")" "3 9 9" "communities: pages of 4"
walk "$BASE/collections/addresses/items?limit=1000"
expect_eq "$pages $matched" "3 2776" "addresses: pages of 1000"
expect_eq "$(cat "$T/walk.txt")" "$(SQ "SELECT a.id || ' ' || a.code || ' ' || coalesce(s.grid_code, '') FROM addresses a
  LEFT JOIN assignments s ON s.generation = $GEN AND s.kind = 'address' AND s.item_id = a.id ORDER BY a.id")" \
  "addresses walked = the store's, with their assigned grid, each once, in id order"
get "$BASE/collections/addresses/items?limit=1000&offset=2000" "$T/page.json"
expect_eq "$(links_of "$T/page.json" | cut -d' ' -f1,3 | tr '\n' ' ')" \
  "self $BASE/collections/addresses/items?limit=1000&offset=2000 prev $BASE/collections/addresses/items?limit=1000&offset=1000 collection $BASE/collections/addresses " \
  "the last page: no next link"
get "$BASE/collections/addresses/items?limit=20000" "$T/page.json"
expect_eq "$code $(JS "$T/page.json" "SELECT json_extract(j, '\$.numberReturned') FROM d")" "200 2776" "limit above the maximum"
expect_in "self application/geo+json $BASE/collections/addresses/items?limit=10000&offset=0" "$(links_of "$T/page.json")"
get "$BASE/collections/grids/items?offset=5000" "$T/page.json"
expect_eq "$code $(JS "$T/page.json" "SELECT json_extract(j, '\$.numberMatched') || ' ' || json_extract(j, '\$.numberReturned') FROM d")" \
  "200 97 0" "offset beyond the end"

# --- bbox: SpatiaLite's answer
grids_in() { # grids_in MINX MINY MAXX MAXY [SQL geometry]: codes of the grids intersecting the box
  SQ "SELECT code FROM units WHERE level = 3 AND $IN_GEN AND ST_Intersects(geom, ${5:-BuildMbr($1, $2, $3, $4, 4326)}) ORDER BY code"
}
# walk_codes URL: walk, then the codes walked, sorted, in $codes
walk_codes() {
  walk "$1"
  codes=$(cut -d' ' -f2 "$T/walk.txt" | sort)
}
for box in "114.44 22.62 114.46 22.64" "114.40 22.55 114.43 22.65" "114.47 22.6 114.4701 22.6001" "114.60 22.70 114.70 22.80"; do
  set -- $box
  want=$(grids_in "$@")
  walk_codes "$BASE/collections/grids/items?limit=7&bbox=$1,$2,$3,$4"
  expect_eq "$codes" "$want" "grids in bbox $box"
  expect_eq "$matched" "$(echo -n "$want" | grep -c .)" "numberMatched for bbox $box"
done
# a box cornered exactly on a vertex shared by grids, and the vertex itself as a point box
V=$(SQ "SELECT printf('%!.17g %!.17g', X(p), Y(p)) FROM (SELECT PointN(ExteriorRing(GeometryN(geom, 1)), 3) AS p
  FROM units WHERE level = 3 AND $IN_GEN ORDER BY id LIMIT 1 OFFSET 40)")
set -- $V
vx=$1 vy=$2
want=$(grids_in "$vx" "$vy" "$vx + 0.005" "$vy + 0.005")
walk_codes "$BASE/collections/grids/items?bbox=$vx,$vy,$(SQ "SELECT printf('%!.17g,%!.17g', $vx + 0.005, $vy + 0.005)")"
expect_eq "$codes" "$want" "grids in a box cornered on the vertex $vx $vy"
want=$(grids_in 0 0 0 0 "MakePoint($vx, $vy, 4326)")
walk_codes "$BASE/collections/grids/items?bbox=$vx,$vy,$vx,$vy"
expect_eq "$codes" "$want" "grids at the vertex $vx $vy"
[ "$(echo "$want" | wc -l)" -ge 2 ] || fail "the vertex is shared by several grids: $want"
# the same in 6 numbers with heights
walk_codes "$BASE/collections/grids/items?bbox=$vx,$vy,-5,$vx,$vy,5"
expect_eq "$codes" "$want" "a bbox with heights"
want=$(SQ "SELECT code FROM addresses WHERE lon BETWEEN 114.45 AND 114.47 AND lat BETWEEN 22.62 AND 22.64 ORDER BY code")
walk_codes "$BASE/collections/addresses/items?limit=100&bbox=114.45,22.62,114.47,22.64&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84"
expect_eq "$codes" "$want" "addresses in a bbox"
expect_eq "$((matched > 100))" "1" "addresses in the bbox span pages ($matched)"

# --- one item
read -r gid gcode < <(SQ "SELECT id, code FROM units WHERE level = 3 AND $IN_GEN ORDER BY id LIMIT 1 OFFSET 5" | tr '|' ' ')
get "$BASE/collections/grids/items/$gid" "$T/item.json"
expect_eq "$code $ctype" "200 application/geo+json" "one grid"
expect_eq "$(JS "$T/item.json" "SELECT json_extract(j, '\$.id') || ' ' || json_extract(j, '\$.properties.code') || ' ' ||
  json_extract(j, '\$.geometry.type') FROM d")" "$gid $gcode MultiPolygon" "the grid's id, code and geometry"
expect_in "self application/geo+json $BASE/collections/grids/items/$gid" "$(links_of "$T/item.json")"
expect_in "collection application/json $BASE/collections/grids" "$(links_of "$T/item.json")"
get "$BASE/collections/addresses/items/100" "$T/item.json"
expect_eq "$(JS "$T/item.json" "SELECT json_extract(j, '\$.properties.label') || ' ' || json_extract(j, '\$.properties.grid') FROM d")" \
  "$(SQ "SELECT a.label || ' ' || s.grid_code FROM addresses a JOIN assignments s ON s.generation = $GEN AND s.kind = 'address'
    AND s.item_id = a.id WHERE a.id = 100")" "address 100: label and grid"

# --- refusals
for q in "foo=1" "bbox=1,2,3" "bbox=1,2,3,x" "bbox=1,2,,3,4" "bbox=114,23,115,22" "bbox=114,22,115,91" "bbox=181,22,182,23" \
  "bbox=1,2,3,4,5,6,7" "bbox=1,2,5,3,4,0" "bbox=114,22,115,23&bbox-crs=EPSG:4326" "limit=0" "limit=-3" "limit=abc" \
  "offset=-1" "offset=x" "f=html"; do
  expect_status 400 GET "$BASE/collections/grids/items?$q"
  expect_in '{"error":{"code":"' "$body"
done
expect_status 400 GET "$BASE/collections?f=xml"
expect_status 400 GET "$BASE/?foo=bar"
expect_status 400 GET "$BASE/collections/grids/items/abc"
expect_in '"code":"bad_feature_id"' "$body"
expect_status 404 GET "$BASE/collections/nope"
expect_in '"code":"not_found"' "$body"
expect_status 404 GET "$BASE/collections/nope/items"
expect_status 404 GET "$BASE/collections/grids/items/999999"
expect_status 404 GET "$BASE/collections/districts/items/$gid"
expect_status 404 GET "$BASE/collections/grids/extra"

# --- GDAL's OAPIF driver
ogrinfo -ro -al -so "OAPIF:$BASE/" > "$T/ogr-so.txt" 2>&1
expect_eq "$(awk '/^Layer name:/ { l = $3 } /^Feature Count:/ { printf "%s%s %s", (n++ ? "," : ""), l, $3 }' "$T/ogr-so.txt")" \
  "districts 1,communities 9,grids 97,addresses 2776" "ogrinfo -al -so: layers and counts"
for box in "114.44 22.62 114.46 22.64" "114.43 22.60 114.45 22.645"; do
  set -- $box
  ogrinfo --debug on -ro "OAPIF:$BASE/" grids -spat "$@" > "$T/ogr-spat.txt" 2> "$T/ogr-spat.err"
  want=$(grids_in "$@")
  expect_eq "$(sed -n 's/^  code (String) = //p' "$T/ogr-spat.txt" | sort)" "$want" "ogrinfo grids -spat $box"
  expect_eq "$((($(echo "$want" | wc -l)) > 10))" "1" "a -spat box with a dozen grids or more"
  expect_in "/collections/grids/items?limit=" "$(grep -o 'Fetch([^)]*bbox=[^)]*)' "$T/ogr-spat.err" | head -1)"
done
ogrinfo -ro "OAPIF:$BASE/" addresses -spat 114.45 22.62 114.47 22.64 > "$T/ogr-addr.txt" 2>&1
expect_eq "$(sed -n 's/^  code (String) = //p' "$T/ogr-addr.txt" | sort)" \
  "$(SQ "SELECT code FROM addresses WHERE lon BETWEEN 114.45 AND 114.47 AND lat BETWEEN 22.62 AND 22.64 ORDER BY code")" \
  "ogrinfo addresses -spat"

stop_server
finish
