/* echo_itest.h - integration-test cases shared by tcp-echo and tcp-echo-mt:
 * helpers that push a non-periodic pattern through an echo connection and
 * check it byte for byte, and the test bodies both servers must pass, each
 * taking the target's name.  Header-only: included once by each test. */
#ifndef ECHO_ITEST_H
#define ECHO_ITEST_H

#include <pthread.h>
#include <stdint.h>

#include "itest.h"
#include "nr_scn.h"

#define ETEST_MIB (1024u * 1024u)
#define ETEST_IO_MS 15000 /* bound on one whole transfer */

/* Byte i of the stream with the given seed (streams of different seeds differ). */
static inline uint8_t etest_byte(uint64_t seed, uint64_t i)
{
    return nr_pattern_byte(seed << 40 | i);
}

struct etest_writer {
    int fd;
    uint64_t seed;
    size_t len;
    int shut;   /* shutdown(SHUT_WR) after the last byte */
    int err;    /* 0 or -errno of the write */
};

static void *etest_writer_main(void *arg)
{
    struct etest_writer *w = arg;
    uint8_t chunk[65536];

    for (size_t off = 0; off < w->len && !w->err;) {
        size_t n = w->len - off < sizeof(chunk) ? w->len - off : sizeof(chunk);
        for (size_t i = 0; i < n; i++)
            chunk[i] = etest_byte(w->seed, off + i);
        w->err = nr_write_all(w->fd, chunk, n, ETEST_IO_MS);
        off += n;
    }
    if (w->shut && !w->err && shutdown(w->fd, SHUT_WR) < 0)
        w->err = -errno;
    return NULL;
}

/* Read len bytes from fd and compare them with the pattern.  Returns 0, or
 * -1 with a message in msg[256]. */
static inline int etest_check(int fd, uint64_t seed, size_t len, char *msg)
{
    int64_t deadline = nr_now_ms() + ETEST_IO_MS;
    uint8_t buf[65536];
    size_t got = 0;

    while (got < len) {
        size_t want = len - got < sizeof(buf) ? len - got : sizeof(buf);
        ssize_t n;
        if (nr_wait_fd(fd, POLLIN, nr_ms_left(deadline)) <= 0) {
            snprintf(msg, 256, "timeout after %zu of %zu bytes", got, len);
            return -1;
        }
        n = nr_read(fd, buf, want);
        if (n <= 0) {
            snprintf(msg, 256, "read: %s after %zu of %zu bytes", n ? strerror((int)-n) : "EOF",
                     got, len);
            return -1;
        }
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != etest_byte(seed, got + (size_t)i)) {
                snprintf(msg, 256, "byte %zu differs", got + (size_t)i);
                return -1;
            }
        got += (size_t)n;
    }
    return 0;
}

/* Send len pattern bytes on fd from a thread while reading the echo here,
 * so neither side needs the other to read first; with shut, half-close
 * after the last byte and expect EOF after the echo. */
static inline void etest_echo(int fd, uint64_t seed, size_t len, int shut)
{
    struct etest_writer w = { .fd = fd, .seed = seed, .len = len, .shut = shut };
    char msg[256];
    pthread_t t;
    int r;

    assert_int_equal(pthread_create(&t, NULL, etest_writer_main, &w), 0);
    r = etest_check(fd, seed, len, msg);
    if (r < 0)
        shutdown(fd, SHUT_RDWR); /* unblock the writer before joining */
    pthread_join(t, NULL);
    if (r < 0)
        fail_msg("echo of %zu bytes: %s", len, msg);
    if (w.err)
        fail_msg("echo of %zu bytes: write: %s", len, strerror(-w.err));
    if (shut)
        itest_expect_eof(fd, 2000);
}

/* Send a small pattern without a thread (it fits the socket buffers). */
static inline void etest_send(int fd, uint64_t seed, size_t len)
{
    uint8_t buf[8192];

    assert_true(len <= sizeof(buf));
    for (size_t i = 0; i < len; i++)
        buf[i] = etest_byte(seed, i);
    assert_int_equal(nr_write_all(fd, buf, len, 2000), 0);
}

/* Read len bytes from fd and assert they are the pattern of seed. */
static inline void etest_expect(int fd, uint64_t seed, size_t len)
{
    char msg[256];

    if (etest_check(fd, seed, len, msg) < 0)
        fail_msg("%s", msg);
}

/* Close fd with an RST (SO_LINGER {1, 0}). */
static inline void etest_reset(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(fd);
}

/* Start target with its fd limit set to nofile (via sh's ulimit before exec). */
static inline void etest_start_limited(struct itest_srv *s, const char *target, int nofile)
{
    char path[512], script[64];
    char *argv[] = { "sh", "-c", script, path, "--port", "0", NULL };

    itest_bin(target, path, sizeof(path));
    snprintf(script, sizeof(script), "ulimit -n %d && exec \"$0\" \"$@\"", nofile);
    itest_spawn(s, argv, -1);
}

/* The RLIMIT_NOFILE that leaves the idle target exactly `spare` descriptor
 * numbers free below it (new descriptors take the lowest free number, so
 * the count alone is not enough when stray inherited fds sit higher). */
static inline int etest_fd_limit(const char *target, int spare)
{
    char path[64];
    uint8_t used[4096] = { 0 };
    struct itest_srv s;
    struct dirent *e;
    DIR *d;
    int lim;

    itest_start(&s, target, NULL);
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)s.proc.pid);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) < (int)sizeof(used))
            used[atoi(e->d_name)] = 1;
    closedir(d);
    itest_stop(&s);
    for (lim = 0; lim < (int)sizeof(used) && (used[lim] || spare-- > 0); lim++)
        ;
    return lim;
}

/* True when the server's stderr so far contains needle. */
static inline int etest_log_has(const struct itest_srv *s, const char *needle)
{
    char buf[65536];
    size_t n;
    FILE *f = fopen(s->err, "r");

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Connect n clients while the server has no descriptor left for them: each
 * is shed (EOF or reset), the server's fd count stays at `fds`, and the
 * episode costs it little CPU time (a spinning accept loop would burn it). */
static inline void etest_expect_shed(struct itest_srv *s, int n, int fds)
{
    long cpu0 = itest_cpu_ms(s);
    int fd[32];
    char c;

    assert_true(n <= 32);
    for (int i = 0; i < n; i++)
        fd[i] = itest_connect(s);
    for (int i = 0; i < n; i++) {
        ssize_t r;
        assert_true(nr_wait_fd(fd[i], POLLIN, 2000) > 0);
        r = nr_read(fd[i], &c, 1);
        assert_true(r == 0 || r == -ECONNRESET);
        close(fd[i]);
    }
    assert_int_equal(itest_fd_settle(s, fds, 2000), fds);
    assert_true(etest_log_has(s, "Too many open files"));
    assert_true(itest_cpu_ms(s) - cpu0 < 500);
}

/* ---- test bodies shared by both servers ---- */

/* 0, 1, 1 MiB and 64 MiB, each on its own connection ending in a
 * half-close; then 1 MiB twice on one connection without half-close. */
static inline void etest_case_sizes(const char *target)
{
    static const size_t sizes[] = { 0, 1, ETEST_MIB, 64 * ETEST_MIB };
    struct itest_srv s;
    int fd, base;

    itest_start(&s, target, "-q", NULL);
    base = itest_fd_count(&s);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fd = itest_connect(&s);
        etest_echo(fd, i + 1, sizes[i], 1);
        close(fd);
    }
    fd = itest_connect(&s);
    etest_echo(fd, 7, ETEST_MIB, 0);
    etest_echo(fd, 8, ETEST_MIB, 0);
    close(fd);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

/* Write n bytes of the pattern of seed one at a time, reading each back
 * before the next. */
static inline void etest_bytewise(int fd, uint64_t seed, uint64_t n)
{
    uint8_t b;

    for (uint64_t i = 0; i < n; i++) {
        b = etest_byte(seed, i);
        assert_int_equal(nr_write_all(fd, &b, 1, 2000), 0);
        itest_read_exact(fd, &b, 1, 2000);
        assert_int_equal(b, etest_byte(seed, i));
    }
}

/* One byte written, one byte read back, 300 times. */
static inline void etest_case_byte_at_a_time(const char *target)
{
    struct itest_srv s;
    int fd;

    itest_start(&s, target, NULL);
    fd = itest_connect(&s);
    etest_bytewise(fd, 3, 300);
    close(fd);
    itest_stop(&s);
}

/* Everything is sent and the sending side shut down before reading a byte:
 * all of it comes back, then EOF. */
static inline void etest_case_half_close(const char *target)
{
    struct itest_srv s;
    int fd;

    itest_start(&s, target, NULL);
    fd = itest_connect(&s);
    etest_send(fd, 4, 8000);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    etest_expect(fd, 4, 8000);
    itest_expect_eof(fd, 2000);
    close(fd);
    itest_stop(&s);
}

/* A client resets mid-stream; the next client is served normally and no
 * descriptor is left behind. */
static inline void etest_case_reset(const char *target)
{
    struct itest_srv s;
    int fd, base;

    itest_start(&s, target, NULL);
    base = itest_fd_count(&s);
    fd = itest_connect(&s);
    etest_send(fd, 5, 8000);
    etest_expect(fd, 5, 1000);
    etest_reset(fd);
    fd = itest_connect(&s);
    etest_echo(fd, 6, 100000, 1);
    close(fd);
    assert_int_equal(itest_fd_settle(&s, base, 2000), base);
    itest_stop(&s);
}

/* --bind ::1 works (skipped only when ::1 cannot be bound here). */
static inline void etest_case_ipv6(const char *target)
{
    struct nr_addr a;
    struct itest_srv s;
    int fd;

    assert_int_equal(nr_addr_from_host("::1", 0, &a, NULL), 0);
    fd = nr_bind_socket(&a, SOCK_STREAM, 1, NULL);
    if (fd < 0) {
        print_message("::1 cannot be bound on this host: IPv6 case skipped\n");
        skip();
    }
    close(fd);
    itest_start(&s, target, "--bind", "::1", NULL);
    assert_int_equal(s.addr.ss.ss_family, AF_INET6);
    fd = itest_connect(&s);
    etest_echo(fd, 9, 100000, 1);
    close(fd);
    itest_stop(&s);
}

/* A listening socket passed as fd 3 (LISTEN_FDS=1) is the one served. */
static inline void etest_case_activation(const char *target)
{
    char path[512], errbuf[NR_ERRBUF_SIZE];
    char *argv[] = { path, NULL };
    struct nr_addr a, mine;
    struct itest_srv s;
    int lfd, fd;

    itest_bin(target, path, sizeof(path));
    assert_int_equal(nr_addr_from_host("127.0.0.1", 0, &a, errbuf), 0);
    lfd = nr_bind_socket(&a, SOCK_STREAM, 16, errbuf);
    assert_true(lfd >= 0);
    assert_int_equal(nr_local_addr(lfd, &mine, errbuf), 0);
    itest_spawn(&s, argv, lfd);
    assert_int_equal(nr_addr_port((struct sockaddr *)&s.addr.ss),
                     nr_addr_port((struct sockaddr *)&mine.ss));
    close(lfd);
    fd = itest_connect(&s);
    etest_echo(fd, 10, 100000, 1);
    close(fd);
    itest_stop(&s);
}

/* SIGTERM while clients are connected and the server is blocked writing
 * to one (it sends but never reads): exit 0 within 1 s. */
static inline void etest_case_sigterm_blocked(const char *target)
{
    uint8_t buf[65536] = { 0 };
    struct itest_srv s;
    int fd, idle_fd, stalls = 0;

    itest_start(&s, target, NULL);
    fd = itest_connect(&s);
    idle_fd = itest_connect(&s); /* tcp-echo: waits in the backlog; -mt: served, idle */
    assert_int_equal(nr_set_nonblock(fd, 1), 0);
    /* Fill both directions until nothing moves for 200 ms. */
    for (int i = 0; i < 4096 && stalls < 2; i++) {
        ssize_t n = write(fd, buf, sizeof(buf));
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            stalls += nr_wait_fd(fd, POLLOUT, 100) == 0;
        }
    }
    assert_int_equal(stalls, 2);
    itest_stop(&s);
    close(fd);
    close(idle_fd);
}

/* Define one cmocka test function per shared case for target T (a string
 * literal macro), and list them with ETEST_SHARED_TESTS. */
#define ETEST_CASE(name, target)        \
    static void name(void **state)      \
    {                                   \
        (void)state;                    \
        etest_case_##name(target);      \
    }
#define ETEST_SHARED_CASES(target)                \
    ETEST_CASE(sizes, target)                     \
    ETEST_CASE(byte_at_a_time, target)            \
    ETEST_CASE(half_close, target)                \
    ETEST_CASE(reset, target)                     \
    ETEST_CASE(ipv6, target)                      \
    ETEST_CASE(activation, target)                \
    ETEST_CASE(sigterm_blocked, target)
#define ETEST_SHARED_TESTS                                                      \
    cmocka_unit_test(sizes), cmocka_unit_test(byte_at_a_time),                  \
    cmocka_unit_test(half_close), cmocka_unit_test(reset),                      \
    cmocka_unit_test(ipv6), cmocka_unit_test(activation),                       \
    cmocka_unit_test(sigterm_blocked)

#endif
