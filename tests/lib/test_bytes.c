/*
 * test_bytes.c - lib/bytes.h: big-endian integers in byte arrays.
 */
#include "lib/bytes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_be_put_get(void **state)
{
    (void)state;
    uint8_t b[9];
    memset(b, 0xee, sizeof(b));
    be16_put(b + 1, 0x0102); /* any alignment */
    assert_memory_equal(b, ((uint8_t[]){0xee, 0x01, 0x02, 0xee}), 4);
    assert_int_equal(be16_get(b + 1), 0x0102);
    be32_put(b + 1, 0xc0000201u);
    assert_memory_equal(b + 1, ((uint8_t[]){0xc0, 0x00, 0x02, 0x01}), 4);
    assert_int_equal(be32_get(b + 1), 0xc0000201u);
    be64_put(b + 1, 0x0102030405060708ull);
    assert_memory_equal(b + 1, ((uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8}), 8);
    assert_true(be64_get(b + 1) == 0x0102030405060708ull);
    assert_int_equal(b[0], 0xee);
    /* the top bits survive (no sign extension through int) */
    be16_put(b, 0xffff);
    assert_int_equal(be16_get(b), 0xffff);
    be32_put(b, 0xfffffffeu);
    assert_int_equal(be32_get(b), 0xfffffffeu);
    be64_put(b, UINT64_MAX - 1);
    assert_true(be64_get(b) == UINT64_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_be_put_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
