/*
 * cmd_cert.c - kubesurvey cert DB SHA256: prints a stored certificate.
 */
#include "storage/storage.h"
#include "tools/cli/cli.h"

#include <getopt.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cert_usage(FILE *out)
{
    fprintf(out,
            "usage: kubesurvey cert DB SHA256 [--pem|--der|--text]\n\n"
            "Prints the certificate whose DER has the SHA-256 SHA256 (64 hex digits),\n"
            "as `kubesurvey show` lists them.\n\n"
            "  --pem        PEM (the default)\n"
            "  --der        the raw DER bytes\n"
            "  --text       decoded, as `openssl x509 -text` prints it\n"
            "  -h, --help   this text\n");
}

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

int cmd_cert(int argc, char **argv)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                                            {"pem", no_argument, NULL, 'p'},
                                            {"der", no_argument, NULL, 'd'},
                                            {"text", no_argument, NULL, 't'},
                                            {0}};
    char format = 'p';
    int formats = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            cert_usage(stdout);
            return EXIT_OK;
        case 'p':
        case 'd':
        case 't':
            format = (char)opt;
            formats++;
            break;
        default:
            cert_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || formats > 1) {
        if (formats > 1)
            cli_message("give one of --pem, --der, --text");
        cert_usage(stderr);
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
