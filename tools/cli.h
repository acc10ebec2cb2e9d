/* The wangge command: shared conventions of its subcommands.
 * Exit codes: 0 ok, 1 usage, 2 data (bad input, validation faults), 3 store or system. */
#ifndef WANGGE_CLI_H
#define WANGGE_CLI_H

#include "wangge/common.h"
#include <getopt.h>
#include <stdio.h>

/* 2 also covers input files that cannot be opened */
enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_DATA = 2, EXIT_STORE = 3 };

typedef struct cli {
    const char *store; /* --store, $WANGGE_STORE, or wangge.sqlite */
    const char *prog;  /* "wangge import" etc., for messages */
} cli;

typedef struct command {
    const char *name, *summary, *usage;
    int (*run)(cli *c, int argc, char **argv);
} command;

/* Opens the store on a new context; on failure prints the reason and returns NULL. */
wg_ctx *cli_open(const cli *c, int flags);
/* Maps a library rc to an exit code, printing wg_errmsg(ctx) prefixed by the command. */
int cli_fail(const cli *c, wg_ctx *ctx, int rc);
/* Prints "prog: message" to stderr and returns EXIT_USAGE, with a hint to --help. */
int cli_usage(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a whole number / a real; returns 0 on garbage. */
int cli_parse_i64(const char *s, int64_t *v);
int cli_parse_double(const char *s, double *v);
/* A progress bar on stderr when it is a terminal (a wg_progress_fn). */
void cli_progress(void *ud, uint64_t done, uint64_t total);
void cli_progress_end(void);
/* Prints the usage of a command. */
void cli_print_usage(const command *cmd, FILE *out);

int cmd_init(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_layers(cli *c, int argc, char **argv);
int cmd_validate(cli *c, int argc, char **argv);
int cmd_publish(cli *c, int argc, char **argv);
int cmd_generations(cli *c, int argc, char **argv);
int cmd_lookup(cli *c, int argc, char **argv);
int cmd_assign(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_gen(cli *c, int argc, char **argv);
int cmd_key(cli *c, int argc, char **argv);

#endif
