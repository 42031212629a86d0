/*
 * node_cves.c - node-side CVEs of the kubelets a scan found
 * (docs/statistics.md, "Node CVEs of kubelets"). The kubelet module asks
 * only GET /healthz, which tells no version, so a kubelet's version is
 * known only through the version-skew policy: a kubelet is never newer
 * than the API server it talks to. The API server answering on the
 * kubelet's own address (a control-plane node) bounds it: the kubelet runs
 * some version at or below V. A CVE counts for it only when every version
 * at or below V is affected; a kubelet is certainly unaffected only when
 * no version at or below V is affected by any node CVE; the rest is
 * unknown. A kubelet without such an API server has no bound. Judged
 * are the node CVEs public on the as-of day that have a fix.
 */
#include "tools/analysis/analysis.h"
#include "lib/hashmap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct node_cves {
    int32_t as_of;
    const struct lifecycle *lc;
    struct hashmap apiservers;   /* address key -> struct kver: the highest version seen */
    struct hashmap kubelets;     /* address key -> uint32_t: kubelet endpoints there */
};

/* Addresses of either family as map keys: the endpoint key with port 0
 * (never all zero bytes, which would mean an empty entry). */
static struct net_endpoint address_key(const struct net_addr *addr)
{
    return net_endpoint_key(addr, 0);
}

struct node_cves *node_cves_new(int32_t as_of, const struct lifecycle *lc)
{
    struct node_cves *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->as_of = as_of;
    n->lc = lc;
    hashmap_init(&n->apiservers, sizeof(struct net_endpoint), sizeof(struct kver));
    hashmap_init(&n->kubelets, sizeof(struct net_endpoint), sizeof(uint32_t));
    return n;
}

void node_cves_free(struct node_cves *n)
{
    if (!n)
        return;
    hashmap_free(&n->kubelets);
    hashmap_free(&n->apiservers);
    free(n);
}

int node_cves_add_apiserver(struct node_cves *n, const struct net_addr *addr,
                            const struct kver *v)
{
    struct net_endpoint key = address_key(addr);
    bool added;
    struct kver v_bound = *v;
    if (v_bound.patch < 0)
        v_bound.patch = INT_MAX; /* "1.16": any patch of 1.16 */
    v = &v_bound;
    struct kver *bound = hashmap_value(&n->apiservers, hashmap_put(&n->apiservers, &key, &added));
    if (!bound)
        return -1;
    /* Two API servers on one address (443 and 6443 of different builds):
     * the kubelet is at most the newer one. */
    if (added || kver_compare(v, bound) > 0)
        *bound = *v;
    return 0;
}

int node_cves_add_kubelet(struct node_cves *n, const struct net_addr *addr)
{
    struct net_endpoint key = address_key(addr);
    uint32_t *count = hashmap_value(&n->kubelets, hashmap_put(&n->kubelets, &key, NULL));
    if (!count)
        return -1;
    (*count)++;
    return 0;
}

/* One end of the interval a constraint admits (a conjunction of bounds is
 * an interval of the version order). */
struct version_end {
    bool present, inclusive;
    struct kver v;
};

/* Is candidate (inclusive or not) a tighter end than *end: a lower end
 * higher, an upper end lower, an exclusive one at the same version? */
static void tighten(struct version_end *end, const struct kver *v, bool inclusive, int direction)
{
    int c = end->present ? kver_compare(v, &end->v) * direction : 1;
    if (c > 0 || (c == 0 && !inclusive))
        *end = (struct version_end){true, inclusive, *v};
}

static void constraint_ends(const struct version_constraint *c, struct version_end *lo,
                            struct version_end *hi)
{
    *lo = *hi = (struct version_end){0};
    for (size_t i = 0; i < c->bounds; i++) {
        const struct kver *v = &c->bound[i].version;
        switch (c->bound[i].op) {
        case OP_GT: tighten(lo, v, false, 1); break;
        case OP_GE: tighten(lo, v, true, 1); break;
        case OP_LT: tighten(hi, v, false, -1); break;
        case OP_LE: tighten(hi, v, true, -1); break;
        case OP_EQ:
            tighten(lo, v, true, 1);
            tighten(hi, v, true, -1);
            break;
        }
    }
}

static bool below_end(const struct kver *v, const struct version_end *hi)
{
    int c = kver_compare(v, &hi->v);
    return !hi->present || c < 0 || (c == 0 && hi->inclusive);
}

static bool above_end(const struct kver *v, const struct version_end *lo)
{
    int c = kver_compare(v, &lo->v);
    return !lo->present || c > 0 || (c == 0 && lo->inclusive);
}

/* The range holding v, or NULL. */
static const struct cve_range *range_holding(const struct cve_range *ranges, size_t count,
                                             const struct kver *v)
{
    for (size_t i = 0; i < count; i++) {
        struct version_end lo, hi;
        constraint_ends(&ranges[i].affected, &lo, &hi);
        if (above_end(v, &lo) && below_end(v, &hi))
            return &ranges[i];
    }
    return NULL;
}

/* Do the ranges hold every version at or below bound (NULL: every
 * version)? Walks up from the lowest version, range by range: an
 * exclusive upper end ("< 1.16.13") must be picked up by another range; an
 * inclusive one ("<= 1.16.10") leaves the versions just above it, which no
 * range of the data starts at, so the walk stops there (not certain). */
static bool ranges_hold_all_up_to(const struct cve_range *ranges, size_t count,
                                  const struct kver *bound)
{
    struct kver cur = {0, 0, 0, PRE_NONE, 0}; /* the lowest version */
    for (size_t step = 0; step <= count; step++) {
        const struct cve_range *r = range_holding(ranges, count, &cur);
        if (!r)
            return false;
        struct version_end lo, hi;
        constraint_ends(&r->affected, &lo, &hi);
        if (!hi.present || (bound && below_end(bound, &hi)))
            return true; /* r holds everything from cur up to the bound */
        if (hi.inclusive)
            return false;
        cur = hi.v; /* not in r: another range must hold it */
    }
    return false;
}

/* Does some range hold a version at or below bound (NULL: any version)? */
static bool ranges_hold_some_up_to(const struct cve_range *ranges, size_t count,
                                   const struct kver *bound)
{
    for (size_t i = 0; i < count; i++) {
        struct version_end lo, hi;
        constraint_ends(&ranges[i].affected, &lo, &hi);
        if (!bound || !lo.present || above_end(bound, &lo))
            return true;
    }
    return false;
}

bool cve_affects_every_up_to(const struct cve *cve, const struct kver *bound)
{
    /* where sources read the fix two ways, both readings must agree */
    return ranges_hold_all_up_to(cve->ranges, cve->range_count, bound) &&
           (!cve->other_ranges ||
            ranges_hold_all_up_to(cve->other_ranges, cve->other_range_count, bound));
}

bool cve_affects_some_up_to(const struct cve *cve, const struct kver *bound)
{
    return ranges_hold_some_up_to(cve->ranges, cve->range_count, bound) ||
           ranges_hold_some_up_to(cve->other_ranges, cve->other_range_count, bound);
}

/* The node CVEs public on the day with a fix: the ones judged. A flaw
 * without a fix affects every kubelet and is listed apart (no_fix), as the
 * API servers' are (cves_no_fix): it would otherwise be every count. */
static bool judged_cve(const struct cve *cve, int32_t day)
{
    return cve->scope == CVE_SCOPE_NODE && cve->has_fix && cve_public_on(cve, day);
}

static json_t *no_fix_ids(const struct lifecycle *lc, int32_t day)
{
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < lc->cve_count; i++) {
        const struct cve *cve = &lc->cves[i];
        if (cve->scope == CVE_SCOPE_NODE && !cve->has_fix && cve_public_on(cve, day) &&
            json_array_append_new(ids, json_string(cve->id)) != 0) {
            json_decref(ids);
            return NULL;
        }
    }
    return ids;
}

struct tally {
    json_int_t bound, affected, not_affected;
    json_int_t *by_cve; /* per CVE of the lifecycle data */
};

/* count kubelets bounded by bound (NULL: none) into t. */
static void tally_kubelets(const struct node_cves *n, const struct kver *bound, uint32_t count,
                           struct tally *t)
{
    bool affected = false, possible = false;
    for (size_t i = 0; i < n->lc->cve_count; i++) {
        const struct cve *cve = &n->lc->cves[i];
        if (!judged_cve(cve, n->as_of) || !cve_affects_some_up_to(cve, bound))
            continue;
        possible = true;
        /* a CVE that needs a setting or a platform (Windows nodes, log
         * verbosity ...) is never certain from a version */
        if (cve->feature_gate_count == 0 && cve_affects_every_up_to(cve, bound)) {
            affected = true;
            t->by_cve[i] += count;
        }
    }
    t->bound += bound ? count : 0;
    t->affected += affected ? count : 0;
    t->not_affected += possible ? 0 : count;
}

json_t *node_cves_to_json(const struct node_cves *n)
{
    json_int_t kubelets = 0;
    struct tally t = {0};
    if (!(t.by_cve = calloc(n->lc->cve_count + 1, sizeof(*t.by_cve))))
        return NULL;
    for (size_t i = 0; i < n->kubelets.capacity; i++) {
        const uint8_t *e = hashmap_at(&n->kubelets, i);
        if (!e)
            continue;
        uint32_t count;
        memcpy(&count, e + n->kubelets.key_size, sizeof(count));
        const struct kver *bound = hashmap_value(&n->apiservers, hashmap_get(&n->apiservers, e));
        tally_kubelets(n, bound, count, &t);
        kubelets += count;
    }
    json_t *by_cve = json_object();
    for (size_t i = 0; by_cve && i < n->lc->cve_count; i++)
        if (t.by_cve[i] && json_object_set_new(by_cve, n->lc->cves[i].id,
                                               json_integer(t.by_cve[i])) != 0) {
            json_decref(by_cve);
            by_cve = NULL;
        }
    free(t.by_cve);
    json_t *no_fix = no_fix_ids(n->lc, n->as_of);
    if (!by_cve || !no_fix) {
        json_decref(by_cve);
        json_decref(no_fix);
        return NULL;
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "version_bound", t.bound, "affected",
                     t.affected, "not_affected", t.not_affected, "unknown",
                     kubelets - t.affected - t.not_affected, "by_cve", by_cve, "no_fix", no_fix);
}
