/* wangge key create | list | revoke: API keys for the server's roles. */
#include "cli.h"
#include "wangge/auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OPT_ROLE = 256, OPT_NAME, OPT_WORKER };
static const struct option KEY_OPTS[] = {{"role", required_argument, NULL, OPT_ROLE},
                                         {"name", required_argument, NULL, OPT_NAME},
                                         {"worker", required_argument, NULL, OPT_WORKER},
                                         {NULL, 0, NULL, 0}};

static void iso_ms(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int key_create(cli *c, int argc, char **argv)
{
    const char *role = NULL, *name = NULL, *worker = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", KEY_OPTS, NULL)) != -1) {
        if (opt == OPT_ROLE) role = optarg;
        else if (opt == OPT_NAME) name = optarg;
        else if (opt == OPT_WORKER) worker = optarg;
        else return cli_usage(c, "bad option");
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    wg_role r = wg_role_parse(role);
    if (!r) return cli_usage(c, "--role takes viewer, worker, dispatcher, planner or admin");
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    char key[WG_KEY_LEN + 1];
    int rc = wg_key_create(ctx, r, name, worker, key, NULL);
    if (rc != WG_OK) {
        int code = cli_fail(c, ctx, rc);
        wg_ctx_free(ctx);
        return code;
    }
    /* the key goes to stdout alone (scripts capture it); it is not shown again */
    printf("%s\n", key);
    fprintf(stderr, "%s: %s key created; store it now, it cannot be shown again\n", c->prog, role);
    wg_ctx_free(ctx);
    return EXIT_OK;
}

static int key_list(cli *c, int argc, char **argv)
{
    if (argc != 1) return cli_usage(c, "list takes no arguments");
    (void)argv;
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_key_info *k;
    size_t n;
    int rc = wg_key_list(ctx, &k, &n);
    if (rc != WG_OK) {
        int code = cli_fail(c, ctx, rc);
        wg_ctx_free(ctx);
        return code;
    }
    printf("key_id,role,name,worker,created,revoked\n");
    for (size_t i = 0; i < n; i++) {
        char created[32], revoked[32] = "";
        iso_ms(k[i].created_ms, created, sizeof created);
        if (k[i].revoked_ms) iso_ms(k[i].revoked_ms, revoked, sizeof revoked);
        printf("%s,%s,%s,%s,%s,%s\n", k[i].key_id, wg_role_name(k[i].role), k[i].name, k[i].worker_id, created, revoked);
    }
    free(k);
    wg_ctx_free(ctx);
    return EXIT_OK;
}

static int key_revoke(cli *c, int argc, char **argv)
{
    if (argc != 2) return cli_usage(c, "revoke takes one key id");
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    int rc = wg_key_revoke(ctx, argv[1]);
    int code = rc == WG_OK ? EXIT_OK : cli_fail(c, ctx, rc);
    if (rc == WG_OK) fprintf(stderr, "%s: key %s revoked\n", c->prog, argv[1]);
    wg_ctx_free(ctx);
    return code;
}

int cmd_key(cli *c, int argc, char **argv)
{
    if (argc < 2) return cli_usage(c, "key needs create, list or revoke");
    const char *sub = argv[1];
    argc--;
    argv++;
    optind = 1;
    if (strcmp(sub, "create") == 0) return key_create(c, argc, argv);
    if (strcmp(sub, "list") == 0) return key_list(c, argc, argv);
    if (strcmp(sub, "revoke") == 0) return key_revoke(c, argc, argv);
    return cli_usage(c, "unknown key command '%s' (create, list, revoke)", sub);
}
