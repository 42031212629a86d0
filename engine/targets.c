/*
 * targets.c - address lists, port lists and the target space.
 *
 * The target space numbers every (allowed address, port) pair: index
 * i = address_position * port_count + port_position. The allowlist minus the
 * blocklist is kept as sorted ranges with the index of each range's first
 * address, so both directions (index -> pair, pair -> index) are a binary
 * search: no per-address memory, whatever the size of the scan. IPv6 ranges
 * follow the IPv4 ones, and the hitlist (single IPv6 addresses, sorted)
 * follows them: its position in the array is its address position, so a
 * hitlist costs its 16 bytes an address and nothing more.
 */
#include "engine/engine.h"
#include "engine/internal.h"
#include "lib/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ip_list_init(struct ip_list *list)
{
    memset(list, 0, sizeof(*list));
}

void ip_list_free(struct ip_list *list)
{
    free(list->ranges);
    free(list->ranges6);
    unsigned min_prefix6 = list->min_prefix6;
    ip_list_init(list);
    list->min_prefix6 = min_prefix6;
}

int ip_list_add_range6(struct ip_list *list, ip6_int first, ip6_int last, char *err)
{
    if (first > last) {
        snprintf(err, KS_ERRLEN, "empty address range");
        return -1;
    }
    if (BUF_GROW(list->ranges6, list->capacity6, list->count6 + 1, 16)) {
        snprintf(err, KS_ERRLEN, "out of memory for address list");
        return -1;
    }
    list->ranges6[list->count6++] = (struct ip6_range){first, last};
    return 0;
}

int ip_list_add_range(struct ip_list *list, uint32_t first, uint32_t last, char *err)
{
    if (first > last) {
        snprintf(err, KS_ERRLEN, "empty address range");
        return -1;
    }
    if (BUF_GROW(list->ranges, list->capacity, list->count + 1, 16)) {
        snprintf(err, KS_ERRLEN, "out of memory for address list");
        return -1;
    }
    list->ranges[list->count++] = (struct ip_range){first, last};
    return 0;
}

bool ip_parse(const char *text, uint32_t *addr)
{
    struct in_addr in;
    /* inet_pton accepts only the strict dotted quad, which is what we want:
     * no octal, no shorthand like "10.1". */
    if (inet_pton(AF_INET, text, &in) != 1)
        return false;
    *addr = ntohl(in.s_addr);
    return true;
}

/* "ipv6" or "ipv6/len" (text without surrounding blanks). */
static int add_text6(struct ip_list *list, const char *text, char *err)
{
    char buf[64];
    size_t len = strlen(text);
    if (len >= sizeof(buf)) {
        snprintf(err, KS_ERRLEN, "'%.80s' is not an IPv6 address or prefix", text);
        return -1;
    }
    memcpy(buf, text, len + 1);
    char *slash = strchr(buf, '/');
    long prefix = 128;
    if (slash) {
        *slash = '\0';
        char *end;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno || prefix < 0 ||
            prefix > 128) {
            snprintf(err, KS_ERRLEN, "'%s': IPv6 prefix length must be 0-128", text);
            return -1;
        }
    }
    uint8_t bytes[16];
    if (inet_pton(AF_INET6, buf, bytes) != 1) {
        snprintf(err, KS_ERRLEN, "'%s' is not an IPv6 address or prefix", text);
        return -1;
    }
    if (prefix < (long)list->min_prefix6) {
        snprintf(err, KS_ERRLEN,
                 "'%s': a /%ld holds 2^%ld addresses; IPv6 space cannot be enumerated "
                 "(even a /96 is as large as all of IPv4). Scan a hitlist (--hitlist) or "
                 "prefixes of /%u or longer, or give --force-large-prefix to mean it",
                 text, prefix, 128 - prefix, list->min_prefix6);
        return -1;
    }
    ip6_int addr = ip6_from_bytes(bytes);
    ip6_int host = prefix == 0 ? ~(ip6_int)0 : ((ip6_int)1 << (128 - prefix)) - 1;
    return ip_list_add_range6(list, addr & ~host, addr | host, err);
}

int ip_list_add_text(struct ip_list *list, const char *text, char *err)
{
    if (strchr(text, ':'))
        return add_text6(list, text, err);
    char buf[64];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof(buf)) {
        snprintf(err, KS_ERRLEN, "'%.80s' is not an IPv4 address or CIDR", text);
        return -1;
    }
    memcpy(buf, text, len + 1);
    char *slash = strchr(buf, '/');
    long prefix = 32;
    if (slash) {
        *slash = '\0';
        char *end;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || errno || prefix < 0 || prefix > 32) {
            snprintf(err, KS_ERRLEN, "'%s': prefix length must be 0-32", text);
            return -1;
        }
    }
    uint32_t addr;
    if (!ip_parse(buf, &addr)) {
        snprintf(err, KS_ERRLEN, "'%s' is not an IPv4 address or CIDR", text);
        return -1;
    }
    uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
    return ip_list_add_range(list, addr & mask, (addr & mask) | ~mask, err);
}

int ip_list_load_file(struct ip_list *list, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, KS_ERRLEN, "%s:%u: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *tok = line_token(line);
        if (*tok == '\0')
            continue;
        char sub[KS_ERRLEN];
        if (ip_list_add_text(list, tok, sub) < 0) {
            snprintf(err, KS_ERRLEN, "%s:%u: %s", path, lineno, sub);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, KS_ERRLEN, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* IANA IPv4 special-purpose registry and reserved space, as in ZMap's
 * conf/blocklist.conf (RFC 6890 and successors), plus multicast. */
static const char *const reserved_ranges[] = {
    "0.0.0.0/8",       /* "this" network, RFC 1122 */
    "10.0.0.0/8",      /* private, RFC 1918 */
    "100.64.0.0/10",   /* carrier-grade NAT, RFC 6598 */
    "127.0.0.0/8",     /* loopback, RFC 1122 */
    "169.254.0.0/16",  /* link local, RFC 3927 */
    "172.16.0.0/12",   /* private, RFC 1918 */
    "192.0.0.0/24",    /* IETF protocol assignments, RFC 6890 */
    "192.0.2.0/24",    /* documentation TEST-NET-1, RFC 5737 */
    "192.88.99.0/24",  /* 6to4 relay anycast, RFC 3068 */
    "192.168.0.0/16",  /* private, RFC 1918 */
    "198.18.0.0/15",   /* benchmarking, RFC 2544 */
    "198.51.100.0/24", /* documentation TEST-NET-2, RFC 5737 */
    "203.0.113.0/24",  /* documentation TEST-NET-3, RFC 5737 */
    "224.0.0.0/4",     /* multicast, RFC 5771 */
    "240.0.0.0/4",     /* reserved, RFC 1112 */
    "255.255.255.255/32", /* limited broadcast, RFC 919 */
};

/* IANA IPv6 Special-Purpose Address Registry
 * (https://www.iana.org/assignments/iana-ipv6-special-registry), as last
 * updated 2024-10-22: every entry, whatever its "Globally Reachable" column
 * says, as ZMap's IPv4 list takes the whole IPv4 registry. Then what the
 * IANA IPv6 Address Space registry
 * (https://www.iana.org/assignments/ipv6-address-space) does not give to
 * Global Unicast (2000::/3): the IETF-reserved rest and multicast. */
static const char *const reserved_ranges6[] = {
    "::1/128",            /* loopback, RFC 4291 */
    "::/128",             /* unspecified, RFC 4291 */
    "::ffff:0:0/96",      /* IPv4-mapped, RFC 4291 */
    "64:ff9b::/96",       /* IPv4-IPv6 translation, RFC 6052 */
    "64:ff9b:1::/48",     /* IPv4-IPv6 translation, RFC 8215 */
    "100::/64",           /* discard-only, RFC 6666 */
    "2001::/23",          /* IETF protocol assignments, RFC 2928 */
    "2001::/32",          /* Teredo, RFC 4380, RFC 8190 */
    "2001:1::1/128",      /* PCP anycast, RFC 7723 */
    "2001:1::2/128",      /* TURN anycast, RFC 8155 */
    "2001:1::3/128",      /* DNS-SD SRP anycast, RFC 9665 */
    "2001:2::/48",        /* benchmarking, RFC 5180 (the test network's range) */
    "2001:3::/32",        /* AMT, RFC 7450 */
    "2001:4:112::/48",    /* AS112-v6, RFC 7535 */
    "2001:10::/28",       /* deprecated (previously ORCHID), RFC 4843 */
    "2001:20::/28",       /* ORCHIDv2, RFC 7343 */
    "2001:30::/28",       /* drone remote ID DETs, RFC 9374 */
    "2001:db8::/32",      /* documentation, RFC 3849 */
    "2002::/16",          /* 6to4, RFC 3056 */
    "2620:4f:8000::/48",  /* direct delegation AS112, RFC 7534 */
    "3fff::/20",          /* documentation, RFC 9637 */
    "5f00::/16",          /* segment routing SIDs, RFC 9602 */
    "fc00::/7",           /* unique local, RFC 4193, RFC 8190 */
    "fe80::/10",          /* link-local unicast, RFC 4291 */
    /* IANA IPv6 Address Space: outside 2000::/3 everything is reserved by
     * the IETF or multicast (ff00::/8, RFC 4291). */
    "::/3",
    "4000::/2",
    "8000::/1",
};

int ip_list_add_reserved(struct ip_list *list, char *err)
{
    for (size_t i = 0; i < sizeof(reserved_ranges) / sizeof(reserved_ranges[0]); i++)
        if (ip_list_add_text(list, reserved_ranges[i], err) < 0)
            return -1;
    for (size_t i = 0; i < sizeof(reserved_ranges6) / sizeof(reserved_ranges6[0]); i++)
        if (add_text6(list, reserved_ranges6[i], err) < 0)
            return -1;
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const struct ip_range *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return 0;
}

static int range6_cmp(const void *a, const void *b)
{
    const struct ip6_range *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return 0;
}

static void normalize6(struct ip_list *list)
{
    if (list->count6 == 0)
        return;
    qsort(list->ranges6, list->count6, sizeof(list->ranges6[0]), range6_cmp);
    size_t out = 0;
    for (size_t i = 1; i < list->count6; i++) {
        struct ip6_range *cur = &list->ranges6[out];
        const struct ip6_range *next = &list->ranges6[i];
        if (cur->last == ~(ip6_int)0 || next->first <= cur->last + 1) {
            if (next->last > cur->last)
                cur->last = next->last;
        } else {
            list->ranges6[++out] = *next;
        }
    }
    list->count6 = out + 1;
}

void ip_list_normalize(struct ip_list *list)
{
    normalize6(list);
    if (list->count == 0)
        return;
    qsort(list->ranges, list->count, sizeof(list->ranges[0]), range_cmp);
    size_t out = 0;
    for (size_t i = 1; i < list->count; i++) {
        struct ip_range *cur = &list->ranges[out];
        const struct ip_range *next = &list->ranges[i];
        /* Merge overlapping and adjacent ranges; cur->last + 1 must not wrap. */
        if (cur->last == UINT32_MAX || next->first <= cur->last + 1) {
            if (next->last > cur->last)
                cur->last = next->last;
        } else {
            list->ranges[++out] = *next;
        }
    }
    list->count = out + 1;
}

/* The IPv6 ranges of list minus those of remove, into out. The same walk as
 * for IPv4, on 128-bit numbers (where last + 1 may wrap to 0). */
static int subtract6(const struct ip_list *list, const struct ip_list *remove,
                     struct ip_list *out, char *err)
{
    size_t j = 0;
    for (size_t i = 0; i < list->count6; i++) {
        ip6_int first = list->ranges6[i].first, last = list->ranges6[i].last;
        bool left = true; /* [first, last] still holds something */
        while (j < remove->count6 && remove->ranges6[j].last < first)
            j++;
        for (size_t k = j; k < remove->count6 && remove->ranges6[k].first <= last; k++) {
            const struct ip6_range *rm = &remove->ranges6[k];
            if (rm->first > first && ip_list_add_range6(out, first, rm->first - 1, err) < 0)
                return -1;
            if (rm->last >= last) {
                left = false;
                break;
            }
            first = rm->last + 1;
        }
        if (left && ip_list_add_range6(out, first, last, err) < 0)
            return -1;
    }
    return 0;
}

int ip_list_subtract(struct ip_list *list, const struct ip_list *remove, char *err)
{
    struct ip_list out;
    ip_list_init(&out);
    out.min_prefix6 = list->min_prefix6;
    if (subtract6(list, remove, &out, err) < 0)
        goto fail;
    size_t j = 0;
    for (size_t i = 0; i < list->count; i++) {
        uint64_t first = list->ranges[i].first, last = list->ranges[i].last;
        while (j < remove->count && remove->ranges[j].last < first)
            j++;
        /* Walk the removals overlapping [first, last]; j stays for the next range. */
        for (size_t k = j; k < remove->count && remove->ranges[k].first <= last; k++) {
            const struct ip_range *rm = &remove->ranges[k];
            if (rm->first > first &&
                ip_list_add_range(&out, (uint32_t)first, rm->first - 1, err) < 0)
                goto fail;
            first = (uint64_t)rm->last + 1;
            if (first > last)
                break;
        }
        if (first <= last && ip_list_add_range(&out, (uint32_t)first, (uint32_t)last, err) < 0)
            goto fail;
    }
    ip_list_free(list);
    *list = out;
    return 0;
fail:
    ip_list_free(&out);
    return -1;
}

/* IPv6 addresses of the list, at most 2^128 - 1 (an ip6_int cannot hold
 * all of IPv6: ::/0 counts one short). */
static ip6_int size6(const struct ip_list *list)
{
    ip6_int n = 0;
    for (size_t i = 0; i < list->count6; i++) {
        ip6_int r = list->ranges6[i].last - list->ranges6[i].first; /* size - 1 */
        if (r == ~(ip6_int)0 || n > ~(ip6_int)0 - r - 1)
            return ~(ip6_int)0;
        n += r + 1;
    }
    return n;
}

uint64_t ip_list_size(const struct ip_list *list)
{
    uint64_t n = 0;
    for (size_t i = 0; i < list->count; i++)
        n += (uint64_t)list->ranges[i].last - list->ranges[i].first + 1;
    ip6_int n6 = size6(list);
    return n6 > UINT64_MAX - n ? UINT64_MAX : n + (uint64_t)n6;
}

/* Position of the range holding addr, or -1. */
static long ip_list_find(const struct ip_list *list, uint32_t addr)
{
    size_t lo = 0, hi = list->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (list->ranges[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < list->count && list->ranges[lo].first <= addr)
        return (long)lo;
    return -1;
}

bool ip_list_contains(const struct ip_list *list, uint32_t addr)
{
    return ip_list_find(list, addr) >= 0;
}

static long ip_list_find6(const struct ip_list *list, ip6_int addr)
{
    size_t lo = 0, hi = list->count6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (list->ranges6[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < list->count6 && list->ranges6[lo].first <= addr)
        return (long)lo;
    return -1;
}

bool ip_list_contains6(const struct ip_list *list, ip6_int addr)
{
    return ip_list_find6(list, addr) >= 0;
}

bool ip_list_contains_addr(const struct ip_list *list, const struct net_addr *addr)
{
    if (addr->family == AF_INET6)
        return ip_list_contains6(list, ip6_from_bytes(addr->bytes));
    uint32_t be;
    memcpy(&be, addr->bytes, 4);
    return ip_list_contains(list, ntohl(be));
}

/* ---- ports ---- */

static int port_number(const char *text, const char *whole, long *out, char *err)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || errno || v < 1 || v > 65535 || (*end != '\0' && *end != '-')) {
        snprintf(err, KS_ERRLEN, "'%s': ports must be numbers 1-65535 (e.g. 443,6443,10250-10255)",
                 whole);
        return -1;
    }
    *out = v;
    return 0;
}

int port_list_parse(struct port_list *list, const char *text, char *err)
{
    uint8_t *seen = calloc(65536, 1);
    char *copy = strdup(text);
    int rc = -1;
    if (!seen || !copy) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto out;
    }
    if (*text == '\0') {
        snprintf(err, KS_ERRLEN, "empty port list");
        goto out;
    }
    size_t count = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        long lo, hi;
        if (port_number(item, text, &lo, err) < 0)
            goto out;
        hi = lo;
        char *dash = strchr(item, '-');
        if (dash && port_number(dash + 1, text, &hi, err) < 0)
            goto out;
        if (dash && strchr(dash + 1, '-')) {
            snprintf(err, KS_ERRLEN, "'%s': '%s' is not a port or a range of ports", text, item);
            goto out;
        }
        if (hi < lo) {
            snprintf(err, KS_ERRLEN, "'%s': port range %ld-%ld is reversed", text, lo, hi);
            goto out;
        }
        for (long p = lo; p <= hi; p++) {
            count += !seen[p];
            seen[p] = 1; /* not ++: a port named 256 times would wrap to "unseen" */
        }
    }
    if (count == 0 || text[strlen(text) - 1] == ',' || text[0] == ',' || strstr(text, ",,")) {
        snprintf(err, KS_ERRLEN, "'%s': empty item in port list", text);
        goto out;
    }
    list->ports = malloc(count * sizeof(uint16_t));
    if (!list->ports) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto out;
    }
    list->count = 0;
    for (long p = 1; p <= 65535; p++)
        if (seen[p])
            list->ports[list->count++] = (uint16_t)p;
    rc = 0;
out:
    free(copy);
    free(seen);
    return rc;
}

void port_list_free(struct port_list *list)
{
    free(list->ports);
    list->ports = NULL;
    list->count = 0;
}

/* ---- target space ---- */

/* The hitlist sorted, unique, and without the addresses the blocklist
 * removes or a range of the space already holds. In place. */
static void hitlist_prepare(struct hitlist *h, const struct ip_list *block,
                            const struct ip_list *ranges)
{
    hitlist_sort(h);
    size_t out = 0;
    for (size_t i = 0; i < h->count; i++) {
        ip6_int a = h->addrs[i];
        if ((out > 0 && h->addrs[out - 1] == a) || ip_list_contains6(block, a) ||
            ip_list_contains6(ranges, a))
            continue;
        h->addrs[out++] = a;
    }
    h->count = out;
}

/* Numbers the ranges and the hitlist: range_start, range_start6,
 * hitlist_start and the counts. */
static int number_addresses(struct target_space *space, char *err)
{
    const struct ip_list *allowed = &space->allowed;
    size_t n4 = allowed->count ? allowed->count : 1, n6 = allowed->count6 ? allowed->count6 : 1;
    space->range_start = malloc(n4 * sizeof(uint64_t));
    space->range_start6 = malloc(n6 * sizeof(uint64_t));
    if (!space->range_start || !space->range_start6) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    ip6_int pos = 0;
    for (size_t i = 0; i < allowed->count; i++) {
        space->range_start[i] = (uint64_t)pos;
        pos += (ip6_int)allowed->ranges[i].last - allowed->ranges[i].first + 1;
    }
    uint64_t count4 = (uint64_t)pos;
    for (size_t i = 0; i < allowed->count6; i++) {
        ip6_int r = allowed->ranges6[i].last - allowed->ranges6[i].first;
        if (r >= UINT64_MAX || pos + r + 1 > UINT64_MAX)
            goto too_large;
        space->range_start6[i] = (uint64_t)pos;
        pos += r + 1;
    }
    space->hitlist_start = (uint64_t)pos;
    pos += space->hitlist.count;
    if (pos > UINT64_MAX)
        goto too_large;
    space->address_count = (uint64_t)pos;
    space->address_count6 = space->address_count - count4;
    return 0;
too_large:
    snprintf(err, KS_ERRLEN, "more than 2^64 target addresses: IPv6 prefixes this large "
                             "cannot be numbered, let alone scanned");
    return -1;
}

int target_space_init_hitlist(struct target_space *space, const struct ip_list *allow,
                              struct hitlist *hitlist, const struct ip_list *block,
                              const struct port_list *ports, char *err)
{
    memset(space, 0, sizeof(*space));
    if (hitlist) {
        space->hitlist = *hitlist;
        hitlist_init(hitlist);
    }
    if (ports->count == 0) {
        snprintf(err, KS_ERRLEN, "no ports to scan");
        goto fail;
    }
    for (size_t i = 0; i < allow->count; i++)
        if (ip_list_add_range(&space->allowed, allow->ranges[i].first,
                              allow->ranges[i].last, err) < 0)
            goto fail;
    for (size_t i = 0; i < allow->count6; i++)
        if (ip_list_add_range6(&space->allowed, allow->ranges6[i].first,
                               allow->ranges6[i].last, err) < 0)
            goto fail;
    ip_list_normalize(&space->allowed);
    if (ip_list_subtract(&space->allowed, block, err) < 0)
        goto fail;
    hitlist_prepare(&space->hitlist, block, &space->allowed);
    if (number_addresses(space, err) < 0)
        goto fail;
    if (space->address_count == 0) {
        snprintf(err, KS_ERRLEN, "no addresses left to scan after the blocklist");
        goto fail;
    }
    if (space->address_count > UINT64_MAX / ports->count) {
        snprintf(err, KS_ERRLEN, "%llu addresses x %zu ports is more than 2^64 targets",
                 (unsigned long long)space->address_count, ports->count);
        goto fail;
    }
    space->ports.ports = malloc(ports->count * sizeof(uint16_t));
    if (!space->ports.ports) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto fail;
    }
    memcpy(space->ports.ports, ports->ports, ports->count * sizeof(uint16_t));
    space->ports.count = ports->count;
    for (size_t i = 0; i < ports->count; i++)
        space->port_slot[ports->ports[i]] = (uint16_t)(i + 1);
    space->size = space->address_count * ports->count;
    return 0;
fail:
    target_space_free(space);
    return -1;
}

int target_space_init(struct target_space *space, const struct ip_list *allow,
                      const struct ip_list *block, const struct port_list *ports,
                      char *err)
{
    return target_space_init_hitlist(space, allow, NULL, block, ports, err);
}

void target_space_free(struct target_space *space)
{
    ip_list_free(&space->allowed);
    free(space->range_start);
    free(space->range_start6);
    space->range_start = space->range_start6 = NULL;
    hitlist_free(&space->hitlist);
    port_list_free(&space->ports);
}

/* The last of n range starts <= a (starts[0] <= a). */
static size_t range_of(const uint64_t *starts, size_t n, uint64_t a)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= a)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void target_space_at_addr(const struct target_space *space, uint64_t index,
                          struct net_addr *addr, uint16_t *port)
{
    uint64_t a = index / space->ports.count;
    *port = space->ports.ports[index % space->ports.count];
    const struct ip_list *allowed = &space->allowed;
    if (a < space->address_count - space->address_count6) {
        size_t r = range_of(space->range_start, allowed->count, a);
        *addr = net_addr_ipv4(allowed->ranges[r].first + (uint32_t)(a - space->range_start[r]));
        return;
    }
    ip6_int v;
    if (a >= space->hitlist_start) {
        v = space->hitlist.addrs[a - space->hitlist_start];
    } else {
        size_t r = range_of(space->range_start6, allowed->count6, a);
        v = allowed->ranges6[r].first + (a - space->range_start6[r]);
    }
    addr->family = AF_INET6;
    ip6_to_bytes(v, addr->bytes);
}

/* Position of addr in the sorted hitlist, or -1. */
static int64_t hitlist_find(const struct hitlist *h, ip6_int addr)
{
    size_t lo = 0, hi = h->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->addrs[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->count && h->addrs[lo] == addr ? (int64_t)lo : -1;
}

bool target_space_index_addr(const struct target_space *space, const struct net_addr *addr,
                             uint16_t port, uint64_t *index)
{
    uint16_t slot = space->port_slot[port];
    if (slot == 0)
        return false;
    uint64_t a;
    if (addr->family == AF_INET) {
        uint32_t be;
        memcpy(&be, addr->bytes, 4);
        uint32_t v4 = ntohl(be);
        long r = ip_list_find(&space->allowed, v4);
        if (r < 0)
            return false;
        a = space->range_start[r] + (v4 - space->allowed.ranges[r].first);
    } else {
        ip6_int v = ip6_from_bytes(addr->bytes);
        long r = ip_list_find6(&space->allowed, v);
        int64_t h;
        if (r >= 0)
            a = space->range_start6[r] + (uint64_t)(v - space->allowed.ranges6[r].first);
        else if ((h = hitlist_find(&space->hitlist, v)) >= 0)
            a = space->hitlist_start + (uint64_t)h;
        else
            return false;
    }
    *index = a * space->ports.count + (slot - 1);
    return true;
}

void target_space_at(const struct target_space *space, uint64_t index, uint32_t *addr,
                     uint16_t *port)
{
    struct net_addr a;
    target_space_at_addr(space, index, &a, port);
    uint32_t be;
    memcpy(&be, a.bytes, 4);
    *addr = ntohl(be);
}

bool target_space_index(const struct target_space *space, uint32_t addr, uint16_t port,
                        uint64_t *index)
{
    struct net_addr a = net_addr_ipv4(addr);
    return target_space_index_addr(space, &a, port, index);
}
