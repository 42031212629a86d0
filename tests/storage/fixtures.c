/*
 * fixtures.c - see fixtures.h.
 */
#include "tests/storage/fixtures.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext) {
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
}

uint8_t *fixture_x509(unsigned index, size_t *length)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    char cn[64], san[256];
    snprintf(cn, sizeof(cn), index % 2 ? "kube-apiserver" : "k3s");
    snprintf(san, sizeof(san), "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
             "DNS:node-%u.example.test,IP:10.96.0.1,IP:198.18.%u.%u", index, (index >> 8) & 255,
             index & 255);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)index * 7919 + 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"k3s", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    add_ext(x, x, NID_subject_alt_name, san);
    add_ext(x, x, NID_ext_key_usage, "serverAuth");
    X509_sign(x, key, EVP_sha256());
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    EVP_PKEY_free(key);
    if (n <= 0)
        return NULL;
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *length = (size_t)n;
    return copy;
}

uint8_t *fixture_blob_cert(unsigned index, size_t *length)
{
    static const char head[] = "0\x82\x03\x1e" "0\x82\x02\x06\xa0\x03\x02\x01\x02\x02\x08"
                               "CN=kube-apiserver O=kubeadm issuer CN=kubernetes "
                               "DNS:kubernetes DNS:kubernetes.default DNS:kubernetes.default.svc "
                               "DNS:kubernetes.default.svc.cluster.local IP:10.96.0.1 ";
    size_t n = sizeof(head) - 1 + 40 + index % 64;
    uint8_t *p = malloc(n);
    memcpy(p, head, sizeof(head) - 1);
    uint32_t x = index * 2654435761u + 12345;
    for (size_t i = sizeof(head) - 1; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    *length = n;
    return p;
}

static char *text(const char *prefix, uint32_t seed)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s-%u", prefix, seed);
    return strdup(buf);
}

void fixture_result(struct probe_result *r, uint32_t seed, uint32_t addr, uint16_t port,
                    uint8_t *const *ders, const size_t *lengths, size_t chain_length)
{
    probe_result_init(r);
    r->addr = net_addr_ipv4(addr);
    r->port = port;
    r->started_ms = 1700000000000LL + seed;
    r->duration_ms = 100 + seed % 1000;
    r->outcome = (enum probe_outcome)(seed % PROBE_OUTCOME_COUNT);
    r->error = seed % 3 ? text("error", seed) : NULL;
    r->tls_done = seed % 2;
    r->tls_version = strdup("TLSv1.3");
    r->tls_cipher = strdup("TLS_AES_128_GCM_SHA256");
    r->tls_alpn = seed % 5 ? strdup("http/1.1") : NULL;
    for (size_t i = 0; i < chain_length; i++) {
        r->chain[i].der = malloc(lengths[i]);
        memcpy(r->chain[i].der, ders[i], lengths[i]);
        r->chain[i].length = lengths[i];
        SHA256(ders[i], lengths[i], r->chain[i].sha256);
    }
    r->chain_length = chain_length;
    r->chain_truncated = seed % 7 == 0;
    r->http_status = seed % 2 ? 200 : 401;
    r->http_server = seed % 4 ? text("server", seed) : NULL;
    r->http_content_type = strdup("application/json");
    r->http_audit_id = text("audit", seed);
    r->http_pf_flowschema = text("flowschema", seed);
    r->http_pf_prioritylevel = strdup("");
    char body[512];
    int n = snprintf(body, sizeof(body), "{\n  \"major\": \"1\",\n  \"minor\": \"%u\",\n  "
                     "\"gitVersion\": \"v1.%u.%u-eks-49a6c0\",\n  \"platform\": \"linux/amd64\"\n}\n",
                     seed % 40, seed % 40, seed % 17);
    r->body = malloc((size_t)n + 2);
    memcpy(r->body, body, (size_t)n);
    r->body[n] = 0;         /* binary bytes survive too */
    r->body[n + 1] = 0xff;
    r->body_length = (size_t)n + 2;
    r->body_truncated = seed % 11 == 0;
    r->k8s = seed % 2 ? K8S_YES : K8S_NO;
    r->evidence = seed & 15;
    r->provider = strdup("eks");
    r->version_state = (enum version_state)(seed % 4);
    r->git_version = text("v1.19.6", seed);
    r->version_major = 1;
    r->version_minor = (int)(seed % 40);
    r->version_patch = seed % 9 ? (int)(seed % 17) : -1;
    r->version_suffix = strdup("-eks-49a6c0");
    r->git_commit = strdup("49a6c0bf091506e7bafcdb1b142351b69363355a");
    r->build_date = strdup("2020-12-23T22:10:21Z");
    r->go_version = strdup("go1.15.5");
    r->platform = strdup("linux/amd64");
    r->all_ports_open = seed % 13 == 0;
    static const char *const modules[] = {"apiserver", "kubelet", "kubelet-readonly", "etcd"};
    r->module = strdup(modules[seed % 4]);
    r->tls_cert_requested = seed % 5 == 0;
    r->finding = seed % 3 ? strdup(RECORD_FINDING_ANON_OPEN) : NULL;
    r->etcd_server = seed % 4 == 3 ? text("3.5.9", seed) : NULL;
    r->etcd_cluster = seed % 4 == 3 ? strdup("3.5.0") : NULL;
}

static bool same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

const char *fixture_result_diff(const struct probe_result *a, const struct probe_result *b)
{
#define SAME(f) if (a->f != b->f) return #f
#define SAME_STR(f) if (!same_string(a->f, b->f)) return #f
    if (net_addr_cmp(&a->addr, &b->addr))
        return "addr";
    SAME(port); SAME(started_ms); SAME(duration_ms); SAME(outcome);
    SAME_STR(error); SAME(tls_done); SAME_STR(tls_version); SAME_STR(tls_cipher);
    SAME_STR(tls_alpn); SAME(chain_length); SAME(chain_truncated);
    for (size_t i = 0; i < a->chain_length; i++) {
        if (a->chain[i].length != b->chain[i].length ||
            memcmp(a->chain[i].sha256, b->chain[i].sha256, 32))
            return "chain";
        if (a->chain[i].der && b->chain[i].der &&
            memcmp(a->chain[i].der, b->chain[i].der, a->chain[i].length))
            return "chain.der";
    }
    SAME(http_status); SAME_STR(http_server); SAME_STR(http_content_type);
    SAME_STR(http_audit_id); SAME_STR(http_pf_flowschema); SAME_STR(http_pf_prioritylevel);
    SAME(body_length);
    if ((a->body == NULL) != (b->body == NULL) ||
        (a->body && memcmp(a->body, b->body, a->body_length)))
        return "body";
    SAME(body_truncated); SAME(k8s); SAME(evidence); SAME_STR(provider); SAME(version_state);
    SAME_STR(git_version); SAME(version_major); SAME(version_minor); SAME(version_patch);
    SAME_STR(version_suffix); SAME_STR(git_commit); SAME_STR(build_date);
    SAME_STR(go_version); SAME_STR(platform); SAME(all_ports_open);
    SAME_STR(module); SAME(tls_cert_requested); SAME_STR(finding); SAME_STR(etcd_server);
    SAME_STR(etcd_cluster);
#undef SAME
#undef SAME_STR
    return NULL;
}
