#!/usr/bin/env bash
# The opt-out list is honoured from the start and reloaded mid-scan: a
# full-speed scan (-r 0) of 198.18.0.0/16 on 40 ports runs with
# --opt-out FILE holding 198.18.100.0/24; while it sends, 198.18.200.0/24 is
# added to FILE and the scanner gets SIGHUP. Counted in the target
# namespace: 0 SYNs to 198.18.100.0/24 over the whole scan, and no SYN to
# 198.18.200.0/24 after the scan said it reloaded. Then a bad line in FILE
# and another SIGHUP: the reload fails naming FILE and the line, and the
# list in force stays. The scan completes: every target is either sent (each
# SYN arrives) or skipped as opted out, exactly, and the responders found
# are the ground truth minus what the list kept from being probed.
#   test_opt_out.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init opt_out 190 "$@"

truth=$("$SIM" up "$TEST_ID" 190)
"$SIM" add-counter "$TEST_ID" initial 198.18.100.0/24
"$SIM" add-counter "$TEST_ID" later 198.18.200.0/24
"$SIM" add-counter "$TEST_ID" neighbour 198.18.201.0/24
ports=443,6443,10000-10037 nports=40
per_subnet=$((256 * nports))

# The scanner runs as nobody and reads the file again on SIGHUP.
chmod 711 "$WORK"
mkdir -m 755 "$WORK/lists"
optout=$WORK/lists/opt-out.txt
printf '# people who asked not to be scanned\n198.18.100.0/24\n' >"$optout"
chmod 644 "$optout"

t0=$SECONDS
ks_scan --syn-only -b "$EMPTY" -p "$ports" -r 0 -c 2 -q --opt-out "$optout" \
    --metadata "$WORK/scan.json" -o "$WORK/scan.csv" 198.18.0.0/16 2>"$WORK/scan.err" &
scan=$!
pid=$(scanner_pid)

# wait_for WHAT COMMAND...: up to 30 s for COMMAND to succeed.
wait_for() {
    local what=$1 i; shift
    for i in $(seq 300); do
        "$@" && return 0
        kill -0 "$scan" 2>/dev/null || { cat "$WORK/scan.err" >&2; fail "scan ended while waiting for $what"; }
        sleep 0.1
    done
    fail "timed out waiting for $what"
}
counter_positive() { (($("$SIM" counter "$TEST_ID" "$1") > 0)); }
said() { grep -qF "$1" "$WORK/scan.err"; }

wait_for "SYNs to 198.18.200.0/24" counter_positive later
echo "198.18.200.0/24" >>"$optout"
kill -HUP "$pid"
wait_for "the reload message" said "opt-out list $optout reloaded: 2 ranges, 512 addresses"
# Frames the scanner sent before it said so may still be crossing the veth.
sleep 0.1
before=$("$SIM" counter "$TEST_ID" later)
neighbour_before=$("$SIM" counter "$TEST_ID" neighbour)
note "reloaded with $before of $per_subnet SYNs to 198.18.200.0/24 sent"

echo "198.18.300.0/24" >>"$optout"
kill -HUP "$pid"
wait_for "the failed reload message" said \
    "opt-out reload failed, the previous list stays in force: $optout:4: '198.18.300.0/24'"

wait $scan || { cat "$WORK/scan.err" >&2; fail "kubesurvey scan exited with status $?"; }
note "the scan took $((SECONDS - t0)) s"

initial=$("$SIM" counter "$TEST_ID" initial)
after=$("$SIM" counter "$TEST_ID" later)
neighbour=$("$SIM" counter "$TEST_ID" neighbour)
[[ $initial -eq 0 ]] || fail "opted-out 198.18.100.0/24 received $initial SYNs, expected 0"
[[ $after -eq $before ]] ||
    fail "198.18.200.0/24 received $((after - before)) SYNs after the reload, expected 0"
((before > 0 && before < per_subnet)) ||
    fail "the reload came at $before of $per_subnet SYNs to 198.18.200.0/24: not mid-scan"
((neighbour > neighbour_before)) ||
    fail "no SYN to 198.18.201.0/24 after the reload ($neighbour_before, $neighbour): the scan did not go on"
[[ $neighbour -eq $per_subnet ]] || fail "198.18.201.0/24 received $neighbour SYNs, expected $per_subnet"
note "after the reload: 0 SYNs to 198.18.200.0/24 ($before before it), 0 to 198.18.100.0/24;" \
    "198.18.201.0/24: $neighbour_before then $neighbour"

total=$((65536 * nports))
sent=$(metadata_number "$WORK/scan.json" sent)
opted_out=$(metadata_number "$WORK/scan.json" opted_out)
targets=$(metadata_number "$WORK/scan.json" targets)
syn_in=$("$SIM" counter "$TEST_ID" syn_in)
[[ $targets -eq $total ]] || fail "metadata targets=$targets, expected $total"
[[ $opted_out -eq $((per_subnet + per_subnet - before)) ]] ||
    fail "opted_out=$opted_out, expected $per_subnet + $((per_subnet - before))"
[[ $((sent + opted_out)) -eq $total ]] || fail "sent $sent + opted out $opted_out != $total targets"
[[ $syn_in -eq $sent ]] || fail "target saw $syn_in SYNs, scanner sent $sent"
note "$total targets: $sent sent (all arrived), $opted_out skipped as opted out"
# The scan record names the list as loaded at the start (SHA-256 of its
# normalized ranges, first and last address big-endian: 198.18.100.0/24)
# and the blocklist's size (the empty file: 0 addresses).
digest=$(python3 -c 'import hashlib, struct; print(hashlib.sha256(struct.pack(">II", 0xC6126400, 0xC61264FF)).hexdigest())')
grep -q "\"opt_out_digest\": \"$digest\"" "$WORK/scan.json" || fail "scan record: opt_out_digest is not $digest"
[[ $(metadata_number "$WORK/scan.json" blocklist_addresses) -eq 0 ]] || fail "scan record: blocklist_addresses is not 0"

# Responders: the ground truth minus 198.18.100.0/24 and minus the part of
# 198.18.200.0/24 the reload kept from being probed.
grep -vE '^198\.18\.(100|200)\.' "$truth" >"$WORK/outside.csv"
grep -vE '^198\.18\.(100|200)\.' "$WORK/scan.csv" >"$WORK/found_outside.csv"
expect_same_pairs "$WORK/outside.csv" "$WORK/found_outside.csv" "responders outside the opted-out subnets"
in_initial=$(grep -c '^198\.18\.100\.' "$WORK/scan.csv" || true)
[[ $in_initial -eq 0 ]] || fail "$in_initial responders reported in opted-out 198.18.100.0/24"
# (grep finds nothing when no responder of 198.18.200.0/24 came before the
# reload: not an error)
extra=$({ grep -E '^198\.18\.200\.' "$WORK/scan.csv" || true; } | LC_ALL=C sort |
    LC_ALL=C comm -23 - <(LC_ALL=C sort "$truth") | wc -l)
[[ $extra -eq 0 ]] || fail "$extra responders in 198.18.200.0/24 are not in the ground truth"
