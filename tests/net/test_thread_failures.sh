#!/usr/bin/env bash
# Error paths of `kubesurvey scan` that need a library call to fail, made
# to fail by tests/tools/fault_shim.so (LD_PRELOAD, only in this test):
#  - a thread that cannot be created (the pipeline's feeder, the scan
#    thread) ends the scan with status 1 and a message, never a hang;
#  - an error before the pipeline starts does not destroy its mutexes,
#    which were never initialised;
#  - no digest context for the target lists: an error and a message.
#   test_thread_failures.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init thread_failures 170 "$@"

SHIM=$KS_BUILD/tests/tools/fault_shim.so
[[ -f $SHIM ]] || fail "fault shim '$SHIM' not built"
# In the ASan build the shim comes before the sanitizer runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
"$SIM" up "$TEST_ID" 170 >/dev/null

# expect_failure WHAT "STATUSES" "FAULT ENV" REGEX ARGS...: one of the exit
# statuses within 30 s (124 or 137 from timeout is a hang), stderr matching
# REGEX.
expect_failure() {
    local what=$1 codes=$2 fault=$3 needle=$4; shift 4
    local rc=0
    # shellcheck disable=SC2086 # $fault is a list of VAR=value words
    timeout -k 5 30 ip netns exec "$S" env LD_PRELOAD="$SHIM" $fault "$KS" scan "$@" \
        >"$WORK/out" 2>"$WORK/err" || rc=$?
    local msg; msg=$(head -c 300 "$WORK/err" | tr '\n' ' ')
    if [[ " $codes " != *" $rc "* ]]; then
        check_failed "$what: exit status $rc, expected one of {$codes}; stderr: $msg"
    elif ! grep -qiE -- "$needle" "$WORK/err"; then
        check_failed "$what: message does not match '$needle'; stderr: $msg"
    else
        note "$what: status $rc, '$msg'"
    fi
}

syn=(--syn-only -b "$EMPTY" -c 1 -q -r 1000 -p 443 198.18.0.0/28)
# With --syn-only and no store, the first thread is the pipeline's feeder,
# the second the one running the scan.
expect_failure "feeder thread not created" 1 "KS_FAIL_PTHREAD_CREATE=1" "feeder thread" "${syn[@]}"
expect_failure "scan thread not created" 1 "KS_FAIL_PTHREAD_CREATE=2" "scan thread" "${syn[@]}"
# The store cannot be opened: run_scan gives up before the pipeline starts.
expect_failure "store error before the pipeline" 1 "KS_CHECK_MUTEX_DESTROY=1" "no-such-dir" \
    -b "$EMPTY" -c 1 -q -p 443 --db "$WORK/no-such-dir/survey.db" 198.18.0.0/28
# Target lists are read before anything runs (status 2, like their other errors).
expect_failure "no digest context" "1 2" "KS_FAIL_EVP_MD_CTX_NEW=1" "digest" \
    --dry-run -b "$EMPTY" -q -p 443 198.18.0.0/28

[[ $TEST_FAILS -eq 0 ]] || fail "$TEST_FAILS case(s) failed"
