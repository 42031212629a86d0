/*
 * test_checkpoints.c - the rule of a safe checkpoint (tools/pipeline/
 * checkpoint.c): a position is given out only once the cooldown has passed
 * since it was sampled and every responder pushed by then is handled;
 * never twice, never backwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/pipeline/pipeline.h"

#include <stdlib.h>

static struct checkpoints *fresh(double cooldown, uint64_t start)
{
    struct checkpoints *c = malloc(sizeof(*c));
    assert_non_null(c);
    checkpoints_init(c, cooldown, start);
    return c;
}

static void test_waits_for_cooldown_and_handling(void **state)
{
    (void)state;
    struct checkpoints *c = fresh(2.0, 0);
    uint64_t p = 0;
    /* t=0: position 100, 5 pushed; nothing is 2.5 s later yet */
    assert_false(checkpoints_sample(c, 0.0, 100, 5, 5, &p));
    assert_false(checkpoints_sample(c, 1.0, 200, 8, 8, &p));
    assert_false(checkpoints_sample(c, 2.0, 300, 9, 9, &p));
    /* t=3: 3 >= 0 + 2.5 for the t=0 sample, but only 8 of 9 pushed by the
     * t=3 sample are handled */
    assert_false(checkpoints_sample(c, 3.0, 400, 9, 8, &p));
    /* t=4: every responder pushed by t=3 handled: the t=0 sample... and the
     * t=1 sample (4 >= 1 + 2.5, b = t=4, 9 pushed, 9 handled) is newer */
    assert_true(checkpoints_sample(c, 4.0, 500, 9, 9, &p));
    assert_int_equal(p, 200);
    assert_int_equal(c->position, 200);
    assert_true(c->time == 4.0);
    /* the same state again gives nothing new */
    assert_false(checkpoints_sample(c, 4.2, 500, 9, 9, &p));
    free(c);
}

static void test_never_backwards(void **state)
{
    (void)state;
    struct checkpoints *c = fresh(0.0, 1000); /* resumed at 1000 */
    uint64_t p = 0;
    assert_false(checkpoints_sample(c, 0.0, 10, 0, 0, &p));
    assert_false(checkpoints_sample(c, 1.0, 20, 0, 0, &p)); /* 10 < 1000 */
    assert_false(checkpoints_sample(c, 2.0, 1500, 0, 0, &p));
    assert_true(checkpoints_sample(c, 3.0, 1600, 0, 0, &p));
    assert_int_equal(p, 1500);
    free(c);
}

/* More samples than the ring holds: still answers from the newest. */
static void test_ring_wraps(void **state)
{
    (void)state;
    struct checkpoints *c = fresh(1.0, 0);
    uint64_t p = 0, last = 0;
    for (int i = 0; i < 3 * CHECKPOINT_SAMPLES; i++)
        if (checkpoints_sample(c, i, (uint64_t)i * 10, (uint64_t)i, (uint64_t)i, &p)) {
            assert_true(p > last);
            last = p;
        }
    /* the newest safe sample is 2 s back (1 s cooldown + 0.5) */
    assert_int_equal(last, (uint64_t)(3 * CHECKPOINT_SAMPLES - 1 - 2) * 10);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_for_cooldown_and_handling),
        cmocka_unit_test(test_never_backwards),
        cmocka_unit_test(test_ring_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
