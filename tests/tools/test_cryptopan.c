/*
 * test_cryptopan.c - the published Crypto-PAn vectors (sample key and trace
 * of the reference distribution), prefix preservation, consistency, keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/analysis/analysis.h"

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
    uint8_t key2[32];
    memcpy(key2, reference_key, 32);
    key2[31] ^= 1;
    struct cryptopan *a = make(reference_key), *b = make(reference_key), *c = make(key2);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
