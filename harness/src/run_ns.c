/* run_ns.c - a private network namespace per scenario, loopback up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run.h"

/* Write text to a /proc file; returns 0 / -1 with errno. */
static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Map our uid/gid to root inside a new user namespace. */
static int map_ids(uid_t uid, gid_t gid, char *errbuf)
{
    char map[64];

    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
        return nr_seterr_errno(errbuf, errno, "setgroups deny");
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) < 0)
        return nr_seterr_errno(errbuf, errno, "uid_map");
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) < 0)
        return nr_seterr_errno(errbuf, errno, "gid_map");
    return 0;
}

static int loopback_up(char *errbuf)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

    if (fd < 0)
        return nr_seterr_errno(errbuf, errno, "socket");
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        nr_seterr_errno(errbuf, errno, "SIOCGIFFLAGS lo");
        goto out;
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        nr_seterr_errno(errbuf, errno, "bring lo up");
        goto out;
    }
    r = 0;
out:
    close(fd);
    return r;
}

int run_ns_enter(char *errbuf)
{
    uid_t uid = getuid();
    gid_t gid = getgid();

    if (geteuid() == 0) {
        if (unshare(CLONE_NEWNET) < 0)
            return nr_seterr_errno(errbuf, errno, "unshare(CLONE_NEWNET)");
    } else {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
            return nr_seterr_errno(errbuf, errno, "unshare(CLONE_NEWUSER|CLONE_NEWNET)");
        if (map_ids(uid, gid, errbuf) < 0)
            return -1;
    }
    return loopback_up(errbuf);
}
