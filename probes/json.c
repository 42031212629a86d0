/*
 * json.c - a probe_result as one JSON Lines record (docs/probe-schema.md).
 *
 * The body is kept as text when it is valid UTF-8 without NULs, else as
 * base64 (body_base64), so every record is valid JSON.
 */
#include "probes/probes.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[] = {"no", "yes", "kubelet"};
static const char *const version_state_names[] = {"absent", "valid", "invalid", "other"};

const char *k8s_verdict_name(enum k8s_verdict verdict)
{
    return (unsigned)verdict < 3 ? verdict_names[verdict] : "unknown";
}

const char *version_state_name(enum version_state state)
{
    return (unsigned)state < 4 ? version_state_names[state] : "unknown";
}

const char *k8s_evidence_name(enum k8s_evidence bit)
{
    switch (bit) {
    case EVIDENCE_CERT_MARKER: return "cert-marker";
    case EVIDENCE_VERSION_INFO: return "version-info";
    case EVIDENCE_STATUS_BODY: return "status-body";
    case EVIDENCE_APISERVER_HDR: return "apiserver-header";
    }
    return "unknown";
}

/* Every helper below tolerates a NULL value from a failed allocation: the
 * final json_object_set_new returns -1 and we report out of memory. */
static json_t *string_or_null(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    /* Never taken for pool results (header values are made printable ASCII
     * on capture); a caller-built record may hold anything. */
    return j ? j : json_string("(not UTF-8)");
}

static json_t *base64_of(const uint8_t *data, size_t length)
{
    size_t out_len = 4 * ((length + 2) / 3);
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)length);
    json_t *j = json_stringn(out, out_len);
    free(out);
    return j;
}

static json_t *hex_of(const uint8_t *data, size_t length)
{
    static const char digits[] = "0123456789abcdef";
    char out[2 * 32 + 1];
    if (length > 32)
        length = 32;
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    return json_stringn(out, 2 * length);
}

static json_t *int_or_null(int v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *chain_to_json(const struct probe_result *r)
{
    json_t *chain = json_array();
    if (!chain)
        return NULL;
    for (size_t i = 0; i < r->chain_length; i++) {
        const struct cert_der *c = &r->chain[i];
        json_t *cert = json_object();
        if (!cert || json_array_append_new(chain, cert) < 0) {
            json_decref(chain);
            return NULL;
        }
        json_object_set_new(cert, "sha256", hex_of(c->sha256, sizeof(c->sha256)));
        json_object_set_new(cert, "length", json_integer((json_int_t)c->length));
        if (c->der)
            json_object_set_new(cert, "der", base64_of(c->der, c->length));
    }
    return chain;
}

static json_t *evidence_to_json(uint32_t evidence)
{
    json_t *list = json_array();
    for (uint32_t bit = 1; list && bit <= EVIDENCE_APISERVER_HDR; bit <<= 1)
        if (evidence & bit)
            json_array_append_new(list, json_string(k8s_evidence_name(bit)));
    return list;
}

/* The body as text when it is valid UTF-8 without NULs, else base64. */
static void set_body(json_t *o, const struct probe_result *r)
{
    if (!r->body) {
        json_object_set_new(o, "body", json_null());
        return;
    }
    json_t *text = memchr(r->body, 0, r->body_length)
                       ? NULL
                       : json_stringn((const char *)r->body, r->body_length);
    if (text) {
        json_object_set_new(o, "body", text);
    } else {
        json_object_set_new(o, "body", json_null());
        json_object_set_new(o, "body_base64", base64_of(r->body, r->body_length));
    }
}

json_t *probe_result_to_json(const struct probe_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    struct in_addr a = {.s_addr = htonl(r->addr)};
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, addr, sizeof(addr));

    int failed = 0;
#define SET(key, value) failed |= json_object_set_new(o, key, value)
    SET("addr", json_string(addr));
    SET("port", json_integer(r->port));
    SET("started_ms", json_integer(r->started_ms));
    SET("duration_ms", json_integer(r->duration_ms));
    SET("outcome", json_string(probe_outcome_name(r->outcome)));
    SET("error", string_or_null(r->error));

    SET("tls_done", json_boolean(r->tls_done));
    SET("tls_version", string_or_null(r->tls_version));
    SET("tls_cipher", string_or_null(r->tls_cipher));
    SET("tls_alpn", string_or_null(r->tls_alpn));
    SET("chain", chain_to_json(r));
    SET("chain_truncated", json_boolean(r->chain_truncated));

    SET("http_status", r->http_status ? json_integer(r->http_status) : json_null());
    SET("http_server", string_or_null(r->http_server));
    SET("http_content_type", string_or_null(r->http_content_type));
    SET("http_audit_id", string_or_null(r->http_audit_id));
    SET("http_pf_flowschema", string_or_null(r->http_pf_flowschema));
    SET("http_pf_prioritylevel", string_or_null(r->http_pf_prioritylevel));
    set_body(o, r);
    SET("body_length", json_integer((json_int_t)r->body_length));
    SET("body_truncated", json_boolean(r->body_truncated));

    SET("k8s", json_boolean(r->k8s == K8S_YES));
    SET("verdict", json_string(k8s_verdict_name(r->k8s)));
    SET("evidence", evidence_to_json(r->evidence));
    SET("provider", string_or_null(r->provider));
    SET("version_state", json_string(version_state_name(r->version_state)));
    SET("git_version", string_or_null(r->git_version));
    SET("version_major", int_or_null(r->version_major));
    SET("version_minor", int_or_null(r->version_minor));
    SET("version_patch", int_or_null(r->version_patch));
    SET("version_suffix", string_or_null(r->version_suffix));
    SET("git_commit", string_or_null(r->git_commit));
    SET("build_date", string_or_null(r->build_date));
    SET("go_version", string_or_null(r->go_version));
    SET("platform", string_or_null(r->platform));
#undef SET
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------------------
 * The same record as text, without building a jansson tree.
 *
 * Why: `kubesurvey probe` writes one record per probe, and building the
 * tree (some 40 objects, keys copied into a hash table), dumping it and
 * freeing it was ~5% of a probe's client CPU. This writer appends straight
 * into one buffer. Its output must stay byte-identical to
 * json_dumps(probe_result_to_json(r), JSON_COMPACT): same key order, same
 * escapes (jansson's: \" \\ \b \f \n \r \t, other controls as \u00XX,
 * nothing else), same UTF-8 check. tests/probes/test_classify.c compares
 * the two on records with every kind of value.
 * ---------------------------------------------------------------------- */

struct text {
    char *data;
    size_t length, capacity;
    bool failed; /* out of memory: the text is incomplete */
};

static bool text_reserve(struct text *t, size_t more)
{
    if (t->failed)
        return false;
    if (t->length + more <= t->capacity)
        return true;
    size_t want = t->capacity ? t->capacity : 1024;
    while (want < t->length + more)
        want *= 2;
    char *grown = realloc(t->data, want);
    if (!grown) {
        t->failed = true;
        return false;
    }
    t->data = grown;
    t->capacity = want;
    return true;
}

static void text_add(struct text *t, const char *s, size_t n)
{
    if (text_reserve(t, n)) {
        memcpy(t->data + t->length, s, n);
        t->length += n;
    }
}

static void text_str(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
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

/* Starts a member: `,"key":` (no comma before the first). */
static void text_key(struct text *t, const char *key)
{
    if (t->length > 1)
        text_add(t, ",", 1);
    text_add(t, "\"", 1);
    text_str(t, key);
    text_add(t, "\":", 2);
}

static void member_string(struct text *t, const char *key, const char *s)
{
    text_key(t, key);
    if (!s)
        text_add(t, "null", 4);
    else if (valid_utf8((const unsigned char *)s, strlen(s)))
        text_quoted(t, s, strlen(s));
    else
        text_add(t, "\"(not UTF-8)\"", 13); /* as string_or_null */
}

static void member_integer(struct text *t, const char *key, long long v)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%lld", v);
    text_key(t, key);
    text_add(t, digits, (size_t)n);
}

static void member_int_or_null(struct text *t, const char *key, int v)
{
    if (v < 0) {
        text_key(t, key);
        text_add(t, "null", 4);
    } else {
        member_integer(t, key, v);
    }
}

static void member_bool(struct text *t, const char *key, bool v)
{
    text_key(t, key);
    text_str(t, v ? "true" : "false");
}

static void text_base64(struct text *t, const uint8_t *data, size_t length)
{
    size_t out_len = 4 * ((length + 2) / 3);
    if (!text_reserve(t, out_len + 3))
        return;
    t->data[t->length++] = '"';
    EVP_EncodeBlock((unsigned char *)t->data + t->length, data, (int)length);
    t->length += out_len;
    t->data[t->length++] = '"';
}

static void member_chain(struct text *t, const struct probe_result *r)
{
    static const char digits[] = "0123456789abcdef";
    text_key(t, "chain");
    text_add(t, "[", 1);
    for (size_t i = 0; i < r->chain_length; i++) {
        const struct cert_der *c = &r->chain[i];
        char sha[2 * 32];
        for (size_t k = 0; k < 32; k++) {
            sha[2 * k] = digits[c->sha256[k] >> 4];
            sha[2 * k + 1] = digits[c->sha256[k] & 15];
        }
        char length[24];
        int n = snprintf(length, sizeof(length), "%zu", c->length);
        text_str(t, i ? ",{\"sha256\":\"" : "{\"sha256\":\"");
        text_add(t, sha, sizeof(sha));
        text_str(t, "\",\"length\":");
        text_add(t, length, (size_t)n);
        if (c->der) {
            text_str(t, ",\"der\":");
            text_base64(t, c->der, c->length);
        }
        text_add(t, "}", 1);
    }
    text_add(t, "]", 1);
}

static void member_evidence(struct text *t, uint32_t evidence)
{
    text_key(t, "evidence");
    text_add(t, "[", 1);
    bool first = true;
    for (uint32_t bit = 1; bit <= EVIDENCE_APISERVER_HDR; bit <<= 1)
        if (evidence & bit) {
            text_str(t, first ? "\"" : ",\"");
            text_str(t, k8s_evidence_name(bit));
            text_add(t, "\"", 1);
            first = false;
        }
    text_add(t, "]", 1);
}

/* As set_body: text when valid UTF-8 without NULs, else base64. */
static void member_body(struct text *t, const struct probe_result *r)
{
    text_key(t, "body");
    if (!r->body) {
        text_add(t, "null", 4);
        return;
    }
    if (!memchr(r->body, 0, r->body_length) && valid_utf8(r->body, r->body_length)) {
        text_quoted(t, (const char *)r->body, r->body_length);
        return;
    }
    text_add(t, "null", 4);
    text_key(t, "body_base64");
    text_base64(t, r->body, r->body_length);
}

char *probe_result_to_json_text(const struct probe_result *r, size_t *length)
{
    struct text t = {0};
    struct in_addr a = {.s_addr = htonl(r->addr)};
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, addr, sizeof(addr));

    text_add(&t, "{", 1);
    member_string(&t, "addr", addr);
    member_integer(&t, "port", r->port);
    member_integer(&t, "started_ms", r->started_ms);
    member_integer(&t, "duration_ms", r->duration_ms);
    member_string(&t, "outcome", probe_outcome_name(r->outcome));
    member_string(&t, "error", r->error);

    member_bool(&t, "tls_done", r->tls_done);
    member_string(&t, "tls_version", r->tls_version);
    member_string(&t, "tls_cipher", r->tls_cipher);
    member_string(&t, "tls_alpn", r->tls_alpn);
    member_chain(&t, r);
    member_bool(&t, "chain_truncated", r->chain_truncated);

    if (r->http_status)
        member_integer(&t, "http_status", r->http_status);
    else
        member_int_or_null(&t, "http_status", -1);
    member_string(&t, "http_server", r->http_server);
    member_string(&t, "http_content_type", r->http_content_type);
    member_string(&t, "http_audit_id", r->http_audit_id);
    member_string(&t, "http_pf_flowschema", r->http_pf_flowschema);
    member_string(&t, "http_pf_prioritylevel", r->http_pf_prioritylevel);
    member_body(&t, r);
    member_integer(&t, "body_length", (long long)r->body_length);
    member_bool(&t, "body_truncated", r->body_truncated);

    member_bool(&t, "k8s", r->k8s == K8S_YES);
    member_string(&t, "verdict", k8s_verdict_name(r->k8s));
    member_evidence(&t, r->evidence);
    member_string(&t, "provider", r->provider);
    member_string(&t, "version_state", version_state_name(r->version_state));
    member_string(&t, "git_version", r->git_version);
    member_int_or_null(&t, "version_major", r->version_major);
    member_int_or_null(&t, "version_minor", r->version_minor);
    member_int_or_null(&t, "version_patch", r->version_patch);
    member_string(&t, "version_suffix", r->version_suffix);
    member_string(&t, "git_commit", r->git_commit);
    member_string(&t, "build_date", r->build_date);
    member_string(&t, "go_version", r->go_version);
    member_string(&t, "platform", r->platform);
    text_add(&t, "}", 2); /* with the terminating NUL */
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    *length = t.length - 1;
    return t.data;
}
