#!/usr/bin/env bash
# IPv6 end to end on the Kubernetes population (issue 20): the population
# of k8s_population.sh with a fifth of its addresses in 2001:2::/96 (API
# servers of every provider model, kubelet-like and other services, the
# same draws as the IPv4 population), and its hitlist (live entries, silent
# and resetting dead ones). One probing scan of the IPv4 /16 and the
# hitlist into a store:
#   - the store (read with mdb_dump) holds exactly the population's
#     endpoints of both families, and `check` passes;
#   - every record says what expected.tsv says (TLS, verdict, provider,
#     minor, gitVersion, HTTP status), IPv6 in RFC 5952 text;
#   - `stats --json` by_family equals the truth of each family (answered,
#     TLS, API servers, with certificate markers, with a version), and the
#     two families add up to the top-level figures;
#   - `show` finds an IPv6 endpoint by [address]:port.
# Then the same scan killed with SIGKILL and resumed until done: check
# passes after every kill, nothing committed is lost, and the store ends
# with exactly the population again.
#   test_k8s_ipv6.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init k8s_ipv6 520 "$@"
POP=$here/k8s_population.sh
export KS_POP_DIR=$WORK/pop
trap pop_cleanup EXIT

expected=$("$POP" up "$TEST_ID" 2021 600 0 200) # NODES 0: the node surfaces are IPv4 only
hitlist=$KS_POP_DIR/hitlist.txt
{ echo "saddr,sport"; tail -n +2 "$expected" | cut -f1,2 | tr '\t' ,; } >"$WORK/population.csv"
v6=$(grep -c ':' "$WORK/population.csv" || true)
k8s6=$(tail -n +2 "$expected" | awk -F'\t' '$1 ~ /:/ && $4 == "yes"' | wc -l)
providers6=$(tail -n +2 "$expected" | awk -F'\t' '$1 ~ /:/ && $4 == "yes" { print $5 }' | sort -u | wc -l)
note "$(($(wc -l <"$expected") - 1)) endpoints, $v6 of them IPv6 ($k8s6 API servers of $providers6 providers);" \
    "hitlist $(grep -vc '^#' "$hitlist") entries"
((v6 > 50 && k8s6 > 20 && providers6 >= 5)) || fail "the IPv6 part of the population is too small to test"

# ------------------------------------------------------------- one scan
db=$WORK/survey.lmdb
args=(-b "$EMPTY" -p 443,6443 -c 2 -q --db "$db" --seed 20 --hitlist "$hitlist" 198.18.0.0/16)
ks_scan "${args[@]}" -r 50000 --metadata "$WORK/scan.json" -o "$WORK/out.jsonl" ||
    fail "the scan of the /16 and the hitlist failed"
kill -0 "$(cat "$KS_POP_DIR/nginx.pid" 2>/dev/null)" 2>/dev/null || fail "the population's nginx is gone"
"$KS" check "$db" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; fail "kubesurvey check failed"; }
stored_pairs "$db" >"$WORK/stored.csv"
expect_same_pairs "$WORK/population.csv" "$WORK/stored.csv" "store endpoints (both families)"

# every record as expected.tsv says (the fields of test_population_stats.sh)
records_tsv "$WORK/out.jsonl" | cut -f1-8 >"$WORK/got8.tsv"
tail -n +2 "$expected" | cut -f1-8 | LC_ALL=C sort >"$WORK/want8.tsv"
if ! cmp -s "$WORK/want8.tsv" "$WORK/got8.tsv"; then
    diff "$WORK/want8.tsv" "$WORK/got8.tsv" | head -20 >&2
    fail "records differ from expected.tsv"
fi
note "every record of both families as expected"

# stats by family against the truth
"$KS" stats --json "$db" >"$WORK/stats.json" || fail "stats failed"
truth_family() { # ipv4|ipv6 -> "syn_open tls k8s k8s_by_cert version_public"
    tail -n +2 "$expected" | awk -F'\t' -v fam="$1" '
        (fam == "ipv6") == ($1 ~ /:/) { n++; tls += $3; if ($4 == "yes") { k++; cert += $10; if ($7 != "-") v++ } }
        END { printf "%d %d %d %d %d\n", n, tls, k, cert, v }'
}
got_family() {
    python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
f = o["by_family"][sys.argv[2]]
print(" ".join(str(f[k]) for k in ("syn_open", "tls", "k8s", "k8s_by_cert", "version_public")))
' "$WORK/stats.json" "$1"
}
for fam in ipv4 ipv6; do
    want=$(truth_family "$fam") got=$(got_family "$fam")
    [[ "$got" == "$want" ]] || fail "by_family.$fam (syn_open tls k8s k8s_by_cert version_public): got $got, want $want"
    note "by_family.$fam: $got"
done
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
for k in ("syn_open", "tls", "k8s", "version_public", "unsupported", "provider_unsupported"):
    total = o["by_family"]["ipv4"][k] + o["by_family"]["ipv6"][k]
    if total != o[k]:
        sys.exit(f"by_family {k}: {total} != {o[k]}")
' "$WORK/stats.json" || fail "the families do not add up to the top-level figures"
one6=$(tail -n +2 "$expected" | awk -F'\t' '$1 ~ /:/ && $4 == "yes" { print $1, $2; exit }')
"$KS" show "$db" "[${one6% *}]:${one6#* }" >"$WORK/show.txt" || fail "show [${one6% *}]:${one6#* }"
grep -qF "[${one6% *}]:${one6#* } (scan 1)" "$WORK/show.txt" || fail "show printed: $(head -3 "$WORK/show.txt")"

# ------------------------------------------------- kill -9 and resume
db=$WORK/resume.lmdb
args=(-b "$EMPTY" -p 443,6443 -c 2 -q --db "$db" --seed 21 --hitlist "$hitlist"
      --connect-timeout 1000 --handshake-timeout 1000 --response-timeout 1000 198.18.0.0/16)
: >"$WORK/before.csv"
ip netns exec "$S" "$KS" scan "${args[@]}" -r 5000 & pid=$!
for delay in $((4 + RANDOM % 8)) $((3 + RANDOM % 6)); do
    sleep "$delay"
    kill_scan "$pid" "$db" || break
    note "kill $KILLS after ${delay}s: $(count_rows "$WORK/before.csv") hosts stored" \
        "($(grep -c ':' "$WORK/before.csv" || true) IPv6)"
    ip netns exec "$S" "$KS" scan "${args[@]}" -r 5000 --resume & pid=$!
done
wait "$pid" || fail "the last resumed scan failed"
kills=$KILLS
((kills >= 1)) || fail "the scan finished before it could be killed"
"$KS" check "$db" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check failed at the end"; }
stored_pairs "$db" >"$WORK/final.csv"
missing=$(comm -23 <(tail -n +2 "$WORK/before.csv" | sort) <(tail -n +2 "$WORK/final.csv" | sort) | wc -l)
((missing == 0)) || fail "$missing hosts committed before a kill are gone"
expect_same_pairs "$WORK/population.csv" "$WORK/final.csv" "after $kills kills and resumes"
note "PASS: $kills kills, $(count_rows "$WORK/final.csv") hosts ($v6 IPv6)"
