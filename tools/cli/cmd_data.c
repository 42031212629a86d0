/*
 * cmd_data.c - `kubesurvey data check|show|import [--data DIR]`: validates
 * the lifecycle data files (or the copies built in), summarises them, and
 * adds an endoflife.date API answer to a data directory
 * (cmd_data_import.c).
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void print_status_table(const struct lifecycle *lc, int32_t day, enum lc_calendar calendar)
{
    static const char marks[] = {'?', 'S', 'U'};
    char date[11];
    ks_date_format(day, date);
    printf("status on %s, calendars %s (upstream; per provider standard/extended)\n",
           date, calendar == LC_CALENDAR_FINAL ? "final" : "as published then");
    printf("  minor  eol         up");
    for (size_t p = 0; p < lc->provider_count; p++)
        printf(" %9s", lc->providers[p].id);
    printf("\n");
    for (size_t i = 0; i < lc->minor_count; i++) {
        const struct lc_minor *m = &lc->minors[i];
        char eol[11];
        ks_date_format(m->end_of_life, eol);
        printf("  %d.%-3d  %-10s  %c ", m->major, m->minor, eol,
               marks[lifecycle_upstream_status(lc, m->major, m->minor, day)]);
        for (size_t p = 0; p < lc->provider_count; p++) {
            const char *name = lc->providers[p].names[0];
            printf("       %c/%c", marks[lifecycle_provider_status(lc, name, m->major, m->minor, day,
                                                             calendar, LC_VIEW_STANDARD)],
                   marks[lifecycle_provider_status(lc, name, m->major, m->minor, day, calendar,
                                                   LC_VIEW_EXTENDED)]);
        }
        printf("\n");
    }
}

/* The revisions in force that a third party dated: the provider may have
 * published them up to `published - published_not_before` days earlier, so
 * a judgement near such a date can be off by that span. */
static void print_aggregator_spans(const struct lifecycle *lc, int32_t day,
                                   enum lc_calendar calendar)
{
    bool header = false;
    for (size_t p = 0; p < lc->provider_count; p++) {
        const struct lc_provider *prov = &lc->providers[p];
        for (size_t i = 0; i < prov->minor_count; i++) {
            const struct lc_provider_minor *m = &prov->minors[i];
            const struct lc_revision *rev = lifecycle_revision_on(m, day, calendar);
            if (!rev->aggregator)
                continue;
            if (!header)
                printf("\nrevisions in force dated by an aggregator (the provider published "
                       "them between the two dates; days = how far the date could be off)\n"
                       "  provider   minor  not before  published   days\n");
            header = true;
            char from[11], to[11];
            ks_date_format(rev->published_not_before, from);
            ks_date_format(rev->published, to);
            printf("  %-10s %d.%-3d  %s  %s  %5d\n", prov->id, m->major, m->minor, from, to,
                   (int)(rev->published - rev->published_not_before));
        }
    }
}

struct data_options {
    const char *dir, *as_of, *calendar, *product;
};

static int cmd_data(int argc, char **argv)
{
    struct data_options o;
    int parsed = cli_parse(&data_command, &o, argc, argv);
    if (parsed >= 0)
        return parsed;
    const char *dir = o.dir, *as_of = o.as_of, *calendar_text = o.calendar;
    if (optind == argc - 2 && !strcmp(argv[optind], "import"))
        return data_import(argv[optind + 1], dir, o.product);
    if (optind != argc - 1 || (strcmp(argv[optind], "check") && strcmp(argv[optind], "show"))) {
        cli_help(&data_command, stderr);
        return EXIT_USAGE;
    }
    int32_t day;
    if (as_of && ks_date_parse(as_of, &day) != 0) {
        cli_message("--as-of '%s' is not a YYYY-MM-DD date", as_of);
        return EXIT_USAGE;
    }
    enum lc_calendar calendar;
    if (lc_calendar_parse(calendar_text, &calendar) != 0) {
        cli_message("--calendar '%s' is neither published nor final",
                calendar_text);
        return EXIT_USAGE;
    }
    if (!as_of)
        day = (int32_t)(time(NULL) / 86400);
    char err[KS_ERRLEN] = "";
    struct lifecycle *lc;
    if (lifecycle_load(&lc, dir, err) != 0) {
        cli_message("%s%s%s", dir ? dir : "built-in data", dir ? "/" : ": ",
                err);
        return EXIT_RUNTIME;
    }
    if (!strcmp(argv[optind], "check")) {
        size_t provider_minors = 0;
        for (size_t i = 0; i < lc->provider_count; i++)
            provider_minors += lc->providers[i].minor_count;
        printf("%s: ok: %zu upstream minors, %zu providers (%zu minor windows), %zu CVEs, %zu API "
               "removal releases, %zu etcd minors\n",
               dir ? dir : "built-in data", lc->minor_count, lc->provider_count, provider_minors,
               lc->cve_count, json_array_size(lc->api_removals), lc->etcd_minor_count);
    } else {
        print_status_table(lc, day, calendar);
        print_aggregator_spans(lc, day, calendar);
    }
    lifecycle_free(lc);
    return EXIT_OK;
}

static const struct cli_option data_options[] = {
    {.name = "data", .arg = "DIR", .kind = CLI_TEXT, .complete = "@dir",
     .offset = offsetof(struct data_options, dir),
     .help = "read the files from DIR instead of the copies built in"},
    {.name = "as-of", .arg = "DATE", .kind = CLI_TEXT, .offset = offsetof(struct data_options, as_of),
     .help = "the day to evaluate (show)"},
    {.name = "calendar", .arg = "C", .kind = CLI_TEXT, .complete = "published final",
     .offset = offsetof(struct data_options, calendar),
     .help = "provider calendars as published on that day (published,\n"
             "the default) or as known today (final)"},
    {.name = "product", .arg = "P", .kind = CLI_TEXT, .offset = offsetof(struct data_options, product),
     .complete = "kubernetes amazon-eks google-kubernetes-engine azure-kubernetes-service "
                 "alibaba-ack",
     .help = "the endoflife.date product of FILE (import; the v1 answer\n"
             "names it itself)"},
    {0},
};

static const char *const data_usage[] = {
    "check [--data DIR]",
    "show  [--data DIR] [--as-of YYYY-MM-DD]\n"
    "                             [--calendar published|final]",
    "import FILE --data DIR [--product NAME]",
    NULL,
};

const struct cli_command data_command = {
    .name = "data",
    .summary = "check or show the built-in Kubernetes lifecycle data",
    .usage = data_usage,
    .description =
        "check  validate upstream.json, providers.json, cves.json, api-removals.json\n"
        "       and etcd.json\n"
        "       (dates ordered, ranges well formed); errors name the file and entry\n"
        "show   list the minors with their upstream and provider status on a date\n"
        "       (default: today): S supported, U unsupported, ? unknown; per provider\n"
        "       standard/extended support; then the revisions in force that an\n"
        "       aggregator dated, with the span of days the date could be off\n"
        "import add an endoflife.date API answer you downloaded (API v1\n"
        "       /api/v1/products/P, or /api/P.json with --product P) for kubernetes,\n"
        "       amazon-eks, google-kubernetes-engine, azure-kubernetes-service or\n"
        "       alibaba-ack to DIR: new minors, and a revision dated today for each\n"
        "       changed end date; DIR is created from the built-in data if needed,\n"
        "       and is left unchanged when the file is bad\n",
    .options = data_options,
    .complete_args = "check show import",
    .opts_size = sizeof(struct data_options),
    .run = cmd_data,
};
