/*
 * cookie.c - the keyed cookie that makes the scanner stateless.
 *
 * A probe's sequence number and source port are both taken from
 * SipHash-2-4(key, saddr || daddr || dport), 4-byte addresses for IPv4 and
 * 16-byte ones for IPv6. A SYN-ACK is ours only if it
 * comes from a target, to the source port we would have used for it, and
 * acknowledges seq + 1. Without the key an off-path host cannot forge one;
 * with it we need no per-target state. SipHash-2-4 is implemented here from
 * its paper (Aumasson and Bernstein, 2012): 30 lines, no library call per
 * packet.
 */
#include "engine/engine.h"

#include <arpa/inet.h>

#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                   \
    do {                                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                  \
    } while (0)

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t siphash24(const struct cookie_key *key, const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
    uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static struct syn_cookie cookie_of_hash(uint64_t h, const struct sport_range *sports)
{
    struct syn_cookie c;
    c.seq = (uint32_t)h;
    c.sport = (uint16_t)(sports->first + (uint16_t)((h >> 32) % sports->count));
    return c;
}

struct syn_cookie syn_cookie_make(const struct cookie_key *key,
                                  const struct sport_range *sports, uint32_t saddr,
                                  uint32_t daddr, uint16_t dport)
{
    uint8_t msg[10];
    memcpy(msg, &saddr, 4);
    memcpy(msg + 4, &daddr, 4);
    memcpy(msg + 8, &dport, 2);
    return cookie_of_hash(siphash24(key, msg, sizeof(msg)), sports);
}

struct syn_cookie syn_cookie_make_addr(const struct cookie_key *key,
                                       const struct sport_range *sports,
                                       const struct net_addr *saddr,
                                       const struct net_addr *daddr, uint16_t dport)
{
    if (daddr->family != AF_INET6) {
        uint32_t s, d;
        memcpy(&s, saddr->bytes, 4);
        memcpy(&d, daddr->bytes, 4);
        return syn_cookie_make(key, sports, ntohl(s), ntohl(d), dport);
    }
    uint8_t msg[34];
    memcpy(msg, saddr->bytes, 16);
    memcpy(msg + 16, daddr->bytes, 16);
    memcpy(msg + 32, &dport, 2);
    return cookie_of_hash(siphash24(key, msg, sizeof(msg)), sports);
}

uint16_t syn_cookie_sport(const struct syn_cookie *c, const struct sport_range *sports,
                          uint32_t k)
{
    uint32_t offset = (uint32_t)(c->sport - sports->first) + k;
    return (uint16_t)(sports->first + offset % sports->count);
}

/* k if (sport, ack) answers probe k < probes of cookie c, else -1. */
static int probe_of_reply(struct syn_cookie c, const struct sport_range *sports,
                          uint16_t sport, uint32_t ack, uint32_t probes)
{
    if (c.seq + 1 != ack || sport < sports->first ||
        (uint32_t)(sport - sports->first) >= sports->count)
        return -1;
    uint32_t got = (uint32_t)(sport - sports->first), first = (uint32_t)(c.sport - sports->first);
    uint32_t k = (got + sports->count - first) % sports->count;
    return k < probes ? (int)k : -1;
}

int syn_cookie_probe(const struct cookie_key *key, const struct sport_range *sports,
                     uint32_t saddr, uint32_t daddr, uint16_t dport, uint16_t sport,
                     uint32_t ack, uint32_t probes)
{
    return probe_of_reply(syn_cookie_make(key, sports, saddr, daddr, dport), sports, sport,
                          ack, probes);
}

int syn_cookie_probe_addr(const struct cookie_key *key, const struct sport_range *sports,
                          const struct net_addr *saddr, const struct net_addr *daddr,
                          uint16_t dport, uint16_t sport, uint32_t ack, uint32_t probes)
{
    return probe_of_reply(syn_cookie_make_addr(key, sports, saddr, daddr, dport), sports,
                          sport, ack, probes);
}

bool syn_cookie_valid(const struct cookie_key *key, const struct sport_range *sports,
                      uint32_t saddr, uint32_t daddr, uint16_t dport, uint16_t sport,
                      uint32_t ack)
{
    return syn_cookie_probe(key, sports, saddr, daddr, dport, sport, ack, 1) == 0;
}
