#!/usr/bin/env bash
# test_report_render.sh - renders `kubesurvey report` of the crafted population in
# headless Chromium (Debian package `chromium`; skipped, 77, without it) and
# checks the parsed page: the inline SVG charts (no headline CVE for these
# versions, so the CVE chart is the one of flaws without a fix), the table of
# shares three ways, the six minor bars (3 unsupported, 2 supported, 1
# unknown on 2021-06-10), the unknowns of the provider chart against the
# statistics, and a screenshot.
#   usage: test_report_render.sh KUBESURVEY GEN_DB
set -euo pipefail
ks=$1 gen=$2
. "$(dirname "$0")/../lib.sh"
TEST_NAME=report_render
command -v chromium >/dev/null || skip "report_render: no chromium; skipped"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gen" "$work/c.db" --crafted
"$ks" report "$work/c.db" -o "$work/report.html"
chrome() {
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile" "$@" "file://$work/report.html" 2>/dev/null
}
chrome --dump-dom > "$work/dom.html"
chrome --screenshot="$work/report.png" --window-size=1200,2400 > /dev/null
for id in chart-minors chart-providers chart-cves-no-fix; do
    grep -q "<svg id=\"$id\"" "$work/dom.html" || fail "no <svg id=\"$id\"> in the rendered DOM"
done
count() { grep -o "<rect class=\"bar $1\"" "$work/dom.html" | wc -l; }
[ "$(count unsupported)" = 3 ] || fail "expected 3 unsupported minor bars, got $(count unsupported)"
[ "$(count supported)" = 2 ] || fail "expected 2 supported minor bars, got $(count supported)"
[ "$(count unknown)" = 1 ] || fail "expected 1 unknown minor bar, got $(count unknown)"
# The provider chart marks each provider's unknowns (a grey bar with the
# count) for both views, exactly where the statistics have some.
"$ks" stats "$work/c.db" --json > "$work/stats.json"
python3 - "$work/stats.json" "$work/dom.html" <<'PY' || fail "the provider chart does not mark the unknowns of the statistics"
import json, re, sys
stats = json.load(open(sys.argv[1]))
want = []
for provider, v in stats["by_provider"].items():
    if v["version_public"] > 0:
        want += [n for n in (v["lifecycle_unknown"], v["provider_lifecycle_unknown"]) if n > 0]
dom = open(sys.argv[2]).read()
chart = dom[dom.index('<svg id="chart-providers"'):]
chart = chart[:chart.index("</svg>")]
got = [int(n) for n in re.findall(r'class="bar provider-unknown" data-unknown="(\d+)"', chart)]
print(f"provider chart unknown marks: want {want}, got {got}")
sys.exit(0 if got == want and want else 1)
PY
grep -q 'class="nums shares"' "$work/dom.html" || fail "no table of shares three ways"
grep -q 'Unknown as unsupported' "$work/dom.html" || fail "the shares table has no upper bound column"
[ -s "$work/report.png" ] || fail "no screenshot"
echo "report_render: ok (3 charts, 6 minor bars, screenshot $(stat -c %s "$work/report.png") bytes)"
