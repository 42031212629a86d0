/*
 * test_record_random.c - the store's record codec on random records (many
 * seeds, reproducible): encode then decode is the identity, every field of
 * the table included (strings of any bytes but NUL, invalid UTF-8 too,
 * binary bodies, chains of every length, extreme numbers); and every
 * truncation of an encoded record is refused, never misread.
 */
#include "storage/internal.h"
#include "tests/storage/random_record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CASES 2000

static void test_encode_decode_identity(void **state)
{
    (void)state;
    char err[KS_ERRLEN];
    struct buf b = {0};
    for (uint64_t c = 1; c <= CASES; c++) {
        rng = c * 0x2545F4914F6CDD1DULL;
        struct probe_result r, back;
        random_record(&r, STORE_CERT_MAX);
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
