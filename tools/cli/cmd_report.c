/*
 * cmd_report.c - `kubesurvey report DB -o report.html`.
 */
#include "tools/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey report DB -o FILE [--scan ID] [--as-of YYYY-MM-DD]\n"
            "                         [--calendar published|final] [--data DIR]\n"
            "                         [--pfx2as FILE [--as2org FILE]] [--title TEXT]\n"
            "       kubesurvey report DB DB... | DB --series  -o FILE [--calendar ...] [--title TEXT]\n\n"
            "Writes one self-contained HTML page (inline SVG charts, no scripts, nothing\n"
            "fetched): headline numbers, endpoints by minor marked supported or not,\n"
            "unsupported share by provider, top CVEs, and the definitions used.\n"
            "With several DBs, or --series (every scan of DB), the scans over time:\n"
            "endpoints and API servers, the unsupported shares (each scan as of its own\n"
            "day), versions by minor as stacked shares, and the changes between\n"
            "consecutive scans. Options as for `kubesurvey stats`.\n");
}

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

int cmd_report(int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'}, {"scan", required_argument, NULL, 's'},
        {"as-of", required_argument, NULL, 'a'},  {"data", required_argument, NULL, 'd'},
        {"pfx2as", required_argument, NULL, 'p'}, {"title", required_argument, NULL, 't'},
        {"as2org", required_argument, NULL, 'g'}, {"calendar", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {"series", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    bool series = false;
    const char *title = "Exposed Kubernetes API servers";
    struct stats_request req = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 's':
            if (tool_parse_scan_id(optarg, &req.scan) != 0) {
                cli_message("--scan '%s' is not a scan id", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'a': req.as_of = optarg; break;
        case 'd': req.data_dir = optarg; break;
        case 'p': req.pfx2as = optarg; break;
        case 'g': req.as2org = optarg; break;
        case 'c': req.calendar = optarg; break;
        case 't': title = optarg; break;
        case 'S': series = true; break;
        case 'h': report_usage(stdout); return EXIT_OK;
        default: report_usage(stderr); return EXIT_USAGE;
        }
    }
    if (output && (optind < argc - 1 || series))
        return report_series(&req, (const char *const *)argv + optind, (size_t)(argc - optind),
                             output, title);
    if (optind != argc - 1 || !output) {
        cli_message("give DB and -o FILE");
        report_usage(stderr);
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
