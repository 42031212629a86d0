#!/bin/bash
# test_corrupt.sh - kubesurvey on files that are not good stores: a clear
# message, exit 1, no crash (a crash would exit >= 128).
set -u
: "${KUBESURVEY:?} ${STORE_DRIVER:?}"
dir=$(mktemp -d /tmp/ks-corrupt-XXXXXX)
trap 'rm -rf "$dir"' EXIT
ks=$KUBESURVEY
. "$(dirname "$0")/../lib.sh"
expect_error() {   # expect_error FILE WORDS
    for c in "check" "scans" "show" "compact"; do
        args=("$1"); [ $c = show ] && args+=(198.18.0.1)
        $ks $c "${args[@]}" > "$dir/out" 2> "$dir/err"
        st=$?
        [ $st -eq 1 ] || { cat "$dir/err"; fail "$c on $1: exit $st, expected 1"; }
        grep -q "$2" "$dir/err" || { cat "$dir/err"; fail "$c on $1: message lacks '$2'"; }
    done
}
head -c 100000 /dev/urandom > "$dir/random.lmdb"
expect_error "$dir/random.lmdb" "not an LMDB file"
: > "$dir/empty.lmdb"
$ks check "$dir/empty.lmdb" > /dev/null 2> "$dir/err"; [ $? -eq 1 ] || fail "empty file"
grep -q "empty file\|empty LMDB file\|not an LMDB" "$dir/err" || { cat "$dir/err"; fail "empty file message"; }
mkdir "$dir/adir"
expect_error "$dir/adir" "is a directory"

# a foreign LMDB (made with mdb_load from lmdb-utils if present, else skip that part)
if command -v mdb_load > /dev/null; then
    printf 'VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=1048576\nmaxreaders=126\nHEADER=END\n 6b6579\n 76616c7565\nDATA=END\n' \
        | mdb_load -n -f /dev/stdin "$dir/foreign.lmdb" || fail "mdb_load"
    expect_error "$dir/foreign.lmdb" "not a kubesurvey store"
else
    echo "note: mdb_load missing; the foreign-LMDB case runs in the unit test only"
fi

# a truncated store
"$STORE_DRIVER" fill "$dir/good.lmdb" 3000 > /dev/null || fail "fill"
$ks check "$dir/good.lmdb" > /dev/null || fail "good store fails check"
cp "$dir/good.lmdb" "$dir/trunc.lmdb"
truncate -s 65536 "$dir/trunc.lmdb"
expect_error "$dir/trunc.lmdb" "truncated"

# (Random damage inside LMDB's B-tree pages is not tested: LMDB has no page
# checksums, and a damaged branch page can crash any LMDB reader. Damaged
# record values and certificate frames are tested in test_storage.c.)
echo "PASS"
