/* Import of units, addresses and events (see wangge/import.h).
 *
 * Everything read goes through one transaction: the whole file is read even after a
 * rejection so that every bad feature is reported at once, and the transaction is rolled
 * back unless skip_rejected was asked for. Files are streamed (geojson_stream, csv_stream):
 * memory does not grow with the number of features. The helpers shared with import_extra.c
 * (workers, reference layers) are declared in import_internal.h. */
#include "wangge/import.h"
#include "wangge/store.h"
#include "csv_stream.h"
#include "geojson_stream.h"
#include "geom.h"
#include "import_internal.h"
#include "store_schema.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Codes are short identifiers (15 digits in the standard layout); 32 bounds garbage. */
#define MAX_CODE_LEN 32

typedef wg_import_run run;

void wg_imp_issue(run *r, size_t where, int is_line, const char *code, int repaired,
                  const char *kind, const char *reason)
{
    if (repaired) r->stats->repaired++;
    else r->stats->rejected++;
    if (!r->on_issue) return;
    wg_import_issue is = {where, is_line, code, repaired, kind, reason};
    r->on_issue(r->ud, &is);
}

void wg_imp_progress(run *r, uint64_t done, uint64_t total)
{
    /* report about every 1 MiB so a progress bar moves without costing anything */
    if (!r->on_progress || (done - r->last_progress < (1u << 20) && done < total)) return;
    r->last_progress = done;
    r->on_progress(r->ud, done, total);
}

int wg_imp_each_feature(run *r, wg_geojson_stream *in, wg_imp_feature_fn fn, void *ud)
{
    int rc = WG_OK;
    while (rc == WG_OK) {
        json_object *feature = NULL;
        size_t index = 0;
        rc = wg_geojson_next(in, &feature, &index);
        if (rc != WG_OK || !feature) break;
        r->stats->read++;
        rc = fn(ud, feature, index);
        json_object_put(feature);
        wg_imp_progress(r, wg_geojson_bytes_read(in), wg_geojson_bytes_total(in));
    }
    return rc;
}

int wg_imp_each_row(run *r, wg_csv_stream *in, wg_imp_row_fn fn, void *ud)
{
    int rc = WG_OK;
    while (rc == WG_OK) {
        const char *const *fields = NULL;
        size_t nf = 0, line = 0;
        rc = wg_csv_next(in, &fields, &nf, &line);
        if (rc != WG_OK || !fields) break;
        r->stats->read++;
        rc = fn(ud, fields, line);
        wg_imp_progress(r, wg_csv_bytes_read(in), wg_csv_bytes_total(in));
    }
    return rc;
}

int wg_imp_is_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

size_t wg_code_parent_len(int level, const char *code)
{
    if (!code || !wg_imp_is_digits(code)) return 0;
    size_t n = strlen(code);
    if (level == WG_LEVEL_COMMUNITY && n == 12) return 9;
    if (level == WG_LEVEL_GRID && (n == 15 || n == 14)) return 12;
    return 0;
}

const char *wg_imp_prop_text(json_object *props, const char *name)
{
    json_object *v = NULL;
    if (!props || !json_object_object_get_ex(props, name, &v) || !v) return NULL;
    switch (json_object_get_type(v)) {
    case json_type_string:
    case json_type_int:
    case json_type_double: return json_object_get_string(v);
    default: return NULL;
    }
}

static void track_digits(run *r, const char *code)
{
    int len = wg_imp_is_digits(code) ? (int)strlen(code) : 0;
    if (r->stats->imported == 0) r->stats->code_digits = len;
    else if (r->stats->code_digits != len) r->stats->code_digits = 0;
}

/* ---------------------------------------------------------------- units */

typedef struct unit_stmts {
    sqlite3_stmt *insert, *exists, *seen;
} unit_stmts;

static void finalize_unit_stmts(unit_stmts *s)
{
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->exists);
    sqlite3_finalize(s->seen);
}

static int prepare_unit_stmts(wg_ctx *ctx, unit_stmts *s)
{
    memset(s, 0, sizeof *s);
    int rc = wg_exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS import_codes(code TEXT PRIMARY KEY);"
                          "DELETE FROM import_codes;");
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        "INSERT INTO units(level, code, parent_code, name, area_m2, first_gen,"
                        " props, geom) VALUES (?, ?, ?, ?, ?, ?, ?, GeomFromWKB(?, 4326))",
                        &s->insert);
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        "SELECT level FROM units WHERE code = ?1 AND first_gen <= ?2"
                        " AND (last_gen IS NULL OR last_gen >= ?2)",
                        &s->exists);
    if (rc == WG_OK) rc = wg_prepare(ctx, "INSERT OR IGNORE INTO import_codes VALUES (?)", &s->seen);
    return rc;
}

/* Removes the level from the draft: rows born in it are deleted, inherited rows end before it. */
static int clear_level(wg_ctx *ctx, int64_t draft, int level)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM units WHERE level = %d AND first_gen = %lld;"
             "UPDATE units SET last_gen = %lld WHERE level = %d AND last_gen IS NULL;",
             level, (long long)draft, (long long)draft - 1, level);
    return wg_exec(ctx, sql);
}

/* 1 if the code is new to the file and the draft, 0 if a duplicate, or an rc < 0. */
static int code_is_new(wg_ctx *ctx, unit_stmts *s, int64_t draft, const char *code)
{
    sqlite3_reset(s->seen);
    sqlite3_bind_text(s->seen, 1, code, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s->seen) != SQLITE_DONE) return wg_fail_sql(ctx, "import");
    if (sqlite3_changes(ctx->db) == 0) return 0;
    sqlite3_reset(s->exists);
    sqlite3_bind_text(s->exists, 1, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s->exists, 2, draft);
    int st = sqlite3_step(s->exists);
    if (st == SQLITE_ROW) return 0;
    return st == SQLITE_DONE ? 1 : wg_fail_sql(ctx, "import");
}

int wg_imp_ensure_valid(run *r, int repair, size_t index, const char *code, GEOSGeometry **g)
{
    wg_ctx *ctx = r->ctx;
    char detail[256], msg[512];
    int v = wg_geom_check_valid(ctx, *g, detail, sizeof detail);
    if (v == 1) return 1;
    if (v < 0) snprintf(detail, sizeof detail, "GEOS error: %.200s", ctx->geos_msg);
    if (!repair) {
        wg_imp_issue(r, index, 0, code, 0, "invalid", detail);
        return 0;
    }
    double before = wg_geom_area_m2(ctx, *g);
    int parts_before = GEOSGetNumGeometries_r(ctx->geos, *g);
    GEOSGeometry *fixed = wg_geom_make_valid(ctx, *g);
    if (!fixed || GEOSisEmpty_r(ctx->geos, fixed)) {
        snprintf(msg, sizeof msg, "%s; repair left no polygon (collapsed to a line or point)",
                 detail);
        if (fixed) GEOSGeom_destroy_r(ctx->geos, fixed);
        wg_imp_issue(r, index, 0, code, 0, "invalid", msg);
        return 0;
    }
    double after = wg_geom_area_m2(ctx, fixed);
    snprintf(msg, sizeof msg, "%s; made valid: area %.1f -> %.1f m2, parts %d -> %d", detail,
             before, after, parts_before, GEOSGetNumGeometries_r(ctx->geos, fixed));
    r->stats->repaired_area_change_m2 += fabs(after - before);
    GEOSGeom_destroy_r(ctx->geos, *g);
    *g = fixed;
    wg_imp_issue(r, index, 0, code, 1, "invalid", msg);
    return 1;
}

char *wg_imp_props_except(json_object *props, const char *const *skip, size_t nskip)
{
    if (!props || !json_object_is_type(props, json_type_object)) return NULL;
    json_object *copy = json_object_new_object();
    json_object_object_foreach(props, key, val)
    {
        int keep = 1;
        for (size_t i = 0; i < nskip && keep; i++) keep = !skip[i] || strcmp(key, skip[i]) != 0;
        if (keep) json_object_object_add(copy, key, json_object_get(val));
    }
    char *text = json_object_object_length(copy)
                     ? strdup(json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN))
                     : NULL;
    json_object_put(copy);
    return text;
}

static int insert_unit(run *r, const wg_unit_import_opts *o, unit_stmts *s, int64_t draft,
                       const char *code, const char *parent, const char *name,
                       const GEOSGeometry *g, json_object *props)
{
    wg_ctx *ctx = r->ctx;
    size_t len = 0;
    unsigned char *wkb = wg_geom_to_wkb(ctx, g, &len);
    if (!wkb) return wg_fail_geos(ctx, "cannot encode geometry");
    const char *skip[] = {o->code_prop, o->name_prop, o->parent_prop};
    char *extra = wg_imp_props_except(props, skip, 3);
    sqlite3_stmt *st = s->insert;
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, o->level);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
    if (parent) sqlite3_bind_text(st, 3, parent, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 3);
    if (name) sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 4);
    sqlite3_bind_double(st, 5, wg_geom_area_m2(ctx, g));
    sqlite3_bind_int64(st, 6, draft);
    if (extra) sqlite3_bind_text(st, 7, extra, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 7);
    sqlite3_bind_blob(st, 8, wkb, (int)len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? WG_OK : wg_fail_sql(ctx, "cannot store unit");
    free(extra);
    GEOSFree_r(ctx->geos, wkb);
    return rc;
}

static int unit_feature(run *r, const wg_unit_import_opts *o, unit_stmts *s, int64_t draft,
                        json_object *feature, size_t index)
{
    wg_ctx *ctx = r->ctx;
    json_object *props = NULL, *geometry = NULL;
    json_object_object_get_ex(feature, "properties", &props);
    json_object_object_get_ex(feature, "geometry", &geometry);
    const char *code = wg_imp_prop_text(props, o->code_prop);
    if (!code && strcmp(o->code_prop, "id") == 0) code = wg_imp_prop_text(feature, "id");
    if (!code || !*code) {
        wg_imp_issue(r, index, 0, NULL, 0, "missing_code", "feature has no code");
        return WG_OK;
    }
    if (strlen(code) > MAX_CODE_LEN) {
        wg_imp_issue(r, index, 0, NULL, 0, "bad_code", "code longer than 32 characters");
        return WG_OK;
    }
    const char *parent = o->level > 1 ? wg_imp_prop_text(props, o->parent_prop) : NULL;
    char derived[MAX_CODE_LEN + 1];
    size_t plen = wg_code_parent_len(o->level, code);
    if (o->level > 1 && (!parent || !*parent) && plen) {
        memcpy(derived, code, plen);
        derived[plen] = '\0';
        parent = derived;
    }
    if (o->level > 1 && (!parent || !*parent)) {
        wg_imp_issue(r, index, 0, code, 0, "missing_parent", "feature has no parent code");
        return WG_OK;
    }
    int fault = 0;
    char detail[256];
    GEOSGeometry *g = NULL;
    int closed = 0;
    int rc = wg_geom_from_geojson(ctx, geometry, o->repair ? &closed : NULL, &fault, detail,
                                  sizeof detail, &g);
    if (rc == WG_EDATA) {
        wg_imp_issue(r, index, 0, code, 0, wg_geom_fault_name(fault), detail);
        return WG_OK;
    }
    if (rc != WG_OK) return rc;
    char closing[256];
    snprintf(closing, sizeof closing, "%s", closed ? detail : "");
    int fresh = code_is_new(ctx, s, draft, code);
    if (fresh == 0)
        wg_imp_issue(r, index, 0, code, 0, "duplicate_code",
                     "code already used in this generation");
    if (fresh == 1 && wg_imp_ensure_valid(r, o->repair, index, code, &g)) {
        const char *name = wg_imp_prop_text(props, o->name_prop);
        rc = insert_unit(r, o, s, draft, code, parent, name, g, props);
        if (rc == WG_OK) {
            track_digits(r, code);
            r->stats->imported++;
            /* reported once kept: "repaired" means repaired and stored */
            if (closed) wg_imp_issue(r, index, 0, code, 1, "unclosed_ring", closing);
        }
    }
    GEOSGeom_destroy_r(ctx->geos, g);
    return fresh < 0 ? fresh : rc;
}

int wg_imp_finish(run *r, int rc, int skip_rejected, const char *path, const char *what)
{
    wg_ctx *ctx = r->ctx;
    if (rc == WG_OK && r->stats->rejected && !skip_rejected)
        rc = wg_fail(ctx, WG_EDATA, "%s: %zu of %zu %s rejected; nothing was imported", path,
                     r->stats->rejected, r->stats->read, what);
    rc = wg_commit_or_rollback(ctx, rc);
    if (rc != WG_OK) r->stats->imported = 0;
    return rc;
}

typedef struct unit_job {
    run *r;
    const wg_unit_import_opts *o;
    unit_stmts *s;
    int64_t draft;
} unit_job;

static int unit_cb(void *ud, json_object *feature, size_t index)
{
    unit_job *j = ud;
    return unit_feature(j->r, j->o, j->s, j->draft, feature, index);
}

int wg_import_units(wg_ctx *ctx, const char *path, const wg_unit_import_opts *opts,
                    wg_import_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if (opts->level < WG_LEVEL_DISTRICT || opts->level > WG_LEVEL_GRID)
        return wg_fail(ctx, WG_EINVAL, "level must be 1 (district), 2 (community) or 3 (grid)");
    wg_unit_import_opts o = *opts;
    if (!o.code_prop) o.code_prop = "code";
    if (!o.name_prop) o.name_prop = "name";
    if (!o.parent_prop) o.parent_prop = "parent";
    run r = {ctx, o.on_issue, o.on_progress, o.ud, stats, 0};
    wg_geojson_stream *in = NULL;
    int rc = wg_geojson_open(ctx, path, &in);
    if (rc != WG_OK) return rc;
    unit_stmts s = {0};
    int64_t draft = 0;
    rc = wg_begin(ctx);
    if (rc == WG_OK) rc = wg_gen_draft(ctx, 1, &draft);
    if (rc == WG_OK && o.replace) rc = clear_level(ctx, draft, o.level);
    if (rc == WG_OK) rc = prepare_unit_stmts(ctx, &s);
    stats->generation = draft;
    unit_job job = {&r, &o, &s, draft};
    if (rc == WG_OK) rc = wg_imp_each_feature(&r, in, unit_cb, &job);
    finalize_unit_stmts(&s);
    wg_geojson_close(in);
    return wg_imp_finish(&r, rc, o.skip_rejected, path, "features");
}

/* ---------------------------------------------------------------- points */

typedef wg_imp_record record;

enum { F_LON, F_LAT, F_HOUSEHOLDS, F_LABEL, F_CODE, F_CATEGORY, F_TIME, F_STATUS, F_DESC, F_COUNT };

const char *wg_imp_rec_get(const record *rec, int slot)
{
    if (rec->fields) return rec->cols[slot] >= 0 ? rec->fields[rec->cols[slot]] : NULL;
    return wg_imp_prop_text(rec->props, rec->names[slot]);
}

int wg_imp_parse_double(const char *s, double *v)
{
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno == 0;
}

typedef struct point_job {
    run r;
    int events;
    sqlite3_stmt *insert;
    const int *cols;           /* CSV: column per field slot */
    const char *const *names;  /* field names per slot */
} point_job;

/* Validates and stores one record; rejections are reported, not returned. */
static int point_record(point_job *j, const record *rec, double lon, double lat, size_t where,
                        int is_line)
{
    char detail[160];
    if (wg_check_lonlat(lon, lat, detail, sizeof detail) != WG_OK) {
        wg_imp_issue(&j->r, where, is_line, NULL, 0,
                     isfinite(lon) && isfinite(lat) ? "out_of_range" : "nan", detail);
        return WG_OK;
    }
    sqlite3_stmt *st = j->insert;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_double(st, 1, lon);
    sqlite3_bind_double(st, 2, lat);
    if (!j->events) {
        const char *hh = wg_imp_nonempty(wg_imp_rec_get(rec, F_HOUSEHOLDS));
        char *end = NULL;
        long n = hh ? strtol(hh, &end, 10) : 1;
        if (hh && (*end || n < 0 || n > 100000)) {
            wg_imp_issue(&j->r, where, is_line, NULL, 0, "bad_households",
                         "households is not a whole number from 0 to 100000");
            return WG_OK;
        }
        sqlite3_bind_int64(st, 3, n);
        const char *label = wg_imp_nonempty(wg_imp_rec_get(rec, F_LABEL)),
                   *code = wg_imp_nonempty(wg_imp_rec_get(rec, F_CODE));
        if (label) sqlite3_bind_text(st, 4, label, -1, SQLITE_TRANSIENT);
        if (code) sqlite3_bind_text(st, 5, code, -1, SQLITE_TRANSIENT);
    } else {
        const char *cat = wg_imp_nonempty(wg_imp_rec_get(rec, F_CATEGORY)),
                   *t = wg_imp_nonempty(wg_imp_rec_get(rec, F_TIME));
        if (!cat || strlen(cat) != 4 || !wg_imp_is_digits(cat)) {
            wg_imp_issue(&j->r, where, is_line, NULL, 0, "bad_category",
                         "category is not a 4-digit code (2-digit class + 2-digit subclass)");
            return WG_OK;
        }
        if (!t) {
            wg_imp_issue(&j->r, where, is_line, NULL, 0, "missing_time", "event has no time");
            return WG_OK;
        }
        const char *status = wg_imp_nonempty(wg_imp_rec_get(rec, F_STATUS)),
                   *desc = wg_imp_nonempty(wg_imp_rec_get(rec, F_DESC));
        sqlite3_bind_text(st, 3, cat, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, t, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, status ? status : "reported", -1, SQLITE_TRANSIENT);
        if (desc) sqlite3_bind_text(st, 6, desc, -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(st) != SQLITE_DONE) return wg_fail_sql(j->r.ctx, "cannot store point");
    j->r.stats->imported++;
    return WG_OK;
}

static int point_row(void *ud, const char *const *fields, size_t line)
{
    point_job *j = ud;
    record rec = {fields, j->cols, NULL, j->names};
    double lon, lat;
    if (!wg_imp_parse_double(fields[j->cols[F_LON]], &lon) || !wg_imp_parse_double(fields[j->cols[F_LAT]], &lat)) {
        wg_imp_issue(&j->r, line, 1, NULL, 0, "malformed", "lon/lat is not a number");
        return WG_OK;
    }
    return point_record(j, &rec, lon, lat, line, 1);
}

static int points_csv(point_job *j, const char *path, const char *const *names)
{
    wg_ctx *ctx = j->r.ctx;
    wg_csv_stream *in = NULL;
    int rc = wg_csv_open(ctx, path, &in);
    if (rc != WG_OK) return rc;
    int cols[F_COUNT];
    for (int k = 0; k < F_COUNT; k++) cols[k] = wg_csv_col(in, names[k]);
    if (cols[F_LON] < 0 || cols[F_LAT] < 0) {
        wg_csv_close(in);
        return wg_fail(ctx, WG_EDATA, "%s: header has no '%s' and '%s' columns", path,
                       names[F_LON], names[F_LAT]);
    }
    j->cols = cols;
    rc = wg_imp_each_row(&j->r, in, point_row, j);
    wg_csv_close(in);
    return rc;
}

static int point_feature(void *ud, json_object *feature, size_t index)
{
    point_job *j = ud;
    json_object *props = NULL, *geometry = NULL;
    json_object_object_get_ex(feature, "properties", &props);
    json_object_object_get_ex(feature, "geometry", &geometry);
    record rec = {NULL, NULL, props, j->names};
    double lon, lat;
    char detail[160];
    if (wg_point_from_geojson(geometry, &lon, &lat, detail, sizeof detail) != WG_OK) {
        wg_imp_issue(&j->r, index, 0, NULL, 0, "bad_point", detail);
        return WG_OK;
    }
    return point_record(j, &rec, lon, lat, index, 0);
}

static int points_geojson(point_job *j, const char *path)
{
    wg_geojson_stream *in = NULL;
    int rc = wg_geojson_open(j->r.ctx, path, &in);
    if (rc == WG_OK) rc = wg_imp_each_feature(&j->r, in, point_feature, j);
    wg_geojson_close(in);
    return rc;
}

int wg_imp_is_csv(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && (strcmp(path + n - 4, ".csv") == 0 || strcmp(path + n - 4, ".CSV") == 0);
}

static int import_points(wg_ctx *ctx, const char *path, const wg_point_import_opts *o,
                         wg_import_stats *stats, int events)
{
    memset(stats, 0, sizeof *stats);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    const char *names[F_COUNT] = {
        o->lon_col ? o->lon_col : "lon",
        o->lat_col ? o->lat_col : "lat",
        o->households_col ? o->households_col : "households",
        o->label_col ? o->label_col : "label",
        o->code_col ? o->code_col : "code",
        o->category_col ? o->category_col : "category",
        o->time_col ? o->time_col : "time",
        o->status_col ? o->status_col : "status",
        o->description_col ? o->description_col : "description"};
    point_job j = {{ctx, o->on_issue, o->on_progress, o->ud, stats, 0}, events, NULL, NULL, names};
    int rc = wg_begin(ctx);
    if (rc == WG_OK && o->replace)
        rc = wg_exec(ctx, events ? "DELETE FROM assignments WHERE kind = 'event'; DELETE FROM events;"
                                 : "DELETE FROM assignments WHERE kind = 'address'; DELETE FROM addresses;");
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        events ? "INSERT INTO events(lon, lat, category, reported_at, status,"
                                 " description) VALUES (?, ?, ?, ?, ?, ?)"
                               : "INSERT INTO addresses(lon, lat, households, label, code)"
                                 " VALUES (?, ?, ?, ?, ?)",
                        &j.insert);
    if (rc == WG_OK)
        rc = wg_imp_is_csv(path) ? points_csv(&j, path, names) : points_geojson(&j, path);
    sqlite3_finalize(j.insert);
    return wg_imp_finish(&j.r, rc, o->skip_rejected, path, events ? "events" : "addresses");
}

int wg_import_addresses(wg_ctx *ctx, const char *path, const wg_point_import_opts *opts,
                        wg_import_stats *stats)
{
    return import_points(ctx, path, opts, stats, 0);
}

int wg_import_events(wg_ctx *ctx, const char *path, const wg_point_import_opts *opts,
                     wg_import_stats *stats)
{
    return import_points(ctx, path, opts, stats, 1);
}
