#!/bin/bash
# tools_bench.sh - throughput and peak memory of `kubesurvey stats` and
# `kubesurvey export` over a synthetic database written through the real
# store writer (tests/tools/gen_db.c).
#
#   benchmarks/tools_bench.sh [BUILD_DIR] [ENDPOINTS] [EXISTING_DB]
#   (defaults: build 1000000; EXISTING_DB skips generating the database)
#
# Needs GNU time (Debian package `time`). Prints one line per measurement:
# what, seconds, records/second, peak RSS in MiB (GNU time; includes the
# LMDB file pages the process has mapped, which grow with the database) and
# peak anonymous memory (RssAnon sampled every 50 ms from /proc: heap and
# stacks, what the tool itself allocates). Touches no network.
set -euo pipefail
build=${1:-build}
count=${2:-1000000}
reuse=${3:-}      # optional: an existing gen_db database of $count endpoints
ks=$build/tools/kubesurvey
gen=$build/tests/tools/gen_db
for f in "$ks" "$gen" /usr/bin/time; do
    [ -x "$f" ] || { echo "tools_bench: missing $f (build with the store; apt-get install time)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/bench.db
head -c 32 /dev/urandom > "$work/key"

# Peak RssAnon of pid, sampled every 50 ms with shell builtins (no forks
# in the loop, so the sampler hardly competes with the measured process).
sample_anon() {
    local pid=$1 peak=0 key value rest
    while [ -r "/proc/$pid/status" ]; do
        while read -r key value rest; do
            if [ "$key" = "RssAnon:" ]; then
                [ "$value" -gt "$peak" ] && peak=$value
                break
            fi
        done < "/proc/$pid/status" 2>/dev/null || break
        read -r -t 0.05 <> <(:) || true
    done
    echo "$peak"
}

measure() { # label, then the command
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > /dev/null &
    local timer=$! pid=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pid=$(pgrep -P "$timer" | head -1 || true)
        [ -n "$pid" ] && break
        sleep 0.001
    done
    local anon=0
    [ -n "$pid" ] && anon=$(sample_anon "$pid")
    wait "$timer"
    read -r secs user sys kib < "$work/time"
    awk -v l="$label" -v s="$secs" -v u="$user" -v y="$sys" -v k="$kib" -v a="$anon" \
        -v n="$count" 'BEGIN {
        cpu = u + y
        printf "%-26s %6.2f s (cpu %6.2f s) %9.0f rec/s (per cpu-s %9.0f)  RSS %6.1f MiB  anon %6.1f MiB\n",
               l, s, cpu, (s > 0 ? n / s : 0), (cpu > 0 ? n / cpu : 0), k / 1024, a / 1024 }'
}

echo "endpoints: $count   (machine: $(nproc) CPUs; $(date -u +%Y-%m-%d))"
if [ -n "$reuse" ]; then
    db=$reuse
else
    measure "gen_db (store writer)" "$gen" "$db" --synthetic "$count"
fi
echo "database: $(du -m "$db" | cut -f1) MiB"
"$ks" stats "$db" --json > /dev/null   # warm the page cache
measure "stats --json" "$ks" stats "$db" --json
measure "stats --json (again)" "$ks" stats "$db" --json
measure "export --format jsonl" "$ks" export "$db" --format jsonl -o /dev/null
measure "export --format csv" "$ks" export "$db" --format csv -o /dev/null
measure "export jsonl --zstd" "$ks" export "$db" --format jsonl --zstd -o "$work/out.zst"
measure "export jsonl --anonymize" "$ks" export "$db" --format jsonl --anonymize "$work/key" -o /dev/null
