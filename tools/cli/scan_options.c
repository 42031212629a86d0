/*
 * scan_options.c - parsing and checking the options of `kubesurvey scan`.
 */
#include "tools/cli/scan_options.h"
#include "tools/cli/probe_options.h"
#include "tools/cli/cli.h"
#include "tools/cli/options.h"
#include "ks_version.h"
#include "lib/bytes.h"
#include "lib/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

/* A count option into *field (64 or 32 bits): 0, or EXIT_USAGE saying
 * must (one %s, for the value). */
static int count64(const char *arg, uint64_t min, uint64_t max, bool suffix, uint64_t *field,
                   const char *must)
{
    uint64_t v;
    if (!parse_count(arg, max, suffix, &v) || v < min)
        return usage_error(must, arg);
    *field = v;
    return 0;
}

static int count32(const char *arg, uint32_t min, uint32_t max, uint32_t *field,
                   const char *must)
{
    uint64_t v;
    int rc = count64(arg, min, max, false, &v, must);
    if (rc == 0)
        *field = (uint32_t)v;
    return rc;
}

#define SCAN_OPTS(p) ((struct scan_options *)(p))

static int set_seed(void *o, const char *arg)
{
    SCAN_OPTS(o)->seed_given = true;
    return count64(arg, 0, UINT64_MAX, false, &SCAN_OPTS(o)->seed,
                   "--seed '%s' is not a non-negative integer");
}

static int set_shards(void *o, const char *arg)
{
    return count32(arg, 1, 65535, &SCAN_OPTS(o)->shards, "--shards '%s' must be 1-65535");
}

static int set_shard(void *o, const char *arg)
{
    return count32(arg, 0, 65534, &SCAN_OPTS(o)->shard, "--shard '%s' must be 0-65534");
}

static int set_max_targets(void *o, const char *arg)
{
    return count64(arg, 1, UINT64_MAX, true, &SCAN_OPTS(o)->max_targets,
                   "--max-targets '%s' must be a positive integer");
}

static int set_rate(void *o, const char *arg)
{
    return count64(arg, 0, 100000000, true, &SCAN_OPTS(o)->rate,
                   "--rate '%s' must be packets per second (0 = unlimited)");
}

static int set_bandwidth(void *o, const char *arg)
{
    return count64(arg, 1, 1000000000000ULL, true, &SCAN_OPTS(o)->bandwidth,
                   "--bandwidth '%s' must be bits per second, e.g. 100M");
}

static int set_sender_threads(void *o, const char *arg)
{
    return count32(arg, 1, 64, &SCAN_OPTS(o)->sender_threads,
                   "--sender-threads '%s' must be 1-64");
}

static int set_batch(void *o, const char *arg)
{
    return count32(arg, 1, 1024, &SCAN_OPTS(o)->batch, "--batch '%s' must be 1-1024");
}

static int set_probes(void *o, const char *arg)
{
    return count32(arg, 1, SCAN_MAX_PROBES, &SCAN_OPTS(o)->probes, "--probes '%s' must be 1-8");
}

static int set_max_runtime(void *o, const char *arg)
{
    return parse_seconds(arg, &SCAN_OPTS(o)->max_runtime)
               ? 0 : usage_error("--max-runtime '%s' must be seconds", arg);
}

static int set_cooldown(void *o, const char *arg)
{
    return parse_seconds(arg, &SCAN_OPTS(o)->cooldown)
               ? 0 : usage_error("--cooldown '%s' must be seconds", arg);
}

static int set_send_method(void *o, const char *arg)
{
    if (!strcmp(arg, "mmsg"))
        SCAN_OPTS(o)->method = SEND_MMSG;
    else if (!strcmp(arg, "libnet"))
        SCAN_OPTS(o)->method = SEND_LIBNET;
    else
        return usage_error("--send-method '%s' must be mmsg or libnet", arg);
    return 0;
}

static int set_source_ip(void *o, const char *arg)
{
    uint32_t addr;
    uint8_t a6[16];
    bool v6 = inet_pton(AF_INET6, arg, a6) == 1;
    if (!v6 && !ip_parse(arg, &addr))
        return usage_error("--source-ip '%s' is not an IPv4 or IPv6 address", arg);
    const char **slot = v6 ? &SCAN_OPTS(o)->source_ip6 : &SCAN_OPTS(o)->source_ip;
    if (*slot)
        return usage_error("--source-ip given twice for %s", v6 ? "IPv6" : "IPv4");
    *slot = arg;
    return 0;
}

static int set_gateway_mac(void *o, const char *arg)
{
    uint8_t mac[6];
    if (!mac_parse(arg, mac))
        return usage_error("--gateway-mac '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", arg);
    SCAN_OPTS(o)->gateway_mac = arg;
    return 0;
}

static int set_source_ports(void *o, const char *arg)
{
    return parse_sports(arg, &SCAN_OPTS(o)->sports)
               ? 0 : usage_error("--source-ports '%s' must be FIRST-LAST within 1-65535", arg);
}

static int set_output_format(void *o, const char *arg)
{
    if (!strcmp(arg, "csv"))
        SCAN_OPTS(o)->format = FORMAT_CSV;
    else if (!strcmp(arg, "jsonl"))
        SCAN_OPTS(o)->format = FORMAT_JSONL;
    else
        return usage_error("--output-format '%s' must be csv or jsonl", arg);
    SCAN_OPTS(o)->format_given = true;
    return 0;
}

static int set_db(void *o, const char *arg)
{
    SCAN_OPTS(o)->db = arg;
    SCAN_OPTS(o)->db_given = true;
    return 0;
}

static int set_no_db(void *o, const char *arg)
{
    (void)arg;
    SCAN_OPTS(o)->db = NULL;
    SCAN_OPTS(o)->no_db = true;
    return 0;
}

/* getopt's complaint about a word, as scan says usage errors. */
static int bad_option(int c, const char *word)
{
    return usage_error(c == ':' ? "option '%s' needs a value"
                                : "unknown option or missing value: '%s'", word);
}

#define DEFAULT_DB "survey.lmdb"
#define FIELD(name) .offset = offsetof(struct scan_options, name)

/* The options of scan. CLI_IDENTITY: feeds a field of the scan record that
 * defines the work (tools/pipeline/scan_record.c, SCAN_DEFINES and
 * SCAN_RESUME), so --resume and merge compare it. */
static const struct cli_option scan_options[] = {
    {.section = "Targets", .name = "ports", .short_name = 'p', .arg = "LIST",
     .fallback = "443,6443", .kind = CLI_TEXT, FIELD(ports), .flags = CLI_IDENTITY,
     .help = "ports, e.g. 443,6443,10250-10255"},
    {.name = "allowlist", .short_name = 'w', .arg = "FILE", .kind = CLI_TEXT, FIELD(allowlist),
     .flags = CLI_IDENTITY, .complete = "@file",
     .help = "targets from FILE (one address or CIDR per line, # comments)"},
    {.name = "hitlist", .arg = "FILE", .kind = CLI_TEXT, FIELD(hitlist), .flags = CLI_IDENTITY,
     .complete = "@file",
     .help = "IPv6 addresses from FILE (one per line, # comments), as the\n"
             "IPv6 Hitlist service publishes them; with the other targets\n"
             "one space and one order"},
    {.name = "force-large-prefix", .kind = CLI_FLAG, FIELD(force_large_prefix),
     .flags = CLI_IDENTITY,
     .help = "take IPv6 prefixes shorter than /96 (refused by default:\n"
             "IPv6 space cannot be enumerated; scan a hitlist)"},
    {.name = "blocklist", .short_name = 'b', .arg = "FILE", .kind = CLI_TEXT, FIELD(blocklist),
     .flags = CLI_IDENTITY, .complete = "@file",
     .help = "exclude FILE's ranges INSTEAD of the built-in list of\n"
             "IANA reserved and special-purpose ranges"},
    {.name = "no-blocklist", .kind = CLI_FLAG, FIELD(no_blocklist), .flags = CLI_IDENTITY,
     .help = "exclude nothing (required to scan more than a /8\n"
             "with an empty blocklist)"},
    {.name = "opt-out", .arg = "FILE", .kind = CLI_TEXT, FIELD(opt_out), .complete = "@file",
     .help = "never probe FILE's ranges (blocklist format) either;\n"
             "re-read on SIGHUP while the scan runs"},
    {.name = "seed", .arg = "N", .set = set_seed, .flags = CLI_IDENTITY, .example = "1",
     .help = "order of the scan (random if not given; required with --shards)"},
    {.name = "shards", .arg = "N", .set = set_shards, .fallback = "1", .flags = CLI_IDENTITY,
     .help = "split the scan into N disjoint parts ..."},
    {.name = "shard", .arg = "I", .set = set_shard, .fallback = "0", .flags = CLI_IDENTITY,
     .help = "... and run part I (0-based)"},
    {.name = "max-targets", .arg = "N", .set = set_max_targets, .example = "100",
     .help = "probe at most N targets (of this shard)"},
    {.name = "dry-run", .kind = CLI_FLAG, FIELD(dry_run),
     .help = "print every (address, port) in scan order, send nothing"},
    {.section = "Sending", .name = "rate", .short_name = 'r', .arg = "PPS", .set = set_rate,
     .fallback = "10000", .help = "packets per second (0 = as fast as possible)"},
    {.name = "bandwidth", .short_name = 'B', .arg = "BPS", .set = set_bandwidth, .example = "10M",
     .help = "bits per second instead, e.g. 10M, 1G"},
    {.name = "probes", .short_name = 'P', .arg = "N", .set = set_probes, .fallback = "1",
     .help = "SYNs per target, from N source ports (at most 8);\n"
             "the metadata then estimates the loss"},
    {.name = "sender-threads", .arg = "N", .set = set_sender_threads, .fallback = "1",
     .flags = CLI_IDENTITY, .help = "sending threads, each with its part of the order"},
    {.name = "send-method", .arg = "M", .set = set_send_method, .fallback = "mmsg",
     .complete = "mmsg libnet", .help = "mmsg (AF_PACKET + sendmmsg batches) or libnet"},
    {.name = "batch", .arg = "N", .set = set_batch, .fallback = "256",
     .help = "frames per system call with mmsg"},
    {.name = "max-runtime", .arg = "SECS", .set = set_max_runtime, .example = "60",
     .help = "stop sending after SECS seconds"},
    {.name = "cooldown", .short_name = 'c', .arg = "SECS", .set = set_cooldown, .fallback = "8",
     .help = "wait for late replies after the last probe"},
    {.section = "Network (found from the routing table when not given)", .name = "interface",
     .short_name = 'i', .arg = "IF", .kind = CLI_TEXT, FIELD(interface),
     .help = "the interface to send on"},
    {.name = "source-ip", .arg = "ADDR", .set = set_source_ip, .example = "198.18.0.1",
     .help = "the probes' source address (IPv4 or IPv6, once per family)"},
    {.name = "gateway-mac", .arg = "MAC", .set = set_gateway_mac, .example = "02:00:00:00:00:01",
     .help = "the next hop's MAC address"},
    {.name = "source-ports", .arg = "A-B", .set = set_source_ports, .fallback = "61000-65535",
     .help = "source ports of the probes (outside the kernel's\nephemeral range)"},
    {.name = "user", .arg = "USER", .kind = CLI_TEXT, FIELD(user), .complete = "@user",
     .help = "run as USER once the raw sockets, the capture and the\n"
             "files are open (default nobody when run as root)"},
    {.section = "Output", .name = "syn-only", .kind = CLI_FLAG, FIELD(syn_only),
     .help = "report SYN-ACK responders only (no TLS/HTTP probes)"},
    {.name = "output", .short_name = 'o', .arg = "FILE", .kind = CLI_TEXT, FIELD(output),
     .complete = "@file", .help = "results (--syn-only: default stdout)"},
    {.name = "output-format", .arg = "F", .set = set_output_format, .complete = "csv jsonl",
     .example = "jsonl", .help = "csv (default) or jsonl"},
    {.name = "metadata", .arg = "FILE", .kind = CLI_TEXT, FIELD(metadata), .complete = "@file",
     .help = "JSON summary of the run (parameters, counters, times)"},
    {.name = "quiet", .short_name = 'q', .kind = CLI_FLAG, FIELD(quiet),
     .help = "no status line on stderr"},
    {.section = "Probing and storage (without --syn-only every responder is probed by its "
                "port's module)",
     .name = "db", .arg = "PATH", .set = set_db, .complete = "@file",
     .help = "LMDB store for the results (default " DEFAULT_DB ")"},
    {.name = "no-db", .set = set_no_db, .help = "do not store; write JSON Lines with -o instead"},
    {.name = "resume", .kind = CLI_FLAG, FIELD(resume),
     .help = "continue the interrupted scan in --db from its last\n"
             "checkpoint (same targets, ports, blocklist, seed, shard)"},
    {.name = "no-port-sample", .kind = CLI_FLAG, FIELD(no_port_sample),
     .help = "do not check whether responsive hosts answer on every\n"
             "port (by default each gets SYNs to 4 ports outside -p;\n"
             "3 answers flag its records all_ports_open)"},
    PROBE_OPTIONS,
    {0},
};

static const char *const scan_usage[] = {"[OPTIONS] [TARGET...]", NULL};

const struct cli_command scan_command = {
    .name = "scan",
    .summary = "SYN-scan targets (then probe them), write results",
    .usage = scan_usage,
    .description =
        "SYN-scan TARGETs (IPv4 or IPv6 addresses or prefixes) on the given ports,\n"
        "then probe every responder (TCP, TLS with the certificate chain, GET /version),\n"
        "classify it and store the result in --db (and as JSON Lines with -o). With\n"
        "--syn-only, only list each responsive (address, port) as CSV (header\n"
        "saddr,sport) or JSON Lines.\n",
    .options = scan_options,
    .epilog = "Run it only where you may scan. See docs/survey-guide.md.\n",
    .complete_args = "",
    .opts_size = sizeof(struct scan_options),
    .bad_option = bad_option,
    .run = cmd_scan,
};

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
    int rc = cli_parse(&scan_command, o, argc, argv);
    if (rc >= 0)
        return rc;
    if (!o->db_given && !o->no_db)
        o->db = DEFAULT_DB;
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
