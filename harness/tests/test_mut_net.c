/* Unit tests of nr_net.c written for make mutate's survivors: every
 * documented result of the address helpers (exact -1 and message, the
 * fields of the address built, brackets, decimal ports, unix paths at the
 * length limit), bind/connect/wait/write/read on loopback and socketpairs
 * (refused, timed out, EINTR, short writes, EPIPE, a stall), the clock and
 * the deadline helpers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_net.h"
#include "heap_exact.h"

static char err[NR_ERRBUF_SIZE];

/* -1 and exactly this message from nr_addr_parse(text). */
static void parse_fails(const char *text, const char *want)
{
    struct nr_addr a;

    err[0] = '\0';
    if (nr_addr_parse(text, &a, err) != -1)
        fail_msg("'%s' parsed (or not -1)", text);
    assert_string_equal(err, want);
}

static void addr_parse_errors(void **state)
{
    (void)state;
    parse_fails("1.2.3.4", "expected HOST:PORT, got '1.2.3.4'");
    parse_fails(":80", "expected HOST:PORT, got ':80'");
    parse_fails("::1:80", "IPv6 address needs brackets: '[addr]:port', got '::1:80'");
    parse_fails("1.2.3.4:", "bad port in '1.2.3.4:'");
    parse_fails("1.2.3.4:-1", "bad port in '1.2.3.4:-1'");
    parse_fails("1.2.3.4:65536", "bad port in '1.2.3.4:65536'");
    parse_fails("1.2.3.4:0x50", "bad port in '1.2.3.4:0x50'");
    parse_fails("1.2.3.4:99999999999999999999", "bad port in '1.2.3.4:99999999999999999999'");
    parse_fails("1.2.3.4:8a", "bad port in '1.2.3.4:8a'");
    parse_fails("host:80", "not a numeric IPv4 or IPv6 address: 'host'");
    /* 48 bytes of host do not fit, 47 do (and are no address) */
    parse_fails("123456789012345678901234567890123456789012345678:1",
                "address too long: '123456789012345678901234567890123456789012345678:1'");
    parse_fails("12345678901234567890123456789012345678901234567:1",
                "not a numeric IPv4 or IPv6 address: '12345678901234567890123456789012345678901234567'");
}

/* A v4 address: family, port in network order, length, and nothing else
 * of *out left from before. */
static void addr_parse_fields(void **state)
{
    struct nr_addr a;
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a.ss;
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a.ss;
    static const uint8_t zero[sizeof(v4->sin_zero)];
    char buf[NR_ADDRSTR_SIZE];

    (void)state;
    memset(&a, 0xa5, sizeof(a));
    assert_int_equal(nr_addr_parse("10.1.2.3:010", &a, err), 0);
    assert_int_equal(v4->sin_family, AF_INET);
    assert_int_equal(ntohs(v4->sin_port), 10); /* decimal: not 8 */
    assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x0a010203);
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    assert_memory_equal(v4->sin_zero, zero, sizeof(zero));
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)), "10.1.2.3:10");
    memset(&a, 0xa5, sizeof(a));
    assert_int_equal(nr_addr_parse("[fe80::1]:0", &a, err), 0);
    assert_int_equal(v6->sin6_family, AF_INET6);
    assert_int_equal(v6->sin6_port, 0);
    assert_int_equal(v6->sin6_flowinfo, 0);
    assert_int_equal(v6->sin6_scope_id, 0);
    assert_int_equal(v6->sin6_addr.s6_addr[0], 0xfe);
    assert_int_equal(v6->sin6_addr.s6_addr[15], 1);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)), "[fe80::1]:0");
    assert_int_equal(nr_addr_parse("[::ffff:1.2.3.4]:65535", &a, err), 0);
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)),
                        "[::ffff:1.2.3.4]:65535");
}

static void from_host_edges(void **state)
{
    struct nr_addr a;
    char host[64];

    (void)state;
    assert_int_equal(nr_addr_from_host("1.2.3.4", -1, &a, err), -1);
    assert_string_equal(err, "port -1 out of range 0-65535");
    assert_int_equal(nr_addr_from_host("1.2.3.4", 65536, &a, err), -1);
    assert_string_equal(err, "port 65536 out of range 0-65535");
    assert_int_equal(nr_addr_from_host("1.2.3.4", 65535, &a, err), 0);
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), 65535);
    assert_int_equal(nr_addr_from_host("1.2.3.4", 0, &a, err), 0);
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), 0);
    assert_int_equal(nr_addr_from_host("[1.2.3.4]", 5, &a, err), 0); /* brackets come off */
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(nr_addr_from_host("[]", 5, &a, err), -1);
    assert_string_equal(err, "not a numeric IPv4 or IPv6 address: ''");
    assert_int_equal(nr_addr_from_host("[::1", 5, &a, err), -1);
    assert_string_equal(err, "not a numeric IPv4 or IPv6 address: '[::1'");
    assert_int_equal(nr_addr_from_host("::1]", 5, &a, err), -1);
    assert_string_equal(err, "not a numeric IPv4 or IPv6 address: '::1]'");
    assert_int_equal(nr_addr_from_host("", 5, &a, err), -1);
    assert_string_equal(err, "not a numeric IPv4 or IPv6 address: ''");
    /* the longest IPv6 text (45 bytes) in brackets */
    assert_int_equal(nr_addr_from_host("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]", 1, &a,
                                       err), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    snprintf(host, sizeof(host), "[%047d]", 0); /* 47 bytes inside fit, 48 do not */
    assert_int_equal(nr_addr_from_host(host, 1, &a, err), -1);
    assert_string_equal(err, "not a numeric IPv4 or IPv6 address: "
                             "'00000000000000000000000000000000000000000000000'");
    snprintf(host, sizeof(host), "[%048d]", 0);
    assert_int_equal(nr_addr_from_host(host, 1, &a, err), -1);
    assert_string_equal(err, "address too long: [000000000000000000000000000000000000000000000000]");
}

static void unix_addresses(void **state)
{
    struct nr_addr a;
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a.ss;
    char path[120], buf[200];
    static const char msg[] = "'%s': expected a socket path of 1-107 bytes or @name";
    char want[300];

    (void)state;
    assert_int_equal(nr_addr_unix("", &a, err), -1);
    snprintf(want, sizeof(want), msg, "");
    assert_string_equal(err, want);
    assert_int_equal(nr_addr_unix("@", &a, err), -1);
    snprintf(want, sizeof(want), msg, "@");
    assert_string_equal(err, want);
    assert_int_equal(nr_addr_unix("@a", &a, err), 0);
    assert_int_equal(un->sun_family, AF_UNIX);
    assert_int_equal(un->sun_path[0], '\0');
    assert_int_equal(un->sun_path[1], 'a');
    assert_int_equal(a.len, offsetof(struct sockaddr_un, sun_path) + 2);
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)), "@a");
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), -1);
    assert_int_equal(nr_addr_is_loopback((struct sockaddr *)&a.ss), 1);
    assert_int_equal(nr_addr_unix("/p", &a, err), 0);
    assert_int_equal(a.len, offsetof(struct sockaddr_un, sun_path) + 3);
    assert_string_equal(un->sun_path, "/p");
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)), "/p");
    /* 107 bytes: the longest path; 108 has no room for the NUL */
    memset(path, 'p', 107);
    path[107] = '\0';
    assert_int_equal(nr_addr_unix(path, &a, err), 0);
    assert_int_equal(a.len, sizeof(struct sockaddr_un));
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)), path);
    path[0] = '@';
    assert_int_equal(nr_addr_unix(path, &a, err), 0); /* an abstract name of 106 bytes */
    assert_int_equal(a.len, sizeof(struct sockaddr_un) - 1);
    assert_string_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf)), path);
    path[107] = 'p';
    path[108] = '\0';
    assert_int_equal(nr_addr_unix(path, &a, err), -1);
    snprintf(want, sizeof(want), msg, path);
    assert_string_equal(err, want);
}

/* nr_addr_format of addresses not made by the parsers: a path filling
 * sun_path without a NUL (all 108 bytes shown), an abstract name filling
 * it (107), an unnamed socket, another family, a short buffer. */
static void format_edges(void **state)
{
    struct sockaddr_un un;
    struct sockaddr sa = { .sa_family = 99 };
    struct nr_addr a;
    char buf[200], want[200];

    (void)state;
    memset(&un, 'u', sizeof(un));
    un.sun_family = AF_UNIX;
    memset(want, 'u', sizeof(un.sun_path));
    want[sizeof(un.sun_path)] = '\0';
    assert_string_equal(nr_addr_format((struct sockaddr *)&un, buf, sizeof(buf)), want);
    un.sun_path[0] = '\0';
    want[0] = '@';
    want[sizeof(un.sun_path)] = '\0';
    assert_string_equal(nr_addr_format((struct sockaddr *)&un, buf, sizeof(buf)), want);
    memset(un.sun_path, 0, sizeof(un.sun_path));
    assert_string_equal(nr_addr_format((struct sockaddr *)&un, buf, sizeof(buf)), "@");
    assert_string_equal(nr_addr_format(&sa, buf, sizeof(buf)), "(family 99)");
    assert_int_equal(nr_addr_port(&sa), -1);
    assert_int_equal(nr_addr_is_loopback(&sa), 0);
    assert_int_equal(nr_addr_parse("127.0.0.1:80", &a, err), 0);
    assert_ptr_equal(nr_addr_format((struct sockaddr *)&a.ss, buf, 5), buf);
    assert_string_equal(buf, "127.");
}

/* A listening TCP socket on loopback, its port in *port. */
static int listener(int backlog, int *port)
{
    struct nr_addr a, l;
    int fd;

    assert_int_equal(nr_addr_parse("127.0.0.1:0", &a, err), 0);
    fd = nr_bind_socket(&a, SOCK_STREAM, backlog, err);
    if (fd < 0)
        fail_msg("%s", err);
    assert_int_equal(nr_local_addr(fd, &l, err), 0);
    *port = nr_addr_port((struct sockaddr *)&l.ss);
    return fd;
}

static int sockopt(int fd, int level, int name)
{
    int v = -1;
    socklen_t n = sizeof(v);

    assert_int_equal(getsockopt(fd, level, name, &v, &n), 0);
    return v;
}

static int open_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 256; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static void bind_sockets(void **state)
{
    struct nr_addr a, l;
    int fd, fd2, port, nfd;
    char want[128];

    (void)state;
    fd = listener(3, &port);
    assert_true(port > 0);
    assert_int_equal(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
    assert_int_equal(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    /* the same port again: refused with the address and the cause, no fd kept */
    nfd = open_fds();
    assert_int_equal(nr_addr_from_host("127.0.0.1", port, &a, err), 0);
    assert_int_equal(nr_bind_socket(&a, SOCK_STREAM, 3, err), -1);
    snprintf(want, sizeof(want), "bind/listen on 127.0.0.1:%d: %s", port, strerror(EADDRINUSE));
    assert_string_equal(err, want);
    assert_int_equal(open_fds(), nfd);
    close(fd);
    /* a datagram socket binds and does not listen */
    assert_int_equal(nr_addr_parse("127.0.0.1:0", &a, err), 0);
    fd = nr_bind_socket(&a, SOCK_DGRAM, 3, err);
    assert_true(fd >= 0);
    assert_int_equal(sockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    assert_int_equal(nr_local_addr(fd, &l, err), 0);
    assert_true(nr_addr_port((struct sockaddr *)&l.ss) > 0);
    close(fd);
    /* v6 only */
    assert_int_equal(nr_addr_parse("[::1]:0", &a, err), 0);
    fd2 = nr_bind_socket(&a, SOCK_STREAM, 1, err);
    if (fd2 >= 0) {
        assert_int_equal(sockopt(fd2, IPPROTO_IPV6, IPV6_V6ONLY), 1);
        close(fd2);
    }
    /* no such family: the socket call's cause */
    memset(&a, 0, sizeof(a));
    a.ss.ss_family = 99;
    a.len = sizeof(struct sockaddr);
    assert_int_equal(nr_bind_socket(&a, SOCK_STREAM, 1, err), -1);
    snprintf(want, sizeof(want), "socket: %s", strerror(EAFNOSUPPORT));
    assert_string_equal(err, want);
    assert_int_equal(nr_local_addr(-1, &l, err), -1);
    snprintf(want, sizeof(want), "getsockname: %s", strerror(EBADF));
    assert_string_equal(err, want);
}

static void connect_tcp(void **state)
{
    struct nr_addr a, loc;
    const struct sockaddr_in *lv4 = (const struct sockaddr_in *)&loc.ss;
    int lfd, fd, port, e = 99, nfd;
    char want[160];

    (void)state;
    lfd = listener(3, &port);
    assert_int_equal(nr_addr_from_host("127.0.0.1", port, &a, err), 0);
    memset(&loc, 0, sizeof(loc));
    fd = nr_connect_tcp(&a, 1000, &e, &loc, err);
    assert_true(fd >= 0);
    assert_int_equal(e, 0);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0); /* blocking */
    assert_int_equal(loc.ss.ss_family, AF_INET);
    assert_true(ntohs(lv4->sin_port) > 0);
    assert_int_equal(ntohl(lv4->sin_addr.s_addr), 0x7f000001);
    close(fd);
    fd = nr_connect_tcp(&a, -1, NULL, NULL, err); /* no wait limit, no outputs */
    assert_true(fd >= 0);
    close(fd);
    close(lfd);
    /* refused: -1, the cause in err_out and the text, the local address, no fd kept */
    nfd = open_fds();
    memset(&loc, 0, sizeof(loc));
    assert_int_equal(nr_connect_tcp(&a, 1000, &e, &loc, err), -1);
    assert_int_equal(e, ECONNREFUSED);
    snprintf(want, sizeof(want), "connect to 127.0.0.1:%d: %s", port, strerror(ECONNREFUSED));
    assert_string_equal(err, want);
    assert_int_equal(loc.ss.ss_family, AF_INET);
    assert_int_equal(open_fds(), nfd);
    /* a unix path nobody listens on: refused (for err_out), ENOENT in the text */
    assert_int_equal(nr_addr_unix("/nonexistent/netrig-sock", &a, err), 0);
    assert_int_equal(nr_connect_tcp(&a, 1000, &e, NULL, err), -1);
    assert_int_equal(e, ECONNREFUSED);
    snprintf(want, sizeof(want), "connect to /nonexistent/netrig-sock (refused): %s",
             strerror(ENOENT));
    assert_string_equal(err, want);
    assert_int_equal(nr_connect_tcp(&a, 1000, NULL, NULL, err), -1);
    snprintf(want, sizeof(want), "connect to /nonexistent/netrig-sock: %s", strerror(ENOENT));
    assert_string_equal(err, want);
    assert_int_equal(open_fds(), nfd);
    memset(&a, 0, sizeof(a));
    a.ss.ss_family = 99;
    a.len = sizeof(struct sockaddr);
    e = 0;
    assert_int_equal(nr_connect_tcp(&a, 1000, &e, &loc, err), -1);
    assert_int_equal(e, EAFNOSUPPORT);
}

/* A listener whose accept queue is full drops the SYN: the connect waits
 * timeout_ms and fails with ETIMEDOUT. */
static void connect_timeout(void **state)
{
    struct nr_addr a;
    int lfd, port, e = 0, c[4], nc = 0;
    int64_t t0;
    char want[128];

    (void)state;
    lfd = listener(0, &port);
    assert_int_equal(nr_addr_from_host("127.0.0.1", port, &a, err), 0);
    for (; nc < 4; nc++) { /* fill the queue (backlog 0 still takes one or two) */
        c[nc] = nr_connect_tcp(&a, 200, &e, NULL, err);
        if (c[nc] < 0)
            break;
    }
    assert_int_equal(e, ETIMEDOUT);
    t0 = nr_now_ms();
    assert_int_equal(nr_connect_tcp(&a, 150, &e, NULL, err), -1);
    assert_true(nr_now_ms() - t0 >= 140);
    assert_int_equal(e, ETIMEDOUT);
    snprintf(want, sizeof(want), "connect to 127.0.0.1:%d: %s", port, strerror(ETIMEDOUT));
    assert_string_equal(err, want);
    while (nc > 0)
        close(c[--nc]);
    close(lfd);
}

static void on_signal(int sig)
{
    (void)sig;
}

static pthread_t main_thread;
static int kick_ms;
static int kick_fd = -1; /* >= 0: written to after the signal */

static void *kicker(void *arg)
{
    struct timespec ts = { 0, kick_ms * 1000000L };

    (void)arg;
    nanosleep(&ts, NULL);
    pthread_kill(main_thread, SIGUSR1);
    if (kick_fd >= 0) {
        nanosleep(&ts, NULL);
        assert_int_equal(write(kick_fd, "k", 1), 1);
    }
    return NULL;
}

/* SIGUSR1 to this thread after ms (then a byte to fd, if >= 0), with a
 * handler that does not restart calls. */
static pthread_t kick(int ms, int fd)
{
    struct sigaction sa = { .sa_handler = on_signal };
    pthread_t t;

    sigaction(SIGUSR1, &sa, NULL);
    main_thread = pthread_self();
    kick_ms = ms;
    kick_fd = fd;
    assert_int_equal(pthread_create(&t, NULL, kicker, NULL), 0);
    return t;
}

static void wait_fd(void **state)
{
    int sv[2];
    int64_t t0;
    pthread_t t;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    t0 = nr_now_ms();
    assert_int_equal(nr_wait_fd(sv[0], POLLIN, 0), 0); /* 0: no wait at all */
    assert_int_equal(nr_wait_fd(sv[0], POLLIN, 60), 0);
    assert_true(nr_now_ms() - t0 >= 60);
    assert_int_equal(nr_wait_fd(sv[0], POLLOUT, -1), 1);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(nr_wait_fd(sv[0], POLLIN, -1), 1);
    /* a signal in the wait: waited on, to the same deadline */
    t0 = nr_now_ms();
    t = kick(20, -1);
    assert_int_equal(nr_wait_fd(sv[1], POLLIN, 120), 0);
    assert_true(nr_now_ms() - t0 >= 120);
    pthread_join(t, NULL);
    /* and with no deadline: until the byte comes */
    t = kick(20, sv[0]);
    assert_int_equal(nr_wait_fd(sv[1], POLLIN, -1), 1);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
}

static void write_all(void **state)
{
    int sv[2], p[2], one_k = 4096;
    static uint8_t big[1 << 20], got[1 << 20];
    size_t have = 0;
    pid_t pid;
    pthread_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + (i >> 9));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one_k, sizeof(one_k)), 0);
    assert_int_equal(nr_set_nonblock(sv[0], 1), 0);
    assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    /* nobody reads: a stall of timeout_ms, -ETIMEDOUT */
    assert_int_equal(nr_write_all(sv[0], big, sizeof(big), 50), -ETIMEDOUT);
    while (read(sv[1], got, sizeof(got)) == (ssize_t)sizeof(got))
        ;
    /* a slow reader: many partial writes and waits; every byte, in order */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        while (have < sizeof(got)) {
            ssize_t n = read(sv[1], got + have, 3000);
            if (n <= 0)
                _exit(2);
            have += (size_t)n;
        }
        _exit(memcmp(got, big, sizeof(big)) == 0 ? 0 : 1);
    }
    assert_int_equal(nr_write_all(sv[0], big, sizeof(big), 5000), 0);
    {
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(nr_write_all(sv[0], big, 0, 50), 0);
    /* a signal while blocked in send: retried, all written */
    assert_int_equal(nr_set_nonblock(sv[0], 0), 0);
    assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
    t = kick(30, -1);
    pid = fork();
    if (pid == 0) {
        struct timespec ts = { 0, 150000000L };
        close(sv[0]);
        nanosleep(&ts, NULL);
        while (have < 200000) {
            ssize_t n = read(sv[1], got + have, sizeof(got) - have);
            if (n <= 0)
                _exit(2);
            have += (size_t)n;
        }
        _exit(memcmp(got, big, 200000) == 0 ? 0 : 1);
    }
    assert_int_equal(nr_write_all(sv[0], big, 200000, -1), 0);
    pthread_join(t, NULL);
    {
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* the peer gone: -EPIPE, no SIGPIPE */
    close(sv[1]);
    assert_int_equal(nr_write_all(sv[0], "x", 1, 50), -EPIPE);
    close(sv[0]);
    assert_int_equal(nr_write_all(sv[0], "x", 1, 50), -EBADF);
    /* not a socket: written with write() */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(nr_write_all(p[1], "hello", 5, 50), 0);
    assert_int_equal(read(p[0], got, sizeof(got)), 5);
    assert_memory_equal(got, "hello", 5);
    close(p[0]);
    assert_int_equal(nr_write_all(p[1], "x", 1, 50), -EPIPE);
    close(p[1]);
}

static void read_and_nonblock(void **state)
{
    int p[2];
    char buf[8];
    pthread_t t;

    (void)state;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(nr_set_nonblock(p[0], 1), 0);
    assert_int_equal(nr_read(p[0], buf, sizeof(buf)), -EAGAIN);
    assert_int_equal(nr_set_nonblock(p[0], 0), 0);
    /* a signal first, the byte after: one byte, not -EINTR */
    t = kick(20, p[1]);
    assert_int_equal(nr_read(p[0], buf, sizeof(buf)), 1);
    assert_int_equal(buf[0], 'k');
    pthread_join(t, NULL);
    close(p[1]);
    assert_int_equal(nr_read(p[0], buf, sizeof(buf)), 0);
    close(p[0]);
    assert_int_equal(nr_read(p[0], buf, sizeof(buf)), -EBADF);
    assert_int_equal(nr_set_nonblock(p[0], 1), -EBADF);
}

static void clock_and_deadlines(void **state)
{
    struct timespec ts;
    int64_t now, mine;
    int left;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    mine = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    now = nr_now_ms();
    assert_true(now >= mine && now - mine <= 20);
    assert_int_equal(nr_ms_left(-1), -1);
    assert_int_equal(nr_ms_left(-5000), -1);
    assert_int_equal(nr_ms_left(0), 0);
    assert_int_equal(nr_ms_left(now - 10), 0);
    left = nr_ms_left(nr_now_ms() + 1000);
    assert_true(left >= 980 && left <= 1000);
    assert_int_equal(nr_ms_left(nr_now_ms() + ((int64_t)1 << 40)), INT32_MAX);
    assert_int_equal(nr_ms_left(nr_now_ms() + INT32_MAX + 100), INT32_MAX);
}

/* LISTEN_FDS must be at least 1 (a decimal count: "9" is nine sockets);
 * without LISTEN_PID nothing is taken. */
static void activation_counts(void **state)
{
    char pid[32];

    (void)state;
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "0", 1);
    setenv("LISTEN_FDNAMES", "x", 1);
    assert_int_equal(nr_activation_fd(), -1);
    assert_null(getenv("LISTEN_PID"));
    assert_null(getenv("LISTEN_FDNAMES"));
    setenv("LISTEN_FDS", "1", 1);
    assert_int_equal(nr_activation_fd(), -1);
    unsetenv("LISTEN_FDS");
    /* this process with 9 sockets (a decimal count): the first is fd 3 */
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "9", 1);
    assert_int_equal(nr_activation_fd(), 3);
    assert_null(getenv("LISTEN_PID"));
    assert_null(getenv("LISTEN_FDS"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(addr_parse_errors),   heap_exact_test(addr_parse_fields),
        heap_exact_test(from_host_edges),     heap_exact_test(unix_addresses),
        heap_exact_test(format_edges),        heap_exact_test(bind_sockets),
        heap_exact_test(connect_tcp),         heap_exact_test(connect_timeout),
        heap_exact_test(wait_fd),             heap_exact_test(write_all),
        heap_exact_test(read_and_nonblock),   heap_exact_test(clock_and_deadlines),
        heap_exact_fds_test(activation_counts),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    signal(SIGPIPE, SIG_IGN); /* a pipe without a reader: EPIPE from write() */
    alarm(60); /* a loop in the code under test ends the run, not the machine */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
