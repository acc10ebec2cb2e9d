/* The store: one SpatiaLite (SQLite) file.
 *
 * Model (schema version 2; version 1 had everything but workers and layer_features):
 *   wg_meta(key, value)            schema_version and other store-wide facts.
 *   generations(id, status, ...)   status draft | active | retired; at most one draft and one
 *                                  active (partial unique indexes enforce it). Ids only grow.
 *   units(id, level, code, parent_code, name, area_m2, first_gen, last_gen, props, geom)
 *                                  level 1 district, 2 community, 3 work grid. Units never change
 *                                  in place: a row belongs to every generation g with
 *                                  first_gen <= g and (last_gen IS NULL or g <= last_gen). geom is
 *                                  a MULTIPOLYGON in EPSG:4326 (lon, lat); area_m2 is geodesic.
 *   addresses(id, lon, lat, households, label, code)
 *   events(id, lon, lat, category, reported_at, status, description)
 *   assignments(generation, kind, item_id, grid_code, nearest_code, dist_m)
 *                                  one row per address/event per generation it was assigned in;
 *                                  grid_code NULL = outside every grid (nearest_code, dist_m set).
 *   assign_runs(id, generation, at, assigned, outside, changed)
 *   workers(id, name, phone, role, home_grid, lon, lat, on_duty, seen_at)
 *                                  role grid_worker | officer; home_grid is a work-grid code (not
 *                                  a foreign key: codes outlive generations); lon/lat the last
 *                                  known position (NULL if none), seen_at its time. Index on
 *                                  home_grid.
 *   layer_features(id, layer, code, name, class, props, geom)
 *                                  reference layers (roads, rivers, thematic grids): not versioned
 *                                  by generation. geom is any GEOMETRY (points, lines, polygons
 *                                  and their multi forms) in EPSG:4326, spatially indexed; index
 *                                  on (layer, code).
 * Points are plain lon/lat REAL columns (checked in range): the hot paths read them in bulk and
 * the lookup index, not SQL, places them.
 *
 * Durability: WAL journal with synchronous=FULL, so a commit that returned survives power loss.
 * Migrations: each step moves version v to v+1 inside one transaction; a store whose version is
 * newer than this build is refused rather than misread. */
#include "store_schema.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const MIGRATE_TO_1 =
    "SELECT InitSpatialMetaData(0, 'WGS84');"
    "CREATE TABLE wg_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE generations("
    "  id INTEGER PRIMARY KEY,"
    "  status TEXT NOT NULL CHECK (status IN ('draft','active','retired')),"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
    "  published_at TEXT,"
    "  note TEXT);"
    "CREATE UNIQUE INDEX generations_one_active ON generations(status) WHERE status = 'active';"
    "CREATE UNIQUE INDEX generations_one_draft ON generations(status) WHERE status = 'draft';"
    "CREATE TABLE units("
    "  id INTEGER PRIMARY KEY,"
    "  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),"
    "  code TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 32),"
    "  parent_code TEXT,"
    "  name TEXT,"
    "  area_m2 REAL NOT NULL,"
    "  first_gen INTEGER NOT NULL REFERENCES generations(id),"
    "  last_gen INTEGER REFERENCES generations(id),"
    "  props TEXT);"
    "SELECT AddGeometryColumn('units', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);"
    "SELECT CreateSpatialIndex('units', 'geom');"
    "CREATE INDEX units_code ON units(code);"
    "CREATE INDEX units_gen ON units(first_gen, last_gen);"
    "CREATE TABLE addresses("
    "  id INTEGER PRIMARY KEY,"
    "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
    "  households INTEGER NOT NULL DEFAULT 1 CHECK (households >= 0),"
    "  label TEXT,"
    "  code TEXT);"
    "CREATE TABLE events("
    "  id INTEGER PRIMARY KEY,"
    "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
    "  category TEXT NOT NULL CHECK (length(category) = 4),"
    "  reported_at TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'reported',"
    "  description TEXT);"
    "CREATE TABLE assignments("
    "  generation INTEGER NOT NULL REFERENCES generations(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('address','event')),"
    "  item_id INTEGER NOT NULL,"
    "  grid_code TEXT,"
    "  nearest_code TEXT,"
    "  dist_m REAL,"
    "  PRIMARY KEY (generation, kind, item_id)) WITHOUT ROWID;"
    "CREATE TABLE assign_runs("
    "  id INTEGER PRIMARY KEY,"
    "  generation INTEGER NOT NULL REFERENCES generations(id),"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
    "  assigned INTEGER NOT NULL, outside INTEGER NOT NULL, changed INTEGER NOT NULL);";

static const char *const MIGRATE_TO_2 =
    "CREATE TABLE workers("
    "  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),"
    "  name TEXT NOT NULL,"
    "  phone TEXT,"
    "  role TEXT NOT NULL CHECK (role IN ('grid_worker','officer')),"
    "  home_grid TEXT,"
    "  lon REAL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL CHECK (lat BETWEEN -90 AND 90),"
    "  on_duty INTEGER NOT NULL DEFAULT 0 CHECK (on_duty IN (0,1)),"
    "  seen_at TEXT);"
    "CREATE INDEX workers_home_grid ON workers(home_grid);"
    "CREATE TABLE layer_features("
    "  id INTEGER PRIMARY KEY,"
    "  layer TEXT NOT NULL,"
    "  code TEXT,"
    "  name TEXT,"
    "  class TEXT,"
    "  props TEXT);"
    "SELECT AddGeometryColumn('layer_features', 'geom', 4326, 'GEOMETRY', 'XY', 1);"
    "SELECT CreateSpatialIndex('layer_features', 'geom');"
    "CREATE INDEX layer_features_layer_code ON layer_features(layer, code);";

/* Dispatch (issue 6): GPS fixes, the event loop with its steps, categories and the working
 * calendar, API keys. Times are milliseconds since the Unix epoch (UTC) in *_ms columns. */
static const char *const MIGRATE_TO_3 =
    "ALTER TABLE workers ADD COLUMN seen_ms INTEGER;"          /* time of the newest fix */
    "ALTER TABLE workers ADD COLUMN active INTEGER NOT NULL DEFAULT 1;" /* 0: deregistered */
    "CREATE TABLE worker_positions("
    "  worker_id TEXT NOT NULL REFERENCES workers(id),"
    "  at_ms INTEGER NOT NULL,"              /* when the fix was taken (device time) */
    "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
    "  accuracy_m REAL,"
    "  received_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (worker_id, at_ms)) WITHOUT ROWID;" /* a duplicate fix is one row */
    "CREATE TABLE categories("
    "  code TEXT PRIMARY KEY CHECK (length(code) = 4),"  /* 2-digit class + 2-digit subclass */
    "  class_name TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  limit_value REAL NOT NULL CHECK (limit_value > 0),"
    "  limit_unit TEXT NOT NULL CHECK (limit_unit IN ('hours','days')),"  /* working time */
    "  role TEXT NOT NULL);"                 /* responsible role */
    "CREATE TABLE calendar_days("
    "  day TEXT PRIMARY KEY,"                /* YYYY-MM-DD, local date */
    "  kind TEXT NOT NULL CHECK (kind IN ('holiday','workday')));" /* overrides of the week */
    "ALTER TABLE events ADD COLUMN photo_url TEXT;"
    "ALTER TABLE events ADD COLUMN reporter TEXT;"
    "ALTER TABLE events ADD COLUMN generation INTEGER;"  /* filed under, with its grid */
    "ALTER TABLE events ADD COLUMN grid_code TEXT;"
    "ALTER TABLE events ADD COLUMN outside INTEGER NOT NULL DEFAULT 0;" /* in no grid: flagged */
    "ALTER TABLE events ADD COLUMN assignee TEXT;"
    "ALTER TABLE events ADD COLUMN reported_ms INTEGER;"
    "ALTER TABLE events ADD COLUMN dispatched_ms INTEGER;"
    "ALTER TABLE events ADD COLUMN deadline_ms INTEGER;"
    "ALTER TABLE events ADD COLUMN closed_ms INTEGER;"
    "ALTER TABLE events ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN source TEXT;"         /* api, open311, import */
    "CREATE INDEX events_status ON events(status);"
    "CREATE INDEX events_grid ON events(grid_code);"
    "CREATE TABLE event_steps("
    "  id INTEGER PRIMARY KEY,"
    "  event_id INTEGER NOT NULL REFERENCES events(id),"
    "  action TEXT NOT NULL,"
    "  from_status TEXT,"
    "  to_status TEXT NOT NULL,"
    "  actor TEXT,"
    "  at_ms INTEGER NOT NULL,"
    "  note TEXT);"
    "CREATE INDEX event_steps_event ON event_steps(event_id, id);"
    "CREATE TABLE api_keys("
    "  id INTEGER PRIMARY KEY,"
    "  key_id TEXT NOT NULL UNIQUE,"         /* public part of the key */
    "  hash TEXT NOT NULL,"                  /* SHA-256 of the secret part, hex */
    "  role TEXT NOT NULL CHECK (role IN ('viewer','worker','dispatcher','planner','admin')),"
    "  name TEXT,"
    "  worker_id TEXT,"                      /* the worker a 'worker' key speaks for */
    "  created_ms INTEGER NOT NULL,"
    "  revoked_ms INTEGER);";

/* GPS fixes are first appended to position_inbox, so a batch of 1,000 fixes of 1,000 different
 * workers writes a few pages, not one page of the track per worker; the inbox is moved into
 * worker_positions and the workers' positions in one sorted pass now and then
 * (wg_positions_merge). workers_now is the workers with their newest stored position, inbox
 * included: what readers see. Version 4 keyed the inbox by time. */
#define WORKERS_NOW_VIEW \
    "CREATE VIEW workers_now AS" \
    " SELECT w.id AS id, w.name AS name, w.phone AS phone, w.role AS role, w.home_grid AS home_grid," \
    "  CASE WHEN i.at_ms > coalesce(w.seen_ms, i.at_ms - 1) THEN i.lon ELSE w.lon END AS lon," \
    "  CASE WHEN i.at_ms > coalesce(w.seen_ms, i.at_ms - 1) THEN i.lat ELSE w.lat END AS lat," \
    "  w.on_duty AS on_duty," \
    "  max(coalesce(w.seen_ms, i.at_ms), coalesce(i.at_ms, w.seen_ms)) AS seen_ms, w.active AS active" \
    " FROM workers w LEFT JOIN" \
    "  (SELECT worker_id, lon, lat, max(at_ms) AS at_ms FROM position_inbox GROUP BY worker_id) i" \
    "  ON i.worker_id = w.id;"

static const char *const MIGRATE_TO_4 =
    "CREATE TABLE position_inbox("
    "  at_ms INTEGER NOT NULL,"
    "  worker_id TEXT NOT NULL,"
    "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
    "  accuracy_m REAL,"
    "  received_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (at_ms, worker_id)) WITHOUT ROWID;" WORKERS_NOW_VIEW;

/* Version 5: the inbox in arrival order (a rowid table), so that a batch appends to its end
 * whatever times it carries: a phone's buffered track of 1,000 fixes an hour old used to land
 * on up to 1,000 pages of a time-keyed inbox. It has no key on the fix: the server's position
 * index keeps the keys of the fixes it put there (wg_positions_add). */
static const char *const MIGRATE_TO_5 =
    "CREATE TABLE position_inbox_5("
    "  seq INTEGER PRIMARY KEY,"
    "  worker_id TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
    "  accuracy_m REAL,"
    "  received_ms INTEGER NOT NULL);"
    "INSERT INTO position_inbox_5(worker_id, at_ms, lon, lat, accuracy_m, received_ms)"
    " SELECT worker_id, at_ms, lon, lat, accuracy_m, received_ms FROM position_inbox ORDER BY at_ms;"
    "DROP VIEW workers_now;"
    "DROP TABLE position_inbox;"
    "ALTER TABLE position_inbox_5 RENAME TO position_inbox;" WORKERS_NOW_VIEW;

/* Version 6: wg_meta counts the merges that moved fixes out of the position inbox
 * (position_merges), so that a process can tell that no other one emptied the inbox since its
 * own last merge (wg_positions_merge); a version-5 build would merge without counting. */
static const char *const MIGRATE_TO_6 =
    "INSERT INTO wg_meta(key, value) VALUES ('position_merges', '0');";

/* MIGRATIONS[v] moves a store from version v to v + 1. */
static const char *const MIGRATIONS[WG_SCHEMA_VERSION] = {MIGRATE_TO_1, MIGRATE_TO_2, MIGRATE_TO_3,
                                                          MIGRATE_TO_4, MIGRATE_TO_5, MIGRATE_TO_6};

/* The version stores are brought to; lowered only by tests (wg_schema_set_target). */
static int target_version = WG_SCHEMA_VERSION;

void wg_schema_set_target(int version)
{
    target_version = version >= 1 && version <= WG_SCHEMA_VERSION ? version : WG_SCHEMA_VERSION;
}

int wg_exec(wg_ctx *ctx, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(ctx->db, sql, NULL, NULL, &msg) == SQLITE_OK) return WG_OK;
    wg_fail(ctx, WG_ESTORE, "store: %s", msg ? msg : sqlite3_errmsg(ctx->db));
    sqlite3_free(msg);
    return WG_ESTORE;
}

int wg_query_i64(wg_ctx *ctx, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, sql, &st);
    if (rc != WG_OK) return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (s == SQLITE_DONE)
        *out = 0;
    else
        rc = wg_fail_sql(ctx, "cannot read the store");
    sqlite3_finalize(st);
    return rc;
}

int wg_prepare(wg_ctx *ctx, const char *sql, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(ctx->db, sql, -1, out, NULL) == SQLITE_OK) return WG_OK;
    *out = NULL;
    return wg_fail(ctx, WG_ESTORE, "store: %s (in: %.80s)", sqlite3_errmsg(ctx->db), sql);
}

char *wg_column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* Writers of one process queue on a lock of their own before BEGIN IMMEDIATE: SQLite's busy
 * handler would have them poll with sleeps of 1, 2, 5, 10 ... ms, while the lock hands over at
 * once (a write transaction lasts about one fsync). Writers in other processes still meet
 * SQLite's lock and busy timeout. A writer that waited WRITE_WAIT_S without getting the lock
 * goes on to BEGIN IMMEDIATE anyway, so a transaction left open by mistake costs a timeout,
 * never a hang. */
#define WRITE_WAIT_S 10
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

void wg_write_release(wg_ctx *ctx)
{
    if (ctx->writing) pthread_mutex_unlock(&write_mu);
    ctx->writing = 0;
}

int wg_begin(wg_ctx *ctx)
{
    if (!ctx->writing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WRITE_WAIT_S;
        ctx->writing = pthread_mutex_timedlock(&write_mu, &ts) == 0;
    }
    int rc = wg_exec(ctx, "BEGIN IMMEDIATE");
    if (rc != WG_OK) wg_write_release(ctx);
    return rc;
}

int wg_commit(wg_ctx *ctx)
{
    int rc = wg_exec(ctx, "COMMIT");
    if (rc == WG_OK || sqlite3_get_autocommit(ctx->db)) wg_write_release(ctx);
    return rc;
}

void wg_rollback(wg_ctx *ctx)
{
    if (!sqlite3_get_autocommit(ctx->db)) sqlite3_exec(ctx->db, "ROLLBACK", NULL, NULL, NULL);
    wg_write_release(ctx);
}

int wg_commit_or_rollback(wg_ctx *ctx, int rc)
{
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc == WG_OK) return rc;
    char keep[sizeof ctx->err];
    memcpy(keep, ctx->err, sizeof keep);
    wg_rollback(ctx);
    memcpy(ctx->err, keep, sizeof keep);
    return rc;
}

static int query_int(wg_ctx *ctx, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, sql, &st);
    if (rc != WG_OK) return rc;
    *out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return WG_OK;
}

/* Version of an opened store: 0 for an empty file; an SQLite file with tables of its own but
 * no wg_meta is someone else's and is refused. */
static int read_version(wg_ctx *ctx, int *version)
{
    int objects = 0, ours = 0;
    *version = 0;
    int rc = query_int(ctx, "SELECT count(*) FROM sqlite_master", &objects);
    if (rc == WG_OK)
        rc = query_int(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'wg_meta'", &ours);
    if (rc != WG_OK || objects == 0) return rc;
    if (!ours) return wg_fail(ctx, WG_ESTORE, "not a wangge store (no wg_meta table)");
    return query_int(ctx, "SELECT value FROM wg_meta WHERE key = 'schema_version'", version);
}

static int migrate(wg_ctx *ctx, int from, int to)
{
    int rc = wg_begin(ctx);
    for (int v = from; rc == WG_OK && v < to; v++) rc = wg_exec(ctx, MIGRATIONS[v]);
    if (rc == WG_OK) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO wg_meta(key, value) VALUES ('schema_version', '%d')", to);
        rc = wg_exec(ctx, sql);
    }
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc != WG_OK) wg_rollback(ctx);
    return rc;
}

int wg_schema_prepare(wg_ctx *ctx, int writable)
{
    int rc;
    if (writable) {
        rc = wg_exec(ctx, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
        if (rc != WG_OK) return rc;
    }
    /* Writers cache more pages (64 MiB, not SQLite's 2 MiB): a batch of fixes may check each
     * against the track's key, anywhere in the file (a server with a writer per thread lowers
     * it: wg_store_set_cache). */
    rc = wg_exec(ctx, writable ? "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;" : "PRAGMA foreign_keys = ON;");
    if (rc != WG_OK) return rc;
    int version;
    rc = read_version(ctx, &version);
    if (rc != WG_OK) return rc;
    int target = target_version;
    if (version > WG_SCHEMA_VERSION)
        return wg_fail(ctx, WG_ESTORE,
                       "store has schema version %d, newer than this build (%d): upgrade wangge",
                       version, WG_SCHEMA_VERSION);
    if (version >= target) return WG_OK;
    if (!writable)
        return wg_fail(ctx, WG_ESTORE, "store has schema version %d, needs %d: open it writable",
                       version, target);
    return migrate(ctx, version, target);
}
