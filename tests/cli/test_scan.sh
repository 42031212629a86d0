#!/usr/bin/env bash
# test_scan.sh BINARY - the command line without a network: help, version,
# exit statuses and messages for bad input, and --dry-run over large spaces
# (every target exactly once; shards disjoint and complete).
set -u
KS=${1:?usage: test_scan.sh BINARY}
checks=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib.sh"

check() { # check NAME EXPECTED_STATUS EXPECTED_STDERR_SUBSTRING -- command...
    local name=$1 want=$2 msg=$3; shift 4
    checks=$((checks + 1))
    "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
    if [ "$got" != "$want" ] || ! grep -qF -- "$msg" "$tmp/err" "$tmp/out"; then
        check_failed "$name: status $got (want $want), output lacks '$msg':"; head -5 "$tmp/err"
    fi
}

check version 0 "kubesurvey 0." -- "$KS" --version
check help 0 "scan" -- "$KS" --help
check scan-help 0 "--blocklist FILE" -- "$KS" scan --help
check no-command 2 "usage" -- "$KS"
check unknown-command 2 "unknown command 'frobnicate'" -- "$KS" frobnicate
check unknown-option 2 "--frob" -- "$KS" scan --frob 1.2.3.4
check bad-cidr 2 "1.2.3.4/33" -- "$KS" scan --dry-run 1.2.3.4/33
check bad-addr 2 "300.1.1.1" -- "$KS" scan --dry-run 300.1.1.1
check bad-port 2 "70000" -- "$KS" scan --dry-run -p 70000 1.2.3.4
check bad-port-range 2 "reversed" -- "$KS" scan --dry-run -p 90-80 1.2.3.4
check bad-rate 2 "--rate" -- "$KS" scan --dry-run -r fast 1.2.3.4
check bad-shard 2 "--shard" -- "$KS" scan --dry-run --seed 1 --shards 2 --shard 2 1.2.3.4
check shard-needs-seed 2 "--seed" -- "$KS" scan --dry-run --shards 2 --shard 0 1.2.3.4
check no-targets 2 "no targets" -- "$KS" scan --dry-run
check missing-allowlist 2 "/nonexistent/allow" -- "$KS" scan --dry-run -w /nonexistent/allow
printf '1.2.3.0/24\nnot-an-address\n' >"$tmp/bad.list"
check bad-blocklist-line 2 "bad.list:2" -- "$KS" scan --dry-run -b "$tmp/bad.list" 1.2.3.4
check reserved-only 2 "reserved" -- "$KS" scan --dry-run 10.0.0.0/8
check bad-mac 2 "--gateway-mac" -- "$KS" scan --syn-only --gateway-mac zz 1.2.3.4 -q -b /dev/null --max-targets 1
check bad-format 2 "--output-format" -- "$KS" scan --dry-run --output-format xml 1.2.3.4
check syn-only-db 2 "--db stores probe results" -- "$KS" scan --syn-only --db x.lmdb 1.2.3.4
check syn-only-resume 2 "--resume works on a store" -- "$KS" scan --syn-only --resume 1.2.3.4
check no-db-no-output 2 "--no-db needs -o" -- "$KS" scan --no-db 1.2.3.4
check probe-option 2 "--concurrency" -- "$KS" scan --concurrency 0 1.2.3.4

# More than a /8 with an empty blocklist is refused unless --no-blocklist
# says so; a /8 itself is not. --no-blocklist excludes nothing at all.
check huge-no-blocklist 2 "more than a /8) with an empty blocklist" -- "$KS" scan --dry-run -b /dev/null 0.0.0.0/0
check two-slash8-no-blocklist 2 "--no-blocklist" -- "$KS" scan --dry-run -q -b /dev/null 10.0.0.0/8 11.0.0.0/24
check no-blocklist-and-blocklist 2 "exclude each other" -- "$KS" scan --dry-run --no-blocklist -b /dev/null 1.2.3.4
check bad-opt-out-line 2 "bad.list:2" -- "$KS" scan --dry-run --opt-out "$tmp/bad.list" 1.2.3.4
check missing-opt-out 2 "/nonexistent/opt-out" -- "$KS" scan --dry-run --opt-out /nonexistent/opt-out 1.2.3.4
count_targets() { "$KS" scan --dry-run -q "$@" | tail -n +2 | wc -l; }
expect_targets() { # expect_targets NAME WANT ARGS...
    local name=$1 want=$2 got; shift 2
    checks=$((checks + 1))
    got=$(count_targets "$@")
    [ "$got" = "$want" ] || check_failed "$name: $got targets, want $want"
}
expect_targets slash8-empty-blocklist 3 -b /dev/null --max-targets 3 10.0.0.0/8
expect_targets everything-no-blocklist 5 --no-blocklist --max-targets 5 0.0.0.0/0
expect_targets no-blocklist-keeps-reserved 4 --no-blocklist -p 443 10.0.0.0/30
# The dry run skips the opt-out list like the senders do.
printf '# asked not to be scanned
198.18.0.0/25
' >"$tmp/opt-out.list"
expect_targets opt-out-dry-run 128 -b /dev/null -p 443 --opt-out "$tmp/opt-out.list" 198.18.0.0/24
checks=$((checks + 1))
if "$KS" scan --dry-run -q -b /dev/null -p 443 --opt-out "$tmp/opt-out.list" 198.18.0.0/24 |
    awk -F'[.,]' 'NR > 1 && $4 < 128 { bad = 1 } END { exit !bad }'; then
    check_failed "opt-out-dry-run: lists an address of the opt-out list"
fi

# The default blocklist applies: 198.18.0.0/15 is reserved; 1.1.1.0/30 is not.
checks=$((checks + 1))
n=$("$KS" scan --dry-run -q 198.18.0.0/24 1.1.1.0/30 -p 443 | tail -n +2 | wc -l)
[ "$n" = 4 ] || check_failed "default-blocklist: $n targets, want 4"

# A large space: 2^17 addresses x 64 ports = 8,388,608 targets, each once.
checks=$((checks + 1))
"$KS" scan --dry-run -q -b /dev/null --seed 9 -p 1-64 198.18.0.0/15 | tail -n +2 >"$tmp/all"
total=$(wc -l <"$tmp/all"); uniq=$(sort -u -S 256M "$tmp/all" | wc -l)
if [ "$total" != 8388608 ] || [ "$uniq" != 8388608 ]; then
    check_failed "large-dry-run: $total lines, $uniq distinct, want 8388608"
fi

# Shards: disjoint, and their union is the whole space (3 shards x 2 threads).
checks=$((checks + 1))
for s in 0 1 2; do
    "$KS" scan --dry-run -q -b /dev/null --seed 4 --shards 3 --shard $s --sender-threads 2 \
        -p 443,6443 198.18.0.0/18 | tail -n +2
done >"$tmp/shards"
"$KS" scan --dry-run -q -b /dev/null --seed 4 -p 443,6443 198.18.0.0/18 | tail -n +2 >"$tmp/one"
if [ "$(wc -l <"$tmp/shards")" != 32768 ] || [ "$(sort -u "$tmp/shards" | wc -l)" != 32768 ] ||
   ! cmp -s <(sort "$tmp/shards") <(sort "$tmp/one"); then
    check_failed "shards: not a disjoint cover of the space"
fi

# Same seed, same order; --max-targets takes a prefix of the order.
checks=$((checks + 1))
a=$("$KS" scan --dry-run -q -b /dev/null --seed 77 198.18.0.0/20 | md5sum)
b=$("$KS" scan --dry-run -q -b /dev/null --seed 77 198.18.0.0/20 | md5sum)
m=$("$KS" scan --dry-run -q -b /dev/null --seed 77 --max-targets 100 198.18.0.0/20 | tail -n +2 | wc -l)
[ "$a" = "$b" ] && [ "$m" = 100 ] || check_failed "seed/max-targets"

# deploy/run-shard.sh takes its shard from the scheduler's variable; the
# union of 3 shards' dry runs is the whole space (no scheduler needed).
checks=$((checks + 1))
here=$(cd "$(dirname "$0")/../.." && pwd)
for i in 0 1 2; do
    JOB_COMPLETION_INDEX=$i KUBESURVEY=$KS "$here/deploy/run-shard.sh" 3 5 "$tmp/deploy-out" \
        --dry-run -q -b /dev/null -p 443 198.18.0.0/22 | tail -n +2
done | sort >"$tmp/deploy"
"$KS" scan --dry-run -q -b /dev/null -p 443 198.18.0.0/22 | tail -n +2 | sort >"$tmp/whole"
if ! cmp -s "$tmp/deploy" "$tmp/whole" || [ "$(wc -l <"$tmp/deploy")" != 1024 ]; then
    check_failed "deploy/run-shard.sh: shards do not cover the space"
fi
checks=$((checks + 1))
if SLURM_ARRAY_TASK_ID=3 KUBESURVEY=$KS "$here/deploy/run-shard.sh" 3 5 "$tmp/deploy-out" \
        --dry-run 198.18.0.0/22 2>"$tmp/err"; then
    check_failed "deploy/run-shard.sh accepted shard 3 of 3"
fi

echo "$((checks - TEST_FAILS)) passed, $TEST_FAILS failed"
[ "$TEST_FAILS" = 0 ]
