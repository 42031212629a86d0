/*
 * cmd_export.c - `kubesurvey export DB`: one record per endpoint as JSON
 * Lines or CSV (docs/export.md), streamed from the store, optionally zstd
 * compressed, with Crypto-PAn anonymised addresses and origin ASes.
 */
#include "tools/tools.h"
#include "storage/storage.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey export DB --format jsonl|csv [--scan ID] [--certs pem] [--zstd]\n"
            "                         [--anonymize KEYFILE] [--pfx2as FILE] [-o FILE]\n\n"
            "Writes one record per stored endpoint of a scan (schema: docs/export.md).\n\n"
            "  --format F          jsonl (JSON Lines) or csv\n"
            "  --scan ID           the scan (default: the newest in DB)\n"
            "  --certs pem         add each certificate as PEM (jsonl only; not with --anonymize)\n"
            "  --zstd              compress the output with zstd\n"
            "  --anonymize KEY     Crypto-PAn prefix-preserving addresses with the 32-byte key in\n"
            "                      file KEY (make one: head -c 32 /dev/urandom > KEY); certificate\n"
            "                      hashes are keyed, bodies other than version.Info are dropped\n"
            "  --pfx2as FILE       add the origin AS (CAIDA RouteViews prefix2as) of each address\n"
            "  -o FILE             write to FILE (default: standard output)\n"
            "  -h, --help          this help\n");
}

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
    struct cryptopan *cp;
    uint8_t hash_key[32];        /* for keyed certificate hashes */
    const struct pfx2as *pfx2as;
    uint64_t records;
    char *line;                  /* CSV line buffer */
    size_t line_cap, line_len;
    char err[KS_ERRLEN];
};

static const char *const csv_columns[] = {
    "scan", "addr", "port", "as", "started_ms", "duration_ms", "outcome", "error", "tls_done",
    "tls_version", "tls_cipher", "tls_alpn", "chain_length", "leaf_sha256", "http_status",
    "http_server", "http_content_type", "k8s", "evidence", "provider", "version_state",
    "git_version", "version_major", "version_minor", "version_patch", "version_suffix",
    "git_commit", "build_date", "go_version", "platform", "verdict",
};

static void hex(const uint8_t *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * n] = '\0';
}

static json_t *pem_of(const uint8_t *der, size_t length)
{
    size_t b64_len = 4 * ((length + 2) / 3);
    char *b64 = malloc(b64_len + 1);
    char *pem = malloc(b64_len + b64_len / 64 + 80);
    json_t *j = NULL;
    if (b64 && pem) {
        EVP_EncodeBlock((unsigned char *)b64, der, (int)length);
        size_t n = (size_t)sprintf(pem, "-----BEGIN CERTIFICATE-----\n");
        for (size_t i = 0; i < b64_len; i += 64) {
            size_t take = b64_len - i < 64 ? b64_len - i : 64;
            memcpy(pem + n, b64 + i, take);
            n += take;
            pem[n++] = '\n';
        }
        n += (size_t)sprintf(pem + n, "-----END CERTIFICATE-----\n");
        j = json_stringn(pem, n);
    }
    free(b64);
    free(pem);
    return j;
}

/* Replaces every occurrence of `from` in a string member with `to`. */
static void scrub_string(json_t *o, const char *key, const char *from, const char *to)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);
    if (!s || !strstr(s, from))
        return;
    size_t cap = strlen(s) * 2 + 64, n = 0, from_len = strlen(from), to_len = strlen(to);
    char *buf = malloc(cap);
    if (!buf) {
        json_object_set_new(o, key, json_null());
        return;
    }
    for (const char *p = s; *p;) {
        if (!strncmp(p, from, from_len)) {
            memcpy(buf + n, to, to_len);
            n += to_len;
            p += from_len;
        } else {
            buf[n++] = *p++;
        }
    }
    json_object_set_new(o, key, json_stringn(buf, n));
    free(buf);
}

/* Replaces what reveals the address: the address (prefix-preserving), the
 * certificate hashes (keyed, so they cannot be looked up in certificate
 * search engines), certificate bodies, bodies that are not version.Info. */
static void anonymize(struct exporter *e, json_t *o, const struct probe_result *r)
{
    char real[16], fake[16];
    tool_ip_text(r->addr, real);
    tool_ip_text(cryptopan_anonymize(e->cp, r->addr), fake);
    json_object_set_new(o, "addr", json_string(fake));
    json_t *chain = json_object_get(o, "chain");
    size_t i;
    json_t *cert;
    json_array_foreach(chain, i, cert) {
        uint8_t mac[32];
        unsigned mac_len = 0;
        char text[65];
        HMAC(EVP_sha256(), e->hash_key, 32, r->chain[i].sha256, 32, mac, &mac_len);
        hex(mac, 32, text);
        json_object_set_new(cert, "sha256", json_string(text));
        json_object_del(cert, "der");
        json_object_del(cert, "pem");
    }
    if (r->version_state != VERSION_VALID) {
        json_object_set_new(o, "body", json_null());
        json_object_del(o, "body_base64");
    }
    const char *key;
    json_t *value;
    void *tmp;
    json_object_foreach_safe(o, tmp, key, value)
        if (json_is_string(value))
            scrub_string(o, key, real, fake);
    json_object_set_new(o, "anonymized", json_true());
}

static void line_add(struct exporter *e, const char *s, size_t n)
{
    if (e->line_len + n + 2 > e->line_cap) {
        size_t cap = (e->line_cap + n + 2) * 2;
        char *bigger = realloc(e->line, cap);
        if (!bigger) {
            e->out.failed = true;
            return;
        }
        e->line = bigger;
        e->line_cap = cap;
    }
    memcpy(e->line + e->line_len, s, n);
    e->line_len += n;
}

/* RFC 4180: quote fields holding a comma, quote, CR or LF; double quotes. */
static void csv_field(struct exporter *e, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        line_add(e, s, strlen(s));
        return;
    }
    line_add(e, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            line_add(e, "\"\"", 2);
        else
            line_add(e, s, 1);
    }
    line_add(e, "\"", 1);
}

static void csv_value(struct exporter *e, json_t *v)
{
    char buf[64];
    if (json_is_string(v)) {
        csv_field(e, json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        line_add(e, buf, strlen(buf));
    } else if (json_is_boolean(v)) {
        line_add(e, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
    } else if (json_is_array(v)) { /* evidence */
        size_t i;
        json_t *item;
        char joined[256] = "";
        json_array_foreach(v, i, item) {
            if (i)
                strncat(joined, "|", sizeof(joined) - strlen(joined) - 1);
            strncat(joined, json_string_value(item) ? json_string_value(item) : "",
                    sizeof(joined) - strlen(joined) - 1);
        }
        csv_field(e, joined);
    }
}

static void write_csv(struct exporter *e, json_t *o)
{
    e->line_len = 0;
    for (size_t c = 0; c < sizeof(csv_columns) / sizeof(csv_columns[0]); c++) {
        const char *name = csv_columns[c];
        if (c)
            line_add(e, ",", 1);
        if (!strcmp(name, "chain_length")) {
            char buf[24];
            snprintf(buf, sizeof(buf), "%zu", json_array_size(json_object_get(o, "chain")));
            line_add(e, buf, strlen(buf));
        } else if (!strcmp(name, "leaf_sha256")) {
            csv_value(e, json_object_get(json_array_get(json_object_get(o, "chain"), 0), "sha256"));
        } else {
            csv_value(e, json_object_get(o, name));
        }
    }
    line_add(e, "\n", 1);
    output_write(&e->out, e->line, e->line_len);
}

/* Counts a record written; 1 (stop the walk) if the output failed. */
static int record_written(struct exporter *e)
{
    e->records++;
    if (!e->out.failed)
        return 0;
    snprintf(e->err, KS_ERRLEN, "writing the output failed: %s", strerror(errno));
    return 1;
}

/* Plain JSON Lines (no PEM, no anonymisation): the probe's record as text,
 * then "scan" (and "as") before the closing brace, the order the jansson
 * path gives (keys added last come last), without building a tree per
 * record: about 4x faster. */
static int export_text(struct exporter *e, uint32_t scan_id, const struct probe_result *r)
{
    size_t length;
    char *text = probe_result_to_json_text(r, &length);
    char tail[96] = "";
    if (e->pfx2as) {
        const char *origin;
        json_t *as = pfx2as_lookup(e->pfx2as, r->addr, &origin) ? json_string(origin) : json_null();
        char *as_text = as ? json_dumps(as, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        if (as_text && strlen(as_text) < 64)
            snprintf(tail, sizeof(tail), ",\"as\":%s", as_text);
        else
            e->out.failed = true;
        free(as_text);
        json_decref(as);
    }
    if (!text || length < 2 || text[length - 1] != '}') {
        free(text);
        snprintf(e->err, KS_ERRLEN, "out of memory");
        return 1;
    }
    char scan[160];
    int n = snprintf(scan, sizeof(scan), ",\"scan\":%u%s}\n", scan_id, tail);
    output_write(&e->out, text, length - 1);
    output_write(&e->out, scan, (size_t)n);
    free(text);
    return record_written(e);
}

static int export_host(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    struct exporter *e = ctx;
    if (!e->csv && !e->pem && !e->cp)
        return export_text(e, scan_id, r);
    json_t *o = probe_result_to_json(r);
    if (!o) {
        snprintf(e->err, KS_ERRLEN, "out of memory");
        return 1;
    }
    json_object_set_new(o, "scan", json_integer(scan_id));
    if (e->pfx2as) {
        const char *origin;
        json_object_set_new(o, "as", pfx2as_lookup(e->pfx2as, r->addr, &origin)
                                         ? json_string(origin)
                                         : json_null());
    }
    if (e->pem) {
        json_t *chain = json_object_get(o, "chain");
        for (size_t i = 0; i < r->chain_length && i < json_array_size(chain); i++) {
            json_t *cert = json_array_get(chain, i);
            json_object_del(cert, "der");
            if (r->chain[i].der)
                json_object_set_new(cert, "pem", pem_of(r->chain[i].der, r->chain[i].length));
        }
    }
    if (e->cp)
        anonymize(e, o, r);
    if (e->csv) {
        write_csv(e, o);
    } else {
        char *text = json_dumps(o, JSON_COMPACT);
        if (text) {
            output_write(&e->out, text, strlen(text));
            output_write(&e->out, "\n", 1);
        } else {
            e->out.failed = true;
        }
        free(text);
    }
    json_decref(o);
    return record_written(e);
}

struct export_args {
    const char *db, *format, *certs, *keyfile, *pfx2as, *output;
    uint32_t scan;
    bool zstd;
};

static int run_export(const struct export_args *a, char *err)
{
    struct exporter e = {.csv = !strcmp(a->format, "csv"), .pem = a->certs != NULL};
    struct pfx2as *p2a = NULL;
    struct store *store = NULL;
    json_t *scan = NULL;
    int rc = -1;
    bool output_open = false;
    uint8_t key[32];
    e.out.file = stdout;

    if (a->keyfile) {
        if (cryptopan_load_key(a->keyfile, key, err) != 0 || cryptopan_new(&e.cp, key, err) != 0)
            goto done;
        /* a separate key for certificate hashes, derived from the file's */
        static const char label[] = "kubesurvey certificate hash key";
        uint8_t material[sizeof(label) - 1 + 32];
        memcpy(material, label, sizeof(label) - 1);
        memcpy(material + sizeof(label) - 1, key, 32);
        SHA256(material, sizeof(material), e.hash_key);
    }
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
    if (a->zstd) {
        e.out.zstd = ZSTD_createCCtx();
        e.out.zbuf_size = ZSTD_CStreamOutSize();
        e.out.zbuf = malloc(e.out.zbuf_size);
        if (!e.out.zstd || !e.out.zbuf) {
            snprintf(err, KS_ERRLEN, "out of memory");
            e.out.failed = true;
            goto done;
        }
        ZSTD_CCtx_setParameter(e.out.zstd, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(e.out.zstd, ZSTD_c_checksumFlag, 1);
    }
    if (e.csv) {
        for (size_t c = 0; c < sizeof(csv_columns) / sizeof(csv_columns[0]); c++) {
            output_write(&e.out, c ? "," : "", c ? 1 : 0);
            output_write(&e.out, csv_columns[c], strlen(csv_columns[c]));
        }
        output_write(&e.out, "\n", 1);
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
        fprintf(stderr, "kubesurvey export: %llu corrupt record(s) skipped (see kubesurvey check)\n",
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
    free(e.line);
    json_decref(scan);
    store_close(store);
    pfx2as_free(p2a);
    cryptopan_free(e.cp);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},  {"scan", required_argument, NULL, 's'},
        {"certs", required_argument, NULL, 'c'},   {"zstd", no_argument, NULL, 'z'},
        {"anonymize", required_argument, NULL, 'a'}, {"pfx2as", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct export_args a = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'f': a.format = optarg; break;
        case 's':
            if (tool_parse_scan_id(optarg, &a.scan) != 0) {
                fprintf(stderr, "kubesurvey export: --scan '%s' is not a scan id\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c': a.certs = optarg; break;
        case 'z': a.zstd = true; break;
        case 'a': a.keyfile = optarg; break;
        case 'p': a.pfx2as = optarg; break;
        case 'o': a.output = optarg; break;
        case 'h': export_usage(stdout); return EXIT_OK;
        default: export_usage(stderr); return EXIT_USAGE;
        }
    }
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
        fprintf(stderr, "kubesurvey export: %s\n", problem);
        export_usage(stderr);
        return EXIT_USAGE;
    }
    a.db = argv[optind];
    char err[KS_ERRLEN] = "";
    if (run_export(&a, err) != 0) {
        fprintf(stderr, "kubesurvey export: %s\n", err);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}
