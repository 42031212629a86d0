/*
 * record.c - the host record: a probe_result as a compact, versioned byte
 * string (docs/storage.md, "hosts"), written and read by walking the field
 * table, record_fields[] (declared in lib/record.h, defined in lib/record.c).
 *
 * Layout: a version byte (the encoder writes STORE_RECORD_VERSION, which is
 * the table's RECORD_VERSION); a flags byte holding every FIELD_BOOL field
 * of the table (bit i = the i-th boolean in table order; at most 8; the
 * bits of booleans newer than the record are 0, and they decode as false); then
 * every other FIELD_STORED field whose `since` is 1, in table order, then
 * those whose `since` is 2, and so on up to the record's version. So addr
 * and port, first in the table but added by version 2 (hosts are keyed by
 * arrival since, not by address), come last; a version 1 record has none
 * and decodes with address 0, port 0. Types: varints (LEB128; signed ones
 * zig-zag) for numbers and enumerations, nullable byte strings (varint
 * length+1, 0 = NULL, then the bytes) for strings and the body, the chain
 * as a count then per certificate its DER length and 32-byte SHA-256, the
 * address and port (2 bytes) big-endian. The address is 4 bytes IPv4 up to
 * version 4; from version 5 (RECORD_VERSION_ADDR_FAMILY) a family byte, 4
 * or 6, then 4 or 16 bytes, so an IPv4 record grows by one byte only. A new field is appended
 * with the next version. A decoder reads the fields of every version up to
 * the record's own; a record of version 0 or newer than it knows, with
 * unknown flag bits, a value out of range, or bytes missing or left over
 * does not decode (-1: corrupt).
 */
#include "storage/internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(STORE_RECORD_VERSION == RECORD_VERSION,
               "the store writes the newest record version the field table describes");

/* ---- encoding ---- */

static void put_byte(struct buf *b, uint8_t v)
{
    b->data[b->length++] = v;
}

static void put_varint(struct buf *b, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(b, (uint8_t)v);
}

static void put_signed(struct buf *b, int64_t v)
{
    put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void put_bytes(struct buf *b, const void *data, size_t length)
{
    if (length)
        memcpy(b->data + b->length, data, length);
    b->length += length;
}

/* A nullable byte string: varint length+1 (0 = NULL), then the bytes. */
static void put_nullable(struct buf *b, const void *data, size_t length)
{
    if (!data) {
        put_varint(b, 0);
        return;
    }
    put_varint(b, (uint64_t)length + 1);
    put_bytes(b, data, length);
}

static void put_string(struct buf *b, const char *s)
{
    put_nullable(b, s, s ? strlen(s) : 0);
}

static void put_addr(struct buf *b, const struct net_addr *a)
{
    bool v4 = net_addr_is_ipv4(a);
    put_byte(b, v4 ? 4 : 6);
    put_bytes(b, a->bytes, v4 ? 4 : 16);
}

/* An upper bound of the bytes field f of r takes. */
static size_t field_size(const struct probe_result *r, const struct record_field *f)
{
    const char *str;
    switch (f->type) {
    case FIELD_STRING:
        str = *(char *const *)record_field_ptr(r, f);
        return str ? strlen(str) + 10 : 1;
    case FIELD_BODY: return r->body_length + 10;
    case FIELD_CHAIN: return 10 + r->chain_length * (10 + 32);
    case FIELD_ADDR: return 1 + 16;
    default: return 10;
    }
}

static void put_field(struct buf *b, const struct probe_result *r, const struct record_field *f)
{
    const void *p = record_field_ptr(r, f);
    uint8_t be[4];
    switch (f->type) {
    case FIELD_ADDR: put_addr(b, p); break;
    case FIELD_PORT:
        be16_put(be, *(const uint16_t *)p);
        put_bytes(b, be, 2);
        break;
    case FIELD_I64: put_signed(b, *(const int64_t *)p); break;
    case FIELD_U32:
    case FIELD_EVIDENCE: put_varint(b, *(const uint32_t *)p); break;
    case FIELD_INT:
    case FIELD_STATUS: put_signed(b, *(const int *)p); break;
    case FIELD_STRING: put_string(b, *(char *const *)p); break;
    case FIELD_OUTCOME: put_varint(b, (uint64_t)*(const enum probe_outcome *)p); break;
    case FIELD_VERDICT: put_varint(b, (uint64_t)*(const enum k8s_verdict *)p); break;
    case FIELD_VERSION_STATE: put_varint(b, (uint64_t)*(const enum version_state *)p); break;
    case FIELD_CHAIN:
        put_varint(b, r->chain_length);
        for (size_t i = 0; i < r->chain_length; i++) {
            put_varint(b, r->chain[i].length);
            put_bytes(b, r->chain[i].sha256, 32);
        }
        break;
    case FIELD_BODY: put_nullable(b, r->body, r->body_length); break;
    case FIELD_BOOL: /* in the flags byte */
    case FIELD_K8S:  /* JSON only */
    case FIELD_SIZE: /* derived */
        break;
    }
}

/* Is f one of the fields a record of `version` holds in its body (not the
 * flags byte)? */
static bool stored_in(const struct record_field *f, unsigned version)
{
    return (f->flags & FIELD_STORED) && f->type != FIELD_BOOL && f->since == version;
}

int record_encode(struct buf *out, const struct probe_result *r, char *err)
{
    if (r->chain_length > PROBE_CHAIN_MAX) {
        snprintf(err, KS_ERRLEN, "record encode: chain_length %zu exceeds %d", r->chain_length,
                 PROBE_CHAIN_MAX);
        return -1;
    }
    size_t need = 2;
    for (size_t i = 0; i < record_field_count; i++)
        need += field_size(r, &record_fields[i]);
    out->length = 0;
    if (buf_reserve(out, need)) {
        snprintf(err, KS_ERRLEN, "record encode: out of memory");
        return -1;
    }
    put_byte(out, STORE_RECORD_VERSION);
    uint8_t flags = 0;
    unsigned bit = 0;
    for (size_t i = 0; i < record_field_count; i++)
        if (record_fields[i].type == FIELD_BOOL &&
            *(const bool *)record_field_ptr(r, &record_fields[i]))
            flags |= (uint8_t)(1u << bit++);
        else if (record_fields[i].type == FIELD_BOOL)
            bit++;
    put_byte(out, flags);
    for (unsigned version = 1; version <= STORE_RECORD_VERSION; version++)
        for (size_t i = 0; i < record_field_count; i++)
            if (stored_in(&record_fields[i], version))
                put_field(out, r, &record_fields[i]);
    return 0;
}

/* ---- decoding ---- */

struct reader {
    const uint8_t *p, *end;
    unsigned version;    /* the record's */
    const char *bad;     /* first problem, NULL while fine */
};

static void fail(struct reader *rd, const char *why)
{
    if (!rd->bad)
        rd->bad = why;
    rd->p = rd->end;
}

static uint64_t get_varint(struct reader *rd)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (rd->p >= rd->end) {
            fail(rd, "truncated varint");
            return 0;
        }
        uint8_t byte = *rd->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    fail(rd, "varint longer than 10 bytes");
    return 0;
}

static int64_t get_signed(struct reader *rd)
{
    uint64_t v = get_varint(rd);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int get_int(struct reader *rd)
{
    int64_t v = get_signed(rd);
    if (v < INT_MIN || v > INT_MAX) {
        fail(rd, "integer out of range");
        return 0;
    }
    return (int)v;
}

/* An enumeration value below count (its _COUNT). */
static unsigned get_enum(struct reader *rd, unsigned count, const char *what)
{
    uint64_t v = get_varint(rd);
    if (v >= count) {
        fail(rd, what);
        return 0;
    }
    return (unsigned)v;
}

/* Nullable bytes; adds a NUL so strings come out terminated. */
static uint8_t *get_nullable(struct reader *rd, size_t *length)
{
    uint64_t n = get_varint(rd);
    *length = 0;
    if (n == 0 || rd->bad)
        return NULL;
    n--;
    if (n > (uint64_t)(rd->end - rd->p)) {
        fail(rd, "field longer than the record");
        return NULL;
    }
    uint8_t *data = malloc(n + 1);
    if (!data) {
        fail(rd, "out of memory");
        return NULL;
    }
    memcpy(data, rd->p, n);
    data[n] = '\0';
    rd->p += n;
    *length = n;
    return data;
}

static char *get_string(struct reader *rd)
{
    size_t length;
    char *s = (char *)get_nullable(rd, &length);
    if (s && memchr(s, '\0', length)) {
        fail(rd, "NUL inside a string");
        free(s);
        return NULL;
    }
    return s;
}

static uint32_t get_u32(struct reader *rd, const char *what)
{
    uint64_t v = get_varint(rd);
    if (v > UINT32_MAX) {
        fail(rd, what);
        return 0;
    }
    return (uint32_t)v;
}

static void get_chain(struct reader *rd, struct probe_result *r)
{
    uint64_t chain_length = get_varint(rd);
    if (chain_length > PROBE_CHAIN_MAX) {
        fail(rd, "chain longer than PROBE_CHAIN_MAX");
        return;
    }
    r->chain_length = (size_t)chain_length;
    for (size_t i = 0; i < r->chain_length && !rd->bad; i++) {
        uint64_t der_length = get_varint(rd);
        if (der_length == 0 || der_length > STORE_CERT_MAX)
            fail(rd, "certificate length out of range");
        r->chain[i].length = (size_t)der_length;
        if (rd->end - rd->p < 32) {
            fail(rd, "truncated certificate hash");
        } else {
            memcpy(r->chain[i].sha256, rd->p, 32);
            rd->p += 32;
        }
    }
}

/* Up to version 4 a record's address is IPv4; from 5 it names its family. */
static void get_addr(struct reader *rd, struct net_addr *a)
{
    unsigned family = 4;
    if (rd->version >= RECORD_VERSION_ADDR_FAMILY) {
        family = rd->p < rd->end ? *rd->p++ : 0;
        if (family != 4 && family != 6) {
            fail(rd, "address family unknown");
            return;
        }
    }
    size_t size = family == 4 ? 4 : 16;
    if ((size_t)(rd->end - rd->p) < size) {
        fail(rd, "truncated address");
        return;
    }
    *a = family == 4 ? net_addr_ipv4(be32_get(rd->p)) : net_addr_ipv6(rd->p);
    rd->p += size;
}

static void get_field(struct reader *rd, struct probe_result *r, const struct record_field *f)
{
    void *p = record_field_ptr(r, f);
    switch (f->type) {
    case FIELD_ADDR: get_addr(rd, p); break;
    case FIELD_PORT:
        if (rd->end - rd->p < 2) {
            fail(rd, "truncated port");
        } else {
            *(uint16_t *)p = be16_get(rd->p);
            rd->p += 2;
        }
        break;
    case FIELD_I64: *(int64_t *)p = get_signed(rd); break;
    case FIELD_U32: *(uint32_t *)p = get_u32(rd, "duration out of range"); break;
    case FIELD_EVIDENCE: *(uint32_t *)p = get_u32(rd, "evidence out of range"); break;
    case FIELD_INT:
    case FIELD_STATUS: *(int *)p = get_int(rd); break;
    case FIELD_STRING: *(char **)p = get_string(rd); break;
    case FIELD_OUTCOME:
        *(enum probe_outcome *)p =
            (enum probe_outcome)get_enum(rd, PROBE_OUTCOME_COUNT, "outcome out of range");
        break;
    case FIELD_VERDICT:
        *(enum k8s_verdict *)p =
            (enum k8s_verdict)get_enum(rd, K8S_VERDICT_COUNT, "k8s verdict out of range");
        break;
    case FIELD_VERSION_STATE:
        *(enum version_state *)p = (enum version_state)get_enum(
            rd, VERSION_STATE_COUNT, "version state out of range");
        break;
    case FIELD_CHAIN: get_chain(rd, r); break;
    case FIELD_BODY: r->body = get_nullable(rd, &r->body_length); break;
    case FIELD_BOOL:
    case FIELD_K8S:
    case FIELD_SIZE:
        break;
    }
}

int record_decode(const uint8_t *data, size_t length, struct probe_result *r, char *err)
{
    struct reader rd = {data, data + length, 0, NULL};
    probe_result_init(r);
    if (length < 2) {
        snprintf(err, KS_ERRLEN, "record of %zu bytes is too short", length);
        return -1;
    }
    unsigned version = rd.version = *rd.p++;
    if (version == 0 || version > STORE_RECORD_VERSION) {
        snprintf(err, KS_ERRLEN, "record version %u is unknown (this build reads 1..%u)", version,
                 STORE_RECORD_VERSION);
        return -1;
    }
    unsigned flags = *rd.p++, bit = 0, known = 0;
    for (size_t i = 0; i < record_field_count; i++)
        if (record_fields[i].type == FIELD_BOOL) {
            *(bool *)record_field_ptr(r, &record_fields[i]) = flags & (1u << bit);
            if (record_fields[i].since <= version)
                known |= 1u << bit; /* a newer boolean is false in an older record */
            bit++;
        }
    if (flags & ~known)
        fail(&rd, "unknown flag bits");
    for (unsigned v = 1; v <= version; v++)
        for (size_t i = 0; i < record_field_count && !rd.bad; i++)
            if (stored_in(&record_fields[i], v))
                get_field(&rd, r, &record_fields[i]);
    if (!rd.bad && rd.p != rd.end)
        rd.bad = "trailing bytes after the last field";
    if (rd.bad) {
        snprintf(err, KS_ERRLEN, "record (version %u, %zu bytes) does not decode: %s", version,
                 length, rd.bad);
        probe_result_free(r);
        return -1;
    }
    return 0;
}
