/*
 * cmd_merge.c - `kubesurvey merge OUT DB...`: copies the scans of shard
 * databases into one new database.
 *
 * Shards of one run become ONE scan in OUT, so merging the shards of a run
 * gives the statistics of a single unsharded run. The sharded scans given
 * ("shards" > 1) must be shards of one run: their records agree on every
 * field that defines the work (the SCAN_DEFINES role of the scan record:
 * target and blocklist digests, ports, seed, shard count, ...;
 * tools/pipeline/scan_record.c), each shard comes once, and all of them
 * come unless --partial; otherwise the merge is refused, naming the
 * problem, before OUT is created (check_inputs). An unsharded scan is
 * copied as a scan of its own. Certificates are stored once (the store
 * de-duplicates by SHA-256, compressing with OUT's own dictionary). An
 * endpoint present in two merged inputs is kept once: the later input's
 * record wins.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "lib/buf.h"
#include "storage/storage.h"
#include "tools/pipeline/pipeline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct merged_scan {
    char *identity;       /* scan_identity of the first shard */
    uint32_t out_id;
    json_t *json;         /* the merged scan's JSON */
};

struct merge {
    struct store *out;
    struct merged_scan *scans;
    size_t scan_count, scan_cap;
    uint64_t copied, corrupt;
    char err[KS_ERRLEN];
};

/* What the shards of one run share: the scan record's SCAN_DEFINES fields
 * (tools/pipeline/scan_record.c), whatever else the records hold. */
static char *scan_identity(const json_t *scan)
{
    struct scan_record r;
    char err[KS_ERRLEN];
    if (scan_record_from_json(&r, scan, err) != 0)
        return json_dumps(scan, JSON_COMPACT | JSON_SORT_KEYS); /* unreadable: itself */
    char *text = scan_record_identity(&r);
    scan_record_free(&r);
    return text;
}

static void add_counters(json_t *into, const json_t *from)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)from, key, value) {
        json_t *have = json_object_get(into, key);
        if (json_is_integer(value) && json_is_integer(have))
            json_object_set_new(into, key,
                                json_integer(json_integer_value(have) + json_integer_value(value)));
        else if (!have)
            json_object_set(into, key, value);
    }
}

/* Folds one input scan into the merged scan's JSON: earliest start, latest
 * end, counters summed, shard numbers and origins listed. */
static void fold_scan(json_t *merged, const json_t *in, const char *db, uint32_t in_id, bool first)
{
    const char *started = json_string_value(json_object_get(in, "started"));
    const char *ended = json_string_value(json_object_get(in, "ended"));
    const char *m_started = json_string_value(json_object_get(merged, "started"));
    const char *m_ended = json_string_value(json_object_get(merged, "ended"));
    if (!first) {
        /* ISO-8601 UTC strings of one format order as text */
        if (started && (!m_started || strcmp(started, m_started) < 0))
            json_object_set_new(merged, "started", json_string(started));
        if (ended && (!m_ended || strcmp(ended, m_ended) > 0))
            json_object_set_new(merged, "ended", json_string(ended));
        json_t *counters = json_object_get(in, "counters");
        json_t *m_counters = json_object_get(merged, "counters");
        if (json_is_object(counters) && json_is_object(m_counters))
            add_counters(m_counters, counters);
    }
    json_t *shards = json_object_get(merged, "merged_shards");
    json_t *from = json_object_get(merged, "merged_from");
    if (!json_is_array(shards)) {
        json_object_set_new(merged, "merged_shards", json_array());
        shards = json_object_get(merged, "merged_shards");
    }
    if (!json_is_array(from)) {
        json_object_set_new(merged, "merged_from", json_array());
        from = json_object_get(merged, "merged_from");
    }
    json_t *shard = json_object_get(in, "shard");
    if (shard)
        json_array_append(shards, shard);
    json_array_append_new(from, json_pack("{s:s, s:I, s:O?}", "db", db, "scan", (json_int_t)in_id,
                                          "shard", shard));
    json_object_del(merged, "shard");
}


/* A deep copy of r, because store_writer_put takes its contents. */

struct copy_walk {
    struct store_writer *writer;
    char *err;
};

static int copy_host(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct copy_walk *c = ctx;
    struct probe_result copy;
    if (probe_result_copy(&copy, r) != 0) {
        snprintf(c->err, KS_ERRLEN, "out of memory");
        return 1;
    }
    if (store_writer_put(c->writer, &copy, c->err) != 0) {
        probe_result_free(&copy);
        return 1;
    }
    probe_result_free(&copy);
    return 0;
}

static bool has_shard(const json_t *merged, const json_t *shard)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(merged, "merged_shards"), i, v)
        if (json_equal(v, shard))
            return true;
    return false;
}

static struct merged_scan *merged_scan_for(struct merge *m, const json_t *scan, bool *fresh)
{
    char *identity = scan_identity(scan);
    if (!identity)
        return NULL;
    json_t *shard = json_object_get(scan, "shard");
    bool sharded = json_is_integer(shard) &&
                   json_integer_value(json_object_get(scan, "shards")) > 1;
    for (size_t i = 0; sharded && i < m->scan_count; i++)
        if (!strcmp(m->scans[i].identity, identity) && !has_shard(m->scans[i].json, shard)) {
            free(identity);
            *fresh = false;
            return &m->scans[i];
        }
    if (BUF_GROW(m->scans, m->scan_cap, m->scan_count + 1, 8)) {
        free(identity);
        return NULL;
    }
    struct merged_scan *s = &m->scans[m->scan_count];
    *s = (struct merged_scan){.identity = identity, .json = json_deep_copy(scan)};
    char *text = json_dumps(s->json, JSON_COMPACT);
    int rc = text ? store_scan_create(m->out, text, &s->out_id, m->err) : -1;
    free(text);
    if (rc != 0) {
        free(identity);
        json_decref(s->json);
        return NULL;
    }
    m->scan_count++;
    *fresh = true;
    return s;
}

struct scan_list {
    uint32_t *ids;
    size_t count, cap;
};

static int list_scan(void *ctx, const struct store_scan *scan)
{
    struct scan_list *l = ctx;
    if (BUF_GROW(l->ids, l->cap, l->count + 1, 8))
        return 1;
    l->ids[l->count++] = scan->id;
    return 0;
}

static int merge_input(struct merge *m, const char *db, char *err)
{
    struct store *in = NULL;
    struct scan_list scans = {0};
    int rc = -1;
    if (tool_store_open(db, &in, err) != 0)
        return -1;
    if (store_scan_foreach(in, list_scan, &scans, err) != 0)
        goto done;
    for (size_t i = 0; i < scans.count; i++) {
        json_t *scan = NULL;
        uint32_t id;
        bool fresh;
        if (tool_scan_pick(in, scans.ids[i], &id, &scan, err) != 0)
            goto done;
        struct merged_scan *target = merged_scan_for(m, scan, &fresh);
        if (!target) {
            snprintf(err, KS_ERRLEN, "%s", m->err[0] ? m->err : "out of memory");
            json_decref(scan);
            goto done;
        }
        fold_scan(target->json, scan, db, id, fresh);
        json_decref(scan);

        struct store_writer *w;
        if (store_writer_start(m->out, target->out_id, 10000, 500, &w, err) != 0)
            goto done;
        struct copy_walk walk = {w, err};
        struct store_read_stats read = {0};
        int walk_rc = store_hosts_foreach(in, id, STORE_WITH_CERTS, copy_host, &walk, &read, err);
        char finish_err[KS_ERRLEN] = "";
        int finish_rc = store_writer_finish(w, finish_err);
        if (walk_rc != 0)
            goto done;
        if (finish_rc != 0) {
            snprintf(err, KS_ERRLEN, "%s", finish_err);
            goto done;
        }
        m->copied += read.records;
        m->corrupt += read.corrupt;
        if (read.corrupt)
            cli_message("%s scan %u: %llu corrupt record(s) skipped", db,
                    id, (unsigned long long)read.corrupt);
    }
    rc = 0;
done:
    free(scans.ids);
    store_close(in);
    return rc;
}

/* ---- what may be merged ---- */

/* One sharded scan of an input. */
struct shard_seen {
    const char *db;
    uint32_t id;
    struct scan_record record;
};

struct shard_check {
    struct shard_seen *seen;
    size_t count, cap;
    const char *db;
    char *err;
};

static int note_scan(void *ctx, const struct store_scan *scan)
{
    struct shard_check *c = ctx;
    json_t *j = json_loads(scan->json, 0, NULL);
    struct scan_record r;
    char err[KS_ERRLEN];
    int rc = j ? scan_record_from_json(&r, j, err) : -1;
    json_decref(j);
    if (rc != 0) {
        snprintf(c->err, KS_ERRLEN, "%s scan %u: %s", c->db, scan->id,
                 j ? err : "the scan record is not JSON");
        return 1;
    }
    if (!scan_record_has(&r, "shard") || !scan_record_has(&r, "shards") || r.shards <= 1) {
        scan_record_free(&r); /* an unsharded scan: copied as a scan of its own */
        return 0;
    }
    if (BUF_GROW(c->seen, c->cap, c->count + 1, 8) != 0) {
        scan_record_free(&r);
        snprintf(c->err, KS_ERRLEN, "out of memory");
        return 1;
    }
    c->seen[c->count++] = (struct shard_seen){c->db, scan->id, r};
    return 0;
}

/* The shards given must be the shards of one run, each once; all of them
 * unless `partial`. 0, or -1 naming the first problem. */
static int check_shards(const struct shard_check *c, bool partial, char *err)
{
    if (!c->count)
        return 0;
    const struct shard_seen *ref = &c->seen[0];
    long long shards = ref->record.shards;
    for (size_t i = 1; i < c->count; i++) {
        const struct shard_seen *s = &c->seen[i];
        const char *field = scan_record_defines_differ(&ref->record, &s->record);
        if (field) {
            char a[128], b[128];
            scan_record_field_text(&ref->record, field, a, sizeof(a));
            scan_record_field_text(&s->record, field, b, sizeof(b));
            snprintf(err, KS_ERRLEN,
                     "%s scan %u is not a shard of the run of %s scan %u: %s differs (%s, %s)",
                     s->db, s->id, ref->db, ref->id, field, b, a);
            return -1;
        }
    }
    for (size_t i = 0; i < c->count; i++) {
        const struct shard_seen *s = &c->seen[i];
        if (s->record.shard < 0 || s->record.shard >= shards) {
            snprintf(err, KS_ERRLEN, "%s scan %u: shard %lld is not in 0-%lld", s->db, s->id,
                     s->record.shard, shards - 1);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (c->seen[j].record.shard == s->record.shard) {
                snprintf(err, KS_ERRLEN, "shard %lld of %lld is given twice: %s scan %u and %s "
                                         "scan %u", s->record.shard, shards, c->seen[j].db,
                         c->seen[j].id, s->db, s->id);
                return -1;
            }
    }
    if (partial || (long long)c->count == shards)
        return 0;
    char missing[256] = "";
    size_t used = 0;
    for (long long k = 0; k < shards && used < sizeof(missing) - 16; k++) {
        bool found = false;
        for (size_t i = 0; i < c->count && !found; i++)
            found = c->seen[i].record.shard == k;
        if (!found)
            used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%lld",
                                     used ? ", " : "", k);
    }
    snprintf(err, KS_ERRLEN, "%zu of %lld shards given, missing %s: merge every shard, or give "
                             "--partial to merge these and record which are missing",
             c->count, shards, missing);
    return -1;
}

/* Reads every input's scan records and checks the shards among them. */
static int check_inputs(char **dbs, int count, bool partial, char *err)
{
    struct shard_check c = {.err = err};
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        struct store *in = NULL;
        c.db = dbs[i];
        if (tool_store_open(dbs[i], &in, err) != 0 ||
            store_scan_foreach(in, note_scan, &c, err) != 0)
            rc = -1;
        store_close(in);
    }
    if (rc == 0)
        rc = check_shards(&c, partial, err);
    for (size_t i = 0; i < c.count; i++)
        scan_record_free(&c.seen[i].record);
    free(c.seen);
    return rc;
}

/* A merged run missing shards says so in its record. */
static void mark_partial(json_t *merged)
{
    json_t *shards = json_object_get(merged, "shards");
    json_t *have = json_object_get(merged, "merged_shards");
    if (!json_is_integer(shards) || !json_is_array(have) ||
        (json_int_t)json_array_size(have) >= json_integer_value(shards))
        return;
    json_t *missing = json_array();
    for (json_int_t k = 0; k < json_integer_value(shards); k++) {
        bool found = false;
        size_t i;
        json_t *v;
        json_array_foreach(have, i, v)
            found |= json_integer_value(v) == k;
        if (!found)
            json_array_append_new(missing, json_integer(k));
    }
    json_object_set_new(merged, "partial", json_true());
    json_object_set_new(merged, "missing_shards", missing);
}

struct merge_options {
    bool partial;
};

static int cmd_merge(int argc, char **argv)
{
    struct merge_options o;
    int rc = cli_parse(&merge_command, &o, argc, argv);
    if (rc >= 0)
        return rc;
    bool partial = o.partial;
    if (argc - optind < 2) {
        cli_help(&merge_command, stderr);
        return EXIT_USAGE;
    }
    const char *out_path = argv[optind];
    struct stat st;
    if (stat(out_path, &st) == 0 || errno != ENOENT) {
        cli_message("%s already exists; merge writes a new database",
                out_path);
        return EXIT_USAGE;
    }
    for (int i = optind + 1; i < argc; i++)
        if (!strcmp(argv[i], out_path)) {
            cli_message("OUT is also an input");
            return EXIT_USAGE;
        }
    struct merge m = {0};
    char err[KS_ERRLEN] = "";
    int status = EXIT_RUNTIME;
    /* Everything is checked before OUT exists: a refused merge leaves
     * nothing behind. */
    if (check_inputs(argv + optind + 1, argc - optind - 1, partial, err) != 0)
        goto done;
    if (store_open(&m.out, out_path, STORE_READ_WRITE, err) != 0)
        goto done;
    for (int i = optind + 1; i < argc; i++)
        if (merge_input(&m, argv[i], err) != 0)
            goto done;
    for (size_t i = 0; i < m.scan_count; i++) {
        mark_partial(m.scans[i].json);
        char *text = json_dumps(m.scans[i].json, JSON_COMPACT);
        int rc = text ? store_scan_update(m.out, m.scans[i].out_id, text, err) : -1;
        free(text);
        if (rc != 0)
            goto done;
    }
    bool shrunk;
    char note[KS_ERRLEN];
    if (store_finish_file(m.out, &shrunk, note) != 0)
        cli_message("note: %s was not shrunk: %s", out_path, note);
    printf("merged %d database(s) into %s: %zu scan(s), %llu endpoint record(s) copied",
           argc - optind - 1, out_path, m.scan_count, (unsigned long long)m.copied);
    if (m.corrupt)
        printf(", %llu corrupt record(s) skipped", (unsigned long long)m.corrupt);
    printf("\n");
    status = EXIT_OK;
done:
    if (status != EXIT_OK)
        cli_message("%s", err[0] ? err : "out of memory");
    for (size_t i = 0; i < m.scan_count; i++) {
        free(m.scans[i].identity);
        json_decref(m.scans[i].json);
    }
    free(m.scans);
    store_close(m.out);
    if (status != EXIT_OK && m.out) {
        /* OUT is ours and incomplete: leave nothing half-merged behind */
        char lock[4200];
        snprintf(lock, sizeof(lock), "%s-lock", out_path);
        unlink(out_path);
        unlink(lock);
        cli_message("removed the incomplete %s", out_path);
    }
    return status;
}

static const struct cli_option merge_options[] = {
    {.name = "partial", .kind = CLI_FLAG, .offset = offsetof(struct merge_options, partial),
     .help = "merge the shards there are; the merged scan records\n"
             "\"partial\": true and \"missing_shards\""},
    {0},
};

static const char *const merge_usage[] = {"[--partial] OUT DB...", NULL};

const struct cli_command merge_command = {
    .name = "merge",
    .summary = "merge shard databases into a new one",
    .usage = merge_usage,
    .description =
        "Merges the scans of the databases DB... into the new database OUT. The shards\n"
        "of one run (scans with \"shards\" > 1) become one scan; unsharded scans are\n"
        "copied as scans of their own. Certificates are stored once. OUT must not exist.\n"
        "Refused, before OUT is created, with the reason: shards of different runs\n"
        "(the field that differs: seed, targets, ports, blocklist, shard count), a\n"
        "shard given twice, and missing shards (unless --partial).\n",
    .options = merge_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct merge_options),
    .run = cmd_merge,
};
