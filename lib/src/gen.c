/* The synthetic city generator: see wangge/gen.h.
 *
 * One office at a time, in a local metric frame (x east, y north, metres from the office
 * centre), converted to lon/lat when lines are made:
 *   1. the district outline (an elongated coastal valley, bays on the east side), a meandering
 *      river along the valley, two arterials parallel to it and cross arterials;
 *   2. land use: village cores (dense lanes, handshake buildings), industrial estates (few
 *      streets, dormitories), the valley floor (streets, houses and apartment blocks) and
 *      hills beyond the valley sides (almost empty);
 *   3. streets on a jittered lattice that follows the river (kept more where people live) and
 *      lanes inside the village cores;
 *   4. blocks = faces of one snap-rounded noding of all of it (planar.c), so every union of
 *      blocks tiles exactly; buildings placed inside blocks by land-use density;
 *   5. communities = the faces cut by the arterials and the river, merged smallest-first with
 *      a neighbour down to the number asked; work grids = blocks of a community split by
 *      household-weighted recursive bisection, then made contiguous;
 *   6. codes in reading order (planar.c), workers, events, and two Voronoi thematic layers.
 * Everything random comes from one seeded stream per office, so output is reproducible. */
#include "wangge/gen.h"

#include "gen_names.h"
#include "geom.h"
#include "planar.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PI 3.14159265358979323846
#define SNAP 1e-7           /* output grid in degrees (about 1 cm) */
#define STEP_M 40.0         /* vertex spacing of generated curves */
#define BUILDING_MARGIN 4.0 /* metres between a building and its block's edge */
#define BLOCK_CAP 240.0     /* households per block at most */
#define CENTRE_LON 114.46
#define CENTRE_LAT 22.63
#define SPACING_X 13000.0   /* office spacing at --scale, metres */
#define SPACING_Y 9000.0

enum zone { Z_HILL, Z_IND, Z_RES, Z_CORE };
enum road_class { R_ARTERIAL, R_STREET, R_LANE, R_RIVER };
static const char *const ROAD_CLASS[] = {"arterial", "street", "lane", "river"};

typedef struct frame {
    double lon0, lat0, mx, my; /* metres per degree of lon / lat */
} frame;

typedef struct core {
    double x, y, r, angle, spacing;
    char name[32];
} core;

typedef struct estate {
    double x, y, rx, ry, angle;
} estate;

typedef struct road {
    int cls;
    char code[32], name[48];
    GEOSGeometry *g;    /* full line, degrees */
    GEOSGeometry *clip; /* clipped to the district and snapped; NULL if outside */
    int counter;        /* last house number given on it */
} road;

typedef struct face {
    double px, py; /* interior point, degrees */
    double xm, ym; /* same, metres */
    double area_m2, weight;
    int macro, comm, grid, road;
    long hh;
    size_t first_bld, nbld;
} face;

typedef struct building {
    double lon, lat;
    int hh, face, number;
} building;

typedef struct unit {
    GEOSGeometry *g;
    double px, py;
    long hh;
    int seq;     /* sequence number in the code (1-based) */
    int parent;  /* community index for grids */
    size_t nbld; /* grids: buildings */
} unit;

typedef struct office {
    wg_ctx *ctx;
    GEOSContextHandle_t h;
    const wg_gen_opts *o;
    int k;
    char code[16], name[32];
    frame fr;
    wg_rng r;
    /* shape */
    double a, b, amp[6], ph[6];
    double ry0, ra, rlam, rph, rph2, v0, vlam, vph;
    core cores[10];
    int ncores;
    estate est[4];
    int nest;
    GEOSGeometry *district_raw, *district;
    road *roads;
    size_t nroads, roadcap;
    unsigned char *stem_used_st, *stem_used_rd, *stem_used_v;
    /* blocks */
    GEOSGeometry **faces;
    size_t nfaces;
    face *fi;
    const GEOSPreparedGeometry **prep;
    GEOSSTRtree *face_tree, *road_tree;
    building *bld;
    size_t nbld, bldcap;
    /* communities and grids */
    int nc, ng;
    char (*cname)[32];
    unit *comm, *grid;
    int *comm_order, *grid_order; /* index -> output position */
} office;

/* ------------------------------------------------------------------ shape */

static void to_deg(const frame *f, double x, double y, double *lon, double *lat)
{
    *lon = f->lon0 + x / f->mx;
    *lat = f->lat0 + y / f->my;
}

static void to_m(const frame *f, double lon, double lat, double *x, double *y)
{
    *x = (lon - f->lon0) * f->mx;
    *y = (lat - f->lat0) * f->my;
}

static double river_y(const office *of, double x)
{
    return of->ry0 + of->ra * sin(2 * PI * x / of->rlam + of->rph) +
           0.2 * of->ra * sin(6 * PI * x / of->rlam + of->rph2);
}

static double valley_half(const office *of, double x)
{
    return of->v0 + 250 * sin(2 * PI * x / of->vlam + of->vph);
}

static int zone_at(const office *of, double x, double y, double *intensity)
{
    *intensity = 0;
    for (int i = 0; i < of->ncores; i++) {
        double d = hypot(x - of->cores[i].x, y - of->cores[i].y);
        if (d < of->cores[i].r) {
            *intensity = 1 - (d / of->cores[i].r) * (d / of->cores[i].r);
            return Z_CORE;
        }
    }
    for (int i = 0; i < of->nest; i++) {
        const estate *e = &of->est[i];
        double c = cos(e->angle), s = sin(e->angle), u = (x - e->x) * c + (y - e->y) * s,
               v = -(x - e->x) * s + (y - e->y) * c;
        if ((u / e->rx) * (u / e->rx) + (v / e->ry) * (v / e->ry) <= 1) return Z_IND;
    }
    return fabs(y - river_y(of, x)) > valley_half(of, x) ? Z_HILL : Z_RES;
}

static void outline_pt(const office *of, double t, double *x, double *y)
{
    double f = 1;
    for (int k = 2; k <= 5; k++) f += of->amp[k] * sin(k * t + of->ph[k]);
    if (cos(t) > 0.3) f += 0.05 * sin(9 * t + of->ph[1]) * (cos(t) - 0.3); /* bays on the coast */
    *x = of->a * f * cos(t);
    *y = of->b * f * sin(t);
}

static GEOSGeometry *make_line(office *of, const double *xs, const double *ys, size_t n, int ring)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(of->h, (unsigned)(n + (ring ? 1 : 0)), 2);
    if (!cs) return NULL;
    for (size_t i = 0; i <= n; i++) {
        if (i == n && !ring) break;
        double lon, lat;
        to_deg(&of->fr, xs[i % n], ys[i % n], &lon, &lat);
        GEOSCoordSeq_setXY_r(of->h, cs, (unsigned)i, lon, lat);
    }
    return ring ? GEOSGeom_createLinearRing_r(of->h, cs) : GEOSGeom_createLineString_r(of->h, cs);
}

static int add_road(office *of, int cls, const char *code, const char *name, GEOSGeometry *g)
{
    if (!g) return wg_fail_geos(of->ctx, "cannot build a line");
    if (wg_grow((void **)&of->roads, &of->roadcap, of->nroads + 1, sizeof *of->roads) != WG_OK) {
        GEOSGeom_destroy_r(of->h, g);
        return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    }
    road *rd = &of->roads[of->nroads++];
    memset(rd, 0, sizeof *rd);
    rd->cls = cls;
    rd->g = g;
    snprintf(rd->code, sizeof rd->code, "%s", code);
    snprintf(rd->name, sizeof rd->name, "%s", name);
    return WG_OK;
}

/* A curve sampled every STEP_M metres: y = f(x) (horizontal) or x = f(y). */
typedef double (*curve_fn)(const office *of, double t, const double *p);

static int add_curve(office *of, int cls, const char *code, const char *name, curve_fn fn,
                     const double *p, double t0, double t1, int vertical)
{
    size_t n = (size_t)((t1 - t0) / STEP_M) + 1;
    double *xs = malloc(n * sizeof *xs), *ys = malloc(n * sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double t = t0 + (t1 - t0) * (double)i / (double)(n - 1), v = fn(of, t, p);
        xs[i] = vertical ? v : t;
        ys[i] = vertical ? t : v;
    }
    int rc = add_road(of, cls, code, name, make_line(of, xs, ys, n, 0));
    free(xs);
    free(ys);
    return rc;
}

static double river_fn(const office *of, double x, const double *p)
{
    (void)p;
    return river_y(of, x);
}

/* p = {offset from the river, wiggle amplitude, wiggle wavelength, phase} */
static double parallel_fn(const office *of, double x, const double *p)
{
    return river_y(of, x) + p[0] + p[1] * sin(2 * PI * x / p[2] + p[3]);
}

/* p = {x at y = 0, tilt, wiggle amplitude, phase} */
static double cross_fn(const office *of, double y, const double *p)
{
    (void)of;
    return p[0] + p[1] * y + p[2] * sin(y / 700 + p[3]);
}

static void office_shape(office *of)
{
    wg_rng *r = &of->r;
    of->a = wg_rng_range(r, 4300, 4700);
    of->b = wg_rng_range(r, 2600, 3000);
    for (int k = 1; k <= 5; k++) {
        of->amp[k] = wg_rng_range(r, 0.015, 0.05);
        of->ph[k] = wg_rng_range(r, 0, 2 * PI);
    }
    of->ry0 = wg_rng_range(r, -250, 250);
    of->ra = wg_rng_range(r, 220, 450);
    of->rlam = wg_rng_range(r, 6000, 9500);
    of->rph = wg_rng_range(r, 0, 2 * PI);
    of->rph2 = wg_rng_range(r, 0, 2 * PI);
    of->v0 = wg_rng_range(r, 1150, 1500);
    of->vlam = wg_rng_range(r, 4000, 7000);
    of->vph = wg_rng_range(r, 0, 2 * PI);
    /* village cores on the valley floor, apart from each other */
    int want = (int)wg_rng_int(r, 5, 8), i = 0;
    for (int tries = 0; i < want && tries < 500; tries++) {
        double x = wg_rng_range(r, -0.8 * of->a, 0.8 * of->a), y = river_y(of, x) + wg_rng_range(r, -550, 550);
        double rad = wg_rng_range(r, 200, 380);
        int ok = 1;
        for (int j = 0; j < i; j++)
            if (hypot(x - of->cores[j].x, y - of->cores[j].y) < rad + of->cores[j].r + 150) ok = 0;
        if (!ok) continue;
        of->cores[i] = (core){x, y, rad, wg_rng_range(r, 0, PI / 2), wg_rng_range(r, 55, 80), ""};
        i++;
    }
    of->ncores = i;
    /* industrial estates away from the villages */
    want = (int)wg_rng_int(r, 2, 3);
    i = 0;
    for (int tries = 0; i < want && tries < 500; tries++) {
        double x = wg_rng_range(r, -0.85 * of->a, 0.85 * of->a), y = river_y(of, x) + wg_rng_range(r, -700, 700);
        estate e = {x, y, wg_rng_range(r, 350, 650), wg_rng_range(r, 220, 400), wg_rng_range(r, 0, PI)};
        int ok = 1;
        for (int j = 0; j < of->ncores; j++)
            if (hypot(x - of->cores[j].x, y - of->cores[j].y) < e.rx + of->cores[j].r + 100) ok = 0;
        for (int j = 0; j < i; j++)
            if (hypot(x - of->est[j].x, y - of->est[j].y) < e.rx + of->est[j].rx + 100) ok = 0;
        if (!ok) continue;
        of->est[i++] = e;
        of->nest = i; /* zone_at() sees the estates placed so far */
    }
    of->nest = i;
}

static int office_district(office *of)
{
    enum { N = 180 };
    double xs[N], ys[N];
    for (int i = 0; i < N; i++) outline_pt(of, 2 * PI * i / N, &xs[i], &ys[i]);
    GEOSGeometry *ring = make_line(of, xs, ys, N, 1);
    of->district_raw = ring ? GEOSGeom_createPolygon_r(of->h, ring, NULL, 0) : NULL;
    return of->district_raw ? WG_OK : wg_fail_geos(of->ctx, "cannot build the district outline");
}

/* Main lines: the river, two arterials along it and ncross cross arterials. */
static int office_main_lines(office *of, int ncross)
{
    wg_rng *r = &of->r;
    char code[32], name[48];
    double span = of->a * 1.5;
    char oname[32];
    gen_office_name(of->k, oname, sizeof oname);
    snprintf(code, sizeof code, "%s-H01", of->code);
    snprintf(name, sizeof name, "%s河", oname);
    int rc = add_curve(of, R_RIVER, code, name, river_fn, NULL, -span, span, 0);
    for (int side = 0; rc == WG_OK && side < 2; side++) {
        double p[4] = {(side ? -1 : 1) * wg_rng_range(r, 560, 820), wg_rng_range(r, 40, 110),
                       wg_rng_range(r, 1800, 3000), wg_rng_range(r, 0, 2 * PI)};
        snprintf(code, sizeof code, "%s-A%02d", of->code, side + 1);
        snprintf(name, sizeof name, "%s%s", gen_road_stem(r, of->stem_used_rd), side ? "大道" : "路");
        rc = add_curve(of, R_ARTERIAL, code, name, parallel_fn, p, -span, span, 0);
    }
    for (int j = 0; rc == WG_OK && j < ncross; j++) {
        double x = -0.78 * of->a + j * (1.56 * of->a / (ncross - 1)) + wg_rng_range(r, -200, 200);
        double p[4] = {x, wg_rng_range(r, -0.1, 0.1), wg_rng_range(r, 30, 90), wg_rng_range(r, 0, 2 * PI)};
        snprintf(code, sizeof code, "%s-A%02d", of->code, j + 3);
        snprintf(name, sizeof name, "%s路", gen_road_stem(r, of->stem_used_rd));
        rc = add_curve(of, R_ARTERIAL, code, name, cross_fn, p, -of->b * 1.5, of->b * 1.5, 1);
    }
    return rc;
}

/* Lattice edges kept at random become roads: runs of consecutive kept edges along a row
 * (or column) are one road each. nodes: (ni x nj) x/y arrays, row-major by j. */
static int lattice_runs(office *of, int cls, const double *nx, const double *ny, int ni, int nj,
                        const unsigned char *keep_h, const unsigned char *keep_v, const char *prefix,
                        int *seq)
{
    int rc = WG_OK;
    double *xs = malloc((size_t)(ni > nj ? ni : nj) * sizeof *xs);
    double *ys = malloc((size_t)(ni > nj ? ni : nj) * sizeof *ys);
    if (!xs || !ys) rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (int dir = 0; rc == WG_OK && dir < 2; dir++) {
        int lines = dir ? ni : nj, len = dir ? nj : ni;
        for (int l = 0; rc == WG_OK && l < lines; l++) {
            char name[48];
            if (cls == R_LANE) name[0] = '\0';
            else snprintf(name, sizeof name, "%s%s", gen_road_stem(&of->r, dir ? of->stem_used_rd : of->stem_used_st),
                          dir ? "路" : "街");
            int lane_no = 0;
            for (int s = 0; rc == WG_OK && s < len - 1;) {
                size_t e = dir ? (size_t)s * (size_t)ni + (size_t)l : (size_t)l * (size_t)(ni - 1) + (size_t)s;
                if (!(dir ? keep_v[e] : keep_h[e])) {
                    s++;
                    continue;
                }
                size_t n = 0;
                for (; s < len; s++) {
                    size_t node = dir ? (size_t)s * (size_t)ni + (size_t)l : (size_t)l * (size_t)ni + (size_t)s;
                    xs[n] = nx[node];
                    ys[n] = ny[node];
                    n++;
                    if (s == len - 1) break;
                    size_t e2 = dir ? (size_t)s * (size_t)ni + (size_t)l : (size_t)l * (size_t)(ni - 1) + (size_t)s;
                    if (!(dir ? keep_v[e2] : keep_h[e2])) break;
                }
                char code[32], lname[48];
                snprintf(code, sizeof code, "%s-%c%04d", of->code, cls == R_LANE ? 'L' : 'S', ++*seq);
                if (cls == R_LANE) snprintf(lname, sizeof lname, "%s%d巷", prefix, ++lane_no);
                rc = add_road(of, cls, code, cls == R_LANE ? lname : name, make_line(of, xs, ys, n, 0));
            }
        }
    }
    free(xs);
    free(ys);
    return rc;
}

static double keep_prob(const office *of, double x, double y)
{
    double in;
    switch (zone_at(of, x, y, &in)) {
    case Z_CORE: return 0.95;
    case Z_RES: return 0.85;
    case Z_IND: return 0.3;
    default: return 0.07;
    }
}

static int office_streets(office *of, int *seq)
{
    wg_rng *r = &of->r;
    double su = wg_rng_range(r, 230, 290), sv = wg_rng_range(r, 170, 230);
    int ni = (int)(2.6 * of->a / su) + 2, nj = (int)(2.8 * of->b / sv) + 2;
    size_t nn = (size_t)ni * (size_t)nj;
    double *nx = malloc(nn * sizeof *nx), *ny = malloc(nn * sizeof *ny);
    unsigned char *kh = calloc(nn, 1), *kv = calloc(nn, 1);
    int rc = WG_OK;
    if (!nx || !ny || !kh || !kv) rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (int j = 0; rc == WG_OK && j < nj; j++)
        for (int i = 0; i < ni; i++) {
            double u = -1.3 * of->a + i * su, v = -1.4 * of->b + j * sv;
            size_t n = (size_t)j * (size_t)ni + (size_t)i;
            nx[n] = u + wg_rng_range(r, -0.12, 0.12) * su;
            ny[n] = river_y(of, u) + v + wg_rng_range(r, -0.12, 0.12) * sv;
        }
    for (int j = 0; rc == WG_OK && j < nj; j++)
        for (int i = 0; i < ni; i++) {
            size_t n = (size_t)j * (size_t)ni + (size_t)i;
            if (i + 1 < ni) {
                size_t m = n + 1;
                kh[(size_t)j * (size_t)(ni - 1) + (size_t)i] =
                    wg_rng_unit(r) < keep_prob(of, (nx[n] + nx[m]) / 2, (ny[n] + ny[m]) / 2);
            }
            if (j + 1 < nj) {
                size_t m = n + (size_t)ni;
                kv[n] = wg_rng_unit(r) < keep_prob(of, (nx[n] + nx[m]) / 2, (ny[n] + ny[m]) / 2);
            }
        }
    if (rc == WG_OK) rc = lattice_runs(of, R_STREET, nx, ny, ni, nj, kh, kv, NULL, seq);
    free(nx);
    free(ny);
    free(kh);
    free(kv);
    return rc;
}

static int office_lanes(office *of, int *seq)
{
    int rc = WG_OK;
    for (int c = 0; rc == WG_OK && c < of->ncores; c++) {
        core *co = &of->cores[c];
        snprintf(co->name, sizeof co->name, "%s村", gen_road_stem(&of->r, of->stem_used_v));
        int half = (int)(co->r / co->spacing) + 1, n1 = 2 * half + 1;
        size_t nn = (size_t)n1 * (size_t)n1;
        double *nx = malloc(nn * sizeof *nx), *ny = malloc(nn * sizeof *ny);
        unsigned char *kh = calloc(nn, 1), *kv = calloc(nn, 1);
        if (!nx || !ny || !kh || !kv) rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
        double ca = cos(co->angle), sa = sin(co->angle);
        for (int j = 0; rc == WG_OK && j < n1; j++)
            for (int i = 0; i < n1; i++) {
                double u = (i - half + wg_rng_range(&of->r, -0.12, 0.12)) * co->spacing,
                       v = (j - half + wg_rng_range(&of->r, -0.12, 0.12)) * co->spacing;
                size_t n = (size_t)j * (size_t)n1 + (size_t)i;
                nx[n] = co->x + u * ca - v * sa;
                ny[n] = co->y + u * sa + v * ca;
            }
        for (int j = 0; rc == WG_OK && j < n1; j++)
            for (int i = 0; i < n1; i++) {
                size_t n = (size_t)j * (size_t)n1 + (size_t)i;
                if (i + 1 < n1) {
                    size_t m = n + 1;
                    kh[(size_t)j * (size_t)(n1 - 1) + (size_t)i] =
                        hypot((nx[n] + nx[m]) / 2 - co->x, (ny[n] + ny[m]) / 2 - co->y) < co->r &&
                        wg_rng_unit(&of->r) < 0.8;
                }
                if (j + 1 < n1) {
                    size_t m = n + (size_t)n1;
                    kv[n] = hypot((nx[n] + nx[m]) / 2 - co->x, (ny[n] + ny[m]) / 2 - co->y) < co->r &&
                            wg_rng_unit(&of->r) < 0.8;
                }
            }
        if (rc == WG_OK) rc = lattice_runs(of, R_LANE, nx, ny, n1, n1, kh, kv, co->name, seq);
        free(nx);
        free(ny);
        free(kh);
        free(kv);
    }
    return rc;
}

/* ------------------------------------------------------------------ blocks */

static int collect_lines(office *of, int main_only, GEOSGeometry ***lines, size_t *n)
{
    *lines = malloc((of->nroads ? of->nroads : 1) * sizeof **lines);
    if (!*lines) return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    *n = 0;
    for (size_t i = 0; i < of->nroads; i++)
        if (!main_only || of->roads[i].cls == R_ARTERIAL || of->roads[i].cls == R_RIVER)
            (*lines)[(*n)++] = of->roads[i].g;
    return WG_OK;
}

/* Faces cut by the arterials and the river (community candidates). */
static int macro_faces(office *of, GEOSGeometry ***mf, size_t *nm)
{
    GEOSGeometry **lines = NULL;
    size_t n = 0;
    int rc = collect_lines(of, 1, &lines, &n);
    if (rc == WG_OK) rc = wg_planar_faces(of->ctx, of->district_raw, lines, n, SNAP, mf, nm);
    free(lines);
    return rc;
}

static int office_blocks(office *of)
{
    GEOSGeometry **lines = NULL;
    size_t n = 0;
    int rc = collect_lines(of, 0, &lines, &n);
    if (rc == WG_OK) rc = wg_planar_faces(of->ctx, of->district_raw, lines, n, SNAP, &of->faces, &of->nfaces);
    free(lines);
    if (rc != WG_OK) return rc;
    of->fi = calloc(of->nfaces ? of->nfaces : 1, sizeof *of->fi);
    of->prep = calloc(of->nfaces ? of->nfaces : 1, sizeof *of->prep);
    of->face_tree = GEOSSTRtree_create_r(of->h, 10);
    if (!of->fi || !of->prep || !of->face_tree) return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; i < of->nfaces; i++) {
        face *f = &of->fi[i];
        rc = wg_geom_point_on_surface(of->ctx, of->faces[i], &f->px, &f->py);
        if (rc != WG_OK) return rc;
        to_m(&of->fr, f->px, f->py, &f->xm, &f->ym);
        f->area_m2 = wg_geom_area_m2(of->ctx, of->faces[i]);
        f->grid = f->comm = f->macro = f->road = -1;
        if (!(of->prep[i] = GEOSPrepare_r(of->h, of->faces[i]))) return wg_fail_geos(of->ctx, "cannot prepare a block");
        GEOSSTRtree_insert_r(of->h, of->face_tree, of->faces[i], &of->fi[i]);
    }
    return WG_OK;
}

typedef struct locate_ctx {
    office *of;
    const GEOSGeometry *pt;
    long found;
} locate_ctx;

static void locate_cb(void *item, void *ud)
{
    locate_ctx *lc = ud;
    size_t i = (size_t)((face *)item - lc->of->fi);
    if (lc->found < 0 && GEOSPreparedContains_r(lc->of->h, lc->of->prep[i], lc->pt) == 1) lc->found = (long)i;
}

/* The block strictly containing (lon, lat), or -1. */
static long locate_face(office *of, double lon, double lat)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(of->h, lon, lat);
    if (!pt) return -1;
    locate_ctx lc = {of, pt, -1};
    GEOSSTRtree_query_r(of->h, of->face_tree, pt, locate_cb, &lc);
    GEOSGeom_destroy_r(of->h, pt);
    return lc.found;
}

/* ---------------------------------------------------------- roads nearby */

static int road_distance(const void *a, const void *b, double *d, void *ud)
{
    office *of = ud;
    const road *ra = a, *rb = b;
    return GEOSDistance_r(of->h, ra->clip ? ra->clip : ra->g, rb->clip ? rb->clip : rb->g, d);
}

static int office_road_tree(office *of)
{
    of->road_tree = GEOSSTRtree_create_r(of->h, 10);
    if (!of->road_tree) return wg_fail_geos(of->ctx, "cannot index roads");
    for (size_t i = 0; i < of->nroads; i++) {
        road *rd = &of->roads[i];
        GEOSGeometry *c = GEOSIntersection_r(of->h, rd->g, of->district_raw);
        if (!c) return wg_fail_geos(of->ctx, "cannot clip a road");
        GEOSGeometry *s = GEOSGeom_setPrecision_r(of->h, c, SNAP, 0);
        GEOSGeom_destroy_r(of->h, c);
        if (!s) return wg_fail_geos(of->ctx, "cannot snap a road");
        if (GEOSisEmpty_r(of->h, s) || GEOSGeomTypeId_r(of->h, s) == GEOS_POINT ||
            GEOSGeomTypeId_r(of->h, s) == GEOS_MULTIPOINT) {
            GEOSGeom_destroy_r(of->h, s);
            continue;
        }
        rd->clip = s;
        if (rd->cls != R_RIVER) GEOSSTRtree_insert_r(of->h, of->road_tree, rd->clip, rd);
    }
    return WG_OK;
}

static road *nearest_road(office *of, double lon, double lat)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(of->h, lon, lat);
    if (!pt) return NULL;
    road q = {0};
    q.g = pt;
    const void *hit = GEOSSTRtree_nearest_generic_r(of->h, of->road_tree, &q, pt, road_distance, of);
    GEOSGeom_destroy_r(of->h, pt);
    return (road *)hit;
}

/* ---------------------------------------------------------- households */

/* Households per hectare at a point of the metric frame; *zone gets its land use. */
static double density_at(const office *of, double x, double y, int *zone)
{
    double in;
    *zone = zone_at(of, x, y, &in);
    switch (*zone) {
    case Z_CORE: return 90 * (0.4 + 0.6 * in);
    case Z_RES: return 7;
    case Z_IND: return 1.2;
    default: return 0.04;
    }
}

static int building_size(wg_rng *r, int zone)
{
    double u = wg_rng_unit(r);
    switch (zone) {
    case Z_CORE: return (int)wg_rng_int(r, 6, 24);            /* handshake buildings */
    case Z_RES: return u < 0.75 ? (int)wg_rng_int(r, 2, 8)      /* houses */
                                : (int)wg_rng_int(r, 20, 80);   /* apartment blocks */
    case Z_IND: return u < 0.7 ? (int)wg_rng_int(r, 10, 40) : (int)wg_rng_int(r, 1, 4); /* dormitories */
    default: return (int)wg_rng_int(r, 1, 3);
    }
}

/* A uniform random point of block i (rejection from its bounding box); 0 if none found. */
static int sample_block(office *of, size_t i, double *lon, double *lat)
{
    double x0, x1, y0, y1;
    GEOSGeom_getXMin_r(of->h, of->faces[i], &x0);
    GEOSGeom_getXMax_r(of->h, of->faces[i], &x1);
    GEOSGeom_getYMin_r(of->h, of->faces[i], &y0);
    GEOSGeom_getYMax_r(of->h, of->faces[i], &y1);
    for (int t = 0; t < 50; t++) {
        double x = wg_rng_range(&of->r, x0, x1), y = wg_rng_range(&of->r, y0, y1);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(of->h, x, y);
        int ok = pt && GEOSPreparedContains_r(of->h, of->prep[i], pt) == 1;
        if (pt) GEOSGeom_destroy_r(of->h, pt);
        if (ok) {
            *lon = x;
            *lat = y;
            return 1;
        }
    }
    return 0;
}

/* Mean and largest density over block i, from samples (a block may straddle land uses: a
 * hill block reaching down into the valley is dense only at its foot). */
static void block_density(office *of, size_t i, double *mean, double *max)
{
    face *f = &of->fi[i];
    int m = (int)fmin(400, fmax(4, f->area_m2 / 2500)), got = 0, zone;
    double sum = 0, x, y, lon, lat;
    *max = 0;
    for (int k = 0; k < m; k++) {
        if (!sample_block(of, i, &lon, &lat)) continue;
        to_m(&of->fr, lon, lat, &x, &y);
        double d = density_at(of, x, y, &zone);
        sum += d;
        *max = fmax(*max, d);
        got++;
    }
    if (!got) {
        *mean = *max = density_at(of, f->xm, f->ym, &zone);
        return;
    }
    *mean = sum / got;
}

/* A building site in block i: density-weighted, BUILDING_MARGIN metres from the block's edge
 * when the block allows it. *zone gets the land use there. */
static void building_site(office *of, size_t i, const GEOSPreparedGeometry *edge, double dmax, double *lon,
                          double *lat, int *zone)
{
    double margin = BUILDING_MARGIN / of->fr.my, x, y;
    for (int t = 0; t < 400; t++) {
        if (!sample_block(of, i, lon, lat)) break;
        to_m(&of->fr, *lon, *lat, &x, &y);
        if (wg_rng_unit(&of->r) * dmax > density_at(of, x, y, zone)) continue;
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(of->h, *lon, *lat);
        int ok = pt && GEOSPreparedDistanceWithin_r(of->h, edge, pt, margin) == 0;
        if (pt) GEOSGeom_destroy_r(of->h, pt);
        if (ok) return;
    }
    *lon = of->fi[i].px;
    *lat = of->fi[i].py;
    density_at(of, of->fi[i].xm, of->fi[i].ym, zone);
}

static int office_households(office *of)
{
    double total = 0, *dmean = malloc((of->nfaces ? of->nfaces : 1) * sizeof *dmean),
           *dmax = malloc((of->nfaces ? of->nfaces : 1) * sizeof *dmax);
    if (!dmean || !dmax) {
        free(dmean), free(dmax);
        return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < of->nfaces; i++) {
        block_density(of, i, &dmean[i], &dmax[i]);
        total += dmean[i] * of->fi[i].area_m2 / 1e4;
    }
    /* Scale the densities to the households asked for, no block above BLOCK_CAP (one block
     * must not outweigh a work grid: the generator's grids are unions of whole blocks). */
    double lo = 0, hi = total > 0 ? 1e3 * of->o->households / total : 0;
    for (int it = 0; it < 100 && total > 0; it++) {
        double mid = (lo + hi) / 2, sum = 0;
        for (size_t i = 0; i < of->nfaces; i++) sum += fmin(BLOCK_CAP, mid * dmean[i] * of->fi[i].area_m2 / 1e4);
        if (sum < of->o->households) lo = mid;
        else hi = mid;
    }
    double scale = hi;
    int rc = WG_OK;
    for (size_t i = 0; rc == WG_OK && i < of->nfaces; i++) {
        face *f = &of->fi[i];
        double expect = fmin(BLOCK_CAP, scale * dmean[i] * f->area_m2 / 1e4);
        long want = (long)floor(expect + wg_rng_unit(&of->r));
        f->first_bld = of->nbld;
        if (want <= 0) continue;
        road *rd = nearest_road(of, f->px, f->py);
        f->road = rd ? (int)(rd - of->roads) : -1;
        GEOSGeometry *b = GEOSBoundary_r(of->h, of->faces[i]);
        const GEOSPreparedGeometry *edge = b ? GEOSPrepare_r(of->h, b) : NULL;
        if (!edge) rc = wg_fail_geos(of->ctx, "cannot prepare a block edge");
        while (rc == WG_OK && f->hh < want) {
            if (wg_grow((void **)&of->bld, &of->bldcap, of->nbld + 1, sizeof *of->bld) != WG_OK) {
                rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
                break;
            }
            building *bd = &of->bld[of->nbld];
            int zone;
            building_site(of, i, edge, dmax[i], &bd->lon, &bd->lat, &zone);
            int size = building_size(&of->r, zone);
            if (size > want - f->hh) size = (int)(want - f->hh);
            bd->hh = size;
            bd->face = (int)i;
            bd->number = 0;
            if (rd) {
                rd->counter += (int)wg_rng_int(&of->r, 1, 2);
                bd->number = rd->counter;
            }
            of->nbld++;
            f->nbld++;
            f->hh += size;
        }
        if (edge) GEOSPreparedGeom_destroy_r(of->h, edge);
        if (b) GEOSGeom_destroy_r(of->h, b);
    }
    free(dmean);
    free(dmax);
    return rc;
}

/* ---------------------------------------------------------- communities */

static int office_communities(office *of, GEOSGeometry **mf, size_t nm)
{
    int rc = WG_OK;
    const GEOSPreparedGeometry **mp = calloc(nm, sizeof *mp);
    double *whh = calloc(nm, sizeof *whh), *warea = calloc(nm, sizeof *warea);
    int *group = malloc(nm * sizeof *group);
    wg_adjacency adj = {0};
    if (!mp || !whh || !warea || !group) rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (size_t m = 0; rc == WG_OK && m < nm; m++) {
        group[m] = (int)m;
        if (!(mp[m] = GEOSPrepare_r(of->h, mf[m]))) rc = wg_fail_geos(of->ctx, "cannot prepare");
    }
    double thh = 0, tarea = 0;
    for (size_t i = 0; rc == WG_OK && i < of->nfaces; i++) {
        face *f = &of->fi[i];
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(of->h, f->px, f->py);
        int best = 0;
        for (size_t m = 0; pt && m < nm; m++)
            if (GEOSPreparedIntersects_r(of->h, mp[m], pt) == 1) {
                best = (int)m;
                break;
            }
        GEOSGeom_destroy_r(of->h, pt);
        f->macro = best;
        whh[best] += (double)f->hh;
        warea[best] += f->area_m2;
        thh += (double)f->hh;
        tarea += f->area_m2;
    }
    if (rc == WG_OK) rc = wg_planar_adjacency(of->ctx, mf, nm, &adj);
    /* merge the smallest group into its smallest neighbour until nc are left */
    size_t groups = nm;
    while (rc == WG_OK && groups > (size_t)of->nc) {
        double score[256];
        size_t ng = nm < 256 ? nm : 256;
        for (size_t g = 0; g < ng; g++) score[g] = -1;
        for (size_t m = 0; m < nm && m < 256; m++) {
            size_t g = (size_t)group[m];
            if (score[g] < 0) score[g] = 0;
            score[g] += whh[m] / (thh > 0 ? thh : 1) + warea[m] / (tarea > 0 ? tarea : 1);
        }
        int merged = 0;
        /* try groups smallest first until one has a neighbour */
        for (size_t attempt = 0; attempt < ng && !merged; attempt++) {
            int gmin = -1;
            for (size_t g = 0; g < ng; g++) {
                if (score[g] < 0) continue;
                if (gmin < 0 || score[g] < score[gmin]) gmin = (int)g;
            }
            if (gmin < 0) break;
            int nb = -1;
            for (size_t m = 0; m < nm; m++) {
                if (group[m] != gmin) continue;
                for (size_t e = adj.start[m]; e < adj.start[m + 1]; e++) {
                    int g2 = group[adj.nbr[e]];
                    if (g2 == gmin) continue;
                    if (nb < 0 || score[g2] < score[nb] || (score[g2] == score[nb] && g2 < nb)) nb = g2;
                }
            }
            if (nb >= 0) {
                for (size_t m = 0; m < nm; m++)
                    if (group[m] == gmin) group[m] = nb;
                merged = 1;
                groups--;
            } else {
                score[gmin] = -1; /* isolated: leave it, try the next */
            }
        }
        if (!merged) rc = wg_fail(of->ctx, WG_EINVAL, "cannot merge arterial faces into %d communities", of->nc);
    }
    if (rc == WG_OK && groups < (size_t)of->nc)
        rc = wg_fail(of->ctx, WG_EINVAL, "arterials cut only %zu faces; %d communities asked", groups, of->nc);
    /* dense community numbers in order of first appearance */
    int map[256];
    for (int g = 0; g < 256; g++) map[g] = -1;
    int next = 0;
    for (size_t m = 0; rc == WG_OK && m < nm; m++)
        if (map[group[m]] < 0) map[group[m]] = next++;
    for (size_t i = 0; rc == WG_OK && i < of->nfaces; i++) of->fi[i].comm = map[group[of->fi[i].macro]];
    for (size_t m = 0; m < nm; m++)
        if (mp && mp[m]) GEOSPreparedGeom_destroy_r(of->h, mp[m]);
    free(mp);
    free(whh);
    free(warea);
    free(group);
    wg_adjacency_free(&adj);
    return rc;
}

/* ---------------------------------------------------------- work grids */

/* Splits items into k groups of about equal weight by recursive coordinate bisection. */
static int bisect(office *of, size_t *items, size_t n, int k, int *next)
{
    if (k <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++) of->fi[items[i]].grid = *next;
        (*next)++;
        return WG_OK;
    }
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, w = 0;
    for (size_t i = 0; i < n; i++) {
        const face *f = &of->fi[items[i]];
        x0 = fmin(x0, f->xm);
        x1 = fmax(x1, f->xm);
        y0 = fmin(y0, f->ym);
        y1 = fmax(y1, f->ym);
        w += f->weight;
    }
    wg_keyed *ks = malloc(n * sizeof *ks);
    if (!ks) return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    int by_x = x1 - x0 >= y1 - y0;
    for (size_t i = 0; i < n; i++) ks[i] = (wg_keyed){by_x ? of->fi[items[i]].xm : -of->fi[items[i]].ym, items[i]};
    qsort(ks, n, sizeof *ks, wg_cmp_keyed);
    for (size_t i = 0; i < n; i++) items[i] = ks[i].idx;
    free(ks);
    int k1 = k / 2;
    double target = w * k1 / k, cum = 0, best = INFINITY;
    size_t lo = (size_t)k1, hi = n - (size_t)(k - k1), split = lo;
    for (size_t s = 0; s <= hi; s++) {
        if (s >= lo && fabs(cum - target) < best) {
            best = fabs(cum - target);
            split = s;
        }
        if (s < n) cum += of->fi[items[s]].weight;
    }
    int rc = bisect(of, items, split, k1, next);
    if (rc == WG_OK) rc = bisect(of, items + split, n - split, k - k1, next);
    return rc;
}

/* Grids per community: proportional to households (largest remainder), at least one each,
 * at most one per block. */
static int apportion(office *of, const long *chh, const size_t *cfaces, int *kc)
{
    long total = 0;
    size_t cap = 0;
    for (int c = 0; c < of->nc; c++) {
        total += chh[c];
        cap += cfaces[c];
    }
    if ((size_t)of->ng > cap || of->ng < of->nc)
        return wg_fail(of->ctx, WG_EINVAL, "cannot cut %d grids from %d communities of %zu blocks", of->ng, of->nc, cap);
    int sum = 0;
    for (int c = 0; c < of->nc; c++) {
        double q = total > 0 ? (double)of->ng * (double)chh[c] / (double)total : 1;
        kc[c] = (int)fmax(1, floor(q));
        if ((size_t)kc[c] > cfaces[c]) kc[c] = (int)cfaces[c];
        sum += kc[c];
    }
    while (sum != of->ng) {
        int best = -1;
        double bestv = 0;
        for (int c = 0; c < of->nc; c++) {
            double q = total > 0 ? (double)of->ng * (double)chh[c] / (double)total : 1, rem = q - kc[c];
            if (sum < of->ng && (size_t)kc[c] < cfaces[c] && (best < 0 || rem > bestv)) best = c, bestv = rem;
            if (sum > of->ng && kc[c] > 1 && (best < 0 || rem < bestv)) best = c, bestv = rem;
        }
        if (best < 0) return wg_fail(of->ctx, WG_EINVAL, "cannot apportion %d grids", of->ng);
        kc[best] += sum < of->ng ? 1 : -1;
        sum += sum < of->ng ? 1 : -1;
    }
    return WG_OK;
}

/* Moves every part of a grid but its heaviest into the neighbouring grid of the same
 * community it shares most boundary with, so each grid is one connected polygon. */
static int make_contiguous(office *of, const wg_adjacency *adj)
{
    size_t n = of->nfaces;
    int *comp = malloc(n * sizeof *comp);
    size_t *stack = malloc(n * sizeof *stack), *members = malloc(n * sizeof *members);
    double *cw = malloc(n * sizeof *cw);
    if (!comp || !stack || !members || !cw) {
        free(comp), free(stack), free(members), free(cw);
        return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    }
    for (int pass = 0; pass < 20; pass++) {
        int ncomp = 0, moved = 0;
        for (size_t i = 0; i < n; i++) comp[i] = -1;
        for (size_t i = 0; i < n; i++) {
            if (comp[i] >= 0) continue;
            size_t top = 0;
            stack[top++] = i;
            comp[i] = ncomp;
            cw[ncomp] = 0;
            while (top) {
                size_t f = stack[--top];
                cw[ncomp] += of->fi[f].weight + 1e-9;
                for (size_t e = adj->start[f]; e < adj->start[f + 1]; e++) {
                    size_t g = adj->nbr[e];
                    if (comp[g] < 0 && of->fi[g].grid == of->fi[f].grid) {
                        comp[g] = ncomp;
                        stack[top++] = g;
                    }
                }
            }
            ncomp++;
        }
        /* heaviest component of each grid */
        int *main_comp = malloc((size_t)of->ng * sizeof *main_comp);
        if (!main_comp) {
            free(comp), free(stack), free(members), free(cw);
            return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
        }
        for (int g = 0; g < of->ng; g++) main_comp[g] = -1;
        for (size_t i = 0; i < n; i++) {
            int g = of->fi[i].grid, c = comp[i];
            if (main_comp[g] < 0 || cw[c] > cw[main_comp[g]] || (cw[c] == cw[main_comp[g]] && c < main_comp[g]))
                main_comp[g] = c;
        }
        for (int c = 0; c < ncomp; c++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (comp[i] == c) members[m++] = i;
            int g = of->fi[members[0]].grid;
            if (main_comp[g] == c) continue;
            /* neighbour grid in the same community with the longest shared boundary */
            int best = -1;
            double bestlen = 0;
            for (size_t t = 0; t < m; t++) {
                size_t f = members[t];
                for (size_t e = adj->start[f]; e < adj->start[f + 1]; e++) {
                    const face *nf = &of->fi[adj->nbr[e]];
                    if (nf->grid == g || nf->comm != of->fi[f].comm) continue;
                    double len = 0;
                    for (size_t t2 = 0; t2 < m; t2++)
                        for (size_t e2 = adj->start[members[t2]]; e2 < adj->start[members[t2] + 1]; e2++)
                            if (of->fi[adj->nbr[e2]].grid == nf->grid) len += adj->shared[e2];
                    if (best < 0 || len > bestlen || (len == bestlen && nf->grid < best)) best = nf->grid, bestlen = len;
                }
            }
            if (best < 0) continue;
            for (size_t t = 0; t < m; t++) of->fi[members[t]].grid = best;
            moved = 1;
        }
        free(main_comp);
        if (!moved) break;
    }
    free(comp), free(stack), free(members), free(cw);
    return WG_OK;
}

static int office_grids(office *of)
{
    int rc = WG_OK;
    long *chh = calloc((size_t)of->nc, sizeof *chh);
    size_t *cfaces = calloc((size_t)of->nc, sizeof *cfaces);
    int *kc = calloc((size_t)of->nc, sizeof *kc);
    size_t *items = malloc((of->nfaces ? of->nfaces : 1) * sizeof *items);
    wg_adjacency adj = {0};
    if (!chh || !cfaces || !kc || !items) rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == WG_OK && i < of->nfaces; i++) {
        face *f = &of->fi[i];
        f->weight = (double)f->hh + f->area_m2 * 5e-6; /* 1 km² of empty hill weighs 5 households */
        chh[f->comm] += f->hh;
        cfaces[f->comm]++;
    }
    if (rc == WG_OK) rc = apportion(of, chh, cfaces, kc);
    int next = 0;
    for (int c = 0; rc == WG_OK && c < of->nc; c++) {
        size_t n = 0;
        for (size_t i = 0; i < of->nfaces; i++)
            if (of->fi[i].comm == c) items[n++] = i;
        rc = bisect(of, items, n, kc[c], &next);
    }
    if (rc == WG_OK) rc = wg_planar_adjacency(of->ctx, of->faces, of->nfaces, &adj);
    if (rc == WG_OK) rc = make_contiguous(of, &adj);
    wg_adjacency_free(&adj);
    free(chh);
    free(cfaces);
    free(kc);
    free(items);
    return rc;
}

/* Unions of blocks per community and per grid, and their reading order. */
static int build_units(office *of, unit *u, int nu, int is_grid)
{
    size_t *idx = malloc((of->nfaces ? of->nfaces : 1) * sizeof *idx);
    if (!idx) return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    int rc = WG_OK;
    for (int k = 0; rc == WG_OK && k < nu; k++) {
        size_t n = 0;
        u[k].hh = 0;
        u[k].nbld = 0;
        for (size_t i = 0; i < of->nfaces; i++)
            if ((is_grid ? of->fi[i].grid : of->fi[i].comm) == k) {
                idx[n++] = i;
                u[k].hh += of->fi[i].hh;
                u[k].nbld += of->fi[i].nbld;
                u[k].parent = of->fi[i].comm;
            }
        if (n == 0) {
            rc = wg_fail(of->ctx, WG_EINVAL, "empty %s", is_grid ? "grid" : "community");
            break;
        }
        if (!(u[k].g = wg_planar_union(of->ctx, of->faces, idx, n))) rc = WG_EGEOS;
        else rc = wg_geom_point_on_surface(of->ctx, u[k].g, &u[k].px, &u[k].py);
    }
    free(idx);
    return rc;
}

/* Sequence numbers in reading order, within each parent for grids. */
static int number_units(office *of, unit *u, int nu, int by_parent, int nparents)
{
    double *x = malloc((size_t)nu * sizeof *x), *y = malloc((size_t)nu * sizeof *y);
    size_t *map = malloc((size_t)nu * sizeof *map), *order = malloc((size_t)nu * sizeof *order);
    int rc = (x && y && map && order) ? WG_OK : wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (int p = 0; rc == WG_OK && p < (by_parent ? nparents : 1); p++) {
        size_t n = 0;
        for (int k = 0; k < nu; k++)
            if (!by_parent || u[k].parent == p) {
                x[n] = u[k].px;
                y[n] = u[k].py;
                map[n++] = (size_t)k;
            }
        wg_order_reading(x, y, n, order);
        for (size_t s = 0; s < n; s++) u[map[order[s]]].seq = (int)s + 1;
    }
    free(x), free(y), free(map), free(order);
    return rc;
}

/* ------------------------------------------------------------------ output */

enum {
    O_DISTRICTS, O_COMMUNITIES, O_GRIDS, O_ADDRESSES, O_EVENTS, O_WORKERS, O_CATEGORIES,
    O_ROADS, O_RIVERS, O_RENTAL, O_FAMILY, O_SUMMARY, O_COUNT
};
static const char *const OUT_NAME[O_COUNT] = {
    "districts.geojson", "communities.geojson", "grids.geojson", "addresses.csv",
    "events.csv", "workers.csv", "categories.csv", "roads.geojson", "rivers.geojson",
    "thematic_rental.geojson", "thematic_family_planning.geojson", "summary.json"};

typedef struct out_file {
    FILE *f;
    char *tmp, *path;
    size_t n; /* features written */
} out_file;

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void feature_begin(out_file *o)
{
    fputs(o->n++ ? ",\n" : "", o->f);
    fputs("{\"type\":\"Feature\",\"properties\":{", o->f);
}

static void prop_s(out_file *o, int first, const char *key, const char *val)
{
    fprintf(o->f, "%s\"%s\":", first ? "" : ",", key);
    put_str(o->f, val);
}

static void prop_l(out_file *o, const char *key, long val)
{
    fprintf(o->f, ",\"%s\":%ld", key, val);
}

static void put_seq(office *of, FILE *f, const GEOSGeometry *g)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(of->h, g);
    unsigned int n = 0;
    if (cs) GEOSCoordSeq_getSize_r(of->h, cs, &n);
    fputc('[', f);
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(of->h, cs, i, &x, &y);
        fprintf(f, "%s[%.7f,%.7f]", i ? "," : "", x, y);
    }
    fputc(']', f);
}

static void put_rings(office *of, FILE *f, const GEOSGeometry *p)
{
    fputc('[', f);
    put_seq(of, f, GEOSGetExteriorRing_r(of->h, p));
    for (int i = 0; i < GEOSGetNumInteriorRings_r(of->h, p); i++) {
        fputc(',', f);
        put_seq(of, f, GEOSGetInteriorRingN_r(of->h, p, i));
    }
    fputc(']', f);
}

/* Collects the parts of g of one dimension (2: polygons, 1: lines). */
static void collect_parts(office *of, const GEOSGeometry *g, int dim, const GEOSGeometry **parts, int *n, int cap)
{
    int t = GEOSGeomTypeId_r(of->h, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_MULTILINESTRING || t == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(of->h, g); i++)
            collect_parts(of, GEOSGetGeometryN_r(of->h, g, i), dim, parts, n, cap);
        return;
    }
    if (GEOSisEmpty_r(of->h, g) == 1) return;
    if (((dim == 2 && t == GEOS_POLYGON) || (dim == 1 && t == GEOS_LINESTRING)) && *n < cap) parts[(*n)++] = g;
}

/* Writes the polygonal (dim 2) or lineal (dim 1) part of g as the feature's geometry. */
static void feature_end(office *of, out_file *o, const GEOSGeometry *g, int dim)
{
    enum { CAP = 4096 };
    const GEOSGeometry *parts[CAP];
    int n = 0;
    collect_parts(of, g, dim, parts, &n, CAP);
    FILE *f = o->f;
    fputs("},\"geometry\":{\"type\":", f);
    if (n == 1) fputs(dim == 2 ? "\"Polygon\"" : "\"LineString\"", f);
    else fputs(dim == 2 ? "\"MultiPolygon\"" : "\"MultiLineString\"", f);
    fputs(",\"coordinates\":", f);
    if (n != 1) fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        if (dim == 2) put_rings(of, f, parts[i]);
        else put_seq(of, f, parts[i]);
    }
    if (n != 1) fputc(']', f);
    fputs("}}", f);
}

static void write_units(office *of, out_file *outs)
{
    char code[32], name[96];
    out_file *o = &outs[O_DISTRICTS];
    size_t *all = malloc((of->nfaces ? of->nfaces : 1) * sizeof *all);
    long hh = 0;
    for (size_t i = 0; i < of->nfaces; i++) {
        if (all) all[i] = i;
        hh += of->fi[i].hh;
    }
    GEOSGeometry *d = all ? wg_planar_union(of->ctx, of->faces, all, of->nfaces) : NULL;
    free(all);
    of->district = d;
    if (d) {
        snprintf(name, sizeof name, "%s街道", of->name);
        feature_begin(o);
        prop_s(o, 1, "code", of->code);
        prop_s(o, 0, "name", name);
        prop_l(o, "households", hh);
        prop_l(o, "communities", of->nc);
        prop_l(o, "grids", of->ng);
        feature_end(of, o, d, 2);
    }
    /* communities in code order */
    for (int s = 1; s <= of->nc; s++)
        for (int c = 0; c < of->nc; c++) {
            if (of->comm[c].seq != s) continue;
            o = &outs[O_COMMUNITIES];
            snprintf(code, sizeof code, "%s%03d", of->code, s);
            snprintf(name, sizeof name, "%s社区", of->cname[c]);
            feature_begin(o);
            prop_s(o, 1, "code", code);
            prop_s(o, 0, "name", name);
            prop_s(o, 0, "parent", of->code);
            prop_l(o, "households", of->comm[c].hh);
            feature_end(of, o, of->comm[c].g, 2);
            /* its grids in code order */
            for (int t = 1; t <= of->ng; t++)
                for (int g = 0; g < of->ng; g++) {
                    if (of->grid[g].parent != c || of->grid[g].seq != t) continue;
                    o = &outs[O_GRIDS];
                    char gcode[48];
                    snprintf(gcode, sizeof gcode, "%s%03d", code, t);
                    snprintf(name, sizeof name, "%s社区第%d网格", of->cname[c], t);
                    feature_begin(o);
                    prop_s(o, 1, "code", gcode);
                    prop_s(o, 0, "name", name);
                    prop_s(o, 0, "parent", code);
                    prop_l(o, "households", of->grid[g].hh);
                    prop_l(o, "addresses", (long)of->grid[g].nbld);
                    feature_end(of, o, of->grid[g].g, 2);
                }
        }
}

static void grid_code(const office *of, int g, char *out, size_t n)
{
    snprintf(out, n, "%s%03u%03u", of->code, (unsigned)of->comm[of->grid[g].parent].seq % 1000u,
             (unsigned)of->grid[g].seq % 1000u); /* sequences are 1..999 */
}

static const char *road_name(const office *of, int road_idx)
{
    return road_idx >= 0 ? of->roads[road_idx].name : "无名路";
}

static void write_addresses(office *of, out_file *o)
{
    for (size_t i = 0; i < of->nbld; i++) {
        const building *b = &of->bld[i];
        const face *f = &of->fi[b->face];
        char gcode[32];
        grid_code(of, f->grid, gcode, sizeof gcode);
        fprintf(o->f, "%.7f,%.7f,%d,广东省深圳市大鹏新区%s街道%s社区%s%d号,%s%07zu,%s\n", b->lon, b->lat,
                b->hh, of->name, of->cname[f->comm], road_name(of, f->road), b->number, of->code, i + 1, gcode);
        o->n++;
    }
}

static void write_lines(office *of, out_file *outs)
{
    for (size_t i = 0; i < of->nroads; i++) {
        const road *rd = &of->roads[i];
        if (!rd->clip) continue;
        out_file *o = &outs[rd->cls == R_RIVER ? O_RIVERS : O_ROADS];
        feature_begin(o);
        prop_s(o, 1, "code", rd->code);
        prop_s(o, 0, "name", rd->name);
        prop_s(o, 0, "class", ROAD_CLASS[rd->cls]);
        feature_end(of, o, rd->clip, 1);
    }
}

/* A building drawn with probability proportional to its households. */
static size_t pick_building(office *of, const double *cum)
{
    double u = wg_rng_unit(&of->r) * cum[of->nbld - 1];
    size_t lo = 0, hi = of->nbld - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static void write_workers(office *of, out_file *o, const double *cum)
{
    char name[32], gcode[32];
    for (int s = 1; s <= of->nc; s++)
        for (int t = 1; t <= of->ng; t++)
            for (int g = 0; g < of->ng; g++) {
                if (of->grid[g].seq != t || of->comm[of->grid[g].parent].seq != s) continue;
                grid_code(of, g, gcode, sizeof gcode);
                gen_person_name(&of->r, name, sizeof name);
                double lon = of->grid[g].px, lat = of->grid[g].py;
                /* somewhere in the grid: at one of its buildings, else its inner point */
                if (of->grid[g].nbld > 0) {
                    size_t want = (size_t)wg_rng_int(&of->r, 0, (int64_t)of->grid[g].nbld - 1), seen = 0;
                    for (size_t i = 0; i < of->nbld; i++)
                        if (of->fi[of->bld[i].face].grid == g && seen++ == want) {
                            lon = of->bld[i].lon;
                            lat = of->bld[i].lat;
                            break;
                        }
                }
                fprintf(o->f, "W%s,%s,1%02d%08d,grid_worker,%s,%.7f,%.7f,%d\n", gcode, name,
                        (int)wg_rng_int(&of->r, 30, 89), (int)wg_rng_int(&of->r, 0, 99999999), gcode, lon, lat,
                        wg_rng_unit(&of->r) < 0.85);
                o->n++;
            }
    /* enforcement officers (城管), on patrol along the arterials or in the villages */
    int officers = of->ng / 8 + 1;
    for (int i = 0; i < officers; i++) {
        gen_person_name(&of->r, name, sizeof name);
        double lon = of->fi[0].px, lat = of->fi[0].py;
        if (of->nbld > 0) {
            const building *b = &of->bld[pick_building(of, cum)];
            lon = b->lon;
            lat = b->lat;
        }
        fprintf(o->f, "F%s%03d,%s,1%02d%08d,officer,,%.7f,%.7f,%d\n", of->code, i + 1, name,
                (int)wg_rng_int(&of->r, 30, 89), (int)wg_rng_int(&of->r, 0, 99999999), lon, lat,
                wg_rng_unit(&of->r) < 0.9);
        o->n++;
    }
}

typedef struct event {
    char time[48];
    const gen_category *cat;
    double lon, lat;
    int face;
    int road, number, water;
    const char *status;
    size_t idx;
} event;

static int cmp_event(const void *pa, const void *pb)
{
    const event *a = pa, *b = pb;
    int c = strcmp(a->time, b->time);
    return c ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

static const char *event_status(wg_rng *r, double age_days)
{
    double u = wg_rng_unit(r);
    if (age_days > 7) return u < 0.92 ? "archived" : "cancelled";
    if (age_days > 3) return u < 0.3 ? "evaluated" : u < 0.6 ? "verified" : u < 0.9 ? "archived" : "handled";
    if (age_days > 1) return u < 0.35 ? "handled" : u < 0.7 ? "dispatched" : u < 0.9 ? "verified" : "registered";
    return u < 0.4 ? "reported" : u < 0.7 ? "registered" : "dispatched";
}

/* Places one event of category cat; returns 1 if placed. */
static int place_event(office *of, event *ev, const double *cum)
{
    if (ev->cat->place == PLACE_WATER) {
        const road *river = NULL;
        for (size_t i = 0; i < of->nroads; i++)
            if (of->roads[i].cls == R_RIVER && of->roads[i].clip) river = &of->roads[i];
        for (int t = 0; river && t < 10; t++) {
            GEOSGeometry *p = GEOSInterpolateNormalized_r(of->h, river->clip, wg_rng_unit(&of->r));
            double x = 0, y = 0;
            int ok = p && GEOSGeomGetX_r(of->h, p, &x) && GEOSGeomGetY_r(of->h, p, &y);
            if (p) GEOSGeom_destroy_r(of->h, p);
            if (!ok) continue;
            y += (wg_rng_unit(&of->r) < 0.5 ? -8 : 8) / of->fr.my; /* on the bank */
            long f = locate_face(of, x, y);
            if (f < 0) continue;
            ev->lon = x, ev->lat = y, ev->face = (int)f, ev->water = 1;
            return 1;
        }
    }
    const building *b = &of->bld[pick_building(of, cum)];
    ev->face = b->face;
    ev->road = of->fi[b->face].road;
    ev->number = b->number;
    ev->lon = b->lon;
    ev->lat = b->lat;
    if (ev->cat->place == PLACE_STREET) {
        /* on the pavement of the nearest street, 3 m from its centre line */
        road *rd = nearest_road(of, b->lon, b->lat);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(of->h, b->lon, b->lat);
        GEOSCoordSequence *cs = rd && pt ? GEOSNearestPoints_r(of->h, rd->clip, pt) : NULL;
        double rx, ry;
        if (cs && GEOSCoordSeq_getXY_r(of->h, cs, 0, &rx, &ry)) {
            double dx = (b->lon - rx) * of->fr.mx, dy = (b->lat - ry) * of->fr.my, d = hypot(dx, dy);
            if (d > 3) {
                double lon = rx + 3 * dx / d / of->fr.mx, lat = ry + 3 * dy / d / of->fr.my;
                if (locate_face(of, lon, lat) == b->face) ev->lon = lon, ev->lat = lat;
            }
        }
        if (cs) GEOSCoordSeq_destroy_r(of->h, cs);
        if (pt) GEOSGeom_destroy_r(of->h, pt);
    } else {
        /* at the building, within 15 m, in the same block */
        for (int t = 0; t < 5; t++) {
            double lon = b->lon + wg_rng_range(&of->r, -15, 15) / of->fr.mx,
                   lat = b->lat + wg_rng_range(&of->r, -15, 15) / of->fr.my;
            if (locate_face(of, lon, lat) == b->face) {
                ev->lon = lon, ev->lat = lat;
                break;
            }
        }
    }
    return 1;
}

static int write_events(office *of, out_file *o, const double *cum)
{
    static const int hour_w[24] = {1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    int ne = of->o->events, wsum = 0, hsum = 0;
    if (ne <= 0 || of->nbld == 0) return WG_OK;
    event *evs = calloc((size_t)ne, sizeof *evs);
    if (!evs) return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (size_t c = 0; c < GEN_NCATEGORIES; c++) wsum += GEN_CATEGORIES[c].weight;
    for (int h = 0; h < 24; h++) hsum += hour_w[h];
    for (int i = 0; i < ne; i++) {
        event *ev = &evs[i];
        ev->idx = (size_t)i;
        ev->road = -1;
        int u = (int)wg_rng_int(&of->r, 0, wsum - 1);
        size_t c = 0;
        while (u >= GEN_CATEGORIES[c].weight) u -= GEN_CATEGORIES[c++].weight;
        ev->cat = &GEN_CATEGORIES[c];
        int day = (int)wg_rng_int(&of->r, 0, 29), hv = (int)wg_rng_int(&of->r, 0, hsum - 1), hour = 0;
        while (hv >= hour_w[hour]) hv -= hour_w[hour++];
        int minute = (int)wg_rng_int(&of->r, 0, 59), second = (int)wg_rng_int(&of->r, 0, 59);
        snprintf(ev->time, sizeof ev->time, "2026-10-%02dT%02d:%02d:%02d+08:00", day + 1, hour, minute, second);
        ev->status = event_status(&of->r, 30 - day - (hour + minute / 60.0) / 24);
        place_event(of, ev, cum);
    }
    qsort(evs, (size_t)ne, sizeof *evs, cmp_event);
    for (int i = 0; i < ne; i++) {
        const event *ev = &evs[i];
        char gcode[32], where[96];
        grid_code(of, of->fi[ev->face].grid, gcode, sizeof gcode);
        if (ev->water) {
            const char *river = "河";
            for (size_t k = 0; k < of->nroads; k++)
                if (of->roads[k].cls == R_RIVER) river = of->roads[k].name;
            snprintf(where, sizeof where, "%s沿岸", river);
        } else {
            snprintf(where, sizeof where, "%s%d号附近", road_name(of, ev->road), ev->number);
        }
        fprintf(o->f, "%.7f,%.7f,%s,%s,%s,%s：%s,%s\n", ev->lon, ev->lat, ev->cat->code, ev->time, ev->status,
                ev->cat->subclass_name, where, gcode);
        o->n++;
    }
    free(evs);
    return WG_OK;
}

/* An older thematic layer: Voronoi cells around sites drawn by households, cut to the district;
 * they follow neither roads nor community lines, like grids drawn by another department. */
static int write_thematic(office *of, out_file *o, int count, const char *tag, const char *label,
                          const char *theme, const double *cum)
{
    if (of->nbld == 0 || count <= 0) return WG_OK;
    int rc = WG_OK;
    GEOSGeometry **sites = malloc((size_t)count * sizeof *sites);
    if (!sites) return wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    int n = 0;
    unsigned char *taken = calloc(of->nbld, 1);
    for (int t = 0; taken && n < count && t < count * 50; t++) {
        size_t b = pick_building(of, cum);
        if (taken[b]) continue;
        taken[b] = 1;
        if (!(sites[n] = GEOSGeom_createPointFromXY_r(of->h, of->bld[b].lon, of->bld[b].lat))) break;
        n++;
    }
    free(taken);
    GEOSGeometry *mp = GEOSGeom_createCollection_r(of->h, GEOS_MULTIPOINT, sites, (unsigned)n);
    free(sites);
    GEOSGeometry *cells = mp ? GEOSVoronoiDiagram_r(of->h, mp, of->district, 0, 0) : NULL;
    if (mp) GEOSGeom_destroy_r(of->h, mp);
    if (!cells) return wg_fail_geos(of->ctx, "cannot build a Voronoi diagram");
    int nc = GEOSGetNumGeometries_r(of->h, cells);
    GEOSGeometry **clip = calloc((size_t)nc, sizeof *clip);
    double *x = malloc((size_t)nc * sizeof *x), *y = malloc((size_t)nc * sizeof *y);
    size_t *order = malloc((size_t)nc * sizeof *order);
    if (!clip || !x || !y || !order) rc = wg_fail(of->ctx, WG_ENOMEM, "out of memory");
    for (int i = 0; rc == WG_OK && i < nc; i++) {
        GEOSGeometry *c = GEOSIntersection_r(of->h, GEOSGetGeometryN_r(of->h, cells, i), of->district);
        GEOSGeometry *s = c ? GEOSGeom_setPrecision_r(of->h, c, SNAP, 0) : NULL;
        if (c) GEOSGeom_destroy_r(of->h, c);
        clip[i] = s ? wg_geom_polygonal(of->ctx, s) : NULL;
        if (s) GEOSGeom_destroy_r(of->h, s);
        if (!clip[i]) rc = wg_fail_geos(of->ctx, "cannot cut a thematic grid");
        else if (GEOSisEmpty_r(of->h, clip[i])) x[i] = y[i] = 0;
        else rc = wg_geom_point_on_surface(of->ctx, clip[i], &x[i], &y[i]);
    }
    if (rc == WG_OK) wg_order_reading(x, y, (size_t)nc, order);
    for (int s = 0, seq = 0; rc == WG_OK && s < nc; s++) {
        const GEOSGeometry *g = clip[order[s]];
        if (GEOSisEmpty_r(of->h, g)) continue;
        char code[32], name[96];
        snprintf(code, sizeof code, "%s-%s%03d", of->code, tag, ++seq);
        snprintf(name, sizeof name, "%s街道%s第%d网格", of->name, label, seq);
        feature_begin(o);
        prop_s(o, 1, "code", code);
        prop_s(o, 0, "name", name);
        prop_s(o, 0, "theme", theme);
        feature_end(of, o, g, 2);
    }
    for (int i = 0; clip && i < nc; i++)
        if (clip[i]) GEOSGeom_destroy_r(of->h, clip[i]);
    free(clip), free(x), free(y), free(order);
    GEOSGeom_destroy_r(of->h, cells);
    return rc;
}

static void write_summary(office *of, out_file *o)
{
    long hh = 0;
    for (int c = 0; c < of->nc; c++) hh += of->comm[c].hh;
    fprintf(o->f, "%s\n  {\"code\":\"%s\",\"name\":", o->n++ ? "," : "", of->code);
    put_str(o->f, of->name);
    fprintf(o->f, ",\"households\":%ld,\"addresses\":%zu,\"grids\":%d,\"communities\":[", hh, of->nbld, of->ng);
    for (int s = 1; s <= of->nc; s++)
        for (int c = 0; c < of->nc; c++) {
            if (of->comm[c].seq != s) continue;
            int grids = 0;
            for (int g = 0; g < of->ng; g++) grids += of->grid[g].parent == c;
            fprintf(o->f, "%s\n    {\"code\":\"%s%03d\",\"name\":", s > 1 ? "," : "", of->code, s);
            put_str(o->f, of->cname[c]);
            fprintf(o->f, ",\"households\":%ld,\"grids\":%d}", of->comm[c].hh, grids);
        }
    fputs("]}", o->f);
}

/* ------------------------------------------------------------------ office */

static void office_free(office *of)
{
    GEOSContextHandle_t h = of->h;
    for (size_t i = 0; i < of->nroads; i++) {
        GEOSGeom_destroy_r(h, of->roads[i].g);
        if (of->roads[i].clip) GEOSGeom_destroy_r(h, of->roads[i].clip);
    }
    free(of->roads);
    if (of->face_tree) GEOSSTRtree_destroy_r(h, of->face_tree);
    if (of->road_tree) GEOSSTRtree_destroy_r(h, of->road_tree);
    for (size_t i = 0; of->prep && i < of->nfaces; i++)
        if (of->prep[i]) GEOSPreparedGeom_destroy_r(h, of->prep[i]);
    free(of->prep);
    wg_planar_free(of->ctx, of->faces, of->nfaces);
    free(of->fi);
    free(of->bld);
    for (int i = 0; of->comm && i < of->nc; i++)
        if (of->comm[i].g) GEOSGeom_destroy_r(h, of->comm[i].g);
    for (int i = 0; of->grid && i < of->ng; i++)
        if (of->grid[i].g) GEOSGeom_destroy_r(h, of->grid[i].g);
    free(of->comm);
    free(of->grid);
    free(of->cname);
    free(of->stem_used_st);
    free(of->stem_used_rd);
    free(of->stem_used_v);
    if (of->district_raw) GEOSGeom_destroy_r(h, of->district_raw);
    if (of->district) GEOSGeom_destroy_r(h, of->district);
}

static int office_run(wg_ctx *ctx, const wg_gen_opts *o, int k, out_file *outs, wg_gen_stats *st)
{
    office of_ = {0}, *of = &of_;
    of->ctx = ctx;
    of->h = ctx->geos;
    of->o = o;
    of->k = k;
    of->nc = o->communities;
    of->ng = o->grids;
    snprintf(of->code, sizeof of->code, "%s%03d", o->county, o->first_street + k);
    gen_office_name(k, of->name, sizeof of->name);
    uint64_t s = o->seed + 0x632be59bd9b4e019ULL * (uint64_t)(k + 1);
    wg_rng_seed(&of->r, wg_splitmix64(&s));
    int cols = (int)ceil(sqrt((double)o->scale));
    double mx0 = 111320.0 * cos(CENTRE_LAT * PI / 180);
    of->fr.lon0 = CENTRE_LON + (k % cols) * SPACING_X / mx0;
    of->fr.lat0 = CENTRE_LAT + (k / cols) * SPACING_Y / 110574.0;
    of->fr.mx = 111320.0 * cos(of->fr.lat0 * PI / 180);
    of->fr.my = 110574.0;
    size_t ns = gen_stem_count();
    of->stem_used_st = calloc(ns, 1);
    of->stem_used_rd = calloc(ns, 1);
    of->stem_used_v = calloc(ns, 1);
    of->cname = calloc((size_t)of->nc, sizeof *of->cname);
    of->comm = calloc((size_t)of->nc, sizeof *of->comm);
    of->grid = calloc((size_t)of->ng, sizeof *of->grid);
    int rc = (of->stem_used_st && of->stem_used_rd && of->stem_used_v && of->cname && of->comm && of->grid)
                 ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK) {
        gen_community_names(k, (size_t)of->nc, &of->r, of->cname);
        office_shape(of);
        rc = office_district(of);
    }
    /* main lines, with more cross arterials until they cut enough community candidates */
    GEOSGeometry **mf = NULL;
    size_t nm = 0;
    for (int ncross = 4; rc == WG_OK && ncross < 4 + 12; ncross++) {
        for (size_t i = 0; i < of->nroads; i++) GEOSGeom_destroy_r(of->h, of->roads[i].g);
        of->nroads = 0;
        memset(of->stem_used_rd, 0, ns);
        rc = office_main_lines(of, ncross);
        if (rc == WG_OK) rc = macro_faces(of, &mf, &nm);
        if (rc != WG_OK || nm >= (size_t)of->nc + 3 || nm >= 256) break;
        wg_planar_free(ctx, mf, nm);
        mf = NULL;
        nm = 0;
    }
    int seq = 0;
    if (rc == WG_OK) rc = office_streets(of, &seq);
    if (rc == WG_OK) rc = office_lanes(of, &seq);
    if (rc == WG_OK) rc = office_blocks(of);
    if (rc == WG_OK) rc = office_road_tree(of);
    if (rc == WG_OK) rc = office_households(of);
    if (rc == WG_OK && nm > 255) rc = wg_fail(ctx, WG_EINVAL, "too many arterial faces");
    if (rc == WG_OK) rc = office_communities(of, mf, nm);
    wg_planar_free(ctx, mf, nm);
    if (rc == WG_OK) rc = office_grids(of);
    if (rc == WG_OK) rc = build_units(of, of->comm, of->nc, 0);
    if (rc == WG_OK) rc = build_units(of, of->grid, of->ng, 1);
    if (rc == WG_OK) rc = number_units(of, of->comm, of->nc, 0, 0);
    if (rc == WG_OK) rc = number_units(of, of->grid, of->ng, 1, of->nc);
    double *cum = NULL;
    if (rc == WG_OK && of->nbld == 0) rc = wg_fail(ctx, WG_EINVAL, "office %s has no households", of->code);
    if (rc == WG_OK && !(cum = malloc(of->nbld * sizeof *cum))) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == WG_OK && i < of->nbld; i++) cum[i] = (i ? cum[i - 1] : 0) + of->bld[i].hh;
    if (rc == WG_OK) {
        write_units(of, outs);
        if (!of->district) rc = WG_EGEOS;
    }
    if (rc == WG_OK) {
        write_addresses(of, &outs[O_ADDRESSES]);
        write_lines(of, outs);
        write_workers(of, &outs[O_WORKERS], cum);
        rc = write_events(of, &outs[O_EVENTS], cum);
    }
    if (rc == WG_OK) rc = write_thematic(of, &outs[O_RENTAL], 111, "ZL", "出租屋", "rental", cum);
    if (rc == WG_OK) rc = write_thematic(of, &outs[O_FAMILY], 63, "JS", "计生", "family_planning", cum);
    if (rc == WG_OK) write_summary(of, &outs[O_SUMMARY]);
    if (rc == WG_OK) {
        st->offices++;
        st->communities += (size_t)of->nc;
        st->grids += (size_t)of->ng;
        st->addresses += of->nbld;
        for (size_t i = 0; i < of->nbld; i++) st->households += (uint64_t)of->bld[i].hh;
    }
    free(cum);
    office_free(of);
    return rc;
}

/* ------------------------------------------------------------------- city */

static int open_outputs(wg_ctx *ctx, const char *dir, out_file *outs)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return wg_fail(ctx, WG_EIO, "cannot create %s: %s", dir, strerror(errno));
    for (int i = 0; i < O_COUNT; i++) {
        size_t n = strlen(dir) + strlen(OUT_NAME[i]) + 8;
        outs[i].path = malloc(n);
        outs[i].tmp = malloc(n);
        if (!outs[i].path || !outs[i].tmp) return wg_fail(ctx, WG_ENOMEM, "out of memory");
        snprintf(outs[i].path, n, "%s/%s", dir, OUT_NAME[i]);
        snprintf(outs[i].tmp, n, "%s/%s.tmp", dir, OUT_NAME[i]);
        if (!(outs[i].f = fopen(outs[i].tmp, "w")))
            return wg_fail(ctx, WG_EIO, "cannot write %s: %s", outs[i].tmp, strerror(errno));
        if (strstr(OUT_NAME[i], ".geojson")) fputs("{\"type\":\"FeatureCollection\",\"features\":[\n", outs[i].f);
    }
    fputs("lon,lat,households,label,code,grid\n", outs[O_ADDRESSES].f);
    fputs("lon,lat,category,time,status,description,grid\n", outs[O_EVENTS].f);
    fputs("id,name,phone,role,home_grid,lon,lat,on_duty\n", outs[O_WORKERS].f);
    fputs("code,class,class_name,subclass_name,limit,limit_unit,role\n", outs[O_CATEGORIES].f);
    for (size_t c = 0; c < GEN_NCATEGORIES; c++) {
        const gen_category *g = &GEN_CATEGORIES[c];
        fprintf(outs[O_CATEGORIES].f, "%s,%.2s,%s,%s,%d,%s,%s\n", g->code, g->code, g->class_name, g->subclass_name,
                g->limit, g->limit_unit, g->role);
    }
    return WG_OK;
}

static int close_outputs(wg_ctx *ctx, out_file *outs, int rc, const wg_gen_opts *o, const wg_gen_stats *st)
{
    for (int i = 0; i < O_COUNT; i++) {
        if (!outs[i].f) continue;
        if (rc == WG_OK) {
            if (strstr(OUT_NAME[i], ".geojson")) fputs("\n]}\n", outs[i].f);
            if (i == O_SUMMARY)
                fprintf(outs[i].f,
                        "\n],\n \"seed\":%llu,\"scale\":%d,\"synthetic\":true,\"totals\":{\"offices\":%zu,"
                        "\"communities\":%zu,\"grids\":%zu,\"addresses\":%zu,\"households\":%llu}}\n",
                        (unsigned long long)o->seed, o->scale, st->offices, st->communities, st->grids,
                        st->addresses, (unsigned long long)st->households);
        }
        int bad = ferror(outs[i].f);
        if (fclose(outs[i].f) != 0 || bad) {
            if (rc == WG_OK) rc = wg_fail(ctx, WG_EIO, "cannot write %s", outs[i].tmp);
        }
        outs[i].f = NULL;
    }
    for (int i = 0; i < O_COUNT; i++) {
        if (!outs[i].tmp) continue;
        if (rc == WG_OK && rename(outs[i].tmp, outs[i].path) != 0)
            rc = wg_fail(ctx, WG_EIO, "cannot rename %s: %s", outs[i].tmp, strerror(errno));
        if (rc != WG_OK) remove(outs[i].tmp);
    }
    return rc;
}

int wg_gen_city(wg_ctx *ctx, const char *dir, const wg_gen_opts *opts, wg_gen_stats *stats)
{
    wg_gen_stats st_local, *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    wg_gen_opts o = {0};
    if (opts) o = *opts;
    if (!o.scale) o.scale = 1;
    if (!o.county) o.county = "440307";
    if (!o.first_street) o.first_street = 6;
    if (!o.households) o.households = 30000;
    if (!o.grids) o.grids = 97;
    if (!o.communities) o.communities = 9;
    if (!o.events) o.events = 2000;
    if (!dir || !*dir) return wg_fail(ctx, WG_EINVAL, "no output directory");
    if (strlen(o.county) != 6 || strspn(o.county, "0123456789") != 6)
        return wg_fail(ctx, WG_EINVAL, "county code must be 6 digits, not '%s'", o.county);
    if (o.scale < 1 || o.scale > WG_GEN_MAX_SCALE)
        return wg_fail(ctx, WG_EINVAL, "scale must be 1 to %d", WG_GEN_MAX_SCALE);
    if (o.first_street < 1 || o.first_street + o.scale - 1 > 999)
        return wg_fail(ctx, WG_EINVAL, "street sequences %d..%d do not fit in 3 digits (001-999)",
                       o.first_street, o.first_street + o.scale - 1);
    if (o.communities < 1 || o.communities > 60) return wg_fail(ctx, WG_EINVAL, "communities must be 1 to 60");
    if (o.grids < o.communities || o.grids > 999) return wg_fail(ctx, WG_EINVAL, "grids must be from the number of communities to 999");
    if (o.households < 100 || o.households > 10000000) return wg_fail(ctx, WG_EINVAL, "households must be 100 to 10000000");
    if (o.events < 0 || o.events > 10000000) return wg_fail(ctx, WG_EINVAL, "events must be 0 to 10000000");
    out_file outs[O_COUNT];
    memset(outs, 0, sizeof outs);
    int rc = open_outputs(ctx, dir, outs);
    if (rc == WG_OK) fputs("{\"generator\":\"wangge gen\",\"offices\":[", outs[O_SUMMARY].f);
    for (int k = 0; rc == WG_OK && k < o.scale; k++) {
        rc = office_run(ctx, &o, k, outs, st);
        if (rc == WG_OK && o.on_office) o.on_office(o.ud, k + 1, o.scale);
    }
    if (rc == WG_OK) {
        st->roads = outs[O_ROADS].n;
        st->rivers = outs[O_RIVERS].n;
        st->events = outs[O_EVENTS].n;
        st->workers = outs[O_WORKERS].n;
        st->rental_grids = outs[O_RENTAL].n;
        st->family_planning_grids = outs[O_FAMILY].n;
    }
    rc = close_outputs(ctx, outs, rc, &o, st);
    for (int i = 0; i < O_COUNT; i++) {
        free(outs[i].path);
        free(outs[i].tmp);
    }
    return rc;
}
