#!/usr/bin/env bash
# Three shards (same seed) together find the same set as one run, each pair
# in exactly one shard; the union of their dry runs is exactly the whole
# space, disjoint; the order is repeatable for a seed and changes with it.
#   test_shards.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init shards 130 "$@"

truth=$("$SIM" up "$TEST_ID" 130)
shards=3 seed=4242

# The whole space, in the dry-run format: every address x {443, 6443}.
awk 'BEGIN { print "daddr,dport"; for (c = 0; c < 256; c++) for (d = 0; d < 256; d++) {
        printf "198.18.%d.%d,443\n198.18.%d.%d,6443\n", c, d, c, d } }' >"$WORK/space.csv"

: >"$WORK/union.csv.body"
: >"$WORK/dry-union.csv.body"
total_syn=0
for ((i = 0; i < shards; i++)); do
    "$SIM" reset "$TEST_ID"
    ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 --seed $seed --shards $shards \
        --shard $i -o "$WORK/shard$i.csv" 198.18.0.0/16 || fail "shard $i: scan exited with status $?"
    [[ $(head -1 "$WORK/shard$i.csv") == "saddr,sport" ]] || fail "shard $i: bad CSV header"
    tail -n +2 "$WORK/shard$i.csv" >>"$WORK/union.csv.body"
    syn=$("$SIM" counter "$TEST_ID" syn_in)
    total_syn=$((total_syn + syn))
    note "shard $i: $(count_rows "$WORK/shard$i.csv") responders, $syn SYNs"

    ks_scan --dry-run -b "$EMPTY" -p 443,6443 --seed $seed --shards $shards --shard $i \
        198.18.0.0/16 >"$WORK/dry$i.csv" || fail "shard $i: dry run exited with status $?"
    rows=$(count_rows "$WORK/dry$i.csv")
    # Shards are near equal: none may be empty or hold more than half.
    [[ $rows -gt 0 && $rows -lt 65536 ]] || fail "shard $i: dry run has $rows targets"
    [[ $syn -eq $rows ]] || fail "shard $i: target saw $syn SYNs but the dry run lists $rows targets"
    tail -n +2 "$WORK/dry$i.csv" >>"$WORK/dry-union.csv.body"
done
[[ $total_syn -eq 131072 ]] || fail "the shards sent $total_syn SYNs in all, expected 131072"

# Union of dry runs == the whole space, and no target in two shards.
{ echo daddr,dport; cat "$WORK/dry-union.csv.body"; } >"$WORK/dry-union.csv"
expect_same_pairs "$WORK/space.csv" "$WORK/dry-union.csv" "union of $shards shard dry runs"

# Union of results == the ground truth, no pair found by two shards.
{ echo saddr,sport; cat "$WORK/union.csv.body"; } >"$WORK/union.csv"
expect_same_pairs "$truth" "$WORK/union.csv" "union of $shards shard scans"

# One unsharded run finds the same set.
"$SIM" reset "$TEST_ID"
ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 --seed $seed -o "$WORK/one.csv" \
    198.18.0.0/16 || fail "unsharded scan exited with status $?"
expect_same_pairs "$WORK/union.csv" "$WORK/one.csv" "one run vs the union of shards"

# The order is repeatable for a seed and differs for another seed.
ks_scan --dry-run -b "$EMPTY" -p 443,6443 --seed $seed --shards $shards --shard 0 \
    198.18.0.0/16 >"$WORK/again0.csv" || fail "repeated dry run exited with status $?"
cmp -s "$WORK/dry0.csv" "$WORK/again0.csv" || fail "two dry runs with --seed $seed differ"
ks_scan --dry-run -b "$EMPTY" -p 443,6443 --seed $((seed + 1)) 198.18.0.0/16 >"$WORK/other.csv" ||
    fail "dry run with another seed exited with status $?"
ks_scan --dry-run -b "$EMPTY" -p 443,6443 --seed $seed 198.18.0.0/16 >"$WORK/same.csv" ||
    fail "unsharded dry run exited with status $?"
expect_same_pairs "$WORK/space.csv" "$WORK/other.csv" "dry run with another seed"
if cmp -s "$WORK/same.csv" "$WORK/other.csv"; then
    fail "seeds $seed and $((seed + 1)) give the same order"
fi
