/*
 * version.c - calendar days and Kubernetes version strings.
 */
#include "tools/tools.h"

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

/* Reads a decimal number of at most 6 digits; returns chars consumed, 0 if none. */
static size_t read_number(const char *s, int *out)
{
    size_t i = 0;
    long v = 0;
    while (isdigit((unsigned char)s[i]) && i < 6)
        v = v * 10 + (s[i++] - '0');
    if (i == 0 || isdigit((unsigned char)s[i]))
        return 0;
    *out = (int)v;
    return i;
}

static void parse_prerelease(const char *rest, struct kver *out)
{
    static const struct { const char *word; enum kver_pre kind; } kinds[] = {
        {"-alpha", PRE_ALPHA}, {"-beta", PRE_BETA}, {"-rc", PRE_RC},
    };
    out->pre = PRE_NONE;
    out->pre_number = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].word);
        if (strncmp(rest, kinds[i].word, n) != 0)
            continue;
        const char *p = rest + n;
        if (*p == '.')
            p++;
        int number = 0;
        if (isdigit((unsigned char)*p) && read_number(p, &number) == 0)
            return; /* absurdly long number: not a pre-release we know */
        out->pre = kinds[i].kind;
        out->pre_number = number;
        return;
    }
}

int kver_parse(const char *text, struct kver *out)
{
    if (!text)
        return -1;
    const char *p = text;
    if (*p == 'v' || *p == 'V')
        p++;
    struct kver v = {.patch = -1, .pre = PRE_NONE};
    size_t n = read_number(p, &v.major);
    if (n == 0 || p[n] != '.')
        return -1;
    p += n + 1;
    n = read_number(p, &v.minor);
    if (n == 0)
        return -1;
    p += n;
    if (*p == '.') {
        n = read_number(p + 1, &v.patch);
        if (n == 0)
            return -1;
        p += n + 1;
    }
    if (*p != '\0' && *p != '-' && *p != '+')
        return -1;
    parse_prerelease(p, &v);
    *out = v;
    return 0;
}

static int cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

int kver_compare(const struct kver *a, const struct kver *b)
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
