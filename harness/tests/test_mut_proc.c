/* Unit tests of nr_proc (finding, spawning, waiting for, signalling and
 * stopping children; a line in a child's output; a process's parent; a
 * wait status as text) and nr_sockinfo (a serving socket by port or by
 * the process tree that holds it), each promise of nr_proc.h and
 * nr_sockinfo.h shown holding and, where it can, broken alone.  Written
 * for make mutate (ci/mutate.map): fast, children of a few ms each. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <ftw.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_net.h"
#include "nr_proc.h"
#include "nr_sockinfo.h"
#include "../../targets/tests/fault_inproc.h"
#include "../../targets/tests/itest_reap.h"
#include "heap_exact.h"

static char dir[64];

/* While set, the parent's setpgid in nr_proc_spawn waits for the child's
 * exec (see sys_setpgid below); a failed check may leave it set. */
static volatile int parent_setpgid_late;

/* Waits up to ms for the forked child pid (what: what it does, for the
 * message) to exit, into *status; fails the case when it does not, after
 * killing and reaping it. */
static void wait_forked(pid_t pid, int *status, int ms, const char *what)
{
    int64_t give_up = nr_now_ms() + ms;
    pid_t r;

    while ((r = waitpid(pid, status, WNOHANG)) == 0 && nr_now_ms() < give_up)
        usleep(2000);
    if (r == pid)
        return;
    kill(pid, SIGKILL); /* teardown reaps it if it takes longer than this */
    for (int i = 0; i < 1000 && r == 0; i++, usleep(2000))
        r = waitpid(pid, status, WNOHANG);
    fail_msg("waited %d ms for pid %d (%s) to exit: %s", ms, (int)pid, what,
             r == pid ? "it had not, killed and reaped"
             : r == 0 ? "it had not, killed (the teardown reaps it)" : strerror(errno));
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/nr-mut-proc.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return heap_exact_begin(state);
}

/* setup of a case that calls setenv (its copies are never freed): its
 * descriptors are checked, not its heap. */
static int setup_env(void **state)
{
    if (setup(state) < 0)
        return -1;
    return heap_exact_begin_fds(state);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Kills and reaps what the case left running (itest_reap.h: SIGKILL to
 * each child's group, reaped within 5 s, named), removes the case's
 * directory; fails when the case left a child running, or leaked heap
 * bytes or descriptors (heap_exact.h). */
static int teardown(void **state)
{
    int left = 0, leaked;

    while (waitpid(-1, NULL, WNOHANG) > 0)
        ; /* exited (an orphaned zombie: a shell killed before it reaped its last command) */
    for (int round = 0; round < 4 && itest_reap_children() != 0; round++)
        left = 1; /* a round for those orphaned by the kills before it */
    leaked = heap_exact_end(state);
    parent_setpgid_late = 0;
    if (left)
        leaked = -1;
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return -1;
    return leaked;
}

/* dir/NAME with mode (a directory when mode is 0). */
static void make_file(const char *name, mode_t mode)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (mode == 0) {
        assert_int_equal(mkdir(path, 0755), 0);
        return;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

/* The whole of file dir/NAME (static buffer). */
static const char *slurp(const char *name)
{
    static char buf[4096];
    char path[256];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

/* ---- nr_proc_find ---------------------------------------------------------- */

static void find_in_bindir_then_path(void **st)
{
    char out[256], want[256], bindir[512], err[NR_ERRBUF_SIZE] = "";
    (void)st;
    make_file("d1", 0);
    make_file("d2", 0);
    make_file("d3", 0);
    make_file("d4", 0);
    make_file("d1/prog", 0755);
    make_file("d2/prog", 0644); /* not executable */
    make_file("d3/prog", 0);    /* a directory */
    make_file("d4/prog", 0755);
    /* only an executable regular file counts; the first one wins */
    snprintf(bindir, sizeof(bindir), "%s/d3:%s/d2:%s/d1:%s/d4", dir, dir, dir, dir);
    assert_int_equal(nr_proc_find("prog", bindir, "/nonexistent", out, sizeof(out), err), 0);
    snprintf(want, sizeof(want), "%s/d1/prog", dir);
    assert_string_equal(out, want);
    /* bindir before PATH */
    snprintf(bindir, sizeof(bindir), "%s/d4", dir);
    snprintf(want, sizeof(want), "%s/d1", dir);
    assert_int_equal(nr_proc_find("prog", bindir, want, out, sizeof(out), err), 0);
    snprintf(want, sizeof(want), "%s/d4/prog", dir);
    assert_string_equal(out, want);
    /* PATH alone, its last entry; an empty bindir is none */
    snprintf(bindir, sizeof(bindir), "%s/d2:%s/d4", dir, dir);
    assert_int_equal(nr_proc_find("prog", "", bindir, out, sizeof(out), err), 0);
    assert_string_equal(out, want);
    /* out must hold the path and its NUL */
    assert_int_equal(nr_proc_find("prog", NULL, bindir, out, strlen(want) + 1, err), 0);
    assert_string_equal(out, want);
    assert_int_equal(nr_proc_find("prog", NULL, bindir, out, strlen(want), err), -1);
    snprintf(bindir, sizeof(bindir), "%s/d4", dir);
    assert_int_equal(nr_proc_find("prog", bindir, "/nonexistent", out, strlen(want), err), -1);
}

static void find_empty_path_entry_is_the_current_directory(void **st)
{
    char out[256], err[NR_ERRBUF_SIZE], cwd[512];
    (void)st;
    make_file("prog", 0755);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(nr_proc_find("prog", NULL, "/nonexistent:", out, sizeof(out), err), 0);
    assert_string_equal(out, "./prog");
    assert_int_equal(nr_proc_find("prog", NULL, ":/nonexistent", out, sizeof(out), err), 0);
    assert_string_equal(out, "./prog");
    /* an empty bindir entry is not the current directory */
    assert_int_equal(nr_proc_find("prog", ":", "/nonexistent", out, sizeof(out), err), -1);
    assert_int_equal(chdir(cwd), 0);
}

static void find_says_where_it_looked(void **st)
{
    char out[16], err[NR_ERRBUF_SIZE];
    (void)st;
    assert_int_equal(nr_proc_find("no-such-prog", "/b1:/b2", "/p1:/p2", out, sizeof(out), err), -1);
    assert_string_equal(err, "cannot run 'no-such-prog': not an executable file in /b1:/b2 nor "
                             "in PATH=/p1:/p2");
    assert_int_equal(nr_proc_find("no-such-prog", NULL, "/p1", out, sizeof(out), err), -1);
    assert_string_equal(err, "cannot run 'no-such-prog': not an executable file in PATH=/p1");
    assert_int_equal(nr_proc_find("no-such-prog", "", NULL, out, sizeof(out), err), -1);
    assert_string_equal(err,
                        "cannot run 'no-such-prog': not an executable file in PATH=/bin:/usr/bin");
    assert_int_equal(nr_proc_find("", NULL, NULL, out, sizeof(out), err), -1);
    assert_string_equal(err, "cannot run '': empty program name");
    /* with '/': as is, when it fits */
    assert_int_equal(nr_proc_find("./anything", NULL, NULL, out, sizeof(out), err), 0);
    assert_string_equal(out, "./anything");
    assert_int_equal(nr_proc_find("/123456789/12345", NULL, NULL, out, sizeof(out), err), -1);
    assert_string_equal(err, "cannot run '/123456789/12345': path too long");
    assert_int_equal(nr_proc_find("/123456789/1234", NULL, NULL, out, sizeof(out), err), 0);
    /* NULL PATH: /bin, then /usr/bin */
    assert_int_equal(nr_proc_find("sh", NULL, NULL, out, sizeof(out), err), 0);
    assert_true(strcmp(out, "/bin/sh") == 0 || strcmp(out, "/usr/bin/sh") == 0);
}

/* ---- nr_proc_spawn ---------------------------------------------------------- */

/* Spawn sh -c script with stdout to dir/out; returns 0 or -1 (err). */
static int spawn_sh(const char *script, struct nr_spawn *s, struct nr_proc *p, char *err)
{
    static char out[256];
    static char *argv[4];

    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = (char *)script;
    argv[3] = NULL;
    snprintf(out, sizeof(out), "%s/out", dir);
    s->argv = argv;
    if (!s->stdout_path)
        s->stdout_path = out;
    return nr_proc_spawn(s, p, err);
}

static void spawn_files_env_and_cwd(void **st)
{
    char *extra[] = { "NR_A=1", "NR_B=x", "NR_B=2", "NR_C", "NR_D=4", "NR_D", NULL };
    char err[NR_ERRBUF_SIZE], in[256], errpath[256], want[512];
    struct nr_spawn s = { .env_extra = extra, .activation_fd = -1 };
    struct nr_proc p;
    FILE *f;
    (void)st;
    setenv("NR_A", "inherited", 1); /* env_extra's first entry overrides it */
    setenv("NR_C", "inherited", 1);
    setenv("NR_E", "kept", 1);
    snprintf(in, sizeof(in), "%s/in", dir);
    snprintf(errpath, sizeof(errpath), "%s/err", dir);
    f = fopen(in, "w");
    assert_non_null(f);
    fputs("from stdin\n", f);
    fclose(f);
    make_file("sub", 0);
    snprintf(want, sizeof(want), "%s/sub", dir);
    s.stdin_path = in;
    s.stderr_path = errpath;
    s.cwd = want;
    assert_int_equal(spawn_sh("read l; echo \"$l|$NR_A|$NR_B|${NR_C-unset}|${NR_D-unset}|$NR_E|"
                              "${LISTEN_FDS-none}|$(pwd)\"; "
                              "tr '\\0' '\\n' </proc/$$/environ | grep -c '^NR_[A-E]='; "
                              "echo oops >&2",
                              &s, &p, err), 0);
    assert_true(p.pid > 0);
    assert_true(p.pidfd >= 0);
    assert_int_equal(p.reaped, 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    snprintf(want, sizeof(want), "from stdin|1|2|unset|unset|kept|none|%s/sub\n3\n", dir);
    assert_string_equal(slurp("out"), want);
    assert_string_equal(slurp("err"), "oops\n");
    nr_proc_release(&p);
    unsetenv("NR_A");
    unsetenv("NR_C");
    unsetenv("NR_E");
}

/* Without files: /dev/null for all three. */
static void spawn_defaults_to_dev_null(void **st)
{
    char err[NR_ERRBUF_SIZE], *argv[] = { "sh", "-c",
        "[ \"$(readlink /proc/$$/fd/0)$(readlink /proc/$$/fd/1)$(readlink /proc/$$/fd/2)\" = "
        "/dev/null/dev/null/dev/null ] && [ ! -e /proc/$$/fd/3 ]", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 0);
    nr_proc_release(&p);
}

/* Socket activation: the socket as fd 3, LISTEN_FDS=1, LISTEN_PID the
 * child's own pid (overriding inherited ones); the caller's fd stays open. */
static void spawn_activation_fd(void **st)
{
    char err[NR_ERRBUF_SIZE], want[128];
    char *extra[] = { "LISTEN_FDS=7", NULL };
    struct nr_spawn s = { .activation_fd = -1, .env_extra = extra };
    struct nr_proc p;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    (void)st;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    setenv("LISTEN_PID", "1", 1);
    s.activation_fd = fd;
    assert_int_equal(spawn_sh("echo \"$LISTEN_FDS $LISTEN_PID $$ "
                              "$(tr '\\0' '\\n' </proc/$$/environ | grep -c ^LISTEN_)\"; "
                              "[ -S /proc/$$/fd/3 ] && echo socket",
                              &s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    snprintf(want, sizeof(want), "1 %d %d 2\nsocket\n", (int)p.pid, (int)p.pid);
    assert_string_equal(slurp("out"), want);
    assert_true(fcntl(fd, F_GETFD) >= 0);
    nr_proc_release(&p);
    unsetenv("LISTEN_PID");
    /* the socket may be the caller's fd 0 */
    {
        int saved = dup(0);
        assert_true(saved >= 0);
        assert_int_equal(dup2(fd, 0), 0);
        s.activation_fd = 0;
        s.env_extra = extra;
        setenv("LISTEN_PID", "9", 1); /* not in env_extra: dropped for activation alone */
        assert_int_equal(spawn_sh("echo \"$LISTEN_FDS $LISTEN_PID $$ "
                                  "$(tr '\\0' '\\n' </proc/$$/environ | grep -c ^LISTEN_)\"; "
                                  "[ -S /proc/$$/fd/3 ] && echo socket",
                                  &s, &p, err), 0);
        assert_int_equal(dup2(saved, 0), 0);
        close(saved);
        unsetenv("LISTEN_PID");
        assert_int_equal(nr_proc_wait(&p, 5000), 1);
        snprintf(want, sizeof(want), "1 %d %d 2\nsocket\n", (int)p.pid, (int)p.pid);
        assert_string_equal(slurp("out"), want);
        nr_proc_release(&p);
    }
    /* without activation, inherited LISTEN_ variables pass through */
    setenv("LISTEN_PID", "1", 1);
    s.activation_fd = -1;
    s.env_extra = NULL;
    s.stdout_path = NULL;
    assert_int_equal(spawn_sh("echo \"${LISTEN_FDS-none} $LISTEN_PID\"; [ -e /proc/$$/fd/3 ] "
                              "|| echo no-fd3", &s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_string_equal(slurp("out"), "none 1\nno-fd3\n");
    nr_proc_release(&p);
    unsetenv("LISTEN_PID");
    close(fd);
}

/* The child has its own process group, default signal dispositions and no
 * signal blocked, whatever the parent had. */
static void spawn_resets_signals_and_group(void **st)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    sigset_t block, old;
    (void)st;
    signal(SIGHUP, SIG_IGN); /* the first, one in the middle and the last signal */
    signal(SIGUSR1, SIG_IGN);
    signal(SIGRTMAX, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &old);
    assert_int_equal(spawn_sh("grep -E '^Sig(Blk|Ign)' /proc/$$/status; kill -USR1 $$; sleep 5",
                              &s, &p, err), 0);
    {
        /* the caller's own mask is as it was (spawn blocks all around fork) */
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        assert_true(sigismember(&now, SIGUSR2));
        assert_false(sigismember(&now, SIGTERM));
        assert_false(sigismember(&now, SIGCHLD));
    }
    assert_int_equal(getpgid(p.pid), p.pid);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGRTMAX, SIG_DFL);
    assert_true(WIFSIGNALED(p.status));
    assert_int_equal(WTERMSIG(p.status), SIGUSR1);
    {
        /* glibc's own signals 32 and 33 cannot be reset by sigaction: an
         * environment that ignores them (python's subprocess) passes it on */
        unsigned long long blk, ign, glibc = (1ull << 31) | (1ull << 32);
        assert_int_equal(sscanf(slurp("out"), "SigBlk:\t%llx\nSigIgn:\t%llx\n", &blk, &ign), 2);
        assert_int_equal(blk, 0);
        assert_int_equal(ign & ~glibc, 0);
    }
    nr_proc_release(&p);
}

/* While parent_setpgid_late is set, the parent's setpgid(child, child) in
 * nr_proc_spawn (this definition is linked before libc's) waits until the
 * child has exec'd, as a busy scheduler may have it: the parent's call
 * then fails (EACCES) and only the child's own setpgid can have put it in
 * its group. */

int setpgid(pid_t pid, pid_t pgid)
{
    if (parent_setpgid_late && pid != 0 && pid != getpid()) {
        char self[PATH_MAX] = "", child[PATH_MAX], link[64];
        ssize_t n;
        if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
            self[0] = '\0';
        snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
        for (int i = 0; i < 3000; i++) { /* 3 s at most */
            n = readlink(link, child, sizeof(child) - 1);
            if (n > 0 && (size_t)n == strlen(self) && memcmp(child, self, (size_t)n) == 0) {
                usleep(1000);
                continue;
            }
            break;
        }
    }
    return (int)syscall(SYS_setpgid, pid, pgid);
}

/* The child is in its own process group even when it has exec'd before
 * the parent's setpgid ran. */
static void spawn_group_when_the_child_execs_first(void **st)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    parent_setpgid_late = 1;
    assert_int_equal(spawn_sh("exec sleep 5", &s, &p, err), 0);
    parent_setpgid_late = 0;
    assert_int_equal(getpgid(p.pid), p.pid);
    assert_true(getpgid(p.pid) != getpgrp());
    assert_int_equal(nr_proc_kill(&p, 5000), 1);
    nr_proc_release(&p);
}

/* Whether fds 0, 1 and 2 are still the ones they were. */
static void std_fds_intact(const struct stat before[3])
{
    for (int i = 0; i < 3; i++) {
        struct stat sb;
        assert_int_equal(fstat(i, &sb), 0);
        assert_true(sb.st_ino == before[i].st_ino && sb.st_dev == before[i].st_dev);
    }
}

static void spawn_failures_say_why(void **st)
{
    struct stat std[3];
    char err[NR_ERRBUF_SIZE] = "", path[256], *argv[] = { "/nonexistent/prog", NULL };
    char *missing[] = { "no-such-prog-xyz", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    for (int i = 0; i < 3; i++) /* a failure closes only what it opened */
        if (fstat(i, &std[i]) < 0) {
            assert_int_equal(open("/dev/null", O_RDWR), i);
            assert_int_equal(fstat(i, &std[i]), 0);
        }
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    assert_string_equal(err, "cannot run '/nonexistent/prog' (/nonexistent/prog): No such file "
                             "or directory");
    std_fds_intact(std);
    assert_int_equal(p.pid > 0 ? kill(p.pid, 0) : -1, -1); /* reaped, no zombie */
    assert_int_equal(p.pidfd, -1);
    make_file("noexec", 0644);
    snprintf(path, sizeof(path), "%s/noexec", dir);
    argv[0] = path;
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    assert_non_null(strstr(err, "): Permission denied"));
    /* the working directory is changed before exec */
    argv[0] = "/bin/true";
    s.cwd = "/nonexistent";
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    assert_string_equal(err, "cannot run '/bin/true' (/bin/true): No such file or directory");
    s.cwd = NULL;
    s.stdout_path = "/nonexistent/out";
    memset(&p, 0x55, sizeof(p));
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    assert_int_equal(p.pid, 0); /* nothing started, nothing to release */
    assert_int_equal(p.pidfd, -1);
    assert_int_equal(p.reaped, 0);
    assert_string_equal(err, "cannot open the stdin/stdout/stderr files of '/bin/true': No such "
                             "file or directory");
    s.stdout_path = NULL;
    s.stderr_path = "/nonexistent/err";
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    s.stderr_path = NULL;
    s.stdin_path = "/nonexistent/in";
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    s.stdin_path = NULL;
    s.argv = missing;
    s.bindir = "/nonexistent";
    memset(&p, 0x55, sizeof(p));
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    assert_int_equal(p.pid, 0);
    assert_int_equal(p.pidfd, -1);
    std_fds_intact(std);
    assert_non_null(strstr(err, "cannot run 'no-such-prog-xyz': not an executable file in "
                                "/nonexistent nor in PATH="));
    /* found in bindir relative to the caller, run from another cwd */
    make_file("bin", 0);
    make_file("bin/rel", 0755);
    s.argv = (char *[]){ "rel", NULL };
    s.bindir = "bin";
    s.cwd = "/";
    assert_non_null(getcwd(path, sizeof(path)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_int_equal(chdir(path), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    nr_proc_release(&p);
}

/* With a cwd, a program found by an absolute path runs by that path: a
 * symlink is not resolved (a script sees the name it was found by in $0). */
static void spawn_keeps_the_path_found(void **st)
{
    char err[NR_ERRBUF_SIZE], bindir[256], real[256], link[256], out[256], want[300];
    struct nr_spawn s = { .activation_fd = -1, .cwd = "/" };
    struct nr_proc p;
    FILE *f;
    (void)st;
    make_file("bin", 0);
    snprintf(real, sizeof(real), "%s/real.sh", dir);
    f = fopen(real, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\necho \"$0\"\n", f);
    fclose(f);
    assert_int_equal(chmod(real, 0755), 0);
    snprintf(link, sizeof(link), "%s/bin/link", dir);
    assert_int_equal(symlink("../real.sh", link), 0);
    snprintf(bindir, sizeof(bindir), "%s/bin", dir);
    s.bindir = bindir;
    snprintf(out, sizeof(out), "%s/out", dir);
    s.stdout_path = out;
    s.argv = (char *[]){ "link", NULL };
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    nr_proc_release(&p);
    snprintf(want, sizeof(want), "%s\n", link);
    assert_string_equal(slurp("out"), want);
}

/* A signal (its handler installed without SA_RESTART) that interrupts the
 * wait for the child's exec does not hide the exec's failure: a thread
 * sends SIGUSR1 to the spawning one without pause during 20 spawns. */
static volatile sig_atomic_t usr1_seen;
static atomic_int usr1_stop;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen++;
}

static void *usr1_storm(void *arg)
{
    pthread_t to = *(pthread_t *)arg;
    while (!atomic_load(&usr1_stop))
        pthread_kill(to, SIGUSR1);
    return NULL;
}

static void spawn_failure_seen_through_signals(void **st)
{
    char err[NR_ERRBUF_SIZE], *argv[] = { "/nonexistent/prog", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct sigaction sa = { .sa_handler = on_usr1 }, old;
    pthread_t self = pthread_self(), storm;
    struct nr_proc p;
    (void)st;
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    atomic_store(&usr1_stop, 0);
    assert_int_equal(pthread_create(&storm, NULL, usr1_storm, &self), 0);
    for (int i = 0; i < 20; i++) {
        int rc = nr_proc_spawn(&s, &p, err);
        if (rc != -1 || strcmp(err, "cannot run '/nonexistent/prog' (/nonexistent/prog): No such "
                                    "file or directory") != 0) {
            atomic_store(&usr1_stop, 1);
            pthread_join(storm, NULL);
            if (rc == 0)
                nr_proc_stop(&p, 1000), nr_proc_release(&p);
            fail_msg("spawn %d: %d '%s'", i, rc, rc ? err : "");
        }
    }
    atomic_store(&usr1_stop, 1);
    assert_int_equal(pthread_join(storm, NULL), 0);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    assert_true(usr1_seen > 0);
}

/* ---- waiting, signalling, stopping ---------------------------------------- */


static void wait_is_bounded_and_remembers(void **st)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    int64_t t;
    (void)st;
    assert_int_equal(spawn_sh("exec sleep 5", &s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 0), 0);
    t = nr_now_ms();
    assert_int_equal(nr_proc_wait(&p, 150), 0);
    t = nr_now_ms() - t;
    assert_true(t >= 140 && t < 3000);
    assert_int_equal(p.reaped, 0);
    assert_int_equal(nr_proc_kill(&p, 5000), 1);
    assert_int_equal(p.reaped, 1);
    assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
    p.status = 12345;
    assert_int_equal(nr_proc_wait(&p, 0), 1); /* reaped before: 1, status kept */
    assert_int_equal(p.status, 12345);
    assert_int_equal(nr_proc_kill(&p, 0), 1);
    nr_proc_release(&p);
    assert_int_equal(p.pidfd, -1);
    nr_proc_release(&p);
    /* without a pidfd the wait polls, still bounded */
    assert_int_equal(spawn_sh("sleep 0.1", &s, &p, err), 0);
    close(p.pidfd);
    p.pidfd = -1;
    assert_int_equal(nr_proc_wait(&p, 0), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status));
}

/* dir/pid holds the pid of the shell's background sleep (a line: read once
 * its newline is there, the echo builtin writes it whole). */
static pid_t grandchild(void)
{
    for (int i = 0; i < 500; i++) {
        const char *t;
        char path[256];
        snprintf(path, sizeof(path), "%s/pid", dir);
        if (access(path, F_OK) == 0 && (t = slurp("pid")) && strchr(t, '\n'))
            return (pid_t)atoi(t);
        usleep(10000);
    }
    fail_msg("no pid file");
    return -1;
}

/* A shell with a background sleep in its group (its pid returned), in dir. */
static pid_t spawn_with_grandchild(struct nr_spawn *s, struct nr_proc *p)
{
    char err[NR_ERRBUF_SIZE];

    assert_int_equal(spawn_sh("sleep 5 & echo $! > pid; wait", s, p, err), 0);
    return grandchild();
}

/* Whether pid is gone, within 3 s (an orphan is ours to reap: the test is
 * a child subreaper). */
static int gone(pid_t pid)
{
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid || (kill(pid, 0) < 0 && errno == ESRCH))
            return 1;
        usleep(10000);
    }
    return 0;
}

static void signal_main_or_group(void **st)
{
    char path[256];
    struct nr_spawn s = { .activation_fd = -1, .cwd = dir };
    struct nr_proc p;
    pid_t g;
    (void)st;
    snprintf(path, sizeof(path), "%s/pid", dir);
    /* the main process only: the group's other member lives on, and once
     * the child is reaped, signalling its group is a no-op */
    g = spawn_with_grandchild(&s, &p);
    assert_int_equal(getpgid(g), p.pid);
    nr_proc_signal_main(&p, SIGTERM);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM);
    nr_proc_signal(&p, SIGKILL);
    nr_proc_signal_main(&p, SIGKILL);
    usleep(20000);
    assert_int_equal(kill(g, 0), 0);
    kill(g, SIGKILL);
    assert_true(gone(g));
    nr_proc_release(&p);
    unlink(path);
    /* the whole group */
    g = spawn_with_grandchild(&s, &p);
    nr_proc_signal(&p, SIGKILL);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(gone(g));
    nr_proc_release(&p);
    unlink(path);
    /* nr_proc_kill: the group too, reaped */
    g = spawn_with_grandchild(&s, &p);
    assert_int_equal(nr_proc_kill(&p, 5000), 1);
    assert_int_equal(p.reaped, 1);
    assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
    assert_true(gone(g));
    nr_proc_release(&p);
}

static void stop_terminates_or_kills(void **st)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p, none = { .pid = 0, .pidfd = -1 };
    int64_t t;
    (void)st;
    assert_int_equal(nr_proc_stop(&none, 10), 1);
    assert_int_equal(spawn_sh("exec sleep 5", &s, &p, err), 0);
    assert_int_equal(nr_proc_stop(&p, 3000), 1);
    assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM);
    assert_int_equal(nr_proc_stop(&p, 10), 1); /* reaped: nothing to do */
    nr_proc_release(&p);
    /* one that ignores SIGTERM is killed after the grace period */
    assert_int_equal(spawn_sh("trap '' TERM; echo ready; exec sleep 5", &s, &p, err), 0);
    {
        char line[16], out[256];
        snprintf(out, sizeof(out), "%s/out", dir);
        assert_int_equal(nr_wait_file_line(out, "ready", line, sizeof(line), &p, 5000), 1);
    }
    t = nr_now_ms();
    assert_int_equal(nr_proc_stop(&p, 100), 0);
    t = nr_now_ms() - t;
    assert_true(t >= 90 && t < 3000);
    assert_int_equal(p.reaped, 1);
    assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
    nr_proc_release(&p);
}


/* nr_proc_stop leaves the group alone when the child exits in time. */
static void stop_in_time_leaves_the_group(void **st)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_spawn s = { .activation_fd = -1, .cwd = dir };
    struct nr_proc p;
    pid_t g;
    (void)st;
    assert_int_equal(spawn_sh("trap 'exit 3' TERM; (trap '' TERM; exec sleep 5) & "
                              "echo $! > pid; wait",
                              &s, &p, err), 0);
    g = grandchild();
    assert_int_equal(nr_proc_stop(&p, 3000), 1);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 3);
    usleep(20000);
    assert_int_equal(kill(g, 0), 0);
    kill(g, SIGKILL);
    assert_true(gone(g));
    nr_proc_release(&p);
}

/* ---- a line in a child's output ------------------------------------------- */

static void file_line_found_cut_and_anchored(void **st)
{
    char err[NR_ERRBUF_SIZE], line[8], out[256];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    snprintf(out, sizeof(out), "%s/out", dir);
    /* 10000 bytes of other lines, a line that only contains the prefix,
     * then the line; its end arrives later */
    assert_int_equal(spawn_sh("i=0; while [ $i -lt 200 ]; do echo "
                              "'0123456789012345678901234567890123456789012345678'; i=$((i+1)); "
                              "done; echo 'x ready 1'; printf 'ready 2'; sleep 0.2; "
                              "echo ' and more'; exec sleep 5",
                              &s, &p, err), 0);
    assert_int_equal(nr_wait_file_line(out, "ready", line, sizeof(line), &p, 5000), 1);
    assert_string_equal(line, "ready 2"); /* cut to 7 bytes */
    assert_int_equal(nr_proc_kill(&p, 5000), 1);
    nr_proc_release(&p);
    /* linelen 1: an empty line copied */
    assert_int_equal(nr_wait_file_line(out, "ready 2", line, 1, NULL, 0), 1);
    assert_string_equal(line, "");
    assert_int_equal(nr_wait_file_line(out, "ready 3", line, sizeof(line), NULL, 0), 0);
    assert_int_equal(nr_wait_file_line(out, "ready", line, 0, NULL, 0), -EINVAL);
}

/* A line longer than the scan buffer (prefix + linelen + 4096): decided by
 * its start, the rest skipped; the next line is a line of its own. */
static void file_line_longer_than_the_buffer(void **st)
{
    char line[16], path[256];
    FILE *f;
    (void)st;
    snprintf(path, sizeof(path), "%s/long", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 10000; i++)
        fputc(i % 100 == 0 ? 'r' : 'x', f); /* no line starts with "ready" here */
    fputs("ready in the middle\nready A\n", f);
    for (int i = 0; i < 10000; i++)
        fputs(i == 0 ? "ready long " : "y", f);
    fputs("\nready C\n", f);
    fclose(f);
    assert_int_equal(nr_wait_file_line(path, "ready", line, sizeof(line), NULL, 0), 1);
    assert_string_equal(line, "ready A");
    assert_int_equal(nr_wait_file_line(path, "ready l", line, sizeof(line), NULL, 0), 1);
    assert_string_equal(line, "ready long yyyy");
    assert_int_equal(nr_wait_file_line(path, "ready C", line, sizeof(line), NULL, 0), 1);
    assert_int_equal(nr_wait_file_line(path, "ready i", line, sizeof(line), NULL, 0), 0);
    assert_int_equal(nr_wait_file_line(path, "yyy", line, sizeof(line), NULL, 0), 0);
    /* a long matching line whose end never comes is not (yet) a line */
    f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 10000; i++)
        fputs(i == 0 ? "ready long " : "y", f);
    fclose(f);
    assert_int_equal(nr_wait_file_line(path, "ready", line, sizeof(line), NULL, 50), 0);
}

/* Calls of open() with one path and of waitpid() for one pid, counted
 * (these definitions are linked before libc's): how often a wait polls. */
static const char *counted_path;
static pid_t counted_pid;
static atomic_int opens_counted, waits_counted;

int open(const char *path, int flags, ...)
{
    int mode = 0;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    if (counted_path && strcmp(path, counted_path) == 0)
        opens_counted++;
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    if (counted_pid && pid == counted_pid)
        waits_counted++;
    return (pid_t)syscall(SYS_wait4, pid, status, options, NULL);
}

/* A wait without a pidfd to poll looks again every 2 ms or so, it does
 * not spin: a file that is not there, a child without its pidfd. */
static void waits_do_not_spin(void **st)
{
    char err[NR_ERRBUF_SIZE], line[16], path[256];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    snprintf(path, sizeof(path), "%s/absent", dir);
    counted_path = path;
    assert_int_equal(nr_wait_file_line(path, "x", line, sizeof(line), NULL, 100), 0);
    counted_path = NULL;
    if (opens_counted < 1 || opens_counted > 60)
        fail_msg("%d looks at the file in 100 ms, want 1-60 (one each 2 ms)", (int)opens_counted);
    assert_int_equal(spawn_sh("exec sleep 5", &s, &p, err), 0);
    nr_proc_release(&p); /* no pidfd */
    counted_pid = p.pid;
    assert_int_equal(nr_proc_wait(&p, 100), 0);
    counted_pid = 0;
    assert_int_equal(nr_proc_kill(&p, 5000), 1); /* before any verdict: nothing outlives it */
    if (waits_counted < 1 || waits_counted > 60)
        fail_msg("%d looks at the child in 100 ms, want 1-60 (one each 2 ms)", (int)waits_counted);
}

/* A line whose newline is written alone, later: that one byte is a read of
 * its own and still ends the line. */
static void file_line_end_read_alone(void **st)
{
    char err[NR_ERRBUF_SIZE], line[32], out[256];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    snprintf(out, sizeof(out), "%s/out", dir);
    assert_int_equal(spawn_sh("printf 'ready 1'; sleep 0.2; echo; exec sleep 5", &s, &p, err), 0);
    assert_int_equal(nr_wait_file_line(out, "ready", line, sizeof(line), &p, 2000), 1);
    assert_string_equal(line, "ready 1");
    assert_int_equal(nr_proc_kill(&p, 5000), 1);
    nr_proc_release(&p);
}

/* The child's output is read to its end before -ECHILD; the wait is
 * bounded; a missing file is waited for. */
static void file_line_child_exit_and_timeout(void **st)
{
    char err[NR_ERRBUF_SIZE], line[32], out[256];
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    int64_t t;
    (void)st;
    snprintf(out, sizeof(out), "%s/out", dir);
    assert_int_equal(spawn_sh("echo start; sleep 0.1; echo 'ready last'", &s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_int_equal(nr_wait_file_line(out, "ready", line, sizeof(line), &p, 5000), 1);
    assert_string_equal(line, "ready last");
    assert_int_equal(nr_wait_file_line(out, "never", line, sizeof(line), &p, 5000), -ECHILD);
    nr_proc_release(&p);
    assert_int_equal(spawn_sh("sleep 0.1; exit 0", &s, &p, err), 0);
    t = nr_now_ms();
    assert_int_equal(nr_wait_file_line(out, "never", line, sizeof(line), &p, 5000), -ECHILD);
    assert_true(nr_now_ms() - t < 3000);
    nr_proc_release(&p);
    t = nr_now_ms();
    snprintf(out, sizeof(out), "%s/absent", dir);
    assert_int_equal(nr_wait_file_line(out, "x", line, sizeof(line), NULL, 120), 0);
    t = nr_now_ms() - t;
    assert_true(t >= 110 && t < 3000);
    assert_int_equal(nr_wait_file_line(out, "x", line, sizeof(line), NULL, -5), 0);
}

/* ---- nr_proc_parent, nr_status_str ------------------------------------------ */

static void parent_of_a_process_with_a_strange_name(void **st)
{
    char err[NR_ERRBUF_SIZE], path[256], sleep_path[256], *argv[] = { path, "5", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    assert_int_equal(nr_proc_parent(getpid()), getppid());
    assert_int_equal(nr_proc_parent(0x3fffffff), -ENOENT);
    assert_int_equal(nr_proc_find("sleep", NULL, NULL, sleep_path, sizeof(sleep_path), err), 0);
    snprintf(path, sizeof(path), "%s/a) 1 2 (b", dir); /* comm "a) 1 2 (b" */
    assert_int_equal(symlink(sleep_path, path), 0);
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_int_equal(nr_proc_parent(p.pid), getpid());
    assert_int_equal(nr_proc_kill(&p, 5000), 1);
    nr_proc_release(&p);
}

static void status_as_text(void **st)
{
    char buf[64];
    (void)st;
    nr_status_str(3 << 8, buf, sizeof(buf));
    assert_string_equal(buf, "exit 3");
    nr_status_str(0, buf, sizeof(buf));
    assert_string_equal(buf, "exit 0");
    nr_status_str(SIGSEGV, buf, sizeof(buf));
    assert_string_equal(buf, "signal 11 (Segmentation fault)");
    nr_status_str((SIGSTOP << 8) | 0x7f, buf, sizeof(buf));
    assert_string_equal(buf, "status 0x137f");
}

/* ---- nr_sock_find_server ---------------------------------------------------- */

/* A socket of type on 127.0.0.1 (or the wildcard, or [::] / [::1]): returns
 * it, its port in *port. */
static int sock_on(int type, const char *host, int *port, int do_listen)
{
    struct nr_addr a;
    char spec[64], err[NR_ERRBUF_SIZE];
    int fd;

    snprintf(spec, sizeof(spec), "%s:0", host);
    assert_int_equal(nr_addr_parse(spec, &a, err), 0);
    fd = socket(a.ss.ss_family, type | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (a.ss.ss_family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&a.ss, a.len), 0);
    if (do_listen)
        assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(nr_local_addr(fd, &a, err), 0);
    *port = nr_addr_port((struct sockaddr *)&a.ss);
    return fd;
}

#define assert_finds(port, owner, want)                                                          \
    do {                                                                                         \
        char out_[64] = "", err_[NR_ERRBUF_SIZE];                                                \
        int r_ = nr_sock_find_server(port, owner, out_, sizeof(out_), err_);                     \
        if (r_ != 1 || strcmp(out_, want) != 0)                                                  \
            fail_msg("port %d owner %d: %d '%s', want 1 '%s'", port, (int)(owner), r_, out_,     \
                     want);                                                                      \
    } while (0)

static void server_by_port(void **st)
{
    char want[64], out[64], err[NR_ERRBUF_SIZE];
    int port, fd, fd2;
    (void)st;
    fd = sock_on(SOCK_STREAM, "127.0.0.1", &port, 1);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_finds(port, 0, want);
    close(fd);
    assert_int_equal(nr_sock_find_server(port, 0, out, sizeof(out), err), 0);
    fd = sock_on(SOCK_STREAM, "127.0.0.1", &port, 0); /* bound, not listening */
    assert_int_equal(nr_sock_find_server(port, 0, out, sizeof(out), err), 0);
    close(fd);
    fd = sock_on(SOCK_STREAM, "0.0.0.0", &port, 1); /* a wildcard: loopback */
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_finds(port, 0, want);
    close(fd);
    fd = sock_on(SOCK_DGRAM, "127.0.0.2", &port, 0);
    snprintf(want, sizeof(want), "127.0.0.2:%d", port);
    assert_finds(port, 0, want);
    /* a connected UDP socket serves nobody */
    fd2 = sock_on(SOCK_DGRAM, "127.0.0.1", &port, 0);
    {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(connect(fd2, (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    assert_int_equal(nr_sock_find_server(port, 0, out, sizeof(out), err), 0);
    close(fd2);
    close(fd);
    fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd >= 0) { /* IPv6: [::] becomes [::1] */
        close(fd);
        fd = sock_on(SOCK_STREAM, "[::]", &port, 1);
        snprintf(want, sizeof(want), "[::1]:%d", port);
        assert_finds(port, 0, want);
        close(fd);
        fd = sock_on(SOCK_DGRAM, "[::1]", &port, 0);
        snprintf(want, sizeof(want), "[::1]:%d", port);
        assert_finds(port, 0, want);
        close(fd);
        /* an address with every 32-bit word of its own: ::ffff:127.0.0.1,
         * which /proc/net/tcp6 shows as 0000000000000000FFFF00000100007F */
        struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
        socklen_t sl = sizeof(sa6);
        int zero = 0;
        assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa6.sin6_addr), 1);
        fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)), 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa6, &sl), 0);
        port = ntohs(sa6.sin6_port);
        snprintf(want, sizeof(want), "[::ffff:127.0.0.1]:%d", port);
        assert_finds(port, 0, want);
        close(fd);
    }
}

/* With port 0: a socket of the owner or a descendant, TCP first. */
static void server_of_a_process_tree(void **st)
{
    char want[64], out[64], err[NR_ERRBUF_SIZE];
    int port, uport, fd, ufd, sv[2], msg[2];
    pid_t child, grand;
    (void)st;
    ufd = sock_on(SOCK_DGRAM, "127.0.0.3", &uport, 0);
    fd = sock_on(SOCK_STREAM, "127.0.0.1", &port, 1);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_finds(0, getpid(), want); /* TCP before UDP */
    close(fd);
    snprintf(want, sizeof(want), "127.0.0.3:%d", uport);
    assert_finds(0, getpid(), want);
    close(ufd);
    /* a grandchild's listener is its grandparent's; not an unrelated
     * process's (here: a sibling's) */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        grand = fork();
        if (grand == 0) {
            int l = sock_on(SOCK_STREAM, "127.0.0.1", &msg[0], 1);
            msg[1] = (int)getpid();
            if (write(sv[1], msg, sizeof(msg)) != sizeof(msg))
                _exit(1);
            pause();
            close(l);
        }
        pause();
        _exit(0);
    }
    assert_int_equal(read(sv[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
    port = msg[0];
    grand = (pid_t)msg[1];
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_finds(0, child, want);
    {
        struct nr_spawn s = { .argv = (char *[]){ "sleep", "5", NULL }, .activation_fd = -1 };
        struct nr_proc p;
        assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
        assert_int_equal(nr_sock_find_server(0, p.pid, out, sizeof(out), err), 0);
        nr_proc_kill(&p, 5000);
        nr_proc_release(&p);
    }
    kill(grand, SIGKILL);
    kill(child, SIGKILL);
    wait_forked(child, NULL, 5000, "a fork SIGKILLed while its child listens");
    assert_true(gone(grand));
    close(sv[0]);
    close(sv[1]);
}


/* Out of memory while listing a process tree's sockets: -1, and errbuf
 * names the pid and the cause, for each growth of its sets in turn. */
static void server_search_out_of_memory(void **st)
{
    char out[64], err[NR_ERRBUF_SIZE], want[96];
    int port, fd = sock_on(SOCK_STREAM, "127.0.0.1", &port, 1), failed = 0;
    (void)st;
    snprintf(want, sizeof(want), "cannot list the sockets of pid %d: Cannot allocate memory",
             (int)getpid());
    for (int n = 1; n < 100; n++) {
        char spec[32];
        unsigned long hit;
        int r;
        snprintf(spec, sizeof(spec), "realloc:%d", n);
        err[0] = '\0';
        fault_inproc_set(spec);
        r = nr_sock_find_server(0, getpid(), out, sizeof(out), err);
        hit = fault_inproc_off();
        if (!hit) {
            assert_int_equal(r, 1);
            break;
        }
        if (r != -1 || strcmp(err, want) != 0)
            fail_msg("%s: %d '%s'", spec, r, err);
        failed++;
    }
    assert_true(failed >= 3); /* the tree, the pids and parents, the inodes */
    close(fd);
}


/* Open descriptors of this process. */
static int count_fds(void)
{
    char path[64];
    int n = 0;

    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n += access(path, F_OK) == 0;
    }
    return n;
}

/* Spawning, failing to spawn and releasing leave no descriptor open. */
static void spawn_leaves_no_descriptor(void **st)
{
    char err[NR_ERRBUF_SIZE], *bad[] = { "/nonexistent/prog", NULL };
    struct nr_spawn s = { .activation_fd = -1 };
    struct nr_proc p;
    int before = count_fds(), fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)st;
    assert_true(fd >= 0);
    s.activation_fd = fd;
    assert_int_equal(spawn_sh("exit 0", &s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    nr_proc_release(&p);
    s.activation_fd = -1;
    s.argv = bad;
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    close(fd);
    assert_int_equal(count_fds(), before);
}

/* The program is looked up in the PATH of the child's environment. */
static void spawn_uses_the_childs_path(void **st)
{
    char err[NR_ERRBUF_SIZE], path[300], *argv[] = { "prog", NULL }, *extra[] = { path, NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;
    (void)st;
    make_file("d1", 0);
    make_file("d1/prog", 0755);
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1); /* not in this PATH */
    snprintf(path, sizeof(path), "PATH=%s/d1", dir);
    s.env_extra = extra;
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    nr_proc_release(&p);
    /* also when PATH is the first entry of the child's environment: ours
     * is empty for the spawn, so env_extra's PATH comes first */
    {
        extern char **environ;
        char **saved = environ, *empty[] = { NULL };
        int rc;
        environ = empty;
        rc = nr_proc_spawn(&s, &p, err);
        environ = saved;
        assert_int_equal(rc, 0);
        assert_int_equal(nr_proc_wait(&p, 5000), 1);
        assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
        nr_proc_release(&p);
    }
}

/* The spawn needs only the descriptors it uses: with only fds 1 and 2 open
 * and a limit of 7, its /dev/null copies take 4, 5 and 6 (the lowest free
 * numbers >= 4, as nr_proc.c keeps them clear of 0-3) and its error pipe
 * 0 and 3.  This test's fork reports by its exit code: 0 ran and exited 0,
 * 2 the spawn failed, 3 no exit seen, 4 not 0, 5 no limit set. */
static void spawn_within_seven_descriptors(void **st)
{
    pid_t pid;
    int status;
    (void)st;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[NR_ERRBUF_SIZE], *argv[] = { "true", NULL };
        struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
        struct rlimit rl = { 7, 7 };
        struct nr_proc p;
        close(0);
        if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
            for (int fd = 3; fd < 1024; fd++)
                close(fd);
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(5);
        if (nr_proc_spawn(&s, &p, err) < 0) {
            fprintf(stderr, "spawn_within_seven_descriptors: %s\n", err);
            _exit(2);
        }
        if (nr_proc_wait(&p, 5000) != 1)
            _exit(3);
        _exit(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0 ? 0 : 4);
    }
    wait_forked(pid, &status, 10000, "a spawn of 'true' under RLIMIT_NOFILE 7, and its wait");
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A child dies with the process that spawned it (the parent-death
 * signal): here a helper process spawns it and exits. */
static void child_dies_with_its_parent(void **st)
{
    int sv[2];
    pid_t helper, child = -1;
    (void)st;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        char err[NR_ERRBUF_SIZE], *argv[] = { "sleep", "5", NULL };
        struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
        struct nr_proc p;
        int ok = nr_proc_spawn(&s, &p, err) == 0;
        pid_t c = ok ? p.pid : -1;
        if (write(sv[1], &c, sizeof(c)) != sizeof(c))
            _exit(1);
        usleep(50000);
        _exit(0);
    }
    assert_int_equal(read(sv[0], &child, sizeof(child)), (ssize_t)sizeof(child));
    assert_true(child > 0);
    wait_forked(helper, NULL, 5000, "a fork that spawns 'sleep 5', sends its pid, then exits");
    assert_true(gone(child)); /* an orphan: the subreaper (us) reaps it */
    close(sv[0]);
    close(sv[1]);
}


/* What spawning and searching allocate is freed: 300 failed spawns (the
 * environment is built first) and 20 searches of the process tree leave
 * the heap as it was, within a few hundred bytes. */
static void no_heap_growth(void **st)
{
    char err[NR_ERRBUF_SIZE], out[64], *argv[] = { "no-such-prog-xyz", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1, .bindir = "/nonexistent" };
    struct nr_proc p;
    size_t before;
    (void)st;
    assert_int_equal(nr_proc_spawn(&s, &p, err), -1); /* warm up */
    before = mallinfo2().uordblks;
    for (int i = 0; i < 300; i++)
        assert_int_equal(nr_proc_spawn(&s, &p, err), -1);
    if (mallinfo2().uordblks > before + 512)
        fail_msg("failed spawns left %zu bytes", mallinfo2().uordblks - before);
    assert_true(nr_sock_find_server(0, getpid(), out, sizeof(out), err) >= 0);
    before = mallinfo2().uordblks;
    for (int i = 0; i < 20; i++)
        assert_true(nr_sock_find_server(0, getpid(), out, sizeof(out), err) >= 0);
    if (mallinfo2().uordblks > before + 512)
        fail_msg("searches left %zu bytes", mallinfo2().uordblks - before);
}


/* Out of memory for the child's environment: -1, said. */
static void spawn_out_of_memory(void **st)
{
    char err[NR_ERRBUF_SIZE] = "", *argv[] = { "/bin/true", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;
    int r;
    (void)st;
    fault_inproc_set("calloc:1");
    r = nr_proc_spawn(&s, &p, err);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    assert_string_equal(err, "out of memory");
    assert_int_equal(p.pid, 0);
}

/* ---- heap_exact.h's descriptor check -------------------------------------- */

/* The check heap_exact.h makes for every case, made here around
 * descriptor changes of its own: it fails a case that closes a descriptor
 * it did not own and leaks another, the count unchanged (the leak at the
 * closed one's number, or at another), and passes one that gives back
 * what it took.  Its messages are read from a file put at fd 2.  (Its own
 * setup and teardown would be these calls: it has none.) */
static void heap_exact_sees_which_descriptors(void **st)
{
    char log[256], text[2048], want[160];
    int owned = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC), logfd, saved, leak, leak2, r1, r2, r3;
    ssize_t n;

    assert_true(owned >= 0 && other >= 0);
    snprintf(log, sizeof(log), "/tmp/nr-heap-exact.XXXXXX");
    logfd = mkostemp(log, O_CLOEXEC);
    if (logfd >= 0)
        unlink(log);
    saved = fcntl(2, F_DUPFD_CLOEXEC, 0);
    assert_true(logfd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(logfd, 2);
    heap_exact_begin(st); /* closes owned, leaks /dev/zero at its number */
    close(owned);
    leak = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    r1 = heap_exact_end(st);
    heap_exact_begin(st); /* closes other, leaks a copy at a higher number */
    close(other);
    leak2 = fcntl(leak, F_DUPFD_CLOEXEC, other + 10);
    r2 = heap_exact_end(st);
    heap_exact_begin(st); /* opens and closes: nothing left */
    close(open("/dev/null", O_RDONLY | O_CLOEXEC));
    r3 = heap_exact_end(st);
    dup2(saved, 2);
    close(saved);
    n = pread(logfd, text, sizeof(text) - 1, 0);
    close(logfd);
    close(leak);
    close(leak2);
    text[n > 0 ? n : 0] = '\0';
    assert_int_equal(leak, owned);
    if (r1 != -1 || r2 != -1 || r3 != 0)
        fail_msg("heap_exact_end gave %d %d %d, want -1 -1 0; it said:\n%s", r1, r2, r3, text);
    snprintf(want, sizeof(want), "fd %d was '/dev/null' before the case and is '/dev/zero' after",
             owned);
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
    snprintf(want, sizeof(want), "fd %d ('/dev/null') was open before the case and is closed",
             other);
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
    snprintf(want, sizeof(want), "fd %d ('/dev/zero') left open by the case", leak2);
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_ENV(fn) cmocka_unit_test_setup_teardown(fn, setup_env, teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(find_in_bindir_then_path),
        T(find_empty_path_entry_is_the_current_directory),
        T(find_says_where_it_looked),
        T_ENV(spawn_files_env_and_cwd),
        T(spawn_defaults_to_dev_null),
        T_ENV(spawn_activation_fd),
        T(spawn_resets_signals_and_group),
        T(spawn_group_when_the_child_execs_first),
        T(spawn_failures_say_why),
        T(spawn_keeps_the_path_found),
        T(spawn_failure_seen_through_signals),
        T(wait_is_bounded_and_remembers),
        T(signal_main_or_group),
        T(stop_terminates_or_kills),
        T(stop_in_time_leaves_the_group),
        T(file_line_found_cut_and_anchored),
        T(file_line_longer_than_the_buffer),
        T(file_line_child_exit_and_timeout),
        T(file_line_end_read_alone),
        T(waits_do_not_spin),
        T(parent_of_a_process_with_a_strange_name),
        T(status_as_text),
        T(server_by_port),
        T(server_of_a_process_tree),
        T(server_search_out_of_memory),
        T(spawn_leaves_no_descriptor),
        T(spawn_uses_the_childs_path),
        T(spawn_within_seven_descriptors),
        T(child_dies_with_its_parent),
        T(no_heap_growth),
        T(spawn_out_of_memory),
        cmocka_unit_test(heap_exact_sees_which_descriptors),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    fault_inproc_init(argv);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* NR_TEST_FILTER="server_*": only those cases (ci/mutate.map runs the
     * socket searches in an ASan build for nr_sockinfo.c) */
    if (getenv("NR_TEST_FILTER") && *getenv("NR_TEST_FILTER"))
        cmocka_set_test_filter(getenv("NR_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
