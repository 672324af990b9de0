/* Unit tests of http-get's atomic file (targets/http-get/atomic_file.c): a
 * commit leaves exactly the final file, with the bytes written and the
 * umask's mode, replacing an older one; an abort, a failed open and a failed
 * commit leave nothing behind; every call returns what its comment says,
 * and an abort after a commit, or twice, touches no descriptor it does not
 * own (run under ASan too, which sees the paths freed). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault_inproc.h"
#include "http-get/atomic_file.h"
#include "tnames.h"

static char dir[64];

/* fsync as the code under test calls it (this definition is linked in
 * before the C library's): each call's file kind and inode, in order. */
static struct {
    int n;
    mode_t kind[4];
    ino_t ino[4];
} syncs;

int fsync(int fd)
{
    struct stat st;

    if (syncs.n < 4 && fstat(fd, &st) == 0) {
        syncs.kind[syncs.n] = st.st_mode & S_IFMT;
        syncs.ino[syncs.n] = st.st_ino;
    }
    syncs.n++;
    return (int)syscall(SYS_fsync, fd);
}

static int mkdir_tmp(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/afile.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

/* The names in dir, sorted and joined with ' ' into out[256]. */
static char *entries(char *out)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);

    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..")) {
            if (out[0])
                strcat(out, " ");
            strncat(out, list[i]->d_name, 200 - strlen(out));
        }
        free(list[i]);
    }
    free(list);
    return out;
}

static int rm_tmp(void **state)
{
    char names[256], path[320], *save = NULL;

    (void)state;
    for (char *t = strtok_r(entries(names), " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        snprintf(path, sizeof(path), "%s/%s", dir, t);
        if (unlink(path) < 0)
            rmdir(path);
    }
    rmdir(dir);
    return 0;
}

/* How many of the descriptors 0-1023 are open (a test opens far fewer). */
static int open_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* The descriptors an abort must never close (stdin and its neighbours). */
static void low_fds_open(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0)
            fail_msg("descriptor %d was closed", fd);
}

static void commit_leaves_only_the_file(void **state)
{
    char path[128], names[256], want[64], errbuf[NR_ERRBUF_SIZE], got[32] = "";
    struct hg_afile a;
    struct stat st;
    mode_t old = umask(027);
    int fds;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/body", dir);
    f = fopen(path, "w"); /* an older file is replaced whole */
    assert_non_null(f);
    fputs("an older, longer body", f);
    fclose(f);
    fds = open_fds();
    assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
    assert_true(a.fd > 2);
    assert_int_equal(open_fds(), fds + 1); /* the temp file */
    assert_ret_equal(hg_afile_write(&a, (const uint8_t *)"new ", 4, errbuf), 0);
    assert_ret_equal(hg_afile_write(&a, (const uint8_t *)"body", 4, errbuf), 0);
    snprintf(want, sizeof(want), "%s body", a.tmp + strlen(dir) + 1); /* temp, old file */
    assert_string_equal(entries(names), want);
    assert_int_equal(stat(a.tmp, &st), 0);
    syncs.n = 0;
    assert_ret_equal(hg_afile_commit(&a, errbuf), 0);
    assert_int_equal(open_fds(), fds); /* neither the file's nor the directory's left open */
    /* synced: the temp file's data, then the directory holding its new name */
    assert_int_equal(syncs.n, 2);
    assert_true(syncs.kind[0] == S_IFREG && syncs.ino[0] == st.st_ino);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(syncs.kind[1] == S_IFDIR && syncs.ino[1] == st.st_ino);
    assert_ret_equal(a.fd, -1);
    assert_null(a.path);
    assert_null(a.tmp);
    assert_string_equal(entries(names), "body");
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, "new body");
    assert_int_equal(stat(path, &st), 0);
    assert_ret_equal(st.st_mode & 0777, 0640);
    umask(old);
    hg_afile_abort(&a); /* after a commit: nothing to do */
    hg_afile_abort(&a);
    low_fds_open();
    assert_string_equal(entries(names), "body");
}

/* While open, the temp file is hidden (.body.XXXXXX) beside the target;
 * an abort removes it, and a second abort is harmless. */
static void abort_removes_the_temp_file(void **state)
{
    char path[128], names[256], want[64], errbuf[NR_ERRBUF_SIZE];
    struct hg_afile a;

    int fds = open_fds();

    (void)state;
    snprintf(path, sizeof(path), "%s/body", dir);
    assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
    assert_ret_equal(hg_afile_write(&a, (const uint8_t *)"partial", 7, errbuf), 0);
    snprintf(want, sizeof(want), "%s", a.tmp + strlen(dir) + 1);
    assert_int_equal(strncmp(want, ".body.", 6), 0);
    assert_int_equal(strlen(want), strlen(".body.XXXXXX"));
    assert_string_equal(entries(names), want);
    hg_afile_abort(&a);
    assert_ret_equal(a.fd, -1);
    assert_null(a.tmp);
    assert_null(a.path);
    assert_string_equal(entries(names), "");
    assert_int_equal(open_fds(), fds);
    hg_afile_abort(&a);
    low_fds_open();
}

/* No such directory: -1, the reason, no descriptor, nothing to clean up. */
static void open_fails_cleanly(void **state)
{
    char path[128], errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_afile a;
    int fds = open_fds();

    (void)state;
    snprintf(path, sizeof(path), "%s/missing/body", dir);
    assert_ret_equal(hg_afile_open(&a, path, errbuf), -1);
    assert_int_equal(open_fds(), fds);
    assert_non_null(strstr(errbuf, "cannot create a temp file in"));
    assert_non_null(strstr(errbuf, "missing"));
    assert_ret_equal(a.fd, -1);
    assert_null(a.tmp);
    assert_null(a.path);
    hg_afile_abort(&a);
    low_fds_open();
}

/* The target is a non-empty directory, so the rename fails: -1 naming the
 * rename, and the temp file is gone. */
static void commit_fails_cleanly(void **state)
{
    char path[128], inner[160], names[256], errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_afile a;
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "%s/body", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(inner, sizeof(inner), "%s/keep", path);
    fd = open(inner, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    fd = open_fds();
    assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
    assert_ret_equal(hg_afile_write(&a, (const uint8_t *)"x", 1, errbuf), 0);
    assert_ret_equal(hg_afile_commit(&a, errbuf), -1);
    assert_int_equal(open_fds(), fd);
    assert_non_null(strstr(errbuf, "rename to"));
    assert_ret_equal(a.fd, -1);
    assert_null(a.tmp);
    assert_null(a.path);
    assert_string_equal(entries(names), "body");
    hg_afile_abort(&a);
    low_fds_open();
    unlink(inner);
    rmdir(path);
}

/* With stdin closed the temp file is descriptor 0.  An abort closes it
 * and removes the file, like any other; a commit closes it, and then the
 * directory's descriptor is 0 too: it is synced and closed like any other.
 * Either way 0 is left closed. */
static void stdin_closed(int commit)
{
    char path[128], names[256], errbuf[NR_ERRBUF_SIZE];
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), fd, stdin_after;
    struct hg_afile a;

    assert_true(saved >= 0);
    snprintf(path, sizeof(path), "%s/body", dir);
    close(0);
    assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
    fd = a.fd;
    syncs.n = 0;
    if (commit)
        assert_ret_equal(hg_afile_commit(&a, errbuf), 0);
    else
        hg_afile_abort(&a);
    stdin_after = fcntl(0, F_GETFD);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    assert_ret_equal(fd, 0);
    assert_int_equal(stdin_after, -1);
    assert_int_equal(syncs.n, commit ? 2 : 0);
    assert_true(!commit || syncs.kind[1] == S_IFDIR);
    assert_string_equal(entries(names), commit ? "body" : "");
}

static void abort_with_fd_zero(void **state)
{
    (void)state;
    stdin_closed(0);
}

static void commit_with_fd_zero(void **state)
{
    (void)state;
    stdin_closed(1);
}

/* Opening leaves the process's umask as it found it (it reads the umask to
 * set the temp file's mode). */
static void open_keeps_the_umask(void **state)
{
    char path[128], errbuf[NR_ERRBUF_SIZE];
    struct hg_afile a;
    mode_t old = umask(027);

    (void)state;
    snprintf(path, sizeof(path), "%s/body", dir);
    assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
    assert_int_equal(umask(old), 027);
    hg_afile_abort(&a);
}

/* Out of memory at each allocation in turn: either -1 "out of memory", no
 * descriptor, nothing on disk, and neither the descriptor nor the string
 * the struct's old (uninitialised) fields named closed or freed; or (an allocation the C library can do
 * without) 0 with the temp file in the target's directory.  The sweep ends
 * at the first run in which nothing failed. */
static void open_fails_cleanly_out_of_memory(void **state)
{
    char path[128], names[256], errbuf[NR_ERRBUF_SIZE], rule[32];
    int mine = open("/dev/null", O_RDONLY | O_CLOEXEC), r;
    static char not_yours[] = "not-yours";
    unsigned long failed = 1;
    struct hg_afile a;

    (void)state;
    assert_true(mine >= 0);
    snprintf(path, sizeof(path), "%s/body", dir);
    for (int n = 1; failed; n++) {
        a.fd = mine;
        a.tmp = not_yours;
        errbuf[0] = '\0';
        snprintf(rule, sizeof(rule), "malloc:%d", n);
        assert_int_equal(fault_inproc_set(rule), 1);
        r = hg_afile_open(&a, path, errbuf);
        failed = fault_inproc_off();
        if (r < 0) {
            assert_true(failed);
            assert_ret_equal(r, -1);
            assert_non_null(strstr(errbuf, "out of memory"));
            assert_ret_equal(a.fd, -1);
            assert_null(a.tmp);
            assert_string_equal(entries(names), "");
            assert_int_not_equal(fcntl(mine, F_GETFD), -1);
            low_fds_open();
        } else {
            assert_ret_equal(r, 0);
            assert_non_null(strstr(entries(names), ".body."));
        }
        hg_afile_abort(&a);
    }
    close(mine);
}

/* Wait up to timeout_ms for the child pid to exit and reap it; a child
 * still running then is SIGKILLed, reaped (waiting up to 5 s more) and
 * the case fails.  Returns the child's wait status. */
static int wait_child(pid_t pid, int timeout_ms)
{
    struct pollfd pfd = { .fd = (int)syscall(SYS_pidfd_open, pid, 0), .events = POLLIN };
    int status = 0, ready;

    if (pfd.fd < 0) {
        int e = errno;
        kill(pid, SIGKILL);
        for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
            usleep(10000); /* reaped within 5 s */
        fail_msg("pidfd_open: %s", strerror(e));
    }
    do /* a signal is no reason to give up on the child */
        ready = poll(&pfd, 1, timeout_ms);
    while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
        kill(pid, SIGKILL);
        poll(&pfd, 1, 5000);
    }
    close(pfd.fd);
    if (waitpid(pid, &status, WNOHANG) != pid)
        fail_msg("the child %d was not reaped", (int)pid);
    if (ready <= 0)
        fail_msg("the child did not exit within %d ms: killed", timeout_ms);
    return status;
}

/* In a child whose system call sysno fails with EIO (a seccomp filter):
 * open path (fail_in_commit: open it before the filter, then commit) and
 * exit 0 when the call returns -1 with errbuf naming `what` and the
 * reason and the descriptor closed.  The parent asserts that exit and an
 * empty directory. */
static void fails_cleanly_on(long sysno, int fail_in_commit, const char *what)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)sysno, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
    char path[128], names[256], errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_afile a;
    int status, r;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/body", dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (fail_in_commit && hg_afile_open(&a, path, errbuf) < 0)
            _exit(2);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
            _exit(3);
        r = fail_in_commit ? hg_afile_commit(&a, errbuf) : hg_afile_open(&a, path, errbuf);
        if (r != -1 || a.fd != -1 || a.tmp || a.path)
            _exit(4);
        if (!strstr(errbuf, what) || !strstr(errbuf, "Input/output error"))
            _exit(5);
        _exit(0);
    }
    status = wait_child(pid, 10000);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("%s failing: the child exited %d", what, WEXITSTATUS(status));
    assert_string_equal(entries(names), "");
}

/* fchmod of the temp file failing: -1 naming the chmod, nothing on disk. */
static void open_fails_cleanly_on_chmod(void **state)
{
    (void)state;
    fails_cleanly_on(__NR_fchmod, 0, "chmod ");
}

/* fsync of the temp file failing at the commit: -1 naming the fsync, the
 * temp file removed, no file at the target. */
static void commit_fails_cleanly_on_fsync(void **state)
{
    (void)state;
    fails_cleanly_on(__NR_fsync, 1, "fsync ");
}

/* Closing the temp file failing at the commit (the injector closes it and
 * returns EIO, as Linux does): -1 naming the close, the temp file removed,
 * no descriptor left and none closed twice. */
static void commit_fails_cleanly_on_close(void **state)
{
    char path[128], names[256], errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_afile a;
    int fds = open_fds(), r;

    (void)state;
    snprintf(path, sizeof(path), "%s/body", dir);
    assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
    assert_int_equal(fault_inproc_set("close:1"), 1);
    r = hg_afile_commit(&a, errbuf);
    assert_int_equal(fault_inproc_off(), 1);
    assert_ret_equal(r, -1);
    if (!strstr(errbuf, "close ") || !strstr(errbuf, "Input/output error"))
        fail_msg("errbuf '%s' does not name the close and its reason", errbuf);
    assert_ret_equal(a.fd, -1);
    assert_null(a.tmp);
    assert_string_equal(entries(names), "");
    assert_int_equal(open_fds(), fds);
    low_fds_open();
}

/* Out of memory at each allocation of a commit in turn: the directory's
 * name is only needed to sync the directory, so the commit still succeeds,
 * leaves the file, and closes no descriptor but its own. */
static void commit_out_of_memory(void **state)
{
    char path[128], names[256], errbuf[NR_ERRBUF_SIZE], rule[32];
    unsigned long failed = 1;
    struct hg_afile a;
    int fds = open_fds(), r;

    (void)state;
    snprintf(path, sizeof(path), "%s/body", dir);
    for (int n = 1; failed; n++) {
        assert_ret_equal(hg_afile_open(&a, path, errbuf), 0);
        assert_ret_equal(hg_afile_write(&a, (const uint8_t *)"x", 1, errbuf), 0);
        snprintf(rule, sizeof(rule), "malloc:%d", n);
        assert_int_equal(fault_inproc_set(rule), 1);
        r = hg_afile_commit(&a, errbuf);
        failed = fault_inproc_off();
        assert_ret_equal(r, 0);
        assert_string_equal(entries(names), "body");
        assert_int_equal(open_fds(), fds);
        low_fds_open();
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_leaves_only_the_file, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(abort_removes_the_temp_file, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(open_fails_cleanly, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(commit_fails_cleanly, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(abort_with_fd_zero, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(commit_with_fd_zero, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(open_keeps_the_umask, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(open_fails_cleanly_out_of_memory, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(open_fails_cleanly_on_chmod, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(commit_fails_cleanly_on_fsync, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(commit_fails_cleanly_on_close, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(commit_out_of_memory, mkdir_tmp, rm_tmp),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
