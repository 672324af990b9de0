/* nr_proc.c - spawning, bounded waiting and killing of child processes. */
#define _GNU_SOURCE
#include "nr_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nr_net.h"

#define LISTEN_PID_PREFIX "LISTEN_PID="

/* Everything the child needs, prepared before fork. */
struct child_plan {
    const char *path;       /* resolved program */
    char *const *argv;
    char **envp;
    char *pid_digits;       /* where the child writes its pid (inside envp), or NULL */
    int in, out, err, act;  /* fds >= 4 (close-on-exec) to become 0, 1, 2 and 3 */
    const char *cwd;        /* directory to change to, or NULL */
    pid_t parent;
    int errpipe;
};

/* Write v in decimal to dst (room for 21 bytes); async-signal-safe. */
static void put_decimal(char *dst, unsigned long v)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *dst++ = tmp[--n];
    *dst = '\0';
}

/* Runs in the child between fork and exec: async-signal-safe calls only.
 * Reports errno on the error pipe when it cannot exec. */
static void child_exec(const struct child_plan *cp)
{
    struct sigaction dfl;
    sigset_t none;
    int e;

    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != cp->parent)
        _exit(127);
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) /* ignored signals would stay ignored */
        sigaction(sig, &dfl, NULL);
    /* every source fd is >= 4, so no dup2 clobbers another's source, and
     * dup2 clears close-on-exec on the new descriptor */
    if (dup2(cp->in, 0) < 0 || dup2(cp->out, 1) < 0 || dup2(cp->err, 2) < 0 ||
        (cp->act >= 0 && dup2(cp->act, 3) < 0))
        goto fail;
    if (cp->pid_digits)
        put_decimal(cp->pid_digits, (unsigned long)getpid());
    if (cp->cwd && chdir(cp->cwd) < 0)
        goto fail;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(cp->path, cp->argv, cp->envp);
fail:
    e = errno;
    if (write(cp->errpipe, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

/* A close-on-exec copy of fd numbered 4 or more; closes fd when owned.
 * Returns the new fd or -1. */
static int high_fd(int fd, int owned)
{
    int nfd;

    if (fd < 0)
        return -1;
    nfd = fcntl(fd, F_DUPFD_CLOEXEC, 4);
    if (owned)
        close(fd);
    return nfd;
}

static int open_high(const char *path, int flags)
{
    return high_fd(open(path ? path : "/dev/null", flags | O_CLOEXEC, 0644), 1);
}

/* Length of the name of "NAME=VALUE" (the whole string when no '='). */
static size_t env_name_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

static int same_name(const char *a, const char *b)
{
    size_t n = env_name_len(a);
    return n == env_name_len(b) && memcmp(a, b, n) == 0;
}

/* Is the name of kv set by extra[from..] or, when activating, LISTEN_*? */
static int overridden(const char *kv, char *const *extra, size_t from, int activation)
{
    for (size_t i = from; extra && extra[i]; i++)
        if (same_name(kv, extra[i]))
            return 1;
    return activation && (same_name(kv, "LISTEN_FDS=") || same_name(kv, "LISTEN_PID="));
}

/* The child's environment, built in the parent: environ, then env_extra
 * (overriding), then LISTEN_FDS and a LISTEN_PID slot in pidbuf, whose
 * digits the child writes (*pid_digits).  Returns a malloc'd array of
 * borrowed strings, or NULL. */
static char **build_env(const struct nr_spawn *s, char *pidbuf, char **pid_digits)
{
    extern char **environ;
    static char listen_fds[] = "LISTEN_FDS=1";
    size_t n = 0, k = 0, nextra = 0;
    char **env;

    for (char **e = environ; e && *e; e++)
        n++;
    while (s->env_extra && s->env_extra[nextra])
        nextra++;
    env = calloc(n + nextra + 3, sizeof(*env));
    if (!env)
        return NULL;
    for (char **e = environ; e && *e; e++)
        if (!overridden(*e, s->env_extra, 0, s->activation_fd >= 0))
            env[k++] = *e;
    for (size_t i = 0; i < nextra; i++)
        if (strchr(s->env_extra[i], '=') &&
            !overridden(s->env_extra[i], s->env_extra, i + 1, s->activation_fd >= 0))
            env[k++] = s->env_extra[i];
    *pid_digits = NULL;
    if (s->activation_fd >= 0) {
        env[k++] = listen_fds;
        strcpy(pidbuf, LISTEN_PID_PREFIX);
        *pid_digits = pidbuf + strlen(LISTEN_PID_PREFIX);
        put_decimal(*pid_digits, 0);
        env[k++] = pidbuf;
    }
    return env;
}

/* The PATH value of an environment array, or NULL. */
static const char *env_path(char *const *env)
{
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], "PATH=", 5) == 0)
            return env[i] + 5;
    return NULL;
}

static int is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

int nr_proc_find(const char *name, const char *bindir, const char *path, char *out,
                 size_t outlen, char *errbuf)
{
    const char *dir, *end;
    int n;

    if (strchr(name, '/')) {
        if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
            return nr_seterr(errbuf, "cannot run '%s': path too long", name);
        return 0;
    }
    if (name[0] == '\0')
        return nr_seterr(errbuf, "cannot run '': empty program name");
    for (dir = bindir && bindir[0] ? bindir : NULL; dir; dir = *end ? end + 1 : NULL) {
        end = strchr(dir, ':');
        if (!end)
            end = dir + strlen(dir);
        n = snprintf(out, outlen, "%.*s/%s", (int)(end - dir), dir, name);
        if (end > dir && n > 0 && (size_t)n < outlen && is_executable(out))
            return 0;
    }
    if (!path)
        path = "/bin:/usr/bin";
    for (dir = path;; dir = end + 1) {
        end = strchr(dir, ':');
        if (!end)
            end = dir + strlen(dir);
        if (end == dir)
            n = snprintf(out, outlen, "./%s", name);
        else
            n = snprintf(out, outlen, "%.*s/%s", (int)(end - dir), dir, name);
        if (n > 0 && (size_t)n < outlen && is_executable(out))
            return 0;
        if (*end == '\0')
            break;
    }
    if (bindir && bindir[0])
        return nr_seterr(errbuf, "cannot run '%s': not an executable file in %s nor in PATH=%s",
                         name, bindir, path);
    return nr_seterr(errbuf, "cannot run '%s': not an executable file in PATH=%s", name, path);
}

int nr_proc_spawn(const struct nr_spawn *s, struct nr_proc *p, char *errbuf)
{
    char prog[PATH_MAX], pidbuf[sizeof(LISTEN_PID_PREFIX) + 24];
    struct child_plan cp = { .argv = s->argv, .parent = getpid(), .in = -1, .out = -1,
                             .err = -1, .act = -1, .errpipe = -1 };
    int pipefd[2] = { -1, -1 }, e = 0, rc = -1;
    sigset_t all, old;
    ssize_t n;

    memset(p, 0, sizeof(*p));
    p->pidfd = -1;
    cp.envp = build_env(s, pidbuf, &cp.pid_digits);
    if (!cp.envp) {
        nr_seterr(errbuf, "out of memory");
        goto out;
    }
    if (nr_proc_find(s->argv[0], s->bindir, env_path(cp.envp), prog, sizeof(prog), errbuf) < 0)
        goto out;
    if (s->cwd && !strchr(s->argv[0], '/') && prog[0] != '/') { /* found relative to us */
        char *abs = realpath(prog, NULL);
        if (abs && strlen(abs) < sizeof(prog))
            strcpy(prog, abs);
        free(abs);
    }
    cp.path = prog;
    cp.cwd = s->cwd;
    cp.in = open_high(s->stdin_path, O_RDONLY);
    cp.out = open_high(s->stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
    cp.err = open_high(s->stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
    if (cp.in < 0 || cp.out < 0 || cp.err < 0) {
        nr_seterr_errno(errbuf, errno, "cannot open the stdin/stdout/stderr files of '%s'",
                        s->argv[0]);
        goto out;
    }
    if (s->activation_fd >= 0 && (cp.act = high_fd(s->activation_fd, 0)) < 0) {
        nr_seterr_errno(errbuf, errno, "activation fd");
        goto out;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        nr_seterr_errno(errbuf, errno, "pipe");
        goto out;
    }
    cp.errpipe = pipefd[1];
    /* no signal handler of ours may run in the child before it resets them */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    p->pid = fork();
    if (p->pid == 0)
        child_exec(&cp);
    e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->pid < 0) {
        p->pid = 0;
        nr_seterr_errno(errbuf, e, "fork");
        goto out;
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    setpgid(p->pid, p->pid); /* also from the parent: no race on signal */
    do
        n = read(pipefd[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (n == (ssize_t)sizeof(e)) {
        nr_proc_wait(p, -1);
        nr_proc_release(p);
        nr_seterr_errno(errbuf, e, "cannot run '%s' (%s)", s->argv[0], prog);
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        if (pipefd[i] >= 0)
            close(pipefd[i]);
    if (cp.in >= 0)
        close(cp.in);
    if (cp.out >= 0)
        close(cp.out);
    if (cp.err >= 0)
        close(cp.err);
    if (cp.act >= 0)
        close(cp.act);
    free(cp.envp);
    return rc;
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
            return -errno;
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

void nr_proc_signal_main(struct nr_proc *p, int sig)
{
    if (p->pid > 0 && !p->reaped)
        kill(p->pid, sig);
}

void nr_proc_signal(struct nr_proc *p, int sig)
{
    if (p->pid > 0 && !p->reaped)
        kill(-p->pid, sig);
}

int nr_proc_kill(struct nr_proc *p, int timeout_ms)
{
    nr_proc_signal(p, SIGKILL);
    return nr_proc_wait(p, timeout_ms) == 1;
}

int nr_proc_stop(struct nr_proc *p, int grace_ms)
{
    if (p->pid <= 0 || p->reaped)
        return 1;
    nr_proc_signal(p, SIGTERM);
    if (nr_proc_wait(p, grace_ms) == 1)
        return 1;
    nr_proc_kill(p, -1);
    return 0;
}

void nr_proc_release(struct nr_proc *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
}

/* An incremental search for a line that starts with a prefix, in bytes
 * that arrive piece by piece. */
struct line_scan {
    const char *prefix;
    size_t plen;
    char *line;       /* the caller's result buffer */
    size_t linelen;
    char *buf;        /* the incomplete line so far */
    size_t len, cap;
    enum { SCAN_LINE, SCAN_SKIP, SCAN_LONG_MATCH } mode; /* the last two: rest of a long line */
};

/* Copy the matching line (cut to linelen-1 bytes) out. */
static void scan_take(struct line_scan *sc, size_t n)
{
    if (n >= sc->linelen)
        n = sc->linelen - 1;
    memcpy(sc->line, sc->buf, n);
    sc->line[n] = '\0';
}

/* Look at the complete lines in sc->buf; keep the incomplete rest.  A line
 * that fills the buffer is decided by its start and its rest skipped.
 * Returns 1 once a whole matching line has been seen. */
static int scan_lines(struct line_scan *sc)
{
    size_t i = 0;
    char *nl;

    while ((nl = memchr(sc->buf + i, '\n', sc->len - i))) {
        size_t end = (size_t)(nl - sc->buf);
        if (sc->mode == SCAN_LONG_MATCH)
            return 1;
        if (sc->mode == SCAN_LINE && end - i >= sc->plen &&
            memcmp(sc->buf + i, sc->prefix, sc->plen) == 0) {
            memmove(sc->buf, sc->buf + i, end - i);
            scan_take(sc, end - i);
            return 1;
        }
        sc->mode = SCAN_LINE;
        i = end + 1;
    }
    memmove(sc->buf, sc->buf + i, sc->len - i);
    sc->len -= i;
    if (sc->len == sc->cap) { /* a line longer than the buffer */
        if (sc->mode == SCAN_LINE && memcmp(sc->buf, sc->prefix, sc->plen) == 0) {
            scan_take(sc, sc->len);
            sc->mode = SCAN_LONG_MATCH;
        } else if (sc->mode == SCAN_LINE) {
            sc->mode = SCAN_SKIP;
        }
        sc->len = 0;
    }
    return 0;
}

int nr_wait_file_line(const char *path, const char *prefix, char *line, size_t linelen,
                      struct nr_proc *p, int timeout_ms)
{
    int64_t deadline = nr_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    struct line_scan sc = { .prefix = prefix, .plen = strlen(prefix), .line = line,
                            .linelen = linelen, .mode = SCAN_LINE };
    int fd = -1, r;
    ssize_t n;

    if (linelen == 0)
        return -EINVAL;
    sc.cap = sc.plen + linelen + 4096;
    sc.buf = malloc(sc.cap);
    if (!sc.buf)
        return -ENOMEM;
    for (;;) {
        /* checked before reading, so all the output of an exited child is read */
        int exited = p && nr_proc_wait(p, 0) == 1;
        if (fd < 0)
            fd = open(path, O_RDONLY | O_CLOEXEC);
        while (fd >= 0 && (n = nr_read(fd, sc.buf + sc.len, sc.cap - sc.len)) > 0) {
            sc.len += (size_t)n;
            if (scan_lines(&sc)) {
                r = 1;
                goto out;
            }
        }
        if (exited) {
            r = -ECHILD;
            goto out;
        }
        if (nr_ms_left(deadline) == 0) {
            r = 0;
            goto out;
        }
        if (p && p->pidfd >= 0) {
            struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
            int left = nr_ms_left(deadline);
            poll(&pfd, 1, left < 2 ? left : 2);
        } else {
            usleep(2000);
        }
    }
out:
    if (fd >= 0)
        close(fd);
    free(sc.buf);
    return r;
}

pid_t nr_proc_parent(pid_t pid)
{
    char path[64], buf[512], *rp;
    int fd, ppid;
    ssize_t len;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    len = nr_read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (len < 0)
        return (pid_t)len; /* ESRCH: it died between open and read */
    buf[len] = '\0';
    rp = strrchr(buf, ')'); /* "pid (comm) state ppid ...": comm may hold ')' */
    if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
        return -EIO;
    return (pid_t)ppid;
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
