/*
 * record.h - the record of one probed endpoint, defined once.
 *
 * struct probe_result is what a probe of one (address, port) finds; every
 * later stage (the store, the offline tools, the exports) works with it.
 * Its fields are listed once more, as data, in record_fields[]: the table
 * every serialiser walks (freeing and copying here, JSON and CSV in
 * record_json.c, the store's binary record in storage/record.c, the
 * anonymiser's edits in tools/). Adding a field is one member below, one
 * line in record_fields[] (record.c) and its tests. ZMap's fieldset is the
 * model: one neutral record that every output module reads.
 *
 * This module links nothing but libc. Conventions: strings in a record are
 * NUL-terminated and owned by it; functions return 0 / -1.
 */
#ifndef KS_LIB_RECORD_H
#define KS_LIB_RECORD_H

#include "lib/addr.h"

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

/* What the endpoint is. Append only: the numbers are stored. */
enum k8s_verdict {
    K8S_NO = 0,
    K8S_YES = 1,               /* a Kubernetes API server */
    K8S_KUBELET = 2,           /* a kubelet (its serving certificate), not an API server */
    K8S_VERDICT_COUNT
};

/* Evidence bits for a K8S_YES (or hints on a NO). */
enum k8s_evidence {
    EVIDENCE_CERT_MARKER   = 1u << 0, /* kubeadm/k3s/... strings in the leaf */
    EVIDENCE_VERSION_INFO  = 1u << 1, /* /version body is a version.Info */
    EVIDENCE_STATUS_BODY   = 1u << 2, /* 401/403 body is a Kubernetes Status */
    EVIDENCE_APISERVER_HDR = 1u << 3, /* X-Kubernetes-Pf-* / Audit-Id headers */
};

/* What the /version body was. Append only: the numbers are stored. */
enum version_state {
    VERSION_ABSENT = 0,   /* no body / not asked / non-200 */
    VERSION_VALID = 1,    /* a version.Info with a parseable gitVersion */
    VERSION_INVALID = 2,  /* JSON but not a usable version.Info, or garbage */
    VERSION_OTHER = 3,    /* a JSON /version of something else (etcd, Docker) */
    VERSION_STATE_COUNT
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
    struct net_addr addr;        /* IPv4 or IPv6 (lib/addr.h) */
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

    /* scan */
    bool all_ports_open;         /* the host answered on every port (engine.h, port_sample) */

    /* the probe module (version 4; docs/probes.md, "Modules") */
    char *module;                /* "apiserver", "kubelet", "kubelet-readonly", "etcd";
                                    NULL in records before version 4 (all apiserver) */
    bool tls_cert_requested;     /* the TLS server asked for a client certificate */
    char *finding;               /* what the module found (RECORD_FINDING_*), or NULL */
    char *etcd_server;           /* etcd's /version: "etcdserver" */
    char *etcd_cluster;          /* and "etcdcluster" ("not_decided" before a leader) */
};

/* The findings of the modules (probe_result.finding), one word each. */
#define RECORD_FINDING_AUTH_REQUIRED "authentication-required" /* kubelet: 401 */
#define RECORD_FINDING_ANON_FORBIDDEN "anonymous-forbidden"    /* kubelet: 403 */
#define RECORD_FINDING_ANON_OPEN "anonymous-open"              /* kubelet: anonymous served */
#define RECORD_FINDING_READONLY_OPEN "open"                    /* kubelet-readonly answered */
#define RECORD_FINDING_CLIENT_CERT_REQUIRED "client-cert-required" /* etcd refused without one */
#define RECORD_FINDING_NO_CLIENT_AUTH "no-client-auth"         /* etcd served /version */

/* The module of a record: its `module`, or "apiserver" for records made
 * before modules existed. */
const char *probe_result_module(const struct probe_result *r);

/* ---- the field table ---- */

/* How a field is held, and so how every serialiser writes it. */
enum field_type {
    FIELD_ADDR,        /* struct net_addr: JSON "a.b.c.d" or RFC 5952 text; store: from
                          record version 5 a family byte (4, 6) and 4 or 16 bytes,
                          before it 4 bytes IPv4 */
    FIELD_PORT,        /* uint16_t: store: 2 bytes big-endian */
    FIELD_I64,         /* int64_t: store: zig-zag varint */
    FIELD_U32,         /* uint32_t: store: varint */
    FIELD_INT,         /* int, -1 (any negative) = unknown: JSON null */
    FIELD_STATUS,      /* int HTTP status, 0 = none: JSON null */
    FIELD_BOOL,        /* bool: store: one bit of the flags byte, in table order */
    FIELD_STRING,      /* char *, NULL allowed */
    FIELD_OUTCOME,     /* enum probe_outcome: JSON its name */
    FIELD_VERDICT,     /* enum k8s_verdict: JSON its name */
    FIELD_K8S,         /* JSON only: the verdict field as true for K8S_YES */
    FIELD_VERSION_STATE, /* enum version_state: JSON its name */
    FIELD_EVIDENCE,    /* uint32_t bits: JSON a list of names; CSV joined by | */
    FIELD_CHAIN,       /* chain + chain_length: JSON a list of {sha256, length, der};
                          CSV chain_length and leaf_sha256 */
    FIELD_BODY,        /* body + body_length: JSON text, or null + body_base64 */
    FIELD_SIZE,        /* size_t, derived from another field (body_length): not stored */
};

/* Where a field goes besides JSON. */
enum field_flag {
    FIELD_CSV = 1u << 0,       /* a column of the CSV export */
    FIELD_STORED = 1u << 1,    /* in the store's binary record */
};

struct record_field {
    const char *name;          /* the JSON key and CSV column */
    enum field_type type;
    size_t offset;             /* offsetof(struct probe_result, ...) */
    unsigned flags;            /* enum field_flag */
    unsigned since;            /* store record version that added it (1, 2, ...) */
};

/* Every field, in the order of the JSON record (docs/probe-schema.md). */
extern const struct record_field record_fields[];
extern const size_t record_field_count;

/* The newest store record version the table describes: the largest since,
 * or RECORD_VERSION_ADDR_FAMILY, which added no field but the IPv6 form
 * of addr. */
#define RECORD_VERSION 5
#define RECORD_VERSION_ADDR_FAMILY 5

/* ---- lifetime ---- */

void probe_result_init(struct probe_result *r);
/* Frees every owned field and re-initialises r. */
void probe_result_free(struct probe_result *r);
/* A deep copy of src into dst (initialised by this call). -1 when out of
 * memory (dst then holds nothing). */
int probe_result_copy(struct probe_result *dst, const struct probe_result *src);

/* ---- names used in the JSON, CSV and docs ---- */

const char *probe_outcome_name(enum probe_outcome outcome);  /* "ok", "refused", ... */
const char *k8s_verdict_name(enum k8s_verdict verdict);      /* "no", "yes", "kubelet" */
const char *version_state_name(enum version_state state);    /* "absent", ... */
const char *k8s_evidence_name(enum k8s_evidence bit);        /* "cert-marker", ... */

/* The address of a field of r (for the serialisers). */
static inline void *record_field_ptr(const struct probe_result *r, const struct record_field *f)
{
    return (char *)r + f->offset;
}

/* ---- text forms (record_json.c) ---- */

/* What a JSON record carries of each certificate besides its hash and
 * length (only for certificates whose der is set). */
enum record_certs { RECORD_CERTS_DER = 0, RECORD_CERTS_PEM = 1 };

/* The record as one compact JSON object, fields in table order (for
 * JSON Lines): a malloc'ed NUL-terminated string, its length in *length.
 * `extra`, if not NULL, is text of further members (",\"scan\":1") put
 * before the closing brace. NULL only when out of memory. */
char *record_to_json(const struct probe_result *r, enum record_certs certs, const char *extra,
                     size_t *length);

/* The CSV header (column names, no newline) and one CSV line of r
 * (RFC 4180 quoting, no newline), the CSV fields in table order.
 * Malloc'ed; NULL when out of memory. */
char *record_csv_header(void);
char *record_csv_line(const struct probe_result *r);

#endif
