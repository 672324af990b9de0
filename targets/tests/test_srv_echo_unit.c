/* Unit tests of the echo logic without a server: echo_pump and
 * echo_serve_conn over socketpairs and pipes (reads and sends interrupted
 * by EINTR), and tcp-echo-mt's connection table driven with socketpairs
 * (its failures by the fault injector, in process). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../harness/tests/heap_exact.h"
#include "fault_inproc.h"
#include "nr_net.h"
#include "tcp-echo-mt/conns.h"
#include "tcp-echo/echo.h"

/* read and send for the code under test: the C library's, except that the
 * next fail_reads reads (fail_sends sends) of descriptor fail_fd fail with
 * fail_errno and move nothing (EINTR: as a call a signal handler
 * interrupted); a failing send takes its errno from send_errnos[] first,
 * while it has entries. */
static int fail_fd = -1, fail_errno = EINTR, fail_reads, fail_sends;
static int send_errnos[4], n_send_errnos;

ssize_t read(int fd, void *buf, size_t len)
{
    static ssize_t (*real_read)(int, void *, size_t);

    if (fd == fail_fd && fail_reads > 0) {
        fail_reads--;
        errno = fail_errno;
        return -1;
    }
    if (!real_read)
        real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    return real_read(fd, buf, len);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static ssize_t (*real_send)(int, const void *, size_t, int);

    if (fd == fail_fd && fail_sends > 0) {
        fail_sends--;
        errno = fail_errno;
        if (n_send_errnos > 0) {
            errno = send_errnos[0];
            memmove(send_errnos, send_errnos + 1, sizeof(send_errnos) - sizeof(send_errnos[0]));
            n_send_errnos--;
        }
        return -1;
    }
    if (!real_send)
        real_send = (ssize_t (*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
    return real_send(fd, buf, len, flags);
}

/* pthread_mutex_lock and _unlock for the code under test: the C
 * library's, with the locking discipline checked.  An unlock by a thread
 * that does not hold the mutex (glibc records its owner) is counted in
 * lock_misuse; a lock still unavailable after 5 s (never released) aborts
 * the test instead of hanging it. */
static atomic_int lock_misuse;

int pthread_mutex_lock(pthread_mutex_t *mx)
{
    struct timespec deadline;
    int r;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    r = pthread_mutex_timedlock(mx, &deadline);
    if (r == ETIMEDOUT) {
        static const char msg[] = "test: a mutex was not released within 5 s\n";

        (void)!write(2, msg, sizeof(msg) - 1);
        abort();
    }
    return r;
}

int pthread_mutex_unlock(pthread_mutex_t *mx)
{
    static int (*real_unlock)(pthread_mutex_t *);

    if (mx->__data.__owner != gettid())
        atomic_fetch_add(&lock_misuse, 1);
    if (!real_unlock)
        real_unlock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_unlock");
    return real_unlock(mx);
}

/* pthread_create for the code under test: the C library's (through the
 * fault injector), noting the largest stack asked for since last_stack was
 * zeroed (a NULL attr: the default, 8 MiB here). */
static size_t last_stack;

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    size_t size = 8u << 20;

    if (attr)
        pthread_attr_getstacksize(attr, &size);
    if (size > last_stack)
        last_stack = size;
    if (!real_create)
        real_create = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
            dlsym(RTLD_NEXT, "pthread_create");
    return real_create(t, attr, fn, arg);
}

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* Read exactly len bytes from fd, each wait bounded by 1 s. */
static void read_exact(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n;
        assert_true(nr_wait_fd(fd, POLLIN, 1000) > 0);
        n = nr_read(fd, (char *)buf + got, len - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
}

/* The next read on fd (within 1 s) is EOF. */
static void expect_eof(int fd)
{
    char c;

    assert_true(nr_wait_fd(fd, POLLIN, 1000) > 0);
    assert_int_equal(nr_read(fd, &c, 1), 0);
}

/* Half-closed input: everything sent comes back, then 0 and the count. */
static void serve_conn_echoes_until_eof(void **state)
{
    uint8_t out[1000], back[1000];
    uint64_t moved = 99;
    int sv[2];

    (void)state;
    pair(sv);
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 7 + i / 13);
    assert_int_equal(nr_write_all(sv[0], out, sizeof(out), 1000), 0);
    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    assert_int_equal(echo_serve_conn(sv[1], -1, 1000, &moved), 0);
    assert_int_equal(moved, sizeof(out));
    close(sv[1]);
    read_exact(sv[0], back, sizeof(back));
    assert_memory_equal(out, back, sizeof(out));
    expect_eof(sv[0]);
    close(sv[0]);
}

/* A read or a send interrupted by a signal (EINTR) is no error and loses
 * nothing (echo.h: only EOF, the stop fd, the idle bound or a real error
 * end the pump): every byte comes back, in order, then 0 at EOF. */
static void interrupted_calls_are_retried(void **state)
{
    const char out[] = "interrupted, not lost";
    char back[sizeof(out) - 1];
    uint64_t moved = 99;
    int sv[2], r;

    (void)state;
    pair(sv);
    assert_int_equal(nr_write_all(sv[0], out, sizeof(back), 1000), 0);
    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    fail_fd = sv[1];
    fail_errno = EINTR;
    fail_reads = 2;
    fail_sends = 2;
    r = echo_serve_conn(sv[1], -1, 1000, &moved);
    fail_fd = -1;
    assert_int_equal(r, 0);
    assert_int_equal(fail_reads, 0); /* both interruptions happened */
    assert_int_equal(fail_sends, 0);
    assert_int_equal(moved, sizeof(back));
    close(sv[1]);
    read_exact(sv[0], back, sizeof(back));
    assert_memory_equal(out, back, sizeof(back));
    expect_eof(sv[0]);
    close(sv[0]);
}

/* Any other read or send error ends the pump at once with -errno (a reset
 * connection is not retried as if nothing were there yet), with the count
 * of what was echoed before it. */
static void io_errors_end_the_pump(void **state)
{
    static const int errs[] = { ECONNRESET, EHOSTUNREACH, EIO };
    uint64_t moved = 99;
    int sv[2], r;

    (void)state;
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        for (int on_send = 0; on_send <= 1; on_send++) {
            pair(sv);
            assert_int_equal(nr_write_all(sv[0], "ab", 2, 1000), 0);
            fail_fd = sv[1];
            fail_errno = errs[i];
            fail_reads = !on_send;
            fail_sends = on_send;
            r = echo_serve_conn(sv[1], -1, 1000, &moved);
            fail_fd = -1;
            assert_int_equal(r, -errs[i]);
            assert_int_equal(moved, 0);
            assert_int_equal(fail_reads + fail_sends, 0);
            close(sv[0]);
            close(sv[1]);
        }
        /* the same error on a later write, of what the first could not take */
        pair(sv);
        assert_int_equal(nr_write_all(sv[0], "ab", 2, 1000), 0);
        fail_fd = sv[1];
        send_errnos[0] = EAGAIN;
        send_errnos[1] = errs[i];
        n_send_errnos = 2;
        fail_sends = 2;
        r = echo_serve_conn(sv[1], -1, 1000, &moved);
        fail_fd = -1;
        assert_int_equal(r, -errs[i]);
        assert_int_equal(moved, 0);
        assert_int_equal(fail_sends, 0);
        close(sv[0]);
        close(sv[1]);
    }
}

/* One echo_serve_conn call, made by its own thread so that a pump that
 * never returns cannot hang the test. */
struct serve_call {
    int fd, r;
    uint64_t moved;
};

static void *serve_call_main(void *arg)
{
    struct serve_call *c = arg;

    c->r = echo_serve_conn(c->fd, -1, 1000, &c->moved);
    return NULL;
}

/* A failing poll ends the pump with its -errno: with RLIMIT_NOFILE under
 * the 2 descriptors it polls, poll gives EINVAL.  (A pump that retried it
 * would spin forever: given up after 3 s.) */
static void poll_error_ends_the_pump(void **state)
{
    static struct serve_call c; /* outlives a call left running */
    struct timespec give_up;
    struct rlimit old, one;
    uint64_t moved;
    pthread_t t;
    int sv[2], r, joined = 0;

    (void)state;
    pair(sv);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    one = old;
    one.rlim_cur = 1;
    c = (struct serve_call){ .fd = sv[1], .r = 99, .moved = 99 };
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &one), 0);
    r = pthread_create(&t, NULL, serve_call_main, &c);
    if (r == 0) {
        clock_gettime(CLOCK_REALTIME, &give_up);
        give_up.tv_sec += 3;
        joined = pthread_timedjoin_np(t, NULL, &give_up) == 0;
    }
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(r, 0);
    if (!joined)
        fail_msg("the pump did not end within 3 s of a poll failing");
    r = c.r;
    moved = c.moved;
    assert_int_equal(r, -EINVAL);
    assert_int_equal(moved, 0);
    close(sv[0]);
    close(sv[1]);
}

/* A readable stop fd ends the pump at once, even with a silent peer. */
static void stop_fd_ends_pump(void **state)
{
    uint64_t one = 1, moved = 99;
    int sv[2], stop = eventfd(0, EFD_CLOEXEC);

    (void)state;
    pair(sv);
    assert_true(stop >= 0);
    assert_int_equal(write(stop, &one, sizeof(one)), sizeof(one));
    assert_int_equal(echo_serve_conn(sv[1], stop, -1, &moved), ECHO_STOPPED);
    assert_int_equal(moved, 0);
    close(stop);
    close(sv[0]);
    close(sv[1]);
}

/* A silent peer with an idle bound gives -ETIMEDOUT. */
static void idle_bound_times_out(void **state)
{
    int sv[2];

    (void)state;
    pair(sv);
    assert_int_equal(echo_serve_conn(sv[1], -1, 20, NULL), -ETIMEDOUT);
    close(sv[0]);
    close(sv[1]);
}

/* Output side gone while echoing: an error, not a signal or a hang. */
static void closed_peer_is_an_error(void **state)
{
    int sv[2], r;

    (void)state;
    pair(sv);
    assert_int_equal(nr_write_all(sv[0], "abc", 3, 1000), 0);
    close(sv[0]);
    r = echo_serve_conn(sv[1], -1, 1000, NULL);
    assert_true(r == -EPIPE || r == -ECONNRESET);
    close(sv[1]);
}

/* in_fd and out_fd may differ and need not be sockets (pipes). */
static void pump_between_pipes(void **state)
{
    int a[2], b[2];
    uint64_t moved;
    char buf[5];

    (void)state;
    assert_int_equal(pipe2(a, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(pipe2(b, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(write(a[1], "hello", 5), 5);
    close(a[1]);
    assert_int_equal(echo_pump(a[0], b[1], -1, 1000, &moved), 0);
    assert_int_equal(moved, 5);
    assert_int_equal(read(b[0], buf, 5), 5);
    assert_memory_equal(buf, "hello", 5);
    close(a[0]);
    close(b[0]);
    close(b[1]);
}

/* echo_result_str names each result of echo_pump (echo.h). */
static void result_words(void **state)
{
    (void)state;
    assert_string_equal(echo_result_str(0), "closed");
    assert_string_equal(echo_result_str(ECHO_STOPPED), "stopped");
    assert_string_equal(echo_result_str(-ECONNRESET), strerror(ECONNRESET));
    assert_string_equal(echo_result_str(-ETIMEDOUT), strerror(ETIMEDOUT));
    assert_string_equal(echo_result_str(-EPERM), strerror(EPERM)); /* -1 */
    assert_string_equal(echo_result_str(2), "unknown");
}

static void parse_int_bounds(void **state)
{
    int v = -1;

    (void)state;
    assert_int_equal(echo_parse_int("64", 1, 100, &v), 0);
    assert_int_equal(v, 64);
    assert_int_equal(echo_parse_int("0", 1, 100, &v), -1);
    assert_int_equal(echo_parse_int("101", 1, 100, &v), -1);
    assert_int_equal(echo_parse_int("", 1, 100, &v), -1);
    assert_int_equal(echo_parse_int("5x", 1, 100, &v), -1);
    assert_int_equal(echo_parse_int("99999999999999999999", 1, 100, &v), -1);
}

/* The table serves up to max connections, reports full, reuses a slot
 * once its client leaves, and emt_stop wakes and joins every thread. */
static void table_capacity_and_stop(void **state)
{
    char errbuf[NR_ERRBUF_SIZE];
    int sv[3][2], extra[2];
    struct srv s;
    struct emt m;
    char c;

    (void)state;
    srv_init(&s, "unit", SOCK_STREAM, 0);
    s.quiet = 1;
    assert_int_equal(emt_init(&m, &s, 2, -1, errbuf), 0);
    for (int i = 0; i < 2; i++) {
        pair(sv[i]);
        assert_int_equal(emt_start(&m, sv[i][1], "peer"), 0);
    }
    pair(extra);
    assert_int_equal(emt_start(&m, extra[1], "peer"), 1);
    assert_int_equal(emt_active(&m), 2);
    assert_int_equal(nr_write_all(sv[0][0], "x", 1, 1000), 0);
    read_exact(sv[0][0], &c, 1);
    assert_int_equal(c, 'x');
    close(sv[0][0]); /* its thread sees EOF and finishes */
    for (int i = 0; i < 200 && emt_active(&m) > 1; i++)
        usleep(5000);
    assert_int_equal(emt_active(&m), 1);
    assert_int_equal(emt_start(&m, extra[1], "peer"), 0);
    pair(sv[2]);
    assert_int_equal(emt_start(&m, sv[2][1], "peer"), 1);
    assert_int_equal(emt_stop(&m, 1000), 0);
    assert_int_equal(emt_active(&m), 0);
    expect_eof(sv[1][0]); /* the stopped threads closed their ends */
    expect_eof(extra[0]);
    emt_free(&m);
    assert_int_equal(lock_misuse, 0); /* every unlock by the lock's holder */
    close(sv[1][0]);
    close(extra[0]);
    close(sv[2][0]);
    close(sv[2][1]);
}

/* emt_init's failures: -1 with one line in errbuf and nothing left
 * allocated (heap bytes in use, exact: heap_exact_init), no memory for the
 * slot table, no eventfd.  A table made after them works. */
static void table_init_failures(void **state)
{
    char errbuf[NR_ERRBUF_SIZE], want[NR_ERRBUF_SIZE];
    unsigned long failed;
    struct srv s;
    struct emt m;
    size_t heap;
    int r;

    (void)state;
    srv_init(&s, "unit", SOCK_STREAM, 0);
    s.quiet = 1;
    snprintf(want, sizeof(want), "eventfd: %s", strerror(EMFILE));
    heap = mallinfo2().uordblks;
    strcpy(errbuf, "untouched");
    fault_inproc_set("calloc:1");
    r = emt_init(&m, &s, 5, -1, errbuf);
    failed = fault_inproc_off();
    assert_int_equal(failed, 1);
    assert_int_equal(r, -1);
    assert_string_equal(errbuf, "out of memory for 5 connection slots");
    strcpy(errbuf, "untouched");
    fault_inproc_set("eventfd:1");
    r = emt_init(&m, &s, 5, -1, errbuf);
    failed = fault_inproc_off();
    assert_int_equal(failed, 1);
    assert_int_equal(r, -1);
    assert_string_equal(errbuf, want);
    assert_int_equal(mallinfo2().uordblks, heap);
    assert_int_equal(emt_init(&m, &s, 1, -1, errbuf), 0);
    assert_int_equal(emt_active(&m), 0);
    assert_int_equal(emt_stop(&m, 100), 0);
    emt_free(&m);
    assert_int_equal(lock_misuse, 0); /* every unlock by the lock's holder */
}

/* Mappings of this process (/proc/self/maps lines): a thread that ended
 * and was never joined keeps its stack and guard mapped. */
static int mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    int n = 0, ch;

    assert_non_null(f);
    while ((ch = getc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* Wait (at most 2 s) until no connection of m is running. */
static void wait_idle(struct emt *m)
{
    for (int i = 0; i < 400 && emt_active(m) > 0; i++)
        usleep(5000);
    assert_int_equal(emt_active(m), 0);
}

/* A finished thread is joined when its slot is taken again: 30 clients
 * served one after another through a table of one slot leave no thread
 * stack behind; and no thread asked for a stack over 1 MiB. */
static void table_joins_finished_threads(void **state)
{
    char errbuf[NR_ERRBUF_SIZE], c;
    int sv[2], before = 0;
    struct srv s;
    struct emt m;

    (void)state;
    srv_init(&s, "unit", SOCK_STREAM, 0);
    s.quiet = 1;
    assert_int_equal(emt_init(&m, &s, 1, -1, errbuf), 0);
    last_stack = 0;
    for (int i = 0; i < 31; i++) {
        if (i == 1)
            before = mappings(); /* the first thread's stack is cached */
        pair(sv);
        assert_int_equal(emt_start(&m, sv[1], "peer"), 0);
        assert_int_equal(nr_write_all(sv[0], "q", 1, 1000), 0);
        read_exact(sv[0], &c, 1);
        close(sv[0]); /* its thread sees EOF, closes sv[1] and ends */
        wait_idle(&m);
    }
    if (mappings() > before + 8)
        fail_msg("%d mappings more after 30 threads", mappings() - before);
    /* and each had a small stack (conns.c: thousands of them must fit) */
    if (last_stack == 0 || last_stack > (1u << 20))
        fail_msg("a connection thread's stack is %zu bytes", last_stack);
    assert_int_equal(emt_stop(&m, 1000), 0);
    emt_free(&m);
    assert_int_equal(lock_misuse, 0);
}

/* Descriptor 0 is a descriptor like any other (tcp-echo-mt makes its
 * table before its socket, so with stdin closed the eventfd is 0): the
 * table is made, serves, and is stopped with it. */
static void table_stop_fd_zero(void **state)
{
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), sv[2], r;
    char errbuf[NR_ERRBUF_SIZE], c;
    struct srv s;
    struct emt m;

    (void)state;
    assert_true(saved >= 0);
    srv_init(&s, "unit", SOCK_STREAM, 0);
    s.quiet = 1;
    pair(sv);
    close(0);
    r = emt_init(&m, &s, 1, -1, errbuf);
    if (r == 0 && m.stop_fd != 0)
        emt_free(&m);
    assert_int_equal(r, 0);
    assert_int_equal(m.stop_fd, 0);
    assert_int_equal(emt_start(&m, sv[1], "peer"), 0);
    assert_int_equal(nr_write_all(sv[0], "z", 1, 1000), 0);
    read_exact(sv[0], &c, 1);
    assert_int_equal(c, 'z');
    assert_int_equal(emt_stop(&m, 1000), 0);
    expect_eof(sv[0]);
    emt_free(&m);
    assert_int_equal(lock_misuse, 0); /* every unlock by the lock's holder */
    assert_int_equal(fcntl(0, F_GETFD), -1); /* emt_free closed it */
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    close(sv[0]);
}

/* A thread that cannot be created: emt_start returns -errno with the fd
 * untouched (still the caller's, open) and the slot still free: the only
 * slot of a table of one takes the next connection. */
static void table_thread_refused(void **state)
{
    char errbuf[NR_ERRBUF_SIZE], c;
    struct srv s;
    struct emt m;
    int sv[2], r;

    (void)state;
    srv_init(&s, "unit", SOCK_STREAM, 0);
    s.quiet = 1;
    assert_int_equal(emt_init(&m, &s, 1, -1, errbuf), 0);
    pair(sv);
    fault_inproc_set("pthread_create:1");
    r = emt_start(&m, sv[1], "peer");
    fault_inproc_off();
    assert_int_equal(r, -EAGAIN);
    assert_int_equal(emt_active(&m), 0);
    assert_int_equal(fcntl(sv[1], F_GETFD), FD_CLOEXEC); /* still open */
    assert_int_equal(emt_start(&m, sv[1], "peer"), 0);
    assert_int_equal(emt_active(&m), 1);
    assert_int_equal(nr_write_all(sv[0], "y", 1, 1000), 0);
    read_exact(sv[0], &c, 1);
    assert_int_equal(c, 'y');
    assert_int_equal(emt_stop(&m, 1000), 0);
    expect_eof(sv[0]);
    emt_free(&m);
    assert_int_equal(lock_misuse, 0); /* every unlock by the lock's holder */
    close(sv[0]);
}

/* One emt_stop call, made by its own thread so that a call that never
 * returns cannot hang the test. */
struct stop_call {
    struct emt *m;
    int timeout_ms, left;
};

static void *stop_call_main(void *arg)
{
    struct stop_call *c = arg;

    c->left = emt_stop(c->m, c->timeout_ms);
    return NULL;
}

/* Milliseconds emt_stop(m, timeout_ms) took, its result in *left; -1 when it
 * had not returned 3 s past timeout_ms (the call is then left running). */
static long timed_stop(struct emt *m, int timeout_ms, int *left)
{
    static struct stop_call c; /* outlives a call left running */
    struct timespec t0, t1, give_up;
    pthread_t t;

    c = (struct stop_call){ .m = m, .timeout_ms = timeout_ms, .left = -1 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&t, NULL, stop_call_main, &c), 0);
    clock_gettime(CLOCK_REALTIME, &give_up);
    give_up.tv_sec += timeout_ms / 1000 + 3;
    if (pthread_timedjoin_np(t, NULL, &give_up) != 0) {
        pthread_detach(t);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *left = c.left;
    return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/* emt_stop waits at most timeout_ms in all, and that long for a thread
 * that cannot finish: one whose log line is stuck on a full stderr pipe is
 * counted after 999 ms, then after 1000 ms (a bound just under and at a
 * whole second), and joined once its line can be written. */
static void stop_wait_is_bounded(void **state)
{
    static char fill[65536];
    char errbuf[NR_ERRBUF_SIZE];
    int p[2], sv[2], saved, left[3];
    long ms[3];
    struct srv s;
    struct emt m;

    (void)state;
    srv_init(&s, "unit", SOCK_STREAM, 0);
    assert_int_equal(emt_init(&m, &s, 1, -1, errbuf), 0);
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    while (write(p[1], fill, sizeof(fill)) > 0)
        ;
    assert_int_equal(fcntl(p[1], F_SETFL, 0), 0); /* full, and blocking */
    pair(sv);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(p[1], 2), 2);
    assert_int_equal(emt_start(&m, sv[1], "stuck"), 0);
    /* nothing may touch stderr from here until the pipe is drained: the
     * stuck thread holds its lock */
    ms[0] = timed_stop(&m, 999, &left[0]);
    ms[1] = ms[0] < 0 ? -1 : timed_stop(&m, 1000, &left[1]);
    dup2(saved, 2);
    close(saved);
    while (read(p[0], fill, sizeof(fill)) > 0)
        ;
    if (ms[1] < 0)
        fail_msg("emt_stop(%d) did not return", ms[0] < 0 ? 999 : 1000);
    ms[2] = timed_stop(&m, 2000, &left[2]);
    if (ms[2] < 0)
        fail_msg("emt_stop(2000) did not return");
    assert_int_equal(left[0], 1);
    if (ms[0] < 990 || ms[0] > 2900) /* it waited, and then gave up (timed_stop: 3 s) */
        fail_msg("emt_stop(999) took %ld ms", ms[0]);
    assert_int_equal(left[1], 1);
    if (ms[1] < 990 || ms[1] > 2900)
        fail_msg("emt_stop(1000) took %ld ms", ms[1]);
    assert_int_equal(left[2], 0);
    assert_true(ms[2] < 2000); /* returned when the thread ended, not at its timeout */
    emt_free(&m);
    assert_int_equal(lock_misuse, 0); /* every unlock by the lock's holder */
    expect_eof(sv[0]);
    close(sv[0]);
    close(p[0]);
    close(p[1]);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serve_conn_echoes_until_eof),
        cmocka_unit_test(stop_fd_ends_pump),
        cmocka_unit_test(idle_bound_times_out),
        cmocka_unit_test(closed_peer_is_an_error),
        cmocka_unit_test(pump_between_pipes),
        cmocka_unit_test(result_words),
        cmocka_unit_test(parse_int_bounds),
        cmocka_unit_test(table_capacity_and_stop),
        cmocka_unit_test(interrupted_calls_are_retried),
        cmocka_unit_test(io_errors_end_the_pump),
        cmocka_unit_test(poll_error_ends_the_pump),
        cmocka_unit_test(table_init_failures),
        cmocka_unit_test(table_thread_refused),
        cmocka_unit_test(table_stop_fd_zero),
        cmocka_unit_test(table_joins_finished_threads),
        cmocka_unit_test(stop_wait_is_bounded),
    };

    (void)argc;
    heap_exact_init(argv);
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
