#!/usr/bin/env bash
# IPv6 on the simulated internet (issue 20): one scan of an IPv4 range, an
# IPv6 prefix and a hitlist (live and dead entries, written in several text
# forms, a repeat, an entry inside the prefix) finds exactly the ground truth
# of both families, one SYN per target, with an empty neighbour cache (the
# IPv6 next hop is solicited). Then: the blocklist (0 SYNs to a blocked /64
# at full speed), the built-in blocklist holding 2001:2::/48, the /96 floor,
# a bad hitlist line, the opt-out list, shards (disjoint, whole), the same
# seed giving the same order, -P 2, and the next hop's MAC taken from the
# neighbour cache when it has one.
#   test_ipv6.sh KUBESURVEY BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
net_test_init ipv6 200 "$@"

truth4=$("$SIM" up "$TEST_ID" 200 198.18.0.0/22)
pop6=$WORK/pop6
mkdir -p "$pop6"
awk -v out="$pop6" -f "$(dirname "$0")/ipv6_population.awk" </dev/null
"$SIM" up6 "$TEST_ID" 443,6443 "$pop6/nft.txt"
ip -n "$S" neigh flush all
hitlist=$pop6/hitlist.txt
{ cat "$truth4"; tail -n +2 "$pop6/truth.csv"; } >"$WORK/truth.csv"
targets4=$((1024 * 2))
targets6=$(((256 + 40) * 2))   # the prefix, and the hitlist's 40 distinct entries outside it

syn_counts() {
    local s4 s6
    s4=$("$SIM" counter "$TEST_ID" syn_in); s6=$("$SIM" counter "$TEST_ID" syn6_in)
    [[ $s4 -eq $1 && $s6 -eq $2 ]] ||
        fail "$3: target saw $s4 IPv4 and $s6 IPv6 SYNs, expected $1 and $2"
}

# 1. The mixed scan, exactly.
ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 -o "$WORK/scan.csv" \
    --hitlist "$hitlist" 198.18.0.0/22 2001:2::/120 || fail "mixed scan exited with status $?"
expect_same_pairs "$WORK/truth.csv" "$WORK/scan.csv" "mixed IPv4 + IPv6 prefix + hitlist scan"
syn_counts $targets4 $targets6 "mixed scan"
grep -q '^2001:2:0:4::ab04,' "$WORK/scan.csv" ||
    fail "the written-out hitlist entry is not reported in RFC 5952 form"
"$SIM" reset "$TEST_ID"

# JSON Lines too, IPv6 only.
ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 --output-format jsonl \
    -o "$WORK/scan.jsonl" 2001:2::/120 || fail "IPv6 jsonl scan exited with status $?"
want=$(grep -c '^2001:2::[0-9a-f]*,' "$pop6/truth.csv" || true)
got=$(grep -c '^{"saddr":"2001:2::[0-9a-f]*","sport":[0-9]*}$' "$WORK/scan.jsonl" || true)
[[ $got -eq $want && $(wc -l <"$WORK/scan.jsonl") -eq $want ]] ||
    fail "jsonl: $got well-formed IPv6 lines of $(wc -l <"$WORK/scan.jsonl"), expected $want"
"$SIM" reset "$TEST_ID"

# 2. Blocklist: a /64 of the hitlist and a /24 of IPv4 get nothing at full speed.
"$SIM" add-counter6 "$TEST_ID" blocked6 2001:2:0:7::/64
"$SIM" add-counter "$TEST_ID" blocked4 198.18.1.0/24
printf '# test blocklist\n2001:2:0:7::/64\n198.18.1.0/24  # IPv4 too\n' >"$WORK/block.txt"
ks_scan --syn-only -b "$WORK/block.txt" -c 2 -q -r 0 -p 443,6443 -o "$WORK/blocked.csv" \
    --hitlist "$hitlist" 198.18.0.0/22 2001:2::/120 || fail "blocklist scan exited with status $?"
[[ $("$SIM" counter "$TEST_ID" blocked6) -eq 0 ]] || fail "blocked IPv6 /64 received SYNs"
[[ $("$SIM" counter "$TEST_ID" blocked4) -eq 0 ]] || fail "blocked IPv4 /24 received SYNs"
grep -v -e '^2001:2:0:7::' -e '^198\.18\.1\.' "$WORK/truth.csv" >"$WORK/expected-blocked.csv"
[[ $(count_rows "$WORK/expected-blocked.csv") -lt $(count_rows "$WORK/truth.csv") ]] ||
    fail "the blocked ranges hold no open pair: the test proves nothing"
expect_same_pairs "$WORK/expected-blocked.csv" "$WORK/blocked.csv" "scan with an IPv6 blocklist"
syn_counts $((targets4 - 512)) $((targets6 - 2)) "blocklist scan"
"$SIM" reset "$TEST_ID"

# The built-in blocklist holds 2001:2::/48 (IANA: benchmarking), as it holds
# 198.18.0.0/15: the tests replace it with -b, and without -b nothing is sent.
if ks_scan --syn-only -c 0 -q -r 0 -p 443 -o "$WORK/none.csv" 2001:2::/120 2>"$WORK/builtin.err"; then
    fail "a scan of 2001:2::/120 under the built-in blocklist succeeded"
fi
grep -q 'blocklist' "$WORK/builtin.err" || fail "built-in blocklist refusal: $(cat "$WORK/builtin.err")"
syn_counts 0 0 "scan refused by the built-in blocklist"

# 3. Prefixes shorter than /96 need --force-large-prefix; a bad hitlist line is named.
if ks_scan --syn-only -b "$EMPTY" -q -p 443 --dry-run 2001:2::/95 >/dev/null 2>"$WORK/large.err"; then
    fail "a /95 was scanned without --force-large-prefix"
fi
grep -q 'cannot be enumerated' "$WORK/large.err" || fail "/95 refusal: $(cat "$WORK/large.err")"
ks_scan --no-blocklist -q -p 443 --dry-run --force-large-prefix --max-targets 5 --seed 1 \
    2001:2::/80 >"$WORK/large.csv" || fail "--force-large-prefix dry run failed"
[[ $(count_rows "$WORK/large.csv") -eq 5 ]] || fail "--force-large-prefix --max-targets 5 listed $(count_rows "$WORK/large.csv")"
printf '2001:2::1\n# comment\n2001:2::g\n' >"$WORK/bad-hitlist.txt"
if ks_scan --syn-only -b "$EMPTY" -q -p 443 --hitlist "$WORK/bad-hitlist.txt" -o "$WORK/x.csv" 2>"$WORK/bad.err"; then
    fail "a hitlist with a bad line was accepted"
fi
grep -q 'bad-hitlist.txt:3:' "$WORK/bad.err" || fail "bad hitlist line not named: $(cat "$WORK/bad.err")"

# 4. Opt-out: an IPv6 prefix and a hitlist /64 get no SYN; the order is the same.
"$SIM" add-counter6 "$TEST_ID" opted6 2001:2::/124
"$SIM" add-counter6 "$TEST_ID" opted6h 2001:2:0:9::/64
# Read again on SIGHUP as nobody: it and its directory must be readable by nobody.
chmod 711 "$WORK"
mkdir -m 755 "$WORK/lists"
printf '2001:2::/124\n2001:2:0:9::/64\n' >"$WORK/lists/opt-out.txt"
chmod 644 "$WORK/lists/opt-out.txt"
ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 --opt-out "$WORK/lists/opt-out.txt" \
    -o "$WORK/opted.csv" --hitlist "$hitlist" 2001:2::/120 || fail "opt-out scan exited with status $?"
[[ $("$SIM" counter "$TEST_ID" opted6) -eq 0 && $("$SIM" counter "$TEST_ID" opted6h) -eq 0 ]] ||
    fail "opted-out IPv6 addresses received SYNs"
grep -E -v -e '^2001:2::[0-9a-f]?,' -e '^2001:2:0:9::' "$pop6/truth.csv" >"$WORK/expected-opted.csv"
expect_same_pairs "$WORK/expected-opted.csv" "$WORK/opted.csv" "scan with an IPv6 opt-out list"
syn_counts 0 $((targets6 - 32 - 2)) "opt-out scan"
"$SIM" reset "$TEST_ID"

# 5. Shards: three shards of the mixed scan are disjoint and together exact.
for shard in 0 1 2; do
    ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 --seed 4242 --shards 3 \
        --shard $shard -o "$WORK/shard$shard.csv" --hitlist "$hitlist" 198.18.0.0/22 2001:2::/120 ||
        fail "shard $shard exited with status $?"
done
{ echo saddr,sport; for s in 0 1 2; do tail -n +2 "$WORK/shard$s.csv"; done; } >"$WORK/shards.csv"
expect_same_pairs "$WORK/truth.csv" "$WORK/shards.csv" "union of 3 shards (no pair twice)"
syn_counts $targets4 $targets6 "3 shards"
"$SIM" reset "$TEST_ID"
for shard in 0 1 2; do
    ks_scan -b "$EMPTY" -p 443,6443 --seed 4242 --shards 3 --shard $shard --dry-run \
        --hitlist "$hitlist" 198.18.0.0/22 2001:2::/120 >"$WORK/dry$shard.csv" ||
        fail "dry run of shard $shard failed"
done
rows=$(cat "$WORK"/dry[012].csv | grep -v daddr | LC_ALL=C sort -u | wc -l)
total=$(cat "$WORK"/dry[012].csv | grep -vc daddr)
[[ $rows -eq $total && $total -eq $((targets4 + targets6)) ]] ||
    fail "dry-run shards list $total targets, $rows distinct, expected $((targets4 + targets6))"

# 6. The same seed gives the same order, another seed another.
ks_scan -b "$EMPTY" -p 443,6443 --seed 77 --dry-run --hitlist "$hitlist" 198.18.0.0/22 \
    2001:2::/120 >"$WORK/order1.csv"
ks_scan -b "$EMPTY" -p 443,6443 --seed 77 --dry-run --hitlist "$hitlist" 198.18.0.0/22 \
    2001:2::/120 >"$WORK/order2.csv"
ks_scan -b "$EMPTY" -p 443,6443 --seed 78 --dry-run --hitlist "$hitlist" 198.18.0.0/22 \
    2001:2::/120 >"$WORK/order3.csv"
cmp -s "$WORK/order1.csv" "$WORK/order2.csv" || fail "seed 77 gave two different orders"
cmp -s "$WORK/order1.csv" "$WORK/order3.csv" && fail "seeds 77 and 78 gave the same order"
[[ $(head -3 "$WORK/order1.csv" | tail -2 | grep -c .) -eq 2 ]] || fail "empty dry run"

# 7. -P 2: two SYNs per target, the same result.
ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -P 2 -p 443,6443 -o "$WORK/p2.csv" \
    --hitlist "$hitlist" 2001:2::/120 || fail "-P 2 scan exited with status $?"
expect_same_pairs "$pop6/truth.csv" "$WORK/p2.csv" "IPv6 scan with -P 2"
syn_counts 0 $((targets6 * 2)) "-P 2 scan"

# 8. The next hop's MAC from the neighbour cache: with the target ignoring
# Neighbour Solicitations, a scan works only from the cache's entry; with
# the cache flushed it fails, saying so, and sends nothing.
"$SIM" reset "$TEST_ID"
ip netns exec "$T" nft -f - <<'NFT'
table inet ksns {
    chain input {
        type filter hook input priority -10; policy accept;
        icmpv6 type nd-neighbor-solicit drop
    }
}
NFT
gwmac=$("$SIM" gwmac "$TEST_ID")
ip -n "$S" neigh flush all
ip -n "$S" -6 neigh replace 2001:2:ffff::fe lladdr "$gwmac" dev "ks${TEST_ID}a" nud permanent
ks_scan --syn-only -b "$EMPTY" -c 2 -q -r 0 -p 443,6443 -o "$WORK/cached.csv" 2001:2::/120 ||
    fail "scan with the router in the neighbour cache (solicitations ignored) exited with status $?"
grep -E '^(saddr|2001:2::[0-9a-f]*,)' "$pop6/truth.csv" >"$WORK/expected-prefix.csv"
expect_same_pairs "$WORK/expected-prefix.csv" "$WORK/cached.csv" "scan using the neighbour cache"
syn_counts 0 512 "scan using the neighbour cache"
ip -n "$S" -6 neigh del 2001:2:ffff::fe dev "ks${TEST_ID}a"   # flush keeps permanent entries
ip -n "$S" neigh flush all
[[ -z "$(ip -n "$S" -6 neigh show 2001:2:ffff::fe)" ]] || fail "could not empty the neighbour cache of $S"
"$SIM" reset "$TEST_ID"
if ks_scan --syn-only -b "$EMPTY" -c 0 -q -r 0 -p 443 -o "$WORK/nocache.csv" 2001:2::/120 \
    2>"$WORK/nocache.err"; then
    fail "a scan succeeded with an empty neighbour cache and no Neighbour Advertisement"
fi
grep -q 'no Neighbour Advertisement from next hop 2001:2:ffff::fe' "$WORK/nocache.err" ||
    fail "unanswered solicitation: $(cat "$WORK/nocache.err")"
syn_counts 0 0 "scan without a next-hop MAC"
ip netns exec "$T" nft delete table inet ksns
note "mixed scan exact; blocklist, opt-out, shards, seed order, -P 2 and the neighbour cache on IPv6"
