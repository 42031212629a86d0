/*
 * pool.c - the probe workers: a few threads, each an epoll loop over many
 * non-blocking connections going through
 *
 *     CONNECTING -> HANDSHAKE -> WRITING -> READING -> (done)
 *
 * with a deadline per phase and one for the whole probe. Every probe ends in
 * exactly one call of the user's `done` callback, with an outcome.
 *
 * Cost per probe is kept small on purpose (docs/probes.md, "Cost"): one
 * SSL_CTX for the pool, one SSL object per connection slot reused with
 * SSL_clear, no certificate verification on the hot path (the chain is
 * kept and judged offline), read-ahead so a TLS flight is one read(), one
 * epoll_ctl per connection (edge-triggered), no SSL_shutdown.
 */
#include "probes/internal.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_PER_WAIT 256
#define SWEEP_INTERVAL_MS 10    /* how often deadlines are checked */
#define READ_BUFFER_BYTES 16384 /* one TLS record */
#define HEADER_VALUE_MAX 1024   /* a kept header value is cut here */
#define HEADER_NAME_MAX 64      /* longer names are none we keep */

enum conn_state { CONN_FREE, CONN_CONNECTING, CONN_HANDSHAKE, CONN_WRITING, CONN_READING };

/* The response headers we keep, and where they go in probe_result. */
enum kept_header { KEEP_NONE = -1, KEEP_SERVER, KEEP_CONTENT_TYPE, KEEP_AUDIT_ID,
                   KEEP_PF_FLOWSCHEMA, KEEP_PF_PRIORITYLEVEL, KEEP_COUNT };
static const char *const kept_header_names[KEEP_COUNT] = {
    "Server", "Content-Type", "Audit-Id",
    "X-Kubernetes-Pf-Flowschema-Uid", "X-Kubernetes-Pf-Prioritylevel-Uid",
};

struct worker;

/* One connection slot; reused probe after probe. */
struct conn {
    enum conn_state state;
    int fd;
    SSL *ssl;                 /* created on first use, then SSL_clear'ed */
    bool skip_read;           /* next BIO read: say "nothing yet" without read() */
    bool last_read_full;      /* the last read() filled its buffer: more may wait */
    char *out;                /* what OpenSSL wrote, not yet sent (cork BIO) */
    size_t out_length, out_sent, out_capacity;
    bool request_queued;
    struct worker *w;
    struct probe_result r;
    int64_t phase_deadline;   /* monotonic ms */
    int64_t total_deadline;
    int64_t started_mono;

    http_parser parser;
    size_t header_bytes;
    bool message_complete;
    bool headers_too_big;
    bool in_header_field;     /* the parser is giving us a header name */
    char header_name[HEADER_NAME_MAX + 1];
    size_t header_name_length;
    enum kept_header keeping; /* where the current header value goes */
    size_t body_capacity;
    bool got_response_bytes;
};

struct target {
    uint32_t addr;
    uint16_t port;
};

struct probe_pool;

struct worker {
    struct probe_pool *pool;
    pthread_t thread;
    int epoll_fd;
    int wake_fd;              /* eventfd: new work or stop */
    struct conn *conns;
    unsigned slots;
    unsigned active;
    unsigned *free_list;      /* indices of free conns */
    unsigned free_count;

    /* queue of targets not yet started; guarded by pool->lock */
    struct target *queue;
    unsigned queue_head, queue_length;
    bool sleeping;            /* in epoll_wait with nothing queued */
    bool wake_pending;

    int64_t now;              /* monotonic ms, refreshed each loop */
    char *read_buffer;
    char *request;            /* built per probe: Host differs */
    size_t request_capacity;
    EVP_MD_CTX *md_ctx;
};

struct probe_pool {
    struct probe_config cfg;
    char *user_agent;
    char *path;
    probe_done_fn done;
    void *ctx;
    SSL_CTX *ssl_ctx;
    EVP_MD *sha256;

    pthread_mutex_t lock;
    pthread_cond_t not_full;
    bool stopping;
    unsigned next_worker;
    struct worker *workers;
    unsigned nworkers;

    atomic_uint_fast64_t submitted;
    atomic_uint_fast64_t completed;
    atomic_uint_fast64_t by_outcome[PROBE_OUTCOME_COUNT];
};

/* ------------------------------------------------------------ utilities */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void probe_config_defaults(struct probe_config *cfg)
{
    if (!cfg->threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (unsigned)n : 1;
    }
    if (!cfg->concurrency)
        cfg->concurrency = 1024;
    if (!cfg->connect_timeout_ms)
        cfg->connect_timeout_ms = 3000;
    if (!cfg->handshake_timeout_ms)
        cfg->handshake_timeout_ms = 5000;
    if (!cfg->response_timeout_ms)
        cfg->response_timeout_ms = 5000;
    if (!cfg->total_timeout_ms)
        cfg->total_timeout_ms = cfg->connect_timeout_ms + cfg->handshake_timeout_ms +
                                cfg->response_timeout_ms;
    if (!cfg->max_header_bytes)
        cfg->max_header_bytes = 16384;
    if (!cfg->max_body_bytes)
        cfg->max_body_bytes = 65536;
    if (!cfg->max_chain_bytes)
        cfg->max_chain_bytes = 102400;
    if (!cfg->user_agent)
        cfg->user_agent = PROBE_DEFAULT_USER_AGENT;
    if (!cfg->path)
        cfg->path = "/version";
}

/* ------------------------------------------------------- ending a probe */

static void conn_release(struct conn *c)
{
    struct worker *w = c->w;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    if (c->ssl)
        SSL_clear(c->ssl);
    c->state = CONN_FREE;
    w->free_list[w->free_count++] = (unsigned)(c - w->conns);
    w->active--;
}

/* Ends the probe on `c` with `outcome` (and a reason unless OK), hands the
 * result to the user and frees the slot. */
static void conn_finish(struct conn *c, enum probe_outcome outcome, const char *fmt, ...)
{
    struct worker *w = c->w;
    struct probe_pool *p = w->pool;
    struct probe_result *r = &c->r;

    r->outcome = outcome;
    if (fmt) {
        char text[KS_ERRLEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        free(r->error);
        r->error = strdup(text);
    }
    int64_t elapsed = monotonic_ms() - c->started_mono;
    r->duration_ms = elapsed > 0 ? (uint32_t)elapsed : 0;
    k8s_classify_with_leaf(r, c->ssl ? SSL_get0_peer_certificate(c->ssl) : NULL);

    conn_release(c);
    p->done(p->ctx, r);
    memset(r, 0, sizeof(*r)); /* the callee owns the contents now */
    atomic_fetch_add(&p->by_outcome[outcome], 1);
    atomic_fetch_add(&p->completed, 1);
}

/* Text of the first OpenSSL error queued on this thread. */
static void ssl_error_text(char *out, size_t size)
{
    unsigned long e = ERR_peek_error();
    if (e)
        ERR_error_string_n(e, out, size);
    else
        snprintf(out, size, "unknown TLS error");
    ERR_clear_error();
}

/* ------------------------------------------------------------- HTTP side */

static char **kept_header_slot(struct probe_result *r, enum kept_header which)
{
    char **slot[KEEP_COUNT] = {&r->http_server, &r->http_content_type, &r->http_audit_id,
                               &r->http_pf_flowschema, &r->http_pf_prioritylevel};
    return slot[which];
}

static void set_kept_header(struct probe_result *r, enum kept_header which, char *value)
{
    char **slot = kept_header_slot(r, which);
    free(*slot);
    *slot = value;
}

static int count_header_bytes(struct conn *c, size_t length)
{
    c->header_bytes += length;
    if (c->header_bytes > c->w->pool->cfg.max_header_bytes) {
        c->headers_too_big = true;
        return 1; /* stops the parser */
    }
    return 0;
}

static int on_status(http_parser *hp, const char *at, size_t length)
{
    (void)at;
    return count_header_bytes(hp->data, length);
}

static int on_header_field(http_parser *hp, const char *at, size_t length)
{
    struct conn *c = hp->data;
    if (!c->in_header_field) {
        c->in_header_field = true;
        c->header_name_length = 0;
    }
    /* A name longer than any we keep is remembered as "too long". */
    if (c->header_name_length + length <= HEADER_NAME_MAX)
        memcpy(c->header_name + c->header_name_length, at, length);
    c->header_name_length += length;
    return count_header_bytes(c, length);
}

/* Header values are stored as printable ASCII (anything else becomes '?'),
 * so every stored string is valid UTF-8 and safe in a terminal. */
static void append_value(char **slot, const char *at, size_t length)
{
    size_t have = *slot ? strlen(*slot) : 0;
    if (have >= HEADER_VALUE_MAX)
        return;
    if (length > HEADER_VALUE_MAX - have)
        length = HEADER_VALUE_MAX - have;
    char *grown = realloc(*slot, have + length + 1);
    if (!grown)
        return;
    for (size_t i = 0; i < length; i++) {
        unsigned char ch = (unsigned char)at[i];
        grown[have + i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    grown[have + length] = '\0';
    *slot = grown;
}

static int on_header_value(http_parser *hp, const char *at, size_t length)
{
    struct conn *c = hp->data;
    if (c->in_header_field) {
        c->in_header_field = false;
        c->keeping = KEEP_NONE;
        if (c->header_name_length <= HEADER_NAME_MAX) {
            c->header_name[c->header_name_length] = '\0';
            for (int k = 0; k < KEEP_COUNT; k++)
                if (!strcasecmp(c->header_name, kept_header_names[k])) {
                    c->keeping = (enum kept_header)k;
                    set_kept_header(&c->r, c->keeping, NULL); /* the last one wins */
                    break;
                }
        }
    }
    if (c->keeping != KEEP_NONE)
        append_value(kept_header_slot(&c->r, c->keeping), at, length);
    return count_header_bytes(c, length);
}

static int on_headers_complete(http_parser *hp)
{
    struct conn *c = hp->data;
    c->r.http_status = hp->status_code;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t length)
{
    struct conn *c = hp->data;
    struct probe_result *r = &c->r;
    size_t limit = c->w->pool->cfg.max_body_bytes;
    size_t room = limit - r->body_length;
    if (length > room) {
        length = room;
        r->body_truncated = true;
    }
    if (length > 0) {
        if (r->body_length + length > c->body_capacity) {
            size_t want = c->body_capacity ? c->body_capacity * 2 : 4096;
            while (want < r->body_length + length)
                want *= 2;
            if (want > limit)
                want = limit;
            uint8_t *grown = realloc(r->body, want);
            if (!grown) {
                r->body_truncated = true;
                http_parser_pause(hp, 1);
                return 0;
            }
            r->body = grown;
            c->body_capacity = want;
        }
        memcpy(r->body + r->body_length, at, length);
        r->body_length += length;
    }
    if (r->body_truncated)
        http_parser_pause(hp, 1); /* we have all we keep: stop reading */
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct conn *c = hp->data;
    c->message_complete = true;
    http_parser_pause(hp, 1); /* ignore anything after the response */
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Feeds `length` bytes (0 = end of stream) to the parser. Returns true when
 * the probe has ended (finished here). */
static bool feed_parser(struct conn *c, const char *data, size_t length)
{
    http_parser_execute(&c->parser, &parser_settings, data, length);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (c->message_complete || c->r.body_truncated) {
        conn_finish(c, PROBE_OK, NULL);
        return true;
    }
    if (c->headers_too_big) {
        conn_finish(c, PROBE_HTTP_ERROR, "response headers exceed %zu bytes",
                    c->w->pool->cfg.max_header_bytes);
        return true;
    }
    if (e != HPE_OK && e != HPE_PAUSED) {
        if (length == 0 && e == HPE_INVALID_EOF_STATE)
            conn_finish(c, PROBE_CLOSED, "connection closed mid-response");
        else
            conn_finish(c, PROBE_HTTP_ERROR, "HTTP parse error: %s", http_errno_description(e));
        return true;
    }
    if (length == 0) {
        conn_finish(c, PROBE_CLOSED, c->got_response_bytes ? "connection closed mid-response"
                                                           : "connection closed before a response");
        return true;
    }
    return false;
}

static void conn_read(struct conn *c)
{
    struct worker *w = c->w;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(c->ssl, w->read_buffer, READ_BUFFER_BYTES);
        if (n > 0) {
            c->got_response_bytes = true;
            if (feed_parser(c, w->read_buffer, (size_t)n))
                return;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
            feed_parser(c, NULL, 0);
            return;
        }
        if (e == SSL_ERROR_SYSCALL) {
            conn_finish(c, PROBE_CLOSED, "%s while reading the response", strerror(errno));
            return;
        }
        char text[256];
        ssl_error_text(text, sizeof(text));
        conn_finish(c, PROBE_TLS_ERROR, "TLS error while reading the response: %s", text);
        return;
    }
}

static void start_reading(struct conn *c)
{
    c->state = CONN_READING;
    /* The answer cannot be there yet: anything that arrives from now on
     * raises a new (edge-triggered) event, and what came before was read
     * with the handshake unless that read filled its buffer. */
    c->skip_read = !c->last_read_full;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    conn_read(c);
}

static size_t build_request(struct conn *c)
{
    struct worker *w = c->w;
    struct probe_pool *p = w->pool;
    uint32_t a = c->r.addr;
    char host[32];
    int n = snprintf(host, sizeof(host), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                     (a >> 8) & 255, a & 255);
    if (c->r.port != 443)
        snprintf(host + n, sizeof(host) - (size_t)n, ":%u", c->r.port);
    int length = snprintf(w->request, w->request_capacity,
                          "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                          "Accept: application/json\r\nConnection: close\r\n\r\n",
                          p->path, host, p->user_agent);
    return (size_t)length;
}

/* ------------------------------------------------ the connection's BIO */

/*
 * OpenSSL reads and writes through this BIO. Reads go straight to read(2)
 * (but see skip_read). Writes go into c->out and flushes do nothing;
 * the pool sends c->out itself when the handshake waits for the peer, and
 * after the request. So the client Finished and the HTTP request leave in
 * one send() and one packet instead of two.
 */
static BIO_METHOD *conn_bio_method;

static int conn_bio_write(BIO *b, const char *data, int length)
{
    struct conn *c = BIO_get_data(b);
    if (length <= 0)
        return 0;
    if (c->out_length + (size_t)length > c->out_capacity) {
        size_t want = c->out_capacity ? c->out_capacity : 2048;
        while (want < c->out_length + (size_t)length)
            want *= 2;
        char *grown = realloc(c->out, want);
        if (!grown)
            return -1;
        c->out = grown;
        c->out_capacity = want;
    }
    memcpy(c->out + c->out_length, data, (size_t)length);
    c->out_length += (size_t)length;
    return length;
}

static int conn_bio_read(BIO *b, char *buffer, int length)
{
    struct conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->skip_read) {
        c->skip_read = false;
        BIO_set_retry_read(b);
        return -1;
    }
    ssize_t n = read(c->fd, buffer, (size_t)length);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_read(b);
        return -1;
    }
    c->last_read_full = n == length;
    return (int)n;
}

static long conn_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_PUSH || cmd == BIO_CTRL_POP;
}

static int conn_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_conn_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kubesurvey conn");
    if (m && BIO_meth_set_write(m, conn_bio_write) && BIO_meth_set_read(m, conn_bio_read) &&
        BIO_meth_set_ctrl(m, conn_bio_ctrl) && BIO_meth_set_create(m, conn_bio_create))
        conn_bio_method = m;
    else
        BIO_meth_free(m);
}

/* Sends what OpenSSL wrote. 1 all sent, 0 the socket is full (wait for
 * EPOLLOUT), -1 error (errno). */
static int conn_flush(struct conn *c)
{
    while (c->out_sent < c->out_length) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_length - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->out_sent += (size_t)n;
    }
    c->out_length = c->out_sent = 0;
    return 1;
}

/* ------------------------------------------------------ request and TLS */

static void conn_write(struct conn *c)
{
    if (!c->request_queued) {
        size_t length = build_request(c);
        ERR_clear_error();
        if (SSL_write(c->ssl, c->w->request, (int)length) <= 0) {
            char text[256];
            ssl_error_text(text, sizeof(text));
            conn_finish(c, PROBE_TLS_ERROR, "TLS error while sending the request: %s", text);
            return;
        }
        c->request_queued = true;
    }
    int sent = conn_flush(c);
    if (sent == 0)
        return; /* EPOLLOUT brings us back */
    if (sent < 0) {
        conn_finish(c, PROBE_CLOSED, "%s while sending the request", strerror(errno));
        return;
    }
    start_reading(c);
}

/* Copies the peer's chain (leaf first) as DER with SHA-256 into c->r. */
static void capture_chain(struct conn *c)
{
    struct probe_result *r = &c->r;
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    int count = chain ? sk_X509_num(chain) : 0;
    if (count == 0)
        return;
    if (count > PROBE_CHAIN_MAX) {
        r->chain_truncated = true;
        count = PROBE_CHAIN_MAX;
    }
    for (int i = 0; i < count; i++) {
        unsigned char *der = NULL;
        int length = i2d_X509(sk_X509_value(chain, i), &der);
        if (length <= 0)
            break;
        struct cert_der *cert = &r->chain[r->chain_length++];
        /* i2d allocates with OPENSSL_malloc; hand the user plain malloc'ed
         * memory so probe_result_free's free() is right whatever the build. */
        cert->der = malloc((size_t)length);
        if (!cert->der) {
            OPENSSL_free(der);
            r->chain_length--;
            break;
        }
        memcpy(cert->der, der, (size_t)length);
        OPENSSL_free(der);
        cert->length = (size_t)length;
        unsigned int md_length = 0;
        EVP_DigestInit_ex2(c->w->md_ctx, c->w->pool->sha256, NULL);
        EVP_DigestUpdate(c->w->md_ctx, cert->der, cert->length);
        EVP_DigestFinal_ex(c->w->md_ctx, cert->sha256, &md_length);
    }
}

static void capture_tls(struct conn *c)
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
    capture_chain(c);
}

static void conn_handshake(struct conn *c)
{
    /* A flight OpenSSL wrote earlier must be out before we wait for more. */
    int sent = c->out_length ? conn_flush(c) : 1;
    if (sent == 0)
        return;
    ERR_clear_error();
    errno = 0;
    int rc = sent < 0 ? -1 : SSL_do_handshake(c->ssl);
    if (rc == 1) {
        capture_tls(c);
        c->state = CONN_WRITING;
        c->phase_deadline = c->w->now + c->w->pool->cfg.response_timeout_ms;
        conn_write(c); /* the Finished goes out with the request */
        return;
    }
    int e = sent < 0 ? SSL_ERROR_SYSCALL : SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        sent = conn_flush(c);
        if (sent >= 0)
            return;
        e = SSL_ERROR_SYSCALL;
    }
    int saved_errno = errno;
    char text[256];
    if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(text, sizeof(text), "connection closed during the TLS handshake");
    else if (e == SSL_ERROR_SYSCALL)
        snprintf(text, sizeof(text), "%s during the TLS handshake",
                 saved_errno ? strerror(saved_errno) : "connection closed");
    else
        ssl_error_text(text, sizeof(text));
    capture_chain(c); /* the certificate may have come before the failure */
    conn_finish(c, PROBE_TLS_ERROR, "%s", text);
}

static void conn_connected(struct conn *c, uint32_t events)
{
    struct worker *w = c->w;
    if (!c->ssl) {
        c->ssl = SSL_new(w->pool->ssl_ctx);
        BIO *bio = c->ssl ? BIO_new(conn_bio_method) : NULL;
        if (!bio) {
            SSL_free(c->ssl);
            c->ssl = NULL;
            conn_finish(c, PROBE_INTERNAL_ERROR, "out of memory for a TLS connection");
            return;
        }
        BIO_set_data(bio, c);
        SSL_set_bio(c->ssl, bio, bio);
    }
    SSL_set_connect_state(c->ssl);
    c->state = CONN_HANDSHAKE;
    c->phase_deadline = w->now + w->pool->cfg.handshake_timeout_ms;
    /* A TLS server says nothing before our ClientHello; unless the event
     * says data is there (a banner), do not spend a read() to hear that. */
    c->skip_read = !(events & EPOLLIN);
    conn_handshake(c);
}

/* --------------------------------------------------------- TCP connect */

static void conn_start(struct worker *w, struct target t)
{
    struct probe_pool *p = w->pool;
    struct conn *c = &w->conns[w->free_list[--w->free_count]];
    w->active++;
    probe_result_init(&c->r);
    c->r.addr = t.addr;
    c->r.port = t.port;
    c->r.started_ms = realtime_ms();
    c->started_mono = w->now;
    c->total_deadline = w->now + p->cfg.total_timeout_ms;
    c->phase_deadline = w->now + p->cfg.connect_timeout_ms;
    c->state = CONN_CONNECTING;
    c->header_bytes = 0;
    c->message_complete = c->headers_too_big = c->in_header_field = false;
    c->got_response_bytes = false;
    c->out_length = c->out_sent = 0;
    c->request_queued = false;
    c->skip_read = c->last_read_full = false;
    c->keeping = KEEP_NONE;
    c->body_capacity = 0;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_finish(c, PROBE_INTERNAL_ERROR, "socket: %s", strerror(errno));
        return;
    }
    /* Close with RST: no FIN handshake and no TIME_WAIT per probe (the
     * request said Connection: close; we never send after the response). */
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(t.port),
                             .sin_addr.s_addr = htonl(t.addr)};
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        int saved = errno;
        if (saved == ECONNREFUSED)
            conn_finish(c, PROBE_REFUSED, "connection refused");
        else
            conn_finish(c, PROBE_CONNECT_ERROR, "connect: %s", strerror(saved));
        return;
    }
    /* Edge-triggered: each handler works until the socket would block, so
     * one registration serves the whole probe. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        conn_finish(c, PROBE_INTERNAL_ERROR, "epoll_ctl: %s", strerror(errno));
}

static void conn_event(struct conn *c, uint32_t events)
{
    switch (c->state) {
    case CONN_CONNECTING:
        if (events & (EPOLLERR | EPOLLHUP)) {
            int error = 0;
            socklen_t length = sizeof(error);
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error == ECONNREFUSED)
                conn_finish(c, PROBE_REFUSED, "connection refused");
            else
                conn_finish(c, PROBE_CONNECT_ERROR, "connect: %s",
                            strerror(error ? error : ECONNABORTED));
        } else if (events & EPOLLOUT) {
            conn_connected(c, events);
        }
        break;
    case CONN_HANDSHAKE:
        conn_handshake(c);
        break;
    case CONN_WRITING:
        conn_write(c);
        break;
    case CONN_READING:
        conn_read(c);
        break;
    case CONN_FREE:
        break;
    }
}

static void conn_check_deadline(struct conn *c, int64_t now)
{
    if (c->state == CONN_FREE)
        return;
    bool total = now >= c->total_deadline;
    if (now < c->phase_deadline && !total)
        return;
    const struct probe_config *cfg = &c->w->pool->cfg;
    const char *which = total ? "total deadline" : "phase timeout";
    switch (c->state) {
    case CONN_CONNECTING:
        conn_finish(c, PROBE_CONNECT_TIMEOUT, "no answer to connect (%s, %u ms)", which,
                    total ? cfg->total_timeout_ms : cfg->connect_timeout_ms);
        break;
    case CONN_HANDSHAKE:
        capture_chain(c);
        conn_finish(c, PROBE_TLS_TIMEOUT, "TLS handshake not done (%s, %u ms)", which,
                    total ? cfg->total_timeout_ms : cfg->handshake_timeout_ms);
        break;
    case CONN_WRITING:
    case CONN_READING:
        conn_finish(c, PROBE_HTTP_TIMEOUT, "no complete response (%s, %u ms)", which,
                    total ? cfg->total_timeout_ms : cfg->response_timeout_ms);
        break;
    case CONN_FREE:
        break;
    }
}

/* ---------------------------------------------------------- the loop */

/* Moves queued targets into free slots. Called with pool->lock held. */
static unsigned take_queued(struct worker *w, struct target *out, unsigned max)
{
    unsigned n = 0;
    unsigned capacity = w->slots;
    while (n < max && w->queue_length > 0) {
        out[n++] = w->queue[w->queue_head];
        w->queue_head = (w->queue_head + 1) % capacity;
        w->queue_length--;
    }
    return n;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct probe_pool *p = w->pool;
    struct epoll_event events[EVENTS_PER_WAIT];
    struct target batch[64];
    int64_t next_sweep = 0;

    for (;;) {
        w->now = monotonic_ms();
        /* Start what is queued, as far as slots allow. */
        bool stop = false;
        for (;;) {
            unsigned want = w->free_count < 64 ? w->free_count : 64;
            pthread_mutex_lock(&p->lock);
            unsigned n = take_queued(w, batch, want);
            if (n > 0)
                pthread_cond_broadcast(&p->not_full);
            stop = p->stopping && w->queue_length == 0 && w->active == 0 && n == 0;
            w->sleeping = (w->queue_length == 0 && w->free_count > n);
            pthread_mutex_unlock(&p->lock);
            for (unsigned i = 0; i < n; i++)
                conn_start(w, batch[i]);
            if (n < 64)
                break;
        }
        if (stop)
            break;

        int timeout = -1;
        if (w->active > 0)
            timeout = next_sweep > w->now ? (int)(next_sweep - w->now) : 0;
        int n = epoll_wait(w->epoll_fd, events, EVENTS_PER_WAIT, timeout);
        w->now = monotonic_ms();
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) {
                uint64_t count;
                if (read(w->wake_fd, &count, sizeof(count)) < 0) { /* spurious: fine */ }
                pthread_mutex_lock(&p->lock);
                w->wake_pending = false;
                pthread_mutex_unlock(&p->lock);
                continue;
            }
            conn_event(events[i].data.ptr, events[i].events);
        }
        if (w->now >= next_sweep) {
            for (unsigned i = 0; i < w->slots; i++)
                conn_check_deadline(&w->conns[i], w->now);
            next_sweep = w->now + SWEEP_INTERVAL_MS;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the pool */

static int raise_fd_limit(rlim_t need, unsigned concurrency, char *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, KS_ERRLEN, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        rl.rlim_max = need; /* only root may raise it; try */
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        snprintf(err, KS_ERRLEN,
                 "--concurrency %u needs %llu file descriptors but RLIMIT_NOFILE allows %llu "
                 "(hard limit) and cannot be raised: %s; lower --concurrency or raise the "
                 "limit (ulimit -Hn)",
                 concurrency, (unsigned long long)need, (unsigned long long)rl.rlim_max,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int accept_any_chain(X509_STORE_CTX *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return 1; /* verdict computed offline from the stored chain */
}

static SSL_CTX *make_ssl_ctx(const struct probe_config *cfg, char *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
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
    return ctx;
}

static void worker_destroy(struct worker *w)
{
    for (unsigned i = 0; w->conns && i < w->slots; i++) {
        SSL_free(w->conns[i].ssl); /* frees the BIOs too */
        free(w->conns[i].out);
    }
    free(w->conns);
    free(w->free_list);
    free(w->queue);
    free(w->read_buffer);
    free(w->request);
    EVP_MD_CTX_free(w->md_ctx);
    if (w->epoll_fd >= 0)
        close(w->epoll_fd);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
}

static int worker_init(struct worker *w, struct probe_pool *p, unsigned slots, char *err)
{
    memset(w, 0, sizeof(*w));
    w->pool = p;
    w->slots = slots;
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->epoll_fd < 0 || w->wake_fd < 0) {
        snprintf(err, KS_ERRLEN, "epoll/eventfd: %s", strerror(errno));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->wake_fd, &ev) < 0) {
        snprintf(err, KS_ERRLEN, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    w->request_capacity = strlen(p->user_agent) + strlen(p->path) + 256;
    w->conns = calloc(slots, sizeof(*w->conns));
    w->free_list = calloc(slots, sizeof(*w->free_list));
    w->queue = calloc(slots, sizeof(*w->queue));
    w->read_buffer = malloc(READ_BUFFER_BYTES);
    w->request = malloc(w->request_capacity);
    w->md_ctx = EVP_MD_CTX_new();
    if (!w->conns || !w->free_list || !w->queue || !w->read_buffer || !w->request ||
        !w->md_ctx) {
        snprintf(err, KS_ERRLEN, "out of memory for %u connection slots", slots);
        return -1;
    }
    for (unsigned i = 0; i < slots; i++) {
        w->conns[i].fd = -1;
        w->conns[i].w = w;
        w->free_list[i] = slots - 1 - i;
    }
    w->free_count = slots;
    return 0;
}

static void pool_free(struct probe_pool *p)
{
    for (unsigned i = 0; p->workers && i < p->nworkers; i++)
        worker_destroy(&p->workers[i]);
    free(p->workers);
    SSL_CTX_free(p->ssl_ctx);
    EVP_MD_free(p->sha256);
    free(p->user_agent);
    free(p->path);
    pthread_cond_destroy(&p->not_full);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static bool is_printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

int probe_pool_reserve_fds(const struct probe_config *cfg_in, char *err)
{
    struct probe_config cfg = *cfg_in;
    probe_config_defaults(&cfg);
    if (cfg.threads > cfg.concurrency)
        cfg.threads = cfg.concurrency;
    return raise_fd_limit((rlim_t)cfg.concurrency + 2 * cfg.threads + 64, cfg.concurrency, err);
}

int probe_pool_create(struct probe_pool **out, const struct probe_config *cfg_in,
                      probe_done_fn done, void *ctx, char *err)
{
    *out = NULL;
    struct probe_config cfg = *cfg_in;
    probe_config_defaults(&cfg);
    if (!is_printable_ascii(cfg.user_agent) || !is_printable_ascii(cfg.path) ||
        cfg.path[0] != '/') {
        snprintf(err, KS_ERRLEN, "user agent and path must be printable ASCII (path from '/')");
        return -1;
    }
    static pthread_once_t bio_method_once = PTHREAD_ONCE_INIT;
    pthread_once(&bio_method_once, make_conn_bio_method);
    if (!conn_bio_method) {
        snprintf(err, KS_ERRLEN, "cannot create an OpenSSL BIO method");
        return -1;
    }
    if (cfg.threads > cfg.concurrency)
        cfg.threads = cfg.concurrency;
    /* Descriptors: one per connection, two per thread, some for the rest. */
    rlim_t need = (rlim_t)cfg.concurrency + 2 * cfg.threads + 64;
    if (raise_fd_limit(need, cfg.concurrency, err) < 0)
        return -1;

    struct probe_pool *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->not_full, NULL);
    p->cfg = cfg;
    p->done = done;
    p->ctx = ctx;
    p->user_agent = strdup(cfg.user_agent);
    p->path = strdup(cfg.path);
    p->cfg.user_agent = p->user_agent;
    p->cfg.path = p->path;
    if (!cfg.no_fast_keys)
        probes_fast_keys_install(); /* optional: on failure OpenSSL's defaults stay */
    p->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    p->ssl_ctx = p->sha256 ? make_ssl_ctx(&cfg, err) : NULL;
    p->workers = calloc(cfg.threads, sizeof(*p->workers));
    if (!p->user_agent || !p->path || !p->sha256 || !p->ssl_ctx || !p->workers) {
        if (p->ssl_ctx || !p->sha256)
            snprintf(err, KS_ERRLEN, "out of memory or OpenSSL without SHA-256");
        pool_free(p);
        return -1;
    }
    for (unsigned i = 0; i < cfg.threads; i++) {
        unsigned slots = cfg.concurrency / cfg.threads + (i < cfg.concurrency % cfg.threads);
        p->nworkers = i + 1;
        if (worker_init(&p->workers[i], p, slots, err) < 0) {
            pool_free(p);
            return -1;
        }
    }
    for (unsigned i = 0; i < p->nworkers; i++) {
        int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        if (rc != 0) {
            snprintf(err, KS_ERRLEN, "pthread_create: %s", strerror(rc));
            pthread_mutex_lock(&p->lock);
            p->stopping = true;
            pthread_mutex_unlock(&p->lock);
            for (unsigned j = 0; j < i; j++) {
                uint64_t one = 1;
                if (write(p->workers[j].wake_fd, &one, sizeof(one)) < 0) { /* full: awake */ }
                pthread_join(p->workers[j].thread, NULL);
            }
            pool_free(p);
            return -1;
        }
    }
    *out = p;
    return 0;
}

static void wake(struct worker *w)
{
    uint64_t one = 1;
    if (write(w->wake_fd, &one, sizeof(one)) < 0) { /* counter full: it is awake */ }
}

static int submit(struct probe_pool *p, uint32_t addr, uint16_t port, bool may_block)
{
    pthread_mutex_lock(&p->lock);
    struct worker *chosen = NULL;
    for (;;) {
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            return -1;
        }
        /* Round robin, skipping full queues. */
        for (unsigned k = 0; k < p->nworkers && !chosen; k++) {
            struct worker *w = &p->workers[(p->next_worker + k) % p->nworkers];
            if (w->queue_length < w->slots)
                chosen = w;
        }
        if (chosen)
            break;
        if (!may_block) {
            pthread_mutex_unlock(&p->lock);
            return -1;
        }
        pthread_cond_wait(&p->not_full, &p->lock);
    }
    p->next_worker = (unsigned)(chosen - p->workers + 1) % p->nworkers;
    unsigned tail = (chosen->queue_head + chosen->queue_length) % chosen->slots;
    chosen->queue[tail] = (struct target){addr, port};
    chosen->queue_length++;
    bool need_wake = chosen->sleeping && !chosen->wake_pending;
    if (need_wake)
        chosen->wake_pending = true;
    atomic_fetch_add(&p->submitted, 1);
    pthread_mutex_unlock(&p->lock);
    if (need_wake)
        wake(chosen);
    return 0;
}

int probe_pool_submit(struct probe_pool *p, uint32_t addr, uint16_t port)
{
    return submit(p, addr, port, true);
}

int probe_pool_try_submit(struct probe_pool *p, uint32_t addr, uint16_t port)
{
    return submit(p, addr, port, false);
}

void probe_pool_stats(struct probe_pool *p, struct probe_pool_stats *out)
{
    out->submitted = atomic_load(&p->submitted);
    out->completed = atomic_load(&p->completed);
    for (int i = 0; i < PROBE_OUTCOME_COUNT; i++)
        out->by_outcome[i] = atomic_load(&p->by_outcome[i]);
}

int probe_pool_finish(struct probe_pool *p, char *err)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->not_full);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nworkers; i++)
        wake(&p->workers[i]);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    uint64_t submitted = atomic_load(&p->submitted), completed = atomic_load(&p->completed);
    pool_free(p);
    if (submitted != completed) {
        snprintf(err, KS_ERRLEN, "%llu probes submitted but %llu completed",
                 (unsigned long long)submitted, (unsigned long long)completed);
        return -1;
    }
    return 0;
}
