/* Streaming GeoJSON reader: one feature at a time, memory flat in the number of features.
 *
 * Model. json-c parses every JSON value; this file only walks the punctuation *between*
 * values at the top level, so a 5M-feature FeatureCollection is never held in memory:
 *
 *     { "crs" : {...} , "features" : [ {F0} , {F1} , ... ] , "type" : "FeatureCollection" }
 *     ^     ^       ^ ^            ^ ^    ^ ^    ^     ^ ^ ^        ^                     ^
 *     walked here: '{' member names ':' ',' '}' and the '[' ',' ']' of "features";
 *     every member name, member value and feature Fi is parsed by json-c.
 *
 * The top-level object is walked member by member, members in any order. Until a "features"
 * member turns up, the members are kept: if the object closes without one it was a Feature
 * (a single-feature file, or the first record of a GeoJSON text sequence) and the kept
 * members are that feature. Once "features" is seen the object is a FeatureCollection: the
 * kept members are dropped, later members are parsed and dropped, "features" is streamed
 * element by element, and only whitespace may follow the closing '}'.
 * After a top-level Feature, further top-level values make the file a GeoJSON text sequence
 * (NDJSON, or RFC 8142 GeoJSONSeq whose 0x1E separators count as whitespace between
 * records); each record is parsed whole and must be a Feature.
 *
 * One json_tokener is reset before each value and fed as many buffer-fulls as the value
 * spans; json-c keeps the partial state, so a value may straddle any number of buffer
 * boundaries. The buffer is handed over only up to whole UTF-8 sequences because json-c's
 * UTF-8 validation restarts at each call and would reject a sequence cut by the buffer edge.
 *
 * Positions in messages ("line L, byte B") are those of the byte where the problem was
 * found: bytes are counted, and newlines in them, as they are consumed.
 */
#include "geojson_stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Read size: large enough that reads are cheap, small enough that it never matters. */
#define GJ_CHUNK (64 * 1024)
/* GeoJSON nests at most 6 deep (feature > geometry > MultiPolygon > polygon > ring > point);
 * 64 leaves room for nested properties while deeper input is refused by json-c's own limit
 * rather than exhausting anything. */
#define GJ_MAX_DEPTH 64
/* A single feature (or the top-level object before "features") above this is not a grid
 * polygon; refusing it bounds memory on bad input. */
#define GJ_MAX_VALUE ((uint64_t)256 << 20)
/* RFC 8142 record separator. */
#define GJ_RS 0x1E

enum gj_state {
    GJ_START,         /* before the first top-level value */
    GJ_MEMBER_FIRST,  /* after the top-level '{': a member name or '}' */
    GJ_MEMBER,        /* after ',' in the top-level object: a member name */
    GJ_MEMBER_NEXT,   /* after a member value: ',' or '}' */
    GJ_FEATURE_FIRST, /* after "features": '[': a feature or ']' */
    GJ_FEATURE,       /* after ',' in "features": a feature */
    GJ_FEATURE_NEXT,  /* after a feature: ',' or ']' */
    GJ_SEQ,           /* between records of a GeoJSON text sequence */
    GJ_TRAILER,       /* after the FeatureCollection: only whitespace may follow */
    GJ_END,
};

/* What the top-level "type" member said, if it has been seen. */
enum gj_kind { GJ_KIND_UNKNOWN, GJ_KIND_FEATURE, GJ_KIND_COLLECTION };

struct wg_geojson_stream {
    wg_ctx *ctx;
    FILE *fp;
    char *name; /* path for messages; "<stdin>" for "-" */
    json_tokener *tok;
    unsigned char *buf; /* GJ_CHUNK bytes; buf[pos..len) not consumed yet */
    size_t pos, len;
    int eof;              /* the file has no more bytes beyond buf[len) */
    uint64_t off;         /* file offset of buf[pos] */
    size_t line;          /* 1-based line of buf[pos] */
    uint64_t total;       /* file size, 0 if unknown */
    uint64_t value_bytes; /* bytes of the value being parsed, checked against GJ_MAX_VALUE */
    enum gj_state state;
    enum gj_kind kind;
    int collection;   /* "features" was seen: the top-level object is a FeatureCollection */
    json_object *top; /* members kept while the top-level object may still be a Feature */
    size_t nfeatures; /* features returned so far, i.e. the index of the next one */
    int rc;           /* sticky failure: replayed by every later wg_geojson_next */
    char errmsg[1024];
};

static const unsigned char utf8_bom[3] = {0xEF, 0xBB, 0xBF};

/* ---- errors -------------------------------------------------------------------------- */

static int data_error(wg_geojson_stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* WG_EDATA located at the current position: "path: line L, byte B: message". */
static int data_error(wg_geojson_stream *s, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wg_fail(s->ctx, WG_EDATA, "%s: line %zu, byte %" PRIu64 ": %s", s->name, s->line, s->off,
                   msg);
}

static int nomem(wg_geojson_stream *s)
{
    return wg_fail(s->ctx, WG_ENOMEM, "%s: out of memory reading GeoJSON", s->name);
}

/* Keeps the failure so later calls report it again, not a confusing follow-on error. */
static int latch(wg_geojson_stream *s, int rc)
{
    s->rc = rc;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", wg_errmsg(s->ctx));
    return rc;
}

static int in_features(const wg_geojson_stream *s)
{
    return s->state == GJ_FEATURE_FIRST || s->state == GJ_FEATURE || s->state == GJ_FEATURE_NEXT;
}

/* Names what is being parsed, for messages: "feature 12" or "the top-level object". */
static const char *what(const wg_geojson_stream *s, char *b, size_t n)
{
    if (in_features(s) || s->state == GJ_SEQ)
        snprintf(b, n, "feature %zu", s->nfeatures);
    else
        snprintf(b, n, "the top-level object");
    return b;
}

/* ---- the byte buffer ----------------------------------------------------------------- */

/* Moves the unconsumed tail (at most a cut UTF-8 sequence) to the front and reads after it. */
static int refill(wg_geojson_stream *s)
{
    size_t keep = s->len - s->pos;
    memmove(s->buf, s->buf + s->pos, keep);
    s->pos = 0;
    s->len = keep;
    size_t want = GJ_CHUNK - keep;
    size_t got = fread(s->buf + keep, 1, want, s->fp);
    s->len += got;
    if (got == want) return WG_OK;
    if (ferror(s->fp))
        return wg_fail(s->ctx, WG_EIO, "%s: read error after byte %" PRIu64 ": %s", s->name,
                       s->off + s->len, strerror(errno));
    s->eof = 1;
    return WG_OK;
}

/* Consumes n bytes, counting the newlines in them. */
static void consume(wg_geojson_stream *s, size_t n)
{
    const unsigned char *p = s->buf + s->pos, *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        s->line++;
        p++;
    }
    s->pos += n;
    s->off += n;
}

/* The next unconsumed byte in *c, or -1 at end of input. */
static int peek(wg_geojson_stream *s, int *c)
{
    if (s->pos == s->len && !s->eof) {
        int rc = refill(s);
        if (rc != WG_OK) return rc;
    }
    *c = s->pos < s->len ? s->buf[s->pos] : -1;
    return WG_OK;
}

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips JSON whitespace (and, between top-level records, 0x1E); the next byte is left in *c. */
static int skip_ws(wg_geojson_stream *s, int top_level, int *c)
{
    for (;;) {
        int rc = peek(s, c);
        if (rc != WG_OK) return rc;
        if (!is_ws(*c) && !(top_level && *c == GJ_RS)) return WG_OK;
        consume(s, 1);
    }
}

/* How much of buf[pos..len) json-c may see now: everything at end of input, otherwise up to
 * the last complete UTF-8 sequence. Example: "..\xE4\xB8" (first two bytes of U+4E2D) at the
 * buffer end: the lead byte 0xE4 announces 3 bytes, 2 are here, so both wait for the refill. */
static size_t feedable(const wg_geojson_stream *s)
{
    size_t n = s->len - s->pos;
    if (s->eof) return n;
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char b = s->buf[s->len - back];
        if ((b & 0xC0) == 0x80) continue; /* continuation byte: look further back */
        size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n; /* no lead byte within 4: invalid anyway, json-c will say so */
}

/* ---- values, parsed by json-c --------------------------------------------------------- */

/* At end of input the documented way to end a value that has no closing character (a
 * number) is to pass json-c the terminating '\0'; anything still open is a truncated file. */
static int finish_at_eof(wg_geojson_stream *s, json_object **out)
{
    json_object *v = json_tokener_parse_ex(s->tok, "", 1);
    enum json_tokener_error jerr = json_tokener_get_error(s->tok);
    if (jerr == json_tokener_success) {
        *out = v;
        return WG_OK;
    }
    char where[64];
    return data_error(s, "unexpected end of input inside %s (json-c: %s)",
                      what(s, where, sizeof where), json_tokener_error_desc(jerr));
}

/* Parses the value starting at the current position. *out may be NULL on success: JSON null. */
static int parse_value(wg_geojson_stream *s, json_object **out)
{
    char where[64];
    *out = NULL;
    json_tokener_reset(s->tok);
    if (!s->top) s->value_bytes = 0; /* a kept top-level object is budgeted as a whole */
    for (;;) {
        size_t n = feedable(s);
        if (n == 0 && !s->eof) {
            int rc = refill(s);
            if (rc != WG_OK) return rc;
            continue;
        }
        if (n == 0) return finish_at_eof(s, out);
        json_object *v = json_tokener_parse_ex(s->tok, (const char *)s->buf + s->pos, (int)n);
        enum json_tokener_error jerr = json_tokener_get_error(s->tok);
        size_t used = json_tokener_get_parse_end(s->tok);
        consume(s, used);
        s->value_bytes += used;
        if (jerr == json_tokener_success) {
            *out = v;
            return WG_OK;
        }
        if (jerr != json_tokener_continue)
            return data_error(s, "invalid JSON in %s (json-c: %s)", what(s, where, sizeof where),
                              json_tokener_error_desc(jerr));
        if (s->value_bytes > GJ_MAX_VALUE)
            return data_error(s, "%s is larger than 256 MiB", what(s, where, sizeof where));
    }
}

/* Parses one feature: any JSON value, refused unless it is an object. */
static int parse_feature(wg_geojson_stream *s, json_object **feature)
{
    json_object *v = NULL;
    int rc = parse_value(s, &v);
    if (rc != WG_OK) return rc;
    if (json_object_is_type(v, json_type_object)) {
        *feature = v;
        return WG_OK;
    }
    rc = data_error(s, "feature %zu is not a JSON object but %s", s->nfeatures,
                    json_type_to_name(json_object_get_type(v)));
    json_object_put(v);
    return rc;
}

/* ---- the top-level object ------------------------------------------------------------ */

/* A top-level "type" decides what the object is; anything but the two containers is refused. */
static int check_type(wg_geojson_stream *s, json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return data_error(s, "the top-level \"type\" is not a string");
    const char *t = json_object_get_string(v);
    if (strcmp(t, "FeatureCollection") == 0) {
        s->kind = GJ_KIND_COLLECTION;
        return WG_OK;
    }
    if (strcmp(t, "Feature") == 0 && !s->collection) {
        s->kind = GJ_KIND_FEATURE;
        return WG_OK;
    }
    if (s->collection)
        return data_error(s, "the top-level object has \"features\" but \"type\" is \"%.64s\"", t);
    return data_error(
        s, "the top-level \"type\" is \"%.64s\"; expected FeatureCollection or Feature", t);
}

/* Keeps a member while the top-level object may still be a Feature; drops it otherwise. */
static int keep_member(wg_geojson_stream *s, const char *name, json_object *v)
{
    if (!s->top) {
        json_object_put(v);
        return WG_OK;
    }
    if (json_object_object_add(s->top, name, v) != 0) {
        json_object_put(v);
        return nomem(s);
    }
    return WG_OK;
}

/* "features" is streamed unless "type" already said Feature (then it is a foreign member). */
static int opens_collection(const wg_geojson_stream *s, const char *name)
{
    return strcmp(name, "features") == 0 && s->kind != GJ_KIND_FEATURE;
}

static int begin_features(wg_geojson_stream *s, int c)
{
    if (s->collection) return data_error(s, "duplicate \"features\" member");
    if (c != '[') return data_error(s, "\"features\" is not an array");
    consume(s, 1);
    s->collection = 1;
    json_object_put(s->top); /* the members kept so far were not a Feature after all */
    s->top = NULL;
    s->state = GJ_FEATURE_FIRST;
    return WG_OK;
}

static int member_value(wg_geojson_stream *s, const char *name)
{
    int c;
    int rc = skip_ws(s, 0, &c);
    if (rc != WG_OK) return rc;
    if (opens_collection(s, name)) return begin_features(s, c);
    json_object *v = NULL;
    rc = parse_value(s, &v);
    if (rc == WG_OK && strcmp(name, "type") == 0) rc = check_type(s, v);
    if (rc != WG_OK) {
        json_object_put(v);
        return rc;
    }
    s->state = GJ_MEMBER_NEXT;
    return keep_member(s, name, v);
}

static int truncated(wg_geojson_stream *s)
{
    return data_error(s, "unexpected end of input: %s is not closed",
                      in_features(s) ? "the \"features\" array" : "the top-level object");
}

/* The top-level object closed: a FeatureCollection is done, a Feature is returned. */
static int end_top(wg_geojson_stream *s, json_object **feature)
{
    if (s->collection) {
        s->state = GJ_TRAILER;
        return WG_OK;
    }
    if (s->kind == GJ_KIND_COLLECTION)
        return data_error(s, "the FeatureCollection has no \"features\" member");
    if (s->kind != GJ_KIND_FEATURE)
        return data_error(s, "the top-level object has no \"type\"; expected a "
                             "FeatureCollection or Feature");
    *feature = s->top;
    s->top = NULL;
    s->state = GJ_SEQ;
    return WG_OK;
}

static int step_start(wg_geojson_stream *s)
{
    int c;
    int rc = peek(s, &c);
    if (rc == WG_OK && s->len - s->pos >= 3 && memcmp(s->buf + s->pos, utf8_bom, 3) == 0)
        consume(s, 3); /* not GeoJSON, but editors write it; RFC 8259 lets parsers skip it */
    if (rc == WG_OK) rc = skip_ws(s, 1, &c);
    if (rc != WG_OK) return rc;
    if (c == -1) return data_error(s, "no GeoJSON value: the input is empty");
    if (c != '{')
        return data_error(s, "the top-level value is not a JSON object; expected a "
                             "FeatureCollection or Feature");
    consume(s, 1);
    s->top = json_object_new_object();
    if (!s->top) return nomem(s);
    s->value_bytes = 0;
    s->state = GJ_MEMBER_FIRST;
    return WG_OK;
}

/* A member name (json-c parses the string), ':', then the value. */
static int step_member(wg_geojson_stream *s, json_object **feature)
{
    int c;
    int rc = skip_ws(s, 0, &c);
    if (rc != WG_OK) return rc;
    if (c == '}' && s->state == GJ_MEMBER_FIRST) {
        consume(s, 1);
        return end_top(s, feature);
    }
    if (c == -1) return truncated(s);
    if (c != '"') return data_error(s, "expected a member name in the top-level object");
    json_object *key = NULL;
    rc = parse_value(s, &key);
    if (rc == WG_OK) rc = skip_ws(s, 0, &c);
    if (rc == WG_OK && c != ':')
        rc = data_error(s, "expected ':' after the top-level member name \"%.64s\"",
                        json_object_get_string(key));
    if (rc == WG_OK) {
        consume(s, 1);
        rc = member_value(s, json_object_get_string(key));
    }
    json_object_put(key);
    return rc;
}

static int step_member_next(wg_geojson_stream *s, json_object **feature)
{
    int c;
    int rc = skip_ws(s, 0, &c);
    if (rc != WG_OK) return rc;
    if (c == -1) return truncated(s);
    if (c != ',' && c != '}') return data_error(s, "expected ',' or '}' after a top-level member");
    consume(s, 1);
    if (c == '}') return end_top(s, feature);
    s->state = GJ_MEMBER;
    return WG_OK;
}

/* ---- the "features" array and the sequence records ------------------------------------ */

static int step_feature(wg_geojson_stream *s, json_object **feature)
{
    int c;
    int rc = skip_ws(s, 0, &c);
    if (rc != WG_OK) return rc;
    if (c == ']' && s->state == GJ_FEATURE_FIRST) {
        consume(s, 1);
        s->state = GJ_MEMBER_NEXT;
        return WG_OK;
    }
    if (c == -1) return truncated(s);
    if (c == ']') return data_error(s, "expected feature %zu after ','", s->nfeatures);
    s->state = GJ_FEATURE_NEXT;
    return parse_feature(s, feature);
}

static int step_feature_next(wg_geojson_stream *s)
{
    int c;
    int rc = skip_ws(s, 0, &c);
    if (rc != WG_OK) return rc;
    if (c == -1) return truncated(s);
    if (c != ',' && c != ']')
        return data_error(s, "expected ',' or ']' after feature %zu", s->nfeatures - 1);
    consume(s, 1);
    s->state = c == ',' ? GJ_FEATURE : GJ_MEMBER_NEXT;
    return WG_OK;
}

/* At top level only "type" tells a Feature from a bare geometry, so records must have it. */
static int check_record(wg_geojson_stream *s, json_object **feature)
{
    json_object *t = NULL;
    if (json_object_object_get_ex(*feature, "type", &t) &&
        json_object_is_type(t, json_type_string) &&
        strcmp(json_object_get_string(t), "Feature") == 0)
        return WG_OK;
    int rc = data_error(s, "record %zu of the GeoJSON sequence is not a Feature", s->nfeatures);
    json_object_put(*feature);
    *feature = NULL;
    return rc;
}

static int step_seq(wg_geojson_stream *s, json_object **feature)
{
    int c;
    int rc = skip_ws(s, 1, &c);
    if (rc != WG_OK) return rc;
    if (c == -1) {
        s->state = GJ_END;
        return WG_OK;
    }
    rc = parse_feature(s, feature);
    if (rc != WG_OK) return rc;
    return check_record(s, feature);
}

static int step_trailer(wg_geojson_stream *s)
{
    int c;
    int rc = skip_ws(s, 1, &c);
    if (rc != WG_OK) return rc;
    if (c != -1) return data_error(s, "unexpected data after the FeatureCollection");
    s->state = GJ_END;
    return WG_OK;
}

/* One move of the walker; a feature, when one is complete, goes to *feature. */
static int step(wg_geojson_stream *s, json_object **feature)
{
    switch (s->state) {
    case GJ_START:
        return step_start(s);
    case GJ_MEMBER_FIRST:
    case GJ_MEMBER:
        return step_member(s, feature);
    case GJ_MEMBER_NEXT:
        return step_member_next(s, feature);
    case GJ_FEATURE_FIRST:
    case GJ_FEATURE:
        return step_feature(s, feature);
    case GJ_FEATURE_NEXT:
        return step_feature_next(s);
    case GJ_SEQ:
        return step_seq(s, feature);
    case GJ_TRAILER:
        return step_trailer(s);
    case GJ_END:
        return WG_OK;
    }
    return WG_OK;
}

/* ---- public interface ------------------------------------------------------------------ */

void wg_geojson_close(wg_geojson_stream *s)
{
    if (!s) return;
    if (s->fp && s->fp != stdin) fclose(s->fp);
    if (s->tok) json_tokener_free(s->tok);
    json_object_put(s->top);
    free(s->buf);
    free(s->name);
    free(s);
}

static int open_file(wg_geojson_stream *s, const char *path)
{
    return wg_open_input(s->ctx, path, &s->fp, &s->total);
}

int wg_geojson_open(wg_ctx *ctx, const char *path, wg_geojson_stream **out)
{
    *out = NULL;
    wg_geojson_stream *s = calloc(1, sizeof *s);
    if (!s) return wg_fail(ctx, WG_ENOMEM, "out of memory opening %s", path);
    s->ctx = ctx;
    s->line = 1;
    s->state = GJ_START;
    s->name = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
    s->buf = malloc(GJ_CHUNK);
    s->tok = json_tokener_new_ex(GJ_MAX_DEPTH);
    int rc = s->name && s->buf && s->tok
                 ? WG_OK
                 : wg_fail(ctx, WG_ENOMEM, "out of memory opening %s", path);
    if (rc == WG_OK) rc = open_file(s, path);
    if (rc != WG_OK) {
        wg_geojson_close(s);
        return rc;
    }
    /* Strict RFC 8259 (no comments, NaN, single quotes), values may be followed by our
     * punctuation, and text must be valid UTF-8 so nothing malformed reaches the store. */
    json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                       JSON_TOKENER_VALIDATE_UTF8);
    *out = s;
    return WG_OK;
}

int wg_geojson_next(wg_geojson_stream *s, json_object **feature_out, size_t *index_out)
{
    *feature_out = NULL;
    *index_out = 0;
    if (s->rc != WG_OK) return wg_fail(s->ctx, s->rc, "%s", s->errmsg);
    json_object *f = NULL;
    int rc = WG_OK;
    while (rc == WG_OK && !f && s->state != GJ_END)
        rc = step(s, &f);
    if (rc != WG_OK) {
        json_object_put(f);
        return latch(s, rc);
    }
    if (f) {
        *feature_out = f;
        *index_out = s->nfeatures++;
    }
    return WG_OK;
}

uint64_t wg_geojson_bytes_read(const wg_geojson_stream *s)
{
    return s->off;
}

uint64_t wg_geojson_bytes_total(const wg_geojson_stream *s)
{
    return s->total;
}
