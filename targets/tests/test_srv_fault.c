/* Targets under failing allocations and system calls (the fault injector,
 * preload/fault.c): a server that cannot serve one connection says why in
 * one log line, drops that connection, holds no descriptor for it and
 * serves the next; a server that cannot start says why and exits 1.  None
 * crashes, and each run checks that the injector failed the call it meant. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "itest.h"
#include "itest_reap.h"
#include "fault_itest.h"

/* Send line on connection fd and assert the reply's first line holds
 * want (tcp-time's "[date] " prefix is thus skipped). */
static void expect_served_fd(int fd, const char *line, const char *want)
{
    char buf[256];
    size_t got = 0;
    int64_t deadline = nr_now_ms() + 3000;

    assert_int_equal(nr_write_all(fd, line, strlen(line), 2000), 0);
    while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
        ssize_t n;
        if (nr_wait_fd(fd, POLLIN, nr_ms_left(deadline)) <= 0)
            fail_msg("no reply to '%s' within 3 s (%zu bytes)", line, got);
        n = nr_read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            fail_msg("connection ended after %zu bytes, no reply to '%s'", got, line);
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (!strstr(buf, want))
        fail_msg("reply '%s', want '%s' in it", buf, want);
}

/* The same on a new client of s, closed after. */
static void expect_served(struct itest_srv *s, const char *line, const char *want)
{
    int fd = itest_connect(s);

    expect_served_fd(fd, line, want);
    close(fd);
}

/* A TCP connection to s made by a plain blocking connect (it completes in
 * the kernel, before the server accepts it, so a server that resets it at
 * once cannot make it fail, as nr_connect_tcp's check would). */
static int raw_connect(struct itest_srv *s)
{
    int fd = socket(s->addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&s->addr.ss, s->addr.len) < 0)
        fail_msg("connect: %s", strerror(errno));
    return fd;
}

/* The server must end connection fd (EOF or reset) within 3 s without
 * sending anything on it; closes fd. */
static void expect_dropped_fd(int fd)
{
    char c;

    if (nr_wait_fd(fd, POLLIN, 3000) <= 0)
        fail_msg("the server neither answered nor dropped the client within 3 s");
    if (nr_read(fd, &c, 1) > 0)
        fail_msg("the client was served (byte 0x%02x) where it should have been dropped",
                 (unsigned char)c);
    close(fd);
}

/* Connect a client the server will drop and send it line (a reset before
 * or while sending counts as dropped). */
static void expect_dropped(struct itest_srv *s, const char *line)
{
    int fd = raw_connect(s);

    if (nr_write_all(fd, line, strlen(line), 2000) < 0) {
        close(fd);
        return;
    }
    expect_dropped_fd(fd);
}

/* Start `name` (extra args NULL-terminated) under NR_FAULT=spec, counted
 * from its first accepted connection. */
static void start_faulty(struct itest_srv *s, struct fault *f, const char *spec, const char *name,
                         ...)
{
    va_list ap;

    itest_env = fault_env(f, spec, 1);
    va_start(ap, name);
    itest_vstart(s, name, -1, ap);
    va_end(ap);
    itest_env = NULL;
}

/* Stop s (it must exit 0) and assert the injector failed exactly `want`
 * calls. */
static void stop_faulty(struct itest_srv *s, struct fault *f, unsigned long want)
{
    itest_stop(s);
    assert_int_equal(fault_count(f, "injected"), want);
    fault_done(f);
}

/* Run `name` (extra args NULL-terminated, plus --port 0) under NR_FAULT=spec
 * from its start; it must exit 1 within 3 s, its stderr's first line being
 * exactly want.  Returns nothing; fails the test otherwise. */
static void expect_start_fails(const char *spec, const char *want, const char *name, ...)
{
    char path[512], errbuf[NR_ERRBUF_SIZE], dir[64], err[96], line[512], st[64];
    char *argv[16];
    int argc = 0;
    struct nr_proc p;
    struct fault f;
    va_list ap;
    FILE *fp;

    itest_bin(name, path, sizeof(path));
    argv[argc++] = path;
    va_start(ap, name);
    for (char *a; (a = va_arg(ap, char *)) && argc < 12;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc] = NULL;
    snprintf(dir, sizeof(dir), "/tmp/fault.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(err, sizeof(err), "%s/err", dir);
    struct nr_spawn sp = { .argv = argv, .env_extra = fault_env(&f, spec, 0), .stdout_path = "/dev/null",
                           .stderr_path = err, .activation_fd = -1 };
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("%s", errbuf);
    if (nr_proc_wait(&p, 3000) != 1) {
        int reaped;

        nr_proc_signal_main(&p, SIGKILL); /* it may have left its process group */
        reaped = nr_proc_kill(&p, 5000);
        fail_msg("%s under %s: still running after 3 s%s", name, spec,
                 reaped ? " (killed)" : ", and not reaped within 5 s of SIGKILL");
    }
    nr_status_str(p.status, st, sizeof(st));
    fp = fopen(err, "r");
    assert_non_null(fp);
    if (!fgets(line, sizeof(line), fp))
        line[0] = '\0';
    fclose(fp);
    line[strcspn(line, "\n")] = '\0';
    unlink(err);
    rmdir(dir);
    nr_proc_release(&p);
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 1)
        fail_msg("%s under %s ended with %s (stderr '%s'), want exit 1", name, spec, st, line);
    if (strcmp(line, want) != 0)
        fail_msg("%s under %s: stderr '%s', want '%s'", name, spec, line, want);
    assert_int_equal(fault_count(&f, "injected"), 1);
    fault_done(&f);
}

/* tcp-time cannot register the listening socket (its table of descriptors
 * cannot grow): it says so and exits 1. */
static void time_table_oom_at_start(void **state)
{
    (void)state;
    expect_start_fails("realloc:1", "tcp-time: Cannot allocate memory", "tcp-time", NULL);
}

/* tcp-time cannot allocate its server, its read buffer or its event loop
 * (the first calloc, the first malloc, the second calloc after start-up):
 * it says so and exits 1. */
static void time_create_oom(void **state)
{
    (void)state;
    expect_start_fails("calloc:1", "tcp-time: out of memory", "tcp-time", NULL);
    expect_start_fails("malloc:1", "tcp-time: out of memory", "tcp-time", NULL);
    expect_start_fails("calloc:2", "tcp-time: out of memory", "tcp-time", NULL);
}

/* tcp-time's wait for events failing (epoll_wait: EINVAL) is fatal: it
 * says why and exits 1. */
static void time_wait_fails(void **state)
{
    char want[128];

    (void)state;
    snprintf(want, sizeof(want), "tcp-time: event loop: %s", strerror(EINVAL));
    expect_start_fails("epoll_wait:1", want, "tcp-time", NULL);
}

/* udp-echo cannot allocate its buffers: it says so and exits 1. */
static void udp_buffers_oom(void **state)
{
    (void)state;
    expect_start_fails("malloc:1", "udp-echo: out of memory", "udp-echo", NULL);
    expect_start_fails("malloc:2", "udp-echo: out of memory", "udp-echo", NULL);
}

/* udp-echo's wait for datagrams failing (poll: ENOMEM) is fatal: it says
 * why and exits 1. */
static void udp_poll_fails(void **state)
{
    char want[128];

    (void)state;
    snprintf(want, sizeof(want), "udp-echo: poll: %s", strerror(ENOMEM));
    expect_start_fails("poll:1", want, "udp-echo", NULL);
}

/* udp-echo's receive failing (recvmsg: ENOMEM) is logged with its cause;
 * the datagram, still queued, is answered by the next receive. */
static void udp_recv_fails(void **state)
{
    struct itest_srv s;
    struct fault f;
    char reply[64], want[128];
    ssize_t n;
    int fd;

    (void)state;
    itest_env = fault_env(&f, "recvmsg:1", 0);
    itest_start(&s, "udp-echo", NULL);
    itest_env = NULL;
    fd = socket(s.addr.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&s.addr.ss, s.addr.len), 0);
    assert_int_equal(send(fd, "ping", 4, 0), 4);
    if (nr_wait_fd(fd, POLLIN, 2000) <= 0)
        fail_msg("no reply within 2 s after a failed receive");
    n = recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
    assert_int_equal(n, 12);
    assert_memory_equal(reply, "Hello, ping!", 12);
    snprintf(want, sizeof(want), "udp-echo: recvmsg: %s", strerror(ENOMEM));
    itest_expect_log(&s, "udp-echo: recvmsg:", want);
    close(fd);
    stop_faulty(&s, &f, 1);
}

/* tcp-time cannot make a new client non-blocking: that client is closed
 * with the error logged, and the next one is served. */
static void time_client_nonblock_fails(void **state)
{
    struct itest_srv s;
    struct fault f;
    char want[160];
    int fd0;

    (void)state;
    start_faulty(&s, &f, "fcntl:1/22", "tcp-time", NULL);
    fd0 = itest_fd_count(&s);
    expect_dropped(&s, "a\n");
    snprintf(want, sizeof(want), "tcp-time: cannot serve a new connection: %s", strerror(EINVAL));
    itest_expect_log(&s, "tcp-time: cannot serve", want);
    assert_int_equal(itest_fd_settle(&s, fd0, 2000), fd0);
    expect_served(&s, "b\n", "] b");
    stop_faulty(&s, &f, 1);
}

/* tcp-time cannot watch a new client (epoll_ctl ADD fails): the client is
 * closed with the error logged, nothing of it is kept, the next is served,
 * and the server shuts down cleanly. */
static void time_client_watch_fails(void **state)
{
    struct itest_srv s;
    struct fault f;
    char want[160];
    int fd0;

    (void)state;
    start_faulty(&s, &f, "epoll_ctl:1", "tcp-time", NULL);
    fd0 = itest_fd_count(&s);
    expect_dropped(&s, "a\n");
    snprintf(want, sizeof(want), "tcp-time: cannot serve a new connection: %s", strerror(ENOSPC));
    itest_expect_log(&s, "tcp-time: cannot serve", want);
    assert_int_equal(itest_fd_settle(&s, fd0, 2000), fd0);
    expect_served(&s, "b\n", "] b");
    stop_faulty(&s, &f, 1);
}

/* A tcp-time client whose reply finds no memory (realloc), whose read
 * fails (ECONNRESET) or whose reply's write fails (EPIPE) is closed, its
 * log naming the cause after its connection line; no descriptor is kept
 * for it and the next client is served. */
static void time_client_error_closes(void **state)
{
    static const struct {
        const char *spec;
        int err;
    } cases[] = { { "realloc:1", ENOMEM }, { "read:1/104", ECONNRESET }, { "write:1/32", EPIPE } };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct itest_srv s;
        struct fault f;
        char want[160], peer[NR_ADDRSTR_SIZE];
        int fd, fd0;

        start_faulty(&s, &f, cases[i].spec, "tcp-time", NULL);
        fd0 = itest_fd_count(&s);
        fd = itest_connect(&s);
        itest_peer_name(fd, peer, sizeof(peer));
        assert_int_equal(nr_write_all(fd, "a\n", 2, 2000), 0);
        expect_dropped_fd(fd);
        snprintf(want, sizeof(want), "tcp-time: connection from %s", peer);
        itest_expect_log(&s, "tcp-time: connection from", want);
        snprintf(want, sizeof(want), "tcp-time: %s: closed (%s)", peer, strerror(cases[i].err));
        itest_expect_log(&s, "tcp-time: 127.0.0.1:", want);
        assert_int_equal(itest_fd_settle(&s, fd0, 2000), fd0);
        expect_served(&s, "b\n", "] b");
        stop_faulty(&s, &f, 1);
    }
}

/* tcp-time cannot change what it watches for a client (epoll_ctl MOD
 * fails once the client stops reading and replies wait): that client is
 * closed saying why, the next one is served. */
static void time_client_rewatch_fails(void **state)
{
    static char chunk[65536];
    struct itest_srv s;
    struct fault f;
    char want[160], peer[NR_ADDRSTR_SIZE];
    int fd, fd0;
    size_t sent = 0;

    (void)state;
    memset(chunk, 'z', sizeof(chunk));
    start_faulty(&s, &f, "epoll_ctl:2", "tcp-time", NULL);
    fd0 = itest_fd_count(&s);
    fd = itest_connect(&s);
    itest_peer_name(fd, peer, sizeof(peer));
    /* send without reading until the server drops the connection */
    while (sent < (64u << 20)) {
        ssize_t n;
        if (nr_wait_fd(fd, POLLOUT, 3000) <= 0)
            fail_msg("the client stalled after %zu bytes and was not closed", sent);
        n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN)
            continue;
        if (n < 0)
            break;
        sent += (size_t)n;
    }
    close(fd);
    snprintf(want, sizeof(want), "tcp-time: %s: closed (%s)", peer, strerror(ENOSPC));
    itest_expect_log(&s, "tcp-time: 127.0.0.1:", want);
    assert_int_equal(itest_fd_settle(&s, fd0, 2000), fd0);
    expect_served(&s, "b\n", "] b");
    stop_faulty(&s, &f, 1);
}

/* tcp-echo-mt cannot start a thread for a connection: it logs why, resets
 * that client, keeps no descriptor for it and serves the next. */
static void echo_mt_thread_fails(void **state)
{
    struct itest_srv s;
    struct fault f;
    char want[200], peer[NR_ADDRSTR_SIZE];
    int fd, fd0;

    (void)state;
    start_faulty(&s, &f, "pthread_create:1", "tcp-echo-mt", NULL);
    fd0 = itest_fd_count(&s);
    fd = raw_connect(&s);
    itest_peer_name(fd, peer, sizeof(peer));
    expect_dropped_fd(fd);
    snprintf(want, sizeof(want), "tcp-echo-mt: %s: refused: cannot start a thread: %s", peer,
             strerror(EAGAIN));
    itest_expect_log(&s, "tcp-echo-mt: 127.0.0.1:", want);
    assert_int_equal(itest_fd_settle(&s, fd0, 2000), fd0);
    expect_served(&s, "echo me\n", "echo me\n");
    stop_faulty(&s, &f, 1);
}

/* tcp-echo-mt cannot create its stop eventfd: it says so and exits 1. */
static void echo_mt_init_fails(void **state)
{
    char want[160];

    (void)state;
    snprintf(want, sizeof(want), "tcp-echo-mt: eventfd: %s", strerror(EMFILE));
    expect_start_fails("eventfd:1", want, "tcp-echo-mt", NULL);
}

/* tcp-echo cannot make its second connection non-blocking (the first one
 * took two fcntl calls, F_GETFL and F_SETFL): the client is closed and the
 * log line names the error and 0 bytes echoed (not the first client's
 * count); the next is served. */
static void echo_nonblock_fails(void **state)
{
    struct itest_srv s;
    struct fault f;
    char want[200], prefix[160], peer[NR_ADDRSTR_SIZE];
    int fd;

    (void)state;
    start_faulty(&s, &f, "fcntl:3/22", "tcp-echo", NULL);
    expect_served(&s, "echo me\n", "echo me\n");
    fd = itest_connect(&s);
    itest_peer_name(fd, peer, sizeof(peer));
    expect_dropped_fd(fd);
    snprintf(want, sizeof(want), "tcp-echo: %s: %s after 0 bytes echoed", peer, strerror(EINVAL));
    snprintf(prefix, sizeof(prefix), "tcp-echo: %s: %s after", peer, strerror(EINVAL));
    itest_expect_log(&s, prefix, want);
    expect_served(&s, "echo me\n", "echo me\n");
    stop_faulty(&s, &f, 1);
}

/* The lowest descriptor number the server does not hold (the next one
 * it would get). */
static int lowest_free_fd(struct itest_srv *s)
{
    char path[64];

    for (int fd = 0;; fd++) {
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)s->proc.pid, fd);
        if (access(path, F_OK) != 0)
            return fd;
    }
}

/* Lines of the server's log so far that start with prefix and end with
 * suffix (ending 1) or do not (ending 0). */
static int log_lines(struct itest_srv *s, const char *prefix, const char *suffix, int ending)
{
    char line[512];
    FILE *fp = fopen(s->err, "r");
    int n = 0;

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        size_t len = strcspn(line, "\n");
        line[len] = '\0';
        n += !strncmp(line, prefix, strlen(prefix)) &&
             (len >= strlen(suffix) && !strcmp(line + len - strlen(suffix), suffix)) == ending;
    }
    fclose(fp);
    return n;
}

/* tcp-time out of descriptors (its RLIMIT_NOFILE lowered to what it holds
 * with one client): the next connection is shed with one log line saying
 * so and no other "accept:" error (errno is kept for the caller), the client
 * in service is not disturbed, and with the limit raised again a new
 * client is served. */
static void time_sheds_at_fd_limit(void **state)
{
    struct rlimit rl;
    struct itest_srv s;
    char want[160];
    int a, b;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    a = itest_connect(&s);
    assert_int_equal(nr_write_all(a, "a\n", 2, 2000), 0);
    {
        char buf[64];
        ssize_t n;
        assert_int_equal(nr_wait_fd(a, POLLIN, 3000), 1);
        n = nr_read(a, buf, sizeof(buf));
        assert_true(n > 0);
    }
    struct rlimit old;
    if (prlimit(s.proc.pid, RLIMIT_NOFILE, NULL, &old) < 0)
        fail_msg("prlimit: %s", strerror(errno));
    rl = old;
    rl.rlim_cur = (rlim_t)lowest_free_fd(&s);
    assert_int_equal(prlimit(s.proc.pid, RLIMIT_NOFILE, &rl, NULL), 0);
    b = itest_connect(&s);
    expect_dropped_fd(b);
    snprintf(want, sizeof(want), "tcp-time: accept: %s: shedding one connection", strerror(EMFILE));
    itest_expect_log(&s, "tcp-time: accept:", want);
    expect_served_fd(a, "still\n", "] still");
    close(a);
    assert_int_equal(prlimit(s.proc.pid, RLIMIT_NOFILE, &old, NULL), 0);
    expect_served(&s, "c\n", "] c");
    assert_int_equal(log_lines(&s, "tcp-time: accept:", ": shedding one connection", 0), 0);
    /* one connection came, one was shed: one line (the burst that accept
     * hook runs in must stop when nothing more waits, not shed 64 times) */
    assert_int_equal(log_lines(&s, "tcp-time: accept:", ": shedding one connection", 1), 1);
    itest_stop(&s);
}

/* The listen backlog (128, as srv.c asks; capped by somaxconn): while
 * tcp-echo serves one client, 129 more connections complete their
 * handshake in its accept queue (Linux keeps backlog + 1) and the next one
 * does not; once the first client leaves, all queued ones are served. */
static void echo_accept_backlog(void **state)
{
    enum { TRY = 140 };
    struct itest_srv s;
    int fds[TRY], busy, done = 0, want = 128;
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    int64_t deadline;

    (void)state;
    if (f) {
        int max;
        if (fscanf(f, "%d", &max) == 1 && max < want)
            want = max;
        fclose(f);
    }
    want += 1;
    itest_start(&s, "tcp-echo", NULL);
    busy = itest_connect(&s);
    expect_served_fd(busy, "hold\n", "hold\n"); /* the server is in this connection now */
    for (int i = 0; i < TRY; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(fds[i] >= 0);
        if (connect(fds[i], (struct sockaddr *)&s.addr.ss, s.addr.len) < 0 && errno != EINPROGRESS)
            fail_msg("connect %d: %s", i, strerror(errno));
    }
    /* the handshakes the queue takes complete at once; the others' SYNs are
     * dropped and retried only after a second */
    deadline = nr_now_ms() + 300;
    for (int i = 0; i < TRY; i++) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (nr_wait_fd(fds[i], POLLOUT, nr_ms_left(deadline)) > 0 &&
            getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
            done++;
    }
    for (int i = 0; i < TRY; i++)
        close(fds[i]);
    close(busy);
    if (done != want)
        fail_msg("%d connections completed while the server was busy, want %d (backlog + 1)", done,
                 want);
    expect_served(&s, "after\n", "after\n");
    itest_stop(&s);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(time_table_oom_at_start),
        cmocka_unit_test(time_create_oom),
        cmocka_unit_test(time_wait_fails),
        cmocka_unit_test(udp_buffers_oom),
        cmocka_unit_test(udp_recv_fails),
        cmocka_unit_test(udp_poll_fails),
        cmocka_unit_test(time_client_nonblock_fails),
        cmocka_unit_test(time_client_watch_fails),
        cmocka_unit_test(time_client_error_closes),
        cmocka_unit_test(time_client_rewatch_fails),
        cmocka_unit_test(echo_mt_thread_fails),
        cmocka_unit_test(echo_mt_init_fails),
        cmocka_unit_test(echo_nonblock_fails),
        cmocka_unit_test(time_sheds_at_fd_limit),
        cmocka_unit_test(echo_accept_backlog),
    };
    /* NR_TEST_FILTER="time_*": only those cases (ci/mutate.map runs the
     * tcp-time ones against the ASan tcp-time) */
    if (getenv("NR_TEST_FILTER") && *getenv("NR_TEST_FILTER"))
        cmocka_set_test_filter(getenv("NR_TEST_FILTER"));
    /* a failed check leaves the server running: each case's teardown ends it */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
