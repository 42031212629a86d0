/*
 * impair.c - the realistic internet between the scanner and the targets.
 *
 *   ks_impair [-s SEED] [-t MAX_SECONDS] [-q QUEUE] [-o STATS_FILE]
 *             [-a SPEC] [-b SPEC] [-A ALLOPEN_FILE] IFACE_A IFACE_B
 *
 * Relays every Ethernet frame between IFACE_A (the scanner's side) and
 * IFACE_B (the targets' side) through AF_PACKET sockets, like a bridge, and
 * impairs each direction: SPEC is "delay=MS,jitter=MS,loss=PCT,dup=PCT"
 * (any subset; -a for frames from A to B, -b for B to A). Each frame is
 * delayed by delay + uniform(-jitter, +jitter) ms (at least 0), so jitter
 * larger than the gap between two frames reorders them; it is lost with
 * probability loss and sent twice (each copy with its own delay) with
 * probability dup. The kernel of the test machines has no netem qdisc, hence
 * this program.
 *
 * Frames wait in a min-heap ordered by due time (ties in arrival order) until
 * they are due. Memory is bounded: QUEUE frames (default 16384) of at most
 * 1536 bytes; a frame that finds the queue full is dropped and counted, as a
 * router's buffer would. Every random decision comes from one SplitMix64
 * stream seeded with SEED, so a run's impairments depend on the seed and the
 * order in which frames arrive.
 *
 * ALLOPEN_FILE lists IPv4 addresses (one per line) that behave like a
 * middlebox answering every port: a TCP SYN from A to one of them is not
 * relayed but answered with a forged SYN-ACK (after both directions' delay
 * and loss); any other TCP to them is dropped (the middlebox never talks).
 *
 * Frames the kernel dropped because we read too slowly are counted as
 * *_socket_drops: a loss the impairment did not choose.
 *
 * Counters go to STATS_FILE (lines "NAME VALUE") on SIGUSR1 and at exit.
 * The program exits on SIGINT/SIGTERM, or by itself after MAX_SECONDS
 * (default 900) so a forgotten forwarder never outlives a test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 1536
#define MAX_QUEUE (1u << 20)
#define MAX_ALLOPEN (1u << 22)
#define RECV_BURST 256

struct impairment {
    double delay_ms, jitter_ms, loss, dup; /* loss, dup: probabilities */
};

struct counters {
    uint64_t in, out, lost, duplicated, queue_full, oversize, send_errors, forged,
        allopen_dropped;
    uint64_t socket_drops;      /* frames the kernel dropped before we read them */
};

struct slot {
    uint64_t due_ns, order;
    uint16_t len;
    uint8_t to;                 /* 0: send on A, 1: send on B */
    uint8_t data[SLOT_BYTES];
};

struct queue {
    struct slot *slots;
    uint32_t *free_list, free_count;
    uint32_t *heap, heap_count; /* slot indexes, min-heap on (due_ns, order) */
    uint32_t capacity;
    uint64_t next_order;
};

struct forwarder {
    int fd[2];                  /* 0: A, 1: B */
    struct impairment imp[2];   /* imp[i]: frames arriving on side i */
    struct counters c[2];       /* c[i]: frames arriving on side i */
    struct queue q;
    uint64_t rng;
    uint32_t *allopen;          /* sorted, host byte order */
    size_t allopen_count;
    const char *stats_path;
};

static volatile sig_atomic_t stop_requested, stats_requested;

static void on_stop(int sig) { (void)sig; stop_requested = 1; }
static void on_stats(int sig) { (void)sig; stats_requested = 1; }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double uniform(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1.0p-53;
}

/* ---- the queue: a fixed pool of slots and a min-heap of their indexes ---- */

static int queue_init(struct queue *q, uint32_t capacity)
{
    q->capacity = capacity;
    /* calloc: pages of slots never used are never touched. */
    q->slots = calloc(capacity, sizeof(*q->slots));
    q->free_list = malloc(capacity * sizeof(uint32_t));
    q->heap = malloc(capacity * sizeof(uint32_t));
    if (!q->slots || !q->free_list || !q->heap)
        return -1;
    for (uint32_t i = 0; i < capacity; i++)
        q->free_list[i] = capacity - 1 - i;
    q->free_count = capacity;
    q->heap_count = 0;
    q->next_order = 0;
    return 0;
}

static void queue_free(struct queue *q)
{
    free(q->heap);
    free(q->free_list);
    free(q->slots);
}

static bool earlier(const struct queue *q, uint32_t a, uint32_t b)
{
    const struct slot *x = &q->slots[a], *y = &q->slots[b];
    return x->due_ns != y->due_ns ? x->due_ns < y->due_ns : x->order < y->order;
}

static void heap_swap(struct queue *q, uint32_t i, uint32_t j)
{
    uint32_t t = q->heap[i];
    q->heap[i] = q->heap[j];
    q->heap[j] = t;
}

/* A free slot for a frame, or NULL when the queue is full. */
static struct slot *queue_take(struct queue *q)
{
    return q->free_count ? &q->slots[q->free_list[q->free_count - 1]] : NULL;
}

/* Enqueues the slot queue_take returned, filled. */
static void queue_push(struct queue *q)
{
    uint32_t s = q->free_list[--q->free_count];
    q->slots[s].order = q->next_order++;
    uint32_t i = q->heap_count++;
    q->heap[i] = s;
    while (i > 0 && earlier(q, q->heap[i], q->heap[(i - 1) / 2])) {
        heap_swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct slot *queue_top(const struct queue *q)
{
    return q->heap_count ? &q->slots[q->heap[0]] : NULL;
}

static void queue_pop(struct queue *q)
{
    q->free_list[q->free_count++] = q->heap[0];
    q->heap[0] = q->heap[--q->heap_count];
    for (uint32_t i = 0;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->heap_count && earlier(q, q->heap[l], q->heap[m]))
            m = l;
        if (r < q->heap_count && earlier(q, q->heap[r], q->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(q, i, m);
        i = m;
    }
}

/* ---- impairments ---- */

static uint64_t draw_delay_ns(struct forwarder *f, const struct impairment *imp)
{
    double ms = imp->delay_ms;
    if (imp->jitter_ms > 0)
        ms += (2 * uniform(&f->rng) - 1) * imp->jitter_ms;
    return ms > 0 ? (uint64_t)(ms * 1e6) : 0;
}

/* Queues a copy of the frame to go out on side `to` after delay_ns. */
static void schedule(struct forwarder *f, struct counters *c, const uint8_t *frame, size_t len,
                     int to, uint64_t delay_ns)
{
    struct slot *s = queue_take(&f->q);
    if (!s) {
        c->queue_full++;
        return;
    }
    memcpy(s->data, frame, len);
    s->len = (uint16_t)len;
    s->to = (uint8_t)to;
    s->due_ns = now_ns() + delay_ns;
    queue_push(&f->q);
}

static bool is_allopen(const struct forwarder *f, uint32_t addr)
{
    size_t lo = 0, hi = f->allopen_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->allopen[mid] == addr)
            return true;
        if (f->allopen[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t checksum(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += be16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The SYN-ACK a middlebox sends for the SYN in `syn` (IPv4 at offset 14,
 * TCP at tcp): MSS 1460, no other options. Returns its length. */
static size_t forge_synack(struct forwarder *f, const uint8_t *syn, const uint8_t *tcp,
                           uint8_t *out)
{
    const uint8_t *ip = syn + 14;
    memcpy(out, syn + 6, 6);   /* to the sender's MAC */
    memcpy(out + 6, syn, 6);   /* from the MAC it addressed */
    put16(out + 12, ETH_P_IP);
    uint8_t *oip = out + 14, *otcp = oip + 20;
    memset(oip, 0, 20 + 24);
    oip[0] = 0x45;
    put16(oip + 2, 20 + 24);
    put16(oip + 4, (uint16_t)next_random(&f->rng));
    put16(oip + 6, 0x4000);    /* DF */
    oip[8] = 64;
    oip[9] = IPPROTO_TCP;
    memcpy(oip + 12, ip + 16, 4);
    memcpy(oip + 16, ip + 12, 4);
    put16(oip + 10, checksum(0, oip, 20));
    put16(otcp, be16(tcp + 2));
    put16(otcp + 2, be16(tcp));
    put32(otcp + 4, (uint32_t)next_random(&f->rng));
    put32(otcp + 8, be32(tcp + 4) + 1);
    otcp[12] = 6 << 4;         /* 24-byte header */
    otcp[13] = 0x12;           /* SYN, ACK */
    put16(otcp + 14, 65535);
    otcp[20] = 2, otcp[21] = 4; /* MSS */
    put16(otcp + 22, 1460);
    uint32_t pseudo = be16(oip + 12) + be16(oip + 14) + be16(oip + 16) + be16(oip + 18) +
                      IPPROTO_TCP + 24;
    put16(otcp + 16, checksum(pseudo, otcp, 24));
    return 14 + 20 + 24;
}

/* True if the frame is IPv4/TCP to an all-open address (from A): then it is
 * answered or dropped here and never relayed. */
static bool handle_allopen(struct forwarder *f, const uint8_t *frame, size_t len)
{
    if (f->allopen_count == 0 || len < 14 + 20 + 20 || be16(frame + 12) != ETH_P_IP)
        return false;
    const uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IPPROTO_TCP || len < 14 + ihl + 20 ||
        !is_allopen(f, be32(ip + 16)))
        return false;
    const uint8_t *tcp = ip + ihl;
    struct counters *c = &f->c[0];
    if ((tcp[13] & 0x12) != 0x02) {
        c->allopen_dropped++;
        return true;
    }
    if (uniform(&f->rng) < f->imp[0].loss) {
        c->lost++;
        return true;
    }
    uint64_t there = draw_delay_ns(f, &f->imp[0]);
    if (uniform(&f->rng) < f->imp[1].loss) {
        f->c[1].lost++;
        return true;
    }
    uint8_t reply[14 + 20 + 24];
    size_t n = forge_synack(f, frame, tcp, reply);
    c->forged++;
    schedule(f, &f->c[1], reply, n, 0, there + draw_delay_ns(f, &f->imp[1]));
    return true;
}

static void handle_frame(struct forwarder *f, int from, const uint8_t *frame, size_t len)
{
    struct counters *c = &f->c[from];
    const struct impairment *imp = &f->imp[from];
    c->in++;
    if (len > SLOT_BYTES) {
        c->oversize++;
        return;
    }
    if (from == 0 && handle_allopen(f, frame, len))
        return;
    if (imp->loss > 0 && uniform(&f->rng) < imp->loss) {
        c->lost++;
        return;
    }
    schedule(f, c, frame, len, 1 - from, draw_delay_ns(f, imp));
    if (imp->dup > 0 && uniform(&f->rng) < imp->dup) {
        c->duplicated++;
        schedule(f, c, frame, len, 1 - from, draw_delay_ns(f, imp));
    }
}

/* ---- sockets and the loop ---- */

static int open_side(const char *ifname, char *err, size_t errlen)
{
    unsigned index = if_nametoindex(ifname);
    if (index == 0) {
        snprintf(err, errlen, "interface %s: %s", ifname, strerror(errno));
        return -1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        snprintf(err, errlen, "AF_PACKET socket: %s (needs root)", strerror(errno));
        return -1;
    }
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = (int)index};
    int one = 1, buf = 8 << 20;
    if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
        snprintf(err, errlen, "bind to %s: %s", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    /* Frames addressed to the far side's MAC must reach us, and our own
     * transmissions must not come back as input. */
    struct packet_mreq mr = {.mr_ifindex = (int)index, .mr_type = PACKET_MR_PROMISC};
    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    return fd;
}

static void receive_side(struct forwarder *f, int from)
{
    static uint8_t buf[65536];
    for (int i = 0; i < RECV_BURST; i++) {
        struct sockaddr_ll from_ll;
        socklen_t sl = sizeof(from_ll);
        ssize_t n = recvfrom(f->fd[from], buf, sizeof(buf), MSG_TRUNC,
                             (struct sockaddr *)&from_ll, &sl);
        if (n < 0)
            return;
        if (from_ll.sll_pkttype == PACKET_OUTGOING)
            continue;
        handle_frame(f, from, buf, (size_t)n);
    }
}

static void send_due(struct forwarder *f)
{
    uint64_t now = now_ns();
    struct slot *s;
    while ((s = queue_top(&f->q)) && s->due_ns <= now) {
        /* Counted on the side the frame came from: s->to is the other. */
        struct counters *c = &f->c[1 - s->to];
        if (send(f->fd[s->to], s->data, s->len, 0) == (ssize_t)s->len)
            c->out++;
        else
            c->send_errors++;
        queue_pop(&f->q);
    }
}

static void write_stats(struct forwarder *f)
{
    if (!f->stats_path)
        return;
    for (int i = 0; i < 2; i++) {
        /* Reading the statistics resets them: accumulate. */
        struct tpacket_stats st;
        socklen_t len = sizeof(st);
        if (getsockopt(f->fd[i], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
            f->c[i].socket_drops += st.tp_drops;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->stats_path);
    FILE *out = fopen(tmp, "w");
    if (!out)
        return;
    static const char *side[2] = {"a2b", "b2a"};
    for (int i = 0; i < 2; i++) {
        const struct counters *c = &f->c[i];
        fprintf(out,
                "%s_in %llu\n%s_out %llu\n%s_lost %llu\n%s_duplicated %llu\n"
                "%s_queue_full %llu\n%s_oversize %llu\n%s_send_errors %llu\n"
                "%s_socket_drops %llu\n",
                side[i], (unsigned long long)c->in, side[i], (unsigned long long)c->out,
                side[i], (unsigned long long)c->lost, side[i],
                (unsigned long long)c->duplicated, side[i], (unsigned long long)c->queue_full,
                side[i], (unsigned long long)c->oversize, side[i],
                (unsigned long long)c->send_errors, side[i],
                (unsigned long long)c->socket_drops);
    }
    fprintf(out, "forged %llu\nallopen_dropped %llu\nqueued %u\n",
            (unsigned long long)f->c[0].forged, (unsigned long long)f->c[0].allopen_dropped,
            f->q.heap_count);
    fclose(out);
    rename(tmp, f->stats_path);
}

static int run(struct forwarder *f, double max_seconds)
{
    uint64_t deadline = now_ns() + (uint64_t)(max_seconds * 1e9);
    struct pollfd pfd[2] = {{.fd = f->fd[0], .events = POLLIN}, {.fd = f->fd[1], .events = POLLIN}};
    while (!stop_requested && now_ns() < deadline) {
        uint64_t wait = 100000000ULL; /* wake at least every 100 ms for signals */
        struct slot *top = queue_top(&f->q);
        if (top) {
            uint64_t now = now_ns();
            wait = top->due_ns > now ? top->due_ns - now : 0;
            if (wait > 100000000ULL)
                wait = 100000000ULL;
        }
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ULL),
                              .tv_nsec = (long)(wait % 1000000000ULL)};
        int n = ppoll(pfd, 2, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "ks_impair: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; n > 0 && i < 2; i++)
            if (pfd[i].revents & POLLIN)
                receive_side(f, i);
        send_due(f);
        if (stats_requested) {
            stats_requested = 0;
            write_stats(f);
        }
    }
    return 0;
}

/* "delay=75,jitter=10,loss=2,dup=0.5" (ms, ms, percent, percent). */
static int parse_spec(const char *text, struct impairment *imp)
{
    char copy[256];
    if (strlen(text) >= sizeof(copy))
        return -1;
    strcpy(copy, text);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '='), *end;
        if (!eq)
            return -1;
        *eq = '\0';
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || !(v >= 0))
            return -1;
        if (strcmp(item, "delay") == 0 && v <= 10000)
            imp->delay_ms = v;
        else if (strcmp(item, "jitter") == 0 && v <= 10000)
            imp->jitter_ms = v;
        else if (strcmp(item, "loss") == 0 && v <= 100)
            imp->loss = v / 100;
        else if (strcmp(item, "dup") == 0 && v <= 100)
            imp->dup = v / 100;
        else
            return -1;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int load_allopen(struct forwarder *f, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "ks_impair: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[64];
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), in)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        struct in_addr a;
        if (line[0] == '\0')
            continue;
        if (inet_pton(AF_INET, line, &a) != 1 || f->allopen_count == MAX_ALLOPEN) {
            fprintf(stderr, "ks_impair: %s line %zu: not an IPv4 address (or over %u)\n", path,
                    lineno, MAX_ALLOPEN);
            rc = -1;
            break;
        }
        if (f->allopen_count == cap) {
            cap = cap ? cap * 2 : 1024;
            uint32_t *grown = realloc(f->allopen, cap * sizeof(uint32_t));
            if (!grown) {
                fprintf(stderr, "ks_impair: out of memory\n");
                rc = -1;
                break;
            }
            f->allopen = grown;
        }
        f->allopen[f->allopen_count++] = ntohl(a.s_addr);
    }
    fclose(in);
    if (rc == 0)
        qsort(f->allopen, f->allopen_count, sizeof(uint32_t), cmp_u32);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ks_impair [-s SEED] [-t MAX_SECONDS] [-q QUEUE] [-o STATS_FILE]\n"
            "                 [-a SPEC] [-b SPEC] [-A ALLOPEN_FILE] IFACE_A IFACE_B\n"
            "Relays frames between IFACE_A and IFACE_B; SPEC (-a: A to B, -b: B to A)\n"
            "is delay=MS,jitter=MS,loss=PCT,dup=PCT. See tests/net/impair.c.\n");
}

int main(int argc, char **argv)
{
    struct forwarder f = {.fd = {-1, -1}, .rng = 1};
    double max_seconds = 900;
    unsigned long queue = 16384;
    const char *allopen_path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "hs:t:q:o:a:b:A:")) != -1) {
        char *end;
        switch (opt) {
        case 's':
            f.rng = strtoull(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr, "ks_impair: bad -s '%s' (a number)\n", optarg);
                return 2;
            }
            break;
        case 't':
            max_seconds = strtod(optarg, &end);
            if (*end || !(max_seconds > 0 && max_seconds <= 86400)) {
                fprintf(stderr, "ks_impair: bad -t '%s' (seconds, 0-86400)\n", optarg);
                return 2;
            }
            break;
        case 'q':
            queue = strtoul(optarg, &end, 10);
            if (*end || queue < 1 || queue > MAX_QUEUE) {
                fprintf(stderr, "ks_impair: bad -q '%s' (frames, 1-%u)\n", optarg, MAX_QUEUE);
                return 2;
            }
            break;
        case 'o': f.stats_path = optarg; break;
        case 'a':
        case 'b':
            if (parse_spec(optarg, &f.imp[opt == 'b']) < 0) {
                fprintf(stderr,
                        "ks_impair: bad -%c '%s' (delay=MS,jitter=MS,loss=PCT,dup=PCT; "
                        "ms 0-10000, percent 0-100)\n",
                        opt, optarg);
                return 2;
            }
            break;
        case 'A': allopen_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    if (allopen_path && load_allopen(&f, allopen_path) < 0)
        return 2;
    char err[256];
    int rc = 1;
    if (queue_init(&f.q, (uint32_t)queue) < 0) {
        fprintf(stderr, "ks_impair: out of memory for a queue of %lu frames\n", queue);
        goto out;
    }
    for (int i = 0; i < 2; i++)
        if ((f.fd[i] = open_side(argv[optind + i], err, sizeof(err))) < 0) {
            fprintf(stderr, "ks_impair: %s\n", err);
            goto out;
        }
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_stats;
    sigaction(SIGUSR1, &sa, NULL);
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake at a frame's due time, not 50 us later */
    rc = run(&f, max_seconds);
    write_stats(&f);
out:
    for (int i = 0; i < 2; i++)
        if (f.fd[i] >= 0)
            close(f.fd[i]);
    queue_free(&f.q);
    free(f.allopen);
    return rc;
}
