#!/usr/bin/env bash
# k8s_population.sh - a simulated internet of Kubernetes API servers, on top
# of netns.sh: a seeded, deterministic population of COUNT endpoints in
# 198.18.0.0/16 on ports 443 and 6443, modelled on a June-2021 world
# (EKS-heavy, minors 1.13-1.21, k3s/RKE2 answering 401, some 403, a CA per
# cluster, HA control planes, rotated and shared certificates, plus ordinary
# HTTPS sites, etcd, Docker, plain HTTP and garbage), and NODES endpoints of
# the node surfaces beside them: kubelets (10250), read-only ports (10255)
# and etcd (2379). One nginx in the target namespace serves all of it but
# the etcds that demand client certificates (and a few more), which are
# real etcd processes (Debian's etcd-server).
#
#   k8s_population.sh up ID SEED [COUNT [NODES [IPV6]]]
#       netns.sh up ID; write the population (COUNT endpoints, default
#       1500; NODES node-surface endpoints, default COUNT/10; an empty
#       argument takes the default), make its CAs and certificates, start
#       nginx (and the etcds) in ks<ID>t, load the nft sets (`open` = every
#       endpoint, `rst` = ~1% of the /16). With IPV6 (permille, default 0)
#       about that share of the addresses are IPv6 in 2001:2::/96 (netns.sh
#       ipv6; k8s_population.awk), and hitlist.txt beside expected.tsv lists
#       them with dead entries. Prints the path of the expected-results file
#       (expected.tsv); surfaces.tsv beside it holds the node surfaces' truth.
#   k8s_population.sh down ID
#       stop nginx and the etcds, netns.sh down ID, remove the state
#       directory.
#
# expected.tsv (tab-separated, header first, one line per open endpoint):
#   addr port tls k8s provider minor git_version http_status cert
#   cert_marker model cluster
# tls 1/0, k8s yes/no, provider as the classifier names it ("-" if not
# Kubernetes), minor "1.N" only when /version gives a version, http_status
# (0 without TLS), cert = serving certificate id (same id, same leaf),
# cluster = the true cluster (k0001 ...; "-" if not Kubernetes): an HA or
# rotated cluster has several certificates, a shared front end one
# certificate for several clusters. See docs/testnet.md.
# surfaces.tsv (tab-separated, header first, one line per node endpoint):
#   addr port module tls finding etcd_server etcd_cluster cert serve
# module as the scan's default port map names it, finding as the record's
# ("-" = none), serve = nginx or etcd-plain|etcd-tls|etcd-mtls (a real etcd).
# Environment: KS_POP_DIR state directory (default /tmp/ks<ID>-k8spop);
# KS_POP_ETCD_MAX most real etcd processes (default 6; 0 = none, and then no
# etcd demands a client certificate).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "k8s_population.sh: $*" >&2; exit 2; }
usage() {
    echo "usage: k8s_population.sh up ID SEED [COUNT [NODES [IPV6]]] | down ID" >&2
    sed -n '2,40s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

cmd=${1:-}; id=${2:-}
[[ -n "$cmd" ]] || usage
[[ "$id" =~ ^[0-9]{1,3}$ ]] || die "bad or missing ID '$id' (0-999)"
T=ks${id}t
dir=${KS_POP_DIR:-/tmp/ks${id}-k8spop}

# One CA per line of PART (NAME|SUBJECT) -> ca/NAME.key, ca/NAME.crt: a new
# P-256 key and its self-signed certificate, in one openssl process.
make_cas() {
    local name subject
    while IFS='|' read -r name subject; do
        KS_SAN=- openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
            -keyout "$dir/ca/$name.key" -config "$dir/openssl.cnf" -extensions ca \
            -subj "$subject" -days 3650 -out "$dir/ca/$name.crt" 2>>"$dir/openssl.log" ||
            { echo "k8s_population.sh: openssl failed for CA $name ($subject)" >&2; return 1; }
    done <"$1"
}

# One leaf per line of PART (CERT|CA|SUBJECT|SANS) -> certs/CERT.crt (leaf
# then CA, as servers send). All leaves share one key: only the certificates
# need to differ. The CA certificate is read with the `read` builtin (no
# process) and appended.
make_leaves() {
    local cert ca subject sans pem
    while IFS='|' read -r cert ca subject sans; do
        KS_SAN=$sans openssl req -x509 -new -config "$dir/openssl.cnf" -extensions leaf \
            -key "$dir/leaf.key" -subj "$subject" -CA "$dir/ca/$ca.crt" -CAkey "$dir/ca/$ca.key" \
            -days 365 -out "$dir/certs/$cert.crt" 2>>"$dir/openssl.log" ||
            { echo "k8s_population.sh: openssl failed for $cert ($subject)" >&2; return 1; }
        IFS= read -r -d '' pem <"$dir/ca/$ca.crt" || true
        printf '%s' "$pem" >>"$dir/certs/$cert.crt"
    done <"$1"
}

# in_parallel FUNCTION FILE: FILE's lines dealt round-robin to one worker per
# CPU, each running FUNCTION on its share; fails if any worker failed.
in_parallel() {
    local fn=$1 file=$2 n part pids=() pid ok=1
    n=$(nproc 2>/dev/null || echo 2)
    rm -f "$file".part.*
    split -n "r/$n" "$file" "$file.part."
    for part in "$file".part.*; do
        "$fn" "$part" & pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || ok=0; done
    rm -f "$file".part.*
    ((ok))
}

# Every CA first (each cluster's own and the shared ones), then the leaves;
# both steps spread over every CPU. ~2000 openssl processes of ~10 ms CPU for
# the default population.
make_certificates() {
    mkdir -p "$dir/ca" "$dir/certs"
    cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${ENV::KS_SAN}
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
EOF
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/leaf.key" 2>/dev/null
    in_parallel make_cas "$dir/ca.jobs" || die "CA generation failed (see $dir/openssl.log)"
    in_parallel make_leaves "$dir/leaf.jobs" || die "certificate generation failed (see $dir/openssl.log)"
}

write_nginx_conf() {
    # A default certificate for the catch-all server (never reached: nft
    # lets only the population's endpoints through).
    KS_SAN=- openssl req -x509 -new -config "$dir/openssl.cnf" -extensions ca -key "$dir/leaf.key" \
        -subj /CN=default.invalid -days 365 -out "$dir/default.crt" 2>>"$dir/openssl.log"
    cat >"$dir/locations.conf" <<EOF
    # The answer of GET /version, chosen by the server's rewrite to /@KIND;
    # \$ks_b names the server's answer (one per cluster or service): its body file.
    location = /@json { internal; default_type application/json; alias $dir/bodies/\$ks_b; }
    location = /@html { internal; default_type text/html; alias $dir/bodies/\$ks_b; }
    location = /@bin { internal; default_type application/octet-stream; alias $dir/bodies/\$ks_b; }
    location = /@s401 { internal; return 401; }
    location = /@s403 { internal; return 403; }
    location = /@404 { internal; return 404; }
    location = /@status { internal; default_type application/json; alias $dir/bodies/\$ks_b; }
EOF
    cat >"$dir/nginx.conf" <<EOF
# Generated by k8s_population.sh. servers.conf has one server block per
# certificate, listening on that certificate's endpoints.
# Workers run as root: the state directory may sit in a private (0700)
# temporary directory, and this nginx serves only the test namespaces.
user root;
worker_processes 1;
worker_rlimit_nofile 4096;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 2048; }
http {
  access_log off;
  server_tokens off;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_certificate_key $dir/leaf.key;
  error_page 401 403 /@status;
  server {
    listen 443 ssl default_server backlog=4096;
    listen 6443 ssl default_server backlog=4096;
    listen 10250 ssl default_server backlog=4096;
    listen 10255 default_server backlog=4096;
$(if (($1 > 0)); then
    echo "    listen [::]:443 ssl default_server ipv6only=on backlog=4096;"
    echo "    listen [::]:6443 ssl default_server ipv6only=on backlog=4096;"
fi)
    ssl_certificate $dir/default.crt;
    return 404;
  }
  include $dir/servers.conf;
}
EOF
}

source "$here/wait_listening.sh"

# The real etcds of surfaces.tsv (serve etcd-plain|etcd-tls|etcd-mtls), one
# single-member cluster each on its address, its pid in etcd.pids; waits
# (bounded) until each has decided its cluster version, as /version then
# tells it. Sets n_etcd.
start_etcds() {
    local addr port mode cert serve scheme flags n=0 i
    : >"$dir/etcd.pids"
    while IFS=$'\t' read -r addr port _ _ _ _ _ cert serve; do
        [[ $serve == etcd-* ]] || continue
        mode=${serve#etcd-} scheme=https flags=()
        [[ $mode == plain ]] && scheme=http
        [[ $mode != plain ]] && flags=(--cert-file "$dir/certs/$cert.crt" --key-file "$dir/leaf.key")
        [[ $mode == mtls ]] && flags+=(--client-cert-auth --trusted-ca-file "$dir/ca/etcd.crt")
        n=$((n + 1))
        # A subshell that closes every inherited descriptor but 0-2 (a
        # caller's lock, as flock's, must not outlive the caller in etcd)
        # and becomes etcd.
        (
            for fd in /proc/$BASHPID/fd/*; do
                fd=${fd##*/}
                ((fd > 2)) && eval "exec $fd>&-"
            done
            exec ip netns exec "$T" etcd --name "e$n" --data-dir "$dir/etcd/$n" \
                --listen-client-urls "$scheme://$addr:$port" --advertise-client-urls "$scheme://$addr:$port" \
                --listen-peer-urls "http://$addr:2380" --initial-advertise-peer-urls "http://$addr:2380" \
                --initial-cluster "e$n=http://$addr:2380" "${flags[@]}"
        ) </dev/null >"$dir/etcd/$n.log" 2>&1 &
        echo $! >>"$dir/etcd.pids"
    done < <(tail -n +2 "$dir/surfaces.tsv")
    for ((i = 1; i <= n; i++)); do
        local tries=0
        until grep -q "initial cluster version" "$dir/etcd/$i.log" 2>/dev/null; do
            ((++tries <= 300)) || die "etcd $i did not decide its cluster version in 30 s (see $dir/etcd/$i.log)"
            sleep 0.1
        done
    done
    n_etcd=$n
}

pop_up() {
    local seed=${1:-} count=${2:-1500} nodes=${3:-} ipv6=${4:-0} etcd_max=${KS_POP_ETCD_MAX:-6} etcd_real=
    [[ "$seed" =~ ^[0-9]{1,9}$ ]] || die "bad or missing SEED '$seed' (0-999999999)"
    [[ "$count" =~ ^[1-9][0-9]{0,4}$ ]] && ((count <= 20000)) ||
        die "bad COUNT '$count' (1-20000)"
    nodes=${nodes:-$((count / 10))}
    [[ "$nodes" =~ ^[0-9]{1,4}$ ]] || die "bad NODES '$nodes' (0-9999)"
    [[ "$ipv6" =~ ^[0-9]{1,4}$ ]] && ((ipv6 <= 1000)) || die "bad IPV6 '$ipv6' (0-1000 permille)"
    [[ "$etcd_max" =~ ^[0-9]{1,2}$ ]] || die "bad KS_POP_ETCD_MAX '$etcd_max' (0-99)"
    # The real etcd's version, as its /version will tell it.
    if ((etcd_max > 0 && nodes > 0)); then
        command -v etcd >/dev/null ||
            die "etcd not found (apt-get install etcd-server, or KS_POP_ETCD_MAX=0 for nginx's etcds only)"
        etcd_real=$(etcd --version | sed -n 's/^etcd Version: //p')
    fi
    pop_down
    mkdir -p "$dir/bodies" "$dir/etcd"
    dir=$(cd "$dir" && pwd) # nginx needs absolute paths
    LC_ALL=C awk -v seed="$seed" -v count="$count" -v nodes="$nodes" -v ipv6="$ipv6" \
        -v etcd_max="$etcd_max" -v etcd_real="$etcd_real" -v out="$dir" \
        -f "$here/k8s_population.awk" ||
        die "the population model failed"
    local t0=$EPOCHREALTIME
    make_certificates
    local t1=$EPOCHREALTIME
    write_nginx_conf "$ipv6"
    "$here/netns.sh" up "$id"
    if ((ipv6 > 0)); then "$here/netns.sh" ipv6 "$id"; fi
    ip netns exec "$T" nginx -c "$dir/nginx.conf" 2>"$dir/nginx-start.log" ||
        { cat "$dir/nginx-start.log" >&2; die "nginx did not start with the generated configuration"; }
    wait_listening 443 "nginx: see $dir/error.log"
    wait_listening 6443 "nginx: see $dir/error.log"
    start_etcds
    ip netns exec "$T" nft -f "$dir/population.nft"
    # What the network answered, recorded on the target side (as sim.sh
    # does): if a scan misses endpoints, this tells the network from the
    # scanner. `answered` = every (address, port) that sent a SYN-ACK.
    ip netns exec "$T" nft -f - <<NFT
table inet ks {
    counter synack_out { }
    set answered { type ipv4_addr . inet_service; size 65536; flags dynamic; }
    chain output {
        type filter hook output priority 0; policy accept;
        ip saddr 198.18.0.0/16 tcp flags & (syn | ack) == (syn | ack) counter name synack_out add @answered { ip saddr . tcp sport }
    }
}
NFT
    echo "k8s_population.sh: $(grep -c . "$dir/ca.jobs") CAs and $(grep -c . "$dir/leaf.jobs") certificates in" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, nginx up in" \
        "$(awk -v a="$t1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s with $n_etcd etcd" >&2
    echo "$dir/expected.tsv"
}

pop_down() {
    if [[ -f "$dir/nginx.pid" ]]; then
        kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    fi
    local pid
    if [[ -f "$dir/etcd.pids" ]]; then
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/etcd.pids"
        while read -r pid; do
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        done <"$dir/etcd.pids"
    fi
    "$here/netns.sh" down "$id"
    rm -rf "$dir"
}

case "$cmd" in
    up) shift 2; pop_up "$@" ;;
    down) pop_down ;;
    *) usage ;;
esac
