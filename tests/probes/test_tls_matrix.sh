#!/usr/bin/env bash
# test_tls_matrix.sh - `kubesurvey probe` against `openssl s_server`, one
# server per combination of TLS version (1.2, 1.3), key exchange group
# (X25519, P-256, P-384: each server offers only its one), certificate (RSA,
# ECDSA P-256) and suite (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305):
# every record must be ok with exactly that version and suite, the server's
# certificate as the chain, and the version.Info the server sent. A P-384
# TLS 1.3 server makes the client answer a HelloRetryRequest (it offers
# an X25519 share first). The probe then runs again with --no-fast-keys
# (OpenSSL's own key decoding and key schedule): the records must be the
# same but for their times.
#   usage: test_tls_matrix.sh KUBESURVEY NETNS_SH ID
set -euo pipefail
ks=$1 netns=$2 id=$3
. "$(dirname "$0")/../lib.sh"
TEST_NAME=tls_matrix
need_root "test_tls_matrix.sh: needs root (network namespaces); skipped"
netns_test_up "$netns" "$id"

# Certificates, and the SHA-256 of each one's DER (what the chain must hold).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/rsa.key" -out "$tmp/rsa.crt" \
  -days 30 -subj "/CN=kube-apiserver" -addext "subjectAltName=DNS:kubernetes" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ecdsa.key" \
  -out "$tmp/ecdsa.crt" -days 30 -subj "/CN=kube-apiserver" -addext "subjectAltName=DNS:kubernetes" \
  2>/dev/null
der_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
# s_server -WWW answers GET /version with the file "version" of its directory.
mkdir -p "$tmp/www"
printf '{\n  "major": "1",\n  "minor": "30",\n  "gitVersion": "v1.30.2",\n  "platform": "linux/amd64"\n}\n' \
  > "$tmp/www/version"

# One line per server: port version group cert suite (s_server's -ciphersuites
# for TLS 1.3, -cipher for TLS 1.2; the record names either as OpenSSL does).
port=20000
: > "$tmp/servers"
for version in 1.3 1.2; do
  for group in X25519 P-256 P-384; do
    for cert in rsa ecdsa; do
      if [[ $version == 1.3 ]]; then
        suites="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
      else
        auth=${cert^^}
        suites="ECDHE-$auth-AES128-GCM-SHA256 ECDHE-$auth-AES256-GCM-SHA384 ECDHE-$auth-CHACHA20-POLY1305"
      fi
      for suite in $suites; do
        port=$((port + 1))
        echo "$port $version $group $cert $suite" >> "$tmp/servers"
      done
    done
  done
done
last=$port

open=()
while read -r port version group cert suite; do
  if [[ $version == 1.3 ]]; then
    only=(-tls1_3 -ciphersuites "$suite")
  else
    only=(-tls1_2 -cipher "$suite")
  fi
  (cd "$tmp/www" && exec ip netns exec "$T" openssl s_server -quiet -WWW -accept "$port" \
    -cert "$tmp/$cert.crt" -key "$tmp/$cert.key" -groups "$group" "${only[@]}") \
    > "$tmp/server.$port.log" 2>&1 &
  pids+=($!)
  open+=("198.18.0.1 . $port")
  echo "198.18.0.1:$port" >> "$tmp/targets"
done < "$tmp/servers"
for _ in $(seq 100); do
  (( $(ip netns exec "$T" ss -Hltn "sport >= :20001 and sport <= :$last" | grep -c LISTEN) == ${#open[@]} )) && break
  sleep 0.1
done
(( $(ip netns exec "$T" ss -Hltn "sport >= :20001 and sport <= :$last" | grep -c LISTEN) == ${#open[@]} )) ||
  fail "not every s_server listens: $(cat "$tmp"/server.*.log | head -5)"
ip netns exec "$T" nft add element inet ks open "{ $(IFS=,; echo "${open[*]}") }"

# s_server serves one connection at a time: a few in flight are enough.
probe() { # OUTPUT [FLAGS]
  ip netns exec "$S" "$ks" probe -f "$tmp/targets" -o "$1" --concurrency 8 -q "${@:2}" ||
    check_failed "kubesurvey probe ${*:2} exited $?"
}
probe "$tmp/fast.jsonl"
probe "$tmp/slow.jsonl" --no-fast-keys

python3 - "$tmp/servers" "$tmp/fast.jsonl" "$tmp/slow.jsonl" "$(der_sha256 "$tmp/rsa.crt")" \
  "$(der_sha256 "$tmp/ecdsa.crt")" <<'PY' || TEST_FAILS=$((TEST_FAILS + 1))
import json, sys
servers_path, fast_path, slow_path, rsa_sha, ecdsa_sha = sys.argv[1:]
servers = {}
for line in open(servers_path):
    port, version, group, cert, suite = line.split()
    servers[int(port)] = (version, group, cert, suite)
sha = {"rsa": rsa_sha, "ecdsa": ecdsa_sha}

def load(path):
    records = {}
    for line in open(path):
        r = json.loads(line)
        records[r["port"]] = r
    return records

bad = 0
def failed(message):
    global bad
    print("tls_matrix: FAIL: " + message, file=sys.stderr)
    bad = 1

fast, slow = load(fast_path), load(slow_path)
if set(fast) != set(servers):
    failed(f"records for ports {sorted(fast)}, servers on {sorted(servers)}")
for port, (version, group, cert, suite) in sorted(servers.items()):
    r = fast.get(port)
    if r is None:
        continue
    what = f"TLS {version} {group} {cert} {suite} (port {port})"
    got = (r["outcome"], r["tls_version"], r["tls_cipher"], r["http_status"], r.get("git_version"),
           [c["sha256"] for c in r["chain"]])
    want = ("ok", "TLSv" + version, suite, 200, "v1.30.2", [sha[cert]])
    if got != want:
        failed(f"{what}: got {got}, want {want} (error: {r.get('error')})")
    # the same record without the fast paths, but for when it was made
    a = {k: v for k, v in r.items() if k not in ("started_ms", "duration_ms")}
    b = {k: v for k, v in slow.get(port, {}).items() if k not in ("started_ms", "duration_ms")}
    if a != b:
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        failed(f"{what}: --no-fast-keys record differs in {diff}")
sys.exit(bad)
PY

(( TEST_FAILS == 0 )) && echo "tls_matrix: all $(wc -l < "$tmp/servers") servers probed as expected, with and without the fast paths"
exit $((TEST_FAILS > 0))
