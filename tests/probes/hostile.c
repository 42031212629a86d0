/*
 * hostile.c - servers that misbehave, one behaviour per port, for the probe
 * tests. Run inside the target namespace; bound to 0.0.0.0 so every test
 * address answers. A thread per connection, blocking I/O: the tests open a
 * handful of connections, and each behaviour is bounded in time.
 *
 *   usage: hostile BASEPORT SECONDS
 *   BASEPORT+0  silent: accept, never send
 *   BASEPORT+1  slow: TLS, then the response one byte per second
 *   BASEPORT+2  endless body: TLS, headers, then body bytes forever
 *   BASEPORT+3  huge headers: TLS, status line, then headers forever
 *   BASEPORT+4  50-certificate chain, then a normal /version answer
 *   BASEPORT+5  1 MB chain (50 certificates of ~20 KB)
 *   BASEPORT+6  reset: read the ClientHello, then RST
 *   BASEPORT+7  TLS alert: read the ClientHello, answer handshake_failure
 *   BASEPORT+8  plain HTTP: answer the ClientHello with an HTTP 400
 *   BASEPORT+9  read the request, then close cleanly (close_notify), no response
 *   BASEPORT+10 a version.Info in a chunked response (well-behaved)
 *   BASEPORT+11 a version.Info delimited by closing the connection (HTTP/1.0 style,
 *               no TLS close_notify)
 *   BASEPORT+12 well-behaved: the version.Info with a Content-Length
 *   BASEPORT+13 reset mid-response: read the request, send part of the headers, RST
 *
 *   usage: hostile -a PORT SECONDS
 * One listener on PORT whose behaviour is chosen by the address the client
 * connected to: behaviour_by_class[address & 15] below, so a test that opens
 * many addresses (AnyIP) knows each one's expected outcome. Class 13 is
 * silent here; the test's nftables rule drops every packet with a payload
 * to those addresses, so to the client the server vanished after the TCP
 * handshake (half-open).
 *
 *   usage: hostile [-w] [-d MS] -a PORT SECONDS
 * -w: every address well-behaved (the class 0 server), for benchmarks.
 * -d MS: each server flight waits MS milliseconds after the client's flight
 * has arrived: before the ServerHello (TLS 1.3: the whole server handshake
 * flight), before the HTTP response, before the answers of the reset, alert
 * and plain-HTTP behaviours. So a probe sees MS of round trip on its TLS
 * and HTTP exchanges, as over the internet, with no impairment in the
 * network (this kernel has no netem). The TCP handshake is the kernel's
 * and stays at LAN speed. No session tickets are sent with -d: they would
 * be a server flight not delayed.
 *
 * The process exits after SECONDS.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum behaviour { SILENT, SLOW, ENDLESS_BODY, HUGE_HEADERS, CHAIN50, CHAIN1MB, RESET, ALERT,
                 PLAIN_HTTP, CLOSE_AFTER_HANDSHAKE, CHUNKED, CLOSE_DELIMITED, WELL_BEHAVED,
                 RESET_MID_RESPONSE, BEHAVIOURS, BY_ADDRESS = BEHAVIOURS };

/* -a: the behaviour of an address, by its low 4 bits (tests/probes/
 * test_hostile_scale.sh holds the outcome each class must end in). */
static const enum behaviour behaviour_by_class[16] = {
    WELL_BEHAVED, SILENT, SLOW, ENDLESS_BODY, HUGE_HEADERS, CHAIN50, CHAIN1MB, RESET,
    ALERT, PLAIN_HTTP, CLOSE_AFTER_HANDSHAKE, CHUNKED, CLOSE_DELIMITED, SILENT /* half-open */,
    RESET_MID_RESPONSE, WELL_BEHAVED,
};

/* -d: milliseconds each server flight waits (0: none). */
static int flight_delay_ms;

static void delay_flight(void)
{
    if (flight_delay_ms > 0)
        usleep((useconds_t)flight_delay_ms * 1000);
}

/* Waits (at most 10 s) until the client has sent something. */
static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, 10000);
}

static SSL_CTX *ctx_plain, *ctx_chain50, *ctx_chain1mb;
static EVP_PKEY *key;

static X509 *make_cert(const char *cn, size_t padding)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), rand());
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"hostile-ca", -1, -1, 0);
    if (padding) {
        /* a big Netscape comment makes a big certificate */
        char *text = malloc(padding + 1);
        memset(text, 'p', padding);
        text[padding] = '\0';
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_netscape_comment, text);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        free(text);
    }
    X509_sign(x, key, EVP_sha256());
    return x;
}

static SSL_CTX *make_ctx(int chain_length, size_t padding)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    X509 *leaf = make_cert("hostile", 0);
    SSL_CTX_use_certificate(ctx, leaf);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(leaf);
    for (int i = 1; i < chain_length; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "hostile-chain-%d", i);
        SSL_CTX_add_extra_chain_cert(ctx, make_cert(cn, padding)); /* takes ownership */
    }
    SSL_CTX_set_max_cert_list(ctx, 4 << 20);
    return ctx;
}

struct job {
    int fd;
    enum behaviour what;
};

static void write_all_slowly(SSL *ssl, const char *text)
{
    for (size_t i = 0; text[i] && i < 120; i++) {
        if (SSL_write(ssl, text + i, 1) <= 0)
            return;
        sleep(1);
    }
}

static const char version_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
    "{\"gitVersion\":\"v1.30.2\"}\n\n\n";

/* Reads the HTTP request (up to the blank line or 8 KB). */
static void read_request(SSL *ssl)
{
    char buf[8192];
    size_t have = 0;
    while (have < sizeof(buf) - 1) {
        int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
        if (n <= 0)
            return;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return;
    }
}

static void serve_tls(struct job *j)
{
    SSL_CTX *ctx = j->what == CHAIN50 ? ctx_chain50 : j->what == CHAIN1MB ? ctx_chain1mb : ctx_plain;
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, j->fd);
    if (flight_delay_ms > 0) {
        wait_readable(j->fd); /* the ClientHello */
        delay_flight();
    }
    if (SSL_accept(ssl) != 1)
        goto out;
    read_request(ssl);
    delay_flight();
    if (j->what == CLOSE_AFTER_HANDSHAKE) {
        SSL_shutdown(ssl); /* a clean close_notify, then FIN */
        goto out;
    }
    switch (j->what) {
    case SLOW:
        write_all_slowly(ssl, version_response);
        break;
    case ENDLESS_BODY: {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n";
        SSL_write(ssl, head, (int)strlen(head));
        char block[4096];
        memset(block, '[', sizeof(block));
        for (int i = 0; i < 100000; i++) /* 400 MB at most */
            if (SSL_write(ssl, block, sizeof(block)) <= 0)
                break;
        break;
    }
    case HUGE_HEADERS: {
        const char *status = "HTTP/1.1 200 OK\r\n";
        SSL_write(ssl, status, (int)strlen(status));
        char line[1024];
        memset(line, 'h', sizeof(line));
        memcpy(line, "X-Junk: ", 8);
        memcpy(line + sizeof(line) - 2, "\r\n", 2);
        for (int i = 0; i < 100000; i++)
            if (SSL_write(ssl, line, sizeof(line)) <= 0)
                break;
        break;
    }
    case CHUNKED: {
        static const char chunked[] =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            "d\r\n{\"gitVersion\"\r\n" "f\r\n:\"v1.27.3+k3s1\"\r\n" "1\r\n}\r\n" "0\r\n\r\n";
        SSL_write(ssl, chunked, (int)strlen(chunked));
        break;
    }
    case RESET_MID_RESPONSE: {
        static const char part[] = "HTTP/1.1 200 OK\r\nContent-Type: appl";
        SSL_write(ssl, part, (int)strlen(part));
        usleep(200000); /* the part arrives well before the reset */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(j->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        break;
    }
    case CLOSE_DELIMITED: {
        static const char closed[] = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
                                     "{\"gitVersion\":\"v1.26.1-gke.1500\"}";
        SSL_write(ssl, closed, (int)strlen(closed));
        /* no close_notify: the end of the body is a bare TCP close */
        break;
    }
    default:
        SSL_write(ssl, version_response, (int)strlen(version_response));
        break;
    }
out:
    SSL_free(ssl);
}

/* Waits for the ClientHello (some bytes) so the client is mid-handshake. */
static void wait_client_hello(int fd)
{
    char buf[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        (void)n;
    }
    delay_flight();
}

static void *serve(void *arg)
{
    struct job *j = arg;
    switch (j->what) {
    case SILENT: {
        char buf[4096];
        struct pollfd p = {.fd = j->fd, .events = POLLIN};
        /* hold the connection until the client gives up (or 60 s) */
        for (int i = 0; i < 60 && poll(&p, 1, 1000) >= 0; i++)
            if ((p.revents & (POLLIN | POLLHUP)) && read(j->fd, buf, sizeof(buf)) <= 0)
                break;
        break;
    }
    case RESET: {
        wait_client_hello(j->fd);
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(j->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        break;
    }
    case ALERT: {
        wait_client_hello(j->fd);
        static const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
        ssize_t n = write(j->fd, alert, sizeof(alert));
        (void)n;
        sleep(1);
        break;
    }
    case PLAIN_HTTP: {
        wait_client_hello(j->fd);
        static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n";
        ssize_t n = write(j->fd, reply, sizeof(reply) - 1);
        (void)n;
        sleep(1);
        break;
    }
    default:
        serve_tls(j);
        break;
    }
    close(j->fd);
    free(j);
    return NULL;
}

struct listener {
    int fd;
    enum behaviour what;      /* BY_ADDRESS: chosen per connection */
};

/* Small stacks: with -a, thousands of connections are served at once. */
static pthread_attr_t thread_attr;

/* The behaviour of the address the client connected to (-a). */
static enum behaviour behaviour_of_address(int fd)
{
    struct sockaddr_in local;
    socklen_t length = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &length) < 0)
        return SILENT;
    return behaviour_by_class[ntohl(local.sin_addr.s_addr) & 15];
}

static void *accept_loop(void *arg)
{
    struct listener *l = arg;
    for (;;) {
        int fd = accept(l->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
                usleep(10000); /* wait for connections to end */
                continue;
            }
            return NULL;
        }
        struct job *j = malloc(sizeof(*j));
        if (!j) {
            close(fd);
            continue;
        }
        j->fd = fd;
        j->what = l->what == BY_ADDRESS ? behaviour_of_address(fd) : l->what;
        pthread_t t;
        if (pthread_create(&t, &thread_attr, serve, j) != 0) {
            fprintf(stderr, "hostile: cannot start a thread: a connection dropped\n");
            close(fd);
            free(j);
            continue;
        }
        pthread_detach(t);
    }
}

/* Listens on 0.0.0.0:port and serves `what` there. 0, or -1 (said). */
static int start_listener(struct listener *l, int port, enum behaviour what)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 65535) < 0) {
        fprintf(stderr, "hostile: port %d: %s\n", port, strerror(errno));
        return -1;
    }
    *l = (struct listener){fd, what};
    pthread_t t;
    if (pthread_create(&t, &thread_attr, accept_loop, l) != 0) {
        fprintf(stderr, "hostile: cannot start the accept thread of port %d\n", port);
        return -1;
    }
    pthread_detach(t);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: hostile BASEPORT SECONDS\n"
                    "       hostile [-w] [-d MS] -a PORT SECONDS\n");
}

int main(int argc, char **argv)
{
    bool by_address = false, all_well = false;
    for (int c; (c = getopt(argc, argv, "ad:w")) != -1;) {
        char *end;
        switch (c) {
        case 'a':
            by_address = true;
            break;
        case 'w':
            all_well = true;
            break;
        case 'd': {
            long ms = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || ms < 0 || ms > 60000) {
                fprintf(stderr, "hostile: -d '%s': want milliseconds, 0-60000\n", optarg);
                return 2;
            }
            flight_delay_ms = (int)ms;
            break;
        }
        default:
            usage();
            return 2;
        }
    }
    if (argc - optind != 2 || ((all_well || flight_delay_ms) && !by_address)) {
        usage();
        return 2;
    }
    int base = atoi(argv[optind]), seconds = atoi(argv[optind + 1]);
    if (base < 1 || base > 65535 - BEHAVIOURS || seconds < 1) {
        fprintf(stderr, "hostile: bad port or SECONDS\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_attr_init(&thread_attr);
    pthread_attr_setstacksize(&thread_attr, 256 * 1024);
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ctx_plain = make_ctx(1, 0);
    ctx_chain50 = make_ctx(50, 0);
    ctx_chain1mb = make_ctx(50, 20000);
    if (!key || !ctx_plain || !ctx_chain50 || !ctx_chain1mb) {
        fprintf(stderr, "hostile: OpenSSL setup failed\n");
        return 1;
    }
    if (flight_delay_ms > 0)
        SSL_CTX_set_num_tickets(ctx_plain, 0);
    static struct listener listeners[BEHAVIOURS];
    if (by_address) {
        if (start_listener(&listeners[0], base, all_well ? WELL_BEHAVED : BY_ADDRESS) < 0)
            return 1;
    } else {
        for (int i = 0; i < BEHAVIOURS; i++)
            if (start_listener(&listeners[i], base + i, (enum behaviour)i) < 0)
                return 1;
    }
    printf("ready\n");
    fflush(stdout);
    sleep((unsigned)seconds);
    return 0;
}
