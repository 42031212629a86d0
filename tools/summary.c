/*
 * summary.c - the readable form of a statistics object.
 */
#include "tools/tools.h"

#include <stdio.h>
#include <string.h>

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print_share(FILE *out, const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_number(v))
        fprintf(out, " (%.1f%%)", 100.0 * json_number_value(v));
    else
        fprintf(out, " (share undefined: no versions)");
}

void stats_print_summary(FILE *out, const json_t *s)
{
    const char *key;
    json_t *v;
    fprintf(out, "as of %s (unit: address:port endpoint)\n",
            json_string_value(json_object_get(s, "as_of")));
    fprintf(out, "  answered SYN              %12lld\n", num(s, "syn_open"));
    fprintf(out, "  completed TLS             %12lld\n", num(s, "tls"));
    fprintf(out, "  Kubernetes API servers    %12lld (by certificate markers: %lld)\n",
            num(s, "k8s"), num(s, "k8s_by_cert"));
    fprintf(out, "  estimated clusters        %12lld (distinct serving certificates)\n",
            num(s, "clusters"));
    fprintf(out, "  GET /version answered     %12lld\n", num(s, "version_public"));
    fprintf(out, "  unsupported upstream      %12lld", num(s, "unsupported"));
    print_share(out, s, "unsupported_share");
    fprintf(out, "\n  unsupported by provider   %12lld", num(s, "provider_unsupported"));
    print_share(out, s, "provider_unsupported_share");
    fprintf(out, "\n  clusters with a version   %12lld\n", num(s, "clusters_version_public"));
    fprintf(out, "  ... unsupported upstream  %12lld", num(s, "clusters_unsupported"));
    print_share(out, s, "clusters_unsupported_share");
    fprintf(out, "\n  ... unsupported by provider %10lld", num(s, "clusters_provider_unsupported"));
    print_share(out, s, "clusters_provider_unsupported_share");
    fprintf(out, "\n");
    json_t *auth = json_object_get(s, "auth");
    fprintf(out, "  /version status: 200 %lld, 401 %lld, 403 %lld\n", num(auth, "public"),
            num(auth, "unauthorized_401"), num(auth, "forbidden_403"));
    if (num(s, "corrupt_records"))
        fprintf(out, "  corrupt records skipped   %12lld\n", num(s, "corrupt_records"));

    fprintf(out, "\nby provider             hosts  with version  unsupported  provider-unsupported\n");
    json_object_foreach(json_object_get(s, "by_provider"), key, v)
        fprintf(out, "  %-18s %10lld %13lld %12lld %21lld\n", key, num(v, "hosts"),
                num(v, "version_public"), num(v, "unsupported"), num(v, "provider_unsupported"));
    fprintf(out, "\nby minor\n");
    json_object_foreach(json_object_get(s, "by_minor"), key, v)
        fprintf(out, "  %-8s %10lld\n", key, (long long)json_integer_value(v));
    json_t *cves = json_object_get(s, "cves");
    if (json_object_size(cves)) {
        fprintf(out, "\nCVEs (apiserver scope; endpoints whose version is in an affected range)\n");
        json_object_foreach(cves, key, v)
            fprintf(out, "  %-18s %10lld\n", key, (long long)json_integer_value(v));
    }
    json_t *nets = json_object_get(s, "networks");
    if (json_array_size(nets)) {
        size_t i;
        fprintf(out, "\ntop origin ASes        k8s  with version  unsupported  providers (classifier)\n");
        json_array_foreach(nets, i, v) {
            const char *name;
            json_t *count;
            int first = 1;
            fprintf(out, "  AS%-14s %8lld %13lld %12lld  ",
                    json_string_value(json_object_get(v, "as")), num(v, "k8s"),
                    num(v, "version_public"), num(v, "unsupported"));
            json_object_foreach(json_object_get(v, "providers"), name, count) {
                fprintf(out, "%s%s %lld", first ? "" : ", ", name,
                        (long long)json_integer_value(count));
                first = 0;
            }
            fputc('\n', out);
        }
    }
}
