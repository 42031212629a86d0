/*
 * store_driver.c - drives the store from the test scripts (built for tests
 * only):
 *
 *   store_driver write DB STATE [MAX]   write records through store_writer
 *        (groups of 1000 records or 20 ms), checkpoint every 4999 records;
 *        whenever store_writer_committed() or a returned checkpoint shows
 *        more records committed, record "SCAN COUNT" in STATE (atomically,
 *        by rename). Records are queued in order by one thread, so COUNT
 *        committed means records 0..COUNT-1. Meant to be killed with SIGKILL
 *        at any point.
 *        Stops at MAX records (default 2,000,000) and at the first error
 *        (printed on stdout, exit 3).
 *   store_driver verify DB STATE        every record 0..COUNT-1 of SCAN is
 *        there, decodes, and equals what write wrote.
 *   store_driver fill DB N              N records with real X.509 chains,
 *        finished normally; prints the scan id.
 *   store_driver read DB SECONDS        reads the whole store repeatedly
 *        while something else writes; fails on a corrupt record or a
 *        count that goes backwards.
 *
 * Exit: 0 ok, 1 verification failed or error, 2 usage.
 */
#include "storage/storage.h"
#include "tests/storage/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE_ADDR 0xC6120000u   /* 198.18.0.0 */
#define CERT_POOL 3000u

static void record_for(struct probe_result *r, uint64_t i)
{
    size_t lengths[2];
    uint8_t *ders[2];
    ders[0] = fixture_blob_cert((unsigned)(i % CERT_POOL), &lengths[0]);
    ders[1] = fixture_blob_cert(100000u + (unsigned)(i % 7), &lengths[1]);
    fixture_result(r, (uint32_t)i, BASE_ADDR + (uint32_t)i, 443, ders, lengths, 2);
    free(ders[0]);
    free(ders[1]);
}

static int write_state(const char *path, uint32_t scan, uint64_t count)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u %llu\n", scan, (unsigned long long)count);
    if (fclose(f))
        return -1;
    return rename(tmp, path);
}

static int do_write(const char *db, const char *state, uint64_t max)
{
    char err[KS_ERRLEN];
    struct store *store;
    struct store_writer *w;
    uint32_t scan;
    if (store_open(&store, db, STORE_READ_WRITE, err)) {
        printf("%s\n", err);
        return 3;
    }
    store_set_dict_training(store, 500);
    if (store_scan_create(store, "{\"note\":\"crash test\",\"position\":0}", &scan, err) ||
        store_writer_start(store, scan, 1000, 20, &w, err)) {
        printf("%s\n", err);
        store_close(store);
        return 3;
    }
    write_state(state, scan, 0);
    int status = 0;
    uint64_t i, reported = 0;
    for (i = 0; i < max; i++) {
        struct probe_result r;
        record_for(&r, i);
        if (store_writer_put(w, &r, err)) {
            probe_result_free(&r);
            status = 3;
            break;
        }
        if (i % 100 == 0 && store_writer_committed(w) > reported) {
            reported = store_writer_committed(w);
            write_state(state, scan, reported);
        }
        if ((i + 1) % 4999 == 0) {
            char json[128];
            snprintf(json, sizeof(json), "{\"note\":\"crash test\",\"position\":%llu}",
                     (unsigned long long)(i + 1));
            if (store_writer_checkpoint(w, json, err)) {
                status = 3;
                break;
            }
            reported = i + 1;
            write_state(state, scan, reported);
        }
    }
    char finish_err[KS_ERRLEN];
    if (store_writer_finish(w, finish_err) && status == 0) {
        snprintf(err, sizeof(err), "%s", finish_err);
        status = 3;
    }
    if (status == 0)
        write_state(state, scan, i);
    else
        printf("%s\n", err);
    store_close(store);
    return status;
}

static int do_verify(const char *db, const char *state)
{
    unsigned scan;
    unsigned long long count;
    FILE *f = fopen(state, "r");
    if (!f || fscanf(f, "%u %llu", &scan, &count) != 2) {
        fprintf(stderr, "verify: cannot read %s\n", state);
        if (f)
            fclose(f);
        return 1;
    }
    fclose(f);
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, db, STORE_READ_ONLY, err)) {
        fprintf(stderr, "verify: %s\n", err);
        return 1;
    }
    int status = 0;
    for (unsigned long long i = 0; i < count && status == 0; i++) {
        struct probe_result expect, got;
        record_for(&expect, i);
        bool found;
        struct net_addr addr = net_addr_ipv4(BASE_ADDR + (uint32_t)i);
        int rc = store_host_get(store, scan, &addr, 443, STORE_WITH_CERTS,
                                &got, &found, err);
        const char *diff = rc == 0 && found ? fixture_result_diff(&expect, &got) : NULL;
        if (rc != 0 || !found || diff) {
            fprintf(stderr, "verify: scan %u record %llu: %s\n", scan, i,
                    rc != 0 ? err : !found ? "missing" : diff);
            status = 1;
        }
        probe_result_free(&expect);
        probe_result_free(&got);
    }
    store_close(store);
    if (status == 0)
        printf("verified %llu committed records of scan %u\n", count, scan);
    return status;
}

static int do_fill(const char *db, uint64_t n)
{
    char err[KS_ERRLEN];
    struct store *store;
    struct store_writer *w;
    uint32_t scan;
    uint8_t *pool[40];
    size_t pool_lengths[40];
    for (unsigned k = 0; k < 40; k++)
        pool[k] = fixture_x509(k, &pool_lengths[k]);
    int status = 0;
    if (store_open(&store, db, STORE_READ_WRITE, err)) {
        fprintf(stderr, "fill: %s\n", err);
        status = 1;
        goto out;
    }
    if (store_scan_create(store, "{\"started\":\"2026-11-29T12:00:00Z\",\"ended\":"
                          "\"2026-11-29T12:05:00Z\",\"shard\":\"1/1\",\"counters\":"
                          "{\"sent\":1000,\"open\":42}}", &scan, err) ||
        store_writer_start(store, scan, 256, 10, &w, err)) {
        fprintf(stderr, "fill: %s\n", err);
        store_close(store);
        status = 1;
        goto out;
    }
    for (uint64_t i = 0; i < n && status == 0; i++) {
        struct probe_result r;
        uint8_t *ders[2] = {pool[i % 40], pool[(i + 1) % 40]};
        size_t lengths[2] = {pool_lengths[i % 40], pool_lengths[(i + 1) % 40]};
        fixture_result(&r, (uint32_t)i, BASE_ADDR + (uint32_t)i, 6443, ders, lengths, 2);
        if (store_writer_put(w, &r, err)) {
            fprintf(stderr, "fill: %s\n", err);
            probe_result_free(&r);
            status = 1;
        }
    }
    if (store_writer_finish(w, err)) {
        fprintf(stderr, "fill: %s\n", err);
        status = 1;
    }
    store_close(store);
    if (status == 0)
        printf("%u\n", scan);
out:
    for (unsigned k = 0; k < 40; k++)
        free(pool[k]);
    return status;
}

static int count_one(void *ctx, uint32_t scan_id, const struct probe_result *r)
{
    (void)scan_id;
    (void)r;
    (*(uint64_t *)ctx)++;
    return 0;
}

static int do_read(const char *db, double seconds)
{
    char err[KS_ERRLEN];
    struct store *store;
    if (store_open(&store, db, STORE_READ_ONLY, err)) {
        fprintf(stderr, "read: %s\n", err);
        return 1;
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t last = 0, passes = 0;
    int status = 0;
    do {
        uint64_t count = 0;
        struct store_read_stats stats;
        if (store_hosts_foreach(store, 0, STORE_WITH_CERTS, count_one, &count, &stats, err)) {
            fprintf(stderr, "read: %s\n", err);
            status = 1;
        } else if (stats.corrupt || count < last) {
            fprintf(stderr, "read: pass %llu: %llu corrupt, %llu records after %llu\n",
                    (unsigned long long)passes, (unsigned long long)stats.corrupt,
                    (unsigned long long)count, (unsigned long long)last);
            status = 1;
        }
        last = count;
        passes++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (status == 0 &&
             (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
    store_close(store);
    if (status == 0)
        printf("read %llu passes, last saw %llu records\n", (unsigned long long)passes,
               (unsigned long long)last);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "write"))
        return do_write(argv[2], argv[3], argc > 4 ? strtoull(argv[4], NULL, 10) : 2000000);
    if (argc == 4 && !strcmp(argv[1], "verify"))
        return do_verify(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "fill"))
        return do_fill(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 4 && !strcmp(argv[1], "read"))
        return do_read(argv[2], atof(argv[3]));
    fprintf(stderr, "usage: store_driver write DB STATE [MAX] | verify DB STATE | fill DB N | "
            "read DB SECONDS\n");
    return 2;
}
