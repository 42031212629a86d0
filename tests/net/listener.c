/*
 * listener.c - the servers of the simulated internet's open pairs.
 *
 *   ks_listener [-6] [-t MAX_SECONDS] PORT...
 *
 * Listens on 0.0.0.0 (with -6: on [::], IPv6 only) on each TCP port with a
 * large backlog, accepts whatever
 * completes a handshake and closes it at once. Its only job is that a socket
 * exists, so the target namespace's kernel answers SYN-ACK for the pairs the
 * nftables set `open` lets through (the scanner's kernel then resets them).
 * It exits by itself after MAX_SECONDS (default 600) so a forgotten listener
 * never outlives a test; SIGTERM ends it at once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 1024
#define BACKLOG 65535

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int listen_on(unsigned port, bool ipv6)
{
    int one = 1;
    int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                               .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr *addr = ipv6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa;
    socklen_t len = ipv6 ? sizeof sa6 : sizeof sa;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        (ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) ||
        bind(fd, addr, len) || listen(fd, BACKLOG)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ks_listener [-6] [-t MAX_SECONDS] PORT...\n"
                 "Listens on 0.0.0.0:PORT (TCP; -6: [::]:PORT), accepts and closes; exits after\n"
                 "MAX_SECONDS (default 600).\n");
}

int main(int argc, char **argv)
{
    struct pollfd fds[MAX_PORTS];
    int nfds = 0, opt;
    double max_seconds = 600;
    bool ipv6 = false;

    while ((opt = getopt(argc, argv, "h6t:")) != -1) {
        char *end;
        switch (opt) {
        case '6': ipv6 = true; break;
        case 't':
            max_seconds = strtod(optarg, &end);
            if (*end || !(max_seconds > 0 && max_seconds <= 86400)) {
                fprintf(stderr, "ks_listener: bad -t '%s' (seconds, 0-86400)\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind == argc) {
        usage(stderr);
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        char *end;
        long port = strtol(argv[i], &end, 10);
        if (*end || port < 1 || port > 65535) {
            fprintf(stderr, "ks_listener: bad port '%s'\n", argv[i]);
            return 2;
        }
        if (nfds == MAX_PORTS) {
            fprintf(stderr, "ks_listener: more than %d ports\n", MAX_PORTS);
            return 2;
        }
        int fd = listen_on((unsigned)port, ipv6);
        if (fd < 0) {
            fprintf(stderr, "ks_listener: port %ld: %s\n", port, strerror(errno));
            return 1;
        }
        fds[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
    }

    double deadline = now_seconds() + max_seconds;
    for (double left; (left = deadline - now_seconds()) > 0;) {
        int wait_ms = left > 1 ? 1000 : (int)(left * 1000) + 1;
        int n = poll(fds, (nfds_t)nfds, wait_ms);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "ks_listener: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; n > 0 && i < nfds; i++) {
            if (!(fds[i].revents & POLLIN))
                continue;
            for (int c; (c = accept4(fds[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
                close(c);
        }
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i].fd);
    return 0;
}
