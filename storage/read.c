/*
 * read.c - reading host records, each walk in one read transaction (a
 * consistent snapshot, also while a scan is writing).
 */
#include "storage/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
    struct store *store;
    MDB_txn *txn;
    ZSTD_DCtx *dctx;
    unsigned flags;
    int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r);
    void *ctx;
    struct store_read_stats *stats;
    bool stopped;
};

/* Decodes one hosts entry into r (and its certificates if asked). */
static int host_load(struct store *s, MDB_txn *txn, ZSTD_DCtx *dctx, unsigned flags,
                     const MDB_val *key, const MDB_val *value, struct probe_result *r, char *err)
{
    probe_result_init(r);
    if (key->mv_size != STORE_HOST_KEY_LEN) {
        snprintf(err, KS_ERRLEN, "hosts key of %zu bytes (expected %d)", key->mv_size,
                 STORE_HOST_KEY_LEN);
        return -1;
    }
    if (record_decode(value->mv_data, value->mv_size, r, err))
        return -1;
    const uint8_t *k = key->mv_data;
    r->addr = store_get_be32(k + 4);
    r->port = (uint16_t)(k[8] << 8 | k[9]);
    if (!(flags & STORE_WITH_CERTS))
        return 0;
    for (size_t i = 0; i < r->chain_length; i++) {
        size_t length;
        int found = cert_get_txn(s, txn, r->chain[i].sha256, dctx, &r->chain[i].der, &length, err);
        if (found == 0)
            snprintf(err, KS_ERRLEN, "certificate %zu of the chain is missing from certs", i);
        else if (found == 1 && length != r->chain[i].length)
            snprintf(err, KS_ERRLEN, "certificate %zu has %zu bytes, the record says %zu", i,
                     length, r->chain[i].length);
        if (found != 1 || length != r->chain[i].length) {
            probe_result_free(r);
            return -1;
        }
    }
    return 0;
}

/* Walks the hosts whose key starts with prefix (length 0: every host). */
static int walk_prefix(struct walk *wk, const uint8_t *prefix, size_t prefix_length, char *err)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(wk->txn, wk->store->hosts, &cursor);
    if (rc) {
        store_rc_error(wk->store, err, "read the hosts", rc);
        return -1;
    }
    MDB_val key = {prefix_length, (void *)prefix}, value;
    rc = mdb_cursor_get(cursor, &key, &value, prefix_length ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size < prefix_length || memcmp(key.mv_data, prefix, prefix_length))
            break;
        struct probe_result r;
        char skip[KS_ERRLEN];
        if (host_load(wk->store, wk->txn, wk->dctx, wk->flags, &key, &value, &r, skip)) {
            if (wk->stats)
                wk->stats->corrupt++;
            continue;
        }
        if (wk->stats)
            wk->stats->records++;
        uint32_t scan_id = store_get_be32(key.mv_data);
        int stop = wk->fn(wk->ctx, scan_id, &r);
        probe_result_free(&r);
        if (stop) {
            wk->stopped = true;
            break;
        }
    }
    mdb_cursor_close(cursor);
    if (rc && rc != MDB_NOTFOUND) {
        store_rc_error(wk->store, err, "read the hosts", rc);
        return -1;
    }
    return 0;
}

static int walk_begin(struct walk *wk, char *err)
{
    if (!(wk->dctx = ZSTD_createDCtx())) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    if (store_txn_begin(wk->store, false, &wk->txn, err)) {
        ZSTD_freeDCtx(wk->dctx);
        return -1;
    }
    if (wk->stats)
        memset(wk->stats, 0, sizeof(*wk->stats));
    return 0;
}

static void walk_end(struct walk *wk)
{
    store_txn_abort(wk->store, wk->txn);
    ZSTD_freeDCtx(wk->dctx);
}

int store_hosts_foreach(struct store *s, uint32_t scan_id, unsigned flags,
                        int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                        void *ctx, struct store_read_stats *stats, char *err)
{
    struct walk wk = {s, NULL, NULL, flags, fn, ctx, stats, false};
    if (walk_begin(&wk, err))
        return -1;
    uint8_t prefix[4];
    store_put_be32(prefix, scan_id);
    int result = walk_prefix(&wk, prefix, scan_id ? 4 : 0, err);
    walk_end(&wk);
    return result;
}

int store_hosts_foreach_addr(struct store *s, uint32_t scan_id, uint32_t addr, uint16_t port,
                             unsigned flags,
                             int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                             void *ctx, struct store_read_stats *stats, char *err)
{
    struct walk wk = {s, NULL, NULL, flags, fn, ctx, stats, false};
    if (walk_begin(&wk, err))
        return -1;
    uint8_t prefix[STORE_HOST_KEY_LEN];
    size_t prefix_length = port ? STORE_HOST_KEY_LEN : 8;
    int result = 0;
    if (scan_id) {
        store_host_key(prefix, scan_id, addr, port);
        result = walk_prefix(&wk, prefix, prefix_length, err);
    } else {
        /* every scan: one prefix walk per scan id */
        MDB_cursor *cursor;
        MDB_val key, value;
        int rc = mdb_cursor_open(wk.txn, s->scans, &cursor);
        for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
             rc == 0 && result == 0 && !wk.stopped;
             rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
            if (key.mv_size != 4)
                continue;
            store_host_key(prefix, store_get_be32(key.mv_data), addr, port);
            result = walk_prefix(&wk, prefix, prefix_length, err);
        }
        if (rc == 0 || rc == MDB_NOTFOUND)
            mdb_cursor_close(cursor);
        if (result == 0 && rc && rc != MDB_NOTFOUND) {
            store_rc_error(s, err, "read the scans", rc);
            result = -1;
        }
    }
    walk_end(&wk);
    return result;
}

int store_host_get(struct store *s, uint32_t scan_id, uint32_t addr, uint16_t port,
                   unsigned flags, struct probe_result *out, char *err)
{
    struct walk wk = {s, NULL, NULL, flags, NULL, NULL, NULL, false};
    probe_result_init(out);
    if (walk_begin(&wk, err))
        return -1;
    uint8_t keybuf[STORE_HOST_KEY_LEN];
    store_host_key(keybuf, scan_id, addr, port);
    MDB_val key = {STORE_HOST_KEY_LEN, keybuf}, value;
    int rc = mdb_get(wk.txn, s->hosts, &key, &value);
    int result;
    if (rc == MDB_NOTFOUND)
        result = 0;
    else if (rc) {
        store_rc_error(s, err, "read a host", rc);
        result = -1;
    } else {
        char why[KS_ERRLEN];
        result = 1;
        if (host_load(s, wk.txn, wk.dctx, flags, &key, &value, out, why)) {
            snprintf(err, KS_ERRLEN, "%s: host record of scan %u: %s", s->path, scan_id, why);
            result = -1;
        }
    }
    walk_end(&wk);
    return result;
}
