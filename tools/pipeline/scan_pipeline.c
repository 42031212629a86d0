/*
 * scan_pipeline.c - from responder to stored record, without ever blocking
 * the capture thread.
 */
#include "tools/pipeline/pipeline.h"
#include "lib/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_SIZE (1u << 20)
#define SEQ_WINDOW (1u << 21)     /* must exceed the responders in flight */
#define HOLD_SIZE (1u << 18)      /* responders waiting for their host's sample:
                                     PORT_SAMPLE_WAIT seconds of 130k/s */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- ring ---- */

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

/* ---- sequence tracker ---- */

/* Each responder's sequence number travels with its probe as the target's
 * tag, so marking it done needs no map: a flag in a window, set by the probe
 * workers; `low` is advanced under the lock by whoever asks how far the
 * handled prefix reaches (the feeder, the checkpoints). */

static int seq_tracker_init(struct seq_tracker *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->window = SEQ_WINDOW;
    t->done = calloc(t->window, sizeof(*t->done));
    return t->done ? 0 : -1;
}

/* Moves `low` past every done sequence number; returns it. */
static uint64_t seq_tracker_advance(struct seq_tracker *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t low = atomic_load(&t->low);
    uint64_t next = atomic_load(&t->next_seq);
    while (low < next && atomic_load_explicit(&t->done[low & (t->window - 1)],
                                              memory_order_acquire)) {
        atomic_store_explicit(&t->done[low & (t->window - 1)], 0, memory_order_relaxed);
        low++;
    }
    atomic_store(&t->low, low);
    pthread_mutex_unlock(&t->lock);
    return low;
}

/* The next sequence number (feeder thread only); waits while the window
 * is full. */
static uint64_t seq_tracker_add(struct seq_tracker *t)
{
    while (atomic_load(&t->next_seq) - seq_tracker_advance(t) >= t->window) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    return atomic_fetch_add(&t->next_seq, 1);
}

static void seq_tracker_done(struct seq_tracker *t, uint64_t seq)
{
    atomic_store_explicit(&t->done[seq & (t->window - 1)], 1, memory_order_release);
}

static void seq_tracker_free(struct seq_tracker *t)
{
    free(t->done);
    pthread_mutex_destroy(&t->lock);
}

/* ---- the stages ---- */

bool scan_pipeline_push(void *ctx, uint32_t addr, uint16_t port)
{
    struct scan_pipeline *p = ctx;
    if (!ring_push(&p->ring, (uint64_t)addr << 16 | port))
        return false;
    atomic_fetch_add(&p->pushed, 1);
    return true;
}

/* Writes one line, or with text NULL (it could not be made) only records
 * the failure. Probe workers call this concurrently: out_failed is guarded
 * by out_lock like the FILE. */
static void write_line(struct scan_pipeline *p, const char *text)
{
    pthread_mutex_lock(&p->out_lock);
    if (!text || fputs(text, p->out) == EOF || fputc('\n', p->out) == EOF)
        p->out_failed = true;
    pthread_mutex_unlock(&p->out_lock);
}

static void write_responder(struct scan_pipeline *p, uint64_t v)
{
    char ip[16], line[64];
    ipv4_text((uint32_t)(v >> 16), ip);
    /* Fields are an address and a number: nothing to escape. */
    if (p->format == PIPELINE_JSONL)
        snprintf(line, sizeof(line), "{\"saddr\":\"%s\",\"sport\":%u}", ip, (unsigned)(v & 0xffff));
    else
        snprintf(line, sizeof(line), "%s,%u", ip, (unsigned)(v & 0xffff));
    write_line(p, line);
}

/* Called on probe worker threads; the target's tag is its sequence number. */
static void probe_done(void *ctx, const struct probe_target *t, struct probe_result *r)
{
    struct scan_pipeline *p = ctx;
    atomic_fetch_add(&p->probed, 1);
    if (r->k8s == K8S_YES)
        atomic_fetch_add(&p->k8s, 1);
    if (p->out) {
        size_t length;
        char *text = record_to_json(r, RECORD_CERTS_DER, NULL, &length);
        write_line(p, text);
        free(text);
    }
    if (p->writer) {
        char err[KS_ERRLEN];
        if (store_writer_put(p->writer, r, err) < 0 &&
            atomic_fetch_add(&p->store_errors, 1) == 0)
            snprintf(p->store_err, KS_ERRLEN, "%s", err);
    }
    probe_result_free(r); /* a no-op when the writer took the contents */
    /* Only now is this responder's record queued for the next commit. */
    seq_tracker_done(&p->seqs, t->tag);
}

/* A responder leaves the feeder: listed, or submitted to the probes. */
static void feed(struct scan_pipeline *p, uint64_t v)
{
    if (!p->pool) {
        write_responder(p, v);
        return;
    }
    uint32_t addr = (uint32_t)(v >> 16);
    uint16_t port = (uint16_t)v;
    struct probe_target t;
    probe_target_ipv4(&t, addr, port, probe_module_for_port(&p->modules, port),
                      seq_tracker_add(&p->seqs));
    /* The host's flag is final now: it waited PORT_SAMPLE_WAIT (hold). */
    if (p->all_ports_open && p->all_ports_open(p->flag_ctx, addr))
        t.flags |= PROBE_TARGET_ALL_PORTS_OPEN;
    if (probe_pool_submit(p->pool, &t) < 0) {
        /* A pool shutting down: the responder is lost; mark it handled so
         * checkpoints do not wait for it forever. */
        seq_tracker_done(&p->seqs, t.tag);
    }
}

static void hold_pop(struct scan_pipeline *p)
{
    struct hold_queue *q = &p->held;
    feed(p, q->items[2 * q->head]);
    q->head = (q->head + 1) % q->capacity;
    q->count--;
}

static void hold_push(struct scan_pipeline *p, uint64_t v, uint64_t due)
{
    struct hold_queue *q = &p->held;
    if (q->count == q->capacity)
        hold_pop(p);
    size_t at = (q->head + q->count) % q->capacity;
    q->items[2 * at] = v;
    q->items[2 * at + 1] = due;
    q->count++;
}

/* Feeds the held responders whose time has come; all of them once the scan
 * has ended (no flag changes after the receiver stopped). */
static void hold_release(struct scan_pipeline *p, bool all)
{
    struct hold_queue *q = &p->held;
    uint64_t now = now_ns();
    while (q->count && (all || q->items[2 * q->head + 1] <= now))
        hold_pop(p);
}

static void *feeder_main(void *arg)
{
    struct scan_pipeline *p = arg;
    for (;;) {
        bool finished = atomic_load(&p->input_done);
        uint64_t v;
        bool any = false;
        while (ring_pop(&p->ring, &v)) {
            any = true;
            if (p->held.items)
                hold_push(p, v, now_ns() + p->hold_ns);
            else
                feed(p, v);
        }
        if (p->held.items)
            hold_release(p, finished);
        if (finished && !any)
            break;
        if (!any) {
            struct timespec pause = {0, 2000000};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

int scan_pipeline_start(struct scan_pipeline *p, const struct pipeline_config *cfg, char *err)
{
    memset(p, 0, sizeof(*p));
    p->format = cfg->format;
    p->out = cfg->out;
    p->writer = cfg->writer;
    pthread_mutex_init(&p->out_lock, NULL);
    if (cfg->probe && cfg->all_ports_open) {
        p->all_ports_open = cfg->all_ports_open;
        p->flag_ctx = cfg->flag_ctx;
        p->hold_ns = (uint64_t)(cfg->hold * 1e9);
        p->held.capacity = HOLD_SIZE;
    }
    int ring = ring_init(&p->ring, RING_SIZE);
    int seqs = seq_tracker_init(&p->seqs); /* initialises its lock even when it fails */
    if (p->hold_ns)
        p->held.items = malloc(2 * HOLD_SIZE * sizeof(uint64_t));
    if (ring < 0 || seqs < 0 || (p->hold_ns && !p->held.items)) {
        snprintf(err, KS_ERRLEN, "out of memory");
        goto fail;
    }
    if (cfg->probe && probe_pool_create(&p->pool, cfg->probe, probe_done, p, err) < 0)
        goto fail;
    if (cfg->probe)
        p->modules = cfg->probe->modules;
    /* Before any thread starts: the scan thread writes IPv6 responders to
     * the same file directly, and a header after them broke the CSV. */
    if (p->out && !p->pool && p->format == PIPELINE_CSV)
        write_line(p, "saddr,sport");
    int rc = pthread_create(&p->feeder, NULL, feeder_main, p);
    if (rc != 0) {
        snprintf(err, KS_ERRLEN, "starting feeder thread: %s", strerror(rc));
        goto fail;
    }
    p->feeder_started = true;
    return 0;
fail:
    scan_pipeline_free(p); /* nothing submitted: the pool finishes at once */
    return -1;
}

uint64_t scan_pipeline_handled(struct scan_pipeline *p)
{
    return p->pool ? seq_tracker_advance(&p->seqs) : atomic_load(&p->pushed);
}

void scan_pipeline_probe_stats(struct scan_pipeline *p, struct probe_pool_stats *out)
{
    if (p->pool)
        probe_pool_stats(p->pool, out);
    else
        *out = p->pool_final;
}

int scan_pipeline_finish(struct scan_pipeline *p, char *err)
{
    atomic_store(&p->input_done, 1);
    if (p->feeder_started)
        pthread_join(p->feeder, NULL);
    p->feeder_started = false;
    int rc = 0;
    if (p->pool) {
        rc = probe_pool_finish(p->pool, &p->pool_final, err);
        p->pool = NULL;
    }
    if (rc == 0 && p->out && fflush(p->out) != 0)
        p->out_failed = true;
    if (rc == 0 && p->out_failed) {
        snprintf(err, KS_ERRLEN, "writing results failed: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && atomic_load(&p->store_errors)) {
        snprintf(err, KS_ERRLEN, "%lu records not stored: %s",
                 (unsigned long)atomic_load(&p->store_errors), p->store_err);
        rc = -1;
    }
    return rc;
}

void scan_pipeline_free(struct scan_pipeline *p)
{
    if (p->feeder_started) {
        atomic_store(&p->input_done, 1);
        pthread_join(p->feeder, NULL);
    }
    if (p->pool) {
        char err[KS_ERRLEN];
        probe_pool_finish(p->pool, NULL, err);
    }
    seq_tracker_free(&p->seqs);
    free(p->held.items);
    free(p->ring.items);
    pthread_mutex_destroy(&p->out_lock);
}
