/*
 * fuzz_git_version.c - gitVersion strings: the one grammar
 * (k8s_version_parse_flags), the tools' kver_parse over it, and the
 * provider a suffix names. A parsed version written back as text parses to
 * the same version; the two parsers and the provider agree on what is a
 * version.
 */
#include "tests/fuzz/fuzz.h"
#include "probes/probes.h"
#include "tools/analysis/analysis.h"

static void check_version(const char *text, const struct k8s_version *v)
{
    FUZZ_CHECK(v->major >= 0 && v->major <= 999999999);
    FUZZ_CHECK(v->minor >= 0 && v->minor <= 999999999);
    FUZZ_CHECK(v->patch >= -1 && v->patch <= 999999999);
    FUZZ_CHECK(v->suffix >= text && v->suffix <= text + strlen(text));
    FUZZ_CHECK(v->suffix[0] == '\0' || v->suffix[0] == '-' || v->suffix[0] == '+');
    FUZZ_CHECK(v->pre >= K8S_PRE_ALPHA && v->pre <= K8S_PRE_NONE);
    FUZZ_CHECK(v->pre_number >= 0 && (v->pre != K8S_PRE_NONE || v->pre_number == 0));

    /* the same version written canonically */
    size_t room = strlen(v->suffix) + 40;
    char *again = malloc(room);
    FUZZ_CHECK(again != NULL);
    if (v->patch >= 0)
        snprintf(again, room, "v%d.%d.%d%s", v->major, v->minor, v->patch, v->suffix);
    else
        snprintf(again, room, "v%d.%d%s", v->major, v->minor, v->suffix);
    struct k8s_version w;
    FUZZ_CHECK(k8s_version_parse(again, &w) == 0);
    FUZZ_CHECK(w.major == v->major && w.minor == v->minor && w.patch == v->patch);
    FUZZ_CHECK(!strcmp(w.suffix, v->suffix) && w.pre == v->pre && w.pre_number == v->pre_number);
    FUZZ_CHECK(k8s_version_compare(v, &w) == 0 && k8s_version_compare(&w, v) == 0);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    struct k8s_version strict, loose;
    int strict_rc = k8s_version_parse(text, &strict);
    int loose_rc = k8s_version_parse_flags(text, K8S_VERSION_OPTIONAL_V, &loose);
    const char *provider = k8s_provider_from_version(text);

    FUZZ_CHECK((provider != NULL) == (strict_rc == 0));
    if (strict_rc == 0) {
        FUZZ_CHECK(loose_rc == 0);
        check_version(text, &strict);
    }
    if (loose_rc == 0)
        check_version(text, &loose);

    struct kver k;
    int kver_rc = kver_parse(text, &k);
    FUZZ_CHECK((kver_rc == 0) == (loose_rc == 0));
    if (kver_rc == 0) {
        FUZZ_CHECK(k.major == loose.major && k.minor == loose.minor && k.patch == loose.patch);
        FUZZ_CHECK((int)k.pre == (int)loose.pre && k.pre_number == loose.pre_number);
        FUZZ_CHECK(kver_compare(&k, &k) == 0);
    }
    free(text);
    return 0;
}
