#!/bin/bash
# test_tmpfs.sh - a full disk and a read-only file system: a clear error,
# and everything committed before stays intact. Needs root (mount).
set -u
: "${KUBESURVEY:?} ${STORE_DRIVER:?}"
. "$(dirname "$0")/../lib.sh"
need_root "SKIP: needs root to mount a small tmpfs"
dir=$(mktemp -d /tmp/ks-tmpfs-XXXXXX)
trap 'umount "$dir/mnt" 2>/dev/null; rm -rf "$dir"' EXIT
mkdir "$dir/mnt"
mount -t tmpfs -o size=6m tmpfs "$dir/mnt" || skip "SKIP: cannot mount tmpfs"
db=$dir/mnt/full.lmdb

# write until the 6 MiB file system is full (the map is 64 MiB: this is
# ENOSPC, not MDB_MAP_FULL)
"$STORE_DRIVER" write "$db" "$dir/state" 2000000 > "$dir/write.out" 2>&1
st=$?
[ $st -eq 3 ] || { cat "$dir/write.out"; fail "writer exit $st, expected 3 (an error)"; }
grep -q "no space left on the device (disk full)" "$dir/write.out" || { cat "$dir/write.out"; fail "message"; }
echo "writer stopped with: $(cat "$dir/write.out")"
read -r scan committed < "$dir/state"
[ "$committed" -gt 0 ] || fail "nothing committed before the disk filled"
"$KUBESURVEY" check "$db" > "$dir/check.out" 2>&1 || { cat "$dir/check.out"; fail "check after ENOSPC"; }
"$STORE_DRIVER" verify "$db" "$dir/state" || fail "committed records lost"

# read-only file system: writing is refused clearly, reading works
mount -o remount,ro "$dir/mnt" || fail "remount ro"
"$KUBESURVEY" compact "$db" > /dev/null 2> "$dir/err"
[ $? -eq 1 ] || fail "compact on a read-only fs should fail"
grep -q "Read-only file system\|read-only file system" "$dir/err" || { cat "$dir/err"; fail "ro message"; }
echo "read-only: $(cat "$dir/err")"
"$KUBESURVEY" check "$db" > /dev/null || fail "check on a read-only fs"
"$STORE_DRIVER" verify "$db" "$dir/state" > /dev/null || fail "verify on a read-only fs"
"$STORE_DRIVER" write "$dir/mnt/new.lmdb" "$dir/state2" 10 > "$dir/new.out" 2>&1
[ $? -eq 3 ] || fail "creating a store on a read-only fs should fail"
grep -q "ead-only file system" "$dir/new.out" || { cat "$dir/new.out"; fail "create ro message"; }
echo "PASS: $committed records committed before ENOSPC intact"
