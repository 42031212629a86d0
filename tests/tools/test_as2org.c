/*
 * test_as2org.c - CAIDA AS-to-organisation files: both sections in either
 * order, the pre-2014 five-column AS section, the org_id join (and its
 * fallback when an org is missing), lookups of known and unknown ASes, and
 * every error naming the file and line.
 *
 * Format: CAIDA "Inferred AS to Organization Mapping Dataset",
 * https://www.caida.org/catalog/datasets/as-organizations/ (files
 * https://publicdata.caida.org/datasets/as-organizations/YYYYMMDD.as-org2info.txt.gz)
 * and its README / CAIDA/catalog-data "getting_an_asns_name_country_organization":
 * "# format:org_id|changed|org_name|country|source" and
 * "# format:aut|changed|aut_name|org_id|opaque_id|source" lines open the two
 * sections. The LVLT/AS1 lines are the documentation's own example; the other
 * lines follow the same shape with public company names (ids and dates are
 * illustrative).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/analysis/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct as2org *load_text(const char *text, char *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct as2org *a = NULL;
    assert_non_null(f);
    if (as2org_load_stream(&a, f, "test.as-org2info.txt", err) != 0)
        a = NULL;
    fclose(f);
    return a;
}

/* "org (country)", "none" if unknown; in a static buffer. */
static const char *org_of(const struct as2org *a, uint32_t asn)
{
    static char buf[512];
    const char *org = NULL, *country = NULL;
    if (!as2org_lookup(a, asn, &org, &country))
        return "none";
    assert_non_null(org);
    assert_non_null(country);
    snprintf(buf, sizeof(buf), "%s (%s)", org, country);
    return buf;
}

static const char sample[] =
    "# name: AS Org\n"
    "# description: AS to organisation mapping inferred from WHOIS\n"
    "# format:org_id|changed|org_name|country|source\n"
    "LVLT-ARIN|20120130|Level 3 Communications, Inc.|US|ARIN\n"
    "AMAZO-4-ARIN|20170411|Amazon.com, Inc.|US|ARIN\n"
    "GOGL-ARIN|20190322|Google LLC|US|ARIN\n"
    "ORG-HOA1-RIPE|20230101|Hetzner Online GmbH|DE|RIPE\n"
    "ORG-OS3-RIPE|20221215|OVH SAS|FR|RIPE\r\n"
    "ORG-TDE1-RIPE|20200704|Telef\xc3\xb3nica de Espa\xc3\xb1" "a S.A.U.|ES|RIPE\n"
    "@aut-45102-APNIC|20210901|Alibaba (US) Technology Co., Ltd.|US|APNIC\n"
    "NOCOUNTRY-ARIN|20100101|  Example Without Country  ||ARIN\n"
    "NONAME-ARIN|20100101||CA|ARIN\n"
    "\n"
    "# format:aut|changed|aut_name|org_id|opaque_id|source\n"
    "1|20120224|LVLT-1|LVLT-ARIN|e5e3b9c13678dfc483fb1f819d70883c_ARIN|ARIN\n"
    "3356|20170227|LEVEL3|LVLT-ARIN|e5e3b9c13678dfc483fb1f819d70883c_ARIN|ARIN\n"
    "16509|20170411|AMAZON-02|AMAZO-4-ARIN|bb2bd3f9a9b6b2e0c0f9f4a3b2b1a0c9_ARIN|ARIN\n"
    "14618|20170411|AMAZON-AES|AMAZO-4-ARIN|bb2bd3f9a9b6b2e0c0f9f4a3b2b1a0c9_ARIN|ARIN\n"
    "15169|20120307|GOOGLE|GOGL-ARIN|0b0f3d0bbcd1e3bb0a0c0d0e0f101112_ARIN|ARIN\n"
    "24940|20230101|HETZNER-AS|ORG-HOA1-RIPE||RIPE\n"
    "16276|20221215|OVH|ORG-OS3-RIPE||RIPE\r\n"
    "3352|20200704|TELEFONICA_DE_ESPANA|ORG-TDE1-RIPE||RIPE\n"
    "45102|20210901|ALIBABA-CN-NET|@aut-45102-APNIC|A91E2F0C_APNIC|APNIC\n"
    "64512|20100101|PRIVATE|GHOST-ORG-ARIN||ARIN\n"
    "4200000000|20100101|PRIVATE32|NOCOUNTRY-ARIN||ARIN\n"
    "4294967295|20100101|LAST|NONAME-ARIN||ARIN\n"
    "0|20100101|ZERO|  LVLT-ARIN  ||ARIN\n";

static void test_lookup(void **state)
{
    (void)state;
    char err[KS_ERRLEN] = "";
    struct as2org *a = load_text(sample, err);
    if (!a)
        fail_msg("%s", err);
    assert_int_equal(as2org_count(a), 13);
    assert_string_equal(org_of(a, 1), "Level 3 Communications, Inc. (US)");
    assert_string_equal(org_of(a, 3356), "Level 3 Communications, Inc. (US)");
    assert_string_equal(org_of(a, 16509), "Amazon.com, Inc. (US)");
    assert_string_equal(org_of(a, 14618), "Amazon.com, Inc. (US)");
    assert_string_equal(org_of(a, 15169), "Google LLC (US)");
    assert_string_equal(org_of(a, 24940), "Hetzner Online GmbH (DE)");
    assert_string_equal(org_of(a, 16276), "OVH SAS (FR)"); /* CRLF lines */
    assert_string_equal(org_of(a, 3352), "Telef\xc3\xb3nica de Espa\xc3\xb1" "a S.A.U. (ES)");
    assert_string_equal(org_of(a, 45102), "Alibaba (US) Technology Co., Ltd. (US)");
    /* org_id never defined: the org_id is the name, no country */
    assert_string_equal(org_of(a, 64512), "GHOST-ORG-ARIN ()");
    /* blanks trimmed, empty country */
    assert_string_equal(org_of(a, 4200000000u), "Example Without Country ()");
    /* empty org_name: the org_id, with the org's country */
    assert_string_equal(org_of(a, 4294967295u), "NONAME-ARIN (CA)");
    assert_string_equal(org_of(a, 0), "Level 3 Communications, Inc. (US)");
    /* unknown ASes, either side of and between the known ones */
    assert_string_equal(org_of(a, 2), "none");
    assert_string_equal(org_of(a, 13335), "none");
    assert_string_equal(org_of(a, 16510), "none");
    assert_string_equal(org_of(a, 4294967294u), "none");
    const char *org = "untouched", *country = "untouched";
    assert_int_equal(as2org_lookup(a, 7, &org, &country), 0);
    assert_string_equal(org, "untouched");
    as2org_free(a);
    as2org_free(NULL);
}

/* The AS section first, the pre-2014 five-column AS format, "# format: "
 * with a blank, and an empty file. */
static void test_formats(void **state)
{
    (void)state;
    char err[KS_ERRLEN] = "";
    struct as2org *a = load_text("# format: aut|changed|name|org_id|source\n"
                                 "1|20120224|LVLT-1|LVLT-ARIN|ARIN\n"
                                 "7018|20150729|ATT-INTERNET4|ATTW-ARIN|ARIN\n"
                                 "# format: org_id|changed|name|country|source\n"
                                 "LVLT-ARIN|20120130|Level 3 Communications, Inc.|US|ARIN\n"
                                 "ATTW-ARIN|20150729|AT&T Services, Inc.|US|ARIN\n",
                                 err);
    if (!a)
        fail_msg("%s", err);
    assert_int_equal(as2org_count(a), 2);
    assert_string_equal(org_of(a, 1), "Level 3 Communications, Inc. (US)");
    assert_string_equal(org_of(a, 7018), "AT&T Services, Inc. (US)");
    as2org_free(a);

    a = load_text("# only comments\n\n", err);
    assert_non_null(a);
    assert_int_equal(as2org_count(a), 0);
    assert_string_equal(org_of(a, 1), "none");
    as2org_free(a);

    a = load_text("", err);
    assert_non_null(a);
    assert_int_equal(as2org_count(a), 0);
    as2org_free(a);
}

/* Many ASes in shuffled order: every one found, the gaps not. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 20000 };
    size_t cap = (size_t)N * 64 + 4096, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len,
                            "# format:org_id|changed|org_name|country|source\n");
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(text + len, cap - len, "ORG%d-RIPE|20240101|Org %d|C%d|RIPE\n",
                                i, i, i % 10);
    len += (size_t)snprintf(text + len, cap - len,
                            "# format:aut|changed|aut_name|org_id|opaque_id|source\n");
    for (int i = 0; i < N; i++) {
        uint32_t asn = (uint32_t)((i * 7919) % N) * 3 + 1; /* a permutation, step 3 */
        len += (size_t)snprintf(text + len, cap - len, "%u|20240101|AS-%u|ORG%u-RIPE||RIPE\n",
                                asn, asn, asn % 100);
    }
    char err[KS_ERRLEN] = "";
    struct as2org *a = load_text(text, err);
    free(text);
    if (!a)
        fail_msg("%s", err);
    assert_int_equal(as2org_count(a), N);
    for (uint32_t asn = 0; asn < (uint32_t)N * 3 + 3; asn++) {
        const char *org, *country;
        int found = as2org_lookup(a, asn, &org, &country);
        if (asn % 3 != 1 || asn > (uint32_t)N * 3) {
            assert_int_equal(found, 0);
            continue;
        }
        if (!found)
            fail_msg("AS %u not found", asn);
        char want[32], want_country[8];
        snprintf(want, sizeof(want), "Org %u", asn % 100);
        snprintf(want_country, sizeof(want_country), "C%u", asn % 100 % 10);
        assert_string_equal(org, want);
        assert_string_equal(country, want_country);
    }
    as2org_free(a);
}

static void expect_error(const char *text, const char *needle)
{
    char err[KS_ERRLEN] = "";
    struct as2org *a = load_text(text, err);
    if (a) {
        as2org_free(a);
        fail_msg("loaded, expected an error with '%s'", needle);
    }
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
}

#define AUT "# format:aut|changed|aut_name|org_id|opaque_id|source\n"
#define ORG "# format:org_id|changed|org_name|country|source\n"

static void test_errors(void **state)
{
    (void)state;
    /* data before any format line */
    expect_error("# a comment\n1|20120224|LVLT-1|LVLT-ARIN|x_ARIN|ARIN\n",
                 "test.as-org2info.txt:2: data line before any '# format:' line");
    expect_error("LVLT-ARIN|20120130|Level 3|US|ARIN\n" AUT,
                 "test.as-org2info.txt:1: data line before any '# format:' line");
    /* field counts */
    expect_error(AUT "1|20120224|LVLT-1|LVLT-ARIN|ARIN\n",
                 "test.as-org2info.txt:2: 5 '|'-separated fields, expected 6 (AS line)");
    expect_error(AUT "1|20120224|LVLT-1|LVLT-ARIN|x|ARIN|extra\n",
                 "test.as-org2info.txt:2: 7 '|'-separated fields, expected 6 (AS line)");
    expect_error(ORG "LVLT-ARIN|20120130|Level 3|US\n",
                 "test.as-org2info.txt:2: 4 '|'-separated fields, expected 5 (org line)");
    expect_error(ORG "A|||||||||||||||||||||\n",
                 "test.as-org2info.txt:2: more than 16 '|'-separated fields, expected 5");
    expect_error(AUT "1\n", "test.as-org2info.txt:2: 1 '|'-separated fields, expected 6");
    /* AS numbers */
    expect_error(AUT "AS1|20120224|LVLT-1|LVLT-ARIN||ARIN\n",
                 "test.as-org2info.txt:2: AS number 'AS1' is not 0..4294967295");
    expect_error(AUT "4294967296|x|y|LVLT-ARIN||ARIN\n",
                 "test.as-org2info.txt:2: AS number '4294967296' is not 0..4294967295");
    expect_error(AUT "99999999999999999999999|x|y|LVLT-ARIN||ARIN\n",
                 "AS number '99999999999999999999999' is not");
    expect_error(AUT "-1|x|y|LVLT-ARIN||ARIN\n", "AS number '-1' is not");
    expect_error(AUT "|x|y|LVLT-ARIN||ARIN\n", "AS number '' is not");
    expect_error(AUT " 1|x|y|LVLT-ARIN||ARIN\n", "AS number ' 1' is not");
    expect_error(AUT "1.5|x|y|LVLT-ARIN||ARIN\n", "AS number '1.5' is not");
    /* empty org ids */
    expect_error(AUT "1|x|y|  ||ARIN\n", "test.as-org2info.txt:2: AS 1 has an empty org_id");
    expect_error(ORG " |x|y|US|ARIN\n", "test.as-org2info.txt:2: empty org_id");
    /* format lines */
    expect_error("# format:prefix|length|asn\n", "test.as-org2info.txt:1: format line 'prefix'");
    expect_error("# format:aut|changed|aut_name|source\n",
                 "test.as-org2info.txt:1: AS format line without an org_id column");
    expect_error("# format:org_id|changed|source\n",
                 "test.as-org2info.txt:1: org format line without org_name and country");
    /* duplicates, named by the later line */
    expect_error(AUT "1|x|y|A||ARIN\n2|x|y|A||ARIN\n1|x|y|B||ARIN\n",
                 "test.as-org2info.txt:4: AS 1 already defined on line 2");
    expect_error(ORG "A|x|First|US|ARIN\nB|x|y|US|ARIN\nA|x|Second|US|ARIN\n",
                 "test.as-org2info.txt:4: org_id 'A' already defined on line 2");
    /* a gzip file given as is; a NUL byte */
    expect_error("\x1f\x8b\x08\x00rest", "test.as-org2info.txt: gzip-compressed");
    static const char nul[] = AUT "1|x|y\0|A||ARIN\n";
    {
        FILE *f = fmemopen((void *)nul, sizeof(nul) - 1, "r");
        struct as2org *a = NULL;
        char err[KS_ERRLEN] = "";
        assert_non_null(f);
        assert_int_equal(as2org_load_stream(&a, f, "nul.txt", err), -1);
        fclose(f);
        assert_non_null(strstr(err, "nul.txt:2: NUL byte"));
    }
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_as2org.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(sample, f);
    fclose(f);
    char err[KS_ERRLEN] = "";
    struct as2org *a = NULL;
    if (as2org_load(&a, path, err) != 0)
        fail_msg("%s", err);
    assert_string_equal(org_of(a, 16509), "Amazon.com, Inc. (US)");
    as2org_free(a);
    /* errors name the path given */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(AUT "x|y\n", f);
    fclose(f);
    assert_int_equal(as2org_load(&a, path, err), -1);
    char want[64];
    snprintf(want, sizeof(want), "%s:2: 2 '|'-separated fields", path);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    unlink(path);
    assert_int_equal(as2org_load(&a, "/nonexistent/as2org.txt", err), -1);
    assert_non_null(strstr(err, "/nonexistent/as2org.txt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
