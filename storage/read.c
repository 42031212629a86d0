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

/* Decodes one hosts value into r (and its certificates if asked). */
static int host_load(struct store *s, MDB_txn *txn, ZSTD_DCtx *dctx, unsigned flags,
                     const MDB_val *value, struct probe_result *r, char *err)
{
    probe_result_init(r);
    if (record_decode(value->mv_data, value->mv_size, r, err))
        return -1;
    if (!(flags & STORE_WITH_CERTS))
        return 0;
    for (size_t i = 0; i < r->chain_length; i++) {
        size_t length = 0;
        bool found;
        if (cert_get_txn(s, txn, r->chain[i].sha256, dctx, &r->chain[i].der, &length, &found,
                         err)) {
            probe_result_free(r);
            return -1;
        }
        if (!found || length != r->chain[i].length) {
            if (!found)
                snprintf(err, KS_ERRLEN, "certificate %zu of the chain is missing from certs", i);
            else
                snprintf(err, KS_ERRLEN, "certificate %zu has %zu bytes, the record says %zu", i,
                         length, r->chain[i].length);
            probe_result_free(r);
            return -1;
        }
    }
    return 0;
}

/* The hosts value an addrs entry (its value seq) points to. *found is false
 * when the entry is not a sequence number or its record is missing (damage
 * that check reports); -1 on a read error. */
static int host_by_index(struct store *s, MDB_txn *txn, uint32_t scan_id, const MDB_val *seq,
                         MDB_val *value, bool *found, char *err)
{
    *found = false;
    if (seq->mv_size != 8)
        return 0;
    uint8_t keybuf[STORE_HOST_KEY_LEN];
    store_host_key(keybuf, scan_id, be64_get(seq->mv_data));
    MDB_val key = {STORE_HOST_KEY_LEN, keybuf};
    int rc = mdb_get(txn, s->hosts, &key, value);
    if (rc && rc != MDB_NOTFOUND)
        return store_fail(s, rc, "read the hosts", NULL, err);
    *found = rc == 0;
    return 0;
}

/* Hands one stored host to the walk's callback; false when it says stop. */
static bool walk_visit(struct walk *wk, uint32_t scan_id, const MDB_val *value)
{
    struct probe_result r;
    char skip[KS_ERRLEN];
    if (host_load(wk->store, wk->txn, wk->dctx, wk->flags, value, &r, skip)) {
        if (wk->stats)
            wk->stats->corrupt++;
        return true;
    }
    if (wk->stats)
        wk->stats->records++;
    int stop = wk->fn(wk->ctx, scan_id, &r);
    probe_result_free(&r);
    wk->stopped = stop != 0;
    return !stop;
}

/* Walks the keys of db that start with prefix (length 0: every key); for
 * addrs, each entry is followed to its hosts record. */
static int walk_prefix(struct walk *wk, MDB_dbi db, const uint8_t *prefix, size_t prefix_length,
                       char *err)
{
    MDB_cursor *cursor;
    bool by_index = db == wk->store->addrs;
    int rc = mdb_cursor_open(wk->txn, db, &cursor);
    if (rc) {
        store_rc_error(wk->store, err, "read the hosts", rc);
        return -1;
    }
    MDB_val key = {prefix_length, (void *)prefix}, value;
    int result = 0;
    rc = mdb_cursor_get(cursor, &key, &value, prefix_length ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size < prefix_length || memcmp(key.mv_data, prefix, prefix_length))
            break;
        uint32_t id;
        struct net_addr addr;
        uint16_t port;
        if (by_index ? !store_addr_key_parse(wk->store, &key, &id, &addr, &port)
                     : key.mv_size != STORE_HOST_KEY_LEN) {
            if (wk->stats)
                wk->stats->corrupt++;
            continue;
        }
        uint32_t scan_id = be32_get(key.mv_data);
        MDB_val host = value;
        bool found = true;
        if (by_index &&
            (result = host_by_index(wk->store, wk->txn, scan_id, &value, &host, &found, err)))
            break;
        if (!found) {
            if (wk->stats)   /* an index entry without its record */
                wk->stats->corrupt++;
            continue;
        }
        if (!walk_visit(wk, scan_id, &host))
            break;
    }
    mdb_cursor_close(cursor);
    if (result == 0 && rc && rc != MDB_NOTFOUND)
        result = store_fail(wk->store, rc, "read the hosts", NULL, err);
    return result;
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
    be32_put(prefix, scan_id);
    MDB_dbi db = flags & STORE_STORED_ORDER ? s->hosts : s->addrs;
    int result = walk_prefix(&wk, db, prefix, scan_id ? 4 : 0, err);
    walk_end(&wk);
    return result;
}

int store_hosts_foreach_addr(struct store *s, uint32_t scan_id, const struct net_addr *addr,
                             uint16_t port,
                             unsigned flags,
                             int (*fn)(void *ctx, uint32_t scan_id, const struct probe_result *r),
                             void *ctx, struct store_read_stats *stats, char *err)
{
    struct walk wk = {s, NULL, NULL, flags, fn, ctx, stats, false};
    if (walk_begin(&wk, err))
        return -1;
    uint8_t prefix[STORE_ADDR_KEY_MAX];
    size_t prefix_length = store_addr_key(s, prefix, scan_id, addr, port);
    if (prefix_length && !port)
        prefix_length -= 2;   /* every port */
    int result = 0;
    if (prefix_length == 0) {
        /* an IPv6 address in a store from before IPv6: not there */
    } else if (scan_id) {
        result = walk_prefix(&wk, s->addrs, prefix, prefix_length, err);
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
            store_addr_key(s, prefix, be32_get(key.mv_data), addr, port);
            result = walk_prefix(&wk, s->addrs, prefix, prefix_length, err);
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

/* store_host_get's lookup in the walk's transaction. */
static int host_get_txn(struct walk *wk, uint32_t scan_id, const struct net_addr *addr,
                        uint16_t port, struct probe_result *out, bool *found, char *err)
{
    struct store *s = wk->store;
    uint8_t keybuf[STORE_ADDR_KEY_MAX];
    MDB_val key = {store_addr_key(s, keybuf, scan_id, addr, port), keybuf}, seq, value;
    if (key.mv_size == 0)   /* IPv6 in a store from before IPv6 */
        return 0;
    int rc = mdb_get(wk->txn, s->addrs, &key, &seq);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return store_fail(s, rc, "read a host", NULL, err);
    bool indexed;
    if (host_by_index(s, wk->txn, scan_id, &seq, &value, &indexed, err))
        return -1;
    if (!indexed) {
        snprintf(err, KS_ERRLEN, "%s: host record of scan %u: the address index entry is damaged "
                 "or names a record that is missing (kubesurvey check lists the damage)", s->path,
                 scan_id);
        return -1;
    }
    char why[KS_ERRLEN];
    if (host_load(s, wk->txn, wk->dctx, wk->flags, &value, out, why)) {
        snprintf(err, KS_ERRLEN, "%s: host record of scan %u: %s", s->path, scan_id, why);
        return -1;
    }
    *found = true;
    return 0;
}

int store_host_get(struct store *s, uint32_t scan_id, const struct net_addr *addr, uint16_t port,
                   unsigned flags, struct probe_result *out, bool *found, char *err)
{
    struct walk wk = {s, NULL, NULL, flags, NULL, NULL, NULL, false};
    probe_result_init(out);
    *found = false;
    if (walk_begin(&wk, err))
        return -1;
    int result = host_get_txn(&wk, scan_id, addr, port, out, found, err);
    walk_end(&wk);
    return result;
}
