#!/usr/bin/env bash
# prep.sh OUTDIR — prepare the us-atlas real-data test set.
#
# Installs us-atlas and topojson-client from the npm registry into this
# folder's node_modules (npm ci, exactly as pinned by package-lock.json) when
# node_modules is missing or older than package-lock.json, then runs
# `node prep.mjs OUTDIR`, which writes nation.geojson, states.geojson and
# counties.geojson to OUTDIR.
#
# Idempotent: does nothing when OUTDIR/counties.geojson (written last) is newer
# than package-lock.json and prep.mjs. Works from any working directory;
# OUTDIR is taken relative to the caller's working directory.
set -euo pipefail

die() {
  printf 'prep.sh: %s\n' "$*" >&2
  exit 1
}

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  die "usage: prep.sh OUTDIR"
fi

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
mkdir -p -- "$1" || die "cannot create output directory '$1'"
outdir=$(cd -- "$1" && pwd -P)

lock=$here/package-lock.json
script=$here/prep.mjs
[ -f "$lock" ] || die "$lock is missing"
[ -f "$script" ] || die "$script is missing"

up_to_date() {
  [ "$outdir/counties.geojson" -nt "$lock" ] && [ "$outdir/counties.geojson" -nt "$script" ] &&
    [ -f "$outdir/nation.geojson" ] && [ -f "$outdir/states.geojson" ]
}

if up_to_date; then
  echo "prep.sh: $outdir is up to date; skipping"
  exit 0
fi

command -v node >/dev/null 2>&1 || die "node is not installed (needed to convert us-atlas TopoJSON to GeoJSON; e.g. apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || die "npm is not installed (needed to install us-atlas and topojson-client; e.g. apt-get install npm)"

# Serialise concurrent runs (e.g. parallel test jobs) so that two `npm ci`
# never work on the same node_modules at once.
if command -v flock >/dev/null 2>&1; then
  lockfile=${TMPDIR:-/tmp}/wangge-usatlas-prep-$(printf '%s' "$here" | cksum | cut -d' ' -f1).lock
  exec 9>"$lockfile"
  flock 9
  # Another run may have finished the work while we waited.
  if up_to_date; then
    echo "prep.sh: $outdir is up to date; skipping"
    exit 0
  fi
fi

# npm writes node_modules/.package-lock.json on every install; it is the stamp
# that says when node_modules was last brought in line with the lockfile.
stamp=$here/node_modules/.package-lock.json
if [ ! -d "$here/node_modules" ] || [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  echo "prep.sh: installing pinned packages (npm ci) in $here"
  (cd -- "$here" && npm ci --no-audit --no-fund) ||
    die "npm ci failed in $here (is the npm registry reachable?)"
  touch -- "$stamp"
fi

node "$script" "$outdir" || die "node prep.mjs failed"
