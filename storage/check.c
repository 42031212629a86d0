/*
 * check.c - verifying a whole store (kubesurvey check): every scan,
 * dictionary, certificate, host record and address index entry, each
 * problem reported with where it is.
 */
#include "lib/text.h"
#include "storage/internal.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct checker {
    struct store *store;
    MDB_txn *txn;
    ZSTD_DCtx *dctx;
    void (*problem)(void *ctx, const char *text);
    void *ctx;
    struct store_check_stats *stats;
};

static void report(struct checker *ck, const char *fmt, ...)
{
    char text[KS_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ck->stats->problems++;
    if (ck->problem)
        ck->problem(ck->ctx, text);
}

static const char *key_text(char *out, const MDB_val *key)
{
    return hex_text(key->mv_data, key->mv_size > 32 ? 32 : key->mv_size, out);
}

/* Walks one sub-database; visit returns 0 to go on. */
static int walk_db(struct checker *ck, MDB_dbi dbi, const char *name,
                   void (*visit)(struct checker *ck, const MDB_val *key, const MDB_val *value),
                   char *err)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(ck->txn, dbi, &cursor);
    for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT))
        visit(ck, &key, &value);
    if (rc == MDB_NOTFOUND) {
        mdb_cursor_close(cursor);
        return 0;
    }
    char what[64];
    snprintf(what, sizeof(what), "walk the %s database", name);
    store_rc_error(ck->store, err, what, rc);
    return -1;
}

static void visit_scan(struct checker *ck, const MDB_val *key, const MDB_val *value)
{
    char kt[80];
    ck->stats->scans++;
    if (key->mv_size != 4) {
        report(ck, "scans: key %s is not 4 bytes", key_text(kt, key));
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(value->mv_data, value->mv_size, 0, &jerr);
    if (!root || !json_is_object(root))
        report(ck, "scans: scan %u: JSON does not parse as an object (%s)",
               be32_get(key->mv_data), root ? "not an object" : jerr.text);
    json_decref(root);
}

static void visit_dict(struct checker *ck, const MDB_val *key, const MDB_val *value)
{
    char kt[80];
    ck->stats->dicts++;
    if (key->mv_size != 4) {
        report(ck, "dicts: key %s is not 4 bytes", key_text(kt, key));
        return;
    }
    uint32_t id = be32_get(key->mv_data);
    ZSTD_DDict *ddict = ZSTD_createDDict(value->mv_data, value->mv_size);
    if (!ddict)
        report(ck, "dicts: dictionary %u does not load", id);
    else if (ZSTD_getDictID_fromDDict(ddict) != id)
        report(ck, "dicts: dictionary %u carries id %u", id, ZSTD_getDictID_fromDDict(ddict));
    ZSTD_freeDDict(ddict);
}

static void visit_cert(struct checker *ck, const MDB_val *key, const MDB_val *value)
{
    char kt[80], why[KS_ERRLEN];
    size_t key_len = ck->store->certs_by_hash ? 32 : STORE_CERT_KEY_LEN;
    ck->stats->certs++;
    if (key->mv_size != key_len) {
        report(ck, "certs: key %s is not %s", key_text(kt, key),
               ck->store->certs_by_hash ? "a 32-byte SHA-256" : "an 8-byte arrival number");
        return;
    }
    uint8_t *der;
    size_t length;
    if (cert_frame_decode(ck->store, ck->txn, value->mv_data, value->mv_size, ck->dctx, &der,
                          &length, why)) {
        report(ck, "certs: %s: %s", key_text(kt, key), why);
        return;
    }
    uint8_t digest[32];
    SHA256(der, length, digest);
    free(der);
    if (ck->store->certs_by_hash) {
        if (memcmp(digest, key->mv_data, 32))
            report(ck, "certs: %s: the DER does not hash to its key", key_text(kt, key));
        return;
    }
    /* The index must name this very entry by the certificate's hash. */
    MDB_val hash = {STORE_CERT_INDEX_KEY_LEN, digest}, seq;
    if (mdb_get(ck->txn, ck->store->cert_index, &hash, &seq))
        report(ck, "certs: %s: its SHA-256 is not in cert_index", key_text(kt, key));
    else if (seq.mv_size != key_len || memcmp(seq.mv_data, key->mv_data, key_len))
        report(ck, "certs: %s: cert_index names another entry for its SHA-256", key_text(kt, key));
}

static void visit_cert_index(struct checker *ck, const MDB_val *key, const MDB_val *value)
{
    char kt[80];
    MDB_val frame;
    if (key->mv_size != STORE_CERT_INDEX_KEY_LEN || value->mv_size != STORE_CERT_KEY_LEN)
        report(ck, "cert_index: entry %s is not a %d-byte SHA-256 prefix with an 8-byte arrival "
               "number", key_text(kt, key), STORE_CERT_INDEX_KEY_LEN);
    else if (mdb_get(ck->txn, ck->store->certs, (MDB_val *)value, &frame))
        report(ck, "cert_index: %s names certificate %llu, which is missing", key_text(kt, key),
               (unsigned long long)be64_get(value->mv_data));
}

static void check_chain(struct checker *ck, const char *where, const struct probe_result *r)
{
    char kt[80];
    for (size_t i = 0; i < r->chain_length; i++) {
        MDB_val frame;
        bool found;
        char why[KS_ERRLEN];
        if (cert_find(ck->store, ck->txn, r->chain[i].sha256, &frame, &found, why)) {
            hex_text(r->chain[i].sha256, 32, kt);
            report(ck, "%s: certificate %zu (%s): %s", where, i, kt, why);
        } else if (!found) {
            hex_text(r->chain[i].sha256, 32, kt);
            report(ck, "%s: certificate %zu (%s) is missing", where, i, kt);
        } else if (ZSTD_getFrameContentSize(frame.mv_data, frame.mv_size) != r->chain[i].length) {
            hex_text(r->chain[i].sha256, 32, kt);
            report(ck, "%s: certificate %zu (%s) length differs from the record", where, i, kt);
        }
    }
}

/* The addrs entry of a decoded host must name this very record. */
static void check_indexed(struct checker *ck, const char *where, uint32_t scan_id, uint64_t seq,
                          const struct probe_result *r)
{
    uint8_t keybuf[STORE_ADDR_KEY_MAX];
    MDB_val key = {store_addr_key(ck->store, keybuf, scan_id, &r->addr, r->port), keybuf}, value;
    if (key.mv_size == 0 || mdb_get(ck->txn, ck->store->addrs, &key, &value))
        report(ck, "%s: not in the address index", where);
    else if (value.mv_size != 8 || be64_get(value.mv_data) != seq)
        report(ck, "%s: the address index names another record", where);
}

static void visit_host(struct checker *ck, const MDB_val *key, const MDB_val *value)
{
    char kt[80], why[KS_ERRLEN];
    ck->stats->hosts++;
    if (key->mv_size != STORE_HOST_KEY_LEN) {
        report(ck, "hosts: key %s is not %d bytes", key_text(kt, key), STORE_HOST_KEY_LEN);
        return;
    }
    const uint8_t *k = key->mv_data;
    uint32_t scan_id = be32_get(k);
    uint64_t seq = be64_get(k + 4);
    char where[96];
    snprintf(where, sizeof(where), "hosts: scan %u record %llu", scan_id, (unsigned long long)seq);
    MDB_val scan_key = {4, (void *)k}, scan_value;
    if (mdb_get(ck->txn, ck->store->scans, &scan_key, &scan_value))
        report(ck, "%s: scan %u does not exist", where, scan_id);
    struct probe_result r;
    probe_result_init(&r);
    if (record_decode(value->mv_data, value->mv_size, &r, why)) {
        report(ck, "%s: %s", where, why);
        return;
    }
    char host[NET_ENDPOINT_TEXT_MAX];
    net_endpoint_text(&r.addr, r.port, host);
    snprintf(where, sizeof(where), "hosts: scan %u %s (record %llu)", scan_id, host,
             (unsigned long long)seq);
    check_chain(ck, where, &r);
    check_indexed(ck, where, scan_id, seq, &r);
    probe_result_free(&r);
}

static void visit_addr(struct checker *ck, const MDB_val *key, const MDB_val *value)
{
    char kt[80];
    uint32_t scan_id;
    struct net_addr addr;
    uint16_t port;
    if (!store_addr_key_parse(ck->store, key, &scan_id, &addr, &port) || value->mv_size != 8) {
        report(ck, "addrs: entry %s is not an address key with an 8-byte value",
               key_text(kt, key));
        return;
    }
    char host[NET_ENDPOINT_TEXT_MAX];
    net_endpoint_text(&addr, port, host);
    uint8_t hostkey[STORE_HOST_KEY_LEN];
    store_host_key(hostkey, scan_id, be64_get(value->mv_data));
    MDB_val hk = {STORE_HOST_KEY_LEN, hostkey}, record;
    if (mdb_get(ck->txn, ck->store->hosts, &hk, &record))
        report(ck, "addrs: scan %u %s: names record %llu, which is missing", scan_id,
               host, (unsigned long long)be64_get(value->mv_data));
}

int store_check(struct store *s, void (*problem)(void *ctx, const char *text), void *ctx,
                struct store_check_stats *stats, char *err)
{
    struct checker ck = {s, NULL, ZSTD_createDCtx(), problem, ctx, stats};
    memset(stats, 0, sizeof(*stats));
    if (!ck.dctx) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    if (store_txn_begin(s, false, &ck.txn, err)) {
        ZSTD_freeDCtx(ck.dctx);
        return -1;
    }
    int result = walk_db(&ck, s->scans, "scans", visit_scan, err);
    if (!result)
        result = walk_db(&ck, s->dicts, "dicts", visit_dict, err);
    uint32_t current;
    if (!result && cert_current_dict(s, ck.txn, &current, err) == 0 && current) {
        uint8_t keybuf[4];
        be32_put(keybuf, current);
        MDB_val key = {4, keybuf}, value;
        if (mdb_get(ck.txn, s->dicts, &key, &value))
            report(&ck, "meta: current dictionary %u is not in dicts", current);
    }
    if (!result)
        result = walk_db(&ck, s->certs, "certs", visit_cert, err);
    if (!result && !s->certs_by_hash)
        result = walk_db(&ck, s->cert_index, "cert_index", visit_cert_index, err);
    if (!result)
        result = walk_db(&ck, s->hosts, "hosts", visit_host, err);
    if (!result)
        result = walk_db(&ck, s->addrs, "addrs", visit_addr, err);
    store_txn_abort(s, ck.txn);
    ZSTD_freeDCtx(ck.dctx);
    return result;
}
