/* Tests for the streaming GeoJSON reader (lib/src/geojson_stream.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "geojson_stream.h"
#include "testutil.h"

#define MAX_KEPT 8

/* The outcome of reading a whole input: how many features came, the first few of them, and
 * the rc and message of the call that stopped the reading. */
struct run {
    int rc;
    size_t n;
    json_object *f[MAX_KEPT];
    char msg[1024];
    char *path;
};

/* Reads every feature of the file at path, checking the indexes count up from 0. */
static void run_path(const char *path, struct run *r)
{
    memset(r, 0, sizeof *r);
    wg_ctx *ctx = wg_ctx_new();
    assert_non_null(ctx);
    wg_geojson_stream *s = NULL;
    r->rc = wg_geojson_open(ctx, path, &s);
    for (; r->rc == WG_OK;) {
        json_object *f = (json_object *)1;
        size_t idx = 99;
        r->rc = wg_geojson_next(s, &f, &idx);
        if (r->rc != WG_OK) {
            assert_null(f);
            break;
        }
        if (!f) break;
        assert_int_equal(idx, r->n);
        if (r->n < MAX_KEPT)
            r->f[r->n] = f;
        else
            json_object_put(f);
        r->n++;
    }
    snprintf(r->msg, sizeof r->msg, "%s", wg_errmsg(ctx));
    wg_geojson_close(s);
    wg_ctx_free(ctx);
}

static void run_text(const char *text, struct run *r)
{
    char *path = tu_write_temp(text);
    assert_non_null(path);
    run_path(path, r);
    tu_remove_temp(path);
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < MAX_KEPT; i++)
        json_object_put(r->f[i]);
    memset(r->f, 0, sizeof r->f);
}

/* The value at a path of object keys, e.g. get(f, "properties", "name", NULL). */
static json_object *get(json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    for (const char *k = va_arg(ap, const char *); k && o; k = va_arg(ap, const char *))
        if (!json_object_object_get_ex(o, k, &o)) o = NULL;
    va_end(ap);
    return o;
}

static const char *prop_str(json_object *f, const char *key)
{
    json_object *v = get(f, "properties", key, NULL);
    assert_non_null(v);
    return json_object_get_string(v);
}

static int64_t prop_int(json_object *f, const char *key)
{
    json_object *v = get(f, "properties", key, NULL);
    assert_non_null(v);
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

/* A Feature literal with the given properties object. */
#define F(props) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":null}"

/* ---- FeatureCollections ----------------------------------------------------------------- */

static void test_fc_features_first_and_odd_members(void **state)
{
    (void)state;
    struct run r;
    run_text(
        "{\"features\":[\n"
        " {\"type\":\"Feature\",\"id\":1,\"geometry\":{\"type\":\"Point\",\"coordinates\":"
        "[116.4,39.9]},\"properties\":{\"name\":\"东城\",\"nested\":{\"a\":[1,{\"b\":\"deep\"}]}}},"
        "\n"
        " {\"properties\":{\"name\":\"西城\",\"features\":[1,2]},\"type\":\"Feature\",\"geometry\":"
        "null}\n"
        "],\n"
        "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}},\n"
        "\"bbox\":[116,39,117,40],\n"
        "\"type\":\"FeatureCollection\",\n"
        "\"name\":{\"deep\":{\"er\":[[[]]]}}}\n",
        &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(prop_str(r.f[0], "name"), "东城");
    json_object *a = get(r.f[0], "properties", "nested", "a", NULL);
    assert_non_null(a);
    assert_string_equal(json_object_get_string(get(json_object_array_get_idx(a, 1), "b", NULL)),
                        "deep");
    json_object *coords = get(r.f[0], "geometry", "coordinates", NULL);
    assert_non_null(coords);
    assert_true(json_object_get_double(json_object_array_get_idx(coords, 0)) == 116.4);
    assert_int_equal(json_object_get_int(get(r.f[0], "id", NULL)), 1);
    assert_string_equal(prop_str(r.f[1], "name"), "西城");
    assert_int_equal(json_object_array_length(get(r.f[1], "properties", "features", NULL)), 2);
    run_free(&r);
}

static void test_fc_members_before_features(void **state)
{
    (void)state;
    struct run r;
    run_text("{\n\t\"type\" : \"FeatureCollection\" ,\n"
             "\t\"name\": \"grids\",\n"
             "\t\"crs\": { \"type\": \"name\", \"properties\": { \"name\": \"EPSG:4326\" } },\n"
             "\t\"bbox\": [0, 0, 1, 1],\n"
             "\t\"features\" :\n\t[\n"
             "\t\t{ \"type\": \"Feature\", \"properties\": { \"k\": \"v1\", \"n\": 10 } } ,\n"
             "\t\t{ \"type\": \"Feature\", \"properties\": { \"k\": \"v2\", \"n\": -3 } }\n"
             "\t]\n}\n",
             &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(prop_str(r.f[0], "k"), "v1");
    assert_int_equal(prop_int(r.f[0], "n"), 10);
    assert_string_equal(prop_str(r.f[1], "k"), "v2");
    assert_int_equal(prop_int(r.f[1], "n"), -3);
    run_free(&r);
}

static void test_fc_empty(void **state)
{
    (void)state;
    struct run r;
    run_text("{\"type\":\"FeatureCollection\",\"features\":[]}", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 0);
    run_text("\xEF\xBB\xBF  {\n \"features\" : [ \n ] ,\"type\":\"FeatureCollection\" }\n\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 0);
}

static void test_end_is_repeatable(void **state)
{
    (void)state;
    char *path = tu_write_temp("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") "]}");
    wg_ctx *ctx = wg_ctx_new();
    wg_geojson_stream *s = NULL;
    assert_int_equal(wg_geojson_open(ctx, path, &s), WG_OK);
    json_object *f = NULL;
    size_t idx = 7;
    assert_int_equal(wg_geojson_next(s, &f, &idx), WG_OK);
    assert_non_null(f);
    assert_int_equal(idx, 0);
    json_object_put(f);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(wg_geojson_next(s, &f, &idx), WG_OK);
        assert_null(f);
    }
    wg_geojson_close(s);
    wg_geojson_close(NULL);
    wg_ctx_free(ctx);
    tu_remove_temp(path);
}

/* ---- sequences and single features ------------------------------------------------------ */

static void test_ndjson(void **state)
{
    (void)state;
    struct run r;
    run_text(F("{\"i\":0}") "\n" F("{\"i\":1}") "\n\n" F("{\"i\":2}"), &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(prop_int(r.f[i], "i"), i);
    run_free(&r);

    /* RFC 8142: each record preceded by 0x1E; CRLF line ends. */
    run_text("\x1e" F("{\"i\":5}") "\r\n\x1e" F("{\"i\":6}") "\r\n", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(prop_int(r.f[0], "i"), 5);
    assert_int_equal(prop_int(r.f[1], "i"), 6);
    run_free(&r);

    /* Several objects on one line, no separator at all. */
    run_text(F("{\"i\":1}") F("{\"i\":2}") F("{\"i\":3}"), &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(prop_int(r.f[2], "i"), 3);
    run_free(&r);
}

static void test_single_feature(void **state)
{
    (void)state;
    struct run r;
    run_text("{\"properties\":{\"a\":7,\"features\":\"not special here\"},\n"
             " \"geometry\":{\"type\":\"Point\",\"coordinates\":[1.5,2.5]},\"type\":\"Feature\"}\n",
             &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(prop_int(r.f[0], "a"), 7);
    assert_string_equal(json_object_get_string(get(r.f[0], "geometry", "type", NULL)), "Point");
    assert_string_equal(json_object_get_string(get(r.f[0], "type", NULL)), "Feature");
    run_free(&r);

    /* "type":"Feature" first: a later "features" member is a foreign member, kept. */
    run_text("\xEF\xBB\xBF{\"type\":\"Feature\",\"features\":[1],\"properties\":{\"a\":8}}", &r);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(prop_int(r.f[0], "a"), 8);
    assert_non_null(get(r.f[0], "features", NULL));
    run_free(&r);
}

/* ---- bad input -------------------------------------------------------------------------- */

static void test_truncated(void **state)
{
    (void)state;
    struct run r;
    /* EOF inside a feature. */
    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{\"a\":1}") ",{\"type\":\"Feat",
             &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "unexpected end of input inside feature 1"));
    run_free(&r);
    /* EOF before the closing ']' and '}'. */
    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") "\n", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "\"features\" array is not closed"));
    run_free(&r);
    /* EOF before the closing '}'. */
    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") "]", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "top-level object is not closed"));
    run_free(&r);
    /* EOF inside a single Feature. */
    run_text("{\"type\":\"Feature\",\"properties\":{\"a\":", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
    /* Nothing at all. */
    run_text("", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "empty"));
    run_text(" \n\t\n", &r);
    assert_int_equal(r.rc, WG_EDATA);
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    char *path = tu_write_temp(
        "{\"type\":\"FeatureCollection\",\"features\":[" F("{}") ", oops, " F("{}") "]}");
    wg_ctx *ctx = wg_ctx_new();
    wg_geojson_stream *s = NULL;
    assert_int_equal(wg_geojson_open(ctx, path, &s), WG_OK);
    json_object *f = NULL;
    size_t idx;
    assert_int_equal(wg_geojson_next(s, &f, &idx), WG_OK);
    json_object_put(f);
    assert_int_equal(wg_geojson_next(s, &f, &idx), WG_EDATA);
    assert_null(f);
    char first[1024];
    snprintf(first, sizeof first, "%s", wg_errmsg(ctx));
    assert_non_null(strstr(first, "feature 1"));
    assert_non_null(strstr(first, path));
    wg_fail(ctx, WG_EIO, "something else");
    assert_int_equal(wg_geojson_next(s, &f, &idx), WG_EDATA);
    assert_null(f);
    assert_string_equal(wg_errmsg(ctx), first);
    wg_geojson_close(s);
    wg_ctx_free(ctx);
    tu_remove_temp(path);
}

static void test_garbage_between_features(void **state)
{
    (void)state;
    struct run r;
    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") " xyz, " F("{}") "]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "expected ',' or ']' after feature 0"));
    run_free(&r);

    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") ",," F("{}") "]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    run_free(&r);

    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") ",]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "expected feature 1 after ','"));
    run_free(&r);

    /* Sequence: line 3 is garbage; the message gives path, line, byte and json-c's text. */
    const char *text = F("{}") "\n" F("{}") "\nxyz\n" F("{}") "\n";
    char *path = tu_write_temp(text);
    run_path(path, &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 2);
    char want[256];
    snprintf(want, sizeof want, "%s: line 3, byte %zu: invalid JSON in feature 2 (json-c: ", path,
             (size_t)(strstr(text, "xyz") - text));
    assert_non_null(strstr(r.msg, want));
    assert_non_null(strstr(r.msg, "unexpected character"));
    run_free(&r);
    tu_remove_temp(path);

    /* Anything after the FeatureCollection. */
    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") "]}\n{\"a\":1}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "after the FeatureCollection"));
    run_free(&r);

    /* JSON comments are not JSON: strict parsing refuses them. */
    run_text("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\" /* c */}]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
}

static void test_non_object_feature(void **state)
{
    (void)state;
    struct run r;
    run_text("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") ", 42, " F("{}") "]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "feature 1 is not a JSON object"));
    run_free(&r);

    run_text("{\"type\":\"FeatureCollection\",\"features\":[null]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.msg, "feature 0 is not a JSON object"));

    run_text("{\"type\":\"FeatureCollection\",\"features\":[[1,2]]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "feature 0 is not a JSON object"));

    /* A sequence ending in a bare number (no newline: ended by end of input). */
    run_text(F("{}") "\n42", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "feature 1 is not a JSON object"));
    run_free(&r);
}

static void test_wrong_top_level(void **state)
{
    (void)state;
    struct run r;
    run_text("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.msg, "\"Polygon\""));

    run_text("{\"features\":[],\"type\":\"Polygon\"}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "\"Polygon\""));

    run_text("{\"features\":[" F("{}") "],\"type\":\"Feature\"}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    run_free(&r);

    run_text("{\"type\":\"FeatureCollection\",\"name\":\"no features\"}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "no \"features\""));

    run_text("{\"properties\":{}}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "no \"type\""));

    run_text("{\"type\":7}", &r);
    assert_int_equal(r.rc, WG_EDATA);

    run_text("{\"type\":\"FeatureCollection\",\"features\":{}}", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "not an array"));

    run_text("[" F("{}") "]", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_non_null(strstr(r.msg, "not a JSON object"));

    /* A sequence whose second record is a bare geometry. */
    run_text(F("{}") "\n{\"type\":\"Point\",\"coordinates\":[0,0]}\n", &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "record 1 of the GeoJSON sequence is not a Feature"));
    run_free(&r);
}

/* A feature whose "p" property is nested depth arrays deep: [[[...]]]. */
static char *nested_feature(int depth)
{
    size_t n = 64 + 2 * (size_t)depth;
    char *t = malloc(n);
    assert_non_null(t);
    size_t k = (size_t)snprintf(t, n, "{\"type\":\"Feature\",\"properties\":{\"p\":");
    for (int i = 0; i < depth; i++)
        t[k++] = '[';
    for (int i = 0; i < depth; i++)
        t[k++] = ']';
    snprintf(t + k, n - k, "}}");
    return t;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    struct run r;
    char *ok = nested_feature(40);
    run_text(ok, &r);
    free(ok);
    assert_int_equal(r.rc, WG_OK);
    assert_int_equal(r.n, 1);
    run_free(&r);

    char *deep = nested_feature(100000);
    run_text(deep, &r);
    free(deep);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(r.msg, "nesting too deep"));
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct run r;
    run_text("{\"type\":\"FeatureCollection\",\"features\":[\n"
             "{\"type\":\"Feature\",\"properties\":{\"n\":\"ok\"}},\n"
             "{\"type\":\"Feature\",\"properties\":{\"n\":\"\xff\xfe\"}}]}",
             &r);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "utf-8"));
    run_free(&r);
    /* A NUL byte inside a string. */
    static const char nul[] = "{\"type\":\"Feature\",\"properties\":{\"n\":\"a\0b\"}}";
    char *path = tu_write_temp_bytes(nul, sizeof nul - 1);
    run_path(path, &r);
    tu_remove_temp(path);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 0);
}

static void test_open_errors(void **state)
{
    (void)state;
    wg_ctx *ctx = wg_ctx_new();
    wg_geojson_stream *s = (wg_geojson_stream *)1;
    assert_int_equal(wg_geojson_open(ctx, "/nonexistent/dir/x.geojson", &s), WG_EIO);
    assert_null(s);
    assert_non_null(strstr(wg_errmsg(ctx), "/nonexistent/dir/x.geojson"));
    s = (wg_geojson_stream *)1;
    assert_int_equal(wg_geojson_open(ctx, "/tmp", &s), WG_EIO);
    assert_null(s);
    wg_ctx_free(ctx);
}

/* ---- buffer boundaries and size --------------------------------------------------------- */

/* Deterministic ASCII of length n, different per seed. */
static void ascii_fill(char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (char)('a' + (i * 7 + seed) % 26);
    b[n] = '\0';
}

/* n copies of the UTF-8 sequence u. */
static char *repeat(const char *u, size_t n)
{
    size_t l = strlen(u);
    char *b = malloc(l * n + 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        memcpy(b + i * l, u, l);
    b[l * n] = '\0';
    return b;
}

#define NBIG 14

static size_t big_len(int i)
{
    static const size_t lens[NBIG] = {200 * 1024, 65535, 65536, 65537, 1,     0,     131071,
                                      100003,     7,     70001, 65533, 65534, 99991, 3};
    return lens[i];
}

/* Writes NBIG features whose strings (ASCII, then 3- and 4-byte UTF-8) straddle the 64 KiB
 * buffer edge at every offset, as a FeatureCollection or as a sequence. */
static char *write_big(int as_sequence)
{
    char *path = tu_write_temp("");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    char *s = malloc(200 * 1024 + 1);
    char *han = repeat("中", 21000 + 1), *emoji = repeat("😀", 17000 + 1);
    if (!as_sequence) fputs("{\"type\":\"FeatureCollection\",\"features\":[\n", fp);
    for (int i = 0; i < NBIG; i++) {
        ascii_fill(s, big_len(i), (unsigned)i);
        /* i extra pad bytes shift everything after them, so the cuts land everywhere */
        fprintf(fp,
                "%s{\"type\":\"Feature\",\"properties\":{\"i\":%d,\"pad\":\"%.*s\",\"s\":\"%s\","
                "\"u\":\"%s\"},\"geometry\":null}\n",
                i && !as_sequence ? "," : "", i, i, "pppppppppppppppppppp", s,
                i % 2 ? han + 3 * (size_t)i : emoji + 4 * (size_t)i);
    }
    if (!as_sequence) fputs("]}\n", fp);
    fclose(fp);
    free(s);
    free(han);
    free(emoji);
    return path;
}

static void check_big(const char *path)
{
    wg_ctx *ctx = wg_ctx_new();
    wg_geojson_stream *s = NULL;
    assert_int_equal(wg_geojson_open(ctx, path, &s), WG_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(wg_geojson_bytes_total(s), (uint64_t)st.st_size);
    assert_int_equal(wg_geojson_bytes_read(s), 0);
    char *want = malloc(200 * 1024 + 1);
    char *han = repeat("中", 21000 + 1), *emoji = repeat("😀", 17000 + 1);
    uint64_t last = 0;
    for (int i = 0; i < NBIG; i++) {
        json_object *f = NULL;
        size_t idx = 99;
        int rc = wg_geojson_next(s, &f, &idx);
        if (rc != WG_OK) fail_msg("feature %d: %s", i, wg_errmsg(ctx));
        assert_non_null(f);
        assert_int_equal(idx, (size_t)i);
        assert_int_equal(prop_int(f, "i"), i);
        assert_int_equal(strlen(prop_str(f, "pad")), (size_t)i);
        ascii_fill(want, big_len(i), (unsigned)i);
        assert_string_equal(prop_str(f, "s"), want);
        assert_string_equal(prop_str(f, "u"), i % 2 ? han + 3 * (size_t)i : emoji + 4 * (size_t)i);
        assert_true(wg_geojson_bytes_read(s) > last);
        last = wg_geojson_bytes_read(s);
        json_object_put(f);
    }
    json_object *f = NULL;
    size_t idx;
    assert_int_equal(wg_geojson_next(s, &f, &idx), WG_OK);
    assert_null(f);
    assert_int_equal(wg_geojson_bytes_read(s), (uint64_t)st.st_size);
    free(want);
    free(han);
    free(emoji);
    wg_geojson_close(s);
    wg_ctx_free(ctx);
}

static void test_chunk_boundaries(void **state)
{
    (void)state;
    char *fc = write_big(0);
    check_big(fc);
    tu_remove_temp(fc);
    char *seq = write_big(1);
    check_big(seq);
    tu_remove_temp(seq);
}

#define NMANY 200000

static void test_many_features(void **state)
{
    (void)state;
    char *path = tu_write_temp("");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", fp);
    for (int i = 0; i < NMANY; i++)
        fprintf(fp,
                "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"G%07d\",\"n\":%d},"
                "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[116.1,39],"
                "[116.1,39.1],[116,39]]]}}\n",
                i ? "," : "", i, i);
    fputs("],\"name\":\"many\"}", fp);
    fclose(fp);

    wg_ctx *ctx = wg_ctx_new();
    wg_geojson_stream *s = NULL;
    assert_int_equal(wg_geojson_open(ctx, path, &s), WG_OK);
    size_t count = 0;
    for (;;) {
        json_object *f = NULL;
        size_t idx;
        assert_int_equal(wg_geojson_next(s, &f, &idx), WG_OK);
        if (!f) break;
        assert_int_equal(idx, count);
        if (prop_int(f, "n") != (int64_t)count) fail_msg("feature %zu has the wrong n", count);
        if (count == NMANY - 1) assert_string_equal(prop_str(f, "code"), "G0199999");
        json_object_put(f);
        count++;
    }
    assert_int_equal(count, NMANY);
    assert_int_equal(wg_geojson_bytes_read(s), wg_geojson_bytes_total(s));
    wg_geojson_close(s);
    wg_ctx_free(ctx);
    tu_remove_temp(path);
}

/* A feature padded past 256 MiB with whitespace (cheap for json-c to skip, so the test is the
 * limit, not the memory). */
static void test_feature_too_large(void **state)
{
    (void)state;
    char *path = tu_write_temp("");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[" F("{}") ",{\"type\":\"Feature\",", fp);
    char *blanks = malloc(1 << 20);
    memset(blanks, ' ', 1 << 20);
    for (int i = 0; i < 257; i++)
        fwrite(blanks, 1, 1 << 20, fp);
    free(blanks);
    fputs("\"properties\":{}}]}", fp);
    fclose(fp);
    struct run r;
    run_path(path, &r);
    tu_remove_temp(path);
    assert_int_equal(r.rc, WG_EDATA);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg, "feature 1 is larger than 256 MiB"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_features_first_and_odd_members),
        cmocka_unit_test(test_fc_members_before_features),
        cmocka_unit_test(test_fc_empty),
        cmocka_unit_test(test_end_is_repeatable),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_single_feature),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_garbage_between_features),
        cmocka_unit_test(test_non_object_feature),
        cmocka_unit_test(test_wrong_top_level),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_chunk_boundaries),
        cmocka_unit_test(test_many_features),
        cmocka_unit_test(test_feature_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
