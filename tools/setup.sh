#!/usr/bin/env bash
# setup.sh - install what kubesurvey needs to build and test on Debian 12,
# then build it. Idempotent: installs only missing packages. Run as root.
#   tools/setup.sh [BUILD_DIR [extra cmake args...]]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential cmake pkg-config
    libpcap-dev libnet1-dev libssl-dev liblmdb-dev libzstd-dev
    libjansson-dev libhttp-parser-dev libcmocka-dev libmimalloc-dev
    iproute2 nftables ethtool nginx-light openssl ca-certificates procps kmod lmdb-utils
    libcap2-bin util-linux etcd-server
    python3
)
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (it installs packages and creates network namespaces)" >&2; exit 1; }

missing=()
for p in "${packages[@]}" ${KS_EXTRA_PACKAGES:-}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx-light's package may start its service in this (the machine's)
# namespace; tests run their own instances inside test namespaces only (so
# does tests/probes/test_modules.sh with etcd-server's etcd). Stop the
# packaged nginx by its pid file, never every nginx: other runs' test
# servers must live.
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi

build=${1:-build}; shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "setup.sh: built $build/tools/kubesurvey"
