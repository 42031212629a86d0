#!/bin/bash
# test_cli.sh - the storage commands of kubesurvey: output, exit statuses
# (0 ok, 1 runtime failure, 2 usage), --help, and reading while a writer
# writes (another process).
set -u
: "${KUBESURVEY:?} ${STORE_DRIVER:?}"
dir=$(mktemp -d /tmp/ks-cli-XXXXXX)
pid=
trap 'if [ -n "$pid" ]; then kill -9 $pid 2>/dev/null; fi; rm -rf "$dir"' EXIT
db=$dir/survey.lmdb
ks=$KUBESURVEY
. "$(dirname "$0")/../lib.sh"
expect_status() {   # expect_status N command...
    local want=$1; shift
    "$@" > "$dir/out" 2> "$dir/err"
    local got=$?
    [ $got -eq "$want" ] || { cat "$dir/out" "$dir/err"; fail "'$*' exited $got, expected $want"; }
}

for c in scans show cert check compact; do
    expect_status 0 $ks $c --help
    grep -q "usage: kubesurvey $c" "$dir/out" || fail "$c --help prints no usage"
    expect_status 2 $ks $c
    expect_status 2 $ks $c --bogus-option
done

scan=$("$STORE_DRIVER" fill "$db" 500) || fail "fill"
[ "$scan" = 1 ] || fail "fill made scan '$scan'"
"$STORE_DRIVER" fill "$db" 20 > /dev/null || fail "fill 2"

# scans: two lines after the header, with host counts and counters
expect_status 0 $ks scans "$db"
[ "$(wc -l < "$dir/out")" -eq 3 ] || { cat "$dir/out"; fail "scans: expected 3 lines"; }
grep -Eq '^1 +2026-11-29T12:00:00Z +2026-11-29T12:05:00Z +1/1 +500 +sent=1000 open=42$' "$dir/out" \
    || { cat "$dir/out"; fail "scans: line of scan 1"; }
grep -Eq '^2 .* 20 ' "$dir/out" || fail "scans: line of scan 2"

# show: readable, JSON, every port / one port, one scan / all
expect_status 0 $ks show "$db" 198.18.0.7
[ "$(grep -c '^198.18.0.7:6443 (scan' "$dir/out")" -eq 2 ] || { cat "$dir/out"; fail "show: 2 scans"; }
grep -q 'version       v1.19.6-7' "$dir/out" || fail "show: git version"
expect_status 0 $ks show "$db" 198.18.0.7:6443 --scan 1 --json
[ "$(wc -l < "$dir/out")" -eq 1 ] || fail "show --json: one line"
grep -q '"scan":1,"addr":"198.18.0.7","port":6443' "$dir/out" || { cat "$dir/out"; fail "show --json: key"; }
grep -q '"git_version":"v1.19.6-7"' "$dir/out" || fail "show --json: git_version"
grep -q '"subject":"/O=k3s/CN=kube-apiserver"' "$dir/out" || { cat "$dir/out"; fail "show --json: cert subject"; }
expect_status 1 $ks show "$db" 198.18.0.7:443
grep -q 'no record for 198.18.0.7:443' "$dir/err" || fail "show: missing record message"
expect_status 1 $ks show "$db" 198.18.0.77 --scan 2
expect_status 2 $ks show "$db" 198.18.0.300
expect_status 2 $ks show "$db" 198.18.0.1:0
expect_status 2 $ks show "$db" 198.18.0.1 --scan x

# cert: the leaf of 198.18.0.7 in PEM, DER and text
hash=$($ks show "$db" 198.18.0.7:6443 --scan 1 | awk '/cert\[0\]/ {print $2}')
[ ${#hash} -eq 64 ] || fail "no certificate hash in show output"
expect_status 0 $ks cert "$db" "$hash"
head -1 "$dir/out" | grep -q -- '-----BEGIN CERTIFICATE-----' || fail "cert: PEM"
openssl x509 -in "$dir/out" -noout -subject | grep -q 'CN = kube-apiserver' || fail "cert: PEM does not parse"
$ks cert "$db" "$hash" --der > "$dir/der" || fail "cert --der"
[ "$(sha256sum < "$dir/der" | cut -d' ' -f1)" = "$hash" ] || fail "cert --der: hash differs"
expect_status 0 $ks cert "$db" "$hash" --text
grep -q 'Subject: O=k3s, CN=kube-apiserver' "$dir/out" || fail "cert --text"
grep -q 'DNS:kubernetes.default.svc' "$dir/out" || fail "cert --text: SANs"
expect_status 1 $ks cert "$db" "$(printf '%064d' 0)"
grep -q 'no certificate' "$dir/err" || fail "cert: missing message"
expect_status 2 $ks cert "$db" abc
expect_status 2 $ks cert "$db" "$hash" --pem --der

# check and compact
expect_status 0 $ks check "$db"
grep -q '2 scans, 520 hosts, 61 certificates, 0 dictionaries: ok' "$dir/out" || { cat "$dir/out"; fail "check output"; }
expect_status 0 $ks compact "$db"
grep -q '^after: *61 certificates, .* (61 with a dictionary); 1 dictionaries' "$dir/out" || { cat "$dir/out"; fail "compact output"; }
expect_status 0 $ks check "$db"
grep -q '2 scans, 520 hosts, 61 certificates, 1 dictionaries: ok' "$dir/out" || { cat "$dir/out"; fail "check after compact"; }
expect_status 0 $ks cert "$db" "$hash" --der

# a missing file
expect_status 1 $ks check "$dir/none.lmdb"
grep -q 'No such file' "$dir/err" || fail "check: missing file message"

# reading while another process writes
wdb=$dir/busy.lmdb
"$STORE_DRIVER" write "$wdb" "$dir/state" 60000 > "$dir/write.out" 2>&1 &
pid=$!
for i in $(seq 50); do [ -s "$dir/state" ] && break; sleep 0.1; done
"$STORE_DRIVER" read "$wdb" 1.5 > "$dir/read.out" 2>&1 || { cat "$dir/read.out"; fail "read while writing"; }
expect_status 0 $ks scans "$wdb"
wait $pid || { cat "$dir/write.out"; fail "writer"; }
pid=
"$STORE_DRIVER" verify "$wdb" "$dir/state" > /dev/null || fail "verify after concurrent reads"
grep -q ' 60000 committed' <("$STORE_DRIVER" verify "$wdb" "$dir/state") || fail "writer did not finish 60000"
expect_status 0 $ks check "$wdb"
echo "PASS: $(cat "$dir/read.out")"
