/*
 * cmd_publish.c - `kubesurvey publish DB OUTDIR`: a dataset package that
 * can be uploaded as it is (docs/export.md "Publishing"; the files are
 * listed in tools/publish/publish.h). Written into a temporary directory
 * beside OUTDIR and renamed into place when complete, so OUTDIR is either
 * the whole package or untouched.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "tools/pipeline/pipeline.h"
#include "tools/publish/publish.h"
#include "ks_version.h"
#include "lib/hashmap.h"
#include "storage/storage.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_AUTHORS 32

struct publish_args {
    const char *db, *outdir, *keyfile, *calendar, *as_of;
    uint32_t scan;
    bool no_anonymize, certs, force;
    const char *authors[MAX_AUTHORS + 1];
    size_t author_count;
    struct publish_info info;   /* the options' part: title, version, ... */
};

/* ---- the records ---- */

struct record_walk {
    struct zwriter *jsonl, *csv;
    struct anonymizer *anon;
    struct hashmap certs;       /* SHA-256 of every certificate the records name */
    bool want_certs;
    json_t *composition;
    char extra[64];             /* ,"scan":N[,"anonymized":true] */
    char scan_prefix[16];       /* N, */
    char err[KS_ERRLEN];
};

static int write_record(struct record_walk *w, const struct probe_result *r)
{
    size_t length;
    char *json = record_to_json(r, RECORD_CERTS_DER, w->extra, &length);
    char *csv = record_csv_line(r);
    int rc = json && csv ? 0 : -1;
    if (rc == 0)
        rc = zwriter_write(w->jsonl, json, length) || zwriter_write(w->jsonl, "\n", 1) ||
             zwriter_write(w->csv, w->scan_prefix, strlen(w->scan_prefix)) ||
             zwriter_write(w->csv, csv, strlen(csv)) || zwriter_write(w->csv, ",\n", 2) ||
             publish_composition_add(w->composition, r) ? -1 : 0;
    for (size_t i = 0; rc == 0 && w->want_certs && i < r->chain_length; i++)
        if (!hashmap_put(&w->certs, r->chain[i].sha256, NULL))
            rc = -1;
    if (rc)
        snprintf(w->err, KS_ERRLEN, "writing the records failed (out of memory or disk full)");
    free(json);
    free(csv);
    return rc;
}

static int record_visit(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct record_walk *w = ctx;
    if (!w->anon)
        return write_record(w, r) ? 1 : 0;
    struct probe_result copy;
    if (probe_result_copy(&copy, r) != 0) {
        snprintf(w->err, KS_ERRLEN, "out of memory");
        return 1;
    }
    int rc = anonymizer_apply(w->anon, &copy) == 0 ? write_record(w, &copy) : -1;
    if (rc && !w->err[0])
        snprintf(w->err, KS_ERRLEN, "out of memory");
    probe_result_free(&copy);
    return rc ? 1 : 0;
}

static int compare_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* certs.jsonl.zst: each certificate once, in hash order. */
static int write_certs(struct store *store, struct hashmap *certs, const char *path,
                       uint64_t *count, char *err)
{
    uint8_t *hashes = malloc(certs->count ? certs->count * 32 : 1);
    size_t n = 0;
    if (!hashes) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < certs->capacity; i++) {
        uint8_t *entry = hashmap_at(certs, i);
        if (entry)
            memcpy(hashes + 32 * n++, entry, 32);
    }
    qsort(hashes, n, 32, compare_hash);
    struct zwriter *z = NULL;
    int rc = zwriter_open(&z, path, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t *der = NULL;
        size_t length = 0;
        bool found = false;
        char hex[65];
        for (int b = 0; b < 32; b++)
            snprintf(hex + 2 * b, 3, "%02x", hashes[32 * i + b]);
        if (store_cert_get(store, hashes + 32 * i, &der, &length, &found, err) != 0) {
            rc = -1;
        } else if (!found) {
            snprintf(err, KS_ERRLEN, "certificate %s is named by a record but not stored", hex);
            rc = -1;
        } else {
            char *b64 = malloc(4 * ((length + 2) / 3) + 1);
            char *line = b64 ? malloc(4 * ((length + 2) / 3) + 128) : NULL;
            if (!line) {
                snprintf(err, KS_ERRLEN, "out of memory");
                rc = -1;
            } else {
                EVP_EncodeBlock((unsigned char *)b64, der, (int)length);
                int k = sprintf(line, "{\"sha256\":\"%s\",\"length\":%zu,\"der\":\"%s\"}\n", hex,
                                length, b64);
                if (zwriter_write(z, line, (size_t)k) != 0) {
                    snprintf(err, KS_ERRLEN, "writing %s failed", path);
                    rc = -1;
                }
            }
            free(b64);
            free(line);
        }
        free(der);
    }
    free(hashes);
    if (z && rc == 0)
        rc = zwriter_close(z, err);
    else
        zwriter_abandon(z);
    *count = n;
    return rc;
}

/* ---- the scan record, the JSON files ---- */

json_t *tool_lifecycle_digests(void)
{
    json_t *o = json_object();
    for (size_t i = 0; o && lifecycle_data_files[i]; i++) {
        const char *text = lifecycle_builtin_text(lifecycle_data_files[i]);
        unsigned char digest[32];
        char hex[65];
        EVP_Digest(text, strlen(text), digest, NULL, EVP_sha256(), NULL);
        for (int b = 0; b < 32; b++)
            snprintf(hex + 2 * b, 3, "%02x", digest[b]);
        json_object_set_new(o, lifecycle_data_files[i], json_string(hex));
    }
    return o;
}

/* The line of scans.jsonl: the scan id, the stored record's fields (type
 * checked by the scan record's table), what no field names under
 * "unknown_members", and how the package was made. */
static json_t *scan_line(uint32_t id, const json_t *stored, const json_t *stats, bool anonymized,
                         bool certs, char *err)
{
    struct scan_record check;
    if (scan_record_from_json(&check, stored, err) != 0)
        return NULL;
    scan_record_free(&check);
    json_t *line = json_pack("{s:I}", "scan", (json_int_t)id), *unknown = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)stored, key, v) {
        bool known = false;
        for (size_t i = 0; i < scan_field_count && !known; i++)
            known = !strcmp(scan_fields[i].name, key);
        json_object_set(known ? line : unknown, key, v);
    }
    if (json_object_size(unknown))
        json_object_set(line, "unknown_members", unknown);
    json_decref(unknown);
    json_object_set_new(line, "publication",
                        json_pack("{s:s, s:O, s:O, s:b, s:b, s:o}", "kubesurvey_version", KS_VERSION,
                                  "as_of", json_object_get(stats, "as_of"), "calendar",
                                  json_object_get(stats, "calendar"), "anonymized", anonymized,
                                  "certificates", certs, "lifecycle_data", tool_lifecycle_digests()));
    return line;
}

static int dump_json(const json_t *j, const char *dir, const char *name, size_t flags, char *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    int rc = f && json_dumpf(j, f, flags) == 0 && fputc('\n', f) != EOF ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc)
        snprintf(err, KS_ERRLEN, "writing %s failed: %s", path, strerror(errno));
    return rc;
}

/* ---- the directory ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 if path is a directory with entries, 0 if it is missing or empty, -1
 * (err set) if it is something else or unreadable. */
static int directory_state(const char *path, char *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, KS_ERRLEN, "%s exists and is not a directory", path);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    int used = 0;
    struct dirent *e;
    while (!used && (e = readdir(d)))
        used = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return used;
}

static int file_in(const char *dir, const char *name, FILE **f, char *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(*f = fopen(path, "w"))) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* SHA256SUMS of the package's files, in name order (sha256sum -c reads it). */
static int write_sums(const char *dir, bool certs, char *err)
{
    const char *names[] = {
        PUBLISH_CITATION, PUBLISH_DATASHEET, certs ? PUBLISH_CERTS : NULL, PUBLISH_RECORDS_CSV,
        PUBLISH_RECORDS_JSONL, PUBLISH_CERT_SCHEMA, PUBLISH_CSV_SCHEMA, PUBLISH_RECORD_SCHEMA,
        PUBLISH_SCAN_SCHEMA, PUBLISH_SCANS, PUBLISH_STATS,
    };
    FILE *sums;
    if (file_in(dir, PUBLISH_SUMS, &sums, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
        char path[4096], hex[65];
        if (!names[i])
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        rc = publish_sha256_file(path, hex, err);
        if (rc == 0)
            fprintf(sums, "%s  %s\n", hex, names[i]);
    }
    if (fclose(sums) != 0 && rc == 0) {
        snprintf(err, KS_ERRLEN, "writing %s failed", PUBLISH_SUMS);
        rc = -1;
    }
    return rc;
}

/* Everything but the records: scans.jsonl, stats.json, schemas, datasheet,
 * citation. */
static int write_documents(const char *dir, struct publish_info *info, char *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/schema", dir);
    if (mkdir(path, 0755) != 0) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (dump_json(info->scan, dir, PUBLISH_SCANS, JSON_COMPACT, err) != 0 ||
        dump_json(info->stats, dir, PUBLISH_STATS, JSON_INDENT(2), err) != 0)
        return -1;
    for (const struct publish_schema_file *s = publish_schema_files; s->path; s++) {
        json_t *schema = s->generate();
        int rc = schema ? dump_json(schema, dir, s->path, JSON_INDENT(2), err) : -1;
        json_decref(schema);
        if (rc) {
            if (!schema)
                snprintf(err, KS_ERRLEN, "out of memory");
            return -1;
        }
    }
    FILE *f;
    if (file_in(dir, PUBLISH_DATASHEET, &f, err) != 0)
        return -1;
    int rc = publish_write_datasheet(f, info, err);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, KS_ERRLEN, "writing %s failed", PUBLISH_DATASHEET);
        rc = -1;
    }
    if (rc || file_in(dir, PUBLISH_CITATION, &f, err) != 0)
        return -1;
    rc = publish_write_citation(f, info, err);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, KS_ERRLEN, "writing %s failed", PUBLISH_CITATION);
        rc = -1;
    }
    return rc;
}

/* The records of the scan into dir: JSON Lines, CSV, optionally the
 * certificates; the composition counts into info. */
static int write_records(struct store *store, uint32_t scan_id, const char *dir,
                         struct anonymizer *anon, bool certs, struct publish_info *info, char *err)
{
    struct record_walk w = {.anon = anon, .want_certs = certs, .composition = json_object()};
    char path[4096];
    int rc = -1;
    hashmap_init(&w.certs, 32, 0);
    snprintf(w.extra, sizeof(w.extra), ",\"scan\":%u%s", scan_id,
             anon ? ",\"anonymized\":true" : "");
    snprintf(w.scan_prefix, sizeof(w.scan_prefix), "%u,", scan_id);
    snprintf(path, sizeof(path), "%s/%s", dir, PUBLISH_RECORDS_JSONL);
    if (zwriter_open(&w.jsonl, path, err) != 0)
        goto done;
    snprintf(path, sizeof(path), "%s/%s", dir, PUBLISH_RECORDS_CSV);
    if (zwriter_open(&w.csv, path, err) != 0)
        goto done;
    char *header = record_csv_header();
    if (!header || zwriter_write(w.csv, "scan,", 5) || zwriter_write(w.csv, header, strlen(header)) ||
        zwriter_write(w.csv, ",as\n", 4)) {
        free(header);
        snprintf(err, KS_ERRLEN, "writing the CSV header failed");
        goto done;
    }
    free(header);
    struct store_read_stats read = {0};
    if (store_hosts_foreach(store, scan_id, 0, record_visit, &w, &read, err) != 0)
        goto done;
    if (w.err[0]) {
        snprintf(err, KS_ERRLEN, "%s", w.err);
        goto done;
    }
    struct zwriter *jsonl = w.jsonl, *csv = w.csv;
    w.jsonl = w.csv = NULL;
    if (zwriter_close(jsonl, err) != 0) {
        zwriter_abandon(csv);
        goto done;
    }
    if (zwriter_close(csv, err) != 0)
        goto done;
    snprintf(path, sizeof(path), "%s/%s", dir, PUBLISH_CERTS);
    if (certs && write_certs(store, &w.certs, path, &info->cert_count, err) != 0)
        goto done;
    info->composition = json_incref(w.composition);
    rc = 0;
done:
    zwriter_abandon(w.jsonl);
    zwriter_abandon(w.csv);
    hashmap_free(&w.certs);
    json_decref(w.composition);
    return rc;
}

/* Moves the finished temporary directory to outdir (replacing an empty
 * one, or with --force a full one). */
static int move_into_place(const char *tmp, const char *outdir, bool force, char *err)
{
    int state = directory_state(outdir, err);
    if (state < 0)
        return -1;
    if (state == 0) {
        rmdir(outdir); /* empty or missing */
        if (rename(tmp, outdir) == 0)
            return 0;
    } else if (force) {
        char old[4096];
        snprintf(old, sizeof(old), "%s.old-XXXXXX", outdir);
        if (!mkdtemp(old) || rename(outdir, old) != 0) {
            snprintf(err, KS_ERRLEN, "moving the old %s aside: %s", outdir, strerror(errno));
            return -1;
        }
        if (rename(tmp, outdir) == 0) {
            remove_tree(old);
            return 0;
        }
        rename(old, outdir);
    } else {
        snprintf(err, KS_ERRLEN, "%s appeared while the package was written", outdir);
        return -1;
    }
    snprintf(err, KS_ERRLEN, "renaming %s to %s: %s", tmp, outdir, strerror(errno));
    return -1;
}

static void today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int run_publish(struct publish_args *a, char *err)
{
    struct anonymizer *anon = NULL;
    struct store *store = NULL;
    json_t *stored = NULL, *stats = NULL;
    struct publish_info *info = &a->info;
    uint32_t scan_id;
    char tmp[4096], date[11];
    int rc = -1;
    bool made_tmp = false;

    int state = directory_state(a->outdir, err);
    if (state < 0)
        return -1;
    if (state > 0 && !a->force) {
        snprintf(err, KS_ERRLEN, "%s exists and is not empty (give --force to replace it)",
                 a->outdir);
        return -1;
    }
    if (a->keyfile && anonymizer_load(&anon, a->keyfile, err) != 0)
        return -1;
    struct stats_request req = {.db = a->db, .calendar = a->calendar, .as_of = a->as_of};
    if (tool_store_open(a->db, &store, err) != 0 ||
        tool_scan_pick(store, a->scan, &scan_id, &stored, err) != 0)
        goto done;
    req.scan = scan_id;
    if (tool_compute_stats(&req, &stats, NULL, err) != 0)
        goto done;
    snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", a->outdir);
    if (!mkdtemp(tmp)) {
        snprintf(err, KS_ERRLEN, "creating a directory beside %s: %s", a->outdir, strerror(errno));
        goto done;
    }
    made_tmp = true;
    if (chmod(tmp, 0755) != 0) {
        snprintf(err, KS_ERRLEN, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    today(date);
    info->stats = stats;
    info->anonymized = anon != NULL;
    info->certs = a->certs;
    info->authors = a->authors;
    info->today = date;
    if (!(info->scan = scan_line(scan_id, stored, stats, anon != NULL, a->certs, err)) ||
        write_records(store, scan_id, tmp, anon, a->certs, info, err) != 0 ||
        write_documents(tmp, info, err) != 0 || write_sums(tmp, a->certs, err) != 0 ||
        move_into_place(tmp, a->outdir, a->force, err) != 0)
        goto done;
    made_tmp = false;
    rc = 0;
done:
    if (made_tmp)
        remove_tree(tmp);
    json_decref(info->scan);
    json_decref(info->composition);
    json_decref(stats);
    json_decref(stored);
    store_close(store);
    anonymizer_free(anon);
    return rc;
}

static int set_scan(void *opts, const char *arg)
{
    if (tool_parse_scan_id(arg, &((struct publish_args *)opts)->scan) != 0) {
        cli_message("--scan '%s' is not a scan id", arg);
        return EXIT_USAGE;
    }
    return 0;
}

static int add_author(void *opts, const char *arg)
{
    struct publish_args *a = opts;
    if (a->author_count == MAX_AUTHORS) {
        cli_message("at most %d --author", MAX_AUTHORS);
        return EXIT_USAGE;
    }
    a->authors[a->author_count++] = arg;
    return 0;
}

static int cmd_publish(int argc, char **argv)
{
    struct publish_args a;
    int parsed = cli_parse(&publish_command, &a, argc, argv);
    if (parsed >= 0)
        return parsed;
    const char *problem = NULL;
    if (optind != argc - 2)
        problem = "give DB and OUTDIR";
    else if (!a.keyfile == !a.no_anonymize)
        problem = a.keyfile ? "--anonymize and --no-anonymize exclude each other"
                            : "give --anonymize KEYFILE (the default way to publish) or, "
                              "explicitly, --no-anonymize";
    else if (a.certs && a.keyfile)
        problem = "--certs cannot be combined with --anonymize (certificates name the host)";
    if (problem) {
        cli_message("%s", problem);
        cli_help(&publish_command, stderr);
        return EXIT_USAGE;
    }
    struct stats_request check = {.calendar = a.calendar, .as_of = a.as_of};
    if (stats_request_check(&check) != 0)
        return EXIT_USAGE;
    a.db = argv[optind];
    a.outdir = argv[optind + 1];
    size_t n = strlen(a.outdir);
    while (n > 1 && a.outdir[n - 1] == '/')
        n--;
    char outdir[4096];
    snprintf(outdir, sizeof(outdir), "%.*s", (int)n, a.outdir);
    a.outdir = outdir;
    char err[KS_ERRLEN] = "";
    if (run_publish(&a, err) != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

#define INFO(field) (offsetof(struct publish_args, info) + offsetof(struct publish_info, field))

static const struct cli_option publish_options[] = {
    {.name = "anonymize", .arg = "KEY", .kind = CLI_TEXT, .complete = "@file",
     .offset = offsetof(struct publish_args, keyfile),
     .help = "Crypto-PAn addresses, keyed certificate hashes (as export)"},
    {.name = "no-anonymize", .kind = CLI_FLAG, .offset = offsetof(struct publish_args, no_anonymize),
     .help = "publish real addresses (said so in the datasheet)"},
    {.name = "scan", .arg = "ID", .set = set_scan, .example = "1",
     .help = "the scan (default: the newest in DB)"},
    {.name = "certs", .kind = CLI_FLAG, .offset = offsetof(struct publish_args, certs),
     .help = "add each distinct certificate once (needs --no-anonymize)"},
    {.name = "calendar", .arg = "WHICH", .kind = CLI_TEXT, .complete = "published final",
     .offset = offsetof(struct publish_args, calendar),
     .help = "provider calendars of stats.json (default: published)"},
    {.name = "as-of", .arg = "DATE", .kind = CLI_TEXT, .offset = offsetof(struct publish_args, as_of),
     .help = "stats.json as of DATE (default: the scan's start day)"},
    {.name = "title", .arg = "TEXT", .kind = CLI_TEXT, .offset = INFO(title),
     .help = "the dataset's title (datasheet, CITATION.cff)"},
    {.name = "author", .arg = "NAME", .set = add_author, .flags = CLI_REPEAT,
     .help = "an author, \"Family, Given\" or a name; repeat for each"},
    {.name = "dataset-version", .arg = "V", .kind = CLI_TEXT, .offset = INFO(version),
     .help = "the dataset's version, for CITATION.cff"},
    {.name = "license", .arg = "SPDX", .kind = CLI_TEXT, .offset = INFO(license),
     .help = "the dataset's licence (SPDX identifier), for CITATION.cff"},
    {.name = "url", .arg = "URL", .kind = CLI_TEXT, .offset = INFO(url),
     .help = "where the dataset is published, for CITATION.cff"},
    {.name = "doi", .arg = "DOI", .kind = CLI_TEXT, .offset = INFO(doi),
     .help = "the dataset's DOI, for CITATION.cff"},
    {.name = "force", .kind = CLI_FLAG, .offset = offsetof(struct publish_args, force),
     .help = "replace OUTDIR if it exists and is not empty"},
    {0},
};

static const char *const publish_usage[] = {
    "DB OUTDIR (--anonymize KEYFILE | --no-anonymize)\n"
    "                          [--scan ID] [--certs] [--calendar published|final]\n"
    "                          [--as-of YYYY-MM-DD]\n"
    "                          [--title TEXT] [--author NAME]... [--dataset-version V]\n"
    "                          [--license SPDX] [--url URL] [--doi DOI] [--force]",
    NULL,
};

const struct cli_command publish_command = {
    .name = "publish",
    .summary = "write a dataset package: records, schema, datasheet, checksums",
    .usage = publish_usage,
    .description =
        "Writes a dataset package into OUTDIR (docs/export.md, Publishing): the scan's\n"
        "records as JSON Lines and CSV (zstd), the scan record, stats.json as of the\n"
        "scan's day, JSON Schemas generated from the record's field table,\n"
        "DATASHEET.md, CITATION.cff and SHA256SUMS. Check it with kubesurvey verify.\n",
    .options = publish_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct publish_args),
    .run = cmd_publish,
};
