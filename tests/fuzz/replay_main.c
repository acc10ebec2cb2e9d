/* A fuzz target without libFuzzer: runs every file of the directories (or the files) named on
 * the command line, in name order, through LLVMFuzzerTestOneInput once each. Built with the
 * ordinary compiler and sanitizers, it puts the seed corpus and every crash regression into
 * the normal test suite (ctest fuzz_replay_<target>). A missing directory is skipped with a
 * note (a target may have no regressions yet), but no input at all is a failure: a wrong path
 * must not pass as a clean run. A broken invariant or sanitizer report aborts the run.
 *
 * usage: fuzz_replay_<target> DIR|FILE... */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Targets that need no set-up leave LLVMFuzzerInitialize out. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 0;
    }
    /* exactly n bytes, so that reading past the input is an ASan report */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return 0;
    }
    memcpy(exact, buf, n);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 1;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int visible(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 1;
    }
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    size_t runs = 0;
    for (int i = 1; i < argc; i++) {
        if (!is_dir(argv[i])) {
            if (access(argv[i], F_OK) != 0) {
                fprintf(stderr, "replay: %s does not exist, skipped\n", argv[i]);
                continue;
            }
            if (!run_file(argv[i])) return 1;
            runs++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, visible, alphasort);
        if (n < 0) {
            fprintf(stderr, "replay: cannot list %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
            if (!is_dir(path)) {
                if (!run_file(path)) return 1;
                runs++;
            }
            free(names[k]);
        }
        free(names);
    }
    if (runs == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    printf("replay: %zu inputs, no failure\n", runs);
    return 0;
}
