/*
 * malloc_count.c - an LD_PRELOAD library that counts the allocation calls
 * of a process (malloc, calloc, realloc, posix_memalign, aligned_alloc)
 * and appends the total to the file named by $MALLOC_COUNT_OUT at exit.
 *
 * Why: allocations per probe are a count that does not depend on the
 * machine's load, unlike CPU time (probe_bench.sh divides the total by the
 * completed probes). Each call is passed on to the next allocator in
 * link order (mimalloc in the kubesurvey binary, else glibc's).
 *
 *   MALLOC_COUNT_OUT=/tmp/count LD_PRELOAD=build/benchmarks/libmalloc_count.so cmd
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong calls;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);

/* dlsym may itself call calloc before next_calloc is known: that first
 * request is served from here (and never freed: free() of it would go to
 * the real allocator, so it is never handed out twice). */
static unsigned char early[4096];
static size_t early_used;

static void resolve(void)
{
    static _Thread_local int resolving;
    if (next_malloc || resolving)
        return;
    resolving = 1;
    next_calloc = dlsym(RTLD_NEXT, "calloc");
    next_realloc = dlsym(RTLD_NEXT, "realloc");
    next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    next_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    next_malloc = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
}

void *malloc(size_t size)
{
    resolve();
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return next_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    resolve();
    if (!next_calloc) {
        size_t n = (count * size + 15) & ~(size_t)15;
        if (early_used + n > sizeof(early))
            return NULL;
        early_used += n;
        return early + early_used - n; /* static storage: already zero */
    }
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return next_calloc(count, size);
}

void *realloc(void *p, size_t size)
{
    resolve();
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return next_realloc(p, size);
}

int posix_memalign(void **p, size_t alignment, size_t size)
{
    resolve();
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return next_posix_memalign(p, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    resolve();
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return next_aligned_alloc(alignment, size);
}

void free(void *p)
{
    static void (*next_free)(void *);
    if ((unsigned char *)p >= early && (unsigned char *)p < early + sizeof(early))
        return;
    if (!next_free)
        next_free = dlsym(RTLD_NEXT, "free");
    next_free(p);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("MALLOC_COUNT_OUT");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%lu\n", atomic_load(&calls));
    fclose(f);
}
