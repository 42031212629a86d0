/*
 * probe_options.c - the setters of the probe worker options (see the
 * header).
 */
#include "tools/cli/probe_options.h"
#include "tools/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* A decimal in [min, max] into *out; 0, or EXIT_USAGE after saying so. */
static int number(const char *arg, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = 0;
    if (*arg >= '0' && *arg <= '9')
        v = strtoul(arg, &end, 10);
    if (*arg < '0' || *arg > '9' || errno || *end || v < min || v > max) {
        cli_message("bad value '%s' for %s (%lu-%lu; see --help)", arg, cli_option_word(), min,
                    max);
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* An unsigned option in [min, max] into *field. */
static int unsigned_option(const char *arg, unsigned long min, unsigned long max,
                           unsigned *field)
{
    unsigned long v;
    int rc = number(arg, min, max, &v);
    if (rc == 0)
        *field = (unsigned)v;
    return rc;
}

int probe_set_threads(void *opts, const char *arg)
{
    return unsigned_option(arg, 1, 256, &((struct probe_config *)opts)->threads);
}

int probe_set_concurrency(void *opts, const char *arg)
{
    return unsigned_option(arg, 1, 1000000, &((struct probe_config *)opts)->concurrency);
}

int probe_set_connect_timeout(void *opts, const char *arg)
{
    return unsigned_option(arg, 1, 600000, &((struct probe_config *)opts)->connect_timeout_ms);
}

int probe_set_handshake_timeout(void *opts, const char *arg)
{
    return unsigned_option(arg, 1, 600000, &((struct probe_config *)opts)->handshake_timeout_ms);
}

int probe_set_response_timeout(void *opts, const char *arg)
{
    return unsigned_option(arg, 1, 600000, &((struct probe_config *)opts)->response_timeout_ms);
}

int probe_set_max_body(void *opts, const char *arg)
{
    unsigned long v;
    int rc = number(arg, 1, 64ul << 20, &v);
    if (rc == 0)
        ((struct probe_config *)opts)->max_body_bytes = v;
    return rc;
}

int probe_set_retries(void *opts, const char *arg)
{
    struct probe_config *cfg = opts;
    int rc = unsigned_option(arg, 0, PROBE_RETRIES_MAX, &cfg->retries);
    cfg->retries_set |= rc == 0;
    return rc;
}

int probe_set_user_agent(void *opts, const char *arg)
{
    for (const char *s = arg; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            cli_message("--user-agent must be printable ASCII on one line");
            return EXIT_USAGE;
        }
    if (!*arg) {
        cli_message("--user-agent must not be empty");
        return EXIT_USAGE;
    }
    ((struct probe_config *)opts)->user_agent = arg;
    return 0;
}

int probe_set_no_fast_keys(void *opts, const char *arg)
{
    (void)arg;
    ((struct probe_config *)opts)->no_fast_keys = true;
    return 0;
}

int probe_set_module(void *opts, const char *arg)
{
    char err[KS_ERRLEN];
    if (probe_port_map_add(&((struct probe_config *)opts)->modules, arg, err) < 0) {
        cli_message("--module: %s", err);
        return EXIT_USAGE;
    }
    return 0;
}

int probe_list_modules(void *opts, const char *arg)
{
    (void)opts;
    (void)arg;
    printf("%-18s %-12s %s\n", "MODULE", "PORTS", "PROBE");
    for (unsigned m = 0; m < probe_module_count(); m++) {
        char ports[64] = "";
        size_t n = 0;
        for (const uint16_t *p = probe_module_default_ports(m); *p && n < sizeof(ports) - 8; p++)
            n += (size_t)snprintf(ports + n, sizeof(ports) - n, "%s%u", n ? "," : "", *p);
        printf("%-18s %-12s %s\n", probe_module_name(m), n ? ports : "-",
               probe_module_summary(m));
    }
    printf("Any other port: %s. Change with --module PORT=NAME.\n",
           probe_module_name(PROBE_MODULE_APISERVER));
    return CLI_DONE;
}
