/* Unit tests: tcp-time's reply formatting at its limits, and the reactor
 * server driven through socketpairs with a fixed clock. */
#include <errno.h>
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
    assert_int_equal(nr_read(sp[0], buf, 1), 0); /* EOF: the server closed its end */
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
    char c;
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
        assert_int_equal(nr_read(sp[i][0], &c, 1), 0);
        close(sp[i][0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_time_exact_string),
        cmocka_unit_test(matches_ctime),
        cmocka_unit_test_setup(every_weekday_and_month, utc),
        cmocka_unit_test(size_limits),
        cmocka_unit_test(beyond_calendar),
        cmocka_unit_test(server_replies_then_closes_on_eof),
        cmocka_unit_test(one_reply_per_read_chunk),
        cmocka_unit_test(destroy_closes_clients),
    };
    return cmocka_run_group_tests(tests, utc, NULL);
}
