/* Diff of two generations (wg_gen_diff, see wangge/redraw.h) and its JSON and text forms.
 *
 * Units are compared by level and code (both sets are sorted that way): a code in one
 * generation only is added or removed; a code in both is unchanged when it is the same row, or
 * a row with the same geometry (wg_redraw_same_geom), name and parent (rows copied after a
 * rollback); otherwise it changed. Points are placed afresh in both generations by the lookup
 * index (the boundary rule), never read from stored assignments, which may be stale or absent
 * for a draft. Households per community and grid follow from the same placement: an address
 * outside every grid still counts for the community that holds it. */
#include "wangge/lookup.h"
#include "wangge/redraw.h"
#include "wangge/store.h"
#include "json_out.h"
#include "points.h"
#include "redraw_internal.h"
#include "store_schema.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *wg_unit_change_name(wg_unit_change c)
{
    return c == WG_UNIT_ADDED ? "added" : c == WG_UNIT_REMOVED ? "removed" : "changed";
}

void wg_diff_free(wg_diff *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->nunits; i++) {
        wg_diff_unit *u = &d->units[i];
        free(u->code);
        free(u->name_from);
        free(u->name_to);
        free(u->parent_from);
        free(u->parent_to);
    }
    for (size_t i = 0; i < d->nworkers; i++) {
        free(d->workers[i].id);
        free(d->workers[i].name);
        free(d->workers[i].home_grid);
    }
    for (size_t i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
    free(d->units);
    free(d->addresses);
    free(d->events);
    free(d->workers);
    free(d->balance);
    free(d->strings);
    free(d);
}

typedef struct dstate {
    wg_ctx *ctx;
    wg_diff *d;
    wg_unit_set *a, *b;     /* with geometries */
    wg_lookup *la, *lb;     /* point indexes */
    int32_t *map_a, *map_b; /* lookup unit index -> balance index, -1 for districts */
    unsigned char *b_geom;  /* per unit of b: 1 if its geometry is new or changed */
    size_t cap_units, cap_workers, cap_balance, cap_strings;
} dstate;

static int nomem(wg_ctx *ctx)
{
    return wg_fail(ctx, WG_ENOMEM, "out of memory computing a diff");
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int same_text(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* ------------------------------------------------------------------ units */

static int push_unit(dstate *s, int level, wg_unit_change change, const wg_unit *ua,
                     const wg_unit *ub, int geometry_changed)
{
    wg_diff *d = s->d;
    if (wg_grow((void **)&d->units, &s->cap_units, d->nunits + 1, sizeof *d->units) != WG_OK)
        return nomem(s->ctx);
    wg_diff_unit *u = &d->units[d->nunits++];
    memset(u, 0, sizeof *u);
    u->level = level;
    u->change = change;
    u->geometry_changed = geometry_changed;
    u->code = strdup(ua ? ua->code : ub->code);
    if (ua) {
        u->name_from = dup_or_null(ua->name);
        u->parent_from = dup_or_null(ua->parent_code);
        u->area_from_m2 = ua->area_m2;
    }
    if (ub) {
        u->name_to = dup_or_null(ub->name);
        u->parent_to = dup_or_null(ub->parent_code);
        u->area_to_m2 = ub->area_m2;
    }
    return u->code ? WG_OK : nomem(s->ctx);
}

/* A code in both generations: unchanged, or changed (and how). */
static int compare_unit(dstate *s, int level, size_t ia, size_t ib)
{
    const wg_unit *ua = &s->a->units[ia], *ub = &s->b->units[ib];
    if (ua->id == ub->id) {
        s->d->unchanged[level]++;
        return WG_OK;
    }
    int same = wg_redraw_same_geom(s->ctx, ua->geom, ub->geom);
    if (same < 0) return WG_EGEOS;
    s->b_geom[ib] = !same;
    if (same && same_text(ua->name, ub->name) && same_text(ua->parent_code, ub->parent_code)) {
        s->d->unchanged[level]++;
        return WG_OK;
    }
    return push_unit(s, level, WG_UNIT_CHANGED, ua, ub, !same);
}

static int diff_units(dstate *s)
{
    int rc = WG_OK;
    for (int level = 1; rc == WG_OK && level <= 3; level++) {
        size_t ia = s->a->level_begin[level], ea = s->a->level_begin[level + 1];
        size_t ib = s->b->level_begin[level], eb = s->b->level_begin[level + 1];
        while (rc == WG_OK && (ia < ea || ib < eb)) {
            int c = ia >= ea   ? 1
                    : ib >= eb ? -1
                               : strcmp(s->a->units[ia].code, s->b->units[ib].code);
            if (c < 0) {
                rc = push_unit(s, level, WG_UNIT_REMOVED, &s->a->units[ia++], NULL, 1);
            } else if (c > 0) {
                s->b_geom[ib] = 1;
                rc = push_unit(s, level, WG_UNIT_ADDED, NULL, &s->b->units[ib++], 1);
            } else {
                rc = compare_unit(s, level, ia++, ib++);
            }
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ balance */

/* First lookup index of each level (units are ordered by level, then code). */
static size_t level_begin(const wg_lookup *lk, int level)
{
    size_t b = 0;
    for (int l = 1; l < level; l++)
        b += wg_lookup_count(lk, l);
    return b;
}

static int push_balance(dstate *s, int level, const char *code, int32_t ia, int32_t ib)
{
    wg_diff *d = s->d;
    if (wg_grow((void **)&d->balance, &s->cap_balance, d->nbalance + 1, sizeof *d->balance) !=
            WG_OK ||
        wg_grow((void **)&d->strings, &s->cap_strings, d->nstrings + 1, sizeof *d->strings) !=
            WG_OK)
        return nomem(s->ctx);
    char *copy = strdup(code);
    if (!copy) return nomem(s->ctx);
    d->strings[d->nstrings++] = copy;
    wg_diff_balance *b = &d->balance[d->nbalance];
    *b = (wg_diff_balance){level, copy, ia >= 0, ib >= 0, 0, 0};
    if (ia >= 0) s->map_a[ia] = (int32_t)d->nbalance;
    if (ib >= 0) s->map_b[ib] = (int32_t)d->nbalance;
    d->nbalance++;
    return WG_OK;
}

/* One balance entry per community and grid code of either generation; the string table is
 * the balance codes (strings[i] is balance[i].code), so moves can point at them. */
static int build_balance(dstate *s)
{
    size_t na = 0, nb = 0;
    for (int l = 1; l <= 3; l++) {
        na += wg_lookup_count(s->la, l);
        nb += wg_lookup_count(s->lb, l);
    }
    s->map_a = malloc((na + 1) * sizeof *s->map_a);
    s->map_b = malloc((nb + 1) * sizeof *s->map_b);
    if (!s->map_a || !s->map_b) return nomem(s->ctx);
    for (size_t i = 0; i < na; i++)
        s->map_a[i] = -1;
    for (size_t i = 0; i < nb; i++)
        s->map_b[i] = -1;
    int rc = WG_OK;
    for (int level = 2; rc == WG_OK && level <= 3; level++) {
        size_t ia = level_begin(s->la, level), ea = ia + wg_lookup_count(s->la, level);
        size_t ib = level_begin(s->lb, level), eb = ib + wg_lookup_count(s->lb, level);
        while (rc == WG_OK && (ia < ea || ib < eb)) {
            const char *ca = ia < ea ? wg_lookup_unit(s->la, (int32_t)ia)->code : NULL;
            const char *cb = ib < eb ? wg_lookup_unit(s->lb, (int32_t)ib)->code : NULL;
            int c = !ca ? 1 : !cb ? -1 : strcmp(ca, cb);
            int32_t xa = c <= 0 ? (int32_t)ia++ : -1, xb = c >= 0 ? (int32_t)ib++ : -1;
            rc = push_balance(s, level, c <= 0 ? ca : cb, xa, xb);
        }
    }
    return rc;
}

/* The balance code of a lookup unit, or NULL. */
static const char *code_of(const int32_t *map, const wg_diff *d, int32_t i)
{
    return i >= 0 && map[i] >= 0 ? d->balance[map[i]].code : NULL;
}

/* ------------------------------------------------------------------ points */

/* Places every point of the kind in both generations; lists the moves, sums households. */
static int diff_points(dstate *s, const char *sql, int addresses)
{
    wg_diff *d = s->d;
    wg_points p = {0};
    int rc = wg_points_read(s->ctx, sql, &p);
    wg_hit *ha = NULL, *hb = NULL;
    wg_diff_move *moves = NULL;
    size_t nmoves = 0;
    if (rc == WG_OK && p.n) {
        ha = malloc(p.n * sizeof *ha);
        hb = malloc(p.n * sizeof *hb);
        moves = malloc(p.n * sizeof *moves);
        rc = ha && hb && moves ? wg_lookup_bulk(s->la, p.lon, p.lat, p.n, ha, 0) : nomem(s->ctx);
    }
    if (rc == WG_OK && p.n) rc = wg_lookup_bulk(s->lb, p.lon, p.lat, p.n, hb, 0);
    for (size_t k = 0; rc == WG_OK && k < p.n; k++) {
        const char *ca = code_of(s->map_a, d, ha[k].grid), *cb = code_of(s->map_b, d, hb[k].grid);
        if (addresses) {
            int32_t x[2] = {ha[k].grid, ha[k].community}, y[2] = {hb[k].grid, hb[k].community};
            for (int j = 0; j < 2; j++) {
                if (x[j] >= 0 && s->map_a[x[j]] >= 0)
                    d->balance[s->map_a[x[j]]].households_from += p.hh[k];
                if (y[j] >= 0 && s->map_b[y[j]] >= 0)
                    d->balance[s->map_b[y[j]]].households_to += p.hh[k];
            }
        }
        if (same_text(ca, cb)) continue;
        moves[nmoves++] = (wg_diff_move){p.id[k], ca, cb, addresses ? p.hh[k] : 0};
        if (addresses) d->households_moved += p.hh[k];
    }
    if (addresses) {
        d->addresses = moves;
        d->naddresses = rc == WG_OK ? nmoves : 0;
        d->addresses_total = p.n;
    } else {
        d->events = moves;
        d->nevents = rc == WG_OK ? nmoves : 0;
        d->events_total = p.n;
    }
    free(ha);
    free(hb);
    wg_points_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ workers */

static int push_worker(dstate *s, sqlite3_stmt *st, unsigned reasons, const char *pa,
                       const char *pb)
{
    wg_diff *d = s->d;
    if (wg_grow((void **)&d->workers, &s->cap_workers, d->nworkers + 1, sizeof *d->workers) !=
        WG_OK)
        return nomem(s->ctx);
    wg_diff_worker *w = &d->workers[d->nworkers++];
    w->id = dup_or_null((const char *)sqlite3_column_text(st, 0));
    w->name = dup_or_null((const char *)sqlite3_column_text(st, 1));
    w->home_grid = dup_or_null((const char *)sqlite3_column_text(st, 2));
    w->reasons = reasons;
    w->position_from = pa;
    w->position_to = pb;
    return w->id ? WG_OK : nomem(s->ctx);
}

static int diff_workers(dstate *s)
{
    sqlite3_stmt *st;
    int rc =
        wg_prepare(s->ctx, "SELECT id, name, home_grid, lon, lat FROM workers_now ORDER BY id", &st);
    int step = SQLITE_DONE;
    while (rc == WG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *home = (const char *)sqlite3_column_text(st, 2);
        unsigned reasons = 0;
        if (home && *home) {
            int32_t ib = wg_unit_set_find(s->b, WG_LEVEL_GRID, home);
            if (ib < 0)
                reasons |= WG_WORKER_HOME_REMOVED;
            else if (s->b_geom[ib] && wg_unit_set_find(s->a, WG_LEVEL_GRID, home) >= 0)
                reasons |= WG_WORKER_HOME_CHANGED;
        }
        const char *pa = NULL, *pb = NULL;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
            sqlite3_column_type(st, 4) != SQLITE_NULL) {
            double lon = sqlite3_column_double(st, 3), lat = sqlite3_column_double(st, 4);
            pa = code_of(s->map_a, s->d, wg_lookup_grid(s->la, s->ctx, lon, lat));
            pb = code_of(s->map_b, s->d, wg_lookup_grid(s->lb, s->ctx, lon, lat));
            if (!same_text(pa, pb)) reasons |= WG_WORKER_MOVED;
        }
        if (reasons) rc = push_worker(s, st, reasons, pa, pb);
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(s->ctx, "cannot read workers");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ the diff */

static int resolve_pair(wg_ctx *ctx, int64_t *from, int64_t *to)
{
    int rc = wg_gen_resolve(ctx, *from, from);
    if (rc == WG_OK && *to == 0) {
        rc = wg_gen_draft(ctx, 0, to);
        if (rc == WG_ENOTFOUND) wg_fail(ctx, rc, "no draft generation to compare with");
    } else if (rc == WG_OK) {
        rc = wg_gen_resolve(ctx, *to, to);
    }
    return rc;
}

int wg_gen_diff(wg_ctx *ctx, int64_t from, int64_t to, wg_diff **out)
{
    *out = NULL;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dstate s = {.ctx = ctx};
    int rc = resolve_pair(ctx, &from, &to);
    if (rc != WG_OK) return rc;
    s.d = calloc(1, sizeof *s.d);
    if (!s.d) return nomem(ctx);
    s.d->from = from;
    s.d->to = to;
    rc = wg_units_load(ctx, from, 0, &s.a);
    if (rc == WG_OK) rc = wg_units_load(ctx, to, 0, &s.b);
    if (rc == WG_OK && !(s.b_geom = calloc(s.b->n + 1, 1))) rc = nomem(ctx);
    if (rc == WG_OK) rc = diff_units(&s);
    if (rc == WG_OK) rc = wg_lookup_load(ctx, from, &s.la);
    if (rc == WG_OK) rc = wg_lookup_load(ctx, to, &s.lb);
    if (rc == WG_OK) rc = build_balance(&s);
    if (rc == WG_OK)
        rc = diff_points(&s, "SELECT id, lon, lat, households FROM addresses ORDER BY id", 1);
    if (rc == WG_OK) rc = diff_points(&s, "SELECT id, lon, lat, 0 FROM events ORDER BY id", 0);
    if (rc == WG_OK) rc = diff_workers(&s);
    wg_unit_set_free(ctx, s.a);
    wg_unit_set_free(ctx, s.b);
    wg_lookup_free(s.la);
    wg_lookup_free(s.lb);
    free(s.map_a);
    free(s.map_b);
    free(s.b_geom);
    if (rc != WG_OK) {
        wg_diff_free(s.d);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s.d->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    *out = s.d;
    return WG_OK;
}

/* ------------------------------------------------------------------ JSON */

static json_object *num(double v, const char *fmt)
{
    char text[64];
    snprintf(text, sizeof text, fmt, v);
    return json_object_new_double_s(v, text);
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *unit_json(const wg_diff_unit *u)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "level", json_object_new_string(wg_level_name(u->level)));
    json_object_object_add(o, "code", json_object_new_string(u->code));
    json_object_object_add(o, "name_from", str_or_null(u->name_from));
    json_object_object_add(o, "name_to", str_or_null(u->name_to));
    json_object_object_add(o, "parent_from", str_or_null(u->parent_from));
    json_object_object_add(o, "parent_to", str_or_null(u->parent_to));
    json_object_object_add(o, "geometry_changed", json_object_new_boolean(u->geometry_changed));
    json_object_object_add(o, "area_m2_from",
                           u->change == WG_UNIT_ADDED ? NULL : num(u->area_from_m2, "%.1f"));
    json_object_object_add(o, "area_m2_to",
                           u->change == WG_UNIT_REMOVED ? NULL : num(u->area_to_m2, "%.1f"));
    return o;
}

static json_object *units_json(const wg_diff *d)
{
    json_object *o = json_object_new_object(), *lists[3], *same = json_object_new_object();
    for (int c = 0; c < 3; c++)
        lists[c] = json_object_new_array();
    for (size_t i = 0; i < d->nunits; i++)
        json_object_array_add(lists[d->units[i].change], unit_json(&d->units[i]));
    for (int c = 0; c < 3; c++)
        json_object_object_add(o, wg_unit_change_name((wg_unit_change)c), lists[c]);
    for (int l = 1; l <= 3; l++)
        json_object_object_add(same, wg_level_name(l),
                               json_object_new_int64((int64_t)d->unchanged[l]));
    json_object_object_add(o, "unchanged", same);
    return o;
}

static json_object *moves_json(const wg_diff_move *m, size_t n, size_t total, int addresses,
                               int64_t households)
{
    json_object *o = json_object_new_object(), *items = json_object_new_array();
    json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
    json_object_object_add(o, "changed", json_object_new_int64((int64_t)n));
    if (addresses)
        json_object_object_add(o, "households_changed", json_object_new_int64(households));
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_new_object();
        json_object_object_add(it, "id", json_object_new_int64(m[i].id));
        json_object_object_add(it, "from", str_or_null(m[i].from_code));
        json_object_object_add(it, "to", str_or_null(m[i].to_code));
        if (addresses)
            json_object_object_add(it, "households", json_object_new_int64(m[i].households));
        json_object_array_add(items, it);
    }
    json_object_object_add(o, "items", items);
    return o;
}

static json_object *workers_json(const wg_diff *d)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->nworkers; i++) {
        const wg_diff_worker *w = &d->workers[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(w->id));
        json_object_object_add(o, "name", str_or_null(w->name));
        json_object_object_add(o, "home_grid", str_or_null(w->home_grid));
        json_object_object_add(o, "home_removed",
                               json_object_new_boolean(w->reasons & WG_WORKER_HOME_REMOVED));
        json_object_object_add(o, "home_changed",
                               json_object_new_boolean(w->reasons & WG_WORKER_HOME_CHANGED));
        json_object_object_add(o, "moved", json_object_new_boolean(w->reasons & WG_WORKER_MOVED));
        json_object_object_add(o, "position_from", str_or_null(w->position_from));
        json_object_object_add(o, "position_to", str_or_null(w->position_to));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *balance_json(const wg_diff *d)
{
    json_object *o = json_object_new_object(),
                *lv[2] = {json_object_new_array(), json_object_new_array()};
    for (size_t i = 0; i < d->nbalance; i++) {
        const wg_diff_balance *b = &d->balance[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(b->code));
        json_object_object_add(e, "from",
                               b->in_from ? json_object_new_int64(b->households_from) : NULL);
        json_object_object_add(e, "to", b->in_to ? json_object_new_int64(b->households_to) : NULL);
        json_object_array_add(lv[b->level == WG_LEVEL_GRID], e);
    }
    json_object_object_add(o, "community", lv[0]);
    json_object_object_add(o, "grid", lv[1]);
    return o;
}

char *wg_diff_json(const wg_diff *d)
{
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    json_object_object_add(o, "from", json_object_new_int64(d->from));
    json_object_object_add(o, "to", json_object_new_int64(d->to));
    json_object_object_add(o, "units", units_json(d));
    json_object_object_add(
        o, "addresses",
        moves_json(d->addresses, d->naddresses, d->addresses_total, 1, d->households_moved));
    json_object_object_add(o, "events", moves_json(d->events, d->nevents, d->events_total, 0, 0));
    json_object_object_add(o, "workers", workers_json(d));
    json_object_object_add(o, "households", balance_json(d));
    json_object_object_add(o, "seconds", num(d->seconds, "%.3f"));
    return wg_json_text(o);
}

/* ------------------------------------------------------------------ text */

static const char *or_outside(const char *code)
{
    return code ? code : "outside";
}

static void print_units(const wg_diff *d, FILE *out)
{
    size_t count[3] = {0}, geometry = 0, same = d->unchanged[1] + d->unchanged[2] + d->unchanged[3];
    for (size_t i = 0; i < d->nunits; i++) {
        count[d->units[i].change]++;
        geometry += d->units[i].change == WG_UNIT_CHANGED && d->units[i].geometry_changed;
    }
    fprintf(out, "units: %zu added, %zu removed, %zu changed (%zu in geometry), %zu unchanged\n",
            count[WG_UNIT_ADDED], count[WG_UNIT_REMOVED], count[WG_UNIT_CHANGED], geometry, same);
    for (size_t i = 0; i < d->nunits; i++) {
        const wg_diff_unit *u = &d->units[i];
        fprintf(out, "  %-8s %-9s %-16s", wg_unit_change_name(u->change), wg_level_name(u->level),
                u->code);
        if (u->change == WG_UNIT_ADDED)
            fprintf(out, " area %.1f m2", u->area_to_m2);
        else if (u->change == WG_UNIT_REMOVED)
            fprintf(out, " area %.1f m2", u->area_from_m2);
        else
            fprintf(out, " %s area %.1f -> %.1f m2",
                    u->geometry_changed ? "geometry" : "same geometry", u->area_from_m2,
                    u->area_to_m2);
        const char *name = u->name_to ? u->name_to : u->name_from;
        if (name) fprintf(out, "  %s", name);
        if (u->change == WG_UNIT_CHANGED && !same_text(u->name_from, u->name_to))
            fprintf(out, " (was %s)", u->name_from ? u->name_from : "unnamed");
        if (u->change == WG_UNIT_CHANGED && !same_text(u->parent_from, u->parent_to))
            fprintf(out, " (parent %s -> %s)", or_outside(u->parent_from),
                    or_outside(u->parent_to));
        fputc('\n', out);
    }
}

void wg_diff_print(const wg_diff *d, FILE *out)
{
    fprintf(out, "diff: generation %lld -> %lld\n", (long long)d->from, (long long)d->to);
    print_units(d, out);
    fprintf(out, "addresses: %zu of %zu change grid (%lld households)\n", d->naddresses,
            d->addresses_total, (long long)d->households_moved);
    for (size_t i = 0; i < d->naddresses; i++)
        fprintf(out, "  address %lld  %s -> %s  (%lld households)\n", (long long)d->addresses[i].id,
                or_outside(d->addresses[i].from_code), or_outside(d->addresses[i].to_code),
                (long long)d->addresses[i].households);
    fprintf(out, "events: %zu of %zu change grid\n", d->nevents, d->events_total);
    for (size_t i = 0; i < d->nevents; i++)
        fprintf(out, "  event %lld  %s -> %s\n", (long long)d->events[i].id,
                or_outside(d->events[i].from_code), or_outside(d->events[i].to_code));
    fprintf(out, "workers: %zu affected\n", d->nworkers);
    for (size_t i = 0; i < d->nworkers; i++) {
        const wg_diff_worker *w = &d->workers[i];
        fprintf(out, "  worker %s %s home %s:%s%s", w->id, w->name ? w->name : "",
                w->home_grid ? w->home_grid : "-",
                w->reasons & WG_WORKER_HOME_REMOVED ? " home removed" : "",
                w->reasons & WG_WORKER_HOME_CHANGED ? " home redrawn" : "");
        if (w->reasons & WG_WORKER_MOVED)
            fprintf(out, " position %s -> %s", or_outside(w->position_from),
                    or_outside(w->position_to));
        fputc('\n', out);
    }
    fprintf(out, "households where they change:\n");
    for (size_t i = 0; i < d->nbalance; i++) {
        const wg_diff_balance *b = &d->balance[i];
        if (b->in_from && b->in_to && b->households_from == b->households_to) continue;
        fprintf(out, "  %-9s %-16s ", wg_level_name(b->level), b->code);
        if (b->in_from)
            fprintf(out, "%lld", (long long)b->households_from);
        else
            fprintf(out, "-");
        if (b->in_to)
            fprintf(out, " -> %lld\n", (long long)b->households_to);
        else
            fprintf(out, " -> -\n");
    }
}
