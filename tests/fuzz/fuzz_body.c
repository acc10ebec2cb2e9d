/* Fuzz target: the JSON (and form) request bodies of the server's write endpoints, sent
 * through the same in-process server as fuzz_http (http_harness.h) so that libFuzzer mutates
 * the bodies themselves rather than the HTTP around them.
 *
 * Byte 0 picks the endpoint (and the key it is sent with); the rest of the input is the body,
 * sent with the endpoint's content type and a Content-Length. Endpoints that edit the draft
 * are preceded by POST /v1/draft, so that a draft exists to edit. Answers are checked as
 * http_harness.h says. */
#include "fuzz_util.h"
#include "http_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON "application/json"
#define GEOJSON "application/geo+json"
#define FORM "application/x-www-form-urlencoded"

static const struct endpoint {
    const char *method, *path, *ctype, *key;
    int draft; /* open a draft first */
} EP[] = {
    {"POST", "/v1/lookup", JSON, NULL, 0},
    {"POST", "/v1/lookup", GEOJSON, FZH_KEY_DISPATCHER, 0},
    {"POST", "/v1/positions", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/positions", JSON, FZH_KEY_WORKER, 0},
    {"POST", "/v1/workers", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/workers/W440307006001002/duty", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/workers/W440307006001001/duty", JSON, FZH_KEY_WORKER, 0},
    {"POST", "/v1/events", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/events", JSON, FZH_KEY_WORKER, 0},
    {"POST", "/v1/events/1/register", JSON, FZH_KEY_DISPATCHER, 0},
    {"POST", "/v1/events/2/cancel", JSON, FZH_KEY_DISPATCHER, 0},
    {"POST", "/v1/events/3/dispatch", JSON, FZH_KEY_DISPATCHER, 0},
    {"POST", "/v1/events/4/handle", JSON, FZH_KEY_WORKER, 0},
    {"POST", "/v1/events/5/verify", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/events/6/send_back", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/events/7/evaluate", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/v1/events/8/archive", JSON, FZH_KEY_ADMIN, 0},
    {"POST", "/open311/v2/requests.json", JSON, NULL, 0},
    {"POST", "/open311/v2/requests.json", FORM, NULL, 0},
    {"POST", "/open311/v2/requests.json", FORM, FZH_KEY_WORKER, 0},
    {"PUT", "/v1/draft/children?level=grid&parent=440307006001", GEOJSON, FZH_KEY_PLANNER, 1},
    {"PUT", "/v1/draft/children?level=community&parent=440307006", GEOJSON, FZH_KEY_PLANNER, 1},
    {"POST", "/v1/draft/split?code=440307006002001", GEOJSON, FZH_KEY_PLANNER, 1},
    {"POST", "/v1/draft/merge", JSON, FZH_KEY_PLANNER, 1},
    {"POST", "/v1/divide", JSON, FZH_KEY_PLANNER, 0},
    {"POST", "/v1/merge", JSON, FZH_KEY_ADMIN, 0},
};
#define NEP (sizeof EP / sizeof EP[0])

static void send_request(const char *method, const char *path, const char *ctype, const char *key,
                         const uint8_t *body, size_t n)
{
    char head[1024];
    int len = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: fuzz\r\n", method, path);
    if (key) len += snprintf(head + len, sizeof head - (size_t)len, "X-API-Key: %s\r\n", key);
    if (ctype)
        len += snprintf(head + len, sizeof head - (size_t)len, "Content-Type: %s\r\n", ctype);
    len += snprintf(head + len, sizeof head - (size_t)len,
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n", n);
    uint8_t *req = malloc((size_t)len + n);
    FZ_CHECK(req, "out of memory");
    memcpy(req, head, (size_t)len);
    if (n) memcpy(req + len, body, n);
    fzh_exchange(req, (size_t)len + n);
    free(req);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fzh_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fzh_init();
    if (size == 0) return 0;
    const struct endpoint *e = &EP[data[0] % NEP];
    if (e->draft) send_request("POST", "/v1/draft", NULL, FZH_KEY_PLANNER, NULL, 0);
    send_request(e->method, e->path, e->ctype, e->key, data + 1, size - 1);
    return 0;
}
