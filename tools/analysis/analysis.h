/*
 * analysis.h - the offline analysis: Kubernetes lifecycle data (tools/data/),
 * version parsing, CVE matching, Crypto-PAn address anonymisation,
 * prefix-to-AS and AS-to-organisation lookup, the statistics aggregator and
 * its readable and HTML forms. This header is the whole interface of
 * tools/analysis/, a library that prints nothing and exits nowhere (the
 * summary and report write to a FILE the caller gives).
 *
 * Convention: 0 / -1 with a message in err (KS_ERRLEN bytes).
 */
#ifndef KS_TOOLS_ANALYSIS_H
#define KS_TOOLS_ANALYSIS_H

#include "probes/probes.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- dates: whole UTC days since 1970-01-01 ---- */

#define KS_NO_DATE INT32_MIN

/* "YYYY-MM-DD" (a real calendar date) -> day number. */
int ks_date_parse(const char *text, int32_t *day);
/* Day number -> "YYYY-MM-DD" in out (at least 11 bytes). */
void ks_date_format(int32_t day, char *out);
/* The day of an ISO-8601 UTC timestamp "YYYY-MM-DDTHH:MM:SS..." (only the
 * date part is used). */
int ks_date_from_iso8601(const char *text, int32_t *day);

/* ---- Kubernetes versions ---- */

/* Pre-release kinds, ordered: 1.20.0-alpha.1 < -beta.0 < -rc.1 < 1.20.0. */
enum kver_pre { PRE_ALPHA = 0, PRE_BETA = 1, PRE_RC = 2, PRE_NONE = 3 };

struct kver {
    int major, minor, patch;  /* patch -1 when the string had none */
    enum kver_pre pre;
    int pre_number;           /* the N of -alpha.N, 0 if absent */
};

/* Parses a gitVersion ("v1.21.5", "v1.19.6-eks-49a6c0", "v1.20.0-alpha.2",
 * "v1.29.6+k3s1", "1.14") into out. Only -alpha/-beta/-rc suffixes make a
 * pre-release; vendor suffixes (-eks-..., -gke.N, +k3s1, git-describe -N+sha)
 * are builds of the base version. Returns 0, or -1 if it is not a version. */
int kver_parse(const char *text, struct kver *out);
/* Orders two versions (an unknown patch counts as 0): <0, 0, >0. */
int kver_compare(const struct kver *a, const struct kver *b);
/* The version of a stored result: gitVersion if it parses, else the
 * major/minor/patch fields; 0 if found, -1 if the result has no version
 * (version_state other than VERSION_VALID, or nothing parseable). */
int kver_of_result(const struct probe_result *r, struct kver *out);

/* ---- lifecycle data (tools/data/ JSON files) ---- */

enum lc_status { LC_UNKNOWN = 0, LC_SUPPORTED = 1, LC_UNSUPPORTED = 2 };

/* Which state of a provider's calendar judges a date: the calendar as it had
 * been published on that day (the default of `stats --as-of`), or today's
 * knowledge (the last revision of every row, `--calendar final`). */
enum lc_calendar { LC_CALENDAR_PUBLISHED = 0, LC_CALENDAR_FINAL = 1 };

/* Which end date counts: end of standard support, or the end of extended
 * support / LTS / EUS where the provider offers one (else standard). */
enum lc_view { LC_VIEW_STANDARD = 0, LC_VIEW_EXTENDED = 1 };

enum cve_scope { CVE_SCOPE_APISERVER = 0, CVE_SCOPE_NODE, CVE_SCOPE_CLIENT, CVE_SCOPE_OTHER };

enum constraint_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ };

/* A conjunction of constraints ("OP V, OP V"), hashicorp/go-version style. */
struct version_constraint {
    struct {
        enum constraint_op op;
        struct kver version;
    } bound[4];
    size_t bounds;
};

struct cve_range {
    struct version_constraint affected;
    bool has_fixed;
    struct kver fixed;
};

struct cve {
    char *id, *name, *severity;
    double cvss;
    enum cve_scope scope;
    bool has_fix;                 /* "fix": "available" (else "none": a design flaw) */
    bool unauthenticated;         /* exploitable without credentials by default ... */
    bool unauthenticated_all;     /* ... on every affected version, else only where
                                     unauthenticated_versions holds */
    struct version_constraint unauthenticated_versions;
    size_t feature_gate_count;    /* gates / non-default settings it needs */
    bool unverified;
    int32_t disclosed;            /* sourced public disclosure day, KS_NO_DATE if none */
    struct cve_range *ranges;
    size_t range_count;
    struct cve_range *other_ranges; /* "other_reading" (NULL when none): the fix
                                       reading the headline does not use */
    size_t other_range_count;
};

struct lc_minor {
    int major, minor;
    int32_t released, end_of_standard, end_of_life; /* KS_NO_DATE if unknown */
    bool planned;
};

/* One published state of a provider minor's calendar. */
struct lc_revision {
    int32_t published;
    bool aggregator;              /* dated by a third party, not by the provider */
    int32_t published_not_before; /* the provider published it in [this, published] */
    int32_t end_of_standard;      /* KS_NO_DATE: no end announced in this revision */
    int32_t end_of_extended;      /* KS_NO_DATE: no extended support in it */
};

struct lc_provider_minor {
    int major, minor;
    int32_t released;             /* KS_NO_DATE if unsourced */
    char product_version[16];     /* "4.7" for OpenShift rows, else "" */
    struct lc_revision *revisions;/* ascending by published, at least one */
    size_t revision_count;
};

struct lc_provider {
    char *id, *title;
    char *extended_name;          /* "extended support", "LTS", "EUS" or NULL */
    char **names;                 /* classifier names this table applies to */
    size_t name_count;
    bool older_minor_rule;        /* a source states: when a minor ends, every
                                     older one has ended too */
    struct lc_provider_minor *minors;
    size_t minor_count;
    struct lc_span {              /* days over which the provider's own */
        int32_t from, to;         /* dated history was read */
    } *history;
    size_t history_count;
};

/* etcd's own support (etcd.json): the `supported` newest minors released by
 * a day are supported on it. */
struct lc_etcd_minor {
    int major, minor;
    int32_t released;
};

struct lifecycle {
    struct lc_minor *minors;      /* ascending */
    size_t minor_count;
    int32_t upstream_revised;     /* newest upstream "revisions" day (an import), or
                                     KS_NO_DATE */
    struct lc_provider *providers;
    size_t provider_count;
    struct cve *cves;
    size_t cve_count;
    json_t *api_removals;         /* the "removals" array, for the report */
    struct lc_etcd_minor *etcd_minors; /* ascending */
    size_t etcd_minor_count;
    unsigned etcd_supported;      /* how many newest minors etcd supports */
};

/* Loads and validates the five data files (upstream.json, providers.json,
 * cves.json, api-removals.json, etcd.json) from dir, or the copies compiled
 * into the binary when dir is NULL. Any problem (JSON syntax, missing key,
 * a date that is not a date, dates out of order, a malformed range, a
 * duplicate): -1 with a message naming the file and the line or entry. */
int lifecycle_load(struct lifecycle **out, const char *dir, char *err);
/* One data file ("upstream.json", "providers.json", "cves.json" or
 * "api-removals.json") from `text` (NUL-terminated), validated as
 * lifecycle_load does, on top of the compiled-in upstream.json (the CVEs
 * read its release dates); the other files' tables stay empty. For the
 * tests and fuzzers of one file. */
int lifecycle_load_text(struct lifecycle **out, const char *file, const char *text, char *err);
void lifecycle_free(struct lifecycle *lc);
/* The names of the data files, in load order (upstream.json first,
 * providers.json second), NULL-terminated. */
#define LC_DATA_FILE_COUNT 5
extern const char *const lifecycle_data_files[LC_DATA_FILE_COUNT + 1];
/* The compiled-in copy of a data file ("upstream.json", ...), or NULL. */
const char *lifecycle_builtin_text(const char *file);

/* What lifecycle_import_eol changed. */
struct lc_import_result {
    char product[64];         /* the endoflife.date product imported */
    const char *file;         /* "upstream.json" or "providers.json" */
    size_t added_minors, changed_minors, added_revisions, unchanged;
};
/* Applies an endoflife.date API answer (`text`, named `name` in messages;
 * API v1, or the per-product array with product_given naming the product)
 * to the parsed data files: for "kubernetes", minors of upstream (new ones
 * added, new dates taken, an upstream "revisions" entry recording the
 * import); for a provider, a new row per unknown minor and a new revision
 * per changed end date, dated `today`, source_kind "aggregator", its
 * published_not_before the previous revision's day (or the release). A
 * date the file lacks never erases one the data has. The caller validates
 * the result with lifecycle_load before writing it. 0, or -1 with a message
 * naming the file and release; the JSON may then be partly changed. */
int lifecycle_import_eol(json_t *upstream, json_t *providers, const char *text,
                         const char *name, const char *product_given, int32_t today,
                         struct lc_import_result *res, char *err);

/* Upstream status of major.minor on day: UNSUPPORTED when day is after the
 * minor's end of life (or, with no date of its own, after the end of life of
 * a newer minor); UNKNOWN for a minor the data does not list and cannot
 * place (newer than every listed minor, or major != 1). */
enum lc_status lifecycle_upstream_status(const struct lifecycle *lc, int major, int minor,
                                         int32_t day);
/* The same by the provider's own window, in one view, with the calendar as
 * published on `day` or the final one. A provider name no table lists (k3s
 * without a table, upstream, other, NULL, ...) gets the upstream status. A
 * minor missing from the provider's table is UNKNOWN, unless the provider's
 * source states the older-minor rule and a newer minor of the table has
 * ended. A row whose revision in force announces no end is SUPPORTED. */
enum lc_status lifecycle_provider_status(const struct lifecycle *lc, const char *provider,
                                         int major, int minor, int32_t day,
                                         enum lc_calendar calendar, enum lc_view view);
/* "published" (or NULL) / "final" -> the calendar; -1 if neither. */
int lc_calendar_parse(const char *text, enum lc_calendar *out);
/* The revision of a provider row in force on day under calendar. */
const struct lc_revision *lifecycle_revision_on(const struct lc_provider_minor *m, int32_t day,
                                                enum lc_calendar calendar);
/* Days after a calendar's newest revision from which an as-of day is warned
 * about: the data may no longer know what the provider has published. */
#define LC_STALE_DAYS 90
/* The calendars whose newest revision is more than LC_STALE_DAYS before day:
 * "upstream" (its revisions are its minors' release days: a new minor is how
 * the upstream calendar changes) and each provider's id, written to out as
 * "upstream (newest 2026-08-26), iks (newest 2023-02-06)" ("" when none);
 * returns how many. */
size_t lifecycle_stale_calendars(const struct lifecycle *lc, int32_t day, char *out,
                                 size_t size);
/* The provider table for a classifier name, or NULL. */
const struct lc_provider *lifecycle_provider_find(const struct lifecycle *lc,
                                                  const char *provider);
/* Does the CVE's affected ranges contain v? An unknown patch matches only
 * when every patch of the minor is affected. */
bool cve_affects(const struct cve *cve, const struct kver *v);
/* Can an unauthenticated client exploit it on v in the default
 * configuration (v affected, unauthenticated, the version condition holds,
 * no feature gate needed)? */
bool cve_unauthenticated_on(const struct cve *cve, const struct kver *v);
/* Is v in the ranges of the CVE's other reading of its fix (false when it has
 * none)? */
bool cve_affects_other_reading(const struct cve *cve, const struct kver *v);
/* Had the CVE been made public by day (a sourced disclosure date on or
 * before it)? The one rule of every CVE list that stats prints as of a day. */
bool cve_public_on(const struct cve *cve, int32_t day);
/* Does the headline `cves` of stats count it on v as of day: apiserver scope,
 * a fix exists, unauthenticated on v by default, disclosed on or before day. */
bool cve_headline(const struct cve *cve, const struct kver *v, int32_t day);
const char *cve_scope_name(enum cve_scope scope);

/* ---- Crypto-PAn (Xu, Fan, Ammar, Moon 2002), IPv4 and IPv6 ---- */

struct cryptopan;

/* key: 32 bytes (16 AES-128 key, 16 pad secret); one key for both families. */
int cryptopan_new(struct cryptopan **out, const uint8_t key[32], char *err);
/* Reads a key file of exactly 32 bytes. */
int cryptopan_load_key(const char *path, uint8_t key[32], char *err);
/* Prefix-preserving: two addresses sharing their first k bits map to two
 * addresses sharing exactly their first k bits. Host byte order. Not
 * thread-safe (the object caches the previous address). */
uint32_t cryptopan_anonymize(struct cryptopan *cp, uint32_t addr);
/* The same over 128 bits (the construction of the common IPv6 extensions,
 * docs/export.md), network byte order; in and out may be the same array.
 * An IPv6 address whose first 32 bits are an IPv4 address a starts with
 * the first 32 bits of cryptopan_anonymize(a). */
void cryptopan_anonymize6(struct cryptopan *cp, const uint8_t in[16], uint8_t out[16]);
/* An address of either family (lib/addr.h), as records hold it: one call
 * for records of either family; in and out may be the same. */
void cryptopan_anonymize_addr(struct cryptopan *cp, const struct net_addr *in,
                              struct net_addr *out);
void cryptopan_free(struct cryptopan *cp);

/* ---- prefix -> origin AS (CAIDA RouteViews prefix2as, IPv4 and IPv6) ---- */

struct pfx2as;

/* Lines "prefix<TAB>length<TAB>AS" where AS is "N", "N_M" (multi-origin) or
 * "N,M" (AS set); '#' comments and blank lines ignored. A prefix with a ':'
 * is IPv6 (routeviews-rv6 files), else IPv4 (rv2); one table holds both,
 * so the IPv4 and the IPv6 file of a day load into the same one. Errors
 * name the file and the line. */
int pfx2as_load(struct pfx2as **out, const char *path, char *err);
int pfx2as_load_stream(struct pfx2as **out, FILE *in, const char *name, char *err);
/* An empty table, and adding a file (or stream) to a table: load the IPv4
 * file, then the IPv6 one. After an error the table holds part of the
 * file: free it. */
int pfx2as_new(struct pfx2as **out, char *err);
int pfx2as_add(struct pfx2as *p, const char *path, char *err);
int pfx2as_add_stream(struct pfx2as *p, FILE *in, const char *name, char *err);
/* Longest-prefix match among the prefixes of the address's family: 1 and
 * *origin set (the AS field as written, e.g. "16509" or "3_4") when found,
 * 0 when no prefix covers addr. IPv4 in host byte order; IPv6 in network
 * byte order; _addr takes an address of either family (lib/addr.h). */
int pfx2as_lookup(const struct pfx2as *p, uint32_t addr, const char **origin);
int pfx2as_lookup6(const struct pfx2as *p, const uint8_t addr[16], const char **origin);
int pfx2as_lookup_addr(const struct pfx2as *p, const struct net_addr *addr, const char **origin);
/* Prefixes loaded, of both families / of one (AF_INET or AF_INET6). */
size_t pfx2as_count(const struct pfx2as *p);
size_t pfx2as_count_family(const struct pfx2as *p, int family);
void pfx2as_free(struct pfx2as *p);

/* ---- AS -> organisation (CAIDA as2org, "format:" comment lines switch
 * between the aut and org sections) ---- */

struct as2org;

/* Lines "aut|changed|aut_name|org_id|opaque_id|source" and
 * "org_id|changed|org_name|country|source"; '#' comments ignored. Errors
 * name the line. */
int as2org_load(struct as2org **out, const char *path, char *err);
int as2org_load_stream(struct as2org **out, FILE *in, const char *name, char *err);
/* 1 and *org (organisation name), *country ("" if none) when the AS is
 * known, 0 if not. Strings owned by the table. */
int as2org_lookup(const struct as2org *a, uint32_t asn, const char **org, const char **country);
size_t as2org_count(const struct as2org *a);
void as2org_free(struct as2org *a);

/* ---- statistics over a stream of probe_results ---- */

struct stats;

struct stats_options {
    int32_t as_of;                  /* day number */
    enum lc_calendar calendar;      /* provider calendars as published on as_of, or final */
    const struct lifecycle *lc;
    const struct pfx2as *pfx2as;    /* optional: origin ASes */
    const struct as2org *as2org;    /* optional, with pfx2as: network owners */
};

int stats_new(struct stats **out, const struct stats_options *opt, char *err);
/* Adds one endpoint record. */
int stats_add(struct stats *s, const struct probe_result *r, char *err);
/* The DER of a certificate by its SHA-256: 1 and *der (malloc'ed, the
 * caller frees) if found, 0 if not, -1 with a message on error. */
typedef int (*stats_cert_lookup_fn)(void *ctx, const uint8_t sha256[32], uint8_t **der,
                                    size_t *length, char *err);
/* Reads every distinct serving certificate once, after the last stats_add,
 * for the cluster estimators that group certificates by cluster name and
 * cluster CA (without it they equal the certificate estimator). */
int stats_resolve_clusters(struct stats *s, stats_cert_lookup_fn lookup, void *ctx, char *err);
/* Records that n stored records could not be decoded. */
void stats_add_corrupt(struct stats *s, uint64_t n);
/* The statistics object (docs/statistics.md): new reference. */
json_t *stats_to_json(const struct stats *s);
void stats_free(struct stats *s);

/* ---- the surfaces beside the API servers (surfaces.c) ----
 * What the kubelet, kubelet-readonly and etcd modules found; stats keeps
 * one and puts it under "surfaces". */
struct surfaces;
/* Support of etcd versions is judged on day as_of (tools/data/etcd.json).
 * NULL when out of memory. */
struct surfaces *surfaces_new(int32_t as_of, const struct lifecycle *lc);
void surfaces_free(struct surfaces *s);
/* Counts r if one of those modules probed it (*counted true); leaves the
 * apiserver module's records to the API-server figures (*counted false).
 * -1 when out of memory. */
int surfaces_add(struct surfaces *s, const struct probe_result *r, bool *counted);
/* {"kubelet": {...}, "kubelet_readonly": {...}, "etcd": {...}}: new reference. */
json_t *surfaces_to_json(const struct surfaces *s);
/* Their section of the text summary, and of the HTML report. */
void surfaces_print(FILE *out, const json_t *surfaces);
void surfaces_report_html(FILE *out, const json_t *surfaces);

/* ---- node CVEs of kubelets (node_cves.c) ----
 * A kubelet's version bounded by the API server's on its address (the
 * version-skew policy: never newer); docs/statistics.md, "Node CVEs of
 * kubelets". */
struct node_cves;
/* CVEs are counted as public on day as_of (tools/data/cves.json). NULL when
 * out of memory. */
struct node_cves *node_cves_new(int32_t as_of, const struct lifecycle *lc);
void node_cves_free(struct node_cves *n);
/* An API server of version v answered on addr (the highest one bounds the
 * kubelets there); a kubelet endpoint is on addr. -1 when out of memory. */
int node_cves_add_apiserver(struct node_cves *n, const struct net_addr *addr,
                            const struct kver *v);
int node_cves_add_kubelet(struct node_cves *n, const struct net_addr *addr);
/* {"version_bound", "affected", "not_affected", "unknown", "by_cve"}: new
 * reference, NULL when out of memory. */
json_t *node_cves_to_json(const struct node_cves *n);
/* Is every version at or below bound (NULL: every version) affected by the
 * CVE (by both readings of its fix where there are two)? Is some? */
bool cve_affects_every_up_to(const struct cve *cve, const struct kver *bound);
bool cve_affects_some_up_to(const struct cve *cve, const struct kver *bound);

/* Human-readable summary of a stats_to_json object. */
void stats_print_summary(FILE *out, const json_t *stats);
/* The HTML report page for a stats_to_json object (self-contained). */
int report_write_html(FILE *out, const json_t *stats, const struct lifecycle *lc,
                      const char *title, char *err);
/* The HTML page of scans over time (series.c) for the object of
 * `stats --json` over several scans ({calendar, series, changes}). */
int report_write_series_html(FILE *out, const json_t *series, const char *title, char *err);

#endif
