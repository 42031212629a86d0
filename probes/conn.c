/*
 * conn.c - one connection slot of a worker: taking it, the TCP connect,
 * the state machine that drives the target's transport (start, handshake,
 * write, read) and its module (request, response, classification),
 * deadlines, retries, and ending the probe (the one place a probe ends:
 * exactly one call of the user's `done`). It names no protocol: the
 * transport and the module are tables of functions (internal.h).
 */
#include "probes/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t monotonic_ms(void)
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

/* ------------------------------------------------------- ending a probe */

static void conn_release(struct conn *c)
{
    struct worker *w = c->w;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->transport->reset(c);
    c->state = CONN_FREE;
    w->free_list[w->free_count++] = (unsigned)(c - w->conns);
    w->active--;
}

/* Ends the probe on c with outcome (and a reason unless fmt is NULL),
 * classifies it by its module, hands it to the pool's `done` and frees the
 * slot. */
static void conn_finish(struct conn *c, enum probe_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
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
        int n = vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (c->attempts && n >= 0 && (size_t)n < sizeof(text))
            snprintf(text + n, sizeof(text) - (size_t)n, " (after %u %s)", c->attempts,
                     c->attempts == 1 ? "retry" : "retries");
        free(r->error);
        r->error = strdup(text);
    }
    int64_t elapsed = monotonic_ms() - c->started_mono;
    r->duration_ms = elapsed > 0 ? (uint32_t)elapsed : 0;
    r->all_ports_open = (c->target.flags & PROBE_TARGET_ALL_PORTS_OPEN) != 0;
    free(r->module);
    r->module = strdup(c->module->name);
    c->module->classify(r, c->transport->leaf(c));

    if (c->attempts && outcome != PROBE_CONNECT_TIMEOUT &&
        outcome != c->transport->handshake_timeout)
        atomic_fetch_add(&p->recovered, 1);
    struct probe_target target = c->target;
    conn_release(c);
    p->done(p->ctx, &target, r);
    memset(r, 0, sizeof(*r)); /* the callee owns the contents now */
    atomic_fetch_add(&p->by_outcome[outcome], 1);
    atomic_fetch_add(&p->completed, 1);
}

static void conn_failed(struct conn *c, const struct io_failure *f)
{
    conn_finish(c, f->outcome, "%s", f->text);
}

/* --------------------------------------------------------- TCP connect */

/* Takes a free slot and resets what the previous probe left in it. */
static struct conn *conn_take(struct worker *w, const struct probe_target *t)
{
    const struct probe_config *cfg = &w->pool->cfg;
    struct conn *c = &w->conns[w->free_list[--w->free_count]];
    w->active++;
    probe_result_init(&c->r);
    c->target = *t;
    c->module = probe_module_get(t->module);
    c->transport = c->module->transport;
    c->r.addr = t->addr;
    c->r.port = t->port;
    c->r.started_ms = realtime_ms();
    c->started_mono = w->now;
    c->total_deadline = w->now + cfg->total_timeout_ms;
    c->phase_deadline = w->now + cfg->connect_timeout_ms;
    c->state = CONN_CONNECTING;
    c->got_bytes = false;
    c->first_byte = -1;
    c->attempts = 0;
    c->out_length = c->out_sent = 0;
    c->request_queued = false;
    c->skip_read = c->last_read_full = false;
    return c;
}

/* Opens c's socket and starts connecting to its target (the probe may end
 * at once). */
static void conn_connect(struct conn *c)
{
    struct worker *w = c->w;
    const struct net_addr *a = &c->target.addr;
    bool v4 = net_addr_is_ipv4(a);
    c->fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_finish(c, PROBE_INTERNAL_ERROR, "socket: %s", strerror(errno));
        return;
    }
    /* Close with RST: no FIN handshake and no TIME_WAIT per probe (the
     * request said Connection: close; we never send after the response). */
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->target.port)};
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(c->target.port)};
    memcpy(&sa.sin_addr, a->bytes, 4);
    memcpy(&sa6.sin6_addr, a->bytes, 16);
    struct sockaddr *to = v4 ? (struct sockaddr *)&sa : (struct sockaddr *)&sa6;
    socklen_t to_length = v4 ? sizeof(sa) : sizeof(sa6);
    if (connect(c->fd, to, to_length) < 0 && errno != EINPROGRESS) {
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

void conn_start(struct worker *w, const struct probe_target *t)
{
    conn_connect(conn_take(w, t));
}

/* A new connection for the same probe, with fresh deadlines, over
 * `transport`. The old socket stays open until the new one has started
 * connecting, so the kernel cannot give the new one the same source port:
 * a new flow, not one a middlebox (or the server) still holds as broken.
 * One socket per worker over the budget at most, within fds_needed's
 * margin. */
static void conn_reconnect(struct conn *c, const struct transport *transport, int64_t now)
{
    const struct probe_config *cfg = &c->w->pool->cfg;
    int old_fd = c->fd;
    c->fd = -1;
    c->transport->reset(c);
    c->transport = transport;
    c->state = CONN_CONNECTING;
    c->phase_deadline = now + cfg->connect_timeout_ms;
    c->total_deadline = now + cfg->total_timeout_ms;
    c->got_bytes = false;
    c->first_byte = -1;
    c->out_length = c->out_sent = 0;
    c->request_queued = false;
    c->skip_read = c->last_read_full = false;
    conn_connect(c);
    close(old_fd); /* also leaves the epoll set */
}

/* The scanner saw this endpoint answer, so silence now is more likely a
 * lost packet than a dead host: a connect that timed out, or a handshake
 * that timed out before the server sent a single byte (our ClientHello or
 * its answer lost; a stateful middlebox that dropped the flow). Anything
 * the server did say (a refusal, an alert, a slow answer) is its answer and
 * is not retried. At most cfg.retries times, so a probe lasts at most
 * (retries + 1) x total. */
static bool conn_should_retry(const struct conn *c)
{
    if (c->attempts >= c->w->pool->cfg.retries)
        return false;
    return c->state == CONN_CONNECTING || (c->state == CONN_HANDSHAKE && !c->got_bytes);
}

static void conn_retry(struct conn *c, int64_t now)
{
    c->attempts++;
    atomic_fetch_add(&c->w->pool->retries, 1);
    conn_reconnect(c, c->transport, now);
}

/* The peer does not speak the transport at all (a plain HTTP server to a
 * TLS ClientHello): the module's fallback, once, on a new connection. What
 * the first attempt captured is dropped with it. */
static bool conn_fall_back(struct conn *c, const struct io_failure *f)
{
    const struct transport *fallback = c->module->fallback;
    if (!f->wrong_protocol || !fallback || c->transport == fallback)
        return false;
    struct probe_target t = c->target;
    int64_t started_ms = c->r.started_ms;
    probe_result_free(&c->r);
    c->r.addr = t.addr;
    c->r.port = t.port;
    c->r.started_ms = started_ms;
    conn_reconnect(c, fallback, c->w->now);
    return true;
}

/* ------------------------------------------------------ the exchange */

static void conn_read(struct conn *c);

/* The request is out: read the response. */
static void conn_start_reading(struct conn *c)
{
    c->state = CONN_READING;
    /* The answer cannot be there yet: anything that arrives from now on
     * raises a new (edge-triggered) event, and what came before was read
     * with the handshake unless that read filled its buffer. */
    c->skip_read = !c->last_read_full;
    c->module->protocol->begin(c);
    conn_read(c);
}

/* Queues the request (once) through the transport and sends it. */
static void conn_write(struct conn *c)
{
    struct worker *w = c->w;
    if (!c->request_queued) {
        struct io_failure f = {0};
        size_t length = c->module->protocol->request(c, w->request, w->request_capacity);
        if (length == 0) {
            conn_finish(c, PROBE_INTERNAL_ERROR, "request longer than %zu bytes",
                        w->request_capacity);
            return;
        }
        if (c->transport->write(c, w->request, length, &f) != IO_DONE) {
            conn_failed(c, &f);
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
    conn_start_reading(c);
}

/* The transport is ready: the request, with a fresh phase deadline. */
static void conn_ready(struct conn *c)
{
    c->state = CONN_WRITING;
    c->phase_deadline = c->w->now + c->w->pool->cfg.response_timeout_ms;
    conn_write(c);
}

static void conn_handshake_result(struct conn *c, enum io_status status,
                                  const struct io_failure *f)
{
    if (status == IO_DONE)
        conn_ready(c);
    else if (status == IO_FAILED && !conn_fall_back(c, f))
        conn_failed(c, f);
}

static void conn_handshake(struct conn *c)
{
    struct io_failure f = {0};
    conn_handshake_result(c, c->transport->handshake(c, &f), &f);
}

/* TCP is up: the transport starts. */
static void conn_connected(struct conn *c, uint32_t events)
{
    struct io_failure f = {0};
    c->state = CONN_HANDSHAKE;
    c->phase_deadline = c->w->now + c->w->pool->cfg.handshake_timeout_ms;
    conn_handshake_result(c, c->transport->start(c, events, &f), &f);
}

/* Feeds the module `length` bytes (0 = end of stream). True when the probe
 * has ended (finished here). */
static bool conn_feed(struct conn *c, const char *data, size_t length)
{
    enum probe_outcome outcome;
    char reason[256];
    if (!c->module->protocol->feed(c, data, length, &outcome, reason, sizeof(reason)))
        return false;
    if (outcome == PROBE_OK)
        conn_finish(c, PROBE_OK, NULL);
    else
        conn_finish(c, outcome, "%s", reason);
    return true;
}

static void conn_read(struct conn *c)
{
    struct worker *w = c->w;
    for (;;) {
        struct io_failure f = {0};
        ssize_t n = c->transport->read(c, w->read_buffer, READ_BUFFER_BYTES, &f);
        if (n > 0) {
            if (conn_feed(c, w->read_buffer, (size_t)n))
                return;
            continue;
        }
        if (n == 0)
            conn_feed(c, NULL, 0);
        else if (n == IO_READ_FAILED)
            conn_failed(c, &f);
        return;
    }
}

static void conn_connect_event(struct conn *c, uint32_t events)
{
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
}

void conn_event(struct conn *c, uint32_t events)
{
    switch (c->state) {
    case CONN_CONNECTING:
        conn_connect_event(c, events);
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

/* ----------------------------------------------------------- deadlines */

void conn_check_deadline(struct conn *c, int64_t now)
{
    if (c->state == CONN_FREE)
        return;
    bool total = now >= c->total_deadline;
    if (now < c->phase_deadline && !total)
        return;
    if (conn_should_retry(c)) {
        conn_retry(c, now);
        return;
    }
    const struct probe_config *cfg = &c->w->pool->cfg;
    const char *which = total ? "total deadline" : "phase timeout";
    struct io_failure f = {0};
    switch (c->state) {
    case CONN_CONNECTING:
        conn_finish(c, PROBE_CONNECT_TIMEOUT, "no answer to connect (%s, %u ms)", which,
                    total ? cfg->total_timeout_ms : cfg->connect_timeout_ms);
        break;
    case CONN_HANDSHAKE:
        if (c->transport->abandon(c, &f) < 0)
            conn_failed(c, &f);
        else
            conn_finish(c, c->transport->handshake_timeout, "%s not done (%s, %u ms)",
                        c->transport->handshake_name, which,
                        total ? cfg->total_timeout_ms : cfg->handshake_timeout_ms);
        break;
    case CONN_WRITING:
    case CONN_READING:
        conn_finish(c, c->module->protocol->response_timeout, "no complete response (%s, %u ms)",
                    which, total ? cfg->total_timeout_ms : cfg->response_timeout_ms);
        break;
    case CONN_FREE:
        break;
    }
}
