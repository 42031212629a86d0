/*
 * fastkdf.c - the TLS 1.3 key schedule (RFC 8446 section 7.1) without
 * OpenSSL 3.0's per-call machinery.
 *
 * Why: libssl 3.0 runs each of the ~10 derivations of a TLS 1.3 handshake
 * through a fresh EVP_KDF_CTX of the default provider's "TLS13-KDF", which
 * fetches the digest by name, duplicates every input, and builds HMAC and
 * digest contexts (more allocations and fetches) for each HMAC it computes:
 * about a third of the ~925 allocations of a probe.
 *
 * How: a provider built into the process offers "TLS13-KDF" with the
 * property provider=kubesurvey. The probes' SSL_CTX is made with the
 * property query "?provider=kubesurvey" (a preference, not a requirement:
 * everything else still comes from the default provider), so libssl's
 * fetch picks this implementation. It does the same two operations as the
 * default one (providers/implementations/kdfs/hkdf.c of OpenSSL 3.0) with
 * HMAC written over the low-level SHA-256/384 functions: no allocation but
 * the context itself, inputs copied into it. Only SHA-256 and SHA-384 are
 * known: they are the hashes of every TLS 1.3 suite OpenSSL 3.0 has; any
 * other digest fails the derivation (and so the handshake) loudly.
 *
 * tests/probes/test_fastkdf.c checks it against the default provider's
 * TLS13-KDF on the same inputs; a wrong key schedule would also fail every
 * TLS 1.3 handshake of the probe tests.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the low-level SHA functions */
#include "probes/internal.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROVIDER_NAME "kubesurvey"
#define HASH_MAX 64          /* SHA-384's 48 rounded up to a block's size */
#define HASH_BLOCK_MAX 128   /* SHA-384's block */
#define LABEL_MAX 255        /* HkdfLabel's label<7..255> and context<0..255> */
/* The largest (EC)DHE secret TLS 1.3 can have: ffdhe8192's 1024 bytes. */
#define SECRET_MAX 1024

/* ------------------------------------------------- SHA-256 and SHA-384 */

union hash_state {
    SHA256_CTX sha256;
    SHA512_CTX sha384;
};

struct hash {
    const char *names[3];   /* as EVP_MD_get0_name and its aliases say it */
    size_t size, block;
    void (*init)(union hash_state *s);
    void (*update)(union hash_state *s, const void *data, size_t length);
    void (*final)(union hash_state *s, unsigned char *out);
};

static void sha256_init(union hash_state *s) { SHA256_Init(&s->sha256); }
static void sha256_update(union hash_state *s, const void *d, size_t n) { SHA256_Update(&s->sha256, d, n); }
static void sha256_final(union hash_state *s, unsigned char *out) { SHA256_Final(out, &s->sha256); }
static void sha384_init(union hash_state *s) { SHA384_Init(&s->sha384); }
static void sha384_update(union hash_state *s, const void *d, size_t n) { SHA384_Update(&s->sha384, d, n); }
static void sha384_final(union hash_state *s, unsigned char *out) { SHA384_Final(out, &s->sha384); }

static const struct hash hashes[] = {
    {{"SHA2-256", "SHA-256", "SHA256"}, 32, 64, sha256_init, sha256_update, sha256_final},
    {{"SHA2-384", "SHA-384", "SHA384"}, 48, 128, sha384_init, sha384_update, sha384_final},
};

static const struct hash *hash_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
        for (size_t j = 0; j < 3; j++)
            if (strcasecmp(name, hashes[i].names[j]) == 0)
                return &hashes[i];
    return NULL;
}

/* ---------------------------------------------------- HMAC and HKDF */

struct hmac {
    const struct hash *hash;
    union hash_state inner, outer;
};

/* RFC 2104: the key padded to a block, XORed into the two pads. */
static void hmac_init(struct hmac *m, const struct hash *h, const unsigned char *key,
                      size_t key_length)
{
    unsigned char block[HASH_BLOCK_MAX] = {0}, pad[HASH_BLOCK_MAX];
    if (key_length > h->block) {
        h->init(&m->inner);
        h->update(&m->inner, key, key_length);
        h->final(&m->inner, block);
    } else if (key_length > 0) {
        memcpy(block, key, key_length);
    }
    m->hash = h;
    for (size_t i = 0; i < h->block; i++)
        pad[i] = block[i] ^ 0x36;
    h->init(&m->inner);
    h->update(&m->inner, pad, h->block);
    for (size_t i = 0; i < h->block; i++)
        pad[i] = block[i] ^ 0x5c;
    h->init(&m->outer);
    h->update(&m->outer, pad, h->block);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
}

static void hmac_final(struct hmac *m, unsigned char *out)
{
    unsigned char inner[HASH_MAX];
    m->hash->final(&m->inner, inner);
    m->hash->update(&m->outer, inner, m->hash->size);
    m->hash->final(&m->outer, out);
    OPENSSL_cleanse(inner, sizeof(inner));
}

/* RFC 5869 HKDF-Expand. The keyed state is made once and copied per block. */
static int hkdf_expand(const struct hash *h, const unsigned char *prk, size_t prk_length,
                       const unsigned char *info, size_t info_length, unsigned char *out,
                       size_t out_length)
{
    if (out_length > 255 * h->size)
        return 0;
    struct hmac keyed, m;
    hmac_init(&keyed, h, prk, prk_length);
    unsigned char t[HASH_MAX];
    size_t t_length = 0;
    for (unsigned char i = 1; out_length > 0; i++) {
        m = keyed;
        h->update(&m.inner, t, t_length);
        h->update(&m.inner, info, info_length);
        h->update(&m.inner, &i, 1);
        hmac_final(&m, t);
        t_length = h->size;
        size_t n = out_length < t_length ? out_length : t_length;
        memcpy(out, t, n);
        out += n;
        out_length -= n;
    }
    OPENSSL_cleanse(&keyed, sizeof(keyed));
    OPENSSL_cleanse(&m, sizeof(m));
    OPENSSL_cleanse(t, sizeof(t));
    return 1;
}

/* ------------------------------------------------------ the KDF */

/* One EVP_KDF_CTX: the parameters libssl sets, copied. */
struct kdf {
    const struct hash *hash;
    int mode;                 /* EVP_KDF_HKDF_MODE_EXTRACT_ONLY or _EXPAND_ONLY */
    unsigned char key[SECRET_MAX], salt[HASH_MAX];
    unsigned char prefix[LABEL_MAX], label[LABEL_MAX], data[LABEL_MAX];
    size_t key_length, salt_length, prefix_length, label_length, data_length;
    bool has_key, has_salt;
};

/* TLS 1.3's HKDF-Expand-Label: HKDF-Expand over the HkdfLabel
 * {uint16 length, <prefix + label>, <data>} (RFC 8446 section 7.1). */
static int expand_label(const struct kdf *k, const unsigned char *secret, size_t secret_length,
                        const unsigned char *data, size_t data_length, unsigned char *out,
                        size_t out_length)
{
    size_t label_length = k->prefix_length + k->label_length;
    if (out_length > 0xffff || label_length > LABEL_MAX || data_length > LABEL_MAX)
        return 0;
    unsigned char info[2 + 1 + LABEL_MAX + 1 + LABEL_MAX], *p = info;
    *p++ = (unsigned char)(out_length >> 8);
    *p++ = (unsigned char)out_length;
    *p++ = (unsigned char)label_length;
    memcpy(p, k->prefix, k->prefix_length);
    p += k->prefix_length;
    memcpy(p, k->label, k->label_length);
    p += k->label_length;
    *p++ = (unsigned char)data_length;
    memcpy(p, data, data_length);
    p += data_length;
    return hkdf_expand(k->hash, secret, secret_length, info, (size_t)(p - info), out,
                       out_length);
}

/* The default provider's EXTRACT_ONLY: HKDF-Extract(salt, key), where the
 * salt, when given, is first Derive-Secret(salt, prefix + label, "") and a
 * missing key is hash-size zeros (RFC 8446 section 7.1's diagram). */
static int extract(const struct kdf *k, unsigned char *out, size_t out_length)
{
    const struct hash *h = k->hash;
    static const unsigned char zeros[HASH_MAX];
    unsigned char salt[HASH_MAX], empty_hash[HASH_MAX];
    size_t salt_length = 0;
    if (out_length != h->size || (k->has_salt && k->salt_length != h->size))
        return 0;
    if (k->has_salt) {
        union hash_state s;
        h->init(&s);
        h->final(&s, empty_hash);
        if (!expand_label(k, k->salt, k->salt_length, empty_hash, h->size, salt, h->size))
            return 0;
        salt_length = h->size;
    }
    struct hmac m;
    hmac_init(&m, h, salt, salt_length);
    if (k->has_key)
        h->update(&m.inner, k->key, k->key_length);
    else
        h->update(&m.inner, zeros, h->size);
    hmac_final(&m, out);
    OPENSSL_cleanse(salt, sizeof(salt));
    OPENSSL_cleanse(&m, sizeof(m));
    return 1;
}

/* An octet string parameter into a buffer of `capacity` bytes. */
static int copy_octets(const OSSL_PARAM *p, unsigned char *to, size_t capacity, size_t *length)
{
    const void *data = NULL;
    size_t n = 0;
    if (!OSSL_PARAM_get_octet_string_ptr(p, &data, &n) || n > capacity)
        return 0;
    if (n > 0)
        memcpy(to, data, n);
    *length = n;
    return 1;
}

static int set_mode(struct kdf *k, const OSSL_PARAM *p)
{
    if (p->data_type == OSSL_PARAM_UTF8_STRING) {
        if (strcasecmp(p->data, "EXTRACT_ONLY") == 0)
            k->mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
        else if (strcasecmp(p->data, "EXPAND_ONLY") == 0)
            k->mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
        else
            return 0;
        return 1;
    }
    return OSSL_PARAM_get_int(p, &k->mode) &&
           (k->mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY || k->mode == EVP_KDF_HKDF_MODE_EXPAND_ONLY);
}

static int set_param(struct kdf *k, const OSSL_PARAM *p)
{
    const char *name = p->key;
    if (strcmp(name, OSSL_KDF_PARAM_MODE) == 0)
        return set_mode(k, p);
    if (strcmp(name, OSSL_KDF_PARAM_DIGEST) == 0)
        return p->data_type == OSSL_PARAM_UTF8_STRING && (k->hash = hash_by_name(p->data));
    if (strcmp(name, OSSL_KDF_PARAM_KEY) == 0)
        return (k->has_key = copy_octets(p, k->key, sizeof(k->key), &k->key_length));
    if (strcmp(name, OSSL_KDF_PARAM_SALT) == 0)
        return (k->has_salt = copy_octets(p, k->salt, sizeof(k->salt), &k->salt_length));
    if (strcmp(name, OSSL_KDF_PARAM_PREFIX) == 0)
        return copy_octets(p, k->prefix, sizeof(k->prefix), &k->prefix_length);
    if (strcmp(name, OSSL_KDF_PARAM_LABEL) == 0)
        return copy_octets(p, k->label, sizeof(k->label), &k->label_length);
    if (strcmp(name, OSSL_KDF_PARAM_DATA) == 0)
        return copy_octets(p, k->data, sizeof(k->data), &k->data_length);
    return 1; /* others (properties) do not change the result */
}

static int kdf_set_ctx_params(void *vk, const OSSL_PARAM params[])
{
    for (const OSSL_PARAM *p = params; p && p->key; p++)
        if (!set_param(vk, p))
            return 0;
    return 1;
}

static void *kdf_new(void *provctx)
{
    (void)provctx;
    return calloc(1, sizeof(struct kdf));
}

static void kdf_reset(void *vk)
{
    OPENSSL_cleanse(vk, sizeof(struct kdf));
}

static void kdf_free(void *vk)
{
    if (vk)
        kdf_reset(vk);
    free(vk);
}

static int kdf_derive(void *vk, unsigned char *out, size_t out_length, const OSSL_PARAM params[])
{
    struct kdf *k = vk;
    if (!kdf_set_ctx_params(k, params) || !k->hash)
        return 0;
    if (k->mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY)
        return extract(k, out, out_length);
    if (k->mode == EVP_KDF_HKDF_MODE_EXPAND_ONLY && k->has_key)
        return expand_label(k, k->key, k->key_length, k->data, k->data_length, out,
                            out_length);
    return 0;
}

static const OSSL_PARAM *kdf_settable_ctx_params(void *vk, void *provctx)
{
    (void)vk;
    (void)provctx;
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, NULL),
        OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_PREFIX, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_LABEL, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_DATA, NULL, 0),
        OSSL_PARAM_END,
    };
    return settable;
}

/* ------------------------------------------------- the provider */

/* OpenSSL's dispatch tables hold every function as void (*)(void). */
#define FN(f) ((void (*)(void))(f))

static const OSSL_DISPATCH kdf_functions[] = {
    {OSSL_FUNC_KDF_NEWCTX, FN(kdf_new)},
    {OSSL_FUNC_KDF_FREECTX, FN(kdf_free)},
    {OSSL_FUNC_KDF_RESET, FN(kdf_reset)},
    {OSSL_FUNC_KDF_DERIVE, FN(kdf_derive)},
    {OSSL_FUNC_KDF_SET_CTX_PARAMS, FN(kdf_set_ctx_params)},
    {OSSL_FUNC_KDF_SETTABLE_CTX_PARAMS, FN(kdf_settable_ctx_params)},
    {0, NULL},
};

static const OSSL_ALGORITHM kdfs[] = {
    {OSSL_KDF_NAME_TLS1_3_KDF, "provider=" PROVIDER_NAME, kdf_functions,
     "TLS 1.3 key schedule without per-call allocations (kubesurvey)"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *provider_query(void *provctx, int operation, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    return operation == OSSL_OP_KDF ? kdfs : NULL;
}

static const OSSL_DISPATCH provider_functions[] = {
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, FN(provider_query)},
    {0, NULL},
};

static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                         const OSSL_DISPATCH **out, void **provctx)
{
    (void)in;
    *out = provider_functions;
    *provctx = (void *)handle;
    return 1;
}

static OSSL_PROVIDER *loaded_default, *loaded_ours;

/* OPENSSL_cleanup frees the provider store but not the references
 * OSSL_PROVIDER_load handed out; ours are given back first (atexit runs
 * this before the cleanup OpenSSL registered earlier). */
static void unload(void)
{
    if (loaded_ours)
        OSSL_PROVIDER_unload(loaded_ours);
    if (loaded_default)
        OSSL_PROVIDER_unload(loaded_default);
}

/* Loading any provider by hand turns off the automatic loading of the
 * default one, so it is loaded first, explicitly. Both stay loaded until
 * the process exits. */
static void install(void)
{
    loaded_default = OSSL_PROVIDER_load(NULL, "default");
    if (loaded_default && OSSL_PROVIDER_add_builtin(NULL, PROVIDER_NAME, provider_init))
        loaded_ours = OSSL_PROVIDER_load(NULL, PROVIDER_NAME);
    atexit(unload);
}

const char *probes_fast_kdf_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    return loaded_ours ? "?provider=" PROVIDER_NAME : NULL;
}
