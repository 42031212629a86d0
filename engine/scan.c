/*
 * scan.c - one scan: capture first, then senders, then the cooldown.
 *
 * The capture opens before the first SYN leaves so no early reply is missed.
 * Sender thread t of T in shard s of S walks positions p of the permutation
 * with p % (S*T) == s + S*t: disjoint slices whose union is the shard, and
 * the shards' union is the whole space.
 *
 * The opt-out list is read by the senders for every frame and by the
 * receiver for every reply, so it takes no lock: scan_set_opt_out swaps in a
 * new immutable list and frees the old one after a grace period: once each
 * reader has been seen outside its critical section (an even epoch) or has
 * left the one it was in (the epoch moved), none can still hold the old
 * list, and every frame built with it has been sent.
 */
#include "engine/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t scan_rate_from_bandwidth(uint64_t bits_per_second, size_t frame_length)
{
    /* On the wire a frame also costs preamble (8), FCS (4) and gap (12). */
    uint64_t bits = (uint64_t)(frame_length + 24) * 8;
    uint64_t rate = bits_per_second / bits;
    return rate ? rate : 1;
}

uint64_t scan_checkpoint_position(const struct scan_config *cfg,
                                  struct scan_counters *counters)
{
    uint64_t fewest = UINT64_MAX;
    for (uint32_t t = 0; t < cfg->sender_threads; t++) {
        uint64_t w = atomic_load(&counters->walked[t]);
        if (w < fewest)
            fewest = w;
    }
    return cfg->start_position + (fewest == UINT64_MAX ? 0 : fewest);
}

double scan_estimated_loss(const struct scan_counters *counters, uint32_t probes)
{
    if (probes < 2 || probes > SCAN_MAX_PROBES)
        return -1;
    double pairs = 0, answers = 0; /* sum k(k-1) n_k, sum k n_k */
    for (uint32_t k = 1; k <= probes; k++) {
        double n = (double)atomic_load(&counters->answered_by[k - 1]);
        pairs += (double)k * (k - 1) * n;
        answers += (double)k * n;
    }
    if (answers == 0)
        return -1;
    return 1 - pairs / ((probes - 1) * answers);
}

static void sleep_seconds_unless(double seconds, _Atomic int *stop, int level)
{
    uint64_t end = clock_now_ns() + (uint64_t)(seconds * 1e9);
    while (clock_now_ns() < end && !(stop && atomic_load(stop) >= level)) {
        struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL);
    }
}

struct scan {
    const struct scan_config *cfg;
    struct syn_template tpl;
    struct syn_template tpl6;     /* when the space has IPv6 targets */
    struct permutation perm;
    struct receiver rx;
    struct sender *senders;       /* cfg->sender_threads, sockets open */
    struct port_samples samples;  /* with cfg->port_sample */
    bool samples_open;
    opt_out_ptr opt_out;          /* NULL: nothing opted out */
};

/* Returns once the reader is outside any critical section it was in. */
static void wait_past(_Atomic uint64_t *epoch)
{
    uint64_t e = atomic_load(epoch);
    while ((e & 1) && atomic_load(epoch) == e) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

int scan_set_opt_out(struct scan *scan, struct ip_list *list, char *err)
{
    struct ip_list *fresh = NULL;
    if (list->count > 0 || list->count6 > 0) {
        fresh = malloc(sizeof(*fresh));
        if (!fresh) {
            snprintf(err, KS_ERRLEN, "out of memory for the opt-out list");
            return -1;
        }
        *fresh = *list;
        ip_list_init(list);
    }
    struct ip_list *old = atomic_exchange(&scan->opt_out, fresh);
    for (uint32_t t = 0; t < scan->cfg->sender_threads; t++)
        wait_past(&scan->senders[t].epoch);
    wait_past(&scan->rx.epoch);
    if (old) {
        ip_list_free(old);
        free(old);
    }
    return 0;
}

/* Gives every sender its slice of the walk and its share of the rate. */
static void plan_senders(struct scan *scan, struct scan_counters *counters, _Atomic int *stop)
{
    const struct scan_config *cfg = scan->cfg;
    /* Here, not in scan_open: a resume may still change the seed and start. */
    permutation_init(&scan->perm, cfg->space->size, cfg->seed);
    uint64_t deadline = cfg->max_runtime > 0
                            ? clock_now_ns() + (uint64_t)(cfg->max_runtime * 1e9)
                            : 0;
    uint64_t total = 0;
    for (uint32_t t = 0; t < cfg->sender_threads; t++) {
        struct sender *s = &scan->senders[t];
        s->tpl = &scan->tpl;
        s->tpl6 = &scan->tpl6;
        s->counters = counters;
        s->stop = stop;
        s->walked = &counters->walked[t];
        atomic_store(s->walked, 0);
        s->deadline_ns = deadline;
        s->err[0] = '\0';
        s->status = 0;
        s->rate_pps = cfg->rate_pps / cfg->sender_threads +
                      (t < cfg->rate_pps % cfg->sender_threads ? 1 : 0);
        scan_walk_init_thread(&s->walk, &scan->perm, cfg->shard, cfg->shards, t,
                              cfg->sender_threads, cfg->start_position, cfg->max_targets);
        total += s->walk.remaining;
    }
    atomic_store(&counters->targets_total, total);
}

static int check_config(const struct scan_config *cfg, char *err)
{
    if (cfg->shards == 0 || cfg->shard >= cfg->shards) {
        snprintf(err, KS_ERRLEN, "shard %u of %u does not exist (shards are 0-based)",
                 cfg->shard, cfg->shards);
        return -1;
    }
    if (cfg->sender_threads == 0 || cfg->sender_threads > SCAN_MAX_THREADS) {
        snprintf(err, KS_ERRLEN, "sender threads must be 1-%d", SCAN_MAX_THREADS);
        return -1;
    }
    if (cfg->batch == 0 || cfg->batch > 1024) {
        snprintf(err, KS_ERRLEN, "batch must be 1-1024 frames");
        return -1;
    }
    if (cfg->sports.count == 0) {
        snprintf(err, KS_ERRLEN, "empty source port range");
        return -1;
    }
    if (cfg->space->address_count6 > 0 && !cfg->net.has_saddr6) {
        snprintf(err, KS_ERRLEN, "IPv6 targets but no IPv6 source address");
        return -1;
    }
    if (cfg->space->address_count6 > 0 && cfg->method == SEND_LIBNET) {
        snprintf(err, KS_ERRLEN, "the libnet send path sends IPv4 only; IPv6 targets need "
                                 "the default (sendmmsg) path");
        return -1;
    }
    if (cfg->probes > SCAN_MAX_PROBES || cfg->probes > cfg->sports.count) {
        snprintf(err, KS_ERRLEN, "probes per target must be 1-%d and at most the %u source ports",
                 SCAN_MAX_PROBES, cfg->sports.count);
        return -1;
    }
    return 0;
}

int scan_open(struct scan **out, const struct scan_config *cfg, char *err)
{
    *out = NULL;
    if (check_config(cfg, err) < 0)
        return -1;
    struct scan *scan = calloc(1, sizeof(*scan));
    if (!scan) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return -1;
    }
    scan->cfg = cfg;
    scan->rx.cfg = cfg;
    scan->senders = calloc(cfg->sender_threads, sizeof(*scan->senders));
    if (!scan->senders) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto fail;
    }
    scan->rx.opt_out = &scan->opt_out;
    for (uint32_t t = 0; t < cfg->sender_threads; t++) {
        scan->senders[t].cfg = cfg;
        scan->senders[t].fd = -1;
        scan->senders[t].opt_out = &scan->opt_out;
    }
    if (syn_template_build(&scan->tpl, cfg->net.src_mac, cfg->net.gw_mac, cfg->net.saddr,
                           err) < 0 ||
        (cfg->net.has_saddr6 && syn_template_build6(&scan->tpl6, cfg->net.src_mac,
                                                    cfg->net.gw_mac6, cfg->net.saddr6, err) < 0) ||
        receiver_open(&scan->rx, err) < 0)
        goto fail;
    if (cfg->port_sample) {
        scan->samples_open = true;
        if (port_samples_open(&scan->samples, cfg, &scan->tpl, err) < 0)
            goto fail;
        scan->rx.samples = &scan->samples;
    }
    for (uint32_t t = 0; t < cfg->sender_threads; t++)
        if (sender_open(&scan->senders[t], err) < 0)
            goto fail;
    *out = scan;
    return 0;
fail:
    scan_close(scan);
    return -1;
}

void scan_close(struct scan *scan)
{
    if (!scan)
        return;
    if (scan->senders)
        for (uint32_t t = 0; t < scan->cfg->sender_threads; t++)
            sender_close(&scan->senders[t]);
    free(scan->senders);
    receiver_close(&scan->rx);
    if (scan->samples_open)
        port_samples_close(&scan->samples);
    struct ip_list *opt_out = atomic_load(&scan->opt_out);
    if (opt_out) {
        ip_list_free(opt_out);
        free(opt_out);
    }
    free(scan);
}

bool scan_all_ports_open(struct scan *scan, uint32_t addr)
{
    return scan->rx.samples && port_samples_flagged(scan->rx.samples, addr);
}

int scan_run(struct scan *scan, struct scan_counters *counters, scan_responder_fn on_responder,
             void *ctx, _Atomic int *stop, char *err)
{
    const struct scan_config *cfg = scan->cfg;
    struct receiver *rx = &scan->rx;
    _Atomic int local_stop = 0;
    _Atomic int *stop_flag = stop ? stop : &local_stop;
    rx->counters = counters;
    rx->on_responder = on_responder;
    rx->ctx = ctx;
    atomic_store(&rx->done, 0);
    int rc = pthread_create(&rx->thread, NULL, receiver_main, rx);
    if (rc != 0) {
        snprintf(err, KS_ERRLEN, "starting receiver thread: %s", strerror(rc));
        return -1;
    }
    plan_senders(scan, counters, stop_flag);
    atomic_store(&counters->phase, SCAN_SENDING);
    int status = 0;
    uint32_t started = 0;
    for (; started < cfg->sender_threads; started++) {
        rc = pthread_create(&scan->senders[started].thread, NULL, sender_main,
                            &scan->senders[started]);
        if (rc != 0) {
            snprintf(err, KS_ERRLEN, "starting sender thread: %s", strerror(rc));
            atomic_store(stop_flag, 2);
            status = -1;
            break;
        }
    }
    for (uint32_t t = 0; t < started; t++) {
        pthread_join(scan->senders[t].thread, NULL);
        if (scan->senders[t].status < 0 && status == 0) {
            snprintf(err, KS_ERRLEN, "%s", scan->senders[t].err);
            status = -1;
        }
    }
    atomic_store(&counters->phase, SCAN_COOLDOWN);
    if (status == 0)
        sleep_seconds_unless(cfg->cooldown, stop_flag, 2);
    atomic_store(&rx->done, 1);
    pthread_join(rx->thread, NULL);
    index_set_count_probes(&rx->seen, counters->answered_by);
    if (rx->status < 0 && status == 0) {
        snprintf(err, KS_ERRLEN, "%s", rx->err);
        status = -1;
    }
    atomic_store(&counters->phase, SCAN_DONE);
    return status;
}
