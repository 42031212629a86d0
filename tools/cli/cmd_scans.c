/*
 * cmd_scans.c - kubesurvey scans DB: one line per scan of a store.
 */
#include "storage/storage.h"
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

struct scans_ctx {
    struct store *store;
    int status;
    char err[KS_ERRLEN];
};

/* A JSON value as short text ("-" when absent). */
static void value_text(json_t *v, char *out, size_t size)
{
    if (!v || json_is_null(v))
        snprintf(out, size, "-");
    else if (json_is_string(v))
        snprintf(out, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else {
        char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, size, "%s", dump ? dump : "?");
        free(dump);
    }
}

static int print_scan(void *arg, const struct store_scan *scan)
{
    struct scans_ctx *ctx = arg;
    uint64_t hosts = 0;
    if (store_scan_host_count(ctx->store, scan->id, &hosts, ctx->err)) {
        ctx->status = EXIT_RUNTIME;
        return 1;
    }
    json_t *root = json_loads(scan->json, 0, NULL);
    char started[64], ended[64], shard[32], counters[512];
    value_text(json_object_get(root, "started"), started, sizeof(started));
    value_text(json_object_get(root, "ended"), ended, sizeof(ended));
    value_text(json_object_get(root, "shard"), shard, sizeof(shard));
    counters[0] = '\0';
    json_t *c = json_object_get(root, "counters");
    const char *name;
    json_t *v;
    size_t used = 0;
    json_object_foreach(c, name, v) {
        char text[64];
        value_text(v, text, sizeof(text));
        int n = snprintf(counters + used, sizeof(counters) - used, "%s%s=%s", used ? " " : "",
                         name, text);
        if (n < 0 || (size_t)n >= sizeof(counters) - used)
            break;
        used += (size_t)n;
    }
    if (!root)
        snprintf(counters, sizeof(counters), "(scan JSON does not parse)");
    printf("%-5u %-20s %-20s %-7s %10llu  %s\n", scan->id, started, ended, shard,
           (unsigned long long)hosts, counters);
    json_decref(root);
    return 0;
}

static int cmd_scans(int argc, char **argv)
{
    char none;
    int rc = cli_parse(&scans_command, &none, argc, argv);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1) {
        cli_help(&scans_command, stderr);
        return EXIT_USAGE;
    }
    struct scans_ctx ctx = {NULL, EXIT_OK, ""};
    if (store_open(&ctx.store, argv[optind], STORE_READ_ONLY, ctx.err)) {
        cli_message("%s", ctx.err);
        return EXIT_RUNTIME;
    }
    printf("%-5s %-20s %-20s %-7s %10s  %s\n", "ID", "STARTED", "ENDED", "SHARD", "HOSTS",
           "COUNTERS");
    if (store_scan_foreach(ctx.store, print_scan, &ctx, ctx.err))
        ctx.status = EXIT_RUNTIME;
    if (ctx.status != EXIT_OK)
        cli_message("%s", ctx.err);
    store_close(ctx.store);
    return ctx.status;
}

static const char *const scans_usage[] = {"DB", NULL};

const struct cli_command scans_command = {
    .name = "scans",
    .summary = "list the scans stored in a database",
    .usage = scans_usage,
    .description = "Lists the scans stored in DB: id, start and end time, shard, stored host\n"
                   "records and the scan's counters.\n",
    .complete_args = "@file",
    .run = cmd_scans,
};
