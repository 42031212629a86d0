/*
 * tls.c - the TLS transport (struct transport, internal.h): the pool's
 * SSL_CTX, the handshake over the connection's BIO (bio.c), what it
 * captures (version, cipher, ALPN, the peer's chain as DER with SHA-256),
 * and the request and response through it. It knows nothing of what the
 * bytes say (no HTTP here).
 *
 * No certificate verification on the hot path: the chain is kept and judged
 * offline. One SSL object per connection slot, reused with SSL_clear; no
 * SSL_shutdown (the socket closes with RST).
 */
#include "probes/internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

void tls_error_text(char *out, size_t size)
{
    unsigned long e = ERR_peek_error();
    if (e)
        ERR_error_string_n(e, out, size);
    else
        snprintf(out, size, "unknown TLS error");
    ERR_clear_error();
}

static int accept_any_chain(X509_STORE_CTX *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return 1; /* verdict computed offline from the stored chain */
}

/* The server's CertificateRequest: noted, and answered with no
 * certificate (a survey has none to give). */
static int client_cert_requested(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct conn *c = SSL_get_app_data(ssl);
    if (c)
        c->r.tls_cert_requested = true;
    return 0;
}

SSL_CTX *tls_ctx_new(const struct probe_config *cfg, char *err)
{
    /* The property query makes libssl's fetches prefer fastkdf.c's key
     * schedule (everything else still comes from the default provider). */
    const char *propq = cfg->no_fast_keys ? NULL : probes_fast_kdf_install();
    SSL_CTX *ctx = SSL_CTX_new_ex(NULL, propq, TLS_client_method());
    if (!ctx) {
        snprintf(err, KS_ERRLEN, "SSL_CTX_new failed");
        return NULL;
    }
    /* A survey wants to see every server, however old or weak. */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* Skip chain building and signature checks entirely (SSL_VERIFY_NONE
     * alone still runs X509_verify_cert and ignores its result). */
    SSL_CTX_set_cert_verify_callback(ctx, accept_any_chain, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_max_cert_list(ctx, (long)cfg->max_chain_bytes);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
    SSL_CTX_set_client_cert_cb(ctx, client_cert_requested);
    return ctx;
}

/* ------------------------------------------------------- the chain */

/* Fills cert->sha256 from cert->der with the worker's digest context. */
static int cert_digest(struct conn *c, struct cert_der *cert)
{
    EVP_MD_CTX *md = c->w->md_ctx;
    unsigned int md_length = 0;
    if (EVP_DigestInit_ex2(md, c->w->pool->sha256, NULL) != 1 ||
        EVP_DigestUpdate(md, cert->der, cert->length) != 1 ||
        EVP_DigestFinal_ex(md, cert->sha256, &md_length) != 1 ||
        md_length != sizeof(cert->sha256))
        return -1;
    return 0;
}

/* A plain malloc'ed copy of x's DER into cert: i2d allocates with
 * OPENSSL_malloc, and probe_result_free's free() must be right whatever the
 * build. -1 when out of memory or x does not encode. */
static int cert_copy(X509 *x, struct cert_der *cert)
{
    unsigned char *der = NULL;
    int length = i2d_X509(x, &der);
    if (length <= 0)
        return -1;
    cert->der = malloc((size_t)length);
    if (cert->der) {
        memcpy(cert->der, der, (size_t)length);
        cert->length = (size_t)length;
    }
    OPENSSL_free(der);
    return cert->der ? 0 : -1;
}

/* Copies the peer's chain (leaf first) as DER with SHA-256 into c->r.
 * 0, or -1 with `reason` filled if a digest failed (the probe must then
 * end with PROBE_INTERNAL_ERROR). */
static int tls_capture_chain(struct conn *c, char *reason, size_t size)
{
    struct probe_result *r = &c->r;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    int count = chain ? sk_X509_num(chain) : 0;
    if (count > PROBE_CHAIN_MAX) {
        r->chain_truncated = true;
        count = PROBE_CHAIN_MAX;
    }
    for (int i = 0; i < count; i++) {
        struct cert_der *cert = &r->chain[r->chain_length];
        if (cert_copy(sk_X509_value(chain, i), cert) < 0)
            break; /* keep what we have: the chain is evidence, not a must */
        r->chain_length++;
        if (cert_digest(c, cert) < 0) {
            char text[256];
            tls_error_text(text, sizeof(text));
            free(cert->der);
            memset(cert, 0, sizeof(*cert));
            r->chain_length--;
            snprintf(reason, size, "SHA-256 of certificate %d of the chain failed: %s", i, text);
            return -1;
        }
    }
    return 0;
}

/* Version, cipher, ALPN and the chain of a finished handshake. */
static int capture_tls(struct conn *c, char *reason, size_t size)
{
    struct probe_result *r = &c->r;
    r->tls_done = true;
    r->tls_version = strdup(SSL_get_version(c->ssl));
    const char *cipher = SSL_get_cipher_name(c->ssl);
    r->tls_cipher = cipher ? strdup(cipher) : NULL;
    const unsigned char *alpn = NULL;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_length);
    if (alpn_length > 0)
        r->tls_alpn = strndup((const char *)alpn, alpn_length);
    return tls_capture_chain(c, reason, size);
}

/* Does the peer not speak TLS at all? A TLS server's first byte opens a
 * record: handshake (0x16) or alert (0x15), or in SSLv2-era servers a
 * length with the high bit set; a plain HTTP server answers "HTTP/1.1 400"
 * to a ClientHello, and one behind a protocol multiplexer (etcd's cmux)
 * closes without a byte. */
static bool not_tls(int first_byte, int e)
{
    if (first_byte < 0)
        return e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN;
    return first_byte != 0x16 && first_byte != 0x15 && first_byte < 0x80;
}


/* --------------------------------------------------- the handshake */

/* The failure of a handshake (e an SSL_get_error code): the chain if it
 * came before, and the reason. */
static enum io_status handshake_failed(struct conn *c, int e, int saved_errno,
                                       struct io_failure *f)
{
    char text[256];
    if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(text, sizeof(text), "connection closed during the TLS handshake");
    else if (e == SSL_ERROR_SYSCALL)
        snprintf(text, sizeof(text), "%s during the TLS handshake",
                 saved_errno ? strerror(saved_errno) : "connection closed");
    else
        tls_error_text(text, sizeof(text));
    f->wrong_protocol = not_tls(c->first_byte, e);
    if (tls_capture_chain(c, f->text, sizeof(f->text)) < 0) {
        f->outcome = PROBE_INTERNAL_ERROR;
    } else {
        f->outcome = PROBE_TLS_ERROR;
        snprintf(f->text, sizeof(f->text), "%s", text);
    }
    return IO_FAILED;
}

static enum io_status tls_handshake(struct conn *c, struct io_failure *f)
{
    /* A flight OpenSSL wrote earlier must be out before we wait for more. */
    int sent = c->out_length ? conn_flush(c) : 1;
    if (sent == 0)
        return IO_AGAIN;
    ERR_clear_error();
    errno = 0;
    int rc = sent < 0 ? -1 : SSL_do_handshake(c->ssl);
    if (rc == 1) {
        if (capture_tls(c, f->text, sizeof(f->text)) < 0) {
            f->outcome = PROBE_INTERNAL_ERROR;
            return IO_FAILED;
        }
        return IO_DONE; /* the Finished goes out with the request */
    }
    int e = sent < 0 ? SSL_ERROR_SYSCALL : SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        sent = conn_flush(c);
        if (sent >= 0)
            return IO_AGAIN;
        e = SSL_ERROR_SYSCALL;
    }
    return handshake_failed(c, e, errno, f);
}

static enum io_status tls_start(struct conn *c, uint32_t events, struct io_failure *f)
{
    if (!c->ssl) {
        c->ssl = SSL_new(c->w->pool->ssl_ctx);
        BIO *bio = c->ssl ? conn_bio_new(c) : NULL;
        if (!bio) {
            SSL_free(c->ssl);
            c->ssl = NULL;
            f->outcome = PROBE_INTERNAL_ERROR;
            snprintf(f->text, sizeof(f->text), "out of memory for a TLS connection");
            return IO_FAILED;
        }
        SSL_set_bio(c->ssl, bio, bio);
        SSL_set_app_data(c->ssl, c);
    }
    SSL_set_connect_state(c->ssl);
    /* A TLS server says nothing before our ClientHello; unless the event
     * says data is there (a banner), do not spend a read() to hear that. */
    c->skip_read = !(events & EPOLLIN);
    return tls_handshake(c, f);
}

static enum io_status tls_write(struct conn *c, const char *data, size_t length,
                                struct io_failure *f)
{
    ERR_clear_error();
    if (SSL_write(c->ssl, data, (int)length) > 0)
        return IO_DONE;
    char text[256];
    tls_error_text(text, sizeof(text));
    f->outcome = PROBE_TLS_ERROR;
    snprintf(f->text, sizeof(f->text), "TLS error while sending the request: %s", text);
    return IO_FAILED;
}

static ssize_t tls_read(struct conn *c, char *buffer, size_t size, struct io_failure *f)
{
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(c->ssl, buffer, (int)size);
    if (n > 0)
        return n;
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return IO_READ_AGAIN;
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    if (e == SSL_ERROR_SYSCALL) {
        f->outcome = PROBE_CLOSED;
        snprintf(f->text, sizeof(f->text), "%s while reading the response", strerror(errno));
        return IO_READ_FAILED;
    }
    char text[200];
    tls_error_text(text, sizeof(text));
    f->outcome = PROBE_TLS_ERROR;
    snprintf(f->text, sizeof(f->text), "TLS error while reading the response: %s", text);
    return IO_READ_FAILED;
}

static int tls_abandon(struct conn *c, struct io_failure *f)
{
    if (tls_capture_chain(c, f->text, sizeof(f->text)) == 0)
        return 0;
    f->outcome = PROBE_INTERNAL_ERROR;
    return -1;
}

static X509 *tls_leaf(struct conn *c)
{
    return c->ssl ? SSL_get0_peer_certificate(c->ssl) : NULL;
}

static void tls_reset(struct conn *c)
{
    if (c->ssl)
        SSL_clear(c->ssl);
}

static void tls_destroy(struct conn *c)
{
    SSL_free(c->ssl); /* frees the BIO too */
    c->ssl = NULL;
}

const struct transport transport_tls = {
    .name = "tls",
    .secure = true,
    .handshake_name = "TLS handshake",
    .handshake_timeout = PROBE_TLS_TIMEOUT,
    .start = tls_start,
    .handshake = tls_handshake,
    .write = tls_write,
    .read = tls_read,
    .abandon = tls_abandon,
    .leaf = tls_leaf,
    .reset = tls_reset,
    .destroy = tls_destroy,
};
