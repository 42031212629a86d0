/*
 * netconf.c - where to send from: interface, source address, next-hop MAC.
 *
 * The kernel already knows all of it. The source address is the one a UDP
 * socket "connected" towards a target would use (connect() on UDP sends
 * nothing). The interface is the one holding that address; the next hop is
 * the longest-prefix route in /proc/net/route. Its MAC comes from the
 * neighbour cache (/proc/net/arp) or, when the cache is empty (a fresh
 * namespace), from an ARP request we send ourselves: a scanner must not
 * depend on someone else having talked to the gateway first.
 */
#include "engine/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libnet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

bool mac_parse(const char *text, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(text, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++) {
        if (b[i] > 255)
            return false;
        mac[i] = (uint8_t)b[i];
    }
    return true;
}

static int source_address_towards(uint32_t towards, uint32_t *saddr, char *err)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        snprintf(err, KS_ERRLEN, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(9),
                              .sin_addr.s_addr = htonl(towards)};
    struct sockaddr_in src;
    socklen_t len = sizeof(src);
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
        getsockname(fd, (struct sockaddr *)&src, &len) < 0) {
        char buf[16];
        snprintf(err, KS_ERRLEN, "no route to %s: %s (is there a default route?)",
                 ipv4_text(towards, buf), strerror(errno));
        rc = -1;
    } else {
        *saddr = ntohl(src.sin_addr.s_addr);
    }
    close(fd);
    return rc;
}

static int interface_of_address(uint32_t addr, char *ifname, size_t size, char *err)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0) {
        snprintf(err, KS_ERRLEN, "getifaddrs: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        if (ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == addr) {
            snprintf(ifname, size, "%s", i->ifa_name);
            rc = 0;
            break;
        }
    }
    freeifaddrs(list);
    if (rc < 0) {
        char buf[16];
        snprintf(err, KS_ERRLEN, "no interface holds source address %s; give -i",
                 ipv4_text(addr, buf));
    }
    return rc;
}

/* Longest-prefix route on ifname towards addr: *gateway = 0 if on-link. */
static int route_gateway(const char *ifname, uint32_t addr, uint32_t *gateway, char *err)
{
    FILE *f = fopen("/proc/net/route", "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "/proc/net/route: %s", strerror(errno));
        return -1;
    }
    char line[512], iface[64];
    int best_len = -1;
    unsigned dest, gw, flags, mask;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", iface, &dest, &gw, &flags, &mask) != 5)
            continue; /* the header line */
        if (strcmp(iface, ifname) != 0 || !(flags & 1 /* RTF_UP */))
            continue;
        /* /proc/net/route prints network-order values as host integers. */
        uint32_t d = ntohl(dest), m = ntohl(mask), g = ntohl(gw);
        int len = __builtin_popcount(m);
        if ((addr & m) == d && len > best_len) {
            best_len = len;
            *gateway = (flags & 2 /* RTF_GATEWAY */) ? g : 0;
        }
    }
    fclose(f);
    if (best_len < 0) {
        char buf[16];
        snprintf(err, KS_ERRLEN, "no route to %s via %s", ipv4_text(addr, buf), ifname);
        return -1;
    }
    return 0;
}

int net_interface_mac(const char *ifname, uint8_t mac[6], int *ifindex, char *err)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        snprintf(err, KS_ERRLEN, "socket: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    int rc = 0;
    /* ifr_hwaddr and ifr_ifindex share a union: one request at a time. */
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
        snprintf(err, KS_ERRLEN, "interface '%s': %s", ifname, strerror(errno));
        rc = -1;
    } else {
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
            snprintf(err, KS_ERRLEN, "interface '%s': %s", ifname, strerror(errno));
            rc = -1;
        }
        *ifindex = ifr.ifr_ifindex;
    }
    close(fd);
    return rc;
}

static bool neighbour_cache_lookup(const char *ifname, uint32_t addr, uint8_t mac[6])
{
    FILE *f = fopen("/proc/net/arp", "r");
    if (!f)
        return false;
    char line[512], ip[64], hw[64], dev[64];
    unsigned flags;
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        uint32_t a;
        if (sscanf(line, "%63s %*s %x %63s %*s %63s", ip, &flags, hw, dev) != 4)
            continue;
        found = ip_parse(ip, &a) && a == addr && !strcmp(dev, ifname) &&
                (flags & 2 /* ATF_COM */) && mac_parse(hw, mac);
    }
    fclose(f);
    return found;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Builds the request's frame with q->build, adds Ethernet and injects it. */
static int link_query_send(pcap_t *pc, const struct net_config *cfg,
                           const struct link_query *q, char *err)
{
    char errbuf[LIBNET_ERRBUF_SIZE];
    libnet_t *l = libnet_init(LIBNET_NONE, NULL, errbuf);
    if (!l) {
        snprintf(err, KS_ERRLEN, "libnet: %s", errbuf);
        return -1;
    }
    uint8_t dst_mac[6], *frame = NULL;
    uint16_t ethertype;
    uint32_t size = 0;
    int rc = -1;
    if (q->build(l, cfg, q->target, dst_mac, &ethertype) < 0 ||
        libnet_build_ethernet(dst_mac, cfg->src_mac, ethertype, NULL, 0, l, 0) < 0 ||
        libnet_pblock_coalesce(l, &frame, &size) < 0)
        snprintf(err, KS_ERRLEN, "libnet: %s", libnet_geterror(l));
    else if (pcap_inject(pc, frame, size) < 0)
        snprintf(err, KS_ERRLEN, "sending %s on %s: %s", q->request, cfg->ifname,
                 pcap_geterr(pc));
    else
        rc = 0;
    if (frame)
        libnet_adv_free_packet(l, frame);
    libnet_destroy(l);
    return rc;
}

/* Waits up to `seconds` for an answer q->answer accepts; true if mac was set. */
static bool link_query_wait(pcap_t *pc, const struct link_query *q, uint8_t mac[6],
                            double seconds)
{
    double deadline = now_seconds() + seconds;
    struct pollfd pfd = {.fd = pcap_get_selectable_fd(pc), .events = POLLIN};
    while (now_seconds() < deadline) {
        poll(&pfd, 1, 50);
        struct pcap_pkthdr *hdr;
        const u_char *data;
        while (pcap_next_ex(pc, &hdr, &data) == 1)
            if (q->answer(data, hdr->caplen, q->target, mac))
                return true;
    }
    return false;
}

static int link_query_capture(pcap_t *pc, const struct net_config *cfg,
                              const struct link_query *q, char *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct bpf_program prog;
    if (pcap_set_snaplen(pc, 256) != 0 || pcap_set_immediate_mode(pc, 1) != 0) {
        snprintf(err, KS_ERRLEN, "pcap on %s: %s", cfg->ifname, pcap_geterr(pc));
        return -1;
    }
    int status = pcap_activate(pc);
    if (status < 0) {
        snprintf(err, KS_ERRLEN, "capture on %s for the %s: %s%s", cfg->ifname, q->request,
                 pcap_geterr(pc),
                 status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR
                     ? " (kubesurvey scan needs root or CAP_NET_RAW)"
                     : "");
        return -1;
    }
    if (pcap_compile(pc, &prog, q->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, KS_ERRLEN, "pcap filter: %s", pcap_geterr(pc));
        return -1;
    }
    int rc = pcap_setfilter(pc, &prog) < 0 || pcap_setnonblock(pc, 1, errbuf) < 0 ? -1 : 0;
    if (rc < 0)
        snprintf(err, KS_ERRLEN, "pcap filter: %s", pcap_geterr(pc));
    pcap_freecode(&prog);
    return rc;
}

int link_query_resolve(const struct net_config *cfg, const struct link_query *q,
                       uint8_t mac[6], char *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_create(cfg->ifname, errbuf);
    if (!pc) {
        snprintf(err, KS_ERRLEN, "pcap on %s: %s", cfg->ifname, errbuf);
        return -1;
    }
    int rc = link_query_capture(pc, cfg, q, err) < 0 ? -2 : -1;
    for (int attempt = 0; attempt < 3 && rc == -1; attempt++) {
        if (link_query_send(pc, cfg, q, err) < 0)
            rc = -2;
        else if (link_query_wait(pc, q, mac, 1.0))
            rc = 0;
    }
    if (rc == -1)
        snprintf(err, KS_ERRLEN, "no %s from next hop %s on %s after 3 tries; give --gateway-mac",
                 q->answer_name, q->target_text, cfg->ifname);
    pcap_close(pc);
    return rc < 0 ? -1 : 0;
}

static int arp_build(libnet_t *l, const struct net_config *cfg, const void *target,
                     uint8_t dst_mac[6], uint16_t *ethertype)
{
    static const uint8_t zero[6] = {0};
    uint32_t spa = htonl(cfg->saddr), tpa = htonl(*(const uint32_t *)target);
    memset(dst_mac, 0xff, 6); /* broadcast */
    *ethertype = ETHERTYPE_ARP;
    return libnet_build_arp(ARPHRD_ETHER, ETHERTYPE_IP, 6, 4, ARPOP_REQUEST, cfg->src_mac,
                            (uint8_t *)&spa, zero, (uint8_t *)&tpa, NULL, 0, l, 0) < 0 ? -1 : 0;
}

static bool arp_answer(const u_char *data, size_t caplen, const void *target, uint8_t mac[6])
{
    if (caplen < 42 || data[21] != 2 /* reply */)
        return false;
    uint32_t spa;
    memcpy(&spa, data + 28, 4);
    if (ntohl(spa) != *(const uint32_t *)target)
        return false;
    memcpy(mac, data + 22, 6);
    return true;
}

static int arp_resolve(struct net_config *cfg, uint32_t target, char *err)
{
    char filter[128], text[16];
    ipv4_text(target, text);
    snprintf(filter, sizeof(filter), "arp and arp[6:2] == 2 and arp src host %s", text);
    struct link_query q = {.request = "ARP request", .answer_name = "ARP reply",
                           .filter = filter, .build = arp_build, .answer = arp_answer,
                           .target = &target, .target_text = text};
    return link_query_resolve(cfg, &q, cfg->gw_mac, err);
}

int net_config_detect(struct net_config *cfg, uint32_t towards, bool have_gw_mac, char *err)
{
    if (cfg->saddr == 0 && source_address_towards(towards, &cfg->saddr, err) < 0)
        return -1;
    if (cfg->ifname[0] == '\0' &&
        interface_of_address(cfg->saddr, cfg->ifname, sizeof(cfg->ifname), err) < 0)
        return -1;
    if (net_interface_mac(cfg->ifname, cfg->src_mac, &cfg->ifindex, err) < 0)
        return -1;
    if (have_gw_mac)
        return 0;
    if (route_gateway(cfg->ifname, towards, &cfg->gateway, err) < 0)
        return -1;
    uint32_t next_hop = cfg->gateway ? cfg->gateway : towards;
    if (neighbour_cache_lookup(cfg->ifname, next_hop, cfg->gw_mac))
        return 0;
    return arp_resolve(cfg, next_hop, err);
}
