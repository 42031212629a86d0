/*
 * buf.c - the doubling rule of buf.h.
 */
#include "lib/buf.h"

#include <stdint.h>
#include <stdlib.h>

int buf_grow_max(void **array, size_t *capacity, size_t need, size_t elem_size, size_t initial,
                 size_t max)
{
    if (need <= *capacity)
        return 0;
    if (need > max)
        return -1;
    size_t cap = *capacity ? *capacity : (initial ? initial : 1);
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    if (cap > max)
        cap = max;
    if (elem_size && cap > SIZE_MAX / elem_size)
        return -1;
    void *bigger = realloc(*array, cap * elem_size);
    if (!bigger)
        return -1;
    *array = bigger;
    *capacity = cap;
    return 0;
}

int buf_grow(void **array, size_t *capacity, size_t need, size_t elem_size, size_t initial)
{
    return buf_grow_max(array, capacity, need, elem_size, initial, SIZE_MAX);
}
