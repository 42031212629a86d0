/*
 * pfx2as.c - CAIDA RouteViews prefix2as: "prefix<TAB>length<TAB>AS" lines,
 * longest-prefix match, IPv4 (routeviews-rv2-*.pfx2as) and IPv6
 * (routeviews-rv6-*.pfx2as) in one table, each line going to its family.
 * Per family and prefix length, one sorted array of records; a lookup
 * binary-searches the lengths present, longest first.
 */
#include "tools/analysis/analysis.h"
#include "lib/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record is the network in network byte order, then the offset of its AS
 * text in strings (4 bytes, host order): byte keys let one sort and one
 * search serve both widths, and keep an IPv4 record at 8 bytes. */
#define ORIGIN_LEN sizeof(uint32_t)

struct pfx_table {
    int bits;                /* 32 or 128 */
    size_t key_len;          /* bits / 8 */
    uint8_t *by_length[129]; /* count[l] records of key_len + ORIGIN_LEN bytes */
    size_t count[129], cap[129]; /* cap in bytes */
};

struct pfx2as {
    struct pfx_table v4, v6;
    char *strings;      /* NUL-separated AS fields */
    size_t strings_len, strings_cap;
    size_t total;
};

int pfx2as_new(struct pfx2as **out, char *err)
{
    struct pfx2as *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    p->v4.bits = 32, p->v4.key_len = 4;
    p->v6.bits = 128, p->v6.key_len = 16;
    *out = p;
    return 0;
}

static size_t stride(const struct pfx_table *t)
{
    return t->key_len + ORIGIN_LEN;
}

static int cmp_record(const void *a, const void *b, void *key_len)
{
    return memcmp(a, b, *(const size_t *)key_len);
}

/* The first `length` bits of in, the rest zero, into out (n bytes). */
static void prefix_of(const uint8_t *in, int length, uint8_t *out, size_t n)
{
    size_t whole = (size_t)length / 8;
    memcpy(out, in, whole);
    memset(out + whole, 0, n - whole);
    if (length % 8)
        out[whole] = (uint8_t)(in[whole] & (0xff00 >> (length % 8)));
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

static int add_entry(struct pfx2as *p, struct pfx_table *t, int length, const uint8_t *network,
                     const char *as)
{
    size_t need = strlen(as) + 1, size = stride(t);
    if (p->strings_len > UINT32_MAX - need ||
        BUF_GROW(p->strings, p->strings_cap, p->strings_len + need, 4096) ||
        BUF_GROW(t->by_length[length], t->cap[length], (t->count[length] + 1) * size, 64 * size))
        return -1;
    memcpy(p->strings + p->strings_len, as, need);
    uint8_t *record = t->by_length[length] + t->count[length]++ * size;
    uint32_t origin = (uint32_t)p->strings_len;
    memcpy(record, network, t->key_len);
    memcpy(record + t->key_len, &origin, ORIGIN_LEN);
    p->strings_len += need;
    p->total++;
    return 0;
}

/* The prefix field's family: IPv6 text is the one with a ':'. */
static struct pfx_table *table_for(struct pfx2as *p, const char *prefix)
{
    return strchr(prefix, ':') ? &p->v6 : &p->v4;
}

static int parse_line(struct pfx2as *p, char *line, const char *name, size_t lineno, char *err)
{
    char *save = NULL;
    char *prefix = strtok_r(line, "\t", &save);
    char *len_text = strtok_r(NULL, "\t", &save);
    char *as = strtok_r(NULL, "\t\r\n", &save);
    uint8_t network[16], masked[16];
    char *end;
    if (!prefix || !len_text || !as || strtok_r(NULL, "\t\r\n", &save)) {
        snprintf(err, KS_ERRLEN, "%s:%zu: expected prefix<TAB>length<TAB>AS", name, lineno);
        return -1;
    }
    struct pfx_table *t = table_for(p, prefix);
    const char *family = t->bits == 32 ? "IPv4" : "IPv6";
    if (inet_pton(t->bits == 32 ? AF_INET : AF_INET6, prefix, network) != 1) {
        snprintf(err, KS_ERRLEN, "%s:%zu: '%s' is not an %s address", name, lineno, prefix, family);
        return -1;
    }
    errno = 0;
    long length = strtol(len_text, &end, 10);
    if (errno || *end || end == len_text || length < 0 || length > t->bits) {
        snprintf(err, KS_ERRLEN, "%s:%zu: prefix length '%s' is not 0..%d for an %s prefix",
                 name, lineno, len_text, t->bits, family);
        return -1;
    }
    prefix_of(network, (int)length, masked, t->key_len);
    if (memcmp(masked, network, t->key_len) != 0) {
        snprintf(err, KS_ERRLEN, "%s:%zu: %s/%ld has host bits set", name, lineno, prefix, length);
        return -1;
    }
    if (!as_field_valid(as)) {
        snprintf(err, KS_ERRLEN, "%s:%zu: AS field '%s' is not N, N_M or N,M", name, lineno, as);
        return -1;
    }
    if (add_entry(p, t, (int)length, network, as) != 0) {
        snprintf(err, KS_ERRLEN, "%s:%zu: out of memory", name, lineno);
        return -1;
    }
    return 0;
}

static void table_sort(struct pfx_table *t)
{
    for (int l = 0; l <= t->bits; l++)
        if (t->count[l] > 1)
            qsort_r(t->by_length[l], t->count[l], stride(t), cmp_record, &t->key_len);
}

int pfx2as_add_stream(struct pfx2as *p, FILE *in, const char *name, char *err)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0 && line[0] != '#')
            rc = parse_line(p, line, name, lineno, err);
    }
    free(line);
    if (rc == 0 && ferror(in)) {
        snprintf(err, KS_ERRLEN, "%s: read error", name);
        rc = -1;
    }
    /* sorted even after an error, so what was added is searchable */
    table_sort(&p->v4);
    table_sort(&p->v6);
    return rc;
}

int pfx2as_add(struct pfx2as *p, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = pfx2as_add_stream(p, f, path, err);
    fclose(f);
    return rc;
}

int pfx2as_load_stream(struct pfx2as **out, FILE *in, const char *name, char *err)
{
    struct pfx2as *p;
    if (pfx2as_new(&p, err) != 0)
        return -1;
    if (pfx2as_add_stream(p, in, name, err) != 0) {
        pfx2as_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int pfx2as_load(struct pfx2as **out, const char *path, char *err)
{
    struct pfx2as *p;
    if (pfx2as_new(&p, err) != 0)
        return -1;
    if (pfx2as_add(p, path, err) != 0) {
        pfx2as_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* The record of the network `key` among t's prefixes of length l, or NULL. */
static const uint8_t *table_search(const struct pfx_table *t, int l, const uint8_t *key)
{
    size_t lo = 0, hi = t->count[l], size = stride(t);
    const uint8_t *records = t->by_length[l];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(records + mid * size, key, t->key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->count[l] && memcmp(records + lo * size, key, t->key_len) == 0)
        return records + lo * size;
    return NULL;
}

static int table_lookup(const struct pfx2as *p, const struct pfx_table *t, const uint8_t *addr,
                        const char **origin)
{
    uint8_t key[16];
    for (int l = t->bits; l >= 0; l--) {
        if (t->count[l] == 0)
            continue;
        prefix_of(addr, l, key, t->key_len);
        const uint8_t *record = table_search(t, l, key);
        if (record) {
            uint32_t offset;
            memcpy(&offset, record + t->key_len, ORIGIN_LEN);
            *origin = p->strings + offset;
            return 1;
        }
    }
    return 0;
}

int pfx2as_lookup(const struct pfx2as *p, uint32_t addr, const char **origin)
{
    uint32_t be = htonl(addr);
    return table_lookup(p, &p->v4, (const uint8_t *)&be, origin);
}

int pfx2as_lookup6(const struct pfx2as *p, const uint8_t addr[16], const char **origin)
{
    return table_lookup(p, &p->v6, addr, origin);
}

int pfx2as_lookup_addr(const struct pfx2as *p, enum probe_family family, const uint8_t addr[16],
                       const char **origin)
{
    return table_lookup(p, family == PROBE_FAMILY_IPV6 ? &p->v6 : &p->v4, addr, origin);
}

size_t pfx2as_count(const struct pfx2as *p)
{
    return p->total;
}

size_t pfx2as_count_family(const struct pfx2as *p, enum probe_family family)
{
    const struct pfx_table *t = family == PROBE_FAMILY_IPV6 ? &p->v6 : &p->v4;
    size_t n = 0;
    for (int l = 0; l <= t->bits; l++)
        n += t->count[l];
    return n;
}

void pfx2as_free(struct pfx2as *p)
{
    if (!p)
        return;
    for (int l = 0; l <= 128; l++) {
        free(p->v4.by_length[l]);
        free(p->v6.by_length[l]);
    }
    free(p->strings);
    free(p);
}
