/*
 * test_scan_pipeline.c - the scan pipeline (tools/pipeline/scan_pipeline.c) without
 * the scanner: responders pushed by hand, probed by a real probe pool
 * against closed ports of 127.0.0.1 (refused at once; no namespace and no
 * raw socket needed), results written to a FILE. Built also under
 * ThreadSanitizer (tests/run-all.sh), which is what the threaded cases are
 * for.
 *
 * Linked with -Wl,--wrap=record_to_json: the pipeline's call goes to
 * __wrap_record_to_json below, which can fail on purpose.
 */
#include "lib/record.h"
#include "tools/pipeline/pipeline.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

char *__real_record_to_json(const struct probe_result *r, enum record_certs certs,
                            const char *extra, size_t *length);

/* How many of the next calls fail (as out of memory would), and whether the
 * failing calls first wait for each other. */
static atomic_int fail_calls;
static bool fail_together;
static atomic_int arrived;

/* The failing calls meet here before returning, so that their callers go
 * on at the same moment on different threads. Relaxed atomics on purpose:
 * they make no happens-before edge, so ThreadSanitizer sees exactly the
 * synchronisation the pipeline itself has. Gives up after 2 s. */
static void meet(int expected)
{
    atomic_fetch_add_explicit(&arrived, 1, memory_order_relaxed);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (atomic_load_explicit(&arrived, memory_order_relaxed) < expected &&
             now.tv_sec - start.tv_sec < 2);
}

char *__wrap_record_to_json(const struct probe_result *r, enum record_certs certs,
                            const char *extra, size_t *length)
{
    if (atomic_fetch_sub_explicit(&fail_calls, 1, memory_order_relaxed) > 0) {
        if (fail_together)
            meet(2);
        return NULL;
    }
    return __real_record_to_json(r, certs, extra, length);
}

/* A port of 127.0.0.1 nothing listens on (bound, never listened: refused). */
static uint16_t closed_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t length = sizeof(sa);
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&sa, &length), 0);
    return ntohs(sa.sin_port);
}

/* The same on ::1; 0 where this namespace has no IPv6 loopback. */
static uint16_t closed_port6(int *fd)
{
    *fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t length = sizeof(sa);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        getsockname(*fd, (struct sockaddr *)&sa, &length)) {
        if (*fd >= 0)
            close(*fd);
        return closed_port(fd);
    }
    return ntohs(sa.sin6_port);
}

struct run {
    char *text;
    size_t size;
    int rc;
    char err[KS_ERRLEN];
    uint64_t probed, handled;
};

/* Pushes `count` responders (closed ports) through a pipeline with a pool
 * of `threads` workers and finishes it. */
static void run_pipeline(unsigned threads, unsigned count, struct run *out)
{
    struct probe_config pc = {.threads = threads, .concurrency = threads * 4};
    memset(out, 0, sizeof(*out));
    FILE *file = open_memstream(&out->text, &out->size);
    assert_non_null(file);
    int fds[64];
    assert_true(count <= 64);
    struct scan_pipeline *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    char err[KS_ERRLEN];
    struct pipeline_config cfg = {.out = file, .format = PIPELINE_JSONL, .probe = &pc};
    assert_int_equal(scan_pipeline_start(p, &cfg, err), 0);
    /* every other responder IPv6, where ::1 exists */
    struct net_addr lo4 = net_addr_ipv4(INADDR_LOOPBACK), lo6;
    assert_int_equal(net_addr_parse("::1", &lo6), 0);
    for (unsigned i = 0; i < count; i++) {
        uint16_t port = i % 2 ? closed_port6(&fds[i]) : closed_port(&fds[i]);
        struct sockaddr_storage bound;
        socklen_t length = sizeof(bound);
        assert_int_equal(getsockname(fds[i], (struct sockaddr *)&bound, &length), 0);
        assert_true(scan_pipeline_push(p, bound.ss_family == AF_INET6 ? &lo6 : &lo4, port));
    }
    out->rc = scan_pipeline_finish(p, out->err);
    out->probed = atomic_load(&p->probed);
    out->handled = scan_pipeline_handled(p);
    scan_pipeline_free(p);
    free(p);
    for (unsigned i = 0; i < count; i++)
        close(fds[i]);
    fclose(file);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; text && *text; text++)
        n += *text == '\n';
    return n;
}

static bool have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return have;
}

/* Every responder probed, one JSON line each, every one handled; IPv4 and
 * IPv6 responders alike. */
static void test_every_responder_written(void **state)
{
    (void)state;
    struct run run;
    run_pipeline(2, 20, &run);
    assert_int_equal(run.rc, 0);
    assert_int_equal(run.probed, 20);
    assert_int_equal(run.handled, 20);
    assert_int_equal(count_lines(run.text), 20);
    const char *at = run.text;
    size_t refused = 0;
    while ((at = strstr(at, "\"outcome\":\"refused\"")))
        refused++, at++;
    assert_int_equal(refused, 20);
    assert_non_null(strstr(run.text, "{\"addr\":\"127.0.0.1\","));
    if (have_ipv6_loopback())
        assert_non_null(strstr(run.text, "{\"addr\":\"::1\","));
    free(run.text);
}

/* A record that cannot be written as JSON fails the run (not silently
 * dropped), and two such failures at the same moment on two worker
 * threads are no data race (out_failed is guarded by out_lock). */
static void test_unwritable_records_fail_the_run(void **state)
{
    (void)state;
    atomic_store(&fail_calls, 2);
    atomic_store(&arrived, 0);
    fail_together = true;
    struct run run;
    run_pipeline(2, 2, &run);
    fail_together = false;
    assert_int_equal(run.rc, -1);
    assert_non_null(strstr(run.err, "writing results failed"));
    assert_int_equal(run.probed, 2);
    assert_int_equal(run.handled, 2);
    assert_int_equal(count_lines(run.text), 0);
    free(run.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_responder_written),
        cmocka_unit_test(test_unwritable_records_fail_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
