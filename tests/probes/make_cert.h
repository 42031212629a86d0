/*
 * make_cert.h - test certificates for the probe tests: a DER certificate
 * with a given subject, issuer and SAN list, signed with the test's key.
 * Include after <cmocka.h>.
 */
#ifndef KS_TEST_MAKE_CERT_H
#define KS_TEST_MAKE_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* The key test certificates are signed with: made by setup_key, freed by
 * teardown_key (a cmocka group's setup and teardown). */
static EVP_PKEY *test_key;

static inline int setup_key(void **state)
{
    (void)state;
    test_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return test_key ? 0 : -1;
}

static inline int teardown_key(void **state)
{
    (void)state;
    EVP_PKEY_free(test_key);
    return 0;
}

/* spec: "CN=a/O=b/OU=c" */
static inline void add_name_entries(X509_NAME *name, const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(part, '=');
        assert_non_null(eq);
        *eq = '\0';
        assert_int_equal(X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8,
                                                    (unsigned char *)eq + 1, -1, -1, 0), 1);
    }
    free(copy);
}

/* A DER certificate with the given subject, issuer and SAN list
 * ("DNS:a,IP:1.2.3.4" or NULL), signed with key. Caller frees. */
static inline uint8_t *make_cert(EVP_PKEY *key, const char *subject, const char *issuer,
                          const char *sans, size_t *len)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    add_name_entries(X509_get_subject_name(x), subject);
    add_name_entries(X509_get_issuer_name(x), issuer);
    if (sans) {
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sans);
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    X509_free(x);
    uint8_t *out = malloc((size_t)n);
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}

#endif
