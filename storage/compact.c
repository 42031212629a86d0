/*
 * compact.c - recompressing every certificate with a freshly trained
 * dictionary (kubesurvey compact), in chunks, each commit leaving a valid
 * store; also used by the writer when it trains the first dictionary.
 */
#include "storage/internal.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMPACT_CHUNK 5000   /* certificates rewritten per transaction */

struct compact {
    uint32_t dict_id;
    ZSTD_CDict *cdict;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    uint64_t next_seq;        /* arrival number to look at next */
    bool done;
    uint64_t rewritten;
};

static int compact_train_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    return cert_train_dict(s, txn, (size_t)128 << 20, &((struct compact *)ctx)->dict_id, map_full,
                           err);
}

struct rewrite {
    uint64_t seq;
    uint8_t sha256[32];
    struct buf frame;
};

/* Rewrites (in txn) up to COMPACT_CHUNK certificates from next_seq on
 * whose frame does not use the new dictionary; sets done at the end
 * (map_full: see internal.h). A rewritten frame is appended under a new
 * arrival number (cert_replace), so the pages stay full; the walk meets it
 * again later and skips it, as it uses the dictionary. */
static int compact_chunk_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    struct compact *cp = ctx;
    MDB_cursor *cursor;
    uint8_t first[STORE_CERT_KEY_LEN];
    be64_put(first, cp->next_seq);
    MDB_val key = {STORE_CERT_KEY_LEN, first}, value;
    struct rewrite *todo = calloc(COMPACT_CHUNK, sizeof(*todo));
    size_t n = 0;
    if (!todo) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    int rc = mdb_cursor_open(txn, s->certs, &cursor);
    if (rc) {
        free(todo);
        return store_fail(s, rc, "read the certificates", NULL, err);
    }
    int result = 0;
    uint64_t last = cp->next_seq;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE); rc == 0 && n < COMPACT_CHUNK;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != STORE_CERT_KEY_LEN)
            continue;   /* check's business */
        last = be64_get(key.mv_data);
        if (ZSTD_getDictID_fromFrame(value.mv_data, value.mv_size) == cp->dict_id)
            continue;
        uint8_t *der;
        size_t length;
        char skip[KS_ERRLEN];
        if (cert_frame_decode(s, txn, value.mv_data, value.mv_size, cp->dctx, &der, &length, skip))
            continue;   /* left for check to report; compact does not destroy it */
        todo[n].seq = last;
        SHA256(der, length, todo[n].sha256);
        result = cert_compress(cp->cctx, cp->cdict, der, length, &todo[n].frame, err);
        free(der);
        if (result)
            break;
        n++;
    }
    bool exhausted = rc == MDB_NOTFOUND;
    mdb_cursor_close(cursor);
    if (result == 0 && rc && rc != MDB_NOTFOUND)
        result = store_fail(s, rc, "read the certificates", NULL, err);
    for (size_t i = 0; i < n && result == 0; i++) {
        MDB_val v = {todo[i].frame.length, todo[i].frame.data};
        result = cert_replace(s, txn, todo[i].seq, todo[i].sha256, &v, map_full, err);
    }
    if (result == 0)
        cp->next_seq = last + 1;
    if (exhausted)
        cp->done = true;
    cp->rewritten += n;
    for (size_t i = 0; i < COMPACT_CHUNK; i++)
        buf_free(&todo[i].frame);
    free(todo);
    return result;
}

/* Rewrites, in txn, every certificate whose frame does not use cp's
 * dictionary, from the first key (also after a retried attempt). */
static int rewrite_remaining(struct store *s, MDB_txn *txn, struct compact *cp, bool *map_full,
                             char *err)
{
    cp->next_seq = 0;
    cp->done = false;
    while (!cp->done)
        if (compact_chunk_txn(s, txn, cp, map_full, err))
            return -1;
    return 0;
}

static int compact_open(struct store *s, MDB_txn *txn, struct compact *cp, char *err)
{
    if (cert_load_cdict(s, txn, cp->dict_id, &cp->cdict, err))
        return -1;
    cp->cctx = ZSTD_createCCtx();
    cp->dctx = ZSTD_createDCtx();
    if (!cp->cctx || !cp->dctx) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    return 0;
}

static void compact_close(struct compact *cp)
{
    ZSTD_freeCDict(cp->cdict);
    ZSTD_freeCCtx(cp->cctx);
    ZSTD_freeDCtx(cp->dctx);
}

int cert_rewrite_with_dict(struct store *s, MDB_txn *txn, uint32_t dict_id, bool *map_full,
                           char *err)
{
    struct compact cp = {.dict_id = dict_id};
    int result = compact_open(s, txn, &cp, err) ? -1 : rewrite_remaining(s, txn, &cp, map_full, err);
    compact_close(&cp);
    return result;
}

/* The last transaction: rewrites whatever still uses another dictionary
 * (certificates a scan added meanwhile, chunks whose commit was retried),
 * then deletes the other dictionaries, which nothing references any more. */
static int compact_final_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    struct compact *cp = ctx;
    if (rewrite_remaining(s, txn, cp, map_full, err))
        return -1;
    MDB_cursor *dc;
    MDB_val dk, dv;
    int rc = mdb_cursor_open(txn, s->dicts, &dc);
    if (rc)
        return store_fail(s, rc, "read the dictionaries", NULL, err);
    int result = 0;
    for (rc = mdb_cursor_get(dc, &dk, &dv, MDB_FIRST); rc == 0 && result == 0;
         rc = mdb_cursor_get(dc, &dk, &dv, MDB_NEXT)) {
        int del_rc;
        if ((dk.mv_size != 4 || be32_get(dk.mv_data) != cp->dict_id) &&
            (del_rc = mdb_cursor_del(dc, 0)))
            result = store_fail(s, del_rc, "delete an old dictionary", map_full, err);
    }
    mdb_cursor_close(dc);
    if (result == 0 && rc != MDB_NOTFOUND)
        result = store_fail(s, rc, "read the dictionaries", NULL, err);
    return result;
}

int store_compact(struct store *s, struct store_cert_stats *after, char *err)
{
    struct compact cp = {0};
    struct store_cert_stats before;
    int result = -1;
    if (store_cert_stats(s, &before, err))
        return -1;
    if (before.certs < 16) {   /* nothing worth a dictionary */
        *after = before;
        return store_write_txn(s, store_pack_txn, NULL, "pack the indexes", err);
    }
    if (store_write_txn(s, compact_train_txn, &cp, "train a dictionary", err))
        return -1;
    MDB_txn *txn;
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    int opened = compact_open(s, txn, &cp, err);
    store_txn_abort(s, txn);
    if (opened)
        goto out;
    /* Chunks keep each transaction small; every commit leaves a valid store
     * (old frames keep their dictionary until the final pass). */
    while (!cp.done) {
        uint64_t before_chunk = cp.rewritten;
        if (store_write_txn(s, compact_chunk_txn, &cp, "rewrite certificates", err))
            goto out;
        if (cp.rewritten == before_chunk && !cp.done)
            break;
    }
    if (store_write_txn(s, compact_final_txn, &cp, "finish rewriting certificates", err) ||
        store_write_txn(s, store_pack_txn, NULL, "pack the indexes", err))
        goto out;
    result = store_cert_stats(s, after, err);
out:
    compact_close(&cp);
    return result;
}
