#!/usr/bin/env bash
# End-to-end statistics on the Kubernetes population (k8s_population.sh):
# bring it up, scan 198.18.0.0/16 on 443, 6443, 10250, 10255 and 2379 with
# the whole pipeline into a store, then check, exactly:
#   - the population model is deterministic per seed, differs across seeds and
#     writes exactly COUNT endpoints and NODES node endpoints; bad arguments
#     exit 2 naming the value;
#   - the target answered SYN-ACK from exactly the population (nft set);
#   - the store holds exactly the population's endpoints (read with mdb_dump,
#     independently of kubesurvey) and passes `kubesurvey check`;
#   - every API-server-port record says what expected.tsv says (TLS, verdict,
#     provider, minor, gitVersion, HTTP status), and endpoints share a leaf
#     certificate exactly when they share a certificate id; every node
#     record says what surfaces.tsv says (module, TLS, finding, etcd
#     versions);
#   - `stats --json` surfaces equal the oracle's (tests/tools/stats_oracle.py)
#     over surfaces.tsv, each day below;
#   - `kubesurvey stats --json` equals the figures
#     computed here with awk from expected.tsv and the upstream and provider
#     end dates (k8s-facts.md §2.2-2.6), for 2021-06-10, 2021-06-19 (the day
#     after 1.18's end of life), 2021-09-28 (after EKS 1.16's), 2022-08-01
#     (after AKS 1.21's) and the scan's own date.
#   test_population_stats.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init population_stats 510 "$@"
POP=$here/k8s_population.sh
export KS_POP_DIR=$WORK/pop
SEED=2021
trap pop_cleanup EXIT

# ---------------------------------------------------------------- the model
for s in $SEED $SEED 7; do
    d=$WORK/model-$s-$RANDOM
    mkdir -p "$d/bodies"
    LC_ALL=C awk -v seed="$s" -v count=1500 -v out="$d" -f "$here/k8s_population.awk"
    echo "$d"
done >"$WORK/models"
mapfile -t models <"$WORK/models"
for f in expected.tsv surfaces.tsv leaf.jobs ca.jobs population.nft; do
    cmp -s "${models[0]}/$f" "${models[1]}/$f" || fail "seed $SEED twice gives different $f"
done
cmp -s "${models[0]}/expected.tsv" "${models[2]}/expected.tsv" &&
    fail "seeds $SEED and 7 give the same population"
[[ $(($(wc -l <"${models[0]}/expected.tsv") - 1)) == 1500 ]] || fail "model did not write 1500 endpoints"
# Exactly COUNT endpoints for small counts too (the last cluster is cut),
# each (address, port) once, all in 198.18.0.0/16 on 443 or 6443.
for n in 1 2 3 17; do
    d=$WORK/model-count-$n
    mkdir -p "$d/bodies"
    LC_ALL=C awk -v seed=5 -v count="$n" -v out="$d" -f "$here/k8s_population.awk"
    got=$(tail -n +2 "$d/expected.tsv" | cut -f1,2 | sort -u |
        awk -F'\t' '$1 ~ /^198\.18\.[0-9]+\.[0-9]+$/ && ($2 == 443 || $2 == 6443)' | wc -l)
    [[ $got == "$n" && $(($(wc -l <"$d/expected.tsv") - 1)) == "$n" ]] ||
        fail "count $n: $got distinct valid endpoints"
done
# Exactly NODES node endpoints (default COUNT/10), on 10250, 10255 or 2379,
# none an API-server-port endpoint; each module and finding present.
[[ $(($(wc -l <"${models[0]}/surfaces.tsv") - 1)) == 150 ]] || fail "model did not write 150 node endpoints"
for n in 0 1 40; do
    d=$WORK/model-nodes-$n
    mkdir -p "$d/bodies"
    LC_ALL=C awk -v seed=5 -v count=17 -v nodes="$n" -v etcd_real=3.4.23 -v out="$d" -f "$here/k8s_population.awk"
    got=$( (tail -n +2 "$d/expected.tsv" | cut -f1,2; tail -n +2 "$d/surfaces.tsv" | cut -f1,2) | sort -u |
        awk -F'\t' '$1 ~ /^198\.18\.[0-9]+\.[0-9]+$/' | wc -l)
    [[ $got == $((17 + n)) && $(($(wc -l <"$d/surfaces.tsv") - 1)) == "$n" ]] ||
        fail "nodes $n: $got distinct valid endpoints of 17 + $n"
    tail -n +2 "$d/surfaces.tsv" | awk -F'\t' '!($2 == 10250 && $3 == "kubelet" || $2 == 10255 && $3 == "kubelet-readonly" ||
        $2 == 2379 && $3 == "etcd") { bad = 1 } END { exit bad }' || fail "nodes $n: a port with another module"
done
findings=$(tail -n +2 "${models[0]}/surfaces.tsv" | cut -f3,5 | sort -u | paste -sd' ')
for want in authentication-required anonymous-forbidden anonymous-open kubelet-readonly.open etcd.no-client-auth \
    kubelet.- kubelet-readonly.- etcd.-; do
    [[ " ${findings//$'\t'/.} " == *"$want "* ]] || fail "seed $SEED: no node endpoint with '$want' ($findings)"
done

# Bad arguments: exit status 2 and a message naming the value, no namespace.
bad_args() { # EXPECTED-WORD ARGS...
    local word=$1 rc=0; shift
    "$POP" "$@" >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
    [[ $rc == 2 ]] || fail "k8s_population.sh $*: exit status $rc, expected 2"
    grep -q -- "$word" "$WORK/bad.err" || fail "k8s_population.sh $*: message does not name '$word': $(cat "$WORK/bad.err")"
}
bad_args "'x1'" up x1 1
bad_args "'abc'" up "$TEST_ID" abc
bad_args "'0'" up "$TEST_ID" 1 0
bad_args "'20001'" up "$TEST_ID" 1 20001
bad_args "'x'" up "$TEST_ID" 1 10 x
bad_args "usage" sideways "$TEST_ID"
ip netns list | grep -qE "^ks${TEST_ID}[st]( |$)" && fail "a bad invocation left a namespace"

# ------------------------------------------------------------------ bring up
t0=$(date +%s.%N)
expected=$("$POP" up "$TEST_ID" "$SEED")
t1=$(date +%s.%N)
note "population up in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
cmp -s "$expected" "${models[0]}/expected.tsv" || fail "k8s_population.sh wrote another population than the model"
surfaces=$(dirname "$expected")/surfaces.tsv
endpoints=$(($(wc -l <"$expected") - 1))
note "$endpoints endpoints, $(tail -n +2 "$expected" | awk -F'\t' '$4 == "yes"' | wc -l) Kubernetes;" \
    "node endpoints: $(tail -n +2 "$surfaces" | cut -f3,9 | sort | uniq -c | awk '{ printf "%s%s %s/%s", s, $1, $2, $3; s = ", " }')"
grep -q $'\tetcd-mtls$' "$surfaces" || fail "no real etcd demanding a client certificate in the population"

# -------------------------------------------------------------------- scan
# A directory the scan's user (nobody, after the switch) owns: the scan
# rewrites the store to its minimum size in it when it ends (issue 11).
install -d -o nobody "$WORK/store"
db=$WORK/store/survey.lmdb
t0=$(date +%s.%N)
ks_scan -b "$EMPTY" -p 443,6443,10250,10255,2379 -r 50000 -c 2 -q --db "$db" --metadata "$WORK/scan.json" \
    -o "$WORK/out.jsonl" 198.18.0.0/16 || fail "scan failed"
t1=$(date +%s.%N)
note "scan of 327680 targets with probes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
grep -q '"state": "done"' "$WORK/scan.json" || fail "scan state is not done"
# nginx must have served the whole scan (a missing listener turns SYN-ACKs
# into RSTs; tools/setup.sh, for one, runs `pkill -x nginx` machine-wide).
kill -0 "$(cat "$KS_POP_DIR/nginx.pid" 2>/dev/null)" 2>/dev/null ||
    fail "the population's nginx is gone (killed during the scan?); scan counters: $(metadata_number "$WORK/scan.json" replies) replies, $(metadata_number "$WORK/scan.json" rsts) RSTs"
"$KS" check "$db" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; fail "kubesurvey check failed"; }

# ------------------------------------- the store's room on disk (issue 11)
# As the scan leaves it, no compact: pages of hosts, addrs and certs at
# least 85% full, the file at most 1.25x its pages in use, and the
# certificates (certs + cert_index pages) at most half their raw DER.
# `check` prints the figures (docs/storage.md, "Room on disk").
store_layout() { # CHECK-LOG WHEN
    awk -v when="$2" '
        $1 ~ /^(hosts|addrs|certs)$/ { fill = $7; sub(/%/, "", fill); seen[$1] = 1
            if (fill + 0 < 85) { printf "%s: %s pages %s%% full (< 85%%)\n", when, $1, fill; bad = 1 } }
        /^file:/ { match($0, /use [0-9.]+x/); ratio = substr($0, RSTART + 4, RLENGTH - 5)
            if (ratio + 0 > 1.25) { printf "%s: file %sx its pages in use (> 1.25)\n", when, ratio; bad = 1 } }
        /^certificates:/ { match($0, /cert_index [0-9]+ bytes = [0-9.]+ of raw DER/)
            split(substr($0, RSTART, RLENGTH), f, " "); cert = f[5]
            if (cert + 0 > 0.5) { printf "%s: certificates take %s of their raw DER (> 0.5)\n", when, cert; bad = 1 } }
        END { if (!seen["hosts"] || !seen["addrs"] || !seen["certs"] || ratio == "" || cert == "") {
                  print when ": check printed no room-on-disk table"; bad = 1 }
              exit bad }' "$1"
}
store_layout "$WORK/check.log" "as scanned" || { cat "$WORK/check.log" >&2; fail "the store's layout misses its figures"; }
note "room on disk: $(grep -E '^(file|certificates):' "$WORK/check.log" | tr '\n' ' ')"

# ------------------------------------------- the store holds the population
# The address index (stored_pairs, lib.sh: its key format in docs/storage.md)
# is read with mdb_dump, not with kubesurvey.
{ echo "saddr,sport"; tail -n +2 "$expected" | cut -f1,2 | tr '\t' ,
  tail -n +2 "$surfaces" | cut -f1,2 | tr '\t' ,; } >"$WORK/population.csv"
# The network side first: the target answered SYN-ACK from exactly the
# population's endpoints (set `answered`, see k8s_population.sh).
{
    echo "saddr,sport"
    ip netns exec "$T" nft list set inet ks answered |
        grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ \. [0-9]+' | sed 's/ \. /,/'
} >"$WORK/answered.csv"
expect_same_pairs "$WORK/population.csv" "$WORK/answered.csv" "target-side SYN-ACKs"
stored_pairs "$db" >"$WORK/stored.csv"
note "scan: $(metadata_number "$WORK/scan.json" replies) replies, $(metadata_number "$WORK/scan.json" unique) unique, $(wc -l <"$WORK/out.jsonl") JSON Lines records, $(($(wc -l <"$WORK/stored.csv") - 1)) stored, pcap drops $(metadata_number "$WORK/scan.json" pcap_drops)"
expect_same_pairs "$WORK/population.csv" "$WORK/stored.csv" "store endpoints"

# ------------------------------------------------ every record as expected
# apiserver records -> got.tsv (lib.sh records_tsv); the other modules'
# -> addr port module tls finding etcd_server etcd_cluster (got-nodes.tsv).
records_tsv "$WORK/out.jsonl" "$WORK/got-nodes.unsorted" >"$WORK/got.tsv"
tail -n +2 "$expected" | cut -f1-8 | LC_ALL=C sort >"$WORK/want8.tsv"
cut -f1-8 "$WORK/got.tsv" >"$WORK/got8.tsv"
if ! cmp -s "$WORK/want8.tsv" "$WORK/got8.tsv"; then
    diff "$WORK/want8.tsv" "$WORK/got8.tsv" | head -20 >&2
    fail "records differ from expected.tsv ($(diff "$WORK/want8.tsv" "$WORK/got8.tsv" | grep -c '^>') lines)"
fi
note "all $endpoints records: TLS, verdict, provider, minor, gitVersion, HTTP status as expected"
# The node surfaces.
touch "$WORK/got-nodes.unsorted"
LC_ALL=C sort "$WORK/got-nodes.unsorted" >"$WORK/got-nodes.tsv"
tail -n +2 "$surfaces" | cut -f1-7 | LC_ALL=C sort >"$WORK/want-nodes.tsv"
if ! cmp -s "$WORK/want-nodes.tsv" "$WORK/got-nodes.tsv"; then
    diff "$WORK/want-nodes.tsv" "$WORK/got-nodes.tsv" | head -20 >&2
    fail "node records differ from surfaces.tsv ($(diff "$WORK/want-nodes.tsv" "$WORK/got-nodes.tsv" | grep -c '^>') lines)"
fi
note "all $(wc -l <"$WORK/want-nodes.tsv") node records: module, TLS, finding, etcd versions as expected"
# Same certificate id <=> same leaf: the (id, sha256) pairs are a bijection.
tail -n +2 "$expected" | cut -f1,2,9 | LC_ALL=C sort >"$WORK/ids"
cut -f1,2,9 "$WORK/got.tsv" >"$WORK/shas"
LC_ALL=C join -t $'\t' <(awk -F'\t' '{ print $1 ":" $2 "\t" $3 }' "$WORK/ids" | LC_ALL=C sort) \
    <(awk -F'\t' '{ print $1 ":" $2 "\t" $3 }' "$WORK/shas" | LC_ALL=C sort) |
    awk -F'\t' '$2 != "-" { pair[$2 " " $3]; id[$2]; sha[$3] }
        END { np = length(pair); ni = length(id); ns = length(sha)
              print np, ni, ns; exit !(np == ni && ni == ns) }' >"$WORK/bijection" ||
    fail "certificate ids and leaf certificates do not correspond: pairs ids shas = $(cat "$WORK/bijection")"
note "certificates: $(cut -d' ' -f2 "$WORK/bijection") distinct, one per certificate id"

# --------------------------------------------------------------- statistics
# Expected figures from expected.tsv alone. Upstream end of life per minor
# (k8s-facts.md §2.2, date of the final patch); the providers' calendars as
# published on the day (tools/data/providers.json, read by the independent
# Python computation of tests/tools/stats_oracle.py, not by kubesurvey):
# "u" past standard support, "s" supported, "?" unknown, per provider and
# minor of the population; unsupported on day D when D > the end date
# (docs/statistics.md).
provider_states() { # DAY -> lines "provider minor state"
    tail -n +2 "$expected" | awk -F'\t' '$4 == "yes" && $7 != "-" { print $5, $6 }' | sort -u |
        python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
from stats_oracle import Lifecycle, day
lc = Lifecycle(sys.argv[2])
on = day(sys.argv[3])
for line in sys.stdin:
    provider, minor = line.split()
    major, m = (int(x) for x in minor.split("."))
    state = lc.provider_status(provider, major, m, on, "published", "standard")
    print(provider, minor, {"S": "s", "U": "u", "?": "?"}[state])
' "$here/../tools" "$here/../../tools/data" "$1"
}
expected_stats() { # DAY
    provider_states "$1" >"$WORK/states-$1"
    tail -n +2 "$expected" | awk -F'\t' -v day="$1" -v states="$WORK/states-$1" '
        function table(spec, into,   n, t, i, kv) {
            n = split(spec, t, " ")
            for (i = 1; i <= n; i++) { split(t[i], kv, "="); into[kv[1]] = kv[2] }
        }
        function minor_number(m) { sub(/^1\./, "", m); return m + 0 }
        BEGIN {
            table("1.13=2019-10-15 1.14=2019-12-11 1.15=2020-05-06 1.16=2020-09-02 " \
                  "1.17=2021-01-13 1.18=2021-06-18 1.19=2021-10-28 1.20=2022-02-28 " \
                  "1.21=2022-06-28", eol)
            while ((getline line < states) > 0) { split(line, f, " "); state[f[1], f[2]] = f[3] }
        }
        { syn++; if ($3 == 1) tls++ }
        $4 == "yes" {
            k8s++; hosts[$5]++
            if ($10 == 1) by_cert++
            if (!($9 in cert)) { cert[$9]; clusters++ }
            if ($8 == 200) pub++; else if ($8 == 401) a401++; else if ($8 == 403) a403++
            if ($7 != "-") {
                if (!($6 in eol)) { print "no end of life for " $6 > "/dev/stderr"; exit 1 }
                vp++; pvp[$5]++; minor[$6]++
                if (!($9 in cvp)) { cvp[$9]; ncvp++ }
                if (day > eol[$6]) { uns++; puns[$5]++; if (!($9 in cuns)) { cuns[$9]; ncu++ } }
                st = state[$5, $6]
                if (st == "u") { puns_p++; ppuns[$5]++; if (!($9 in cpuns)) { cpuns[$9]; ncpu++ } } else if (st == "?") punknown++
            }
        }
        END {
            printf "syn_open=%d\ntls=%d\nk8s=%d\nk8s_by_cert=%d\nversion_public=%d\n", syn, tls, k8s, by_cert, vp
            printf "unsupported=%d\nunsupported_share=%.6f\nlifecycle_unknown=0\n", uns, uns / vp
            printf "provider_unsupported=%d\nprovider_unsupported_share=%.6f\nprovider_lifecycle_unknown=%d\n",
                puns_p, puns_p / vp, punknown
            printf "clusters=%d\nk8s_without_cert=0\ncorrupt_records=0\n", clusters
            # Per estimated cluster (certificate): one with any such endpoint.
            printf "clusters_version_public=%d\nclusters_unsupported=%d\nclusters_unsupported_share=%.6f\n", ncvp, ncu, ncu / ncvp
            printf "clusters_provider_unsupported=%d\nclusters_provider_unsupported_share=%.6f\n", ncpu, ncpu / ncvp
            for (p in hosts) {
                printf "by_provider.%s.hosts=%d\nby_provider.%s.version_public=%d\n", p, hosts[p], p, pvp[p]
                printf "by_provider.%s.unsupported=%d\nby_provider.%s.provider_unsupported=%d\n", p, puns[p], p, ppuns[p]
            }
            for (m in minor) printf "by_minor.%s=%d\n", m, minor[m]
            printf "auth.public=%d\nauth.unauthorized_401=%d\nauth.forbidden_403=%d\n", pub, a401, a403
        }' | LC_ALL=C sort
}
# `stats --json` (jansson, indent 2) flattened to path=value lines, keeping
# the keys computed above.
flatten_stats() {
    awk '
        /^[ ]*"[^"]*": / {
            line = $0; sub(/^[ ]*"/, "", line)
            key = line; sub(/": .*/, "", key)
            value = line; sub(/^[^"]*": /, "", value); sub(/,$/, "", value)
            if (value == "{") { path[++depth] = key; next }
            if (value ~ /^\[/) next
            full = ""
            for (i = 1; i <= depth; i++) full = full path[i] "."
            full = full key
            gsub(/^"|"$/, "", value)
            if (key ~ /_share$/ && value != "null") value = sprintf("%.6f", value)
            print full "=" value
            next
        }
        /^[ ]*}/ && depth > 0 { depth-- }' |
        grep -E '^(syn_open|tls|k8s|k8s_by_cert|version_public|unsupported|unsupported_share|lifecycle_unknown|provider_unsupported|provider_unsupported_share|provider_lifecycle_unknown|clusters|clusters_version_public|clusters_unsupported|clusters_unsupported_share|clusters_provider_unsupported|clusters_provider_unsupported_share|k8s_without_cert|corrupt_records|by_provider\.[^.]+\.(hosts|version_public|unsupported|provider_unsupported)|by_minor\..+|auth\..+)=' |
        LC_ALL=C sort
}
# `surfaces` of STATS-JSON against the oracle's over surfaces.tsv (and the
# API servers of expected.tsv, whose versions bound the kubelets on their
# addresses) on DAY.
expect_surfaces() { # STATS-JSON DAY
    python3 - "$here/../tools" "$here/../../tools/data" "$surfaces" "$expected" "$1" "$2" <<'PY'
import csv, json, sys
sys.path.insert(0, sys.argv[1])
from stats_oracle import Lifecycle, day, surfaces
none = lambda v: None if v == "-" else v
rows = list(csv.DictReader(open(sys.argv[3]), delimiter="\t"))
pop = {"endpoints": [{"module": r["module"], "addr": r["addr"], "finding": none(r["finding"]),
                      "etcd_server": none(r["etcd_server"])} for r in rows]}
pop["endpoints"] += [{"module": "apiserver", "addr": r["addr"], "k8s": r["k8s"],
                      "git_version": none(r["git_version"])}
                     for r in csv.DictReader(open(sys.argv[4]), delimiter="\t")]
want = surfaces(Lifecycle(sys.argv[2]), pop, day(sys.argv[6]))
got = json.load(open(sys.argv[5])).get("surfaces")
if got != want:
    print("surfaces: got %s\n          want %s" % (json.dumps(got, sort_keys=True), json.dumps(want, sort_keys=True)))
    sys.exit(1)
PY
}
scan_day=$(grep -oE '"started": "[0-9]{4}-[0-9]{2}-[0-9]{2}' "$WORK/scan.json" | grep -oE '[0-9-]{10}$')
for day in 2021-06-10 2021-06-19 2021-09-28 2022-08-01 "$scan_day"; do
    expected_stats "$day" >"$WORK/want-$day.stats"
    "$KS" stats "$db" --json --as-of "$day" >"$WORK/stats-$day.json" ||
        fail "kubesurvey stats --as-of $day failed"
    grep -q "\"as_of\": \"$day\"" "$WORK/stats-$day.json" || fail "stats as_of is not $day"
    flatten_stats <"$WORK/stats-$day.json" >"$WORK/got-$day.stats"
    if ! cmp -s "$WORK/want-$day.stats" "$WORK/got-$day.stats"; then
        diff "$WORK/want-$day.stats" "$WORK/got-$day.stats" >&2 || true
        fail "kubesurvey stats --as-of $day differs from the figures computed from expected.tsv"
    fi
    expect_surfaces "$WORK/stats-$day.json" "$day" || fail "stats --as-of $day: surfaces differ from the oracle's"
    note "stats --as-of $day: $(wc -l <"$WORK/want-$day.stats") figures as expected ($(grep -E '^(version_public|unsupported)=' "$WORK/want-$day.stats" | paste -sd' '))"
done
"$KS" stats "$db" --as-of 2021-06-10 >"$WORK/summary.txt" || fail "readable stats summary failed"
[[ -s "$WORK/summary.txt" ]] || fail "readable stats summary is empty"

# ------------- publish: the package verifies, pandas recomputes its figures
# (tests/tools/publish_check.py) and they are the population's, as of the
# scan's own day (publish's stats.json)
head -c 32 /dev/urandom >"$WORK/key.bin"
"$KS" publish "$db" "$WORK/package" --anonymize "$WORK/key.bin" >"$WORK/publish.log" 2>&1 ||
    { cat "$WORK/publish.log" >&2; fail "publish of the population's store failed"; }
"$KS" verify "$WORK/package" >"$WORK/verify.log" 2>&1 ||
    { cat "$WORK/verify.log" >&2; fail "verify of the population's package failed"; }
truths=$(grep -E '^(syn_open|k8s|version_public|unsupported|clusters)=' "$WORK/want-$scan_day.stats")
/usr/bin/python3 "$here/../tools/publish_check.py" "$WORK/package" "$here/../../tools/data" $truths ||
    fail "the published package does not give the population's figures"
note "publish: the package verifies; pandas recomputes $(echo $truths)"

# ------------------------------- compact: every record readable, check clean
"$KS" export "$db" --format jsonl --certs pem -o "$WORK/before.jsonl" || fail "export before compact"
"$KS" compact "$db" >"$WORK/compact.log" 2>&1 || { cat "$WORK/compact.log" >&2; fail "compact failed"; }
"$KS" check "$db" >"$WORK/check2.log" 2>&1 || { cat "$WORK/check2.log" >&2; fail "check after compact"; }
store_layout "$WORK/check2.log" "after compact" || { cat "$WORK/check2.log" >&2; fail "layout after compact"; }
grep -q 'free: in use [0-9]* bytes; file / in use 1.00x' "$WORK/check2.log" &&
    grep -q ' 0 free:' "$WORK/check2.log" || { cat "$WORK/check2.log" >&2; fail "compact did not leave the file at its minimum"; }
"$KS" export "$db" --format jsonl --certs pem -o "$WORK/after.jsonl" || fail "export after compact"
cmp -s "$WORK/before.jsonl" "$WORK/after.jsonl" || fail "compact changed what the store holds"
note "compact: $(grep -c . "$WORK/after.jsonl") records with their certificates unchanged; $(grep -E '^file:' "$WORK/check2.log")"
