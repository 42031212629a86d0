/*
 * pfx2as.c - CAIDA RouteViews prefix2as: "prefix<TAB>length<TAB>AS" lines,
 * longest-prefix match. One sorted array of networks per prefix length;
 * a lookup binary-searches the lengths present, longest first.
 */
#include "tools/analysis/analysis.h"
#include "lib/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pfx_entry {
    uint32_t network;
    uint32_t origin;    /* offset of the AS text in strings */
};

struct pfx2as {
    struct pfx_entry *by_length[33];
    size_t count[33], cap[33];
    char *strings;      /* NUL-separated AS fields */
    size_t strings_len, strings_cap;
    size_t total;
};

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct pfx_entry *)a)->network, y = ((const struct pfx_entry *)b)->network;
    return (x > y) - (x < y);
}

/* "16509", "3_4" (multi-origin) or "7,8" (AS set): digits separated by _ or , */
static bool as_field_valid(const char *s)
{
    bool digit = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digit = true;
        else if ((*s == '_' || *s == ',') && digit)
            digit = false;
        else
            return false;
    }
    return digit;
}

static int add_entry(struct pfx2as *p, int length, uint32_t network, const char *as)
{
    size_t need = strlen(as) + 1;
    if (BUF_GROW(p->strings, p->strings_cap, p->strings_len + need, 4096) ||
        BUF_GROW(p->by_length[length], p->cap[length], p->count[length] + 1, 64))
        return -1;
    memcpy(p->strings + p->strings_len, as, need);
    p->by_length[length][p->count[length]++] = (struct pfx_entry){network, (uint32_t)p->strings_len};
    p->strings_len += need;
    p->total++;
    return 0;
}

static int parse_line(struct pfx2as *p, char *line, const char *name, size_t lineno, char *err)
{
    char *save = NULL;
    char *prefix = strtok_r(line, "\t", &save);
    char *len_text = strtok_r(NULL, "\t", &save);
    char *as = strtok_r(NULL, "\t\r\n", &save);
    struct in_addr a;
    char *end;
    if (!prefix || !len_text || !as || strtok_r(NULL, "\t\r\n", &save)) {
        snprintf(err, KS_ERRLEN, "%s:%zu: expected prefix<TAB>length<TAB>AS", name, lineno);
        return -1;
    }
    if (strchr(prefix, ':')) {
        snprintf(err, KS_ERRLEN, "%s:%zu: IPv6 prefix %s (only IPv4 prefix2as files are supported)",
                 name, lineno, prefix);
        return -1;
    }
    if (inet_pton(AF_INET, prefix, &a) != 1) {
        snprintf(err, KS_ERRLEN, "%s:%zu: '%s' is not an IPv4 address", name, lineno, prefix);
        return -1;
    }
    errno = 0;
    long length = strtol(len_text, &end, 10);
    if (errno || *end || end == len_text || length < 0 || length > 32) {
        snprintf(err, KS_ERRLEN, "%s:%zu: prefix length '%s' is not 0..32", name, lineno, len_text);
        return -1;
    }
    uint32_t network = ntohl(a.s_addr);
    uint32_t mask = length == 0 ? 0 : ~0u << (32 - length);
    if (network & ~mask) {
        snprintf(err, KS_ERRLEN, "%s:%zu: %s/%ld has host bits set", name, lineno, prefix, length);
        return -1;
    }
    if (!as_field_valid(as)) {
        snprintf(err, KS_ERRLEN, "%s:%zu: AS field '%s' is not N, N_M or N,M", name, lineno, as);
        return -1;
    }
    if (add_entry(p, (int)length, network, as) != 0) {
        snprintf(err, KS_ERRLEN, "%s:%zu: out of memory", name, lineno);
        return -1;
    }
    return 0;
}

int pfx2as_load_stream(struct pfx2as **out, FILE *in, const char *name, char *err)
{
    struct pfx2as *p = calloc(1, sizeof(*p));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    if (!p) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (parse_line(p, line, name, lineno, err) != 0) {
            free(line);
            pfx2as_free(p);
            return -1;
        }
    }
    free(line);
    if (ferror(in)) {
        snprintf(err, KS_ERRLEN, "%s: read error", name);
        pfx2as_free(p);
        return -1;
    }
    for (int l = 0; l <= 32; l++)
        if (p->count[l] > 1)
            qsort(p->by_length[l], p->count[l], sizeof(struct pfx_entry), cmp_entry);
    *out = p;
    return 0;
}

int pfx2as_load(struct pfx2as **out, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = pfx2as_load_stream(out, f, path, err);
    fclose(f);
    return rc;
}

int pfx2as_lookup(const struct pfx2as *p, uint32_t addr, const char **origin)
{
    for (int l = 32; l >= 0; l--) {
        size_t lo = 0, hi = p->count[l];
        if (hi == 0)
            continue;
        uint32_t key = l == 0 ? 0 : addr & (~0u << (32 - l));
        const struct pfx_entry *e = p->by_length[l];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (e[mid].network < key)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < p->count[l] && e[lo].network == key) {
            *origin = p->strings + e[lo].origin;
            return 1;
        }
    }
    return 0;
}

size_t pfx2as_count(const struct pfx2as *p)
{
    return p->total;
}

void pfx2as_free(struct pfx2as *p)
{
    if (!p)
        return;
    for (int l = 0; l <= 32; l++)
        free(p->by_length[l]);
    free(p->strings);
    free(p);
}
