/*
 * test_pfx2as.c - prefix2as parsing (multi-origin, AS sets, comments) and
 * longest-prefix match, IPv4 and IPv6 (CAIDA's rv2 and rv6 files, alone and
 * in one table); errors name the file and the line.
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

/* Adds text to p as the file `name`. */
static int add_text(struct pfx2as *p, const char *text, const char *name, char *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = pfx2as_add_stream(p, f, name, err);
    fclose(f);
    return rc;
}

static const char *origin_of(const struct pfx2as *p, const char *addr)
{
    struct in_addr a;
    const char *origin;
    assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
    return pfx2as_lookup(p, ntohl(a.s_addr), &origin) ? origin : "none";
}

static const char *origin6_of(const struct pfx2as *p, const char *addr)
{
    uint8_t a[16];
    const char *origin;
    assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
    return pfx2as_lookup6(p, a, &origin) ? origin : "none";
}

struct expect {
    const char *addr, *origin; /* "none": no prefix covers addr */
};

/* Each address, IPv6 when its text has a ':', has the origin expected. */
static void expect_origins(const struct pfx2as *p, const struct expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = strchr(e[i].addr, ':') ? origin6_of(p, e[i].addr) : origin_of(p, e[i].addr);
        if (strcmp(got, e[i].origin) != 0)
            fail_msg("%s: %s, expected %s", e[i].addr, got, e[i].origin);
    }
}

#define EXPECT_ORIGINS(p, table) expect_origins((p), (table), sizeof(table) / sizeof((table)[0]))

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
    static const struct expect origins[] = {
        {"10.200.0.1", "100"},
        {"10.1.255.255", "200_201"},
        {"10.1.2.0", "300,301,302"},
        {"10.1.2.127", "300,301,302"},
        {"10.1.2.128", "400"},
        {"10.1.2.77", "500"},
        {"10.1.2.78", "300,301,302"},
        {"11.0.0.0", "none"},
        {"9.255.255.255", "none"},
        {"192.0.2.255", "64496"},
    };
    EXPECT_ORIGINS(p, origins);
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
    expect_error("10.0.0\t8\t100\n", "'10.0.0' is not an IPv4 address");
    expect_error("10.0.0.0\t8\t100\textra\n", "expected prefix<TAB>length<TAB>AS");
    char err[KS_ERRLEN];
    struct pfx2as *p;
    assert_int_equal(pfx2as_load(&p, "/nonexistent/pfx", err), -1);
    assert_non_null(strstr(err, "/nonexistent/pfx"));
}

/* The shape of routeviews-rv6-*.pfx2as lines, on documentation prefixes. */
static const char rv6_sample[] = "2001:db8::\t32\t64500\n"
                                 "2001:db8:1::\t48\t64501_64502\n"
                                 "# comment\n"
                                 "2001:db8:1:2::\t64\t64503,64504\r\n"
                                 "\n"
                                 "2001:db8:1:2:8000::\t65\t64505\n"
                                 "2001:db8:1:2::77\t128\t64506\n"
                                 "2001:db8:8000::\t33\t64507\n"
                                 "2001:2::\t48\t64496\n";

static void test_ipv6_longest_prefix(void **state)
{
    (void)state;
    char err[KS_ERRLEN] = "";
    struct pfx2as *p = load_text(rv6_sample, err);
    if (!p)
        fail_msg("%s", err);
    assert_int_equal(pfx2as_count(p), 7);
    assert_int_equal(pfx2as_count_family(p, PROBE_FAMILY_IPV6), 7);
    assert_int_equal(pfx2as_count_family(p, PROBE_FAMILY_IPV4), 0);
    static const struct expect origins[] = {
        {"2001:db8:ffff::1", "64507"}, /* the upper /33 */
        {"2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "64500"},
        {"2001:db8::", "64500"},
        {"2001:db8:8000::", "64507"},
        {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "64507"},
        {"2001:db8:1:ffff::1", "64501_64502"},
        {"2001:db8:1:2::", "64503,64504"},
        {"2001:db8:1:2:7fff:ffff:ffff:ffff", "64503,64504"},
        {"2001:db8:1:2:8000::", "64505"},
        {"2001:db8:1:2:ffff:ffff:ffff:ffff", "64505"},
        {"2001:db8:1:2::77", "64506"},
        {"2001:db8:1:2::78", "64503,64504"},
        {"2001:db8:1:3::", "64501_64502"},
        {"2001:db9::", "none"},
        {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "none"},
        {"2001:2:0:ffff::1", "64496"},
        {"2001:2:1::", "none"},
        {"32.1.13.184", "none"}, /* 2001:db8 as bits, but IPv4 sees IPv4 prefixes only */
    };
    EXPECT_ORIGINS(p, origins);
    pfx2as_free(p);
    p = load_text("::\t0\t1\n", err);
    assert_non_null(p);
    assert_string_equal(origin6_of(p, "ffff::1"), "1");
    assert_string_equal(origin_of(p, "203.0.113.9"), "none");
    pfx2as_free(p);
}

/* The IPv4 and the IPv6 file of a day in one table: each family answers
 * from its own prefixes. */
static void test_both_families(void **state)
{
    (void)state;
    char err[KS_ERRLEN] = "";
    const char v4[] = "0.0.0.0\t0\t1\n32.1.0.0\t16\t100\n";
    struct pfx2as *p = NULL;
    assert_int_equal(pfx2as_new(&p, err), 0);
    assert_int_equal(add_text(p, v4, "rv2.pfx2as", err), 0);
    assert_int_equal(add_text(p, rv6_sample, "rv6.pfx2as", err), 0);
    assert_int_equal(pfx2as_count(p), 9);
    assert_int_equal(pfx2as_count_family(p, PROBE_FAMILY_IPV4), 2);
    assert_int_equal(pfx2as_count_family(p, PROBE_FAMILY_IPV6), 7);
    static const struct expect origins[] = {
        {"32.1.13.184", "100"},
        {"198.18.0.1", "1"},
        {"2001:db8:1:2::77", "64506"},
        {"2002::1", "none"}, /* 0.0.0.0/0 is IPv4 only */
    };
    EXPECT_ORIGINS(p, origins);
    /* the per-family call: an IPv4 address in the first 4 bytes (the rest
     * is not read), an IPv6 address in all 16 */
    uint8_t a[16];
    const char *origin = NULL;
    memset(a, 0xee, sizeof(a));
    a[0] = 32, a[1] = 1, a[2] = 13, a[3] = 184;
    assert_int_equal(pfx2as_lookup_addr(p, PROBE_FAMILY_IPV4, a, &origin), 1);
    assert_string_equal(origin, "100");
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2:8000::1", a), 1);
    assert_int_equal(pfx2as_lookup_addr(p, PROBE_FAMILY_IPV6, a, &origin), 1);
    assert_string_equal(origin, "64505");
    assert_int_equal(inet_pton(AF_INET6, "2002::", a), 1);
    assert_int_equal(pfx2as_lookup_addr(p, PROBE_FAMILY_IPV6, a, &origin), 0);
    pfx2as_free(p);
}

static void test_ipv6_errors(void **state)
{
    (void)state;
    expect_error("2001:db8::\t32\t1\n2001:db8::\t129\t1\n",
                 "test.pfx2as:2: prefix length '129' is not 0..128 for an IPv6 prefix");
    expect_error("10.0.0.0\t8\t1\n10.0.0.0\t-1\t1\n",
                 "test.pfx2as:2: prefix length '-1' is not 0..32 for an IPv4 prefix");
    expect_error("2001:db8::1\t32\t1\n", "test.pfx2as:1: 2001:db8::1/32 has host bits set");
    expect_error("2001:db8:8000::\t32\t1\n", "2001:db8:8000::/32 has host bits set");
    expect_error("2001:db8:1:2:8000::\t64\t1\n", "2001:db8:1:2:8000::/64 has host bits set");
    expect_error("# rv6\n2001:db8:::\t32\t1\n", "test.pfx2as:2: '2001:db8:::' is not an IPv6 address");
    expect_error("2001:db8::\t32\t1\n\n2001:db8::\t32\tAS1\n",
                 "test.pfx2as:3: AS field 'AS1' is not N, N_M or N,M");
    expect_error("2001:db8::\t32\t1_\n", "AS field '1_'");
    expect_error("2001:db8::\t32\n", "test.pfx2as:1: expected prefix<TAB>length<TAB>AS");
    expect_error("2001:db8:: 32 1\n", "test.pfx2as:1: expected prefix<TAB>length<TAB>AS");
    /* a bad second file is named, with its own line numbers */
    char err[KS_ERRLEN] = "";
    struct pfx2as *p = NULL;
    assert_int_equal(pfx2as_new(&p, err), 0);
    assert_int_equal(pfx2as_add(p, "/nonexistent/rv6.pfx2as", err), -1);
    assert_non_null(strstr(err, "/nonexistent/rv6.pfx2as"));
    const char bad[] = "2001:db8::\t32\t1\n2001:db8::\t33x\t1\n";
    assert_int_equal(add_text(p, bad, "rv6.pfx2as", err), -1);
    assert_non_null(strstr(err, "rv6.pfx2as:2: prefix length '33x' is not 0..128"));
    pfx2as_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ipv6_longest_prefix),
        cmocka_unit_test(test_both_families),
        cmocka_unit_test(test_ipv6_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
