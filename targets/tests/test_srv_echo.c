/* Integration test: tcp-echo (iterative) over real sockets. */
#include "echo_itest.h"
#include "itest_reap.h"

#define T "tcp-echo"

ETEST_SHARED_CASES(T)

/* One client at a time: the second gets nothing while the first is
 * connected, and its echo once the first leaves. */
static void second_client_waits(void **state)
{
    struct itest_srv s;
    int a, b;

    (void)state;
    itest_start(&s, T, NULL);
    a = itest_connect(&s);
    etest_send(a, 1, 10);
    etest_expect(a, 1, 10);
    b = itest_connect(&s);
    etest_send(b, 2, 100);
    assert_int_equal(nr_wait_fd(b, POLLIN, 200), 0);
    etest_send(a, 3, 10); /* the first is still served meanwhile */
    etest_expect(a, 3, 10);
    close(a);
    etest_expect(b, 2, 100);
    close(b);
    itest_stop(&s);
}

/* With no descriptor to spare, connections are shed without spinning, and
 * the server still stops cleanly. */
static void emfile_sheds(void **state)
{
    struct itest_srv s;
    int base;

    (void)state;
    etest_start_limited(&s, T, etest_fd_limit(T, 0));
    base = itest_fd_count(&s);
    etest_expect_shed(&s, 8, base);
    itest_stop(&s);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        ETEST_SHARED_TESTS,
        cmocka_unit_test(second_client_waits),
        cmocka_unit_test(emfile_sheds),
    };
    /* a failed check leaves the server running: each case's teardown ends it */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
