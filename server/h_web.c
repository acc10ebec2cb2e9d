/* The map page: GET /map and /map/<file>, served from memory.
 *
 * The files of the web directory (the build's server/web/: index.html, map.js, map.css and
 * MapLibre GL JS from the npm registry) are read once at start. Text files are also kept
 * gzipped for clients that accept it. Every file has a strong ETag from its bytes; a
 * matching If-None-Match gets 304. A missing or incomplete directory is not fatal: the map
 * routes then answer 503 with a JSON error and the rest of the server works as usual. */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define WEB_MAX_FILES 64
#define WEB_MAX_FILE (32u << 20) /* no asset of the page is near this */

typedef struct web_file {
    char *name;
    const char *ctype;
    unsigned char *data, *gz; /* gz: gzip of data, or NULL when it does not pay */
    size_t len, gz_len;
    char etag[24], etag_gz[28];
} web_file;

struct web_assets {
    web_file files[WEB_MAX_FILES];
    size_t n;
    char why[256]; /* why the page is unavailable; empty when it is served */
};

static const struct {
    const char *ext, *ctype;
    int text;
} TYPES[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "application/javascript", 1},
    {".mjs", "application/javascript", 1},
    {".css", "text/css", 1},
    {".json", "application/json", 1},
    {".svg", "image/svg+xml", 1},
    {".png", "image/png", 0},
    {".ico", "image/x-icon", 0},
    {".txt", "text/plain; charset=utf-8", 1},
};

static int type_of(const char *name, int *text)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        size_t e = strlen(TYPES[i].ext);
        if (n > e && strcmp(name + n - e, TYPES[i].ext) == 0) {
            *text = TYPES[i].text;
            return (int)i;
        }
    }
    return -1;
}

/* A plain file name: letters, digits, '.', '-', '_', not starting with '.', no "..". */
static int plain_name(const char *s)
{
    if (!*s || *s == '.' || strstr(s, "..") || strlen(s) > 128) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static unsigned char *read_all(const char *path, size_t *len, char *why, size_t whyn)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whyn, "%.160s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > WEB_MAX_FILE) {
        snprintf(why, whyn, "%.160s: unreadable or larger than %u bytes", path, WEB_MAX_FILE);
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        snprintf(why, whyn, "%.160s: out of memory", path);
    } else if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(why, whyn, "%.160s: short read", path);
        free(buf);
        buf = NULL;
    } else {
        *len = (size_t)st.st_size;
    }
    fclose(f);
    return buf;
}

/* gzip (RFC 1952) of data; NULL if it fails or saves less than a tenth. */
static unsigned char *gzip_of(const unsigned char *data, size_t len, size_t *out_len)
{
    if (len < 1024) return NULL;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || *out_len > len - len / 10) {
        free(out);
        return NULL;
    }
    return out;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const web_file *)a)->name, ((const web_file *)b)->name);
}

static void load_dir(struct web_assets *w, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(w->why, sizeof w->why, "map page directory %s: %s", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) && !w->why[0]) {
        int text, t = type_of(e->d_name, &text);
        if (t < 0 || !plain_name(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (w->n == WEB_MAX_FILES) {
            snprintf(w->why, sizeof w->why, "map page directory %s: more than %d files", dir, WEB_MAX_FILES);
            break;
        }
        web_file *f = &w->files[w->n];
        f->data = read_all(path, &f->len, w->why, sizeof w->why);
        if (!f->data) break;
        if (!(f->name = strdup(e->d_name))) {
            free(f->data);
            snprintf(w->why, sizeof w->why, "out of memory");
            break;
        }
        f->ctype = TYPES[t].ctype;
        uint64_t h = fnv1a(f->data, f->len);
        snprintf(f->etag, sizeof f->etag, "\"%016llx\"", (unsigned long long)h);
        if (text && (f->gz = gzip_of(f->data, f->len, &f->gz_len)))
            snprintf(f->etag_gz, sizeof f->etag_gz, "\"%016llx-gz\"", (unsigned long long)h);
        w->n++;
    }
    closedir(d);
    if (w->why[0]) return;
    qsort(w->files, w->n, sizeof w->files[0], by_name);
    static const char *const NEEDED[] = {"index.html", "map.js", "map.css"};
    for (size_t i = 0; i < sizeof NEEDED / sizeof NEEDED[0]; i++) {
        web_file key = {.name = (char *)NEEDED[i]};
        if (!bsearch(&key, w->files, w->n, sizeof w->files[0], by_name)) {
            snprintf(w->why, sizeof w->why, "map page directory %s has no %s", dir, NEEDED[i]);
            return;
        }
    }
}

static void clear(struct web_assets *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->files[i].name);
        free(w->files[i].data);
        free(w->files[i].gz);
    }
    w->n = 0;
}

int web_init(server *s)
{
    struct web_assets *w = calloc(1, sizeof *w);
    if (!w) return WG_ENOMEM;
    s->web = w;
    if (!s->cfg.web_dir || !*s->cfg.web_dir)
        snprintf(w->why, sizeof w->why, "no map page directory configured");
    else
        load_dir(w, s->cfg.web_dir);
    if (w->why[0]) {
        clear(w);
        fprintf(stderr, "wangge-server: the map page is unavailable (%s); /map answers 503\n", w->why);
    }
    return WG_OK;
}

void web_free(server *s)
{
    if (!s->web) return;
    clear(s->web);
    free(s->web);
    s->web = NULL;
}

/* Whether an If-None-Match header (a list of entity tags, or "*") matches etag. Weak tags
 * compare by their opaque part (RFC 9110 13.1.2: weak comparison). */
static int etag_matches(const char *inm, const char *etag)
{
    if (!inm) return 0;
    size_t n = strlen(etag);
    const char *p = inm;
    while (*p) {
        p += strspn(p, " \t,");
        if (*p == '*') return 1;
        if (p[0] == 'W' && p[1] == '/') p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t')) return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

/* Whether Accept-Encoding allows gzip (present, and not with q=0). */
static int accepts_gzip(const char *ae)
{
    if (!ae) return 0;
    for (const char *p = ae; (p = strstr(p, "gzip")); p += 4) {
        if (p > ae && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t') continue;
        const char *q = p + 4;
        q += strspn(q, " \t");
        if (*q == ',' || *q == '\0') return 1;
        if (*q != ';') continue;
        const char *qv = strstr(q, "q=");
        const char *end = strchr(q, ',');
        if (!qv || (end && qv > end)) return 1;
        return strtod(qv + 2, NULL) > 0;
    }
    return 0;
}

enum MHD_Result h_web(req *r, const char *path)
{
    struct web_assets *w = r->s->web;
    const char *name;
    if (strcmp(path, "/map") == 0 || strcmp(path, "/map/") == 0)
        name = "index.html";
    else if (strncmp(path, "/map/", 5) == 0)
        name = path + 5;
    else
        return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
    /* a name that cannot be a file of the page is 404 whether the page is available or not */
    if (!plain_name(name)) return reply_error(r, 404, "not_found", "no such map file: %.200s", path);
    if (!w || w->why[0])
        return reply_error(r, 503, "map_unavailable", "the map page is not available: %s",
                           w ? w->why : "not loaded");
    web_file key = {.name = (char *)name};
    const web_file *f = bsearch(&key, w->files, w->n, sizeof w->files[0], by_name);
    if (!f) return reply_error(r, 404, "not_found", "no such map file: %.200s", path);

    int gz = f->gz && accepts_gzip(req_header(r, "Accept-Encoding"));
    const char *etag = gz ? f->etag_gz : f->etag;
    const char *h[] = {"ETag", etag,
                       "Cache-Control", "no-cache",
                       "Vary", "Accept-Encoding",
                       "X-Content-Type-Options", "nosniff",
                       gz ? "Content-Encoding" : NULL, "gzip",
                       NULL};
    if (etag_matches(req_header(r, "If-None-Match"), etag)) {
        h[8] = NULL; /* a 304 has no body to describe */
        return reply(r, 304, NULL, "", 0, MHD_RESPMEM_PERSISTENT, h);
    }
    return reply(r, 200, f->ctype, gz ? f->gz : f->data, gz ? f->gz_len : f->len, MHD_RESPMEM_PERSISTENT, h);
}
