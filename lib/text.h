/*
 * text.h - the text forms every module prints the same way: an IPv4
 * address and bytes in hex.
 */
#ifndef KS_LIB_TEXT_H
#define KS_LIB_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The dotted quad of a host-order IPv4 address ("192.0.2.1"), NUL-terminated
 * in out (16 bytes hold the longest); returns out. */
char *ipv4_text(uint32_t addr, char out[16]);

/* The n bytes of data as 2n lowercase hex digits and a NUL in out (2n + 1
 * bytes); returns out. */
char *hex_text(const uint8_t *data, size_t n, char *out);

#endif
