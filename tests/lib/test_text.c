/*
 * test_text.c - lib/text.h: the IPv4 and hex text forms.
 */
#include "lib/text.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void test_ipv4_text(void **state)
{
    (void)state;
    char out[16];
    assert_string_equal(ipv4_text(0, out), "0.0.0.0");
    assert_string_equal(ipv4_text(0xffffffffu, out), "255.255.255.255");
    assert_string_equal(ipv4_text(0xc0000201u, out), "192.0.2.1");
    assert_string_equal(ipv4_text(0x0a640a09u, out), "10.100.10.9");
    assert_ptr_equal(ipv4_text(1, out), out);
}

/* Every octet value in every position, against inet_ntop. */
static void test_ipv4_text_matches_inet_ntop(void **state)
{
    (void)state;
    for (uint32_t v = 0; v < 256; v++)
        for (int shift = 0; shift < 32; shift += 8) {
            uint32_t addr = v << shift | (uint32_t)(0x01020304u & ~(255u << shift));
            char want[INET_ADDRSTRLEN], got[16];
            struct in_addr in = {htonl(addr)};
            assert_non_null(inet_ntop(AF_INET, &in, want, sizeof(want)));
            assert_string_equal(ipv4_text(addr, got), want);
        }
}

static void test_hex_text(void **state)
{
    (void)state;
    const uint8_t data[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof(data) + 1];
    memset(out, 'x', sizeof(out));
    assert_string_equal(hex_text(data, sizeof(data), out), "00017f80abff");
    assert_string_equal(hex_text(data, 0, out), "");
    for (unsigned v = 0; v < 256; v++) {
        uint8_t b = (uint8_t)v;
        char want[3], got[3];
        snprintf(want, sizeof(want), "%02x", v);
        assert_string_equal(hex_text(&b, 1, got), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_text),
        cmocka_unit_test(test_ipv4_text_matches_inet_ntop),
        cmocka_unit_test(test_hex_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
