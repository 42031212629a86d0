#!/usr/bin/env bash
# demo.sh - the main job on a simulated internet: install what is missing,
# build, bring up the test network (two namespaces; 198.18.0.0/16 is the
# "internet", a seeded 10% of (address, port) pairs open), scan it, and
# print what was found next to the ground truth. Everything stays inside the
# namespaces it creates, and they are removed at the end. Run as root.
#   tools/demo.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-2021}
id=900

tools/setup.sh build
sim=tests/net/sim.sh
work=$(mktemp -d /tmp/kubesurvey-demo.XXXXXX)
cleanup() { KS_BUILD=build "$sim" down "$id" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== simulated internet: 198.18.0.0/16, ports 443 and 6443, seed $seed"
truth=$(KS_BUILD=build "$sim" up "$id" "$seed")
echo "   $(($(wc -l <"$truth") - 1)) open (address, port) pairs in the ground truth"

echo "== kubesurvey scan (inside namespace ks${id}s only)"
: >"$work/empty-blocklist"
ip netns exec "ks${id}s" build/tools/kubesurvey scan --syn-only -p 443,6443 -r 0 -c 2 \
    -b "$work/empty-blocklist" --metadata "$work/scan.json" -o "$work/open.csv" 198.18.0.0/16

found=$(($(wc -l <"$work/open.csv") - 1))
missed=$(comm -23 <(tail -n +2 "$truth" | sort) <(tail -n +2 "$work/open.csv" | sort) | wc -l)
extra=$(comm -13 <(tail -n +2 "$truth" | sort) <(tail -n +2 "$work/open.csv" | sort) | wc -l)
echo "== result"
echo "   responsive endpoints found: $found (missed $missed, extra $extra)"
echo "   by port:"; tail -n +2 "$work/open.csv" | cut -d, -f2 | sort | uniq -c | sed 's/^/     /'
echo "   first rows of $work/open.csv:"; head -6 "$work/open.csv" | sed 's/^/     /'
echo "   run summary: $work/scan.json"
[ "$missed" = 0 ] && [ "$extra" = 0 ]
