/*
 * pipeline.h - the survey pipeline of `kubesurvey scan`: what happens to
 * responders between the scanner (engine/), the probes (probes/) and the
 * store (storage/), and the record of a scan that the store keeps. This
 * header is the whole interface of tools/pipeline/.
 *
 * Responders: the capture thread pushes each new responder into a
 * lock-free ring; a feeder thread takes them out and either writes them
 * (--syn-only) or submits them to the probe pool, whose results go to JSON
 * Lines and to the store writer. Sequence numbers tell how far the walk may
 * be resumed without losing a host (the checkpoints of cli/cmd_scan.c).
 *
 * The scan record (scan_record.c): the record of one scan (its parameters,
 * times, counters and checkpoint: the JSON the store keeps per scan, that
 * `scans`, `stats`, `--resume` and `merge` read), defined once: one struct,
 * one table of its fields from which come the JSON both ways, what a resume
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
#ifndef KS_TOOLS_PIPELINE_H
#define KS_TOOLS_PIPELINE_H

#include "engine/engine.h"
#include "lib/hashmap.h"
#include "probes/probes.h"
#include "storage/storage.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the scan record ---- */

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
    char *allowlist, *blocklist, *blocklist_mode, *opt_out, *allow_digest, *block_digest;
    long long blocklist_addresses;  /* addresses the blocklist holds */
    char *opt_out_digest;           /* of the --opt-out list as loaded at the start */
    long long target_addresses, target_space;
    char *ports;
    char *modules;                /* "2379=etcd,10250=kubelet": ports not probed as API server */
    char *seed;                   /* decimal text: JSON integers are signed */
    long long shard, shards, sender_threads, rate_pps, probes;
    double max_runtime, cooldown;
    char *interface, *source_ip;
    char *started, *ended;        /* ISO-8601 UTC */
    double duration;
    json_t *counters;
    json_t *loss;                 /* -P > 1: {answered_by_probes, estimated_loss} */
    json_t *process;              /* {peak_rss_kib, fds_before_probes, fds_after_probes} */
    json_t *probing;              /* {outcomes: {name: count}, retries, recovered} */
    char *error;
    bool interrupted, syn_only, port_sample;
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
/* The record's `modules` of a scan of PORTS (a port list) with MAP: the
 * ports another module than apiserver probes, "PORT=NAME" in ascending port
 * order, comma-separated; *text NULL when there is none (and for a bad
 * list), so a record without the field (older builds probed every port as
 * an API server) means the same. 0, or -1 when out of memory. */
int scan_record_modules(const char *ports, const struct probe_port_map *map, char **text);
/* The text of r's SCAN_DEFINES fields (canonical JSON): equal for the
 * shards of one run. Malloc'ed; NULL when out of memory. */
char *scan_record_identity(const struct scan_record *r);
/* The value of field `name` of r as JSON text ("none" when absent). */
void scan_record_field_text(const struct scan_record *r, const char *name, char *out, size_t size);
/* The first SCAN_DEFINES field on which a and b differ, or NULL. */
const char *scan_record_defines_differ(const struct scan_record *a, const struct scan_record *b);


/* ---- the responder pipeline ---- */

struct responder_ring {
    struct net_endpoint *items;   /* a responder of either family */
    size_t mask;
    _Atomic size_t head;          /* next to write (producer) */
    _Atomic size_t tail;          /* next to read (consumer) */
};

/* Which responders have been fully handled (probed, result queued to the
 * store). Each responder gets a sequence number in ring order, which its
 * probe carries as its tag; `low` is the first number not yet handled, so
 * every responder before it is done. */
struct seq_tracker {
    pthread_mutex_t lock;         /* advancing low */
    _Atomic uint8_t *done;        /* window of done flags, by seq & (window - 1) */
    size_t window;
    _Atomic uint64_t next_seq;
    _Atomic uint64_t low;
};

/* What the pipeline writes where: its configuration, filled by the
 * command line (tools/cli) but not its option struct. */
enum pipeline_format { PIPELINE_CSV, PIPELINE_JSONL };

struct pipeline_config {
    FILE *out;                    /* --syn-only list, or probe JSON Lines; may be NULL */
    enum pipeline_format format;  /* of out */
    const struct probe_config *probe; /* NULL: only list the responders (--syn-only) */
    struct store_writer *writer;  /* NULL without a store */
    /* Hosts that answer on every port (engine.h, port_sample): when set
     * (and probing), each responder waits `hold` seconds before its probe
     * so its host's sample has been answered; the feeder then asks
     * all_ports_open(flag_ctx, addr) (scan_all_ports_open) once and the
     * answer travels with the probe as a target flag into the record. */
    bool (*all_ports_open)(void *flag_ctx, const struct net_addr *addr);
    void *flag_ctx;
    double hold;
};

/* Responders waiting for their host's sample (a FIFO: they arrive in time
 * order). When it is full the oldest goes early. */
struct held_responder {
    struct net_endpoint responder;
    uint64_t due;                 /* the time it may go (ns) */
};

struct hold_queue {
    struct held_responder *items;
    size_t capacity, head, count;
};

struct scan_pipeline {
    enum pipeline_format format;
    struct responder_ring ring;
    _Atomic uint64_t pushed;      /* responders that entered the ring */
    _Atomic int input_done;       /* the scan ended: nothing more will be pushed */

    FILE *out;                    /* --syn-only list, or probe JSON Lines; may be NULL */
    pthread_mutex_t out_lock;
    bool out_failed;

    struct probe_pool *pool;      /* NULL with --syn-only */
    struct probe_port_map modules; /* the module of each port (cfg->probe's) */
    struct probe_pool_stats pool_final; /* its counters once it finished */
    struct seq_tracker seqs;
    struct store_writer *writer;  /* NULL without a store */
    bool (*all_ports_open)(void *flag_ctx, const struct net_addr *addr);
    void *flag_ctx;
    uint64_t hold_ns;
    struct hold_queue held;       /* feeder thread only */
    _Atomic uint64_t probed, k8s, store_errors;
    char store_err[KS_ERRLEN];

    pthread_t feeder;
    bool feeder_started;
};

/* Starts the feeder thread and, with cfg->probe, the probe pool. cfg->out
 * and cfg->writer may be NULL; they stay the caller's. On -1 (err filled)
 * nothing is left to free; after 0, scan_pipeline_finish and/or
 * scan_pipeline_free end it. */
int scan_pipeline_start(struct scan_pipeline *p, const struct pipeline_config *cfg, char *err);
/* The engine's responder callback, for either family (never blocks). */
bool scan_pipeline_push(void *ctx, const struct net_addr *addr, uint16_t port);
/* After the scan: drain the ring, finish every probe. Frees the pool. */
int scan_pipeline_finish(struct scan_pipeline *p, char *err);
/* Frees a started pipeline (joining what still runs). Only after a
 * successful scan_pipeline_start. */
void scan_pipeline_free(struct scan_pipeline *p);
/* The probe pool's counters (outcomes, retries): live while it runs, final
 * after scan_pipeline_finish; zero with --syn-only. */
void scan_pipeline_probe_stats(struct scan_pipeline *p, struct probe_pool_stats *out);
/* Responders handled so far (for checkpoints): every one of the first
 * scan_pipeline_handled() pushed responders is done. */
uint64_t scan_pipeline_handled(struct scan_pipeline *p);

/* ---- checkpoints ---- */

/* Which walk position may be committed as a checkpoint: every target before
 * it has been probed and its result handed to the store. Once a second the
 * caller samples (time, walk position, responders pushed). A sample A is
 * safe when a later sample B, at least the cooldown (+0.5 s) after A, finds
 * every responder pushed before B handled: every reply to every SYN before
 * A's position has arrived by B, and been probed and queued to the writer. */
#define CHECKPOINT_SAMPLES 4096

struct checkpoint_sample {
    double time;
    uint64_t position;   /* the engine's walk position at that time */
    uint64_t pushed;     /* responders that had entered the pipeline */
};

struct checkpoints {
    struct checkpoint_sample samples[CHECKPOINT_SAMPLES]; /* a ring */
    size_t count;        /* samples taken */
    double cooldown;     /* seconds replies may take */
    uint64_t position;   /* the last position given out (committed) */
    double time;         /* when it was given out; 0 before */
};

/* Starts at `position` (a resumed scan's checkpoint, else 0). */
void checkpoints_init(struct checkpoints *c, double cooldown, uint64_t position);
/* Takes a sample; true and *position when a safe position newer than the
 * last one exists (it becomes the last one, with time `now`). handled is
 * scan_pipeline_handled(). */
bool checkpoints_sample(struct checkpoints *c, double now, uint64_t walk_position,
                        uint64_t pushed, uint64_t handled, uint64_t *position);

#endif
