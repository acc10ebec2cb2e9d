/* Streaming CSV reader: a header row, then one data row per call, on top of libcsv.
 *
 * Model. libcsv does all the CSV parsing (RFC 4180 quoting in strict mode, CRLF or LF); it
 * calls back once per field and once per row end. This file only decides where the input is
 * cut before libcsv sees it: the 64 KiB read buffer is fed in pieces that end just after each
 * CR or LF (or at the buffer end). A piece therefore lies on one line and holds at most one row
 * end, at its last byte, so after each piece exactly zero or one row is complete. That gives one
 * row per wg_csv_next without queueing, and line numbers without looking inside the CSV syntax:
 *
 *     line 1  id,addr\n          a piece: the header row starts and ends
 *     line 2  "7","Main St,\n    a piece: a row starts, its quote still open
 *     line 3  Apt 2"\n           a piece: the row ends; it is reported as line 2
 *     line 4  \n                 a piece: blank, skipped
 *     line 5  8,Side St\n        a piece: a row starts and ends
 *
 * A row starts on the first line after the previous row end that holds a byte libcsv does
 * not skip between rows (anything but space, tab, CR, LF); a quoted field may run on over
 * more lines, and the row keeps the line it started on.
 * libcsv trims spaces and tabs around unquoted fields (quote a field to keep them).
 *
 * The fields of the current row are copied, NUL-terminated, into one growing arena, and the
 * field pointers are built when the row ends; they stay valid until the next call.
 */
#include "csv_stream.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Read size: large enough that reads are cheap, small enough that it never matters. */
#define CSV_CHUNK (64 * 1024)
/* Address rows are short: a longer field or a wider row is garbage (a binary file, a missing
 * closing quote swallowing the rest of the file), and refusing it bounds memory. */
#define CSV_MAX_FIELD ((size_t)1 << 20)
#define CSV_MAX_COLS 1024

struct wg_csv_stream {
    wg_ctx *ctx;
    FILE *fp;
    char *name; /* path for messages; "<stdin>" for "-" */
    struct csv_parser parser;
    int parser_ready;   /* csv_init ran: csv_free is due */
    unsigned char *buf; /* CSV_CHUNK bytes; buf[pos..len) not fed yet */
    size_t pos, len;
    int eof;        /* the file has no more bytes beyond buf[len) */
    int finished;   /* csv_fini ran: no more rows */
    uint64_t off;   /* file offset of buf[pos] */
    size_t line;    /* 1-based line of buf[pos] */
    int after_cr;   /* the last piece ended in CR: an LF piece next is the rest of that CRLF */
    uint64_t total; /* file size, 0 if unknown */
    /* the row being assembled */
    char *arena; /* field bytes, each field NUL-terminated */
    size_t arena_len, arena_cap;
    size_t *offs; /* offs[i]: start of field i in arena */
    size_t offs_cap;
    size_t nfields;
    size_t row_line;     /* line the row started on; 0 while no row is in progress */
    int row_done;        /* libcsv reported the row end */
    int cb_rc;           /* first failure inside a libcsv callback */
    const char **fieldv; /* what wg_csv_next hands out */
    size_t fieldv_cap;
    /* the header */
    char *hdr_arena;
    const char **hdr;
    size_t ncols;
    int rc; /* sticky failure: replayed by every later wg_csv_next */
    char errmsg[1024];
};

static const unsigned char utf8_bom[3] = {0xEF, 0xBB, 0xBF};

/* ---- errors -------------------------------------------------------------------------- */

static int fail_at(wg_csv_stream *s, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* WG_EDATA located at a line: "path:line: message". */
static int fail_at(wg_csv_stream *s, size_t line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wg_fail(s->ctx, WG_EDATA, "%s:%zu: %s", s->name, line, msg);
}

static int nomem(wg_csv_stream *s)
{
    return wg_fail(s->ctx, WG_ENOMEM, "%s: out of memory reading CSV", s->name);
}

/* Keeps the failure so later calls report it again, not a confusing follow-on error. */
static int latch(wg_csv_stream *s, int rc)
{
    s->rc = rc;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", wg_errmsg(s->ctx));
    return rc;
}

/* ---- libcsv callbacks ------------------------------------------------------------------ */

/* What libcsv skips before a row begins; also given to libcsv, so the two cannot disagree. */
static int is_csv_space(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static void note_row_start(wg_csv_stream *s)
{
    if (!s->row_line) s->row_line = s->line;
}

static int add_field(wg_csv_stream *s, const char *data, size_t len)
{
    note_row_start(s);
    if (s->nfields == CSV_MAX_COLS)
        return fail_at(s, s->line, "more than %d columns", CSV_MAX_COLS);
    if (len > CSV_MAX_FIELD) return fail_at(s, s->line, "a field is longer than 1 MiB");
    if (len && memchr(data, '\0', len))
        return fail_at(s, s->line, "NUL byte in field %zu", s->nfields + 1);
    if (wg_grow((void **)&s->arena, &s->arena_cap, s->arena_len + len + 1, 1) != WG_OK ||
        wg_grow((void **)&s->offs, &s->offs_cap, s->nfields + 1, sizeof *s->offs) != WG_OK)
        return nomem(s);
    if (len) memcpy(s->arena + s->arena_len, data, len);
    s->arena[s->arena_len + len] = '\0';
    s->offs[s->nfields++] = s->arena_len;
    s->arena_len += len + 1;
    return WG_OK;
}

static void on_field(void *data, size_t len, void *user)
{
    wg_csv_stream *s = user;
    if (s->cb_rc == WG_OK) s->cb_rc = add_field(s, data, len);
}

static void on_row(int terminator, void *user)
{
    wg_csv_stream *s = user;
    (void)terminator;
    if (s->cb_rc != WG_OK) return;
    note_row_start(s);
    s->row_done = 1;
}

/* ---- feeding libcsv -------------------------------------------------------------------- */

/* Reads the next buffer-full; the first one loses its UTF-8 BOM (Excel writes one). */
static int refill(wg_csv_stream *s)
{
    s->pos = 0;
    s->len = fread(s->buf, 1, CSV_CHUNK, s->fp);
    if (s->len < CSV_CHUNK) {
        if (ferror(s->fp))
            return wg_fail(s->ctx, WG_EIO, "%s: read error after byte %" PRIu64 ": %s", s->name,
                           s->off, strerror(errno));
        s->eof = 1;
    }
    if (s->off == 0 && s->len >= 3 && memcmp(s->buf, utf8_bom, 3) == 0) {
        s->pos = 3;
        s->off = 3;
    }
    return WG_OK;
}

/* Length of the piece at p: up to and including the first CR or LF, else all n bytes. */
static size_t piece_len(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n' || p[i] == '\r') return i + 1;
    return n;
}

/* Whether a piece fed between rows begins a row: libcsv skips only spaces and terminators. */
static int starts_row(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_csv_space(p[i]) && p[i] != '\n' && p[i] != '\r') return 1;
    return 0;
}

static int feed_piece(wg_csv_stream *s)
{
    const unsigned char *p = s->buf + s->pos;
    size_t n = piece_len(p, s->len - s->pos);
    if (!s->row_line && starts_row(p, n)) s->row_line = s->line;
    size_t done = csv_parse(&s->parser, p, n, on_field, on_row, s);
    if (s->cb_rc != WG_OK) return s->cb_rc;
    if (done != n) {
        int err = csv_error(&s->parser);
        if (err == CSV_ENOMEM || err == CSV_ETOOBIG) return nomem(s);
        return fail_at(s, s->line, "malformed CSV (libcsv: %s)", csv_strerror(err));
    }
    /* libcsv grows a field until it ends; checking here bounds it to the limit plus a piece. */
    if (s->parser.entry_pos > CSV_MAX_FIELD)
        return fail_at(s, s->line, "a field is longer than 1 MiB");
    s->pos += n;
    s->off += n;
    /* CR, LF and CRLF each end a line, as each ends a row for libcsv (a lone CR too: found by
     * tests/fuzz/fuzz_csv, rows after one were all reported on the line before it) */
    if (p[n - 1] == '\r' || (p[n - 1] == '\n' && !(n == 1 && s->after_cr))) s->line++;
    s->after_cr = p[n - 1] == '\r';
    return WG_OK;
}

/* End of input: libcsv hands over a last row that had no line end, or an open quote. */
static int finish(wg_csv_stream *s)
{
    s->finished = 1;
    int r = csv_fini(&s->parser, on_field, on_row, s);
    if (s->cb_rc != WG_OK) return s->cb_rc;
    if (r != 0)
        return fail_at(s, s->row_line ? s->row_line : s->line,
                       "unexpected end of input: a quoted field is never closed");
    return WG_OK;
}

static int advance(wg_csv_stream *s)
{
    if (s->pos < s->len) return feed_piece(s);
    if (!s->eof) return refill(s);
    return finish(s);
}

/* Points fieldv at the fields of the finished row. */
static int index_fields(wg_csv_stream *s)
{
    if (wg_grow((void **)&s->fieldv, &s->fieldv_cap, s->nfields, sizeof *s->fieldv) != WG_OK)
        return nomem(s);
    for (size_t i = 0; i < s->nfields; i++)
        s->fieldv[i] = s->arena + s->offs[i];
    return WG_OK;
}

/* Assembles the next row; *got = 0 at end of input. */
static int read_row(wg_csv_stream *s, int *got)
{
    *got = 0;
    s->nfields = 0;
    s->arena_len = 0;
    s->row_line = 0;
    s->row_done = 0;
    while (!s->row_done && !s->finished) {
        int rc = advance(s);
        if (rc != WG_OK) return rc;
    }
    if (!s->row_done) return WG_OK;
    *got = 1;
    return index_fields(s);
}

/* ---- public interface ------------------------------------------------------------------ */

void wg_csv_close(wg_csv_stream *s)
{
    if (!s) return;
    if (s->fp && s->fp != stdin) fclose(s->fp);
    if (s->parser_ready) csv_free(&s->parser);
    free(s->buf);
    free(s->arena);
    free(s->offs);
    free(s->fieldv);
    free(s->hdr_arena);
    free(s->hdr);
    free(s->name);
    free(s);
}

static int open_file(wg_csv_stream *s, const char *path)
{
    return wg_open_input(s->ctx, path, &s->fp, &s->total);
}

static int read_header(wg_csv_stream *s)
{
    int got;
    int rc = read_row(s, &got);
    if (rc != WG_OK) return rc;
    if (!got) return wg_fail(s->ctx, WG_EDATA, "%s: empty file: no header row", s->name);
    s->hdr_arena = malloc(s->arena_len);
    s->hdr = malloc(s->nfields * sizeof *s->hdr);
    if (!s->hdr_arena || !s->hdr) return nomem(s);
    memcpy(s->hdr_arena, s->arena, s->arena_len);
    for (size_t i = 0; i < s->nfields; i++)
        s->hdr[i] = s->hdr_arena + s->offs[i];
    s->ncols = s->nfields;
    return WG_OK;
}

int wg_csv_open(wg_ctx *ctx, const char *path, wg_csv_stream **out)
{
    *out = NULL;
    wg_csv_stream *s = calloc(1, sizeof *s);
    if (!s) return wg_fail(ctx, WG_ENOMEM, "out of memory opening %s", path);
    s->ctx = ctx;
    s->line = 1;
    s->name = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
    s->buf = malloc(CSV_CHUNK);
    int rc = s->name && s->buf ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory opening %s", path);
    /* Strict: a stray quote is an error, not silently kept; so is a quote open at the end. */
    if (rc == WG_OK && csv_init(&s->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory opening %s", path);
    if (rc == WG_OK) {
        s->parser_ready = 1;
        csv_set_space_func(&s->parser, is_csv_space);
        /* libcsv grows a field buffer linearly by this step; its default (128 bytes) turns a
         * 1 MiB field into 8192 reallocs. */
        csv_set_blk_size(&s->parser, CSV_CHUNK);
        rc = open_file(s, path);
    }
    if (rc == WG_OK) rc = read_header(s);
    if (rc != WG_OK) {
        wg_csv_close(s);
        return rc;
    }
    *out = s;
    return WG_OK;
}

size_t wg_csv_ncols(const wg_csv_stream *s)
{
    return s->ncols;
}

const char *wg_csv_colname(const wg_csv_stream *s, size_t i)
{
    return i < s->ncols ? s->hdr[i] : NULL;
}

int wg_csv_col(const wg_csv_stream *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->hdr[i], name) == 0) return (int)i;
    for (size_t i = 0; i < s->ncols; i++)
        if (strcasecmp(s->hdr[i], name) == 0) return (int)i;
    return -1;
}

int wg_csv_next(wg_csv_stream *s, const char *const **fields_out, size_t *nfields_out,
                size_t *line_out)
{
    *fields_out = NULL;
    *nfields_out = 0;
    *line_out = 0;
    if (s->rc != WG_OK) return wg_fail(s->ctx, s->rc, "%s", s->errmsg);
    int got;
    int rc = read_row(s, &got);
    if (rc != WG_OK) return latch(s, rc);
    if (!got) return WG_OK;
    /* Not latched: the parser is intact, so a caller may report the row and read on. */
    if (s->nfields != s->ncols)
        return fail_at(s, s->row_line, "%zu fields, header has %zu", s->nfields, s->ncols);
    *fields_out = (const char *const *)s->fieldv;
    *nfields_out = s->nfields;
    *line_out = s->row_line;
    return WG_OK;
}

uint64_t wg_csv_bytes_read(const wg_csv_stream *s)
{
    return s->off;
}

uint64_t wg_csv_bytes_total(const wg_csv_stream *s)
{
    return s->total;
}
