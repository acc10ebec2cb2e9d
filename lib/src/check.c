/* Checking a store: SQLite's own integrity checks, then the model's invariants.
 *
 * The checks, in the order they run and report (names as in docs/crash-safety.md):
 *   integrity          PRAGMA integrity_check (quick_check with WG_CHECK_QUICK)    structural
 *   foreign_keys       PRAGMA foreign_key_check                                   structural
 *   spatial_index      each SpatiaLite R*Tree: rtreecheck() (its own structure) and
 *                      CheckSpatialIndex() (it matches the geometries)            structural
 *   schema             the schema version, and the partial unique indexes that hold
 *                      "at most one active / one draft generation"               structural
 *   generations        at most one active and one draft; exactly one active once any
 *                      generation was published; the active one has work grids
 *   unassigned         every address and event has an assignment row in the active
 *                      generation (the primary key makes it at most one)
 *   assignment_grids   rows of active and retired generations name a work grid of their
 *                      generation, or are outside with the nearest grid and a distance
 *   orphan_assignments rows whose address or event does not exist
 *   event_filing       an event filed under a generation names that generation's grid
 *   event_status       an event's status is a known one and the to-status of its last step
 *                      (a transition writes both in one transaction)
 *   duplicate_events   events stored twice: identical point, category, time, texts, source
 *   validation         the active generation validates (not with WG_CHECK_QUICK)
 * A check that cannot run on a damaged file fails with SQLite's message rather than stopping
 * the others: a truncated store still gets a report that names what is wrong. */
#include "wangge/store.h"
#include "wangge/validate.h"
#include "json_out.h"
#include "store_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Messages quote at most this many offending rows. */
#define EXAMPLES 5

/* A unit row of level 3 with code C belonging to generation G (C and G are SQL expressions). */
#define GRID_OF(C, G)                                                                              \
    "EXISTS (SELECT 1 FROM units u WHERE u.level = 3 AND u.code = " C " AND u.first_gen <= " G     \
    " AND (u.last_gen IS NULL OR u.last_gen >= " G "))"

static wg_check_item *item_add(wg_check_report *r, const char *name, int structural)
{
    wg_check_item *it = &r->items[r->n++];
    memset(it, 0, sizeof *it);
    it->name = name;
    it->structural = structural;
    it->ok = 1;
    return it;
}

static void item_fail(wg_check_item *it, int64_t count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void item_fail(wg_check_item *it, int64_t count, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
    it->ok = 0;
    it->count = count;
}

static void item_skip(wg_check_item *it, const char *why)
{
    it->ok = -1;
    snprintf(it->message, sizeof it->message, "skipped: %s", why);
}

/* A query that failed. Busy or locked: the store is fine but not ours now (WG_ESTORE for the
 * whole check); anything else (corrupt, not a database, I/O) fails this check only. */
static int item_sql_error(wg_ctx *ctx, wg_check_item *it)
{
    int code = sqlite3_errcode(ctx->db) & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return wg_fail(ctx, WG_ESTORE, "check %s: %s", it->name, sqlite3_errmsg(ctx->db));
    item_fail(it, 0, "cannot run this check: %s", sqlite3_errmsg(ctx->db));
    return WG_OK;
}

/* The first column of the first row of sql (?1 bound to gen when the statement has it) as an
 * integer into *n and, if text is given, the second column as text. 1 when it ran, 0 when it
 * failed (the item holds why), <0 for a whole-check failure. */
static int query_row(wg_ctx *ctx, wg_check_item *it, const char *sql, int64_t gen, int64_t *n,
                     char *text, size_t len)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (text) text[0] = '\0';
    if (sqlite3_prepare_v2(ctx->db, sql, -1, &st, NULL) != SQLITE_OK) {
        int rc = item_sql_error(ctx, it);
        return rc != WG_OK ? rc : 0;
    }
    if (sqlite3_bind_parameter_count(st) > 0) sqlite3_bind_int64(st, 1, gen);
    int s = sqlite3_step(st), ran = 1;
    if (s == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        const unsigned char *t = text ? sqlite3_column_text(st, 1) : NULL;
        if (t) snprintf(text, len, "%s", (const char *)t);
    } else if (s != SQLITE_DONE) {
        int rc = item_sql_error(ctx, it);
        ran = rc != WG_OK ? rc : 0;
    }
    sqlite3_finalize(st);
    return ran;
}

/* ---------------------------------------------------------------- structural */

/* PRAGMA integrity_check / quick_check / foreign_key_check: rows are faults ("ok" alone is
 * none); the first few go into the message. */
static int check_pragma(wg_ctx *ctx, wg_check_item *it, const char *sql, int fk)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ctx->db, sql, -1, &st, NULL) != SQLITE_OK)
        return item_sql_error(ctx, it);
    char msg[sizeof it->message] = "";
    int64_t n = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (!fk && n == 0 && t && strcmp(t, "ok") == 0) continue;
        char one[200];
        if (fk)
            snprintf(one, sizeof one, "%s row %lld: no %s row", t ? t : "?",
                     (long long)sqlite3_column_int64(st, 1),
                     (const char *)sqlite3_column_text(st, 2));
        else
            snprintf(one, sizeof one, "%s", t ? t : "?");
        if (n++ < EXAMPLES) {
            size_t len = strlen(msg);
            snprintf(msg + len, sizeof msg - len, "%s%s", len ? "; " : "", one);
        }
    }
    int rc = s == SQLITE_DONE ? WG_OK : item_sql_error(ctx, it);
    sqlite3_finalize(st);
    if (rc == WG_OK && it->ok && n)
        item_fail(it, n, "%lld %s: %s", (long long)n, fk ? "dangling references" : "problems", msg);
    return rc;
}

/* One spatial index: its R*Tree structure (rtreecheck), then its entries against the table: a
 * row with a geometry has an entry whose box holds the geometry's (R*Tree boxes are 32-bit
 * floats rounded outwards), and every entry has its row. (SpatiaLite's CheckSpatialIndex does
 * the latter too, but writes to the store and so fails on a read-only one.) */
static int check_one_index(wg_ctx *ctx, wg_check_item *it, const char *table, const char *column,
                           char *bad, size_t len)
{
    char rtree[160];
    snprintf(rtree, sizeof rtree, "idx_%s_%s", table, column);
    char *sql = sqlite3_mprintf(
        "SELECT rtreecheck(%Q),"
        " (SELECT count(*) FROM \"%w\" t LEFT JOIN \"%w\" r ON r.pkid = t.rowid"
        "  WHERE t.\"%w\" IS NOT NULL AND (r.pkid IS NULL OR r.xmin > MbrMinX(t.\"%w\")"
        "  OR r.xmax < MbrMaxX(t.\"%w\") OR r.ymin > MbrMinY(t.\"%w\") OR r.ymax < "
        "MbrMaxY(t.\"%w\"))),"
        " (SELECT count(*) FROM \"%w\" r WHERE NOT EXISTS (SELECT 1 FROM \"%w\" t"
        "  WHERE t.rowid = r.pkid AND t.\"%w\" IS NOT NULL))",
        rtree, table, rtree, column, column, column, column, column, rtree, table, column);
    if (!sql) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    sqlite3_stmt *st = NULL;
    int p = sqlite3_prepare_v2(ctx->db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (p != SQLITE_OK) return item_sql_error(ctx, it);
    int rc = WG_OK, faulty = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *tree = (const char *)sqlite3_column_text(st, 0);
        int64_t missing = sqlite3_column_int64(st, 1), extra = sqlite3_column_int64(st, 2);
        size_t l = strlen(bad);
        if (!tree || strcmp(tree, "ok") != 0) {
            snprintf(bad + l, len - l, "%s%s: %.120s", l ? "; " : "", rtree, tree ? tree : "?");
            faulty = 1;
        } else if (missing || extra) {
            snprintf(bad + l, len - l,
                     "%s%s: %lld rows of %s with no or a wrong entry, %lld entries with no row",
                     l ? "; " : "", rtree, (long long)missing, table, (long long)extra);
            faulty = 1;
        }
    } else {
        rc = item_sql_error(ctx, it);
    }
    sqlite3_finalize(st);
    if (rc == WG_OK && faulty) it->count++;
    return rc;
}

static int check_spatial_index(wg_ctx *ctx, wg_check_item *it)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ctx->db,
                           "SELECT f_table_name, f_geometry_column FROM geometry_columns"
                           " WHERE spatial_index_enabled = 1 ORDER BY 1, 2",
                           -1, &st, NULL) != SQLITE_OK)
        return item_sql_error(ctx, it);
    char bad[sizeof it->message] = "";
    int rc = WG_OK, s = SQLITE_DONE, indexes = 0;
    while (rc == WG_OK && it->ok && (s = sqlite3_step(st)) == SQLITE_ROW) {
        char table[64], column[64];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(column, sizeof column, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = check_one_index(ctx, it, table, column, bad, sizeof bad);
        indexes++;
    }
    if (rc == WG_OK && it->ok && s != SQLITE_DONE) rc = item_sql_error(ctx, it);
    sqlite3_finalize(st);
    if (rc == WG_OK && it->ok && it->count)
        item_fail(it, it->count, "%lld of %d spatial indexes damaged: %s", (long long)it->count,
                  indexes, bad);
    else if (rc == WG_OK && it->ok)
        snprintf(it->message, sizeof it->message, "%d indexes", indexes);
    return rc;
}

static int check_schema(wg_ctx *ctx, wg_check_item *it)
{
    int64_t guards = 0, version = 0;
    int ran = query_row(ctx, it,
                        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                        " ('generations_one_active', 'generations_one_draft')",
                        0, &guards, NULL, 0);
    if (ran == 1)
        ran = query_row(ctx, it, "SELECT value FROM wg_meta WHERE key = 'schema_version'", 0,
                        &version, NULL, 0);
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (version != WG_SCHEMA_VERSION)
        item_fail(it, 1, "schema version %lld, this build has %d", (long long)version,
                  WG_SCHEMA_VERSION);
    else if (guards != 2)
        item_fail(it, 2 - guards,
                  "the unique indexes generations_one_active/generations_one_draft are missing"
                  " (%lld of 2 there): the store no longer enforces one active generation",
                  (long long)guards);
    else
        snprintf(it->message, sizeof it->message, "version %d", WG_SCHEMA_VERSION);
    return WG_OK;
}

/* ---------------------------------------------------------------- invariants */

static int check_generations(wg_ctx *ctx, wg_check_item *it, int64_t *active)
{
    char ids[160];
    int64_t nactive = 0, ndraft = 0, npub = 0, total = 0, grids = 0;
    *active = 0;
    int ran = query_row(ctx, it,
                        "SELECT count(*), group_concat(id, ', ') FROM (SELECT id FROM generations"
                        " WHERE status = 'active' ORDER BY id)",
                        0, &nactive, ids, sizeof ids);
    if (ran == 1)
        ran = query_row(ctx, it, "SELECT count(*) FROM generations WHERE status = 'draft'", 0,
                        &ndraft, NULL, 0);
    if (ran == 1)
        ran = query_row(ctx, it,
                        "SELECT count(*) FROM generations WHERE status = 'retired'"
                        " OR published_at IS NOT NULL",
                        0, &npub, NULL, 0);
    if (ran == 1) ran = query_row(ctx, it, "SELECT count(*) FROM generations", 0, &total, NULL, 0);
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (nactive > 1) {
        item_fail(it, nactive, "%lld active generations (%s): exactly one may be active",
                  (long long)nactive, ids);
        return WG_OK;
    }
    if (ndraft > 1) {
        item_fail(it, ndraft, "%lld draft generations: at most one may be open", (long long)ndraft);
        return WG_OK;
    }
    if (nactive == 0 && npub > 0) {
        item_fail(it, 1, "no active generation, though %lld were published", (long long)npub);
        return WG_OK;
    }
    if (nactive == 0) {
        snprintf(it->message, sizeof it->message, "%lld generations, none published yet",
                 (long long)total);
        return WG_OK;
    }
    *active = strtoll(ids, NULL, 10);
    ran = query_row(ctx, it,
                    "SELECT count(*) FROM units WHERE level = 3 AND first_gen <= ?1"
                    " AND (last_gen IS NULL OR last_gen >= ?1)",
                    *active, &grids, NULL, 0);
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (grids == 0)
        item_fail(it, 1, "active generation %lld has no work grids", (long long)*active);
    else
        snprintf(it->message, sizeof it->message,
                 "active %lld with %lld work grids; %lld generations, %s draft", (long long)*active,
                 (long long)grids, (long long)total, ndraft ? "a" : "no");
    return WG_OK;
}

static int check_unassigned(wg_ctx *ctx, wg_check_item *it, int64_t active)
{
#define UNASSIGNED(T, K)                                                                           \
    "SELECT count(*), (SELECT group_concat(id, ', ') FROM (SELECT id FROM " T                      \
    " x WHERE NOT EXISTS"                                                                          \
    " (SELECT 1 FROM assignments s WHERE s.generation = ?1 AND s.kind = '" K "'"                   \
    " AND s.item_id = x.id) ORDER BY id LIMIT 5)) FROM " T " x WHERE NOT EXISTS (SELECT 1 FROM"    \
    " assignments s WHERE s.generation = ?1 AND s.kind = '" K "' AND s.item_id = x.id)"
    if (!active) {
        item_skip(it, "no active generation");
        return WG_OK;
    }
    char a_ids[128], e_ids[128];
    int64_t na = 0, ne = 0;
    int ran =
        query_row(ctx, it, UNASSIGNED("addresses", "address"), active, &na, a_ids, sizeof a_ids);
    if (ran == 1)
        ran = query_row(ctx, it, UNASSIGNED("events", "event"), active, &ne, e_ids, sizeof e_ids);
    if (ran != 1) return ran < 0 ? ran : WG_OK;
#undef UNASSIGNED
    if (na + ne)
        item_fail(it, na + ne,
                  "%lld addresses and %lld events have no assignment in active generation %lld"
                  " (addresses %s%s; events %s%s): run 'wangge assign'",
                  (long long)na, (long long)ne, (long long)active, na ? a_ids : "none",
                  na > EXAMPLES ? ", ..." : "", ne ? e_ids : "none", ne > EXAMPLES ? ", ..." : "");
    return WG_OK;
}

static int check_assignment_grids(wg_ctx *ctx, wg_check_item *it)
{
#define BAD_ROWS                                                                                   \
    " FROM assignments a JOIN generations g ON g.id = a.generation AND g.status <> 'draft'"        \
    " WHERE NOT " GRID_OF(                                                                         \
        "coalesce(a.grid_code, a.nearest_code)",                                                   \
        "a.generation") " OR (a.grid_code IS NULL AND (a.dist_m IS NULL OR a.dist_m < 0))"
    char ex[400];
    int64_t n = 0;
    int ran =
        query_row(ctx, it,
                  "SELECT count(*), (SELECT group_concat(w, '; ') FROM (SELECT 'generation '"
                  " || a.generation || ' ' || a.kind || ' ' || a.item_id || ' in '"
                  " || coalesce(a.grid_code, 'outside near ' || coalesce(a.nearest_code, '?'))"
                  " AS w" BAD_ROWS " LIMIT 5))" BAD_ROWS,
                  0, &n, ex, sizeof ex);
#undef BAD_ROWS
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (n)
        item_fail(it, n,
                  "%lld assignments name no work grid of their generation, or are outside with"
                  " no nearest grid and distance: %s%s",
                  (long long)n, ex, n > EXAMPLES ? "; ..." : "");
    return WG_OK;
}

static int check_orphans(wg_ctx *ctx, wg_check_item *it)
{
#define ORPHANS                                                                                    \
    " FROM assignments a WHERE (a.kind = 'address' AND NOT EXISTS (SELECT 1 FROM addresses"        \
    " WHERE id = a.item_id)) OR (a.kind = 'event' AND NOT EXISTS (SELECT 1 FROM events"            \
    " WHERE id = a.item_id))"
    char ex[400];
    int64_t n = 0;
    int ran = query_row(ctx, it,
                        "SELECT count(*), (SELECT group_concat(w, '; ') FROM (SELECT 'generation '"
                        " || a.generation || ' ' || a.kind || ' ' || a.item_id AS w" ORPHANS
                        " LIMIT 5))" ORPHANS,
                        0, &n, ex, sizeof ex);
#undef ORPHANS
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (n)
        item_fail(it, n, "%lld assignments of addresses or events that do not exist: %s%s",
                  (long long)n, ex, n > EXAMPLES ? "; ..." : "");
    return WG_OK;
}

static int check_event_filing(wg_ctx *ctx, wg_check_item *it)
{
#define MISFILED                                                                                   \
    " FROM events e WHERE e.generation IS NOT NULL AND (NOT EXISTS (SELECT 1 FROM generations g"   \
    " WHERE g.id = e.generation) OR NOT " GRID_OF("e.grid_code", "e.generation") ")"
    char ex[400];
    int64_t n = 0;
    int ran = query_row(ctx, it,
                        "SELECT count(*), (SELECT group_concat(w, '; ') FROM (SELECT 'event '"
                        " || e.id || ' under generation ' || e.generation || ' in '"
                        " || coalesce(e.grid_code, 'no grid') AS w" MISFILED " ORDER BY e.id"
                        " LIMIT 5))" MISFILED,
                        0, &n, ex, sizeof ex);
#undef MISFILED
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (n)
        item_fail(it, n,
                  "%lld events name a generation that does not exist or a grid not in it: %s%s",
                  (long long)n, ex, n > EXAMPLES ? "; ..." : "");
    return WG_OK;
}

static int check_event_status(wg_ctx *ctx, wg_check_item *it)
{
#define OFF_STEP                                                                                   \
    " FROM events e WHERE e.status NOT IN ('reported', 'registered', 'cancelled', 'dispatched',"   \
    " 'handled', 'verified', 'evaluated', 'archived') OR e.status <> coalesce((SELECT"             \
    " s.to_status FROM event_steps s WHERE s.event_id = e.id ORDER BY s.id DESC LIMIT 1),"         \
    " e.status)"
    char ex[400];
    int64_t n = 0;
    int ran = query_row(ctx, it,
                        "SELECT count(*), (SELECT group_concat(w, '; ') FROM (SELECT 'event '"
                        " || e.id || ' is ' || coalesce(e.status, 'NULL') AS w" OFF_STEP
                        " ORDER BY e.id LIMIT 5))" OFF_STEP,
                        0, &n, ex, sizeof ex);
#undef OFF_STEP
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (n)
        item_fail(it, n,
                  "%lld events have an unknown status or one that is not their last step's: %s%s",
                  (long long)n, ex, n > EXAMPLES ? "; ..." : "");
    return WG_OK;
}

static int check_duplicate_events(wg_ctx *ctx, wg_check_item *it)
{
#define COPIES                                                                                     \
    " FROM events GROUP BY lon, lat, category, reported_at, coalesce(description, ''),"            \
    " coalesce(reporter, ''), coalesce(source, ''), coalesce(photo_url, '') HAVING count(*) > 1"
    char ex[400];
    int64_t n = 0;
    int ran = query_row(ctx, it,
                        "SELECT coalesce(sum(c), 0), (SELECT group_concat(w, '; ') FROM"
                        " (SELECT 'events ' || group_concat(id, ' = ') AS w" COPIES " LIMIT 5))"
                        " FROM (SELECT count(*) - 1 AS c" COPIES ")",
                        0, &n, ex, sizeof ex);
#undef COPIES
    if (ran != 1) return ran < 0 ? ran : WG_OK;
    if (n)
        item_fail(it, n, "%lld events are stored twice (identical copies): %s%s", (long long)n, ex,
                  n > EXAMPLES ? "; ..." : "");
    return WG_OK;
}

static int check_validation(wg_ctx *ctx, wg_check_item *it, int64_t active)
{
    if (!active) {
        item_skip(it, "no active generation");
        return WG_OK;
    }
    wg_report *v = NULL;
    int rc = wg_validate(ctx, active, 1.0, &v);
    if (rc == WG_ENOMEM) return rc;
    if (rc != WG_OK) {
        item_fail(it, 0, "cannot validate generation %lld: %s", (long long)active, wg_errmsg(ctx));
        return WG_OK;
    }
    if (v->n) {
        const wg_fault *f = &v->faults[0];
        item_fail(it, (int64_t)v->n,
                  "active generation %lld has %zu faults (wangge validate --generation %lld),"
                  " the first: %s of %s %s%s%s",
                  (long long)active, v->n, (long long)active, wg_fault_kind_name(f->kind),
                  wg_level_name(f->level) ? wg_level_name(f->level) : "unit", f->code,
                  f->other[0] ? " / " : "", f->other);
    } else {
        snprintf(it->message, sizeof it->message, "generation %lld: %zu units, 0 faults",
                 (long long)active, v->units[1] + v->units[2] + v->units[3]);
    }
    wg_report_free(v);
    return WG_OK;
}

/* ---------------------------------------------------------------- the run */

int wg_store_check(wg_ctx *ctx, unsigned flags, wg_check_report *out)
{
    memset(out, 0, sizeof *out);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int quick = (flags & WG_CHECK_QUICK) != 0;
    wg_check_report r;
    memset(&r, 0, sizeof r);
    int rc = check_pragma(ctx, item_add(&r, "integrity", 1),
                          quick ? "PRAGMA quick_check(20)" : "PRAGMA integrity_check(20)", 0);
    if (rc == WG_OK)
        rc = check_pragma(ctx, item_add(&r, "foreign_keys", 1), "PRAGMA foreign_key_check", 1);
    if (rc == WG_OK) rc = check_spatial_index(ctx, item_add(&r, "spatial_index", 1));
    if (rc == WG_OK) rc = check_schema(ctx, item_add(&r, "schema", 1));
    if (rc == WG_OK) rc = check_generations(ctx, item_add(&r, "generations", 0), &r.active);
    if (rc == WG_OK) rc = check_unassigned(ctx, item_add(&r, "unassigned", 0), r.active);
    if (rc == WG_OK) rc = check_assignment_grids(ctx, item_add(&r, "assignment_grids", 0));
    if (rc == WG_OK) rc = check_orphans(ctx, item_add(&r, "orphan_assignments", 0));
    if (rc == WG_OK) rc = check_event_filing(ctx, item_add(&r, "event_filing", 0));
    if (rc == WG_OK) rc = check_event_status(ctx, item_add(&r, "event_status", 0));
    if (rc == WG_OK) rc = check_duplicate_events(ctx, item_add(&r, "duplicate_events", 0));
    if (rc == WG_OK) {
        wg_check_item *it = item_add(&r, "validation", 0);
        if (quick)
            item_skip(it, "quick check");
        else
            rc = check_validation(ctx, it, r.active);
    }
    if (rc != WG_OK) return rc;
    for (size_t i = 0; i < r.n; i++) {
        if (r.items[i].ok != 0) continue;
        r.failed++;
        if (r.items[i].structural) r.failed_structural++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    *out = r;
    return WG_OK;
}

/* ---------------------------------------------------------------- output */

void wg_check_report_failed(const wg_check_report *r, char *buf, size_t len)
{
    if (!len) return;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i].ok != 0) continue;
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "%s%s", l ? ", " : "", r->items[i].name);
    }
}

char *wg_check_report_text(const wg_check_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const wg_check_item *it = &r->items[i];
        const char *status = it->ok > 0 ? "ok" : it->ok < 0 ? "-" : "FAIL";
        if (it->message[0])
            fprintf(f, "%-19s %-4s %s\n", it->name, status, it->message);
        else
            fprintf(f, "%-19s %s\n", it->name, status);
    }
    char failed[256];
    wg_check_report_failed(r, failed, sizeof failed);
    if (r->failed)
        fprintf(f, "%zu of %zu checks failed: %s\n", r->failed, r->n, failed);
    else
        fprintf(f, "all %zu checks passed (%.2f s)\n", r->n, r->seconds);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *wg_check_report_json(const wg_check_report *r)
{
    json_object *o = json_object_new_object(), *checks = json_object_new_array(),
                *failed = json_object_new_array();
    if (!o || !checks || !failed) {
        json_object_put(o);
        json_object_put(checks);
        json_object_put(failed);
        return NULL;
    }
    json_object_object_add(o, "ok", json_object_new_boolean(r->failed == 0));
    json_object_object_add(o, "active_generation",
                           r->active ? json_object_new_int64(r->active) : NULL);
    for (size_t i = 0; i < r->n; i++) {
        const wg_check_item *it = &r->items[i];
        json_object *c = json_object_new_object();
        if (!c) break;
        json_object_object_add(c, "name", json_object_new_string(it->name));
        json_object_object_add(c, "structural", json_object_new_boolean(it->structural));
        json_object_object_add(c, "ok", it->ok < 0 ? NULL : json_object_new_boolean(it->ok));
        json_object_object_add(c, "count", json_object_new_int64(it->count));
        json_object_object_add(c, "message", json_object_new_string(it->message));
        json_object_array_add(checks, c);
        if (it->ok == 0) json_object_array_add(failed, json_object_new_string(it->name));
    }
    json_object_object_add(o, "failed", failed);
    json_object_object_add(o, "checks", checks);
    json_object_object_add(o, "seconds", wg_json_fixed(r->seconds, "%.3f"));
    return wg_json_text(o);
}
