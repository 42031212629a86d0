/*
 * sender.c - the sending threads.
 *
 * Default path: an AF_PACKET socket with PACKET_QDISC_BYPASS and sendmmsg,
 * one system call per batch of frames. On a virtual machine a system call
 * costs microseconds, so batching is what lifts the rate from ~300k to over a
 * million packets a second (see docs/benchmarks.md). The portable path is
 * libnet's own per-packet write.
 *
 * Pacing: frame k of a thread is due at t0 + k / rate. The thread sends a
 * batch when its first frame is due and sleeps (absolute deadline, so errors
 * do not accumulate) otherwise. The batch shrinks with the rate so a slow scan
 * is spread evenly; if the thread falls far behind (it was descheduled) it
 * forgives the debt instead of bursting to catch up.
 */
#include "engine/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BEHIND_NS 20000000ULL  /* forgive lateness beyond 20 ms */
#define MAX_SEND_ERRORS 100000     /* give up: the interface is gone */

uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ULL),
                          .tv_nsec = (long)(t % 1000000000ULL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

struct pacer {
    uint64_t rate;       /* frames per second, 0 = unlimited */
    uint64_t start_ns;
    uint64_t frames;     /* frames accounted since start_ns */
};

static void pacer_init(struct pacer *p, uint64_t rate)
{
    p->rate = rate;
    p->start_ns = clock_now_ns();
    p->frames = 0;
}

/* Waits until the next `n` frames may go. */
static void pacer_wait(struct pacer *p, uint64_t n)
{
    if (p->rate == 0)
        return;
    uint64_t due = p->start_ns + (uint64_t)((double)p->frames * 1e9 / (double)p->rate);
    uint64_t now = clock_now_ns();
    if (now < due)
        sleep_until_ns(due);
    else if (now - due > MAX_BEHIND_NS) {
        p->start_ns = now;
        p->frames = 0;
    }
    p->frames += n;
}

/* Frames per batch: at most cfg->batch, and about 20,000 batches a second at
 * low rates so that frames are spread out rather than bunched. */
static uint32_t batch_for_rate(uint64_t rate, uint32_t max_batch)
{
    if (rate == 0)
        return max_batch;
    uint64_t b = rate / 20000;
    if (b < 1)
        b = 1;
    return b > max_batch ? max_batch : (uint32_t)b;
}

/* The next target not on the opt-out list; false when the walk is done.
 * Targets skipped are counted in *skipped: walked, but not sent. */
static bool next_target(struct sender *s, const struct ip_list *opt_out, struct net_addr *daddr,
                        uint16_t *dport, uint64_t *skipped)
{
    uint64_t index;
    for (;;) {
        if (!scan_walk_next(&s->walk, &index))
            return false;
        target_space_at_addr(s->cfg->space, index, daddr, dport);
        if (!opt_out || !ip_list_contains_addr(opt_out, daddr))
            return true;
        (*skipped)++;
    }
}

static uint32_t probes_per_target(const struct scan_config *cfg)
{
    return cfg->probes ? cfg->probes : 1;
}

/* Fills the frames of the next target's probes (probes_per_target of them,
 * one after the other as in ZMap, SYN_FRAME_MAX bytes apart) into
 * iov[0..], setting their lengths; false when the walk is done. */
static bool next_target_frames(struct sender *s, const struct ip_list *opt_out,
                               struct iovec *iov, uint64_t *skipped)
{
    const struct scan_config *cfg = s->cfg;
    struct net_addr daddr;
    uint16_t dport;
    if (!next_target(s, opt_out, &daddr, &dport, skipped))
        return false;
    if (daddr.family == AF_INET6) {
        struct net_addr saddr = {.family = AF_INET6};
        memcpy(saddr.bytes, cfg->net.saddr6, 16);
        struct syn_cookie c = syn_cookie_make_addr(&cfg->key, &cfg->sports, &saddr, &daddr, dport);
        for (uint32_t k = 0; k < probes_per_target(cfg); k++) {
            syn_template_fill6(s->tpl6, iov[k].iov_base, daddr.bytes,
                               syn_cookie_sport(&c, &cfg->sports, k), dport, c.seq);
            iov[k].iov_len = s->tpl6->length;
        }
        return true;
    }
    uint32_t be;
    memcpy(&be, daddr.bytes, 4);
    uint32_t d4 = ntohl(be);
    struct syn_cookie c = syn_cookie_make(&cfg->key, &cfg->sports, cfg->net.saddr, d4, dport);
    for (uint32_t k = 0; k < probes_per_target(cfg); k++) {
        syn_template_fill(s->tpl, iov[k].iov_base, d4, syn_cookie_sport(&c, &cfg->sports, k),
                          dport, c.seq, (uint16_t)((c.seq ^ (c.seq >> 16)) + k));
        iov[k].iov_len = s->tpl->length;
    }
    return true;
}

/* After a batch: targets walked (sent or skipped) and the skipped ones. */
static void count_walked(struct sender *s, uint64_t targets_sent, uint64_t skipped)
{
    if (skipped)
        atomic_fetch_add(&s->counters->opted_out, skipped);
    atomic_fetch_add(s->walked, targets_sent + skipped);
}

static bool should_stop(const struct sender *s)
{
    if (atomic_load(s->stop))
        return true;
    return s->deadline_ns && clock_now_ns() >= s->deadline_ns;
}

int packet_socket_open(const struct scan_config *cfg, char *err)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
    if (fd < 0) {
        snprintf(err, KS_ERRLEN, "AF_PACKET socket: %s%s", strerror(errno),
                 errno == EPERM ? " (run as root or with CAP_NET_RAW)" : "");
        return -1;
    }
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = cfg->net.ifindex};
    int one = 1, sndbuf = 4 << 20;
    if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
        snprintf(err, KS_ERRLEN, "bind to %s: %s", cfg->net.ifname, strerror(errno));
        close(fd);
        return -1;
    }
    /* Not fatal: older kernels lack bypass; the qdisc path still works. */
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    return fd;
}

/* Sends frames [0, n) of the batch, retrying the part a full queue refused. */
static void send_batch(struct sender *s, int fd, struct mmsghdr *msgs, unsigned n)
{
    unsigned done = 0;
    uint64_t errors = 0;
    while (done < n && errors < 1000) {
        int r = sendmmsg(fd, msgs + done, n - done, 0);
        if (r > 0) {
            done += (unsigned)r;
            continue;
        }
        errors++;
        if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
            struct timespec pause = {0, 20000}; /* the device queue is full: let it drain */
            nanosleep(&pause, NULL);
            continue;
        }
        atomic_fetch_add(&s->counters->send_errors, n - done);
        break;
    }
    atomic_fetch_add(&s->counters->sent, done);
}

static int send_loop_mmsg(struct sender *s)
{
    int fd = s->fd;
    uint32_t probes = probes_per_target(s->cfg);
    uint32_t batch = batch_for_rate(s->rate_pps, s->cfg->batch);
    if (batch < probes)
        batch = probes; /* a target's probes go in one batch */
    uint8_t *frames = calloc(batch, SYN_FRAME_MAX);
    struct mmsghdr *msgs = calloc(batch, sizeof(*msgs));
    struct iovec *iov = calloc(batch, sizeof(*iov));
    if (!frames || !msgs || !iov) {
        snprintf(s->err, KS_ERRLEN, "out of memory for send batch");
        free(iov), free(msgs), free(frames);
        return -1;
    }
    for (uint32_t i = 0; i < batch; i++) {
        iov[i].iov_base = frames + (size_t)i * SYN_FRAME_MAX;
        iov[i].iov_len = s->tpl->length;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    struct pacer pacer;
    pacer_init(&pacer, s->rate_pps);
    bool more = true;
    while (more && !should_stop(s)) {
        /* The whole batch, built and sent, under one look at the list. */
        const struct ip_list *opt_out = opt_out_enter(s->opt_out, &s->epoch);
        unsigned n = 0;
        uint64_t skipped = 0;
        while (n + probes <= batch && (more = next_target_frames(s, opt_out, &iov[n], &skipped)))
            n += probes;
        if (n > 0) {
            pacer_wait(&pacer, n);
            send_batch(s, fd, msgs, n);
        }
        opt_out_leave(&s->epoch);
        count_walked(s, n / probes, skipped);
        if (n == 0)
            break;
        if (atomic_load(&s->counters->send_errors) > MAX_SEND_ERRORS) {
            snprintf(s->err, KS_ERRLEN, "too many send errors on %s", s->cfg->net.ifname);
            break;
        }
    }
    free(iov), free(msgs), free(frames);
    return s->err[0] ? -1 : 0;
}

/* The portable path: libnet rebuilds the changed headers and writes each
 * frame with its own system call (two, in libnet 1.1.6's link mode). */
static int send_loop_libnet(struct sender *s)
{
    libnet_t *l = s->libnet;
    const uint8_t *f = s->tpl->frame;
    const uint8_t *options = f + SYN_OPT_OFF;
    libnet_ptag_t tcp = 0, ip = 0, eth = 0;
    struct pacer pacer;
    pacer_init(&pacer, s->rate_pps);
    if (libnet_build_tcp_options(options, SYN_TCP_OPT_LEN, l, 0) < 0)
        goto fail;
    while (!should_stop(s)) {
        struct net_addr target;
        uint16_t dport;
        uint64_t skipped = 0;
        const struct ip_list *opt_out = opt_out_enter(s->opt_out, &s->epoch);
        if (!next_target(s, opt_out, &target, &dport, &skipped)) {
            opt_out_leave(&s->epoch);
            count_walked(s, 0, skipped);
            break;
        }
        /* scan_open refuses the libnet path for a space with IPv6. */
        uint32_t be;
        memcpy(&be, target.bytes, 4);
        uint32_t daddr = ntohl(be);
        struct syn_cookie c = syn_cookie_make(&s->cfg->key, &s->cfg->sports,
                                              s->cfg->net.saddr, daddr, dport);
        for (uint32_t k = 0; k < probes_per_target(s->cfg); k++) {
            tcp = libnet_build_tcp(syn_cookie_sport(&c, &s->cfg->sports, k), dport, c.seq, 0,
                                   TH_SYN, SYN_WINDOW, 0, 0, SYN_TCP_LEN, NULL, 0, l, tcp);
            ip = libnet_build_ipv4(SYN_IP_LEN + SYN_TCP_LEN, 0,
                                   (uint16_t)((c.seq ^ (c.seq >> 16)) + k), IP_DF, SYN_TTL,
                                   IPPROTO_TCP, 0, htonl(s->cfg->net.saddr), htonl(daddr),
                                   NULL, 0, l, ip);
            /* libnet builds from the top layer down; the link header comes
             * last, once, and later frames only modify the TCP and IP blocks. */
            if (tcp < 0 || ip < 0 ||
                (eth == 0 && (eth = libnet_build_ethernet(s->cfg->net.gw_mac,
                                                          s->cfg->net.src_mac, ETHERTYPE_IP,
                                                          NULL, 0, l, 0)) < 0)) {
                opt_out_leave(&s->epoch);
                goto fail;
            }
            pacer_wait(&pacer, 1);
            if (libnet_write(l) < 0)
                atomic_fetch_add(&s->counters->send_errors, 1);
            else
                atomic_fetch_add(&s->counters->sent, 1);
        }
        opt_out_leave(&s->epoch);
        count_walked(s, 1, skipped);
    }
    return 0;
fail:
    snprintf(s->err, KS_ERRLEN, "libnet: %s", libnet_geterror(l));
    return -1;
}

int sender_open(struct sender *s, char *err)
{
    s->fd = -1;
    s->libnet = NULL;
    if (s->cfg->method == SEND_MMSG) {
        s->fd = packet_socket_open(s->cfg, err);
        return s->fd < 0 ? -1 : 0;
    }
    char errbuf[LIBNET_ERRBUF_SIZE];
    s->libnet = libnet_init(LIBNET_LINK, s->cfg->net.ifname, errbuf);
    if (!s->libnet) {
        snprintf(err, KS_ERRLEN, "libnet on %s: %s", s->cfg->net.ifname, errbuf);
        return -1;
    }
    return 0;
}

void sender_close(struct sender *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->libnet)
        libnet_destroy(s->libnet);
    s->fd = -1;
    s->libnet = NULL;
}

void *sender_main(void *arg)
{
    struct sender *s = arg;
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake at the deadline, not 50 us later */
    if (s->cfg->method == SEND_LIBNET)
        s->status = send_loop_libnet(s);
    else
        s->status = send_loop_mmsg(s);
    return NULL;
}
