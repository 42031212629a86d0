/*
 * scan_options.h - private to tools/: the options of `kubesurvey scan` and
 * what is derived from them (targets, engine config, metadata).
 */
#ifndef KS_SCAN_OPTIONS_H
#define KS_SCAN_OPTIONS_H

#include "engine/engine.h"
#include "probes/probes.h"
#include "tools/pipeline/pipeline.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

enum output_format { FORMAT_CSV, FORMAT_JSONL };

struct scan_options {
    struct probe_config probe;  /* first: PROBE_OPTIONS fill it */
    char **targets;          /* positional addresses / CIDRs (argv, not owned) */
    int target_count;
    const char *allowlist, *blocklist;
    const char *hitlist;     /* --hitlist FILE: single IPv6 addresses */
    bool force_large_prefix; /* take IPv6 prefixes shorter than /96 */
    bool no_blocklist;       /* --no-blocklist: exclude nothing, knowingly */
    const char *opt_out;     /* --opt-out FILE, reloaded on SIGHUP */
    const char *user;        /* --user; NULL: nobody when root, else stay */
    const char *ports;
    uint64_t rate;           /* packets per second, 0 = unlimited */
    uint64_t bandwidth;      /* bits per second, 0 = not given */
    uint64_t seed;
    bool seed_given;
    uint32_t shards, shard, sender_threads, batch, probes;
    enum send_method method;
    bool dry_run, syn_only, quiet;
    bool no_port_sample;
    uint64_t max_targets;
    double max_runtime, cooldown;
    const char *interface, *source_ip, *gateway_mac;
    const char *source_ip6;  /* --source-ip given an IPv6 address */
    struct sport_range sports;
    const char *output, *metadata;
    enum output_format format;
    bool format_given;
    /* probing and storage (not with --syn-only) */
    const char *db;          /* NULL with --no-db */
    bool db_given;
    bool no_db;              /* --no-db */
    bool resume;
    /* filled by scan_options_targets: SHA-256 (hex) of the normalized lists */
    char allow_digest[65], block_digest[65];
    unsigned long long blocked_addresses;  /* addresses the blocklist holds */
    /* and the --opt-out list, normalized (the caller frees or hands it on),
     * with its digest as loaded at the start ("" without --opt-out) */
    char opt_out_digest[65];
    struct ip_list opt_out_list;
};

/* `kubesurvey scan`: its options (scan_options.c) and run function
 * (cmd_scan.c). */
int cmd_scan(int argc, char **argv);

/* Returns -1 when the scan should run, else the exit status to return
 * (0 after --help, 2 after a usage error, already reported on stderr). */
int scan_options_parse(struct scan_options *opts, int argc, char **argv);
/* Allowlist (arguments and file) minus blocklist (file or built-in) x ports;
 * also loads the --opt-out list (not part of the space: the senders skip
 * it). More than a /8 with an empty blocklist needs --no-blocklist. */
int scan_options_targets(struct scan_options *opts, struct target_space *space, char *err);
/* Prints every (address, port) of this shard in scan order; exit status. */
int scan_dry_run(const struct scan_options *opts, const struct target_space *space);
/* Fills the engine config: network detection, keys, rate. */
int scan_options_config(const struct scan_options *opts, const struct target_space *space,
                        struct scan_config *cfg, char *err);
/* The scan record of these options alone (what defines the work: targets,
 * digests, ports, seed, shard, threads), for comparing with a stored one.
 * 0, or -1 when out of memory. The caller frees it (scan_record_free). */
int scan_record_of_options(struct scan_record *r, const struct scan_options *opts);
/* The scan record of a run: the options' fields plus times, counters and
 * machine details. Its JSON is both the --metadata file and the scan record
 * in the store. end = 0: still running. 0, or -1 when out of memory. */
int scan_record_of_run(struct scan_record *r, const struct scan_options *opts,
                       const struct target_space *space, const struct scan_config *cfg,
                       struct scan_counters *counters, double start, double end,
                       const char *failure, bool interrupted);
/* Formats a Unix time as ISO-8601 UTC ("2021-06-10T12:00:00Z"). */
void iso_time(double t, char *buf, size_t size);

#endif
