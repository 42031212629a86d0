/*
 * fuzz_targets.c - target and blocklist files (ip_list_load_file: one
 * IPv4 or IPv6 address or prefix per line, '#' comments; the IPv6 target
 * parser is this one, with the /96 floor of a scan's allowlist on every
 * other input). What loads must normalize to
 * sorted, disjoint, non-adjacent ranges whose addresses it contains, and
 * subtracting it from itself or from a list leaves nothing of it.
 */
#include "tests/fuzz/fuzz.h"
#include "engine/engine.h"

#include <unistd.h>

static void check_normalized(const struct ip_list *list)
{
    uint64_t size = 0;
    for (size_t i = 0; i < list->count; i++) {
        const struct ip_range *r = &list->ranges[i];
        FUZZ_CHECK(r->first <= r->last);
        if (i > 0)
            FUZZ_CHECK(list->ranges[i - 1].last < UINT32_MAX &&
                       list->ranges[i - 1].last + 1 < r->first); /* neither overlap nor touch */
        FUZZ_CHECK(ip_list_contains(list, r->first) && ip_list_contains(list, r->last));
        if (r->first > 0)
            FUZZ_CHECK(!ip_list_contains(list, r->first - 1));
        if (r->last < UINT32_MAX)
            FUZZ_CHECK(!ip_list_contains(list, r->last + 1));
        size += (uint64_t)r->last - r->first + 1;
    }
    ip6_int size6 = 0;
    bool saturated = false;
    for (size_t i = 0; i < list->count6; i++) {
        const struct ip6_range *r = &list->ranges6[i];
        FUZZ_CHECK(r->first <= r->last);
        if (i > 0)
            FUZZ_CHECK(list->ranges6[i - 1].last != ~(ip6_int)0 &&
                       list->ranges6[i - 1].last + 1 < r->first);
        FUZZ_CHECK(ip_list_contains6(list, r->first) && ip_list_contains6(list, r->last));
        if (r->first > 0)
            FUZZ_CHECK(!ip_list_contains6(list, r->first - 1));
        if (r->last != ~(ip6_int)0)
            FUZZ_CHECK(!ip_list_contains6(list, r->last + 1));
        ip6_int n = r->last - r->first;
        saturated |= n >= UINT64_MAX;
        size6 += n + 1;
    }
    saturated |= size6 > UINT64_MAX - size;
    FUZZ_CHECK(ip_list_size(list) == (saturated ? UINT64_MAX : size + (uint64_t)size6));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[KS_ERRLEN];
    int fd = fuzz_file(data, size, path, sizeof(path));
    struct ip_list list, reserved, copy;
    ip_list_init(&list);
    ip_list_init(&reserved);
    ip_list_init(&copy);
    err[0] = '\0';
    /* As a scan's allowlist (IPv6 prefixes of /96 or longer) or as a
     * blocklist (any prefix), by the input's length. */
    list.min_prefix6 = size % 2 ? TARGET_MIN_PREFIX6 : 0;
    if (ip_list_load_file(&list, path, err) == 0) {
        ip_list_normalize(&list);
        check_normalized(&list);
        /* as a blocklist of the reserved ranges */
        FUZZ_CHECK(ip_list_add_reserved(&reserved, err) == 0);
        ip_list_normalize(&reserved);
        FUZZ_CHECK(ip_list_subtract(&reserved, &list, err) == 0);
        check_normalized(&reserved);
        for (size_t i = 0; i < list.count; i++)
            FUZZ_CHECK(!ip_list_contains(&reserved, list.ranges[i].first) &&
                       !ip_list_contains(&reserved, list.ranges[i].last));
        for (size_t i = 0; i < list.count6; i++)
            FUZZ_CHECK(!ip_list_contains6(&reserved, list.ranges6[i].first) &&
                       !ip_list_contains6(&reserved, list.ranges6[i].last));
        /* minus itself */
        for (size_t i = 0; i < list.count; i++)
            FUZZ_CHECK(ip_list_add_range(&copy, list.ranges[i].first, list.ranges[i].last, err) == 0);
        for (size_t i = 0; i < list.count6; i++)
            FUZZ_CHECK(ip_list_add_range6(&copy, list.ranges6[i].first, list.ranges6[i].last,
                                          err) == 0);
        ip_list_normalize(&copy);
        FUZZ_CHECK(ip_list_subtract(&copy, &list, err) == 0);
        FUZZ_CHECK(copy.count == 0 && copy.count6 == 0 && ip_list_size(&copy) == 0);
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', KS_ERRLEN) != NULL);
    }
    ip_list_free(&copy);
    ip_list_free(&reserved);
    ip_list_free(&list);
    close(fd);
    return 0;
}
