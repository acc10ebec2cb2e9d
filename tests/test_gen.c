/* gen.c: wg_gen_city options, determinism, counts and refusals. (The bundled sample's
 * invariants, households and thematic overlaps are checked end to end in cli/test_gen.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "wangge/gen.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const FILES[] = {
    "districts.geojson", "communities.geojson", "grids.geojson", "addresses.csv",
    "events.csv", "workers.csv", "categories.csv", "roads.geojson", "rivers.geojson",
    "thematic_rental.geojson", "thematic_family_planning.geojson", "summary.json"};
#define NFILES (sizeof FILES / sizeof FILES[0])

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char *temp_dir(void)
{
    char *p = strdup("/tmp/wangge-gen-XXXXXX");
    assert_non_null(mkdtemp(p));
    return p;
}

static void remove_dir(char *dir)
{
    char path[512];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, FILES[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static const wg_gen_opts SMALL = {.seed = 3, .households = 3000, .grids = 12, .communities = 4, .events = 50};

static void test_small_city_counts(void **state)
{
    (void)state;
    wg_ctx *ctx = wg_ctx_new();
    char *dir = temp_dir();
    wg_gen_stats st;
    assert_int_equal(wg_gen_city(ctx, dir, &SMALL, &st), WG_OK);
    assert_int_equal(st.offices, 1);
    assert_int_equal(st.communities, 4);
    assert_int_equal(st.grids, 12);
    assert_int_equal(st.events, 50);
    assert_int_equal(st.workers, 12 + 12 / 8 + 1); /* a grid worker per grid plus officers */
    assert_int_equal(st.rental_grids, 111);
    assert_int_equal(st.family_planning_grids, 63);
    assert_int_equal(st.rivers, 1);
    assert_true(st.roads > 50);
    /* households are placed block by block with stochastic rounding: close to the ask */
    assert_true(st.households > 2950 && st.households < 3050);
    size_t len;
    char *csv = slurp(dir, "addresses.csv", &len);
    assert_non_null(csv);
    assert_int_equal(count_lines(csv), st.addresses + 1);
    assert_true(strncmp(csv, "lon,lat,households,label,code,grid\n", 35) == 0);
    /* every address names a 15-digit grid code of office 440307006 */
    assert_non_null(strstr(csv, ",440307006"));
    free(csv);
    char *ev = slurp(dir, "events.csv", &len);
    assert_int_equal(count_lines(ev), 51);
    free(ev);
    char *grids = slurp(dir, "grids.geojson", &len);
    size_t features = 0;
    for (const char *p = grids; (p = strstr(p, "\"type\":\"Feature\"")); p++) features++;
    assert_int_equal(features, 12);
    assert_non_null(strstr(grids, "\"code\":\"440307006001001\""));
    assert_null(strstr(grids, "\"code\":\"440307006001013\""));
    free(grids);
    char *sum = slurp(dir, "summary.json", &len);
    char want[96];
    snprintf(want, sizeof want, "\"households\":%llu}}", (unsigned long long)st.households);
    assert_non_null(strstr(sum, want));
    free(sum);
    remove_dir(dir);
    wg_ctx_free(ctx);
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    wg_ctx *ctx = wg_ctx_new();
    char *a = temp_dir(), *b = temp_dir(), *c = temp_dir();
    wg_gen_opts other = SMALL;
    other.seed = 4;
    assert_int_equal(wg_gen_city(ctx, a, &SMALL, NULL), WG_OK);
    assert_int_equal(wg_gen_city(ctx, b, &SMALL, NULL), WG_OK);
    assert_int_equal(wg_gen_city(ctx, c, &other, NULL), WG_OK);
    size_t differ = 0;
    for (size_t i = 0; i < NFILES; i++) {
        size_t la, lb, lc;
        char *fa = slurp(a, FILES[i], &la), *fb = slurp(b, FILES[i], &lb), *fc = slurp(c, FILES[i], &lc);
        assert_non_null(fa);
        assert_non_null(fb);
        assert_non_null(fc);
        assert_int_equal(la, lb);
        assert_memory_equal(fa, fb, la);
        differ += la != lc || memcmp(fa, fc, la) != 0;
        free(fa), free(fb), free(fc);
    }
    /* only the fixed category table is the same for another seed */
    assert_int_equal(differ, NFILES - 1);
    remove_dir(a);
    remove_dir(b);
    remove_dir(c);
    wg_ctx_free(ctx);
}

static void test_scale_offices_have_their_own_codes(void **state)
{
    (void)state;
    wg_ctx *ctx = wg_ctx_new();
    char *dir = temp_dir();
    wg_gen_opts o = SMALL;
    o.scale = 2;
    o.first_street = 41;
    o.county = "110105";
    wg_gen_stats st;
    assert_int_equal(wg_gen_city(ctx, dir, &o, &st), WG_OK);
    assert_int_equal(st.offices, 2);
    assert_int_equal(st.grids, 24);
    assert_int_equal(st.workers, 2 * (12 + 2));
    size_t len;
    char *d = slurp(dir, "districts.geojson", &len);
    assert_non_null(strstr(d, "\"code\":\"110105041\""));
    assert_non_null(strstr(d, "\"code\":\"110105042\""));
    free(d);
    remove_dir(dir);
    wg_ctx_free(ctx);
}

static void test_refusals(void **state)
{
    (void)state;
    wg_ctx *ctx = wg_ctx_new();
    char *dir = temp_dir();
    wg_gen_opts o = SMALL;
    o.scale = WG_GEN_MAX_SCALE + 1;
    assert_int_equal(wg_gen_city(ctx, dir, &o, NULL), WG_EINVAL);
    assert_non_null(strstr(wg_errmsg(ctx), "scale"));
    o = SMALL;
    o.county = "44030A";
    assert_int_equal(wg_gen_city(ctx, dir, &o, NULL), WG_EINVAL);
    o = SMALL;
    o.first_street = 998;
    o.scale = 3;
    assert_int_equal(wg_gen_city(ctx, dir, &o, NULL), WG_EINVAL);
    o = SMALL;
    o.grids = 3; /* fewer grids than communities */
    assert_int_equal(wg_gen_city(ctx, dir, &o, NULL), WG_EINVAL);
    o = SMALL;
    o.households = 10;
    assert_int_equal(wg_gen_city(ctx, dir, &o, NULL), WG_EINVAL);
    assert_int_equal(wg_gen_city(ctx, NULL, &SMALL, NULL), WG_EINVAL);
    assert_int_equal(wg_gen_city(ctx, "", &SMALL, NULL), WG_EINVAL);
    /* nothing was written by a refused call */
    struct stat sb;
    char path[512];
    snprintf(path, sizeof path, "%s/grids.geojson", dir);
    assert_int_not_equal(stat(path, &sb), 0);
    assert_int_equal(wg_gen_city(ctx, "/proc/wangge-not-here", &SMALL, NULL), WG_EIO);
    /* an output directory that is a file */
    char *file = tu_write_temp("x");
    assert_int_equal(wg_gen_city(ctx, file, &SMALL, NULL), WG_EIO);
    tu_remove_temp(file);
    remove_dir(dir);
    wg_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_city_counts),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_scale_offices_have_their_own_codes),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
