/*
 * cli.h - the kubesurvey command line: one table per subcommand (its
 * options, help and run function; options.h), the one way a command
 * speaks, and the helpers the store-reading commands share. Private to
 * tools/cli/ (main.c is its only entry).
 *
 * A command's run function takes the arguments after its name (argv[0] is
 * the subcommand) and returns the process exit status: 0 success,
 * 1 runtime failure, 2 usage error.
 */
#ifndef KS_TOOLS_CLI_H
#define KS_TOOLS_CLI_H

#include "tools/analysis/analysis.h"

#include <jansson.h>
#include <stdint.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Each command: its name, options, help and run function (options.h). */
struct cli_command;
extern const struct cli_command scan_command, probe_command, scans_command, show_command,
    cert_command, check_command, compact_command, data_command, stats_command,
    export_command, merge_command, diff_command, report_command, publish_command,
    verify_command;

/* The one way a command speaks on stderr: "kubesurvey COMMAND: message\n",
 * COMMAND being the one main() dispatched to (main.c). For errors, and for
 * the few notices a command gives (resuming, a replaced blocklist). */
void cli_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- helpers the store-reading commands share (store_util.c) ---- */

struct store;

/* Opens a database read-only with a message naming the path on failure. */
int tool_store_open(const char *path, struct store **out, char *err);
/* The scan to work on: `requested` if nonzero (it must exist), else the
 * one with the highest id. *scan_json gets its parsed JSON (new reference,
 * an empty object if the stored text does not parse). */
int tool_scan_pick(struct store *store, uint32_t requested, uint32_t *id, json_t **scan_json,
                   char *err);
/* "7" -> 7 (1..UINT32_MAX). */
int tool_parse_scan_id(const char *text, uint32_t *id);
/* The scan's start day from its "started" ISO-8601 UTC time. */
int tool_scan_start_day(const json_t *scan_json, int32_t *day);
/* `data import FILE --data DIR [--product P]` (cmd_data_import.c): an exit
 * status. */
int data_import(const char *file, const char *dir, const char *product);
/* Warns on stderr when the lifecycle data is older than day by more than
 * LC_STALE_DAYS for some calendar (stats, report, scan): figures of minors
 * or support changes published since would show as unknown or wrong. */
void tool_warn_stale_data(const struct lifecycle *lc, int32_t day);

/* Anonymisation (anonymize.c): Crypto-PAn addresses and keyed certificate
 * hashes from a 32-byte key file (docs/export.md). */
struct anonymizer;
/* The keys of KEYFILE: Crypto-PAn's, and one for certificate hashes
 * derived from it. */
int anonymizer_load(struct anonymizer **out, const char *keyfile, char *err);
/* Edits a copy of a record into what an anonymised dataset may show: the
 * address (prefix-preserving) wherever it appears, the certificate hashes
 * keyed, no certificate bodies, no bodies that are not version.Info. -1
 * when out of memory. */
int anonymizer_apply(const struct anonymizer *a, struct probe_result *r);
void anonymizer_free(struct anonymizer *a);

/* What `stats` and `report` compute over: the options they share. */
struct stats_request {
    const char *db;
    uint32_t scan;            /* 0: the newest scan */
    const char *as_of;        /* NULL: the scan's start day */
    const char *calendar;     /* "published" (NULL) or "final" */
    const char *data_dir;     /* NULL: the built-in lifecycle data */
    const char *pfx2as;       /* optional file */
    const char *as2org;       /* optional file (needs pfx2as) */
};
/* --scan ID of a struct stats_request: 0, or EXIT_USAGE after saying why. */
int stats_request_set_scan(void *req, const char *arg);
/* The option table entries (options.h) of the request's fields that stats
 * and report share; the struct they fill starts with its stats_request. */
#define STATS_REQUEST_OPTIONS                                                                \
    {.name = "scan", .arg = "ID", .set = stats_request_set_scan, .example = "1",            \
     .complete = NULL, .help = "the scan (default: the newest in DB)"},                      \
    {.name = "as-of", .arg = "DATE", .kind = CLI_TEXT,                                       \
     .offset = offsetof(struct stats_request, as_of),                                        \
     .help = "judge support as of this day, YYYY-MM-DD (default: the scan's start day)"},    \
    {.name = "calendar", .arg = "WHICH", .kind = CLI_TEXT, .complete = "published final",   \
     .offset = offsetof(struct stats_request, calendar),                                     \
     .help = "provider calendars as published on the as-of day\n"                          \
             "(published, the default) or as known today (final)"},                         \
    {.name = "data", .arg = "DIR", .kind = CLI_TEXT, .complete = "@dir",                    \
     .offset = offsetof(struct stats_request, data_dir),                                     \
     .help = "lifecycle data files instead of the built-in copies"},                         \
    {.name = "pfx2as", .arg = "FILE", .kind = CLI_TEXT, .complete = "@file",                \
     .offset = offsetof(struct stats_request, pfx2as),                                       \
     .help = "CAIDA RouteViews prefix2as file: adds top origin networks"},                   \
    {.name = "as2org", .arg = "FILE", .kind = CLI_TEXT, .complete = "@file",                \
     .offset = offsetof(struct stats_request, as2org),                                       \
     .help = "CAIDA as2org file (with --pfx2as): adds network owners"}
/* Checks the options of a request as a usage error would: 0, or -1 after
 * saying what is wrong (a date that is not a date, an unknown calendar,
 * --as2org without --pfx2as). */
int stats_request_check(const struct stats_request *req);
/* The statistics object of one scan (stats and report); *lc_out, if not
 * NULL, gets the lifecycle data used (caller frees). */
int tool_compute_stats(const struct stats_request *req, json_t **out, struct lifecycle **lc_out,
                       char *err);

/* `diff` of two scans (cmd_diff.c) as the JSON of `diff --json`: the
 * Kubernetes endpoints upgraded, downgraded, unchanged, version_unknown,
 * gone and new from scan id_from of db_from to scan id_to of db_to. */
int tool_diff_scans(const char *db_from, uint32_t id_from, const char *db_to, uint32_t id_to,
                    json_t **out, char *err);

/* The SHA-256 of each lifecycle data file compiled in, by file name
 * (cmd_publish.c; a package's scan record names the ones it used). */
json_t *tool_lifecycle_digests(void);

/* ---- scans over time (series.c) ---- */

/* The series of the scans of dbs (every scan of each; two or more in
 * all), ordered by start time, each judged as of its own start day with
 * the options of base (its db, scan and as_of unused): per scan its
 * headline counts, the three unsupported shares and the endpoints by
 * minor; between consecutive scans the diff. docs/statistics.md "Scans
 * over time". */
int tool_compute_series(const char *const *dbs, size_t db_count, const struct stats_request *base,
                        json_t **out, char *err);
/* The options of a series (usage errors said): one DB or more, each once,
 * no --as-of or --scan. 0 / -1. */
int series_request_check(const struct stats_request *req, const char *const *dbs, size_t count);
/* The series as readable text. */
void series_print(FILE *out, const json_t *series);

#endif
