/*
 * lifecycle.c - loads and validates tools/data/ JSON files (compiled in, or from
 * --data DIR) and answers "is minor X unsupported on day D" and "does CVE C
 * affect version V".
 */
#include "tools/analysis/analysis.h"
#include "lib/buf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generated at build time from tools/data/ (tools/CMakeLists.txt). */
extern const char ks_data_upstream_json[];
extern const char ks_data_providers_json[];
extern const char ks_data_cves_json[];
extern const char ks_data_api_removals_json[];
extern const char ks_data_etcd_json[];

/* Where an error is: file name and entry. */
struct where {
    const char *file;
    char *err;
};

#define FAIL(w, ...)                                                       \
    do {                                                                   \
        char msg_[KS_ERRLEN];                                              \
        snprintf(msg_, sizeof(msg_), __VA_ARGS__);                         \
        snprintf((w)->err, KS_ERRLEN, "%s: %s", (w)->file, msg_);          \
        return -1;                                                         \
    } while (0)

static char *read_file(const char *path, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (;;) {
        if (len + 1 >= cap) { /* full: room for one more byte and the NUL */
            if (cap >= (64u << 20)) {
                snprintf(err, KS_ERRLEN, "%s: larger than 64 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            if (BUF_GROW(buf, cap, len + 2, 1 << 16)) {
                free(buf);
                buf = NULL;
                break;
            }
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (buf && ferror(f)) {
        snprintf(err, KS_ERRLEN, "%s: read error", path);
        free(buf);
        buf = NULL;
    } else if (buf) {
        buf[len] = '\0';
    } else if (!err[0]) {
        snprintf(err, KS_ERRLEN, "%s: out of memory", path);
    }
    fclose(f);
    return buf;
}

static json_t *parse_data(const char *dir, const char *name, const char *builtin, char *err)
{
    json_error_t jerr;
    json_t *root;
    if (dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        err[0] = '\0';
        char *text = read_file(path, err);
        if (!text)
            return NULL;
        root = json_loads(text, 0, &jerr);
        free(text);
    } else {
        root = json_loads(builtin, 0, &jerr);
    }
    if (!root) {
        snprintf(err, KS_ERRLEN, "%s: line %d column %d: %s", name, jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, KS_ERRLEN, "%s: top level is not a JSON object", name);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* A required array member of obj. */
static json_t *get_array(struct where *w, json_t *obj, const char *key, const char *entry)
{
    json_t *a = json_object_get(obj, key);
    if (!json_is_array(a)) {
        snprintf(w->err, KS_ERRLEN, "%s: %s: \"%s\" missing or not an array", w->file, entry,
                 key);
        return NULL;
    }
    return a;
}

static int get_string(struct where *w, json_t *obj, const char *key, const char *entry,
                      const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) == 0)
        FAIL(w, "%s: \"%s\" missing or not a non-empty string", entry, key);
    *out = json_string_value(v);
    return 0;
}

/* A date member: a "YYYY-MM-DD" string, or null / absent when optional. */
static int get_date(struct where *w, json_t *obj, const char *key, const char *entry,
                    bool required, int32_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = KS_NO_DATE;
    if (!v || json_is_null(v)) {
        if (required)
            FAIL(w, "%s: \"%s\" is required", entry, key);
        return 0;
    }
    if (!json_is_string(v) || ks_date_parse(json_string_value(v), out) != 0)
        FAIL(w, "%s: \"%s\" is not a YYYY-MM-DD date", entry, key);
    return 0;
}

/* "1.21" -> 1, 21 */
static int parse_minor_name(const char *s, int *major, int *minor)
{
    struct kver v;
    if (kver_parse(s, &v) != 0 || v.patch >= 0 || v.pre != PRE_NONE || s[0] == 'v' ||
        strchr(s, '-') || strchr(s, '+'))
        return -1;
    *major = v.major;
    *minor = v.minor;
    return 0;
}

/* Checks that the dates given (KS_NO_DATE skipped) never decrease. */
static int check_order(struct where *w, const char *entry, const char *const names[],
                       const int32_t dates[], size_t n)
{
    int32_t last = KS_NO_DATE;
    const char *last_name = NULL;
    for (size_t i = 0; i < n; i++) {
        if (dates[i] == KS_NO_DATE)
            continue;
        if (last != KS_NO_DATE && dates[i] < last) {
            char a[11], b[11];
            ks_date_format(last, a);
            ks_date_format(dates[i], b);
            FAIL(w, "%s: %s %s is after %s %s", entry, last_name, a, names[i], b);
        }
        last = dates[i];
        last_name = names[i];
    }
    return 0;
}

/* The optional "revisions" of upstream.json: [{"published", "source"}], the
 * days its table was revised (by `data import`). */
static int load_upstream_revisions(struct lifecycle *lc, json_t *root, struct where *w)
{
    lc->upstream_revised = KS_NO_DATE;
    json_t *revs = json_object_get(root, "revisions");
    if (!revs)
        return 0;
    if (!json_is_array(revs))
        FAIL(w, "top level: \"revisions\" must be an array");
    for (size_t i = 0; i < json_array_size(revs); i++) {
        char entry[64];
        const char *source;
        int32_t day;
        json_t *e = json_array_get(revs, i);
        snprintf(entry, sizeof(entry), "revisions[%zu]", i);
        if (!json_is_object(e))
            FAIL(w, "%s: not an object", entry);
        if (get_date(w, e, "published", entry, true, &day) != 0 ||
            get_string(w, e, "source", entry, &source) != 0)
            return -1;
        if (day > lc->upstream_revised)
            lc->upstream_revised = day;
    }
    return 0;
}

static int load_upstream(struct lifecycle *lc, json_t *root, struct where *w)
{
    json_t *minors = get_array(w, root, "minors", "top level");
    if (!minors || load_upstream_revisions(lc, root, w) != 0)
        return -1;
    size_t n = json_array_size(minors);
    lc->minors = calloc(n ? n : 1, sizeof(*lc->minors));
    if (!lc->minors)
        FAIL(w, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(minors, i);
        char entry[64];
        snprintf(entry, sizeof(entry), "minors[%zu]", i);
        const char *name;
        struct lc_minor *m = &lc->minors[i];
        if (!json_is_object(e))
            FAIL(w, "%s: not an object", entry);
        if (get_string(w, e, "minor", entry, &name) != 0)
            return -1;
        snprintf(entry, sizeof(entry), "minors[%zu] (%s)", i, name);
        if (parse_minor_name(name, &m->major, &m->minor) != 0)
            FAIL(w, "%s: \"minor\" must look like 1.21", entry);
        if (get_date(w, e, "released", entry, true, &m->released) != 0 ||
            get_date(w, e, "end_of_standard_support", entry, false, &m->end_of_standard) != 0 ||
            get_date(w, e, "end_of_life", entry, false, &m->end_of_life) != 0)
            return -1;
        m->planned = json_is_true(json_object_get(e, "planned"));
        static const char *const names[] = {"released", "end_of_standard_support",
                                            "end_of_life"};
        int32_t dates[] = {m->released, m->end_of_standard, m->end_of_life};
        if (check_order(w, entry, names, dates, 3) != 0)
            return -1;
        if (i > 0) {
            const struct lc_minor *p = &lc->minors[i - 1];
            if (m->major < p->major || (m->major == p->major && m->minor <= p->minor))
                FAIL(w, "%s: minors must be listed once each, in ascending order", entry);
            if (m->released < p->released)
                FAIL(w, "%s: released before the previous minor", entry);
            if (m->end_of_life != KS_NO_DATE && p->end_of_life != KS_NO_DATE &&
                m->end_of_life < p->end_of_life)
                FAIL(w, "%s: end_of_life before the previous minor's", entry);
        }
        lc->minor_count++;
    }
    return 0;
}

/* Who published a revision: "provider" (its own page, docs repository,
 * changelog) or "aggregator" (a third party that mirrors it, dated when the
 * third party recorded it). An aggregator revision also bounds how early the
 * provider may have published the value: "published_not_before". */
static int load_revision_source(struct lc_revision *rev, json_t *e, struct where *w,
                                const char *entry)
{
    const char *kind;
    if (get_string(w, e, "source_kind", entry, &kind) != 0)
        return -1;
    if (!strcmp(kind, "provider")) {
        rev->aggregator = false;
        rev->published_not_before = rev->published;
        if (json_object_get(e, "published_not_before"))
            FAIL(w, "%s: \"published_not_before\" is only for aggregator revisions", entry);
        return 0;
    }
    if (strcmp(kind, "aggregator"))
        FAIL(w, "%s: \"source_kind\" must be \"provider\" or \"aggregator\"", entry);
    rev->aggregator = true;
    if (get_date(w, e, "published_not_before", entry, true, &rev->published_not_before) != 0)
        return -1;
    if (rev->published_not_before > rev->published)
        FAIL(w, "%s: \"published_not_before\" is after \"published\"", entry);
    return 0;
}

/* One revision of a provider row: {"published", "end_of_standard_support",
 * "end_of_extended_support", "source", "source_kind"[, "published_not_before"]}. */
static int load_revision(struct lc_revision *rev, json_t *e, struct where *w, const char *entry)
{
    const char *source;
    if (!json_is_object(e))
        FAIL(w, "%s: not an object", entry);
    if (get_date(w, e, "published", entry, true, &rev->published) != 0 ||
        get_date(w, e, "end_of_standard_support", entry, false, &rev->end_of_standard) != 0 ||
        get_date(w, e, "end_of_extended_support", entry, false, &rev->end_of_extended) != 0 ||
        get_string(w, e, "source", entry, &source) != 0)
        return -1;
    if (rev->end_of_extended != KS_NO_DATE &&
        (rev->end_of_standard == KS_NO_DATE || rev->end_of_extended < rev->end_of_standard))
        FAIL(w, "%s: end_of_extended_support needs an end_of_standard_support on or before it",
             entry);
    return load_revision_source(rev, e, w, entry);
}

static int load_provider_minor(struct lc_provider_minor *m, json_t *me, struct where *w,
                               const char *entry0)
{
    const char *name;
    char entry[192];
    if (!json_is_object(me))
        FAIL(w, "%s: not an object", entry0);
    if (get_string(w, me, "minor", entry0, &name) != 0)
        return -1;
    snprintf(entry, sizeof(entry), "%s (%s)", entry0, name);
    if (parse_minor_name(name, &m->major, &m->minor) != 0)
        FAIL(w, "%s: \"minor\" must look like 1.21", entry);
    if (get_date(w, me, "released", entry, false, &m->released) != 0)
        return -1;
    json_t *pv = json_object_get(me, "product_version");
    if (json_is_string(pv)) {
        if (json_string_length(pv) == 0 || json_string_length(pv) >= sizeof(m->product_version))
            FAIL(w, "%s: \"product_version\" must be 1 to %zu characters", entry,
                 sizeof(m->product_version) - 1);
        strcpy(m->product_version, json_string_value(pv));
    } else if (pv && !json_is_null(pv)) {
        FAIL(w, "%s: \"product_version\" must be a string or null", entry);
    }
    json_t *revs = get_array(w, me, "revisions", entry);
    if (!revs)
        return -1;
    if (json_array_size(revs) == 0)
        FAIL(w, "%s: \"revisions\" is empty", entry);
    m->revisions = calloc(json_array_size(revs), sizeof(*m->revisions));
    if (!m->revisions)
        FAIL(w, "out of memory");
    for (size_t i = 0; i < json_array_size(revs); i++) {
        char rentry[224];
        snprintf(rentry, sizeof(rentry), "%s revisions[%zu]", entry, i);
        struct lc_revision *rev = &m->revisions[i];
        if (load_revision(rev, json_array_get(revs, i), w, rentry) != 0)
            return -1;
        if (i > 0 && rev->published <= rev[-1].published)
            FAIL(w, "%s: revisions must be in order of \"published\", one per day", rentry);
        if (m->released != KS_NO_DATE && rev->end_of_standard != KS_NO_DATE &&
            rev->end_of_standard < m->released)
            FAIL(w, "%s: end_of_standard_support before \"released\"", rentry);
        m->revision_count++;
    }
    return 0;
}

/* "provider_history": the spans of days over which the provider's own dated
 * history (its documentation repository, changelog) was read. */
static int load_provider_history(struct lc_provider *p, json_t *e, struct where *w,
                                 const char *entry)
{
    json_t *spans = get_array(w, e, "provider_history", entry);
    if (!spans)
        return -1;
    p->history = calloc(json_array_size(spans) + 1, sizeof(*p->history));
    if (!p->history)
        FAIL(w, "out of memory");
    for (size_t i = 0; i < json_array_size(spans); i++) {
        json_t *span = json_array_get(spans, i);
        char sentry[160];
        const char *source;
        struct lc_span *h = &p->history[i];
        snprintf(sentry, sizeof(sentry), "%s provider_history[%zu]", entry, i);
        if (!json_is_object(span))
            FAIL(w, "%s: not an object", sentry);
        if (get_date(w, span, "from", sentry, true, &h->from) != 0 ||
            get_date(w, span, "to", sentry, true, &h->to) != 0 ||
            get_string(w, span, "source", sentry, &source) != 0)
            return -1;
        if (h->to < h->from)
            FAIL(w, "%s: \"to\" is before \"from\"", sentry);
        p->history_count++;
    }
    return 0;
}

/* An aggregator's date stands only where the provider's own history was not
 * read: inside a span of it, the provider's own commit dates the value. */
static int check_aggregator_dates(const struct lc_provider *p, const struct lc_provider_minor *m,
                                  struct where *w, const char *entry)
{
    for (size_t r = 0; r < m->revision_count; r++) {
        const struct lc_revision *rev = &m->revisions[r];
        for (size_t i = 0; rev->aggregator && i < p->history_count; i++) {
            if (rev->published < p->history[i].from || rev->published > p->history[i].to)
                continue;
            char day[11], from[11], to[11];
            ks_date_format(rev->published, day);
            ks_date_format(p->history[i].from, from);
            ks_date_format(p->history[i].to, to);
            FAIL(w, "%s (%d.%d) revisions[%zu]: an aggregator dates it %s, but the provider's "
                    "own history (provider_history[%zu], %s .. %s) covers that day: date it from "
                    "there", entry, m->major, m->minor, r, day, i, from, to);
        }
    }
    return 0;
}

static int load_provider(struct lc_provider *p, json_t *e, struct where *w, const char *entry0)
{
    const char *id, *title;
    char entry[96];
    if (!json_is_object(e))
        FAIL(w, "%s: not an object", entry0);
    if (get_string(w, e, "id", entry0, &id) != 0)
        return -1;
    snprintf(entry, sizeof(entry), "%s (%s)", entry0, id);
    if (get_string(w, e, "title", entry, &title) != 0)
        return -1;
    p->id = strdup(id);
    p->title = strdup(title);
    json_t *ext = json_object_get(e, "extended_name");
    if (json_is_string(ext) && json_string_length(ext) > 0)
        p->extended_name = strdup(json_string_value(ext));
    else if (ext && !json_is_null(ext))
        FAIL(w, "%s: \"extended_name\" must be a non-empty string or null", entry);
    json_t *rule = json_object_get(e, "older_minor_rule");
    if (!json_is_boolean(rule))
        FAIL(w, "%s: \"older_minor_rule\" must be true or false", entry);
    p->older_minor_rule = json_is_true(rule);
    json_t *rule_source = json_object_get(e, "older_minor_rule_source");
    if (p->older_minor_rule &&
        (!json_is_string(rule_source) || json_string_length(rule_source) == 0))
        FAIL(w, "%s: \"older_minor_rule\" is true: \"older_minor_rule_source\" must cite the "
                "policy", entry);
    json_t *names = get_array(w, e, "names", entry);
    json_t *minors = names ? get_array(w, e, "minors", entry) : NULL;
    if (!minors || load_provider_history(p, e, w, entry) != 0)
        return -1;
    p->names = calloc(json_array_size(names) + 1, sizeof(char *));
    p->minors = calloc(json_array_size(minors) + 1, sizeof(*p->minors));
    if (!p->id || !p->title || !p->names || !p->minors || (ext && json_is_string(ext) && !p->extended_name))
        FAIL(w, "out of memory");
    for (size_t i = 0; i < json_array_size(names); i++) {
        json_t *n = json_array_get(names, i);
        if (!json_is_string(n) || json_string_length(n) == 0)
            FAIL(w, "%s: names[%zu] is not a non-empty string", entry, i);
        if (!(p->names[p->name_count++] = strdup(json_string_value(n))))
            FAIL(w, "out of memory");
    }
    for (size_t i = 0; i < json_array_size(minors); i++) {
        char mentry[160];
        snprintf(mentry, sizeof(mentry), "%s minors[%zu]", entry, i);
        struct lc_provider_minor *m = &p->minors[i];
        p->minor_count++;
        if (load_provider_minor(m, json_array_get(minors, i), w, mentry) != 0 ||
            check_aggregator_dates(p, m, w, mentry) != 0)
            return -1;
        if (i > 0) {
            const struct lc_provider_minor *q = &p->minors[i - 1];
            if (m->major < q->major || (m->major == q->major && m->minor <= q->minor))
                FAIL(w, "%s: minors must be listed once each, in ascending order", mentry);
        }
    }
    return 0;
}

static int load_providers(struct lifecycle *lc, json_t *root, struct where *w)
{
    json_t *providers = get_array(w, root, "providers", "top level");
    if (!providers)
        return -1;
    size_t n = json_array_size(providers);
    lc->providers = calloc(n ? n : 1, sizeof(*lc->providers));
    if (!lc->providers)
        FAIL(w, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char entry[64];
        snprintf(entry, sizeof(entry), "providers[%zu]", i);
        lc->provider_count++;
        if (load_provider(&lc->providers[i], json_array_get(providers, i), w, entry) != 0)
            return -1;
        for (size_t a = 0; a < lc->providers[i].name_count; a++) {
            const struct lc_provider *first = lifecycle_provider_find(lc, lc->providers[i].names[a]);
            if (first != &lc->providers[i])
                FAIL(w, "%s: name \"%s\" is already used by provider %s", entry,
                     lc->providers[i].names[a], first->id);
        }
    }
    return 0;
}

/* One constraint list "OP V, OP V" or a bare version ("1.13.0" = "= 1.13.0"). */
static int parse_constraint(const char *text, struct version_constraint *r)
{
    char buf[256];
    if (strlen(text) >= sizeof(buf))
        return -1;
    strcpy(buf, text);
    r->bounds = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        while (*part == ' ')
            part++;
        enum constraint_op op = OP_EQ;
        if (!strncmp(part, "<=", 2)) op = OP_LE, part += 2;
        else if (!strncmp(part, ">=", 2)) op = OP_GE, part += 2;
        else if (*part == '<') op = OP_LT, part++;
        else if (*part == '>') op = OP_GT, part++;
        else if (*part == '=') op = OP_EQ, part++;
        while (*part == ' ')
            part++;
        char *end = part + strlen(part);
        while (end > part && end[-1] == ' ')
            *--end = '\0';
        if (r->bounds == sizeof(r->bound) / sizeof(r->bound[0]) || *part == 'v' ||
            kver_parse(part, &r->bound[r->bounds].version) != 0)
            return -1;
        r->bound[r->bounds++].op = op;
    }
    return r->bounds ? 0 : -1;
}

/* Does the constraint admit some version at all (lower bound <= upper)? */
static bool constraint_satisfiable(const struct version_constraint *r)
{
    for (size_t i = 0; i < r->bounds; i++)
        for (size_t j = 0; j < r->bounds; j++) {
            enum constraint_op lo = r->bound[i].op, hi = r->bound[j].op;
            if ((lo == OP_GE || lo == OP_GT || lo == OP_EQ) &&
                (hi == OP_LE || hi == OP_LT || hi == OP_EQ)) {
                int c = kver_compare(&r->bound[i].version, &r->bound[j].version);
                if (c > 0 || (c == 0 && (lo == OP_GT || hi == OP_LT)))
                    return false;
            }
        }
    return true;
}

static bool bound_holds(enum constraint_op op, const struct kver *v,
                        const struct kver *b)
{
    int c = kver_compare(v, b);
    switch (op) {
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    case OP_EQ: return c == 0;
    }
    return false;
}

static bool constraint_holds(const struct version_constraint *r, const struct kver *v)
{
    for (size_t i = 0; i < r->bounds; i++)
        if (!bound_holds(r->bound[i].op, v, &r->bound[i].version))
            return false;
    return true;
}

/* Does the constraint hold for v, or, when v has no patch, for every patch
 * of v's minor? */
static bool constraint_holds_surely(const struct version_constraint *r, const struct kver *v)
{
    if (v->patch >= 0)
        return constraint_holds(r, v);
    struct kver lo = {v->major, v->minor, 0, PRE_NONE, 0};
    struct kver hi = {v->major, v->minor, INT_MAX, PRE_NONE, 0};
    return constraint_holds(r, &lo) && constraint_holds(r, &hi);
}

/* An array of {"affected", "fixed"} (the key `key` of e) into *out. */
static int load_range_list(struct cve_range **out, size_t *count, json_t *e, const char *key,
                           struct where *w, const char *entry)
{
    json_t *ranges = get_array(w, e, key, entry);
    if (!ranges)
        return -1;
    if (json_array_size(ranges) == 0)
        FAIL(w, "%s: \"%s\" is empty", entry, key);
    if (!(*out = calloc(json_array_size(ranges), sizeof(**out))))
        FAIL(w, "out of memory");
    for (size_t i = 0; i < json_array_size(ranges); i++) {
        json_t *re = json_array_get(ranges, i);
        struct cve_range *r = &(*out)[i];
        json_t *aff = json_object_get(re, "affected"), *fixed = json_object_get(re, "fixed");
        if (!json_is_string(aff) || parse_constraint(json_string_value(aff), &r->affected) != 0)
            FAIL(w, "%s: %s[%zu]: \"affected\" must be constraints like \">= 1.20.0, <= 1.20.5\"",
                 entry, key, i);
        if (!constraint_satisfiable(&r->affected))
            FAIL(w, "%s: %s[%zu]: \"%s\" admits no version (lower bound above upper)", entry,
                 key, i, json_string_value(aff));
        if (json_is_string(fixed)) {
            if (kver_parse(json_string_value(fixed), &r->fixed) != 0 ||
                json_string_value(fixed)[0] == 'v')
                FAIL(w, "%s: %s[%zu]: \"fixed\" is not a version", entry, key, i);
            r->has_fixed = true;
            if (constraint_holds(&r->affected, &r->fixed))
                FAIL(w, "%s: %s[%zu]: fixed version %s is inside the affected range", entry, key,
                     i, json_string_value(fixed));
        } else if (!json_is_null(fixed)) {
            FAIL(w, "%s: %s[%zu]: \"fixed\" must be a version string or null", entry, key, i);
        }
        (*count)++;
    }
    return 0;
}

/* "ranges", and the optional "other_reading" {"reading", "ranges", "source"}:
 * where sources disagree on which releases fix a flaw, the reading the
 * headline does not use, counted beside it in cves_all. */
static int load_ranges(struct cve *c, json_t *e, struct where *w, const char *entry)
{
    if (load_range_list(&c->ranges, &c->range_count, e, "ranges", w, entry) != 0)
        return -1;
    json_t *other = json_object_get(e, "other_reading");
    if (!other || json_is_null(other))
        return 0;
    char oentry[128];
    const char *text;
    snprintf(oentry, sizeof(oentry), "%s other_reading", entry);
    if (!json_is_object(other))
        FAIL(w, "%s: not an object", oentry);
    if (get_string(w, other, "reading", oentry, &text) != 0 ||
        get_string(w, other, "source", oentry, &text) != 0)
        return -1;
    return load_range_list(&c->other_ranges, &c->other_range_count, other, "ranges", w, oentry);
}

/* "fix" and "mitigation": "available" needs a fixed version in some range,
 * "none" needs every range unfixed and says what to do instead. */
static int load_fix(struct cve *c, json_t *e, struct where *w, const char *entry)
{
    const char *fix;
    if (get_string(w, e, "fix", entry, &fix) != 0)
        return -1;
    bool any_fixed = false;
    for (size_t i = 0; i < c->range_count; i++)
        any_fixed |= c->ranges[i].has_fixed;
    if (!strcmp(fix, "available")) {
        if (!any_fixed)
            FAIL(w, "%s: \"fix\" is \"available\" but no range has a fixed version", entry);
        c->has_fix = true;
    } else if (!strcmp(fix, "none")) {
        const char *mitigation;
        if (any_fixed)
            FAIL(w, "%s: \"fix\" is \"none\" but a range has a fixed version", entry);
        if (get_string(w, e, "mitigation", entry, &mitigation) != 0)
            return -1;
    } else {
        FAIL(w, "%s: \"fix\" must be \"available\" or \"none\"", entry);
    }
    return 0;
}

/* "unauthenticated", "unauthenticated_versions", "feature_gates". */
static int load_exposure(struct cve *c, json_t *e, struct where *w, const char *entry)
{
    json_t *unauth = json_object_get(e, "unauthenticated");
    if (!json_is_boolean(unauth))
        FAIL(w, "%s: \"unauthenticated\" must be true or false", entry);
    c->unauthenticated = json_is_true(unauth);
    json_t *cond = json_object_get(e, "unauthenticated_versions");
    c->unauthenticated_all = true;
    if (json_is_string(cond)) {
        if (!c->unauthenticated)
            FAIL(w, "%s: \"unauthenticated_versions\" given but \"unauthenticated\" is false",
                 entry);
        if (parse_constraint(json_string_value(cond), &c->unauthenticated_versions) != 0 ||
            !constraint_satisfiable(&c->unauthenticated_versions))
            FAIL(w, "%s: \"unauthenticated_versions\" must be constraints like \"< 1.14.0\"",
                 entry);
        c->unauthenticated_all = false;
    } else if (cond && !json_is_null(cond)) {
        FAIL(w, "%s: \"unauthenticated_versions\" must be a constraint string or null", entry);
    }
    json_t *gates = get_array(w, e, "feature_gates", entry);
    if (!gates)
        return -1;
    for (size_t i = 0; i < json_array_size(gates); i++)
        if (!json_is_string(json_array_get(gates, i)))
            FAIL(w, "%s: feature_gates[%zu] is not a string", entry, i);
    c->feature_gate_count = json_array_size(gates);
    return 0;
}

/* "disclosed" (a date or null) and, with a date, its "disclosed_source". */
static int load_disclosure(struct cve *c, json_t *e, struct where *w, const char *entry)
{
    if (!json_object_get(e, "disclosed"))
        FAIL(w, "%s: \"disclosed\" is required (a date, or null when unsourced)", entry);
    if (get_date(w, e, "disclosed", entry, false, &c->disclosed) != 0)
        return -1;
    const char *source;
    if (c->disclosed != KS_NO_DATE && get_string(w, e, "disclosed_source", entry, &source) != 0)
        return -1;
    return 0;
}

static int load_cve(struct cve *c, json_t *e, struct where *w, const char *entry0)
{
    const char *id, *name, *severity, *scope, *scope_source;
    char entry[96];
    if (!json_is_object(e))
        FAIL(w, "%s: not an object", entry0);
    if (get_string(w, e, "id", entry0, &id) != 0)
        return -1;
    snprintf(entry, sizeof(entry), "%s (%s)", entry0, id);
    if (strncmp(id, "CVE-", 4) != 0)
        FAIL(w, "%s: id must start with CVE-", entry);
    if (get_string(w, e, "name", entry, &name) != 0 ||
        get_string(w, e, "severity", entry, &severity) != 0 ||
        get_string(w, e, "scope", entry, &scope) != 0)
        return -1;
    static const char *const scopes[] = {"apiserver", "node", "client", "other"};
    size_t s;
    for (s = 0; s < 4 && strcmp(scope, scopes[s]); s++)
        ;
    if (s == 4)
        FAIL(w, "%s: scope must be apiserver, node, client or other", entry);
    c->scope = (enum cve_scope)s;
    if (get_string(w, e, "scope_source", entry, &scope_source) != 0)
        return -1;
    json_t *cvss = json_object_get(e, "cvss");
    if (!json_is_number(cvss) || json_number_value(cvss) < 0 || json_number_value(cvss) > 10)
        FAIL(w, "%s: \"cvss\" must be a number from 0 to 10", entry);
    c->cvss = json_number_value(cvss);
    c->unverified = json_is_true(json_object_get(e, "unverified"));
    c->id = strdup(id);
    c->name = strdup(name);
    c->severity = strdup(severity);
    if (!c->id || !c->name || !c->severity)
        FAIL(w, "out of memory");
    return load_ranges(c, e, w, entry) != 0 || load_fix(c, e, w, entry) != 0 ||
                   load_exposure(c, e, w, entry) != 0 || load_disclosure(c, e, w, entry) != 0
               ? -1
               : 0;
}

static int load_cves(struct lifecycle *lc, json_t *root, struct where *w)
{
    json_t *cves = get_array(w, root, "cves", "top level");
    if (!cves)
        return -1;
    size_t n = json_array_size(cves);
    lc->cves = calloc(n ? n : 1, sizeof(*lc->cves));
    if (!lc->cves)
        FAIL(w, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char entry[64];
        snprintf(entry, sizeof(entry), "cves[%zu]", i);
        lc->cve_count++;
        if (load_cve(&lc->cves[i], json_array_get(cves, i), w, entry) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(lc->cves[j].id, lc->cves[i].id))
                FAIL(w, "%s: %s is listed twice (also cves[%zu])", entry, lc->cves[i].id, j);
    }
    return 0;
}

static int load_removals(struct lifecycle *lc, json_t *root, struct where *w)
{
    json_t *removals = get_array(w, root, "removals", "top level");
    if (!removals)
        return -1;
    for (size_t i = 0; i < json_array_size(removals); i++) {
        json_t *e = json_array_get(removals, i);
        char entry[64];
        const char *name;
        int major, minor;
        snprintf(entry, sizeof(entry), "removals[%zu]", i);
        if (!json_is_object(e))
            FAIL(w, "%s: not an object", entry);
        if (get_string(w, e, "minor", entry, &name) != 0)
            return -1;
        if (parse_minor_name(name, &major, &minor) != 0)
            FAIL(w, "%s: \"minor\" must look like 1.21", entry);
        if (!get_array(w, e, "removed", entry))
            return -1;
    }
    lc->api_removals = json_incref(removals);
    return 0;
}

/* etcd.json: "supported_minors" (a positive count) and "minors", each
 * {"minor": "3.5", "released": date, "source"}, ascending. */
static int load_etcd(struct lifecycle *lc, json_t *root, struct where *w)
{
    json_t *minors = get_array(w, root, "minors", "top level");
    json_t *supported = json_object_get(root, "supported_minors");
    if (!minors)
        return -1;
    if (!json_is_integer(supported) || json_integer_value(supported) < 1 ||
        json_integer_value(supported) > 16)
        FAIL(w, "top level: \"supported_minors\" must be a count from 1 to 16");
    lc->etcd_supported = (unsigned)json_integer_value(supported);
    lc->etcd_minors = calloc(json_array_size(minors) + 1, sizeof(*lc->etcd_minors));
    if (!lc->etcd_minors)
        FAIL(w, "out of memory");
    for (size_t i = 0; i < json_array_size(minors); i++) {
        json_t *e = json_array_get(minors, i);
        struct lc_etcd_minor *m = &lc->etcd_minors[i];
        const char *name, *source;
        char entry[64];
        snprintf(entry, sizeof(entry), "minors[%zu]", i);
        if (!json_is_object(e))
            FAIL(w, "%s: not an object", entry);
        if (get_string(w, e, "minor", entry, &name) != 0)
            return -1;
        snprintf(entry, sizeof(entry), "minors[%zu] (%s)", i, name);
        int used = 0;
        if (sscanf(name, "%3d.%3d%n", &m->major, &m->minor, &used) != 2 ||
            (size_t)used != strlen(name))
            FAIL(w, "%s: \"minor\" must look like 3.5", entry);
        if (get_date(w, e, "released", entry, true, &m->released) != 0 ||
            get_string(w, e, "source", entry, &source) != 0)
            return -1;
        if (i > 0 && (m->major < m[-1].major ||
                      (m->major == m[-1].major && m->minor <= m[-1].minor) ||
                      m->released < m[-1].released))
            FAIL(w, "%s: minors must be listed once each, ascending, released in order", entry);
        lc->etcd_minor_count++;
    }
    return 0;
}

static int check_sources(json_t *root, struct where *w)
{
    json_t *sources = json_object_get(root, "sources");
    if (!json_is_array(sources) || json_array_size(sources) == 0)
        FAIL(w, "top level: \"sources\" must list where the data comes from");
    return 0;
}

/* Loads the four files from dir, or the compiled-in copies when dir is
 * NULL; or, when `replaced` is not NULL, that file from `text` after the
 * compiled-in upstream.json (which load_cves needs) and no other. */
static int load_files(struct lifecycle **out, const char *dir, const char *replaced,
                      const char *text, char *err)
{
    static const struct {
        const char *file;
        int (*load)(struct lifecycle *, json_t *, struct where *);
    } files[] = {   /* upstream first: load_cves reads its release dates */
        {"upstream.json", load_upstream},
        {"providers.json", load_providers},
        {"cves.json", load_cves},
        {"api-removals.json", load_removals},
        {"etcd.json", load_etcd},
    };
    struct lifecycle *lc = calloc(1, sizeof(*lc));
    if (!lc) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct where w = {files[i].file, err};
        bool replace = replaced && !strcmp(replaced, files[i].file);
        if (replaced && !replace && i > 0)
            continue;
        json_t *root = parse_data(replace ? NULL : dir, files[i].file,
                                  replace ? text : lifecycle_builtin_text(files[i].file), err);
        int rc = root ? check_sources(root, &w) : -1;
        if (rc == 0)
            rc = files[i].load(lc, root, &w);
        json_decref(root);
        if (rc != 0) {
            lifecycle_free(lc);
            return -1;
        }
    }
    *out = lc;
    return 0;
}

const char *const lifecycle_data_files[LC_DATA_FILE_COUNT + 1] = {"upstream.json", "providers.json", "cves.json",
                                            "api-removals.json", "etcd.json", NULL};

const char *lifecycle_builtin_text(const char *file)
{
    static const struct {
        const char *file, *text;
    } builtin[] = {
        {"upstream.json", ks_data_upstream_json},
        {"providers.json", ks_data_providers_json},
        {"cves.json", ks_data_cves_json},
        {"api-removals.json", ks_data_api_removals_json},
        {"etcd.json", ks_data_etcd_json},
    };
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (!strcmp(builtin[i].file, file))
            return builtin[i].text;
    return NULL;
}

int lifecycle_load(struct lifecycle **out, const char *dir, char *err)
{
    return load_files(out, dir, NULL, NULL, err);
}

int lifecycle_load_text(struct lifecycle **out, const char *file, const char *text, char *err)
{
    return load_files(out, NULL, file, text, err);
}

void lifecycle_free(struct lifecycle *lc)
{
    if (!lc)
        return;
    for (size_t i = 0; i < lc->provider_count; i++) {
        struct lc_provider *p = &lc->providers[i];
        free(p->id);
        free(p->title);
        free(p->extended_name);
        for (size_t j = 0; j < p->minor_count; j++)
            free(p->minors[j].revisions);
        for (size_t j = 0; j < p->name_count; j++)
            free(p->names[j]);
        free(p->names);
        free(p->minors);
        free(p->history);
    }
    for (size_t i = 0; i < lc->cve_count; i++) {
        free(lc->cves[i].id);
        free(lc->cves[i].name);
        free(lc->cves[i].severity);
        free(lc->cves[i].ranges);
        free(lc->cves[i].other_ranges);
    }
    free(lc->providers);
    free(lc->cves);
    free(lc->minors);
    json_decref(lc->api_removals);
    free(lc->etcd_minors);
    free(lc);
}

/* The status given an end date of this minor (or KS_NO_DATE) and whether a
 * newer minor of the same table is already past its end on day. */
static enum lc_status status_from(int32_t end, bool newer_ended, int32_t day)
{
    if (end != KS_NO_DATE)
        return day > end ? LC_UNSUPPORTED : LC_SUPPORTED;
    return newer_ended ? LC_UNSUPPORTED : LC_SUPPORTED;
}

static int cmp_minor(int amaj, int amin, int bmaj, int bmin)
{
    return amaj != bmaj ? (amaj > bmaj) - (amaj < bmaj) : (amin > bmin) - (amin < bmin);
}

enum lc_status lifecycle_upstream_status(const struct lifecycle *lc, int major, int minor,
                                         int32_t day)
{
    if (major != 1 || minor < 0)
        return LC_UNKNOWN;
    bool newer_ended = false, listed = false;
    int32_t end = KS_NO_DATE;
    for (size_t i = 0; i < lc->minor_count; i++) {
        const struct lc_minor *m = &lc->minors[i];
        int c = cmp_minor(m->major, m->minor, major, minor);
        if (c == 0) {
            listed = true;
            end = m->end_of_life;
        } else if (c > 0 && m->end_of_life != KS_NO_DATE && day > m->end_of_life) {
            newer_ended = true;
        }
    }
    if (!listed)
        return newer_ended ? LC_UNSUPPORTED : LC_UNKNOWN;
    return status_from(end, newer_ended, day);
}

const struct lc_provider *lifecycle_provider_find(const struct lifecycle *lc,
                                                  const char *provider)
{
    if (!provider)
        return NULL;
    for (size_t i = 0; i < lc->provider_count; i++)
        for (size_t j = 0; j < lc->providers[i].name_count; j++)
            if (!strcmp(lc->providers[i].names[j], provider))
                return &lc->providers[i];
    return NULL;
}

static void append_stale(char *out, size_t size, size_t *len, const char *name, int32_t newest)
{
    char date[11];
    ks_date_format(newest, date);
    int n = snprintf(out + *len, size - *len, "%s%s (newest %s)", *len ? ", " : "", name, date);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

size_t lifecycle_stale_calendars(const struct lifecycle *lc, int32_t day, char *out,
                                 size_t size)
{
    size_t count = 0, len = 0;
    if (size)
        out[0] = '\0';
    int32_t newest = lc->upstream_revised;
    for (size_t i = 0; i < lc->minor_count; i++)
        if (lc->minors[i].released > newest)
            newest = lc->minors[i].released;
    if (lc->minor_count && newest != KS_NO_DATE && day - newest > LC_STALE_DAYS) {
        count++;
        if (size)
            append_stale(out, size, &len, "upstream", newest);
    }
    for (size_t p = 0; p < lc->provider_count; p++) {
        const struct lc_provider *prov = &lc->providers[p];
        newest = KS_NO_DATE;
        for (size_t m = 0; m < prov->minor_count; m++) {
            const struct lc_provider_minor *row = &prov->minors[m];
            if (row->revisions[row->revision_count - 1].published > newest)
                newest = row->revisions[row->revision_count - 1].published;
        }
        if (newest != KS_NO_DATE && day - newest > LC_STALE_DAYS) {
            count++;
            if (size)
                append_stale(out, size, &len, prov->id, newest);
        }
    }
    return count;
}

const struct lc_revision *lifecycle_revision_on(const struct lc_provider_minor *m, int32_t day,
                                                enum lc_calendar calendar)
{
    if (calendar == LC_CALENDAR_FINAL)
        return &m->revisions[m->revision_count - 1];
    /* The latest revision published by day; before the first one, the first
     * one (the earliest state the sources show stands for the time before). */
    size_t i = 0;
    while (i + 1 < m->revision_count && m->revisions[i + 1].published <= day)
        i++;
    return &m->revisions[i];
}

/* The end date of a row in a view; KS_NO_DATE when none is announced. */
static int32_t revision_end(const struct lc_revision *rev, enum lc_view view)
{
    if (view == LC_VIEW_EXTENDED && rev->end_of_extended != KS_NO_DATE)
        return rev->end_of_extended;
    return rev->end_of_standard;
}

enum lc_status lifecycle_provider_status(const struct lifecycle *lc, const char *provider,
                                         int major, int minor, int32_t day,
                                         enum lc_calendar calendar, enum lc_view view)
{
    const struct lc_provider *p = lifecycle_provider_find(lc, provider);
    if (!p)
        return lifecycle_upstream_status(lc, major, minor, day);
    if (major != 1 || minor < 0)
        return LC_UNKNOWN;
    bool newer_ended = false;
    for (size_t i = 0; i < p->minor_count; i++) {
        const struct lc_provider_minor *m = &p->minors[i];
        int32_t end = revision_end(lifecycle_revision_on(m, day, calendar), view);
        int c = cmp_minor(m->major, m->minor, major, minor);
        if (c == 0)
            return end != KS_NO_DATE && day > end ? LC_UNSUPPORTED : LC_SUPPORTED;
        if (c > 0 && end != KS_NO_DATE && day > end)
            newer_ended = true;
    }
    return p->older_minor_rule && newer_ended ? LC_UNSUPPORTED : LC_UNKNOWN;
}

bool cve_affects(const struct cve *cve, const struct kver *v)
{
    /* An unknown patch matches only when every patch of the minor is in one
     * range. */
    for (size_t i = 0; i < cve->range_count; i++)
        if (constraint_holds_surely(&cve->ranges[i].affected, v))
            return true;
    return false;
}

bool cve_affects_other_reading(const struct cve *cve, const struct kver *v)
{
    for (size_t i = 0; i < cve->other_range_count; i++)
        if (constraint_holds_surely(&cve->other_ranges[i].affected, v))
            return true;
    return false;
}

bool cve_public_on(const struct cve *cve, int32_t day)
{
    return cve->disclosed != KS_NO_DATE && cve->disclosed <= day;
}

bool cve_unauthenticated_on(const struct cve *cve, const struct kver *v)
{
    return cve->unauthenticated && cve->feature_gate_count == 0 && cve_affects(cve, v) &&
           (cve->unauthenticated_all || constraint_holds_surely(&cve->unauthenticated_versions, v));
}

bool cve_headline(const struct cve *cve, const struct kver *v, int32_t day)
{
    return cve->scope == CVE_SCOPE_APISERVER && cve->has_fix && cve_public_on(cve, day) &&
           cve_unauthenticated_on(cve, v);
}

const char *cve_scope_name(enum cve_scope scope)
{
    static const char *const names[] = {"apiserver", "node", "client", "other"};
    return (unsigned)scope < 4 ? names[scope] : "unknown";
}

int lc_calendar_parse(const char *text, enum lc_calendar *out)
{
    if (!text || !strcmp(text, "published"))
        *out = LC_CALENDAR_PUBLISHED;
    else if (!strcmp(text, "final"))
        *out = LC_CALENDAR_FINAL;
    else
        return -1;
    return 0;
}
