/* API keys and roles (see wangge/auth.h). */
#include "wangge/auth.h"
#include "internal.h"
#include "store_schema.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char *const ROLE_NAMES[] = {"viewer", "worker", "dispatcher", "planner", "admin"};

const char *wg_role_name(wg_role r)
{
    for (int i = 0; i < 5; i++)
        if (r == (wg_role)(1 << i)) return ROLE_NAMES[i];
    return NULL;
}

wg_role wg_role_parse(const char *name)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, ROLE_NAMES[i]) == 0) return (wg_role)(1 << i);
    return WG_ROLE_NONE;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char D[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = D[b[i] >> 4];
        out[2 * i + 1] = D[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest_hex(const char *secret, char out[2 * SHA256_DIGEST_SIZE + 1])
{
    struct sha256_ctx h;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&h);
    sha256_update(&h, strlen(secret), (const uint8_t *)secret);
    sha256_digest(&h, sizeof d, d);
    hex(d, sizeof d, out);
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[n] == '\0' || s[n] == '_';
}

static void read_info(sqlite3_stmt *st, wg_key_info *info)
{
    memset(info, 0, sizeof *info);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    snprintf(info->key_id, sizeof info->key_id, "%s", t ? t : "");
    info->role = wg_role_parse((const char *)sqlite3_column_text(st, 1));
    t = (const char *)sqlite3_column_text(st, 2);
    snprintf(info->name, sizeof info->name, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 3);
    snprintf(info->worker_id, sizeof info->worker_id, "%s", t ? t : "");
    info->created_ms = sqlite3_column_int64(st, 4);
    info->revoked_ms = sqlite3_column_int64(st, 5);
}

#define KEY_COLS "key_id, role, name, worker_id, created_ms, coalesce(revoked_ms, 0)"

int wg_key_create(wg_ctx *ctx, wg_role role, const char *name, const char *worker_id, char *key,
                  wg_key_info *info)
{
    key[0] = '\0';
    if (!wg_role_name(role)) return wg_fail(ctx, WG_EINVAL, "unknown role");
    if (name && strlen(name) >= sizeof info->name) return wg_fail(ctx, WG_EINVAL, "key name over 127 bytes");
    if (worker_id && (!*worker_id || strlen(worker_id) > 64))
        return wg_fail(ctx, WG_EINVAL, "worker id must be 1 to 64 bytes");
    sqlite3_stmt *st;
    int rc;
    if (worker_id) {
        rc = wg_prepare(ctx, "SELECT 1 FROM workers WHERE id = ?", &st);
        if (rc != WG_OK) return rc;
        sqlite3_bind_text(st, 1, worker_id, -1, SQLITE_TRANSIENT);
        int found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!found) return wg_fail(ctx, WG_ENOTFOUND, "no worker '%s'", worker_id);
    }
    uint8_t rnd[6 + 16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return wg_fail(ctx, WG_EIO, "no random bytes from the kernel");
    char id[13], secret[33], digest[2 * SHA256_DIGEST_SIZE + 1];
    hex(rnd, 6, id);
    hex(rnd + 6, 16, secret);
    digest_hex(secret, digest);
    rc = wg_prepare(ctx, "INSERT INTO api_keys(key_id, hash, role, name, worker_id, created_ms) VALUES (?,?,?,?,?,?)", &st);
    if (rc != WG_OK) return rc;
    int64_t now = now_ms();
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, digest, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, wg_role_name(role), -1, SQLITE_STATIC);
    if (name) sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
    if (worker_id) sqlite3_bind_text(st, 5, worker_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, now);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot store the key");
    sqlite3_finalize(st);
    if (rc != WG_OK) return rc;
    snprintf(key, WG_KEY_LEN + 1, "wg_%s_%s", id, secret);
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->key_id, sizeof info->key_id, "%s", id);
        info->role = role;
        snprintf(info->name, sizeof info->name, "%s", name ? name : "");
        snprintf(info->worker_id, sizeof info->worker_id, "%s", worker_id ? worker_id : "");
        info->created_ms = now;
    }
    return WG_OK;
}

int wg_key_verify(wg_ctx *ctx, const char *key, wg_key_info *info)
{
    memset(info, 0, sizeof *info);
    if (!key || strlen(key) != WG_KEY_LEN || strncmp(key, "wg_", 3) != 0 || key[15] != '_' ||
        !is_hex(key + 3, 12) || !is_hex(key + 16, 32))
        return wg_fail(ctx, WG_ENOTFOUND, "not a valid key");
    char id[13], digest[2 * SHA256_DIGEST_SIZE + 1];
    memcpy(id, key + 3, 12);
    id[12] = '\0';
    digest_hex(key + 16, digest);
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT " KEY_COLS ", hash FROM api_keys WHERE key_id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *stored = (const char *)sqlite3_column_text(st, 6);
        unsigned diff = !stored || strlen(stored) != strlen(digest);
        for (size_t i = 0; !diff && i < strlen(digest); i++) diff |= (unsigned)(stored[i] ^ digest[i]);
        read_info(st, info);
        if (diff || info->revoked_ms) {
            memset(info, 0, sizeof *info);
            rc = wg_fail(ctx, WG_ENOTFOUND, "not a valid key");
        }
    } else if (s == SQLITE_DONE) {
        rc = wg_fail(ctx, WG_ENOTFOUND, "not a valid key");
    } else {
        rc = wg_fail_sql(ctx, "cannot read keys");
    }
    sqlite3_finalize(st);
    return rc;
}

int wg_key_revoke(wg_ctx *ctx, const char *key_id)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "UPDATE api_keys SET revoked_ms = ? WHERE key_id = ? AND revoked_ms IS NULL", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, now_ms());
    sqlite3_bind_text(st, 2, key_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot revoke the key");
    else if (sqlite3_changes(ctx->db) == 0) rc = wg_fail(ctx, WG_ENOTFOUND, "no valid key with id '%s'", key_id);
    sqlite3_finalize(st);
    return rc;
}

int wg_key_list(wg_ctx *ctx, wg_key_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT " KEY_COLS " FROM api_keys ORDER BY id", &st);
    if (rc != WG_OK) return rc;
    size_t cap = 0;
    int s;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)out, &cap, *n + 1, sizeof **out) != WG_OK) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
        else read_info(st, &(*out)[(*n)++]);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read keys");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
