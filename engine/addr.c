/*
 * addr.c - the engine's address base: IPv6 addresses as 128-bit integers
 * and back, and the token of a list file's line (struct net_addr and its
 * text are lib/addr.h's). targets.c (address lists) and hitlist.c
 * (--hitlist) both stand on it, so neither needs the other.
 */
#include "engine/engine.h"
#include "engine/internal.h"

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
