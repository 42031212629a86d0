/*
 * addrs.c - the keys of the address index (addrs) and their upgrade from
 * schema 3, whose keys had no family byte (docs/storage.md, "addrs").
 *
 * Why a family byte rather than IPv4 as v4-mapped IPv6: an IPv4 key stays
 * 11 bytes instead of 22 (the index is a tenth of a store of small
 * records), and the family orders a scan's hosts IPv4 first.
 */
#include "storage/internal.h"

#include <stdio.h>
#include <string.h>

size_t store_addr_key(const struct store *s, uint8_t key[STORE_ADDR_KEY_MAX], uint32_t scan_id,
                      const struct net_addr *addr, uint16_t port)
{
    bool v4 = net_addr_is_ipv4(addr);
    size_t at = 4;
    be32_put(key, scan_id);
    if (s->ipv4_keys && !v4)
        return 0;
    if (!s->ipv4_keys)
        key[at++] = v4 ? 4 : 6;
    memcpy(key + at, addr->bytes, v4 ? 4 : 16);
    at += v4 ? 4 : 16;
    be16_put(key + at, port);
    return at + 2;
}

bool store_addr_key_parse(const struct store *s, const MDB_val *key, uint32_t *scan_id,
                          struct net_addr *addr, uint16_t *port)
{
    const uint8_t *k = key->mv_data;
    if (key->mv_size < 4 + 4 + 2)
        return false;
    *scan_id = be32_get(k);
    if (s->ipv4_keys) {
        if (key->mv_size != STORE_ADDR_KEY_V3_LEN)
            return false;
        *addr = net_addr_ipv4(be32_get(k + 4));
    } else if (k[4] == 4 && key->mv_size == STORE_ADDR_KEY_IPV4_LEN) {
        *addr = net_addr_ipv4(be32_get(k + 5));
    } else if (k[4] == 6 && key->mv_size == STORE_ADDR_KEY_MAX) {
        *addr = net_addr_ipv6(k + 5);
    } else {
        return false;
    }
    *port = be16_get(k + key->mv_size - 2);
    return true;
}

struct upgrade {
    struct store *store;
    uint8_t key[STORE_ADDR_KEY_IPV4_LEN];
    char *err;
};

/* The schema 3 key (scan, IPv4, port) with its family byte: still in the
 * same order, so the entries can be appended (a store_rekey_fn). */
static int upgrade_key(void *ctx, MDB_val *key)
{
    struct upgrade *u = ctx;
    if (key->mv_size != STORE_ADDR_KEY_V3_LEN) {
        snprintf(u->err, KS_ERRLEN, "%s: cannot upgrade: an addrs key is %zu bytes, not %d "
                 "(kubesurvey check, with an older build, lists the damage)", u->store->path,
                 key->mv_size, STORE_ADDR_KEY_V3_LEN);
        return -1;
    }
    memcpy(u->key, key->mv_data, 4);
    u->key[4] = 4;
    memcpy(u->key + 5, (const uint8_t *)key->mv_data + 4, 6);
    *key = (MDB_val){sizeof(u->key), u->key};
    return 0;
}

int addrs_upgrade_txn(struct store *s, MDB_txn *txn, void *ctx, bool *map_full, char *err)
{
    (void)ctx;
    MDB_dbi scratch;
    struct upgrade u = {.store = s, .err = err};
    int rc = mdb_dbi_open(txn, "upgrade_scratch", MDB_CREATE, &scratch);
    if (!rc)
        rc = store_copy_db(txn, s->addrs, scratch, upgrade_key, &u);
    if (!rc)
        rc = mdb_drop(txn, s->addrs, 0);
    if (!rc)
        rc = store_copy_db(txn, scratch, s->addrs, NULL, NULL);
    if (!rc)
        rc = mdb_drop(txn, scratch, 1);
    if (rc == -1)
        return -1;
    if (rc)
        return store_fail(s, rc, "upgrade the address index to schema 4", map_full, err);
    s->ipv4_keys = false;
    return 0;
}
