/* run_ns.c - the namespaces a scenario runs in, and the duties of the
 * process that runs it: a private network namespace (loopback up), a PID
 * namespace whose init is the scenario process, a mount namespace with a
 * /proc of that PID namespace, and at the end, every other process of the
 * scenario stopped and reaped.
 *
 * Rootless: a user namespace maps the caller to root inside, so the rest
 * needs no privilege. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define REAP_POLL_MS 2
#define REAP_KILL_MS 5000 /* SIGKILLed processes that have not gone by then are left */

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

pid_t run_ns_fork(char *errbuf)
{
    int flags = CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS;
    uid_t uid = getuid();
    gid_t gid = getgid();
    pid_t pid;

    if (geteuid() != 0)
        flags |= CLONE_NEWUSER;
    /* like fork(), with new namespaces: the child is the new PID namespace's
     * init at once, no intermediate process (the caller is single-threaded) */
    pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
        return nr_seterr_errno(errbuf, errno, "clone(%snet, pid, mount namespaces)",
                               flags & CLONE_NEWUSER ? "user, " : "");
    if (pid > 0)
        return pid;
    errbuf[0] = '\0';
    if ((flags & CLONE_NEWUSER) && map_ids(uid, gid, errbuf) < 0)
        return 0;
    /* nothing mounted in here may reach the parent's mount namespace */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        nr_seterr_errno(errbuf, errno, "make / private");
        return 0;
    }
    loopback_up(errbuf);
    return 0;
}

int run_ns_proc(char *errbuf)
{
    if (getpid() != 1)
        return nr_seterr(errbuf, "not the init of a PID namespace");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return nr_seterr_errno(errbuf, errno, "mount /proc of the scenario's PID namespace");
    return 0;
}

int run_ns_adopt_orphans(void)
{
    return getpid() == 1 ? 0 : prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Signal every process of the scenario but ourselves: as the init of a PID
 * namespace, everything in it; otherwise our children (orphans of the
 * scenario come to us as its subreaper).  Returns how many were signalled. */
static int signal_others(int sig)
{
    pid_t self = getpid();
    struct dirent *e;
    DIR *d;
    int n = 0;

    if (self == 1)
        return kill(-1, sig) == 0 ? 1 : 0;
    d = opendir("/proc");
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 0 && pid != self && nr_proc_parent(pid) == self && kill(pid, sig) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Reap every child that has exited.  Returns 1 when none is left. */
static int reap_exited(int *reaped)
{
    for (;;) {
        pid_t r = waitpid(-1, NULL, WNOHANG | __WALL);
        if (r > 0) {
            (*reaped)++;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 && errno == ECHILD;
    }
}

int run_ns_reap_all(int grace_ms, int *killed)
{
    int64_t deadline = nr_now_ms() + grace_ms;
    int reaped = 0;

    *killed = 0;
    if (reap_exited(&reaped))
        return 0;
    signal_others(SIGTERM);
    while (!reap_exited(&reaped) && nr_ms_left(deadline) > 0)
        usleep(REAP_POLL_MS * 1000);
    /* SIGKILL until nothing is left: a killed process's own children are
     * orphaned to us and need the same.  Bounded: a process stuck in the
     * kernel cannot hold the scenario forever. */
    deadline = nr_now_ms() + REAP_KILL_MS;
    while (!reap_exited(&reaped)) {
        if (nr_ms_left(deadline) == 0)
            return -1;
        *killed |= signal_others(SIGKILL) > 0;
        usleep(REAP_POLL_MS * 1000);
    }
    return 0;
}
