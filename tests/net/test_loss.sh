#!/usr/bin/env bash
# The scanner under loss (realistic mode, tests/net/impair.c): 20 ms +-10 ms
# each way (jitter reorders), then 2% loss and 1% duplication each way.
# -P 2 finds at least 99.5% of the open endpoints a lossless run finds,
# nothing else and each once; -P 1 misses more than 0.5% (the loss is real);
# the metadata's estimated loss per probe is in 1%-8% (2% SYN loss; a lost
# SYN-ACK is mostly recovered by the target's retransmission).
#   test_loss.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init loss 180 "$@"

cidr=198.18.0.0/18
delay="delay=20,jitter=10"
export KS_IMPAIR="-s 7 -a $delay -b $delay"
truth=$("$SIM" up "$TEST_ID" 180 $cidr 443,6443)

scan() {
    local label=$1; shift
    ks_scan --syn-only -b "$EMPTY" -c 3 -q -r 10000 --seed 5 --metadata "$WORK/$label.json" \
        -o "$WORK/$label.csv" "$@" $cidr || fail "$label: kubesurvey scan exited with status $?"
}
# A member of the metadata's counters, or of its loss object (None when absent).
counter() {
    python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))
print(m["counters"].get(sys.argv[2], m.get("loss", {}).get(sys.argv[2])))' "$WORK/$1.json" "$2"
}
impair_stat() { awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1.impair"; }
# found ⊆ lossless, no duplicate; prints the number found.
subset_count() {
    local found=$WORK/$1.csv
    [[ "$(head -1 "$found")" == saddr,sport ]] || fail "$1: bad header $(head -1 "$found")"
    local extra dups
    extra=$(LC_ALL=C comm -13 <(tail -n +2 "$WORK/lossless.csv" | LC_ALL=C sort) \
        <(tail -n +2 "$found" | LC_ALL=C sort -u) | wc -l)
    dups=$(tail -n +2 "$found" | LC_ALL=C sort | uniq -d | wc -l)
    [[ $extra -eq 0 && $dups -eq 0 ]] || fail "$1: $extra pairs a lossless run did not find, $dups duplicates"
    count_rows "$found"
}

# Lossless but delayed and reordered: exactly the ground truth, and every
# responder answered both probes.
scan lossless -P 2
"$SIM" impair-stats "$TEST_ID" >"$WORK/lossless.impair"
expect_same_pairs "$truth" "$WORK/lossless.csv" "lossless -P 2"
all=$(count_rows "$WORK/lossless.csv")
note "lossless: $all found; estimated loss $(counter lossless estimated_loss);" \
    "forwarder socket drops $(impair_stat lossless a2b_socket_drops)/$(impair_stat lossless b2a_socket_drops)"

lossy="-a $delay,loss=2,dup=1 -b $delay,loss=2,dup=1"
"$SIM" impair "$TEST_ID" "-s 8 $lossy"
scan p1 -P 1
"$SIM" impair-stats "$TEST_ID" >"$WORK/p1.impair"
"$SIM" impair "$TEST_ID" "-s 9 $lossy"
scan p2 -P 2
"$SIM" impair-stats "$TEST_ID" >"$WORK/p2.impair"

p1=$(subset_count p1)
p2=$(subset_count p2)
for run in p1 p2; do
    note "$run: forwarder lost $(impair_stat $run a2b_lost) of $(impair_stat $run a2b_in) frames" \
        "to the targets and $(impair_stat $run b2a_lost) of $(impair_stat $run b2a_in) back;" \
        "duplicated $(impair_stat $run a2b_duplicated)/$(impair_stat $run b2a_duplicated)"
    [[ $(impair_stat $run a2b_lost) -gt 0 && $(impair_stat $run b2a_lost) -gt 0 ]] ||
        fail "$run: the forwarder lost nothing"
done
note "open endpoints found: lossless $all, -P 1 $p1, -P 2 $p2 (2% loss each way)"
[[ $((p2 * 1000)) -ge $((all * 995)) ]] || fail "-P 2 found $p2 of $all (< 99.5%)"
[[ $((p1 * 1000)) -lt $((all * 995)) ]] ||
    fail "-P 1 found $p1 of $all (>= 99.5%): is the loss applied?"
[[ "$(counter p1 estimated_loss)" == None ]] || fail "-P 1 reported an estimated loss"
loss=$(counter p2 estimated_loss)
note "-P 2: answered by 1 and 2 probes: $(counter p2 answered_by_probes); estimated loss $loss"
python3 -c 'import sys; sys.exit(not 0.01 <= float(sys.argv[1]) <= 0.08)' "$loss" ||
    fail "-P 2: estimated loss $loss outside 1%-8%"
sent=$(counter p2 sent)
[[ $sent -eq $((2 * 32768)) ]] || fail "-P 2 sent $sent SYNs, expected $((2 * 32768))"

# Middleboxes (ks_impair -A): three addresses answer SYN-ACK on every port,
# forged by the forwarder; the scanner's cookie check accepts them, so a scan
# of their ports 1-100 finds exactly the 300 pairs, each once.
printf '198.18.1.1\n198.18.2.2\n198.18.3.3\n' >"$WORK/allopen.txt"
"$SIM" impair "$TEST_ID" "-s 10 -a $delay -b $delay -A $WORK/allopen.txt"
ks_scan --syn-only -b "$EMPTY" -c 2 -q -P 2 -p 1-100 -o "$WORK/allopen.csv" \
    198.18.1.1 198.18.2.2 198.18.3.3 || fail "all-open scan exited with status $?"
{
    echo saddr,sport
    for a in 198.18.1.1 198.18.2.2 198.18.3.3; do seq 1 100 | sed "s/^/$a,/"; done
} >"$WORK/allopen.expected"
expect_same_pairs "$WORK/allopen.expected" "$WORK/allopen.csv" "all-open middleboxes"
"$SIM" impair-stats "$TEST_ID" >"$WORK/allopen.impair"
[[ $(impair_stat allopen forged) -eq 600 ]] ||
    fail "forwarder forged $(impair_stat allopen forged) SYN-ACKs, expected 600 (300 pairs x -P 2)"
