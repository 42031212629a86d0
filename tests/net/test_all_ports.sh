#!/usr/bin/env bash
# Hosts that answer on every port (engine.h, port_sample). In realistic mode
# (tests/net/impair.c, 20 ms each way) the forwarder forges SYN-ACKs on
# every port of four addresses (-A); the probing scan of 198.18.0.0/22 on
# 443 and 6443 must
#   - store exactly the ground truth's endpoints plus the four hosts' eight;
#   - flag all_ports_open on exactly those eight records, no true endpoint;
#   - count 4 sample SYNs per responsive host, 16 sample replies, 4 hosts
#     flagged, none skipped;
#   - give stats all_ports_open 8 (the hosts never complete TLS, so none is
#     Kubernetes: k8s 0, all_ports_open_excluded 0); export and show say it;
# and with --no-port-sample flag nothing and send no sample SYN.
#   test_all_ports.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init all_ports 230 "$@"

cidr=198.18.0.0/22
fake="198.18.0.10 198.18.1.20 198.18.2.30 198.18.3.40"
printf '%s\n' $fake >"$WORK/allopen.txt"
delay="delay=20,jitter=5"
export KS_IMPAIR="-s 12 -a $delay -b $delay -A $WORK/allopen.txt"
truth=$("$SIM" up "$TEST_ID" 230 $cidr 443,6443)

# The expected endpoints: the truth (whose pairs at a fake address the
# forwarder hides: it answers for them) plus every port of the fake hosts.
{
    echo saddr,sport
    tail -n +2 "$truth" | grep -vE "^($(echo $fake | sed 's/ /|/g; s/\./\\./g')),"
    for a in $fake; do echo "$a,443"; echo "$a,6443"; done
} >"$WORK/expected.csv"
flagged_expected=$(for a in $fake; do echo "$a,443"; echo "$a,6443"; done | LC_ALL=C sort)
hosts=$(tail -n +2 "$WORK/expected.csv" | cut -d, -f1 | sort -u | wc -l)
note "$(count_rows "$WORK/expected.csv") endpoints on $hosts hosts, 4 of them answering every port"

install -d -o nobody "$WORK/store"
db=$WORK/store/survey.lmdb
probe_opts="--connect-timeout 1000 --handshake-timeout 1000 --response-timeout 1000"
ks_scan -b "$EMPTY" -p 443,6443 -r 5000 -c 2 -q --seed 3 --db "$db" $probe_opts \
    --metadata "$WORK/scan.json" -o "$WORK/out.jsonl" $cidr || fail "scan failed"

# Records (addr,port,all_ports_open) from the JSON Lines output.
records() {
    python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("%s,%d,%s" % (r["addr"], r["port"], str(r["all_ports_open"]).lower()))' "$1"
}
records "$WORK/out.jsonl" >"$WORK/records.txt"
{ echo saddr,sport; cut -d, -f1,2 "$WORK/records.txt"; } >"$WORK/found.csv"
expect_same_pairs "$WORK/expected.csv" "$WORK/found.csv" "probed endpoints"
got=$(awk -F, '$3 == "true" { print $1 "," $2 }' "$WORK/records.txt" | LC_ALL=C sort)
[[ "$got" == "$flagged_expected" ]] ||
    fail "records flagged all_ports_open: $(echo $got), expected $(echo $flagged_expected)"
note "all_ports_open on exactly the 8 endpoints of the fake hosts"

counter() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counters"][sys.argv[2]])' \
        "$WORK/$1.json" "$2"
}
for c in sample_sent sample_replies sample_skipped all_ports_open send_errors; do
    eval "$c=\$(counter scan $c)"
done
note "counters: sample_sent $sample_sent, sample_replies $sample_replies," \
    "sample_skipped $sample_skipped, all_ports_open $all_ports_open, sent $(counter scan sent)"
[[ $sample_sent -eq $((4 * hosts)) && $sample_skipped -eq 0 && $send_errors -eq 0 ]] ||
    fail "sample SYNs: $sample_sent sent (expected 4 x $hosts hosts), $sample_skipped hosts skipped, $send_errors send errors"
[[ $sample_replies -eq 16 && $all_ports_open -eq 4 ]] ||
    fail "sample replies $sample_replies (expected 16), hosts flagged $all_ports_open (expected 4)"
[[ $(counter scan sent) -eq 2048 ]] || fail "sent $(counter scan sent) target SYNs, expected 2048 (samples are counted apart)"

"$KS" stats "$db" --json >"$WORK/stats.json" || fail "kubesurvey stats failed"
python3 - "$WORK/stats.json" "$(count_rows "$WORK/expected.csv")" <<'EOF' || fail "stats figures wrong"
import json, sys
s = json.load(open(sys.argv[1]))
want = {"syn_open": int(sys.argv[2]), "all_ports_open": 8, "all_ports_open_excluded": 0, "k8s": 0}
got = {k: s.get(k) for k in want}
if got != want:
    sys.exit(f"stats {got}, expected {want}")
EOF
"$KS" stats "$db" >"$WORK/stats.txt" || fail "kubesurvey stats (text) failed"
grep -qE '^  host answers every port +8 ' "$WORK/stats.txt" ||
    fail "stats text lacks the all_ports_open line: $(cat "$WORK/stats.txt")"
"$KS" export "$db" --format csv -o "$WORK/export.csv" || fail "export failed"
flagged_csv=$(python3 -c 'import csv, sys
print(sum(r["all_ports_open"] == "true" for r in csv.DictReader(open(sys.argv[1]))))' \
    "$WORK/export.csv") || fail "CSV export has no all_ports_open column"
[[ $flagged_csv -eq 8 ]] || fail "CSV export: all_ports_open true $flagged_csv times, expected 8"
"$KS" show "$db" 198.18.2.30 >"$WORK/show.txt" || fail "show failed"
[[ $(grep -c 'host answers on every port' "$WORK/show.txt") -eq 2 ]] ||
    fail "show 198.18.2.30 does not say the host answers on every port: $(head -3 "$WORK/show.txt")"
note "stats all_ports_open 8, k8s 0; export and show carry the flag"

# --no-port-sample: the same endpoints, none flagged, no sample SYN.
"$SIM" impair "$TEST_ID" "-s 13 -a $delay -b $delay -A $WORK/allopen.txt"
ks_scan -b "$EMPTY" -p 443,6443 -r 5000 -c 2 -q --seed 3 --no-db $probe_opts --no-port-sample \
    --metadata "$WORK/off.json" -o "$WORK/off.jsonl" $cidr || fail "scan with --no-port-sample failed"
records "$WORK/off.jsonl" >"$WORK/off.txt"
{ echo saddr,sport; cut -d, -f1,2 "$WORK/off.txt"; } >"$WORK/off.csv"
expect_same_pairs "$WORK/expected.csv" "$WORK/off.csv" "--no-port-sample endpoints"
[[ $(grep -c ',true$' "$WORK/off.txt") -eq 0 ]] || fail "--no-port-sample flagged records"
[[ $(counter off sample_sent) -eq 0 && $(counter off all_ports_open) -eq 0 ]] ||
    fail "--no-port-sample sent $(counter off sample_sent) sample SYNs"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["port_sample"] is not False)' \
    "$WORK/off.json" || fail "--no-port-sample: metadata port_sample is not false"
note "--no-port-sample: no sample SYN, nothing flagged"
