/*
 * lifecycle_import.c - adds what an endoflife.date API answer says to the
 * lifecycle data (upstream.json for product "kubernetes", providers.json for
 * the managed providers), as revisions dated the day of the import and
 * marked with their source: the survey's own record of when it learnt a
 * date, never a claim about when the provider published it.
 *
 * Two shapes of the API are read: v1 (`/api/v1/products/P`: {"result":
 * {"name": P, "releases": [{"name", "releaseDate", "eoasFrom", "eolFrom",
 * "eoesFrom"}]}}) and the older per-product array (`/api/P.json`: [{"cycle",
 * "releaseDate", "support", "eol", "extendedSupport"}], where a date field
 * may also be true/false). Everything is checked before anything changes:
 * a file that does not parse, a release that is not a 1.N minor or a date
 * that is not a date fails the whole import, naming the release.
 */
#include "tools/analysis/analysis.h"

#include <stdio.h>
#include <string.h>

/* endoflife.date product -> providers.json id (the upstream table for
 * "kubernetes"). OpenShift's cycles are OpenShift releases whose Kubernetes
 * minor the file does not give, so it is not importable. */
static const struct {
    const char *product, *provider;
} products[] = {
    {"kubernetes", NULL},
    {"amazon-eks", "eks"},
    {"google-kubernetes-engine", "gke"},
    {"azure-kubernetes-service", "aks"},
    {"alibaba-ack", "ack"},
};

/* One release of the file, in the terms of the data files. */
struct eol_release {
    char minor[16];
    int major, minor_number;
    json_t *released, *end_of_standard, *end_of_life, *end_of_extended; /* string or NULL */
};

#define IMPORT_FAIL(...)                                   \
    do {                                                   \
        snprintf(err, KS_ERRLEN, __VA_ARGS__);             \
        return -1;                                         \
    } while (0)

/* A date field of a release: a YYYY-MM-DD string (its date part, for the
 * timestamps some answers carry), or null/false/true/absent = none (true
 * says "yes, ended" without a date, which gives nothing to record). */
static int release_date(json_t *rel, const char *key, const char *where, json_t **out,
                        char *err)
{
    json_t *v = json_object_get(rel, key);
    *out = NULL;
    if (!v || json_is_null(v) || json_is_boolean(v))
        return 0;
    int32_t day;
    char text[11];
    if (!json_is_string(v) || json_string_length(v) < 10)
        IMPORT_FAIL("%s: \"%s\" is not a date", where, key);
    memcpy(text, json_string_value(v), 10);
    text[10] = '\0';
    if (ks_date_parse(text, &day) != 0 || (json_string_length(v) > 10 && json_string_value(v)[10] != 'T'))
        IMPORT_FAIL("%s: \"%s\" is not a date", where, key);
    *out = json_string(text);
    return 0;
}

static void release_clear(struct eol_release *r)
{
    json_decref(r->released);
    json_decref(r->end_of_standard);
    json_decref(r->end_of_life);
    json_decref(r->end_of_extended);
    memset(r, 0, sizeof(*r));
}

/* Reads release i of either shape into r. For providers, endoflife.date's
 * "eol" is the end of standard support and "eoes" the end of the paid
 * extension (EKS extended support, AKS LTS); for Kubernetes, "eoas" is the
 * end of the regular patch cadence and "eol" the last patch. */
static int release_read(json_t *rel, bool v1, size_t i, struct eol_release *r, char *err)
{
    char where[64];
    snprintf(where, sizeof(where), "releases[%zu]", i);
    memset(r, 0, sizeof(*r));
    if (!json_is_object(rel))
        IMPORT_FAIL("%s: not an object", where);
    json_t *name = json_object_get(rel, v1 ? "name" : "cycle");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof(r->minor))
        IMPORT_FAIL("%s: \"%s\" missing or not a short string", where, v1 ? "name" : "cycle");
    snprintf(r->minor, sizeof(r->minor), "%s", json_string_value(name));
    snprintf(where, sizeof(where), "releases[%zu] (%s)", i, r->minor);
    struct kver v;
    if (kver_parse(r->minor, &v) != 0 || v.patch >= 0 || v.pre != PRE_NONE || v.major != 1 ||
        strpbrk(r->minor, "v-+"))
        IMPORT_FAIL("%s: not a Kubernetes minor like 1.31", where);
    r->major = v.major;
    r->minor_number = v.minor;
    if (release_date(rel, "releaseDate", where, &r->released, err) != 0 ||
        release_date(rel, v1 ? "eoasFrom" : "support", where, &r->end_of_standard, err) != 0 ||
        release_date(rel, v1 ? "eolFrom" : "eol", where, &r->end_of_life, err) != 0 ||
        release_date(rel, v1 ? "eoesFrom" : "extendedSupport", where, &r->end_of_extended,
                     err) != 0) {
        release_clear(r);
        return -1;
    }
    return 0;
}

/* The releases array and product name of either shape. */
static int answer_parse(json_t *root, const char *product_given, json_t **releases,
                        const char **product, bool *v1, char *err)
{
    if (json_is_array(root)) {
        if (!product_given)
            IMPORT_FAIL("the file is the per-product API array, which does not name its product: "
                        "give --product (e.g. amazon-eks)");
        *releases = root;
        *product = product_given;
        *v1 = false;
        return 0;
    }
    json_t *result = json_object_get(root, "result");
    json_t *name = json_object_get(result, "name");
    *releases = json_object_get(result, "releases");
    if (!json_is_object(result) || !json_is_string(name) || !json_is_array(*releases))
        IMPORT_FAIL("not an endoflife.date API answer: expected {\"result\": {\"name\", "
                    "\"releases\": [...]}} (API v1) or an array of cycles");
    *product = json_string_value(name);
    if (product_given && strcmp(product_given, *product))
        IMPORT_FAIL("the file is for product %s, not %s", *product, product_given);
    *v1 = true;
    return 0;
}

static int cmp_minor_names(int amaj, int amin, int bmaj, int bmin)
{
    return amaj != bmaj ? (amaj > bmaj) - (amaj < bmaj) : (amin > bmin) - (amin < bmin);
}

/* The index in `rows` (objects with "minor") where minor r belongs; *found
 * tells whether it is there already. */
static size_t row_position(json_t *rows, const struct eol_release *r, bool *found)
{
    size_t i;
    *found = false;
    for (i = 0; i < json_array_size(rows); i++) {
        int major, minor;
        const char *name = json_string_value(json_object_get(json_array_get(rows, i), "minor"));
        if (!name || sscanf(name, "%d.%d", &major, &minor) != 2)
            continue;
        int c = cmp_minor_names(major, minor, r->major, r->minor_number);
        if (c == 0)
            *found = true;
        if (c >= 0)
            break;
    }
    return i;
}

/* A new value wins over the stored one; none (NULL) never erases a date. */
static bool date_changes(json_t *stored, json_t *imported)
{
    return imported && !json_equal(stored, imported);
}

static json_t *date_or_null(json_t *d)
{
    return d ? json_incref(d) : json_null();
}

/* Upstream: add missing minors; for listed ones, take new dates. One
 * upstream "revisions" entry records the import (its newest date is what
 * the stale-data warning reads). */
static int import_upstream(json_t *upstream, json_t *releases, bool v1, const char *today,
                           const char *source, struct lc_import_result *res, char *err)
{
    json_t *minors = json_object_get(upstream, "minors");
    if (!json_is_array(minors))
        IMPORT_FAIL("upstream.json: \"minors\" missing");
    for (size_t i = 0; i < json_array_size(releases); i++) {
        struct eol_release r;
        if (release_read(json_array_get(releases, i), v1, i, &r, err) != 0)
            return -1;
        bool found;
        size_t at = row_position(minors, &r, &found);
        json_t *row = found ? json_array_get(minors, at) : NULL;
        if (!found) {
            if (!r.released) {
                snprintf(err, KS_ERRLEN, "releases[%zu] (%s): a new minor needs a releaseDate", i,
                         r.minor);
                release_clear(&r);
                return -1;
            }
            row = json_pack("{s:s, s:O, s:o, s:o, s:s}", "minor", r.minor, "released",
                            r.released, "end_of_standard_support", date_or_null(r.end_of_standard),
                            "end_of_life", date_or_null(r.end_of_life), "source", source);
            json_array_insert_new(minors, at, row);
            res->added_minors++;
        } else {
            bool changed = false;
            const char *keys[] = {"released", "end_of_standard_support", "end_of_life"};
            json_t *values[] = {r.released, r.end_of_standard, r.end_of_life};
            for (int k = 0; k < 3; k++) {
                if (!date_changes(json_object_get(row, keys[k]), values[k]))
                    continue;
                json_object_set(row, keys[k], values[k]);
                changed = true;
            }
            if (changed) {
                json_object_del(row, "planned");
                json_object_set_new(row, "source", json_string(source));
                res->changed_minors++;
            }
        }
        release_clear(&r);
    }
    json_t *revisions = json_object_get(upstream, "revisions");
    if (!revisions) {
        revisions = json_array();
        json_object_set_new(upstream, "revisions", revisions);
    }
    json_array_append_new(revisions, json_pack("{s:s, s:s}", "published", today, "source", source));
    return 0;
}

/* A revision of a provider row, dated today by the aggregator; the provider
 * published it no earlier than `not_before` (the previous revision's day:
 * the data showed the earlier value then; or the minor's release). */
static json_t *import_revision(const char *today, json_t *eos, json_t *eoes, json_t *not_before,
                               const char *source)
{
    return json_pack("{s:s, s:o, s:o, s:s, s:s, s:O}", "published", today,
                     "end_of_standard_support", date_or_null(eos), "end_of_extended_support",
                     date_or_null(eoes), "source", source, "source_kind", "aggregator",
                     "published_not_before", not_before);
}

static int import_provider_release(json_t *minors, struct eol_release *r, size_t i,
                                   const char *today, const char *source,
                                   struct lc_import_result *res, char *err)
{
    bool found;
    size_t at = row_position(minors, r, &found);
    if (!found) {
        /* Announced no earlier than the minor's release, unless that is
         * still to come. */
        json_t *today_json = json_string(today);
        json_t *not_before = r->released && strcmp(json_string_value(r->released), today) < 0
                                 ? r->released
                                 : today_json;
        json_t *row = json_pack(
            "{s:s, s:o, s:[o]}", "minor", r->minor, "released", date_or_null(r->released),
            "revisions", import_revision(today, r->end_of_life, r->end_of_extended, not_before,
                                         source));
        json_decref(today_json);
        json_array_insert_new(minors, at, row);
        res->added_minors++;
        return 0;
    }
    json_t *row = json_array_get(minors, at);
    json_t *revisions = json_object_get(row, "revisions");
    json_t *last = json_array_get(revisions, json_array_size(revisions) - 1);
    json_t *eos = json_object_get(last, "end_of_standard_support");
    json_t *eoes = json_object_get(last, "end_of_extended_support");
    if (!date_changes(eos, r->end_of_life) && !date_changes(eoes, r->end_of_extended)) {
        res->unchanged++;
        return 0;
    }
    json_t *published = json_object_get(last, "published");
    if (!json_is_string(published) || strcmp(json_string_value(published), today) >= 0)
        IMPORT_FAIL("releases[%zu] (%s): the row already has a revision dated %s; one import "
                    "a day", i, r->minor, json_is_string(published) ? json_string_value(published) : "?");
    json_array_append_new(revisions,
                          import_revision(today, r->end_of_life ? r->end_of_life : eos,
                                          r->end_of_extended ? r->end_of_extended : eoes,
                                          published, source));
    res->added_revisions++;
    return 0;
}

static int import_provider(json_t *providers, const char *id, json_t *releases, bool v1,
                           const char *today, const char *source, struct lc_import_result *res,
                           char *err)
{
    json_t *list = json_object_get(providers, "providers"), *provider = NULL, *p;
    size_t i;
    json_array_foreach(list, i, p)
        if (json_is_string(json_object_get(p, "id")) &&
            !strcmp(json_string_value(json_object_get(p, "id")), id))
            provider = p;
    json_t *minors = json_object_get(provider, "minors");
    if (!json_is_array(minors))
        IMPORT_FAIL("providers.json: no provider \"%s\" with \"minors\"", id);
    for (i = 0; i < json_array_size(releases); i++) {
        struct eol_release r;
        if (release_read(json_array_get(releases, i), v1, i, &r, err) != 0)
            return -1;
        int rc = import_provider_release(minors, &r, i, today, source, res, err);
        release_clear(&r);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int lifecycle_import_eol(json_t *upstream, json_t *providers, const char *text,
                         const char *name, const char *product_given, int32_t today,
                         struct lc_import_result *res, char *err)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    memset(res, 0, sizeof(*res));
    if (!root)
        IMPORT_FAIL("%s: line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
    json_t *releases;
    const char *product;
    bool v1;
    int rc = -1;
    if (answer_parse(root, product_given, &releases, &product, &v1, err) != 0)
        goto done;
    size_t p;
    for (p = 0; p < sizeof(products) / sizeof(products[0]); p++)
        if (!strcmp(products[p].product, product))
            break;
    if (p == sizeof(products) / sizeof(products[0])) {
        snprintf(err, KS_ERRLEN, "product \"%s\" is not importable (kubernetes, amazon-eks, "
                                 "google-kubernetes-engine, azure-kubernetes-service, alibaba-ack)",
                 product);
        goto done;
    }
    if (json_array_size(releases) == 0) {
        snprintf(err, KS_ERRLEN, "%s: no releases", name);
        goto done;
    }
    char day[11], source[256];
    ks_date_format(today, day);
    snprintf(source, sizeof(source), "endoflife.date API (%s, %s), product %s, imported %s",
             v1 ? "v1" : "per-product array", name, product, day);
    snprintf(res->product, sizeof(res->product), "%s", product);
    res->file = products[p].provider ? "providers.json" : "upstream.json";
    rc = products[p].provider
             ? import_provider(providers, products[p].provider, releases, v1, day, source, res, err)
             : import_upstream(upstream, releases, v1, day, source, res, err);
    if (rc != 0 && strncmp(err, "releases[", 9) == 0) {
        char inner[KS_ERRLEN];
        snprintf(inner, sizeof(inner), "%s", err);
        snprintf(err, KS_ERRLEN, "%s: %s", name, inner);
    }
done:
    json_decref(root);
    return rc;
}
