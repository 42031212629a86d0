/*
 * main.c - kubesurvey's entry point: finds the subcommand and runs it.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "ks_commit.h"
#include "ks_version.h"
#include "storage/storage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each command's table (its options, help, man page): cmd_*.c. */
static const struct cli_command *const commands[] = {
    &scan_command, &probe_command, &scans_command, &show_command, &cert_command,
    &check_command, &compact_command, &stats_command, &export_command, &merge_command,
    &diff_command, &report_command, &publish_command, &verify_command, &data_command,
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "kubesurvey %s - measure exposed Kubernetes API servers\n\n"
            "usage: kubesurvey COMMAND [OPTIONS]\n"
            "       kubesurvey COMMAND --help\n\n"
            "commands:\n",
            KS_VERSION);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nExit status: 0 success, 1 runtime failure, 2 usage error.\n"
                 "Documentation: man kubesurvey, man kubesurvey-COMMAND, docs/cli.md\n");
}

/* Writes kubesurvey.1 and kubesurvey-COMMAND.1 into dir. */
static int write_man_pages(const char *dir)
{
    for (size_t i = 0; i <= COMMAND_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/kubesurvey%s%s.1", dir, i < COMMAND_COUNT ? "-" : "",
                 i < COMMAND_COUNT ? commands[i]->name : "");
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "kubesurvey help: cannot write %s: %s\n", path, strerror(errno));
            return EXIT_RUNTIME;
        }
        if (i < COMMAND_COUNT)
            cli_man_page(commands[i], KS_VERSION, f);
        else
            cli_man_index(commands, COMMAND_COUNT, KS_VERSION, f);
        if (ferror(f) | (fclose(f) != 0)) {
            fprintf(stderr, "kubesurvey help: writing %s failed\n", path);
            return EXIT_RUNTIME;
        }
    }
    return EXIT_OK;
}

/* `kubesurvey help [COMMAND]`, and what the build generates from the
 * tables: --man DIR, --completion, --options, --check-options. */
static int help(int argc, char **argv)
{
    if (argc == 1) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc == 3 && !strcmp(argv[1], "--man"))
        return write_man_pages(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "--completion")) {
        cli_bash_completion(commands, COMMAND_COUNT, stdout);
        return EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "--options")) {
        cli_list_options(commands, COMMAND_COUNT, stdout);
        return EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "--check-options"))
        return cli_check_tables(commands, COMMAND_COUNT, stdout) ? EXIT_RUNTIME : EXIT_OK;
    for (size_t i = 0; argc == 2 && i < COMMAND_COUNT; i++)
        if (!strcmp(argv[1], commands[i]->name)) {
            cli_help(commands[i], stdout);
            return EXIT_OK;
        }
    fprintf(stderr, "kubesurvey help: give a command, or --man DIR, --completion (see "
                    "kubesurvey --help)\n");
    return EXIT_USAGE;
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
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "help"))
        return help(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("kubesurvey %s (commit %s)\n", KS_VERSION, KS_COMMIT);
        return EXIT_OK;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!strcmp(argv[1], commands[i]->name)) {
            current_command = commands[i]->name;
            return commands[i]->run(argc - 1, argv + 1);
        }
    fprintf(stderr, "kubesurvey: unknown command '%s' (see kubesurvey --help)\n", argv[1]);
    return EXIT_USAGE;
}
