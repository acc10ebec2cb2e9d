#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/<name>.

The seeds are small, real inputs: features and rows of geodata/ and tests/data/mini, a tile
program per kind of MVT content, calendars, and a request for every route of the server with
the keys of http_harness.h. Rerun after changing it (the output is deterministic); the fuzz
runs themselves never write here (scripts/fuzz.sh works on a scratch copy).

usage: python3 tests/fuzz/make_corpus.py
"""
import json
import math
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")
MINI = os.path.join(SRC, "tests", "data", "mini")
GEO = os.path.join(SRC, "geodata")

KEY_ADMIN = "wg_0000000000a1_a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
KEY_DISP = "wg_0000000000d1_d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"
KEY_PLAN = "wg_0000000000b1_b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
KEY_VIEW = "wg_0000000000e1_e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
KEY_WORK = "wg_0000000000f1_f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1"
KEY_REVOKED = "wg_0000000000c1_c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def dumps(o):
    return json.dumps(o, ensure_ascii=False, separators=(",", ":"))


def feature(props, gtype, coords):
    return {"type": "Feature", "properties": props, "geometry": {"type": gtype, "coordinates": coords}}


def collection(features, **extra):
    o = {"type": "FeatureCollection"}
    o.update(extra)
    o["features"] = features
    return o


# ---------------------------------------------------------------- GeoJSON

def geojson():
    t = "geojson"
    for name in ("districts", "communities", "grids"):
        write(t, "mini_%s.geojson" % name, read(os.path.join(MINI, name + ".geojson")))
    grids = json.load(open(os.path.join(GEO, "grids.geojson"), encoding="utf-8"))["features"]
    write(t, "geodata_grid_feature.geojson", dumps(grids[0]))
    # GeoJSONSeq with RFC 8142 record separators, and NDJSON
    write(t, "seq_rs.geojsons", "".join("\x1e" + dumps(f) + "\n" for f in grids[1:3]))
    roads = json.load(open(os.path.join(GEO, "roads.geojson"), encoding="utf-8"))["features"]
    road = roads[0]
    road["geometry"]["coordinates"] = road["geometry"]["coordinates"][:12]
    river = json.load(open(os.path.join(GEO, "rivers.geojson"), encoding="utf-8"))["features"][0]
    river["geometry"]["coordinates"] = river["geometry"]["coordinates"][:12]
    write(t, "ndjson_lines.geojson", dumps(road) + "\n" + dumps(river) + "\n")
    rental = json.load(open(os.path.join(GEO, "thematic_rental.geojson"), encoding="utf-8"))["features"]
    write(t, "thematic_rental.geojson", dumps(collection(rental[:2], name="thematic_rental")))
    # members in another order, crs and bbox, a MultiPolygon with a hole
    mp = feature({"code": "440307006002001", "name": "网格 with hole", "parent": "440307006002"}, "MultiPolygon",
                 [[[[114.46, 22.62], [114.47, 22.62], [114.47, 22.63], [114.46, 22.63], [114.46, 22.62]],
                   [[114.462, 22.622], [114.462, 22.625], [114.465, 22.625], [114.465, 22.622], [114.462, 22.622]]],
                  [[[114.47, 22.62], [114.48, 22.62], [114.48, 22.63], [114.47, 22.62]]]])
    write(t, "multipolygon_hole.geojson",
          '{"features":[%s],"bbox":[114.46,22.62,114.48,22.63],"crs":{"type":"name","properties":'
          '{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"type":"FeatureCollection"}' % dumps(mp))
    # addresses and workers as points
    pts = [feature({"households": 6, "label": "葵涌街道样例路1号"}, "Point", [114.477544, 22.613493]),
           feature({"households": "2", "label": "样例路2号", "code": "A2"}, "Point", [114.471573, 22.611644]),
           feature({"id": "W9", "name": "测试员", "role": "grid_worker", "home_grid": "440307006001001",
                    "on_duty": True}, "Point", [114.445, 22.625]),
           {"type": "Feature", "id": "O9", "properties": {"name": "officer", "role": "officer"}, "geometry": None}]
    write(t, "points.geojson", dumps(collection(pts)))
    # refusals: unclosed ring, bow tie, too few points, out of range, empty, wrong type, nested
    bad = [
        feature({"code": "440307006001001"}, "Polygon", [[[114.44, 22.62], [114.45, 22.62], [114.45, 22.63]]]),
        feature({"code": "440307006001002"}, "Polygon",
                [[[114.45, 22.62], [114.46, 22.63], [114.46, 22.62], [114.45, 22.63], [114.45, 22.62]]]),
        feature({"code": "440307006001003"}, "Polygon", [[[114.44, 22.61], [114.45, 22.61], [114.44, 22.61]]]),
        feature({"code": "440307006001004"}, "Polygon", [[[181, 22.61], [114.46, 91], [114.46, 22.62], [181, 22.61]]]),
        feature({"code": "440307006002002"}, "Polygon", []),
        feature({"code": "440307006002003"}, "GeometryCollection", []),
        feature({"code": 440307006002004, "name": None, "extra": {"a": [1, 2, {"b": None}]}}, "Polygon",
                [[[114.47, 22.61], [114.48, 22.61, 5], [114.48, 22.62], [114.47, 22.62], [114.47, 22.61]]]),
        {"type": "Feature", "properties": {"code": "440307006002005"}, "geometry": None},
    ]
    write(t, "refusals.geojson", dumps(collection(bad)))
    write(t, "bom_single_feature.geojson", "\ufeff" + dumps(grids[3]))
    write(t, "syntax_error.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature",}]}')
    write(t, "empty_collection.geojson", '{"type":"FeatureCollection","features":[]}')
    write(t, "utf8_names.geojson", dumps(collection([feature({"code": "440307006001001", "name": "网格一 — ü ☃ 😀"},
                                                            "Polygon", grids[0]["geometry"]["coordinates"])])))


# ---------------------------------------------------------------- CSV

def csv():
    t = "csv"
    lines = read(os.path.join(MINI, "addresses.csv")).splitlines()
    write(t, "mini_addresses.csv", "\n".join(lines[:12]) + "\n")
    lines = read(os.path.join(MINI, "events.csv")).splitlines()
    write(t, "mini_events.csv", "\n".join(lines[:8]) + "\n")
    lines = read(os.path.join(GEO, "addresses.csv")).splitlines()
    write(t, "geodata_addresses_crlf.csv", "\r\n".join(lines[:6]) + "\r\n")
    lines = read(os.path.join(GEO, "events.csv")).splitlines()
    write(t, "geodata_events.csv", "\n".join(lines[:6]))  # no final line end
    write(t, "workers.csv", read(os.path.join(HERE, "data", "workers.csv")))
    write(t, "categories.csv", read(os.path.join(GEO, "categories.csv")))
    write(t, "quoted_multiline.csv",
          'lon,lat,households,label\n114.45,22.62,3,"样例路 ""1"" 号,\n二单元"\n  114.46 , 22.615 ,1,"  spaced  "\n')
    write(t, "bom_blank_lines.csv", "\ufefflon,lat,households,label\n\n114.45,22.62,1,a\n\r\n\n114.47,22.61,0,b\n")
    write(t, "ragged_and_bad.csv",
          "lon,lat,households,label\n114.45,22.62,1\n114.45,x,1,bad lat\n181,22.62,1,out of range\n"
          "114.45,22.62,-1,bad households\n114.45,22.62,100001,too many\nnan,inf,1,nan\n")
    write(t, "stray_quote.csv", 'lon,lat,households,label\n114.45,22.62,1,a"b\n')
    write(t, "open_quote.csv", 'lon,lat,category,time\n114.45,22.62,0102,"2026-10-01T08:00:00+08:00\n')
    write(t, "events_bad.csv",
          "lon,lat,category,time,status,description\n114.45,22.62,12,2026-10-01,reported,short category\n"
          "114.45,22.62,0102,,reported,no time\n114.45,22.62,0102,2026-10-01T08:00:00Z,dispatched,\n")
    write(t, "workers_bad.csv",
          "id,name,phone,role,home_grid,lon,lat,on_duty,seen_at\nW1,甲,1,grid_worker,440307006001001,114.445,22.625,1,"
          "2026-10-01T08:00:00+08:00\nW1,dup,,officer,,,,0,\n,noid,,officer,,,,,\nW2,,,,x,114.4,,2,\n"
          "W3,丙,,captain,440307006001001,114.4,22.6,true,\n")
    write(t, "categories_bad.csv",
          "code,class,class_name,subclass_name,limit,limit_unit,role\n0101,01,市容,违建,5,days,officer\n"
          "0101,01,dup,dup,1,hours,grid_worker\n01x2,01,a,b,1,hours,x\n0202,03,a,b,-1,weeks,\n")
    write(t, "header_only.csv", "lon,lat\n")
    write(t, "many_columns.csv", ",".join("c%d" % i for i in range(40)) + "\n" + ",".join(str(i) for i in range(40)) + "\n")


# ---------------------------------------------------------------- MVT programs
# ops: 0 layer(nkeys, first) 1 feature(idlen, id..., type) 2 point(x, y) 3 ring(n, coords)
#      4 string tag(key, len, chars) 5 int tag(key, nbytes, bytes, sign) 6 cancel 7 layer switch
# a coordinate: mode byte (0 near: int8; 1 in tile: 2 bytes; 2 int16; 3 int32) then its bytes

def c_tile(v):
    return bytes([1]) + struct.pack("<H", v + 64)


def c_near(d):
    return bytes([0, d & 0xFF])


def c_any(v):
    return bytes([3]) + struct.pack("<i", v)


def mvt():
    t = "mvt"
    square = [(100, 100), (100, 900), (900, 900), (900, 100)]
    ring = bytes([3, len(square)]) + b"".join(c_tile(x) + c_tile(y) for x, y in square)
    grid = (bytes([0, 5, 0]) + bytes([1, 7]) + struct.pack("<Q", 440307006001001) + bytes([0]) + ring
            + bytes([4, 0, 16]) + b"440307006001001" + bytes([4, 1, 7]) + b"grid 1" + bytes([5, 2, 1, 3, 0]))
    write(t, "one_polygon.bin", grid)
    hole = [(300, 300), (600, 300), (600, 600), (300, 600)]
    ring2 = bytes([3, len(hole)]) + b"".join(c_tile(x) + c_tile(y) for x, y in hole)
    write(t, "polygon_with_hole.bin", grid + ring2)
    labels = bytes([0, 3, 1]) + b"".join(
        bytes([1, 1]) + struct.pack("<H", i) + bytes([1, 2]) + c_tile(200 * i) + c_tile(4000 - 150 * i)
        + bytes([4, i % 3, 4]) + b"abc" for i in range(5))
    write(t, "points_shared_values.bin", labels)
    four = b"".join(bytes([0, k + 1, k % 2, 1, 0, k, 1, 2]) + c_tile(k * 10) + c_tile(k * 20) for k in range(4))
    write(t, "four_layers.bin", four + bytes([0, 1, 0]))
    far = bytes([0, 2, 0, 1, 7]) + b"\xff" * 8 + bytes([0, 3, 3]) + c_any(2**31 - 1) + c_any(-2**31) + c_any(-1) + \
        c_any(2**31 - 1) + c_near(-128) + c_near(127)
    write(t, "extreme_coordinates.bin", far)
    cancel = grid + bytes([6, 1, 0, 9, 0, 3, 2]) + c_tile(1) + c_tile(1) + c_tile(2) + c_tile(2) + bytes([7, 0])
    write(t, "cancel_and_short_ring.bin", cancel)
    ints = bytes([0, 5, 0, 1, 0, 1, 1, 2]) + c_tile(5) + c_tile(5) + bytes([5, 2, 7]) + b"\xff" * 8 + bytes([1]) + \
        bytes([5, 2, 7]) + b"\x00" * 7 + b"\x80" + bytes([0]) + bytes([4, 1, 0])
    write(t, "int_extremes_null_string.bin", ints)


# ---------------------------------------------------------------- calendars

def calendar():
    t = "calendar"
    write(t, "national_day.ini", read(os.path.join(HERE, "data", "calendar.ini")))
    write(t, "defaults.ini", "# all defaults\n")
    write(t, "no_weekend_utc.ini",
          "utc_offset = +00:00\nhours = 00:00-24:00\nweekend = none\nholiday = 2026-01-01, 2026-12-25..2026-12-26\n")
    write(t, "odd_offset_many_periods.ini",
          "utc_offset = -05:45\nhours = 06:00-07:30, 08:00-08:01, 13:00-17:59, 23:00-24:00\nweekend = fri\n"
          "workday = 2030-01-04\nholiday = 2030-01-01..2030-01-03\nholiday = 2030-02-29\n")
    write(t, "times.txt",
          "2026-10-01T08:00:00+08:00\n2026-10-01\n2026-10-01 23:59:59.999Z\n2000-01-01T00:00:00Z\n"
          "2199-12-31T23:59:59.999Z\n2026-02-29T00:00:00Z\n2026-10-01T24:00:00+08:00\n1999-12-31T23:59:59Z\n"
          "2026-10-01T08:00:00,5-03:30\n")
    write(t, "errors.ini",
          "hours = 12:00-09:00\nweekend = mon, tue, wed, thu, fri, sat, sun\nholiday = 2026-10-01..2028-10-01\n"
          "workday = 2026-10-01\nnonsense\n")


# ---------------------------------------------------------------- HTTP requests

def tile_xy(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def request(method, path, headers=(), body=None, version="HTTP/1.1"):
    h = ["%s %s %s" % (method, path, version), "Host: 127.0.0.1:8080"]
    h += list(headers)
    b = b""
    if body is not None:
        b = body.encode("utf-8") if isinstance(body, str) else body
        h.append("Content-Length: %d" % len(b))
    return ("\r\n".join(h) + "\r\n\r\n").encode("utf-8") + b


def http():
    t = "http"
    J = "Content-Type: application/json"
    A = "X-API-Key: " + KEY_ADMIN
    D = "Authorization: Bearer " + KEY_DISP
    P = "X-API-Key: " + KEY_PLAN
    W = "X-API-Key: " + KEY_WORK
    V = "X-API-Key: " + KEY_VIEW
    x, y = tile_xy(114.46, 22.62, 14)
    reqs = {
        "lookup": request("GET", "/v1/lookup?lon=114.445&lat=22.625"),
        "lookup_gcj02_generation": request("GET", "/v1/lookup?lon=114.4750&lat=22.6271&crs=gcj02&generation=1", [D]),
        "lookup_outside": request("GET", "/v1/lookup?lon=114.52&lat=22.62"),
        "lookup_bad": request("GET", "/v1/lookup?lon=NaN&lat=1e400&zoom=3"),
        "lookup_edge": request("GET", "/v1/lookup?lon=114.46&lat=22.62"),
        "lookup_batch": request("POST", "/v1/lookup", [J], "[[114.445,22.625],{\"lon\":114.47,\"lat\":22.615},[181,0]]"),
        "lookup_batch_geojson": request("POST", "/v1/lookup", ["Content-Type: application/geo+json"], dumps(collection(
            [feature({}, "Point", [114.455, 22.615]), feature({}, "Point", [114.475, 22.625])]))),
        "tile": request("GET", "/tiles/grids/14/%d/%d.mvt" % (x, y)),
        "tile_all_gzip": request("GET", "/tiles/districts,communities,grids,labels/12/%d/%d.mvt" % tile_xy(114.46, 22.62, 12),
                                 ["Accept-Encoding: gzip, deflate"]),
        "tile_etag": request("GET", "/tiles/grids/14/%d/%d.mvt?generation=1" % (x, y), ['If-None-Match: "g1-0"']),
        "tile_bad": request("GET", "/tiles/grids/23/-1/4096.png"),
        "tilejson": request("GET", "/tiles/districts,communities,grids,labels.json"),
        "ogc_landing": request("GET", "/?f=json", ["Accept: application/json"]),
        "ogc_landing_browser": request("GET", "/", ["Accept: text/html"]),
        "ogc_conformance_api": request("GET", "/conformance") + request("GET", "/api"),
        "ogc_collections": request("GET", "/collections"),
        "ogc_items_bbox": request("GET", "/collections/grids/items?bbox=114.44,22.61,114.46,22.62&limit=2&offset=1"),
        "ogc_items_bbox_crs": request("GET", "/collections/addresses/items?bbox=114.44,22.61,114.45,22.62"
                                             "&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84&limit=3"),
        "ogc_items_datetime": request("GET", "/collections/communities/items?datetime=2026-01-01T00:00:00Z/..&limit=1"),
        "ogc_item": request("GET", "/collections/districts/items/1") + request("GET", "/collections/grids/items/abc"),
        "ogc_collection": request("GET", "/collections/grids") + request("GET", "/collections/nope/items"),
        "health_metrics": request("GET", "/health") + request("GET", "/metrics"),
        "map": request("GET", "/map") + request("GET", "/map/..%2fmap.js"),
        "options": request("OPTIONS", "/v1/lookup"),
        "head": request("HEAD", "/collections") + request("GET", "/health"),
        "workers": request("GET", "/v1/workers", [A]),
        "worker": request("GET", "/v1/workers/W440307006001001", [D]) +
                  request("GET", "/v1/workers/W440307006001001/track?from=2026-01-01&limit=5", [D]),
        "worker_register": request("POST", "/v1/workers", [A, J],
                                   '{"id":"T001","name":"测试员","phone":"13812345678","role":"grid_worker",'
                                   '"home_grid":"440307006001001"}'),
        "worker_delete": request("DELETE", "/v1/workers/O001", [A]),
        "duty": request("POST", "/v1/workers/W440307006001001/duty", [W, J], '{"on_duty":false}'),
        "nearest": request("GET", "/v1/workers/nearest?lon=114.455&lat=22.62&k=3"),
        "nearest_filters": request("GET", "/v1/workers/nearest?lon=114.4750&lat=22.6271&crs=gcj02&k=20&on_duty=any"
                                          "&role=officer&grid=same&seen_within_min=10", [D]),
        "positions": request("POST", "/v1/positions", [D, J],
                             '[{"worker_id":"W440307006001001","lon":114.445,"lat":22.625,"at":"2026-10-01T08:00:00+08:00",'
                             '"accuracy_m":5},{"worker_id":"W440307006001002","lon":114.455,"lat":22.625}]'),
        "positions_worker": request("POST", "/v1/positions?crs=gcj02", [W, J], '{"lon":114.4262,"lat":22.6333}'),
        "events_list": request("GET", "/v1/events?grid=440307006001001&from=2026-09-01&to=2026-12-31&status=reported,"
                                      "registered&limit=5", [D]),
        "events_bbox": request("GET", "/v1/events?bbox=114.44,22.61,114.46,22.63&category=01&outside=false", [V]),
        "events_overdue": request("GET", "/v1/events/overdue?at=2026-11-12T15:00:00%2B08:00", [D]),
        "event": request("GET", "/v1/events/1", [D]) + request("GET", "/v1/events/abc", [D]),
        "event_file": request("POST", "/v1/events", [D, J],
                              '{"lon":114.47,"lat":22.63,"category":"0102","description":"积存垃圾",'
                              '"reporter":"李四 13900002222","at":"2026-11-16T16:00:00+08:00"}'),
        "event_file_worker": request("POST", "/v1/events", [W, J],
                                     '{"lon":114.447,"lat":22.623,"category":"0201","photo_url":"https://img.example.cn/1.jpg",'
                                     '"crs":"gcj02"}'),
        "event_batch": request("POST", "/v1/events", [D, J],
                               '[{"lon":114.45,"lat":22.62,"category":"0102"},{"lon":114.52,"lat":22.62,"category":"0103"}]'),
        "event_steps": request("POST", "/v1/events/1/register", [D, J], "{}") +
                       request("POST", "/v1/events/1/dispatch", [D, J], '{"assignee":"W440307006001001","note":"go"}') +
                       request("POST", "/v1/events/1/handle", [W, J], "{}") +
                       request("POST", "/v1/events/1/send_back", [D, J], '{"expect":"handled"}') +
                       request("POST", "/v1/events/1/handle", [D, J], "{}") +
                       request("POST", "/v1/events/1/verify", [D, J], "{}") +
                       request("POST", "/v1/events/1/evaluate", [D, J], '{"score":5}') +
                       request("POST", "/v1/events/1/archive", [D]),
        "event_cancel": request("POST", "/v1/events/2/cancel", [D, J], '{"note":"duplicate"}'),
        "stats": request("GET", "/v1/stats?by=grid&from=2026-09-01&to=2026-12-31", [D]) +
                 request("GET", "/v1/stats?by=worker", [D]),
        "categories_calendar": request("GET", "/v1/categories") + request("GET", "/v1/calendar"),
        "open311_services": request("GET", "/open311/v2/services.json"),
        "open311_post_form": request("POST", "/open311/v2/requests.json",
                                     ["Content-Type: application/x-www-form-urlencoded"],
                                     "service_code=0201&lat=22.6271&long=114.4750&description=%E7%94%B5%E7%BA%BF&"
                                     "email=resident%40example.cn&first_name=%E5%B0%8F%E6%98%8E&jurisdiction_id=kuichong"),
        "open311_post_json": request("POST", "/open311/v2/requests.json", [J],
                                     '{"service_code":"0504","lat":22.62,"long":114.52,"description":"outside"}'),
        "open311_get": request("GET", "/open311/v2/requests.json?start_date=2026-09-01&end_date=2026-12-31&status=open"
                                      "&service_code=0102,0103") +
                       request("GET", "/open311/v2/requests/1.json") +
                       request("GET", "/open311/v2/requests.json?service_request_id=1,2,3"),
        "open311_bad": request("GET", "/open311/v2/services.xml") +
                       request("POST", "/open311/v2/requests.json", ["Content-Type: application/x-www-form-urlencoded"],
                               "service_code=0201&lat=22.63&long=114.47&api_key=" + KEY_REVOKED),
        "generations": request("GET", "/v1/generations"),
        "draft_flow": request("POST", "/v1/draft", [P]) + request("GET", "/v1/draft", [P]) +
                      request("GET", "/v1/draft/validate?tolerance=1", [P]) + request("GET", "/v1/draft/diff", [P]),
        "draft_children": request("POST", "/v1/draft", [P]) +
                          request("PUT", "/v1/draft/children?level=grid&parent=440307006001", [P, "Content-Type: application/geo+json"],
                                  dumps(collection([
                                      feature({"code": "440307006001001"}, "Polygon",
                                              [[[114.44, 22.61], [114.45, 22.61], [114.45, 22.63], [114.44, 22.63], [114.44, 22.61]]]),
                                      feature({"code": "440307006001002"}, "Polygon",
                                              [[[114.45, 22.61], [114.46, 22.61], [114.46, 22.63], [114.45, 22.63], [114.45, 22.61]]])]))),
        "draft_split_merge": request("POST", "/v1/draft", [P]) +
                             request("POST", "/v1/draft/split?code=440307006002001", [P, J], dumps(collection([
                                 feature({}, "Polygon", [[[114.46, 22.62], [114.465, 22.62], [114.465, 22.63], [114.46, 22.63], [114.46, 22.62]]]),
                                 feature({}, "Polygon", [[[114.465, 22.62], [114.47, 22.62], [114.47, 22.63], [114.465, 22.63], [114.465, 22.62]]])]))) +
                             request("POST", "/v1/draft/merge", [P, J], '{"codes":["440307006002003","440307006002004"],"name":"merged"}'),
        "draft_publish_rollback": request("POST", "/v1/draft", [P]) + request("POST", "/v1/draft/publish?force=true", [P]) +
                                  request("POST", "/v1/generations/rollback", [P]) + request("DELETE", "/v1/draft", [P]),
        # division and merge are the slowest requests (a merge of the thematic layers takes most of
        # a second under the fuzz build's instrumentation): the seeds that run them through are
        # cheap ones, the others are refused after parsing; fuzz_body has full ones
        "divide": request("POST", "/v1/divide", [P, J], '{"community":"440307006001","grids":2,"dry_run":true}'),
        "divide_band": request("POST", "/v1/divide", [P, J], '{"community":"440307006002","band":[800,1400],"best_effort":true}'),
        "merge_layers": request("POST", "/v1/merge", [P, J], '{"layers":["thematic_family_planning"],'
                                                             '"band":[800,1400],"dry_run":true}'),
        "auth_errors": request("POST", "/v1/events", [J], "{}") + request("POST", "/v1/events", [V, J], "{}") +
                       request("GET", "/v1/workers", ["Authorization: Bearer nonsense"]),
        "bad_json": request("POST", "/v1/lookup", [J], '[[114.47,22.63],') + request("POST", "/v1/lookup", ["Content-Type: text/plain"], "[]"),
        "not_found_405": request("GET", "/nothing/here") + request("PATCH", "/v1/lookup") + request("DELETE", "/health"),
        "chunked_body": b"POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n5\r\n[[114\r\nd\r\n.445,22.625]]\r\n0\r\n\r\n",
        "http10": request("GET", "/health", version="HTTP/1.0"),
        "percent_escapes": request("GET", "/v1/lookup?lon=114%2E445&lat=22.625&%ff=1"),
    }
    for name, data in reqs.items():
        write(t, name + ".http", data)


def body():
    """Byte 0 picks the endpoint of fuzz_body.c's table (index), the rest is the body."""
    t = "body"
    seeds = {
        0: ("lookup", "[[114.445,22.625],{\"lon\":114.47,\"lat\":22.615},[114.46,22.62]]"),
        1: ("lookup_geojson", dumps(collection([feature({}, "Point", [114.455, 22.615])]))),
        2: ("positions", '[{"worker_id":"W440307006001003","lon":114.445,"lat":22.615,"at":"2026-10-01T08:00:00Z","accuracy_m":3.5}]'),
        3: ("positions_worker", '{"lon":114.446,"lat":22.626}'),
        4: ("worker_register", '{"id":"T002","name":"新人","phone":"13800000000","role":"officer","home_grid":null,'
                               '"on_duty":true}'),
        5: ("duty", '{"on_duty":false}'),
        6: ("duty_worker", '{"on_duty":true}'),
        7: ("event", '{"lon":114.47,"lat":22.63,"category":"0102","description":"积存垃圾","reporter":"李四",'
                     '"at":"2026-11-16T16:00:00+08:00","source":"hotline"}'),
        8: ("event_batch_worker", '[{"lon":114.45,"lat":22.62,"category":"0201","crs":"gcj02"}]'),
        9: ("register", '{"note":"ok","expect":"reported"}'),
        10: ("cancel", '{}'),
        11: ("dispatch", '{"assignee":"W440307006001002","at":"2026-11-17T09:00:00+08:00"}'),
        12: ("handle", '{"note":"done"}'),
        15: ("evaluate", '{"score":4}'),
        17: ("open311_json", '{"service_code":"0201","lat":22.6271,"long":114.4750,"description":"小广告",'
                             '"email":"a@example.cn","first_name":"小明","media_url":"https://img.example.cn/2.jpg"}'),
        18: ("open311_form", "service_code=0102&lat=22.615&long=114.455&description=%E5%9E%83%E5%9C%BE&phone=13900000000"),
        20: ("draft_children", dumps(collection([feature({"code": "440307006001001", "name": "一"}, "Polygon",
                                                         [[[114.44, 22.61], [114.46, 22.61], [114.46, 22.63], [114.44, 22.63], [114.44, 22.61]]])]))),
        22: ("draft_split", dumps(collection([
            feature({"name": "west"}, "Polygon", [[[114.46, 22.62], [114.465, 22.62], [114.465, 22.63], [114.46, 22.63], [114.46, 22.62]]]),
            feature({"name": "east"}, "Polygon", [[[114.465, 22.62], [114.47, 22.62], [114.47, 22.63], [114.465, 22.63], [114.465, 22.62]]])]))),
        23: ("draft_merge", '{"codes":["440307006002003","440307006002004"],"name":"合并"}'),
        24: ("divide", '{"community":"440307006001","grids":2,"dry_run":true}'),
        25: ("merge", '{"layers":["thematic_rental","thematic_family_planning"],"district":"440307006","band":[100,400],"dry_run":true}'),
    }
    for k, (name, text) in seeds.items():
        write(t, "%02d_%s.bin" % (k, name), bytes([k]) + text.encode("utf-8"))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    geojson()
    csv()
    mvt()
    calendar()
    http()
    body()


if __name__ == "__main__":
    main()
