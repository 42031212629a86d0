/*
 * summary.c - the readable form of a statistics object.
 */
#include "tools/analysis/analysis.h"

#include <stdio.h>
#include <string.h>

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* "count (share%, unknown N: excluding unknown x%, bounds a%-b%)" from a
 * share_bounds object of the statistics. */
static void print_figure(FILE *out, const char *label, const json_t *f)
{
    fprintf(out, "  %-28s %9lld", label, num(f, "count"));
    json_t *lo = json_object_get(f, "unknown_as_supported");
    if (!json_is_number(lo)) {
        fprintf(out, "  (share undefined: no versions)\n");
        return;
    }
    json_t *known = json_object_get(f, "excluding_unknown");
    fprintf(out, "  %5.1f%%  unknown %lld", 100.0 * json_number_value(lo), num(f, "unknown"));
    if (num(f, "unknown")) {
        if (json_is_number(known))
            fprintf(out, ": %.1f%% of known", 100.0 * json_number_value(known));
        fprintf(out, ", bounds %.1f%%-%.1f%%", 100.0 * json_number_value(lo),
                100.0 * json_number_value(json_object_get(f, "unknown_as_unsupported")));
    }
    fputc('\n', out);
}

/* A CVE list of the statistics (id -> endpoints) under its title. */
static void print_cve_list(FILE *out, const json_t *list, const char *title)
{
    const char *key;
    json_t *v;
    if (!json_object_size(list))
        return;
    fprintf(out, "%s\n", title);
    json_object_foreach((json_t *)list, key, v)
        fprintf(out, "  %-18s %10lld\n", key, (long long)json_integer_value(v));
}

/* The networks or network_owners table: each row's provider labels beside
 * the network, so a reader sees how far the labels agree. */
static void print_networks(FILE *out, const json_t *rows, const char *key, const char *title)
{
    size_t i;
    json_t *v;
    if (!json_array_size(rows))
        return;
    fprintf(out, "\n%s\n  %-30s %8s %8s %8s  %s\n", title, key, "k8s", "version",
            "unsupp.", "providers (classifier)");
    json_array_foreach(rows, i, v) {
        const char *name;
        json_t *count;
        int first = 1;
        fprintf(out, "  %s%-*.*s %8lld %8lld %8lld  ", strcmp(key, "as") ? "" : "AS",
                strcmp(key, "as") ? 30 : 28, strcmp(key, "as") ? 30 : 28,
                json_string_value(json_object_get(v, key)), num(v, "k8s"),
                num(v, "version_public"), num(v, "unsupported"));
        json_object_foreach(json_object_get(v, "providers"), name, count) {
            fprintf(out, "%s%s %lld", first ? "" : ", ", name, (long long)json_integer_value(count));
            first = 0;
        }
        fputc('\n', out);
    }
}

/* by_family: each family's headline counts and upstream / provider shares
 * (unknown counted as supported, as the lines above). */
static void print_families(FILE *out, const json_t *by)
{
    static const char *const names[] = {"ipv4", "ipv6"};
    static const char *const views[] = {"unsupported", "provider_unsupported",
                                        "provider_unsupported_extended"};
    fprintf(out, "\nby address family  answered      TLS      k8s  version  upstream  standard  "
                 "extended\n");
    for (int f = 0; f < 2; f++) {
        const json_t *o = json_object_get(by, names[f]);
        fprintf(out, "  %-14s %10lld %8lld %8lld %8lld", names[f], num(o, "syn_open"),
                num(o, "tls"), num(o, "k8s"), num(o, "version_public"));
        for (int v = 0; v < 3; v++) {
            json_t *share = json_object_get(json_object_get(json_object_get(o, "shares"),
                                                            views[v]), "unknown_as_supported");
            if (json_is_number(share))
                fprintf(out, "  %7.1f%%", 100.0 * json_number_value(share));
            else
                fprintf(out, "  %8s", "n/a");
        }
        fputc('\n', out);
    }
}

void stats_print_summary(FILE *out, const json_t *s)
{
    const char *key;
    json_t *v;
    const json_t *shares = json_object_get(s, "shares");
    fprintf(out, "as of %s, provider calendars %s (unit: address:port endpoint)\n",
            json_string_value(json_object_get(s, "as_of")),
            json_string_value(json_object_get(s, "calendar")));
    fprintf(out, "  answered SYN              %12lld\n", num(s, "syn_open"));
    fprintf(out, "  completed TLS             %12lld\n", num(s, "tls"));
    fprintf(out, "  Kubernetes API servers    %12lld (by certificate markers: %lld)\n",
            num(s, "k8s"), num(s, "k8s_by_cert"));
    if (num(s, "kubelets"))
        fprintf(out, "  kubelets (not counted)    %12lld\n", num(s, "kubelets"));
    if (num(s, "all_ports_open"))
        fprintf(out, "  host answers every port   %12lld (not counted as API servers: %lld)\n",
                num(s, "all_ports_open"), num(s, "all_ports_open_excluded"));
    fprintf(out, "  estimated clusters        %12lld (by %s; others:", num(s, "clusters"),
            json_string_value(json_object_get(s, "clusters_estimator")));
    json_object_foreach(json_object_get(s, "cluster_estimates"), key, v)
        fprintf(out, " %s %lld", key, num(v, "clusters"));
    fprintf(out, ")\n");
    fprintf(out, "  GET /version answered     %12lld\n", num(s, "version_public"));
    fprintf(out, "\nunsupported (share of those with a version; unknown = no calendar row)\n");
    print_figure(out, "upstream end of life", json_object_get(shares, "unsupported"));
    print_figure(out, "provider standard support", json_object_get(shares, "provider_unsupported"));
    print_figure(out, "provider extended/LTS",
                 json_object_get(shares, "provider_unsupported_extended"));
    fprintf(out, "clusters with a version      %9lld\n", num(s, "clusters_version_public"));
    print_figure(out, "... upstream end of life", json_object_get(shares, "clusters_unsupported"));
    print_figure(out, "... provider standard",
                 json_object_get(shares, "clusters_provider_unsupported"));
    print_figure(out, "... provider extended/LTS",
                 json_object_get(shares, "clusters_provider_unsupported_extended"));
    json_t *auth = json_object_get(s, "auth");
    fprintf(out, "  /version status: 200 %lld, 401 %lld, 403 %lld\n", num(auth, "public"),
            num(auth, "unauthorized_401"), num(auth, "forbidden_403"));
    if (num(s, "corrupt_records"))
        fprintf(out, "  corrupt records skipped   %12lld\n", num(s, "corrupt_records"));
    print_families(out, json_object_get(s, "by_family"));

    fprintf(out, "\nby provider          hosts  version  upstream (?)  standard (?)  extended (?)\n");
    json_object_foreach(json_object_get(s, "by_provider"), key, v)
        fprintf(out, "  %-16s %7lld %8lld %8lld (%lld) %8lld (%lld) %8lld (%lld)\n", key,
                num(v, "hosts"), num(v, "version_public"), num(v, "unsupported"),
                num(v, "lifecycle_unknown"), num(v, "provider_unsupported"),
                num(v, "provider_lifecycle_unknown"), num(v, "provider_unsupported_extended"),
                num(v, "provider_extended_lifecycle_unknown"));
    fprintf(out, "\nby minor\n");
    json_object_foreach(json_object_get(s, "by_minor"), key, v)
        fprintf(out, "  %-8s %10lld\n", key, (long long)json_integer_value(v));
    json_t *cves = json_object_get(s, "cves");
    if (json_object_size(cves)) {
        fprintf(out, "\nCVEs (fixed, exploitable without credentials by default, disclosed by the "
                     "date; endpoints)\n");
        json_object_foreach(cves, key, v)
            fprintf(out, "  %-18s %10lld\n", key, (long long)json_integer_value(v));
    }
    print_cve_list(out, json_object_get(s, "cves_no_fix"),
                   "CVEs without a fix (design flaws; mitigated by configuration)");
    print_cve_list(out, json_object_get(s, "cves_node"),
                   "Node-side CVEs in the API servers' version ranges (not counted against them)");
    fprintf(out, "(every matching CVE with its flags: cves_all in --json)\n");
    print_networks(out, json_object_get(s, "networks"), "as", "top origin ASes");
    print_networks(out, json_object_get(s, "network_owners"), "owner",
                   "network owners (as2org) against provider labels");
    surfaces_print(out, json_object_get(s, "surfaces"));
}
