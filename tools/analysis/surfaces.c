/*
 * surfaces.c - the exposed surfaces beside the API servers: what the
 * kubelet, kubelet-readonly and etcd modules found (docs/statistics.md,
 * "Surfaces"). Counted apart from the API-server figures, which see only
 * the apiserver module's records; shown as the `surfaces` object of the
 * statistics, a section of the text summary and one of the HTML report.
 */
#include "tools/analysis/analysis.h"
#include "tools/analysis/html.h"

#include <stdlib.h>
#include <string.h>

struct surfaces {
    int32_t as_of;
    const struct lifecycle *lc;  /* etcd's minors and support policy (etcd.json) */
    uint64_t kubelet, kubelet_auth_required, kubelet_anon_forbidden, kubelet_anon_open;
    uint64_t readonly, readonly_open;
    uint64_t etcd, etcd_client_cert_required, etcd_no_client_auth;
    uint64_t etcd_unsupported, etcd_support_unknown;
    json_t *etcd_by_version;     /* "3.5" -> endpoints that told their version */
    struct node_cves *node_cves; /* the kubelets' node CVEs, bounded by API servers */
};

/* "3.5" into numbers; -1 unless it is two numbers and a dot. */
static int parse_minor(const char *text, int *major, int *minor)
{
    int used = 0;
    if (!text || sscanf(text, "%3d.%3d%n", major, minor, &used) != 2 || used <= 0)
        return -1;
    return 0;
}

static bool newer(int major_a, int minor_a, int major_b, int minor_b)
{
    return major_a > major_b || (major_a == major_b && minor_a > minor_b);
}

/* LC_SUPPORTED, LC_UNSUPPORTED or LC_UNKNOWN for etcd `version` on `day`:
 * a minor with `etcd_supported` newer minors released by that day is past
 * support (one missing from the table too: 2.x is); a listed one with
 * fewer is supported; one newer than those released is unknown. */
static enum lc_status etcd_status(const struct lifecycle *lc, const char *version, int32_t day)
{
    int major, minor;
    unsigned newer_released = 0;
    bool listed = false;
    if (parse_minor(version, &major, &minor) < 0)
        return LC_UNKNOWN;
    for (size_t i = 0; i < lc->etcd_minor_count; i++) {
        const struct lc_etcd_minor *m = &lc->etcd_minors[i];
        if (m->released > day)
            continue;
        if (m->major == major && m->minor == minor)
            listed = true;
        else if (newer(m->major, m->minor, major, minor))
            newer_released++;
    }
    if (newer_released >= lc->etcd_supported)
        return LC_UNSUPPORTED;
    return listed ? LC_SUPPORTED : LC_UNKNOWN;
}

struct surfaces *surfaces_new(int32_t as_of, const struct lifecycle *lc)
{
    struct surfaces *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->as_of = as_of;
    s->lc = lc;
    s->etcd_by_version = json_object();
    s->node_cves = node_cves_new(as_of, lc);
    if (!s->etcd_by_version || !s->node_cves) {
        surfaces_free(s);
        return NULL;
    }
    return s;
}

void surfaces_free(struct surfaces *s)
{
    if (!s)
        return;
    node_cves_free(s->node_cves);
    json_decref(s->etcd_by_version);
    free(s);
}

static bool is(const char *a, const char *b)
{
    return a && !strcmp(a, b);
}

/* "3.5" from "3.5.9" (or "3.6.0-alpha.0"); "other" for what has no
 * major.minor. */
static void etcd_minor(const char *version, char out[24])
{
    unsigned major, minor;
    int used = 0;
    if (version && sscanf(version, "%3u.%3u%n", &major, &minor, &used) == 2 && used > 0)
        snprintf(out, 24, "%u.%u", major, minor);
    else
        snprintf(out, 24, "other");
}

static int count_version(struct surfaces *s, const char *version)
{
    char key[24];
    etcd_minor(version, key);
    json_t *n = json_object_get(s->etcd_by_version, key);
    json_int_t count = n ? json_integer_value(n) + 1 : 1;
    return json_object_set_new(s->etcd_by_version, key, json_integer(count));
}

/* An API server's version bounds the kubelets on its address. */
static int note_apiserver(struct surfaces *s, const struct probe_result *r)
{
    struct kver v;
    if (r->k8s != K8S_YES || kver_of_result(r, &v) != 0)
        return 0;
    return node_cves_add_apiserver(s->node_cves, r->addr, &v);
}

int surfaces_add(struct surfaces *s, const struct probe_result *r, bool *counted)
{
    const char *module = probe_result_module(r);
    *counted = true;
    if (!strcmp(module, "kubelet")) {
        if (node_cves_add_kubelet(s->node_cves, r->addr) < 0)
            return -1;
        s->kubelet++;
        s->kubelet_auth_required += is(r->finding, RECORD_FINDING_AUTH_REQUIRED);
        s->kubelet_anon_forbidden += is(r->finding, RECORD_FINDING_ANON_FORBIDDEN);
        s->kubelet_anon_open += is(r->finding, RECORD_FINDING_ANON_OPEN);
    } else if (!strcmp(module, "kubelet-readonly")) {
        s->readonly++;
        s->readonly_open += is(r->finding, RECORD_FINDING_READONLY_OPEN);
    } else if (!strcmp(module, "etcd")) {
        s->etcd++;
        s->etcd_client_cert_required += is(r->finding, RECORD_FINDING_CLIENT_CERT_REQUIRED);
        if (is(r->finding, RECORD_FINDING_NO_CLIENT_AUTH)) {
            s->etcd_no_client_auth++;
            enum lc_status st = etcd_status(s->lc, r->etcd_server, s->as_of);
            s->etcd_unsupported += st == LC_UNSUPPORTED;
            s->etcd_support_unknown += st == LC_UNKNOWN;
            if (count_version(s, r->etcd_server) < 0)
                return -1;
        }
    } else {
        *counted = false; /* the API-server figures' */
        return note_apiserver(s, r);
    }
    return 0;
}

json_t *surfaces_to_json(const struct surfaces *s)
{
    json_t *by_version = json_deep_copy(s->etcd_by_version);
    json_t *cves_node = node_cves_to_json(s->node_cves);
    if (!by_version || !cves_node) {
        json_decref(by_version);
        json_decref(cves_node);
        return NULL;
    }
    return json_pack("{s:{s:I, s:I, s:I, s:I, s:o}, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:o, s:I, s:I}}",
                     "kubelet", "endpoints", (json_int_t)s->kubelet,
                     "authentication_required", (json_int_t)s->kubelet_auth_required,
                     "anonymous_forbidden", (json_int_t)s->kubelet_anon_forbidden,
                     "anonymous_open", (json_int_t)s->kubelet_anon_open, "cves_node", cves_node,
                     "kubelet_readonly", "endpoints", (json_int_t)s->readonly,
                     "open", (json_int_t)s->readonly_open,
                     "etcd", "endpoints", (json_int_t)s->etcd,
                     "client_cert_required", (json_int_t)s->etcd_client_cert_required,
                     "no_client_auth", (json_int_t)s->etcd_no_client_auth,
                     "by_version", by_version,
                     "unsupported", (json_int_t)s->etcd_unsupported,
                     "unsupported_unknown", (json_int_t)s->etcd_support_unknown);
}

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* The kubelets' node CVEs: what their bound (the API server on the same
 * address) makes certain, of how many. */
static void print_node_cves(FILE *out, const json_t *c, long long kubelets)
{
    fprintf(out, "  node CVEs, kubelet at most the version of the API server on its address:\n");
    fprintf(out, "    with such an API server %12lld of %lld kubelets\n", num(c, "version_bound"),
            kubelets);
    fprintf(out, "    certainly affected      %12lld (by at least one node CVE)\n",
            num(c, "affected"));
    fprintf(out, "    certainly not affected  %12lld\n", num(c, "not_affected"));
    fprintf(out, "    unknown                 %12lld\n", num(c, "unknown"));
    const char *id;
    json_t *v;
    json_object_foreach(json_object_get(c, "by_cve"), id, v)
        fprintf(out, "      %-22s%12lld\n", id, (long long)json_integer_value(v));
    size_t i;
    json_array_foreach(json_object_get(c, "no_fix"), i, v)
        fprintf(out, "%s%s", i ? ", " : "    without a fix (every kubelet): ", json_string_value(v));
    if (json_array_size(json_object_get(c, "no_fix")))
        fputc('\n', out);
}

void surfaces_print(FILE *out, const json_t *surfaces)
{
    const json_t *k = json_object_get(surfaces, "kubelet");
    const json_t *ro = json_object_get(surfaces, "kubelet_readonly");
    const json_t *e = json_object_get(surfaces, "etcd");
    if (!surfaces)
        return;
    fprintf(out, "\nkubelets (port 10250 by default, GET /healthz)\n");
    fprintf(out, "  endpoints                 %12lld\n", num(k, "endpoints"));
    fprintf(out, "  authentication required   %12lld (401)\n", num(k, "authentication_required"));
    fprintf(out, "  anonymous, forbidden      %12lld (403)\n", num(k, "anonymous_forbidden"));
    fprintf(out, "  anonymous, open           %12lld (exec and run allowed)\n",
            num(k, "anonymous_open"));
    print_node_cves(out, json_object_get(k, "cves_node"), num(k, "endpoints"));
    fprintf(out, "\nkubelet read-only ports (10255 by default, GET /healthz)\n");
    fprintf(out, "  endpoints                 %12lld\n", num(ro, "endpoints"));
    fprintf(out, "  open                      %12lld\n", num(ro, "open"));
    fprintf(out, "\netcd (2379 by default, GET /version)\n");
    fprintf(out, "  endpoints                 %12lld\n", num(e, "endpoints"));
    fprintf(out, "  client certificate needed %12lld\n", num(e, "client_cert_required"));
    fprintf(out, "  no client authentication  %12lld\n", num(e, "no_client_auth"));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(e, "by_version"), key, v)
        fprintf(out, "    etcd %-20s %12lld\n", key, (long long)json_integer_value(v));
    fprintf(out, "  past etcd's support       %12lld (of no client authentication; unknown %lld)\n",
            num(e, "unsupported"), num(e, "unsupported_unknown"));
}

static void row(FILE *out, const char *label, long long n)
{
    fprintf(out, "<tr><td>%s</td><td>%lld</td></tr>\n", label, n);
}

static void report_node_cves(FILE *out, const json_t *c)
{
    row(out, "&hellip; with an API server on the same address (version bound)",
        num(c, "version_bound"));
    row(out, "&hellip; certainly affected by a node CVE", num(c, "affected"));
    row(out, "&hellip; certainly not affected", num(c, "not_affected"));
    row(out, "&hellip; node CVEs unknown", num(c, "unknown"));
    const char *id;
    json_t *v;
    json_object_foreach(json_object_get(c, "by_cve"), id, v) {
        fputs("<tr><td>&hellip; &hellip; ", out);
        html_escaped(out, id); /* a data file (--data) may name anything */
        fprintf(out, "</td><td>%lld</td></tr>\n", (long long)json_integer_value(v));
    }
    size_t i;
    json_array_foreach(json_object_get(c, "no_fix"), i, v) {
        fputs("<tr><td>&hellip; node CVE without a fix (every kubelet): ", out);
        html_escaped(out, json_string_value(v));
        fputs("</td><td></td></tr>\n", out);
    }
}

void surfaces_report_html(FILE *out, const json_t *surfaces)
{
    const json_t *k = json_object_get(surfaces, "kubelet");
    const json_t *ro = json_object_get(surfaces, "kubelet_readonly");
    const json_t *e = json_object_get(surfaces, "etcd");
    if (!surfaces)
        return;
    fputs("<h2>Kubelets (GET /healthz)</h2>\n<table class=\"nums\">\n", out);
    row(out, "Endpoints probed as kubelets", num(k, "endpoints"));
    row(out, "Authentication required (401)", num(k, "authentication_required"));
    row(out, "Anonymous requests forbidden (403)", num(k, "anonymous_forbidden"));
    row(out, "Anonymous requests allowed (exec, run)", num(k, "anonymous_open"));
    report_node_cves(out, json_object_get(k, "cves_node"));
    fputs("</table>\n<h2>Kubelet read-only ports (GET /healthz)</h2>\n<table class=\"nums\">\n",
          out);
    row(out, "Endpoints probed as read-only ports", num(ro, "endpoints"));
    row(out, "Open (unauthenticated)", num(ro, "open"));
    fputs("</table>\n<h2>etcd (GET /version)</h2>\n<table class=\"nums\">\n", out);
    row(out, "Endpoints probed as etcd", num(e, "endpoints"));
    row(out, "Client certificate required", num(e, "client_cert_required"));
    row(out, "No client authentication", num(e, "no_client_auth"));
    row(out, "&hellip; past etcd&#39;s support (current and previous minor)", num(e, "unsupported"));
    row(out, "&hellip; support unknown (version not in the table)", num(e, "unsupported_unknown"));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(e, "by_version"), key, v) {
        /* etcd_minor's keys are digits and a dot, or "other": nothing else
         * is printed, so nothing needs escaping */
        if (strspn(key, "0123456789.") != strlen(key) && strcmp(key, "other") != 0)
            continue;
        fprintf(out, "<tr><td>&hellip; etcd %s</td><td>%lld</td></tr>\n", key,
                (long long)json_integer_value(v));
    }
    fputs("</table>\n", out);
}
