/* Generations and units: reading and the generation life cycle (see wangge/store.h).
 * Membership of a unit in generation g: first_gen <= g AND (last_gen IS NULL OR g <= last_gen). */
#include "wangge/store.h"
#include "geom.h"
#include "store_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IN_GEN "first_gen <= ?1 AND (last_gen IS NULL OR last_gen >= ?1)"

const char *wg_level_name(int level)
{
    switch (level) {
    case WG_LEVEL_DISTRICT: return "district";
    case WG_LEVEL_COMMUNITY: return "community";
    case WG_LEVEL_GRID: return "grid";
    default: return NULL;
    }
}

int wg_level_parse(const char *s)
{
    static const char *const names[][3] = {{"1", "district", "districts"},
                                           {"2", "community", "communities"},
                                           {"3", "grid", "grids"}};
    for (int l = 0; l < 3; l++)
        for (int k = 0; k < 3; k++)
            if (strcasecmp(s, names[l][k]) == 0) return l + 1;
    return 0;
}

const char *wg_gen_status_name(wg_gen_status s)
{
    return s == WG_GEN_DRAFT ? "draft" : s == WG_GEN_ACTIVE ? "active" : "retired";
}

static wg_gen_status parse_status(const char *s)
{
    if (s && strcmp(s, "draft") == 0) return WG_GEN_DRAFT;
    if (s && strcmp(s, "active") == 0) return WG_GEN_ACTIVE;
    return WG_GEN_RETIRED;
}

static void copy_text(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

int wg_gen_list(wg_ctx *ctx, wg_generation **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT g.id, g.status, g.created_at, g.published_at,"
                        " (SELECT count(*) FROM units u WHERE u.level = 1 AND u.first_gen <= g.id"
                        "   AND (u.last_gen IS NULL OR u.last_gen >= g.id)),"
                        " (SELECT count(*) FROM units u WHERE u.level = 2 AND u.first_gen <= g.id"
                        "   AND (u.last_gen IS NULL OR u.last_gen >= g.id)),"
                        " (SELECT count(*) FROM units u WHERE u.level = 3 AND u.first_gen <= g.id"
                        "   AND (u.last_gen IS NULL OR u.last_gen >= g.id))"
                        " FROM generations g ORDER BY g.id",
                        &st);
    if (rc != WG_OK) return rc;
    wg_generation *list = NULL;
    size_t cap = 0, count = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)&list, &cap, count + 1, sizeof *list) != WG_OK) {
            s = SQLITE_NOMEM;
            break;
        }
        wg_generation *g = &list[count++];
        memset(g, 0, sizeof *g);
        g->id = sqlite3_column_int64(st, 0);
        g->status = parse_status((const char *)sqlite3_column_text(st, 1));
        copy_text(g->created_at, sizeof g->created_at, sqlite3_column_text(st, 2));
        copy_text(g->published_at, sizeof g->published_at, sqlite3_column_text(st, 3));
        for (int l = 1; l <= 3; l++) g->units[l] = sqlite3_column_int64(st, 3 + l);
    }
    if (s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot list generations");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(list);
        return rc;
    }
    *out = list;
    *n = count;
    return WG_OK;
}

static int gen_by_status(wg_ctx *ctx, const char *status, int64_t *id)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT id FROM generations WHERE status = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    else if (s == SQLITE_DONE) rc = WG_ENOTFOUND;
    else rc = wg_fail_sql(ctx, "cannot read generations");
    sqlite3_finalize(st);
    if (rc == WG_ENOTFOUND) wg_fail(ctx, rc, "no %s generation", status);
    return rc;
}

int wg_gen_active(wg_ctx *ctx, int64_t *id)
{
    *id = 0;
    int rc = gen_by_status(ctx, "active", id);
    if (rc == WG_ENOTFOUND)
        wg_fail(ctx, rc, "no active generation: import units and publish a generation first");
    return rc;
}

/* A new draft must hold exactly the active generation's units. Usually those are the open
 * rows (last_gen NULL), and the draft, being the newest id, holds them at once. After a
 * rollback they are not: rows born after the active generation are still open, and rows of
 * the active generation may have been closed by a later one. So open rows born after the
 * active generation are closed at the generation before the draft (they stay in every
 * generation they belong to: none is newer), and active rows closed since are copied into new
 * rows that start at the draft. Without an active generation the draft starts from the open
 * rows (none in a new store). */
static int seed_draft(wg_ctx *ctx, int64_t draft)
{
    int64_t active = 0;
    if (gen_by_status(ctx, "active", &active) != WG_OK) return WG_OK;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE units SET last_gen = %lld WHERE last_gen IS NULL AND first_gen > %lld;"
             "INSERT INTO units(level, code, parent_code, name, area_m2, first_gen, last_gen,"
             " props, geom) SELECT level, code, parent_code, name, area_m2, %lld, NULL, props,"
             " geom FROM units WHERE first_gen <= %lld AND last_gen >= %lld AND last_gen < %lld"
             " ORDER BY id;",
             (long long)draft - 1, (long long)active, (long long)draft, (long long)active,
             (long long)active, (long long)draft);
    return wg_exec(ctx, sql);
}

int wg_gen_draft(wg_ctx *ctx, int create, int64_t *id)
{
    *id = 0;
    int rc = gen_by_status(ctx, "draft", id);
    if (rc != WG_ENOTFOUND || !create) return rc;
    /* A new draft is the next id (ids only grow: it is the newest generation). A savepoint
     * makes the two steps one, inside a caller's transaction or on their own. */
    rc = wg_exec(ctx, "SAVEPOINT wg_new_draft;"
                      "INSERT INTO generations(status) VALUES ('draft')");
    int64_t draft = rc == WG_OK ? sqlite3_last_insert_rowid(ctx->db) : 0;
    if (rc == WG_OK) rc = seed_draft(ctx, draft);
    if (rc == WG_OK) rc = wg_exec(ctx, "RELEASE wg_new_draft");
    if (rc != WG_OK) {
        sqlite3_exec(ctx->db, "ROLLBACK TO wg_new_draft; RELEASE wg_new_draft", NULL, NULL, NULL);
        return rc;
    }
    *id = draft;
    return WG_OK;
}

int wg_gen_get_status(wg_ctx *ctx, int64_t id, wg_gen_status *status)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT status FROM generations WHERE id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *status = parse_status((const char *)sqlite3_column_text(st, 0));
    else if (s == SQLITE_DONE) rc = wg_fail(ctx, WG_ENOTFOUND, "generation %lld does not exist", (long long)id);
    else rc = wg_fail_sql(ctx, "cannot read generation");
    sqlite3_finalize(st);
    return rc;
}

int wg_gen_resolve(wg_ctx *ctx, int64_t requested, int64_t *id)
{
    *id = 0;
    if (requested == 0) return wg_gen_active(ctx, id);
    wg_gen_status s;
    int rc = wg_gen_get_status(ctx, requested, &s);
    if (rc == WG_OK) *id = requested;
    return rc;
}

static void free_units(wg_ctx *ctx, wg_unit *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(u[i].code);
        free(u[i].parent_code);
        free(u[i].name);
        if (u[i].geom) GEOSGeom_destroy_r(ctx->geos, u[i].geom);
    }
    free(u);
}

void wg_unit_set_free(wg_ctx *ctx, wg_unit_set *set)
{
    if (!set) return;
    free_units(ctx, set->units, set->n);
    free(set);
}

int32_t wg_unit_set_find(const wg_unit_set *set, int level, const char *code)
{
    if (level < 1 || level > 3 || !code) return -1;
    size_t lo = set->level_begin[level], hi = set->level_begin[level + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set->units[mid].code, code);
        if (c == 0) return (int32_t)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static int read_unit(wg_ctx *ctx, sqlite3_stmt *st, wg_unit *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, 0);
    u->level = sqlite3_column_int(st, 1);
    u->code = wg_column_dup(st, 2);
    u->parent_code = wg_column_dup(st, 3);
    u->name = wg_column_dup(st, 4);
    u->area_m2 = sqlite3_column_double(st, 5);
    u->parent = -1;
    const void *wkb = sqlite3_column_blob(st, 6);
    int len = sqlite3_column_bytes(st, 6);
    if (!u->code) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (!wkb || len <= 0) return wg_fail(ctx, WG_ESTORE, "unit %s has no geometry", u->code);
    u->geom = wg_geom_from_wkb(ctx, wkb, (size_t)len);
    if (!u->geom) return wg_fail_geos(ctx, "unreadable unit geometry in store");
    return WG_OK;
}

int wg_units_load(wg_ctx *ctx, int64_t generation, unsigned level_mask, wg_unit_set **out)
{
    *out = NULL;
    if (level_mask == 0) level_mask = (1u << 1) | (1u << 2) | (1u << 3);
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT id, level, code, parent_code, name, area_m2, AsBinary(geom)"
                        " FROM units WHERE " IN_GEN " ORDER BY level, code",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, generation);
    wg_unit_set *set = calloc(1, sizeof *set);
    size_t cap = 0;
    int s = SQLITE_DONE;
    if (!set) rc = WG_ENOMEM;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int level = sqlite3_column_int(st, 1);
        if (!(level_mask & (1u << level))) continue;
        if (wg_grow((void **)&set->units, &cap, set->n + 1, sizeof *set->units) != WG_OK) {
            rc = WG_ENOMEM;
            break;
        }
        rc = read_unit(ctx, st, &set->units[set->n]);
        set->n++;
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read units");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        if (set) free_units(ctx, set->units, set->n);
        free(set);
        return rc == WG_ENOMEM ? wg_fail(ctx, rc, "out of memory loading units") : rc;
    }
    set->generation = generation;
    size_t k = 0;
    for (int level = 1; level <= 4; level++) {
        while (k < set->n && set->units[k].level < level) k++;
        set->level_begin[level] = k;
    }
    set->level_begin[0] = 0;
    for (size_t i = 0; i < set->n; i++) {
        wg_unit *u = &set->units[i];
        if (u->level > 1) u->parent = wg_unit_set_find(set, u->level - 1, u->parent_code);
    }
    *out = set;
    return WG_OK;
}
