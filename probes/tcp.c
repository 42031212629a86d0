/*
 * tcp.c - the plain transport: the request goes out as it is and the
 * response is what read(2) gives. No handshake.
 */
#include "probes/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static enum io_status tcp_start(struct conn *c, uint32_t events, struct io_failure *f)
{
    (void)c;
    (void)events;
    (void)f;
    return IO_DONE;
}

static enum io_status tcp_handshake(struct conn *c, struct io_failure *f)
{
    (void)c;
    (void)f;
    return IO_DONE;
}

static enum io_status tcp_write(struct conn *c, const char *data, size_t length,
                                struct io_failure *f)
{
    if (conn_out_append(c, data, length) == 0)
        return IO_DONE;
    f->outcome = PROBE_INTERNAL_ERROR;
    snprintf(f->text, sizeof(f->text), "out of memory for the request");
    return IO_FAILED;
}

static ssize_t tcp_read(struct conn *c, char *buffer, size_t size, struct io_failure *f)
{
    ssize_t n = conn_read_socket(c, buffer, size);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return IO_READ_AGAIN;
    f->outcome = PROBE_CLOSED;
    snprintf(f->text, sizeof(f->text), "%s while reading the response", strerror(errno));
    return IO_READ_FAILED;
}

static int tcp_abandon(struct conn *c, struct io_failure *f)
{
    (void)c;
    (void)f;
    return 0;
}

static X509 *tcp_leaf(struct conn *c)
{
    (void)c;
    return NULL;
}

static void tcp_nothing(struct conn *c)
{
    (void)c;
}

const struct transport transport_tcp = {
    .name = "tcp",
    .secure = false,
    .handshake_name = "handshake",
    .handshake_timeout = PROBE_CONNECT_TIMEOUT, /* never: start is done at once */
    .start = tcp_start,
    .handshake = tcp_handshake,
    .write = tcp_write,
    .read = tcp_read,
    .abandon = tcp_abandon,
    .leaf = tcp_leaf,
    .reset = tcp_nothing,
    .destroy = tcp_nothing,
};
