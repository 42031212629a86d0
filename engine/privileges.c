/*
 * privileges.c - give up root's powers once the raw sockets are open.
 *
 * Everything after scan_open parses what strangers send (SYN-ACKs,
 * certificates, HTTP): it runs with no capabilities at all. Capabilities are
 * per thread in Linux, so this must run on the thread that then creates all
 * the others. The raw syscall is used because libcap is not a dependency.
 */
#include "engine/engine.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int privileges_drop(char *err)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &header, data) < 0) {
        snprintf(err, KS_ERRLEN, "dropping capabilities: %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, KS_ERRLEN, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    return 0;
}
