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
 *   addrs   key: scan id, family (4 or 6),  value: the host's sequence number
 *           addr (4 or 16 bytes), port (BE) (the index by address; one entry per
 *                                          host record)
 *   certs   key: arrival number (uint64 BE) value: zstd frame (dictionary id
 *           in the frame header; 0 = none)
 *   cert_index key: SHA-256 of the DER     value: its arrival number in certs
 *   dicts   key: dictionary id (uint32 BE) value: zstd dictionary
 *   meta    "schema_version" and the like
 *
 * Conventions (every function of this header, as lmdb.h documents its own):
 *  - A function returning int returns 0 on success and -1 on failure; on
 *    failure err (a buffer of KS_ERRLEN bytes, always given) holds one line
 *    naming the store's path, what was being done and why ("PATH: commit a
 *    group of 5000 records: no space left on the device (disk full); data
 *    committed before is intact"). No other value is returned, and no LMDB
 *    or errno code reaches the caller: the message says it.
 *  - On failure the out-parameters are unspecified unless said otherwise;
 *    nothing needs freeing.
 *  - A lookup that may find nothing (store_host_get, store_cert_get) returns
 *    0 and reports whether it found it in a `bool *found`; not finding is
 *    not an error. store_scan_get, by contrast, treats a missing scan as an
 *    error ("PATH: no scan N").
 *  - Callbacks of the walks (store_scan_foreach, store_hosts_foreach, ...)
 *    return 0 to go on and nonzero to stop the walk early; stopping is not
 *    an error (the walk returns 0), so a callback that fails keeps its own
 *    message and tells its caller through its ctx.
 *  - Nothing here prints or exits (see store_set_fatal_handler for LMDB's
 *    own assertion).
 * Thread safety: a struct store may be shared by threads; one store_writer
 * per scan owns all write transactions of that scan.
 */
#ifndef KS_STORAGE_H
#define KS_STORAGE_H

#include "lib/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_mode { STORE_READ_ONLY = 0, STORE_READ_WRITE = 1 };

/* Opens the store at path (one file, MDB_NOSUBDIR; LMDB keeps PATH-lock
 * beside it).
 *   out   set to the open store (NULL on failure); close with store_close
 *   path  the file; in STORE_READ_WRITE mode it is created if missing
 *   mode  STORE_READ_ONLY (a read-only directory without a lock file works)
 *         or STORE_READ_WRITE
 * Errors: a directory, a missing or empty file (read-only), not an LMDB
 * file, a foreign LMDB, a truncated file, a schema newer or older than this
 * build's, a read-only directory or file system (read-write), permission
 * denied. */
int store_open(struct store **out, const char *path, enum store_mode mode, char *err);
/* Closes the store (NULL is allowed). Every writer of it must be finished. */
void store_close(struct store *store);

/* ---- scans ---- */

struct store_scan {
    uint32_t id;
    char *json;   /* the scan's JSON object text (parameters, times, counters,
                     checkpoint, digest); free with free() */
};

/* Creates a scan record. Durable on return.
 *   json  the scan's JSON text, which must be a JSON object
 *   id    set to the new scan's id (1 more than the highest, from 1)
 * Errors: json is not a JSON object, the store is open read-only, no id
 * left, a write error (disk full, I/O). */
int store_scan_create(struct store *store, const char *json, uint32_t *id, char *err);
/* Replaces a scan's JSON (counters, checkpoint, end time). Durable on return.
 * Errors: json is not a JSON object, no scan id, read-only store, a write
 * error. */
int store_scan_update(struct store *store, uint32_t id, const char *json, char *err);
/* Reads one scan.
 *   out  filled with id and a malloc'ed copy of the JSON (free out->json)
 * Errors: no scan id ("PATH: no scan N"), a read error, out of memory. */
int store_scan_get(struct store *store, uint32_t id, struct store_scan *out, char *err);
/* Calls fn for every scan in id order, in one read transaction. scan and
 * its json are valid only during the call. fn returns 0 to go on, nonzero
 * to stop (then this returns 0).
 * Errors: a read error, out of memory. */
int store_scan_foreach(struct store *store, int (*fn)(void *ctx, const struct store_scan *scan),
                       void *ctx, char *err);

/* ---- writing hosts ---- */

struct store_writer;

/* Starts the writer thread for one scan: records are committed in groups of
 * group_records or every group_ms milliseconds after the oldest queued one,
 * whichever comes first; a group that fills the map grows it and retries.
 *   scan_id        an existing scan (records of a resumed scan append after
 *                  its stored ones)
 *   group_records  1 .. 1048576
 *   group_ms       1 .. 600000
 *   out            set to the writer (NULL on failure); end it with
 *                  store_writer_finish
 * Errors: the store is open read-only, a group out of range, no such scan,
 * a read error, out of memory, no thread. */
int store_writer_start(struct store *store, uint32_t scan_id, unsigned group_records,
                       unsigned group_ms, struct store_writer **out, char *err);
/* Queues a record; takes ownership of r's contents (r is reset). Blocks when
 * the queue is full. Thread-safe: the hashing and encoding run in the
 * caller's thread, so several producers share that work. Every chain entry
 * needs its DER (hashed here; a caller's sha256 is overwritten). A later
 * record for the same (address, port) of the scan replaces the earlier one.
 * Returning 0 means queued, not yet durable (see store_writer_checkpoint).
 * Errors: a chain entry without DER, chain_length over PROBE_CHAIN_MAX, a
 * body_length without a body, out of memory, the writer has failed (its
 * message) or is finishing. On failure r stays the caller's to free. */
int store_writer_put(struct store_writer *w, struct probe_result *r, char *err);
/* Commits what is queued together with a new scan JSON (checkpoint),
 * atomically, and waits for that commit: on return every record put before
 * is durable, and so is scan_json. Thread-safe.
 * Errors: scan_json is not a JSON object, out of memory, the writer has
 * failed (its message) or is finishing. */
int store_writer_checkpoint(struct store_writer *w, const char *scan_json, char *err);
/* Flushes, commits, joins the thread, frees w (in every case; NULL is
 * allowed and returns 0). No put may run concurrently or follow.
 * Errors: the writer failed: its message, with the number of queued
 * records not stored. */
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
 * port) order, or with STORE_STORED_ORDER in the order stored, in one read
 * transaction (a consistent snapshot, also while a writer writes).
 *   flags  enum store_read_flags
 *   fn     gets each record, valid only during the call; returns 0 to go
 *          on, nonzero to stop (then this returns 0)
 *   stats  if not NULL, set to the records handed to fn and the corrupt
 *          ones skipped (a damaged record is skipped, not an error)
 * Errors: a read error, out of memory. */
int store_hosts_foreach(struct store *store, uint32_t scan_id, unsigned flags,
                        int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                        void *ctx, struct store_read_stats *stats, char *err);
/* One host: the record of (addr, port) in scan scan_id.
 *   flags  enum store_read_flags (STORE_WITH_CERTS: with the DER)
 *   out    initialised here; when found, the record (free it with
 *          probe_result_free; nothing to free otherwise)
 *   found  set to whether the scan has a record for (addr, port)
 * Errors: a read error; the record is damaged (it does not decode, a
 * certificate is missing or has the wrong length, the index names a
 * missing record); out of memory. */
int store_host_get(struct store *store, uint32_t scan_id, const struct net_addr *addr, uint16_t port,
                   unsigned flags, struct probe_result *out, bool *found, char *err);
/* One stored certificate by its SHA-256.
 *   der, length  when found, the DER (malloc'ed: free it) and its size
 *   found        set to whether certs has it
 * Errors: a read error, a frame that does not decompress (its dictionary
 * missing, damage), out of memory. */
int store_cert_get(struct store *store, const uint8_t sha256[32], uint8_t **der,
                   size_t *length, bool *found, char *err);

/* ---- added with the implementation (storage/, issue 4) ---- */

/* Records the writer has committed so far (durable). Thread-safe. Cannot
 * fail. */
uint64_t store_writer_committed(struct store_writer *w);

/* Every host of one address (port 0 = every port) in scan_id (0 = every
 * scan), in (scan, port) order; same contract and errors as
 * store_hosts_foreach (flags STORE_STORED_ORDER does not apply). */
int store_hosts_foreach_addr(struct store *store, uint32_t scan_id, const struct net_addr *addr,
                             uint16_t port,
                             unsigned flags,
                             int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                             void *ctx, struct store_read_stats *stats, char *err);
/* Number of host records of one scan (0 for a scan without any, or none).
 * Errors: a read error. */
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
/* Counts the stored certificates and dictionaries.
 * Errors: a read error, a damaged meta cert_dict. */
int store_cert_stats(struct store *store, struct store_cert_stats *out, char *err);

/* LMDB does not checksum its pages: reading a structurally damaged file it
 * fails an internal assertion and aborts the process. A program may set a
 * handler that gets a clear message first (and typically exits); if it
 * returns, the process aborts. Process-wide. */
void store_set_fatal_handler(void (*handler)(const char *message));

/* Number of stored certificates at which a writer trains the first
 * dictionary (default 2000). For tests and benchmarks; set it before
 * starting a writer. Cannot fail. */
void store_set_dict_training(struct store *store, unsigned at_certs);

/* Bytes of index entries a writer may hold in memory when it repacks an
 * index as it finishes (default 256 MiB: 14 million hosts' addrs entries);
 * a larger index is repacked through a scratch table instead (flat memory,
 * two more copies' pages on the free list). For tests and benchmarks; set
 * it before finishing a writer. Cannot fail. */
void store_set_pack_memory(struct store *store, uint64_t bytes);

struct store_check_stats {
    uint64_t scans, hosts, certs, dicts;
    uint64_t problems;
};
/* Verifies the whole store: every scan JSON parses, every host record
 * decodes and its certificates resolve, every certificate frame
 * decompresses to DER with its key as SHA-256, every dictionary loads.
 *   problem  called with each problem's text (may be NULL)
 *   stats    set to what was walked and the number of problems
 * Returns 0 if the walk completed: problems found are not an error (stats
 * says how many). Errors: a read error that stops the walk, out of memory. */
int store_check(struct store *store, void (*problem)(void *ctx, const char *text), void *ctx,
                struct store_check_stats *stats, char *err);

/* Retrains the certificate dictionary on the stored certificates and
 * recompresses every certificate with it (store opened read-write). Each
 * step commits a consistent store: killed at any point, the store stays
 * valid and a rerun finishes the job. Fewer than 16 certificates: nothing
 * to do (0, *after = the current statistics).
 *   after  set to the certificate statistics at the end
 * Errors: the store is open read-only, training fails, a read or write
 * error, out of memory. */
int store_compact(struct store *store, struct store_cert_stats *after, char *err);

/* One table's room on disk. Fill is the bytes its entries take on leaf and
 * overflow pages (LMDB's node headers and slots included) over the room
 * those pages have (page size less the 16-byte page header); branch pages
 * are not counted in it. */
struct store_db_usage {
    const char *name;        /* "hosts", "certs", ... (static) */
    uint64_t entries;
    uint64_t branch_pages, leaf_pages, overflow_pages;
    uint64_t bytes;          /* (branch + leaf + overflow pages) x page size */
    uint64_t data_bytes;     /* keys + values */
    double fill;             /* 0..1 */
};
struct store_usage {
    struct store_db_usage tables[8];
    size_t table_count;
    uint64_t page_size;
    uint64_t file_bytes;     /* the file's size */
    uint64_t file_pages;     /* pages up to the last one LMDB used */
    uint64_t free_pages;     /* on LMDB's free list (reused by later writes) */
    uint64_t pages_in_use;   /* file_pages - free_pages */
    struct store_cert_stats certs;   /* raw DER and frame bytes, dictionaries */
};
/* Measures every table (walks them all) and the file.
 * Errors: a read error. */
int store_usage(struct store *store, struct store_usage *usage, char *err);

/* Rewrites the file to its minimum: LMDB's compacting copy (no free pages),
 * renamed over the file. Not done, and *shrunk left false, while another
 * process has the store open (it maps the file) or wrote during the copy.
 * After a shrink the store only may be closed (it still maps the replaced
 * file): reopen it to go on. The rename needs write permission on the
 * store's directory, unless store_keep_rewrite_rights prepared it.
 * Errors: the store is open read-only, the copy cannot be written or
 * renamed (the store is then unchanged). */
int store_shrink_file(struct store *store, bool *shrunk, char *err);

/* For a process about to give up the right to create and rename files in
 * the store's directory (a root scan switching to an unprivileged user):
 * creates the compacted copy's file beside the store now (owned and moded
 * as the store) and starts a helper process that keeps only the right to
 * rename it over the store, once, when store_shrink_file asks; the helper
 * parses nothing and ends with store_close. Call after store_open
 * (read-write) and before dropping privileges or starting threads.
 * Errors: the store is read-only; the file cannot be created; socketpair
 * or fork fails (nothing is left behind). */
int store_keep_rewrite_rights(struct store *store, char *err);

/* What a writer calls when its scan (or merge) ends: if the file is more
 * than STORE_FILE_SLACK times its pages in use (free pages left by the
 * scan: the certificates stored before the first dictionary, pages copied
 * by its commits), store_shrink_file (then the store only may be closed);
 * else nothing. Without write permission on the store's directory (a scan
 * running as another user than the directory's owner), -1 with the reason:
 * the store is intact, and `kubesurvey compact` shrinks it later. */
#define STORE_FILE_SLACK 1.25
int store_finish_file(struct store *store, bool *shrunk, char *err);

#endif
