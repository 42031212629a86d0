/*
 * stats_driver.c - runs the statistics aggregator over a population file
 * (tests/tools/stats_population.json) and prints the statistics object, for
 * stats_oracle.py to compare with its own, independent computation.
 *
 *   stats_driver POPULATION.json AS_OF published|final DATA_DIR
 *
 * The population names certificate shapes; the driver builds each one as a
 * real X.509 certificate (leaf signed by its cluster CA, one CA per name),
 * so the cluster estimators run on certificates as a scan stores them.
 */
#include "tools/analysis/analysis.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CERTS 64

struct built_cert {
    char name[32];
    uint8_t sha256[32];
    uint8_t *der;
    int length;
};

struct ca {
    char name[64];
    EVP_PKEY *key;
    X509 *cert;
};

static struct built_cert certs[MAX_CERTS];
static size_t cert_count;
static struct ca cas[MAX_CERTS];
static size_t ca_count;

static void die(const char *what)
{
    fprintf(stderr, "stats_driver: %s\n", what);
    exit(1);
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext || !X509_add_ext(cert, ext, -1))
        die("extension");
    X509_EXTENSION_free(ext);
}

static void set_name(X509_NAME *name, const char *field, const char *value)
{
    if (value && *value &&
        !X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                    -1, 0))
        die("name");
}

/* The CA called `name` (issuer CN `cn`, OU `ou`), made on first use. */
static struct ca *ca_get(const char *name, const char *cn, const char *ou)
{
    for (size_t i = 0; i < ca_count; i++)
        if (!strcmp(cas[i].name, name))
            return &cas[i];
    if (ca_count == MAX_CERTS)
        die("too many CAs");
    struct ca *ca = &cas[ca_count++];
    snprintf(ca->name, sizeof(ca->name), "%s", name);
    ca->key = EVP_EC_gen("P-256");
    ca->cert = X509_new();
    if (!ca->key || !ca->cert)
        die("CA key");
    X509_set_version(ca->cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(ca->cert), (long)ca_count);
    X509_gmtime_adj(X509_getm_notBefore(ca->cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(ca->cert), 86400L * 3650);
    set_name(X509_get_subject_name(ca->cert), "OU", ou);
    set_name(X509_get_subject_name(ca->cert), "CN", cn);
    X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert));
    X509_set_pubkey(ca->cert, ca->key);
    add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash");
    if (!X509_sign(ca->cert, ca->key, EVP_sha256()))
        die("CA sign");
    return ca;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Builds certificate `name` from its shape in the population file. */
static void build_cert(const char *name, json_t *shape)
{
    if (cert_count == MAX_CERTS)
        die("too many certificates");
    struct built_cert *b = &certs[cert_count++];
    snprintf(b->name, sizeof(b->name), "%s", name);
    struct ca *ca = ca_get(str(shape, "ca"), str(shape, "issuer_cn"), str(shape, "issuer_ou"));
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (!key || !cert)
        die("leaf key");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)(1000 + cert_count));
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 365);
    set_name(X509_get_subject_name(cert), "O", str(shape, "subject_o"));
    set_name(X509_get_subject_name(cert), "CN", str(shape, "subject_cn"));
    X509_set_issuer_name(cert, X509_get_subject_name(ca->cert));
    X509_set_pubkey(cert, key);
    add_ext(cert, ca->cert, NID_authority_key_identifier, "keyid:always");
    json_t *sans = json_object_get(shape, "sans");
    if (json_array_size(sans)) {
        char list[2048] = "";
        size_t i;
        json_t *v;
        json_array_foreach(sans, i, v) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof(list) - used, "%sDNS:%s", i ? "," : "",
                     json_string_value(v));
        }
        add_ext(cert, ca->cert, NID_subject_alt_name, list);
    }
    if (!X509_sign(cert, ca->key, EVP_sha256()))
        die("leaf sign");
    b->der = NULL;
    b->length = i2d_X509(cert, &b->der);
    if (b->length <= 0)
        die("DER");
    SHA256(b->der, (size_t)b->length, b->sha256);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static const struct built_cert *cert_named(const char *name)
{
    for (size_t i = 0; i < cert_count; i++)
        if (!strcmp(certs[i].name, name))
            return &certs[i];
    die("unknown certificate name");
    return NULL;
}

static int lookup(void *ctx, const uint8_t sha256[32], uint8_t **der, size_t *length, char *err)
{
    (void)ctx;
    (void)err;
    for (size_t i = 0; i < cert_count; i++)
        if (!memcmp(certs[i].sha256, sha256, 32)) {
            *der = malloc((size_t)certs[i].length);
            if (!*der)
                return -1;
            memcpy(*der, certs[i].der, (size_t)certs[i].length);
            *length = (size_t)certs[i].length;
            return 1;
        }
    return 0;
}

static struct net_addr parse_addr(const char *text)
{
    struct net_addr a;
    if (!text || net_addr_parse(text, &a))
        die("bad address");
    return a;
}

/* One endpoint of the population as the probes would have recorded it. */
static void fill_result(struct probe_result *r, json_t *e)
{
    static const struct { const char *name; uint32_t bit; } evidence[] = {
        {"cert-marker", EVIDENCE_CERT_MARKER}, {"version-info", EVIDENCE_VERSION_INFO},
        {"status-body", EVIDENCE_STATUS_BODY}, {"apiserver-headers", EVIDENCE_APISERVER_HDR},
    };
    probe_result_init(r);
    r->addr = parse_addr(str(e, "addr"));
    r->port = (uint16_t)json_integer_value(json_object_get(e, "port"));
    r->tls_done = json_is_true(json_object_get(e, "tls"));
    r->all_ports_open = json_is_true(json_object_get(e, "all_ports_open"));
    const char *k8s = str(e, "k8s");
    r->k8s = !k8s || !strcmp(k8s, "no") ? K8S_NO : !strcmp(k8s, "kubelet") ? K8S_KUBELET : K8S_YES;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e, "evidence"), i, v)
        for (size_t b = 0; b < sizeof(evidence) / sizeof(evidence[0]); b++)
            if (!strcmp(json_string_value(v), evidence[b].name))
                r->evidence |= evidence[b].bit;
    if (str(e, "provider"))
        r->provider = strdup(str(e, "provider"));
    r->http_status = (int)json_integer_value(json_object_get(e, "http_status"));
    if (str(e, "git_version")) {
        r->git_version = strdup(str(e, "git_version"));
        r->version_state = VERSION_VALID;
    }
    static const char *const strings[] = {"module", "finding", "etcd_server", "etcd_cluster"};
    char **slots[] = {&r->module, &r->finding, &r->etcd_server, &r->etcd_cluster};
    for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
        if (str(e, strings[k]))
            *slots[k] = strdup(str(e, strings[k]));
    if (str(e, "cert")) {
        r->chain_length = 1;
        memcpy(r->chain[0].sha256, cert_named(str(e, "cert"))->sha256, 32);
    }
}

/* The population's pfx2as and as2org tables, as the files would hold them. */
static FILE *table_stream(json_t *pop, const char *key, char **buf, size_t *size)
{
    FILE *f = open_memstream(buf, size);
    size_t i;
    json_t *v;
    if (!f)
        die("open_memstream");
    json_array_foreach(json_object_get(pop, key), i, v)
        fprintf(f, "%s\n", json_string_value(v));
    if (fclose(f) != 0)
        die("open_memstream");
    return fmemopen(*buf, *size, "r");
}

int main(int argc, char **argv)
{
    if (argc != 5)
        die("usage: stats_driver POPULATION.json AS_OF published|final DATA_DIR");
    json_error_t jerr;
    json_t *pop = json_load_file(argv[1], 0, &jerr);
    if (!pop)
        die(jerr.text);
    char err[KS_ERRLEN];
    struct lifecycle *lc;
    if (lifecycle_load(&lc, argv[4], err) != 0)
        die(err);
    struct stats_options opt = {.lc = lc};
    if (ks_date_parse(argv[2], &opt.as_of) != 0 || lc_calendar_parse(argv[3], &opt.calendar) != 0)
        die("bad date or calendar");
    const char *name;
    json_t *shape;
    json_object_foreach(json_object_get(pop, "certs"), name, shape)
        build_cert(name, shape);

    char *pbuf = NULL, *abuf = NULL;
    size_t psize = 0, asize = 0;
    struct pfx2as *p2a = NULL;
    struct as2org *a2o = NULL;
    FILE *pf = table_stream(pop, "pfx2as", &pbuf, &psize);
    FILE *af = table_stream(pop, "as2org", &abuf, &asize);
    if (pfx2as_load_stream(&p2a, pf, "pfx2as", err) != 0 ||
        as2org_load_stream(&a2o, af, "as2org", err) != 0)
        die(err);
    fclose(pf);
    fclose(af);
    opt.pfx2as = p2a;
    opt.as2org = a2o;

    struct stats *s;
    if (stats_new(&s, &opt, err) != 0)
        die(err);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(pop, "endpoints"), i, e) {
        struct probe_result r;
        fill_result(&r, e);
        if (stats_add(s, &r, err) != 0)
            die(err);
        probe_result_free(&r);
    }
    if (stats_resolve_clusters(s, lookup, NULL, err) != 0)
        die(err);
    json_t *o = stats_to_json(s);
    json_dumpf(o, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
    putchar('\n');
    json_decref(o);
    stats_free(s);
    as2org_free(a2o);
    pfx2as_free(p2a);
    free(pbuf);
    free(abuf);
    for (size_t c = 0; c < cert_count; c++)
        OPENSSL_free(certs[c].der);
    for (size_t c = 0; c < ca_count; c++) {
        X509_free(cas[c].cert);
        EVP_PKEY_free(cas[c].key);
    }
    lifecycle_free(lc);
    json_decref(pop);
    return 0;
}
