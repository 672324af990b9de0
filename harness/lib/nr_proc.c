/* nr_proc.c - spawning, bounded waiting and killing of child processes. */
#define _GNU_SOURCE
#include "nr_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nr_net.h"

static int open_or_null(const char *path, int flags)
{
    return open(path ? path : "/dev/null", flags | O_CLOEXEC, 0644);
}

/* Runs in the child between fork and exec; reports errno on errpipe. */
static void child_exec(const struct nr_spawn *s, pid_t parent, int errpipe)
{
    int in, out, err, e;
    sigset_t none;
    char pidstr[32];

    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    in = open_or_null(s->stdin_path, O_RDONLY);
    out = open_or_null(s->stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
    err = open_or_null(s->stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
    if (in < 0 || out < 0 || err < 0)
        goto fail;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        goto fail;
    /* After the stdio dups (in/out/err may be fd 3); dup2(3, 3) would keep
     * close-on-exec, so clear it instead. */
    if (s->activation_fd >= 0) {
        if (s->activation_fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(s->activation_fd, 3) < 0)
            goto fail;
        snprintf(pidstr, sizeof(pidstr), "%ld", (long)getpid());
        setenv("LISTEN_PID", pidstr, 1);
        setenv("LISTEN_FDS", "1", 1);
    }
    for (char *const *kv = s->env_extra; kv && *kv; kv++)
        putenv(*kv);
    execvp(s->argv[0], s->argv);
fail:
    e = errno;
    if (write(errpipe, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

int nr_proc_spawn(const struct nr_spawn *s, struct nr_proc *p, char *errbuf)
{
    int pipefd[2], e = 0;
    pid_t parent = getpid();
    ssize_t n;

    memset(p, 0, sizeof(*p));
    p->pidfd = -1;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return nr_seterr_errno(errbuf, errno, "pipe");
    p->pid = fork();
    if (p->pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return nr_seterr_errno(errbuf, errno, "fork");
    }
    if (p->pid == 0) {
        close(pipefd[0]);
        child_exec(s, parent, pipefd[1]);
    }
    close(pipefd[1]);
    setpgid(p->pid, p->pid); /* also from the parent: no race on signal */
    do
        n = read(pipefd[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (n == (ssize_t)sizeof(e)) {
        nr_proc_wait(p, -1);
        nr_proc_release(p);
        return nr_seterr_errno(errbuf, e, "cannot run '%s'", s->argv[0]);
    }
    return 0;
}

int nr_proc_wait(struct nr_proc *p, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : nr_now_ms() + timeout_ms;
    pid_t r;

    if (p->reaped)
        return 1;
    for (;;) {
        r = waitpid(p->pid, &p->status, WNOHANG);
        if (r == p->pid) {
            p->reaped = 1;
            return 1;
        }
        if (r < 0 && errno != EINTR)
            return -1;
        if (deadline >= 0 && nr_ms_left(deadline) == 0)
            return 0;
        if (p->pidfd >= 0) {
            struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
            poll(&pfd, 1, nr_ms_left(deadline));
        } else {
            usleep(2000);
        }
    }
}

void nr_proc_signal(struct nr_proc *p, int sig)
{
    if (p->pid > 0 && !p->reaped)
        kill(-p->pid, sig);
}

int nr_proc_stop(struct nr_proc *p, int grace_ms)
{
    if (p->pid <= 0 || p->reaped)
        return 1;
    nr_proc_signal(p, SIGTERM);
    if (nr_proc_wait(p, grace_ms) == 1) {
        kill(-p->pid, SIGKILL); /* stragglers in the group */
        return 1;
    }
    nr_proc_signal(p, SIGKILL);
    nr_proc_wait(p, -1);
    return 0;
}

void nr_proc_release(struct nr_proc *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
}

/* Search buf for a line beginning with prefix; copy it out. */
static int find_line(const char *buf, size_t len, const char *prefix, char *line, size_t linelen)
{
    size_t plen = strlen(prefix), i = 0;

    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end;
        if (!nl)
            return 0; /* only complete lines count */
        end = (size_t)(nl - buf);
        if (end - i >= plen && memcmp(buf + i, prefix, plen) == 0) {
            size_t n = end - i;
            if (n >= linelen)
                n = linelen - 1;
            memcpy(line, buf + i, n);
            line[n] = '\0';
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

int nr_wait_file_line(const char *path, const char *prefix, char *line, size_t linelen,
                      struct nr_proc *p, int timeout_ms)
{
    int64_t deadline = nr_now_ms() + timeout_ms;
    char buf[4096];

    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = nr_read(fd, buf, sizeof(buf));
            close(fd);
            if (n > 0 && find_line(buf, (size_t)n, prefix, line, linelen))
                return 1;
        }
        if (p && nr_proc_wait(p, 0) == 1)
            return -1;
        if (nr_ms_left(deadline) == 0)
            return 0;
        usleep(2000);
    }
}

void nr_status_str(int status, char *buf, size_t buflen)
{
    if (WIFEXITED(status))
        snprintf(buf, buflen, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, buflen, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, buflen, "status 0x%x", status);
}
