/*
 * fuzz_kubelet_healthz.c - what a kubelet's /healthz answer says
 * (kubelet_finding, probes/mod_kubelet.c). The first two input bytes pick
 * the HTTP status (a kubelet's 200, 401, 403, 500 or any other), the third
 * the port (authenticated or read-only); the rest is the body. The finding
 * is one of the documented words or none, only for the statuses that can
 * carry it, and the read-only port never gives an authenticated port's.
 */
#include "tests/fuzz/fuzz.h"
#include "probes/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    static const int statuses[] = {200, 401, 403, 500};
    int status = data[0] < 4 ? statuses[data[0]] : 100 + data[1] * 4 % 900;
    bool readonly = data[2] & 1;
    data += 3;
    size -= 3;
    /* the body in its own buffer, so ASan sees reads past it */
    uint8_t *body = size ? malloc(size) : NULL;
    FUZZ_CHECK(size == 0 || body != NULL);
    if (size)
        memcpy(body, data, size);
    const char *finding = kubelet_finding(status, body, size, readonly);
    if (finding) {
        if (readonly)
            FUZZ_CHECK(!strcmp(finding, RECORD_FINDING_READONLY_OPEN));
        else
            FUZZ_CHECK(!strcmp(finding, RECORD_FINDING_AUTH_REQUIRED) ||
                       !strcmp(finding, RECORD_FINDING_ANON_FORBIDDEN) ||
                       !strcmp(finding, RECORD_FINDING_ANON_OPEN));
        if (!strcmp(finding, RECORD_FINDING_AUTH_REQUIRED))
            FUZZ_CHECK(status == 401);
        else if (!strcmp(finding, RECORD_FINDING_ANON_FORBIDDEN))
            FUZZ_CHECK(status == 403);
        else
            FUZZ_CHECK(status == 200 || status == 500);
    }
    /* no body: only nothing can be found */
    FUZZ_CHECK(kubelet_finding(status, NULL, size, readonly) == NULL);
    free(body);
    return 0;
}
