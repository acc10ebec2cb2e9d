#!/usr/bin/env bash
# libFuzzer runs of wangge's fuzz targets (tests/fuzz; docs/fuzzing.md).
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60: the CI run; e.g. 1800 for a release check)
#   TARGET   geojson csv mvt calendar http body (default: all)
# Configures $WANGGE_FUZZ_BUILD (default build-fuzz) with clang and -DWANGGE_FUZZ=ON, builds the
# targets, and runs each for SECONDS on a scratch copy of its seed corpus (plus its crash
# regressions), two at a time (WANGGE_FUZZ_JOBS); the committed corpus is never written.
# Prints per target the executions, executions per second, coverage (libFuzzer's cov: edges
# and ft: features) and the new corpus units found, and exits 1 if any target crashed,
# leaked or hung, naming the file that reproduces it (kept under BUILD/fuzz-artifacts/).
# Installs clang from Debian if it is missing (as root, like scripts/setup.sh); the other
# build dependencies are scripts/setup.sh's.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
all=(geojson csv mvt calendar http body)
secs=60
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
  secs=$1
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: no target '$t' (targets: ${all[*]})" >&2; exit 1; }
done
build=${WANGGE_FUZZ_BUILD:-$here/build-fuzz}
jobs=${WANGGE_FUZZ_JOBS:-2}

# ---- clang with libFuzzer (Debian: clang, and the compiler-rt libraries in libclang-rt-dev)
have_libfuzzer() {
  command -v clang >/dev/null 2>&1 && [ -e "$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ]
}
if ! have_libfuzzer; then
  pkgs=(clang libclang-rt-dev)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "fuzz: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      { echo "fuzz: cannot install ${missing[*]} (run as root)" >&2; exit 1; }
  fi
fi

# ---- configure and build
if ! grep -q '^WANGGE_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  CC=clang cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWANGGE_FUZZ=ON >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log" >&2; echo "fuzz: configure failed (dependencies: bash scripts/setup.sh)" >&2; exit 1; }
  rm -f "$build.configure.log"
fi
bins=()
for t in "${targets[@]}"; do bins+=("fuzz_$t"); done
cmake --build "$build" -j2 --target "${bins[@]}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -40 "$build/fuzz-build.log" >&2; echo "fuzz: build failed ($build/fuzz-build.log)" >&2; exit 1; }

# ---- run, two at a time
stamp=$(date +%Y%m%d-%H%M%S)
out=$build/fuzz-artifacts/$stamp
# the corpus copies and the targets' scratch stores: in memory where there is /dev/shm (the
# stores are written on every input; a disk's fsyncs would set the pace)
base=${TMPDIR:-/tmp}
[ -w /dev/shm ] && base=/dev/shm
scratch=$(mktemp -d "$base/wangge-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$out"
echo "fuzz: ${targets[*]}: $secs s each, $jobs at a time; logs and crashes in $out"

run_one() {
  local t=$1 dir=$scratch/$t
  mkdir -p "$dir/corpus" "$dir/tmp" "$out/$t"
  cp "$here/tests/fuzz/corpus/$t/"* "$dir/corpus/" 2>/dev/null
  cp "$here/tests/fuzz/regress/$t/"* "$dir/corpus/" 2>/dev/null
  local args=(-max_total_time="$secs" -timeout=25 -rss_limit_mb=4096 -print_final_stats=1
              -artifact_prefix="$out/$t/")
  [ -f "$here/tests/fuzz/$t.dict" ] && args+=(-dict="$here/tests/fuzz/$t.dict")
  case $t in
    # leak checks after every input that allocated more than it freed cost the HTTP targets
    # two thirds of their speed (the server's thread and caches make that most inputs); leaks
    # are still found at exit, and per input by the replay tests (ctest fuzz_replay_*)
    http | body) args+=(-max_len=8192 -detect_leaks=0) ;;
    geojson) args+=(-max_len=16384) ;;
  esac
  # the targets make their scratch stores under TMPDIR
  TMPDIR=$dir/tmp "$build/tests/fuzz/fuzz_$t" "${args[@]}" "$dir/corpus" >"$out/$t.log" 2>&1
  echo $? >"$out/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait

# ---- report
stat() { sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -1; }
failed=0
printf '%-9s %12s %9s %8s %8s %6s  %s\n' target executions exec/s cov ft new result
for t in "${targets[@]}"; do
  log=$out/$t.log
  rc=$(cat "$out/$t.rc" 2>/dev/null || echo 1)
  execs=$(stat "$log" number_of_executed_units)
  rate=$(stat "$log" average_exec_per_sec)
  new=$(stat "$log" new_units_added)
  last=$(grep -E '(#[0-9]+|DONE).*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" != 0 ]; then
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="FAILED (exit $rc): ${artifact:-see $log}"
  fi
  printf '%-9s %12s %9s %8s %8s %6s  %s\n' "$t" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "${new:--}" "$result"
done
if [ "$failed" != 0 ]; then
  echo "fuzz: a target failed; reproduce with $build/tests/fuzz/fuzz_TARGET FILE, then see docs/fuzzing.md" \
       "to turn the file into a regression (tests/fuzz/regress/TARGET/)" >&2
  exit 1
fi
