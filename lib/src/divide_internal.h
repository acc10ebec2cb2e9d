/* Private to division (divide.c, divide_units.c, divide_part.c): see wangge/divide.h.
 *
 * divide_units.c turns a region, lines and address points into faces with households and
 * the pieces of boundary between them (links, with what each piece lies on); divide_part.c
 * partitions a weighted unit graph (METIS, then the repair); divide.c plans and measures a
 * region from those; divide_store.c reads communities from the store and writes the draft;
 * divide_json.c renders and frees the results. */
#ifndef WANGGE_DIVIDE_INTERNAL_H
#define WANGGE_DIVIDE_INTERNAL_H

#include "internal.h"
#include "wangge/divide.h"

/* What a piece of face boundary lies on, cheapest to cut first. DV_RIVER..DV_LANE are
 * wg_line_class values; on "roads or rivers" means class <= DV_LANE. */
enum dv_class { DV_RIVER, DV_ARTERIAL, DV_STREET, DV_LANE, DV_THEMATIC, DV_NONE, DV_NCLASS };

/* Cut cost per metre of each class (edge weights of the partition). */
extern const double DV_COST[DV_NCLASS];

/* Coordinates are snap-rounded to this grid (degrees, about 1 cm), as the generator does. */
#define DV_GRID 1e-7

#define DV_OUTER ((size_t)-1)

/* A piece of boundary of face a: shared with face b (a < b), or on the region's outer
 * boundary (b == DV_OUTER); total geodesic length per class. */
typedef struct dv_link {
    size_t a, b;
    int cls;
    double len_m;
} dv_link;

/* Faces of a region with their households and boundary pieces. */
typedef struct dv_faces {
    GEOSGeometry **geom; /* Polygons */
    size_t n;
    double *hh, *area_m2, *perim_m;
    dv_link *links; /* sorted by (a, b, cls); one per (a, b, cls) */
    size_t nlinks;
    size_t splits; /* cuts added through faces */
} dv_faces;

/* How finely to cut: faces with more than cap_hh households are cut between their address
 * points; then, while there are fewer than min_faces faces, the heaviest faces are cut in
 * two (by addresses if they have several locations, else across the middle). */
typedef struct dv_cut_goal {
    double cap_hh;
    size_t min_faces;
} dv_cut_goal;

int dv_faces_build(wg_ctx *ctx, const wg_divide_input *in, const dv_cut_goal *goal, dv_faces *out);
void dv_faces_free(wg_ctx *ctx, dv_faces *f);

/* A weighted graph of base units (CSR, symmetric). */
typedef struct dv_graph {
    size_t n;
    double *hh;    /* households */
    double *wt;    /* partition weight: households + area term */
    size_t *start; /* n + 1 */
    size_t *nbr;
    double *cost; /* cut cost of each edge */
} dv_graph;
void dv_graph_free(dv_graph *g);

/* What the partition aims at: nparts parts of about target households, all within [lo, hi]
 * if possible (lo = 0, hi = INFINITY for none). */
typedef struct dv_goal {
    int nparts;
    double target, lo, hi;
} dv_goal;

/* Partitions g into goal->nparts parts (g->n >= nparts): METIS, then the repair. part[i] gets
 * the part of unit i. *metis_max_dev gets max |households - target| of METIS's own partition
 * (before the repair; NaN when METIS was not used: one part, or under 2 units per part). */
int dv_partition(wg_ctx *ctx, const dv_graph *g, const dv_goal *goal, int *part,
                 double *metis_max_dev);

/* Plans one region (wangge/divide.h, wg_divide_region); who names it in messages
 * ("community 440307006001 (葵新社区)"). divide.c. */
int dv_plan_region(wg_ctx *ctx, const wg_divide_input *in, const wg_divide_opts *o, const char *who,
                   wg_plan **out);
/* WG_EINVAL (with a message) unless o asks for 1..WG_DIVIDE_MAX_GRIDS grids or a valid band. */
int dv_check_opts(wg_ctx *ctx, const wg_divide_opts *o);

#endif
