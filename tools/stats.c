/*
 * stats.c - the statistics of docs/statistics.md over a stream of
 * probe_results. Memory is bounded by the number of distinct providers,
 * minors, versions and origin ASes, plus one 32-byte key per distinct
 * serving certificate of a Kubernetes endpoint (for `clusters`).
 */
#include "tools/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lifecycle answers are fixed for a run (one as_of): cached per 1.N minor,
 * 0 = not computed yet, else enum lc_status + 1. */
#define STATUS_CACHE_MINORS 256

struct provider_count {
    char *name;
    uint64_t hosts, version_public, unsupported, provider_unsupported;
    uint8_t status[STATUS_CACHE_MINORS];
};

struct minor_count {
    int major, minor;
    uint64_t count;
};

/* version -> which CVEs affect it, computed once per distinct version */
struct version_slot {
    uint64_t key;        /* 0 = empty */
    uint64_t *cves;      /* bitset of lc->cves */
};

/* What the endpoints presenting one certificate showed (cluster level). */
enum cluster_flag {
    CLUSTER_VERSION = 1,              /* some endpoint gave a version */
    CLUSTER_UNSUPPORTED = 2,          /* some endpoint past upstream EOL */
    CLUSTER_PROVIDER_UNSUPPORTED = 4, /* some endpoint past its provider's window */
};

struct cert_slot {
    uint8_t sha256[32];
    bool used;
    uint8_t flags;                    /* enum cluster_flag */
};

/* Per origin AS also the classifier's providers of its Kubernetes
 * endpoints (provider by version string / certificate vs by network), for
 * the first NETWORK_PROVIDERS provider names seen; later names count as
 * "(other)". */
#define NETWORK_PROVIDERS 24

struct network_count {
    const char *origin;  /* owned by the pfx2as table */
    uint64_t k8s, version_public, unsupported;
    uint32_t providers[NETWORK_PROVIDERS + 1];
};

struct stats {
    struct stats_options opt;
    uint64_t syn_open, tls, k8s, k8s_by_cert, version_public, unsupported,
        provider_unsupported, lifecycle_unknown, provider_lifecycle_unknown, auth_public,
        auth_401, auth_403, corrupt, k8s_without_cert, k8s_no_network;
    uint64_t nocert_version, nocert_unsupported, nocert_provider_unsupported;

    struct provider_count *providers;
    size_t provider_count, provider_cap;
    size_t last_provider;            /* index of the previous record's provider */
    uint8_t upstream_status[STATUS_CACHE_MINORS];
    struct minor_count *minors;
    size_t minor_count, minor_cap;

    size_t cve_words;
    bool *cve_counted;       /* apiserver scope and published by as_of */
    uint64_t *cve_hits;
    struct version_slot *versions;
    size_t version_used, version_cap;

    struct cert_slot *certs;
    size_t cert_used, cert_cap;

    struct network_count *networks;
    size_t network_used, network_cap;
};

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
    return h;
}

int stats_new(struct stats **out, const struct stats_options *opt, char *err)
{
    struct stats *s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    s->opt = *opt;
    size_t n = opt->lc->cve_count;
    s->cve_words = (n + 63) / 64;
    s->cve_counted = calloc(n + 1, sizeof(bool));
    s->cve_hits = calloc(n + 1, sizeof(uint64_t));
    s->version_cap = 256;
    s->versions = calloc(s->version_cap, sizeof(*s->versions));
    s->cert_cap = 1024;
    s->certs = calloc(s->cert_cap, sizeof(*s->certs));
    if (!s->cve_counted || !s->cve_hits || !s->versions || !s->certs)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const struct cve *c = &opt->lc->cves[i];
        s->cve_counted[i] = c->scope == CVE_SCOPE_APISERVER &&
                            (c->published == KS_NO_DATE || c->published <= opt->as_of);
    }
    *out = s;
    return 0;
oom:
    stats_free(s);
    snprintf(err, KS_ERRLEN, "out of memory");
    return -1;
}

void stats_free(struct stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->provider_count; i++)
        free(s->providers[i].name);
    free(s->providers);
    free(s->minors);
    for (size_t i = 0; s->versions && i < s->version_cap; i++)
        free(s->versions[i].cves);
    free(s->versions);
    free(s->cve_counted);
    free(s->cve_hits);
    free(s->certs);
    free(s->networks);
    free(s);
}

void stats_add_corrupt(struct stats *s, uint64_t n)
{
    s->corrupt += n;
}

static struct provider_count *provider_get(struct stats *s, const char *name)
{
    if (!name || !*name)
        name = "unknown";
    if (s->last_provider < s->provider_count &&
        !strcmp(s->providers[s->last_provider].name, name))
        return &s->providers[s->last_provider];
    for (size_t i = 0; i < s->provider_count; i++)
        if (!strcmp(s->providers[i].name, name)) {
            s->last_provider = i;
            return &s->providers[i];
        }
    if (s->provider_count == s->provider_cap) {
        size_t cap = s->provider_cap ? s->provider_cap * 2 : 16;
        struct provider_count *p = realloc(s->providers, cap * sizeof(*p));
        if (!p)
            return NULL;
        s->providers = p;
        s->provider_cap = cap;
    }
    struct provider_count *p = &s->providers[s->provider_count];
    *p = (struct provider_count){.name = strdup(name)};
    if (!p->name)
        return NULL;
    s->last_provider = s->provider_count++;
    return p;
}

static int minor_add(struct stats *s, int major, int minor)
{
    for (size_t i = 0; i < s->minor_count; i++)
        if (s->minors[i].major == major && s->minors[i].minor == minor) {
            s->minors[i].count++;
            return 0;
        }
    if (s->minor_count == s->minor_cap) {
        size_t cap = s->minor_cap ? s->minor_cap * 2 : 64;
        struct minor_count *m = realloc(s->minors, cap * sizeof(*m));
        if (!m)
            return -1;
        s->minors = m;
        s->minor_cap = cap;
    }
    s->minors[s->minor_count++] = (struct minor_count){major, minor, 1};
    return 0;
}

/* Packs a version into a nonzero 64-bit key; 0 if a field is out of range
 * (such versions are matched without the cache). */
static uint64_t version_key(const struct kver *v)
{
    if (v->major < 0 || v->major > 0xffff || v->minor < 0 || v->minor > 0xffff ||
        v->patch < -1 || v->patch > 0xffffe || v->pre_number < 0 || v->pre_number > 0x3ff)
        return 0;
    return 1ULL << 63 | (uint64_t)v->major << 47 | (uint64_t)v->minor << 31 |
           (uint64_t)(v->patch + 1) << 11 | (uint64_t)v->pre << 10 | (uint64_t)v->pre_number;
}

static int version_table_grow(struct stats *s)
{
    size_t cap = s->version_cap * 2;
    struct version_slot *t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (size_t i = 0; i < s->version_cap; i++) {
        if (!s->versions[i].key)
            continue;
        size_t j = hash64(s->versions[i].key) & (cap - 1);
        while (t[j].key)
            j = (j + 1) & (cap - 1);
        t[j] = s->versions[i];
    }
    free(s->versions);
    s->versions = t;
    s->version_cap = cap;
    return 0;
}

static void count_cves_direct(struct stats *s, const struct kver *v)
{
    for (size_t i = 0; i < s->opt.lc->cve_count; i++)
        if (s->cve_counted[i] && cve_affects(&s->opt.lc->cves[i], v))
            s->cve_hits[i]++;
}

static int count_cves(struct stats *s, const struct kver *v)
{
    uint64_t key = version_key(v);
    if (!key) {
        count_cves_direct(s, v);
        return 0;
    }
    size_t j = hash64(key) & (s->version_cap - 1);
    while (s->versions[j].key && s->versions[j].key != key)
        j = (j + 1) & (s->version_cap - 1);
    if (!s->versions[j].key) {
        uint64_t *bits = calloc(s->cve_words + 1, sizeof(uint64_t));
        if (!bits)
            return -1;
        for (size_t i = 0; i < s->opt.lc->cve_count; i++)
            if (s->cve_counted[i] && cve_affects(&s->opt.lc->cves[i], v))
                bits[i / 64] |= 1ULL << (i % 64);
        s->versions[j] = (struct version_slot){key, bits};
        s->version_used++;
        if (s->version_used * 2 > s->version_cap) {
            if (version_table_grow(s) != 0)
                return -1;
            return count_cves(s, v);
        }
    }
    const uint64_t *bits = s->versions[j].cves;
    for (size_t w = 0; w < s->cve_words; w++)
        for (uint64_t b = bits[w]; b; b &= b - 1)
            s->cve_hits[w * 64 + (size_t)__builtin_ctzll(b)]++;
    return 0;
}

static int cert_table_grow(struct stats *s)
{
    size_t cap = s->cert_cap * 2;
    struct cert_slot *t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (size_t i = 0; i < s->cert_cap; i++) {
        if (!s->certs[i].used)
            continue;
        uint64_t h;
        memcpy(&h, s->certs[i].sha256, 8);
        size_t j = h & (cap - 1);
        while (t[j].used)
            j = (j + 1) & (cap - 1);
        t[j] = s->certs[i];
    }
    free(s->certs);
    s->certs = t;
    s->cert_cap = cap;
    return 0;
}

/* Finds or adds a leaf hash in the set of serving certificates (SHA-256
 * output is uniform, so its first 8 bytes are the hash). The slot stays
 * valid until the next cert_add. NULL when out of memory. */
static struct cert_slot *cert_add(struct stats *s, const uint8_t sha256[32])
{
    if ((s->cert_used + 1) * 2 > s->cert_cap && cert_table_grow(s) != 0)
        return NULL;
    uint64_t h;
    memcpy(&h, sha256, 8);
    size_t j = h & (s->cert_cap - 1);
    while (s->certs[j].used) {
        if (!memcmp(s->certs[j].sha256, sha256, 32))
            return &s->certs[j];
        j = (j + 1) & (s->cert_cap - 1);
    }
    memcpy(s->certs[j].sha256, sha256, 32);
    s->certs[j].used = true;
    s->cert_used++;
    return &s->certs[j];
}

static struct network_count *network_get(struct stats *s, const char *origin)
{
    if (s->network_used * 2 >= s->network_cap) {
        size_t cap = s->network_cap ? s->network_cap * 2 : 256;
        struct network_count *t = calloc(cap, sizeof(*t));
        if (!t)
            return NULL;
        for (size_t i = 0; i < s->network_cap; i++) {
            if (!s->networks[i].origin)
                continue;
            size_t j = hash_string(s->networks[i].origin) & (cap - 1);
            while (t[j].origin)
                j = (j + 1) & (cap - 1);
            t[j] = s->networks[i];
        }
        free(s->networks);
        s->networks = t;
        s->network_cap = cap;
    }
    size_t j = hash_string(origin) & (s->network_cap - 1);
    while (s->networks[j].origin && strcmp(s->networks[j].origin, origin))
        j = (j + 1) & (s->network_cap - 1);
    if (!s->networks[j].origin) {
        s->networks[j].origin = origin;
        s->network_used++;
    }
    return &s->networks[j];
}

int stats_add(struct stats *s, const struct probe_result *r, char *err)
{
    s->syn_open++;
    if (r->tls_done)
        s->tls++;
    if (r->k8s != K8S_YES)
        return 0;
    s->k8s++;
    if (r->evidence & EVIDENCE_CERT_MARKER)
        s->k8s_by_cert++;
    if (r->http_status == 200)
        s->auth_public++;
    else if (r->http_status == 401)
        s->auth_401++;
    else if (r->http_status == 403)
        s->auth_403++;
    struct cert_slot *cluster = NULL;
    if (r->chain_length > 0) {
        if (!(cluster = cert_add(s, r->chain[0].sha256)))
            goto oom;
    } else {
        s->k8s_without_cert++;
    }
    struct provider_count *p = provider_get(s, r->provider);
    if (!p)
        goto oom;
    p->hosts++;

    struct network_count *net = NULL;
    const char *origin;
    if (s->opt.pfx2as) {
        if (pfx2as_lookup(s->opt.pfx2as, r->addr, &origin)) {
            if (!(net = network_get(s, origin)))
                goto oom;
            net->k8s++;
            size_t pi = (size_t)(p - s->providers);
            net->providers[pi < NETWORK_PROVIDERS ? pi : NETWORK_PROVIDERS]++;
        } else {
            s->k8s_no_network++;
        }
    }

    struct kver v;
    if (kver_of_result(r, &v) != 0)
        return 0;
    s->version_public++;
    p->version_public++;
    if (cluster)
        cluster->flags |= CLUSTER_VERSION;
    else
        s->nocert_version++;
    if (net)
        net->version_public++;
    if (minor_add(s, v.major, v.minor) != 0 || count_cves(s, &v) != 0)
        goto oom;
    enum lc_status up, prov;
    if (v.major == 1 && v.minor < STATUS_CACHE_MINORS) {
        if (!s->upstream_status[v.minor])
            s->upstream_status[v.minor] =
                (uint8_t)(1 + lifecycle_upstream_status(s->opt.lc, 1, v.minor, s->opt.as_of));
        if (!p->status[v.minor])
            p->status[v.minor] = (uint8_t)(1 + lifecycle_provider_status(
                                                   s->opt.lc, r->provider, 1, v.minor, s->opt.as_of));
        up = (enum lc_status)(s->upstream_status[v.minor] - 1);
        prov = (enum lc_status)(p->status[v.minor] - 1);
    } else {
        up = lifecycle_upstream_status(s->opt.lc, v.major, v.minor, s->opt.as_of);
        prov = lifecycle_provider_status(s->opt.lc, r->provider, v.major, v.minor, s->opt.as_of);
    }
    if (up == LC_UNSUPPORTED) {
        if (cluster)
            cluster->flags |= CLUSTER_UNSUPPORTED;
        else
            s->nocert_unsupported++;
        s->unsupported++;
        p->unsupported++;
        if (net)
            net->unsupported++;
    } else if (up == LC_UNKNOWN) {
        s->lifecycle_unknown++;
    }
    if (prov == LC_UNSUPPORTED) {
        if (cluster)
            cluster->flags |= CLUSTER_PROVIDER_UNSUPPORTED;
        else
            s->nocert_provider_unsupported++;
        s->provider_unsupported++;
        p->provider_unsupported++;
    } else if (prov == LC_UNKNOWN) {
        s->provider_lifecycle_unknown++;
    }
    return 0;
oom:
    snprintf(err, KS_ERRLEN, "out of memory");
    return -1;
}

static json_t *share(uint64_t part, uint64_t whole)
{
    return whole ? json_real((double)part / (double)whole) : json_null();
}

static int cmp_provider_name(const void *a, const void *b)
{
    return strcmp(((const struct provider_count *)a)->name, ((const struct provider_count *)b)->name);
}

static int cmp_minor_count(const void *a, const void *b)
{
    const struct minor_count *x = a, *y = b;
    if (x->major != y->major)
        return x->major < y->major ? -1 : 1;
    return (x->minor > y->minor) - (x->minor < y->minor);
}

static int cmp_network(const void *a, const void *b)
{
    const struct network_count *x = a, *y = b;
    if (x->k8s != y->k8s)
        return x->k8s > y->k8s ? -1 : 1;
    return strcmp(x->origin, y->origin);
}

#define TOP_NETWORKS 20

static json_t *networks_json(const struct stats *s)
{
    json_t *arr = json_array();
    struct network_count *all = calloc(s->network_used + 1, sizeof(*all));
    size_t n = 0;
    if (!all)
        return arr;
    for (size_t i = 0; i < s->network_cap; i++)
        if (s->networks[i].origin)
            all[n++] = s->networks[i];
    qsort(all, n, sizeof(*all), cmp_network);
    for (size_t i = 0; i < n && i < TOP_NETWORKS; i++) {
        json_t *providers = json_object();
        for (size_t p = 0; p <= NETWORK_PROVIDERS; p++)
            if (all[i].providers[p])
                json_object_set_new(providers,
                                    p < NETWORK_PROVIDERS ? s->providers[p].name : "(other)",
                                    json_integer((json_int_t)all[i].providers[p]));
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:o}", "as", all[i].origin,
                                             "k8s", (json_int_t)all[i].k8s, "version_public",
                                             (json_int_t)all[i].version_public, "unsupported",
                                             (json_int_t)all[i].unsupported, "providers",
                                             providers));
    }
    free(all);
    return arr;
}

json_t *stats_to_json(const struct stats *s)
{
    char day[11];
    ks_date_format(s->opt.as_of, day);
    json_t *o = json_object();
    json_object_set_new(o, "as_of", json_string(day));
#define SET(key, value) json_object_set_new(o, key, json_integer((json_int_t)(value)))
    SET("syn_open", s->syn_open);
    SET("tls", s->tls);
    SET("k8s", s->k8s);
    SET("k8s_by_cert", s->k8s_by_cert);
    SET("version_public", s->version_public);
    SET("unsupported", s->unsupported);
    json_object_set_new(o, "unsupported_share", share(s->unsupported, s->version_public));
    SET("provider_unsupported", s->provider_unsupported);
    json_object_set_new(o, "provider_unsupported_share",
                        share(s->provider_unsupported, s->version_public));
    SET("lifecycle_unknown", s->lifecycle_unknown);
    SET("provider_lifecycle_unknown", s->provider_lifecycle_unknown);
    SET("clusters", s->cert_used + s->k8s_without_cert);
    SET("k8s_without_cert", s->k8s_without_cert);
    uint64_t cv = s->nocert_version, cu = s->nocert_unsupported,
             cp = s->nocert_provider_unsupported;
    for (size_t i = 0; i < s->cert_cap; i++) {
        uint8_t f = s->certs[i].used ? s->certs[i].flags : 0;
        cv += (f & CLUSTER_VERSION) != 0;
        cu += (f & CLUSTER_UNSUPPORTED) != 0;
        cp += (f & CLUSTER_PROVIDER_UNSUPPORTED) != 0;
    }
    SET("clusters_version_public", cv);
    SET("clusters_unsupported", cu);
    json_object_set_new(o, "clusters_unsupported_share", share(cu, cv));
    SET("clusters_provider_unsupported", cp);
    json_object_set_new(o, "clusters_provider_unsupported_share", share(cp, cv));
    SET("corrupt_records", s->corrupt);
#undef SET

    /* By name: the store is read in arrival order, the output must not
     * depend on it. */
    struct provider_count *by_name = malloc((s->provider_count + 1) * sizeof(*by_name));
    json_t *prov = json_object();
    for (size_t i = 0; by_name && i < s->provider_count; i++)
        by_name[i] = s->providers[i];
    if (by_name)
        qsort(by_name, s->provider_count, sizeof(*by_name), cmp_provider_name);
    for (size_t i = 0; by_name && i < s->provider_count; i++) {
        const struct provider_count *p = &by_name[i];
        json_object_set_new(prov, p->name,
                            json_pack("{s:I, s:I, s:I, s:I}", "hosts", (json_int_t)p->hosts,
                                      "version_public", (json_int_t)p->version_public,
                                      "unsupported", (json_int_t)p->unsupported,
                                      "provider_unsupported",
                                      (json_int_t)p->provider_unsupported));
    }
    json_object_set_new(o, "by_provider", prov);
    free(by_name);

    struct minor_count *sorted = malloc((s->minor_count + 1) * sizeof(*sorted));
    json_t *minors = json_object();
    if (sorted) {
        if (s->minor_count)
            memcpy(sorted, s->minors, s->minor_count * sizeof(*sorted));
        qsort(sorted, s->minor_count, sizeof(*sorted), cmp_minor_count);
        for (size_t i = 0; i < s->minor_count; i++) {
            char key[32];
            snprintf(key, sizeof(key), "%d.%d", sorted[i].major, sorted[i].minor);
            json_object_set_new(minors, key, json_integer((json_int_t)sorted[i].count));
        }
        free(sorted);
    }
    json_object_set_new(o, "by_minor", minors);

    json_t *cves = json_object();
    for (size_t i = 0; i < s->opt.lc->cve_count; i++)
        if (s->cve_hits[i])
            json_object_set_new(cves, s->opt.lc->cves[i].id,
                                json_integer((json_int_t)s->cve_hits[i]));
    json_object_set_new(o, "cves", cves);

    json_object_set_new(o, "auth",
                        json_pack("{s:I, s:I, s:I}", "public", (json_int_t)s->auth_public,
                                  "unauthorized_401", (json_int_t)s->auth_401, "forbidden_403",
                                  (json_int_t)s->auth_403));
    if (s->opt.pfx2as) {
        json_object_set_new(o, "networks", networks_json(s));
        json_object_set_new(o, "k8s_no_network", json_integer((json_int_t)s->k8s_no_network));
    }
    return o;
}
