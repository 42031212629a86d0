/*
 * permutation.c - the probing order and its division among shards/threads.
 *
 * Why a Feistel network: it gives a bijection of [0, n) for any n with O(1)
 * work per step and no memory, and it is easy to see why it is one.
 *
 * Write x in [0, a*b) as the pair (L, R) = (x mod a, x div a), with
 * a = ceil(sqrt(n)) and b = ceil(n / a), so a*b - n < a. Each round adds a
 * keyed function of one half to the other half, modulo that half's size:
 *
 *     even rounds: L := (L + F(k, R)) mod a
 *     odd rounds:  R := (R + F(k, L)) mod b
 *
 * Every round is invertible (subtract instead of add), so their composition
 * permutes [0, a*b). Values that land in [n, a*b) are encrypted again ("cycle
 * walking"): following the permutation's cycle from x until it re-enters
 * [0, n) maps [0, n) onto itself one-to-one. Since a*b - n < a <= sqrt(n)+1,
 * a second step is rarely needed.
 *
 * F is a 64-bit mixing function (the splitmix64 finaliser) of the round key
 * and the half: not cryptographic, but the order only has to spread load
 * over networks, and it must be cheap at millions of packets a second.
 */
#include "engine/engine.h"

#include <math.h>

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void permutation_init(struct permutation *perm, uint64_t n, uint64_t seed)
{
    perm->n = n ? n : 1;
    uint64_t a = (uint64_t)ceil(sqrt((double)perm->n));
    while (a > 1 && (a - 1) * (a - 1) >= perm->n) /* correct floating-point error */
        a--;
    while (a * a < perm->n)
        a++;
    perm->a = a;
    perm->b = (perm->n + a - 1) / a;
    uint64_t state = seed;
    for (int i = 0; i < PERMUTATION_ROUNDS; i++) {
        state += 0x9e3779b97f4a7c15ULL;
        perm->keys[i] = mix64(state);
    }
}

static uint64_t feistel(const struct permutation *perm, uint64_t x)
{
    uint64_t left = x % perm->a, right = x / perm->a;
    for (int i = 0; i < PERMUTATION_ROUNDS; i++) {
        if (i % 2 == 0)
            left = (left + mix64(perm->keys[i] ^ right) % perm->a) % perm->a;
        else
            right = (right + mix64(perm->keys[i] ^ left) % perm->b) % perm->b;
    }
    return left + perm->a * right;
}

uint64_t permutation_apply(const struct permutation *perm, uint64_t x)
{
    do
        x = feistel(perm, x);
    while (x >= perm->n);
    return x;
}

uint64_t scan_walk_length(uint64_t n, uint64_t offset, uint64_t stride)
{
    if (offset >= n)
        return 0;
    return (n - offset - 1) / stride + 1;
}

void scan_walk_init(struct scan_walk *walk, const struct permutation *perm, uint64_t offset,
                    uint64_t stride, uint64_t limit)
{
    walk->perm = perm;
    walk->next = offset;
    walk->stride = stride ? stride : 1;
    uint64_t length = scan_walk_length(perm->n, offset, walk->stride);
    walk->remaining = (limit && limit < length) ? limit : length;
}

void scan_walk_init_thread(struct scan_walk *walk, const struct permutation *perm,
                           uint32_t shard, uint32_t shards, uint32_t thread, uint32_t threads,
                           uint64_t start, uint64_t max_targets)
{
    uint64_t stride = (uint64_t)shards * threads;
    uint64_t share = max_targets / threads + (thread < max_targets % threads ? 1 : 0);
    scan_walk_init(walk, perm, shard + (uint64_t)shards * thread + start * stride, stride,
                   share);
    if (max_targets && share == 0) /* a limit of 0 would mean "no limit" */
        walk->remaining = 0;
}

bool scan_walk_next(struct scan_walk *walk, uint64_t *index)
{
    if (walk->remaining == 0)
        return false;
    walk->remaining--;
    *index = permutation_apply(walk->perm, walk->next);
    walk->next += walk->stride;
    return true;
}
