/* wangge check */
#include "cli.h"
#include "wangge/store.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_JSON = 256, OPT_QUICK };
static const struct option CHECK_OPTS[] = {{"json", no_argument, NULL, OPT_JSON},
                                           {"quick", no_argument, NULL, OPT_QUICK},
                                           {NULL, 0, NULL, 0}};

int cmd_check(cli *c, int argc, char **argv); /* tools/main.c's table */
int cmd_check(cli *c, int argc, char **argv)
{
    int json = 0, opt;
    unsigned flags = 0;
    while ((opt = getopt_long(argc, argv, "", CHECK_OPTS, NULL)) != -1) {
        if (opt == OPT_JSON) json = 1;
        if (opt == OPT_QUICK) flags |= WG_CHECK_QUICK;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_check_report r;
    int rc = wg_store_check(ctx, flags, &r), code = EXIT_OK;
    if (rc != WG_OK) {
        code = cli_fail(c, ctx, rc);
        wg_ctx_free(ctx);
        return code;
    }
    char *text = json ? wg_check_report_json(&r) : wg_check_report_text(&r);
    if (!text) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        wg_ctx_free(ctx);
        return EXIT_STORE;
    }
    fputs(text, stdout);
    if (json) fputc('\n', stdout);
    free(text);
    if (r.failed) {
        char names[256];
        wg_check_report_failed(&r, names, sizeof names);
        fprintf(stderr, "%s: %s: %zu of %zu checks failed: %s\n", c->prog, c->store, r.failed, r.n,
                names);
        code = EXIT_DATA;
    }
    wg_ctx_free(ctx);
    return code;
}
