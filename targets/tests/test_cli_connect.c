/* Unit tests of the clients' connect (targets/common/cli_connect.c): each
 * documented result with its message (a connected blocking descriptor, a
 * name that does not resolve, a non-loopback destination refused, a refused
 * connection), the first answering address of several taken, and nothing
 * leaked: every resolution freed, one descriptor per success, none on a
 * failure, and descriptor 0 (stdin closed) is a descriptor like any other.
 * The test defines getaddrinfo/freeaddrinfo: names ending in ".test" are
 * answered here (no DNS), every other one by the C library. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cli_connect.h"
#include "tnames.h"

/* ---- the resolver ---------------------------------------------------- */

static int resolved, freed; /* successful getaddrinfo calls, freeaddrinfo calls */

/* One IPv4 stream address in a malloc'd addrinfo (the address after it). */
static struct addrinfo *fake_ai(const char *ip, const char *port)
{
    struct addrinfo *ai = calloc(1, sizeof(*ai) + sizeof(struct sockaddr_in));
    struct sockaddr_in *sin = (struct sockaddr_in *)(ai + 1);

    assert_non_null(ai);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)atoi(port));
    assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    ai->ai_family = AF_INET;
    ai->ai_socktype = SOCK_STREAM;
    ai->ai_protocol = IPPROTO_TCP;
    ai->ai_addrlen = sizeof(*sin);
    ai->ai_addr = (struct sockaddr *)sin;
    ai->ai_canonname = (char *)"fake"; /* marks a list made here */
    return ai;
}

/* "two.test": 127.0.0.1 then 127.0.0.2; "back.test": 127.0.0.2 then
 * 127.0.0.1; "remote.test": 192.0.2.7 then 127.0.0.1; "nonexistent.test":
 * EAI_NONAME.  Anything else: the C library's. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    const char *first = NULL, *second = NULL;
    int r;

    if (node && !strcmp(node, "nonexistent.test"))
        return EAI_NONAME;
    if (node && !strcmp(node, "two.test"))
        first = "127.0.0.1", second = "127.0.0.2";
    else if (node && !strcmp(node, "back.test"))
        first = "127.0.0.2", second = "127.0.0.1";
    else if (node && !strcmp(node, "remote.test"))
        first = "192.0.2.7", second = "127.0.0.1";
    if (first) {
        *res = fake_ai(first, service);
        (*res)->ai_next = fake_ai(second, service);
        resolved++;
        return 0;
    }
    if (!real)
        real = (int (*)(const char *, const char *, const struct addrinfo *,
                        struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
    r = real(node, service, hints, res);
    if (r == 0)
        resolved++;
    return r;
}

void freeaddrinfo(struct addrinfo *ai)
{
    static void (*real)(struct addrinfo *);

    freed++;
    if (ai && ai->ai_canonname && !strcmp(ai->ai_canonname, "fake")) {
        while (ai) {
            struct addrinfo *next = ai->ai_next;
            free(ai);
            ai = next;
        }
        return;
    }
    if (!real)
        real = (void (*)(struct addrinfo *))dlsym(RTLD_NEXT, "freeaddrinfo");
    real(ai);
}

/* ---- helpers ---------------------------------------------------------- */

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

/* A listening socket on ip:port (port 0: any), its port into *port_out. */
static int listen_on(const char *ip, int port, char *port_out)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    socklen_t len = sizeof(sin);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        fail_msg("bind %s:%d: %s", ip, port, strerror(errno));
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    if (port_out)
        snprintf(port_out, 8, "%u", ntohs(sin.sin_port));
    return fd;
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static void free_port(char *port)
{
    close(listen_on("127.0.0.1", 0, port));
}

/* A connection waits on listener lfd; accept it and check its peer is the
 * local end of cfd.  Returns the accepted descriptor. */
static int accept_from(int lfd, int cfd)
{
    struct sockaddr_in peer, local;
    socklen_t plen = sizeof(peer), llen = sizeof(local);
    int a;

    assert_int_equal(poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, 2000), 1);
    a = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    assert_true(a >= 0);
    assert_int_equal(getsockname(cfd, (struct sockaddr *)&local, &llen), 0);
    assert_int_equal(peer.sin_port, local.sin_port);
    assert_int_equal(peer.sin_addr.s_addr, local.sin_addr.s_addr);
    return a;
}

/* No connection waits on listener lfd. */
static void nothing_waits(int lfd)
{
    assert_int_equal(poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, 50), 0);
}

/* ---- tests ------------------------------------------------------------ */

/* A loopback server: a connected, blocking descriptor, one more descriptor
 * open, the resolution freed. */
static void connects_to_loopback(void **state)
{
    char port[8], err[NR_ERRBUF_SIZE] = "";
    int lfd = listen_on("127.0.0.1", 0, port), before, fd, a;

    (void)state;
    resolved = freed = 0;
    before = open_fds();
    fd = cli_connect("127.0.0.1", port, 0, 2000, err);
    assert_true(fd >= 0);
    assert_int_equal(open_fds(), before + 1);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    assert_int_equal(resolved, 1);
    assert_int_equal(freed, 1);
    a = accept_from(lfd, fd);
    close(a);
    close(fd);
    close(lfd);
}

/* A name that does not resolve: CLI_ERESOLVE with the resolver's message,
 * no descriptor. */
static void name_does_not_resolve(void **state)
{
    char err[NR_ERRBUF_SIZE] = "", want[NR_ERRBUF_SIZE];
    int before = open_fds();

    (void)state;
    assert_ret_equal(cli_connect("nonexistent.test", "80", 1, 2000, err), CLI_ERESOLVE);
    snprintf(want, sizeof(want), "cannot resolve 'nonexistent.test': %s", gai_strerror(EAI_NONAME));
    assert_string_equal(err, want);
    assert_int_equal(open_fds(), before);
    /* the C library's own refusal: a service that is not a number */
    err[0] = '\0';
    assert_ret_equal(cli_connect("127.0.0.1", "http", 1, 2000, err), CLI_ERESOLVE);
    assert_string_equal(strstr(err, "cannot resolve '127.0.0.1': ") ? "ok" : err, "ok");
    assert_int_equal(open_fds(), before);
}

/* Only non-loopback addresses and remote not allowed: CLI_EREMOTE naming
 * the address, nothing connected, the resolution freed. */
static void refuses_remote(void **state)
{
    char err[NR_ERRBUF_SIZE] = "";
    int before = open_fds();

    (void)state;
    resolved = freed = 0;
    assert_ret_equal(cli_connect("192.0.2.7", "80", 0, 2000, err), CLI_EREMOTE);
    assert_string_equal(err, "refusing non-loopback destination 192.0.2.7:80 (use --allow-remote)");
    assert_int_equal(open_fds(), before);
    assert_int_equal(resolved, 1);
    assert_int_equal(freed, 1);
}

/* A non-loopback address is skipped (not tried) when remote is not
 * allowed, and the loopback one after it is taken. */
static void skips_remote_takes_loopback(void **state)
{
    char port[8], err[NR_ERRBUF_SIZE] = "";
    int lfd = listen_on("127.0.0.1", 0, port), fd, a;

    (void)state;
    fd = cli_connect("remote.test", port, 0, 2000, err);
    assert_true(fd >= 0);
    a = accept_from(lfd, fd);
    close(a);
    close(fd);
    close(lfd);
}

/* Nobody listens: CLI_ENET with the connect error, no descriptor. */
static void refused(void **state)
{
    char port[8], err[NR_ERRBUF_SIZE] = "", want[NR_ERRBUF_SIZE];
    int before;

    (void)state;
    free_port(port);
    before = open_fds();
    resolved = freed = 0;
    assert_ret_equal(cli_connect("127.0.0.1", port, 0, 2000, err), CLI_ENET);
    snprintf(want, sizeof(want), "connect to 127.0.0.1:%s: %s", port, strerror(ECONNREFUSED));
    assert_string_equal(err, want);
    assert_int_equal(open_fds(), before);
    assert_int_equal(freed, resolved);
}

/* The first address refuses, the second answers: its descriptor, and the
 * first attempt's socket is not left open. */
static void second_address_answers(void **state)
{
    char port[8], err[NR_ERRBUF_SIZE] = "";
    int lfd = listen_on("127.0.0.1", 0, port), before, fd, a;

    (void)state;
    before = open_fds();
    fd = cli_connect("back.test", port, 0, 2000, err);
    assert_true(fd >= 0);
    assert_int_equal(open_fds(), before + 1);
    a = accept_from(lfd, fd);
    close(a);
    close(fd);
    close(lfd);
}

/* With stdin closed the socket is descriptor 0: it is returned, and no
 * other address is tried after it (the second server sees nothing). */
static void descriptor_zero_is_a_descriptor(void **state)
{
    char port[8], err[NR_ERRBUF_SIZE] = "";
    int l1 = listen_on("127.0.0.1", 0, port), l2 = listen_on("127.0.0.2", atoi(port), NULL);
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), before, fd, a;

    (void)state;
    assert_true(saved >= 0);
    close(0);
    before = open_fds();
    fd = cli_connect("two.test", port, 0, 2000, err);
    assert_ret_equal(fd, 0);
    assert_int_equal(open_fds(), before + 1);
    a = accept_from(l1, fd);
    nothing_waits(l2);
    close(a);
    close(fd);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    close(l1);
    close(l2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connects_to_loopback),
        cmocka_unit_test(name_does_not_resolve),
        cmocka_unit_test(refuses_remote),
        cmocka_unit_test(skips_remote_takes_loopback),
        cmocka_unit_test(refused),
        cmocka_unit_test(second_address_answers),
        cmocka_unit_test(descriptor_zero_is_a_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
