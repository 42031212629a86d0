/*
 * cmd_show.c - kubesurvey show DB ADDRESS[:PORT]: the stored records of one
 * host, readable or as JSON (one object per line).
 *
 * The JSON is probes' probe_result_to_json record plus the scan id and the
 * certificates' subjects and issuers.
 */
#include "lib/text.h"
#include "storage/storage.h"
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct show_ctx {
    bool json;
    uint64_t shown;
    int status;
};

/* "subject | issuer" of a DER certificate, or why not. */
static void cert_names(const uint8_t *der, size_t length, char *subject, char *issuer, size_t size)
{
    const unsigned char *p = der;
    X509 *x = der ? d2i_X509(NULL, &p, (long)length) : NULL;
    if (!x) {
        snprintf(subject, size, "(not X.509)");
        snprintf(issuer, size, "(not X.509)");
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(x), subject, (int)size);
    X509_NAME_oneline(X509_get_issuer_name(x), issuer, (int)size);
    X509_free(x);
}

/* probes' JSON record (docs/probe-schema.md) with the scan id in front and
 * each certificate's subject and issuer added. */
static json_t *result_json(uint32_t scan_id, const struct probe_result *r)
{
    json_t *fields = probe_result_to_json(r), *o = json_object();
    if (!fields || !o || json_object_set_new(o, "scan", json_integer(scan_id)) ||
        json_object_update(o, fields)) {
        json_decref(fields);
        json_decref(o);
        return NULL;
    }
    json_decref(fields);
    json_t *chain = json_object_get(o, "chain");
    for (size_t i = 0; i < r->chain_length && i < json_array_size(chain); i++) {
        char subject[512], issuer[512];
        cert_names(r->chain[i].der, r->chain[i].length, subject, issuer, sizeof(subject));
        json_t *c = json_array_get(chain, i);
        json_object_set_new(c, "subject", json_string(subject));
        json_object_set_new(c, "issuer", json_string(issuer));
    }
    return o;
}

static const char *text_or_dash(const char *s)
{
    return !s ? "-" : *s ? s : "\"\"";
}

static void print_readable(uint32_t scan_id, const struct probe_result *r)
{
    char addr[16];
    ipv4_text(r->addr, addr);
    printf("%s:%u (scan %u)%s\n", addr, r->port, scan_id,
           r->all_ports_open ? " (host answers on every port)" : "");
    printf("  started       %lld ms (Unix), took %u ms\n", (long long)r->started_ms, r->duration_ms);
    printf("  outcome       %s%s%s\n", probe_outcome_name(r->outcome), r->error ? ": " : "",
           r->error ? r->error : "");
    printf("  tls           %s %s %s, alpn %s\n", r->tls_done ? "done" : "not done",
           text_or_dash(r->tls_version), text_or_dash(r->tls_cipher), text_or_dash(r->tls_alpn));
    for (size_t i = 0; i < r->chain_length; i++) {
        char h[65], subject[512], issuer[512];
        hex_text(r->chain[i].sha256, 32, h);
        cert_names(r->chain[i].der, r->chain[i].length, subject, issuer, sizeof(subject));
        printf("  cert[%zu]       %s (%zu bytes)\n                subject %s\n"
               "                issuer  %s\n", i, h, r->chain[i].length, subject, issuer);
    }
    if (r->chain_truncated)
        printf("  (chain truncated at %d certificates)\n", PROBE_CHAIN_MAX);
    printf("  http          status %d, server %s, content-type %s\n", r->http_status,
           text_or_dash(r->http_server), text_or_dash(r->http_content_type));
    printf("  headers       audit-id %s, pf-flowschema %s, pf-prioritylevel %s\n",
           text_or_dash(r->http_audit_id), text_or_dash(r->http_pf_flowschema),
           text_or_dash(r->http_pf_prioritylevel));
    printf("  body          %zu bytes%s\n", r->body_length, r->body_truncated ? " (truncated)" : "");
    if (r->body_length) {
        printf("    ");
        for (size_t i = 0; i < r->body_length && i < 2048; i++) {
            uint8_t c = r->body[i];
            if (c == '\n')
                printf("\n    ");
            else
                putchar(c >= 0x20 && c < 0x7f ? c : '.');
        }
        printf("%s\n", r->body_length > 2048 ? " ..." : "");
    }
    printf("  kubernetes    %s, evidence 0x%x, provider %s\n", k8s_verdict_name(r->k8s),
           r->evidence, text_or_dash(r->provider));
    printf("  version       %s (state %d, %d.%d.%d suffix %s)\n", text_or_dash(r->git_version),
           r->version_state, r->version_major, r->version_minor, r->version_patch,
           text_or_dash(r->version_suffix));
    printf("  build         commit %s, date %s, %s, %s\n", text_or_dash(r->git_commit),
           text_or_dash(r->build_date), text_or_dash(r->go_version), text_or_dash(r->platform));
}

static int show_one(void *arg, uint32_t scan_id, const struct probe_result *r)
{
    struct show_ctx *ctx = arg;
    if (ctx->json) {
        json_t *o = result_json(scan_id, r);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        else
            ctx->status = EXIT_RUNTIME;
        free(text);
        json_decref(o);
    } else {
        if (ctx->shown)
            printf("\n");
        print_readable(scan_id, r);
    }
    ctx->shown++;
    return 0;
}

/* ADDRESS or ADDRESS:PORT; port 0 means every port. */
static int parse_target(const char *text, uint32_t *addr, uint16_t *port)
{
    char host[INET_ADDRSTRLEN + 1];
    const char *colon = strchr(text, ':');
    size_t length = colon ? (size_t)(colon - text) : strlen(text);
    if (length >= sizeof(host))
        return -1;
    memcpy(host, text, length);
    host[length] = '\0';
    struct in_addr in;
    if (inet_pton(AF_INET, host, &in) != 1)
        return -1;
    *addr = ntohl(in.s_addr);
    *port = 0;
    if (colon) {
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (*end || end == colon + 1 || p == 0 || p > 65535)
            return -1;
        *port = (uint16_t)p;
    }
    return 0;
}

struct show_options {
    bool json;
    uint32_t scan;
};

static int set_scan(void *opts, const char *arg)
{
    struct show_options *o = opts;
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*end || end == arg || v == 0 || v > UINT32_MAX) {
        cli_message("--scan: '%s' is not a scan id (1, 2, ...)", arg);
        return EXIT_USAGE;
    }
    o->scan = (uint32_t)v;
    return 0;
}

static int cmd_show(int argc, char **argv)
{
    struct show_options o;
    int parsed = cli_parse(&show_command, &o, argc, argv);
    if (parsed >= 0)
        return parsed;
    struct show_ctx ctx = {o.json, 0, EXIT_OK};
    uint32_t scan_id = o.scan;
    if (argc - optind != 2) {
        cli_help(&show_command, stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind], *target = argv[optind + 1];
    uint32_t addr;
    uint16_t port;
    if (parse_target(target, &addr, &port)) {
        cli_message("'%s' is not ADDRESS or ADDRESS:PORT (IPv4, port "
                "1-65535)", target);
        return EXIT_USAGE;
    }
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, path, STORE_READ_ONLY, err)) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    struct store_read_stats stats;
    if (store_hosts_foreach_addr(store, scan_id, addr, port, STORE_WITH_CERTS, show_one, &ctx,
                                 &stats, err)) {
        cli_message("%s", err);
        ctx.status = EXIT_RUNTIME;
    } else if (stats.corrupt) {
        cli_message("%llu matching records are corrupt (run kubesurvey "
                "check %s)", (unsigned long long)stats.corrupt, path);
        ctx.status = EXIT_RUNTIME;
    } else if (ctx.shown == 0) {
        cli_message("%s: no record for %s", path, target);
        ctx.status = EXIT_RUNTIME;
    }
    store_close(store);
    return ctx.status;
}

static const struct cli_option show_options[] = {
    {.name = "scan", .short_name = 's', .arg = "ID", .set = set_scan, .example = "1",
     .help = "only scan ID"},
    {.name = "json", .short_name = 'j', .kind = CLI_FLAG,
     .offset = offsetof(struct show_options, json), .help = "one JSON object per record"},
    {0},
};

static const char *const show_usage[] = {"DB ADDRESS[:PORT] [--scan ID] [--json]", NULL};

const struct cli_command show_command = {
    .name = "show",
    .summary = "print the stored record(s) of one address",
    .usage = show_usage,
    .description =
        "Prints what DB holds for the IPv4 ADDRESS (every port unless PORT is given),\n"
        "in every scan unless --scan is given. Certificates are listed by SHA-256;\n"
        "`kubesurvey cert DB SHA256` prints one.\n",
    .options = show_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct show_options),
    .run = cmd_show,
};
