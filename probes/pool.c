/*
 * pool.c - the probe pool: its configuration, the worker threads
 * (worker.c), and the queues `probe_pool_submit` fills round robin. Every
 * submitted probe ends in exactly one call of the user's `done` callback,
 * with an outcome (conn.c).
 *
 * Cost per probe is kept small on purpose (docs/probes.md, "Cost"): one
 * SSL_CTX for the pool, one SSL object per connection slot reused with
 * SSL_clear, no certificate verification on the hot path (the chain is
 * kept and judged offline), read-ahead so a TLS flight is one read(), one
 * epoll_ctl per connection (edge-triggered), no SSL_shutdown.
 */
#include "probes/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The workers the connections in flight need, at most one per CPU: a
 * worker more than the rate needs adds CPU per probe instead of rate
 * (docs/probes.md, "Worker threads"). */
static unsigned default_threads(unsigned concurrency)
{
    unsigned need = (concurrency + PROBE_CONNECTIONS_PER_WORKER - 1) / PROBE_CONNECTIONS_PER_WORKER;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus > 0 && need > (unsigned long)cpus)
        need = (unsigned)cpus;
    return need > 0 ? need : 1;
}

void probe_config_defaults(struct probe_config *cfg)
{
    if (!cfg->concurrency)
        cfg->concurrency = PROBE_DEFAULT_CONCURRENCY;
    if (!cfg->threads)
        cfg->threads = default_threads(cfg->concurrency);
    if (!cfg->connect_timeout_ms)
        cfg->connect_timeout_ms = PROBE_DEFAULT_CONNECT_TIMEOUT_MS;
    if (!cfg->handshake_timeout_ms)
        cfg->handshake_timeout_ms = PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!cfg->response_timeout_ms)
        cfg->response_timeout_ms = PROBE_DEFAULT_RESPONSE_TIMEOUT_MS;
    if (!cfg->total_timeout_ms)
        cfg->total_timeout_ms = cfg->connect_timeout_ms + cfg->handshake_timeout_ms +
                                cfg->response_timeout_ms;
    if (!cfg->max_header_bytes)
        cfg->max_header_bytes = PROBE_DEFAULT_MAX_HEADER_BYTES;
    if (!cfg->max_body_bytes)
        cfg->max_body_bytes = PROBE_DEFAULT_MAX_BODY_BYTES;
    if (!cfg->max_chain_bytes)
        cfg->max_chain_bytes = PROBE_DEFAULT_MAX_CHAIN_BYTES;
    if (!cfg->user_agent)
        cfg->user_agent = PROBE_DEFAULT_USER_AGENT;
    if (!cfg->retries_set) {
        cfg->retries = PROBE_RETRIES_DEFAULT;
        cfg->retries_set = true;
    }
    if (cfg->retries > PROBE_RETRIES_MAX)
        cfg->retries = PROBE_RETRIES_MAX;
}

static int raise_fd_limit(rlim_t need, unsigned concurrency, char *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, KS_ERRLEN, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        rl.rlim_max = need; /* only root may raise it; try */
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        snprintf(err, KS_ERRLEN,
                 "--concurrency %u needs %llu file descriptors but RLIMIT_NOFILE allows %llu "
                 "(hard limit) and cannot be raised: %s; lower --concurrency or raise the "
                 "limit (ulimit -Hn)",
                 concurrency, (unsigned long long)need, (unsigned long long)rl.rlim_max,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static void pool_free(struct probe_pool *p)
{
    for (unsigned i = 0; p->workers && i < p->nworkers; i++)
        worker_destroy(&p->workers[i]);
    free(p->workers);
    SSL_CTX_free(p->ssl_ctx);
    EVP_MD_free(p->sha256);
    free(p->user_agent);
    pthread_cond_destroy(&p->not_full);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static bool is_printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* Descriptors: one per connection, two per thread, some for the rest. */
static rlim_t fds_needed(const struct probe_config *cfg)
{
    return (rlim_t)cfg->concurrency + 2 * cfg->threads + 64;
}

/* Defaults filled in, and no more threads than connections. */
static struct probe_config effective_config(const struct probe_config *cfg_in)
{
    struct probe_config cfg = *cfg_in;
    probe_config_defaults(&cfg);
    if (cfg.threads > cfg.concurrency)
        cfg.threads = cfg.concurrency;
    return cfg;
}

int probe_pool_reserve_fds(const struct probe_config *cfg_in, char *err)
{
    struct probe_config cfg = effective_config(cfg_in);
    return raise_fd_limit(fds_needed(&cfg), cfg.concurrency, err);
}

/* The pool without its threads: copies of the strings, SHA-256, the
 * SSL_CTX and every worker's slots. NULL with err filled on failure. */
static struct probe_pool *pool_new(const struct probe_config *cfg, probe_done_fn done,
                                   void *ctx, char *err)
{
    struct probe_pool *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, KS_ERRLEN, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->not_full, NULL);
    p->cfg = *cfg;
    p->done = done;
    p->ctx = ctx;
    p->user_agent = strdup(cfg->user_agent);
    p->cfg.user_agent = p->user_agent;
    if (!cfg->no_fast_keys)
        probes_fast_keys_install(); /* optional: on failure OpenSSL's defaults stay */
    p->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    p->ssl_ctx = p->sha256 ? tls_ctx_new(cfg, err) : NULL;
    p->workers = calloc(cfg->threads, sizeof(*p->workers));
    if (!p->user_agent || !p->sha256 || !p->ssl_ctx || !p->workers) {
        if (p->ssl_ctx || !p->sha256)
            snprintf(err, KS_ERRLEN, "out of memory or OpenSSL without SHA-256");
        pool_free(p);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->threads; i++) {
        unsigned slots = cfg->concurrency / cfg->threads + (i < cfg->concurrency % cfg->threads);
        p->nworkers = i + 1;
        if (worker_init(&p->workers[i], p, slots, err) < 0) {
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

static void wake(struct worker *w)
{
    uint64_t one = 1;
    if (write(w->wake_fd, &one, sizeof(one)) < 0) { /* counter full: it is awake */ }
}

/* Stops and joins the first `started` workers (none has work yet). */
static void stop_started(struct probe_pool *p, unsigned started)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_mutex_unlock(&p->lock);
    for (unsigned j = 0; j < started; j++) {
        wake(&p->workers[j]);
        pthread_join(p->workers[j].thread, NULL);
    }
}

int probe_pool_create(struct probe_pool **out, const struct probe_config *cfg_in,
                      probe_done_fn done, void *ctx, char *err)
{
    *out = NULL;
    struct probe_config cfg = effective_config(cfg_in);
    if (!is_printable_ascii(cfg.user_agent)) {
        snprintf(err, KS_ERRLEN, "the user agent must be printable ASCII");
        return -1;
    }
    if (conn_bio_method_init() < 0) {
        snprintf(err, KS_ERRLEN, "cannot create an OpenSSL BIO method");
        return -1;
    }
    if (raise_fd_limit(fds_needed(&cfg), cfg.concurrency, err) < 0)
        return -1;
    struct probe_pool *p = pool_new(&cfg, done, ctx, err);
    if (!p)
        return -1;
    for (unsigned i = 0; i < p->nworkers; i++) {
        int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        if (rc != 0) {
            snprintf(err, KS_ERRLEN, "pthread_create: %s", strerror(rc));
            stop_started(p, i);
            pool_free(p);
            return -1;
        }
    }
    *out = p;
    return 0;
}

/* Queues one target on the first worker, round robin, whose queue has
 * room; waits while every queue is full. -1 if the pool is stopping. */
int probe_pool_submit(struct probe_pool *p, const struct probe_target *t)
{
    if (!probe_module_get(t->module))
        return -1;
    pthread_mutex_lock(&p->lock);
    struct worker *chosen = NULL;
    for (;;) {
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            return -1;
        }
        for (unsigned k = 0; k < p->nworkers && !chosen; k++) {
            struct worker *w = &p->workers[(p->next_worker + k) % p->nworkers];
            if (w->queue_length < w->slots)
                chosen = w;
        }
        if (chosen)
            break;
        pthread_cond_wait(&p->not_full, &p->lock);
    }
    p->next_worker = (unsigned)(chosen - p->workers + 1) % p->nworkers;
    unsigned tail = (chosen->queue_head + chosen->queue_length) % chosen->slots;
    chosen->queue[tail] = *t;
    chosen->queue_length++;
    bool need_wake = chosen->sleeping && !chosen->wake_pending;
    if (need_wake)
        chosen->wake_pending = true;
    atomic_fetch_add(&p->submitted, 1);
    pthread_mutex_unlock(&p->lock);
    if (need_wake)
        wake(chosen);
    return 0;
}

void probe_pool_stats(struct probe_pool *p, struct probe_pool_stats *out)
{
    out->submitted = atomic_load(&p->submitted);
    out->completed = atomic_load(&p->completed);
    for (int i = 0; i < PROBE_OUTCOME_COUNT; i++)
        out->by_outcome[i] = atomic_load(&p->by_outcome[i]);
    out->retries = atomic_load(&p->retries);
    out->recovered = atomic_load(&p->recovered);
}

int probe_pool_finish(struct probe_pool *p, struct probe_pool_stats *final, char *err)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->not_full);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nworkers; i++)
        wake(&p->workers[i]);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    uint64_t submitted = atomic_load(&p->submitted), completed = atomic_load(&p->completed);
    if (final)
        probe_pool_stats(p, final);
    pool_free(p);
    if (submitted != completed) {
        snprintf(err, KS_ERRLEN, "%llu probes submitted but %llu completed",
                 (unsigned long long)submitted, (unsigned long long)completed);
        return -1;
    }
    return 0;
}
