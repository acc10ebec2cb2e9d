/* Shared helpers for the unit tests. */
#ifndef WANGGE_TESTUTIL_H
#define WANGGE_TESTUTIL_H
#include "wangge/common.h"

/* Writes contents to a new temporary file; returns its malloc'd path (caller unlinks, frees). */
char *tu_write_temp(const char *contents);
/* A fresh temporary path for a store file (not created); malloc'd. */
char *tu_temp_path(const char *suffix);
/* Removes a store and its -wal/-shm companions, then frees the path. */
void tu_remove_store(char *path);
/* Parses WKT with ctx's GEOS handle; aborts the test on failure. Caller destroys. */
GEOSGeometry *tu_wkt(wg_ctx *ctx, const char *wkt);
#endif
