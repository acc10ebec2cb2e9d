/* wangge — API keys and roles.
 *
 * A key is "wg_<key id>_<secret>": the key id (12 hex digits) is stored in clear to find the
 * row, the secret (32 hex digits, 128 bits from the kernel's random source) only as its
 * SHA-256 digest. The whole key is shown once, when it is created. Roles: viewer, worker,
 * dispatcher, planner, admin; a worker key may name the worker it speaks for. */
#ifndef WANGGE_AUTH_H
#define WANGGE_AUTH_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wg_role {
    WG_ROLE_NONE = 0,
    WG_ROLE_VIEWER = 1,
    WG_ROLE_WORKER = 2,
    WG_ROLE_DISPATCHER = 4,
    WG_ROLE_PLANNER = 8,
    WG_ROLE_ADMIN = 16,
} wg_role;

/* "viewer", ...; NULL for anything else. Static strings. */
WG_API const char *wg_role_name(wg_role r);
/* WG_ROLE_NONE when the name is unknown. */
WG_API wg_role wg_role_parse(const char *name);

enum { WG_KEY_LEN = 3 + 12 + 1 + 32 }; /* characters, without the terminator */

typedef struct wg_key_info {
    char key_id[16];
    wg_role role;
    char name[128];      /* "" if none */
    char worker_id[65];  /* "" if none */
    int64_t created_ms;
    int64_t revoked_ms;  /* 0 while valid */
} wg_key_info;

/* Creates a key; key (at least WG_KEY_LEN + 1 bytes) gets the whole key, shown only now.
 * info (may be NULL) gets what is stored. worker_id may be NULL; for a worker key it must
 * name a registered worker (WG_ENOTFOUND otherwise). WG_EINVAL: bad role or name. */
WG_API int wg_key_create(wg_ctx *ctx, wg_role role, const char *name, const char *worker_id,
                         char *key /* out */, wg_key_info *info /* out */);
/* Checks a presented key: WG_OK with *info for a valid key; WG_ENOTFOUND for a malformed,
 * unknown or revoked one (the same answer for all three, compared in constant time). */
WG_API int wg_key_verify(wg_ctx *ctx, const char *key, wg_key_info *info /* out */);
/* Revokes a key by id (WG_ENOTFOUND if there is none or it is already revoked). */
WG_API int wg_key_revoke(wg_ctx *ctx, const char *key_id);
/* All keys, oldest first; caller frees *out with free(). */
WG_API int wg_key_list(wg_ctx *ctx, wg_key_info **out, size_t *n /* out */);

#ifdef __cplusplus
}
#endif
#endif
