/*
 * probes.h - what a probe of one (address, port) finds, and the workers that
 * find it: TCP connect, TLS handshake (chain captured) or plain TCP, the
 * request of the target's module (HTTP GET /version for an API server),
 * then the module's classification.
 *
 * This header is the whole public interface of probes/. The record it
 * fills, struct probe_result, is defined in lib/record.h (the store and
 * the offline tools use it without linking the probes).
 *
 * Conventions: 0 / -1 with a message in `err` (KS_ERRLEN bytes). Strings in a
 * probe_result are NUL-terminated and owned by it (probe_result_free).
 */
#ifndef KS_PROBES_H
#define KS_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifndef KS_ERRLEN
#define KS_ERRLEN 512
#endif

#include "lib/record.h"

/* ------------------------------------------------------------------------
 * The record as a jansson tree (for readers that edit or embed it): the
 * same members and values as record_to_json's text (lib/record.h), which
 * is what the probes write. NULL only when out of memory. Caller
 * json_decref()s.
 * ---------------------------------------------------------------------- */
json_t *probe_result_to_json(const struct probe_result *r);

/* ------------------------------------------------------------------------
 * Classification: pure functions, no I/O (docs/probes.md lists the rules
 * and their sources in k8s-facts.md).
 * ---------------------------------------------------------------------- */

/* Upstream pre-release kinds, in release order (-alpha.N < -beta.N < -rc.N
 * < the release). */
enum k8s_prerelease {
    K8S_PRE_ALPHA = 0,
    K8S_PRE_BETA = 1,
    K8S_PRE_RC = 2,
    K8S_PRE_NONE = 3,
};

/* A gitVersion split by the one version grammar of the code base
 * (probes/version.c): ^v(\d{1,9})\.(\d{1,9})(\.(\d{1,9}))? then nothing,
 * "-..." or "+...". */
struct k8s_version {
    int major, minor, patch;  /* patch is -1 when the string has none */
    const char *suffix;       /* points into the parsed string: "", "-eks-49a6c0", "+k3s1" */
    enum k8s_prerelease pre;  /* from a suffix "-alpha[.]N", "-beta[.]N", "-rc[.]N"
                                 (followed by nothing, '.', '-' or '+'); else NONE */
    int pre_number;           /* that N, 0 if absent */
};

/* Flags of k8s_version_parse_flags. */
#define K8S_VERSION_OPTIONAL_V 1u /* accept "1.13.0" as well as "v1.13.0" */

/* 0 and `out` filled if `text` is a Kubernetes version ("v1.21.5...", and
 * without the 'v' under K8S_VERSION_OPTIONAL_V); -1 otherwise (NULL, empty,
 * no 'v', numbers missing or over 9 digits, junk after the numbers). */
int k8s_version_parse_flags(const char *text, unsigned flags, struct k8s_version *out);
/* The same without flags: a gitVersion, 'v' required. */
int k8s_version_parse(const char *git_version, struct k8s_version *out);
/* Orders two parsed versions: major, minor, patch (-1 counts as 0), then the
 * pre-release kind and number; vendor suffixes do not count. <0, 0, >0. */
int k8s_version_compare(const struct k8s_version *a, const struct k8s_version *b);

/* The distribution or managed service a gitVersion suffix names (rules and
 * sources in docs/probes.md): "eks" (managed EKS, -eks-<6|7 hex>),
 * "eks-distro" (EKS Distro / EKS Anywhere, -eks-M-N-R), "gke", "ack", "tke",
 * "cce", "iks", "k3s" (+k3sN, +k3s.N and the 2019 -k3s.N), "rke2", "k0s",
 * "vmware", "openshift" (+<7 hex>), "okd" (-N+<14 hex>-dirty on 1.16+),
 * "microk8s" (-N+<14 hex>), or "upstream" (no suffix, an upstream
 * pre-release such as -rc.1, or an upstream CI build -rc.1.5+<14 hex>), or
 * "other" (a suffix we do not know; the numbers still parse). NULL if the
 * string does not parse. Returns a static string. */
const char *k8s_provider_from_version(const char *git_version);

/* What a leaf certificate (DER) says. */
struct k8s_cert_facts {
    bool marker;              /* names only a Kubernetes API server carries */
    bool kubelet;             /* a kubelet serving certificate (O=system:nodes,
                                 CN=system:node:<name>; or the kubelet's own
                                 self-signed "<host>@<time>" issued by
                                 "<host>-ca@<time>") without an API server marker */
    const char *provider;     /* "aks", "eks", "gke", "k3s", "rke2", "openshift",
                                 "minikube", "docker-desktop", or NULL (static) */
};
/* 0 and `out` filled; -1 if the DER does not parse as X.509. */
int k8s_cert_inspect(const uint8_t *der, size_t length, struct k8s_cert_facts *out);

/* The control plane a leaf certificate belongs to, for the cluster
 * estimators of `stats` (docs/statistics.md, "Clusters"). Each key is "" when
 * the certificate does not give it.
 *  - name: a per-cluster host name from the SANs or the subject CN that a
 *    managed provider embeds a cluster id in (EKS "<32 hex>.<x>.<region>.eks.
 *    amazonaws.com", AKS "<prefix>-<hex>.hcp.<region>.azmk8s.io", their China
 *    and government-cloud domains, OpenShift "api.<cluster>.<base>"), lower
 *    case; the certificates of every node and every rotation of one managed
 *    cluster share it.
 *  - ca: the issuing cluster CA, for certificates a private cluster CA issued
 *    (issuer not a public web CA: issuer CN "kubernetes", "k3s-server-ca@...",
 *    "rke2-server-ca@...", "kube-apiserver-lb-signer", "minikubeCA", a UUID):
 *    the issuer DN and authority key identifier as hex text; every node of an
 *    HA control plane and every rotation share it. */
struct k8s_cluster_keys {
    char name[256];
    char ca[512];
};
/* 0 and `out` filled; -1 if the DER does not parse as X.509. */
int k8s_cert_cluster_keys(const uint8_t *der, size_t length, struct k8s_cluster_keys *out);

/* Fill the classification fields of `r` (k8s, evidence, provider,
 * version_state, git_version ... platform) from what the probe captured:
 * the leaf certificate, http_status, the headers and the body. Frees and
 * replaces any classification already there. Never fails on bad input
 * (garbage becomes VERSION_INVALID); on out of memory some strings stay
 * NULL. */
void k8s_classify(struct probe_result *r);

/* ------------------------------------------------------------------------
 * Modules: what a target is asked (docs/probes.md, "Modules"), as ZMap's
 * probe modules. Each has a name, a default transport (TCP or TLS), a
 * request, a response parser and a classifier; the registry (module.c)
 * numbers them, and a port map picks one per port.
 * ---------------------------------------------------------------------- */

/* The number of modules and the name / one-line summary of each (index
 * 0 .. count-1; index 0 is "apiserver", the module of every port the map
 * does not name). NULL beyond the count. */
unsigned probe_module_count(void);
const char *probe_module_name(unsigned module);
const char *probe_module_summary(unsigned module);
/* The default ports of a module, ending with 0 (empty for none). */
const uint16_t *probe_module_default_ports(unsigned module);
/* The index of the module called `name`, or -1. */
int probe_module_find(const char *name);

#define PROBE_MODULE_APISERVER 0
#define PROBE_PORT_MAP_MAX 64

/* Which module probes which port: the modules' default ports, changed by
 * `--module PORT=NAME` (at most PROBE_PORT_MAP_MAX). */
struct probe_port_map {
    unsigned count;
    struct {
        uint16_t port;
        uint8_t module;
    } set[PROBE_PORT_MAP_MAX];
};
/* The module of `port`: the map's choice, else the module whose default
 * ports list it, else apiserver. */
unsigned probe_module_for_port(const struct probe_port_map *map, uint16_t port);
/* Adds "PORT=NAME" to the map (a port given twice: the last wins). 0, or -1
 * with err naming what was wrong. */
int probe_port_map_add(struct probe_port_map *map, const char *spec, char *err);

/* ------------------------------------------------------------------------
 * The worker pool: threads, each an epoll loop over non-blocking TCP (and
 * TLS) connections, each probe ending in exactly one call of `done`.
 * ---------------------------------------------------------------------- */

/* The defaults, in one place (the options' help texts print these). */
#define PROBE_DEFAULT_CONCURRENCY 1024
/* Connections in flight one worker thread keeps fed at internet round
 * trips: a worker completes 1,400-2,800 probes/s (0.35-0.7 ms of CPU
 * each) and a probe there lasts 3+ round trips (~0.43 s at 150 ms), so
 * 600-1,200. The default workers are one per this many, at most one per
 * CPU (docs/probes.md, "Worker threads"). */
#define PROBE_CONNECTIONS_PER_WORKER 1024
#define PROBE_DEFAULT_CONNECT_TIMEOUT_MS 3000
#define PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000
#define PROBE_DEFAULT_RESPONSE_TIMEOUT_MS 5000
#define PROBE_DEFAULT_MAX_HEADER_BYTES 16384
#define PROBE_DEFAULT_MAX_BODY_BYTES 65536
#define PROBE_DEFAULT_MAX_CHAIN_BYTES 102400
#define PROBE_RETRIES_DEFAULT 1
#define PROBE_RETRIES_MAX 5

struct probe_config {
    unsigned threads;             /* worker threads; 0 = number of online CPUs */
    unsigned concurrency;         /* connections in flight, all threads; 0 = default */
    unsigned connect_timeout_ms;  /* 0 = default */
    unsigned handshake_timeout_ms;/* from TCP established to TLS done; 0 = default */
    unsigned response_timeout_ms; /* from request written to response parsed; 0 = default */
    unsigned total_timeout_ms;    /* absolute, from the start of an attempt; 0 = the
                                     sum of the three */
    unsigned retries;             /* new connections after a connect timeout or a
                                     handshake timeout with nothing received (a lost
                                     packet, not a refusal); PROBE_RETRIES_DEFAULT
                                     unless retries_set */
    bool retries_set;             /* retries was given (0 is a valid choice) */
    size_t max_header_bytes;      /* status line + headers; 0 = default */
    size_t max_body_bytes;        /* body kept (and read); 0 = default */
    size_t max_chain_bytes;       /* server Certificate message; 0 = default */
    const char *user_agent;       /* NULL = PROBE_DEFAULT_USER_AGENT; copied */
    bool no_fast_keys;            /* keep OpenSSL 3.0's own (slower) key decoding,
                                     X25519 and TLS 1.3 key schedule (see
                                     probes/fastkey.c, probes/fastkdf.c;
                                     process-wide) */
    struct probe_port_map modules;/* for the callers' probe_module_for_port */
};

#define PROBE_DEFAULT_USER_AGENT \
    "kubesurvey/0.1 (research survey of exposed Kubernetes API servers; " \
    "opt out: kubesurvey-optout@example.org)"

/* Fills every 0/NULL field of `cfg` with its default (what create uses). */
void probe_config_defaults(struct probe_config *cfg);

/* What to probe: an address of either family. */

/* Flags of a target, copied into its record. */
#define PROBE_TARGET_ALL_PORTS_OPEN 1u /* the host answers on every port (engine.h) */

struct probe_target {
    struct net_addr addr;         /* lib/addr.h */
    uint8_t module;               /* index in the registry (probe_module_for_port) */
    uint16_t port;
    uint32_t flags;               /* PROBE_TARGET_* */
    uint64_t tag;                 /* the caller's, given back with the result */
};

/* A target (every other field 0). */
void probe_target_init(struct probe_target *t, const struct net_addr *addr, uint16_t port,
                       unsigned module, uint64_t tag);
/* An IPv4 target (addr in host byte order). */
void probe_target_ipv4(struct probe_target *t, uint32_t addr, uint16_t port, unsigned module,
                       uint64_t tag);

/* Called on a worker thread when a probe ends, once per submitted target,
 * concurrently from several threads, with the target as submitted (its tag
 * and flags). The callee takes ownership of the contents of *r (keep them,
 * or probe_result_free(r)); both structs belong to the pool and are reused
 * after the call returns. */
typedef void (*probe_done_fn)(void *ctx, const struct probe_target *t, struct probe_result *r);

struct probe_pool;

/* Start the threads. Raises RLIMIT_NOFILE to what `concurrency` needs and
 * fails (naming the limit) if that is impossible. */
int probe_pool_create(struct probe_pool **out, const struct probe_config *cfg,
                      probe_done_fn done, void *ctx, char *err);

/* Raises RLIMIT_NOFILE to what a pool with `cfg` needs (probe_pool_create
 * does the same). For callers that drop privileges before creating the pool:
 * beyond the hard limit this needs CAP_SYS_RESOURCE. */
int probe_pool_reserve_fds(const struct probe_config *cfg, char *err);

/* Queue one probe. Blocks while the pool is full (every connection slot in
 * use and the queues full). Thread-safe. -1 if the pool is finishing, or
 * the target names no module. */
int probe_pool_submit(struct probe_pool *p, const struct probe_target *t);

/* Counters, readable at any time (monotonic, 64-bit). */
struct probe_pool_stats {
    uint64_t submitted, completed;
    uint64_t by_outcome[PROBE_OUTCOME_COUNT];
    uint64_t retries;             /* connections started again (see retries) */
    uint64_t recovered;           /* retried probes that then ended in neither
                                     connect-timeout nor tls-timeout */
};
void probe_pool_stats(struct probe_pool *p, struct probe_pool_stats *out);

/* Wait for every submitted probe to end (each `done` called), stop and join
 * the threads, free everything. `p` is gone afterwards even on -1. The
 * final counters go to *final unless it is NULL. */
int probe_pool_finish(struct probe_pool *p, struct probe_pool_stats *final, char *err);

#endif
