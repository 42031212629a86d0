/*
 * test_lifecycle.c - dates, version parsing, lifecycle queries on both sides
 * of an end of life, provider windows, CVE matching, data validation.
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

static int32_t day(const char *text)
{
    int32_t d;
    assert_int_equal(ks_date_parse(text, &d), 0);
    return d;
}

static void test_dates(void **state)
{
    (void)state;
    int32_t d;
    char out[11];
    assert_int_equal(day("1970-01-01"), 0);
    assert_int_equal(day("2021-06-10"), 18788);
    ks_date_format(18788, out);
    assert_string_equal(out, "2021-06-10");
    assert_int_equal(day("2024-02-29") + 1, day("2024-03-01"));
    assert_int_equal(ks_date_parse("2023-02-29", &d), -1);
    assert_int_equal(ks_date_parse("2021-13-01", &d), -1);
    assert_int_equal(ks_date_parse("2021-6-10", &d), -1);
    assert_int_equal(ks_date_parse("2021-06-10x", &d), -1);
    assert_int_equal(ks_date_parse("", &d), -1);
    assert_int_equal(ks_date_from_iso8601("2021-06-10T12:00:00Z", &d), 0);
    assert_int_equal(d, 18788);
    assert_int_equal(ks_date_from_iso8601("2021-06-10", &d), 0);
    assert_int_equal(ks_date_from_iso8601("2021-06-10X", &d), -1);
}

static void expect_version(const char *text, int major, int minor, int patch,
                           enum kver_pre pre, int pre_number)
{
    struct kver v;
    assert_int_equal(kver_parse(text, &v), 0);
    assert_int_equal(v.major, major);
    assert_int_equal(v.minor, minor);
    assert_int_equal(v.patch, patch);
    assert_int_equal(v.pre, pre);
    assert_int_equal(v.pre_number, pre_number);
}

static void test_version_parse(void **state)
{
    (void)state;
    struct kver v;
    expect_version("v1.21.5", 1, 21, 5, PRE_NONE, 0);
    expect_version("v1.19.6-eks-49a6c0", 1, 19, 6, PRE_NONE, 0);
    expect_version("v1.29.5-gke.1091000", 1, 29, 5, PRE_NONE, 0);
    expect_version("v1.29.6+k3s1", 1, 29, 6, PRE_NONE, 0);
    expect_version("v1.20.0+bafe72f", 1, 20, 0, PRE_NONE, 0);
    /* git-describe build (minor "21+" in version.Info) */
    expect_version("v1.21.1-12+8e423b6625fc64", 1, 21, 1, PRE_NONE, 0);
    expect_version("v1.20.0-alpha.2", 1, 20, 0, PRE_ALPHA, 2);
    expect_version("v1.10.0-beta.3", 1, 10, 0, PRE_BETA, 3);
    expect_version("v1.33.0-rc.1", 1, 33, 0, PRE_RC, 1);
    expect_version("1.14", 1, 14, -1, PRE_NONE, 0);
    /* un-stamped dev build */
    expect_version("v0.0.0-master+$Format:%H$", 0, 0, 0, PRE_NONE, 0);
    expect_version("v1.99.0", 1, 99, 0, PRE_NONE, 0);
    assert_int_equal(kver_parse("", &v), -1);
    assert_int_equal(kver_parse("v1", &v), -1);
    assert_int_equal(kver_parse("v1.", &v), -1);
    assert_int_equal(kver_parse("va.b.c", &v), -1);
    assert_int_equal(kver_parse("v1.21.5x", &v), -1);
    assert_int_equal(kver_parse("v1.2222222222.5", &v), -1);
    assert_int_equal(kver_parse(NULL, &v), -1);
}

static void test_version_compare(void **state)
{
    (void)state;
    struct kver a, b;
    kver_parse("v1.20.0-alpha.2", &a);
    kver_parse("v1.20.0-beta.0", &b);
    assert_true(kver_compare(&a, &b) < 0);
    kver_parse("v1.20.0", &b);
    assert_true(kver_compare(&a, &b) < 0);
    kver_parse("v1.19.16", &a);
    assert_true(kver_compare(&a, &b) < 0);
    kver_parse("v1.20.0-eks-1", &a);
    assert_int_equal(kver_compare(&a, &b), 0);
    kver_parse("1.20", &a);
    assert_int_equal(kver_compare(&a, &b), 0);
}

static void test_version_of_result(void **state)
{
    (void)state;
    struct probe_result r;
    struct kver v;
    probe_result_init(&r);
    /* no version state: nothing */
    assert_int_equal(kver_of_result(&r, &v), -1);
    r.version_state = VERSION_VALID;
    assert_int_equal(kver_of_result(&r, &v), -1);
    /* minor "19+" in the body; gitVersion decides */
    r.git_version = strdup("v1.19.6-eks-49a6c0");
    r.version_major = 1;
    r.version_minor = 19;
    assert_int_equal(kver_of_result(&r, &v), 0);
    assert_int_equal(v.minor, 19);
    assert_int_equal(v.patch, 6);
    /* empty major/minor strings in the body (Baidu CCM example): gitVersion decides */
    free(r.git_version);
    r.git_version = strdup("v1.0.11-167+3f240d4c97126d-dirty");
    r.version_major = r.version_minor = -1;
    assert_int_equal(kver_of_result(&r, &v), 0);
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 0);
    assert_int_equal(v.patch, 11);
    /* unparseable gitVersion: the numeric fields */
    free(r.git_version);
    r.git_version = strdup("weird");
    r.version_major = 1;
    r.version_minor = 22;
    assert_int_equal(kver_of_result(&r, &v), 0);
    assert_int_equal(v.minor, 22);
    assert_int_equal(v.patch, -1);
    probe_result_free(&r);
}

static struct lifecycle *load_builtin(void)
{
    char err[KS_ERRLEN] = "";
    struct lifecycle *lc = NULL;
    if (lifecycle_load(&lc, NULL, err) != 0)
        fail_msg("built-in data: %s", err);
    return lc;
}

static void test_builtin_equals_files(void **state)
{
    (void)state;
    char err[KS_ERRLEN] = "";
    struct lifecycle *a = load_builtin(), *b = NULL;
    if (lifecycle_load(&b, KS_DATA_DIR, err) != 0)
        fail_msg("%s", err);
    assert_int_equal(a->minor_count, b->minor_count);
    assert_int_equal(a->cve_count, b->cve_count);
    assert_int_equal(a->provider_count, b->provider_count);
    assert_int_equal(a->minor_count, 38);    /* 1.0 .. 1.37 */
    assert_int_equal(a->provider_count, 6);  /* eks gke aks ack openshift iks */
    assert_int_equal(a->cve_count, 68);
    assert_int_equal(a->etcd_minor_count, b->etcd_minor_count);
    assert_true(a->etcd_minor_count >= 8 && a->etcd_supported == 2);
    lifecycle_free(a);
    lifecycle_free(b);
}

static void test_upstream_boundaries(void **state)
{
    (void)state;
    struct lifecycle *lc = load_builtin();
    /* 1.18: final patch / EOL 2021-06-18 */
    assert_int_equal(lifecycle_upstream_status(lc, 1, 18, day("2021-06-17")), LC_SUPPORTED);
    assert_int_equal(lifecycle_upstream_status(lc, 1, 18, day("2021-06-18")), LC_SUPPORTED);
    assert_int_equal(lifecycle_upstream_status(lc, 1, 18, day("2021-06-19")), LC_UNSUPPORTED);
    /* Aqua June 2021 check: <= 1.17 unsupported on 2021-06-10 */
    assert_int_equal(lifecycle_upstream_status(lc, 1, 17, day("2021-06-10")), LC_UNSUPPORTED);
    assert_int_equal(lifecycle_upstream_status(lc, 1, 19, day("2021-06-10")), LC_SUPPORTED);
    /* 1.0 has no EOL of its own: inferred from 1.2's (2016-10-23) */
    assert_int_equal(lifecycle_upstream_status(lc, 1, 0, day("2016-10-23")), LC_SUPPORTED);
    assert_int_equal(lifecycle_upstream_status(lc, 1, 0, day("2016-10-24")), LC_UNSUPPORTED);
    /* 1.37 is planned, no EOL: supported; unknown future minors: unknown */
    assert_int_equal(lifecycle_upstream_status(lc, 1, 37, day("2026-11-01")), LC_SUPPORTED);
    assert_int_equal(lifecycle_upstream_status(lc, 1, 99, day("2026-11-01")), LC_UNKNOWN);
    assert_int_equal(lifecycle_upstream_status(lc, 0, 0, day("2026-11-01")), LC_UNKNOWN);
    assert_int_equal(lifecycle_upstream_status(lc, 2, 0, day("2026-11-01")), LC_UNKNOWN);
    lifecycle_free(lc);
}

static enum lc_status prov(const struct lifecycle *lc, const char *name, int minor,
                           const char *date, enum lc_calendar cal, enum lc_view view)
{
    return lifecycle_provider_status(lc, name, 1, minor, day(date), cal, view);
}

#define PUB LC_CALENDAR_PUBLISHED
#define FINAL LC_CALENDAR_FINAL
#define STD LC_VIEW_STANDARD
#define EXT LC_VIEW_EXTENDED

static void test_provider_windows(void **state)
{
    (void)state;
    struct lifecycle *lc = load_builtin();
    /* EKS 1.16: announced to end 2021-07-25 (2021-05-07), moved to
     * 2021-09-27 on 2021-07-23 (awsdocs history), before the first date
     * came: supported throughout in both calendars. */
    assert_int_equal(prov(lc, "eks", 16, "2021-06-10", PUB, STD), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 16, "2021-07-26", PUB, STD), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 16, "2021-07-26", FINAL, STD), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 16, "2021-09-27", PUB, STD), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 16, "2021-09-28", PUB, STD), LC_UNSUPPORTED);
    /* EKS 1.10-1.15 have rows: unsupported in June 2021 (the 2021 study) */
    for (int minor = 10; minor <= 15; minor++)
        assert_int_equal(prov(lc, "eks", minor, "2021-06-10", PUB, STD), LC_UNSUPPORTED);
    assert_int_equal(prov(lc, "eks", 15, "2021-05-03", PUB, STD), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 15, "2021-05-04", PUB, STD), LC_UNSUPPORTED);
    /* Extended support was first published on 2023-10-04 (1.21's end on
     * 2024-04-04): 1.23 standard to 2023-10-11, extended to 2024-10-11. */
    assert_int_equal(prov(lc, "eks", 23, "2023-10-12", PUB, STD), LC_UNSUPPORTED);
    assert_int_equal(prov(lc, "eks", 23, "2023-10-12", PUB, EXT), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 23, "2024-10-12", PUB, EXT), LC_UNSUPPORTED);
    /* 1.21: standard ended 2023-02-16; no extended date was published until
     * 2024-04-04, so in 2023 it was past support in both views; today's
     * calendar says extended support ran to 2024-07-15. */
    assert_int_equal(prov(lc, "eks", 21, "2023-06-01", PUB, EXT), LC_UNSUPPORTED);
    assert_int_equal(prov(lc, "eks", 21, "2023-06-01", FINAL, EXT), LC_SUPPORTED);
    assert_int_equal(prov(lc, "eks", 21, "2024-07-16", FINAL, EXT), LC_UNSUPPORTED);
    /* AKS: standard vs LTS, 1.27 standard to 2024-07-31, LTS to 2025-07-31,
     * as Microsoft's page showed from 2023-09-29 (MicrosoftDocs/azure-aks-docs
     * b5c8747c; from 2023-09-19 with LTS to 2026-07-31); before, no LTS end */
    assert_int_equal(prov(lc, "aks", 27, "2024-07-31", PUB, STD), LC_SUPPORTED);
    assert_int_equal(prov(lc, "aks", 27, "2024-08-01", PUB, STD), LC_UNSUPPORTED);
    assert_int_equal(prov(lc, "aks", 27, "2024-08-01", PUB, EXT), LC_SUPPORTED);
    assert_int_equal(prov(lc, "aks", 27, "2024-08-01", FINAL, EXT), LC_SUPPORTED);
    assert_int_equal(prov(lc, "aks", 27, "2023-09-18", PUB, EXT), LC_SUPPORTED);
    assert_int_equal(prov(lc, "aks", 27, "2025-08-01", PUB, EXT), LC_UNSUPPORTED);
    /* 1.28 and 1.29 on 2025-06-15: past standard (2025-01-31, 2025-03-31),
     * within LTS (2026-02-28, 2026-04-30), the LTS rows on Microsoft's page
     * since 2025-04-03 and 2025-05-19 */
    for (int minor = 28; minor <= 29; minor++) {
        assert_int_equal(prov(lc, "aks", minor, "2025-06-15", PUB, STD), LC_UNSUPPORTED);
        assert_int_equal(prov(lc, "aks", minor, "2025-06-15", PUB, EXT), LC_SUPPORTED);
    }
    /* AKS states the older-minor rule: a minor without a row is past
     * support once a newer one has ended; GKE does not: unknown */
    assert_int_equal(prov(lc, "aks", 15, "2021-06-10", PUB, STD), LC_UNSUPPORTED);
    assert_int_equal(prov(lc, "gke", 13, "2021-06-10", PUB, STD), LC_UNKNOWN);
    /* a minor newer than every row is unknown */
    assert_int_equal(prov(lc, "eks", 60, "2021-06-10", PUB, STD), LC_UNKNOWN);
    /* providers without a table follow upstream (1.18 EOL 2021-06-18) */
    assert_int_equal(prov(lc, "k3s", 18, "2021-06-19", PUB, STD), LC_UNSUPPORTED);
    assert_int_equal(prov(lc, "eks-distro", 18, "2021-06-19", PUB, EXT), LC_UNSUPPORTED);
    assert_int_equal(lifecycle_provider_status(lc, NULL, 1, 18, day("2021-06-18"), PUB, STD),
                     LC_SUPPORTED);
    assert_null(lifecycle_provider_find(lc, "upstream"));
    assert_null(lifecycle_provider_find(lc, "eks-distro"));
    assert_string_equal(lifecycle_provider_find(lc, "ack")->id, "ack");
    lifecycle_free(lc);
}

/* The revision in force: the latest published by the day, else the first. */
static void test_revision_on(void **state)
{
    (void)state;
    struct lc_revision revs[] = {
        {.published = day("2020-01-01"), .end_of_standard = day("2021-07-25"),
         .end_of_extended = KS_NO_DATE},
        {.published = day("2021-07-23"), .end_of_standard = day("2021-09-27"),
         .end_of_extended = KS_NO_DATE},
    };
    struct lc_provider_minor m = {.major = 1, .minor = 16, .revisions = revs, .revision_count = 2};
    assert_ptr_equal(lifecycle_revision_on(&m, day("2019-01-01"), PUB), &revs[0]);
    assert_ptr_equal(lifecycle_revision_on(&m, day("2021-07-22"), PUB), &revs[0]);
    assert_ptr_equal(lifecycle_revision_on(&m, day("2021-07-23"), PUB), &revs[1]);
    assert_ptr_equal(lifecycle_revision_on(&m, day("2019-01-01"), FINAL), &revs[1]);
}

static const struct cve *find_cve(const struct lifecycle *lc, const char *id)
{
    for (size_t i = 0; i < lc->cve_count; i++)
        if (!strcmp(lc->cves[i].id, id))
            return &lc->cves[i];
    fail_msg("no %s", id);
    return NULL;
}

static bool affects(const struct cve *c, const char *version)
{
    struct kver v;
    assert_int_equal(kver_parse(version, &v), 0);
    return cve_affects(c, &v);
}

/* The headline counts fixed, unauthenticated-by-default, disclosed CVEs;
 * version conditions on unauthenticated exploitation apply. */
static void test_cve_applicability(void **state)
{
    (void)state;
    struct lifecycle *lc = load_builtin();
    struct kver v113, v115;
    assert_int_equal(kver_parse("v1.13.4", &v113), 0);
    assert_int_equal(kver_parse("v1.15.3", &v115), 0);
    /* billion laughs: unauthenticated only before 1.14 (default RBAC) */
    const struct cve *c = find_cve(lc, "CVE-2019-11253");
    assert_true(c->has_fix);
    assert_true(c->unauthenticated);
    assert_false(c->unauthenticated_all);
    assert_true(cve_affects(c, &v113) && cve_affects(c, &v115));
    assert_true(cve_unauthenticated_on(c, &v113));
    assert_false(cve_unauthenticated_on(c, &v115));
    assert_true(cve_headline(c, &v113, c->disclosed));
    assert_false(cve_headline(c, &v113, c->disclosed - 1));
    assert_false(cve_headline(c, &v115, c->disclosed));
    /* a design flaw without a fix never makes the headline */
    c = find_cve(lc, "CVE-2020-8554");
    assert_false(c->has_fix);
    assert_true(cve_affects(c, &v115));
    assert_false(cve_headline(c, &v115, day("2026-01-01")));
    /* needs credentials */
    c = find_cve(lc, "CVE-2019-11247");
    assert_true(cve_affects(c, &v113));
    assert_false(cve_headline(c, &v113, day("2026-01-01")));
    /* every headline candidate has a sourced date and a fix */
    for (size_t i = 0; i < lc->cve_count; i++) {
        c = &lc->cves[i];
        if (c->unauthenticated && c->feature_gate_count == 0)
            assert_true(c->has_fix || !c->unauthenticated);
    }
    lifecycle_free(lc);
}

static void test_cve_matching(void **state)
{
    (void)state;
    struct lifecycle *lc = load_builtin();
    /* <= 1.10.10; >= 1.11.0, <= 1.11.4; >= 1.12.0, <= 1.12.2 */
    const struct cve *c = find_cve(lc, "CVE-2018-1002105");
    assert_int_equal(c->disclosed, day("2018-12-03"));   /* sourced */
    assert_true(c->unauthenticated);
    assert_int_equal(c->scope, CVE_SCOPE_APISERVER);
    assert_true(affects(c, "v1.10.10"));
    assert_false(affects(c, "v1.10.11"));
    assert_true(affects(c, "v1.11.4-eks-abcdef"));
    assert_false(affects(c, "v1.11.5"));
    /* a pre-release of 1.12.0 sorts below 1.12.0, so outside ">= 1.12.0, <= 1.12.2" */
    assert_false(affects(c, "v1.12.0-rc.1"));
    assert_true(affects(c, "v1.12.2-rc.1"));
    assert_false(affects(c, "v1.12.3+k3s1"));
    assert_false(affects(c, "v1.13.0"));
    assert_true(affects(c, "v1.9"));            /* every 1.9.x is affected */
    assert_false(affects(c, "v1.12"));          /* only some 1.12.x are */
    assert_false(affects(c, "v1.99.0"));        /* unknown future minor */
    /* pre-release bounds: < 1.2.0-alpha.5 */
    c = find_cve(lc, "CVE-2015-7528");
    assert_true(affects(c, "v1.2.0-alpha.4"));
    assert_false(affects(c, "v1.2.0-alpha.5"));
    assert_false(affects(c, "v1.2.0-beta.0"));
    assert_true(affects(c, "v1.1.8"));
    /* the repaired quirk ">= 1.14, < 1.14.0": pre-releases of 1.14.0 */
    c = find_cve(lc, "CVE-2019-9946");
    assert_true(affects(c, "v1.14.0-beta.1"));
    assert_false(affects(c, "v1.14.0"));
    assert_true(affects(c, "v1.13.4"));
    assert_false(affects(c, "v1.13.5"));
    /* exact version range "1.32.0" */
    c = find_cve(lc, "CVE-2024-9042");
    assert_true(affects(c, "v1.32.0"));
    assert_false(affects(c, "v1.32.1"));
    /* no fix: every version */
    c = find_cve(lc, "CVE-2025-1767");
    assert_true(affects(c, "v1.99.3"));
    assert_true(affects(c, "v1.30"));
    lifecycle_free(lc);
}

/* Writes a data directory: the real files with one of them replaced. */
static char *data_dir_with(const char *file, const char *content)
{
    char tmpl[] = "/tmp/ks-data-XXXXXX";
    char *dir = strdup(mkdtemp(tmpl));
    const char *const *names = lifecycle_data_files;
    for (size_t i = 0; names[i]; i++) {
        char src[4096], dst[4096], cmd[8300];
        snprintf(src, sizeof(src), "%s/%s", KS_DATA_DIR, names[i]);
        snprintf(dst, sizeof(dst), "%s/%s", dir, names[i]);
        if (!strcmp(names[i], file)) {
            FILE *f = fopen(dst, "w");
            assert_non_null(f);
            fputs(content, f);
            fclose(f);
        } else {
            snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
            assert_int_equal(system(cmd), 0);
        }
    }
    return dir;
}

static void remove_dir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static void expect_load_error(const char *file, const char *content, const char *needle)
{
    char err[KS_ERRLEN] = "";
    struct lifecycle *lc = NULL;
    char *dir = data_dir_with(file, content);
    assert_int_equal(lifecycle_load(&lc, dir, err), -1);
    assert_null(lc);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not contain '%s'", err, needle);
    remove_dir(dir);
}

#define SRC "\"sources\": [{\"key\": \"T\", \"what\": \"test\"}]"

static void test_data_check_errors(void **state)
{
    (void)state;
    expect_load_error("upstream.json", "{" SRC ", \"minors\": [\n  {\"minor\": \"1.2\",}\n]}",
                      "upstream.json: line 2");
    expect_load_error("upstream.json",
                      "{" SRC ", \"minors\": [{\"minor\": \"1.2\", \"released\": \"2016-03-16\", "
                      "\"end_of_life\": \"2016-01-01\"}]}",
                      "upstream.json: minors[0] (1.2): released 2016-03-16 is after end_of_life "
                      "2016-01-01");
    expect_load_error("upstream.json",
                      "{" SRC ", \"minors\": [{\"minor\": \"1.3\", \"released\": \"2016-07-01\"},"
                      "{\"minor\": \"1.2\", \"released\": \"2016-07-02\"}]}",
                      "minors[1] (1.2): minors must be listed once each, in ascending order");
    expect_load_error("upstream.json",
                      "{" SRC ", \"minors\": [{\"minor\": \"1.2\", \"released\": \"2016-02-30\"}]}",
                      "minors[0] (1.2): \"released\" is not a YYYY-MM-DD date");
    expect_load_error("upstream.json", "{\"minors\": []}", "\"sources\" must list");
    expect_load_error("cves.json",
                      "{" SRC ", \"cves\": [{\"id\": \"CVE-1\", \"name\": \"n\", \"severity\": "
                      "\"High\", \"cvss\": 5, \"scope\": \"apiserver\", \"scope_source\": \"a\", \"unauthenticated\": false,"
                      " \"fix\": \"none\", \"mitigation\": \"m\", \"feature_gates\": [], \"disclosed\": null,"
                      " \"ranges\": [{\"affected\": \">= 1.5.0, <= 1.4.0\", \"fixed\": \"1.5.1\"}]}]}",
                      "cves[0] (CVE-1): ranges[0]: \">= 1.5.0, <= 1.4.0\" admits no version");
    expect_load_error("cves.json",
                      "{" SRC ", \"cves\": [{\"id\": \"CVE-1\", \"name\": \"n\", \"severity\": "
                      "\"High\", \"cvss\": 5, \"scope\": \"apiserver\", \"scope_source\": \"a\", \"unauthenticated\": false,"
                      " \"fix\": \"none\", \"mitigation\": \"m\", \"feature_gates\": [], \"disclosed\": null,"
                      " \"ranges\": [{\"affected\": \"<= 1.4.0\", \"fixed\": \"1.3.0\"}]}]}",
                      "fixed version 1.3.0 is inside the affected range");
    expect_load_error("cves.json",
                      "{" SRC ", \"cves\": [{\"id\": \"CVE-1\", \"name\": \"n\", \"severity\": "
                      "\"High\", \"cvss\": 5, \"scope\": \"apiserver\", \"scope_source\": \"a\", \"unauthenticated\": false,"
                      " \"fix\": \"none\", \"mitigation\": \"m\", \"feature_gates\": [], \"disclosed\": null,"
                      " \"ranges\": [{\"affected\": \"~> 1.4\", \"fixed\": null}]}]}",
                      "ranges[0]: \"affected\" must be constraints");
    expect_load_error("cves.json",
                      "{" SRC ", \"cves\": [{\"id\": \"CVE-1\", \"name\": \"n\", \"severity\": "
                      "\"High\", \"cvss\": 5, \"scope\": \"kernel\", \"unauthenticated\": false,"
                      " \"ranges\": []}]}",
                      "scope must be");
#define PROVIDER_WITH(history, minors) "{" SRC ", \"providers\": [{\"id\": \"eks\", " \
    "\"title\": \"E\", \"older_minor_rule\": false, \"names\": [\"eks\"], " \
    "\"provider_history\": [" history "], \"minors\": [" minors "]}]}"
#define PROVIDER(minors) PROVIDER_WITH("", minors)
    expect_load_error("providers.json",
                      PROVIDER("{\"minor\": \"1.16\", \"released\": \"2020-04-30\", \"revisions\": "
                               "[{\"published\": \"2020-04-30\", \"end_of_standard_support\": "
                               "\"2020-01-01\", \"source\": \"s\", \"source_kind\": \"provider\"}]}"),
                      "providers[0] (eks) minors[0] (1.16) revisions[0]: end_of_standard_support "
                      "before \"released\"");
    expect_load_error("providers.json",
                      PROVIDER("{\"minor\": \"1.16\", \"released\": null, \"revisions\": "
                               "[{\"published\": \"2021-01-01\", \"end_of_standard_support\": "
                               "\"2021-07-25\", \"source\": \"s\", \"source_kind\": \"provider\"}, {\"published\": \"2020-01-01\", "
                               "\"end_of_standard_support\": \"2021-09-27\", \"source\": \"s\", \"source_kind\": \"provider\"}]}"),
                      "revisions[1]: revisions must be in order of \"published\"");
    expect_load_error("providers.json",
                      PROVIDER("{\"minor\": \"1.16\", \"released\": null, \"revisions\": "
                               "[{\"published\": \"2021-01-01\", \"end_of_standard_support\": "
                               "\"2021-07-25\"}]}"),
                      "revisions[0]: \"source\" missing");
    expect_load_error("providers.json",
                      PROVIDER("{\"minor\": \"1.16\", \"released\": null, \"revisions\": "
                               "[{\"published\": \"2021-01-01\", \"end_of_standard_support\": "
                               "\"2021-07-25\", \"end_of_extended_support\": \"2021-01-01\", "
                               "\"source\": \"s\", \"source_kind\": \"provider\"}]}"),
                      "end_of_extended_support needs an end_of_standard_support on or before it");
    expect_load_error("providers.json",
                      PROVIDER("{\"minor\": \"1.16\", \"released\": null, \"revisions\": []}"),
                      "\"revisions\" is empty");
    expect_load_error("providers.json",
                      "{" SRC ", \"providers\": [{\"id\": \"a\", \"title\": \"A\", "
                      "\"older_minor_rule\": true, \"names\": [\"x\"], \"provider_history\": [], "
                      "\"minors\": []}]}",
                      "\"older_minor_rule_source\" must cite the policy");
    expect_load_error("providers.json",
                      "{" SRC ", \"providers\": [{\"id\": \"a\", \"title\": \"A\", "
                      "\"older_minor_rule\": false, \"names\": [\"x\"], \"provider_history\": [], "
                      "\"minors\": []}, {\"id\": \"b\", \"title\": \"B\", \"older_minor_rule\": "
                      "false, \"names\": [\"x\"], \"provider_history\": [], \"minors\": []}]}",
                      "providers[1]: name \"x\" is already used by provider a");
#define CVE(rest) "{" SRC ", \"cves\": [{\"id\": \"CVE-1\", \"name\": \"n\", \"severity\": " \
    "\"High\", \"cvss\": 5, \"scope\": \"apiserver\", \"scope_source\": \"advisory\", " rest "}]}"
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"fix\": \"available\", \"feature_gates\": [],"
                          " \"disclosed\": null, \"ranges\": [{\"affected\": \"< 1.2.0\", \"fixed\": null}]"),
                      "\"fix\" is \"available\" but no range has a fixed version");
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"fix\": \"none\", \"feature_gates\": [],"
                          " \"disclosed\": null, \"ranges\": [{\"affected\": \"< 1.2.0\", \"fixed\": null}]"),
                      "\"mitigation\" missing");
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"fix\": \"available\", \"feature_gates\": [],"
                          " \"disclosed\": \"2020-01-01\", \"ranges\": [{\"affected\": \"< 1.2.0\", "
                          "\"fixed\": \"1.2.0\"}]"),
                      "\"disclosed_source\" missing");
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"fix\": \"available\", \"feature_gates\": [],"
                          " \"ranges\": [{\"affected\": \"< 1.2.0\", \"fixed\": \"1.2.0\"}]"),
                      "\"disclosed\" is required");
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"unauthenticated_versions\": \"< 1.14.0\", "
                          "\"fix\": \"available\", \"feature_gates\": [], \"disclosed\": null, "
                          "\"ranges\": [{\"affected\": \"< 1.2.0\", \"fixed\": \"1.2.0\"}]"),
                      "\"unauthenticated_versions\" given but \"unauthenticated\" is false");
    expect_load_error("cves.json",
                      "{" SRC ", \"cves\": [{\"id\": \"CVE-1\", \"name\": \"n\", \"severity\": "
                      "\"High\", \"cvss\": 5, \"scope\": \"node\", \"unauthenticated\": false,"
                      " \"ranges\": []}]}",
                      "cves[0] (CVE-1): \"scope_source\" missing");
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"fix\": \"available\", \"feature_gates\": [],"
                          " \"disclosed\": null, \"ranges\": [{\"affected\": \"< 1.2.0\", "
                          "\"fixed\": \"1.2.0\"}], \"other_reading\": {\"reading\": \"r\", "
                          "\"source\": \"s\", \"ranges\": [{\"affected\": \"< 1.3.0\", \"fixed\": "
                          "\"1.2.9\"}]}"),
                      "cves[0] (CVE-1) other_reading: ranges[0]: fixed version 1.2.9 is inside");
    expect_load_error("cves.json",
                      CVE("\"unauthenticated\": false, \"fix\": \"available\", \"feature_gates\": [],"
                          " \"disclosed\": null, \"ranges\": [{\"affected\": \"< 1.2.0\", "
                          "\"fixed\": \"1.2.0\"}], \"other_reading\": {\"ranges\": []}"),
                      "other_reading: \"reading\" missing");
    /* Who dated a revision, and the rule that the provider's own history
     * wins over an aggregator wherever it was read. */
#define REV(published, kind) "{\"minor\": \"1.27\", \"released\": null, \"revisions\": " \
    "[{\"published\": \"" published "\", \"end_of_standard_support\": \"2024-07-31\", " \
    "\"source\": \"s\", " kind "}]}"
    expect_load_error("providers.json", PROVIDER(REV("2023-09-01", "\"source_kind\": \"blog\"")),
                      "revisions[0]: \"source_kind\" must be \"provider\" or \"aggregator\"");
    expect_load_error("providers.json", PROVIDER(REV("2023-09-01", "\"x\": 1")),
                      "revisions[0]: \"source_kind\" missing");
    expect_load_error("providers.json",
                      PROVIDER(REV("2023-09-01", "\"source_kind\": \"aggregator\"")),
                      "revisions[0]: \"published_not_before\" is required");
    expect_load_error("providers.json",
                      PROVIDER(REV("2023-09-01", "\"source_kind\": \"aggregator\", "
                                                 "\"published_not_before\": \"2023-09-02\"")),
                      "\"published_not_before\" is after \"published\"");
    expect_load_error("providers.json",
                      PROVIDER(REV("2023-09-01", "\"source_kind\": \"provider\", "
                                                 "\"published_not_before\": \"2023-08-02\"")),
                      "\"published_not_before\" is only for aggregator revisions");
    expect_load_error("providers.json",
                      "{" SRC ", \"providers\": [{\"id\": \"a\", \"title\": \"A\", "
                      "\"older_minor_rule\": false, \"names\": [\"x\"], \"minors\": []}]}",
                      "providers[0] (a): \"provider_history\" missing or not an array");
    expect_load_error("providers.json",
                      PROVIDER_WITH("{\"from\": \"2024-01-01\", \"to\": \"2023-01-01\", "
                                    "\"source\": \"docs\"}", ""),
                      "provider_history[0]: \"to\" is before \"from\"");
    const char *history = "{\"from\": \"2019-01-01\", \"to\": \"2026-08-01\", "
                          "\"source\": \"docs repository\"}";
    char text[2048];
    snprintf(text, sizeof(text),
             PROVIDER_WITH("%s", REV("2024-03-05", "\"source_kind\": \"aggregator\", "
                                                    "\"published_not_before\": \"2023-09-01\"")),
             history);
    expect_load_error("providers.json", text,
                      "providers[0] (eks) minors[0] (1.27) revisions[0]: an aggregator dates it "
                      "2024-03-05, but the provider's own history (provider_history[0], 2019-01-01 "
                      ".. 2026-08-01) covers that day");
    /* The same revision after the history read ends, or dated by the
     * provider, loads. */
    const char *ok[] = {
        PROVIDER_WITH("{\"from\": \"2019-01-01\", \"to\": \"2024-03-04\", \"source\": \"d\"}",
                      REV("2024-03-05", "\"source_kind\": \"aggregator\", "
                                        "\"published_not_before\": \"2023-09-01\"")),
        PROVIDER_WITH("{\"from\": \"2019-01-01\", \"to\": \"2026-08-01\", \"source\": \"d\"}",
                      REV("2024-03-05", "\"source_kind\": \"provider\"")),
    };
    for (size_t i = 0; i < 2; i++) {
        char err[KS_ERRLEN] = "";
        struct lifecycle *lc = NULL;
        char *dir = data_dir_with("providers.json", ok[i]);
        if (lifecycle_load(&lc, dir, err) != 0)
            fail_msg("case %zu: %s", i, err);
        const struct lc_revision *rev = &lc->providers[0].minors[0].revisions[0];
        assert_int_equal(rev->aggregator, i == 0);
        assert_int_equal(rev->published_not_before, day(i == 0 ? "2023-09-01" : "2024-03-05"));
        lifecycle_free(lc);
        remove_dir(dir);
    }
    expect_load_error("etcd.json", "{" SRC ", \"supported_minors\": 0, \"minors\": []}",
                      "\"supported_minors\" must be a count from 1 to 16");
    expect_load_error("etcd.json",
                      "{" SRC ", \"supported_minors\": 2, \"minors\": [{\"minor\": \"3.5\", "
                      "\"released\": \"2021-06-15\", \"source\": \"s\"}, {\"minor\": \"3.4\", "
                      "\"released\": \"2019-08-30\", \"source\": \"s\"}]}",
                      "minors[1] (3.4): minors must be listed once each, ascending");
    expect_load_error("etcd.json",
                      "{" SRC ", \"supported_minors\": 2, \"minors\": [{\"minor\": \"v3.5\", "
                      "\"released\": \"2021-06-15\", \"source\": \"s\"}]}",
                      "minors[0] (v3.5): \"minor\" must look like 3.5");
    char err[KS_ERRLEN] = "";
    struct lifecycle *lc = NULL;
    assert_int_equal(lifecycle_load(&lc, "/nonexistent-ks-dir", err), -1);
    assert_non_null(strstr(err, "/nonexistent-ks-dir/upstream.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_version_parse),
        cmocka_unit_test(test_version_compare),
        cmocka_unit_test(test_version_of_result),
        cmocka_unit_test(test_builtin_equals_files),
        cmocka_unit_test(test_upstream_boundaries),
        cmocka_unit_test(test_provider_windows),
        cmocka_unit_test(test_cve_matching),
        cmocka_unit_test(test_cve_applicability),
        cmocka_unit_test(test_revision_on),
        cmocka_unit_test(test_data_check_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
