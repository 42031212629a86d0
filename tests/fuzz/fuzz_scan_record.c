/*
 * fuzz_scan_record.c - the stored record of a scan (its JSON, read by
 * scan_record_from_json for `scans`, `stats`, `--resume` and `merge`).
 * What reads writes back as JSON that reads to the same record (JSON equal
 * both times), resumes itself and defines the same work as itself.
 */
#include "tests/fuzz/fuzz.h"
#include "tools/pipeline/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *json = json_loadb((const char *)data, size, 0, NULL);
    if (!json)
        return 0;
    char err[KS_ERRLEN] = "";
    struct scan_record r;
    if (scan_record_from_json(&r, json, err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        json_decref(json);
        return 0;
    }
    json_t *once = scan_record_to_json(&r);
    FUZZ_CHECK(once != NULL);
    struct scan_record again;
    FUZZ_CHECK(scan_record_from_json(&again, once, err) == 0);
    json_t *twice = scan_record_to_json(&again);
    FUZZ_CHECK(twice != NULL && json_equal(once, twice));
    FUZZ_CHECK(again.present == r.present);

    /* Port lists compare as sets, so a null or unparseable one equals
     * nothing, not even itself. */
    const char *differ = scan_record_defines_differ(&r, &again);
    FUZZ_CHECK(!differ || !strcmp(differ, "ports"));
    char *identity = scan_record_identity(&r), *identity2 = scan_record_identity(&again);
    FUZZ_CHECK(identity && identity2 && !strcmp(identity, identity2));
    for (size_t i = 0; i < scan_field_count; i++) {
        char text[256];
        scan_record_field_text(&r, scan_fields[i].name, text, sizeof(text));
        FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL);
    }
    (void)scan_record_resume_check(&r, &again, err);

    free(identity2);
    free(identity);
    json_decref(twice);
    scan_record_free(&again);
    json_decref(once);
    scan_record_free(&r);
    json_decref(json);
    return 0;
}
