/*
 * probe_options.c - parsing of the probe worker options (see the header).
 */
#include "tools/cli/probe_options.h"
#include "tools/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int number(const char *arg, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (*arg < '0' || *arg > '9')
        return -1;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct range {
    const char *name;
    unsigned long min, max;
};

static const struct range ranges[] = {
    [OPT_PROBE_THREADS - OPT_PROBE_FIRST] = {"--probe-threads", 1, 256},
    [OPT_PROBE_CONCURRENCY - OPT_PROBE_FIRST] = {"--concurrency", 1, 1000000},
    [OPT_PROBE_CONNECT_TIMEOUT - OPT_PROBE_FIRST] = {"--connect-timeout", 1, 600000},
    [OPT_PROBE_HANDSHAKE_TIMEOUT - OPT_PROBE_FIRST] = {"--handshake-timeout", 1, 600000},
    [OPT_PROBE_RESPONSE_TIMEOUT - OPT_PROBE_FIRST] = {"--response-timeout", 1, 600000},
    [OPT_PROBE_MAX_BODY - OPT_PROBE_FIRST] = {"--max-body", 1, 64ul << 20},
    [OPT_PROBE_RETRIES - OPT_PROBE_FIRST] = {"--retries", 0, PROBE_RETRIES_MAX},
};

/* --modules: each module, its default ports and what it asks. */
static void list_modules(void)
{
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
}

int probe_option_apply(struct probe_config *cfg, int opt, const char *arg)
{
    if (opt == OPT_PROBE_LIST_MODULES) {
        list_modules();
        return 1;
    }
    if (opt == OPT_PROBE_MODULE) {
        char err[KS_ERRLEN];
        if (probe_port_map_add(&cfg->modules, arg, err) < 0) {
            cli_message("--module: %s", err);
            return -1;
        }
        return 0;
    }
    if (opt == OPT_PROBE_NO_FAST_KEYS) {
        cfg->no_fast_keys = true;
        return 0;
    }
    if (opt == OPT_PROBE_USER_AGENT) {
        for (const char *s = arg; *s; s++)
            if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
                cli_message("--user-agent must be printable ASCII on one line");
                return -1;
            }
        if (!*arg) {
            cli_message("--user-agent must not be empty");
            return -1;
        }
        cfg->user_agent = arg;
        return 0;
    }
    const struct range *r = &ranges[opt - OPT_PROBE_FIRST];
    unsigned long v;
    if (number(arg, r->min, r->max, &v) < 0) {
        cli_message("bad value '%s' for %s (%lu-%lu; see --help)", arg, r->name, r->min, r->max);
        return -1;
    }
    switch (opt) {
    case OPT_PROBE_THREADS: cfg->threads = (unsigned)v; break;
    case OPT_PROBE_CONCURRENCY: cfg->concurrency = (unsigned)v; break;
    case OPT_PROBE_CONNECT_TIMEOUT: cfg->connect_timeout_ms = (unsigned)v; break;
    case OPT_PROBE_HANDSHAKE_TIMEOUT: cfg->handshake_timeout_ms = (unsigned)v; break;
    case OPT_PROBE_RESPONSE_TIMEOUT: cfg->response_timeout_ms = (unsigned)v; break;
    case OPT_PROBE_MAX_BODY: cfg->max_body_bytes = v; break;
    case OPT_PROBE_RETRIES: cfg->retries = (unsigned)v; cfg->retries_set = true; break;
    }
    return 0;
}
