#!/usr/bin/env python3
"""The HTTP bad-input matrix of wangge-server: expands tests/http/badinput.tsv (the hand-written
rows) with the systematic rows made here, and makes the request bodies.

  badinput_gen.py expand TSV OUTDIR NAME=VALUE...   writes OUTDIR/cases.tsv and OUTDIR/body/*
  badinput_gen.py stream SPEC                        a large body on standard output
  badinput_gen.py raw HOST PORT SPEC OUTFILE         sends a hand-made request on a socket and
                                                     prints the status ("000" if none came)

A row is: group, name, method, path (query included, already %-encoded), content type ("-":
none), key (none, forged, revoked, malformed, huge (20,000 bytes), viewer, worker, dispatcher,
planner, admin;
"bearer:ROLE" sends it as Authorization: Bearer), body, expected status, expected error code.
Bodies: "-" none; "@empty" zero bytes; "@esc:TEXT" TEXT with \\xHH, \\n, \\t, \\r and \\\\ escapes;
"@fc:GEOMETRY" a FeatureCollection of one feature with that geometry; "@bowtie";
"@vertices:N" a valid circle of N vertices, "@multi:P:N" a MultiPolygon of P such circles;
"@nested:N" N nested arrays, "@nestedobj:N" N nested objects; "@big:BYTES" a JSON array of
about BYTES bytes; "@points:N", "@events:N", "@fixes:N" batches; "@bytes:FILE" a file beside
this script; "@stream:SPEC" made at run time and sent chunked (see stream); "@raw:SPEC" a
hand-made request (see raw); anything else is sent as it is. {NAME} in a path or body is
replaced by the value given on the command line (codes and ids of the store under test).

Expected codes: an error code of {"error":{"code":...,"message":...}}; "o311" an Open311 error
array [{"code":STATUS,"description":...}]; "=empty" a 2xx answer that lists nothing (count 0
or []); "=rejected:REASON" a 2xx per-item answer of POST /v1/positions whose every item is
rejected for REASON; "closed" no answer at all (the connection closed); "mhd" an answer
libmicrohttpd makes itself, before any handler runs, to broken HTTP (its short HTML page: it
has no way to give it a JSON body).
"""
import json
import math
import os
import socket
import sys
import urllib.parse

# ------------------------------------------------------------------ the systematic parts

# SQL-injection strings. Those marked raw go into a URL as they are (already %-escapes).
SQL = [
    ("or", "' OR 1=1 --", False),
    ("drop", '"; DROP TABLE grids; --', False),
    ("semi", "1; SELECT * FROM api_keys", False),
    ("union", "1' UNION SELECT hash FROM api_keys --", False),
    ("comment", "admin'/*", False),
    ("bool", "1 OR 1=1", False),
    ("pct27", "%27", True),
    ("pct2527", "%2527", True),
]

# Path traversal segments, spelled as they go into the URL (curl --path-as-is keeps them).
TRAVERSAL = [
    ("dotdot", "../../../../etc/passwd"),
    ("enc_slash", "..%2f..%2f..%2fetc%2fpasswd"),
    ("enc_all", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
    ("double_enc", "%252e%252e%252fetc%252fpasswd"),
    ("backslash", "..%5c..%5cetc%5cpasswd"),
    ("abs", "/etc/passwd"),
    ("dots_only", "%2e%2e"),
    ("dots4", "....//....//etc/passwd"),
]


def q(value, raw=False):
    return value if raw else urllib.parse.quote(value, safe="")


def row(group, name, method, path, ctype, key, body, status, code):
    return [group, name, method, path, ctype, key, body, str(status), code]


# GET (and a few POST) query parameters: path, key, base query, {param: (status, code)}.
P400 = lambda c: (400, c)  # noqa: E731
EVENT_FILTERS = {
    "grid": P400("bad_parameter"), "community": P400("bad_parameter"),
    "status": P400("bad_parameter"), "category": P400("bad_parameter"),
    "assignee": (200, "=empty"),  # a worker id is free text: no such worker, nothing listed
    "from": P400("bad_time"), "to": P400("bad_time"), "at": P400("bad_time"),
    "bbox": P400("bad_bbox"), "overdue": P400("bad_parameter"), "outside": P400("bad_parameter"),
    "after": P400("bad_parameter"), "limit": P400("bad_parameter"),
}
O311_ARGS = {
    "service_request_id": (400, "o311"), "service_code": (400, "o311"),
    "start_date": (400, "o311"), "end_date": (400, "o311"), "status": (400, "o311"),
    "jurisdiction_id": (400, "o311"), "api_key": (403, "o311"),
}
QUERY_ENDPOINTS = [
    ("GET", "/v1/lookup", "none", "lon=114.47&lat=22.63",
     {"lon": P400("bad_coordinates"), "lat": P400("bad_coordinates"), "crs": P400("bad_crs"),
      "generation": P400("bad_generation")}),
    ("GET", "/v1/workers/nearest", "viewer", "lon=114.47&lat=22.63",
     {"lon": P400("bad_coordinates"), "lat": P400("bad_coordinates"), "k": P400("bad_k"),
      "on_duty": P400("bad_on_duty"), "seen_within_min": P400("bad_seen_within_min"),
      "role": P400("bad_role"), "crs": P400("bad_crs"),
      # grid and community filters are codes compared as text: no match, nobody listed
      "grid": (200, "=empty"), "community": (200, "=empty")}),
    ("GET", "/v1/workers/{WORKER}/track", "dispatcher", "",
     {"from": P400("bad_time"), "to": P400("bad_time"), "limit": P400("bad_limit")}),
    ("GET", "/v1/events", "viewer", "", EVENT_FILTERS),
    ("GET", "/v1/events/overdue", "viewer", "", EVENT_FILTERS),
    ("GET", "/v1/events/{EV_ARCHIVED}", "viewer", "", {"at": P400("bad_time")}),
    ("GET", "/v1/stats", "viewer", "by=grid",
     {"by": P400("bad_parameter"), "from": P400("bad_time"), "to": P400("bad_time"),
      "at": P400("bad_time")}),
    ("GET", "/v1/draft/validate", "planner", "", {"tolerance": P400("bad_tolerance")}),
    ("POST", "/v1/draft/publish", "planner", "",
     {"force": P400("bad_force"), "tolerance": P400("bad_tolerance")}),
    ("PUT", "/v1/draft/children", "planner", "level=grid&parent={COMMUNITY}",
     {"level": P400("bad_level"), "parent": (404, "not_found")}),
    ("POST", "/v1/draft/split", "planner", "code={GRID}", {"code": (404, "not_found")}),
    ("GET", "/tiles/grids/12/3345/1783.mvt", "none", "", {"generation": P400("bad_generation")}),
    ("GET", "/tiles/grids,labels.json", "none", "", {"generation": P400("bad_generation")}),
    ("GET", "/", "none", "", {"f": P400("bad_format")}),
    ("GET", "/conformance", "none", "", {"f": P400("bad_format")}),
    ("GET", "/api", "none", "", {"f": P400("bad_format")}),
    ("GET", "/collections", "none", "", {"f": P400("bad_format")}),
    ("GET", "/collections/grids", "none", "", {"f": P400("bad_format")}),
    ("GET", "/collections/grids/items/1", "none", "", {"f": P400("bad_format")}),
    ("GET", "/open311/v2/requests.json", "none", "", O311_ARGS),
    # one request: only jurisdiction_id and api_key are its parameters (the spec's)
    ("GET", "/open311/v2/requests/{EV_ARCHIVED}.json", "none", "",
     dict({k: (400, "unknown_parameter") for k in O311_ARGS},
          jurisdiction_id=(400, "o311"), api_key=(403, "o311"))),
]
for coll in ("districts", "communities", "grids", "addresses"):
    QUERY_ENDPOINTS.append(
        ("GET", "/collections/%s/items" % coll, "none", "",
         {"bbox": P400("bad_bbox"), "bbox-crs": P400("bad_bbox_crs"), "limit": P400("bad_limit"),
          "offset": P400("bad_offset"), "f": P400("bad_format")}))

# A valid replacement for the children of {COMMUNITY}: used where only one thing is wrong.
SQUARE = {"type": "Polygon", "coordinates": [[[114.40, 22.60], [114.41, 22.60], [114.41, 22.61],
                                              [114.40, 22.61], [114.40, 22.60]]]}


def fc(geometry, props=None):
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props if props is not None else {"name": "测试网格"},
         "geometry": geometry}]}, ensure_ascii=False)


# String members of JSON bodies: (name, method, path, key, ctype, body maker, status, code).
# A free-text member (a description, a name) may hold any text: such a body is paired with one
# fault the handler or the library finds in the same call (an unknown category, role, parent
# or a closed event), so the string travels the whole way and the answer is that fault's.
def json_body_cases(s):
    J = "application/json"
    ev = {"lon": 114.47, "lat": 22.63, "category": "0201"}
    bad_ev = dict(ev, category="0000")
    w = {"id": "MX-T1", "name": "测试员", "role": "grid_worker"}
    o311 = {"service_code": "0201", "lat": 22.63, "long": 114.47}
    d = json.dumps
    return [
        ("events.crs", "POST", "/v1/events", "dispatcher", J, d(dict(ev, crs=s)), 400, "bad_crs"),
        ("events.category", "POST", "/v1/events", "dispatcher", J, d(dict(ev, category=s)), 400, "bad_data"),
        ("events.at", "POST", "/v1/events", "dispatcher", J, d(dict(ev, at=s)), 400, "bad_time"),
        ("events.source", "POST", "/v1/events", "dispatcher", J, d(dict(ev, source=s)), 400, "bad_data"),
        ("events.photo_url", "POST", "/v1/events", "dispatcher", J, d(dict(ev, photo_url=s)), 400, "bad_data"),
        ("events.description", "POST", "/v1/events", "dispatcher", J,
         d([dict(ev, description=s), bad_ev]), 400, "bad_data"),
        ("events.reporter", "POST", "/v1/events", "dispatcher", J,
         d([dict(ev, reporter=s), bad_ev]), 400, "bad_data"),
        ("step.note", "POST", "/v1/events/{EV_ARCHIVED}/archive", "dispatcher", J, d({"note": s}), 409, "conflict"),
        ("step.expect", "POST", "/v1/events/{EV_ARCHIVED}/archive", "dispatcher", J, d({"expect": s}), 400, "bad_status"),
        ("step.at", "POST", "/v1/events/{EV_ARCHIVED}/archive", "dispatcher", J, d({"at": s}), 400, "bad_time"),
        ("step.score", "POST", "/v1/events/{EV_ARCHIVED}/evaluate", "dispatcher", J, d({"score": s}), 400, "bad_member"),
        ("step.assignee", "POST", "/v1/events/{EV_REGISTERED}/dispatch", "dispatcher", J,
         d({"assignee": s}), 400, "bad_data"),
        ("workers.role", "POST", "/v1/workers", "dispatcher", J, d(dict(w, role=s)), 400, "bad_request"),
        ("workers.phone", "POST", "/v1/workers", "dispatcher", J, d(dict(w, phone=s)), 400, "bad_request"),
        ("workers.id", "POST", "/v1/workers", "dispatcher", J, d(dict(w, id=s, role="bogus")), 400, "bad_request"),
        ("workers.name", "POST", "/v1/workers", "dispatcher", J, d(dict(w, name=s, role="bogus")), 400, "bad_request"),
        ("workers.home_grid", "POST", "/v1/workers", "dispatcher", J,
         d(dict(w, home_grid=s, role="bogus")), 400, "bad_request"),
        ("duty.on_duty", "POST", "/v1/workers/{WORKER}/duty", "dispatcher", J, d({"on_duty": s}), 400, "bad_body"),
        ("positions.worker_id", "POST", "/v1/positions", "dispatcher", J,
         '{"worker_id":%s,"lon":114.47,"lat":22.63,"at":{NOW}}' % d(s), 200, "=rejected:unknown_worker"),
        ("positions.at", "POST", "/v1/positions", "dispatcher", J,
         '{"worker_id":"{WORKER}","lon":114.47,"lat":22.63,"at":%s}' % d(s), 200, "=rejected:bad_time"),
        ("lookup.lon", "POST", "/v1/lookup", "none", J, d([{"lon": s, "lat": 22.63}]), 400, "bad_point"),
        ("lookup.type", "POST", "/v1/lookup", "none", J, d({"type": s, "features": []}), 400, "bad_body"),
        ("lookup.geomtype", "POST", "/v1/lookup", "none", J,
         d({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
             "type": s, "coordinates": [114.47, 22.63]}}]}), 400, "bad_point"),
        ("o311.service_code", "POST", "/open311/v2/requests.json", "none", J, d(dict(o311, service_code=s)), 400, "o311"),
        ("o311.lat", "POST", "/open311/v2/requests.json", "none", J, d(dict(o311, lat=s)), 400, "o311"),
        ("o311.jurisdiction_id", "POST", "/open311/v2/requests.json", "none", J,
         d(dict(o311, jurisdiction_id=s)), 400, "o311"),
        ("o311.api_key", "POST", "/open311/v2/requests.json", "none", J, d(dict(o311, api_key=s)), 403, "o311"),
    ] + [
        ("o311.%s" % f, "POST", "/open311/v2/requests.json", "none", J,
         d(dict(o311, service_code="0000", **{f: s})), 400, "o311")
        for f in ("description", "first_name", "last_name", "email", "phone", "media_url",
                  "address_string")
    ] + [
        ("o311form.description", "POST", "/open311/v2/requests.json", "none",
         "application/x-www-form-urlencoded",
         "service_code=0000&lat=22.63&long=114.47&description=" + q(s), 400, "o311"),
        ("o311form.service_code", "POST", "/open311/v2/requests.json", "none",
         "application/x-www-form-urlencoded", "lat=22.63&long=114.47&service_code=" + q(s), 400, "o311"),
        # a code is at most 32 characters (the library's check); a shorter one meets the
        # unknown parent
        ("children.code", "PUT", "/v1/draft/children?level=grid&parent=000000000000", "planner",
         "application/geo+json", fc(SQUARE, {"code": s, "name": "x"}),
         *((400, "bad_geojson") if len(s) > 32 else (404, "not_found"))),
        ("children.name", "PUT", "/v1/draft/children?level=grid&parent=000000000000", "planner",
         "application/geo+json", fc(SQUARE, {"name": s}), 404, "not_found"),
        ("merge_units.codes", "POST", "/v1/draft/merge", "planner", J, d({"codes": [s, "{GRID}"]}), 404, "not_found"),
        ("merge_units.name", "POST", "/v1/draft/merge", "planner", J,
         d({"codes": ["000000000000000", "{GRID}"], "name": s}), 404, "not_found"),
        ("divide.community", "POST", "/v1/divide", "planner", J, d({"community": s, "grids": 3}), 404, "not_found"),
        ("divide.district", "POST", "/v1/divide", "planner", J, d({"district": s, "grids": 3}), 404, "not_found"),
        ("divide.grids", "POST", "/v1/divide", "planner", J, d({"community": "{COMMUNITY}", "grids": s}), 400, "bad_grids"),
        ("divide.band", "POST", "/v1/divide", "planner", J, d({"community": "{COMMUNITY}", "band": [s, 5]}), 400, "bad_band"),
        ("divide.dry_run", "POST", "/v1/divide", "planner", J,
         d({"community": "{COMMUNITY}", "grids": 3, "dry_run": s}), 400, "bad_flag"),
        ("merge.layers", "POST", "/v1/merge", "planner", J, d({"layers": [s], "dry_run": True}), 404, "not_found"),
        ("merge.district", "POST", "/v1/merge", "planner", J,
         d({"layers": ["thematic_rental"], "district": s, "dry_run": True}), 404, "not_found"),
    ]


def sql_rows():
    rows = []
    for method, path, key, base, params in QUERY_ENDPOINTS:
        # the planner edits read a body: a valid one, so that only the parameter is wrong
        body, ctype = (fc(SQUARE), "application/geo+json") if method == "PUT" or "split" in path else ("-", "-")
        for p, (status, code) in params.items():
            for sname, s, raw in SQL:
                kept = [kv for kv in base.split("&") if kv and kv.split("=")[0] != p]
                query = "&".join(["%s=%s" % (q(p), q(s, raw))] + kept)
                rows.append(row("sql", "%s %s?%s=%s" % (method, path, p, sname), method,
                                "%s?%s" % (path, query), ctype, key, body, status, code))
    # path segments are parameters too (a quote or "/*" in them is %-encoded here)
    segments = [
        ("GET", "/v1/workers/{S}", "viewer", 404, "not_found"),
        ("POST", "/v1/workers/{S}/duty", "dispatcher", 404, "not_found"),
        ("GET", "/v1/events/{S}", "viewer", 404, "not_found"),
        ("POST", "/v1/events/{EV_ARCHIVED}/{S}", "dispatcher", 404, "unknown_action"),
        ("GET", "/collections/{S}/items", "none", 404, "not_found"),
        ("GET", "/collections/addresses/items/{S}", "none", 400, "bad_feature_id"),
        ("GET", "/tiles/{S}/0/0/0.mvt", "none", 400, "bad_layers"),
        ("GET", "/open311/v2/requests/{S}.json", "none", 404, "o311"),
        ("GET", "/map/{S}", "none", 404, "not_found"),
    ]
    for method, path, key, status, code in segments:
        for sname, s, raw in SQL:
            body, ctype = ('{"on_duty":true}', "application/json") if method == "POST" else ("-", "-")
            rows.append(row("sql", "%s %s S=%s" % (method, path, sname), method,
                            path.replace("{S}", q(s, raw)), ctype, key, body, status, code))
    for sname, s, _ in SQL:
        for name, method, path, key, ctype, body, status, code in json_body_cases(s):
            rows.append(row("sql", "%s body %s=%s" % (method, name, sname), method, path, ctype,
                            key, body, status, code))
    return rows


def traversal_rows():
    # where the traversal goes, the key that may use that path, and the answer: a path that
    # names nothing is 404; the tile address and the feature id are parameters with a syntax
    # of their own, answered 400 by their rule (bad_layers, bad_tile, bad_feature_id)
    places = [
        ("GET", "/tiles/{T}/0/0/0.mvt", "none", 400, "bad_layers"),
        ("GET", "/tiles/{T}.json", "none", 400, "bad_layers"),
        ("GET", "/tiles/grids/{T}/0/0.mvt", "none", 400, "bad_tile"),
        ("GET", "/collections/{T}", "none", 404, "not_found"),
        ("GET", "/collections/{T}/items", "none", 404, "not_found"),
        ("GET", "/collections/grids/items/{T}", "none", 400, "bad_feature_id"),
        ("GET", "/v1/events/{T}", "viewer", 404, "not_found"),
        ("POST", "/v1/events/{EV_ARCHIVED}/{T}", "dispatcher", 404, "unknown_action"),
        ("GET", "/v1/workers/{T}", "viewer", 404, "not_found"),
        ("DELETE", "/v1/workers/{T}", "dispatcher", 404, "not_found"),
        ("GET", "/v1/workers/{WORKER}/{T}", "dispatcher", 404, "not_found"),
        ("GET", "/open311/v2/requests/{T}.json", "none", 404, "o311"),
        ("GET", "/open311/v2/{T}", "none", 404, "o311"),
        ("GET", "/map/{T}", "none", 404, "not_found"),
        ("GET", "/v1/draft/{T}", "planner", 404, "not_found"),
        ("POST", "/v1/generations/{T}", "planner", 404, "not_found"),
        ("GET", "/v1/{T}", "none", 404, "not_found"),
        ("GET", "/{T}", "none", 404, "not_found"),
    ]
    rows = []
    for method, path, key, status, code in places:
        for tname, t in TRAVERSAL:
            p = path.replace("{T}", t)
            if p.startswith("//"):
                p = "/." + p[1:]  # "/" + "/etc/passwd": curl needs a path that is not "//host"
            body = "{}" if method == "POST" else "-"
            rows.append(row("traversal", "%s %s %s" % (method, path, tname), method, p,
                            "application/json" if method == "POST" else "-", key, body, status,
                            code))
    return rows


def auth_rows():
    J = "application/json"
    ev = '{"lon":114.47,"lat":22.63,"category":"0201"}'
    # (method, path, body, ctype, the roles that may, the roles to refuse with 403)
    ends = [
        ("POST", "/v1/workers", '{"id":"MX-A1","name":"越权","role":"grid_worker"}', J,
         ["viewer", "worker", "planner"]),
        ("DELETE", "/v1/workers/{WORKER}", "-", "-", ["viewer", "worker", "planner"]),
        ("POST", "/v1/workers/{WORKER}/duty", '{"on_duty":false}', J, ["viewer", "planner", "worker"]),
        ("POST", "/v1/positions", '{"worker_id":"{WORKER}","lon":114.47,"lat":22.63,"at":{NOW}}', J,
         ["viewer", "planner", "worker"]),
        ("POST", "/v1/events", ev, J, ["viewer", "planner"]),
        ("POST", "/v1/events/{EV_REGISTERED}/dispatch", '{"assignee":"{WORKER}"}', J,
         ["viewer", "worker", "planner"]),
        ("POST", "/v1/events/{EV_REGISTERED}/cancel", "{}", J, ["viewer", "worker", "planner"]),
        ("POST", "/v1/events/{EV_DISPATCHED}/handle", "{}", J, ["viewer", "planner", "worker"]),
        ("POST", "/v1/draft", "-", "-", ["viewer", "worker", "dispatcher"]),
        ("DELETE", "/v1/draft", "-", "-", ["viewer", "worker", "dispatcher"]),
        ("PUT", "/v1/draft/children?level=grid&parent={COMMUNITY}", fc(SQUARE), "application/geo+json",
         ["viewer", "worker", "dispatcher"]),
        ("POST", "/v1/draft/split?code={GRID}", fc(SQUARE), "application/geo+json",
         ["viewer", "worker", "dispatcher"]),
        ("POST", "/v1/draft/merge", '{"codes":["{GRID}","{GRID2}"]}', J, ["viewer", "worker", "dispatcher"]),
        ("POST", "/v1/draft/publish?force=true", "-", "-", ["viewer", "worker", "dispatcher"]),
        ("GET", "/v1/draft/validate", "-", "-", ["viewer", "worker", "dispatcher"]),
        ("POST", "/v1/generations/rollback", "-", "-", ["viewer", "worker", "dispatcher"]),
        ("POST", "/v1/divide", '{"community":"{COMMUNITY}","grids":3}', J, ["viewer", "worker", "dispatcher"]),
        ("POST", "/v1/merge", '{"layers":["thematic_rental","thematic_family_planning"]}', J,
         ["viewer", "worker", "dispatcher"]),
        # reads that need a key
        ("GET", "/v1/workers", "-", "-", ["viewer", "worker", "planner"]),
        ("GET", "/v1/workers/nearest?lon=114.47&lat=22.63", "-", "-", ["planner"]),
        ("GET", "/v1/workers/{WORKER}", "-", "-", ["planner"]),
        ("GET", "/v1/workers/{WORKER}/track", "-", "-", ["viewer", "worker", "planner"]),
        ("GET", "/v1/events", "-", "-", []),
        ("GET", "/v1/stats", "-", "-", []),
    ]
    rows = []
    for method, path, body, ctype, refuse in ends:
        for k in ("none", "forged", "revoked", "malformed", "bearer:forged"):
            rows.append(row("auth", "%s %s key=%s" % (method, path, k), method, path, ctype, k, body,
                            401, "unauthorized"))
        for k in refuse:
            rows.append(row("auth", "%s %s key=%s" % (method, path, k), method, path, ctype, k, body,
                            403, "forbidden"))
    # Open311 filing is open to residents, but a key that is presented is checked
    form = "service_code=0201&lat=22.63&long=114.47&description=x"
    F = "application/x-www-form-urlencoded"
    for k in ("forged", "revoked", "malformed"):
        rows.append(row("auth", "POST open311 key=%s" % k, "POST", "/open311/v2/requests.json", F, k,
                        form, 401, "o311"))
    for k in ("forged", "revoked"):
        rows.append(row("auth", "POST open311 api_key=%s" % k, "POST", "/open311/v2/requests.json", F,
                        "none", form + "&api_key={KEY_%s}" % k.upper(), 403, "o311"))
        rows.append(row("auth", "GET open311 api_key=%s" % k, "GET",
                        "/open311/v2/requests.json?api_key={KEY_%s}" % k.upper(), "-", "none", "-",
                        403, "o311"))
    # public reads: a key that is presented must be valid
    for path in ("/v1/lookup?lon=114.47&lat=22.63", "/tiles/grids/12/3345/1783.mvt",
                 "/collections/grids/items?limit=1", "/v1/generations", "/v1/categories"):
        for k in ("forged", "revoked"):
            rows.append(row("auth", "GET %s key=%s" % (path, k), "GET", path, "-", k, "-", 401,
                            "unauthorized"))
    return rows


# Endpoints that read a body: name, method, path, key, a valid body, the answer to an empty
# body, the code of a malformed body.
BODY_ENDPOINTS = [
    ("lookup", "POST", "/v1/lookup", "none", "[[114.47,22.63]]", (400, "empty_body"), "bad_json"),
    ("events", "POST", "/v1/events", "dispatcher", '{"lon":114.47,"lat":22.63,"category":"0201"}',
     (400, "empty_body"), "bad_json"),
    # a step's body is optional: empty, it is the step itself, refused on a closed event
    ("step", "POST", "/v1/events/{EV_ARCHIVED}/archive", "dispatcher", '{"note":"x"}',
     (409, "conflict"), "bad_json"),
    ("workers", "POST", "/v1/workers", "dispatcher", '{"id":"MX-T1","name":"测试员"}',
     (400, "empty_body"), "bad_json"),
    ("duty", "POST", "/v1/workers/{WORKER}/duty", "dispatcher", '{"on_duty":false}',
     (400, "empty_body"), "bad_json"),
    ("positions", "POST", "/v1/positions", "dispatcher",
     '{"worker_id":"{WORKER}","lon":114.47,"lat":22.63,"at":{NOW}}', (400, "empty_body"), "bad_json"),
    # no fields at all: Open311 says what is missing
    ("open311", "POST", "/open311/v2/requests.json", "none",
     '{"service_code":"0201","lat":22.63,"long":114.47}', (400, "o311"), "bad_json"),
    ("children", "PUT", "/v1/draft/children?level=grid&parent={COMMUNITY}", "planner", fc(SQUARE),
     (400, "empty_body"), "bad_geojson"),
    ("split", "POST", "/v1/draft/split?code={GRID}", "planner", fc(SQUARE), (400, "empty_body"),
     "bad_geojson"),
    ("merge_units", "POST", "/v1/draft/merge", "planner", '{"codes":["{GRID}","{GRID2}"]}',
     (400, "empty_body"), "bad_json"),
    ("divide", "POST", "/v1/divide", "planner", '{"community":"{COMMUNITY}","grids":3}',
     (400, "empty_body"), "bad_json"),
    ("merge", "POST", "/v1/merge", "planner", '{"layers":["thematic_rental","thematic_family_planning"]}',
     (400, "empty_body"), "bad_json"),
]

MALFORMED = [
    ("truncated_obj", '{"lon":114.47,"lat":'),
    ("truncated_arr", "[[114.47,22.63],[114"),
    ("truncated_str", '{"a":"abc'),
    ("unquoted_key", "{lon:114.47}"),
    ("single_quotes", "{'lon':114.47}"),
    ("trailing_comma", '{"a":1,}'),
    ("comment", '/* c */{"a":1}'),
    ("trailing_data", '{"a":1} x'),
    ("two_values", "{} {}"),
    ("extra_brace", '{"a":1}}'),
    ("bare_word", "nul"),
    ("leading_zero", '{"a":01}'),
    ("whitespace", "@esc:  \\n\\t "),
    ("bom", "@esc:\\xef\\xbb\\xbf{}"),
    ("control_char", '@esc:{"a":"x\\x01y"}'),
    ("nul_byte", '@esc:{"a":"x\\x00y"}'),
]
UTF8 = [
    ("bad_cont", "\\xc3\\x28"),
    ("overlong", "\\xc0\\xaf"),
    ("lone_cont", "\\x80"),
    ("surrogate", "\\xed\\xa0\\x80"),
    ("above_max", "\\xf5\\x80\\x80\\x80"),
    ("cut_char", "\\xe4\\xbd"),
]


def body_rows():
    rows = []
    for name, method, path, key, valid, empty, mcode in BODY_ENDPOINTS:
        J = "application/geo+json" if mcode == "bad_geojson" else "application/json"
        for mname, m in MALFORMED:
            rows.append(row("malformed", "%s %s" % (name, mname), method, path, J, key, m, 400, mcode))
        rows.append(row("malformed", "%s empty" % name, method, path, J, key, "@empty", empty[0], empty[1]))
        # content types: a valid body under a type that is not JSON
        types = ["text/plain", "application/xml", "multipart/form-data; boundary=xyz", "text/json",
                 "application/jsonx", "application/json; charset=latin1", "application/json-seq"]
        if name != "open311":
            types.append("application/x-www-form-urlencoded")
        for t in types:
            # Open311 reads a form unless the type is JSON; a JSON type with another charset is
            # refused by the JSON reader (http.c), anything else by Open311 itself
            code = "o311" if name == "open311" and not t.startswith("application/json;") else "unsupported_media_type"
            rows.append(row("ctype", "%s %s" % (name, t), method, path, t, key, valid, 415, code))
        # JSON types with parameters and in other spellings are accepted: a malformed body
        # under them gets 400, not 415
        for t in ("application/json; charset=utf-8", 'application/json;charset="UTF-8"',
                  "APPLICATION/JSON", "application/geo+json", "application/vnd.geo+json"):
            rows.append(row("ctype", "%s accepts %s" % (name, t), method, path, t, key,
                            '{"a":', 400, mcode))
        # sizes
        rows.append(row("oversize", "%s 9MiB" % name, method, path, J, key, "@big:9437184", 413,
                        "body_too_large"))
        # nesting
        for n in (40, 100000):
            rows.append(row("nested", "%s arrays %d" % (name, n), method, path, J, key,
                            "@nested:%d" % n, 400, mcode))
        rows.append(row("nested", "%s objects 10000" % name, method, path, J, key,
                        "@nestedobj:10000", 400, mcode))
        # invalid UTF-8 inside a string of an otherwise fitting body
        for uname, u in UTF8:
            rows.append(row("utf8", "%s body %s" % (name, uname), method, path, J, key,
                            '@esc:{"type":"FeatureCollection","name":"a%sb","features":[]}' % u,
                            400, mcode))
    return rows


def expand(tsv, outdir, values):
    rows = []
    with open(tsv, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 9:
                sys.exit("%s:%d: %d columns, expected 9" % (tsv, n, len(cols)))
            rows.append(cols)
    rows += sql_rows() + traversal_rows() + auth_rows() + body_rows()
    rows.append(row("conn", "URI over 16 KiB (libmicrohttpd answers)", "GET",
                    "/v1/lookup?lon=114.47&lat=22.63&x=" + "a" * 20000, "-", "none", "-", 414, "mhd"))
    os.makedirs(os.path.join(outdir, "body"), exist_ok=True)
    cache = {}

    def subst(text):
        for k, v in values.items():
            text = text.replace("{%s}" % k, v)
        return text

    with open(os.path.join(outdir, "cases.tsv"), "w", encoding="utf-8") as out:
        for i, r in enumerate(rows):
            r = [subst(c) for c in r]
            body = r[6]
            if body != "-" and not body.startswith("@stream:") and not body.startswith("@raw:"):
                data = make_body(body)
                key = data if len(data) < 4096 else body
                if key not in cache:
                    cache[key] = os.path.join(outdir, "body", "%d.bin" % i)
                    with open(cache[key], "wb") as f:
                        f.write(data)
                r[6] = cache[key]
            out.write("\t".join(r) + "\n")
    print(len(rows))


# ------------------------------------------------------------------ bodies

def unescape(text):
    out, i = bytearray(), 0
    b = text.encode("utf-8")
    while i < len(b):
        if b[i:i + 1] == b"\\" and i + 1 < len(b):
            c = chr(b[i + 1])
            if c == "x":
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\"}.get(c, b"\\" + c.encode())
            i += 2
            continue
        out.append(b[i])
        i += 1
    return bytes(out)


def circle(n, cx=114.45, cy=22.63, r=0.01):
    # n vertices, the last repeating the first: n - 1 distinct points
    pts = [[round(cx + r * math.cos(2 * math.pi * k / (n - 1)), 9),
            round(cy + r * math.sin(2 * math.pi * k / (n - 1)), 9)] for k in range(n - 1)]
    return pts + [pts[0]]


def make_body(spec):
    if not spec.startswith("@"):
        return spec.encode("utf-8")
    kind, _, arg = spec[1:].partition(":")
    if kind == "empty":
        return b""
    if kind == "esc":
        return unescape(arg)
    if kind == "fc":
        return fc(json.loads(arg)).encode("utf-8")
    if kind == "bowtie":
        return fc({"type": "Polygon", "coordinates": [[[114.40, 22.60], [114.41, 22.61], [114.41, 22.60],
                                                       [114.40, 22.61], [114.40, 22.60]]]}).encode()
    if kind == "vertices":
        return fc({"type": "Polygon", "coordinates": [circle(int(arg))]}).encode()
    if kind == "multi":
        p, n = (int(x) for x in arg.split(":"))
        return fc({"type": "MultiPolygon", "coordinates": [
            [circle(n, 114.40 + 0.03 * i)] for i in range(p)]}).encode()
    if kind == "nested":
        n = int(arg)
        return b"[" * n + b"]" * n
    if kind == "nestedobj":
        n = int(arg)
        return b'{"a":' * n + b"1" + b"}" * n
    if kind == "big":
        n = int(arg)
        return b"[" + b"0," * (n // 2) + b"0]"
    if kind == "points":
        return json.dumps([[114.47, 22.63]] * int(arg)).encode()
    if kind == "events":
        return json.dumps([{"lon": 114.47, "lat": 22.63, "category": "0201"}] * int(arg)).encode()
    if kind == "fixes":
        return json.dumps([{"worker_id": "nobody", "lon": 114.47, "lat": 22.63, "at": 0}] * int(arg)).encode()
    if kind == "bytes":
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), arg), "rb") as f:
            return f.read()
    sys.exit("unknown body %s" % spec)


def stream(spec):
    """Large bodies, written as they are made: vertices:N is one polygon of N distinct
    vertices (about 25 bytes each)."""
    kind, _, arg = spec.partition(":")
    out = sys.stdout.buffer
    if kind == "vertices":
        n = int(arg)
        out.write(b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                  b'"geometry":{"type":"Polygon","coordinates":[[')
        step = 2 * math.pi / (n - 1)
        chunk = []
        for k in range(n - 1):
            a = k * step
            chunk.append("[%.7f,%.7f]," % (114.45 + 0.01 * math.cos(a), 22.63 + 0.01 * math.sin(a)))
            if len(chunk) == 65536:
                out.write("".join(chunk).encode())
                chunk = []
        out.write("".join(chunk).encode())
        out.write(b"[%.7f,%.7f]]]}}]}" % (114.46, 22.63))
        return
    if kind == "big":
        n = int(arg)
        out.write(b"[")
        for _ in range(n // 65536):
            out.write(b"0," * 32768)
        out.write(b"0]")
        return
    sys.exit("unknown stream %s" % spec)


# ------------------------------------------------------------------ hand-made requests

def raw(host, port, spec, outfile, key=""):
    """lying_length: a POST whose Content-Length promises more than is sent, then the write
    side is shut: the body never completes. bad_chunked, bad_length, garbage:
    broken HTTP framing (a chunk size that is no number, a Content-Length that is none, a TLS
    hello), answered by libmicrohttpd itself before any handler runs."""
    s = socket.create_connection((host, int(port)), timeout=20)
    body = b'{"lon":114.47,"lat":22.63,"category":"0201"}'
    auth = ("X-API-Key: %s\r\n" % key).encode() if key else b""
    if spec == "lying_length":
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth +
                  b"Content-Length: 100000\r\nConnection: close\r\n\r\n" + body)
        s.shutdown(socket.SHUT_WR)
    elif spec == "bad_chunked":
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth +
                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n")
    elif spec == "bad_length":
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth +
                  b"Content-Length: 12abc\r\nConnection: close\r\n\r\n" + body)
    elif spec == "garbage":
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not HTTP\r\n\r\n")

    else:
        sys.exit("unknown raw request %s" % spec)
    data = b""
    try:
        while True:
            part = s.recv(65536)
            if not part:
                break
            data += part
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    with open(outfile, "wb") as f:
        f.write(payload)
    parts = head.split(b" ")
    status = parts[1].decode() if head.startswith(b"HTTP/") and len(parts) > 1 else "000"
    print(status)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "expand":
        values = dict(a.split("=", 1) for a in sys.argv[4:])
        expand(sys.argv[2], sys.argv[3], values)
    elif len(sys.argv) == 3 and sys.argv[1] == "stream":
        stream(sys.argv[2])
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "raw":
        raw(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
