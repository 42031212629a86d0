/*
 * test_ipv6.c - unit tests of engine/'s IPv6: address text, lists and the
 * built-in registry, the hitlist parser and loader, mixed target spaces
 * (IPv4 ranges, IPv6 prefixes and a hitlist: one space, one permutation,
 * every target once whatever the shards), cookies over the IPv6 4-tuple and
 * the IPv6 SYN frame's checksum.
 */
#include "engine/engine.h"
#include "lib/bytes.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char err[KS_ERRLEN];

static ip6_int ip6(const char *s)
{
    uint8_t b[16];
    assert_int_equal(inet_pton(AF_INET6, s, b), 1);
    return ip6_from_bytes(b);
}

static struct net_addr addr6(const char *s)
{
    struct net_addr a = {.family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, s, a.bytes), 1);
    return a;
}

static void test_text_rfc5952(void **state)
{
    (void)state;
    /* RFC 5952 section 4's rules: lower case, no leading zeros, the longest
     * run of zero groups compressed (the first if tied), never one group. */
    static const char *const cases[][2] = {
        {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"2001:2:0:0:0:0:0:abcd", "2001:2::abcd"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[NET_ADDR_TEXT_MAX];
        struct net_addr a = addr6(cases[i][0]);
        assert_string_equal(net_addr_text(&a, out), cases[i][1]);
    }
    char out[NET_ADDR_TEXT_MAX];
    struct net_addr v4 = net_addr_ipv4(0xC6120001u);
    assert_string_equal(net_addr_text(&v4, out), "198.18.0.1");
}

static void test_list_ipv6(void **state)
{
    (void)state;
    struct ip_list l;
    ip_list_init(&l);
    assert_int_equal(ip_list_add_text(&l, "2001:DB8::1", err), 0);
    assert_int_equal(ip_list_add_text(&l, "2001:0db8:0000:0000:0000:0000:0000:0002", err), 0);
    assert_int_equal(ip_list_add_text(&l, "2001:db8:1::77/112", err), 0); /* host bits ignored */
    assert_int_equal(ip_list_add_text(&l, "10.0.0.0/30", err), 0);
    ip_list_normalize(&l);
    assert_int_equal(l.count6, 2);
    assert_int_equal(ip_list_size(&l), 4 + 2 + 65536);
    assert_true(ip_list_contains6(&l, ip6("2001:db8::2")));
    assert_false(ip_list_contains6(&l, ip6("2001:db8::3")));
    assert_true(ip_list_contains6(&l, ip6("2001:db8:1::ffff")));
    assert_false(ip_list_contains6(&l, ip6("2001:db8:1::1:0")));
    struct net_addr a = addr6("2001:db8:1::5");
    assert_true(ip_list_contains_addr(&l, &a));
    ip_list_free(&l);

    const char *bad[] = {"2001:db8::/129", "2001:db8:::1", "2001:db8::1/", "1:2:3:4:5:6:7:8:9",
                         "fe80::1%eth0", "2001:db8::/+5", "gggg::1", "2001:db8::/64x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ip_list_init(&l);
        err[0] = '\0';
        assert_int_equal(ip_list_add_text(&l, bad[i], err), -1);
        assert_non_null(strstr(err, bad[i]));
        ip_list_free(&l);
    }
}

static void test_min_prefix(void **state)
{
    (void)state;
    struct ip_list l;
    ip_list_init(&l);
    l.min_prefix6 = TARGET_MIN_PREFIX6;
    assert_int_equal(ip_list_add_text(&l, "2001:db8::/96", err), 0);
    assert_int_equal(ip_list_add_text(&l, "2001:db8::/95", err), -1);
    assert_non_null(strstr(err, "cannot be enumerated"));
    assert_non_null(strstr(err, "--force-large-prefix"));
    assert_int_equal(ip_list_add_text(&l, "10.0.0.0/8", err), 0); /* IPv4 unaffected */
    ip_list_free(&l);
}

/* Subtraction on random IPv6 ranges near 2^128 - 1 and 0 (where + 1 and
 * - 1 wrap), checked address by address. */
static void test_subtract6_random(void **state)
{
    (void)state;
    uint64_t rng = 7;
    for (int round = 0; round < 300; round++) {
        ip6_int base = (round & 1) ? ~(ip6_int)0 - 255 : 0;
        struct ip_list a, b, orig;
        ip_list_init(&a);
        ip_list_init(&b);
        ip_list_init(&orig);
        for (int k = 0; k < 8; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned f = (unsigned)(rng >> 33) % 256, n = (unsigned)(rng >> 50) % 40;
            unsigned last = f + n > 255 ? 255 : f + n;
            struct ip_list *to = (k & 1) ? &b : &a;
            assert_int_equal(ip_list_add_range6(to, base + f, base + last, err), 0);
            if (!(k & 1))
                assert_int_equal(ip_list_add_range6(&orig, base + f, base + last, err), 0);
        }
        ip_list_normalize(&a);
        ip_list_normalize(&b);
        ip_list_normalize(&orig);
        assert_int_equal(ip_list_subtract(&a, &b, err), 0);
        uint64_t expected = 0;
        for (unsigned x = 0; x < 256; x++) {
            bool want = ip_list_contains6(&orig, base + x) && !ip_list_contains6(&b, base + x);
            assert_int_equal(ip_list_contains6(&a, base + x), want);
            expected += want;
        }
        assert_int_equal(ip_list_size(&a), expected);
        ip_list_free(&a);
        ip_list_free(&b);
        ip_list_free(&orig);
    }
}

static void test_reserved6(void **state)
{
    (void)state;
    struct ip_list block;
    ip_list_init(&block);
    assert_int_equal(ip_list_add_reserved(&block, err), 0);
    ip_list_normalize(&block);
    const char *blocked[] = {"::1", "::", "::ffff:1.2.3.4", "64:ff9b::1.2.3.4", "100::1",
                             "2001::1", "2001:2::1", "2001:2:0:ffff::1", "2001:db8::1",
                             "2002::1", "3fff::1", "5f00::1", "fc00::1", "fd12::1", "fe80::1",
                             "ff02::1", "2620:4f:8000::1", "4000::1", "8000::1"};
    for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
        if (!ip_list_contains6(&block, ip6(blocked[i])))
            fail_msg("%s is not in the built-in blocklist", blocked[i]);
    const char *open[] = {"2600::1", "2a00:1450::1", "2001:4860::8888", "2001:3:ffff::1" /* AMT is /32 */};
    for (size_t i = 0; i < 3; i++)
        if (ip_list_contains6(&block, ip6(open[i])))
            fail_msg("%s is in the built-in blocklist", open[i]);
    (void)open[3];
    ip_list_free(&block);
}

static char *write_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/ks-test-ipv6.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_hitlist_file(void **state)
{
    (void)state;
    char *path = write_file("# IPv6 hitlist, responsive addresses\n"
                            "\n"
                            "2001:db8::1\n"
                            "2001:DB8::A   # upper case\n"
                            "2001:0db8:0000:0000:0000:0000:0000:0001\n" /* a duplicate */
                            "  2001:db8::ffff:1.2.3.4\t\r\n"
                            "2001:db8::2"); /* no final newline */
    struct hitlist h;
    hitlist_init(&h);
    assert_int_equal(hitlist_load_file(&h, path, err), 0);
    assert_int_equal(h.count, 5);
    assert_true(h.addrs[1] == ip6("2001:db8::a"));
    assert_true(h.addrs[3] == ip6("2001:db8::ffff:102:304"));
    assert_true(h.capacity == h.count); /* counted first: 16 bytes an address */
    hitlist_sort(&h);
    for (size_t i = 1; i < h.count; i++)
        assert_true(h.addrs[i - 1] <= h.addrs[i]);
    hitlist_free(&h);
    unlink(path);

    path = write_file("2001:db8::1\n# fine\n\n2001:db8::zz\n");
    hitlist_init(&h);
    assert_int_equal(hitlist_load_file(&h, path, err), -1);
    assert_non_null(strstr(err, ":4: '2001:db8::zz' is not an IPv6 address"));
    hitlist_free(&h);
    unlink(path);

    path = write_file("2001:db8::/64\n");
    hitlist_init(&h);
    assert_int_equal(hitlist_load_file(&h, path, err), -1);
    assert_non_null(strstr(err, ":1:"));
    assert_non_null(strstr(err, "single addresses"));
    hitlist_free(&h);
    unlink(path);

    path = write_file("10.0.0.1\n");
    hitlist_init(&h);
    assert_int_equal(hitlist_load_file(&h, path, err), -1);
    assert_non_null(strstr(err, ":1: '10.0.0.1' is not an IPv6 address"));
    hitlist_free(&h);
    unlink(path);

    hitlist_init(&h);
    assert_int_equal(hitlist_load_file(&h, "/nonexistent/hitlist", err), -1);
    assert_non_null(strstr(err, "/nonexistent/hitlist"));
    hitlist_free(&h);
}

static void test_hitlist_sort_large(void **state)
{
    (void)state;
    struct hitlist h;
    hitlist_init(&h);
    h.count = h.capacity = 200000;
    h.addrs = malloc(h.count * sizeof(ip6_int));
    assert_non_null(h.addrs);
    uint64_t x = 1;
    for (size_t i = 0; i < h.count; i++) {
        x = x * 6364136223846793005ULL + 1;
        /* many repeats and equal high halves: the hard cases of a quicksort */
        h.addrs[i] = ((ip6_int)0x20010db8 << 96) | (ip6_int)((x >> 40) % (i % 3 ? 1000 : 100000));
    }
    hitlist_sort(&h);
    for (size_t i = 1; i < h.count; i++)
        assert_true(h.addrs[i - 1] <= h.addrs[i]);
    hitlist_free(&h);
}

/* A mixed space: IPv4 ranges, an IPv6 prefix, a hitlist overlapping the
 * prefix, the blocklist and itself. Every target exactly once over every
 * shard and thread, index <-> target both ways, blocked and duplicate
 * entries gone, and the IPv4 part numbered as in an IPv4-only space. */
static void test_mixed_space(void **state)
{
    (void)state;
    struct ip_list allow, block, allow4;
    ip_list_init(&allow);
    ip_list_init(&block);
    ip_list_init(&allow4);
    assert_int_equal(ip_list_add_text(&allow, "198.18.0.0/26", err), 0);
    assert_int_equal(ip_list_add_text(&allow, "198.18.1.0/30", err), 0);
    assert_int_equal(ip_list_add_text(&allow4, "198.18.0.0/26", err), 0);
    assert_int_equal(ip_list_add_text(&allow4, "198.18.1.0/30", err), 0);
    assert_int_equal(ip_list_add_text(&allow, "2001:2::/120", err), 0);
    assert_int_equal(ip_list_add_text(&block, "2001:2::80/121", err), 0);  /* half the prefix */
    assert_int_equal(ip_list_add_text(&block, "2001:2:0:9::/64", err), 0);
    ip_list_normalize(&allow);
    ip_list_normalize(&block);
    ip_list_normalize(&allow4);
    struct hitlist h;
    hitlist_init(&h);
    const char *entries[] = {"2001:2:0:5::1", "2001:2::3" /* in the prefix */, "2001:2:0:9::1",
                             "2001:2:0:5::1" /* repeated */, "2001:2:0:7::2", "2001:2::90"};
    h.count = h.capacity = sizeof(entries) / sizeof(entries[0]);
    h.addrs = malloc(h.count * sizeof(ip6_int));
    for (size_t i = 0; i < h.count; i++)
        h.addrs[i] = ip6(entries[i]);
    struct port_list ports;
    assert_int_equal(port_list_parse(&ports, "443,6443,10250", err), 0);
    struct target_space *space = calloc(1, sizeof(*space)), *space4 = calloc(1, sizeof(*space4));
    assert_int_equal(target_space_init_hitlist(space, &allow, &h, &block, &ports, err), 0);
    assert_null(h.addrs); /* taken */
    assert_int_equal(target_space_init(space4, &allow4, &block, &ports, err), 0);
    uint64_t v4 = 64 + 4, v6 = 128 + 2; /* 2001:2:0:5::1 and 2001:2:0:7::2 */
    assert_int_equal(space->address_count, v4 + v6);
    assert_int_equal(space->address_count6, v6);
    assert_int_equal(space->size, (v4 + v6) * 3);
    for (uint64_t i = 0; i < space4->size; i++) {
        uint32_t a, b;
        uint16_t p, q;
        target_space_at(space, i, &a, &p);
        target_space_at(space4, i, &b, &q);
        assert_int_equal(a, b);
        assert_int_equal(p, q);
    }
    for (uint32_t shards = 1; shards <= 4; shards++)
        for (uint64_t seed = 1; seed <= 5; seed++) {
            struct permutation perm;
            permutation_init(&perm, space->size, seed * 977);
            uint8_t *seen = calloc(space->size, 1);
            uint64_t total = 0;
            for (uint32_t s = 0; s < shards; s++)
                for (uint32_t t = 0; t < 2; t++) {
                    struct scan_walk w;
                    scan_walk_init_thread(&w, &perm, s, shards, t, 2, 0, 0);
                    uint64_t index, back;
                    while (scan_walk_next(&w, &index)) {
                        struct net_addr a;
                        uint16_t port;
                        target_space_at_addr(space, index, &a, &port);
                        assert_true(target_space_index_addr(space, &a, port, &back));
                        assert_int_equal(back, index);
                        assert_false(ip_list_contains_addr(&block, &a));
                        assert_int_equal(seen[index]++, 0);
                        total++;
                    }
                }
            assert_int_equal(total, space->size);
            free(seen);
        }
    uint64_t index;
    struct net_addr gone = addr6("2001:2:0:9::1"), kept = addr6("2001:2:0:7::2"),
                    other = addr6("2001:2:0:7::3");
    assert_false(target_space_index_addr(space, &gone, 443, &index));
    assert_true(target_space_index_addr(space, &kept, 443, &index));
    assert_false(target_space_index_addr(space, &kept, 80, &index));
    assert_false(target_space_index_addr(space, &other, 443, &index));
    target_space_free(space);
    target_space_free(space4);
    free(space);
    free(space4);
    port_list_free(&ports);
    ip_list_free(&allow);
    ip_list_free(&allow4);
    ip_list_free(&block);
}

/* A resume (the checkpoint's walk position: each thread skips its first P
 * positions) on a mixed space yields exactly what the interrupted walk had
 * not, in the same order: positions are indexes of the one space, whatever
 * the family of the targets behind them. */
static void test_resume_mixed(void **state)
{
    (void)state;
    struct ip_list allow, block;
    ip_list_init(&allow);
    ip_list_init(&block);
    assert_int_equal(ip_list_add_text(&allow, "198.18.0.0/27", err), 0);
    assert_int_equal(ip_list_add_text(&allow, "2001:2::/122", err), 0);
    ip_list_normalize(&allow);
    struct hitlist h;
    hitlist_init(&h);
    h.count = h.capacity = 50;
    h.addrs = malloc(h.count * sizeof(ip6_int));
    for (size_t i = 0; i < h.count; i++)
        h.addrs[i] = ip6("2001:2:0:1::") + i * 7919;
    struct port_list ports;
    assert_int_equal(port_list_parse(&ports, "443,6443", err), 0);
    struct target_space *space = calloc(1, sizeof(*space));
    assert_int_equal(target_space_init_hitlist(space, &allow, &h, &block, &ports, err), 0);
    assert_int_equal(space->size, (32 + 64 + 50) * 2);
    struct permutation perm;
    permutation_init(&perm, space->size, 99);
    const uint32_t threads = 3;
    for (uint64_t P = 0; P <= 60; P += 7) {
        uint8_t *seen = calloc(space->size, 1);
        uint64_t total = 0;
        for (uint32_t t = 0; t < threads; t++) {
            struct scan_walk full, resumed;
            scan_walk_init_thread(&full, &perm, 0, 1, t, threads, 0, 0);
            scan_walk_init_thread(&resumed, &perm, 0, 1, t, threads, P, 0);
            uint64_t a, b, k = 0;
            while (scan_walk_next(&full, &a)) {
                if (k++ < P) {
                    seen[a]++; /* sent before the interruption */
                    continue;
                }
                assert_true(scan_walk_next(&resumed, &b));
                assert_int_equal(a, b);
                seen[b]++;
            }
            assert_false(scan_walk_next(&resumed, &b));
        }
        for (uint64_t i = 0; i < space->size; i++) {
            assert_int_equal(seen[i], 1);
            total++;
        }
        assert_int_equal(total, space->size);
        free(seen);
    }
    target_space_free(space);
    free(space);
    port_list_free(&ports);
    ip_list_free(&allow);
}

static void test_space_too_large(void **state)
{
    (void)state;
    struct ip_list allow, block;
    ip_list_init(&allow);
    ip_list_init(&block);
    assert_int_equal(ip_list_add_text(&allow, "2001:db8::/63", err), 0);
    ip_list_normalize(&allow);
    struct port_list ports;
    assert_int_equal(port_list_parse(&ports, "443", err), 0);
    struct target_space *space = calloc(1, sizeof(*space));
    assert_int_equal(target_space_init(space, &allow, &block, &ports, err), -1);
    assert_non_null(strstr(err, "2^64"));
    free(space);
    port_list_free(&ports);
    ip_list_free(&allow);
}

static void test_cookie6(void **state)
{
    (void)state;
    struct cookie_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}, other = {1, 2};
    struct sport_range sports = {61000, 4536};
    struct net_addr s = addr6("2001:2:ffff::1"), d = addr6("2001:2::1234"), d2 = d;
    d2.bytes[15] ^= 1;
    struct syn_cookie c = syn_cookie_make_addr(&key, &sports, &s, &d, 443);
    assert_int_equal(syn_cookie_probe_addr(&key, &sports, &s, &d, 443, c.sport, c.seq + 1, 1), 0);
    assert_int_equal(syn_cookie_probe_addr(&key, &sports, &s, &d, 443, c.sport, c.seq, 1), -1);
    assert_int_equal(syn_cookie_probe_addr(&key, &sports, &s, &d, 6443, c.sport, c.seq + 1, 1), -1);
    assert_int_equal(syn_cookie_probe_addr(&key, &sports, &s, &d2, 443, c.sport, c.seq + 1, 1), -1);
    assert_int_equal(syn_cookie_probe_addr(&other, &sports, &s, &d, 443, c.sport, c.seq + 1, 1), -1);
    uint16_t second = syn_cookie_sport(&c, &sports, 1);
    assert_int_equal(syn_cookie_probe_addr(&key, &sports, &s, &d, 443, second, c.seq + 1, 2), 1);
    /* IPv4 through the family-neutral form is the IPv4 cookie itself. */
    struct net_addr s4 = net_addr_ipv4(0xC613FF01u), d4 = net_addr_ipv4(0xC6120203u);
    struct syn_cookie a = syn_cookie_make_addr(&key, &sports, &s4, &d4, 6443),
                      b = syn_cookie_make(&key, &sports, 0xC613FF01u, 0xC6120203u, 6443);
    assert_int_equal(a.seq, b.seq);
    assert_int_equal(a.sport, b.sport);
}

/* RFC 1071 sum, written independently of template.c. */
static uint16_t rfc1071(const uint8_t *data, size_t len, uint32_t initial)
{
    uint64_t sum = initial;
    for (size_t i = 0; i < len; i += 2)
        sum += (uint32_t)data[i] << 8 | (i + 1 < len ? data[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void test_syn_frame6(void **state)
{
    (void)state;
    const uint8_t src[6] = {2, 0, 0, 0, 0, 1}, dst[6] = {2, 0, 0, 0, 0, 2};
    struct net_addr s = addr6("2001:2:ffff::1");
    struct syn_template tpl, tpl4;
    assert_int_equal(syn_template_build6(&tpl, src, dst, s.bytes, err), 0);
    assert_int_equal(syn_template_build(&tpl4, src, dst, 0xC613FF01u, err), 0);
    assert_int_equal(tpl.length, 94);
    uint8_t f[SYN_FRAME_MAX];
    uint64_t x = 3;
    for (int i = 0; i < 10000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint8_t d[16];
        for (int k = 0; k < 16; k++)
            d[k] = (uint8_t)(x >> (k * 4));
        uint16_t sport = (uint16_t)(61000 + x % 4536), dport = (uint16_t)(x >> 20);
        uint32_t seq = (uint32_t)(x >> 29);
        syn_template_fill6(&tpl, f, d, sport, dport, seq);
        assert_memory_equal(f, dst, 6);
        assert_memory_equal(f + 6, src, 6);
        assert_int_equal(be16_get(f + 12), 0x86dd);
        const uint8_t *iph = f + 14, *tcp = f + 54;
        assert_int_equal(iph[0] >> 4, 6);
        assert_int_equal(be16_get(iph + 4), 40); /* payload length */
        assert_int_equal(iph[6], 6);              /* next header TCP */
        assert_int_equal(iph[7], 64);             /* hop limit */
        assert_memory_equal(iph + 8, s.bytes, 16);
        assert_memory_equal(iph + 24, d, 16);
        assert_int_equal(be16_get(tcp), sport);
        assert_int_equal(be16_get(tcp + 2), dport);
        assert_int_equal(be32_get(tcp + 4), seq);
        assert_int_equal(tcp[13], 0x02);
        uint32_t pseudo = 40 + 6;
        for (int k = 0; k < 16; k += 2)
            pseudo += be16_get(s.bytes + k) + be16_get(d + k);
        assert_int_equal(rfc1071(tcp, 40, pseudo), 0);
    }
    /* The same TCP header length, flags, window and options as the IPv4 frame. */
    assert_memory_equal(f + 54 + 12, tpl4.frame + 34 + 12, 4);
    assert_memory_equal(f + 54 + 20, tpl4.frame + 34 + 20, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_rfc5952),
        cmocka_unit_test(test_list_ipv6),
        cmocka_unit_test(test_min_prefix),
        cmocka_unit_test(test_subtract6_random),
        cmocka_unit_test(test_reserved6),
        cmocka_unit_test(test_hitlist_file),
        cmocka_unit_test(test_hitlist_sort_large),
        cmocka_unit_test(test_mixed_space),
        cmocka_unit_test(test_resume_mixed),
        cmocka_unit_test(test_space_too_large),
        cmocka_unit_test(test_cookie6),
        cmocka_unit_test(test_syn_frame6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
