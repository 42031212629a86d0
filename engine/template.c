/*
 * template.c - the SYN frame, built once by libnet and patched per target.
 *
 * libnet assembles Ethernet + IPv4 + TCP with the options Linux puts on a SYN
 * (so the probe looks like an ordinary connection attempt), and computes the
 * checksums once. Per target we change only the destination address, the
 * ports, the sequence number and the IP id, and recompute both checksums
 * from precomputed sums of the words that never change: a handful of
 * additions instead of a pass over the frame.
 */
#include "engine/internal.h"
#include "lib/bytes.h"

#include <libnet.h>
#include <stdio.h>
#include <string.h>

/* Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, wscale 7. */
const uint8_t syn_tcp_options[SYN_TCP_OPT_LEN] = {
    0x02, 0x04, 0x05, 0xb4,             /* MSS 1460 */
    0x04, 0x02,                         /* SACK permitted */
    0x08, 0x0a, 0x1c, 0x9f, 0x3a, 0x51, /* timestamp value (arbitrary) */
    0x00, 0x00, 0x00, 0x00,             /* timestamp echo reply */
    0x01,                               /* NOP */
    0x03, 0x03, 0x07,                   /* window scale 7 */
};

static uint32_t sum_words(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += be16_get(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* libnet builds the frame once: TCP with Linux's SYN options, IPv4 or IPv6
 * (saddr in network order, 4 or 16 bytes), Ethernet. The template keeps it. */
static int build_with_libnet(uint8_t *frame, uint32_t length, const uint8_t src_mac[6],
                             const uint8_t dst_mac[6], int family, const uint8_t *saddr,
                             char *err)
{
    char errbuf[LIBNET_ERRBUF_SIZE];
    libnet_t *l = libnet_init(LIBNET_NONE, NULL, errbuf);
    if (!l) {
        snprintf(err, KS_ERRLEN, "libnet: %s", errbuf);
        return -1;
    }
    int rc = -1;
    uint8_t *packet = NULL;
    uint32_t size = 0, src4;
    struct libnet_in6_addr src6, dst6 = {0};
    memcpy(&src4, saddr, 4);
    memcpy(&src6, saddr, family == AF_INET6 ? 16 : 0);
    if (libnet_build_tcp_options(syn_tcp_options, SYN_TCP_OPT_LEN, l, 0) < 0 ||
        libnet_build_tcp(0, 0, 0, 0, TH_SYN, SYN_WINDOW, 0, 0, SYN_TCP_LEN, NULL, 0, l, 0) < 0 ||
        (family == AF_INET6
             ? libnet_build_ipv6(0, 0, SYN_TCP_LEN, IPPROTO_TCP, SYN_TTL, src6, dst6, NULL, 0,
                                 l, 0)
             : libnet_build_ipv4(SYN_IP_LEN + SYN_TCP_LEN, 0, 0, IP_DF, SYN_TTL, IPPROTO_TCP,
                                 0, src4, 0, NULL, 0, l, 0)) < 0 ||
        libnet_build_ethernet(dst_mac, src_mac, family == AF_INET6 ? ETHERTYPE_IPV6
                                                                   : ETHERTYPE_IP,
                              NULL, 0, l, 0) < 0 ||
        libnet_pblock_coalesce(l, &packet, &size) < 0) {
        snprintf(err, KS_ERRLEN, "libnet: %s", libnet_geterror(l));
        goto out;
    }
    if (size != length) {
        snprintf(err, KS_ERRLEN, "libnet built a %u-byte %s SYN frame, expected %u", size,
                 family == AF_INET6 ? "IPv6" : "IPv4", length);
        goto out;
    }
    memcpy(frame, packet, length);
    rc = 0;
out:
    if (packet)
        libnet_adv_free_packet(l, packet);
    libnet_destroy(l);
    return rc;
}

int syn_template_build(struct syn_template *tpl, const uint8_t src_mac[6],
                       const uint8_t dst_mac[6], uint32_t saddr, char *err)
{
    memset(tpl, 0, sizeof(*tpl));
    uint8_t source[4];
    be32_put(source, saddr);
    if (build_with_libnet(tpl->frame, SYN_FRAME_LEN, src_mac, dst_mac, AF_INET, source, err) < 0)
        return -1;
    tpl->length = SYN_FRAME_LEN;
    uint8_t *ip = tpl->frame + SYN_IP_OFF, *tcp = tpl->frame + SYN_TCP_OFF;
    /* Zero what varies, so the bases hold only the constant words. */
    be16_put(ip + 4, 0);   /* id */
    be16_put(ip + 10, 0);  /* checksum */
    be32_put(ip + 16, 0);  /* daddr */
    be16_put(tcp + 0, 0);  /* sport */
    be16_put(tcp + 2, 0);  /* dport */
    be32_put(tcp + 4, 0);  /* seq */
    be16_put(tcp + 16, 0); /* checksum */
    tpl->ip_sum_base = sum_words(ip, SYN_IP_LEN);
    uint8_t pseudo[12] = {0};
    be32_put(pseudo, saddr);
    pseudo[9] = IPPROTO_TCP;
    be16_put(pseudo + 10, SYN_TCP_LEN);
    tpl->tcp_sum_base = sum_words(pseudo, sizeof(pseudo)) + sum_words(tcp, SYN_TCP_LEN);
    return 0;
}

void syn_template_fill(const struct syn_template *tpl, uint8_t *out, uint32_t daddr,
                       uint16_t sport, uint16_t dport, uint32_t seq, uint16_t ip_id)
{
    memcpy(out, tpl->frame, SYN_FRAME_LEN);
    uint8_t *ip = out + SYN_IP_OFF, *tcp = out + SYN_TCP_OFF;
    uint32_t dsum = (daddr >> 16) + (daddr & 0xffff);
    be16_put(ip + 4, ip_id);
    be32_put(ip + 16, daddr);
    be16_put(ip + 10, fold(tpl->ip_sum_base + ip_id + dsum));
    be16_put(tcp + 0, sport);
    be16_put(tcp + 2, dport);
    be32_put(tcp + 4, seq);
    be16_put(tcp + 16,
          fold(tpl->tcp_sum_base + dsum + sport + dport + (seq >> 16) + (seq & 0xffff)));
}

/* ---- IPv6 ---- */

int syn_template_build6(struct syn_template *tpl, const uint8_t src_mac[6],
                        const uint8_t dst_mac[6], const uint8_t saddr[16], char *err)
{
    memset(tpl, 0, sizeof(*tpl));
    if (build_with_libnet(tpl->frame, SYN6_FRAME_LEN, src_mac, dst_mac, AF_INET6, saddr, err) < 0)
        return -1;
    tpl->length = SYN6_FRAME_LEN;
    uint8_t *tcp = tpl->frame + SYN6_TCP_OFF;
    be16_put(tcp + 0, 0);  /* sport */
    be16_put(tcp + 2, 0);  /* dport */
    be32_put(tcp + 4, 0);  /* seq */
    be16_put(tcp + 16, 0); /* checksum */
    /* IPv6 has no header checksum; TCP's pseudo-header (RFC 8200 8.1) is
     * source, destination, upper-layer length and next header. */
    tpl->tcp_sum_base = sum_words(saddr, 16) + SYN_TCP_LEN + IPPROTO_TCP +
                        sum_words(tcp, SYN_TCP_LEN);
    return 0;
}

void syn_template_fill6(const struct syn_template *tpl, uint8_t *out,
                        const uint8_t daddr[16], uint16_t sport, uint16_t dport, uint32_t seq)
{
    memcpy(out, tpl->frame, SYN6_FRAME_LEN);
    uint8_t *tcp = out + SYN6_TCP_OFF;
    memcpy(out + SYN_ETH_LEN + 24, daddr, 16);
    be16_put(tcp + 0, sport);
    be16_put(tcp + 2, dport);
    be32_put(tcp + 4, seq);
    be16_put(tcp + 16, fold(tpl->tcp_sum_base + sum_words(daddr, 16) + sport + dport +
                            (seq >> 16) + (seq & 0xffff)));
}
