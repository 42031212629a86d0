/*
 * bio.c - the connection's BIO.
 *
 * OpenSSL reads and writes through this BIO. Reads go straight to read(2)
 * (but see skip_read). Writes go into c->out and flushes do nothing;
 * the pool sends c->out itself when the handshake waits for the peer, and
 * after the request. So the client Finished and the HTTP request leave in
 * one send() and one packet instead of two.
 */
#include "probes/internal.h"
#include "lib/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static BIO_METHOD *conn_bio_method;

static int conn_bio_write(BIO *b, const char *data, int length)
{
    struct conn *c = BIO_get_data(b);
    if (length <= 0)
        return 0;
    if (BUF_GROW(c->out, c->out_capacity, c->out_length + (size_t)length, 2048))
        return -1;
    memcpy(c->out + c->out_length, data, (size_t)length);
    c->out_length += (size_t)length;
    return length;
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
    ssize_t n = read(c->fd, buffer, (size_t)length);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_read(b);
        return -1;
    }
    c->last_read_full = n == length;
    if (n > 0)
        c->got_bytes = true;
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

int conn_flush(struct conn *c)
{
    while (c->out_sent < c->out_length) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_length - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->out_sent += (size_t)n;
    }
    c->out_length = c->out_sent = 0;
    return 1;
}
