/*
 * cmd_compact.c - kubesurvey compact DB: retrains the certificate
 * dictionary on all stored certificates and recompresses them with it.
 */
#include "storage/storage.h"
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <stdio.h>
#include <sys/stat.h>

static void print_stats(const char *when, const struct store_cert_stats *st)
{
    printf("%-7s %llu certificates, %llu bytes of DER stored in %llu bytes (%llu with a "
           "dictionary); %llu dictionaries, %llu bytes\n", when,
           (unsigned long long)st->certs, (unsigned long long)st->der_bytes,
           (unsigned long long)st->frame_bytes, (unsigned long long)st->with_dict,
           (unsigned long long)st->dicts, (unsigned long long)st->dict_bytes);
}

static int cmd_compact(int argc, char **argv)
{
    char none;
    int rc = cli_parse(&compact_command, &none, argc, argv);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1) {
        cli_help(&compact_command, stderr);
        return EXIT_USAGE;
    }
    char err[KS_ERRLEN];
    struct store *store;
    struct store_cert_stats before, after;
    struct stat st0, st1;
    bool shrunk = false;
    if (stat(argv[optind], &st0) != 0)
        st0.st_size = 0;
    if (store_open(&store, argv[optind], STORE_READ_WRITE, err) ||
        store_cert_stats(store, &before, err) || store_compact(store, &after, err) ||
        store_shrink_file(store, &shrunk, err)) {
        cli_message("%s", err);
        store_close(store);
        return EXIT_RUNTIME;
    }
    store_close(store);
    print_stats("before:", &before);
    print_stats("after:", &after);
    if (!shrunk)
        printf("file: not rewritten: another process has %s open\n", argv[optind]);
    else if (stat(argv[optind], &st1) == 0)
        printf("file: %lld bytes, was %lld\n", (long long)st1.st_size, (long long)st0.st_size);
    if (after.certs < 16)
        printf("(fewer than 16 certificates: nothing to train a dictionary on)\n");
    return EXIT_OK;
}

static const char *const compact_usage[] = {"DB", NULL};

const struct cli_command compact_command = {
    .name = "compact",
    .summary = "retrain the certificate dictionary and recompress",
    .usage = compact_usage,
    .description =
        "Trains a new zstd dictionary on the certificates stored in DB and rewrites\n"
        "every certificate with it; then removes the dictionaries no longer used,\n"
        "repacks the indexes and rewrites the file to its minimum size (a compacting\n"
        "copy renamed over DB). Safe to interrupt: each step commits a valid store,\n"
        "and a rerun finishes. May run while a scan writes to DB: then the file is\n"
        "not rewritten (that process maps it), and a later compact shrinks it.\n",
    .complete_args = "@file",
    .run = cmd_compact,
};
