/*
 * engine.h - the stateless SYN scanner: targets, order, frames, send, receive.
 *
 * This header is the whole public interface of engine/. The pieces, in the
 * order a scan uses them:
 *
 *   net_addr         an address of either family (lib/addr.h)
 *   ip_list          sorted, merged IPv4 and IPv6 ranges: allowlists and blocklists
 *   hitlist          a sorted set of single IPv6 addresses (--hitlist)
 *   port_list        the ports to probe
 *   target_space     allowed addresses x ports, numbered [0, size)
 *   permutation      keyed bijection of [0, size): the probing order
 *   scan_walk        one sender thread's slice of the order (shards, threads)
 *   syn_cookie       keyed sequence number + source port of a probe
 *   syn_template     an Ethernet/IPv4/TCP SYN frame built once by libnet
 *   net_config       interface, source address and gateway MAC
 *   scan_run         sender threads + receiver + cooldown, reporting responders
 *
 * Conventions (as in libuv): functions that can fail return 0 on success or
 * -1 on failure and write a message naming what was wrong into `err`, a buffer
 * of KS_ERRLEN bytes. Nothing in engine/ prints or exits.
 * Addresses are IPv4 in host byte order unless a name says otherwise; IPv6
 * addresses are 16 bytes in network order, or an ip6_int (the same 128 bits
 * as one host-order number, for arithmetic on ranges).
 */
#ifndef KS_ENGINE_H
#define KS_ENGINE_H

#include "lib/addr.h"
#include "lib/text.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef KS_ERRLEN
#define KS_ERRLEN 512
#endif

/* ------------------------------------------------------------------ */
/* Address lists                                                        */
/* ------------------------------------------------------------------ */

typedef unsigned __int128 ip6_int;
ip6_int ip6_from_bytes(const uint8_t bytes[16]);
void ip6_to_bytes(ip6_int v, uint8_t bytes[16]);

struct ip_range {
    uint32_t first;
    uint32_t last; /* inclusive */
};

struct ip6_range {
    ip6_int first;
    ip6_int last; /* inclusive */
};

/* A set of IPv4 and IPv6 addresses as ranges, one array per family. After
 * ip_list_normalize() the ranges are sorted, disjoint and non-adjacent.
 * min_prefix6 (0 after init) makes ip_list_add_text refuse IPv6 prefixes
 * shorter than it: the allowlist of a scan sets it (IPv6 space cannot be
 * enumerated), blocklists leave it 0. */
struct ip_list {
    struct ip_range *ranges;
    size_t count;
    size_t capacity;
    struct ip6_range *ranges6;
    size_t count6;
    size_t capacity6;
    unsigned min_prefix6;
};

/* The shortest IPv6 prefix a scan takes without --force-large-prefix: a /96
 * is 2^32 addresses, as many as all of IPv4. */
#define TARGET_MIN_PREFIX6 96

void ip_list_init(struct ip_list *list);
void ip_list_free(struct ip_list *list);
/* Adds "a.b.c.d", "a.b.c.d/len", an IPv6 address in any text form
 * (RFC 4291 2.2: upper or lower case, compressed or written out, with an
 * embedded dotted quad) or "ipv6/len"; as in ZMap, host bits below the
 * prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8). */
int ip_list_add_text(struct ip_list *list, const char *text, char *err);
int ip_list_add_range(struct ip_list *list, uint32_t first, uint32_t last, char *err);
int ip_list_add_range6(struct ip_list *list, ip6_int first, ip6_int last, char *err);
/* One address or CIDR per line; '#' starts a comment; blank lines ignored.
 * An error names the file and the line number. */
int ip_list_load_file(struct ip_list *list, const char *path, char *err);
/* The IANA special-purpose and reserved ranges (ZMap's default list) and
 * IANA's IPv6 Special-Purpose Address Registry (targets.c cites both). */
int ip_list_add_reserved(struct ip_list *list, char *err);
void ip_list_normalize(struct ip_list *list);
/* list := list minus remove; both must be normalized. */
int ip_list_subtract(struct ip_list *list, const struct ip_list *remove, char *err);
/* Addresses of both families; UINT64_MAX if there are more. */
uint64_t ip_list_size(const struct ip_list *list);
bool ip_list_contains(const struct ip_list *list, uint32_t addr);
bool ip_list_contains6(const struct ip_list *list, ip6_int addr);
bool ip_list_contains_addr(const struct ip_list *list, const struct net_addr *addr);
/* Parses a dotted quad; returns false if it is not one. */
bool ip_parse(const char *text, uint32_t *addr);

/* A hitlist: single IPv6 addresses, as the IPv6 Hitlist service publishes
 * them (one per line, any valid text form, '#' comments, blank lines).
 * 16 bytes an address once loaded (a regular file is counted first, so the
 * array is allocated once at its final size; a pipe grows it by half and
 * trims it at the end). target_space_init sorts it and drops duplicates. */
struct hitlist {
    ip6_int *addrs;
    size_t count;
    size_t capacity;
};

void hitlist_init(struct hitlist *h);
void hitlist_free(struct hitlist *h);
/* Appends the file's addresses; an error names the file and line number. */
int hitlist_load_file(struct hitlist *h, const char *path, char *err);
/* One line's address (comment and blanks allowed): 1 if it held one, 0 if
 * blank, -1 with err if it is not an IPv6 address. */
int hitlist_parse_line(char *line, ip6_int *addr, char *err);
/* Sorts in place, with no memory beyond the array. */
void hitlist_sort(struct hitlist *h);

/* ------------------------------------------------------------------ */
/* Ports                                                                */
/* ------------------------------------------------------------------ */

#define PORT_LIST_MAX 65536

/* "443,6443,10250-10255": sorted, duplicates removed. */
struct port_list {
    uint16_t *ports;
    size_t count;
};

int port_list_parse(struct port_list *list, const char *text, char *err);
void port_list_free(struct port_list *list);

/* ------------------------------------------------------------------ */
/* The target space: allowed addresses x ports                          */
/* ------------------------------------------------------------------ */

/* Addresses are numbered IPv4 ranges first, then IPv6 ranges, then the
 * hitlist's addresses not already in a range: one space, one permutation,
 * whatever the mix, and an IPv4-only space is numbered as it always was. */
struct target_space {
    struct ip_list allowed;   /* normalized allowlist minus blocklist */
    uint64_t *range_start;    /* index of each IPv4 range's first address */
    uint64_t *range_start6;   /* index of each IPv6 range's first address */
    struct hitlist hitlist;   /* sorted, unique, minus blocklist and ranges */
    uint64_t hitlist_start;   /* index of the hitlist's first address */
    struct port_list ports;
    uint64_t address_count;
    uint64_t address_count6;  /* of which IPv6 (ranges and hitlist) */
    uint64_t size;            /* address_count * ports.count */
    uint16_t port_slot[65536];/* port -> 1 + position in ports, 0 = absent */
};

/* Takes copies of what it needs; allow and block must be normalized. */
int target_space_init(struct target_space *space, const struct ip_list *allow,
                      const struct ip_list *block, const struct port_list *ports,
                      char *err);
/* The same with a hitlist (may be NULL), whose array it takes (*hitlist is
 * left empty): no copy of what may be 100 million addresses. */
int target_space_init_hitlist(struct target_space *space, const struct ip_list *allow,
                              struct hitlist *hitlist, const struct ip_list *block,
                              const struct port_list *ports, char *err);
void target_space_free(struct target_space *space);
/* index < space->size */
void target_space_at_addr(const struct target_space *space, uint64_t index,
                          struct net_addr *addr, uint16_t *port);
/* The inverse; false if (addr, port) is not a target. */
bool target_space_index_addr(const struct target_space *space, const struct net_addr *addr,
                             uint16_t port, uint64_t *index);
/* The IPv4 forms: index in the IPv4 part (< the IPv4 addresses x ports). */
void target_space_at(const struct target_space *space, uint64_t index,
                     uint32_t *addr, uint16_t *port);
bool target_space_index(const struct target_space *space, uint32_t addr,
                        uint16_t port, uint64_t *index);

/* ------------------------------------------------------------------ */
/* Permutation and walk                                                 */
/* ------------------------------------------------------------------ */

#define PERMUTATION_ROUNDS 6

/* A Feistel network on Z_a x Z_b (a*b >= n) with cycle walking, so it is a
 * bijection of [0, n) for every n >= 1; the seed picks the round keys. */
struct permutation {
    uint64_t n, a, b;
    uint64_t keys[PERMUTATION_ROUNDS];
};

void permutation_init(struct permutation *perm, uint64_t n, uint64_t seed);
uint64_t permutation_apply(const struct permutation *perm, uint64_t x);

/* The positions p of the permuted sequence with p % stride == offset,
 * p >= start, at most `limit` of them. Shard s of S with T threads: thread t
 * walks offset s + S*t, stride S*T. Disjoint, and their union is [0, n). */
struct scan_walk {
    const struct permutation *perm;
    uint64_t next;   /* next position to visit */
    uint64_t stride;
    uint64_t remaining;
};

void scan_walk_init(struct scan_walk *walk, const struct permutation *perm,
                    uint64_t offset, uint64_t stride, uint64_t limit);
/* The walk of sender thread `thread` of `threads` in shard `shard` of
 * `shards`: skipping its first `start` positions (resume), and taking its
 * share of `max_targets` (0 = no limit; the first max_targets % threads
 * threads get one more). The scan and --dry-run both use it, so the dry run
 * prints exactly the order the senders follow. */
void scan_walk_init_thread(struct scan_walk *walk, const struct permutation *perm,
                           uint32_t shard, uint32_t shards, uint32_t thread, uint32_t threads,
                           uint64_t start, uint64_t max_targets);
/* Next target index; false when the walk is done. */
bool scan_walk_next(struct scan_walk *walk, uint64_t *index);
/* How many positions of [0, n) this walk visits if not limited. */
uint64_t scan_walk_length(uint64_t n, uint64_t offset, uint64_t stride);

/* ------------------------------------------------------------------ */
/* Cookies                                                              */
/* ------------------------------------------------------------------ */

struct cookie_key {
    uint64_t k0, k1;
};

/* What a probe to (daddr, dport) carries: its sequence number and source
 * port are both derived from SipHash-2-4(key, saddr, daddr, dport). */
struct syn_cookie {
    uint32_t seq;
    uint16_t sport;
};

struct sport_range {
    uint16_t first;
    uint16_t count;
};

uint64_t siphash24(const struct cookie_key *key, const void *data, size_t len);
struct syn_cookie syn_cookie_make(const struct cookie_key *key,
                                  const struct sport_range *sports,
                                  uint32_t saddr, uint32_t daddr, uint16_t dport);
/* Either family: for IPv4 exactly syn_cookie_make; for IPv6 SipHash-2-4
 * over saddr (16) || daddr (16) || dport. saddr and daddr are of one family. */
struct syn_cookie syn_cookie_make_addr(const struct cookie_key *key,
                                       const struct sport_range *sports,
                                       const struct net_addr *saddr,
                                       const struct net_addr *daddr, uint16_t dport);
int syn_cookie_probe_addr(const struct cookie_key *key, const struct sport_range *sports,
                          const struct net_addr *saddr, const struct net_addr *daddr,
                          uint16_t dport, uint16_t sport, uint32_t ack, uint32_t probes);
/* True if a SYN-ACK from (daddr, dport) to our sport with this ack number
 * answers a probe we sent. */
bool syn_cookie_valid(const struct cookie_key *key, const struct sport_range *sports,
                      uint32_t saddr, uint32_t daddr, uint16_t dport,
                      uint16_t sport, uint32_t ack);
/* With several probes per target (as ZMap's -P), probe k (0-based) goes
 * out from the k-th source port after the cookie's, wrapping in the range,
 * with the same sequence number: the targets see distinct connections, and
 * a reply tells which probe it answers. */
uint16_t syn_cookie_sport(const struct syn_cookie *c, const struct sport_range *sports,
                          uint32_t k);
/* k if the reply answers probe k < probes, else -1. */
int syn_cookie_probe(const struct cookie_key *key, const struct sport_range *sports,
                     uint32_t saddr, uint32_t daddr, uint16_t dport, uint16_t sport,
                     uint32_t ack, uint32_t probes);

/* ------------------------------------------------------------------ */
/* SYN frames                                                           */
/* ------------------------------------------------------------------ */

#define SYN_FRAME_MAX 128

/* A SYN frame built once by libnet (Ethernet, IPv4, TCP with the options
 * Linux sends: MSS, SACK permitted, timestamps, window scale). Per target only
 * the destination, ports, sequence number, IP id and checksums change. */
struct syn_template {
    uint8_t frame[SYN_FRAME_MAX];
    size_t length;
    uint32_t ip_sum_base;   /* one's complement sum of the fixed IP header words */
    uint32_t tcp_sum_base;  /* same for the fixed TCP words + pseudo-header */
};

int syn_template_build(struct syn_template *tpl, const uint8_t src_mac[6],
                       const uint8_t dst_mac[6], uint32_t saddr, char *err);
/* Writes a complete frame of tpl->length bytes into out. */
void syn_template_fill(const struct syn_template *tpl, uint8_t *out, uint32_t daddr,
                       uint16_t sport, uint16_t dport, uint32_t seq, uint16_t ip_id);
/* The same frame over IPv6 (Ethernet, IPv6 with hop limit 64 and no
 * extension header, the same TCP header and options): 94 bytes. */
int syn_template_build6(struct syn_template *tpl, const uint8_t src_mac[6],
                        const uint8_t dst_mac[6], const uint8_t saddr[16], char *err);
void syn_template_fill6(const struct syn_template *tpl, uint8_t *out,
                        const uint8_t daddr[16], uint16_t sport, uint16_t dport, uint32_t seq);

/* ------------------------------------------------------------------ */
/* Network configuration                                                */
/* ------------------------------------------------------------------ */

struct net_config {
    char ifname[32];
    int ifindex;
    uint32_t saddr;
    uint32_t gateway;        /* next hop; 0 if the target is on-link */
    uint8_t src_mac[6];
    uint8_t gw_mac[6];
    /* IPv6, when the space has IPv6 targets (has_saddr6). One scan leaves by
     * one interface: the IPv6 next hop must be on ifname too. */
    bool has_saddr6;
    uint8_t saddr6[16];
    uint8_t gateway6[16];    /* next hop; all zero if on-link */
    uint8_t gw_mac6[6];
};

/* Fills what is not already set (ifname[0] == 0, saddr == 0, have_gw_mac ==
 * false) from the routing table towards `towards`, resolving the next hop's
 * MAC with ARP if the neighbour cache has none. */
int net_config_detect(struct net_config *cfg, uint32_t towards, bool have_gw_mac,
                      char *err);
/* The same for IPv6 towards `towards` (16 bytes): saddr6 (unless
 * has_saddr6), the interface (unless set: then the route must use it), the
 * next hop from /proc/net/ipv6_route and its MAC from the neighbour cache
 * (netlink) or, when it has none, a Neighbour Solicitation we send. */
int net_config_detect6(struct net_config *cfg, const uint8_t towards[16], bool have_gw_mac,
                       char *err);
bool mac_parse(const char *text, uint8_t mac[6]);

/* ------------------------------------------------------------------ */
/* A scan                                                               */
/* ------------------------------------------------------------------ */

enum send_method {
    SEND_MMSG,    /* AF_PACKET + sendmmsg batches (default) */
    SEND_LIBNET,  /* libnet_write, one system call per packet (portable) */
};

struct scan_config {
    const struct target_space *space;
    uint64_t seed;
    uint32_t shard, shards;
    uint32_t sender_threads;
    uint64_t rate_pps;         /* 0 = as fast as possible */
    uint64_t max_targets;      /* 0 = all of this shard */
    double max_runtime;        /* seconds, 0 = none */
    double cooldown;           /* seconds after the last probe */
    enum send_method method;
    uint32_t batch;            /* frames per sendmmsg, 1..1024 */
    struct net_config net;
    struct sport_range sports;
    struct cookie_key key;
    uint64_t start_position;   /* resume: each thread skips this many of its
                                  positions (a checkpoint's walk_position) */
    uint32_t probes;           /* SYNs per target, 1..SCAN_MAX_PROBES (0 = 1) */
    bool port_sample;          /* detect hosts that answer on every port (below) */
};

#define SCAN_MAX_THREADS 64
#define SCAN_MAX_PROBES 8

/* Counters, written by the scan threads, read by anyone at any time. */
struct scan_counters {
    _Atomic uint64_t sent;
    _Atomic uint64_t send_errors;
    _Atomic uint64_t replies;        /* SYN-ACKs with a valid cookie */
    _Atomic uint64_t unique;         /* first reply of an (addr, port) */
    _Atomic uint64_t duplicates;
    _Atomic uint64_t invalid;        /* SYN-ACKs failing validation */
    _Atomic uint64_t rsts;           /* valid RSTs (closed ports) */
    _Atomic uint64_t pcap_drops;
    _Atomic uint64_t pcap_ifdrops;
    _Atomic uint64_t queue_drops;    /* responders the consumer could not take */
    _Atomic uint64_t opted_out;      /* targets not probed: on the opt-out list */
    _Atomic uint64_t opted_out_replies; /* valid replies ignored: on the opt-out list */
    _Atomic uint64_t sample_sent;    /* SYNs to sample ports (not targets; not in sent) */
    _Atomic uint64_t sample_replies; /* valid SYN-ACKs from sample ports */
    _Atomic uint64_t sample_skipped; /* responsive hosts not sampled (budget, cap, ports) */
    _Atomic uint64_t all_ports_open; /* hosts flagged */
    _Atomic uint64_t targets_total;  /* what this run will send */
    _Atomic int phase;               /* enum scan_phase */
    /* Positions each sender thread has sent, counted from start_position.
     * A checkpoint may resume at start_position + min(walked) once every
     * reply to those probes has been handled (see scan_checkpoint_position). */
    _Atomic uint64_t walked[SCAN_MAX_THREADS];
    /* Set when the scan ends: answered_by[k-1] responders answered exactly
     * k of their probes (distinct probes; a probe's repeated replies count
     * once). Only with probes > 1. */
    _Atomic uint64_t answered_by[SCAN_MAX_PROBES];
};

/* The fraction of probes to a responsive endpoint that got no answer (SYN
 * or SYN-ACK lost, and not recovered by the target's SYN-ACK
 * retransmission), estimated from answered_by; -1 with fewer than two
 * probes or no responder. Each of P probes is answered independently with
 * probability s = 1 - loss, so a responder's count k of answered probes is
 * Binomial(P, s) given that it is open; E[k(k-1)] / E[k] = (P-1) s, and
 * responders with k = 0 (unseen) add nothing to either sum, so
 *   s = sum k(k-1) n_k / ((P-1) sum k n_k).
 * For P = 2: loss = n_1 / (n_1 + 2 n_2). */
double scan_estimated_loss(const struct scan_counters *counters, uint32_t probes);

/* start_position + the fewest positions any sender thread has sent so far. */
uint64_t scan_checkpoint_position(const struct scan_config *cfg,
                                  struct scan_counters *counters);

enum scan_phase { SCAN_STARTING, SCAN_SENDING, SCAN_COOLDOWN, SCAN_DONE };

/* Called on the receiver thread for each new responsive (addr, port), of
 * either family. It must not block; return false if the responder could not
 * be taken (counted as a queue drop). */
typedef bool (*scan_responder_fn)(void *ctx, const struct net_addr *addr, uint16_t port);

/* A scan in two steps, so that privileges can be dropped in between:
 * scan_open builds the frame template and opens everything that needs
 * CAP_NET_RAW (the capture, one send socket per sender thread); scan_run
 * then needs no privilege. scan_run starts the receiver and the senders,
 * waits for the senders, then the cooldown. `stop` (may be NULL) ends sending
 * early when set to 1 (the cooldown still runs) and also skips the cooldown
 * when set to 2. Both return 0 or -1 with err. */
struct scan;
int scan_open(struct scan **out, const struct scan_config *cfg, char *err);
int scan_run(struct scan *scan, struct scan_counters *counters,
             scan_responder_fn on_responder, void *ctx, _Atomic int *stop, char *err);
void scan_close(struct scan *scan);

/* The opt-out list: addresses of the target space that must get no probe
 * (people who asked not to be scanned). Unlike the blocklist it does not
 * change the target space, so the order, the shards and a resume stay the
 * same when it changes; senders skip its addresses (counted as opted_out)
 * and the receiver ignores replies from them (opted_out_replies).
 * scan_set_opt_out takes the contents of *list (normalized; *list is left
 * empty) and may be called before or while scan_run runs, from one thread
 * at a time. When it returns, no thread will build a frame to an address of
 * the new list and every frame built with the old one has been sent; the
 * old list is freed. 0, or -1 (out of memory; the old list stays).
 * Senders read the list without a lock: it is immutable, swapped
 * atomically, and freed only after each reader has passed a point where it
 * holds none (see scan.c). */
int scan_set_opt_out(struct scan *scan, struct ip_list *list, char *err);

/* Hosts that answer on every port. With cfg->port_sample, when a host
 * first answers, the receiver also sends one SYN to each of its sample
 * ports: PORT_SAMPLE_SIZE ports in PORT_SAMPLE_FIRST-65535 outside the
 * scan's port list, drawn by SipHash from the scan key and the address
 * (stateless and reproducible, like the cookies that validate the
 * replies). A host answering at least PORT_SAMPLE_THRESHOLD of them is
 * flagged all_ports_open. The replies come within a round trip: a consumer
 * that waits PORT_SAMPLE_WAIT seconds after a responder before asking
 * scan_all_ports_open sees its host's flag. Sample SYNs are paced at most
 * at the scan's rate and go to at most PORT_SAMPLE_MAX_HOSTS hosts; a host
 * beyond either bound is counted as sample_skipped. */
#define PORT_SAMPLE_SIZE 4
#define PORT_SAMPLE_THRESHOLD 3
#define PORT_SAMPLE_FIRST 1024
#define PORT_SAMPLE_MAX_HOSTS (1u << 24)
#define PORT_SAMPLE_WAIT 2.0

/* The sample ports of addr into ports[]; how many (fewer than
 * PORT_SAMPLE_SIZE only when the scan's list leaves few ports free). */
size_t port_sample(const struct cookie_key *key, const struct target_space *space,
                   uint32_t addr, uint16_t ports[PORT_SAMPLE_SIZE]);
/* Whether addr has been flagged so far (false without cfg->port_sample).
 * Thread-safe; valid until scan_close. */
bool scan_all_ports_open(struct scan *scan, uint32_t addr);

/* Who the scan runs as once privileges are dropped. */
struct run_as {
    bool switch_user;   /* false: keep the current user (not root) */
    uid_t uid;
    gid_t gid;
    char name[64];
};

/* Looks up a user by name or number (before anything reads /etc as
 * nobody); who->switch_user is set. 0 / -1 with err. */
int privileges_user(const char *name, struct run_as *who, char *err);

/* With who->switch_user: empties the supplementary groups and sets the
 * real, effective and saved group and user IDs to who's (every thread of
 * the process). Then, in every case: empties the bounding set (when
 * allowed), clears every capability and forbids regaining any
 * (no_new_privs), and checks that it all took. Capabilities are per
 * thread: call it after scan_open, while the process has one thread, before
 * starting threads that parse network input. */
int privileges_drop(const struct run_as *who, char *err);

/* How many frames per second a rate in bits per second allows. */
uint64_t scan_rate_from_bandwidth(uint64_t bits_per_second, size_t frame_length);

#endif
