/*
 * certs.c - certificates stored once each as zstd frames, with or without a
 * trained dictionary. The frame header names the dictionary (0 = none), so
 * frames of every generation stay readable as long as their dictionary is
 * in dicts.
 *
 * Why two tables: keyed by SHA-256, certificates arrive at random places
 * in the B-tree, so pages split half full, and the frames recompressed when
 * the first dictionary arrives shrink in place (LMDB merges pages only
 * under a quarter full): a third of each page was used, and certificates
 * took more room on disk than their raw DER. Keyed by arrival number they
 * are appended (MDB_APPEND: full pages); only cert_index (SHA-256 -> number,
 * 40 bytes a certificate) takes the random inserts, and it is repacked when
 * a writer finishes (pack.c).
 */
/* ZSTD_createCDict_advanced: certificate-sized parameters */
#define ZSTD_STATIC_LINKING_ONLY
#include "lib/buf.h"
#include "lib/text.h"
#include "storage/internal.h"

#define ZDICT_STATIC_LINKING_ONLY
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>

static int ddict_get(struct store *s, MDB_txn *txn, uint32_t id, ZSTD_DDict **out, char *err)
{
    pthread_mutex_lock(&s->ddict_lock);
    for (size_t i = 0; i < s->ddict_count; i++) {
        if (s->ddicts[i].id == id) {
            *out = s->ddicts[i].ddict;
            pthread_mutex_unlock(&s->ddict_lock);
            return 0;
        }
    }
    uint8_t keybuf[4];
    be32_put(keybuf, id);
    MDB_val key = {4, keybuf}, value;
    int rc = mdb_get(txn, s->dicts, &key, &value);
    ZSTD_DDict *ddict = NULL;
    if (rc == MDB_NOTFOUND)
        snprintf(err, KS_ERRLEN, "dictionary %u is missing from dicts", id);
    else if (rc)
        store_rc_error(s, err, "read a dictionary", rc);
    else if (!(ddict = ZSTD_createDDict(value.mv_data, value.mv_size)))
        snprintf(err, KS_ERRLEN, "dictionary %u does not load", id);
    else if (ZSTD_getDictID_fromDDict(ddict) != id)
        snprintf(err, KS_ERRLEN, "dictionary stored as %u has id %u", id,
                 ZSTD_getDictID_fromDDict(ddict));
    else if (BUF_GROW(s->ddicts, s->ddict_capacity, s->ddict_count + 1, 4))
        snprintf(err, KS_ERRLEN, "out of memory");
    else {
        s->ddicts[s->ddict_count++] = (struct store_ddict){id, ddict};
        *out = ddict;
        pthread_mutex_unlock(&s->ddict_lock);
        return 0;
    }
    ZSTD_freeDDict(ddict);
    pthread_mutex_unlock(&s->ddict_lock);
    return -1;
}

void cert_ddict_cache_free(struct store *s)
{
    for (size_t i = 0; i < s->ddict_count; i++)
        ZSTD_freeDDict(s->ddicts[i].ddict);
    free(s->ddicts);
    s->ddicts = NULL;
    s->ddict_count = s->ddict_capacity = 0;
}

int cert_frame_decode(struct store *s, MDB_txn *txn, const uint8_t *frame, size_t frame_length,
                      ZSTD_DCtx *dctx, uint8_t **der, size_t *length, char *err)
{
    unsigned long long size = ZSTD_getFrameContentSize(frame, frame_length);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
        snprintf(err, KS_ERRLEN, "certificate frame (%zu bytes) is not a zstd frame with a "
                 "content size", frame_length);
        return -1;
    }
    if (size == 0 || size > STORE_CERT_MAX) {
        snprintf(err, KS_ERRLEN, "certificate frame claims %llu bytes of DER", size);
        return -1;
    }
    ZSTD_DDict *ddict = NULL;
    uint32_t dict_id = ZSTD_getDictID_fromFrame(frame, frame_length);
    if (dict_id && ddict_get(s, txn, dict_id, &ddict, err))
        return -1;
    uint8_t *out = malloc(size);
    if (!out) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    size_t got = ddict ? ZSTD_decompress_usingDDict(dctx, out, size, frame, frame_length, ddict)
                       : ZSTD_decompressDCtx(dctx, out, size, frame, frame_length);
    if (ZSTD_isError(got) || got != size) {
        snprintf(err, KS_ERRLEN, "certificate frame does not decompress: %s",
                 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
        free(out);
        return -1;
    }
    *der = out;
    *length = got;
    return 0;
}

int cert_find(struct store *s, MDB_txn *txn, const uint8_t sha256[32], MDB_val *frame,
              bool *found, char *err)
{
    MDB_val key = {s->certs_by_hash ? 32 : STORE_CERT_INDEX_KEY_LEN, (void *)sha256}, seq;
    *found = false;
    int rc = s->certs_by_hash ? 0 : mdb_get(txn, s->cert_index, &key, &seq);
    if (rc == 0 && !s->certs_by_hash) {
        if (seq.mv_size != STORE_CERT_KEY_LEN) {
            snprintf(err, KS_ERRLEN, "%s: corrupt store: a cert_index entry holds %zu bytes, not "
                     "an arrival number (kubesurvey check lists the damage)", s->path, seq.mv_size);
            return -1;
        }
        key = seq;
    }
    if (rc == 0)
        rc = mdb_get(txn, s->certs, &key, frame);
    if (rc == MDB_NOTFOUND && !s->certs_by_hash && key.mv_size == STORE_CERT_KEY_LEN) {
        snprintf(err, KS_ERRLEN, "%s: corrupt store: cert_index names certificate %llu, which "
                 "is missing (kubesurvey check lists the damage)", s->path,
                 (unsigned long long)be64_get(key.mv_data));
        return -1;
    }
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return store_fail(s, rc, "read a certificate", NULL, err);
    *found = true;
    return 0;
}

/* The arrival number after the last stored certificate (1 if none). */
static int cert_next_seq(struct store *s, MDB_txn *txn, uint64_t *next, char *err)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(txn, s->certs, &cursor);
    if (rc)
        return store_fail(s, rc, "read the certificates", NULL, err);
    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    mdb_cursor_close(cursor);
    *next = 1;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return store_fail(s, rc, "read the certificates", NULL, err);
    if (key.mv_size != STORE_CERT_KEY_LEN) {
        snprintf(err, KS_ERRLEN, "%s: corrupt store: the last certs key is %zu bytes, not an "
                 "arrival number", s->path, key.mv_size);
        return -1;
    }
    *next = be64_get(key.mv_data) + 1;
    return 0;
}

/* Appends frame under the next arrival number and points the index at it
 * (replacing an entry for the same hash only if replace). */
static int cert_put(struct store *s, MDB_txn *txn, const uint8_t sha256[32], const MDB_val *frame,
                    bool replace, bool *map_full, char *err)
{
    uint64_t seq;
    if (cert_next_seq(s, txn, &seq, err))
        return -1;
    uint8_t seqbuf[STORE_CERT_KEY_LEN];
    be64_put(seqbuf, seq);
    MDB_val key = {STORE_CERT_KEY_LEN, seqbuf}, value = *frame;
    MDB_val hash = {STORE_CERT_INDEX_KEY_LEN, (void *)sha256};
    MDB_val number = {STORE_CERT_KEY_LEN, seqbuf};
    int rc = mdb_put(txn, s->certs, &key, &value, MDB_APPEND);
    if (!rc)
        rc = mdb_put(txn, s->cert_index, &hash, &number, replace ? 0 : MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        char hex[65];
        snprintf(err, KS_ERRLEN, "%s: certificate %s: another one shares its hash prefix in "
                 "cert_index (an index collision); not stored", s->path, hex_text(sha256, 32, hex));
        return -1;
    }
    return rc ? store_fail(s, rc, "store a certificate", map_full, err) : 0;
}

int cert_append(struct store *s, MDB_txn *txn, const uint8_t sha256[32], const MDB_val *frame,
                bool *map_full, char *err)
{
    return cert_put(s, txn, sha256, frame, false, map_full, err);
}

int cert_replace(struct store *s, MDB_txn *txn, uint64_t seq, const uint8_t sha256[32],
                 const MDB_val *frame, bool *map_full, char *err)
{
    uint8_t seqbuf[STORE_CERT_KEY_LEN];
    be64_put(seqbuf, seq);
    MDB_val key = {STORE_CERT_KEY_LEN, seqbuf};
    int rc = mdb_del(txn, s->certs, &key, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return store_fail(s, rc, "replace a certificate", map_full, err);
    return cert_put(s, txn, sha256, frame, true, map_full, err);
}

/* Schema 2 -> 3: the certificates, keyed by SHA-256, move to a scratch
 * table, then come back in hash order under arrival numbers 1, 2, ... with
 * their index (both appended: full pages). In the upgrade's transaction
 * (store_open), which also writes the new schema version. */
int cert_upgrade_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    (void)ctx;
    MDB_dbi scratch;
    MDB_cursor *cursor = NULL;
    MDB_val key, value;
    uint64_t seq = 0;
    int rc = mdb_dbi_open(txn, "cert_index", MDB_CREATE, &s->cert_index);
    if (!rc)
        rc = mdb_dbi_open(txn, "upgrade_scratch", MDB_CREATE, &scratch);
    if (!rc)
        rc = mdb_cursor_open(txn, s->certs, &cursor);
    for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT))
        if ((rc = mdb_put(txn, scratch, &key, &value, MDB_APPEND)))
            break;
    if (cursor)
        mdb_cursor_close(cursor);
    cursor = NULL;
    if (rc == MDB_NOTFOUND)
        rc = mdb_drop(txn, s->certs, 0);
    if (!rc)
        rc = mdb_cursor_open(txn, scratch, &cursor);
    for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        uint8_t seqbuf[STORE_CERT_KEY_LEN];
        be64_put(seqbuf, ++seq);
        MDB_val number = {STORE_CERT_KEY_LEN, seqbuf};
        if (key.mv_size != 32) {
            snprintf(err, KS_ERRLEN, "%s: cannot upgrade: a certs key is %zu bytes, not a "
                     "SHA-256 (kubesurvey check, with an older build, lists the damage)", s->path,
                     key.mv_size);
            mdb_cursor_close(cursor);
            return -1;
        }
        key.mv_size = STORE_CERT_INDEX_KEY_LEN;
        if ((rc = mdb_put(txn, s->certs, &number, &value, MDB_APPEND)) ||
            (rc = mdb_put(txn, s->cert_index, &key, &number, MDB_APPEND)))
            break;
    }
    if (cursor)
        mdb_cursor_close(cursor);
    if (rc == MDB_NOTFOUND)
        rc = mdb_drop(txn, scratch, 1);
    if (rc)
        return store_fail(s, rc, "upgrade the certificates to schema 3", map_full, err);
    s->certs_by_hash = false;
    return 0;
}

int cert_get_txn(struct store *s, MDB_txn *txn, const uint8_t sha256[32], ZSTD_DCtx *dctx,
                 uint8_t **der, size_t *length, bool *found, char *err)
{
    MDB_val value;
    if (cert_find(s, txn, sha256, &value, found, err))
        return -1;
    if (!*found)
        return 0;
    *found = false;
    if (cert_frame_decode(s, txn, value.mv_data, value.mv_size, dctx, der, length, err))
        return -1;
    uint8_t digest[32];
    SHA256(*der, *length, digest);
    if (memcmp(digest, sha256, 32)) {   /* two hashes sharing the index's prefix */
        char want[65], got[65];
        snprintf(err, KS_ERRLEN, "%s: certificate %s: the stored one found by its hash prefix "
                 "is %s (an index collision; kubesurvey check lists it)", s->path,
                 hex_text(sha256, 32, want), hex_text(digest, 32, got));
        free(*der);
        *der = NULL;
        return -1;
    }
    *found = true;
    return 0;
}

int store_cert_get(struct store *s, const uint8_t sha256[32], uint8_t **der, size_t *length,
                   bool *found, char *err)
{
    MDB_txn *txn;
    *found = false;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    if (store_txn_begin(s, false, &txn, err)) {
        ZSTD_freeDCtx(dctx);
        return -1;
    }
    int result = cert_get_txn(s, txn, sha256, dctx, der, length, found, err);
    store_txn_abort(s, txn);
    ZSTD_freeDCtx(dctx);
    return result;
}

int cert_current_dict(struct store *s, MDB_txn *txn, uint32_t *id, char *err)
{
    MDB_val key = {9, "cert_dict"}, value;
    int rc = mdb_get(txn, s->meta, &key, &value);
    *id = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc) {
        store_rc_error(s, err, "read meta cert_dict", rc);
        return -1;
    }
    if (value.mv_size != 4) {
        snprintf(err, KS_ERRLEN, "%s: corrupt meta cert_dict", s->path);
        return -1;
    }
    *id = be32_get(value.mv_data);
    return 0;
}

int cert_load_cdict(struct store *s, MDB_txn *txn, uint32_t id, ZSTD_CDict **cdict, char *err)
{
    uint8_t keybuf[4];
    be32_put(keybuf, id);
    MDB_val key = {4, keybuf}, value;
    int rc = mdb_get(txn, s->dicts, &key, &value);
    if (rc) {
        store_rc_error(s, err, "read the current dictionary", rc);
        return -1;
    }
    /* Parameters for certificate-sized inputs: the default ones for level
     * 19 have tables sized for megabytes, which every compression with the
     * dictionary would then copy (0.4 ms per certificate). */
    ZSTD_compressionParameters params = ZSTD_getCParams(STORE_CERT_LEVEL, 4096, value.mv_size);
    *cdict = ZSTD_createCDict_advanced(value.mv_data, value.mv_size, ZSTD_dlm_byCopy,
                                       ZSTD_dct_auto, params, ZSTD_defaultCMem);
    if (!*cdict) {
        snprintf(err, KS_ERRLEN, "%s: dictionary %u does not load", s->path, id);
        return -1;
    }
    return 0;
}

int cert_compress(ZSTD_CCtx *cctx, ZSTD_CDict *cdict, const uint8_t *der, size_t length,
                  struct buf *out, char *err)
{
    size_t bound = ZSTD_compressBound(length);
    out->length = 0;
    if (buf_reserve(out, bound)) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    size_t n = cdict ? ZSTD_compress_usingCDict(cctx, out->data, bound, der, length, cdict)
                     : ZSTD_compressCCtx(cctx, out->data, bound, der, length, STORE_CERT_LEVEL);
    if (ZSTD_isError(n)) {
        snprintf(err, KS_ERRLEN, "zstd compression failed: %s", ZSTD_getErrorName(n));
        return -1;
    }
    out->length = n;
    return 0;
}

/* ---- dictionary training ---- */

struct samples {
    struct buf data;
    size_t *sizes;
    size_t count, capacity;
};

static int samples_add(struct samples *sm, const uint8_t *der, size_t length)
{
    if (BUF_GROW(sm->sizes, sm->capacity, sm->count + 1, 1024) ||
        buf_reserve(&sm->data, length))
        return -1;
    memcpy(sm->data.data + sm->data.length, der, length);
    sm->data.length += length;
    sm->sizes[sm->count++] = length;
    return 0;
}

/* Reads every stride-th certificate of the store into sm. */
static int samples_collect(struct store *s, MDB_txn *txn, size_t max_bytes, struct samples *sm,
                           char *err)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    uint64_t total = 0;
    int rc = mdb_cursor_open(txn, s->certs, &cursor);
    if (rc) {
        store_rc_error(s, err, "read the certificates", rc);
        return -1;
    }
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        unsigned long long size = ZSTD_getFrameContentSize(value.mv_data, value.mv_size);
        if (size <= STORE_CERT_MAX)
            total += size;
    }
    uint64_t stride = total > max_bytes ? (total + max_bytes - 1) / max_bytes : 1;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    uint64_t index = 0;
    int result = dctx ? 0 : -1;
    if (!dctx)
        snprintf(err, KS_ERRLEN, "out of memory");
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0 && result == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (index++ % stride)
            continue;
        uint8_t *der;
        size_t length;
        char skip[KS_ERRLEN];
        /* A frame that does not decode is check's business, not a reason
         * to refuse training. */
        if (cert_frame_decode(s, txn, value.mv_data, value.mv_size, dctx, &der, &length, skip))
            continue;
        if (samples_add(sm, der, length)) {
            snprintf(err, KS_ERRLEN, "out of memory");
            result = -1;
        }
        free(der);
    }
    ZSTD_freeDCtx(dctx);
    mdb_cursor_close(cursor);
    if (result == 0 && rc && rc != MDB_NOTFOUND) {
        store_rc_error(s, err, "read the certificates", rc);
        result = -1;
    }
    return result;
}

static int next_dict_id(struct store *s, MDB_txn *txn, uint32_t *id, char *err)
{
    MDB_val key = {12, "next_dict_id"}, value;
    int rc = mdb_get(txn, s->meta, &key, &value);
    if (rc == MDB_NOTFOUND) {
        *id = STORE_DICT_ID_BASE;
        return 0;
    }
    if (rc || value.mv_size != 4) {
        snprintf(err, KS_ERRLEN, "%s: cannot read meta next_dict_id", s->path);
        return -1;
    }
    *id = be32_get(value.mv_data);
    return 0;
}

int cert_train_dict(struct store *s, MDB_txn *txn, size_t max_bytes, uint32_t *new_id,
                    bool *map_full, char *err)
{
    struct samples sm = {0};
    uint8_t *dict = NULL;
    uint32_t id;
    int result = -1;
    if (next_dict_id(s, txn, &id, err) || samples_collect(s, txn, max_bytes, &sm, err))
        goto out;
    if (sm.count < 16) {
        snprintf(err, KS_ERRLEN, "%s: %zu certificates are too few to train a dictionary", s->path,
                 sm.count);
        goto out;
    }
    if (!(dict = malloc(STORE_DICT_CAPACITY))) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto out;
    }
    size_t size = ZDICT_trainFromBuffer(dict, STORE_DICT_CAPACITY, sm.data.data, sm.sizes,
                                        (unsigned)sm.count);
    if (ZDICT_isError(size) || size < 8) {
        snprintf(err, KS_ERRLEN, "%s: dictionary training on %zu certificates failed: %s", s->path,
                 sm.count, ZDICT_isError(size) ? ZDICT_getErrorName(size) : "too small");
        goto out;
    }
    /* Our own sequential id, little-endian after the 4-byte magic: the
     * format's Dictionary_ID field, which frames then carry. */
    dict[4] = (uint8_t)id;
    dict[5] = (uint8_t)(id >> 8);
    dict[6] = (uint8_t)(id >> 16);
    dict[7] = (uint8_t)(id >> 24);
    uint8_t idbuf[4], nextbuf[4];
    be32_put(idbuf, id);
    be32_put(nextbuf, id + 1);
    MDB_val key = {4, idbuf}, value = {size, dict};
    MDB_val cur_key = {9, "cert_dict"}, cur_value = {4, idbuf};
    MDB_val next_key = {12, "next_dict_id"}, next_value = {4, nextbuf};
    int rc = mdb_put(txn, s->dicts, &key, &value, 0);
    if (!rc)
        rc = mdb_put(txn, s->meta, &cur_key, &cur_value, 0);
    if (!rc)
        rc = mdb_put(txn, s->meta, &next_key, &next_value, 0);
    if (rc) {   /* MDB_MAP_FULL: the caller grows the map and retries */
        store_fail(s, rc, "store a dictionary", map_full, err);
        goto out;
    }
    *new_id = id;
    result = 0;
out:
    free(dict);
    free(sm.sizes);
    buf_free(&sm.data);
    return result;
}

int store_cert_stats(struct store *s, struct store_cert_stats *out, char *err)
{
    MDB_txn *txn;
    MDB_cursor *cursor = NULL;
    MDB_val key, value;
    memset(out, 0, sizeof(*out));
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    int result = cert_current_dict(s, txn, &out->current_dict, err);
    int rc = result ? 0 : mdb_cursor_open(txn, s->certs, &cursor);
    for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        unsigned long long size = ZSTD_getFrameContentSize(value.mv_data, value.mv_size);
        out->certs++;
        out->frame_bytes += value.mv_size;
        if (size <= STORE_CERT_MAX)
            out->der_bytes += size;
        if (ZSTD_getDictID_fromFrame(value.mv_data, value.mv_size))
            out->with_dict++;
    }
    if (cursor)
        mdb_cursor_close(cursor);
    cursor = NULL;
    if (result == 0 && rc == MDB_NOTFOUND) {
        rc = mdb_cursor_open(txn, s->dicts, &cursor);
        for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
            out->dicts++;
            out->dict_bytes += value.mv_size;
        }
        if (cursor)
            mdb_cursor_close(cursor);
    }
    if (result == 0 && rc != MDB_NOTFOUND) {
        store_rc_error(s, err, "read the certificates", rc);
        result = -1;
    }
    store_txn_abort(s, txn);
    return result;
}
