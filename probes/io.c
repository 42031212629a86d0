/*
 * io.c - the connection's bytes on the socket, for every transport: the
 * output is corked in c->out until the connection sends it (so a TLS
 * client Finished and the request leave in one send() and one packet), and
 * reads go straight to read(2), noting what the retry and fallback rules
 * need (anything received, the first byte).
 */
#include "probes/internal.h"
#include "lib/buf.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int conn_out_append(struct conn *c, const char *data, size_t length)
{
    if (BUF_GROW(c->out, c->out_capacity, c->out_length + length, 2048))
        return -1;
    memcpy(c->out + c->out_length, data, length);
    c->out_length += length;
    return 0;
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

ssize_t conn_read_socket(struct conn *c, char *buffer, size_t size)
{
    ssize_t n = read(c->fd, buffer, size);
    if (n < 0)
        return n;
    c->last_read_full = (size_t)n == size;
    if (n > 0) {
        if (!c->got_bytes && c->first_byte < 0)
            c->first_byte = (unsigned char)buffer[0];
        c->got_bytes = true;
    }
    return n;
}
