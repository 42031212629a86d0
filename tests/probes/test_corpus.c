/*
 * test_corpus.c - the real-world corpus: every gitVersion of
 * corpus/gitversions.tsv through k8s_version_parse and
 * k8s_provider_from_version, every certificate shape of corpus/certs.tsv
 * (built here with the OpenSSL X509 API) through k8s_cert_inspect and
 * k8s_classify. Each row is asserted exactly; the sources are in the files.
 * Usage: test_corpus <corpus directory>
 */
#include "probes/probes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "make_cert.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *corpus_dir;
/* Splits `line` at TABs into at most `max` fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

/* Calls fn for each data line (not empty, not '#') of corpus/<name>. */
static size_t each_row(const char *name, size_t columns,
                       void (*fn)(char **fields, unsigned line_number))
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char line[8192];
    unsigned number = 0;
    size_t rows = 0;
    while (fgets(line, sizeof(line), f)) {
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *fields[16];
        size_t n = split_tabs(line, fields, 16);
        if (n != columns)
            fail_msg("%s:%u: %zu columns, want %zu", name, number, n, columns);
        fn(fields, number);
        rows++;
    }
    fclose(f);
    return rows;
}

/* ------------------------------------------------------------ versions */

static void check_version_row(char **f, unsigned line)
{
    const char *text = f[0], *label = f[1], *numbers = f[2];
    print_message("gitversions.tsv:%u %s\n", line, text);
    struct k8s_version v;
    if (!strcmp(label, "invalid")) {
        assert_string_equal(numbers, "invalid");
        assert_int_equal(k8s_version_parse(text, &v), -1);
        assert_null(k8s_provider_from_version(text));
        return;
    }
    assert_int_equal(k8s_version_parse(text, &v), 0);
    char got[64];
    if (v.patch < 0)
        snprintf(got, sizeof(got), "%d.%d.-", v.major, v.minor);
    else
        snprintf(got, sizeof(got), "%d.%d.%d", v.major, v.minor, v.patch);
    assert_string_equal(got, numbers);
    const char *provider = k8s_provider_from_version(text);
    assert_non_null(provider);
    assert_string_equal(provider, label);
    /* the numbers still parse the same way for the tools (no 'v' needed) */
    struct k8s_version w;
    assert_int_equal(k8s_version_parse_flags(text + 1, K8S_VERSION_OPTIONAL_V, &w), 0);
    assert_int_equal(w.major, v.major);
    assert_int_equal(w.minor, v.minor);
    assert_int_equal(w.patch, v.patch);
    assert_int_equal(w.pre, v.pre);
}

static void test_gitversions(void **state)
{
    (void)state;
    size_t rows = each_row("gitversions.tsv", 4, check_version_row);
    print_message("%zu gitVersion rows\n", rows);
    assert_true(rows >= 100);
}

/* Upstream pre-release order, the grammar the tools use too. */
static void test_prerelease_order(void **state)
{
    (void)state;
    static const char *const ordered[] = {
        "1.20.0-alpha.0", "v1.20.0-alpha.2", "v1.20.0-beta.0", "v1.20.0-beta.1",
        "v1.20.0-rc.0", "v1.20.0-rc.1", "v1.20.0", "v1.20.1", "1.21",
    };
    for (size_t i = 0; i + 1 < sizeof(ordered) / sizeof(ordered[0]); i++) {
        struct k8s_version a, b;
        assert_int_equal(k8s_version_parse_flags(ordered[i], K8S_VERSION_OPTIONAL_V, &a), 0);
        assert_int_equal(k8s_version_parse_flags(ordered[i + 1], K8S_VERSION_OPTIONAL_V, &b), 0);
        assert_true(k8s_version_compare(&a, &b) < 0);
        assert_true(k8s_version_compare(&b, &a) > 0);
    }
    struct k8s_version v;
    assert_int_equal(k8s_version_parse("v1.29.0-alpha.3.117+af8174e3caabf3", &v), 0);
    assert_int_equal(v.pre, K8S_PRE_ALPHA);
    assert_int_equal(v.pre_number, 3);
    assert_string_equal(k8s_provider_from_version("v1.29.0-alpha.3.117+af8174e3caabf3"),
                        "upstream");
    assert_int_equal(k8s_version_parse("v1.20.0-rcfoo", &v), 0);
    assert_int_equal(v.pre, K8S_PRE_NONE);
    assert_int_equal(k8s_version_parse("1.20.0", &v), -1);
}

/* -------------------------------------------------------- certificates */


static const char *dash_null(const char *s)
{
    return strcmp(s, "-") ? s : NULL;
}

static void check_cert_row(char **f, unsigned line)
{
    print_message("certs.tsv:%u %s\n", line, f[0]);
    size_t len;
    uint8_t *der = make_cert(test_key, f[1], f[2], dash_null(f[3]), &len);

    struct k8s_cert_facts facts;
    assert_int_equal(k8s_cert_inspect(der, len, &facts), 0);
    assert_int_equal(facts.marker, !strcmp(f[4], "1"));
    if (dash_null(f[5])) {
        assert_non_null(facts.provider);
        assert_string_equal(facts.provider, f[5]);
    } else {
        assert_null(facts.provider);
    }
    assert_int_equal(facts.kubelet, !strcmp(f[6], "1"));

    struct probe_result r;
    probe_result_init(&r);
    r.chain[0].der = der;
    r.chain[0].length = len;
    r.chain_length = 1;
    if (dash_null(f[7])) {
        char body[512];
        snprintf(body, sizeof(body), "{\"major\":\"1\",\"gitVersion\":\"%s\"}", f[7]);
        r.http_status = 200;
        r.body = (uint8_t *)strdup(body);
        r.body_length = strlen(body);
    } else {
        r.http_status = 401;
        r.body = (uint8_t *)strdup("Unauthorized");
        r.body_length = strlen("Unauthorized");
    }
    k8s_classify(&r);
    assert_string_equal(k8s_verdict_name(r.k8s), f[8]);
    if (dash_null(f[9])) {
        assert_non_null(r.provider);
        assert_string_equal(r.provider, f[9]);
    } else {
        assert_null(r.provider);
    }
    /* the JSON record names the verdict; "k8s" stays true for API servers only */
    json_t *j = probe_result_to_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), f[8]);
    assert_int_equal(json_is_true(json_object_get(j, "k8s")), r.k8s == K8S_YES);
    json_decref(j);
    probe_result_free(&r);
}

static void test_certs(void **state)
{
    (void)state;
    size_t rows = each_row("certs.tsv", 11, check_cert_row);
    print_message("%zu certificate rows\n", rows);
    assert_true(rows >= 30);
}


int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    corpus_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gitversions),
        cmocka_unit_test(test_prerelease_order),
        cmocka_unit_test(test_certs),
    };
    return cmocka_run_group_tests(tests, setup_key, teardown_key);
}
