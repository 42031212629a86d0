/*
 * rxmeter.c - packets per second arriving on an interface, measured from
 * outside the sender.
 *
 *   ks_rxmeter [-i INTERVAL_MS] [-t MAX_SECONDS] IFACE
 *
 * Run it in the target namespace on the veth end that receives the scanner's
 * packets. It samples /sys/class/net/IFACE/statistics/rx_packets every
 * INTERVAL_MS (default 2) until SIGINT/SIGTERM or MAX_SECONDS (default 300),
 * then prints one line:
 *
 *   packets=N pps=R window=S
 *
 * N is every packet received while it ran. R is the rate over the busy
 * window: from the moment 0.5% of the packets had arrived to the moment
 * 99.5% had, so a stray ARP or late RST seconds later does not dilute it;
 * S is that window in seconds. Sampling costs one pread per interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sample {
    double t;
    uint64_t count;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_counter(int fd, uint64_t *out)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    *out = strtoull(buf, NULL, 10);
    return 0;
}

/* Time at which the cumulative count first reaches `level`, interpolated
 * linearly inside the sample interval where it happens. */
static double time_at_level(const struct sample *s, size_t n, double level)
{
    for (size_t i = 1; i < n; i++) {
        if ((double)s[i].count < level)
            continue;
        double c0 = (double)s[i - 1].count, c1 = (double)s[i].count;
        double f = c1 > c0 ? (level - c0) / (c1 - c0) : 1;
        return s[i - 1].t + f * (s[i].t - s[i - 1].t);
    }
    return s[n - 1].t;
}

int main(int argc, char **argv)
{
    long interval_ms = 2;
    double max_seconds = 300;
    int opt;
    while ((opt = getopt(argc, argv, "i:t:")) != -1) {
        switch (opt) {
        case 'i': interval_ms = atol(optarg); break;
        case 't': max_seconds = atof(optarg); break;
        default: goto usage;
        }
    }
    if (optind != argc - 1 || interval_ms < 1 || interval_ms > 1000 || !(max_seconds > 0) ||
        max_seconds > 3600 || strchr(argv[optind], '/'))
        goto usage;

    char path[256];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/rx_packets", argv[optind]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "ks_rxmeter: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = (size_t)(max_seconds * 1000 / interval_ms) + 2, n = 0;
    struct sample *s = calloc(cap, sizeof *s);
    if (!s) {
        fprintf(stderr, "ks_rxmeter: out of memory\n");
        close(fd);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    double start = now_seconds();
    struct timespec pause = {.tv_sec = interval_ms / 1000, .tv_nsec = (interval_ms % 1000) * 1000000L};
    while (n < cap) {
        uint64_t c;
        if (read_counter(fd, &c)) {
            fprintf(stderr, "ks_rxmeter: cannot read %s\n", path);
            break;
        }
        s[n++] = (struct sample){.t = now_seconds() - start, .count = c};
        if (stop_requested || s[n - 1].t >= max_seconds)
            break;
        nanosleep(&pause, NULL);
    }
    close(fd);

    uint64_t base = s[0].count, total = s[n - 1].count - base;
    for (size_t i = 0; i < n; i++)
        s[i].count -= base;
    double window = 0, pps = 0;
    if (total > 0 && n > 1) {
        double t0 = time_at_level(s, n, 0.005 * (double)total);
        double t1 = time_at_level(s, n, 0.995 * (double)total);
        window = t1 - t0;
        if (window > 0)
            pps = 0.99 * (double)total / window;
    }
    printf("packets=%" PRIu64 " pps=%.0f window=%.3f\n", total, pps, window);
    free(s);
    return 0;

usage:
    fprintf(stderr, "usage: ks_rxmeter [-i INTERVAL_MS (1-1000)] [-t MAX_SECONDS (<=3600)] IFACE\n");
    return 2;
}
