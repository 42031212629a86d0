/*
 * bytes.h - big-endian (network order) integers in byte arrays: the store's
 * keys and record fields, packet headers, Crypto-PAn's blocks. Byte by
 * byte, so any alignment and any host order work.
 */
#ifndef KS_LIB_BYTES_H
#define KS_LIB_BYTES_H

#include <stdint.h>

static inline void be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint16_t be16_get(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
    be16_put(p, (uint16_t)(v >> 16));
    be16_put(p + 2, (uint16_t)v);
}

static inline uint32_t be32_get(const uint8_t *p)
{
    return (uint32_t)be16_get(p) << 16 | be16_get(p + 2);
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
    be32_put(p, (uint32_t)(v >> 32));
    be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t be64_get(const uint8_t *p)
{
    return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

#endif
