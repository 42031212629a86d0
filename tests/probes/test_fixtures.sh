#!/usr/bin/env bash
# test_fixtures.sh - a population of realistic API servers and other services in
# the target namespace, served by nginx, each address with its own
# certificate (made here with the openssl CLI), status, headers and body.
# `kubesurvey probe` runs from the scanner namespace over all of them and
# every record is checked against the expected classification, exactly.
#   usage: test_fixtures.sh KUBESURVEY NETNS_SH ID
set -euo pipefail
ks=$1 netns=$2 id=$3
. "$(dirname "$0")/../lib.sh"
need_root "test_fixtures.sh: needs root (network namespaces); skipped"
S=ks${id}s T=ks${id}t
tmp=$(mktemp -d)
chmod 755 "$tmp" # nginx workers (www-data) read the certificates and bodies
cleanup() {
  [[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  "$netns" down "$id" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"$netns" up "$id"

# ---------------------------------------------------------------- bodies
# version.Info as kube-apiserver prints it (pretty, 2 spaces), old shape.
vinfo() { # FILE GITVERSION MINOR [GITCOMMIT [TREESTATE [GOVERSION]]]
  cat > "$1" <<JSON
{
  "major": "1",
  "minor": "$3",
  "gitVersion": "$2",
  "gitCommit": "${4:-0123456789abcdef0123456789abcdef01234567}",
  "gitTreeState": "${5-clean}",
  "buildDate": "2024-01-17T13:38:41Z",
  "goVersion": "${6:-go1.21.6}",
  "compiler": "gc",
  "platform": "linux/amd64"
}
JSON
}
# 1.33+ shape with the emulation / compatibility fields.
vinfo133() { # FILE GITVERSION MINOR
  cat > "$1" <<JSON
{
  "major": "1",
  "minor": "$3",
  "emulationMajor": "1",
  "emulationMinor": "$3",
  "minCompatibilityMajor": "1",
  "minCompatibilityMinor": "$(( ${3%+} - 1 ))",
  "gitVersion": "$2",
  "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
  "gitTreeState": "clean",
  "buildDate": "2025-05-15T08:19:08Z",
  "goVersion": "go1.24.2",
  "compiler": "gc",
  "platform": "linux/amd64"
}
JSON
}
status401() {
  printf '{\n  "kind": "Status",\n  "apiVersion": "v1",\n  "metadata": {},\n  "status": "Failure",\n  "message": "Unauthorized",\n  "reason": "Unauthorized",\n  "code": 401\n}' > "$1"
}
status403() {
  printf '{\n  "kind": "Status",\n  "apiVersion": "v1",\n  "metadata": {\n    \n  },\n  "status": "Failure",\n  "message": "forbidden: User \\"system:anonymous\\" cannot get path \\"/version\\"",\n  "reason": "Forbidden",\n  "details": {\n    \n  },\n  "code": 403\n}' > "$1"
}
b=$tmp/bodies; mkdir -p "$b"
vinfo "$b/kubeadm132" v1.32.3 32 32cc146f75aad04beaaa245a7157eb35063a9f99
vinfo133 "$b/kind133" v1.33.1 33
vinfo133 "$b/upstream137" v1.37.0 37
vinfo "$b/eks118" v1.18.9-eks-d1db3c 18+ d1db3c46e55f95d6a7d3e5578689371318f95ff9 clean go1.13.15
vinfo "$b/eks125" v1.25.14-eks-fd9b4c5 25+
vinfo "$b/eks121" v1.21.5-eks-bc4871b 21+
vinfo "$b/gke129" v1.29.5-gke.1091000 29+
vinfo "$b/gke121" v1.21.1-gke.2200 21+
vinfo "$b/aks18" v1.8.7 8 b30876a5539f09684ff9fde266fda10b37738c9c
vinfo "$b/aks129" v1.29.4 29
vinfo "$b/ack116" v1.16.9-aliyun.1 16+ 4f7ea78 ""
vinfo "$b/tke120" v1.20.6-tke.15 20+
vinfo "$b/cce121" v1.21.4-r0-CCE21.11.1.B001 21+
vinfo "$b/iks123" v1.23.12+IKS 23
vinfo "$b/ocp311" v1.11.0+d4cacc0 11+ d4cacc0
vinfo "$b/ocp47" v1.20.0+bafe72f 20
vinfo "$b/ocp49" v1.22.8+f34b40c 22
vinfo133 "$b/k3s134" v1.34.1+k3s1 34
vinfo "$b/rke2131" v1.31.9+rke2r1 31 0123456789abcdef0123456789abcdef01234567 clean go1.22.12b5
vinfo "$b/k0s134" v1.34.2+k0s 34
vinfo "$b/vmware124" v1.24.10+vmware.1 24
vinfo "$b/microk8s120" v1.20.5-34+40f5951bd9888a 20+ 40f5951bd9888a0c15e3e2ba35ddc4c1f2a5e9b1
vinfo "$b/minikube128" v1.28.3 28
vinfo "$b/docker129" v1.29.2 29
vinfo "$b/upstream121" v1.21.5 21
vinfo "$b/ibm132" v1.32.12 32 abc clean "go1.23.10 (Red Hat 1.23.10-10.el9) X:strictfipsruntime"
printf '{\n  "major": "",\n  "minor": "",\n  "gitVersion": "v1.0.11-167+3f240d4c97126d-dirty",\n  "gitCommit": "3f240d4c97126d",\n  "gitTreeState": "dirty",\n  "buildDate": "1970-01-01T00:00:00Z",\n  "goVersion": "go1.10",\n  "compiler": "gc",\n  "platform": "linux/amd64"\n}' > "$b/baidu"
status401 "$b/s401"
status403 "$b/s403"
printf '{"etcdserver":"3.5.9","etcdcluster":"3.5.0"}' > "$b/etcd"
printf '{"Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"24.0.5","Details":{"ApiVersion":"1.43","Arch":"amd64","BuildTime":"2023-07-21T20:35:23.000000000+00:00","Experimental":"false","GitCommit":"a61e2b4","GoVersion":"go1.20.6","KernelVersion":"6.1.0-10-amd64","MinAPIVersion":"1.12","Os":"linux"}}],"Version":"24.0.5","ApiVersion":"1.43","MinAPIVersion":"1.12","GitCommit":"a61e2b4","GoVersion":"go1.20.6","Os":"linux","Arch":"amd64","KernelVersion":"6.1.0-10-amd64","BuildTime":"2023-07-21T20:35:23.000000000+00:00"}' > "$b/docker"
printf '<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n' > "$b/html"
printf '{"gitVersion": 5, "major": ' > "$b/garbage_json"
printf '\x00\x01\x02binary\xff\xfe garbage' > "$b/binary"
printf '{"gitVersion":"latest"}' > "$b/badversion"
printf 'Unauthorized\n' > "$b/kubelet401"
: > "$b/empty"

# --------------------------------------------------------- certificates
c=$tmp/certs; mkdir -p "$c"
openssl ecparam -name prime256v1 -genkey -noout -out "$c/leaf.key" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$c/ca.key" 2>/dev/null
# A CA per distinct issuer name, cached by name.
ca_for() { # ISSUER -> prints the CA certificate path
  local f; f=$c/ca-$(printf '%s' "$1" | md5sum | cut -c1-12).crt
  [[ -f $f ]] || openssl req -x509 -new -key "$c/ca.key" -subj "$1" -days 30 -out "$f" 2>/dev/null
  echo "$f"
}
leaf() { # NAME SUBJECT ISSUER SANS -> $c/NAME.crt (leaf + CA, as servers send)
  local ca; ca=$(ca_for "$3")
  local ext=$c/$1.ext
  if [[ -n $4 ]]; then printf 'subjectAltName=%s\n' "$4" > "$ext"; else : > "$ext"; fi
  openssl req -new -key "$c/leaf.key" -subj "$2" 2>/dev/null |
    openssl x509 -req -CA "$ca" -CAkey "$c/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
      -days 30 -extfile "$ext" -out "$c/$1.leaf" 2>/dev/null
  cat "$c/$1.leaf" "$ca" > "$c/$1.crt"
}

KUBEADM_SANS="DNS:cp-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:192.168.10.11"
EKS_SANS="DNS:0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com,DNS:ip-172-16-0-1.ec2.internal,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.100.0.1"
AKS_SANS="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:prod-dns-1a2b3c4d.hcp.westeurope.azmk8s.io,IP:10.0.0.1"
GKE_SANS="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:34.118.224.1,IP:35.200.1.2"
K3S_SANS="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:10.43.0.1,IP:127.0.0.1"

# ------------------------------------------------------------- the hosts
# fields (|-separated):
#  1 host number (address 198.18.2.N)   2 port   3 tls|plain
#  4 certificate subject   5 issuer   6 SANs
#  7 nginx answer: "200 BODY", "401 BODY", "403 BODY", "404", "301", "html BODY"
#  8 extra headers: pf (X-Kubernetes-Pf-*), audit (Audit-Id), docker, -
#  expected: 9 outcome  10 k8s (true/false)  11 provider (or null)
#            12 version_state  13 git_version (or null)
#            14 evidence letters: c cert-marker, v version-info, s status-body,
#               h apiserver-header (in that order), - none
hosts=(
 "1|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 kubeadm132|-|ok|true|upstream|valid|v1.32.3|cv"
 "2|6443|tls|/CN=kube-apiserver|/CN=kubernetes|DNS:kind-control-plane,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost,IP:10.96.0.1,IP:172.18.0.2|200 kind133|-|ok|true|upstream|valid|v1.33.1|cv"
 "3|443|tls|/CN=kube-apiserver|/CN=kubernetes|$EKS_SANS|200 eks118|audit|ok|true|eks|valid|v1.18.9-eks-d1db3c|cvh"
 "4|443|tls|/CN=kube-apiserver|/CN=kubernetes|$EKS_SANS|200 eks125|-|ok|true|eks|valid|v1.25.14-eks-fd9b4c5|cv"
 "5|443|tls|/CN=kube-apiserver|/CN=kubernetes|$EKS_SANS|403 s403|pf|ok|true|eks|absent|null|csh"
 "6|443|tls|/CN=35.200.1.2|/CN=9d3c7a5e-1b2c-4d5e-8f90-123456789abc|$GKE_SANS|200 gke129|pf|ok|true|gke|valid|v1.29.5-gke.1091000|cvh"
 "7|443|tls|/CN=34.1.2.3|/CN=0b6f9a2e-5c4d-4e3f-9a1b-2c3d4e5f6a7b|$GKE_SANS|200 gke121|-|ok|true|gke|valid|v1.21.1-gke.2200|cv"
 "8|443|tls|/CN=apiserver|/CN=ca|$AKS_SANS|200 aks18|-|ok|true|aks|valid|v1.8.7|cv"
 "9|443|tls|/CN=apiserver|/CN=ca|$AKS_SANS|200 aks129|pf|ok|true|aks|valid|v1.29.4|cvh"
 "10|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 ack116|-|ok|true|ack|valid|v1.16.9-aliyun.1|cv"
 "11|443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 tke120|-|ok|true|tke|valid|v1.20.6-tke.15|cv"
 "12|5443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 cce121|-|ok|true|cce|valid|v1.21.4-r0-CCE21.11.1.B001|cv"
 "13|443|tls|/CN=c1.containers.appdomain.cloud|/CN=ibm-ca|DNS:c1.containers.appdomain.cloud|200 iks123|-|ok|true|iks|valid|v1.23.12+IKS|v"
 "14|8443|tls|/O=kube-master/CN=system:kube-apiserver|/CN=openshift-signer@1540000000|DNS:master.example.com,DNS:kubernetes,DNS:kubernetes.default,DNS:openshift.default.svc|200 ocp311|-|ok|true|openshift|valid|v1.11.0+d4cacc0|cv"
 "15|6443|tls|/CN=api.prod.example.com|/OU=openshift/CN=kube-apiserver-lb-signer|DNS:api.prod.example.com|200 ocp47|pf|ok|true|openshift|valid|v1.20.0+bafe72f|cvh"
 "16|6443|tls|/CN=api.ocp49.example.org|/OU=openshift/CN=kube-apiserver-lb-signer|DNS:api.ocp49.example.org|200 ocp49|-|ok|true|openshift|valid|v1.22.8+f34b40c|cv"
 "17|6443|tls|/O=k3s/CN=k3s|/CN=k3s-server-ca@1700000000|$K3S_SANS|200 k3s134|-|ok|true|k3s|valid|v1.34.1+k3s1|cv"
 "18|6443|tls|/O=k3s/CN=k3s|/CN=k3s-server-ca@1690000000|$K3S_SANS|401 s401|-|ok|true|k3s|absent|null|cs"
 "19|6443|tls|/O=rke2/CN=rke2|/CN=rke2-server-ca@1700000000|$K3S_SANS|401 s401|-|ok|true|rke2|absent|null|cs"
 "20|9345|tls|/O=rke2/CN=rke2|/CN=rke2-server-ca@1710000000|$K3S_SANS|200 rke2131|-|ok|true|rke2|valid|v1.31.9+rke2r1|cv"
 "21|6443|tls|/CN=kube-apiserver|/CN=kubernetes-ca|DNS:kubernetes,DNS:kubernetes.default.svc|200 k0s134|-|ok|true|k0s|valid|v1.34.2+k0s|cv"
 "22|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 vmware124|-|ok|true|vmware|valid|v1.24.10+vmware.1|cv"
 "23|16443|tls|/C=GB/O=Canonical/CN=127.0.0.1|/CN=10.152.183.1|DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.152.183.1|200 microk8s120|-|ok|true|microk8s|valid|v1.20.5-34+40f5951bd9888a|cv"
 "24|8443|tls|/O=system:masters/CN=minikube|/CN=minikubeCA|DNS:minikubeCA,DNS:control-plane.minikube.internal,DNS:kubernetes.default.svc.cluster.local,DNS:kubernetes,DNS:localhost,IP:192.168.49.2,IP:10.96.0.1|200 minikube128|-|ok|true|minikube|valid|v1.28.3|cv"
 "25|6443|tls|/CN=kube-apiserver|/CN=kubernetes|DNS:docker-for-desktop,DNS:kubernetes.docker.internal,DNS:vm.docker.internal,DNS:kubernetes,DNS:localhost,IP:10.96.0.1|200 docker129|-|ok|true|docker-desktop|valid|v1.29.2|cv"
 "26|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|403 s403|pf|ok|true|upstream|absent|null|csh"
 "27|443|tls|/CN=k8s.example.net|/O=Example CA/CN=Example Issuing CA|DNS:k8s.example.net|403 s403|pf|ok|true|upstream|absent|null|sh"
 "28|443|tls|/CN=k8s2.example.net|/O=Example CA/CN=Example Issuing CA|DNS:k8s2.example.net|401 s401|-|ok|true|upstream|absent|null|s"
 "29|443|tls|/CN=cluster.example.org|/O=Example CA/CN=Example Issuing CA|DNS:cluster.example.org|200 upstream121|-|ok|true|upstream|valid|v1.21.5|v"
 "30|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 baidu|-|ok|true|other|valid|v1.0.11-167+3f240d4c97126d-dirty|cv"
 "31|443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 ibm132|-|ok|true|upstream|valid|v1.32.12|cv"
 "32|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|200 upstream137|pf|ok|true|upstream|valid|v1.37.0|cvh"
 "33|6443|tls|/CN=kube-apiserver|/CN=kubernetes|$KUBEADM_SANS|404|-|ok|true|upstream|absent|null|c"
 "34|443|tls|/CN=www.example.com|/C=US/O=Let's Encrypt/CN=R3|DNS:www.example.com,DNS:example.com|html html|-|ok|false|null|invalid|null|-"
 "35|443|tls|/CN=shop.example.com|/C=US/O=DigiCert Inc/CN=DigiCert TLS RSA SHA256 2020 CA1|DNS:shop.example.com|404|-|ok|false|null|absent|null|-"
 "36|443|tls|/CN=intranet.example.com|/CN=intranet-ca|DNS:intranet.example.com|401 html|-|ok|false|null|absent|null|-"
 "37|443|tls|/CN=old.example.com|/CN=old-ca|DNS:old.example.com|301|-|ok|false|null|absent|null|-"
 "38|2379|tls|/CN=etcd-1|/CN=etcd-ca|DNS:localhost,DNS:etcd-1,IP:127.0.0.1|200 etcd|-|ok|false|null|other|null|-"
 "39|2376|tls|/CN=docker-host|/CN=docker-ca|DNS:docker-host|200 docker|docker|ok|false|null|other|null|-"
 "40|443|tls|/CN=api.example.io|/CN=api-ca|DNS:api.example.io|200 garbage_json|-|ok|false|null|invalid|null|-"
 "41|443|tls|/CN=bin.example.io|/CN=bin-ca|DNS:bin.example.io|200 binary|-|ok|false|null|invalid|null|-"
 "42|443|tls|/CN=v.example.io|/CN=v-ca|DNS:v.example.io|200 badversion|-|ok|false|null|invalid|latest|-"
 "43|443|tls|/CN=empty.example.io|/CN=e-ca|DNS:empty.example.io|200 empty|-|ok|false|null|absent|null|-"
 "44|443|tls|/O=dynamic/CN=dynamic|/O=dynamiclistener-org/CN=dynamiclistener-ca@1700000000|DNS:rancher.example.com|html html|-|ok|false|null|invalid|null|-"
 "45|10250|tls|/CN=node-7@1700000000|/CN=node-7-ca@1700000000|DNS:node-7|401 kubelet401|-|ok|false|null|absent|null|-"
 "46|80|plain|-|-|-|html html|-|tls-error|false|null|absent|null|-"
 "47|8080|plain|-|-|-|200 kubeadm132|-|tls-error|false|null|absent|null|-"
)

# ------------------------------------------------------ nginx configuration
conf=$tmp/nginx.conf
cat > "$conf" <<EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 512; }
http {
  access_log off;
  server_tokens off;
  ssl_protocols TLSv1.2 TLSv1.3;
EOF
declare -A expect
open_set=()
for h in "${hosts[@]}"; do
  IFS='|' read -r n port tls subject issuer sans answer headers outcome k8s provider vstate gitv evidence <<<"$h"
  addr=198.18.2.$n
  open_set+=("$addr . $port")
  expect["$addr:$port"]="$outcome|$k8s|$provider|$vstate|$gitv|$evidence"
  {
    echo "  server {"
    if [[ $tls == tls ]]; then
      leaf "h$n" "$subject" "$issuer" "$sans"
      echo "    listen $addr:$port ssl;"
      echo "    ssl_certificate $c/h$n.crt; ssl_certificate_key $c/leaf.key;"
    else
      echo "    listen $addr:$port;"
    fi
    case $headers in
      pf) echo "    add_header X-Kubernetes-Pf-Flowschema-Uid e9b4aeaf-952a-411b-8572-ca27f351edae always;"
          echo "    add_header X-Kubernetes-Pf-Prioritylevel-Uid fa41102e-bce1-4985-8bc2-4f24fde12baf always;" ;;
      audit) echo "    add_header Audit-Id 6a4fdd1d-6d8c-4b4e-9c2a-6d0a1b2c3d4e always;" ;;
      docker) echo "    add_header Api-Version 1.43 always; add_header Ostype linux always;" ;;
    esac
    read -r code body <<<"$answer"
    case $code in
      200) echo "    location = /version { default_type application/json; alias $b/$body; }" ;;
      html) echo "    location = /version { default_type text/html; alias $b/$body; }" ;;
      401|403)
        echo "    location / { return $code; }"
        echo "    error_page $code /status-body;"
        echo "    location = /status-body { internal; default_type application/json; alias $b/$body; }" ;;
      404) echo "    location / { return 404; }" ;;
      301) echo "    location / { return 301 https://www.example.com/; }" ;;
    esac
    echo "  }"
  } >> "$conf"
done
echo "}" >> "$conf"

ip netns exec "$T" nginx -t -c "$conf" 2>"$tmp/nginx-t.log" || { cat "$tmp/nginx-t.log"; exit 1; }
ip netns exec "$T" nginx -c "$conf"
ip netns exec "$T" nft add element inet ks open "{ $(IFS=,; echo "${open_set[*]}") }"

# ------------------------------------------------------------- the probe
# Input mixes every accepted line format.
{
  echo "# fixture population"
  echo "saddr,sport   # a ZMap CSV header"
  i=0
  for key in "${!expect[@]}"; do
    addr=${key%:*} port=${key#*:}
    case $((i++ % 4)) in
      0) echo "$addr:$port" ;;
      1) echo "open tcp $port $addr 1700000000" ;;
      2) echo "$addr,$port" ;;
      3) if [[ $port == 443 ]]; then echo "$addr"; else echo "$addr:$port"; fi ;;
    esac
  done
} > "$tmp/targets"
if [[ ${KS_FIXTURES_MODE:-probe} == scan ]]; then
  # The same population found by the whole pipeline: SYN scan of
  # 198.18.2.0/24 on the fixture ports, every responder probed, results in
  # JSON Lines and in the store, which must pass `kubesurvey check`.
  ports=$(printf '%s\n' "${!expect[@]}" | sed 's/.*://' | sort -un | paste -sd, -)
  : > "$tmp/empty"
  ip netns exec "$S" "$ks" scan -b "$tmp/empty" -p "$ports" -c 2 -q --db "$tmp/survey.lmdb" \
    -o "$tmp/out.jsonl" --metadata "$tmp/scan.json" \
    --connect-timeout 2000 --handshake-timeout 3000 --response-timeout 3000 198.18.2.0/24
  "$ks" check "$tmp/survey.lmdb" || fail "fixtures: kubesurvey check failed"
  records=$(wc -l < "$tmp/out.jsonl")
  (( records == ${#expect[@]} )) ||
    fail "fixtures: scan found $records endpoints, expected ${#expect[@]}"
  grep -q '"state": "done"' "$tmp/scan.json" || fail "fixtures: scan state not done"
else
  ip netns exec "$S" "$ks" probe -f "$tmp/targets" -o "$tmp/out.jsonl" -p 443 \
    --connect-timeout 2000 --handshake-timeout 3000 --response-timeout 3000
fi

# ------------------------------------------------------------- the checks
field() { # JSONL-LINE NAME -> value as printed (strings without quotes)
  local v
  v=$(grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" <<<"$1" | head -1) || true
  v=${v#\"$2\":}; v=${v#\"}; echo "${v%\"}"
}
evidence_letters() {
  local line=$1 out=""
  [[ $line == *'"cert-marker"'* ]] && out+=c
  [[ $line == *'"version-info"'* ]] && out+=v
  [[ $line == *'"status-body"'* ]] && out+=s
  [[ $line == *'"apiserver-header"'* ]] && out+=h
  echo "${out:--}"
}
records=$(wc -l < "$tmp/out.jsonl")
[[ $records == "${#hosts[@]}" ]] || check_failed "$records records for ${#hosts[@]} hosts"
for key in "${!expect[@]}"; do
  addr=${key%:*} port=${key#*:}
  line=$(grep "\"addr\":\"$addr\",\"port\":$port," "$tmp/out.jsonl" || true)
  [[ $(grep -c . <<<"$line") == 1 ]] || { check_failed "$key: not exactly one record"; continue; }
  got="$(field "$line" outcome)|$(field "$line" k8s)|$(field "$line" provider)|$(field "$line" version_state)|$(field "$line" git_version)|$(evidence_letters "$line")"
  if [[ $got != "${expect[$key]}" ]]; then
    check_failed "$key: got $got, want ${expect[$key]} ($(field "$line" error))"
  fi
done
# every TLS host sent its own leaf plus its CA, and it is the one we made
for h in "${hosts[@]}"; do
  IFS='|' read -r n port tls _ <<<"$h"
  [[ $tls == tls ]] || continue
  line=$(grep "\"addr\":\"198.18.2.$n\",\"port\":$port," "$tmp/out.jsonl")
  want=$(openssl x509 -in "$c/h$n.leaf" -outform DER | sha256sum | cut -c1-64)
  got=$(grep -o '"sha256":"[0-9a-f]*"' <<<"$line" | head -1 | cut -d'"' -f4)
  n_certs=$(grep -o '"sha256"' <<<"$line" | wc -l)
  [[ $got == "$want" && $n_certs == 2 ]] || check_failed "host $n: leaf $got ($n_certs certificates), want $want"
done
# headers kept
grep '"addr":"198.18.2.5",' "$tmp/out.jsonl" | grep -q '"http_pf_flowschema":"e9b4aeaf-952a-411b-8572-ca27f351edae","http_pf_prioritylevel":"fa41102e-bce1-4985-8bc2-4f24fde12baf"' ||
  check_failed "X-Kubernetes-Pf-* headers not kept"
grep '"addr":"198.18.2.3",' "$tmp/out.jsonl" | grep -q '"http_audit_id":"6a4fdd1d-6d8c-4b4e-9c2a-6d0a1b2c3d4e"' ||
  check_failed "Audit-Id not kept"
grep '"addr":"198.18.2.1",' "$tmp/out.jsonl" | grep -q '"tls_version":"TLSv1.3".*"tls_alpn":"http/1.1".*"http_status":200,"http_server":"nginx","http_content_type":"application/json"' ||
  check_failed "TLS / HTTP fields of host 1"
grep '"addr":"198.18.2.1",' "$tmp/out.jsonl" | grep -q '"version_major":1,"version_minor":32,"version_patch":3,"version_suffix":"","git_commit":"32cc146f75aad04beaaa245a7157eb35063a9f99"' ||
  check_failed "version fields of host 1"
(( TEST_FAILS == 0 )) && echo "fixtures: all ${#hosts[@]} hosts classified as expected"
exit $((TEST_FAILS > 0))
