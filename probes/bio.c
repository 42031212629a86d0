/*
 * bio.c - the connection's BIO: OpenSSL reads and writes through it.
 *
 * Reads go to the socket (io.c) but are skipped when nothing can have
 * arrived (skip_read). Writes go into the connection's corked output and
 * flushes do nothing; the connection sends the output itself when the
 * handshake waits for the peer, and after the request.
 */
#include "probes/internal.h"

#include <errno.h>

static BIO_METHOD *conn_bio_method;

static int conn_bio_write(BIO *b, const char *data, int length)
{
    struct conn *c = BIO_get_data(b);
    if (length <= 0)
        return 0;
    return conn_out_append(c, data, (size_t)length) < 0 ? -1 : length;
}

static int conn_bio_read(BIO *b, char *buffer, int length)
{
    struct conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->skip_read) {
        c->skip_read = false;
        BIO_set_retry_read(b);
        return -1;
    }
    ssize_t n = conn_read_socket(c, buffer, (size_t)length);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_read(b);
        return -1;
    }
    return (int)n;
}

static long conn_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_PUSH || cmd == BIO_CTRL_POP;
}

static int conn_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_conn_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kubesurvey conn");
    if (m && BIO_meth_set_write(m, conn_bio_write) && BIO_meth_set_read(m, conn_bio_read) &&
        BIO_meth_set_ctrl(m, conn_bio_ctrl) && BIO_meth_set_create(m, conn_bio_create))
        conn_bio_method = m;
    else
        BIO_meth_free(m);
}

int conn_bio_method_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_conn_bio_method);
    return conn_bio_method ? 0 : -1;
}

BIO *conn_bio_new(struct conn *c)
{
    BIO *bio = BIO_new(conn_bio_method);
    if (bio)
        BIO_set_data(bio, c);
    return bio;
}
