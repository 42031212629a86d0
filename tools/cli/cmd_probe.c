/*
 * cmd_probe.c - `kubesurvey probe`: probe a list of (address, port) with
 * TLS + GET /version and write one JSON Lines record per target.
 *
 * Input lines (one target each; blank lines and '#' comments skipped):
 *   198.18.0.1              address, port from -p
 *   198.18.0.1:6443         address:port
 *   saddr,sport             CSV (ZMap -O csv, our own); a header line names
 *   198.18.0.1,6443         the columns, else column 1 = address, 2 = port
 *   open tcp 443 198.18.0.1 1600000000     masscan -oL
 * A line that is none of these is reported (file:line) and skipped.
 */
#include "probes/probes.h"
#include "tools/cli/probe_options.h"
#include "tools/cli/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct output {
    FILE *out;
    pthread_mutex_t lock;
    bool failed;          /* a write failed */
    struct probe_pool_stats counts; /* of the records written */
    uint64_t k8s;         /* records with k8s = yes */
};

struct input {
    const char *name;
    FILE *in;
    uint64_t line_number;
    uint16_t default_port;
    int addr_column, port_column; /* CSV columns (0-based); -1 unknown */
    bool header_seen;
    uint64_t skipped;
};

/* Parses a decimal in [min, max]; -1 on anything else. */
static int parse_number(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_addr(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
    unsigned long v;
    if (parse_number(s, 1, 65535, &v) < 0)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* Splits `line` at `sep` into at most `max` fields (in place). */
static int split(char *line, char sep, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *next = sep == ' ' ? strpbrk(p, " \t") : strchr(p, sep);
        if (!next)
            break;
        *next++ = '\0';
        if (sep == ' ')
            next += strspn(next, " \t");
        p = next;
    }
    return n;
}

/* A CSV header: find the address and port columns. */
static bool read_csv_header(struct input *in, char **fields, int n)
{
    int addr = -1, port = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(fields[i], "saddr") || !strcmp(fields[i], "addr") ||
            !strcmp(fields[i], "address") || !strcmp(fields[i], "ip"))
            addr = i;
        else if (!strcmp(fields[i], "sport") || !strcmp(fields[i], "port"))
            port = i;
    }
    if (addr < 0)
        return false;
    in->addr_column = addr;
    in->port_column = port;
    return true;
}

/* One input line to a target. 1 = target, 0 = nothing on this line,
 * -1 = not understood (message in err). */
static int parse_line(struct input *in, char *line, uint32_t *addr, uint16_t *port, char *err)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    line += strspn(line, " \t");
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        line[--len] = '\0';
    if (len == 0)
        return 0;
    bool first = !in->header_seen;
    in->header_seen = true;

    char *fields[16];
    if (strchr(line, ',')) {
        int n = split(line, ',', fields, 16);
        if (first && read_csv_header(in, fields, n))
            return 0;
        int ac = in->addr_column >= 0 ? in->addr_column : 0;
        int pc = in->addr_column >= 0 ? in->port_column : 1;
        if (ac >= n || parse_addr(fields[ac], addr) < 0) {
            snprintf(err, KS_ERRLEN, "no IPv4 address in CSV column %d", ac + 1);
            return -1;
        }
        *port = in->default_port;
        if (pc >= 0 && pc < n && fields[pc][0] && parse_port(fields[pc], port) < 0) {
            snprintf(err, KS_ERRLEN, "bad port '%s' in CSV column %d", fields[pc], pc + 1);
            return -1;
        }
        return 1;
    }
    if (strchr(line, ' ') || strchr(line, '\t')) {
        int n = split(line, ' ', fields, 16);
        if (n >= 4 && !strcmp(fields[0], "open") && !strcmp(fields[1], "tcp")) {
            if (parse_port(fields[2], port) < 0 || parse_addr(fields[3], addr) < 0) {
                snprintf(err, KS_ERRLEN, "bad masscan line (want: open tcp PORT ADDRESS TIME)");
                return -1;
            }
            return 1;
        }
        snprintf(err, KS_ERRLEN, "not an address, address:port, CSV or masscan -oL line");
        return -1;
    }
    char *colon = strchr(line, ':');
    if (colon && strchr(colon + 1, ':')) {
        snprintf(err, KS_ERRLEN, "not an IPv4 address: '%s' (IPv6 is not supported)", line);
        return -1;
    }
    if (colon) {
        *colon = '\0';
        if (parse_port(colon + 1, port) < 0) {
            snprintf(err, KS_ERRLEN, "bad port '%s'", colon + 1);
            return -1;
        }
    } else {
        *port = in->default_port;
    }
    if (parse_addr(line, addr) < 0) {
        snprintf(err, KS_ERRLEN, "not an IPv4 address: '%s'", line);
        return -1;
    }
    return 1;
}

static void write_result(void *ctx, const struct probe_target *t, struct probe_result *r)
{
    (void)t;
    struct output *o = ctx;
    size_t length = 0;
    char *text = record_to_json(r, RECORD_CERTS_DER, NULL, &length);
    pthread_mutex_lock(&o->lock);
    if (!text || fwrite(text, 1, length, o->out) != length || fputc('\n', o->out) == EOF)
        o->failed = true;
    if (r->k8s == K8S_YES)
        o->k8s++;
    o->counts.completed++;
    if ((unsigned)r->outcome < PROBE_OUTCOME_COUNT)
        o->counts.by_outcome[r->outcome]++;
    pthread_mutex_unlock(&o->lock);
    free(text);
    probe_result_free(r);
}

static void print_summary(const struct probe_pool_stats *s, uint64_t k8s, uint64_t skipped, double secs)
{
    fprintf(stderr, "kubesurvey probe: %llu probes in %.1f s (%.0f/s), %llu Kubernetes",
            (unsigned long long)s->completed, secs, secs > 0 ? s->completed / secs : 0.0,
            (unsigned long long)k8s);
    int first_outcome = 0;
    while (first_outcome < PROBE_OUTCOME_COUNT && !s->by_outcome[first_outcome])
        first_outcome++;
    for (int i = 0; i < PROBE_OUTCOME_COUNT; i++)
        if (s->by_outcome[i])
            fprintf(stderr, "%s %s %llu", i == first_outcome ? ";" : "", probe_outcome_name(i),
                    (unsigned long long)s->by_outcome[i]);
    if (s->retries)
        fprintf(stderr, "; %llu retries (%llu recovered)", (unsigned long long)s->retries,
                (unsigned long long)s->recovered);
    if (skipped)
        fprintf(stderr, "; %llu input lines skipped", (unsigned long long)skipped);
    fputc('\n', stderr);
}

/* What the command line asked for. */
struct probe_args {
    struct probe_config cfg;    /* first: PROBE_OPTIONS fill it */
    struct input in;
    const char *output;
    bool quiet;
};

static int set_port(void *opts, const char *arg)
{
    if (parse_port(arg, &((struct probe_args *)opts)->in.default_port) < 0) {
        cli_message("bad value '%s' for %s (see --help)", arg, cli_option_word());
        return EXIT_USAGE;
    }
    return 0;
}

static int set_format(void *opts, const char *arg)
{
    (void)opts;
    if (strcmp(arg, "jsonl") != 0) {
        cli_message("--output-format '%s': only jsonl is supported", arg);
        return EXIT_USAGE;
    }
    return 0;
}

static int bad_option(int c, const char *word)
{
    if (c == ':')
        cli_message("%s needs a value (see --help)", word);
    else
        cli_message("unknown option '%s' (see --help)", word);
    return EXIT_USAGE;
}


/* Submits every target line of the input to the pool; the exit status. */
static int probe_input(struct probe_args *a, struct output *out)
{
    int status = EXIT_OK;
    char err[KS_ERRLEN];
    struct probe_pool *pool;
    if (probe_pool_create(&pool, &a->cfg, write_result, out, err) < 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    char *line = NULL;
    size_t capacity = 0;
    while (getline(&line, &capacity, a->in.in) != -1) {
        a->in.line_number++;
        uint32_t addr;
        uint16_t port;
        int rc = parse_line(&a->in, line, &addr, &port, err);
        if (rc < 0) {
            cli_message("%s:%llu: %s; line skipped", a->in.name,
                        (unsigned long long)a->in.line_number, err);
            a->in.skipped++;
        } else if (rc > 0) {
            struct probe_target target;
            probe_target_ipv4(&target, addr, port, probe_module_for_port(&a->cfg.modules, port),
                              a->in.line_number);
            probe_pool_submit(pool, &target);
        }
    }
    if (ferror(a->in.in)) {
        cli_message("reading %s: %s", a->in.name, strerror(errno));
        status = EXIT_RUNTIME;
    }
    free(line);
    struct probe_pool_stats final = {0};
    if (probe_pool_finish(pool, &final, err) < 0) {
        cli_message("%s", err);
        status = EXIT_RUNTIME;
    }
    out->counts.retries = final.retries;
    out->counts.recovered = final.recovered;
    return status;
}

static int cmd_probe(int argc, char **argv)
{
    struct probe_args a;
    int status = cli_parse(&probe_command, &a, argc, argv);
    if (status >= 0)
        return status;
    if (optind < argc) {
        cli_message("unexpected argument '%s' (see --help)", argv[optind]);
        return EXIT_USAGE;
    }
    a.in.addr_column = a.in.port_column = -1;
    a.in.in = strcmp(a.in.name, "-") ? fopen(a.in.name, "r") : stdin;
    if (!a.in.in) {
        cli_message("cannot open input %s: %s", a.in.name, strerror(errno));
        return EXIT_RUNTIME;
    }
    struct output out = {.out = strcmp(a.output, "-") ? fopen(a.output, "w") : stdout};
    if (!out.out) {
        cli_message("cannot create output %s: %s", a.output, strerror(errno));
        if (a.in.in != stdin)
            fclose(a.in.in);
        return EXIT_RUNTIME;
    }
    pthread_mutex_init(&out.lock, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    status = probe_input(&a, &out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (fflush(out.out) == EOF || out.failed) {
        cli_message("writing %s failed: %s", a.output, strerror(errno));
        status = EXIT_RUNTIME;
    }
    if (!a.quiet)
        print_summary(&out.counts, out.k8s, a.in.skipped,
                      (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (out.out != stdout && fclose(out.out) == EOF) {
        cli_message("closing %s: %s", a.output, strerror(errno));
        status = EXIT_RUNTIME;
    }
    if (a.in.in != stdin)
        fclose(a.in.in);
    pthread_mutex_destroy(&out.lock);
    return status;
}

static const struct cli_option probe_options[] = {
    {.name = "input", .short_name = 'f', .arg = "FILE", .fallback = "-", .kind = CLI_TEXT,
     .offset = offsetof(struct probe_args, in.name), .complete = "@file",
     .help = "targets (- is standard input)"},
    {.name = "port", .short_name = 'p', .arg = "PORT", .fallback = "443", .set = set_port,
     .help = "port for lines without one"},
    {.name = "output", .short_name = 'o', .arg = "FILE", .fallback = "-", .kind = CLI_TEXT,
     .offset = offsetof(struct probe_args, output), .complete = "@file",
     .help = "JSON Lines output (- is standard output)"},
    {.name = "output-format", .arg = "jsonl", .set = set_format, .complete = "jsonl",
     .fallback = "jsonl", .help = "the only format for now"},
    PROBE_OPTIONS,
    {.name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .offset = offsetof(struct probe_args, quiet),
     .help = "no summary on standard error"},
    {0},
};

static const char *const probe_usage[] = {"[-f FILE|-] [-p PORT] [-o FILE] [OPTIONS]", NULL};

const struct cli_command probe_command = {
    .name = "probe",
    .summary = "TLS + GET /version probe a list of targets, write JSON Lines",
    .usage = probe_usage,
    .description =
        "Probe each listed (address, port) with its port's module (--modules): TCP\n"
        "connect, TLS handshake (whole chain kept) unless the module is plain HTTP,\n"
        "one GET (/version for an API server or etcd, /healthz for a kubelet), and\n"
        "the module's classification. One JSON object per line per target (schema:\n"
        "docs/probe-schema.md).\n\n"
        "Input lines: ADDRESS, ADDRESS:PORT, CSV saddr,sport (ZMap; a header line is\n"
        "skipped), masscan -oL (open tcp PORT ADDRESS TIME). '#' starts a comment.\n",
    .options = probe_options,
    .epilog = "Exit status: 0 success, 1 runtime failure, 2 usage error.\n",
    .complete_args = "",
    .opts_size = sizeof(struct probe_args),
    .bad_option = bad_option,
    .run = cmd_probe,
};
