/*
 * classify.c - is it a Kubernetes API server, which distribution or managed
 * service, which version. Pure functions over what a probe captured; the
 * rules and their sources are in docs/probes.md (k8s-facts.md §1.4, §4, §5,
 * §9).
 */
#include "probes/internal.h"

#include <ctype.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- version */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Exactly `n` lowercase hex digits and the end of the string. */
static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return false;
    return s[n] == '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* `prefix` followed by one or more digits and nothing else. */
static bool prefix_then_digits(const char *s, const char *prefix)
{
    return starts_with(s, prefix) && all_digits(s + strlen(prefix));
}

/* Huawei CCE: (?i)-(r\d+-)?cce... */
static bool is_cce_suffix(const char *s)
{
    if (*s++ != '-')
        return false;
    if (*s == 'r' && isdigit((unsigned char)s[1])) {
        const char *p = s + 1;
        while (isdigit((unsigned char)*p))
            p++;
        if (*p == '-')
            s = p + 1;
    }
    return strncasecmp(s, "cce", 3) == 0;
}

/* `n` to `m` lowercase hex digits and the end of the string. */
static bool is_hex_range(const char *s, size_t n, size_t m)
{
    size_t i = 0;
    while (i < m && (isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
        i++;
    return i >= n && s[i] == '\0';
}

/* Skips one or more digits; NULL if there are none. */
static const char *skip_digits(const char *s)
{
    if (!isdigit((unsigned char)*s))
        return NULL;
    while (isdigit((unsigned char)*s))
        s++;
    return s;
}

/* git describe after a tag: "-N+<14 hex>" then `tail` (MicroK8s: "", OKD:
 * "-dirty"). */
static bool is_git_describe_suffix(const char *s, const char *tail)
{
    if (*s++ != '-' || !(s = skip_digits(s)) || *s++ != '+')
        return false;
    for (int i = 0; i < 14; i++, s++)
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
            return false;
    return !strcmp(s, tail);
}

/* Upstream: -alpha.N, -beta.N, -rc.N, and the CI / release-branch builds of
 * the upstream tree, -rc.N.M+<14 hex> (v1.29.0-alpha.3.117+af8174e3caabf3). */
static bool is_upstream_prerelease(const struct k8s_version *v)
{
    if (v->pre == K8S_PRE_NONE)
        return false;
    const char *s = strchr(v->suffix, '.');
    if (!s || !(s = skip_digits(s + 1)))
        return false;
    if (*s == '\0')
        return true;
    if (*s++ != '.' || !(s = skip_digits(s)) || *s++ != '+')
        return false;
    return is_hex(s, 14);
}

/* EKS Distro / EKS Anywhere: -eks-<major>-<minor>-<release>, the major and
 * minor those of the version (v1.21.5-eks-1-21-8). */
static bool is_eks_distro_suffix(const struct k8s_version *v)
{
    char prefix[40];
    snprintf(prefix, sizeof(prefix), "-eks-%d-%d-", v->major, v->minor);
    return prefix_then_digits(v->suffix, prefix);
}

/* k3s before v1.17 (k3s v0.x, v1.0): the k3s-io/kubernetes fork's tags
 * v1.14.1-k3s.4; then +k3s.1 (v1.17.x) and +k3sN (v1.18 on). */
static bool is_k3s_suffix(const char *s)
{
    return prefix_then_digits(s, "+k3s") || prefix_then_digits(s, "+k3s.") ||
           prefix_then_digits(s, "-k3s.");
}

const char *k8s_provider_from_version(const char *git_version)
{
    struct k8s_version v;
    if (k8s_version_parse(git_version, &v) < 0)
        return NULL;
    const char *s = v.suffix;
    if (*s == '\0' || is_upstream_prerelease(&v))
        return "upstream";
    if (starts_with(s, "-eks-") && is_hex_range(s + 5, 6, 7))
        return "eks";
    if (is_eks_distro_suffix(&v))
        return "eks-distro";
    if (prefix_then_digits(s, "-gke."))
        return "gke";
    if (prefix_then_digits(s, "-aliyun."))
        return "ack";
    if (prefix_then_digits(s, "-tke."))
        return "tke";
    if (is_cce_suffix(s))
        return "cce";
    if (!strcmp(s, "+IKS"))
        return "iks";
    if (is_k3s_suffix(s))
        return "k3s";
    if (prefix_then_digits(s, "+rke2r"))
        return "rke2";
    if (!strcmp(s, "+k0s") || prefix_then_digits(s, "+k0s."))
        return "k0s";
    if (prefix_then_digits(s, "+vmware."))
        return "vmware";
    if (s[0] == '+' && is_hex(s + 1, 7))
        return "openshift";
    /* OKD 4 is built from a modified tree: git describe + "-dirty"
     * (v1.20.0-1046+5fbfd197c16d3c-dirty, v1.28.2-3598+6e2789bbd58938-dirty);
     * OKD 4 began on Kubernetes 1.16 (openshift-cs/okd.io#96), so older
     * bases are someone else's dirty build (the Baidu CCM's own
     * v1.0.11-167+3f240d4c97126d-dirty). */
    if (is_git_describe_suffix(s, "-dirty") && v.major == 1 && v.minor >= 16)
        return "okd";
    if (is_git_describe_suffix(s, ""))
        return "microk8s";
    return "other";
}

/* ------------------------------------------------------------ certificate */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

/* 8-4-4-4-12 hex, as GKE's per-cluster CA CN reportedly is. */
static bool is_uuid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++)
            if (!isxdigit((unsigned char)*s))
                return false;
        if (*s != (g < 4 ? '-' : '\0'))
            return false;
        s++;
    }
    return true;
}

/* Calls `fn` for every entry of `nid` in `name` as a NUL-terminated UTF-8
 * string (entries with embedded NULs are skipped). */
struct name_scan {
    bool marker;
    const char *provider;
    bool node_subject;            /* O=system:nodes or CN=system:node:<name> */
    char self_cn[256];            /* subject CN "<host>@<digits>": "<host>" */
    bool self_signed_pair;        /* ... and issuer CN "<host>-ca@<digits>" */
};

static void each_entry(const X509_NAME *name, int nid, struct name_scan *scan,
                       void (*fn)(struct name_scan *, const char *))
{
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
        const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, data);
        if (n >= 0 && strlen((char *)utf8) == (size_t)n)
            fn(scan, (char *)utf8);
        OPENSSL_free(utf8);
    }
}

static void set_provider(struct name_scan *scan, const char *provider)
{
    /* Cloud host names outrank distribution names: an EKS endpoint name is
     * more specific than anything else the certificate says. */
    if (!scan->provider || !strcmp(provider, "eks") || !strcmp(provider, "aks"))
        scan->provider = provider;
}

/* The API server host names of the managed services, in every partition
 * (docs/probes.md gives the sources). Only the API endpoint zones: Azure
 * China's azk8s.cn also names image mirrors, so only its AKS zone counts. */
static const struct {
    const char *suffix, *provider;
} cloud_names[] = {
    {".eks.amazonaws.com", "eks"},             /* commercial and GovCloud (US) */
    {".eks.amazonaws.com.cn", "eks"},          /* AWS China (Beijing, Ningxia) */
    {".azmk8s.io", "aks"},                     /* Azure (hcp., privatelink.) */
    {".cx.prod.service.azk8s.cn", "aks"},      /* Azure China (21Vianet) */
    {".cx.aks.containerservice.azure.us", "aks"}, /* Azure Government */
    {".gke.goog", "gke"},                      /* GKE DNS-based endpoint */
};

/* A DNS name (SAN or a CN that is a host name). */
static void check_host_name(struct name_scan *scan, const char *name)
{
    if (!strcasecmp(name, "kubernetes") || !strcasecmp(name, "kubernetes.default") ||
        !strcasecmp(name, "kubernetes.default.svc") ||
        !strncasecmp(name, "kubernetes.default.svc.", 23))
        scan->marker = true;
    for (size_t i = 0; i < sizeof(cloud_names) / sizeof(cloud_names[0]); i++)
        if (ends_with(name, cloud_names[i].suffix)) {
            scan->marker = true;
            set_provider(scan, cloud_names[i].provider);
            return;
        }
    if (!strcasecmp(name, "kubernetes.docker.internal") ||
        !strcasecmp(name, "docker-for-desktop")) {
        scan->marker = true;
        set_provider(scan, "docker-desktop");
    } else if (!strcasecmp(name, "minikube")) {
        scan->marker = true;
        set_provider(scan, "minikube");
    }
}

/* "<host>@<digits>" (the self-signed certificates of k8s.io/client-go
 * cert.GenerateSelfSignedCertKey): the host part into `host`, else "". */
static void split_self_signed(const char *cn, const char *tail, char *host, size_t size)
{
    host[0] = '\0';
    const char *at = strrchr(cn, '@');
    if (!at || at == cn || !all_digits(at + 1))
        return;
    size_t n = (size_t)(at - cn), t = strlen(tail);
    if (n < t || strncmp(at - t, tail, t) != 0 || n - t == 0 || n - t >= size)
        return;
    memcpy(host, cn, n - t);
    host[n - t] = '\0';
}

static void check_subject_cn(struct name_scan *scan, const char *cn)
{
    if (!strcmp(cn, "kube-apiserver") || !strcmp(cn, "system:kube-apiserver"))
        scan->marker = true;
    else if (!strcmp(cn, "k3s"))
        scan->marker = true, set_provider(scan, "k3s");
    else if (!strcmp(cn, "rke2"))
        scan->marker = true, set_provider(scan, "rke2");
    else if (starts_with(cn, "system:node:") && cn[12])
        scan->node_subject = true;
    split_self_signed(cn, "", scan->self_cn, sizeof(scan->self_cn));
    check_host_name(scan, cn);
}

static void check_subject_o(struct name_scan *scan, const char *o)
{
    if (!strcmp(o, "k3s"))
        scan->marker = true, set_provider(scan, "k3s");
    else if (!strcmp(o, "rke2"))
        scan->marker = true, set_provider(scan, "rke2");
    else if (!strcmp(o, "system:nodes"))
        scan->node_subject = true;
}

/* Issuer CN "kubernetes" (the kubeadm cluster CA) is not a marker by itself:
 * that CA also signs kubelet serving certificates and the certificates of
 * webhooks and other in-cluster services (CSR API). The API server's own
 * certificate says so in its subject CN or SANs. */
static void check_issuer_cn(struct name_scan *scan, const char *cn)
{
    if (starts_with(cn, "k3s-server-ca@"))
        scan->marker = true, set_provider(scan, "k3s");
    else if (starts_with(cn, "rke2-server-ca@"))
        scan->marker = true, set_provider(scan, "rke2");
    else if (!strcmp(cn, "kube-apiserver-lb-signer"))
        scan->marker = true, set_provider(scan, "openshift");
    else if (!strcmp(cn, "minikubeCA"))
        scan->marker = true, set_provider(scan, "minikube");
    char host[256];
    split_self_signed(cn, "-ca", host, sizeof(host));
    if (host[0] && !strcmp(host, scan->self_cn))
        scan->self_signed_pair = true;
}

static void check_issuer_ou(struct name_scan *scan, const char *ou)
{
    if (!strcmp(ou, "openshift"))
        scan->marker = true, set_provider(scan, "openshift");
}

static void check_sans(struct name_scan *scan, X509 *cert)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type != GEN_DNS)
            continue;
        const ASN1_IA5STRING *dns = gn->d.dNSName;
        if (memchr(dns->data, 0, dns->length))
            continue;
        char *name = strndup((const char *)dns->data, dns->length);
        if (name)
            check_host_name(scan, name);
        free(name);
    }
    GENERAL_NAMES_free(sans);
}

/* GKE (UNVERIFIED in the facts): a per-cluster CA whose CN is a UUID. Only
 * counted on a certificate that already carries a Kubernetes marker. */
static void check_issuer_uuid(struct name_scan *scan, const char *cn)
{
    if (scan->marker && is_uuid(cn))
        set_provider(scan, "gke");
}

void k8s_cert_inspect_x509(X509 *cert, struct k8s_cert_facts *out)
{
    struct name_scan scan = {0};
    const X509_NAME *subject = X509_get_subject_name(cert);
    const X509_NAME *issuer = X509_get_issuer_name(cert);
    each_entry(subject, NID_commonName, &scan, check_subject_cn);
    each_entry(subject, NID_organizationName, &scan, check_subject_o);
    each_entry(issuer, NID_commonName, &scan, check_issuer_cn);
    each_entry(issuer, NID_organizationalUnitName, &scan, check_issuer_ou);
    check_sans(&scan, cert);
    if (!scan.provider)
        each_entry(issuer, NID_commonName, &scan, check_issuer_uuid);
    out->marker = scan.marker;
    out->provider = scan.provider;
    /* A kubelet: its CSR-issued serving certificate (O=system:nodes,
     * CN=system:node:<node>), or the certificate it makes itself when given
     * none (host name "<node>@<time>", issued by "<node>-ca@<time>"). The
     * controller manager and scheduler make the same pair for "localhost";
     * those are not kubelets. An API server name anywhere wins. */
    bool self_signed_kubelet = scan.self_signed_pair && strcmp(scan.self_cn, "localhost") != 0;
    out->kubelet = !scan.marker && (scan.node_subject || self_signed_kubelet);
}

int k8s_cert_inspect(const uint8_t *der, size_t length, struct k8s_cert_facts *out)
{
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)length);
    if (!cert)
        return -1;
    k8s_cert_inspect_x509(cert, out);
    X509_free(cert);
    return 0;
}

/* ------------------------------------------------------------------ body */

static char *dup_string_field(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? strdup(s) : NULL;
}

/* A 200 body: version.Info, something else's JSON, or garbage. */
static void classify_version_body(struct probe_result *r, json_t *body)
{
    if (!json_is_object(body)) {
        r->version_state = VERSION_INVALID;
        return;
    }
    json_t *git = json_object_get(body, "gitVersion");
    if (!git) {
        /* etcd {"etcdserver":..}, Docker {"Platform":..,"ApiVersion":..}, or
         * any other JSON object: a /version, but not Kubernetes'. */
        r->version_state = VERSION_OTHER;
        return;
    }
    struct k8s_version v;
    const char *s = json_string_value(git);
    if (!s || k8s_version_parse(s, &v) < 0) {
        r->version_state = VERSION_INVALID;
        r->git_version = s ? strdup(s) : NULL;
        return;
    }
    r->version_state = VERSION_VALID;
    r->evidence |= EVIDENCE_VERSION_INFO;
    r->git_version = strdup(s);
    r->version_major = v.major;
    r->version_minor = v.minor;
    r->version_patch = v.patch;
    r->version_suffix = strdup(v.suffix);
    r->git_commit = dup_string_field(body, "gitCommit");
    r->build_date = dup_string_field(body, "buildDate");
    r->go_version = dup_string_field(body, "goVersion");
    r->platform = dup_string_field(body, "platform");
}

/* {"kind":"Status","apiVersion":"v1",...,"code":401} */
static bool is_status_body(json_t *body, int http_status)
{
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *api = json_string_value(json_object_get(body, "apiVersion"));
    json_t *code = json_object_get(body, "code");
    return kind && api && !strcmp(kind, "Status") && !strcmp(api, "v1") &&
           json_is_integer(code) && json_integer_value(code) == http_status;
}


void k8s_classify_with_leaf(struct probe_result *r, X509 *leaf)
{
    probe_result_clear_classification(r);

    struct k8s_cert_facts cert = {0};
    if (leaf)
        k8s_cert_inspect_x509(leaf, &cert);
    if (cert.marker)
        r->evidence |= EVIDENCE_CERT_MARKER;

    if (r->http_status > 0 && r->body && r->body_length > 0) {
        json_t *body = json_loadb((const char *)r->body, r->body_length, 0, NULL);
        if (r->http_status == 200)
            classify_version_body(r, body);
        else if (body && is_status_body(body, r->http_status))
            r->evidence |= EVIDENCE_STATUS_BODY;
        json_decref(body);
    }
    if (r->http_pf_flowschema || r->http_pf_prioritylevel || r->http_audit_id)
        r->evidence |= EVIDENCE_APISERVER_HDR;

    if (!r->evidence) {
        /* Nothing says API server (no version.Info, no Status body, no
         * apiserver headers, no marker) but the leaf is a kubelet's. */
        if (cert.kubelet)
            r->k8s = K8S_KUBELET;
        return;
    }
    r->k8s = K8S_YES;
    /* The version string first; AKS and the other upstream-identical builds
     * are told apart only by their certificate. */
    const char *provider = NULL;
    if (r->version_state == VERSION_VALID)
        provider = k8s_provider_from_version(r->git_version);
    if ((!provider || !strcmp(provider, "upstream")) && cert.provider)
        provider = cert.provider;
    /* EKS Distro / EKS Anywhere builds took the managed service's
     * -eks-<7 hex> form too (kubelets v1.25.5-eks-c248520 on EKS Anywhere,
     * docs/probes.md). A managed EKS API server's own certificate names its
     * endpoint (*.eks.amazonaws.com[.cn]); an API server certificate without
     * that name is EKS Distro's. The 6-hex form predates EKS Distro. */
    if (provider && !strcmp(provider, "eks") && cert.marker &&
        (!cert.provider || strcmp(cert.provider, "eks") != 0) &&
        r->version_suffix && strlen(r->version_suffix) == strlen("-eks-") + 7)
        provider = "eks-distro";
    r->provider = strdup(provider ? provider : "upstream");
}

void k8s_classify(struct probe_result *r)
{
    X509 *leaf = NULL;
    if (r->chain_length > 0 && r->chain[0].der) {
        const unsigned char *p = r->chain[0].der;
        leaf = d2i_X509(NULL, &p, (long)r->chain[0].length);
    }
    k8s_classify_with_leaf(r, leaf);
    X509_free(leaf);
}
