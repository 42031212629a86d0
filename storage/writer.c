/*
 * writer.c - the store writer: producers queue probe results, one thread
 * owns every write transaction of the scan and commits them in groups (N
 * records or T milliseconds after the first queued one). A commit that hits
 * MDB_MAP_FULL grows the map and retries the same group; any other failure
 * (disk full, I/O error) stops the writer, and every later call reports it.
 * Records are durable once their group's mdb_txn_commit returned (LMDB
 * fsyncs data and meta page before returning; no MDB_NOSYNC).
 *
 * Why hosts are keyed by arrival (scan id, sequence number) and not by
 * address: records arrive in scan order, a random permutation of addresses.
 * Inserted by address, every group copies and rewrites most leaf pages of
 * the scan's B-tree (LMDB is copy-on-write), so the cost per record grows
 * with the size of the scan (store_bench layout, a million 600-byte records:
 * 92k records/s, against 657k appended). Appended by sequence number, each
 * page is written once; only the small addrs index (18 bytes a host) takes
 * the random inserts. Producers encode
 * their own records, so the writer thread only puts and commits.
 */
#include "lib/buf.h"
#include "storage/internal.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the writer ---- */

/* A certificate the store may still lack, compressed by the producer with
 * the dictionary current when it was queued. */
struct queued_cert {
    uint8_t sha256[32];
    uint8_t *der;             /* owned: the writer recompresses if the dictionary changed */
    size_t length;
    uint8_t *frame;           /* owned; NULL if the producer could not compress */
    size_t frame_length;
    uint32_t dict_id;         /* dictionary of frame, 0 = none */
};

/* A record as queued: encoded by its producer, which also hashed the
 * certificates and kept only those the store may still lack. */
struct queued {
    uint8_t *record;          /* encoded host record; also holds certs[] */
    size_t record_length;
    struct net_addr addr;
    uint16_t port;
    uint16_t cert_count;
    struct queued_cert *certs;   /* inside the record's allocation */
};

struct batch_order {
    const struct queued *q;
    size_t index;      /* position in the batch: later puts win */
};


struct store_writer {
    struct store *store;
    uint32_t scan_id;
    unsigned group_records, group_ms;
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t lock;          /* guards everything down to `committed` */
    pthread_cond_t wake;           /* to the writer thread: work or finish */
    pthread_cond_t progress;       /* to producers: space, checkpoint done, failure */
    struct queued *queue;          /* ring of capacity records */
    size_t capacity, head, count;
    struct timespec first_queued;  /* when the oldest queued record arrived */
    char *checkpoint_json;         /* pending checkpoint, NULL if none */
    uint64_t checkpoint_asked, checkpoint_done;
    bool finishing, failed;
    char error[KS_ERRLEN];
    uint64_t committed;
    struct hashmap known;          /* certificates committed (writer adds under lock) */
    /* Producers compress new certificates with cdict (the writer thread
     * replaces it under the lock and frees old ones only at the end). */
    ZSTD_CDict *cdict;
    uint32_t cdict_id;
    ZSTD_CDict **retired;
    size_t retired_count, retired_capacity;
    ZSTD_CCtx **idle_cctx;         /* compression contexts producers share */
    size_t idle_count, idle_capacity;

    /* used by the writer thread only */
    struct queued *batch;
    struct batch_order *order;     /* batch indexes in key order */
    uint64_t *seqs;                /* sequence number each batch record is put at */
    uint64_t next_seq;             /* first unused sequence number of the scan */
    struct hashmap pending;        /* certificates written in the open txn */
    struct buf frame;
    ZSTD_CCtx *cctx;               /* for frames of an outdated dictionary */
    uint64_t cert_count;
    bool training_tried;
};

static void deadline_after(struct timespec *t, const struct timespec *from, unsigned ms)
{
    *t = *from;
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/* Stores c unless certs has it (map_full: see internal.h). */
static int store_cert(struct store_writer *w, MDB_txn *txn, const struct queued_cert *c,
                      bool *map_full, char *err)
{
    if (hashmap_get(&w->known, c->sha256) || hashmap_get(&w->pending, c->sha256))
        return 0;
    MDB_val value;
    bool found;
    if (cert_find(w->store, txn, c->sha256, &value, &found, err))
        return -1;
    if (found) {
        hashmap_put(&w->pending, c->sha256, NULL);   /* a cache: failure is harmless */
        return 0;
    }
    if (c->frame && c->dict_id == w->cdict_id) {
        value = (MDB_val){c->frame_length, c->frame};
    } else {   /* the dictionary changed since, or the producer could not compress */
        if (cert_compress(w->cctx, w->cdict, c->der, c->length, &w->frame, err))
            return -1;
        value = (MDB_val){w->frame.length, w->frame.data};
    }
    if (cert_append(w->store, txn, c->sha256, &value, map_full, err))
        return -1;
    hashmap_put(&w->pending, c->sha256, NULL);
    return 0;
}

/* Follows a dictionary change (first training, or compact in another
 * process) so new frames always name a dictionary that is in dicts. */
static int refresh_dict(struct store_writer *w, MDB_txn *txn, char *err)
{
    uint32_t id;
    if (cert_current_dict(w->store, txn, &id, err))
        return -1;
    if (id == w->cdict_id)
        return 0;
    ZSTD_CDict *cdict = NULL;
    if (id && cert_load_cdict(w->store, txn, id, &cdict, err))
        return -1;
    if (BUF_GROW(w->retired, w->retired_capacity, w->retired_count + 1, 4)) {
        ZSTD_freeCDict(cdict);
        snprintf(err, KS_ERRLEN, "store writer: out of memory");
        return -1;
    }
    pthread_mutex_lock(&w->lock);   /* a producer may be compressing with the old one */
    w->retired[w->retired_count++] = w->cdict;
    w->cdict = cdict;
    w->cdict_id = id;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static int batch_order_cmp(const void *a, const void *b)
{
    const struct batch_order *x = a, *y = b;
    int by_addr = net_addr_cmp(&x->q->addr, &y->q->addr);
    if (by_addr)
        return by_addr;
    if (x->q->port != y->q->port)
        return x->q->port < y->q->port ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Index inserts in key order (addrs.c: IPv4 first, then by address and
 * port) walk neighbouring B-tree pages. */
static void sort_batch(struct store_writer *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w->order[i] = (struct batch_order){&w->batch[i], i};
    qsort(w->order, n, sizeof(*w->order), batch_order_cmp);
}

static void queued_free(struct queued *q)
{
    for (size_t c = 0; c < q->cert_count; c++) {
        free(q->certs[c].der);
        free(q->certs[c].frame);
    }
    free(q->record);
}

/* Gives every batch record its sequence number: a new host gets the next
 * one in arrival order, a host the scan already has (a resumed scan probing
 * it again, or twice in one batch) keeps its own, so the later put wins.
 * Writes the addrs entries (map_full: see internal.h). */
static int index_batch(struct store_writer *w, MDB_txn *txn, size_t n, bool *map_full, char *err)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = w->order[k].index;
        uint8_t keybuf[STORE_ADDR_KEY_MAX], seqbuf[8];
        size_t key_length =
            store_addr_key(w->store, keybuf, w->scan_id, &w->batch[i].addr, w->batch[i].port);
        be64_put(seqbuf, w->next_seq + i);
        MDB_val key = {key_length, keybuf}, value = {8, seqbuf};
        int rc = mdb_put(txn, w->store->addrs, &key, &value, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) {
            if (value.mv_size != 8) {
                snprintf(err, KS_ERRLEN, "%s: corrupt store: an address index entry of scan %u "
                         "holds %zu bytes, not a sequence number (kubesurvey check lists the "
                         "damage)", w->store->path, w->scan_id, value.mv_size);
                return -1;
            }
            w->seqs[i] = be64_get(value.mv_data);
        } else if (rc) {
            return store_fail(w->store, rc, "index the hosts", map_full, err);
        } else {
            w->seqs[i] = w->next_seq + i;
        }
    }
    return 0;
}

/* The first sequence number after the scan's last stored host (1 if none):
 * a resumed scan appends after what it already has. */
static int scan_next_seq(struct store *s, MDB_txn *txn, uint32_t scan_id, uint64_t *next,
                         char *err)
{
    MDB_cursor *cursor;
    *next = 1;
    int rc = mdb_cursor_open(txn, s->hosts, &cursor);
    if (rc)
        return store_fail(s, rc, "find the scan's last host", NULL, err);
    uint8_t keybuf[STORE_HOST_KEY_LEN];
    MDB_val key = {STORE_HOST_KEY_LEN, keybuf}, value;
    store_host_key(keybuf, scan_id + 1, 0);
    rc = scan_id == UINT32_MAX ? MDB_NOTFOUND : mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cursor, &key, &value, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    if (rc == 0 && key.mv_size == STORE_HOST_KEY_LEN && be32_get(key.mv_data) == scan_id)
        *next = be64_get((const uint8_t *)key.mv_data + 4) + 1;
    mdb_cursor_close(cursor);
    if (rc && rc != MDB_NOTFOUND)
        return store_fail(s, rc, "find the scan's last host", NULL, err);
    return 0;
}

/* MDB_APPEND (no page splits in the middle, full pages) is allowed when the
 * scan's new keys sort after every key in hosts: true unless an older scan
 * is resumed while a newer one exists. */
static int can_append(struct store_writer *w, MDB_txn *txn, bool *append, char *err)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    uint8_t first[STORE_HOST_KEY_LEN];
    store_host_key(first, w->scan_id, w->next_seq);
    int rc = mdb_cursor_open(txn, w->store->hosts, &cursor);
    if (rc)
        return store_fail(w->store, rc, "read the hosts", NULL, err);
    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    mdb_cursor_close(cursor);
    if (rc == MDB_NOTFOUND) {
        *append = true;
        return 0;
    }
    if (rc)
        return store_fail(w->store, rc, "read the hosts", NULL, err);
    *append = key.mv_size == STORE_HOST_KEY_LEN && memcmp(key.mv_data, first, sizeof(first)) < 0;
    return 0;
}

/* Writes the batch's records to hosts (map_full: see internal.h). */
static int put_hosts(struct store_writer *w, MDB_txn *txn, size_t n, bool *map_full, char *err)
{
    bool append = false;
    if (can_append(w, txn, &append, err))
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t keybuf[STORE_HOST_KEY_LEN];
        store_host_key(keybuf, w->scan_id, w->seqs[i]);
        MDB_val key = {STORE_HOST_KEY_LEN, keybuf};
        MDB_val value = {w->batch[i].record_length, w->batch[i].record};
        bool fresh = w->seqs[i] == w->next_seq + i;
        int rc = mdb_put(txn, w->store->hosts, &key, &value, append && fresh ? MDB_APPEND : 0);
        if (rc)
            return store_fail(w->store, rc, "store a host record", map_full, err);
    }
    return 0;
}

/* One commit group: the batch's n records, their new certificates and the
 * checkpoint JSON if not NULL, in txn (map_full: see internal.h). */
static int write_group(struct store_writer *w, MDB_txn *txn, size_t n, const char *checkpoint,
                       bool *map_full, char *err)
{
    struct store *s = w->store;
    int rc;
    uint64_t stored_next;
    if (refresh_dict(w, txn, err))
        return -1;
    /* Another writer of the same scan (a second process resuming it) may
     * have appended meanwhile: never reuse its sequence numbers. */
    if (scan_next_seq(s, txn, w->scan_id, &stored_next, err))
        return -1;
    if (stored_next > w->next_seq)
        w->next_seq = stored_next;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < w->batch[i].cert_count; c++)
            if (store_cert(w, txn, &w->batch[i].certs[c], map_full, err))
                return -1;
    if (index_batch(w, txn, n, map_full, err) || put_hosts(w, txn, n, map_full, err))
        return -1;
    if (checkpoint) {
        uint8_t keybuf[4];
        be32_put(keybuf, w->scan_id);
        MDB_val key = {4, keybuf}, value = {strlen(checkpoint), (void *)checkpoint};
        if ((rc = mdb_put(txn, s->scans, &key, &value, 0)))
            return store_fail(s, rc, "write the checkpoint", map_full, err);
    }
    MDB_stat stat;
    if ((rc = mdb_stat(txn, s->certs, &stat)))
        return store_fail(s, rc, "count the certificates", NULL, err);
    w->cert_count = stat.ms_entries;
    return 0;
}

/* Producers read `known` under the lock to drop certificates early. */
static void remember_certs(struct store_writer *w)
{
    if (!w->pending.count)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->pending.capacity; i++) {
        const void *sha256 = hashmap_at(&w->pending, i);
        if (sha256)
            hashmap_put(&w->known, sha256, NULL);   /* a cache: failure is harmless */
    }
    pthread_mutex_unlock(&w->lock);
}

struct group {
    struct store_writer *w;
    size_t n;
    const char *checkpoint;
};

/* One attempt at a commit group (store_write_txn reruns it after growing
 * the map). */
static int group_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    (void)s;
    struct group *g = ctx;
    hashmap_clear(&g->w->pending);
    return write_group(g->w, txn, g->n, g->checkpoint, map_full, err);
}

/* Commits the batch's first n records (and the checkpoint): a commit that
 * hits MDB_MAP_FULL grows the map and retries the same group. */
static int commit_group(struct store_writer *w, size_t n, const char *checkpoint, char *err)
{
    char what[64];
    snprintf(what, sizeof(what), "commit a group of %zu records", n);
    struct group g = {w, n, checkpoint};
    if (store_write_txn(w->store, group_txn, &g, what, err))
        return -1;
    w->next_seq += n;
    remember_certs(w);
    return 0;
}

/* Trains the first dictionary and recompresses with it the certificates
 * stored before it existed, in one transaction: from then on every frame
 * uses a dictionary, without waiting for a compact. */
static int train_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    uint32_t *id = ctx, current;
    if (cert_current_dict(s, txn, &current, err))
        return -1;
    if (current) {   /* someone else trained one meanwhile */
        *id = current;
        return 0;
    }
    if (cert_train_dict(s, txn, (size_t)16 << 20, id, map_full, err))
        return -1;
    return cert_rewrite_with_dict(s, txn, *id, map_full, err);
}

/* The first dictionary, once enough certificates are stored. Failure only
 * means certificates keep being stored without one. */
static void maybe_train(struct store_writer *w)
{
    if (w->cdict_id || w->training_tried || w->cert_count < w->store->dict_train_at)
        return;
    w->training_tried = true;
    uint32_t id;
    char err[KS_ERRLEN];
    store_write_txn(w->store, train_txn, &id, "train the certificate dictionary", err);
}

/* Waits (lock held) until a group is due; returns false when the writer
 * should stop. */
static bool wait_for_group(struct store_writer *w)
{
    for (;;) {
        if (w->count >= w->group_records || w->finishing ||
            w->checkpoint_asked > w->checkpoint_done)
            return w->count || w->checkpoint_asked > w->checkpoint_done || !w->finishing;
        if (w->count == 0) {
            pthread_cond_wait(&w->wake, &w->lock);
            continue;
        }
        struct timespec deadline;
        deadline_after(&deadline, &w->first_queued, w->group_ms);
        if (pthread_cond_timedwait(&w->wake, &w->lock, &deadline) == ETIMEDOUT)
            return true;
    }
}

static void *writer_main(void *arg)
{
    struct store_writer *w = arg;
    char err[KS_ERRLEN];
    pthread_mutex_lock(&w->lock);
    while (wait_for_group(w)) {
        char *checkpoint = w->checkpoint_json;
        uint64_t checkpoint_seq = w->checkpoint_asked;
        w->checkpoint_json = NULL;
        size_t n = checkpoint ? w->count : (w->count < w->group_records ? w->count : w->group_records);
        for (size_t i = 0; i < n; i++)
            w->batch[i] = w->queue[(w->head + i) % w->capacity];
        w->head = (w->head + n) % w->capacity;
        w->count -= n;
        if (w->count)
            clock_gettime(CLOCK_MONOTONIC, &w->first_queued);
        pthread_cond_broadcast(&w->progress);
        pthread_mutex_unlock(&w->lock);

        sort_batch(w, n);
        int failed = (n || checkpoint) ? commit_group(w, n, checkpoint, err) : 0;
        for (size_t i = 0; i < n; i++)
            queued_free(&w->batch[i]);
        free(checkpoint);
        if (!failed)
            maybe_train(w);

        pthread_mutex_lock(&w->lock);
        if (failed) {
            w->failed = true;
            memcpy(w->error, err, KS_ERRLEN);
        } else {
            w->committed += n;
            if (checkpoint)
                w->checkpoint_done = checkpoint_seq;
        }
        pthread_cond_broadcast(&w->progress);
        if (failed)
            break;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void writer_free(struct store_writer *w)
{
    for (size_t i = 0; i < w->count; i++)
        queued_free(&w->queue[(w->head + i) % w->capacity]);
    free(w->queue);
    free(w->batch);
    free(w->order);
    free(w->seqs);
    free(w->checkpoint_json);
    hashmap_free(&w->known);
    hashmap_free(&w->pending);
    buf_free(&w->frame);
    ZSTD_freeCCtx(w->cctx);
    ZSTD_freeCDict(w->cdict);
    for (size_t i = 0; i < w->retired_count; i++)
        ZSTD_freeCDict(w->retired[i]);
    free(w->retired);
    for (size_t i = 0; i < w->idle_count; i++)
        ZSTD_freeCCtx(w->idle_cctx[i]);
    free(w->idle_cctx);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->progress);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int store_writer_start(struct store *s, uint32_t scan_id, unsigned group_records,
                       unsigned group_ms, struct store_writer **out, char *err)
{
    *out = NULL;
    if (s->mode != STORE_READ_WRITE) {
        snprintf(err, KS_ERRLEN, "%s: cannot write: the store is open read-only", s->path);
        return -1;
    }
    if (group_records == 0 || group_records > (1u << 20) || group_ms == 0 || group_ms > 600000) {
        snprintf(err, KS_ERRLEN, "store writer: group of %u records / %u ms is out of range "
                 "(1..1048576 records, 1..600000 ms)", group_records, group_ms);
        return -1;
    }
    struct store_scan scan;
    uint64_t next_seq;
    if (store_scan_get(s, scan_id, &scan, err))
        return -1;
    free(scan.json);
    MDB_txn *txn;
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    int failed = scan_next_seq(s, txn, scan_id, &next_seq, err);
    store_txn_abort(s, txn);
    if (failed)
        return -1;

    struct store_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    w->store = s;
    w->scan_id = scan_id;
    w->group_records = group_records;
    w->group_ms = group_ms;
    w->next_seq = next_seq;
    w->capacity = group_records < 512 ? 1024 : 2 * (size_t)group_records;
    cert_set_init(&w->known);
    cert_set_init(&w->pending);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&w->progress, NULL);
    w->queue = calloc(w->capacity, sizeof(*w->queue));
    w->batch = calloc(w->capacity, sizeof(*w->batch));
    w->order = calloc(w->capacity, sizeof(*w->order));
    w->seqs = calloc(w->capacity, sizeof(*w->seqs));
    w->cctx = ZSTD_createCCtx();
    if (!w->queue || !w->batch || !w->order || !w->seqs || !w->cctx) {
        snprintf(err, KS_ERRLEN, "out of memory");
        writer_free(w);
        return -1;
    }
    if (pthread_create(&w->thread, NULL, writer_main, w)) {
        snprintf(err, KS_ERRLEN, "store writer: cannot start a thread");
        writer_free(w);
        return -1;
    }
    w->thread_started = true;
    pthread_setname_np(w->thread, "ks-store-writer");
    *out = w;
    return 0;
}

static int validate_and_hash(struct probe_result *r, char *err)
{
    if (r->chain_length > PROBE_CHAIN_MAX) {
        snprintf(err, KS_ERRLEN, "store writer: chain_length %zu exceeds %d", r->chain_length,
                 PROBE_CHAIN_MAX);
        return -1;
    }
    for (size_t i = 0; i < r->chain_length; i++) {
        struct cert_der *c = &r->chain[i];
        if (!c->der || c->length == 0 || c->length > STORE_CERT_MAX) {
            snprintf(err, KS_ERRLEN, "store writer: chain[%zu] needs its DER (1..%u bytes, has "
                     "%zu)", i, STORE_CERT_MAX, c->der ? c->length : 0);
            return -1;
        }
        /* Hashed here, in the producer's thread, and never trusted from
         * the caller: the hash is the certificate's identity in the store. */
        SHA256(c->der, c->length, c->sha256);
    }
    if (r->body_length && !r->body) {
        snprintf(err, KS_ERRLEN, "store writer: body_length %zu without a body", r->body_length);
        return -1;
    }
    return 0;
}

/* Encodes r into q; the certificate array follows the record in the same
 * allocation. r is not changed: on failure it is still the caller's. */
static int queued_make(struct queued *q, const struct probe_result *r, char *err)
{
    struct buf b = {0};
    if (record_encode(&b, r, err)) {
        buf_free(&b);
        return -1;
    }
    size_t align = _Alignof(struct queued_cert);
    size_t at = (b.length + align - 1) & ~(align - 1);
    if (buf_reserve(&b, at - b.length + r->chain_length * sizeof(struct queued_cert))) {
        buf_free(&b);
        snprintf(err, KS_ERRLEN, "store writer: out of memory");
        return -1;
    }
    *q = (struct queued){b.data, b.length, r->addr, r->port, (uint16_t)r->chain_length,
                         (struct queued_cert *)(void *)(b.data + at)};
    for (size_t c = 0; c < r->chain_length; c++) {
        q->certs[c] = (struct queued_cert){.der = r->chain[c].der, .length = r->chain[c].length};
        memcpy(q->certs[c].sha256, r->chain[c].sha256, 32);
    }
    return 0;
}

/* Frees what q allocated, not the DER (still the caller's). */
static void queued_abandon(struct queued *q)
{
    for (size_t c = 0; c < q->cert_count; c++)
        free(q->certs[c].frame);
    free(q->record);
}

_Static_assert(PROBE_CHAIN_MAX <= 32, "queued_drop_known returns a 32-bit mask");

/* Keeps in q only the certificates the store is not known to have
 * (lock held); returns a bit mask of the chain entries q took. */
static unsigned queued_drop_known(struct queued *q, const struct hashmap *known)
{
    unsigned taken = 0;
    size_t kept = 0;
    for (size_t c = 0; c < q->cert_count; c++) {
        if (hashmap_get(known, q->certs[c].sha256))
            continue;
        q->certs[kept++] = q->certs[c];
        taken |= 1u << c;
    }
    q->cert_count = (uint16_t)kept;
    return taken;
}

/* Compresses q's certificates in the producer's thread, so the work
 * spreads over the probe workers. Best effort: a certificate left without
 * a frame is compressed by the writer. */
static void queued_compress(struct queued *q, ZSTD_CCtx **cctx, ZSTD_CDict *cdict,
                            uint32_t dict_id)
{
    if (!*cctx && !(*cctx = ZSTD_createCCtx()))
        return;
    for (size_t c = 0; c < q->cert_count; c++) {
        struct queued_cert *qc = &q->certs[c];
        struct buf frame = {0};
        char ignored[KS_ERRLEN];
        if (cert_compress(*cctx, cdict, qc->der, qc->length, &frame, ignored)) {
            buf_free(&frame);
            continue;
        }
        qc->frame = frame.data;
        qc->frame_length = frame.length;
        qc->dict_id = dict_id;
    }
}

/* Returns a compression context to the shared pool (lock held). */
static void cctx_release(struct store_writer *w, ZSTD_CCtx *cctx)
{
    if (!cctx)
        return;
    if (BUF_GROW(w->idle_cctx, w->idle_capacity, w->idle_count + 1, 4)) {
        ZSTD_freeCCtx(cctx);
        return;
    }
    w->idle_cctx[w->idle_count++] = cctx;
}

/* Waits (lock held) for queue space; false, with err set, if the writer
 * failed or is finishing. */
static bool wait_for_space(struct store_writer *w, char *err)
{
    while (w->count == w->capacity && !w->failed)
        pthread_cond_wait(&w->progress, &w->lock);
    if (!w->failed && !w->finishing)
        return true;
    snprintf(err, KS_ERRLEN, "%s", w->failed ? w->error : "store writer: already finishing");
    return false;
}

int store_writer_put(struct store_writer *w, struct probe_result *r, char *err)
{
    struct queued q;
    if (validate_and_hash(r, err) || queued_make(&q, r, err))
        return -1;
    /* Under the lock: drop certificates the store has. If some are new,
     * compress them outside it, with the dictionary and a compression
     * context taken here, then lock again to queue. */
    pthread_mutex_lock(&w->lock);
    unsigned taken = queued_drop_known(&q, &w->known);
    if (q.cert_count) {
        ZSTD_CDict *cdict = w->cdict;
        uint32_t dict_id = w->cdict_id;
        ZSTD_CCtx *cctx = w->idle_count ? w->idle_cctx[--w->idle_count] : NULL;
        pthread_mutex_unlock(&w->lock);
        queued_compress(&q, &cctx, cdict, dict_id);
        pthread_mutex_lock(&w->lock);
        cctx_release(w, cctx);
    }
    if (!wait_for_space(w, err)) {
        pthread_mutex_unlock(&w->lock);
        queued_abandon(&q);
        return -1;
    }
    w->queue[(w->head + w->count) % w->capacity] = q;
    if (w->count++ == 0)
        clock_gettime(CLOCK_MONOTONIC, &w->first_queued);
    if (w->count == 1 || w->count >= w->group_records)
        pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    /* The queue owns the DER it took; the rest is freed here, in the
     * producer's thread. */
    for (size_t c = 0; c < r->chain_length; c++)
        if (taken & (1u << c))
            r->chain[c].der = NULL;
    probe_result_free(r);
    probe_result_init(r);
    return 0;
}

int store_writer_checkpoint(struct store_writer *w, const char *scan_json, char *err)
{
    if (store_json_check_object(scan_json, "checkpoint scan JSON", err))
        return -1;
    char *copy = strdup(scan_json);
    if (!copy) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    if (w->failed || w->finishing) {
        snprintf(err, KS_ERRLEN, "%s", w->failed ? w->error : "store writer: already finishing");
        pthread_mutex_unlock(&w->lock);
        free(copy);
        return -1;
    }
    free(w->checkpoint_json);   /* a newer checkpoint supersedes a pending one */
    w->checkpoint_json = copy;
    uint64_t mine = ++w->checkpoint_asked;
    pthread_cond_signal(&w->wake);
    while (w->checkpoint_done < mine && !w->failed)
        pthread_cond_wait(&w->progress, &w->lock);
    int result = 0;
    if (w->checkpoint_done < mine) {
        snprintf(err, KS_ERRLEN, "%s", w->error);
        result = -1;
    }
    pthread_mutex_unlock(&w->lock);
    return result;
}

uint64_t store_writer_committed(struct store_writer *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t n = w->committed;
    pthread_mutex_unlock(&w->lock);
    return n;
}

int store_writer_finish(struct store_writer *w, char *err)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    w->finishing = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    int result = 0;
    if (w->failed) {
        snprintf(err, KS_ERRLEN, "%s (%zu queued records not stored)", w->error, w->count);
        result = -1;
    } else {
        /* The indexes took random inserts all along: leave them full. */
        result = store_write_txn(w->store, store_pack_txn, NULL, "pack the indexes", err);
    }
    writer_free(w);
    return result;
}
