#!/usr/bin/env bash
# A scan of 198.18.0.0/16 on 443,6443 finds exactly the ground truth, at the
# default rate (10000 pps, 131072 probes, ~13 s) and at full speed (-r 0);
# every (address, port) is probed exactly once (counted in the target).
#   test_scan_exact.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init scan_exact 110 "$@"

truth=$("$SIM" up "$TEST_ID" 110)
"$SIM" track-probes "$TEST_ID"
probes=131072 # 65536 addresses x 2 ports

run_and_check() {
    local label=$1; shift
    "$SIM" reset "$TEST_ID"
    local t0=$SECONDS
    ks_scan --syn-only -b "$EMPTY" -c 2 -q --metadata "$WORK/$label.json" \
        -o "$WORK/$label.csv" "$@" 198.18.0.0/16 ||
        fail "$label: kubesurvey scan exited with status $?"
    note "$label: scan took $((SECONDS - t0)) s"
    local syn_in answered probed sent
    syn_in=$("$SIM" counter "$TEST_ID" syn_in)
    [[ $syn_in -eq $probes ]] || fail "$label: target saw $syn_in SYNs, expected exactly $probes"
    probed=$("$SIM" probed "$TEST_ID" | count_rows /dev/stdin)
    [[ $probed -eq $probes ]] ||
        fail "$label: $probed distinct (address, port) probed, expected all $probes"
    "$SIM" answered "$TEST_ID" >"$WORK/answered.csv"
    expect_same_pairs "$truth" "$WORK/answered.csv" "$label (target-side SYN-ACKs)"
    expect_same_pairs "$truth" "$WORK/$label.csv" "$label"
    sent=$(metadata_number "$WORK/$label.json" sent)
    [[ "$sent" == "$probes" ]] || fail "$label: metadata says sent=${sent:-missing}, expected $probes"
}

# Default rate and ports: no -r, no -p.
run_and_check default_rate
run_and_check full_speed -r 0 -p 443,6443
