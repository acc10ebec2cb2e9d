/* Kuhn–Munkres with potentials (see hungarian.h).
 *
 * The shortest-augmenting-path form for a k x m cost matrix with k <= m: rows are added one
 * at a time; each addition grows a Dijkstra-like tree over the columns with reduced costs
 * c(i, j) - u[i] - v[j] >= 0, then augments along the cheapest path and updates the
 * potentials so that every matched pair has reduced cost 0. After the last row the matching
 * is optimal (complementary slackness). Cost = -weight turns the maximisation into the usual
 * minimisation; when rows > cols the matrix is used transposed, so k is always the smaller
 * side. Index 0 of p and way is a virtual column that holds the row being added.
 *
 * Worked example, weights {{3, 1}, {2, 2}}: row 0 takes column 0 (cost -3); row 1 then finds
 * column 1 free at reduced cost 0, giving 3 + 2 = 5, better than 1 + 2 = 3. */
#include "hungarian.h"

#include <math.h>
#include <stdlib.h>

int wg_hungarian_max(const double *w, size_t rows, size_t cols, int32_t *match)
{
    for (size_t r = 0; r < rows; r++)
        match[r] = -1;
    if (rows == 0 || cols == 0) return 0;
    int transposed = rows > cols;
    size_t k = transposed ? cols : rows, m = transposed ? rows : cols;
    double *u = calloc(k + 1, sizeof *u), *v = calloc(m + 1, sizeof *v),
           *minv = malloc((m + 1) * sizeof *minv);
    size_t *p = calloc(m + 1, sizeof *p), *way = calloc(m + 1, sizeof *way);
    unsigned char *used = malloc(m + 1);
    int rc = u && v && minv && p && way && used ? 0 : -1;
    for (size_t i = 1; rc == 0 && i <= k; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= m; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= m; j++) {
                if (used[j]) continue;
                double c =
                    transposed ? -w[(j - 1) * cols + (i0 - 1)] : -w[(i0 - 1) * cols + (j - 1)];
                double cur = c - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do { /* augment along the path back to the virtual column */
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (size_t j = 1; rc == 0 && j <= m; j++) {
        if (!p[j]) continue;
        if (transposed)
            match[j - 1] = (int32_t)(p[j] - 1);
        else
            match[p[j] - 1] = (int32_t)(j - 1);
    }
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
    return rc;
}
