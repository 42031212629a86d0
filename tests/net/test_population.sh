#!/usr/bin/env bash
# The population generator is deterministic for a seed, different across
# seeds, writes what sim.sh loads, has about the requested open fraction,
# and rejects bad arguments with exit status 2 and a message naming them.
# Needs no root and no network.
#   test_population.sh BUILD_DIR
set -euo pipefail
pop=$1/tests/net/ks_population
work=$(mktemp -d /tmp/ks-population.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../lib.sh"
TEST_NAME=population

"$pop" --seed 7 --nft "$work/a.nft" --truth "$work/a.csv" 2>/dev/null
"$pop" --seed 7 --nft "$work/b.nft" --truth "$work/b.csv" 2>/dev/null
"$pop" --seed 8 --nft "$work/c.nft" --truth "$work/c.csv" 2>/dev/null
cmp -s "$work/a.csv" "$work/b.csv" && cmp -s "$work/a.nft" "$work/b.nft" ||
    fail "seed 7 twice gives different files"
cmp -s "$work/a.csv" "$work/c.csv" && fail "seeds 7 and 8 give the same ground truth"

[[ $(head -1 "$work/a.csv") == "saddr,sport" ]] || fail "ground truth header is not saddr,sport"
open=$(($(wc -l <"$work/a.csv") - 1))
# 131072 pairs at 10%: 13107 expected, binomial sd ~109.
((open > 12500 && open < 13700)) || fail "$open open pairs of 131072, expected about 10%"
# Documented order: numeric, as sort -t, -k1,1V -k2,2n.
tail -n +2 "$work/a.csv" | sort -c -t, -k1,1V -k2,2n || fail "ground truth is not in numeric order"
# The nft file holds exactly the ground truth pairs.
grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ \. [0-9]+' "$work/a.nft" | sed 's/ \. /,/' |
    LC_ALL=C sort >"$work/nft-pairs"
tail -n +2 "$work/a.csv" | LC_ALL=C sort | cmp -s - "$work/nft-pairs" ||
    fail "nft file and ground truth hold different pairs"
grep -q '^flush set inet ks open$' "$work/a.nft" || fail "nft file does not flush set open first"

# Ports and fractions are honoured.
"$pop" --seed 1 --cidr 198.18.5.0/24 --ports 10250-10252 --open-permille 1000 --rst-permille 0 \
    --nft "$work/d.nft" --truth "$work/d.csv" 2>/dev/null
[[ $(($(wc -l <"$work/d.csv") - 1)) -eq 768 ]] || fail "1000 permille of a /24 x 3 ports is not 768 rows"
grep -q 'add element inet ks rst' "$work/d.nft" && fail "rst-permille 0 still adds rst elements"
"$pop" --seed 1 --cidr 198.18.5.0/24 --open-permille 0 --rst-permille 1000 \
    --nft "$work/e.nft" --truth "$work/e.csv" 2>/dev/null
[[ $(wc -l <"$work/e.csv") -eq 1 ]] || fail "open-permille 0 still writes open pairs"
[[ $(grep -oE '198\.18\.5\.[0-9]+' "$work/e.nft" | sort -u | wc -l) -eq 256 ]] ||
    fail "rst-permille 1000 does not make all 256 addresses RST"

check_usage() {
    local needle=$1; shift
    local rc=0
    "$pop" "$@" --nft "$work/x.nft" --truth "$work/x.csv" 2>"$work/err" || rc=$?
    [[ $rc -eq 2 ]] || fail "'$*': exit status $rc, expected 2"
    grep -qF -- "$needle" "$work/err" || fail "'$*': message does not name '$needle': $(cat "$work/err")"
}
check_usage 10.0.0.0/8 --seed 1 --cidr 10.0.0.0/8
check_usage 198.18.0.0/33 --seed 1 --cidr 198.18.0.0/33
check_usage 70000 --seed 1 --ports 70000
check_usage 1001 --seed 1 --open-permille 1001
check_usage abc --seed abc
check_usage required --cidr 198.18.0.0/24
note PASS
