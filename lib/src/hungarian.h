/* Private: optimal one-to-one assignment (Kuhn–Munkres, "Hungarian method").
 *
 * Used by redraws to hand old codes to new units: rows are new units, columns old units, and
 * w[r * cols + c] how much new unit r and old unit c share (households, then area). */
#ifndef WANGGE_HUNGARIAN_H
#define WANGGE_HUNGARIAN_H

#include <stddef.h>
#include <stdint.h>

/* Finds a matching of min(rows, cols) pairs, each row and each column used at most once,
 * that maximises the sum of w over its pairs (w is rows x cols, row-major, finite). Writes
 * match[r] = the column of row r, or -1 for a row left out (only when rows > cols). Weights
 * may be negative; ties are broken deterministically. O(k² · max(rows, cols)) time with
 * k = min(rows, cols). Returns 0, or -1 when out of memory (match then all -1). */
int wg_hungarian_max(const double *w, size_t rows, size_t cols, int32_t *match /* out */);

#endif
