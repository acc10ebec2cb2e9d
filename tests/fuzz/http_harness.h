/* The in-process wangge-server of the HTTP fuzz targets (fuzz_http.c, fuzz_body.c).
 *
 * At start a store is made in the scratch directory from tests/data/mini (with the categories
 * and reference layers of geodata/, and tests/fuzz/data/workers.csv and calendar.ini), the
 * keys below are stored in it, and the server's own code (wangge-server-core: routing,
 * handlers, state) runs an MHD daemon with no listening socket. Each exchange hands one end of
 * a socketpair to the daemon (MHD_add_connection), writes the raw request bytes to the other,
 * shuts down writing and reads the answer to EOF. Every answer is checked:
 *   - it is HTTP; no 500 (bad input must get a 4xx, not an internal error);
 *   - a JSON body (a json content type, not compressed) is one JSON value in valid UTF-8, and
 *     a 4xx/5xx JSON body is {"error":{"code","message"}} (Open311: [{"code","description"}]).
 * Requests change the store (events, positions, drafts, publishes); to keep runs repeatable,
 * the store and the server are put back to their first state every FZH_RESET_EVERY exchanges
 * (environment WANGGE_FUZZ_RESET_EVERY; 0 = never). With WANGGE_FUZZ_VERBOSE set, every
 * answer's status line and the start of its body are printed (to see what a seed reaches). */
#ifndef WANGGE_FUZZ_HTTP_HARNESS_H
#define WANGGE_FUZZ_HTTP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* API keys in the store: "wg_" + key id (12 hex) + "_" + secret (32 hex). */
#define FZH_KEY_ADMIN "wg_0000000000a1_a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define FZH_KEY_DISPATCHER "wg_0000000000d1_d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"
#define FZH_KEY_PLANNER "wg_0000000000b1_b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
#define FZH_KEY_VIEWER "wg_0000000000e1_e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
/* a worker key speaking for W440307006001001 */
#define FZH_KEY_WORKER "wg_0000000000f1_f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1"
/* a revoked admin key */
#define FZH_KEY_REVOKED "wg_0000000000c1_c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"

#define FZH_RESET_EVERY 500

/* Makes the store and starts the server (once; exits with a message on failure). */
void fzh_init(void);
/* One connection: sends the bytes, reads and checks every answer. Counts towards a reset. */
void fzh_exchange(const uint8_t *request, size_t n);

#endif
