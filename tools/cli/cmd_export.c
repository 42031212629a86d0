/*
 * cmd_export.c - `kubesurvey export DB`: one record per endpoint as JSON
 * Lines or CSV (docs/export.md), streamed from the store, optionally zstd
 * compressed, with Crypto-PAn anonymised addresses and origin ASes.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "lib/text.h"
#include "storage/storage.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* ---- output, optionally through a zstd stream ---- */

struct output {
    FILE *file;
    ZSTD_CCtx *zstd;
    void *zbuf;
    size_t zbuf_size;
    bool failed;
};

static void output_drain(struct output *o, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
    size_t remaining;
    do {
        ZSTD_outBuffer out = {o->zbuf, o->zbuf_size, 0};
        remaining = ZSTD_compressStream2(o->zstd, &out, in, mode);
        if (ZSTD_isError(remaining)) {
            o->failed = true;
            return;
        }
        if (fwrite(o->zbuf, 1, out.pos, o->file) != out.pos)
            o->failed = true;
    } while (!o->failed && (mode == ZSTD_e_end ? remaining != 0 : in->pos < in->size));
}

static void output_write(struct output *o, const char *data, size_t length)
{
    if (o->failed || length == 0)
        return;
    if (!o->zstd) {
        if (fwrite(data, 1, length, o->file) != length)
            o->failed = true;
        return;
    }
    ZSTD_inBuffer in = {data, length, 0};
    output_drain(o, &in, ZSTD_e_continue);
}

static int output_finish(struct output *o)
{
    if (o->zstd) {
        ZSTD_inBuffer in = {NULL, 0, 0};
        if (!o->failed)
            output_drain(o, &in, ZSTD_e_end);
        ZSTD_freeCCtx(o->zstd);
        free(o->zbuf);
    }
    if (fflush(o->file) != 0)
        o->failed = true;
    return o->failed ? -1 : 0;
}

/* ---- the export walk ---- */

struct exporter {
    struct output out;
    bool csv, pem;
    uint32_t scan_id;
    struct anonymizer *anon;
    const struct pfx2as *pfx2as;
    uint64_t records;
    char err[KS_ERRLEN];
};

/* Counts a record written; 1 (stop the walk) if the output failed (the
 * reason in e->err: out of memory, else the write's). */
static int record_written(struct exporter *e)
{
    e->records++;
    if (!e->out.failed)
        return 0;
    if (!e->err[0])
        snprintf(e->err, KS_ERRLEN, "writing the output failed: %s", strerror(errno));
    return 1;
}

/* One record as a JSON line: the record's members, then "scan", "as"
 * (with --pfx2as) and "anonymized" (with --anonymize). */
static void write_json(struct exporter *e, const struct probe_result *r, uint32_t original_addr)
{
    const char *origin = NULL;
    if (e->pfx2as && !pfx2as_lookup(e->pfx2as, original_addr, &origin))
        origin = NULL;
    /* prefix2as AS fields are digits, '_' and ',' (an AS set can be long):
     * nothing to escape, any length */
    size_t size = 96 + (origin ? strlen(origin) : 0);
    char *extra = malloc(size);
    if (!extra) {
        e->out.failed = true;
        snprintf(e->err, KS_ERRLEN, "out of memory");
        return;
    }
    int n = snprintf(extra, size, ",\"scan\":%u", e->scan_id);
    if (e->pfx2as)
        n += snprintf(extra + n, size - (size_t)n, origin ? ",\"as\":\"%s\"" : ",\"as\":null",
                      origin);
    if (e->anon)
        snprintf(extra + n, size - (size_t)n, ",\"anonymized\":true");
    size_t length;
    char *text = record_to_json(r, e->pem ? RECORD_CERTS_PEM : RECORD_CERTS_DER, extra, &length);
    free(extra);
    if (!text) {
        snprintf(e->err, KS_ERRLEN, "out of memory");
        e->out.failed = true;
        return;
    }
    output_write(&e->out, text, length);
    output_write(&e->out, "\n", 1);
    free(text);
}

/* One record as a CSV line: scan, the record's CSV columns, as. */
static void write_csv(struct exporter *e, const struct probe_result *r, uint32_t original_addr)
{
    char *line = record_csv_line(r);
    char head[16];
    const char *as = "";
    if (!line) {
        snprintf(e->err, KS_ERRLEN, "out of memory");
        e->out.failed = true;
        return;
    }
    if (e->pfx2as && !pfx2as_lookup(e->pfx2as, original_addr, &as))
        as = "";
    /* an AS set ("7,8") is a field with a comma: quoted */
    bool quote = strchr(as, ',') != NULL;
    snprintf(head, sizeof(head), "%u,", e->scan_id);
    output_write(&e->out, head, strlen(head));
    output_write(&e->out, line, strlen(line));
    output_write(&e->out, quote ? ",\"" : ",", quote ? 2 : 1);
    output_write(&e->out, as, strlen(as));
    output_write(&e->out, quote ? "\"\n" : "\n", quote ? 2 : 1);
    free(line);
}

static int export_host(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct exporter *e = ctx;
    struct probe_result copy;
    const struct probe_result *out = r;
    if (e->anon) {
        if (probe_result_copy(&copy, r) != 0 || (anonymizer_apply(e->anon, &copy) != 0 &&
                                                 (probe_result_free(&copy), true))) {
            snprintf(e->err, KS_ERRLEN, "out of memory");
            return 1;
        }
        out = &copy;
    }
    if (e->csv)
        write_csv(e, out, r->addr);
    else
        write_json(e, out, r->addr);
    if (e->anon)
        probe_result_free(&copy);
    return record_written(e);
}

struct export_args {
    const char *db, *format, *certs, *keyfile, *pfx2as, *output;
    uint32_t scan;
    bool zstd;
};

/* Compresses what follows with zstd (level 3, checksummed). 0 / -1. */
static int output_zstd(struct output *o, char *err)
{
    o->zstd = ZSTD_createCCtx();
    o->zbuf_size = ZSTD_CStreamOutSize();
    o->zbuf = malloc(o->zbuf_size);
    if (!o->zstd || !o->zbuf) {
        snprintf(err, KS_ERRLEN, "out of memory");
        o->failed = true;
        return -1;
    }
    ZSTD_CCtx_setParameter(o->zstd, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(o->zstd, ZSTD_c_checksumFlag, 1);
    return 0;
}

static int run_export(const struct export_args *a, char *err)
{
    struct exporter e = {.csv = !strcmp(a->format, "csv"), .pem = a->certs != NULL};
    struct pfx2as *p2a = NULL;
    struct store *store = NULL;
    json_t *scan = NULL;
    int rc = -1;
    bool output_open = false;
    e.out.file = stdout;

    if (a->keyfile && anonymizer_load(&e.anon, a->keyfile, err) != 0)
        goto done;
    if (a->pfx2as && pfx2as_load(&p2a, a->pfx2as, err) != 0)
        goto done;
    e.pfx2as = p2a;
    if (tool_store_open(a->db, &store, err) != 0 ||
        tool_scan_pick(store, a->scan, &e.scan_id, &scan, err) != 0)
        goto done;
    if (a->output && !(e.out.file = fopen(a->output, "wb"))) {
        snprintf(err, KS_ERRLEN, "%s: %s", a->output, strerror(errno));
        goto done;
    }
    output_open = true;
    if (a->zstd && output_zstd(&e.out, err) != 0)
        goto done;
    if (e.csv) {
        char *header = record_csv_header();
        if (!header) {
            snprintf(err, KS_ERRLEN, "out of memory");
            goto done;
        }
        output_write(&e.out, "scan,", 5);
        output_write(&e.out, header, strlen(header));
        output_write(&e.out, ",as\n", 4);
        free(header);
    }
    struct store_read_stats read = {0};
    e.err[0] = '\0';
    if (store_hosts_foreach(store, e.scan_id, e.pem ? STORE_WITH_CERTS : 0, export_host, &e, &read,
                            err) != 0)
        goto done;
    if (e.err[0]) {
        snprintf(err, KS_ERRLEN, "%s", e.err);
        goto done;
    }
    if (read.corrupt)
        cli_message("%llu corrupt record(s) skipped (see kubesurvey check)",
                (unsigned long long)read.corrupt);
    rc = 0;
done:
    if (output_open) {
        if (rc != 0)
            e.out.failed = true; /* no end frame after an error */
        if (output_finish(&e.out) != 0 && rc == 0) {
            snprintf(err, KS_ERRLEN, "writing %s failed", a->output ? a->output : "the output");
            rc = -1;
        }
        if (e.out.file != stdout)
            fclose(e.out.file);
    } else if (e.out.zstd) {
        ZSTD_freeCCtx(e.out.zstd);
        free(e.out.zbuf);
    }
    json_decref(scan);
    store_close(store);
    pfx2as_free(p2a);
    anonymizer_free(e.anon);
    return rc;
}

static int set_scan(void *opts, const char *arg)
{
    if (tool_parse_scan_id(arg, &((struct export_args *)opts)->scan) != 0) {
        cli_message("--scan '%s' is not a scan id", arg);
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    struct export_args a;
    int parsed = cli_parse(&export_command, &a, argc, argv);
    if (parsed >= 0)
        return parsed;
    const char *problem = NULL;
    if (optind != argc - 1)
        problem = "give exactly one DB";
    else if (!a.format || (strcmp(a.format, "jsonl") && strcmp(a.format, "csv")))
        problem = "--format must be jsonl or csv";
    else if (a.certs && strcmp(a.certs, "pem"))
        problem = "--certs takes only 'pem'";
    else if (a.certs && !strcmp(a.format, "csv"))
        problem = "--certs pem needs --format jsonl";
    else if (a.certs && a.keyfile)
        problem = "--certs cannot be combined with --anonymize (certificates name the host)";
    if (problem) {
        cli_message("%s", problem);
        cli_help(&export_command, stderr);
        return EXIT_USAGE;
    }
    a.db = argv[optind];
    char err[KS_ERRLEN] = "";
    if (run_export(&a, err) != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

static const struct cli_option export_options[] = {
    {.name = "format", .arg = "F", .kind = CLI_TEXT, .offset = offsetof(struct export_args, format),
     .complete = "jsonl csv", .help = "jsonl (JSON Lines) or csv"},
    {.name = "scan", .arg = "ID", .set = set_scan, .example = "1",
     .help = "the scan (default: the newest in DB)"},
    {.name = "certs", .arg = "pem", .kind = CLI_TEXT, .offset = offsetof(struct export_args, certs),
     .complete = "pem", .help = "add each certificate as PEM (jsonl only; not with --anonymize)"},
    {.name = "zstd", .kind = CLI_FLAG, .offset = offsetof(struct export_args, zstd),
     .help = "compress the output with zstd"},
    {.name = "anonymize", .arg = "KEY", .kind = CLI_TEXT, .complete = "@file",
     .offset = offsetof(struct export_args, keyfile),
     .help = "Crypto-PAn prefix-preserving addresses with the 32-byte key in\n"
             "file KEY (make one: head -c 32 /dev/urandom > KEY); certificate\n"
             "hashes are keyed, bodies other than version.Info are dropped"},
    {.name = "pfx2as", .arg = "FILE", .kind = CLI_TEXT, .complete = "@file",
     .offset = offsetof(struct export_args, pfx2as),
     .help = "add the origin AS (CAIDA RouteViews prefix2as) of each address"},
    {.name = "output", .short_name = 'o', .arg = "FILE", .kind = CLI_TEXT, .complete = "@file",
     .offset = offsetof(struct export_args, output),
     .help = "write to FILE (default: standard output)"},
    {0},
};

static const char *const export_usage[] = {
    "DB --format jsonl|csv [--scan ID] [--certs pem] [--zstd]\n"
    "                         [--anonymize KEYFILE] [--pfx2as FILE] [-o FILE]",
    NULL,
};

const struct cli_command export_command = {
    .name = "export",
    .summary = "export endpoints as JSON Lines or CSV (optionally anonymised)",
    .usage = export_usage,
    .description = "Writes one record per stored endpoint of a scan (schema: docs/export.md).\n",
    .options = export_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct export_args),
    .run = cmd_export,
};
