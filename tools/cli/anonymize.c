/*
 * anonymize.c - what an anonymised dataset may show of a record
 * (docs/export.md "Anonymised exports"), shared by `export` and `publish`.
 */
#include "tools/cli/cli.h"
#include "lib/text.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct anonymizer {
    struct cryptopan *cp;
    uint8_t hash_key[32];        /* for keyed certificate hashes */
};

/* Replaces every occurrence of `from` in a malloc'ed byte string with
 * `to`; returns the new string (length in *length) or NULL when out of
 * memory. */
static uint8_t *replace_all(const uint8_t *s, size_t *length, const char *from, const char *to)
{
    size_t from_len = strlen(from), to_len = strlen(to), n = 0;
    uint8_t *out = malloc(*length * (to_len > from_len ? to_len : 1) + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < *length;) {
        if (*length - i >= from_len && !memcmp(s + i, from, from_len)) {
            memcpy(out + n, to, to_len);
            n += to_len;
            i += from_len;
        } else {
            out[n++] = s[i++];
        }
    }
    out[n] = '\0';
    *length = n;
    return out;
}

/* Replaces the address in every text of the record (each string field and
 * a kept body) with its anonymised form; -1 when out of memory. */
static int scrub_record(struct probe_result *r, const char *real, const char *fake)
{
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        char **s = record_field_ptr(r, f);
        if (f->type != FIELD_STRING || !*s || !strstr(*s, real))
            continue;
        size_t length = strlen(*s);
        char *clean = (char *)replace_all((const uint8_t *)*s, &length, real, fake);
        if (!clean)
            return -1;
        free(*s);
        *s = clean;
    }
    if (r->body) {
        uint8_t *clean = replace_all(r->body, &r->body_length, real, fake);
        if (!clean)
            return -1;
        free(r->body);
        r->body = clean;
    }
    return 0;
}

/* Edits a copy of a record into what an anonymised dataset may show: the
 * address (prefix-preserving) wherever it appears, the certificate hashes
 * keyed (so they cannot be looked up in certificate search engines), no
 * certificate bodies, no bodies that are not version.Info. */
int anonymizer_apply(const struct anonymizer *a, struct probe_result *r, char *err)
{
    char real[NET_ADDR_TEXT_MAX], fake[NET_ADDR_TEXT_MAX];
    net_addr_text(&r->addr, real);
    cryptopan_anonymize_addr(a->cp, &r->addr, &r->addr);
    net_addr_text(&r->addr, fake);
    for (size_t i = 0; i < r->chain_length; i++) {
        uint8_t mac[32];
        unsigned mac_len = 0;
        HMAC(EVP_sha256(), a->hash_key, 32, r->chain[i].sha256, 32, mac, &mac_len);
        memcpy(r->chain[i].sha256, mac, 32);
        free(r->chain[i].der);
        r->chain[i].der = NULL;
    }
    if (r->version_state != VERSION_VALID) {
        free(r->body);
        r->body = NULL; /* body_length stays: how much there was */
    }
    if (scrub_record(r, real, fake)) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    return 0;
}


int anonymizer_load(struct anonymizer **out, const char *keyfile, char *err)
{
    uint8_t key[32];
    struct anonymizer *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    if (cryptopan_load_key(keyfile, key, err) != 0 || cryptopan_new(&a->cp, key, err) != 0) {
        free(a);
        return -1;
    }
    static const char label[] = "kubesurvey certificate hash key";
    uint8_t material[sizeof(label) - 1 + 32];
    memcpy(material, label, sizeof(label) - 1);
    memcpy(material + sizeof(label) - 1, key, 32);
    SHA256(material, sizeof(material), a->hash_key);
    *out = a;
    return 0;
}

void anonymizer_free(struct anonymizer *a)
{
    if (a)
        cryptopan_free(a->cp);
    free(a);
}
