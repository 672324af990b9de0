/* itest_reap.h - ending what a failed check leaves running.  cmocka ends a
 * case at its first failed check (a longjmp out of it), past the code that
 * would stop the servers it started; the teardown below runs after every
 * case and ends each child of this process still there: SIGKILL to its
 * process group (nr_proc_spawn makes every child a group leader; a stopped
 * child dies of it too), reaped within 5 s, its itest temp directory
 * removed, and a line names it; before that, a hook of the file's own
 * ends what else a case may leave (a thread); after it, the descriptors
 * and temp directories a case recorded as its own (itest_reap_fd,
 * itest_reap_dir) and did not release are closed and removed.  A case that
 * passes its checks has stopped all that itself: anything found then fails
 * the case.
 *
 *     struct CMUnitTest tests[] = { ... };
 *     itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
 *
 * Header-only: included once by each test program that uses it. */
#ifndef ITEST_REAP_H
#define ITEST_REAP_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_net.h"

#define ITEST_REAP_MS 5000 /* bound on reaping a SIGKILLed child */

/* Not every test program uses every helper. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* Remove the temp directory of an itest server: dir is where its stdout
 * went, "/tmp/itest.XXXXXX/out"; anything else is left alone. */
static void itest_reap_tmpdir(const char *out)
{
    char dir[96];
    const char *slash = strrchr(out, '/');
    struct dirent *e;
    DIR *d;

    if (strncmp(out, "/tmp/itest.", 11) != 0 || !slash || (size_t)(slash - out) >= sizeof(dir))
        return;
    memcpy(dir, out, (size_t)(slash - out));
    dir[slash - out] = '\0';
    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(dir);
}

/* SIGKILL child pid (its whole group when it leads one) and reap it within
 * ITEST_REAP_MS.  Returns 0 when reaped, -1 when not (said why). */
static int itest_reap_one(pid_t pid, pid_t pgrp, const char *comm)
{
    int64_t deadline = nr_now_ms() + ITEST_REAP_MS;
    char link[64], out[256] = "";
    ssize_t n;
    pid_t r;
    int st;

    snprintf(link, sizeof(link), "/proc/%d/fd/1", (int)pid);
    if ((n = readlink(link, out, sizeof(out) - 1)) > 0)
        out[n] = '\0';
    kill(pgrp == pid ? -pid : pid, SIGKILL);
    while ((r = waitpid(pid, &st, WNOHANG)) != pid) {
        if (r < 0 && errno != EINTR) {
            print_message("teardown: child %d %s left running by the case: waitpid: %s\n",
                          (int)pid, comm, strerror(errno));
            return -1;
        }
        if (nr_ms_left(deadline) == 0) {
            print_message("teardown: child %d %s left running by the case: not reaped within "
                          "%d ms of SIGKILL\n", (int)pid, comm, ITEST_REAP_MS);
            return -1;
        }
        usleep(1000);
    }
    print_message("teardown: child %d %s left running by the case: killed and reaped\n",
                  (int)pid, comm);
    itest_reap_tmpdir(out);
    return 0;
}

/* A child that one case starts on purpose for a later case to wait for
 * (0: none): the teardown leaves it alone. */
static pid_t itest_reap_spare;

/* End every child of this process (found by their parent in /proc/PID/stat)
 * but itest_reap_spare.  Returns how many there were, or -1 when one could
 * not be reaped. */
static int itest_reap_children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0, failed = 0;

    if (!d) {
        print_message("teardown: /proc cannot be read: children not looked for\n");
        return -1;
    }
    while ((e = readdir(d))) {
        char path[64], buf[512], *p;
        int ppid, pgrp, fd;
        pid_t pid = (pid_t)atoi(e->d_name);
        ssize_t n;

        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue; /* gone meanwhile */
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        /* "pid (comm) state ppid pgrp ...": the command name may hold spaces */
        if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %d %d", &ppid, &pgrp) != 2 ||
            ppid != (int)getpid() || pid == itest_reap_spare)
            continue;
        p[1] = '\0';
        found++;
        failed |= itest_reap_one(pid, (pid_t)pgrp, strchr(buf, '(')) < 0;
    }
    closedir(d);
    return failed ? -1 : found;
}

/* What a case made itself and releases before it ends, that a failed
 * check would leave: descriptors (a fifo's read end, a client socket) and
 * /tmp/itest.* directories.  An empty slot has what == NULL. */
#define ITEST_REAP_OWN 8
static struct itest_reap_own {
    int fd;           /* the descriptor, or -1 for a directory */
    char what[96];    /* what it is (for a directory: its path) */
} itest_reap_owns[ITEST_REAP_OWN];

static struct itest_reap_own *itest_reap_slot(void)
{
    for (int i = 0; i < ITEST_REAP_OWN; i++)
        if (!itest_reap_owns[i].what[0])
            return &itest_reap_owns[i];
    fail_msg("itest_reap: more than %d descriptors and directories recorded", ITEST_REAP_OWN);
    return NULL;
}

/* Record fd as the case's own, described by what, for the teardown to
 * close if the case ends before itest_reap_close(fd).  Returns fd (a
 * negative fd is not recorded). */
static int itest_reap_fd(int fd, const char *what)
{
    struct itest_reap_own *o;

    if (fd < 0)
        return fd;
    o = itest_reap_slot();
    o->fd = fd;
    snprintf(o->what, sizeof(o->what), "%.95s", what);
    return fd;
}

/* Forget fd (recorded by itest_reap_fd, or not): something else closes it
 * (nr_proc_release, a pidfd). */
static void itest_reap_forget(int fd)
{
    for (int i = 0; i < ITEST_REAP_OWN; i++)
        if (itest_reap_owns[i].what[0] && itest_reap_owns[i].fd == fd)
            itest_reap_owns[i].what[0] = '\0';
}

/* Close fd and forget it. */
static void itest_reap_close(int fd)
{
    itest_reap_forget(fd);
    close(fd);
}

/* Record the temp directory dir ("/tmp/itest.XXXXXX", made by the case)
 * for the teardown to empty and remove if the case ends before
 * itest_reap_dir_done(dir). */
static void itest_reap_dir(const char *dir)
{
    struct itest_reap_own *o = itest_reap_slot();

    o->fd = -1;
    snprintf(o->what, sizeof(o->what), "%.95s", dir);
}

/* Forget dir (the case removed it itself). */
static void itest_reap_dir_done(const char *dir)
{
    for (int i = 0; i < ITEST_REAP_OWN; i++)
        if (itest_reap_owns[i].fd < 0 && strcmp(itest_reap_owns[i].what, dir) == 0)
            itest_reap_owns[i].what[0] = '\0';
}

/* Close the recorded descriptors and remove the recorded directories still
 * there, saying so.  Returns how many. */
static int itest_reap_owned(void)
{
    int found = 0;

    for (int i = 0; i < ITEST_REAP_OWN; i++) {
        struct itest_reap_own *o = &itest_reap_owns[i];
        char inside[128];

        if (!o->what[0])
            continue;
        found++;
        if (o->fd >= 0) {
            close(o->fd);
            print_message("teardown: descriptor %d (%s) left open by the case: closed\n", o->fd,
                          o->what);
        } else {
            snprintf(inside, sizeof(inside), "%s/-", o->what);
            itest_reap_tmpdir(inside);
            print_message("teardown: directory %s left by the case: removed\n", o->what);
        }
        o->what[0] = '\0';
    }
    return found;
}

/* The body of each case (itest_reap_every_case), and whether the one
 * running reached its end: a failed check (or skip()) leaves it 0. */
static CMUnitTestFunction itest_reap_bodies[64];
static int itest_reap_case_ended;
static int (*itest_reap_also)(void);

static void itest_reap_run(void **state)
{
    CMUnitTestFunction body = *(CMUnitTestFunction *)*state;

    *state = NULL;
    itest_reap_case_ended = 0;
    body(state);
    itest_reap_case_ended = 1;
}

/* cmocka teardown: ends the children the case left (see above).  Fails a
 * case that passed its checks but left one; a case that failed keeps its
 * own verdict (cmocka would report a failing teardown instead). */
static int itest_reap_teardown(void **state)
{
    int also = itest_reap_also ? itest_reap_also() : 0, r = itest_reap_children();
    int owned = itest_reap_owned();

    (void)state;
    if ((also || r || owned) && itest_reap_case_ended) {
        print_message("teardown: the case passed its checks but left %s\n",
                      also < 0 || r < 0 ? "what it could not end" : "something running or open");
        return -1;
    }
    return 0;
}

/* Run every case of tests[0..n) (n <= 64, none with a state of its own)
 * through itest_reap_run, with itest_reap_teardown as its teardown; that
 * calls also() first, when not NULL: it ends what else of the file's a
 * case may leave (a thread...), saying so, and returns what itest_reap_children
 * does (how many, or -1). */
static void itest_reap_every_case(struct CMUnitTest *tests, size_t n, int (*also)(void))
{
    itest_reap_also = also;
    if (n > sizeof(itest_reap_bodies) / sizeof(itest_reap_bodies[0])) {
        fprintf(stderr, "itest_reap: %zu cases, room for %zu\n", n,
                sizeof(itest_reap_bodies) / sizeof(itest_reap_bodies[0]));
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        if (tests[i].teardown_func || tests[i].initial_state) {
            fprintf(stderr, "itest_reap: case %s has a teardown or state\n", tests[i].name);
            exit(1);
        }
        itest_reap_bodies[i] = tests[i].test_func;
        tests[i].test_func = itest_reap_run;
        tests[i].initial_state = &itest_reap_bodies[i];
        tests[i].teardown_func = itest_reap_teardown;
    }
}

#pragma GCC diagnostic pop

#endif
