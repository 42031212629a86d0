/*
 * test_cryptopan.c - the published Crypto-PAn vectors (sample key and trace
 * of the reference distribution; for IPv6 those of two implementations of
 * the 128-bit construction), prefix preservation, consistency, keys, for
 * both families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/analysis/analysis.h"
#include "lib/bytes.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t reference_key[32] = {21,  34,  23,  141, 51,  164, 207, 128, 19,  10,  91,
                                          22,  73,  144, 125, 16,  216, 152, 143, 131, 121, 121,
                                          101, 39,  98,  87,  76,  45,  42,  132, 34,  2};

static const char *const vectors[][2] = {
    {"128.11.68.132", "135.242.180.132"}, {"129.118.74.4", "134.136.186.123"},
    {"130.132.252.244", "133.68.164.234"}, {"141.223.7.43", "141.167.8.160"},
    {"141.233.145.108", "141.129.237.235"}, {"152.163.225.39", "151.140.114.167"},
    {"156.29.3.236", "147.225.12.42"},     {"165.247.96.84", "162.9.99.234"},
    {"166.107.77.190", "160.132.178.185"}, {"192.102.249.13", "252.138.62.131"},
    {"192.215.32.125", "252.43.47.189"},   {"192.233.80.103", "252.25.108.8"},
    {"192.41.57.43", "252.222.221.184"},   {"193.150.244.223", "253.169.52.216"},
    {"195.205.63.100", "255.186.223.5"},   {"198.200.171.101", "249.199.68.213"},
    {"198.26.132.101", "249.36.123.202"},  {"198.36.213.5", "249.7.21.132"},
    {"198.51.77.238", "249.18.186.254"},   {"199.217.79.101", "248.38.184.213"},
};

static uint32_t ip(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return ntohl(a.s_addr);
}

static struct cryptopan *make(const uint8_t key[32])
{
    char err[KS_ERRLEN];
    struct cryptopan *cp = NULL;
    assert_int_equal(cryptopan_new(&cp, key, err), 0);
    return cp;
}

/* The reference key with its last bit changed. */
static struct cryptopan *make_other(void)
{
    uint8_t key[32];
    memcpy(key, reference_key, 32);
    key[31] ^= 1;
    return make(key);
}

static void test_reference_vectors(void **state)
{
    (void)state;
    struct cryptopan *cp = make(reference_key);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint32_t got = cryptopan_anonymize(cp, ip(vectors[i][0]));
        if (got != ip(vectors[i][1])) {
            struct in_addr a = {htonl(got)};
            fail_msg("%s -> %s, expected %s", vectors[i][0], inet_ntoa(a), vectors[i][1]);
        }
    }
    cryptopan_free(cp);
}

static int common_prefix(uint32_t a, uint32_t b)
{
    uint32_t x = a ^ b;
    return x == 0 ? 32 : __builtin_clz(x);
}

static void test_prefix_preservation(void **state)
{
    (void)state;
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    struct cryptopan *cp = make(key);
    uint32_t x = 0x12345678;
    for (int i = 0; i < 5000; i++) {
        /* xorshift: deterministic pairs with every common-prefix length */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        uint32_t a = x, flip = (uint32_t)i % 33;
        uint32_t b = flip == 32 ? a : (a ^ (0x80000000u >> flip)) ^ ((x >> 7) & (0x7fffffffu >> flip));
        int want = common_prefix(a, b);
        assert_int_equal(common_prefix(cryptopan_anonymize(cp, a), cryptopan_anonymize(cp, b)),
                         want);
    }
    cryptopan_free(cp);
}

static void test_consistency_and_key_dependence(void **state)
{
    (void)state;
    struct cryptopan *a = make(reference_key), *b = make(reference_key), *c = make_other();
    int differ = 0;
    for (uint32_t addr = 0xC6120000; addr < 0xC6120000 + 256; addr++) {
        assert_int_equal(cryptopan_anonymize(a, addr), cryptopan_anonymize(b, addr));
        differ += cryptopan_anonymize(a, addr) != cryptopan_anonymize(c, addr);
    }
    assert_true(differ > 200);
    /* a bijection on the /24 */
    uint8_t seen[256] = {0};
    uint32_t base = cryptopan_anonymize(a, 0xC6120000) & 0xffffff00;
    for (uint32_t addr = 0xC6120000; addr < 0xC6120000 + 256; addr++) {
        uint32_t out = cryptopan_anonymize(a, addr);
        assert_int_equal(out & 0xffffff00, base);
        assert_int_equal(seen[out & 0xff], 0);
        seen[out & 0xff] = 1;
    }
    cryptopan_free(a);
    cryptopan_free(b);
    cryptopan_free(c);
}

/* The previous-address cache gives what a fresh object computes. */
static void test_cache_matches_uncached(void **state)
{
    (void)state;
    struct cryptopan *shared = make(reference_key);
    uint32_t x = 0xC6120000, seq[4000];
    for (int i = 0; i < 4000; i++) {
        /* runs of neighbours (like a sorted export), jumps, repeats, last-bit pairs */
        if (i % 50 == 0)
            x = x * 2654435761u + 12345u;
        else if (i % 7 == 0)
            x ^= 1;
        else if (i % 11 != 0)
            x++;
        seq[i] = x;
    }
    for (int i = 0; i < 4000; i++) {
        struct cryptopan *fresh = make(reference_key);
        assert_int_equal(cryptopan_anonymize(shared, seq[i]), cryptopan_anonymize(fresh, seq[i]));
        cryptopan_free(fresh);
    }
    cryptopan_free(shared);
}

/* ---- IPv6 ---- */

struct vector6 {
    const uint8_t *key;
    const char *in, *out;
};

static const uint8_t counting_key[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                         11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                         22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t *const readme_key = (const uint8_t *)"32-char-str-for-AES-key-and-pad.";

/* Published outputs of the 128-bit construction: Yawning/cryptopan
 * cryptopan_test.go TestCryptopanIPv6 (commit 55312e4, the reference
 * distribution's key); keiichishima/yacryptopan yacryptopan.py __main__
 * (commit 0c87ff5, key bytes 0..31) and README.md usage (commit 1d9a90c). */
static void test_ipv6_known_answers(void **state)
{
    (void)state;
    const struct vector6 v[] = {
        {reference_key, "::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
        {reference_key, "::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
        {reference_key, "::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
        {reference_key, "2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
        {reference_key, "2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
        {counting_key, "2001:db8::1", "dd92:2c44:3fc0:ff1e:7ff9:c7f0:8180:7e00"},
        {readme_key, "2001:db8::1", "27fe:8bc7:fee:1e:1e1f:f0fe:f0e1:83fd"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct cryptopan *cp = make(v[i].key);
        uint8_t in[16], want[16], got[16];
        char text[INET6_ADDRSTRLEN];
        assert_int_equal(inet_pton(AF_INET6, v[i].in, in), 1);
        assert_int_equal(inet_pton(AF_INET6, v[i].out, want), 1);
        cryptopan_anonymize6(cp, in, got);
        if (memcmp(got, want, 16) != 0)
            fail_msg("%s -> %s, expected %s", v[i].in, inet_ntop(AF_INET6, got, text, sizeof(text)),
                     v[i].out);
        cryptopan_free(cp);
    }
    /* the same two implementations' IPv4 answers for their keys */
    struct cryptopan *a = make(counting_key), *b = make(readme_key);
    assert_int_equal(cryptopan_anonymize(a, ip("192.0.2.1")), ip("2.90.93.17"));
    assert_int_equal(cryptopan_anonymize(b, ip("192.0.2.1")), ip("192.0.125.244"));
    cryptopan_free(a);
    cryptopan_free(b);
}

static int common_prefix6(const uint8_t a[16], const uint8_t b[16])
{
    int n = 0;
    while (n < 128 && ((a[n / 8] ^ b[n / 8]) & (0x80 >> (n % 8))) == 0)
        n++;
    return n;
}

static uint64_t xorshift64(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void random6(uint64_t *x, uint8_t out[16])
{
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = xorshift64(x);
        memcpy(out + i, &r, 8);
    }
}

/* b: a with bit `flip` inverted and the bits after it random (flip 128:
 * b equals a), so every common-prefix length 0..128 occurs. */
static void partner6(const uint8_t a[16], int flip, uint64_t *x, uint8_t b[16])
{
    random6(x, b);
    for (int i = 0; i < 128 && i <= flip; i++) {
        uint8_t mask = (uint8_t)(0x80 >> (i % 8));
        uint8_t bit = (uint8_t)(a[i / 8] & mask) ^ (i == flip ? mask : 0);
        b[i / 8] = (uint8_t)((b[i / 8] & ~mask) | bit);
    }
}

static void test_ipv6_prefix_preservation(void **state)
{
    (void)state;
    struct cryptopan *cp = make(counting_key);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 2580; i++) {
        uint8_t a[16], b[16], ea[16], eb[16];
        random6(&x, a);
        partner6(a, i % 129, &x, b);
        int want = common_prefix6(a, b);
        assert_int_equal(want, i % 129);
        cryptopan_anonymize6(cp, a, ea);
        cryptopan_anonymize6(cp, b, eb);
        assert_int_equal(common_prefix6(ea, eb), want);
    }
    cryptopan_free(cp);
}

static void test_ipv6_consistency_and_key_dependence(void **state)
{
    (void)state;
    struct cryptopan *a = make(reference_key), *b = make(reference_key), *c = make_other();
    uint8_t base[16], addr[16], out_a[16], out_b[16], out_c[16], first[16];
    int differ = 0;
    uint8_t seen[256] = {0};
    assert_int_equal(inet_pton(AF_INET6, "2001:2:0:1::", base), 1);
    cryptopan_anonymize6(a, base, first);
    for (int i = 0; i < 256; i++) {
        memcpy(addr, base, 16);
        addr[15] = (uint8_t)i;
        cryptopan_anonymize6(a, addr, out_a);
        cryptopan_anonymize6(b, addr, out_b);
        cryptopan_anonymize6(c, addr, out_c);
        assert_memory_equal(out_a, out_b, 16);
        differ += memcmp(out_a, out_c, 16) != 0;
        /* a bijection on the /120: the prefix stays, the last byte is a permutation */
        assert_memory_equal(out_a, first, 15);
        assert_int_equal(seen[out_a[15]], 0);
        seen[out_a[15]] = 1;
    }
    assert_true(differ > 200);
    cryptopan_free(a);
    cryptopan_free(b);
    cryptopan_free(c);
}

/* Distinct inputs give distinct outputs on a random sample (pairwise, by
 * sorting the outputs). */
static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static void test_ipv6_injective_sample(void **state)
{
    (void)state;
    enum { N = 4000 };
    static uint8_t in[N][16], out[N][16];
    struct cryptopan *cp = make(reference_key);
    uint64_t x = 42;
    for (int i = 0; i < N; i++) {
        random6(&x, in[i]);
        if (i % 8 == 1) /* neighbours too: a shared /64, a shared /127 */
            memcpy(in[i], in[i - 1], 8);
        if (i % 8 == 5) {
            memcpy(in[i], in[i - 1], 16);
            in[i][15] ^= 1;
        }
        cryptopan_anonymize6(cp, in[i], out[i]);
    }
    qsort(in, N, 16, cmp16);
    qsort(out, N, 16, cmp16);
    int distinct_in = 1, distinct_out = 1;
    for (int i = 1; i < N; i++) {
        distinct_in += memcmp(in[i - 1], in[i], 16) != 0;
        distinct_out += memcmp(out[i - 1], out[i], 16) != 0;
    }
    assert_int_equal(distinct_in, N);
    assert_int_equal(distinct_out, N);
    cryptopan_free(cp);
}

/* The 128-bit construction over an IPv4 address in the first 32 bits gives
 * the IPv4 answer there (yacryptopan's test.py checks the same); the cache
 * shared by both widths gives what a fresh object computes on a mixed
 * sequence; cryptopan_anonymize_addr is the per-family call. */
static void test_families_together(void **state)
{
    (void)state;
    struct cryptopan *shared = make(reference_key);
    uint64_t x = 7;
    for (size_t i = 0; i < 600; i++) {
        const char *v4 = vectors[i % 20][0];
        uint8_t in[16], out[16], fresh_out[16];
        random6(&x, in);
        uint32_t a = ip(v4);
        if (i % 3 == 0)
            in[0] = 0x20; /* runs sharing short prefixes */
        if (i % 2 == 0) /* IPv4 in the first 32 bits */
            be32_put(in, a);
        enum probe_family family = i % 5 == 0 ? PROBE_FAMILY_IPV4 : PROBE_FAMILY_IPV6;
        struct cryptopan *fresh = make(reference_key);
        cryptopan_anonymize_addr(shared, family, in, out);
        cryptopan_anonymize_addr(fresh, family, in, fresh_out);
        assert_memory_equal(out, fresh_out, 16);
        uint32_t top = be32_get(out);
        if (i % 2 == 0)
            assert_int_equal(top, ip(vectors[i % 20][1]));
        if (family == PROBE_FAMILY_IPV4) {
            static const uint8_t zero[12];
            assert_memory_equal(out + 4, zero, 12);
            assert_int_equal(top, cryptopan_anonymize(fresh, be32_get(in)));
        } else {
            uint8_t again[16];
            cryptopan_anonymize6(fresh, in, again);
            assert_memory_equal(out, again, 16);
        }
        cryptopan_free(fresh);
    }
    cryptopan_free(shared);
}

/* The cache across widths: after an IPv4 address only its 32 flip bits are
 * known, though the IPv6 address before it left 128 in the object; an IPv6
 * address made of that IPv4 address and the earlier one's last 96 bits
 * must not reuse those. */
static void test_cache_across_widths(void **state)
{
    (void)state;
    struct cryptopan *shared = make(reference_key), *fresh = make(reference_key);
    uint8_t x[16], y[16], out[16], want[16];
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", x), 1);
    uint32_t a = ip("198.18.0.1");
    memcpy(y, x, 16);
    be32_put(y, a);
    cryptopan_anonymize6(shared, x, out);
    assert_int_equal(cryptopan_anonymize(shared, a), cryptopan_anonymize(fresh, a));
    cryptopan_anonymize6(shared, y, out);
    cryptopan_free(fresh);
    fresh = make(reference_key);
    cryptopan_anonymize6(fresh, y, want);
    assert_memory_equal(out, want, 16);
    cryptopan_free(shared);
    cryptopan_free(fresh);
}

static void test_key_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ks-key-XXXXXX";
    int fd = mkstemp(path);
    uint8_t key[32];
    char err[KS_ERRLEN];
    assert_true(fd >= 0);
    assert_int_equal(write(fd, reference_key, 31), 31);
    assert_int_equal(cryptopan_load_key(path, key, err), -1);
    assert_non_null(strstr(err, "exactly 32 bytes (found 31)"));
    assert_int_equal(write(fd, reference_key + 31, 1), 1);
    assert_int_equal(cryptopan_load_key(path, key, err), 0);
    assert_memory_equal(key, reference_key, 32);
    assert_int_equal(write(fd, "x", 1), 1);
    assert_int_equal(cryptopan_load_key(path, key, err), -1);
    assert_non_null(strstr(err, "more than 32"));
    close(fd);
    unlink(path);
    assert_int_equal(cryptopan_load_key("/nonexistent/key", key, err), -1);
    assert_non_null(strstr(err, "/nonexistent/key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_prefix_preservation),
        cmocka_unit_test(test_consistency_and_key_dependence),
        cmocka_unit_test(test_cache_matches_uncached),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_ipv6_known_answers),
        cmocka_unit_test(test_ipv6_prefix_preservation),
        cmocka_unit_test(test_ipv6_consistency_and_key_dependence),
        cmocka_unit_test(test_ipv6_injective_sample),
        cmocka_unit_test(test_families_together),
        cmocka_unit_test(test_cache_across_widths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
