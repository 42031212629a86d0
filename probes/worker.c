/*
 * worker.c - one worker thread: an epoll loop over its connection slots.
 * Each turn it starts queued targets in free slots, waits for events (or
 * the next deadline sweep), hands each event to its connection (conn.c),
 * and ends probes whose deadline has passed.
 */
#include "probes/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVENTS_PER_WAIT 256
#define START_BATCH 64          /* targets taken from the queue per lock */
#define SWEEP_INTERVAL_MS 10    /* how often deadlines are checked */

/* Moves queued targets into free slots. Called with pool->lock held. */
static unsigned take_queued(struct worker *w, struct probe_target *out, unsigned max)
{
    unsigned n = 0;
    unsigned capacity = w->slots;
    while (n < max && w->queue_length > 0) {
        out[n++] = w->queue[w->queue_head];
        w->queue_head = (w->queue_head + 1) % capacity;
        w->queue_length--;
    }
    return n;
}

/* Starts what is queued, as far as slots allow. True when the pool is
 * stopping and this worker has nothing left to do. */
static bool start_queued(struct worker *w)
{
    struct probe_pool *p = w->pool;
    struct probe_target batch[START_BATCH];
    bool stop = false;
    for (;;) {
        unsigned want = w->free_count < START_BATCH ? w->free_count : START_BATCH;
        pthread_mutex_lock(&p->lock);
        unsigned n = take_queued(w, batch, want);
        if (n > 0)
            pthread_cond_broadcast(&p->not_full);
        stop = p->stopping && w->queue_length == 0 && w->active == 0 && n == 0;
        w->sleeping = (w->queue_length == 0 && w->free_count > n);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < n; i++)
            conn_start(w, &batch[i]);
        if (n < START_BATCH)
            return stop;
    }
}

/* The eventfd fired: new work or stop. */
static void woken(struct worker *w)
{
    uint64_t count;
    if (read(w->wake_fd, &count, sizeof(count)) < 0) { /* spurious: fine */ }
    pthread_mutex_lock(&w->pool->lock);
    w->wake_pending = false;
    pthread_mutex_unlock(&w->pool->lock);
}

void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event events[EVENTS_PER_WAIT];
    int64_t next_sweep = 0;

    for (;;) {
        w->now = monotonic_ms();
        if (start_queued(w))
            break;

        int timeout = -1;
        if (w->active > 0)
            timeout = next_sweep > w->now ? (int)(next_sweep - w->now) : 0;
        int n = epoll_wait(w->epoll_fd, events, EVENTS_PER_WAIT, timeout);
        w->now = monotonic_ms();
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                woken(w);
            else
                conn_event(events[i].data.ptr, events[i].events);
        }
        if (w->now >= next_sweep) {
            for (unsigned i = 0; i < w->slots; i++)
                conn_check_deadline(&w->conns[i], w->now);
            next_sweep = w->now + SWEEP_INTERVAL_MS;
        }
    }
    return NULL;
}

void worker_destroy(struct worker *w)
{
    for (unsigned i = 0; w->conns && i < w->slots; i++) {
        SSL_free(w->conns[i].ssl); /* frees the BIOs too */
        free(w->conns[i].out);
    }
    free(w->conns);
    free(w->free_list);
    free(w->queue);
    free(w->read_buffer);
    free(w->request);
    EVP_MD_CTX_free(w->md_ctx);
    if (w->epoll_fd >= 0)
        close(w->epoll_fd);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
}

int worker_init(struct worker *w, struct probe_pool *p, unsigned slots, char *err)
{
    memset(w, 0, sizeof(*w));
    w->pool = p;
    w->slots = slots;
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->epoll_fd < 0 || w->wake_fd < 0) {
        snprintf(err, KS_ERRLEN, "epoll/eventfd: %s", strerror(errno));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->wake_fd, &ev) < 0) {
        snprintf(err, KS_ERRLEN, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    w->request_capacity = strlen(p->user_agent) + 1024; /* + a module's path */
    w->conns = calloc(slots, sizeof(*w->conns));
    w->free_list = calloc(slots, sizeof(*w->free_list));
    w->queue = calloc(slots, sizeof(*w->queue));
    w->read_buffer = malloc(READ_BUFFER_BYTES);
    w->request = malloc(w->request_capacity);
    w->md_ctx = EVP_MD_CTX_new();
    if (!w->conns || !w->free_list || !w->queue || !w->read_buffer || !w->request ||
        !w->md_ctx) {
        snprintf(err, KS_ERRLEN, "out of memory for %u connection slots", slots);
        return -1;
    }
    for (unsigned i = 0; i < slots; i++) {
        w->conns[i].fd = -1;
        w->conns[i].w = w;
        w->free_list[i] = slots - 1 - i;
    }
    w->free_count = slots;
    return 0;
}
