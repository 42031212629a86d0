/*
 * hashset.c - a set of SHA-256 hashes (open addressing, linear probing; an
 * all-zero slot is empty). The writer's cache of certificates the store
 * has: a miss only costs an LMDB lookup, so the set stops growing at
 * HASHSET_MAX_ENTRIES and tolerates failed allocations.
 */
#include "storage/internal.h"

#include <stdlib.h>
#include <string.h>

#define HASHSET_MAX_ENTRIES (1u << 20)   /* beyond that, ask LMDB instead */

static const uint8_t zero_hash[32];

static size_t hashset_slot(const struct hashset *set, const uint8_t h[32])
{
    uint64_t x;
    memcpy(&x, h, 8);
    size_t i = (size_t)x & (set->capacity - 1);
    while (memcmp(set->slots[i], zero_hash, 32) && memcmp(set->slots[i], h, 32))
        i = (i + 1) & (set->capacity - 1);
    return i;
}

bool hashset_has(const struct hashset *set, const uint8_t h[32])
{
    return set->count && memcmp(set->slots[hashset_slot(set, h)], h, 32) == 0;
}

void hashset_add(struct hashset *set, const uint8_t h[32])
{
    if (!memcmp(h, zero_hash, 32) || set->count >= HASHSET_MAX_ENTRIES)
        return;
    if (2 * (set->count + 1) > set->capacity) {
        struct hashset bigger = {NULL, set->capacity ? set->capacity * 2 : 4096, 0};
        if (!(bigger.slots = calloc(bigger.capacity, 32)))
            return;   /* only a cache: LMDB still answers */
        for (size_t i = 0; i < set->capacity; i++)
            if (memcmp(set->slots[i], zero_hash, 32))
                memcpy(bigger.slots[hashset_slot(&bigger, set->slots[i])], set->slots[i], 32);
        bigger.count = set->count;
        free(set->slots);
        *set = bigger;
    }
    size_t i = hashset_slot(set, h);
    if (memcmp(set->slots[i], h, 32)) {
        memcpy(set->slots[i], h, 32);
        set->count++;
    }
}

void hashset_add_all(struct hashset *set, const struct hashset *from)
{
    for (size_t i = 0; i < from->capacity && from->count; i++)
        if (memcmp(from->slots[i], zero_hash, 32))
            hashset_add(set, from->slots[i]);
}

void hashset_clear(struct hashset *set)
{
    if (set->count)
        memset(set->slots, 0, set->capacity * 32);
    set->count = 0;
}

void hashset_free(struct hashset *set)
{
    free(set->slots);
    memset(set, 0, sizeof(*set));
}
