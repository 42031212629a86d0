#!/usr/bin/env bash
# Bad input gets exit status 1 or 2 (never a crash or a hang) and a message
# naming the bad thing; nothing is sent.
#   test_badinput.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init badinput 150 "$@"

"$SIM" up "$TEST_ID" 150 >/dev/null
printf '198.18.1.0/24\nnot-an-address\n' >"$WORK/bad-blocklist.txt"
printf '# ok\n198.18.0.0/33\n' >"$WORK/bad-allowlist.txt"

# expect_error "WHAT" "ALLOWED EXIT STATUSES" "REGEX THE MESSAGE MUST MATCH" ARGS...
expect_error() {
    local what=$1 codes=$2 needle=$3; shift 3
    local rc=0
    KS_SCAN_TIMEOUT=20 ks_scan "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    local msg; msg=$(head -c 300 "$WORK/err" | tr '\n' ' ')
    if [[ " $codes " != *" $rc "* ]]; then
        check_failed "$what: exit status $rc, expected one of {$codes}; stderr: $msg"
    elif ! grep -qiE -- "$needle" "$WORK/err"; then
        check_failed "$what: message does not name '$needle'; stderr: $msg"
    else
        note "$what: status $rc, '$msg'"
    fi
}

base=(--syn-only -b "$EMPTY" -c 1 -q)
expect_error "unknown interface" "1 2" nosuchif0 "${base[@]}" -i nosuchif0 198.18.0.0/24
expect_error "prefix length 33" "2" 198\.18\.0\.0/33 "${base[@]}" 198.18.0.0/33
expect_error "octet 300" "2" 300\.18\.0\.1 "${base[@]}" 300.18.0.1
expect_error "garbage target" "2" 198\.18\.x\.0 "${base[@]}" 198.18.x.0/24
expect_error "port 70000" "2" 70000 "${base[@]}" -p 70000 198.18.0.0/24
expect_error "port 0" "2" "port.*\b0\b|\b0\b.*port" "${base[@]}" -p 0 198.18.0.0/24
expect_error "port not a number" "2" abc "${base[@]}" -p 443,abc 198.18.0.0/24
expect_error "reversed port range" "2" 6443-443 "${base[@]}" -p 6443-443 198.18.0.0/24
expect_error "bad blocklist line" "1 2" "bad-blocklist\.txt" --syn-only -c 1 -q \
    -b "$WORK/bad-blocklist.txt" 198.18.0.0/24
expect_error "bad blocklist line number" "1 2" "bad-blocklist\.txt.*\b2\b" --syn-only -c 1 -q \
    -b "$WORK/bad-blocklist.txt" 198.18.0.0/24
expect_error "bad allowlist line" "1 2" "bad-allowlist\.txt" "${base[@]}" -w "$WORK/bad-allowlist.txt"
expect_error "missing blocklist file" "1 2" "no-such-file\.txt" --syn-only -c 1 -q \
    -b "$WORK/no-such-file.txt" 198.18.0.0/24
expect_error "shard out of range" "2" shard "${base[@]}" --shards 3 --shard 3 198.18.0.0/24
expect_error "bad rate" "2" fast "${base[@]}" -r fast 198.18.0.0/24
expect_error "bad source address" "2" "198\.19\.255\.300" "${base[@]}" --source-ip 198.19.255.300 \
    198.18.0.0/24
expect_error "bad gateway MAC" "2" zz:00 "${base[@]}" --gateway-mac zz:00 198.18.0.0/24
expect_error "unknown option" "2" --no-such-option "${base[@]}" --no-such-option 198.18.0.0/24
expect_error "no target" "2" "target|address|cidr" "${base[@]}"

syn_in=$("$SIM" counter "$TEST_ID" syn_in)
[[ $syn_in -eq 0 ]] || fail "bad invocations sent $syn_in SYNs into the target, expected 0"
[[ $TEST_FAILS -eq 0 ]] || fail "$TEST_FAILS bad-input case(s) failed"
