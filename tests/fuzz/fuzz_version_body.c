/*
 * fuzz_version_body.c - the body of GET /version (jansson, then
 * k8s_classify): as a 200 answer (a version.Info or not) and as a 401
 * answer (a Kubernetes Status or not). A VERSION_VALID result carries a
 * gitVersion that parses to its numbers; the record stays valid JSON.
 */
#include "tests/fuzz/fuzz.h"
#include "probes/probes.h"

static void classify(const uint8_t *data, size_t size, int status)
{
    struct probe_result r;
    probe_result_init(&r);
    r.http_status = status;
    r.body_length = size;
    r.body = malloc(size ? size : 1);
    FUZZ_CHECK(r.body != NULL);
    memcpy(r.body, data, size);
    k8s_classify(&r);

    if (r.version_state == VERSION_VALID) {
        FUZZ_CHECK(status == 200 && (r.evidence & EVIDENCE_VERSION_INFO));
        struct k8s_version v;
        FUZZ_CHECK(r.git_version && k8s_version_parse(r.git_version, &v) == 0);
        FUZZ_CHECK(v.major == r.version_major && v.minor == r.version_minor &&
                   v.patch == r.version_patch);
        FUZZ_CHECK(r.version_suffix && !strcmp(v.suffix, r.version_suffix));
        FUZZ_CHECK(r.provider && k8s_provider_from_version(r.git_version));
    } else {
        FUZZ_CHECK(!(r.evidence & EVIDENCE_VERSION_INFO));
        FUZZ_CHECK(r.version_major == -1 && r.version_minor == -1 && r.version_patch == -1);
    }
    if (status != 200)
        FUZZ_CHECK(r.version_state == VERSION_ABSENT);
    else
        FUZZ_CHECK(!(r.evidence & EVIDENCE_STATUS_BODY) &&
                   (size == 0 || r.version_state != VERSION_ABSENT));
    FUZZ_CHECK((r.k8s == K8S_YES) == (r.evidence != 0));
    fuzz_check_record_json(&r);
    probe_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    classify(data, size, 200);
    classify(data, size, 401);
    return 0;
}
