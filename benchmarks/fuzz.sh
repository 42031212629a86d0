#!/bin/bash
# fuzz.sh - every fuzz target of tests/fuzz for longer than ctest does, one
# after another, and a table of what each did (docs/reliability.md,
# "Fuzzing").
#   benchmarks/fuzz.sh [SECONDS_PER_TARGET [BUILD_DIR [TARGET...]]]
# BUILD_DIR (default build-fuzz) is a clang build configured with
#   CC=clang cmake -S . -B build-fuzz -DKS_FUZZ=ON -DKS_SANITIZE=ON
# and built here (--target fuzz). Each target starts from its seeds and kept
# regressions and grows its corpus in BUILD_DIR/fuzz-long/<target>/corpus
# (kept between runs: a second run goes on where the first stopped; remove
# the directory for a fresh start). Crashing inputs land in
# BUILD_DIR/fuzz-long/<target>/crashes. One fuzzer at a time, niced.
#
# Columns: seconds run, executions, executions per second, cov (code edges
# reached) and ft (features: edges with hit counts, comparisons) from
# libFuzzer's last status line, corpus files, and findings (crash, leak,
# timeout and out-of-memory inputs written).
set -eu
seconds=${1:-60}
build=${2:-build-fuzz}
shift 2 2>/dev/null || shift $# # the rest name targets
src=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$build/CMakeCache.txt" ] && grep -q '^KS_FUZZ:BOOL=ON' "$build/CMakeCache.txt" || {
    echo "fuzz.sh: $build is not a KS_FUZZ build; configure it with:" >&2
    echo "  CC=clang cmake -S . -B $build -DKS_FUZZ=ON -DKS_SANITIZE=ON" >&2
    exit 2
}
nice -n 10 cmake --build "$build" -j"$(nproc)" --target fuzz >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$build"/tests/fuzz/fuzz_*; do
        [ -x "$f" ] && targets+=("${f##*/fuzz_}")
    done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

printf '%-14s %7s %12s %9s %6s %7s %7s %9s\n' target seconds executions exec/s cov ft corpus findings
status=0
for t in "${targets[@]}"; do
    work=$build/fuzz-long/$t
    mkdir -p "$work/corpus" "$work/crashes"
    dirs=("$work/corpus" "$src/tests/fuzz/corpus/$t")
    [ -d "$src/tests/fuzz/regressions/$t" ] && dirs+=("$src/tests/fuzz/regressions/$t")
    start=$(date +%s)
    # -fork keeps fuzzing past a crash (each one is written, then counted).
    nice -n 15 "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -fork=1 -ignore_crashes=1 \
        -ignore_timeouts=1 -ignore_ooms=1 -artifact_prefix="$work/crashes/" "${dirs[@]}" \
        >"$work/log" 2>&1 || true
    took=$(( $(date +%s) - start ))
    # fork mode prints "#N: cov: C ft: F corp: ... exec/s: E ..." lines
    last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -1)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corpus=$(find "$work/corpus" -type f | wc -l)
    findings=$(find "$work/crashes" -type f | wc -l)
    rate=$(( took > 0 ? ${execs:-0} / took : 0 ))
    printf '%-14s %7s %12s %9s %6s %7s %7s %9s\n' "$t" "$took" "${execs:-?}" "$rate" \
        "${cov:-?}" "${ft:-?}" "$corpus" "$findings"
    [ "$findings" -eq 0 ] || status=1
done
[ $status -eq 0 ] || echo "fuzz.sh: findings in $build/fuzz-long/*/crashes (replay one: $build/tests/fuzz/fuzz_<target> FILE)"
exit $status
