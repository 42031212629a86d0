/*
 * fuzz_anon_key.c - the anonymisation key file (cryptopan_load_key: exactly
 * 32 bytes). It loads exactly when it holds 32 bytes; the key then
 * anonymises prefix-preservingly: two addresses taken from the input that
 * share their first k bits map to addresses sharing exactly k, for IPv4
 * and for IPv6 (addresses of 16 bytes, with the same key).
 */
#include "tests/fuzz/fuzz.h"
#include "tools/analysis/analysis.h"

#include <unistd.h>

static int common_bits(uint32_t a, uint32_t b)
{
    return a == b ? 32 : __builtin_clz(a ^ b);
}

static int common_bits6(const uint8_t a[16], const uint8_t b[16])
{
    int n = 0;
    while (n < 128 && ((a[n / 8] ^ b[n / 8]) & (0x80 >> (n % 8))) == 0)
        n++;
    return n;
}

/* The two halves of the key as IPv6 addresses, and neighbours of the first
 * (the last bit, and the bit the key's first byte picks, inverted). */
static void check_ipv6(struct cryptopan *cp, const uint8_t key[32])
{
    uint8_t a[4][16], b[4][16];
    memcpy(a[0], key, 16);
    memcpy(a[1], key + 16, 16);
    memcpy(a[2], key, 16);
    a[2][15] ^= 1;
    memcpy(a[3], key, 16);
    a[3][key[0] % 128 / 8] ^= (uint8_t)(0x80 >> (key[0] % 8));
    for (int i = 0; i < 4; i++)
        cryptopan_anonymize6(cp, a[i], b[i]);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            FUZZ_CHECK(common_bits6(a[i], a[j]) == common_bits6(b[i], b[j]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[KS_ERRLEN] = "";
    int fd = fuzz_file(data, size, path, sizeof(path));
    uint8_t key[32];
    int rc = cryptopan_load_key(path, key, err);
    close(fd);
    FUZZ_CHECK((rc == 0) == (size == 32));
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(memcmp(key, data, 32) == 0);
    struct cryptopan *cp = NULL;
    FUZZ_CHECK(cryptopan_new(&cp, key, err) == 0);
    uint32_t a[8];
    for (int i = 0; i < 8; i++)
        a[i] = (uint32_t)key[4 * i] << 24 | (uint32_t)key[4 * i + 1] << 16 |
               (uint32_t)key[4 * i + 2] << 8 | key[4 * i + 3];
    a[1] = a[0] ^ (a[1] & 0xff); /* near neighbours too */
    a[2] = a[0] ^ 1;
    uint32_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = cryptopan_anonymize(cp, a[i]);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            FUZZ_CHECK(common_bits(a[i], a[j]) == common_bits(b[i], b[j]));
    check_ipv6(cp, key);
    cryptopan_free(cp);
    return 0;
}
