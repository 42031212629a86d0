/*
 * record_read.c - a published record (one line of records.jsonl) back into
 * a struct probe_result, walking record_fields[] as the writers do, so
 * `verify` can check each line against the record's schema and recompute
 * the statistics from the lines alone.
 */
#include "tools/publish/publish.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of enumeration `name` among `count`, or -1. */
static int name_index(const char *name, const char *(*name_of)(unsigned), unsigned count)
{
    for (unsigned i = 0; name && i < count; i++)
        if (!strcmp(name, name_of(i)))
            return (int)i;
    return -1;
}

static const char *outcome_at(unsigned i) { return probe_outcome_name((enum probe_outcome)i); }
static const char *verdict_at(unsigned i) { return k8s_verdict_name((enum k8s_verdict)i); }
static const char *state_at(unsigned i) { return version_state_name((enum version_state)i); }

static int hex_bytes(const char *hex, uint8_t *out, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (!strchr("0123456789abcdef", hex[2 * i]) || !strchr("0123456789abcdef", hex[2 * i + 1]) ||
            sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Decodes standard base64 (no newlines) into a malloc'ed buffer. */
static int base64_bytes(const char *text, uint8_t **out, size_t *length)
{
    size_t n = strlen(text);
    if (n % 4)
        return -1;
    uint8_t *buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return -1;
    int got = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n);
    if (got < 0) {
        free(buf);
        return -1;
    }
    size_t pad = (n && text[n - 1] == '=') + (n > 1 && text[n - 2] == '=');
    *out = buf;
    *length = (size_t)got - pad;
    return 0;
}

static int read_chain(struct probe_result *r, const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) > PROBE_CHAIN_MAX)
        return -1;
    size_t i;
    json_t *cert;
    json_array_foreach(v, i, cert) {
        json_t *length = json_object_get(cert, "length");
        if (!json_is_object(cert) || !json_is_integer(length) || json_integer_value(length) < 0 ||
            hex_bytes(json_string_value(json_object_get(cert, "sha256")), r->chain[i].sha256, 32))
            return -1;
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)cert, key, member)
            if (strcmp(key, "sha256") && strcmp(key, "length") &&
                ((strcmp(key, "der") && strcmp(key, "pem")) || !json_is_string(member)))
                return -1;
        r->chain[i].length = (size_t)json_integer_value(length);
        r->chain_length = i + 1;
    }
    return 0;
}

static int read_evidence(struct probe_result *r, const json_t *v)
{
    if (!json_is_array(v))
        return -1;
    size_t i;
    json_t *name;
    json_array_foreach(v, i, name) {
        uint32_t bit = 1;
        while (bit <= EVIDENCE_APISERVER_HDR &&
               (!json_is_string(name) ||
                strcmp(json_string_value(name), k8s_evidence_name((enum k8s_evidence)bit))))
            bit <<= 1;
        if (bit > EVIDENCE_APISERVER_HDR || (r->evidence & bit))
            return -1;
        r->evidence |= bit;
    }
    return 0;
}

static int read_body(struct probe_result *r, const json_t *v, const json_t *line)
{
    const json_t *b64 = json_object_get(line, "body_base64");
    if (json_is_string(v)) {
        if (b64)
            return -1;
        r->body_length = json_string_length(v);
        r->body = malloc(r->body_length + 1);
        if (!r->body)
            return -1;
        memcpy(r->body, json_string_value(v), r->body_length);
        return 0;
    }
    if (!json_is_null(v))
        return -1;
    if (b64)
        return json_is_string(b64) ? base64_bytes(json_string_value(b64), &r->body,
                                                  &r->body_length)
                                   : -1;
    return 0;
}

/* One field from its member v; -1 if v is not a value of its type. */
static int read_field(struct probe_result *r, const struct record_field *f, const json_t *v,
                      const json_t *line)
{
    void *p = record_field_ptr(r, f);
    int index;
    switch (f->type) {
    case FIELD_ADDR:
        return json_is_string(v) ? net_addr_parse(json_string_value(v), p) : -1;
    case FIELD_PORT:
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
            return -1;
        *(uint16_t *)p = (uint16_t)json_integer_value(v);
        return 0;
    case FIELD_I64:
        if (!json_is_integer(v))
            return -1;
        *(int64_t *)p = json_integer_value(v);
        return 0;
    case FIELD_U32:
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
            return -1;
        *(uint32_t *)p = (uint32_t)json_integer_value(v);
        return 0;
    case FIELD_INT:
    case FIELD_STATUS:
        if (json_is_null(v)) {
            *(int *)p = f->type == FIELD_INT ? -1 : 0;
            return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < (f->type == FIELD_INT ? 0 : 1) ||
            json_integer_value(v) > INT32_MAX)
            return -1;
        *(int *)p = (int)json_integer_value(v);
        return 0;
    case FIELD_BOOL:
        if (!json_is_boolean(v))
            return -1;
        *(bool *)p = json_is_true(v);
        return 0;
    case FIELD_K8S:
        return json_is_boolean(v) ? 0 : -1; /* checked against the verdict afterwards */
    case FIELD_STRING:
        if (json_is_null(v))
            return 0;
        if (!json_is_string(v) || memchr(json_string_value(v), 0, json_string_length(v)))
            return -1;
        return (*(char **)p = strdup(json_string_value(v))) ? 0 : -1;
    case FIELD_OUTCOME:
        if ((index = name_index(json_string_value(v), outcome_at, PROBE_OUTCOME_COUNT)) < 0)
            return -1;
        *(enum probe_outcome *)p = (enum probe_outcome)index;
        return 0;
    case FIELD_VERDICT:
        if ((index = name_index(json_string_value(v), verdict_at, K8S_VERDICT_COUNT)) < 0)
            return -1;
        *(enum k8s_verdict *)p = (enum k8s_verdict)index;
        return 0;
    case FIELD_VERSION_STATE:
        if ((index = name_index(json_string_value(v), state_at, VERSION_STATE_COUNT)) < 0)
            return -1;
        *(enum version_state *)p = (enum version_state)index;
        return 0;
    case FIELD_EVIDENCE: return read_evidence(r, v);
    case FIELD_CHAIN: return read_chain(r, v);
    case FIELD_BODY: return read_body(r, v, line);
    case FIELD_SIZE:
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return -1;
        *(size_t *)p = (size_t)json_integer_value(v);
        return 0;
    }
    return -1;
}

static const struct record_field *field_named(const char *name)
{
    for (size_t i = 0; i < record_field_count; i++)
        if (!strcmp(record_fields[i].name, name))
            return &record_fields[i];
    return NULL;
}

/* Members the package adds to the table's fields. */
static bool package_member(const char *name)
{
    return !strcmp(name, "scan") || !strcmp(name, "anonymized") || !strcmp(name, "body_base64");
}

int publish_record_from_json(const json_t *line, struct probe_result *r, uint32_t *scan,
                             bool *anonymized, char *err)
{
    probe_result_init(r);
    if (!json_is_object(line)) {
        snprintf(err, KS_ERRLEN, "not a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)line, key, v)
        if (!field_named(key) && !package_member(key)) {
            snprintf(err, KS_ERRLEN, "member \"%s\" is not in the record schema", key);
            return -1;
        }
    /* body_length follows body in the table: a body read from text or
     * base64 sets it, and the stated one must agree */
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        if (!(v = json_object_get(line, f->name))) {
            snprintf(err, KS_ERRLEN, "member \"%s\" is missing", f->name);
            goto fail;
        }
        size_t body_before = r->body_length;
        if (read_field(r, f, v, line) != 0) {
            snprintf(err, KS_ERRLEN, "member \"%s\" is not a valid %s value", f->name, f->name);
            goto fail;
        }
        if (f->type == FIELD_SIZE && r->body && r->body_length != body_before) {
            snprintf(err, KS_ERRLEN, "member \"%s\" is %zu, the body has %zu bytes", f->name,
                     r->body_length, body_before);
            goto fail;
        }
    }
    for (size_t i = 0; i < record_field_count; i++)
        if (record_fields[i].type == FIELD_K8S &&
            json_is_true(json_object_get(line, record_fields[i].name)) != (r->k8s == K8S_YES)) {
            snprintf(err, KS_ERRLEN, "member \"%s\" disagrees with the verdict",
                     record_fields[i].name);
            goto fail;
        }
    json_t *id = json_object_get(line, "scan"), *anon = json_object_get(line, "anonymized");
    if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > UINT32_MAX) {
        snprintf(err, KS_ERRLEN, "member \"scan\" is %s", id ? "not a scan id" : "missing");
        goto fail;
    }
    if (anon && !json_is_true(anon)) {
        snprintf(err, KS_ERRLEN, "member \"anonymized\" is present but not true");
        goto fail;
    }
    *scan = (uint32_t)json_integer_value(id);
    *anonymized = anon != NULL;
    return 0;
fail:
    probe_result_free(r);
    return -1;
}
