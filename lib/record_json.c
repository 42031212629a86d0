/*
 * record_json.c - a record as one JSON object (JSON Lines) or one CSV line,
 * both walking record_fields[] (docs/probe-schema.md, docs/export.md).
 *
 * The JSON is what json_dumps(..., JSON_COMPACT) of jansson gives for the
 * same values: jansson's escapes (\" \\ \b \f \n \r \t, other controls as
 * \u00XX, nothing else) and its UTF-8 check (a string that is not valid
 * UTF-8 is written "(not UTF-8)"), so readers that build a tree
 * (json_loads) get exactly these values back. A body is kept as text when
 * it is valid UTF-8 without NULs, else as base64 (body_base64), so every
 * record is valid JSON.
 */
#include "lib/buf.h"
#include "lib/record.h"
#include "lib/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char *data;
    size_t length, capacity;
    bool failed; /* out of memory: the text is incomplete */
};

static bool text_reserve(struct text *t, size_t more)
{
    if (t->failed)
        return false;
    if (more > SIZE_MAX - t->length || BUF_GROW(t->data, t->capacity, t->length + more, 1024)) {
        t->failed = true;
        return false;
    }
    return true;
}

static void text_add(struct text *t, const char *s, size_t n)
{
    if (n && text_reserve(t, n)) {
        memcpy(t->data + t->length, s, n);
        t->length += n;
    }
}

static void text_str(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* The finished text (NUL-terminated) or NULL, freeing it on failure. */
static char *text_finish(struct text *t, size_t *length)
{
    text_add(t, "", 1);
    if (t->failed) {
        free(t->data);
        return NULL;
    }
    if (length)
        *length = t->length - 1;
    return t->data;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * the rules of jansson's utf8_check_full (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char u = s[0];
    size_t size;
    uint32_t value;
    if (u < 0x80)
        return 1;
    if (u >= 0xC2 && u <= 0xDF)
        size = 2, value = u & 0x1F;
    else if (u >= 0xE0 && u <= 0xEF)
        size = 3, value = u & 0x0F;
    else if (u >= 0xF0 && u <= 0xF4)
        size = 4, value = u & 0x07;
    else
        return 0;
    if (size > n)
        return 0;
    for (size_t i = 1; i < size; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
        value = (value << 6) | (s[i] & 0x3F);
    }
    if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) ||
        (size == 3 && value < 0x800) || (size == 4 && value < 0x10000))
        return 0;
    return size;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_sequence(s + i, n - i)) == 0)
            return false;
    return true;
}

/* A JSON string of n bytes of valid UTF-8, escaped as jansson does. */
static void text_quoted(struct text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!text_reserve(t, n + 2))
        return;
    t->data[t->length++] = '"';
    size_t plain = 0; /* start of the run not yet copied */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        text_add(t, s + plain, i - plain);
        plain = i + 1;
        char esc[6] = {'\\', 0};
        size_t length = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            length = 6;
        }
        text_add(t, esc, length);
    }
    text_add(t, s + plain, n - plain);
    text_add(t, "\"", 1);
}

/* A nullable string value: null, the quoted string, or "(not UTF-8)". */
static void text_string(struct text *t, const char *s)
{
    if (!s)
        text_add(t, "null", 4);
    else if (valid_utf8((const unsigned char *)s, strlen(s)))
        text_quoted(t, s, strlen(s));
    else
        text_str(t, "\"(not UTF-8)\"");
}

static void text_integer(struct text *t, long long v)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%lld", v);
    text_add(t, digits, (size_t)n);
}

static void text_hex(struct text *t, const uint8_t *data, size_t n)
{
    if (!text_reserve(t, 2 * n + 1)) /* hex_text's NUL, overwritten next */
        return;
    hex_text(data, n, t->data + t->length);
    t->length += 2 * n;
}

/* RFC 4648 base64, with newlines after every `line` characters if line > 0
 * (PEM: 64). */
static void text_base64(struct text *t, const uint8_t *data, size_t n, size_t line)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t out = 4 * ((n + 2) / 3);
    if (!text_reserve(t, out + (line ? out / line + 1 : 0)))
        return;
    size_t column = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        char quad[4] = {alphabet[v >> 18 & 63], alphabet[v >> 12 & 63],
                        i + 1 < n ? alphabet[v >> 6 & 63] : '=', i + 2 < n ? alphabet[v & 63] : '='};
        for (int k = 0; k < 4; k++) {
            t->data[t->length++] = quad[k];
            if (line && ++column == line) {
                t->data[t->length++] = '\n';
                column = 0;
            }
        }
    }
    if (line && column)
        t->data[t->length++] = '\n';
}

/* A certificate as PEM text, JSON-escaped ("\n" for each newline). */
static void text_pem(struct text *t, const uint8_t *der, size_t length)
{
    struct text pem = {0};
    text_str(&pem, "-----BEGIN CERTIFICATE-----\n");
    text_base64(&pem, der, length, 64);
    text_str(&pem, "-----END CERTIFICATE-----\n");
    if (pem.failed)
        t->failed = true;
    else
        text_quoted(t, pem.data, pem.length);
    free(pem.data);
}

static void json_chain(struct text *t, const struct probe_result *r, enum record_certs certs)
{
    text_add(t, "[", 1);
    for (size_t i = 0; i < r->chain_length && i < PROBE_CHAIN_MAX; i++) {
        const struct cert_der *c = &r->chain[i];
        text_str(t, i ? ",{\"sha256\":\"" : "{\"sha256\":\"");
        text_hex(t, c->sha256, sizeof(c->sha256));
        text_str(t, "\",\"length\":");
        text_integer(t, (long long)c->length);
        if (c->der && certs == RECORD_CERTS_PEM) {
            text_str(t, ",\"pem\":");
            text_pem(t, c->der, c->length);
        } else if (c->der) {
            text_str(t, ",\"der\":\"");
            text_base64(t, c->der, c->length, 0);
            text_add(t, "\"", 1);
        }
        text_add(t, "}", 1);
    }
    text_add(t, "]", 1);
}

/* The evidence names joined by sep, each wrapped in quote. */
static void text_evidence(struct text *t, uint32_t evidence, const char *quote, const char *sep)
{
    bool first = true;
    for (uint32_t bit = 1; bit <= EVIDENCE_APISERVER_HDR; bit <<= 1)
        if (evidence & bit) {
            if (!first)
                text_str(t, sep);
            text_str(t, quote);
            text_str(t, k8s_evidence_name(bit));
            text_str(t, quote);
            first = false;
        }
}

/* The value of one field; the body also writes "body_base64" when it is
 * not text. */
static void json_value(struct text *t, const struct probe_result *r, const struct record_field *f,
                       enum record_certs certs)
{
    const void *p = record_field_ptr(r, f);
    char addr[NET_ADDR_TEXT_MAX];
    switch (f->type) {
    case FIELD_ADDR:
        text_string(t, net_addr_text(p, addr));
        break;
    case FIELD_PORT: text_integer(t, *(const uint16_t *)p); break;
    case FIELD_I64: text_integer(t, *(const int64_t *)p); break;
    case FIELD_U32: text_integer(t, *(const uint32_t *)p); break;
    case FIELD_SIZE: text_integer(t, (long long)*(const size_t *)p); break;
    case FIELD_INT:
    case FIELD_STATUS:
        if (*(const int *)p < 0 || (f->type == FIELD_STATUS && *(const int *)p == 0))
            text_add(t, "null", 4);
        else
            text_integer(t, *(const int *)p);
        break;
    case FIELD_BOOL: text_str(t, *(const bool *)p ? "true" : "false"); break;
    case FIELD_STRING: text_string(t, *(char *const *)p); break;
    case FIELD_OUTCOME: text_string(t, probe_outcome_name(*(const enum probe_outcome *)p)); break;
    case FIELD_VERDICT: text_string(t, k8s_verdict_name(*(const enum k8s_verdict *)p)); break;
    case FIELD_K8S: text_str(t, *(const enum k8s_verdict *)p == K8S_YES ? "true" : "false"); break;
    case FIELD_VERSION_STATE:
        text_string(t, version_state_name(*(const enum version_state *)p));
        break;
    case FIELD_EVIDENCE:
        text_add(t, "[", 1);
        text_evidence(t, *(const uint32_t *)p, "\"", ",");
        text_add(t, "]", 1);
        break;
    case FIELD_CHAIN: json_chain(t, r, certs); break;
    case FIELD_BODY:
        if (!r->body) {
            text_add(t, "null", 4);
        } else if (!memchr(r->body, 0, r->body_length) && valid_utf8(r->body, r->body_length)) {
            text_quoted(t, (const char *)r->body, r->body_length);
        } else {
            text_str(t, "null,\"body_base64\":\"");
            text_base64(t, r->body, r->body_length, 0);
            text_add(t, "\"", 1);
        }
        break;
    }
}

char *record_to_json(const struct probe_result *r, enum record_certs certs, const char *extra,
                     size_t *length)
{
    struct text t = {0};
    text_add(&t, "{", 1);
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        text_str(&t, i ? ",\"" : "\"");
        text_str(&t, f->name);
        text_add(&t, "\":", 2);
        json_value(&t, r, f, certs);
    }
    if (extra)
        text_str(&t, extra);
    text_add(&t, "}", 1);
    return text_finish(&t, length);
}

/* ---- CSV ---- */

/* RFC 4180: a field holding a comma, quote, CR or LF is quoted, its quotes
 * doubled. */
static void csv_field(struct text *t, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        text_add(t, s, n);
        return;
    }
    text_add(t, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            text_add(t, "\"\"", 2);
        else
            text_add(t, s + i, 1);
    }
    text_add(t, "\"", 1);
}

/* A CSV cell: the JSON value unquoted (strings), empty for null. */
static void csv_value(struct text *t, const struct probe_result *r, const struct record_field *f)
{
    const void *p = record_field_ptr(r, f);
    const char *s = NULL;
    switch (f->type) {
    case FIELD_STRING:
        s = *(char *const *)p;
        if (s && !valid_utf8((const unsigned char *)s, strlen(s)))
            s = "(not UTF-8)";
        break;
    case FIELD_OUTCOME: s = probe_outcome_name(*(const enum probe_outcome *)p); break;
    case FIELD_VERDICT: s = k8s_verdict_name(*(const enum k8s_verdict *)p); break;
    case FIELD_VERSION_STATE: s = version_state_name(*(const enum version_state *)p); break;
    case FIELD_EVIDENCE: {
        struct text joined = {0};
        text_evidence(&joined, *(const uint32_t *)p, "", "|");
        text_add(&joined, "", 1);
        if (joined.failed)
            t->failed = true;
        else
            csv_field(t, joined.data, joined.length - 1);
        free(joined.data);
        return;
    }
    case FIELD_CHAIN:
        text_integer(t, (long long)r->chain_length);
        text_add(t, ",", 1);
        if (r->chain_length)
            text_hex(t, r->chain[0].sha256, 32);
        return;
    case FIELD_BODY:
        return; /* not in CSV */
    default: {
        /* numbers, booleans, the address: as in JSON ("null" -> empty) */
        struct text one = {0};
        json_value(&one, r, f, RECORD_CERTS_DER);
        text_add(&one, "", 1);
        if (one.failed) {
            t->failed = true;
        } else if (strcmp(one.data, "null")) {
            const char *v = one.data;
            size_t n = one.length - 1;
            if (n >= 2 && v[0] == '"')
                v++, n -= 2;
            text_add(t, v, n);
        }
        free(one.data);
        return;
    }
    }
    if (s)
        csv_field(t, s, strlen(s));
}

char *record_csv_header(void)
{
    struct text t = {0};
    bool first = true;
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        if (!(f->flags & FIELD_CSV))
            continue;
        if (!first)
            text_add(&t, ",", 1);
        text_str(&t, f->type == FIELD_CHAIN ? "chain_length,leaf_sha256" : f->name);
        first = false;
    }
    return text_finish(&t, NULL);
}

char *record_csv_line(const struct probe_result *r)
{
    struct text t = {0};
    bool first = true;
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        if (!(f->flags & FIELD_CSV))
            continue;
        if (!first)
            text_add(&t, ",", 1);
        csv_value(&t, r, f);
        first = false;
    }
    return text_finish(&t, NULL);
}
