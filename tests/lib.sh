# lib.sh - shared by every test script; source it:
#     . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# The network tests source tests/net/lib.sh, which sources this file.
#
#   TEST_NAME                 optional: when set, messages start "TEST_NAME: "
#   fail MESSAGE              print "[NAME: ]FAIL: MESSAGE" on stderr, exit 1
#   note MESSAGE              print "[NAME: ]MESSAGE" on stderr
#   skip MESSAGE              print MESSAGE, exit 77 (the tests' SKIP_RETURN_CODE)
#   need_root MESSAGE         skip MESSAGE unless running as root
#   check_failed MESSAGE      a failed check that does not end the test: print
#                             "[NAME: ]FAIL: MESSAGE" on stderr, count it in
#                             TEST_FAILS
#   TEST_FAILS                the number of check_failed calls so far
#   netns_test_up NETNS_SH ID  the test network ks<ID>s (scanner, $S) and
#                             ks<ID>t (target, $T) up, a temporary directory
#                             $tmp and an empty array pids; on exit the pids
#                             are killed, the network and $tmp removed

TEST_FAILS=0

fail() {
    echo "${TEST_NAME:+$TEST_NAME: }FAIL: $*" >&2
    exit 1
}

note() { echo "${TEST_NAME:+$TEST_NAME: }$*" >&2; }

skip() {
    echo "$*"
    exit 77
}

need_root() { [[ $(id -u) -eq 0 ]] || skip "$@"; }

check_failed() {
    echo "${TEST_NAME:+$TEST_NAME: }FAIL: $*" >&2
    TEST_FAILS=$((TEST_FAILS + 1))
}

netns_test_up() {
    netns_sh=$1 netns_id=$2
    S=ks${netns_id}s T=ks${netns_id}t
    tmp=$(mktemp -d)
    pids=()
    trap netns_test_down EXIT
    "$netns_sh" up "$netns_id"
}

netns_test_down() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$netns_sh" down "$netns_id" || true
    rm -rf "$tmp"
}
