/*
 * receiver.c - the capture thread: validate replies, report new responders.
 *
 * The BPF filter passes only TCP to our address (IPv4, and IPv6 when the
 * space has IPv6 targets) with SYN+ACK or RST set; the
 * thread then checks, in order: the source is a target (address allowed and
 * port scanned), the destination port is the one our cookie chose for that
 * target, and the ack number is the cookie + 1. Replies from a host's
 * sample ports (port_sample.c) pass the same check there. Only then is a reply counted,
 * de-duplicated, and (unless its address is on the opt-out list) handed to
 * the consumer, which must not block us: the capture thread does no output
 * of its own.
 *
 * The capture is non-blocking and polled with our own timeout: libpcap's read
 * timeout does not fire on an idle interface (masscan hangs on that), and the
 * thread must notice the end of the cooldown even if nothing arrives.
 */
#include "engine/internal.h"
#include "lib/bytes.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- index_set: target indexes seen, in lib's hash map (key + 1, so the
 * index 0 is not the empty key) ---- */

int index_set_init(struct index_set *set, bool probe_bits)
{
    hashmap_init(&set->map, sizeof(uint64_t), probe_bits ? 1 : 0);
    set->probe_bits = probe_bits;
    return 0;
}

int index_set_add(struct index_set *set, uint64_t key, unsigned probe, bool *repeat)
{
    uint64_t stored = key + 1;
    bool added;
    void *e = hashmap_put(&set->map, &stored, &added);
    if (repeat)
        *repeat = !added;
    if (!e)
        return -1;
    if (set->probe_bits) {
        uint8_t *bits = hashmap_value(&set->map, e), bit = (uint8_t)(1u << probe);
        if (repeat)
            *repeat = (*bits & bit) != 0;
        *bits |= bit;
    }
    return added ? 1 : 0;
}

void index_set_count_probes(const struct index_set *set, _Atomic uint64_t *answered_by)
{
    uint64_t counts[SCAN_MAX_PROBES] = {0};
    for (size_t i = 0; set->probe_bits && i < set->map.capacity; i++) {
        void *e = hashmap_at(&set->map, i);
        if (e) {
            int k = __builtin_popcount(*(uint8_t *)hashmap_value(&set->map, e));
            if (k > 0)
                counts[k - 1]++;
        }
    }
    for (int k = 0; k < SCAN_MAX_PROBES; k++)
        atomic_store(&answered_by[k], counts[k]);
}

void index_set_free(struct index_set *set)
{
    hashmap_free(&set->map);
}

/* ---- capture ---- */

/* A kernel buffer large enough for about two seconds of replies at the rate,
 * between 16 MiB and 64 MiB (zeroing a larger ring costs a noticeable fraction of a second at start). */
static int buffer_for_rate(uint64_t rate)
{
    uint64_t bytes = (rate ? rate : 250000) * 2 * 128;
    if (bytes < (16u << 20))
        bytes = 16u << 20;
    if (bytes > (64u << 20))
        bytes = 64u << 20;
    return (int)bytes;
}

int receiver_open(struct receiver *rx, char *err)
{
    const struct scan_config *cfg = rx->cfg;
    char errbuf[PCAP_ERRBUF_SIZE], filter[600], ip[16], ip6[NET_ADDR_TEXT_MAX];
    pcap_t *pc = pcap_create(cfg->net.ifname, errbuf);
    if (!pc) {
        snprintf(err, KS_ERRLEN, "capture on %s: %s", cfg->net.ifname, errbuf);
        return -1;
    }
    if (pcap_set_snaplen(pc, 96) != 0 || pcap_set_promisc(pc, 0) != 0 ||
        pcap_set_immediate_mode(pc, 1) != 0 ||
        pcap_set_buffer_size(pc, buffer_for_rate(cfg->rate_pps)) != 0)
        goto fail;
    int rc = pcap_activate(pc);
    if (rc < 0) {
        snprintf(err, KS_ERRLEN, "capture on %s: %s%s", cfg->net.ifname, pcap_geterr(pc),
                 rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR
                     ? " (kubesurvey scan needs root or CAP_NET_RAW)"
                     : "");
        pcap_close(pc);
        return -1;
    }
    if (pcap_datalink(pc) != DLT_EN10MB) {
        snprintf(err, KS_ERRLEN, "%s is not an Ethernet interface (link type %s)",
                 cfg->net.ifname, pcap_datalink_val_to_name(pcap_datalink(pc)));
        pcap_close(pc);
        return -1;
    }
    /* Only our probes' source ports: the probe workers' own connections
     * (kernel ephemeral ports) are none of the receiver's business. For
     * IPv6, libpcap cannot index tcp[] (the header may follow extension
     * headers), so the filter takes TCP right after the fixed header,
     * whose flags are then at ip6[40 + 13]: what our SYNs get back. */
    unsigned first = cfg->sports.first, last = cfg->sports.first + cfg->sports.count - 1;
    int n = snprintf(filter, sizeof(filter),
                     "(tcp and dst host %s and dst portrange %u-%u and "
                     "(tcp[13] & 0x12 == 0x12 or tcp[13] & 0x04 != 0))",
                     ipv4_text(cfg->net.saddr, ip), first, last);
    if (cfg->net.has_saddr6) {
        struct net_addr a = {.family = AF_INET6};
        memcpy(a.bytes, cfg->net.saddr6, 16);
        snprintf(filter + n, sizeof(filter) - (size_t)n,
                 " or (ip6 and ip6[6] == 6 and dst host %s and dst portrange %u-%u and "
                 "(ip6[53] & 0x12 == 0x12 or ip6[53] & 0x04 != 0))",
                 net_addr_text(&a, ip6), first, last);
    }
    struct bpf_program prog;
    if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
        goto fail;
    rc = pcap_setfilter(pc, &prog);
    pcap_freecode(&prog);
    if (rc < 0 || pcap_setnonblock(pc, 1, errbuf) < 0)
        goto fail;
    if (index_set_init(&rx->seen, cfg->probes > 1) < 0) {
        snprintf(err, KS_ERRLEN, "out of memory");
        pcap_close(pc);
        return -1;
    }
    rx->pcap = pc;
    return 0;
fail:
    snprintf(err, KS_ERRLEN, "capture on %s: %s", cfg->net.ifname, pcap_geterr(pc));
    pcap_close(pc);
    return -1;
}

/* A TCP reply from saddr, already checked to be addressed to us: count
 * it, and hand a new responder to the consumer. */
static void handle_reply(struct receiver *rx, const struct net_addr *saddr,
                         const struct net_addr *us, const u_char *tcp)
{
    const struct scan_config *cfg = rx->cfg;
    struct scan_counters *c = rx->counters;
    uint16_t sport = be16_get(tcp), dport = be16_get(tcp + 2);
    uint32_t ack = be32_get(tcp + 8);
    uint8_t flags = tcp[13];
    uint64_t index;
    int probe = -1;
    bool v4 = saddr->family == AF_INET;
    uint32_t saddr4 = v4 ? be32_get(saddr->bytes) : 0;
    if (target_space_index_addr(cfg->space, saddr, sport, &index))
        probe = syn_cookie_probe_addr(&cfg->key, &cfg->sports, us, saddr, sport, dport, ack,
                                      cfg->probes ? cfg->probes : 1);
    else if (v4 && rx->samples &&
             port_samples_reply(rx->samples, c, saddr4, sport, dport, ack, !(flags & 0x04)))
        return;
    if (probe < 0) {
        atomic_fetch_add(&c->invalid, 1);
        return;
    }
    if (flags & 0x04) {
        atomic_fetch_add(&c->rsts, 1);
        return;
    }
    if (rx->opt_out_now && ip_list_contains_addr(rx->opt_out_now, saddr)) {
        /* Opted out after we probed it: it gets no TLS connection either. */
        atomic_fetch_add(&c->opted_out_replies, 1);
        return;
    }
    atomic_fetch_add(&c->replies, 1);
    int added = index_set_add(&rx->seen, index, (unsigned)probe, NULL);
    if (added == 0) {
        atomic_fetch_add(&c->duplicates, 1);
        return;
    }
    /* added < 0 (out of memory): report it anyway; a duplicate downstream is
     * better than a lost responder. */
    atomic_fetch_add(&c->unique, 1);
    if (v4 && rx->samples)
        port_samples_host(rx->samples, c, saddr4);
    if (!rx->on_responder(rx->ctx, saddr, sport))
        atomic_fetch_add(&c->queue_drops, 1);
}

static void handle_ipv4(struct receiver *rx, const struct pcap_pkthdr *hdr, const u_char *pkt)
{
    const u_char *ip = pkt + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (hdr->caplen < 14 + 20 || (ip[0] >> 4) != 4 || ihl < 20 ||
        hdr->caplen < 14 + ihl + 20 || ip[9] != 6)
        return;
    if (be32_get(ip + 16) != rx->cfg->net.saddr) {
        atomic_fetch_add(&rx->counters->invalid, 1);
        return;
    }
    struct net_addr saddr = {.family = AF_INET}, us = {.family = AF_INET};
    memcpy(saddr.bytes, ip + 12, 4);
    memcpy(us.bytes, ip + 16, 4);
    handle_reply(rx, &saddr, &us, ip + ihl);
}

static void handle_ipv6(struct receiver *rx, const struct pcap_pkthdr *hdr, const u_char *pkt)
{
    const u_char *ip = pkt + 14;
    if (hdr->caplen < 14 + 40 + 20 || (ip[0] >> 4) != 6 || ip[6] != 6)
        return;
    if (!rx->cfg->net.has_saddr6 || memcmp(ip + 24, rx->cfg->net.saddr6, 16) != 0) {
        atomic_fetch_add(&rx->counters->invalid, 1);
        return;
    }
    struct net_addr saddr = {.family = AF_INET6}, us = {.family = AF_INET6};
    memcpy(saddr.bytes, ip + 8, 16);
    memcpy(us.bytes, ip + 24, 16);
    handle_reply(rx, &saddr, &us, ip + 40);
}

static void handle_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *pkt)
{
    struct receiver *rx = (struct receiver *)user;
    if (hdr->caplen < 14)
        return;
    uint16_t type = be16_get(pkt + 12);
    if (type == 0x0800)
        handle_ipv4(rx, hdr, pkt);
    else if (type == 0x86dd)
        handle_ipv6(rx, hdr, pkt);
}

static void update_drop_counters(struct receiver *rx)
{
    struct pcap_stat st;
    if (pcap_stats(rx->pcap, &st) == 0) {
        atomic_store(&rx->counters->pcap_drops, st.ps_drop);
        atomic_store(&rx->counters->pcap_ifdrops, st.ps_ifdrop);
    }
}

void *receiver_main(void *arg)
{
    struct receiver *rx = arg;
    struct pollfd pfd = {.fd = pcap_get_selectable_fd(rx->pcap), .events = POLLIN};
    uint64_t last_stats = clock_now_ns();
    for (;;) {
        /* Read `done` before draining, so what arrived before it was set is
         * still taken. */
        int finishing = atomic_load(&rx->done);
        poll(&pfd, 1, finishing ? 0 : 50);
        int n;
        rx->opt_out_now = opt_out_enter(rx->opt_out, &rx->epoch);
        while ((n = pcap_dispatch(rx->pcap, 4096, handle_packet, (u_char *)rx)) > 0)
            ;
        rx->opt_out_now = NULL;
        opt_out_leave(&rx->epoch);
        if (n == PCAP_ERROR) {
            snprintf(rx->err, KS_ERRLEN, "capture: %s", pcap_geterr(rx->pcap));
            rx->status = -1;
            break;
        }
        if (clock_now_ns() - last_stats > 200000000ULL) {
            update_drop_counters(rx);
            last_stats = clock_now_ns();
        }
        if (finishing)
            break;
    }
    update_drop_counters(rx);
    return NULL;
}

void receiver_close(struct receiver *rx)
{
    if (rx->pcap)
        pcap_close(rx->pcap);
    rx->pcap = NULL;
    index_set_free(&rx->seen);
}
