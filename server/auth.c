/* Callers and roles: API keys from the Authorization or X-API-Key header (wangge/auth.h). */
#include "server.h"
#include "wangge/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The key presented with the request, or NULL. */
static const char *presented_key(req *r)
{
    const char *a = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (a && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ') a++;
        return a;
    }
    return req_header(r, "X-API-Key");
}

/* Verified keys are remembered per thread for KEY_TTL_S, so a client that sends its key with
 * every request (a dispatcher console, a phone) costs one SQLite read and one SHA-256 a second
 * per thread instead of one per request. A revocation made with the CLI therefore takes effect
 * within KEY_TTL_S; unknown and revoked keys are never remembered, so a new key works at once.
 * The secret is compared in constant time, as wg_key_verify does. */
#define KEY_CACHE 8
#define KEY_TTL_S 1.0
typedef struct key_entry {
    char key[WG_KEY_LEN + 1]; /* "" = empty slot */
    caller who;
    double until;
} key_entry;
static _Thread_local key_entry key_cache[KEY_CACHE];
static _Thread_local unsigned key_next;

static int same_key(const char *a, const char *b)
{
    unsigned diff = 0;
    for (size_t i = 0; i < WG_KEY_LEN; i++) diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

const caller *req_caller(req *r)
{
    caller *c = &r->who;
    if (r->who_known) return c;
    r->who_known = 1;
    memset(c, 0, sizeof *c);
    const char *key = presented_key(r);
    if (!key) return c;
    int well_formed = strlen(key) == WG_KEY_LEN;
    double now = well_formed ? srv_now() : 0;
    if (well_formed)
        for (unsigned i = 0; i < KEY_CACHE; i++) {
            key_entry *e = &key_cache[i];
            if (e->key[0] && now < e->until && same_key(e->key, key)) {
                *c = e->who;
                return c;
            }
        }
    wg_key_info info;
    if (r->ctx && wg_key_verify(r->ctx, key, &info) == WG_OK) {
        c->role = (int)info.role;
        snprintf(c->key_id, sizeof c->key_id, "%s", info.key_id);
        snprintf(c->worker_id, sizeof c->worker_id, "%s", info.worker_id);
        key_entry *e = &key_cache[key_next++ % KEY_CACHE];
        memcpy(e->key, key, WG_KEY_LEN + 1);
        e->who = *c;
        e->until = now + KEY_TTL_S;
    } else {
        c->bad_key = 1;
    }
    return c;
}

int req_require(req *r, int roles, enum MHD_Result *res)
{
    const caller *c = req_caller(r);
    if (c->bad_key) {
        *res = reply_error(r, 401, "unauthorized", "the API key is not valid (unknown, malformed or revoked)");
        return 0;
    }
    if (roles == 0) { /* a public read */
        if (r->s->cfg.public_reads || c->role) return 1;
        *res = reply_error(r, 401, "unauthorized", "an API key is required (public reads are off)");
        return 0;
    }
    if (c->role & (roles | ROLE_ADMIN)) return 1;
    if (!c->role) {
        *res = reply_error(r, 401, "unauthorized", "an API key is required: send Authorization: Bearer KEY");
        return 0;
    }
    char need[96] = "";
    for (int bit = 1; bit < ROLE_ADMIN; bit <<= 1)
        if (roles & bit) {
            if (need[0]) strncat(need, " or ", sizeof need - strlen(need) - 1);
            strncat(need, wg_role_name((wg_role)bit), sizeof need - strlen(need) - 1);
        }
    *res = reply_error(r, 403, "forbidden", "this needs a %s key; yours is a %s key", need, wg_role_name((wg_role)c->role));
    return 0;
}

int req_sees_personal(req *r)
{
    return (req_caller(r)->role & (ROLE_DISPATCHER | ROLE_ADMIN)) != 0;
}
