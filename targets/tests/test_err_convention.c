/* Unit tests of the error convention (harness/lib/nr_err.h) where it was
 * brought to one form: the I/O wrappers of nr_net and the accept path of
 * targets/common/srv return -errno (never -1 with errno set), the waits of
 * nr_proc are tri-state with -errno for their third state, nr_proc_parent
 * says why it has no answer, srv_next_conn's SRV_STOP is an errno value
 * poll and accept never return, and the errbuf functions still return -1
 * with one line of text. */
#define _GNU_SOURCE
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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_net.h"
#include "nr_proc.h"
#include "srv.h"
#include "tnames.h"

/* A descriptor number that is certainly closed. */
static int closed_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    close(fd);
    return fd;
}

static void net_wrappers_return_negative_errno(void **state)
{
    int bad = closed_fd(), sv[2];
    char buf[8];

    (void)state;
    assert_ret_equal(nr_set_nonblock(bad, 1), -EBADF);
    assert_ret_equal(nr_set_nonblock(bad, 0), -EBADF);
    assert_ret_equal(nr_read(bad, buf, sizeof(buf)), -EBADF);
    assert_ret_equal(nr_write_all(bad, "x", 1, 100), -EBADF);
    /* the wait's three states: ready, timed out, and a closed descriptor
     * counts as ready (POLLNVAL), for the next call on it to report */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_ret_equal(nr_wait_fd(sv[0], POLLIN, 0), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_true(nr_wait_fd(sv[0], POLLIN, 1000) > 0);
    assert_true(nr_wait_fd(bad, POLLIN, 1000) > 0);
    /* a write that stalls for its whole budget */
    assert_ret_equal(nr_set_nonblock(sv[0], 1), 0);
    assert_ret_equal(nr_write_all(sv[0], buf, sizeof(buf), 0), 0);
    {
        static char big[1 << 20];
        assert_ret_equal(nr_write_all(sv[0], big, sizeof(big), 50), -ETIMEDOUT);
    }
    close(sv[0]);
    close(sv[1]);
}

static void net_errbuf_functions_return_minus_one(void **state)
{
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_addr a, lst;
    int fd, e = 0;

    (void)state;
    assert_ret_equal(nr_addr_parse("1.2.3.4", &a, err), -1);
    assert_string_equal(err, "expected HOST:PORT, got '1.2.3.4'");
    assert_ret_equal(nr_addr_parse("1.2.3.4:99999", &a, NULL), -1);
    /* a port nobody listens on: a listener bound and closed again */
    assert_int_equal(nr_addr_parse("127.0.0.1:0", &a, err), 0);
    fd = nr_bind_socket(&a, SOCK_STREAM, 1, err);
    assert_true(fd >= 0);
    assert_int_equal(nr_local_addr(fd, &lst, err), 0);
    close(fd);
    err[0] = '\0';
    assert_ret_equal(nr_connect_tcp(&lst, 1000, &e, NULL, err), -1);
    assert_ret_equal(-e, -ECONNREFUSED);
    assert_non_null(strstr(err, "Connection refused"));
    /* not failures: a unix address has no port, no activation fd passed */
    assert_int_equal(nr_addr_unix("@x", &a, err), 0);
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), -1);
    unsetenv("LISTEN_PID");
    assert_int_equal(nr_activation_fd(), -1);
}

/* A process that is not our child: waitpid says ECHILD. */
static void proc_wait_not_a_child(void **state)
{
    struct nr_proc p = { .pid = getppid(), .pidfd = -1 };

    (void)state;
    assert_ret_equal(nr_proc_wait(&p, 0), -ECHILD);
    assert_ret_equal(nr_proc_wait(&p, 100), -ECHILD);
    assert_int_equal(p.reaped, 0);
}

static void proc_wait_file_line_states(void **state)
{
    char dir[] = "/tmp/nr-errconv-XXXXXX", out[64], line[64], err[NR_ERRBUF_SIZE];
    char *argv[] = { "sh", "-c", "echo hello; echo ready 7; exec sleep 5", NULL };
    char *quiet[] = { "true", NULL };
    struct nr_spawn s = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/out", dir);
    s.stdout_path = out;
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_ret_equal(nr_wait_file_line(out, "ready ", line, 0, &p, 100), -EINVAL);
    assert_ret_equal(nr_wait_file_line(out, "ready ", line, sizeof(line), &p, 5000), 1);
    assert_string_equal(line, "ready 7");
    assert_ret_equal(nr_wait_file_line(out, "never", line, sizeof(line), &p, 50), 0);
    assert_int_equal(nr_proc_stop(&p, 1000), 1);
    nr_proc_release(&p);
    /* a child that exits without printing the line */
    s.argv = quiet;
    assert_int_equal(nr_proc_spawn(&s, &p, err), 0);
    assert_ret_equal(nr_wait_file_line(out, "ready ", line, sizeof(line), &p, 5000), -ECHILD);
    assert_int_equal(nr_proc_wait(&p, 0), 1);
    nr_proc_release(&p);
    unlink(out);
    rmdir(dir);
}

static void proc_parent_says_why(void **state)
{
    (void)state;
    assert_int_equal(nr_proc_parent(getpid()), getppid());
    /* above any pid_max (at most 2^22) */
    assert_ret_equal(nr_proc_parent(0x3fffffff), -ENOENT);
}

/* Fill the descriptor table (soft limit lowered to what is open + 8). */
static int fill_fds(int *fds, int cap, struct rlimit *old)
{
    struct rlimit low;
    int n = 0, fd;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, old), 0);
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
    low = *old;
    low.rlim_cur = (rlim_t)fd + 8;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (n < cap && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fds[n++] = fd;
    assert_int_equal(errno, EMFILE);
    return n;
}

/* srv_accept: -EAGAIN with nothing pending, -EMFILE when it shed one
 * connection; srv_next_conn: a connection, then SRV_STOP (-ECANCELED) once
 * SIGTERM is pending.  Last in the list: it blocks SIGINT/SIGTERM. */
static void srv_accept_and_stop(void **state)
{
    struct srv s;
    struct nr_addr peer;
    struct rlimit old;
    struct signalfd_siginfo si;
    char as[NR_ADDRSTR_SIZE], err[NR_ERRBUF_SIZE], b;
    int c, fd, fds[16], n;

    (void)state;
    srv_init(&s, "errconv", SOCK_STREAM, 0);
    s.quiet = 1;
    assert_int_equal(srv_start(&s), 0);
    assert_ret_equal(srv_accept(&s, &peer), -EAGAIN);
    c = nr_connect_tcp(&s.local, 2000, NULL, NULL, err);
    assert_true(c >= 0);
    fd = srv_next_conn(&s, as);
    assert_true(fd >= 0);
    assert_non_null(strstr(as, "127.0.0.1:"));
    close(fd);
    close(c);
    /* no descriptor left: the connection is taken and closed */
    c = nr_connect_tcp(&s.local, 2000, NULL, NULL, err);
    assert_true(c >= 0);
    n = fill_fds(fds, 16, &old);
    assert_ret_equal(srv_accept(&s, &peer), -EMFILE);
    while (n > 0)
        close(fds[--n]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_true(nr_wait_fd(c, POLLIN, 2000) > 0);
    assert_true(read(c, &b, 1) <= 0); /* EOF or reset: shed */
    close(c);
    assert_ret_equal(srv_accept(&s, &peer), -EAGAIN);
    /* a shutdown signal ends the wait */
    assert_ret_equal(SRV_STOP, -ECANCELED);
    assert_int_equal(srv_stopping(&s), 0);
    assert_int_equal(raise(SIGTERM), 0);
    assert_int_equal(srv_stopping(&s), 1);
    assert_ret_equal(srv_next_conn(&s, as), SRV_STOP);
    assert_int_equal(read(s.sigfd, &si, sizeof(si)), (ssize_t)sizeof(si));
    srv_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(net_wrappers_return_negative_errno),
        cmocka_unit_test(net_errbuf_functions_return_minus_one),
        cmocka_unit_test(proc_wait_not_a_child),
        cmocka_unit_test(proc_wait_file_line_states),
        cmocka_unit_test(proc_parent_says_why),
        cmocka_unit_test(srv_accept_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
