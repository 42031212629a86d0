/*
 * fastkey.c - make OpenSSL 3.0 decode certificate public keys, and make
 * the X25519 key share, cheaply.
 *
 * Why: perf shows that a third of the client CPU of a TLS probe goes into
 * parsing the server certificate, nearly all of it in
 * OSSL_DECODER_CTX_new_for_pkey: OpenSSL 3.0 builds a new decoder chain
 * (enumerating every key manager and decoder of the providers) for each
 * SubjectPublicKeyInfo it parses (fixed by caching only in 3.1+).
 *
 * How: x509_pubkey_ex_d2i_ex() first tries the legacy (pre-3.0) decoder
 * whenever an ENGINE is registered as the EVP_PKEY_METHOD implementation for
 * the key's algorithm, "so that engines are not overridden by providers".
 * We register such an ENGINE for EC and RSA whose methods are plain copies
 * of OpenSSL's own built-in ones. Public keys then decode in the legacy
 * code (microseconds) and TLS signature checks run through the same
 * built-in EC/RSA code; nothing else changes. Other key types (Ed25519,
 * ...) keep the provider path.
 *
 * X25519: libssl makes each key share with EVP_PKEY_CTX_new_from_name and
 * derives with EVP_PKEY_CTX_new_from_pkey; with an ENGINE registered for
 * the algorithm both take the legacy method instead of a key manager
 * fetch, an OSSL_PARAM export of the public key and a key exchange fetch
 * per handshake. The method is again a copy of OpenSSL's built-in one (the
 * same X25519 code, the private key from RAND_priv_bytes), plus the
 * parameter generation TLS 1.2 needs (x25519_paramgen below).
 *
 * This touches process-wide OpenSSL state, uses deprecated (but supported
 * in 3.x) ENGINE APIs, and is done once; probe_config.no_fast_keys turns
 * it off. If any step fails we simply keep OpenSSL's defaults.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the ENGINE API is deprecated in 3.0 */
#include "probes/internal.h"

#include <openssl/engine.h>
#include <openssl/evp.h>
#include <pthread.h>

static const int fast_nids[] = {EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_X25519};
#define FAST_COUNT (int)(sizeof(fast_nids) / sizeof(fast_nids[0]))
static EVP_PKEY_METHOD *fast_methods[FAST_COUNT];
static bool fast_installed;

/* X25519 has no parameters, so its built-in method has no paramgen; but a
 * TLS 1.2 client makes the server's named group as "parameters" first
 * (ssl_generate_param_group) and then sets the server's public key into
 * them. An empty X25519 key is those parameters. */
static int x25519_paramgen(EVP_PKEY_CTX *ctx, EVP_PKEY *pkey)
{
    (void)ctx;
    return EVP_PKEY_set_type(pkey, EVP_PKEY_X25519);
}

static int fast_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **pmeth, const int **nids, int nid)
{
    (void)e;
    if (!pmeth) {
        *nids = fast_nids;
        return FAST_COUNT;
    }
    for (int i = 0; i < FAST_COUNT; i++)
        if (nid == fast_nids[i]) {
            *pmeth = fast_methods[i];
            return 1;
        }
    *pmeth = NULL;
    return 0;
}

static void install(void)
{
    for (int i = 0; i < FAST_COUNT; i++) {
        const EVP_PKEY_METHOD *builtin = EVP_PKEY_meth_find(fast_nids[i]);
        if (!builtin || !(fast_methods[i] = EVP_PKEY_meth_new(fast_nids[i], 0)))
            return;
        EVP_PKEY_meth_copy(fast_methods[i], builtin);
        if (fast_nids[i] == EVP_PKEY_X25519)
            EVP_PKEY_meth_set_paramgen(fast_methods[i], NULL, x25519_paramgen);
    }
    ENGINE *e = ENGINE_new();
    if (!e)
        return;
    /* ENGINE_add keeps its own reference; ours is dropped below. */
    if (!ENGINE_set_id(e, "kubesurvey-fastkey") ||
        !ENGINE_set_name(e, "built-in EC/RSA/X25519 methods, legacy keys") ||
        !ENGINE_set_pkey_meths(e, fast_pkey_meths) || !ENGINE_add(e) ||
        !ENGINE_register_pkey_meths(e)) {
        ENGINE_free(e);
        return;
    }
    ENGINE_free(e);
    fast_installed = true;
}

bool probes_fast_keys_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    return fast_installed;
}
