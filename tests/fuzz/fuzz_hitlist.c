/*
 * fuzz_hitlist.c - hitlist files (hitlist_load_file: one IPv6 address per
 * line in any text form, '#' comments, blank lines). What loads is one
 * address per non-blank line, held in exactly its count (the file is
 * counted first); each address's RFC 5952 text parses back to it; sorting
 * orders it; a refusal names the file and a line number.
 */
#include "tests/fuzz/fuzz.h"
#include "engine/engine.h"

#include <arpa/inet.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[KS_ERRLEN];
    int fd = fuzz_file(data, size, path, sizeof(path));
    struct hitlist h;
    hitlist_init(&h);
    err[0] = '\0';
    if (hitlist_load_file(&h, path, err) == 0) {
        size_t lines = 0;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        FUZZ_CHECK(h.count <= lines + 1);
        FUZZ_CHECK(h.count == 0 || h.capacity == h.count);
        for (size_t i = 0; i < h.count; i++) {
            struct net_addr a = {.family = AF_INET6};
            char text[NET_ADDR_TEXT_MAX];
            ip6_to_bytes(h.addrs[i], a.bytes);
            net_addr_text(&a, text);
            char line[NET_ADDR_TEXT_MAX + 8];
            snprintf(line, sizeof(line), " %s # again\n", text);
            ip6_int back;
            FUZZ_CHECK(hitlist_parse_line(line, &back, err) == 1 && back == h.addrs[i]);
        }
        hitlist_sort(&h);
        for (size_t i = 1; i < h.count; i++)
            FUZZ_CHECK(h.addrs[i - 1] <= h.addrs[i]);
    } else {
        FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
        FUZZ_CHECK(memchr(err, '\0', KS_ERRLEN) != NULL);
    }
    hitlist_free(&h);
    close(fd);
    return 0;
}
