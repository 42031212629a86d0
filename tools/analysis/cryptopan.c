/*
 * cryptopan.c - prefix-preserving IPv4 anonymisation, Crypto-PAn (J. Xu,
 * J. Fan, M. Ammar, S. Moon, "Prefix-preserving IP address anonymization",
 * ICNP 2002), with AES-128 through OpenSSL EVP as in the reference code.
 *
 * Bit i of the output is bit i of the input XOR the first bit of
 * AES_K(first i bits of the input, then the rest of a secret pad), so the
 * output's first k bits depend only on the input's first k bits.
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
    uint32_t pad_prefix;   /* first 4 bytes of pad, big-endian */
    /* The previous address and its flip bits: flip bit i depends only on
     * the first i bits of the address, so an address sharing k leading bits
     * with the previous one reuses bits 0..k (exports walk addresses in
     * order, so most of the 32 AES operations are saved). */
    bool have_last;
    uint32_t last_addr, last_flips;
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
    cp->pad_prefix = be32_get(cp->pad);
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

uint32_t cryptopan_anonymize(struct cryptopan *cp, uint32_t addr)
{
    uint8_t in[16], out[16];
    uint32_t flips = 0;
    int pos = 0;
    if (cp->have_last) {
        uint32_t differ = addr ^ cp->last_addr;
        int common = differ ? __builtin_clz(differ) : 32; /* leading bits shared */
        if (common >= 31) { /* every flip bit depends on shared bits only */
            cp->last_addr = addr;
            return addr ^ cp->last_flips;
        }
        /* bits 0..common depend on prefixes of length <= common: reuse */
        pos = common + 1;
        flips = cp->last_flips & ~(0xffffffffu >> pos);
    }
    memcpy(in, cp->pad, 16);
    for (; pos < 32; pos++) {
        uint32_t keep = pos == 0 ? 0 : (addr >> (32 - pos)) << (32 - pos);
        uint32_t fill = pos == 0 ? cp->pad_prefix : (cp->pad_prefix << pos) >> pos;
        uint32_t block = keep | fill;
        be32_put(in, block);
        if (aes_block(cp->ctx, in, out) != 0)
            abort(); /* cannot fail for ECB on whole blocks once initialised */
        flips |= (uint32_t)(out[0] >> 7) << (31 - pos);
    }
    cp->have_last = true;
    cp->last_addr = addr;
    cp->last_flips = flips;
    return addr ^ flips;
}

void cryptopan_free(struct cryptopan *cp)
{
    if (!cp)
        return;
    EVP_CIPHER_CTX_free(cp->ctx);
    free(cp);
}
