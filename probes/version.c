/*
 * version.c - the one gitVersion grammar of the code base. Probes
 * (k8s_classify, k8s_provider_from_version) and the offline tools (kver_parse
 * in tools/analysis/version.c, which only wraps this) read version strings through
 * k8s_version_parse_flags.
 *
 *   version  = ["v"] number "." number ["." number] suffix
 *   number   = 1 to 9 decimal digits
 *   suffix   = "" | "-" anything | "+" anything
 *   pre      = suffix starting "-alpha" | "-beta" | "-rc", then ["."] digits,
 *              then the end, ".", "-" or "+"  (v1.20.0-alpha.2,
 *              v1.29.0-alpha.3.117+af8174e3caabf3, v1.18.0-rc.1+k3s1)
 *
 * The leading "v" is required unless K8S_VERSION_OPTIONAL_V (gitVersion
 * always has it, k8s-facts.md §1.3; the tools' data files write "1.13.0").
 * Sources: k8s-facts.md §1.3 (hack/lib/version.sh), §9.
 */
#include "probes/probes.h"

#include <ctype.h>
#include <string.h>

/* Reads 1-9 decimal digits at *s; -1 if none or too many. */
static int read_number(const char **s)
{
    const char *p = *s;
    int value = 0, digits = 0;
    while (isdigit((unsigned char)*p)) {
        if (++digits > 9)
            return -1;
        value = value * 10 + (*p++ - '0');
    }
    if (digits == 0)
        return -1;
    *s = p;
    return value;
}

static void read_prerelease(const char *suffix, struct k8s_version *out)
{
    static const struct {
        const char *word;
        enum k8s_prerelease kind;
    } kinds[] = {
        {"-alpha", K8S_PRE_ALPHA},
        {"-beta", K8S_PRE_BETA},
        {"-rc", K8S_PRE_RC},
    };
    out->pre = K8S_PRE_NONE;
    out->pre_number = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].word);
        if (strncmp(suffix, kinds[i].word, n) != 0)
            continue;
        const char *p = suffix + n;
        int number = 0;
        if (*p == '.' && isdigit((unsigned char)p[1]))
            p++;
        if (isdigit((unsigned char)*p) && (number = read_number(&p)) < 0)
            return; /* an absurd number: not a pre-release we know */
        if (*p != '\0' && *p != '.' && *p != '-' && *p != '+')
            return; /* "-rcfoo", "-alphabet" */
        out->pre = kinds[i].kind;
        out->pre_number = number;
        return;
    }
}

int k8s_version_parse_flags(const char *text, unsigned flags, struct k8s_version *out)
{
    if (!text)
        return -1;
    const char *p = text;
    if (*p == 'v')
        p++;
    else if (!(flags & K8S_VERSION_OPTIONAL_V))
        return -1;
    int major = read_number(&p);
    if (major < 0 || *p != '.')
        return -1;
    p++;
    int minor = read_number(&p);
    if (minor < 0)
        return -1;
    int patch = -1;
    if (p[0] == '.' && isdigit((unsigned char)p[1])) {
        p++;
        patch = read_number(&p);
        if (patch < 0)
            return -1;
    }
    /* What follows must be a pre-release or build part, or nothing:
     * "v1.2.3abc" and "v1.21." are not versions. */
    if (*p != '\0' && *p != '-' && *p != '+')
        return -1;
    out->major = major;
    out->minor = minor;
    out->patch = patch;
    out->suffix = p;
    read_prerelease(p, out);
    return 0;
}

int k8s_version_parse(const char *git_version, struct k8s_version *out)
{
    return k8s_version_parse_flags(git_version, 0, out);
}

static int cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

int k8s_version_compare(const struct k8s_version *a, const struct k8s_version *b)
{
    int c = cmp_int(a->major, b->major);
    if (!c)
        c = cmp_int(a->minor, b->minor);
    if (!c)
        c = cmp_int(a->patch < 0 ? 0 : a->patch, b->patch < 0 ? 0 : b->patch);
    if (!c)
        c = cmp_int((int)a->pre, (int)b->pre);
    if (!c)
        c = cmp_int(a->pre_number, b->pre_number);
    return c;
}
