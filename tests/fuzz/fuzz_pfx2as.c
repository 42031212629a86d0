/*
 * fuzz_pfx2as.c - CAIDA prefix2as lines ("prefix<TAB>length<TAB>AS",
 * pfx2as_load_stream), IPv4 (rv2) and IPv6 (rv6) lines, alone or mixed. A
 * table that loads finds a prefix for the first and the last address of
 * every prefix line of the input in that line's family, answers every
 * lookup (addresses also taken from the input's bytes) with an AS field of
 * digits joined by '_' or ',', and counts its prefixes per family.
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

static void check_covered(const struct pfx2as *p, enum probe_family family, const uint8_t addr[16])
{
    const char *origin = NULL;
    FUZZ_CHECK(pfx2as_lookup_addr(p, family, addr, &origin) == 1);
    check_origin(origin);
    if (family == PROBE_FAMILY_IPV4) { /* the host-order call agrees */
        const char *same = NULL;
        uint32_t host = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
                        (uint32_t)addr[2] << 8 | addr[3];
        FUZZ_CHECK(pfx2as_lookup(p, host, &same) == 1 && same == origin);
    }
}

/* A prefix line of the input (the table loaded, so it was accepted): both
 * ends of the prefix are covered in its family (the loader's rule: IPv6
 * text has a ':'). */
static void check_prefix(const struct pfx2as *p, const char *prefix, long length)
{
    bool v6 = strchr(prefix, ':') != NULL;
    int bits = v6 ? 128 : 32;
    uint8_t first[16] = {0}, last[16];
    if (length < 0 || length > bits || inet_pton(v6 ? AF_INET6 : AF_INET, prefix, first) != 1)
        return;
    memcpy(last, first, sizeof(last));
    for (long i = length; i < bits; i++)
        last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    enum probe_family family = v6 ? PROBE_FAMILY_IPV6 : PROBE_FAMILY_IPV4;
    check_covered(p, family, first);
    check_covered(p, family, last);
}

static void check_lines(const struct pfx2as *p, const uint8_t *data, size_t size)
{
    size_t at = 0;
    while (at < size) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
        char line[128], prefix[INET6_ADDRSTRLEN];
        int used = 0;
        if (n < sizeof(line) && !memchr(data + at, '\0', n)) {
            memcpy(line, data + at, n);
            line[n] = '\0';
            char *end;
            if (sscanf(line, "%45[0-9a-fA-F.:]%n", prefix, &used) == 1 && line[used] == '\t') {
                long length = strtol(line + used + 1, &end, 10);
                if (*end == '\t')
                    check_prefix(p, prefix, length);
            }
        }
        at += n + 1;
    }
}

/* Lookups of fixed addresses and of the input's bytes answer well-formed
 * AS fields (or nothing). */
static void check_lookups(const struct pfx2as *p, const uint8_t *data, size_t size)
{
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
    uint8_t zero[16] = {0}, ones[16];
    memset(ones, 0xff, sizeof(ones));
    if (pfx2as_lookup6(p, zero, &origin))
        check_origin(origin);
    if (pfx2as_lookup6(p, ones, &origin))
        check_origin(origin);
    for (size_t i = 0; i + 16 <= size && i < 128; i += 16)
        if (pfx2as_lookup6(p, data + i, &origin))
            check_origin(origin);
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
    check_lookups(p, data, size);
    check_lines(p, data, size);
    FUZZ_CHECK(pfx2as_count_family(p, PROBE_FAMILY_IPV4) + pfx2as_count_family(p, PROBE_FAMILY_IPV6) ==
               pfx2as_count(p));
    pfx2as_free(p);
    return 0;
}
