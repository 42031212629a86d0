/*
 * files.c - the package's files as bytes: SHA-256 of a file, lines of a
 * plain or zstd file, a zstd writer.
 */
#include "tools/publish/publish.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

int publish_sha256_file(const char *path, char out[65], char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char buf[65536], digest[32];
    unsigned length = 0;
    size_t n;
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (!EVP_DigestUpdate(md, buf, n))
            rc = -1;
    if (rc == 0 && (ferror(f) || !EVP_DigestFinal_ex(md, digest, &length)))
        rc = -1;
    if (rc == 0)
        for (unsigned i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", digest[i]);
    else
        snprintf(err, KS_ERRLEN, "%s: reading it failed", path);
    EVP_MD_CTX_free(md);
    fclose(f);
    return rc;
}

/* ---- lines ---- */

struct line_reader {
    FILE *file;
    char *path;
    ZSTD_DStream *zstd;       /* NULL for a plain file */
    uint8_t *in;              /* compressed bytes read */
    ZSTD_inBuffer zin;
    bool file_done;
    size_t frame_left;        /* last ZSTD_decompressStream hint: 0 = frame complete */
    char *data;               /* decompressed bytes not yet returned, from start */
    size_t start, length, capacity;
    char *line;               /* the line returned last */
    size_t line_capacity;
};

enum { CHUNK = 1 << 17 };

int line_reader_open(struct line_reader **out, const char *path, char *err)
{
    struct line_reader *lr = calloc(1, sizeof(*lr));
    size_t n = strlen(path);
    if (!lr) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    if (!(lr->path = strdup(path))) {
        snprintf(err, KS_ERRLEN, "out of memory");
        free(lr);
        return -1;
    }
    if (!(lr->file = fopen(path, "rb"))) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        line_reader_close(lr);
        return -1;
    }
    if (n > 4 && !strcmp(path + n - 4, ".zst") &&
        (!(lr->zstd = ZSTD_createDStream()) || !(lr->in = malloc(CHUNK)))) {
        snprintf(err, KS_ERRLEN, "out of memory");
        line_reader_close(lr);
        return -1;
    }
    *out = lr;
    return 0;
}

/* Appends more bytes to lr->data: >0 got some, 0 at the end, -1 error. */
static int fill(struct line_reader *lr, char *err)
{
    if (lr->start > 0) {
        memmove(lr->data, lr->data + lr->start, lr->length - lr->start);
        lr->length -= lr->start;
        lr->start = 0;
    }
    if (lr->capacity - lr->length < CHUNK) {
        char *grown = realloc(lr->data, lr->capacity + 2 * CHUNK);
        if (!grown) {
            snprintf(err, KS_ERRLEN, "out of memory");
            return -1;
        }
        lr->data = grown;
        lr->capacity += 2 * CHUNK;
    }
    if (!lr->zstd) {
        size_t got = fread(lr->data + lr->length, 1, CHUNK, lr->file);
        lr->length += got;
        if (!got && ferror(lr->file)) {
            snprintf(err, KS_ERRLEN, "%s: read error", lr->path);
            return -1;
        }
        return got > 0;
    }
    for (;;) {
        if (lr->zin.pos == lr->zin.size && !lr->file_done) {
            size_t got = fread(lr->in, 1, CHUNK, lr->file);
            if (!got && ferror(lr->file)) {
                snprintf(err, KS_ERRLEN, "%s: read error", lr->path);
                return -1;
            }
            lr->file_done = got == 0;
            lr->zin = (ZSTD_inBuffer){lr->in, got, 0};
        }
        if (lr->zin.pos == lr->zin.size && lr->file_done) {
            if (lr->frame_left) {
                snprintf(err, KS_ERRLEN, "%s: the zstd stream ends in the middle of a frame",
                         lr->path);
                return -1;
            }
            return 0;
        }
        ZSTD_outBuffer zout = {lr->data + lr->length, CHUNK, 0};
        size_t hint = ZSTD_decompressStream(lr->zstd, &zout, &lr->zin);
        if (ZSTD_isError(hint)) {
            snprintf(err, KS_ERRLEN, "%s: zstd: %s", lr->path, ZSTD_getErrorName(hint));
            return -1;
        }
        lr->frame_left = hint;
        lr->length += zout.pos;
        if (zout.pos)
            return 1;
    }
}

int line_reader_next(struct line_reader *lr, char **line, size_t *length, char *err)
{
    size_t scanned = 0;
    for (;;) {
        size_t unread = lr->length - lr->start - scanned;
        char *nl = unread ? memchr(lr->data + lr->start + scanned, '\n', unread) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (lr->data + lr->start));
            if (n + 1 > lr->line_capacity) {
                char *grown = realloc(lr->line, n + 1);
                if (!grown) {
                    snprintf(err, KS_ERRLEN, "out of memory");
                    return -1;
                }
                lr->line = grown;
                lr->line_capacity = n + 1;
            }
            memcpy(lr->line, lr->data + lr->start, n);
            lr->line[n] = '\0';
            lr->start += n + 1;
            *line = lr->line;
            *length = n;
            return 1;
        }
        scanned = lr->length - lr->start;
        int got = fill(lr, err);
        if (got < 0)
            return -1;
        if (got == 0) {
            if (lr->length > lr->start) {
                snprintf(err, KS_ERRLEN, "%s: the last line has no newline", lr->path);
                return -1;
            }
            return 0;
        }
    }
}

void line_reader_close(struct line_reader *lr)
{
    if (!lr)
        return;
    if (lr->file)
        fclose(lr->file);
    ZSTD_freeDStream(lr->zstd);
    free(lr->in);
    free(lr->data);
    free(lr->line);
    free(lr->path);
    free(lr);
}

/* ---- zstd writer ---- */

struct zwriter {
    FILE *file;
    char *path;
    ZSTD_CCtx *cctx;
    void *out;
    size_t out_size;
    bool failed;
};

int zwriter_open(struct zwriter **out, const char *path, char *err)
{
    struct zwriter *w = calloc(1, sizeof(*w));
    if (!w || !(w->cctx = ZSTD_createCCtx()) ||
        !(w->out = malloc(w->out_size = ZSTD_CStreamOutSize()))) {
        snprintf(err, KS_ERRLEN, "out of memory");
        zwriter_abandon(w);
        return -1;
    }
    if (!(w->path = strdup(path))) {
        snprintf(err, KS_ERRLEN, "out of memory");
        zwriter_abandon(w);
        return -1;
    }
    if (!(w->file = fopen(path, "wb"))) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        zwriter_abandon(w);
        return -1;
    }
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    *out = w;
    return 0;
}

static void drain(struct zwriter *w, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
    size_t remaining;
    do {
        ZSTD_outBuffer out = {w->out, w->out_size, 0};
        remaining = ZSTD_compressStream2(w->cctx, &out, in, mode);
        if (ZSTD_isError(remaining) || fwrite(w->out, 1, out.pos, w->file) != out.pos) {
            w->failed = true;
            return;
        }
    } while (mode == ZSTD_e_end ? remaining != 0 : in->pos < in->size);
}

int zwriter_write(struct zwriter *w, const void *data, size_t length)
{
    if (!w->failed && length) {
        ZSTD_inBuffer in = {data, length, 0};
        drain(w, &in, ZSTD_e_continue);
    }
    return w->failed ? -1 : 0;
}

int zwriter_close(struct zwriter *w, char *err)
{
    ZSTD_inBuffer in = {NULL, 0, 0};
    if (!w->failed)
        drain(w, &in, ZSTD_e_end);
    if (fclose(w->file) != 0)
        w->failed = true;
    w->file = NULL;
    int rc = w->failed ? -1 : 0;
    if (rc)
        snprintf(err, KS_ERRLEN, "writing %s failed: %s", w->path, strerror(errno));
    zwriter_abandon(w);
    return rc;
}

void zwriter_abandon(struct zwriter *w)
{
    if (!w)
        return;
    if (w->file)
        fclose(w->file);
    ZSTD_freeCCtx(w->cctx);
    free(w->out);
    free(w->path);
    free(w);
}
