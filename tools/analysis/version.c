/*
 * version.c - calendar days and Kubernetes version strings.
 */
#include "tools/analysis/analysis.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days from civil date (proleptic Gregorian), H. Hinnant's algorithm. */
static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

static int parse_date_prefix(const char *t, int32_t *day)
{
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (t[i] != '-')
                return -1;
        } else if (!isdigit((unsigned char)t[i])) {
            return -1;
        }
    }
    int y = atoi(t);
    unsigned m = (unsigned)atoi(t + 5), d = (unsigned)atoi(t + 8);
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return -1;
    *day = days_from_civil(y, m, d);
    return 0;
}

int ks_date_parse(const char *text, int32_t *day)
{
    if (!text || strlen(text) != 10)
        return -1;
    return parse_date_prefix(text, day);
}

int ks_date_from_iso8601(const char *text, int32_t *day)
{
    if (!text || strlen(text) < 10 || (text[10] != '\0' && text[10] != 'T' && text[10] != ' '))
        return -1;
    return parse_date_prefix(text, day);
}

void ks_date_format(int32_t day, char *out)
{
    int y;
    unsigned m, d;
    if (day == KS_NO_DATE) {
        strcpy(out, "none");
        return;
    }
    civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04d-%02u-%02u", y, m, d);
}

/* The grammar is probes/version.c's (k8s_version_parse_flags); these two
 * only translate between struct kver and struct k8s_version. */
int kver_parse(const char *text, struct kver *out)
{
    static const enum kver_pre pre[] = {
        [K8S_PRE_ALPHA] = PRE_ALPHA, [K8S_PRE_BETA] = PRE_BETA,
        [K8S_PRE_RC] = PRE_RC, [K8S_PRE_NONE] = PRE_NONE,
    };
    struct k8s_version v;
    if (k8s_version_parse_flags(text, K8S_VERSION_OPTIONAL_V, &v) != 0)
        return -1;
    *out = (struct kver){v.major, v.minor, v.patch, pre[v.pre], v.pre_number};
    return 0;
}

int kver_compare(const struct kver *a, const struct kver *b)
{
    static const enum k8s_prerelease pre[] = {
        [PRE_ALPHA] = K8S_PRE_ALPHA, [PRE_BETA] = K8S_PRE_BETA,
        [PRE_RC] = K8S_PRE_RC, [PRE_NONE] = K8S_PRE_NONE,
    };
    struct k8s_version x = {a->major, a->minor, a->patch, "", pre[a->pre], a->pre_number};
    struct k8s_version y = {b->major, b->minor, b->patch, "", pre[b->pre], b->pre_number};
    return k8s_version_compare(&x, &y);
}

int kver_of_result(const struct probe_result *r, struct kver *out)
{
    if (r->version_state != VERSION_VALID)
        return -1;
    if (r->git_version && kver_parse(r->git_version, out) == 0)
        return 0;
    if (r->version_major < 0 || r->version_minor < 0)
        return -1;
    *out = (struct kver){r->version_major, r->version_minor, r->version_patch, PRE_NONE, 0};
    return 0;
}
