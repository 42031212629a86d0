/*
 * cmd_data_import.c - `kubesurvey data import FILE --data DIR`: adds an
 * endoflife.date API answer (downloaded by the user) to the lifecycle data
 * of DIR. The built-in copy is never changed. The new files are written
 * into a scratch directory beside DIR and validated there as a whole (the
 * same checks as `data check`); only then does each changed file replace
 * its old copy by rename, so a bad or partial answer leaves DIR as it was.
 */
#include "tools/cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_MAX_BYTES (16u << 20)


/* The whole of a file (NUL-terminated), at most IMPORT_MAX_BYTES. */
static char *slurp(const char *path, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(IMPORT_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, IMPORT_MAX_BYTES + 1, f) : 0;
    if (!text || ferror(f) || n > IMPORT_MAX_BYTES) {
        snprintf(err, KS_ERRLEN, "%s: %s", path,
                 !text ? "out of memory" : n > IMPORT_MAX_BYTES ? "larger than 16 MiB" : "read error");
        free(text);
        fclose(f);
        return NULL;
    }
    fclose(f);
    text[n] = '\0';
    return text;
}

/* A data file of dir, or the built-in copy when dir has none. */
static json_t *data_file_load(const char *dir, const char *file, char *err)
{
    char path[4096];
    json_error_t jerr;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    char *text = access(path, F_OK) == 0 ? slurp(path, err) : strdup(lifecycle_builtin_text(file));
    if (!text) {
        if (!err[0])
            snprintf(err, KS_ERRLEN, "out of memory");
        return NULL;
    }
    json_t *root = json_loads(text, 0, &jerr);
    free(text);
    if (!json_is_object(root)) {
        snprintf(err, KS_ERRLEN, "%s: line %d: %s", path, jerr.line,
                 root ? "not a JSON object" : jerr.text);
        json_decref(root);
        return NULL;
    }
    return root;
}

static int json_write_synced(const char *path, const json_t *root, char *err)
{
    FILE *f = fopen(path, "w");
    int rc = f ? json_dumpf(root, f, JSON_INDENT(1)) : -1;
    if (f && rc == 0 && fputc('\n', f) == EOF)
        rc = -1;
    if (f && rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        snprintf(err, KS_ERRLEN, "writing %s: %s", path, strerror(errno));
    return rc;
}

static void scratch_remove(const char *scratch)
{
    for (size_t i = 0; i < LC_DATA_FILE_COUNT; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", scratch, lifecycle_data_files[i]);
        unlink(path);
    }
    rmdir(scratch);
}

/* Writes the four files into scratch, validates them together, and moves
 * into dir the changed one and any dir lacked. */
static int data_dir_replace(const char *dir, json_t *const roots[LC_DATA_FILE_COUNT],
                            const char *changed, char *err)
{
    char scratch[4096];
    snprintf(scratch, sizeof(scratch), "%s/.import-XXXXXX", dir);
    if (!mkdtemp(scratch)) {
        snprintf(err, KS_ERRLEN, "%s: cannot create a scratch directory: %s", dir,
                 strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < LC_DATA_FILE_COUNT && rc == 0; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", scratch, lifecycle_data_files[i]);
        rc = json_write_synced(path, roots[i], err);
    }
    struct lifecycle *lc = NULL;
    char why[KS_ERRLEN] = "";
    if (rc == 0 && lifecycle_load(&lc, scratch, why) != 0) {
        snprintf(err, KS_ERRLEN, "the imported data does not validate, %s is unchanged: %s", dir,
                 why);
        rc = -1;
    }
    lifecycle_free(lc);
    for (size_t i = 0; i < LC_DATA_FILE_COUNT && rc == 0; i++) {
        char from[4200], to[4200];
        snprintf(from, sizeof(from), "%s/%s", scratch, lifecycle_data_files[i]);
        snprintf(to, sizeof(to), "%s/%s", dir, lifecycle_data_files[i]);
        if ((strcmp(lifecycle_data_files[i], changed) && access(to, F_OK) == 0))
            continue;
        if (rename(from, to) != 0) {
            snprintf(err, KS_ERRLEN, "%s: %s", to, strerror(errno));
            rc = -1;
        }
    }
    scratch_remove(scratch);
    return rc;
}

int data_import(const char *file, const char *dir, const char *product)
{
    char err[KS_ERRLEN] = "";
    if (!dir) {
        cli_message("import updates a data directory: give --data DIR (the built-in data is "
                    "never changed; DIR is created and filled from it when missing)");
        return EXIT_USAGE;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cli_message("%s: %s", dir, strerror(errno));
        return EXIT_RUNTIME;
    }
    json_t *roots[LC_DATA_FILE_COUNT] = {NULL};
    char *text = NULL;
    int rc = EXIT_RUNTIME;
    for (size_t i = 0; i < LC_DATA_FILE_COUNT; i++)
        if (!(roots[i] = data_file_load(dir, lifecycle_data_files[i], err)))
            goto done;
    if (!(text = slurp(file, err)))
        goto done;
    struct lc_import_result res;
    int32_t today = (int32_t)(time(NULL) / 86400);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    if (lifecycle_import_eol(roots[0], roots[1], text, base, product, today, &res, err) != 0 ||
        data_dir_replace(dir, roots, res.file, err) != 0)
        goto done;
    char day[11];
    ks_date_format(today, day);
    printf("%s/%s: %s: %zu minors added, %zu minors with new dates, %zu revisions added, %zu "
           "unchanged (dated %s, source endoflife.date)\n",
           dir, res.file, res.product, res.added_minors, res.changed_minors, res.added_revisions,
           res.unchanged, day);
    rc = EXIT_OK;
done:
    if (rc != EXIT_OK)
        cli_message("%s", err);
    free(text);
    for (size_t i = 0; i < LC_DATA_FILE_COUNT; i++)
        json_decref(roots[i]);
    return rc;
}
