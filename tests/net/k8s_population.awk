# k8s_population.awk - the seeded model behind k8s_population.sh: a
# June-2021-like population of Kubernetes API servers and other services in
# 198.18.0.0/16 on ports 443 and 6443 (k8s-facts.md §1.4, §4, §5, §8).
#
#   awk -v seed=N -v count=N -v out=DIR [-v ipv6=PERMILLE] -f k8s_population.awk
#
# With ipv6 > 0 (issue 20) about PERMILLE/1000 of the addresses are IPv6
# instead: 198.18.A.B becomes 2001:2::c612:XXXX (XXXX = A*256+B in hex; the
# same draws, so ipv6=0 writes the IPv4 population byte for byte), with
# every endpoint of that address; they go to the nft set open6, nginx
# listens on them in brackets, and hitlist.txt lists them (live) with
# silent and resetting entries (dead) elsewhere in 2001:2::/48.
#
# It only decides; k8s_population.sh makes the certificates and runs nginx.
# Files written in DIR:
#   expected.tsv   one line per open endpoint (header first), tab-separated:
#                  addr port tls k8s provider minor git_version http_status
#                  cert cert_marker model cluster  ("-" = none; see
#                  docs/testnet.md)
#   ca.jobs        name|subject                     one CA per line: every
#                  cluster's own CA (named by its cluster id) and the few
#                  shared ones (public CAs, etcd, Docker ...)
#   leaf.jobs      cert|ca|subject|subjectAltName   one serving certificate
#   servers.conf   nginx server blocks, one per serving certificate and
#                  answer (its endpoints, certificate, headers, answer) and per
#                  plain-HTTP endpoint
#   bodies/ANSWER  what GET /version answers (version.Info, Status, HTML ...),
#                  one per cluster or service (a0001 ...)
#   population.nft the nft sets `open` (every endpoint) and `rst`; with
#                  ipv6, `open6` and `rst6` too (netns.sh ipv6 makes them)
#   hitlist.txt    with ipv6: the hitlist to scan (see above)
#
# Every random choice comes from one MINSTD generator (x = x * 48271 mod
# 2^31-1, exact in awk's doubles) seeded with `seed`, in a fixed order, so the
# files depend only on (seed, count): integer arithmetic below 2^53 and no
# reliance on array order, so any POSIX awk gives the same files (the tests
# run Debian's default, mawk).

# Two streams: `state` for the API-server part, `state2` (node_stream = 1)
# for the node surfaces, so NODES never changes the API-server part.
function rnd() {
    if (node_stream) { state2 = (state2 * 48271) % 2147483647; return state2 }
    state = (state * 48271) % 2147483647; return state
}
function rint(n) { return rnd() % n }
function chance(percent) { return rint(100) < percent }
function hexn(n,   s) {
    s = ""
    while (length(s) < n) s = s sprintf("%06x", rnd() % 16777216)
    return substr(s, 1, n)
}
function uuid() { return hexn(8) "-" hexn(4) "-4" hexn(3) "-a" hexn(3) "-" hexn(12) }
function one_of(list,   parts, n) { n = split(list, parts, " "); return parts[1 + rint(n)] }
# "a:3 b:1" -> a three times as often as b
function weighted(list,   parts, n, i, kv, total, r) {
    n = split(list, parts, " ")
    total = 0
    for (i = 1; i <= n; i++) { split(parts[i], kv, ":"); total += kv[2] }
    r = rint(total)
    for (i = 1; i <= n; i++) {
        split(parts[i], kv, ":")
        if (r < kv[2]) return kv[1]
        r -= kv[2]
    }
}
# Minors weighted as a June-2021 population (most on 1.16-1.19), restricted
# to the ones a provider shipped then.
function pick_minor(allowed,   parts, n, i, list) {
    n = split(allowed, parts, " ")
    list = ""
    for (i = 1; i <= n; i++) list = list " " parts[i] ":" minor_weight[parts[i]]
    return weighted(substr(list, 2))
}
function new_addr(   a, b) {
    do { a = 1 + rint(254); b = 1 + rint(254) } while ((a, b) in used)
    used[a, b] = 1
    # a hash of the address, not a draw: the IPv4 population stays the same
    if (ipv6 > 0 && !node_stream && (a * 257 + b * 7919) % 1000 < ipv6) {
        live6[++n_live6] = sprintf("2001:2::c612:%x", a * 256 + b)
        return live6[n_live6]
    }
    return "198.18." a "." b
}
function is_ipv6(addr) { return index(addr, ":") > 0 }

# The issuer of each shared CA (k8s-facts.md §4): public CAs and the private
# CAs of services that are not API servers. A cluster's own CA is named by
# its cluster id and its subject is set by its model (own_ca).
function ca_subject(name) {
    if (name in own_ca_subject) return own_ca_subject[name]
    if (name == "letsencrypt") return "/C=US/O=Let's Encrypt/CN=R3"
    if (name == "digicert") return "/C=US/O=DigiCert Inc/CN=DigiCert TLS RSA SHA256 2020 CA1"
    if (name == "ibm") return "/C=US/O=IBM/CN=IBM Cloud Kubernetes Service CA"
    if (name == "etcd") return "/CN=etcd-ca"
    if (name == "docker") return "/CN=docker-ca"
    if (name == "dynamiclistener") return "/O=dynamiclistener-org/CN=dynamiclistener-ca@1612345678"
    return "/CN=private-ca"
}

# ------------------------------------------------------------- one cluster
# A cluster (or a service that is not Kubernetes): one answer, served by one
# or more units; a unit is one serving certificate (subject, SANs) on its
# endpoints (ep_addr/ep_port/ep_unit, in unit order). `ca` names the issuer:
# own_ca(SUBJECT) gives the cluster a CA of its own (a new key), else a
# shared CA's name. reuse_cert: a certificate id written before (a shared
# front end serves one certificate in front of several clusters).
function cluster_reset() {
    n_ep = 0; n_unit = 0; ca = ""; kind = ""; body = ""; reuse_cert = ""
    k8s = "no"; provider = "-"; minor = "-"; gitv = "-"; status = 0; tls = 1
    pf = 0; audit = 0; docker = 0; marker = 0; cluster_ca_subject = ""
}
function own_ca(subj) { ca = "@own"; cluster_ca_subject = subj }
function add_unit(subj, san) { n_unit++; u_subject[n_unit] = subj; u_sans[n_unit] = san }
function add_ep(addr, port) { n_ep++; ep_addr[n_ep] = addr; ep_port[n_ep] = port; ep_unit[n_ep] = n_unit }
function kube_sans(svc_ip) {
    return "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc," \
           "DNS:kubernetes.default.svc.cluster.local,IP:" svc_ip
}
# version.Info of kube-apiserver, pretty-printed like the real one.
function version_body(git, commit, tree,   m, suffix, go, y, mo, d) {
    m = minor; sub(/^1\./, "", m)
    suffix = git; sub(/^v[0-9]+\.[0-9]+\.[0-9]+/, "", suffix)
    go = go_version[minor]
    y = (m + 0 >= 20) ? 2021 : 2020; mo = 1 + rint(12); d = 1 + rint(28)
    if (y == 2021 && mo > 5) mo = 1 + rint(5)
    return "{\n" \
        "  \"major\": \"1\",\n" \
        "  \"minor\": \"" m (suffix ~ /^-/ ? "+" : "") "\",\n" \
        "  \"gitVersion\": \"" git "\",\n" \
        "  \"gitCommit\": \"" commit "\",\n" \
        "  \"gitTreeState\": \"" tree "\",\n" \
        "  \"buildDate\": \"" sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, rint(24), rint(60), rint(60)) "\",\n" \
        "  \"goVersion\": \"" go "\",\n" \
        "  \"compiler\": \"gc\",\n" \
        "  \"platform\": \"" (chance(90) ? "linux/amd64" : "linux/arm64") "\"\n" \
        "}"
}
function minor_number(m) { sub(/^1\./, "", m); return m + 0 }
function patch_of(m) { return rint(max_patch[m] + 1) }
# The answer of a Kubernetes cluster: public version (200), or 401/403 Status.
function kube_answer(auth, git, commit, tree) {
    k8s = "yes"
    if (auth == "public") {
        gitv = git; status = 200; kind = "json"
        body = version_body(git, commit, tree)
    } else if (auth == "401") {
        minor = "-"; status = 401; kind = "s401"; body = status401
    } else {
        minor = "-"; status = 403; kind = "s403"; body = status403; pf = 1
    }
    # API Priority and Fairness headers on every answer from 1.20 (beta,
    # on by default); Audit-Id where auditing is on.
    if (minor != "-" && minor_number(minor) >= 20) pf = 1
    if (chance(40)) audit = 1
}

# Kubernetes CAs (k8s-facts.md §4): every cluster has its own, with its own
# key. kubeadm, EKS, ACK, TKE: CN=kubernetes.
function kube_ca() { own_ca("/CN=kubernetes") }
# An EKS cluster: the certificate names the cluster's endpoint host name and
# the control-plane instance (ip-172-16-....internal) that serves it.
function eks_sans(name, region, svc) {
    return "DNS:" name ",DNS:ip-172-16-" rint(256) "-" rint(256) "." \
           (region == "us-east-1" ? "ec2.internal" : region ".compute.internal") "," kube_sans(svc)
}
function model_eks(   n, i, region, name, m, commit, auth, svc, rotated) {
    m = pick_minor("1.13 1.14 1.15 1.16 1.17 1.18 1.19 1.20")
    minor = m
    commit = hexn(40)
    auth = weighted("public:92 403:8")
    kube_answer(auth, "v" m "." patch_of(m) "-eks-" substr(commit, 1, 6), commit, "clean")
    marker = 1
    provider = "eks"
    region = one_of("us-east-1 us-east-1 us-east-2 us-west-2 eu-west-1 eu-central-1 ap-southeast-1 ap-northeast-1 ap-south-1 sa-east-1")
    name = toupper(hexn(32)) "." one_of("gr7 yl4 sk1") "." region ".eks.amazonaws.com"
    kube_ca()
    svc = chance(70) ? "10.100.0.1" : "172.20.0.1"
    # A public EKS endpoint is a load balancer with one address per zone.
    # 15% of the clusters present two certificates behind it (a rotation,
    # another control-plane instance): same host name, same CA, one
    # certificate on the first address(es), the other on the rest.
    rotated = chance(15)
    n = (rotated ? weighted("2:80 3:20") : weighted("1:20 2:70 3:10")) + 0
    add_unit("/CN=kube-apiserver", eks_sans(name, region, svc))
    for (i = 1; i <= n; i++) {
        if (rotated && i == int((n + 1) / 2) + 1) add_unit("/CN=kube-apiserver", eks_sans(name, region, svc))
        add_ep(new_addr(), 443)
    }
}
function model_gke(   m, addr, auth) {
    m = pick_minor("1.16 1.17 1.18 1.19 1.20")
    minor = m
    auth = weighted("public:90 403:10")
    kube_answer(auth, "v" m "." patch_of(m) "-gke." (100 + rint(2200)), hexn(40), "clean")
    marker = 1
    provider = "gke"
    addr = new_addr()
    # The cluster's CA is named by a UUID; the leaf names the public address.
    own_ca("/CN=" uuid())
    add_unit("/CN=" addr, kube_sans("10." rint(128) ".0.1") ",IP:" addr)
    add_ep(addr, 443)
}
function model_aks(   m, auth, region) {
    m = pick_minor("1.17 1.18 1.19 1.20 1.21")
    minor = m
    auth = weighted("public:90 403:10")
    kube_answer(auth, "v" m "." patch_of(m), hexn(40), "clean")
    marker = 1
    provider = "aks"
    region = one_of("eastus eastus2 westus2 westeurope northeurope uksouth southeastasia australiaeast canadacentral japaneast")
    own_ca("/CN=ca")
    add_unit("/CN=apiserver", kube_sans("10.0.0.1") ",DNS:" one_of("prod dev staging aks k8s app") "-" \
             one_of("dns rg cluster") "-" hexn(8) ".hcp." region ".azmk8s.io")
    add_ep(new_addr(), 443)
}
# kubeadm, kind, kops, kubespray ...: plain upstream versions, CN=kube-apiserver
# signed by the cluster's CN=kubernetes; port 6443, often also 443 (same
# certificate). 15% are HA: 2-3 control-plane nodes, each its own address,
# its own serving certificate (its node name and address) on 6443, signed by
# the one cluster CA, all naming the shared control-plane endpoint.
function model_kubeadm(   m, auth, addr, layout, node, nodes, i, cpe) {
    m = pick_minor("1.13 1.14 1.15 1.16 1.17 1.18 1.19 1.20 1.21")
    minor = m
    auth = weighted("public:84 403:8 401:8")
    kube_answer(auth, "v" m "." patch_of(m), hexn(40), "clean")
    marker = 1
    provider = "upstream"
    kube_ca()
    node = one_of("master k8s-master cp control-plane kube-master node")
    if (chance(15)) {
        nodes = weighted("2:30 3:70") + 0
        cpe = one_of("k8s-api kube-api api cp-lb") "." one_of("corp lab prod dc1") rint(1000) ".example.org"
        for (i = 1; i <= nodes; i++) {
            addr = new_addr()
            add_unit("/CN=kube-apiserver", "DNS:" node "-" i ",DNS:" cpe "," kube_sans("10.96.0.1") ",IP:" addr)
            add_ep(addr, 6443)
        }
        return
    }
    addr = new_addr()
    add_unit("/CN=kube-apiserver", "DNS:" node "-" (1 + rint(3)) "," kube_sans("10.96.0.1") ",IP:" addr)
    layout = weighted("6443:55 both:25 443:10 two:10")
    if (layout == "6443" || layout == "both") add_ep(addr, 6443)
    if (layout == "443" || layout == "both") add_ep(addr, 443)
    if (layout == "two") { add_ep(addr, 6443); add_ep(new_addr(), 6443) }
}
# An upstream build behind an ordinary certificate for its host name: only
# the version.Info body says Kubernetes.
function model_custom(   m, host) {
    m = pick_minor("1.15 1.16 1.17 1.18 1.19 1.20 1.21")
    minor = m
    kube_answer("public", "v" m "." patch_of(m), hexn(40), "clean")
    provider = "upstream"
    host = one_of("k8s api kube cluster") "." one_of("acme corp shop lab example") rint(1000) ".example.net"
    ca = "letsencrypt"
    add_unit("/CN=" host, "DNS:" host)
    add_ep(new_addr(), one_of("443 6443"))
}
# A shared front end: one wildcard certificate of a hosting company on the
# TLS-terminating proxy in front of 2-4 customers' clusters, each on its own
# address and answering its own version. Every estimator sees one cluster.
# Writes its clusters itself (the last may be cut to fit).
function model_frontend(   host, n, i, m, cert) {
    host = "k8s." one_of("cloudhost kubehost clusterfarm") rint(1000) ".example.net"
    n = weighted("2:40 3:40 4:20") + 0
    cert = ""
    for (i = 1; i <= n && n_out < count; i++) {
        cluster_reset()
        m = pick_minor("1.15 1.16 1.17 1.18 1.19 1.20 1.21")
        minor = m
        kube_answer("public", "v" m "." patch_of(m), hexn(40), "clean")
        provider = "upstream"
        ca = "letsencrypt"
        reuse_cert = cert
        add_unit("/CN=*." host, "DNS:*." host ",DNS:" host)
        add_ep(new_addr(), 443)
        write_cluster("frontend")
        cert = last_cert
    }
}
function model_openshift(   m, auth, host, commit) {
    m = pick_minor("1.16 1.17 1.18 1.19 1.20")
    minor = m
    auth = weighted("public:85 403:15")
    commit = hexn(40)
    # OCP 4.x kept the .0 patch of its Kubernetes minor for a whole z-stream.
    kube_answer(auth, "v" m ".0+" substr(commit, 1, 7), commit, "clean")
    marker = 1
    provider = "openshift"
    # api.<cluster name>.<base domain>: each organisation's own domain.
    host = "api." one_of("prod ocp dev cluster1 cluster2 okd") "." \
           one_of("acme corp shop lab bank") rint(10000) "." one_of("com org net")
    own_ca("/OU=openshift/CN=kube-apiserver-lb-signer")
    add_unit("/CN=" host, "DNS:" host)
    add_ep(new_addr(), 6443)
}
function model_ack(   m, commit) {
    m = pick_minor("1.14 1.16 1.18 1.20")
    minor = m
    commit = hexn(7)
    kube_answer("public", "v" m "." patch_of(m) "-aliyun.1", commit, "")
    marker = 1
    provider = "ack"
    kube_ca()
    add_unit("/CN=kube-apiserver", kube_sans("172.21.0.1"))
    add_ep(new_addr(), 6443)
}
function model_tke(   m) {
    m = pick_minor("1.14 1.16 1.18 1.20")
    minor = m
    kube_answer("public", "v" m "." patch_of(m) "-tke." (1 + rint(20)), hexn(40), "clean")
    marker = 1
    provider = "tke"
    kube_ca()
    add_unit("/CN=kube-apiserver", "DNS:cls-" hexn(8) ".ccs.tencent-cloud.com," kube_sans("172.16.255.1"))
    add_ep(new_addr(), 443)
}
function model_iks(   m, host) {
    m = pick_minor("1.17 1.18 1.19 1.20")
    minor = m
    kube_answer("public", "v" m "." patch_of(m) "+IKS", hexn(40), "clean")
    provider = "iks"
    host = "c" (1 + rint(120)) "." one_of("us-south us-east eu-de eu-gb jp-tok") ".containers.cloud.ibm.com"
    ca = "ibm"
    add_unit("/CN=" host, "DNS:" host)
    add_ep(new_addr(), 443)
}
# k3s and RKE2 turn anonymous access off: /version is 401 and only the
# certificate tells what it is. The CA is the cluster's own
# <dist>-server-ca@<creation time> (k3s from mid-2019, RKE2 from late 2020).
function model_rancher(dist,   addr) {
    kube_answer("401")
    provider = dist
    marker = 1
    addr = new_addr()
    if (dist == "k3s") own_ca("/CN=k3s-server-ca@" (1560000000 + rint(63000000)))
    else own_ca("/CN=rke2-server-ca@" (1600000000 + rint(23000000)))
    add_unit("/O=" dist "/CN=" dist,
             "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc.cluster.local,DNS:localhost," \
             "IP:10.43.0.1,IP:127.0.0.1,IP:" addr)
    add_ep(addr, 6443)
    if (chance(20)) add_ep(addr, 443)
}

# ------------------------------------------------------- not Kubernetes
# (shared CAs: no estimator counts them)
function model_html(   host) {
    host = one_of("www shop mail portal intranet blog") "." one_of("alpha beta gamma delta omega") rint(10000) ".example.com"
    ca = one_of("letsencrypt digicert")
    add_unit("/CN=" host, "DNS:" host)
    if (chance(85)) { kind = "html"; status = 200; body = html_page }
    else { kind = "404"; status = 404 }
    add_ep(new_addr(), weighted("443:9 6443:1"))
}
function model_etcd(   n) {
    n = rint(100)
    ca = "etcd"
    add_unit("/CN=etcd-" n, "DNS:localhost,DNS:etcd-" n ",IP:127.0.0.1")
    kind = "json"; status = 200
    body = "{\"etcdserver\":\"3." one_of("3.4 3.10 3.13 4.3 4.9 4.13 4.16") "\",\"etcdcluster\":\"3." one_of("3 4") ".0\"}"
    add_ep(new_addr(), one_of("443 6443"))
}
function model_docker(   v) {
    v = one_of("19.03.13 20.10.2 20.10.6 20.10.7")
    ca = "docker"
    add_unit("/CN=docker-" hexn(6), "DNS:docker-host")
    kind = "json"; status = 200; docker = 1
    body = "{\"Platform\":{\"Name\":\"Docker Engine - Community\"},\"Components\":[{\"Name\":\"Engine\",\"Version\":\"" v "\",\"Details\":{\"ApiVersion\":\"1.41\",\"Arch\":\"amd64\",\"MinAPIVersion\":\"1.12\",\"Os\":\"linux\"}}],\"Version\":\"" v "\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\",\"Os\":\"linux\",\"Arch\":\"amd64\"}"
    add_ep(new_addr(), one_of("443 6443"))
}
# Rancher server and other dynamiclistener users: a k3s-like certificate
# family that is not an API server (a false-positive source).
function model_dynamic() {
    ca = "dynamiclistener"
    add_unit("/O=dynamic/CN=dynamic", "DNS:rancher." one_of("corp lab example") rint(1000) ".example.com")
    kind = "html"; status = 200; body = html_page
    add_ep(new_addr(), 443)
}
function model_garbage() {
    ca = "private"
    add_unit("/CN=svc" rint(10000) ".example.io", "DNS:svc.example.io")
    kind = "bin"; status = 200; body = "\001\002\003 binary \377\376 garbage"
    add_ep(new_addr(), one_of("443 6443"))
}
# Plain HTTP on 443/6443: the TLS handshake fails.
function model_plain() { tls = 0; add_unit("", ""); add_ep(new_addr(), one_of("443 6443")) }

# --------------------------------------------------------------- output
# One nginx server block per unit (serving certificate and answer), listening
# on each of its endpoints, so nginx loads every certificate once at start (a
# certificate chosen per handshake costs a key load, ~2 ms with OpenSSL 3.0).
# One call = one cluster: a cluster id (k0001 ...) when it is Kubernetes, and
# one answer (bodies/a0001 ...) for all its units.
function write_cluster(model,   i, u, cert, bf, listen, cid, answer) {
    if (status == 403 || status == 401) model = model "-" status
    cid = "-"
    if (k8s == "yes") cid = sprintf("k%04d", ++n_cluster)
    if (ca == "@own") { ca = cid; own_ca_subject[ca] = cluster_ca_subject }
    answer = sprintf("a%04d", ++n_answer)
    i = 1
    for (u = 1; u <= n_unit && n_out < count; u++) {
        cert = "-"
        if (tls && reuse_cert != "") cert = reuse_cert
        else if (tls) {
            cert = leaf_job(ca, u_subject[u], u_sans[u])
        }
        last_cert = cert
        listen = ""
        for (; i <= n_ep && ep_unit[i] == u; i++) {
            if (n_out >= count) continue
            n_out++
            printf "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", ep_addr[i], ep_port[i], tls, k8s,
                provider, (gitv == "-" ? "-" : minor), gitv, status, cert, marker, model, cid > expected
            if (is_ipv6(ep_addr[i])) {
                open6_elems = open6_elems (open6_elems == "" ? "" : ", ") ep_addr[i] " . " ep_port[i]
                listen = listen sprintf("    listen [%s]:%d%s;\n", ep_addr[i], ep_port[i], tls ? " ssl" : "")
                if (n_out % 512 == 0) flush_open()
            } else {
                add_open(ep_addr[i], ep_port[i])
                listen = listen sprintf("    listen %s:%d%s;\n", ep_addr[i], ep_port[i], tls ? " ssl" : "")
                # the node surfaces are IPv4 only (nginx listens per address there)
                if (k8s == "yes" && model ~ /^(kubeadm|k3s|rke2|openshift)/ && !(ep_addr[i] in cp_seen))
                    note_control_plane(ep_addr[i], ca, model)
            }
        }
        printf "  server {\n%s", listen > servers
        if (!tls) {
            # Plain HTTP: the scanner's ClientHello gets nginx's 400 page.
            printf "    location / { return 200 \"<html><body>plain http</body></html>\\n\"; }\n  }\n" > servers
            continue
        }
        printf "    ssl_certificate %s/certs/%s.crt;\n    set $ks_b %s;\n", out, cert, answer > servers
        if (pf) {
            printf "    add_header X-Kubernetes-Pf-Flowschema-Uid %s always;\n", uuid() > servers
            printf "    add_header X-Kubernetes-Pf-Prioritylevel-Uid %s always;\n", uuid() > servers
        }
        if (audit) printf "    add_header Audit-Id %s always;\n", uuid() > servers
        if (docker) printf "    add_header Api-Version 1.41 always;\n    add_header Ostype linux always;\n" > servers
        printf "    location / { rewrite ^ /@%s last; }\n    include %s/locations.conf;\n  }\n", kind, out > servers
    }
    if (tls && body != "") {
        bf = out "/bodies/" answer
        printf "%s", body > bf
        close(bf)
    }
}
# A new serving certificate issued by CA: its id (c0001 ...).
function leaf_job(ca, subject, sans,   cert) {
    cert = sprintf("c%04d", ++n_cert)
    printf "%s|%s|%s|%s\n", cert, ca, subject, sans > leafjobs
    if (!(ca in ca_used)) { ca_used[ca] = 1; ca_order[++n_ca] = ca }
    return cert
}
function add_open(addr, port) {
    open_elems = open_elems (open_elems == "" ? "" : ", ") addr " . " port
    if (++n_open % 512 == 0) flush_open()
}
function flush_open() {
    if (open_elems != "") print "add element inet ks open { " open_elems " }" > nft
    if (open6_elems != "") print "add element inet ks open6 { " open6_elems " }" > nft
    open_elems = open6_elems = ""
}

# The hitlist: every live IPv6 address once (some written out in full or in
# upper case, as hitlist files come), then dead entries: silent ones (their
# SYNs dropped) and ones answering RST (set rst6), with comments.
function write_hitlist(   hit, i, n_dead, rst6) {
    hit = out "/hitlist.txt"
    print "# IPv6 hitlist of the test population (live and dead entries)" > hit
    for (i = 1; i <= n_live6; i++)
        print (i % 5 == 0 ? toupper(live6[i]) : live6[i]) > hit
    n_dead = int(n_live6 / 2) + 3
    rst6 = ""
    for (i = 1; i <= n_dead; i++) {
        if (i % 3 == 0) {
            print sprintf("2001:2:0:dead::%x   # resets", i) > hit
            rst6 = rst6 (rst6 == "" ? "" : ", ") sprintf("2001:2:0:dead::%x", i)
        } else {
            print sprintf("2001:2:0:%x::1", 256 + i) > hit
        }
    }
    if (rst6 != "") print "add element inet ks rst6 { " rst6 " }" > nft
    close(hit)
}
# A self-managed control plane (its nodes run a kubelet, often etcd): the
# node surfaces may sit on its address, beside its API server.
function note_control_plane(addr, cluster_ca, model) {
    cp_seen[addr] = 1
    cp_addr[++n_cp] = addr
    cp_ca[n_cp] = cluster_ca
    cp_kubeadm[n_cp] = (model ~ /^kubeadm/)
}


# --------------------------------------------------------- node surfaces
# NODES endpoints beside the API servers (docs/testnet.md): kubelets on
# 10250 (TLS; 401, 403 or the healthz answer by the mix of kubelet_modes),
# read-only ports on 10255 (plain HTTP), etcd on 2379 (plain, TLS, or TLS
# demanding a client certificate), and strays (another service on one of
# those ports). They sit on self-managed control planes' addresses (the
# kubelet, the read-only port and stacked etcd of a kubeadm, k3s, RKE2 or
# OpenShift node) or on new ones (workers, external etcd). One line each in
# surfaces.tsv. `serve` says who answers: nginx, or a real etcd (etcd-plain,
# etcd-tls, etcd-mtls) of version etcd_real, at most etcd_max of them; only
# a real etcd fails the handshake without a client certificate, so without
# one (no etcd_real, or etcd_max reached) no etcd demands one.
function node_surfaces(   kind, next_cp) {
    node_stream = 1
    next_cp = 1
    while (n_node < nodes) {
        kind = weighted("controlplane:30 worker:45 etcd:15 stray:10")
        if (kind == "controlplane" && next_cp <= n_cp) node_control_plane(next_cp++)
        else if (kind == "etcd") node_etcd(new_addr(), 0)
        else if (kind == "stray") node_stray(new_addr())
        else node_kubelet(new_addr(), "", 20)
    }
    node_stream = 0
}
function node_control_plane(i) {
    node_kubelet(cp_addr[i], cp_ca[i], 15)
    if (cp_kubeadm[i] && chance(50)) node_etcd(cp_addr[i], 1)
}
# A kubelet's serving certificate: self-signed as the kubelet makes it
# (CN=<node>@<time>, issued by CN=<node>-ca@<time>), or, with
# serverTLSBootstrap, issued by the cluster's CA (CN=system:node:<node>).
function kubelet_cert(addr, cluster_ca,   node, t, ca) {
    node = one_of("node worker k8s-node ip-10-0 minion") "-" rint(1000)
    t = 1600000000 + rint(60000000)
    if (cluster_ca != "" && chance(30))
        return leaf_job(cluster_ca, "/O=system:nodes/CN=system:node:" node, "DNS:" node ",IP:" addr)
    ca = sprintf("n%04d", ++n_node_ca)
    own_ca_subject[ca] = "/CN=" node "-ca@" t
    return leaf_job(ca, "/CN=" node "@" t, "DNS:" node)
}
# A kubelet (10250) and, with READONLY percent, its read-only port (10255).
function node_kubelet(addr, cluster_ca, readonly,   mode, cert) {
    mode = weighted(kubelet_modes)
    cert = kubelet_cert(addr, cluster_ca)
    if (mode == "401") emit_node(addr, 10250, "kubelet", cert, "authentication-required", 401, "text/plain", "Unauthorized\\n")
    else if (mode == "403") emit_node(addr, 10250, "kubelet", cert, "anonymous-forbidden", 403, "text/plain", forbidden)
    else if (mode == "200") emit_node(addr, 10250, "kubelet", cert, "anonymous-open", 200, "text/plain", "ok")
    else emit_node(addr, 10250, "kubelet", cert, "anonymous-open", 500, "text/plain", healthz_failed)
    if (chance(readonly))
        emit_node(addr, 10255, "kubelet-readonly", "-", "open", 200, "text/plain", "ok")
}
# etcd: stacked (on a control plane: mostly kubeadm's client-certificate
# setup) or external. Real etcds answer their own version; nginx claims
# others.
function node_etcd(addr, stacked,   mode, real, v, cert, serve) {
    mode = stacked ? weighted("mtls:80 tls:10 plain:10") : weighted("mtls:30 tls:35 plain:35")
    real = (mode == "mtls" || chance(30)) && etcd_real != "" && n_real < etcd_max
    if (mode == "mtls" && !real) mode = "tls"
    v = real ? etcd_real : one_of(etcd_versions)
    cert = mode == "plain" ? "-" : leaf_job("etcd", "/CN=etcd-" rint(100), "DNS:localhost,IP:127.0.0.1,IP:" addr)
    serve = real ? "etcd-" mode : "nginx"
    n_real += real
    emit_node(addr, 2379, "etcd", cert, mode == "mtls" ? "client-cert-required" : "no-client-auth", 200,
              "application/json", "{\"etcdserver\":\"" v "\",\"etcdcluster\":\"" cluster_version(v) "\"}", serve)
}
# etcd's cluster version is the minor's .0 (etcdserver/api/capability.go).
function cluster_version(v,   p) { split(v, p, "."); return p[1] "." p[2] ".0" }
# Another service on a node port: a web server's 404, no finding.
function node_stray(addr,   port, module, cert) {
    port = one_of("10250 10255 2379")
    module = port == 2379 ? "etcd" : port == 10250 ? "kubelet" : "kubelet-readonly"
    cert = port == 10255 ? "-" : leaf_job("private", "/CN=svc" rint(10000) ".example.io", "DNS:svc.example.io")
    emit_node(addr, port, module, cert, "-", 404, "text/html", "<html><body>404 Not Found</body></html>")
}
# One node endpoint (cut at NODES): its truth line, its nft element and,
# unless a real etcd serves it, its nginx server block (CERT "-" = plain).
function emit_node(addr, port, module, cert, finding, code, type, text, serve,   v, tls) {
    if (n_node >= nodes) return
    n_node++
    if (serve == "") serve = "nginx"
    tls = cert != "-"
    v[1] = v[2] = "-"
    if (finding == "no-client-auth") { match(text, /"etcdserver":"[^"]*"/); v[1] = substr(text, RSTART + 14, RLENGTH - 15); v[2] = cluster_version(v[1]) }
    printf "%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", addr, port, module, tls, finding, v[1], v[2], cert, serve > surfaces
    add_open(addr, port)
    if (serve != "nginx") return
    printf "  server {\n    listen %s:%d%s;\n", addr, port, tls ? " ssl" : "" > servers
    if (tls) printf "    ssl_certificate %s/certs/%s.crt;\n", out, cert > servers
    printf "    default_type \"%s\";\n    location / { return %d '%s'; }\n  }\n", type, code, text > servers
}

BEGIN {
    if (nodes == "") nodes = int(count / 10)
    if (etcd_max == "") etcd_max = 6
    if (seed !~ /^[0-9]+$/ || count !~ /^[0-9]+$/ || count < 1 || out == "" ||
        nodes !~ /^[0-9]+$/ || etcd_max !~ /^[0-9]+$/) {
        print "k8s_population.awk: need -v seed=N -v count=N (>= 1) -v out=DIR [-v nodes=N -v etcd_max=N -v etcd_real=VERSION]" > "/dev/stderr"
        exit 2
    }
    if (etcd_real != "" && etcd_real !~ /^[0-9]+\.[0-9]+\.[0-9]+$/) {
        print "k8s_population.awk: etcd_real '" etcd_real "' is not a version x.y.z" > "/dev/stderr"
        exit 2
    }
    state = (seed % 2147483646) + 1
    for (i = 0; i < 16; i++) rnd()
    node_stream = 1
    state2 = ((seed * 7 + 3) % 2147483646) + 1
    for (i = 0; i < 16; i++) rnd()
    node_stream = 0

    split("1.13:2 1.14:3 1.15:5 1.16:8 1.17:12 1.18:20 1.19:22 1.20:18 1.21:8", mw, " ")
    for (i in mw) { split(mw[i], kv, ":"); minor_weight[kv[1]] = kv[2] }
    # Newest patch of each minor on 2021-06-10 (1.18.20 came on 2021-06-16).
    split("1.13:12 1.14:10 1.15:12 1.16:15 1.17:17 1.18:19 1.19:11 1.20:7 1.21:1", mp, " ")
    for (i in mp) { split(mp[i], kv, ":"); max_patch[kv[1]] = kv[2] }
    split("1.13:go1.11.13 1.14:go1.12.12 1.15:go1.12.17 1.16:go1.13.15 1.17:go1.13.15 1.18:go1.13.15 1.19:go1.15.12 1.20:go1.15.12 1.21:go1.16.4", gv, " ")
    for (i in gv) { split(gv[i], kv, ":"); go_version[kv[1]] = kv[2] }

    status401 = "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {},\n  \"status\": \"Failure\",\n  \"message\": \"Unauthorized\",\n  \"reason\": \"Unauthorized\",\n  \"code\": 401\n}"
    status403 = "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {\n    \n  },\n  \"status\": \"Failure\",\n  \"message\": \"forbidden: User \\\"system:anonymous\\\" cannot get path \\\"/version\\\"\",\n  \"reason\": \"Forbidden\",\n  \"details\": {\n    \n  },\n  \"code\": 403\n}"
    # The kubelet's answers to GET /healthz (docs/probes.md, "Modules"), and
    # the mix of its authorization modes; etcd versions nginx claims.
    forbidden = "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource=proxy)"
    healthz_failed = "[+]ping ok\\n[+]log ok\\n[-]syncloop failed: reason withheld\\nhealthz check failed\\n"
    kubelet_modes = "401:50 403:25 200:20 500:5"
    etcd_versions = "2.3.8 3.2.32 3.3.27 3.4.27 3.5.9 3.5.17 3.6.4"
    html_page = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"

    expected = out "/expected.tsv"; leafjobs = out "/leaf.jobs"; nft = out "/population.nft"
    servers = out "/servers.conf"
    print "addr\tport\ttls\tk8s\tprovider\tminor\tgit_version\thttp_status\tcert\tcert_marker\tmodel\tcluster" > expected
    print "flush set inet ks open" > nft
    print "flush set inet ks rst" > nft
    if (ipv6 > 0) { print "flush set inet ks open6" > nft; print "flush set inet ks rst6" > nft }
    printf "" > servers
    printf "" > leafjobs
    surfaces = out "/surfaces.tsv"
    print "addr\tport\tmodule\ttls\tfinding\tetcd_server\tetcd_cluster\tcert\tserve" > surfaces

    # Cluster mix (per draw; EKS clusters have ~2 endpoints each, HA kubeadm
    # clusters 2-3, a front end 2-4 clusters of one endpoint).
    models = "eks:30 gke:14 aks:12 kubeadm:13 custom:2 frontend:1 openshift:6 ack:4 tke:3 iks:2 " \
             "k3s:6 rke2:3 html:9 etcd:2 docker:2 dynamic:1 garbage:2 plain:3"
    n_out = 0; n_cert = 0; n_cluster = 0; n_answer = 0
    while (n_out < count) {
        cluster_reset()
        model = weighted(models)
        if (model == "eks") model_eks()
        else if (model == "gke") model_gke()
        else if (model == "aks") model_aks()
        else if (model == "kubeadm") model_kubeadm()
        else if (model == "custom") model_custom()
        else if (model == "frontend") { model_frontend(); continue }
        else if (model == "openshift") model_openshift()
        else if (model == "ack") model_ack()
        else if (model == "tke") model_tke()
        else if (model == "iks") model_iks()
        else if (model == "k3s" || model == "rke2") model_rancher(model)
        else if (model == "html") model_html()
        else if (model == "etcd") model_etcd()
        else if (model == "docker") model_docker()
        else if (model == "dynamic") model_dynamic()
        else if (model == "garbage") model_garbage()
        else model_plain()
        write_cluster(model)
    }
    node_surfaces()
    flush_open()

    # Addresses that answer RST on every port not open: about 1% of the /16,
    # some of them population addresses (their other port resets).
    rst_elems = ""; n_rst = 0
    for (i = 0; i < 655; i++) {
        a = 1 + rint(254); b = 1 + rint(254)
        if ((a, b) in rst_used) continue
        rst_used[a, b] = 1
        rst_elems = rst_elems (rst_elems == "" ? "" : ", ") "198.18." a "." b
        if (++n_rst % 512 == 0) { print "add element inet ks rst { " rst_elems " }" > nft; rst_elems = "" }
    }
    if (rst_elems != "") print "add element inet ks rst { " rst_elems " }" > nft
    if (ipv6 > 0) write_hitlist()

    cajobs = out "/ca.jobs"
    printf "" > cajobs
    for (i = 1; i <= n_ca; i++) printf "%s|%s\n", ca_order[i], ca_subject(ca_order[i]) > cajobs
    close(cajobs)
    close(servers)
}
