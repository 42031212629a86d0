/*
 * store_bench.c - storage benchmarks (issue 4).
 *
 *   store_bench records DIR [N]   host records per second through the real
 *       store writer (two producer threads, like the probe workers of a scan
 *       on this 2-core machine; STORE_BENCH_PRODUCERS changes it; records in
 *       scan order = random address order), in two mixes: (a) chains from a pool of 2,000
 *       certificates already seen (the steady state: shared CAs, hosts seen
 *       on two ports, non-TLS outcomes); (b) every record brings a new,
 *       unique leaf certificate (compression and SHA-256 on the hot path).
 *   store_bench certs DIR          bytes per stored certificate on a
 *       realistic set: CA + serving certificate of simulated clusters
 *       (kubeadm, EKS, AKS, GKE, OpenShift and minikube style RSA-2048;
 *       k3s and RKE2 style ECDSA P-256; SANs as k8s-facts.md section 4
 *       describes) plus Debian's Mozilla roots, inserted in a shuffled
 *       order through the store writer. (RSA keys come from a pool of
 *       random primes, see rsa_from_pool.) Compares raw DER, zstd without a
 *       dictionary per certificate, and the store (dictionary trained after
 *       2,000 certificates, which recompresses those 2,000; then `compact`);
 *       "held out" are the certificates stored after the training. The
 *       generated set is cached in DIR/certs-1250.bin (a few seconds).
 *   store_bench layout DIR [N]     bare LMDB: the old key layout (hosts by
 *       address) against the new (appended by arrival + address index).
 */
#include "lib/buf.h"
#include "lib/bytes.h"
#include "storage/storage.h"

#include <lmdb.h>

#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#define BENCH_LEVEL 9   /* keep in step with STORE_CERT_LEVEL (storage/internal.h) */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, err);
    exit(1);
}

/* ---- a set of DER certificates ---- */

struct cert {
    uint8_t *der;
    size_t length;
    const char *kind;
};

struct certset {
    struct cert *items;
    size_t count, capacity;
};

static void certset_add(struct certset *set, uint8_t *der, size_t length, const char *kind)
{
    if (BUF_GROW(set->items, set->capacity, set->count + 1, 1024))
        die("certset", "out of memory");
    set->items[set->count++] = (struct cert){der, length, kind};
}

/* ---- realistic certificate generation ---- */

static uint32_t rnd(void)
{
    uint32_t v;
    RAND_bytes((unsigned char *)&v, sizeof(v));
    return v;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        die("extension", value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

static void set_name(X509_NAME *name, const char *o, const char *ou, const char *cn)
{
    if (o)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0);
    if (ou)
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)ou, -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
}

/* A certificate as Go's crypto/x509 (kubeadm, k3s, ...) would make it:
 * random serial, validity from a random day since 2019. */
static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *o,
                       const char *ou, const char *cn, long days, bool ca, const char *san)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    BIGNUM *serial = BN_new();
    BN_rand(serial, ca ? 64 : 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x));
    BN_free(serial);
    time_t start = 1546300800 + (time_t)(rnd() % (8u * 365u)) * 86400;
    ASN1_TIME_set(X509_getm_notBefore(x), start);
    ASN1_TIME_set(X509_getm_notAfter(x), start + days * 86400);
    X509_set_pubkey(x, key);
    set_name(X509_get_subject_name(x), o, ou, cn);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
    X509 *iss = issuer ? issuer : x;
    if (ca) {
        add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign");
        add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, iss, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(x, iss, NID_ext_key_usage, "serverAuth");
        add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, iss, NID_authority_key_identifier, "keyid");
    }
    if (san)
        add_ext(x, iss, NID_subject_alt_name, san);
    if (!X509_sign(x, signer, EVP_sha256()))
        die("sign", cn);
    return x;
}

static void add_x509(struct certset *set, X509 *x, const char *kind)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0)
        die("i2d_X509", kind);
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    certset_add(set, copy, (size_t)n, kind);
}

static const char *const regions[] = {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
                                      "ap-southeast-1", "ap-northeast-1", "sa-east-1"};
static const char *const azure_regions[] = {"eastus", "westeurope", "northeurope", "eastus2",
                                            "southeastasia", "westus2", "uksouth"};

static void ip_text(char *out, size_t size, unsigned a, unsigned b)
{
    snprintf(out, size, "%u.%u.%u.%u", a, b, rnd() % 256, 1 + rnd() % 254);
}

/* RSA-2048 keys from a pool of random 1024-bit primes, one distinct pair
 * per key: generating thousands of keys the usual way takes minutes on a
 * busy 2-core machine. Every modulus is distinct and, being a product,
 * shares no bytes with another: as incompressible as any. */
#define PRIME_POOL 128
static BIGNUM *primes[PRIME_POOL];
static unsigned prime_pair;

static EVP_PKEY *rsa_from_pool(void)
{
    if (!primes[0])
        for (int i = 0; i < PRIME_POOL; i++) {
            primes[i] = BN_new();
            if (!BN_generate_prime_ex(primes[i], 1024, 0, NULL, NULL, NULL))
                die("prime", "BN_generate_prime_ex");
        }
    /* pair number k -> (i, j), i < j */
    unsigned k = prime_pair++, i = 0;
    while (k >= PRIME_POOL - 1 - i) {
        k -= PRIME_POOL - 1 - i;
        i++;
        if (i >= PRIME_POOL - 1)
            die("prime pool", "exhausted");
    }
    unsigned j = i + 1 + k;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = primes[i], *q = primes[j], *n = BN_new(), *e = BN_new(), *d = BN_new(),
           *p1 = BN_new(), *q1 = BN_new(), *phi = BN_new(), *dmp1 = BN_new(), *dmq1 = BN_new(),
           *iqmp = BN_new();
    BN_set_word(e, 65537);
    BN_mul(n, p, q, ctx);
    BN_sub(p1, p, BN_value_one());
    BN_sub(q1, q, BN_value_one());
    BN_mul(phi, p1, q1, ctx);
    if (!BN_mod_inverse(d, e, phi, ctx))
        die("rsa", "e not invertible");
    BN_mod(dmp1, d, p1, ctx);
    BN_mod(dmq1, d, q1, ctx);
    BN_mod_inverse(iqmp, q, p, ctx);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;
    if (!pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
        die("rsa", "EVP_PKEY_fromdata");
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n), BN_free(e), BN_free(d), BN_free(p1), BN_free(q1), BN_free(phi);
    BN_free(dmp1), BN_free(dmq1), BN_free(iqmp);
    BN_CTX_free(ctx);
    return key;
}

/* One cluster: its CA (if with_ca) and its API server's serving
 * certificate. */
static void make_cluster(struct certset *set, unsigned index, bool with_ca)
{
    static const char *const kinds[] = {"kubeadm", "kubeadm", "kubeadm", "eks", "eks", "aks",
                                        "gke", "openshift", "minikube", "k3s", "k3s", "k3s",
                                        "rke2"};
    const char *kind = kinds[index % (sizeof(kinds) / sizeof(kinds[0]))];
    bool ec = !strcmp(kind, "k3s") || !strcmp(kind, "rke2");
    EVP_PKEY *ca_key = ec ? EVP_EC_gen("P-256") : rsa_from_pool();
    EVP_PKEY *leaf_key = ec ? EVP_EC_gen("P-256") : rsa_from_pool();
    if (!ca_key || !leaf_key)
        die("keygen", kind);
    char san[1024], cn[128], ca_cn[128], node_ip[32], pub_ip[32], host[96];
    const char *o = NULL, *ca_o = NULL, *ca_ou = NULL;
    long ca_days = 3650, leaf_days = 365;
    ip_text(node_ip, sizeof(node_ip), 10, rnd() % 256);
    ip_text(pub_ip, sizeof(pub_ip), 20 + rnd() % 180, rnd() % 256);
    if (!strcmp(kind, "kubeadm")) {
        static const char *const nodes[] = {"master", "control-plane", "k8s-master", "kube-cp",
                                            "node"};
        snprintf(host, sizeof(host), "%s-%u", nodes[rnd() % 5], rnd() % 10);
        snprintf(ca_cn, sizeof(ca_cn), "kubernetes");
        snprintf(cn, sizeof(cn), "kube-apiserver");
        bool with_public = rnd() % 2;
        snprintf(san, sizeof(san), "DNS:%s,DNS:kubernetes,DNS:kubernetes.default,"
                 "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,"
                 "IP:10.96.0.1,IP:%s%s%s", host, node_ip, with_public ? ",IP:" : "",
                 with_public ? pub_ip : "");
    } else if (!strcmp(kind, "eks")) {
        char id[33];
        for (int i = 0; i < 32; i++)
            id[i] = "0123456789ABCDEF"[rnd() % 16];
        id[32] = '\0';
        const char *region = regions[rnd() % 7];
        snprintf(ca_cn, sizeof(ca_cn), "kubernetes");
        snprintf(cn, sizeof(cn), "kube-apiserver");
        snprintf(san, sizeof(san), "DNS:%s.%s.%s.eks.amazonaws.com,DNS:ip-172-16-%u-%u.%s."
                 "compute.internal,DNS:kubernetes,DNS:kubernetes.default,"
                 "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,"
                 "IP:%s,IP:172.16.%u.%u", id, (const char *[]){"gr7", "yl4", "sk1"}[rnd() % 3],
                 region, rnd() % 256, rnd() % 256, region, rnd() % 2 ? "10.100.0.1" : "172.20.0.1",
                 rnd() % 256, rnd() % 256);
    } else if (!strcmp(kind, "aks")) {
        snprintf(ca_cn, sizeof(ca_cn), "ca");
        snprintf(cn, sizeof(cn), "apiserver");
        o = NULL;
        snprintf(san, sizeof(san), "DNS:aks-%08x-dns-%08x.hcp.%s.azmk8s.io,DNS:kubernetes,"
                 "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
                 "DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1,IP:%s", rnd(), rnd(),
                 azure_regions[rnd() % 7], pub_ip);
    } else if (!strcmp(kind, "gke")) {
        snprintf(ca_cn, sizeof(ca_cn), "%08x-%04x-%04x-%04x-%08x%04x", rnd(), rnd() & 0xffff,
                 rnd() & 0xffff, rnd() & 0xffff, rnd(), rnd() & 0xffff);
        ca_days = 1825;
        snprintf(cn, sizeof(cn), "%08x-%04x-%04x-%04x-%08x%04x", rnd(), rnd() & 0xffff,
                 rnd() & 0xffff, rnd() & 0xffff, rnd(), rnd() & 0xffff);
        snprintf(san, sizeof(san), "DNS:kubernetes,DNS:kubernetes.default,"
                 "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,"
                 "IP:%s,IP:10.%u.0.1,IP:172.16.0.2", pub_ip, rnd() % 256);
    } else if (!strcmp(kind, "openshift")) {
        snprintf(host, sizeof(host), "cluster-%x.%s.example.com", rnd() % 65536,
                 (const char *[]){"prod", "dev", "ocp4", "lab"}[rnd() % 4]);
        ca_ou = "openshift";
        snprintf(ca_cn, sizeof(ca_cn), "kube-apiserver-lb-signer");
        snprintf(cn, sizeof(cn), "api.%s", host);
        snprintf(san, sizeof(san), "DNS:api.%s", host);
    } else if (!strcmp(kind, "minikube")) {
        snprintf(ca_cn, sizeof(ca_cn), "minikubeCA");
        o = "system:masters";
        snprintf(cn, sizeof(cn), "minikube");
        snprintf(san, sizeof(san), "DNS:minikubeCA,DNS:control-plane.minikube.internal,"
                 "DNS:kubernetes.default.svc.cluster.local,DNS:kubernetes.default.svc,"
                 "DNS:kubernetes.default,DNS:kubernetes,DNS:localhost,IP:192.168.49.2,"
                 "IP:10.96.0.1,IP:127.0.0.1,IP:10.0.0.1");
    } else {   /* k3s, rke2 */
        bool k3s = !strcmp(kind, "k3s");
        unsigned long ts = 1546300800ul + rnd() % (8u * 365u * 86400u);
        snprintf(ca_cn, sizeof(ca_cn), "%s-server-ca@%lu", k3s ? "k3s" : "rke2", ts);
        o = k3s ? "k3s" : "rke2";
        snprintf(cn, sizeof(cn), "%s", o);
        snprintf(san, sizeof(san), "DNS:kubernetes,DNS:kubernetes.default,"
                 "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,"
                 "DNS:localhost,DNS:%s-%x,IP:10.43.0.1,IP:127.0.0.1,IP:%s,IP:%s%s",
                 (const char *[]){"server", "pi", "node", "k3s"}[rnd() % 4], rnd() % 65536,
                 node_ip, pub_ip, rnd() % 3 ? "" : ",IP:0:0:0:0:0:0:0:1");
    }
    X509 *ca = make_cert(ca_key, ca_key, NULL, ca_o, ca_ou, ca_cn, ca_days, true, NULL);
    X509 *leaf = make_cert(leaf_key, ca_key, ca, o, NULL, cn, leaf_days, false, san);
    if (with_ca)
        add_x509(set, ca, kind);
    add_x509(set, leaf, kind);
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
}

static void load_cache(struct certset *set, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t head[4];
    while (fread(head, 1, 4, f) == 4) {
        size_t n = be32_get(head);
        uint8_t kind_length;
        char kind[32] = "";
        uint8_t *der = malloc(n);
        if (fread(&kind_length, 1, 1, f) != 1 || kind_length >= sizeof(kind) ||
            fread(kind, 1, kind_length, f) != kind_length || fread(der, 1, n, f) != n)
            die("cache", "truncated; delete it");
        certset_add(set, der, n, strdup(kind));
    }
    fclose(f);
}

static void save_cache(const struct certset *set, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cache", path);
    for (size_t i = 0; i < set->count; i++) {
        size_t n = set->items[i].length;
        uint8_t head[5];
        be32_put(head, (uint32_t)n);
        head[4] = (uint8_t)strlen(set->items[i].kind);
        fwrite(head, 1, 5, f);
        fwrite(set->items[i].kind, 1, head[4], f);
        fwrite(set->items[i].der, 1, n, f);
    }
    fclose(f);
}

static void load_mozilla(struct certset *set, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        die("Mozilla roots (install Debian package ca-certificates)", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".crt"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (x) {
            add_x509(set, x, "mozilla");
            X509_free(x);
        }
    }
    closedir(d);
}

/* ---- helpers for records ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void fill_record(struct probe_result *r, uint64_t i)
{
    static const char body[] =
        "{\n  \"major\": \"1\",\n  \"minor\": \"21+\",\n  \"gitVersion\": \"v1.21.14-eks-fb459a0\",\n"
        "  \"gitCommit\": \"b07006b2e59857b13fe5057a956e86225f0e82b7\",\n  \"gitTreeState\": "
        "\"clean\",\n  \"buildDate\": \"2022-10-24T20:32:54Z\",\n  \"goVersion\": \"go1.16.15\",\n"
        "  \"compiler\": \"gc\",\n  \"platform\": \"linux/amd64\"\n}";
    probe_result_init(r);
    r->addr = net_addr_ipv4((uint32_t)(i * 2654435761u));   /* scan order: a permutation */
    r->port = i & 1 ? 443 : 6443;
    r->started_ms = 1764400000000LL + (int64_t)i;
    r->duration_ms = 40 + (uint32_t)(i % 200);
    r->outcome = PROBE_OK;
    r->tls_done = true;
    r->tls_version = strdup("TLSv1.3");
    r->tls_cipher = strdup("TLS_AES_128_GCM_SHA256");
    r->tls_alpn = strdup("http/1.1");
    r->http_status = 200;
    r->http_content_type = strdup("application/json");
    r->http_audit_id = strdup("4c9d3a1e-5b7f-4e2a-9c1d-2f8e6b3a7d10");
    r->body_length = sizeof(body) - 1;
    r->body = malloc(r->body_length);
    memcpy(r->body, body, r->body_length);
    r->k8s = K8S_YES;
    r->evidence = EVIDENCE_VERSION_INFO | EVIDENCE_CERT_MARKER;
    r->provider = strdup("eks");
    r->version_state = VERSION_VALID;
    r->git_version = strdup("v1.21.14-eks-fb459a0");
    r->version_major = 1;
    r->version_minor = 21;
    r->version_patch = 14;
    r->version_suffix = strdup("-eks-fb459a0");
    r->git_commit = strdup("b07006b2e59857b13fe5057a956e86225f0e82b7");
    r->build_date = strdup("2022-10-24T20:32:54Z");
    r->go_version = strdup("go1.16.15");
    r->platform = strdup("linux/amd64");
}

static void set_chain(struct probe_result *r, size_t k, const uint8_t *der, size_t length)
{
    r->chain[k].der = malloc(length);
    memcpy(r->chain[k].der, der, length);
    r->chain[k].length = length;
    if (k + 1 > r->chain_length)
        r->chain_length = k + 1;
}

static struct store *fresh_store(const char *dir, const char *name, char *path, size_t size)
{
    char err[KS_ERRLEN];
    struct store *s;
    snprintf(path, size, "%s/%s", dir, name);
    unlink(path);
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s-lock", path);
    unlink(lock);
    if (store_open(&s, path, STORE_READ_WRITE, err))
        die("store_open", err);
    return s;
}

static void print_usage(struct store *s, uint64_t endpoints);

/* After store_finish_file or store_shrink_file the handle maps the old
 * file: the measurements need the new one. */
static struct store *reopen(struct store *s, const char *path)
{
    char err[KS_ERRLEN];
    store_close(s);
    if (store_open(&s, path, STORE_READ_WRITE, err))
        die("reopen", err);
    return s;
}

/* ---- records per second ---- */

struct producer {
    pthread_t thread;
    struct store_writer *w;
    struct certset *pool;
    bool unique_leaf;
    uint64_t first, step, n;   /* records first, first + step, ... below n */
    double cpu;                /* this thread's CPU seconds */
};

/* One producer thread, as a probe worker would be: builds each record and
 * hands it to the writer (store_writer_put hashes and encodes it here). */
static void *produce(void *arg)
{
    struct producer *pr = arg;
    char err[KS_ERRLEN];
    double c0 = thread_cpu_s();
    for (uint64_t i = pr->first; i < pr->n; i += pr->step) {
        struct probe_result r;
        fill_record(&r, i);
        const struct cert *leaf = &pr->pool->items[(i * 7919) % pr->pool->count];
        const struct cert *ca = &pr->pool->items[(i * 104729 + 1) % pr->pool->count];
        set_chain(&r, 0, leaf->der, leaf->length);
        if (pr->unique_leaf) {   /* a never-seen leaf: its last 80 bytes (signature) differ */
            size_t off = leaf->length > 80 ? leaf->length - 80 : 0;
            uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
            for (size_t k = off; k < leaf->length; k++) {
                x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
                r.chain[0].der[k] = (uint8_t)(x * 0x2545F4914F6CDD1Dull >> 56);
            }
        }
        set_chain(&r, 1, ca->der, ca->length);
        if (store_writer_put(pr->w, &r, err))
            die("put", err);
    }
    pr->cpu = thread_cpu_s() - c0;
    return NULL;
}

static void bench_records(const char *dir, uint64_t n, struct certset *pool, bool unique_leaf,
                          unsigned group, unsigned producers)
{
    char path[4096], err[KS_ERRLEN];
    struct store *s = fresh_store(dir, unique_leaf ? "records-unique.lmdb" : "records.lmdb",
                                  path, sizeof(path));
    uint32_t scan;
    struct store_writer *w;
    if (store_scan_create(s, "{\"bench\":true}", &scan, err) ||
        store_writer_start(s, scan, group, 1000, &w, err))
        die("writer", err);
    struct producer pr[8];
    double t0 = now_s(), c0 = cpu_s(), producer = 0;
    for (unsigned t = 0; t < producers; t++) {
        pr[t] = (struct producer){0, w, pool, unique_leaf, t, producers, n, 0};
        if (pthread_create(&pr[t].thread, NULL, produce, &pr[t]))
            die("producers", "pthread_create");
    }
    for (unsigned t = 0; t < producers; t++) {
        pthread_join(pr[t].thread, NULL);
        producer += pr[t].cpu;
    }
    if (store_writer_finish(w, err))
        die("finish", err);
    double seconds = now_s() - t0, cpu = cpu_s() - c0, writer = cpu - producer;
    struct store_cert_stats st;
    uint64_t stored;
    if (store_cert_stats(s, &st, err) || store_scan_host_count(s, scan, &stored, err))
        die("stats", err);
    if (stored != n)
        die("records", "the store does not hold every record");
    double load[1] = {0};
    getloadavg(load, 1);
    printf("%s: %llu records (groups of %u, %u producer threads), %llu certificates stored\n"
           "    wall %.2f s: %.0f records/s (load average %.1f on 2 cores)\n"
           "    CPU: producers %.2f s (%.2f us/record: building, hashing, encoding), writer "
           "thread + kernel %.2f s (%.2f us/record): writer-bound rate %.0f records/s\n",
           unique_leaf ? "(b) each record with a new unique leaf" :
                         "(a) chains from 2,000 known certificates",
           (unsigned long long)n, group, producers, (unsigned long long)st.certs, seconds,
           (double)n / seconds, load[0], producer, producer * 1e6 / (double)n, writer,
           writer * 1e6 / (double)n, (double)n / writer);
    bool shrunk;
    if (store_finish_file(s, &shrunk, err))
        die("finish file", err);
    s = reopen(s, path);
    printf("    room on disk as the scan leaves it%s:\n", shrunk ? " (file rewritten at the end)" : "");
    print_usage(s, n);
    store_close(s);
    unlink(path);
}

/* ---- the two key layouts in bare LMDB ---- */

/* Why hosts are keyed by arrival (docs/storage.md): n values of a given size
 * in groups of 50,000, keys in scan order (a permutation of addresses),
 * (1) keyed by address, each group sorted, or (2) appended under a sequence
 * number plus an address index entry. No encoding, no certificates. */
static void bench_layout(const char *dir, uint64_t n, size_t value_size, bool appended)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/layout.lmdb", dir);
    unlink(path);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi hosts, addrs;
    if (mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)8 << 30) ||
        mdb_env_set_maxdbs(env, 4) || mdb_env_open(env, path, MDB_NOSUBDIR, 0644) ||
        mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "hosts", MDB_CREATE, &hosts) ||
        mdb_dbi_open(txn, "addrs", MDB_CREATE, &addrs) || mdb_txn_commit(txn))
        die("lmdb", path);
    const uint64_t group = 50000;
    uint8_t *value = calloc(1, value_size);
    uint64_t *keys = malloc(group * sizeof(*keys));
    double t0 = now_s(), c0 = cpu_s();
    for (uint64_t i = 0; i < n; i += group) {
        uint64_t m = n - i < group ? n - i : group;
        for (uint64_t j = 0; j < m; j++)
            keys[j] = (uint64_t)(uint32_t)((i + j) * 2654435761u) << 16 | 443;
        if (mdb_txn_begin(env, NULL, 0, &txn))
            die("lmdb", "begin");
        int rc = 0;
        for (uint64_t j = 0; j < m && !rc && appended; j++) {   /* records, by arrival */
            uint8_t seq[12] = {0, 0, 0, 1};
            for (int b = 0; b < 8; b++)
                seq[4 + b] = (uint8_t)((i + j + 1) >> (56 - 8 * b));
            MDB_val k = {12, seq}, v = {value_size, value};
            rc = mdb_put(txn, hosts, &k, &v, MDB_APPEND);
        }
        qsort(keys, m, sizeof(*keys), cmp_u64);
        for (uint64_t j = 0; j < m && !rc; j++) {   /* by address: records or index */
            uint8_t addr[10] = {0, 0, 0, 1};
            for (int b = 0; b < 6; b++)
                addr[4 + b] = (uint8_t)(keys[j] >> (40 - 8 * b));
            MDB_val k = {10, addr}, v = {appended ? 8 : value_size, value};
            rc = mdb_put(txn, appended ? addrs : hosts, &k, &v, 0);
        }
        if (rc || mdb_txn_commit(txn))
            die("lmdb", mdb_strerror(rc));
    }
    double seconds = now_s() - t0, cpu = cpu_s() - c0;
    printf("  %-44s %8.0f records/s, %5.2f us CPU/record\n",
           appended ? "appended by arrival + address index" : "keyed by address (sorted groups)",
           (double)n / seconds, cpu * 1e6 / (double)n);
    mdb_env_close(env);
    free(keys);
    free(value);
    unlink(path);
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "-lock");
    unlink(path);
}

/* ---- bytes per certificate ---- */

static uint64_t zstd_size(const uint8_t *der, size_t length, int level, const ZSTD_CDict *cdict,
                          ZSTD_CCtx *cctx)
{
    static uint8_t out[1 << 17];
    size_t n = cdict ? ZSTD_compress_usingCDict(cctx, out, sizeof(out), der, length, cdict)
                     : ZSTD_compressCCtx(cctx, out, sizeof(out), der, length, level);
    if (ZSTD_isError(n))
        die("zstd", ZSTD_getErrorName(n));
    return n;
}

static void shuffle(struct cert *items, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        struct cert t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}

static void insert_certs(struct store_writer *w, const struct certset *set, size_t from,
                         size_t to, uint64_t *record)
{
    char err[KS_ERRLEN];
    for (size_t i = from; i < to; i++) {
        struct probe_result r;
        probe_result_init(&r);
        r.addr = net_addr_ipv4((uint32_t)(*record)++);
        r.port = 443;
        set_chain(&r, 0, set->items[i].der, set->items[i].length);
        if (store_writer_put(w, &r, err))
            die("put", err);
    }
}

/* Bytes of a certificate no model can predict: public key, signature,
 * serial number and key identifiers (random by construction). */
static uint64_t random_bytes(const uint8_t *der, size_t length)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)length);
    if (!x)
        return 0;
    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *alg;
    X509_get0_signature(&sig, &alg, x);
    uint64_t n = (uint64_t)ASN1_STRING_length(X509_get0_pubkey_bitstr(x)) +
                 (uint64_t)ASN1_STRING_length(sig) +
                 (uint64_t)ASN1_STRING_length(X509_get0_serialNumber(x));
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x), *aki = X509_get0_authority_key_id(x);
    n += (ski ? (uint64_t)ASN1_STRING_length(ski) : 0) + (aki ? (uint64_t)ASN1_STRING_length(aki) : 0);
    X509_free(x);
    return n;
}

static void print_line(const char *what, uint64_t bytes, size_t n, uint64_t nodict)
{
    printf("  %-52s %9llu bytes  %6.1f per cert  %5.2fx vs zstd without dictionary\n", what,
           (unsigned long long)bytes, (double)bytes / (double)n, (double)nodict / (double)bytes);
}

static void bench_certs(const char *dir, unsigned clusters)
{
    char cache[4096], path[4096], err[KS_ERRLEN];
    struct certset set = {0};
    snprintf(cache, sizeof(cache), "%s/certs-%u.bin", dir, clusters);
    load_cache(&set, cache);
    if (set.count == 0) {
        double t0 = now_s();
        fprintf(stderr, "generating %u clusters (fresh keys; cached in %s) ...\n", clusters, cache);
        for (unsigned i = 0; i < clusters; i++)
            make_cluster(&set, i, true);
        save_cache(&set, cache);
        fprintf(stderr, "generated %zu certificates in %.0f s\n", set.count, now_s() - t0);
    }
    size_t generated = set.count;
    load_mozilla(&set, "/usr/share/ca-certificates/mozilla");
    size_t n = set.count;
    printf("certificates: %zu generated (%u clusters: CA + serving cert) + %zu Mozilla roots = %zu\n",
           generated, clusters, n - generated, n);
    shuffle(set.items, n, 12345);   /* roots and clusters arrive mixed, as in a scan */

    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    uint64_t der = 0, nodict = 0, nodict3 = 0;
    for (size_t i = 0; i < n; i++) {
        der += set.items[i].length;
        nodict += zstd_size(set.items[i].der, set.items[i].length, BENCH_LEVEL, NULL, cctx);
        nodict3 += zstd_size(set.items[i].der, set.items[i].length, 3, NULL, cctx);
    }

    /* through the store: first dictionary after 2000 certificates */
    struct store *s = fresh_store(dir, "certs.lmdb", path, sizeof(path));
    uint32_t scan;
    struct store_writer *w;
    uint64_t record = 0;
    if (store_scan_create(s, "{\"bench\":\"certs\"}", &scan, err) ||
        store_writer_start(s, scan, 500, 50, &w, err))
        die("writer", err);
    size_t train_at = n > 2000 ? 2000 : n / 2;
    store_set_dict_training(s, (unsigned)train_at);
    insert_certs(w, &set, 0, train_at, &record);
    if (store_writer_checkpoint(w, "{\"bench\":\"certs\"}", err))
        die("checkpoint", err);
    struct store_cert_stats st1, st2, st3;
    if (store_cert_stats(s, &st1, err))
        die("stats", err);
    insert_certs(w, &set, train_at, n, &record);
    if (store_writer_finish(w, err) || store_cert_stats(s, &st2, err))
        die("insert", err);
    uint64_t held_der = 0, held_nodict = 0, held_random = 0;
    for (size_t i = train_at; i < n; i++) {
        held_der += set.items[i].length;
        held_random += random_bytes(set.items[i].der, set.items[i].length);
        held_nodict += zstd_size(set.items[i].der, set.items[i].length, BENCH_LEVEL, NULL, cctx);
    }
    double t0 = now_s();
    if (store_compact(s, &st3, err))
        die("compact", err);
    double compact_s = now_s() - t0;

    printf("level %d; dictionary %llu bytes (first), %llu bytes (after compact)\n", BENCH_LEVEL,
           (unsigned long long)st1.dict_bytes, (unsigned long long)st3.dict_bytes);
    printf("all %zu certificates:\n", n);
    print_line("raw DER", der, n, nodict);
    print_line("zstd level 3 per certificate, no dictionary", nodict3, n, nodict);
    print_line("zstd per certificate, no dictionary", nodict, n, nodict);
    print_line("store as written (dictionary from the 2000th on)", st2.frame_bytes, n, nodict);
    print_line("store after compact (dictionary trained on all)", st3.frame_bytes, n, nodict);
    print_line("  same + the dictionary itself", st3.frame_bytes + st3.dict_bytes, n, nodict);
    printf("held out: the %zu certificates stored after the dictionary was trained (on the "
           "first %zu):\n", n - train_at, train_at);
    print_line("raw DER", held_der, n - train_at, held_nodict);
    print_line("zstd per certificate, no dictionary", held_nodict, n - train_at, held_nodict);
    print_line("store, with the dictionary of the first 2000", st2.frame_bytes - st1.frame_bytes,
               n - train_at, held_nodict);
    print_line("(floor: keys, signatures, serials, key ids alone)", held_random, n - train_at,
               held_nodict);
    printf("compact: %.2f s for %llu certificates\n", compact_s, (unsigned long long)st3.certs);

    store_close(s);
    unlink(path);
    ZSTD_freeCCtx(cctx);
    for (size_t i = 0; i < n; i++)
        free(set.items[i].der);
    free(set.items);
}

/* ---- certificates as a scan meets them ---- */

static uint64_t random_bytes(const uint8_t *der, size_t length);

/* A signed certificate timestamp list (RFC 6962) of two entries, as in
 * every publicly trusted web certificate: log ids from a small set,
 * timestamps, and 72-byte ECDSA signatures (random). */
static void add_sct_list(X509 *x)
{
    uint8_t tls[2 + 2 * (2 + 119)], *p = tls + 2;
    for (int i = 0; i < 2; i++) {
        *p++ = 0, *p++ = 119;          /* this SCT's length */
        *p++ = 0;                      /* version v1 */
        memset(p, 0x40 + (int)(rnd() % 4), 32), p += 32;   /* one of four logs */
        uint64_t ms = 1600000000000ull + rnd() % 100000000u * 1000ull;
        for (int b = 7; b >= 0; b--)
            *p++ = (uint8_t)(ms >> (8 * b));
        *p++ = 0, *p++ = 0;            /* no extensions */
        *p++ = 4, *p++ = 3;            /* sha256, ecdsa */
        *p++ = 0, *p++ = 72;
        RAND_bytes(p, 72), p += 72;
    }
    tls[0] = (uint8_t)((sizeof(tls) - 2) >> 8), tls[1] = (uint8_t)(sizeof(tls) - 2);
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *outer = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(inner, tls, sizeof(tls));
    unsigned char *der = NULL;
    int n = i2d_ASN1_OCTET_STRING(inner, &der);
    ASN1_OCTET_STRING_set(outer, der, n);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.11129.2.4.2", 1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, outer);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(oid);
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(outer);
}

/* A web site's certificate from one of a few intermediates: RSA 2048,
 * 2-8 names, the extensions of a Let's Encrypt-like certificate. */
static X509 *make_web(unsigned index, EVP_PKEY *ca_key, X509 *ca)
{
    EVP_PKEY *key = rsa_from_pool();
    char san[1024], cn[96];
    unsigned names = 2 + rnd() % 7, site = rnd();
    snprintf(cn, sizeof(cn), "www.site%u-%u.example.com", index, site % 1000);
    int at = snprintf(san, sizeof(san), "DNS:%s", cn);
    static const char *const hosts[] = {"api", "mail", "shop", "cdn", "static", "app", "login"};
    for (unsigned i = 1; i < names; i++)
        at += snprintf(san + at, sizeof(san) - (size_t)at, ",DNS:%s.site%u-%u.example.com",
                       hosts[i - 1], index, site % 1000);
    X509 *x = make_cert(key, ca_key, ca, NULL, NULL, cn, 90, false, san);
    /* make_cert signed it; add the rest and sign again */
    add_ext(x, ca, NID_info_access, "OCSP;URI:http://r3.o.lencr.org,caIssuers;URI:http://r3.i.lencr.org/");
    add_ext(x, ca, NID_crl_distribution_points, "URI:http://r3.c.lencr.org/42.crl");
    add_ext(x, ca, NID_subject_key_identifier, "hash");
    add_sct_list(x);
    if (!X509_sign(x, ca_key, EVP_sha256()))
        die("sign", cn);
    EVP_PKEY_free(key);
    return x;
}

/* n endpoints' chains as a scan of Kubernetes ports meets them: API
 * servers present their serving certificate alone (RSA 2048 with many
 * names for EKS, kubeadm, AKS, GKE, OpenShift; ECDSA P-256 for k3s and
 * RKE2), web sites a leaf and one of three shared intermediates. */
struct chainset {
    struct certset certs;
    size_t *first;       /* endpoint i's chain: certs[first[i]], then intermediate */
    int *intermediate;   /* index into certs, or -1 */
};

static void make_scan_mix(struct chainset *cs, size_t n)
{
    EVP_PKEY *root_key = rsa_from_pool(), *ikeys[3];
    X509 *root = make_cert(root_key, root_key, NULL, "Example Trust", NULL, "Example Root X1",
                           3650, true, NULL), *inter[3];
    size_t inter_at[3];
    for (int i = 0; i < 3; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "R%d", 3 + i);
        ikeys[i] = rsa_from_pool();
        inter[i] = make_cert(ikeys[i], root_key, root, "Example Encrypt", NULL, cn, 1825, true,
                             NULL);
        inter_at[i] = cs->certs.count;
        add_x509(&cs->certs, inter[i], "intermediate");
    }
    cs->first = malloc(n * sizeof(*cs->first));
    cs->intermediate = malloc(n * sizeof(*cs->intermediate));
    /* of 20 endpoints: 9 EKS, 3 kubeadm, AKS, GKE, OpenShift, 2 k3s, RKE2, 2 web */
    static const unsigned kinds[20] = {3, 4, 3, 4, 3, 4, 3, 4, 3, 0, 1, 2, 5, 6, 7, 9, 10, 12,
                                       99, 99};
    for (size_t i = 0; i < n; i++) {
        unsigned kind = kinds[i % 20];
        cs->first[i] = cs->certs.count;
        cs->intermediate[i] = -1;
        if (kind == 99) {
            int k = (int)(rnd() % 3);
            X509 *x = make_web((unsigned)i, ikeys[k], inter[k]);
            add_x509(&cs->certs, x, "web");
            X509_free(x);
            cs->intermediate[i] = (int)inter_at[k];
        } else {
            make_cluster(&cs->certs, kind, false);
        }
    }
    for (int i = 0; i < 3; i++) {
        X509_free(inter[i]);
        EVP_PKEY_free(ikeys[i]);
    }
    X509_free(root);
    EVP_PKEY_free(root_key);
}

/* Prints what the store takes on disk, as `kubesurvey check` does. */
static void print_usage(struct store *s, uint64_t endpoints)
{
    char err[KS_ERRLEN];
    struct store_usage u;
    if (store_usage(s, &u, err))
        die("usage", err);
    uint64_t certs = 0, dicts = 0, in_use = u.pages_in_use * u.page_size;
    printf("  %-11s %9s %7s %10s %6s\n", "table", "entries", "pages", "bytes", "fill");
    for (size_t i = 0; i < u.table_count; i++) {
        const struct store_db_usage *t = &u.tables[i];
        printf("  %-11s %9llu %7llu %10llu %5.1f%%\n", t->name, (unsigned long long)t->entries,
               (unsigned long long)(t->branch_pages + t->leaf_pages + t->overflow_pages),
               (unsigned long long)t->bytes, 100 * t->fill);
        if (!strcmp(t->name, "certs") || !strcmp(t->name, "cert_index"))
            certs += t->bytes;
        if (!strcmp(t->name, "dicts"))
            dicts += t->bytes;
    }
    printf("  file %llu bytes = %.2fx its pages in use (%llu bytes); %.0f bytes per endpoint\n",
           (unsigned long long)u.file_bytes, (double)u.file_bytes / (double)in_use,
           (unsigned long long)in_use, (double)u.file_bytes / (double)endpoints);
    printf("  certificates: %llu distinct, raw DER %llu bytes (%.0f each), zstd frames %llu "
           "(%.3f of DER)\n", (unsigned long long)u.certs.certs,
           (unsigned long long)u.certs.der_bytes,
           (double)u.certs.der_bytes / (double)u.certs.certs,
           (unsigned long long)u.certs.frame_bytes,
           (double)u.certs.frame_bytes / (double)u.certs.der_bytes);
    printf("  on disk: certs + cert_index %llu bytes = %.3f of raw DER (%.2fx smaller); with the "
           "dictionary %llu = %.3f (%.2fx smaller)\n", (unsigned long long)certs,
           (double)certs / (double)u.certs.der_bytes, (double)u.certs.der_bytes / (double)certs,
           (unsigned long long)(certs + dicts), (double)(certs + dicts) / (double)u.certs.der_bytes,
           (double)u.certs.der_bytes / (double)(certs + dicts));
}

/* Stores n endpoints of the scan mix through the writer, as a scan does
 * (including store_finish_file), and reports the room on disk. */
static void bench_scanmix(const char *dir, size_t n)
{
    char path[4096], err[KS_ERRLEN];
    struct chainset cs = {0};
    double t0 = now_s();
    make_scan_mix(&cs, n);
    fprintf(stderr, "generated %zu certificates in %.0f s\n", cs.certs.count, now_s() - t0);
    struct store *s = fresh_store(dir, "scanmix.lmdb", path, sizeof(path));
    uint32_t scan;
    struct store_writer *w;
    if (store_scan_create(s, "{\"bench\":\"scanmix\"}", &scan, err) ||
        store_writer_start(s, scan, 1000, 200, &w, err))
        die("writer", err);
    for (size_t i = 0; i < n; i++) {
        struct probe_result r;
        fill_record(&r, i);
        const struct cert *leaf = &cs.certs.items[cs.first[i]];
        set_chain(&r, 0, leaf->der, leaf->length);
        if (cs.intermediate[i] >= 0) {
            const struct cert *ca = &cs.certs.items[cs.intermediate[i]];
            set_chain(&r, 1, ca->der, ca->length);
        }
        if (store_writer_put(w, &r, err))
            die("put", err);
    }
    bool shrunk;
    if (store_writer_finish(w, err) || store_finish_file(s, &shrunk, err))
        die("finish", err);
    s = reopen(s, path);
    uint64_t floor = 0, der = 0;
    for (size_t i = 0; i < cs.certs.count; i++) {
        floor += random_bytes(cs.certs.items[i].der, cs.certs.items[i].length);
        der += cs.certs.items[i].length;
    }
    printf("scan mix, %zu endpoints, as the scan leaves the store%s:\n", n,
           shrunk ? " (file rewritten at the end)" : "");
    printf("  floor: public keys, signatures, serials and key ids are random: %llu of the %llu "
           "bytes of DER (%.3f)\n", (unsigned long long)floor, (unsigned long long)der,
           (double)floor / (double)der);
    print_usage(s, n);
    t0 = now_s();
    struct store_cert_stats after;
    if (store_compact(s, &after, err) || store_shrink_file(s, &shrunk, err))
        die("compact", err);
    s = reopen(s, path);
    printf("after kubesurvey compact (%.2f s):\n", now_s() - t0);
    print_usage(s, n);
    store_close(s);
    unlink(path);
    for (size_t i = 0; i < cs.certs.count; i++)
        free(cs.certs.items[i].der);
    free(cs.certs.items);
    free(cs.first);
    free(cs.intermediate);
}

int main(int argc, char **argv)
{
    if (argc >= 3)
        mkdir(argv[2], 0755);
    if (argc >= 3 && !strcmp(argv[1], "records")) {
        uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
        struct certset pool = {0};
        char cache[4096];
        snprintf(cache, sizeof(cache), "%s/certs-1250.bin", argv[2]);
        load_cache(&pool, cache);
        if (pool.count == 0)
            load_mozilla(&pool, "/usr/share/ca-certificates/mozilla");
        if (pool.count > 2000)
            pool.count = 2000;
        printf("pool of %zu certificates (%s)\n", pool.count,
               pool.count == 2000 ? "generated set" : "Mozilla roots");
        unsigned group = getenv("STORE_BENCH_GROUP") ? (unsigned)atoi(getenv("STORE_BENCH_GROUP"))
                                                     : 50000;
        /* Two producers by default: the scan's probe workers (one per core
         * here) are the writer's producers. */
        unsigned producers = getenv("STORE_BENCH_PRODUCERS")
                                 ? (unsigned)atoi(getenv("STORE_BENCH_PRODUCERS")) : 2;
        if (producers < 1 || producers > 8)
            die("STORE_BENCH_PRODUCERS", "1..8");
        bench_records(argv[2], n, &pool, false, group, producers);
        if (!getenv("STORE_BENCH_ONLY_A"))
            bench_records(argv[2], n / 4, &pool, true, group, producers);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "layout")) {
        uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
        printf("bare LMDB, %llu records of 600 bytes, groups of 50,000, scan order:\n",
               (unsigned long long)n);
        bench_layout(argv[2], n, 600, false);
        bench_layout(argv[2], n, 600, true);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "scanmix")) {
        bench_scanmix(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 3000);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "certs")) {
        bench_certs(argv[2], 1250);
        return 0;
    }
    fprintf(stderr, "usage: store_bench records DIR [N] | certs DIR | layout DIR [N] | scanmix DIR [N]\n");
    return 2;
}
