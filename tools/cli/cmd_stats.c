/*
 * cmd_stats.c - `kubesurvey stats DB`: the statistics of docs/statistics.md
 * for one scan as of a date, streamed over the store (memory: see stats.c).
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "storage/storage.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

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

struct stats_args {
    struct stats_request req;   /* first: STATS_REQUEST_OPTIONS fill it */
    bool json, series;
};

static int cmd_stats(int argc, char **argv)
{
    struct stats_args o;
    int parsed = cli_parse(&stats_command, &o, argc, argv);
    if (parsed >= 0)
        return parsed;
    struct stats_request req = o.req;
    bool json = o.json;
    if (optind < argc - 1 || o.series)
        return stats_series(&req, (const char *const *)argv + optind, (size_t)(argc - optind), json);
    if (optind != argc - 1) {
        cli_help(&stats_command, stderr);
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

static const struct cli_option stats_options[] = {
    STATS_REQUEST_OPTIONS,
    {.name = "json", .kind = CLI_FLAG, .offset = offsetof(struct stats_args, json),
     .help = "one JSON object instead of the readable summary"},
    {.name = "series", .kind = CLI_FLAG, .offset = offsetof(struct stats_args, series),
     .help = "every scan of DB as a series over time (implied by several DBs):\n"
             "each scan as of its own start day, the diff between consecutive\n"
             "scans (docs/statistics.md, Scans over time)"},
    {0},
};

static const char *const stats_usage[] = {
    "DB [--scan ID] [--as-of YYYY-MM-DD] [--calendar published|final]\n"
    "                        [--json] [--data DIR] [--pfx2as FILE [--as2org FILE]]",
    "DB DB... | DB --series   [--json] [--calendar ...] [--data DIR]",
    NULL,
};

const struct cli_command stats_command = {
    .name = "stats",
    .summary = "statistics of a scan as of a date (text or JSON)",
    .usage = stats_usage,
    .description =
        "Counts endpoints ((address, port) pairs) of one scan: SYN-open, TLS, Kubernetes,\n"
        "versions, unsupported minors (upstream, provider standard and extended support)\n"
        "as of a date with their unknowns and bounds, CVEs, /version access, estimated\n"
        "clusters. Definitions: docs/statistics.md.\n",
    .options = stats_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct stats_args),
    .run = cmd_stats,
};
