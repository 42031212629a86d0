#!/bin/bash
# test_upgrade.sh - a store written by schema 2 (certificates keyed by
# SHA-256; data/schema2.lmdb, 12 hosts and 13 certificates written by
# kubesurvey at commit 5c7fa16, data/schema2.jsonl its export by that build):
# read as it is by a read-only open, upgraded to schema 3 by the first
# read-write one, and both read exactly what the old build exported, plus
# the fields its version 2 records predate (all_ports_open false; and the
# version 4 fields: module, finding and the etcd versions null,
# tls_cert_requested false).
set -u
: "${KUBESURVEY:?}"
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/ks-upgrade-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$here/../lib.sh"
ks=$KUBESURVEY
db=$dir/old.lmdb
cp "$here/data/schema2.lmdb" "$db"
chmod 0444 "$db"   # a read-only open must not need to upgrade it

# The export of this build less the fields the old records predate (every
# record has them, with these values, and nothing else is new).
new=',"all_ports_open":false,"module":null,"tls_cert_requested":false,"finding":null,"etcd_server":null,"etcd_cluster":null'
old_fields() {
    [[ $(grep -cF "$new,\"scan\":1}" "$1") -eq 12 ]] ||
        fail "$1: not every record has the newer fields as null and false"
    sed "s/$new,\"scan\":1}\$/,\"scan\":1}/" "$1" >"$1.old"
}
$ks export "$db" --format jsonl --certs pem -o "$dir/ro.jsonl" || fail "read-only export of a schema 2 store"
old_fields "$dir/ro.jsonl"
cmp -s "$here/data/schema2.jsonl" "$dir/ro.jsonl.old" || fail "schema 2 read as it is: export differs from the old build's"
$ks check "$db" > "$dir/check-ro.out" || { cat "$dir/check-ro.out"; fail "check of a schema 2 store"; }
grep -q '^cert_index' "$dir/check-ro.out" && fail "a read-only open changed the schema"
cmp -s "$here/data/schema2.lmdb" "$db" || fail "a read-only open wrote to the file"

chmod 0644 "$db"
$ks compact "$db" > "$dir/compact.out" 2>&1 || { cat "$dir/compact.out"; fail "compact (read-write open) of a schema 2 store"; }
$ks check "$db" > "$dir/check.out" || { cat "$dir/check.out"; fail "check after the upgrade"; }
grep -qE '^cert_index +13 ' "$dir/check.out" || { cat "$dir/check.out"; fail "the upgrade did not index the 13 certificates"; }
grep -qE '^certs +13 ' "$dir/check.out" || { cat "$dir/check.out"; fail "the upgrade lost certificates"; }
$ks export "$db" --format jsonl --certs pem -o "$dir/rw.jsonl" || fail "export after the upgrade"
old_fields "$dir/rw.jsonl"
cmp -s "$here/data/schema2.jsonl" "$dir/rw.jsonl.old" || fail "after the upgrade: export differs from the old build's"
echo "schema 2 store: read as it is, upgraded, same 12 records and 13 certificates"
