#!/usr/bin/env bash
# Installs wangge's build and test dependencies from Debian's archive (as root) and builds it.
# usage: scripts/setup.sh BUILD_DIR [extra cmake args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: setup.sh BUILD_DIR [cmake args]}
shift
pkgs=(build-essential cmake pkg-config libgeos-dev libproj-dev libspatialite-dev
      libsqlite3-mod-spatialite sqlite3 proj-bin libjson-c-dev libcsv-dev libcmocka-dev
      libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler libmetis-dev zlib1g-dev nettle-dev
      time chromium fonts-wqy-zenhei gdal-bin python3 jq curl bc)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cmake -S "$here" -B "$build" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
