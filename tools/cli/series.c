/*
 * series.c - scans over time (`stats DB... --json`, `report DB...`): the
 * statistics of every scan as of its own start day, and the diff between
 * consecutive scans (docs/statistics.md "Scans over time").
 */
#include "tools/cli/cli.h"
#include "storage/storage.h"

#include <stdlib.h>
#include <string.h>

/* The most scans one series holds (each is a full statistics pass). */
#define SERIES_MAX 1000

struct series_scan {
    const char *db;
    uint32_t id;
    char started[40];
    size_t order;               /* arrival, to keep the sort stable */
};

struct scan_list {
    struct series_scan *scans;
    size_t count;
    const char *db;
    char *err;
};

static int add_scan(void *ctx, const struct store_scan *scan)
{
    struct scan_list *l = ctx;
    if (l->count == SERIES_MAX) {
        snprintf(l->err, KS_ERRLEN, "a series holds at most %d scans", SERIES_MAX);
        return 1;
    }
    json_t *j = scan->json ? json_loads(scan->json, 0, NULL) : NULL;
    const char *started = json_string_value(json_object_get(j, "started"));
    struct series_scan *s = &l->scans[l->count];
    *s = (struct series_scan){.db = l->db, .id = scan->id, .order = l->count};
    snprintf(s->started, sizeof(s->started), "%s", started ? started : "");
    json_decref(j);
    l->count++;
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const struct series_scan *x = a, *y = b;
    int c = strcmp(x->started, y->started);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* The point of one scan: what the series charts. */
static json_t *series_point(const struct series_scan *s, const json_t *stats)
{
    json_t *shares = json_object_get(stats, "shares");
    json_t *point = json_pack("{s:s, s:I, s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "db", s->db,
                              "scan", (json_int_t)s->id, "started", s->started, "as_of",
                              json_object_get(stats, "as_of"), "syn_open",
                              json_object_get(stats, "syn_open"), "tls",
                              json_object_get(stats, "tls"), "k8s", json_object_get(stats, "k8s"),
                              "version_public", json_object_get(stats, "version_public"),
                              "clusters", json_object_get(stats, "clusters"), "by_minor",
                              json_object_get(stats, "by_minor"));
    static const char *const views[] = {"unsupported", "provider_unsupported",
                                        "provider_unsupported_extended"};
    for (size_t i = 0; point && i < sizeof(views) / sizeof(views[0]); i++)
        json_object_set(point, views[i], json_object_get(shares, views[i]));
    return point;
}

static int list_scans(const char *const *dbs, size_t db_count, struct scan_list *l, char *err)
{
    for (size_t i = 0; i < db_count; i++) {
        struct store *store = NULL;
        l->db = dbs[i];
        int rc = tool_store_open(dbs[i], &store, err) != 0 ||
                 store_scan_foreach(store, add_scan, l, err) != 0 ? -1 : 0;
        store_close(store);
        if (rc)
            return -1;
        if (l->err[0]) {
            snprintf(err, KS_ERRLEN, "%s", l->err);
            return -1;
        }
    }
    if (l->count < 2) {
        snprintf(err, KS_ERRLEN, "a series needs two or more scans; %s %s %zu",
                 db_count == 1 ? dbs[0] : "the databases given", db_count == 1 ? "holds" : "hold",
                 l->count);
        return -1;
    }
    for (size_t i = 0; i < l->count; i++)
        if (!l->scans[i].started[0]) {
            snprintf(err, KS_ERRLEN, "%s scan %u has no \"started\" time to order and judge it by",
                     l->scans[i].db, l->scans[i].id);
            return -1;
        }
    qsort(l->scans, l->count, sizeof(*l->scans), by_start);
    return 0;
}

int tool_compute_series(const char *const *dbs, size_t db_count, const struct stats_request *base,
                        json_t **out, char *err)
{
    char inner[KS_ERRLEN] = "";
    struct scan_list l = {.scans = calloc(SERIES_MAX, sizeof(struct series_scan)), .err = inner};
    json_t *points = json_array(), *changes = json_array();
    int rc = -1;
    if (!l.scans || !points || !changes) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto done;
    }
    if (list_scans(dbs, db_count, &l, err) != 0)
        goto done;
    for (size_t i = 0; i < l.count; i++) {
        struct stats_request req = *base;
        json_t *stats = NULL, *diff = NULL;
        req.db = l.scans[i].db;
        req.scan = l.scans[i].id;
        req.as_of = NULL; /* its own start day */
        if (tool_compute_stats(&req, &stats, NULL, err) != 0)
            goto done;
        json_array_append_new(points, series_point(&l.scans[i], stats));
        json_decref(stats);
        if (i == 0)
            continue;
        if (tool_diff_scans(l.scans[i - 1].db, l.scans[i - 1].id, l.scans[i].db, l.scans[i].id,
                            &diff, err) != 0)
            goto done;
        json_array_append_new(changes, diff);
    }
    *out = json_pack("{s:s, s:O, s:O}", "calendar", base->calendar ? base->calendar : "published",
                     "series", points, "changes", changes);
    rc = *out ? 0 : -1;
    if (rc)
        snprintf(err, KS_ERRLEN, "out of memory");
done:
    json_decref(points);
    json_decref(changes);
    free(l.scans);
    return rc;
}

static void print_share(FILE *out, const json_t *share)
{
    const json_t *v = json_object_get(share, "unknown_as_supported");
    if (json_is_number(v))
        fprintf(out, " %6.1f%%", 100.0 * json_number_value(v));
    else
        fprintf(out, " %7s", "n/a");
}

void series_print(FILE *out, const json_t *series)
{
    size_t i;
    json_t *p;
    fprintf(out, "%-10s %-24s %5s %10s %8s %8s %7s %7s %7s\n", "as of", "database", "scan",
            "endpoints", "k8s", "version", "eol", "prov", "ext");
    json_array_foreach(json_object_get(series, "series"), i, p) {
        fprintf(out, "%-10s %-24.24s %5lld %10lld %8lld %8lld",
                json_string_value(json_object_get(p, "as_of")),
                json_string_value(json_object_get(p, "db")),
                (long long)json_integer_value(json_object_get(p, "scan")),
                (long long)json_integer_value(json_object_get(p, "syn_open")),
                (long long)json_integer_value(json_object_get(p, "k8s")),
                (long long)json_integer_value(json_object_get(p, "version_public")));
        print_share(out, json_object_get(p, "unsupported"));
        print_share(out, json_object_get(p, "provider_unsupported"));
        print_share(out, json_object_get(p, "provider_unsupported_extended"));
        fputc('\n', out);
    }
    fprintf(out, "(shares of the versioned API servers, unknowns counted as supported: past\n"
                 " upstream end of life, past the provider's standard support, past extended\n"
                 " support too; each scan judged as of its own start day)\n\n"
                 "between consecutive scans (Kubernetes endpoints, as kubesurvey diff):\n");
    json_array_foreach(json_object_get(series, "changes"), i, p)
        fprintf(out, "  scan %lld -> %lld: upgraded %lld, downgraded %lld, unchanged %lld, "
                     "version unknown %lld, gone %lld, new %lld\n",
                (long long)json_integer_value(json_object_get(p, "from_scan")),
                (long long)json_integer_value(json_object_get(p, "to_scan")),
                (long long)json_integer_value(json_object_get(p, "upgraded")),
                (long long)json_integer_value(json_object_get(p, "downgraded")),
                (long long)json_integer_value(json_object_get(p, "unchanged")),
                (long long)json_integer_value(json_object_get(p, "version_unknown")),
                (long long)json_integer_value(json_object_get(p, "gone")),
                (long long)json_integer_value(json_object_get(p, "new")));
}
