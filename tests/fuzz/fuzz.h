/*
 * fuzz.h - shared by the fuzz targets of tests/fuzz (one fuzz_<input>.c per
 * input the program parses, each defining LLVMFuzzerTestOneInput).
 *
 * A target must never crash, leak or trip a sanitizer on any input, and
 * checks what it can of what the parser accepted (round trips, invariants):
 * a broken check calls FUZZ_CHECK, which prints what failed and aborts, so
 * libFuzzer keeps the input as a crash and the plain replay driver
 * (replay.c) fails on it.
 */
#ifndef KS_TESTS_FUZZ_H
#define KS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* The input as a NUL-terminated string (cut at its first NUL, as a C
 * caller would see it). Malloc'ed; aborts when out of memory. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A file holding the input, for loaders that take a path: an anonymous
 * memory file (memfd) named by /proc/self/fd/N in path. Returns the fd
 * (close it after use). */
int fuzz_file(const uint8_t *data, size_t size, char *path, size_t path_size);

struct probe_result;
/* The record's JSON (with DER and with PEM certificates) is one valid JSON
 * object, and its CSV line can be made. */
void fuzz_check_record_json(const struct probe_result *r);

#endif
