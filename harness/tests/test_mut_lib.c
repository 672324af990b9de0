/* Unit tests of small harness/lib functions written for make mutate's
 * survivors: zeek's likely server ports (every listed port is one, the
 * ports next to it are not unless listed too) and the socket-activation
 * descriptor (fd 3 is marked close-on-exec, nothing else is touched). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_flow.h"
#include "nr_ladder.h"
#include "nr_err.h"
#include "nr_net.h"
#include "heap_exact.h"

/* zeek's likely_server_ports with its default scripts (zeek a13de64), as
 * nr_flow.h documents them. */
static const uint16_t tcp_ports[] = {
    21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 443, 445, 465, 502, 514, 563, 585, 587,
    614, 631, 636, 989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3306, 3389, 5222,
    5223, 5269, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
};
static const uint16_t udp_ports[] = {
    53, 67, 68, 88, 123, 137, 161, 162, 443, 514, 784, 853, 1812, 2123, 2152, 3389, 3544,
    4011, 4754, 5060, 5072, 5353, 5355, 20000,
};

static int listed(const uint16_t *v, size_t n, long port)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == port)
            return 1;
    return 0;
}

static void check_ports(int proto, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (long p = (long)v[i] - 1; p <= (long)v[i] + 1; p++) {
            int want = listed(v, n, p);
            if (p < 0 || p > 65535)
                continue;
            if (nr_flow_likely_server_port(proto, (uint16_t)p) != want)
                fail_msg("%s port %ld: %d, want %d", proto == IPPROTO_TCP ? "tcp" : "udp", p,
                         !want, want);
        }
    }
}

static void likely_server_ports(void **state)
{
    (void)state;
    check_ports(IPPROTO_TCP, tcp_ports, sizeof(tcp_ports) / sizeof(tcp_ports[0]));
    check_ports(IPPROTO_UDP, udp_ports, sizeof(udp_ports) / sizeof(udp_ports[0]));
    assert_false(nr_flow_likely_server_port(IPPROTO_TCP, 0));
    assert_false(nr_flow_likely_server_port(IPPROTO_UDP, 65535));
    assert_false(nr_flow_likely_server_port(IPPROTO_UDP, 21));  /* a TCP-only port */
    assert_false(nr_flow_likely_server_port(IPPROTO_TCP, 67));  /* a UDP-only port */
}

/* LISTEN_PID/LISTEN_FDS naming this process: fd 3 is returned and marked
 * close-on-exec; fd 2 keeps its flags; the variables are gone after. */
static void activation_fd_cloexec(void **state)
{
    char pid[32];
    int sv[2], fl2;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(dup2(sv[0], 3), 3);
    assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, 0);
    fl2 = fcntl(2, F_GETFD);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    assert_int_equal(nr_activation_fd(), 3);
    assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    assert_int_equal(fcntl(2, F_GETFD), fl2);
    assert_null(getenv("LISTEN_PID"));
    assert_null(getenv("LISTEN_FDS"));
    /* another process's descriptors: not ours */
    setenv("LISTEN_PID", "1", 1);
    setenv("LISTEN_FDS", "1", 1);
    assert_int_equal(nr_activation_fd(), -1);
    close(3);
    close(sv[0]);
    close(sv[1]);
}

/* nr_addr_from_host takes numeric IPv6 (bare or in brackets) as well as
 * IPv4, and nothing else; a port past 65535 is refused. */
static void numeric_hosts(void **state)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_addr a;

    (void)state;
    assert_int_equal(nr_addr_from_host("::1", 8080, &a, err), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), 8080);
    assert_int_equal(nr_addr_from_host("127.0.0.1", 7, &a, err), 0);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), 7);
    assert_int_equal(nr_addr_from_host("localhost", 7, &a, err), -1);
    assert_int_equal(nr_addr_from_host("[::1]", 9, &a, err), 0); /* brackets taken off */
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_true(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&a.ss)->sin6_addr));
    assert_int_equal(nr_addr_from_host("[::1]", 65536, &a, err), -1);
    /* HOST:PORT: the port in decimal, every digit */
    assert_int_equal(nr_addr_parse("127.0.0.1:8089", &a, err), 0);
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), 8089);
    assert_int_equal(nr_addr_parse("[::1]:65535", &a, err), 0);
    assert_int_equal(nr_addr_port((struct sockaddr *)&a.ss), 65535);
    assert_int_equal(nr_addr_parse("127.0.0.1:65536", &a, err), -1);
    assert_int_equal(nr_addr_parse("127.0.0.1:8a", &a, err), -1);
}

/* The step log's (time-stamped) "N dropped by the kernel" count, several
 * digits long, summed over the lines that give one. */
static void ladder_dropped(void **state)
{
    static const char text[] = "  0.000100 capture: 30 packets, 1234 dropped by the kernel\n"
                               "  1.500000 capture: 2 packets, 7 dropped by the kernel\n";
    struct nr_ladder_log log;

    (void)state;
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)text, sizeof(text) - 1, &log), 0);
    assert_int_equal(log.dropped, 1241);
    nr_ladder_log_free(&log);
}

/* Loopback is 127/8, ::1 and ::ffff:127/104 (and AF_UNIX); 126/8, 128/8
 * and ::2 are not. */
static void loopback_addresses(void **state)
{
    static const struct { const char *host; int want; } cases[] = {
        { "127.0.0.1", 1 }, { "127.255.255.254", 1 }, { "126.255.255.255", 0 },
        { "128.0.0.1", 0 }, { "::1", 1 }, { "::2", 0 }, { "::ffff:127.0.0.9", 1 },
        { "::ffff:128.0.0.1", 0 },
    };
    char err[NR_ERRBUF_SIZE];
    struct nr_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(nr_addr_from_host(cases[i].host, 1, &a, err), 0);
        if (nr_addr_is_loopback((struct sockaddr *)&a.ss) != cases[i].want)
            fail_msg("%s: loopback %d, want %d", cases[i].host, !cases[i].want, cases[i].want);
    }
}

/* nr_err.h's two formatters: exactly -1 always, NULL takes no text, the
 * message cut to NR_ERRBUF_SIZE - 1 bytes, ": strerror" appended after it
 * (and cut as well). */
static void errbuf_helpers(void **state)
{
    char err[NR_ERRBUF_SIZE + 8], want[NR_ERRBUF_SIZE + 64], longs[NR_ERRBUF_SIZE + 10];

    (void)state;
    memset(err, 'z', sizeof(err));
    assert_int_equal(nr_seterr(err, "a %d %s", 42, "b"), -1);
    assert_string_equal(err, "a 42 b");
    assert_int_equal(nr_seterr(NULL, "a %d", 1), -1);
    assert_int_equal(nr_seterr_errno(NULL, ENOENT, "a %d", 1), -1);
    assert_int_equal(nr_seterr_errno(err, ENOENT, "open %s", "x"), -1);
    snprintf(want, sizeof(want), "open x: %s", strerror(ENOENT));
    assert_string_equal(err, want);
    memset(longs, 'L', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    memset(err, 'z', sizeof(err));
    assert_int_equal(nr_seterr(err, "%s", longs), -1);
    assert_int_equal(strlen(err), NR_ERRBUF_SIZE - 1);
    assert_int_equal(err[NR_ERRBUF_SIZE], 'z'); /* nothing past the buffer */
    memset(err, 'z', sizeof(err));
    assert_int_equal(nr_seterr_errno(err, EPERM, "%s", longs), -1);
    assert_int_equal(strlen(err), NR_ERRBUF_SIZE - 1);
    assert_int_equal(err[NR_ERRBUF_SIZE], 'z');
    /* room for part of the cause only */
    longs[NR_ERRBUF_SIZE - 5] = '\0';
    assert_int_equal(nr_seterr_errno(err, EPERM, "%s", longs), -1);
    snprintf(want, sizeof(want), "%s: %s", longs, strerror(EPERM));
    want[NR_ERRBUF_SIZE - 1] = '\0';
    assert_string_equal(err, want);
}

/* A step log with every kind of line it knows and some it must skip: the
 * clock, endpoints (their local address), steps with line, text, start and
 * end (us) and the failed mark, drop counts (lines indented or not). */
static void ladder_log_lines(void **state)
{
    static const char text[] =
        "  0.000000 clock: 0 is 1700000000.123456\n"
        "  0.000100 endpoint a tcp 127.0.0.1:40000 127.0.0.1:80\n"
        "  0.000200 endpoint srv target 127.0.0.1:81\n"
        "  0.000300 endpoint x tcp\n"
        "  0.010000 3: connect a = tcp 127.0.0.1:80  [ok, 1.5 ms]\n"
        "12.345678 17: expect a \"x\"  [FAILED, 2000 ms]\n"
        "  0.5 4: send a \"[x]\"  [ok, 0 ms]\n"
        "  1.000000 123456789: sleep 1ms  [ok, 1 ms]\n"
        "  1.000000 5:no space  [ok, 1 ms]\n"
        "  1.000000 6: no bracket\n"
        "  1.000000 7: one space [ok, 1 ms]\n"
        "  1.000000 8: no comma  [ok 1 ms]\n"
        "  1.000000 9: no number  [ok, ms]\n"
        "  1.000000 x: not a line number  [ok, 1 ms]\n"
        "  1.000000 10:   [ok, 1 ms]\n"
        "  1.000000 : no line number  [ok, 1 ms]\n"
        "  1.000000 1000000000: ten digits  [ok, 1 ms]\n"
        "garbage 11: x  [ok, 1 ms]\n"
        "  1.000000capture: 9 packets, 100 dropped by the kernel\n"
        "  1.000000 capture: 3 packets, 12 dropped by the kernel\n"
        "1.000000 capture: 1 packets, 5 dropped by the kernel\n"
        "1.000000 capture: none dropped by the kernel";
    struct nr_ladder_log log;
    struct mallinfo2 before, after;

    (void)state;
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)text, sizeof(text) - 1, &log), 0);
    assert_int_equal(log.have_clock, 1);
    assert_int_equal(log.clock_us, 1700000000123456LL);
    assert_int_equal(log.nnames, 2);
    assert_string_equal(log.names[0].name, "a");
    assert_string_equal(log.names[0].addr, "127.0.0.1:40000");
    assert_string_equal(log.names[1].name, "srv");
    assert_string_equal(log.names[1].addr, "127.0.0.1:81");
    assert_int_equal(log.nsteps, 5);
    assert_int_equal(log.steps[0].line, 3);
    assert_string_equal(log.steps[0].text, "connect a = tcp 127.0.0.1:80");
    assert_int_equal(log.steps[0].end_us, 10000);
    assert_int_equal(log.steps[0].start_us, 8500);
    assert_int_equal(log.steps[0].failed, 0);
    assert_int_equal(log.steps[1].line, 17);
    assert_string_equal(log.steps[1].text, "expect a \"x\"");
    assert_int_equal(log.steps[1].end_us, 12345678);
    assert_int_equal(log.steps[1].start_us, 10345678);
    assert_int_equal(log.steps[1].failed, 1);
    assert_int_equal(log.steps[2].line, 4);
    assert_string_equal(log.steps[2].text, "send a \"[x]\"");
    assert_int_equal(log.steps[2].end_us, 500000);
    assert_int_equal(log.steps[2].start_us, 500000);
    assert_int_equal(log.steps[3].line, 123456789);
    assert_int_equal(log.steps[3].start_us, 999000);
    assert_int_equal(log.steps[4].line, 10); /* a step of no text */
    assert_string_equal(log.steps[4].text, "");
    assert_int_equal(log.dropped, 17);
    nr_ladder_log_free(&log);
    assert_null(log.steps);
    assert_int_equal(log.nsteps, 0);
    assert_int_equal(log.nnames, 0);
    /* everything freed: a second parse and free leave the heap as it was */
    before = mallinfo2();
    int rc = nr_ladder_log_parse((const uint8_t *)text, sizeof(text) - 1, &log);
    nr_ladder_log_free(&log);
    after = mallinfo2();
    assert_int_equal(rc, 0);
    assert_int_equal(after.uordblks, before.uordblks);
    /* nothing at all */
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)"", 0, &log), 0);
    assert_int_equal(log.nsteps, 0);
    assert_int_equal(log.have_clock, 0);
    nr_ladder_log_free(&log);
}

/* text copied to end exactly at a page that cannot be read: a parser that
 * looks one byte past its input faults. */
static const uint8_t *at_page_end(const char *text, size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);

    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    memcpy(m + pg - n, text, n);
    return m + pg - n;
}

/* Numbers that end the log (no newline after them) are read without a
 * look past its end; a time too long for 64 bits of us is not wrapped. */
static void ladder_log_edges(void **state)
{
    static const char clock_end[] = "  0.000000 clock: 0 is 17";
    static const char frac_end[] = "  0.000000 clock: 0 is 17.";
    static const char big[] = "  0.000000 clock: 0 is 9999999999999.5\n";
    static const char step_end[] = "  1.000000 5:";
    static const char blank_end[] = "  0.1 capture: 1 dropped by the kerne\n   ";
    static const char clock13[] = "0.0 clock: 0 is 5\n";
    static const char ep_end[] = "  0.1 endpoint  a tcp 1.2.3.4:5 6.7.8.9:10\n"
                                 "  0.1 endpoint b tcp 1.2.3.4:5 6.7.8.9:10 ";
    struct nr_ladder_log log;

    (void)state;
    assert_int_equal(nr_ladder_log_parse(at_page_end(clock_end, sizeof(clock_end) - 1),
                                         sizeof(clock_end) - 1, &log), 0);
    assert_int_equal(log.clock_us, 17000000);
    nr_ladder_log_free(&log);
    assert_int_equal(nr_ladder_log_parse(at_page_end(frac_end, sizeof(frac_end) - 1),
                                         sizeof(frac_end) - 1, &log), 0);
    assert_int_equal(log.clock_us, 17000000);
    nr_ladder_log_free(&log);
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)big, sizeof(big) - 1, &log), 0);
    assert_true(log.clock_us > 0);
    nr_ladder_log_free(&log);
    /* a drop count whose words are cut short; a blank line ending the log */
    assert_int_equal(nr_ladder_log_parse(at_page_end(blank_end, sizeof(blank_end) - 1),
                                         sizeof(blank_end) - 1, &log), 0);
    assert_int_equal(log.dropped, 0);
    nr_ladder_log_free(&log);
    /* the shortest clock line */
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)clock13, sizeof(clock13) - 1, &log), 0);
    assert_int_equal(log.have_clock, 1);
    assert_int_equal(log.clock_us, 5000000);
    nr_ladder_log_free(&log);
    /* a step line cut after its number's colon */
    assert_int_equal(nr_ladder_log_parse(at_page_end(step_end, sizeof(step_end) - 1),
                                         sizeof(step_end) - 1, &log), 0);
    assert_int_equal(log.nsteps, 0);
    nr_ladder_log_free(&log);
    /* an endpoint line at the very end; one whose name is empty (two spaces) */
    assert_int_equal(nr_ladder_log_parse(at_page_end(ep_end, sizeof(ep_end) - 1),
                                         sizeof(ep_end) - 1, &log), 0);
    assert_int_equal(log.nnames, 1);
    assert_string_equal(log.names[0].name, "b");
    assert_string_equal(log.names[0].addr, "1.2.3.4:5");
    nr_ladder_log_free(&log);
}

/* A step's line number has up to nine digits: 999999999 is read whole,
 * 1000000000 makes the line no step (the sample above has it among others). */
static void ladder_log_line_limit(void **state)
{
    static const char text[] = "  0.100000 999999999: send a \"x\"  [ok, 1 ms]\n"
                               "  0.200000 1000000000: sleep 1ms  [ok, 1 ms]\n";
    struct nr_ladder_log log;

    (void)state;
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)text, sizeof(text) - 1, &log), 0);
    assert_int_equal(log.nsteps, 1);
    assert_int_equal(log.steps[0].line, 999999999);
    assert_string_equal(log.steps[0].text, "send a \"x\"");
    assert_int_equal(log.steps[0].end_us, 100000);
    nr_ladder_log_free(&log);
}

int main(int argc, char **argv)
{
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: does the ladder log free all it took */
    const struct CMUnitTest tests[] = {
        heap_exact_test(likely_server_ports),
        heap_exact_fds_test(activation_fd_cloexec),
        heap_exact_test(numeric_hosts),
        heap_exact_test(ladder_dropped),
        heap_exact_test(loopback_addresses),
        heap_exact_test(errbuf_helpers),
        heap_exact_test(ladder_log_lines),
        heap_exact_test(ladder_log_edges),
        heap_exact_test(ladder_log_line_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
