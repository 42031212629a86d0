#!/usr/bin/env bash
# test_series.sh - scans over time on three scans whose population changes
# (population.h: population, population_later, population_third; gen_db):
# `stats --series --json` and `stats DB DB DB --json` against the truth
# worked out by hand from the populations and tools/data/upstream.json,
# each point equal to `stats --scan N` as of its own day, the changes equal
# to the hand-counted diffs; with `render`, the report of the series in
# headless Chromium (Debian package `chromium`; skipped, 77, without it):
# its four charts, their points, segments and bars, and its tables.
#   usage: test_series.sh KUBESURVEY GEN_DB [render]
set -euo pipefail
ks=$1 gen=$2 mode=${3:-json}
. "$(dirname "$0")/../lib.sh"
TEST_NAME=series
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ "$mode" = render ]; then
    command -v chromium >/dev/null || skip "series render: no chromium; skipped"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$gen" m.db --crafted --started 2021-06-10T08:00:00Z
"$gen" m.db --later --started 2021-09-01T08:00:00Z
"$gen" m.db --third --started 2022-03-01T08:00:00Z

if [ "$mode" = render ]; then
    "$ks" report m.db --series -o report.html --title "Three scans"
    chrome() {
        timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$work/profile" "$@" "file://$work/report.html" 2>/dev/null
    }
    chrome --dump-dom > dom.html || fail "chromium could not render the report"
    chrome --screenshot="$work/report.png" --window-size=1200,2600 > /dev/null
    for id in chart-series-counts chart-series-unsupported chart-series-minors chart-series-changes; do
        grep -q "<svg id=\"$id\"" dom.html || fail "no <svg id=\"$id\"> in the rendered DOM"
    done
    ! grep -qi "<script" dom.html || fail "the report has a script"
    count() { grep -o "$1" dom.html | wc -l; }
    for line in endpoints api-servers versioned upstream provider extended; do
        [ "$(count "<circle class=\"point $line\"")" = 3 ] || fail "line $line has not 3 points"
    done
    # minors per scan: 6, 6 and 6 (1.15 1.16 1.17 1.19 1.22 1.40; 1.15 1.17 1.19 1.20
    # 1.21 1.22; 1.15 1.19 1.20 1.21 1.22 1.23)
    [ "$(count '<rect class="seg"')" = 18 ] || fail "expected 18 minor segments, got $(count '<rect class="seg"')"
    [ "$(count 'data-minor="1.40"')" = 1 ] || fail "1.40 is in the first scan only"
    [ "$(count 'data-minor="1.23"')" = 1 ] || fail "1.23 is in the third scan only"
    [ "$(count '<rect class="bar ')" = 8 ] || fail "expected 4 change bars for each of 2 intervals"
    cells() { grep -o "<td class=\"$1\">[0-9]*</td>" dom.html | sed 's/<[^>]*>//g' | tr '\n' ' '; }
    [ "$(cells k8s)" = "9 9 9 " ] || fail "API servers per scan: $(cells k8s)"
    [ "$(cells version_public)" = "7 8 8 " ] || fail "versioned per scan: $(cells version_public)"
    [ "$(cells upgraded)" = "2 2 " ] || fail "upgraded: $(cells upgraded)"
    [ "$(cells gone)" = "2 3 " ] || fail "gone: $(cells gone)"
    [ "$(cells new)" = "2 3 " ] || fail "new: $(cells new)"
    grep -q '<td>3 (42\.9[^<0-9]*57\.1%)</td>' dom.html || fail "the first scan's upstream share and bounds"
    [ -s report.png ] || fail "no screenshot"
    echo "series render: ok (4 charts, 18 minor segments, 8 change bars, screenshot $(stat -c %s report.png) bytes)"
    exit 0
fi

"$ks" stats m.db --series --json > one.json
# the same scans in three stores, given out of order
"$gen" a.db --crafted --started 2021-06-10T08:00:00Z
"$gen" b.db --later --started 2021-09-01T08:00:00Z
"$gen" c.db --third --started 2022-03-01T08:00:00Z
"$ks" stats c.db a.db b.db --json > three.json
for n in 1 2 3; do "$ks" stats m.db --scan "$n" --json > "scan$n.json"; done
"$py" - one.json three.json <<'EOF' || fail "the series differs from the truth"
import json, sys
one, three = (json.load(open(p)) for p in sys.argv[1:3])
truth = [  # by hand: population.h and the upstream end-of-life dates of tools/data/upstream.json
    {"as_of": "2021-06-10", "syn_open": 11, "k8s": 9, "version_public": 7, "unsupported": 3,
     "by_minor": {"1.15": 1, "1.16": 1, "1.17": 1, "1.19": 2, "1.22": 1, "1.40": 1}},
    # 2021-09-01: 1.15 (EOL 2020-05-06) and 1.17 (2021-01-13) ended; 1.19 not until 2021-10-28
    {"as_of": "2021-09-01", "syn_open": 10, "k8s": 9, "version_public": 8, "unsupported": 2,
     "by_minor": {"1.15": 1, "1.17": 1, "1.19": 2, "1.20": 1, "1.21": 2, "1.22": 1}},
    # 2022-03-01: 1.15, 1.19 and 1.20 (EOL 2022-02-28) ended
    {"as_of": "2022-03-01", "syn_open": 10, "k8s": 9, "version_public": 8, "unsupported": 3,
     "by_minor": {"1.15": 1, "1.19": 1, "1.20": 1, "1.21": 2, "1.22": 1, "1.23": 2}},
]
changes = [  # population.h: the comments of population_later and population_third
    {"upgraded": 2, "downgraded": 1, "unchanged": 2, "version_unknown": 2, "gone": 2, "new": 2},
    {"upgraded": 2, "downgraded": 1, "unchanged": 2, "version_unknown": 1, "gone": 3, "new": 3},
]
bad = []
for name, got, dbs in (("one store", one, ["m.db"] * 3), ("three stores", three, ["a.db", "b.db", "c.db"])):
    points = got["series"]
    if len(points) != 3 or len(got["changes"]) != 2:
        bad.append(f"{name}: {len(points)} points, {len(got['changes'])} changes")
        continue
    for i, (p, t) in enumerate(zip(points, truth)):
        if p["db"] != dbs[i]:
            bad.append(f"{name}: point {i} is {p['db']}, expected {dbs[i]}")
        for k, v in t.items():
            value = p[k]["count"] if k == "unsupported" else p[k]
            if value != v:
                bad.append(f"{name}: point {i} {k} = {value}, truth {v}")
    for i, (c, t) in enumerate(zip(got["changes"], changes)):
        for k, v in t.items():
            if c[k] != v:
                bad.append(f"{name}: change {i} {k} = {c[k]}, truth {v}")
for i in range(3):
    single = json.load(open(f"scan{i + 1}.json"))
    p = one["series"][i]
    for k in ("as_of", "syn_open", "tls", "k8s", "version_public", "clusters", "by_minor"):
        if p[k] != single[k]:
            bad.append(f"point {i} {k} = {p[k]}, stats --scan {i + 1}: {single[k]}")
    for k in ("unsupported", "provider_unsupported", "provider_unsupported_extended"):
        if p[k] != single["shares"][k]:
            bad.append(f"point {i} {k} differs from stats --scan {i + 1}")
for b in bad:
    print("series:", b)
sys.exit(1 if bad else 0)
EOF
"$ks" stats m.db --series | grep -q "scan 2 -> 3: upgraded 2, downgraded 1, unchanged 2, version unknown 1, gone 3, new 3" ||
    fail "the readable series lacks the changes"
status=0; "$ks" stats a.db --series > out.txt 2>&1 || status=$?
[ "$status" = 1 ] && grep -q "a series needs two or more scans; a.db holds 1" out.txt || fail "a one-scan series: $status"
status=0; "$ks" stats m.db --series --as-of 2022-01-01 > out.txt 2>&1 || status=$?
[ "$status" = 2 ] && grep -q "as of its own start day" out.txt || fail "--as-of with a series: $status"
status=0; "$ks" stats a.db a.db > out.txt 2>&1 || status=$?
[ "$status" = 2 ] && grep -q "a.db is given twice" out.txt || fail "a store given twice: $status"
status=0; "$ks" report m.db --series > out.txt 2>&1 || status=$?
[ "$status" = 2 ] || fail "report of a series without -o: $status"
echo "series: ok (3 scans in one store and in three, against the truth)"
