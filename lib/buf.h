/*
 * buf.h - growing arrays: one doubling rule instead of one per caller.
 */
#ifndef KS_LIB_BUF_H
#define KS_LIB_BUF_H

#include <stddef.h>

/* Makes *array (of elements of elem_size bytes, *capacity of them) hold at
 * least `need` elements, doubling from `initial`; 0, or -1 when out of
 * memory or the size overflows (the array is then unchanged). */
int buf_grow(void **array, size_t *capacity, size_t need, size_t elem_size, size_t initial);
/* The same, never beyond `max` elements (the last step stops at max); -1
 * also when need > max. */
int buf_grow_max(void **array, size_t *capacity, size_t need, size_t elem_size, size_t initial,
                 size_t max);

/* The same for a typed pointer: BUF_GROW(list, cap, count + 1, 16). */
#define BUF_GROW(array, capacity, need, initial) \
    buf_grow((void **)&(array), &(capacity), (need), sizeof(*(array)), (initial))
#define BUF_GROW_MAX(array, capacity, need, initial, max) \
    buf_grow_max((void **)&(array), &(capacity), (need), sizeof(*(array)), (initial), (max))

#endif
