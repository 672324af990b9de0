/* Integration test: tcp-time over real sockets. */
#define _GNU_SOURCE
#include "itest.h"
#include "itest_reap.h"
#include "time_itest.h"

#include <regex.h>
#include <sys/resource.h>
#include <time.h>

#include "tcp-time/time_reply.h"

#define DATE_RE "\\[(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) " \
                "[ 123][0-9] [012][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}\\] "

/* Send data (a NUL-free string) and check the reply is "[date] data":
 * the format by regex, and the date within a day of ours (plausible; the
 * server and this test share the time zone). */
static void expect_reply(int fd, const char *data)
{
    size_t len = strlen(data);
    char buf[TT_PREFIX_LEN + 256];
    struct tm tm = { 0 };
    regex_t re;
    time_t t;

    assert_true(len < 256);
    assert_int_equal(nr_write_all(fd, data, len, 2000), 0);
    itest_read_exact(fd, buf, TT_PREFIX_LEN + len, 2000);
    buf[TT_PREFIX_LEN + len] = '\0';
    assert_int_equal(regcomp(&re, "^" DATE_RE, REG_EXTENDED | REG_NOSUB), 0);
    if (regexec(&re, buf, 0, NULL, 0) != 0)
        fail_msg("reply '%s' does not start with a ctime date", buf);
    regfree(&re);
    assert_string_equal(buf + TT_PREFIX_LEN, data);
    assert_non_null(strptime(buf + 1, "%a %b %d %H:%M:%S %Y", &tm));
    tm.tm_isdst = -1;
    t = mktime(&tm);
    assert_true(t > time(NULL) - 86400 && t < time(NULL) + 86400);
}

static void one_client(void **state)
{
    struct itest_srv s;
    int fd, base;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    base = itest_fd_count(&s);
    fd = itest_connect(&s);
    expect_reply(fd, "hello\n");
    expect_reply(fd, "again");
    itest_expect_idle(&s, 300); /* a connected client with nothing to say */
    close(fd);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

/* Stopped (SIGSTOP) and continued while waiting for events, tcp-time
 * goes on serving: the wait's EINTR on resumption is not an error.  (A
 * failed check leaves it stopped: the teardown kills it.) */
static void stopped_and_continued(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    fd = itest_connect(&s);
    expect_reply(fd, "before\n");
    assert_int_equal(kill(s.proc.pid, SIGSTOP), 0);
    itest_wait_state(&s, 'T'); /* stopped: a SIGCONT before would cancel the stop */
    assert_int_equal(kill(s.proc.pid, SIGCONT), 0);
    expect_reply(fd, "after\n");
    close(fd);
    itest_stop(&s);
}

static void concurrent(struct itest_srv *s, int n)
{
    char msg[64];
    int *fds = calloc((size_t)n, sizeof(int));

    assert_non_null(fds);
    for (int i = 0; i < n; i++)
        fds[i] = itest_connect(s);
    /* Every client sends before any reads, so all are connected at once. */
    for (int i = 0; i < n; i++) {
        snprintf(msg, sizeof(msg), "client %d\n", i);
        assert_int_equal(nr_write_all(fds[i], msg, strlen(msg), 2000), 0);
    }
    for (int i = n - 1; i >= 0; i--) {
        char buf[TT_PREFIX_LEN + 64];
        snprintf(msg, sizeof(msg), "client %d\n", i);
        itest_read_exact(fds[i], buf, TT_PREFIX_LEN + strlen(msg), 2000);
        assert_memory_equal(buf + TT_PREFIX_LEN, msg, strlen(msg));
        expect_reply(fds[i], "second\n");
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
}

static void two_and_hundred_clients(void **state)
{
    struct itest_srv s;
    int base;

    (void)state;
    itest_start(&s, "tcp-time", "-q", NULL);
    base = itest_fd_count(&s);
    concurrent(&s, 2);
    concurrent(&s, 100);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

/* Fill everything between a client that never reads and the server: the
 * client's writes must stall (the server stops reading it: backpressure).
 * Returns the number of bytes sent, pattern 'a'..'z' repeated. */
static size_t stall(int fd)
{
    static char chunk[65536];
    size_t sent = 0;

    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = (char)('a' + i % 26);
    assert_int_equal(nr_set_nonblock(fd, 1), 0);
    while (nr_wait_fd(fd, POLLOUT, 500) > 0) {
        ssize_t n = write(fd, chunk + sent % 26, sizeof(chunk) - 26);
        if (n < 0 && errno == EAGAIN)
            continue;
        assert_true(n > 0);
        sent += (size_t)n;
        if (sent > (64u << 20))
            fail_msg("64 MiB sent without stalling: no backpressure");
    }
    assert_int_equal(nr_set_nonblock(fd, 0), 0);
    return sent;
}

static void stalled_client_does_not_block_others(void **state)
{
    struct itest_srv s;
    size_t sent;
    int slow, fast, base;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    base = itest_fd_count(&s);
    slow = itest_connect(&s);
    sent = stall(slow);
    print_message("slow client stalled after %zu bytes\n", sent);
    itest_expect_idle(&s, 300); /* reads paused, output waiting for room */
    fast = itest_connect(&s);
    expect_reply(fast, "still served?\n");
    expect_reply(fast, "yes\n");
    close(fast);
    /* the slow client reads it all (the server frees its large buffer) and
     * is served again */
    ttest_replies(slow, sent, 1, 0);
    expect_reply(slow, "more\n");
    assert_int_equal(shutdown(slow, SHUT_WR), 0);
    ttest_drain(slow, 0, 0);
    close(slow);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

static void half_close_flushes_then_eof(void **state)
{
    struct itest_srv s;
    char buf[TT_PREFIX_LEN + 4];
    int fd;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    fd = itest_connect(&s);
    assert_int_equal(nr_write_all(fd, "bye\n", 4, 2000), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    itest_read_exact(fd, buf, sizeof(buf), 2000);
    assert_memory_equal(buf + TT_PREFIX_LEN, "bye\n", 4);
    itest_expect_eof(fd, 2000);
    close(fd);
    itest_stop(&s);
}

static void reset_client_then_others_served(void **state)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    struct itest_srv s;
    int fd, base;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    base = itest_fd_count(&s);
    for (int i = 0; i < 3; i++) {
        fd = itest_connect(&s);
        if (i > 0)
            assert_int_equal(nr_write_all(fd, "unread data", 11, 2000), 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        close(fd); /* linger 0: RST */
    }
    fd = itest_connect(&s);
    expect_reply(fd, "after resets\n");
    close(fd);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

static void ipv6(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start(&s, "tcp-time", "--bind", "::1", NULL);
    assert_int_equal(s.addr.ss.ss_family, AF_INET6);
    fd = itest_connect(&s);
    expect_reply(fd, "over IPv6\n");
    close(fd);
    itest_stop(&s);
}

static void socket_activation(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start_activated(&s, "tcp-time", SOCK_STREAM, NULL);
    fd = itest_connect(&s);
    expect_reply(fd, "activated\n");
    close(fd);
    itest_stop(&s);
}

/* SIGTERM with three clients connected: the log says so, and the server
 * exits 0 within 1 s. */
static void sigterm_with_clients(void **state)
{
    struct itest_srv s;
    int fds[3];

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    for (int i = 0; i < 3; i++)
        fds[i] = itest_connect(&s);
    expect_reply(fds[0], "hi\n");
    assert_int_equal(nr_write_all(fds[1], "pending", 7, 2000), 0);
    nr_proc_signal(&s.proc, SIGTERM);
    itest_expect_log(&s, "tcp-time: shutting down", "tcp-time: shutting down, closing 3 clients");
    itest_stop(&s); /* exit 0 within 1 s, clients still connected */
    for (int i = 0; i < 3; i++)
        close(fds[i]);
}

/* A client that shuts down its sending side: the log names it and the
 * replies still owed (none), and the server then closes the connection. */
static void client_eof_logged(void **state)
{
    struct itest_srv s;
    char name[NR_ADDRSTR_SIZE], prefix[NR_ADDRSTR_SIZE + 32], want[NR_ADDRSTR_SIZE + 64];
    int fd;

    (void)state;
    itest_start(&s, "tcp-time", NULL);
    fd = itest_connect(&s);
    itest_peer_name(fd, name, sizeof(name));
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    snprintf(prefix, sizeof(prefix), "tcp-time: %s: EOF", name);
    snprintf(want, sizeof(want), "tcp-time: %s: EOF, 0 bytes of replies pending", name);
    itest_expect_log(&s, prefix, want);
    itest_expect_eof(fd, 2000);
    close(fd);
    itest_stop(&s);
}

/* Send "x"; returns 1 when the reply comes, 0 when the server closed the
 * connection instead (EOF or reset), within 2 s. */
static int served(int fd)
{
    char buf[TT_PREFIX_LEN + 1];
    size_t got = 0;

    if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
        return 0;
    while (got < sizeof(buf)) {
        ssize_t n;
        if (nr_wait_fd(fd, POLLIN, 2000) <= 0)
            fail_msg("neither reply nor close within 2 s");
        n = nr_read(fd, buf + got, sizeof(buf) - got);
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
    return 1;
}

static void emfile_sheds_and_recovers(void **state)
{
    struct rlimit old, low;
    struct itest_srv s;
    int fds[16], nserved = 0, base;

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 16; /* inherited by the server: room for a few clients */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    itest_start(&s, "tcp-time", NULL);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    base = itest_fd_count(&s);
    assert_true(base < 16);
    for (int i = 0; i < 16; i++) {
        fds[i] = itest_connect(&s);
        nserved += served(fds[i]);
    }
    print_message("%d of 16 clients served at base %d fds\n", nserved, base);
    assert_true(nserved >= 1 && nserved < 16);
    for (int i = 0; i < 16; i++)
        close(fds[i]);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    fds[0] = itest_connect(&s);
    assert_int_equal(served(fds[0]), 1);
    close(fds[0]);
    itest_stop(&s);
}

/* --read-size 1: each byte is its own chunk and gets its own "[date] "
 * prefix; --out-cap does not change that. */
static void read_size_one(void **state)
{
    struct itest_srv s;
    char buf[2 * (TT_PREFIX_LEN + 1)];
    int fd;

    (void)state;
    itest_start(&s, "tcp-time", "--read-size", "1", "--out-cap", "4096", NULL);
    fd = itest_connect(&s);
    assert_int_equal(nr_write_all(fd, "a", 1, 2000), 0);
    itest_read_exact(fd, buf, TT_PREFIX_LEN + 1, 2000);
    assert_int_equal(nr_write_all(fd, "bc", 2, 2000), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    itest_read_exact(fd, buf, sizeof(buf), 2000);
    assert_int_equal(buf[0], '[');
    assert_int_equal(buf[TT_PREFIX_LEN], 'b');
    assert_int_equal(buf[TT_PREFIX_LEN + 1], '[');
    assert_int_equal(buf[2 * TT_PREFIX_LEN + 1], 'c');
    itest_expect_eof(fd, 2000);
    close(fd);
    itest_stop(&s);
}

static void bad_options(void **state)
{
    char *argv[] = { NULL, "--read-size", "0", NULL };
    char path[512], errbuf[NR_ERRBUF_SIZE];
    struct nr_spawn sp = { .argv = argv, .activation_fd = -1 };
    struct nr_proc p;

    (void)state;
    itest_bin("tcp-time", path, sizeof(path));
    argv[0] = path;
    assert_int_equal(nr_proc_spawn(&sp, &p, errbuf), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 2);
    nr_proc_release(&p);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(one_client),
        cmocka_unit_test(stopped_and_continued),
        cmocka_unit_test(read_size_one),
        cmocka_unit_test(two_and_hundred_clients),
        cmocka_unit_test(stalled_client_does_not_block_others),
        cmocka_unit_test(half_close_flushes_then_eof),
        cmocka_unit_test(reset_client_then_others_served),
        cmocka_unit_test(ipv6),
        cmocka_unit_test(socket_activation),
        cmocka_unit_test(sigterm_with_clients),
        cmocka_unit_test(client_eof_logged),
        cmocka_unit_test(emfile_sheds_and_recovers),
        cmocka_unit_test(bad_options),
    };
    /* a failed check leaves the server running: each case's teardown ends it */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
