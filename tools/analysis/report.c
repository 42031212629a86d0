/*
 * report.c - one self-contained HTML page (inline CSS and SVG, no scripts,
 * no external resources) from a statistics object.
 */
#include "tools/analysis/analysis.h"
#include "tools/analysis/html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLOR_SUPPORTED "#2e7d32"
#define COLOR_UNSUPPORTED "#c62828"
#define COLOR_UNKNOWN "#9e9e9e"
#define COLOR_PROVIDER "#ef6c00"


static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void put_share(FILE *out, const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_number(v))
        fprintf(out, "%.1f%%", 100.0 * json_number_value(v));
    else
        fputs("n/a", out);
}

static void headline(FILE *out, const json_t *s)
{
    json_t *auth = json_object_get(s, "auth");
    fputs("<h2>Headline numbers</h2>\n<table class=\"nums\">\n", out);
    fprintf(out, "<tr><td>Endpoints that answered the SYN</td><td>%lld</td></tr>\n",
            num(s, "syn_open"));
    fprintf(out, "<tr><td>Completed TLS handshakes</td><td>%lld</td></tr>\n", num(s, "tls"));
    fprintf(out, "<tr><td>Kubernetes API servers (any evidence)</td><td>%lld</td></tr>\n",
            num(s, "k8s"));
    fprintf(out, "<tr><td>&hellip; with Kubernetes certificate markers</td><td>%lld</td></tr>\n",
            num(s, "k8s_by_cert"));
    fprintf(out, "<tr><td>Estimated clusters (distinct serving certificates)</td><td>%lld</td></tr>\n",
            num(s, "clusters"));
    const char *est;
    json_t *ev;
    json_object_foreach(json_object_get(s, "cluster_estimates"), est, ev) {
        fputs("<tr><td>&hellip; estimated by ", out);
        html_escaped(out, est);
        fprintf(out, "</td><td>%lld</td></tr>\n", num(ev, "clusters"));
    }
    fprintf(out, "<tr><td>GET /version answered with a version</td><td>%lld</td></tr>\n",
            num(s, "version_public"));
    fputs("</table>\n<h2>Unsupported, three ways</h2>\n<table class=\"nums shares\">\n"
          "<tr><th>Figure</th><th>Count</th><th>Unknown</th><th>Share, unknown excluded</th>"
          "<th>Unknown as supported</th><th>Unknown as unsupported</th></tr>\n",
          out);
    static const struct { const char *key, *label; } rows[] = {
        {"unsupported", "Endpoints past upstream end of life"},
        {"provider_unsupported", "Endpoints past the provider&#39;s standard support"},
        {"provider_unsupported_extended", "Endpoints past extended support / LTS too"},
        {"clusters_unsupported", "Clusters past upstream end of life"},
        {"clusters_provider_unsupported", "Clusters past the provider&#39;s standard support"},
        {"clusters_provider_unsupported_extended", "Clusters past extended support / LTS too"},
    };
    const json_t *shares = json_object_get(s, "shares");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const json_t *f = json_object_get(shares, rows[i].key);
        fprintf(out, "<tr class=\"%s\"><td>%s</td><td>%lld of %lld</td><td>%lld</td><td>",
                i == 0 || i == 3 ? "key" : "", rows[i].label, num(f, "count"),
                num(f, "denominator"), num(f, "unknown"));
        put_share(out, f, "excluding_unknown");
        fputs("</td><td>", out);
        put_share(out, f, "unknown_as_supported");
        fputs("</td><td>", out);
        put_share(out, f, "unknown_as_unsupported");
        fputs("</td></tr>\n", out);
    }
    fprintf(out, "</table>\n<table class=\"nums\">\n<tr><td>Provider calendars</td><td>%s</td></tr>\n",
            json_string_value(json_object_get(s, "calendar")));
    fprintf(out, "<tr><td>GET /version status 200 / 401 / 403</td>"
                 "<td>%lld / %lld / %lld</td></tr>\n</table>\n",
            num(auth, "public"), num(auth, "unauthorized_401"), num(auth, "forbidden_403"));
}

/* by_family: the headline counts and the upstream / provider shares of
 * IPv4 and IPv6 side by side (a hitlist scan adds the IPv6 column). */
static void families(FILE *out, const json_t *s)
{
    static const char *const names[] = {"ipv4", "ipv6"};
    static const struct { const char *key, *label; } counts[] = {
        {"syn_open", "Endpoints that answered the SYN"},
        {"tls", "Completed TLS handshakes"},
        {"k8s", "Kubernetes API servers"},
        {"version_public", "GET /version answered with a version"},
    };
    static const struct { const char *key, *label; } shares[] = {
        {"unsupported", "Past upstream end of life"},
        {"provider_unsupported", "Past the provider&#39;s standard support"},
        {"provider_unsupported_extended", "Past extended support / LTS too"},
    };
    const json_t *by = json_object_get(s, "by_family");
    fputs("<h2>By address family</h2>\n<table class=\"nums families\">\n"
          "<tr><th>Figure</th><th>IPv4</th><th>IPv6</th></tr>\n", out);
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        fprintf(out, "<tr><td>%s</td>", counts[i].label);
        for (int f = 0; f < 2; f++)
            fprintf(out, "<td>%lld</td>", num(json_object_get(by, names[f]), counts[i].key));
        fputs("</tr>\n", out);
    }
    for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
        fprintf(out, "<tr><td>%s (unknown as supported)</td>", shares[i].label);
        for (int f = 0; f < 2; f++) {
            const json_t *bounds =
                json_object_get(json_object_get(json_object_get(by, names[f]), "shares"),
                                shares[i].key);
            fputs("<td>", out);
            put_share(out, bounds, "unknown_as_supported");
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* Vertical bars: endpoints per minor, coloured by upstream status on as_of. */
static void chart_minors(FILE *out, const json_t *s, const struct lifecycle *lc, int32_t as_of)
{
    json_t *minors = json_object_get(s, "by_minor");
    size_t n = json_object_size(minors);
    fputs("<h2>Endpoints by minor version</h2>\n", out);
    if (n == 0) {
        fputs("<p>No endpoint answered GET /version with a version.</p>\n", out);
        return;
    }
    long long max = 1;
    const char *key;
    json_t *v;
    json_object_foreach(minors, key, v)
        if (json_integer_value(v) > max)
            max = json_integer_value(v);
    max = (max + 3) / 4 * 4; /* four whole-number tick steps */
    const int width = 1000, height = 320, left = 60, bottom = 50, top = 20;
    double slot = (double)(width - left - 10) / (double)n;
    fprintf(out, "<svg id=\"chart-minors\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                 "aria-label=\"Endpoints by minor version\">\n",
            width, height, width, height);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left,
            height - bottom, width - 10, height - bottom);
    for (int t = 0; t <= 4; t++) {
        double y = height - bottom - (double)(height - bottom - top) * t / 4;
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%lld</text>\n",
                left - 6, y + 4, max * t / 4);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left,
                y, width - 10, y);
    }
    size_t i = 0;
    json_object_foreach(minors, key, v) {
        int major = -1, minor = -1;
        sscanf(key, "%d.%d", &major, &minor);
        enum lc_status st = lifecycle_upstream_status(lc, major, minor, as_of);
        const char *color = st == LC_UNSUPPORTED ? COLOR_UNSUPPORTED
                            : st == LC_SUPPORTED ? COLOR_SUPPORTED
                                                 : COLOR_UNKNOWN;
        double h = (double)(height - bottom - top) * (double)json_integer_value(v) / (double)max;
        double x = left + slot * (double)i + slot * 0.15;
        fprintf(out, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                     "fill=\"%s\"><title>",
                st == LC_UNSUPPORTED ? "unsupported" : st == LC_SUPPORTED ? "supported" : "unknown",
                x, height - bottom - h, slot * 0.7, h, color);
        html_escaped(out, key);
        fprintf(out, ": %lld endpoints</title></rect>\n", (long long)json_integer_value(v));
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">",
                x + slot * 0.35, height - bottom + 16);
        html_escaped(out, key);
        fputs("</text>\n", out);
        i++;
    }
    char day[11];
    ks_date_format(as_of, day);
    fprintf(out,
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"" COLOR_SUPPORTED "\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">supported upstream on %s</text>\n"
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"" COLOR_UNSUPPORTED "\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">past upstream end of life</text>\n"
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"" COLOR_UNKNOWN "\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">not in the lifecycle data</text>\n</svg>\n",
            left, height - 22, left + 16, height - 12, day, left + 260, height - 22, left + 276,
            height - 12, left + 470, height - 22, left + 486, height - 12);
}

/* One bar of the provider chart: the share past support, then (grey) the
 * share that cannot be placed, so a reader sees both bounds; the text
 * gives the unknown count. */
static void provider_bar(FILE *out, const char *provider, double y, double scale,
                         long long total, long long unsupported, long long unknown,
                         const char *color, const char *label)
{
    const int left = 170;
    double share = (double)unsupported / (double)total, w = scale * share;
    double uw = scale * (double)unknown / (double)total;
    fprintf(out, "<rect class=\"bar share\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
                 "height=\"16\" fill=\"%s\"><title>",
            left, y, w, color);
    html_escaped(out, provider);
    fprintf(out, ": %.1f%% past %s</title></rect>\n", 100 * share, label);
    if (unknown > 0) {
        fprintf(out, "<rect class=\"bar provider-unknown\" data-unknown=\"%lld\" x=\"%.1f\" y=\"%.1f\" "
                     "width=\"%.1f\" height=\"16\" fill=\"" COLOR_UNKNOWN "\"><title>",
                unknown, left + w, y, uw);
        html_escaped(out, provider);
        fprintf(out, ": %lld of %lld not in the %s data (unknown)</title></rect>\n", unknown,
                total, label);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%.1f%%, %lld of %lld unknown "
                     "(%.1f%%-%.1f%%)</text>\n",
                left + w + uw + 4, y + 13, 100 * share, unknown, total, 100 * share,
                100 * (double)(unsupported + unknown) / (double)total);
    } else {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%.1f%%</text>\n",
                left + w + 4, y + 13, 100 * share);
    }
}

/* Horizontal bar pairs: per provider, share unsupported upstream and by
 * the provider's window, each with its unknowns. */
static void chart_providers(FILE *out, const json_t *s)
{
    json_t *providers = json_object_get(s, "by_provider");
    const char *key;
    json_t *v;
    size_t n = 0;
    json_object_foreach(providers, key, v)
        if (num(v, "version_public") > 0)
            n++;
    fputs("<h2>Unsupported share by provider</h2>\n", out);
    if (n == 0) {
        fputs("<p>No provider has endpoints with a version.</p>\n", out);
        return;
    }
    const int width = 1000, row = 46, left = 170, right = 250;
    int height = (int)n * row + 50;
    fprintf(out, "<svg id=\"chart-providers\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                 "aria-label=\"Unsupported share by provider\">\n",
            width, height, width, height);
    size_t i = 0;
    json_object_foreach(providers, key, v) {
        long long total = num(v, "version_public");
        if (total <= 0)
            continue;
        double y = 10 + (double)i * row;
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"label\">", left - 8,
                y + 22);
        html_escaped(out, key);
        fprintf(out, " (%lld)</text>\n", total);
        provider_bar(out, key, y, width - left - right, total, num(v, "unsupported"),
                     num(v, "lifecycle_unknown"), COLOR_UNSUPPORTED, "upstream end of life");
        provider_bar(out, key, y + 18, width - left - right, total,
                     num(v, "provider_unsupported"), num(v, "provider_lifecycle_unknown"),
                     COLOR_PROVIDER, "provider window");
        i++;
    }
    fprintf(out,
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"" COLOR_UNSUPPORTED "\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">past upstream end of life</text>\n"
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"" COLOR_PROVIDER "\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">past the provider&#39;s support window</text>\n"
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"" COLOR_UNKNOWN "\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">unknown (not in the lifecycle data)</text>\n"
            "</svg>\n",
            left, height - 24, left + 16, height - 14, left + 240, height - 24, left + 256,
            height - 14, left + 520, height - 24, left + 536, height - 14);
}

static const struct cve *cve_find(const struct lifecycle *lc, const char *id)
{
    for (size_t i = 0; i < lc->cve_count; i++)
        if (!strcmp(lc->cves[i].id, id))
            return &lc->cves[i];
    return NULL;
}

struct cve_row {
    const char *id;
    long long count;
};

static int cmp_cve_row(const void *a, const void *b)
{
    const struct cve_row *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->id, y->id);
}

#define TOP_CVES 12

/* One CVE table of the statistics (`key`) as a bar chart and a table. */
static void chart_cves(FILE *out, const json_t *s, const struct lifecycle *lc, const char *key_name,
                       const char *id, const char *heading, const char *none)
{
    json_t *cves = json_object_get(s, key_name);
    size_t n = json_object_size(cves), i = 0;
    fprintf(out, "<h2>%s</h2>\n", heading);
    if (n == 0) {
        fprintf(out, "<p>%s</p>\n", none);
        return;
    }
    struct cve_row *rows = calloc(n, sizeof(*rows));
    if (!rows)
        return;
    const char *key;
    json_t *v;
    json_object_foreach(cves, key, v)
        rows[i++] = (struct cve_row){key, (long long)json_integer_value(v)};
    qsort(rows, n, sizeof(*rows), cmp_cve_row);
    if (n > TOP_CVES)
        n = TOP_CVES;
    const int width = 1000, row = 24, left = 150, right = 70;
    int height = (int)n * row + 10;
    double max = (double)rows[0].count;
    fprintf(out, "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                 "aria-label=\"Top CVEs\">\n",
            id, width, height, width, height);
    for (i = 0; i < n; i++) {
        const struct cve *c = cve_find(lc, rows[i].id);
        double w = (width - left - right) * (double)rows[i].count / max;
        double y = 5 + (double)i * row;
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"label\">", left - 8,
                y + 14);
        html_escaped(out, rows[i].id);
        fprintf(out, "</text><rect class=\"bar cve\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"16\" fill=\"%s\"><title>",
                left, y, w, c && c->unauthenticated ? COLOR_UNSUPPORTED : "#5c6bc0");
        html_escaped(out, c ? c->name : rows[i].id);
        fprintf(out, "</title></rect><text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%lld</text>\n",
                left + w + 4, y + 13, rows[i].count);
    }
    fputs("</svg>\n<table class=\"cves\"><tr><th>CVE</th><th>Endpoints</th><th>CVSS</th>"
          "<th>Without credentials</th><th>What</th></tr>\n",
          out);
    for (i = 0; i < n; i++) {
        const struct cve *c = cve_find(lc, rows[i].id);
        fputs("<tr><td>", out);
        html_escaped(out, rows[i].id);
        fprintf(out, "</td><td>%lld</td><td>", rows[i].count);
        if (c) {
            fprintf(out, "%.1f ", c->cvss);
            html_escaped(out, c->severity);
            fprintf(out, "</td><td>%s</td><td>", c->unauthenticated ? "yes" : "no");
            html_escaped(out, c->name);
            if (c->unverified)
                fputs(" (fixed versions unverified)", out);
        } else {
            fputs("</td><td></td><td>", out);
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
    free(rows);
}

/* The networks or network_owners table of the statistics: each row's
 * provider labels beside the network, so a reader sees how far they agree. */
static void network_table(FILE *out, const json_t *rows, const char *key, const char *heading)
{
    size_t i;
    json_t *v;
    if (!json_array_size(rows))
        return;
    fprintf(out, "<h2>%s</h2>\n<table class=\"networks\"><tr><th>%s</th><th>Kubernetes</th>"
                 "<th>With version</th><th>Past upstream end of life</th><th>Provider labels "
                 "(classifier)</th></tr>\n",
            heading, strcmp(key, "as") ? "Network owner" : "Origin AS");
    json_array_foreach(rows, i, v) {
        const char *label;
        json_t *count;
        fputs("<tr><td>", out);
        html_escaped(out, json_string_value(json_object_get(v, key)));
        if (json_is_string(json_object_get(v, "country"))) {
            fputs(" (", out);
            html_escaped(out, json_string_value(json_object_get(v, "country")));
            fputs(")", out);
        }
        fprintf(out, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>", num(v, "k8s"),
                num(v, "version_public"), num(v, "unsupported"));
        int first = 1;
        json_object_foreach(json_object_get(v, "providers"), label, count) {
            fputs(first ? "" : ", ", out);
            html_escaped(out, label);
            fprintf(out, " %lld", (long long)json_integer_value(count));
            first = 0;
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void definitions(FILE *out)
{
    fputs("<h2>Definitions</h2>\n<dl>\n"
          "<dt>Endpoint</dt><dd>The unit of every count: one (IPv4 address, TCP port) pair that "
          "answered the SYN of the scan.</dd>\n"
          "<dt>Kubernetes API server</dt><dd>An endpoint the classifier marked as Kubernetes by any "
          "evidence: certificate markers, a version.Info body from GET /version, a Kubernetes "
          "Status body on 401/403, or apiserver headers.</dd>\n"
          "<dt>Version</dt><dd>Taken from gitVersion of GET /version (vendor suffixes such as "
          "-eks-&hellip;, -gke.N, +k3s1 ignored; -alpha/-beta/-rc are pre-releases).</dd>\n"
          "<dt>Unsupported (upstream)</dt><dd>The minor&#39;s upstream end of life (date of its "
          "final patch release) is before the as-of date. The end-of-life day itself still "
          "counts as supported. A minor without a date of its own is unsupported once a newer "
          "minor has reached its end of life.</dd>\n"
          "<dt>Unsupported (provider standard / extended)</dt><dd>The same, judged by the "
          "provider&#39;s own calendar as published on the as-of date (or as known today with "
          "--calendar final): past the end of standard support, or past the end of extended "
          "support / LTS / EUS too where the provider has one. Labels without a calendar "
          "(upstream, other vendor builds, EKS Distro, &hellip;) follow the upstream dates. A minor "
          "missing from a provider&#39;s calendar is unknown.</dd>\n"
          "<dt>Unknown and bounds</dt><dd>Every share is given with unknowns excluded from the "
          "denominator and as bounds: unknowns counted as supported, and as unsupported.</dd>\n"
          "<dt>Clusters</dt><dd>Estimated as distinct leaf (serving) certificates among Kubernetes "
          "endpoints (an endpoint without a certificate counts as its own cluster); the "
          "estimates grouping certificates by per-cluster host name and by cluster CA are shown "
          "beside it.</dd>\n"
          "<dt>CVEs</dt><dd>Kubernetes CVEs of apiserver scope that have a fix, are exploitable "
          "without credentials in the default configuration on the endpoint&#39;s version, and "
          "were publicly disclosed by the as-of date. Flaws without a fix and every other "
          "matching CVE are in the JSON (cves_no_fix, cves_node, cves_all). Every list holds "
          "only CVEs made public by the as-of date. Vendors backport fixes, so a "
          "vendor build&#39;s upstream patch number over-states exposure.</dd>\n"
          "</dl>\n<p>Full definitions: docs/statistics.md. Lifecycle data and sources: "
          "tools/data/.</p>\n",
          out);
}

int report_write_html(FILE *out, const json_t *stats, const struct lifecycle *lc,
                      const char *title, char *err)
{
    int32_t as_of;
    const char *as_of_text = json_string_value(json_object_get(stats, "as_of"));
    if (!as_of_text || ks_date_parse(as_of_text, &as_of) != 0) {
        snprintf(err, KS_ERRLEN, "the statistics have no valid as_of date");
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", out);
    html_escaped(out, title);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;max-width:1040px;margin:2em auto;color:#222}\n"
          "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}\n"
          "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
          "text-align:left}\n.nums td:last-child{text-align:right;font-variant-numeric:tabular-nums}\n"
          "tr.key td{font-weight:bold}.tick{font-size:12px;fill:#333}.label{font-size:13px}\n"
          "dt{font-weight:bold;margin-top:.6em}table.cves td:first-child{white-space:nowrap}\n</style></head><body>\n<h1>",
          out);
    html_escaped(out, title);
    fputs("</h1>\n<p>Scan ", out);
    fprintf(out, "%lld, support judged as of <b>", num(stats, "scan"));
    html_escaped(out, as_of_text);
    fputs("</b>. Unit: (address, port) endpoint.</p>\n", out);
    headline(out, stats);
    families(out, stats);
    chart_minors(out, stats, lc, as_of);
    chart_providers(out, stats);
    chart_cves(out, stats, lc, "cves", "chart-cves",
               "CVEs exploitable without credentials (fixed, disclosed by the date)",
               "No endpoint runs a version in a fixed, unauthenticated-by-default, disclosed "
               "apiserver CVE range.");
    chart_cves(out, stats, lc, "cves_no_fix", "chart-cves-no-fix",
               "Flaws without a fix (mitigated by configuration; not in the headline)",
               "No endpoint version is affected by an API-server flaw without a fix, public by "
               "the date.");
    chart_cves(out, stats, lc, "cves_node", "chart-cves-node",
               "Node-side CVEs (kubelet, volumes) in the API servers&#39; version ranges; "
               "not counted against API servers",
               "No endpoint version is in the range of a node-side CVE public by the date.");
    network_table(out, json_object_get(stats, "network_owners"), "owner",
                  "Network owners against provider labels (--pfx2as, --as2org)");
    network_table(out, json_object_get(stats, "networks"), "as",
                  "Origin ASes against provider labels (--pfx2as)");
    surfaces_report_html(out, json_object_get(stats, "surfaces"));
    definitions(out);
    fputs("</body></html>\n", out);
    if (ferror(out)) {
        snprintf(err, KS_ERRLEN, "write error");
        return -1;
    }
    return 0;
}
