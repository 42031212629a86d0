/*
 * test_record.c - the record's field table and what walks it here: the
 * table's own rules, copy and free (under ASan: no leak, no double free),
 * the exact JSON text of a full record, its CSV line, PEM certificates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/record.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Every member of struct probe_result is in the table (or is part of a
 * field that is: chain_length of the chain, body_length of the body). A
 * new member without a table line breaks this sum. */
static void test_table_covers_the_struct(void **state)
{
    (void)state;
    size_t covered = 0;
    bool seen_k8s = false;
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(f->name, record_fields[j].name);
        assert_true(f->since >= 1 && f->since <= RECORD_VERSION);
        assert_true(f->offset < sizeof(struct probe_result));
        /* the verdict has two names (k8s, verdict) on one member */
        if (f->offset == offsetof(struct probe_result, k8s)) {
            if (seen_k8s)
                continue;
            seen_k8s = true;
        }
        switch (f->type) {
        case FIELD_ADDR: covered += sizeof(struct net_addr); break;
        case FIELD_PORT: covered += sizeof(uint16_t); break;
        case FIELD_I64: covered += sizeof(int64_t); break;
        case FIELD_U32: case FIELD_EVIDENCE: covered += sizeof(uint32_t); break;
        case FIELD_INT: case FIELD_STATUS: covered += sizeof(int); break;
        case FIELD_BOOL: covered += sizeof(bool); break;
        case FIELD_STRING: covered += sizeof(char *); break;
        case FIELD_OUTCOME: covered += sizeof(enum probe_outcome); break;
        case FIELD_VERDICT: case FIELD_K8S: covered += sizeof(enum k8s_verdict); break;
        case FIELD_VERSION_STATE: covered += sizeof(enum version_state); break;
        case FIELD_CHAIN: covered += sizeof(struct cert_der) * PROBE_CHAIN_MAX + sizeof(size_t); break;
        case FIELD_BODY: covered += sizeof(uint8_t *); break;
        case FIELD_SIZE: covered += sizeof(size_t); break;
        }
    }
    /* the struct is at least this big (padding aside), and not much bigger */
    assert_true(covered <= sizeof(struct probe_result));
    assert_true(sizeof(struct probe_result) - covered < 64);
}

static void fill(struct probe_result *r)
{
    probe_result_init(r);
    r->addr = net_addr_ipv4(0xC6120107); /* 198.18.1.7 */
    r->port = 6443;
    r->started_ms = 1700000000123;
    r->duration_ms = 42;
    r->outcome = PROBE_OK;
    r->error = strdup("quote \" backslash \\ tab \t bell \a");
    r->tls_done = true;
    r->tls_version = strdup("TLSv1.3");
    r->tls_cipher = strdup("TLS_AES_128_GCM_SHA256");
    r->chain_length = 2;
    for (size_t i = 0; i < 2; i++) {
        r->chain[i].length = 4;
        r->chain[i].der = malloc(4);
        memcpy(r->chain[i].der, i ? "\x00\x01\x02\x03" : "MAN!", 4);
        memset(r->chain[i].sha256, (int)(0xa0 + i), 32);
    }
    r->http_status = 200;
    r->http_server = strdup("\xff not utf-8");
    r->body = malloc(5);
    memcpy(r->body, "{\"a\"}", 5);
    r->body_length = 5;
    r->body_truncated = true;
    r->k8s = K8S_YES;
    r->evidence = EVIDENCE_CERT_MARKER | EVIDENCE_STATUS_BODY;
    r->provider = strdup("eks");
    r->version_state = VERSION_VALID;
    r->git_version = strdup("v1.19.6-eks-49a6c0");
    r->version_major = 1;
    r->version_minor = 19;
    r->version_patch = 6;
    r->version_suffix = strdup("-eks-49a6c0");
    r->module = strdup("etcd");
    r->tls_cert_requested = true;
    r->finding = strdup("no-client-auth");
    r->etcd_server = strdup("3.5.9");
}

static const char full_json[] =
    "{\"addr\":\"198.18.1.7\",\"port\":6443,\"started_ms\":1700000000123,\"duration_ms\":42,"
    "\"outcome\":\"ok\",\"error\":\"quote \\\" backslash \\\\ tab \\t bell \\u0007\","
    "\"tls_done\":true,\"tls_version\":\"TLSv1.3\",\"tls_cipher\":\"TLS_AES_128_GCM_SHA256\","
    "\"tls_alpn\":null,\"chain\":[{\"sha256\":\"a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
    "a0a0a0a0a0a0a0a0\",\"length\":4,\"der\":\"TUFOIQ==\"},{\"sha256\":\"a1a1a1a1a1a1a1a1a1a1a1a1"
    "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\",\"length\":4,\"der\":\"AAECAw==\"}],"
    "\"chain_truncated\":false,\"http_status\":200,\"http_server\":\"(not UTF-8)\","
    "\"http_content_type\":null,\"http_audit_id\":null,\"http_pf_flowschema\":null,"
    "\"http_pf_prioritylevel\":null,\"body\":\"{\\\"a\\\"}\",\"body_length\":5,"
    "\"body_truncated\":true,\"k8s\":true,\"verdict\":\"yes\",\"evidence\":[\"cert-marker\","
    "\"status-body\"],\"provider\":\"eks\",\"version_state\":\"valid\",\"git_version\":"
    "\"v1.19.6-eks-49a6c0\",\"version_major\":1,\"version_minor\":19,\"version_patch\":6,"
    "\"version_suffix\":\"-eks-49a6c0\",\"git_commit\":null,\"build_date\":null,\"go_version\":"
    "null,\"platform\":null,\"all_ports_open\":false,\"module\":\"etcd\","
    "\"tls_cert_requested\":true,\"finding\":\"no-client-auth\",\"etcd_server\":\"3.5.9\","
    "\"etcd_cluster\":null,\"scan\":3}";

static void test_json_text(void **state)
{
    (void)state;
    struct probe_result r;
    fill(&r);
    size_t length;
    char *text = record_to_json(&r, RECORD_CERTS_DER, ",\"scan\":3", &length);
    assert_string_equal(text, full_json);
    assert_int_equal(length, strlen(full_json));
    /* jansson reads it and writes it back the same */
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    char *again = json_dumps(j, JSON_COMPACT);
    assert_string_equal(again, text);
    free(again);
    json_decref(j);
    free(text);
    /* a binary body goes to body_base64 */
    r.body[1] = '\0';
    text = record_to_json(&r, RECORD_CERTS_DER, NULL, &length);
    assert_non_null(strstr(text, "\"body\":null,\"body_base64\":\"ewBhIn0=\",\"body_length\":5,"));
    free(text);
    probe_result_free(&r);
}

static void test_pem(void **state)
{
    (void)state;
    struct probe_result r;
    fill(&r);
    size_t length;
    char *text = record_to_json(&r, RECORD_CERTS_PEM, NULL, &length);
    assert_non_null(strstr(text, "\"length\":4,\"pem\":\"-----BEGIN CERTIFICATE-----\\nTUFOIQ==\\n"
                                 "-----END CERTIFICATE-----\\n\"}"));
    assert_null(strstr(text, "\"der\""));
    free(text);
    probe_result_free(&r);
}

static void test_csv(void **state)
{
    (void)state;
    struct probe_result r;
    fill(&r);
    free(r.tls_cipher);
    r.tls_cipher = strdup("has,comma \"and quote\"");
    char *header = record_csv_header(), *line = record_csv_line(&r);
    assert_string_equal(header,
                        "addr,port,started_ms,duration_ms,outcome,error,tls_done,tls_version,"
                        "tls_cipher,tls_alpn,chain_length,leaf_sha256,http_status,http_server,"
                        "http_content_type,k8s,verdict,evidence,provider,version_state,git_version,"
                        "version_major,version_minor,version_patch,version_suffix,git_commit,"
                        "build_date,go_version,platform,all_ports_open,module,tls_cert_requested,"
                        "finding,etcd_server,etcd_cluster");
    assert_string_equal(line,
                        "198.18.1.7,6443,1700000000123,42,ok,\"quote \"\" backslash \\ tab \t bell \a\","
                        "true,TLSv1.3,\"has,comma \"\"and quote\"\"\",,2,"
                        "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0,200,"
                        "(not UTF-8),,true,yes,cert-marker|status-body,eks,valid,v1.19.6-eks-49a6c0,"
                        "1,19,6,-eks-49a6c0,,,,,false,etcd,true,no-client-auth,3.5.9,");
    free(header);
    free(line);
    probe_result_free(&r);
}

/* An IPv6 address is written in RFC 5952 form, in JSON and CSV alike (its
 * colons need no CSV quoting). */
static void test_ipv6_text(void **state)
{
    (void)state;
    struct probe_result r;
    fill(&r);
    assert_int_equal(net_addr_parse("2001:0002:0000:0000:0000:0000:00AB:0001", &r.addr), 0);
    char *json = record_to_json(&r, RECORD_CERTS_DER, NULL, NULL);
    char *line = record_csv_line(&r);
    assert_non_null(strstr(json, "{\"addr\":\"2001:2::ab:1\",\"port\":6443,"));
    assert_memory_equal(line, "2001:2::ab:1,6443,", 18);
    free(json);
    free(line);
    probe_result_free(&r);
}

/* A copy owns its own memory: freeing one leaves the other intact. */
static void test_copy(void **state)
{
    (void)state;
    struct probe_result r, c;
    fill(&r);
    assert_int_equal(probe_result_copy(&c, &r), 0);
    assert_ptr_not_equal(c.error, r.error);
    assert_ptr_not_equal(c.body, r.body);
    assert_ptr_not_equal(c.chain[1].der, r.chain[1].der);
    char *a = record_to_json(&r, RECORD_CERTS_DER, NULL, NULL);
    probe_result_free(&r);
    char *b = record_to_json(&c, RECORD_CERTS_DER, NULL, NULL);
    assert_string_equal(a, b);
    free(a);
    free(b);
    probe_result_free(&c);
    /* an empty record round-trips too, and stays empty after free */
    probe_result_init(&r);
    assert_int_equal(probe_result_copy(&c, &r), 0);
    probe_result_free(&c);
    assert_int_equal(c.version_major, -1);
    assert_null(c.error);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(probe_outcome_name(PROBE_HTTP_TIMEOUT), "http-timeout");
    assert_string_equal(probe_outcome_name((enum probe_outcome)99), "unknown");
    assert_string_equal(k8s_verdict_name(K8S_KUBELET), "kubelet");
    assert_string_equal(k8s_verdict_name((enum k8s_verdict)7), "unknown");
    assert_string_equal(version_state_name(VERSION_OTHER), "other");
    assert_string_equal(k8s_evidence_name(EVIDENCE_APISERVER_HDR), "apiserver-header");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_the_struct),
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_pem),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_ipv6_text),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
