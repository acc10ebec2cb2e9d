/* OGC API – Features Part 1: Core (OGC 17-069r4) over libwangge's features (wangge/features.h):
 * GET /  /conformance  /api  /collections  /collections/{id}  /collections/{id}/items
 * /collections/{id}/items/{fid}. GeoJSON and JSON only (f=json); the HTML face is the map
 * page at /map. Collections: districts, communities, grids (the units of the generation being
 * served) and addresses (with their grid in that generation).
 *
 * Items: bbox (4 numbers, or 6 with heights that are ignored; west > east spans the
 * antimeridian), bbox-crs (CRS84 only), limit (1..10000, default 100; above the maximum it is
 * lowered to it, as the standard asks), offset (the next and prev links carry it); any other
 * parameter is refused with 400 (/req/core/query-param-unknown). numberMatched is exact. */
#include "server.h"
#include "wangge/features.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define MT_JSON "application/json"
#define MT_GEOJSON "application/geo+json"
#define MT_OPENAPI "application/vnd.oai.openapi+json;version=3.0"
#define MT_HTML "text/html"

static const char *const CONFORMANCE[] = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
};

static const char *const F_ONLY[] = {"f", NULL};
static const char *const ITEMS_ARGS[] = {"bbox", "bbox-crs", "limit", "offset", "f", NULL};

/* The OpenAPI 3.0 document of the whole service; "servers" is added per request. */
static const char API_DOC[] =
    "{\n"
    " \"openapi\": \"3.0.3\",\n"
    " \"info\": {\n"
    "  \"title\": \"wangge\",\n"
    "  \"version\": \"0.1.0\",\n"
    "  \"description\": \"Urban grid governance (网格化管理): OGC API - Features Part 1 (Core) for "
    "the districts, communities and work grids of the active generation and the addresses with "
    "their work grid; point lookup; vector tiles. Coordinates are WGS84 longitude, latitude "
    "(CRS84).\",\n"
    "  \"license\": {\"name\": \"see the project\"}\n"
    " },\n"
    " \"tags\": [\n"
    "  {\"name\": \"Capabilities\", \"description\": \"Landing page, conformance, this "
    "document\"},\n"
    "  {\"name\": \"Data\", \"description\": \"Collections and their features (OGC API - "
    "Features)\"},\n"
    "  {\"name\": \"Lookup\", \"description\": \"Which grid holds a point\"},\n"
    "  {\"name\": \"Tiles\", \"description\": \"Mapbox Vector Tiles\"}\n"
    " ],\n"
    " \"paths\": {\n"
    "  \"/\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Capabilities\"],\n"
    "    \"summary\": \"Landing page\",\n"
    "    \"operationId\": \"getLandingPage\",\n"
    "    \"parameters\": [{\"$ref\": \"#/components/parameters/f\"}],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"Links to the API definition, the conformance classes and the "
    "collections.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/landingPage\"}}}\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/conformance\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Capabilities\"],\n"
    "    \"summary\": \"Conformance classes implemented\",\n"
    "    \"operationId\": \"getConformance\",\n"
    "    \"parameters\": [{\"$ref\": \"#/components/parameters/f\"}],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The URIs of the conformance classes.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/confClasses\"}}}\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/api\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Capabilities\"],\n"
    "    \"summary\": \"This API definition (OpenAPI 3.0)\",\n"
    "    \"operationId\": \"getAPI\",\n"
    "    \"parameters\": [{\"$ref\": \"#/components/parameters/f\"}],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The OpenAPI document.\",\n"
    "      \"content\": {\"application/vnd.oai.openapi+json;version=3.0\": {\"schema\": {\"type\": "
    "\"object\"}}}\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/collections\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Data\"],\n"
    "    \"summary\": \"The feature collections\",\n"
    "    \"operationId\": \"getCollections\",\n"
    "    \"parameters\": [{\"$ref\": \"#/components/parameters/f\"}],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"districts, communities, grids and addresses, with their extents.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/collections\"}}}\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/collections/{collectionId}\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Data\"],\n"
    "    \"summary\": \"One feature collection\",\n"
    "    \"operationId\": \"describeCollection\",\n"
    "    \"parameters\": [\n"
    "     {\"$ref\": \"#/components/parameters/collectionId\"},\n"
    "     {\"$ref\": \"#/components/parameters/f\"}\n"
    "    ],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The collection's metadata and links.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/collection\"}}}\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"404\": {\"$ref\": \"#/components/responses/NotFound\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/collections/{collectionId}/items\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Data\"],\n"
    "    \"summary\": \"Features of a collection, in id order, with paging\",\n"
    "    \"description\": \"Units have id = their row id and properties code, name, parent, level, "
    "area_m2 (geodesic, m²), generation and their imported properties (such as households). "
    "Addresses have households, label, code and grid (the work grid's code in the active "
    "generation, null if none).\",\n"
    "    \"operationId\": \"getFeatures\",\n"
    "    \"parameters\": [\n"
    "     {\"$ref\": \"#/components/parameters/collectionId\"},\n"
    "     {\"$ref\": \"#/components/parameters/limit\"},\n"
    "     {\"$ref\": \"#/components/parameters/offset\"},\n"
    "     {\"$ref\": \"#/components/parameters/bbox\"},\n"
    "     {\"$ref\": \"#/components/parameters/bbox-crs\"},\n"
    "     {\"$ref\": \"#/components/parameters/f\"}\n"
    "    ],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"A page of features; numberMatched is exact; a next link while more "
    "remain.\",\n"
    "      \"content\": {\n"
    "       \"application/geo+json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/featureCollectionGeoJSON\"}}\n"
    "      }\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"404\": {\"$ref\": \"#/components/responses/NotFound\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/collections/{collectionId}/items/{featureId}\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Data\"],\n"
    "    \"summary\": \"One feature\",\n"
    "    \"operationId\": \"getFeature\",\n"
    "    \"parameters\": [\n"
    "     {\"$ref\": \"#/components/parameters/collectionId\"},\n"
    "     {\"$ref\": \"#/components/parameters/featureId\"},\n"
    "     {\"$ref\": \"#/components/parameters/f\"}\n"
    "    ],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The feature.\",\n"
    "      \"content\": {\n"
    "       \"application/geo+json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/featureGeoJSON\"}}\n"
    "      }\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"404\": {\"$ref\": \"#/components/responses/NotFound\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/v1/lookup\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Lookup\"],\n"
    "    \"summary\": \"District, community, work grid and grid worker of a point\",\n"
    "    \"operationId\": \"lookup\",\n"
    "    \"description\": \"A point on a shared edge belongs to the grid east of it (north of an "
    "east-west edge). A point in no grid is outside, with the nearest grid and its distance in "
    "metres.\",\n"
    "    \"parameters\": [\n"
    "     {\n"
    "      \"name\": \"lon\",\n"
    "      \"in\": \"query\",\n"
    "      \"required\": true,\n"
    "      \"schema\": {\"type\": \"number\", \"minimum\": -180, \"maximum\": 180}\n"
    "     },\n"
    "     {\n"
    "      \"name\": \"lat\",\n"
    "      \"in\": \"query\",\n"
    "      \"required\": true,\n"
    "      \"schema\": {\"type\": \"number\", \"minimum\": -90, \"maximum\": 90}\n"
    "     },\n"
    "     {\"$ref\": \"#/components/parameters/crs\"},\n"
    "     {\"$ref\": \"#/components/parameters/generation\"}\n"
    "    ],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The answer.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/lookup\"}}}\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"404\": {\"$ref\": \"#/components/responses/NotFound\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   },\n"
    "   \"post\": {\n"
    "    \"tags\": [\"Lookup\"],\n"
    "    \"summary\": \"Lookup of a batch of points\",\n"
    "    \"operationId\": \"lookupBatch\",\n"
    "    \"parameters\": [\n"
    "     {\"$ref\": \"#/components/parameters/crs\"},\n"
    "     {\"$ref\": \"#/components/parameters/generation\"}\n"
    "    ],\n"
    "    \"requestBody\": {\n"
    "     \"required\": true,\n"
    "     \"description\": \"A JSON array of points ([lon, lat] or {\\\"lon\\\": .., \\\"lat\\\": "
    "..}) or a GeoJSON FeatureCollection of Point features.\",\n"
    "     \"content\": {\n"
    "      \"application/json\": {\n"
    "       \"schema\": {\n"
    "        \"type\": \"array\",\n"
    "        \"items\": {\n"
    "         \"oneOf\": [\n"
    "          {\"type\": \"array\", \"items\": {\"type\": \"number\"}, \"minItems\": 2},\n"
    "          {\n"
    "           \"type\": \"object\",\n"
    "           \"required\": [\"lon\", \"lat\"],\n"
    "           \"properties\": {\"lon\": {\"type\": \"number\"}, \"lat\": {\"type\": "
    "\"number\"}}\n"
    "          }\n"
    "         ]\n"
    "        }\n"
    "       }\n"
    "      },\n"
    "      \"application/geo+json\": {\"schema\": {\"type\": \"object\", \"required\": [\"type\", "
    "\"features\"]}}\n"
    "     }\n"
    "    },\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"One answer per point, in order.\",\n"
    "      \"content\": {\n"
    "       \"application/json\": {\n"
    "        \"schema\": {\n"
    "         \"type\": \"object\",\n"
    "         \"required\": [\"generation\", \"count\", \"results\"],\n"
    "         \"properties\": {\n"
    "          \"generation\": {\"type\": \"integer\"},\n"
    "          \"count\": {\"type\": \"integer\"},\n"
    "          \"results\": {\"type\": \"array\", \"items\": {\"$ref\": "
    "\"#/components/schemas/lookup\"}}\n"
    "         }\n"
    "        }\n"
    "       }\n"
    "      }\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"404\": {\"$ref\": \"#/components/responses/NotFound\"},\n"
    "     \"413\": {\n"
    "      \"description\": \"Body or batch too large.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/exception\"}}}\n"
    "     },\n"
    "     \"415\": {\n"
    "      \"description\": \"Not JSON.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/exception\"}}}\n"
    "     },\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/tiles/{layers}/{z}/{x}/{y}.mvt\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Tiles\"],\n"
    "    \"summary\": \"A Mapbox Vector Tile (Web Mercator, XYZ scheme) of the active "
    "generation\",\n"
    "    \"operationId\": \"getTile\",\n"
    "    \"parameters\": [\n"
    "     {\"$ref\": \"#/components/parameters/layers\"},\n"
    "     {\n"
    "      \"name\": \"z\",\n"
    "      \"in\": \"path\",\n"
    "      \"required\": true,\n"
    "      \"schema\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 22}\n"
    "     },\n"
    "     {\n"
    "      \"name\": \"x\",\n"
    "      \"in\": \"path\",\n"
    "      \"required\": true,\n"
    "      \"schema\": {\"type\": \"integer\", \"minimum\": 0}\n"
    "     },\n"
    "     {\n"
    "      \"name\": \"y\",\n"
    "      \"in\": \"path\",\n"
    "      \"required\": true,\n"
    "      \"schema\": {\"type\": \"integer\", \"minimum\": 0}\n"
    "     }\n"
    "    ],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The tile (gzip on request; ETag per generation).\",\n"
    "      \"content\": {\n"
    "       \"application/vnd.mapbox-vector-tile\": {\"schema\": {\"type\": \"string\", "
    "\"format\": \"binary\"}}\n"
    "      }\n"
    "     },\n"
    "     \"304\": {\"description\": \"Not modified (If-None-Match).\"},\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"404\": {\"$ref\": \"#/components/responses/NotFound\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/tiles/{layers}.json\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Tiles\"],\n"
    "    \"summary\": \"TileJSON 3.0.0 of a set of layers\",\n"
    "    \"operationId\": \"getTileJSON\",\n"
    "    \"parameters\": [{\"$ref\": \"#/components/parameters/layers\"}],\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"The TileJSON document.\",\n"
    "      \"content\": {\n"
    "       \"application/json\": {\"schema\": {\"type\": \"object\", \"required\": [\"tilejson\", "
    "\"tiles\"]}}\n"
    "      }\n"
    "     },\n"
    "     \"400\": {\"$ref\": \"#/components/responses/BadRequest\"},\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/health\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Capabilities\"],\n"
    "    \"summary\": \"Liveness and the generation served\",\n"
    "    \"operationId\": \"getHealth\",\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"Serving.\",\n"
    "      \"content\": {\"application/json\": {\"schema\": {\"type\": \"object\"}}}\n"
    "     },\n"
    "     \"503\": {\"$ref\": \"#/components/responses/Unavailable\"}\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"/metrics\": {\n"
    "   \"get\": {\n"
    "    \"tags\": [\"Capabilities\"],\n"
    "    \"summary\": \"Prometheus metrics\",\n"
    "    \"operationId\": \"getMetrics\",\n"
    "    \"responses\": {\n"
    "     \"200\": {\n"
    "      \"description\": \"Text exposition format 0.0.4.\",\n"
    "      \"content\": {\"text/plain\": {\"schema\": {\"type\": \"string\"}}}\n"
    "     }\n"
    "    }\n"
    "   }\n"
    "  }\n"
    " },\n"
    " \"components\": {\n"
    "  \"parameters\": {\n"
    "   \"f\": {\n"
    "    \"name\": \"f\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"description\": \"The format of the answer: JSON (GeoJSON for features) only.\",\n"
    "    \"schema\": {\"type\": \"string\", \"enum\": [\"json\"]},\n"
    "    \"style\": \"form\",\n"
    "    \"explode\": false\n"
    "   },\n"
    "   \"collectionId\": {\n"
    "    \"name\": \"collectionId\",\n"
    "    \"in\": \"path\",\n"
    "    \"required\": true,\n"
    "    \"schema\": {\"type\": \"string\", \"enum\": [\"districts\", \"communities\", \"grids\", "
    "\"addresses\"]}\n"
    "   },\n"
    "   \"featureId\": {\n"
    "    \"name\": \"featureId\",\n"
    "    \"in\": \"path\",\n"
    "    \"required\": true,\n"
    "    \"description\": \"The feature's id (a whole number).\",\n"
    "    \"schema\": {\"type\": \"integer\"}\n"
    "   },\n"
    "   \"limit\": {\n"
    "    \"name\": \"limit\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"style\": \"form\",\n"
    "    \"explode\": false,\n"
    "    \"description\": \"Features per page; values above the maximum are lowered to it.\",\n"
    "    \"schema\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10000, \"default\": "
    "100}\n"
    "   },\n"
    "   \"offset\": {\n"
    "    \"name\": \"offset\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"style\": \"form\",\n"
    "    \"explode\": false,\n"
    "    \"description\": \"Matching features to skip, in id order (the next links carry it).\",\n"
    "    \"schema\": {\"type\": \"integer\", \"minimum\": 0, \"default\": 0}\n"
    "   },\n"
    "   \"bbox\": {\n"
    "    \"name\": \"bbox\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"style\": \"form\",\n"
    "    \"explode\": false,\n"
    "    \"description\": \"Only features whose geometry intersects the box (edges included): "
    "minimum longitude, minimum latitude, maximum longitude, maximum latitude (or six numbers with "
    "heights, which are ignored). A box whose first longitude is greater than its second spans the "
    "antimeridian.\",\n"
    "    \"schema\": {\"type\": \"array\", \"minItems\": 4, \"maxItems\": 6, \"items\": {\"type\": "
    "\"number\"}}\n"
    "   },\n"
    "   \"bbox-crs\": {\n"
    "    \"name\": \"bbox-crs\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"style\": \"form\",\n"
    "    \"explode\": false,\n"
    "    \"schema\": {\n"
    "     \"type\": \"string\",\n"
    "     \"format\": \"uri\",\n"
    "     \"enum\": [\"http://www.opengis.net/def/crs/OGC/1.3/CRS84\"]\n"
    "    }\n"
    "   },\n"
    "   \"crs\": {\n"
    "    \"name\": \"crs\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"description\": \"wgs84 (default) or gcj02 (Chinese web maps).\",\n"
    "    \"schema\": {\"type\": \"string\", \"enum\": [\"wgs84\", \"epsg:4326\", \"gcj02\"]}\n"
    "   },\n"
    "   \"generation\": {\n"
    "    \"name\": \"generation\",\n"
    "    \"in\": \"query\",\n"
    "    \"required\": false,\n"
    "    \"description\": \"A generation id; default the active one.\",\n"
    "    \"schema\": {\"type\": \"integer\", \"minimum\": 1}\n"
    "   },\n"
    "   \"layers\": {\n"
    "    \"name\": \"layers\",\n"
    "    \"in\": \"path\",\n"
    "    \"required\": true,\n"
    "    \"description\": \"Comma-separated: districts, communities, grids, labels.\",\n"
    "    \"schema\": {\"type\": \"string\", \"example\": \"communities,grids,labels\"}\n"
    "   }\n"
    "  },\n"
    "  \"schemas\": {\n"
    "   \"exception\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"error\"],\n"
    "    \"properties\": {\n"
    "     \"error\": {\n"
    "      \"type\": \"object\",\n"
    "      \"required\": [\"code\", \"message\"],\n"
    "      \"properties\": {\"code\": {\"type\": \"string\"}, \"message\": {\"type\": "
    "\"string\"}}\n"
    "     }\n"
    "    }\n"
    "   },\n"
    "   \"link\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"href\", \"rel\"],\n"
    "    \"properties\": {\n"
    "     \"href\": {\"type\": \"string\"},\n"
    "     \"rel\": {\"type\": \"string\"},\n"
    "     \"type\": {\"type\": \"string\"},\n"
    "     \"title\": {\"type\": \"string\"}\n"
    "    }\n"
    "   },\n"
    "   \"landingPage\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"links\"],\n"
    "    \"properties\": {\n"
    "     \"title\": {\"type\": \"string\"},\n"
    "     \"description\": {\"type\": \"string\"},\n"
    "     \"links\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/link\"}}\n"
    "    }\n"
    "   },\n"
    "   \"confClasses\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"conformsTo\"],\n"
    "    \"properties\": {\"conformsTo\": {\"type\": \"array\", \"items\": {\"type\": "
    "\"string\"}}}\n"
    "   },\n"
    "   \"extent\": {\n"
    "    \"type\": \"object\",\n"
    "    \"properties\": {\n"
    "     \"spatial\": {\n"
    "      \"type\": \"object\",\n"
    "      \"properties\": {\n"
    "       \"bbox\": {\n"
    "        \"type\": \"array\",\n"
    "        \"minItems\": 1,\n"
    "        \"items\": {\"type\": \"array\", \"minItems\": 4, \"maxItems\": 6, \"items\": "
    "{\"type\": \"number\"}}\n"
    "       },\n"
    "       \"crs\": {\"type\": \"string\"}\n"
    "      }\n"
    "     }\n"
    "    }\n"
    "   },\n"
    "   \"collection\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"id\", \"links\"],\n"
    "    \"properties\": {\n"
    "     \"id\": {\"type\": \"string\"},\n"
    "     \"title\": {\"type\": \"string\"},\n"
    "     \"description\": {\"type\": \"string\"},\n"
    "     \"links\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/link\"}},\n"
    "     \"extent\": {\"$ref\": \"#/components/schemas/extent\"},\n"
    "     \"itemType\": {\"type\": \"string\"},\n"
    "     \"crs\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}\n"
    "    }\n"
    "   },\n"
    "   \"collections\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"links\", \"collections\"],\n"
    "    \"properties\": {\n"
    "     \"links\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/link\"}},\n"
    "     \"collections\": {\"type\": \"array\", \"items\": {\"$ref\": "
    "\"#/components/schemas/collection\"}}\n"
    "    }\n"
    "   },\n"
    "   \"geometryGeoJSON\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"type\", \"coordinates\"],\n"
    "    \"properties\": {\n"
    "     \"type\": {\"type\": \"string\", \"enum\": [\"Point\", \"MultiPolygon\"]},\n"
    "     \"coordinates\": {\"type\": \"array\"}\n"
    "    }\n"
    "   },\n"
    "   \"featureGeoJSON\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"type\", \"geometry\", \"properties\"],\n"
    "    \"properties\": {\n"
    "     \"type\": {\"type\": \"string\", \"enum\": [\"Feature\"]},\n"
    "     \"geometry\": {\"$ref\": \"#/components/schemas/geometryGeoJSON\"},\n"
    "     \"properties\": {\"type\": \"object\", \"nullable\": true},\n"
    "     \"id\": {\"type\": \"integer\"},\n"
    "     \"links\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/link\"}}\n"
    "    }\n"
    "   },\n"
    "   \"featureCollectionGeoJSON\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"type\", \"features\"],\n"
    "    \"properties\": {\n"
    "     \"type\": {\"type\": \"string\", \"enum\": [\"FeatureCollection\"]},\n"
    "     \"features\": {\"type\": \"array\", \"items\": {\"$ref\": "
    "\"#/components/schemas/featureGeoJSON\"}},\n"
    "     \"links\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/link\"}},\n"
    "     \"timeStamp\": {\"type\": \"string\", \"format\": \"date-time\"},\n"
    "     \"numberMatched\": {\"type\": \"integer\", \"minimum\": 0},\n"
    "     \"numberReturned\": {\"type\": \"integer\", \"minimum\": 0}\n"
    "    }\n"
    "   },\n"
    "   \"unitRef\": {\n"
    "    \"type\": \"object\",\n"
    "    \"nullable\": true,\n"
    "    \"properties\": {\"code\": {\"type\": \"string\"}, \"name\": {\"type\": \"string\", "
    "\"nullable\": true}}\n"
    "   },\n"
    "   \"lookup\": {\n"
    "    \"type\": \"object\",\n"
    "    \"required\": [\"lon\", \"lat\", \"generation\", \"outside\"],\n"
    "    \"properties\": {\n"
    "     \"lon\": {\"type\": \"number\"},\n"
    "     \"lat\": {\"type\": \"number\"},\n"
    "     \"generation\": {\"type\": \"integer\"},\n"
    "     \"district\": {\"$ref\": \"#/components/schemas/unitRef\"},\n"
    "     \"community\": {\"$ref\": \"#/components/schemas/unitRef\"},\n"
    "     \"grid\": {\"$ref\": \"#/components/schemas/unitRef\"},\n"
    "     \"worker\": {\n"
    "      \"type\": \"object\",\n"
    "      \"nullable\": true,\n"
    "      \"properties\": {\n"
    "       \"id\": {\"type\": \"string\"},\n"
    "       \"name\": {\"type\": \"string\"},\n"
    "       \"phone\": {\"type\": \"string\", \"nullable\": true},\n"
    "       \"on_duty\": {\"type\": \"boolean\"}\n"
    "      }\n"
    "     },\n"
    "     \"outside\": {\"type\": \"boolean\"},\n"
    "     \"nearest\": {\n"
    "      \"type\": \"object\",\n"
    "      \"properties\": {\n"
    "       \"code\": {\"type\": \"string\"},\n"
    "       \"name\": {\"type\": \"string\", \"nullable\": true},\n"
    "       \"distance_m\": {\"type\": \"number\"}\n"
    "      }\n"
    "     }\n"
    "    }\n"
    "   }\n"
    "  },\n"
    "  \"responses\": {\n"
    "   \"BadRequest\": {\n"
    "    \"description\": \"A bad parameter (unknown, malformed or out of range).\",\n"
    "    \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/exception\"}}}\n"
    "   },\n"
    "   \"NotFound\": {\n"
    "    \"description\": \"No such collection, feature or generation.\",\n"
    "    \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/exception\"}}}\n"
    "   },\n"
    "   \"Unavailable\": {\n"
    "    \"description\": \"No active generation to serve yet.\",\n"
    "    \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
    "\"#/components/schemas/exception\"}}}\n"
    "   }\n"
    "  }\n"
    " }\n"
    "}\n";

/* ---------------------------------------------------------------- helpers */

/* f is absent or json; replies 400 otherwise. */
static int format_ok(req *r, enum MHD_Result *res)
{
    const char *f = req_arg(r, "f");
    if (!f || strcmp(f, "json") == 0) return 1;
    *res =
        reply_error(r, 400, "bad_format", "f must be json (the HTML face is /map), not '%.32s'", f);
    return 0;
}

static int args_ok(req *r, const char *const *allowed, enum MHD_Result *res)
{
    return req_args_allowed(r, allowed, res) && format_ok(r, res);
}

/* The generation being served, held for the request; replies 503 without one. */
static int hold_snapshot(req *r, enum MHD_Result *res)
{
    if (!r->snap) r->snap = state_acquire(r->s, r->ctx);
    if (r->snap) return 1;
    *res = reply_error(r, 503, "unavailable", "no active generation");
    return 0;
}

/* v with the fewest significant digits that read back as v (json-c would write 17). */
static json_object *num(double v)
{
    char text[32];
    for (int p = 1; p <= 17; p++) {
        snprintf(text, sizeof text, "%.*g", p, v);
        if (strtod(text, NULL) == v) break;
    }
    return json_object_new_double_s(v, text);
}

static void add_link(json_object *links, const char *href, const char *rel, const char *type,
                     const char *title)
{
    json_object *l = json_object_new_object();
    json_object_object_add(l, "href", json_object_new_string(href));
    json_object_object_add(l, "rel", json_object_new_string(rel));
    json_object_object_add(l, "type", json_object_new_string(type));
    if (title) json_object_object_add(l, "title", json_object_new_string(title));
    json_object_array_add(links, l);
}

/* href = base + formatted path. */
static void add_linkf(json_object *links, const char *base, const char *rel, const char *type,
                      const char *title, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void add_linkf(json_object *links, const char *base, const char *rel, const char *type,
                      const char *title, const char *fmt, ...)
{
    char href[1024];
    int n = snprintf(href, sizeof href, "%s", base);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(href + n, sizeof href - (size_t)n, fmt, ap);
    va_end(ap);
    add_link(links, href, rel, type, title);
}

static const char *json_text(json_object *o)
{
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Replies 200 with the JSON object text `head` and "name":tail added as its last member (so
 * that the library's feature text is sent as written, never re-encoded). */
static enum MHD_Result reply_spliced(req *r, const char *ctype, const char *head, const char *name,
                                     const char *tail)
{
    size_t hn = head ? strlen(head) : 0, tn = tail ? strlen(tail) : 0;
    char *out = hn > 1 && tail ? malloc(hn + strlen(name) + tn + 8) : NULL;
    if (!out) return reply_error(r, 503, "out_of_memory", "out of memory");
    size_t n = (size_t)sprintf(out, "%.*s,\"%s\":", (int)(hn - 1), head, name); /* drop the '}' */
    memcpy(out + n, tail, tn);
    n += tn;
    out[n++] = '}';
    return reply(r, 200, ctype, out, n, MHD_RESPMEM_MUST_FREE, NULL);
}

/* ---------------------------------------------------------------- capabilities */

static enum MHD_Result landing(req *r)
{
    enum MHD_Result res;
    if (!args_ok(r, F_ONLY, &res)) return res;
    char base[320];
    req_base_url(r, base, sizeof base);
    json_object *o = json_object_new_object(), *links = json_object_new_array();
    json_object_object_add(o, "title",
                           json_object_new_string("wangge: grid governance (网格化管理)"));
    json_object_object_add(
        o, "description",
        json_object_new_string("Districts, communities and work grids of the active "
                               "generation, and the addresses with their work grid, "
                               "as OGC API - Features; point lookup at /v1/lookup; "
                               "vector tiles at /tiles; the map at /map."));
    add_linkf(links, base, "self", MT_JSON, "This document", "/");
    add_linkf(links, base, "alternate", MT_HTML, "The map", "/map");
    add_linkf(links, base, "service-desc", MT_OPENAPI, "The API definition (OpenAPI 3.0)", "/api");
    add_linkf(links, base, "conformance", MT_JSON, "Conformance classes implemented",
              "/conformance");
    add_linkf(links, base, "data", MT_JSON, "The feature collections", "/collections");
    json_object_object_add(o, "links", links);
    return reply_json(r, 200, o);
}

static enum MHD_Result conformance(req *r)
{
    enum MHD_Result res;
    if (!args_ok(r, F_ONLY, &res)) return res;
    json_object *o = json_object_new_object(), *list = json_object_new_array();
    for (size_t i = 0; i < sizeof CONFORMANCE / sizeof CONFORMANCE[0]; i++)
        json_object_array_add(list, json_object_new_string(CONFORMANCE[i]));
    json_object_object_add(o, "conformsTo", list);
    return reply_json(r, 200, o);
}

static enum MHD_Result api(req *r)
{
    enum MHD_Result res;
    if (!args_ok(r, F_ONLY, &res)) return res;
    json_object *doc = json_tokener_parse(API_DOC);
    if (!doc) return reply_error(r, 500, "internal", "the API document does not parse");
    char base[320];
    req_base_url(r, base, sizeof base);
    json_object *servers = json_object_new_array(), *here = json_object_new_object();
    json_object_object_add(here, "url", json_object_new_string(base));
    json_object_array_add(servers, here);
    json_object_object_add(doc, "servers", servers);
    const char *text = json_text(doc);
    char *copy = text ? strdup(text) : NULL;
    json_object_put(doc);
    return reply_text_json(r, 200, MT_OPENAPI, copy);
}

/* ---------------------------------------------------------------- collections */

static json_object *collection_json(const wg_collection_info *ci, const char *base)
{
    json_object *o = json_object_new_object(), *links = json_object_new_array();
    json_object_object_add(o, "id", json_object_new_string(ci->name));
    json_object_object_add(o, "title", json_object_new_string(ci->title));
    json_object_object_add(o, "description", json_object_new_string(ci->description));
    json_object_object_add(o, "itemType", json_object_new_string("feature"));
    json_object *crs = json_object_new_array();
    json_object_array_add(crs, json_object_new_string(CRS84));
    json_object_object_add(o, "crs", crs);
    if (ci->has_extent) {
        json_object *box = json_object_new_array(), *boxes = json_object_new_array();
        for (int i = 0; i < 4; i++)
            json_object_array_add(box, num(ci->extent[i]));
        json_object_array_add(boxes, box);
        json_object *spatial = json_object_new_object(), *extent = json_object_new_object();
        json_object_object_add(spatial, "bbox", boxes);
        json_object_object_add(spatial, "crs", json_object_new_string(CRS84));
        json_object_object_add(extent, "spatial", spatial);
        json_object_object_add(o, "extent", extent);
    }
    add_linkf(links, base, "self", MT_JSON, "This collection", "/collections/%s", ci->name);
    add_linkf(links, base, "items", MT_GEOJSON, "Its features", "/collections/%s/items", ci->name);
    json_object_object_add(o, "links", links);
    return o;
}

static enum MHD_Result collections(req *r)
{
    enum MHD_Result res;
    if (!args_ok(r, F_ONLY, &res) || !hold_snapshot(r, &res)) return res;
    char base[320];
    req_base_url(r, base, sizeof base);
    json_object *o = json_object_new_object(), *links = json_object_new_array(),
                *list = json_object_new_array();
    add_linkf(links, base, "self", MT_JSON, "This document", "/collections");
    for (int c = 1; c <= WG_COLL_COUNT; c++) {
        wg_collection_info ci;
        int rc = wg_features_collection(r->ctx, r->snap->gen, (wg_collection)c, &ci);
        if (rc != WG_OK) {
            json_object_put(o), json_object_put(links), json_object_put(list);
            return reply_rc(r, rc);
        }
        json_object_array_add(list, collection_json(&ci, base));
    }
    json_object_object_add(o, "links", links);
    json_object_object_add(o, "collections", list);
    return reply_json(r, 200, o);
}

static enum MHD_Result collection(req *r, wg_collection c)
{
    enum MHD_Result res;
    if (!args_ok(r, F_ONLY, &res) || !hold_snapshot(r, &res)) return res;
    wg_collection_info ci;
    int rc = wg_features_collection(r->ctx, r->snap->gen, c, &ci);
    if (rc != WG_OK) return reply_rc(r, rc);
    char base[320];
    req_base_url(r, base, sizeof base);
    return reply_json(r, 200, collection_json(&ci, base));
}

/* ---------------------------------------------------------------- items */

/* limit: 1..WG_ITEMS_LIMIT_MAX, larger values lowered to the maximum
 * (/req/core/fc-limit-response-1). */
static int parse_limit(req *r, size_t *limit, enum MHD_Result *res)
{
    const char *s = req_arg(r, "limit");
    *limit = WG_ITEMS_LIMIT_DEFAULT;
    if (!s) return 1;
    int64_t v;
    if (!parse_i64(s, &v)) /* a whole number too long for int64 is above the maximum too */
        v = *s && strspn(s, "0123456789") == strlen(s) ? INT64_MAX : 0;
    if (v < 1) {
        *res = reply_error(r, 400, "bad_limit",
                           "limit must be a whole number from 1 to %d, not '%.32s'",
                           WG_ITEMS_LIMIT_MAX, s);
        return 0;
    }
    *limit = v > WG_ITEMS_LIMIT_MAX ? WG_ITEMS_LIMIT_MAX : (size_t)v;
    return 1;
}

static int parse_offset(req *r, size_t *offset, enum MHD_Result *res)
{
    const char *s = req_arg(r, "offset");
    int64_t v = 0;
    if (s && (!parse_i64(s, &v) || v < 0)) {
        *res = reply_error(r, 400, "bad_offset",
                           "offset must be a whole number from 0, not '%.32s'", s);
        return 0;
    }
    *offset = (size_t)v;
    return 1;
}

/* bbox: 4 numbers, or 6 with heights (ignored: the features are flat). The library checks
 * their ranges. bbox-crs, if given, must be CRS84. */
static int parse_bbox(req *r, wg_items_query *q, enum MHD_Result *res)
{
    const char *s = req_arg(r, "bbox"), *crs = req_arg(r, "bbox-crs");
    if (crs && strcmp(crs, CRS84) != 0) {
        *res = reply_error(r, 400, "bad_bbox_crs", "bbox-crs must be " CRS84 ", not '%.100s'", crs);
        return 0;
    }
    if (!s) return 1;
    double v[6];
    int n = 0, ok = 1;
    for (const char *p = s;; p++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char tok[64];
        if (n == 6 || len == 0 || len >= sizeof tok) {
            ok = 0;
            break;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (!parse_double(tok, &v[n++])) {
            ok = 0;
            break;
        }
        if (!comma) break;
        p = comma; /* the loop steps over the comma */
    }
    if (!ok || (n != 4 && n != 6)) {
        *res = reply_error(
            r, 400, "bad_bbox",
            "bbox must be 4 numbers (lon_min,lat_min,lon_max,lat_max) or 6 with heights,"
            " not '%.100s'",
            s);
        return 0;
    }
    if (n == 6 && v[2] > v[5]) {
        *res = reply_error(r, 400, "bad_bbox", "bbox: the lowest height is above the highest");
        return 0;
    }
    const double box[4] = {v[0], v[1], v[n / 2], v[n / 2 + 1]};
    memcpy(q->bbox, box, sizeof box);
    q->has_bbox = 1;
    return 1;
}

/* Appends a link to the page of q at `offset`:
 * /collections/{id}/items?limit&offset[&bbox][&bbox-crs]. */
static void add_page_link(req *r, json_object *links, const char *base, wg_collection c,
                          const wg_items_query *q, size_t offset, const char *rel,
                          const char *title)
{
    char bbox[200] = "";
    size_t n = 0;
    for (int i = 0; q->has_bbox && i < 4; i++) {
        json_object *x = num(q->bbox[i]);
        n += (size_t)snprintf(bbox + n, sizeof bbox - n, "%s%s",
                              i ? "," : "&bbox=", json_object_to_json_string(x));
        json_object_put(x);
    }
    add_linkf(links, base, rel, MT_GEOJSON, title, "/collections/%s/items?limit=%zu&offset=%zu%s%s",
              wg_collection_name(c), q->limit, offset, bbox,
              req_arg(r, "bbox-crs") ? "&bbox-crs=" CRS84 : "");
}

static enum MHD_Result items(req *r, wg_collection c)
{
    enum MHD_Result res;
    wg_items_query q = {0};
    if (!args_ok(r, ITEMS_ARGS, &res) || !parse_limit(r, &q.limit, &res) ||
        !parse_offset(r, &q.offset, &res) || !parse_bbox(r, &q, &res) || !hold_snapshot(r, &res))
        return res;
    q.generation = r->snap->gen;
    wg_items it;
    int rc = wg_features_items(r->ctx, c, &q, &it);
    if (rc == WG_EINVAL) return reply_error(r, 400, "bad_bbox", "%s", wg_errmsg(r->ctx));
    if (rc != WG_OK) return reply_rc(r, rc);
    char base[320], stamp[32];
    req_base_url(r, base, sizeof base);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object *o = json_object_new_object(), *links = json_object_new_array();
    json_object_object_add(o, "type", json_object_new_string("FeatureCollection"));
    json_object_object_add(o, "numberMatched", json_object_new_int64((int64_t)it.matched));
    json_object_object_add(o, "numberReturned", json_object_new_int64((int64_t)it.returned));
    json_object_object_add(o, "timeStamp", json_object_new_string(stamp));
    json_object_object_add(o, "generation", json_object_new_int64(it.generation));
    add_page_link(r, links, base, c, &q, q.offset, "self", "This page");
    if (q.offset + it.returned < it.matched)
        add_page_link(r, links, base, c, &q, q.offset + it.returned, "next", "The next page");
    if (q.offset > 0)
        add_page_link(r, links, base, c, &q, q.offset > q.limit ? q.offset - q.limit : 0, "prev",
                      "The previous page");
    add_linkf(links, base, "collection", MT_JSON, "The collection", "/collections/%s",
              wg_collection_name(c));
    json_object_object_add(o, "links", links);
    res = reply_spliced(r, MT_GEOJSON, json_text(o), "features", it.features);
    json_object_put(o);
    free(it.features);
    return res;
}

static enum MHD_Result item(req *r, wg_collection c, const char *sfid)
{
    enum MHD_Result res;
    int64_t fid;
    if (!args_ok(r, F_ONLY, &res)) return res;
    if (!parse_i64(sfid, &fid))
        return reply_error(r, 400, "bad_feature_id", "feature ids are whole numbers, not '%.32s'",
                           sfid);
    if (!hold_snapshot(r, &res)) return res;
    char *feature;
    int rc = wg_features_item(r->ctx, c, r->snap->gen, fid, &feature);
    if (rc != WG_OK) return reply_rc(r, rc);
    char base[320];
    req_base_url(r, base, sizeof base);
    json_object *links = json_object_new_array();
    const char *name = wg_collection_name(c);
    add_linkf(links, base, "self", MT_GEOJSON, "This feature", "/collections/%s/items/%lld", name,
              (long long)fid);
    add_linkf(links, base, "collection", MT_JSON, "The collection", "/collections/%s", name);
    res = reply_spliced(r, MT_GEOJSON, feature, "links", json_text(links));
    json_object_put(links);
    free(feature);
    return res;
}

/* /collections/{id}[/items[/{fid}]] */
static enum MHD_Result collection_route(req *r, const char *rest)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    char id[32];
    wg_collection c = 0;
    if (n > 0 && n < sizeof id) {
        memcpy(id, rest, n);
        id[n] = '\0';
        c = wg_collection_parse(id);
    }
    if (!c)
        return reply_error(
            r, 404, "not_found",
            "no collection '%.*s': they are districts, communities, grids, addresses",
            (int)(n < 64 ? n : 64), rest);
    if (!slash) return collection(r, c);
    if (strcmp(slash, "/items") == 0) return items(r, c);
    if (strncmp(slash, "/items/", 7) == 0) return item(r, c, slash + 7);
    return reply_error(r, 404, "not_found", "no such resource: %.200s", r->url);
}

enum MHD_Result h_ogc(req *r, const char *path)
{
    if (strcmp(path, "/") == 0) return landing(r);
    if (strcmp(path, "/conformance") == 0) return conformance(r);
    if (strcmp(path, "/api") == 0) return api(r);
    if (strcmp(path, "/collections") == 0) return collections(r);
    if (strncmp(path, "/collections/", 13) == 0) return collection_route(r, path + 13);
    return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
}
