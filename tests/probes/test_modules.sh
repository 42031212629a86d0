#!/usr/bin/env bash
# test_modules.sh - every probe module against servers of its own, in the
# target namespace: kubelet-shaped servers in the three authorization modes
# and hostile look-alikes (module_server.py), the read-only port in plain
# HTTP, etcd from Debian's etcd-server (plain, TLS, TLS with client
# certificate authentication) and etcd-shaped imitations, beside three API
# servers (one on a kubelet's address, bounding its version). `kubesurvey
# probe` and then `kubesurvey scan -p 443,6443,10250,10255,2379` (each
# port's default module) must give each
# endpoint exactly its expected module, outcome and finding; the scan's
# store must give `stats --json` surfaces (and API-server figures) equal to
# the truth of the table below, and the report a section per surface; the
# servers' request logs must show nothing asked but /healthz of a kubelet
# and /version of etcd and the API servers.
#   usage: test_modules.sh KUBESURVEY NETNS_SH ID
set -euo pipefail
ks=$1 netns=$2 id=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
TEST_NAME=modules
need_root "test_modules.sh: needs root (network namespaces); skipped"
command -v etcd >/dev/null || skip "test_modules.sh: etcd (Debian etcd-server) not installed; skipped"
netns_test_up "$netns" "$id"
chmod 755 "$tmp"

# ---------------------------------------------------------- certificates
# A CA, a kubelet's self-signed-style serving certificate (its subject and
# issuer as the kubelet makes them) and an etcd server certificate.
c=$tmp/certs; mkdir -p "$c"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=etcd-ca" -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=node-1-ca@1700000000" -keyout "$c/kca.key" -out "$c/kca.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=node-1@1700000000" -keyout "$c/kubelet.key" 2>/dev/null |
  openssl x509 -req -CA "$c/kca.crt" -CAkey "$c/kca.key" -set_serial 7 -days 30 \
    -extfile <(printf 'subjectAltName=DNS:node-1\n') -out "$c/kubelet.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=etcd-1" -keyout "$c/etcd.key" 2>/dev/null |
  openssl x509 -req -CA "$c/ca.crt" -CAkey "$c/ca.key" -set_serial 8 -days 30 \
    -extfile <(printf 'subjectAltName=DNS:localhost,DNS:etcd-1,IP:198.18.3.21,IP:198.18.3.22,IP:198.18.3.23\n') \
    -out "$c/etcd.crt" 2>/dev/null
chmod 644 "$c"/*

# --------------------------------------------------------------- servers
# address|port|server (py MODE TRANSPORT, or etcd plain|tls|mtls)
#   expected: module|outcome|finding|tls_done|tls_cert_requested|etcd_server|etcd_cluster
hosts=(
  "1|10250|py kubelet-authn tls|kubelet|ok|authentication-required|true|false|null|null"
  "2|10250|py kubelet-authz tls|kubelet|ok|anonymous-forbidden|true|false|null|null"
  "3|10250|py kubelet-open tls|kubelet|ok|anonymous-open|true|false|null|null"
  "4|10250|py kubelet-failing tls|kubelet|ok|anonymous-open|true|false|null|null"
  "5|10255|py kubelet-open plain|kubelet-readonly|ok|open|false|false|null|null"
  "6|10255|py kubelet-failing plain|kubelet-readonly|ok|open|false|false|null|null"
  "7|10250|py html-401 tls|kubelet|ok|null|true|false|null|null"
  "8|10250|py ok-json tls|kubelet|ok|null|true|false|null|null"
  "9|10255|py html-401 plain|kubelet-readonly|ok|null|false|false|null|null"
  "10|10255|py endless plain|kubelet-readonly|ok|null|false|false|null|null"
  "11|10255|py kubelet-open tls|kubelet-readonly|closed|null|false|false|null|null"
  "12|2379|py etcd tls|etcd|ok|no-client-auth|true|false|3.5.9|3.5.0"
  "13|2379|py etcd tls-ask|etcd|ok|no-client-auth|true|true|3.5.9|3.5.0"
  "14|2379|py etcd tls-require|etcd|tls-error|client-cert-required|true|true|null|null"
  "15|2379|py etcd plain|etcd|ok|no-client-auth|false|false|3.5.9|3.5.0"
  "16|2379|py etcd-number tls|etcd|ok|null|true|false|null|null"
  "17|2379|py etcd-long tls|etcd|ok|null|true|false|null|null"
  "18|2379|py etcd-text plain|etcd|ok|null|false|false|null|null"
  "19|2379|py kubelet-authn tls|etcd|ok|null|true|false|null|null"
  "21|2379|etcd plain|etcd|ok|no-client-auth|false|false|3.4.23|3.4.0"
  "22|2379|etcd tls|etcd|ok|no-client-auth|true|false|3.4.23|3.4.0"
  "23|2379|etcd mtls|etcd|tls-error|client-cert-required|true|true|null|null"
  "30|6443|py apiserver tls|apiserver|ok|null|true|false|null|null"
  "31|443|py apiserver tls|apiserver|ok|null|true|false|null|null"
  "3|6443|py apiserver tls|apiserver|ok|null|true|false|null|null"
)

specs=() open_set=()
declare -A expect
start_etcd() { # N MODE
  local a=198.18.3.$1 scheme=http flags=()
  [[ $2 != plain ]] && scheme=https flags=(--cert-file "$c/etcd.crt" --key-file "$c/etcd.key")
  [[ $2 == mtls ]] && flags+=(--client-cert-auth --trusted-ca-file "$c/ca.crt")
  ip netns exec "$T" etcd --name "e$1" --data-dir "$tmp/etcd$1" \
    --listen-client-urls "$scheme://$a:2379" --advertise-client-urls "$scheme://$a:2379" \
    --listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
    --initial-cluster "e$1=http://$a:2380" "${flags[@]}" > "$tmp/etcd$1.log" 2>&1 &
  pids+=($!)
}
n2379=0
for h in "${hosts[@]}"; do
  IFS='|' read -r n port server want <<<"$h"
  [[ $port == 2379 ]] && n2379=$((n2379 + 1))
  addr=198.18.3.$n
  expect["$addr:$port"]=$want
  open_set+=("$addr . $port")
  read -r kind mode transport <<<"$server"
  if [[ $kind == py ]]; then specs+=("$addr:$port:$mode:$transport"); else start_etcd "$n" "$mode"; fi
done
: > "$tmp/requests.log"
# kubelet-shaped servers present the kubelet's certificate, etcd-shaped
# ones etcd's: two processes
etcd_specs=() kubelet_specs=()
for s in "${specs[@]}"; do [[ $s == *:2379:* ]] && etcd_specs+=("$s") || kubelet_specs+=("$s"); done
# (the API servers share the kubelet-shaped process: any certificate will do)
ip netns exec "$T" python3 "$here/module_server.py" "$c/kubelet.crt" "$c/kubelet.key" "$c/ca.crt" \
  "$tmp/requests.log" "${kubelet_specs[@]}" > "$tmp/server1.out" 2>&1 &
pids+=($!)
ip netns exec "$T" python3 "$here/module_server.py" "$c/etcd.crt" "$c/etcd.key" "$c/ca.crt" \
  "$tmp/requests.log" "${etcd_specs[@]}" > "$tmp/server2.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q ready "$tmp/server1.out" && grep -q ready "$tmp/server2.out" &&
    [[ $(ip netns exec "$T" ss -Hltn "sport = :2379" | grep -c LISTEN) -ge $n2379 ]] && break
  sleep 0.1
done
grep -q ready "$tmp/server1.out" && grep -q ready "$tmp/server2.out" ||
  fail "module servers did not start: $(cat "$tmp"/server*.out)"
[[ $(ip netns exec "$T" ss -Hltn "sport = :2379" | grep -c LISTEN) -ge $n2379 ]] ||
  fail "etcd did not start: $(tail -3 "$tmp"/etcd*.log)"
# etcd answers /version once its cluster version is decided (a leader)
for _ in $(seq 100); do
  grep -q "ready to serve client requests" "$tmp/etcd21.log" &&
  grep -q "ready to serve client requests" "$tmp/etcd22.log" &&
  grep -q "ready to serve client requests" "$tmp/etcd23.log" && break
  sleep 0.1
done
sleep 1
ip netns exec "$T" nft add element inet ks open "{ $(IFS=,; echo "${open_set[*]}") }"

# ------------------------------------------------------------- the checks
check_records() { # FILE WHAT
  python3 - "$1" "$2" "${hosts[@]}" <<'PY' || TEST_FAILS=$((TEST_FAILS + 1))
import json, sys
path, what, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
got = {}
for line in open(path):
    r = json.loads(line)
    key = "%s:%d" % (r["addr"], r["port"])
    if key in got:
        print("%s: %s: two records" % (what, key)); sys.exit(1)
    got[key] = r
def text(v):
    return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
bad = 0
for h in hosts:
    n, port, _, *want = h.split("|")
    key = "198.18.3.%s:%s" % (n, port)
    r = got.pop(key, None)
    if r is None:
        print("%s: %s: no record" % (what, key)); bad += 1; continue
    have = [text(r[k]) for k in ("module", "outcome", "finding", "tls_done",
                                 "tls_cert_requested", "etcd_server", "etcd_cluster")]
    if have != want:
        print("%s: %s: got %s, want %s (%s)" % (what, key, "|".join(have), "|".join(want), r["error"]))
        bad += 1
    if r["module"] == "kubelet" and r["finding"] and r["verdict"] != "kubelet":
        print("%s: %s: a kubelet finding with verdict %s" % (what, key, r["verdict"])); bad += 1
    if r["module"] != "apiserver" and r["k8s"]:
        print("%s: %s: counted as an API server" % (what, key)); bad += 1
    if r["module"] == "apiserver" and (r["verdict"], r["git_version"]) != ("yes", "v1.29.4"):
        print("%s: %s: API server not classified: %s %s" % (what, key, r["verdict"], r["git_version"]))
        bad += 1
for key in got:
    print("%s: %s: a record nobody expected" % (what, key)); bad += 1
sys.exit(1 if bad else 0)
PY
}

{ for key in "${!expect[@]}"; do echo "$key"; done; } > "$tmp/targets"
ip netns exec "$S" "$ks" probe -q -f "$tmp/targets" -o "$tmp/probe.jsonl" --max-body 4096 \
  --connect-timeout 2000 --handshake-timeout 3000 --response-timeout 3000
check_records "$tmp/probe.jsonl" probe

# --module changes a port's module: etcd's TLS port probed as an API server
echo "198.18.3.12:2379" | ip netns exec "$S" "$ks" probe -q --module 2379=apiserver \
  -o "$tmp/override.jsonl"
grep -q '"module":"apiserver","tls_cert_requested":false,"finding":null,"etcd_server":null' \
  "$tmp/override.jsonl" && grep -q '"version_state":"other"' "$tmp/override.jsonl" ||
  check_failed "--module 2379=apiserver: $(cat "$tmp/override.jsonl")"

# the whole pipeline: each responder gets its port's module
: > "$tmp/empty"
ip netns exec "$S" "$ks" scan -b "$tmp/empty" -p 443,6443,10250,10255,2379 -c 2 -q \
  --db "$tmp/survey.lmdb" -o "$tmp/scan.jsonl" --connect-timeout 2000 --handshake-timeout 3000 \
  --response-timeout 3000 198.18.3.0/24
check_records "$tmp/scan.jsonl" scan

# the store's statistics: surfaces equal to the truth of the table (the
# kubelets' node CVEs by the oracle of tests/tools, the API server beside
# the kubelet of .3 bounding it), and the API-server figures only the API
# servers'
"$ks" stats "$tmp/survey.lmdb" --json --as-of 2026-01-01 > "$tmp/stats.json" ||
  check_failed "stats failed"
python3 - "$tmp/stats.json" "$here/../tools" "$here/../../tools/data" "${hosts[@]}" <<'PY' || TEST_FAILS=$((TEST_FAILS + 1))
import json, sys
sys.path.insert(0, sys.argv[2])
from stats_oracle import Lifecycle, day, kubelet_node_cves
got = json.load(open(sys.argv[1]))
want = {"kubelet": {"endpoints": 0, "authentication_required": 0, "anonymous_forbidden": 0,
                    "anonymous_open": 0},
        "kubelet_readonly": {"endpoints": 0, "open": 0},
        "etcd": {"endpoints": 0, "client_cert_required": 0, "no_client_auth": 0,
                 "by_version": {}, "unsupported": 0, "unsupported_unknown": 0}}
apiservers = 0
endpoints = []  # for the node CVEs (tests/tools/stats_oracle.py): addresses and versions
for h in sys.argv[4:]:
    n, port, server, module = h.split("|")[:4]
    endpoints.append({"module": module, "addr": "198.18.3." + n, "k8s": "yes" if module == "apiserver" else "no",
                      "git_version": "v1.29.4" if module == "apiserver" else None})
want["kubelet"]["cves_node"] = kubelet_node_cves(Lifecycle(sys.argv[3]), {"endpoints": endpoints},
                                                 day("2026-01-01"))
for h in sys.argv[4:]:
    n, port, server, module, outcome, finding, *_ = h.split("|")
    etcd_server = h.split("|")[8]
    if module == "apiserver":
        apiservers += 1
        continue
    key = module.replace("-", "_")
    want[key]["endpoints"] += 1
    if finding != "null":
        want[key][finding.replace("-", "_")] += 1
    if finding == "no-client-auth":
        minor = ".".join(etcd_server.split(".")[:2])
        want["etcd"]["by_version"][minor] = want["etcd"]["by_version"].get(minor, 0) + 1
        # on 2026-01-01 etcd 3.6 is current: 3.5 supported, 3.4 past support
        want["etcd"]["unsupported"] += minor == "3.4"
bad = 0
if got.get("surfaces") != want:
    print("stats surfaces: got %s, want %s" % (json.dumps(got.get("surfaces")), json.dumps(want)))
    bad = 1
if (got["syn_open"], got["k8s"], got["version_public"]) != (apiservers, apiservers, apiservers):
    print("stats: syn_open %d, k8s %d, version_public %d; want the %d API servers only"
          % (got["syn_open"], got["k8s"], got["version_public"], apiservers))
    bad = 1
sys.exit(bad)
PY
"$ks" report "$tmp/survey.lmdb" -o "$tmp/report.html" --as-of 2026-01-01 ||
  check_failed "report failed"
for want in "<h2>Kubelets (GET /healthz)</h2>" "<tr><td>Anonymous requests allowed (exec, run)</td><td>2</td></tr>" \
            "<h2>Kubelet read-only ports (GET /healthz)</h2>" "<tr><td>Open (unauthenticated)</td><td>2</td></tr>" \
            "<h2>etcd (GET /version)</h2>" "<tr><td>No client authentication</td><td>5</td></tr>"; do
  grep -qF -- "$want" "$tmp/report.html" || check_failed "report lacks '$want'"
done

# nothing but the modules' one path was ever asked
asked=$(awk '{print $2, $3}' "$tmp/requests.log" | sort | uniq -c | sort -rn)
awk '{split($1, a, ":"); p = a[2]; want = (p == 10250 || p == 10255) ? "/healthz" : "/version"
      if ($3 != want || $2 != "GET") bad = 1}
     END {exit bad}' "$tmp/requests.log" || check_failed "a server was asked more than its path: $asked"
[[ -s $tmp/requests.log ]] || check_failed "no request reached the servers"

(( TEST_FAILS == 0 )) && echo "modules: all ${#hosts[@]} endpoints as expected (probe and scan)"
exit $((TEST_FAILS > 0))
