/* Integration test: tcp-greet over a real socket. */
#include "itest.h"
#include "itest_reap.h"
#include "tcp-greet/greet.h"

static void greets_then_closes(void **state)
{
    struct itest_srv s;
    char buf[16];
    int fd, base;

    (void)state;
    itest_start(&s, "tcp-greet", NULL);
    base = itest_fd_count(&s);
    for (int i = 0; i < 3; i++) {
        fd = itest_connect(&s);
        itest_read_exact(fd, buf, 9, 2000);
        assert_memory_equal(buf, "Welcome!\n", 9);
        itest_expect_eof(fd, 2000);
        close(fd);
    }
    assert_int_equal(itest_fd_settle(&s, base, 1000), base);
    itest_stop(&s);
}

static void custom_utf8_message(void **state)
{
    static const char msg[] = "欢迎访问菜鸟教程！";
    struct itest_srv s;
    char buf[64];
    int fd;

    (void)state;
    itest_start(&s, "tcp-greet", "--message", msg, NULL);
    fd = itest_connect(&s);
    itest_read_exact(fd, buf, sizeof(msg), 2000);
    assert_memory_equal(buf, msg, sizeof(msg) - 1);
    assert_int_equal(buf[sizeof(msg) - 1], '\n');
    itest_expect_eof(fd, 2000);
    close(fd);
    itest_stop(&s);
}

static void validate_rejects_bad_lines(void **state)
{
    size_t bad = 0;

    (void)state;
    assert_int_equal(greet_validate((const uint8_t *)"ok", 2, &bad), 0);
    assert_int_equal(greet_validate((const uint8_t *)"a\nb", 3, &bad), -1);
    assert_int_equal(bad, 1);
    assert_int_equal(greet_validate((const uint8_t *)"\xc0\xaf", 2, &bad), -1); /* overlong */
    assert_int_equal(greet_validate((const uint8_t *)"\xed\xa0\x80", 3, &bad), -1); /* surrogate */
    assert_int_equal(greet_validate((const uint8_t *)"ab\xed\xa0\x80", 5, &bad), -1); /* surrogate */
    assert_int_equal(bad, 2);
    assert_int_equal(greet_validate((const uint8_t *)"\xe4\xbd", 2, &bad), -1); /* truncated */
    assert_int_equal(greet_validate((const uint8_t *)"\xf0\x9f\x98\x80", 4, &bad), 0);
    /* len ends the message: a sequence it cuts is truncated, whatever follows */
    assert_int_equal(greet_validate((const uint8_t *)"\xe4\xbd\xa0", 2, &bad), -1);
    assert_int_equal(bad, 0);
    assert_int_equal(greet_validate((const uint8_t *)"ab\xc3\xa9", 3, &bad), -1);
    assert_int_equal(bad, 2);
    assert_int_equal(greet_validate((const uint8_t *)"ab\xc3\xa9", 4, &bad), 0);
}

/* UTF-8 at every boundary of RFC 3629's table of well-formed sequences,
 * each alone and after "ab" (the bad offset must then be 2), so a range
 * off by one at either end or a missed check shows. */
static void validate_utf8_boundaries(void **state)
{
    static const struct {
        const char *seq;
        int ok;
    } v[] = {
        { "\x01", 1 }, { "\x7f", 1 }, { "\x80", 0 }, { "\xbf", 0 },
        { "\xc0\x80", 0 }, { "\xc1\xbf", 0 }, { "\xc2\x80", 1 }, { "\xdf\xbf", 1 },
        { "\xc2\x7f", 0 }, { "\xc2\xc0", 0 }, { "\xc2", 0 },
        { "\xe0\x9f\xbf", 0 }, { "\xe0\xa0\x80", 1 }, { "\xe1\x80\x80", 1 },
        { "\xec\xbf\xbf", 1 }, { "\xed\x9f\xbf", 1 }, { "\xed\xa0\x80", 0 },
        { "\xed\xbf\xbf", 0 }, { "\xee\x80\x80", 1 }, { "\xef\xbf\xbf", 1 },
        { "\xe1\x80", 0 }, { "\xe1\x80\xc0", 0 }, { "\xe1\x7f\x80", 0 },
        { "\xf0\x8f\xbf\xbf", 0 }, { "\xf0\x90\x80\x80", 1 }, { "\xf1\x80\x80\x80", 1 },
        { "\xf4\x8f\xbf\xbf", 1 }, { "\xf4\x90\x80\x80", 0 }, { "\xf5\x80\x80\x80", 0 },
        { "\xf7\xbf\xbf\xbf", 0 }, { "\xf8\x88\x80\x80\x80", 0 }, { "\xff", 0 },
        { "\xf0\x90\x80", 0 }, { "\xf0\x90\x80\xc0", 0 }, { "\xf0\x90\x7f\x80", 0 },
        { "\r", 0 }, { "\n", 0 }, { "\t", 1 },
        /* a continuation byte or an overlong lead before three continuations:
         * no 4-byte sequence either */
        { "\x81\x80\x80\x80", 0 }, { "\x84\x8f\xbf\xbf", 0 }, { "\xc1\x80\x80\x80", 0 },
    };
    uint8_t buf[16];
    size_t bad;

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].seq);

        for (size_t pre = 0; pre <= 2; pre += 2) {
            memcpy(buf, "ab", pre);
            memcpy(buf + pre, v[i].seq, n);
            bad = 99;
            if (greet_validate(buf, pre + n, &bad) != (v[i].ok ? 0 : -1))
                fail_msg("case %zu (after %zu ASCII bytes): %s, want %s", i, pre,
                         v[i].ok ? "refused" : "accepted", v[i].ok ? "accepted" : "refused");
            if (!v[i].ok && bad != pre)
                fail_msg("case %zu: bad byte at %zu, want %zu", i, bad, pre);
        }
    }
    /* A NUL inside the message (greet_validate takes a length). */
    assert_int_equal(greet_validate((const uint8_t *)"a\0b", 3, &bad), -1);
    assert_int_equal(bad, 1);
}

/* greet_line: the message and '\n' when they fit in cap, else -1. */
static void line_fits_or_not(void **state)
{
    uint8_t out[8];

    (void)state;
    memset(out, 'z', sizeof(out));
    assert_int_equal(greet_line((const uint8_t *)"abcdefg", 7, out, 8), 8);
    assert_memory_equal(out, "abcdefg\n", 8);
    assert_int_equal(greet_line((const uint8_t *)"abcdefgh", 8, out, 8), -1);
    assert_int_equal(greet_line((const uint8_t *)"", 0, out, 1), 1);
    assert_int_equal(out[0], '\n');
}

/* Its log: the connection, then "greeted, closed". */
static void log_lines(void **state)
{
    char name[NR_ADDRSTR_SIZE], want[256], buf[16];
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start(&s, "tcp-greet", NULL);
    fd = itest_connect(&s);
    itest_peer_name(fd, name, sizeof(name));
    itest_read_exact(fd, buf, 9, 2000);
    itest_expect_eof(fd, 2000);
    close(fd);
    snprintf(want, sizeof(want), "tcp-greet: connection from %s", name);
    itest_expect_log(&s, want, want);
    snprintf(want, sizeof(want), "tcp-greet: %s: greeted, closed", name);
    itest_expect_log(&s, want, want);
    nr_proc_signal(&s.proc, SIGTERM);
    itest_expect_log(&s, "tcp-greet: shutting down", "tcp-greet: shutting down");
    itest_stop(&s);
}

/* A client that resets before it is accepted (the server is stopped
 * meanwhile): the greeting cannot be sent and the log says so, naming the
 * error; the server goes on greeting the next client. */
static void send_failure_logged(void **state)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    char name[NR_ADDRSTR_SIZE], prefix[128], line[256], buf[16];
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start(&s, "tcp-greet", NULL);
    nr_proc_signal_main(&s.proc, SIGSTOP);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&s.addr.ss, s.addr.len), 0);
    itest_peer_name(fd, name, sizeof(name));
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(fd); /* RST while the connection waits in the accept queue */
    nr_proc_signal_main(&s.proc, SIGCONT);
    snprintf(prefix, sizeof(prefix), "tcp-greet: %s: send failed: ", name);
    if (nr_wait_file_line(s.err, prefix, line, sizeof(line), &s.proc, 2000) != 1)
        fail_msg("no log line '%s...'", prefix);
    if (strcmp(line + strlen(prefix), strerror(ECONNRESET)) &&
        strcmp(line + strlen(prefix), strerror(EPIPE)))
        fail_msg("'%s': the error is not named", line);
    fd = itest_connect(&s);
    itest_read_exact(fd, buf, 9, 2000);
    close(fd);
    itest_stop(&s);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(greets_then_closes),
        cmocka_unit_test(custom_utf8_message),
        cmocka_unit_test(validate_rejects_bad_lines),
        cmocka_unit_test(validate_utf8_boundaries),
        cmocka_unit_test(line_fits_or_not),
        cmocka_unit_test(log_lines),
        cmocka_unit_test(send_failure_logged),
    };
    /* a failed check leaves the server running: each case's teardown ends it */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
