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
/* As tu_write_temp, for n bytes that may contain NUL; malloc'd path. */
char *tu_write_temp_bytes(const void *data, size_t n);
/* Unlinks a file from tu_write_temp*, then frees the path. NULL is a no-op. */
void tu_remove_temp(char *path);
#endif
