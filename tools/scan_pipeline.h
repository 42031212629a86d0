/*
 * scan_pipeline.h - private to tools/: what happens to responders during
 * `kubesurvey scan`. The capture thread pushes each new responder into a
 * lock-free ring; a feeder thread takes them out and either writes them
 * (--syn-only) or submits them to the probe pool, whose results go to JSON
 * Lines and to the store writer. Checkpoints record how far the walk may be
 * resumed without losing a host.
 */
#ifndef KS_SCAN_PIPELINE_H
#define KS_SCAN_PIPELINE_H

#include "engine/engine.h"
#include "probes/probes.h"
#include "storage/storage.h"
#include "tools/scan_options.h"

#include "lib/hashmap.h"

#include <pthread.h>
#include <stdio.h>

struct responder_ring {
    uint64_t *items;              /* addr << 16 | port */
    size_t mask;
    _Atomic size_t head;          /* next to write (producer) */
    _Atomic size_t tail;          /* next to read (consumer) */
};

/* Which responders have been fully handled (probed, result queued to the
 * store). Each responder gets a sequence number in ring order; `low` is the
 * first number not yet handled, so every responder before it is done. */
struct seq_tracker {
    pthread_mutex_t lock;
    struct hashmap seqs;          /* responder key + 1 -> its sequence number */
    uint8_t *done;                /* window of done flags, by seq & (window - 1) */
    size_t window;
    uint64_t next_seq;
    _Atomic uint64_t low;
};

struct scan_pipeline {
    const struct scan_options *opts;
    struct responder_ring ring;
    _Atomic uint64_t pushed;      /* responders that entered the ring */
    _Atomic int input_done;       /* the scan ended: nothing more will be pushed */

    FILE *out;                    /* --syn-only list, or probe JSON Lines; may be NULL */
    pthread_mutex_t out_lock;
    bool out_failed;

    struct probe_pool *pool;      /* NULL with --syn-only */
    struct seq_tracker seqs;
    struct store_writer *writer;  /* NULL without a store */
    _Atomic uint64_t probed, k8s, store_errors;
    char store_err[KS_ERRLEN];

    pthread_t feeder;
    bool feeder_started;
};

/* Starts the feeder thread and, with probe_cfg (NULL with --syn-only), the
 * probe pool. out and writer may be NULL; they stay the caller's. On -1
 * (err filled) nothing is left to free; after 0, scan_pipeline_finish
 * and/or scan_pipeline_free end it. */
int scan_pipeline_start(struct scan_pipeline *p, const struct scan_options *opts, FILE *out,
                        const struct probe_config *probe_cfg, struct store_writer *writer,
                        char *err);
/* The engine's responder callback (never blocks). */
bool scan_pipeline_push(void *ctx, uint32_t addr, uint16_t port);
/* After the scan: drain the ring, finish every probe. Frees the pool. */
int scan_pipeline_finish(struct scan_pipeline *p, char *err);
/* Frees a started pipeline (joining what still runs). Only after a
 * successful scan_pipeline_start. */
void scan_pipeline_free(struct scan_pipeline *p);
/* Responders handled so far (for checkpoints): every one of the first
 * scan_pipeline_handled() pushed responders is done. */
uint64_t scan_pipeline_handled(struct scan_pipeline *p);

#endif
