#!/bin/bash
# test_upgrade3.sh - a store written by schema 3 (address index keyed by
# scan, IPv4 address, port; data/schema3.lmdb: two scans, 21 hosts and 8
# certificates written by gen_db --crafted then --later at commit af774dc,
# data/schema3-*.jsonl, -scan1.csv and -show.txt what that build's export
# and show printed): read as it is by a read-only open, upgraded to schema 4
# (a family byte in every address key) by the first read-write one; both
# print exactly what the old build printed, and IPv6 lookups in it find
# nothing rather than failing.
set -u
: "${KUBESURVEY:?}"
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/ks-upgrade3-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$here/../lib.sh"
ks=$KUBESURVEY
data=$here/data
db=$dir/old.lmdb
cp "$data/schema3.lmdb" "$db"
chmod 0444 "$db"   # a read-only open must not need to upgrade it

schema_of() { mdb_dump -n -s meta "$1" | grep -A1 '^ 736368656d615f76657273696f6e$' | tail -1; }
# the length in bytes of every key of addrs, sorted and counted
key_lengths() {
    mdb_dump -n -s addrs "$1" | sed -n '/^HEADER=END/,/^DATA=END/p' | sed -n '2~2p' |
        grep -v DATA=END | awk '{print length($1) / 2}' | sort | uniq -c | tr -s ' '
}
same_output() { # what: as the old build printed it
    local stage=$1
    for scan in 1 2; do
        $ks export "$db" --format jsonl --scan $scan --certs pem -o "$dir/$stage-$scan.jsonl" ||
            fail "$stage: export of scan $scan"
        cmp -s "$data/schema3-scan$scan.jsonl" "$dir/$stage-$scan.jsonl" ||
            fail "$stage: the export of scan $scan differs from the old build's"
    done
    $ks export "$db" --format csv --scan 1 -o "$dir/$stage-1.csv" || fail "$stage: CSV export"
    cmp -s "$data/schema3-scan1.csv" "$dir/$stage-1.csv" ||
        fail "$stage: the CSV export differs from the old build's"
    $ks show "$db" 198.18.0.3 >"$dir/$stage-show.txt" || fail "$stage: show"
    cmp -s "$data/schema3-show.txt" "$dir/$stage-show.txt" ||
        fail "$stage: show prints other text than the old build"
    $ks show "$db" '[2001:2::1]:443' >"$dir/$stage-show6.txt" 2>&1
    [[ $? -eq 1 ]] && grep -q 'no record' "$dir/$stage-show6.txt" ||
        { cat "$dir/$stage-show6.txt"; fail "$stage: show of an IPv6 address in an IPv4 store"; }
    $ks check "$db" >"$dir/$stage-check.out" ||
        { cat "$dir/$stage-check.out"; fail "$stage: check"; }
    grep -qE '^addrs +21 ' "$dir/$stage-check.out" || fail "$stage: the index lost hosts"
}

[[ $(schema_of "$db") == " 00000003" ]] || fail "the fixture is not a schema 3 store"
same_output read-only
cmp -s "$data/schema3.lmdb" "$db" || fail "a read-only open wrote to the file"
[[ $(key_lengths "$db") == " 21 10" ]] || fail "a read-only open changed the keys"

chmod 0644 "$db"
$ks compact "$db" >"$dir/compact.out" 2>&1 ||
    { cat "$dir/compact.out"; fail "compact (read-write open) of a schema 3 store"; }
[[ $(schema_of "$db") == " 00000004" ]] || fail "the first read-write open did not upgrade"
[[ $(key_lengths "$db") == " 21 11" ]] ||
    { key_lengths "$db"; fail "the upgrade did not give every address key its family byte"; }
same_output upgraded
echo "schema 3 store: read as it is, upgraded to 4, the same 21 hosts, exports and show"
