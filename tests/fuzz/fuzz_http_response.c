/*
 * fuzz_http_response.c - the HTTP response of a probe (http-parser and the
 * callbacks of probes/http.c, the parser of every module today), fed as the network would: in pieces, then
 * the end of the stream. The first input byte sets the piece size (1-256
 * bytes); the rest is the response. Small limits (512 header bytes, 1024
 * body bytes) so the fuzzer reaches them. Every probe ends with exactly one
 * outcome; kept headers are printable ASCII within their limit; the body
 * within its; then the result is classified and must stay valid JSON.
 */
#include "tests/fuzz/fuzz.h"
#include "probes/internal.h"

#define MAX_HEADER_BYTES 512
#define MAX_BODY_BYTES 1024

static void check_header(const char *value)
{
    if (!value)
        return;
    FUZZ_CHECK(strlen(value) <= 1024);
    for (const char *c = value; *c; c++)
        FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] + 1;
    data++;
    size--;

    struct probe_result result;
    probe_result_init(&result);
    struct http_response *c = calloc(1, sizeof(*c));
    FUZZ_CHECK(c != NULL);
    http_response_begin(c, &result, MAX_HEADER_BYTES, MAX_BODY_BYTES);

    enum probe_outcome outcome = PROBE_OK;
    char reason[256];
    bool over = false;
    size_t at = 0;
    while (!over && at < size) {
        /* each piece in its own buffer, so ASan sees reads past it */
        size_t n = size - at < piece ? size - at : piece;
        char *chunk = malloc(n);
        FUZZ_CHECK(chunk != NULL);
        memcpy(chunk, data + at, n);
        over = http_response_feed(c, chunk, n, &outcome, reason, sizeof(reason));
        free(chunk);
        at += n;
    }
    if (!over)
        over = http_response_feed(c, NULL, 0, &outcome, reason, sizeof(reason));
    FUZZ_CHECK(over);
    FUZZ_CHECK(outcome == PROBE_OK || outcome == PROBE_HTTP_ERROR || outcome == PROBE_CLOSED);
    FUZZ_CHECK((outcome == PROBE_OK) == (reason[0] == '\0'));

    struct probe_result *r = &result;
    FUZZ_CHECK(r->body_length <= MAX_BODY_BYTES && (r->body_length == 0 || r->body));
    FUZZ_CHECK(!r->body_truncated || r->body_length == MAX_BODY_BYTES);
    FUZZ_CHECK(c->header_bytes <= MAX_HEADER_BYTES || c->headers_too_big);
    FUZZ_CHECK(r->http_status >= 0 && r->http_status <= 999);
    check_header(r->http_server);
    check_header(r->http_content_type);
    check_header(r->http_audit_id);
    check_header(r->http_pf_flowschema);
    check_header(r->http_pf_prioritylevel);
    if (outcome == PROBE_OK) {
        k8s_classify(r);
        fuzz_check_record_json(r);
    }
    probe_result_free(r);
    free(c);
    return 0;
}
