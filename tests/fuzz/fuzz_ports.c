/*
 * fuzz_ports.c - port lists ("443,6443,10250-10255", port_list_parse). What
 * parses is sorted, without duplicates, within 1-65535, and written back
 * as text parses to the same list; each of its items is a port or one
 * range (no "1-2-3").
 */
#include "tests/fuzz/fuzz.h"
#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    char err[KS_ERRLEN] = "";
    struct port_list list = {NULL, 0};
    if (port_list_parse(&list, text, err) == 0) {
        for (const char *item = text; item; item = strchr(item, ',') ? strchr(item, ',') + 1 : NULL) {
            const char *dash = strchr(item, '-'), *comma = strchr(item, ',');
            if (dash && (!comma || dash < comma))
                FUZZ_CHECK(!strchr(dash + 1, '-') || (comma && strchr(dash + 1, '-') > comma));
        }
        FUZZ_CHECK(list.count >= 1 && list.count <= PORT_LIST_MAX);
        char *again = malloc(list.count * 6 + 1);
        FUZZ_CHECK(again != NULL);
        size_t length = 0;
        for (size_t i = 0; i < list.count; i++) {
            FUZZ_CHECK(list.ports[i] >= 1);
            if (i > 0)
                FUZZ_CHECK(list.ports[i - 1] < list.ports[i]);
            length += (size_t)sprintf(again + length, "%s%u", i ? "," : "", list.ports[i]);
        }
        struct port_list reparsed = {NULL, 0};
        FUZZ_CHECK(port_list_parse(&reparsed, again, err) == 0);
        FUZZ_CHECK(reparsed.count == list.count &&
                   memcmp(reparsed.ports, list.ports, list.count * sizeof(uint16_t)) == 0);
        port_list_free(&reparsed);
        free(again);
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    port_list_free(&list);
    free(text);
    return 0;
}
