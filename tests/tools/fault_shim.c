/*
 * fault_shim.c - LD_PRELOAD library that makes chosen library calls fail,
 * for tests of error paths that cannot be reached honestly otherwise. Only
 * tests load it; nothing in the product knows about it. Set in the
 * environment of the process under test:
 *
 *   KS_FAIL_PTHREAD_CREATE=N   the Nth pthread_create call fails (EAGAIN)
 *   KS_FAIL_EVP_MD_CTX_NEW=1   every EVP_MD_CTX_new returns NULL
 *   KS_CHECK_MUTEX_DESTROY=1   pthread_mutex_destroy of a mutex that
 *                              pthread_mutex_init never initialised aborts
 *                              with a message (undefined behaviour caught)
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TRACKED_MAX 4096

static long env_number(const char *name)
{
    const char *v = getenv(name);
    return v ? strtol(v, NULL, 10) : 0;
}

static atomic_long create_calls;

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real)
        real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(
            RTLD_NEXT, "pthread_create");
    long fail_at = env_number("KS_FAIL_PTHREAD_CREATE");
    if (atomic_fetch_add(&create_calls, 1) + 1 == fail_at)
        return EAGAIN;
    return real(thread, attr, start, arg);
}

/* EVP_MD_CTX is opaque here: only the pointer matters. */
void *EVP_MD_CTX_new(void)
{
    static void *(*real)(void);
    if (!real)
        real = (void *(*)(void))dlsym(RTLD_NEXT, "EVP_MD_CTX_new");
    if (env_number("KS_FAIL_EVP_MD_CTX_NEW"))
        return NULL;
    return real();
}

/* Addresses of initialised mutexes (a destroyed one leaves the table). */
static void *_Atomic tracked[TRACKED_MAX];

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    static int (*real)(pthread_mutex_t *, const pthread_mutexattr_t *);
    if (!real)
        real = (int (*)(pthread_mutex_t *, const pthread_mutexattr_t *))dlsym(
            RTLD_NEXT, "pthread_mutex_init");
    for (int i = 0; i < TRACKED_MAX; i++) {
        void *expected = NULL;
        if (atomic_compare_exchange_strong(&tracked[i], &expected, (void *)m))
            break;
    }
    return real(m, attr);
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
    static int (*real)(pthread_mutex_t *);
    if (!real)
        real = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_destroy");
    bool known = false;
    for (int i = 0; i < TRACKED_MAX && !known; i++) {
        void *expected = m;
        known = atomic_compare_exchange_strong(&tracked[i], &expected, NULL);
    }
    if (!known && env_number("KS_CHECK_MUTEX_DESTROY")) {
        static const char msg[] = "fault_shim: pthread_mutex_destroy of a mutex never "
                                  "initialised by pthread_mutex_init\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) { /* aborting anyway */ }
        abort();
    }
    return real(m);
}
