/*
 * record.c - the field table of struct probe_result, its lifetime and the
 * names of its enumerations.
 */
#include "lib/record.h"

#include <stdlib.h>
#include <string.h>

#define F(name, type, flags, since) \
    {#name, type, offsetof(struct probe_result, name), flags, since}
#define STORED_CSV (FIELD_STORED | FIELD_CSV)

/* The JSON order. The store writes the FIELD_STORED fields of version 1 in
 * this order (the booleans first, as one flags byte), then those of version
 * 2, and so on: a new field is appended with the next version. A boolean
 * takes the next bit of the flags byte, so a new one goes after the last
 * boolean of the table. */
const struct record_field record_fields[] = {
    F(addr, FIELD_ADDR, STORED_CSV, 2),
    F(port, FIELD_PORT, STORED_CSV, 2),
    F(started_ms, FIELD_I64, STORED_CSV, 1),
    F(duration_ms, FIELD_U32, STORED_CSV, 1),
    F(outcome, FIELD_OUTCOME, STORED_CSV, 1),
    F(error, FIELD_STRING, STORED_CSV, 1),
    F(tls_done, FIELD_BOOL, STORED_CSV, 1),
    F(tls_version, FIELD_STRING, STORED_CSV, 1),
    F(tls_cipher, FIELD_STRING, STORED_CSV, 1),
    F(tls_alpn, FIELD_STRING, STORED_CSV, 1),
    F(chain, FIELD_CHAIN, STORED_CSV, 1),
    F(chain_truncated, FIELD_BOOL, FIELD_STORED, 1),
    F(http_status, FIELD_STATUS, STORED_CSV, 1),
    F(http_server, FIELD_STRING, STORED_CSV, 1),
    F(http_content_type, FIELD_STRING, STORED_CSV, 1),
    F(http_audit_id, FIELD_STRING, FIELD_STORED, 1),
    F(http_pf_flowschema, FIELD_STRING, FIELD_STORED, 1),
    F(http_pf_prioritylevel, FIELD_STRING, FIELD_STORED, 1),
    F(body, FIELD_BODY, FIELD_STORED, 1),
    F(body_length, FIELD_SIZE, 0, 1),
    F(body_truncated, FIELD_BOOL, FIELD_STORED, 1),
    {"k8s", FIELD_K8S, offsetof(struct probe_result, k8s), FIELD_CSV, 1},
    {"verdict", FIELD_VERDICT, offsetof(struct probe_result, k8s), STORED_CSV, 1},
    F(evidence, FIELD_EVIDENCE, STORED_CSV, 1),
    F(provider, FIELD_STRING, STORED_CSV, 1),
    F(version_state, FIELD_VERSION_STATE, STORED_CSV, 1),
    F(git_version, FIELD_STRING, STORED_CSV, 1),
    F(version_major, FIELD_INT, STORED_CSV, 1),
    F(version_minor, FIELD_INT, STORED_CSV, 1),
    F(version_patch, FIELD_INT, STORED_CSV, 1),
    F(version_suffix, FIELD_STRING, STORED_CSV, 1),
    F(git_commit, FIELD_STRING, STORED_CSV, 1),
    F(build_date, FIELD_STRING, STORED_CSV, 1),
    F(go_version, FIELD_STRING, STORED_CSV, 1),
    F(platform, FIELD_STRING, STORED_CSV, 1),
    F(all_ports_open, FIELD_BOOL, STORED_CSV, 3),
    F(module, FIELD_STRING, STORED_CSV, 4),
    F(tls_cert_requested, FIELD_BOOL, STORED_CSV, 4),
    F(finding, FIELD_STRING, STORED_CSV, 4),
    F(etcd_server, FIELD_STRING, STORED_CSV, 4),
    F(etcd_cluster, FIELD_STRING, STORED_CSV, 4),
};
const size_t record_field_count = sizeof(record_fields) / sizeof(record_fields[0]);

const char *probe_result_module(const struct probe_result *r)
{
    return r->module ? r->module : "apiserver";
}

void probe_result_init(struct probe_result *r)
{
    memset(r, 0, sizeof(*r));
    r->addr = net_addr_ipv4(0);
    r->version_major = r->version_minor = r->version_patch = -1;
}

void probe_result_free(struct probe_result *r)
{
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        void *p = record_field_ptr(r, f);
        if (f->type == FIELD_STRING) {
            free(*(char **)p);
        } else if (f->type == FIELD_BODY) {
            free(r->body);
        } else if (f->type == FIELD_CHAIN) {
            for (size_t c = 0; c < r->chain_length && c < PROBE_CHAIN_MAX; c++)
                free(r->chain[c].der);
        }
    }
    probe_result_init(r);
}

static void *copy_bytes(const void *src, size_t length)
{
    void *dst = malloc(length ? length : 1);
    if (dst && length)
        memcpy(dst, src, length);
    return dst;
}

int probe_result_copy(struct probe_result *dst, const struct probe_result *src)
{
    *dst = *src;
    /* Every owned pointer is NULL until copied, so a failure frees only
     * what was copied. */
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        if (f->type == FIELD_STRING)
            *(char **)record_field_ptr(dst, f) = NULL;
    }
    dst->body = NULL;
    for (size_t c = 0; c < PROBE_CHAIN_MAX; c++)
        dst->chain[c].der = NULL;
    bool failed = false;
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        if (f->type != FIELD_STRING)
            continue;
        const char *s = *(char *const *)record_field_ptr(src, f);
        if (s && !(*(char **)record_field_ptr(dst, f) = strdup(s)))
            failed = true;
    }
    if (src->body && !(dst->body = copy_bytes(src->body, src->body_length)))
        failed = true;
    for (size_t c = 0; c < src->chain_length && c < PROBE_CHAIN_MAX; c++)
        if (src->chain[c].der &&
            !(dst->chain[c].der = copy_bytes(src->chain[c].der, src->chain[c].length)))
            failed = true;
    if (failed) {
        probe_result_free(dst);
        return -1;
    }
    return 0;
}

const char *probe_outcome_name(enum probe_outcome outcome)
{
    static const char *const names[PROBE_OUTCOME_COUNT] = {
        [PROBE_OK] = "ok",
        [PROBE_REFUSED] = "refused",
        [PROBE_CONNECT_TIMEOUT] = "connect-timeout",
        [PROBE_CONNECT_ERROR] = "connect-error",
        [PROBE_TLS_TIMEOUT] = "tls-timeout",
        [PROBE_TLS_ERROR] = "tls-error",
        [PROBE_HTTP_TIMEOUT] = "http-timeout",
        [PROBE_HTTP_ERROR] = "http-error",
        [PROBE_CLOSED] = "closed",
        [PROBE_INTERNAL_ERROR] = "internal-error",
    };
    return (unsigned)outcome < PROBE_OUTCOME_COUNT ? names[outcome] : "unknown";
}

const char *k8s_verdict_name(enum k8s_verdict verdict)
{
    static const char *const names[K8S_VERDICT_COUNT] = {"no", "yes", "kubelet"};
    return (unsigned)verdict < K8S_VERDICT_COUNT ? names[verdict] : "unknown";
}

const char *version_state_name(enum version_state state)
{
    static const char *const names[VERSION_STATE_COUNT] = {"absent", "valid", "invalid",
                                                           "other"};
    return (unsigned)state < VERSION_STATE_COUNT ? names[state] : "unknown";
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
