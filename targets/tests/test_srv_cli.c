/* Integration test: the server targets' command lines and log lines.
 *
 * Every option value just inside its range starts the server; just outside,
 * malformed or empty, it is refused with exit 2 and a message naming the
 * option, the range and the value; an unknown option prints the usage on
 * stderr, an extra argument is named, --help prints the usage on stdout
 * and exits 0, a port in use exits 1 naming the error.  The log lines a
 * connection produces (connected, its result and byte count, shutting
 * down) are checked word for word, and --idle-timeout really drops an idle
 * client. */
#include "itest.h"
#include "itest_reap.h"

#include <fcntl.h>
#include <netinet/in.h>

#include "tcp-greet/greet.h"

#define RUN_MS 3000 /* a refused command line exits at once; this is the bound */

/* One run of a target that must exit by itself. */
struct cli_run {
    int status;             /* exit status, or -1 when it did not exit normally */
    char out[4096], err[4096];
};

/* Read at most cap-1 bytes of file path into buf (NUL-terminated). */
static void slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;

    buf[0] = '\0';
    if (fd < 0)
        return;
    while (got < cap - 1) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
}

/* Run target `name` with args (NULL-terminated) and no --port of ours; it
 * must exit within RUN_MS (a server that started instead is killed and the
 * test fails).  Fills *r. */
static void cli_run(struct cli_run *r, const char *name, ...)
{
    char path[512], dir[64], out[96], err[96], errbuf[NR_ERRBUF_SIZE], st[64];
    char *argv[16];
    struct nr_proc p;
    va_list ap;
    int argc = 0;

    itest_bin(name, path, sizeof(path));
    argv[argc++] = path;
    va_start(ap, name);
    for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    snprintf(dir, sizeof(dir), "/tmp/clitest.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(err, sizeof(err), "%s/err", dir);
    struct nr_spawn sp = { .argv = argv, .env_extra = itest_env, .stdout_path = out,
                           .stderr_path = err, .activation_fd = -1 };
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("%s", errbuf);
    if (nr_proc_wait(&p, RUN_MS) != 1) {
        nr_proc_kill(&p, 1000);
        nr_proc_release(&p);
        fail_msg("%s %s: still running after %d ms (the command line was accepted)", name,
                 argc > 1 ? argv[1] : "", RUN_MS);
    }
    nr_status_str(p.status, st, sizeof(st));
    r->status = WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
    nr_proc_release(&p);
    slurp(out, r->out, sizeof(r->out));
    slurp(err, r->err, sizeof(r->err));
    unlink(out);
    unlink(err);
    rmdir(dir);
    print_message("%s %s -> %s\n", name, argc > 1 ? argv[1] : "", st);
}

/* The run exited with `status` and `text` is in its stdout (where = 1) or
 * stderr (where = 2); the other stream holds nothing of it. */
static void cli_expect(const struct cli_run *r, int status, int where, const char *text)
{
    const char *in = where == 1 ? r->out : r->err;

    if (r->status != status)
        fail_msg("exit status %d, want %d (stderr: %s)", r->status, status, r->err);
    if (!strstr(in, text))
        fail_msg("%s does not say '%s': '%s'", where == 1 ? "stdout" : "stderr", text, in);
    if (strstr(where == 1 ? r->err : r->out, text))
        fail_msg("'%s' printed on %s too", text, where == 1 ? "stderr" : "stdout");
}

/* `name OPT VALUE` is refused: exit 2 and `message` (with the value) on stderr. */
static void refuse(const char *name, const char *opt, const char *value, const char *message)
{
    char want[256];
    struct cli_run r;

    snprintf(want, sizeof(want), "%s: %s: %s, got '%s'\n", name, opt, message, value);
    cli_run(&r, name, opt, value, NULL);
    cli_expect(&r, 2, 2, want);
}

/* `name OPT VALUE --port 0` starts and stops cleanly (exit 0). */
static void accept_value(const char *name, const char *opt, const char *value)
{
    struct itest_srv s;

    itest_start(&s, name, "-q", opt, value, NULL);
    itest_stop(&s);
}

static const char *const servers[] = { "tcp-echo", "tcp-echo-mt", "tcp-greet", "tcp-time",
                                       "udp-echo" };
#define NSERVERS (sizeof(servers) / sizeof(servers[0]))

/* Whether target t is tested: every one, unless NR_TEST_TARGET names some
 * (blank-separated; ci/mutate.map runs only the mutated target's cases). */
static int wanted(const char *t)
{
    const char *only = getenv("NR_TEST_TARGET");
    size_t n = strlen(t);

    if (!only || !*only)
        return 1;
    for (const char *p = only; (p = strstr(p, t)); p += n)
        if ((p == only || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return 1;
    return 0;
}

/* The options every server shares: --help (with the shared options'
 * lines), an unknown option, an extra
 * argument, --port out of range or malformed, a port in use. */
static void shared_options(void **state)
{
    static const char *const bad_ports[] = { "-1", "65536", "", "80x", "99999999999999999999" };
    struct cli_run r;

    (void)state;
    for (size_t i = 0; i < NSERVERS; i++) {
        const char *t = servers[i];
        char want[128];

        if (!wanted(t))
            continue;
        snprintf(want, sizeof(want), "usage: %s [options]\n", t);
        cli_run(&r, t, "--help", NULL);
        cli_expect(&r, 0, 1, want);
        cli_expect(&r, 0, 1, "  -b, --bind ADDR   address to listen on"); /* the shared lines */
        cli_expect(&r, 0, 1, "SIGINT/SIGTERM stop it.\n");
        cli_run(&r, t, "-h", NULL);
        cli_expect(&r, 0, 1, want);
        cli_run(&r, t, "--no-such-option", NULL);
        cli_expect(&r, 2, 2, want);
        snprintf(want, sizeof(want), "%s: unexpected argument 'extra'\n", t);
        cli_run(&r, t, "--port", "0", "extra", NULL);
        cli_expect(&r, 2, 2, want);
        for (size_t j = 0; j < sizeof(bad_ports) / sizeof(bad_ports[0]); j++)
            refuse(t, "--port", bad_ports[j], "expected 0-65535");
    }
}

/* A port another socket holds (bound without SO_REUSEADDR, so a UDP server
 * cannot share it either): exit 1, the error named on stderr. */
static void port_in_use(void **state)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    struct cli_run r;
    char port[16];

    (void)state;
    for (size_t i = 0; i < NSERVERS; i++) {
        int type = strcmp(servers[i], "udp-echo") ? SOCK_STREAM : SOCK_DGRAM;
        int fd;

        if (!wanted(servers[i]))
            continue;
        fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        a.sin_port = 0;
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
        if (type == SOCK_STREAM)
            assert_int_equal(listen(fd, 1), 0);
        snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
        cli_run(&r, servers[i], "--port", port, NULL);
        close(fd);
        cli_expect(&r, 1, 2, "Address already in use");
        if (strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
            fail_msg("%s: one line expected, and no more attempts: '%s'", servers[i], r.err);
    }
}

/* One option of a target: the range its message names, values it must
 * refuse (at most 5) and the values at its bounds (and at most one more)
 * it must accept. */
struct bound_case {
    const char *target, *opt, *range;
    const char *bad[5];
    const char *good[3];
};

static const struct bound_case bounds[] = {
    { "tcp-echo", "--idle-timeout", "0-86400000",
      { "-1", "86400001", "", "5s", "99999999999999999999" }, { "0", "86400000" } },
    { "tcp-echo-mt", "--idle-timeout", "0-86400000",
      { "-1", "86400001", "", "5s", "99999999999999999999" }, { "0", "86400000" } },
    { "tcp-echo-mt", "--max-conns", "1-65536", { "0", "65537", "two" }, { "1", "65536" } },
    { "udp-echo", "--bufsize", "1-1048576", { "0", "1048577", "", "1k" }, { "1", "1048576" } },
    { "tcp-time", "--read-size", "1-16777216", { "0", "16777217", "", "-5", "+5" },
      { "1", "16777216", "09" } },
    { "tcp-time", "--out-cap", "1-1073741824", { "0", "1073741825", "4x", " 5" },
      { "1", "1073741824", "9" } },
};

/* Each target's own options at and past their bounds. */
static void option_bounds(void **state)
{
    char range[64];

    (void)state;
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        const struct bound_case *b = &bounds[i];

        if (!wanted(b->target))
            continue;
        snprintf(range, sizeof(range), "expected %s", b->range);
        for (size_t j = 0; j < 5 && b->bad[j]; j++)
            refuse(b->target, b->opt, b->bad[j], range);
        for (size_t j = 0; j < 3 && b->good[j]; j++)
            accept_value(b->target, b->opt, b->good[j]);
    }
}

/* tcp-greet --message: a line break or bad UTF-8 named at its byte offset;
 * one byte over the limit refused, the limit itself served elsewhere
 * (test_srv_shortio). */
static void greet_message(void **state)
{
    static char big[GREET_MAX + 2];
    struct cli_run r;

    (void)state;
    if (!wanted("tcp-greet"))
        return;
    cli_run(&r, "tcp-greet", "--message", "hi\nthere", NULL);
    cli_expect(&r, 2, 2, "tcp-greet: --message: invalid UTF-8 or line break at byte 2\n");
    cli_run(&r, "tcp-greet", "--message", "abc\xff", NULL);
    cli_expect(&r, 2, 2, "tcp-greet: --message: invalid UTF-8 or line break at byte 3\n");
    memset(big, 'x', GREET_MAX + 1);
    cli_run(&r, "tcp-greet", "--message", big, NULL);
    cli_expect(&r, 2, 2, "tcp-greet: --message longer than 4096 bytes\n");
}

/* The line `want`, whole, appears in the server's stderr within 2 s. */
static void expect_log(struct itest_srv *s, const char *want)
{
    itest_expect_log(s, want, want);
}

/* Close fd with an RST. */
static void reset_close(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(fd);
}

/* The echo servers' log: connected; "closed after N bytes echoed" after a
 * half-close; the reset named after a reset; an idle client dropped by
 * --idle-timeout with its count. */
static void echo_log(const char *t, struct itest_srv *s)
{
    char name[NR_ADDRSTR_SIZE], want[256], buf[16];
    int fd;

    fd = itest_connect(s);
    itest_peer_name(fd, name, sizeof(name));
    assert_int_equal(nr_write_all(fd, "hello", 5, 1000), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    itest_read_exact(fd, buf, 5, 2000);
    itest_expect_eof(fd, 2000);
    close(fd);
    snprintf(want, sizeof(want), "%s: %s: connected", t, name);
    expect_log(s, want);
    snprintf(want, sizeof(want), "%s: %s: closed after 5 bytes echoed", t, name);
    expect_log(s, want);

    fd = itest_connect(s);
    itest_peer_name(fd, name, sizeof(name));
    assert_int_equal(nr_write_all(fd, "abc", 3, 1000), 0);
    itest_read_exact(fd, buf, 3, 2000);
    reset_close(fd);
    snprintf(want, sizeof(want), "%s: %s: %s after 3 bytes echoed", t, name,
             strerror(ECONNRESET));
    expect_log(s, want);

    /* Idle: dropped after 300 ms without progress (EOF for the client). */
    fd = itest_connect(s);
    itest_peer_name(fd, name, sizeof(name));
    itest_expect_eof(fd, 2000);
    close(fd);
    snprintf(want, sizeof(want), "%s: %s: %s after 0 bytes echoed", t, name,
             strerror(ETIMEDOUT));
    expect_log(s, want);
}

static void echo_log_lines(void **state)
{
    struct itest_srv s;

    (void)state;
    if (!wanted("tcp-echo"))
        return;
    itest_start(&s, "tcp-echo", "--idle-timeout", "300", NULL);
    echo_log("tcp-echo", &s);
    nr_proc_signal(&s.proc, SIGTERM);
    expect_log(&s, "tcp-echo: shutting down");
    itest_stop(&s);
}

/* tcp-echo-mt's log: as tcp-echo's, plus a client past --max-conns named
 * as refused, and the clients still connected counted at shutdown. */
static void echo_mt_log_lines(void **state)
{
    char name[NR_ADDRSTR_SIZE], want[256], buf[4];
    struct itest_srv s;
    int a, b;

    (void)state;
    if (!wanted("tcp-echo-mt"))
        return;
    itest_start(&s, "tcp-echo-mt", "--idle-timeout", "300", NULL);
    echo_log("tcp-echo-mt", &s);
    itest_stop(&s);
    itest_start(&s, "tcp-echo-mt", "--max-conns", "1", NULL);
    a = itest_connect(&s);
    assert_int_equal(nr_write_all(a, "k", 1, 1000), 0);
    itest_read_exact(a, buf, 1, 2000); /* its thread runs */
    /* A plain connect: the handshake completes in the kernel, the reset
     * follows (itest_connect would see it and fail). */
    b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(b >= 0);
    assert_int_equal(connect(b, (struct sockaddr *)&s.addr.ss, s.addr.len), 0);
    itest_peer_name(b, name, sizeof(name));
    snprintf(want, sizeof(want), "tcp-echo-mt: %s: refused: at capacity (1)", name);
    expect_log(&s, want);
    close(b);
    nr_proc_signal(&s.proc, SIGTERM);
    expect_log(&s, "tcp-echo-mt: shutting down (1 clients)");
    itest_stop(&s);
    close(a);
}

/* -q: no per-connection lines, nothing at shutdown. */
static void echo_quiet(void **state)
{
    char buf[4], err[256];
    struct itest_srv s;
    int fd;

    (void)state;
    if (!wanted("tcp-echo"))
        return;
    itest_start(&s, "tcp-echo", "-q", NULL);
    fd = itest_connect(&s);
    assert_int_equal(nr_write_all(fd, "x", 1, 1000), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    itest_read_exact(fd, buf, 1, 2000);
    itest_expect_eof(fd, 2000);
    close(fd);
    slurp(s.err, err, sizeof(err));
    itest_stop(&s);
    assert_string_equal(err, "");
}

int main(void)
{
    struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_options),
        cmocka_unit_test(port_in_use),
        cmocka_unit_test(option_bounds),
        cmocka_unit_test(greet_message),
        cmocka_unit_test(echo_log_lines),
        cmocka_unit_test(echo_mt_log_lines),
        cmocka_unit_test(echo_quiet),
    };
    /* a failed check leaves the server running: each case's teardown ends it */
    itest_reap_every_case(tests, sizeof(tests) / sizeof(tests[0]), NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
