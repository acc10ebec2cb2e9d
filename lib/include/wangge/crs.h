/* wangge — coordinates from Chinese web maps.
 *
 * GCJ-02 ("Mars coordinates") is the offset every map published in mainland China applies to
 * WGS84 by law (Amap/Gaode, Tencent, and Baidu before its own BD-09 shift). PROJ does not carry
 * it, so the published forward formula is implemented here, with its inverse by fixed-point
 * iteration to better than 1e-9 degrees (0.1 mm). Outside mainland China's box the offset is
 * zero, as in every client that applies it. */
#ifndef WANGGE_CRS_H
#define WANGGE_CRS_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wg_crs { WG_CRS_WGS84 = 0, WG_CRS_GCJ02 = 1 } wg_crs;

/* "wgs84" / "epsg:4326" / "gcj02" (case-insensitive) -> crs; WG_EINVAL otherwise. */
WG_API int wg_crs_parse(const char *name, wg_crs *crs);
WG_API void wg_wgs84_to_gcj02(double lon, double lat, double *glon, double *glat);
WG_API void wg_gcj02_to_wgs84(double glon, double glat, double *lon, double *lat);

#ifdef __cplusplus
}
#endif
#endif
