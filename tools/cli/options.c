/*
 * options.c - the command tables turned into parsing, help, man pages and
 * completion (see the header).
 */
#include "tools/cli/options.h"
#include "tools/cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long's value of table entry i (above any single character). */
#define CLI_LONG_BASE 1000
#define CLI_MAX_OPTIONS 128
#define HELP_COLUMN 26

/* The option being applied, as spelled (cli_option_word). */
static char option_word[80];

static size_t option_count(const struct cli_command *cmd)
{
    size_t n = 0;
    while (cmd->options && cmd->options[n].name)
        n++;
    return n;
}

static int apply(const struct cli_option *o, void *opts, const char *arg)
{
    switch (o->kind) {
    case CLI_TEXT: memcpy((char *)opts + o->offset, &arg, sizeof(arg)); return -1;
    case CLI_FLAG: *(bool *)((char *)opts + o->offset) = true; return -1;
    case CLI_CALL: break;
    }
    int rc = o->set(opts, arg);
    return rc == 0 ? -1 : rc == CLI_DONE ? EXIT_OK : rc;
}

int cli_defaults(const struct cli_command *cmd, void *opts)
{
    memset(opts, 0, cmd->opts_size);
    for (size_t i = 0; i < option_count(cmd); i++) {
        const struct cli_option *o = &cmd->options[i];
        snprintf(option_word, sizeof(option_word), "--%s", o->name);
        int rc = o->fallback ? apply(o, opts, o->fallback) : -1;
        if (rc >= 0)
            return rc;   /* a default its own setter refuses: a defect of the table */
    }
    return -1;
}

const char *cli_option_word(void)
{
    return option_word;
}

int cli_parse(const struct cli_command *cmd, void *opts, int argc, char **argv)
{
    struct option longs[CLI_MAX_OPTIONS + 2];
    char shorts[3 * CLI_MAX_OPTIONS + 4];
    size_t n = option_count(cmd), s = 0;
    if (n > CLI_MAX_OPTIONS)
        abort();   /* a table too large for the arrays above: raise CLI_MAX_OPTIONS */
    if (cmd->bad_option)
        shorts[s++] = ':';   /* a missing value then reads ':', not '?' */
    for (size_t i = 0; i < n; i++) {
        const struct cli_option *o = &cmd->options[i];
        longs[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                   CLI_LONG_BASE + (int)i};
        if (o->short_name) {
            shorts[s++] = o->short_name;
            if (o->arg)
                shorts[s++] = ':';
        }
    }
    longs[n] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n + 1] = (struct option){NULL, 0, NULL, 0};
    shorts[s++] = 'h';
    shorts[s] = '\0';
    int rc = cli_defaults(cmd, opts);
    if (rc >= 0)
        return rc;
    optind = 0;   /* 0, not 1: glibc then also forgets a previous parse's state */
    opterr = cmd->bad_option ? 0 : 1;
    int c, longindex;
    while ((longindex = -1, c = getopt_long(argc, argv, shorts, longs, &longindex)) != -1) {
        if (c == 'h') {
            cli_help(cmd, stdout);
            return EXIT_OK;
        }
        if (c == '?' || c == ':') {
            if (cmd->bad_option)
                return cmd->bad_option(c, argv[optind - 1]);
            cli_help(cmd, stderr);
            return EXIT_USAGE;
        }
        size_t i = (size_t)(c - CLI_LONG_BASE);
        if (c < CLI_LONG_BASE)
            for (i = 0; i < n && cmd->options[i].short_name != c; i++)
                ;
        if (longindex >= 0)
            snprintf(option_word, sizeof(option_word), "--%s", cmd->options[i].name);
        else
            snprintf(option_word, sizeof(option_word), "-%c", c);
        rc = apply(&cmd->options[i], opts, optarg);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

/* ---- --help ---- */

static int left_part(const struct cli_option *o, char *buf, size_t size)
{
    char shortname[8] = "    ";
    if (o->short_name)
        snprintf(shortname, sizeof(shortname), "-%c, ", o->short_name);
    return snprintf(buf, size, "  %s--%s%s%s", shortname, o->name, o->arg ? " " : "",
                    o->arg ? o->arg : "");
}

/* text's lines, the first after what is already on the line (at column
 * col), the others indented to indent. */
static void indented(FILE *out, const char *text, int col, int indent)
{
    const char *line = text;
    for (bool first = true; *line; first = false) {
        size_t len = strcspn(line, "\n");
        fprintf(out, "%*s%.*s\n", first ? indent - col : indent, "", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

static void option_help(const struct cli_option *o, FILE *out)
{
    char left[128], help[1024];
    int col = left_part(o, left, sizeof(left));
    if (o->fallback && !(o->flags & CLI_NO_DEFAULT_HELP))
        snprintf(help, sizeof(help), "%s (default %s)", o->help, o->fallback);
    else
        snprintf(help, sizeof(help), "%s", o->help);
    fputs(left, out);
    if (col + 2 > HELP_COLUMN) {
        fputc('\n', out);
        col = 0;
    }
    indented(out, help, col, HELP_COLUMN);
}

void cli_help(const struct cli_command *cmd, FILE *out)
{
    for (size_t i = 0; cmd->usage[i]; i++)
        fprintf(out, "%s kubesurvey %s %s\n", i ? "      " : "usage:", cmd->name, cmd->usage[i]);
    fprintf(out, "\n%s", cmd->description);
    if (option_count(cmd))
        fputc('\n', out);
    for (size_t i = 0; i < option_count(cmd); i++) {
        if (cmd->options[i].section)
            fprintf(out, "%s\n", cmd->options[i].section);
        option_help(&cmd->options[i], out);
    }
    const struct cli_option help = {.name = "help", .short_name = 'h', .help = "this help"};
    option_help(&help, out);
    if (cmd->epilog)
        fprintf(out, "\n%s", cmd->epilog);
}

/* ---- man pages ---- */

/* text as roff: hyphens as minus signs (options must copy and paste), a
 * backslash as \e, and no line starting with a control character. */
static void roff(FILE *out, const char *text)
{
    bool line_start = true;
    for (const char *p = text; *p; p++) {
        if (line_start && (*p == '.' || *p == '\''))
            fputs("\\&", out);
        if (*p == '-')
            fputs("\\-", out);
        else if (*p == '\\')
            fputs("\\e", out);
        else
            fputc(*p, out);
        line_start = *p == '\n';
    }
}

static void man_header(FILE *out, const char *title, const char *name, const char *summary,
                       const char *version)
{
    fprintf(out, ".\\\" Generated by kubesurvey help --man from the option tables of\n"
                 ".\\\" tools/cli/; edit those, not this file.\n"
                 ".TH %s 1 \"\" \"kubesurvey %s\" \"kubesurvey manual\"\n.SH NAME\n",
            title, version);
    roff(out, name);
    fputs(" \\- ", out);
    roff(out, summary);
    fputs("\n", out);
}

static void man_option(FILE *out, const struct cli_option *o)
{
    fputs(".TP\n.B ", out);
    if (o->short_name)
        fprintf(out, "\\-%c, ", o->short_name);
    fputs("\\-\\-", out);
    roff(out, o->name);
    if (o->arg) {
        fputs(" \\fI", out);
        roff(out, o->arg);
        fputs("\\fR", out);
    }
    fputs("\n", out);
    roff(out, o->help);
    if (o->fallback && !(o->flags & CLI_NO_DEFAULT_HELP)) {
        fputs(" (default ", out);
        roff(out, o->fallback);
        fputs(")", out);
    }
    if (o->flags & CLI_IDENTITY)
        fputs("\n.br\nPart of the scan's identity: \\-\\-resume and merge compare it.", out);
    fputs("\n", out);
}

void cli_man_page(const struct cli_command *cmd, const char *version, FILE *out)
{
    char title[64], name[64];
    snprintf(name, sizeof(name), "kubesurvey-%s", cmd->name);
    for (size_t i = 0; i <= strlen(name) && i < sizeof(title); i++)
        title[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    man_header(out, title, name, cmd->summary, version);
    fputs(".SH SYNOPSIS\n.nf\n", out);
    for (size_t i = 0; cmd->usage[i]; i++) {
        fprintf(out, "\\fBkubesurvey %s\\fR ", cmd->name);
        roff(out, cmd->usage[i]);
        fputs("\n", out);
    }
    fputs(".fi\n.SH DESCRIPTION\n.nf\n", out);
    roff(out, cmd->description);
    fputs(".fi\n.SH OPTIONS\n", out);
    for (size_t i = 0; i < option_count(cmd); i++)
        man_option(out, &cmd->options[i]);
    const struct cli_option help = {.name = "help", .short_name = 'h', .help = "this help"};
    man_option(out, &help);
    if (cmd->epilog) {
        fputs(".SH NOTES\n.nf\n", out);
        roff(out, cmd->epilog);
        fputs(".fi\n", out);
    }
    fputs(".SH EXIT STATUS\n0 success, 1 runtime failure, 2 usage error.\n"
          ".SH SEE ALSO\n.BR kubesurvey (1)\n", out);
}

void cli_man_index(const struct cli_command *const *cmds, size_t n, const char *version,
                   FILE *out)
{
    man_header(out, "KUBESURVEY", "kubesurvey", "measure exposed Kubernetes API servers",
               version);
    fputs(".SH SYNOPSIS\n.nf\n\\fBkubesurvey\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
          "\\fBkubesurvey\\fR \\fICOMMAND\\fR \\-\\-help\n\\fBkubesurvey\\fR \\-\\-version\n"
          ".fi\n.SH DESCRIPTION\nkubesurvey SYN-scans address ranges for Kubernetes ports, "
          "probes each responder (TLS with the certificate chain, GET /version), stores the "
          "results in an LMDB database, and turns them into statistics, exports, reports and "
          "published datasets. Each command has its own page.\n.SH COMMANDS\n", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, ".TP\n.BR kubesurvey\\-%s (1)\n", cmds[i]->name);
        roff(out, cmds[i]->summary);
        fputs("\n", out);
    }
    fputs(".SH EXIT STATUS\n0 success, 1 runtime failure, 2 usage error.\n"
          ".SH FILES\n/usr/share/doc/kubesurvey: the survey guide and the references.\n"
          ".SH SEE ALSO\n", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, ".BR kubesurvey\\-%s (1)%s\n", cmds[i]->name, i + 1 < n ? "," : "");
}

/* ---- bash completion ---- */

/* The compgen that offers what spec ("@file", "@dir", words) names. */
static void compgen(FILE *out, const char *spec)
{
    if (!strcmp(spec, "@file"))
        fputs("COMPREPLY=($(compgen -f -- \"$cur\"))", out);
    else if (!strcmp(spec, "@user"))
        fputs("COMPREPLY=($(compgen -u -- \"$cur\"))", out);
    else if (!strcmp(spec, "@dir"))
        fputs("COMPREPLY=($(compgen -d -- \"$cur\"))", out);
    else
        fprintf(out, "COMPREPLY=($(compgen -W '%s' -- \"$cur\"))", spec);
}

static void command_completion(FILE *out, const struct cli_command *cmd)
{
    size_t n = option_count(cmd);
    fprintf(out, "    %s)\n        case $prev in\n", cmd->name);
    for (size_t i = 0; i < n; i++) {
        const struct cli_option *o = &cmd->options[i];
        if (!o->arg)
            continue;
        fprintf(out, "        --%s", o->name);
        if (o->short_name)
            fprintf(out, "|-%c", o->short_name);
        fputs(") ", out);
        if (o->complete)
            compgen(out, o->complete);
        else
            fputs("COMPREPLY=()", out);
        fputs("; return ;;\n", out);
    }
    fputs("        esac\n        if [[ $cur == -* ]]; then\n            COMPREPLY=($(compgen -W '",
          out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "--%s ", cmd->options[i].name);
        if (cmd->options[i].short_name)
            fprintf(out, "-%c ", cmd->options[i].short_name);
    }
    fputs("--help -h' -- \"$cur\"))\n        else\n            ", out);
    compgen(out, cmd->complete_args ? cmd->complete_args : "@file");
    fputs("\n        fi ;;\n", out);
}

void cli_bash_completion(const struct cli_command *const *cmds, size_t n, FILE *out)
{
    fputs("# bash completion for kubesurvey. Generated by `kubesurvey help --completion`\n"
          "# from the option tables of tools/cli/; edit those, not this file.\n"
          "_kubesurvey()\n{\n    local cur=${COMP_WORDS[COMP_CWORD]}\n"
          "    local prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    if [[ $COMP_CWORD -eq 1 ]]; then\n        COMPREPLY=($(compgen -W '", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s ", cmds[i]->name);
    fputs("help --help --version' -- \"$cur\"))\n        return\n    fi\n"
          "    case ${COMP_WORDS[1]} in\n", out);
    for (size_t i = 0; i < n; i++)
        command_completion(out, cmds[i]);
    fputs("    esac\n}\ncomplete -F _kubesurvey -o filenames kubesurvey\n", out);
}

/* ---- the tables' own test ---- */

void cli_list_options(const struct cli_command *const *cmds, size_t n, FILE *out)
{
    for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < option_count(cmds[c]); i++) {
            const struct cli_option *o = &cmds[c]->options[i];
            fprintf(out, "%s --%s", cmds[c]->name, o->name);
            if (o->short_name)
                fprintf(out, " -%c", o->short_name);
            fputc('\n', out);
        }
}

/* Parses "COMMAND WORD [VALUE]" alone; 0 if the option was taken. */
static int check_one(const struct cli_command *cmd, const struct cli_option *o, char *word,
                     FILE *out)
{
    char value[256];
    snprintf(value, sizeof(value), "%s",
             o->example ? o->example : o->fallback ? o->fallback : "x");
    char name[64];
    snprintf(name, sizeof(name), "%s", cmd->name);
    char *argv[] = {name, word, o->arg ? value : NULL, NULL};
    int argc = o->arg ? 3 : 2;
    void *opts = malloc(cmd->opts_size ? cmd->opts_size : 1);
    if (!opts)
        return -1;
    int rc = cli_parse(cmd, opts, argc, argv);
    free(opts);
    /* -1: parsed, the command would run; EXIT_OK: an option that answers
     * and exits (--modules). */
    if ((rc == -1 || rc == EXIT_OK) && optind == argc)
        return 0;
    fprintf(out, "kubesurvey %s %s%s%s: not parsed (status %d)\n", cmd->name, word,
            o->arg ? " " : "", o->arg ? value : "", rc);
    return -1;
}

int cli_check_tables(const struct cli_command *const *cmds, size_t n, FILE *out)
{
    int failures = 0, checked = 0;
    for (size_t c = 0; c < n; c++) {
        if (!cmds[c]->usage || !cmds[c]->description || !cmds[c]->summary) {
            fprintf(out, "kubesurvey %s: no usage, summary or description\n", cmds[c]->name);
            failures++;
        }
        for (size_t i = 0; i < option_count(cmds[c]); i++) {
            const struct cli_option *o = &cmds[c]->options[i];
            char word[80];
            snprintf(word, sizeof(word), "--%s", o->name);
            failures += check_one(cmds[c], o, word, out) != 0;
            checked++;
            if (o->short_name) {
                snprintf(word, sizeof(word), "-%c", o->short_name);
                failures += check_one(cmds[c], o, word, out) != 0;
                checked++;
            }
            if (!o->help || (o->kind != CLI_CALL) == (o->set != NULL)) {
                fprintf(out, "kubesurvey %s --%s: no help, or a setter with a kind (or "
                             "neither)\n", cmds[c]->name, o->name);
                failures++;
            }
        }
    }
    fprintf(out, "%d option spellings parsed, %d failures\n", checked, failures);
    return failures ? -1 : 0;
}
