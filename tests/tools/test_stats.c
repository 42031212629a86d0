/*
 * test_stats.c - every statistic of a crafted population against a
 * hand-computed expectation (docs/statistics.md), and the as-of boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/analysis/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect_json.h"
#include "population.h"

static struct lifecycle *lc;

static int setup(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    return lifecycle_load(&lc, NULL, err);
}

static int teardown(void **state)
{
    (void)state;
    lifecycle_free(lc);
    return 0;
}

static json_t *run(const char *as_of, const struct pfx2as *p, const struct spec *specs, size_t n)
{
    char err[KS_ERRLEN];
    struct stats_options opt = {.lc = lc, .pfx2as = p};
    struct stats *s;
    assert_int_equal(ks_date_parse(as_of, &opt.as_of), 0);
    assert_int_equal(stats_new(&s, &opt, err), 0);
    for (size_t i = 0; i < n; i++) {
        struct probe_result r;
        population_fill(&r, &specs[i], false);
        assert_int_equal(stats_add(s, &r, err), 0);
        probe_result_free(&r);
    }
    stats_add_corrupt(s, 2);
    json_t *o = stats_to_json(s);
    stats_free(s);
    return o;
}

static void test_crafted_population(void **state)
{
    (void)state;
    static const char table[] = "198.18.0.0\t16\t64500\n"
                                "198.18.0.0\t24\t64501_64502\n"
                                "198.18.0.8\t29\t64503,64504\n";
    char err[KS_ERRLEN];
    struct pfx2as *p;
    FILE *f = fmemopen((void *)table, strlen(table), "r");
    assert_int_equal(pfx2as_load_stream(&p, f, "t", err), 0);
    fclose(f);
    json_t *o = run("2021-06-10", p, population, POPULATION_COUNT);
    /* 3 of 7 versions past upstream EOL (1.16, 1.17, 1.15); by provider
     * windows only 1.15 on "upstream" (EKS 1.16 to 2021-09-27, GKE 1.17 to
     * 2021-11-01) */
    assert_float_equal(json_real_value(json_object_get(o, "unsupported_share")), 3.0 / 7.0, 1e-12);
    assert_float_equal(json_real_value(json_object_get(o, "provider_unsupported_share")),
                       1.0 / 7.0, 1e-12);
    /* clusters (distinct leaf certificates; no certificate = own cluster):
     * with a version A B C E + the certless 1.22 = 5; past upstream EOL
     * A (1.16) C (1.17) E (1.15) = 3; past the provider window E only */
    assert_float_equal(json_real_value(json_object_get(o, "clusters_unsupported_share")), 0.6,
                       1e-12);
    assert_float_equal(
        json_real_value(json_object_get(o, "clusters_provider_unsupported_share")), 0.2, 1e-12);
    json_object_del(o, "unsupported_share");
    json_object_del(o, "provider_unsupported_share");
    json_object_del(o, "clusters_unsupported_share");
    json_object_del(o, "clusters_provider_unsupported_share");
    expect_json_keys(o, "{" POPULATION_STATS_2021_06_10);
    json_decref(o);
    pfx2as_free(p);
}

static void test_as_of_boundary(void **state)
{
    (void)state;
    static const struct spec one[] = {
        {1, 443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.18.20", 'A'},
    };
    /* upstream 1.18 EOL 2021-06-18; EKS 1.18 standard support to 2022-03-31 */
    json_t *o = run("2021-06-18", NULL, one, 1);
    assert_int_equal(json_integer_value(json_object_get(o, "unsupported")), 0);
    json_decref(o);
    o = run("2021-06-19", NULL, one, 1);
    assert_int_equal(json_integer_value(json_object_get(o, "unsupported")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "provider_unsupported")), 0);
    assert_null(json_object_get(o, "networks"));
    json_decref(o);
    o = run("2022-04-01", NULL, one, 1);
    assert_int_equal(json_integer_value(json_object_get(o, "provider_unsupported")), 1);
    json_decref(o);
}

/* CVE-2020-8564 affects 1.18.9 and is fixed in 1.18.10: one endpoint of
 * the two, whichever comes first. The per-version cache once gave both
 * the same key (a release's pre-release field overlapped the patch's
 * lowest bit), so the count depended on the order of the records. */
static long cve_endpoints(json_t *o, const char *id)
{
    json_t *c = json_object_get(json_object_get(o, "cves_all"), id);
    return c ? (long)json_integer_value(json_object_get(c, "endpoints")) : 0;
}

static void test_cve_count_independent_of_order(void **state)
{
    (void)state;
    static const struct spec fixed_first[] = {
        {1, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.18.10", 'A'},
        {2, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.18.9", 'B'},
    };
    static const struct spec affected_first[] = {
        {2, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.18.9", 'B'},
        {1, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.18.10", 'A'},
    };
    json_t *a = run("2021-06-10", NULL, fixed_first, 2);
    json_t *b = run("2021-06-10", NULL, affected_first, 2);
    assert_int_equal(cve_endpoints(a, "CVE-2020-8564"), 1);
    assert_int_equal(cve_endpoints(b, "CVE-2020-8564"), 1);
    json_decref(a);
    json_decref(b);
}

static const struct cve *cve_by_id(const char *id)
{
    for (size_t i = 0; i < lc->cve_count; i++)
        if (!strcmp(lc->cves[i].id, id))
            return &lc->cves[i];
    fail_msg("no %s in cves.json", id);
    return NULL;
}

static bool listed(const json_t *o, const char *list, const char *id)
{
    return json_object_get(json_object_get(o, list), id) != NULL;
}

/* Every CVE list of the statistics holds only CVEs public on as_of, each in
 * the list of its scope; cves_all keeps every matching CVE with its flags. */
static void check_cve_lists(const json_t *o, int32_t as_of)
{
    static const char *const lists[] = {"cves", "cves_no_fix", "cves_node"};
    for (size_t l = 0; l < 3; l++) {
        const char *id;
        json_t *v;
        json_object_foreach(json_object_get(o, lists[l]), id, v) {
            const struct cve *c = cve_by_id(id);
            if (!cve_public_on(c, as_of))
                fail_msg("%s lists %s, not public by the as-of date", lists[l], id);
            assert_int_equal(c->scope, l == 2 ? CVE_SCOPE_NODE : CVE_SCOPE_APISERVER);
            if (l == 1)
                assert_false(c->has_fix);
        }
    }
    const char *id;
    json_t *v;
    json_object_foreach(json_object_get(o, "cves_all"), id, v) {
        const struct cve *c = cve_by_id(id);
        assert_int_equal(json_is_true(json_object_get(v, "disclosed_by_as_of")),
                         cve_public_on(c, as_of));
        bool in_list = listed(o, "cves_no_fix", id) || listed(o, "cves_node", id);
        bool belongs = cve_public_on(c, as_of) &&
                       ((c->scope == CVE_SCOPE_APISERVER && !c->has_fix) ||
                        c->scope == CVE_SCOPE_NODE);
        if (in_list != belongs)
            fail_msg("%s: listed %d, belongs %d", id, in_list, belongs);
    }
}

static void test_cve_lists_as_of(void **state)
{
    (void)state;
    /* Versions every no-fix flaw and many node flaws affect. */
    static const struct spec hosts[] = {
        {1, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.16.3", 'A'},
        {2, 443, true, true, EVIDENCE_VERSION_INFO, "aks", 200, "v1.20.7", 'B'},
        {3, 6443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.29.1-eks-1", 'C'},
    };
    static const struct {
        const char *as_of;
        const char *absent[4];     /* public later: in no list but cves_all */
        const char *no_fix[2], *node[2];
    } cases[] = {
        {"2021-06-10", {"CVE-2020-8561", "CVE-2021-25740", "CVE-2024-7598", "CVE-2025-1767"},
         {"CVE-2020-8554", NULL}, {NULL, NULL}},
        {"2021-08-01", {"CVE-2020-8561", "CVE-2024-7598", "CVE-2025-1767", NULL},
         {"CVE-2020-8554", "CVE-2021-25740"}, {NULL, NULL}},
        {"2025-06-01", {NULL}, {"CVE-2020-8561", "CVE-2024-7598"}, {"CVE-2025-1767", NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = run(cases[i].as_of, NULL, hosts, 3);
        int32_t as_of;
        assert_int_equal(ks_date_parse(cases[i].as_of, &as_of), 0);
        check_cve_lists(o, as_of);
        for (size_t a = 0; a < 4 && cases[i].absent[a]; a++) {
            const char *id = cases[i].absent[a];
            if (listed(o, "cves", id) || listed(o, "cves_no_fix", id) || listed(o, "cves_node", id))
                fail_msg("as of %s, %s is listed", cases[i].as_of, id);
            assert_true(listed(o, "cves_all", id));
        }
        for (size_t a = 0; a < 2; a++) {
            if (cases[i].no_fix[a] && !listed(o, "cves_no_fix", cases[i].no_fix[a]))
                fail_msg("as of %s, %s missing from cves_no_fix", cases[i].as_of,
                         cases[i].no_fix[a]);
            if (cases[i].node[a] && !listed(o, "cves_node", cases[i].node[a]))
                fail_msg("as of %s, %s missing from cves_node", cases[i].as_of, cases[i].node[a]);
        }
        /* A node flaw never counts against API servers. */
        assert_false(listed(o, "cves_no_fix", "CVE-2025-1767"));
        json_decref(o);
    }
}

/* AKS 1.27-1.29 under LTS, as Microsoft's page stated on each day: on
 * 2024-08-01 1.27 is past standard support (2024-07-31) within LTS (to
 * 2025-07-31, published 2023-09-29); on 2025-06-15 1.28 and 1.29 are too
 * (LTS rows published 2025-04-03 and 2025-05-19). */
static void test_aks_lts_as_published(void **state)
{
    (void)state;
    static const struct spec aks[] = {
        {1, 443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "aks", 200, "v1.27.9", 'A'},
        {2, 443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "aks", 200, "v1.28.5", 'B'},
        {3, 443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "aks", 200, "v1.29.2", 'C'},
    };
    static const struct {
        const char *as_of;
        long long standard, extended;
    } days[] = {{"2024-08-01", 1, 0}, {"2025-06-15", 3, 0}, {"2025-08-01", 3, 1}};
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        json_t *o = run(days[i].as_of, NULL, aks, 3);
        json_t *p = json_object_get(json_object_get(o, "by_provider"), "aks");
        assert_int_equal(json_integer_value(json_object_get(p, "version_public")), 3);
        assert_int_equal(json_integer_value(json_object_get(p, "provider_unsupported")),
                         days[i].standard);
        assert_int_equal(json_integer_value(json_object_get(p, "provider_unsupported_extended")),
                         days[i].extended);
        assert_int_equal(json_integer_value(json_object_get(p, "provider_lifecycle_unknown")), 0);
        json_decref(o);
    }
}

static void test_empty(void **state)
{
    (void)state;
    json_t *o = run("2021-06-10", NULL, NULL, 0);
    assert_true(json_is_null(json_object_get(o, "unsupported_share")));
    assert_int_equal(json_integer_value(json_object_get(o, "syn_open")), 0);
    assert_int_equal(json_object_size(json_object_get(o, "by_minor")), 0);
    json_decref(o);
}

/* Node CVEs of kubelets (docs/statistics.md, "Node CVEs of kubelets"):
 * kubelets beside API servers of known versions, one beside two API
 * servers (the newer bounds it), one beside a k3s that hides its version,
 * one alone, two on one address. */
static json_t *node_cves_as_of(const char *as_of)
{
    static const struct spec apiservers[] = {
        {1, 6443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.16.5", 'A'},
        {2, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.18.20", 'B'},
        {2, 6443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.16.2", 'B'},
        {4, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_STATUS_BODY, "k3s", 401, NULL, 'D'},
        {5, 6443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.21.3", 'E'},
    };
    static const struct { uint32_t last_octet; uint16_t port; } kubelets[] = {
        {1, 10250}, {2, 10250}, {3, 10250}, {4, 10250}, {5, 10250}, {5, 10251},
    };
    char err[KS_ERRLEN];
    struct stats_options opt = {.lc = lc};
    struct stats *s;
    assert_int_equal(ks_date_parse(as_of, &opt.as_of), 0);
    assert_int_equal(stats_new(&s, &opt, err), 0);
    /* kubelets first: the bound applies whatever the records' order */
    for (size_t i = 0; i < sizeof(kubelets) / sizeof(kubelets[0]); i++) {
        struct probe_result r;
        probe_result_init(&r);
        r.addr = net_addr_ipv4(0xC6120000u | kubelets[i].last_octet);
        r.port = kubelets[i].port;
        r.module = strdup("kubelet");
        r.finding = strdup(RECORD_FINDING_AUTH_REQUIRED);
        assert_int_equal(stats_add(s, &r, err), 0);
        probe_result_free(&r);
    }
    for (size_t i = 0; i < sizeof(apiservers) / sizeof(apiservers[0]); i++) {
        struct probe_result r;
        population_fill(&r, &apiservers[i], false);
        assert_int_equal(stats_add(s, &r, err), 0);
        probe_result_free(&r);
    }
    json_t *o = stats_to_json(s);
    stats_free(s);
    assert_int_equal(json_integer_value(json_object_get(o, "syn_open")), 5); /* API servers only */
    json_t *c = json_incref(json_object_get(json_object_get(json_object_get(o, "surfaces"),
                                                            "kubelet"), "cves_node"));
    json_decref(o);
    return c;
}

static void test_node_cves(void **state)
{
    (void)state;
    /* No node CVE public yet: every kubelet certainly unaffected. */
    json_t *c = node_cves_as_of("2017-12-01");
    expect_json(c, "{\"version_bound\": 4, \"affected\": 0, \"not_affected\": 6, \"unknown\": 0,"
                   " \"by_cve\": {}, \"no_fix\": []}");
    json_decref(c);
    /* .1 (at most 1.16.5) is below every fix of CVE-2020-8557 (< 1.16.13)
     * and CVE-2020-8558 (<= 1.16.10); .2 (at most 1.18.20, the newer of
     * its API servers) could be 1.16.13 or 1.17.9, fixed; .5 could be
     * 1.21.3 or older: unknown, as are .3 and .4 (no bound). */
    c = node_cves_as_of("2021-06-10");
    expect_json(c, "{\"version_bound\": 4, \"affected\": 1, \"not_affected\": 0, \"unknown\": 5,"
                   " \"by_cve\": {\"CVE-2020-8557\": 1, \"CVE-2020-8558\": 1}, \"no_fix\": []}");
    json_decref(c);
    /* CVE-2021-25741 (<= 1.19.14, public 2021-09-15) takes .1 and .2;
     * CVE-2023-2431 (<= 1.24.13, 2023-06-15) all four bounded ones. */
    c = node_cves_as_of("2023-07-01");
    expect_json(c, "{\"version_bound\": 4, \"affected\": 4, \"not_affected\": 0, \"unknown\": 2,"
                   " \"by_cve\": {\"CVE-2020-8557\": 1, \"CVE-2020-8558\": 1,"
                   " \"CVE-2021-25741\": 2, \"CVE-2023-2431\": 4}, \"no_fix\": []}");
    json_decref(c);
    /* CVE-2025-1767 has no fix: listed apart, judged nowhere */
    c = node_cves_as_of("2025-06-01");
    expect_json(json_object_get(c, "no_fix"), "[\"CVE-2025-1767\"]");
    assert_int_equal(json_integer_value(json_object_get(c, "affected")), 4);
    json_decref(c);
}

/* The version-bound rules on their own: every version up to the bound in
 * the ranges, or some. */
static void test_cve_up_to(void **state)
{
    (void)state;
    const struct cve *c8557 = cve_by_id("CVE-2020-8557"), *c11245 = cve_by_id("CVE-2019-11245");
    const struct cve *c1767 = cve_by_id("CVE-2025-1767"), *c1002101 = cve_by_id("CVE-2017-1002101");
    struct kver v;
    assert_int_equal(kver_parse("v1.16.12", &v), 0);
    assert_true(cve_affects_every_up_to(c8557, &v));
    assert_int_equal(kver_parse("v1.16.13", &v), 0);
    assert_false(cve_affects_every_up_to(c8557, &v)); /* 1.16.13 itself is fixed */
    assert_true(cve_affects_some_up_to(c8557, &v));
    assert_int_equal(kver_parse("v1.14.2", &v), 0);
    assert_false(cve_affects_every_up_to(c11245, &v)); /* only 1.13.6 and 1.14.2 */
    assert_true(cve_affects_some_up_to(c11245, &v));
    assert_int_equal(kver_parse("v1.13.5", &v), 0);
    assert_false(cve_affects_some_up_to(c11245, &v));
    assert_false(cve_affects_some_up_to(c1002101, &(struct kver){1, 2, 9, PRE_NONE, 0}));
    assert_false(cve_affects_every_up_to(c1002101, &(struct kver){1, 5, 0, PRE_NONE, 0}));
    assert_true(cve_affects_every_up_to(c1767, NULL)); /* >= 0.0.0: every version */
    assert_false(cve_affects_every_up_to(c8557, NULL));
    assert_true(cve_affects_some_up_to(c8557, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted_population),
        cmocka_unit_test(test_as_of_boundary),
        cmocka_unit_test(test_cve_count_independent_of_order),
        cmocka_unit_test(test_cve_lists_as_of),
        cmocka_unit_test(test_aks_lts_as_published),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_node_cves),
        cmocka_unit_test(test_cve_up_to),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
