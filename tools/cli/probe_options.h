/*
 * probe_options.h - private to tools/: the options that configure the probe
 * workers, shared by `kubesurvey scan` and `kubesurvey probe` so both accept
 * the same names, ranges and messages.
 */
#ifndef KS_PROBE_OPTIONS_H
#define KS_PROBE_OPTIONS_H

#include "probes/probes.h"

#include <getopt.h>

/* getopt_long values of the probe options (above any single character). */
enum {
    OPT_PROBE_FIRST = 1000,
    OPT_PROBE_THREADS = OPT_PROBE_FIRST, OPT_PROBE_CONCURRENCY, OPT_PROBE_CONNECT_TIMEOUT,
    OPT_PROBE_HANDSHAKE_TIMEOUT, OPT_PROBE_RESPONSE_TIMEOUT, OPT_PROBE_MAX_BODY,
    OPT_PROBE_RETRIES, OPT_PROBE_USER_AGENT, OPT_PROBE_NO_FAST_KEYS, OPT_PROBE_MODULE,
    OPT_PROBE_LIST_MODULES,
    OPT_PROBE_LAST = OPT_PROBE_LIST_MODULES,
};

#define PROBE_LONG_OPTIONS                                                              \
    {"probe-threads", required_argument, NULL, OPT_PROBE_THREADS},                      \
    {"concurrency", required_argument, NULL, OPT_PROBE_CONCURRENCY},                    \
    {"connect-timeout", required_argument, NULL, OPT_PROBE_CONNECT_TIMEOUT},            \
    {"handshake-timeout", required_argument, NULL, OPT_PROBE_HANDSHAKE_TIMEOUT},        \
    {"response-timeout", required_argument, NULL, OPT_PROBE_RESPONSE_TIMEOUT},          \
    {"max-body", required_argument, NULL, OPT_PROBE_MAX_BODY},                          \
    {"retries", required_argument, NULL, OPT_PROBE_RETRIES},                            \
    {"user-agent", required_argument, NULL, OPT_PROBE_USER_AGENT},                      \
    {"no-fast-keys", no_argument, NULL, OPT_PROBE_NO_FAST_KEYS},                        \
    {"module", required_argument, NULL, OPT_PROBE_MODULE},                              \
    {"modules", no_argument, NULL, OPT_PROBE_LIST_MODULES}

#define PROBE_HELP_STR_(x) #x
#define PROBE_HELP_STR(x) PROBE_HELP_STR_(x)

/* The help of every probe option, with the defaults from probes.h. */
#define PROBE_OPTIONS_HELP                                                              \
    "      --probe-threads N     probe worker threads (default: one per "             \
    PROBE_HELP_STR(PROBE_CONNECTIONS_PER_WORKER) " connections\n"                      \
    "                            in flight, at most the number of CPUs)\n"           \
    "      --concurrency N       connections in flight (default "                      \
    PROBE_HELP_STR(PROBE_DEFAULT_CONCURRENCY) ")\n"                                    \
    "      --connect-timeout MS  TCP connect (default "                                \
    PROBE_HELP_STR(PROBE_DEFAULT_CONNECT_TIMEOUT_MS) ")\n"                             \
    "      --handshake-timeout MS  TLS handshake (default "                            \
    PROBE_HELP_STR(PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS) ")\n"                           \
    "      --response-timeout MS   request to complete response (default "             \
    PROBE_HELP_STR(PROBE_DEFAULT_RESPONSE_TIMEOUT_MS) ")\n"                            \
    "      --max-body BYTES      response body kept (default "                         \
    PROBE_HELP_STR(PROBE_DEFAULT_MAX_BODY_BYTES) ")\n"                                 \
    "      --retries N           new connections after a connect timeout or a silent\n" \
    "                            TLS handshake (default "                              \
    PROBE_HELP_STR(PROBE_RETRIES_DEFAULT) ", at most "                                  \
    PROBE_HELP_STR(PROBE_RETRIES_MAX) ")\n"                                            \
    "      --user-agent TEXT     HTTP User-Agent: name the survey and a contact\n"     \
    "      --no-fast-keys        use OpenSSL 3's own (slower) key decoding, TLS 1.3\n" \
    "                            key schedule and X25519 (docs/probes.md, Cost)\n"    \
    "      --module PORT=NAME    probe PORT with module NAME (repeatable); by default\n" \
    "                            443,6443 apiserver, 10250 kubelet, 10255\n"          \
    "                            kubelet-readonly, 2379 etcd, any other apiserver\n"   \
    "      --modules             list the modules and their default ports, and exit\n"

/* True if opt is one of the probe options. */
static inline int probe_option_is(int opt)
{
    return opt >= OPT_PROBE_FIRST && opt <= OPT_PROBE_LAST;
}

/* Applies a probe option to cfg; 0, or -1 after saying (cli_message)
 * what was wrong, naming the option and the bad value, or 1 when the
 * command is done (--modules printed its list: exit 0). */
int probe_option_apply(struct probe_config *cfg, int opt, const char *arg);

#endif
