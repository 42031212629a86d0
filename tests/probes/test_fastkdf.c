/*
 * test_fastkdf.c - probes/fastkdf.c's TLS13-KDF gives exactly what the
 * default provider's gives, over both modes, both hashes, missing and
 * present keys and salts, long keys and multi-block outputs; refuses what
 * the default one refuses; is what a "?provider=kubesurvey" fetch picks;
 * and TLS 1.3 handshakes made with it succeed in memory for the three
 * suites of OpenSSL 3.0's default list.
 */
#include "probes/internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "make_cert.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/provider.h>

static const char *propq;

static int setup(void **state)
{
    propq = probes_fast_kdf_install();
    return propq ? setup_key(state) : -1;
}

/* What one derivation is given (NULL pointers: the parameter is absent). */
struct kdf_input {
    const char *digest;
    int mode;
    const unsigned char *key, *salt, *data;
    size_t key_length, salt_length, data_length, out_length;
};

/* Derives with the TLS13-KDF of `provider`; its return value, output in out. */
static int derive(const char *provider, const struct kdf_input *in, unsigned char *out)
{
    char query[64];
    snprintf(query, sizeof(query), "provider=%s", provider);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, query);
    assert_non_null(kdf);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    assert_non_null(ctx);
    static unsigned char prefix[] = "tls13 ", label[] = "c hs traffic";
    int mode = in->mode;
    OSSL_PARAM params[8], *p = params;
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)in->digest, 0);
    if (in->key)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)in->key,
                                                 in->key_length);
    if (in->salt)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)in->salt,
                                                 in->salt_length);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix, sizeof(prefix) - 1);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, label, sizeof(label) - 1);
    if (in->data)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)in->data,
                                                 in->data_length);
    *p = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(ctx, out, in->out_length, params);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* Both providers succeed with the same bytes. */
static void assert_same(const struct kdf_input *in)
{
    unsigned char ours[512] = {0}, theirs[512] = {0};
    assert_true(in->out_length <= sizeof(ours));
    assert_int_equal(derive("default", in, theirs), 1);
    assert_int_equal(derive("kubesurvey", in, ours), 1);
    assert_memory_equal(ours, theirs, in->out_length);
}

static unsigned char bytes[1024];

static int fill_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 131 + 7);
    return 0;
}

static void test_extract(void **state)
{
    (void)state;
    static const char *digests[] = {"SHA2-256", "SHA2-384", "SHA256", "sha384"};
    for (size_t d = 0; d < 4; d++) {
        size_t size = d % 2 ? 48 : 32;
        struct kdf_input in = {.digest = digests[d], .mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY,
                               .out_length = size};
        assert_same(&in); /* the early secret: no salt, no key */
        in.key = bytes;
        for (size_t k = 0; k < 5; k++) {
            static const size_t key_lengths[] = {32, 48, 97, 256, 1024}; /* up to ffdhe8192 */
            in.key_length = key_lengths[k];
            in.salt = NULL;
            assert_same(&in);
            in.salt = bytes + 500;
            in.salt_length = size;
            assert_same(&in);
        }
    }
}

static void test_expand(void **state)
{
    (void)state;
    static const size_t out_lengths[] = {12, 16, 32, 48, 100, 500};
    static const size_t key_lengths[] = {32, 48, 200};  /* 200: above SHA-384's block */
    static const size_t data_lengths[] = {0, 32, 48, 255};
    for (size_t d = 0; d < 2; d++)
        for (size_t o = 0; o < 6; o++)
            for (size_t k = 0; k < 3; k++)
                for (size_t n = 0; n < 4; n++) {
                    struct kdf_input in = {.digest = d ? "SHA2-384" : "SHA2-256",
                                           .mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY,
                                           .key = bytes + 3, .key_length = key_lengths[k],
                                           .data = bytes + 600, .data_length = data_lengths[n],
                                           .out_length = out_lengths[o]};
                    assert_same(&in);
                }
}

/* What the default provider refuses, ours refuses too. */
static void test_refusals(void **state)
{
    (void)state;
    unsigned char out[64];
    struct kdf_input in = {.digest = "SHA2-256", .mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND,
                           .key = bytes, .key_length = 32, .out_length = 32};
    assert_int_not_equal(derive("default", &in, out), 1);
    assert_int_not_equal(derive("kubesurvey", &in, out), 1);
    in.mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    in.out_length = 31; /* an extract gives exactly the hash's size */
    assert_int_not_equal(derive("default", &in, out), 1);
    assert_int_not_equal(derive("kubesurvey", &in, out), 1);
    in.out_length = 20;
    in.digest = "SHA1"; /* no TLS 1.3 suite's: ours does not know it */
    assert_int_not_equal(derive("kubesurvey", &in, out), 1);
    in.digest = "no such digest";
    assert_int_not_equal(derive("default", &in, out), 1);
    assert_int_not_equal(derive("kubesurvey", &in, out), 1);
}

/* The preference query picks ours; without it, the default one stays
 * reachable by name. */
static void test_preferred(void **state)
{
    (void)state;
    assert_string_equal(propq, "?provider=kubesurvey");
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, propq);
    assert_non_null(kdf);
    assert_string_equal(OSSL_PROVIDER_get0_name(EVP_KDF_get0_provider(kdf)), "kubesurvey");
    EVP_KDF_free(kdf);
    /* everything else comes from the default provider under the same query */
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-256", propq);
    assert_non_null(md);
    assert_string_equal(OSSL_PROVIDER_get0_name(EVP_MD_get0_provider(md)), "default");
    EVP_MD_free(md);
}

/* Client (the probes' SSL_CTX) and an OpenSSL server over memory BIOs. */
static void handshake(const char *suite)
{
    struct probe_config cfg = {0};
    probe_config_defaults(&cfg);
    char err[KS_ERRLEN] = "";
    SSL_CTX *client_ctx = tls_ctx_new(&cfg, err);
    assert_non_null(client_ctx);
    assert_true(SSL_CTX_set_ciphersuites(client_ctx, suite));
    SSL_CTX *server_ctx = SSL_CTX_new(TLS_server_method());
    size_t length;
    uint8_t *der = make_cert(test_key, "CN=server", "CN=server", "DNS:server", &length);
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)length);
    assert_non_null(cert);
    assert_true(SSL_CTX_use_certificate(server_ctx, cert));
    assert_true(SSL_CTX_use_PrivateKey(server_ctx, test_key));
    SSL *client = SSL_new(client_ctx), *server = SSL_new(server_ctx);
    BIO *client_bio, *server_bio;
    assert_true(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0));
    SSL_set_bio(client, client_bio, client_bio);
    SSL_set_bio(server, server_bio, server_bio);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    int client_done = 0, server_done = 0;
    for (int i = 0; i < 20 && !(client_done == 1 && server_done == 1); i++) {
        client_done = SSL_do_handshake(client);
        server_done = SSL_do_handshake(server);
    }
    assert_int_equal(client_done, 1);
    assert_int_equal(server_done, 1);
    assert_string_equal(SSL_get_version(client), "TLSv1.3");
    assert_string_equal(SSL_CIPHER_standard_name(SSL_get_current_cipher(client)), suite);
    /* application data both ways: the traffic keys agree too */
    char buffer[16] = "";
    assert_int_equal(SSL_write(client, "GET", 3), 3);
    assert_int_equal(SSL_read(server, buffer, sizeof(buffer)), 3);
    assert_int_equal(SSL_write(server, "200", 3), 3);
    assert_int_equal(SSL_read(client, buffer, sizeof(buffer)), 3);
    assert_memory_equal(buffer, "200", 3);
    SSL_free(client);
    SSL_free(server);
    X509_free(cert);
    free(der);
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
}

static void test_handshakes(void **state)
{
    (void)state;
    handshake("TLS_AES_128_GCM_SHA256");
    handshake("TLS_AES_256_GCM_SHA384");
    handshake("TLS_CHACHA20_POLY1305_SHA256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_extract, fill_bytes),
        cmocka_unit_test_setup(test_expand, fill_bytes),
        cmocka_unit_test_setup(test_refusals, fill_bytes),
        cmocka_unit_test(test_preferred),
        cmocka_unit_test(test_handshakes),
    };
    return cmocka_run_group_tests(tests, setup, teardown_key);
}
