/*
 * cmd_scan.c - `kubesurvey scan`: the whole survey run.
 *
 * Threads: the engine's senders and receiver (scan_run, on its own thread),
 * the pipeline's feeder and probe workers, the store's writer, and this one,
 * which prints the status line once a second, turns signals into stop
 * requests (SIGINT, SIGTERM) and opt-out reloads (SIGHUP) and writes
 * checkpoints. Only this thread takes those signals: the others are created
 * with them blocked, so no probe's system call is interrupted.
 *
 * A checkpoint says "every target before walk position P has been probed
 * and its result committed". Which P qualifies is the pipeline's rule
 * (tools/pipeline/checkpoint.c: the cooldown has passed since P was
 * sampled and every responder that had arrived by then has been probed and
 * handed to the writer); this file commits it: the writer commits the
 * checkpoint in the same transaction as those records. A resumed
 * scan restarts at P: targets after P may be probed twice, and the second
 * record replaces the first under the same key, so nothing is lost and
 * nothing is duplicated.
 */
#include "engine/engine.h"
#include "probes/probes.h"
#include "storage/storage.h"
#include "tools/cli/scan_options.h"
#include "tools/pipeline/pipeline.h"
#include "tools/cli/cli.h"
#include "lib/bytes.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct scan_job {
    struct scan_options *opts;
    struct scan *scan;            /* engine handle: raw sockets open */
    struct run_as user;           /* who to become after opening everything */
    FILE *metadata;               /* --metadata, opened before the switch */
    const struct target_space *space;
    struct scan_config cfg;
    struct scan_counters counters;
    struct scan_pipeline pipe;
    bool pipe_started;            /* scan_pipeline_start succeeded: pipe to free */
    _Atomic int stop;
    _Atomic int scan_finished;
    int scan_status;
    char err[KS_ERRLEN];
    double start;
    uint64_t status_sent;
    double status_time;
    /* store */
    struct store *store;
    struct store_writer *writer;
    uint32_t scan_id;
    struct scan_record previous;  /* the resumed scan's record ... */
    bool previous_loaded;         /* ... when resuming */
    struct checkpoints checkpoints; /* position: the last committed walk position */
    int fds_before_probes;        /* open descriptors before the pipeline, -1 unknown */
    int fds_after_probes;         /* ... and after it ended: equal unless one leaked */
};

static _Atomic int signal_count, reload_requests;

static void on_signal(int sig)
{
    atomic_fetch_add(sig == SIGHUP ? &reload_requests : &signal_count, 1);
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *scan_thread(void *arg)
{
    struct scan_job *job = arg;
    job->scan_status = scan_run(job->scan, &job->counters, scan_pipeline_push, &job->pipe,
                                &job->stop, job->err);
    atomic_store(&job->scan_finished, 1);
    return NULL;
}

/* ---- status line ---- */

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
    char el[32], eta[32], probed[96] = "";
    format_duration(elapsed, el, sizeof(el));
    if (atomic_load(&c->phase) >= SCAN_COOLDOWN)
        snprintf(eta, sizeof(eta), "cooldown");
    else if (sent > 0 && elapsed > 0)
        format_duration((double)(total - sent) * elapsed / (double)sent, eta, sizeof(eta));
    else
        snprintf(eta, sizeof(eta), "?");
    if (!job->opts->syn_only)
        snprintf(probed, sizeof(probed), " probed %lu k8s %lu",
                 (unsigned long)atomic_load(&job->pipe.probed),
                 (unsigned long)atomic_load(&job->pipe.k8s));
    fprintf(stderr,
            "%s %s %5.1f%% sent %lu (%.0f p/s) replies %lu (hit %.3f%%)%s drops pcap %lu "
            "queue %lu%s%s\n",
            final ? "done" : "", el, pct, (unsigned long)sent, rate, (unsigned long)unique,
            sent ? 100.0 * (double)unique / (double)sent : 0.0, probed,
            (unsigned long)(atomic_load(&c->pcap_drops) + atomic_load(&c->pcap_ifdrops)),
            (unsigned long)atomic_load(&c->queue_drops), final ? "" : " ETA ",
            final ? "" : eta);
}

/* ---- the scan record and checkpoints ---- */

/* Open descriptors of this process. /proc/self/fd may be closed to us
 * after the switch of user (the process is no longer dumpable); then every
 * descriptor number below the limit is asked. -1 if neither works. */
static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
            n += e->d_name[0] != '.';
        closedir(d);
        return n - 1; /* the directory's own */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    rlim_t limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1u << 20)
                                                                              : rl.rlim_cur;
    int n = 0;
    for (rlim_t fd = 0; fd < limit; fd++)
        n += fcntl((int)fd, F_GETFD) >= 0;
    return n;
}

static json_t *count_or_null(int n)
{
    return n < 0 ? json_null() : json_integer(n);
}

/* The probes so far: how each ended, and the connection retries (a
 * retried probe counts once, by how it ended). NULL when out of memory. */
static json_t *probing_json(struct scan_job *job)
{
    struct probe_pool_stats s;
    scan_pipeline_probe_stats(&job->pipe, &s);
    json_t *outcomes = json_object();
    for (int i = 0; outcomes && i < PROBE_OUTCOME_COUNT; i++)
        if (json_object_set_new(outcomes, probe_outcome_name(i),
                                json_integer((json_int_t)s.by_outcome[i])) < 0) {
            json_decref(outcomes);
            return NULL;
        }
    return outcomes ? json_pack("{s:o,s:I,s:I}", "outcomes", outcomes, "retries",
                                (json_int_t)s.retries, "recovered", (json_int_t)s.recovered)
                    : NULL;
}

/* What the process used: peak resident memory so far and the descriptors
 * around the probe pipeline (docs/reliability.md, "Hostile endpoints at
 * scale"). */
static json_t *process_json(const struct scan_job *job)
{
    struct rusage ru;
    long peak = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1; /* KiB on Linux */
    return json_pack("{s:o,s:o,s:o}", "peak_rss_kib", peak < 0 ? json_null() : json_integer(peak),
                     "fds_before_probes", count_or_null(job->fds_before_probes),
                     "fds_after_probes", count_or_null(job->fds_after_probes));
}

/* The JSON of this run's scan record in `state`. A resumed scan keeps its
 * first start time and the earlier runs' counters. */
static json_t *scan_record(struct scan_job *job, const char *state, double end)
{
    struct scan_record r;
    if (scan_record_of_run(&r, job->opts, job->space, &job->cfg, &job->counters, job->start,
                           end, job->scan_status < 0 ? job->err : NULL,
                           atomic_load(&job->stop) != 0) != 0)
        return NULL;
    r.process = process_json(job);
    scan_record_set_present(&r, "process");
    if (!job->opts->syn_only) {
        r.probing = probing_json(job);
        scan_record_set_present(&r, "probing");
    }
    const struct scan_record *prev = job->previous_loaded ? &job->previous : NULL;
    if (prev && prev->started) {
        free(r.started);
        r.started = strdup(prev->started);
    }
    if (prev) {
        r.previous_runs = prev->previous_runs ? json_copy(prev->previous_runs) : json_array();
        if (r.previous_runs && prev->counters)
            json_array_append(r.previous_runs, prev->counters);
        scan_record_set_present(&r, "previous_runs");
    }
    char when[32];
    iso_time(job->checkpoints.time ? job->checkpoints.time : job->start, when,
             sizeof(when));
    r.state = strdup(state);
    r.checkpoint = json_pack("{s:I,s:s}", "walk_position", (json_int_t)job->checkpoints.position,
                             "time", when);
    scan_record_set_present(&r, "state");
    scan_record_set_present(&r, "checkpoint");
    json_t *j = r.state && r.checkpoint && r.started && r.process &&
                     (job->opts->syn_only || r.probing) && (!prev || r.previous_runs)
                    ? scan_record_to_json(&r)
                    : NULL;
    scan_record_free(&r);
    return j;
}

static int commit_record(struct scan_job *job, const char *state, double end, char *err)
{
    json_t *j = scan_record(job, state, end);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text) {
        snprintf(err, KS_ERRLEN, "out of memory for the scan record");
        return -1;
    }
    int rc = store_writer_checkpoint(job->writer, text, err);
    free(text);
    return rc;
}

/* Once a second: a sample, and a commit when a newer position is safe
 * (pipeline.h, checkpoints). */
static void checkpoint_tick(struct scan_job *job, double now)
{
    uint64_t position;
    if (!checkpoints_sample(&job->checkpoints, now,
                            scan_checkpoint_position(&job->cfg, &job->counters),
                            atomic_load(&job->pipe.pushed), scan_pipeline_handled(&job->pipe),
                            &position))
        return;
    char err[KS_ERRLEN];
    if (commit_record(job, "running", 0, err) < 0 && !job->opts->quiet)
        cli_message("checkpoint failed: %s", err);
}

/* SIGHUP: read the --opt-out file again and hand the list to the engine.
 * A file that does not load leaves the list in force as it was. The
 * message of success is said once the engine has taken the list: from then
 * on no probe goes to its addresses (tests wait for it). */
static void reload_opt_out(struct scan_job *job)
{
    const char *path = job->opts->opt_out;
    char err[KS_ERRLEN];
    if (!path) {
        cli_message("SIGHUP: no --opt-out file to reload");
        return;
    }
    struct ip_list fresh;
    ip_list_init(&fresh);
    if (ip_list_load_file(&fresh, path, err) < 0) {
        cli_message("opt-out reload failed, the previous list stays in force: %s", err);
        ip_list_free(&fresh);
        return;
    }
    ip_list_normalize(&fresh);
    size_t ranges = fresh.count;
    uint64_t addresses = ip_list_size(&fresh);
    if (scan_set_opt_out(job->scan, &fresh, err) < 0) {
        cli_message("opt-out reload failed, the previous list stays in force: %s", err);
        ip_list_free(&fresh);
        return;
    }
    cli_message("opt-out list %s reloaded: %zu ranges, %llu addresses", path, ranges,
                (unsigned long long)addresses);
}

/* Waits for the scan thread, printing status, honouring signals (the first
 * SIGINT stops sending and the cooldown still runs; the second ends it;
 * SIGHUP reloads the opt-out list) and writing checkpoints. */
static void supervise(struct scan_job *job)
{
    double next_tick = job->start + 1;
    while (!atomic_load(&job->scan_finished)) {
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
        if (atomic_exchange(&reload_requests, 0) > 0)
            reload_opt_out(job);
        int sigs = atomic_load(&signal_count);
        if (sigs > 0 && atomic_load(&job->stop) < (sigs > 1 ? 2 : 1)) {
            atomic_store(&job->stop, sigs > 1 ? 2 : 1);
            if (!job->opts->quiet)
                cli_message("%s",
                        sigs > 1 ? "stopping now"
                                 : "stopping; waiting for late replies (Ctrl-C again to skip)");
        }
        double now = now_wall();
        if (now < next_tick)
            continue;
        next_tick += 1;
        if (!job->opts->quiet)
            print_status(job, now - job->start, false);
        if (job->writer)
            checkpoint_tick(job, now);
    }
}

/* ---- opening the store, resuming ---- */

struct last_scan {
    uint32_t id;
    json_t *json;
};

static int keep_last_scan(void *ctx, const struct store_scan *scan)
{
    struct last_scan *last = ctx;
    json_decref(last->json);
    last->id = scan->id;
    last->json = json_loads(scan->json, 0, NULL);
    return 0;
}

static int resume_prepare(struct scan_job *job, char *err)
{
    struct last_scan last = {0, NULL};
    if (store_scan_foreach(job->store, keep_last_scan, &last, err) < 0)
        return -1;
    if (!last.json) {
        snprintf(err, KS_ERRLEN, "cannot resume: %s holds no scan", job->opts->db);
        return -1;
    }
    struct scan_record was, now;
    int rc = scan_record_from_json(&was, last.json, err);
    json_decref(last.json);
    if (rc != 0)
        return -1;
    json_t *cp = was.checkpoint ? json_object_get(was.checkpoint, "walk_position") : NULL;
    if (!was.state || !strcmp(was.state, "done") || !json_is_integer(cp)) {
        snprintf(err, KS_ERRLEN, "cannot resume: the last scan in %s (id %u) %s",
                 job->opts->db, last.id,
                 was.state && !strcmp(was.state, "done") ? "is complete" : "has no checkpoint");
        scan_record_free(&was);
        return -1;
    }
    struct scan_options *o = job->opts;
    if (!o->seed_given && was.seed) /* not given again: take the interrupted scan's */
        o->seed = strtoull(was.seed, NULL, 10);
    if (scan_record_of_options(&now, o) != 0) {
        snprintf(err, KS_ERRLEN, "out of memory");
        scan_record_free(&was);
        return -1;
    }
    rc = scan_record_resume_check(&was, &now, err);
    scan_record_free(&now);
    if (rc != 0) {
        scan_record_free(&was);
        return -1;
    }
    job->scan_id = last.id;
    job->checkpoints.position = (uint64_t)json_integer_value(cp);
    job->previous = was;
    job->previous_loaded = true;
    return 0;
}

/* After the switch of user: the store is open; resume or create the scan. */
static int start_record(struct scan_job *job, char *err)
{
    if (job->opts->resume) {
        if (resume_prepare(job, err) < 0)
            return -1;
        job->cfg.start_position = job->checkpoints.position;
        job->cfg.seed = job->opts->seed; /* perhaps taken from the stored scan */
        if (!job->opts->quiet)
            cli_message("resuming scan %u of %s at walk position %llu",
                    job->scan_id, job->opts->db, (unsigned long long)job->checkpoints.position);
    } else {
        json_t *j = scan_record(job, "running", 0);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        int rc = text ? store_scan_create(job->store, text, &job->scan_id, err) : -1;
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The opt-out file is read again, by path, on SIGHUP: after the switch of
 * user it must still be readable, or the first reload would fail. */
static int check_opt_out_readable(struct scan_job *job, char *err)
{
    const char *path = job->opts->opt_out;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (path && !f) {
        snprintf(err, KS_ERRLEN, "--opt-out %s: %s as user %s: it is read again on SIGHUP, "
                 "so it (and its directories) must be readable by that user", path,
                 strerror(errno), job->user.switch_user ? job->user.name : "(unchanged)");
        return -1;
    }
    if (f)
        fclose(f);
    return 0;
}

/* ---- the command ---- */

/* The last step: the final record (state done or interrupted). */
static int finish_store(struct scan_job *job, double end, char *err)
{
    int rc = 0;
    if (job->writer) {
        bool interrupted = atomic_load(&job->stop) != 0 || job->scan_status < 0;
        /* A full cooldown ran (or the scan ended normally): every probe sent
         * is accounted for. After a second Ctrl-C keep the last safe point. */
        if (atomic_load(&job->stop) < 2 && job->scan_status == 0)
            job->checkpoints.position = scan_checkpoint_position(&job->cfg, &job->counters);
        job->checkpoints.time = end;
        rc = commit_record(job, interrupted ? "interrupted" : "done", end, err);
        char ferr[KS_ERRLEN];
        if (store_writer_finish(job->writer, ferr) < 0 && rc == 0) {
            snprintf(err, KS_ERRLEN, "%s", ferr);
            rc = -1;
        }
        job->writer = NULL;
        /* A small scan leaves free pages (the certificates stored before
         * the first dictionary, pages its commits copied): give them back.
         * Not being able to is not a failure of the scan. */
        bool shrunk;
        if (rc == 0 && store_finish_file(job->store, &shrunk, ferr) < 0)
            cli_message("note: the store was not shrunk: %s", ferr);
    }
    return rc;
}

/* The engine samples IPv4 hosts only: an IPv6 host is never flagged. */
static bool host_all_ports_open(void *scan, const struct net_addr *addr)
{
    return net_addr_is_ipv4(addr) && scan_all_ports_open(scan, net_addr_ipv4_value(addr));
}

/* Everything that needs a privilege happens here, before privileges_drop:
 * the descriptor limit and opening the store, whose descriptors (the file
 * and its lock file) stay usable as the unprivileged user (the raw sockets
 * and the capture were opened by scan_open, the output files by run_scan).
 * Every thread is created after it, so none keeps a privilege: nothing
 * parses a reply or connects before. Then the writer and the pipeline
 * start. 0 / -1 (said). */
static int start_stages(struct scan_job *job, FILE *out, struct probe_config *pc)
{
    struct scan_options *opts = job->opts;
    char err[KS_ERRLEN];
    if (!opts->syn_only && (probe_pool_reserve_fds(pc, err) < 0 ||
                            (opts->db && store_open(&job->store, opts->db, STORE_READ_WRITE,
                                                    err) < 0)))
        goto fail;
    /* The unprivileged user may not create files in the store's directory:
     * keep the end's rewrite to the minimal file possible (a note if not). */
    char rerr[KS_ERRLEN];
    if (job->store && job->user.switch_user && store_keep_rewrite_rights(job->store, rerr) < 0)
        cli_message("note: the store will not be shrunk at the end: %s", rerr);
    if (privileges_drop(&job->user, err) < 0 || check_opt_out_readable(job, err) < 0 ||
        (job->store && start_record(job, err) < 0))
        goto fail;
    if (job->store &&
        store_writer_start(job->store, job->scan_id, 1000, 200, &job->writer, err) < 0)
        goto fail;
    struct pipeline_config pipe_cfg = {
        .out = out,
        .format = opts->format == FORMAT_JSONL ? PIPELINE_JSONL : PIPELINE_CSV,
        .probe = opts->syn_only ? NULL : pc,
        .writer = job->writer,
        .all_ports_open = job->cfg.port_sample ? host_all_ports_open : NULL,
        .flag_ctx = job->scan,
        .hold = PORT_SAMPLE_WAIT,
    };
    job->fds_before_probes = count_open_fds();
    if (scan_pipeline_start(&job->pipe, &pipe_cfg, err) < 0)
        goto fail;
    job->pipe_started = true;
    return 0;
fail:
    cli_message("%s", err);
    return -1;
}

/* After the scan thread: drain the pipeline, say how it ended, commit the
 * store's last record and the metadata file. The exit status. */
static int finish_scan(struct scan_job *job)
{
    struct scan_options *opts = job->opts;
    char err[KS_ERRLEN];
    int rc = EXIT_OK;
    if (scan_pipeline_finish(&job->pipe, err) < 0) {
        cli_message("%s", err);
        rc = EXIT_RUNTIME;
    }
    job->fds_after_probes = count_open_fds();
    double end = now_wall();
    if (!opts->quiet)
        print_status(job, end - job->start, true);
    if (job->scan_status < 0) {
        cli_message("%s", job->err);
        rc = EXIT_RUNTIME;
    } else if (atomic_load(&job->stop)) {
        /* Stopped early: the output is valid but incomplete, and scripts
         * must be able to tell. */
        cli_message("interrupted after %lu of %lu probes%s",
                    (unsigned long)atomic_load(&job->counters.sent),
                    (unsigned long)atomic_load(&job->counters.targets_total),
                    job->writer ? "; continue with --resume" : "");
        rc = EXIT_RUNTIME;
    }
    if (finish_store(job, end, err) < 0) {
        cli_message("%s", err);
        rc = EXIT_RUNTIME;
    }
    if (job->metadata) {
        json_t *meta = scan_record(job, rc == EXIT_OK ? "done" : "interrupted", end);
        if (!meta || json_dumpf(meta, job->metadata, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ||
            fflush(job->metadata) != 0) {
            cli_message("cannot write metadata %s: %s", opts->metadata, strerror(errno));
            rc = EXIT_RUNTIME;
        }
        json_decref(meta);
    }
    return rc;
}

/* The output files are opened as the user who started the scan, before
 * the switch; --metadata is created now but filled at the end. */
static int open_outputs(struct scan_job *job, FILE **out)
{
    struct scan_options *opts = job->opts;
    *out = NULL;
    if (opts->output) {
        *out = fopen(opts->output, "w");
        if (!*out) {
            cli_message("cannot write %s: %s", opts->output, strerror(errno));
            return -1;
        }
    } else if (opts->syn_only) {
        *out = stdout;
    }
    if (opts->metadata && !(job->metadata = fopen(opts->metadata, "w"))) {
        cli_message("cannot write metadata %s: %s", opts->metadata, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_scan(struct scan_job *job)
{
    struct scan_options *opts = job->opts;
    char err[KS_ERRLEN];
    FILE *out = NULL;
    int rc = EXIT_RUNTIME;
    struct probe_config pc = opts->probe;
    probe_config_defaults(&pc);
    /* Threads inherit the mask: every one created from here on leaves
     * SIGINT, SIGTERM and SIGHUP to this thread (see the top of the file). */
    sigset_t ours;
    sigemptyset(&ours);
    sigaddset(&ours, SIGINT);
    sigaddset(&ours, SIGTERM);
    sigaddset(&ours, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &ours, NULL);
    if (open_outputs(job, &out) == 0 && start_stages(job, out, &pc) == 0) {
        pthread_t scan_tid;
        int created = pthread_create(&scan_tid, NULL, scan_thread, job);
        pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
        if (created != 0) {
            /* Nothing was sent: the pipeline is empty and ends at once. */
            cli_message("starting the scan thread: %s", strerror(created));
        } else {
            job->checkpoints.cooldown = job->cfg.cooldown;
            supervise(job);
            pthread_join(scan_tid, NULL);
            rc = finish_scan(job);
        }
    }
    pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
    if (job->pipe_started)
        scan_pipeline_free(&job->pipe);
    if (job->writer) {
        store_writer_finish(job->writer, err);
        job->writer = NULL;
    }
    if (out && out != stdout && fclose(out) != 0 && rc == EXIT_OK) {
        cli_message("writing %s: %s", opts->output, strerror(errno));
        rc = EXIT_RUNTIME;
    }
    if (job->metadata && fclose(job->metadata) != 0 && rc == EXIT_OK) {
        cli_message("writing metadata %s: %s", opts->metadata, strerror(errno));
        rc = EXIT_RUNTIME;
    }
    return rc;
}

/* Who to become: --user, else nobody when root; without root (file
 * capabilities) the user stays. Looked up before anything is opened. */
static int choose_user(struct scan_job *job, char *err)
{
    const char *name = job->opts->user;
    if (!name && geteuid() != 0)
        return 0;
    return privileges_user(name ? name : "nobody", &job->user, err);
}

/* The statistics of this scan will judge support as of today: say now if
 * the built-in calendars are too old for that, not weeks later. */
static void warn_stale_data(void)
{
    char err[KS_ERRLEN];
    struct lifecycle *lc;
    if (lifecycle_load(&lc, NULL, err) != 0)
        return; /* the built-in copy is checked by every test; stats reports it */
    tool_warn_stale_data(lc, (int32_t)(time(NULL) / 86400));
    lifecycle_free(lc);
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
        cli_message("%s", err);
        return EXIT_USAGE;
    }
    if (opts.dry_run) {
        rc = scan_dry_run(&opts, &space);
        ip_list_free(&opts.opt_out_list);
        target_space_free(&space);
        return rc;
    }
    if (!opts.syn_only)
        warn_stale_data();
    struct scan_job *job = calloc(1, sizeof(*job));
    if (!job) {
        cli_message("out of memory");
        rc = EXIT_RUNTIME;
        goto out;
    }
    job->opts = &opts;
    job->space = &space;
    job->fds_before_probes = job->fds_after_probes = -1;
    job->start = now_wall();
    if (choose_user(job, err) < 0 || scan_options_config(&opts, &space, &job->cfg, err) < 0 ||
        scan_open(&job->scan, &job->cfg, err) < 0 ||
        scan_set_opt_out(job->scan, &opts.opt_out_list, err) < 0) {
        cli_message("%s", err);
        rc = EXIT_RUNTIME;
        goto out;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A server closing while we write must fail that write, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    rc = run_scan(job);
out:
    if (job) {
        scan_close(job->scan);
        if (job->store)
            store_close(job->store);
        if (job->previous_loaded)
            scan_record_free(&job->previous);
        free(job);
    }
    ip_list_free(&opts.opt_out_list);
    target_space_free(&space);
    return rc;
}
