/* Shared by the fuzz targets: see fuzz_util.h. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fuzz_util.h"
#include "wangge/store.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[512];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_dir(void)
{
    if (g_dir[0]) nftw(g_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int usable(const char *dir)
{
    return dir && *dir && access(dir, W_OK | X_OK) == 0;
}

const char *fz_dir(void)
{
    if (g_dir[0]) return g_dir;
    const char *base = getenv("TMPDIR");
    if (!usable(base)) base = usable("/dev/shm") ? "/dev/shm" : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/wangge-fuzz-XXXXXX", base);
    if (!mkdtemp(g_dir)) {
        fprintf(stderr, "fuzz: cannot create a scratch directory in %s: %s\n", base,
                strerror(errno));
        exit(2);
    }
    atexit(remove_dir);
    return g_dir;
}

void fz_path(char *out, size_t n, const char *name)
{
    if ((size_t)snprintf(out, n, "%s/%s", fz_dir(), name) >= n) {
        fprintf(stderr, "fuzz: path too long\n");
        exit(2);
    }
}

void fz_write(const char *path, const void *pad, size_t npad, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    if (ok && npad) ok = fwrite(pad, 1, npad, f) == npad;
    if (ok && n) ok = fwrite(data, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

uint64_t fz_hash(const uint8_t *data, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    return h;
}

size_t fz_edge(const uint8_t *data, size_t n)
{
    uint64_t h = fz_hash(data, n);
    if (n == 0 || (h & 7) || (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)) return 0;
    return 1 + (size_t)((h >> 3) % n);
}

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void fz_import_setup(const char *stem, const char *ext, wg_ctx **ctx, wg_ctx **store, char *file, size_t n)
{
    char path[600], name[64];
    *ctx = wg_ctx_new();
    *store = wg_ctx_new();
    snprintf(name, sizeof name, "%s.sqlite", stem);
    fz_path(path, sizeof path, name);
    snprintf(name, sizeof name, "input.%s", ext);
    fz_path(file, n, name);
    if (!*ctx || !*store || wg_store_open(*store, path, WG_STORE_CREATE) != WG_OK) {
        fprintf(stderr, "fuzz_%s: cannot create %s: %s\n", stem, path, *store ? wg_errmsg(*store) : "");
        exit(2);
    }
}
