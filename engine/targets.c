/*
 * targets.c - address lists, port lists and the target space.
 *
 * The target space numbers every (allowed address, port) pair: index
 * i = address_position * port_count + port_position. The allowlist minus the
 * blocklist is kept as sorted ranges with the index of each range's first
 * address, so both directions (index -> pair, pair -> index) are a binary
 * search: no per-address memory, whatever the size of the scan.
 */
#include "engine/engine.h"
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
    ip_list_init(list);
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

int ip_list_add_text(struct ip_list *list, const char *text, char *err)
{
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
        if (strchr(buf, ':'))
            snprintf(err, KS_ERRLEN, "'%s': IPv6 is not supported yet", text);
        else
            snprintf(err, KS_ERRLEN, "'%s' is not an IPv4 address or CIDR", text);
        return -1;
    }
    uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
    return ip_list_add_range(list, addr & mask, (addr & mask) | ~mask, err);
}

/* Strips a comment and surrounding blanks in place; returns the token. */
static char *line_token(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    char *end = line + strlen(line);
    while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
                          end[-1] == '\r'))
        *--end = '\0';
    return line;
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

int ip_list_add_reserved(struct ip_list *list, char *err)
{
    for (size_t i = 0; i < sizeof(reserved_ranges) / sizeof(reserved_ranges[0]); i++)
        if (ip_list_add_text(list, reserved_ranges[i], err) < 0)
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

void ip_list_normalize(struct ip_list *list)
{
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

int ip_list_subtract(struct ip_list *list, const struct ip_list *remove, char *err)
{
    struct ip_list out;
    ip_list_init(&out);
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

uint64_t ip_list_size(const struct ip_list *list)
{
    uint64_t n = 0;
    for (size_t i = 0; i < list->count; i++)
        n += (uint64_t)list->ranges[i].last - list->ranges[i].first + 1;
    return n;
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

int target_space_init(struct target_space *space, const struct ip_list *allow,
                      const struct ip_list *block, const struct port_list *ports,
                      char *err)
{
    memset(space, 0, sizeof(*space));
    if (ports->count == 0) {
        snprintf(err, KS_ERRLEN, "no ports to scan");
        return -1;
    }
    for (size_t i = 0; i < allow->count; i++)
        if (ip_list_add_range(&space->allowed, allow->ranges[i].first,
                              allow->ranges[i].last, err) < 0)
            goto fail;
    ip_list_normalize(&space->allowed);
    if (ip_list_subtract(&space->allowed, block, err) < 0)
        goto fail;
    space->address_count = ip_list_size(&space->allowed);
    if (space->address_count == 0) {
        snprintf(err, KS_ERRLEN, "no addresses left to scan after the blocklist");
        goto fail;
    }
    space->range_start = malloc((space->allowed.count ? space->allowed.count : 1) *
                                sizeof(uint64_t));
    space->ports.ports = malloc(ports->count * sizeof(uint16_t));
    if (!space->range_start || !space->ports.ports) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto fail;
    }
    uint64_t pos = 0;
    for (size_t i = 0; i < space->allowed.count; i++) {
        space->range_start[i] = pos;
        pos += (uint64_t)space->allowed.ranges[i].last - space->allowed.ranges[i].first + 1;
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

void target_space_free(struct target_space *space)
{
    ip_list_free(&space->allowed);
    free(space->range_start);
    space->range_start = NULL;
    port_list_free(&space->ports);
}

void target_space_at(const struct target_space *space, uint64_t index, uint32_t *addr,
                     uint16_t *port)
{
    uint64_t a = index / space->ports.count;
    *port = space->ports.ports[index % space->ports.count];
    size_t lo = 0, hi = space->allowed.count;
    /* last range whose start <= a */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (space->range_start[mid] <= a)
            lo = mid;
        else
            hi = mid;
    }
    *addr = space->allowed.ranges[lo].first + (uint32_t)(a - space->range_start[lo]);
}

bool target_space_index(const struct target_space *space, uint32_t addr, uint16_t port,
                        uint64_t *index)
{
    uint16_t slot = space->port_slot[port];
    if (slot == 0)
        return false;
    long r = ip_list_find(&space->allowed, addr);
    if (r < 0)
        return false;
    uint64_t a = space->range_start[r] + (addr - space->allowed.ranges[r].first);
    *index = a * space->ports.count + (slot - 1);
    return true;
}
