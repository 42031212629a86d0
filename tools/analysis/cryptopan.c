/*
 * cryptopan.c - prefix-preserving address anonymisation, Crypto-PAn (J. Xu,
 * J. Fan, M. Ammar, S. Moon, "Prefix-preserving IP address anonymization",
 * ICNP 2002), with AES-128 through OpenSSL EVP as in the reference code.
 *
 * Bit i of the output is bit i of the input XOR the first bit of
 * AES_K(first i bits of the input, then bits i.. of a secret 128-bit pad),
 * so the output's first k bits depend only on the input's first k bits.
 * The reference code is IPv4 only; for IPv6 the same block is built over
 * 128 bits, as keiichishima/yacryptopan (yacryptopan.py, anonymize_bin,
 * commit 0c87ff5) and Yawning/cryptopan (cryptopan.go, anonymize, commit
 * 55312e4) do: their published IPv6 outputs are the known answers of
 * tests/tools/test_cryptopan.c. An IPv4 address is then the 128-bit
 * construction over its 32 bits, which is why one loop serves both widths.
 */
#include "tools/analysis/analysis.h"
#include "lib/bytes.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cryptopan {
    EVP_CIPHER_CTX *ctx;
    uint8_t pad[16];       /* AES_K(second half of the key) */
    /* The previous address and its flip bits: flip bit i depends only on
     * the first i bits of the address (whatever its width), so an address
     * sharing k leading bits with the previous one reuses flip bits 0..k
     * (exports walk addresses in order, so most AES operations are saved). */
    uint8_t last_addr[16], last_flips[16];
    int last_bits;         /* flip bits of last_flips computed (0: none) */
};

static int aes_block(EVP_CIPHER_CTX *ctx, const uint8_t in[16], uint8_t out[16])
{
    int len = 0;
    return EVP_EncryptUpdate(ctx, out, &len, in, 16) == 1 && len == 16 ? 0 : -1;
}

int cryptopan_new(struct cryptopan **out, const uint8_t key[32], char *err)
{
    struct cryptopan *cp = calloc(1, sizeof(*cp));
    if (!cp || !(cp->ctx = EVP_CIPHER_CTX_new())) {
        free(cp);
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    if (EVP_EncryptInit_ex(cp->ctx, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(cp->ctx, 0) != 1 || aes_block(cp->ctx, key + 16, cp->pad) != 0) {
        snprintf(err, KS_ERRLEN, "AES-128 initialisation failed");
        cryptopan_free(cp);
        return -1;
    }
    *out = cp;
    return 0;
}

int cryptopan_load_key(const char *path, uint8_t key[32], char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    uint8_t buf[33];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (n != 32) {
        snprintf(err, KS_ERRLEN,
                 "%s: a Crypto-PAn key file must hold exactly 32 bytes (found %s%zu); make one "
                 "with: head -c 32 /dev/urandom > %s",
                 path, n > 32 ? "more than " : "", n > 32 ? (size_t)32 : n, path);
        return -1;
    }
    memcpy(key, buf, 32);
    return 0;
}

static int get_bit(const uint8_t *bytes, int i)
{
    return bytes[i / 8] >> (7 - i % 8) & 1;
}

static void put_bit(uint8_t *bytes, int i, int bit)
{
    uint8_t mask = (uint8_t)(0x80 >> (i % 8));
    bytes[i / 8] = (uint8_t)(bit ? bytes[i / 8] | mask : bytes[i / 8] & ~mask);
}

/* Leading bits a and b share, at most `bits`. */
static int common_bits(const uint8_t *a, const uint8_t *b, int bits)
{
    int i = 0;
    while (i + 8 <= bits && a[i / 8] == b[i / 8])
        i += 8;
    while (i < bits && get_bit(a, i) == get_bit(b, i))
        i++;
    return i;
}

/* The first `bits` bits of addr (a multiple of 8: 32 or 128) XOR their flip
 * bits, into out. */
static void anonymize_bits(struct cryptopan *cp, const uint8_t *addr, uint8_t *out, int bits)
{
    int pos = 0;
    if (cp->last_bits > 0) {
        /* flip bit i is reusable when bits 0..i-1 are shared (i <= common) */
        int common = common_bits(addr, cp->last_addr, bits);
        pos = common + 1 < cp->last_bits ? common + 1 : cp->last_bits;
    }
    uint8_t block[16], enc[16];
    memcpy(block, cp->pad, 16);
    for (int i = 0; i < pos && i < bits; i++)
        put_bit(block, i, get_bit(addr, i));
    for (; pos < bits; pos++) {
        if (aes_block(cp->ctx, block, enc) != 0)
            abort(); /* cannot fail for ECB on whole blocks once initialised */
        put_bit(cp->last_flips, pos, enc[0] >> 7);
        put_bit(block, pos, get_bit(addr, pos)); /* the next block has one more address bit */
    }
    memcpy(cp->last_addr, addr, (size_t)bits / 8);
    cp->last_bits = bits;
    for (int i = 0; i < bits / 8; i++)
        out[i] = addr[i] ^ cp->last_flips[i];
}

uint32_t cryptopan_anonymize(struct cryptopan *cp, uint32_t addr)
{
    uint8_t in[4], out[4];
    be32_put(in, addr);
    anonymize_bits(cp, in, out, 32);
    return be32_get(out);
}

void cryptopan_anonymize6(struct cryptopan *cp, const uint8_t in[16], uint8_t out[16])
{
    anonymize_bits(cp, in, out, 128);
}

void cryptopan_anonymize_addr(struct cryptopan *cp, enum probe_family family,
                              const uint8_t in[16], uint8_t out[16])
{
    if (family == PROBE_FAMILY_IPV6) {
        anonymize_bits(cp, in, out, 128);
        return;
    }
    anonymize_bits(cp, in, out, 32);
    memset(out + 4, 0, 12);
}

void cryptopan_free(struct cryptopan *cp)
{
    if (!cp)
        return;
    EVP_CIPHER_CTX_free(cp->ctx);
    free(cp);
}
