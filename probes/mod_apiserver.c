/*
 * mod_apiserver.c - the Kubernetes API server: TLS, GET /version, and the
 * Kubernetes classification of what came back (classify.c: version.Info,
 * Status bodies, API server headers, certificate markers, providers).
 */
#include "probes/internal.h"

static const uint16_t apiserver_ports[] = {443, 6443, 0};

static void apiserver_classify(struct probe_result *r, X509 *leaf)
{
    k8s_classify_with_leaf(r, leaf);
}

const struct probe_module module_apiserver = {
    .name = "apiserver",
    .summary = "Kubernetes API server: TLS, GET /version, version and distribution",
    .transport = &transport_tls,
    .protocol = &protocol_http,
    .path = "/version",
    .default_ports = apiserver_ports,
    .classify = apiserver_classify,
};
