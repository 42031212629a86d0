/*
 * store.c - opening and closing the LMDB environment (the schema check, the
 * certificate upgrade, the descriptors of the minimal file) and the scans
 * sub-database. The layer below it, which certs.c and pack.c use too, is
 * txn.c.
 */
#include "lib/buf.h"
#include "storage/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- opening ---- */

/* The meta value of name: *found says whether meta has it. */
static int meta_get(struct store *s, MDB_txn *txn, const char *name, MDB_val *value, bool *found,
                    char *err)
{
    MDB_val key = {strlen(name), (void *)name};
    int rc = mdb_get(txn, s->meta, &key, value);
    *found = rc == 0;
    if (rc && rc != MDB_NOTFOUND) {
        char what[64];
        snprintf(what, sizeof(what), "read meta %s", name);
        return store_fail(s, rc, what, NULL, err);
    }
    return 0;
}

static int meta_put(struct store *s, MDB_txn *txn, const char *name, const void *data,
                    size_t length, char *err)
{
    MDB_val key = {strlen(name), (void *)name};
    MDB_val value = {length, (void *)data};
    int rc = mdb_put(txn, s->meta, &key, &value, 0);
    return rc ? store_fail(s, rc, "write the schema version", NULL, err) : 0;
}

static int schema_create(struct store *s, MDB_txn *txn, char *err)
{
    static const char *const names[] = {"scans", "hosts", "addrs", "certs", "cert_index",
                                        "dicts", "meta"};
    MDB_dbi *dbis[] = {&s->scans, &s->hosts, &s->addrs, &s->certs, &s->cert_index, &s->dicts,
                       &s->meta};
    for (int i = 0; i < 7; i++) {
        int rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]);
        if (rc) {
            store_rc_error(s, err, "create the sub-databases", rc);
            return -1;
        }
    }
    uint8_t version[4];
    be32_put(version, STORE_SCHEMA_VERSION);
    if (meta_put(s, txn, "format", STORE_FORMAT_NAME, strlen(STORE_FORMAT_NAME), err) ||
        meta_put(s, txn, "schema_version", version, 4, err))
        return -1;
    return 0;
}

static int schema_verify(struct store *s, MDB_txn *txn, char *err)
{
    int rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
        snprintf(err, KS_ERRLEN, "%s: not a kubesurvey store (an LMDB file without "
                 "kubesurvey's 'meta' database)", s->path);
        return -1;
    }
    if (rc) {
        store_rc_error(s, err, "open the meta database", rc);
        return -1;
    }
    MDB_val format, version;
    bool found;
    if (meta_get(s, txn, "format", &format, &found, err))
        return -1;
    if (!found || format.mv_size != strlen(STORE_FORMAT_NAME) ||
        memcmp(format.mv_data, STORE_FORMAT_NAME, format.mv_size) != 0) {
        snprintf(err, KS_ERRLEN, "%s: not a kubesurvey store (meta has no format '%s')", s->path,
                 STORE_FORMAT_NAME);
        return -1;
    }
    if (meta_get(s, txn, "schema_version", &version, &found, err))
        return -1;
    if (!found || version.mv_size != 4) {
        snprintf(err, KS_ERRLEN, "%s: corrupt store: no valid schema_version in meta", s->path);
        return -1;
    }
    uint32_t schema = be32_get(version.mv_data);
    if (schema > STORE_SCHEMA_VERSION) {
        snprintf(err, KS_ERRLEN, "%s: schema version %u is newer than this kubesurvey "
                 "supports (%u); use a newer kubesurvey", s->path, schema, STORE_SCHEMA_VERSION);
        return -1;
    }
    if (schema == 0) {
        snprintf(err, KS_ERRLEN, "%s: corrupt store: schema version 0", s->path);
        return -1;
    }
    if (schema < STORE_SCHEMA_CERTS_BY_HASH) {
        /* Schema 1 keyed hosts by address; nothing released wrote it. */
        snprintf(err, KS_ERRLEN, "%s: schema version %u was written by an older development "
                 "build of kubesurvey; this build reads schema %u only (export the data with the "
                 "older build)", s->path, schema, STORE_SCHEMA_VERSION);
        return -1;
    }
    /* Schema 2 keyed certs by SHA-256, schema 3 addrs by IPv4 address: read
     * as they are, upgraded by the first read-write open (store_open,
     * store_upgrade_txn). */
    s->certs_by_hash = schema == STORE_SCHEMA_CERTS_BY_HASH;
    s->ipv4_keys = schema <= STORE_SCHEMA_IPV4_KEYS;
    static const char *const names[] = {"scans", "hosts", "addrs", "certs", "dicts", "cert_index"};
    MDB_dbi *dbis[] = {&s->scans, &s->hosts, &s->addrs, &s->certs, &s->dicts, &s->cert_index};
    for (int i = 0; i < (s->certs_by_hash ? 5 : 6); i++) {
        rc = mdb_dbi_open(txn, names[i], 0, dbis[i]);
        if (rc) {
            snprintf(err, KS_ERRLEN, "%s: corrupt store: sub-database '%s' missing (%s)", s->path,
                     names[i], mdb_strerror(rc));
            return -1;
        }
    }
    return 0;
}

/* LMDB maps the file and would die of SIGBUS reading past a truncated end:
 * refuse a file shorter than the pages its meta page says are in use. */
static int check_not_truncated(struct store *s, char *err)
{
    MDB_envinfo info;
    MDB_stat ms;
    struct stat st;
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &ms);
    if (stat(s->path, &st)) {
        snprintf(err, KS_ERRLEN, "%s: %s", s->path, strerror(errno));
        return -1;
    }
    uint64_t needed = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
    if ((uint64_t)st.st_size < needed) {
        snprintf(err, KS_ERRLEN, "%s: corrupt store: the file is truncated (%lld bytes, its "
                 "pages need %llu)", s->path, (long long)st.st_size, (unsigned long long)needed);
        return -1;
    }
    return 0;
}

/* LMDB trusts its file: on a damaged B-tree page it fails an assertion and
 * aborts. The handler (set by the program) gets a clear message first. */
static void (*fatal_handler)(const char *message);

void store_set_fatal_handler(void (*handler)(const char *message))
{
    fatal_handler = handler;
}

static void lmdb_assert(MDB_env *env, const char *msg)
{
    const struct store *s = mdb_env_get_userctx(env);
    char text[KS_ERRLEN];
    snprintf(text, sizeof(text), "%s: the database file is corrupt (LMDB: %s)",
             s ? s->path : "?", msg);
    if (fatal_handler)
        fatal_handler(text);
}

/* Creates s->env with our settings (not yet opened). */
static int env_setup(struct store *s, char *err)
{
    int rc = mdb_env_create(&s->env);
    if (rc) {
        s->env = NULL;
        return store_fail(s, rc, "create the LMDB environment", NULL, err);
    }
    rc = mdb_env_set_maxdbs(s->env, 10);
    if (!rc)
        rc = mdb_env_set_mapsize(s->env, STORE_INITIAL_MAP);
    if (!rc)
        rc = mdb_env_set_userctx(s->env, s);
    if (!rc)
        rc = mdb_env_set_assert(s->env, lmdb_assert);
    if (rc) {
        mdb_env_close(s->env);
        s->env = NULL;
        return store_fail(s, rc, "create the LMDB environment", NULL, err);
    }
    return 0;
}

static int env_open(struct store *s, char *err)
{
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
    if (s->mode == STORE_READ_ONLY)
        flags |= MDB_RDONLY;
    if (env_setup(s, err))
        return -1;
    int rc = mdb_env_open(s->env, s->path, flags, 0644);
    if (rc == EACCES && s->mode == STORE_READ_ONLY) {
        /* A read-only directory without a lock file: no writer can be
         * using the store (it would have created the lock file). */
        char lock[4096];
        snprintf(lock, sizeof(lock), "%s-lock", s->path);
        if (access(lock, F_OK) != 0) {
            mdb_env_close(s->env);
            if (env_setup(s, err))
                return -1;
            rc = mdb_env_open(s->env, s->path, flags | MDB_NOLOCK, 0644);
        }
    }
    switch (rc) {
    case 0:
        return 0;
    case MDB_INVALID:
        snprintf(err, KS_ERRLEN, "%s: not an LMDB file (a foreign or corrupt file)", s->path);
        break;
    case MDB_VERSION_MISMATCH:
        snprintf(err, KS_ERRLEN, "%s: written by an incompatible LMDB version", s->path);
        break;
    case EACCES:
    case EPERM:
    case EROFS:
        snprintf(err, KS_ERRLEN, "%s: cannot open %s: %s (the file and its directory must be "
                 "writable for the lock file %s-lock)", s->path,
                 s->mode == STORE_READ_ONLY ? "for reading" : "for writing", strerror(rc), s->path);
        break;
    case ENOENT:
        snprintf(err, KS_ERRLEN, "%s: no such file or directory", s->path);
        break;
    default:
        store_rc_error(s, err, "open", rc);
    }
    mdb_env_close(s->env);
    s->env = NULL;
    return -1;
}

static int schema_open(struct store *s, char *err)
{
    MDB_txn *txn;
    bool write = s->mode == STORE_READ_WRITE;
    if (store_txn_begin(s, write, &txn, err))
        return -1;
    MDB_dbi main_dbi;
    MDB_stat stat;
    int rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    if (!rc)
        rc = mdb_stat(txn, main_dbi, &stat);
    if (rc) {
        store_rc_error(s, err, "read the main database", rc);
        store_txn_abort(s, txn);
        return -1;
    }
    int ok;
    if (stat.ms_entries == 0 && write) {
        ok = schema_create(s, txn, err);
    } else if (stat.ms_entries == 0) {
        snprintf(err, KS_ERRLEN, "%s: an empty LMDB file, not a kubesurvey store", s->path);
        ok = -1;
    } else {
        ok = schema_verify(s, txn, err);
    }
    if (ok) {
        store_txn_abort(s, txn);
        return -1;
    }
    /* Committing (also a read transaction) keeps the dbi handles open. */
    return store_txn_commit(s, txn, "write the schema", NULL, err);
}

/* An older schema to the current one, in one transaction: killed midway,
 * the store stays as it was. */
static int store_upgrade_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    uint8_t version[4];
    be32_put(version, STORE_SCHEMA_VERSION);
    if ((s->certs_by_hash && cert_upgrade_txn(s, txn, ctx, map_full, err)) ||
        (s->ipv4_keys && addrs_upgrade_txn(s, txn, ctx, map_full, err)))
        return -1;
    MDB_val key = {14, "schema_version"}, value = {4, version};
    int rc = mdb_put(txn, s->meta, &key, &value, 0);
    return rc ? store_fail(s, rc, "write the schema version", map_full, err) : 0;
}

int store_open(struct store **out, const char *path, enum store_mode mode, char *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, KS_ERRLEN, "%s: is a directory (the store is a single LMDB file)", path);
        return -1;
    }
    if (mode == STORE_READ_ONLY && stat(path, &st) != 0) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (mode == STORE_READ_ONLY && st.st_size == 0) {
        snprintf(err, KS_ERRLEN, "%s: an empty file, not a kubesurvey store", path);
        return -1;
    }
    struct store *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, KS_ERRLEN, "%s: out of memory", path);
        return -1;
    }
    s->mode = mode;
    s->lock_probe_fd = s->dir_fd = s->rewrite_fd = s->rewrite_sock = -1;
    s->dict_train_at = STORE_DICT_TRAIN_AT;
    s->pack_memory = STORE_PACK_MEMORY;
    pthread_rwlock_init(&s->resize_lock, NULL);
    pthread_mutex_init(&s->ddict_lock, NULL);
    if (env_open(s, err) || check_not_truncated(s, err) || schema_open(s, err) ||
        (mode == STORE_READ_WRITE && store_open_dir(s, err)) ||
        (s->ipv4_keys && mode == STORE_READ_WRITE &&
         store_write_txn(s, store_upgrade_txn, NULL, "upgrade the store to schema 4", err))) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_rewrite_end(s);
    cert_ddict_cache_free(s);
    if (s->env)
        mdb_env_close(s->env);
    if (s->lock_probe_fd >= 0)   /* after LMDB's own descriptor: see store_used_elsewhere */
        close(s->lock_probe_fd);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    pthread_mutex_destroy(&s->ddict_lock);
    pthread_rwlock_destroy(&s->resize_lock);
    free(s->path);
    free(s);
}

void store_set_dict_training(struct store *s, unsigned at_certs)
{
    s->dict_train_at = at_certs;
}

void store_set_pack_memory(struct store *s, uint64_t bytes)
{
    s->pack_memory = bytes;
}

/* ---- scans ---- */

int store_json_check_object(const char *json, const char *what, char *err)
{
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr);
    if (!root || !json_is_object(root)) {
        snprintf(err, KS_ERRLEN, "%s: not a JSON object (%s, line %d)", what,
                 root ? "another JSON type" : jerr.text, jerr.line);
        json_decref(root);
        return -1;
    }
    json_decref(root);
    return 0;
}

struct scan_write {
    const char *json;
    uint32_t id;       /* in: for update; out: for create */
    bool create;
};

static int scan_write_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    struct scan_write *sw = ctx;
    uint8_t keybuf[4];
    MDB_val key = {4, keybuf}, value;
    int rc;
    if (sw->create) {
        MDB_cursor *cursor;
        if ((rc = mdb_cursor_open(txn, s->scans, &cursor)))
            return store_fail(s, rc, "read the scans", NULL, err);
        rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
        uint32_t last = 0;
        if (rc == 0 && key.mv_size == 4)
            last = be32_get(key.mv_data);
        mdb_cursor_close(cursor);
        if (rc && rc != MDB_NOTFOUND)
            return store_fail(s, rc, "read the scans", NULL, err);
        if (last == UINT32_MAX) {
            snprintf(err, KS_ERRLEN, "%s: no scan id left", s->path);
            return -1;
        }
        sw->id = last + 1;
    } else {
        be32_put(keybuf, sw->id);
        key = (MDB_val){4, keybuf};
        rc = mdb_get(txn, s->scans, &key, &value);
        if (rc == MDB_NOTFOUND) {
            snprintf(err, KS_ERRLEN, "%s: no scan %u", s->path, sw->id);
            return -1;
        }
        if (rc)
            return store_fail(s, rc, "read a scan", NULL, err);
    }
    be32_put(keybuf, sw->id);
    key = (MDB_val){4, keybuf};
    value = (MDB_val){strlen(sw->json), (void *)sw->json};
    rc = mdb_put(txn, s->scans, &key, &value, 0);
    return rc ? store_fail(s, rc, "write a scan", map_full, err) : 0;
}

int store_scan_create(struct store *s, const char *json, uint32_t *id, char *err)
{
    if (store_json_check_object(json, "scan JSON", err))
        return -1;
    struct scan_write sw = {json, 0, true};
    if (store_write_txn(s, scan_write_txn, &sw, "create a scan", err))
        return -1;
    *id = sw.id;
    return 0;
}

int store_scan_update(struct store *s, uint32_t id, const char *json, char *err)
{
    if (store_json_check_object(json, "scan JSON", err))
        return -1;
    struct scan_write sw = {json, id, false};
    return store_write_txn(s, scan_write_txn, &sw, "update a scan", err);
}

static char *copy_text(const MDB_val *v)
{
    char *text = malloc(v->mv_size + 1);
    if (text) {
        memcpy(text, v->mv_data, v->mv_size);
        text[v->mv_size] = '\0';
    }
    return text;
}

int store_scan_get(struct store *s, uint32_t id, struct store_scan *out, char *err)
{
    MDB_txn *txn;
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    uint8_t keybuf[4];
    be32_put(keybuf, id);
    MDB_val key = {4, keybuf}, value;
    int rc = mdb_get(txn, s->scans, &key, &value);
    int result = -1;
    if (rc == MDB_NOTFOUND)
        snprintf(err, KS_ERRLEN, "%s: no scan %u", s->path, id);
    else if (rc)
        store_rc_error(s, err, "read a scan", rc);
    else if (!(out->json = copy_text(&value)))
        snprintf(err, KS_ERRLEN, "out of memory");
    else {
        out->id = id;
        result = 0;
    }
    store_txn_abort(s, txn);
    return result;
}

int store_scan_foreach(struct store *s, int (*fn)(void *ctx, const struct store_scan *scan),
                       void *ctx, char *err)
{
    MDB_txn *txn;
    MDB_cursor *cursor;
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    int rc = mdb_cursor_open(txn, s->scans, &cursor);
    if (rc) {
        store_rc_error(s, err, "read the scans", rc);
        store_txn_abort(s, txn);
        return -1;
    }
    MDB_val key, value;
    int result = 0;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != 4)
            continue;
        struct store_scan scan = {be32_get(key.mv_data), copy_text(&value)};
        if (!scan.json) {
            snprintf(err, KS_ERRLEN, "out of memory");
            result = -1;
            break;
        }
        int stop = fn(ctx, &scan);
        free(scan.json);
        if (stop)
            break;
    }
    if (rc && rc != MDB_NOTFOUND && result == 0) {
        store_rc_error(s, err, "read the scans", rc);
        result = -1;
    }
    mdb_cursor_close(cursor);
    store_txn_abort(s, txn);
    return result;
}

int store_scan_host_count(struct store *s, uint32_t scan_id, uint64_t *count, char *err)
{
    MDB_txn *txn;
    MDB_cursor *cursor;
    *count = 0;
    if (store_txn_begin(s, false, &txn, err))
        return -1;
    int rc = mdb_cursor_open(txn, s->addrs, &cursor);
    if (rc) {
        store_rc_error(s, err, "read the hosts", rc);
        store_txn_abort(s, txn);
        return -1;
    }
    uint8_t prefix[4];
    be32_put(prefix, scan_id);
    MDB_val key = {sizeof(prefix), prefix}, value;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT_NODUP)) {
        if (key.mv_size < 4 || be32_get(key.mv_data) != scan_id)
            break;
        (*count)++;
    }
    mdb_cursor_close(cursor);
    store_txn_abort(s, txn);
    if (rc && rc != MDB_NOTFOUND) {
        store_rc_error(s, err, "count the hosts", rc);
        return -1;
    }
    return 0;
}
