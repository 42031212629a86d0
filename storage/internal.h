/*
 * internal.h - shared between the files of storage/ only. Not part of the
 * module's interface (that is storage.h); nothing outside storage/ includes it.
 *
 * Conventions: those of storage.h. Every function that returns int returns
 * 0 on success or -1 with a message in err (KS_ERRLEN bytes); a lookup that
 * may find nothing says so in a `bool *found` (not an error). No function
 * returns an LMDB code: LMDB's codes stay inside the function that called
 * LMDB and become a message (store_rc_error).
 *
 * Map growth: the one failure that a retry cures is MDB_MAP_FULL (the
 * transaction needs more pages than the map has). A function that writes in
 * a write transaction takes a `bool *map_full` before err: when it fails
 * (-1) because LMDB said MDB_MAP_FULL it also sets *map_full, and the code
 * that owns the transaction (store_write_txn, the writer's commit) aborts
 * it, grows the map and runs it again. Such functions never clear
 * *map_full; the transaction's owner sets it false before each attempt.
 */
#ifndef KS_STORAGE_INTERNAL_H
#define KS_STORAGE_INTERNAL_H

#include "lib/bytes.h"
#include "lib/hashmap.h"
#include "storage/storage.h"

#include <lmdb.h>
#include <pthread.h>
#include <zstd.h>

#define STORE_SCHEMA_VERSION 4u
#define STORE_SCHEMA_CERTS_BY_HASH 2u  /* older schema: certs keyed by SHA-256, read-only here */
#define STORE_SCHEMA_IPV4_KEYS 3u      /* older schema: addrs keys without a family, read-only here */
#define STORE_FORMAT_NAME "kubesurvey-store"
#define STORE_RECORD_VERSION 5u        /* first byte of every hosts value */
#define STORE_HOST_KEY_LEN 12          /* hosts: scan id (4) + sequence number (8), big-endian */
/* addrs: scan id (4), family (1: 4 or 6), address (4 or 16), port (2),
 * big-endian; so a scan's IPv4 hosts come before its IPv6 ones, each in
 * address order. Schema 3 and older: scan id, IPv4 address, port. */
#define STORE_ADDR_KEY_IPV4_LEN 11
#define STORE_ADDR_KEY_MAX 23
#define STORE_ADDR_KEY_V3_LEN 10
#define STORE_CERT_KEY_LEN 8          /* certs: arrival number, uint64 big-endian */
/* cert_index keys: the first 16 bytes of the SHA-256. A chance collision
 * needs about 2^64 certificates; a forged one about 2^64 hash evaluations,
 * and readers compare the whole hash of what they decode (cert_get_txn),
 * so it would be reported, not silently served. */
#define STORE_CERT_INDEX_KEY_LEN 16
#define STORE_CERT_LEVEL 9            /* zstd level for certificates: as small as 19 on them, 10x faster */
#define STORE_CERT_MAX (1u << 20)      /* largest DER we accept or decompress */
#define STORE_DICT_CAPACITY (64u * 1024u)
#define STORE_DICT_TRAIN_AT 2000u      /* certificates stored before the first dictionary */
#define STORE_DICT_ID_BASE 32768u      /* zstd reserves 0..32767 for a public registry */
#define STORE_INITIAL_MAP (64u << 20)

struct store_ddict {
    uint32_t id;
    ZSTD_DDict *ddict;
};

struct store {
    MDB_env *env;
    MDB_dbi scans, hosts, addrs, certs, cert_index, dicts, meta;
    /* A schema 2 store (opened read-only): certs is keyed by SHA-256 and
     * there is no cert_index. */
    bool certs_by_hash;
    /* A schema 2 or 3 store (opened read-only): addrs keys hold an IPv4
     * address and no family byte. */
    bool ipv4_keys;
    /* For store_shrink_file, opened with the store (read-write), so that a
     * scan that switched to another user may still use them: PATH-lock
     * (see store_used_elsewhere) and the store's directory. -1 if not open. */
    int lock_probe_fd, dir_fd;
    /* rewrite.c (store_keep_rewrite_rights): the copy's file prepared
     * beside the store, and the helper that may rename it; -1, 0 if none. */
    int rewrite_fd, rewrite_sock;
    pid_t rewrite_pid;
    char *path;
    enum store_mode mode;
    unsigned dict_train_at;
    uint64_t pack_memory;              /* bytes pack.c may hold in memory; see store_set_pack_memory */
    /* Every transaction of this process holds resize_lock for reading;
     * mdb_env_set_mapsize needs it for writing (LMDB requires that no
     * transaction of the process is active while the map is resized). */
    pthread_rwlock_t resize_lock;
    pthread_mutex_t ddict_lock;        /* guards ddicts */
    struct store_ddict *ddicts;
    size_t ddict_count, ddict_capacity;
};

/* A growable byte buffer (grown by lib/buf.h's rule). */
struct buf {
    uint8_t *data;
    size_t length, capacity;
};
/* Makes room for extra more bytes after length: 0, or -1 when out of memory. */
int buf_reserve(struct buf *b, size_t extra);
void buf_free(struct buf *b);

/* Transactions: store_txn_begin takes resize_lock for reading; end every
 * transaction with store_txn_commit or store_txn_abort, which release it. */
int store_txn_begin(struct store *s, bool write, MDB_txn **txn, char *err);
/* Commits txn (released in every case). On failure err is "path: what:
 * reason" and *map_full (if map_full is not NULL) is set when the reason is
 * MDB_MAP_FULL. */
int store_txn_commit(struct store *s, MDB_txn *txn, const char *what, bool *map_full, char *err);
void store_txn_abort(struct store *s, MDB_txn *txn);
/* Grows the map (doubling, at most +4 GiB per step); called after
 * MDB_MAP_FULL, with no transaction of this thread open. */
int store_grow_map(struct store *s, char *err);
/* Formats an LMDB or errno code rc as the message "path: what: reason". */
void store_rc_error(const struct store *s, char *err, const char *what, int rc);
/* For an LMDB call that failed with rc: fills err as store_rc_error does,
 * sets *map_full (if map_full is not NULL) when rc is MDB_MAP_FULL, and
 * returns -1, so a caller writes `return store_fail(s, rc, what, map_full, err);`. */
int store_fail(const struct store *s, int rc, const char *what, bool *map_full, char *err);

/* The body of a write transaction: 0, or -1 with err and, when MDB_MAP_FULL
 * caused the failure, *map_full set. */
typedef int store_txn_fn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err);
/* Runs fn in a write transaction and commits it; when fn or the commit
 * fails with *map_full set, aborts, grows the map and runs fn again in a
 * new transaction (fn must be safe to rerun). A commit failure reads
 * "path: what: reason". -1 also for a store opened read-only. */
int store_write_txn(struct store *s, store_txn_fn *fn, void *ctx, const char *what, char *err);

/* 0 if json is a JSON object, else -1 naming what. */
int store_json_check_object(const char *json, const char *what, char *err);
void store_host_key(uint8_t key[STORE_HOST_KEY_LEN], uint32_t scan_id, uint64_t seq);
/* The addrs key of (scan, addr, port) in s's form, and its length (less 2:
 * the prefix of every port). 0 for an IPv6 address and a store of IPv4 keys
 * (it holds none). */
size_t store_addr_key(const struct store *s, uint8_t key[STORE_ADDR_KEY_MAX], uint32_t scan_id,
                      const struct net_addr *addr, uint16_t port);
/* Reads an addrs key of s: false if it is none (its length or family). */
bool store_addr_key_parse(const struct store *s, const MDB_val *key, uint32_t *scan_id,
                          struct net_addr *addr, uint16_t *port);
/* pack.c: copies every entry of from, in key order, into to (empty, or
 * holding only keys before from's first): MDB_APPEND fills each page before
 * the next. rekey, if not NULL, may replace each key first (keeping the
 * order); its nonzero return ends the copy and is returned. Else an LMDB
 * code. */
typedef int store_rekey_fn(void *ctx, MDB_val *key);
int store_copy_db(MDB_txn *txn, MDB_dbi from, MDB_dbi to, store_rekey_fn *rekey, void *ctx);
/* Schema 3 -> 4: the addrs keys gain their family byte, in txn (a
 * store_txn_fn; ctx unused). */
int addrs_upgrade_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err);

/* The writer's sets of certificates known to be stored: lib's hash map with
 * the 32-byte SHA-256 as key and no value, bounded at STORE_CERT_SET_MAX
 * entries. Only a cache: a miss costs an LMDB lookup, so a put that fails
 * (out of memory, or the set is full) is ignored. */
#define STORE_CERT_SET_MAX (1u << 20)
static inline void cert_set_init(struct hashmap *set)
{
    hashmap_init(set, 32, 0);
    set->max_count = STORE_CERT_SET_MAX;
}

/* record.c: the versioned host record (address and port included) */
int record_encode(struct buf *out, const struct probe_result *r, char *err);
/* Fills r (probe_result_init'ed by the caller) from a hosts value; chain
 * entries get sha256 and length, der stays NULL. -1 if it does not decode. */
int record_decode(const uint8_t *data, size_t length, struct probe_result *r, char *err);

/* certs.c: certs holds frames keyed by arrival number (appended, so its
 * pages are full); cert_index maps each SHA-256 to its arrival number. */
/* Finds a certificate's frame: *found says whether the store has it; the
 * frame points into txn's pages (valid until txn ends). */
int cert_find(struct store *s, MDB_txn *txn, const uint8_t sha256[32], MDB_val *frame,
              bool *found, char *err);
/* Stores a new certificate (the caller checked it is not stored): the frame
 * appended under the next arrival number, and its index entry (map_full:
 * see the top of this file). */
int cert_append(struct store *s, MDB_txn *txn, const uint8_t sha256[32], const MDB_val *frame,
                bool *map_full, char *err);
/* Upgrades the certificates of a schema 2 store (certs keyed by SHA-256)
 * to schema 3 in txn (a store_txn_fn; ctx unused). */
int cert_upgrade_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err);
/* Replaces the frame stored under arrival number seq (whose DER hashes to
 * sha256) by frame, appended under a new number; the index follows. */
int cert_replace(struct store *s, MDB_txn *txn, uint64_t seq, const uint8_t sha256[32],
                 const MDB_val *frame, bool *map_full, char *err);
/* Decompresses a certs frame into *der (malloc'ed, *length bytes); reads
 * dictionaries through txn. -1 if the frame does not decode. */
int cert_frame_decode(struct store *s, MDB_txn *txn, const uint8_t *frame, size_t frame_length,
                      ZSTD_DCtx *dctx, uint8_t **der, size_t *length, char *err);
/* Looks up one certificate in txn: *found says whether certs has it; if so
 * *der (malloc'ed) and *length hold its DER. -1 on a read error or a frame
 * that does not decode. */
int cert_get_txn(struct store *s, MDB_txn *txn, const uint8_t sha256[32], ZSTD_DCtx *dctx,
                 uint8_t **der, size_t *length, bool *found, char *err);
/* The id of the dictionary new certificates are compressed with (0: none). */
int cert_current_dict(struct store *s, MDB_txn *txn, uint32_t *id, char *err);
/* Loads dictionary id as a compression dictionary. */
int cert_load_cdict(struct store *s, MDB_txn *txn, uint32_t id, ZSTD_CDict **cdict, char *err);
/* Compresses der (with cdict if not NULL) into out. */
int cert_compress(ZSTD_CCtx *cctx, ZSTD_CDict *cdict, const uint8_t *der, size_t length,
                  struct buf *out, char *err);
/* Trains a dictionary on the stored certificates (at most max_bytes of
 * samples), stores it under a new id and makes it current. Writes in txn
 * (map_full: see the top of this file). */
int cert_train_dict(struct store *s, MDB_txn *txn, size_t max_bytes, uint32_t *new_id,
                    bool *map_full, char *err);
void cert_ddict_cache_free(struct store *s);
/* compact.c: recompresses (in txn) every certificate whose frame does not use
 * dictionary dict_id; frames that do not decode are left for check. Writes
 * in txn (map_full: see the top of this file). */
int cert_rewrite_with_dict(struct store *s, MDB_txn *txn, uint32_t dict_id, bool *map_full,
                           char *err);

/* pack.c: opens the descriptors store_shrink_file uses (dir_fd,
 * lock_probe_fd). */
int store_open_dir(struct store *s, char *err);
/* rewrite.c: the names, relative to dir_fd, of the compacted copy and of
 * the store. */
void store_copy_names(const struct store *s, char *tmp, char *name, size_t size);
/* rewrite.c: asks the helper to rename the prepared copy over the store;
 * 0 / -1 (the store unchanged). */
int store_rewrite_rename(struct store *s, char *err);
/* rewrite.c: closes the prepared copy and the helper (which then removes an
 * unused copy) and waits for it. */
void store_rewrite_end(struct store *s);
/* pack.c: rewrites, in txn, each index sub-database (addrs, cert_index)
 * whose pages are less than STORE_PACK_FILL full, in key order with
 * MDB_APPEND so every page is full (map_full: see the top of this file). */
#define STORE_PACK_FILL 0.90
#define STORE_PACK_MEMORY ((uint64_t)256 << 20)   /* default pack_memory */
int store_pack_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err);

#endif
