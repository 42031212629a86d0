/*
 * fuzz_eol_import.c - an endoflife.date API answer given to `data import`
 * (tools/analysis/lifecycle_import.c), applied to the compiled-in upstream
 * and provider data. Every input is taken or refused with a message; what
 * is taken either validates as `data check` does or is refused by it (the
 * command then leaves the data directory unchanged), and a second import of
 * the same answer on the same day adds nothing.
 */
#include "tests/fuzz/fuzz.h"
#include "tools/analysis/analysis.h"

static json_t *builtin(const char *file)
{
    static json_t *cache[2];
    int i = strcmp(file, "upstream.json") != 0;
    if (!cache[i])
        cache[i] = json_loads(lifecycle_builtin_text(file), 0, NULL);
    FUZZ_CHECK(cache[i] != NULL);
    return json_deep_copy(cache[i]);
}

/* Loads the changed file as the loader would; true if it validates. */
static bool validates(const char *file, json_t *root)
{
    char *text = json_dumps(root, 0), err[KS_ERRLEN] = "";
    struct lifecycle *lc = NULL;
    FUZZ_CHECK(text != NULL);
    int rc = lifecycle_load_text(&lc, file, text, err);
    FUZZ_CHECK(rc == 0 || err[0] != '\0');
    lifecycle_free(lc);
    free(text);
    return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    json_t *upstream = builtin("upstream.json"), *providers = builtin("providers.json");
    struct lc_import_result res;
    char err[KS_ERRLEN] = "";
    const int32_t today = 21000; /* 2027-07-01 */
    if (lifecycle_import_eol(upstream, providers, text, "input", size % 2 ? "amazon-eks" : NULL,
                             today, &res, err) == 0) {
        json_t *changed = strcmp(res.file, "upstream.json") ? providers : upstream;
        if (validates(res.file, changed) && strcmp(res.file, "upstream.json")) {
            /* The same answer again, the same day: nothing more to add. */
            struct lc_import_result again;
            err[0] = '\0';
            int rc = lifecycle_import_eol(upstream, providers, text, "input",
                                          size % 2 ? "amazon-eks" : NULL, today, &again, err);
            FUZZ_CHECK(rc == -1 ? err[0] != '\0'
                                : again.added_minors == 0 && again.added_revisions == 0);
        }
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    json_decref(upstream);
    json_decref(providers);
    free(text);
    return 0;
}
