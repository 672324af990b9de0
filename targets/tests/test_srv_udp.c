/* Integration test: udp-echo over real UDP sockets. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "itest.h"
#include "itest_reap.h"

#include "udp-echo/hello_reply.h"

static uint8_t data[HELLO_MAX_UDP6], reply[HELLO_MAX_UDP6 + 1];

/* A UDP socket connected to the server. */
static int udp_client(struct itest_srv *s)
{
    int fd = socket(s->addr.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&s->addr.ss, s->addr.len), 0);
    return fd;
}

/* Receive one datagram within timeout_ms.  Returns its length, -1 if none. */
static ssize_t recv_reply(int fd, int timeout_ms)
{
    if (nr_wait_fd(fd, POLLIN, timeout_ms) <= 0)
        return -1;
    return recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
}

/* Send msg[0..len) and expect exactly "Hello, <msg>!" back within 2 s. */
static void exchange(int fd, const void *msg, size_t len)
{
    assert_int_equal(send(fd, msg, len, 0), (ssize_t)len);
    assert_int_equal(recv_reply(fd, 2000), (ssize_t)len + 8);
    assert_memory_equal(reply, "Hello, ", 7);
    assert_memory_equal(reply + 7, msg, len);
    assert_int_equal(reply[len + 7], '!');
}

/* Assert that the server's stderr holds text. */
static void expect_log(struct itest_srv *s, const char *text)
{
    char buf[8192];
    FILE *f = fopen(s->err, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!strstr(buf, text))
        fail_msg("log lacks '%s':\n%s", text, buf);
}

static void one_and_three_in_a_row(void **state)
{
    static const char *const msgs[] = { "first", "second", "third" };
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start(&s, "udp-echo", NULL);
    fd = udp_client(&s);
    exchange(fd, "world", 5);
    /* Three sends before any receive: three distinct replies, in order. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(send(fd, msgs[i], strlen(msgs[i]), 0), (ssize_t)strlen(msgs[i]));
    for (int i = 0; i < 3; i++) {
        char want[32];
        int n = snprintf(want, sizeof(want), "Hello, %s!", msgs[i]);
        assert_int_equal(recv_reply(fd, 2000), n);
        assert_memory_equal(reply, want, (size_t)n);
    }
    close(fd);
    expect_log(&s, "replied 13 bytes");
    itest_stop(&s);
}

static void empty_datagram(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start(&s, "udp-echo", NULL);
    fd = udp_client(&s);
    exchange(fd, "", 0);
    assert_memory_equal(reply, "Hello, !", 8);
    close(fd);
    itest_stop(&s);
}

static void max_and_oversize(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    memset(data, 'z', sizeof(data));
    itest_start(&s, "udp-echo", NULL);
    fd = udp_client(&s);
    exchange(fd, data, HELLO_MAX_UDP4 - 8); /* reply of exactly 65507 bytes */
    assert_int_equal(send(fd, data, 65500, 0), 65500);
    assert_int_equal(recv_reply(fd, 300), -1);
    exchange(fd, "next", 4);
    expect_log(&s, "reply of 65508 bytes exceeds max UDP payload");
    close(fd);
    itest_stop(&s);
}

static void truncated_datagram(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    memset(data, 't', sizeof(data));
    itest_start(&s, "udp-echo", "--bufsize", "100", NULL);
    fd = udp_client(&s);
    exchange(fd, data, 100);
    assert_int_equal(send(fd, data, 150, 0), 150);
    assert_int_equal(recv_reply(fd, 300), -1);
    exchange(fd, "fine", 4);
    expect_log(&s, "truncated datagram from ");
    expect_log(&s, ": 150 bytes > bufsize 100, dropped");
    close(fd);
    itest_stop(&s);
}

/* At the --bufsize boundary, also with the sizes around the default: a
 * datagram of exactly bufsize bytes is answered whole, one of bufsize+1 is
 * dropped and logged with its real size, and the server goes on. */
static void bufsize_boundary(void **state)
{
    static const char *const sizes[] = { "1", "100", "4096", "65499" };
    char log[96];

    (void)state;
    memset(data, 'b', sizeof(data));
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = (size_t)atoi(sizes[i]);
        struct itest_srv s;
        int fd;

        itest_start(&s, "udp-echo", "--bufsize", sizes[i], NULL);
        fd = udp_client(&s);
        exchange(fd, data, n);
        assert_int_equal(send(fd, data, n + 1, 0), (ssize_t)n + 1);
        assert_int_equal(recv_reply(fd, 300), -1);
        exchange(fd, data, n);
        snprintf(log, sizeof(log), ": %zu bytes > bufsize %zu, dropped", n + 1, n);
        expect_log(&s, log);
        close(fd);
        itest_stop(&s);
    }
}

static void ipv6(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    memset(data, '6', sizeof(data));
    itest_start(&s, "udp-echo", "--bind", "::1", NULL);
    assert_int_equal(s.addr.ss.ss_family, AF_INET6);
    fd = udp_client(&s);
    exchange(fd, "v6", 2);
    /* IPv6 allows 65527-byte payloads: 65519 data bytes still get a reply. */
    exchange(fd, data, HELLO_MAX_UDP6 - 8);
    assert_int_equal(send(fd, data, HELLO_MAX_UDP6 - 7, 0), HELLO_MAX_UDP6 - 7);
    assert_int_equal(recv_reply(fd, 300), -1);
    exchange(fd, "after", 5);
    close(fd);
    itest_stop(&s);
}

static void socket_activation(void **state)
{
    struct itest_srv s;
    int fd;

    (void)state;
    itest_start_activated(&s, "udp-echo", SOCK_DGRAM, NULL);
    fd = udp_client(&s);
    exchange(fd, "activated", 9);
    close(fd);
    itest_stop(&s);
}

static void rejects_stream_activation(void **state)
{
    char *argv[] = { NULL, NULL };
    char path[512], errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a;
    struct nr_proc p;
    int lfd;

    (void)state;
    assert_int_equal(nr_addr_from_host("127.0.0.1", 0, &a, errbuf), 0);
    lfd = nr_bind_socket(&a, SOCK_STREAM, 4, errbuf);
    assert_true(lfd >= 0);
    itest_bin("udp-echo", path, sizeof(path));
    argv[0] = path;
    struct nr_spawn sp = { .argv = argv, .activation_fd = lfd };
    assert_int_equal(nr_proc_spawn(&sp, &p, errbuf), 0);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 1);
    nr_proc_release(&p);
    close(lfd);
}

static void sigterm_exits_promptly(void **state)
{
    struct itest_srv s;
    int fd, base;

    (void)state;
    itest_start(&s, "udp-echo", "-q", NULL);
    base = itest_fd_count(&s);
    fd = udp_client(&s);
    for (int i = 0; i < 20; i++)
        exchange(fd, "burst", 5);
    assert_int_equal(itest_fd_count(&s), base);
    close(fd);
    itest_stop(&s);
}

/* Sends datagrams to the server as fast as it can until told to stop; one
 * at a time, file-static so that the teardown can stop it after a failed
 * check. */
static struct flood {
    int fd;         /* owned by the flood */
    atomic_int stop;
    unsigned long sent;
    pthread_t thread;
    int running;    /* started, not yet joined */
} flood;

static void *flood_run(void *arg)
{
    struct flood *f = arg;

    while (!atomic_load(&f->stop))
        if (send(f->fd, "flood", 5, MSG_DONTWAIT) == 5)
            f->sent++;
    return NULL;
}

/* Start flooding on fd, which the flood then owns. */
static void flood_start(int fd)
{
    flood.fd = fd;
    flood.sent = 0;
    atomic_init(&flood.stop, 0);
    assert_int_equal(pthread_create(&flood.thread, NULL, flood_run, &flood), 0);
    flood.running = 1;
}

/* Tell the flood thread to stop, join it within 2 s and close its socket.
 * Returns 0, or -1 when it did not end (said so). */
static int flood_stop(void)
{
    struct timespec ts;
    int r;

    atomic_store(&flood.stop, 1);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    if ((r = pthread_timedjoin_np(flood.thread, NULL, &ts)) != 0) {
        print_message("the flood thread did not end within 2 s of its stop: %s\n", strerror(r));
        return -1;
    }
    flood.running = 0;
    close(flood.fd);
    return 0;
}

/* For itest_reap's teardown: stop a flood a failed check left sending.
 * Returns 0 when there was none, 1 when stopped, -1 when it did not end. */
static int flood_leftover(void)
{
    if (!flood.running)
        return 0;
    if (flood_stop() < 0)
        return -1;
    print_message("teardown: the flood thread left sending by the case: stopped and joined "
                  "(%lu datagrams)\n", flood.sent);
    return 1;
}

/* A datagram is logged with its sender, sizes and reply; an idle server
 * sleeps; a server flooded with datagrams still notices
 * SIGTERM (it checks for it between bursts), says it is shutting down
 * within 5 s and exits 0. */
static void idle_then_sigterm_in_a_flood(void **state)
{
    struct itest_srv s;
    char name[NR_ADDRSTR_SIZE], want[160];
    int fd;

    (void)state;
    itest_start(&s, "udp-echo", NULL);
    fd = udp_client(&s);
    exchange(fd, "first", 5);
    itest_peer_name(fd, name, sizeof(name));
    snprintf(want, sizeof(want), "udp-echo: datagram from %s: 5 bytes, replied 13 bytes", name);
    itest_expect_log(&s, "udp-echo: datagram from", want);
    itest_expect_idle(&s, 400);
    flood_start(fd);
    usleep(200000);
    nr_proc_signal(&s.proc, SIGTERM);
    /* noticed at all (itest_expect_log waits 2 s), not how fast:
     * stop_checked_between_bursts times it */
    itest_expect_log(&s, "udp-echo: shutting down", "udp-echo: shutting down");
    itest_stop(&s);
    if (flood_stop() < 0)
        fail_msg("the flood thread did not stop");
    assert_true(flood.sent > 0);
}

/* udp-echo handles at most a burst of datagrams between checks for a stop
 * signal.  Its stderr is a pipe kept full, so it blocks logging the first
 * datagram, inside its burst; 200 more queue and SIGTERM comes; then the
 * pipe is drained: it must stop after its burst of 64 datagrams, not
 * serve all that wait. */
static void stop_checked_between_bursts(void **state)
{
    char dir[64] = "/tmp/itest.XXXXXX", fifo[96], out[96], line[256], errbuf[NR_ERRBUF_SIZE];
    char path[512], *argv[] = { path, "--port", "0", NULL };
    static char junk[65536], buf[1 << 16];
    struct itest_srv s;
    size_t have = 0, logged = 0;
    int rfd, wfd, fd, stopped = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    itest_reap_dir(dir);
    snprintf(fifo, sizeof(fifo), "%s/err", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    rfd = itest_reap_fd(open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC),
                     "the stderr fifo's read end");
    wfd = itest_reap_fd(open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC),
                     "the stderr fifo's write end");
    assert_true(rfd >= 0 && wfd >= 0);
    memset(junk, '#', sizeof(junk));
    for (;;) { /* until the fifo is full; any other failure fails the case */
        ssize_t w = write(wfd, junk, sizeof(junk));
        if (w > 0 || (w < 0 && errno == EINTR))
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        fail_msg("filling the stderr fifo: %s", w < 0 ? strerror(errno) : "wrote nothing");
    }
    for (size_t n = 1024; n > 0; n /= 2) /* fill the last bytes too */
        while (write(wfd, junk, n) > 0)
            ;
    itest_reap_close(wfd);
    itest_bin("udp-echo", path, sizeof(path));
    struct nr_spawn sp = { .argv = argv, .stdout_path = out, .stderr_path = fifo, .activation_fd = -1 };
    if (nr_proc_spawn(&sp, &s.proc, errbuf) < 0)
        fail_msg("%s", errbuf);
    itest_reap_fd(s.proc.pidfd, "the server's pidfd");
    if (nr_wait_file_line(out, "listening on ", line, sizeof(line), &s.proc, 5000) != 1)
        fail_msg("no readiness line");
    assert_int_equal(nr_addr_parse(line + strlen("listening on "), &s.addr, errbuf), 0);
    fd = itest_reap_fd(udp_client(&s), "the client's socket");
    exchange(fd, "first", 5); /* answered; now blocked logging it */
    for (int i = 0; i < 200; i++)
        assert_int_equal(send(fd, "queued", 6, 0), 6);
    usleep(20000);
    nr_proc_signal(&s.proc, SIGTERM);
    /* drain the pipe, counting the datagrams logged before the stop */
    for (int64_t deadline = nr_now_ms() + 5000; !stopped;) {
        ssize_t n;
        char *nl;
        if (nr_wait_fd(rfd, POLLIN, nr_ms_left(deadline)) <= 0)
            fail_msg("udp-echo did not stop within 5 s (%zu datagrams logged)", logged);
        n = read(rfd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            logged += strstr(buf, "udp-echo: datagram from") != NULL;
            stopped |= strcmp(buf, "udp-echo: shutting down") == 0;
            have -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have + 1);
        }
        if (have == sizeof(buf) - 1) /* the junk: no line break in it */
            have = 0;
    }
    if (!stopped || logged != 64)
        fail_msg("%zu datagrams handled in the burst SIGTERM came in (stopped: %d), want "
                 "64 (BURST)", logged, stopped);
    assert_int_equal(nr_proc_wait(&s.proc, 2000), 1);
    assert_true(WIFEXITED(s.proc.status) && WEXITSTATUS(s.proc.status) == 0);
    itest_reap_forget(s.proc.pidfd);
    nr_proc_release(&s.proc);
    itest_reap_close(fd);
    itest_reap_close(rfd);
    unlink(fifo);
    unlink(out);
    rmdir(dir);
    itest_reap_dir_done(dir);
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(one_and_three_in_a_row),
        cmocka_unit_test(empty_datagram),
        cmocka_unit_test(max_and_oversize),
        cmocka_unit_test(truncated_datagram),
        cmocka_unit_test(bufsize_boundary),
        cmocka_unit_test(ipv6),
        cmocka_unit_test(socket_activation),
        cmocka_unit_test(rejects_stream_activation),
        cmocka_unit_test(sigterm_exits_promptly),
        cmocka_unit_test(idle_then_sigterm_in_a_flood),
        cmocka_unit_test(stop_checked_between_bursts),
    };
    /* a failed check leaves the server, or the flood, running: each case's
     * teardown ends them */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), flood_leftover);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
