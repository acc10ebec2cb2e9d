/* Fuzz target: the streaming CSV reader (csv_stream.c) and the CSV importers (addresses,
 * events, workers, categories: import.c, import_extra.c, categories.c).
 *
 * The input is a CSV file as given to `wangge import`. It is written to a scratch file,
 * sometimes behind a line of spaces sized so that the reader's 64 KiB buffer edge falls inside
 * the input (fz_edge; libcsv skips such a line before the header), and read row by row:
 *   - the header: as many names as columns, each found again by wg_csv_col (exact match
 *     first: at the first column of that name);
 *   - every row: as many fields as the header, none NULL; row lines increase, start after the
 *     header and lie within the file's lines; a parse error is replayed by every later call
 *     while a ragged row is not (the reader goes on); a file read to its end has consumed all
 *     of it;
 *   - then (unpadded inputs) one importer (chosen by the hash) runs on the file in a scratch store:
 *     WG_OK or WG_EDATA only, every rejection reported, all-or-nothing (a refused import
 *     leaves the rows that were there), and WG_OK only without rejections unless rejected
 *     rows may be skipped.
 */
#include "fuzz_util.h"
#include "csv_stream.h"
#include "internal.h"
#include "wangge/events.h"
#include "wangge/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows looked at per input. */
#define MAX_ROWS 100000

static wg_ctx *g_ctx;
static wg_ctx *g_store;
static char g_file[600];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_import_setup("csv", "csv", &g_ctx, &g_store, g_file, sizeof g_file);
    return 0;
}

/* Lines of the input: LF, CR and CRLF each end one. */
static size_t count_lines(const uint8_t *data, size_t n)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        if (data[i] == '\r' || (data[i] == '\n' && !(i > 0 && data[i - 1] == '\r'))) lines++;
    return lines;
}

/* Reads the file; returns 1 if it was read to its end without a parse error. */
static int walk(const uint8_t *data, size_t size, size_t pad_lines, size_t file_size)
{
    wg_csv_stream *s = NULL;
    int rc = wg_csv_open(g_ctx, g_file, &s);
    if (rc != WG_OK) {
        FZ_CHECK(rc == WG_EDATA || rc == WG_ENOMEM, "wg_csv_open: rc %d (%s)", rc,
                 wg_errmsg(g_ctx));
        FZ_CHECK(!s, "a failed open left a stream");
        return 0;
    }
    size_t ncols = wg_csv_ncols(s);
    FZ_CHECK(ncols >= 1, "a header without columns");
    for (size_t i = 0; i < ncols; i++) {
        const char *name = wg_csv_colname(s, i);
        FZ_CHECK(name, "column %zu has no name", i);
        int j = wg_csv_col(s, name);
        FZ_CHECK(j >= 0 && (size_t)j <= i && strcmp(wg_csv_colname(s, (size_t)j), name) == 0,
                 "wg_csv_col('%.40s') = %d for column %zu", name, j, i);
    }
    FZ_CHECK(!wg_csv_colname(s, ncols), "a name beyond the last column");
    size_t last = 1 + pad_lines, max_line = count_lines(data, size) + pad_lines;
    int clean = 0;
    for (size_t rows = 0; rows < MAX_ROWS; rows++) {
        const char *const *fields = NULL;
        size_t nfields = 0, line = 0;
        rc = wg_csv_next(s, &fields, &nfields, &line);
        if (rc != WG_OK) {
            FZ_CHECK(rc == WG_EDATA || rc == WG_ENOMEM, "wg_csv_next: rc %d", rc);
            FZ_CHECK(!fields && wg_errmsg(g_ctx)[0], "an error without a message or with fields");
            char first[1024];
            snprintf(first, sizeof first, "%s", wg_errmsg(g_ctx));
            if (!strstr(first, " fields, header has ")) { /* a parse error: latched */
                FZ_CHECK(wg_csv_next(s, &fields, &nfields, &line) == rc,
                         "a parse error not replayed");
                FZ_CHECK(strcmp(first, wg_errmsg(g_ctx)) == 0,
                         "a replayed error changed its message");
                break;
            }
            continue; /* a ragged row: the reader goes on */
        }
        if (!fields) {
            clean = 1;
            break;
        }
        FZ_CHECK(nfields == ncols, "%zu fields, header has %zu", nfields, ncols);
        for (size_t i = 0; i < nfields; i++)
            FZ_CHECK(fields[i], "field %zu is NULL", i);
        FZ_CHECK(line > last && line <= max_line, "row line %zu after %zu (file has %zu lines)",
                 line, last, max_line);
        last = line;
    }
    if (clean)
        FZ_CHECK(wg_csv_bytes_read(s) == file_size && wg_csv_bytes_total(s) == file_size,
                 "the reader at its end read %llu of %zu bytes",
                 (unsigned long long)wg_csv_bytes_read(s), file_size);
    wg_csv_close(s);
    return clean;
}

typedef struct issues {
    size_t rejected, repaired;
} issues;

static void on_issue(void *ud, const wg_import_issue *is)
{
    issues *c = ud;
    FZ_CHECK(is->kind && is->kind[0] && is->reason, "an issue without a kind or reason");
    FZ_CHECK(is->is_line, "a CSV issue not located by line");
    if (is->repaired)
        c->repaired++;
    else
        c->rejected++;
}

static long long count_rows(const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_prepare_v2(g_store->db, sql, -1, &st, NULL) != SQLITE_OK)
        fz_fail("cannot count: %s", sql);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void import_checks(uint64_t h)
{
    static const char *const COUNT[] = {
        "SELECT count(*) FROM addresses", "SELECT count(*) FROM events",
        "SELECT count(*) FROM workers", "SELECT count(*) FROM categories"};
    int which = (int)((h >> 20) % 4), skip = (h >> 24) & 1;
    issues c = {0, 0};
    long long before = count_rows(COUNT[which]);
    wg_import_stats st;
    memset(&st, 0, sizeof st);
    wg_point_import_opts o;
    memset(&o, 0, sizeof o);
    o.skip_rejected = skip;
    o.replace = 1;
    o.on_issue = on_issue;
    o.ud = &c;
    int rc;
    size_t n = 0;
    switch (which) {
    case 0:
        rc = wg_import_addresses(g_store, g_file, &o, &st);
        break;
    case 1:
        rc = wg_import_events(g_store, g_file, &o, &st);
        break;
    case 2:
        rc = wg_import_workers(g_store, g_file, &o, &st);
        break;
    default:
        rc = wg_categories_import(g_store, g_file, 1, on_issue, &c, &n);
        st.rejected = c.rejected;
        st.imported = n;
        skip = 0;
        break;
    }
    FZ_CHECK(rc == WG_OK || rc == WG_EDATA, "importer %d: rc %d (%s)", which, rc,
             wg_errmsg(g_store));
    FZ_CHECK(c.rejected == st.rejected, "importer %d: %zu rejections reported, %zu counted", which,
             c.rejected, st.rejected);
    long long after = count_rows(COUNT[which]);
    if (rc == WG_OK) {
        FZ_CHECK(skip || st.rejected == 0, "importer %d: rejected rows but WG_OK", which);
        FZ_CHECK(after == (long long)st.imported, "importer %d: %zu imported, %lld in the store",
                 which, st.imported, after);
    } else {
        FZ_CHECK(after == before,
                 "importer %d: a refused import changed the store (%lld rows, was %lld)", which,
                 after, before);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_ctx) LLVMFuzzerInitialize(NULL, NULL);
    size_t edge = fz_edge(data, size), npad = edge ? FZ_READ_CHUNK - edge : 0;
    static char pad[FZ_READ_CHUNK];
    if (!pad[0]) memset(pad, ' ', sizeof pad);
    if (npad) pad[npad - 1] = '\n';
    fz_write(g_file, pad, npad, data, size);
    if (npad) pad[npad - 1] = ' ';
    walk(data, size, npad ? 1 : 0, npad + size);
    /* the importers read with the same reader: padding would only slow them down */
    if (!npad) import_checks(fz_hash(data, size));
    return 0;
}
