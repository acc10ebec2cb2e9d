/* Mapbox Vector Tile 2.1 encoding: see mvt.h. */
#include "mvt.h"
#include "vector_tile.pb-c.h"

#include <stdlib.h>
#include <string.h>

typedef struct feature {
    uint64_t id;
    int type;
    size_t tag0, geom0, ngeom;
} feature;

typedef struct value {
    const char *s; /* NULL: an integer */
    int64_t i;
} value;

struct wg_mvt_layer {
    const char *name;
    const char *const *keys;
    size_t nkeys;
    feature *f;
    size_t nf, fcap;
    uint32_t *tags;
    size_t ntags, tcap;
    uint32_t *geom;
    size_t ngeom, gcap;
    value *vals;
    size_t nvals, vcap;
    uint32_t *vhash; /* value index + 1, 0 = empty */
    size_t vhcap;    /* power of two */
    int32_t cx, cy;  /* the cursor */
};

struct wg_mvt {
    wg_mvt_layer layer[WG_MVT_MAX_LAYERS];
    size_t nlayers;
};

wg_mvt *wg_mvt_new(void)
{
    return calloc(1, sizeof(wg_mvt));
}

void wg_mvt_free(wg_mvt *t)
{
    if (!t) return;
    for (size_t k = 0; k < t->nlayers; k++) {
        wg_mvt_layer *l = &t->layer[k];
        free(l->f);
        free(l->tags);
        free(l->geom);
        free(l->vals);
        free(l->vhash);
    }
    free(t);
}

wg_mvt_layer *wg_mvt_layer_add(wg_mvt *t, const char *name, const char *const *keys, size_t nkeys)
{
    if (t->nlayers == WG_MVT_MAX_LAYERS) return NULL;
    wg_mvt_layer *l = &t->layer[t->nlayers++];
    memset(l, 0, sizeof *l);
    l->name = name;
    l->keys = keys;
    l->nkeys = nkeys;
    return l;
}

size_t wg_mvt_layer_features(const wg_mvt_layer *l)
{
    return l->nf;
}

int wg_mvt_feature_begin(wg_mvt_layer *l, uint64_t id, int type)
{
    if (wg_grow((void **)&l->f, &l->fcap, l->nf + 1, sizeof *l->f) != WG_OK) return WG_ENOMEM;
    l->f[l->nf++] = (feature){id, type, l->ntags, l->ngeom, 0};
    l->cx = l->cy = 0;
    return WG_OK;
}

int wg_mvt_feature_empty(const wg_mvt_layer *l)
{
    return l->nf == 0 || l->f[l->nf - 1].ngeom == 0;
}

void wg_mvt_feature_cancel(wg_mvt_layer *l)
{
    if (l->nf == 0) return;
    l->nf--;
    l->ngeom = l->f[l->nf].geom0;
    l->ntags = l->f[l->nf].tag0;
}

static uint32_t zigzag(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t) - (int32_t)((uint32_t)v >> 31);
}

static uint32_t command(uint32_t id, uint32_t count)
{
    return (id & 7) | (count << 3);
}

static int reserve_geom(wg_mvt_layer *l, size_t more)
{
    return wg_grow((void **)&l->geom, &l->gcap, l->ngeom + more, sizeof *l->geom);
}

/* Deltas are taken modulo 2^32, as a decoder adding them up in 32 bits undoes them: x - cx in
 * int arithmetic overflows (undefined behaviour) for far-apart coordinates such as INT32_MAX
 * after INT32_MIN (found by tests/fuzz/fuzz_mvt). */
static void move_cursor(wg_mvt_layer *l, int32_t x, int32_t y)
{
    l->geom[l->ngeom++] = zigzag((int32_t)((uint32_t)x - (uint32_t)l->cx));
    l->geom[l->ngeom++] = zigzag((int32_t)((uint32_t)y - (uint32_t)l->cy));
    l->cx = x;
    l->cy = y;
}

int wg_mvt_ring(wg_mvt_layer *l, const int32_t *xy, size_t n)
{
    if (n < 3 || n - 1 > (UINT32_MAX >> 3)) return WG_OK;
    if (reserve_geom(l, 2 * n + 3) != WG_OK) return WG_ENOMEM;
    size_t g0 = l->ngeom;
    l->geom[l->ngeom++] = command(1, 1);
    move_cursor(l, xy[0], xy[1]);
    l->geom[l->ngeom++] = command(2, (uint32_t)(n - 1));
    for (size_t k = 1; k < n; k++)
        move_cursor(l, xy[2 * k], xy[2 * k + 1]);
    l->geom[l->ngeom++] = command(7, 1);
    l->f[l->nf - 1].ngeom += l->ngeom - g0;
    return WG_OK;
}

int wg_mvt_point(wg_mvt_layer *l, int32_t x, int32_t y)
{
    if (reserve_geom(l, 3) != WG_OK) return WG_ENOMEM;
    l->geom[l->ngeom++] = command(1, 1);
    move_cursor(l, x, y);
    l->f[l->nf - 1].ngeom += 3;
    return WG_OK;
}

/* ------------------------------------------------------------ dictionary */

static uint64_t value_hash(const value *v)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    if (v->s) {
        for (const unsigned char *p = (const unsigned char *)v->s; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        return h;
    }
    uint64_t x = (uint64_t)v->i;
    for (int k = 0; k < 8; k++)
        h = (h ^ ((x >> (8 * k)) & 0xff)) * 1099511628211ULL;
    return h ^ 0x5bd1e995ULL; /* integers and strings apart */
}

static int value_equal(const value *a, const value *b)
{
    if (!a->s != !b->s) return 0;
    return a->s ? strcmp(a->s, b->s) == 0 : a->i == b->i;
}

static int vhash_grow(wg_mvt_layer *l)
{
    size_t cap = l->vhcap ? l->vhcap * 2 : 64;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return WG_ENOMEM;
    for (size_t k = 0; k < l->nvals; k++) {
        size_t i = value_hash(&l->vals[k]) & (cap - 1);
        while (h[i])
            i = (i + 1) & (cap - 1);
        h[i] = (uint32_t)k + 1;
    }
    free(l->vhash);
    l->vhash = h;
    l->vhcap = cap;
    return WG_OK;
}

static int add_tag(wg_mvt_layer *l, uint32_t key, const value *v)
{
    if ((l->nvals + 1) * 2 > l->vhcap && vhash_grow(l) != WG_OK) return WG_ENOMEM;
    size_t i = value_hash(v) & (l->vhcap - 1);
    for (; l->vhash[i]; i = (i + 1) & (l->vhcap - 1))
        if (value_equal(&l->vals[l->vhash[i] - 1], v)) break;
    if (!l->vhash[i]) {
        if (wg_grow((void **)&l->vals, &l->vcap, l->nvals + 1, sizeof *l->vals) != WG_OK)
            return WG_ENOMEM;
        l->vals[l->nvals++] = *v;
        l->vhash[i] = (uint32_t)l->nvals;
    }
    if (wg_grow((void **)&l->tags, &l->tcap, l->ntags + 2, sizeof *l->tags) != WG_OK)
        return WG_ENOMEM;
    l->tags[l->ntags++] = key;
    l->tags[l->ntags++] = l->vhash[i] - 1;
    return WG_OK;
}

int wg_mvt_tag_str(wg_mvt_layer *l, uint32_t key, const char *s)
{
    if (!s) return WG_OK;
    value v = {s, 0};
    return add_tag(l, key, &v);
}

int wg_mvt_tag_int(wg_mvt_layer *l, uint32_t key, int64_t i)
{
    value v = {NULL, i};
    return add_tag(l, key, &v);
}

/* ------------------------------------------------------------------ pack */

typedef struct packed_layer {
    VectorTile__Tile__Layer msg;
    VectorTile__Tile__Feature *f, **fp;
    VectorTile__Tile__Value *v, **vp;
} packed_layer;

static int pack_layer(const wg_mvt_layer *l, packed_layer *p)
{
    vector_tile__tile__layer__init(&p->msg);
    p->f = malloc(l->nf * sizeof *p->f);
    p->fp = malloc(l->nf * sizeof *p->fp);
    p->v = malloc((l->nvals ? l->nvals : 1) * sizeof *p->v);
    p->vp = malloc((l->nvals ? l->nvals : 1) * sizeof *p->vp);
    if (!p->f || !p->fp || !p->v || !p->vp) return WG_ENOMEM;
    for (size_t k = 0; k < l->nf; k++) {
        const feature *f = &l->f[k];
        VectorTile__Tile__Feature *m = &p->f[k];
        vector_tile__tile__feature__init(m);
        m->has_id = 1;
        m->id = f->id;
        m->has_type = 1;
        m->type = f->type == WG_MVT_POINT ? VECTOR_TILE__TILE__GEOM_TYPE__POINT
                                          : VECTOR_TILE__TILE__GEOM_TYPE__POLYGON;
        size_t tag_end = k + 1 < l->nf ? l->f[k + 1].tag0 : l->ntags;
        m->n_tags = tag_end - f->tag0;
        m->tags = l->tags ? &l->tags[f->tag0] : NULL;
        m->n_geometry = f->ngeom;
        m->geometry = l->geom ? &l->geom[f->geom0] : NULL; /* NULL + 0 is undefined too */
        p->fp[k] = m;
    }
    for (size_t k = 0; k < l->nvals; k++) {
        VectorTile__Tile__Value *m = &p->v[k];
        vector_tile__tile__value__init(m);
        if (l->vals[k].s) {
            m->string_value = (char *)l->vals[k].s; /* only read by the packer */
        } else {
            m->has_int_value = 1;
            m->int_value = l->vals[k].i;
        }
        p->vp[k] = m;
    }
    p->msg.version = 2;
    p->msg.name = (char *)l->name;
    p->msg.n_features = l->nf;
    p->msg.features = p->fp;
    p->msg.n_keys = l->nkeys;
    p->msg.keys = (char **)l->keys;
    p->msg.n_values = l->nvals;
    p->msg.values = p->vp;
    p->msg.has_extent = 1;
    p->msg.extent = WG_MVT_EXTENT;
    return WG_OK;
}

int wg_mvt_pack(const wg_mvt *t, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    packed_layer pl[WG_MVT_MAX_LAYERS];
    VectorTile__Tile__Layer *lp[WG_MVT_MAX_LAYERS];
    size_t n = 0;
    int rc = WG_OK;
    memset(pl, 0, sizeof pl);
    for (size_t k = 0; rc == WG_OK && k < t->nlayers; k++) {
        if (t->layer[k].nf == 0) continue;
        rc = pack_layer(&t->layer[k], &pl[n]);
        lp[n] = &pl[n].msg;
        n++;
    }
    if (rc == WG_OK && n > 0) {
        VectorTile__Tile tile = VECTOR_TILE__TILE__INIT;
        tile.n_layers = n;
        tile.layers = lp;
        size_t size = vector_tile__tile__get_packed_size(&tile);
        unsigned char *buf = malloc(size ? size : 1);
        if (!buf)
            rc = WG_ENOMEM;
        else {
            *len = vector_tile__tile__pack(&tile, buf);
            *data = buf;
        }
    }
    for (size_t k = 0; k < n; k++) {
        free(pl[k].f);
        free(pl[k].fp);
        free(pl[k].v);
        free(pl[k].vp);
    }
    return rc;
}
