/*
 * addr.h - an address of either family (IPv4 or IPv6), defined once: the
 * engine reports responders with it, the record and the store hold it, the
 * commands parse and print it.
 *
 * Text forms: IPv6 as RFC 5952 ("2001:db8::1": lower case, the longest run
 * of zero groups compressed), IPv4 as the dotted quad; an endpoint as
 * "192.0.2.1:443" or "[2001:db8::1]:443" (RFC 3986's brackets).
 * Links nothing but libc.
 */
#ifndef KS_LIB_ADDR_H
#define KS_LIB_ADDR_H

#include <stdbool.h>
#include <stdint.h>

struct net_addr {
    uint8_t family;      /* AF_INET or AF_INET6 */
    uint8_t bytes[16];   /* network order; IPv4 uses the first 4, the rest are 0 */
};

#define NET_ADDR_TEXT_MAX 46      /* INET6_ADDRSTRLEN */
#define NET_ENDPOINT_TEXT_MAX 54  /* "[" address "]:" 5 digits NUL */

/* An IPv4 address given in host byte order. */
struct net_addr net_addr_ipv4(uint32_t addr);
/* An IPv6 address from its 16 bytes (network order). */
struct net_addr net_addr_ipv6(const uint8_t bytes[16]);
bool net_addr_is_ipv4(const struct net_addr *a);
/* The IPv4 address of a in host byte order (0 for an IPv6 address). */
uint32_t net_addr_ipv4_value(const struct net_addr *a);
/* Orders IPv4 before IPv6, then by address: <0, 0, >0. */
int net_addr_cmp(const struct net_addr *a, const struct net_addr *b);

/* An (address, port) as a fixed-size hash table key (lib/hashmap.h): the
 * padding zeroed by net_endpoint_key, never all zero (the family is set). */
struct net_endpoint {
    struct net_addr addr;
    uint16_t port;
};
struct net_endpoint net_endpoint_key(const struct net_addr *addr, uint16_t port);

/* The text form; returns out. */
char *net_addr_text(const struct net_addr *a, char out[NET_ADDR_TEXT_MAX]);
/* "a.b.c.d:port" or "[v6]:port"; returns out. */
char *net_endpoint_text(const struct net_addr *a, uint16_t port, char out[NET_ENDPOINT_TEXT_MAX]);

/* An address in any text form inet_pton takes (IPv6 in any case, written
 * out or compressed): 0, or -1 if text is not one. */
int net_addr_parse(const char *text, struct net_addr *out);
/* "ADDRESS", "ADDRESS:PORT", "IPV6", "[IPV6]" or "[IPV6]:PORT" (a bare IPv6
 * address has no port: its colons are its own). *port is 0 when the text
 * names none; a port given must be 1-65535. 0, or -1 if text is none of
 * these. */
int net_endpoint_parse(const char *text, struct net_addr *addr, uint16_t *port);

#endif
