#!/usr/bin/env bash
# probe_rtt_bench.sh - probes per second at internet round trips: does
# --concurrency over the round trips bound the rate, or the CPU?
#
#   usage: sudo benchmarks/probe_rtt_bench.sh [BUILD_DIR] [N] [RTT_MS] [LEVELS...]
#   defaults: build, 20000 endpoints, 150 ms, levels 250 1000 5000 20000
#
# Target namespace: tests/probes/hostile -w -d RTT_MS -a 443 answers every
# address of 198.18.0.0/17 with a well-behaved TLS server and a version.Info,
# and holds each server flight RTT_MS after the client's flight arrived
# (before the TLS 1.3 server flight and before the HTTP response; this
# kernel has no netem). The TCP handshake is the kernel's: it stays at LAN
# speed. So a probe waits 2 x RTT_MS plus a LAN round trip plus CPU time.
# The first N addresses are open on 443. Scanner namespace: `kubesurvey
# scan` of the /17 at each --concurrency, no store, records in JSON Lines.
#
# Per level: probes/s = records / (last probe's end - first probe's start,
# from the records' started_ms and duration_ms); the bound of the round
# trips, concurrency / (2 x RTT); client CPU per probe (user + system of the
# whole scan process, SYN scan included, /usr/bin/time) and its peak RSS;
# the server's CPU over the level (/proc); outcomes counted per kind: every
# endpoint must have exactly one record. Needs root; run it under
# `flock /tmp/ks-net.lock`. Namespace ID 260.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
n=${2:-20000}
rtt=${3:-150}
shift $(($# < 3 ? $# : 3))
levels=("$@")
((${#levels[@]})) || levels=(250 1000 5000 20000)
ks=$build/tools/kubesurvey hostile=$build/tests/probes/hostile
id=260
S=ks${id}s T=ks${id}t
[[ $(id -u) == 0 ]] || { echo "probe_rtt_bench.sh: needs root (network namespaces)" >&2; exit 2; }
[[ -x $ks && -x $hostile ]] || { echo "probe_rtt_bench.sh: no kubesurvey or hostile in $build" >&2; exit 2; }
((n >= 1 && n <= 32768)) || { echo "probe_rtt_bench.sh: N is 1..32768 (a /17)" >&2; exit 2; }
[[ $rtt =~ ^[0-9]+$ ]] || { echo "probe_rtt_bench.sh: RTT_MS '$rtt' is not a number" >&2; exit 2; }
for c in "${levels[@]}"; do
    [[ $c =~ ^[0-9]+$ ]] && ((c >= 1)) || { echo "probe_rtt_bench.sh: level '$c' is not a concurrency" >&2; exit 2; }
done
# The probe pool needs --concurrency + 68 descriptors; it raises its soft
# limit itself, but only up to the hard one (it runs as nobody by then), and
# raising the hard limit needs CAP_SYS_RESOURCE. The server needs as many.
for c in "${levels[@]}"; do
    hard=$(ulimit -Hn)
    [[ $hard == unlimited ]] || ((hard >= c + 68)) || ulimit -Hn $((c + 100)) 2>/dev/null || {
        echo "probe_rtt_bench.sh: --concurrency $c needs $((c + 68)) descriptors, the hard limit is $hard and cannot be raised (CAP_SYS_RESOURCE)" >&2
        exit 2
    }
done
tmp=$(mktemp -d)
chmod 755 "$tmp"
# The scan writes as nobody once it drops root; the default blocklist holds
# 198.18.0.0/15, so an empty one.
mkdir -m 777 "$tmp/out"
: >"$tmp/empty-blocklist"
cleanup() {
    "$here/tests/net/netns.sh" down $id || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$here/tests/net/netns.sh" up $id
last=$((n - 1))
ip netns exec "$T" nft add element inet ks open "{ 198.18.0.0-198.18.$((last / 256)).$((last % 256)) . 443 }"
# One thread and one descriptor per connection: as many descriptors as
# the hard limit allows. Bounded: it exits after 30 minutes.
ip netns exec "$T" bash -c 'ulimit -n "$(ulimit -Hn)"; exec "$1" -w -d "$2" -a 443 1800' _ "$hostile" "$rtt" \
    >"$tmp/hostile.out" 2>"$tmp/hostile.err" &
server=$!
disown # the namespace's teardown kills it
for _ in $(seq 50); do grep -q ready "$tmp/hostile.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/hostile.out" || { echo "hostile did not start: $(cat "$tmp/hostile.err")" >&2; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

echo "$n endpoints, server flights held $rtt ms; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%11s %8s %8s %10s %9s %16s %13s %11s %10s  %s\n' concurrency records wall_s probes/s "bound/s" \
    "probe_ms p50/p90" "cpu_ms/probe" peak_rss_MiB server_cpu outcomes
for c in "${levels[@]}"; do
    s0=$(cpu_ticks $server)
    rc=0
    ip netns exec "$S" /usr/bin/time -f '%U %S %M %e' -o "$tmp/time" \
        "$ks" scan -b "$tmp/empty-blocklist" --no-db -p 443 -r 20000 -c 3 --seed 7 --concurrency "$c" \
        --connect-timeout 10000 --handshake-timeout 20000 --response-timeout 20000 \
        -o "$tmp/out/$c.jsonl" --output-format jsonl -q 198.18.0.0/17 >"$tmp/scan.out" 2>"$tmp/scan.err" || rc=$?
    s1=$(cpu_ticks $server)
    ((rc == 0)) || { echo "scan at --concurrency $c failed ($rc): $(tail -3 "$tmp/scan.err")" >&2; exit 1; }
    read -r user sys rss scan_wall <"$tmp/time"
    # A probe's own time (connect to the end of the response), median and 90th percentile.
    sed -E 's/.*"duration_ms":([0-9]+).*/\1/' "$tmp/out/$c.jsonl" | sort -n >"$tmp/durations"
    lines=$(wc -l <"$tmp/durations")
    ((lines > 0)) || { echo "scan at --concurrency $c: no records" >&2; exit 1; }
    p50=$(sed -n "$(((lines + 1) / 2))p" "$tmp/durations") p90=$(sed -n "$(((lines * 9 + 9) / 10))p" "$tmp/durations")
    awk -v c="$c" -v n="$n" -v rtt="$rtt" -v user="$user" -v sys="$sys" -v rss="$rss" \
        -v server=$((s1 - s0)) -v hz="$hz" -v pct="$p50/$p90" '
        {
            s = $0; sub(/.*"started_ms":/, "", s); s += 0
            d = $0; sub(/.*"duration_ms":/, "", d); d += 0
            o = $0; sub(/.*"outcome":"/, "", o); sub(/".*/, "", o)
            a = $0; sub(/.*"addr":"/, "", a); sub(/".*/, "", a)
            if (seen[a]++) dup++
            if (first == "" || s < first) first = s
            if (s + d > end) end = s + d
            count[o]++; records++
        }
        END {
            wall = (end - first) / 1000
            kinds = ""
            for (o in count) kinds = kinds " " o ":" count[o]
            if (dup) kinds = kinds " DUPLICATES:" dup
            if (records != n) kinds = kinds " MISSING:" n - records
            printf "%11d %8d %8.2f %10.0f %9.0f %16s %13.3f %11.1f %9.1fs %s\n", c, records, wall,
                records / wall, c / (2 * rtt / 1000), pct, 1000 * (user + sys) / records, rss / 1024,
                server / hz, kinds
        }' "$tmp/out/$c.jsonl"
    # Where connections are lost, if any (counters since the namespaces were made).
    echo "            counters so far: target $(ip netns exec "$T" nstat -az TcpExtListenOverflows \
        TcpExtListenDrops TcpExtSyncookiesSent TcpExtTCPReqQFullDrop | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')" \
        "scanner $(ip netns exec "$S" nstat -az TcpExtTCPSynRetrans | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
