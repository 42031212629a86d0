#!/bin/bash
# store_bench.sh - storage benchmarks (issue 4); results in docs/benchmarks.md.
#   benchmarks/store_bench.sh [BUILD_DIR] [RECORDS]
# Generates the certificate set once (cached in BUILD_DIR/store-bench/), then measures bytes per certificate,
# host records per second through the store writer with the file's bytes per endpoint, and the room on disk
# (page fill, file against pages in use, certificates against their raw DER) for a scan-like mix.
set -eu
build=${1:-build}
records=${2:-1000000}
bench=$build/benchmarks/store_bench
[ -x "$bench" ] || { echo "build first: cmake --build $build --target store_bench"; exit 2; }
[ -d /usr/share/ca-certificates/mozilla ] || { echo "install Debian package ca-certificates"; exit 2; }
work=$build/store-bench
mkdir -p "$work"
echo "== bytes per stored certificate"
"$bench" certs "$work"
echo "== host records per second"
"$bench" records "$work" "$records"
echo "== room on disk: certificates as a scan of Kubernetes ports meets them"
"$bench" scanmix "$work" 3000
echo "== the key layouts in bare LMDB"
"$bench" layout "$work" "$records"
rm -f "$work"/*.lmdb "$work"/*.lmdb-lock
