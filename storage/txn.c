/*
 * txn.c - the base layer of the store that every other file of storage/
 * uses: keys, growable buffers, error messages, transactions with automatic
 * map growth. It calls nothing above it (store.c opens and closes).
 */
#include "lib/buf.h"
#include "storage/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

void store_host_key(uint8_t key[STORE_HOST_KEY_LEN], uint32_t scan_id, uint64_t seq)
{
    be32_put(key, scan_id);
    be64_put(key + 4, seq);
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->length)
        return -1;
    return BUF_GROW(b->data, b->capacity, b->length + extra, 256);
}

void buf_free(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* LMDB reports a short write as EIO; on a full disk that is what a write
 * that ran out of space looks like. */
static bool disk_nearly_full(const char *path)
{
    struct statvfs vfs;
    return path && statvfs(path, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < (1u << 20);
}

void store_rc_error(const struct store *s, char *err, const char *what, int rc)
{
    const char *path = s ? s->path : "";
    if (rc == EIO && disk_nearly_full(path))
        rc = ENOSPC;
    switch (rc) {
    case ENOSPC:
        snprintf(err, KS_ERRLEN, "%s: %s: no space left on the device (disk full); "
                 "data committed before is intact", path, what);
        break;
    case EDQUOT:
        snprintf(err, KS_ERRLEN, "%s: %s: disk quota exceeded; data committed before is intact",
                 path, what);
        break;
    case EACCES:
    case EPERM:
        snprintf(err, KS_ERRLEN, "%s: %s: permission denied", path, what);
        break;
    case EROFS:
        snprintf(err, KS_ERRLEN, "%s: %s: read-only file system", path, what);
        break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
        snprintf(err, KS_ERRLEN, "%s: %s: the database file is corrupt (%s)", path, what,
                 mdb_strerror(rc));
        break;
    default:
        snprintf(err, KS_ERRLEN, "%s: %s: %s", path, what, mdb_strerror(rc));
    }
}

int store_txn_begin(struct store *s, bool write, MDB_txn **txn, char *err)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        pthread_rwlock_rdlock(&s->resize_lock);
        int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
        if (rc == 0)
            return 0;
        pthread_rwlock_unlock(&s->resize_lock);
        if (rc != MDB_MAP_RESIZED) {
            store_rc_error(s, err, write ? "begin write transaction" : "begin read transaction", rc);
            return -1;
        }
        /* Another process grew the map: adopt its size. */
        pthread_rwlock_wrlock(&s->resize_lock);
        rc = mdb_env_set_mapsize(s->env, 0);
        pthread_rwlock_unlock(&s->resize_lock);
        if (rc) {
            store_rc_error(s, err, "adopt the grown map size", rc);
            return -1;
        }
    }
    snprintf(err, KS_ERRLEN, "%s: the map size keeps changing; giving up", s->path);
    return -1;
}

int store_fail(const struct store *s, int rc, const char *what, bool *map_full, char *err)
{
    if (map_full && rc == MDB_MAP_FULL)
        *map_full = true;
    store_rc_error(s, err, what, rc);
    return -1;
}

int store_txn_commit(struct store *s, MDB_txn *txn, const char *what, bool *map_full, char *err)
{
    int rc = mdb_txn_commit(txn);
    pthread_rwlock_unlock(&s->resize_lock);
    return rc ? store_fail(s, rc, what, map_full, err) : 0;
}

void store_txn_abort(struct store *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&s->resize_lock);
}

int store_grow_map(struct store *s, char *err)
{
    MDB_envinfo info;
    pthread_rwlock_wrlock(&s->resize_lock);
    mdb_env_info(s->env, &info);
    size_t step = info.me_mapsize < ((size_t)4 << 30) ? info.me_mapsize : ((size_t)4 << 30);
    int rc = mdb_env_set_mapsize(s->env, info.me_mapsize + step);
    pthread_rwlock_unlock(&s->resize_lock);
    if (rc) {
        char what[96];
        snprintf(what, sizeof(what), "grow the map to %zu bytes", info.me_mapsize + step);
        store_rc_error(s, err, what, rc);
        return -1;
    }
    return 0;
}

int store_write_txn(struct store *s, store_txn_fn *fn, void *ctx, const char *what, char *err)
{
    if (s->mode != STORE_READ_WRITE) {
        snprintf(err, KS_ERRLEN, "%s: %s: the store is open read-only", s->path, what);
        return -1;
    }
    for (;;) {
        MDB_txn *txn;
        bool map_full = false;
        if (store_txn_begin(s, true, &txn, err))
            return -1;
        if (fn(s, txn, ctx, &map_full, err) == 0) {
            if (store_txn_commit(s, txn, what, &map_full, err) == 0)
                return 0;
        } else {
            store_txn_abort(s, txn);
        }
        if (!map_full || store_grow_map(s, err))
            return -1;
    }
}

