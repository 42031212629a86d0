/*
 * internal.h - shared between the files of engine/ only; not part of the
 * module's public interface (that is engine.h).
 */
#ifndef KS_ENGINE_INTERNAL_H
#define KS_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "lib/hashmap.h"

#include <pcap/pcap.h>
#include <pthread.h>

/* A list file's line (-w, -b, --opt-out, --hitlist) without its comment
 * and surrounding blanks, in place; returns the token (addr.c). */
char *line_token(char *line);

/* The SYN frame: Ethernet + IPv4 (no options) + TCP with Linux's SYN
 * options. Built by template.c for the sendmmsg path and by sender.c's
 * libnet path; both must send the same frame. */
enum {
    SYN_ETH_LEN = 14,
    SYN_IP_LEN = 20,
    SYN_TCP_OPT_LEN = 20,
    SYN_TCP_LEN = 20 + SYN_TCP_OPT_LEN,
    SYN_IP_OFF = SYN_ETH_LEN,
    SYN_TCP_OFF = SYN_ETH_LEN + SYN_IP_LEN,
    SYN_OPT_OFF = SYN_TCP_OFF + 20,
    SYN_FRAME_LEN = SYN_TCP_OFF + SYN_TCP_LEN,
    SYN_WINDOW = 64240, /* Linux's initial window for MSS 1460 */
    SYN_TTL = 64,
};

/* The IPv6 SYN frame: Ethernet + IPv6 (no extension header) + the same TCP. */
enum {
    SYN6_IP_LEN = 40,
    SYN6_TCP_OFF = SYN_ETH_LEN + SYN6_IP_LEN,
    SYN6_OPT_OFF = SYN6_TCP_OFF + 20,
    SYN6_FRAME_LEN = SYN6_TCP_OFF + SYN_TCP_LEN,
};

/* The TCP options of both SYN frames (template.c). */
extern const uint8_t syn_tcp_options[SYN_TCP_OPT_LEN];

/* The MAC and index of an interface (netconf.c). 0 / -1 with err. */
int net_interface_mac(const char *ifname, uint8_t mac[6], int *ifindex, char *err);

/* Monotonic clock in nanoseconds. */
uint64_t clock_now_ns(void);

/* The opt-out list as its readers (senders, the receiver) see it: a
 * pointer swapped whole by scan_set_opt_out (NULL: empty). A reader holds
 * the list only between opt_out_enter and opt_out_leave, and its epoch is
 * odd exactly then, so the writer knows when nobody holds an old list. */
typedef struct ip_list *_Atomic opt_out_ptr;

static inline const struct ip_list *opt_out_enter(opt_out_ptr *list, _Atomic uint64_t *epoch)
{
    atomic_fetch_add(epoch, 1);
    return atomic_load(list);
}

static inline void opt_out_leave(_Atomic uint64_t *epoch)
{
    atomic_fetch_add(epoch, 1);
}

/* One sender thread: its slice of the walk and its share of the rate. */
struct sender {
    const struct scan_config *cfg;
    const struct syn_template *tpl;
    const struct syn_template *tpl6; /* IPv6 frames (when the space has IPv6) */
    struct scan_counters *counters;
    _Atomic int *stop;            /* nonzero: stop sending */
    _Atomic uint64_t *walked;     /* this thread's counters->walked[] slot */
    opt_out_ptr *opt_out;         /* the scan's list */
    _Atomic uint64_t epoch;       /* odd while holding the list */
    struct scan_walk walk;
    uint64_t rate_pps;            /* this thread's share; 0 = unlimited */
    uint64_t deadline_ns;         /* max runtime; 0 = none */
    int fd;                       /* SEND_MMSG: AF_PACKET socket, opened by scan_open */
    struct libnet_context *libnet;/* SEND_LIBNET: libnet_t, opened by scan_open */
    char err[KS_ERRLEN];
    int status;                   /* 0, or -1 with err */
    pthread_t thread;
};

void *sender_main(void *arg);
/* Opens s->fd or s->libnet for cfg->method (needs CAP_NET_RAW). */
int sender_open(struct sender *s, char *err);
void sender_close(struct sender *s);

/* A set of 64-bit keys (target indexes) that grows with what it holds:
 * memory is proportional to responders, not to the target space. With
 * several probes per target, each key also keeps which probes answered (a
 * byte of bits; the entry grows from 8 to 16 bytes, so only then). */
struct index_set {
    struct hashmap map;           /* key + 1, then the probe bits if any */
    bool probe_bits;
};

int index_set_init(struct index_set *set, bool probe_bits);
/* 1 if added, 0 if already present, -1 out of memory; records `probe`
 * (< SCAN_MAX_PROBES) in the key's bits. *repeat (may be NULL) says whether
 * that probe had answered before. */
int index_set_add(struct index_set *set, uint64_t key, unsigned probe, bool *repeat);
/* answered_by[k-1] := keys with exactly k probe bits. */
void index_set_count_probes(const struct index_set *set, _Atomic uint64_t *answered_by);
void index_set_free(struct index_set *set);

/* Hosts that answer on every port (port_sample.c): the sample SYNs and
 * the hosts flagged. The receiver thread sends and records; probe workers
 * ask scan_all_ports_open, hence the lock. */
struct port_samples {
    const struct scan_config *cfg;
    const struct syn_template *tpl;
    int fd;                       /* AF_PACKET socket for the sample SYNs */
    pthread_mutex_t lock;         /* guards hosts */
    struct hashmap hosts;         /* addr + 1 -> sample ports answered (bits), HOST_FLAGGED */
    double tokens;                /* sample SYNs the budget allows now (receiver only) */
    uint64_t last_ns;
};

/* Opens the socket (needs CAP_NET_RAW). 0 / -1 with err; close either way. */
int port_samples_open(struct port_samples *ps, const struct scan_config *cfg,
                      const struct syn_template *tpl, char *err);
void port_samples_close(struct port_samples *ps);
/* A new responder at addr: the first of its host sends the sample. */
void port_samples_host(struct port_samples *ps, struct scan_counters *c, uint32_t addr);
/* A SYN-ACK (synack) or RST from (saddr, sport), not a target: true if it
 * answers one of our sample SYNs (then it is handled). */
bool port_samples_reply(struct port_samples *ps, struct scan_counters *c, uint32_t saddr,
                        uint16_t sport, uint16_t dport, uint32_t ack, bool synack);
bool port_samples_flagged(struct port_samples *ps, uint32_t addr);

/* An AF_PACKET socket bound to cfg's interface, for sending only. */
int packet_socket_open(const struct scan_config *cfg, char *err);

struct receiver {
    const struct scan_config *cfg;
    struct port_samples *samples; /* NULL without cfg->port_sample */
    struct scan_counters *counters;
    scan_responder_fn on_responder;
    void *ctx;
    opt_out_ptr *opt_out;         /* the scan's list */
    _Atomic uint64_t epoch;       /* odd while holding the list */
    const struct ip_list *opt_out_now; /* held during a capture round */
    pcap_t *pcap;
    struct index_set seen;
    _Atomic int done;             /* set by scan_run to end the capture loop */
    char err[KS_ERRLEN];
    int status;
    pthread_t thread;
};

int receiver_open(struct receiver *rx, char *err);
void *receiver_main(void *arg);
void receiver_close(struct receiver *rx);

#endif
