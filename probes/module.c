/*
 * module.c - the registry of probe modules (one line per module; its index
 * is what a probe_target carries) and the map from ports to modules.
 */
#include "probes/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per module, X(name) for the struct probe_module
 * module_<name> its mod_<...>.c file defines. The first probes every port
 * no module claims. Records name modules, not indexes, so the order may
 * change. */
#define PROBE_MODULES(X) \
    X(apiserver)         \
    X(kubelet)           \
    X(kubelet_readonly)  \
    X(etcd)

#define DECLARE_MODULE(name) extern const struct probe_module module_##name;
PROBE_MODULES(DECLARE_MODULE)
#define LIST_MODULE(name) &module_##name,
static const struct probe_module *const modules[] = {PROBE_MODULES(LIST_MODULE)};
#define MODULE_COUNT (sizeof(modules) / sizeof(modules[0]))
_Static_assert(MODULE_COUNT <= 256, "probe_target.module is one byte");

const struct probe_module *probe_module_get(unsigned index)
{
    return index < MODULE_COUNT ? modules[index] : NULL;
}

unsigned probe_module_count(void)
{
    return MODULE_COUNT;
}

const char *probe_module_name(unsigned module)
{
    return module < MODULE_COUNT ? modules[module]->name : NULL;
}

const char *probe_module_summary(unsigned module)
{
    return module < MODULE_COUNT ? modules[module]->summary : NULL;
}

const uint16_t *probe_module_default_ports(unsigned module)
{
    static const uint16_t none[] = {0};
    return module < MODULE_COUNT ? modules[module]->default_ports : none;
}

int probe_module_find(const char *name)
{
    for (unsigned i = 0; i < MODULE_COUNT; i++)
        if (!strcmp(modules[i]->name, name))
            return (int)i;
    return -1;
}

unsigned probe_module_for_port(const struct probe_port_map *map, uint16_t port)
{
    for (unsigned i = map ? map->count : 0; i-- > 0;)
        if (map->set[i].port == port)
            return map->set[i].module;
    for (unsigned m = 0; m < MODULE_COUNT; m++)
        for (const uint16_t *p = modules[m]->default_ports; *p; p++)
            if (*p == port)
                return m;
    return PROBE_MODULE_APISERVER;
}

int probe_port_map_add(struct probe_port_map *map, const char *spec, char *err)
{
    const char *eq = strchr(spec, '=');
    char *end;
    errno = 0;
    unsigned long port = eq && spec[0] >= '0' && spec[0] <= '9' ? strtoul(spec, &end, 10) : 0;
    if (!eq || errno || end != eq || port < 1 || port > 65535) {
        snprintf(err, KS_ERRLEN, "'%s' is not PORT=MODULE with a port 1-65535", spec);
        return -1;
    }
    int module = probe_module_find(eq + 1);
    if (module < 0) {
        snprintf(err, KS_ERRLEN, "'%s': no module named '%s' (--modules lists them)", spec,
                 eq + 1);
        return -1;
    }
    unsigned i = 0;
    while (i < map->count && map->set[i].port != port)
        i++;
    if (i == map->count && map->count == PROBE_PORT_MAP_MAX) {
        snprintf(err, KS_ERRLEN, "more than %d ports given a module", PROBE_PORT_MAP_MAX);
        return -1;
    }
    map->set[i].port = (uint16_t)port;
    map->set[i].module = (uint8_t)module;
    if (i == map->count)
        map->count++;
    return 0;
}

void probe_target_init(struct probe_target *t, const struct net_addr *addr, uint16_t port,
                       unsigned module, uint64_t tag)
{
    memset(t, 0, sizeof(*t));
    t->addr = *addr;
    t->port = port;
    t->module = (uint8_t)module;
    t->tag = tag;
}

void probe_target_ipv4(struct probe_target *t, uint32_t addr, uint16_t port, unsigned module,
                       uint64_t tag)
{
    struct net_addr a = net_addr_ipv4(addr);
    probe_target_init(t, &a, port, module, tag);
}
