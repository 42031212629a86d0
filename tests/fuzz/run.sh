#!/bin/sh
# run.sh FUZZER SECONDS WORKDIR SEEDS [REGRESSIONS] - one short libFuzzer run
# (ctest fuzz_<input>): the kept crashing inputs and the seeds first (any
# crash fails), then fuzzing for SECONDS. What it finds goes to WORKDIR
# (corpus/ and crashes/), never into the source tree.
set -eu
fuzzer=$1 seconds=$2 work=$3 seeds=$4 regressions=${5:-}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/crashes"
set -- "$work/corpus" "$seeds"
if [ -n "$regressions" ] && [ -d "$regressions" ]; then
    set -- "$@" "$regressions"
fi
# -error_exitcode: libFuzzer's default, 77, is ctest's "skipped" here.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/" "$@"
