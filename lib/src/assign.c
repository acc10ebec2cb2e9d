/* Assignment runs (see wangge/assign.h). Points are read in id order into arrays, located in
 * bulk on all threads, merged in id order against the previous run's rows, and written back. */
#include "wangge/assign.h"
#include "wangge/lookup.h"
#include "store_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct points {
    int64_t *id;
    double *lon, *lat;
    int64_t *households;
    size_t n, cap;
} points;

static void points_free(points *p)
{
    free(p->id);
    free(p->lon);
    free(p->lat);
    free(p->households);
    memset(p, 0, sizeof *p);
}

static int points_push(points *p, int64_t id, double lon, double lat, int64_t hh)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        int64_t *a = realloc(p->id, cap * sizeof *a), *d = NULL;
        double *b = NULL, *c = NULL;
        if (a) p->id = a;
        if (a) b = realloc(p->lon, cap * sizeof *b);
        if (b) p->lon = b;
        if (b) c = realloc(p->lat, cap * sizeof *c);
        if (c) p->lat = c;
        if (c) d = realloc(p->households, cap * sizeof *d);
        if (!d) return WG_ENOMEM;
        p->households = d;
        p->cap = cap;
    }
    p->id[p->n] = id;
    p->lon[p->n] = lon;
    p->lat[p->n] = lat;
    p->households[p->n++] = hh;
    return WG_OK;
}

static int read_points(wg_ctx *ctx, const char *sql, points *p)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, sql, &st), s = SQLITE_DONE;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = points_push(p, sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1),
                         sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3));
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read points");
    sqlite3_finalize(st);
    if (rc == WG_ENOMEM) wg_fail(ctx, rc, "out of memory reading points");
    return rc;
}

static int last_run_generation(wg_ctx *ctx, int64_t *gen)
{
    sqlite3_stmt *st;
    *gen = 0;
    int rc = wg_prepare(ctx, "SELECT generation FROM assign_runs ORDER BY id DESC LIMIT 1", &st);
    if (rc != WG_OK) return rc;
    if (sqlite3_step(st) == SQLITE_ROW) *gen = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return WG_OK;
}

static const char *grid_code(const wg_lookup *lk, const wg_hit *h)
{
    const wg_unit *u = wg_lookup_unit(lk, h->grid);
    return u ? u->code : NULL;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

typedef struct kind_job {
    wg_ctx *ctx;
    const wg_lookup *lk;
    const char *kind;
    int64_t prev;
    wg_change_fn on_change;
    void *ud;
    wg_assign_stats *stats;
} kind_job;

/* Walks the previous run's rows of this kind (id order) beside the new hits (id order). */
static int compare_previous(kind_job *j, const points *p, const wg_hit *hits)
{
    if (!j->prev) {
        j->stats->fresh += p->n;
        return WG_OK;
    }
    sqlite3_stmt *st;
    int rc = wg_prepare(j->ctx,
                        "SELECT item_id, grid_code FROM assignments WHERE generation = ? AND kind = ?"
                        " ORDER BY item_id",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, j->prev);
    sqlite3_bind_text(st, 2, j->kind, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    for (size_t k = 0; k < p->n; k++) {
        while (s == SQLITE_ROW && sqlite3_column_int64(st, 0) < p->id[k]) s = sqlite3_step(st);
        if (s != SQLITE_ROW || sqlite3_column_int64(st, 0) != p->id[k]) {
            j->stats->fresh++;
            continue;
        }
        const char *old = (const char *)sqlite3_column_text(st, 1), *now = grid_code(j->lk, &hits[k]);
        if (same(old, now)) continue;
        j->stats->changed++;
        if (j->on_change) {
            wg_assign_change c = {j->kind, p->id[k], old, now};
            j->on_change(j->ud, &c);
        }
    }
    sqlite3_finalize(st);
    return WG_OK;
}

/* Replaces this kind's rows of the generation (after compare_previous has read them, when the
 * previous run was of the same generation). */
static int store_hits(kind_job *j, const points *p, const wg_hit *hits)
{
    sqlite3_stmt *st;
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM assignments WHERE generation = %lld AND kind = '%s'",
             (long long)wg_lookup_generation(j->lk), j->kind);
    int rc = wg_exec(j->ctx, sql);
    if (rc != WG_OK) return rc;
    rc = wg_prepare(j->ctx,
                        "INSERT INTO assignments(generation, kind, item_id, grid_code, nearest_code,"
                        " dist_m) VALUES (?, ?, ?, ?, ?, ?)",
                        &st);
    for (size_t k = 0; rc == WG_OK && k < p->n; k++) {
        const wg_hit *h = &hits[k];
        const wg_unit *g = wg_lookup_unit(j->lk, h->grid), *near = wg_lookup_unit(j->lk, h->nearest_grid);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, wg_lookup_generation(j->lk));
        sqlite3_bind_text(st, 2, j->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, p->id[k]);
        if (g) sqlite3_bind_text(st, 4, g->code, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 4);
        if (near) sqlite3_bind_text(st, 5, near->code, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 5);
        if (!g && near) sqlite3_bind_double(st, 6, h->dist_m);
        else sqlite3_bind_null(st, 6);
        if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(j->ctx, "cannot store assignment");
        if (g) j->stats->assigned++;
        else j->stats->outside++;
        if (g) j->stats->households_assigned += (size_t)p->households[k];
    }
    sqlite3_finalize(st);
    return rc;
}

static int assign_kind(kind_job *j, const char *sql, int threads, size_t *count)
{
    points p = {0};
    int rc = read_points(j->ctx, sql, &p);
    wg_hit *hits = NULL;
    if (rc == WG_OK && p.n) {
        hits = malloc(p.n * sizeof *hits);
        rc = hits ? wg_lookup_bulk(j->lk, p.lon, p.lat, p.n, hits, threads)
                  : wg_fail(j->ctx, WG_ENOMEM, "out of memory");
    }
    if (rc == WG_OK) rc = compare_previous(j, &p, hits);
    if (rc == WG_OK) rc = store_hits(j, &p, hits);
    *count = p.n;
    free(hits);
    points_free(&p);
    return rc;
}

static int record_run(wg_ctx *ctx, const wg_assign_stats *s)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "INSERT INTO assign_runs(generation, assigned, outside, changed)"
                        " VALUES (?, ?, ?, ?)",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, s->generation);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)s->assigned);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)s->outside);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)s->changed);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot record run");
    sqlite3_finalize(st);
    return rc;
}

int wg_assign(wg_ctx *ctx, int64_t generation, int threads, wg_change_fn on_change, void *ud,
              wg_assign_stats *out)
{
    memset(out, 0, sizeof *out);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wg_lookup *lk = NULL;
    int rc = wg_lookup_load(ctx, generation, &lk);
    if (rc != WG_OK) return rc;
    out->generation = wg_lookup_generation(lk);
    /* the write lock first: a concurrent run cannot interleave between read and write */
    rc = wg_begin(ctx);
    if (rc == WG_OK) rc = last_run_generation(ctx, &out->previous_generation);
    kind_job j = {ctx, lk, "address", out->previous_generation, on_change, ud, out};
    if (rc == WG_OK)
        rc = assign_kind(&j, "SELECT id, lon, lat, households FROM addresses ORDER BY id", threads,
                         &out->addresses);
    j.kind = "event";
    if (rc == WG_OK)
        rc = assign_kind(&j, "SELECT id, lon, lat, 0 FROM events ORDER BY id", threads, &out->events);
    if (rc == WG_OK) rc = record_run(ctx, out);
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc != WG_OK) wg_rollback(ctx);
    wg_lookup_free(lk);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    return rc;
}
