/* API keys (lib/src/auth.c): the key is shown once and verifies; only a SHA-256 digest of its
 * secret is stored; tampered, malformed, unknown and revoked keys are refused alike; worker
 * keys name a registered worker; role names round-trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "store_schema.h"
#include "testutil.h"
#include "wangge/auth.h"

static void test_roles(void **state)
{
    (void)state;
    const char *names[] = {"viewer", "worker", "dispatcher", "planner", "admin"};
    for (int i = 0; i < 5; i++) {
        wg_role r = wg_role_parse(names[i]);
        assert_int_equal(1 << i, r);
        assert_string_equal(names[i], wg_role_name(r));
    }
    assert_int_equal(WG_ROLE_NONE, wg_role_parse("root"));
    assert_int_equal(WG_ROLE_NONE, wg_role_parse(NULL));
    assert_null(wg_role_name((wg_role)3));
}

static void test_create_verify_revoke(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    char key[WG_KEY_LEN + 1], key2[WG_KEY_LEN + 1];
    wg_key_info info, got;
    assert_int_equal(WG_OK, wg_key_create(ctx, WG_ROLE_DISPATCHER, "desk 1", NULL, key, &info));
    assert_int_equal(WG_KEY_LEN, strlen(key));
    assert_memory_equal("wg_", key, 3);
    assert_int_equal(WG_OK, wg_key_create(ctx, WG_ROLE_VIEWER, NULL, NULL, key2, NULL));
    assert_string_not_equal(key, key2);

    /* stored: the id in clear, the secret only as its SHA-256 digest */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_keys WHERE key_id = '%.12s'", key + 3);
    assert_int_equal(1, tu_q_int(ctx, sql));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_keys WHERE instr(hash || key_id || coalesce(name, ''), '%.32s') > 0",
             key + 16);
    assert_int_equal(0, tu_q_int(ctx, sql));
    struct sha256_ctx h;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&h);
    sha256_update(&h, 32, (const uint8_t *)key + 16);
    sha256_digest(&h, sizeof d, d);
    char hexd[65];
    for (int i = 0; i < 32; i++) snprintf(hexd + 2 * i, 3, "%02x", d[i]);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_keys WHERE hash = '%s'", hexd);
    assert_int_equal(1, tu_q_int(ctx, sql));

    assert_int_equal(WG_OK, wg_key_verify(ctx, key, &got));
    assert_int_equal(WG_ROLE_DISPATCHER, got.role);
    assert_string_equal("desk 1", got.name);
    assert_string_equal(info.key_id, got.key_id);
    assert_int_equal(0, got.revoked_ms);

    /* one changed character anywhere in the secret or the id, a short key, garbage: refused */
    char bad[WG_KEY_LEN + 2];
    for (size_t i = 3; i < WG_KEY_LEN; i++) {
        if (i == 15) continue;
        memcpy(bad, key, WG_KEY_LEN + 1);
        bad[i] = bad[i] == 'a' ? 'b' : 'a';
        assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, bad, &got));
        assert_int_equal(WG_ROLE_NONE, got.role);
    }
    memcpy(bad, key, WG_KEY_LEN + 1);
    bad[WG_KEY_LEN - 1] = '\0';
    assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, bad, &got));
    assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, "", &got));
    assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, NULL, &got));
    assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, "wg_' OR 1=1 --_0123456789abcdef0123456789abcdef", &got));
    memcpy(bad, key, WG_KEY_LEN + 1);
    bad[5] = 'G'; /* not lower-case hex */
    assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, bad, &got));

    /* revoked: refused; revoking twice or an unknown id: not found */
    assert_int_equal(WG_OK, wg_key_revoke(ctx, info.key_id));
    assert_int_equal(WG_ENOTFOUND, wg_key_verify(ctx, key, &got));
    assert_int_equal(WG_ENOTFOUND, wg_key_revoke(ctx, info.key_id));
    assert_int_equal(WG_ENOTFOUND, wg_key_revoke(ctx, "000000000000"));
    assert_int_equal(WG_OK, wg_key_verify(ctx, key2, &got));
    assert_int_equal(WG_ROLE_VIEWER, got.role);

    wg_key_info *list;
    size_t n;
    assert_int_equal(WG_OK, wg_key_list(ctx, &list, &n));
    assert_int_equal(2, n);
    assert_int_equal(WG_ROLE_DISPATCHER, list[0].role);
    assert_true(list[0].revoked_ms >= list[0].created_ms && list[0].revoked_ms > 0);
    assert_int_equal(0, list[1].revoked_ms);
    free(list);
    tu_close_store(ctx, path);
}

static void test_worker_keys_and_bad_arguments(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    char key[WG_KEY_LEN + 1];
    wg_key_info got;
    assert_int_equal(WG_ENOTFOUND, wg_key_create(ctx, WG_ROLE_WORKER, NULL, "W1", key, NULL));
    assert_string_equal("", key);
    assert_int_equal(0, tu_q_int(ctx, "SELECT count(*) FROM api_keys"));
    assert_int_equal(WG_OK, wg_exec(ctx, "INSERT INTO workers(id, name, role) VALUES ('W1', 'n', 'grid_worker')"));
    assert_int_equal(WG_OK, wg_key_create(ctx, WG_ROLE_WORKER, "phone of W1", "W1", key, NULL));
    assert_int_equal(WG_OK, wg_key_verify(ctx, key, &got));
    assert_string_equal("W1", got.worker_id);
    assert_int_equal(WG_EINVAL, wg_key_create(ctx, (wg_role)3, NULL, NULL, key, NULL));
    assert_int_equal(WG_EINVAL, wg_key_create(ctx, WG_ROLE_NONE, NULL, NULL, key, NULL));
    assert_int_equal(WG_EINVAL, wg_key_create(ctx, WG_ROLE_VIEWER, NULL, "", key, NULL));
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(WG_EINVAL, wg_key_create(ctx, WG_ROLE_VIEWER, longname, NULL, key, NULL));
    assert_int_equal(1, tu_q_int(ctx, "SELECT count(*) FROM api_keys"));
    tu_close_store(ctx, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_create_verify_revoke),
        cmocka_unit_test(test_worker_keys_and_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
