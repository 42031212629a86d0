/*
 * main.c - kubesurvey's entry point: finds the subcommand and runs it.
 */
#include "tools/cli/cli.h"
#include "ks_commit.h"
#include "ks_version.h"
#include "storage/storage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"scan", cmd_scan, "SYN-scan targets (then probe them), write results"},
    {"probe", cmd_probe, "TLS + GET /version probe a list of targets, write JSON Lines"},
    {"scans", cmd_scans, "list the scans stored in a database"},
    {"show", cmd_show, "print the stored record(s) of one address"},
    {"cert", cmd_cert, "print a stored certificate (PEM, DER, text)"},
    {"check", cmd_check, "verify every record of a database"},
    {"compact", cmd_compact, "retrain the certificate dictionary and recompress"},
    {"stats", cmd_stats, "statistics of a scan as of a date (text or JSON)"},
    {"export", cmd_export, "export endpoints as JSON Lines or CSV (optionally anonymised)"},
    {"merge", cmd_merge, "merge shard databases into a new one"},
    {"diff", cmd_diff, "compare two scans: upgraded, downgraded, gone, new"},
    {"report", cmd_report, "write a self-contained HTML report"},
    {"publish", cmd_publish, "write a dataset package: records, schema, datasheet, checksums"},
    {"verify", cmd_verify, "check a published package: checksums, schemas, statistics"},
    {"data", cmd_data, "check or show the built-in Kubernetes lifecycle data"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "kubesurvey %s - measure exposed Kubernetes API servers\n\n"
            "usage: kubesurvey COMMAND [OPTIONS]\n"
            "       kubesurvey COMMAND --help\n\n"
            "commands:\n",
            KS_VERSION);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nExit status: 0 success, 1 runtime failure, 2 usage error.\n"
                 "Documentation: docs/cli.md\n");
}

static const char *current_command;

void cli_message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (current_command)
        fprintf(stderr, "kubesurvey %s: ", current_command);
    else
        fputs("kubesurvey: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A database damaged inside LMDB's own pages: say so and fail, instead of
 * LMDB's abort. Nothing was being written (the tools read). */
static void exit_on_corrupt_db(const char *message)
{
    fprintf(stderr, "kubesurvey: %s\n", message);
    fflush(stderr);
    _exit(EXIT_RUNTIME);
}

int main(int argc, char **argv)
{
    store_set_fatal_handler(exit_on_corrupt_db);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("kubesurvey %s (commit %s)\n", KS_VERSION, KS_COMMIT);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name)) {
            current_command = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "kubesurvey: unknown command '%s' (see kubesurvey --help)\n", argv[1]);
    return EXIT_USAGE;
}
