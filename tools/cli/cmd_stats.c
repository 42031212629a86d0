/*
 * cmd_stats.c - `kubesurvey stats DB`: the statistics of docs/statistics.md
 * for one scan as of a date, streamed over the store (memory: see stats.c).
 */
#include "tools/cli/cli.h"
#include "storage/storage.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void stats_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey stats DB [--scan ID] [--as-of YYYY-MM-DD] [--calendar published|final]\n"
            "                        [--json] [--data DIR] [--pfx2as FILE [--as2org FILE]]\n"
            "       kubesurvey stats DB DB... | DB --series   [--json] [--calendar ...] [--data DIR]\n\n"
            "Counts endpoints ((address, port) pairs) of one scan: SYN-open, TLS, Kubernetes,\n"
            "versions, unsupported minors (upstream, provider standard and extended support)\n"
            "as of a date with their unknowns and bounds, CVEs, /version access, estimated\n"
            "clusters. Definitions: docs/statistics.md.\n\n"
            "  --scan ID          the scan (default: the newest in DB)\n"
            "  --as-of DATE       judge support as of this day (default: the scan's start day)\n"
            "  --calendar WHICH   provider calendars as published on the as-of day\n"
            "                     (published, the default) or as known today (final)\n"
            "  --json             one JSON object instead of the readable summary\n"
            "  --data DIR         lifecycle data files instead of the built-in copies\n"
            "  --series           every scan of DB as a series over time (implied by several DBs):\n"
            "                     each scan as of its own start day, the diff between consecutive\n"
            "                     scans (docs/statistics.md, Scans over time)\n"
            "  --pfx2as FILE      CAIDA RouteViews prefix2as file: adds top origin networks\n"
            "  --as2org FILE      CAIDA as2org file (with --pfx2as): adds network owners\n"
            "  -h, --help         this help\n");
}

/* `stats DB... --json`: the series (text without --json). */
static int stats_series(const struct stats_request *req, const char *const *dbs, size_t count,
                        bool json)
{
    if (series_request_check(req, dbs, count) != 0)
        return EXIT_USAGE;
    char err[KS_ERRLEN] = "";
    json_t *result = NULL;
    if (tool_compute_series(dbs, count, req, &result, err) != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    if (json) {
        json_dumpf(result, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else {
        series_print(stdout, result);
    }
    json_decref(result);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

int cmd_stats(int argc, char **argv)
{
    static const struct option options[] = {
        {"scan", required_argument, NULL, 's'},   {"as-of", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},         {"data", required_argument, NULL, 'd'},
        {"pfx2as", required_argument, NULL, 'p'}, {"as2org", required_argument, NULL, 'o'},
        {"calendar", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {"series", no_argument, NULL, 'S'},       {NULL, 0, NULL, 0},
    };
    struct stats_request req = {0};
    bool json = false, series = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (tool_parse_scan_id(optarg, &req.scan) != 0) {
                cli_message("--scan '%s' is not a scan id", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'a': req.as_of = optarg; break;
        case 'j': json = true; break;
        case 'd': req.data_dir = optarg; break;
        case 'p': req.pfx2as = optarg; break;
        case 'o': req.as2org = optarg; break;
        case 'c': req.calendar = optarg; break;
        case 'S': series = true; break;
        case 'h': stats_usage(stdout); return EXIT_OK;
        default: stats_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc - 1 || series)
        return stats_series(&req, (const char *const *)argv + optind, (size_t)(argc - optind), json);
    if (optind != argc - 1) {
        stats_usage(stderr);
        return EXIT_USAGE;
    }
    req.db = argv[optind];
    if (stats_request_check(&req) != 0)
        return EXIT_USAGE;
    char err[KS_ERRLEN] = "";
    json_t *result = NULL;
    if (tool_compute_stats(&req, &result, NULL, err) != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    if (json) {
        json_dumpf(result, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else {
        printf("scan %lld of %s\n", (long long)json_integer_value(json_object_get(result, "scan")),
               argv[optind]);
        stats_print_summary(stdout, result);
    }
    json_decref(result);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}
