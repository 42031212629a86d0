/*
 * test_properties.c - properties of the scan order that must never drift,
 * checked on random inputs (many seeds, reproducible: the seed of a failing
 * case is printed). For random allowlists, blocklists, port lists, seeds,
 * shard counts and sender threads, the walks of every shard and thread
 * together (the order --dry-run prints and the senders follow):
 *   - never yield a blocked address, a port not asked for, or an address
 *     outside the allowlist;
 *   - yield every allowed (address, port) exactly once;
 *   - map back to their index (target_space_index is the inverse).
 * The expected set is computed by brute force over the addresses, not with
 * the engine's range arithmetic.
 */
#include "engine/engine.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CASES 1000
#define BASE 0xC6120000u   /* 198.18.0.0: the region the random lists live in */
#define SPAN 4096u         /* addresses of the region */

static uint64_t rng;

static uint32_t next_random(void)
{
    /* splitmix64: independent of the code under test */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t below(uint32_t n)
{
    return next_random() % n;
}

/* 1..max random ranges inside the region. */
static void random_list(struct ip_list *list, unsigned max)
{
    char err[KS_ERRLEN];
    ip_list_init(list);
    unsigned n = 1 + below(max);
    for (unsigned i = 0; i < n; i++) {
        uint32_t first = BASE + below(SPAN), length = 1 + below(below(2) ? 16 : 700);
        uint32_t last = first + length - 1 < BASE + SPAN - 1 ? first + length - 1 : BASE + SPAN - 1;
        assert_int_equal(ip_list_add_range(list, first, last, err), 0);
    }
    ip_list_normalize(list);
}

/* The brute-force model: is addr allowed? */
static bool in_list(const struct ip_list *list, uint32_t addr)
{
    for (size_t i = 0; i < list->count; i++)
        if (addr >= list->ranges[i].first && addr <= list->ranges[i].last)
            return true;
    return false;
}

static void one_case(uint64_t case_seed)
{
    char err[KS_ERRLEN];
    rng = case_seed;
    struct ip_list allow, block;
    random_list(&allow, 4);
    random_list(&block, 4);
    uint16_t wanted[4];
    unsigned nports = 1 + below(4);
    char ports_text[64] = "";
    for (unsigned i = 0; i < nports; i++) {
        wanted[i] = (uint16_t)(1 + below(65535));
        snprintf(ports_text + strlen(ports_text), sizeof(ports_text) - strlen(ports_text), "%s%u",
                 i ? "," : "", wanted[i]);
    }
    struct port_list ports;
    assert_int_equal(port_list_parse(&ports, ports_text, err), 0);
    struct target_space *space = calloc(1, sizeof(*space));
    assert_non_null(space);
    int rc = target_space_init(space, &allow, &block, &ports, err);
    /* the model: allowed addresses x distinct ports */
    uint64_t allowed = 0;
    for (uint32_t a = BASE; a < BASE + SPAN; a++)
        allowed += in_list(&allow, a) && !in_list(&block, a);
    if (allowed == 0) {
        /* nothing left to scan is refused, not walked */
        assert_int_equal(rc, -1);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(space->size, allowed * ports.count);
        uint32_t shards = 1 + below(5), threads = 1 + below(3);
        struct permutation perm;
        permutation_init(&perm, space->size, ((uint64_t)next_random() << 32) | next_random());
        uint8_t *seen = calloc(space->size, 1);
        assert_non_null(seen);
        uint64_t total = 0;
        for (uint32_t s = 0; s < shards; s++)
            for (uint32_t t = 0; t < threads; t++) {
                struct scan_walk w;
                scan_walk_init_thread(&w, &perm, s, shards, t, threads, 0, 0);
                uint64_t index;
                while (scan_walk_next(&w, &index)) {
                    uint32_t addr;
                    uint16_t port;
                    target_space_at(space, index, &addr, &port);
                    if (!in_list(&allow, addr) || in_list(&block, addr))
                        fail_msg("case %llu: %08x not allowed or blocked",
                                 (unsigned long long)case_seed, addr);
                    bool port_ok = false;
                    for (unsigned i = 0; i < nports; i++)
                        port_ok |= wanted[i] == port;
                    if (!port_ok)
                        fail_msg("case %llu: port %u not asked for", (unsigned long long)case_seed,
                                 port);
                    uint64_t back;
                    assert_true(target_space_index(space, addr, port, &back));
                    assert_int_equal(back, index);
                    if (seen[index]++)
                        fail_msg("case %llu: %08x:%u yielded twice", (unsigned long long)case_seed,
                                 addr, port);
                    total++;
                }
            }
        if (total != space->size)
            fail_msg("case %llu: %llu of %llu targets yielded", (unsigned long long)case_seed,
                     (unsigned long long)total, (unsigned long long)space->size);
        free(seen);
        target_space_free(space);
    }
    free(space);
    port_list_free(&ports);
    ip_list_free(&allow);
    ip_list_free(&block);
}

static void test_random_orders(void **state)
{
    (void)state;
    for (uint64_t c = 1; c <= CASES; c++)
        one_case(c * 0x2545F4914F6CDD1DULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
