/*
 * as2org.c - CAIDA's AS-to-organisation mapping ("YYYYMMDD.as-org2info.txt",
 * https://publicdata.caida.org/datasets/as-organizations/, format described in
 * https://www.caida.org/catalog/datasets/as-organizations/ and the dataset's
 * README). Two kinds of '|'-separated lines, each section opened by a comment
 * naming its columns:
 *
 *   # format:org_id|changed|org_name|country|source
 *   LVLT-ARIN|20120130|Level 3 Communications, Inc.|US|ARIN
 *   # format:aut|changed|aut_name|org_id|opaque_id|source
 *   1|20120224|LVLT-1|LVLT-ARIN|e5e3b9c13678dfc483fb1f819d70883c_ARIN|ARIN
 *
 * The columns are taken from the format line, so the older five-column AS
 * section ("aut|changed|name|org_id|source", files before 2014) loads too;
 * the org section may come before or after the AS section. Every other '#'
 * line is a comment; blank lines are ignored.
 *
 * Semantics (also in analysis.h):
 *  - A data line before any format line, a line whose field count is not the
 *    section's, an AS number that is not 0..4294967295 in plain decimal, an
 *    empty org_id, a format line that names neither an AS nor an org section,
 *    and an AS or org_id defined twice are errors naming the file and line.
 *  - An AS whose org_id no org line defines is kept: its organisation name is
 *    the org_id itself (CAIDA's ids, "LVLT-ARIN", are readable and still group
 *    the ASes of one organisation) and its country "". The same fallback
 *    applies to an org line whose org_name is empty.
 *  - Names are kept as written (UTF-8 bytes, case kept), only blanks around
 *    org_id, org_name and country are trimmed and a CR before the newline is
 *    dropped.
 *
 * Memory: one string arena holding each line's text fields once (about the
 * size of the file), 12 bytes per AS, and while loading 12 bytes per AS and
 * 16 per organisation more (freed after the join). Lookups binary-search the
 * ASes sorted by number: O(log n).
 */
#include "tools/analysis/analysis.h"
#include "lib/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct as_entry {
    uint32_t asn;
    uint32_t name;      /* arena offset: org name (or org_id, see above) */
    uint32_t country;   /* arena offset; 0 is "" */
};

struct as2org {
    struct as_entry *as;
    size_t as_count;
    char *strings;
    size_t strings_len, strings_cap;
};

/* Loading state: the AS lines refer to orgs by id until the join. */
struct org_entry {
    uint32_t id, name, country;
    uint32_t line;
};

struct as_pending {
    uint32_t asn;
    uint32_t org_id;
    uint32_t line;
};

enum section { SEC_NONE, SEC_AUT, SEC_ORG };

struct loader {
    struct as2org *a;
    const char *name;
    enum section section;
    size_t fields;               /* columns of the current section */
    size_t col_aut, col_org_id;  /* AS section */
    size_t col_id, col_name, col_country; /* org section */
    struct as_pending *pending;
    size_t pending_count, pending_cap;
    struct org_entry *orgs;
    size_t org_count, org_cap;
};

#define MAX_FIELDS 16

/* Adds s to the arena; -1 on out of memory or an arena beyond 4 GiB. */
static int intern(struct as2org *a, const char *s, uint32_t *off)
{
    size_t need = strlen(s) + 1;
    if (need == 1) {
        *off = 0;
        return 0;
    }
    if (a->strings_len + need > UINT32_MAX)
        return -1;
    if (BUF_GROW(a->strings, a->strings_cap, a->strings_len + need, 65536))
        return -1;
    memcpy(a->strings + a->strings_len, s, need);
    *off = (uint32_t)a->strings_len;
    a->strings_len += need;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Splits at every '|' (empty fields kept); the count, or MAX_FIELDS + 1 if
 * there are more. */
static size_t split(char *line, char **fields)
{
    size_t n = 0;
    for (char *p = line;;) {
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
        fields[n++] = p;
        char *bar = strchr(p, '|');
        if (!bar)
            return n;
        *bar = '\0';
        p = bar + 1;
    }
}

static size_t column(char **fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(trim(fields[i]), name))
            return i;
    return SIZE_MAX;
}

/* "# format:aut|changed|aut_name|org_id|opaque_id|source" (a blank after the
 * colon allowed). Returns 1 if the line is a format line (handled), 0 if it
 * is an ordinary comment, -1 on error. */
static int format_line(struct loader *l, char *line, size_t lineno, char *err)
{
    char *p = line + 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, "format:", 7) != 0)
        return 0;
    char *fields[MAX_FIELDS];
    size_t n = split(p + 7, fields);
    if (n > MAX_FIELDS) {
        snprintf(err, KS_ERRLEN, "%s:%zu: format line with more than %d columns", l->name,
                 lineno, MAX_FIELDS);
        return -1;
    }
    const char *first = trim(fields[0]);
    if (!strcmp(first, "aut")) {
        l->col_aut = 0;
        l->col_org_id = column(fields, n, "org_id");
        if (l->col_org_id == SIZE_MAX) {
            snprintf(err, KS_ERRLEN, "%s:%zu: AS format line without an org_id column",
                     l->name, lineno);
            return -1;
        }
        l->section = SEC_AUT;
    } else if (!strcmp(first, "org_id")) {
        l->col_id = 0;
        l->col_name = column(fields, n, "org_name");
        if (l->col_name == SIZE_MAX)
            l->col_name = column(fields, n, "name");
        l->col_country = column(fields, n, "country");
        if (l->col_name == SIZE_MAX || l->col_country == SIZE_MAX) {
            snprintf(err, KS_ERRLEN,
                     "%s:%zu: org format line without org_name and country columns", l->name,
                     lineno);
            return -1;
        }
        l->section = SEC_ORG;
    } else {
        snprintf(err, KS_ERRLEN,
                 "%s:%zu: format line '%s' is neither an AS (aut|...) nor an org "
                 "(org_id|...) section",
                 l->name, lineno, first);
        return -1;
    }
    l->fields = n;
    return 1;
}

/* Plain decimal 0..UINT32_MAX, no sign or blanks. */
static int parse_asn(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int data_line(struct loader *l, char *line, size_t lineno, char *err)
{
    char *fields[MAX_FIELDS];
    if (l->section == SEC_NONE) {
        snprintf(err, KS_ERRLEN, "%s:%zu: data line before any '# format:' line", l->name,
                 lineno);
        return -1;
    }
    size_t n = split(line, fields);
    if (n != l->fields) {
        if (n > MAX_FIELDS)
            snprintf(err, KS_ERRLEN, "%s:%zu: more than %d '|'-separated fields, expected %zu",
                     l->name, lineno, MAX_FIELDS, l->fields);
        else
            snprintf(err, KS_ERRLEN, "%s:%zu: %zu '|'-separated fields, expected %zu (%s line)",
                     l->name, lineno, n, l->fields, l->section == SEC_AUT ? "AS" : "org");
        return -1;
    }
    if (lineno > UINT32_MAX) {
        snprintf(err, KS_ERRLEN, "%s:%zu: too many lines", l->name, lineno);
        return -1;
    }
    if (l->section == SEC_AUT) {
        struct as_pending e = {.line = (uint32_t)lineno};
        const char *org_id = trim(fields[l->col_org_id]);
        if (parse_asn(fields[l->col_aut], &e.asn) != 0) {
            snprintf(err, KS_ERRLEN, "%s:%zu: AS number '%.40s' is not 0..4294967295", l->name,
                     lineno, fields[l->col_aut]);
            return -1;
        }
        if (!*org_id) {
            snprintf(err, KS_ERRLEN, "%s:%zu: AS %u has an empty org_id", l->name, lineno,
                     e.asn);
            return -1;
        }
        if (BUF_GROW(l->pending, l->pending_cap, l->pending_count + 1, 1024) != 0 ||
            intern(l->a, org_id, &e.org_id) != 0)
            goto oom;
        l->pending[l->pending_count++] = e;
    } else {
        struct org_entry o = {.line = (uint32_t)lineno};
        const char *id = trim(fields[l->col_id]);
        if (!*id) {
            snprintf(err, KS_ERRLEN, "%s:%zu: empty org_id", l->name, lineno);
            return -1;
        }
        if (BUF_GROW(l->orgs, l->org_cap, l->org_count + 1, 1024) != 0 ||
            intern(l->a, id, &o.id) != 0 ||
            intern(l->a, trim(fields[l->col_name]), &o.name) != 0 ||
            intern(l->a, trim(fields[l->col_country]), &o.country) != 0)
            goto oom;
        l->orgs[l->org_count++] = o;
    }
    return 0;
oom:
    snprintf(err, KS_ERRLEN, "%s:%zu: out of memory", l->name, lineno);
    return -1;
}

/* qsort_r comparator; ctx is the arena. */
static int cmp_org(const void *x, const void *y, void *ctx)
{
    const struct org_entry *a = x, *b = y;
    const char *strings = ctx;
    int c = strcmp(strings + a->id, strings + b->id);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

static int cmp_pending(const void *x, const void *y)
{
    const struct as_pending *a = x, *b = y;
    if (a->asn != b->asn)
        return (a->asn > b->asn) - (a->asn < b->asn);
    return (a->line > b->line) - (a->line < b->line);
}

static const struct org_entry *find_org(const struct loader *l, const char *id)
{
    size_t lo = 0, hi = l->org_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->a->strings + l->orgs[mid].id, id);
        if (c == 0)
            return &l->orgs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Sorts both tables, rejects duplicates, and resolves every AS's org. */
static int join(struct loader *l, char *err)
{
    struct as2org *a = l->a;
    if (l->org_count > 1)
        qsort_r(l->orgs, l->org_count, sizeof(*l->orgs), cmp_org, a->strings);
    if (l->pending_count > 1)
        qsort(l->pending, l->pending_count, sizeof(*l->pending), cmp_pending);
    for (size_t i = 1; i < l->org_count; i++)
        if (!strcmp(a->strings + l->orgs[i].id, a->strings + l->orgs[i - 1].id)) {
            snprintf(err, KS_ERRLEN, "%s:%u: org_id '%.80s' already defined on line %u",
                     l->name, l->orgs[i].line, a->strings + l->orgs[i].id,
                     l->orgs[i - 1].line);
            return -1;
        }
    for (size_t i = 1; i < l->pending_count; i++)
        if (l->pending[i].asn == l->pending[i - 1].asn) {
            snprintf(err, KS_ERRLEN, "%s:%u: AS %u already defined on line %u", l->name,
                     l->pending[i].line, l->pending[i].asn, l->pending[i - 1].line);
            return -1;
        }
    a->as = malloc((l->pending_count ? l->pending_count : 1) * sizeof(*a->as));
    if (!a->as) {
        snprintf(err, KS_ERRLEN, "%s: out of memory", l->name);
        return -1;
    }
    for (size_t i = 0; i < l->pending_count; i++) {
        const struct as_pending *p = &l->pending[i];
        const struct org_entry *o = find_org(l, a->strings + p->org_id);
        struct as_entry *e = &a->as[a->as_count++];
        e->asn = p->asn;
        e->name = o && o->name ? o->name : p->org_id;
        e->country = o ? o->country : 0;
    }
    return 0;
}

int as2org_load_stream(struct as2org **out, FILE *in, const char *name, char *err)
{
    struct loader l = {.name = name};
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = -1;
    l.a = calloc(1, sizeof(*l.a));
    if (!l.a) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    /* Offset 0 of the arena is "" (intern maps empty strings there). */
    l.a->strings = malloc(65536);
    if (!l.a->strings) {
        snprintf(err, KS_ERRLEN, "out of memory");
        free(l.a);
        return -1;
    }
    l.a->strings[0] = '\0';
    l.a->strings_len = 1;
    l.a->strings_cap = 65536;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (lineno == 1 && n >= 2 && (unsigned char)line[0] == 0x1f &&
            (unsigned char)line[1] == 0x8b) {
            snprintf(err, KS_ERRLEN, "%s: gzip-compressed; decompress it first (gunzip)", name);
            goto done;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if ((size_t)n != strlen(line)) {
            snprintf(err, KS_ERRLEN, "%s:%zu: NUL byte in line", name, lineno);
            goto done;
        }
        if (*trim(line) == '\0')
            continue;
        if (line[0] == '#') {
            if (format_line(&l, line, lineno, err) < 0)
                goto done;
            continue;
        }
        if (data_line(&l, line, lineno, err) != 0)
            goto done;
    }
    if (ferror(in)) {
        snprintf(err, KS_ERRLEN, "%s: read error", name);
        goto done;
    }
    if (join(&l, err) != 0)
        goto done;
    rc = 0;
done:
    free(line);
    free(l.pending);
    free(l.orgs);
    if (rc == 0) {
        *out = l.a;
    } else {
        as2org_free(l.a);
    }
    return rc;
}

int as2org_load(struct as2org **out, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = as2org_load_stream(out, f, path, err);
    fclose(f);
    return rc;
}

int as2org_lookup(const struct as2org *a, uint32_t asn, const char **org, const char **country)
{
    size_t lo = 0, hi = a->as_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->as[mid].asn < asn)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == a->as_count || a->as[lo].asn != asn)
        return 0;
    *org = a->strings + a->as[lo].name;
    *country = a->strings + a->as[lo].country;
    return 1;
}

size_t as2org_count(const struct as2org *a)
{
    return a->as_count;
}

void as2org_free(struct as2org *a)
{
    if (!a)
        return;
    free(a->as);
    free(a->strings);
    free(a);
}
