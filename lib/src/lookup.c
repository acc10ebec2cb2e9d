/* Generation lookup: three point indexes and the unit table (see wangge/lookup.h). */
#include "wangge/lookup.h"
#include "wangge/pindex.h"
#include "internal.h"
#include "parallel.h"
#include "store_schema.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wg_lookup {
    wg_unit_set *set;
    wg_pindex *level[4];      /* [1..3]; NULL for a level with no units */
    wg_worker_brief *workers; /* per unit (grids only); id NULL = none */
    atomic_uchar *duty;       /* per unit: its worker's on-duty flag now (wg_lookup_set_duty) */
    _Atomic(char *) *text;    /* per unit i, JSON made on first use by wg_lookup_json:
                                 [TEXTS i] the unit {"code","name"}, then (grids) the answer's
                                 members after the point for a point inside it, in the four
                                 variants TEXT_MEMBERS(personal, on_duty) */
};
enum { TEXTS = 5 };
#define TEXT_MEMBERS(personal, on_duty) (1 + 2 * !(personal) + !(on_duty))

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* Grid workers of the loaded grids (the workers table is read as it is now). */
static int load_workers(wg_ctx *ctx, wg_lookup *lk)
{
    lk->workers = calloc(lk->set->n ? lk->set->n : 1, sizeof *lk->workers);
    if (!lk->workers) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ctx->db,
                           "SELECT home_grid, id, name, phone, on_duty FROM workers"
                           " WHERE role = 'grid_worker' AND home_grid IS NOT NULL ORDER BY home_grid, id",
                           -1, &st, NULL) != SQLITE_OK)
        return wg_fail_sql(ctx, "cannot read workers");
    int rc = WG_OK, step;
    while (rc == WG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int32_t g = wg_unit_set_find(lk->set, WG_LEVEL_GRID, (const char *)sqlite3_column_text(st, 0));
        if (g < 0 || lk->workers[g].id) continue;
        wg_worker_brief *w = &lk->workers[g];
        w->id = dup_col(st, 1);
        w->name = dup_col(st, 2);
        w->phone = dup_col(st, 3);
        w->on_duty = sqlite3_column_int(st, 4);
        if (!w->id || !w->name) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read workers");
    sqlite3_finalize(st);
    return rc;
}

static int build_level(wg_ctx *ctx, wg_lookup *lk, int level)
{
    size_t b = lk->set->level_begin[level], n = lk->set->level_begin[level + 1] - b;
    if (n == 0) return WG_OK;
    const GEOSGeometry **g = malloc(n * sizeof *g);
    if (!g) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) g[i] = lk->set->units[b + i].geom;
    int rc = wg_pindex_build(ctx, g, n, &lk->level[level]);
    free(g);
    return rc;
}

int wg_lookup_load(wg_ctx *ctx, int64_t generation, wg_lookup **out)
{
    *out = NULL;
    int64_t gen;
    int rc = wg_gen_resolve(ctx, generation, &gen);
    if (rc != WG_OK) return rc;
    wg_lookup *lk = calloc(1, sizeof *lk);
    if (!lk) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    rc = wg_units_load(ctx, gen, 0, &lk->set);
    for (int level = 1; rc == WG_OK && level <= 3; level++) rc = build_level(ctx, lk, level);
    if (rc == WG_OK) rc = load_workers(ctx, lk);
    if (rc == WG_OK && !(lk->text = calloc(TEXTS * lk->set->n + 1, sizeof *lk->text)))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK && !(lk->duty = calloc(lk->set->n + 1, sizeof *lk->duty)))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == WG_OK && i < lk->set->n; i++)
        atomic_init(&lk->duty[i], (unsigned char)(lk->workers[i].on_duty != 0));
    if (rc == WG_OK) {
        /* the indexes hold their own copies of the edges: drop the geometries */
        for (size_t i = 0; i < lk->set->n; i++) {
            GEOSGeom_destroy_r(ctx->geos, lk->set->units[i].geom);
            lk->set->units[i].geom = NULL;
        }
        *out = lk;
        return WG_OK;
    }
    if (lk->set) wg_unit_set_free(ctx, lk->set);
    lk->set = NULL;
    wg_lookup_free(lk);
    return rc;
}

void wg_lookup_free(wg_lookup *lk)
{
    if (!lk) return;
    for (int level = 1; level <= 3; level++) wg_pindex_free(lk->level[level]);
    for (size_t i = 0; lk->workers && lk->set && i < lk->set->n; i++) {
        free((char *)lk->workers[i].id);
        free((char *)lk->workers[i].name);
        free((char *)lk->workers[i].phone);
    }
    free(lk->workers);
    for (size_t i = 0; lk->text && i < TEXTS * lk->set->n; i++) free(atomic_load(&lk->text[i]));
    free(lk->text);
    free(lk->duty);
    if (lk->set) wg_unit_set_free(NULL, lk->set); /* no geometries left: no GEOS handle needed */
    free(lk);
}

int64_t wg_lookup_generation(const wg_lookup *lk)
{
    return lk->set->generation;
}

const wg_unit *wg_lookup_unit(const wg_lookup *lk, int32_t i)
{
    return i >= 0 && (size_t)i < lk->set->n ? &lk->set->units[i] : NULL;
}

const wg_worker_brief *wg_lookup_worker(const wg_lookup *lk, int32_t i)
{
    return i >= 0 && (size_t)i < lk->set->n && lk->workers && lk->workers[i].id ? &lk->workers[i] : NULL;
}

size_t wg_lookup_count(const wg_lookup *lk, int level)
{
    if (level < 1 || level > 3) return 0;
    return lk->set->level_begin[level + 1] - lk->set->level_begin[level];
}

static int32_t locate_level(const wg_lookup *lk, wg_ctx *ctx, int level, double lon, double lat)
{
    if (!lk->level[level]) return -1;
    int32_t i = wg_pindex_locate(lk->level[level], ctx, lon, lat);
    return i < 0 ? -1 : (int32_t)lk->set->level_begin[level] + i;
}

static int32_t parent_of(const wg_lookup *lk, int32_t i)
{
    return i < 0 ? -1 : lk->set->units[i].parent;
}

int32_t wg_lookup_grid(const wg_lookup *lk, wg_ctx *ctx, double lon, double lat)
{
    return locate_level(lk, ctx, WG_LEVEL_GRID, lon, lat);
}

void wg_lookup_point(const wg_lookup *lk, wg_ctx *ctx, double lon, double lat, wg_hit *out)
{
    out->grid = wg_lookup_grid(lk, ctx, lon, lat);
    out->nearest_grid = -1;
    out->dist_m = 0.0;
    if (out->grid >= 0) {
        out->community = parent_of(lk, out->grid);
        out->district = parent_of(lk, out->community);
        return;
    }
    out->community = locate_level(lk, ctx, WG_LEVEL_COMMUNITY, lon, lat);
    out->district = out->community >= 0 ? parent_of(lk, out->community)
                                        : locate_level(lk, ctx, WG_LEVEL_DISTRICT, lon, lat);
    if (!lk->level[WG_LEVEL_GRID]) return;
    int32_t near;
    wg_pindex_nearest(lk->level[WG_LEVEL_GRID], lon, lat, &near, &out->dist_m);
    out->nearest_grid = near < 0 ? -1 : (int32_t)lk->set->level_begin[WG_LEVEL_GRID] + near;
}

typedef struct bulk_job {
    const wg_lookup *lk;
    const double *lon, *lat;
    wg_hit *out;
} bulk_job;

static void bulk_range(void *arg, wg_ctx *ctx, size_t begin, size_t end)
{
    const bulk_job *job = arg;
    for (size_t k = begin; k < end; k++) wg_lookup_point(job->lk, ctx, job->lon[k], job->lat[k], &job->out[k]);
}

int wg_lookup_bulk(const wg_lookup *lk, const double *lon, const double *lat, size_t n,
                   wg_hit *out, int threads)
{
    bulk_job job = {lk, lon, lat, out};
    return wg_parallel_for(n, threads, bulk_range, &job);
}

static json_object *unit_json(const wg_lookup *lk, int32_t i)
{
    const wg_unit *u = wg_lookup_unit(lk, i);
    if (!u) return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(u->code));
    json_object_object_add(o, "name", u->name ? json_object_new_string(u->name) : NULL);
    return o;
}

/* o as plain JSON text (malloc'd), skipping its first skip bytes; o is released. */
static char *json_text(json_object *o, size_t skip)
{
    const char *t = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
    char *copy = t && strlen(t) >= skip ? strdup(t + skip) : NULL;
    json_object_put(o);
    return copy;
}

int wg_lookup_on_duty(const wg_lookup *lk, int32_t i)
{
    return wg_lookup_worker(lk, i) ? atomic_load_explicit(&lk->duty[i], memory_order_relaxed) : 0;
}

size_t wg_lookup_set_duty(wg_lookup *lk, const char *worker_id, int on_duty)
{
    size_t n = 0;
    for (size_t i = 0; worker_id && i < lk->set->n; i++)
        if (lk->workers[i].id && strcmp(lk->workers[i].id, worker_id) == 0) {
            atomic_store_explicit(&lk->duty[i], (unsigned char)(on_duty != 0), memory_order_relaxed);
            n++;
        }
    return n;
}

int wg_lookup_refresh_duty(wg_lookup *lk, wg_ctx *ctx)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT home_grid, id, on_duty FROM workers"
                             " WHERE role = 'grid_worker' AND home_grid IS NOT NULL", &st);
    if (rc != WG_OK) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *grid = (const char *)sqlite3_column_text(st, 0), *id = (const char *)sqlite3_column_text(st, 1);
        int32_t g = grid && id ? wg_unit_set_find(lk->set, WG_LEVEL_GRID, grid) : -1;
        if (g >= 0 && lk->workers[g].id && strcmp(lk->workers[g].id, id) == 0)
            atomic_store_explicit(&lk->duty[g], (unsigned char)(sqlite3_column_int(st, 2) != 0), memory_order_relaxed);
    }
    if (step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read workers");
    sqlite3_finalize(st);
    return rc;
}

/* Members after the point for a point inside grid g: district, community, grid, worker and
 * "outside":false, with the closing brace. */
static char *grid_members(const wg_lookup *lk, int32_t g, int personal, int on_duty)
{
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    int32_t c = lk->set->units[g].parent, d = c >= 0 ? lk->set->units[c].parent : -1;
    json_object_object_add(o, "district", unit_json(lk, d));
    json_object_object_add(o, "community", unit_json(lk, c));
    json_object_object_add(o, "grid", unit_json(lk, g));
    const wg_worker_brief *w = wg_lookup_worker(lk, g);
    json_object *wj = NULL;
    if (w) {
        wj = json_object_new_object();
        json_object_object_add(wj, "id", json_object_new_string(w->id));
        json_object_object_add(wj, "name", json_object_new_string(w->name));
        if (personal) json_object_object_add(wj, "phone", w->phone ? json_object_new_string(w->phone) : NULL);
        json_object_object_add(wj, "on_duty", json_object_new_boolean(on_duty));
    }
    json_object_object_add(o, "worker", wj);
    json_object_object_add(o, "outside", json_object_new_boolean(0));
    return json_text(o, 1);
}

/* The text in slot k of unit i (0: the unit, else TEXT_MEMBERS(personal, on_duty)), made
 * once. Any thread. */
static const char *cached(const wg_lookup *lk, int32_t i, int k)
{
    _Atomic(char *) *slot = &lk->text[TEXTS * (size_t)i + (size_t)k];
    char *t = atomic_load_explicit(slot, memory_order_acquire);
    if (t) return t;
    char *fresh = k ? grid_members(lk, i, k <= 2, k == 1 || k == 3) : json_text(unit_json(lk, i), 0),
         *expected = NULL;
    if (!fresh) return NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh, memory_order_acq_rel, memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

typedef struct out_buf {
    char *p;
    size_t n, cap;
    int failed;
} out_buf;

static void out_put(out_buf *b, const char *s)
{
    size_t m = s ? strlen(s) : 0;
    if (!s) b->failed = 1;
    if (b->failed) return;
    if (b->n + m + 1 > b->cap) {
        size_t cap = (b->n + m + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, m + 1);
    b->n += m;
}

static void out_unit(out_buf *b, const wg_lookup *lk, int32_t i)
{
    out_put(b, i >= 0 ? cached(lk, i, 0) : "null");
}

char *wg_lookup_json(const wg_lookup *lk, const wg_hit *h, double lon, double lat)
{
    return wg_lookup_json_ex(lk, h, lon, lat, WG_LOOKUP_PERSONAL);
}

char *wg_lookup_json_ex(const wg_lookup *lk, const wg_hit *h, double lon, double lat, unsigned flags)
{
    char num[96];
    out_buf b = {malloc(512), 0, 512, 0};
    if (!b.p) return NULL;
    b.p[0] = '\0';
    snprintf(num, sizeof num, "{\"lon\":%.10g,\"lat\":%.10g,\"generation\":%lld,", lon, lat,
             (long long)wg_lookup_generation(lk));
    out_put(&b, num);
    if (h->grid >= 0) { /* inside a grid, the rest depends on the grid alone */
        out_put(&b, cached(lk, h->grid, TEXT_MEMBERS(flags & WG_LOOKUP_PERSONAL, wg_lookup_on_duty(lk, h->grid))));
    } else { /* outside: the nearest grid and its distance vary per point */
        out_put(&b, "\"district\":");
        out_unit(&b, lk, h->district);
        out_put(&b, ",\"community\":");
        out_unit(&b, lk, h->community);
        out_put(&b, ",\"grid\":null,\"worker\":null,\"outside\":true");
        if (h->nearest_grid >= 0) {
            const char *u = cached(lk, h->nearest_grid, 0); /* {"code":..,"name":..} */
            size_t m = u ? strlen(u) : 0;
            char *open = m ? malloc(m) : NULL;
            if (open) {
                memcpy(open, u, m - 1); /* without its closing brace */
                open[m - 1] = '\0';
            }
            out_put(&b, ",\"nearest\":");
            out_put(&b, open);
            free(open);
            snprintf(num, sizeof num, ",\"distance_m\":%.2f}", h->dist_m);
            out_put(&b, num);
        }
        out_put(&b, "}");
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
