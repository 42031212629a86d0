/*
 * fuzz_host_record.c - the store's host record (record_decode, the bytes
 * of a hosts value). A record that decodes re-encodes to bytes that decode
 * to the same record (the two encodings are equal), and it can be written
 * as JSON and CSV as the export does.
 */
#include "tests/fuzz/fuzz.h"
#include "storage/internal.h"

static void encode(const struct probe_result *r, struct buf *out)
{
    char err[KS_ERRLEN];
    if (record_encode(out, r, err) != 0) {
        fprintf(stderr, "record_encode: %s\n", err);
        FUZZ_CHECK(!"a decoded record encodes");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[KS_ERRLEN] = "";
    struct probe_result r;
    if (record_decode(data, size, &r, err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    /* "a value out of range does not decode" (storage/record.c) */
    FUZZ_CHECK((unsigned)r.outcome < PROBE_OUTCOME_COUNT);
    FUZZ_CHECK((unsigned)r.k8s < K8S_VERDICT_COUNT);
    FUZZ_CHECK((unsigned)r.version_state < VERSION_STATE_COUNT);
    struct buf once = {0}, twice = {0};
    encode(&r, &once);
    struct probe_result again;
    if (record_decode(once.data, once.length, &again, err) != 0) {
        fprintf(stderr, "re-encoded record does not decode: %s\n", err);
        FUZZ_CHECK(!"a re-encoded record decodes");
    }
    encode(&again, &twice);
    FUZZ_CHECK(once.length == twice.length && memcmp(once.data, twice.data, once.length) == 0);
    fuzz_check_record_json(&r);
    probe_result_free(&again);
    probe_result_free(&r);
    buf_free(&twice);
    buf_free(&once);
    return 0;
}
