/*
 * test_merge_random.c - `kubesurvey merge` on random stores (many seeds,
 * reproducible): random host records (tests/storage/random_record.h) with
 * certificates drawn from a shared pool are written once into a single
 * store, as one unsharded run would, and split across K shard stores as K
 * shards would (each endpoint in exactly one shard). Merging the shards,
 * given in a random order, must give the single store's records and
 * certificates exactly, and one scan whose record is the shards' common
 * fields with the earliest start, the latest end, the counters summed and
 * every shard listed.
 */
#include "lib/hashmap.h"
#include "storage/storage.h"
#include "tests/storage/random_record.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define CASES 40
#define MAX_SHARDS 5
#define CERT_POOL 12

static char dir[64];

/* ---- one random case ---- */

struct cert {
    uint8_t *der;
    size_t length;
};

struct random_case {
    unsigned shards;
    size_t count;
    struct probe_result *records;
    unsigned *shard_of;                 /* shard of records[i] */
    struct cert pool[CERT_POOL];
    json_t *shard_scan[MAX_SHARDS];     /* each shard's scan record */
    json_t *single_scan;
};

static json_t *counters(void)
{
    return json_pack("{s:I,s:I,s:I,s:I}", "targets", (json_int_t)below(1000000),
                     "sent", (json_int_t)below(1000000), "unique", (json_int_t)below(1000),
                     "opted_out", (json_int_t)below(100));
}

static void make_case(struct random_case *c, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    c->shards = 2 + below(MAX_SHARDS - 1);
    c->count = below(120);
    for (int i = 0; i < CERT_POOL; i++) {
        c->pool[i].length = 1 + below(3000);
        c->pool[i].der = malloc(c->pool[i].length);
        for (size_t b = 0; b < c->pool[i].length; b++)
            c->pool[i].der[b] = (uint8_t)(below(4) ? b * 7 : next_random()); /* compressible */
    }
    c->records = calloc(c->count ? c->count : 1, sizeof(*c->records));
    c->shard_of = calloc(c->count ? c->count : 1, sizeof(*c->shard_of));
    struct hashmap keys;
    hashmap_init(&keys, sizeof(struct net_endpoint), 0);
    for (size_t i = 0; i < c->count; i++) {
        struct probe_result *r = &c->records[i];
        bool added;
        do { /* shards are disjoint: every endpoint once */
            random_record(r, 1);
            struct net_endpoint key = net_endpoint_key(&r->addr, r->port);
            assert_non_null(hashmap_put(&keys, &key, &added));
            if (!added)
                probe_result_free(r);
        } while (!added);
        for (size_t k = 0; k < r->chain_length; k++) {
            const struct cert *pick = &c->pool[below(CERT_POOL)];
            r->chain[k].der = malloc(pick->length);
            memcpy(r->chain[k].der, pick->der, pick->length);
            r->chain[k].length = pick->length;
        }
        c->shard_of[i] = below(c->shards);
    }
    hashmap_free(&keys);
    /* What defines the run is common; times and counters are the shard's. */
    char seed_text[24];
    snprintf(seed_text, sizeof(seed_text), "%llu", (unsigned long long)next_random());
    json_t *common = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:b}", "seed", seed_text,
                               "ports", "443,6443", "blocklist_mode", "builtin-reserved",
                               "allow_digest", "aa11", "block_digest", "bb22",
                               "target_addresses", (json_int_t)65536, "target_space",
                               (json_int_t)131072, "sender_threads", (json_int_t)1,
                               "syn_only", 0);
    for (unsigned k = 0; k < c->shards; k++) {
        char started[32], ended[32];
        snprintf(started, sizeof(started), "2021-06-%02uT10:00:00Z", 1 + below(9));
        snprintf(ended, sizeof(ended), "2021-06-%02uT11:00:00Z", 10 + below(9));
        c->shard_scan[k] = json_deep_copy(common);
        json_object_set_new(c->shard_scan[k], "shards", json_integer(c->shards));
        json_object_set_new(c->shard_scan[k], "shard", json_integer(k));
        json_object_set_new(c->shard_scan[k], "started", json_string(started));
        json_object_set_new(c->shard_scan[k], "ended", json_string(ended));
        json_object_set_new(c->shard_scan[k], "counters", counters());
        json_object_set_new(c->shard_scan[k], "state", json_string("done"));
    }
    c->single_scan = common;
    json_object_set_new(common, "shards", json_integer(1));
    json_object_set_new(common, "shard", json_integer(0));
}

static void free_case(struct random_case *c)
{
    for (size_t i = 0; i < c->count; i++)
        probe_result_free(&c->records[i]);
    for (int i = 0; i < CERT_POOL; i++)
        free(c->pool[i].der);
    for (unsigned k = 0; k < c->shards; k++)
        json_decref(c->shard_scan[k]);
    json_decref(c->single_scan);
    free(c->records);
    free(c->shard_of);
}

/* Writes the records of `shard` (-1: all of them) into a new store. */
static void write_store(const char *path, const struct random_case *c, int shard,
                        const json_t *scan)
{
    char err[KS_ERRLEN];
    struct store *s;
    struct store_writer *w;
    uint32_t id;
    char *text = json_dumps(scan, JSON_COMPACT);
    if (store_open(&s, path, STORE_READ_WRITE, err) || store_scan_create(s, text, &id, err) ||
        store_writer_start(s, id, 1000, 50, &w, err))
        fail_msg("%s", err);
    for (size_t i = 0; i < c->count; i++) {
        if (shard >= 0 && c->shard_of[i] != (unsigned)shard)
            continue;
        struct probe_result copy;
        assert_int_equal(probe_result_copy(&copy, &c->records[i]), 0);
        if (store_writer_put(w, &copy, err))
            fail_msg("%s", err);
        probe_result_free(&copy);
    }
    if (store_writer_finish(w, err))
        fail_msg("%s", err);
    free(text);
    store_close(s);
}

/* ---- comparing ---- */

struct listing {
    char **json;                /* record_to_json of each host, in key order */
    size_t count, cap;
};

static int list_host(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct listing *l = ctx;
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->json = realloc(l->json, l->cap * sizeof(*l->json));
    }
    size_t length;
    /* The DER of every certificate is in it, and strings are escaped
     * byte for byte: equal text, equal record. */
    l->json[l->count++] = record_to_json(r, RECORD_CERTS_DER, NULL, &length);
    return 0;
}

static int keep_scan(void *ctx, const struct store_scan *scan)
{
    json_t **scans = ctx;
    json_array_append_new(*scans, json_loads(scan->json, 0, NULL));
    return 0;
}

/* Every scan record of the store, and every host in key order. */
static void read_store(const char *path, json_t **scans, struct listing *hosts,
                       struct store_cert_stats *certs)
{
    char err[KS_ERRLEN];
    struct store *s;
    *scans = json_array();
    memset(hosts, 0, sizeof(*hosts));
    if (store_open(&s, path, STORE_READ_ONLY, err) || store_scan_foreach(s, keep_scan, scans, err) ||
        store_hosts_foreach(s, 0, STORE_WITH_CERTS, list_host, hosts, NULL, err) ||
        store_cert_stats(s, certs, err))
        fail_msg("%s", err);
    store_close(s);
}

static void free_listing(struct listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->json[i]);
    free(l->json);
}

/* The merged scan record the shards must give, inputs in `order`. */
static json_t *expected_merge(const struct random_case *c, const unsigned *order,
                              char paths[][96])
{
    json_t *m = json_deep_copy(c->shard_scan[order[0]]);
    json_object_del(m, "shard");
    json_t *sum = json_object_get(m, "counters"), *shards = json_array(), *from = json_array();
    for (unsigned i = 0; i < c->shards; i++) {
        const json_t *in = c->shard_scan[order[i]];
        const char *started = json_string_value(json_object_get(in, "started"));
        const char *ended = json_string_value(json_object_get(in, "ended"));
        if (strcmp(started, json_string_value(json_object_get(m, "started"))) < 0)
            json_object_set_new(m, "started", json_string(started));
        if (strcmp(ended, json_string_value(json_object_get(m, "ended"))) > 0)
            json_object_set_new(m, "ended", json_string(ended));
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(in, "counters"), key, v)
            if (i > 0)
                json_object_set_new(sum, key, json_integer(json_integer_value(json_object_get(sum, key)) +
                                                           json_integer_value(v)));
        json_array_append_new(shards, json_integer(order[i]));
        json_array_append_new(from, json_pack("{s:s,s:I,s:I}", "db", paths[i], "scan",
                                              (json_int_t)1, "shard", (json_int_t)order[i]));
    }
    json_object_set_new(m, "merged_shards", shards);
    json_object_set_new(m, "merged_from", from);
    return m;
}

static void run_case(uint64_t seed)
{
    struct random_case c;
    make_case(&c, seed);
    char single[96], merged[96], paths[MAX_SHARDS][96], cmd[1024];
    unsigned order[MAX_SHARDS];
    snprintf(single, sizeof(single), "%s/single-%llu.db", dir, (unsigned long long)seed);
    snprintf(merged, sizeof(merged), "%s/merged-%llu.db", dir, (unsigned long long)seed);
    write_store(single, &c, -1, c.single_scan);
    for (unsigned k = 0; k < c.shards; k++)
        order[k] = k;
    for (unsigned k = c.shards - 1; k > 0; k--) { /* the inputs in a random order */
        unsigned j = below(k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    int used = snprintf(cmd, sizeof(cmd), KUBESURVEY " merge %s", merged);
    for (unsigned i = 0; i < c.shards; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/shard%u-%llu.db", dir, order[i],
                 (unsigned long long)seed);
        write_store(paths[i], &c, (int)order[i], c.shard_scan[order[i]]);
        used += snprintf(cmd + used, sizeof(cmd) - (size_t)used, " %s", paths[i]);
    }
    strcat(cmd, " >/dev/null");
    if (system(cmd) != 0)
        fail_msg("seed %llu: '%s' failed", (unsigned long long)seed, cmd);

    json_t *single_scans, *merged_scans;
    struct listing a, b;
    struct store_cert_stats ca, cb;
    read_store(single, &single_scans, &a, &ca);
    read_store(merged, &merged_scans, &b, &cb);
    if (a.count != b.count || a.count != c.count)
        fail_msg("seed %llu: %zu records written, single store %zu, merged %zu",
                 (unsigned long long)seed, c.count, a.count, b.count);
    for (size_t i = 0; i < a.count; i++)
        if (strcmp(a.json[i], b.json[i]))
            fail_msg("seed %llu: record %zu differs:\nsingle %s\nmerged %s",
                     (unsigned long long)seed, i, a.json[i], b.json[i]);
    if (ca.certs != cb.certs || ca.der_bytes != cb.der_bytes)
        fail_msg("seed %llu: certificates: single %llu (%llu bytes), merged %llu (%llu bytes)",
                 (unsigned long long)seed, (unsigned long long)ca.certs,
                 (unsigned long long)ca.der_bytes, (unsigned long long)cb.certs,
                 (unsigned long long)cb.der_bytes);
    assert_int_equal(json_array_size(merged_scans), 1);
    json_t *want = expected_merge(&c, order, paths);
    json_t *got = json_array_get(merged_scans, 0);
    if (!json_equal(want, got)) {
        char *w = json_dumps(want, JSON_SORT_KEYS), *g = json_dumps(got, JSON_SORT_KEYS);
        fail_msg("seed %llu: merged scan record\nwant %s\ngot  %s", (unsigned long long)seed, w, g);
    }
    json_decref(want);
    json_decref(single_scans);
    json_decref(merged_scans);
    free_listing(&a);
    free_listing(&b);
    /* Each case's stores go: the directory stays small. */
    snprintf(cmd, sizeof(cmd), "rm -f %s/*-%llu.db %s/*-%llu.db-lock", dir,
             (unsigned long long)seed, dir, (unsigned long long)seed);
    assert_int_equal(system(cmd), 0);
    free_case(&c);
}

static void test_merge_equals_single_run(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= CASES; seed++)
        run_case(seed);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ks-merge-random.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_equals_single_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
