/*
 * addr.c - the address of either family (addr.h).
 */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct net_addr net_addr_ipv4(uint32_t addr)
{
    struct net_addr a = {.family = AF_INET};
    a.bytes[0] = (uint8_t)(addr >> 24);
    a.bytes[1] = (uint8_t)(addr >> 16);
    a.bytes[2] = (uint8_t)(addr >> 8);
    a.bytes[3] = (uint8_t)addr;
    return a;
}

struct net_addr net_addr_ipv6(const uint8_t bytes[16])
{
    struct net_addr a = {.family = AF_INET6};
    memcpy(a.bytes, bytes, 16);
    return a;
}

bool net_addr_is_ipv4(const struct net_addr *a)
{
    return a->family != AF_INET6;
}

uint32_t net_addr_ipv4_value(const struct net_addr *a)
{
    if (!net_addr_is_ipv4(a))
        return 0;
    return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
           (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

int net_addr_cmp(const struct net_addr *a, const struct net_addr *b)
{
    bool a4 = net_addr_is_ipv4(a), b4 = net_addr_is_ipv4(b);
    if (a4 != b4)
        return a4 ? -1 : 1;
    return memcmp(a->bytes, b->bytes, a4 ? 4 : 16);
}

struct net_endpoint net_endpoint_key(const struct net_addr *addr, uint16_t port)
{
    struct net_endpoint e;
    memset(&e, 0, sizeof(e));
    e.addr = net_addr_is_ipv4(addr) ? net_addr_ipv4(net_addr_ipv4_value(addr)) : *addr;
    e.port = port;
    return e;
}

char *net_addr_text(const struct net_addr *a, char out[NET_ADDR_TEXT_MAX])
{
    /* glibc's inet_ntop writes RFC 5952's form: lower case, the longest
     * run of two or more zero groups compressed, the first if tied. */
    if (!inet_ntop(net_addr_is_ipv4(a) ? AF_INET : AF_INET6, a->bytes, out, NET_ADDR_TEXT_MAX))
        snprintf(out, NET_ADDR_TEXT_MAX, "?");
    return out;
}

char *net_endpoint_text(const struct net_addr *a, uint16_t port, char out[NET_ENDPOINT_TEXT_MAX])
{
    char text[NET_ADDR_TEXT_MAX];
    net_addr_text(a, text);
    snprintf(out, NET_ENDPOINT_TEXT_MAX, net_addr_is_ipv4(a) ? "%s:%u" : "[%s]:%u", text,
             (unsigned)port);
    return out;
}

int net_addr_parse(const char *text, struct net_addr *out)
{
    struct net_addr a = {.family = AF_INET};
    if (inet_pton(AF_INET, text, a.bytes) != 1) {
        a.family = AF_INET6;
        if (inet_pton(AF_INET6, text, a.bytes) != 1)
            return -1;
    }
    *out = a;
    return 0;
}

static int parse_port(const char *text, uint16_t *port)
{
    char *end;
    if (*text < '0' || *text > '9')
        return -1;
    unsigned long p = strtoul(text, &end, 10);
    if (*end || p == 0 || p > 65535)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

/* Parses the first length bytes of text as an address. */
static int parse_part(const char *text, size_t length, struct net_addr *addr)
{
    char host[NET_ADDR_TEXT_MAX];
    if (length >= sizeof(host))
        return -1;
    memcpy(host, text, length);
    host[length] = '\0';
    return net_addr_parse(host, addr);
}

int net_endpoint_parse(const char *text, struct net_addr *addr, uint16_t *port)
{
    *port = 0;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || parse_part(text + 1, (size_t)(close - text - 1), addr) ||
            net_addr_is_ipv4(addr))
            return -1;
        if (close[1] == '\0')
            return 0;
        return close[1] == ':' ? parse_port(close + 2, port) : -1;
    }
    const char *colon = strchr(text, ':');
    if (colon && strchr(colon + 1, ':'))   /* a bare IPv6 address */
        return net_addr_parse(text, addr) || net_addr_is_ipv4(addr) ? -1 : 0;
    if (parse_part(text, colon ? (size_t)(colon - text) : strlen(text), addr) ||
        !net_addr_is_ipv4(addr))
        return -1;
    return colon ? parse_port(colon + 1, port) : 0;
}
