/*
 * replay.c - a plain main for a fuzz target: feeds each file named on the
 * command line (every file of a directory named) to LLVMFuzzerTestOneInput
 * once. Builds with any compiler, so the normal and ASan builds replay the
 * seed corpora and every kept crashing input (tests/fuzz/regressions)
 * without libFuzzer.
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *data = NULL;
    size_t size = 0, capacity = 0;
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            uint8_t *grown = realloc(data, capacity);
            FUZZ_CHECK(grown != NULL);
            data = grown;
        }
        size_t n = fread(data + size, 1, capacity - size, f);
        size += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "%s: read error\n", path);
        free(data);
        return -1;
    }
    /* An exact-size copy, so ASan sees a read past the end of the input. */
    uint8_t *exact = malloc(size ? size : 1);
    FUZZ_CHECK(exact != NULL);
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; returns how many, -1 on error. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (count + 1) * sizeof(*names));
        FUZZ_CHECK(grown != NULL);
        names = grown;
        names[count] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        FUZZ_CHECK(names[count] != NULL);
        sprintf(names[count], "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    qsort(names, count, sizeof(*names), compare_names);
    int rc = (int)count;
    for (size_t i = 0; i < count; i++) {
        if (replay_file(names[i]) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    long inputs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            /* a target without kept crashes has no regressions directory */
            if (errno == ENOENT)
                continue;
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            return 1;
        inputs += n;
    }
    if (inputs == 0) {
        fprintf(stderr, "%s: no inputs\n", argv[0]);
        return 1;
    }
    printf("%s: replayed %ld inputs\n", argv[0], inputs);
    return 0;
}
