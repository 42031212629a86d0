/*
 * privileges.c - give up root's powers once the raw sockets are open.
 *
 * Everything after scan_open parses what strangers send (SYN-ACKs,
 * certificates, HTTP): it runs as an unprivileged user with no capabilities
 * at all. Capabilities and the bounding set are per thread in Linux, so this
 * must run while the process has one thread, which then creates all the
 * others; user and group IDs are per thread in the kernel too, but glibc's
 * setresuid/setresgid/setgroups apply them to every thread of the process.
 * The raw syscalls are used because libcap is not a dependency.
 */
#include "engine/engine.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int privileges_user(const char *name, struct run_as *who, char *err)
{
    memset(who, 0, sizeof(*who));
    snprintf(who->name, sizeof(who->name), "%s", name);
    /* getpwnam_r with a fixed buffer: NSS entries are short. */
    struct passwd pw, *found = NULL;
    char buf[4096];
    int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
    if (!found && isdigit((unsigned char)name[0])) {
        char *end;
        errno = 0;
        unsigned long uid = strtoul(name, &end, 10);
        if (*end == '\0' && errno == 0 && uid < (uid_t)-1)
            rc = getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &found);
    }
    if (!found) {
        snprintf(err, KS_ERRLEN, "user '%s': %s", name,
                 rc ? strerror(rc) : "no such user (see /etc/passwd)");
        return -1;
    }
    who->uid = pw.pw_uid;
    who->gid = pw.pw_gid;
    who->switch_user = true;
    return 0;
}

/* Empties the bounding set, so no later execve could gain a capability
 * either. Needs CAP_SETPCAP: done as root; without it (file capabilities)
 * no_new_privs already rules that out. */
static void drop_bounding_set(void)
{
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
            break; /* past the kernel's last capability */
}

static int switch_user(const struct run_as *who, char *err)
{
    if (setgroups(0, NULL) < 0 || setresgid(who->gid, who->gid, who->gid) < 0 ||
        setresuid(who->uid, who->uid, who->uid) < 0) {
        snprintf(err, KS_ERRLEN, "switching to user %s (uid %u, gid %u): %s%s", who->name,
                 (unsigned)who->uid, (unsigned)who->gid, strerror(errno),
                 errno == EPERM ? " (only root can switch users; without root leave out --user)"
                                : "");
        return -1;
    }
    uid_t r, e, s;
    gid_t gr, ge, gs;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&gr, &ge, &gs) < 0 || r != who->uid ||
        e != who->uid || s != who->uid || gr != who->gid || ge != who->gid || gs != who->gid ||
        getgroups(0, NULL) != 0) {
        snprintf(err, KS_ERRLEN, "switching to user %s: the IDs did not all change", who->name);
        return -1;
    }
    return 0;
}

static int clear_capabilities(char *err)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &header, data) < 0) {
        snprintf(err, KS_ERRLEN, "dropping capabilities: %s", strerror(errno));
        return -1;
    }
    /* Clearing the permitted set clears the ambient one too; this is only
     * belt and braces (EINVAL on kernels before 4.3). */
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (syscall(SYS_capget, &header, data) < 0) {
        snprintf(err, KS_ERRLEN, "reading capabilities: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            snprintf(err, KS_ERRLEN, "dropping capabilities: some are still set");
            return -1;
        }
    return 0;
}

int privileges_drop(const struct run_as *who, char *err)
{
    drop_bounding_set();
    if (who && who->switch_user && switch_user(who, err) < 0)
        return -1;
    if (clear_capabilities(err) < 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, KS_ERRLEN, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    return 0;
}
