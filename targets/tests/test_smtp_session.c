/* smtp-send's transaction (ss_send_fd) over a real loopback TCP connection
 * against a paced server: the server's whole reply stream (greeting,
 * multi-line EHLO with PIPELINING, AUTH PLAIN, MAIL and three RCPTs with
 * one refused, DATA, end of data, QUIT) is cut in two at every offset, and
 * the second piece is written only once the client has read the first, so
 * every reply is split across reads at every place.  The commands the
 * client sent must be exactly the expected ones every time, and one run
 * with a wrong expectation must fail. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_net.h"
#include "smtp-send/smtp_client.h"

#define PACE_MS 2000

static const char replies[] =
    "220-mx.test\r\n220 ESMTP\r\n"
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 AUTH PLAIN\r\n"
    "235 ok\r\n"
    "250 sender ok\r\n250 ok\r\n550 no such user\r\n251 forwarded\r\n"
    "354 go\r\n250 queued\r\n221 bye\r\n";

static const char commands[] =
    "EHLO client.test\r\n"
    "AUTH PLAIN AGFsaWNlAHB3\r\n"
    "MAIL FROM:<alice@a.test> SIZE=19\r\n"
    "RCPT TO:<bob@b.test>\r\nRCPT TO:<nobody@b.test>\r\nRCPT TO:<carol@c.test>\r\n"
    "DATA\r\n"
    "Subject: x\r\n\r\n..hi\r\n.\r\n"
    "QUIT\r\n";

struct pace {
    int lfd, sfd, cfd;
    size_t cut;
    char got[1024];
    size_t ngot;
    char err[128];
};

static void *serve(void *arg)
{
    struct pace *p = arg;
    int64_t deadline;
    int outq = 0, inq = 0, one = 1;
    ssize_t n;

    p->sfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (p->sfd < 0)
        return snprintf(p->err, sizeof(p->err), "accept: %s", strerror(errno)), NULL;
    setsockopt(p->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (nr_write_all(p->sfd, replies, p->cut, PACE_MS) < 0)
        snprintf(p->err, sizeof(p->err), "write of the first piece failed");
    for (deadline = nr_now_ms() + PACE_MS; p->cut && nr_ms_left(deadline) > 0; usleep(50))
        if (ioctl(p->sfd, SIOCOUTQ, &outq) < 0 || ioctl(p->cfd, FIONREAD, &inq) < 0 ||
            (outq == 0 && inq == 0))
            break;
    if (outq || inq)
        snprintf(p->err, sizeof(p->err), "the client did not read the first %zu bytes", p->cut);
    if (nr_write_all(p->sfd, replies + p->cut, sizeof(replies) - 1 - p->cut, PACE_MS) < 0)
        snprintf(p->err, sizeof(p->err), "write of the second piece failed");
    while (p->ngot < sizeof(p->got) && nr_wait_fd(p->sfd, POLLIN, PACE_MS) > 0 &&
           (n = nr_read(p->sfd, p->got + p->ngot, sizeof(p->got) - p->ngot)) > 0)
        p->ngot += (size_t)n;
    close(p->sfd);
    return NULL;
}

/* One transaction with the replies cut at cut; returns 0 when the client
 * succeeded and sent exactly want, else -1 with why. */
static int run_cut(size_t cut, const char *want, char *why, size_t whylen)
{
    static const char *const to[] = { "bob@b.test", "nobody@b.test", "carol@c.test" };
    static const uint8_t msg[] = "Subject: x\r\n\r\n.hi\r\n";
    struct ss_session s = { .helo = "client.test", .from = "alice@a.test", .to = to, .nto = 3,
                            .msg = msg, .msg_len = sizeof(msg) - 1, .user = "alice",
                            .password = "pw", .timeout_ms = PACE_MS };
    struct pace p = { .cut = cut };
    struct nr_addr a, bound;
    struct ss_result res;
    char err[NR_ERRBUF_SIZE] = "";
    pthread_t th;
    int rc;

    assert_int_equal(nr_addr_parse("127.0.0.1:0", &a, err), 0);
    p.lfd = nr_bind_socket(&a, SOCK_STREAM, 4, err);
    assert_true(p.lfd >= 0);
    assert_int_equal(nr_local_addr(p.lfd, &bound, err), 0);
    p.cfd = nr_connect_tcp(&bound, PACE_MS, NULL, NULL, err);
    assert_true(p.cfd >= 0);
    assert_int_equal(pthread_create(&th, NULL, serve, &p), 0);
    rc = ss_send_fd(p.cfd, &s, &res, err);
    shutdown(p.cfd, SHUT_WR);
    pthread_join(th, NULL);
    close(p.cfd);
    close(p.lfd);
    if (rc != SS_OK || p.err[0] || res.naccepted != 2 || res.rcpt_code[1] != 550)
        return snprintf(why, whylen, "cut %zu: rc %d (%s), server: %s", cut, rc, err, p.err), -1;
    if (p.ngot != strlen(want) || memcmp(p.got, want, p.ngot) != 0)
        return snprintf(why, whylen, "cut %zu: the client sent %zu bytes: %.*s", cut, p.ngot,
                        (int)p.ngot, p.got), -1;
    return 0;
}

static void test_every_cut(void **state)
{
    char why[1200];

    (void)state;
    for (size_t cut = 0; cut < sizeof(replies) - 1; cut++)
        if (run_cut(cut, commands, why, sizeof(why)) < 0)
            fail_msg("%s", why);
}

/* The comparison above can fail: a command stream with one byte changed. */
static void test_wrong_expectation_fails(void **state)
{
    char want[sizeof(commands)], why[1200];

    (void)state;
    memcpy(want, commands, sizeof(commands));
    want[strlen("EHLO ")] = 'C';
    assert_int_equal(run_cut(5, want, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "the client sent"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cut),
        cmocka_unit_test(test_wrong_expectation_fails),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
