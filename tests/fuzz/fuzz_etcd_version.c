/*
 * fuzz_etcd_version.c - etcd's /version body (etcd_version_parse,
 * probes/mod_etcd.c). Whatever the body, the parse ends with both versions
 * or neither server version; what it keeps is short printable text that a
 * record carries as valid JSON.
 */
#include "tests/fuzz/fuzz.h"
#include "probes/internal.h"

static void check_version(const char *v)
{
    FUZZ_CHECK(strlen(v) >= 1 && strlen(v) <= 64);
    for (const char *c = v; *c; c++)
        FUZZ_CHECK(*c > 0x20 && *c < 0x7f && *c != '"' && *c != '\\');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *body = size ? malloc(size) : NULL;
    FUZZ_CHECK(size == 0 || body != NULL);
    if (size)
        memcpy(body, data, size);
    char *server = (char *)1, *cluster = (char *)1;
    int rc = etcd_version_parse(body, size, &server, &cluster);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        FUZZ_CHECK(server == NULL && cluster == NULL);
    } else {
        FUZZ_CHECK(server != NULL);
        check_version(server);
        if (cluster)
            check_version(cluster);
        struct probe_result r;
        probe_result_init(&r);
        r.etcd_server = server;
        r.etcd_cluster = cluster;
        fuzz_check_record_json(&r);
        server = cluster = NULL;
        probe_result_free(&r);
    }
    free(server);
    free(cluster);
    free(body);
    return 0;
}
