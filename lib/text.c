/*
 * text.c - the IPv4 and hex text forms of text.h.
 */
#include "lib/text.h"

char *ipv4_text(uint32_t addr, char out[16])
{
    char *p = out;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned v = addr >> shift & 255;
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = shift ? '.' : '\0';
    }
    return out;
}

char *hex_text(const uint8_t *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}
