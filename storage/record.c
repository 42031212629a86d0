/*
 * record.c - the host record: a probe_result as a compact, versioned byte
 * string (docs/storage.md, "hosts"). Address and port live in the key.
 *
 * Version 1 layout, in order: version byte; flags byte; then varints
 * (LEB128, signed ones zig-zag), nullable strings (varint length+1, 0 =
 * NULL, then the bytes) and the chain (count, then per certificate varint
 * DER length + 32-byte SHA-256). Version 2 appends the address (4 bytes)
 * and port (2 bytes), big-endian: hosts are keyed by arrival, not address.
 * A later version appends fields after the last one; a decoder reads the
 * fields of every version up to its own and refuses records newer than it
 * knows.
 */
#include "storage/internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    FLAG_TLS_DONE = 1u << 0,
    FLAG_CHAIN_TRUNCATED = 1u << 1,
    FLAG_BODY_TRUNCATED = 1u << 2,
    FLAG_KNOWN = FLAG_TLS_DONE | FLAG_CHAIN_TRUNCATED | FLAG_BODY_TRUNCATED,
};

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

static size_t string_size(const char *s)
{
    return s ? strlen(s) + 10 : 1;
}

int record_encode(struct buf *out, const struct probe_result *r, char *err)
{
    if (r->chain_length > PROBE_CHAIN_MAX) {
        snprintf(err, KS_ERRLEN, "record encode: chain_length %zu exceeds %d", r->chain_length,
                 PROBE_CHAIN_MAX);
        return -1;
    }
    const char *strings[] = {r->error, r->tls_version, r->tls_cipher, r->tls_alpn,
                             r->http_server, r->http_content_type, r->http_audit_id,
                             r->http_pf_flowschema, r->http_pf_prioritylevel, r->provider,
                             r->git_version, r->version_suffix, r->git_commit, r->build_date,
                             r->go_version, r->platform};
    size_t need = 2 + 12 * 10 + r->chain_length * (10 + 32) + r->body_length + 10 + 6;
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        need += string_size(strings[i]);
    out->length = 0;
    if (buf_reserve(out, need)) {
        snprintf(err, KS_ERRLEN, "record encode: out of memory");
        return -1;
    }
    put_byte(out, STORE_RECORD_VERSION);
    put_byte(out, (uint8_t)((r->tls_done ? FLAG_TLS_DONE : 0) |
                            (r->chain_truncated ? FLAG_CHAIN_TRUNCATED : 0) |
                            (r->body_truncated ? FLAG_BODY_TRUNCATED : 0)));
    put_signed(out, r->started_ms);
    put_varint(out, r->duration_ms);
    put_varint(out, (uint64_t)r->outcome);
    put_string(out, r->error);
    put_string(out, r->tls_version);
    put_string(out, r->tls_cipher);
    put_string(out, r->tls_alpn);
    put_varint(out, r->chain_length);
    for (size_t i = 0; i < r->chain_length; i++) {
        put_varint(out, r->chain[i].length);
        put_bytes(out, r->chain[i].sha256, 32);
    }
    put_signed(out, r->http_status);
    put_string(out, r->http_server);
    put_string(out, r->http_content_type);
    put_string(out, r->http_audit_id);
    put_string(out, r->http_pf_flowschema);
    put_string(out, r->http_pf_prioritylevel);
    put_nullable(out, r->body, r->body_length);
    put_varint(out, (uint64_t)r->k8s);
    put_varint(out, r->evidence);
    put_string(out, r->provider);
    put_varint(out, (uint64_t)r->version_state);
    put_string(out, r->git_version);
    put_signed(out, r->version_major);
    put_signed(out, r->version_minor);
    put_signed(out, r->version_patch);
    put_string(out, r->version_suffix);
    put_string(out, r->git_commit);
    put_string(out, r->build_date);
    put_string(out, r->go_version);
    put_string(out, r->platform);
    uint8_t where[6];
    store_put_be32(where, r->addr);
    where[4] = (uint8_t)(r->port >> 8);
    where[5] = (uint8_t)r->port;
    put_bytes(out, where, sizeof(where));
    return 0;
}

/* ---- decoding ---- */

struct reader {
    const uint8_t *p, *end;
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

static unsigned get_enum(struct reader *rd)
{
    uint64_t v = get_varint(rd);
    if (v > INT_MAX) {
        fail(rd, "enum value out of range");
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

int record_decode(const uint8_t *data, size_t length, struct probe_result *r, char *err)
{
    struct reader rd = {data, data + length, NULL};
    if (length < 2) {
        snprintf(err, KS_ERRLEN, "record of %zu bytes is too short", length);
        return -1;
    }
    unsigned version = *rd.p++;
    if (version == 0 || version > STORE_RECORD_VERSION) {
        snprintf(err, KS_ERRLEN, "record version %u is unknown (this build reads 1..%u)", version,
                 STORE_RECORD_VERSION);
        return -1;
    }
    unsigned flags = *rd.p++;
    if (flags & ~FLAG_KNOWN)
        fail(&rd, "unknown flag bits");
    r->tls_done = flags & FLAG_TLS_DONE;
    r->chain_truncated = flags & FLAG_CHAIN_TRUNCATED;
    r->body_truncated = flags & FLAG_BODY_TRUNCATED;
    r->started_ms = get_signed(&rd);
    uint64_t duration = get_varint(&rd);
    if (duration > UINT32_MAX)
        fail(&rd, "duration out of range");
    r->duration_ms = (uint32_t)duration;
    r->outcome = (enum probe_outcome)get_enum(&rd);
    r->error = get_string(&rd);
    r->tls_version = get_string(&rd);
    r->tls_cipher = get_string(&rd);
    r->tls_alpn = get_string(&rd);
    uint64_t chain_length = get_varint(&rd);
    if (chain_length > PROBE_CHAIN_MAX)
        fail(&rd, "chain longer than PROBE_CHAIN_MAX");
    else
        r->chain_length = (size_t)chain_length;
    for (size_t i = 0; i < r->chain_length && !rd.bad; i++) {
        uint64_t der_length = get_varint(&rd);
        if (der_length == 0 || der_length > STORE_CERT_MAX)
            fail(&rd, "certificate length out of range");
        r->chain[i].length = (size_t)der_length;
        if (rd.end - rd.p < 32)
            fail(&rd, "truncated certificate hash");
        else {
            memcpy(r->chain[i].sha256, rd.p, 32);
            rd.p += 32;
        }
    }
    r->http_status = get_int(&rd);
    r->http_server = get_string(&rd);
    r->http_content_type = get_string(&rd);
    r->http_audit_id = get_string(&rd);
    r->http_pf_flowschema = get_string(&rd);
    r->http_pf_prioritylevel = get_string(&rd);
    r->body = get_nullable(&rd, &r->body_length);
    r->k8s = (enum k8s_verdict)get_enum(&rd);
    uint64_t evidence = get_varint(&rd);
    if (evidence > UINT32_MAX)
        fail(&rd, "evidence out of range");
    r->evidence = (uint32_t)evidence;
    r->provider = get_string(&rd);
    r->version_state = (enum version_state)get_enum(&rd);
    r->git_version = get_string(&rd);
    r->version_major = get_int(&rd);
    r->version_minor = get_int(&rd);
    r->version_patch = get_int(&rd);
    r->version_suffix = get_string(&rd);
    r->git_commit = get_string(&rd);
    r->build_date = get_string(&rd);
    r->go_version = get_string(&rd);
    r->platform = get_string(&rd);
    if (version >= 2) {
        if (rd.end - rd.p < 6)
            fail(&rd, "truncated address and port");
        else {
            r->addr = store_get_be32(rd.p);
            r->port = (uint16_t)(rd.p[4] << 8 | rd.p[5]);
            rd.p += 6;
        }
    }
    /* (fields of record version 3 and later are read here) */
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
