/* wangge backup | restore */
#include "cli.h"
#include "wangge/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* tools/main.c's table */
int cmd_backup(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);

enum { OPT_FORCE = 256, OPT_FULL, OPT_ALLOW_FAULTS };
static const struct option BACKUP_OPTS[] = {{"force", no_argument, NULL, OPT_FORCE},
                                            {"full", no_argument, NULL, OPT_FULL},
                                            {"allow-faults", no_argument, NULL, OPT_ALLOW_FAULTS},
                                            {NULL, 0, NULL, 0}};

/* The failed checks of a report, one per line, to stderr. */
static void print_failed(const cli *c, const wg_check_report *r, const char *what)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].ok == 0)
            fprintf(stderr, "%s: %s: %s: %s\n", c->prog, what, r->items[i].name,
                    r->items[i].message);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Parses the options and the one FILE argument; EXIT_OK or a usage exit. */
static int parse(cli *c, int argc, char **argv, int backup, int *force, int *full, int *allow,
                 const char **file)
{
    int opt;
    *force = *full = *allow = 0;
    while ((opt = getopt_long(argc, argv, "", BACKUP_OPTS, NULL)) != -1) {
        if (opt == OPT_FORCE)
            *force = 1;
        else if (opt == OPT_FULL && backup)
            *full = 1;
        else if (opt == OPT_ALLOW_FAULTS && !backup)
            *allow = 1;
        else
            return cli_usage(c, "bad option");
    }
    if (optind >= argc)
        return cli_usage(c, "%s",
                         backup ? "which file? wangge backup OUT"
                                : "which backup? wangge restore BACKUP");
    if (optind + 1 != argc) return cli_usage(c, "unexpected argument %s", argv[optind + 1]);
    *file = argv[optind];
    return EXIT_OK;
}

int cmd_backup(cli *c, int argc, char **argv)
{
    int force, full, allow;
    const char *out;
    int code = parse(c, argc, argv, 1, &force, &full, &allow, &out);
    if (code != EXIT_OK) return code;
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_check_report r;
    int64_t pages = 0;
    double t0 = now_s();
    int rc = wg_store_backup(ctx, out, force, full, &pages, &r);
    if (rc != WG_OK) {
        print_failed(c, &r, "the copy");
        code = cli_fail(c, ctx, rc);
        wg_ctx_free(ctx);
        return code;
    }
    printf("backup of %s written to %s: %lld pages in %.2f s; %zu checks, %zu failed\n", c->store,
           out, (long long)pages, now_s() - t0, r.n, r.failed);
    if (r.failed) {
        print_failed(c, &r, "warning: the store (and so the backup) breaks an invariant");
        fprintf(stderr, "%s: run 'wangge check' on %s\n", c->prog, c->store);
    }
    wg_ctx_free(ctx);
    return EXIT_OK;
}

int cmd_restore(cli *c, int argc, char **argv)
{
    int force, full, allow;
    const char *backup;
    int code = parse(c, argc, argv, 0, &force, &full, &allow, &backup);
    if (code != EXIT_OK) return code;
    wg_ctx *ctx = wg_ctx_new();
    if (!ctx) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        return EXIT_STORE;
    }
    wg_check_report r;
    unsigned flags = (force ? WG_RESTORE_OVERWRITE : 0u) | (allow ? WG_RESTORE_ALLOW_FAULTS : 0u);
    int rc = wg_store_restore(ctx, backup, c->store, flags, &r);
    if (rc != WG_OK) {
        print_failed(c, &r, "the backup");
        code = cli_fail(c, ctx, rc);
    } else {
        printf("restored %s into %s: %zu checks, %zu failed\n", backup, c->store, r.n, r.failed);
        if (r.failed) print_failed(c, &r, "warning (--allow-faults)");
    }
    wg_ctx_free(ctx);
    return code;
}
