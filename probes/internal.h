/*
 * internal.h - shared between the files of probes/ only (not part of the
 * module's interface, which is probes.h).
 */
#ifndef KS_PROBES_INTERNAL_H
#define KS_PROBES_INTERNAL_H

#include "probes/probes.h"

#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>

/* k8s_cert_inspect and k8s_classify on an already parsed leaf (the pool
 * has it from the handshake; parsing the DER again would cost as much). */
void k8s_cert_inspect_x509(X509 *cert, struct k8s_cert_facts *out);
void k8s_classify_with_leaf(struct probe_result *r, X509 *leaf);

/* fastkey.c: legacy (cheap) public key decoding for EC and RSA; true if
 * installed. Once per process; see the comment there. */
bool probes_fast_keys_install(void);

/* Frees and resets the fields k8s_classify fills in (result.c). */
void probe_result_clear_classification(struct probe_result *r);

/* ------------------------------------------------------------------------
 * The worker pool (pool.c, worker.c, conn.c, tls.c, bio.c, http.c).
 *
 * A few threads, each an epoll loop over many non-blocking connections
 * going through
 *
 *     CONNECTING -> HANDSHAKE -> WRITING -> READING -> (done)
 *
 * with a deadline per phase and one for the whole probe. Layers, bottom up:
 * conn.c (a slot, TCP connect, deadlines, ending a probe), bio.c (the BIO
 * OpenSSL reads and writes through), tls.c (handshake, chain capture),
 * http.c (request and response), worker.c (one thread's loop), pool.c
 * (threads, queues, submit).
 * ---------------------------------------------------------------------- */

#define READ_BUFFER_BYTES 16384 /* one TLS record */
#define HEADER_NAME_MAX 64      /* longer names are none we keep */

enum conn_state { CONN_FREE, CONN_CONNECTING, CONN_HANDSHAKE, CONN_WRITING, CONN_READING };

/* The response headers we keep, and where they go in probe_result. */
enum kept_header { KEEP_NONE = -1, KEEP_SERVER, KEEP_CONTENT_TYPE, KEEP_AUDIT_ID,
                   KEEP_PF_FLOWSCHEMA, KEEP_PF_PRIORITYLEVEL, KEEP_COUNT };

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
    bool got_bytes;           /* this attempt read something from the server */
    unsigned attempts;        /* connections started again (cfg.retries at most) */
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
    atomic_uint_fast64_t retries, recovered;
};

/* conn.c */
int64_t monotonic_ms(void);
/* Takes a free slot of w and connects it to t (the probe may end at once). */
void conn_start(struct worker *w, struct target t);
/* Ends the probe on c with outcome (and a reason unless fmt is NULL),
 * hands the result to the pool's `done` and frees the slot. */
void conn_finish(struct conn *c, enum probe_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* What epoll said about c's socket, by state. */
void conn_event(struct conn *c, uint32_t events);
/* Ends the probe on c if its phase or total deadline has passed. */
void conn_check_deadline(struct conn *c, int64_t now);

/* bio.c */
/* The BIO method of every connection; once per process. 0, or -1 if
 * OpenSSL could not make it. */
int conn_bio_method_init(void);
/* A new BIO over c's socket and output buffer; NULL when out of memory. */
BIO *conn_bio_new(struct conn *c);
/* Sends what OpenSSL wrote. 1 all sent, 0 the socket is full (wait for
 * EPOLLOUT), -1 error (errno). */
int conn_flush(struct conn *c);

/* tls.c */
/* The pool's one SSL_CTX; NULL with err filled on failure. */
SSL_CTX *tls_ctx_new(const struct probe_config *cfg, char *err);
/* TCP is up: create (or reuse) c's SSL and start the handshake. */
void tls_connected(struct conn *c, uint32_t events);
/* Continues the handshake; on success goes on to http_write. */
void tls_handshake(struct conn *c);
/* Copies the peer's chain (leaf first) as DER with SHA-256 into c->r.
 * 0, or -1 with `reason` filled if a digest failed (the probe must then
 * end with PROBE_INTERNAL_ERROR). */
int tls_capture_chain(struct conn *c, char *reason, size_t size);
/* Text of the first OpenSSL error queued on this thread (and clears it). */
void tls_error_text(char *out, size_t size);

/* http.c */
/* Queues the request (once) and sends; then reads the response. */
void http_write(struct conn *c);
/* Reads and parses what has arrived of the response. */
void http_read(struct conn *c);
/* The response parser without the socket (http_read feeds it; so does
 * tests/fuzz): begin resets it, feed parses `length` more bytes of the
 * response into c->r (0 = the stream ended). feed returns false while more
 * is needed; true when the probe is over, with its outcome and, unless
 * PROBE_OK, the reason in `reason`. Needs only c->w->pool->cfg's limits and
 * the parsing state of c, zeroed before the first probe. */
void http_response_begin(struct conn *c);
bool http_response_feed(struct conn *c, const char *data, size_t length,
                        enum probe_outcome *outcome, char *reason, size_t size);

/* worker.c */
int worker_init(struct worker *w, struct probe_pool *p, unsigned slots, char *err);
void worker_destroy(struct worker *w);
void *worker_main(void *arg);

#endif
