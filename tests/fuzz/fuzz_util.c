/*
 * fuzz_util.c - helpers of the fuzz targets (fuzz.h).
 */
#include "tests/fuzz/fuzz.h"
#include "lib/record.h"

#include <jansson.h>

#include <sys/mman.h>
#include <unistd.h>

int fuzz_file(const uint8_t *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        FUZZ_CHECK(n > 0);
        done += (size_t)n;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

void fuzz_check_record_json(const struct probe_result *r)
{
    for (int certs = RECORD_CERTS_DER; certs <= RECORD_CERTS_PEM; certs++) {
        size_t length;
        char *text = record_to_json(r, (enum record_certs)certs, NULL, &length);
        FUZZ_CHECK(text != NULL && strlen(text) == length);
        json_error_t jerr;
        json_t *j = json_loadb(text, length, 0, &jerr);
        if (!j)
            fprintf(stderr, "record_to_json wrote invalid JSON (%s): %s\n", jerr.text, text);
        FUZZ_CHECK(j != NULL && json_is_object(j));
        json_decref(j);
        free(text);
    }
    char *csv = record_csv_line(r);
    FUZZ_CHECK(csv != NULL);
    free(csv);
}
