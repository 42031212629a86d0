/*
 * rewrite.c - the minimal file for a process that gives up its privileges
 * after opening the store (a root scan switching to nobody, the store in a
 * directory only root may write).
 *
 * Rewriting the file to its minimum (store_shrink_file) creates a copy
 * beside the store and renames it over the store: both need write
 * permission on the directory, which the unprivileged user lacks. So, while
 * the process still has it, store_keep_rewrite_rights creates the copy's
 * file (owned and moded as the store) and forks a helper that keeps one
 * right only: renaming that file, by names fixed now, over the store, once,
 * when asked. The helper reads one byte from a socket and parses nothing
 * else; it runs with every other descriptor closed, ignores the terminal's
 * signals, and ends when the store closes (or the process dies: end of
 * file), removing the unused copy. What it can be made to do, replace the
 * store with the copy's content, the unprivileged process can do already
 * through its own descriptor of the store.
 */

#include "storage/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_DIR_FD 3
#define HELPER_SOCK 4
#define REWRITE_REQUEST 'R'

void store_copy_names(const struct store *s, char *tmp, char *name, size_t size)
{
    const char *slash = strrchr(s->path, '/');
    snprintf(name, size, "%s", slash ? slash + 1 : s->path);
    snprintf(tmp, size, "%s.compact-tmp", name);
}

/* The child: wait for the one request; answer the rename's errno. */
static void __attribute__((noreturn)) helper_main(const char *tmp, const char *name)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    char request;
    ssize_t n;
    do
        n = recv(HELPER_SOCK, &request, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1 || request != REWRITE_REQUEST) {
        unlinkat(HELPER_DIR_FD, tmp, 0);   /* the store closed unshrunk */
        _exit(0);
    }
    int answer = 0;
    if (renameat(HELPER_DIR_FD, tmp, HELPER_DIR_FD, name) != 0) {
        answer = errno;
        unlinkat(HELPER_DIR_FD, tmp, 0);
    } else {
        int dir = openat(HELPER_DIR_FD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {   /* the rename itself durable */
            fsync(dir);
            close(dir);
        }
    }
    (void)!send(HELPER_SOCK, &answer, sizeof(answer), MSG_NOSIGNAL);
    _exit(0);
}

/* The copy's file, empty, with the store's owner and mode. */
static int create_copy_file(struct store *s, const char *tmp, char *err)
{
    struct stat st;
    int store_fd;
    if (mdb_env_get_fd(s->env, &store_fd) || fstat(store_fd, &st)) {
        snprintf(err, KS_ERRLEN, "%s: %s", s->path, strerror(errno));
        return -1;
    }
    unlinkat(s->dir_fd, tmp, 0);
    int fd = openat(s->dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || fchown(fd, st.st_uid, st.st_gid) || fchmod(fd, st.st_mode & 07777)) {
        snprintf(err, KS_ERRLEN, "%s: cannot prepare %s beside it: %s", s->path, tmp,
                 strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlinkat(s->dir_fd, tmp, 0);
        }
        return -1;
    }
    return fd;
}

int store_keep_rewrite_rights(struct store *s, char *err)
{
    if (s->mode != STORE_READ_WRITE || s->dir_fd < 0) {
        snprintf(err, KS_ERRLEN, "%s: the rewrite needs a store open read-write", s->path);
        return -1;
    }
    if (s->rewrite_fd >= 0)
        return 0;
    char tmp[4096], name[4096];
    store_copy_names(s, tmp, name, sizeof(tmp));
    int sock[2];
    int fd = create_copy_file(s, tmp, err);
    if (fd < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock)) {
        snprintf(err, KS_ERRLEN, "%s: socketpair: %s", s->path, strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, KS_ERRLEN, "%s: fork: %s", s->path, strerror(errno));
        close(sock[0]);
        close(sock[1]);
        goto fail;
    }
    if (pid == 0) {
        /* Only the directory and the socket stay open (not the store, its
         * lock file, the capture or the raw sockets). */
        if (dup2(s->dir_fd, HELPER_DIR_FD) < 0 || dup2(sock[1], HELPER_SOCK) < 0 ||
            close_range(HELPER_SOCK + 1, ~0U, 0) != 0)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
            close(devnull);
        }
        helper_main(tmp, name);
    }
    close(sock[1]);
    s->rewrite_fd = fd;
    s->rewrite_sock = sock[0];
    s->rewrite_pid = pid;
    return 0;
fail:
    close(fd);
    unlinkat(s->dir_fd, tmp, 0);
    return -1;
}

int store_rewrite_rename(struct store *s, char *err)
{
    char request = REWRITE_REQUEST;
    int answer = 0;
    ssize_t n = send(s->rewrite_sock, &request, 1, MSG_NOSIGNAL);
    if (n == 1) {
        do
            n = recv(s->rewrite_sock, &answer, sizeof(answer), MSG_WAITALL);
        while (n < 0 && errno == EINTR);
    }
    if (n != (ssize_t)sizeof(answer)) {
        snprintf(err, KS_ERRLEN, "%s: the rename helper is gone (the store is unchanged)",
                 s->path);
        return -1;
    }
    if (answer) {
        snprintf(err, KS_ERRLEN, "%s: rename the compacted copy: %s (the store is unchanged)",
                 s->path, strerror(answer));
        return -1;
    }
    return 0;
}

void store_rewrite_end(struct store *s)
{
    if (s->rewrite_fd >= 0)
        close(s->rewrite_fd);
    if (s->rewrite_sock >= 0)
        close(s->rewrite_sock);   /* end of file: the helper removes an unused copy */
    if (s->rewrite_pid > 0)
        while (waitpid(s->rewrite_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    s->rewrite_fd = s->rewrite_sock = -1;
    s->rewrite_pid = 0;
}
