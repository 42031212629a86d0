/*
 * cmd_data.c - `kubesurvey data check|show [--data DIR]`: validates the
 * lifecycle data files (or the copies built in) and summarises them.
 */
#include "tools/tools.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void data_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey data check [--data DIR]\n"
            "       kubesurvey data show  [--data DIR] [--as-of YYYY-MM-DD]\n\n"
            "check  validate upstream.json, providers.json, cves.json and api-removals.json\n"
            "       (dates ordered, ranges well formed); errors name the file and entry\n"
            "show   list the minors with their upstream and provider status on a date\n"
            "       (default: today)\n\n"
            "  --data DIR    read the files from DIR instead of the copies built in\n"
            "  --as-of DATE  the day to evaluate (show)\n"
            "  -h, --help    this help\n");
}

static void print_status_table(const struct lifecycle *lc, int32_t day)
{
    static const char *const names[] = {"unknown", "supported", "unsupported"};
    char date[11];
    ks_date_format(day, date);
    printf("status on %s (upstream", date);
    for (size_t p = 0; p < lc->provider_count; p++)
        printf(", %s", lc->providers[p].id);
    printf(")\n");
    for (size_t i = 0; i < lc->minor_count; i++) {
        const struct lc_minor *m = &lc->minors[i];
        char eol[11];
        ks_date_format(m->end_of_life, eol);
        printf("  %d.%-3d eol %-10s %-11s", m->major, m->minor, eol,
               names[lifecycle_upstream_status(lc, m->major, m->minor, day)]);
        for (size_t p = 0; p < lc->provider_count; p++)
            printf(" %-11s", names[lifecycle_provider_status(lc, lc->providers[p].names[0],
                                                             m->major, m->minor, day)]);
        printf("\n");
    }
}

int cmd_data(int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"as-of", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *as_of = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'a': as_of = optarg; break;
        case 'h': data_usage(stdout); return EXIT_OK;
        default: data_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || (strcmp(argv[optind], "check") && strcmp(argv[optind], "show"))) {
        data_usage(stderr);
        return EXIT_USAGE;
    }
    int32_t day;
    if (as_of && ks_date_parse(as_of, &day) != 0) {
        fprintf(stderr, "kubesurvey data: --as-of '%s' is not a YYYY-MM-DD date\n", as_of);
        return EXIT_USAGE;
    }
    if (!as_of)
        day = (int32_t)(time(NULL) / 86400);
    char err[KS_ERRLEN] = "";
    struct lifecycle *lc;
    if (lifecycle_load(&lc, dir, err) != 0) {
        fprintf(stderr, "kubesurvey data: %s%s%s\n", dir ? dir : "built-in data", dir ? "/" : ": ",
                err);
        return EXIT_RUNTIME;
    }
    if (!strcmp(argv[optind], "check")) {
        size_t provider_minors = 0;
        for (size_t i = 0; i < lc->provider_count; i++)
            provider_minors += lc->providers[i].minor_count;
        printf("%s: ok: %zu upstream minors, %zu providers (%zu minor windows), %zu CVEs, %zu API "
               "removal releases\n",
               dir ? dir : "built-in data", lc->minor_count, lc->provider_count, provider_minors,
               lc->cve_count, json_array_size(lc->api_removals));
    } else {
        print_status_table(lc, day);
    }
    lifecycle_free(lc);
    return EXIT_OK;
}
