#!/usr/bin/env bash
# run-all.sh - install, build and run every test: once in a normal build,
# once under AddressSanitizer + UndefinedBehaviorSanitizer, and the tests
# that run threads without a namespace (label "threads") under
# ThreadSanitizer, and the fuzz targets (tests/fuzz) under libFuzzer in a
# clang ASan+UBSan build. Run as root: the network tests create their own
# namespaces (and remove them).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests also need: chromium (the HTML report is rendered headless), GNU
# time (the resource checks), slurm-wlm and munge (deploy_slurm runs a
# private Slurm), python3-kubernetes (deploy_kubernetes validates the
# manifests against its API models), and clang with its libFuzzer runtime
# (the fuzz pass), python3-pandas, python3-jsonschema, sqlite3 and zstd (a
# published package is loaded and recomputed the way researchers would),
# buildah and jq (deploy_image builds and reads the OCI image), man-db and
# libcap2-bin (deploy_deb: man -w, setcap).
export KS_EXTRA_PACKAGES="chromium time slurm-wlm munge python3-kubernetes clang libclang-rt-14-dev python3-pandas python3-jsonschema sqlite3 zstd buildah jq man-db libcap2-bin"
tools/setup.sh build
(cd build && ctest --output-on-failure --timeout 900)

tools/setup.sh build-asan -DKS_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --timeout 1800)

# ThreadSanitizer: only the targets of the tests labelled "threads" (the
# store writer with concurrent readers, the scan pipeline with its probe
# pool), so this pass stays short (about a minute on two cores).
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKS_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$(nproc)" --target test_storage test_scan_pipeline
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
(cd build-tsan && ctest --output-on-failure -L threads --timeout 600)

# Fuzzing (docs/reliability.md, "Fuzzing"): every fuzz target of tests/fuzz
# for KS_FUZZ_SECONDS (8) under libFuzzer, ASan and UBSan, after replaying
# its seeds and kept crashing inputs: about 3 minutes with the build.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKS_FUZZ=ON -DKS_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz
(cd build-fuzz && ctest --output-on-failure -L fuzz --timeout 300)
