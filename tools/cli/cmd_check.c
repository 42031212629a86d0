/*
 * cmd_check.c - kubesurvey check DB: verifies every record of a store.
 */
#include "storage/storage.h"
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table of room on disk: what each table takes, how full its pages
 * are, and what the certificates cost against their raw DER. */
static void print_usage_table(const struct store_usage *u)
{
    printf("%-11s %10s %8s %8s %8s %12s %6s\n", "table", "entries", "branch", "leaf",
           "overflow", "bytes", "fill");
    uint64_t cert_bytes = 0, dict_bytes = 0;
    for (size_t i = 0; i < u->table_count; i++) {
        const struct store_db_usage *t = &u->tables[i];
        printf("%-11s %10llu %8llu %8llu %8llu %12llu %5.1f%%\n", t->name,
               (unsigned long long)t->entries, (unsigned long long)t->branch_pages,
               (unsigned long long)t->leaf_pages, (unsigned long long)t->overflow_pages,
               (unsigned long long)t->bytes, 100.0 * t->fill);
        if (!strcmp(t->name, "certs") || !strcmp(t->name, "cert_index"))
            cert_bytes += t->bytes;
        else if (!strcmp(t->name, "dicts"))
            dict_bytes += t->bytes;
    }
    uint64_t in_use = u->pages_in_use * u->page_size;
    printf("file: %llu bytes, %llu pages of %llu bytes, %llu free: in use %llu bytes; file / in "
           "use %.2fx\n", (unsigned long long)u->file_bytes, (unsigned long long)u->file_pages,
           (unsigned long long)u->page_size, (unsigned long long)u->free_pages,
           (unsigned long long)in_use, in_use ? (double)u->file_bytes / (double)in_use : 0);
    uint64_t der = u->certs.der_bytes;
    if (der && cert_bytes)
        printf("certificates: %llu, raw DER %llu bytes, zstd frames %llu bytes; on disk: certs + "
               "cert_index %llu bytes = %.3f of raw DER (%.2fx smaller), with the dictionaries "
               "%llu bytes = %.3f (%.2fx smaller)\n", (unsigned long long)u->certs.certs,
               (unsigned long long)der, (unsigned long long)u->certs.frame_bytes,
               (unsigned long long)cert_bytes, (double)cert_bytes / (double)der,
               (double)der / (double)cert_bytes, (unsigned long long)(cert_bytes + dict_bytes),
               (double)(cert_bytes + dict_bytes) / (double)der,
               (double)der / (double)(cert_bytes + dict_bytes));
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

static int set_max_problems(void *opts, const char *arg)
{
    struct check_ctx *ctx = opts;
    char *end;
    ctx->max = strtoul(arg, &end, 10);
    if (*end || end == arg) {
        cli_message("--max-problems: '%s' is not a number", arg);
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    struct check_ctx ctx;
    int parsed = cli_parse(&check_command, &ctx, argc, argv);
    if (parsed >= 0)
        return parsed;
    if (argc - optind != 1) {
        cli_help(&check_command, stderr);
        return EXIT_USAGE;
    }
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, argv[optind], STORE_READ_ONLY, err)) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    struct store_check_stats stats;
    struct store_usage usage;
    int rc = store_check(store, print_problem, &ctx, &stats, err);
    if (rc == 0)
        rc = store_usage(store, &usage, err);
    store_close(store);
    if (rc) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    print_usage_table(&usage);
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

static const struct cli_option check_options[] = {
    {.name = "max-problems", .short_name = 'n', .arg = "N", .fallback = "20",
     .set = set_max_problems, .help = "problems to print"},
    {0},
};

static const char *const check_usage[] = {"[--max-problems N] DB", NULL};

const struct cli_command check_command = {
    .name = "check",
    .summary = "verify every record of a database",
    .usage = check_usage,
    .description =
        "Verifies the store DB: every scan record parses, every host record decodes\n"
        "and its certificates resolve, every certificate frame decompresses to DER\n"
        "that hashes to its key, every dictionary loads. Exit 0 if all is well, 1\n"
        "with the number of problems and the first of them otherwise.\n\n"
        "It also prints the room each table takes on disk (entries; branch, leaf and\n"
        "overflow pages; bytes; how full its pages are), the file's size against\n"
        "the pages in use, and the certificates' bytes on disk against their raw DER\n"
        "(docs/storage.md, \"Room on disk\").\n",
    .options = check_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct check_ctx),
    .run = cmd_check,
};
