/*
 * fuzz_pfx2as.c - CAIDA prefix2as lines ("prefix<TAB>length<TAB>AS",
 * pfx2as_load_stream). A table that loads answers lookups (addresses taken
 * from the input's bytes) with an AS field of digits joined by '_' or ','.
 */
#include "tests/fuzz/fuzz.h"
#include "tools/analysis/analysis.h"

#include <ctype.h>

static void check_origin(const char *origin)
{
    FUZZ_CHECK(origin != NULL && isdigit((unsigned char)origin[0]));
    for (const char *c = origin; *c; c++)
        FUZZ_CHECK(isdigit((unsigned char)*c) ||
                   ((*c == '_' || *c == ',') && isdigit((unsigned char)c[1])));
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
    (void)pfx2as_count(p);
    pfx2as_free(p);
    return 0;
}
