/*
 * mod_etcd.c - etcd's client port: GET /version only, over TLS, or in the
 * clear when the server does not speak TLS. etcd answers
 * {"etcdserver":"3.5.9","etcdcluster":"3.5.0"} (server/etcdserver/api/
 * etcdhttp/version.go); no key is ever read. With --client-cert-auth or a
 * --trusted-ca-file, etcd's TLS demands a client certificate
 * (client/pkg/transport/listener.go: RequireAndVerifyClientCert), so the
 * handshake (TLS 1.2) or the first read (TLS 1.3) fails after the server
 * asked for one. Sources: docs/probes.md, "Modules".
 */
#include "probes/internal.h"

#include <stdlib.h>
#include <string.h>

#define ETCD_VERSION_MAX 64

/* An etcd version as etcd prints it: digits and dots, then at most a
 * pre-release or build suffix ("3.5.0-rc.1", "3.6.0-alpha.0+git");
 * cluster versions are "3.5.0" or "not_decided". Printable, short. */
static bool plausible_version(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ETCD_VERSION_MAX)
        return false;
    if (!strcmp(s, "not_decided"))
        return true;
    if (s[0] < '0' || s[0] > '9')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-' || c == '+' || c == '_'))
            return false;
    }
    return true;
}

int etcd_version_parse(const uint8_t *body, size_t length, char **server, char **cluster)
{
    *server = *cluster = NULL;
    if (!body || length == 0)
        return -1;
    json_t *o = json_loadb((const char *)body, length, 0, NULL);
    const char *s = json_string_value(json_object_get(o, "etcdserver"));
    const char *c = json_string_value(json_object_get(o, "etcdcluster"));
    int rc = -1;
    if (json_is_object(o) && s && plausible_version(s)) {
        *server = strdup(s);
        if (c && plausible_version(c))
            *cluster = strdup(c);
        rc = *server ? 0 : -1;
    }
    json_decref(o);
    return rc;
}

static void etcd_classify(struct probe_result *r, X509 *leaf)
{
    /* /version is the API server's path too: its classification applies
     * as it is (an etcd body is version_state "other"). */
    k8s_classify_with_leaf(r, leaf);
    free(r->finding);
    free(r->etcd_server);
    free(r->etcd_cluster);
    r->finding = r->etcd_server = r->etcd_cluster = NULL;
    if (r->outcome == PROBE_OK && r->http_status == 200 &&
        etcd_version_parse(r->body, r->body_length, &r->etcd_server, &r->etcd_cluster) == 0)
        r->finding = strdup(RECORD_FINDING_NO_CLIENT_AUTH);
    else if (r->tls_cert_requested && r->outcome != PROBE_OK)
        r->finding = strdup(RECORD_FINDING_CLIENT_CERT_REQUIRED);
}

static const uint16_t etcd_ports[] = {2379, 0};

const struct probe_module module_etcd = {
    .name = "etcd",
    .summary = "etcd client port: TLS or plain, GET /version only; client certificate demanded?",
    .transport = &transport_tls,
    .fallback = &transport_tcp,
    .protocol = &protocol_http,
    .path = "/version",
    .default_ports = etcd_ports,
    .classify = etcd_classify,
};
