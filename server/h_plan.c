/* Planner endpoints (issue 5): generations, the draft and its edits, validation, diff,
 * publish, rollback, division and merge. Reads of the generation list are public; everything
 * else needs a planner (or admin) key. Edits write through the thread's writable context; a
 * publish or rollback tells every thread to look at the store at once (state_changed).
 *
 *   GET    /v1/generations                     list
 *   POST   /v1/generations/rollback            the previous generation active again
 *   GET    /v1/draft                           the draft's id and unit counts (404: none)
 *   POST   /v1/draft                           open a draft from the active generation
 *   DELETE /v1/draft                           discard it
 *   GET    /v1/draft/validate[?tolerance=m2]   validation report
 *   GET    /v1/draft/diff                      diff against the active generation
 *   POST   /v1/draft/publish[?force=true]      publish (422 with the report on faults)
 *   PUT    /v1/draft/children?level=&parent=   replace a parent's children (GeoJSON body)
 *   POST   /v1/draft/split?code=               split one unit (GeoJSON body)
 *   POST   /v1/draft/merge                     {"codes":[...],"name":...}
 *   POST   /v1/divide                          {"community"|"district","grids"|"band":[a,b],
 *                                               "dry_run","best_effort","geometry"}
 *   POST   /v1/merge                           {"layers":[...],"district","band","dry_run"}
 */
#include "server.h"
#include "wangge/divide.h"
#include "wangge/redraw.h"
#include "wangge/store.h"
#include "wangge/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const NO_ARGS[] = {NULL};

/* The writable context, or an error reply. */
static wg_ctx *writer(req *r, enum MHD_Result *res)
{
    wg_ctx *w = state_thread_wctx(r->s);
    if (!w) *res = reply_error(r, 503, "unavailable", "cannot open the store for writing");
    else wg_ctx_set_max_vertices(w, r->s->cfg.max_vertices); /* --max-vertices, GeoJSON edits */
    return w;
}

/* A library failure on the writable context w as an HTTP error. */
static enum MHD_Result fail_on(req *r, wg_ctx *w, int rc)
{
    wg_ctx *saved = r->ctx;
    r->ctx = w;
    enum MHD_Result res = reply_rc(r, rc);
    r->ctx = saved;
    return res;
}

static json_object *gen_json(const wg_generation *g)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(g->id));
    json_object_object_add(o, "status", json_object_new_string(wg_gen_status_name(g->status)));
    json_object_object_add(o, "created_at", json_object_new_string(g->created_at));
    json_object_object_add(o, "published_at", g->published_at[0] ? json_object_new_string(g->published_at) : NULL);
    json_object *u = json_object_new_object();
    for (int l = 1; l <= 3; l++) json_object_object_add(u, wg_level_name(l), json_object_new_int64(g->units[l]));
    json_object_object_add(o, "units", u);
    return o;
}

static enum MHD_Result generations(req *r)
{
    wg_generation *g;
    size_t n;
    int rc = wg_gen_list(r->ctx, &g, &n);
    if (rc != WG_OK) return reply_rc(r, rc);
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(a, gen_json(&g[i]));
    free(g);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "generations", a);
    return reply_json(r, 200, o);
}

static enum MHD_Result draft_get(req *r, wg_ctx *w)
{
    int64_t id;
    int rc = wg_gen_draft(w, 0, &id);
    if (rc == WG_ENOTFOUND) return reply_error(r, 404, "no_draft", "there is no draft generation");
    if (rc != WG_OK) return fail_on(r, w, rc);
    wg_generation *g;
    size_t n;
    rc = wg_gen_list(w, &g, &n);
    if (rc != WG_OK) return fail_on(r, w, rc);
    json_object *o = NULL;
    for (size_t i = 0; i < n; i++)
        if (g[i].id == id) o = gen_json(&g[i]);
    free(g);
    return o ? reply_json(r, 200, o) : reply_error(r, 404, "no_draft", "there is no draft generation");
}

/* The request body as a temporary file for the GeoJSON readers; "" on failure. */
static int body_file(req *r, char *path, size_t n)
{
    snprintf(path, n, "/tmp/wangge-edit-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    size_t done = 0;
    while (done < r->len) {
        ssize_t k = write(fd, r->body + done, r->len - done);
        if (k <= 0) break;
        done += (size_t)k;
    }
    close(fd);
    if (done != r->len) {
        unlink(path);
        return 0;
    }
    return 1;
}

typedef struct issues {
    json_object *list;
    int over_cap; /* a feature has more vertices than --max-vertices */
} issues;

static void on_issue(void *ud, const wg_import_issue *is)
{
    issues *i = ud;
    if (is->kind && strcmp(is->kind, "too_many_vertices") == 0) i->over_cap = 1;
    if (json_object_array_length(i->list) >= 100) return;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "feature", json_object_new_int64((int64_t)is->where));
    json_object_object_add(o, "kind", json_object_new_string(is->kind ? is->kind : ""));
    json_object_object_add(o, "reason", json_object_new_string(is->reason ? is->reason : ""));
    json_object_array_add(i->list, o);
}

/* Reads the GeoJSON body into units; replies 400 (with the rejected features) on failure. */
static int read_units(req *r, wg_ctx *w, wg_new_unit **units, size_t *n, enum MHD_Result *res)
{
    *units = NULL;
    *n = 0;
    if (!r->body || r->len == 0) {
        *res = reply_error(r, 400, "empty_body", "send a GeoJSON FeatureCollection of polygons");
        return 0;
    }
    if (!req_json_type(r, res) || !req_body_plain(r, res, "bad_geojson")) return 0;
    char path[64];
    if (!body_file(r, path, sizeof path)) {
        *res = reply_error(r, 503, "unavailable", "cannot buffer the request body");
        return 0;
    }
    issues is = {json_object_new_array(), 0};
    int rc = wg_new_units_read(w, path, 0, on_issue, &is, units, n);
    unlink(path);
    if (rc == WG_OK) {
        json_object_put(is.list);
        return 1;
    }
    if (rc != WG_EDATA) {
        json_object_put(is.list);
        *res = fail_on(r, w, rc);
        return 0;
    }
    /* a feature over the vertex cap is a size limit, like the body and batch caps: 413 */
    json_object *o = json_object_new_object(), *e = json_object_new_object();
    json_object_object_add(
        e, "code", json_object_new_string(is.over_cap ? "too_many_vertices" : "bad_geojson"));
    json_object_object_add(e, "message", json_object_new_string(wg_errmsg(w)));
    json_object_object_add(e, "features", is.list);
    json_object_object_add(o, "error", e);
    *res = reply_json(r, is.over_cap ? 413 : 400, o);
    return 0;
}

static enum MHD_Result codes_answer(req *r, char **codes, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(a, json_object_new_string(codes[i]));
    wg_codes_free(codes, n);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "codes", a);
    return reply_json(r, 200, o);
}

static enum MHD_Result replace_children(req *r, wg_ctx *w)
{
    static const char *const ARGS[] = {"level", "parent", NULL};
    enum MHD_Result res;
    if (!req_args_allowed(r, ARGS, &res)) return res;
    const char *sl = req_arg(r, "level"), *parent = req_arg(r, "parent");
    int level = sl ? wg_level_parse(sl) : WG_LEVEL_GRID;
    if (level != WG_LEVEL_GRID && level != WG_LEVEL_COMMUNITY)
        return reply_error(r, 400, "bad_level", "level must be community or grid");
    if (!parent || !*parent) return reply_error(r, 400, "missing_parameter", "parent (the code whose children are replaced) is required");
    wg_new_unit *units;
    size_t n;
    if (!read_units(r, w, &units, &n, &res)) return res;
    char **codes = NULL;
    int rc = wg_draft_replace_children(w, level, parent, units, n, &codes);
    wg_new_units_free(w, units, n);
    return rc == WG_OK ? codes_answer(r, codes, n) : fail_on(r, w, rc);
}

static enum MHD_Result split(req *r, wg_ctx *w)
{
    static const char *const ARGS[] = {"code", NULL};
    enum MHD_Result res;
    if (!req_args_allowed(r, ARGS, &res)) return res;
    const char *code = req_arg(r, "code");
    if (!code || !*code) return reply_error(r, 400, "missing_parameter", "code (the unit to split) is required");
    wg_new_unit *units;
    size_t n;
    if (!read_units(r, w, &units, &n, &res)) return res;
    char **codes = NULL;
    int rc = wg_draft_split(w, code, units, n, &codes);
    wg_new_units_free(w, units, n);
    return rc == WG_OK ? codes_answer(r, codes, n) : fail_on(r, w, rc);
}

/* The JSON object body, or an error reply. The caller puts the result. */
static json_object *body_object(req *r, enum MHD_Result *res)
{
    if (!r->body || r->len == 0) {
        *res = reply_error(r, 400, "empty_body", "send a JSON object");
        return NULL;
    }
    /* strict JSON, UTF-8, finite numbers; 415 for other types */
    json_object *o = req_body_json(r, res);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        *res = reply_error(r, 400, "bad_json", "the body must be one JSON object");
        return NULL;
    }
    return o;
}

static enum MHD_Result merge_units(req *r, wg_ctx *w)
{
    enum MHD_Result res;
    if (!req_args_allowed(r, NO_ARGS, &res)) return res;
    json_object *o = body_object(r, &res), *codes, *name;
    if (!o) return res;
    if (!json_object_object_get_ex(o, "codes", &codes) || !json_object_is_type(codes, json_type_array) ||
        json_object_array_length(codes) < 2 || json_object_array_length(codes) > 1000) {
        json_object_put(o);
        return reply_error(r, 400, "bad_codes", "codes must be an array of 2 to 1000 unit codes");
    }
    size_t n = json_object_array_length(codes);
    const char **c = calloc(n, sizeof *c);
    for (size_t i = 0; c && i < n; i++) {
        json_object *it = json_object_array_get_idx(codes, i);
        c[i] = json_object_is_type(it, json_type_string) ? json_object_get_string(it) : NULL;
        if (!c[i]) {
            free(c);
            json_object_put(o);
            return reply_error(r, 400, "bad_codes", "codes[%zu] is not a string", i);
        }
    }
    const char *nm = json_object_object_get_ex(o, "name", &name) && json_object_is_type(name, json_type_string)
                         ? json_object_get_string(name)
                         : NULL;
    char *kept = NULL;
    int rc = c ? wg_draft_merge(w, c, n, nm, &kept) : WG_ENOMEM;
    free(c);
    json_object_put(o);
    if (rc != WG_OK) return fail_on(r, w, rc);
    json_object *a = json_object_new_object();
    json_object_object_add(a, "code", json_object_new_string(kept));
    free(kept);
    return reply_json(r, 200, a);
}

static enum MHD_Result validate(req *r, wg_ctx *w)
{
    static const char *const ARGS[] = {"tolerance", NULL};
    enum MHD_Result res;
    if (!req_args_allowed(r, ARGS, &res)) return res;
    double tol = 1.0;
    const char *t = req_arg(r, "tolerance");
    if (t && (!parse_double(t, &tol) || tol < 0))
        return reply_error(r, 400, "bad_tolerance", "tolerance is square metres >= 0");
    int64_t id;
    int rc = wg_gen_draft(w, 0, &id);
    if (rc == WG_ENOTFOUND) return reply_error(r, 404, "no_draft", "there is no draft generation");
    wg_report *rep = NULL;
    if (rc == WG_OK) rc = wg_validate(w, id, tol, &rep);
    if (rc != WG_OK) return fail_on(r, w, rc);
    char *text = wg_report_json(rep);
    wg_report_free(rep);
    return reply_text_json(r, 200, NULL, text);
}

static enum MHD_Result diff(req *r, wg_ctx *w)
{
    enum MHD_Result res;
    if (!req_args_allowed(r, NO_ARGS, &res)) return res;
    wg_diff *d;
    int rc = wg_gen_diff(w, 0, 0, &d);
    if (rc != WG_OK) return fail_on(r, w, rc);
    char *text = wg_diff_json(d);
    wg_diff_free(d);
    return reply_text_json(r, 200, NULL, text);
}

static enum MHD_Result publish(req *r, wg_ctx *w)
{
    static const char *const ARGS[] = {"force", "tolerance", NULL};
    enum MHD_Result res;
    if (!req_args_allowed(r, ARGS, &res)) return res;
    const char *f = req_arg(r, "force"), *t = req_arg(r, "tolerance");
    double tol = 1.0;
    if (t && (!parse_double(t, &tol) || tol < 0))
        return reply_error(r, 400, "bad_tolerance", "tolerance is square metres >= 0");
    if (f && strcmp(f, "true") != 0 && strcmp(f, "false") != 0)
        return reply_error(r, 400, "bad_force", "force is true or false");
    int64_t gen = 0;
    wg_report *rep = NULL;
    int rc = wg_gen_publish(w, tol, f && strcmp(f, "true") == 0, &gen, &rep);
    if (rc == WG_OK) state_changed(r->s);
    if (rc != WG_OK && rc != WG_EFAULTS) {
        wg_report_free(rep);
        return fail_on(r, w, rc);
    }
    char *report = rep ? wg_report_json(rep) : NULL;
    wg_report_free(rep);
    json_object *o = json_object_new_object();
    if (rc == WG_OK) json_object_object_add(o, "published", json_object_new_int64(gen));
    else {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string("validation_faults"));
        json_object_object_add(e, "message", json_object_new_string(wg_errmsg(w)));
        json_object_object_add(o, "error", e);
    }
    json_object_object_add(o, "report", report ? json_tokener_parse(report) : NULL);
    free(report);
    return reply_json(r, rc == WG_OK ? 200 : 422, o);
}

/* "band":[min,max] */
static int band_of(json_object *o, int *lo, int *hi)
{
    json_object *b;
    if (!json_object_object_get_ex(o, "band", &b)) return 1;
    if (!json_object_is_type(b, json_type_array) || json_object_array_length(b) != 2) return 0;
    json_object *x = json_object_array_get_idx(b, 0), *y = json_object_array_get_idx(b, 1);
    if (!json_object_is_type(x, json_type_int) || !json_object_is_type(y, json_type_int)) return 0;
    int64_t a = json_object_get_int64(x), c = json_object_get_int64(y);
    if (a < 0 || c <= 0 || a > c || c > 1000000) return 0;
    *lo = (int)a;
    *hi = (int)c;
    return 1;
}

/* A true/false member: 1 or 0 (0 when absent or null), -1 when it is not a boolean (json-c
 * would read any non-empty string as true). */
static int flag_of(json_object *o, const char *name)
{
    json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !v) return 0;
    return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : -1;
}

static const char *string_of(json_object *o, const char *name)
{
    json_object *v;
    return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                               : NULL;
}

/* POST /v1/divide and /v1/merge */
static enum MHD_Result divide(req *r, wg_ctx *w, int merge)
{
    enum MHD_Result res;
    if (!req_args_allowed(r, NO_ARGS, &res)) return res;
    json_object *o = body_object(r, &res);
    if (!o) return res;
    wg_divide_opts opts = {0};
    const char *code = string_of(o, merge ? "district" : "community");
    if (!code && !merge) code = string_of(o, "district");
    json_object *g, *layers = NULL;
    const char *layer_names[16];
    if (json_object_object_get_ex(o, "grids", &g)) {
        if (!json_object_is_type(g, json_type_int) || json_object_get_int64(g) < 1 ||
            json_object_get_int64(g) > WG_DIVIDE_MAX_GRIDS) {
            json_object_put(o);
            return reply_error(r, 400, "bad_grids", "grids must be a whole number from 1 to %d", WG_DIVIDE_MAX_GRIDS);
        }
        opts.grids = (int)json_object_get_int64(g);
    }
    if (!band_of(o, &opts.band_min, &opts.band_max)) {
        json_object_put(o);
        return reply_error(r, 400, "bad_band", "band must be [min, max] households with 0 <= min <= max, max > 0");
    }
    if (merge) {
        if (!json_object_object_get_ex(o, "layers", &layers) || !json_object_is_type(layers, json_type_array) ||
            json_object_array_length(layers) < 1 || json_object_array_length(layers) > 16) {
            json_object_put(o);
            return reply_error(r, 400, "bad_layers", "layers must be an array of 1 to 16 thematic layer names");
        }
        opts.nlayers = json_object_array_length(layers);
        for (size_t i = 0; i < opts.nlayers; i++) {
            json_object *it = json_object_array_get_idx(layers, i);
            layer_names[i] = json_object_is_type(it, json_type_string) ? json_object_get_string(it) : NULL;
            if (!layer_names[i]) {
                json_object_put(o);
                return reply_error(r, 400, "bad_layers", "layers[%zu] is not a string", i);
            }
        }
        opts.layers = layer_names; /* no grids and no band: the library's merge default */
    } else if (!code) {
        json_object_put(o);
        return reply_error(r, 400, "missing_parameter", "community (or district) is required");
    } else if (!opts.grids && !opts.band_max) {
        json_object_put(o);
        return reply_error(r, 400, "missing_parameter", "grids or band is required");
    }
    int best = flag_of(o, "best_effort"), dry = flag_of(o, "dry_run");
    int geom = flag_of(o, "geometry");
    if (best < 0 || dry < 0 || geom < 0) {
        json_object_put(o);
        return reply_error(r, 400, "bad_flag",
                           "best_effort, dry_run and geometry are true or false");
    }
    opts.best_effort = best;
    opts.write = !dry;
    unsigned flags = geom ? WG_DIVIDE_JSON_GEOMETRY : 0;
    wg_division *d = NULL;
    int rc = wg_divide(w, code, &opts, &d);
    json_object_put(o);
    if (rc != WG_OK) return fail_on(r, w, rc);
    char *text = wg_division_json(w, d, flags);
    wg_division_free(w, d);
    return reply_text_json(r, 200, NULL, text);
}

static enum MHD_Result rollback(req *r, wg_ctx *w)
{
    enum MHD_Result res;
    if (!req_args_allowed(r, NO_ARGS, &res)) return res;
    int64_t id;
    int rc = wg_gen_rollback(w, &id);
    if (rc != WG_OK) return fail_on(r, w, rc);
    state_changed(r->s);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "active", json_object_new_int64(id));
    return reply_json(r, 200, o);
}

enum MHD_Result h_plan(req *r, const char *path)
{
    enum MHD_Result res;
    const char *m = r->method;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, post = strcmp(m, "POST") == 0;
    if (strcmp(path, "/v1/generations") == 0) {
        if (!get) return reply_error(r, 405, "method_not_allowed", "use GET on %s", path);
        if (!req_args_allowed(r, NO_ARGS, &res) || !req_require(r, 0, &res)) return res;
        return generations(r);
    }
    if (!req_require(r, ROLE_PLANNER, &res)) return res;
    wg_ctx *w = writer(r, &res);
    if (!w) return res;
    if (strcmp(path, "/v1/generations/rollback") == 0)
        return post ? rollback(r, w) : reply_error(r, 405, "method_not_allowed", "use POST on %s", path);
    if (strcmp(path, "/v1/divide") == 0 || strcmp(path, "/v1/merge") == 0)
        return post ? divide(r, w, path[4] == 'm') : reply_error(r, 405, "method_not_allowed", "use POST on %s", path);
    if (strcmp(path, "/v1/draft") == 0) {
        if (!req_args_allowed(r, NO_ARGS, &res)) return res;
        if (get) return draft_get(r, w);
        int64_t id;
        if (post) {
            int existed = wg_gen_draft(w, 0, &id) == WG_OK;
            int rc = existed ? WG_OK : wg_gen_draft(w, 1, &id);
            if (rc != WG_OK) return fail_on(r, w, rc);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "draft", json_object_new_int64(id));
            json_object_object_add(o, "created", json_object_new_boolean(!existed));
            return reply_json(r, existed ? 200 : 201, o);
        }
        if (strcmp(m, "DELETE") == 0) {
            int rc = wg_draft_discard(w, &id);
            if (rc == WG_ENOTFOUND) return reply_error(r, 404, "no_draft", "there is no draft generation");
            if (rc != WG_OK) return fail_on(r, w, rc);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "discarded", json_object_new_int64(id));
            return reply_json(r, 200, o);
        }
        return reply_error(r, 405, "method_not_allowed", "use GET, POST or DELETE on /v1/draft");
    }
    if (strcmp(path, "/v1/draft/validate") == 0)
        return get ? validate(r, w) : reply_error(r, 405, "method_not_allowed", "use GET on %s", path);
    if (strcmp(path, "/v1/draft/diff") == 0)
        return get ? diff(r, w) : reply_error(r, 405, "method_not_allowed", "use GET on %s", path);
    if (strcmp(path, "/v1/draft/publish") == 0)
        return post ? publish(r, w) : reply_error(r, 405, "method_not_allowed", "use POST on %s", path);
    if (strcmp(path, "/v1/draft/children") == 0)
        return strcmp(m, "PUT") == 0 ? replace_children(r, w) : reply_error(r, 405, "method_not_allowed", "use PUT on %s", path);
    if (strcmp(path, "/v1/draft/split") == 0)
        return post ? split(r, w) : reply_error(r, 405, "method_not_allowed", "use POST on %s", path);
    if (strcmp(path, "/v1/draft/merge") == 0)
        return post ? merge_units(r, w) : reply_error(r, 405, "method_not_allowed", "use POST on %s", path);
    return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
}
