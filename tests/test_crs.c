/* crs.c: GCJ-02 against the published reference vector, round trips, outside China. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "wangge/crs.h"
#include "testutil.h"

static void test_reference_vector(void **state)
{
    (void)state;
    /* the control point every open implementation (eviltransform, coordtransform, Hutool)
     * tests against: WGS84 116.404 E 39.915 N */
    double glon, glat;
    wg_wgs84_to_gcj02(116.404, 39.915, &glon, &glat);
    assert_near(glon, 116.41024449916938, 1e-9);
    assert_near(glat, 39.91640428150164, 1e-9);
}

static void test_round_trip_and_size(void **state)
{
    (void)state;
    const double pts[][2] = {{114.46, 22.63}, {116.404, 39.915}, {121.4998, 31.2397}, {87.6, 43.8}, {126.6, 45.75}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        double glon, glat, lon, lat;
        wg_wgs84_to_gcj02(pts[i][0], pts[i][1], &glon, &glat);
        wg_gcj02_to_wgs84(glon, glat, &lon, &lat);
        assert_near(lon, pts[i][0], 1e-9);
        assert_near(lat, pts[i][1], 1e-9);
        /* the offset is a few hundred metres */
        double dx = (glon - pts[i][0]) * 111320 * 0.8, dy = (glat - pts[i][1]) * 110574;
        double d = dx * dx + dy * dy;
        assert_true(d > 50.0 * 50.0 && d < 1000.0 * 1000.0);
    }
}

static void test_outside_china_unchanged(void **state)
{
    (void)state;
    double glon, glat, lon, lat;
    wg_wgs84_to_gcj02(-0.1276, 51.5072, &glon, &glat);
    assert_true(glon == -0.1276 && glat == 51.5072);
    wg_gcj02_to_wgs84(139.69, 35.68 + 25, &lon, &lat); /* north of the box */
    assert_true(lon == 139.69 && lat == 35.68 + 25);
    wg_crs crs;
    assert_int_equal(wg_crs_parse("GCJ02", &crs), WG_OK);
    assert_int_equal(crs, WG_CRS_GCJ02);
    assert_int_equal(wg_crs_parse("wgs84", &crs), WG_OK);
    assert_int_equal(crs, WG_CRS_WGS84);
    assert_int_equal(wg_crs_parse("bd09", &crs), WG_EINVAL);
    assert_int_equal(wg_crs_parse(NULL, &crs), WG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vector),
        cmocka_unit_test(test_round_trip_and_size),
        cmocka_unit_test(test_outside_china_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
