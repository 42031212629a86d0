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

static const char *const verdict_names[] = {"no", "yes"};
static const char *const version_state_names[] = {"absent", "valid", "invalid", "other"};

const char *k8s_verdict_name(enum k8s_verdict verdict)
{
    return (unsigned)verdict < 2 ? verdict_names[verdict] : "unknown";
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
