#!/usr/bin/env bash
# Sets up, builds with AddressSanitizer + UBSan and warnings as errors, and runs every test.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build-asan"
"$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Debug -DWANGGE_SANITIZE=ON -DWANGGE_WERROR=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest --output-on-failure -j2 --timeout 1200
# ThreadSanitizer over the concurrent tests: the position index under concurrent updates, bulk
# lookups, parallel tile builds, and the server under every kind of request at once with
# publishes and rollbacks (http_concurrent).
cd "$here"
cmake -S "$here" -B "$here/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWANGGE_TSAN=ON -DWANGGE_WERROR=ON >/dev/null
cmake --build "$here/build-tsan" -j"$(nproc)" --target wangge-server wangge-cli test_workers test_lookup test_tiles >/dev/null
(cd "$here/build-tsan" && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --output-on-failure --timeout 1200 -R '^(test_workers|test_lookup|test_tiles|http_concurrent)$')
# The optimised build the main command uses must compile too (-O2 adds warnings of its own).
cd "$here"
cmake -S "$here" -B "$here/build-opt" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$here/build-opt" -j"$(nproc)" >/dev/null
echo "optimised build: ok"
