/*
 * cmd_report.c - `kubesurvey report DB -o report.html`.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* Writes the page (of one scan's statistics with their lifecycle data, or
 * of a series when lc is NULL) to output: an exit status. */
static int write_page(const char *output, const json_t *data, const struct lifecycle *lc,
                      const char *title)
{
    char err[KS_ERRLEN] = "";
    FILE *out = fopen(output, "w");
    if (!out) {
        cli_message("%s: %s", output, strerror(errno));
        return EXIT_RUNTIME;
    }
    int rc = lc ? report_write_html(out, data, lc, title, err)
                : report_write_series_html(out, data, title, err);
    if (fclose(out) != 0 && rc == 0) {
        snprintf(err, KS_ERRLEN, "%s: %s", output, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        cli_message("%s", err);
    return rc ? EXIT_RUNTIME : EXIT_OK;
}

static int report_series(const struct stats_request *req, const char *const *dbs, size_t count,
                         const char *output, const char *title)
{
    if (series_request_check(req, dbs, count) != 0)
        return EXIT_USAGE;
    char err[KS_ERRLEN] = "";
    json_t *series = NULL;
    if (tool_compute_series(dbs, count, req, &series, err) != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    int status = write_page(output, series, NULL, title);
    json_decref(series);
    return status;
}

struct report_options {
    struct stats_request req;   /* first: STATS_REQUEST_OPTIONS fill it */
    const char *output, *title;
    bool series;
};

static int cmd_report(int argc, char **argv)
{
    struct report_options o;
    int parsed = cli_parse(&report_command, &o, argc, argv);
    if (parsed >= 0)
        return parsed;
    struct stats_request req = o.req;
    const char *output = o.output, *title = o.title;
    if (output && (optind < argc - 1 || o.series))
        return report_series(&req, (const char *const *)argv + optind, (size_t)(argc - optind),
                             output, title);
    if (optind != argc - 1 || !output) {
        cli_message("give DB and -o FILE");
        cli_help(&report_command, stderr);
        return EXIT_USAGE;
    }
    req.db = argv[optind];
    if (stats_request_check(&req) != 0)
        return EXIT_USAGE;
    char err[KS_ERRLEN] = "";
    json_t *stats = NULL;
    struct lifecycle *lc = NULL;
    if (tool_compute_stats(&req, &stats, &lc, err) != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    int status = write_page(output, stats, lc, title);
    json_decref(stats);
    lifecycle_free(lc);
    return status;
}

static const struct cli_option report_options[] = {
    {.name = "output", .short_name = 'o', .arg = "FILE", .kind = CLI_TEXT, .complete = "@file",
     .offset = offsetof(struct report_options, output), .help = "the HTML page to write"},
    STATS_REQUEST_OPTIONS,
    {.name = "series", .kind = CLI_FLAG, .offset = offsetof(struct report_options, series),
     .help = "every scan of DB as a series over time (implied by several DBs)"},
    {.name = "title", .arg = "TEXT", .kind = CLI_TEXT, .fallback = "Exposed Kubernetes API servers",
     .offset = offsetof(struct report_options, title), .help = "the page's title"},
    {0},
};

static const char *const report_usage[] = {
    "DB -o FILE [--scan ID] [--as-of YYYY-MM-DD]\n"
    "                         [--calendar published|final] [--data DIR]\n"
    "                         [--pfx2as FILE [--as2org FILE]] [--title TEXT]",
    "DB DB... | DB --series  -o FILE [--calendar ...] [--title TEXT]",
    NULL,
};

const struct cli_command report_command = {
    .name = "report",
    .summary = "write a self-contained HTML report",
    .usage = report_usage,
    .description =
        "Writes one self-contained HTML page (inline SVG charts, no scripts, nothing\n"
        "fetched): headline numbers, endpoints by minor marked supported or not,\n"
        "unsupported share by provider, top CVEs, and the definitions used.\n"
        "With several DBs, or --series (every scan of DB), the scans over time:\n"
        "endpoints and API servers, the unsupported shares (each scan as of its own\n"
        "day), versions by minor as stacked shares, and the changes between\n"
        "consecutive scans. Options as for `kubesurvey stats`.\n",
    .options = report_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct report_options),
    .run = cmd_report,
};
