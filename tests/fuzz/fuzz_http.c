/* Fuzz target: the HTTP server end to end, from raw bytes on a connection: libmicrohttpd's
 * parsing, then the server's own code (server/: URL routing, query strings, headers, API keys
 * and roles, request bodies, every handler) on the store of the mini city.
 *
 * The input is what a client writes on one connection: one or more HTTP/1.1 requests (the
 * seeds are real requests for every route: lookups with crs and generation, tiles and
 * TileJSON, OGC API Features with bbox/limit/offset, workers and nearest, events and their
 * steps, Open311, the planner's drafts, with the keys of http_harness.h). Every answer is
 * checked as http_harness.h says: HTTP, never a 500, JSON bodies valid with the error shape. */
#include "fuzz_util.h"
#include "http_harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fzh_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fzh_init();
    fzh_exchange(data, size);
    return 0;
}
