/* Unit tests of the servers' shared plumbing (targets/common/srv.c), in
 * process, against srv.h: srv_option's tri-state and port bounds,
 * srv_init's defaults, srv_start's readiness line and descriptors, each of
 * its failures exactly -1 with one line on stderr (no signalfd: out of
 * descriptors; a bind that fails; O_NONBLOCK refused, by the fault
 * injector in-process), srv_next_conn's connection and SRV_STOP, the log
 * lines, srv_accept's failures (a transient one leaves the connection
 * waiting; out of descriptors sheds it), and srv_close closing everything,
 * descriptor 0 included. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/srv.h"
#include "fault_inproc.h"
#include "tnames.h"

/* accept4 as srv.c calls it: the C library's, except that a set
 * accept_fail makes the next call fail with that errno and take nothing
 * from the queue (as a failing accept4 does), then clears it. */
static int accept_fail;

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);

    if (accept_fail) {
        errno = accept_fail;
        accept_fail = 0;
        return -1;
    }
    if (!real_accept4)
        real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    return real_accept4(fd, sa, len, flags);
}

/* Entries of /proc/self/fd (less the directory's own descriptor). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* Capture what is written to descriptor fd (1 or 2) between cap_start and
 * cap_end; cap_end returns it (static). */
static int cap_saved = -1, cap_fd;
static FILE *cap_file;

static void cap_start(int fd)
{
    fflush(stdout);
    fflush(stderr);
    cap_fd = fd;
    cap_file = tmpfile();
    assert_non_null(cap_file);
    cap_saved = dup(fd);
    assert_true(cap_saved >= 0);
    assert_int_equal(dup2(fileno(cap_file), fd), fd);
}

static const char *cap_end(void)
{
    static char text[2048];
    size_t n;

    fflush(stdout);
    fflush(stderr);
    dup2(cap_saved, cap_fd);
    close(cap_saved);
    rewind(cap_file);
    n = fread(text, 1, sizeof(text) - 1, cap_file);
    text[n] = '\0';
    fclose(cap_file);
    return text;
}

/* srv_start a stream server "tsrv" on an ephemeral port (readiness line
 * captured and dropped). */
static void start_listening(struct srv *s)
{
    int r;

    srv_init(s, "tsrv", SOCK_STREAM, 0);
    cap_start(1);
    r = srv_start(s);
    cap_end();
    assert_ret_equal(r, 0);
}

/* The same for stdout inside a capture of stderr: cap_end_out leaves the
 * text in out_text. */
static int out_saved = -1;
static FILE *out_file;
static char out_text[512];

static void cap_start_out(void)
{
    fflush(stdout);
    out_file = tmpfile();
    assert_non_null(out_file);
    out_saved = dup(1);
    assert_int_equal(dup2(fileno(out_file), 1), 1);
}

static void cap_end_out(void)
{
    size_t n;

    fflush(stdout);
    dup2(out_saved, 1);
    close(out_saved);
    rewind(out_file);
    n = fread(out_text, 1, sizeof(out_text) - 1, out_file);
    out_text[n] = '\0';
    fclose(out_file);
}

/* Fill the stack below this frame with 0xff, so a variable srv_start
 * forgot to initialise (a signal set) does not happen to read as zeros. */
static __attribute__((noinline)) void dirty_stack(void)
{
    volatile unsigned char junk[16384];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = 0xff;
}

/* Consume a pending SIGTERM (blocked by srv_start). */
static void drain_sigterm(void)
{
    sigset_t set;
    struct timespec zero = { 0, 0 };

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    while (sigtimedwait(&set, NULL, &zero) == SIGTERM)
        ;
}

static void init_defaults(void **state)
{
    struct srv s;

    (void)state;
    memset(&s, 0x5a, sizeof(s));
    srv_init(&s, "tsrv", SOCK_DGRAM, 7007);
    assert_string_equal(s.name, "tsrv");
    assert_string_equal(s.bind, "127.0.0.1");
    assert_ret_equal(s.port, 7007);
    assert_ret_equal(s.type, SOCK_DGRAM);
    assert_ret_equal(s.quiet, 0);
    assert_ret_equal(s.fd, -1);
    assert_ret_equal(s.sigfd, -1);
    assert_ret_equal(s.reserve_fd, -1);
}

/* 0 for a shared option taken, 1 for one that is not shared (the caller's,
 * -h included), -1 with one line for a bad port; 0 and 65535 taken. */
static void option_tristate(void **state)
{
    static const char *const bad[] = { "65536", "-1", "", "80x", "99999999999999999999" };
    struct srv s;
    char want[96];

    (void)state;
    srv_init(&s, "tsrv", SOCK_STREAM, 1);
    assert_ret_equal(srv_option(&s, 'b', "::1"), 0);
    assert_string_equal(s.bind, "::1");
    assert_ret_equal(srv_option(&s, 'q', NULL), 0);
    assert_ret_equal(s.quiet, 1);
    assert_ret_equal(srv_option(&s, 'p', "0"), 0);
    assert_ret_equal(s.port, 0);
    errno = ERANGE; /* left by an earlier call: not strtol's */
    assert_ret_equal(srv_option(&s, 'p', "65535"), 0);
    assert_ret_equal(s.port, 65535);
    assert_ret_equal(srv_option(&s, 'h', NULL), 1);
    assert_ret_equal(srv_option(&s, 't', "5"), 1);
    assert_ret_equal(srv_option(&s, '?', NULL), 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cap_start(2);
        assert_ret_equal(srv_option(&s, 'p', bad[i]), -1);
        snprintf(want, sizeof(want), "tsrv: --port: expected 0-65535, got '%s'\n", bad[i]);
        assert_string_equal(cap_end(), want);
        assert_ret_equal(s.port, 65535);
    }
}

/* Listening: the readiness line on stdout, a non-blocking socket, the
 * signalfd and the reserve descriptor; a connection comes out of
 * srv_next_conn with its peer; a SIGTERM makes srv_stopping true and
 * srv_next_conn return SRV_STOP; srv_close closes all three. */
static void start_accept_stop_close(void **state)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char want[64], peer[NR_ADDRSTR_SIZE], cpeer[NR_ADDRSTR_SIZE];
    struct srv s;
    socklen_t alen = sizeof(a);
    int before = open_fds(), c, fd, r;
    struct sigaction sa;
    sigset_t none, mask;

    (void)state;
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    cap_start(1);
    dirty_stack();
    r = srv_start(&s);
    snprintf(want, sizeof(want), "%s", cap_end());
    assert_ret_equal(r, 0);
    /* SIGPIPE ignored; SIGINT and SIGTERM blocked, and nothing else */
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_IGN);
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&mask, sig) != (sig == SIGINT || sig == SIGTERM))
            fail_msg("signal %d (%s) is %sblocked", sig, strsignal(sig),
                     sigismember(&mask, sig) ? "" : "not ");
    assert_true(s.fd >= 0 && s.sigfd >= 0 && s.reserve_fd >= 0);
    assert_ret_equal(open_fds(), before + 3);
    assert_true(fcntl(s.fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(getsockname(s.fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(peer, sizeof(peer), "listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
    assert_string_equal(want, peer);
    assert_ret_equal(srv_stopping(&s), 0);

    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    fd = srv_next_conn(&s, peer);
    assert_true(fd >= 0);
    alen = sizeof(a);
    assert_int_equal(getsockname(c, (struct sockaddr *)&a, &alen), 0);
    snprintf(cpeer, sizeof(cpeer), "127.0.0.1:%u", ntohs(a.sin_port));
    assert_string_equal(peer, cpeer);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    close(c);

    assert_int_equal(raise(SIGTERM), 0);
    assert_ret_equal(srv_stopping(&s), 1);
    assert_ret_equal(srv_stopping(&s), 1); /* level-checked: nothing consumed */
    assert_ret_equal(srv_next_conn(&s, peer), SRV_STOP);
    drain_sigterm();
    assert_ret_equal(srv_stopping(&s), 0);

    srv_close(&s);
    assert_ret_equal(s.fd, -1);
    assert_ret_equal(s.sigfd, -1);
    assert_ret_equal(s.reserve_fd, -1);
    assert_ret_equal(open_fds(), before);
    srv_close(&s); /* twice: nothing to close */
    assert_ret_equal(open_fds(), before);
}

/* With stdin closed the signalfd is descriptor 0: srv_close closes it too,
 * and a socket at 0 as well. */
static void close_with_sigfd_zero(void **state)
{
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), before, after, sigfd, r;
    struct srv s;

    (void)state;
    assert_true(saved >= 0);
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    cap_start(1); /* its descriptors first: 0 is the lowest free one next */
    close(0);
    before = open_fds();
    r = srv_start(&s);
    sigfd = s.sigfd;
    srv_close(&s);
    after = open_fds();
    cap_end();
    assert_ret_equal(r, 0);
    assert_ret_equal(sigfd, 0);
    assert_ret_equal(after, before);
    assert_int_equal(fcntl(0, F_GETFD), -1);
    /* a socket at 0 is closed by srv_close too */
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_ret_equal(s.fd, 0);
    srv_close(&s);
    assert_int_equal(fcntl(0, F_GETFD), -1);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
}

/* srv_start's failures: exactly -1 and one line "tsrv: ..." on stderr, for
 * each cause, and no descriptor left open. */
static void start_failures(void **state)
{
    struct rlimit old, low;
    struct srv s;
    const char *err;
    int before = open_fds(), r, dups[64], nd = 0;

    (void)state;
    /* no descriptor for the signalfd: every one below a limit of 64 taken */
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    cap_start(2);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (nd < 64 && (dups[nd] = dup(0)) >= 0)
        nd++;
    r = srv_start(&s);
    while (nd > 0)
        close(dups[--nd]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    err = cap_end();
    assert_ret_equal(r, -1);
    assert_string_equal(err, "tsrv: signalfd: Too many open files\n");
    srv_close(&s);
    assert_ret_equal(open_fds(), before);

    /* a bind address that does not parse */
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    srv_option(&s, 'b', "not-an-address");
    cap_start(2);
    r = srv_start(&s);
    err = cap_end();
    assert_ret_equal(r, -1);
    assert_string_equal(err, "tsrv: not a numeric IPv4 or IPv6 address: 'not-an-address'\n");
    srv_close(&s);
    assert_ret_equal(open_fds(), before);

    /* an address this host does not have: bind fails, and its line says so */
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    srv_option(&s, 'b', "192.0.2.1");
    cap_start(2);
    r = srv_start(&s);
    err = cap_end();
    assert_ret_equal(r, -1);
    assert_non_null(strstr(err, strerror(EADDRNOTAVAIL)));
    assert_int_equal(strncmp(err, "tsrv: ", 6), 0);
    assert_non_null(strstr(err, "192.0.2.1"));
    srv_close(&s);
    assert_ret_equal(open_fds(), before);

    /* O_NONBLOCK refused: the fault injector fails the first fcntl */
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    cap_start(2);
    fault_inproc_set("fcntl:1");
    r = srv_start(&s);
    fault_inproc_off();
    err = cap_end();
    assert_ret_equal(r, -1);
    assert_string_equal(err, "tsrv: O_NONBLOCK on listening socket: Bad file descriptor\n");
    srv_close(&s);
    assert_ret_equal(open_fds(), before);
}

/* srv_log writes "name: text" unless quiet; srv_err always; a line is at
 * most 511 bytes before its newline. */
static void log_lines(void **state)
{
    struct srv s;
    char text[700];
    const char *got;

    (void)state;
    srv_init(&s, "tsrv", SOCK_STREAM, 0);
    cap_start(2);
    srv_log(&s, "a %d", 1);
    srv_err(&s, "b %s", "x");
    s.quiet = 1;
    srv_log(&s, "hidden");
    srv_err(&s, "c");
    assert_string_equal(cap_end(), "tsrv: a 1\ntsrv: b x\ntsrv: c\n");
    /* a line is cut at 511 bytes (its buffer's 512 with the NUL) */
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    cap_start(2);
    srv_err(&s, "%s", text);
    got = cap_end();
    assert_ret_equal(strlen(got), 512);
    assert_memory_equal(got, "tsrv: xxx", 9);
    assert_int_equal(got[511], '\n');
}

/* Socket activation (LISTEN_PID = this process, LISTEN_FDS=1): descriptor
 * 3 is the socket, when it is one of the server's type; a datagram socket
 * for a stream server, or a pipe, is -1 with one line naming fd 3. */
static int activate(int fd, struct srv *s, int type, const char **err)
{
    char pid[24];
    int r;

    assert_int_equal(dup2(fd, 3), 3);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    srv_init(s, "tsrv", type, 0);
    cap_start(2);
    cap_start_out();
    r = srv_start(s);
    cap_end_out();
    *err = cap_end();
    return r;
}

static void activation(void **state)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    int saved = fcntl(3, F_DUPFD_CLOEXEC, 10), l, d, d2, p[2];
    const char *err;
    char want[64];
    struct srv s;

    (void)state;
    close(3); /* the sockets below are made elsewhere, 3 is only dup2'd to */
    l = fcntl(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), F_DUPFD_CLOEXEC, 20);
    assert_true(l >= 20);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 4), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    assert_ret_equal(activate(l, &s, SOCK_STREAM, &err), 0);
    assert_string_equal(err, "");
    assert_ret_equal(s.fd, 3);
    snprintf(want, sizeof(want), "listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
    assert_string_equal(out_text, want);
    srv_close(&s);

    assert_ret_equal(activate(l, &s, SOCK_DGRAM, &err), -1);
    assert_string_equal(err, "tsrv: activation fd 3 is not a datagram socket\n");
    srv_close(&s);
    d = fcntl(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), F_DUPFD_CLOEXEC, 20);
    assert_ret_equal(activate(d, &s, SOCK_STREAM, &err), -1);
    assert_string_equal(err, "tsrv: activation fd 3 is not a stream socket\n");
    srv_close(&s);
    assert_int_equal(pipe(p), 0);
    d2 = fcntl(p[0], F_DUPFD_CLOEXEC, 20);
    close(p[0]);
    p[0] = d2;
    assert_ret_equal(activate(p[0], &s, SOCK_STREAM, &err), -1);
    assert_string_equal(err, "tsrv: activation fd 3: Socket operation on non-socket\n");
    srv_close(&s);
    close(3);
    close(p[0]);
    close(p[1]);
    close(d);
    close(l);
    if (saved >= 0) {
        dup2(saved, 3);
        close(saved);
    }
    drain_sigterm();
}

/* A client connected to s, its connection waiting in s's queue. */
static int connect_waiting(struct srv *s)
{
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(c >= 0);
    assert_int_equal(connect(c, (struct sockaddr *)&s->local.ss, s->local.len), 0);
    assert_true(nr_wait_fd(s->fd, POLLIN, 2000) > 0);
    return c;
}

/* The connection c reached the server as fd: a byte written there is read
 * at c. */
static void same_connection(int fd, int c)
{
    char b = 0;

    assert_int_equal(write(fd, "k", 1), 1);
    assert_true(nr_wait_fd(c, POLLIN, 2000) > 0);
    assert_int_equal(read(c, &b, 1), 1);
    assert_int_equal(b, 'k');
}

/* srv_accept's failures, as srv.h gives them: a transient one (no memory,
 * a connection aborted, a firewall's EPERM) is -errno, nothing logged,
 * nothing shed: the waiting connection is the next one accepted.  Out of
 * descriptors (EMFILE, ENFILE) the waiting connection is taken through the
 * reserve descriptor and closed (one line; the client sees it end; the
 * reserve is taken again) and the result is -errno, or -EAGAIN when none
 * waited.  With no reserve, one line and -errno after a back-off (no spin),
 * and the connection still waits. */
static void accept_failures(void **state)
{
    static const int transient[] = { ENOMEM, ECONNABORTED, EPERM, ENOBUFS };
    static const int nofd[] = { EMFILE, ENFILE };
    struct nr_addr peer;
    struct timespec t0, t1;
    struct srv s;
    char want[128], b;
    const char *err;
    int before, c, fd, r;
    long ms;

    (void)state;
    start_listening(&s);
    before = open_fds();
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        c = connect_waiting(&s);
        accept_fail = transient[i];
        cap_start(2);
        r = srv_accept(&s, &peer);
        err = cap_end();
        assert_ret_equal(r, -transient[i]);
        assert_string_equal(err, "");
        assert_ret_equal(open_fds(), before + 1);
        fd = srv_accept(&s, &peer);
        assert_true(fd >= 0);
        same_connection(fd, c);
        close(fd);
        close(c);
    }
    for (size_t i = 0; i < sizeof(nofd) / sizeof(nofd[0]); i++) {
        c = connect_waiting(&s);
        accept_fail = nofd[i];
        cap_start(2);
        r = srv_accept(&s, &peer);
        err = cap_end();
        assert_ret_equal(r, -nofd[i]);
        snprintf(want, sizeof(want), "tsrv: accept: %s: shedding one connection\n",
                 strerror(nofd[i]));
        assert_string_equal(err, want);
        assert_true(nr_wait_fd(c, POLLIN, 2000) > 0);
        assert_true(read(c, &b, 1) <= 0); /* EOF (or reset): shed */
        assert_true(s.reserve_fd >= 0);
        assert_int_equal(fcntl(s.reserve_fd, F_GETFD), FD_CLOEXEC);
        assert_ret_equal(open_fds(), before + 1);
        close(c);
        assert_ret_equal(srv_accept(&s, &peer), -EAGAIN); /* nothing else waited */
        /* out of descriptors with none waiting: -EAGAIN, silently */
        accept_fail = nofd[i];
        cap_start(2);
        r = srv_accept(&s, &peer);
        err = cap_end();
        assert_ret_equal(r, -EAGAIN);
        assert_string_equal(err, "");
        assert_true(s.reserve_fd >= 0);
        assert_ret_equal(open_fds(), before);
    }
    /* no reserve (it could not be reopened): back off, shed nothing */
    close(s.reserve_fd);
    s.reserve_fd = -1;
    c = connect_waiting(&s);
    accept_fail = EMFILE;
    cap_start(2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = srv_accept(&s, &peer);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    err = cap_end();
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_ret_equal(r, -EMFILE);
    assert_string_equal(err, "tsrv: accept: Too many open files\n");
    assert_true(ms >= 50);
    assert_ret_equal(s.reserve_fd, -1);
    fd = srv_accept(&s, &peer);
    assert_true(fd >= 0);
    same_connection(fd, c);
    close(fd);
    close(c);
    srv_close(&s);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A signal other than SIGINT/SIGTERM, caught by a handler, ends
 * srv_next_conn's wait with -EINTR (srv.h: a transient failure, call
 * again), and the next call still takes a connection. */
static void next_conn_interrupted(void **state)
{
    struct itimerval t = { .it_value = { .tv_sec = 0, .tv_usec = 30000 } };
    struct sigaction sa = { .sa_handler = on_alarm }, old;
    char peer[NR_ADDRSTR_SIZE];
    struct srv s;
    int r, c, fd;

    (void)state;
    start_listening(&s);
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    assert_int_equal(setitimer(ITIMER_REAL, &t, NULL), 0);
    r = srv_next_conn(&s, peer);
    sigaction(SIGALRM, &old, NULL);
    assert_ret_equal(r, -EINTR);
    c = connect_waiting(&s);
    fd = srv_next_conn(&s, peer);
    assert_true(fd >= 0);
    close(fd);
    close(c);
    srv_close(&s);
}

/* The address text srv_next_conn gives for client c: its local address. */
static void expect_peer(int c, const char *peerstr)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    char want[NR_ADDRSTR_SIZE];

    assert_int_equal(getsockname(c, (struct sockaddr *)&a, &alen), 0);
    snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(a.sin_port));
    assert_string_equal(peerstr, want);
}

/* Descriptor 0 is a descriptor like any other (a server may close its
 * stdin): a connection accepted as 0 comes out of srv_next_conn with its
 * peer; shedding works when the shed connection, then the reserve, is 0;
 * srv_close closes a reserve at 0. */
static void accept_as_descriptor_zero(void **state)
{
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), c, fd, r;
    char peer[NR_ADDRSTR_SIZE], want[128], b;
    const char *err;
    struct srv s;

    (void)state;
    assert_true(saved >= 0);
    start_listening(&s);
    c = connect_waiting(&s);
    memset(peer, 'x', sizeof(peer) - 1);
    peer[sizeof(peer) - 1] = '\0';
    close(0);
    fd = srv_next_conn(&s, peer);
    assert_ret_equal(fd, 0);
    expect_peer(c, peer);
    same_connection(0, c);
    close(c);
    assert_int_equal(dup2(saved, 0), 0);

    snprintf(want, sizeof(want), "tsrv: accept: %s: shedding one connection\n", strerror(EMFILE));
    for (int round = 0; round < 2; round++) {
        c = connect_waiting(&s);
        cap_start(2);
        if (round == 0)
            close(0); /* the shed connection is 0, and the reserve after it */
        accept_fail = EMFILE;
        r = srv_accept(&s, (struct nr_addr[1]){ 0 });
        err = cap_end();
        assert_ret_equal(r, -EMFILE);
        assert_string_equal(err, want);
        assert_ret_equal(s.reserve_fd, 0);
        assert_true(nr_wait_fd(c, POLLIN, 2000) > 0);
        assert_true(read(c, &b, 1) <= 0);
        close(c);
    }
    srv_close(&s);
    assert_int_equal(fcntl(0, F_GETFD), -1); /* the reserve at 0 closed too */
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_defaults),
        cmocka_unit_test(option_tristate),
        cmocka_unit_test(start_accept_stop_close),
        cmocka_unit_test(close_with_sigfd_zero),
        cmocka_unit_test(start_failures),
        cmocka_unit_test(log_lines),
        cmocka_unit_test(accept_failures),
        cmocka_unit_test(accept_as_descriptor_zero),
        cmocka_unit_test(next_conn_interrupted),
        cmocka_unit_test(activation),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
