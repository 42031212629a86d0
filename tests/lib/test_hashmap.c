/*
 * test_hashmap.c - the one hash table and the growing array of lib/:
 * against a brute-force model, through growth, clearing and the bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/hashmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 20,000 random 12-byte keys with a counter each: every get answers as a
 * plain list would, across many doublings. */
static void test_against_model(void **state)
{
    (void)state;
    enum { KEYS = 20000 };
    static uint8_t keys[KEYS][12];
    static uint32_t counts[KEYS];
    struct hashmap m;
    hashmap_init(&m, 12, sizeof(uint32_t));
    srand(7);
    for (size_t i = 0; i < KEYS; i++) {
        for (int b = 0; b < 12; b++)
            keys[i][b] = (uint8_t)rand();
        keys[i][0] |= 1; /* never all zero */
    }
    for (size_t round = 0; round < 3; round++)
        for (size_t i = 0; i < KEYS; i += round + 1) {
            bool added;
            uint32_t *v = hashmap_value(&m, hashmap_put(&m, keys[i], &added));
            assert_non_null(v);
            assert_int_equal(added, counts[i] == 0);
            (*v)++;
            counts[i]++;
        }
    size_t distinct = 0;
    for (size_t i = 0; i < KEYS; i++) {
        uint32_t *v = hashmap_value(&m, hashmap_get(&m, keys[i]));
        if (counts[i]) {
            distinct++;
            assert_non_null(v);
            assert_int_equal(*v, counts[i]);
        }
    }
    assert_int_equal(m.count, distinct);
    size_t walked = 0;
    for (size_t i = 0; i < m.capacity; i++)
        walked += hashmap_at(&m, i) != NULL;
    assert_int_equal(walked, distinct);
    uint8_t absent[12] = {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    assert_null(hashmap_get(&m, absent));
    hashmap_clear(&m);
    assert_int_equal(m.count, 0);
    assert_null(hashmap_get(&m, keys[0]));
    hashmap_free(&m);
}

static void test_zero_key_and_bound(void **state)
{
    (void)state;
    struct hashmap m;
    hashmap_init(&m, 8, 0);
    uint64_t zero = 0, one = 1, two = 2;
    assert_null(hashmap_put(&m, &zero, NULL)); /* all-zero keys mean "empty" */
    assert_null(hashmap_get(&m, &zero));
    m.max_count = 1;
    assert_non_null(hashmap_put(&m, &one, NULL));
    assert_non_null(hashmap_put(&m, &one, NULL)); /* present: still found */
    assert_null(hashmap_put(&m, &two, NULL));      /* new past the bound */
    assert_int_equal(m.count, 1);
    hashmap_free(&m);
    assert_null(hashmap_get(&m, &one));
}

static void test_buf_grow(void **state)
{
    (void)state;
    int *list = NULL;
    size_t cap = 0;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(BUF_GROW(list, cap, (size_t)i + 1, 16), 0);
        list[i] = i;
    }
    assert_true(cap >= 1000 && cap < 2048);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(list[i], i);
    size_t before = cap;
    assert_int_equal(buf_grow((void **)&list, &cap, SIZE_MAX / 2, sizeof(int), 16), -1);
    assert_int_equal(cap, before); /* unchanged on failure */
    free(list);
}

static void test_buf_grow_max(void **state)
{
    (void)state;
    char *b = NULL;
    size_t cap = 0;
    assert_int_equal(BUF_GROW_MAX(b, cap, 10, 4096, 5000), 0);
    assert_int_equal(cap, 4096);
    assert_int_equal(BUF_GROW_MAX(b, cap, 4097, 4096, 5000), 0);
    assert_int_equal(cap, 5000); /* the last step stops at the bound */
    assert_int_equal(BUF_GROW_MAX(b, cap, 5000, 4096, 5000), 0);
    assert_int_equal(BUF_GROW_MAX(b, cap, 5001, 4096, 5000), -1);
    assert_int_equal(cap, 5000);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_zero_key_and_bound),
        cmocka_unit_test(test_buf_grow),
        cmocka_unit_test(test_buf_grow_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
