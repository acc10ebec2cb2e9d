/* What the fuzz targets share: a private scratch directory, inputs written to files (the
 * streaming readers take paths), a hash of the input for choices that must not cost input
 * bytes, and the failure report. See docs/fuzzing.md. */
#ifndef WANGGE_FUZZ_UTIL_H
#define WANGGE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Both readers (geojson_stream.c GJ_CHUNK, csv_stream.c CSV_CHUNK) read 64 KiB at a time. An
 * input far smaller than that never meets a buffer edge, so the targets sometimes put padding
 * the format ignores in front of it, sized so the edge falls inside the input. */
#define FZ_READ_CHUNK (64 * 1024)

/* The libFuzzer entry points each target defines (replay_main.c calls them too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* This process's scratch directory (created on first use under $TMPDIR, else /dev/shm, else
 * /tmp; removed with its contents at exit). Exits with a message if it cannot be made. */
const char *fz_dir(void);
/* out = fz_dir()/name. */
void fz_path(char *out, size_t n, const char *name);
/* Writes pad (npad bytes, may be 0) then data to path, replacing the file. Exits on failure. */
void fz_write(const char *path, const void *pad, size_t npad, const uint8_t *data, size_t n);
/* The importer targets' set-up: *ctx a compute-only context, *store a context on a new scratch
 * store fz_dir()/STEM.sqlite, file = fz_dir()/input.EXT for the inputs. Exits on failure. */
struct wg_ctx;
void fz_import_setup(const char *stem, const char *ext, struct wg_ctx **ctx, struct wg_ctx **store,
                     char *file, size_t n);
/* FNV-1a of the input. */
uint64_t fz_hash(const uint8_t *data, size_t n);
/* Where the read-buffer edge should fall for this input: 0 for no padding (7 inputs in 8:
 * the readers walk 64 KiB of padding byte by byte, which costs more than the rest; and never
 * for an input starting with a UTF-8 BOM, which must stay first), else the number of input
 * bytes before the edge, 1..n. */
size_t fz_edge(const uint8_t *data, size_t n);
/* Reports a broken invariant on stderr and aborts (a crash for libFuzzer). */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) fz_fail(__VA_ARGS__);                                                         \
    } while (0)

#endif
