#!/usr/bin/env bash
# Kill -9 at random moments during a probing scan with a store, then check
# and resume, until the scan completes: the store must pass `kubesurvey
# check` after every kill, keep every host it had committed, and end with
# exactly the hosts of the ground truth (no host lost, none duplicated:
# host keys are unique per scan). Resume must refuse changed parameters.
#   test_resume.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init resume 120 "$@"

truth=$("$SIM" up "$TEST_ID" 120 198.18.0.0/17 443,6443)
db=$WORK/survey.lmdb
args=(-b "$EMPTY" -p 443,6443 -r 4000 -c 2 -q --db "$db" --seed 99
      --connect-timeout 1000 --handshake-timeout 1000 --response-timeout 1000 198.18.0.0/17)


# An uninterrupted scan at 4000 pps takes about 33 s; kill within the first 20.
ip netns exec "$S" "$KS" scan "${args[@]}" & pid=$!
for delay in $((3 + RANDOM % 8)) $((2 + RANDOM % 6)); do
    sleep "$delay"
    kill_scan "$pid" "$db" || break
    kills=$KILLS
    note "kill $kills after ${delay}s: $(count_rows "$WORK/before.csv") hosts stored"
    # A changed parameter is refused, and changes nothing.
    if ip netns exec "$S" "$KS" scan "${args[@]}" -p 443 --resume 2>"$WORK/refuse.log"; then
        fail "resume with different ports was accepted"
    fi
    grep -q "ports differ" "$WORK/refuse.log" || fail "refusal does not name the ports: $(cat "$WORK/refuse.log")"
    # So is another module map for the same ports.
    if ip netns exec "$S" "$KS" scan "${args[@]}" --module 6443=kubelet --resume 2>"$WORK/refuse.log"; then
        fail "resume with another --module map was accepted"
    fi
    grep -qF 'modules differs from the interrupted scan'"'"'s (none, now "6443=kubelet")' "$WORK/refuse.log" ||
        fail "refusal does not name the module map: $(cat "$WORK/refuse.log")"
    # The same ports in another order are the same target space.
    ip netns exec "$S" "$KS" scan "${args[@]}" -p 6443,443 --resume & pid=$!
done
wait "$pid" || fail "the last resumed scan failed"
kills=$KILLS
[[ $kills -ge 1 ]] || fail "the scan finished before it could be killed"

"$KS" check "$db" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check failed at the end"; }
stored_pairs "$db" >"$WORK/final.csv"
# Every host committed before the last kill is still there.
missing=$(comm -23 <(tail -n +2 "$WORK/before.csv" | sort) <(tail -n +2 "$WORK/final.csv" | sort) | wc -l)
[[ $missing -eq 0 ]] || fail "$missing hosts committed before a kill are gone"
expect_same_pairs "$truth" "$WORK/final.csv" "after $kills kills and resumes"
scans=$("$KS" scans "$db" | grep -c . || true)
note "$kills kills; $(count_rows "$WORK/final.csv") hosts; 'kubesurvey scans' printed $scans lines"
