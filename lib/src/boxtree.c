/* Static packed R-tree: see boxtree.h. */
#include "boxtree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 16 /* 16^16 items: beyond any size_t of boxes we can hold */

struct wg_boxtree {
    size_t n;
    int levels;               /* level 0 = leaves */
    size_t count[MAX_LEVELS]; /* boxes per level */
    double *box[MAX_LEVELS];  /* 4 per box */
    uint32_t *item;           /* leaf k holds item[k] */
};

typedef struct entry {
    double cx, cy;
    uint32_t i;
} entry;

static int cmp_cx(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->cx != b->cx) return a->cx < b->cx ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_cy(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->cy != b->cy) return a->cy < b->cy ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

void wg_boxtree_free(wg_boxtree *t)
{
    if (!t) return;
    for (int l = 0; l < t->levels; l++)
        free(t->box[l]);
    free(t->item);
    free(t);
}

wg_boxtree *wg_boxtree_build(const double *box, size_t n)
{
    wg_boxtree *t = calloc(1, sizeof *t);
    if (!t || n > UINT32_MAX) {
        free(t);
        return NULL;
    }
    t->n = n;
    if (n == 0) return t;
    entry *e = malloc(n * sizeof *e);
    t->item = malloc(n * sizeof *t->item);
    t->box[0] = malloc(n * 4 * sizeof(double));
    t->levels = 1;
    t->count[0] = n;
    if (!e || !t->item || !t->box[0]) {
        free(e);
        wg_boxtree_free(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        e[i] = (entry){(box[4 * i] + box[4 * i + 2]) / 2, (box[4 * i + 1] + box[4 * i + 3]) / 2,
                       (uint32_t)i};
    /* STR: sqrt(leaves) vertical slices of whole leaf nodes, each sorted by y */
    size_t leaves = (n + WG_BOXTREE_FANOUT - 1) / WG_BOXTREE_FANOUT;
    size_t slices = (size_t)ceil(sqrt((double)leaves));
    size_t per_slice = ((leaves + slices - 1) / slices) * WG_BOXTREE_FANOUT;
    qsort(e, n, sizeof *e, cmp_cx);
    for (size_t s = 0; s < n; s += per_slice)
        qsort(e + s, (n - s < per_slice ? n - s : per_slice), sizeof *e, cmp_cy);
    for (size_t k = 0; k < n; k++) {
        t->item[k] = e[k].i;
        memcpy(&t->box[0][4 * k], &box[4 * (size_t)e[k].i], 4 * sizeof(double));
    }
    free(e);
    while (t->count[t->levels - 1] > 1) {
        int l = t->levels;
        if (l == MAX_LEVELS) break;
        size_t below = t->count[l - 1], m = (below + WG_BOXTREE_FANOUT - 1) / WG_BOXTREE_FANOUT;
        t->box[l] = malloc(m * 4 * sizeof(double));
        if (!t->box[l]) {
            wg_boxtree_free(t);
            return NULL;
        }
        for (size_t k = 0; k < m; k++) {
            double *b = &t->box[l][4 * k];
            b[0] = b[1] = INFINITY;
            b[2] = b[3] = -INFINITY;
            for (size_t c = k * WG_BOXTREE_FANOUT; c < below && c < (k + 1) * WG_BOXTREE_FANOUT;
                 c++) {
                const double *cb = &t->box[l - 1][4 * c];
                b[0] = fmin(b[0], cb[0]);
                b[1] = fmin(b[1], cb[1]);
                b[2] = fmax(b[2], cb[2]);
                b[3] = fmax(b[3], cb[3]);
            }
        }
        t->count[l] = m;
        t->levels++;
    }
    return t;
}

static int meets(const double *b, const double *w)
{
    return b[0] <= w[2] && b[2] >= w[0] && b[1] <= w[3] && b[3] >= w[1];
}

int wg_boxtree_query(const wg_boxtree *t, const double win[4], uint32_t **out, size_t *n,
                     size_t *cap)
{
    if (t->n == 0) return WG_OK;
    /* depth-first with an explicit stack of (level, node); at most FANOUT per level */
    struct slot {
        int level;
        size_t node;
    } stack[MAX_LEVELS * WG_BOXTREE_FANOUT + 1];
    size_t top = 0;
    int root = t->levels - 1;
    for (size_t k = 0; k < t->count[root]; k++)
        stack[top++] = (struct slot){root, k};
    while (top > 0) {
        int l = stack[--top].level;
        size_t k = stack[top].node;
        if (!meets(&t->box[l][4 * k], win)) continue;
        if (l == 0) {
            if (wg_grow((void **)out, cap, *n + 1, sizeof **out) != WG_OK) return WG_ENOMEM;
            (*out)[(*n)++] = t->item[k];
            continue;
        }
        size_t end = (k + 1) * WG_BOXTREE_FANOUT;
        if (end > t->count[l - 1]) end = t->count[l - 1];
        for (size_t c = k * WG_BOXTREE_FANOUT; c < end; c++)
            stack[top++] = (struct slot){l - 1, c};
    }
    return WG_OK;
}

size_t wg_boxtree_count(const wg_boxtree *t)
{
    return t->n;
}

size_t wg_boxtree_bytes(const wg_boxtree *t)
{
    size_t b = sizeof *t + t->n * sizeof *t->item;
    for (int l = 0; l < t->levels; l++)
        b += t->count[l] * 4 * sizeof(double);
    return b;
}

static double box_d2(const double *b, double x, double y, double kx)
{
    double dx = fmax(fmax(b[0] - x, x - b[2]), 0.0) * kx, dy = fmax(fmax(b[1] - y, y - b[3]), 0.0);
    return dx * dx + dy * dy;
}

typedef struct near_q {
    const wg_boxtree *t;
    double x, y, kx;
    wg_boxtree_item_d2 item_d2;
    void *ud;
    double best;
    uint32_t found;
} near_q;

static void near_offer(near_q *q, uint32_t item)
{
    double di = q->item_d2(q->ud, item, q->best);
    if (di < q->best || (di == q->best && di < INFINITY && item < q->found)) {
        q->best = di;
        q->found = item;
    }
}

/* Visits the children of node k of level l (l >= 1) nearest first. */
static void near_visit(near_q *q, int l, size_t k)
{
    size_t begin = k * WG_BOXTREE_FANOUT, end = begin + WG_BOXTREE_FANOUT;
    if (end > q->t->count[l - 1]) end = q->t->count[l - 1];
    double d[WG_BOXTREE_FANOUT];
    size_t order[WG_BOXTREE_FANOUT], m = 0;
    for (size_t c = begin; c < end; c++) { /* insertion sort by box distance */
        double dc = box_d2(&q->t->box[l - 1][4 * c], q->x, q->y, q->kx);
        size_t j = m++;
        for (; j > 0 && d[j - 1] > dc; j--) {
            d[j] = d[j - 1];
            order[j] = order[j - 1];
        }
        d[j] = dc;
        order[j] = c;
    }
    for (size_t j = 0; j < m && d[j] <= q->best; j++) {
        if (l > 1) {
            near_visit(q, l - 1, order[j]);
            continue;
        }
        near_offer(q, q->t->item[order[j]]);
    }
}

uint32_t wg_boxtree_nearest(const wg_boxtree *t, double x, double y, double kx,
                            wg_boxtree_item_d2 item_d2, void *ud, double *best)
{
    near_q q = {t, x, y, kx, item_d2, ud, *best, UINT32_MAX};
    if (t->n == 0) return UINT32_MAX;
    int root = t->levels - 1;
    /* the root level has one box (or several if MAX_LEVELS was reached): visit each */
    for (size_t k = 0; k < t->count[root]; k++) {
        if (box_d2(&t->box[root][4 * k], x, y, kx) > q.best) continue;
        if (root == 0) {
            near_offer(&q, t->item[k]);
        } else {
            near_visit(&q, root, k);
        }
    }
    *best = q.best;
    return q.found;
}
