/*
 * test_config_defaults.c - probe_config_defaults: the worker threads
 * follow the connections in flight (one per PROBE_CONNECTIONS_PER_WORKER,
 * at least one, at most one per CPU); what the caller set stays.
 */
#include "probes/probes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

static unsigned threads_for(unsigned concurrency, unsigned threads)
{
    struct probe_config cfg = {.concurrency = concurrency, .threads = threads};
    probe_config_defaults(&cfg);
    return cfg.threads;
}

static unsigned at_most_cpus(unsigned n)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 && n > (unsigned long)cpus ? (unsigned)cpus : n;
}

static void test_threads_follow_concurrency(void **state)
{
    (void)state;
    assert_int_equal(PROBE_DEFAULT_CONCURRENCY, PROBE_CONNECTIONS_PER_WORKER);
    assert_int_equal(threads_for(0, 0), 1); /* the default concurrency: one worker */
    assert_int_equal(threads_for(1, 0), 1);
    assert_int_equal(threads_for(256, 0), 1);
    assert_int_equal(threads_for(PROBE_CONNECTIONS_PER_WORKER, 0), 1);
    assert_int_equal(threads_for(PROBE_CONNECTIONS_PER_WORKER + 1, 0), at_most_cpus(2));
    assert_int_equal(threads_for(4 * PROBE_CONNECTIONS_PER_WORKER, 0), at_most_cpus(4));
    assert_int_equal(threads_for(1000000, 0), at_most_cpus(977));
}

static void test_explicit_threads_stay(void **state)
{
    (void)state;
    assert_int_equal(threads_for(256, 3), 3);
    assert_int_equal(threads_for(0, 7), 7);
    struct probe_config cfg = {0};
    probe_config_defaults(&cfg);
    assert_int_equal(cfg.concurrency, PROBE_DEFAULT_CONCURRENCY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_follow_concurrency),
        cmocka_unit_test(test_explicit_threads_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
