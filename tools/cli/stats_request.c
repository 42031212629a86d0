/*
 * stats_request.c - what `stats` and `report` share, for one scan or a
 * series: checking a request's options and computing the statistics object
 * of one scan from its store (streamed: memory as in tools/analysis/stats.c).
 */
#include "tools/cli/cli.h"
#include "storage/storage.h"

#include <stdio.h>
#include <string.h>

struct stats_walk {
    struct stats *stats;
    char *err;
};

static int add_host(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct stats_walk *w = ctx;
    return stats_add(w->stats, r, w->err) == 0 ? 0 : 1;
}

static int lookup_cert(void *ctx, const uint8_t sha256[32], uint8_t **der, size_t *length,
                       char *err)
{
    bool found;   /* stats_cert_lookup_fn: 1 found, 0 not, -1 error */
    if (store_cert_get(ctx, sha256, der, length, &found, err) != 0)
        return -1;
    return found ? 1 : 0;
}

/* The day and calendar of a request (the scan's start day by default). */
static int request_day(const struct stats_request *req, uint32_t scan_id, const json_t *scan,
                       struct stats_options *opt, char *err)
{
    if (lc_calendar_parse(req->calendar, &opt->calendar) != 0) {
        snprintf(err, KS_ERRLEN, "--calendar '%s' is neither published nor final", req->calendar);
        return -1;
    }
    if (req->as_of) {
        if (ks_date_parse(req->as_of, &opt->as_of) != 0) {
            snprintf(err, KS_ERRLEN, "--as-of '%s' is not a YYYY-MM-DD date", req->as_of);
            return -1;
        }
    } else if (tool_scan_start_day(scan, &opt->as_of) != 0) {
        snprintf(err, KS_ERRLEN,
                 "scan %u has no \"started\" time to take the date from; give --as-of", scan_id);
        return -1;
    }
    return 0;
}

int stats_request_set_scan(void *req, const char *arg)
{
    if (tool_parse_scan_id(arg, &((struct stats_request *)req)->scan) != 0) {
        cli_message("--scan '%s' is not a scan id", arg);
        return EXIT_USAGE;
    }
    return 0;
}

int stats_request_check(const struct stats_request *req)
{
    int32_t day;
    enum lc_calendar calendar;
    if (req->as_of && ks_date_parse(req->as_of, &day) != 0) {
        cli_message("--as-of '%s' is not a YYYY-MM-DD date", req->as_of);
        return -1;
    }
    if (lc_calendar_parse(req->calendar, &calendar) != 0) {
        cli_message("--calendar '%s' is neither published nor final", req->calendar);
        return -1;
    }
    if (req->as2org && !req->pfx2as) {
        cli_message("--as2org needs --pfx2as");
        return -1;
    }
    return 0;
}

/* Shared with `report`: computes the statistics object of one scan. */
int tool_compute_stats(const struct stats_request *req, json_t **out, struct lifecycle **lc_out,
                       char *err)
{
    struct lifecycle *lc = NULL;
    struct pfx2as *p2a = NULL;
    struct as2org *a2o = NULL;
    struct store *store = NULL;
    struct stats *stats = NULL;
    json_t *scan = NULL;
    uint32_t scan_id;
    int rc = -1;
    struct stats_options opt = {0};

    if (req->as2org && !req->pfx2as) {
        snprintf(err, KS_ERRLEN, "--as2org needs --pfx2as (owners are found through origin ASes)");
        goto done;
    }
    if (lifecycle_load(&lc, req->data_dir, err) != 0 ||
        (req->pfx2as && pfx2as_load(&p2a, req->pfx2as, err) != 0) ||
        (req->as2org && as2org_load(&a2o, req->as2org, err) != 0))
        goto done;
    if (tool_store_open(req->db, &store, err) != 0 ||
        tool_scan_pick(store, req->scan, &scan_id, &scan, err) != 0 ||
        request_day(req, scan_id, scan, &opt, err) != 0)
        goto done;
    tool_warn_stale_data(lc, opt.as_of);
    opt.lc = lc;
    opt.pfx2as = p2a;
    opt.as2org = a2o;
    if (stats_new(&stats, &opt, err) != 0)
        goto done;
    struct stats_walk walk = {stats, err};
    struct store_read_stats read = {0};
    /* Aggregates do not depend on order: one sequential pass. */
    if (store_hosts_foreach(store, scan_id, STORE_STORED_ORDER, add_host, &walk, &read, err) != 0 ||
        stats_resolve_clusters(stats, lookup_cert, store, err) != 0)
        goto done;
    stats_add_corrupt(stats, read.corrupt);
    *out = stats_to_json(stats);
    json_object_set_new(*out, "scan", json_integer(scan_id));
    rc = 0;
done:
    stats_free(stats);
    json_decref(scan);
    store_close(store);
    as2org_free(a2o);
    pfx2as_free(p2a);
    if (rc == 0 && lc_out)
        *lc_out = lc;
    else
        lifecycle_free(lc);
    return rc;
}

int series_request_check(const struct stats_request *req, const char *const *dbs, size_t count)
{
    if (count == 0) {
        cli_message("give one DB with --series, or several DBs");
        return -1;
    }
    if (req->as_of || req->scan) {
        cli_message("a series judges each scan as of its own start day: --as-of and --scan do "
                    "not apply");
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(dbs[i], dbs[j])) {
                cli_message("%s is given twice", dbs[i]);
                return -1;
            }
    return stats_request_check(req);
}

