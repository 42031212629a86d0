/*
 * population.h - the crafted endpoint population whose statistics are
 * computed by hand in test_stats.c (and written to a database by gen_db).
 */
#ifndef KS_TEST_POPULATION_H
#define KS_TEST_POPULATION_H

#include "probes/probes.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct spec {
    uint32_t last_octet;
    uint16_t port;
    bool tls;
    bool k8s;
    uint32_t evidence;
    const char *provider;
    int http_status;
    const char *git_version;  /* NULL: no version */
    char cert;                /* leaf certificate 'A'.., 0 for none */
};

/* The population; expectations in test_crafted_population (as of 2021-06-10). */
static const struct spec population[] = {
    {1, 443, false, false, 0, NULL, 0, NULL, 0},
    {2, 443, true, false, 0, NULL, 404, NULL, 'Z'},
    {3, 443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.16.15-eks-ad4801", 'A'},
    {4, 6443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.19.6-eks-49a6c0", 'B'},
    {4, 443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.19.6-eks-49a6c0", 'B'},
    {5, 443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "gke", 200,
     "v1.17.17-gke.1", 'C'},
    {6, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_STATUS_BODY, "k3s", 401, NULL, 'D'},
    {7, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "upstream", 200,
     "v1.15.12", 'E'},
    {8, 443, true, true, EVIDENCE_STATUS_BODY, "upstream", 403, NULL, 'F'},
    {9, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.22.0-alpha.1", 0},
    {10, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.40.1", 'A'},
};

/* The same endpoints in a later scan (test of `diff`): against population,
 * upgraded 2 (.3:443, .9:443), downgraded 1 (.5:443), unchanged 2
 * (.4:6443, .7:6443), version_unknown 2 (.6:6443, .8:443), gone 2 (.4:443,
 * .10:443), new 2 (.2:443 now Kubernetes, .11:443). */
static const struct spec population_later[] = {
    {1, 443, false, false, 0, NULL, 0, NULL, 0},
    {2, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.20.1", 'Z'},
    {3, 443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.19.8-eks-1234567", 'A'},
    {4, 6443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.19.6-eks-7654321", 'B'},
    {5, 443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "gke", 200,
     "v1.17.16-gke.2", 'C'},
    {6, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_STATUS_BODY, "k3s", 401, NULL, 'D'},
    {7, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "upstream", 200,
     "v1.15.12", 'E'},
    {8, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.21.0", 'F'},
    {9, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.22.0", 0},
    {11, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.21.2", 'G'},
};

/* A third scan after population_later (scans over time, test_series.sh):
 * against population_later, upgraded 2 (.2:443, .3:443), downgraded 1
 * (.8:443), unchanged 2 (.4:6443, .7:6443), version_unknown 1 (.6:6443),
 * gone 3 (.5:443, .9:443, .11:443), new 3 (.12:443, .13:6443, .14:443). */
static const struct spec population_third[] = {
    {1, 443, false, false, 0, NULL, 0, NULL, 0},
    {2, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.22.4", 'Z'},
    {3, 443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.21.5-eks-bc4871b", 'A'},
    {4, 6443, true, true, EVIDENCE_VERSION_INFO, "eks", 200, "v1.19.6-eks-7654321", 'B'},
    {6, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_STATUS_BODY, "k3s", 401, NULL, 'D'},
    {7, 6443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "upstream", 200,
     "v1.15.12", 'E'},
    {8, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.20.15", 'F'},
    {12, 443, true, true, EVIDENCE_CERT_MARKER | EVIDENCE_VERSION_INFO, "gke", 200,
     "v1.21.6-gke.1500", 'H'},
    {13, 6443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.23.3", 'I'},
    {14, 443, true, true, EVIDENCE_VERSION_INFO, "upstream", 200, "v1.23.4", 'J'},
};

#define POPULATION_THIRD_COUNT (sizeof(population_third) / sizeof(population_third[0]))
#define POPULATION_LATER_COUNT (sizeof(population_later) / sizeof(population_later[0]))
#define POPULATION_COUNT (sizeof(population) / sizeof(population[0]))

/* Makes the record of s. With der, the leaf is a real (64-byte, fake) DER
 * body whose SHA-256 the store computes; without, only its hash is set. */
static inline void population_fill(struct probe_result *r, const struct spec *s, bool der)
{
    probe_result_init(r);
    r->addr = net_addr_ipv4(0xC6120000u | s->last_octet); /* 198.18.0.x */
    r->port = s->port;
    r->tls_done = s->tls;
    r->k8s = s->k8s ? K8S_YES : K8S_NO;
    r->evidence = s->evidence;
    r->provider = s->provider ? strdup(s->provider) : NULL;
    r->http_status = s->http_status;
    if (s->git_version) {
        r->version_state = VERSION_VALID;
        r->git_version = strdup(s->git_version);
    }
    if (s->cert) {
        r->chain_length = 1;
        if (der) {
            r->chain[0].der = malloc(64);
            memset(r->chain[0].der, s->cert, 64);
            r->chain[0].length = 64;
        } else {
            memset(r->chain[0].sha256, s->cert, 32);
        }
    }
}

/* The statistics of `population` as of 2021-06-10 with the test prefix2as
 * table, computed by hand: the keys of `stats --json` after the opening
 * brace that this small population exercises, shared by the aggregator test
 * and the command test (expect_json_keys; tests/tools/stats_oracle.py
 * checks every key, by_provider and the CVE tables included, on a larger
 * population and seven dates). No CVE makes the headline: none of these
 * versions is in a fixed, unauthenticated-by-default range (CVE-2019-11253
 * and CVE-2020-8552 are unauthenticated only before 1.14); the six flaws
 * without a fix affect every version. */
#define POPULATION_STATS_2021_06_10 \
    "\"as_of\": \"2021-06-10\", \"calendar\": \"published\", \"syn_open\": 11, \"tls\": 10,"\
    " \"k8s\": 9, \"k8s_by_cert\": 3, \"kubelets\": 0, \"version_public\": 7, \"unsupported\": 3,"\
    " \"provider_unsupported\": 1, \"provider_unsupported_extended\": 1, \"lifecycle_unknown\": 1,"\
    " \"provider_lifecycle_unknown\": 1, \"provider_extended_lifecycle_unknown\": 1,"\
    " \"clusters\": 7, \"k8s_without_cert\": 1, \"clusters_estimator\": \"certificate\","\
    " \"clusters_version_public\": 5, \"clusters_unsupported\": 3,"\
    " \"clusters_provider_unsupported\": 1, \"clusters_provider_unsupported_extended\": 1,"\
    " \"corrupt_records\": 2,"\
    " \"by_minor\": {\"1.15\": 1, \"1.16\": 1, \"1.17\": 1, \"1.19\": 2, \"1.22\": 1, \"1.40\": 1},"\
    " \"cves\": {},"\
    " \"cves_no_fix\": {\"CVE-2020-8554\": 7, \"CVE-2020-8562\": 7},"\
    " \"cves_node\": {\"CVE-2020-8557\": 1, \"CVE-2020-8558\": 1},"\
    " \"auth\": {\"public\": 7, \"unauthorized_401\": 1, \"forbidden_403\": 1},"\
    " \"networks\": [{\"as\": \"64501_64502\", \"k8s\": 6, \"version_public\": 5, \"unsupported\": 3,"\
    "                 \"providers\": {\"eks\": 3, \"gke\": 1, \"k3s\": 1, \"upstream\": 1}},"\
    "                {\"as\": \"64503,64504\", \"k8s\": 3, \"version_public\": 2, \"unsupported\": 0,"\
    "                 \"providers\": {\"upstream\": 3}}],"\
    " \"k8s_no_network\": 0}"

#endif
