#!/usr/bin/env bash
# run-all.sh - install, build and run every test: once in a normal build and
# once under AddressSanitizer + UndefinedBehaviorSanitizer. Run as root: the
# network tests create their own namespaces (and remove them).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests also need: chromium (the HTML report is rendered headless) and
# GNU time (the resource checks).
export KS_EXTRA_PACKAGES="chromium time"
tools/setup.sh build
(cd build && ctest --output-on-failure --timeout 900)

tools/setup.sh build-asan -DKS_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --timeout 1800)
