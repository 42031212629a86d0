/*
 * fuzz_lifecycle.c - one lifecycle data file (a file of tools/data/), the others
 * compiled in: built once per file, FUZZ_DATA_FILE naming it. Loading
 * validates it; what loads answers every question the tools ask of it.
 */
#include "tests/fuzz/fuzz.h"
#include "tools/analysis/analysis.h"

#ifndef FUZZ_DATA_FILE
#error "define FUZZ_DATA_FILE, e.g. \"cves.json\""
#endif

static void ask(const struct lifecycle *lc)
{
    int32_t days[] = {KS_NO_DATE, 0, 19000, 20000, 21000, INT32_MAX};
    struct kver versions[] = {
        {1, 2, -1, PRE_NONE, 0}, {1, 20, 0, PRE_ALPHA, 1}, {1, 27, 3, PRE_NONE, 0},
        {1, 30, -1, PRE_NONE, 0}, {2, 0, 0, PRE_NONE, 0},
    };
    for (size_t d = 0; d < sizeof(days) / sizeof(days[0]); d++) {
        for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
            const struct kver *k = &versions[v];
            (void)lifecycle_upstream_status(lc, k->major, k->minor, days[d]);
            for (size_t p = 0; p < lc->provider_count; p++)
                for (size_t n = 0; n < lc->providers[p].name_count; n++)
                    for (int view = 0; view < 2; view++)
                        (void)lifecycle_provider_status(lc, lc->providers[p].names[n], k->major,
                                                        k->minor, days[d], LC_CALENDAR_PUBLISHED,
                                                        (enum lc_view)view);
            for (size_t c = 0; c < lc->cve_count; c++) {
                (void)cve_affects(&lc->cves[c], k);
                (void)cve_headline(&lc->cves[c], k, days[d]);
            }
        }
        for (size_t m = 0; m < lc->minor_count; m++)
            (void)lifecycle_upstream_status(lc, lc->minors[m].major, lc->minors[m].minor, days[d]);
        for (size_t p = 0; p < lc->provider_count; p++)
            for (size_t m = 0; m < lc->providers[p].minor_count; m++) {
                const struct lc_provider_minor *pm = &lc->providers[p].minors[m];
                FUZZ_CHECK(pm->revision_count >= 1);
                (void)lifecycle_revision_on(pm, days[d], LC_CALENDAR_FINAL);
            }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    char err[KS_ERRLEN] = "";
    struct lifecycle *lc = NULL;
    if (lifecycle_load_text(&lc, FUZZ_DATA_FILE, text, err) == 0) {
        ask(lc);
        lifecycle_free(lc);
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    free(text);
    return 0;
}
