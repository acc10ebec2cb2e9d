/* Private: a small seeded pseudo-random generator for reproducible synthetic data.
 * splitmix64 seeds xoshiro256** (Blackman and Vigna); the same seed gives the same stream on
 * every platform, which is what the generator's byte-identical output rests on. */
#ifndef WANGGE_RNG_H
#define WANGGE_RNG_H

#include <stdint.h>

typedef struct wg_rng {
    uint64_t s[4];
} wg_rng;

static inline uint64_t wg_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void wg_rng_seed(wg_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = wg_splitmix64(&seed);
}

static inline uint64_t wg_rng_next(wg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, 1). */
static inline double wg_rng_unit(wg_rng *r)
{
    return (double)(wg_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [lo, hi). */
static inline double wg_rng_range(wg_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * wg_rng_unit(r);
}

/* Uniform whole number in [lo, hi] (hi - lo small against 2^64). */
static inline int64_t wg_rng_int(wg_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(wg_rng_next(r) % (uint64_t)(hi - lo + 1));
}

#endif
