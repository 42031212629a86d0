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
    return node_cves_add_apiserver(s->node_cves, &r->addr, &v);
}

int surfaces_add(struct surfaces *s, const struct probe_result *r, bool *counted)
{
    const char *module = probe_result_module(r);
    *counted = true;
    if (!strcmp(module, "kubelet")) {
        if (node_cves_add_kubelet(s->node_cves, &r->addr) < 0)
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

/* Lines of the text summary: a label, the key whose count follows it, and
 * a note after the count (or NULL). */
struct count_line {
    const char *label, *key, *note;
};

static void print_counts(FILE *out, const json_t *o, int indent, const struct count_line *lines,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%*s%-*s%12lld%s%s\n", indent, "", 28 - indent, lines[i].label,
                num(o, lines[i].key), lines[i].note ? " " : "",
                lines[i].note ? lines[i].note : "");
}

#define COUNT_LINES(lines) (lines), sizeof(lines) / sizeof((lines)[0])

/* The kubelets' node CVEs: what their bound (the API server on the same
 * address) makes certain, of how many. */
static void print_node_cves(FILE *out, const json_t *c, long long kubelets)
{
    static const struct count_line lines[] = {
        {"certainly affected", "affected", "(by at least one node CVE)"},
        {"certainly not affected", "not_affected", NULL},
        {"unknown", "unknown", NULL},
    };
    fprintf(out, "  node CVEs, kubelet at most the version of the API server on its address:\n");
    fprintf(out, "    %-24s%12lld of %lld kubelets\n", "with such an API server",
            num(c, "version_bound"), kubelets);
    print_counts(out, c, 4, COUNT_LINES(lines));
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
    static const struct count_line kubelet[] = {
        {"endpoints", "endpoints", NULL},
        {"authentication required", "authentication_required", "(401)"},
        {"anonymous, forbidden", "anonymous_forbidden", "(403)"},
        {"anonymous, open", "anonymous_open", "(exec and run allowed)"},
    };
    static const struct count_line readonly[] = {
        {"endpoints", "endpoints", NULL},
        {"open", "open", NULL},
    };
    static const struct count_line etcd[] = {
        {"endpoints", "endpoints", NULL},
        {"client certificate needed", "client_cert_required", NULL},
        {"no client authentication", "no_client_auth", NULL},
    };
    const json_t *k = json_object_get(surfaces, "kubelet");
    const json_t *e = json_object_get(surfaces, "etcd");
    if (!surfaces)
        return;
    fprintf(out, "\nkubelets (port 10250 by default, GET /healthz)\n");
    print_counts(out, k, 2, COUNT_LINES(kubelet));
    print_node_cves(out, json_object_get(k, "cves_node"), num(k, "endpoints"));
    fprintf(out, "\nkubelet read-only ports (10255 by default, GET /healthz)\n");
    print_counts(out, json_object_get(surfaces, "kubelet_readonly"), 2, COUNT_LINES(readonly));
    fprintf(out, "\netcd (2379 by default, GET /version)\n");
    print_counts(out, e, 2, COUNT_LINES(etcd));
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

/* Table rows of the report: each line's label (HTML) and count. */
static void report_rows(FILE *out, const json_t *o, const struct count_line *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        row(out, lines[i].label, num(o, lines[i].key));
}

static void report_node_cves(FILE *out, const json_t *c)
{
    static const struct count_line lines[] = {
        {"&hellip; with an API server on the same address (version bound)", "version_bound", NULL},
        {"&hellip; certainly affected by a node CVE", "affected", NULL},
        {"&hellip; certainly not affected", "not_affected", NULL},
        {"&hellip; node CVEs unknown", "unknown", NULL},
    };
    report_rows(out, c, COUNT_LINES(lines));
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
    static const struct count_line kubelet[] = {
        {"Endpoints probed as kubelets", "endpoints", NULL},
        {"Authentication required (401)", "authentication_required", NULL},
        {"Anonymous requests forbidden (403)", "anonymous_forbidden", NULL},
        {"Anonymous requests allowed (exec, run)", "anonymous_open", NULL},
    };
    static const struct count_line readonly[] = {
        {"Endpoints probed as read-only ports", "endpoints", NULL},
        {"Open (unauthenticated)", "open", NULL},
    };
    static const struct count_line etcd[] = {
        {"Endpoints probed as etcd", "endpoints", NULL},
        {"Client certificate required", "client_cert_required", NULL},
        {"No client authentication", "no_client_auth", NULL},
        {"&hellip; past etcd&#39;s support (current and previous minor)", "unsupported", NULL},
        {"&hellip; support unknown (version not in the table)", "unsupported_unknown", NULL},
    };
    const json_t *k = json_object_get(surfaces, "kubelet");
    const json_t *e = json_object_get(surfaces, "etcd");
    if (!surfaces)
        return;
    fputs("<h2>Kubelets (GET /healthz)</h2>\n<table class=\"nums\">\n", out);
    report_rows(out, k, COUNT_LINES(kubelet));
    report_node_cves(out, json_object_get(k, "cves_node"));
    fputs("</table>\n<h2>Kubelet read-only ports (GET /healthz)</h2>\n<table class=\"nums\">\n",
          out);
    report_rows(out, json_object_get(surfaces, "kubelet_readonly"), COUNT_LINES(readonly));
    fputs("</table>\n<h2>etcd (GET /version)</h2>\n<table class=\"nums\">\n", out);
    report_rows(out, e, COUNT_LINES(etcd));
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
