/* The shared-edge network of a polygon coverage and its simplification: see topo.h.
 *
 * Build, in five passes over the rings:
 *   1. vertices: each distinct (x, y) gets a number (open-addressing hash on the bits);
 *      rings become arrays of vertex numbers without closing repeats or consecutive duplicates;
 *   2. T-junctions: every vertex within WG_TOPO_SNAP_M of the inside of a ring segment is
 *      inserted into that segment (a uniform grid over the vertices finds the candidates);
 *   3. nodes: a vertex with other than two distinct neighbours; a ring without any gets its
 *      lowest-numbered vertex as one;
 *   4. chains: each ring is cut at its nodes; a piece from node a through vertex b is the same
 *      chain as every other piece that starts a -> b (or ends b -> a): between nodes every
 *      vertex has two neighbours, so the first step decides the whole piece. A hash on the
 *      directed first step finds the chain, or the reversed last step its reverse;
 *   5. significance: Douglas–Peucker once per chain (see topo.h).
 * Worked example: two unit squares side by side, A = (0,0)(1,0)(1,1)(0,1) and B = (1,0)(2,0)
 * (2,1)(1,1). (1,0) and (1,1) have three neighbours each: nodes. A is cut into the chain
 * (1,0)->(1,1) and the chain (1,1)->(0,1)->(0,0)->(1,0); B runs along the first backwards
 * and has one more chain of its own: 3 chains, one of them shared. */
#include "topo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct wg_topo {
    size_t nrings, nchains, npts;
    size_t *ring_start;  /* nrings + 1 offsets into refs */
    uint32_t *refs;      /* chain << 1 | backwards */
    size_t *chain_start; /* nchains + 1 offsets into points */
    double *xy;          /* 2 * npts */
    float *sig;          /* npts: significance in metres; INFINITY for ends and forced points */
    float *chain_max;    /* nchains: largest interior significance, 0 if none */
    double *chain_box;   /* nchains * 4: minx, miny, maxx, maxy */
};

int wg_xy_buf_reserve(wg_xy_buf *b, size_t points)
{
    size_t cap = b->cap / 2;
    if (wg_grow((void **)&b->v, &cap, points, 2 * sizeof *b->v) != WG_OK) return WG_ENOMEM;
    b->cap = cap * 2;
    return WG_OK;
}

void wg_xy_buf_free(wg_xy_buf *b)
{
    free(b->v);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ builder */

typedef struct builder {
    wg_ctx *ctx;
    double *vxy; /* vertex coordinates, 2 per vertex */
    size_t nv, vcap;
    uint32_t *vhash; /* vertex number + 1, 0 = empty */
    size_t vhcap;    /* power of two */
    uint32_t *rv;    /* ring vertices */
    size_t nrv, rvcap;
    size_t *rstart; /* nrings + 1 */
    size_t nrings;
    uint8_t *node;
} builder;

static uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static uint64_t hash_xy(double x, double y)
{
    uint64_t a, b;
    memcpy(&a, &x, sizeof a);
    memcpy(&b, &y, sizeof b);
    return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL));
}

static int vhash_grow(builder *b)
{
    size_t cap = b->vhcap ? b->vhcap * 2 : 1024;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return WG_ENOMEM;
    for (size_t v = 0; v < b->nv; v++) {
        size_t i = hash_xy(b->vxy[2 * v], b->vxy[2 * v + 1]) & (cap - 1);
        while (h[i])
            i = (i + 1) & (cap - 1);
        h[i] = (uint32_t)v + 1;
    }
    free(b->vhash);
    b->vhash = h;
    b->vhcap = cap;
    return WG_OK;
}

/* The number of vertex (x, y), adding it if new; NONE when out of memory. */
static uint32_t vertex_id(builder *b, double x, double y)
{
    x += 0.0; /* -0.0 and 0.0 are the same vertex */
    y += 0.0;
    if ((b->nv + 1) * 2 > b->vhcap && vhash_grow(b) != WG_OK) return NONE;
    size_t i = hash_xy(x, y) & (b->vhcap - 1);
    for (; b->vhash[i]; i = (i + 1) & (b->vhcap - 1)) {
        uint32_t v = b->vhash[i] - 1;
        if (b->vxy[2 * v] == x && b->vxy[2 * v + 1] == y) return v;
    }
    if (b->nv >= NONE - 1) return NONE;
    size_t cap = b->vcap / 2;
    if (wg_grow((void **)&b->vxy, &cap, b->nv + 1, 2 * sizeof *b->vxy) != WG_OK) return NONE;
    b->vcap = cap * 2;
    b->vxy[2 * b->nv] = x;
    b->vxy[2 * b->nv + 1] = y;
    b->vhash[i] = (uint32_t)b->nv + 1;
    return (uint32_t)b->nv++;
}

static int push_rv(builder *b, uint32_t v)
{
    if (wg_grow((void **)&b->rv, &b->rvcap, b->nrv + 1, sizeof *b->rv) != WG_OK) return WG_ENOMEM;
    b->rv[b->nrv++] = v;
    return WG_OK;
}

/* Pass 1. */
static int read_rings(builder *b, const double *xy, const size_t *start, size_t nrings)
{
    b->nrings = nrings;
    b->rstart = malloc((nrings + 1) * sizeof *b->rstart);
    if (!b->rstart) return WG_ENOMEM;
    for (size_t r = 0; r < nrings; r++) {
        size_t r0 = b->nrv;
        b->rstart[r] = r0;
        for (size_t p = start[r]; p < start[r + 1]; p++) {
            uint32_t v = vertex_id(b, xy[2 * p], xy[2 * p + 1]);
            if (v == NONE) return WG_ENOMEM;
            if (b->nrv > r0 && b->rv[b->nrv - 1] == v) continue;
            if (push_rv(b, v) != WG_OK) return WG_ENOMEM;
        }
        while (b->nrv - r0 > 1 && b->rv[b->nrv - 1] == b->rv[r0])
            b->nrv--;
        if (b->nrv - r0 < 3) b->nrv = r0;
    }
    b->rstart[nrings] = b->nrv;
    return WG_OK;
}

/* ------------------------------------------------------------ T-junctions */

typedef struct vgrid {
    double x0, y0, cell;
    size_t nx, ny;
    size_t *start; /* nx * ny + 1 */
    uint32_t *item;
} vgrid;

static size_t cell_of(double v, double v0, double cell, size_t n)
{
    double c = floor((v - v0) / cell);
    if (!(c >= 0)) return 0;
    return c >= (double)(n - 1) ? n - 1 : (size_t)c;
}

static int vgrid_build(const builder *b, vgrid *g)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t v = 0; v < b->nv; v++) {
        x0 = fmin(x0, b->vxy[2 * v]);
        x1 = fmax(x1, b->vxy[2 * v]);
        y0 = fmin(y0, b->vxy[2 * v + 1]);
        y1 = fmax(y1, b->vxy[2 * v + 1]);
    }
    /* about four vertices a cell on average, and never more cells than vertices */
    double w = fmax(x1 - x0, 1e-9), h = fmax(y1 - y0, 1e-9);
    g->cell = fmax(sqrt(w * h / (double)b->nv) * 2.0, fmax(w, h) / 65536.0);
    g->x0 = x0;
    g->y0 = y0;
    g->nx = (size_t)(w / g->cell) + 1;
    g->ny = (size_t)(h / g->cell) + 1;
    size_t ncells = g->nx * g->ny;
    g->start = calloc(ncells + 1, sizeof *g->start);
    g->item = malloc((b->nv ? b->nv : 1) * sizeof *g->item);
    if (!g->start || !g->item) return WG_ENOMEM;
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = cell_of(b->vxy[2 * v + 1], y0, g->cell, g->ny) * g->nx +
                   cell_of(b->vxy[2 * v], x0, g->cell, g->nx);
        g->start[c + 1]++;
    }
    for (size_t c = 0; c < ncells; c++)
        g->start[c + 1] += g->start[c];
    size_t *fill = malloc((ncells ? ncells : 1) * sizeof *fill);
    if (!fill) return WG_ENOMEM;
    memcpy(fill, g->start, ncells * sizeof *fill);
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = cell_of(b->vxy[2 * v + 1], y0, g->cell, g->ny) * g->nx +
                   cell_of(b->vxy[2 * v], x0, g->cell, g->nx);
        g->item[fill[c]++] = (uint32_t)v;
    }
    free(fill);
    return WG_OK;
}

static void vgrid_free(vgrid *g)
{
    free(g->start);
    free(g->item);
}

typedef struct hit {
    double t;
    uint32_t v;
} hit;

typedef struct hits {
    hit *h;
    size_t n, cap;
} hits;

static int cmp_hit(const void *pa, const void *pb)
{
    const hit *a = pa, *b = pb;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->v < b->v ? -1 : a->v > b->v;
}

/* Vertices of cell (cx, cy) that lie inside segment a-b, appended to out. */
static int scan_cell(const builder *b, const vgrid *g, size_t cx, size_t cy, uint32_t a,
                     uint32_t bb, hits *out)
{
    const double *A = &b->vxy[2 * a], *B = &b->vxy[2 * bb];
    double dx = B[0] - A[0], dy = B[1] - A[1], len2 = dx * dx + dy * dy;
    size_t c = cy * g->nx + cx;
    for (size_t k = g->start[c]; k < g->start[c + 1]; k++) {
        uint32_t v = g->item[k];
        if (v == a || v == bb) continue;
        double px = b->vxy[2 * v] - A[0], py = b->vxy[2 * v + 1] - A[1];
        double t = (px * dx + py * dy) / len2;
        if (!(t > 0.0 && t < 1.0)) continue;
        double ex = px - t * dx, ey = py - t * dy;
        if (ex * ex + ey * ey > WG_TOPO_SNAP_M * WG_TOPO_SNAP_M) continue;
        if (wg_grow((void **)&out->h, &out->cap, out->n + 1, sizeof *out->h) != WG_OK)
            return WG_ENOMEM;
        out->h[out->n++] = (hit){t, v};
    }
    return WG_OK;
}

/* Every vertex inside segment a-b: the cells along the segment, column by column. */
static int segment_hits(const builder *b, const vgrid *g, uint32_t a, uint32_t bb, hits *out)
{
    const double *A = &b->vxy[2 * a], *B = &b->vxy[2 * bb];
    const double e = WG_TOPO_SNAP_M;
    double xa = fmin(A[0], B[0]), xb = fmax(A[0], B[0]);
    size_t c0 = cell_of(xa - e, g->x0, g->cell, g->nx), c1 = cell_of(xb + e, g->x0, g->cell, g->nx);
    double dx = B[0] - A[0], dy = B[1] - A[1];
    out->n = 0;
    for (size_t cx = c0; cx <= c1; cx++) {
        /* the segment's y range over this column (clamped to the segment) */
        double lo = fmax(xa, g->x0 + (double)cx * g->cell),
               hi = fmin(xb, g->x0 + (double)(cx + 1) * g->cell);
        double ya, yb;
        if (dx == 0.0 || lo > hi) {
            ya = fmin(A[1], B[1]);
            yb = fmax(A[1], B[1]);
        } else {
            double y_lo = A[1] + (lo - A[0]) / dx * dy, y_hi = A[1] + (hi - A[0]) / dx * dy;
            ya = fmin(y_lo, y_hi);
            yb = fmax(y_lo, y_hi);
        }
        size_t r0 = cell_of(ya - e, g->y0, g->cell, g->ny),
               r1 = cell_of(yb + e, g->y0, g->cell, g->ny);
        for (size_t cy = r0; cy <= r1; cy++)
            if (scan_cell(b, g, cx, cy, a, bb, out) != WG_OK) return WG_ENOMEM;
    }
    if (out->n > 1) qsort(out->h, out->n, sizeof *out->h, cmp_hit);
    return WG_OK;
}

/* Pass 2: rebuilds the ring arrays with the vertices found inside their segments. */
static int split_tjunctions(builder *b)
{
    if (b->nv == 0) return WG_OK;
    vgrid g = {0};
    hits h = {0};
    uint32_t *nrv = NULL;
    size_t nn = 0, ncap = 0, *nstart = malloc((b->nrings + 1) * sizeof *nstart);
    int rc = nstart ? vgrid_build(b, &g) : WG_ENOMEM;
    for (size_t r = 0; rc == WG_OK && r < b->nrings; r++) {
        nstart[r] = nn;
        size_t s = b->rstart[r], m = b->rstart[r + 1] - s;
        for (size_t i = 0; rc == WG_OK && i < m; i++) {
            uint32_t a = b->rv[s + i], c = b->rv[s + (i + 1) % m];
            rc = segment_hits(b, &g, a, c, &h);
            if (rc == WG_OK && wg_grow((void **)&nrv, &ncap, nn + 1 + h.n, sizeof *nrv) != WG_OK)
                rc = WG_ENOMEM;
            if (rc != WG_OK) break;
            nrv[nn++] = a;
            for (size_t k = 0; k < h.n; k++)
                if (nrv[nn - 1] != h.h[k].v) nrv[nn++] = h.h[k].v;
        }
    }
    if (rc == WG_OK) {
        nstart[b->nrings] = nn;
        free(b->rv);
        free(b->rstart);
        b->rv = nrv;
        b->nrv = nn;
        b->rvcap = ncap;
        b->rstart = nstart;
        nrv = NULL;
        nstart = NULL;
    }
    free(nrv);
    free(nstart);
    free(h.h);
    vgrid_free(&g);
    return rc;
}

/* ------------------------------------------------------------------ nodes */

static void add_neighbour(uint32_t *nb, uint8_t *node, uint32_t v, uint32_t w)
{
    uint32_t *n1 = &nb[2 * v], *n2 = &nb[2 * v + 1];
    if (*n1 == w || *n2 == w) return;
    if (*n1 == NONE)
        *n1 = w;
    else if (*n2 == NONE)
        *n2 = w;
    else
        node[v] = 1;
}

/* Pass 3. */
static int find_nodes(builder *b)
{
    uint32_t *nb = malloc((b->nv ? b->nv : 1) * 2 * sizeof *nb);
    b->node = calloc(b->nv ? b->nv : 1, 1);
    if (!nb || !b->node) {
        free(nb);
        return WG_ENOMEM;
    }
    memset(nb, 0xff, b->nv * 2 * sizeof *nb);
    for (size_t r = 0; r < b->nrings; r++) {
        size_t s = b->rstart[r], m = b->rstart[r + 1] - s;
        for (size_t i = 0; i < m; i++) {
            uint32_t v = b->rv[s + i];
            add_neighbour(nb, b->node, v, b->rv[s + (i + m - 1) % m]);
            add_neighbour(nb, b->node, v, b->rv[s + (i + 1) % m]);
        }
    }
    for (size_t v = 0; v < b->nv; v++)
        if (nb[2 * v + 1] == NONE) b->node[v] = 1; /* the tip of a spike */
    free(nb);
    for (size_t r = 0; r < b->nrings; r++) {
        size_t s = b->rstart[r], e = b->rstart[r + 1];
        if (s == e) continue;
        uint32_t low = b->rv[s];
        size_t i = s;
        for (; i < e && !b->node[b->rv[i]]; i++)
            if (b->rv[i] < low) low = b->rv[i];
        if (i == e) b->node[low] = 1;
    }
    return WG_OK;
}

/* ----------------------------------------------------------------- chains */

typedef struct pairmap {
    uint64_t *key; /* a << 32 | b, UINT64_MAX = empty */
    uint32_t *val;
    size_t cap, n;
} pairmap;

static int pairmap_grow(pairmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *k = malloc(cap * sizeof *k);
    uint32_t *v = malloc(cap * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return WG_ENOMEM;
    }
    memset(k, 0xff, cap * sizeof *k);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->key[i] == UINT64_MAX) continue;
        size_t j = mix64(m->key[i]) & (cap - 1);
        while (k[j] != UINT64_MAX)
            j = (j + 1) & (cap - 1);
        k[j] = m->key[i];
        v[j] = m->val[i];
    }
    free(m->key);
    free(m->val);
    m->key = k;
    m->val = v;
    m->cap = cap;
    return WG_OK;
}

static uint32_t pairmap_get(const pairmap *m, uint32_t a, uint32_t b)
{
    if (!m->cap) return NONE;
    uint64_t key = (uint64_t)a << 32 | b;
    for (size_t j = mix64(key) & (m->cap - 1); m->key[j] != UINT64_MAX; j = (j + 1) & (m->cap - 1))
        if (m->key[j] == key) return m->val[j];
    return NONE;
}

static int pairmap_put(pairmap *m, uint32_t a, uint32_t b, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap && pairmap_grow(m) != WG_OK) return WG_ENOMEM;
    uint64_t key = (uint64_t)a << 32 | b;
    size_t j = mix64(key) & (m->cap - 1);
    while (m->key[j] != UINT64_MAX && m->key[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (m->key[j] == UINT64_MAX) m->n++;
    m->key[j] = key;
    m->val[j] = val;
    return WG_OK;
}

typedef struct chainer {
    builder *b;
    wg_topo *t;
    pairmap map;
    size_t refcap, ptcap, chcap;
} chainer;

/* Adds the piece of vertices as a new chain, or finds it; appends the ring's reference. */
static int add_piece(chainer *c, const uint32_t *piece, size_t n, size_t *nrefs)
{
    wg_topo *t = c->t;
    uint32_t ref = pairmap_get(&c->map, piece[0], piece[1]);
    if (ref == NONE) {
        if (t->nchains >= (NONE >> 1) - 1) return WG_ENOMEM;
        ref = (uint32_t)t->nchains << 1;
        size_t pc = c->ptcap;
        if (wg_grow((void **)&t->chain_start, &c->chcap, t->nchains + 2, sizeof *t->chain_start) !=
                WG_OK ||
            wg_grow((void **)&t->xy, &c->ptcap, t->npts + n, 2 * sizeof *t->xy) != WG_OK)
            return WG_ENOMEM;
        if (c->ptcap != pc) {
            float *s = realloc(t->sig, c->ptcap * sizeof *s);
            if (!s) return WG_ENOMEM;
            t->sig = s;
        }
        t->chain_start[t->nchains] = t->npts;
        for (size_t k = 0; k < n; k++) {
            t->xy[2 * (t->npts + k)] = c->b->vxy[2 * piece[k]];
            t->xy[2 * (t->npts + k) + 1] = c->b->vxy[2 * piece[k] + 1];
        }
        t->npts += n;
        t->nchains++;
        t->chain_start[t->nchains] = t->npts;
        if (pairmap_put(&c->map, piece[0], piece[1], ref) != WG_OK ||
            pairmap_put(&c->map, piece[n - 1], piece[n - 2], ref | 1) != WG_OK)
            return WG_ENOMEM;
    }
    if (wg_grow((void **)&t->refs, &c->refcap, *nrefs + 1, sizeof *t->refs) != WG_OK)
        return WG_ENOMEM;
    t->refs[(*nrefs)++] = ref;
    return WG_OK;
}

/* Pass 4. */
static int cut_chains(builder *b, wg_topo *t)
{
    chainer c = {b, t, {0}, 0, 0, 0};
    size_t nrefs = 0, pcap = 0;
    uint32_t *piece = NULL;
    int rc = WG_OK;
    t->nrings = b->nrings;
    t->ring_start = malloc((b->nrings + 1) * sizeof *t->ring_start);
    if (!t->ring_start) rc = WG_ENOMEM;
    for (size_t r = 0; rc == WG_OK && r < b->nrings; r++) {
        t->ring_start[r] = nrefs;
        size_t s = b->rstart[r], m = b->rstart[r + 1] - s;
        if (m == 0) continue;
        size_t i0 = 0;
        while (!b->node[b->rv[s + i0]])
            i0++; /* every ring has a node (find_nodes) */
        if (wg_grow((void **)&piece, &pcap, m + 1, sizeof *piece) != WG_OK) {
            rc = WG_ENOMEM;
            break;
        }
        size_t np = 0;
        piece[np++] = b->rv[s + i0];
        for (size_t k = 1; rc == WG_OK && k <= m; k++) {
            uint32_t v = b->rv[s + (i0 + k) % m];
            piece[np++] = v;
            if (!b->node[v]) continue;
            rc = add_piece(&c, piece, np, &nrefs);
            piece[0] = v;
            np = 1;
        }
    }
    if (rc == WG_OK) t->ring_start[b->nrings] = nrefs;
    free(piece);
    free(c.map.key);
    free(c.map.val);
    return rc;
}

/* ---------------------------------------------------------- significance */

/* Distance from p to segment a-b (to a when a == b). */
static double seg_dist(const double *p, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1], px = p[0] - a[0], py = p[1] - a[1];
    double len2 = dx * dx + dy * dy, t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
    if (t < 0)
        t = 0;
    else if (t > 1)
        t = 1;
    double ex = px - t * dx, ey = py - t * dy;
    return sqrt(ex * ex + ey * ey);
}

/* The point of (i, j) farthest from segment i-j; *d gets its distance. j - i >= 2. */
static size_t farthest(const double *xy, size_t i, size_t j, double *d)
{
    size_t best = i + 1;
    *d = -1;
    for (size_t k = i + 1; k < j; k++) {
        double dk = seg_dist(&xy[2 * k], &xy[2 * i], &xy[2 * j]);
        if (dk > *d) {
            *d = dk;
            best = k;
        }
    }
    return best;
}

typedef struct span {
    size_t i, j;
    float parent;
} span;

/* Douglas–Peucker over chain points xy[0 .. n): sig[k] = min(split distance of k, sig of the
 * split that made k's span). A closed chain splits first at the point farthest from its end,
 * then keeps the farther of the two halves' farthest points too (three distinct points). */
static int chain_significance(const double *xy, float *sig, size_t n, span **stack, size_t *scap)
{
    sig[0] = sig[n - 1] = INFINITY;
    if (n < 3) return WG_OK;
    for (size_t k = 1; k + 1 < n; k++)
        sig[k] = 0;
    size_t top = 0, forced = SIZE_MAX;
    int closed = xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1];
    if (wg_grow((void **)stack, scap, 2, sizeof **stack) != WG_OK) return WG_ENOMEM;
    if (closed) {
        double d, da = -1, db = -1;
        size_t k1 = farthest(xy, 0, n - 1, &d), ka = 0, kb = 0;
        sig[k1] = INFINITY;
        if (k1 >= 2) ka = farthest(xy, 0, k1, &da);
        if (n - 1 - k1 >= 2) kb = farthest(xy, k1, n - 1, &db);
        if (da >= 0 || db >= 0) forced = da >= db ? ka : kb;
        (*stack)[top++] = (span){0, k1, INFINITY};
        (*stack)[top++] = (span){k1, n - 1, INFINITY};
    } else {
        (*stack)[top++] = (span){0, n - 1, INFINITY};
    }
    while (top > 0) {
        span s = (*stack)[--top];
        if (s.j - s.i < 2) continue;
        double d;
        size_t k = farthest(xy, s.i, s.j, &d);
        float dk = (float)d;
        sig[k] = k == forced ? INFINITY : (dk < s.parent ? dk : s.parent);
        if (wg_grow((void **)stack, scap, top + 2, sizeof **stack) != WG_OK) return WG_ENOMEM;
        (*stack)[top++] = (span){s.i, k, sig[k]};
        (*stack)[top++] = (span){k, s.j, sig[k]};
    }
    return WG_OK;
}

/* Pass 5. */
static int significance(wg_topo *t)
{
    span *stack = NULL;
    size_t scap = 0;
    int rc = WG_OK;
    t->chain_max = malloc((t->nchains ? t->nchains : 1) * sizeof *t->chain_max);
    t->chain_box = malloc((t->nchains ? t->nchains : 1) * 4 * sizeof *t->chain_box);
    if (!t->chain_max || !t->chain_box) return WG_ENOMEM;
    for (size_t c = 0; rc == WG_OK && c < t->nchains; c++) {
        size_t s = t->chain_start[c], n = t->chain_start[c + 1] - s;
        rc = chain_significance(&t->xy[2 * s], &t->sig[s], n, &stack, &scap);
        float mx = 0;
        double *b = &t->chain_box[4 * c];
        b[0] = b[2] = t->xy[2 * s];
        b[1] = b[3] = t->xy[2 * s + 1];
        for (size_t k = 1; k < n; k++) {
            if (k + 1 < n && t->sig[s + k] > mx) mx = t->sig[s + k];
            b[0] = fmin(b[0], t->xy[2 * (s + k)]);
            b[1] = fmin(b[1], t->xy[2 * (s + k) + 1]);
            b[2] = fmax(b[2], t->xy[2 * (s + k)]);
            b[3] = fmax(b[3], t->xy[2 * (s + k) + 1]);
        }
        t->chain_max[c] = mx;
    }
    free(stack);
    return rc;
}

/* ------------------------------------------------------------------ public */

void wg_topo_free(wg_topo *t)
{
    if (!t) return;
    free(t->ring_start);
    free(t->refs);
    free(t->chain_start);
    free(t->xy);
    free(t->sig);
    free(t->chain_max);
    free(t->chain_box);
    free(t);
}

int wg_topo_build(wg_ctx *ctx, const double *xy, const size_t *start, size_t nrings, wg_topo **out)
{
    *out = NULL;
    builder b = {.ctx = ctx};
    wg_topo *t = calloc(1, sizeof *t);
    int rc = t ? read_rings(&b, xy, start, nrings) : WG_ENOMEM;
    if (rc == WG_OK) rc = split_tjunctions(&b);
    if (rc == WG_OK) rc = find_nodes(&b);
    if (rc == WG_OK) rc = cut_chains(&b, t);
    if (rc == WG_OK && !t->chain_start) { /* no chain at all */
        t->chain_start = calloc(1, sizeof *t->chain_start);
        if (!t->chain_start) rc = WG_ENOMEM;
    }
    if (rc == WG_OK) rc = significance(t);
    free(b.vxy);
    free(b.vhash);
    free(b.rv);
    free(b.rstart);
    free(b.node);
    if (rc != WG_OK) {
        wg_topo_free(t);
        return wg_fail(ctx, WG_ENOMEM, "out of memory building the edge network");
    }
    *out = t;
    return WG_OK;
}

size_t wg_topo_rings(const wg_topo *t)
{
    return t->nrings;
}

size_t wg_topo_chains(const wg_topo *t)
{
    return t->nchains;
}

size_t wg_topo_points(const wg_topo *t)
{
    return t->npts;
}

size_t wg_topo_bytes(const wg_topo *t)
{
    return sizeof *t + (t->nrings + 1) * sizeof *t->ring_start +
           t->ring_start[t->nrings] * sizeof *t->refs + (t->nchains + 1) * sizeof *t->chain_start +
           t->npts * (2 * sizeof *t->xy + sizeof *t->sig) +
           t->nchains * (sizeof *t->chain_max + 4 * sizeof *t->chain_box);
}

size_t wg_topo_ring_refs(const wg_topo *t, size_t r, const uint32_t **refs)
{
    *refs = &t->refs[t->ring_start[r]];
    return t->ring_start[r + 1] - t->ring_start[r];
}

size_t wg_topo_chain_xy(const wg_topo *t, size_t c, const double **xy)
{
    *xy = &t->xy[2 * t->chain_start[c]];
    return t->chain_start[c + 1] - t->chain_start[c];
}

/* Whether chain c can stand as its end points alone: simplified away, or (with a window)
 * wholly outside the window. */
static int chain_ends_only(const wg_topo *t, size_t c, double tol_m, const double *win)
{
    if (t->chain_max[c] <= tol_m) return 1;
    if (!win) return 0;
    const double *b = &t->chain_box[4 * c];
    return b[2] < win[0] || b[0] > win[2] || b[3] < win[1] || b[1] > win[3];
}

int wg_topo_ring_xy(const wg_topo *t, size_t r, double tol_m, const double *win, wg_xy_buf *out)
{
    size_t total = 0;
    for (size_t k = t->ring_start[r]; k < t->ring_start[r + 1]; k++) {
        size_t c = t->refs[k] >> 1;
        total +=
            chain_ends_only(t, c, tol_m, win) ? 1 : t->chain_start[c + 1] - t->chain_start[c] - 1;
    }
    if (wg_xy_buf_reserve(out, out->n + total) != WG_OK) return WG_ENOMEM;
    double *o = &out->v[2 * out->n];
    for (size_t k = t->ring_start[r]; k < t->ring_start[r + 1]; k++) {
        size_t c = t->refs[k] >> 1, s = t->chain_start[c], e = t->chain_start[c + 1];
        int back = t->refs[k] & 1;
        if (chain_ends_only(t, c, tol_m,
                            win)) { /* the end it starts from; the next chain adds the other */
            size_t p = back ? e - 1 : s;
            *o++ = t->xy[2 * p];
            *o++ = t->xy[2 * p + 1];
            continue;
        }
        if (!back) {
            for (size_t p = s; p + 1 < e; p++)
                if (t->sig[p] > tol_m) {
                    *o++ = t->xy[2 * p];
                    *o++ = t->xy[2 * p + 1];
                }
        } else {
            for (size_t p = e - 1; p > s; p--)
                if (t->sig[p] > tol_m) {
                    *o++ = t->xy[2 * p];
                    *o++ = t->xy[2 * p + 1];
                }
        }
    }
    out->n = (size_t)(o - out->v) / 2;
    return WG_OK;
}
