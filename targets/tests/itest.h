/* itest.h - helpers for the integration tests of the server targets: start
 * a built target on an ephemeral port (or with an activated socket), connect
 * to it, count its descriptors, and stop it with SIGTERM, checking that it
 * exits 0 within 1 s.  Binaries come from $NR_BIN (default: the bin/ of the
 * test program's own build, bin_dir.h), so `make check` runs the same tests
 * against the ASan+UBSan build.
 * Header-only: each test program includes it once. */
#ifndef ITEST_H
#define ITEST_H

#include <dirent.h>
#include <poll.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../harness/tests/bin_dir.h"
#include "nr_net.h"
#include "nr_proc.h"

/* Not every test program uses every helper. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* Extra "K=V" environment for the targets itest_spawn starts (NULL: none);
 * shortio_itest.h sets it to preload the short-I/O injector. */
static char *const *itest_env;

struct itest_srv {
    struct nr_proc proc;
    struct nr_addr addr;   /* where it listens */
    char name[64];         /* its program's file name, for messages */
    char dir[64];          /* temp dir with out/err files */
    char out[96], err[96];
};

/* The temp directories itest_spawn made that itest_stop has not removed
 * (a failed check ends its case before): removed when the program exits,
 * those of servers that exited by themselves included (the teardown of
 * itest_reap.h finds a directory through the running server only). */
#define ITEST_DIRS 64
static char itest_dirs[ITEST_DIRS][64];
static pid_t itest_dirs_pid; /* the process that made them (not a fork) */

static void itest_dirs_remove(void)
{
    char path[96];

    if (getpid() != itest_dirs_pid)
        return;
    for (int i = 0; i < ITEST_DIRS; i++) {
        if (!itest_dirs[i][0])
            continue;
        snprintf(path, sizeof(path), "%.63s/out", itest_dirs[i]);
        unlink(path);
        snprintf(path, sizeof(path), "%.63s/err", itest_dirs[i]);
        unlink(path);
        if (rmdir(itest_dirs[i]) == 0)
            fprintf(stderr, "itest: %s was left (a case ended early): removed\n", itest_dirs[i]);
        itest_dirs[i][0] = '\0';
    }
}

/* Note dir for removal at exit (when there is room). */
static void itest_dir_keep(const char *dir)
{
    if (!itest_dirs_pid) {
        itest_dirs_pid = getpid();
        atexit(itest_dirs_remove);
    }
    for (int i = 0; i < ITEST_DIRS; i++)
        if (!itest_dirs[i][0]) {
            snprintf(itest_dirs[i], sizeof(itest_dirs[i]), "%.63s", dir);
            return;
        }
}

/* Forget dir: its server was stopped and it was removed. */
static void itest_dir_forget(const char *dir)
{
    for (int i = 0; i < ITEST_DIRS; i++)
        if (strcmp(itest_dirs[i], dir) == 0)
            itest_dirs[i][0] = '\0';
}

/* Start argv (argv[0] is a path or looked up in PATH), handing it
 * activation_fd (>= 0) as fd 3 by socket activation; waits up to 5 s for
 * its readiness line and records the address it names. */
static void itest_spawn(struct itest_srv *s, char **argv, int activation_fd)
{
    char line[256], errbuf[NR_ERRBUF_SIZE];
    const char *base = strrchr(argv[0], '/');
    int r;

    snprintf(s->name, sizeof(s->name), "%.63s", base ? base + 1 : argv[0]);
    snprintf(s->dir, sizeof(s->dir), "/tmp/itest.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    itest_dir_keep(s->dir);
    snprintf(s->out, sizeof(s->out), "%s/out", s->dir);
    snprintf(s->err, sizeof(s->err), "%s/err", s->dir);
    struct nr_spawn sp = { .argv = argv, .env_extra = itest_env, .stdout_path = s->out,
                           .stderr_path = s->err, .activation_fd = activation_fd };
    if (nr_proc_spawn(&sp, &s->proc, errbuf) < 0)
        fail_msg("%s", errbuf);
    r = nr_wait_file_line(s->out, "listening on ", line, sizeof(line), &s->proc, 5000);
    if (r != 1)
        fail_msg("%s: no readiness line (r=%d)", argv[0], r);
    if (nr_addr_parse(line + strlen("listening on "), &s->addr, errbuf) < 0)
        fail_msg("readiness line '%s': %s", line, errbuf);
}

/* Path of built target `name` into path[len]: bin_dir()/name ($NR_BIN, or
 * the bin/ beside this test program's tests/); fails the test when it does
 * not fit. */
static void itest_bin(const char *name, char *path, size_t len)
{
    char dir[PATH_MAX];
    const char *bin = bin_dir(dir);
    int n = snprintf(path, len, "%s/%s", bin, name);

    if (n < 0 || (size_t)n >= len)
        fail_msg("%s/%s: path longer than %zu bytes", bin, name, len - 1);
}

/* Start target `name` with the extra args in ap (NULL-terminated) plus
 * --port 0, handing it activation_fd as fd 3 when >= 0; waits up to 5 s for
 * its readiness line. */
static void itest_vstart(struct itest_srv *s, const char *name, int activation_fd, va_list ap)
{
    char path[512];
    char *argv[32];
    int argc = 0;

    itest_bin(name, path, sizeof(path));
    argv[argc++] = path;
    for (char *a; (a = va_arg(ap, char *)) && argc < 28;)
        argv[argc++] = a;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc] = NULL;
    itest_spawn(s, argv, activation_fd);
}

/* Start target `name` with extra args (NULL-terminated list) plus
 * --port 0; waits up to 5 s for its readiness line. */
static void itest_start(struct itest_srv *s, const char *name, ...)
{
    va_list ap;

    va_start(ap, name);
    itest_vstart(s, name, -1, ap);
    va_end(ap);
}

/* Like itest_start, but by socket activation: create a socket of the given
 * type (SOCK_STREAM or SOCK_DGRAM) bound to 127.0.0.1 on an ephemeral
 * port, hand it to the target as fd 3, and check that the target announces
 * that very address. */
static void itest_start_activated(struct itest_srv *s, const char *name, int type, ...)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a, local;
    va_list ap;
    int fd = -1;

    if (nr_addr_from_host("127.0.0.1", 0, &a, errbuf) < 0 ||
        (fd = nr_bind_socket(&a, type, 16, errbuf)) < 0 || nr_local_addr(fd, &local, errbuf) < 0)
        fail_msg("%s", errbuf);
    va_start(ap, type);
    itest_vstart(s, name, fd, ap);
    va_end(ap);
    close(fd);
    assert_int_equal(nr_addr_port((struct sockaddr *)&s->addr.ss),
                     nr_addr_port((struct sockaddr *)&local.ss));
}

/* Connect a TCP client to the server; fails the test on error. */
static int itest_connect(struct itest_srv *s)
{
    char errbuf[NR_ERRBUF_SIZE];
    int fd = nr_connect_tcp(&s->addr, 2000, NULL, NULL, errbuf);

    if (fd < 0)
        fail_msg("%s", errbuf);
    return fd;
}

/* Number of open descriptors of the server process. */
static int itest_fd_count(struct itest_srv *s)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)s->proc.pid);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Wait up to timeout_ms for the server's fd count to come back to `want`.
 * Returns the last count seen. */
static int itest_fd_settle(struct itest_srv *s, int want, int timeout_ms)
{
    int64_t deadline = nr_now_ms() + timeout_ms;
    int n;

    while ((n = itest_fd_count(s)) != want && nr_ms_left(deadline) > 0)
        usleep(5000);
    return n;
}

/* Read exactly len bytes from fd within timeout_ms in total. */
static void itest_read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = nr_now_ms() + timeout_ms;
    size_t got = 0;

    while (got < len) {
        ssize_t n;
        if (nr_wait_fd(fd, POLLIN, nr_ms_left(deadline)) <= 0)
            fail_msg("timeout after %zu of %zu bytes", got, len);
        n = nr_read(fd, (char *)buf + got, len - got);
        if (n <= 0)
            fail_msg("read: %s after %zu of %zu bytes", n ? strerror((int)-n) : "EOF", got, len);
        got += (size_t)n;
    }
}

/* Assert the next read on fd within timeout_ms is EOF. */
static void itest_expect_eof(int fd, int timeout_ms)
{
    char c;

    if (nr_wait_fd(fd, POLLIN, timeout_ms) <= 0)
        fail_msg("no EOF within %d ms", timeout_ms);
    assert_int_equal(nr_read(fd, &c, 1), 0);
}

/* The name a server gives the client side of connection fd in its log
 * lines ("ADDR:PORT"), into out[NR_ADDRSTR_SIZE]. */
static void itest_peer_name(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    nr_addr_format((struct sockaddr *)&ss, out, len);
}

/* Wait up to 2 s for a line of the server's stderr that starts with
 * `prefix` and assert it is `want` (whole).  Lines before it are skipped. */
static void itest_expect_log(struct itest_srv *s, const char *prefix, const char *want)
{
    char line[512];
    int r = nr_wait_file_line(s->err, prefix, line, sizeof(line), &s->proc, 2000);

    if (r != 1)
        fail_msg("no log line '%s' (r=%d)", want, r);
    if (strcmp(line, want) != 0)
        fail_msg("log line '%s', want '%s'", line, want);
}

/* CPU time the server has used so far (user + system), in milliseconds
 * (clock-tick resolution). */
static long itest_cpu_ms(struct itest_srv *s)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->proc.pid);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    assert_non_null(p);
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
    return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* Wait up to 2 s for the server's scheduling state (/proc/PID/stat: 'S'
 * sleeping, 'T' stopped...) to be `state`. */
static void itest_wait_state(struct itest_srv *s, char state)
{
    char path[64], buf[512], *p = NULL;
    int64_t deadline = nr_now_ms() + 2000;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->proc.pid);
    do {
        FILE *f = fopen(path, "r");
        size_t n;

        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == state)
            return;
        usleep(2000);
    } while (nr_ms_left(deadline) > 0);
    fail_msg("the server's state is not '%c' within 2 s: %s", state, p ? p : buf);
}

/* Assert the server sleeps while nothing happens: over idle_ms it uses at
 * most a quarter of it in CPU (a server that spins uses about all of it;
 * CPU time is counted in clock ticks, and a busy or sanitized run can
 * charge a sleeping one a few). */
static void itest_expect_idle(struct itest_srv *s, int idle_ms)
{
    long t0 = itest_cpu_ms(s), used;

    usleep((useconds_t)idle_ms * 1000);
    used = itest_cpu_ms(s) - t0;
    if (used > idle_ms / 4)
        fail_msg("the idle server used %ld ms of CPU in %d ms: it spins", used, idle_ms);
}

/* SIGTERM the server; assert it exits with status 0 within 1 s (under ASan
 * a leak makes the exit status non-zero).  Removes its temp files.  One that
 * has not exited by then is SIGKILLed (its group and itself) and waited for
 * 5 s more; the failure names it, and says if it was still not reaped. */
static void itest_stop(struct itest_srv *s)
{
    char st[64];

    nr_proc_signal(&s->proc, SIGTERM);
    if (nr_proc_wait(&s->proc, 1000) != 1) {
        pid_t pid = s->proc.pid;

        /* the child itself too: it may have left its process group */
        int killed;

        nr_proc_signal_main(&s->proc, SIGKILL);
        killed = nr_proc_kill(&s->proc, 5000);
        nr_proc_release(&s->proc);
        if (!killed)
            fail_msg("%s (pid %d) did not exit within 1 s of SIGTERM, nor within 5 s of SIGKILL",
                     s->name, (int)pid);
        fail_msg("%s (pid %d) did not exit within 1 s of SIGTERM: killed", s->name, (int)pid);
    }
    nr_status_str(s->proc.status, st, sizeof(st));
    if (!WIFEXITED(s->proc.status) || WEXITSTATUS(s->proc.status) != 0) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", s->err);
        if (system(cmd) < 0)
            perror("system");
        nr_proc_release(&s->proc);
        fail_msg("server ended with %s", st);
    }
    nr_proc_release(&s->proc);
    unlink(s->out);
    unlink(s->err);
    rmdir(s->dir);
    itest_dir_forget(s->dir);
}

#pragma GCC diagnostic pop

#endif
