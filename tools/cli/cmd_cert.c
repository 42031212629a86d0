/*
 * cmd_cert.c - kubesurvey cert DB SHA256: prints a stored certificate.
 */
#include "storage/storage.h"
#include "tools/cli/cli.h"
#include "tools/cli/options.h"

#include <getopt.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_sha256(const char *text, uint8_t out[32])
{
    if (strlen(text) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(text + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", text[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", text[2 * i + 1]))
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int print_cert(const uint8_t *der, size_t length, char format, const char *hash)
{
    if (format == 'd')
        return fwrite(der, 1, length, stdout) == length ? EXIT_OK : EXIT_RUNTIME;
    if (format == 'p')
        return PEM_write(stdout, "CERTIFICATE", "", der, (long)length) > 0 ? EXIT_OK : EXIT_RUNTIME;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)length);
    if (!x) {
        cli_message("%s: the stored DER does not parse as X.509 "
                "(try --der)", hash);
        return EXIT_RUNTIME;
    }
    BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);
    int ok = out && X509_print(out, x) == 1;
    BIO_free(out);
    X509_free(x);
    return ok ? EXIT_OK : EXIT_RUNTIME;
}

struct cert_options {
    char format;   /* 'p' PEM, 'd' DER, 't' text */
    int formats;   /* how many of them were given */
};

static int set_format(struct cert_options *o, char format)
{
    o->format = format;
    o->formats++;
    return 0;
}
static int set_pem(void *o, const char *arg) { (void)arg; return set_format(o, 'p'); }
static int set_der(void *o, const char *arg) { (void)arg; return set_format(o, 'd'); }
static int set_text(void *o, const char *arg) { (void)arg; return set_format(o, 't'); }

static int cmd_cert(int argc, char **argv)
{
    struct cert_options o;
    int parsed = cli_parse(&cert_command, &o, argc, argv);
    if (parsed >= 0)
        return parsed;
    char format = o.format ? o.format : 'p';
    if (argc - optind != 2 || o.formats > 1) {
        if (o.formats > 1)
            cli_message("give one of --pem, --der, --text");
        cli_help(&cert_command, stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind], *hash = argv[optind + 1];
    uint8_t sha256[32];
    if (parse_sha256(hash, sha256)) {
        cli_message("'%s' is not a SHA-256 (64 hex digits)", hash);
        return EXIT_USAGE;
    }
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, path, STORE_READ_ONLY, err)) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    uint8_t *der = NULL;
    size_t length = 0;
    bool found;
    int rc = store_cert_get(store, sha256, &der, &length, &found, err);
    store_close(store);
    if (rc != 0) {
        cli_message("%s", err);
        return EXIT_RUNTIME;
    }
    if (!found) {
        cli_message("%s: no certificate %s", path, hash);
        return EXIT_RUNTIME;
    }
    int status = print_cert(der, length, format, hash);
    free(der);
    return status;
}

static const struct cli_option cert_options[] = {
    {.name = "pem", .set = set_pem, .help = "PEM (the default)"},
    {.name = "der", .set = set_der, .help = "the raw DER bytes"},
    {.name = "text", .set = set_text, .help = "decoded, as `openssl x509 -text` prints it"},
    {0},
};

static const char *const cert_usage[] = {"DB SHA256 [--pem|--der|--text]", NULL};

const struct cli_command cert_command = {
    .name = "cert",
    .summary = "print a stored certificate (PEM, DER, text)",
    .usage = cert_usage,
    .description = "Prints the certificate whose DER has the SHA-256 SHA256 (64 hex digits),\n"
                   "as `kubesurvey show` lists them.\n",
    .options = cert_options,
    .complete_args = "@file",
    .opts_size = sizeof(struct cert_options),
    .run = cmd_cert,
};
