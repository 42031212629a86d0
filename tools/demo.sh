#!/usr/bin/env bash
# demo.sh - the main job on a simulated internet: install what is missing,
# build, bring up the test network (two namespaces; 198.18.0.0/16 is the
# "internet") with a seeded June-2021-like population of Kubernetes API
# servers and other services (tests/net/k8s_population.sh), scan it with the
# whole pipeline (SYN scan, TLS + GET /version on every responder, LMDB
# store), check what was found against the population's ground truth, print
# the statistics as of 2021-06-10 and as of the scan's own date, and write
# the HTML report. Everything stays inside the namespaces it creates, and
# they are removed at the end; the store and the report stay in the work
# directory it prints. Run as root. Exit status 0 when everything matched.
#   tools/demo.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-2021}
id=900
ks=build/tools/kubesurvey
pop=tests/net/k8s_population.sh

# KS_SKIP_SETUP=1: use the existing build (no package check, no rebuild).
[ "${KS_SKIP_SETUP:-0}" = 1 ] || tools/setup.sh build
[ -x "$ks" ] || { echo "demo.sh: $ks is missing (run tools/setup.sh build)" >&2; exit 1; }
work=$(mktemp -d /tmp/kubesurvey-demo.XXXXXX)
export KS_POP_DIR=$work/population
chk=$work/check # intermediate files of the ground-truth checks
mkdir -p "$chk"
cleanup() { "$pop" down "$id" >/dev/null 2>&1 || true; }
trap cleanup EXIT
started=$SECONDS

echo "== simulated internet: 198.18.0.0/16, ports 443 and 6443, seed $seed"
expected=$("$pop" up "$id" "$seed")
tail -n +2 "$expected" | awk -F'\t' '
    { n++; if ($4 == "yes") { k++; if (!($9 in c)) { c[$9]; clusters++ } } }
    END {
        printf "   %d endpoints: %d Kubernetes API servers (%d certificates), %d other services\n",
            n, k, clusters, n - k
    }'
echo "   the rest of the /16 is silent, about 1% of its addresses answer RST"

echo "== kubesurvey scan: SYN scan, then TLS + GET /version on every responder (inside ks${id}s)"
: >"$chk/empty-blocklist"
db=$work/survey.lmdb
ip netns exec "ks${id}s" "$ks" scan -p 443,6443 -r 50000 -c 2 -q -b "$chk/empty-blocklist" \
    --db "$db" --metadata "$work/scan.json" 198.18.0.0/16
"$ks" check "$db" >/dev/null

echo "== ground truth"
tail -n +2 "$expected" | awk -F'\t' '{ print $1 "," $2 }' | LC_ALL=C sort >"$chk/truth.csv"
"$ks" export "$db" --format csv -o "$chk/export.csv"
tail -n +2 "$chk/export.csv" | cut -d, -f2,3 | LC_ALL=C sort >"$chk/stored.csv" # scan,addr,port,...
missed=$(LC_ALL=C comm -23 "$chk/truth.csv" "$chk/stored.csv" | wc -l)
extra=$(LC_ALL=C comm -13 "$chk/truth.csv" "$chk/stored.csv" | wc -l)
echo "   stored endpoints: $(wc -l <"$chk/stored.csv") of $(wc -l <"$chk/truth.csv") (missed $missed, extra $extra)"
# The SYN scanner alone (no probes), at full speed.
ip netns exec "ks${id}s" "$ks" scan --syn-only -p 443,6443 -r 0 -c 2 -q \
    -b "$chk/empty-blocklist" -o "$chk/open.csv" 198.18.0.0/16
tail -n +2 "$chk/open.csv" | LC_ALL=C sort >"$chk/open.sorted"
syn_differ=$(LC_ALL=C comm -3 "$chk/truth.csv" "$chk/open.sorted" | wc -l)
echo "   --syn-only scan: $(wc -l <"$chk/open.sorted") responsive endpoints, $syn_differ differ from the truth"

# The headline figures the population implies, computed from its file alone
# (upstream end of life, k8s-facts.md §2.2: on 2021-06-10, 1.17 and older).
tail -n +2 "$expected" | awk -F'\t' '
    $4 == "yes" { k++; if (!($9 in c)) { c[$9]; clusters++ }
                  if ($7 != "-") { v++; split($6, m, "."); if (m[2] + 0 <= 17) u++ } }
    END { printf "k8s=%d version_public=%d unsupported=%d clusters=%d\n", k, v, u, clusters }' \
    >"$chk/truth.figures"
"$ks" stats "$db" --json --as-of 2021-06-10 |
    awk '/^  "(k8s|version_public|unsupported|clusters)": / {
             gsub(/[",]/, ""); sub(/:/, "="); gsub(/ /, ""); f[$0] = 1; order[++n] = $0 }
         END { for (i = 1; i <= n; i++) printf "%s%s", order[i], (i < n ? " " : "\n") }' |
    tr ' ' '\n' | LC_ALL=C sort | paste -sd' ' >"$chk/stats.figures"
tr ' ' '\n' <"$chk/truth.figures" | LC_ALL=C sort | paste -sd' ' >"$chk/truth.sorted"
echo "   population file: $(cat "$chk/truth.sorted")"
echo "   kubesurvey stats: $(cat "$chk/stats.figures")"

echo "== kubesurvey stats --as-of 2021-06-10 (the Aqua Security survey's month)"
"$ks" stats "$db" --as-of 2021-06-10 | sed 's/^/   /'
echo "== kubesurvey stats (as of the scan's own date)"
"$ks" stats "$db" | sed 's/^/   /'
"$ks" report "$db" --as-of 2021-06-10 -o "$work/report.html" \
    --title "Simulated internet, seed $seed, as of 2021-06-10"
echo "== report: $work/report.html"
echo "   store: $db  (kubesurvey show/export/stats work on it offline)"
echo "   demo took $((SECONDS - started)) s after the build"
[ "$missed" = 0 ] && [ "$extra" = 0 ] && [ "$syn_differ" = 0 ] &&
    cmp -s "$chk/truth.sorted" "$chk/stats.figures"
