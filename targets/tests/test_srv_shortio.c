/* Integration test: every server target under the short-I/O injector
 * (shortio_itest.h): its socket writes and reads move 1..7 bytes at a time
 * and about half the calls on a non-blocking socket fail with EAGAIN.  The
 * client side (this process, not injected) must still get exactly the right
 * bytes, and the injector's counters must show it really cut calls short. */
#include "echo_itest.h"
#include "itest_reap.h"
#include "shortio_itest.h"

#include "tcp-greet/greet.h"
#include "time_itest.h"

#define CAP 7

/* Start target `name` (extra args NULL-terminated) under the injector. */
static void start_injected(struct itest_srv *s, struct shortio *io, const char *name, ...)
{
    va_list ap;

    itest_env = shortio_env(io, CAP);
    va_start(ap, name);
    itest_vstart(s, name, -1, ap);
    va_end(ap);
    itest_env = NULL;
}

/* Stop the target and check the injections in `want` happened. */
static void stop_injected(struct itest_srv *s, struct shortio *io, int want)
{
    struct shortio_stats st;

    itest_stop(s);
    shortio_expect_active(io, &st, want);
}

/* The longest greeting (4096 bytes of two-byte UTF-8) reaches three clients
 * whole, newline and EOF included, although each send moves <= 7 bytes. */
static void greet_short_writes(void **state)
{
    static char msg[GREET_MAX + 1], buf[GREET_MAX + 1];
    struct shortio io;
    struct itest_srv s;
    int fd;

    (void)state;
    for (size_t i = 0; i < GREET_MAX; i += 2)
        memcpy(msg + i, i % 4 ? "\xc3\xa9" : "\xc2\xb5", 2);
    start_injected(&s, &io, "tcp-greet", "--message", msg, NULL);
    for (int i = 0; i < 3; i++) {
        fd = itest_connect(&s);
        itest_read_exact(fd, buf, GREET_MAX + 1, 5000);
        assert_memory_equal(buf, msg, GREET_MAX);
        assert_int_equal(buf[GREET_MAX], '\n');
        itest_expect_eof(fd, 2000);
        close(fd);
    }
    stop_injected(&s, &io, SIO_SHORT_W);
}

/* Echo 0, 1, 1000 and 20000 bytes, each on its own connection ending in a
 * half-close, then 200 single bytes each read back before the next: exact
 * bytes, then EOF, and the log line counts every byte echoed although most
 * went out in pieces. */
static void echo_short_io(const char *target)
{
    static const size_t sizes[] = { 0, 1, 1000, 20000 };
    char name[NR_ADDRSTR_SIZE], prefix[128], want[256];
    struct shortio io;
    struct itest_srv s;
    int fd;

    start_injected(&s, &io, target, NULL);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fd = itest_connect(&s);
        itest_peer_name(fd, name, sizeof(name));
        etest_echo(fd, i + 20, sizes[i], 1);
        close(fd);
        snprintf(prefix, sizeof(prefix), "%s: %s: closed", target, name);
        snprintf(want, sizeof(want), "%s after %zu bytes echoed", prefix, sizes[i]);
        itest_expect_log(&s, prefix, want);
    }
    fd = itest_connect(&s);
    etest_bytewise(fd, 30, 200);
    close(fd);
    stop_injected(&s, &io, SIO_SHORT_W | SIO_SHORT_R | SIO_EAGAIN_W | SIO_EAGAIN_R);
}

static void echo_short_io_iterative(void **state)
{
    (void)state;
    echo_short_io("tcp-echo");
}

static void echo_short_io_threaded(void **state)
{
    (void)state;
    echo_short_io("tcp-echo-mt");
}

/* Three tcp-echo-mt clients at once, each sending its own pattern before
 * any reads: every one gets exactly its own bytes back. */
static void echo_mt_concurrent_short_io(void **state)
{
    struct shortio io;
    struct itest_srv s;
    int fd[3];

    (void)state;
    start_injected(&s, &io, "tcp-echo-mt", "-q", NULL);
    for (int i = 0; i < 3; i++)
        fd[i] = itest_connect(&s);
    for (int i = 0; i < 3; i++)
        etest_send(fd[i], (uint64_t)i + 40, 3000);
    for (int i = 2; i >= 0; i--) {
        assert_int_equal(shutdown(fd[i], SHUT_WR), 0);
        etest_expect(fd[i], (uint64_t)i + 40, 3000);
        itest_expect_eof(fd[i], 2000);
        close(fd[i]);
    }
    stop_injected(&s, &io, SIO_SHORT_W | SIO_SHORT_R | SIO_EAGAIN_W | SIO_EAGAIN_R);
}

/* tcp-time: 3000 bytes sent, half-close; every byte comes back in replies
 * although reads and writes move <= 7 bytes and half of them fail with
 * EAGAIN (which is no end of stream). */
static void time_short_io(void **state)
{
    char chunk[3000];
    struct shortio io;
    struct itest_srv s;
    int fd;

    (void)state;
    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = (char)('a' + i % 26);
    start_injected(&s, &io, "tcp-time", "-q", NULL);
    for (int c = 0; c < 2; c++) {
        fd = itest_connect(&s);
        assert_int_equal(nr_write_all(fd, chunk, sizeof(chunk), 2000), 0);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        /* Reads of at most CAP bytes: at least one reply per CAP bytes. */
        ttest_drain(fd, sizeof(chunk), sizeof(chunk) / CAP);
        close(fd);
    }
    stop_injected(&s, &io, SIO_SHORT_W | SIO_SHORT_R | SIO_EAGAIN_W | SIO_EAGAIN_R);
}

/* udp-echo: about half the sendmsg and recvmsg calls fail with EAGAIN.
 * Each of 20 datagrams, sent one at a time, and then 5 sent at once, gets
 * exactly one reply. */
static void udp_eagain(void **state)
{
    char msg[32], want[48], reply[64];
    struct shortio io;
    struct itest_srv s;
    int fd;

    (void)state;
    start_injected(&s, &io, "udp-echo", NULL);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&s.addr.ss, s.addr.len), 0);
    for (int round = 0; round < 2; round++) {
        int burst = round ? 5 : 1;
        for (int i = 0; i < 20; i += burst) {
            for (int j = i; j < i + burst; j++) {
                int n = snprintf(msg, sizeof(msg), "dgram %d.%d", round, j);
                assert_int_equal(send(fd, msg, (size_t)n, 0), n);
            }
            for (int j = i; j < i + burst; j++) {
                int n = snprintf(want, sizeof(want), "Hello, dgram %d.%d!", round, j);
                if (nr_wait_fd(fd, POLLIN, 2000) <= 0)
                    fail_msg("no reply to datagram %d.%d", round, j);
                assert_int_equal(recv(fd, reply, sizeof(reply), MSG_DONTWAIT), n);
                assert_memory_equal(reply, want, (size_t)n);
            }
        }
    }
    assert_int_equal(nr_wait_fd(fd, POLLIN, 100), 0); /* nothing else */
    close(fd);
    stop_injected(&s, &io, SIO_EAGAIN_W | SIO_EAGAIN_R);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(greet_short_writes),
        cmocka_unit_test(echo_short_io_iterative),
        cmocka_unit_test(echo_short_io_threaded),
        cmocka_unit_test(echo_mt_concurrent_short_io),
        cmocka_unit_test(time_short_io),
        cmocka_unit_test(udp_eagain),
    };
    /* NR_TEST_FILTER="time_*": only those cases (ci/mutate.map runs the
     * mutated target's). */
    if (getenv("NR_TEST_FILTER") && *getenv("NR_TEST_FILTER"))
        cmocka_set_test_filter(getenv("NR_TEST_FILTER"));
    /* a failed check leaves the server running: each case's teardown ends it */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
