#!/usr/bin/env bash
# Prepares the us-atlas counties in a store (as the us-atlas test does) and runs bench_lookup
# over the conterminous United States. usage: bench/run_lookup.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
[ -x "$build/bench/bench_lookup" ] || "$here/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
W="$build/tools/wangge"
work="$build/bench-data"
. "$here/bench/lib.sh"
usatlas_store "$W" "$work"
"$build/bench/bench_lookup" "$S" --bbox -125,24,-66,50 "$@"
