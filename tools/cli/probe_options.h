/*
 * probe_options.h - private to tools/: the options that configure the probe
 * workers, shared by `kubesurvey scan` and `kubesurvey probe` so both accept
 * the same names, ranges, defaults and messages. Their defaults are the
 * probes module's own (probes/probes.h).
 */
#ifndef KS_PROBE_OPTIONS_H
#define KS_PROBE_OPTIONS_H

#include "probes/probes.h"
#include "tools/cli/options.h"

#define PROBE_TEXT_(x) #x
#define PROBE_TEXT(x) PROBE_TEXT_(x)

/* Setters (options.h) of the probe options. Each takes the command's
 * options struct, whose first member must be its struct probe_config. */
int probe_set_threads(void *opts, const char *arg);
int probe_set_concurrency(void *opts, const char *arg);
int probe_set_connect_timeout(void *opts, const char *arg);
int probe_set_handshake_timeout(void *opts, const char *arg);
int probe_set_response_timeout(void *opts, const char *arg);
int probe_set_max_body(void *opts, const char *arg);
int probe_set_retries(void *opts, const char *arg);
int probe_set_user_agent(void *opts, const char *arg);
int probe_set_no_fast_keys(void *opts, const char *arg);
int probe_set_module(void *opts, const char *arg);
/* --modules: prints the modules and their default ports; CLI_DONE. */
int probe_list_modules(void *opts, const char *arg);

/* The probe options' table entries (options.h), for scan's and probe's
 * tables. */
#define PROBE_OPTIONS                                                                      \
    {.name = "probe-threads", .arg = "N", .set = probe_set_threads, .example = "2",        \
     .help = "probe worker threads (default: one per "                                    \
             PROBE_TEXT(PROBE_CONNECTIONS_PER_WORKER) " connections\n"                    \
             "in flight, at most the number of CPUs)"},                                   \
    {.name = "concurrency", .arg = "N", .set = probe_set_concurrency,                      \
     .fallback = PROBE_TEXT(PROBE_DEFAULT_CONCURRENCY), .help = "connections in flight"},  \
    {.name = "connect-timeout", .arg = "MS", .set = probe_set_connect_timeout,             \
     .fallback = PROBE_TEXT(PROBE_DEFAULT_CONNECT_TIMEOUT_MS), .help = "TCP connect"},     \
    {.name = "handshake-timeout", .arg = "MS", .set = probe_set_handshake_timeout,         \
     .fallback = PROBE_TEXT(PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS), .help = "TLS handshake"}, \
    {.name = "response-timeout", .arg = "MS", .set = probe_set_response_timeout,           \
     .fallback = PROBE_TEXT(PROBE_DEFAULT_RESPONSE_TIMEOUT_MS),                            \
     .help = "request to complete response"},                                             \
    {.name = "max-body", .arg = "BYTES", .set = probe_set_max_body,                        \
     .fallback = PROBE_TEXT(PROBE_DEFAULT_MAX_BODY_BYTES), .help = "response body kept"},  \
    {.name = "retries", .arg = "N", .set = probe_set_retries,                              \
     .fallback = PROBE_TEXT(PROBE_RETRIES_DEFAULT),                                        \
     .help = "new connections after a connect timeout or a silent\n"                      \
             "TLS handshake, at most " PROBE_TEXT(PROBE_RETRIES_MAX)},                    \
    {.name = "user-agent", .arg = "TEXT", .set = probe_set_user_agent,                     \
     .help = "HTTP User-Agent: name the survey and a contact"},                           \
    {.name = "no-fast-keys", .set = probe_set_no_fast_keys,                                \
     .help = "use OpenSSL 3's own (slower) key decoding, TLS 1.3\n"                       \
             "key schedule and X25519 (docs/probes.md, Cost)"},                            \
    {.name = "module", .arg = "PORT=NAME", .set = probe_set_module, .flags = CLI_REPEAT,   \
     .example = "443=apiserver",                                                           \
     .help = "probe PORT with module NAME (repeatable); by default\n"                     \
             "443,6443 apiserver, 10250 kubelet, 10255\n"                                 \
             "kubelet-readonly, 2379 etcd, any other apiserver"},                          \
    {.name = "modules", .set = probe_list_modules,                                         \
     .help = "list the modules and their default ports, and exit"}

#endif
