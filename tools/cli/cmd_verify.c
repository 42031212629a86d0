/*
 * cmd_verify.c - `kubesurvey verify OUTDIR`: checks a package `publish`
 * wrote (docs/export.md "Publishing"): every file against SHA256SUMS and
 * nothing unlisted; the schema files are the ones this kubesurvey
 * generates from its field tables; every line of every file against its
 * schema (records, CSV rows, scan records, certificates); and stats.json
 * recomputed from the records alone. Stops at the first failure, naming
 * the file and line.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "tools/pipeline/pipeline.h"
#include "tools/publish/publish.h"
#include "lib/hashmap.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct verify {
    const char *dir;
    json_t *scan;               /* the line of scans.jsonl */
    json_t *stats;              /* stats.json */
    bool certs;
    struct hashmap cert_index;  /* SHA-256 -> index into ders */
    uint8_t **ders;
    size_t *der_lengths;
    size_t der_count;
};

static void path_of(const struct verify *v, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", v->dir, name);
}

/* ---- SHA256SUMS ---- */

static const char *const required_files[] = {
    PUBLISH_RECORDS_JSONL, PUBLISH_RECORDS_CSV, PUBLISH_SCANS, PUBLISH_STATS,
    PUBLISH_RECORD_SCHEMA, PUBLISH_CSV_SCHEMA, PUBLISH_SCAN_SCHEMA, PUBLISH_CERT_SCHEMA,
    PUBLISH_DATASHEET, PUBLISH_CITATION, NULL,
};

struct listed {
    char **names;
    size_t count;
};

static bool is_listed(const struct listed *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->names[i], name))
            return true;
    return false;
}

static const struct listed *walk_listed;
static const char *walk_root;
static char walk_unlisted[4096];

static int note_unlisted(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    const char *name = path + strlen(walk_root);
    name += strspn(name, "/");
    if (flag == FTW_F && strcmp(name, PUBLISH_SUMS) && !is_listed(walk_listed, name)) {
        snprintf(walk_unlisted, sizeof(walk_unlisted), "%s", name);
        return 1;
    }
    return 0;
}

static int check_sums(struct verify *v, struct listed *l, char *err)
{
    char path[4096];
    path_of(v, PUBLISH_SUMS, path, sizeof(path));
    struct line_reader *lr;
    if (line_reader_open(&lr, path, err) != 0)
        return -1;
    char *line;
    size_t length, number = 0;
    int got, rc = 0;
    while (rc == 0 && (got = line_reader_next(lr, &line, &length, err)) > 0) {
        number++;
        char file[4096], hex[65];
        if (length < 67 || strspn(line, "0123456789abcdef") != 64 || strncmp(line + 64, "  ", 2) ||
            strstr(line + 66, "..") || line[66] == '/') {
            snprintf(err, KS_ERRLEN, "%s:%zu: not a line \"SHA256  FILE\"", PUBLISH_SUMS, number);
            rc = -1;
            break;
        }
        const char *name = line + 66;
        path_of(v, name, file, sizeof(file));
        struct stat st;
        if (stat(file, &st) != 0) {
            snprintf(err, KS_ERRLEN, "%s: listed in %s but missing", name, PUBLISH_SUMS);
            rc = -1;
        } else if (publish_sha256_file(file, hex, err) != 0) {
            rc = -1;
        } else if (strncmp(hex, line, 64)) {
            snprintf(err, KS_ERRLEN, "%s: its SHA-256 differs from %s line %zu (the file changed)",
                     name, PUBLISH_SUMS, number);
            rc = -1;
        } else {
            char **grown = realloc(l->names, (l->count + 1) * sizeof(*grown));
            if (!grown || !(grown[l->count] = strdup(name))) {
                l->names = grown ? grown : l->names;
                snprintf(err, KS_ERRLEN, "out of memory");
                rc = -1;
            } else {
                l->names = grown;
                l->count++;
            }
        }
    }
    line_reader_close(lr);
    if (rc || got < 0)
        return -1;
    for (const char *const *r = required_files; *r; r++)
        if (!is_listed(l, *r)) {
            snprintf(err, KS_ERRLEN, "%s: missing from the package (not in %s)", *r, PUBLISH_SUMS);
            return -1;
        }
    walk_listed = l;
    walk_root = v->dir;
    walk_unlisted[0] = '\0';
    if (nftw(v->dir, note_unlisted, 16, FTW_PHYS) != 0 && walk_unlisted[0]) {
        snprintf(err, KS_ERRLEN, "%s: not listed in %s", walk_unlisted, PUBLISH_SUMS);
        return -1;
    }
    v->certs = is_listed(l, PUBLISH_CERTS);
    return 0;
}

/* ---- schemas, scan record, stats.json ---- */

static json_t *load_json(const struct verify *v, const char *name, char *err)
{
    char path[4096];
    json_error_t je;
    path_of(v, name, path, sizeof(path));
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        snprintf(err, KS_ERRLEN, "%s:%d: not JSON: %s", name, je.line, je.text);
    return j;
}

static int check_schemas(struct verify *v, char *err)
{
    for (const struct publish_schema_file *s = publish_schema_files; s->path; s++) {
        json_t *file = load_json(v, s->path, err), *ours = s->generate();
        char where[512] = "";
        bool differ = file && publish_json_differ(file, ours, NULL, where, sizeof(where), NULL, NULL);
        if (differ)
            snprintf(err, KS_ERRLEN,
                     "%s: differs from the schema this kubesurvey generates from its field "
                     "table, at \"%s\" (written by another version, or edited)",
                     s->path, where);
        json_decref(file);
        json_decref(ours);
        if (!file || differ)
            return -1;
    }
    return 0;
}

/* A JSON line against the scan schema: known members, types by the scan
 * record's table, the publication object. */
static int check_scan_line(json_t *line, char *err)
{
    json_t *schema = publish_scan_schema();
    json_t *properties = json_object_get(schema, "properties"), *fields = json_object();
    const char *key;
    json_t *value;
    int rc = 0;
    json_object_foreach(line, key, value) {
        if (!json_object_get(properties, key)) {
            snprintf(err, KS_ERRLEN, "member \"%s\" is not in the scan schema", key);
            rc = -1;
            break;
        }
        if (strcmp(key, "scan") && strcmp(key, "publication") && strcmp(key, "unknown_members"))
            json_object_set(fields, key, value);
    }
    struct scan_record r;
    if (rc == 0 && scan_record_from_json(&r, fields, err) == 0)
        scan_record_free(&r);
    else
        rc = -1;
    json_t *pub = json_object_get(line, "publication"), *id = json_object_get(line, "scan");
    json_t *pub_props = json_object_get(json_object_get(properties, "publication"), "properties");
    if (rc == 0 && (!json_is_integer(id) || json_integer_value(id) < 1)) {
        snprintf(err, KS_ERRLEN, "member \"scan\" is not a scan id");
        rc = -1;
    }
    if (rc == 0 && !json_is_object(pub)) {
        snprintf(err, KS_ERRLEN, "member \"publication\" is missing");
        rc = -1;
    }
    json_object_foreach(pub_props, key, value) {
        if (rc)
            break;
        json_t *m = json_object_get(pub, key);
        const char *type = json_string_value(json_object_get(value, "type"));
        bool ok = m && (!strcmp(type, "string")    ? json_is_string(m)
                        : !strcmp(type, "boolean") ? json_is_boolean(m)
                                                   : json_is_object(m));
        if (!ok) {
            snprintf(err, KS_ERRLEN, "member \"publication.%s\" is missing or of the wrong type",
                     key);
            rc = -1;
        }
    }
    json_object_foreach(pub, key, value)
        if (rc == 0 && !json_object_get(pub_props, key)) {
            snprintf(err, KS_ERRLEN, "member \"publication.%s\" is not in the scan schema", key);
            rc = -1;
        }
    json_decref(fields);
    json_decref(schema);
    return rc;
}

/* Calls check on each line of the package's file `name`; a failure is
 * reported as "name:LINE: what check said". */
static int each_line(struct verify *v, const char *name,
                     int (*check)(struct verify *v, const char *text, size_t length, char *err),
                     char *err)
{
    char path[4096], inner[KS_ERRLEN];
    path_of(v, name, path, sizeof(path));
    struct line_reader *lr;
    if (line_reader_open(&lr, path, err) != 0)
        return -1;
    char *text;
    size_t length, number = 0;
    int got, rc = 0;
    while (rc == 0 && (got = line_reader_next(lr, &text, &length, err)) > 0)
        if (number++, check(v, text, length, inner) != 0) {
            snprintf(err, KS_ERRLEN, "%s:%zu: %s", name, number, inner);
            rc = -1;
        }
    line_reader_close(lr);
    return rc || got < 0 ? -1 : 0;
}

static int check_scan_text(struct verify *v, const char *text, size_t length, char *err)
{
    json_error_t je;
    json_t *line = json_loadb(text, length, 0, &je);
    int rc = -1;
    if (!line)
        snprintf(err, KS_ERRLEN, "not JSON: %s", je.text);
    else if (v->scan)
        snprintf(err, KS_ERRLEN, "a package holds one scan");
    else if (check_scan_line(line, err) == 0)
        v->scan = json_incref(line), rc = 0;
    json_decref(line);
    return rc;
}

static int check_scans(struct verify *v, char *err)
{
    if (each_line(v, PUBLISH_SCANS, check_scan_text, err) != 0)
        return -1;
    if (!v->scan) {
        snprintf(err, KS_ERRLEN, "%s: no scan record", PUBLISH_SCANS);
        return -1;
    }
    return 0;
}

/* ---- certificates ---- */

static int check_cert_line(struct verify *v, const char *text, size_t length, char *err)
{
    json_error_t je;
    json_t *line = json_loadb(text, length, 0, &je);
    if (!line) {
        snprintf(err, KS_ERRLEN, "not JSON: %s", je.text);
        return -1;
    }
    const char *hex = json_string_value(json_object_get(line, "sha256"));
    const char *b64 = json_string_value(json_object_get(line, "der"));
    json_t *stated = json_object_get(line, "length");
    int rc = -1;
    uint8_t *der = NULL;
    if (json_object_size(line) != 3 || !hex || !b64 || !json_is_integer(stated)) {
        snprintf(err, KS_ERRLEN, "not {sha256, length, der} as the certificate schema says");
        goto done;
    }
    size_t n = strlen(b64);
    der = malloc(n / 4 * 3 + 1);
    int got = der && n % 4 == 0 ? EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n) : -1;
    if (got < 0) {
        snprintf(err, KS_ERRLEN, "\"der\" is not base64");
        goto done;
    }
    size_t der_length = (size_t)got - (n && b64[n - 1] == '=') - (n > 1 && b64[n - 2] == '=');
    unsigned char digest[32];
    char ours[65];
    EVP_Digest(der, der_length, digest, NULL, EVP_sha256(), NULL);
    for (int b = 0; b < 32; b++)
        snprintf(ours + 2 * b, 3, "%02x", digest[b]);
    if (strcmp(ours, hex) || (json_int_t)der_length != json_integer_value(stated)) {
        snprintf(err, KS_ERRLEN, "\"sha256\" or \"length\" is not that of \"der\"");
        goto done;
    }
    uint8_t **ders = realloc(v->ders, (v->der_count + 1) * sizeof(*ders));
    size_t *lengths = ders ? realloc(v->der_lengths, (v->der_count + 1) * sizeof(*lengths)) : NULL;
    v->ders = ders ? ders : v->ders;
    v->der_lengths = lengths ? lengths : v->der_lengths;
    bool added = false;
    size_t *slot = lengths ? hashmap_value(&v->cert_index, hashmap_put(&v->cert_index, digest, &added))
                           : NULL;
    if (!slot || !added) {
        snprintf(err, KS_ERRLEN, slot ? "certificate %s is listed twice" : "out of memory", hex);
        goto done;
    }
    *slot = v->der_count;
    v->ders[v->der_count] = der;
    v->der_lengths[v->der_count++] = der_length;
    der = NULL;
    rc = 0;
done:
    free(der);
    json_decref(line);
    return rc;
}

static int lookup_cert(void *ctx, const uint8_t sha256[32], uint8_t **der, size_t *length, char *err)
{
    struct verify *v = ctx;
    size_t *index = hashmap_value(&v->cert_index, hashmap_get(&v->cert_index, sha256));
    (void)err;
    if (!index)
        return 0;
    if (!(*der = malloc(v->der_lengths[*index] ? v->der_lengths[*index] : 1)))
        return -1;
    memcpy(*der, v->ders[*index], v->der_lengths[*index]);
    *length = v->der_lengths[*index];
    return 1;
}

/* ---- records ---- */

/* The next CSV record (RFC 4180: a quoted field may hold newlines) into
 * *out, its first physical line's number in *first. 1, 0 at the end, -1. */
static int next_csv_record(struct line_reader *lr, size_t *line_number, char **out, size_t *first,
                           char *err)
{
    char *line;
    size_t length, total = 0;
    bool open_quote = false;
    *first = *line_number + 1;
    free(*out);
    *out = NULL;
    do {
        int got = line_reader_next(lr, &line, &length, err);
        if (got <= 0) {
            if (got == 0 && total) {
                snprintf(err, KS_ERRLEN, "%s:%zu: a quoted field is not closed",
                         PUBLISH_RECORDS_CSV, *first);
                return -1;
            }
            return got;
        }
        (*line_number)++;
        char *grown = realloc(*out, total + length + 2);
        if (!grown) {
            snprintf(err, KS_ERRLEN, "out of memory");
            return -1;
        }
        *out = grown;
        if (total)
            (*out)[total++] = '\n';
        memcpy(*out + total, line, length);
        total += length;
        (*out)[total] = '\0';
        for (size_t i = 0; i < length; i++)
            open_quote ^= line[i] == '"';
    } while (open_quote);
    return 1;
}

struct record_check {
    struct line_reader *jsonl, *csv;
    size_t json_line, csv_line;
    char *csv_record;
    uint32_t scan;
    bool anonymized;
    struct stats *stats;
    const struct hashmap *certs;  /* certs.jsonl.zst by SHA-256, or NULL */
};

/* The index of the first certificate of r's chain the package lacks, or -1. */
static int missing_cert(const struct hashmap *certs, const struct probe_result *r)
{
    for (size_t i = 0; i < r->chain_length; i++)
        if (!hashmap_get(certs, r->chain[i].sha256))
            return (int)i;
    return -1;
}

/* One record: the JSON line against the schema and in the form kubesurvey
 * writes, the CSV row equal to it, into the statistics. */
static int check_record(struct record_check *c, const char *text, size_t length, char *err)
{
    json_error_t je;
    json_t *line = json_loadb(text, length, 0, &je);
    struct probe_result r;
    uint32_t scan;
    bool anonymized;
    char inner[KS_ERRLEN];
    int rc = -1;
    if (!line) {
        snprintf(err, KS_ERRLEN, "%s:%zu: not JSON: %s", PUBLISH_RECORDS_JSONL, c->json_line, je.text);
        return -1;
    }
    if (publish_record_from_json(line, &r, &scan, &anonymized, inner) != 0) {
        snprintf(err, KS_ERRLEN, "%s:%zu: %s", PUBLISH_RECORDS_JSONL, c->json_line, inner);
        json_decref(line);
        return -1;
    }
    json_decref(line);
    char extra[64];
    snprintf(extra, sizeof(extra), ",\"scan\":%u%s", scan, anonymized ? ",\"anonymized\":true" : "");
    size_t canonical_length;
    char *canonical = record_to_json(&r, RECORD_CERTS_DER, extra, &canonical_length);
    char *csv = record_csv_line(&r);
    size_t first = 0;
    int got = 0, missing;
    if (scan != c->scan || anonymized != c->anonymized) {
        snprintf(err, KS_ERRLEN, "%s:%zu: \"%s\" differs from the scan record's", PUBLISH_RECORDS_JSONL,
                 c->json_line, scan != c->scan ? "scan" : "anonymized");
    } else if (!canonical || !csv) {
        snprintf(err, KS_ERRLEN, "out of memory");
    } else if (c->certs && (missing = missing_cert(c->certs, &r)) >= 0) {
        snprintf(err, KS_ERRLEN, "%s:%zu: chain[%d] is not in %s", PUBLISH_RECORDS_JSONL,
                 c->json_line, missing, PUBLISH_CERTS);
    } else if (canonical_length != length || memcmp(canonical, text, length)) {
        snprintf(err, KS_ERRLEN, "%s:%zu: not the record as kubesurvey writes it (members out of "
                 "order, or a value in another form)", PUBLISH_RECORDS_JSONL, c->json_line);
    } else if ((got = next_csv_record(c->csv, &c->csv_line, &c->csv_record, &first, err)) <= 0) {
        if (got == 0)
            snprintf(err, KS_ERRLEN, "%s: ends at line %zu; %s has more records",
                     PUBLISH_RECORDS_CSV, c->csv_line, PUBLISH_RECORDS_JSONL);
    } else {
        char *expected = malloc(strlen(csv) + 24);
        if (!expected) {
            snprintf(err, KS_ERRLEN, "out of memory");
        } else {
            sprintf(expected, "%u,%s,", scan, csv);
            if (strcmp(expected, c->csv_record))
                snprintf(err, KS_ERRLEN, "%s:%zu: differs from the record of %s line %zu",
                         PUBLISH_RECORDS_CSV, first, PUBLISH_RECORDS_JSONL, c->json_line);
            else if (stats_add(c->stats, &r, err) == 0)
                rc = 0;
        }
        free(expected);
    }
    free(canonical);
    free(csv);
    probe_result_free(&r);
    return rc;
}

static int check_csv_header(struct record_check *c, char *err)
{
    size_t first;
    int got = next_csv_record(c->csv, &c->csv_line, &c->csv_record, &first, err);
    if (got < 0)
        return -1;
    json_t *schema = publish_csv_schema();
    size_t i, n = 0;
    json_t *field;
    char header[8192] = "";
    json_array_foreach(json_object_get(schema, "fields"), i, field)
        n += (size_t)snprintf(header + n, n < sizeof(header) ? sizeof(header) - n : 0, "%s%s",
                              i ? "," : "", json_string_value(json_object_get(field, "name")));
    json_decref(schema);
    if (got == 0 || strcmp(header, c->csv_record)) {
        snprintf(err, KS_ERRLEN, "%s:1: the header is not the columns of %s", PUBLISH_RECORDS_CSV,
                 PUBLISH_CSV_SCHEMA);
        return -1;
    }
    return 0;
}

static int check_records(struct verify *v, struct stats *stats, char *err)
{
    char path[4096];
    json_t *pub = json_object_get(v->scan, "publication");
    struct record_check c = {
        .scan = (uint32_t)json_integer_value(json_object_get(v->scan, "scan")),
        .anonymized = json_is_true(json_object_get(pub, "anonymized")),
        .stats = stats,
        .certs = v->certs ? &v->cert_index : NULL,
    };
    int rc = -1, got = 0;
    char *text;
    size_t length;
    path_of(v, PUBLISH_RECORDS_JSONL, path, sizeof(path));
    if (line_reader_open(&c.jsonl, path, err) != 0)
        return -1;
    path_of(v, PUBLISH_RECORDS_CSV, path, sizeof(path));
    if (line_reader_open(&c.csv, path, err) != 0 || check_csv_header(&c, err) != 0)
        goto done;
    while ((got = line_reader_next(c.jsonl, &text, &length, err)) > 0) {
        c.json_line++;
        if (check_record(&c, text, length, err) != 0)
            goto done;
    }
    if (got < 0)
        goto done;
    size_t first;
    if ((got = next_csv_record(c.csv, &c.csv_line, &c.csv_record, &first, err)) != 0) {
        if (got > 0)
            snprintf(err, KS_ERRLEN, "%s:%zu: a record %s does not have", PUBLISH_RECORDS_CSV,
                     first, PUBLISH_RECORDS_JSONL);
        goto done;
    }
    rc = 0;
done:
    free(c.csv_record);
    line_reader_close(c.jsonl);
    line_reader_close(c.csv);
    return rc;
}

/* stats.json against the statistics of the records: every key, except the
 * cluster estimators that need the certificates when the package has none. */
static int check_stats(struct verify *v, char *err)
{
    static const char *const without_certs[] = {"clusters_resolved", "cluster_estimates.cluster_name",
                                                "cluster_estimates.cluster_ca", NULL};
    struct lifecycle *lc = NULL;
    struct stats *stats = NULL;
    json_t *ours = NULL;
    struct stats_options opt = {0};
    int rc = -1;
    const char *as_of = json_string_value(json_object_get(v->stats, "as_of"));
    if (!as_of || ks_date_parse(as_of, &opt.as_of) != 0 ||
        lc_calendar_parse(json_string_value(json_object_get(v->stats, "calendar")), &opt.calendar)) {
        snprintf(err, KS_ERRLEN, "%s: no valid \"as_of\" and \"calendar\"", PUBLISH_STATS);
        return -1;
    }
    if (lifecycle_load(&lc, NULL, err) != 0)
        return -1;
    opt.lc = lc;
    if (stats_new(&stats, &opt, err) != 0 || check_records(v, stats, err) != 0)
        goto done;
    if (v->certs && stats_resolve_clusters(stats, lookup_cert, v, err) != 0)
        goto done;
    stats_add_corrupt(stats, (uint64_t)json_integer_value(json_object_get(v->stats, "corrupt_records")));
    ours = stats_to_json(stats);
    json_object_set_new(ours, "scan", json_integer(json_integer_value(json_object_get(v->scan, "scan"))));
    char where[512] = "";
    const json_t *a, *b;
    if (publish_json_differ(v->stats, ours, v->certs ? NULL : without_certs, where, sizeof(where),
                            &a, &b)) {
        char *stated = a ? json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("absent");
        char *recomputed = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("absent");
        json_t *ours_data = tool_lifecycle_digests();
        bool other_data = !json_equal(ours_data, json_object_get(json_object_get(v->scan, "publication"),
                                                                 "lifecycle_data"));
        json_decref(ours_data);
        snprintf(err, KS_ERRLEN, "%s: \"%s\" is %.80s, the records give %.80s%s", PUBLISH_STATS, where,
                 stated ? stated : "?", recomputed ? recomputed : "?",
                 other_data ? " (the package was judged with other lifecycle data than this "
                              "kubesurvey's)" : "");
        free(stated);
        free(recomputed);
        goto done;
    }
    rc = 0;
done:
    json_decref(ours);
    stats_free(stats);
    lifecycle_free(lc);
    return rc;
}

static int run_verify(struct verify *v, char *err)
{
    struct listed listed = {0};
    int rc = -1;
    hashmap_init(&v->cert_index, 32, sizeof(size_t));
    if (check_sums(v, &listed, err) != 0 || check_schemas(v, err) != 0 || check_scans(v, err) != 0 ||
        !(v->stats = load_json(v, PUBLISH_STATS, err)) || (v->certs && each_line(v, PUBLISH_CERTS, check_cert_line, err) != 0) ||
        check_stats(v, err) != 0)
        goto done;
    rc = 0;
done:
    for (size_t i = 0; i < listed.count; i++)
        free(listed.names[i]);
    free(listed.names);
    for (size_t i = 0; i < v->der_count; i++)
        free(v->ders[i]);
    free(v->ders);
    free(v->der_lengths);
    hashmap_free(&v->cert_index);
    json_decref(v->scan);
    json_decref(v->stats);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    char none;
    int rc = cli_parse(&verify_command, &none, argc, argv);
    if (rc >= 0)
        return rc;
    if (optind != argc - 1) {
        cli_message("give exactly one OUTDIR");
        cli_help(&verify_command, stderr);
        return EXIT_USAGE;
    }
    /* "pkg/" and "pkg" name files alike ("pkg/schema/...") */
    char dir[4096];
    size_t n = strlen(argv[optind]);
    while (n > 1 && argv[optind][n - 1] == '/')
        n--;
    snprintf(dir, sizeof(dir), "%.*s", (int)n, argv[optind]);
    struct verify v = {.dir = dir};
    struct stat st;
    char err[KS_ERRLEN] = "";
    if (stat(v.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_message("%s is not a directory", v.dir);
        return EXIT_RUNTIME;
    }
    if (run_verify(&v, err) != 0) {
        cli_message("%s: %s", v.dir, err);
        return EXIT_RUNTIME;
    }
    printf("%s: ok (checksums, schemas, records, stats.json recomputed)\n", v.dir);
    return EXIT_OK;
}

static const char *const verify_usage[] = {"OUTDIR", NULL};

const struct cli_command verify_command = {
    .name = "verify",
    .summary = "check a published package: checksums, schemas, statistics",
    .usage = verify_usage,
    .description =
        "Checks a package written by kubesurvey publish: SHA256SUMS (every file listed,\n"
        "present and unchanged, nothing else in the directory), the schema files, every\n"
        "line of the records (JSON Lines and CSV), scan records and certificates against\n"
        "its schema, and stats.json recomputed from the records. Names the first file\n"
        "and line that fails; exit status 1 then.\n",
    .complete_args = "@dir",
    .run = cmd_verify,
};
