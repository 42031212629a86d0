/*
 * series.c - the HTML page of scans over time (`kubesurvey report DB...`):
 * inline SVG line charts of the counts and of the unsupported shares, the
 * versions by minor as stacked shares, and the changes between consecutive
 * scans, from the object of tool_compute_series (tools/cli/series.c). Self-
 * contained as report.c's page is: no scripts, nothing fetched.
 */
#include "tools/analysis/analysis.h"
#include "tools/analysis/html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH = 1000, HEIGHT = 320, LEFT = 70, RIGHT = 160, TOP = 20, BOTTOM = 50 };


static double number(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* The lower bound of a share object (unknowns counted as supported), or
 * -1 when it has no denominator. */
static double share_of(const json_t *point, const char *key)
{
    const json_t *v = json_object_get(json_object_get(point, key), "unknown_as_supported");
    return json_is_number(v) ? json_number_value(v) : -1;
}

static double x_of(size_t i, size_t n)
{
    double span = WIDTH - LEFT - RIGHT;
    return n < 2 ? LEFT + span / 2 : LEFT + span * (double)i / (double)(n - 1);
}

static void svg_open(FILE *out, const char *id, const char *label)
{
    fprintf(out, "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                 "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n",
            id, WIDTH, HEIGHT, WIDTH, HEIGHT, label);
}

/* Axes, y ticks from 0 to max (as a percentage when percent), the scans'
 * days under the x axis. */
static void axes(FILE *out, const json_t *points, double max, bool percent)
{
    size_t n = json_array_size(points);
    int bottom = HEIGHT - BOTTOM;
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT, bottom,
            WIDTH - RIGHT + 10, bottom);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT, TOP,
            LEFT, bottom);
    for (int t = 0; t <= 4; t++) {
        double y = bottom - (double)(bottom - TOP) * t / 4;
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">", LEFT - 6,
                y + 4);
        if (percent)
            fprintf(out, "%g%%", 100 * max * t / 4);
        else
            fprintf(out, "%.0f", max * t / 4);
        fputs("</text>\n", out);
    }
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p) {
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">", x_of(i, n),
                bottom + 18);
        html_escaped(out, json_string_value(json_object_get(p, "as_of")));
        fprintf(out, "</text>\n");
    }
}

/* One line through the points' values (a negative value breaks it). */
static void polyline(FILE *out, const char *name, const char *color, const double *values,
                     size_t n, double max, size_t legend_row)
{
    int bottom = HEIGHT - BOTTOM;
    fprintf(out, "<polyline class=\"line %s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
            name, color);
    for (size_t i = 0; i < n; i++)
        if (values[i] >= 0)
            fprintf(out, "%.1f,%.1f ", x_of(i, n), bottom - (bottom - TOP) * values[i] / max);
    fputs("\"/>\n", out);
    for (size_t i = 0; i < n; i++)
        if (values[i] >= 0)
            fprintf(out, "<circle class=\"point %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
                    name, x_of(i, n), bottom - (bottom - TOP) * values[i] / max, color);
    fprintf(out, "<rect x=\"%d\" y=\"%zu\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                 "<text x=\"%d\" y=\"%zu\" font-size=\"12\">%s</text>\n",
            WIDTH - RIGHT + 20, TOP + 20 * legend_row, color, WIDTH - RIGHT + 38,
            TOP + 20 * legend_row + 11, name);
}

static void chart_counts(FILE *out, const json_t *points)
{
    static const struct { const char *key, *name, *color; } lines[] = {
        {"syn_open", "endpoints", "#455a64"},
        {"k8s", "api-servers", "#1565c0"},
        {"version_public", "versioned", "#2e7d32"},
    };
    size_t n = json_array_size(points);
    double *values = calloc(n ? n : 1, sizeof(double)), max = 1;
    if (!values)
        return;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++)
            if (number(json_array_get(points, i), lines[l].key) > max)
                max = number(json_array_get(points, i), lines[l].key);
    max = (double)(((long long)max + 3) / 4 * 4);
    fputs("<h2>Endpoints and API servers</h2>\n", out);
    svg_open(out, "chart-series-counts", "Endpoints and API servers per scan");
    axes(out, points, max, false);
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
        for (size_t i = 0; i < n; i++)
            values[i] = number(json_array_get(points, i), lines[l].key);
        polyline(out, lines[l].name, lines[l].color, values, n, max, l);
    }
    fputs("</svg>\n", out);
    free(values);
}

static void chart_unsupported(FILE *out, const json_t *points)
{
    static const struct { const char *key, *name, *color; } lines[] = {
        {"unsupported", "upstream", "#c62828"},
        {"provider_unsupported", "provider", "#ef6c00"},
        {"provider_unsupported_extended", "extended", "#6a1b9a"},
    };
    size_t n = json_array_size(points);
    double *values = calloc(n ? n : 1, sizeof(double)), max = 0.25;
    if (!values)
        return;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++)
            while (share_of(json_array_get(points, i), lines[l].key) > max && max < 1)
                max += 0.25;
    fputs("<h2>Unsupported, each scan as of its own day</h2>\n", out);
    svg_open(out, "chart-series-unsupported", "Share of versioned API servers past support");
    axes(out, points, max, true);
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
        for (size_t i = 0; i < n; i++)
            values[i] = share_of(json_array_get(points, i), lines[l].key);
        polyline(out, lines[l].name, lines[l].color, values, n, max, l);
    }
    fputs("</svg>\n<p>Shares of the API servers that gave their version, unknowns counted as "
          "supported (the lower bound; the table below has the bounds): past upstream end of "
          "life, past the provider&#39;s standard support, past extended support / LTS too.</p>\n",
          out);
    free(values);
}

/* The minors of every point, in version order. */
static json_t *all_minors(const json_t *points)
{
    json_t *seen = json_object();
    size_t i;
    json_t *p, *v;
    const char *key;
    json_array_foreach(points, i, p)
        json_object_foreach(json_object_get(p, "by_minor"), key, v)
            json_object_set_new(seen, key, json_true());
    json_t *list = json_array();
    json_object_foreach(seen, key, v)
        json_array_append_new(list, json_string(key));
    /* insertion sort by (major, minor): tens of minors */
    size_t n = json_array_size(list);
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0; b--) {
            int ma, na, mb, nb;
            sscanf(json_string_value(json_array_get(list, b - 1)), "%d.%d", &ma, &na);
            sscanf(json_string_value(json_array_get(list, b)), "%d.%d", &mb, &nb);
            if (ma < mb || (ma == mb && na <= nb))
                break;
            json_t *t = json_incref(json_array_get(list, b));
            json_array_set(list, b, json_array_get(list, b - 1));
            json_array_set_new(list, b - 1, t);
        }
    json_decref(seen);
    return list;
}

static void chart_minors(FILE *out, const json_t *points)
{
    static const char *const palette[] = {"#1565c0", "#2e7d32", "#f9a825", "#c62828", "#6a1b9a",
                                          "#00838f", "#ef6c00", "#4e342e", "#ad1457", "#558b2f",
                                          "#283593", "#9e9d24"};
    json_t *minors = all_minors(points);
    size_t n = json_array_size(points), m = json_array_size(minors);
    int bottom = HEIGHT - BOTTOM;
    double slot = (double)(WIDTH - LEFT - RIGHT) / (double)(n ? n : 1), bar = slot * 0.6;
    fputs("<h2>Versions by minor, as shares of the versioned API servers</h2>\n", out);
    svg_open(out, "chart-series-minors", "Versions by minor, stacked shares per scan");
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT, bottom,
            WIDTH - RIGHT, bottom);
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p) {
        double whole = number(p, "version_public"), y = bottom, x = LEFT + slot * (double)i +
                                                                    (slot - bar) / 2;
        for (size_t k = 0; whole > 0 && k < m; k++) {
            const char *minor = json_string_value(json_array_get(minors, k));
            double count = number(json_object_get(p, "by_minor"), minor);
            if (count <= 0)
                continue;
            double h = (bottom - TOP) * count / whole;
            y -= h;
            fprintf(out, "<rect class=\"seg\" data-minor=\"");
            html_escaped(out, minor);
            fprintf(out, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                         "<title>", x, y, bar, h, palette[k % 12]);
            html_escaped(out, minor);
            fprintf(out, ": %.0f of %.0f</title></rect>\n", count, whole);
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">",
                x + bar / 2, bottom + 18);
        html_escaped(out, json_string_value(json_object_get(p, "as_of")));
        fputs("</text>\n", out);
    }
    for (size_t k = 0; k < m; k++) {
        fprintf(out, "<rect x=\"%d\" y=\"%zu\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                     "<text x=\"%d\" y=\"%zu\" font-size=\"12\">",
                WIDTH - RIGHT + 20, TOP + 18 * (m - 1 - k), palette[k % 12], WIDTH - RIGHT + 38,
                TOP + 18 * (m - 1 - k) + 11);
        html_escaped(out, json_string_value(json_array_get(minors, k)));
        fputs("</text>\n", out);
    }
    fputs("</svg>\n", out);
    json_decref(minors);
}

static void chart_changes(FILE *out, const json_t *series)
{
    static const struct { const char *key, *color; } kinds[] = {
        {"upgraded", "#2e7d32"}, {"downgraded", "#f9a825"}, {"gone", "#c62828"}, {"new", "#1565c0"},
    };
    const json_t *changes = json_object_get(series, "changes");
    size_t n = json_array_size(changes), k = sizeof(kinds) / sizeof(kinds[0]);
    double max = 1;
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
        for (size_t j = 0; j < k; j++)
            if (number(c, kinds[j].key) > max)
                max = number(c, kinds[j].key);
    max = (double)(((long long)max + 3) / 4 * 4);
    int bottom = HEIGHT - BOTTOM;
    double slot = (double)(WIDTH - LEFT - RIGHT) / (double)(n ? n : 1), bar = slot * 0.8 / (double)k;
    fputs("<h2>Changes between consecutive scans</h2>\n", out);
    svg_open(out, "chart-series-changes", "Upgrades and disappearances between scans");
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT, bottom,
            WIDTH - RIGHT, bottom);
    json_array_foreach(changes, i, c) {
        double x0 = LEFT + slot * (double)i + slot * 0.1;
        for (size_t j = 0; j < k; j++) {
            double h = (bottom - TOP) * number(c, kinds[j].key) / max;
            fprintf(out, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"%s\"><title>%s: %.0f</title></rect>\n",
                    kinds[j].key, x0 + bar * (double)j, bottom - h, bar * 0.9, h, kinds[j].color,
                    kinds[j].key, number(c, kinds[j].key));
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">%.0f"
                         "</text>\n", x0 + bar * (double)j + bar * 0.45, bottom - h - 4,
                    number(c, kinds[j].key));
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">scan %lld "
                     "&#8594; %lld</text>\n",
                x0 + slot * 0.4, bottom + 18, (long long)number(c, "from_scan"),
                (long long)number(c, "to_scan"));
    }
    for (size_t j = 0; j < k; j++)
        fprintf(out, "<rect x=\"%d\" y=\"%zu\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                     "<text x=\"%d\" y=\"%zu\" font-size=\"12\">%s</text>\n",
                WIDTH - RIGHT + 20, TOP + 20 * j, kinds[j].color, WIDTH - RIGHT + 38,
                TOP + 20 * j + 11, kinds[j].key);
    fputs("</svg>\n", out);
}

static void share_cell(FILE *out, const json_t *point, const char *key)
{
    const json_t *s = json_object_get(point, key);
    const json_t *low = json_object_get(s, "unknown_as_supported");
    const json_t *high = json_object_get(s, "unknown_as_unsupported");
    if (json_is_number(low) && json_is_number(high))
        fprintf(out, "<td>%lld (%.1f&ndash;%.1f%%)</td>", (long long)number(s, "count"),
                100 * json_number_value(low), 100 * json_number_value(high));
    else
        fputs("<td>n/a</td>", out);
}

static void tables(FILE *out, const json_t *series)
{
    fputs("<h2>The numbers</h2>\n<table class=\"nums series\">\n<tr><th>As of</th><th>Database"
          "</th><th>Scan</th><th>Endpoints</th><th>API servers</th><th>Versioned</th>"
          "<th>Past upstream EOL</th><th>Past provider standard</th><th>Past extended</th></tr>\n",
          out);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(series, "series"), i, p) {
        fputs("<tr><td>", out);
        html_escaped(out, json_string_value(json_object_get(p, "as_of")));
        fputs("</td><td>", out);
        html_escaped(out, json_string_value(json_object_get(p, "db")));
        fprintf(out, "</td><td>%lld</td><td class=\"syn_open\">%lld</td><td class=\"k8s\">%lld</td>"
                     "<td class=\"version_public\">%lld</td>",
                (long long)number(p, "scan"), (long long)number(p, "syn_open"),
                (long long)number(p, "k8s"), (long long)number(p, "version_public"));
        share_cell(out, p, "unsupported");
        share_cell(out, p, "provider_unsupported");
        share_cell(out, p, "provider_unsupported_extended");
        fputs("</tr>\n", out);
    }
    fputs("</table>\n<table class=\"nums changes\">\n<tr><th>From scan</th><th>To scan</th>"
          "<th>Upgraded</th><th>Downgraded</th><th>Unchanged</th><th>Version unknown</th>"
          "<th>Gone</th><th>New</th></tr>\n", out);
    json_array_foreach(json_object_get(series, "changes"), i, p)
        fprintf(out, "<tr><td>%lld</td><td>%lld</td><td class=\"upgraded\">%lld</td>"
                     "<td class=\"downgraded\">%lld</td><td>%lld</td><td>%lld</td>"
                     "<td class=\"gone\">%lld</td><td class=\"new\">%lld</td></tr>\n",
                (long long)number(p, "from_scan"), (long long)number(p, "to_scan"),
                (long long)number(p, "upgraded"), (long long)number(p, "downgraded"),
                (long long)number(p, "unchanged"), (long long)number(p, "version_unknown"),
                (long long)number(p, "gone"), (long long)number(p, "new"));
    fputs("</table>\n", out);
}

int report_write_series_html(FILE *out, const json_t *series, const char *title, char *err)
{
    const json_t *points = json_object_get(series, "series");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
    html_escaped(out, title);
    fputs("</title>\n<style>\nbody{font-family:sans-serif;max-width:1040px;margin:2em auto;color:#222}"
          "\ntable.nums{border-collapse:collapse;margin:1em 0}\ntable.nums td,table.nums th{border:"
          "1px solid #ccc;padding:4px 8px;text-align:right}\n.chart{display:block;margin:1em 0}\n"
          "</style>\n</head>\n<body>\n<h1>", out);
    html_escaped(out, title);
    fprintf(out, "</h1>\n<p>%zu scans, each judged as of its own start day, provider calendars ",
            json_array_size(points));
    html_escaped(out, json_string_value(json_object_get(series, "calendar")));
    fputs(". Definitions: kubesurvey docs/statistics.md (&ldquo;Scans over time&rdquo;).</p>\n", out);
    chart_counts(out, points);
    chart_unsupported(out, points);
    chart_minors(out, points);
    chart_changes(out, series);
    tables(out, series);
    fputs("</body>\n</html>\n", out);
    if (ferror(out)) {
        snprintf(err, KS_ERRLEN, "writing the report failed");
        return -1;
    }
    return 0;
}
