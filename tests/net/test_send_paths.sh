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
