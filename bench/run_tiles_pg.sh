#!/usr/bin/env bash
# Cold vector-tile generation, wangge against PostGIS, on US counties (us-atlas, 3,230 counties
# as the grid level of a store, as bench/run_lookup.sh and the us-atlas test build it).
#
#   PostGIS (Debian's postgresql-15-postgis-3, a throw-away cluster started here as user
#   postgres on a free 127.0.0.1 port, socket and data in BUILD/bench-data/pg, stopped on exit):
#   the counties are copied from the store with ogr2ogr (geom in EPSG:4326, same row ids,
#   code, name, level, parent), plus geom3857 = ST_Transform(geom, 3857) with a GIST index,
#   the way pg_tileserv and Martin serve a table. Each tile is
#     SELECT ST_AsMVT(q, 'counties', 4096, 'geom', 'id') FROM (SELECT id, code, name, level,
#       parent, ST_AsMVTGeom(geom3857, ST_TileEnvelope(z,x,y), 4096, 64, true) AS geom
#       FROM counties WHERE geom3857 && ST_TileEnvelope(z,x,y, margin => 64.0/4096)) q
#   run for every tile of a zoom in one PL/pgSQL function, timed inside the server with
#   clock_timestamp() (no client, protocol or transfer time).
#   wangge: bench_tiles --tiles (one wg_tile_render() call per tile, layer grids, extent 4096,
#   buffer 64, same attributes and ids).
#
# "Cold" means no tile cache on either side: every tile is generated from the data. The data
# is in memory on both sides (wangge's tileset, built once from the store and timed apart;
# PostGIS's table and index in shared_buffers), and each side first runs every zoom's tile set
# once untimed (warm-up), then PASSES timed passes; per-tile figures are from the fastest pass
# (the machine is shared), the mean pass is shown too. One core per side: PostGIS runs with
# max_parallel_workers_per_gather = 0 and jit = off, wangge on one thread.
#
# Tiles, the same list for both sides (written to BUILD/bench-data/pg-tiles.txt): z4 every
# tile meeting the conterminous US (-125,24,-66,50); z8 and z12 the first SAMPLE distinct tiles
# met by seeded pseudo-random points over that box (Park-Miller, so any awk gives the same
# list) whose square meets a county (ST_Intersects in PostGIS).
#
# usage: bench/run_tiles_pg.sh [BUILD_DIR]   (default build-rel; env PASSES=10 SAMPLE=300
#        SEED=20261121). Needs root to install packages and to run postgres as user postgres.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-rel}
PASSES=${PASSES:-10}
SAMPLE=${SAMPLE:-300}
SEED=${SEED:-20261121}
RATIO=3
[ -x "$build/bench/bench_tiles" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
build=$(cd "$build" && pwd)
grep -q -a -- "--tiles FILE" "$build/bench/bench_tiles" || cmake --build "$build" --target bench_tiles >/dev/null
pgbin=/usr/lib/postgresql/15/bin
if [ ! -x "$pgbin/postgres" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ] ||
   ! command -v ogr2ogr >/dev/null || ! command -v psql >/dev/null; then
  echo "installing postgresql-15-postgis-3 gdal-bin"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 \
    postgresql-client-15 gdal-bin >/dev/null
fi

# ---- the store (usatlas_store in bench/lib.sh, as bench/run_lookup.sh)
W="$build/tools/wangge"
work="$build/bench-data"
. "$here/bench/lib.sh"
usatlas_store "$W" "$work"
gen=$(sqlite3 "$S" "SELECT id FROM generations WHERE status = 'active'")

# ---- a private PostgreSQL cluster
pg="$work/pg"
data="$pg/data"
sock="$pg/sock"
as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as=(runuser -u postgres --)
fi
started=
stop() {
  if [ -n "$started" ]; then
    "${as[@]}" "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    started=
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM
rm -rf "$pg"
mkdir -p "$data" "$sock"
[ ${#as[@]} -eq 0 ] || chown -R postgres: "$pg"
"${as[@]}" "$pgbin/initdb" -D "$data" -U postgres --auth=trust --no-locale -E UTF8 >"$pg/initdb.log" 2>&1 ||
  { cat "$pg/initdb.log" >&2; exit 1; }
port=
for p in $(shuf -i 20000-60999 -n 20); do
  ss -Hltn "sport = :$p" | grep -q . && continue
  if "${as[@]}" "$pgbin/pg_ctl" -D "$data" -l "$pg/server.log" -w -t 60 start -o \
      "-p $p -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sock \
       -c shared_buffers=256MB -c work_mem=64MB -c jit=off -c max_parallel_workers_per_gather=0 \
       -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null 2>&1; then
    port=$p
    started=1
    break
  fi
done
[ -n "$port" ] || { echo "run_tiles_pg: PostgreSQL did not start (see $pg/server.log)" >&2; exit 1; }
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres "$@"; }
psql_ -d postgres -c "CREATE DATABASE bench"
q() { psql_ -d bench "$@"; }
q -c "CREATE EXTENSION postgis"

# ---- the counties into PostGIS, from the store (same ids, attributes and geometry)
ogr2ogr -f PostgreSQL "PG:host=$sock port=$port user=postgres dbname=bench" "$S" \
  -sql "SELECT id, code, name, level, parent_code AS parent, geom FROM units
        WHERE level = 3 AND first_gen <= $gen AND (last_gen IS NULL OR last_gen >= $gen)" \
  -nln counties -nlt MULTIPOLYGON -a_srs EPSG:4326 -preserve_fid \
  -lco FID=id -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST
q <<'SQL'
ALTER TABLE counties ADD COLUMN geom3857 geometry(MultiPolygon, 3857);
UPDATE counties SET geom3857 = ST_Transform(geom, 3857);
CREATE INDEX counties_geom3857 ON counties USING gist (geom3857);
VACUUM FULL counties;
ANALYZE counties;
SQL

# ---- the tiles
awk -v seed="$SEED" 'function tx(lon, z) { return int((lon + 180) / 360 * 2^z) }
  function ty(lat, z,  r) { r = lat * atan2(0, -1) / 180
    return int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / atan2(0, -1)) / 2 * 2^z) }
  function rnd() { s = (16807 * s) % 2147483647; return s / 2147483647 }
  BEGIN { w = -125; so = 24; e = -66; n = 50; k = 0
    for (x = tx(w, 4); x <= tx(e, 4); x++) for (y = ty(n, 4); y <= ty(so, 4); y++) print 4, x, y, k++
    s = seed % 2147483646 + 1
    for (i = 0; i < 20000; i++) {
      lon = w + (e - w) * rnd(); lat = so + (n - so) * rnd()
      for (z = 8; z <= 12; z += 4) { t = z " " tx(lon, z) " " ty(lat, z)
        if (!(t in seen)) { seen[t] = 1; print t, k++ } } } }' > "$pg/candidates.txt"
q -v sample="$SAMPLE" <<SQL
CREATE TABLE candidates(z int, x int, y int, ord int);
\copy candidates FROM '$pg/candidates.txt' WITH (DELIMITER ' ')
CREATE TABLE tiles AS
SELECT z, x, y, row_number() OVER (PARTITION BY z ORDER BY ord) AS ord
  FROM candidates c
 WHERE z = 4 OR EXISTS (SELECT 1 FROM counties
                         WHERE geom3857 && ST_TileEnvelope(c.z, c.x, c.y)
                           AND ST_Intersects(geom3857, ST_TileEnvelope(c.z, c.x, c.y)));
DELETE FROM tiles WHERE z > 4 AND ord > :sample;
\copy (SELECT z, x, y FROM tiles ORDER BY z, ord) TO '$work/pg-tiles.txt' WITH (DELIMITER ' ')
SQL

# ---- PostGIS: every zoom's tiles, warm-up pass then timed passes, timed in the server
q <<'SQL'
CREATE TABLE result(z int, pass int, tiles int, nonempty int, bytes bigint, ms float8);
CREATE FUNCTION bench_mvt(zz int, warm int, passes int) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  t record; b bytea; t0 timestamptz; ms float8; nt int; ne int; nb bigint;
BEGIN
  FOR p IN 1 - warm .. passes LOOP
    nt := 0; ne := 0; nb := 0;
    t0 := clock_timestamp();
    FOR t IN SELECT x, y FROM tiles WHERE z = zz ORDER BY ord LOOP
      SELECT ST_AsMVT(q, 'counties', 4096, 'geom', 'id') INTO b
        FROM (SELECT id, code, name, level, parent,
                     ST_AsMVTGeom(geom3857, ST_TileEnvelope(zz, t.x, t.y), 4096, 64, true) AS geom
                FROM counties
               WHERE geom3857 && ST_TileEnvelope(zz, t.x, t.y, margin => 64.0 / 4096)) q;
      nt := nt + 1;
      IF coalesce(length(b), 0) > 0 THEN ne := ne + 1; nb := nb + length(b); END IF;
    END LOOP;
    ms := 1e3 * extract(epoch FROM clock_timestamp() - t0);
    IF p >= 1 THEN INSERT INTO result VALUES (zz, p, nt, ne, nb, ms); END IF;
  END LOOP;
END $f$;
SQL
echo "== $(nproc) cores (shared); $(q -At -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', PostGIS ' || postgis_lib_version() || ', GEOS ' || postgis_geos_version()") on 127.0.0.1:$port"
echo "counties in PostGIS: $(q -At -c "SELECT count(*) FROM counties"), tiles: $(awk '{ n[$1]++ } END { for (z in n) printf "z%s %d  ", z, n[z] }' "$work/pg-tiles.txt")"
echo "each side: 1 warm-up pass, then $PASSES timed passes per zoom; no tile cache; 1 core"
for z in 4 8 12; do q -At -c "SELECT bench_mvt($z, 1, $PASSES)" >/dev/null; done
q -At -F ' ' -c "SELECT z, min(tiles), min(nonempty), min(bytes), min(ms), avg(ms)
                   FROM result GROUP BY z ORDER BY z" > "$pg/result-pg.txt"

# ---- wangge: the same tiles
"$build/bench/bench_tiles" "$S" --layers grids --tiles "$work/pg-tiles.txt" --warmup 1 \
  --repeat "$PASSES" > "$pg/result-wangge.txt"
grep -E "^tileset:" "$pg/result-wangge.txt" | sed 's/^/wangge /'
stop

# ---- the figures
awk -v ratio="$RATIO" '
  FNR == NR { pg[$1] = $0; next }
  /^list / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    z = v["z"]
    if (!(z in pg)) { print "no PostGIS figures for z" z; bad = 1; next }
    split(pg[z], p, " ")
    pb = p[5] / p[2]; pm = p[6] / p[2]; wb = v["best_ms"] / v["tiles"]; wm = v["mean_ms"] / v["tiles"]
    r = wb > 0 ? pb / wb : 0; rm = wm > 0 ? pm / wm : 0
    printf "z%-2d %5d %7d/%-7d %10d %10d %10.4f %10.4f %7.1fx %6.1fx\n", z, v["tiles"],
      p[3], v["nonempty"], p[4], v["bytes"], pb, wb, r, rm
    if (v["tiles"] != p[2] || v["failed"] != 0) bad = 1
    if (r < ratio) fail = fail " z" z
    n++ }
  BEGIN { printf "%-3s %5s %15s %10s %10s %10s %10s %8s %7s\n", "", "tiles", "w/ features", \
            "PostGIS B", "wangge B", "PostGIS", "wangge", "ratio", "(mean)"
          printf "%-3s %5s %15s %10s %10s %10s %10s\n", "", "", "PostGIS/wangge", "", "", \
            "ms/tile", "ms/tile" }
  END { if (n != 3 || bad) { print "FAIL: incomplete or failed run"; exit 1 }
        if (fail == "") printf "PASS: wangge cold tiles >= %dx faster than PostGIS at z4, z8, z12 (fastest pass)\n", ratio
        else { printf "FAIL: wangge < %dx faster than PostGIS at%s\n", ratio, fail; exit 1 } }
' "$pg/result-pg.txt" "$pg/result-wangge.txt"
