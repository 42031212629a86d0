/*
 * gen_db.c - writes test and benchmark databases through the real store
 * writer (storage.h).
 *
 *   gen_db OUT --crafted [--shard I/N] [--started ISO] [--corrupt K]
 *       the hand-checked population of population.h (records whose index
 *       % N == I), optionally followed by K undecodable host records
 *   gen_db OUT --later [--started ISO]
 *       population_later (the crafted endpoints in a later scan)
 *   gen_db OUT --third [--started ISO]
 *       population_third (a scan after population_later)
 * A store that exists gets one more scan.
 *   gen_db OUT --synthetic COUNT [--shard I/N] [--started ISO]
 *       COUNT synthetic endpoints (deterministic; see synthetic_fill)
 * With --ipv6 every address a.b.c.d becomes 2001:2::a.b.c.d (2001:2::/96,
 * prefixes kept), for stores of IPv6 records and, merged, of both.
 *
 * The scan JSON has the keys the scanner writes that identify a scan
 * (targets, ports, seed, shards) plus shard and started.
 */
#include "lib/bytes.h"
#include "population.h"
#include "storage/storage.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static char *dup_printf(const char *fmt, int a, int b)
{
    char buf[64];
    snprintf(buf, sizeof(buf), fmt, a, b);
    return strdup(buf);
}

/* A synthetic endpoint: 90% TLS; of those 60% Kubernetes; providers eks 35%,
 * gke 15%, aks 10%, k3s 10% (401, no version), upstream 20%, openshift 5%,
 * ack 5%; 80% of the others answer /version with minor 1.14..1.33; three
 * endpoints in a row share a serving certificate. */
static void synthetic_fill(struct probe_result *r, uint64_t i)
{
    static const struct { const char *name; int share; const char *suffix; } providers[] = {
        {"eks", 35, "-eks-%x%x"}, {"gke", 15, "-gke.%d%d"}, {"aks", 10, ""},
        {"k3s", 10, "+k3s1"},     {"upstream", 20, ""},      {"openshift", 5, "+%x%x"},
        {"ack", 5, "-aliyun.%d%d"},
    };
    uint64_t h = splitmix(i);
    probe_result_init(r);
    r->addr = net_addr_ipv4(0x0B000000u + (uint32_t)(i / 2));
    r->port = i % 2 ? 6443 : 443;
    r->started_ms = 1781000000000LL + (int64_t)i;
    r->tls_done = h % 10 != 0;
    if (!r->tls_done) {
        r->outcome = PROBE_TLS_ERROR;
        return;
    }
    r->tls_version = strdup("TLSv1.3");
    r->chain_length = 1;
    uint64_t cert = i / 3;
    r->chain[0].der = malloc(96);
    r->chain[0].length = 96;
    for (int b = 0; b < 96; b++)
        r->chain[0].der[b] = b < 8 ? (uint8_t)(cert >> (8 * b)) : (uint8_t)(0x30 + b % 7);
    if ((h >> 8) % 10 >= 6) {
        r->http_status = 404;
        return;
    }
    r->k8s = K8S_YES;
    r->evidence = (h >> 16) % 2 ? EVIDENCE_CERT_MARKER : 0;
    int pick = (int)((h >> 24) % 100), p = 0;
    while (pick >= providers[p].share)
        pick -= providers[p++].share;
    r->provider = strdup(providers[p].name);
    int status_pick = (int)((h >> 32) % 100);
    r->http_status = p == 3 ? 401 : status_pick < 80 ? 200 : status_pick < 95 ? 403 : 401;
    if (r->http_status != 200) {
        r->evidence |= EVIDENCE_STATUS_BODY;
        return;
    }
    r->evidence |= EVIDENCE_VERSION_INFO;
    r->version_state = VERSION_VALID;
    r->version_major = 1;
    r->version_minor = 14 + (int)((h >> 40) % 20);
    r->version_patch = (int)((h >> 48) % 16);
    char *suffix = dup_printf(providers[p].suffix, (int)(h >> 56) & 0xff, 7);
    char buf[96];
    snprintf(buf, sizeof(buf), "v1.%d.%d%s", r->version_minor, r->version_patch, suffix);
    r->git_version = strdup(buf);
    r->version_suffix = suffix;
}

static int corrupt_records(const char *path, uint32_t scan, unsigned count)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi hosts, addrs;
    int rc = mdb_env_create(&env);
    if (!rc) rc = mdb_env_set_maxdbs(env, 8);
    if (!rc) rc = mdb_env_open(env, path, MDB_NOSUBDIR, 0644);
    if (!rc) rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc) rc = mdb_dbi_open(txn, "hosts", 0, &hosts);
    if (!rc) rc = mdb_dbi_open(txn, "addrs", 0, &addrs);
    /* a garbage record at sequence number 2^32 + i, indexed as 203.0.113.i:443 */
    for (unsigned i = 0; !rc && i < count; i++) {
        uint8_t key[12], addr[10];
        be32_put(key, scan);
        be64_put(key + 4, (1ull << 32) + (uint8_t)i);
        be32_put(addr, scan);
        be32_put(addr + 4, 0xcb007100u + (uint8_t)i); /* 203.0.113.i */
        be16_put(addr + 8, 443);
        uint8_t garbage[7] = {0xff, 1, 2, 3, 4, 5, (uint8_t)i};
        MDB_val k = {sizeof(key), key}, v = {sizeof(garbage), garbage};
        MDB_val ak = {sizeof(addr), addr}, av = {8, key + 4};
        rc = mdb_put(txn, hosts, &k, &v, 0);
        if (!rc) rc = mdb_put(txn, addrs, &ak, &av, 0);
    }
    if (!rc) rc = mdb_txn_commit(txn);
    mdb_env_close(env);
    if (rc)
        fprintf(stderr, "gen_db: corrupting %s: %s\n", path, mdb_strerror(rc));
    return rc ? -1 : 0;
}

/* 2001:2::a.b.c.d: an IPv4 address moved into the IPv6 test prefix. */
static struct net_addr ipv6_of(const struct net_addr *v4)
{
    uint8_t bytes[16] = {0x20, 0x01, 0x00, 0x02};
    memcpy(bytes + 12, v4->bytes, 4);
    return net_addr_ipv6(bytes);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *started = "2021-06-10T08:00:00Z", *seed = "42";
    const char *modules = NULL; /* the scan record's module map; NULL: none */
    unsigned shard = 0, shards = 1, corrupt = 0;
    long long synthetic = -1;
    bool crafted = false, later = false, third = false, ipv6 = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--crafted")) crafted = true;
        else if (!strcmp(argv[i], "--later")) crafted = later = true;
        else if (!strcmp(argv[i], "--third")) crafted = third = true;
        else if (!strcmp(argv[i], "--ipv6")) ipv6 = true;
        else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc) synthetic = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--started") && i + 1 < argc) started = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = argv[++i];
        else if (!strcmp(argv[i], "--modules") && i + 1 < argc) modules = argv[++i];
        else if (!strcmp(argv[i], "--corrupt") && i + 1 < argc) corrupt = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shard") && i + 1 < argc &&
                 sscanf(argv[++i], "%u/%u", &shard, &shards) == 2 && shard < shards) ;
        else if (argv[i][0] != '-' && !out) out = argv[i];
        else {
            fprintf(stderr, "usage: gen_db OUT (--crafted | --later | --third | --synthetic COUNT) [--shard I/N] "
                            "[--started ISO] [--seed S] [--modules MAP] [--corrupt K] [--ipv6]\n");
            return 2;
        }
    }
    if (!out || crafted == (synthetic >= 0)) {
        fprintf(stderr, "gen_db: give OUT and one of --crafted, --synthetic COUNT\n");
        return 2;
    }
    char err[KS_ERRLEN] = "", scan_json[640], modules_member[128] = "";
    struct store *store;
    struct store_writer *w;
    uint32_t scan;
    if (modules)
        snprintf(modules_member, sizeof(modules_member), "\"modules\": \"%.100s\", ", modules);
    snprintf(scan_json, sizeof(scan_json),
             "{\"targets\": [\"198.18.0.0/15\"], \"ports\": \"443,6443\", %s\"seed\": \"%s\", "
             "\"shard\": %u, \"shards\": %u, \"started\": \"%s\", \"counters\": {\"unique\": 0}}",
             modules_member, seed, shard, shards, started);
    if (store_open(&store, out, STORE_READ_WRITE, err) ||
        store_scan_create(store, scan_json, &scan, err) ||
        store_writer_start(store, scan, 10000, 200, &w, err)) {
        fprintf(stderr, "gen_db: %s\n", err);
        return 1;
    }
    const struct spec *specs = third ? population_third : later ? population_later : population;
    uint64_t n = third   ? POPULATION_THIRD_COUNT
                 : later ? POPULATION_LATER_COUNT
                 : crafted ? POPULATION_COUNT : (uint64_t)synthetic;
    for (uint64_t i = 0; i < n; i++) {
        if (i % shards != shard)
            continue;
        struct probe_result r;
        if (crafted)
            population_fill(&r, &specs[i], true);
        else
            synthetic_fill(&r, i);
        if (ipv6)
            r.addr = ipv6_of(&r.addr);
        if (store_writer_put(w, &r, err)) {
            fprintf(stderr, "gen_db: %s\n", err);
            return 1;
        }
        probe_result_free(&r);
    }
    if (store_writer_finish(w, err)) {
        fprintf(stderr, "gen_db: %s\n", err);
        return 1;
    }
    store_close(store);
    return corrupt && corrupt_records(out, scan, corrupt) ? 1 : 0;
}
