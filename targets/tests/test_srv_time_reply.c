/* Unit tests: tcp-time's reply formatting at its limits, and the reactor
 * server driven through socketpairs with a fixed clock. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../harness/tests/heap_exact.h"
#include "fault_inproc.h"
#include "nr_net.h"
#include "tcp-time/time_reply.h"
#include "tcp-time/tt_server.h"

#define T0 ((time_t)1795456539) /* Mon Nov 23 17:55:39 2026 UTC */
#define P0 "[Mon Nov 23 17:55:39 2026] "

static int utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC0", 1);
    tzset();
    return 0;
}

static void fixed_time_exact_string(void **state)
{
    uint8_t out[64];
    long n;

    (void)state;
    n = tt_reply_format(T0, (const uint8_t *)"hello\n", 6, out, sizeof(out), NULL);
    assert_int_equal(n, TT_PREFIX_LEN + 6);
    assert_memory_equal(out, P0 "hello\n", (size_t)n);
    /* A single-digit day is space-padded, as ctime does. */
    n = tt_reply_format(0, (const uint8_t *)"x", 1, out, sizeof(out), NULL);
    assert_int_equal(n, 28);
    assert_memory_equal(out, "[Thu Jan  1 00:00:00 1970] x", 28);
}

static void matches_ctime(void **state)
{
    static const time_t ts[] = { 0, 86399, 951782400, 1234567890, T0, 4102444799 };
    char want[64], *nl;
    uint8_t out[64];
    long n;

    (void)state;
    setenv("TZ", "America/New_York", 1);
    tzset();
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        assert_non_null(ctime_r(&ts[i], want + 1));
        want[0] = '[';
        nl = strchr(want, '\n');
        assert_non_null(nl);
        memcpy(nl, "] ", 3);
        n = tt_reply_format(ts[i], NULL, 0, out, sizeof(out), NULL);
        assert_int_equal(n, (long)strlen(want));
        assert_memory_equal(out, want, (size_t)n);
    }
    utc(NULL);
}

/* Every weekday and every month, against ctime (a name table or a range
 * check off by one at either end shows): Sun 1 Jan 2023 and the six days
 * after it, then 32-day steps through the twelve months. */
static void every_weekday_and_month(void **state)
{
    char want[64], *nl;
    uint8_t out[64];
    long n;

    (void)state;
    for (int k = 0; k < 7 + 12; k++) {
        time_t t = (time_t)1672531200 + (k < 7 ? k : (k - 7) * 32) * 86400;

        assert_non_null(ctime_r(&t, want + 1));
        want[0] = '[';
        nl = strchr(want, '\n');
        assert_non_null(nl);
        memcpy(nl, "] ", 3);
        n = tt_reply_format(t, (const uint8_t *)"d", 1, out, sizeof(out), NULL);
        if (n != (long)strlen(want) + 1 || memcmp(out, want, strlen(want)) != 0)
            fail_msg("time %lld: '%.*s', want '%sd'", (long long)t, n > 0 ? (int)n : 0, out, want);
    }
}

static void size_limits(void **state)
{
    static const uint8_t data[] = "some data";
    uint8_t out[TT_PREFIX_LEN + 9 + 1];
    size_t need = 0;

    (void)state;
    memset(out, 0xAA, sizeof(out));
    /* Exact fit: writes exactly cap bytes, nothing beyond. */
    assert_int_equal(tt_reply_format(T0, data, 9, out, TT_PREFIX_LEN + 9, &need), TT_PREFIX_LEN + 9);
    assert_memory_equal(out, P0 "some data", TT_PREFIX_LEN + 9);
    assert_int_equal(out[TT_PREFIX_LEN + 9], 0xAA);
    /* One byte short. */
    assert_int_equal(tt_reply_format(T0, data, 9, out, TT_PREFIX_LEN + 8, &need), -E2BIG);
    assert_int_equal(need, TT_PREFIX_LEN + 9);
    /* Empty data: the prefix alone; then one byte short of it; then no room. */
    assert_int_equal(tt_reply_format(T0, NULL, 0, out, TT_PREFIX_LEN, NULL), TT_PREFIX_LEN);
    assert_memory_equal(out, P0, TT_PREFIX_LEN);
    assert_int_equal(tt_reply_format(T0, NULL, 0, out, TT_PREFIX_LEN - 1, &need), -E2BIG);
    assert_int_equal(need, TT_PREFIX_LEN);
    assert_int_equal(tt_reply_format(T0, data, 9, NULL, 0, &need), -E2BIG);
    /* Huge lengths do not wrap around. */
    assert_int_equal(tt_reply_format(T0, data, SIZE_MAX, out, sizeof(out), &need), -E2BIG);
    assert_int_equal(need, SIZE_MAX);
}

static void beyond_calendar(void **state)
{
    uint8_t out[64];

    (void)state;
    if (sizeof(time_t) < 8)
        skip();
    assert_int_equal(tt_reply_format((time_t)INT64_MAX, NULL, 0, out, sizeof(out), NULL),
                     -EOVERFLOW);
}

/* --- the server through socketpairs ---------------------------------- */

static time_t fixed_clock(void *ctx)
{
    return *(time_t *)ctx;
}

/* Run the server until `want` bytes are readable on fd or 2 s pass. */
static void pump_read(struct tt_server *s, int fd, void *buf, size_t want)
{
    int64_t deadline = nr_now_ms() + 2000;
    size_t got = 0;

    while (got < want) {
        ssize_t n;
        assert_true(tt_server_run_once(s, 10) >= 0);
        if (nr_wait_fd(fd, POLLIN, 0) <= 0) {
            if (nr_ms_left(deadline) == 0)
                fail_msg("only %zu of %zu bytes", got, want);
            continue;
        }
        n = nr_read(fd, (char *)buf + got, want - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
}

/* Assert the server closed its end of the socketpair whose other end is
 * fd: EOF within 2 s (the pair blocks: a read could wait for ever). */
static void expect_closed(int fd, const char *what)
{
    char c;

    if (nr_wait_fd(fd, POLLIN, 2000) <= 0)
        fail_msg("%s: no EOF on fd %d within 2 s", what, fd);
    assert_int_equal(nr_read(fd, &c, 1), 0);
}

static struct tt_server *new_server(time_t *now, size_t read_size)
{
    struct tt_config cfg = { .clock = fixed_clock, .ctx = now,
                             .read_size = read_size };
    char errbuf[NR_ERRBUF_SIZE];
    struct tt_server *s = tt_server_create(&cfg, errbuf);

    if (!s)
        fail_msg("%s", errbuf);
    return s;
}

static void server_replies_then_closes_on_eof(void **state)
{
    time_t now = T0;
    struct tt_server *s = new_server(&now, 0);
    char buf[64];
    int sp[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    assert_int_equal(tt_server_add_client(s, sp[1], NULL), 0);
    assert_int_equal(tt_server_clients(s), 1);
    assert_int_equal(write(sp[0], "hello\n", 6), 6);
    pump_read(s, sp[0], buf, TT_PREFIX_LEN + 6);
    assert_memory_equal(buf, P0 "hello\n", TT_PREFIX_LEN + 6);
    now = 0;
    assert_int_equal(write(sp[0], "x", 1), 1);
    assert_int_equal(shutdown(sp[0], SHUT_WR), 0);
    pump_read(s, sp[0], buf, 28);
    assert_memory_equal(buf, "[Thu Jan  1 00:00:00 1970] x", 28);
    for (int i = 0; i < 100 && tt_server_clients(s) > 0; i++)
        assert_true(tt_server_run_once(s, 10) >= 0);
    assert_int_equal(tt_server_clients(s), 0);
    expect_closed(sp[0], "the client after its EOF");
    close(sp[0]);
    tt_server_destroy(s);
}

static void one_reply_per_read_chunk(void **state)
{
    time_t now = T0;
    struct tt_server *s = new_server(&now, 10);
    char data[100], want[10 * (TT_PREFIX_LEN + 10)], got[sizeof(want)];
    int sp[2];

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('0' + i % 10);
    for (size_t i = 0; i < 10; i++) {
        memcpy(want + i * (TT_PREFIX_LEN + 10), P0, TT_PREFIX_LEN);
        memcpy(want + i * (TT_PREFIX_LEN + 10) + TT_PREFIX_LEN, data + 10 * i, 10);
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    assert_int_equal(tt_server_add_client(s, sp[1], NULL), 0);
    assert_int_equal(write(sp[0], data, sizeof(data)), (ssize_t)sizeof(data));
    pump_read(s, sp[0], got, sizeof(got));
    assert_memory_equal(got, want, sizeof(want));
    close(sp[0]);
    for (int i = 0; i < 100 && tt_server_clients(s) > 0; i++)
        assert_true(tt_server_run_once(s, 10) >= 0);
    assert_int_equal(tt_server_clients(s), 0);
    tt_server_destroy(s);
}

static void destroy_closes_clients(void **state)
{
    time_t now = T0;
    struct tt_server *s = new_server(&now, 0);
    int sp[3][2];

    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp[i]), 0);
        assert_int_equal(tt_server_add_client(s, sp[i][1], NULL), 0);
    }
    assert_int_equal(tt_server_clients(s), 3);
    assert_int_equal(tt_server_add_client(s, -1, NULL), -EBADF);
    tt_server_destroy(s);
    for (int i = 0; i < 3; i++) {
        expect_closed(sp[i][0], "a client at tt_server_destroy");
        close(sp[i][0]);
    }
}

/* The server's log lines, kept for the test to read. */
struct log {
    char lines[8][320];
    int n;
};

static void keep_log(void *ctx, const char *line)
{
    struct log *lg = ctx;

    if (lg->n < 8)
        snprintf(lg->lines[lg->n++], sizeof(lg->lines[0]), "%s", line);
}

static time_t log_clock(void *ctx)
{
    (void)ctx;
    return T0;
}

/* A server whose log goes to *lg and whose clock says T0. */
static struct tt_server *logged_server(struct log *lg, size_t read_size)
{
    struct tt_config cfg = { .clock = log_clock, .log = keep_log, .ctx = lg,
                             .read_size = read_size };
    char errbuf[NR_ERRBUF_SIZE];
    struct tt_server *s = tt_server_create(&cfg, errbuf);

    if (!s)
        fail_msg("%s", errbuf);
    lg->n = 0;
    return s;
}

/* A clock beyond what the calendar can show: the reply is dated as of the
 * epoch, not refused. */
static void clock_beyond_calendar(void **state)
{
    time_t now = (time_t)INT64_MAX;
    struct tt_server *s = new_server(&now, 0);
    char buf[64];
    int sp[2];

    (void)state;
    if (sizeof(time_t) < 8)
        skip();
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    assert_int_equal(tt_server_add_client(s, sp[1], NULL), 0);
    assert_int_equal(write(sp[0], "late", 4), 4);
    pump_read(s, sp[0], buf, 31);
    assert_memory_equal(buf, "[Thu Jan  1 00:00:00 1970] late", 31);
    close(sp[0]);
    tt_server_destroy(s);
}

/* A copy of descriptor 0 while a case puts a client there, else -1: a
 * failed check skips the case's fd0_restore, and fd0_end (its teardown)
 * puts descriptor 0 back before heap_exact_end judges, so later cases
 * find it as before. */
static int saved_fd0 = -1;

static void fd0_save(void)
{
    saved_fd0 = fcntl(0, F_DUPFD_CLOEXEC, 3);
    assert_true(saved_fd0 >= 0);
}

static void fd0_restore(void)
{
    assert_int_equal(dup2(saved_fd0, 0), 0);
    close(saved_fd0);
    saved_fd0 = -1;
}

static int fd0_end(void **state)
{
    if (saved_fd0 >= 0) {
        print_message("teardown: descriptor 0 put back\n");
        fd0_restore();
    }
    return heap_exact_end(state);
}

/* With no accept hook the server accepts by itself: a TCP client is
 * served and logged by its address; a client may be descriptor 0. */
static void own_accept_and_descriptor_zero(void **state)
{
    struct log lg;
    struct tt_server *s = logged_server(&lg, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sin);
    char buf[64], want[128], name[NR_ADDRSTR_SIZE];
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd, sp[2];

    (void)state;
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
    assert_int_equal(tt_server_listen(s, lfd), 0);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    sl = sizeof(sin);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    nr_addr_format((struct sockaddr *)&sin, name, sizeof(name));
    assert_int_equal(write(fd, "tcp", 3), 3);
    pump_read(s, fd, buf, TT_PREFIX_LEN + 3);
    assert_memory_equal(buf, P0 "tcp", TT_PREFIX_LEN + 3);
    snprintf(want, sizeof(want), "connection from %s", name);
    assert_true(lg.n >= 1);
    assert_string_equal(lg.lines[0], want);
    assert_int_equal(tt_server_clients(s), 1);

    /* descriptor 0, a socketpair end: served, named by its number */
    fd0_save();
    close(0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    assert_int_equal(sp[0], 0);
    assert_int_equal(tt_server_add_client(s, 0, NULL), 0);
    assert_string_equal(lg.lines[1], "connection from fd 0");
    assert_int_equal(write(sp[1], "zero", 4), 4);
    pump_read(s, sp[1], buf, TT_PREFIX_LEN + 4);
    assert_memory_equal(buf, P0 "zero", TT_PREFIX_LEN + 4);
    assert_int_equal(tt_server_clients(s), 2);
    tt_server_destroy(s);
    expect_closed(sp[1], "descriptor 0 at tt_server_destroy");
    assert_int_equal(fcntl(0, F_GETFD), -1);
    close(sp[1]);
    fd0_restore();
    close(fd);
    close(lfd);
}

/* A client is named by its IPv4 or IPv6 address, anything else by its
 * descriptor number. */
static void client_names(void **state)
{
    struct log lg;
    struct tt_server *s = logged_server(&lg, 0);
    struct nr_addr a = { 0 };
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;
    char want[64];
    int sp[3][2];

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp[i]), 0);
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_loopback;
    s6->sin6_port = htons(4242);
    a.len = sizeof(*s6);
    assert_int_equal(tt_server_add_client(s, sp[0][1], &a), 0);
    assert_string_equal(lg.lines[0], "connection from [::1]:4242");
    a.ss.ss_family = AF_UNIX;
    a.len = sizeof(sa_family_t) + 1;
    assert_int_equal(tt_server_add_client(s, sp[1][1], &a), 0);
    snprintf(want, sizeof(want), "connection from fd %d", sp[1][1]);
    assert_string_equal(lg.lines[1], want);
    a.ss.ss_family = AF_INET6;
    a.len = 0; /* no address at all */
    assert_int_equal(tt_server_add_client(s, sp[2][1], &a), 0);
    snprintf(want, sizeof(want), "connection from fd %d", sp[2][1]);
    assert_string_equal(lg.lines[2], want);
    tt_server_destroy(s);
    for (int i = 0; i < 3; i++)
        close(sp[i][0]);
}

/* Every allocation failing in turn: the server is not created ("out of
 * memory" in errbuf), a client is refused (-ENOMEM, its descriptor
 * closed; so too when it cannot be made non-blocking or watched), a client whose reply finds no memory is closed saying why, and
 * the others go on. */
static void allocations_fail(void **state)
{
    static const char *const create[] = { "calloc:1", "malloc:1", "calloc:2" };
    struct tt_config cfg = { 0 };
    char errbuf[NR_ERRBUF_SIZE], buf[64], want[128];
    struct tt_server *s;
    struct log lg;
    int sp[2], sq[2];

    (void)state;
    for (size_t i = 0; i < sizeof(create) / sizeof(create[0]); i++) {
        strcpy(errbuf, "untouched");
        fault_inproc_set(create[i]);
        s = tt_server_create(&cfg, errbuf);
        assert_int_equal(fault_inproc_off(), 1);
        assert_null(s);
        assert_string_equal(errbuf, "out of memory");
    }
    s = logged_server(&lg, 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    fault_inproc_set("calloc:1");
    assert_int_equal(tt_server_add_client(s, sp[1], NULL), -ENOMEM);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(fcntl(sp[1], F_GETFD), -1);
    expect_closed(sp[0], "a client refused for want of memory");
    close(sp[0]);
    /* nor when it cannot be made non-blocking or watched */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        fault_inproc_set(i ? "epoll_ctl:1" : "fcntl:1");
        assert_int_equal(tt_server_add_client(s, sp[1], NULL), i ? -ENOSPC : -EBADF);
        assert_int_equal(fault_inproc_off(), 1);
        assert_int_equal(fcntl(sp[1], F_GETFD), -1);
        expect_closed(sp[0], i ? "a client epoll_ctl refused" : "a client fcntl refused");
        close(sp[0]);
    }
    assert_int_equal(tt_server_clients(s), 0);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sq), 0);
    assert_int_equal(tt_server_add_client(s, sp[1], NULL), 0);
    assert_int_equal(tt_server_add_client(s, sq[1], NULL), 0);
    assert_int_equal(write(sp[0], "a", 1), 1);
    fault_inproc_set("realloc:1");
    for (int i = 0; i < 100 && tt_server_clients(s) == 2; i++)
        assert_true(tt_server_run_once(s, 10) >= 0);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(tt_server_clients(s), 1);
    expect_closed(sp[0], "a client whose reply found no memory");
    snprintf(want, sizeof(want), "fd %d: closed (%s)", sp[1], strerror(ENOMEM));
    assert_string_equal(lg.lines[lg.n - 1], want);
    assert_int_equal(write(sq[0], "b", 1), 1);
    pump_read(s, sq[0], buf, TT_PREFIX_LEN + 1);
    assert_memory_equal(buf, P0 "b", TT_PREFIX_LEN + 1);
    tt_server_destroy(s);
    close(sp[0]);
    close(sq[0]);
}

/* An accept hook that returns a script of results, then -EAGAIN. */
struct acc {
    struct log lg; /* first: keep_log reads the context as a struct log */
    int results[80];
    int n, calls;
};

static int scripted_accept(void *ctx, int listen_fd, struct nr_addr *peer)
{
    struct acc *a = ctx;

    (void)listen_fd;
    peer->len = 0;
    return a->calls < a->n ? a->results[a->calls++] : (a->calls++, -EAGAIN);
}

/* One readiness of the listening socket: transient accept errors
 * (EINTR, ECONNABORTED, EPROTO, and EMFILE or ENFILE from the hook, which
 * shed a connection) are passed over silently, a connection (here on
 * descriptor 0) is served, EAGAIN ends the round silently; any other error
 * is logged and ends the round; a round makes at most 64 accepts. */
static void accept_errors(void **state)
{
    struct acc a = { .results = { -EINTR, -ECONNABORTED, -EPROTO, -EMFILE, -ENFILE, 0 }, .n = 6 };
    struct tt_config cfg = { .clock = log_clock, .log = keep_log, .accept = scripted_accept,
                             .ctx = &a };
    char errbuf[NR_ERRBUF_SIZE], buf[64], want[128];
    struct tt_server *s = tt_server_create(&cfg, errbuf);
    int lsv[2], csv[2];

    (void)state;
    assert_non_null(s);
    fd0_save();
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, lsv), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, csv), 0);
    assert_int_equal(dup2(csv[1], 0), 0);
    close(csv[1]);
    assert_int_equal(tt_server_listen(s, lsv[0]), 0);
    assert_int_equal(write(lsv[1], "!", 1), 1); /* "a connection waits" */
    assert_int_equal(tt_server_run_once(s, 1000), 1);
    assert_int_equal(a.calls, 7);
    assert_int_equal(a.lg.n, 1);
    assert_string_equal(a.lg.lines[0], "connection from fd 0");
    assert_int_equal(tt_server_clients(s), 1);
    assert_int_equal(write(csv[0], "ok", 2), 2);
    pump_read(s, csv[0], buf, TT_PREFIX_LEN + 2);
    assert_memory_equal(buf, P0 "ok", TT_PREFIX_LEN + 2);

    a.results[0] = -ENOMEM;
    a.n = 1;
    a.calls = 0;
    assert_int_equal(tt_server_run_once(s, 1000), 1);
    assert_int_equal(a.calls, 1);
    snprintf(want, sizeof(want), "accept: %s", strerror(ENOMEM));
    assert_int_equal(a.lg.n, 2);
    assert_string_equal(a.lg.lines[1], want);

    /* at most a burst of 64 accepts per readiness */
    for (int i = 0; i < 70; i++)
        a.results[i] = -EMFILE;
    a.n = 70;
    a.calls = 0;
    assert_int_equal(tt_server_run_once(s, 1000), 1);
    assert_int_equal(a.calls, 64);
    tt_server_destroy(s);
    fd0_restore();
    close(csv[0]);
    close(lsv[0]);
    close(lsv[1]);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(fixed_time_exact_string),
        heap_exact_fds_test(matches_ctime), /* setenv keeps memory */
        heap_exact_fds_test(every_weekday_and_month),
        heap_exact_test(size_limits),
        heap_exact_test(beyond_calendar),
        heap_exact_test(server_replies_then_closes_on_eof),
        heap_exact_test(one_reply_per_read_chunk),
        heap_exact_test(destroy_closes_clients),
        heap_exact_test(clock_beyond_calendar),
        cmocka_unit_test_setup_teardown(own_accept_and_descriptor_zero, heap_exact_begin, fd0_end),
        heap_exact_test(client_names),
        heap_exact_test(allocations_fail),
        cmocka_unit_test_setup_teardown(accept_errors, heap_exact_begin, fd0_end),
    };
    (void)argc;
    heap_exact_init(argv);
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, utc, NULL);
}
