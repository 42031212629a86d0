#!/usr/bin/env bash
# A blocklisted subnet gets zero packets, counted in the target namespace,
# while every other (address, port) gets exactly one SYN and the results are
# exactly the ground truth minus the blocklisted subnet. The dry run agrees.
#   test_blocklist.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init blocklist 120 "$@"

truth=$("$SIM" up "$TEST_ID" 120)
"$SIM" add-counter "$TEST_ID" blocked 198.18.77.0/24
"$SIM" add-counter "$TEST_ID" neighbour 198.18.78.0/24
blocklist=$WORK/blocklist.txt
printf '# the test blocklist\n\n198.18.77.0/24   # a whole /24\n' >"$blocklist"
expected_probes=$(( (65536 - 256) * 2 ))

ks_scan --syn-only -b "$blocklist" -c 2 -q -r 0 -p 443,6443 -o "$WORK/scan.csv" \
    198.18.0.0/16 || fail "kubesurvey scan exited with status $?"

blocked=$("$SIM" counter "$TEST_ID" blocked)
[[ $blocked -eq 0 ]] || fail "blocklisted 198.18.77.0/24 received $blocked SYNs, expected 0"
neighbour=$("$SIM" counter "$TEST_ID" neighbour)
[[ $neighbour -eq 512 ]] || fail "198.18.78.0/24 received $neighbour SYNs, expected 512"
syn_in=$("$SIM" counter "$TEST_ID" syn_in)
[[ $syn_in -eq $expected_probes ]] || fail "target saw $syn_in SYNs, expected $expected_probes"
note "blocked /24: 0 SYNs; neighbour /24: 512; total $syn_in"

grep -v '^198\.18\.77\.' "$truth" >"$WORK/expected.csv"
[[ $(count_rows "$WORK/expected.csv") -lt $(count_rows "$truth") ]] ||
    fail "test population has no open pair in 198.18.77.0/24; pick another seed"
expect_same_pairs "$WORK/expected.csv" "$WORK/scan.csv" "scan with blocklist"

# The dry run lists every allowed target once and none of the blocked ones.
ks_scan --dry-run -b "$blocklist" -p 443,6443 198.18.0.0/16 >"$WORK/dry.csv" ||
    fail "dry run exited with status $?"
[[ $(head -1 "$WORK/dry.csv") == "daddr,dport" ]] || fail "dry-run header is '$(head -1 "$WORK/dry.csv")'"
rows=$(count_rows "$WORK/dry.csv")
[[ $rows -eq $expected_probes ]] || fail "dry run lists $rows targets, expected $expected_probes"
in_blocked=$(grep -c '^198\.18\.77\.' "$WORK/dry.csv" || true)
[[ $in_blocked -eq 0 ]] || fail "dry run lists $in_blocked targets in the blocklisted subnet"
dups=$(tail -n +2 "$WORK/dry.csv" | LC_ALL=C sort | uniq -d | wc -l)
[[ $dups -eq 0 ]] || fail "dry run lists $dups targets more than once"
