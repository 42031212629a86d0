/*
 * addr.c - the engine's address base: IPv6 addresses as 128-bit integers
 * and back, the two-family struct net_addr and its text, and the token of a
 * list file's line. targets.c (address lists) and hitlist.c (--hitlist)
 * both stand on it, so neither needs the other.
 */
#include "engine/engine.h"
#include "engine/internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

ip6_int ip6_from_bytes(const uint8_t bytes[16])
{
    ip6_int v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | bytes[i];
    return v;
}

void ip6_to_bytes(ip6_int v, uint8_t bytes[16])
{
    for (int i = 15; i >= 0; i--, v >>= 8)
        bytes[i] = (uint8_t)v;
}

struct net_addr net_addr_ipv4(uint32_t addr)
{
    struct net_addr a = {.family = AF_INET};
    uint32_t be = htonl(addr);
    memcpy(a.bytes, &be, 4);
    return a;
}

char *net_addr_text(const struct net_addr *a, char out[NET_ADDR_TEXT_MAX])
{
    /* glibc's inet_ntop writes RFC 5952's form: lower case, the longest
     * run of two or more zero groups compressed, the first if tied. */
    if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->bytes, out,
                   NET_ADDR_TEXT_MAX))
        snprintf(out, NET_ADDR_TEXT_MAX, "?");
    return out;
}

/* Strips a comment and surrounding blanks in place; returns the token. */
char *line_token(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    char *end = line + strlen(line);
    while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
                          end[-1] == '\r'))
        *--end = '\0';
    return line;
}
