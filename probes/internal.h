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
#include <sys/types.h>

/* k8s_cert_inspect and k8s_classify on an already parsed leaf (the pool
 * has it from the handshake; parsing the DER again would cost as much). */
void k8s_cert_inspect_x509(X509 *cert, struct k8s_cert_facts *out);
void k8s_classify_with_leaf(struct probe_result *r, X509 *leaf);

/* fastkey.c: legacy (cheap) public key decoding for EC and RSA; true if
 * installed. Once per process; see the comment there. */
bool probes_fast_keys_install(void);

/* fastkdf.c: the TLS 1.3 key schedule as a provider built into the
 * process; the property query that prefers it for an SSL_CTX, or NULL if
 * it could not be loaded (OpenSSL's own stays). Once per process. */
const char *probes_fast_kdf_install(void);

/* Frees and resets the fields k8s_classify fills in (result.c). */
void probe_result_clear_classification(struct probe_result *r);

/* ------------------------------------------------------------------------
 * The worker pool.
 *
 * A few threads (worker.c), each an epoll loop over many non-blocking
 * connection slots (conn.c) going through
 *
 *     CONNECTING -> HANDSHAKE -> WRITING -> READING -> (done)
 *
 * with a deadline per phase and one for the whole probe. conn.c knows no
 * protocol: it drives two interfaces, as curl's connection filters do.
 *  - a transport (struct transport): the byte stream over the socket.
 *    tcp.c (plain bytes) and tls.c (OpenSSL over the BIO of bio.c);
 *  - a module (struct probe_module): what one survey target is asked and
 *    how the answer is read and classified. The HTTP exchange every module
 *    uses today is http.c (request, response parser); the modules are the
 *    mod_*.c files, listed once in module.c's registry.
 * Lower layers report (enum io_status, struct io_failure); only conn.c
 * ends a probe. No file of probes/ calls another that calls it back.
 * ---------------------------------------------------------------------- */

#define READ_BUFFER_BYTES 16384 /* one TLS record */
#define HEADER_NAME_MAX 64      /* longer names are none we keep */

enum conn_state { CONN_FREE, CONN_CONNECTING, CONN_HANDSHAKE, CONN_WRITING, CONN_READING };

struct conn;

/* What a layer reports to the connection. */
enum io_status { IO_DONE = 0, IO_AGAIN = 1, IO_FAILED = -1 };

/* Why a layer failed: the probe's outcome and its reason. */
struct io_failure {
    enum probe_outcome outcome;
    bool wrong_protocol;      /* the peer does not speak this transport at all
                                 (a module may then try its fallback) */
    char text[KS_ERRLEN];
};

/* read() of a transport: bytes (> 0), end of stream (0), or one of these. */
#define IO_READ_AGAIN ((ssize_t)-1)
#define IO_READ_FAILED ((ssize_t)-2)

/* A byte stream over the connected socket (tcp.c, tls.c). */
struct transport {
    const char *name;            /* "tcp", "tls" */
    bool secure;                 /* an https-like scheme (default port 443, not 80) */
    const char *handshake_name;  /* for timeouts: "TLS handshake" */
    enum probe_outcome handshake_timeout; /* the outcome of a handshake past its deadline */
    /* TCP is connected. events: what epoll said (EPOLLIN: the server spoke
     * first). IO_DONE: ready for the request; IO_AGAIN: handshaking. */
    enum io_status (*start)(struct conn *c, uint32_t events, struct io_failure *f);
    /* Continues the handshake (state HANDSHAKE). */
    enum io_status (*handshake)(struct conn *c, struct io_failure *f);
    /* Queues the request through the layer into the connection's output
     * (conn_flush sends it). */
    enum io_status (*write)(struct conn *c, const char *data, size_t length,
                            struct io_failure *f);
    /* Reads what has arrived: bytes, 0 at the end, IO_READ_AGAIN or
     * IO_READ_FAILED (f filled). */
    ssize_t (*read)(struct conn *c, char *buffer, size_t size, struct io_failure *f);
    /* The handshake ends unfinished (deadline): keep what it saw. 0, or -1
     * with f filled (the probe then ends with f's outcome). */
    int (*abandon)(struct conn *c, struct io_failure *f);
    /* The peer's leaf certificate, if any (for classification). */
    X509 *(*leaf)(struct conn *c);
    /* Before the slot's next connection, and when the pool frees it. */
    void (*reset)(struct conn *c);
    void (*destroy)(struct conn *c);
};

extern const struct transport transport_tcp;
extern const struct transport transport_tls;

/* What a module asks and how it reads the answer (http.c is the one today). */
struct probe_protocol {
    const char *name;            /* "http" */
    enum probe_outcome response_timeout; /* the outcome past the response deadline */
    /* The request into buffer (capacity bytes); its length. */
    size_t (*request)(struct conn *c, char *buffer, size_t capacity);
    /* A new response begins (resets the parser). */
    void (*begin)(struct conn *c);
    /* More of the response (length 0: the stream ended). false while more is
     * needed; true when the probe is over: *outcome, and unless PROBE_OK the
     * reason. */
    bool (*feed)(struct conn *c, const char *data, size_t length, enum probe_outcome *outcome,
                 char *reason, size_t size);
};

extern const struct probe_protocol protocol_http;

/* One survey target kind (mod_*.c), as ZMap's probe modules: adding one is
 * a new file defining this struct plus its line in module.c's registry. */
struct probe_module {
    const char *name;            /* "apiserver", the --module / record name */
    const char *summary;         /* one line for --modules */
    const struct transport *transport;  /* the first tried */
    const struct transport *fallback;   /* tried when the peer does not speak the
                                           first at all; NULL: none */
    const struct probe_protocol *protocol;
    const char *path;            /* the HTTP request path */
    const uint16_t *default_ports; /* ends with 0 */
    /* Fills the record's classification and findings from what was captured
     * (leaf: the peer's certificate, or NULL). */
    void (*classify)(struct probe_result *r, X509 *leaf);
};

/* The parsers of the modules, pure (tests/fuzz feeds them):
 * kubelet_finding: what a kubelet's /healthz answer says (a
 * RECORD_FINDING_* string, or NULL when it is no kubelet's), on the
 * authenticated port or the read-only one (mod_kubelet.c);
 * etcd_version_parse: etcd's /version body; 0 and *server (and *cluster if
 * given) malloc'ed, or -1 and both NULL (mod_etcd.c). */
const char *kubelet_finding(int status, const uint8_t *body, size_t length, bool readonly);
int etcd_version_parse(const uint8_t *body, size_t length, char **server, char **cluster);

/* The registry (module.c), by index (probe_target.module). */
const struct probe_module *probe_module_get(unsigned index);

/* The HTTP exchange's state in a slot (http.c). */
struct http_response {
    http_parser parser;
    size_t header_bytes;
    bool message_complete;
    bool headers_too_big;
    bool in_header_field;     /* the parser is giving us a header name */
    bool got_bytes;           /* some of the response arrived */
    char header_name[HEADER_NAME_MAX + 1];
    size_t header_name_length;
    int keeping;              /* index of the kept header being read, -1 none */
    size_t body_capacity;
    size_t max_header_bytes, max_body_bytes;
    struct probe_result *r;   /* filled */
};

/* The response parser without a connection (the HTTP protocol feeds it; so
 * does tests/fuzz): begin resets h to fill r within the limits; feed parses
 * `length` more bytes (0 = the stream ended); false while more is needed,
 * true when over, with the outcome and, unless PROBE_OK, the reason. */
void http_response_begin(struct http_response *h, struct probe_result *r,
                         size_t max_header_bytes, size_t max_body_bytes);
bool http_response_feed(struct http_response *h, const char *data, size_t length,
                        enum probe_outcome *outcome, char *reason, size_t size);

struct worker;

/* One connection slot; reused probe after probe. */
struct conn {
    enum conn_state state;
    int fd;
    const struct probe_module *module;
    const struct transport *transport;
    struct probe_target target;
    SSL *ssl;                 /* tls.c's: created on first use, then SSL_clear'ed */
    bool skip_read;           /* next read: say "nothing yet" without read() */
    bool last_read_full;      /* the last read() filled its buffer: more may wait */
    int first_byte;           /* the first byte the server sent, -1 before */
    char *out;                /* what a transport wrote, not yet sent */
    size_t out_length, out_sent, out_capacity;
    bool request_queued;
    struct worker *w;
    struct probe_result r;
    int64_t phase_deadline;   /* monotonic ms */
    int64_t total_deadline;
    int64_t started_mono;
    bool got_bytes;           /* this attempt read something from the server */
    unsigned attempts;        /* connections started again (cfg.retries at most) */
    struct http_response http;
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
    struct probe_target *queue;
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
void conn_start(struct worker *w, const struct probe_target *t);
/* What epoll said about c's socket, by state. */
void conn_event(struct conn *c, uint32_t events);
/* Ends the probe on c if its phase or total deadline has passed. */
void conn_check_deadline(struct conn *c, int64_t now);

/* io.c: the connection's output, corked until the connection sends it. */
/* Appends to c->out; -1 when out of memory. */
int conn_out_append(struct conn *c, const char *data, size_t length);
/* Sends c->out. 1 all sent, 0 the socket is full (wait for EPOLLOUT), -1
 * error (errno). */
int conn_flush(struct conn *c);
/* read(2) of c's socket, noting got_bytes, first_byte and last_read_full. */
ssize_t conn_read_socket(struct conn *c, char *buffer, size_t size);

/* bio.c */
/* The BIO method of every connection; once per process. 0, or -1 if
 * OpenSSL could not make it. */
int conn_bio_method_init(void);
/* A new BIO over c's socket and output buffer; NULL when out of memory. */
BIO *conn_bio_new(struct conn *c);

/* tls.c */
/* The pool's one SSL_CTX; NULL with err filled on failure. */
SSL_CTX *tls_ctx_new(const struct probe_config *cfg, char *err);
/* Text of the first OpenSSL error queued on this thread (and clears it). */
void tls_error_text(char *out, size_t size);

/* worker.c */
int worker_init(struct worker *w, struct probe_pool *p, unsigned slots, char *err);
void worker_destroy(struct worker *w);
void *worker_main(void *arg);

#endif
