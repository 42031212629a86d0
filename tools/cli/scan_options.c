/*
 * scan_options.c - parsing and checking the options of `kubesurvey scan`.
 */
#include "tools/cli/scan_options.h"
#include "tools/cli/probe_options.h"
#include "tools/cli/cli.h"
#include "ks_version.h"
#include "lib/bytes.h"
#include "lib/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORTS "443,6443"
#define DEFAULT_RATE 10000
#define DEFAULT_SPORT_FIRST 61000
#define DEFAULT_SPORT_LAST 65535

static const char scan_usage[] =
    "usage: kubesurvey scan [OPTIONS] [TARGET...]\n"
    "\n"
    "SYN-scan TARGETs (IPv4 or IPv6 addresses or prefixes) on the given ports, then probe every\n"
    "responder (TCP, TLS with the certificate chain, GET /version), classify it and\n"
    "store the result in --db (and as JSON Lines with -o). With --syn-only, only list\n"
    "each responsive (address, port) as CSV (header saddr,sport) or JSON Lines.\n"
    "\n"
    "Targets\n"
    "  -p, --ports LIST          ports, e.g. 443,6443,10250-10255 (default " DEFAULT_PORTS ")\n"
    "  -w, --allowlist FILE      targets from FILE (one address or CIDR per line, # comments)\n"
    "      --hitlist FILE        IPv6 addresses from FILE (one per line, # comments), as the\n"
    "                            IPv6 Hitlist service publishes them; with the other targets\n"
    "                            one space and one order. IPv6 targets need --syn-only for now\n"
    "      --force-large-prefix  take IPv6 prefixes shorter than /96 (refused by default:\n"
    "                            IPv6 space cannot be enumerated; scan a hitlist)\n"
    "  -b, --blocklist FILE      exclude FILE's ranges INSTEAD of the built-in list of\n"
    "                            IANA reserved and special-purpose ranges\n"
    "      --no-blocklist        exclude nothing (required to scan more than a /8\n"
    "                            with an empty blocklist)\n"
    "      --opt-out FILE        never probe FILE's ranges (blocklist format) either;\n"
    "                            re-read on SIGHUP while the scan runs\n"
    "      --seed N              order of the scan (random if not given; required with --shards)\n"
    "      --shards N            split the scan into N disjoint parts ...\n"
    "      --shard I             ... and run part I (0-based)\n"
    "      --max-targets N       probe at most N targets (of this shard)\n"
    "      --dry-run             print every (address, port) in scan order, send nothing\n"
    "Sending\n"
    "  -r, --rate PPS            packets per second (default 10000; 0 = as fast as possible)\n"
    "  -B, --bandwidth BPS       bits per second instead, e.g. 10M, 1G\n"
    "  -P, --probes N            SYNs per target, from N source ports (default 1, at most 8);\n"
    "                            the metadata then estimates the loss\n"
    "      --sender-threads N    sending threads, each with its part of the order (default 1)\n"
    "      --send-method M       mmsg (AF_PACKET + sendmmsg batches, default) or libnet\n"
    "      --batch N             frames per system call with mmsg (default 256)\n"
    "      --max-runtime SECS    stop sending after SECS seconds\n"
    "  -c, --cooldown SECS       wait for late replies after the last probe (default 8)\n"
    "Network (found from the routing table when not given)\n"
    "  -i, --interface IF        --source-ip ADDR        --gateway-mac MAC\n"
    "                            (--source-ip: IPv4 or IPv6, once per family)\n"
    "      --source-ports A-B    source ports of the probes (default 61000-65535, outside\n"
    "                            the kernel's ephemeral range)\n"
    "      --user USER           run as USER once the raw sockets, the capture and the\n"
    "                            files are open (default nobody when run as root)\n"
    "Output\n"
    "      --syn-only            report SYN-ACK responders only (no TLS/HTTP probes)\n"
    "  -o, --output FILE         results (--syn-only: default stdout)\n"
    "      --output-format F     csv (default) or jsonl\n"
    "      --metadata FILE       JSON summary of the run (parameters, counters, times)\n"
    "  -q, --quiet               no status line on stderr\n"
    "Probing and storage (without --syn-only every responder is probed by its port's module)\n"
    "      --db PATH             LMDB store for the results (default survey.lmdb)\n"
    "      --no-db               do not store; write JSON Lines with -o instead\n"
    "      --resume              continue the interrupted scan in --db from its last\n"
    "                            checkpoint (same targets, ports, blocklist, seed, shard)\n"
    "      --no-port-sample      do not check whether responsive hosts answer on every\n"
    "                            port (by default each gets SYNs to 4 ports outside -p;\n"
    "                            3 answers flag its records all_ports_open)\n"
    PROBE_OPTIONS_HELP    "  -h, --help\n"
    "\n"
    "Run it only where you may scan. See docs/survey-guide.md.\n";

enum {
    OPT_SEED = 256, OPT_SHARDS, OPT_SHARD, OPT_MAX_TARGETS, OPT_DRY_RUN, OPT_THREADS,
    OPT_METHOD, OPT_BATCH, OPT_MAX_RUNTIME, OPT_SOURCE_IP, OPT_GATEWAY_MAC, OPT_SPORTS,
    OPT_SYN_ONLY, OPT_FORMAT, OPT_METADATA, OPT_DB, OPT_NO_DB, OPT_RESUME, OPT_NO_BLOCKLIST,
    OPT_OPT_OUT, OPT_USER, OPT_NO_PORT_SAMPLE, OPT_HITLIST, OPT_FORCE_LARGE_PREFIX,
};

static const struct option scan_long_options[] = {
    {"ports", required_argument, NULL, 'p'},
    {"allowlist", required_argument, NULL, 'w'},
    {"blocklist", required_argument, NULL, 'b'},
    {"no-blocklist", no_argument, NULL, OPT_NO_BLOCKLIST},
    {"hitlist", required_argument, NULL, OPT_HITLIST},
    {"force-large-prefix", no_argument, NULL, OPT_FORCE_LARGE_PREFIX},
    {"opt-out", required_argument, NULL, OPT_OPT_OUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"shards", required_argument, NULL, OPT_SHARDS},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"max-targets", required_argument, NULL, OPT_MAX_TARGETS},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"rate", required_argument, NULL, 'r'},
    {"bandwidth", required_argument, NULL, 'B'},
    {"probes", required_argument, NULL, 'P'},
    {"sender-threads", required_argument, NULL, OPT_THREADS},
    {"send-method", required_argument, NULL, OPT_METHOD},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"max-runtime", required_argument, NULL, OPT_MAX_RUNTIME},
    {"cooldown", required_argument, NULL, 'c'},
    {"interface", required_argument, NULL, 'i'},
    {"source-ip", required_argument, NULL, OPT_SOURCE_IP},
    {"gateway-mac", required_argument, NULL, OPT_GATEWAY_MAC},
    {"source-ports", required_argument, NULL, OPT_SPORTS},
    {"user", required_argument, NULL, OPT_USER},
    {"syn-only", no_argument, NULL, OPT_SYN_ONLY},
    {"output", required_argument, NULL, 'o'},
    {"output-format", required_argument, NULL, OPT_FORMAT},
    {"metadata", required_argument, NULL, OPT_METADATA},
    {"quiet", no_argument, NULL, 'q'},
    {"db", required_argument, NULL, OPT_DB},
    {"no-db", no_argument, NULL, OPT_NO_DB},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"no-port-sample", no_argument, NULL, OPT_NO_PORT_SAMPLE},
    PROBE_LONG_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* fmt has one %s, for what. */
static int usage_error(const char *fmt, const char *what)
{
    char message[KS_ERRLEN];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(message, sizeof(message), fmt, what);
#pragma GCC diagnostic pop
    cli_message("%s\n(see kubesurvey scan --help)", message);
    return EXIT_USAGE;
}

/* A whole unsigned number with an optional K/M/G suffix (powers of 1000). */
static bool parse_count(const char *text, uint64_t max, bool suffix, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*text == '-' || *text == '\0')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text)
        return false;
    uint64_t mult = 1;
    if (suffix && *end) {
        switch (*end++) {
        case 'k': case 'K': mult = 1000; break;
        case 'm': case 'M': mult = 1000000; break;
        case 'g': case 'G': mult = 1000000000; break;
        default: return false;
        }
    }
    if (*end != '\0' || (mult > 1 && v > max / mult) || v * mult > max)
        return false;
    *out = v * mult;
    return true;
}

static bool parse_seconds(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !(v >= 0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

static bool parse_sports(const char *text, struct sport_range *r)
{
    unsigned a, b;
    char tail;
    if (sscanf(text, "%u-%u%c", &a, &b, &tail) != 2 || a < 1 || b > 65535 || a > b)
        return false;
    r->first = (uint16_t)a;
    r->count = (uint16_t)(b - a + 1 > 65535 ? 65535 : b - a + 1);
    return true;
}

static void set_defaults(struct scan_options *o)
{
    memset(o, 0, sizeof(*o));
    o->ports = DEFAULT_PORTS;
    o->rate = DEFAULT_RATE;
    o->shards = 1;
    o->sender_threads = 1;
    o->batch = 256;
    o->probes = 1;
    o->cooldown = 8;
    o->method = SEND_MMSG;
    o->sports.first = DEFAULT_SPORT_FIRST;
    o->sports.count = DEFAULT_SPORT_LAST - DEFAULT_SPORT_FIRST + 1;
    o->db = "survey.lmdb";
}

/* One option; returns -1 if fine, else an exit status. */
/* The options that take a count: range, unit suffix, where it goes and
 * what the error says. */
static const struct count_option {
    int id;
    uint64_t min, max;
    bool suffix;                 /* K/M/G allowed */
    size_t offset, width;        /* the scan_options member: uint64_t or uint32_t */
    const char *must;            /* "--shards '%s' must be ..." */
} count_options[] = {
    {OPT_SEED, 0, UINT64_MAX, false, offsetof(struct scan_options, seed), 8,
     "--seed '%s' is not a non-negative integer"},
    {OPT_SHARDS, 1, 65535, false, offsetof(struct scan_options, shards), 4,
     "--shards '%s' must be 1-65535"},
    {OPT_SHARD, 0, 65534, false, offsetof(struct scan_options, shard), 4,
     "--shard '%s' must be 0-65534"},
    {OPT_MAX_TARGETS, 1, UINT64_MAX, true, offsetof(struct scan_options, max_targets), 8,
     "--max-targets '%s' must be a positive integer"},
    {'r', 0, 100000000, true, offsetof(struct scan_options, rate), 8,
     "--rate '%s' must be packets per second (0 = unlimited)"},
    {'B', 1, 1000000000000ULL, true, offsetof(struct scan_options, bandwidth), 8,
     "--bandwidth '%s' must be bits per second, e.g. 100M"},
    {OPT_THREADS, 1, 64, false, offsetof(struct scan_options, sender_threads), 4,
     "--sender-threads '%s' must be 1-64"},
    {OPT_BATCH, 1, 1024, false, offsetof(struct scan_options, batch), 4,
     "--batch '%s' must be 1-1024"},
    {'P', 1, SCAN_MAX_PROBES, false, offsetof(struct scan_options, probes), 4,
     "--probes '%s' must be 1-8"},
};

/* A count option: 0 applied, EXIT_USAGE bad value, -1 not a count option. */
static int apply_count(struct scan_options *o, int c, const char *arg)
{
    for (size_t i = 0; i < sizeof(count_options) / sizeof(count_options[0]); i++) {
        const struct count_option *k = &count_options[i];
        uint64_t v;
        if (k->id != c)
            continue;
        if (!parse_count(arg, k->max, k->suffix, &v) || v < k->min)
            return usage_error(k->must, arg);
        if (k->width == 8)
            memcpy((char *)o + k->offset, &v, 8);
        else
            *(uint32_t *)((char *)o + k->offset) = (uint32_t)v;
        if (c == OPT_SEED)
            o->seed_given = true;
        return 0;
    }
    return -1;
}

/* Options whose value is an address, a MAC, a range or a word. */
static int apply_checked(struct scan_options *o, int c, const char *arg)
{
    uint32_t addr;
    uint8_t mac[6];
    switch (c) {
    case OPT_METHOD:
        if (!strcmp(arg, "mmsg"))
            o->method = SEND_MMSG;
        else if (!strcmp(arg, "libnet"))
            o->method = SEND_LIBNET;
        else
            return usage_error("--send-method '%s' must be mmsg or libnet", arg);
        return 0;
    case OPT_MAX_RUNTIME:
        return parse_seconds(arg, &o->max_runtime)
                   ? 0 : usage_error("--max-runtime '%s' must be seconds", arg);
    case 'c':
        return parse_seconds(arg, &o->cooldown)
                   ? 0 : usage_error("--cooldown '%s' must be seconds", arg);
    case OPT_SOURCE_IP: {
        uint8_t a6[16];
        bool v6 = inet_pton(AF_INET6, arg, a6) == 1;
        if (!v6 && !ip_parse(arg, &addr))
            return usage_error("--source-ip '%s' is not an IPv4 or IPv6 address", arg);
        const char **slot = v6 ? &o->source_ip6 : &o->source_ip;
        if (*slot)
            return usage_error("--source-ip given twice for %s", v6 ? "IPv6" : "IPv4");
        *slot = arg;
        return 0;
    }
    case OPT_GATEWAY_MAC:
        if (!mac_parse(arg, mac))
            return usage_error("--gateway-mac '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
                               arg);
        o->gateway_mac = arg;
        return 0;
    case OPT_SPORTS:
        return parse_sports(arg, &o->sports)
                   ? 0 : usage_error("--source-ports '%s' must be FIRST-LAST within 1-65535",
                                     arg);
    case OPT_FORMAT:
        if (!strcmp(arg, "csv"))
            o->format = FORMAT_CSV;
        else if (!strcmp(arg, "jsonl"))
            o->format = FORMAT_JSONL;
        else
            return usage_error("--output-format '%s' must be csv or jsonl", arg);
        o->format_given = true;
        return 0;
    }
    return -1;
}

/* One option: -1 to go on, else the exit status (EXIT_OK after --help). */
static int apply_option(struct scan_options *o, int c, const char *arg)
{
    int rc;
    if ((rc = apply_count(o, c, arg)) >= 0 || (rc = apply_checked(o, c, arg)) >= 0)
        return rc == 0 ? -1 : rc;
    switch (c) {
    case 'p': o->ports = arg; break;
    case 'w': o->allowlist = arg; break;
    case 'b': o->blocklist = arg; break;
    case OPT_NO_BLOCKLIST: o->no_blocklist = true; break;
    case OPT_HITLIST: o->hitlist = arg; break;
    case OPT_FORCE_LARGE_PREFIX: o->force_large_prefix = true; break;
    case OPT_OPT_OUT: o->opt_out = arg; break;
    case OPT_USER: o->user = arg; break;
    case 'i': o->interface = arg; break;
    case 'o': o->output = arg; break;
    case OPT_DRY_RUN: o->dry_run = true; break;
    case OPT_SYN_ONLY: o->syn_only = true; break;
    case OPT_NO_PORT_SAMPLE: o->no_port_sample = true; break;
    case OPT_METADATA: o->metadata = arg; break;
    case OPT_DB: o->db = arg; o->db_given = true; break;
    case OPT_NO_DB: o->db = NULL; break;
    case OPT_RESUME: o->resume = true; break;
    case 'q': o->quiet = true; break;
    case 'h': fputs(scan_usage, stdout); return EXIT_OK;
    default:
        if (probe_option_is(c)) {
            rc = probe_option_apply(&o->probe, c, arg);
            return rc < 0 ? EXIT_USAGE : rc > 0 ? EXIT_OK : -1;
        }
        return usage_error("%s", "unknown option");
    }
    return -1;
}

static int check_options(struct scan_options *o)
{
    if (o->target_count == 0 && !o->allowlist && !o->hitlist)
        return usage_error("%s", "no targets: give addresses/CIDRs, --allowlist FILE or "
                                 "--hitlist FILE");
    if (o->no_blocklist && o->blocklist)
        return usage_error("%s", "--no-blocklist and --blocklist exclude each other");
    if (o->shard >= o->shards)
        return usage_error("%s", "--shard must be below --shards (shards are 0-based)");
    if (o->shards > 1 && !o->seed_given)
        return usage_error("%s", "--shards needs --seed, the same on every shard");
    if (!o->syn_only && o->format_given && o->format == FORMAT_CSV)
        return usage_error("%s", "probe results are JSON Lines: use --output-format jsonl");
    if (!o->syn_only)
        o->format = FORMAT_JSONL;
    if (o->syn_only && o->db_given)
        return usage_error("%s", "--db stores probe results; --syn-only writes its list with -o");
    if (o->syn_only && o->resume)
        return usage_error("%s", "--resume works on a store: it cannot be used with --syn-only");
    if (o->resume && !o->db)
        return usage_error("%s", "--resume needs --db PATH");
    if (!o->syn_only && !o->db && !o->output && !o->dry_run)
        return usage_error("%s", "--no-db needs -o FILE for the probe results");
    return -1;
}

int scan_options_parse(struct scan_options *o, int argc, char **argv)
{
    set_defaults(o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "p:w:b:r:B:P:c:i:o:qh", scan_long_options, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            return usage_error(c == ':' ? "option '%s' needs a value"
                                        : "unknown option or missing value: '%s'",
                               bad);
        }
        int rc = apply_option(o, c, optarg);
        if (rc >= 0)
            return rc;
    }
    o->targets = argv + optind;
    o->target_count = argc - optind;
    if (!o->seed_given && getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
        o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    return check_options(o);
}

/* SHA-256 (hex) of a normalized list (IPv4 ranges, then IPv6 ranges, then
 * the hitlist's addresses if any: an IPv4-only list hashes as it always
 * did): identifies it in the scan record, so a resume can tell that the
 * targets or the blocklist changed. */
static int list_digest(const struct ip_list *list, const struct hitlist *hitlist, char hex[65],
                       char *err)
{
    unsigned char md[32];
    unsigned int md_length = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < list->count; i++) {
        uint8_t be[8];
        be32_put(be, list->ranges[i].first);
        be32_put(be + 4, list->ranges[i].last);
        ok = EVP_DigestUpdate(ctx, be, sizeof(be)) == 1;
    }
    for (size_t i = 0; ok && i < list->count6; i++) {
        uint8_t be[32];
        ip6_to_bytes(list->ranges6[i].first, be);
        ip6_to_bytes(list->ranges6[i].last, be + 16);
        ok = EVP_DigestUpdate(ctx, be, sizeof(be)) == 1;
    }
    for (size_t i = 0; ok && hitlist && i < hitlist->count; i++) {
        uint8_t be[16];
        ip6_to_bytes(hitlist->addrs[i], be);
        ok = EVP_DigestUpdate(ctx, be, sizeof(be)) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_length) == 1 && md_length == sizeof(md);
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        snprintf(err, KS_ERRLEN, "cannot compute the SHA-256 digest of the target lists "
                                 "(out of memory or OpenSSL without SHA-256)");
        return -1;
    }
    hex_text(md, sizeof(md), hex);
    return 0;
}

int scan_options_targets(struct scan_options *o, struct target_space *space, char *err)
{
    struct ip_list allow, block;
    struct hitlist hitlist;
    struct port_list ports = {0};
    ip_list_init(&allow);
    ip_list_init(&block);
    hitlist_init(&hitlist);
    allow.min_prefix6 = o->force_large_prefix ? 0 : TARGET_MIN_PREFIX6;
    int rc = -1;
    for (int i = 0; i < o->target_count; i++)
        if (ip_list_add_text(&allow, o->targets[i], err) < 0)
            goto out;
    if (o->allowlist && ip_list_load_file(&allow, o->allowlist, err) < 0)
        goto out;
    if (o->hitlist && hitlist_load_file(&hitlist, o->hitlist, err) < 0)
        goto out;
    if (o->blocklist) {
        if (ip_list_load_file(&block, o->blocklist, err) < 0)
            goto out;
        if (!o->quiet)
            cli_message("blocklist %s replaces the built-in list of "
                            "reserved ranges", o->blocklist);
    } else if (!o->no_blocklist && ip_list_add_reserved(&block, err) < 0) {
        goto out;
    }
    ip_list_init(&o->opt_out_list);
    if (o->opt_out && ip_list_load_file(&o->opt_out_list, o->opt_out, err) < 0)
        goto out;
    ip_list_normalize(&o->opt_out_list);
    ip_list_normalize(&allow);
    ip_list_normalize(&block);
    if (block.count == 0 && block.count6 == 0 && !o->no_blocklist && ip_list_size(&allow) > (1u << 24)) {
        snprintf(err, KS_ERRLEN,
                 "refusing to scan %llu addresses (more than a /8) with an empty blocklist "
                 "(%s): give --no-blocklist to mean it, or a blocklist (without --blocklist "
                 "the built-in list of reserved ranges applies)",
                 (unsigned long long)ip_list_size(&allow), o->blocklist);
        goto out;
    }
    if (list_digest(&block, NULL, o->block_digest, err) < 0 ||
        (o->opt_out && list_digest(&o->opt_out_list, NULL, o->opt_out_digest, err) < 0))
        goto out;
    /* IPv4 addresses only: the IPv6 part of a blocklist (the built-in
     * one holds all of it outside 2000::/3) is no count of addresses. */
    o->blocked_addresses = 0;
    for (size_t i = 0; i < block.count; i++)
        o->blocked_addresses += (unsigned long long)block.ranges[i].last - block.ranges[i].first + 1;
    if (port_list_parse(&ports, o->ports, err) < 0)
        goto out;
    rc = target_space_init_hitlist(space, &allow, &hitlist, &block, &ports, err);
    if (rc < 0 && !o->blocklist && !o->no_blocklist)
        snprintf(err + strlen(err), KS_ERRLEN - strlen(err),
                 " (the built-in blocklist excludes reserved ranges; see --blocklist)");
    if (rc < 0)
        goto out;
    /* The hitlist as the space holds it: sorted, without duplicates. */
    rc = list_digest(&allow, &space->hitlist, o->allow_digest, err);
    if (rc == 0 && space->address_count6 > 0 && !o->syn_only && !o->dry_run) {
        snprintf(err, KS_ERRLEN, "IPv6 targets need --syn-only for now: the probes do not "
                                 "connect over IPv6 yet (issue 20)");
        rc = -1;
    }
    if (rc < 0)
        target_space_free(space);
out:
    hitlist_free(&hitlist);
    if (rc < 0)
        ip_list_free(&o->opt_out_list);
    port_list_free(&ports);
    ip_list_free(&block);
    ip_list_free(&allow);
    return rc;
}

int scan_dry_run(const struct scan_options *o, const struct target_space *space)
{
    FILE *out = o->output ? fopen(o->output, "w") : stdout;
    if (!out) {
        cli_message("cannot write %s: %s", o->output, strerror(errno));
        return EXIT_RUNTIME;
    }
    struct permutation perm;
    permutation_init(&perm, space->size, o->seed);
    fprintf(out, "daddr,dport\n");
    /* Same walks as the senders, one thread's slice after another. */
    for (uint32_t t = 0; t < o->sender_threads; t++) {
        struct scan_walk walk;
        scan_walk_init_thread(&walk, &perm, o->shard, o->shards, t, o->sender_threads, 0,
                              o->max_targets);
        uint64_t index;
        char ip[NET_ADDR_TEXT_MAX];
        while (scan_walk_next(&walk, &index)) {
            struct net_addr addr;
            uint16_t port;
            target_space_at_addr(space, index, &addr, &port);
            if (!ip_list_contains_addr(&o->opt_out_list, &addr))
                fprintf(out, "%s,%u\n", net_addr_text(&addr, ip), port);
        }
    }
    int failed = ferror(out);
    if (o->output)
        failed |= fclose(out) != 0;
    else
        failed |= fflush(out) != 0;
    if (failed) {
        cli_message("writing dry-run output failed");
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

static void warn_if_ephemeral_overlap(const struct scan_options *o)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    unsigned lo, hi;
    if (!f)
        return;
    if (fscanf(f, "%u %u", &lo, &hi) == 2 && !o->quiet) {
        unsigned first = o->sports.first, last = first + o->sports.count - 1;
        if (first <= hi && last >= lo)
            cli_message("warning: source ports %u-%u overlap the kernel's "
                            "ephemeral range %u-%u", first, last, lo, hi);
    }
    fclose(f);
}

int scan_options_config(const struct scan_options *o, const struct target_space *space,
                        struct scan_config *cfg, char *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->space = space;
    cfg->seed = o->seed;
    cfg->shard = o->shard;
    cfg->shards = o->shards;
    cfg->sender_threads = o->sender_threads;
    cfg->max_targets = o->max_targets;
    cfg->max_runtime = o->max_runtime;
    cfg->cooldown = o->cooldown;
    cfg->method = o->method;
    cfg->batch = o->batch;
    cfg->probes = o->probes;
    /* Only probed records carry the flag: a --syn-only list has no room for it. */
    cfg->port_sample = !o->syn_only && !o->no_port_sample;
    cfg->sports = o->sports;
    if (getrandom(&cfg->key, sizeof(cfg->key), 0) != sizeof(cfg->key)) {
        snprintf(err, KS_ERRLEN, "getrandom: %s", strerror(errno));
        return -1;
    }
    if (o->interface)
        snprintf(cfg->net.ifname, sizeof(cfg->net.ifname), "%s", o->interface);
    if (o->source_ip && !ip_parse(o->source_ip, &cfg->net.saddr)) {
        snprintf(err, KS_ERRLEN, "--source-ip '%s' is not an IPv4 address", o->source_ip);
        return -1;
    }
    bool have_mac = false;
    if (o->gateway_mac) {
        if (!mac_parse(o->gateway_mac, cfg->net.gw_mac)) {
            snprintf(err, KS_ERRLEN, "--gateway-mac '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
                     o->gateway_mac);
            return -1;
        }
        have_mac = true;
    }
    if (o->source_ip6) {
        inet_pton(AF_INET6, o->source_ip6, cfg->net.saddr6); /* checked when parsed */
        cfg->net.has_saddr6 = true;
    }
    /* Each family's first address finds its route: IPv4 ranges come first in
     * the space, IPv6 after them. */
    uint16_t port;
    uint64_t count4 = space->address_count - space->address_count6;
    if (count4 > 0) {
        uint32_t first;
        target_space_at(space, 0, &first, &port);
        if (net_config_detect(&cfg->net, first, have_mac, err) < 0)
            return -1;
    }
    if (space->address_count6 > 0) {
        struct net_addr first6;
        target_space_at_addr(space, count4 * space->ports.count, &first6, &port);
        if (net_config_detect6(&cfg->net, first6.bytes, have_mac, err) < 0)
            return -1;
    }
    cfg->rate_pps = o->bandwidth ? scan_rate_from_bandwidth(o->bandwidth, 74) : o->rate;
    warn_if_ephemeral_overlap(o);
    return 0;
}

void iso_time(double t, char *buf, size_t size)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *targets_json(const struct scan_options *o)
{
    json_t *list = json_array();
    for (int i = 0; list && i < o->target_count; i++)
        json_array_append_new(list, json_string(o->targets[i]));
    return list;
}

/* With several probes per target: how many responders answered 1, 2, ...
 * of their probes, and the loss per probe estimated from it (engine.h);
 * estimated_loss is null while no responder is known. */
static json_t *loss_json(struct scan_counters *c, uint32_t probes)
{
    json_t *by = json_array(), *j = json_object();
    for (uint32_t k = 0; by && k < probes; k++)
        json_array_append_new(by, json_integer((json_int_t)atomic_load(&c->answered_by[k])));
    double loss = scan_estimated_loss(c, probes);
    if (!by || !j || json_object_set_new(j, "answered_by_probes", by) < 0 ||
        json_object_set_new(j, "estimated_loss", loss < 0 ? json_null() : json_real(loss)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *counters_json(struct scan_counters *c)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                     "targets", (json_int_t)atomic_load(&c->targets_total),
                     "sent", (json_int_t)atomic_load(&c->sent),
                     "send_errors", (json_int_t)atomic_load(&c->send_errors),
                     "replies", (json_int_t)atomic_load(&c->replies),
                     "unique", (json_int_t)atomic_load(&c->unique),
                     "duplicates", (json_int_t)atomic_load(&c->duplicates),
                     "invalid", (json_int_t)atomic_load(&c->invalid),
                     "rsts", (json_int_t)atomic_load(&c->rsts),
                     "pcap_drops", (json_int_t)atomic_load(&c->pcap_drops),
                     "pcap_ifdrops", (json_int_t)atomic_load(&c->pcap_ifdrops),
                     "queue_drops", (json_int_t)atomic_load(&c->queue_drops),
                     "opted_out", (json_int_t)atomic_load(&c->opted_out),
                     "opted_out_replies", (json_int_t)atomic_load(&c->opted_out_replies),
                     "sample_sent", (json_int_t)atomic_load(&c->sample_sent),
                     "sample_replies", (json_int_t)atomic_load(&c->sample_replies),
                     "sample_skipped", (json_int_t)atomic_load(&c->sample_skipped),
                     "all_ports_open", (json_int_t)atomic_load(&c->all_ports_open));
}

/* strdup that keeps NULL; *failed set when out of memory. */
static char *dup_text(const char *s, bool *failed)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *failed = true;
    return d;
}

int scan_record_of_options(struct scan_record *r, const struct scan_options *o)
{
    char seed[24];
    bool failed = false;
    scan_record_init(r);
    /* JSON integers are signed 64-bit in jansson: keep the seed exact as text. */
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
    r->kubesurvey_version = dup_text(KS_VERSION, &failed);
    r->targets = targets_json(o);
    r->allowlist = dup_text(o->allowlist, &failed);
    r->blocklist = dup_text(o->blocklist, &failed);
    r->blocklist_mode = dup_text(o->blocklist      ? "file"
                                 : o->no_blocklist ? "none"
                                                   : "builtin-reserved",
                                 &failed);
    r->opt_out = dup_text(o->opt_out, &failed);
    r->allow_digest = dup_text(o->allow_digest, &failed);
    r->block_digest = dup_text(o->block_digest, &failed);
    r->blocklist_addresses = (long long)o->blocked_addresses;
    r->opt_out_digest = dup_text(o->opt_out ? o->opt_out_digest : NULL, &failed);
    r->ports = dup_text(o->ports, &failed);
    failed |= scan_record_modules(o->ports, &o->probe.modules, &r->modules) != 0;
    r->seed = dup_text(seed, &failed);
    r->shard = o->shard;
    r->shards = o->shards;
    r->sender_threads = o->sender_threads;
    r->max_runtime = o->max_runtime;
    r->cooldown = o->cooldown;
    r->syn_only = o->syn_only;
    static const char *const given[] = {
        "kubesurvey_version", "targets", "allowlist", "blocklist", "blocklist_mode", "opt_out",
        "allow_digest", "block_digest", "blocklist_addresses", "opt_out_digest", "ports", "seed",
        "shard", "shards", "sender_threads",
        "max_runtime", "cooldown", "syn_only",
    };
    for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
        scan_record_set_present(r, given[i]);
    if (r->modules)
        scan_record_set_present(r, "modules");
    if (failed || !r->targets) {
        scan_record_free(r);
        return -1;
    }
    return 0;
}

int scan_record_of_run(struct scan_record *r, const struct scan_options *o,
                       const struct target_space *space, const struct scan_config *cfg,
                       struct scan_counters *counters, double start, double end,
                       const char *failure, bool interrupted)
{
    char started[32], ended[32], saddr[16];
    bool failed = false;
    if (scan_record_of_options(r, o) != 0)
        return -1;
    iso_time(start, started, sizeof(started));
    iso_time(end, ended, sizeof(ended));
    r->target_addresses = (long long)space->address_count;
    r->target_space = (long long)space->size;
    r->rate_pps = (long long)cfg->rate_pps;
    r->interface = dup_text(cfg->net.ifname, &failed);
    r->source_ip = dup_text(ipv4_text(cfg->net.saddr, saddr), &failed);
    r->started = dup_text(started, &failed);
    r->ended = dup_text(end > 0 ? ended : NULL, &failed);
    r->duration = end > 0 ? end - start : 0.0;
    r->counters = counters_json(counters);
    r->probes = cfg->probes ? cfg->probes : 1;
    if (r->probes > 1) {
        r->loss = loss_json(counters, (uint32_t)r->probes);
        failed |= !r->loss;
        scan_record_set_present(r, "loss");
    }
    r->error = dup_text(failure, &failed);
    r->interrupted = interrupted;
    r->port_sample = cfg->port_sample;
    static const char *const given[] = {
        "target_addresses", "target_space", "rate_pps", "probes", "port_sample", "interface", "source_ip", "started",
        "ended", "duration", "counters", "error", "interrupted",
    };
    for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
        scan_record_set_present(r, given[i]);
    if (failed || !r->counters) {
        scan_record_free(r);
        return -1;
    }
    return 0;
}
