/*
 * test_scan_record.c - the scan record's table: JSON both ways (unknown
 * members kept), the resume check naming what differs, the identity the
 * shards of one run share whatever else their records hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

static const char shard0[] =
    "{\"kubesurvey_version\": \"0.1.0\", \"targets\": [\"198.18.0.0/15\"], "
    "\"allowlist\": null, \"blocklist\": \"/a/b.txt\", \"blocklist_mode\": \"file\", "
    "\"allow_digest\": \"aa\", \"block_digest\": \"bb\", \"target_addresses\": 131072, "
    "\"target_space\": 262144, \"ports\": \"443,6443\", \"seed\": \"18446744073709551615\", "
    "\"shard\": 0, \"shards\": 3, \"sender_threads\": 1, \"rate_pps\": 10000, "
    "\"max_runtime\": 0.0, \"cooldown\": 8.0, \"interface\": \"veth0\", \"source_ip\": "
    "\"198.19.0.1\", \"started\": \"2021-06-10T00:00:00Z\", \"ended\": null, \"duration\": 0.0, "
    "\"counters\": {\"sent\": 5}, \"error\": null, \"interrupted\": false, \"syn_only\": false, "
    "\"state\": \"running\", \"checkpoint\": {\"walk_position\": 7, \"time\": \"x\"}, "
    "\"note\": \"a member this build does not know\"}";

static void load(struct scan_record *r, const char *text)
{
    char err[KS_ERRLEN];
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_int_equal(scan_record_from_json(r, j, err), 0);
    json_decref(j);
}

/* Loads shard0 with one member replaced (value NULL: removed). */
static void load_edited(struct scan_record *r, const char *key, json_t *value)
{
    char err[KS_ERRLEN];
    json_t *j = json_loads(shard0, 0, NULL);
    if (value)
        json_object_set_new(j, key, value);
    else
        json_object_del(j, key);
    assert_int_equal(scan_record_from_json(r, j, err), 0);
    json_decref(j);
}

static void test_json_both_ways(void **state)
{
    (void)state;
    struct scan_record r;
    load(&r, shard0);
    assert_string_equal(r.seed, "18446744073709551615");
    assert_int_equal(r.shards, 3);
    assert_true(scan_record_has(&r, "ended"));
    assert_null(r.ended);
    assert_false(scan_record_has(&r, "merged_from"));
    json_t *back = scan_record_to_json(&r), *want = json_loads(shard0, 0, NULL);
    assert_true(json_equal(back, want)); /* "note" kept, nulls kept, nothing added */
    json_decref(back);
    json_decref(want);
    scan_record_free(&r);
}

static void test_type_errors(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct scan_record r;
    json_t *j = json_loads("{\"shard\": \"zero\"}", 0, NULL);
    assert_int_equal(scan_record_from_json(&r, j, err), -1);
    assert_non_null(strstr(err, "\"shard\" is not an integer"));
    json_decref(j);
    j = json_array();
    assert_int_equal(scan_record_from_json(&r, j, err), -1);
    json_decref(j);
}

static void test_resume_check(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct scan_record was, now;
    load(&was, shard0);
    /* times, counters, machine and unknown members do not matter */
    load_edited(&now, "started", json_string("2021-06-11T00:00:00Z"));
    assert_int_equal(scan_record_resume_check(&was, &now, err), 0);
    scan_record_free(&now);
    load_edited(&now, "ports", json_string("6443,443")); /* the same set */
    assert_int_equal(scan_record_resume_check(&was, &now, err), 0);
    scan_record_free(&now);
    static const struct { const char *key; const char *value; } changes[] = {
        {"allow_digest", "\"cc\""}, {"block_digest", "\"cc\""}, {"ports", "\"443\""},
        {"seed", "\"1\""}, {"shard", "1"}, {"shards", "4"}, {"sender_threads", "2"},
        {"syn_only", "true"}, {"modules", "\"10250=kubelet\""},
    };
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        load_edited(&now, changes[i].key, json_loads(changes[i].value, JSON_DECODE_ANY, NULL));
        assert_int_equal(scan_record_resume_check(&was, &now, err), -1);
        char want[64];
        snprintf(want, sizeof(want), "cannot resume: %s differs", changes[i].key);
        assert_non_null(strstr(err, want));
        scan_record_free(&now);
    }
    load_edited(&now, "seed", NULL);
    assert_int_equal(scan_record_resume_check(&was, &now, err), -1);
    assert_non_null(strstr(err, "now none"));
    scan_record_free(&now);
    /* a changed module map is named with both maps */
    scan_record_free(&was);
    load_edited(&was, "modules", json_string("2379=etcd,10250=kubelet"));
    load_edited(&now, "modules", json_string("2379=etcd,10250=apiserver"));
    assert_int_equal(scan_record_resume_check(&was, &now, err), -1);
    assert_non_null(strstr(err, "cannot resume: modules differs from the interrupted scan's "
                                "(\"2379=etcd,10250=kubelet\", now \"2379=etcd,10250=apiserver\")"));
    assert_non_null(strstr(err, "--module map"));
    scan_record_free(&now);
    scan_record_free(&was);
}

/* The record's `modules`: the scanned ports another module than apiserver
 * probes, by the default map and by --module. */
static void test_modules_text(void **state)
{
    (void)state;
    struct probe_port_map map = {0};
    char err[KS_ERRLEN], *text;
    assert_int_equal(scan_record_modules("443,6443,10250,10255,2379", &map, &text), 0);
    assert_string_equal(text, "2379=etcd,10250=kubelet,10255=kubelet-readonly");
    free(text);
    assert_int_equal(scan_record_modules("6443,443", &map, &text), 0);
    assert_null(text); /* as a record of a build before modules: every port an API server */
    assert_int_equal(probe_port_map_add(&map, "443=kubelet", err), 0);
    assert_int_equal(probe_port_map_add(&map, "10250=apiserver", err), 0);
    assert_int_equal(probe_port_map_add(&map, "8443=etcd", err), 0); /* not scanned */
    assert_int_equal(scan_record_modules("443,6443,10250,10255,2379", &map, &text), 0);
    assert_string_equal(text, "443=kubelet,2379=etcd,10255=kubelet-readonly");
    free(text);
    assert_int_equal(scan_record_modules("1-65535", &map, &text), 0);
    assert_string_equal(text, "443=kubelet,2379=etcd,8443=etcd,10255=kubelet-readonly");
    free(text);
}

static void test_identity(void **state)
{
    (void)state;
    struct scan_record a, b;
    load(&a, shard0);
    char *ia = scan_record_identity(&a);
    /* another shard of the run: other shard number, times, counters,
     * threads, paths, and members no field knows */
    char err[KS_ERRLEN];
    json_t *j = json_loads(shard0, 0, NULL);
    json_object_set_new(j, "shard", json_integer(2));
    json_object_set_new(j, "started", json_string("2021-06-12T00:00:00Z"));
    json_object_set_new(j, "counters", json_pack("{s:i}", "sent", 99));
    json_object_set_new(j, "sender_threads", json_integer(2));
    json_object_set_new(j, "blocklist", json_string("/elsewhere/b.txt"));
    json_object_set_new(j, "ports", json_string("6443,443"));
    json_object_set_new(j, "operator", json_string("site B"));
    json_object_del(j, "note");
    assert_int_equal(scan_record_from_json(&b, j, err), 0);
    json_decref(j);
    char *ib = scan_record_identity(&b);
    assert_string_equal(ia, ib);
    assert_null(scan_record_defines_differ(&a, &b));
    free(ib);
    scan_record_free(&b);
    /* a different seed is a different run */
    load_edited(&b, "seed", json_string("5"));
    ib = scan_record_identity(&b);
    assert_string_not_equal(ia, ib);
    assert_string_equal(scan_record_defines_differ(&a, &b), "seed");
    free(ib);
    scan_record_free(&b);
    /* so is one with another module map */
    load_edited(&b, "modules", json_string("443=kubelet"));
    ib = scan_record_identity(&b);
    assert_string_not_equal(ia, ib);
    assert_string_equal(scan_record_defines_differ(&a, &b), "modules");
    free(ib);
    scan_record_free(&b);
    free(ia);
    scan_record_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_both_ways),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_resume_check),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_modules_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
