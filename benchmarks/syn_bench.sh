#!/usr/bin/env bash
# syn_bench.sh - SYN scanners on one simulated internet, in one run.
#
#   benchmarks/syn_bench.sh [--build DIR] [--id ID] [--runs N] [--tools LIST] [--out FILE]
#
# One test network (tests/net/sim.sh, namespace ID default 190): 198.18.0.0/16,
# ports 443 and 6443, 10% of pairs open, 1% of addresses answering RST.
#
# Phase 1, packet rate: the target drops every SYN at the ingress hook of its
#   veth (nftables netdev table), so only the senders are measured. Each
#   sender sends 1,048,576 SYNs (the /16 x 16 ports; ZMap: -P 16 on one port;
#   trafgen: 1,048,576 54-byte frames with random destination and checksums).
# Phase 2, recall: the population answers; each scanner scans the /16 on
#   443 and 6443 at full speed (ZMap: one run per port, the row sums them)
#   and its result is compared with the ground truth.
#
# For each run: packets/s delivered = rx_packets of ks<ID>b in the target
# namespace over the busy window (tests/net/rxmeter.c), wall time, CPU time
# (user + sys) and peak RSS from GNU time (Debian package `time`), recall and
# extra pairs against the ground truth. With --runs N each figure is the median
# of N runs. Every run is bounded by `timeout`. Needs root; sends packets only
# inside the namespaces it creates. Prints a markdown table and the commands.
#
# Tools (--tools, comma separated; default all): ks, ks2 (kubesurvey with
# --sender-threads 2), ks6 (kubesurvey sending IPv6: 2001:2::/112 x 16 ports,
# the same 1,048,576 SYNs in 94-byte frames; phase 1 only, its recall is
# tests/net/test_ipv6.sh's), zmap, zmap2 (-T 2), masscan, trafgen (phase 1
# only). ZMap sends IPv4 only; its IPv6 fork (tumi8/zmap) is not packaged.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build id=190 runs=1 tools=ks,ks2,ks6,zmap,zmap2,masscan,trafgen out=
while (($#)); do
    case $1 in
        --build) build=$(cd "$2" && pwd); shift ;;
        --id) id=$2; shift ;;
        --runs) runs=$2; shift ;;
        --tools) tools=$2; shift ;;
        --out) out=$2; shift ;;
        -h|--help) sed -n '2,28s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "syn_bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || { echo "syn_bench.sh: bad --runs '$runs' (1-99)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "syn_bench.sh: needs root (network namespaces)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "syn_bench.sh: GNU time missing: apt-get install time" >&2; exit 2; }

SIM=$repo/tests/net/sim.sh
KS=$build/tools/kubesurvey
RXMETER=$build/tests/net/ks_rxmeter
export KS_BUILD=$build
S=ks${id}s T=ks${id}t VA=ks${id}a VB=ks${id}b
WORK=$(mktemp -d /tmp/ks-bench.XXXXXX)
export KS_SIM_DIR=$WORK/sim
export KS_SIM_OWNER=$$ # sim.sh refuses an ID another live run owns
exec 9>"/run/ks-net-$id.lock"
flock -w 300 9 || { echo "syn_bench.sh: namespace ID $id busy for 300 s; use --id" >&2; exit 1; }
RUN_TIMEOUT=60
# masscan 1.3.2 often waits long after --wait when nothing comes back (its
# capture thread sits in poll); bound it tighter. Its row then says exit 124.
MASSCAN_TIMEOUT=30

cleanup() {
    "$SIM" down "$id" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_tool() { [[ ",$tools," == *",$1,"* ]]; }

truth=$("$SIM" up "$id" 2026 198.18.0.0/16 443,6443 100 10)
has_tool ks6 && "$repo/tests/net/netns.sh" ipv6 "$id"
gw=$("$SIM" gwmac "$id")
smac=$(ip netns exec "$S" cat "/sys/class/net/$VA/address")
: >"$WORK/empty"
truth_rows=$(($(wc -l <"$truth") - 1))

# trafgen: Ethernet/IPv4/TCP SYN, 54 bytes unpadded (csumtcp sums to the end
# of the frame), random destination in 198.18.0.0/16, IP and TCP checksums
# recomputed per frame.
hex_mac() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
cat >"$WORK/syn.trafgen" <<CONF
{
  $(hex_mac "$gw"), $(hex_mac "$smac"), c16(0x0800),
  0x45, 0x00, c16(40), drnd(2), c16(0x4000), 64, 6, csumip(14, 33),
  198, 19, 255, 1, 198, 18, drnd(2),
  drnd(2), c16(443), drnd(4), c32(0), 0x50, 0x02, c16(64240), csumtcp(14, 34), c16(0)
}
CONF

# ---------------------------------------------------------------------
# One measured run: run_one LABEL RESULT_KIND RESULT_FILE -- COMMAND...
# Appends "packets window wall cpu rss status" to $WORK/LABEL.runs.
run_one() {
    local label=$1 kind=$2 result=$3; shift 4
    local run_timeout=$RUN_TIMEOUT
    [[ $label == masscan.* ]] && run_timeout=$MASSCAN_TIMEOUT
    local meter=$WORK/meter.out timef=$WORK/time.out errf=$WORK/$label.err
    rm -f "$timef"
    ip netns exec "$T" "$RXMETER" -t $((RUN_TIMEOUT + 10)) "$VB" >"$meter" &
    local meter_pid=$!
    sleep 0.3
    local status=0
    # GNU time outside `timeout`: a run cut short still gets its wall time,
    # CPU and peak RSS (timeout reaps the scanner, so its usage counts).
    # SIGINT first: masscan then flushes its output (and writes paused.conf,
    # hence the cd), the others stop cleanly too.
    (cd "$WORK" && /usr/bin/time -o "$timef" -f "%e %U %S %M" timeout -s INT -k 5 "$run_timeout" \
        ip netns exec "$S" "$@") >"$WORK/$label.stdout" 2>"$errf" || status=$?
    sleep 0.3
    kill -INT "$meter_pid" 2>/dev/null || true
    wait "$meter_pid" || true
    local packets pps window wall user sys rss
    packets=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$meter")
    window=$(sed -n 's/.*window=\([0-9.]*\).*/\1/p' "$meter")
    if [[ -s "$timef" ]] && read -r wall user sys rss < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$' "$timef"); then
        :
    else
        wall=NA user=0 sys=0 rss=NA
    fi
    echo "${packets:-0} ${window:-0} $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $rss $status" \
        >>"$WORK/$label.runs"
    [[ $status -eq 0 ]] || echo "syn_bench.sh: $label: status $status: $(head -c 200 "$errf" | tr '\n' ' ')" >&2
    if [[ $kind != none ]]; then
        case $kind in
            csv) tail -n +2 "$result" ;;
            masscan) awk '$1 == "open" { print $4 "," $3 }' "$result" ;;
        esac >>"$WORK/$label.found" 2>/dev/null || true
    fi
}

# Sums the runs of one repetition (a ZMap row is two runs, one per port).
# rep_total LABEL FIRST_LINE COUNT -> "packets window wall cpu rss status"
rep_total() {
    sed -n "$2,$(($2 + $3 - 1))p" "$WORK/$1.runs" | awk '
        { p += $1; w += $2; if ($3 == "NA") wall = "NA"; else if (wall != "NA") wall += $3
          c += $4; if ($5 == "NA" || rss == "NA") rss = "NA"; else if ($5 > rss) rss = $5
          if ($6 != 0) st = $6 }
        END { printf "%d %.4f %s %.2f %s %d\n", p, w, wall, c, rss, st }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else print v[int((NR + 1) / 2)] }'; }

# recall LABEL -> "found recall_percent extra" for the last repetition
recall_of() {
    local f=$WORK/$1.found
    [[ -s "$f" ]] || { echo "0 0.00 0"; return; }
    LC_ALL=C sort -u "$f" >"$f.sorted"
    tail -n +2 "$truth" | LC_ALL=C sort >"$WORK/truth.sorted"
    local hit extra
    hit=$(LC_ALL=C comm -12 "$WORK/truth.sorted" "$f.sorted" | wc -l)
    extra=$(LC_ALL=C comm -13 "$WORK/truth.sorted" "$f.sorted" | wc -l)
    echo "$hit $(awk -v h="$hit" -v t="$truth_rows" 'BEGIN { printf "%.2f", 100 * h / t }') $extra"
}

declare -A CMDLINE
ROWS_RATE=() ROWS_RECALL=()

# row LABEL NAME PHASE RUNS_PER_REP
row() {
    local label=$1 name=$2 phase=$3 per=$4
    [[ -s "$WORK/$label.$phase.runs" ]] || return 0
    : >"$WORK/$label.reps"
    local r
    for ((r = 0; r < runs; r++)); do rep_total "$label.$phase" $((r * per + 1)) "$per" >>"$WORK/$label.reps"; done 2>/dev/null ||
        true
    local packets pps wall cpu rss status line
    packets=$(awk '{ print $1 }' "$WORK/$label.reps" | median)
    pps=$(awk '{ if ($2 > 0) printf "%.0f\n", $1 / $2; else print 0 }' "$WORK/$label.reps" | median)
    wall=$(awk '{ print $3 }' "$WORK/$label.reps" | median)
    cpu=$(awk '{ print $4 }' "$WORK/$label.reps" | median)
    rss=$(awk '{ print $5 }' "$WORK/$label.reps" | median)
    status=$(awk '$6 != 0 { s = $6 } END { print s + 0 }' "$WORK/$label.reps")
    local rss_mb; rss_mb=$(awk -v k="$rss" 'BEGIN { if (k == "NA") print "NA"; else printf "%.1f", k / 1024 }')
    local note=""; [[ $status -ne 0 ]] && note=" (exit $status)"
    if [[ $phase == rate ]]; then
        ROWS_RATE+=("| $name$note | $packets | $(printf "%'d" "$pps") | $wall | $cpu | $rss_mb |")
        echo "$label $pps" >>"$WORK/pps.rate"
    else
        read -r found rec extra < <(recall_of "$label.recall")
        ROWS_RECALL+=("| $name$note | $(printf "%'d" "$pps") | $wall | $cpu | $rss_mb | $found / $truth_rows | $rec% | $extra |")
    fi
}

# ---------------------------------------------------------------------
# The commands. @OUT@ is replaced by the per-run result file.
ks_rate() { echo "$KS scan --syn-only -b $WORK/empty -q -r 0 -c 1 -p 1-16 $* -o /dev/null 198.18.0.0/16"; }
ks6_rate() { echo "$KS scan --syn-only -b $WORK/empty -q -r 0 -c 1 -p 1-16 $* -o /dev/null 2001:2::/112"; }
ks_recall() { echo "$KS scan --syn-only -b $WORK/empty -q -r 0 -c 3 -p 443,6443 $* -o @OUT@ 198.18.0.0/16"; }
zmap_rate() { echo "zmap -C $WORK/empty -G $gw -q -v 1 -r 0 -c 1 -p 443 -P 16 $* -o /dev/null 198.18.0.0/16"; }
zmap_recall() {
    echo "zmap -C $WORK/empty -G $gw -q -v 1 -r 0 -c 3 -p $1 $2 -O csv -f saddr,sport" \
        "--output-filter=success=1&&repeat=0 -o @OUT@ 198.18.0.0/16"
}
masscan_rate() { echo "masscan -e $VA --source-ip 198.19.255.2 --router-mac $gw --rate 20000000 --wait 1 -p 1-16 198.18.0.0/16"; }
masscan_recall() { echo "masscan -e $VA --source-ip 198.19.255.2 --router-mac $gw --rate 20000000 --wait 3 -p 443,6443 -oL @OUT@ 198.18.0.0/16"; }
trafgen_rate() { echo "trafgen --dev $VA --conf $WORK/syn.trafgen -n 1048576 --cpus 1 --no-sock-mem -q"; }

# run LABEL PHASE KIND COMMAND_STRING
run() {
    local label=$1 phase=$2 kind=$3 cmd=$4 result=$WORK/$1.result
    local shown="ip netns exec $S $cmd"
    [[ "${CMDLINE["$label.$phase"]:-}" == *"$shown"* ]] ||
        CMDLINE["$label.$phase"]+="${CMDLINE["$label.$phase"]:+ ; }$shown"
    rm -f "$result"
    # shellcheck disable=SC2086
    run_one "$label.$phase" "$kind" "$result" -- ${cmd//@OUT@/$result}
}

ks_ok=1
[[ -x "$KS" ]] || { ks_ok=0; echo "syn_bench.sh: $KS not built; kubesurvey rows skipped" >&2; }

# --- Phase 1: packet rate, the target drops everything at ingress ------
ip netns exec "$T" nft -f - <<NFT
table netdev ksbench {
    chain ingress {
        type filter hook ingress device $VB priority 0; policy accept;
        ip daddr 198.18.0.0/16 drop
        ip6 daddr 2001:2::/48 drop
    }
}
NFT
for ((r = 0; r < runs; r++)); do
    ((ks_ok)) && has_tool ks && run ks rate none "$(ks_rate)"
    ((ks_ok)) && has_tool ks2 && run ks2 rate none "$(ks_rate --sender-threads 2)"
    ((ks_ok)) && has_tool ks6 && run ks6 rate none "$(ks6_rate)"
    has_tool zmap && run zmap rate none "$(zmap_rate)"
    has_tool zmap2 && run zmap2 rate none "$(zmap_rate -T 2)"
    has_tool masscan && run masscan rate none "$(masscan_rate)"
    has_tool trafgen && run trafgen rate none "$(trafgen_rate)"
done
ip netns exec "$T" nft delete table netdev ksbench

# --- Phase 2: recall at full speed against the population --------------
for ((r = 0; r < runs; r++)); do
    for l in ks ks2 zmap zmap2 masscan; do rm -f "$WORK/$l.recall.found"; done
    ((ks_ok)) && has_tool ks && run ks recall csv "$(ks_recall)"
    ((ks_ok)) && has_tool ks2 && run ks2 recall csv "$(ks_recall --sender-threads 2)"
    if has_tool zmap; then
        run zmap recall csv "$(zmap_recall 443 "")"
        run zmap recall csv "$(zmap_recall 6443 "")"
    fi
    if has_tool zmap2; then
        run zmap2 recall csv "$(zmap_recall 443 "-T 2")"
        run zmap2 recall csv "$(zmap_recall 6443 "-T 2")"
    fi
    has_tool masscan && run masscan recall masscan "$(masscan_recall)"
done

# --- Report --------------------------------------------------------------
for spec in "ks|kubesurvey -r 0|1" "ks2|kubesurvey -r 0 --sender-threads 2|1" \
    "ks6|kubesurvey -r 0, IPv6 (94-byte frames)|1" \
    "zmap|ZMap $(zmap --version 2>/dev/null | awk '{ print $2 }') (1 sender thread)|1" \
    "zmap2|ZMap -T 2|1" "masscan|masscan $(masscan --version 2>/dev/null | awk '/version/ { print $3; exit }')|1" \
    "trafgen|trafgen (netsniff-ng), 1 CPU|1"; do
    IFS='|' read -r label name per <<<"$spec"
    row "$label" "$name" rate "$per"
done
for spec in "ks|kubesurvey -r 0|1" "ks2|kubesurvey -r 0 --sender-threads 2|1" \
    "zmap|ZMap (1 sender thread; 2 runs, one per port)|2" "zmap2|ZMap -T 2 (2 runs)|2" "masscan|masscan|1"; do
    IFS='|' read -r label name per <<<"$spec"
    row "$label" "$name" recall "$per"
done

{
    echo "## SYN scan benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r)"
    echo
    echo "Median of $runs run(s). Test network: 198.18.0.0/16, ground truth $truth_rows open pairs"
    echo "on 443,6443 (seed 2026). Packets/s = rx_packets of $VB in the target namespace over the"
    echo "busy window (0.5%..99.5% of the packets). CPU = user + sys; peak RSS from GNU time."
    echo
    echo "### Packet rate: 1,048,576 SYNs each, target drops everything at ingress"
    echo
    echo "| sender | SYNs delivered | packets/s | wall s | CPU s | peak RSS MB |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS_RATE[@]}"
    if [[ -s "$WORK/pps.rate" ]]; then
        p4=$(awk '$1 == "ks" { print $2 }' "$WORK/pps.rate")
        p6=$(awk '$1 == "ks6" { print $2 }' "$WORK/pps.rate")
        [[ -n "$p4" && -n "$p6" && "$p4" -gt 0 ]] &&
            echo "- kubesurvey IPv6 / IPv4 packets/s ratio (same run): $(awk -v a="$p6" -v b="$p4" 'BEGIN { printf "%.2f", a / b }') (issue 20: at least 0.90)"
        command -v zmap >/dev/null || echo "- ZMap not installed (Debian package zmap): no ZMap rows"
        zp=$(awk '$1 == "zmap" { print $2 }' "$WORK/pps.rate")
        for l in ks ks2 trafgen; do
            p=$(awk -v l=$l '$1 == l { print $2 }' "$WORK/pps.rate")
            [[ -n "$p" && -n "$zp" && "$zp" -gt 0 ]] &&
                echo "- $l / ZMap (1 thread) packets/s ratio: $(awk -v a="$p" -v b="$zp" 'BEGIN { printf "%.2f", a / b }')"
        done
    fi
    echo
    echo "### Recall at full speed: /16 x {443, 6443} = 131,072 probes, target answers"
    echo
    echo "| scanner | packets/s | wall s | CPU s | peak RSS MB | found | recall | extra |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS_RECALL[@]}"
    echo
    echo "### Commands (in namespace $S; \`@OUT@\` is the result file)"
    echo
    for key in $(printf '%s\n' "${!CMDLINE[@]}" | sort); do
        echo "- $key: \`${CMDLINE[$key]}\`"
    done
} | tee "${out:-/dev/null}"
