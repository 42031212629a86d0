/*
 * scan_record.h - the record of one scan (its parameters, times, counters
 * and checkpoint: the JSON the store keeps per scan, that `scans`, `stats`,
 * `--resume` and `merge` read), defined once: one struct, one table of its
 * fields (scan_record.c) from which come the JSON both ways, what a resume
 * must match and what the shards of one run share.
 *
 * Roles of a field (scan_fields[].roles):
 *  - SCAN_DEFINES: defines the work (targets, ports, seed, blocklist, shard
 *    count, ...): every shard and every resumed part of one run agrees on
 *    it; `merge` joins shards on these fields and nothing else, so a field
 *    added later without this role never splits a run.
 *  - SCAN_RESUME: must equal the interrupted scan's for `--resume` (the
 *    shard and sender threads too: they decide which targets this process
 *    walks).
 * Fields without a role vary per run (times, counters, machine details).
 */
#ifndef KS_TOOLS_SCAN_RECORD_H
#define KS_TOOLS_SCAN_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef KS_ERRLEN
#define KS_ERRLEN 512
#endif

enum scan_field_type {
    SCAN_STRING,    /* char * (NULL: null) */
    SCAN_INT,       /* long long */
    SCAN_REAL,      /* double */
    SCAN_BOOL,      /* bool */
    SCAN_PORTS,     /* char * port list; equal when the port sets are */
    SCAN_JSON,      /* json_t * kept as it is (targets, counters, checkpoint, ...) */
};

enum scan_field_role { SCAN_DEFINES = 1u << 0, SCAN_RESUME = 1u << 1 };

struct scan_record {
    char *kubesurvey_version;
    json_t *targets;              /* array of the target arguments */
    char *allowlist, *blocklist, *blocklist_mode, *allow_digest, *block_digest;
    long long target_addresses, target_space;
    char *ports;
    char *seed;                   /* decimal text: JSON integers are signed */
    long long shard, shards, sender_threads, rate_pps;
    double max_runtime, cooldown;
    char *interface, *source_ip;
    char *started, *ended;        /* ISO-8601 UTC */
    double duration;
    json_t *counters;
    char *error;
    bool interrupted, syn_only;
    char *state;                  /* "running", "interrupted", "done" */
    json_t *checkpoint;           /* {walk_position, time} */
    json_t *previous_runs;        /* counters of earlier resumed runs */
    json_t *merged_from, *merged_shards;
    uint64_t present;             /* bit i: field i was in the JSON (or set) */
    json_t *unknown;              /* members no field names, kept as they were */
};

struct scan_field {
    const char *name;
    enum scan_field_type type;
    size_t offset;
    unsigned roles;               /* enum scan_field_role */
};

extern const struct scan_field scan_fields[];
extern const size_t scan_field_count;

void scan_record_init(struct scan_record *r);
void scan_record_free(struct scan_record *r);
/* Marks field `name` present after setting it in code. */
void scan_record_set_present(struct scan_record *r, const char *name);
bool scan_record_has(const struct scan_record *r, const char *name);

/* Reads a stored scan's JSON (an object). A member of the wrong type: -1
 * with a message naming it. Members no field names are kept. */
int scan_record_from_json(struct scan_record *r, const json_t *json, char *err);
/* The JSON of r: its present fields, then the unknown members. NULL when
 * out of memory. */
json_t *scan_record_to_json(const struct scan_record *r);

/* 0 if `now` may resume `was` (every SCAN_RESUME field equal), else -1 with
 * a message naming the first field that differs and both values. */
int scan_record_resume_check(const struct scan_record *was, const struct scan_record *now,
                             char *err);
/* The text of r's SCAN_DEFINES fields (canonical JSON): equal for the
 * shards of one run. Malloc'ed; NULL when out of memory. */
char *scan_record_identity(const struct scan_record *r);
/* The first SCAN_DEFINES field on which a and b differ, or NULL. */
const char *scan_record_defines_differ(const struct scan_record *a, const struct scan_record *b);

#endif
