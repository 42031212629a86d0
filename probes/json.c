/*
 * json.c - the record as a jansson tree, read back from its one JSON form
 * (lib/record_json.c), so the tree and the text cannot differ.
 */
#include "probes/probes.h"

#include <stdlib.h>

json_t *probe_result_to_json(const struct probe_result *r)
{
    size_t length;
    char *text = record_to_json(r, RECORD_CERTS_DER, NULL, &length);
    if (!text)
        return NULL;
    json_t *o = json_loadb(text, length, 0, NULL);
    free(text);
    return o;
}
