/*
 * publish.h - a published dataset (`kubesurvey publish` / `verify`,
 * docs/export.md "Publishing"): what the package's files are and the
 * pieces that write and check them. This header is the whole interface of
 * tools/publish/.
 *
 * The package is a directory:
 *   records.jsonl.zst   one endpoint record per line (record_to_json, plus
 *                       "scan" and, when anonymised, "anonymized")
 *   records.csv.zst     the same records as CSV (record_csv_line)
 *   certs.jsonl.zst     optional: each distinct certificate once
 *   scans.jsonl         the scan record(s)
 *   stats.json          the statistics as of the scan's day
 *   schema/             JSON Schemas of the three kinds of lines and the
 *                       CSV's table schema, generated from the field tables
 *                       (record_fields[] of lib/record.c, scan_fields[] of
 *                       tools/pipeline/scan_record.c)
 *   DATASHEET.md, CITATION.cff, SHA256SUMS
 *
 * Convention: 0 / -1 with a message in err (KS_ERRLEN bytes). Nothing here
 * prints; the command line (tools/cli/cmd_publish.c, cmd_verify.c) speaks.
 */
#ifndef KS_TOOLS_PUBLISH_H
#define KS_TOOLS_PUBLISH_H

#include "lib/record.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the package's file names ---- */

#define PUBLISH_RECORDS_JSONL "records.jsonl.zst"
#define PUBLISH_RECORDS_CSV "records.csv.zst"
#define PUBLISH_CERTS "certs.jsonl.zst"
#define PUBLISH_SCANS "scans.jsonl"
#define PUBLISH_STATS "stats.json"
#define PUBLISH_RECORD_SCHEMA "schema/record.schema.json"
#define PUBLISH_CSV_SCHEMA "schema/record.csv.schema.json"
#define PUBLISH_SCAN_SCHEMA "schema/scan.schema.json"
#define PUBLISH_CERT_SCHEMA "schema/cert.schema.json"
#define PUBLISH_DATASHEET "DATASHEET.md"
#define PUBLISH_CITATION "CITATION.cff"
#define PUBLISH_SUMS "SHA256SUMS"

/* ---- schemas (schema.c), generated from the field tables ---- */

/* JSON Schema (draft 2020-12) of one line of records.jsonl: every field of
 * record_fields[] (required), "scan" (required), "anonymized" and
 * "body_base64" (optional); nothing else. New reference. */
json_t *publish_record_schema(void);
/* Frictionless Table Schema of records.csv: "scan", the CSV columns of
 * record_fields[] in table order, "as". */
json_t *publish_csv_schema(void);
/* JSON Schema of one line of scans.jsonl: "scan" (the id), the fields of
 * scan_fields[], "unknown_members" (what the stored record held that no
 * field names) and "publication" (how the package was made). */
json_t *publish_scan_schema(void);
/* JSON Schema of one line of certs.jsonl: {sha256, length, der}. */
json_t *publish_cert_schema(void);
/* The package's schema files: name -> generator, NULL-terminated. */
struct publish_schema_file {
    const char *path;
    json_t *(*generate)(void);
};
extern const struct publish_schema_file publish_schema_files[];

/* The first place where two JSON values differ, as a path ("k8s",
 * "by_minor.1.19", "properties.chain.items"), written to path (which the
 * caller starts as ""), and the two values there in *at_a, *at_b (NULL
 * where a member is missing; at_a may be NULL); false if they are equal.
 * Members named in `skip` (NULL-terminated list of paths) are not
 * compared. */
bool publish_json_differ(const json_t *a, const json_t *b, const char *const *skip, char *path,
                         size_t size, const json_t **at_a, const json_t **at_b);

/* ---- records read back (record_read.c) ---- */

/* A line of records.jsonl back into r (initialised here), strictly: every
 * field of the table present with a value of its type, no member the
 * schema does not know. *scan gets "scan", *anonymized "anonymized"
 * (false when absent). -1 with a message naming the member. */
int publish_record_from_json(const json_t *line, struct probe_result *r, uint32_t *scan,
                             bool *anonymized, char *err);

/* ---- files (files.c) ---- */

/* SHA-256 of a file as 64 hex digits (out: 65 bytes). */
int publish_sha256_file(const char *path, char out[65], char *err);

/* Lines of a file, through zstd when its name ends in ".zst". A line
 * ends at '\n' (which is not returned); lines may be of any length. */
struct line_reader;
int line_reader_open(struct line_reader **out, const char *path, char *err);
/* 1 and *line (owned by the reader, valid until the next call) with its
 * length, 0 at the end, -1 on a read or zstd error (err names the file). */
int line_reader_next(struct line_reader *lr, char **line, size_t *length, char *err);
void line_reader_close(struct line_reader *lr);

/* zstd writer (level 3, checksummed) over a FILE. */
struct zwriter;
int zwriter_open(struct zwriter **out, const char *path, char *err);
int zwriter_write(struct zwriter *w, const void *data, size_t length);
/* Ends the frame and closes the file: 0 / -1 (err names the file). */
int zwriter_close(struct zwriter *w, char *err);
/* Closes without finishing (after an error). */
void zwriter_abandon(struct zwriter *w);

/* ---- the datasheet and the citation (datasheet.c) ---- */

struct publish_info {
    json_t *scan;              /* the published scan record (a line of scans.jsonl) */
    json_t *stats;             /* stats.json */
    json_t *composition;       /* {"outcome": {name: n}, "verdict": {...}, ...} */
    bool anonymized;
    bool certs;                /* certs.jsonl.zst written */
    uint64_t cert_count;
    const char *title;         /* --title */
    const char *const *authors;/* --author, NULL-terminated (may be empty) */
    const char *version;       /* --dataset-version, or NULL */
    const char *license;       /* --license, or NULL */
    const char *url;           /* --url, or NULL */
    const char *doi;           /* --doi, or NULL */
    const char *today;         /* YYYY-MM-DD the package was written */
};

/* Counts r into composition: for each of the record's fields outcome,
 * verdict, module, provider and version_state that the table has, value ->
 * records. -1 when out of memory. */
int publish_composition_add(json_t *composition, const struct probe_result *r);

int publish_write_datasheet(FILE *out, const struct publish_info *info, char *err);
int publish_write_citation(FILE *out, const struct publish_info *info, char *err);

#endif
