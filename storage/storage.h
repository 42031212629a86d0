/*
 * storage.h - the LMDB survey store (issue 4). THIS IS THE CONTRACT the
 * scanner (writer side) and the offline tools (reader side) are built
 * against; storage/ implements it. See docs/storage.md for the schema.
 *
 * One environment holds several scans. Sub-databases:
 *   scans   key: scan id (uint32 BE)       value: JSON text (parameters, seed,
 *           shard, digest of targets/ports/blocklist/seed, start/end times,
 *           counters, checkpoint)
 *   hosts   key: scan id, sequence number  value: versioned compact record of
 *           (uint32 + uint64 BE)           every probe_result field (address and
 *                                          port included), certificates by SHA-256
 *   addrs   key: scan id, addr, port (BE)  value: the host's sequence number
 *           (the index by address; one entry per host record)
 *   certs   key: SHA-256 of the DER        value: zstd frame (dictionary id in
 *           the frame header; 0 = none)
 *   dicts   key: dictionary id (uint32 BE) value: zstd dictionary
 *   meta    "schema_version" and the like
 *
 * Conventions: 0 on success, -1 on failure with a message naming what was
 * wrong in err (KS_ERRLEN bytes). Nothing here prints or exits.
 * Thread safety: a struct store may be shared by threads; one store_writer
 * per scan owns all write transactions of that scan.
 */
#ifndef KS_STORAGE_H
#define KS_STORAGE_H

#include "probes/probes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_mode { STORE_READ_ONLY = 0, STORE_READ_WRITE = 1 };

/* Opens (creating it in read-write mode) the environment at path (a file,
 * MDB_NOSUBDIR). A foreign or corrupt file, a newer schema, a read-only
 * directory: -1 with a clear message. */
int store_open(struct store **out, const char *path, enum store_mode mode, char *err);
void store_close(struct store *store);

/* ---- scans ---- */

struct store_scan {
    uint32_t id;
    char *json;   /* the scan's JSON object text (parameters, times, counters,
                     checkpoint, digest); free with free() */
};

/* Creates a scan record; *id is the new scan's id (1, 2, ...). */
int store_scan_create(struct store *store, const char *json, uint32_t *id, char *err);
/* Replaces a scan's JSON (counters, checkpoint, end time). Durable on return. */
int store_scan_update(struct store *store, uint32_t id, const char *json, char *err);
int store_scan_get(struct store *store, uint32_t id, struct store_scan *out, char *err);
/* Calls fn for every scan in id order; a nonzero return stops the walk. */
int store_scan_foreach(struct store *store, int (*fn)(void *ctx, const struct store_scan *scan),
                       void *ctx, char *err);

/* ---- writing hosts ---- */

struct store_writer;

/* Starts the writer thread for one scan: records are committed in groups of
 * group_records or every group_ms milliseconds, whichever comes first. */
int store_writer_start(struct store *store, uint32_t scan_id, unsigned group_records,
                       unsigned group_ms, struct store_writer **out, char *err);
/* Queues a record; takes ownership of r's contents (r is reset). Blocks when
 * the queue is full. Thread-safe: the hashing and encoding run in the
 * caller's thread, so several producers share that work. Every chain entry
 * needs its DER (hashed here; a caller's sha256 is overwritten). A later
 * record for the same (address, port) of the scan replaces the earlier one.
 * On failure (-1) r stays the caller's to free. */
int store_writer_put(struct store_writer *w, struct probe_result *r, char *err);
/* Commits what is queued together with a new scan JSON (checkpoint), atomically. */
int store_writer_checkpoint(struct store_writer *w, const char *scan_json, char *err);
/* Flushes, commits, joins the thread, frees w. */
int store_writer_finish(struct store_writer *w, char *err);

/* ---- reading hosts ---- */

enum store_read_flags {
    STORE_WITH_CERTS = 1,   /* fill chain[i].der (else only sha256 and length) */
    STORE_STORED_ORDER = 2, /* walk in the order the records were stored (one
                               sequential pass: faster, for order-free uses) */
};

struct store_read_stats {
    uint64_t records;
    uint64_t corrupt;     /* records that failed to decode (skipped, not fatal) */
};

/* Calls fn for every host of scan_id (0 = every scan) in (scan, address,
 * port) order, or with STORE_STORED_ORDER in the order stored. The result
 * is valid only during the call. A nonzero return from fn stops. */
int store_hosts_foreach(struct store *store, uint32_t scan_id, unsigned flags,
                        int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                        void *ctx, struct store_read_stats *stats, char *err);
/* One host; returns 1 if found, 0 if not, -1 on error. Free with probe_result_free. */
int store_host_get(struct store *store, uint32_t scan_id, uint32_t addr, uint16_t port,
                   unsigned flags, struct probe_result *out, char *err);
/* The DER of a stored certificate; returns 1 if found, 0 if not, -1 on error. */
int store_cert_get(struct store *store, const uint8_t sha256[32], uint8_t **der,
                   size_t *length, char *err);

/* ---- added with the implementation (storage/, issue 4) ---- */

/* Records the writer has committed so far (durable). Thread-safe. */
uint64_t store_writer_committed(struct store_writer *w);

/* Every host of one address (port 0 = every port) in scan_id (0 = every
 * scan), in (scan, port) order; same contract as store_hosts_foreach. */
int store_hosts_foreach_addr(struct store *store, uint32_t scan_id, uint32_t addr, uint16_t port,
                             unsigned flags,
                             int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                             void *ctx, struct store_read_stats *stats, char *err);
/* Number of host records of one scan. */
int store_scan_host_count(struct store *store, uint32_t scan_id, uint64_t *count, char *err);

struct store_cert_stats {
    uint64_t certs;          /* stored certificates */
    uint64_t der_bytes;      /* their total DER size */
    uint64_t frame_bytes;    /* their total stored (compressed) size */
    uint64_t with_dict;      /* frames compressed with a dictionary */
    uint64_t dicts;          /* stored dictionaries */
    uint64_t dict_bytes;
    uint32_t current_dict;   /* id new certificates use, 0 = none yet */
};
int store_cert_stats(struct store *store, struct store_cert_stats *out, char *err);

/* LMDB does not checksum its pages: reading a structurally damaged file it
 * fails an internal assertion and aborts the process. A program may set a
 * handler that gets a clear message first (and typically exits); if it
 * returns, the process aborts. Process-wide. */
void store_set_fatal_handler(void (*handler)(const char *message));

/* Number of stored certificates at which a writer trains the first
 * dictionary (default 2000). For tests and benchmarks. */
void store_set_dict_training(struct store *store, unsigned at_certs);

struct store_check_stats {
    uint64_t scans, hosts, certs, dicts;
    uint64_t problems;
};
/* Verifies the whole store: every scan JSON parses, every host record
 * decodes and its certificates resolve, every certificate frame
 * decompresses to DER with its key as SHA-256, every dictionary loads.
 * problem(ctx, text) is called for each problem found (may be NULL).
 * Returns 0 if the walk completed (stats->problems says what it found). */
int store_check(struct store *store, void (*problem)(void *ctx, const char *text), void *ctx,
                struct store_check_stats *stats, char *err);

/* Retrains the certificate dictionary on the stored certificates and
 * recompresses every certificate with it (store opened read-write). Each
 * step commits a consistent store: killed at any point, the store stays
 * valid and a rerun finishes the job. */
int store_compact(struct store *store, struct store_cert_stats *after, char *err);

#endif
