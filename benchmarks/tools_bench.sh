#!/bin/bash
# tools_bench.sh - throughput and peak memory of `kubesurvey stats` and
# `kubesurvey export` over a synthetic database written through the real
# store writer (tests/tools/gen_db.c).
#
#   benchmarks/tools_bench.sh [BUILD_DIR] [ENDPOINTS]   (defaults: build 1000000)
#
# Needs GNU time (Debian package `time`). Prints one line per measurement:
# what, seconds, records/second, peak RSS in MiB (GNU time; includes the
# LMDB file pages the process has mapped, which grow with the database) and
# peak anonymous memory (RssAnon sampled every 10 ms from /proc: heap and
# stacks, what the tool itself allocates). Touches no network.
set -euo pipefail
build=${1:-build}
count=${2:-1000000}
ks=$build/tools/kubesurvey
gen=$build/tests/tools/gen_db
for f in "$ks" "$gen" /usr/bin/time; do
    [ -x "$f" ] || { echo "tools_bench: missing $f (build with the store; apt-get install time)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/bench.db
head -c 32 /dev/urandom > "$work/key"

measure() { # label, then the command
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null &
    local timer=$! anon=0 kb pid
    sleep 0.005
    pid=$(pgrep -P "$timer" | head -1 || true)
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
        kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${kb:-0}" -gt "$anon" ] && anon=$kb
        sleep 0.01
    done
    wait "$timer"
    read -r secs kib < "$work/time"
    awk -v l="$label" -v s="$secs" -v k="$kib" -v a="$anon" -v n="$count" 'BEGIN {
        rate = s > 0 ? n / s : 0
        printf "%-28s %7.2f s %10.0f rec/s  RSS %6.1f MiB  anon %6.1f MiB\n", l, s, rate,
               k / 1024, a / 1024 }'
}

echo "endpoints: $count   (machine: $(nproc) CPUs; $(date -u +%Y-%m-%d))"
measure "gen_db (store writer)" "$gen" "$db" --synthetic "$count"
echo "database: $(du -m "$db" | cut -f1) MiB"
"$ks" stats "$db" --json > /dev/null   # warm the page cache
measure "stats --json" "$ks" stats "$db" --json
measure "stats --json (again)" "$ks" stats "$db" --json
measure "export --format jsonl" "$ks" export "$db" --format jsonl -o /dev/null
measure "export --format csv" "$ks" export "$db" --format csv -o /dev/null
measure "export jsonl --zstd" "$ks" export "$db" --format jsonl --zstd -o "$work/out.zst"
measure "export jsonl --anonymize" "$ks" export "$db" --format jsonl --anonymize "$work/key" -o /dev/null
