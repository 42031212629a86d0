/*
 * conn.c - one connection slot of a worker: taking it, the TCP connect,
 * dispatching epoll events by state, deadlines, and ending the probe (the
 * one place a probe ends: exactly one call of the user's `done`).
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
    if (c->ssl)
        SSL_clear(c->ssl);
    c->state = CONN_FREE;
    w->free_list[w->free_count++] = (unsigned)(c - w->conns);
    w->active--;
}

void conn_finish(struct conn *c, enum probe_outcome outcome, const char *fmt, ...)
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
    k8s_classify_with_leaf(r, c->ssl ? SSL_get0_peer_certificate(c->ssl) : NULL);

    if (c->attempts && outcome != PROBE_CONNECT_TIMEOUT && outcome != PROBE_TLS_TIMEOUT)
        atomic_fetch_add(&p->recovered, 1);
    conn_release(c);
    p->done(p->ctx, r);
    memset(r, 0, sizeof(*r)); /* the callee owns the contents now */
    atomic_fetch_add(&p->by_outcome[outcome], 1);
    atomic_fetch_add(&p->completed, 1);
}

/* --------------------------------------------------------- TCP connect */

/* Takes a free slot and resets what the previous probe left in it. */
static struct conn *conn_take(struct worker *w, struct target t)
{
    const struct probe_config *cfg = &w->pool->cfg;
    struct conn *c = &w->conns[w->free_list[--w->free_count]];
    w->active++;
    probe_result_init(&c->r);
    c->r.addr = t.addr;
    c->r.port = t.port;
    c->r.started_ms = realtime_ms();
    c->started_mono = w->now;
    c->total_deadline = w->now + cfg->total_timeout_ms;
    c->phase_deadline = w->now + cfg->connect_timeout_ms;
    c->state = CONN_CONNECTING;
    c->header_bytes = 0;
    c->message_complete = c->headers_too_big = c->in_header_field = false;
    c->got_response_bytes = c->got_bytes = false;
    c->attempts = 0;
    c->out_length = c->out_sent = 0;
    c->request_queued = false;
    c->skip_read = c->last_read_full = false;
    c->keeping = KEEP_NONE;
    c->body_capacity = 0;
    return c;
}

/* Opens c's socket and starts connecting to c->r's address (the probe may
 * end at once). */
static void conn_connect(struct conn *c)
{
    struct worker *w = c->w;
    struct target t = {c->r.addr, c->r.port};
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

void conn_start(struct worker *w, struct target t)
{
    conn_connect(conn_take(w, t));
}

/* The scanner saw this endpoint answer, so silence now is more likely a
 * lost packet than a dead host: a connect that timed out, or a handshake
 * that timed out before the server sent a single byte (our ClientHello or
 * its answer lost; a stateful middlebox that dropped the flow). Anything
 * the server did say (a refusal, an alert, a slow answer) is its answer and
 * is not retried. */
static bool conn_should_retry(const struct conn *c)
{
    if (c->attempts >= c->w->pool->cfg.retries)
        return false;
    return c->state == CONN_CONNECTING || (c->state == CONN_HANDSHAKE && !c->got_bytes);
}

/* A new connection for the same probe, with fresh deadlines: at most
 * cfg.retries times, so a probe lasts at most (retries + 1) x total. */
static void conn_retry(struct conn *c, int64_t now)
{
    const struct probe_config *cfg = &c->w->pool->cfg;
    /* The old socket stays open until the new one has connected, so the
     * kernel cannot give the new one the same source port: a new flow, not
     * one a middlebox (or the server) still holds as broken. One socket per
     * worker over the budget at most, within fds_needed's margin. */
    int old_fd = c->fd;
    c->fd = -1;
    if (c->ssl)
        SSL_clear(c->ssl);
    c->attempts++;
    atomic_fetch_add(&c->w->pool->retries, 1);
    c->state = CONN_CONNECTING;
    c->phase_deadline = now + cfg->connect_timeout_ms;
    c->total_deadline = now + cfg->total_timeout_ms;
    c->got_bytes = false;
    c->out_length = c->out_sent = 0;
    c->skip_read = c->last_read_full = false;
    conn_connect(c);
    close(old_fd); /* also leaves the epoll set */
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
        tls_connected(c, events);
    }
}

void conn_event(struct conn *c, uint32_t events)
{
    switch (c->state) {
    case CONN_CONNECTING:
        conn_connect_event(c, events);
        break;
    case CONN_HANDSHAKE:
        tls_handshake(c);
        break;
    case CONN_WRITING:
        http_write(c);
        break;
    case CONN_READING:
        http_read(c);
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
    char reason[256];
    switch (c->state) {
    case CONN_CONNECTING:
        conn_finish(c, PROBE_CONNECT_TIMEOUT, "no answer to connect (%s, %u ms)", which,
                    total ? cfg->total_timeout_ms : cfg->connect_timeout_ms);
        break;
    case CONN_HANDSHAKE:
        if (tls_capture_chain(c, reason, sizeof(reason)) < 0)
            conn_finish(c, PROBE_INTERNAL_ERROR, "%s", reason);
        else
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
