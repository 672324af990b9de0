/* Integration test: tcp-echo-mt (thread per connection) over real sockets. */
#include "echo_itest.h"

#define T "tcp-echo-mt"

ETEST_SHARED_CASES(T)

/* n clients connected at once: each sends its own pattern before any
 * reads, then each reads its own back; afterwards no fd is left over. */
static void concurrent(int n)
{
    char max[16];
    struct itest_srv s;
    int fd[100], base;

    assert_true(n <= 100);
    snprintf(max, sizeof(max), "%d", n);
    itest_start(&s, T, "-q", "--max-conns", max, NULL);
    base = itest_fd_count(&s);
    for (int i = 0; i < n; i++)
        fd[i] = itest_connect(&s);
    for (int i = 0; i < n; i++)
        etest_send(fd[i], (uint64_t)i + 100, 4000);
    for (int i = n - 1; i >= 0; i--)
        etest_expect(fd[i], (uint64_t)i + 100, 4000);
    for (int i = 0; i < n; i++) {
        assert_int_equal(shutdown(fd[i], SHUT_WR), 0);
        itest_expect_eof(fd[i], 2000);
        close(fd[i]);
    }
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

static void two_concurrent(void **state)
{
    (void)state;
    concurrent(2);
}

static void hundred_concurrent(void **state)
{
    (void)state;
    concurrent(100);
}

/* A client that sends nothing and one that sends without reading (its
 * thread blocked writing) do not delay another client. */
static void stalled_clients_block_nobody(void **state)
{
    uint8_t buf[65536] = { 0 };
    struct itest_srv s;
    int quiet, hog, fd;

    (void)state;
    itest_start(&s, T, NULL);
    quiet = itest_connect(&s);
    hog = itest_connect(&s);
    assert_int_equal(nr_set_nonblock(hog, 1), 0);
    while (write(hog, buf, sizeof(buf)) > 0 || nr_wait_fd(hog, POLLOUT, 100) > 0)
        ;
    fd = itest_connect(&s);
    etest_echo(fd, 11, ETEST_MIB, 1);
    close(fd);
    close(hog);
    close(quiet);
    itest_stop(&s);
}

/* --max-conns 2: a third client is reset; once one leaves, a new client
 * is served. */
static void capacity_refuses_with_reset(void **state)
{
    struct itest_srv s;
    int a, b, c, base, err = 0;
    char ch;

    (void)state;
    itest_start(&s, T, "--max-conns", "2", NULL);
    base = itest_fd_count(&s);
    a = itest_connect(&s);
    b = itest_connect(&s);
    etest_send(a, 1, 10);
    etest_expect(a, 1, 10);
    etest_send(b, 2, 10);
    etest_expect(b, 2, 10);
    /* The reset may already be there when the connect completes. */
    c = nr_connect_tcp(&s.addr, 2000, &err, NULL);
    if (c >= 0) {
        assert_true(nr_wait_fd(c, POLLIN, 2000) > 0);
        err = (int)-nr_read(c, &ch, 1);
        close(c);
    }
    assert_int_equal(err, ECONNRESET);
    assert_true(etest_log_has(&s, "refused: at capacity (2)"));
    close(a);
    assert_int_equal(itest_fd_settle(&s, base + 1, 2000), base + 1);
    c = itest_connect(&s);
    etest_echo(c, 3, 100000, 1);
    close(c);
    etest_send(b, 4, 10);
    etest_expect(b, 4, 10);
    close(b);
    itest_stop(&s);
}

/* With room for 3 clients only: 3 are served, more are shed without
 * spinning, and after they leave a new client is served. */
static void emfile_sheds_then_serves(void **state)
{
    struct itest_srv s;
    int fd[3], base;

    (void)state;
    etest_start_limited(&s, T, etest_fd_limit(T, 3));
    base = itest_fd_count(&s);
    for (int i = 0; i < 3; i++) {
        fd[i] = itest_connect(&s);
        etest_send(fd[i], (uint64_t)i, 100);
        etest_expect(fd[i], (uint64_t)i, 100);
    }
    etest_expect_shed(&s, 8, base + 3);
    for (int i = 0; i < 3; i++)
        close(fd[i]);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    fd[0] = itest_connect(&s);
    etest_echo(fd[0], 12, 100000, 1);
    close(fd[0]);
    itest_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ETEST_SHARED_TESTS,
        cmocka_unit_test(two_concurrent),
        cmocka_unit_test(hundred_concurrent),
        cmocka_unit_test(stalled_clients_block_nobody),
        cmocka_unit_test(capacity_refuses_with_reset),
        cmocka_unit_test(emfile_sheds_then_serves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
