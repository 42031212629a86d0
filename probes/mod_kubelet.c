/*
 * mod_kubelet.c - the kubelet's two HTTP ports, GET /healthz only:
 *  - kubelet (TLS, 10250): the authenticated port. Its auth filter runs
 *    before every handler, /healthz included, so /healthz tells the
 *    configuration without reading anything private: 401 "Unauthorized"
 *    (anonymous authentication off), 403 "Forbidden (user=system:anonymous,
 *    ...)" (anonymous requests reach authorization and are denied), or the
 *    handler's own answer, 200 "ok" (anonymous requests authorised: the
 *    exposure that allows /run and /exec).
 *  - kubelet-readonly (plain HTTP, 10255): no auth filter at all; an answer
 *    of /healthz means the port is open.
 * Sources and the exact bodies: docs/probes.md, "Modules".
 */
#include "probes/internal.h"

#include <stdlib.h>
#include <string.h>

/* The body without surrounding white space equals `text`. */
static bool body_is(const uint8_t *body, size_t length, const char *text)
{
    while (length > 0 && (body[0] == ' ' || body[0] == '\n' || body[0] == '\r')) {
        body++;
        length--;
    }
    while (length > 0 && (body[length - 1] == ' ' || body[length - 1] == '\n' ||
                          body[length - 1] == '\r'))
        length--;
    return length == strlen(text) && memcmp(body, text, length) == 0;
}

static bool body_starts(const uint8_t *body, size_t length, const char *prefix)
{
    return length >= strlen(prefix) && memcmp(body, prefix, strlen(prefix)) == 0;
}

/* Does `needle` occur in the body (not NUL-terminated)? */
static bool body_has(const uint8_t *body, size_t length, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= length; i++)
        if (memcmp(body + i, needle, n) == 0)
            return true;
    return false;
}

/* The healthz handler answered (the request got past any auth filter):
 * 200 "ok", or 500 listing the failed checks and ending "healthz check
 * failed" (k8s.io/apiserver pkg/server/healthz). */
static bool healthz_answered(int status, const uint8_t *body, size_t length)
{
    return (status == 200 && body_is(body, length, "ok")) ||
           (status == 500 && body_has(body, length, "healthz check failed"));
}

const char *kubelet_finding(int status, const uint8_t *body, size_t length, bool readonly)
{
    if (!body)
        length = 0;
    if (healthz_answered(status, body, length))
        return readonly ? RECORD_FINDING_READONLY_OPEN : RECORD_FINDING_ANON_OPEN;
    if (readonly)
        return NULL;
    if (status == 401 && body_is(body, length, "Unauthorized"))
        return RECORD_FINDING_AUTH_REQUIRED;
    if (status == 403 && body_starts(body, length, "Forbidden (user="))
        return RECORD_FINDING_ANON_FORBIDDEN;
    return NULL;
}

/* What the kubelet's answer and certificate say. The verdict is "kubelet"
 * when either is a kubelet's; /healthz is no /version, so the version
 * fields stay absent. */
static void classify(struct probe_result *r, X509 *leaf, bool readonly)
{
    probe_result_clear_classification(r);
    free(r->finding);
    r->finding = NULL;
    struct k8s_cert_facts cert = {0};
    if (leaf)
        k8s_cert_inspect_x509(leaf, &cert);
    const char *finding =
        r->outcome == PROBE_OK ? kubelet_finding(r->http_status, r->body, r->body_length, readonly)
                               : NULL;
    if (finding)
        r->finding = strdup(finding);
    if (finding || cert.kubelet)
        r->k8s = K8S_KUBELET;
}

static void kubelet_classify(struct probe_result *r, X509 *leaf)
{
    classify(r, leaf, false);
}

static void kubelet_readonly_classify(struct probe_result *r, X509 *leaf)
{
    classify(r, leaf, true);
}

static const uint16_t kubelet_ports[] = {10250, 0};
static const uint16_t kubelet_readonly_ports[] = {10255, 0};

const struct probe_module module_kubelet = {
    .name = "kubelet",
    .summary = "kubelet API: TLS, GET /healthz only: 401, 403 or anonymous access",
    .transport = &transport_tls,
    .protocol = &protocol_http,
    .path = "/healthz",
    .default_ports = kubelet_ports,
    .classify = kubelet_classify,
};

const struct probe_module module_kubelet_readonly = {
    .name = "kubelet-readonly",
    .summary = "kubelet read-only port: plain HTTP, GET /healthz only: open or not",
    .transport = &transport_tcp,
    .protocol = &protocol_http,
    .path = "/healthz",
    .default_ports = kubelet_readonly_ports,
    .classify = kubelet_readonly_classify,
};
