/*
 * port_sample.c - hosts that answer on every port.
 *
 * Some addresses (middleboxes, tarpits, some firewalls) answer SYN-ACK on
 * every port, so a SYN scan finds "open" endpoints there that are nothing.
 * When a host first answers, the receiver sends SYNs to a few ports outside
 * the scan's list, chosen from the scan key and the address (so nothing is
 * stored to validate the replies: the cookie scheme is the same as for
 * targets). A host that answers at least PORT_SAMPLE_THRESHOLD of its
 * PORT_SAMPLE_SIZE sample ports is flagged; one sample lost on the way does
 * not hide it, and an ordinary host almost never has three random high
 * ports open.
 *
 * Bounded: one byte per responsive host (at most PORT_SAMPLE_MAX_HOSTS of
 * them), and sample SYNs at most at the scan's rate (a token bucket; a host
 * over budget is not sampled and is counted as sample_skipped).
 */
#include "engine/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { HOST_FLAGGED = 0x80 };

#define SAMPLE_TRIES 64 /* draws before giving up when the scan covers most ports */

size_t port_sample(const struct cookie_key *key, const struct target_space *space,
                   uint32_t addr, uint16_t ports[PORT_SAMPLE_SIZE])
{
    size_t n = 0;
    for (uint32_t i = 0; i < SAMPLE_TRIES && n < PORT_SAMPLE_SIZE; i++) {
        /* 12 bytes: never the 10-byte message of a cookie */
        uint8_t msg[12] = {'k', 's', 'p', 's'};
        memcpy(msg + 4, &addr, 4);
        memcpy(msg + 8, &i, 4);
        uint16_t port = (uint16_t)(PORT_SAMPLE_FIRST +
                                   siphash24(key, msg, sizeof(msg)) % (65536 - PORT_SAMPLE_FIRST));
        bool taken = space->port_slot[port] != 0;
        for (size_t k = 0; k < n && !taken; k++)
            taken = ports[k] == port;
        if (!taken)
            ports[n++] = port;
    }
    return n;
}

int port_samples_open(struct port_samples *ps, const struct scan_config *cfg,
                      const struct syn_template *tpl, char *err)
{
    memset(ps, 0, sizeof(*ps));
    ps->fd = -1;
    ps->cfg = cfg;
    ps->tpl = tpl;
    pthread_mutex_init(&ps->lock, NULL);
    hashmap_init(&ps->hosts, sizeof(uint64_t), 1);
    ps->hosts.max_count = PORT_SAMPLE_MAX_HOSTS;
    ps->fd = packet_socket_open(cfg, err);
    return ps->fd < 0 ? -1 : 0;
}

void port_samples_close(struct port_samples *ps)
{
    if (ps->fd >= 0)
        close(ps->fd);
    ps->fd = -1;
    hashmap_free(&ps->hosts);
    pthread_mutex_destroy(&ps->lock);
}

/* One more host's sample within the budget? */
static bool take_tokens(struct port_samples *ps, double n)
{
    double rate = (double)ps->cfg->rate_pps;
    if (rate <= 0)
        return true;
    uint64_t now = clock_now_ns();
    if (ps->last_ns == 0)
        ps->tokens = rate; /* a second's worth to start */
    else
        ps->tokens += rate * (double)(now - ps->last_ns) / 1e9;
    if (ps->tokens > rate)
        ps->tokens = rate;
    ps->last_ns = now;
    if (ps->tokens < n)
        return false;
    ps->tokens -= n;
    return true;
}

/* Sends the sample SYNs; one system call, no retry: the receiver must not
 * block, and a lost sample SYN only makes a flag less likely. */
static void send_sample(struct port_samples *ps, struct scan_counters *c, uint32_t addr,
                        const uint16_t *ports, size_t n)
{
    const struct scan_config *cfg = ps->cfg;
    uint8_t frames[PORT_SAMPLE_SIZE][SYN_FRAME_MAX];
    struct iovec iov[PORT_SAMPLE_SIZE];
    struct mmsghdr msgs[PORT_SAMPLE_SIZE];
    memset(msgs, 0, sizeof(msgs));
    for (size_t i = 0; i < n; i++) {
        struct syn_cookie k = syn_cookie_make(&cfg->key, &cfg->sports, cfg->net.saddr, addr,
                                              ports[i]);
        syn_template_fill(ps->tpl, frames[i], addr, k.sport, ports[i], k.seq,
                          (uint16_t)(k.seq ^ (k.seq >> 16)));
        iov[i].iov_base = frames[i];
        iov[i].iov_len = ps->tpl->length;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(ps->fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (sent < 0)
        sent = 0;
    atomic_fetch_add(&c->sample_sent, (uint64_t)sent);
    if ((size_t)sent < n)
        atomic_fetch_add(&c->send_errors, n - (size_t)sent);
}

void port_samples_host(struct port_samples *ps, struct scan_counters *c, uint32_t addr)
{
    uint64_t key = (uint64_t)addr + 1;
    pthread_mutex_lock(&ps->lock);
    bool known = hashmap_get(&ps->hosts, &key) != NULL;
    pthread_mutex_unlock(&ps->lock);
    if (known)
        return;
    uint16_t ports[PORT_SAMPLE_SIZE];
    size_t n = port_sample(&ps->cfg->key, ps->cfg->space, addr, ports);
    if (n < PORT_SAMPLE_THRESHOLD || !take_tokens(ps, (double)n)) {
        atomic_fetch_add(&c->sample_skipped, 1);
        return;
    }
    pthread_mutex_lock(&ps->lock);
    void *e = hashmap_put(&ps->hosts, &key, NULL);
    pthread_mutex_unlock(&ps->lock);
    if (!e) { /* at PORT_SAMPLE_MAX_HOSTS, or out of memory */
        atomic_fetch_add(&c->sample_skipped, 1);
        return;
    }
    send_sample(ps, c, addr, ports, n);
}

bool port_samples_reply(struct port_samples *ps, struct scan_counters *c, uint32_t saddr,
                        uint16_t sport, uint16_t dport, uint32_t ack, bool synack)
{
    const struct scan_config *cfg = ps->cfg;
    if (!ip_list_contains(&cfg->space->allowed, saddr) ||
        !syn_cookie_valid(&cfg->key, &cfg->sports, cfg->net.saddr, saddr, sport, dport, ack))
        return false;
    uint16_t ports[PORT_SAMPLE_SIZE];
    size_t n = port_sample(&cfg->key, cfg->space, saddr, ports), slot = n;
    for (size_t i = 0; i < n; i++)
        if (ports[i] == sport)
            slot = i;
    if (slot == n)
        return false;
    if (!synack)
        return true; /* a closed sample port: the ordinary case */
    atomic_fetch_add(&c->sample_replies, 1);
    uint64_t key = (uint64_t)saddr + 1;
    pthread_mutex_lock(&ps->lock);
    uint8_t *bits = hashmap_value(&ps->hosts, hashmap_get(&ps->hosts, &key));
    if (bits && !(*bits & HOST_FLAGGED)) {
        *bits |= (uint8_t)(1u << slot);
        if (__builtin_popcount(*bits) >= PORT_SAMPLE_THRESHOLD) {
            *bits |= HOST_FLAGGED;
            atomic_fetch_add(&c->all_ports_open, 1);
        }
    }
    pthread_mutex_unlock(&ps->lock);
    return true;
}

bool port_samples_flagged(struct port_samples *ps, uint32_t addr)
{
    uint64_t key = (uint64_t)addr + 1;
    pthread_mutex_lock(&ps->lock);
    const uint8_t *bits = hashmap_value(&ps->hosts, hashmap_get(&ps->hosts, &key));
    bool flagged = bits && (*bits & HOST_FLAGGED);
    pthread_mutex_unlock(&ps->lock);
    return flagged;
}
