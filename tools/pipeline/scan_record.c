/*
 * scan_record.c - the scan record's field table and what walks it: JSON
 * both ways, the resume check, the identity merge joins shards on.
 */
#include "tools/pipeline/pipeline.h"
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(name, type, roles) {#name, type, offsetof(struct scan_record, name), roles}
#define BOTH (SCAN_DEFINES | SCAN_RESUME)

/* The JSON order of the record. */
const struct scan_field scan_fields[] = {
    F(kubesurvey_version, SCAN_STRING, 0),
    F(targets, SCAN_JSON, 0),              /* as typed; the digests define the work */
    F(allowlist, SCAN_STRING, 0),          /* a path of the machine that ran it */
    F(blocklist, SCAN_STRING, 0),
    F(blocklist_mode, SCAN_STRING, SCAN_DEFINES),
    F(opt_out, SCAN_STRING, 0),            /* a path; its list may change mid-scan */
    F(allow_digest, SCAN_STRING, BOTH),
    F(block_digest, SCAN_STRING, BOTH),
    F(blocklist_addresses, SCAN_INT, 0),   /* its digest defines the work */
    F(opt_out_digest, SCAN_STRING, 0),     /* the list may change mid-scan (SIGHUP) */
    F(target_addresses, SCAN_INT, SCAN_DEFINES),
    F(target_space, SCAN_INT, SCAN_DEFINES),
    F(ports, SCAN_PORTS, BOTH),
    F(modules, SCAN_STRING, BOTH),        /* absent: every port probed as API server */
    F(seed, SCAN_STRING, BOTH),
    F(shard, SCAN_INT, SCAN_RESUME),
    F(shards, SCAN_INT, BOTH),
    F(sender_threads, SCAN_INT, SCAN_RESUME),
    F(rate_pps, SCAN_INT, 0),
    F(probes, SCAN_INT, 0),               /* SYNs per target (-P) */
    F(port_sample, SCAN_BOOL, 0),         /* hosts checked for answering every port */
    F(max_runtime, SCAN_REAL, 0),
    F(cooldown, SCAN_REAL, 0),
    F(interface, SCAN_STRING, 0),
    F(source_ip, SCAN_STRING, 0),
    F(started, SCAN_STRING, 0),
    F(ended, SCAN_STRING, 0),
    F(duration, SCAN_REAL, 0),
    F(counters, SCAN_JSON, 0),
    F(loss, SCAN_JSON, 0),                /* with probes > 1: answered_by_probes, estimated_loss */
    F(probing, SCAN_JSON, 0),             /* probes by outcome, connection retries */
    F(process, SCAN_JSON, 0),             /* the scanning process: peak memory, descriptors */
    F(error, SCAN_STRING, 0),
    F(interrupted, SCAN_BOOL, 0),
    F(syn_only, SCAN_BOOL, BOTH),
    F(state, SCAN_STRING, 0),
    F(checkpoint, SCAN_JSON, 0),
    F(previous_runs, SCAN_JSON, 0),
    F(merged_from, SCAN_JSON, 0),
    F(merged_shards, SCAN_JSON, 0),
};
const size_t scan_field_count = sizeof(scan_fields) / sizeof(scan_fields[0]);

_Static_assert(sizeof(scan_fields) / sizeof(scan_fields[0]) <= 64, "present is a 64-bit mask");

static void *field_ptr(const struct scan_record *r, const struct scan_field *f)
{
    return (char *)r + f->offset;
}

void scan_record_init(struct scan_record *r)
{
    memset(r, 0, sizeof(*r));
}

void scan_record_free(struct scan_record *r)
{
    for (size_t i = 0; i < scan_field_count; i++) {
        const struct scan_field *f = &scan_fields[i];
        if (f->type == SCAN_STRING || f->type == SCAN_PORTS)
            free(*(char **)field_ptr(r, f));
        else if (f->type == SCAN_JSON)
            json_decref(*(json_t **)field_ptr(r, f));
    }
    json_decref(r->unknown);
    scan_record_init(r);
}

static const struct scan_field *field_named(const char *name, size_t *index)
{
    for (size_t i = 0; i < scan_field_count; i++)
        if (!strcmp(scan_fields[i].name, name)) {
            if (index)
                *index = i;
            return &scan_fields[i];
        }
    return NULL;
}

void scan_record_set_present(struct scan_record *r, const char *name)
{
    size_t i;
    if (field_named(name, &i))
        r->present |= 1ull << i;
}

bool scan_record_has(const struct scan_record *r, const char *name)
{
    size_t i;
    return field_named(name, &i) && (r->present >> i & 1);
}

/* One member into field f; -1 if its type is wrong. */
static int field_from_json(struct scan_record *r, const struct scan_field *f, json_t *v)
{
    void *p = field_ptr(r, f);
    switch (f->type) {
    case SCAN_STRING:
    case SCAN_PORTS:
        if (json_is_null(v))
            return 0;
        if (!json_is_string(v))
            return -1;
        return (*(char **)p = strdup(json_string_value(v))) ? 0 : -1;
    case SCAN_INT:
        if (!json_is_integer(v))
            return -1;
        *(long long *)p = (long long)json_integer_value(v);
        return 0;
    case SCAN_REAL:
        if (!json_is_number(v))
            return -1;
        *(double *)p = json_number_value(v);
        return 0;
    case SCAN_BOOL:
        if (!json_is_boolean(v))
            return -1;
        *(bool *)p = json_is_true(v);
        return 0;
    case SCAN_JSON:
        *(json_t **)p = json_incref(v);
        return 0;
    }
    return -1;
}

int scan_record_from_json(struct scan_record *r, const json_t *json, char *err)
{
    scan_record_init(r);
    if (!json_is_object(json)) {
        snprintf(err, KS_ERRLEN, "the scan record is not a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json, key, v) {
        size_t i;
        const struct scan_field *f = field_named(key, &i);
        if (!f) {
            if (!r->unknown && !(r->unknown = json_object()))
                goto oom;
            if (json_object_set(r->unknown, key, v) != 0)
                goto oom;
            continue;
        }
        if (field_from_json(r, f, v) != 0) {
            snprintf(err, KS_ERRLEN, "the scan record's \"%s\" is not %s", key,
                     f->type == SCAN_INT ? "an integer" : f->type == SCAN_REAL ? "a number"
                     : f->type == SCAN_BOOL ? "true or false" : "a string");
            scan_record_free(r);
            return -1;
        }
        r->present |= 1ull << i;
    }
    return 0;
oom:
    snprintf(err, KS_ERRLEN, "out of memory");
    scan_record_free(r);
    return -1;
}

static json_t *field_to_json(const struct scan_record *r, const struct scan_field *f)
{
    const void *p = field_ptr(r, f);
    switch (f->type) {
    case SCAN_STRING:
    case SCAN_PORTS:
        return *(char *const *)p ? json_string(*(char *const *)p) : json_null();
    case SCAN_INT: return json_integer(*(const long long *)p);
    case SCAN_REAL: return json_real(*(const double *)p);
    case SCAN_BOOL: return json_boolean(*(const bool *)p);
    case SCAN_JSON: return *(json_t *const *)p ? json_incref(*(json_t *const *)p) : json_null();
    }
    return NULL;
}

json_t *scan_record_to_json(const struct scan_record *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < scan_field_count; i++)
        if ((r->present >> i & 1) &&
            json_object_set_new(o, scan_fields[i].name, field_to_json(r, &scan_fields[i])) != 0)
            goto oom;
    if (r->unknown && json_object_update_missing(o, r->unknown) != 0)
        goto oom;
    return o;
oom:
    json_decref(o);
    return NULL;
}

/* Port lists are equal when they name the same set ("6443,443" is
 * "443,6443"): the target space numbers ports in ascending order. */
static bool same_ports(const char *a, const char *b)
{
    struct port_list x = {NULL, 0}, y = {NULL, 0};
    char ignored[KS_ERRLEN];
    bool same = a && b && port_list_parse(&x, a, ignored) == 0 &&
                port_list_parse(&y, b, ignored) == 0 && x.count == y.count &&
                memcmp(x.ports, y.ports, x.count * sizeof(*x.ports)) == 0;
    port_list_free(&x);
    port_list_free(&y);
    return same;
}

/* Do a and b agree on field i (present in both with equal values, or in
 * neither)? */
static bool same_field(const struct scan_record *a, const struct scan_record *b, size_t i)
{
    const struct scan_field *f = &scan_fields[i];
    bool in_a = a->present >> i & 1, in_b = b->present >> i & 1;
    if (in_a != in_b)
        return false;
    if (!in_a)
        return true;
    if (f->type == SCAN_PORTS)
        return same_ports(*(char *const *)field_ptr(a, f), *(char *const *)field_ptr(b, f));
    json_t *x = field_to_json(a, f), *y = field_to_json(b, f);
    bool same = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

void scan_record_field_text(const struct scan_record *r, const char *name, char *out, size_t size)
{
    size_t i;
    if (!field_named(name, &i)) {
        snprintf(out, size, "none");
        return;
    }
    json_t *v = (r->present >> i & 1) ? field_to_json(r, &scan_fields[i]) : NULL;
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(out, size, "%s", text ? text : "none");
    free(text);
    json_decref(v);
}

static void value_text(const struct scan_record *r, size_t i, char *out, size_t size)
{
    if (!(r->present >> i & 1)) {
        snprintf(out, size, "none");
        return;
    }
    json_t *v = field_to_json(r, &scan_fields[i]);
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(out, size, "%s", text ? text : "?");
    free(text);
    json_decref(v);
}

int scan_record_resume_check(const struct scan_record *was, const struct scan_record *now,
                             char *err)
{
    for (size_t i = 0; i < scan_field_count; i++) {
        if (!(scan_fields[i].roles & SCAN_RESUME) || same_field(was, now, i))
            continue;
        char a[160], b[160];
        value_text(was, i, a, sizeof(a));
        value_text(now, i, b, sizeof(b));
        snprintf(err, KS_ERRLEN,
                 "cannot resume: %s differs from the interrupted scan's (%s, now %s); give "
                 "exactly the same targets, ports, --module map, blocklist, seed, shard and "
                 "sender threads",
                 scan_fields[i].name, a, b);
        return -1;
    }
    return 0;
}

const char *scan_record_defines_differ(const struct scan_record *a, const struct scan_record *b)
{
    for (size_t i = 0; i < scan_field_count; i++)
        if ((scan_fields[i].roles & SCAN_DEFINES) && !same_field(a, b, i))
            return scan_fields[i].name;
    return NULL;
}

int scan_record_modules(const char *ports, const struct probe_port_map *map, char **text)
{
    struct port_list list = {NULL, 0};
    char ignored[KS_ERRLEN];
    *text = NULL;
    if (!ports || port_list_parse(&list, ports, ignored) != 0)
        return 0; /* the options' check names a bad list */
    /* Bounded: only default ports and the map's ports leave apiserver. */
    size_t size = 1, used = 0;
    char *out = NULL;
    for (size_t i = 0; i < list.count; i++) {
        unsigned module = probe_module_for_port(map, list.ports[i]);
        if (module == PROBE_MODULE_APISERVER)
            continue;
        const char *name = probe_module_name(module);
        size_t need = used + strlen(name) + 8;
        if (need > size) {
            char *grown = realloc(out, size = 2 * need);
            if (!grown) {
                free(out);
                port_list_free(&list);
                return -1;
            }
            out = grown;
        }
        used += (size_t)snprintf(out + used, size - used, "%s%u=%s", used ? "," : "",
                                 list.ports[i], name);
    }
    port_list_free(&list);
    *text = out;
    return 0;
}

char *scan_record_identity(const struct scan_record *r)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < scan_field_count; i++) {
        const struct scan_field *f = &scan_fields[i];
        if (!(f->roles & SCAN_DEFINES) || !(r->present >> i & 1))
            continue;
        json_t *v;
        if (f->type == SCAN_PORTS) {
            /* the set, in ascending order, so "6443,443" joins "443,6443" */
            struct port_list ports = {NULL, 0};
            char ignored[KS_ERRLEN];
            const char *text = *(char *const *)field_ptr(r, f);
            v = json_array();
            if (text && port_list_parse(&ports, text, ignored) == 0)
                for (size_t k = 0; k < ports.count; k++)
                    json_array_append_new(v, json_integer(ports.ports[k]));
            else
                json_array_append_new(v, field_to_json(r, f));
            port_list_free(&ports);
        } else {
            v = field_to_json(r, f);
        }
        json_object_set_new(o, f->name, v);
    }
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return text;
}
