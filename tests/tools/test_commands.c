/*
 * test_commands.c - the store-reading commands end to end: databases are
 * written by gen_db through the real store writer, the kubesurvey binary is
 * run, its output checked against hand-computed expectations (the crafted
 * population of population.h, see test_stats.c for the arithmetic).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "tools/analysis/analysis.h"
#include "storage/storage.h"
#include "expect_json.h"
#include "population.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zstd.h>

static char dir[64];

/* Runs a shell command; returns its exit status, *out (if given) its stdout. */
__attribute__((format(printf, 2, 3))) static int run(char **out, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 0, len = 0, n;
    char *buf = NULL;
    assert_int_equal(BUF_GROW(buf, cap, 4096, 4096), 0);
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        assert_int_equal(BUF_GROW(buf, cap, len + 2, 4096), 0);
    }
    buf[len] = '\0';
    int status = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static json_t *run_json(const char *fmt, const char *arg)
{
    char *out;
    int rc = run(&out, fmt, arg);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, out);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr);
    if (!j)
        fail_msg("not JSON (%s): %s", jerr.text, out);
    free(out);
    return j;
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/ks-cmd-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* c.db: the crafted scan plus 2 corrupt records; s0..s2: its shards;
     * d.db: the crafted scan then the later one; nostart.db: no start time */
    return run(NULL,
               "cd %s && " GEN_DB " c.db --crafted --corrupt 2 && " GEN_DB " one.db --crafted && "
               GEN_DB " s0.db --crafted --shard 0/3 --started 2021-06-10T09:00:00Z && "
               GEN_DB " s1.db --crafted --shard 1/3 --started 2021-06-10T08:00:00Z && "
               GEN_DB " s2.db --crafted --shard 2/3 --started 2021-06-10T10:00:00Z && "
               GEN_DB " d.db --crafted && " GEN_DB " d.db --later --started 2022-01-01T00:00:00Z && "
               GEN_DB " nostart.db --crafted --started '' && "
               GEN_DB " f0.db --crafted --shard 0/3 --started 2021-06-10T09:00:00Z && "
               GEN_DB " f1.db --crafted --shard 1/3 --started 2021-06-10T08:00:00Z --ipv6 && "
               GEN_DB " f2.db --crafted --shard 2/3 --started 2021-06-10T10:00:00Z --ipv6 && "
               GEN_DB " d6.db --crafted && "
               GEN_DB " d6.db --crafted --ipv6 --started 2022-01-01T00:00:00Z && "
               "printf '198.18.0.0\\t16\\t64500\\n198.18.0.0\\t24\\t64501_64502\\n"
               "198.18.0.8\\t29\\t64503,64504\\n' > p2a.txt && "
               "head -c 32 /dev/urandom > k1 && head -c 32 /dev/urandom > k2",
               dir);
}

static int teardown(void **state)
{
    (void)state;
    return run(NULL, "rm -rf %s", dir);
}

static void test_stats_on_store(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/c.db --pfx2as %s/p2a.txt", dir, dir);
    json_t *o = run_json(KUBESURVEY " stats --json %s", path);
    assert_float_equal(json_real_value(json_object_get(o, "unsupported_share")), 3.0 / 7.0, 1e-12);
    json_object_del(o, "unsupported_share");
    json_object_del(o, "provider_unsupported_share");
    json_object_del(o, "clusters_unsupported_share");
    json_object_del(o, "clusters_provider_unsupported_share");
    /* as_of is the scan's start day; the 2 corrupt records are counted, not fatal */
    expect_json_keys(o, "{\"scan\": 1, " POPULATION_STATS_2021_06_10);
    json_decref(o);
    /* a later date: EKS 1.16 (2021-09-27) and GKE 1.17 (2021-11-01) have ended;
     * 1.19 (upstream 2021-10-28) too, EKS 1.19 runs to 2022-08-01 */
    snprintf(path, sizeof(path), "%s/c.db", dir);
    o = run_json(KUBESURVEY " stats --json --as-of 2022-04-01 %s", path);
    assert_int_equal(json_integer_value(json_object_get(o, "unsupported")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "provider_unsupported")), 3);
    json_decref(o);
    char *out;
    snprintf(path, sizeof(path), "%s/nostart.db", dir);
    assert_int_equal(run(&out, KUBESURVEY " stats %s 2>&1", path), 1);
    assert_non_null(strstr(out, "has no \"started\" time"));
    free(out);
    assert_int_equal(run(NULL, KUBESURVEY " stats --as-of 2021-06-10 %s >/dev/null", path), 0);
}

/* --calendar, --as2org and the text summary on a store. */
static void test_stats_options(void **state)
{
    (void)state;
    char *out;
    char path[160];
    snprintf(path, sizeof(path), "%s/c.db", dir);
    assert_int_equal(run(&out, KUBESURVEY " stats --calendar sometimes %s 2>&1", path), 2);
    assert_non_null(strstr(out, "--calendar 'sometimes' is neither published nor final"));
    free(out);
    assert_int_equal(run(&out, KUBESURVEY " stats --as2org %s/p2a.txt %s 2>&1", dir, path), 2);
    assert_non_null(strstr(out, "--as2org needs --pfx2as"));
    free(out);
    snprintf(path, sizeof(path), "%s/c.db --pfx2as %s/p2a.txt", dir, dir);
    assert_int_equal(run(&out, KUBESURVEY " stats --as2org /nonexistent/as2org.txt %s 2>&1", path),
                     1);
    assert_non_null(strstr(out, "/nonexistent/as2org.txt"));
    free(out);
    /* a real as2org file: the test ASes 64501 and 64503 belong to two owners */
    assert_int_equal(run(NULL, "printf '# format:aut|changed|aut_name|org_id|opaque_id|source\\n"
                               "64501|20210101|A|ORG-A|x|RIPE\\n64503|20210101|B|ORG-B|x|ARIN\\n"
                               "# format:org_id|changed|org_name|country|source\\n"
                               "ORG-A|20210101|Alpha Net|DE|RIPE\\nORG-B|20210101|Beta Hosting|US|ARIN\\n'"
                               " > %s/as2org.txt", dir),
                     0);
    char with[256];
    snprintf(with, sizeof(with), "%s --as2org %s/as2org.txt", path, dir);
    json_t *o = run_json(KUBESURVEY " stats --json %s", with);
    expect_json(json_object_get(o, "network_owners"),
                "[{\"owner\": \"Alpha Net\", \"country\": \"DE\", \"k8s\": 6, \"version_public\": 5,"
                "  \"unsupported\": 3, \"providers\": {\"eks\": 3, \"gke\": 1, \"k3s\": 1, \"upstream\": 1}},"
                " {\"owner\": \"Beta Hosting\", \"country\": \"US\", \"k8s\": 3, \"version_public\": 2,"
                "  \"unsupported\": 0, \"providers\": {\"upstream\": 3}}]");
    assert_int_equal(json_integer_value(json_object_get(o, "k8s_no_owner")), 0);
    json_decref(o);
    /* final vs published differ nowhere for this population; both run */
    o = run_json(KUBESURVEY " stats --json --calendar final %s", path);
    assert_string_equal(json_string_value(json_object_get(o, "calendar")), "final");
    json_decref(o);
    /* the text summary shows the unknowns next to each figure and the
     * cluster estimators side by side */
    assert_int_equal(run(&out, KUBESURVEY " stats %s", with), 0);
    assert_non_null(strstr(out, "provider standard support"));
    assert_non_null(strstr(out, "unknown 1: "));
    assert_non_null(strstr(out, "others: certificate 7 cluster_name 7 cluster_ca 7"));
    assert_non_null(strstr(out, "Alpha Net"));
    free(out);
    /* the report shows the owners table */
    assert_int_equal(run(NULL, KUBESURVEY " report %s -o %s/owners.html", with, dir), 0);
    assert_int_equal(run(&out, "cat %s/owners.html", dir), 0);
    assert_non_null(strstr(out, "Network owners against provider labels"));
    assert_non_null(strstr(out, "<td>Alpha Net (DE)</td><td>6</td><td>5</td><td>3</td>"
                                "<td>eks 3, gke 1, k3s 1, upstream 1</td>"));
    free(out);
}

static void test_usage_and_errors(void **state)
{
    (void)state;
    static const char *const commands[] = {"stats", "export", "merge", "diff", "report", "data"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        assert_int_equal(run(NULL, KUBESURVEY " %s --help >/dev/null", commands[i]), 0);
        assert_int_equal(run(NULL, KUBESURVEY " %s --no-such-option x 2>/dev/null", commands[i]), 2);
    }
    char *out;
    assert_int_equal(run(&out, KUBESURVEY " stats /nonexistent/x.db 2>&1"), 1);
    assert_non_null(strstr(out, "/nonexistent/x.db"));
    free(out);
    assert_int_equal(run(NULL, KUBESURVEY " stats --as-of 2021-02-30 %s/c.db 2>/dev/null", dir), 2);
    assert_int_equal(run(NULL, KUBESURVEY " stats --scan 0 %s/c.db 2>/dev/null", dir), 2);
    assert_int_equal(run(&out, KUBESURVEY " stats --scan 9 %s/c.db 2>&1", dir), 1);
    assert_non_null(strstr(out, "no scan 9"));
    free(out);
    assert_int_equal(run(NULL, KUBESURVEY " export %s/c.db --format xml 2>/dev/null", dir), 2);
    assert_int_equal(run(NULL, KUBESURVEY " export %s/c.db --format csv --certs pem 2>/dev/null", dir), 2);
    assert_int_equal(run(NULL, KUBESURVEY " export %s/c.db --format jsonl --certs pem "
                               "--anonymize %s/k1 2>/dev/null", dir, dir), 2);
    assert_int_equal(run(&out, KUBESURVEY " export %s/c.db --format jsonl --anonymize %s/p2a.txt "
                               "2>&1 >/dev/null", dir, dir), 1);
    assert_non_null(strstr(out, "exactly 32 bytes"));
    free(out);
    assert_int_equal(run(NULL, KUBESURVEY " diff %s/d.db --from 1 2>/dev/null", dir), 2);
    assert_int_equal(run(NULL, KUBESURVEY " report %s/c.db 2>/dev/null", dir), 2);
    assert_int_equal(run(NULL, KUBESURVEY " merge %s/c.db %s/one.db 2>/dev/null", dir, dir), 2);
    /* a file that is not a database */
    assert_int_equal(run(&out, KUBESURVEY " stats %s/p2a.txt 2>&1", dir), 1);
    assert_non_null(strstr(out, "p2a.txt"));
    free(out);
    /* a failed merge leaves no half-written OUT */
    assert_int_equal(run(&out, KUBESURVEY " merge %s/bad.db %s/one.db /nonexistent/in.db 2>&1", dir,
                         dir), 1);
    assert_non_null(strstr(out, "/nonexistent/in.db"));
    free(out);
    assert_int_equal(run(NULL, "test ! -e %s/bad.db && test ! -e %s/bad.db-lock", dir, dir), 0);
    assert_int_equal(run(NULL, KUBESURVEY " export %s/c.db --format csv -o /nonexistent/x.csv "
                               "2>/dev/null", dir), 1);
    assert_int_equal(run(NULL, KUBESURVEY " data check >/dev/null"), 0);
    assert_int_equal(run(NULL, KUBESURVEY " data check --data /nonexistent 2>/dev/null"), 1);
}

static uint32_t ip(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return ntohl(a.s_addr);
}

/* addr of each JSON line, in order */
static size_t export_addrs(const char *jsonl, uint32_t *addrs, char shas[][65], size_t max)
{
    size_t n = 0;
    const char *line = jsonl;
    while (*line && n < max) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        json_t *o = json_loadb(line, (size_t)(end - line), 0, NULL);
        assert_non_null(o);
        addrs[n] = ip(json_string_value(json_object_get(o, "addr")));
        const char *sha = json_string_value(
            json_object_get(json_array_get(json_object_get(o, "chain"), 0), "sha256"));
        snprintf(shas[n], 65, "%s", sha ? sha : "");
        json_decref(o);
        n++;
        line = end + 1;
    }
    return n;
}

static void test_export(void **state)
{
    (void)state;
    char *plain, *anon1, *anon1b, *anon2, *csv, *pem;
    assert_int_equal(run(&plain, KUBESURVEY " export %s/c.db --format jsonl 2>/dev/null", dir), 0);
    assert_int_equal(run(&anon1, KUBESURVEY " export %s/c.db --format jsonl --anonymize %s/k1 "
                                 "2>/dev/null", dir, dir), 0);
    assert_int_equal(run(&anon1b, KUBESURVEY " export %s/c.db --format jsonl --anonymize %s/k1 "
                                  "--pfx2as %s/p2a.txt 2>/dev/null", dir, dir, dir), 0);
    assert_int_equal(run(&anon2, KUBESURVEY " export %s/c.db --format jsonl --anonymize %s/k2 "
                                 "2>/dev/null", dir, dir), 0);
    uint32_t a[16], b[16], b2[16], c[16];
    char sa[16][65], sb[16][65], sb2[16][65], sc[16][65];
    assert_int_equal(export_addrs(plain, a, sa, 16), POPULATION_COUNT);
    assert_int_equal(export_addrs(anon1, b, sb, 16), POPULATION_COUNT);
    assert_int_equal(export_addrs(anon1b, b2, sb2, 16), POPULATION_COUNT);
    assert_int_equal(export_addrs(anon2, c, sc, 16), POPULATION_COUNT);
    for (size_t i = 0; i < POPULATION_COUNT; i++) {
        assert_int_equal(a[i], 0xC6120000u | population[i].last_octet);
        /* consistent across exports with one key, different with another */
        assert_int_equal(b[i], b2[i]);
        assert_string_equal(sb[i], sb2[i]);
        assert_int_not_equal(b[i], a[i]);
        assert_int_not_equal(b[i], c[i]);
        /* certificate hashes are keyed */
        if (sa[i][0])
            assert_string_not_equal(sa[i], sb[i]);
        for (size_t j = 0; j < POPULATION_COUNT; j++) {
            uint32_t x = a[i] ^ a[j], y = b[i] ^ b[j];
            int want = x ? __builtin_clz(x) : 32, got = y ? __builtin_clz(y) : 32;
            assert_int_equal(got, want);   /* prefix preserved */
        }
    }
    /* no original address appears anywhere in the anonymised output */
    for (size_t i = 0; i < POPULATION_COUNT; i++) {
        char needle[32];
        snprintf(needle, sizeof(needle), "\"198.18.0.%u\"", population[i].last_octet);
        assert_null(strstr(anon1, needle));
        assert_non_null(strstr(plain, needle));
    }
    assert_non_null(strstr(anon1b, "\"as\":\"64501_64502\""));
    /* zstd output decompresses to the plain export */
    char path[128];
    snprintf(path, sizeof(path), "%s/out.jsonl.zst", dir);
    assert_int_equal(run(NULL, KUBESURVEY " export %s/c.db --format jsonl --zstd -o %s 2>/dev/null",
                         dir, path), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char frame[1 << 16], back[1 << 16];
    size_t flen = fread(frame, 1, sizeof(frame), f);
    fclose(f);
    size_t blen = ZSTD_decompress(back, sizeof(back), frame, flen);
    assert_false(ZSTD_isError(blen));
    assert_int_equal(blen, strlen(plain));
    assert_memory_equal(back, plain, blen);
    /* CSV: header + one line per endpoint */
    assert_int_equal(run(&csv, KUBESURVEY " export %s/c.db --format csv 2>/dev/null", dir), 0);
    size_t lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, POPULATION_COUNT + 1);
    assert_non_null(strstr(csv, "scan,addr,port,started_ms,duration_ms,outcome,error,tls_done,"
                                "tls_version,tls_cipher,tls_alpn,chain_length,leaf_sha256,"
                                "http_status,http_server,http_content_type,k8s,verdict,evidence,"
                                "provider,version_state,git_version,version_major,version_minor,"
                                "version_patch,version_suffix,git_commit,build_date,go_version,"
                                "platform,all_ports_open,module,tls_cert_requested,finding,etcd_server,"
                                "etcd_cluster,as\n"));
    assert_non_null(strstr(csv, "\n1,198.18.0.5,443,0,0,ok,,true,,,,1,"));
    assert_non_null(strstr(csv, ",true,yes,cert-marker|version-info,gke,valid,v1.17.17-gke.1,"));
    assert_non_null(strstr(csv, "cert-marker|version-info,gke,valid,v1.17.17-gke.1,"));
    /* an AS set of any length is exported whole (it used to be cut at 64
     * characters and reported as a failed write) */
    char longset[512] = "1";
    for (int n = 2; n <= 90; n++)
        snprintf(longset + strlen(longset), sizeof(longset) - strlen(longset), ",%d", n);
    assert_int_equal(run(NULL, "printf '198.18.0.0\\t24\\t%s\\n' > %s/longset.txt", longset, dir),
                     0);
    char *wide;
    assert_int_equal(run(&wide, KUBESURVEY " export %s/c.db --format jsonl --pfx2as %s/longset.txt",
                         dir, dir), 0);
    char want_as[600];
    snprintf(want_as, sizeof(want_as), "\"as\":\"%s\"}", longset);
    assert_non_null(strstr(wide, want_as));
    free(wide);
    assert_int_equal(run(&wide, KUBESURVEY " export %s/c.db --format csv --pfx2as %s/longset.txt",
                         dir, dir), 0);
    snprintf(want_as, sizeof(want_as), ",\"%s\"\n", longset);
    assert_non_null(strstr(wide, want_as));
    free(wide);
    /* PEM certificates: the 64-byte leaf of 'A' (base64 of "AAAA..." is "QUFB...") */
    assert_int_equal(run(&pem, KUBESURVEY " export %s/c.db --format jsonl --certs pem 2>/dev/null",
                         dir), 0);
    assert_non_null(strstr(pem, "\"pem\":\"-----BEGIN CERTIFICATE-----\\nQUFBQUFB"));
    free(plain);
    free(anon1);
    free(anon1b);
    free(anon2);
    free(csv);
    free(pem);
}

static void test_merge_equals_single_run(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(run(&out, KUBESURVEY " merge %s/m.db %s/s0.db %s/s1.db %s/s2.db", dir, dir,
                         dir, dir), 0);
    assert_non_null(strstr(out, "1 scan(s), 11 endpoint record(s) copied"));
    free(out);
    char path[96];
    snprintf(path, sizeof(path), "%s/m.db", dir);
    json_t *merged = run_json(KUBESURVEY " stats --json %s", path);
    snprintf(path, sizeof(path), "%s/one.db", dir);
    json_t *single = run_json(KUBESURVEY " stats --json %s", path);
    if (!json_equal(merged, single)) {
        char *m = json_dumps(merged, JSON_SORT_KEYS), *s = json_dumps(single, JSON_SORT_KEYS);
        fail_msg("merged %s\nsingle %s", m, s);
    }
    json_decref(merged);
    json_decref(single);
    /* certificates stored once: A, B, C, D, E, F, Z */
    struct store *store;
    struct store_cert_stats cs;
    char err[KS_ERRLEN];
    snprintf(path, sizeof(path), "%s/m.db", dir);
    assert_int_equal(store_open(&store, path, STORE_READ_ONLY, err), 0);
    assert_int_equal(store_cert_stats(store, &cs, err), 0);
    assert_int_equal(cs.certs, 7);
    struct store_scan scan;
    assert_int_equal(store_scan_get(store, 1, &scan, err), 0);
    json_t *j = json_loads(scan.json, 0, NULL);
    free(scan.json);
    assert_string_equal(json_string_value(json_object_get(j, "started")), "2021-06-10T08:00:00Z");
    assert_int_equal(json_array_size(json_object_get(j, "merged_shards")), 3);
    assert_null(json_object_get(j, "shard"));
    json_decref(j);
    store_close(store);
    /* unsharded runs stay apart, even with equal parameters: d.db holds two */
    assert_int_equal(run(&out, KUBESURVEY " merge %s/m2.db %s/d.db %s/one.db", dir, dir, dir), 0);
    assert_non_null(strstr(out, "3 scan(s), 32 endpoint record(s) copied"));
    free(out);
    /* a shard given twice is refused, and nothing is created */
    assert_int_equal(run(&out, KUBESURVEY " merge %s/m3.db %s/s0.db %s/s1.db %s/s0.db 2>&1", dir,
                         dir, dir, dir), 1);
    assert_non_null(strstr(out, "shard 0 of 3 is given twice"));
    free(out);
    assert_int_equal(run(NULL, "test ! -e %s/m3.db", dir), 0);
    /* missing shards are refused, naming them ... */
    assert_int_equal(run(&out, KUBESURVEY " merge %s/m4.db %s/s0.db %s/s2.db 2>&1", dir, dir, dir),
                     1);
    assert_non_null(strstr(out, "2 of 3 shards given, missing 1"));
    free(out);
    /* ... unless --partial, which says so in the merged record */
    assert_int_equal(run(&out, KUBESURVEY " merge --partial %s/m4.db %s/s0.db %s/s2.db", dir, dir,
                         dir), 0);
    free(out);
    assert_int_equal(run(&out, KUBESURVEY " scans %s/m4.db", dir), 0);
    free(out);
    snprintf(path, sizeof(path), "%s/m4.db", dir);
    assert_int_equal(store_open(&store, path, STORE_READ_ONLY, err), 0);
    assert_int_equal(store_scan_get(store, 1, &scan, err), 0);
    j = json_loads(scan.json, 0, NULL);
    free(scan.json);
    assert_true(json_is_true(json_object_get(j, "partial")));
    expect_json(json_object_get(j, "missing_shards"), "[1]");
    json_decref(j);
    store_close(store);
    /* a shard of another run is refused, naming what differs */
    assert_int_equal(run(NULL, GEN_DB " %s/x1.db --crafted --shard 1/3 --seed 7 >/dev/null", dir),
                     0);
    assert_int_equal(run(&out, KUBESURVEY " merge %s/m5.db %s/s0.db %s/x1.db %s/s2.db 2>&1", dir,
                         dir, dir, dir), 1);
    assert_non_null(strstr(out, "is not a shard of the run of"));
    assert_non_null(strstr(out, "seed differs (\"7\", \"42\")"));
    free(out);
    /* and so is one probed with another module map */
    assert_int_equal(run(NULL, GEN_DB " %s/x2.db --crafted --shard 1/3 --modules 443=kubelet "
                               ">/dev/null", dir), 0);
    assert_int_equal(run(&out, KUBESURVEY " merge %s/m6.db %s/s0.db %s/x2.db %s/s2.db 2>&1", dir,
                         dir, dir, dir), 1);
    assert_non_null(strstr(out, "modules differs (\"443=kubelet\", none)"));
    free(out);
}

/* Common leading bits of two 16-byte addresses. */
static int common_bits(const uint8_t *a, const uint8_t *b)
{
    int n = 0;
    while (n < 128 && !((a[n / 8] ^ b[n / 8]) & (0x80 >> (n % 8))))
        n++;
    return n;
}

/* The IPv6 addresses of a JSON Lines export, in order. */
static size_t export_addrs6(const char *jsonl, uint8_t (*addrs)[16], size_t max)
{
    size_t n = 0;
    for (const char *at = jsonl; (at = strstr(at, "{\"addr\":\"")) && n < max; at++) {
        char text[64];
        if (sscanf(at + 9, "%63[^\"]", text) == 1 && strchr(text, ':'))
            assert_int_equal(inet_pton(AF_INET6, text, addrs[n++]), 1);
    }
    return n;
}

/* A scan of both families (shard 0 IPv4, shards 1 and 2 the same endpoints
 * in 2001:2::/96, merged): the statistics are those of the IPv4 run but for
 * by_family, which splits them exactly; the export writes RFC 5952 text and
 * anonymises IPv6 prefix-preservingly; show finds [v6]:port; diff against
 * the IPv4 run sees the IPv6 endpoints as new and the others gone. */
static void test_mixed_families(void **state)
{
    (void)state;
    char *out, path[96];
    assert_int_equal(run(&out, KUBESURVEY " merge %s/f.db %s/f0.db %s/f1.db %s/f2.db", dir, dir,
                         dir, dir), 0);
    free(out);
    snprintf(path, sizeof(path), "%s/f.db", dir);
    json_t *mixed = run_json(KUBESURVEY " stats --json %s", path);
    snprintf(path, sizeof(path), "%s/one.db", dir);
    json_t *single = run_json(KUBESURVEY " stats --json %s", path);
    json_t *by = json_object_get(mixed, "by_family"), *v4 = json_object_get(by, "ipv4"),
           *v6 = json_object_get(by, "ipv6");
    const char *keys[] = {"syn_open", "tls", "k8s", "k8s_by_cert", "version_public",
                          "unsupported", "provider_unsupported"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_int_equal(json_integer_value(json_object_get(v4, keys[i])) +
                             json_integer_value(json_object_get(v6, keys[i])),
                         json_integer_value(json_object_get(single, keys[i])));
    assert_true(json_integer_value(json_object_get(v6, "k8s")) > 0);
    assert_true(json_integer_value(json_object_get(v4, "k8s")) > 0);
    json_object_del(mixed, "by_family");
    json_object_del(single, "by_family");
    if (!json_equal(mixed, single)) {
        char *m = json_dumps(mixed, JSON_SORT_KEYS), *s = json_dumps(single, JSON_SORT_KEYS);
        fail_msg("mixed %s\nIPv4 %s", m, s);
    }
    json_decref(mixed);
    json_decref(single);

    char *plain, *anon;
    assert_int_equal(run(&plain, KUBESURVEY " export %s/f.db --format jsonl 2>/dev/null", dir), 0);
    assert_int_equal(run(&anon, KUBESURVEY " export %s/f.db --format jsonl --anonymize %s/k1 "
                                "2>/dev/null", dir, dir), 0);
    uint8_t a[16][16], b[16][16];
    size_t n = export_addrs6(plain, a, 16);
    assert_true(n >= 6);
    assert_int_equal(export_addrs6(anon, b, 16), n);
    assert_non_null(strstr(plain, "\"addr\":\"2001:2::c612:"));
    assert_null(strstr(anon, "\"addr\":\"2001:2::c612:"));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            assert_int_equal(common_bits(b[i], b[j]), common_bits(a[i], a[j]));
    char text[64], *show;
    inet_ntop(AF_INET6, a[0], text, sizeof(text));
    assert_int_equal(run(&show, KUBESURVEY " show %s/f.db '[%s]' 2>&1", dir, text), 0);
    char want[96];
    snprintf(want, sizeof(want), "[%s]:", text);
    assert_non_null(strstr(show, want));
    char *diff;
    assert_int_equal(run(&diff, KUBESURVEY " diff %s/d6.db --from 1 --to 2 --hosts 2>&1", dir), 0);
    assert_non_null(strstr(diff, "new              [2001:2::c612:"));
    assert_non_null(strstr(diff, "gone             198.18.0."));
    free(diff);
    free(show);
    free(plain);
    free(anon);
}

static void test_diff(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof(path), "%s/d.db", dir);
    json_t *o = run_json(KUBESURVEY " diff %s --from 1 --to 2 --json", path);
    json_object_del(o, "from_db");
    json_object_del(o, "to_db");
    expect_json(o, "{\"from_scan\": 1, \"to_scan\": 2, \"upgraded\": 2, \"downgraded\": 1,"
                   " \"unchanged\": 2, \"version_unknown\": 2, \"gone\": 2, \"new\": 2,"
                   " \"corrupt_records\": 0}");
    json_decref(o);
    char *out;
    assert_int_equal(run(&out, KUBESURVEY " diff %s --from 1 --to 2 --hosts", path), 0);
    assert_non_null(strstr(out, "upgraded         198.18.0.3:443 v1.16.15 -> v1.19.8\n"));
    assert_non_null(strstr(out, "upgraded         198.18.0.9:443 v1.22.0-alpha.1 -> v1.22.0\n"));
    assert_non_null(strstr(out, "downgraded       198.18.0.5:443 v1.17.17 -> v1.17.16\n"));
    assert_non_null(strstr(out, "gone             198.18.0.4:443 v1.19.6\n"));
    assert_non_null(strstr(out, "gone             198.18.0.10:443 v1.40.1\n"));
    assert_non_null(strstr(out, "new              198.18.0.2:443 v1.20.1\n"));
    assert_non_null(strstr(out, "new              198.18.0.11:443 v1.21.2\n"));
    free(out);
    /* two databases: the same comparison */
    char two[160];
    snprintf(two, sizeof(two), "%s/one.db %s/d.db --to 2", dir, dir);
    o = run_json(KUBESURVEY " diff %s --json", two);
    assert_int_equal(json_integer_value(json_object_get(o, "upgraded")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "gone")), 2);
    json_decref(o);
}

static void test_report(void **state)
{
    (void)state;
    char *html;
    assert_int_equal(run(NULL, KUBESURVEY " report %s/c.db -o %s/r.html --title '<b>x</b>'", dir,
                         dir), 0);
    assert_int_equal(run(&html, "cat %s/r.html", dir), 0);
    assert_non_null(strstr(html, "<svg id=\"chart-minors\""));
    assert_non_null(strstr(html, "<svg id=\"chart-providers\""));
    /* no headline CVE for these versions (population.h); the flaws without
     * a fix are charted apart */
    assert_null(strstr(html, "<svg id=\"chart-cves\""));
    assert_non_null(strstr(html, "No endpoint runs a version in a fixed"));
    assert_non_null(strstr(html, "<svg id=\"chart-cves-no-fix\""));
    assert_non_null(strstr(html, "<title>&lt;b&gt;x&lt;/b&gt;</title>"));
    /* 1.15, 1.16, 1.17 past EOL on 2021-06-10; 1.19 and 1.22 supported; 1.40 unknown */
    size_t unsupported = 0, supported = 0, unknown = 0;
    for (const char *p = html; (p = strstr(p, "<rect class=\"bar ")); p++) {
        unsupported += !strncmp(p + 17, "unsupported\"", 12);
        supported += !strncmp(p + 17, "supported\"", 10);
        unknown += !strncmp(p + 17, "unknown\"", 8);
    }
    assert_int_equal(unsupported, 3);
    assert_int_equal(supported, 2);
    assert_int_equal(unknown, 1);
    assert_null(strstr(html, "http://") == NULL ? NULL : strstr(strstr(html, "http://"), "src="));
    assert_null(strstr(html, "<script"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_on_store),
        cmocka_unit_test(test_stats_options),
        cmocka_unit_test(test_usage_and_errors),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_merge_equals_single_run),
        cmocka_unit_test(test_mixed_families),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
