/*
 * http.c - the HTTP layer of a probe: one GET request (Host is the target,
 * Connection: close) written through TLS, and the response parsed with
 * http-parser into the probe_result: status, the headers we keep (as
 * printable ASCII), and the body up to its limit.
 */
#include "probes/internal.h"
#include "lib/buf.h"
#include "lib/text.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_VALUE_MAX 1024   /* a kept header value is cut here */

static const char *const kept_header_names[KEEP_COUNT] = {
    "Server", "Content-Type", "Audit-Id",
    "X-Kubernetes-Pf-Flowschema-Uid", "X-Kubernetes-Pf-Prioritylevel-Uid",
};

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

/* The name is complete: is it one we keep? */
static void header_name_done(struct conn *c)
{
    c->in_header_field = false;
    c->keeping = KEEP_NONE;
    if (c->header_name_length > HEADER_NAME_MAX)
        return;
    c->header_name[c->header_name_length] = '\0';
    for (int k = 0; k < KEEP_COUNT; k++)
        if (!strcasecmp(c->header_name, kept_header_names[k])) {
            c->keeping = (enum kept_header)k;
            set_kept_header(&c->r, c->keeping, NULL); /* the last one wins */
            return;
        }
}

static int on_header_value(http_parser *hp, const char *at, size_t length)
{
    struct conn *c = hp->data;
    if (c->in_header_field)
        header_name_done(c);
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

/* Room for `length` more body bytes (the caller keeps within limit). */
static int body_reserve(struct conn *c, size_t length, size_t limit)
{
    struct probe_result *r = &c->r;
    return BUF_GROW_MAX(r->body, c->body_capacity, r->body_length + length, 4096, limit);
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
        if (body_reserve(c, length, limit) < 0) {
            r->body_truncated = true;
            http_parser_pause(hp, 1);
            return 0;
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

bool http_response_feed(struct conn *c, const char *data, size_t length,
                        enum probe_outcome *outcome, char *reason, size_t size)
{
    http_parser_execute(&c->parser, &parser_settings, data, length);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    reason[0] = '\0';
    *outcome = PROBE_OK;
    if (c->message_complete || c->r.body_truncated)
        return true;
    if (c->headers_too_big) {
        *outcome = PROBE_HTTP_ERROR;
        snprintf(reason, size, "response headers exceed %zu bytes",
                 c->w->pool->cfg.max_header_bytes);
        return true;
    }
    if (e != HPE_OK && e != HPE_PAUSED) {
        if (length == 0 && e == HPE_INVALID_EOF_STATE) {
            *outcome = PROBE_CLOSED;
            snprintf(reason, size, "connection closed mid-response");
        } else {
            *outcome = PROBE_HTTP_ERROR;
            snprintf(reason, size, "HTTP parse error: %s", http_errno_description(e));
        }
        return true;
    }
    if (length == 0) {
        *outcome = PROBE_CLOSED;
        snprintf(reason, size, "%s", c->got_response_bytes ? "connection closed mid-response"
                                                          : "connection closed before a response");
        return true;
    }
    return false;
}

/* Feeds `length` bytes (0 = end of stream) to the parser. Returns true when
 * the probe has ended (finished here). */
static bool feed_parser(struct conn *c, const char *data, size_t length)
{
    enum probe_outcome outcome;
    char reason[256];
    if (!http_response_feed(c, data, length, &outcome, reason, sizeof(reason)))
        return false;
    if (outcome == PROBE_OK)
        conn_finish(c, PROBE_OK, NULL);
    else
        conn_finish(c, outcome, "%s", reason);
    return true;
}

void http_read(struct conn *c)
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
        tls_error_text(text, sizeof(text));
        conn_finish(c, PROBE_TLS_ERROR, "TLS error while reading the response: %s", text);
        return;
    }
}

void http_response_begin(struct conn *c)
{
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
}

static void start_reading(struct conn *c)
{
    c->state = CONN_READING;
    /* The answer cannot be there yet: anything that arrives from now on
     * raises a new (edge-triggered) event, and what came before was read
     * with the handshake unless that read filled its buffer. */
    c->skip_read = !c->last_read_full;
    http_response_begin(c);
    http_read(c);
}

/* ------------------------------------------------------------ request */

static size_t build_request(struct conn *c)
{
    struct worker *w = c->w;
    struct probe_pool *p = w->pool;
    char host[32];
    size_t n = strlen(ipv4_text(c->r.addr, host));
    if (c->r.port != 443)
        snprintf(host + n, sizeof(host) - n, ":%u", c->r.port);
    int length = snprintf(w->request, w->request_capacity,
                          "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                          "Accept: application/json\r\nConnection: close\r\n\r\n",
                          p->path, host, p->user_agent);
    return (size_t)length;
}

void http_write(struct conn *c)
{
    if (!c->request_queued) {
        size_t length = build_request(c);
        ERR_clear_error();
        if (SSL_write(c->ssl, c->w->request, (int)length) <= 0) {
            char text[256];
            tls_error_text(text, sizeof(text));
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
