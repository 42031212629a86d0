/*
 * hitlist_bench.c - memory of a large --hitlist: bytes per address.
 *
 *   hitlist_bench [-n COUNT] [-f FILE] [-k]
 *
 * Writes COUNT (default 100,000,000) distinct pseudo-random global IPv6
 * addresses to FILE (default /tmp/ks-hitlist-bench.txt; -k keeps it, and an
 * existing FILE of the right count is reused), one per line as the IPv6
 * Hitlist service writes them, then loads it as `kubesurvey scan --hitlist`
 * does (hitlist_load_file, then target_space_init_hitlist with the built-in
 * blocklist and one port: sorted in place, duplicates dropped) and prints
 * the process's resident memory before, after and at its peak (VmRSS,
 * VmHWM from /proc/self/status) per address, and the times. Issue 20's bar:
 * at most 20 bytes an address.
 */
#include "engine/engine.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, field, n) && line[n] == ':')
            kib = atol(line + n + 1);
    if (f)
        fclose(f);
    return kib;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Distinct addresses: a bijective mix of i (splitmix64's finaliser) in the
 * low 64 bits, under 2a00::/12-style global prefixes. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int write_file(const char *path, uint64_t count)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# hitlist_bench: %llu addresses\n", (unsigned long long)count);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t lo = mix(i), hi = 0x2a00000000000000ULL | (mix(i ^ 0x5555) & 0x000fffff0000ffffULL);
        uint8_t b[16];
        for (int k = 0; k < 8; k++) {
            b[k] = (uint8_t)(hi >> (56 - 8 * k));
            b[8 + k] = (uint8_t)(lo >> (56 - 8 * k));
        }
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, b, text, sizeof(text));
        fputs(text, f);
        fputc('\n', f);
    }
    return fclose(f);
}

int main(int argc, char **argv)
{
    uint64_t count = 100000000ULL;
    const char *path = "/tmp/ks-hitlist-bench.txt";
    bool keep = false;
    int opt;
    while ((opt = getopt(argc, argv, "n:f:k")) != -1) {
        switch (opt) {
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 'f': path = optarg; break;
        case 'k': keep = true; break;
        default:
            fprintf(stderr, "usage: hitlist_bench [-n COUNT] [-f FILE] [-k]\n");
            return 2;
        }
    }
    char err[KS_ERRLEN];
    FILE *probe = fopen(path, "r");
    char first[80] = "";
    if (probe) {
        if (!fgets(first, sizeof(first), probe))
            first[0] = '\0';
        fclose(probe);
    }
    char want[80];
    snprintf(want, sizeof(want), "# hitlist_bench: %llu addresses\n", (unsigned long long)count);
    double t0 = now();
    if (strcmp(first, want) != 0 && write_file(path, count) != 0) {
        fprintf(stderr, "hitlist_bench: cannot write %s\n", path);
        return 1;
    }
    double t_write = now() - t0;
    struct stat st;
    stat(path, &st);

    long rss0 = status_kib("VmRSS");
    struct hitlist h;
    hitlist_init(&h);
    t0 = now();
    if (hitlist_load_file(&h, path, err) < 0) {
        fprintf(stderr, "hitlist_bench: %s\n", err);
        return 1;
    }
    double t_load = now() - t0;
    long rss_loaded = status_kib("VmRSS");
    struct ip_list allow, block;
    ip_list_init(&allow);
    ip_list_init(&block);
    if (ip_list_add_reserved(&block, err) < 0)
        return 1;
    ip_list_normalize(&block);
    struct port_list ports;
    if (port_list_parse(&ports, "443", err) < 0)
        return 1;
    struct target_space *space = calloc(1, sizeof(*space));
    t0 = now();
    if (!space || target_space_init_hitlist(space, &allow, &h, &block, &ports, err) < 0) {
        fprintf(stderr, "hitlist_bench: %s\n", err);
        return 1;
    }
    double t_space = now() - t0;
    long rss_space = status_kib("VmRSS"), peak = status_kib("VmHWM");
    double n = (double)count;
    printf("hitlist_bench: %llu addresses, file %.0f MB (written in %.1f s%s)\n",
           (unsigned long long)count, st.st_size / 1e6, t_write,
           strcmp(first, want) ? "" : ", reused");
    printf("  load %.1f s, sort + dedupe + blocklist %.1f s; %llu targets in the space\n", t_load,
           t_space, (unsigned long long)space->size);
    printf("  bytes per address: loaded %.2f, in the target space %.2f, peak %.2f "
           "(resident memory growth over the %ld KiB before)\n",
           (rss_loaded - rss0) * 1024.0 / n, (rss_space - rss0) * 1024.0 / n,
           (peak - rss0) * 1024.0 / n, rss0);
    target_space_free(space);
    free(space);
    port_list_free(&ports);
    ip_list_free(&block);
    if (!keep)
        unlink(path);
    return 0;
}
