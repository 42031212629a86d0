/*
 * hashmap.h - one hash table for the whole code base: open addressing with
 * linear probing over fixed-size entries (a key of key_size bytes, then the
 * caller's value bytes), at most half full. An entry whose key bytes are
 * all zero is empty, so a caller whose keys can be all zero stores them
 * offset (key + 1) or tagged. Entries move when the table grows: a pointer
 * from hashmap_get/put stays valid only until the next put.
 *
 * Why not a packaged library: uthash (Debian's uthash-dev) chains one
 * malloc'ed item per key; the store writer's certificate set and the
 * receiver's de-duplication set see millions of keys per scan, where one
 * flat array is several times faster and smaller.
 */
#ifndef KS_LIB_HASHMAP_H
#define KS_LIB_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap {
    uint8_t *entries;        /* capacity * entry_size bytes */
    size_t key_size, entry_size;
    size_t capacity, count;  /* capacity: 0 or a power of two */
    size_t max_count;        /* 0 = unbounded; else puts of new keys beyond it fail */
};

/* An empty map (nothing allocated until the first put). key_size is 1..64. */
void hashmap_init(struct hashmap *m, size_t key_size, size_t value_size);
/* The entry (key, then value) of key, or NULL. */
void *hashmap_get(const struct hashmap *m, const void *key);
/* The entry of key, added with a zeroed value if missing (*added says
 * which, if not NULL). NULL when out of memory or past max_count (the map
 * is unchanged), or for an all-zero key. */
void *hashmap_put(struct hashmap *m, const void *key, bool *added);
/* Entry i (0 .. capacity-1) or NULL if empty: for walking every entry. */
void *hashmap_at(const struct hashmap *m, size_t i);
/* Empties the map, keeping its memory. */
void hashmap_clear(struct hashmap *m);
void hashmap_free(struct hashmap *m);

/* The value part of an entry. */
static inline void *hashmap_value(const struct hashmap *m, void *entry)
{
    return entry ? (uint8_t *)entry + m->key_size : NULL;
}

#endif
