/*
 * test_storage.c - unit tests of storage/ (cmocka).
 */
#include "storage/internal.h"
#include "tests/storage/fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* When probes/ appends fields to struct probe_result, storage/record.c must
 * encode them (bump STORE_RECORD_VERSION), fixtures.c must fill them and
 * this test compare them; then update this size. */
_Static_assert(sizeof(struct probe_result) == 1064,
               "struct probe_result changed: extend storage/record.c and the storage tests");

/* store_host_get and store_cert_get as 1 (found), 0 (not found) or -1
 * (error), checking their convention on the way: 0 or -1 returned, found
 * false unless 0 was, a message in err on -1 and none touched on 0. */
static int host_lookup(struct store *s, uint32_t scan, struct net_addr addr, uint16_t port,
                       unsigned flags, struct probe_result *out, char *err)
{
    bool found = true;
    err[0] = '\0';
    int rc = store_host_get(s, scan, &addr, port, flags, out, &found, err);
    assert_true(rc == 0 || rc == -1);
    if (rc) {
        assert_false(found);
        assert_true(err[0] != '\0');
        return -1;
    }
    assert_true(err[0] == '\0');
    return found ? 1 : 0;
}

static int cert_lookup(struct store *s, const uint8_t sha256[32], uint8_t **der, size_t *length,
                       char *err)
{
    bool found = true;
    err[0] = '\0';
    int rc = store_cert_get(s, sha256, der, length, &found, err);
    assert_true(rc == 0 || rc == -1);
    if (rc) {
        assert_false(found);
        assert_true(err[0] != '\0');
        return -1;
    }
    assert_true(err[0] == '\0');
    return found ? 1 : 0;
}

static char tmpdir[] = "/tmp/ks-storage-test-XXXXXX";
static char dbpath[4200];
static unsigned db_counter;

/* A fresh database path for each test. */
static const char *new_db(void)
{
    snprintf(dbpath, sizeof(dbpath), "%s/t%u.lmdb", tmpdir, ++db_counter);
    return dbpath;
}

static struct store *open_rw(const char *path)
{
    char err[KS_ERRLEN];
    struct store *s;
    if (store_open(&s, path, STORE_READ_WRITE, err))
        fail_msg("store_open: %s", err);
    return s;
}

static uint32_t new_scan(struct store *s)
{
    char err[KS_ERRLEN];
    uint32_t id;
    if (store_scan_create(s, "{\"started\":\"2026-11-29T12:00:00Z\"}", &id, err))
        fail_msg("store_scan_create: %s", err);
    return id;
}

static struct store_writer *start_writer(struct store *s, uint32_t scan, unsigned group)
{
    char err[KS_ERRLEN];
    struct store_writer *w;
    if (store_writer_start(s, scan, group, 50, &w, err))
        fail_msg("store_writer_start: %s", err);
    return w;
}

static void put(struct store_writer *w, struct probe_result *r)
{
    char err[KS_ERRLEN];
    if (store_writer_put(w, r, err))
        fail_msg("store_writer_put: %s", err);
}

static void finish(struct store_writer *w)
{
    char err[KS_ERRLEN];
    if (store_writer_finish(w, err))
        fail_msg("store_writer_finish: %s", err);
}

static uint64_t check_problems(struct store *s)
{
    char err[KS_ERRLEN];
    struct store_check_stats stats;
    if (store_check(s, NULL, NULL, &stats, err))
        fail_msg("store_check: %s", err);
    return stats.problems;
}

/* ---- records ---- */

static void test_roundtrip_every_field(void **state)
{
    (void)state;
    struct store *s = open_rw(new_db());
    uint32_t scan = new_scan(s);
    struct store_writer *w = start_writer(s, scan, 100);
    size_t lengths[3];
    uint8_t *ders[3];
    for (int i = 0; i < 3; i++)
        ders[i] = fixture_x509((unsigned)i, &lengths[i]);
    struct probe_result expect[40], r;
    for (uint32_t i = 0; i < 40; i++) {
        fixture_result(&expect[i], i, 0xC6120000u + i * 977, (uint16_t)(443 + i % 3), ders,
                       lengths, i % 4);
        fixture_result(&r, i, 0xC6120000u + i * 977, (uint16_t)(443 + i % 3), ders, lengths,
                       i % 4);
        put(w, &r);
        assert_null(r.tls_version);   /* ownership moved to the writer */
    }
    /* the all-default record: NULL strings, -1 versions, empty chain */
    struct probe_result empty;
    probe_result_init(&empty);
    empty.addr = net_addr_ipv4(0xC6130001u);
    empty.port = 6443;
    r = empty;
    put(w, &r);
    finish(w);

    char err[KS_ERRLEN];
    for (uint32_t i = 0; i < 40; i++) {
        struct probe_result got;
        int found = host_lookup(s, scan, expect[i].addr, expect[i].port, STORE_WITH_CERTS,
                                   &got, err);
        assert_int_equal(found, 1);
        const char *diff = fixture_result_diff(&expect[i], &got);
        if (diff)
            fail_msg("record %u: field %s differs", i, diff);
        for (size_t c = 0; c < got.chain_length; c++)
            assert_memory_equal(got.chain[c].der, ders[c], lengths[c]);
        probe_result_free(&got);
        /* without STORE_WITH_CERTS: hash and length only */
        assert_int_equal(host_lookup(s, scan, expect[i].addr, expect[i].port, 0, &got, err), 1);
        assert_null(fixture_result_diff(&expect[i], &got));
        if (got.chain_length)
            assert_null(got.chain[0].der);
        probe_result_free(&got);
        probe_result_free(&expect[i]);
    }
    struct probe_result got;
    assert_int_equal(host_lookup(s, scan, empty.addr, empty.port, STORE_WITH_CERTS, &got, err), 1);
    assert_null(fixture_result_diff(&empty, &got));
    assert_int_equal(got.version_major, -1);
    assert_null(got.body);
    probe_result_free(&got);
    assert_int_equal(host_lookup(s, scan, net_addr_ipv4(0xC6130002u), 6443, 0, &got, err), 0);
    assert_int_equal(host_lookup(s, scan + 1, empty.addr, empty.port, 0, &got, err), 0);
    assert_int_equal(check_problems(s), 0);
    for (int i = 0; i < 3; i++)
        free(ders[i]);
    store_close(s);
}

static int collect_keys(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    uint64_t *keys = ctx;
    keys[++keys[0]] = (uint64_t)scan_id << 48 | (uint64_t)net_addr_ipv4_value(&r->addr) << 16 | r->port;
    return 0;
}

static void test_key_order_and_walks(void **state)
{
    (void)state;
    struct store *s = open_rw(new_db());
    uint32_t scan1 = new_scan(s), scan2 = new_scan(s);
    assert_int_equal(scan1, 1);
    assert_int_equal(scan2, 2);
    /* inserted in scrambled order; read back sorted by (scan, addr, port) */
    uint32_t addrs[] = {0xC6120105u, 0x0A000001u, 0xFFFFFFFEu, 0xC6120104u};
    uint16_t ports[] = {6443, 443, 8443, 443};
    for (int k = 0; k < 2; k++) {
        struct store_writer *w = start_writer(s, k ? scan2 : scan1, 3);
        for (int i = 3; i >= 0; i--) {
            struct probe_result r;
            probe_result_init(&r);
            r.addr = net_addr_ipv4(addrs[i]);
            r.port = ports[i];
            put(w, &r);
            if (i == 0 && !k) {   /* a second port of the same address */
                probe_result_init(&r);
                r.addr = net_addr_ipv4(addrs[0]);
                r.port = 443;
                put(w, &r);
            }
        }
        finish(w);
    }
    char err[KS_ERRLEN];
    uint64_t keys[32] = {0};
    struct store_read_stats stats;
    assert_int_equal(store_hosts_foreach(s, 0, 0, collect_keys, keys, &stats, err), 0);
    assert_int_equal(keys[0], 9);
    assert_int_equal(stats.records, 9);
    assert_int_equal(stats.corrupt, 0);
    for (int i = 2; i <= 9; i++)
        assert_true(keys[i - 1] < keys[i]);
    memset(keys, 0, sizeof(keys));
    assert_int_equal(store_hosts_foreach(s, scan2, 0, collect_keys, keys, &stats, err), 0);
    assert_int_equal(keys[0], 4);
    assert_int_equal(keys[1] >> 48, scan2);
    assert_int_equal((keys[1] >> 16) & 0xffffffffu, 0x0A000001u);
    /* one address, every port, every scan */
    memset(keys, 0, sizeof(keys));
    struct net_addr a0 = net_addr_ipv4(addrs[0]);
    assert_int_equal(store_hosts_foreach_addr(s, 0, &a0, 0, 0, collect_keys, keys, &stats,
                                              err), 0);
    assert_int_equal(keys[0], 3);   /* scan1: 443, 6443; scan2: 6443 */
    assert_int_equal(keys[1], (uint64_t)scan1 << 48 | (uint64_t)addrs[0] << 16 | 443);
    assert_int_equal(keys[2], (uint64_t)scan1 << 48 | (uint64_t)addrs[0] << 16 | 6443);
    assert_int_equal(keys[3], (uint64_t)scan2 << 48 | (uint64_t)addrs[0] << 16 | 6443);
    memset(keys, 0, sizeof(keys));
    assert_int_equal(store_hosts_foreach_addr(s, scan1, &a0, 6443, 0, collect_keys, keys,
                                              &stats, err), 0);
    assert_int_equal(keys[0], 1);
    uint64_t count;
    assert_int_equal(store_scan_host_count(s, scan1, &count, err), 0);
    assert_int_equal(count, 5);
    assert_int_equal(store_scan_host_count(s, 99, &count, err), 0);
    assert_int_equal(count, 0);
    store_close(s);
}

static int collect_text(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    char *out = ctx, endpoint[NET_ENDPOINT_TEXT_MAX];
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%u %s;", scan_id, net_endpoint_text(&r->addr, r->port, endpoint));
    return 0;
}

/* IPv4 and IPv6 hosts in one scan: each scan's IPv4 hosts come first, then
 * its IPv6 ones, each in address order; one of them is found by address,
 * with and without its port; an IPv6 address sharing an IPv4 address's
 * first bytes is not mistaken for it; check finds nothing wrong. */
static void test_mixed_families(void **state)
{
    (void)state;
    struct store *s = open_rw(new_db());
    uint32_t scan = new_scan(s);
    const char *texts[] = {"2001:2::1", "198.18.0.2", "2001:2::1", "c612:2::", "198.18.0.1",
                           "::"};
    uint16_t ports[] = {6443, 443, 443, 443, 443, 443};
    struct store_writer *w = start_writer(s, scan, 4);
    for (int i = 0; i < 6; i++) {
        struct probe_result r;
        probe_result_init(&r);
        assert_int_equal(net_addr_parse(texts[i], &r.addr), 0);
        r.port = ports[i];
        r.http_status = 200 + i;
        put(w, &r);
    }
    finish(w);
    char err[KS_ERRLEN], seen[1024] = "";
    assert_int_equal(store_hosts_foreach(s, scan, 0, collect_text, seen, NULL, err), 0);
    assert_string_equal(seen, "1 198.18.0.1:443;1 198.18.0.2:443;1 [::]:443;1 [2001:2::1]:443;"
                              "1 [2001:2::1]:6443;1 [c612:2::]:443;");
    struct net_addr a;
    struct probe_result got;
    assert_int_equal(net_addr_parse("2001:2::1", &a), 0);
    assert_int_equal(host_lookup(s, scan, a, 6443, 0, &got, err), 1);
    assert_int_equal(got.http_status, 200);
    probe_result_free(&got);
    seen[0] = '\0';
    assert_int_equal(store_hosts_foreach_addr(s, 0, &a, 0, 0, collect_text, seen, NULL, err), 0);
    assert_string_equal(seen, "1 [2001:2::1]:443;1 [2001:2::1]:6443;");
    seen[0] = '\0';
    a = net_addr_ipv4(0xC6120002u);   /* 198.18.0.2 = c612:0002: not c612:2:: */
    assert_int_equal(store_hosts_foreach_addr(s, 0, &a, 0, 0, collect_text, seen, NULL, err), 0);
    assert_string_equal(seen, "1 198.18.0.2:443;");
    uint64_t count;
    assert_int_equal(store_scan_host_count(s, scan, &count, err), 0);
    assert_int_equal(count, 6);
    assert_int_equal(check_problems(s), 0);
    store_close(s);
}

static void put_host(struct store_writer *w, uint32_t addr, uint16_t port, int status)
{
    struct probe_result r;
    probe_result_init(&r);
    r.addr = net_addr_ipv4(addr);
    r.port = port;
    r.http_status = status;
    put(w, &r);
}

static int host_status(struct store *s, uint32_t scan, uint32_t addr, uint16_t port)
{
    char err[KS_ERRLEN];
    struct probe_result r;
    int found = host_lookup(s, scan, net_addr_ipv4(addr), port, 0, &r, err);
    assert_int_equal(found, 1);
    assert_int_equal(net_addr_ipv4_value(&r.addr), addr);
    assert_int_equal(r.port, port);
    int status = r.http_status;
    probe_result_free(&r);
    return status;
}

/* Hosts are appended by arrival and indexed by address: a host probed again
 * (a resumed scan, or twice in one group) keeps one record, the later one;
 * an older scan written after a newer one cannot append and still works. */
static void test_replace_resume_and_order(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct store *s = open_rw(new_db());
    uint32_t scan1 = new_scan(s), scan2 = new_scan(s);
    enum { A = 0x0A000001, B = 0x0A000002, C = 0x0A000003, D = 0x0A000004, E = 0x0A000005 };
    struct store_writer *w = start_writer(s, scan2, 2);
    put_host(w, A, 443, 200);
    put_host(w, B, 443, 200);
    finish(w);
    w = start_writer(s, scan1, 2);   /* older scan: keys sort before scan2's */
    put_host(w, C, 443, 200);
    put_host(w, D, 443, 200);
    put_host(w, A, 443, 401);
    finish(w);
    w = start_writer(s, scan1, 8);   /* resumed: D twice in one group */
    put_host(w, D, 443, 404);
    put_host(w, E, 6443, 200);
    put_host(w, D, 443, 500);
    finish(w);

    uint64_t count;
    assert_int_equal(store_scan_host_count(s, scan1, &count, err), 0);
    assert_int_equal(count, 4);
    assert_int_equal(store_scan_host_count(s, scan2, &count, err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(host_status(s, scan1, D, 443), 500);
    assert_int_equal(host_status(s, scan1, A, 443), 401);
    assert_int_equal(host_status(s, scan2, A, 443), 200);

    uint64_t keys[16] = {0};
    struct store_read_stats stats;
    assert_int_equal(store_hosts_foreach(s, scan1, 0, collect_keys, keys, &stats, err), 0);
    uint64_t by_address[] = {4, (uint64_t)scan1 << 48 | (uint64_t)A << 16 | 443,
                             (uint64_t)scan1 << 48 | (uint64_t)C << 16 | 443,
                             (uint64_t)scan1 << 48 | (uint64_t)D << 16 | 443,
                             (uint64_t)scan1 << 48 | (uint64_t)E << 16 | 6443};
    assert_memory_equal(keys, by_address, sizeof(by_address));
    memset(keys, 0, sizeof(keys));
    assert_int_equal(store_hosts_foreach(s, scan1, STORE_STORED_ORDER, collect_keys, keys, &stats,
                                         err), 0);
    uint64_t by_arrival[] = {4, by_address[2], by_address[3], by_address[1], by_address[4]};
    assert_memory_equal(keys, by_arrival, sizeof(by_arrival));
    memset(keys, 0, sizeof(keys));
    assert_int_equal(store_hosts_foreach(s, 0, STORE_STORED_ORDER, collect_keys, keys, &stats,
                                         err), 0);
    assert_int_equal(keys[0], 6);
    assert_int_equal(check_problems(s), 0);

    /* two writers of one scan at once (a second process resuming it): each
     * group continues after the other's sequence numbers, nothing is lost */
    uint32_t scan3 = new_scan(s);
    struct store_writer *w1 = start_writer(s, scan3, 100), *w2 = start_writer(s, scan3, 100);
    put_host(w1, A, 443, 200);
    assert_int_equal(store_writer_checkpoint(w1, "{\"w\":1}", err), 0);
    put_host(w2, B, 443, 200);
    assert_int_equal(store_writer_checkpoint(w2, "{\"w\":2}", err), 0);
    put_host(w1, C, 443, 200);
    finish(w1);
    finish(w2);
    memset(keys, 0, sizeof(keys));
    assert_int_equal(store_hosts_foreach(s, scan3, STORE_STORED_ORDER, collect_keys, keys, &stats,
                                         err), 0);
    uint64_t both[] = {3, (uint64_t)scan3 << 48 | (uint64_t)A << 16 | 443,
                       (uint64_t)scan3 << 48 | (uint64_t)B << 16 | 443,
                       (uint64_t)scan3 << 48 | (uint64_t)C << 16 | 443};
    assert_memory_equal(keys, both, sizeof(both));
    assert_int_equal(check_problems(s), 0);

    /* check finds a host missing from the index and an index entry whose
     * record is missing */
    MDB_txn *txn;
    assert_int_equal(store_txn_begin(s, true, &txn, err), 0);
    uint8_t akey[STORE_ADDR_KEY_MAX], seq[8];
    struct net_addr e = net_addr_ipv4(E), c = net_addr_ipv4(C);
    MDB_val ak = {store_addr_key(s, akey, scan1, &e, 6443), akey}, av = {8, seq};
    assert_int_equal(mdb_del(txn, s->addrs, &ak, NULL), 0);
    ak.mv_size = store_addr_key(s, akey, scan2, &c, 443);
    be64_put(seq, 99);
    assert_int_equal(mdb_put(txn, s->addrs, &ak, &av, 0), 0);
    assert_int_equal(store_txn_commit(s, txn, "test", NULL, err), 0);
    assert_int_equal(check_problems(s), 2);
    struct probe_result r;
    assert_int_equal(host_lookup(s, scan2, c, 443, 0, &r, err), -1);
    assert_non_null(strstr(err, "missing"));
    store_close(s);
}

static void test_record_decode_hostile(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct buf b = {0};
    struct probe_result r, got;
    size_t length;
    uint8_t *der = fixture_blob_cert(1, &length);
    fixture_result(&r, 12345, 1, 2, &der, &length, 1);
    assert_int_equal(record_encode(&b, &r, err), 0);
    assert_int_equal(b.data[0], STORE_RECORD_VERSION);
    /* every proper prefix fails cleanly */
    for (size_t n = 0; n < b.length; n++) {
        probe_result_init(&got);
        assert_int_equal(record_decode(b.data, n, &got, err), -1);
    }
    /* unknown record versions are refused, not guessed at */
    b.data[0] = STORE_RECORD_VERSION + 1;
    probe_result_init(&got);
    assert_int_equal(record_decode(b.data, b.length, &got, err), -1);
    assert_non_null(strstr(err, "version"));
    b.data[0] = 0;
    assert_int_equal(record_decode(b.data, b.length, &got, err), -1);
    b.data[0] = STORE_RECORD_VERSION;
    /* a trailing byte is corruption */
    buf_reserve(&b, 1);
    b.data[b.length] = 0;
    assert_int_equal(record_decode(b.data, b.length + 1, &got, err), -1);
    /* flipped bytes: decodes or fails, never crashes (ASan watches) */
    srand(7);
    for (int round = 0; round < 3000; round++) {
        uint8_t copy[4096];
        assert_true(b.length <= sizeof(copy));
        memcpy(copy, b.data, b.length);
        for (int k = 0; k < 1 + round % 4; k++)
            copy[1 + (size_t)rand() % (b.length - 1)] = (uint8_t)rand();
        probe_result_init(&got);
        if (record_decode(copy, b.length, &got, err) == 0)
            probe_result_free(&got);
    }
    probe_result_free(&r);
    free(der);
    buf_free(&b);
}

/* A version 4 encoding of r (IPv4; its module, finding and etcd fields
 * NULL): version 5's without the address's family byte, which comes
 * before the address, the port and the four 1-byte NULL strings. */
static void encode_version4(struct buf *b, const struct probe_result *r)
{
    char err[KS_ERRLEN];
    assert_int_equal(record_encode(b, r, err), 0);
    assert_int_equal(b->data[0], 5);
    size_t family = b->length - 4 - 2 - 4 - 1;
    assert_int_equal(b->data[family], 4);
    memmove(b->data + family, b->data + family + 1, b->length - family - 1);
    b->length--;
    b->data[0] = 4;
}

/* all_ports_open came with version 3 as bit 3 of the flags byte: a
 * version 2 record decodes it as false, and one with that bit set is
 * corrupt (version 3 adds no other bytes, so a version 3 encoding with its
 * version byte set to 2 is a version 2 record). */
static void test_record_version_2_flags(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct buf b = {0};
    struct probe_result r, got;
    fixture_result(&r, 26, 1, 443, NULL, NULL, 0);
    free(r.module);
    free(r.finding);
    free(r.etcd_server);
    free(r.etcd_cluster);
    r.module = r.finding = r.etcd_server = r.etcd_cluster = NULL;
    r.tls_cert_requested = false;
    r.all_ports_open = true;
    encode_version4(&b, &r);
    b.length -= 4; /* version 4's four empty strings */
    b.data[0] = 3;
    assert_int_equal(b.data[1] & 8, 8);
    assert_int_equal(record_decode(b.data, b.length, &got, err), 0);
    assert_true(got.all_ports_open);
    probe_result_free(&got);
    b.data[0] = 2;
    assert_int_equal(record_decode(b.data, b.length, &got, err), -1);
    assert_non_null(strstr(err, "unknown flag bits"));
    b.data[1] &= (uint8_t)~8;
    assert_int_equal(record_decode(b.data, b.length, &got, err), 0);
    assert_false(got.all_ports_open);
    r.all_ports_open = false;
    assert_null(fixture_result_diff(&r, &got));
    probe_result_free(&got);
    probe_result_free(&r);
    buf_free(&b);
}

/* Version 4 added the module, tls_cert_requested (bit 4 of the flags
 * byte) and the findings at the end: a version 3 record (a version 4
 * encoding without those bytes, its version byte 3) decodes with them NULL
 * and false, its module read as apiserver; bit 4 set in it is corrupt. */
static void test_record_version_3(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct buf b = {0}, old = {0};
    struct probe_result r, got;
    fixture_result(&r, 26, 1, 443, NULL, NULL, 0);
    free(r.module);
    free(r.finding);
    free(r.etcd_server);
    free(r.etcd_cluster);
    r.module = r.finding = r.etcd_server = r.etcd_cluster = NULL;
    r.tls_cert_requested = false;
    encode_version4(&old, &r);
    /* four empty strings (one byte each) are all version 4 adds */
    old.length -= 4;
    old.data[0] = 3;
    assert_int_equal(record_decode(old.data, old.length, &got, err), 0);
    assert_null(fixture_result_diff(&r, &got));
    assert_null(got.module);
    assert_string_equal(probe_result_module(&got), "apiserver");
    probe_result_free(&got);
    old.data[1] |= 16;
    assert_int_equal(record_decode(old.data, old.length, &got, err), -1);
    assert_non_null(strstr(err, "unknown flag bits"));
    /* and a version 4 record keeps all of them */
    r.module = strdup("etcd");
    r.finding = strdup(RECORD_FINDING_CLIENT_CERT_REQUIRED);
    r.etcd_server = strdup("3.4.23");
    r.tls_cert_requested = true;
    assert_int_equal(record_encode(&b, &r, err), 0);
    assert_int_equal(b.data[0], 5);
    assert_int_equal(b.data[1] & 16, 16);
    assert_int_equal(record_decode(b.data, b.length, &got, err), 0);
    assert_null(fixture_result_diff(&r, &got));
    assert_string_equal(probe_result_module(&got), "etcd");
    probe_result_free(&got);
    probe_result_free(&r);
    buf_free(&b);
    buf_free(&old);
}

/* Version 5 names the address's family: an IPv6 address comes back as it
 * went in, an IPv4 one as a version 4 record holds it, one byte longer;
 * a family other than 4 or 6 is corrupt. */
static void test_record_version_5(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct buf b = {0}, v4 = {0};
    struct probe_result r, got;
    fixture_result(&r, 27, 0xC6120001u, 443, NULL, NULL, 0);
    free(r.module);
    free(r.finding);
    free(r.etcd_server);
    free(r.etcd_cluster);
    r.module = r.finding = r.etcd_server = r.etcd_cluster = NULL;
    encode_version4(&v4, &r);
    assert_int_equal(record_encode(&b, &r, err), 0);
    assert_int_equal(b.length, v4.length + 1);
    assert_int_equal(record_decode(v4.data, v4.length, &got, err), 0);
    assert_null(fixture_result_diff(&r, &got));
    probe_result_free(&got);

    assert_int_equal(net_addr_parse("2001:2:0:1::5", &r.addr), 0);
    assert_int_equal(record_encode(&b, &r, err), 0);
    assert_int_equal(b.length, v4.length + 1 + 12);
    assert_int_equal(record_decode(b.data, b.length, &got, err), 0);
    assert_null(fixture_result_diff(&r, &got));
    char text[NET_ADDR_TEXT_MAX];
    assert_string_equal(net_addr_text(&got.addr, text), "2001:2:0:1::5");
    probe_result_free(&got);
    size_t family = b.length - 4 - 2 - 16 - 1;
    assert_int_equal(b.data[family], 6);
    b.data[family] = 5;
    assert_int_equal(record_decode(b.data, b.length, &got, err), -1);
    assert_non_null(strstr(err, "address family unknown"));
    b.data[family] = 4;   /* an IPv4 address then leaves 12 bytes over */
    assert_int_equal(record_decode(b.data, b.length, &got, err), -1);
    probe_result_free(&r);
    buf_free(&b);
    buf_free(&v4);
}

/* ---- certificates ---- */

static void test_cert_dedup(void **state)
{
    (void)state;
    struct store *s = open_rw(new_db());
    uint32_t scan1 = new_scan(s), scan2 = new_scan(s);
    size_t lengths[3];
    uint8_t *ders[3];
    for (int i = 0; i < 3; i++)
        ders[i] = fixture_x509((unsigned)i + 10, &lengths[i]);
    for (int k = 0; k < 2; k++) {
        struct store_writer *w = start_writer(s, k ? scan2 : scan1, 7);
        for (uint32_t i = 0; i < 100; i++) {
            struct probe_result r;
            uint8_t *chain[2] = {ders[i % 2], ders[2]};   /* two leaves, one CA */
            size_t chain_lengths[2] = {lengths[i % 2], lengths[2]};
            fixture_result(&r, i, i, 443, chain, chain_lengths, 2);
            put(w, &r);
        }
        finish(w);
    }
    char err[KS_ERRLEN];
    struct store_cert_stats st;
    assert_int_equal(store_cert_stats(s, &st, err), 0);
    assert_int_equal(st.certs, 3);
    assert_int_equal(st.der_bytes, lengths[0] + lengths[1] + lengths[2]);
    assert_int_equal(st.with_dict, 0);
    for (int i = 0; i < 3; i++) {
        uint8_t sha[32], *der;
        size_t length;
        SHA256(ders[i], lengths[i], sha);
        assert_int_equal(cert_lookup(s, sha, &der, &length, err), 1);
        assert_int_equal(length, lengths[i]);
        assert_memory_equal(der, ders[i], length);
        free(der);
        sha[0] ^= 1;
        assert_int_equal(cert_lookup(s, sha, &der, &length, err), 0);
    }
    uint64_t count;
    assert_int_equal(store_scan_host_count(s, scan2, &count, err), 0);
    assert_int_equal(count, 100);
    assert_int_equal(check_problems(s), 0);
    for (int i = 0; i < 3; i++)
        free(ders[i]);
    store_close(s);
}

static void put_cert_records(struct store_writer *w, unsigned first, unsigned n, uint8_t **ders,
                             size_t *lengths)
{
    for (unsigned i = first; i < first + n; i++) {
        struct probe_result r;
        fixture_result(&r, i, 0x0A000000u + i, 443, &ders[i], &lengths[i], 1);
        put(w, &r);
    }
}

static void assert_all_certs(struct store *s, uint8_t **ders, size_t *lengths, unsigned n)
{
    char err[KS_ERRLEN];
    for (unsigned i = 0; i < n; i++) {
        uint8_t sha[32], *der;
        size_t length;
        SHA256(ders[i], lengths[i], sha);
        assert_int_equal(cert_lookup(s, sha, &der, &length, err), 1);
        assert_int_equal(length, lengths[i]);
        assert_memory_equal(der, ders[i], length);
        free(der);
    }
}

static void test_dictionary_switch_and_compact(void **state)
{
    (void)state;
    enum { BEFORE = 300, AFTER = 120, ALL = BEFORE + AFTER };
    const char *path = new_db();
    struct store *s = open_rw(path);
    store_set_dict_training(s, BEFORE);
    uint32_t scan = new_scan(s);
    uint8_t *ders[ALL];
    size_t lengths[ALL];
    for (unsigned i = 0; i < ALL; i++)
        ders[i] = fixture_x509(100 + i, &lengths[i]);
    char err[KS_ERRLEN];
    struct store_cert_stats st;

    struct store_writer *w = start_writer(s, scan, 64);
    put_cert_records(w, 0, BEFORE - 1, ders, lengths);
    assert_int_equal(store_writer_checkpoint(w, "{\"position\":1}", err), 0);
    assert_int_equal(store_writer_committed(w), BEFORE - 1);
    assert_int_equal(store_cert_stats(s, &st, err), 0);
    assert_int_equal(st.certs, BEFORE - 1);
    assert_int_equal(st.dicts, 0);           /* one short of the threshold */
    assert_int_equal(st.current_dict, 0);
    assert_int_equal(st.with_dict, 0);
    uint64_t plain_bytes = st.frame_bytes;
    assert_all_certs(s, ders, lengths, BEFORE - 1);   /* frames without a dictionary */
    put_cert_records(w, BEFORE - 1, 1, ders, lengths);
    /* the checkpoint returns after the commit and the training behind it,
     * which also recompressed the certificates stored before */
    assert_int_equal(store_writer_checkpoint(w, "{\"position\":2}", err), 0);
    assert_int_equal(store_cert_stats(s, &st, err), 0);
    assert_int_equal(st.dicts, 1);
    assert_int_equal(st.current_dict, STORE_DICT_ID_BASE);
    assert_int_equal(st.certs, BEFORE);
    assert_int_equal(st.with_dict, BEFORE);
    assert_true(st.frame_bytes < plain_bytes);   /* one more certificate, fewer bytes */
    put_cert_records(w, BEFORE, AFTER, ders, lengths);
    finish(w);
    assert_int_equal(store_cert_stats(s, &st, err), 0);
    assert_int_equal(st.certs, ALL);
    assert_int_equal(st.with_dict, ALL);
    assert_all_certs(s, ders, lengths, ALL);
    assert_int_equal(check_problems(s), 0);
    struct store_scan sc;
    assert_int_equal(store_scan_get(s, scan, &sc, err), 0);
    assert_string_equal(sc.json, "{\"position\":2}");
    free(sc.json);

    struct store_cert_stats after;
    assert_int_equal(store_compact(s, &after, err), 0);
    assert_int_equal(after.certs, ALL);
    assert_int_equal(after.with_dict, ALL);
    assert_int_equal(after.dicts, 1);
    assert_int_equal(after.current_dict, STORE_DICT_ID_BASE + 1);
    assert_all_certs(s, ders, lengths, ALL);
    assert_int_equal(check_problems(s), 0);
    store_close(s);

    /* reopened read-only (fresh dictionary cache): still all readable */
    assert_int_equal(store_open(&s, path, STORE_READ_ONLY, err), 0);
    assert_all_certs(s, ders, lengths, ALL);
    struct probe_result got;
    assert_int_equal(host_lookup(s, scan, net_addr_ipv4(0x0A000000u + 5), 443, STORE_WITH_CERTS, &got, err), 1);
    assert_memory_equal(got.chain[0].der, ders[5], lengths[5]);
    probe_result_free(&got);
    /* writing needs read-write */
    struct store_writer *ro_writer;
    assert_int_equal(store_writer_start(s, scan, 10, 10, &ro_writer, err), -1);
    assert_int_equal(store_compact(s, &after, err), -1);
    store_close(s);
    for (unsigned i = 0; i < ALL; i++)
        free(ders[i]);
}

/* ---- scans, checkpoints, writer errors ---- */

static int count_scan(void *ctx, const struct store_scan *scan)
{
    (void)scan;
    (*(int *)ctx)++;
    return 0;
}

static void test_scans_and_writer_errors(void **state)
{
    (void)state;
    struct store *s = open_rw(new_db());
    char err[KS_ERRLEN];
    uint32_t id;
    assert_int_equal(store_scan_create(s, "not json", &id, err), -1);
    assert_non_null(strstr(err, "JSON"));
    assert_int_equal(store_scan_create(s, "[1,2]", &id, err), -1);
    uint32_t scan = new_scan(s);
    assert_int_equal(store_scan_update(s, scan, "{\"ended\":\"x\"}", err), 0);
    assert_int_equal(store_scan_update(s, scan + 5, "{}", err), -1);
    struct store_scan sc;
    assert_int_equal(store_scan_get(s, scan, &sc, err), 0);
    assert_string_equal(sc.json, "{\"ended\":\"x\"}");
    free(sc.json);
    assert_int_equal(store_scan_get(s, 77, &sc, err), -1);
    int n = 0;
    new_scan(s);
    assert_int_equal(store_scan_foreach(s, count_scan, &n, err), 0);
    assert_int_equal(n, 2);

    struct store_writer *w;
    assert_int_equal(store_writer_start(s, 99, 10, 10, &w, err), -1);   /* no such scan */
    assert_int_equal(store_writer_start(s, scan, 0, 10, &w, err), -1);
    w = start_writer(s, scan, 10);
    struct probe_result r;
    probe_result_init(&r);
    r.chain_length = 1;   /* a chain entry without its DER */
    assert_int_equal(store_writer_put(w, &r, err), -1);
    assert_non_null(strstr(err, "DER"));
    r.chain_length = PROBE_CHAIN_MAX + 1;
    assert_int_equal(store_writer_put(w, &r, err), -1);
    r.chain_length = 0;
    assert_int_equal(store_writer_checkpoint(w, "{oops", err), -1);
    /* time-based group commit: 3 records, group of 10, commit within ms */
    for (uint32_t i = 0; i < 3; i++) {
        probe_result_init(&r);
        r.addr = net_addr_ipv4(i);
        put(w, &r);
    }
    for (int wait = 0; wait < 200 && store_writer_committed(w) < 3; wait++)
        usleep(10000);
    assert_int_equal(store_writer_committed(w), 3);
    finish(w);
    assert_int_equal(check_problems(s), 0);
    store_close(s);
}

/* ---- growth, concurrency ---- */

static size_t map_size(struct store *s)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    return info.me_mapsize;
}

/* A transaction body that fails once as if LMDB had said MDB_MAP_FULL. */
static int map_full_once_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    (void)txn;
    int *calls = ctx;
    if ((*calls)++ == 0)
        return store_fail(s, MDB_MAP_FULL, "test put", map_full, err);
    return 0;
}

/* A transaction body that fails for another reason. */
static int fails_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    (void)txn;
    (void)map_full;
    (*(int *)ctx)++;
    return store_fail(s, MDB_CORRUPTED, "test get", NULL, err);
}

/* store_write_txn reruns a body that failed with *map_full set, after
 * growing the map, and only such a body; a real MDB_MAP_FULL (a scan JSON
 * larger than the 64 MiB map) takes the same path. */
static void test_map_full_signal(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct store *s = open_rw(new_db());
    size_t before = map_size(s);
    int calls = 0;
    assert_int_equal(store_write_txn(s, map_full_once_txn, &calls, "test", err), 0);
    assert_int_equal(calls, 2);
    assert_true(map_size(s) > before);
    calls = 0;
    err[0] = '\0';
    assert_int_equal(store_write_txn(s, fails_txn, &calls, "test", err), -1);
    assert_int_equal(calls, 1);
    assert_non_null(strstr(err, "test get"));

    size_t big = (size_t)70 << 20;
    char *json = malloc(big + 16);
    assert_non_null(json);
    memcpy(json, "{\"x\":\"", 6);
    memset(json + 6, 'a', big);
    memcpy(json + 6 + big, "\"}", 3);
    store_close(s);
    s = open_rw(dbpath);   /* back to the initial 64 MiB map */
    before = map_size(s);
    uint32_t id;
    if (store_scan_create(s, json, &id, err))
        fail_msg("store_scan_create: %s", err);
    assert_true(map_size(s) > before);
    struct store_scan scan;
    assert_int_equal(store_scan_get(s, id, &scan, err), 0);
    assert_int_equal(strlen(scan.json), big + 8);
    free(scan.json);
    free(json);
    store_close(s);
}

struct reader_args {
    struct store *store;
    _Atomic int stop;             /* the writer is done: readers end their pass */
    uint64_t passes, last, corrupt, backwards;
};

static int count_host(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    (void)r;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void *reader_main(void *arg)
{
    struct reader_args *ra = arg;
    char err[KS_ERRLEN];
    while (!ra->stop) {
        uint64_t count = 0;
        struct store_read_stats stats;
        if (store_hosts_foreach(ra->store, 0, STORE_WITH_CERTS, count_host, &count, &stats, err))
            ra->corrupt++;
        ra->corrupt += stats.corrupt;
        if (count < ra->last)
            ra->backwards++;
        ra->last = count;
        ra->passes++;
    }
    return NULL;
}

static void test_map_growth_and_concurrent_reads(void **state)
{
    (void)state;
    enum { RECORDS = 40000 };
    struct store *s = open_rw(new_db());
    uint32_t scan = new_scan(s);
    struct reader_args ra = {s, 0, 0, 0, 0, 0};
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, reader_main, &ra), 0);
    struct store_writer *w = start_writer(s, scan, 2000);
    size_t length;
    uint8_t *der = fixture_blob_cert(3, &length);
    for (uint32_t i = 0; i < RECORDS; i++) {
        struct probe_result r;
        fixture_result(&r, i, i * 2654435761u, 443, &der, &length, 1);
        /* 2 KiB bodies: 40000 records overflow the initial 64 MiB map */
        free(r.body);
        r.body_length = 2048;
        r.body = malloc(r.body_length);
        for (size_t k = 0; k < r.body_length; k++)
            r.body[k] = (uint8_t)(i * 31 + k * 7);
        put(w, &r);
    }
    finish(w);
    ra.stop = 1;
    pthread_join(reader, NULL);
    free(der);
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    assert_true(info.me_mapsize > STORE_INITIAL_MAP);
    char err[KS_ERRLEN];
    uint64_t count;
    assert_int_equal(store_scan_host_count(s, scan, &count, err), 0);
    assert_int_equal(count, RECORDS);
    assert_true(ra.passes > 0);
    assert_int_equal(ra.corrupt, 0);
    assert_int_equal(ra.backwards, 0);
    assert_int_equal(check_problems(s), 0);
    store_close(s);
}

/* ---- bad files ---- */

static void write_file(const char *path, const void *data, size_t length)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, length, f), length);
    fclose(f);
}

static void expect_open_error(const char *path, enum store_mode mode, const char *words)
{
    char err[KS_ERRLEN];
    struct store *s;
    assert_int_equal(store_open(&s, path, mode, err), -1);
    assert_null(s);
    if (!strstr(err, words))
        fail_msg("error '%s' lacks '%s'", err, words);
}

/* A new store with one scan of count records (fixture certificate
 * cert_seed); the store stays open in *out if out is given. */
static const char *db_with_records(unsigned count, unsigned cert_seed, struct store **out,
                                   uint32_t *scan_out)
{
    const char *path = new_db();
    struct store *s = open_rw(path);
    uint32_t scan = new_scan(s);
    struct store_writer *w = start_writer(s, scan, 100);
    size_t length;
    uint8_t *der = fixture_blob_cert(cert_seed, &length);
    for (uint32_t i = 0; i < count; i++) {
        struct probe_result r;
        fixture_result(&r, i, i, 443, &der, &length, 1);
        put(w, &r);
    }
    finish(w);
    free(der);
    if (scan_out)
        *scan_out = scan;
    if (out)
        *out = s;
    else
        store_close(s);
    return path;
}

/* Rewrites meta schema_version of the store at path with plain LMDB. */
static void set_schema_version(const char *path, uint32_t schema)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    uint8_t version[4];
    be32_put(version, schema);
    MDB_val key = {14, "schema_version"}, value = {4, version};
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &key, &value, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* Issue 11's layout, as a writer leaves it: records at random addresses
 * (scan order) and a new certificate every other record, in groups of 500;
 * after finish, hosts, addrs, certs and cert_index are at least 85% full,
 * check is clean and every record reads back. pack_memory 0 takes the
 * scratch-table path of the repacking, the default the in-memory one. */
static void check_layout_after_writer(uint64_t pack_memory)
{
    char err[KS_ERRLEN];
    struct store *s = open_rw(new_db());
    store_set_pack_memory(s, pack_memory);
    uint32_t scan = new_scan(s);
    struct store_writer *w = start_writer(s, scan, 500);
    const unsigned n = 6000;
    for (unsigned i = 0; i < n; i++) {
        struct probe_result r;
        size_t length;
        uint8_t *der = fixture_blob_cert(i / 2, &length);
        fixture_result(&r, i, (uint32_t)(i * 2654435761u), 443, &der, &length, 1);
        free(der);
        put(w, &r);
    }
    finish(w);
    struct store_usage u;
    assert_int_equal(store_usage(s, &u, err), 0);
    unsigned seen = 0;
    for (size_t t = 0; t < u.table_count; t++) {
        const struct store_db_usage *d = &u.tables[t];
        if (strcmp(d->name, "hosts") && strcmp(d->name, "addrs") && strcmp(d->name, "certs") &&
            strcmp(d->name, "cert_index"))
            continue;
        seen++;
        if (d->fill < 0.85)
            fail_msg("%s: pages %.1f%% full after the writer finished", d->name, 100 * d->fill);
    }
    assert_int_equal(seen, 4);
    assert_int_equal(u.certs.certs, n / 2);
    struct store_check_stats cs;
    assert_int_equal(store_check(s, NULL, NULL, &cs, err), 0);
    assert_int_equal(cs.problems, 0);
    assert_int_equal(cs.hosts, n);
    uint64_t count = 0;
    struct store_read_stats rs;
    assert_int_equal(store_hosts_foreach(s, scan, STORE_WITH_CERTS, count_host, &count, &rs, err), 0);
    assert_int_equal(rs.records, n);
    assert_int_equal(rs.corrupt, 0);
    store_close(s);
}

static void test_layout_after_writer(void **state)
{
    (void)state;
    check_layout_after_writer((uint64_t)256 << 20);
    check_layout_after_writer(0);
}

/* ---- the minimal file after giving up privileges (rewrite.c) ---- */

/* In a child: the store opened and the rewrite prepared while the process
 * may write the directory; then (as root) the user switched to nobody,
 * which may not; records written; the shrink through the helper. Exit
 * codes name the step that failed. */
static void __attribute__((noreturn)) rewrite_child(const char *dir, const char *path, bool drop,
                                                    bool shrink)
{
    char err[KS_ERRLEN], probe[4200];
    struct store *s;
    if (store_open(&s, path, STORE_READ_WRITE, err) || store_keep_rewrite_rights(s, err))
        _exit(10);
    if (drop) {
        struct passwd *nobody = getpwnam("nobody");
        if (!nobody || setgroups(0, NULL) || setresgid(nobody->pw_gid, nobody->pw_gid, nobody->pw_gid) ||
            setresuid(nobody->pw_uid, nobody->pw_uid, nobody->pw_uid))
            _exit(11);
        snprintf(probe, sizeof(probe), "%s/probe", dir);
        if (open(probe, O_CREAT | O_WRONLY, 0600) >= 0)
            _exit(12);   /* the directory must be closed to us now */
    }
    uint32_t id;
    struct store_writer *w;
    if (store_scan_create(s, "{\"started\":\"2026-11-29T12:00:00Z\"}", &id, err) ||
        store_writer_start(s, id, 200, 50, &w, err))
        _exit(13);
    for (unsigned i = 0; i < 3000; i++) {
        struct probe_result r;
        size_t length;
        uint8_t *der = fixture_blob_cert(i, &length);
        fixture_result(&r, i, (uint32_t)(i * 2654435761u), 443, &der, &length, 1);
        free(der);
        int rc = store_writer_put(w, &r, err);
        probe_result_free(&r);
        if (rc)
            _exit(14);
    }
    bool shrunk = false;
    if (store_writer_finish(w, err) || (shrink && (store_shrink_file(s, &shrunk, err) || !shrunk))) {
        fprintf(stderr, "rewrite_child: %s\n", err);
        _exit(15);
    }
    store_close(s);
    _exit(0);
}

static int run_rewrite_child(const char *dir, const char *path, bool drop, bool shrink)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        rewrite_child(dir, path, drop, shrink);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The store left at its pages in use, the copy's file gone, the records
 * all there; and a store closed without a shrink leaves no copy behind. */
static void test_rewrite_after_privileges(void **state)
{
    (void)state;
    char err[KS_ERRLEN], dir[] = "/tmp/ks-rewrite-XXXXXX", path[4200], copy[4300];
    bool root = geteuid() == 0;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);   /* only the owner may write */
    snprintf(path, sizeof(path), "%s/s.lmdb", dir);
    snprintf(copy, sizeof(copy), "%s.compact-tmp", path);
    assert_int_equal(run_rewrite_child(dir, path, root, true), 0);
    assert_int_equal(access(copy, F_OK), -1);
    struct store *s;
    struct store_usage u;
    assert_int_equal(store_open(&s, path, STORE_READ_ONLY, err), 0);
    assert_int_equal(store_usage(s, &u, err), 0);
    if ((double)u.file_bytes > 1.01 * (double)(u.pages_in_use * u.page_size))
        fail_msg("file %llu bytes, %llu pages of %u in use", (unsigned long long)u.file_bytes,
                 (unsigned long long)u.pages_in_use, u.page_size);
    assert_int_equal(check_problems(s), 0);
    uint64_t count = 0;
    struct store_read_stats rs;
    assert_int_equal(store_hosts_foreach(s, 1, STORE_WITH_CERTS, count_host, &count, &rs, err), 0);
    assert_int_equal(rs.records, 3000);
    store_close(s);
    /* Closed without a shrink: the helper removes the unused copy. */
    snprintf(path, sizeof(path), "%s/t.lmdb", dir);
    snprintf(copy, sizeof(copy), "%s.compact-tmp", path);
    assert_int_equal(run_rewrite_child(dir, path, root, false), 0);
    assert_int_equal(access(copy, F_OK), -1);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_bad_files(void **state)
{
    (void)state;
    /* random bytes */
    const char *path = new_db();
    uint8_t junk[65536];
    srand(3);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rand();
    write_file(path, junk, sizeof(junk));
    expect_open_error(path, STORE_READ_ONLY, "not an LMDB file");
    expect_open_error(path, STORE_READ_WRITE, "not an LMDB file");
    /* a text file */
    write_file(path, "hello\n", 6);
    expect_open_error(path, STORE_READ_ONLY, "not an LMDB file");
    /* a directory, a missing file */
    expect_open_error(tmpdir, STORE_READ_ONLY, "is a directory");
    char missing[4300];
    snprintf(missing, sizeof(missing), "%s/none.lmdb", tmpdir);
    expect_open_error(missing, STORE_READ_ONLY, "No such file");

    /* a foreign LMDB file */
    path = new_db();
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k = {3, "key"}, v = {5, "value"};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    expect_open_error(path, STORE_READ_ONLY, "not a kubesurvey store");
    expect_open_error(path, STORE_READ_WRITE, "not a kubesurvey store");

    /* a newer schema */
    char err[KS_ERRLEN];
    path = db_with_records(5000, 1, NULL, NULL);
    set_schema_version(path, STORE_SCHEMA_VERSION + 1);
    expect_open_error(path, STORE_READ_ONLY, "newer");
    expect_open_error(path, STORE_READ_WRITE, "newer");
    /* schema 1 (hosts keyed by address, before the addrs index): refused */
    set_schema_version(path, 1);
    expect_open_error(path, STORE_READ_ONLY, "older development build");

    /* a truncated file: refused (LMDB alone would die of SIGBUS) */
    path = db_with_records(5000, 1, NULL, NULL);
    assert_int_equal(truncate(path, 64 * 1024), 0);
    expect_open_error(path, STORE_READ_ONLY, "truncated");
    expect_open_error(path, STORE_READ_WRITE, "truncated");
    assert_int_equal(truncate(path, 4096), 0);   /* one meta page left */
    expect_open_error(path, STORE_READ_ONLY, "");

    /* a damaged host record and a damaged certificate frame: check finds
     * both, reading skips the record */
    struct store *s;
    uint32_t scan;
    size_t length;
    uint8_t *der = fixture_blob_cert(2, &length);
    path = db_with_records(10, 2, &s, &scan);
    assert_int_equal(store_txn_begin(s, true, &txn, err), 0);
    uint8_t akey[STORE_ADDR_KEY_MAX], key[STORE_HOST_KEY_LEN];
    struct net_addr four = net_addr_ipv4(4);
    MDB_val ak = {store_addr_key(s, akey, scan, &four, 443), akey}, seq;
    assert_int_equal(mdb_get(txn, s->addrs, &ak, &seq), 0);
    assert_int_equal(seq.mv_size, 8);
    store_host_key(key, scan, be64_get(seq.mv_data));
    MDB_val hk = {STORE_HOST_KEY_LEN, key}, hv = {3, "\x01\x00\x07"};
    assert_int_equal(mdb_put(txn, s->hosts, &hk, &hv, 0), 0);
    uint8_t sha[32];
    SHA256(der, length, sha);
    MDB_val ik = {STORE_CERT_INDEX_KEY_LEN, sha}, ck, cv = {8, "\x28\xb5\x2f\xfd\x00\x00\x00\x00"};
    assert_int_equal(mdb_get(txn, s->cert_index, &ik, &ck), 0);   /* its arrival number */
    assert_int_equal(mdb_put(txn, s->certs, &ck, &cv, 0), 0);
    assert_int_equal(store_txn_commit(s, txn, "test", NULL, err), 0);
    struct store_check_stats cs;
    assert_int_equal(store_check(s, NULL, NULL, &cs, err), 0);
    assert_int_equal(cs.hosts, 10);
    assert_int_equal(cs.certs, 1);
    /* the bad record, the bad frame, and 9 records whose certificate
     * length no longer matches the (garbage) frame */
    assert_int_equal(cs.problems, 11);
    uint64_t count = 0;
    struct store_read_stats rs;
    assert_int_equal(store_hosts_foreach(s, scan, 0, count_host, &count, &rs, err), 0);
    assert_int_equal(rs.records, 9);
    assert_int_equal(rs.corrupt, 1);
    struct probe_result got;
    assert_int_equal(host_lookup(s, scan, net_addr_ipv4(4), 443, 0, &got, err), -1);
    assert_int_equal(host_lookup(s, scan, net_addr_ipv4(5), 443, STORE_WITH_CERTS, &got, err), -1);
    assert_int_equal(host_lookup(s, scan, net_addr_ipv4(5), 443, 0, &got, err), 1);
    probe_result_free(&got);
    free(der);
    store_close(s);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_field),
        cmocka_unit_test(test_key_order_and_walks),
        cmocka_unit_test(test_replace_resume_and_order),
        cmocka_unit_test(test_record_decode_hostile),
        cmocka_unit_test(test_record_version_2_flags),
        cmocka_unit_test(test_record_version_3),
        cmocka_unit_test(test_record_version_5),
        cmocka_unit_test(test_mixed_families),
        cmocka_unit_test(test_cert_dedup),
        cmocka_unit_test(test_dictionary_switch_and_compact),
        cmocka_unit_test(test_scans_and_writer_errors),
        cmocka_unit_test(test_map_full_signal),
        cmocka_unit_test(test_map_growth_and_concurrent_reads),
        cmocka_unit_test(test_layout_after_writer),
        cmocka_unit_test(test_rewrite_after_privileges),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
