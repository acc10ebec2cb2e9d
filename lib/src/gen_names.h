/* Private: names and tables for the synthetic city generator (gen.c). */
#ifndef WANGGE_GEN_NAMES_H
#define WANGGE_GEN_NAMES_H

#include "rng.h"
#include <stddef.h>

enum gen_place { PLACE_STREET, PLACE_BUILDING, PLACE_WATER };

typedef struct gen_category {
    const char *code;           /* 2-digit class + 2-digit subclass */
    const char *class_name, *subclass_name;
    int limit;                  /* time limit ... */
    const char *limit_unit;     /* ... in "hours" (working hours) or "days" (working days) */
    const char *role;           /* responsible role: grid_worker or officer */
    enum gen_place place;       /* where such events happen */
    int weight;                 /* relative frequency */
} gen_category;

extern const gen_category GEN_CATEGORIES[];
extern const size_t GEN_NCATEGORIES;

/* Name of office k (k = 0 is 葵涌 itself); writes at most n bytes. */
void gen_office_name(int k, char *out, size_t n);
/* Community names of office k: the nine real community names of Kuichong for office 0 (when
 * nine are asked for), otherwise distinct names drawn from r. out[i] holds 32 bytes. */
void gen_community_names(int k, size_t count, wg_rng *r, char (*out)[32]);
/* A distinct two-character stem for road names; used[] (size gen_stem_count()) marks stems
 * already taken in this office. Falls back to reuse when all are taken. */
const char *gen_road_stem(wg_rng *r, unsigned char *used);
size_t gen_stem_count(void);
/* A person's name (surname + one or two characters). */
void gen_person_name(wg_rng *r, char *out, size_t n);

#endif
