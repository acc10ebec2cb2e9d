/* Shared helpers of the wangge subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

wg_ctx *cli_open(const cli *c, int flags)
{
    wg_ctx *ctx = wg_ctx_new();
    if (!ctx) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        return NULL;
    }
    int rc = wg_store_open(ctx, c->store, flags);
    if (rc != WG_OK) {
        fprintf(stderr, "%s: %s\n", c->prog, wg_errmsg(ctx));
        wg_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

int cli_fail(const cli *c, wg_ctx *ctx, int rc)
{
    fprintf(stderr, "%s: %s\n", c->prog, wg_errmsg(ctx));
    switch (rc) {
    case WG_OK: return EXIT_OK;
    case WG_EINVAL: return EXIT_USAGE;
    case WG_EDATA:
    case WG_ENOTFOUND:
    case WG_ECONFLICT:
    case WG_EFAULTS:
    case WG_EGEOS:
    case WG_EIO: return EXIT_DATA; /* a named file that cannot be read or written */
    default: return EXIT_STORE;
    }
}

int cli_usage(const cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s --help')\n", c->prog);
    return EXIT_USAGE;
}

int cli_parse_i64(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || errno) return 0;
    *v = x;
    return 1;
}

int cli_parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(x)) return 0;
    *v = x;
    return 1;
}

static int bar_shown;

void cli_progress(void *ud, uint64_t done, uint64_t total)
{
    (void)ud;
    if (!isatty(STDERR_FILENO)) return;
    if (total) {
        int pct = (int)(done * 100 / total), width = 40, fill = pct * width / 100;
        fprintf(stderr, "\r[%.*s%*s] %3d%%  %.1f MiB", fill,
                "########################################", width - fill, "", pct,
                done / 1048576.0);
    } else {
        fprintf(stderr, "\r%.1f MiB read", done / 1048576.0);
    }
    bar_shown = 1;
}

void cli_progress_end(void)
{
    if (bar_shown) fputc('\n', stderr);
    bar_shown = 0;
}
