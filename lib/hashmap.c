/*
 * hashmap.c - the open-addressing table of hashmap.h.
 */
#include "lib/hashmap.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t zero_key[64];

void hashmap_init(struct hashmap *m, size_t key_size, size_t value_size)
{
    memset(m, 0, sizeof(*m));
    m->key_size = key_size;
    /* entries stay 8-byte aligned for the values callers keep in them */
    m->entry_size = (key_size + value_size + 7) & ~(size_t)7;
}

/* The key bytes mixed 8 at a time (murmur3's finaliser per word): keys are
 * hashes already (SHA-256) or small packed integers, both fine with it. */
static uint64_t key_hash(const uint8_t *key, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t word = 0;
        memcpy(&word, key + i, n - i < 8 ? n - i : 8);
        h ^= word;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 33;
    }
    return h;
}

static uint8_t *entry(const struct hashmap *m, size_t i)
{
    return m->entries + i * m->entry_size;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct hashmap *m, const void *key)
{
    size_t mask = m->capacity - 1, i = (size_t)key_hash(key, m->key_size) & mask;
    while (memcmp(entry(m, i), zero_key, m->key_size) && memcmp(entry(m, i), key, m->key_size))
        i = (i + 1) & mask;
    return i;
}

void *hashmap_get(const struct hashmap *m, const void *key)
{
    if (!m->count)
        return NULL;
    uint8_t *e = entry(m, slot_of(m, key));
    return memcmp(e, key, m->key_size) ? NULL : e;
}

static int grow(struct hashmap *m)
{
    struct hashmap bigger = *m;
    bigger.capacity = m->capacity ? m->capacity * 2 : 64;
    if (!(bigger.entries = calloc(bigger.capacity, m->entry_size)))
        return -1;
    for (size_t i = 0; i < m->capacity; i++)
        if (memcmp(entry(m, i), zero_key, m->key_size))
            memcpy(entry(&bigger, slot_of(&bigger, entry(m, i))), entry(m, i), m->entry_size);
    free(m->entries);
    *m = bigger;
    return 0;
}

void *hashmap_put(struct hashmap *m, const void *key, bool *added)
{
    if (added)
        *added = false;
    if (!memcmp(key, zero_key, m->key_size))
        return NULL;
    uint8_t *e = m->count ? entry(m, slot_of(m, key)) : NULL;
    if (e && !memcmp(e, key, m->key_size))
        return e;
    if (m->max_count && m->count >= m->max_count)
        return NULL;
    if (2 * (m->count + 1) > m->capacity && grow(m) != 0)
        return NULL;
    e = entry(m, slot_of(m, key));
    memcpy(e, key, m->key_size);
    m->count++;
    if (added)
        *added = true;
    return e;
}

void *hashmap_at(const struct hashmap *m, size_t i)
{
    uint8_t *e = entry(m, i);
    return memcmp(e, zero_key, m->key_size) ? e : NULL;
}

void hashmap_clear(struct hashmap *m)
{
    if (m->count)
        memset(m->entries, 0, m->capacity * m->entry_size);
    m->count = 0;
}

void hashmap_free(struct hashmap *m)
{
    free(m->entries);
    size_t key_size = m->key_size, entry_size = m->entry_size, max_count = m->max_count;
    memset(m, 0, sizeof(*m));
    m->key_size = key_size;
    m->entry_size = entry_size;
    m->max_count = max_count;
}
