/*
 * random_record.h - random probe results for property tests (the record
 * codec, merge): reproducible from `rng`, which the test seeds per case.
 * Static functions: each test program has its own generator.
 */
#ifndef KS_TESTS_RANDOM_RECORD_H
#define KS_TESTS_RANDOM_RECORD_H

#include "lib/record.h"

#include <stdint.h>
#include <stdlib.h>

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

/* An address: IPv4 three times in four, else IPv6 (any 128 bits). */
static struct net_addr random_addr(void)
{
    if (below(4))
        return net_addr_ipv4((uint32_t)next_random());
    uint8_t bytes[16];
    uint64_t high = next_random(), low = next_random();
    for (int i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(high >> (8 * i));
        bytes[8 + i] = (uint8_t)(low >> (8 * i));
    }
    return net_addr_ipv6(bytes);
}

/* Every field random; chain entries get a length of 1..max_cert_length and
 * a random SHA-256 but no DER (the caller adds DER where it needs it). */
static void random_record(struct probe_result *r, uint32_t max_cert_length)
{
    probe_result_init(r);
    r->addr = random_addr();
    r->port = (uint16_t)next_random();
    r->started_ms = (int64_t)next_random();
    r->duration_ms = (uint32_t)next_random();
    r->outcome = (enum probe_outcome)below(PROBE_OUTCOME_COUNT);
    r->tls_done = below(2);
    r->chain_truncated = below(2);
    r->body_truncated = below(2);
    r->chain_length = below(PROBE_CHAIN_MAX + 1);
    for (size_t i = 0; i < r->chain_length; i++) {
        r->chain[i].length = 1 + below(max_cert_length);
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
    r->all_ports_open = below(2);
    r->tls_cert_requested = below(2);
}

#endif
