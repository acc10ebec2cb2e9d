/* GCJ-02 <-> WGS84 (see wangge/crs.h). The forward formula is the one published with the
 * GCJ-02 reverse-engineering work (Krasovsky 1940 ellipsoid, a polynomial-and-sine offset
 * around 105 E / 35 N); every open implementation uses the same constants. */
#include "wangge/crs.h"

#include <math.h>
#include <strings.h>

#define PI 3.14159265358979323846
#define KRASOVSKY_A 6378245.0
#define KRASOVSKY_EE 0.00669342162296594323

int wg_crs_parse(const char *name, wg_crs *crs)
{
    if (!name) return WG_EINVAL;
    if (!strcasecmp(name, "wgs84") || !strcasecmp(name, "epsg:4326") || !strcasecmp(name, "cgcs2000")) {
        *crs = WG_CRS_WGS84;
        return WG_OK;
    }
    if (!strcasecmp(name, "gcj02") || !strcasecmp(name, "gcj-02")) {
        *crs = WG_CRS_GCJ02;
        return WG_OK;
    }
    return WG_EINVAL;
}

static int out_of_china(double lon, double lat)
{
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

static double offset_lat(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * sin(y * PI) + 40.0 * sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * PI) + 320.0 * sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
}

static double offset_lon(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * sin(x * PI) + 40.0 * sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * PI) + 300.0 * sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
}

void wg_wgs84_to_gcj02(double lon, double lat, double *glon, double *glat)
{
    if (out_of_china(lon, lat) || !isfinite(lon) || !isfinite(lat)) {
        *glon = lon;
        *glat = lat;
        return;
    }
    double dlat = offset_lat(lon - 105.0, lat - 35.0), dlon = offset_lon(lon - 105.0, lat - 35.0);
    double rad = lat / 180.0 * PI, magic = sin(rad);
    magic = 1 - KRASOVSKY_EE * magic * magic;
    double sq = sqrt(magic);
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sq) * PI);
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sq * cos(rad) * PI);
    *glat = lat + dlat;
    *glon = lon + dlon;
}

void wg_gcj02_to_wgs84(double glon, double glat, double *lon, double *lat)
{
    double x = glon, y = glat;
    for (int i = 0; i < 30; i++) {
        double gx, gy;
        wg_wgs84_to_gcj02(x, y, &gx, &gy);
        double dx = gx - glon, dy = gy - glat;
        x -= dx;
        y -= dy;
        if (fabs(dx) < 1e-10 && fabs(dy) < 1e-10) break;
    }
    *lon = x;
    *lat = y;
}
