/*
 * hitlist.c - single IPv6 addresses to scan (--hitlist FILE).
 *
 * IPv6 space cannot be enumerated, so IPv6 surveys scan hitlists: lists of
 * addresses known to be in use, such as the IPv6 Hitlist service's
 * (Gasser et al., IMC 2018; https://ipv6hitlist.github.io), one address per
 * line. A survey's hitlist may hold 100 million addresses, so each costs its
 * 16 bytes and nothing more: a regular file is counted before it is read,
 * so the array is allocated once at its final size, and the sort works in
 * place (glibc's qsort may allocate a copy of the whole array).
 */
#include "engine/engine.h"
#include "engine/internal.h"
#include "lib/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void hitlist_init(struct hitlist *h)
{
    memset(h, 0, sizeof(*h));
}

void hitlist_free(struct hitlist *h)
{
    free(h->addrs);
    hitlist_init(h);
}

int hitlist_parse_line(char *line, ip6_int *addr, char *err)
{
    line = line_token(line);
    if (*line == '\0')
        return 0;
    uint8_t bytes[16];
    if (inet_pton(AF_INET6, line, bytes) != 1) {
        snprintf(err, KS_ERRLEN, "'%.80s' is not an IPv6 address%s", line,
                 strchr(line, '/') ? " (a hitlist holds single addresses; give prefixes as targets)"
                                   : "");
        return -1;
    }
    *addr = ip6_from_bytes(bytes);
    return 1;
}

/* Lines in a regular file (the last may lack its newline); 0 otherwise. */
static size_t count_lines(FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    char buf[1 << 16];
    size_t n, lines = 0, last = '\n';
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p++)
            lines++;
        last = (unsigned char)buf[n - 1];
    }
    rewind(f);
    return lines + (last != '\n');
}

static int reserve(struct hitlist *h, size_t want, char *err)
{
    if (want <= h->capacity)
        return 0;
    ip6_int *grown = realloc(h->addrs, want * sizeof(ip6_int));
    if (!grown) {
        snprintf(err, KS_ERRLEN, "out of memory for %zu hitlist addresses", want);
        return -1;
    }
    h->addrs = grown;
    h->capacity = want;
    return 0;
}

int hitlist_load_file(struct hitlist *h, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, KS_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t lines = count_lines(f);
    int rc = reserve(h, h->count + lines, err);
    char line[256], sub[KS_ERRLEN];
    unsigned long lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, KS_ERRLEN, "%s:%lu: line too long", path, lineno);
            rc = -1;
            break;
        }
        ip6_int addr;
        int got = hitlist_parse_line(line, &addr, sub);
        if (got < 0) {
            snprintf(err, KS_ERRLEN, "%s:%lu: %s", path, lineno, sub);
            rc = -1;
        } else if (got > 0) {
            /* A pipe (or a file that grew since it was counted): by half. */
            if (h->count == h->capacity)
                rc = reserve(h, h->capacity + h->capacity / 2 + 1024, err);
            if (rc == 0)
                h->addrs[h->count++] = addr;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, KS_ERRLEN, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0 && h->count < h->capacity && h->count > 0) {
        ip6_int *trimmed = realloc(h->addrs, h->count * sizeof(ip6_int));
        if (trimmed) {
            h->addrs = trimmed;
            h->capacity = h->count;
        }
    }
    return rc;
}

/* ---- sorting in place: quicksort, median of three, insertion sort for
 * short runs, recursion on the smaller side only (log n stack) ---- */

static void swap6(ip6_int *a, ip6_int *b)
{
    ip6_int t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(ip6_int *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        ip6_int x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static void quicksort(ip6_int *v, size_t n)
{
    while (n > 16) {
        size_t mid = n / 2;
        if (v[mid] < v[0])
            swap6(&v[mid], &v[0]);
        if (v[n - 1] < v[0])
            swap6(&v[n - 1], &v[0]);
        if (v[n - 1] < v[mid])
            swap6(&v[n - 1], &v[mid]);
        ip6_int pivot = v[mid];
        size_t i = 0, j = n - 1;
        for (;;) { /* Hoare partition: v[0..j] <= pivot <= v[j+1..n) */
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap6(&v[i++], &v[j--]);
        }
        size_t left = j + 1;
        if (left < n - left) {
            quicksort(v, left);
            v += left;
            n -= left;
        } else {
            quicksort(v + left, n - left);
            n = left;
        }
    }
    insertion_sort(v, n);
}

void hitlist_sort(struct hitlist *h)
{
    quicksort(h->addrs, h->count);
}
