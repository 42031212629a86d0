/*
 * test_addr.c - lib/addr.h: the address of either family, its RFC 5952
 * text, the endpoint forms ("a.b.c.d:port", "[v6]:port") and the order.
 */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* text parsed, then written back as expected (RFC 5952 section 4) */
static void round_trip(const char *text, const char *want)
{
    struct net_addr a;
    char out[NET_ADDR_TEXT_MAX];
    assert_int_equal(net_addr_parse(text, &a), 0);
    assert_string_equal(net_addr_text(&a, out), want);
}

static void test_rfc5952_text(void **state)
{
    (void)state;
    round_trip("198.18.0.1", "198.18.0.1");
    round_trip("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");  /* 4.2.1, 4.3 */
    round_trip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");   /* 4.2.3: the first of a tie */
    round_trip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* 4.2.2: one group stays */
    round_trip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");         /* 4.2.3: the longest run */
    round_trip("::", "::");
    round_trip("::ffff:198.18.0.1", "::ffff:198.18.0.1");     /* mapped stays IPv6 */
    struct net_addr a;
    assert_int_equal(net_addr_parse("::ffff:198.18.0.1", &a), 0);
    assert_false(net_addr_is_ipv4(&a));
    assert_int_equal(net_addr_parse("198.18.0.1", &a), 0);
    assert_true(net_addr_is_ipv4(&a));
    assert_int_equal(net_addr_ipv4_value(&a), 0xC6120001u);
    const char *bad[] = {"", "198.18.0", "198.18.0.256", "2001:db8::1::2", "2001:db8::g",
                         "[2001:db8::1]", " 198.18.0.1", "198.18.0.1/32"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(net_addr_parse(bad[i], &a), -1);
}

static void endpoint(const char *text, const char *addr, unsigned port)
{
    struct net_addr a;
    uint16_t p = 99;
    char out[NET_ADDR_TEXT_MAX];
    assert_int_equal(net_endpoint_parse(text, &a, &p), 0);
    assert_string_equal(net_addr_text(&a, out), addr);
    assert_int_equal(p, port);
}

static void test_endpoint_forms(void **state)
{
    (void)state;
    endpoint("198.18.0.1", "198.18.0.1", 0);
    endpoint("198.18.0.1:6443", "198.18.0.1", 6443);
    endpoint("2001:db8::1", "2001:db8::1", 0);
    endpoint("[2001:db8::1]", "2001:db8::1", 0);
    endpoint("[2001:DB8::1]:6443", "2001:db8::1", 6443);
    const char *bad[] = {"198.18.0.1:", "198.18.0.1:0", "198.18.0.1:65536", "198.18.0.1:1x",
                         "[198.18.0.1]:443", "[2001:db8::1]:", "[2001:db8::1]443",
                         "[2001:db8::1", "2001:db8::1:443x", "[2001:db8::1]:+443", "x:443"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct net_addr a;
        uint16_t p;
        if (net_endpoint_parse(bad[i], &a, &p) != -1)
            fail_msg("'%s' parsed", bad[i]);
    }
    struct net_addr a;
    char out[NET_ENDPOINT_TEXT_MAX];
    assert_int_equal(net_addr_parse("2001:2::1", &a), 0);
    assert_string_equal(net_endpoint_text(&a, 6443, out), "[2001:2::1]:6443");
    a = net_addr_ipv4(0xC6120001u);
    assert_string_equal(net_endpoint_text(&a, 443, out), "198.18.0.1:443");
    /* the longest endpoint fits */
    assert_int_equal(net_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), 0);
    assert_int_equal(strlen(net_endpoint_text(&a, 65535, out)), 47);
}

static void test_order_and_keys(void **state)
{
    (void)state;
    struct net_addr v4a = net_addr_ipv4(1), v4b = net_addr_ipv4(0xFFFFFFFFu), v6a, v6b;
    assert_int_equal(net_addr_parse("::", &v6a), 0);
    assert_int_equal(net_addr_parse("2001:2::1", &v6b), 0);
    assert_true(net_addr_cmp(&v4a, &v4b) < 0);
    assert_true(net_addr_cmp(&v4b, &v6a) < 0);   /* IPv4 first */
    assert_true(net_addr_cmp(&v6a, &v6b) < 0);
    assert_int_equal(net_addr_cmp(&v6b, &v6b), 0);
    /* keys: equal endpoints have equal bytes (padding zeroed), none all zero */
    struct net_addr dirty = v4a;
    memset(dirty.bytes + 4, 0xAA, 12);   /* bytes an IPv4 address ignores */
    struct net_endpoint k1 = net_endpoint_key(&v4a, 443), k2 = net_endpoint_key(&dirty, 443);
    assert_memory_equal(&k1, &k2, sizeof(k1));
    struct net_endpoint zero, k3 = net_endpoint_key(&v6a, 0);
    memset(&zero, 0, sizeof(zero));
    assert_memory_not_equal(&k3, &zero, sizeof(zero));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5952_text),
        cmocka_unit_test(test_endpoint_forms),
        cmocka_unit_test(test_order_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
