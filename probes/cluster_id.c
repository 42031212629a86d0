/*
 * cluster_id.c - which control plane a serving certificate belongs to: the
 * two keys of struct k8s_cluster_keys (probes.h), for the cluster estimators
 * of `stats`. Pure function of the leaf certificate.
 *
 * name: a per-cluster host name from the DNS SANs and the subject CNs. Each
 * candidate is lower-cased, one trailing dot dropped, and must be a plain
 * host name (labels of a-z, 0-9, '-', 1..63 bytes, 253 in all; wildcards and
 * anything else are not candidates). Recognised, best first:
 *   0 EKS      <32 hex>.<infix>.<region>.eks.amazonaws.com
 *              <32 hex>.<infix>.<region>.eks.amazonaws.com.cn   (China)
 *              (k8s-facts.md §4.2: infixes gr7, yl4, sk1 observed)
 *   1 AKS      <prefix...>.hcp.<region>.azmk8s.io
 *              <prefix...>.hcp.<region>.cx.prod.service.azk8s.cn       (Azure China)
 *              <prefix...>.hcp.<region>.cx.aks.containerservice.azure.us (Azure Government)
 *              The portal FQDN "<prefix>.portal.hcp.<region>..." is the same
 *              cluster: its "portal" label is dropped.
 *   2 AKS private <prefix...>.privatelink.<region>.<one of the three suffixes>
 *   3 OpenShift api.<cluster>.<base...> (at least three labels) and only when
 *              the issuer is OpenShift's (issuer CN kube-apiserver-lb-signer or
 *              an issuer OU "openshift"); the internal load balancer's
 *              "api-int.<cluster>.<base>" is read as "api.<cluster>.<base>".
 * Several candidates: the best kind, then the shortest, then the smallest in
 * byte order, so every node and rotation with the same SAN set (in any order)
 * gives the same name. The EKS/AKS domains belong to the providers, so those
 * names count whatever the issuer.
 * Sources: k8s-facts.md §4.2; the Azure China / Government host names from
 * Microsoft's AKS egress documentation ("*.hcp.<location>.cx.prod.service.
 * azk8s.cn", "*.hcp.<location>.cx.aks.containerservice.azure.us",
 * https://learn.microsoft.com/azure/aks/outbound-rules-control-egress) and
 * the AKS private DNS zone "privatelink.<region>.<suffix>" of the same clouds.
 * Not recognised (unsourced here): "*.azmk8s.us" style government names.
 *
 * ca: set when the issuer is a private cluster CA, known by an issuer CN
 * "kubernetes" (kubeadm, EKS), "kubernetes-ca" (the name the Kubernetes PKI
 * documentation gives kubeadm's CA), "k3s-server-ca@<ts>", "rke2-server-ca@<ts>",
 * "kube-apiserver-lb-signer", "minikubeCA", a UUID (GKE, reportedly), or any
 * issuer OU "openshift". The key is the issuer DN in RFC 2253 form (UTF-8
 * kept) followed by ";aki=" and the authority key identifier's keyIdentifier
 * in lower-case hex:
 *     CN=kubernetes;aki=0a1b2c...
 * (';' is escaped inside RFC 2253 values, so the split is unambiguous).
 * Without an authority key identifier the DN alone is the key when it names
 * one cluster by itself (k3s/rke2 "...-server-ca@<timestamp>", a UUID), and
 * the key is "" otherwise: "CN=kubernetes" alone would merge every such
 * cluster into one. A key longer than the field is replaced by
 * "sha256=<hex of the SHA-256 of the full key>".
 */
#include "probes/internal.h"
#include "lib/text.h"

#include <ctype.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_MAX 253

/* ------------------------------------------------------------------ name */

/* Lower-cases `in` (length n) into out (HOST_MAX + 1 bytes) and drops one
 * trailing dot; false unless it is a plain host name. */
static bool normalise_host(const char *in, size_t n, char *out)
{
    if (n > 0 && in[n - 1] == '.')
        n--;
    if (n == 0 || n > HOST_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (isalnum(c) || c == '-') {
            if (++label > 63 || c > 0x7f)
                return false;
        } else {
            return false;
        }
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return label > 0;
}

/* Splits a normalised host name into labels (pointers into a copy). */
struct labels {
    char buf[HOST_MAX + 1];
    const char *l[128];
    size_t n;
};

static void split_labels(const char *host, struct labels *out)
{
    strcpy(out->buf, host);
    out->n = 0;
    for (char *p = out->buf;;) {
        out->l[out->n++] = p;
        char *dot = strchr(p, '.');
        if (!dot)
            return;
        *dot = '\0';
        p = dot + 1;
    }
}

/* Do the last k labels of `lb` equal the k labels of `suffix`? */
static bool ends_with_labels(const struct labels *lb, const char *const *suffix, size_t k)
{
    if (lb->n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (strcmp(lb->l[lb->n - k + i], suffix[i]))
            return false;
    return true;
}

static bool all_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Joins labels [from, n) except `skip` (SIZE_MAX for none) into out. */
static void join_labels(const struct labels *lb, size_t from, size_t skip, char *out)
{
    out[0] = '\0';
    for (size_t i = from; i < lb->n; i++) {
        if (i == skip)
            continue;
        if (out[0])
            strcat(out, ".");
        strcat(out, lb->l[i]);
    }
}

static const char *const eks_com[] = {"eks", "amazonaws", "com"};
static const char *const eks_cn[] = {"eks", "amazonaws", "com", "cn"};

struct azure_cloud {
    const char *const *suffix;
    size_t k;
};
static const char *const aks_public[] = {"azmk8s", "io"};
static const char *const aks_china[] = {"cx", "prod", "service", "azk8s", "cn"};
static const char *const aks_gov[] = {"cx", "aks", "containerservice", "azure", "us"};
static const struct azure_cloud azure_clouds[] = {
    {aks_public, 2}, {aks_china, 5}, {aks_gov, 5}};

/* The kind (0 best .. 3) of a normalised host name, with its key form in
 * `key`; -1 if it is not a per-cluster name. */
static int classify_host(const char *host, bool openshift_issuer, char *key)
{
    struct labels lb;
    split_labels(host, &lb);
    /* EKS: exactly <32 hex>.<infix>.<region> before the suffix */
    if ((ends_with_labels(&lb, eks_com, 3) && lb.n == 6) ||
        (ends_with_labels(&lb, eks_cn, 4) && lb.n == 7)) {
        if (all_hex(lb.l[0], 32)) {
            strcpy(key, host);
            return 0;
        }
        return -1;
    }
    /* AKS: <prefix...>.(hcp|privatelink).<region>.<cloud suffix> */
    for (size_t c = 0; c < sizeof(azure_clouds) / sizeof(azure_clouds[0]); c++) {
        const struct azure_cloud *cloud = &azure_clouds[c];
        if (!ends_with_labels(&lb, cloud->suffix, cloud->k))
            continue;
        if (lb.n < cloud->k + 3)
            return -1;
        size_t kind_at = lb.n - cloud->k - 2; /* the label before the region */
        if (!strcmp(lb.l[kind_at], "hcp")) {
            size_t skip = SIZE_MAX;
            if (kind_at >= 2 && !strcmp(lb.l[kind_at - 1], "portal"))
                skip = kind_at - 1;
            join_labels(&lb, 0, skip, key);
            return 1;
        }
        if (!strcmp(lb.l[kind_at], "privatelink")) {
            strcpy(key, host);
            return 2;
        }
        return -1;
    }
    /* OpenShift: api.<cluster>.<base...>, api-int the same cluster */
    if (openshift_issuer && lb.n >= 3) {
        if (!strcmp(lb.l[0], "api")) {
            strcpy(key, host);
            return 3;
        }
        if (!strcmp(lb.l[0], "api-int")) {
            strcpy(key, "api.");
            join_labels(&lb, 1, SIZE_MAX, key + 4);
            return 3;
        }
    }
    return -1;
}

struct best_name {
    int kind;                   /* -1: none yet */
    char key[HOST_MAX + 1];
};

static void consider(struct best_name *best, const char *raw, size_t n, bool openshift_issuer)
{
    char host[HOST_MAX + 1], key[HOST_MAX + 1];
    if (!raw || n == 0 || memchr(raw, 0, n) || !normalise_host(raw, n, host))
        return;
    int kind = classify_host(host, openshift_issuer, key);
    if (kind < 0)
        return;
    size_t len = strlen(key), best_len = strlen(best->key);
    if (best->kind < 0 || kind < best->kind ||
        (kind == best->kind &&
         (len < best_len || (len == best_len && strcmp(key, best->key) < 0)))) {
        best->kind = kind;
        strcpy(best->key, key);
    }
}

/* Calls fn(ctx, utf8, length) for every entry of nid in name. */
static void each_entry(const X509_NAME *name, int nid, void *ctx,
                       void (*fn)(void *, const char *, size_t))
{
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
        const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, data);
        if (n >= 0)
            fn(ctx, (const char *)utf8, (size_t)n);
        OPENSSL_free(utf8);
    }
}

struct issuer_facts {
    bool openshift;             /* CN kube-apiserver-lb-signer or OU openshift */
    bool private_ca;            /* a cluster CA (see the top comment) */
    bool distinctive;           /* the DN alone names one cluster */
};

static bool is_uuid(const char *s, size_t n)
{
    static const size_t groups[] = {8, 4, 4, 4, 12};
    size_t at = 0;
    if (n != 36)
        return false;
    for (size_t g = 0; g < 5; g++) {
        for (size_t i = 0; i < groups[g]; i++, at++)
            if (!isxdigit((unsigned char)s[at]))
                return false;
        if (g < 4 && s[at++] != '-')
            return false;
    }
    return true;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t m = strlen(prefix);
    return n > m && !memcmp(s, prefix, m);
}

static bool equals(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && !memcmp(s, word, n);
}

static void issuer_cn(void *ctx, const char *cn, size_t n)
{
    struct issuer_facts *f = ctx;
    if (equals(cn, n, "kubernetes") || equals(cn, n, "kubernetes-ca") ||
        equals(cn, n, "minikubeCA")) {
        f->private_ca = true;
    } else if (equals(cn, n, "kube-apiserver-lb-signer")) {
        f->private_ca = f->openshift = true;
    } else if (has_prefix(cn, n, "k3s-server-ca@") || has_prefix(cn, n, "rke2-server-ca@") ||
               is_uuid(cn, n)) {
        f->private_ca = f->distinctive = true;
    }
}

static void issuer_ou(void *ctx, const char *ou, size_t n)
{
    struct issuer_facts *f = ctx;
    if (equals(ou, n, "openshift"))
        f->private_ca = f->openshift = true;
}

struct subject_ctx {
    struct best_name *best;
    bool openshift;
};

static void subject_cn(void *ctx, const char *cn, size_t n)
{
    struct subject_ctx *s = ctx;
    consider(s->best, cn, n, s->openshift);
}

static void cluster_name(X509 *cert, bool openshift, char *out, size_t size)
{
    struct best_name best = {.kind = -1};
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type == GEN_DNS)
            consider(&best, (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
                     (size_t)ASN1_STRING_length(gn->d.dNSName), openshift);
    }
    GENERAL_NAMES_free(sans);
    struct subject_ctx s = {&best, openshift};
    each_entry(X509_get_subject_name(cert), NID_commonName, &s, subject_cn);
    if (best.kind >= 0 && strlen(best.key) < size)
        strcpy(out, best.key);
}

/* -------------------------------------------------------------------- ca */

static void cluster_ca(X509 *cert, const struct issuer_facts *f, char *out, size_t size)
{
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(cert);
    if (!f->private_ca || (!aki && !f->distinctive))
        return;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return;
    if (X509_NAME_print_ex(bio, X509_get_issuer_name(cert), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        if (aki) {
            size_t n = (size_t)ASN1_STRING_length(aki);
            char *hex = malloc(2 * n + 1);
            if (hex) {
                hex_text(ASN1_STRING_get0_data(aki), n, hex);
                BIO_printf(bio, ";aki=%s", hex);
                free(hex);
            }
        }
        char *text;
        long len = BIO_get_mem_data(bio, &text);
        if (len >= 0 && (size_t)len < size) {
            memcpy(out, text, (size_t)len);
            out[len] = '\0';
        } else if (len >= 0 && size > 7 + 2 * 32) {
            unsigned char md[32];
            unsigned int md_len = 0;
            if (EVP_Digest(text, (size_t)len, md, &md_len, EVP_sha256(), NULL) == 1 &&
                md_len == 32) {
                memcpy(out, "sha256=", 7);
                hex_text(md, 32, out + 7);
            }
        }
    }
    BIO_free(bio);
}

/* ------------------------------------------------------------------ keys */

int k8s_cert_cluster_keys(const uint8_t *der, size_t length, struct k8s_cluster_keys *out)
{
    out->name[0] = '\0';
    out->ca[0] = '\0';
    if (!der || length == 0 || length > LONG_MAX)
        return -1;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)length);
    if (!cert)
        return -1;
    struct issuer_facts f = {0};
    const X509_NAME *issuer = X509_get_issuer_name(cert);
    each_entry(issuer, NID_commonName, &f, issuer_cn);
    each_entry(issuer, NID_organizationalUnitName, &f, issuer_ou);
    cluster_name(cert, f.openshift, out->name, sizeof(out->name));
    cluster_ca(cert, &f, out->ca, sizeof(out->ca));
    X509_free(cert);
    return 0;
}
