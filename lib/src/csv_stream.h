/* Streaming CSV reader over libcsv: a header row, then data rows one at a time.
 * The model (how input is cut before libcsv sees it, how lines are counted) is at the top of
 * csv_stream.c. */
#ifndef WANGGE_CSV_STREAM_H
#define WANGGE_CSV_STREAM_H

#include "internal.h"

typedef struct wg_csv_stream wg_csv_stream;

/* Opens path ("-" = stdin) and reads its header row. Strips a UTF-8 BOM. Comma delimiter,
 * RFC 4180 quotes, CRLF or LF. WG_EIO if the file can't be opened; WG_EDATA if it has no
 * header row. On success *out is a stream the caller closes with wg_csv_close(); on failure
 * NULL. */
int wg_csv_open(wg_ctx *ctx, const char *path, wg_csv_stream **out);

/* Number of columns of the header. */
size_t wg_csv_ncols(const wg_csv_stream *s);
/* Name of column i (owned by s, valid until wg_csv_close), NULL if i >= ncols. */
const char *wg_csv_colname(const wg_csv_stream *s, size_t i);
/* Column index of name: exact match first, then case-insensitive (ASCII); -1 if absent. */
int wg_csv_col(const wg_csv_stream *s, const char *name);

/* Next data row. *fields_out points to nfields NUL-terminated strings (owned by s) valid until
 * the next call; NULL at end (rc WG_OK). *line_out = 1-based line number in the file where the
 * row started (header is line 1). Blank lines are skipped. A row with a different number of
 * fields than the header -> WG_EDATA "path:line: N fields, header has M". Parse errors ->
 * WG_EDATA naming path and line; after a parse error further calls return the same error,
 * while after a ragged row the caller may go on to the next row. */
int wg_csv_next(wg_csv_stream *s, const char *const **fields_out, size_t *nfields_out,
                size_t *line_out);

/* Bytes consumed so far, for progress bars (equals the file size at the end). */
uint64_t wg_csv_bytes_read(const wg_csv_stream *s);
/* File size, 0 if unknown (stdin, a pipe). */
uint64_t wg_csv_bytes_total(const wg_csv_stream *s);
/* Closes the file (never stdin) and frees the stream. NULL is a no-op. */
void wg_csv_close(wg_csv_stream *s);

#endif
