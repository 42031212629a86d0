/*
 * population.c - the seeded population of the simulated internet.
 *
 *   ks_population --seed N [--cidr 198.18.0.0/16] [--ports 443,6443]
 *                 [--open-permille 100] [--rst-permille 10]
 *                 --nft FILE --truth FILE
 *
 * For every (address, port) of CIDR x PORTS it decides, from a hash of
 * (seed, address, port), whether the pair is open; for every address, from a
 * hash of (seed, address), whether it answers RST. Because each decision
 * depends only on its own inputs, the result does not depend on the order of
 * the walk, and the same seed always gives the same population.
 *
 * Output:
 *   --nft FILE    nft statements for `nft -f FILE` in the target namespace:
 *                 flush sets `open` and `rst` of table `inet ks`, then add
 *                 the elements (in chunks, so big populations load fast).
 *   --truth FILE  the ground truth: header `saddr,sport`, one row per open
 *                 pair, in numeric order (address, then port), which is the
 *                 order of `sort -t, -k1,1V -k2,2n`. Tests compare sets, so
 *                 they normalise both sides with `LC_ALL=C sort`.
 *
 * A summary (pairs, open, rst) goes to stderr. Exit status 0, or 2 on a
 * usage error with a message naming what was wrong, or 1 if a file cannot be
 * written.
 */
#include "lib/text.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFT_CHUNK 2048 /* elements per `add element` statement */

/* The simulated internet lives in 198.18.0.0/15 (RFC 2544 benchmarking). */
#define SIM_NET 0xC6120000u  /* 198.18.0.0 */
#define SIM_MASK 0xFFFE0000u /* /15 */

struct options {
    uint64_t seed;
    bool have_seed;
    uint32_t first, last; /* addresses, host byte order, inclusive */
    bool port_on[65536];
    uint16_t ports[65536]; /* the ports that are on, ascending */
    unsigned nports;
    unsigned open_permille;
    unsigned rst_permille;
    const char *nft_path;
    const char *truth_path;
};

/* SplitMix64's finaliser: a good 64-bit mix, enough for a population. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Bit 16 separates the two questions so they never share a hash input. */
static bool pair_is_open(const struct options *o, uint32_t addr, uint16_t port)
{
    uint64_t key = ((uint64_t)addr << 17) | port;
    return mix64(mix64(o->seed) ^ key) % 1000 < o->open_permille;
}

static bool addr_is_rst(const struct options *o, uint32_t addr)
{
    uint64_t key = ((uint64_t)addr << 17) | (1u << 16);
    return mix64(mix64(o->seed) ^ key) % 1000 < o->rst_permille;
}

static int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_cidr(const char *text, uint32_t *first, uint32_t *last)
{
    unsigned a, b, c, d, len = 32;
    char tail;
    int n = sscanf(text, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &len, &tail);
    if ((n != 4 && n != 5) || a > 255 || b > 255 || c > 255 || d > 255 || len > 32)
        return -1;
    if (n == 4 && strchr(text, '/'))
        return -1;
    uint32_t addr = a << 24 | b << 16 | c << 8 | d;
    uint32_t mask = len ? 0xFFFFFFFFu << (32 - len) : 0;
    *first = addr & mask;
    *last = *first | ~mask;
    return 0;
}

/* "443,6443,10250-10255" */
static int parse_ports(const char *text, bool *on)
{
    char *copy = strdup(text), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !rc;
         tok = strtok_r(NULL, ",", &save)) {
        unsigned long lo, hi;
        char *dash = strchr(tok, '-');
        if (dash)
            *dash = '\0';
        if (parse_uint(tok, 65535, &lo) || lo == 0)
            rc = -1;
        else if (!dash)
            hi = lo;
        else if (parse_uint(dash + 1, 65535, &hi) || hi < lo)
            rc = -1;
        for (unsigned long p = lo; !rc && p <= hi; p++)
            on[p] = true;
    }
    free(copy);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ks_population --seed N [--cidr 198.18.0.0/16] [--ports 443,6443]\n"
                 "                     [--open-permille 100] [--rst-permille 10]\n"
                 "                     --nft FILE --truth FILE\n"
                 "Writes the nft elements of sets open/rst (table inet ks) and the ground\n"
                 "truth CSV (saddr,sport; numeric order) of a seeded population.\n"
                 "CIDR must lie in 198.18.0.0/15.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},          {"cidr", required_argument, NULL, 'c'},
        {"ports", required_argument, NULL, 'p'},         {"open-permille", required_argument, NULL, 'o'},
        {"rst-permille", required_argument, NULL, 'r'},  {"nft", required_argument, NULL, 'n'},
        {"truth", required_argument, NULL, 't'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cidr = "198.18.0.0/16", *ports = "443,6443";
    unsigned long v;
    int c;
    o->open_permille = 100;
    o->rst_permille = 10;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_uint(optarg, ULONG_MAX, &v))
                return fprintf(stderr, "ks_population: bad --seed '%s'\n", optarg), -1;
            o->seed = v, o->have_seed = true;
            break;
        case 'c': cidr = optarg; break;
        case 'p': ports = optarg; break;
        case 'o':
            if (parse_uint(optarg, 1000, &v))
                return fprintf(stderr, "ks_population: bad --open-permille '%s' (0-1000)\n", optarg), -1;
            o->open_permille = (unsigned)v;
            break;
        case 'r':
            if (parse_uint(optarg, 1000, &v))
                return fprintf(stderr, "ks_population: bad --rst-permille '%s' (0-1000)\n", optarg), -1;
            o->rst_permille = (unsigned)v;
            break;
        case 'n': o->nft_path = optarg; break;
        case 't': o->truth_path = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc)
        return fprintf(stderr, "ks_population: unexpected argument '%s'\n", argv[optind]), -1;
    if (!o->have_seed || !o->nft_path || !o->truth_path)
        return fprintf(stderr, "ks_population: --seed, --nft and --truth are required\n"), -1;
    if (parse_cidr(cidr, &o->first, &o->last))
        return fprintf(stderr, "ks_population: bad --cidr '%s'\n", cidr), -1;
    if ((o->first & SIM_MASK) != SIM_NET || (o->last & SIM_MASK) != SIM_NET)
        return fprintf(stderr, "ks_population: --cidr '%s' is outside 198.18.0.0/15\n", cidr), -1;
    if (parse_ports(ports, o->port_on))
        return fprintf(stderr, "ks_population: bad --ports '%s' (e.g. 443,6443,10250-10255)\n", ports), -1;
    for (unsigned p = 1; p < 65536; p++)
        if (o->port_on[p])
            o->ports[o->nports++] = (uint16_t)p;
    return 0;
}

/* Appends one element to a chunked `add element` statement. */
static void nft_element(FILE *f, const char *set, uint64_t *in_chunk, const char *elem)
{
    if (*in_chunk == 0)
        fprintf(f, "add element inet ks %s { %s", set, elem);
    else
        fprintf(f, ", %s", elem);
    if (++*in_chunk == NFT_CHUNK) {
        fputs(" }\n", f);
        *in_chunk = 0;
    }
}

static void nft_end_chunk(FILE *f, uint64_t *in_chunk)
{
    if (*in_chunk)
        fputs(" }\n", f);
    *in_chunk = 0;
}

static int write_population(const struct options *o, FILE *nft, FILE *truth)
{
    uint64_t pairs = 0, open = 0, rst = 0, chunk = 0;
    char ip[16], elem[32];

    fputs("flush set inet ks open\nflush set inet ks rst\n", nft);
    fputs("saddr,sport\n", truth);
    for (uint64_t a = o->first; a <= o->last; a++) {
        ipv4_text((uint32_t)a, ip);
        for (unsigned i = 0; i < o->nports; i++) {
            uint16_t p = o->ports[i];
            pairs++;
            if (!pair_is_open(o, (uint32_t)a, (uint16_t)p))
                continue;
            open++;
            fprintf(truth, "%s,%u\n", ip, p);
            snprintf(elem, sizeof elem, "%s . %u", ip, p);
            nft_element(nft, "open", &chunk, elem);
        }
    }
    nft_end_chunk(nft, &chunk);
    for (uint64_t a = o->first; a <= o->last; a++) {
        if (!addr_is_rst(o, (uint32_t)a))
            continue;
        rst++;
        ipv4_text((uint32_t)a, ip);
        nft_element(nft, "rst", &chunk, ip);
    }
    nft_end_chunk(nft, &chunk);
    fprintf(stderr, "ks_population: seed %" PRIu64 ": %" PRIu64 " pairs, %" PRIu64
                    " open, %" PRIu64 " rst addresses\n",
            o->seed, pairs, open, rst);
    return 0;
}

int main(int argc, char **argv)
{
    static struct options o; /* static: the port table is 64 KiB */
    if (parse_options(argc, argv, &o))
        return 2;
    FILE *nft = fopen(o.nft_path, "w");
    if (!nft) {
        fprintf(stderr, "ks_population: cannot write %s: %s\n", o.nft_path, strerror(errno));
        return 1;
    }
    FILE *truth = fopen(o.truth_path, "w");
    if (!truth) {
        fprintf(stderr, "ks_population: cannot write %s: %s\n", o.truth_path, strerror(errno));
        fclose(nft);
        return 1;
    }
    write_population(&o, nft, truth);
    int bad_nft = ferror(nft) | fclose(nft);
    int bad_truth = ferror(truth) | fclose(truth);
    if (bad_nft || bad_truth) {
        fprintf(stderr, "ks_population: write error on %s\n", bad_nft ? o.nft_path : o.truth_path);
        return 1;
    }
    return 0;
}
