/*
 * test_pfx2as.c - prefix2as parsing (multi-origin, AS sets, comments) and
 * longest-prefix match; errors name the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/analysis/analysis.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static struct pfx2as *load_text(const char *text, char *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct pfx2as *p = NULL;
    assert_non_null(f);
    if (pfx2as_load_stream(&p, f, "test.pfx2as", err) != 0)
        p = NULL;
    fclose(f);
    return p;
}

static const char *origin_of(const struct pfx2as *p, const char *addr)
{
    struct in_addr a;
    const char *origin;
    assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
    return pfx2as_lookup(p, ntohl(a.s_addr), &origin) ? origin : "none";
}

static void test_longest_prefix(void **state)
{
    (void)state;
    char err[KS_ERRLEN] = "";
    struct pfx2as *p = load_text("# comment\n"
                                 "10.0.0.0\t8\t100\n"
                                 "10.1.0.0\t16\t200_201\n"
                                 "\n"
                                 "10.1.2.0\t24\t300,301,302\r\n"
                                 "10.1.2.128\t25\t400\n"
                                 "10.1.2.77\t32\t500\n"
                                 "192.0.2.0\t24\t64496\n",
                                 err);
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(pfx2as_count(p), 6);
    assert_string_equal(origin_of(p, "10.200.0.1"), "100");
    assert_string_equal(origin_of(p, "10.1.255.255"), "200_201");
    assert_string_equal(origin_of(p, "10.1.2.0"), "300,301,302");
    assert_string_equal(origin_of(p, "10.1.2.127"), "300,301,302");
    assert_string_equal(origin_of(p, "10.1.2.128"), "400");
    assert_string_equal(origin_of(p, "10.1.2.77"), "500");
    assert_string_equal(origin_of(p, "10.1.2.78"), "300,301,302");
    assert_string_equal(origin_of(p, "11.0.0.0"), "none");
    assert_string_equal(origin_of(p, "9.255.255.255"), "none");
    assert_string_equal(origin_of(p, "192.0.2.255"), "64496");
    pfx2as_free(p);
    p = load_text("0.0.0.0\t0\t1\n", err);
    assert_non_null(p);
    assert_string_equal(origin_of(p, "203.0.113.9"), "1");
    pfx2as_free(p);
}

static void expect_error(const char *text, const char *needle)
{
    char err[KS_ERRLEN] = "";
    struct pfx2as *p = load_text(text, err);
    assert_null(p);
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("10.0.0.0\t8\t100\n10.0.0.0 8 100\n", "test.pfx2as:2: expected prefix<TAB>length<TAB>AS");
    expect_error("10.0.0.0\t33\t100\n", "test.pfx2as:1: prefix length '33' is not 0..32");
    expect_error("10.0.0.1\t8\t100\n", "test.pfx2as:1: 10.0.0.1/8 has host bits set");
    expect_error("10.0.0.0\t8\tAS100\n", "AS field 'AS100' is not N, N_M or N,M");
    expect_error("10.0.0.0\t8\t100_\n", "AS field '100_'");
    expect_error("2001:db8::\t32\t100\n", "IPv6 prefix");
    expect_error("10.0.0\t8\t100\n", "'10.0.0' is not an IPv4 address");
    expect_error("10.0.0.0\t8\t100\textra\n", "expected prefix<TAB>length<TAB>AS");
    char err[KS_ERRLEN];
    struct pfx2as *p;
    assert_int_equal(pfx2as_load(&p, "/nonexistent/pfx", err), -1);
    assert_non_null(strstr(err, "/nonexistent/pfx"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
