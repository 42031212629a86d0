/*
 * datasheet.c - DATASHEET.md following "Datasheets for Datasets" (Gebru,
 * Morgenstern, Vecchione, Wortman Vaughan, Wallach, Daumé III, Crawford;
 * Communications of the ACM 64(12), 2021), filled from the package's scan
 * record, statistics and record counts; and CITATION.cff (Citation File
 * Format 1.2.0). What only the author can say is left as marked
 * placeholders ("AUTHOR:"), never guessed.
 */
#include "tools/publish/publish.h"
#include "ks_version.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* docs/statistics.md, compiled in (CMakeLists.txt): its "Method and threats
 * to validity" section is the datasheet's list of limits, so the two
 * cannot drift apart. */
extern const char ks_doc_statistics_md[];

#define AUTHOR_MARK "**AUTHOR:**"

/* ---- composition counts ---- */

/* The fields whose values the composition counts, when the table has them. */
static const char *const composition_fields[] = {"outcome", "verdict", "module", "provider",
                                                 "version_state", NULL};

/* The value of an enumerated or string field as a label. */
static const char *field_label(const struct probe_result *r, const struct record_field *f)
{
    const void *p = record_field_ptr(r, f);
    switch (f->type) {
    case FIELD_OUTCOME: return probe_outcome_name(*(const enum probe_outcome *)p);
    case FIELD_VERDICT: return k8s_verdict_name(*(const enum k8s_verdict *)p);
    case FIELD_VERSION_STATE: return version_state_name(*(const enum version_state *)p);
    case FIELD_STRING: return *(char *const *)p ? *(char *const *)p : "(none)";
    default: return NULL;
    }
}

int publish_composition_add(json_t *composition, const struct probe_result *r)
{
    for (size_t i = 0; i < record_field_count; i++) {
        const struct record_field *f = &record_fields[i];
        bool counted = false;
        for (const char *const *name = composition_fields; *name && !counted; name++)
            counted = !strcmp(*name, f->name);
        const char *label = counted ? field_label(r, f) : NULL;
        if (!label)
            continue;
        json_t *by = json_object_get(composition, f->name);
        if (!by && json_object_set_new(composition, f->name, by = json_object()) != 0)
            return -1;
        json_t *n = json_object_get(by, label);
        if (json_object_set_new(by, label, json_integer(n ? json_integer_value(n) + 1 : 1)) != 0)
            return -1;
    }
    return 0;
}

/* ---- Markdown helpers ---- */

/* Text from the data (a provider label, a path) in a table cell or line:
 * characters that would change the Markdown are shown as '?'. */
static void md_text(FILE *out, const char *s)
{
    for (; s && *s; s++)
        fputc(strchr("|`<>*_[]\\\r\n", *s) || (unsigned char)*s < 0x20 ? '?' : *s, out);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void line_value(FILE *out, const char *label, const json_t *v, const char *missing)
{
    fprintf(out, "- %s: ", label);
    if (json_is_string(v)) {
        fputc('`', out);
        md_text(out, json_string_value(v));
        fputc('`', out);
    } else if (json_is_integer(v)) {
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        fprintf(out, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "yes" : "no", out);
    } else {
        fputs(missing, out);
    }
    fputc('\n', out);
}

/* A table of label -> count, largest first. */
static void count_table(FILE *out, const char *what, const json_t *by)
{
    const char *key;
    json_t *v;
    size_t n = json_object_size(by), k = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    if (!keys)
        return;
    json_object_foreach((json_t *)by, key, v)
        keys[k++] = key;
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of labels */
        for (size_t j = i; j > 0 && num(by, keys[j]) > num(by, keys[j - 1]); j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    fprintf(out, "\n| %s | records |\n|---|---:|\n", what);
    for (size_t i = 0; i < n; i++) {
        fputs("| ", out);
        md_text(out, keys[i]);
        fprintf(out, " | %" JSON_INTEGER_FORMAT " |\n", num(by, keys[i]));
    }
    free(keys);
}

static void share_line(FILE *out, const char *label, const json_t *share)
{
    fprintf(out, "%s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT, label,
            num(share, "count"), num(share, "denominator"));
    const json_t *low = json_object_get(share, "unknown_as_supported");
    const json_t *high = json_object_get(share, "unknown_as_unsupported");
    if (json_is_number(low) && json_is_number(high))
        fprintf(out, " (%.1f%%; %" JSON_INTEGER_FORMAT " unknown: between %.1f%% and %.1f%%)",
                100 * json_number_value(low), num(share, "unknown"), 100 * json_number_value(low),
                100 * json_number_value(high));
    fputc('\n', out);
}

/* ---- sections ---- */

static void motivation(FILE *out, const struct publish_info *in)
{
    fprintf(out,
            "## Motivation\n\n"
            "- Purpose (from the tool): how many Kubernetes API servers anyone on the internet\n"
            "  can reach, which versions they run, how many run releases past their upstream or\n"
            "  provider support, measured by an unauthenticated TCP, TLS and `GET /version`\n"
            "  probe of every (IPv4 address, port) that answered a SYN.\n"
            "- Research question, who created the dataset and for which entity: " AUTHOR_MARK
            " _to be written._\n"
            "- Funding: " AUTHOR_MARK " _to be written._\n");
    if (in->title) {
        fputs("- Title given: ", out);
        md_text(out, in->title);
        fputc('\n', out);
    }
}

static void composition(FILE *out, const struct publish_info *in)
{
    const json_t *st = in->stats, *shares = json_object_get(st, "shares");
    fprintf(out,
            "\n## Composition\n\n"
            "- Each instance is one endpoint, an (IPv4 address, TCP port) pair that answered the\n"
            "  SYN in scan %" JSON_INTEGER_FORMAT "; one line of `" PUBLISH_RECORDS_JSONL
            "` and of `" PUBLISH_RECORDS_CSV "`.\n"
            "  Every field is described in `" PUBLISH_RECORD_SCHEMA "` (generated from the\n"
            "  record's field table) and in kubesurvey's docs/probe-schema.md.\n",
            num(st, "scan"));
    fprintf(out,
            "- Endpoints: %" JSON_INTEGER_FORMAT "; TLS completed: %" JSON_INTEGER_FORMAT
            "; Kubernetes API servers: %" JSON_INTEGER_FORMAT "; kubelets: %" JSON_INTEGER_FORMAT
            "; API servers that gave their version without credentials: %" JSON_INTEGER_FORMAT
            "; estimated clusters (distinct serving certificates): %" JSON_INTEGER_FORMAT ".\n",
            num(st, "syn_open"), num(st, "tls"), num(st, "k8s"), num(st, "kubelets"),
            num(st, "version_public"), num(st, "clusters"));
    fprintf(out, "- As of %s (calendars %s), of the versioned API servers:\n",
            str(st, "as_of") ? str(st, "as_of") : "?", str(st, "calendar") ? str(st, "calendar") : "?");
    share_line(out, "  - past upstream end of life", json_object_get(shares, "unsupported"));
    share_line(out, "  - past the provider's standard support",
               json_object_get(shares, "provider_unsupported"));
    share_line(out, "  - past extended support / LTS too",
               json_object_get(shares, "provider_unsupported_extended"));
    fprintf(out, "  Every figure is in `" PUBLISH_STATS "` (definitions: docs/statistics.md).\n");
    const char *key;
    json_t *by;
    json_object_foreach(in->composition, key, by) {
        char what[64];
        snprintf(what, sizeof(what), "by %s", key);
        count_table(out, what, by);
    }
    fprintf(out,
            "\n- Missing: %" JSON_INTEGER_FORMAT " stored record(s) could not be decoded and are"
            " not in the package; endpoints that did not answer the SYN are not recorded.\n",
            num(st, "corrupt_records"));
    if (in->certs)
        fprintf(out, "- Certificates: `" PUBLISH_CERTS "` holds each of the %" PRIu64
                     " distinct certificates once, keyed by the SHA-256 the records name.\n",
                in->cert_count);
    else
        fprintf(out, "- Certificates: not included; the records keep each certificate's %s"
                     " and length.\n",
                in->anonymized ? "keyed hash (HMAC-SHA-256)" : "SHA-256");
    if (in->anonymized)
        fprintf(out, "- Confidentiality: addresses are anonymised (below); no record names a"
                     " person. Version strings, providers and ports are kept.\n");
    else
        fprintf(out, "- Confidentiality: **NOT ANONYMISED** (`--no-anonymize` was given): the"
                     " records hold real IPv4 addresses%s. " AUTHOR_MARK
                     " _say why this is needed and what protects the hosts listed._\n",
                in->certs ? " and the certificates their host names" : "");
}

static void collection(FILE *out, const struct publish_info *in)
{
    const json_t *s = in->scan, *pub = json_object_get(s, "publication");
    const json_t *counters = json_object_get(s, "counters"), *loss = json_object_get(s, "loss");
    fprintf(out, "\n## Collection process\n\n");
    line_value(out, "Started (UTC)", json_object_get(s, "started"), "not recorded");
    line_value(out, "Ended (UTC)", json_object_get(s, "ended"), "not recorded");
    line_value(out, "Duration (s)", json_object_get(s, "duration"), "not recorded");
    line_value(out, "Rate (packets/s, 0 = unlimited)", json_object_get(s, "rate_pps"), "not recorded");
    line_value(out, "SYNs per target", json_object_get(s, "probes"), "not recorded");
    line_value(out, "Ports", json_object_get(s, "ports"), "not recorded");
    fputs("- Targets: ", out);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(s, "targets"), i, t) {
        fputs(i ? ", `" : "`", out);
        md_text(out, json_string_value(t));
        fputc('`', out);
    }
    fputs(json_array_size(json_object_get(s, "targets")) ? "\n" : "not recorded\n", out);
    line_value(out, "Addresses scanned after the blocklist", json_object_get(s, "target_addresses"),
               "not recorded");
    line_value(out, "Target space ((address, port) pairs)", json_object_get(s, "target_space"),
               "not recorded");
    line_value(out, "Blocklist", json_object_get(s, "blocklist_mode"), "not recorded");
    line_value(out, "IPv4 addresses in the blocklist", json_object_get(s, "blocklist_addresses"),
               "not recorded");
    line_value(out, "Blocklist digest (SHA-256 of the normalised list)",
               json_object_get(s, "block_digest"), "not recorded");
    line_value(out, "Opt-out list given", json_boolean(json_is_string(json_object_get(s, "opt_out"))),
               "no");
    line_value(out, "Opt-out list digest (as loaded at the start)",
               json_object_get(s, "opt_out_digest"), "none");
    line_value(out, "Targets skipped by the opt-out list", json_object_get(counters, "opted_out"),
               "not recorded");
    line_value(out, "Replies from opted-out addresses dropped",
               json_object_get(counters, "opted_out_replies"), "not recorded");
    if (json_is_object(loss))
        line_value(out, "Estimated loss (share of responders missed)",
                   json_object_get(loss, "estimated_loss"), "not estimated");
    else
        fputs("- Estimated loss: not estimated (one SYN per target; `-P 2` or more estimates it)\n",
              out);
    line_value(out, "Shards of the run", json_object_get(s, "shards"), "1");
    line_value(out, "Source address", json_object_get(s, "source_ip"), "not recorded");
    fputs("- Source address policy (reverse DNS, web page, contact, how opt-outs were "
          "requested): " AUTHOR_MARK " _to be written (see docs/survey-guide.md)._\n", out);
    line_value(out, "Scanner", json_object_get(s, "kubesurvey_version"), "not recorded");
    line_value(out, "Package written by kubesurvey", json_object_get(pub, "kubesurvey_version"), "?");
    fputs("- Lifecycle data used for the statistics (SHA-256 of each file):\n", out);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(pub, "lifecycle_data"), key, v) {
        fputs("  - `", out);
        md_text(out, key);
        fputs("` ", out);
        md_text(out, json_string_value(v));
        fputc('\n', out);
    }
    fputs("- Ethical review, notification of network operators: " AUTHOR_MARK
          " _to be written._\n", out);
}

static void cleaning(FILE *out, const struct publish_info *in)
{
    fputs("\n## Preprocessing, cleaning, labelling\n\n", out);
    if (in->anonymized)
        fputs("- Anonymisation (docs/export.md): addresses by Crypto-PAn (prefix-preserving,\n"
              "  AES-128, key held by the author): two addresses sharing their first k bits\n"
              "  still do, so /24s and routing prefixes survive, and the same key gives the\n"
              "  same mapping in every package. Certificate hashes are keyed (HMAC-SHA-256):\n"
              "  they still link endpoints sharing a certificate but cannot be looked up.\n"
              "  Certificates and bodies other than a version.Info are dropped; the real\n"
              "  address is replaced wherever it appears in text. Kept: ports, times,\n"
              "  versions, providers, audit and priority-and-fairness ids.\n", out);
    else
        fputs("- No anonymisation: `--no-anonymize` was given explicitly.\n", out);
    fputs("- Labels (`verdict`, `evidence`, `provider`, `version_*`) are the classifier's,\n"
          "  from the certificate, headers and `/version` body (docs/probes.md).\n"
          "- Raw data (the scan's store) is kept by the author: " AUTHOR_MARK
          " _say where and for how long._\n", out);
}

/* The "Method and threats to validity" section of docs/statistics.md, its
 * headings made one level deeper. */
static void limits(FILE *out)
{
    static const char heading[] = "\n## Method and threats to validity\n";
    const char *start = strstr(ks_doc_statistics_md, heading);
    fputs("\n## Uses and limits\n\n"
          "- Intended uses: the prevalence of exposed Kubernetes API servers, their versions\n"
          "  and support status; other uses: " AUTHOR_MARK " _to be written._\n"
          "- Uses to avoid: contacting or attacking the hosts; de-anonymising them.\n", out);
    if (!start)
        return;
    start += sizeof(heading) - 1;
    const char *end = strstr(start, "\n## ");
    fputs("\nThreats to validity (kubesurvey docs/statistics.md, \"Method and threats to "
          "validity\"):\n", out);
    fwrite(start, 1, end ? (size_t)(end - start) : strlen(start), out);
    fputc('\n', out);
}

static void distribution(FILE *out, const struct publish_info *in)
{
    fputs("\n## Distribution\n\n", out);
    fputs("- Licence: ", out);
    if (in->license)
        md_text(out, in->license);
    else
        fputs(AUTHOR_MARK " _an SPDX identifier, e.g. CC-BY-4.0._", out);
    fputs("\n- Where (repository, DOI): ", out);
    if (in->doi || in->url) {
        md_text(out, in->doi ? in->doi : "");
        fputs(in->doi && in->url ? " " : "", out);
        md_text(out, in->url ? in->url : "");
    } else {
        fputs(AUTHOR_MARK " _to be written._", out);
    }
    fputs("\n- Files: `" PUBLISH_RECORDS_JSONL "` and `" PUBLISH_RECORDS_CSV "` (zstd; JSON Lines"
          " and RFC 4180 CSV), ", out);
    if (in->certs)
        fputs("`" PUBLISH_CERTS "`, ", out);
    fputs("`" PUBLISH_SCANS "`, `" PUBLISH_STATS "`, `schema/`, this datasheet, `" PUBLISH_CITATION
          "`; `" PUBLISH_SUMS "` (`sha256sum -c " PUBLISH_SUMS "`; `kubesurvey verify DIR`"
          " also checks every line against its schema and recomputes `" PUBLISH_STATS "`).\n"
          "\n## Maintenance\n\n"
          "- Maintainer and contact: " AUTHOR_MARK " _to be written._\n"
          "- Errata, updates, later scans: " AUTHOR_MARK " _to be written._\n"
          "- Removal requests (opt-out): " AUTHOR_MARK " _how a network owner asks._\n", out);
}

int publish_write_datasheet(FILE *out, const struct publish_info *in, char *err)
{
    fputs("# Datasheet: ", out);
    md_text(out, in->title ? in->title : "exposed Kubernetes endpoints");
    fprintf(out,
            "\n\nWritten by kubesurvey %s on %s from scan %" JSON_INTEGER_FORMAT ", following\n"
            "\"Datasheets for Datasets\" (Gebru et al., Communications of the ACM 64(12), 2021).\n"
            "Everything is filled from the data except the parts marked " AUTHOR_MARK ",\n"
            "which only the dataset's author can write.\n\n",
            KS_VERSION, in->today, num(in->stats, "scan"));
    motivation(out, in);
    composition(out, in);
    collection(out, in);
    cleaning(out, in);
    limits(out);
    distribution(out, in);
    if (ferror(out)) {
        snprintf(err, KS_ERRLEN, "writing " PUBLISH_DATASHEET " failed");
        return -1;
    }
    return 0;
}

/* ---- CITATION.cff ---- */

/* A YAML double-quoted scalar. */
static void yaml_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void yaml_field(FILE *out, const char *key, const char *value, const char *todo)
{
    if (value) {
        fprintf(out, "%s: ", key);
        yaml_string(out, value);
        fputc('\n', out);
    } else {
        fprintf(out, "# AUTHOR: %s: %s\n", key, todo ? todo : "to be written");
    }
}

/* "Family, Given" -> family-names and given-names; anything else: name. */
static void yaml_author(FILE *out, const char *author)
{
    const char *comma = strchr(author, ',');
    if (!comma) {
        fputs("  - name: ", out);
        yaml_string(out, author);
        fputc('\n', out);
        return;
    }
    char *family = strndup(author, (size_t)(comma - author));
    const char *given = comma + 1 + strspn(comma + 1, " ");
    fputs("  - family-names: ", out);
    yaml_string(out, family ? family : author);
    fputs("\n    given-names: ", out);
    yaml_string(out, given);
    fputc('\n', out);
    free(family);
}

int publish_write_citation(FILE *out, const struct publish_info *in, char *err)
{
    const json_t *st = in->stats;
    fprintf(out, "# Citation File Format 1.2.0 (https://citation-file-format.github.io/),\n"
                 "# written by kubesurvey publish. Lines starting \"# AUTHOR:\" are for the\n"
                 "# dataset's author to fill in (then remove the '#').\n"
                 "cff-version: 1.2.0\n"
                 "message: \"If you use this dataset, please cite it as below.\"\n"
                 "type: dataset\n");
    yaml_field(out, "title", in->title ? in->title : "Exposed Kubernetes endpoints", NULL);
    fputs("authors:\n", out);
    if (in->authors && in->authors[0])
        for (const char *const *a = in->authors; *a; a++)
            yaml_author(out, *a);
    else
        fputs("  # AUTHOR: family-names, given-names, affiliation, orcid of each author\n"
              "  - name: \"AUTHOR: to be written\"\n", out);
    yaml_field(out, "version", in->version, "the dataset's version");
    yaml_field(out, "date-released", in->today, NULL);
    yaml_field(out, "license", in->license, "an SPDX identifier, e.g. CC-BY-4.0");
    yaml_field(out, "url", in->url, "where the dataset is published");
    yaml_field(out, "doi", in->doi, "the dataset's DOI");
    char abstract[512];
    snprintf(abstract, sizeof(abstract),
             "Endpoints (IPv4 address, TCP port) that answered a SYN in one scan, probed with "
             "TLS and GET /version and classified: %" JSON_INTEGER_FORMAT " endpoints, %"
             JSON_INTEGER_FORMAT " Kubernetes API servers, %" JSON_INTEGER_FORMAT
             " of them giving their version, as of %s. Collected with kubesurvey %s.",
             num(st, "syn_open"), num(st, "k8s"), num(st, "version_public"),
             str(st, "as_of") ? str(st, "as_of") : "?", KS_VERSION);
    yaml_field(out, "abstract", abstract, NULL);
    fputs("keywords:\n  - Kubernetes\n  - internet measurement\n  - TLS\n", out);
    if (ferror(out)) {
        snprintf(err, KS_ERRLEN, "writing " PUBLISH_CITATION " failed");
        return -1;
    }
    return 0;
}
