/*
 * pack.c - keeping the file no larger than its data: the index tables
 * repacked in key order, per-table usage figures, and the minimal copy of
 * the file that compact leaves.
 *
 * Why repack: hosts and certs are appended (full pages), but addrs and
 * cert_index take keys in random order (addresses in scan order, SHA-256
 * hashes), and a B-tree filled at random splits pages half full: about 69%
 * full on average. Rewritten in key order with MDB_APPEND, every page is
 * full. They are small (28 and 34 bytes an entry), so a writer repacks them
 * when it finishes, in one transaction, in a fraction of the scan's time.
 */
#include "storage/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* LMDB's own layout (lmdb.h documents none of it; mdb.c, 0.9): a page
 * header of 16 bytes, a node header of 8, a 2-byte slot per node, nodes
 * aligned to 2 bytes, and a value goes to overflow pages when the node
 * would exceed about half a page. Used only to report fill. */
#define LMDB_PAGE_HEADER 16u
#define LMDB_NODE_HEADER 8u
#define LMDB_SLOT 2u

static uint64_t node_max(uint64_t psize)
{
    return (((psize - LMDB_PAGE_HEADER) / 2) & ~(uint64_t)1) - LMDB_SLOT;
}

/* Bytes of leaf page an entry takes (node, value or overflow page number,
 * slot), and the bytes it puts on overflow pages. */
static void entry_bytes(uint64_t psize, size_t key, size_t value, uint64_t *leaf,
                        uint64_t *overflow)
{
    bool big = LMDB_NODE_HEADER + key + value > node_max(psize);
    uint64_t node = LMDB_NODE_HEADER + key + (big ? sizeof(uint64_t) : value);
    *leaf = ((node + 1) & ~(uint64_t)1) + LMDB_SLOT;
    *overflow = big ? value : 0;
}

static double fill_of(uint64_t used, uint64_t leaf_pages, uint64_t overflow_pages, uint64_t psize)
{
    uint64_t room = (leaf_pages + overflow_pages) * (psize - LMDB_PAGE_HEADER);
    return room ? (double)used / (double)room : 1.0;
}

/* ---- repacking ---- */

/* The keys of a table: addrs keys have two lengths (an IPv4 or an IPv6
 * address), cert_index keys one. */
struct key_sizes {
    size_t min, max;
};

struct entry_array {
    uint8_t *data;        /* count entries: key length (1 byte), key (max bytes), value */
    size_t count;
};

/* Reads every entry of db, keys of keys.min..max bytes and values of
 * value_len, into out. -1 if one has another size (the table is damaged:
 * packing stops). */
static int entries_read(struct store *s, MDB_txn *txn, MDB_dbi db, const char *name,
                        struct key_sizes keys, size_t value_len, uint64_t count,
                        struct entry_array *out, char *err)
{
    size_t size = 1 + keys.max + value_len;
    MDB_cursor *cursor;
    MDB_val key, value;
    out->count = 0;
    out->data = malloc(count ? count * size : 1);
    if (!out->data) {
        snprintf(err, KS_ERRLEN, "%s: pack %s: out of memory for %llu entries", s->path, name,
                 (unsigned long long)count);
        return -1;
    }
    int rc = mdb_cursor_open(txn, db, &cursor);
    for (rc = rc ? rc : mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size < keys.min || key.mv_size > keys.max || value.mv_size != value_len ||
            out->count == count) {
            snprintf(err, KS_ERRLEN, "%s: corrupt store: %s holds an entry of another size "
                     "(kubesurvey check lists the damage)", s->path, name);
            mdb_cursor_close(cursor);
            return -1;
        }
        uint8_t *e = out->data + out->count * size;
        e[0] = (uint8_t)key.mv_size;
        memcpy(e + 1, key.mv_data, key.mv_size);
        memcpy(e + 1 + keys.max, value.mv_data, value_len);
        out->count++;
    }
    if (rc != MDB_NOTFOUND)
        return store_fail(s, rc, "read an index to pack it", NULL, err);
    mdb_cursor_close(cursor);
    return 0;
}

int store_copy_db(MDB_txn *txn, MDB_dbi from, MDB_dbi to, store_rekey_fn *rekey, void *ctx)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(txn, from, &cursor);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT))
        if ((rekey && (rc = rekey(ctx, &key))) || (rc = mdb_put(txn, to, &key, &value, MDB_APPEND)))
            break;
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The large case: through a scratch table in the same transaction, so
 * memory stays flat; the pages of two extra copies go to the free list. */
static int repack_via_scratch(MDB_txn *txn, MDB_dbi db)
{
    MDB_dbi scratch;
    int rc = mdb_dbi_open(txn, "pack_scratch", MDB_CREATE, &scratch);
    if (!rc)
        rc = mdb_drop(txn, scratch, 0);   /* left over by nothing: a transaction is atomic */
    if (!rc)
        rc = store_copy_db(txn, db, scratch, NULL, NULL);
    if (!rc)
        rc = mdb_drop(txn, db, 0);
    if (!rc)
        rc = store_copy_db(txn, scratch, db, NULL, NULL);
    if (!rc)
        rc = mdb_drop(txn, scratch, 1);
    return rc;
}

/* The usual case: the entries held in memory (32 bytes a host for addrs,
 * 25 a certificate for cert_index, at most s->pack_memory bytes), the table
 * emptied (its pages go to the free list, reused by later transactions) and
 * appended again in key order. */
static int repack_in_memory(struct store *s, MDB_txn *txn, MDB_dbi db, const char *name,
                            struct key_sizes keys, size_t value_len, uint64_t count, int *rc,
                            char *err)
{
    struct entry_array all;
    if (entries_read(s, txn, db, name, keys, value_len, count, &all, err)) {
        free(all.data);
        return -1;
    }
    *rc = mdb_drop(txn, db, 0);
    for (size_t i = 0; i < all.count && !*rc; i++) {
        uint8_t *e = all.data + i * (1 + keys.max + value_len);
        MDB_val key = {e[0], e + 1}, value = {value_len, e + 1 + keys.max};
        *rc = mdb_put(txn, db, &key, &value, MDB_APPEND);
    }
    free(all.data);
    return 0;
}

/* Rewrites db in key order if its pages are less than STORE_PACK_FILL
 * full, as estimated with the shortest keys (a table of longer ones is
 * repacked sooner, which costs time, never space) (map_full: see
 * internal.h). */
static int pack_db(struct store *s, MDB_txn *txn, MDB_dbi db, const char *name,
                   struct key_sizes keys, size_t value_len, bool *map_full, char *err)
{
    MDB_stat st;
    int rc = mdb_stat(txn, db, &st);
    if (rc)
        return store_fail(s, rc, "read an index's size", NULL, err);
    uint64_t leaf, overflow;
    entry_bytes(st.ms_psize, keys.min, value_len, &leaf, &overflow);
    if (st.ms_leaf_pages < 2 ||
        fill_of(st.ms_entries * leaf, st.ms_leaf_pages, 0, st.ms_psize) >= STORE_PACK_FILL)
        return 0;
    if (st.ms_entries * (1 + keys.max + value_len) > s->pack_memory)
        rc = repack_via_scratch(txn, db);
    else if (repack_in_memory(s, txn, db, name, keys, value_len, st.ms_entries, &rc, err))
        return -1;
    if (rc) {
        char what[64];
        snprintf(what, sizeof(what), "pack %s", name);
        return store_fail(s, rc, what, map_full, err);
    }
    return 0;
}

int store_pack_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    (void)ctx;
    struct key_sizes addr_keys = {STORE_ADDR_KEY_IPV4_LEN, STORE_ADDR_KEY_MAX};
    struct key_sizes hash_keys = {STORE_CERT_INDEX_KEY_LEN, STORE_CERT_INDEX_KEY_LEN};
    if (pack_db(s, txn, s->addrs, "addrs", addr_keys, 8, map_full, err))
        return -1;
    if (!s->certs_by_hash &&
        pack_db(s, txn, s->cert_index, "cert_index", hash_keys, STORE_CERT_KEY_LEN, map_full, err))
        return -1;
    return 0;
}

/* ---- usage ---- */

/* Walks db: entries, and the bytes its leaf and overflow pages hold. */
static int db_usage(struct store *s, MDB_txn *txn, MDB_dbi db, const char *name,
                    struct store_db_usage *u, char *err)
{
    MDB_stat st;
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_stat(txn, db, &st);
    if (!rc)
        rc = mdb_cursor_open(txn, db, &cursor);
    if (rc)
        return store_fail(s, rc, "measure a table", NULL, err);
    memset(u, 0, sizeof(*u));
    u->name = name;
    u->entries = st.ms_entries;
    u->branch_pages = st.ms_branch_pages;
    u->leaf_pages = st.ms_leaf_pages;
    u->overflow_pages = st.ms_overflow_pages;
    u->bytes = (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
    uint64_t used = 0;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        uint64_t leaf, overflow;
        entry_bytes(st.ms_psize, key.mv_size, value.mv_size, &leaf, &overflow);
        used += leaf + overflow;
        u->data_bytes += key.mv_size + value.mv_size;
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND)
        return store_fail(s, rc, "measure a table", NULL, err);
    u->fill = fill_of(used, st.ms_leaf_pages, st.ms_overflow_pages, st.ms_psize);
    return 0;
}

/* Pages on LMDB's free list: each free-list value is a page-number array
 * whose first element is its length (mdb.c's IDL). */
static int free_pages(struct store *s, MDB_txn *txn, uint64_t *pages, uint64_t *list_pages,
                      char *err)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    MDB_stat st;
    *pages = 0;
    int rc = mdb_stat(txn, 0, &st);   /* dbi 0 is LMDB's free list, as mdb_stat(1) reads it */
    if (!rc)
        rc = mdb_cursor_open(txn, 0, &cursor);
    if (rc)
        return store_fail(s, rc, "read the free list", NULL, err);
    *list_pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        size_t n;
        if (value.mv_size < sizeof(n))
            continue;
        memcpy(&n, value.mv_data, sizeof(n));
        *pages += n;
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND)
        return store_fail(s, rc, "read the free list", NULL, err);
    return 0;
}

static int usage_txn(struct store *s, MDB_txn *txn, struct store_usage *u, char *err)
{
    const char *names[] = {"scans", "hosts", "addrs", "certs", "cert_index", "dicts", "meta"};
    MDB_dbi dbis[] = {s->scans, s->hosts, s->addrs, s->certs, s->cert_index, s->dicts, s->meta};
    u->table_count = 0;
    for (size_t i = 0; i < 7; i++) {
        if (s->certs_by_hash && dbis[i] == s->cert_index)
            continue;   /* schema 2 has no cert_index */
        if (db_usage(s, txn, dbis[i], names[i], &u->tables[u->table_count++], err))
            return -1;
    }
    MDB_envinfo info;
    MDB_stat env;
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &env);
    u->page_size = env.ms_psize;
    u->file_pages = (uint64_t)info.me_last_pgno + 1;
    uint64_t list_pages;
    if (free_pages(s, txn, &u->free_pages, &list_pages, err))
        return -1;
    u->pages_in_use = u->file_pages - u->free_pages;
    struct stat st;
    int fd;   /* not by path: a scan that switched user may not reach it */
    if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st)) {
        snprintf(err, KS_ERRLEN, "%s: %s", s->path, strerror(errno));
        return -1;
    }
    u->file_bytes = (uint64_t)st.st_size;
    return 0;
}

int store_usage(struct store *s, struct store_usage *u, char *err)
{
    MDB_txn *txn;
    memset(u, 0, sizeof(*u));
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    int result = usage_txn(s, txn, u, err);
    store_txn_abort(s, txn);
    if (result == 0)
        result = store_cert_stats(s, &u->certs, err);
    return result;
}

/* ---- the minimal file ---- */

/* The last component of path. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int store_open_dir(struct store *s, char *err)
{
    char dir[4096], lock[4096];
    size_t length = (size_t)(base_name(s->path) - s->path);   /* up to and with the last '/' */
    if (length == 0)
        snprintf(dir, sizeof(dir), ".");
    else if (length == 1)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(length - 1), s->path);
    snprintf(lock, sizeof(lock), "%s-lock", s->path);
    s->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        snprintf(err, KS_ERRLEN, "%s: cannot open its directory %s: %s", s->path, dir,
                 strerror(errno));
        return -1;
    }
    s->lock_probe_fd = open(lock, O_RDONLY | O_CLOEXEC);
    if (s->lock_probe_fd < 0) {
        snprintf(err, KS_ERRLEN, "%s: %s", lock, strerror(errno));
        return -1;
    }
    return 0;
}

/* Whether another process has the store open: each holds LMDB's shared
 * lock on the first byte of PATH-lock, and F_GETLK ignores the caller's
 * own locks. The descriptor stays open until the store closes: closing
 * any descriptor of a file drops the process's locks on it, LMDB's too. */
static int store_used_elsewhere(struct store *s, bool *used, pid_t *pid, char *err)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(s->lock_probe_fd, F_GETLK, &fl)) {
        snprintf(err, KS_ERRLEN, "%s-lock: %s", s->path, strerror(errno));
        return -1;
    }
    *used = fl.l_type != F_UNLCK;
    *pid = fl.l_pid;
    return 0;
}

/* The copy's file: the one prepared before privileges were given up
 * (rewrite.c), emptied, or a new one beside the store. */
static int copy_file_open(struct store *s, const char *tmp, char *err)
{
    if (s->rewrite_fd >= 0) {
        if (ftruncate(s->rewrite_fd, 0) || lseek(s->rewrite_fd, 0, SEEK_SET) < 0) {
            snprintf(err, KS_ERRLEN, "%s: empty %s: %s", s->path, tmp, strerror(errno));
            return -1;
        }
        return s->rewrite_fd;
    }
    unlinkat(s->dir_fd, tmp, 0);
    int fd = openat(s->dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        snprintf(err, KS_ERRLEN, "%s: cannot create %s beside it: %s (the store is unchanged)",
                 s->path, tmp, strerror(errno));
    return fd;
}

/* An unused copy: a prepared one is kept (emptied) for a later try. */
static void copy_file_drop(struct store *s, int fd, const char *tmp)
{
    if (fd == s->rewrite_fd) {
        (void)!ftruncate(fd, 0);
        return;
    }
    close(fd);
    unlinkat(s->dir_fd, tmp, 0);
}

/* The copy renamed over the store, by the helper when one was prepared. */
static int copy_file_rename(struct store *s, int fd, const char *tmp, const char *name,
                            char *err)
{
    if (fd == s->rewrite_fd)
        return store_rewrite_rename(s, err);
    if (renameat(s->dir_fd, tmp, s->dir_fd, name)) {
        int e = errno;
        copy_file_drop(s, fd, tmp);
        snprintf(err, KS_ERRLEN, "%s: rename the compacted copy %s: %s (the store is unchanged)",
                 s->path, tmp, strerror(e));
        return -1;
    }
    close(fd);
    int dir = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {   /* the rename itself durable */
        fsync(dir);
        close(dir);
    }
    return 0;
}

int store_shrink_file(struct store *s, bool *shrunk, char *err)
{
    bool used;
    pid_t pid;
    *shrunk = false;
    if (s->mode != STORE_READ_WRITE) {
        snprintf(err, KS_ERRLEN, "%s: cannot rewrite: the store is open read-only", s->path);
        return -1;
    }
    if (store_used_elsewhere(s, &used, &pid, err))
        return -1;
    if (used)   /* its process maps this file: replacing it would lose its writes */
        return 0;
    /* Names relative to the directory opened with the store: a scan that
     * switched user may have no access to the directories above it. */
    char tmp[4096], name[4096];
    store_copy_names(s, tmp, name, sizeof(tmp));
    int fd = copy_file_open(s, tmp, err);
    if (fd < 0)
        return -1;
    MDB_envinfo before, after;
    mdb_env_info(s->env, &before);
    /* MDB_CP_COMPACT copies the B-trees page by page, leaving the free
     * list out: the copy's size is the pages in use. */
    int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
    if (rc == 0) {
        /* A process that opened the store, wrote and left during the copy:
         * its transaction is not in the copy, so the copy is dropped. */
        mdb_env_info(s->env, &after);
        if (store_used_elsewhere(s, &used, &pid, err))
            used = true;
        if (used || after.me_last_txnid != before.me_last_txnid) {
            copy_file_drop(s, fd, tmp);
            return 0;
        }
    }
    if (rc || fsync(fd)) {
        int e = rc ? rc : errno;
        copy_file_drop(s, fd, tmp);
        snprintf(err, KS_ERRLEN, "%s: write the compacted copy %s: %s (the store is unchanged)",
                 s->path, tmp, rc ? mdb_strerror(e) : strerror(e));
        return -1;
    }
    if (copy_file_rename(s, fd, tmp, name, err))
        return -1;
    *shrunk = true;
    return 0;
}

int store_finish_file(struct store *s, bool *shrunk, char *err)
{
    struct store_usage u;
    *shrunk = false;
    if (store_usage(s, &u, err))
        return -1;
    if ((double)u.file_bytes <= STORE_FILE_SLACK * (double)(u.pages_in_use * u.page_size))
        return 0;
    return store_shrink_file(s, shrunk, err);
}
