#!/usr/bin/env bash
# Least privilege, observed from outside while a scan runs:
#  1. As root (default --user nobody), every thread of a probing scan with a
#     store runs as nobody:nogroup with no supplementary group, no
#     capability in any set, no_new_privs; and the store it opened before the
#     switch holds exactly the ground truth.
#  2. As nobody, with a copy of the binary carrying only the file
#     capabilities cap_net_raw,cap_net_admin+ep, a scan finds exactly the
#     ground truth, and its threads have no capability left either.
#   test_privileges.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init privileges 180 "$@"
command -v setcap >/dev/null || fail "setcap not found (package libcap2-bin)"
command -v setpriv >/dev/null || fail "setpriv not found (package util-linux)"

truth=$("$SIM" up "$TEST_ID" 180)
nobody_uid=$(id -u nobody) nobody_gid=$(id -g nobody)

# check_threads PID MIN_THREADS: every thread's IDs and capability sets as
# an unprivileged scan must have them; prints one summary line.
check_threads() {
    local pid=$1 min=$2 i n task status
    # Threads appear as the stages start: wait for the expected number.
    for i in $(seq 100); do
        n=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
        ((n >= min)) && break
        sleep 0.1
    done
    ((n >= min)) || fail "scanner $pid has $n threads, expected at least $min"
    local want_ids="$nobody_uid	$nobody_uid	$nobody_uid	$nobody_uid"
    local want_gids="$nobody_gid	$nobody_gid	$nobody_gid	$nobody_gid"
    for task in /proc/"$pid"/task/*; do
        status=$(cat "$task/status" 2>/dev/null) || continue # the thread ended
        local name; name=$(awk '/^Name:/ { print $2 }' <<<"$status")
        field() { awk -v k="$1:" '$1 == k { sub(/^[^:]*:[ \t]*/, ""); print; exit }' <<<"$status"; }
        [[ "$(field Uid)" == "$want_ids" ]] || fail "thread ${task##*/} ($name): Uid '$(field Uid)', expected $want_ids"
        [[ "$(field Gid)" == "$want_gids" ]] || fail "thread ${task##*/} ($name): Gid '$(field Gid)'"
        [[ -z "$(field Groups)" ]] || fail "thread ${task##*/} ($name): supplementary groups '$(field Groups)'"
        local set
        for set in CapInh CapPrm CapEff CapAmb; do
            [[ "$(field $set)" == 0000000000000000 ]] ||
                fail "thread ${task##*/} ($name): $set $(field $set), expected none"
        done
        [[ "$(field NoNewPrivs)" == 1 ]] || fail "thread ${task##*/} ($name): NoNewPrivs $(field NoNewPrivs)"
        [[ -z "${want_bnd:-}" || "$(field CapBnd)" == "$want_bnd" ]] ||
            fail "thread ${task##*/} ($name): CapBnd $(field CapBnd), expected $want_bnd"
    done
    note "$n threads: Uid/Gid $nobody_uid/$nobody_gid, no groups, CapInh/CapPrm/CapEff/CapAmb 0, NoNewPrivs 1${want_bnd:+, CapBnd $want_bnd}"
}

# An unknown --user is refused before anything is opened.
rc=0
ks_scan --syn-only -b "$EMPTY" -p 443 -q --user no-such-user-ks 198.18.0.0/24 \
    >/dev/null 2>"$WORK/user.err" || rc=$?
[[ $rc -eq 1 ]] && grep -qF "user 'no-such-user-ks': no such user" "$WORK/user.err" ||
    fail "--user no-such-user-ks: status $rc, stderr '$(cat "$WORK/user.err")'"
[[ $("$SIM" counter "$TEST_ID" syn_in) -eq 0 ]] || fail "a scan with an unknown --user sent SYNs"

# 1. As root: a probing scan into a store in a directory only root may
# enter (the store is opened before the switch). 131072 probes at 20000/s.
db=$WORK/root.lmdb
ks_scan -b "$EMPTY" -p 443,6443 -r 20000 -c 2 -q --sender-threads 2 \
    --db "$db" --metadata "$WORK/root.json" 198.18.0.0/16 2>"$WORK/root.err" &
scan=$!
pid=$(scanner_pid)
# main + scan + 2 senders + receiver + feeder + writer + probe workers
want_bnd=0000000000000000 check_threads "$pid" 8
wait $scan || { cat "$WORK/root.err" >&2; fail "root scan exited with status $?"; }
stored_pairs "$db" >"$WORK/stored.csv"
expect_same_pairs "$truth" "$WORK/stored.csv" "store written as nobody"
grep -q '"state": "done"' "$WORK/root.json" || fail "metadata file not written as done"
# ... and leaves the store at its minimal size although nobody may not
# create files in that directory (the rewrite was prepared before the
# switch, storage/rewrite.c): at most 1.25x its pages in use, no copy left,
# no note, no helper process left behind.
! grep -q 'shrunk' "$WORK/root.err" || fail "root scan: $(grep shrunk "$WORK/root.err")"
[[ ! -e "$db.compact-tmp" ]] || fail "root scan left $db.compact-tmp"
"$KS" check "$db" >"$WORK/root-check.log" 2>&1 || { cat "$WORK/root-check.log" >&2; fail "check of the root scan's store"; }
ratio=$(sed -n 's/^file:.*use \([0-9.]*\)x.*/\1/p' "$WORK/root-check.log")
[[ -n $ratio ]] && awk -v r="$ratio" 'BEGIN { exit !(r <= 1.25) }' ||
    fail "root scan into a root-only directory: file ${ratio:-?}x its pages in use (> 1.25): $(grep '^file:' "$WORK/root-check.log")"
pgrep -f "kubesurvey scan.*$db" >/dev/null && fail "a process of the root scan is still running"
note "root scan store: file ${ratio}x its pages in use"

# 2. Without root: nobody runs a copy with only the two file capabilities.
bin=$WORK/bin
mkdir -p "$bin" "$WORK/out"
chmod 711 "$WORK"
cp "$KS" "$bin/kubesurvey"
chmod 755 "$bin" "$bin/kubesurvey"
setcap cap_net_raw,cap_net_admin+ep "$bin/kubesurvey"
chown nobody "$WORK/out"
[[ "$(getcap "$bin/kubesurvey")" == *cap_net_admin,cap_net_raw=ep* ]] ||
    fail "setcap did not take: $(getcap "$bin/kubesurvey")"
timeout -k 5 90 ip netns exec "$S" setpriv --reuid="$nobody_uid" --regid="$nobody_gid" \
    --clear-groups "$bin/kubesurvey" scan --syn-only -b "$EMPTY" -p 443,6443 -r 20000 -c 2 -q \
    -o "$WORK/out/scan.csv" 198.18.0.0/16 2>"$WORK/nonroot.err" &
scan=$!
pid=$(scanner_pid)
check_threads "$pid" 4 # main + scan + sender + receiver (+ feeder)
wait $scan || { cat "$WORK/nonroot.err" >&2; fail "scan as nobody with file capabilities exited with status $?"; }
expect_same_pairs "$truth" "$WORK/out/scan.csv" "scan as nobody with file capabilities"
