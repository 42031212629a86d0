/*
 * http.c - the HTTP protocol of the modules (struct probe_protocol,
 * internal.h): one GET of the module's path (Host is the target,
 * Connection: close), whatever transport carries it, and the response
 * parsed with http-parser into the probe_result: status, the headers we
 * keep (as printable ASCII), and the body up to its limit. It knows no
 * transport: bytes come and go through the connection.
 */
#include "probes/internal.h"
#include "lib/buf.h"
#include "lib/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_VALUE_MAX 1024   /* a kept header value is cut here */

/* The response headers we keep, and the record field each goes to: the
 * one list (docs/probe-schema.md names the fields). */
static const struct {
    const char *name;
    size_t offset;
} kept_headers[] = {
    {"Server", offsetof(struct probe_result, http_server)},
    {"Content-Type", offsetof(struct probe_result, http_content_type)},
    {"Audit-Id", offsetof(struct probe_result, http_audit_id)},
    {"X-Kubernetes-Pf-Flowschema-Uid", offsetof(struct probe_result, http_pf_flowschema)},
    {"X-Kubernetes-Pf-Prioritylevel-Uid", offsetof(struct probe_result, http_pf_prioritylevel)},
};
#define KEPT_HEADER_COUNT (int)(sizeof(kept_headers) / sizeof(kept_headers[0]))

static char **kept_header_slot(struct probe_result *r, int which)
{
    return (char **)((char *)r + kept_headers[which].offset);
}

static int count_header_bytes(struct http_response *c, size_t length)
{
    c->header_bytes += length;
    if (c->header_bytes > c->max_header_bytes) {
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
    struct http_response *c = hp->data;
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
static void header_name_done(struct http_response *c)
{
    c->in_header_field = false;
    c->keeping = -1;
    if (c->header_name_length > HEADER_NAME_MAX)
        return;
    c->header_name[c->header_name_length] = '\0';
    for (int k = 0; k < KEPT_HEADER_COUNT; k++)
        if (!strcasecmp(c->header_name, kept_headers[k].name)) {
            char **slot = kept_header_slot(c->r, k);
            free(*slot); /* the last one wins */
            *slot = NULL;
            c->keeping = k;
            return;
        }
}

static int on_header_value(http_parser *hp, const char *at, size_t length)
{
    struct http_response *c = hp->data;
    if (c->in_header_field)
        header_name_done(c);
    if (c->keeping >= 0)
        append_value(kept_header_slot(c->r, c->keeping), at, length);
    return count_header_bytes(c, length);
}

static int on_headers_complete(http_parser *hp)
{
    struct http_response *c = hp->data;
    c->r->http_status = hp->status_code;
    return 0;
}

/* Room for `length` more body bytes (the caller keeps within limit). */
static int body_reserve(struct http_response *c, size_t length, size_t limit)
{
    struct probe_result *r = c->r;
    return BUF_GROW_MAX(r->body, c->body_capacity, r->body_length + length, 4096, limit);
}

static int on_body(http_parser *hp, const char *at, size_t length)
{
    struct http_response *c = hp->data;
    struct probe_result *r = c->r;
    size_t limit = c->max_body_bytes;
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
    struct http_response *c = hp->data;
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

bool http_response_feed(struct http_response *c, const char *data, size_t length,
                        enum probe_outcome *outcome, char *reason, size_t size)
{
    if (length > 0)
        c->got_bytes = true;
    http_parser_execute(&c->parser, &parser_settings, data, length);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    reason[0] = '\0';
    *outcome = PROBE_OK;
    if (c->message_complete || c->r->body_truncated)
        return true;
    if (c->headers_too_big) {
        *outcome = PROBE_HTTP_ERROR;
        snprintf(reason, size, "response headers exceed %zu bytes", c->max_header_bytes);
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
        snprintf(reason, size, "%s", c->got_bytes ? "connection closed mid-response"
                                                  : "connection closed before a response");
        return true;
    }
    return false;
}

void http_response_begin(struct http_response *h, struct probe_result *r,
                         size_t max_header_bytes, size_t max_body_bytes)
{
    memset(h, 0, sizeof(*h));
    http_parser_init(&h->parser, HTTP_RESPONSE);
    h->parser.data = h;
    h->keeping = -1;
    h->r = r;
    h->max_header_bytes = max_header_bytes;
    h->max_body_bytes = max_body_bytes;
}

/* ------------------------------------------------------------ request */

/* GET <the module's path>; Host is the address (IPv6 in brackets, RFC 7230
 * section 5.4 with RFC 3986's IP-literal), with the port unless it is the
 * scheme's default (443 over TLS, 80 in the clear). */
static size_t http_request(struct conn *c, char *buffer, size_t capacity)
{
    char host[NET_ENDPOINT_TEXT_MAX];
    const struct net_addr *a = &c->target.addr;
    net_endpoint_text(a, c->target.port, host);
    if (c->target.port == (c->transport->secure ? 443 : 80))
        *strrchr(host, ':') = '\0';   /* the default port goes unsaid */
    int length = snprintf(buffer, capacity,
                          "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                          "Accept: application/json\r\nConnection: close\r\n\r\n",
                          c->module->path, host, c->w->pool->user_agent);
    return length > 0 && (size_t)length < capacity ? (size_t)length : 0;
}

static void http_begin(struct conn *c)
{
    const struct probe_config *cfg = &c->w->pool->cfg;
    http_response_begin(&c->http, &c->r, cfg->max_header_bytes, cfg->max_body_bytes);
}

static bool http_feed(struct conn *c, const char *data, size_t length,
                      enum probe_outcome *outcome, char *reason, size_t size)
{
    return http_response_feed(&c->http, data, length, outcome, reason, size);
}

const struct probe_protocol protocol_http = {
    .name = "http",
    .response_timeout = PROBE_HTTP_TIMEOUT,
    .request = http_request,
    .begin = http_begin,
    .feed = http_feed,
};
