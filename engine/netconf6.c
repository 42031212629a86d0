/*
 * netconf6.c - where IPv6 probes leave from: source address, interface,
 * next hop and its MAC.
 *
 * As for IPv4 (netconf.c) the kernel knows the source address (a UDP socket
 * "connected" towards a target; nothing is sent) and the route
 * (/proc/net/ipv6_route, longest prefix on our interface). The next hop's
 * MAC comes from a Neighbour Solicitation we send ourselves (RFC 4861 7.2.2:
 * to the solicited-node multicast address, hop limit 255, with our
 * link-layer address) and the Advertisement it gets: a fresh namespace has
 * an empty neighbour cache, and a scanner must not depend on someone else
 * having talked to the router first.
 */
#include "engine/internal.h"
#include "lib/bytes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libnet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *text6(const uint8_t bytes[16], char out[NET_ADDR_TEXT_MAX])
{
    struct net_addr a = {.family = AF_INET6};
    memcpy(a.bytes, bytes, 16);
    return net_addr_text(&a, out);
}

static int source_address_towards6(const uint8_t towards[16], uint8_t saddr[16], char *err)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0) {
        snprintf(err, KS_ERRLEN, "IPv6 socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
    memcpy(&dst.sin6_addr, towards, 16);
    struct sockaddr_in6 src;
    socklen_t len = sizeof(src);
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
        getsockname(fd, (struct sockaddr *)&src, &len) < 0) {
        char buf[NET_ADDR_TEXT_MAX];
        snprintf(err, KS_ERRLEN, "no IPv6 route to %s: %s (is there an IPv6 default route?)",
                 text6(towards, buf), strerror(errno));
        rc = -1;
    } else {
        memcpy(saddr, &src.sin6_addr, 16);
    }
    close(fd);
    return rc;
}

static int interface_of_address6(const uint8_t addr[16], char *ifname, size_t size, char *err)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0) {
        snprintf(err, KS_ERRLEN, "getifaddrs: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    for (struct ifaddrs *i = list; i && rc < 0; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
            !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, 16)) {
            snprintf(ifname, size, "%s", i->ifa_name);
            rc = 0;
        }
    freeifaddrs(list);
    if (rc < 0) {
        char buf[NET_ADDR_TEXT_MAX];
        snprintf(err, KS_ERRLEN, "no interface has the address %s", text6(addr, buf));
    }
    return rc;
}

static bool hex_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return false;
        out[i] = (uint8_t)b;
    }
    return true;
}

/* The next hop towards addr on ifname: all zero when addr is on-link. */
static int route_gateway6(const char *ifname, const uint8_t addr[16], uint8_t gateway[16],
                          char *err)
{
    FILE *f = fopen("/proc/net/ipv6_route", "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "/proc/net/ipv6_route: %s", strerror(errno));
        return -1;
    }
    char line[512], dest_hex[33], gw_hex[33], iface[64];
    unsigned plen, flags;
    int best_len = -1;
    ip6_int want = ip6_from_bytes(addr);
    while (fgets(line, sizeof(line), f)) {
        uint8_t dest[16], gw[16];
        if (sscanf(line, "%32s %x %*s %*x %32s %*x %*x %*x %x %63s", dest_hex, &plen, gw_hex,
                   &flags, iface) != 5 ||
            plen > 128 || !hex_bytes(dest_hex, dest, 16) || !hex_bytes(gw_hex, gw, 16))
            continue;
        if (strcmp(iface, ifname) != 0 || !(flags & 1 /* RTF_UP */))
            continue;
        ip6_int mask = plen == 0 ? 0 : ~(ip6_int)0 << (128 - plen);
        if ((want & mask) == (ip6_from_bytes(dest) & mask) && (int)plen > best_len) {
            best_len = (int)plen;
            if (flags & 2 /* RTF_GATEWAY */)
                memcpy(gateway, gw, 16);
            else
                memset(gateway, 0, 16);
        }
    }
    fclose(f);
    if (best_len < 0) {
        char buf[NET_ADDR_TEXT_MAX];
        snprintf(err, KS_ERRLEN, "no IPv6 route to %s via %s (one scan leaves by one "
                                 "interface)", text6(addr, buf), ifname);
        return -1;
    }
    return 0;
}

static uint16_t icmp6_checksum(const uint8_t src[16], const uint8_t dst[16],
                               const uint8_t *msg, size_t len)
{
    uint32_t sum = IPPROTO_ICMPV6 + (uint32_t)len;
    for (int i = 0; i < 16; i += 2)
        sum += be16_get(src + i) + be16_get(dst + i);
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += be16_get(msg + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The neighbour cache's entry for addr on ifindex, if it is usable
 * (reachable, stale, delay, probe or permanent: a MAC the kernel would use;
 * not incomplete or failed). */
static bool neighbour_cache_lookup6(int ifindex, const uint8_t addr[16], uint8_t mac[6])
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return false;
    struct {
        struct nlmsghdr nh;
        struct ndmsg nd;
    } req = {.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)), .nlmsg_type = RTM_GETNEIGH,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
             .nd = {.ndm_family = AF_INET6}};
    struct timeval timeout = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    bool found = false, done = false;
    if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
        done = true;
    _Alignas(struct nlmsghdr) char buf[16384];
    while (!done) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            if (h->nlmsg_type != RTM_NEWNEIGH || found)
                continue;
            struct ndmsg *nd = NLMSG_DATA(h);
            if (nd->ndm_family != AF_INET6 || nd->ndm_ifindex != ifindex ||
                !(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
                                   NUD_PERMANENT | NUD_NOARP)))
                continue;
            const uint8_t *dst = NULL, *lladdr = NULL;
            int len = (int)RTM_PAYLOAD(h);
            for (struct rtattr *a = RTM_RTA(nd); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 16)
                    dst = RTA_DATA(a);
                else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
                    lladdr = RTA_DATA(a);
            }
            if (dst && lladdr && !memcmp(dst, addr, 16)) {
                memcpy(mac, lladdr, 6);
                found = true;
            }
        }
    }
    close(fd);
    return found;
}

enum { NS_LEN = 32 }; /* type, code, sum, reserved, target, source link-layer option */

/* The Neighbour Solicitation above Ethernet, to the solicited-node
 * multicast address ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX
 * (RFC 4291 2.7.1, RFC 2464 7). */
static int ns_build(libnet_t *l, const struct net_config *cfg, const void *target_bytes,
                    uint8_t dst_mac[6], uint16_t *ethertype)
{
    const uint8_t *target = target_bytes;
    uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff,
                         target[13], target[14], target[15]};
    uint8_t group_mac[6] = {0x33, 0x33, 0xff, target[13], target[14], target[15]};
    uint8_t ns[NS_LEN] = {135, 0};
    memcpy(ns + 8, target, 16);
    ns[24] = 1; /* source link-layer address, 1 x 8 bytes */
    ns[25] = 1;
    memcpy(ns + 26, cfg->src_mac, 6);
    be16_put(ns + 2, icmp6_checksum(cfg->saddr6, group, ns, NS_LEN));
    struct libnet_in6_addr src, dst;
    memcpy(&src, cfg->saddr6, 16);
    memcpy(&dst, group, 16);
    memcpy(dst_mac, group_mac, 6);
    *ethertype = ETHERTYPE_IPV6;
    return libnet_build_ipv6(0, 0, NS_LEN, IPPROTO_ICMPV6, 255, src, dst, ns, NS_LEN, l, 0) < 0
               ? -1 : 0;
}

/* A Neighbour Advertisement for target: the MAC of its target link-layer
 * address option, else its sender's. */
static bool na_answer(const u_char *d, size_t caplen, const void *target, uint8_t mac[6])
{
    /* Ethernet 14, IPv6 40, NA: type 136 ... target at 8. */
    if (caplen < 14 + 40 + 24 || be16_get(d + 12) != 0x86dd || d[20] != 58 || d[54] != 136 ||
        memcmp(d + 62, target, 16) != 0)
        return false;
    memcpy(mac, d + 6, 6);
    for (size_t o = 78; o + 8 <= caplen && d[o + 1] > 0; o += (size_t)d[o + 1] * 8)
        if (d[o] == 2 && d[o + 1] == 1)
            memcpy(mac, d + o + 2, 6);
    return true;
}

static int ns_resolve(struct net_config *cfg, const uint8_t target[16], char *err)
{
    char text[NET_ADDR_TEXT_MAX];
    struct link_query q = {.request = "Neighbour Solicitation",
                           .answer_name = "Neighbour Advertisement",
                           .filter = "icmp6 and ip6[6] == 58 and ip6[40] == 136",
                           .build = ns_build, .answer = na_answer, .target = target,
                           .target_text = text6(target, text)};
    return link_query_resolve(cfg, &q, cfg->gw_mac6, err);
}

int net_config_detect6(struct net_config *cfg, const uint8_t towards[16], bool have_gw_mac,
                       char *err)
{
    if (!cfg->has_saddr6 && source_address_towards6(towards, cfg->saddr6, err) < 0)
        return -1;
    cfg->has_saddr6 = true;
    char ifname[sizeof(cfg->ifname)];
    if (interface_of_address6(cfg->saddr6, ifname, sizeof(ifname), err) < 0)
        return -1;
    if (cfg->ifname[0] == '\0')
        snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", ifname);
    if (cfg->ifindex == 0 && net_interface_mac(cfg->ifname, cfg->src_mac, &cfg->ifindex, err) < 0)
        return -1;
    if (have_gw_mac) {
        memcpy(cfg->gw_mac6, cfg->gw_mac, 6);
        return 0;
    }
    if (route_gateway6(cfg->ifname, towards, cfg->gateway6, err) < 0)
        return -1;
    static const uint8_t zero[16] = {0};
    const uint8_t *next_hop = memcmp(cfg->gateway6, zero, 16) ? cfg->gateway6 : towards;
    if (neighbour_cache_lookup6(cfg->ifindex, next_hop, cfg->gw_mac6))
        return 0;
    return ns_resolve(cfg, next_hop, err);
}
