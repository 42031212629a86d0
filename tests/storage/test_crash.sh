#!/bin/bash
# test_crash.sh - SIGKILL the store writer at random moments; after each kill
# the store must open, pass `kubesurvey check`, and hold every record the
# writer had reported committed (store_driver writes that count after each
# checkpoint returns). Bounded: 6 kills, each after at most 1.5 s.
set -u
: "${KUBESURVEY:?} ${STORE_DRIVER:?}"
dir=$(mktemp -d /tmp/ks-crash-XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
pid=
db=$dir/crash.lmdb
. "$(dirname "$0")/../lib.sh"

RANDOM=$$
total=0
for round in 1 2 3 4 5 6; do
    state=$dir/state.$round
    "$STORE_DRIVER" write "$db" "$state" > "$dir/write.$round.out" 2>&1 &
    pid=$!
    delay_ms=$((50 + RANDOM % 1450))
    sleep "$(printf '0.%03d' $((delay_ms % 1000)))"
    [ $delay_ms -ge 1000 ] && sleep 1
    kill -9 $pid 2>/dev/null || fail "round $round: the writer ended before the kill ($(cat "$dir/write.$round.out"))"
    wait $pid 2>/dev/null
    pid=
    [ -s "$state" ] || { echo "round $round: killed after ${delay_ms} ms before the first state"; continue; }
    read -r scan committed < "$state"
    "$KUBESURVEY" check "$db" > "$dir/check.out" 2>&1 || { cat "$dir/check.out"; fail "round $round: check failed"; }
    "$STORE_DRIVER" verify "$db" "$state" > "$dir/verify.out" 2>&1 || { cat "$dir/verify.out"; fail "round $round: committed records missing"; }
    echo "round $round: killed after ${delay_ms} ms; scan $scan: $committed committed records verified; $(cat "$dir/check.out")"
    total=$((total + committed))
done
# every earlier round's scan is still intact after the later kills
for state in "$dir"/state.*; do
    [ -s "$state" ] || continue
    "$STORE_DRIVER" verify "$db" "$state" > /dev/null || fail "$state no longer verifies"
done
[ $total -gt 0 ] || fail "no round committed anything (machine too slow?)"
echo "PASS: 6 kills, $total committed records all present"
