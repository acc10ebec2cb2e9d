/* wangge — command-line entry: global options, subcommand dispatch, help. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const command COMMANDS[] = {
    {"init", "create an empty store", "wangge [--store FILE] init", cmd_init},
    {"import", "import units, addresses, events, workers or reference layers",
     "wangge [--store FILE] import --level district|community|grid FILE.geojson\n"
     "        [--code-prop P] [--name-prop P] [--parent-prop P] [--repair] [--replace]\n"
     "        [--skip-rejected]\n"
     "  or   wangge import --addresses FILE.csv|FILE.geojson [--lon-col C] [--lat-col C]\n"
     "        [--households-col C] [--label-col C] [--code-col C] [--replace] [--skip-rejected]\n"
     "  or   wangge import --events FILE.csv|FILE.geojson [--category-col C] [--time-col C]\n"
     "        [--status-col C] [--description-col C] [--replace] [--skip-rejected]\n"
     "  or   wangge import --workers FILE.csv|FILE.geojson [--lon-col C] [--lat-col C]\n"
     "        [--replace] [--skip-rejected]\n"
     "  or   wangge import --layer NAME FILE.geojson [--code-prop P] [--name-prop P] [--repair]\n"
     "        [--replace] [--skip-rejected]\n"
     "Units go into the draft generation (created from the active one if needed). All or\n"
     "nothing: every rejected feature is listed and nothing is stored unless --skip-rejected.\n"
     "--repair makes invalid polygons valid (GEOS MakeValid) and closes unclosed rings,\n"
     "reporting each change. A missing parent code is derived from a 12-digit community\n"
     "or 14/15-digit grid code.\n"
     "Workers (columns id,name,phone,role,home_grid,lon,lat,on_duty; role grid_worker or\n"
     "officer) are updated when their id is stored already; an empty position or on_duty keeps\n"
     "the stored one; --replace deletes all workers first.\n"
     "A layer (NAME: 1-32 of a-z 0-9 _; e.g. roads, rivers, thematic_rental) holds points,\n"
     "lines and polygons with code, name and class (or theme); --replace replaces that layer.",
     cmd_import},
    {"layers", "list the reference layers with their feature counts", "wangge layers",
     cmd_layers},
    {"validate", "check a generation's invariants",
     "wangge validate [--generation N] [--tolerance M2] [--json] [-o FILE]\n"
     "Checks the draft (or --generation N): valid geometry, coordinates in range, one parent,\n"
     "code prefix, inside parent, no sibling overlap, no gap. Areas in m2 (geodesic).\n"
     "Faults of --tolerance m2 (default 1) or less are counted, not listed. Exit 2 on faults.",
     cmd_validate},
    {"publish", "validate the draft and make it the active generation",
     "wangge publish [--tolerance M2] [--force]\n"
     "Refused (exit 2, report printed) if the draft has faults, unless --force.",
     cmd_publish},
    {"generations", "list generations", "wangge generations [--json]", cmd_generations},
    {"lookup", "district, community and grid of points",
     "wangge lookup [--generation N] [--json] LON LAT\n"
     "  or   wangge lookup [--generation N] --batch FILE|-   (lines: lon,lat)\n"
     "A point on a shared boundary goes to the grid east of it (north on an east-west edge);\n"
     "a point in no grid is 'outside' with the nearest grid and its distance in metres.",
     cmd_lookup},
    {"assign", "(re)assign all addresses and events to the grids of a generation",
     "wangge assign [--generation N] [--threads N] [--changes FILE|-]\n"
     "Prints counts (assigned, outside, changed since the last run); --changes lists each\n"
     "changed item as kind,id,old_code,new_code.",
     cmd_assign},
    {"export", "write a level as GeoJSON, or the validation report",
     "wangge export --level district|community|grid [--generation N] [-o FILE]\n"
     "  or   wangge export --report [--generation N] [--tolerance M2] [-o FILE]",
     cmd_export},
    {"key", "create, list or revoke API keys for the server's roles",
     "wangge key create --role viewer|worker|dispatcher|planner|admin [--name TEXT] [--worker ID]\n"
     "       wangge key list\n"
     "       wangge key revoke KEY_ID",
     cmd_key},
    {"gen", "generate a synthetic city (Kuichong-like street offices) as GeoJSON and CSV",
     "wangge gen [--seed N] [--scale N] [--county CCCCCC] [--street N] [--households N]\n"
     "           [--grids N] [--communities N] [--events N] [--quiet] DIR\n"
     "Writes districts, communities, grids, roads, rivers, thematic layers (GeoJSON) and\n"
     "addresses, events, workers, categories (CSV) into DIR; the same options give the same\n"
     "bytes. Defaults: seed 1, one office 440307006 with 9 communities, 97 grids, about\n"
     "30000 households and 2000 events; --scale N puts N offices side by side (streets\n"
     "006, 007, ...), generated one at a time so memory stays flat.",
     cmd_gen},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_help(FILE *out)
{
    fprintf(out, "wangge — urban grid governance: nested district/community/work-grid polygons\n\n"
                 "usage: wangge [--store FILE] COMMAND [OPTIONS]\n\n"
                 "global options:\n"
                 "  -s, --store FILE   the store (default $WANGGE_STORE or ./wangge.sqlite)\n"
                 "  -h, --help         this help; 'wangge COMMAND --help' for a command\n\n"
                 "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "this help, or 'wangge help COMMAND'");
    fprintf(out, "\nexit codes: 0 ok, 1 usage, 2 bad data or validation faults, 3 store/system\n");
}

void cli_print_usage(const command *cmd, FILE *out)
{
    fprintf(out, "wangge %s — %s\n\nusage: %s\n", cmd->name, cmd->summary, cmd->usage);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0) return &COMMANDS[i];
    return NULL;
}

static int has_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli c = {getenv("WANGGE_STORE") ? getenv("WANGGE_STORE") : "wangge.sqlite", "wangge"};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_help(stdout);
            return EXIT_OK;
        }
        if ((strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--store") == 0) && i + 1 < argc) {
            c.store = argv[++i];
        } else if (strncmp(argv[i], "--store=", 8) == 0) {
            c.store = argv[i] + 8;
        } else {
            fprintf(stderr, "wangge: unknown option %s (see 'wangge help')\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        const command *cmd = i + 1 < argc ? find(argv[i + 1]) : NULL;
        if (i + 1 < argc && !cmd) {
            fprintf(stderr, "wangge: no command '%s' (see 'wangge help')\n", argv[i + 1]);
            return EXIT_USAGE;
        }
        if (cmd) cli_print_usage(cmd, stdout);
        else print_help(stdout);
        return EXIT_OK;
    }
    const command *cmd = find(argv[i]);
    if (!cmd) {
        fprintf(stderr, "wangge: no command '%s' (see 'wangge help')\n", argv[i]);
        return EXIT_USAGE;
    }
    if (has_help(argc - i, argv + i)) {
        cli_print_usage(cmd, stdout);
        return EXIT_OK;
    }
    char prog[64];
    snprintf(prog, sizeof prog, "wangge %s", cmd->name);
    c.prog = prog;
    optind = 1; /* getopt_long over the subcommand's own argv */
    return cmd->run(&c, argc - i, argv + i);
}
