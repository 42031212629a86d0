/*
 * cmd_scan.c - `kubesurvey scan`: options, targets, the run, its outputs.
 *
 * The scan itself runs on its own thread (engine's scan_run); this thread
 * prints the status line once a second and turns signals into a stop
 * request. Responders travel from the capture thread to the output thread
 * through a single-producer single-consumer ring that never blocks the
 * capture thread: when it is full the responder is counted as dropped.
 */
#include "engine/engine.h"
#include "tools/tools.h"
#include "tools/scan_options.h"
#include "ks_version.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- responder ring (one producer: capture; one consumer: output) ---- */

struct responder_ring {
    uint64_t *items;              /* addr << 16 | port */
    size_t mask;
    _Atomic size_t head;          /* next to write (producer) */
    _Atomic size_t tail;          /* next to read (consumer) */
};

static int ring_init(struct responder_ring *r, size_t capacity_pow2)
{
    r->items = malloc(capacity_pow2 * sizeof(uint64_t));
    r->mask = capacity_pow2 - 1;
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    return r->items ? 0 : -1;
}

static bool ring_push(struct responder_ring *r, uint64_t v)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - atomic_load_explicit(&r->tail, memory_order_acquire) > r->mask)
        return false;
    r->items[head & r->mask] = v;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return true;
}

static bool ring_pop(struct responder_ring *r, uint64_t *v)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == atomic_load_explicit(&r->head, memory_order_acquire))
        return false;
    *v = r->items[tail & r->mask];
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

/* ---- the run ---- */

struct scan_job {
    struct scan_options *opts;
    struct scan_config cfg;
    struct scan_counters counters;
    struct responder_ring ring;
    FILE *out;
    _Atomic int stop;
    _Atomic int scan_finished;
    int scan_status;
    uint64_t status_sent;         /* sent at the previous status line */
    double status_time;
    char err[KS_ERRLEN];
    uint64_t written;
};

static _Atomic int signal_count;

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&signal_count, 1);
}

static bool push_responder(void *ctx, uint32_t addr, uint16_t port)
{
    struct scan_job *job = ctx;
    return ring_push(&job->ring, (uint64_t)addr << 16 | port);
}

static void *scan_thread(void *arg)
{
    struct scan_job *job = arg;
    job->scan_status = scan_run(&job->cfg, &job->counters, push_responder, job, &job->stop,
                                job->err);
    atomic_store(&job->scan_finished, 1);
    return NULL;
}

static void write_responder(struct scan_job *job, uint64_t v)
{
    char ip[16];
    ip_format((uint32_t)(v >> 16), ip);
    /* Fields are an address and a number: nothing to escape. */
    if (job->opts->format == FORMAT_JSONL)
        fprintf(job->out, "{\"saddr\":\"%s\",\"sport\":%u}\n", ip, (unsigned)(v & 0xffff));
    else
        fprintf(job->out, "%s,%u\n", ip, (unsigned)(v & 0xffff));
    job->written++;
}

static void *output_thread(void *arg)
{
    struct scan_job *job = arg;
    if (job->opts->format == FORMAT_CSV)
        fprintf(job->out, "saddr,sport\n");
    for (;;) {
        uint64_t v;
        bool finished = atomic_load(&job->scan_finished);
        while (ring_pop(&job->ring, &v))
            write_responder(job, v);
        if (finished)
            break;
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
    fflush(job->out);
    return NULL;
}

static void format_duration(double s, char *buf, size_t size)
{
    unsigned long t = (unsigned long)(s + 0.5);
    snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, (t / 60) % 60, t % 60);
}

/* The send rate shown is over the last interval (the final line: the whole
 * run), so a stall or the cooldown shows at once instead of being averaged
 * away. */
static void print_status(struct scan_job *job, double elapsed, bool final)
{
    struct scan_counters *c = &job->counters;
    uint64_t sent = atomic_load(&c->sent), total = atomic_load(&c->targets_total);
    uint64_t unique = atomic_load(&c->unique);
    double pct = total ? 100.0 * (double)sent / (double)total : 100.0;
    double span = final ? elapsed : elapsed - job->status_time;
    double rate = span > 0 ? (double)(final ? sent : sent - job->status_sent) / span : 0;
    job->status_sent = sent;
    job->status_time = elapsed;
    char el[32], eta[32];
    format_duration(elapsed, el, sizeof(el));
    if (atomic_load(&c->phase) >= SCAN_COOLDOWN)
        snprintf(eta, sizeof(eta), "cooldown");
    else if (sent > 0 && elapsed > 0)
        format_duration((double)(total - sent) * elapsed / (double)sent, eta, sizeof(eta));
    else
        snprintf(eta, sizeof(eta), "?");
    fprintf(stderr,
            "%s %s %5.1f%% sent %lu (%.0f p/s) replies %lu (hit %.3f%%) drops pcap %lu "
            "queue %lu%s%s\n",
            final ? "done" : "", el, pct, (unsigned long)sent, rate, (unsigned long)unique,
            sent ? 100.0 * (double)unique / (double)sent : 0.0,
            (unsigned long)(atomic_load(&c->pcap_drops) + atomic_load(&c->pcap_ifdrops)),
            (unsigned long)atomic_load(&c->queue_drops), final ? "" : " ETA ",
            final ? "" : eta);
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for the scan thread, printing status and honouring signals:
 * the first SIGINT stops sending (cooldown still runs), the second ends it. */
static void supervise(struct scan_job *job, double start)
{
    double next_status = start + 1;
    while (!atomic_load(&job->scan_finished)) {
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
        int sigs = atomic_load(&signal_count);
        if (sigs > 0 && atomic_load(&job->stop) < (sigs > 1 ? 2 : 1)) {
            atomic_store(&job->stop, sigs > 1 ? 2 : 1);
            if (!job->opts->quiet)
                fprintf(stderr, "kubesurvey: %s\n", sigs > 1 ? "stopping now"
                                                             : "stopping; waiting for late "
                                                               "replies (Ctrl-C again to skip)");
        }
        double now = now_wall();
        if (!job->opts->quiet && now >= next_status) {
            print_status(job, now - start, false);
            next_status += 1;
        }
    }
}

int cmd_scan(int argc, char **argv)
{
    struct scan_options opts;
    int rc = scan_options_parse(&opts, argc, argv);
    if (rc >= 0)
        return rc; /* --help, or a usage error already reported */

    char err[KS_ERRLEN];
    struct target_space space;
    if (scan_options_targets(&opts, &space, err) < 0) {
        fprintf(stderr, "kubesurvey scan: %s\n", err);
        scan_options_free(&opts);
        return EXIT_USAGE;
    }
    if (opts.dry_run) {
        rc = scan_dry_run(&opts, &space);
        target_space_free(&space);
        scan_options_free(&opts);
        return rc;
    }

    struct scan_job *job = calloc(1, sizeof(*job));
    rc = EXIT_RUNTIME;
    if (!job || ring_init(&job->ring, 1u << 20) < 0) {
        fprintf(stderr, "kubesurvey scan: out of memory\n");
        goto out;
    }
    job->opts = &opts;
    if (scan_options_config(&opts, &space, &job->cfg, err) < 0) {
        fprintf(stderr, "kubesurvey scan: %s\n", err);
        goto out;
    }
    job->out = opts.output ? fopen(opts.output, "w") : stdout;
    if (!job->out) {
        fprintf(stderr, "kubesurvey scan: cannot write %s: %s\n", opts.output, strerror(errno));
        goto out;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double start = now_wall();
    pthread_t scan_tid, out_tid;
    pthread_create(&out_tid, NULL, output_thread, job);
    pthread_create(&scan_tid, NULL, scan_thread, job);
    supervise(job, start);
    pthread_join(scan_tid, NULL);
    pthread_join(out_tid, NULL);
    double end = now_wall();
    if (!opts.quiet)
        print_status(job, end - start, true);
    rc = EXIT_OK;
    if (job->scan_status < 0) {
        fprintf(stderr, "kubesurvey scan: %s\n", job->err);
        rc = EXIT_RUNTIME;
    } else if (atomic_load(&job->stop)) {
        /* Stopped early: the output is valid but incomplete, and scripts
         * must be able to tell. */
        fprintf(stderr, "kubesurvey scan: interrupted after %lu of %lu probes\n",
                (unsigned long)atomic_load(&job->counters.sent),
                (unsigned long)atomic_load(&job->counters.targets_total));
        rc = EXIT_RUNTIME;
    }
    if (opts.output && fclose(job->out) != 0) {
        fprintf(stderr, "kubesurvey scan: writing %s: %s\n", opts.output, strerror(errno));
        rc = EXIT_RUNTIME;
    }
    job->out = NULL;
    if (opts.metadata && scan_write_metadata(&opts, &space, &job->cfg, &job->counters, start,
                                             end, job->scan_status < 0 ? job->err : NULL,
                                             atomic_load(&job->stop) != 0, err) < 0) {
        fprintf(stderr, "kubesurvey scan: %s\n", err);
        rc = EXIT_RUNTIME;
    }
out:
    if (job) {
        if (job->out && opts.output)
            fclose(job->out);
        free(job->ring.items);
        free(job);
    }
    target_space_free(&space);
    scan_options_free(&opts);
    return rc;
}
