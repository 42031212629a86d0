/*
 * test_record_random.c - the store's record codec on random records (many
 * seeds, reproducible): encode then decode is the identity, every field of
 * the table included (strings of any bytes but NUL, invalid UTF-8 too,
 * binary bodies, chains of every length, extreme numbers); and every
 * truncation of an encoded record is refused, never misread.
 */
#include "storage/internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CASES 2000

static uint64_t rng;

static uint64_t next_random(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(next_random() % n);
}

/* NULL a fifth of the time, else 0-40 random bytes without NUL. */
static char *random_string(void)
{
    if (below(5) == 0)
        return NULL;
    size_t n = below(41);
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(1 + below(255));
    s[n] = '\0';
    return s;
}

static int random_int(void)
{
    switch (below(4)) {
    case 0: return -1;
    case 1: return (int)below(100);
    case 2: return INT32_MAX - (int)below(3);
    default: return INT32_MIN + (int)below(3);
    }
}

static void random_record(struct probe_result *r)
{
    probe_result_init(r);
    r->addr = (uint32_t)next_random();
    r->port = (uint16_t)next_random();
    r->started_ms = (int64_t)next_random();
    r->duration_ms = (uint32_t)next_random();
    r->outcome = (enum probe_outcome)below(PROBE_OUTCOME_COUNT);
    r->tls_done = below(2);
    r->chain_truncated = below(2);
    r->body_truncated = below(2);
    r->chain_length = below(PROBE_CHAIN_MAX + 1);
    for (size_t i = 0; i < r->chain_length; i++) {
        r->chain[i].length = 1 + below(STORE_CERT_MAX);
        for (int b = 0; b < 32; b++)
            r->chain[i].sha256[b] = (uint8_t)next_random();
    }
    r->http_status = random_int();
    r->k8s = (enum k8s_verdict)below(K8S_VERDICT_COUNT);
    r->evidence = (uint32_t)next_random();
    r->version_state = (enum version_state)below(VERSION_STATE_COUNT);
    r->version_major = random_int();
    r->version_minor = random_int();
    r->version_patch = random_int();
    for (size_t i = 0; i < record_field_count; i++)
        if (record_fields[i].type == FIELD_STRING)
            *(char **)record_field_ptr(r, &record_fields[i]) = random_string();
    if (below(3)) {
        r->body_length = below(300);
        r->body = malloc(r->body_length + 1);
        for (size_t i = 0; i < r->body_length; i++)
            r->body[i] = (uint8_t)next_random();
    }
}

static void test_encode_decode_identity(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct buf b = {0};
    for (uint64_t c = 1; c <= CASES; c++) {
        rng = c * 0x2545F4914F6CDD1DULL;
        struct probe_result r, back;
        random_record(&r);
        assert_int_equal(record_encode(&b, &r, err), 0);
        if (record_decode(b.data, b.length, &back, err) != 0)
            fail_msg("case %llu: %s", (unsigned long long)c, err);
        size_t la, lb;
        char *ja = record_to_json(&r, RECORD_CERTS_DER, NULL, &la);
        char *jb = record_to_json(&back, RECORD_CERTS_DER, NULL, &lb);
        if (strcmp(ja, jb))
            fail_msg("case %llu:\n%s\n%s", (unsigned long long)c, ja, jb);
        /* what JSON cannot show: the exact bytes of strings and body */
        for (size_t i = 0; i < record_field_count; i++)
            if (record_fields[i].type == FIELD_STRING) {
                const char *x = *(char *const *)record_field_ptr(&r, &record_fields[i]);
                const char *y = *(char *const *)record_field_ptr(&back, &record_fields[i]);
                assert_true((x == NULL) == (y == NULL));
                if (x)
                    assert_string_equal(x, y);
            }
        assert_int_equal(r.body_length, back.body_length);
        assert_true((r.body == NULL) == (back.body == NULL));
        if (r.body && r.body_length)
            assert_memory_equal(r.body, back.body, r.body_length);
        /* every strict prefix is refused */
        for (size_t cut = 0; cut < b.length; cut += 1 + b.length / 16) {
            struct probe_result bad;
            if (record_decode(b.data, cut, &bad, err) == 0)
                fail_msg("case %llu: a %zu-byte prefix of %zu decoded", (unsigned long long)c,
                         cut, b.length);
        }
        free(ja);
        free(jb);
        probe_result_free(&back);
        probe_result_free(&r);
    }
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_decode_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
