/*
 * cmd_show.c - kubesurvey show DB ADDRESS[:PORT]: the stored records of one
 * host, readable or as JSON (one object per line).
 *
 * The JSON encoding here is show's own (probe_result_to_json from probes/
 * had not landed when this was written).
 */
#include "storage/storage.h"
#include "tools/tools.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey show DB ADDRESS[:PORT] [--scan ID] [--json]\n\n"
            "Prints what DB holds for the IPv4 ADDRESS (every port unless PORT is given),\n"
            "in every scan unless --scan is given. Certificates are listed by SHA-256;\n"
            "`kubesurvey cert DB SHA256` prints one.\n\n"
            "  -s, --scan ID   only scan ID\n"
            "  -j, --json      one JSON object per record\n"
            "  -h, --help      this text\n");
}

struct show_ctx {
    bool json;
    uint64_t shown;
    int status;
};

static void hex(char *out, const uint8_t *data, size_t length)
{
    for (size_t i = 0; i < length; i++)
        sprintf(out + 2 * i, "%02x", data[i]);
}

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

static void set_string(json_t *obj, const char *name, const char *value)
{
    json_object_set_new(obj, name, value ? json_string(value) : json_null());
}

static json_t *result_json(uint32_t scan_id, const struct probe_result *r)
{
    char addr[INET_ADDRSTRLEN];
    struct in_addr in = {htonl(r->addr)};
    inet_ntop(AF_INET, &in, addr, sizeof(addr));
    json_t *o = json_object();
    json_object_set_new(o, "scan", json_integer(scan_id));
    json_object_set_new(o, "addr", json_string(addr));
    json_object_set_new(o, "port", json_integer(r->port));
    json_object_set_new(o, "started_ms", json_integer(r->started_ms));
    json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));
    json_object_set_new(o, "outcome", json_string(probe_outcome_name(r->outcome)));
    set_string(o, "error", r->error);
    json_object_set_new(o, "tls_done", json_boolean(r->tls_done));
    set_string(o, "tls_version", r->tls_version);
    set_string(o, "tls_cipher", r->tls_cipher);
    set_string(o, "tls_alpn", r->tls_alpn);
    json_t *chain = json_array();
    for (size_t i = 0; i < r->chain_length; i++) {
        char h[65], subject[512], issuer[512];
        hex(h, r->chain[i].sha256, 32);
        cert_names(r->chain[i].der, r->chain[i].length, subject, issuer, sizeof(subject));
        json_t *c = json_object();
        json_object_set_new(c, "sha256", json_string(h));
        json_object_set_new(c, "length", json_integer((json_int_t)r->chain[i].length));
        set_string(c, "subject", subject);
        set_string(c, "issuer", issuer);
        json_array_append_new(chain, c);
    }
    json_object_set_new(o, "chain", chain);
    json_object_set_new(o, "chain_truncated", json_boolean(r->chain_truncated));
    json_object_set_new(o, "http_status", json_integer(r->http_status));
    set_string(o, "http_server", r->http_server);
    set_string(o, "http_content_type", r->http_content_type);
    set_string(o, "http_audit_id", r->http_audit_id);
    set_string(o, "http_pf_flowschema", r->http_pf_flowschema);
    set_string(o, "http_pf_prioritylevel", r->http_pf_prioritylevel);
    json_t *body = r->body ? json_stringn((const char *)r->body, r->body_length) : json_null();
    if (!body) {   /* not UTF-8: base64 */
        char *b64 = malloc(4 * ((r->body_length + 2) / 3) + 1);
        if (b64) {
            EVP_EncodeBlock((unsigned char *)b64, r->body, (int)r->body_length);
            json_object_set_new(o, "body_base64", json_string(b64));
        }
        free(b64);
    } else {
        json_object_set_new(o, "body", body);
    }
    json_object_set_new(o, "body_truncated", json_boolean(r->body_truncated));
    json_object_set_new(o, "k8s", json_boolean(r->k8s == K8S_YES));
    json_object_set_new(o, "evidence", json_integer(r->evidence));
    set_string(o, "provider", r->provider);
    json_object_set_new(o, "version_state", json_integer(r->version_state));
    set_string(o, "git_version", r->git_version);
    json_object_set_new(o, "version_major", json_integer(r->version_major));
    json_object_set_new(o, "version_minor", json_integer(r->version_minor));
    json_object_set_new(o, "version_patch", json_integer(r->version_patch));
    set_string(o, "version_suffix", r->version_suffix);
    set_string(o, "git_commit", r->git_commit);
    set_string(o, "build_date", r->build_date);
    set_string(o, "go_version", r->go_version);
    set_string(o, "platform", r->platform);
    return o;
}

static const char *text_or_dash(const char *s)
{
    return !s ? "-" : *s ? s : "\"\"";
}

static void print_readable(uint32_t scan_id, const struct probe_result *r)
{
    char addr[INET_ADDRSTRLEN];
    struct in_addr in = {htonl(r->addr)};
    inet_ntop(AF_INET, &in, addr, sizeof(addr));
    printf("%s:%u (scan %u)\n", addr, r->port, scan_id);
    printf("  started       %lld ms (Unix), took %u ms\n", (long long)r->started_ms, r->duration_ms);
    printf("  outcome       %s%s%s\n", probe_outcome_name(r->outcome), r->error ? ": " : "",
           r->error ? r->error : "");
    printf("  tls           %s %s %s, alpn %s\n", r->tls_done ? "done" : "not done",
           text_or_dash(r->tls_version), text_or_dash(r->tls_cipher), text_or_dash(r->tls_alpn));
    for (size_t i = 0; i < r->chain_length; i++) {
        char h[65], subject[512], issuer[512];
        hex(h, r->chain[i].sha256, 32);
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
    printf("  kubernetes    %s, evidence 0x%x, provider %s\n", r->k8s == K8S_YES ? "yes" : "no",
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
        char *text = json_dumps(o, JSON_COMPACT);
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

int cmd_show(int argc, char **argv)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"scan", required_argument, NULL, 's'},
                                            {0}};
    struct show_ctx ctx = {false, 0, EXIT_OK};
    uint32_t scan_id = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hjs:", options, NULL)) != -1) {
        char *end;
        unsigned long v;
        switch (opt) {
        case 'h':
            show_usage(stdout);
            return EXIT_OK;
        case 'j':
            ctx.json = true;
            break;
        case 's':
            v = strtoul(optarg, &end, 10);
            if (*end || end == optarg || v == 0 || v > UINT32_MAX) {
                fprintf(stderr, "kubesurvey show: --scan: '%s' is not a scan id (1, 2, ...)\n",
                        optarg);
                return EXIT_USAGE;
            }
            scan_id = (uint32_t)v;
            break;
        default:
            show_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        show_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind], *target = argv[optind + 1];
    uint32_t addr;
    uint16_t port;
    if (parse_target(target, &addr, &port)) {
        fprintf(stderr, "kubesurvey show: '%s' is not ADDRESS or ADDRESS:PORT (IPv4, port "
                "1-65535)\n", target);
        return EXIT_USAGE;
    }
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, path, STORE_READ_ONLY, err)) {
        fprintf(stderr, "kubesurvey show: %s\n", err);
        return EXIT_RUNTIME;
    }
    struct store_read_stats stats;
    if (store_hosts_foreach_addr(store, scan_id, addr, port, STORE_WITH_CERTS, show_one, &ctx,
                                 &stats, err)) {
        fprintf(stderr, "kubesurvey show: %s\n", err);
        ctx.status = EXIT_RUNTIME;
    } else if (stats.corrupt) {
        fprintf(stderr, "kubesurvey show: %llu matching records are corrupt (run kubesurvey "
                "check %s)\n", (unsigned long long)stats.corrupt, path);
        ctx.status = EXIT_RUNTIME;
    } else if (ctx.shown == 0) {
        fprintf(stderr, "kubesurvey show: %s: no record for %s\n", path, target);
        ctx.status = EXIT_RUNTIME;
    }
    store_close(store);
    return ctx.status;
}
