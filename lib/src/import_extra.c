/* Import of workers and reference layers (see wangge/import.h), and the list of layers.
 *
 * The same shape as import.c: one transaction, the whole file read so that every rejection is
 * reported, rolled back unless skip_rejected; files streamed. Workers are upserted by id
 * (with the rule for empty fields documented in import.h); layers are plain rows of
 * layer_features under their name, outside the generations. */
#include "wangge/import.h"
#include "csv_stream.h"
#include "geojson_stream.h"
#include "geom.h"
#include "import_internal.h"
#include "store_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WORKER_ID_LEN 64
#define MAX_GRID_CODE_LEN 32 /* as unit codes */
#define MAX_LAYER_CODE_LEN 64

/* ---------------------------------------------------------------- workers */

enum { W_ID, W_NAME, W_PHONE, W_ROLE, W_HOME, W_LON, W_LAT, W_DUTY, W_SEEN, W_COUNT };

typedef struct worker_job {
    wg_import_run r;
    sqlite3_stmt *upsert, *exists, *seen;
    const int *cols;          /* CSV: column per field slot */
    const char *const *names; /* field names per slot */
} worker_job;

/* A worker's position: none (both NULL), or a checked lon/lat. */
typedef struct position {
    int known;
    double lon, lat;
} position;

/* on_duty as 0/1, -1 if not given; -2 if it is neither. Booleans of GeoJSON count. */
static int parse_on_duty(const wg_imp_record *rec)
{
    if (rec->props) {
        json_object *v = NULL;
        if (json_object_object_get_ex(rec->props, rec->names[W_DUTY], &v) &&
            json_object_is_type(v, json_type_boolean))
            return json_object_get_boolean(v) ? 1 : 0;
    }
    const char *s = wg_imp_nonempty(wg_imp_rec_get(rec, W_DUTY));
    if (!s) return -1;
    if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0) return 1;
    if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0) return 0;
    return -2;
}

/* 1 if the id is new to the file, 0 if it appeared before, or an rc < 0. */
static int id_is_new(worker_job *j, const char *id)
{
    sqlite3_reset(j->seen);
    sqlite3_bind_text(j->seen, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(j->seen) != SQLITE_DONE) return wg_fail_sql(j->r.ctx, "import");
    return sqlite3_changes(j->r.ctx->db) != 0;
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Validates and stores one worker. pos_fault: a reason the position was refused by the
 * reader (NULL if it was fine). Rejections are reported, not returned. */
static int worker_record(worker_job *j, const wg_imp_record *rec, const position *pos,
                         const char *pos_fault, size_t where, int is_line)
{
    wg_import_run *r = &j->r;
    const char *id = wg_imp_nonempty(wg_imp_rec_get(rec, W_ID));
    if (!id) {
        wg_imp_issue(r, where, is_line, NULL, 0, "missing_id", "worker has no id");
        return WG_OK;
    }
    if (strlen(id) > MAX_WORKER_ID_LEN) {
        wg_imp_issue(r, where, is_line, NULL, 0, "bad_id", "id longer than 64 characters");
        return WG_OK;
    }
    int fresh = id_is_new(j, id);
    if (fresh < 0) return fresh;
    if (!fresh) {
        wg_imp_issue(r, where, is_line, id, 0, "duplicate_id", "id appears earlier in the file");
        return WG_OK;
    }
    const char *name = wg_imp_nonempty(wg_imp_rec_get(rec, W_NAME));
    const char *role = wg_imp_nonempty(wg_imp_rec_get(rec, W_ROLE));
    const char *home = wg_imp_nonempty(wg_imp_rec_get(rec, W_HOME));
    int duty = parse_on_duty(rec);
    if (!name) {
        wg_imp_issue(r, where, is_line, id, 0, "missing_name", "worker has no name");
        return WG_OK;
    }
    if (!role || (strcmp(role, "grid_worker") != 0 && strcmp(role, "officer") != 0)) {
        char msg[160];
        snprintf(msg, sizeof msg, "role '%.40s' is not grid_worker or officer", role ? role : "");
        wg_imp_issue(r, where, is_line, id, 0, "bad_role", msg);
        return WG_OK;
    }
    if (home && strlen(home) > MAX_GRID_CODE_LEN) {
        wg_imp_issue(r, where, is_line, id, 0, "bad_home_grid",
                     "home_grid longer than 32 characters");
        return WG_OK;
    }
    if (pos_fault) {
        wg_imp_issue(r, where, is_line, id, 0, "bad_coordinates", pos_fault);
        return WG_OK;
    }
    if (duty == -2) {
        wg_imp_issue(r, where, is_line, id, 0, "bad_on_duty", "on_duty is not 0 or 1");
        return WG_OK;
    }

    sqlite3_reset(j->exists);
    sqlite3_bind_text(j->exists, 1, id, -1, SQLITE_TRANSIENT);
    int st = sqlite3_step(j->exists);
    if (st != SQLITE_ROW && st != SQLITE_DONE) return wg_fail_sql(r->ctx, "import");
    int stored = st == SQLITE_ROW;

    sqlite3_stmt *u = j->upsert;
    sqlite3_reset(u);
    sqlite3_clear_bindings(u);
    sqlite3_bind_text(u, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(u, 2, name, -1, SQLITE_TRANSIENT);
    bind_opt_text(u, 3, wg_imp_nonempty(wg_imp_rec_get(rec, W_PHONE)));
    sqlite3_bind_text(u, 4, role, -1, SQLITE_TRANSIENT);
    bind_opt_text(u, 5, home);
    if (pos->known) {
        sqlite3_bind_double(u, 6, pos->lon);
        sqlite3_bind_double(u, 7, pos->lat);
        bind_opt_text(u, 9, wg_imp_nonempty(wg_imp_rec_get(rec, W_SEEN)));
    }
    if (duty >= 0) sqlite3_bind_int(u, 8, duty);
    if (sqlite3_step(u) != SQLITE_DONE) return wg_fail_sql(r->ctx, "cannot store worker");
    r->stats->imported++;
    if (stored) r->stats->updated++;
    return WG_OK;
}

/* The position of a CSV row: empty lon and lat = unknown. Returns NULL or the fault. */
static const char *csv_position(const char *slon, const char *slat, position *pos, char *buf,
                                size_t len)
{
    pos->known = 0;
    slon = wg_imp_nonempty(slon);
    slat = wg_imp_nonempty(slat);
    if (!slon && !slat) return NULL;
    if (!slon || !slat) return "only one of lon and lat is given";
    if (!wg_imp_parse_double(slon, &pos->lon) || !wg_imp_parse_double(slat, &pos->lat))
        return "lon/lat is not a number";
    if (wg_check_lonlat(pos->lon, pos->lat, buf, len) != WG_OK) return buf;
    pos->known = 1;
    return NULL;
}

static int worker_row(void *ud, const char *const *fields, size_t line)
{
    worker_job *j = ud;
    wg_imp_record rec = {fields, j->cols, NULL, j->names};
    position pos = {0, 0, 0};
    char buf[160];
    const char *fault = j->cols[W_LON] < 0 ? NULL
                                           : csv_position(fields[j->cols[W_LON]], fields[j->cols[W_LAT]],
                                                          &pos, buf, sizeof buf);
    return worker_record(j, &rec, &pos, fault, line, 1);
}

static int workers_csv(worker_job *j, const char *path, const char *const *names)
{
    wg_ctx *ctx = j->r.ctx;
    wg_csv_stream *in = NULL;
    int rc = wg_csv_open(ctx, path, &in);
    if (rc != WG_OK) return rc;
    int cols[W_COUNT];
    for (int k = 0; k < W_COUNT; k++)
        cols[k] = wg_csv_col(in, names[k]);
    if (cols[W_ID] < 0 || cols[W_NAME] < 0 || cols[W_ROLE] < 0) {
        wg_csv_close(in);
        return wg_fail(ctx, WG_EDATA, "%s: header has no 'id', 'name' and 'role' columns", path);
    }
    if ((cols[W_LON] < 0) != (cols[W_LAT] < 0)) {
        wg_csv_close(in);
        return wg_fail(ctx, WG_EDATA, "%s: header has only one of the '%s' and '%s' columns", path,
                       names[W_LON], names[W_LAT]);
    }
    j->cols = cols;
    rc = wg_imp_each_row(&j->r, in, worker_row, j);
    wg_csv_close(in);
    return rc;
}

static int worker_feature(void *ud, json_object *feature, size_t index)
{
    worker_job *j = ud;
    const char *const *names = j->names;
    json_object *props = NULL, *geometry = NULL;
    json_object_object_get_ex(feature, "properties", &props);
    json_object_object_get_ex(feature, "geometry", &geometry);
    /* the id may be the feature's own id member */
    json_object *merged = NULL;
    if (!wg_imp_prop_text(props, names[W_ID]) && wg_imp_prop_text(feature, "id")) {
        merged = json_object_new_object();
        if (json_object_is_type(props, json_type_object)) {
            json_object_object_foreach(props, key, val)
                json_object_object_add(merged, key, json_object_get(val));
        }
        json_object_object_add(merged, names[W_ID], json_object_new_string(wg_imp_prop_text(feature, "id")));
        props = merged;
    }
    wg_imp_record rec = {NULL, NULL, props, names};
    position pos = {0, 0, 0};
    char detail[160];
    const char *fault = NULL;
    if (geometry) {
        if (wg_point_from_geojson(geometry, &pos.lon, &pos.lat, detail, sizeof detail) == WG_OK)
            pos.known = 1;
        else
            fault = detail;
    }
    int rc = worker_record(j, &rec, &pos, fault, index, 0);
    json_object_put(merged);
    return rc;
}

static int workers_geojson(worker_job *j, const char *path)
{
    wg_geojson_stream *in = NULL;
    int rc = wg_geojson_open(j->r.ctx, path, &in);
    if (rc == WG_OK) rc = wg_imp_each_feature(&j->r, in, worker_feature, j);
    wg_geojson_close(in);
    return rc;
}

int wg_import_workers(wg_ctx *ctx, const char *path, const wg_point_import_opts *opts,
                      wg_import_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    wg_point_import_opts o = {0};
    if (opts) o = *opts;
    const char *names[W_COUNT] = {"id",
                                  "name",
                                  "phone",
                                  "role",
                                  "home_grid",
                                  o.lon_col ? o.lon_col : "lon",
                                  o.lat_col ? o.lat_col : "lat",
                                  "on_duty",
                                  "seen_at"};
    worker_job j = {{ctx, o.on_issue, o.on_progress, o.ud, stats, 0}, NULL, NULL, NULL, NULL, names};
    int rc = wg_begin(ctx);
    if (rc == WG_OK && o.replace) rc = wg_exec(ctx, "DELETE FROM workers");
    if (rc == WG_OK)
        rc = wg_exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS import_ids(id TEXT PRIMARY KEY);"
                          "DELETE FROM import_ids;");
    /* an empty position (?6 NULL) or on_duty (?8 NULL) keeps what is stored: see import.h */
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        "INSERT INTO workers(id, name, phone, role, home_grid, lon, lat, on_duty,"
                        " seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, 0), ?9)"
                        " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                        " phone = excluded.phone, role = excluded.role,"
                        " home_grid = excluded.home_grid,"
                        " lon = CASE WHEN ?6 IS NULL THEN lon ELSE excluded.lon END,"
                        " lat = CASE WHEN ?6 IS NULL THEN lat ELSE excluded.lat END,"
                        " seen_at = CASE WHEN ?6 IS NULL THEN seen_at ELSE excluded.seen_at END,"
                        " on_duty = coalesce(?8, on_duty)",
                        &j.upsert);
    if (rc == WG_OK) rc = wg_prepare(ctx, "SELECT 1 FROM workers WHERE id = ?", &j.exists);
    if (rc == WG_OK) rc = wg_prepare(ctx, "INSERT OR IGNORE INTO import_ids VALUES (?)", &j.seen);
    if (rc == WG_OK)
        rc = wg_imp_is_csv(path) ? workers_csv(&j, path, names) : workers_geojson(&j, path);
    sqlite3_finalize(j.upsert);
    sqlite3_finalize(j.exists);
    sqlite3_finalize(j.seen);
    rc = wg_imp_finish(&j.r, rc, o.skip_rejected, path, "workers");
    if (rc != WG_OK) stats->updated = 0;
    return rc;
}

/* ---------------------------------------------------------------- layers */

static int layer_name_ok(const char *layer)
{
    size_t n = layer ? strlen(layer) : 0;
    if (n < 1 || n > WG_LAYER_NAME_MAX) return 0;
    for (const char *p = layer; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
    return 1;
}

typedef struct layer_job {
    wg_import_run r;
    const wg_unit_import_opts *o;
    const char *layer;
    sqlite3_stmt *insert;
} layer_job;

static int insert_feature(layer_job *j, const char *code, json_object *props, const GEOSGeometry *g)
{
    wg_ctx *ctx = j->r.ctx;
    size_t len = 0;
    unsigned char *wkb = wg_geom_to_wkb(ctx, g, &len);
    if (!wkb) return wg_fail_geos(ctx, "cannot encode geometry");
    const char *class_prop = wg_imp_prop_text(props, "class") ? "class" : "theme";
    const char *skip[] = {j->o->code_prop, j->o->name_prop, class_prop};
    char *extra = wg_imp_props_except(props, skip, 3);
    sqlite3_stmt *st = j->insert;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, j->layer, -1, SQLITE_STATIC);
    bind_opt_text(st, 2, code);
    bind_opt_text(st, 3, wg_imp_nonempty(wg_imp_prop_text(props, j->o->name_prop)));
    bind_opt_text(st, 4, wg_imp_nonempty(wg_imp_prop_text(props, class_prop)));
    bind_opt_text(st, 5, extra);
    sqlite3_bind_blob(st, 6, wkb, (int)len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? WG_OK : wg_fail_sql(ctx, "cannot store feature");
    free(extra);
    GEOSFree_r(ctx->geos, wkb);
    return rc;
}

/* Lines and points: GEOS validity, no repair. Returns 1 kept, 0 rejected. */
static int check_valid_plain(wg_import_run *r, size_t index, const char *code,
                             const GEOSGeometry *g)
{
    char detail[256];
    int v = wg_geom_check_valid(r->ctx, g, detail, sizeof detail);
    if (v == 1) return 1;
    if (v < 0) snprintf(detail, sizeof detail, "GEOS error: %.200s", r->ctx->geos_msg);
    wg_imp_issue(r, index, 0, code, 0, "invalid", detail);
    return 0;
}

static int layer_feature(void *ud, json_object *feature, size_t index)
{
    layer_job *j = ud;
    wg_import_run *r = &j->r;
    wg_ctx *ctx = r->ctx;
    json_object *props = NULL, *geometry = NULL;
    json_object_object_get_ex(feature, "properties", &props);
    json_object_object_get_ex(feature, "geometry", &geometry);
    const char *code = wg_imp_nonempty(wg_imp_prop_text(props, j->o->code_prop));
    if (!code && strcmp(j->o->code_prop, "id") == 0)
        code = wg_imp_nonempty(wg_imp_prop_text(feature, "id"));
    if (code && strlen(code) > MAX_LAYER_CODE_LEN) {
        wg_imp_issue(r, index, 0, NULL, 0, "bad_code", "code longer than 64 characters");
        return WG_OK;
    }
    int fault = 0, closed = 0;
    char detail[256];
    GEOSGeometry *g = NULL;
    int rc = wg_geom_from_geojson_any(ctx, geometry, WG_GK_ANY, j->o->repair ? &closed : NULL,
                                      &fault, detail, sizeof detail, &g);
    if (rc == WG_EDATA) {
        wg_imp_issue(r, index, 0, code, 0, wg_geom_fault_name(fault), detail);
        return WG_OK;
    }
    if (rc != WG_OK) return rc;
    char closing[256];
    snprintf(closing, sizeof closing, "%s", closed ? detail : "");
    int type = GEOSGeomTypeId_r(ctx->geos, g);
    int kept = type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON
                   ? wg_imp_ensure_valid(r, j->o->repair, index, code, &g)
                   : check_valid_plain(r, index, code, g);
    if (kept) {
        rc = insert_feature(j, code, props, g);
        if (rc == WG_OK) {
            r->stats->imported++;
            if (closed) wg_imp_issue(r, index, 0, code, 1, "unclosed_ring", closing);
        }
    }
    GEOSGeom_destroy_r(ctx->geos, g);
    return rc;
}

int wg_import_layer(wg_ctx *ctx, const char *path, const char *layer,
                    const wg_unit_import_opts *opts, wg_import_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if (!layer_name_ok(layer))
        return wg_fail(ctx, WG_EINVAL, "layer name '%.40s' is not 1-%d characters of [a-z0-9_]",
                       layer ? layer : "", WG_LAYER_NAME_MAX);
    wg_unit_import_opts o = {0};
    if (opts) o = *opts;
    if (!o.code_prop) o.code_prop = "code";
    if (!o.name_prop) o.name_prop = "name";
    layer_job j = {{ctx, o.on_issue, o.on_progress, o.ud, stats, 0}, &o, layer, NULL};
    wg_geojson_stream *in = NULL;
    int rc = wg_geojson_open(ctx, path, &in);
    if (rc != WG_OK) return rc;
    rc = wg_begin(ctx);
    if (rc == WG_OK && o.replace) {
        sqlite3_stmt *del = NULL;
        rc = wg_prepare(ctx, "DELETE FROM layer_features WHERE layer = ?", &del);
        if (rc == WG_OK) {
            sqlite3_bind_text(del, 1, layer, -1, SQLITE_STATIC);
            if (sqlite3_step(del) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot replace layer");
        }
        sqlite3_finalize(del);
    }
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        "INSERT INTO layer_features(layer, code, name, class, props, geom)"
                        " VALUES (?, ?, ?, ?, ?, GeomFromWKB(?, 4326))",
                        &j.insert);
    if (rc == WG_OK) rc = wg_imp_each_feature(&j.r, in, layer_feature, &j);
    sqlite3_finalize(j.insert);
    wg_geojson_close(in);
    return wg_imp_finish(&j.r, rc, o.skip_rejected, path, "features");
}

int wg_layers_list(wg_ctx *ctx, wg_layer_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT layer, count(*),"
                        " sum(GeometryType(geom) LIKE '%POINT%'),"
                        " sum(GeometryType(geom) LIKE '%LINESTRING%'),"
                        " sum(GeometryType(geom) LIKE '%POLYGON%')"
                        " FROM layer_features GROUP BY layer ORDER BY layer",
                        &st);
    if (rc != WG_OK) return rc;
    wg_layer_info *v = NULL;
    size_t cap = 0, k = 0;
    int s = SQLITE_DONE;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        rc = wg_grow((void **)&v, &cap, k + 1, sizeof *v);
        if (rc != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        wg_layer_info *l = &v[k++];
        memset(l, 0, sizeof *l);
        const unsigned char *name = sqlite3_column_text(st, 0);
        snprintf(l->name, sizeof l->name, "%s", name ? (const char *)name : "");
        l->features = (size_t)sqlite3_column_int64(st, 1);
        l->points = (size_t)sqlite3_column_int64(st, 2);
        l->lines = (size_t)sqlite3_column_int64(st, 3);
        l->polygons = (size_t)sqlite3_column_int64(st, 4);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot list layers");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return WG_OK;
}
