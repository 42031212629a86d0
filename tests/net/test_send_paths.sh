#!/usr/bin/env bash
# The portable libnet path, two sender threads, and --bandwidth pacing each
# find exactly the ground truth of a /16 on one port.
#   test_send_paths.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init send_paths 130 "$@"

truth=$("$SIM" up "$TEST_ID" 130 198.18.0.0/16 443)
for variant in "--send-method libnet -r 0" "--sender-threads 2 -r 0" "--sender-threads 3 -B 40M"; do
    # shellcheck disable=SC2086
    ks_scan --syn-only -b "$EMPTY" -p 443 -c 2 -q $variant -o "$WORK/out.csv" \
        --metadata "$WORK/meta.json" 198.18.0.0/16 || fail "$variant: scan failed"
    expect_same_pairs "$truth" "$WORK/out.csv" "$variant"
done
# 40 Mbit/s of 74-byte SYNs (98 bytes on the wire) is 51,020 packets/s.
grep -q '"rate_pps": 51020' "$WORK/meta.json" || fail "--bandwidth 40M did not give 51020 pps"

# While a probing scan runs, no thread holds any capability (they were
# dropped once the raw sockets were open); SIGINT stops it cleanly: exit
# status 1, metadata written and marked interrupted, store consistent.
ip netns exec "$S" "$KS" scan -b "$EMPTY" -p 443 -r 2000 -c 1 -q --db "$WORK/int.lmdb" \
    --metadata "$WORK/int.json" 198.18.0.0/16 & pid=$!
sleep 2
kill -0 "$pid" 2>/dev/null || fail "the probing scan ended early"
threads=$(ls /proc/"$pid"/task | wc -l)
caps=$(cat /proc/"$pid"/task/*/status | awk '/^CapEff:/ && $2 != "0000000000000000"' | wc -l)
[[ $threads -ge 4 ]] || fail "expected sender, receiver, feeder, probe and writer threads; saw $threads"
[[ $caps -eq 0 ]] || fail "$caps of $threads threads still hold capabilities"
kill -INT "$pid"
status=0; wait "$pid" || status=$?
[[ $status -eq 1 ]] || fail "interrupted scan exited with status $status, expected 1"
grep -q '"interrupted": true' "$WORK/int.json" || fail "metadata does not say interrupted"
"$KS" check "$WORK/int.lmdb" >/dev/null || fail "store inconsistent after SIGINT"
