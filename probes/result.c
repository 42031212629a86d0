/*
 * result.c - lifetime of a probe_result and the names of its enums.
 */
#include "probes/internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[PROBE_OUTCOME_COUNT] = {
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

const char *probe_outcome_name(enum probe_outcome outcome)
{
    if ((unsigned)outcome >= PROBE_OUTCOME_COUNT)
        return "unknown";
    return outcome_names[outcome];
}

void probe_result_init(struct probe_result *r)
{
    memset(r, 0, sizeof(*r));
    r->version_major = r->version_minor = r->version_patch = -1;
}

/* Frees and resets what k8s_classify fills in. */
void probe_result_clear_classification(struct probe_result *r)
{
    free(r->provider);
    free(r->git_version);
    free(r->version_suffix);
    free(r->git_commit);
    free(r->build_date);
    free(r->go_version);
    free(r->platform);
    r->provider = r->git_version = r->version_suffix = r->git_commit = NULL;
    r->build_date = r->go_version = r->platform = NULL;
    r->k8s = K8S_NO;
    r->evidence = 0;
    r->version_state = VERSION_ABSENT;
    r->version_major = r->version_minor = r->version_patch = -1;
}

void probe_result_free(struct probe_result *r)
{
    free(r->error);
    free(r->tls_version);
    free(r->tls_cipher);
    free(r->tls_alpn);
    for (size_t i = 0; i < r->chain_length; i++)
        free(r->chain[i].der);
    free(r->http_server);
    free(r->http_content_type);
    free(r->http_audit_id);
    free(r->http_pf_flowschema);
    free(r->http_pf_prioritylevel);
    free(r->body);
    probe_result_clear_classification(r);
    probe_result_init(r);
}
