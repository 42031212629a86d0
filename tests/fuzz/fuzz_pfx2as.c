/*
 * fuzz_pfx2as.c - CAIDA prefix2as lines ("prefix<TAB>length<TAB>AS",
 * pfx2as_load_stream). A table that loads finds a prefix for the first and
 * the last address of every prefix line of the input, and answers every
 * lookup (addresses also taken from the input's bytes) with an AS field of
 * digits joined by '_' or ','.
 */
#include "tests/fuzz/fuzz.h"
#include "tools/analysis/analysis.h"

#include <arpa/inet.h>
#include <ctype.h>

static void check_origin(const char *origin)
{
    FUZZ_CHECK(origin != NULL && isdigit((unsigned char)origin[0]));
    for (const char *c = origin; *c; c++)
        FUZZ_CHECK(isdigit((unsigned char)*c) ||
                   ((*c == '_' || *c == ',') && isdigit((unsigned char)c[1])));
}

/* Each line "a.b.c.d<TAB>length<TAB>..." of the input (the table loaded,
 * so each was accepted): both ends of the prefix are covered. */
static void check_lines(const struct pfx2as *p, const uint8_t *data, size_t size)
{
    const char *origin;
    size_t at = 0;
    while (at < size) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
        char line[64], prefix[16];
        int used = 0;
        if (n < sizeof(line) && !memchr(data + at, '\0', n)) {
            memcpy(line, data + at, n);
            line[n] = '\0';
            struct in_addr a;
            char *end;
            long length = -1;
            if (sscanf(line, "%15[0-9.]%n", prefix, &used) == 1 && line[used] == '\t') {
                length = strtol(line + used + 1, &end, 10);
                if (*end != '\t')
                    length = -1;
            }
            if (length >= 0 && length <= 32 && inet_pton(AF_INET, prefix, &a) == 1) {
                uint32_t first = ntohl(a.s_addr);
                uint32_t last = first | (length == 0 ? ~0u : ~(~0u << (32 - length)));
                FUZZ_CHECK(pfx2as_lookup(p, first, &origin) == 1);
                check_origin(origin);
                FUZZ_CHECK(pfx2as_lookup(p, last, &origin) == 1);
                check_origin(origin);
            }
        }
        at += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0; /* glibc refuses a zero-length buffer */
    char err[KS_ERRLEN] = "";
    struct pfx2as *p = NULL;
    int rc = pfx2as_load_stream(&p, in, "fuzz.pfx2as", err);
    fclose(in);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    const char *origin;
    uint32_t probes[] = {0, UINT32_MAX, 0x0a000001};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        if (pfx2as_lookup(p, probes[i], &origin))
            check_origin(origin);
    for (size_t i = 0; i + 4 <= size && i < 64; i += 4) {
        uint32_t addr = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 |
                        (uint32_t)data[i + 2] << 8 | data[i + 3];
        if (pfx2as_lookup(p, addr, &origin))
            check_origin(origin);
    }
    check_lines(p, data, size);
    (void)pfx2as_count(p);
    pfx2as_free(p);
    return 0;
}
