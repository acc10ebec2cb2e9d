#include "testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_write_temp(const char *contents)
{
    char *path = strdup("/tmp/wangge-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(contents);
    assert_int_equal((ssize_t)n, write(fd, contents, n));
    close(fd);
    return path;
}

char *tu_temp_path(const char *suffix)
{
    char *path = strdup("/tmp/wangge-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char *full = malloc(strlen(path) + strlen(suffix) + 1);
    sprintf(full, "%s%s", path, suffix);
    free(path);
    return full;
}

void tu_remove_store(char *path)
{
    char buf[4096];
    unlink(path);
    snprintf(buf, sizeof buf, "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", path);
    unlink(buf);
    free(path);
}

GEOSGeometry *tu_wkt(wg_ctx *ctx, const char *wkt)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(wg_geos(ctx));
    GEOSGeometry *g = GEOSWKTReader_read_r(wg_geos(ctx), r, wkt);
    GEOSWKTReader_destroy_r(wg_geos(ctx), r);
    assert_non_null(g);
    return g;
}

char *tu_write_temp_bytes(const void *data, size_t n)
{
    char *path = strdup("/tmp/wangge-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal((ssize_t)n, write(fd, data, n));
    close(fd);
    return path;
}

void tu_remove_temp(char *path)
{
    if (!path) return;
    unlink(path);
    free(path);
}
