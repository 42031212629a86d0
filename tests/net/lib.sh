# lib.sh - shared by the network tests; source it, then call net_test_init.
# It sources tests/lib.sh (fail, note, skip, ... of every test script).
#
#   net_test_init NAME ID KUBESURVEY BUILD_DIR
#       ID is offset by $KS_NET_ID_OFFSET (default 0) so that two checkouts can
#       run the network tests at the same time (e.g. KS_NET_ID_OFFSET=100).
#       sets KS (scanner binary), SIM (sim.sh), WORK (temp dir), EMPTY (an
#       empty blocklist file), S/T (namespace names) and installs an EXIT
#       trap that takes the network down, removes WORK and fails the test
#       if a ks<ID> namespace survived.
#   ks_scan ARGS...           run the scanner in ks<ID>s, bounded by a timeout
#   expect_same_pairs EXPECTED ACTUAL WHAT
#                             both are CSV files with a one-line header; fail
#                             with the number and examples of missing/extra
#                             rows unless the sets are equal and ACTUAL has no
#                             duplicate rows
#   count_rows FILE           data rows (lines after the header)
#   scanner_pid               pid of the one process in ks<ID>s (a scan started
#                             in the background with ks_scan), waiting up to 10 s

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIM=$here/sim.sh
. "$here/../lib.sh"

net_cleanup() {
    local rc=$?
    trap - EXIT
    "$SIM" down "$TEST_ID" >/dev/null 2>&1 || true
    [[ -n "${WORK:-}" && -d "$WORK" ]] && rm -rf "$WORK"
    if ip netns list | grep -qE "^ks${TEST_ID}[stm]( |$)"; then
        echo "$TEST_NAME: FAIL: namespace ks${TEST_ID}s/t still exists after cleanup" >&2
        rc=1
    fi
    [[ $rc -eq 0 ]] && echo "$TEST_NAME: PASS" >&2
    exit $rc
}

net_test_init() {
    TEST_NAME=$1 TEST_ID=$(($2 + ${KS_NET_ID_OFFSET:-0})) KS=$3
    ((TEST_ID >= 0 && TEST_ID <= 999)) || fail "namespace ID $TEST_ID out of 0-999 (KS_NET_ID_OFFSET?)"
    export KS_SIM_OWNER=$$
    # Another checkout may run the same test (same ID) right now: wait for it
    # rather than collide. The kernel drops the lock when this process ends,
    # even on SIGKILL; sim.sh keeps fd 9 away from the long-lived listener.
    exec 9>"/run/ks-net-$TEST_ID.lock"
    flock -w "${KS_NET_LOCK_WAIT:-300}" 9 ||
        fail "namespace ID $TEST_ID stayed busy for ${KS_NET_LOCK_WAIT:-300} s (another run of this test?)"
    export KS_BUILD=$4
    [[ $(id -u) -eq 0 ]] || fail "needs root (creates network namespaces)"
    [[ -x "$KS" ]] || fail "scanner binary '$KS' not found or not executable"
    S=ks${TEST_ID}s T=ks${TEST_ID}t
    WORK=$(mktemp -d "/tmp/ks${TEST_ID}-test.XXXXXX")
    export KS_SIM_DIR=$WORK/sim
    EMPTY=$WORK/empty-blocklist
    : >"$EMPTY"
    trap net_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Every scan gets a hard time bound so a hung scanner fails the test
# instead of hanging ctest.
ks_scan() {
    timeout -k 5 "${KS_SCAN_TIMEOUT:-90}" ip netns exec "$S" "$KS" scan "$@"
}

count_rows() { tail -n +2 "$1" | wc -l; }

scanner_pid() {
    local i pids
    for i in $(seq 100); do
        pids=$(ip netns pids "$S")
        [[ -n "$pids" ]] && { echo "$pids"; return; }
        sleep 0.1
    done
    fail "no scanner process appeared in $S"
}

expect_same_pairs() {
    local expected=$1 actual=$2 what=$3
    local want_header got_header
    want_header=$(head -1 "$expected"); got_header=$(head -1 "$actual")
    [[ "$got_header" == "$want_header" ]] ||
        fail "$what: header is '$got_header', expected '$want_header'"
    local e=$WORK/expected.sorted a=$WORK/actual.sorted
    tail -n +2 "$expected" | LC_ALL=C sort >"$e"
    tail -n +2 "$actual" | LC_ALL=C sort >"$a"
    local dups missing extra
    dups=$(uniq -d "$a" | wc -l)
    missing=$(LC_ALL=C comm -23 "$e" "$a" | wc -l)
    extra=$(LC_ALL=C comm -13 "$e" "$a" | wc -l)
    if [[ $dups -ne 0 || $missing -ne 0 || $extra -ne 0 ]]; then
        echo "$TEST_NAME: $what: expected $(wc -l <"$e") rows, got $(wc -l <"$a");" \
            "missing $missing, extra $extra, duplicate $dups" >&2
        LC_ALL=C comm -23 "$e" "$a" | head -5 | sed 's/^/  missing: /' >&2
        LC_ALL=C comm -13 "$e" "$a" | head -5 | sed 's/^/  extra:   /' >&2
        uniq -d "$a" | head -5 | sed 's/^/  dup:     /' >&2
        fail "$what: result set differs from the expected set"
    fi
    note "$what: exactly the expected $(wc -l <"$e") rows"
}

# A JSON number field from the scanner's --metadata file, without jq (a
# fresh Debian may lack it): the first "name": N in the file.
metadata_number() {
    grep -oE "\"$2\"[[:space:]]*:[[:space:]]*[0-9]+" "$1" | head -1 | grep -oE '[0-9]+$'
}

# records_tsv JSONL [NODES]: each JSON Lines record of the apiserver module
# (records without a module: older builds) as a line of addr port tls k8s
# provider minor git_version http_status leaf-sha256 (tab-separated, the
# columns of k8s_population's expected.tsv, then the leaf's hash), sorted.
# Records of the other modules go to NODES (unsorted) as addr port module
# tls finding etcd_server etcd_cluster, or are dropped without NODES.
# Fields of the top level only: strings in the body are escaped, so
# "name": never matches inside it.
records_tsv() {
    awk -v nodes="${2:-}" '
    function field(name,   re, v) {
        re = "\"" name "\":(\"[^\"]*\"|[^,}]*)"
        if (!match($0, re)) return "?"
        v = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
        if (v == "null") return "-"
        gsub(/^"|"$/, "", v)
        return v
    }
    field("module") != "apiserver" && field("module") != "?" {
        if (nodes != "")
            printf "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", field("addr"), field("port"), field("module"),
                field("tls_done") == "true", field("finding"), field("etcd_server"),
                field("etcd_cluster") > nodes
        next
    }
    {
        minor = field("version_minor")
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", field("addr"), field("port"),
            (field("tls_done") == "true" ? 1 : 0), (field("k8s") == "true" ? "yes" : "no"),
            field("provider"), (minor == "-" ? "-" : field("version_major") "." minor),
            field("git_version"), (field("http_status") == "-" ? 0 : field("http_status")),
            field("sha256")
    }' "$1" | LC_ALL=C sort
}

# pop_cleanup: the EXIT trap of a test that brings up k8s_population.sh
# ($POP): stop nginx and remove the population before net_cleanup (which
# takes the namespaces down and checks that none survived); keep the exit
# status (errexit off: `(exit $rc)` must hand $rc to net_cleanup, not end
# the trap).
pop_cleanup() {
    local rc=$?
    set +e
    "$POP" down "$TEST_ID" >/dev/null 2>&1 || true
    (exit $rc)
    net_cleanup
}

# kill_scan PID DB: SIGKILL the scan PID unless it has ended (then status
# 1), run `kubesurvey check` on DB (failing, naming the kill, if it finds
# damage) and write its pairs to $WORK/before.csv. KILLS counts the kills.
KILLS=0
kill_scan() {
    kill -0 "$1" 2>/dev/null || return 1
    kill -9 "$1"; wait "$1" 2>/dev/null || true
    KILLS=$((KILLS + 1))
    "$KS" check "$2" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check failed after kill $KILLS"; }
    stored_pairs "$2" >"$WORK/before.csv"
}

# stored_pairs DB: CSV (saddr,sport) of every host record of the store, read
# with mdb_dump rather than kubesurvey, from the address index (one entry per
# host record, `kubesurvey check` verifies). Its keys are scan id (4 bytes),
# family (1: 4 or 6), address (4 or 16), port (2), big-endian
# (docs/storage.md); IPv6 is printed in RFC 5952 form, written out here.
stored_pairs() {
    local db=$1
    echo "saddr,sport"
    mdb_dump -n -s addrs "$db" | awk '
        function hex(s,   v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
        # RFC 5952: groups without leading zeros, the longest run of two or
        # more zero groups (the first of equals) as "::"
        function ipv6(h,   g, i, best, len, run, at, out) {
            for (i = 0; i < 8; i++) g[i] = sprintf("%x", hex(substr(h, 4 * i + 1, 4)))
            best = -1; len = 1; run = 0
            for (i = 0; i <= 8; i++) {
                if (i < 8 && g[i] == "0") { if (!run) at = i; run++; continue }
                if (run > len) { best = at; len = run }
                run = 0
            }
            out = ""
            for (i = 0; i < 8; i++) {
                if (i == best) { out = out "::"; i += len - 1; continue }
                out = out (out == "" || out ~ /::$/ ? "" : ":") g[i]
            }
            return out
        }
        /^HEADER=END/ { data = 1; next }
        /^DATA=END/ { data = 0 }
        data && ++n % 2 == 1 {
            k = $1
            if (substr(k, 9, 2) == "06")
                printf "%s,%d\n", ipv6(substr(k, 11, 32)), hex(substr(k, 43, 4))
            else
                printf "%d.%d.%d.%d,%d\n", hex(substr(k, 11, 2)), hex(substr(k, 13, 2)),
                    hex(substr(k, 15, 2)), hex(substr(k, 17, 2)), hex(substr(k, 19, 4))
        }'
}
