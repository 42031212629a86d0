/*
 * cmd_diff.c - `kubesurvey diff`: how the Kubernetes endpoints of one scan
 * changed in another: upgraded, downgraded, unchanged, gone, new.
 *
 * The "from" scan's Kubernetes endpoints are held in a hash table (about
 * 40 bytes each); the "to" scan is streamed against it.
 */
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "lib/hashmap.h"
#include "lib/text.h"
#include "storage/storage.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An entry of the table: key (addr << 16 | port) + 1, then the rest. */
struct endpoint {
    uint64_t key;
    struct kver version;
    bool has_version, seen;
};

struct diff {
    struct hashmap table;   /* struct endpoint entries of the "from" scan */
    bool list_hosts;
    uint64_t upgraded, downgraded, unchanged, version_unknown, gone, added;
    char err[KS_ERRLEN];
};

static uint64_t endpoint_key(const struct probe_result *r)
{
    return ((uint64_t)r->addr << 16 | r->port) + 1;
}

static void version_text(const struct endpoint *e, char *out, size_t n)
{
    static const char *const pre[] = {"-alpha.", "-beta.", "-rc."};
    if (!e->has_version)
        snprintf(out, n, "(no version)");
    else if (e->version.pre == PRE_NONE)
        snprintf(out, n, "v%d.%d.%d", e->version.major, e->version.minor,
                 e->version.patch < 0 ? 0 : e->version.patch);
    else
        snprintf(out, n, "v%d.%d.%d%s%d", e->version.major, e->version.minor,
                 e->version.patch < 0 ? 0 : e->version.patch, pre[e->version.pre],
                 e->version.pre_number);
}

static void print_host(const char *what, uint64_t key, const struct endpoint *from,
                       const struct endpoint *to)
{
    char ip[16], a[48] = "", b[48] = "";
    uint32_t addr = (uint32_t)((key - 1) >> 16);
    uint16_t port = (uint16_t)((key - 1) & 0xffff);
    if (from)
        version_text(from, a, sizeof(a));
    if (to)
        version_text(to, b, sizeof(b));
    printf("%-16s %s:%u %s%s%s\n", what, ipv4_text(addr, ip), port, a, from && to ? " -> " : "",
           b);
}

static int load_from(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct diff *d = ctx;
    if (r->k8s != K8S_YES)
        return 0;
    uint64_t key = endpoint_key(r);
    struct endpoint *e = hashmap_put(&d->table, &key, NULL);
    if (!e) {
        snprintf(d->err, KS_ERRLEN, "out of memory");
        return 1;
    }
    e->has_version = kver_of_result(r, &e->version) == 0;
    e->seen = false;
    return 0;
}

static int compare_to(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    struct diff *d = ctx;
    if (r->k8s != K8S_YES)
        return 0;
    struct endpoint now = {.key = endpoint_key(r)};
    now.has_version = kver_of_result(r, &now.version) == 0;
    struct endpoint *before = hashmap_get(&d->table, &now.key);
    if (!before) {
        d->added++;
        if (d->list_hosts)
            print_host("new", now.key, NULL, &now);
        return 0;
    }
    before->seen = true;
    const char *what;
    if (!before->has_version || !now.has_version) {
        d->version_unknown++;
        what = "version_unknown";
    } else {
        int c = kver_compare(&before->version, &now.version);
        if (c < 0)
            d->upgraded++, what = "upgraded";
        else if (c > 0)
            d->downgraded++, what = "downgraded";
        else
            d->unchanged++, what = NULL;
    }
    if (d->list_hosts && what)
        print_host(what, now.key, before, &now);
    return 0;
}

/* The endpoints of the "from" scan never met in the "to" scan. */
static void count_gone(struct diff *d)
{
    for (size_t i = 0; i < d->table.capacity; i++) {
        struct endpoint *e = hashmap_at(&d->table, i);
        if (e && !e->seen) {
            d->gone++;
            if (d->list_hosts)
                print_host("gone", e->key, e, NULL);
        }
    }
}

/* Which scans are compared. */
struct diff_sides {
    const char *db_from, *db_to;
    uint32_t id_from, id_to;
    uint64_t corrupt;
};

/* The summary as JSON (diff --json, and the changes of a series). */
static json_t *diff_json(const struct diff *d, const struct diff_sides *w)
{
    return json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "from_db",
                     w->db_from, "from_scan", (json_int_t)w->id_from, "to_db", w->db_to,
                     "to_scan", (json_int_t)w->id_to, "upgraded", (json_int_t)d->upgraded,
                     "downgraded", (json_int_t)d->downgraded, "unchanged",
                     (json_int_t)d->unchanged, "version_unknown", (json_int_t)d->version_unknown,
                     "gone", (json_int_t)d->gone, "new", (json_int_t)d->added, "corrupt_records",
                     (json_int_t)w->corrupt);
}

static void print_diff(const struct diff *d, const struct diff_sides *w, bool json)
{
    if (json) {
        json_t *o = diff_json(d, w);
        json_dumpf(o, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(o);
        return;
    }
    printf("Kubernetes endpoints, %s scan %u -> %s scan %u\n", w->db_from, w->id_from, w->db_to,
           w->id_to);
    printf("  upgraded         %12llu\n  downgraded       %12llu\n  unchanged        %12llu\n"
           "  version unknown  %12llu\n  gone             %12llu\n  new              %12llu\n",
           (unsigned long long)d->upgraded, (unsigned long long)d->downgraded,
           (unsigned long long)d->unchanged, (unsigned long long)d->version_unknown,
           (unsigned long long)d->gone, (unsigned long long)d->added);
    if (w->corrupt)
        printf("  corrupt records skipped %llu\n", (unsigned long long)w->corrupt);
}

/* Opens the stores, picks the scans and walks them into d; 0 / -1. */
static int compare_scans(struct diff *d, struct diff_sides *w, uint32_t from, uint32_t to,
                         bool two_dbs, char *err)
{
    struct store *s_from = NULL, *s_to = NULL;
    json_t *j_from = NULL, *j_to = NULL;
    struct store_read_stats read_from = {0}, read_to = {0};
    int rc = -1;
    if (tool_store_open(w->db_from, &s_from, err) != 0 ||
        tool_scan_pick(s_from, from, &w->id_from, &j_from, err) != 0)
        goto done;
    if (two_dbs ? tool_store_open(w->db_to, &s_to, err) != 0 ||
                      tool_scan_pick(s_to, to, &w->id_to, &j_to, err) != 0
                : tool_scan_pick(s_from, to, &w->id_to, &j_to, err) != 0)
        goto done;
    if (store_hosts_foreach(s_from, w->id_from, 0, load_from, d, &read_from, err) != 0)
        goto done;
    if (d->err[0]) {
        snprintf(err, KS_ERRLEN, "%s", d->err);
        goto done;
    }
    if (store_hosts_foreach(s_to ? s_to : s_from, w->id_to, 0, compare_to, d, &read_to, err) != 0)
        goto done;
    count_gone(d);
    w->corrupt = read_from.corrupt + read_to.corrupt;
    rc = 0;
done:
    json_decref(j_from);
    json_decref(j_to);
    store_close(s_to);
    store_close(s_from);
    return rc;
}

int tool_diff_scans(const char *db_from, uint32_t id_from, const char *db_to, uint32_t id_to,
                    json_t **out, char *err)
{
    struct diff d = {0};
    struct diff_sides w = {.db_from = db_from, .db_to = db_to};
    hashmap_init(&d.table, sizeof(uint64_t), sizeof(struct endpoint) - sizeof(uint64_t));
    int rc = compare_scans(&d, &w, id_from, id_to, strcmp(db_from, db_to) != 0, err);
    if (rc == 0 && !(*out = diff_json(&d, &w))) {
        snprintf(err, KS_ERRLEN, "out of memory");
        rc = -1;
    }
    hashmap_free(&d.table);
    return rc;
}

struct diff_options {
    uint32_t from, to;
    bool hosts, json;
};

static int scan_id(const char *arg, uint32_t *id)
{
    if (tool_parse_scan_id(arg, id) != 0) {
        cli_message("'%s' is not a scan id", arg);
        return EXIT_USAGE;
    }
    return 0;
}
static int set_from(void *o, const char *arg) { return scan_id(arg, &((struct diff_options *)o)->from); }
static int set_to(void *o, const char *arg) { return scan_id(arg, &((struct diff_options *)o)->to); }

static int cmd_diff(int argc, char **argv)
{
    struct diff_options o;
    int parsed = cli_parse(&diff_command, &o, argc, argv);
    if (parsed >= 0)
        return parsed;
    uint32_t from = o.from, to = o.to;
    bool json = o.json;
    struct diff d = {.list_hosts = o.hosts};
    int dbs = argc - optind;
    if (dbs < 1 || dbs > 2 || (dbs == 1 && (!from || !to))) {
        cli_message("give DB --from SCAN --to SCAN, or DB1 DB2");
        cli_help(&diff_command, stderr);
        return EXIT_USAGE;
    }
    if (json && d.list_hosts) {
        cli_message("--hosts lists text lines; it cannot be combined with --json");
        return EXIT_USAGE;
    }
    struct diff_sides w = {.db_from = argv[optind], .db_to = argv[optind + dbs - 1]};
    char err[KS_ERRLEN] = "";
    hashmap_init(&d.table, sizeof(uint64_t), sizeof(struct endpoint) - sizeof(uint64_t));
    int status = EXIT_RUNTIME;
    if (compare_scans(&d, &w, from, to, dbs == 2, err) == 0) {
        print_diff(&d, &w, json);
        status = EXIT_OK;
    } else {
        cli_message("%s", err);
    }
    hashmap_free(&d.table);
    return status;
}

static const struct cli_option diff_options[] = {
    {.name = "from", .arg = "SCAN", .set = set_from, .example = "1",
     .help = "the first scan (of DB, or of DB1)"},
    {.name = "to", .arg = "SCAN", .set = set_to, .example = "2",
     .help = "the second scan (of DB, or of DB2)"},
    {.name = "hosts", .kind = CLI_FLAG, .offset = offsetof(struct diff_options, hosts),
     .help = "list every endpoint that changed"},
    {.name = "json", .kind = CLI_FLAG, .offset = offsetof(struct diff_options, json),
     .help = "the summary as JSON"},
    {0},
};

static const char *const diff_usage[] = {"DB --from SCAN --to SCAN [--hosts] [--json]",
                                         "DB1 DB2 [--from SCAN] [--to SCAN] [--hosts] [--json]",
                                         NULL};

const struct cli_command diff_command = {
    .name = "diff",
    .summary = "compare two scans: upgraded, downgraded, gone, new",
    .usage = diff_usage,
    .description =
        "Compares the Kubernetes endpoints (address:port) of two scans, of one database\n"
        "or of two (then --from/--to pick the scans in DB1/DB2, default the newest):\n"
        "  upgraded / downgraded / unchanged  in both, version higher / lower / equal\n"
        "  version_unknown                    in both, one side has no version\n"
        "  gone / new                         only in the first / only in the second\n"
        "Versions compare by major.minor.patch and pre-release; vendor build suffixes\n"
        "(-eks-..., +k3s1) are ignored.\n",
    .options = diff_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct diff_options),
    .run = cmd_diff,
};
