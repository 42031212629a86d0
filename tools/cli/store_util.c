/*
 * store_util.c - what the store-reading commands share: opening a database,
 * choosing the scan, the scan's start date.
 */
#include "tools/cli/cli.h"
#include "storage/storage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_store_open(const char *path, struct store **out, char *err)
{
    /* store_open's messages name the path already. */
    return store_open(out, path, STORE_READ_ONLY, err);
}

static int note_last(void *ctx, const struct store_scan *scan)
{
    uint32_t *last = ctx;
    if (scan->id > *last)
        *last = scan->id;
    return 0;
}

int tool_scan_pick(struct store *store, uint32_t requested, uint32_t *id, json_t **scan_json,
                   char *err)
{
    uint32_t chosen = requested;
    if (!chosen) {
        if (store_scan_foreach(store, note_last, &chosen, err) != 0)
            return -1;
        if (!chosen) {
            snprintf(err, KS_ERRLEN, "the database holds no scan");
            return -1;
        }
    }
    struct store_scan scan = {0};
    char inner[KS_ERRLEN] = "";
    int rc = store_scan_get(store, chosen, &scan, inner);
    if (rc != 0) {
        snprintf(err, KS_ERRLEN, "scan %u: %s", chosen, inner[0] ? inner : "not found");
        return -1;
    }
    json_t *j = scan.json ? json_loads(scan.json, 0, NULL) : NULL;
    free(scan.json);
    *scan_json = json_is_object(j) ? j : (json_decref(j), json_object());
    *id = chosen;
    return 0;
}

int tool_parse_scan_id(const char *text, uint32_t *id)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || end == text || text[0] == '-' || v == 0 || v > UINT32_MAX)
        return -1;
    *id = (uint32_t)v;
    return 0;
}

int tool_scan_start_day(const json_t *scan_json, int32_t *day)
{
    const char *started = json_string_value(json_object_get(scan_json, "started"));
    return started ? ks_date_from_iso8601(started, day) : -1;
}


void tool_warn_stale_data(const struct lifecycle *lc, int32_t day)
{
    char names[512], date[11];
    if (!lifecycle_stale_calendars(lc, day, names, sizeof(names)))
        return;
    ks_date_format(day, date);
    cli_message("warning: the lifecycle data is old for %s: %s changed last more than %d days "
                "earlier; minors and support dates published since are unknown to it (newer "
                "data: kubesurvey data import, docs/statistics.md)",
                date, names, LC_STALE_DAYS);
}
