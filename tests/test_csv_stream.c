/* Tests for the streaming CSV reader (lib/src/csv_stream.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv_stream.h"
#include "testutil.h"

#define MAX_ROWS 8
#define MAX_COLS 4

/* The outcome of reading a whole CSV text: header, rows (their fields joined with '|') and
 * line numbers, and the rc and message of the call that stopped the reading. */
struct run {
    int open_rc, rc;
    size_t ncols;
    char cols[MAX_COLS][32];
    size_t n;
    char rows[MAX_ROWS][256];
    size_t lines[MAX_ROWS];
    char msg[1024];
};

static void join(char *out, size_t cap, const char *const *f, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%s", i ? "|" : "", f[i]);
}

static void run_path(const char *path, struct run *r)
{
    memset(r, 0, sizeof *r);
    wg_ctx *ctx = wg_ctx_new();
    assert_non_null(ctx);
    wg_csv_stream *s = (wg_csv_stream *)1;
    r->rc = r->open_rc = wg_csv_open(ctx, path, &s);
    if (r->open_rc != WG_OK) assert_null(s);
    if (r->open_rc == WG_OK) {
        r->ncols = wg_csv_ncols(s);
        for (size_t i = 0; i < r->ncols && i < MAX_COLS; i++)
            snprintf(r->cols[i], sizeof r->cols[i], "%s", wg_csv_colname(s, i));
        assert_null(wg_csv_colname(s, r->ncols));
    }
    while (r->rc == WG_OK) {
        const char *const *f = NULL;
        size_t nf = 99, line = 99;
        r->rc = wg_csv_next(s, &f, &nf, &line);
        if (r->rc != WG_OK || !f) {
            assert_null(f);
            assert_int_equal(nf, 0);
            assert_int_equal(line, 0);
            break;
        }
        assert_int_equal(nf, r->ncols);
        if (r->n < MAX_ROWS) {
            join(r->rows[r->n], sizeof r->rows[r->n], f, nf);
            r->lines[r->n] = line;
        }
        r->n++;
    }
    snprintf(r->msg, sizeof r->msg, "%s", wg_errmsg(ctx));
    if (r->open_rc == WG_OK) wg_csv_close(s);
    wg_ctx_free(ctx);
}

static void run_text(const char *text, struct run *r)
{
    char *path = tu_write_temp(text);
    assert_non_null(path);
    run_path(path, r);
    tu_remove_temp(path);
}

static void test_header_and_rows(void **state)
{
    (void)state;
    struct run r;
    run_text("id,name,addr\n1,东城,x st\n2,b,\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.ncols, 3);
    assert_string_equal(r.cols[0], "id");
    assert_string_equal(r.cols[1], "name");
    assert_string_equal(r.cols[2], "addr");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.rows[0], "1|东城|x st");
    assert_string_equal(r.rows[1], "2|b|");
    assert_int_equal(r.lines[0], 2);
    assert_int_equal(r.lines[1], 3);

    /* No final newline; a header only. */
    run_text("a,b\n1,2", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.rows[0], "1|2");
    run_text("a,b", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.ncols, 2);
    assert_int_equal(r.n, 0);
}

static void test_bom(void **state)
{
    (void)state;
    struct run r;
    run_text("\xEF\xBB\xBFid,name\n1,a\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_string_equal(r.cols[0], "id");
    assert_int_equal(r.n, 1);
    assert_int_equal(r.lines[0], 2);
    /* A BOM alone is an empty file. */
    run_text("\xEF\xBB\xBF", &r);
    assert_int_equal(r.open_rc, WG_EDATA);
}

static void test_quotes_and_line_numbers(void **state)
{
    (void)state;
    struct run r;
    run_text("id,addr,note\n"
             "1,\"a, b\",\"he said \"\"hi\"\"\"\n"
             "2,\"multi\nline\nfield\",z\n"
             "3,\"\",\"x\"\n"
             "\"4\nstarts here\",q,r\n",
             &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.rows[0], "1|a, b|he said \"hi\"");
    assert_int_equal(r.lines[0], 2);
    assert_string_equal(r.rows[1], "2|multi\nline\nfield|z");
    assert_int_equal(r.lines[1], 3);
    assert_string_equal(r.rows[2], "3||x");
    assert_int_equal(r.lines[2], 6);
    assert_string_equal(r.rows[3], "4\nstarts here|q|r");
    assert_int_equal(r.lines[3], 7);
}

static void test_crlf(void **state)
{
    (void)state;
    struct run r;
    run_text("id,name\r\n1,a\r\n\r\n2,\"b\r\nc\"\r\n3,d\r\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_string_equal(r.cols[1], "name");
    assert_int_equal(r.n, 3);
    assert_string_equal(r.rows[0], "1|a");
    assert_int_equal(r.lines[0], 2);
    assert_string_equal(r.rows[1], "2|b\r\nc");
    assert_int_equal(r.lines[1], 4);
    assert_string_equal(r.rows[2], "3|d");
    assert_int_equal(r.lines[2], 6);
}

static void test_blank_lines(void **state)
{
    (void)state;
    struct run r;
    run_text("\n\na,b\n\n1,2\n\r\n   \n\t\n3,4\n\n\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_string_equal(r.cols[0], "a");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.rows[0], "1|2");
    assert_int_equal(r.lines[0], 5);
    assert_string_equal(r.rows[1], "3|4");
    assert_int_equal(r.lines[1], 9);
    /* Unquoted fields lose surrounding blanks; quoted ones keep them. */
    run_text("a , b\n 1 ,\" 2 \"\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_string_equal(r.cols[0], "a");
    assert_string_equal(r.cols[1], "b");
    assert_string_equal(r.rows[0], "1| 2 ");
}

static void test_ragged_row(void **state)
{
    (void)state;
    char *path = tu_write_temp("a,b\n1,2\n\n3\n4,5\n6,7,8\n");
    wg_ctx *ctx = wg_ctx_new();
    wg_csv_stream *s = NULL;
    assert_int_equal(wg_csv_open(ctx, path, &s), WG_OK);
    const char *const *f;
    size_t nf, line;
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_OK);
    assert_int_equal(line, 2);
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_EDATA);
    assert_null(f);
    char want[512];
    snprintf(want, sizeof want, "%s:4: 1 fields, header has 2", path);
    assert_string_equal(wg_errmsg(ctx), want);
    /* The parser is intact: reading goes on with the next row. */
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_OK);
    assert_int_equal(line, 5);
    assert_string_equal(f[1], "5");
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_EDATA);
    snprintf(want, sizeof want, "%s:6: 3 fields, header has 2", path);
    assert_string_equal(wg_errmsg(ctx), want);
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_OK);
    assert_null(f);
    wg_csv_close(s);
    wg_csv_close(NULL);
    wg_ctx_free(ctx);
    tu_remove_temp(path);
}

static void test_column_lookup(void **state)
{
    (void)state;
    char *path = tu_write_temp("ID,Name,name,Addr\n");
    wg_ctx *ctx = wg_ctx_new();
    wg_csv_stream *s = NULL;
    assert_int_equal(wg_csv_open(ctx, path, &s), WG_OK);
    assert_int_equal(wg_csv_ncols(s), 4);
    assert_int_equal(wg_csv_col(s, "ID"), 0);
    assert_int_equal(wg_csv_col(s, "id"), 0);
    assert_int_equal(wg_csv_col(s, "name"), 2); /* exact beats case-insensitive */
    assert_int_equal(wg_csv_col(s, "Name"), 1);
    assert_int_equal(wg_csv_col(s, "NAME"), 1); /* first case-insensitive match */
    assert_int_equal(wg_csv_col(s, "aDDr"), 3);
    assert_int_equal(wg_csv_col(s, "addr2"), -1);
    assert_int_equal(wg_csv_col(s, ""), -1);
    wg_csv_close(s);
    wg_ctx_free(ctx);
    tu_remove_temp(path);
}

static void test_empty_and_missing(void **state)
{
    (void)state;
    struct run r;
    run_text("", &r);
    assert_int_equal(r.open_rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "no header"));
    run_text("\n\r\n \n", &r);
    assert_int_equal(r.open_rc, WG_EDATA);

    wg_ctx *ctx = wg_ctx_new();
    wg_csv_stream *s = (wg_csv_stream *)1;
    assert_int_equal(wg_csv_open(ctx, "/nonexistent/dir/a.csv", &s), WG_EIO);
    assert_null(s);
    assert_non_null(strstr(wg_errmsg(ctx), "/nonexistent/dir/a.csv"));
    wg_ctx_free(ctx);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct run r;
    /* A stray quote inside an unquoted field, on line 3; the error stays. */
    char *path = tu_write_temp("a,b\n1,2\n3,x\"y\n4,5\n");
    wg_ctx *ctx = wg_ctx_new();
    wg_csv_stream *s = NULL;
    assert_int_equal(wg_csv_open(ctx, path, &s), WG_OK);
    const char *const *f;
    size_t nf, line;
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_OK);
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_EDATA);
    char want[512];
    snprintf(want, sizeof want, "%s:3: malformed CSV", path);
    assert_non_null(strstr(wg_errmsg(ctx), want));
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_EDATA);
    assert_non_null(strstr(wg_errmsg(ctx), want));
    wg_csv_close(s);
    wg_ctx_free(ctx);
    tu_remove_temp(path);

    /* Text after a closing quote. */
    run_text("a,b\n\"1\"x,2\n", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.msg, ":2: malformed CSV"));

    /* A quote never closed: named by the line where its row starts. */
    run_text("a,b\n1,2\n3,\"open\nmore\nand more\n", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, ":3: unexpected end of input"));

    /* A NUL byte in a field. */
    static const char nul[] = "a,b\n1,x\0y\n";
    path = tu_write_temp_bytes(nul, sizeof nul - 1);
    run_path(path, &r);
    tu_remove_temp(path);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, ":2: NUL byte in field 2"));
}

static void test_limits(void **state)
{
    (void)state;
    struct run r;
    /* 1025 columns in the header. */
    char *wide = malloc(1025 * 2 + 2);
    for (int i = 0; i < 1025; i++)
        memcpy(wide + 2 * i, "x,", 2);
    strcpy(wide + 2 * 1024, "x\n");
    run_text(wide, &r);
    assert_int_equal(r.open_rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "more than 1024 columns"));
    /* 1024 are fine. */
    wide[2 * 1023 + 1] = '\n';
    wide[2 * 1023 + 2] = '\0';
    run_text(wide, &r);
    assert_int_equal(r.open_rc, WG_OK);
    assert_int_equal(r.ncols, 1024);
    free(wide);

    /* A field just over 1 MiB, unquoted and quoted (the quoted one never closed). */
    size_t big = ((size_t)1 << 20) + 1;
    char *t = malloc(big + 64);
    for (int quoted = 0; quoted < 2; quoted++) {
        size_t k = (size_t)sprintf(t, "a,b\n1,%s", quoted ? "\"" : "");
        memset(t + k, 'z', big);
        strcpy(t + k + big, "\n");
        run_text(t, &r);
        assert_int_equal(r.rc, WG_EDATA);
        assert_int_equal(r.n, 0);
        assert_non_null(strstr(r.msg, ":2: a field is longer than 1 MiB"));
    }
    /* Exactly 1 MiB is fine. */
    size_t k = (size_t)sprintf(t, "a,b\n1,");
    memset(t + k, 'z', big - 1);
    strcpy(t + k + big - 1, "\n");
    run_text(t, &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 1);
    free(t);
}

/* Rows with 100 KiB quoted fields holding newlines, so rows and line ends straddle the 64 KiB
 * buffer edge; line numbers and contents must survive. */
static void test_chunk_boundaries(void **state)
{
    (void)state;
    enum { NROWS = 40, FIELD = 100 * 1024 + 17 };
    char *path = tu_write_temp("");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    char *field = malloc(FIELD + 1);
    for (size_t i = 0; i < FIELD; i++)
        field[i] = i % 1000 == 999 ? '\n' : (char)('a' + i % 26);
    field[FIELD] = '\0';
    fputs("\xEF\xBB\xBFid,text,tail\r\n", fp);
    for (int r = 0; r < NROWS; r++)
        fprintf(fp, "%d,\"%.*s\",t%d\r\n", r, FIELD - r * 97, field, r);
    fclose(fp);

    wg_ctx *ctx = wg_ctx_new();
    wg_csv_stream *s = NULL;
    assert_int_equal(wg_csv_open(ctx, path, &s), WG_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(wg_csv_bytes_total(s), (uint64_t)st.st_size);
    assert_int_equal(wg_csv_col(s, "tail"), 2);
    size_t want_line = 2;
    for (int r = 0; r < NROWS; r++) {
        const char *const *f;
        size_t nf, line;
        int rc = wg_csv_next(s, &f, &nf, &line);
        if (rc != WG_OK) fail_msg("row %d: %s", r, wg_errmsg(ctx));
        assert_non_null(f);
        assert_int_equal(nf, 3);
        assert_int_equal(line, want_line);
        assert_int_equal(atoi(f[0]), r);
        size_t len = FIELD - (size_t)r * 97;
        assert_int_equal(strlen(f[1]), len);
        assert_memory_equal(f[1], field, len);
        char tail[16];
        snprintf(tail, sizeof tail, "t%d", r);
        assert_string_equal(f[2], tail);
        for (size_t i = 0; i < len; i++)
            want_line += field[i] == '\n';
        want_line++;
    }
    const char *const *f;
    size_t nf, line;
    assert_int_equal(wg_csv_next(s, &f, &nf, &line), WG_OK);
    assert_null(f);
    assert_int_equal(wg_csv_bytes_read(s), (uint64_t)st.st_size);
    free(field);
    wg_csv_close(s);
    wg_ctx_free(ctx);
    tu_remove_temp(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_and_rows),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_quotes_and_line_numbers),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_ragged_row),
        cmocka_unit_test(test_column_lookup),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_chunk_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
