/* The position index: the k nearest workers under filters, exact on the WGS84 ellipsoid, while
 * other threads move the workers (see wangge/workers.h for the contract).
 *
 * Layout.
 *   Cells. Longitude and latitude are cut into square cells of d degrees (nlon = 360 / d
 *   around, rounded so that they close at the antimeridian). A cell exists once a worker was
 *   placed in it, in an open-addressing hash table keyed by (ix, iy); cells are never removed,
 *   so the table only grows (it doubles at half load). A cell holds a packed array of entries,
 *   one per worker in it, each a copy of what a query reads: the ECEF position (for the chord),
 *   lon/lat, seen_ms, flags (on duty, role), home grid and community ids, and the worker's
 *   slot. A worker moving inside its cell rewrites its entry; moving out, it is appended to
 *   the new cell before it is removed from the old one (swap with the last entry).
 *   Slots. One per worker id ever seen (never reused for another id): the id, name and phone
 *   for answers, and the writers' bookkeeping (the worker's state, its cell and entry).
 *   Strings. Home grid and community codes are interned to small ids, so a filter compares
 *   integers. A community is the home grid code's parent prefix (wg_code_parent_len).
 *
 * Concurrency. Writers are serialised by one mutex: they are few next to queries, and the
 * store serialises its writers anyway. Queries take no lock. Each cell has a sequence counter
 * (a seqlock): a writer makes it odd, changes the cell, makes it even; a query reads a cell
 * between two equal even readings of it, and rereads it otherwise. When a query has its
 * answer, it checks that none of the cells it read has changed since and that no cell was
 * created (a counter bumped after each creation). If so, each cell it read still holds what it
 * read, and each cell it skipped could not hold an answer (it was farther than the k-th
 * candidate, or did not exist): the answer is the exact answer for the index at that instant.
 * Otherwise the query starts again; after 16 tries it takes the writers' mutex for one last
 * try, so it cannot starve. Everything a query reads is a C11 atomic (relaxed under the
 * seqlock; release/acquire for pointers to new memory and for the sequence), so the scheme is
 * free of data races as ThreadSanitizer sees it. Memory a query may still be reading (an
 * outgrown cell array or table, a replaced name) is retired rather than freed, until
 * wg_posindex_free: at most a few times the live size, since arrays and tables double.
 *
 * Distances. The exact distance is geod_inverse's (GeographicLib, ~0.8 us a call: more than a
 * whole query may take), so a query ranks by bounds and calls it only where they cannot decide:
 *   lower: the chord c = |P - Q| between the ECEF points (no path on the surface is shorter);
 *   upper: 2R asin(c / 2R) with R = 6,335,439 m, the smallest radius of curvature of WGS84 (the
 *          meridian at the equator): the normal section through both points is a plane convex
 *          arc of curvature at most 1/R, and by Schur's comparison theorem no such arc with
 *          chord c is longer than the circular arc of radius R (used for c <= 1000 km);
 *   cells: a path of length <= T from the query stays within |dlat| <= T / M_min of it, where
 *          every parallel's radius is at least p_lo(T), so it is at least
 *          sqrt((M_min dlat)^2 + (p_lo dlon)^2) long to reach a box dlat, dlon away.
 * Each bound keeps a 1 micrometre margin for rounding (geod_inverse itself is good to 15 nm).
 * The candidates whose intervals [lower, upper] meet another's get their exact distance; the
 * rest are ordered by their intervals. The distance reported is the exact one where it was
 * computed, else, for chords under 10 km, s = 2 rho asin(c / 2 rho), rho the radius of
 * curvature of the normal section in the chord's direction (Euler: 1/rho = cos^2 az / M +
 * sin^2 az / N, at the query point). Example: over 5 km at 22.6 N, c is about 0.13 mm shorter
 * than s, and s differs from geod_inverse by less than 10 nm (tests/test_workers.c). */
#include "posindex.h"
#include "internal.h"
#include "store_schema.h"
#include "wangge/import.h"
#include "wangge/store.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846
#define DEG (PI / 180)
#define WGS84_A 6378137.0
#define WGS84_F (1 / 298.257223563)
#define WGS84_E2 (WGS84_F * (2 - WGS84_F))
#define M_MIN_LB 6335439.0   /* a (1 - e^2) = 6,335,439.327 m, rounded down */
#define R_UPPER 6335432.0    /* the same, less 1e-6 for the tilt of a section against the normal */
#define MARGIN_M 1e-6        /* rounding allowance of every bound */
#define SERIES_MAX_M 10000.0 /* chord series used for reporting below this */
#define UPPER_MAX_M 1e6      /* upper bound claimed below this chord */

#define SLOT_SHIFT 10
#define SLOT_CHUNK (1u << SLOT_SHIFT)
#define MAX_CHUNKS 4096 /* 4M workers, 4M interned codes */
#define EMPTY_KEY UINT64_MAX
#define MAX_TRIES 16   /* lock-free attempts before a query takes the writers' mutex */
#define MAX_SPINS 4096 /* rereads of one cell before the attempt is abandoned */
#define PI_ROWS_MAX (1u << 21) /* fixes copied between merges (96 MiB) */

/* ---------------------------------------------------------------- layout */

typedef struct pi_entry {
    _Atomic double x, y, z, lon, lat;
    _Atomic int64_t seen_ms;             /* INT64_MIN: unknown */
    atomic_uint slot, grid, comm, flags; /* grid, comm: interned id + 1, 0 none */
} pi_entry;

enum { F_DUTY = 1 }; /* flags: bit 0 on duty, bits 1-2 the role (wg_worker_role << 1) */

typedef struct pi_vec {
    uint32_t cap;
    pi_entry e[];
} pi_vec;

/* v is first the array allocated with the cell (cell_inline), later bigger ones. */
typedef struct pi_cell {
    atomic_uint seq;
    atomic_uint n;
    _Atomic(pi_vec *) v;
    uint32_t ix, iy; /* immutable */
} pi_cell;

/* A cell is allocated on a cache line together with an array of INLINE_CAP entries, so a query
 * reading a cell of a few workers touches one allocation, not two. */
#define INLINE_CAP 8
#define CELL_BYTES                                                                                 \
    (((sizeof(pi_cell) + 7) / 8 * 8 + sizeof(pi_vec) + INLINE_CAP * sizeof(pi_entry) + 63) / 64 *  \
     64)

static pi_vec *cell_inline(pi_cell *c)
{
    return (pi_vec *)((char *)c + (sizeof(pi_cell) + 7) / 8 * 8);
}

typedef struct pi_bucket {
    _Atomic uint64_t key;
    _Atomic(pi_cell *) cell;
} pi_bucket;

typedef struct pi_table {
    size_t mask, used;
    pi_bucket b[];
} pi_table;

#define PI_RUNS 3

typedef struct pi_run {
    int64_t lo, hi, ex; /* [lo, hi]; exact from ex */
} pi_run;

typedef struct pi_slot {
    char id[WG_WORKER_ID_MAX + 1]; /* immutable once the slot exists */
    _Atomic(char *) name, phone;   /* immutable strings, replaced whole */
    /* the writers' view (under mu) */
    int known, active, on_duty, has_pos;
    wg_worker_role role;
    double lon, lat;
    int64_t seen_ms; /* INT64_MIN: unknown */
    uint32_t grid, comm;
    pi_cell *cell; /* NULL: not placed */
    uint32_t pos;  /* its entry in cell */
    uint32_t mark; /* wg_posindex_sync's pass */
    /* for wg_positions_add's duplicate check: no fix of this worker newer than stored_ms is
     * stored, in the track or the inbox (INT64_MAX: not known, check every fix); learnt from
     * the track at the first sync, raised by every fix this process stores and by another
     * process's merge (seen as a change of the workers table's seen_ms, table_seen_ms);
     * put_ms: the newest fix this process stored, the open batch included (INT64_MIN: none) */
    int64_t stored_ms, table_seen_ms, put_ms;
    /* runs: every stored fix of the worker (track and inbox) lies in one of nruns disjoint
     * time ranges, in order, once the track is learnt (stored_ms known); a fix outside them
     * all is new without asking the track. Within a run, every stored fix at or after its ex
     * is one this process stored in the last two merge rounds, so the key sets tell whether
     * such a fix is stored, again without asking the track (a run of this process's fixes
     * has ex at its start; a fix from before the rounds kept, ex after it). The first run is
     * the track's [oldest, newest] at the first sync (ex past it); every fix this process
     * stores is added; another process's fixes (seen as a newest fix outside the runs) add
     * [-inf, its newest] (ex past it). Over PI_RUNS, the two closest are joined, so the runs
     * only ever cover more and their exact parts only shrink. */
    pi_run run[PI_RUNS];
    int nruns;
    /* the times of the fixes it stored in merge round r lie in [round_lo, round_hi][r & 1]
     * (when round_of[r & 1] == r): what leaves the key sets when that round is dropped */
    int64_t round_lo[2], round_hi[2];
    uint32_t round_of[2];
} pi_slot;

/* A set of (slot, time) keys with open addressing (si1 = slot + 1, 0 = empty): the fixes this
 * process stored in the position inbox since its last merge (wg_positions_add's duplicate
 * check; the inbox itself is in arrival order and has no key to ask). */
typedef struct pi_key {
    int64_t at_ms;
    uint32_t si1;
} pi_key;

typedef struct pi_keyset {
    pi_key *k;
    size_t mask, used;
} pi_keyset;

/* A fix this process put in the position inbox (si: its worker's slot). */
typedef struct pi_row {
    int64_t at_ms, received_ms;
    double lon, lat, accuracy_m;
    uint32_t si;
} pi_row;

/* An id -> index + 1 map with open addressing (0 = empty). */
typedef struct pi_map {
    uint32_t *v;
    size_t mask, used;
} pi_map;

struct wg_posindex {
    double d, inv_d; /* cell side in degrees */
    uint32_t nlon, nlat;
    struct geod_geodesic geod;
    _Atomic(pi_table *) table;
    atomic_uint ncells;             /* bumped after each cell is created */
    atomic_uint bx0, bx1, by0, by1; /* the cells' extent in (ix, iy) */
    _Atomic(pi_slot *) slots[MAX_CHUNKS];
    uint32_t nslots;
    pi_map ids;                        /* worker id -> slot (writers only) */
    _Atomic(char **) strs[MAX_CHUNKS]; /* interned id -> code; the char * are written once */
    uint32_t nstrs;
    pi_map strmap; /* code -> interned id (str_mu) */
    pthread_rwlock_t str_mu;
    pthread_mutex_t mu; /* writers */
    void **retired;
    size_t nretired, retcap;
    size_t known, placed;
    uint32_t sync_pass;
    atomic_ulong retries, locked;
    /* stored this round (since the last merge), in the round before, by the open batch
     * (moved to inbox at its commit) */
    pi_keyset inbox, prev, batch;
    uint32_t round; /* merges seen */
    /* the fixes stored since the last merge, in arrival order (those from rows_done on are
     * the open batch's); rows_known 0: the copy is not whole (no merge yet, or out of memory);
     * merge_count: the store's merge count after the last merge */
    pi_row *rows;
    size_t nrows, rows_done, rows_cap;
    int rows_known;
    int64_t merge_count;
    atomic_uint_fast64_t merges, presorted; /* written under mu, read without it too */
};

/* ---------------------------------------------------------------- geodesy */

void wg_pi_ecef(double lon, double lat, double xyz[3])
{
    double sp = sin(lat * DEG), cp = cos(lat * DEG);
    double nr = WGS84_A / sqrt(1 - WGS84_E2 * sp * sp);
    xyz[0] = nr * cp * cos(lon * DEG);
    xyz[1] = nr * cp * sin(lon * DEG);
    xyz[2] = nr * (1 - WGS84_E2) * sp;
}

double wg_pi_lower_m(double chord_m)
{
    return chord_m * (1 - 1e-12) - MARGIN_M;
}

/* 2R asin(c / 2R) <= 2R x / sqrt(1 - x^2) (x = c / 2R; tan >= sin) <= c (1 + x^2) for x^2 <= 0.6,
 * since (1 + u)^2 (1 - u) >= 1 there: no asin on the hot path. Over 5 km the bound lies 0.8 mm
 * above the chord (the geodesic about 0.13 mm). */
double wg_pi_upper_m(double chord_m)
{
    if (chord_m > UPPER_MAX_M) return INFINITY;
    return chord_m * (1 + chord_m * chord_m * (1 / (4 * R_UPPER * R_UPPER)) + 1e-12) + MARGIN_M;
}

/* The radius of the parallels at least this far (T metres of path) from a latitude whose
 * |lat| has sine sq and cosine cq: the parallel radius N cos(phi) >= a cos(phi) falls with
 * |phi|, and a path of length T moves at most d = T / M_min in latitude, so every parallel it
 * meets has radius >= a cos(|lat| + d) >= a (cq (1 - d^2 / 2) - sq d). 0 when that is not
 * positive (the band may reach a pole: then longitude gives no bound). */
static double parallel_lo(double sq, double cq, double t_m)
{
    if (!isfinite(t_m)) return 0;
    double d = (t_m + MARGIN_M) / M_MIN_LB;
    double p = WGS84_A * (cq * (1 - d * d / 2) - sq * d) * (1 - 1e-9);
    return p > 0 ? p : 0;
}

/* The box bound with a given p_lo (see the top), squared and before the margin. Degrees in. */
static double box_lower2(double lon, double lat, double w, double s, double e, double n,
                         double p_lo)
{
    double dlat = lat < s ? s - lat : lat > n ? lat - n : 0;
    double dlon = lon < w ? w - lon : lon > e ? lon - e : 0;
    double a = M_MIN_LB * dlat * DEG, b = p_lo * dlon * DEG;
    return a * a + b * b;
}

double wg_pi_box_lower_m(double lon, double lat, double w, double s, double e, double n, double t_m)
{
    double p = parallel_lo(sin(fabs(lat) * DEG), cos(lat * DEG), t_m);
    return sqrt(box_lower2(lon, lat, w, s, e, n, p)) - MARGIN_M;
}

/* The query point's frame: its ECEF position, local east and north, the radii of curvature,
 * and sin/cos of |lat| for the parallel bound. One set of sines and cosines a query. */
typedef struct frame {
    double q[3];
    double east[3], north[3];
    double inv_m, inv_n; /* 1/M and 1/N at the query's latitude */
    double sq, cq;       /* sin |lat|, cos lat */
} frame;

static void frame_init(frame *f, double lon, double lat)
{
    double sp = sin(lat * DEG), cp = cos(lat * DEG), sl = sin(lon * DEG), cl = cos(lon * DEG);
    double w = 1 - WGS84_E2 * sp * sp, nr = WGS84_A / sqrt(w);
    f->q[0] = nr * cp * cl;
    f->q[1] = nr * cp * sl;
    f->q[2] = nr * (1 - WGS84_E2) * sp;
    f->east[0] = -sl, f->east[1] = cl, f->east[2] = 0;
    f->north[0] = -sp * cl, f->north[1] = -sp * sl, f->north[2] = cp;
    f->inv_n = 1 / nr;
    f->inv_m = w / (nr * (1 - WGS84_E2));
    f->sq = fabs(sp);
    f->cq = cp;
}

/* s = 2 rho asin(c / 2 rho) for the chord from the frame's point to p (ECEF), as its series
 * c (1 + (c/rho)^2 / 24 + 3 (c/rho)^4 / 640): under 10 km the next term is below 1e-15 m. */
static double series(const frame *f, const double p[3], double c)
{
    double d[3] = {p[0] - f->q[0], p[1] - f->q[1], p[2] - f->q[2]};
    double e = d[0] * f->east[0] + d[1] * f->east[1];
    double nn = d[0] * f->north[0] + d[1] * f->north[1] + d[2] * f->north[2];
    double h = e * e + nn * nn;
    double k = h > 0 ? (nn * nn * f->inv_m + e * e * f->inv_n) / h : f->inv_m; /* 1/rho */
    double u = c * k * c * k;
    return c * (1 + u / 24 + 3 * u * u / 640);
}

double wg_pi_series_m(double lon1, double lat1, double lon2, double lat2)
{
    frame f;
    frame_init(&f, lon1, lat1);
    double p[3];
    wg_pi_ecef(lon2, lat2, p);
    double d0 = p[0] - f.q[0], d1 = p[1] - f.q[1], d2 = p[2] - f.q[2];
    return series(&f, p, sqrt(d0 * d0 + d1 * d1 + d2 * d2));
}

/* ---------------------------------------------------------------- small helpers */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 31);
}

static uint64_t hash_key(uint64_t k)
{
    k *= 0x9E3779B97F4A7C15ull;
    return k ^ (k >> 29);
}

static size_t keyset_home(const pi_keyset *s, uint32_t si, int64_t at_ms)
{
    return (size_t)hash_key((uint64_t)at_ms ^ ((uint64_t)si << 44) ^ si) & s->mask;
}

static int keyset_has(const pi_keyset *s, uint32_t si, int64_t at_ms)
{
    if (!s->used) return 0;
    for (size_t h = keyset_home(s, si, at_ms);; h = (h + 1) & s->mask) {
        const pi_key *k = &s->k[h];
        if (!k->si1) return 0;
        if (k->si1 == si + 1 && k->at_ms == at_ms) return 1;
    }
}

static void keyset_place(pi_keyset *s, uint32_t si, int64_t at_ms)
{
    size_t h = keyset_home(s, si, at_ms);
    while (s->k[h].si1 && !(s->k[h].si1 == si + 1 && s->k[h].at_ms == at_ms))
        h = (h + 1) & s->mask;
    if (!s->k[h].si1) s->used++;
    s->k[h] = (pi_key){at_ms, si + 1};
}

/* Room for `more` keys beyond those held (load kept under a half). */
static int keyset_reserve(pi_keyset *s, size_t more)
{
    size_t want = s->used + more, cap = s->k ? s->mask + 1 : 0;
    if (want * 2 <= cap) return WG_OK;
    size_t ncap = cap ? cap : 1024;
    while (ncap < want * 2)
        ncap *= 2;
    pi_keyset n = {calloc(ncap, sizeof *n.k), ncap - 1, 0};
    if (!n.k) return WG_ENOMEM;
    for (size_t h = 0; h < cap; h++)
        if (s->k[h].si1) keyset_place(&n, s->k[h].si1 - 1, s->k[h].at_ms);
    free(s->k);
    *s = n;
    return WG_OK;
}

static void keyset_clear(pi_keyset *s)
{
    /* a table is kept for the next round unless it is mostly empty (a burst's) */
    if (s->mask + 1 > (1u << 16) && s->used * 8 < s->mask + 1) {
        free(s->k);
        *s = (pi_keyset){NULL, 0, 0};
    } else if (s->used) {
        memset(s->k, 0, (s->mask + 1) * sizeof *s->k);
        s->used = 0;
    }
}

static pi_slot *slot_at(const wg_posindex *idx, uint32_t i)
{
    pi_slot *chunk = atomic_load_explicit(&idx->slots[i >> SLOT_SHIFT], memory_order_acquire);
    return &chunk[i & (SLOT_CHUNK - 1)];
}

/* An interned code by id + 1 (NULL for 0). */
static const char *str_at(const wg_posindex *idx, uint32_t id1)
{
    if (!id1) return NULL;
    uint32_t i = id1 - 1;
    char **chunk = atomic_load_explicit(&idx->strs[i >> SLOT_SHIFT], memory_order_acquire);
    return chunk[i & (SLOT_CHUNK - 1)];
}

/* Keeps p until the index is freed (a query may still read it). If even the list cannot grow,
 * p is leaked rather than freed under a reader. */
static void retire(wg_posindex *idx, void *p)
{
    if (!p) return;
    if (wg_grow((void **)&idx->retired, &idx->retcap, idx->nretired + 1, sizeof *idx->retired) ==
        WG_OK)
        idx->retired[idx->nretired++] = p;
}

typedef const char *(*map_key_fn)(const wg_posindex *idx, uint32_t i);

static const char *slot_key(const wg_posindex *idx, uint32_t i)
{
    return slot_at(idx, i)->id;
}

/* Index + 1 of key in m, or 0. */
static uint32_t map_find(const wg_posindex *idx, const pi_map *m, map_key_fn keyof, const char *key)
{
    if (!m->v) return 0;
    for (size_t h = hash_str(key) & m->mask;; h = (h + 1) & m->mask) {
        uint32_t v = m->v[h];
        if (!v) return 0;
        if (strcmp(keyof(idx, v - 1), key) == 0) return v;
    }
}

static void map_place(pi_map *m, uint64_t hash, uint32_t v)
{
    size_t h = hash & m->mask;
    while (m->v[h])
        h = (h + 1) & m->mask;
    m->v[h] = v;
}

/* Adds index i (its key is keyof(i)), growing the map at half load. */
static int map_add(const wg_posindex *idx, pi_map *m, map_key_fn keyof, uint32_t i)
{
    if (!m->v || 2 * (m->used + 1) > m->mask + 1) {
        size_t cap = m->v ? 2 * (m->mask + 1) : 256;
        uint32_t *v = calloc(cap, sizeof *v);
        if (!v) return WG_ENOMEM;
        pi_map fresh = {v, cap - 1, m->used};
        for (size_t h = 0; m->v && h <= m->mask; h++)
            if (m->v[h]) map_place(&fresh, hash_str(keyof(idx, m->v[h] - 1)), m->v[h]);
        free(m->v);
        *m = fresh;
    }
    map_place(m, hash_str(keyof(idx, i)), i + 1);
    m->used++;
    return WG_OK;
}

static const char *str_key(const wg_posindex *idx, uint32_t i)
{
    return str_at(idx, i + 1);
}

/* Interned id + 1 of code (writers; adds it under str_mu). 0 for NULL or "". */
static int str_intern(wg_posindex *idx, const char *code, uint32_t *out)
{
    *out = 0;
    if (!code || !*code) return WG_OK;
    uint32_t found = map_find(idx, &idx->strmap, str_key, code);
    if (found) {
        *out = found;
        return WG_OK;
    }
    uint32_t i = idx->nstrs;
    if ((i >> SLOT_SHIFT) >= MAX_CHUNKS) return WG_ENOMEM;
    char **chunk = atomic_load_explicit(&idx->strs[i >> SLOT_SHIFT], memory_order_relaxed);
    if (!chunk) {
        chunk = calloc(SLOT_CHUNK, sizeof *chunk);
        if (!chunk) return WG_ENOMEM;
        atomic_store_explicit(&idx->strs[i >> SLOT_SHIFT], chunk, memory_order_release);
    }
    char *copy = strdup(code);
    if (!copy) return WG_ENOMEM;
    chunk[i & (SLOT_CHUNK - 1)] = copy;
    pthread_rwlock_wrlock(&idx->str_mu);
    int rc = map_add(idx, &idx->strmap, str_key, i);
    pthread_rwlock_unlock(&idx->str_mu);
    if (rc != WG_OK) {
        chunk[i & (SLOT_CHUNK - 1)] = NULL;
        free(copy);
        return rc;
    }
    idx->nstrs++;
    *out = i + 1;
    return WG_OK;
}

/* ---------------------------------------------------------------- cells (writers) */

static uint64_t cell_key(uint32_t ix, uint32_t iy)
{
    return (uint64_t)ix << 32 | iy;
}

static uint32_t cell_ix(const wg_posindex *idx, double lon)
{
    double f = floor((lon + 180.0) * idx->inv_d);
    long ix = (long)f % (long)idx->nlon;
    return (uint32_t)(ix < 0 ? ix + (long)idx->nlon : ix);
}

static uint32_t cell_iy(const wg_posindex *idx, double lat)
{
    double f = floor((lat + 90.0) * idx->inv_d);
    return f < 0 ? 0 : f >= idx->nlat ? idx->nlat - 1 : (uint32_t)f;
}

static pi_cell *table_find(const pi_table *t, uint64_t key)
{
    for (size_t h = hash_key(key) & t->mask;; h = (h + 1) & t->mask) {
        uint64_t k = atomic_load_explicit(&t->b[h].key, memory_order_acquire);
        if (k == key) return atomic_load_explicit(&t->b[h].cell, memory_order_relaxed);
        if (k == EMPTY_KEY) return NULL;
    }
}

static pi_table *table_new(size_t cap)
{
    pi_table *t = malloc(sizeof *t + cap * sizeof t->b[0]);
    if (!t) return NULL;
    t->mask = cap - 1;
    t->used = 0;
    for (size_t i = 0; i < cap; i++) {
        atomic_init(&t->b[i].key, EMPTY_KEY);
        atomic_init(&t->b[i].cell, NULL);
    }
    return t;
}

static void table_put(pi_table *t, pi_cell *c)
{
    uint64_t key = cell_key(c->ix, c->iy);
    size_t h = hash_key(key) & t->mask;
    while (atomic_load_explicit(&t->b[h].key, memory_order_relaxed) != EMPTY_KEY)
        h = (h + 1) & t->mask;
    atomic_store_explicit(&t->b[h].cell, c, memory_order_relaxed);
    atomic_store_explicit(&t->b[h].key, key, memory_order_release);
    t->used++;
}

static pi_vec *vec_new(uint32_t cap)
{
    pi_vec *v = calloc(1, sizeof *v + cap * sizeof v->e[0]);
    if (v) v->cap = cap;
    return v;
}

/* The cell (ix, iy), created (and published) if missing. NULL when out of memory. */
static pi_cell *cell_get(wg_posindex *idx, uint32_t ix, uint32_t iy)
{
    pi_table *t = atomic_load_explicit(&idx->table, memory_order_relaxed);
    pi_cell *c = table_find(t, cell_key(ix, iy));
    if (c) return c;
    if (2 * (t->used + 1) > t->mask + 1) { /* grow first: queries holding the old table retry */
        pi_table *bigger = table_new(2 * (t->mask + 1));
        if (!bigger) return NULL;
        for (size_t h = 0; h <= t->mask; h++) {
            pi_cell *old = atomic_load_explicit(&t->b[h].cell, memory_order_relaxed);
            if (atomic_load_explicit(&t->b[h].key, memory_order_relaxed) != EMPTY_KEY)
                table_put(bigger, old);
        }
        atomic_store_explicit(&idx->table, bigger, memory_order_release);
        retire(idx, t);
        t = bigger;
    }
    c = aligned_alloc(64, CELL_BYTES);
    if (!c) return NULL;
    memset(c, 0, CELL_BYTES);
    pi_vec *v = cell_inline(c);
    v->cap = INLINE_CAP;
    c->ix = ix;
    c->iy = iy;
    atomic_init(&c->seq, 0);
    atomic_init(&c->n, 0);
    atomic_init(&c->v, v);
    unsigned had = atomic_load_explicit(&idx->ncells, memory_order_relaxed);
    if (!had || ix < atomic_load_explicit(&idx->bx0, memory_order_relaxed))
        atomic_store_explicit(&idx->bx0, ix, memory_order_relaxed);
    if (!had || ix > atomic_load_explicit(&idx->bx1, memory_order_relaxed))
        atomic_store_explicit(&idx->bx1, ix, memory_order_relaxed);
    if (!had || iy < atomic_load_explicit(&idx->by0, memory_order_relaxed))
        atomic_store_explicit(&idx->by0, iy, memory_order_relaxed);
    if (!had || iy > atomic_load_explicit(&idx->by1, memory_order_relaxed))
        atomic_store_explicit(&idx->by1, iy, memory_order_relaxed);
    table_put(t, c);
    atomic_store_explicit(&idx->ncells, had + 1, memory_order_release);
    return c;
}

static void write_begin(pi_cell *c)
{
    unsigned s = atomic_load_explicit(&c->seq, memory_order_relaxed);
    atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_end(pi_cell *c)
{
    unsigned s = atomic_load_explicit(&c->seq, memory_order_relaxed);
    atomic_store_explicit(&c->seq, s + 1, memory_order_release);
}

static unsigned slot_flags(const pi_slot *sl)
{
    return (sl->on_duty ? F_DUTY : 0) | (unsigned)sl->role << 1;
}

static void entry_write(pi_entry *e, const pi_slot *sl, uint32_t si, const double xyz[3])
{
    atomic_store_explicit(&e->x, xyz[0], memory_order_relaxed);
    atomic_store_explicit(&e->y, xyz[1], memory_order_relaxed);
    atomic_store_explicit(&e->z, xyz[2], memory_order_relaxed);
    atomic_store_explicit(&e->lon, sl->lon, memory_order_relaxed);
    atomic_store_explicit(&e->lat, sl->lat, memory_order_relaxed);
    atomic_store_explicit(&e->seen_ms, sl->seen_ms, memory_order_relaxed);
    atomic_store_explicit(&e->slot, si, memory_order_relaxed);
    atomic_store_explicit(&e->grid, sl->grid, memory_order_relaxed);
    atomic_store_explicit(&e->comm, sl->comm, memory_order_relaxed);
    atomic_store_explicit(&e->flags, slot_flags(sl), memory_order_relaxed);
}

static void entry_copy(pi_entry *to, pi_entry *from)
{
#define CP(f)                                                                                      \
    atomic_store_explicit(&to->f, atomic_load_explicit(&from->f, memory_order_relaxed),            \
                          memory_order_relaxed)
    CP(x), CP(y), CP(z), CP(lon), CP(lat), CP(seen_ms), CP(slot), CP(grid), CP(comm), CP(flags);
#undef CP
}

/* A cell's array with room for one more entry: the same one, or a copy twice its size
 * (made before any write section; the caller publishes it inside one). NULL: out of memory. */
static pi_vec *room_for_one(pi_cell *c)
{
    pi_vec *v = atomic_load_explicit(&c->v, memory_order_relaxed);
    unsigned n = atomic_load_explicit(&c->n, memory_order_relaxed);
    if (n < v->cap) return v;
    pi_vec *bigger = vec_new(2 * v->cap);
    if (!bigger) return NULL;
    for (unsigned i = 0; i < n; i++)
        entry_copy(&bigger->e[i], &v->e[i]);
    return bigger;
}

/* Inside c's write section: appends slot si, in array v (from room_for_one). */
static void cell_append(wg_posindex *idx, pi_cell *c, pi_vec *v, pi_slot *sl, uint32_t si,
                        const double xyz[3])
{
    pi_vec *cur = atomic_load_explicit(&c->v, memory_order_relaxed);
    unsigned n = atomic_load_explicit(&c->n, memory_order_relaxed);
    if (v != cur) {
        atomic_store_explicit(&c->v, v, memory_order_release);
        if (cur != cell_inline(c)) retire(idx, cur); /* the inline one goes with the cell */
    }
    entry_write(&v->e[n], sl, si, xyz);
    atomic_store_explicit(&c->n, n + 1, memory_order_relaxed);
    sl->cell = c;
    sl->pos = n;
}

/* Inside c's write section: removes the entry at pos (the last one takes its place). */
static void cell_remove(wg_posindex *idx, pi_cell *c, uint32_t pos)
{
    pi_vec *v = atomic_load_explicit(&c->v, memory_order_relaxed);
    unsigned last = atomic_load_explicit(&c->n, memory_order_relaxed) - 1;
    if (pos != last) {
        entry_copy(&v->e[pos], &v->e[last]);
        slot_at(idx, atomic_load_explicit(&v->e[pos].slot, memory_order_relaxed))->pos = pos;
    }
    atomic_store_explicit(&c->n, last, memory_order_relaxed);
}

/* Puts the index's entries in line with slot si's state. A move between cells changes both
 * inside overlapping write sections, so no query can see the worker in both cells or in
 * neither: a query that read one cell before and the other after has read a changed cell. */
static int place(wg_posindex *idx, uint32_t si)
{
    pi_slot *sl = slot_at(idx, si);
    pi_cell *old = sl->cell;
    if (!(sl->known && sl->active && sl->has_pos)) {
        if (old) {
            write_begin(old);
            cell_remove(idx, old, sl->pos);
            write_end(old);
            sl->cell = NULL;
            idx->placed--;
        }
        return WG_OK;
    }
    double xyz[3];
    wg_pi_ecef(sl->lon, sl->lat, xyz);
    pi_cell *c = cell_get(idx, cell_ix(idx, sl->lon), cell_iy(idx, sl->lat));
    if (!c) return WG_ENOMEM;
    if (c == old) {
        pi_vec *v = atomic_load_explicit(&c->v, memory_order_relaxed);
        write_begin(c);
        entry_write(&v->e[sl->pos], sl, si, xyz);
        write_end(c);
        return WG_OK;
    }
    pi_vec *v = room_for_one(c);
    if (!v) return WG_ENOMEM;
    uint32_t old_pos = sl->pos;
    write_begin(c);
    if (old) write_begin(old);
    cell_append(idx, c, v, sl, si, xyz);
    if (old) {
        cell_remove(idx, old, old_pos);
        write_end(old);
    } else {
        idx->placed++;
    }
    write_end(c);
    return WG_OK;
}

/* ---------------------------------------------------------------- writers' API */

void wg_pi_lock(wg_posindex *idx)
{
    pthread_mutex_lock(&idx->mu);
}

void wg_pi_unlock(wg_posindex *idx)
{
    pthread_mutex_unlock(&idx->mu);
}

/* The run of the slot holding at_ms, or NULL. */
static pi_run *run_at(pi_slot *sl, int64_t at_ms)
{
    for (int k = 0; k < sl->nruns; k++)
        if (at_ms >= sl->run[k].lo && at_ms <= sl->run[k].hi) return &sl->run[k];
    return NULL;
}

static int64_t after(int64_t t)
{
    return t == INT64_MAX ? t : t + 1;
}

/* The end of a run's inexact part (INT64_MIN: exact throughout). */
static int64_t inexact_end(const pi_run *r)
{
    return r->ex > r->lo ? (r->ex < after(r->hi) ? r->ex : after(r->hi)) : INT64_MIN;
}

/* One run covering x and y (and the gap between, where nothing is stored), exact past every
 * inexact part of either. */
static pi_run join(pi_run x, pi_run y)
{
    pi_run j = {x.lo < y.lo ? x.lo : y.lo, x.hi > y.hi ? x.hi : y.hi, 0};
    int64_t ex = inexact_end(&x), ey = inexact_end(&y);
    j.ex = ex > ey ? ex : ey;
    if (j.ex == INT64_MIN) j.ex = j.lo;
    return j;
}

/* Adds the run n to the slot's runs (joining those it overlaps; then, over PI_RUNS, the two
 * closest). */
static void runs_add(pi_slot *sl, pi_run n)
{
    pi_run r[PI_RUNS + 1];
    int m = 0, placed = 0;
    for (int k = 0; k < sl->nruns; k++) {
        if (sl->run[k].hi < n.lo) { /* before n */
            r[m++] = sl->run[k];
        } else if (sl->run[k].lo > n.hi) { /* after */
            if (!placed) r[m++] = n, placed = 1;
            r[m++] = sl->run[k];
        } else { /* overlaps */
            n = join(n, sl->run[k]);
        }
    }
    if (!placed) r[m++] = n;
    if (m > PI_RUNS) {
        int best = 0; /* the gap r[k + 1].lo - r[k].hi > 0 fits in an unsigned 64-bit */
        for (int k = 1; k + 1 < m; k++)
            if ((uint64_t)r[k + 1].lo - (uint64_t)r[k].hi <
                (uint64_t)r[best + 1].lo - (uint64_t)r[best].hi)
                best = k;
        r[best] = join(r[best], r[best + 1]);
        for (int k = best + 1; k + 1 < m; k++)
            r[k] = r[k + 1];
        m--;
    }
    memcpy(sl->run, r, (size_t)m * sizeof *r);
    sl->nruns = m;
}

/* Fixes of the slot in [lo, hi] leave the key sets: the runs are exact only past them. */
static void runs_forget(pi_slot *sl, int64_t lo, int64_t hi)
{
    for (int k = 0; k < sl->nruns; k++) {
        pi_run *r = &sl->run[k];
        if (r->hi < lo || r->lo > hi) continue;
        int64_t past = after(hi < r->hi ? hi : r->hi);
        if (r->ex < past) r->ex = past;
    }
}

static int find_slot(wg_posindex *idx, const char *id, uint32_t *si)
{
    uint32_t v = id ? map_find(idx, &idx->ids, slot_key, id) : 0;
    if (!v || !slot_at(idx, v - 1)->known) return WG_ENOTFOUND;
    *si = v - 1;
    return WG_OK;
}

/* The slot of id, created if new (not yet known). */
static int slot_for(wg_posindex *idx, const char *id, uint32_t *si)
{
    uint32_t v = map_find(idx, &idx->ids, slot_key, id);
    if (v) {
        *si = v - 1;
        return WG_OK;
    }
    uint32_t i = idx->nslots;
    if ((i >> SLOT_SHIFT) >= MAX_CHUNKS) return WG_ENOMEM;
    pi_slot *chunk = atomic_load_explicit(&idx->slots[i >> SLOT_SHIFT], memory_order_relaxed);
    if (!chunk) {
        chunk = calloc(SLOT_CHUNK, sizeof *chunk);
        if (!chunk) return WG_ENOMEM;
        atomic_store_explicit(&idx->slots[i >> SLOT_SHIFT], chunk, memory_order_release);
    }
    pi_slot *sl = &chunk[i & (SLOT_CHUNK - 1)];
    memset(sl, 0, sizeof *sl);
    snprintf(sl->id, sizeof sl->id, "%s", id);
    atomic_init(&sl->name, NULL);
    atomic_init(&sl->phone, NULL);
    sl->seen_ms = INT64_MIN;
    sl->stored_ms = INT64_MAX;
    sl->table_seen_ms = INT64_MIN;
    sl->put_ms = INT64_MIN;
    sl->round_of[0] = sl->round_of[1] = idx->round - 2; /* a round already gone */
    idx->nslots++;
    int rc = map_add(idx, &idx->ids, slot_key, i);
    if (rc != WG_OK) {
        idx->nslots--;
        return rc;
    }
    *si = i;
    return WG_OK;
}

/* Replaces a slot's string when it changed ("" stores NULL). */
static int set_text(wg_posindex *idx, _Atomic(char *) *field, const char *text)
{
    char *cur = atomic_load_explicit(field, memory_order_relaxed);
    if (!text || !*text) text = NULL;
    if ((!cur && !text) || (cur && text && strcmp(cur, text) == 0)) return WG_OK;
    char *copy = NULL;
    if (text && !(copy = strdup(text))) return WG_ENOMEM;
    atomic_store_explicit(field, copy, memory_order_release);
    retire(idx, cur);
    return WG_OK;
}

static int lonlat_ok(double lon, double lat)
{
    return isfinite(lon) && isfinite(lat) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}

int wg_pi_put_locked(wg_posindex *idx, const wg_worker *w)
{
    if (!w->id[0] || (w->has_position && !lonlat_ok(w->lon, w->lat))) return WG_EINVAL;
    uint32_t si = 0, grid = 0, comm = 0;
    int rc = slot_for(idx, w->id, &si);
    if (rc != WG_OK) return rc;
    rc = str_intern(idx, w->home_grid, &grid);
    size_t plen = w->home_grid[0] ? wg_code_parent_len(WG_LEVEL_GRID, w->home_grid) : 0;
    if (rc == WG_OK && plen) {
        char prefix[WG_GRID_CODE_MAX + 1];
        snprintf(prefix, sizeof prefix, "%.*s", (int)plen, w->home_grid);
        rc = str_intern(idx, prefix, &comm);
    }
    pi_slot *sl = slot_at(idx, si);
    if (rc == WG_OK) rc = set_text(idx, &sl->name, w->name);
    if (rc == WG_OK) rc = set_text(idx, &sl->phone, w->phone);
    if (rc != WG_OK) return rc;
    if (!sl->known) idx->known++;
    sl->known = 1;
    sl->active = w->active != 0;
    sl->on_duty = w->on_duty != 0;
    sl->role = w->role;
    sl->has_pos = w->has_position != 0;
    sl->lon = w->has_position ? w->lon : 0;
    sl->lat = w->has_position ? w->lat : 0;
    sl->seen_ms = w->seen_ms ? w->seen_ms : INT64_MIN;
    sl->grid = grid;
    sl->comm = comm;
    return place(idx, si);
}

int wg_pi_move_locked(wg_posindex *idx, const char *id, double lon, double lat, int64_t seen_ms)
{
    if (!lonlat_ok(lon, lat)) return WG_EINVAL;
    uint32_t si;
    int rc = find_slot(idx, id, &si);
    return rc != WG_OK ? rc : wg_pi_move_at_locked(idx, si, lon, lat, seen_ms);
}

int wg_pi_duty_locked(wg_posindex *idx, const char *id, int on_duty)
{
    uint32_t si;
    int rc = find_slot(idx, id, &si);
    if (rc != WG_OK) return rc;
    slot_at(idx, si)->on_duty = on_duty != 0;
    return place(idx, si);
}

int wg_pi_find_locked(wg_posindex *idx, const char *id, uint32_t *si)
{
    return find_slot(idx, id, si);
}

int wg_pi_move_at_locked(wg_posindex *idx, uint32_t si, double lon, double lat, int64_t seen_ms)
{
    if (!lonlat_ok(lon, lat)) return WG_EINVAL;
    pi_slot *sl = slot_at(idx, si);
    if (sl->has_pos && seen_ms <= sl->seen_ms) return 0;
    sl->has_pos = 1;
    sl->lon = lon;
    sl->lat = lat;
    sl->seen_ms = seen_ms;
    int rc = place(idx, si);
    return rc == WG_OK ? 1 : rc;
}

void wg_pi_known_at_locked(wg_posindex *idx, uint32_t si, int *active, int64_t *seen_ms,
                           int64_t *stored_ms)
{
    const pi_slot *sl = slot_at(idx, si);
    *active = sl->active;
    *seen_ms = sl->has_pos ? sl->seen_ms : INT64_MIN;
    /* stored fixes are at most the position (committed ones) or stored_ms (when known), and
     * put_ms (the open batch's too: the position moves after the commit) */
    int64_t bound = *seen_ms < sl->stored_ms ? *seen_ms : sl->stored_ms;
    *stored_ms = bound > sl->put_ms ? bound : sl->put_ms;
}

int wg_pi_may_hold_at_locked(wg_posindex *idx, uint32_t si, int64_t at_ms, int *active)
{
    int64_t seen, bound;
    wg_pi_known_at_locked(idx, si, active, &seen, &bound);
    pi_slot *sl = slot_at(idx, si);
    if (at_ms > bound) return WG_PI_NEW;
    if (sl->stored_ms == INT64_MAX) return WG_PI_ASK; /* the track not learnt yet */
    const pi_run *r = run_at(sl, at_ms);
    return !r ? WG_PI_NEW : at_ms >= r->ex ? WG_PI_KEYS : WG_PI_ASK;
}

/* Keeps a copy of a stored fix. Past PI_ROWS_MAX fixes, or out of memory, the copy is dropped
 * until the next merge, which then asks SQLite. */
static void keep_row(wg_posindex *idx, uint32_t si, const wg_fix *f, int64_t received_ms)
{
    if (!idx->rows_known) return;
    if (idx->nrows >= PI_ROWS_MAX ||
        (idx->nrows == idx->rows_cap && wg_grow((void **)&idx->rows, &idx->rows_cap, idx->nrows + 1,
                                                sizeof *idx->rows) != WG_OK)) {
        free(idx->rows);
        idx->rows = NULL;
        idx->nrows = idx->rows_done = idx->rows_cap = 0;
        idx->rows_known = 0;
        return;
    }
    idx->rows[idx->nrows++] = (pi_row){f->at_ms, received_ms, f->lon, f->lat, f->accuracy_m, si};
}

int wg_pi_stored_at_locked(wg_posindex *idx, uint32_t si, const wg_fix *f, int64_t received_ms)
{
    int64_t at_ms = f->at_ms;
    keep_row(idx, si, f, received_ms);
    pi_slot *sl = slot_at(idx, si);
    if (sl->stored_ms != INT64_MAX && at_ms > sl->stored_ms) sl->stored_ms = at_ms;
    if (at_ms > sl->put_ms) sl->put_ms = at_ms;
    if (!run_at(sl, at_ms)) runs_add(sl, (pi_run){at_ms, at_ms, at_ms});
    int g = idx->round & 1;
    if (sl->round_of[g] != idx->round) {
        sl->round_of[g] = idx->round;
        sl->round_lo[g] = sl->round_hi[g] = at_ms;
    } else if (at_ms < sl->round_lo[g]) {
        sl->round_lo[g] = at_ms;
    } else if (at_ms > sl->round_hi[g]) {
        sl->round_hi[g] = at_ms;
    }
    if (keyset_reserve(&idx->batch, 1) != WG_OK) return WG_ENOMEM;
    keyset_place(&idx->batch, si, at_ms);
    return WG_OK;
}

int wg_pi_inbox_has_at_locked(wg_posindex *idx, uint32_t si, int64_t at_ms)
{
    return keyset_has(&idx->batch, si, at_ms) || keyset_has(&idx->inbox, si, at_ms) ||
           keyset_has(&idx->prev, si, at_ms);
}

int wg_pi_batch_ready_locked(wg_posindex *idx)
{
    return keyset_reserve(&idx->inbox, idx->batch.used);
}

void wg_pi_batch_end_locked(wg_posindex *idx, int committed)
{
    for (size_t h = 0; committed && idx->batch.used && h <= idx->batch.mask; h++) {
        const pi_key *k = &idx->batch.k[h];
        if (k->si1) keyset_place(&idx->inbox, k->si1 - 1, k->at_ms); /* room reserved */
    }
    keyset_clear(&idx->batch);
    if (committed)
        idx->rows_done = idx->nrows;
    else
        idx->nrows = idx->rows_done;
}

static int row_time_cmp(const void *a, const void *b)
{
    const wg_pi_row *x = a, *y = b;
    return (x->at_ms > y->at_ms) - (x->at_ms < y->at_ms);
}

typedef struct slot_ref {
    const char *id;
    uint32_t si;
} slot_ref;

static int slot_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const slot_ref *)a)->id, ((const slot_ref *)b)->id);
}

int wg_pi_inbox_rows_locked(wg_posindex *idx, wg_pi_row **rows, size_t *n, int64_t *merges)
{
    *rows = NULL;
    *n = 0;
    *merges = idx->merge_count;
    if (!idx->rows_known) return WG_ENOTFOUND;
    size_t m = idx->rows_done;
    /* a bucket per worker, the workers in id order (strcmp: SQLite's BINARY order of UTF-8
     * text), each bucket in arrival order, then by time */
    size_t *start = calloc((size_t)idx->nslots + 1, sizeof *start);
    slot_ref *used = malloc(((size_t)idx->nslots + 1) * sizeof *used);
    wg_pi_row *out = malloc((m ? m : 1) * sizeof *out);
    if (!start || !used || !out) {
        free(start), free(used), free(out);
        return WG_ENOMEM;
    }
    size_t nused = 0;
    for (size_t r = 0; r < m; r++)
        if (start[idx->rows[r].si]++ == 0)
            used[nused++] = (slot_ref){slot_at(idx, idx->rows[r].si)->id, idx->rows[r].si};
    qsort(used, nused, sizeof *used, slot_ref_cmp);
    size_t at = 0;
    for (size_t u = 0; u < nused; u++) {
        size_t c = start[used[u].si];
        start[used[u].si] = at;
        at += c;
    }
    for (size_t r = 0; r < m; r++) {
        const pi_row *p = &idx->rows[r];
        out[start[p->si]++] = (wg_pi_row){
            slot_at(idx, p->si)->id, p->at_ms, p->received_ms, p->lon, p->lat, p->accuracy_m};
    }
    /* start[si] is now the end of the worker's bucket */
    for (size_t u = 0, b = 0; u < nused; u++) {
        size_t e = start[used[u].si];
        size_t k = b + 1;
        while (k < e && out[k - 1].at_ms <= out[k].at_ms)
            k++;
        if (k < e) qsort(out + b, e - b, sizeof *out, row_time_cmp); /* a track sent out of order */
        b = e;
    }
    free(start), free(used);
    *rows = out;
    *n = m;
    return WG_OK;
}

void wg_pi_merged_locked(wg_posindex *idx, int64_t merges, int presorted)
{
    atomic_fetch_add(&idx->merges, 1);
    if (presorted) atomic_fetch_add(&idx->presorted, 1);
    idx->merge_count = merges;
    /* the copy's room is kept for the next round unless it is mostly empty (a burst's) */
    if (idx->rows_cap > (1u << 16) && idx->nrows * 8 < idx->rows_cap) {
        free(idx->rows);
        idx->rows = NULL;
        idx->rows_cap = 0;
    }
    idx->nrows = idx->rows_done = 0;
    idx->rows_known = 1;
    /* the round before this one leaves the key sets */
    uint32_t gone = idx->round - 1;
    for (uint32_t i = 0; idx->prev.used && i < idx->nslots; i++) {
        pi_slot *sl = slot_at(idx, i);
        if (sl->round_of[gone & 1] == gone && sl->nruns)
            runs_forget(sl, sl->round_lo[gone & 1], sl->round_hi[gone & 1]);
    }
    keyset_clear(&idx->prev);
    pi_keyset t = idx->prev;
    idx->prev = idx->inbox;
    idx->inbox = t;
    idx->round++;
}

static int forget_locked(wg_posindex *idx, uint32_t si)
{
    pi_slot *sl = slot_at(idx, si);
    sl->known = 0;
    idx->known--;
    return place(idx, si);
}

int wg_posindex_put(wg_posindex *idx, const wg_worker *w)
{
    wg_pi_lock(idx);
    int rc = wg_pi_put_locked(idx, w);
    wg_pi_unlock(idx);
    return rc;
}

int wg_posindex_move(wg_posindex *idx, const char *id, double lon, double lat, int64_t seen_ms)
{
    wg_pi_lock(idx);
    int rc = wg_pi_move_locked(idx, id, lon, lat, seen_ms);
    wg_pi_unlock(idx);
    return rc;
}

int wg_posindex_set_duty(wg_posindex *idx, const char *id, int on_duty)
{
    wg_pi_lock(idx);
    int rc = wg_pi_duty_locked(idx, id, on_duty);
    wg_pi_unlock(idx);
    return rc;
}

int wg_posindex_remove(wg_posindex *idx, const char *id)
{
    wg_pi_lock(idx);
    uint32_t si;
    int rc = find_slot(idx, id, &si);
    if (rc == WG_OK) rc = forget_locked(idx, si);
    wg_pi_unlock(idx);
    return rc;
}

static void slot_to_worker(const wg_posindex *idx, const pi_slot *sl, wg_worker *out)
{
    memset(out, 0, sizeof *out);
    const char *name = atomic_load_explicit(&sl->name, memory_order_acquire);
    const char *phone = atomic_load_explicit(&sl->phone, memory_order_acquire);
    const char *grid = str_at(idx, sl->grid);
    snprintf(out->id, sizeof out->id, "%s", sl->id);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    snprintf(out->phone, sizeof out->phone, "%s", phone ? phone : "");
    snprintf(out->home_grid, sizeof out->home_grid, "%s", grid ? grid : "");
    out->role = sl->role;
    out->on_duty = sl->on_duty;
    out->active = sl->active;
    out->has_position = sl->has_pos;
    out->lon = sl->lon;
    out->lat = sl->lat;
    out->seen_ms = sl->seen_ms == INT64_MIN ? 0 : sl->seen_ms;
}

int wg_posindex_get(wg_posindex *idx, const char *id, wg_worker *out)
{
    wg_pi_lock(idx);
    uint32_t si;
    int rc = find_slot(idx, id, &si);
    if (rc == WG_OK) slot_to_worker(idx, slot_at(idx, si), out);
    wg_pi_unlock(idx);
    return rc;
}

void wg_posindex_counts(wg_posindex *idx, size_t *known, size_t *placed)
{
    wg_pi_lock(idx);
    if (known) *known = idx->known;
    if (placed) *placed = idx->placed;
    wg_pi_unlock(idx);
}

void wg_posindex_get_stats(wg_posindex *idx, wg_posindex_stats *out)
{
    wg_pi_lock(idx);
    out->retries = atomic_load(&idx->retries);
    out->locked = atomic_load(&idx->locked);
    out->cells = atomic_load(&idx->ncells);
    out->workers = idx->known;
    out->placed = idx->placed;
    out->merges = atomic_load(&idx->merges);
    out->presorted_merges = atomic_load(&idx->presorted);
    wg_pi_unlock(idx);
}

uint64_t wg_posindex_presorted_merges(wg_posindex *idx)
{
    return atomic_load(&idx->presorted);
}

/* ---------------------------------------------------------------- life */

wg_posindex *wg_posindex_new(double cell_deg)
{
    if (cell_deg == 0) cell_deg = 0.02;
    if (!(cell_deg >= 0.0001 && cell_deg <= 1)) return NULL;
    wg_posindex *idx = calloc(1, sizeof *idx);
    if (!idx) return NULL;
    idx->nlon = (uint32_t)lround(360.0 / cell_deg);
    idx->d = 360.0 / idx->nlon; /* so that the cells close around the globe */
    idx->inv_d = idx->nlon / 360.0;
    idx->nlat = (uint32_t)ceil(180.0 * idx->inv_d);
    geod_init(&idx->geod, WGS84_A, WGS84_F);
    pi_table *t = table_new(64);
    if (!t) {
        free(idx);
        return NULL;
    }
    atomic_init(&idx->table, t);
    atomic_init(&idx->ncells, 0);
    for (size_t i = 0; i < MAX_CHUNKS; i++) {
        atomic_init(&idx->slots[i], NULL);
        atomic_init(&idx->strs[i], NULL);
    }
    pthread_mutex_init(&idx->mu, NULL);
    pthread_rwlock_init(&idx->str_mu, NULL);
    return idx;
}

void wg_posindex_free(wg_posindex *idx)
{
    if (!idx) return;
    pi_table *t = atomic_load(&idx->table);
    for (size_t h = 0; h <= t->mask; h++) {
        if (atomic_load(&t->b[h].key) == EMPTY_KEY) continue;
        pi_cell *c = atomic_load(&t->b[h].cell);
        pi_vec *v = atomic_load(&c->v);
        if (v != cell_inline(c)) free(v);
        free(c);
    }
    free(t);
    for (uint32_t i = 0; i < idx->nslots; i++) {
        pi_slot *sl = slot_at(idx, i);
        free(atomic_load(&sl->name));
        free(atomic_load(&sl->phone));
    }
    for (size_t i = 0; i < MAX_CHUNKS; i++) {
        free(atomic_load(&idx->slots[i]));
        char **chunk = atomic_load(&idx->strs[i]);
        for (size_t k = 0; chunk && k < SLOT_CHUNK; k++)
            free(chunk[k]);
        free(chunk);
    }
    for (size_t i = 0; i < idx->nretired; i++)
        free(idx->retired[i]);
    free(idx->retired);
    free(idx->ids.v);
    free(idx->strmap.v);
    free(idx->inbox.k);
    free(idx->prev.k);
    free(idx->batch.k);
    free(idx->rows);
    pthread_mutex_destroy(&idx->mu);
    pthread_rwlock_destroy(&idx->str_mu);
    free(idx);
}

/* ---------------------------------------------------------------- sync with the store */

static char *col_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, n, "%s", t ? (const char *)t : "");
    return out;
}

/* 1 when the slot already holds w's state. */
static int slot_same(const wg_posindex *idx, const pi_slot *sl, const wg_worker *w)
{
    const char *name = atomic_load_explicit(&sl->name, memory_order_relaxed);
    const char *phone = atomic_load_explicit(&sl->phone, memory_order_relaxed);
    const char *grid = str_at(idx, sl->grid);
    int64_t seen = w->seen_ms ? w->seen_ms : INT64_MIN;
    return sl->known && sl->active == (w->active != 0) && sl->on_duty == (w->on_duty != 0) &&
           sl->role == w->role && sl->has_pos == (w->has_position != 0) &&
           (!w->has_position || (sl->lon == w->lon && sl->lat == w->lat)) && sl->seen_ms == seen &&
           strcmp(grid ? grid : "", w->home_grid) == 0 && strcmp(name ? name : "", w->name) == 0 &&
           strcmp(phone ? phone : "", w->phone) == 0;
}

int wg_posindex_sync(wg_posindex *idx, wg_ctx *ctx, size_t *changed)
{
    if (changed) *changed = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc =
        wg_prepare(ctx,
                   "SELECT id, name, phone, role, home_grid, lon, lat, on_duty, seen_ms, active"
                   " FROM workers",
                   &st);
    if (rc != WG_OK) return rc;
    sqlite3_stmt *newest = NULL;
    rc = wg_prepare(ctx,
                    "SELECT (SELECT min(at_ms) FROM worker_positions WHERE worker_id = ?1),"
                    " (SELECT max(at_ms) FROM worker_positions WHERE worker_id = ?1)",
                    &newest);
    if (rc != WG_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    size_t n = 0;
    wg_pi_lock(idx);
    uint32_t pass = ++idx->sync_pass;
    int s;
    wg_worker w;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&w, 0, sizeof w);
        col_text(st, 0, w.id, sizeof w.id);
        col_text(st, 1, w.name, sizeof w.name);
        col_text(st, 2, w.phone, sizeof w.phone);
        const unsigned char *role = sqlite3_column_text(st, 3);
        w.role = wg_worker_role_parse(role ? (const char *)role : "");
        col_text(st, 4, w.home_grid, sizeof w.home_grid);
        w.has_position =
            sqlite3_column_type(st, 5) != SQLITE_NULL && sqlite3_column_type(st, 6) != SQLITE_NULL;
        w.lon = w.has_position ? sqlite3_column_double(st, 5) : 0;
        w.lat = w.has_position ? sqlite3_column_double(st, 6) : 0;
        w.on_duty = sqlite3_column_int(st, 7) != 0;
        w.seen_ms = sqlite3_column_int64(st, 8);
        int64_t table_seen = sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MIN : w.seen_ms;
        w.active = sqlite3_column_int(st, 9) != 0;
        if (!w.id[0] || !w.role || (w.has_position && !lonlat_ok(w.lon, w.lat)))
            continue; /* CHECKs forbid it */
        uint32_t v = map_find(idx, &idx->ids, slot_key, w.id);
        pi_slot *sl = v ? slot_at(idx, v - 1) : NULL;
        if (sl && sl->known && sl->has_pos && (!w.has_position || w.seen_ms < sl->seen_ms)) {
            /* positions only move forward: the index may hold fixes the workers table gets at
             * the next merge of the position inbox (wg_positions_merge) */
            w.has_position = 1;
            w.lon = sl->lon;
            w.lat = sl->lat;
            w.seen_ms = sl->seen_ms;
        }
        if (!sl || !slot_same(idx, sl, &w)) {
            rc = wg_pi_put_locked(idx, &w);
            if (rc != WG_OK) rc = wg_fail(ctx, rc, "position index: out of memory");
            n++;
            v = map_find(idx, &idx->ids, slot_key, w.id);
            sl = v ? slot_at(idx, v - 1) : NULL;
        }
        if (sl && sl->stored_ms == INT64_MAX) { /* first seen: ask the track (the inbox was
                                                    * merged before the first sync) */
            sqlite3_bind_text(newest, 1, sl->id, -1, SQLITE_STATIC);
            int t = sqlite3_step(newest);
            if (t == SQLITE_ROW && sqlite3_column_type(newest, 1) != SQLITE_NULL) {
                sl->stored_ms = sqlite3_column_int64(newest, 1);
                runs_add(sl, (pi_run){sqlite3_column_int64(newest, 0), sl->stored_ms,
                                      after(sl->stored_ms)});
            } else if (t == SQLITE_ROW) {
                sl->stored_ms = INT64_MIN;
            }
            sqlite3_reset(newest);
            if (t != SQLITE_ROW) rc = wg_fail_sql(ctx, "cannot read the track");
            sl->table_seen_ms = table_seen;
        } else if (sl && table_seen != sl->table_seen_ms) {
            /* a merge (maybe another process's) moved the worker's newest stored fix; one this
             * process did not store means fixes of unknown times (all before it) */
            if (table_seen > sl->stored_ms) sl->stored_ms = table_seen;
            if (table_seen != INT64_MIN && !run_at(sl, table_seen))
                runs_add(sl, (pi_run){INT64_MIN, table_seen, after(table_seen)});
            sl->table_seen_ms = table_seen;
        }
        if (sl) sl->mark = pass;
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read workers");
    for (uint32_t i = 0; rc == WG_OK && i < idx->nslots; i++) { /* gone from the store */
        pi_slot *sl = slot_at(idx, i);
        if (sl->known && sl->mark != pass) {
            rc = forget_locked(idx, i);
            n++;
        }
    }
    wg_pi_unlock(idx);
    sqlite3_finalize(st);
    sqlite3_finalize(newest);
    if (changed) *changed = n;
    return rc;
}

/* ---------------------------------------------------------------- queries */

void (*wg_pi_test_hook)(void *ud, int locked);
void *wg_pi_test_hook_ud;

typedef struct cand {
    double lo, hi, c, key, dist;
    double p[3];
    double lon, lat;
    int64_t seen_ms;
    uint32_t slot, grid, comm, flags;
    int exact;
} cand;

typedef struct visit {
    pi_cell *cell;
    unsigned seq;
} visit;

typedef struct search {
    wg_posindex *idx;
    double lon, lat; /* lon normalised to [-180, 180) */
    frame f;
    uint32_t ix0, iy0;
    int k, duty, locked;
    unsigned roles;
    int use_seen;
    int64_t min_seen;
    uint32_t grid, comm;
    /* per attempt */
    cand *c;
    size_t nc, capc;
    visit *vis;
    size_t nvis, capvis;
    double *heap; /* max-heap of the k smallest upper bounds */
    int nheap;
    double t;           /* the k-th smallest upper bound (INFINITY until k candidates) */
    double p_lo, t_plo; /* parallel bound for t_plo >= t */
    cand cstack[32];
    visit vstack[128];
    double hstack[32];
} search;

static int grow_cands(search *s)
{
    size_t cap = s->capc * 2;
    cand *c = s->c == s->cstack ? malloc(cap * sizeof *c) : realloc(s->c, cap * sizeof *c);
    if (!c) return WG_ENOMEM;
    if (s->c == s->cstack) memcpy(c, s->cstack, s->nc * sizeof *c);
    s->c = c;
    s->capc = cap;
    return WG_OK;
}

static int add_visit(search *s, pi_cell *cell, unsigned seq)
{
    if (s->nvis == s->capvis) {
        size_t cap = s->capvis * 2;
        visit *v = s->vis == s->vstack ? malloc(cap * sizeof *v) : realloc(s->vis, cap * sizeof *v);
        if (!v) return WG_ENOMEM;
        if (s->vis == s->vstack) memcpy(v, s->vstack, s->nvis * sizeof *v);
        s->vis = v;
        s->capvis = cap;
    }
    s->vis[s->nvis++] = (visit){cell, seq};
    return WG_OK;
}

static void heap_push(search *s, double hi)
{
    double *h = s->heap;
    int n = s->nheap, i;
    if (n < s->k) { /* sift up */
        for (i = s->nheap++; i > 0 && h[(i - 1) / 2] < hi; i = (i - 1) / 2)
            h[i] = h[(i - 1) / 2];
        h[i] = hi;
    } else if (hi < h[0]) { /* replace the largest, sift down */
        for (i = 0;;) {
            int m = 2 * i + 1;
            if (m >= n) break;
            if (m + 1 < n && h[m + 1] > h[m]) m++;
            if (h[m] <= hi) break;
            h[i] = h[m];
            i = m;
        }
        h[i] = hi;
    }
    if (s->nheap == s->k) s->t = h[0];
}

/* Refreshes the parallel bound when t has shrunk well below the t it was made for. */
static void refresh_plo(search *s)
{
    if (isfinite(s->t) && !(s->t >= 0.5 * s->t_plo)) {
        s->p_lo = parallel_lo(s->f.sq, s->f.cq, s->t);
        s->t_plo = s->t;
    }
}

/* Drops candidates that can no longer be among the k (lower bound above t). */
static void compact(search *s)
{
    size_t w = 0;
    for (size_t i = 0; i < s->nc; i++)
        if (s->c[i].lo <= s->t) s->c[w++] = s->c[i];
    s->nc = w;
}

/* Reads one cell between two equal sequence numbers. 1 done, 0 the cell kept changing, < 0
 * out of memory. */
static int scan_cell(search *s, pi_cell *cell)
{
    if (s->nc > s->capc / 2) compact(s);
    /* chord limit: c (1 - 1e-12) - margin > t means out */
    double lim = isfinite(s->t) ? (s->t + MARGIN_M) / (1 - 1e-12) : INFINITY;
    double lim2 = lim * lim;
    for (int spin = 0; spin < MAX_SPINS; spin++) {
        unsigned s1 = atomic_load_explicit(&cell->seq, memory_order_acquire);
        if (s1 & 1) {
            if (spin > 64) sched_yield();
            continue;
        }
        pi_vec *v = atomic_load_explicit(&cell->v, memory_order_acquire);
        unsigned n = atomic_load_explicit(&cell->n, memory_order_relaxed);
        if (n > v->cap) n = v->cap;
        size_t mark = s->nc;
        for (unsigned i = 0; i < n; i++) {
            pi_entry *e = &v->e[i];
            unsigned flags = atomic_load_explicit(&e->flags, memory_order_relaxed);
            if (s->duty == WG_DUTY_ON && !(flags & F_DUTY)) continue;
            if (s->duty == WG_DUTY_OFF && (flags & F_DUTY)) continue;
            if (s->roles && !((flags >> 1) & s->roles)) continue;
            if (s->grid && atomic_load_explicit(&e->grid, memory_order_relaxed) != s->grid)
                continue;
            if (s->comm && atomic_load_explicit(&e->comm, memory_order_relaxed) != s->comm)
                continue;
            int64_t seen = atomic_load_explicit(&e->seen_ms, memory_order_relaxed);
            if (s->use_seen && seen < s->min_seen) continue;
            double x = atomic_load_explicit(&e->x, memory_order_relaxed);
            double y = atomic_load_explicit(&e->y, memory_order_relaxed);
            double z = atomic_load_explicit(&e->z, memory_order_relaxed);
            double dx = x - s->f.q[0], dy = y - s->f.q[1], dz = z - s->f.q[2];
            double c2 = dx * dx + dy * dy + dz * dz;
            if (c2 > lim2) continue;
            if (s->nc == s->capc && grow_cands(s) != WG_OK) return WG_ENOMEM;
            cand *c = &s->c[s->nc++];
            c->c = sqrt(c2);
            c->p[0] = x, c->p[1] = y, c->p[2] = z;
            c->lon = atomic_load_explicit(&e->lon, memory_order_relaxed);
            c->lat = atomic_load_explicit(&e->lat, memory_order_relaxed);
            c->seen_ms = seen;
            c->slot = atomic_load_explicit(&e->slot, memory_order_relaxed);
            c->grid = atomic_load_explicit(&e->grid, memory_order_relaxed);
            c->comm = atomic_load_explicit(&e->comm, memory_order_relaxed);
            c->flags = flags;
        }
        if (wg_pi_test_hook) wg_pi_test_hook(wg_pi_test_hook_ud, s->locked);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&cell->seq, memory_order_relaxed) != s1) {
            s->nc = mark; /* torn: read it again */
            continue;
        }
        if (add_visit(s, cell, s1) != WG_OK) return WG_ENOMEM;
        for (size_t i = mark; i < s->nc; i++) {
            s->c[i].lo = wg_pi_lower_m(s->c[i].c);
            s->c[i].hi = wg_pi_upper_m(s->c[i].c);
            heap_push(s, s->c[i].hi);
        }
        refresh_plo(s);
        return 1;
    }
    return 0;
}

/* Box of cell (ix0 + dx, iy0 + dy) in degrees, longitudes unwrapped around the query. */
static void cell_box(const search *s, long dx, long dy, double *w, double *so, double *e, double *n)
{
    const wg_posindex *idx = s->idx;
    *w = ((double)s->ix0 + dx) * idx->d - 180.0;
    *e = *w + idx->d;
    *so = ((double)s->iy0 + dy) * idx->d - 90.0;
    *n = *so + idx->d;
}

/* Visits cell (ix0 + dx, iy0 + dy) unless it is beyond t or does not exist (|dx| < nlon). */
static int visit_cell(search *s, const pi_table *t, long dx, long dy, const uint32_t bbox[4])
{
    const wg_posindex *idx = s->idx;
    long iy = (long)s->iy0 + dy;
    if (iy < (long)bbox[2] || iy > (long)bbox[3]) return 1;
    long ix = (long)s->ix0 + dx;
    if (ix < 0)
        ix += idx->nlon;
    else if (ix >= (long)idx->nlon)
        ix -= idx->nlon;
    if (ix < (long)bbox[0] || ix > (long)bbox[1]) return 1;
    if (s->t < INFINITY) {
        double w, so, e, n, lim = s->t + MARGIN_M;
        cell_box(s, dx, dy, &w, &so, &e, &n);
        if (box_lower2(s->lon, s->lat, w, so, e, n, s->p_lo) > lim * lim) return 1;
    }
    pi_cell *cell = table_find(t, cell_key((uint32_t)ix, (uint32_t)iy));
    return cell ? scan_cell(s, cell) : 1;
}

/* The first ring that can hold a cell: the query's distance in cells to the cells' extent. */
static long ring_start(const search *s, const uint32_t bbox[4])
{
    long nlon = s->idx->nlon, ix0 = s->ix0, iy0 = s->iy0;
    long gy = iy0 < (long)bbox[2]   ? (long)bbox[2] - iy0
              : iy0 > (long)bbox[3] ? iy0 - (long)bbox[3]
                                    : 0;
    long gx = 0;
    if (ix0 < (long)bbox[0] || ix0 > (long)bbox[1]) {
        long d1 = (((long)bbox[0] - ix0) % nlon + nlon) % nlon,
             d2 = ((ix0 - (long)bbox[1]) % nlon + nlon) % nlon;
        gx = d1 < d2 ? d1 : d2;
    }
    return gx > gy ? gx : gy;
}

/* Lower bound on the distance to any point outside the block of cells |dx|, |dy| <= r. */
static double outside_lower(const search *s, long r)
{
    const wg_posindex *idx = s->idx;
    double w, so, e, n;
    cell_box(s, -r, -r, &w, &so, &e, &n);
    double west = w, south = so;
    cell_box(s, r, r, &w, &so, &e, &n);
    double east = e, north = n;
    double lb = INFINITY;
    if (south > -90) lb = fmin(lb, M_MIN_LB * (s->lat - south) * DEG);
    if (north < 90) lb = fmin(lb, M_MIN_LB * (north - s->lat) * DEG);
    if (2 * r + 1 < (long)idx->nlon)
        lb = fmin(lb, s->p_lo * fmin(s->lon - west, east - s->lon) * DEG);
    return lb - MARGIN_M;
}

/* 1 when the block |dx|, |dy| <= r holds every cell there is. */
static int block_covers(const search *s, long r, const uint32_t bbox[4])
{
    const wg_posindex *idx = s->idx;
    long nlon = idx->nlon;
    if ((long)s->iy0 - r > (long)bbox[2] || (long)s->iy0 + r < (long)bbox[3]) return 0;
    if (2 * r + 1 >= nlon) return 1;
    long start = (long)s->ix0 - r; /* the block's first column, in [0, nlon) */
    if (start < 0) start += nlon;
    long off = (long)bbox[0] - start;
    if (off < 0) off += nlon;
    return off + ((long)bbox[1] - (long)bbox[0]) <= 2 * r;
}

/* Every cell outside the block |dx|, |dy| <= done (done = -1: none visited yet). */
static int scan_rest(search *s, const pi_table *t, long done)
{
    const wg_posindex *idx = s->idx;
    long nlon = idx->nlon;
    for (size_t h = 0; h <= t->mask; h++) {
        if (atomic_load_explicit(&t->b[h].key, memory_order_acquire) == EMPTY_KEY) continue;
        pi_cell *cell = atomic_load_explicit(&t->b[h].cell, memory_order_relaxed);
        long dx = ((long)cell->ix - (long)s->ix0) % nlon;
        if (dx < 0) dx += nlon;
        if (dx >= (nlon + 1) / 2) dx -= nlon; /* the nearer way round */
        long dy = (long)cell->iy - (long)s->iy0;
        if (labs(dx) <= done && labs(dy) <= done) continue;
        if (s->t < INFINITY) {
            double w, so, e, n, lim = s->t + MARGIN_M;
            cell_box(s, dx, dy, &w, &so, &e, &n);
            if (box_lower2(s->lon, s->lat, w, so, e, n, s->p_lo) > lim * lim) continue;
        }
        int rc = scan_cell(s, cell);
        if (rc <= 0) return rc;
    }
    return 1;
}

/* One attempt: 1 consistent, 0 a writer interfered (try again), < 0 failure. Rings of cells
 * around the query's cell, nearest first, until everything outside the rings done is farther
 * than the k-th candidate (or there is nothing outside); when the rings would cost more than
 * looking at every cell (a query far from every worker, or filters few workers pass), every
 * remaining cell instead. */
static int attempt(search *s)
{
    wg_posindex *idx = s->idx;
    s->nc = 0;
    s->nvis = 0;
    s->nheap = 0;
    s->t = INFINITY;
    s->p_lo = 0;
    s->t_plo = INFINITY;
    unsigned nc0 = atomic_load_explicit(&idx->ncells, memory_order_acquire);
    if (!nc0) return 1;
    const pi_table *t = atomic_load_explicit(&idx->table, memory_order_acquire);
    uint32_t bbox[4] = {atomic_load_explicit(&idx->bx0, memory_order_relaxed),
                        atomic_load_explicit(&idx->bx1, memory_order_relaxed),
                        atomic_load_explicit(&idx->by0, memory_order_relaxed),
                        atomic_load_explicit(&idx->by1, memory_order_relaxed)};
    size_t work = 0, budget = 4 * (size_t)nc0 + 256;
    int rc = 1;
    for (long r = ring_start(s, bbox); rc == 1; r++) {
        if (r > 0 && (outside_lower(s, r - 1) > s->t || block_covers(s, r - 1, bbox))) break;
        size_t ring = r ? 8 * (size_t)r : 1;
        if (2 * r + 1 > (long)idx->nlon || work + ring > budget) {
            rc = scan_rest(s, t, r - 1);
            break;
        }
        work += ring;
        if (r == 0) {
            rc = visit_cell(s, t, 0, 0, bbox);
            continue;
        }
        for (long dx = -r; rc == 1 && dx <= r; dx++) {
            rc = visit_cell(s, t, dx, -r, bbox);
            if (rc == 1) rc = visit_cell(s, t, dx, r, bbox);
        }
        for (long dy = -r + 1; rc == 1 && dy <= r - 1; dy++) {
            rc = visit_cell(s, t, -r, dy, bbox);
            if (rc == 1) rc = visit_cell(s, t, r, dy, bbox);
        }
    }
    if (rc != 1) return rc;
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&idx->ncells, memory_order_relaxed) != nc0) return 0;
    for (size_t i = 0; i < s->nvis; i++)
        if (atomic_load_explicit(&s->vis[i].cell->seq, memory_order_relaxed) != s->vis[i].seq)
            return 0;
    return 1;
}

static int by_lo(const void *a, const void *b)
{
    double x = ((const cand *)a)->lo, y = ((const cand *)b)->lo;
    return x < y ? -1 : x > y;
}

static int cand_cmp(const wg_posindex *idx, const cand *a, const cand *b)
{
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return strcmp(slot_at(idx, a->slot)->id, slot_at(idx, b->slot)->id);
}

static double exact_m(const search *s, const cand *c)
{
    double d = 0;
    geod_inverse(&s->idx->geod, s->lat, s->lon, c->lat, c->lon, &d, NULL, NULL);
    return d;
}

/* Orders the candidates that can be among the k and writes the answers. */
static size_t finish(search *s, wg_near *out)
{
    compact(s);
    size_t m = s->nc;
    cand *c = s->c;
    if (m > 1) qsort(c, m, sizeof *c, by_lo);
    for (size_t i = 0; i < m;) { /* runs of overlapping intervals get exact distances */
        size_t j = i + 1;
        double reach = c[i].hi;
        while (j < m && c[j].lo <= reach)
            reach = fmax(reach, c[j++].hi);
        for (size_t q = i; q < j; q++) {
            if (j - i > 1 || c[q].c > SERIES_MAX_M) {
                c[q].dist = c[q].key = exact_m(s, &c[q]);
                c[q].exact = 1;
            } else {
                double est = series(&s->f, c[q].p, c[q].c);
                c[q].dist = c[q].key = fmin(fmax(est, c[q].lo), c[q].hi);
                c[q].exact = 0;
            }
        }
        i = j;
    }
    /* insertion sort by (key, id): m is small (k plus a few) */
    for (size_t i = 1; i < m; i++) {
        cand x = c[i];
        size_t j = i;
        while (j > 0 && cand_cmp(s->idx, &x, &c[j - 1]) < 0) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = x;
    }
    size_t n = m < (size_t)s->k ? m : (size_t)s->k;
    for (size_t i = 0; i < n; i++) {
        const pi_slot *sl = slot_at(s->idx, c[i].slot);
        wg_near *o = &out[i];
        o->id = sl->id;
        o->name = atomic_load_explicit(&sl->name, memory_order_acquire);
        o->phone = atomic_load_explicit(&sl->phone, memory_order_acquire);
        if (!o->name) o->name = "";
        o->home_grid = str_at(s->idx, c[i].grid);
        o->community = str_at(s->idx, c[i].comm);
        o->role = (wg_worker_role)(c[i].flags >> 1);
        o->on_duty = (c[i].flags & F_DUTY) != 0;
        o->lon = c[i].lon;
        o->lat = c[i].lat;
        o->dist_m = c[i].dist;
        o->seen_ms = c[i].seen_ms == INT64_MIN ? 0 : c[i].seen_ms;
    }
    return n;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Interned id + 1 of a filter's code; 0 when no worker has it. */
static uint32_t filter_id(wg_posindex *idx, const char *code)
{
    pthread_rwlock_rdlock(&idx->str_mu);
    uint32_t v = map_find(idx, &idx->strmap, str_key, code);
    pthread_rwlock_unlock(&idx->str_mu);
    return v;
}

int wg_posindex_nearest(wg_posindex *idx, const wg_near_query *q, wg_near *out, size_t *n)
{
    *n = 0;
    if (!idx || !q || q->k < 1 || q->k > WG_NEAREST_MAX_K || !lonlat_ok(q->lon, q->lat) ||
        q->duty < WG_DUTY_ANY || q->duty > WG_DUTY_OFF)
        return WG_EINVAL;
    search s; /* about 6 KiB: the small cases need no heap */
    memset(&s, 0, offsetof(search, cstack));
    s.idx = idx;
    s.lon = q->lon >= 180 ? q->lon - 360 : q->lon;
    s.lat = q->lat;
    s.k = q->k;
    s.duty = q->duty;
    s.roles = q->roles;
    if (q->seen_within_ms > 0) {
        s.use_seen = 1;
        s.min_seen = (q->now_ms ? q->now_ms : now_ms()) - q->seen_within_ms;
    }
    if (q->grid && !(s.grid = filter_id(idx, q->grid))) return WG_OK; /* nobody has it */
    if (q->community && !(s.comm = filter_id(idx, q->community))) return WG_OK;
    frame_init(&s.f, s.lon, s.lat);
    s.ix0 = cell_ix(idx, s.lon);
    s.iy0 = cell_iy(idx, s.lat);
    s.c = s.cstack;
    s.capc = sizeof s.cstack / sizeof s.cstack[0];
    s.vis = s.vstack;
    s.capvis = sizeof s.vstack / sizeof s.vstack[0];
    s.heap = (size_t)s.k <= sizeof s.hstack / sizeof s.hstack[0]
                 ? s.hstack
                 : malloc((size_t)s.k * sizeof *s.heap);
    int rc = s.heap ? 0 : WG_ENOMEM;
    for (int tries = 0; rc == 0 && tries < MAX_TRIES; tries++) {
        rc = attempt(&s);
        if (rc == 0) atomic_fetch_add_explicit(&idx->retries, 1, memory_order_relaxed);
    }
    if (rc == 0) { /* writers keep changing what we read: hold them off for one try */
        atomic_fetch_add_explicit(&idx->locked, 1, memory_order_relaxed);
        wg_pi_lock(idx);
        s.locked = 1;
        rc = attempt(&s);
        wg_pi_unlock(idx);
    }
    if (rc == 1) *n = finish(&s, out);
    if (s.c != s.cstack) free(s.c);
    if (s.vis != s.vstack) free(s.vis);
    if (s.heap != s.hstack) free(s.heap);
    return rc == 1 ? WG_OK : rc == 0 ? WG_ENOMEM : rc;
}

int wg_posindex_nearest_fn(void *ud, double lon, double lat, char *worker_id, size_t n)
{
    wg_near_query q = {0};
    q.lon = lon;
    q.lat = lat;
    q.k = 1;
    q.duty = WG_DUTY_ON;
    wg_near hit;
    size_t got = 0;
    int rc = wg_posindex_nearest(ud, &q, &hit, &got);
    if (rc != WG_OK) return rc;
    if (!got) return 0;
    snprintf(worker_id, n, "%s", hit.id);
    return 1;
}
