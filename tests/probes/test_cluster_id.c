/*
 * test_cluster_id.c - k8s_cert_cluster_keys over certificates made here with
 * the OpenSSL X509 API: EKS, AKS (public, portal, private, China,
 * Government), OpenShift (api and api-int), kubeadm HA nodes and rotations
 * sharing one CA, k3s/rke2/minikube/GKE-style CAs, a public web CA, and
 * garbage. Keys are compared exactly; the CAs get fixed subject key
 * identifiers so the expected "aki=" parts are constants.
 */
#include "probes/probes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "make_cert.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *ca_key, *ca_key2, *leaf_key, *leaf_key2;

static int setup_keys(void **state)
{
    (void)state;
    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ca_key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    leaf_key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return ca_key && ca_key2 && leaf_key && leaf_key2 ? 0 : -1;
}

static int teardown_keys(void **state)
{
    (void)state;
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(ca_key2);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(leaf_key2);
    return 0;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A self-signed CA with the given subject and subject key identifier
 * (colon-separated hex bytes, or NULL for none). */
static X509 *make_ca(const char *subject, const char *ski, EVP_PKEY *key)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1000);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
    X509_set_pubkey(x, key);
    add_name_entries(X509_get_subject_name(x), subject);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    if (ski)
        add_ext(x, &ctx, NID_subject_key_identifier, ski);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

/* A leaf signed by ca (ca_priv its key): subject, SANs ("DNS:a,IP:1.2.3.4"
 * or NULL), serial, the leaf key, and an authority key identifier copied
 * from the CA's subject key identifier when aki is true. DER; caller frees. */
static uint8_t *make_leaf(const char *subject, const char *sans, X509 *ca, EVP_PKEY *ca_priv,
                          long serial, EVP_PKEY *key, bool aki, size_t *len)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), serial * 60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, key);
    add_name_entries(X509_get_subject_name(x), subject);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
    if (sans)
        add_ext(x, &ctx, NID_subject_alt_name, sans);
    if (aki)
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    assert_true(X509_sign(x, ca_priv, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    X509_free(x);
    uint8_t *out = malloc((size_t)n);
    assert_non_null(out);
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}

static struct k8s_cluster_keys keys_of(const char *subject, const char *sans, X509 *ca,
                                       EVP_PKEY *ca_priv, long serial, EVP_PKEY *key, bool aki)
{
    size_t len;
    uint8_t *der = make_leaf(subject, sans, ca, ca_priv, serial, key, aki, &len);
    struct k8s_cluster_keys k;
    memset(&k, 'x', sizeof(k)); /* the function must set both strings */
    assert_int_equal(k8s_cert_cluster_keys(der, len, &k), 0);
    free(der);
    return k;
}

#define SKI_A "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:00:11:22:33"
#define AKI_A "0a1b2c3d4e5f60718293a4b5c6d7e8f900112233"
#define SKI_B "DE:AD:BE:EF:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01"
#define AKI_B "deadbeef00000000000000000000000000000001"

/* ---------------------------------------------------------------- managed */

static void test_eks(void **state)
{
    (void)state;
    X509 *ca = make_ca("CN=kubernetes", SKI_A, ca_key);
    struct k8s_cluster_keys k = keys_of(
        "CN=kube-apiserver",
        "DNS:ip-172-16-1-10.ec2.internal,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,"
        "DNS:8A1F5E3C7B2D4E6F9A0B1C2D3E4F5A6B.gr7.us-east-1.eks.amazonaws.com,"
        "IP:10.100.0.1,IP:172.16.1.10",
        ca, ca_key, 1, leaf_key, true);
    assert_string_equal(k.name, "8a1f5e3c7b2d4e6f9a0b1c2d3e4f5a6b.gr7.us-east-1.eks.amazonaws.com");
    assert_string_equal(k.ca, "CN=kubernetes;aki=" AKI_A);
    /* another control-plane instance of the same cluster, rotated key */
    k = keys_of("CN=kube-apiserver",
                "DNS:ip-172-16-2-20.ec2.internal,DNS:kubernetes,"
                "DNS:8a1f5e3c7b2d4e6f9a0b1c2d3e4f5a6b.gr7.us-east-1.eks.amazonaws.com,"
                "IP:10.100.0.1",
                ca, ca_key, 2, leaf_key2, true);
    assert_string_equal(k.name, "8a1f5e3c7b2d4e6f9a0b1c2d3e4f5a6b.gr7.us-east-1.eks.amazonaws.com");
    assert_string_equal(k.ca, "CN=kubernetes;aki=" AKI_A);
    /* China partition, trailing dot */
    k = keys_of("CN=kube-apiserver",
                "DNS:kubernetes,DNS:0123456789ABCDEF0123456789ABCDEF.yl4.cn-north-1.eks.amazonaws.com.cn.",
                ca, ca_key, 3, leaf_key, true);
    assert_string_equal(k.name, "0123456789abcdef0123456789abcdef.yl4.cn-north-1.eks.amazonaws.com.cn");
    /* not a cluster id: 31 hex, no infix, the bare service domain */
    k = keys_of("CN=kube-apiserver",
                "DNS:0123456789abcdef0123456789abcde.gr7.us-east-1.eks.amazonaws.com,"
                "DNS:0123456789abcdef0123456789abcdef.us-east-1.eks.amazonaws.com,"
                "DNS:eks.amazonaws.com,DNS:*.gr7.us-east-1.eks.amazonaws.com",
                ca, ca_key, 4, leaf_key, true);
    assert_string_equal(k.name, "");
    X509_free(ca);
}

static void test_aks(void **state)
{
    (void)state;
    /* AKS's cluster CA is not one of the private-CA names: ca stays "" */
    X509 *ca = make_ca("CN=ca", SKI_A, ca_key);
    struct k8s_cluster_keys k = keys_of(
        "CN=apiserver",
        "DNS:kubernetes,DNS:kubernetes.default.svc.cluster.local,"
        "DNS:MyAKSClust-myResourceGroup-1a2b3c-4d5e6f70.portal.hcp.eastus.azmk8s.io,"
        "DNS:myaksclust-myresourcegroup-1a2b3c-4d5e6f70.hcp.eastus.azmk8s.io,IP:10.0.0.1",
        ca, ca_key, 1, leaf_key, true);
    assert_string_equal(k.name, "myaksclust-myresourcegroup-1a2b3c-4d5e6f70.hcp.eastus.azmk8s.io");
    assert_string_equal(k.ca, "");
    /* the portal FQDN alone names the same cluster */
    k = keys_of("CN=apiserver",
                "DNS:myaksclust-myresourcegroup-1a2b3c-4d5e6f70.portal.hcp.eastus.azmk8s.io",
                ca, ca_key, 2, leaf_key, true);
    assert_string_equal(k.name, "myaksclust-myresourcegroup-1a2b3c-4d5e6f70.hcp.eastus.azmk8s.io");
    /* private cluster; a public FQDN as well wins over it */
    k = keys_of("CN=apiserver",
                "DNS:kubernetes,DNS:aks-priv-dns-9f8e7d6c.4b1c2d3e-aaaa-bbbb-cccc-0123456789ab."
                "privatelink.westeurope.azmk8s.io",
                ca, ca_key, 3, leaf_key, true);
    assert_string_equal(k.name,
                        "aks-priv-dns-9f8e7d6c.4b1c2d3e-aaaa-bbbb-cccc-0123456789ab.privatelink."
                        "westeurope.azmk8s.io");
    k = keys_of("CN=apiserver",
                "DNS:aks-priv-dns-9f8e7d6c.4b1c2d3e-aaaa-bbbb-cccc-0123456789ab."
                "privatelink.westeurope.azmk8s.io,DNS:aks-priv-dns-9f8e7d6c.hcp.westeurope.azmk8s.io",
                ca, ca_key, 4, leaf_key, true);
    assert_string_equal(k.name, "aks-priv-dns-9f8e7d6c.hcp.westeurope.azmk8s.io");
    /* Azure China and Government */
    k = keys_of("CN=apiserver",
                "DNS:myaksclust-myresourcegroup-19da35-90efab95.hcp.chinaeast2.cx.prod.service.azk8s.cn",
                ca, ca_key, 5, leaf_key, true);
    assert_string_equal(k.name,
                        "myaksclust-myresourcegroup-19da35-90efab95.hcp.chinaeast2.cx.prod.service.azk8s.cn");
    k = keys_of("CN=apiserver",
                "DNS:gov-cluster-0a1b2c3d.hcp.usgovvirginia.cx.aks.containerservice.azure.us",
                ca, ca_key, 6, leaf_key, true);
    assert_string_equal(k.name, "gov-cluster-0a1b2c3d.hcp.usgovvirginia.cx.aks.containerservice.azure.us");
    k = keys_of("CN=apiserver",
                "DNS:gov-priv-0a1b2c3d.11112222-3333-4444-5555-666677778888.privatelink."
                "usgovvirginia.cx.aks.containerservice.azure.us",
                ca, ca_key, 7, leaf_key, true);
    assert_string_equal(k.name,
                        "gov-priv-0a1b2c3d.11112222-3333-4444-5555-666677778888.privatelink."
                        "usgovvirginia.cx.aks.containerservice.azure.us");
    /* two names of one kind: the shortest, then the smallest, in any order */
    static const char *const orders[] = {
        "DNS:long-prefix-cluster-0a0b0c0d.hcp.eastus.azmk8s.io,DNS:b-cluster.hcp.eastus.azmk8s.io,"
        "DNS:a-cluster.hcp.eastus.azmk8s.io",
        "DNS:a-cluster.hcp.eastus.azmk8s.io,DNS:b-cluster.hcp.eastus.azmk8s.io,"
        "DNS:long-prefix-cluster-0a0b0c0d.hcp.eastus.azmk8s.io",
        "DNS:b-cluster.hcp.eastus.azmk8s.io,DNS:long-prefix-cluster-0a0b0c0d.hcp.eastus.azmk8s.io,"
        "DNS:a-cluster.hcp.eastus.azmk8s.io",
    };
    for (size_t i = 0; i < 3; i++) {
        k = keys_of("CN=apiserver", orders[i], ca, ca_key, 20 + (long)i, leaf_key, true);
        assert_string_equal(k.name, "a-cluster.hcp.eastus.azmk8s.io");
    }
    /* not per-cluster: wildcards, other AKS service names, too few labels */
    k = keys_of("CN=*.hcp.eastus.azmk8s.io",
                "DNS:*.hcp.eastus.azmk8s.io,DNS:x.tun.eastus.azmk8s.io,DNS:x.gk.eastus.azmk8s.io,"
                "DNS:hcp.eastus.azmk8s.io,DNS:privatelink.eastus.azmk8s.io,DNS:azmk8s.io",
                ca, ca_key, 8, leaf_key, true);
    assert_string_equal(k.name, "");
    X509_free(ca);
}

/* ------------------------------------------------------------- OpenShift */

static void test_openshift(void **state)
{
    (void)state;
    X509 *ca = make_ca("OU=openshift/CN=kube-apiserver-lb-signer", SKI_A, ca_key);
    const char *want_ca = "CN=kube-apiserver-lb-signer,OU=openshift;aki=" AKI_A;
    struct k8s_cluster_keys k = keys_of("CN=api.prod.example.com", "DNS:api.prod.example.com",
                                        ca, ca_key, 1, leaf_key, true);
    assert_string_equal(k.name, "api.prod.example.com");
    assert_string_equal(k.ca, want_ca);
    /* the internal load balancer's certificate: the same cluster */
    k = keys_of("CN=api-int.prod.example.com", "DNS:api-int.prod.example.com", ca, ca_key, 2,
                leaf_key2, true);
    assert_string_equal(k.name, "api.prod.example.com");
    assert_string_equal(k.ca, want_ca);
    /* from the subject CN alone, upper case and a trailing dot */
    k = keys_of("CN=API.Prod.Example.COM.", NULL, ca, ca_key, 3, leaf_key, true);
    assert_string_equal(k.name, "api.prod.example.com");
    /* issuer OU=openshift alone is OpenShift's */
    X509 *svc = make_ca("OU=openshift/CN=kube-apiserver-service-network-signer", SKI_B, ca_key2);
    k = keys_of("CN=api.lab.example.org", "DNS:api.lab.example.org,DNS:localhost", svc, ca_key2,
                4, leaf_key, true);
    assert_string_equal(k.name, "api.lab.example.org");
    assert_string_equal(k.ca, "CN=kube-apiserver-service-network-signer,OU=openshift;aki=" AKI_B);
    /* api.<x> with fewer than three labels is not a cluster name */
    k = keys_of("CN=api.local", "DNS:api.local", ca, ca_key, 5, leaf_key, true);
    assert_string_equal(k.name, "");
    assert_string_equal(k.ca, want_ca);
    X509_free(svc);
    X509_free(ca);
}

/* ------------------------------------------------------- private CAs */

static void test_kubeadm_ha_and_rotation(void **state)
{
    (void)state;
    X509 *ca = make_ca("CN=kubernetes", SKI_A, ca_key);
    const char *want = "CN=kubernetes;aki=" AKI_A;
    /* two control-plane nodes of one HA cluster: own names, own keys */
    struct k8s_cluster_keys k1 = keys_of(
        "CN=kube-apiserver",
        "DNS:cp-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
        "DNS:kubernetes.default.svc.cluster.local,DNS:k8s-api.example.internal,"
        "IP:10.96.0.1,IP:10.0.0.11",
        ca, ca_key, 11, leaf_key, true);
    struct k8s_cluster_keys k2 = keys_of(
        "CN=kube-apiserver",
        "DNS:cp-2,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
        "DNS:kubernetes.default.svc.cluster.local,DNS:k8s-api.example.internal,"
        "IP:10.96.0.1,IP:10.0.0.12",
        ca, ca_key, 12, leaf_key2, true);
    assert_string_equal(k1.name, "");
    assert_string_equal(k2.name, "");
    assert_string_equal(k1.ca, want);
    assert_string_equal(k2.ca, want);
    /* node 1 a year later: new serial, new key, same CA */
    struct k8s_cluster_keys k3 = keys_of(
        "CN=kube-apiserver", "DNS:cp-1,DNS:kubernetes,IP:10.96.0.1,IP:10.0.0.11", ca, ca_key,
        99, leaf_key2, true);
    assert_string_equal(k3.name, k1.name);
    assert_string_equal(k3.ca, k1.ca);
    /* another kubeadm cluster: same issuer DN, its own CA key */
    X509 *other = make_ca("CN=kubernetes", SKI_B, ca_key2);
    struct k8s_cluster_keys k4 = keys_of("CN=kube-apiserver", "DNS:cp-1,DNS:kubernetes", other,
                                         ca_key2, 11, leaf_key, true);
    assert_string_equal(k4.ca, "CN=kubernetes;aki=" AKI_B);
    /* no authority key identifier: "CN=kubernetes" alone says nothing */
    struct k8s_cluster_keys k5 = keys_of("CN=kube-apiserver", "DNS:kubernetes", ca, ca_key, 13,
                                         leaf_key, false);
    assert_string_equal(k5.ca, "");
    /* the CA name of the Kubernetes PKI documentation */
    X509 *docs = make_ca("CN=kubernetes-ca", SKI_A, ca_key);
    struct k8s_cluster_keys k6 = keys_of("CN=kube-apiserver", "DNS:kubernetes", docs, ca_key, 1,
                                         leaf_key, true);
    assert_string_equal(k6.ca, "CN=kubernetes-ca;aki=" AKI_A);
    X509_free(docs);
    X509_free(other);
    X509_free(ca);
}

static void test_distributions(void **state)
{
    (void)state;
    X509 *k3s = make_ca("CN=k3s-server-ca@1700000000", SKI_A, ca_key);
    struct k8s_cluster_keys k = keys_of("O=k3s/CN=k3s",
                                        "DNS:kubernetes,DNS:localhost,IP:10.43.0.1,IP:127.0.0.1",
                                        k3s, ca_key, 1, leaf_key, true);
    assert_string_equal(k.name, "");
    assert_string_equal(k.ca, "CN=k3s-server-ca@1700000000;aki=" AKI_A);
    /* without the AKI the timestamped DN still names the cluster */
    k = keys_of("O=k3s/CN=k3s", "DNS:kubernetes", k3s, ca_key, 2, leaf_key, false);
    assert_string_equal(k.ca, "CN=k3s-server-ca@1700000000");
    X509 *rke2 = make_ca("CN=rke2-server-ca@1690000000", NULL, ca_key);
    k = keys_of("O=rke2/CN=rke2", "DNS:kubernetes", rke2, ca_key, 1, leaf_key, false);
    assert_string_equal(k.ca, "CN=rke2-server-ca@1690000000");
    X509 *mini = make_ca("CN=minikubeCA", SKI_B, ca_key2);
    k = keys_of("O=system:masters/CN=minikube", "DNS:minikube,DNS:kubernetes,IP:192.168.49.2",
                mini, ca_key2, 1, leaf_key, true);
    assert_string_equal(k.name, "");
    assert_string_equal(k.ca, "CN=minikubeCA;aki=" AKI_B);
    X509 *gke = make_ca("CN=3f2a9c1e-5b7d-4e8f-a0b1-c2d3e4f5a6b7", SKI_A, ca_key);
    k = keys_of("CN=35.200.1.2", "DNS:kubernetes,IP:35.200.1.2", gke, ca_key, 1, leaf_key, true);
    assert_string_equal(k.ca, "CN=3f2a9c1e-5b7d-4e8f-a0b1-c2d3e4f5a6b7;aki=" AKI_A);
    /* a prefix alone is not a k3s CA; the Rancher dynamiclistener CA is not
     * a cluster CA */
    X509 *bare = make_ca("CN=k3s-server-ca@", SKI_A, ca_key);
    k = keys_of("CN=k3s", NULL, bare, ca_key, 1, leaf_key, true);
    assert_string_equal(k.ca, "");
    X509 *dyn = make_ca("O=dynamiclistener-org/CN=dynamiclistener-ca@1700000000", SKI_A, ca_key);
    k = keys_of("O=dynamic/CN=dynamic", "DNS:localhost", dyn, ca_key, 1, leaf_key, true);
    assert_string_equal(k.ca, "");
    X509_free(dyn);
    X509_free(bare);
    X509_free(gke);
    X509_free(mini);
    X509_free(rke2);
    X509_free(k3s);
}

/* A DN too long for the field: a SHA-256 of the key, the same every time. */
static void test_long_dn(void **state)
{
    (void)state;
    char spec[700];
    strcpy(spec, "O=");
    memset(spec + 2, 'a', 60);
    spec[62] = '\0';
    for (int i = 0; i < 8; i++) {
        char part[80];
        snprintf(part, sizeof(part), "/OU=unit-%d-%050d", i, i);
        strcat(spec, part);
    }
    strcat(spec, "/CN=kubernetes");
    X509 *ca = make_ca(spec, SKI_A, ca_key);
    struct k8s_cluster_keys a = keys_of("CN=kube-apiserver", NULL, ca, ca_key, 1, leaf_key, true);
    struct k8s_cluster_keys b = keys_of("CN=kube-apiserver", NULL, ca, ca_key, 2, leaf_key2, true);
    assert_int_equal(strlen(a.ca), 7 + 64);
    assert_memory_equal(a.ca, "sha256=", 7);
    assert_string_equal(a.ca, b.ca);
    X509_free(ca);
}

/* ---------------------------------------------------------------- public */

static void test_public_ca(void **state)
{
    (void)state;
    X509 *le = make_ca("C=US/O=Let's Encrypt/CN=R3", SKI_A, ca_key);
    struct k8s_cluster_keys k = keys_of("CN=k8s.example.com", "DNS:k8s.example.com", le, ca_key,
                                        1, leaf_key, true);
    assert_string_equal(k.name, "");
    assert_string_equal(k.ca, "");
    /* an OpenShift-shaped name from a public CA is not taken */
    k = keys_of("CN=api.prod.example.com", "DNS:api.prod.example.com", le, ca_key, 2, leaf_key,
                true);
    assert_string_equal(k.name, "");
    assert_string_equal(k.ca, "");
    X509_free(le);
}

static void test_garbage(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x05, 0xff, 0xff};
    struct k8s_cluster_keys k;
    memset(&k, 'x', sizeof(k));
    assert_int_equal(k8s_cert_cluster_keys(junk, sizeof(junk), &k), -1);
    assert_string_equal(k.name, "");
    assert_string_equal(k.ca, "");
    assert_int_equal(k8s_cert_cluster_keys(junk, 0, &k), -1);
    assert_int_equal(k8s_cert_cluster_keys(NULL, 0, &k), -1);
    /* a valid certificate cut short */
    X509 *ca = make_ca("CN=kubernetes", SKI_A, ca_key);
    size_t len;
    uint8_t *der = make_leaf("CN=kube-apiserver", "DNS:kubernetes", ca, ca_key, 1, leaf_key,
                             true, &len);
    assert_int_equal(k8s_cert_cluster_keys(der, len / 2, &k), -1);
    assert_int_equal(k8s_cert_cluster_keys(der, len, &k), 0);
    free(der);
    X509_free(ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eks),
        cmocka_unit_test(test_aks),
        cmocka_unit_test(test_openshift),
        cmocka_unit_test(test_kubeadm_ha_and_rotation),
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_long_dn),
        cmocka_unit_test(test_public_ca),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
