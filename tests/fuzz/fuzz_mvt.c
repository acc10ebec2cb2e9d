/* Fuzz target: the Mapbox Vector Tile encoder (mvt.c), by round trip.
 *
 * The input is a program, read byte by byte (missing bytes read as 0), that builds a tile
 * through the encoder's interface as tiles.c does: add layers (at most WG_MVT_MAX_LAYERS, with
 * 0-5 keys), begin point or polygon features with any 64-bit id, give a point feature its point
 * and a polygon feature rings (0-24 points: fewer than 3 must add nothing), tag the open
 * feature with strings (possibly NULL: nothing) or 64-bit integers, cancel the open feature,
 * switch layers. Coordinates are any int32: near the last one, within a tile, or anywhere.
 * A model of the tile is kept beside it. The packed bytes are decoded with the protobuf-c code
 * generated from lib/proto/vector_tile.proto and must give back exactly the model:
 *   - no bytes at all when no layer has a feature; otherwise the layers that have features,
 *     in order, version 2, extent 4096, their names and keys;
 *   - every feature: its id and type, its tags (key index, and the value: same type and
 *     content), and its geometry decoded by the MVT 2.1 rules (command id and count, zig-zag
 *     parameters, deltas from a cursor that starts at (0, 0) per feature and carries over
 *     between rings): one MoveTo(1) for a point, MoveTo(1) LineTo(n-1) ClosePath(1) per ring,
 *     with every coordinate equal to what was put in;
 *   - every value has exactly one field, and no two values of a layer are equal.
 */
#include "fuzz_util.h"
#include "mvt.h"
#include "vector_tile.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS 512
#define MAX_RING 24
#define MAX_STR 24

/* Layer names and keys are static strings, as tiles.c passes them. */
static const char *const NAMES[WG_MVT_MAX_LAYERS] = {"districts", "communities", "grids", "labels"};
static const char *const KEYS[] = {"code",   "name",       "level", "parent",
                                   "worker", "households", "code"};

typedef struct mtag {
    uint32_t key;
    const char *s; /* NULL: integer */
    int64_t i;
} mtag;

/* Rings and tags per feature the program may add. */
#define MAX_PARTS 16

typedef struct mfeat {
    uint64_t id;
    int type;
    int32_t xy[2 * MAX_PARTS * MAX_RING]; /* points of all rings, or the one point */
    size_t npts;
    size_t ring_n[MAX_PARTS]; /* points per ring */
    size_t nrings;
    mtag tags[MAX_PARTS];
    size_t ntags;
} mfeat;

/* Features per layer the program may make. */
#define MAX_FEATURES 32

typedef struct mlayer {
    wg_mvt_layer *l;
    const char *name;
    const char *const *keys;
    size_t nkeys;
    mfeat *f;
    size_t nf;
    int open; /* the last feature may still get geometry and tags */
} mlayer;

typedef struct reader {
    const uint8_t *p;
    size_t n, pos;
} reader;

static uint8_t u8(reader *r)
{
    return r->pos < r->n ? r->p[r->pos++] : 0;
}

static uint64_t bytes(reader *r, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

/* A coordinate: near the previous one, inside the tile and its buffer, or any int32. */
static int32_t coord(reader *r, int32_t prev)
{
    uint8_t mode = u8(r);
    switch (mode & 3) {
    case 0:
        return (int32_t)((int64_t)prev + (int8_t)u8(r));
    case 1:
        return (int32_t)((int64_t)(bytes(r, 2) % (WG_MVT_EXTENT + 2 * 64)) - 64);
    case 2:
        return (int32_t)(int16_t)bytes(r, 2);
    default:
        return (int32_t)(uint32_t)bytes(r, 4);
    }
}

static uint32_t zigzag_decode(uint32_t z)
{
    return (z >> 1) ^ (0u - (z & 1));
}

/* Decodes a feature's geometry and compares it with the model. The cursor adds in uint32, the
 * encoder's wrap-around arithmetic, so any int32 coordinate comes back. */
static void check_geometry(const VectorTile__Tile__Feature *f, const mfeat *m)
{
    size_t i = 0, pt = 0;
    uint32_t cx = 0, cy = 0;
    size_t nparts = m->type == WG_MVT_POINT ? (m->npts ? 1 : 0) : m->nrings;
    for (size_t part = 0; part < nparts; part++) {
        size_t want = m->type == WG_MVT_POINT ? 1 : m->ring_n[part];
        FZ_CHECK(i < f->n_geometry && f->geometry[i] == (1u | 1u << 3), "part %zu: no MoveTo(1)",
                 part);
        i++;
        for (size_t k = 0; k < want; k++) {
            if (k == 1) {
                FZ_CHECK(i < f->n_geometry && f->geometry[i] == (2u | (uint32_t)(want - 1) << 3),
                         "ring %zu: no LineTo(%zu)", part, want - 1);
                i++;
            }
            FZ_CHECK(i + 1 < f->n_geometry, "geometry ends inside a command");
            cx += zigzag_decode(f->geometry[i++]);
            cy += zigzag_decode(f->geometry[i++]);
            FZ_CHECK((int32_t)cx == m->xy[2 * pt] && (int32_t)cy == m->xy[2 * pt + 1],
                     "feature %llu point %zu: decoded (%d %d), put in (%d %d)",
                     (unsigned long long)m->id, pt, (int32_t)cx, (int32_t)cy, m->xy[2 * pt],
                     m->xy[2 * pt + 1]);
            pt++;
        }
        if (m->type == WG_MVT_POLYGON) {
            FZ_CHECK(i < f->n_geometry && f->geometry[i] == (7u | 1u << 3),
                     "ring %zu: no ClosePath", part);
            i++;
        }
    }
    FZ_CHECK(i == f->n_geometry, "%zu geometry integers left over", f->n_geometry - i);
}

static void check_value(const VectorTile__Tile__Value *v, const mtag *t)
{
    int fields = (v->string_value != NULL) + v->has_float_value + v->has_double_value +
                 v->has_int_value + v->has_uint_value + v->has_sint_value + v->has_bool_value;
    FZ_CHECK(fields == 1, "a value with %d fields", fields);
    if (t->s)
        FZ_CHECK(v->string_value && strcmp(v->string_value, t->s) == 0,
                 "string value '%s' came back as '%s'", t->s,
                 v->string_value ? v->string_value : "(not a string)");
    else
        FZ_CHECK(v->has_int_value && v->int_value == t->i, "int value %lld came back wrong",
                 (long long)t->i);
}

static int values_equal(const VectorTile__Tile__Value *a, const VectorTile__Tile__Value *b)
{
    if (a->string_value || b->string_value)
        return a->string_value && b->string_value && strcmp(a->string_value, b->string_value) == 0;
    return a->has_int_value && b->has_int_value && a->int_value == b->int_value;
}

static void check_tile(const unsigned char *data, size_t len, const mlayer *ml, size_t nl)
{
    size_t with = 0;
    for (size_t k = 0; k < nl; k++)
        with += ml[k].nf > 0;
    if (with == 0) {
        FZ_CHECK(!data && len == 0, "a tile without features has %zu bytes", len);
        return;
    }
    FZ_CHECK(data && len > 0, "a tile with features packed to nothing");
    VectorTile__Tile *t = vector_tile__tile__unpack(NULL, len, data);
    FZ_CHECK(t, "the packed tile does not decode");
    FZ_CHECK(t->n_layers == with, "%zu layers decoded, %zu have features", t->n_layers, with);
    size_t d = 0;
    for (size_t k = 0; k < nl; k++) {
        const mlayer *m = &ml[k];
        if (m->nf == 0) continue;
        const VectorTile__Tile__Layer *l = t->layers[d++];
        FZ_CHECK(l->version == 2 && l->has_extent && l->extent == WG_MVT_EXTENT, "layer header");
        FZ_CHECK(strcmp(l->name, m->name) == 0, "layer %s came back as %s", m->name, l->name);
        FZ_CHECK(l->n_keys == m->nkeys, "layer %s: %zu keys, %zu given", m->name, l->n_keys,
                 m->nkeys);
        for (size_t j = 0; j < m->nkeys; j++)
            FZ_CHECK(strcmp(l->keys[j], m->keys[j]) == 0, "key %zu", j);
        for (size_t a = 0; a < l->n_values; a++)
            for (size_t b = 0; b < a; b++)
                FZ_CHECK(!values_equal(l->values[a], l->values[b]),
                         "layer %s: values %zu and %zu are equal", m->name, b, a);
        FZ_CHECK(l->n_features == m->nf, "layer %s: %zu features, %zu made", m->name, l->n_features,
                 m->nf);
        for (size_t i = 0; i < m->nf; i++) {
            const VectorTile__Tile__Feature *f = l->features[i];
            const mfeat *mf = &m->f[i];
            FZ_CHECK(f->has_id && f->id == mf->id, "feature %zu: id", i);
            FZ_CHECK(f->has_type && (int)f->type == mf->type, "feature %zu: type %d, made %d", i,
                     (int)f->type, mf->type);
            FZ_CHECK(f->n_tags == 2 * mf->ntags, "feature %zu: %zu tag integers for %zu tags", i,
                     f->n_tags, mf->ntags);
            for (size_t j = 0; j < mf->ntags; j++) {
                FZ_CHECK(f->tags[2 * j] == mf->tags[j].key, "feature %zu tag %zu: key", i, j);
                FZ_CHECK(f->tags[2 * j + 1] < l->n_values,
                         "feature %zu tag %zu: value index out of range", i, j);
                check_value(l->values[f->tags[2 * j + 1]], &mf->tags[j]);
            }
            check_geometry(f, mf);
        }
    }
    vector_tile__tile__free_unpacked(t, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    wg_mvt *t = wg_mvt_new();
    FZ_CHECK(t, "out of memory");
    mlayer ml[WG_MVT_MAX_LAYERS];
    memset(ml, 0, sizeof ml);
    size_t nl = 0, cur = 0;
    /* strings outlive the pack: they live here until the end of the input */
    static char strs[MAX_OPS][MAX_STR + 1];
    size_t nstr = 0;
    static mfeat feats[WG_MVT_MAX_LAYERS * MAX_FEATURES];
    for (int op = 0; op < MAX_OPS && r.pos < r.n; op++) {
        mlayer *L = nl ? &ml[cur] : NULL;
        mfeat *F = L && L->open ? &L->f[L->nf - 1] : NULL;
        int code = u8(&r) % 8;
        switch (code) {
        case 0: { /* a layer */
            size_t nkeys = u8(&r) % 6, first = u8(&r) % 2;
            wg_mvt_layer *l =
                wg_mvt_layer_add(t, NAMES[nl % WG_MVT_MAX_LAYERS], KEYS + first, nkeys);
            if (nl == WG_MVT_MAX_LAYERS) {
                FZ_CHECK(!l, "a fifth layer was accepted");
                break;
            }
            FZ_CHECK(l, "cannot add a layer");
            ml[nl] = (mlayer){l, NAMES[nl], KEYS + first, nkeys, &feats[nl * MAX_FEATURES], 0, 0};
            cur = nl++;
            break;
        }
        case 1: { /* a feature */
            if (!L || L->nf == MAX_FEATURES) break;
            uint64_t id = bytes(&r, 1 + u8(&r) % 8);
            int type = u8(&r) & 1 ? WG_MVT_POINT : WG_MVT_POLYGON;
            FZ_CHECK(wg_mvt_feature_begin(L->l, id, type) == WG_OK, "feature_begin failed");
            mfeat *f = &L->f[L->nf++];
            memset(f, 0, sizeof *f);
            f->id = id;
            f->type = type;
            L->open = 1;
            FZ_CHECK(wg_mvt_feature_empty(L->l), "a new feature is not empty");
            break;
        }
        case 2: { /* the point of a point feature */
            if (!F || F->type != WG_MVT_POINT || F->npts) break;
            int32_t x = coord(&r, 0), y = coord(&r, 0);
            FZ_CHECK(wg_mvt_point(L->l, x, y) == WG_OK, "wg_mvt_point failed");
            F->xy[0] = x, F->xy[1] = y, F->npts = 1;
            FZ_CHECK(!wg_mvt_feature_empty(L->l), "a feature with a point is empty");
            break;
        }
        case 3: { /* a ring */
            if (!F || F->type != WG_MVT_POLYGON || F->nrings == MAX_PARTS) break;
            size_t n = u8(&r) % (MAX_RING + 1);
            int32_t xy[2 * MAX_RING];
            int32_t px = F->npts ? F->xy[2 * F->npts - 2] : 0,
                    py = F->npts ? F->xy[2 * F->npts - 1] : 0;
            for (size_t k = 0; k < n; k++) {
                xy[2 * k] = px = coord(&r, px);
                xy[2 * k + 1] = py = coord(&r, py);
            }
            int was_empty = wg_mvt_feature_empty(L->l);
            FZ_CHECK(wg_mvt_ring(L->l, xy, n) == WG_OK, "wg_mvt_ring failed");
            if (n < 3) {
                FZ_CHECK(wg_mvt_feature_empty(L->l) == was_empty,
                         "a ring of %zu points changed the feature", n);
                break;
            }
            memcpy(&F->xy[2 * F->npts], xy, 2 * n * sizeof *xy);
            F->npts += n;
            F->ring_n[F->nrings++] = n;
            break;
        }
        case 4:   /* a string tag */
        case 5: { /* an integer tag */
            int str = code == 4;
            if (!F || L->nkeys == 0 || F->ntags == MAX_PARTS) break;
            uint32_t key = u8(&r) % L->nkeys;
            if (str) {
                size_t len = u8(&r) % (MAX_STR + 2);
                const char *s = NULL;
                if (len > 0 && nstr < MAX_OPS) { /* len 0: a NULL string, which adds nothing */
                    char *d = strs[nstr++];
                    for (size_t k = 0; k < len - 1; k++)
                        d[k] = (char)(' ' + u8(&r) % 95);
                    d[len - 1] = '\0';
                    s = d;
                }
                FZ_CHECK(wg_mvt_tag_str(L->l, key, s) == WG_OK, "wg_mvt_tag_str failed");
                if (s) F->tags[F->ntags++] = (mtag){key, s, 0};
            } else {
                int64_t v = (int64_t)bytes(&r, 1 + u8(&r) % 8);
                if (u8(&r) & 1) v = (int64_t)(0 - (uint64_t)v);
                FZ_CHECK(wg_mvt_tag_int(L->l, key, v) == WG_OK, "wg_mvt_tag_int failed");
                F->tags[F->ntags++] = (mtag){key, NULL, v};
            }
            break;
        }
        case 6: /* drop the open feature */
            if (!F) break;
            wg_mvt_feature_cancel(L->l);
            L->nf--;
            L->open = 0;
            break;
        default: /* go on in another layer */
            if (nl) cur = u8(&r) % nl;
            break;
        }
        if (nl) FZ_CHECK(wg_mvt_layer_features(ml[cur].l) == ml[cur].nf, "feature count");
    }
    unsigned char *tile = NULL;
    size_t len = 0;
    FZ_CHECK(wg_mvt_pack(t, &tile, &len) == WG_OK, "wg_mvt_pack failed");
    check_tile(tile, len, ml, nl);
    free(tile);
    wg_mvt_free(t);
    return 0;
}
