/* Division, step 2: a balanced, connected partition of the base-unit graph (see
 * divide_internal.h and wangge/divide.h).
 *
 * METIS k-way (contiguous parts when the graph is connected; a fixed seed, so the same graph
 * gives the same parts) minimises the cut cost under a 3 % weight imbalance, but on graphs of
 * a few units per part it misses that by far, may leave parts empty or in pieces, and knows
 * nothing of a household band. So each start (METIS seeds 1..STARTS) is repaired:
 *   1. connect: every part keeps its heaviest connected piece; each other piece joins the
 *      neighbouring part it shares the most cut cost with (repeated until nothing moves);
 *   2. fill: an empty part takes from the part with the most units a unit whose removal
 *      leaves that part connected (a spanning tree's leaf always qualifies);
 *   3. improve: moves into a neighbouring part, one at a time, always the one with the best
 *      score, until none improves it: a unit that is not an articulation point of its part,
 *      or an articulation point together with the pieces that would hang off it (all but the
 *      heaviest), never a part's last unit, so parts stay connected and non-empty;
 *   4. chains, where single moves are stuck (a heavy part whose neighbours are heavy too, or
 *      whose border units are empty or too big): households travel along a shortest path of
 *      neighbouring parts from a part above the target to one below it, each hop a
 *      breadth-first set of units grown from the border (so empty units can go along and
 *      expose the right ones) whose households come nearest what came in; kept if the score
 *      improves, undone otherwise; then 3 again;
 *   5. pair exchanges (Kernighan-Lin), where units are too coarse for any one move: between
 *      two neighbouring parts, the most unequal pair first, up to KL_STEPS moves either way,
 *      each the best available even if it makes things worse, no unit twice; the best prefix
 *      is kept if it beats the start (30 households one way and 22 back move 8); then 3 and 4
 *      again.
 * The start that leaves fewest households outside the band wins, then the one whose worst
 * grid is off by fewer whole percent, then the best score. The score of a partition is
 *        1000 * (households outside the band) / target
 *        + sum over parts of ((households - target) / target)^2
 *        + MU * cut cost / (total edge cost / parts),
 * so the band comes first, then balance, and the cut breaks ties and keeps grids from growing
 * tentacles: a move that lengthens the cut by a tenth of a part's share of the linework must
 * gain 0.0003 in squared deviation (two grids 1.2 % off brought to the target), and one
 * through a block (cost 30 per metre, not 1 to 3) ten to thirty times that. Worked example:
 * target 400, band 300-500, parts of 520 and 280: moving a unit of 100 households from the
 * first to the second removes 20 + 20 outside the band, a score gain of 1000 * 40 / 400 =
 * 100 that no cut cost can outweigh. Everything iterates in index order and ties go to the
 * lowest index: deterministic. On the sample (geodata/), the worst grid of 多网合一 is 5.3 %
 * off its target after steps 1-4 with one start, 2.6 % with 8 starts, 1.95 % with step 5
 * (for 2.5 times the time of one start: 1.7 s for the office). */
#include "divide_internal.h"

#include <math.h>
#include <metis.h>
#include <stdlib.h>
#include <string.h>

#define MU 0.003
#define VIOL_WEIGHT 1000.0
#define METIS_SEED 1
#define STARTS 8
/* METIS is used with at least this many units per part */
#define METIS_MIN_UNITS 2
/* moves in one pair exchange */
#define KL_STEPS 12

void dv_graph_free(dv_graph *g)
{
    free(g->hh);
    free(g->wt);
    free(g->start);
    free(g->nbr);
    free(g->cost);
    memset(g, 0, sizeof *g);
}

typedef struct pstate {
    const dv_graph *g;
    const dv_goal *goal;
    int *part;
    size_t np;
    double *h, *w; /* households and weight per part */
    size_t *cnt;   /* units per part */
    /* scratch, n units */
    size_t *comp, *stack, *order, *disc, *low, *iter, *parent;
    unsigned char *art;
    size_t *set, *mark, stamp;
    unsigned char *inset;
    /* scratch, np parts */
    size_t *pmark, pstamp;
    double *acc;
    size_t *touched;
    double cscale; /* cut cost normaliser */
} pstate;

static void pstate_free(pstate *s)
{
    free(s->h), free(s->w), free(s->cnt), free(s->comp), free(s->stack), free(s->order);
    free(s->disc), free(s->low), free(s->iter), free(s->parent), free(s->art), free(s->acc),
        free(s->touched);
    free(s->set), free(s->mark), free(s->inset), free(s->pmark);
}

static int pstate_init(wg_ctx *ctx, pstate *s, const dv_graph *g, const dv_goal *goal, int *part)
{
    memset(s, 0, sizeof *s);
    s->g = g;
    s->goal = goal;
    s->part = part;
    s->np = (size_t)goal->nparts;
    size_t n = g->n ? g->n : 1, np = s->np;
    s->h = calloc(np, sizeof *s->h);
    s->w = calloc(np, sizeof *s->w);
    s->cnt = calloc(np, sizeof *s->cnt);
    s->acc = calloc(np, sizeof *s->acc);
    s->touched = malloc(np * sizeof *s->touched);
    s->comp = malloc(n * sizeof *s->comp);
    s->stack = malloc(n * sizeof *s->stack);
    s->order = malloc(n * sizeof *s->order);
    s->disc = malloc(n * sizeof *s->disc);
    s->low = malloc(n * sizeof *s->low);
    s->iter = malloc(n * sizeof *s->iter);
    s->parent = malloc(n * sizeof *s->parent);
    s->art = malloc(n);
    s->set = malloc(n * sizeof *s->set);
    s->mark = calloc(n, sizeof *s->mark);
    s->inset = calloc(n, 1);
    s->pmark = calloc(np, sizeof *s->pmark);
    if (!s->h || !s->w || !s->cnt || !s->acc || !s->touched || !s->comp || !s->stack || !s->order ||
        !s->disc || !s->low || !s->iter || !s->parent || !s->art || !s->set || !s->mark ||
        !s->inset || !s->pmark) {
        pstate_free(s);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    double total = 0;
    for (size_t e = 0; e < g->start[g->n]; e++)
        total += g->cost[e];
    s->cscale = total / 2 / (double)np;
    if (s->cscale <= 0) s->cscale = 1;
    return WG_OK;
}

static void tally(pstate *s)
{
    memset(s->h, 0, s->np * sizeof *s->h);
    memset(s->w, 0, s->np * sizeof *s->w);
    memset(s->cnt, 0, s->np * sizeof *s->cnt);
    for (size_t u = 0; u < s->g->n; u++) {
        size_t p = (size_t)s->part[u];
        s->h[p] += s->g->hh[u];
        s->w[p] += s->g->wt[u];
        s->cnt[p]++;
    }
}

static void move_unit(pstate *s, size_t u, size_t q)
{
    size_t p = (size_t)s->part[u];
    s->h[p] -= s->g->hh[u], s->w[p] -= s->g->wt[u], s->cnt[p]--;
    s->h[q] += s->g->hh[u], s->w[q] += s->g->wt[u], s->cnt[q]++;
    s->part[u] = (int)q;
}

/* Cut cost from u to each part other than its own: s->acc[q], parts listed in touched[0..k).
 * *own = cost to its own part. */
static size_t neighbour_parts(pstate *s, const size_t *members, size_t m, size_t p, double *own)
{
    size_t k = 0, stamp = ++s->pstamp;
    *own = 0;
    for (size_t t = 0; t < m; t++)
        s->inset[members[t]] = 1;
    for (size_t t = 0; t < m; t++) {
        size_t u = members[t];
        for (size_t e = s->g->start[u]; e < s->g->start[u + 1]; e++) {
            size_t v = s->g->nbr[e], q = (size_t)s->part[v];
            if (s->inset[v]) continue; /* stays inside the moved set */
            if (q == p) {
                *own += s->g->cost[e];
                continue;
            }
            if (s->pmark[q] != stamp) s->pmark[q] = stamp, s->touched[k++] = q;
            s->acc[q] += s->g->cost[e];
        }
    }
    for (size_t t = 0; t < m; t++)
        s->inset[members[t]] = 0;
    return k;
}

static void clear_acc(pstate *s, size_t k)
{
    for (size_t i = 0; i < k; i++)
        s->acc[s->touched[i]] = 0;
}

/* Connected pieces of the parts: comp[u] = piece id (in order of their first unit); returns
 * the number of pieces. */
static size_t label_pieces(pstate *s)
{
    const dv_graph *g = s->g;
    size_t nc = 0;
    for (size_t u = 0; u < g->n; u++)
        s->comp[u] = SIZE_MAX;
    for (size_t u = 0; u < g->n; u++) {
        if (s->comp[u] != SIZE_MAX) continue;
        size_t top = 0;
        s->stack[top++] = u;
        s->comp[u] = nc;
        while (top) {
            size_t v = s->stack[--top];
            for (size_t e = g->start[v]; e < g->start[v + 1]; e++) {
                size_t x = g->nbr[e];
                if (s->comp[x] == SIZE_MAX && s->part[x] == s->part[v]) {
                    s->comp[x] = nc;
                    s->stack[top++] = x;
                }
            }
        }
        nc++;
    }
    return nc;
}

/* Step 1. Returns WG_OK; *moved says whether anything moved. */
static int connect_parts(wg_ctx *ctx, pstate *s, int *moved)
{
    const dv_graph *g = s->g;
    *moved = 0;
    size_t nc = label_pieces(s);
    double *cw = calloc(nc, sizeof *cw);
    size_t *main_piece = malloc(s->np * sizeof *main_piece), *first = calloc(nc + 1, sizeof *first);
    if (!cw || !main_piece || !first) {
        free(cw), free(main_piece), free(first);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t u = 0; u < g->n; u++) {
        cw[s->comp[u]] += g->wt[u] + 1e-9;
        first[s->comp[u] + 1]++;
    }
    for (size_t c = 0; c < nc; c++)
        first[c + 1] += first[c];
    /* members of piece c: order[first[c] .. first[c + 1]) */
    size_t *fill = s->iter; /* scratch */
    for (size_t c = 0; c < nc; c++)
        fill[c] = first[c];
    for (size_t u = 0; u < g->n; u++)
        s->order[fill[s->comp[u]]++] = u;
    for (size_t p = 0; p < s->np; p++)
        main_piece[p] = SIZE_MAX;
    for (size_t c = 0; c < nc; c++) {
        size_t p = (size_t)s->part[s->order[first[c]]];
        if (main_piece[p] == SIZE_MAX || cw[c] > cw[main_piece[p]]) main_piece[p] = c;
    }
    for (size_t c = 0; c < nc; c++) {
        const size_t *mem = s->order + first[c];
        size_t m = first[c + 1] - first[c], p = (size_t)s->part[mem[0]];
        if (main_piece[p] == c) continue;
        double own;
        size_t k = neighbour_parts(s, mem, m, p, &own), best = SIZE_MAX;
        for (size_t i = 0; i < k; i++) {
            size_t q = s->touched[i];
            if (best == SIZE_MAX || s->acc[q] > s->acc[best] ||
                (s->acc[q] == s->acc[best] && q < best))
                best = q;
        }
        clear_acc(s, k);
        if (best == SIZE_MAX) continue; /* an island: nothing to join */
        for (size_t t = 0; t < m; t++)
            move_unit(s, mem[t], best);
        *moved = 1;
    }
    free(cw), free(main_piece), free(first);
    return WG_OK;
}

/* Articulation points of the same-part subgraph (iterative Tarjan): art[u] = 1 if removing u
 * splits its piece. */
static void articulation(pstate *s)
{
    const dv_graph *g = s->g;
    size_t n = g->n, t = 0;
    memset(s->art, 0, n);
    for (size_t u = 0; u < n; u++)
        s->disc[u] = SIZE_MAX;
    for (size_t r = 0; r < n; r++) {
        if (s->disc[r] != SIZE_MAX) continue;
        size_t top = 0, root_children = 0;
        s->disc[r] = s->low[r] = t++;
        s->iter[r] = g->start[r];
        s->parent[r] = SIZE_MAX;
        s->stack[top++] = r;
        while (top) {
            size_t v = s->stack[top - 1];
            if (s->iter[v] < g->start[v + 1]) {
                size_t x = g->nbr[s->iter[v]++];
                if (s->part[x] != s->part[v]) continue;
                if (s->disc[x] == SIZE_MAX) {
                    s->disc[x] = s->low[x] = t++;
                    s->iter[x] = g->start[x];
                    s->parent[x] = v;
                    s->stack[top++] = x;
                    if (v == r) root_children++;
                } else if (x != s->parent[v] && s->disc[x] < s->low[v]) {
                    s->low[v] = s->disc[x];
                }
                continue;
            }
            top--;
            size_t p = s->parent[v];
            if (p == SIZE_MAX) continue;
            if (s->low[v] < s->low[p]) s->low[p] = s->low[v];
            if (p != r && s->low[v] >= s->disc[p]) s->art[p] = 1;
        }
        if (root_children > 1) s->art[r] = 1;
    }
}

/* Step 2: fills empty parts. */
static void fill_empty(pstate *s)
{
    const dv_graph *g = s->g;
    for (size_t p = 0; p < s->np; p++) {
        if (s->cnt[p] > 0) continue;
        size_t donor = 0;
        for (size_t q = 1; q < s->np; q++)
            if (s->cnt[q] > s->cnt[donor]) donor = q;
        if (s->cnt[donor] < 2) return; /* fewer units than parts: the caller prevents it */
        articulation(s);
        size_t best = SIZE_MAX;
        for (size_t u = 0; u < g->n; u++) {
            if ((size_t)s->part[u] != donor || s->art[u]) continue;
            if (best == SIZE_MAX || g->wt[u] > g->wt[best]) best = u;
        }
        if (best != SIZE_MAX) move_unit(s, best, p);
    }
}

static double viol(const dv_goal *goal, double h)
{
    return (h < goal->lo ? goal->lo - h : 0) + (h > goal->hi ? h - goal->hi : 0);
}

static double dev2(double h, double target)
{
    double d = target > 0 ? (h - target) / target : h;
    return d * d;
}

/* The units that move with u out of its part when u is an articulation point: u and every
 * piece of the part without u except the heaviest (which stays). Writes them to s->set and
 * returns how many (0 if nothing would stay). */
static size_t branch(pstate *s, size_t u)
{
    const dv_graph *g = s->g;
    int p = s->part[u];
    size_t stamp = ++s->stamp, m = 0, keep_first = 0, keep_len = 0;
    double keep_h = -1;
    s->mark[u] = stamp;
    for (size_t e = g->start[u]; e < g->start[u + 1]; e++) {
        size_t r = g->nbr[e];
        if (s->part[r] != p || s->mark[r] == stamp) continue;
        size_t first = m, top = 0;
        double h = 0;
        s->mark[r] = stamp;
        s->stack[top++] = r;
        while (top) {
            size_t v = s->stack[--top];
            s->order[m++] = v;
            h += g->hh[v] + 1e-9 * g->wt[v];
            for (size_t f = g->start[v]; f < g->start[v + 1]; f++) {
                size_t x = g->nbr[f];
                if (s->part[x] == p && s->mark[x] != stamp) {
                    s->mark[x] = stamp;
                    s->stack[top++] = x;
                }
            }
        }
        if (h > keep_h) keep_h = h, keep_first = first, keep_len = m - first;
    }
    if (keep_len == 0) return 0;
    size_t k = 0;
    s->set[k++] = u;
    for (size_t i = 0; i < m; i++)
        if (i < keep_first || i >= keep_first + keep_len) s->set[k++] = s->order[i];
    return k;
}

/* What a move of u takes along: u alone, or for an articulation point its branch (s->set).
 * *set points at the units; returns how many (0 if u cannot move). u points at the caller's
 * variable, which *set may point at. */
static size_t moving_set(pstate *s, const size_t *u, const size_t **set)
{
    *set = u;
    if (!s->art[*u]) return 1;
    *set = s->set;
    return branch(s, *u);
}

static double households_of(const pstate *s, const size_t *set, size_t m)
{
    double h = 0;
    for (size_t i = 0; i < m; i++)
        h += s->g->hh[set[i]];
    return h;
}

static int on_boundary(const pstate *s, size_t u)
{
    for (size_t e = s->g->start[u]; e < s->g->start[u + 1]; e++)
        if (s->part[s->g->nbr[e]] != s->part[u]) return 1;
    return 0;
}

/* Step 3. A move takes a unit, or (for an articulation point) the unit with the pieces that
 * would hang off it, into a neighbouring part. */
static void improve(pstate *s)
{
    const dv_graph *g = s->g;
    const dv_goal *goal = s->goal;
    double T = goal->target, vscale = VIOL_WEIGHT / (T > 0 ? T : 1);
    size_t max_moves = 50 * g->n + 1000;
    for (size_t it = 0; it < max_moves; it++) {
        articulation(s);
        double best = -1e-12;
        size_t bu = SIZE_MAX, bq = 0;
        for (size_t u = 0; u < g->n; u++) {
            size_t p = (size_t)s->part[u];
            if (s->cnt[p] <= 1 || !on_boundary(s, u)) continue;
            const size_t *set;
            size_t m = moving_set(s, &u, &set);
            if (!m) continue;
            double hu = households_of(s, set, m), own;
            size_t k = neighbour_parts(s, set, m, p, &own);
            double hp = s->h[p];
            for (size_t i = 0; i < k; i++) {
                size_t q = s->touched[i];
                double hq = s->h[q];
                double dv =
                    viol(goal, hp - hu) + viol(goal, hq + hu) - viol(goal, hp) - viol(goal, hq);
                double dd = dev2(hp - hu, T) + dev2(hq + hu, T) - dev2(hp, T) - dev2(hq, T);
                double dc = own - s->acc[q];
                double score = vscale * dv + dd + MU * dc / s->cscale;
                if (score < best || (score == best && u == bu && q < bq)) {
                    best = score;
                    bu = u;
                    bq = q;
                }
            }
            clear_acc(s, k);
        }
        if (bu == SIZE_MAX) break;
        const size_t *set;
        size_t m = moving_set(s, &bu, &set);
        for (size_t i = 0; i < m; i++)
            move_unit(s, set[i], bq);
    }
}

/* The score of the whole partition (see the top of this file). */
static double score_all(const pstate *s)
{
    const dv_graph *g = s->g;
    double T = s->goal->target, vscale = VIOL_WEIGHT / (T > 0 ? T : 1), v = 0, d = 0, c = 0;
    for (size_t p = 0; p < s->np; p++)
        v += viol(s->goal, s->h[p]), d += dev2(s->h[p], T);
    for (size_t u = 0; u < g->n; u++)
        for (size_t e = g->start[u]; e < g->start[u + 1]; e++)
            if (s->part[g->nbr[e]] != s->part[u]) c += g->cost[e];
    return vscale * v + d + MU * c / 2 / s->cscale;
}

/* Whether part p stays connected (and non-empty) without the units of set[0..m) (flagged with
 * the current stamp in s->mark). */
static int stays_connected(pstate *s, size_t p, size_t m)
{
    const dv_graph *g = s->g;
    if (s->cnt[p] <= m) return 0;
    size_t moving = s->stamp, seen = ++s->stamp, r = SIZE_MAX, top = 0, count = 0;
    for (size_t u = 0; u < g->n && r == SIZE_MAX; u++)
        if ((size_t)s->part[u] == p && s->mark[u] != moving) r = u;
    s->mark[r] = seen;
    s->stack[top++] = r;
    while (top) {
        size_t v = s->stack[--top];
        count++;
        for (size_t e = g->start[v]; e < g->start[v + 1]; e++) {
            size_t x = g->nbr[e];
            if ((size_t)s->part[x] == p && s->mark[x] != moving && s->mark[x] != seen) {
                s->mark[x] = seen;
                s->stack[top++] = x;
            }
        }
    }
    return count == s->cnt[p] - m;
}

/* The first k units of part p reached by a breadth-first walk from seed (within p), into
 * s->set; returns how many were reached (at most limit). */
static size_t walk(pstate *s, size_t seed, size_t limit)
{
    const dv_graph *g = s->g;
    int p = s->part[seed];
    size_t stamp = ++s->stamp, head = 0, m = 0;
    s->mark[seed] = stamp;
    s->set[m++] = seed;
    while (head < m && m < limit) {
        size_t v = s->set[head++];
        for (size_t e = g->start[v]; e < g->start[v + 1] && m < limit; e++) {
            size_t x = g->nbr[e];
            if (s->part[x] == p && s->mark[x] != stamp) {
                s->mark[x] = stamp;
                s->set[m++] = x;
            }
        }
    }
    return m;
}

/* One hop of a chain: moves into part q a connected set of units of part p next to q whose
 * households come nearest amount (and are more than none), keeping p connected: a breadth-
 * first prefix grown from a unit next to q (so zero-household units can go along and expose
 * the right ones). The moved units are recorded in log[*nlog] (unit, old part; room for
 * logcap moves: a unit that came in by the hop before may move on, so a chain can log more
 * moves than there are units, and a set that would not fit is not taken). Returns 0 if p has
 * nothing to give. */
static int hop(pstate *s, size_t p, size_t q, double amount, size_t *log, size_t *nlog,
               size_t logcap, double *moved)
{
    const dv_graph *g = s->g;
    enum { TRIES = 8 };
    size_t cand_seed[TRIES], cand_k[TRIES], nc = 0;
    double cand_d[TRIES];
    size_t limit = s->cnt[p] - 1;
    for (size_t u = 0; u < g->n && limit > 0; u++) {
        if ((size_t)s->part[u] != p) continue;
        int next_to_q = 0;
        for (size_t e = g->start[u]; e < g->start[u + 1] && !next_to_q; e++)
            next_to_q = (size_t)s->part[g->nbr[e]] == q;
        if (!next_to_q) continue;
        size_t m = walk(s, u, limit);
        double sum = 0;
        for (size_t k = 1; k <= m; k++) {
            sum += g->hh[s->set[k - 1]];
            if (sum <= 0) continue;
            double d = fabs(sum - amount);
            /* keep the TRIES best (seed, k), by d then smaller sets */
            size_t at = nc;
            while (at > 0 && (d < cand_d[at - 1] || (d == cand_d[at - 1] && k < cand_k[at - 1])))
                at--;
            if (at < TRIES) {
                size_t last = nc < TRIES ? nc : TRIES - 1;
                for (size_t i = last; i > at; i--)
                    cand_d[i] = cand_d[i - 1], cand_k[i] = cand_k[i - 1],
                    cand_seed[i] = cand_seed[i - 1];
                cand_d[at] = d, cand_k[at] = k, cand_seed[at] = u;
                if (nc < TRIES) nc++;
            }
            if (sum > 2 * amount + 1) break;
        }
    }
    for (size_t c = 0; c < nc; c++) {
        size_t m = walk(s, cand_seed[c], cand_k[c]);
        if (*nlog + m > logcap || !stays_connected(s, p, m)) continue;
        m = walk(s, cand_seed[c], cand_k[c]); /* stays_connected used the marks */
        *moved = 0;
        for (size_t i = 0; i < m; i++) {
            *moved += g->hh[s->set[i]];
            log[2 * *nlog] = s->set[i];
            log[2 * *nlog + 1] = p;
            (*nlog)++;
            move_unit(s, s->set[i], q);
        }
        return 1;
    }
    return 0;
}

/* Chains: where single moves are stuck (the heavy part's neighbours are heavy too), households
 * travel along a shortest path of neighbouring parts from a part above the target to one below
 * it, one unit per hop; kept if the score improves, undone otherwise. Pairs are tried most
 * unequal first. Returns 1 if a chain was kept. */
static int chain(pstate *s, size_t *log, size_t logcap, size_t *path, unsigned char *adj,
                 unsigned char *tried)
{
    const dv_graph *g = s->g;
    size_t np = s->np;
    double T = s->goal->target;
    memset(adj, 0, np * np);
    for (size_t u = 0; u < g->n; u++)
        for (size_t e = g->start[u]; e < g->start[u + 1]; e++) {
            size_t a = (size_t)s->part[u], b = (size_t)s->part[g->nbr[e]];
            if (a != b) adj[a * np + b] = 1;
        }
    double before = score_all(s);
    /* sources by excess, largest first; for each, the parts below the target, nearest first */
    for (size_t round = 0; round < np; round++) {
        size_t src = SIZE_MAX;
        for (size_t p = 0; p < np; p++) {
            if (s->h[p] <= T || tried[p]) continue;
            if (src == SIZE_MAX || s->h[p] > s->h[src]) src = p;
        }
        if (src == SIZE_MAX) break;
        tried[src] = 1;
        /* BFS over the parts from src: path[] holds predecessors, queue the order reached */
        size_t *queue = s->touched, qh = 0, qt = 0;
        for (size_t p = 0; p < np; p++)
            path[p] = SIZE_MAX;
        path[src] = src;
        queue[qt++] = src;
        while (qh < qt) {
            size_t a = queue[qh++];
            for (size_t b = 0; b < np; b++)
                if (adj[a * np + b] && path[b] == SIZE_MAX) path[b] = a, queue[qt++] = b;
        }
        for (size_t t = 1; t < qt; t++) {
            size_t sink = queue[t];
            if (s->h[sink] >= T) continue;
            double amount = fmin(s->h[src] - T, T - s->h[sink]);
            size_t hops[64], k = 0;
            for (size_t v = sink; v != src && k < 64; v = path[v])
                hops[k++] = v;
            if (k == 64) continue;
            size_t nlog = 0, from = src;
            int ok = 1;
            for (size_t i = k; ok && i-- > 0;) {
                double moved = 0;
                ok = hop(s, from, hops[i], amount, log, &nlog, logcap, &moved);
                amount = moved; /* pass on what came in */
                from = hops[i];
            }
            if (ok && score_all(s) < before - 1e-12) return 1;
            for (size_t i = nlog; i-- > 0;)
                move_unit(s, log[2 * i], log[2 * i + 1]);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- METIS */

static int connected(const dv_graph *g)
{
    if (g->n == 0) return 1;
    unsigned char *seen = calloc(g->n, 1);
    size_t *stack = malloc(g->n * sizeof *stack), top = 0, count = 0;
    if (!seen || !stack) {
        free(seen), free(stack);
        return 0;
    }
    seen[0] = 1;
    stack[top++] = 0;
    while (top) {
        size_t v = stack[--top];
        count++;
        for (size_t e = g->start[v]; e < g->start[v + 1]; e++)
            if (!seen[g->nbr[e]]) seen[g->nbr[e]] = 1, stack[top++] = g->nbr[e];
    }
    free(seen), free(stack);
    return count == g->n;
}

static int run_metis(wg_ctx *ctx, const dv_graph *g, int nparts, int seed, int *part)
{
    size_t n = g->n, ne = g->start[n];
    idx_t *xadj = malloc((n + 1) * sizeof *xadj), *adj = malloc((ne ? ne : 1) * sizeof *adj);
    idx_t *vw = malloc(n * sizeof *vw), *aw = malloc((ne ? ne : 1) * sizeof *aw),
          *out = malloc(n * sizeof *out);
    int rc = xadj && adj && vw && aw && out ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK && (n > (size_t)INT32_MAX / 2 || ne > (size_t)INT32_MAX / 2))
        rc = wg_fail(ctx, WG_EINVAL, "graph too large for METIS");
    double wsum = 0;
    for (size_t u = 0; rc == WG_OK && u < n; u++)
        wsum += g->wt[u];
    /* weights are integers: a tenth of a household, scaled down if the sum would overflow */
    double scale = wsum * 10 > 1e9 ? 1e9 / wsum : 10;
    for (size_t u = 0; rc == WG_OK && u <= n; u++)
        xadj[u] = (idx_t)g->start[u];
    for (size_t u = 0; rc == WG_OK && u < n; u++)
        vw[u] = (idx_t)fmax(1, llround(g->wt[u] * scale));
    for (size_t e = 0; rc == WG_OK && e < ne; e++) {
        adj[e] = (idx_t)g->nbr[e];
        aw[e] = (idx_t)fmin(1e8, fmax(1, llround(g->cost[e])));
    }
    if (rc == WG_OK) {
        idx_t nv = (idx_t)n, ncon = 1, np = nparts, objval = 0, options[METIS_NOPTIONS];
        METIS_SetDefaultOptions(options);
        options[METIS_OPTION_SEED] = seed;
        options[METIS_OPTION_NUMBERING] = 0;
        options[METIS_OPTION_OBJTYPE] = METIS_OBJTYPE_CUT;
        /* contiguous parts where the graph allows (METIS refuses a disconnected graph) */
        if (connected(g)) options[METIS_OPTION_CONTIG] = 1;
        int m = METIS_PartGraphKway(&nv, &ncon, xadj, adj, vw, NULL, aw, &np, NULL, NULL, options,
                                    &objval, out);
        if (m != METIS_OK)
            rc = wg_fail(ctx, m == METIS_ERROR_MEMORY ? WG_ENOMEM : WG_EINVAL, "METIS failed (%d)",
                         m);
    }
    for (size_t u = 0; rc == WG_OK && u < n; u++)
        part[u] = out[u] >= 0 && out[u] < nparts ? (int)out[u] : 0;
    free(xadj), free(adj), free(vw), free(aw), free(out);
    return rc;
}

/* Pair exchange (Kernighan-Lin) between neighbouring parts p and q, where units are too
 * coarse for any one move or chain to help (30 households must go one way, 22 come back):
 * up to KL_STEPS moves between the two, each the best available even if it makes things
 * worse, no unit moved twice (so log, 2 entries a move, needs room for the graph's units); the
 * best prefix of the sequence is kept if it beats the start, the rest undone. Returns 1 if
 * something was kept. */
static int kl_pair(pstate *s, size_t p, size_t q, size_t *log, unsigned char *locked)
{
    const dv_graph *g = s->g;
    const dv_goal *goal = s->goal;
    double T = goal->target, vscale = VIOL_WEIGHT / (T > 0 ? T : 1);
    double best_score = score_all(s) - 1e-12;
    size_t nlog = 0, keep = 0;
    for (int step = 0; step < KL_STEPS; step++) {
        articulation(s);
        double best = INFINITY;
        size_t bu = SIZE_MAX;
        for (size_t u = 0; u < g->n; u++) {
            size_t a = (size_t)s->part[u], b = a == p ? q : p;
            if ((a != p && a != q) || locked[u] || s->cnt[a] <= 1) continue;
            int next_to_b = 0;
            for (size_t e = g->start[u]; e < g->start[u + 1] && !next_to_b; e++)
                next_to_b = (size_t)s->part[g->nbr[e]] == b;
            if (!next_to_b) continue;
            const size_t *set;
            size_t m = moving_set(s, &u, &set), moved = 0;
            for (size_t i = 0; i < m && !moved; i++)
                moved = locked[set[i]]; /* a branch may hold a unit moved already */
            if (!m || moved) continue;
            double hu = households_of(s, set, m), own;
            if (hu <= 0) continue;
            size_t k = neighbour_parts(s, set, m, a, &own);
            double dv = viol(goal, s->h[a] - hu) + viol(goal, s->h[b] + hu) - viol(goal, s->h[a]) -
                        viol(goal, s->h[b]);
            double dd =
                dev2(s->h[a] - hu, T) + dev2(s->h[b] + hu, T) - dev2(s->h[a], T) - dev2(s->h[b], T);
            double score = vscale * dv + dd + MU * (own - s->acc[b]) / s->cscale;
            clear_acc(s, k);
            if (score < best) best = score, bu = u;
        }
        if (bu == SIZE_MAX) break;
        size_t a = (size_t)s->part[bu], b = a == p ? q : p;
        const size_t *set;
        size_t m = moving_set(s, &bu, &set);
        for (size_t i = 0; i < m; i++) {
            locked[set[i]] = 1;
            log[2 * nlog] = set[i];
            log[2 * nlog + 1] = a;
            nlog++;
            move_unit(s, set[i], b);
        }
        double now = score_all(s);
        if (now < best_score) best_score = now, keep = nlog;
    }
    for (size_t i = nlog; i-- > keep;)
        move_unit(s, log[2 * i], log[2 * i + 1]);
    for (size_t i = 0; i < nlog; i++)
        locked[log[2 * i]] = 0;
    return keep > 0;
}

/* Pair exchanges over neighbouring parts, the most unequal pairs first; 1 if one helped. */
static int kl_round(pstate *s, size_t *log, unsigned char *adj, unsigned char *locked)
{
    size_t np = s->np;
    double T = s->goal->target;
    for (;;) {
        size_t bp = SIZE_MAX, bq = SIZE_MAX;
        double bd = 0;
        for (size_t p = 0; p < np; p++)
            for (size_t q = p + 1; q < np; q++) {
                if (adj[p * np + q] != 1) continue; /* 0: not neighbours, 2: tried */
                double d = fabs(s->h[p] - T) + fabs(s->h[q] - T);
                if (bp == SIZE_MAX || d > bd) bp = p, bq = q, bd = d;
            }
        if (bp == SIZE_MAX) return 0;
        adj[bp * np + bq] = 2;
        if (kl_pair(s, bp, bq, log, locked)) return 1;
    }
}

static void part_adjacency(const pstate *s, unsigned char *adj)
{
    const dv_graph *g = s->g;
    size_t np = s->np;
    memset(adj, 0, np * np);
    for (size_t u = 0; u < g->n; u++)
        for (size_t e = g->start[u]; e < g->start[u + 1]; e++) {
            size_t a = (size_t)s->part[u], b = (size_t)s->part[g->nbr[e]];
            if (a != b) adj[a * np + b] = 1;
        }
}

static int balance_chains(wg_ctx *ctx, pstate *s)
{
    size_t np = s->np;
    size_t *log = malloc(2 * (s->g->n + 1) * sizeof *log), *path = malloc(np * sizeof *path);
    unsigned char *adj = malloc(np * np), *tried = malloc(np), *locked = calloc(s->g->n, 1);
    if (!log || !path || !adj || !tried || !locked) {
        free(log), free(path), free(adj), free(tried), free(locked);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t round = 0; round < 10 * np + 100; round++) {
        memset(tried, 0, np);
        if (chain(s, log, s->g->n + 1, path, adj, tried)) {
            improve(s);
            continue;
        }
        part_adjacency(s, adj);
        if (!kl_round(s, log, adj, locked)) break;
        improve(s);
    }
    free(log), free(path), free(adj), free(tried), free(locked);
    return WG_OK;
}

/* Few units per part: METIS would complain on stdout ("too many parts") and its balance could
 * not help anyway; the units in breadth-first order are cut into runs of equal count, and the
 * repair does the rest. */
static int bfs_chunks(wg_ctx *ctx, const dv_graph *g, int nparts, int *part)
{
    size_t n = g->n, *order = malloc(n * sizeof *order), m = 0;
    unsigned char *seen = calloc(n, 1);
    if (!order || !seen) {
        free(order), free(seen);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        if (seen[r]) continue;
        size_t head = m;
        seen[r] = 1;
        order[m++] = r;
        while (head < m) {
            size_t v = order[head++];
            for (size_t e = g->start[v]; e < g->start[v + 1]; e++)
                if (!seen[g->nbr[e]]) seen[g->nbr[e]] = 1, order[m++] = g->nbr[e];
        }
    }
    for (size_t i = 0; i < n; i++)
        part[order[i]] = (int)(i * (size_t)nparts / n);
    free(order), free(seen);
    return WG_OK;
}

/* One start: METIS with this seed, then the repair; *score gets the final score and
 * *metis_dev METIS's own max |households - target|. */
static int one_start(wg_ctx *ctx, const dv_graph *g, const dv_goal *goal, int seed, int *part,
                     double rank[3], double *metis_dev)
{
    int rc = WG_OK;
    if (goal->nparts == 1)
        for (size_t u = 0; u < g->n; u++)
            part[u] = 0;
    else if (g->n < METIS_MIN_UNITS * (size_t)goal->nparts)
        rc = bfs_chunks(ctx, g, goal->nparts, part);
    else
        rc = run_metis(ctx, g, goal->nparts, seed, part);
    if (rc != WG_OK) return rc;
    pstate s;
    rc = pstate_init(ctx, &s, g, goal, part);
    if (rc != WG_OK) return rc;
    tally(&s);
    *metis_dev = 0;
    for (size_t p = 0; p < s.np; p++)
        *metis_dev = fmax(*metis_dev, fabs(s.h[p] - goal->target));
    for (int round = 0; rc == WG_OK && round < 100; round++) {
        int moved = 0;
        rc = connect_parts(ctx, &s, &moved);
        if (!moved) break;
    }
    if (rc == WG_OK) {
        fill_empty(&s);
        improve(&s);
        rc = balance_chains(ctx, &s);
    }
    if (rc == WG_OK) {
        /* rank: households outside the band, then the worst grid's deviation in whole
         * percent, then the score */
        double v = 0, worst = 0, T = goal->target;
        for (size_t p = 0; p < s.np; p++) {
            v += viol(goal, s.h[p]);
            worst = fmax(worst, fabs(s.h[p] - T) / (T > 0 ? T : 1));
        }
        rank[0] = v;
        rank[1] = floor(100 * worst);
        rank[2] = score_all(&s);
    }
    pstate_free(&s);
    return rc;
}

int dv_partition(wg_ctx *ctx, const dv_graph *g, const dv_goal *goal, int *part,
                 double *metis_max_dev)
{
    *metis_max_dev = 0;
    if (goal->nparts < 1 || (size_t)goal->nparts > g->n)
        return wg_fail(ctx, WG_EDATA, "cannot make %d grids of %zu base units", goal->nparts, g->n);
    int *trial = malloc(g->n * sizeof *trial);
    if (!trial) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    double best[3] = {INFINITY, INFINITY, INFINITY};
    int rc = WG_OK,
        starts = goal->nparts == 1 || g->n < METIS_MIN_UNITS * (size_t)goal->nparts ? 1 : STARTS;
    for (int k = 0; rc == WG_OK && k < starts; k++) {
        double rank[3] = {INFINITY, INFINITY, INFINITY}, dev = 0;
        rc = one_start(ctx, g, goal, METIS_SEED + k, trial, rank, &dev);
        if (k == 0) *metis_max_dev = starts > 1 ? dev : NAN; /* plain METIS: the first seed */
        int better = 0;
        for (int i = 0; i < 3 && !better; i++) {
            if (rank[i] < best[i])
                better = 1;
            else if (rank[i] > best[i])
                break;
        }
        if (rc == WG_OK && better) {
            memcpy(best, rank, sizeof best);
            memcpy(part, trial, g->n * sizeof *part);
        }
    }
    free(trial);
    return rc;
}
