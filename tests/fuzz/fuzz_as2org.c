/*
 * fuzz_as2org.c - CAIDA AS-to-organisation lines (as2org_load_stream, both
 * sections). A table that loads answers lookups (AS numbers from the
 * input's digits and bytes) with an organisation and a country.
 */
#include "tests/fuzz/fuzz.h"
#include "tools/analysis/analysis.h"

static void lookup(const struct as2org *a, uint32_t asn)
{
    const char *org = NULL, *country = NULL;
    if (as2org_lookup(a, asn, &org, &country))
        FUZZ_CHECK(org != NULL && country != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0; /* glibc refuses a zero-length buffer */
    char err[KS_ERRLEN] = "";
    struct as2org *a = NULL;
    int rc = as2org_load_stream(&a, in, "fuzz.as-org2info.txt", err);
    fclose(in);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    /* every number written in the input, and a few fixed ones */
    uint64_t n = 0;
    bool in_number = false;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] >= '0' && data[i] <= '9') {
            n = n * 10 + (uint64_t)(data[i] - '0');
            if (n > UINT32_MAX)
                n = UINT32_MAX;
            in_number = true;
        } else if (in_number) {
            lookup(a, (uint32_t)n);
            n = 0;
            in_number = false;
        }
    }
    lookup(a, 0);
    lookup(a, UINT32_MAX);
    (void)as2org_count(a);
    as2org_free(a);
    return 0;
}
