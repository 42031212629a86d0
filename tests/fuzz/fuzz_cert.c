/*
 * fuzz_cert.c - certificate classification from arbitrary DER: what the
 * leaf says (k8s_cert_inspect), its cluster keys (k8s_cert_cluster_keys)
 * and k8s_classify of a result whose chain holds it. The three agree with
 * d2i_X509 on what is a certificate, and the verdict follows the facts.
 */
#include "tests/fuzz/fuzz.h"
#include "probes/probes.h"

#include <ctype.h>
#include <openssl/x509.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)size);
    bool parses = x != NULL;
    X509_free(x);

    struct k8s_cert_facts facts;
    int inspect_rc = k8s_cert_inspect(data, size, &facts);
    FUZZ_CHECK((inspect_rc == 0) == parses);

    struct k8s_cluster_keys keys;
    int keys_rc = k8s_cert_cluster_keys(data, size, &keys);
    FUZZ_CHECK((keys_rc == 0) == parses);
    if (keys_rc == 0) {
        FUZZ_CHECK(memchr(keys.name, '\0', sizeof(keys.name)) != NULL);
        FUZZ_CHECK(memchr(keys.ca, '\0', sizeof(keys.ca)) != NULL);
        for (const char *c = keys.name; *c; c++)
            FUZZ_CHECK(!isupper((unsigned char)*c));
    }

    struct probe_result r;
    probe_result_init(&r);
    r.chain_length = 1;
    r.chain[0].length = size;
    r.chain[0].der = malloc(size ? size : 1);
    FUZZ_CHECK(r.chain[0].der != NULL);
    memcpy(r.chain[0].der, data, size);
    k8s_classify(&r);
    if (inspect_rc == 0 && facts.marker) {
        FUZZ_CHECK(r.k8s == K8S_YES && (r.evidence & EVIDENCE_CERT_MARKER));
        FUZZ_CHECK(r.provider != NULL);
        if (facts.provider)
            FUZZ_CHECK(!strcmp(r.provider, facts.provider) ||
                       (!strcmp(facts.provider, "eks") && !strcmp(r.provider, "eks-distro")));
    } else if (inspect_rc == 0 && facts.kubelet) {
        FUZZ_CHECK(r.k8s == K8S_KUBELET && r.evidence == 0);
    } else {
        FUZZ_CHECK(r.k8s == K8S_NO && r.evidence == 0 && r.provider == NULL);
    }
    fuzz_check_record_json(&r);
    probe_result_free(&r);
    return 0;
}
