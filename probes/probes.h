/*
 * probes.h - what a probe of one (address, port) finds, and the workers that
 * find it: TCP connect, TLS handshake (chain captured), HTTP GET /version,
 * then Kubernetes classification.
 *
 * This header is the whole public interface of probes/. struct probe_result
 * is the record every later stage (storage, tools) works with.
 *
 * Conventions: 0 / -1 with a message in `err` (KS_ERRLEN bytes). Strings in a
 * probe_result are NUL-terminated and owned by it (probe_result_free).
 */
#ifndef KS_PROBES_H
#define KS_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef KS_ERRLEN
#define KS_ERRLEN 512
#endif

/* How a probe ended. Append only: the numbers are stored. */
enum probe_outcome {
    PROBE_OK = 0,              /* TLS done and an HTTP response parsed */
    PROBE_REFUSED = 1,         /* RST to our connect */
    PROBE_CONNECT_TIMEOUT = 2,
    PROBE_CONNECT_ERROR = 3,   /* other connect failure (unreachable, ...) */
    PROBE_TLS_TIMEOUT = 4,
    PROBE_TLS_ERROR = 5,       /* alert, protocol error, not TLS, reset */
    PROBE_HTTP_TIMEOUT = 6,
    PROBE_HTTP_ERROR = 7,      /* unparseable response, limits exceeded */
    PROBE_CLOSED = 8,          /* peer closed before a complete response */
    PROBE_INTERNAL_ERROR = 9,  /* out of memory, out of descriptors */
    PROBE_OUTCOME_COUNT
};
const char *probe_outcome_name(enum probe_outcome outcome);

/* Is it a Kubernetes API server? Append only. */
enum k8s_verdict {
    K8S_NO = 0,
    K8S_YES = 1,
};

/* Evidence bits for a K8S_YES (or hints on a NO). */
enum k8s_evidence {
    EVIDENCE_CERT_MARKER   = 1u << 0, /* kubeadm/k3s/... strings in the leaf */
    EVIDENCE_VERSION_INFO  = 1u << 1, /* /version body is a version.Info */
    EVIDENCE_STATUS_BODY   = 1u << 2, /* 401/403 body is a Kubernetes Status */
    EVIDENCE_APISERVER_HDR = 1u << 3, /* X-Kubernetes-Pf-* / Audit-Id headers */
};

/* What the /version body was. Append only. */
enum version_state {
    VERSION_ABSENT = 0,   /* no body / not asked / non-200 */
    VERSION_VALID = 1,    /* a version.Info with a parseable gitVersion */
    VERSION_INVALID = 2,  /* JSON but not a usable version.Info, or garbage */
    VERSION_OTHER = 3,    /* a JSON /version of something else (etcd, Docker) */
};

#define PROBE_CHAIN_MAX 16

/* One certificate of a chain. Readers of the store may get only the hash
 * and length (der == NULL) when they did not ask for certificate bodies. */
struct cert_der {
    uint8_t *der;
    size_t length;
    uint8_t sha256[32];
};

struct probe_result {
    /* identity */
    uint32_t addr;               /* IPv4, host byte order */
    uint16_t port;
    int64_t started_ms;          /* Unix time in milliseconds */
    uint32_t duration_ms;

    /* outcome */
    enum probe_outcome outcome;
    char *error;                 /* reason text for a failure, else NULL */

    /* TLS */
    bool tls_done;
    char *tls_version;           /* "TLSv1.3" */
    char *tls_cipher;
    char *tls_alpn;              /* NULL if none negotiated */
    struct cert_der chain[PROBE_CHAIN_MAX]; /* leaf first */
    size_t chain_length;
    bool chain_truncated;        /* server sent more than PROBE_CHAIN_MAX */

    /* HTTP */
    int http_status;             /* 0 if none */
    char *http_server;           /* Server header */
    char *http_content_type;
    char *http_audit_id;         /* Audit-Id */
    char *http_pf_flowschema;    /* X-Kubernetes-Pf-Flowschema-Uid */
    char *http_pf_prioritylevel; /* X-Kubernetes-Pf-Prioritylevel-Uid */
    uint8_t *body;               /* up to the body limit, not NUL-terminated */
    size_t body_length;
    bool body_truncated;

    /* classification */
    enum k8s_verdict k8s;
    uint32_t evidence;           /* enum k8s_evidence bits */
    char *provider;              /* "eks", "gke", "aks", "k3s", ..., "upstream"; NULL if not k8s */
    enum version_state version_state;
    char *git_version;           /* raw gitVersion */
    int version_major, version_minor, version_patch; /* -1 if unknown */
    char *version_suffix;        /* "-eks-49a6c0", "+k3s1", "" */
    char *git_commit;
    char *build_date;
    char *go_version;
    char *platform;
};

void probe_result_init(struct probe_result *r);
void probe_result_free(struct probe_result *r);

#endif
