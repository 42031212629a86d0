#!/usr/bin/env bash
# With an empty neighbour cache and no -i / --source-ip / --gateway-mac, the
# scanner finds interface, source address and gateway MAC by itself, and the
# scan still finds exactly the ground truth.
#   test_neigh.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init neigh 140 "$@"

truth=$("$SIM" up "$TEST_ID" 140)
ip -n "$S" neigh flush all
entries=$(ip -n "$S" neigh show | wc -l)
[[ $entries -eq 0 ]] || fail "could not empty the neighbour cache of $S ($entries entries)"

ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 50000 -p 443,6443 -o "$WORK/scan.csv" \
    198.18.0.0/16 || fail "scan with an empty neighbour cache exited with status $?"
expect_same_pairs "$truth" "$WORK/scan.csv" "scan with an empty neighbour cache"
syn_in=$("$SIM" counter "$TEST_ID" syn_in)
[[ $syn_in -eq 131072 ]] || fail "target saw $syn_in SYNs, expected 131072"
