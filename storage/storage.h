/*
 * storage.h - the LMDB survey store (issue 4). THIS IS THE CONTRACT the
 * scanner (writer side) and the offline tools (reader side) are built
 * against; storage/ implements it. See docs/storage.md for the schema.
 *
 * One environment holds several scans. Sub-databases:
 *   scans   key: scan id (uint32 BE)       value: JSON text (parameters, seed,
 *           shard, digest of targets/ports/blocklist/seed, start/end times,
 *           counters, checkpoint)
 *   hosts   key: scan id, addr, port (BE)  value: versioned compact record of
 *           every probe_result field, certificates by SHA-256
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
 * the queue is full. Thread-safe. */
int store_writer_put(struct store_writer *w, struct probe_result *r, char *err);
/* Commits what is queued together with a new scan JSON (checkpoint), atomically. */
int store_writer_checkpoint(struct store_writer *w, const char *scan_json, char *err);
/* Flushes, commits, joins the thread, frees w. */
int store_writer_finish(struct store_writer *w, char *err);

/* ---- reading hosts ---- */

enum store_read_flags {
    STORE_WITH_CERTS = 1, /* fill chain[i].der (else only sha256 and length) */
};

struct store_read_stats {
    uint64_t records;
    uint64_t corrupt;     /* records that failed to decode (skipped, not fatal) */
};

/* Calls fn for every host of scan_id (0 = every scan) in key order. The
 * result is valid only during the call. A nonzero return from fn stops. */
int store_hosts_foreach(struct store *store, uint32_t scan_id, unsigned flags,
                        int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                        void *ctx, struct store_read_stats *stats, char *err);
/* One host; returns 1 if found, 0 if not, -1 on error. Free with probe_result_free. */
int store_host_get(struct store *store, uint32_t scan_id, uint32_t addr, uint16_t port,
                   unsigned flags, struct probe_result *out, char *err);
/* The DER of a stored certificate; returns 1 if found, 0 if not, -1 on error. */
int store_cert_get(struct store *store, const uint8_t sha256[32], uint8_t **der,
                   size_t *length, char *err);

#endif
