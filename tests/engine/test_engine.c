/*
 * test_engine.c - unit tests of engine/: lists, ports, target space,
 * permutation, walks and shards, cookies, SYN frame checksums.
 */
#include "engine/engine.h"
#include "lib/bytes.h"
#include <math.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char err[KS_ERRLEN];

static uint32_t ip(const char *s)
{
    uint32_t a;
    assert_true(ip_parse(s, &a));
    return a;
}

/* ---- address lists ---- */

static void test_cidr_good(void **state)
{
    (void)state;
    struct ip_list l;
    ip_list_init(&l);
    assert_int_equal(ip_list_add_text(&l, "10.1.2.3/8", err), 0);
    assert_int_equal(ip_list_add_text(&l, "192.0.2.7", err), 0);
    assert_int_equal(ip_list_add_text(&l, "0.0.0.0/0", err), 0);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.ranges[0].first, ip("10.0.0.0"));
    assert_int_equal(l.ranges[0].last, ip("10.255.255.255"));
    assert_int_equal(l.ranges[1].first, ip("192.0.2.7"));
    assert_int_equal(l.ranges[1].last, ip("192.0.2.7"));
    assert_int_equal(l.ranges[2].first, 0);
    assert_int_equal(l.ranges[2].last, UINT32_MAX);
    ip_list_normalize(&l);
    assert_int_equal(l.count, 1);
    assert_true(ip_list_size(&l) == (1ULL << 32));
    ip_list_free(&l);
}

static void test_cidr_bad(void **state)
{
    (void)state;
    const char *bad[] = {"", "1.2.3", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "256.1.1.1",
                         "1.2.3.4/8x", "a.b.c.d", "01.2.3.4.5", "::1/129", "1.2.3.4 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ip_list l;
        ip_list_init(&l);
        err[0] = '\0';
        assert_int_equal(ip_list_add_text(&l, bad[i], err), -1);
        assert_true(strlen(err) > 0);
        if (bad[i][0])
            assert_non_null(strstr(err, bad[i]));
        ip_list_free(&l);
    }
}

static void test_list_file(void **state)
{
    (void)state;
    char path[512];
    const char *dir = getenv("KS_TEST_DATA");
    assert_non_null(dir);
    struct ip_list l;
    ip_list_init(&l);
    snprintf(path, sizeof(path), "%s/good.list", dir);
    assert_int_equal(ip_list_load_file(&l, path, err), 0);
    ip_list_normalize(&l);
    assert_int_equal(ip_list_size(&l), (1u << 24) + 1 + 256);
    assert_true(ip_list_contains(&l, ip("192.0.2.1")));
    assert_false(ip_list_contains(&l, ip("192.0.2.2")));
    ip_list_free(&l);

    ip_list_init(&l);
    snprintf(path, sizeof(path), "%s/bad.list", dir);
    assert_int_equal(ip_list_load_file(&l, path, err), -1);
    assert_non_null(strstr(err, "bad.list:3"));
    assert_non_null(strstr(err, "300.1.2.3"));
    ip_list_free(&l);

    ip_list_init(&l);
    assert_int_equal(ip_list_load_file(&l, "/nonexistent/list", err), -1);
    assert_non_null(strstr(err, "/nonexistent/list"));
    ip_list_free(&l);
}

static void test_normalize_merges(void **state)
{
    (void)state;
    struct ip_list l;
    ip_list_init(&l);
    ip_list_add_text(&l, "10.0.0.4/30", err);
    ip_list_add_text(&l, "10.0.0.0/30", err);  /* adjacent */
    ip_list_add_text(&l, "10.0.0.2", err);     /* inside */
    ip_list_add_text(&l, "10.0.0.10", err);    /* separate */
    ip_list_add_text(&l, "255.255.255.255", err);
    ip_list_add_text(&l, "255.255.255.254", err);
    ip_list_normalize(&l);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.ranges[0].first, ip("10.0.0.0"));
    assert_int_equal(l.ranges[0].last, ip("10.0.0.7"));
    assert_int_equal(l.ranges[1].first, ip("10.0.0.10"));
    assert_int_equal(l.ranges[2].last, UINT32_MAX);
    ip_list_free(&l);
}

/* Subtraction checked address by address against a brute-force model. */
static void test_subtract(void **state)
{
    (void)state;
    struct ip_list a, b;
    ip_list_init(&a);
    ip_list_init(&b);
    ip_list_add_text(&a, "10.0.0.0/24", err);
    ip_list_add_text(&a, "10.0.2.0/23", err);
    ip_list_add_text(&b, "10.0.0.0/28", err);   /* start of a range */
    ip_list_add_text(&b, "10.0.0.100", err);    /* middle */
    ip_list_add_text(&b, "10.0.0.250/31", err);
    ip_list_add_text(&b, "10.0.0.255", err);    /* end */
    ip_list_add_text(&b, "10.0.1.0/24", err);   /* between ranges */
    ip_list_add_text(&b, "10.0.2.128/25", err);
    ip_list_add_text(&b, "10.0.3.0/24", err);   /* a whole tail */
    ip_list_normalize(&a);
    ip_list_normalize(&b);
    struct ip_list orig;
    ip_list_init(&orig);
    for (size_t i = 0; i < a.count; i++)
        ip_list_add_range(&orig, a.ranges[i].first, a.ranges[i].last, err);
    assert_int_equal(ip_list_subtract(&a, &b, err), 0);
    uint64_t expected = 0;
    for (uint32_t x = ip("10.0.0.0"); x <= ip("10.0.4.255"); x++) {
        bool want = ip_list_contains(&orig, x) && !ip_list_contains(&b, x);
        assert_int_equal(ip_list_contains(&a, x), want);
        expected += want;
    }
    assert_int_equal(ip_list_size(&a), expected);
    assert_int_equal(expected, 256 - 16 - 1 - 2 - 1 + 128);
    ip_list_free(&orig);
    ip_list_free(&a);
    ip_list_free(&b);
}

static void test_reserved_blocks_everything_reserved(void **state)
{
    (void)state;
    struct ip_list all, block;
    ip_list_init(&all);
    ip_list_init(&block);
    ip_list_add_text(&all, "0.0.0.0/0", err);
    assert_int_equal(ip_list_add_reserved(&block, err), 0);
    ip_list_normalize(&block);
    assert_int_equal(ip_list_subtract(&all, &block, err), 0);
    const char *reserved[] = {"0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.1.1",
                              "172.16.5.5", "192.0.0.9", "192.0.2.1", "192.88.99.1",
                              "192.168.1.1", "198.18.0.1", "198.19.255.1", "198.51.100.1",
                              "203.0.113.9", "224.0.0.1", "239.1.1.1", "240.0.0.1",
                              "255.255.255.255"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        assert_false(ip_list_contains(&all, ip(reserved[i])));
    assert_true(ip_list_contains(&all, ip("1.1.1.1")));
    assert_true(ip_list_contains(&all, ip("198.20.0.1")));
    ip_list_free(&all);
    ip_list_free(&block);
}

/* ---- ports ---- */

static void test_ports(void **state)
{
    (void)state;
    struct port_list p;
    assert_int_equal(port_list_parse(&p, "6443,443,10250-10255,443", err), 0);
    assert_int_equal(p.count, 8);
    assert_int_equal(p.ports[0], 443);
    assert_int_equal(p.ports[1], 6443);
    assert_int_equal(p.ports[7], 10255);
    port_list_free(&p);
    assert_int_equal(port_list_parse(&p, "1-65535", err), 0);
    assert_int_equal(p.count, 65535);
    port_list_free(&p);
    const char *bad[] = {"", "0", "65536", "443,", ",443", "443,,6443", "10-5", "x", "44 3",
                         "-5", "443-", "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(port_list_parse(&p, bad[i], err), -1);
        assert_true(strlen(err) > 0);
    }
}

/* ---- target space ---- */

static void make_space(struct target_space *s, const char *const *allow, size_t n,
                       const char *ports)
{
    struct ip_list a, b;
    struct port_list p;
    ip_list_init(&a);
    ip_list_init(&b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ip_list_add_text(&a, allow[i], err), 0);
    ip_list_normalize(&a);
    assert_int_equal(port_list_parse(&p, ports, err), 0);
    assert_int_equal(target_space_init(s, &a, &b, &p, err), 0);
    port_list_free(&p);
    ip_list_free(&a);
    ip_list_free(&b);
}

static void test_target_space_roundtrip(void **state)
{
    (void)state;
    const char *allow[] = {"10.0.0.0/30", "10.0.1.7", "10.0.2.0/29"};
    struct target_space s;
    make_space(&s, allow, 3, "443,6443,80");
    assert_int_equal(s.address_count, 4 + 1 + 8);
    assert_int_equal(s.size, 13 * 3);
    for (uint64_t i = 0; i < s.size; i++) {
        uint32_t a;
        uint16_t p;
        uint64_t back;
        target_space_at(&s, i, &a, &p);
        assert_true(target_space_index(&s, a, p, &back));
        assert_int_equal(back, i);
    }
    uint64_t idx;
    assert_false(target_space_index(&s, ip("10.0.0.4"), 443, &idx));
    assert_false(target_space_index(&s, ip("10.0.0.1"), 8443, &idx));
    target_space_free(&s);
}

/* The sample ports of a host: PORT_SAMPLE_SIZE distinct ports from
 * PORT_SAMPLE_FIRST up, never a scanned port, the same for the same key and
 * address, different across addresses and keys. */
static void test_port_sample(void **state)
{
    (void)state;
    const char *allow[] = {"10.0.0.0/24"};
    struct target_space s;
    make_space(&s, allow, 1, "443,6443,1024-40000");
    struct cookie_key key = {1, 2}, other = {3, 4};
    size_t same_other_key = 0, same_as_previous = 0;
    uint16_t previous[PORT_SAMPLE_SIZE] = {0};
    for (uint32_t a = ip("10.0.0.0"); a <= ip("10.0.0.255"); a++) {
        uint16_t p[PORT_SAMPLE_SIZE], again[PORT_SAMPLE_SIZE], q[PORT_SAMPLE_SIZE];
        assert_int_equal(port_sample(&key, &s, a, p), PORT_SAMPLE_SIZE);
        assert_int_equal(port_sample(&key, &s, a, again), PORT_SAMPLE_SIZE);
        assert_memory_equal(p, again, sizeof(p));
        for (int i = 0; i < PORT_SAMPLE_SIZE; i++) {
            assert_true(p[i] > 40000);
            assert_int_equal(s.port_slot[p[i]], 0);
            for (int j = 0; j < i; j++)
                assert_int_not_equal(p[i], p[j]);
        }
        assert_int_equal(port_sample(&other, &s, a, q), PORT_SAMPLE_SIZE);
        same_other_key += memcmp(p, q, sizeof(p)) == 0;
        same_as_previous += memcmp(p, previous, sizeof(p)) == 0;
        memcpy(previous, p, sizeof(p));
    }
    assert_int_equal(same_other_key, 0);
    assert_int_equal(same_as_previous, 0);
    target_space_free(&s);

    /* A scan of nearly every port leaves too few to sample: fewer ports
     * (never a scanned one), and none when every port is scanned. */
    make_space(&s, allow, 1, "1-65530");
    uint16_t p[PORT_SAMPLE_SIZE];
    size_t n = port_sample(&key, &s, ip("10.0.0.1"), p);
    assert_true(n <= 5);
    for (size_t i = 0; i < n; i++)
        assert_true(p[i] > 65530);
    target_space_free(&s);
    make_space(&s, allow, 1, "1-65535");
    assert_int_equal(port_sample(&key, &s, ip("10.0.0.1"), p), 0);
    target_space_free(&s);
}

/* ---- permutation ---- */

static void check_bijection(uint64_t n, uint64_t seed)
{
    struct permutation perm;
    permutation_init(&perm, n, seed);
    uint8_t *seen = calloc(n, 1);
    assert_non_null(seen);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t y = permutation_apply(&perm, i);
        assert_true(y < n);
        assert_int_equal(seen[y], 0);
        seen[y] = 1;
    }
    free(seen);
}

static void test_permutation_bijection(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 31, 32, 33,
                              63, 64, 65, 97, 100, 101, 127, 128, 255, 256, 257, 1000, 1021,
                              1024, 1031, 4093, 4096, 4099, 65521, 65536, 65537, 131072,
                              1000003, 2097152};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (uint64_t seed = 0; seed < 3; seed++)
            check_bijection(sizes[i], seed * 7919 + sizes[i]);
}

static void test_permutation_seeded(void **state)
{
    (void)state;
    struct permutation a, b, c;
    permutation_init(&a, 100000, 42);
    permutation_init(&b, 100000, 42);
    permutation_init(&c, 100000, 43);
    int same_ab = 0, same_ac = 0, identity = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        same_ab += permutation_apply(&a, i) == permutation_apply(&b, i);
        same_ac += permutation_apply(&a, i) == permutation_apply(&c, i);
        identity += permutation_apply(&a, i) == i;
    }
    assert_int_equal(same_ab, 1000);
    assert_true(same_ac < 10);
    assert_true(identity < 10);
}

/* Large spaces: a full walk visits every element of [0, n) exactly once,
 * counted with a bitmap (larger spaces are counted through --dry-run in tests/cli). */
static void test_permutation_large(void **state)
{
    (void)state;
    const uint64_t n = (1ULL << 24) - 39;
    struct permutation perm;
    permutation_init(&perm, n, 12345);
    uint8_t *bits = calloc(n / 8 + 1, 1);
    assert_non_null(bits);
    uint64_t distinct = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t y = permutation_apply(&perm, i);
        assert_true(y < n);
        if (!(bits[y / 8] & (1u << (y % 8)))) {
            bits[y / 8] |= (uint8_t)(1u << (y % 8));
            distinct++;
        }
    }
    assert_int_equal(distinct, n);
    free(bits);
}

/* ---- shards and threads ---- */

static void test_shards_disjoint_complete(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 2, 7, 100, 1031, 65536};
    const uint64_t shard_counts[] = {1, 2, 3, 5, 8};
    const uint64_t thread_counts[] = {1, 2, 3};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t n = sizes[i];
        struct permutation perm;
        permutation_init(&perm, n, n * 31 + 1);
        for (size_t s = 0; s < sizeof(shard_counts) / sizeof(shard_counts[0]); s++) {
            for (size_t t = 0; t < sizeof(thread_counts) / sizeof(thread_counts[0]); t++) {
                uint64_t S = shard_counts[s], T = thread_counts[t];
                uint8_t *hits = calloc(n, 1);
                uint64_t total = 0;
                for (uint64_t shard = 0; shard < S; shard++)
                    for (uint64_t th = 0; th < T; th++) {
                        struct scan_walk w;
                        scan_walk_init(&w, &perm, shard + S * th, S * T, 0);
                        assert_int_equal(w.remaining, scan_walk_length(n, shard + S * th, S * T));
                        uint64_t idx;
                        while (scan_walk_next(&w, &idx)) {
                            assert_true(idx < n);
                            assert_int_equal(hits[idx], 0);
                            hits[idx] = 1;
                            total++;
                        }
                    }
                assert_int_equal(total, n);
                free(hits);
            }
        }
    }
}

static void test_walk_limit(void **state)
{
    (void)state;
    struct permutation perm;
    permutation_init(&perm, 1000, 1);
    struct scan_walk w;
    scan_walk_init(&w, &perm, 0, 1, 10);
    uint64_t idx, count = 0;
    while (scan_walk_next(&w, &idx))
        count++;
    assert_int_equal(count, 10);
}

/* max_targets is split among threads; a thread whose share is 0 sends
 * nothing (a walk limit of 0 would otherwise mean "no limit"). */
static void test_walk_thread_shares(void **state)
{
    (void)state;
    struct permutation perm;
    permutation_init(&perm, 1000, 3);
    const uint64_t limits[] = {0, 1, 2, 3, 7, 999, 1000, 5000};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        uint64_t total = 0;
        for (uint32_t t = 0; t < 3; t++) {
            struct scan_walk w;
            scan_walk_init_thread(&w, &perm, 1, 2, t, 3, 0, limits[i]);
            total += w.remaining;
        }
        uint64_t whole = 500; /* shard 1 of 2 of 1000 */
        uint64_t want = limits[i] == 0 || limits[i] > whole ? whole : limits[i];
        assert_int_equal(total, want);
    }
    /* Resuming at position 10 of each thread skips exactly those. */
    struct scan_walk w;
    scan_walk_init_thread(&w, &perm, 0, 1, 0, 2, 10, 0);
    assert_int_equal(w.remaining, 500 - 10);
}

/* ---- cookies ---- */

/* Reference vector from the SipHash paper, appendix A: key 00..0f,
 * message 00..0e (15 bytes) -> a129ca6149be45e5. */
static void test_siphash_vector(void **state)
{
    (void)state;
    struct cookie_key k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_true(siphash24(&k, msg, sizeof(msg)) == 0xa129ca6149be45e5ULL);
    assert_true(siphash24(&k, msg, 0) == 0x726fdb47dd0e0e31ULL);
}

static void test_cookie_accepts_only_ours(void **state)
{
    (void)state;
    struct cookie_key key = {1234567, 7654321}, other = {1234567, 7654322};
    struct sport_range sports = {61000, 4536};
    uint32_t saddr = ip("198.19.255.1"), daddr = ip("198.18.1.2");
    struct syn_cookie c = syn_cookie_make(&key, &sports, saddr, daddr, 443);
    assert_true(c.sport >= 61000 && c.sport <= 65535);
    assert_true(syn_cookie_valid(&key, &sports, saddr, daddr, 443, c.sport, c.seq + 1));
    assert_false(syn_cookie_valid(&key, &sports, saddr, daddr, 443, c.sport, c.seq));
    assert_false(syn_cookie_valid(&key, &sports, saddr, daddr, 443, c.sport, c.seq + 2));
    assert_false(syn_cookie_valid(&key, &sports, saddr, daddr, 443,
                                  (uint16_t)(c.sport == 65535 ? 61000 : c.sport + 1), c.seq + 1));
    assert_false(syn_cookie_valid(&key, &sports, saddr, daddr, 6443, c.sport, c.seq + 1));
    assert_false(syn_cookie_valid(&key, &sports, saddr, daddr + 1, 443, c.sport, c.seq + 1));
    assert_false(syn_cookie_valid(&key, &sports, saddr + 1, daddr, 443, c.sport, c.seq + 1));
    assert_false(syn_cookie_valid(&other, &sports, saddr, daddr, 443, c.sport, c.seq + 1));
    /* Random acks almost never pass: count over many tries. */
    uint64_t passed = 0;
    for (uint32_t i = 0; i < 100000; i++)
        passed += syn_cookie_valid(&key, &sports, saddr, daddr, 443, c.sport,
                                   i * 2654435761u);
    assert_true(passed <= 1);
}

/* -P: probe k leaves from the k-th source port after the cookie's (wrapping
 * in the range); a reply names its probe, and nothing outside the first
 * `probes` ports passes. */
static void test_cookie_probes(void **state)
{
    (void)state;
    struct cookie_key key = {99, 100};
    struct sport_range sports = {61000, 5};
    uint32_t saddr = ip("198.19.255.1");
    for (uint32_t d = 0; d < 200; d++) {
        uint32_t daddr = ip("198.18.0.0") + d;
        struct syn_cookie c = syn_cookie_make(&key, &sports, saddr, daddr, 6443);
        bool used[5] = {false};
        for (uint32_t k = 0; k < 5; k++) {
            uint16_t sport = syn_cookie_sport(&c, &sports, k);
            assert_true(sport >= 61000 && sport <= 61004);
            assert_false(used[sport - 61000]);
            used[sport - 61000] = true;
            assert_int_equal(syn_cookie_probe(&key, &sports, saddr, daddr, 6443, sport,
                                              c.seq + 1, 5), k);
            assert_int_equal(syn_cookie_probe(&key, &sports, saddr, daddr, 6443, sport,
                                              c.seq + 1, 3), k < 3 ? (int)k : -1);
            assert_int_equal(syn_cookie_probe(&key, &sports, saddr, daddr, 6443, sport, c.seq,
                                              5), -1);
        }
        assert_int_equal(syn_cookie_sport(&c, &sports, 0), c.sport);
        assert_int_equal(syn_cookie_probe(&key, &sports, saddr, daddr, 6443, 60999, c.seq + 1,
                                          5), -1);
        assert_int_equal(syn_cookie_probe(&key, &sports, saddr, daddr, 6443, 61005, c.seq + 1,
                                          5), -1);
    }
}

/* The loss estimate from how many of their probes responders answered. */
static void test_estimated_loss(void **state)
{
    (void)state;
    struct scan_counters c;
    memset(&c, 0, sizeof(c));
    assert_true(scan_estimated_loss(&c, 2) < 0); /* no responder */
    atomic_store(&c.answered_by[0], 40);         /* 40 answered once, 480 twice */
    atomic_store(&c.answered_by[1], 480);
    assert_true(scan_estimated_loss(&c, 1) < 0);
    assert_true(fabs(scan_estimated_loss(&c, 2) - 40.0 / (40 + 960)) < 1e-12);
    /* P = 3 with s = 0.9: n_k proportional to C(3,k) s^k (1-s)^(3-k). */
    atomic_store(&c.answered_by[0], 2700);
    atomic_store(&c.answered_by[1], 24300);
    atomic_store(&c.answered_by[2], 72900);
    assert_true(fabs(scan_estimated_loss(&c, 3) - 0.1) < 1e-12);
}

/* ---- SYN frames ---- */

/* RFC 1071 checksum, written independently of template.c. */
static uint16_t rfc1071(const uint8_t *data, size_t len, uint32_t initial)
{
    uint64_t sum = initial;
    for (size_t i = 0; i < len; i += 2)
        sum += (uint32_t)data[i] << 8 | (i + 1 < len ? data[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void test_syn_frame_checksums(void **state)
{
    (void)state;
    const uint8_t src[6] = {2, 0, 0, 0, 0, 1}, dst[6] = {2, 0, 0, 0, 0, 2};
    uint32_t saddr = ip("198.19.255.1");
    struct syn_template tpl;
    assert_int_equal(syn_template_build(&tpl, src, dst, saddr, err), 0);
    assert_int_equal(tpl.length, 74);
    uint8_t f[SYN_FRAME_MAX];
    uint32_t seed = 1;
    for (int i = 0; i < 10000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t daddr = seed ^ (seed << 7);
        uint16_t sport = (uint16_t)(61000 + seed % 4536), dport = (uint16_t)(seed >> 16);
        uint32_t seq = seed * 2654435761u;
        uint16_t id = (uint16_t)(seed >> 3);
        syn_template_fill(&tpl, f, daddr, sport, dport, seq, id);
        assert_memory_equal(f, dst, 6);
        assert_memory_equal(f + 6, src, 6);
        assert_int_equal(be16_get(f + 12), 0x0800);
        const uint8_t *iph = f + 14, *tcp = f + 34;
        assert_int_equal(iph[0], 0x45);
        assert_int_equal(iph[9], 6);
        assert_int_equal(rfc1071(iph, 20, 0), 0); /* sums to zero with its checksum */
        assert_int_equal(be32_get(iph + 16), daddr);
        assert_int_equal(be16_get(tcp), sport);
        assert_int_equal(be16_get(tcp + 2), dport);
        assert_int_equal(be32_get(tcp + 4), seq);
        assert_int_equal(tcp[13], 0x02); /* SYN only */
        uint32_t pseudo = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) +
                          6 + 40;
        assert_int_equal(rfc1071(tcp, 40, pseudo), 0);
    }
    /* Linux-like options: MSS first, window scale last. */
    assert_int_equal(f[54], 2);
    assert_int_equal(f[55], 4);
    assert_int_equal(f[71], 3);
}

static void test_mac_parse(void **state)
{
    (void)state;
    uint8_t m[6];
    assert_true(mac_parse("aa:bb:cc:00:11:ff", m));
    assert_int_equal(m[0], 0xaa);
    assert_int_equal(m[5], 0xff);
    assert_false(mac_parse("aa:bb:cc:00:11", m));
    assert_false(mac_parse("aa:bb:cc:00:11:ff:00", m));
    assert_false(mac_parse("gg:bb:cc:00:11:ff", m));
    assert_false(mac_parse("aaa:bb:cc:00:11:ff", m));
}

static void test_bandwidth(void **state)
{
    (void)state;
    /* 74-byte frames cost 98 bytes on the wire: 1 Gb/s = 1,275,510 frames/s. */
    assert_int_equal(scan_rate_from_bandwidth(1000000000ULL, 74), 1275510);
    assert_int_equal(scan_rate_from_bandwidth(1, 74), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_good),
        cmocka_unit_test(test_cidr_bad),
        cmocka_unit_test(test_list_file),
        cmocka_unit_test(test_normalize_merges),
        cmocka_unit_test(test_subtract),
        cmocka_unit_test(test_reserved_blocks_everything_reserved),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_target_space_roundtrip),
        cmocka_unit_test(test_port_sample),
        cmocka_unit_test(test_permutation_bijection),
        cmocka_unit_test(test_permutation_seeded),
        cmocka_unit_test(test_permutation_large),
        cmocka_unit_test(test_shards_disjoint_complete),
        cmocka_unit_test(test_walk_limit),
        cmocka_unit_test(test_walk_thread_shares),
        cmocka_unit_test(test_siphash_vector),
        cmocka_unit_test(test_cookie_accepts_only_ours),
        cmocka_unit_test(test_cookie_probes),
        cmocka_unit_test(test_estimated_loss),
        cmocka_unit_test(test_syn_frame_checksums),
        cmocka_unit_test(test_mac_parse),
        cmocka_unit_test(test_bandwidth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
