/*
 * stats.c - the statistics of docs/statistics.md over a stream of
 * probe_results. Memory is bounded by the number of distinct providers,
 * minors, versions, origin ASes and network owners, plus one slot (about
 * 70 bytes) per distinct serving certificate of a Kubernetes endpoint (for
 * the cluster estimators).
 */
#include "tools/analysis/analysis.h"
#include "lib/buf.h"
#include "lib/hashmap.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The three support views every "unsupported" figure is given in. */
enum view { VIEW_UPSTREAM = 0, VIEW_PROVIDER, VIEW_EXTENDED, VIEW_COUNT };

/* The JSON names of the endpoint figures of each view. */
static const char *const view_key[VIEW_COUNT] = {
    "unsupported", "provider_unsupported", "provider_unsupported_extended"};
static const char *const view_unknown_key[VIEW_COUNT] = {
    "lifecycle_unknown", "provider_lifecycle_unknown", "provider_extended_lifecycle_unknown"};

/* Endpoints with a version, and of them those past support / not placeable,
 * per view: the numerator, the unknowns and the denominator of a share. */
struct tally {
    uint64_t version_public;
    uint64_t unsupported[VIEW_COUNT], unknown[VIEW_COUNT];
};

/* The headline counts of one address family (by_family). */
enum family { FAMILY_IPV4 = 0, FAMILY_IPV6, FAMILY_COUNT };
static const char *const family_name[FAMILY_COUNT] = {"ipv4", "ipv6"};

struct family_figures {
    uint64_t syn_open, tls, k8s, k8s_by_cert, kubelets;
    struct tally t;
};

/* Lifecycle answers are fixed for a run (one as_of): cached per 1.N minor,
 * 0 = not computed yet, else enum lc_status + 1. */
#define STATUS_CACHE_MINORS 256

struct provider_count {
    char *name;
    uint64_t hosts;
    struct tally t;
    uint8_t status[VIEW_COUNT][STATUS_CACHE_MINORS];
};

struct minor_count {
    int major, minor;
    uint64_t count;
};

/* version -> which CVEs affect it (any way / without credentials by
 * default), computed once per distinct version: the value of `versions`,
 * keyed by version_key */
struct version_cves {
    uint64_t *affects;   /* bitsets of lc->cves, cve_words each; owns the block */
    uint64_t *unauth;    /* points into the same block */
    uint64_t *other;     /* in the CVE's other reading of its fix: same block */
};

/* What the endpoints presenting one certificate showed (cluster level). */
enum cluster_flag {
    CLUSTER_VERSION = 1,              /* some endpoint gave a version */
    CLUSTER_UNSUPPORTED = 2,          /* << view: some endpoint past support */
    CLUSTER_UNKNOWN = 16,             /* << view: some endpoint not placeable */
};

/* The cluster estimators (docs/statistics.md, "Clusters"). */
enum estimator { EST_LEAF = 0, EST_NAME, EST_CA, EST_COUNT };
static const char *const estimator_name[EST_COUNT] = {"certificate", "cluster_name", "cluster_ca"};

/* The value of `certs`, keyed by the leaf's SHA-256. */
struct cert_slot {
    uint8_t flags;                    /* enum cluster_flag bits */
    uint8_t group[EST_COUNT][16];     /* the cluster key of each estimator */
};

/* A string-keyed counter (origin AS, network owner) with the classifier's
 * provider labels of its Kubernetes endpoints, for the first
 * NETWORK_PROVIDERS provider names seen; later names count as "(other)". */
#define NETWORK_PROVIDERS 24
#define NETWORK_KEY 32          /* bytes of a `networks` key (network_key) */

/* The value of `networks` (keyed by the AS text, network_key) and
 * `owners` (keyed by the as2org table's pointer to the name: one per
 * organisation). */
struct network_count {
    const char *key;      /* owned by the pfx2as / as2org table */
    const char *country;  /* owners only */
    uint64_t k8s, version_public, unsupported;
    uint32_t providers[NETWORK_PROVIDERS + 1];
};

struct stats {
    struct stats_options opt;
    uint64_t syn_open, tls, k8s, k8s_by_cert, kubelets, auth_public, auth_401, auth_403,
        corrupt, k8s_without_cert, k8s_no_network, k8s_no_owner, all_ports_open,
        all_ports_open_excluded;
    struct tally all;
    struct tally nocert;          /* endpoints without a certificate: one cluster each */
    struct family_figures family[FAMILY_COUNT];

    struct provider_count *providers;
    size_t provider_count, provider_cap;
    size_t last_provider;         /* index of the previous record's provider */
    uint8_t upstream_status[STATUS_CACHE_MINORS];
    struct minor_count *minors;
    size_t minor_count, minor_cap;

    size_t cve_words;
    uint64_t *cve_hits, *cve_unauth_hits, *cve_headline_hits, *cve_other_hits;
    struct hashmap versions;      /* version_key -> struct version_cves */
    struct hashmap certs;         /* leaf SHA-256 -> struct cert_slot */
    bool clusters_resolved;
    struct hashmap networks, owners; /* -> struct network_count */
    struct surfaces *surfaces;    /* the other modules' records (surfaces.c) */
};

int stats_new(struct stats **out, const struct stats_options *opt, char *err)
{
    struct stats *s = calloc(1, sizeof(*s));
    if (!s)
        goto oom;
    s->opt = *opt;
    size_t n = opt->lc->cve_count;
    s->cve_words = (n + 63) / 64;
    s->cve_hits = calloc(n + 1, sizeof(uint64_t));
    s->cve_unauth_hits = calloc(n + 1, sizeof(uint64_t));
    s->cve_headline_hits = calloc(n + 1, sizeof(uint64_t));
    s->cve_other_hits = calloc(n + 1, sizeof(uint64_t));
    hashmap_init(&s->versions, sizeof(uint64_t), sizeof(struct version_cves));
    hashmap_init(&s->certs, 32, sizeof(struct cert_slot));
    hashmap_init(&s->networks, NETWORK_KEY, sizeof(struct network_count));
    hashmap_init(&s->owners, sizeof(const char *), sizeof(struct network_count));
    s->surfaces = surfaces_new(opt->as_of, opt->lc);
    if (!s->cve_hits || !s->cve_unauth_hits || !s->cve_headline_hits || !s->cve_other_hits ||
        !s->surfaces)
        goto oom;
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
    for (size_t i = 0; i < s->versions.capacity; i++) {
        struct version_cves *v = hashmap_value(&s->versions, hashmap_at(&s->versions, i));
        if (v)
            free(v->affects); /* unauth and other are in the same block */
    }
    hashmap_free(&s->versions);
    free(s->cve_hits);
    free(s->cve_unauth_hits);
    free(s->cve_headline_hits);
    free(s->cve_other_hits);
    hashmap_free(&s->certs);
    hashmap_free(&s->networks);
    hashmap_free(&s->owners);
    surfaces_free(s->surfaces);
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
    if (BUF_GROW(s->providers, s->provider_cap, s->provider_count + 1, 16) != 0)
        return NULL;
    struct provider_count *p = &s->providers[s->provider_count];
    memset(p, 0, sizeof(*p));
    if (!(p->name = strdup(name)))
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
    if (BUF_GROW(s->minors, s->minor_cap, s->minor_count + 1, 64) != 0)
        return -1;
    s->minors[s->minor_count++] = (struct minor_count){major, minor, 1};
    return 0;
}

/* Packs a version into a nonzero 64-bit key; 0 if a field is out of range
 * (such versions are matched without the cache). */
static uint64_t version_key(const struct kver *v)
{
    /* Bits: 63 marker, 48-62 major, 32-47 minor, 12-31 patch + 1, 10-11 pre
     * (enum kver_pre, 0-3), 0-9 pre_number. No field may spill into the
     * next: two versions with one key would share their CVE bitsets. */
    if (v->major < 0 || v->major > 0x7fff || v->minor < 0 || v->minor > 0xffff ||
        v->patch < -1 || v->patch > 0xffffe || (unsigned)v->pre > 3 || v->pre_number < 0 ||
        v->pre_number > 0x3ff)
        return 0;
    return 1ULL << 63 | (uint64_t)v->major << 48 | (uint64_t)v->minor << 32 |
           (uint64_t)(v->patch + 1) << 12 | (uint64_t)v->pre << 10 | (uint64_t)v->pre_number;
}

/* The CVE bitsets of v, computed into the three arrays given. */
static void cve_bits(const struct stats *s, const struct kver *v, uint64_t *affects,
                     uint64_t *unauth, uint64_t *other)
{
    for (size_t i = 0; i < s->opt.lc->cve_count; i++) {
        const struct cve *c = &s->opt.lc->cves[i];
        if (cve_affects(c, v))
            affects[i / 64] |= 1ULL << (i % 64);
        if (cve_affects_other_reading(c, v))
            other[i / 64] |= 1ULL << (i % 64);
        if (cve_unauthenticated_on(c, v))
            unauth[i / 64] |= 1ULL << (i % 64);
    }
}

static void count_cve_bits(struct stats *s, const uint64_t *affects, const uint64_t *unauth,
                           const uint64_t *other)
{
    for (size_t w = 0; w < s->cve_words; w++) {
        for (uint64_t b = affects[w]; b; b &= b - 1)
            s->cve_hits[w * 64 + (size_t)__builtin_ctzll(b)]++;
        for (uint64_t b = other[w]; b; b &= b - 1)
            s->cve_other_hits[w * 64 + (size_t)__builtin_ctzll(b)]++;
        for (uint64_t b = unauth[w]; b; b &= b - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(b);
            const struct cve *c = &s->opt.lc->cves[i];
            s->cve_unauth_hits[i]++;
            /* cve_headline without recomputing the version match */
            if (c->scope == CVE_SCOPE_APISERVER && c->has_fix && cve_public_on(c, s->opt.as_of))
                s->cve_headline_hits[i]++;
        }
    }
}

static int count_cves(struct stats *s, const struct kver *v)
{
    uint64_t key = version_key(v);
    struct version_cves *slot = NULL;
    if (key) {
        bool added;
        if (!(slot = hashmap_value(&s->versions, hashmap_put(&s->versions, &key, &added))))
            return -1;
        if (!added) {
            count_cve_bits(s, slot->affects, slot->unauth, slot->other);
            return 0;
        }
    }
    uint64_t *bits = calloc(3 * s->cve_words + 1, sizeof(uint64_t));
    if (!bits)
        return -1; /* a slot added without bitsets counts nothing: stats_add fails */
    cve_bits(s, v, bits, bits + s->cve_words, bits + 2 * s->cve_words);
    count_cve_bits(s, bits, bits + s->cve_words, bits + 2 * s->cve_words);
    if (!slot) {
        free(bits);
        return 0;
    }
    slot->affects = bits;
    slot->unauth = bits + s->cve_words;
    slot->other = bits + 2 * s->cve_words;
    return 0;
}

/* Finds or adds a leaf in the set of serving certificates; NULL when out
 * of memory. The slot stays valid until the next cert_add. */
static struct cert_slot *cert_add(struct stats *s, const uint8_t sha256[32])
{
    bool added;
    struct cert_slot *slot = hashmap_value(&s->certs, hashmap_put(&s->certs, sha256, &added));
    /* Until stats_resolve_clusters says otherwise, each certificate is its
     * own cluster under every estimator. */
    for (int e = 0; slot && added && e < EST_COUNT; e++)
        memcpy(slot->group[e], sha256, 16);
    return slot;
}

/* The key of an AS text in `networks`: the text itself when it fits, else
 * a marker byte and its SHA-256 (AS sets can be long). */
static void network_key(const char *origin, uint8_t key[NETWORK_KEY])
{
    memset(key, 0, NETWORK_KEY);
    size_t n = strlen(origin);
    if (n > 0 && n < NETWORK_KEY) {
        memcpy(key, origin, n);
        return;
    }
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)origin, n, digest);
    key[0] = 0xff; /* no AS text starts with it */
    memcpy(key + 1, digest, NETWORK_KEY - 1);
}

/* The first AS number of a prefix2as origin ("16509", "3_4" multi-origin,
 * "7,8" AS set): 0 if none. */
static uint32_t first_asn(const char *origin)
{
    char *end;
    unsigned long asn = strtoul(origin, &end, 10);
    return end != origin && asn <= UINT32_MAX ? (uint32_t)asn : 0;
}

/* The origin AS and network owner counters of an endpoint's address, each
 * NULL when not known (or not asked for). -1 when out of memory. */
static int networks_of(struct stats *s, const struct net_addr *addr, struct network_count **net,
                       struct network_count **owner)
{
    const char *origin, *org, *country;
    *net = *owner = NULL;
    if (!s->opt.pfx2as)
        return 0;
    if (!pfx2as_lookup_addr(s->opt.pfx2as, addr, &origin)) {
        s->k8s_no_network++;
        if (s->opt.as2org)
            s->k8s_no_owner++;
        return 0;
    }
    uint8_t key[NETWORK_KEY];
    network_key(origin, key);
    if (!(*net = hashmap_value(&s->networks, hashmap_put(&s->networks, key, NULL))))
        return -1;
    (*net)->key = origin;
    if (!s->opt.as2org)
        return 0;
    if (!as2org_lookup(s->opt.as2org, first_asn(origin), &org, &country)) {
        s->k8s_no_owner++;
        return 0;
    }
    if (!(*owner = hashmap_value(&s->owners, hashmap_put(&s->owners, &org, NULL))))
        return -1;
    (*owner)->key = org;
    (*owner)->country = country;
    return 0;
}

static void network_count_provider(struct network_count *n, size_t provider_index)
{
    n->k8s++;
    n->providers[provider_index < NETWORK_PROVIDERS ? provider_index : NETWORK_PROVIDERS]++;
}

/* The status of v for provider p in each view (cached per minor). */
static void statuses(struct stats *s, struct provider_count *p, const char *provider,
                     const struct kver *v, enum lc_status out[VIEW_COUNT])
{
    const struct lifecycle *lc = s->opt.lc;
    int32_t day = s->opt.as_of;
    bool cacheable = v->major == 1 && v->minor >= 0 && v->minor < STATUS_CACHE_MINORS;
    if (cacheable && s->upstream_status[v->minor] && p->status[VIEW_PROVIDER][v->minor]) {
        out[VIEW_UPSTREAM] = (enum lc_status)(s->upstream_status[v->minor] - 1);
        out[VIEW_PROVIDER] = (enum lc_status)(p->status[VIEW_PROVIDER][v->minor] - 1);
        out[VIEW_EXTENDED] = (enum lc_status)(p->status[VIEW_EXTENDED][v->minor] - 1);
        return;
    }
    out[VIEW_UPSTREAM] = lifecycle_upstream_status(lc, v->major, v->minor, day);
    out[VIEW_PROVIDER] = lifecycle_provider_status(lc, provider, v->major, v->minor, day,
                                                   s->opt.calendar, LC_VIEW_STANDARD);
    out[VIEW_EXTENDED] = lifecycle_provider_status(lc, provider, v->major, v->minor, day,
                                                   s->opt.calendar, LC_VIEW_EXTENDED);
    if (cacheable) {
        s->upstream_status[v->minor] = (uint8_t)(1 + out[VIEW_UPSTREAM]);
        p->status[VIEW_PROVIDER][v->minor] = (uint8_t)(1 + out[VIEW_PROVIDER]);
        p->status[VIEW_EXTENDED][v->minor] = (uint8_t)(1 + out[VIEW_EXTENDED]);
    }
}

static void tally_add(struct tally *t, const enum lc_status st[VIEW_COUNT])
{
    t->version_public++;
    for (int i = 0; i < VIEW_COUNT; i++) {
        t->unsupported[i] += st[i] == LC_UNSUPPORTED;
        t->unknown[i] += st[i] == LC_UNKNOWN;
    }
}

/* The versioned part of stats_add. */
static int add_version(struct stats *s, const struct probe_result *r, struct provider_count *p,
                       struct tally *family, struct cert_slot *cluster,
                       struct network_count *net, struct network_count *owner)
{
    struct kver v;
    if (kver_of_result(r, &v) != 0)
        return 0;
    if (minor_add(s, v.major, v.minor) != 0 || count_cves(s, &v) != 0)
        return -1;
    enum lc_status st[VIEW_COUNT];
    statuses(s, p, r->provider, &v, st);
    tally_add(&s->all, st);
    tally_add(&p->t, st);
    tally_add(family, st);
    if (!cluster)
        tally_add(&s->nocert, st);
    for (int i = 0; cluster && i < VIEW_COUNT; i++) {
        cluster->flags |= CLUSTER_VERSION;
        if (st[i] == LC_UNSUPPORTED)
            cluster->flags |= (uint8_t)(CLUSTER_UNSUPPORTED << i);
        else if (st[i] == LC_UNKNOWN)
            cluster->flags |= (uint8_t)(CLUSTER_UNKNOWN << i);
    }
    for (struct network_count *n = net; n; n = n == net ? owner : NULL) {
        n->version_public++;
        n->unsupported += st[VIEW_UPSTREAM] == LC_UNSUPPORTED;
    }
    return 0;
}

int stats_add(struct stats *s, const struct probe_result *r, char *err)
{
    /* The kubelet, read-only and etcd modules' records are surfaces of
     * their own; every other figure is the API servers' (apiserver module). */
    bool surface;
    if (surfaces_add(s->surfaces, r, &surface) < 0)
        goto oom;
    if (surface)
        return 0;
    struct family_figures *fam =
        &s->family[net_addr_is_ipv4(&r->addr) ? FAMILY_IPV4 : FAMILY_IPV6];
    s->syn_open++;
    fam->syn_open++;
    if (r->tls_done)
        s->tls++, fam->tls++;
    if (r->k8s == K8S_KUBELET)
        s->kubelets++, fam->kubelets++;
    if (r->all_ports_open) {
        /* A host answering on every port may be a middlebox relaying or
         * faking a reply: only what the endpoint itself proves (its
         * certificate's markers, a version.Info) makes it an API server. */
        s->all_ports_open++;
        if (r->k8s == K8S_YES &&
            !(r->evidence & (EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO))) {
            s->all_ports_open_excluded++;
            return 0;
        }
    }
    if (r->k8s != K8S_YES)
        return 0;
    s->k8s++;
    fam->k8s++;
    if (r->evidence & EVIDENCE_CERT_MARKER)
        s->k8s_by_cert++, fam->k8s_by_cert++;
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
    struct network_count *net, *owner;
    if (networks_of(s, &r->addr, &net, &owner) != 0)
        goto oom;
    size_t provider_index = (size_t)(p - s->providers);
    if (net)
        network_count_provider(net, provider_index);
    if (owner)
        network_count_provider(owner, provider_index);
    if (add_version(s, r, p, &fam->t, cluster, net, owner) != 0)
        goto oom;
    return 0;
oom:
    snprintf(err, KS_ERRLEN, "out of memory");
    return -1;
}

/* The 16-byte group key of a cluster key string of one kind. */
static void group_key(const char *kind, const char *text, uint8_t out[16])
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s:%s", kind, text);
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1, digest);
    memcpy(out, digest, 16);
}

int stats_resolve_clusters(struct stats *s, stats_cert_lookup_fn lookup, void *ctx, char *err)
{
    for (size_t i = 0; i < s->certs.capacity; i++) {
        const uint8_t *sha256 = hashmap_at(&s->certs, i);
        if (!sha256)
            continue;
        struct cert_slot *slot = hashmap_value(&s->certs, (void *)sha256);
        uint8_t *der = NULL;
        size_t length = 0;
        int found = lookup(ctx, sha256, &der, &length, err);
        if (found < 0)
            return -1;
        struct k8s_cluster_keys keys;
        if (found && k8s_cert_cluster_keys(der, length, &keys) == 0) {
            if (keys.name[0]) {
                group_key("name", keys.name, slot->group[EST_NAME]);
                group_key("name", keys.name, slot->group[EST_CA]);
            }
            if (keys.ca[0])
                group_key("ca", keys.ca, slot->group[EST_CA]);
        }
        free(der);
    }
    s->clusters_resolved = true;
    return 0;
}

/* Cluster-level figures of one estimator. */
struct cluster_figures {
    uint64_t clusters, version_public, unsupported[VIEW_COUNT], unknown[VIEW_COUNT];
};

struct group_entry {
    uint8_t key[16];
    uint8_t flags;
};

static int cmp_group(const void *a, const void *b)
{
    return memcmp(((const struct group_entry *)a)->key, ((const struct group_entry *)b)->key, 16);
}

static void figures_add(struct cluster_figures *f, uint8_t flags)
{
    f->clusters++;
    if (!(flags & CLUSTER_VERSION))
        return;
    f->version_public++;
    for (int i = 0; i < VIEW_COUNT; i++) {
        if (flags & (CLUSTER_UNSUPPORTED << i))
            f->unsupported[i]++;
        else if (flags & (CLUSTER_UNKNOWN << i))
            f->unknown[i]++;
    }
}

/* Groups the certificates by the estimator's key (flags OR'ed within a
 * group); endpoints without a certificate are one cluster each. */
static int cluster_figures(const struct stats *s, enum estimator e, struct cluster_figures *f)
{
    memset(f, 0, sizeof(*f));
    struct group_entry *all = malloc((s->certs.count + 1) * sizeof(*all));
    if (!all)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < s->certs.capacity; i++) {
        const struct cert_slot *c = hashmap_value(&s->certs, hashmap_at(&s->certs, i));
        if (c) {
            memcpy(all[n].key, c->group[e], 16);
            all[n++].flags = c->flags;
        }
    }
    qsort(all, n, sizeof(*all), cmp_group);
    for (size_t i = 0; i < n;) {
        uint8_t flags = all[i].flags;
        size_t j = i + 1;
        for (; j < n && !memcmp(all[j].key, all[i].key, 16); j++)
            flags |= all[j].flags;
        figures_add(f, flags);
        i = j;
    }
    free(all);
    f->clusters += s->k8s_without_cert;
    f->version_public += s->nocert.version_public;
    for (int i = 0; i < VIEW_COUNT; i++) {
        f->unsupported[i] += s->nocert.unsupported[i];
        f->unknown[i] += s->nocert.unknown[i];
    }
    return 0;
}

static json_t *share(uint64_t part, uint64_t whole)
{
    return whole ? json_real((double)part / (double)whole) : json_null();
}

/* A share three ways: unknowns left out of the denominator, and the bounds
 * with every unknown counted as supported / as unsupported. */
static json_t *share_bounds(uint64_t count, uint64_t unknown, uint64_t whole)
{
    return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "count", (json_int_t)count, "unknown",
                     (json_int_t)unknown, "denominator", (json_int_t)whole, "excluding_unknown",
                     share(count, whole - unknown), "unknown_as_supported", share(count, whole),
                     "unknown_as_unsupported", share(count + unknown, whole));
}

static json_t *tally_shares(const struct tally *t)
{
    json_t *o = json_object();
    for (int i = 0; i < VIEW_COUNT; i++)
        json_object_set_new(o, view_key[i],
                            share_bounds(t->unsupported[i], t->unknown[i], t->version_public));
    return o;
}

static json_t *cluster_figures_json(const struct cluster_figures *f)
{
    json_t *o = json_pack("{s:I, s:I}", "clusters", (json_int_t)f->clusters, "version_public",
                          (json_int_t)f->version_public);
    for (int i = 0; i < VIEW_COUNT; i++)
        json_object_set_new(o, view_key[i],
                            share_bounds(f->unsupported[i], f->unknown[i], f->version_public));
    return o;
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
    return strcmp(x->key, y->key);
}

#define TOP_NETWORKS 20

/* The TOP_NETWORKS largest entries of a table; key_name names the key
 * ("as" or "owner"). */
static json_t *networks_json(const struct stats *s, const struct hashmap *t,
                             const char *key_name)
{
    json_t *arr = json_array();
    struct network_count *all = calloc(t->count + 1, sizeof(*all));
    size_t n = 0;
    if (!all)
        return arr;
    for (size_t i = 0; i < t->capacity; i++) {
        const struct network_count *c = hashmap_value(t, hashmap_at(t, i));
        if (c)
            all[n++] = *c;
    }
    qsort(all, n, sizeof(*all), cmp_network);
    for (size_t i = 0; i < n && i < TOP_NETWORKS; i++) {
        json_t *providers = json_object();
        for (size_t p = 0; p <= NETWORK_PROVIDERS; p++)
            if (all[i].providers[p])
                json_object_set_new(providers,
                                    p < NETWORK_PROVIDERS ? s->providers[p].name : "(other)",
                                    json_integer((json_int_t)all[i].providers[p]));
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:o}", key_name, all[i].key, "k8s",
                              (json_int_t)all[i].k8s, "version_public",
                              (json_int_t)all[i].version_public, "unsupported",
                              (json_int_t)all[i].unsupported, "providers", providers);
        if (all[i].country)
            json_object_set_new(o, "country", json_string(all[i].country));
        json_array_append_new(arr, o);
    }
    free(all);
    return arr;
}

static json_t *providers_json(const struct stats *s)
{
    /* By name: the store is read in arrival order, the output must not
     * depend on it. */
    struct provider_count *by_name = malloc((s->provider_count + 1) * sizeof(*by_name));
    json_t *prov = json_object();
    if (!by_name)
        return prov;
    if (s->provider_count)
        memcpy(by_name, s->providers, s->provider_count * sizeof(*by_name));
    qsort(by_name, s->provider_count, sizeof(*by_name), cmp_provider_name);
    for (size_t i = 0; i < s->provider_count; i++) {
        const struct provider_count *p = &by_name[i];
        json_t *o = json_pack("{s:I, s:I}", "hosts", (json_int_t)p->hosts, "version_public",
                              (json_int_t)p->t.version_public);
        for (int v = 0; v < VIEW_COUNT; v++) {
            json_object_set_new(o, view_key[v], json_integer((json_int_t)p->t.unsupported[v]));
            json_object_set_new(o, view_unknown_key[v], json_integer((json_int_t)p->t.unknown[v]));
        }
        json_object_set_new(o, "shares", tally_shares(&p->t));
        json_object_set_new(prov, p->name, o);
    }
    free(by_name);
    return prov;
}

static json_t *minors_json(const struct stats *s)
{
    struct minor_count *sorted = malloc((s->minor_count + 1) * sizeof(*sorted));
    json_t *minors = json_object();
    if (!sorted)
        return minors;
    if (s->minor_count)
        memcpy(sorted, s->minors, s->minor_count * sizeof(*sorted));
    qsort(sorted, s->minor_count, sizeof(*sorted), cmp_minor_count);
    for (size_t i = 0; i < s->minor_count; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%d.%d", sorted[i].major, sorted[i].minor);
        json_object_set_new(minors, key, json_integer((json_int_t)sorted[i].count));
    }
    free(sorted);
    return minors;
}

/* One CVE's entry of `cves_all`: every CVE matching some endpoint, whatever
 * its scope or date, with its flags. */
static json_t *cve_all_entry(const struct stats *s, size_t i)
{
    const struct cve *c = &s->opt.lc->cves[i];
    char disclosed[11];
    ks_date_format(c->disclosed, disclosed);
    json_t *e = json_pack(
        "{s:I, s:I, s:s, s:b, s:b, s:I, s:o, s:b, s:b}", "endpoints", (json_int_t)s->cve_hits[i],
        "unauthenticated_endpoints", (json_int_t)s->cve_unauth_hits[i], "scope",
        cve_scope_name(c->scope), "fix", c->has_fix, "unauthenticated", c->unauthenticated,
        "feature_gates", (json_int_t)c->feature_gate_count, "disclosed",
        c->disclosed == KS_NO_DATE ? json_null() : json_string(disclosed), "disclosed_by_as_of",
        cve_public_on(c, s->opt.as_of), "headline", s->cve_headline_hits[i] > 0);
    if (e && c->other_range_count)
        json_object_set_new(e, "other_reading_endpoints",
                            json_integer((json_int_t)s->cve_other_hits[i]));
    return e;
}

/* The lists of CVEs by scope and fix, each holding only CVEs public on
 * as_of (cve_public_on): `cves` (the headline: apiserver, fixed,
 * unauthenticated by default), `cves_no_fix` (apiserver flaws Kubernetes
 * does not fix) and `cves_node` (kubelet / node flaws, listed apart: an
 * API server's version does not tell a node's); and `cves_all`. */
static void cves_json(const struct stats *s, json_t *o)
{
    json_t *headline = json_object(), *no_fix = json_object(), *node = json_object(),
           *all = json_object();
    for (size_t i = 0; i < s->opt.lc->cve_count; i++) {
        const struct cve *c = &s->opt.lc->cves[i];
        if (s->cve_headline_hits[i])
            json_object_set_new(headline, c->id, json_integer((json_int_t)s->cve_headline_hits[i]));
        if (!s->cve_hits[i])
            continue;
        json_t *list = NULL;
        if (cve_public_on(c, s->opt.as_of) && c->scope == CVE_SCOPE_APISERVER && !c->has_fix)
            list = no_fix;
        else if (cve_public_on(c, s->opt.as_of) && c->scope == CVE_SCOPE_NODE)
            list = node;
        if (list)
            json_object_set_new(list, c->id, json_integer((json_int_t)s->cve_hits[i]));
        json_object_set_new(all, c->id, cve_all_entry(s, i));
    }
    json_object_set_new(o, "cves", headline);
    json_object_set_new(o, "cves_no_fix", no_fix);
    json_object_set_new(o, "cves_node", node);
    json_object_set_new(o, "cves_all", all);
}

/* Top-level cluster keys (the certificate estimator, as before) and every
 * estimator beside it. */
static void clusters_json(const struct stats *s, json_t *o)
{
    struct cluster_figures f[EST_COUNT];
    json_t *estimates = json_object();
    for (int e = 0; e < EST_COUNT; e++) {
        if (cluster_figures(s, (enum estimator)e, &f[e]) != 0)
            memset(&f[e], 0, sizeof(f[e]));
        json_object_set_new(estimates, estimator_name[e], cluster_figures_json(&f[e]));
    }
    const struct cluster_figures *c = &f[EST_LEAF];
#define SET(key, value) json_object_set_new(o, key, json_integer((json_int_t)(value)))
    SET("clusters", c->clusters);
    SET("k8s_without_cert", s->k8s_without_cert);
    SET("clusters_version_public", c->version_public);
    SET("clusters_unsupported", c->unsupported[VIEW_UPSTREAM]);
    json_object_set_new(o, "clusters_unsupported_share",
                        share(c->unsupported[VIEW_UPSTREAM], c->version_public));
    SET("clusters_provider_unsupported", c->unsupported[VIEW_PROVIDER]);
    json_object_set_new(o, "clusters_provider_unsupported_share",
                        share(c->unsupported[VIEW_PROVIDER], c->version_public));
    SET("clusters_provider_unsupported_extended", c->unsupported[VIEW_EXTENDED]);
    json_object_set_new(o, "clusters_provider_unsupported_extended_share",
                        share(c->unsupported[VIEW_EXTENDED], c->version_public));
#undef SET
    json_object_set_new(o, "clusters_estimator", json_string(estimator_name[EST_LEAF]));
    json_object_set_new(o, "clusters_resolved", json_boolean(s->clusters_resolved));
    json_object_set_new(o, "cluster_estimates", estimates);
}

/* The endpoint figures of a tally in o: version_public, and per view the
 * count, its share and the unknowns. */
static void tally_headline(json_t *o, const struct tally *t)
{
    json_object_set_new(o, "version_public", json_integer((json_int_t)t->version_public));
    for (int v = 0; v < VIEW_COUNT; v++) {
        char key[64];
        json_object_set_new(o, view_key[v], json_integer((json_int_t)t->unsupported[v]));
        snprintf(key, sizeof(key), "%s_share", view_key[v]);
        json_object_set_new(o, key, share(t->unsupported[v], t->version_public));
        json_object_set_new(o, view_unknown_key[v], json_integer((json_int_t)t->unknown[v]));
    }
}

/* by_family: the headline counts and unsupported shares of each family. */
static json_t *families_json(const struct stats *s)
{
    json_t *all = json_object();
    for (int i = 0; i < FAMILY_COUNT; i++) {
        const struct family_figures *f = &s->family[i];
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "syn_open", (json_int_t)f->syn_open,
                              "tls", (json_int_t)f->tls, "k8s", (json_int_t)f->k8s,
                              "k8s_by_cert", (json_int_t)f->k8s_by_cert, "kubelets",
                              (json_int_t)f->kubelets);
        tally_headline(o, &f->t);
        json_object_set_new(o, "shares", tally_shares(&f->t));
        json_object_set_new(all, family_name[i], o);
    }
    return all;
}

json_t *stats_to_json(const struct stats *s)
{
    char day[11];
    ks_date_format(s->opt.as_of, day);
    json_t *o = json_object();
    json_object_set_new(o, "as_of", json_string(day));
    json_object_set_new(o, "calendar",
                        json_string(s->opt.calendar == LC_CALENDAR_FINAL ? "final" : "published"));
#define SET(key, value) json_object_set_new(o, key, json_integer((json_int_t)(value)))
    SET("syn_open", s->syn_open);
    SET("tls", s->tls);
    SET("k8s", s->k8s);
    SET("k8s_by_cert", s->k8s_by_cert);
    SET("kubelets", s->kubelets);
    SET("all_ports_open", s->all_ports_open);
    SET("all_ports_open_excluded", s->all_ports_open_excluded);
    tally_headline(o, &s->all);
    SET("corrupt_records", s->corrupt);
#undef SET
    clusters_json(s, o);
    json_t *shares = tally_shares(&s->all);
    json_t *est = json_object_get(json_object_get(o, "cluster_estimates"), estimator_name[EST_LEAF]);
    for (int v = 0; v < VIEW_COUNT; v++) {
        char key[64];
        snprintf(key, sizeof(key), "clusters_%s", view_key[v]);
        json_object_set(shares, key, json_object_get(est, view_key[v]));
    }
    json_object_set_new(o, "shares", shares);
    json_object_set_new(o, "by_family", families_json(s));
    json_object_set_new(o, "by_provider", providers_json(s));
    json_object_set_new(o, "by_minor", minors_json(s));
    cves_json(s, o);
    json_object_set_new(o, "auth",
                        json_pack("{s:I, s:I, s:I}", "public", (json_int_t)s->auth_public,
                                  "unauthorized_401", (json_int_t)s->auth_401, "forbidden_403",
                                  (json_int_t)s->auth_403));
    if (s->opt.pfx2as) {
        json_object_set_new(o, "networks", networks_json(s, &s->networks, "as"));
        json_object_set_new(o, "k8s_no_network", json_integer((json_int_t)s->k8s_no_network));
    }
    if (s->opt.pfx2as && s->opt.as2org) {
        json_object_set_new(o, "network_owners", networks_json(s, &s->owners, "owner"));
        json_object_set_new(o, "k8s_no_owner", json_integer((json_int_t)s->k8s_no_owner));
    }
    json_object_set_new(o, "surfaces", surfaces_to_json(s->surfaces));
    return o;
}
