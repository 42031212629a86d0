/*
 * cmd_check.c - kubesurvey check DB: verifies every record of a store.
 */
#include "storage/storage.h"
#include "tools/cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK_SHOWN 20   /* problems printed; the rest are counted */

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey check [--max-problems N] DB\n\n"
            "Verifies the store DB: every scan record parses, every host record decodes\n"
            "and its certificates resolve, every certificate frame decompresses to DER\n"
            "that hashes to its key, every dictionary loads. Exit 0 if all is well, 1\n"
            "with the number of problems and the first of them otherwise.\n\n"
            "  -n, --max-problems N  problems to print (default %d)\n"
            "  -h, --help            this text\n", CHECK_SHOWN);
}

struct check_ctx {
    unsigned long shown, max;
};

static void print_problem(void *arg, const char *text)
{
    struct check_ctx *ctx = arg;
    if (ctx->shown++ < ctx->max)
        fprintf(stderr, "problem: %s\n", text);
}

int cmd_check(int argc, char **argv)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                                            {"max-problems", required_argument, NULL, 'n'},
                                            {0}};
    struct check_ctx ctx = {0, CHECK_SHOWN};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hn:", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'h':
            check_usage(stdout);
            return EXIT_OK;
        case 'n':
            ctx.max = strtoul(optarg, &end, 10);
            if (*end || end == optarg) {
                cli_message("--max-problems: '%s' is not a number", optarg);
                return EXIT_USAGE;
            }
            break;
        default:
            check_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        check_usage(stderr);
        return EXIT_USAGE;
    }
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, argv[optind], STORE_READ_ONLY, err)) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    struct store_check_stats stats;
    int rc = store_check(store, print_problem, &ctx, &stats, err);
    store_close(store);
    if (rc) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    printf("%s: %llu scans, %llu hosts, %llu certificates, %llu dictionaries: ", argv[optind],
           (unsigned long long)stats.scans, (unsigned long long)stats.hosts,
           (unsigned long long)stats.certs, (unsigned long long)stats.dicts);
    if (stats.problems == 0) {
        printf("ok\n");
        return EXIT_OK;
    }
    printf("%llu problems\n", (unsigned long long)stats.problems);
    return EXIT_RUNTIME;
}
