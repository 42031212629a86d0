/*
 * options.h - private to tools/cli/: each command's options written once,
 * in one table, from which come the getopt_long parsing, --help, the man
 * pages (kubesurvey(1), kubesurvey-COMMAND(1)) and the bash completion.
 * masscan's config_parameters[] is the model.
 *
 * Adding an option to a command: one entry in its table (cmd_*.c or
 * scan_options.c), e.g.
 *
 *     {.name = "max-targets", .arg = "N", .help = "probe at most N targets",
 *      .set = set_max_targets, .flags = CLI_IDENTITY},
 *
 * and, for a value that is not plain text or a flag, its setter. The help,
 * man page, completion and docs/cli.md follow (regenerate docs/cli.md with
 * docs/gen-cli.sh; the test cli_docs fails until then).
 */
#ifndef KS_TOOLS_CLI_OPTIONS_H
#define KS_TOOLS_CLI_OPTIONS_H

#include <getopt.h>   /* optind: where cli_parse left the operands */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How an option stores its value in the command's struct (at .offset). */
enum cli_kind {
    CLI_CALL,   /* .set does it */
    CLI_TEXT,   /* const char *: the argument (argv's, not copied) */
    CLI_FLAG,   /* bool: true when given */
};

enum cli_flag {
    CLI_IDENTITY = 1 << 0,  /* part of the scan's identity: --resume and merge compare it */
    CLI_REPEAT = 1 << 1,    /* may be given more than once */
    CLI_NO_DEFAULT_HELP = 1 << 2, /* the help text already says the default */
};

/* A setter's answer: the option printed what was asked; exit 0. */
enum { CLI_DONE = -2 };

struct cli_option {
    const char *section;     /* starts a group of options in --help (optional) */
    const char *name;        /* long name, without "--"; NULL ends the table */
    char short_name;         /* 0: none */
    const char *arg;         /* the argument's name in --help; NULL: takes none */
    const char *fallback;    /* the default, as text: applied before parsing
                                (through .set or .kind) and shown in --help */
    const char *help;        /* may hold '\n' */
    enum cli_kind kind;
    size_t offset;           /* CLI_TEXT, CLI_FLAG: where in the command's struct */
    /* CLI_CALL: applies arg (NULL for an option without one) to the
     * command's struct; 0, EXIT_USAGE after saying what was wrong, or
     * CLI_DONE after printing what was asked (the command exits 0). */
    int (*set)(void *opts, const char *arg);
    unsigned flags;          /* enum cli_flag */
    /* The argument's completion: "@file", "@dir", "@user", or the words to offer
     * ("csv jsonl"); NULL: none (free text). */
    const char *complete;
    const char *example;     /* a valid argument for the option test, when
                                there is no fallback and any text will not do */
};

struct cli_command {
    const char *name;
    const char *summary;     /* one line: kubesurvey --help, the man page's NAME */
    const char *const *usage;/* synopses after "kubesurvey NAME ", NULL-ended */
    const char *description; /* paragraphs; '\n' ends a line */
    const struct cli_option *options;
    const char *epilog;      /* after the options (optional) */
    /* Positional arguments' completion ("@file", "@dir" or words); NULL: files. */
    const char *complete_args;
    size_t opts_size;        /* sizeof the struct the options fill */
    /* How a bad option is said. NULL: getopt's own message and the help on
     * stderr. Else called with getopt's '?' or ':' and the offending word;
     * it returns the exit status. */
    int (*bad_option)(int c, const char *word);
    int (*run)(int argc, char **argv);
};

/* Parses argv (argv[0] the command) into opts after applying the defaults.
 * Returns -1 when the command should run, its operands at argv[optind...],
 * else the exit status: EXIT_OK after --help, EXIT_USAGE after a bad
 * option (said). */
int cli_parse(const struct cli_command *cmd, void *opts, int argc, char **argv);
/* The option being applied as the user spelled it ("-p" or "--port"), for
 * a setter's message. */
const char *cli_option_word(void);
/* The defaults alone (cli_parse applies them first). */
int cli_defaults(const struct cli_command *cmd, void *opts);

/* `kubesurvey COMMAND --help`. */
void cli_help(const struct cli_command *cmd, FILE *out);
/* The roff man page kubesurvey-COMMAND(1). */
void cli_man_page(const struct cli_command *cmd, const char *version, FILE *out);
/* kubesurvey(1): the commands and what is common to them. */
void cli_man_index(const struct cli_command *const *cmds, size_t n, const char *version,
                   FILE *out);
/* The bash completion of every command. */
void cli_bash_completion(const struct cli_command *const *cmds, size_t n, FILE *out);
/* One line per option: "COMMAND --NAME -S" (-S only if it has one). */
void cli_list_options(const struct cli_command *const *cmds, size_t n, FILE *out);
/* Parses every option of every command, long and short form, with its
 * default, example or "x" as argument; prints what fails. 0 if none does. */
int cli_check_tables(const struct cli_command *const *cmds, size_t n, FILE *out);

#endif
