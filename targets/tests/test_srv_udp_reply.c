/* Unit tests: udp-echo's reply formatting at its limits, and the datagram
 * handler driven through a SOCK_DGRAM socketpair. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
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

#include "nr_net.h"
#include "udp-echo/hello_reply.h"
#include "udp-echo/udp_dgram.h"

static uint8_t big_in[HELLO_MAX_UDP6 + 16], big_out[HELLO_MAX_UDP6 + 16];

static void empty_and_plain(void **state)
{
    uint8_t out[32];

    (void)state;
    assert_int_equal(hello_reply_format(NULL, 0, out, sizeof(out)), 8);
    assert_memory_equal(out, "Hello, !", 8);
    assert_int_equal(hello_reply_format((const uint8_t *)"w\0rld", 5, out, sizeof(out)), 13);
    assert_memory_equal(out, "Hello, w\0rld!", 13);
    /* Tiny buffers: the fixed text alone does not fit. */
    assert_int_equal(hello_reply_format(NULL, 0, out, 7), -E2BIG);
    assert_int_equal(hello_reply_format(NULL, 0, NULL, 0), -E2BIG);
    assert_int_equal(hello_reply_format(out, SIZE_MAX, out, sizeof(out)), -E2BIG);
    /* Exactly the room needed: the empty reply in 8 bytes, one byte of data
     * in 9, but not in 8. */
    memset(out, 'z', sizeof(out));
    assert_int_equal(hello_reply_format(NULL, 0, out, 8), 8);
    assert_memory_equal(out, "Hello, !z", 9);
    assert_int_equal(hello_reply_format((const uint8_t *)"a", 1, out, 9), 9);
    assert_memory_equal(out, "Hello, a!z", 10);
    assert_int_equal(hello_reply_format((const uint8_t *)"a", 1, out, 8), -E2BIG);
}

static void max_payload_limits(void **state)
{
    (void)state;
    memset(big_in, 'x', sizeof(big_in));
    memset(big_out, 0xAA, sizeof(big_out));
    /* Exact fit: 65499 data bytes -> 65507-byte reply, nothing written beyond. */
    assert_int_equal(hello_reply_format(big_in, HELLO_MAX_UDP4 - 8, big_out, HELLO_MAX_UDP4),
                     HELLO_MAX_UDP4);
    assert_memory_equal(big_out, "Hello, xxx", 10);
    assert_int_equal(big_out[HELLO_MAX_UDP4 - 1], '!');
    assert_int_equal(big_out[HELLO_MAX_UDP4], 0xAA);
    /* One over. */
    assert_int_equal(hello_reply_format(big_in, HELLO_MAX_UDP4 - 7, big_out, HELLO_MAX_UDP4),
                     -E2BIG);
    assert_int_equal(hello_reply_format(big_in, HELLO_MAX_UDP6 - 8, big_out, HELLO_MAX_UDP6),
                     HELLO_MAX_UDP6);
    assert_int_equal(hello_reply_format(big_in, HELLO_MAX_UDP6 - 7, big_out, HELLO_MAX_UDP6),
                     -E2BIG);
    assert_int_equal(hello_max_payload(AF_INET), HELLO_MAX_UDP4);
    assert_int_equal(hello_max_payload(AF_INET6), HELLO_MAX_UDP6);
    assert_int_equal(hello_max_payload(AF_UNIX), HELLO_MAX_UDP4);
}

/* A datagram socketpair with a handler context of insize bytes. */
static void pair(int sp[2], struct udp_ctx *c, size_t insize)
{
    int sz = 1 << 20;

    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(setsockopt(sp[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
    c->in = big_in;
    c->insize = insize;
    c->out = big_out;
    c->outsize = sizeof(big_out);
    c->max_payload = HELLO_MAX_UDP4;
}

static void handler_keeps_boundaries(void **state)
{
    static const char *const msgs[] = { "one", "", "three" };
    struct udp_event ev;
    struct udp_ctx c;
    char buf[64];
    int sp[2];

    (void)state;
    pair(sp, &c, 65535);
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 0); /* nothing pending */
    for (int i = 0; i < 3; i++)
        assert_int_equal(send(sp[0], msgs[i], strlen(msgs[i]), 0), (ssize_t)strlen(msgs[i]));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
        assert_int_equal(ev.outcome, UDP_REPLIED);
        assert_int_equal(ev.in_len, strlen(msgs[i]));
        assert_int_equal(ev.out_len, strlen(msgs[i]) + 8);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(buf + 32, 32, "Hello, %s!", msgs[i]);
        assert_int_equal(recv(sp[0], buf, 32, MSG_DONTWAIT), (ssize_t)strlen(buf + 32));
        assert_memory_equal(buf, buf + 32, strlen(buf + 32));
    }
    assert_int_equal(recv(sp[0], buf, 32, MSG_DONTWAIT), -1);
    close(sp[0]);
    close(sp[1]);
}

static void handler_drops_truncated_and_too_big(void **state)
{
    struct udp_event ev;
    struct udp_ctx c;
    char buf[64];
    int sp[2];

    (void)state;
    pair(sp, &c, 100);
    memset(buf, 'y', sizeof(buf));
    /* 100 bytes fit exactly; 101 are truncated and dropped. */
    assert_int_equal(send(sp[0], big_in, 100, 0), 100);
    assert_int_equal(send(sp[0], big_in, 101, 0), 101);
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
    assert_int_equal(ev.outcome, UDP_REPLIED);
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
    assert_int_equal(ev.outcome, UDP_TRUNCATED);
    assert_int_equal(ev.in_len, 101);
    close(sp[0]);
    close(sp[1]);

    pair(sp, &c, sizeof(big_in));
    assert_int_equal(send(sp[0], big_in, HELLO_MAX_UDP4 - 7, 0), HELLO_MAX_UDP4 - 7);
    assert_int_equal(send(sp[0], big_in, HELLO_MAX_UDP4 - 8, 0), HELLO_MAX_UDP4 - 8);
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
    assert_int_equal(ev.outcome, UDP_TOO_BIG);
    assert_int_equal(ev.out_len, HELLO_MAX_UDP4 + 1);
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
    assert_int_equal(ev.outcome, UDP_REPLIED);
    assert_int_equal(ev.out_len, HELLO_MAX_UDP4);
    /* Only the fitting reply arrived. */
    assert_int_equal(recv(sp[0], big_out, sizeof(big_out), MSG_DONTWAIT), HELLO_MAX_UDP4);
    assert_int_equal(recv(sp[0], big_out, sizeof(big_out), MSG_DONTWAIT), -1);
    close(sp[0]);
    close(sp[1]);
}

/* Handle the next datagram on fd into an event first filled with junk
 * (a caller's reused struct): returns the outcome. */
static enum udp_outcome handle_into_junk(int fd, const struct udp_ctx *c, struct udp_event *ev)
{
    memset(ev, 0xA5, sizeof(*ev));
    assert_int_equal(udp_handle_datagram(fd, c, ev), 1);
    return ev->outcome;
}

/* The fields an outcome does not use are 0, whatever the struct held. */
static void handler_clears_unused_fields(void **state)
{
    struct udp_event ev;
    struct udp_ctx c;
    int sp[2];

    (void)state;
    pair(sp, &c, 100);
    assert_int_equal(send(sp[0], "ok", 2, 0), 2);
    assert_int_equal(send(sp[0], big_in, 101, 0), 101);
    assert_int_equal(handle_into_junk(sp[1], &c, &ev), UDP_REPLIED);
    assert_int_equal(ev.err, 0);
    assert_int_equal(ev.peer.len, 0); /* a socketpair's peer is unnamed */
    assert_int_equal(handle_into_junk(sp[1], &c, &ev), UDP_TRUNCATED);
    assert_int_equal(ev.out_len, 0);
    assert_int_equal(ev.err, 0);
    c.max_payload = 10; /* "Hello, ab!" fits, "Hello, abc!" does not */
    assert_int_equal(send(sp[0], "abc", 3, 0), 3);
    assert_int_equal(handle_into_junk(sp[1], &c, &ev), UDP_TOO_BIG);
    assert_int_equal(ev.out_len, 11);
    assert_int_equal(ev.err, 0);
    close(sp[0]);
    close(sp[1]);
}

/* An empty datagram is handled whatever errno held before the call (a
 * stale EINTR included); an event with nothing received holds no outcome. */
static void handler_empty_datagram_stale_errno(void **state)
{
    struct udp_event ev;
    struct udp_ctx c;
    char buf[16];
    int sp[2];

    (void)state;
    pair(sp, &c, 100);
    memset(&ev, 0xA5, sizeof(ev));
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 0);
    assert_int_equal(ev.outcome, 0);
    assert_int_equal(send(sp[0], "", 0, 0), 0);
    errno = EINTR;
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
    assert_int_equal(ev.outcome, UDP_REPLIED);
    assert_int_equal(ev.in_len, 0);
    assert_int_equal(recv(sp[0], buf, sizeof(buf), MSG_DONTWAIT), 8);
    assert_memory_equal(buf, "Hello, !", 8);
    close(sp[0]);
    close(sp[1]);
}

/* Reads the `count` datagrams queued on fd after a pause: the peer of a
 * full queue that reads it a little later. */
struct drainer {
    int fd, pause_ms, count, drained;
};

static void *drain_later(void *arg)
{
    struct drainer *d = arg;
    char buf[16];

    usleep((useconds_t)d->pause_ms * 1000);
    while (d->drained < d->count && recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT) == 6)
        d->drained++;
    return NULL;
}

/* The client's receive queue is full, so the reply's sendmsg fails with a
 * real EAGAIN: the reply must still go out once the client reads (within
 * UDP_SEND_STALL_MS), and only a queue that stays full loses it. */
static void handler_waits_out_eagain(void **state)
{
    struct drainer d = { .pause_ms = 30 };
    struct udp_event ev;
    struct udp_ctx c;
    pthread_t t;
    int sp[2], queued;
    int64_t t0;

    (void)state;
    for (int round = 0; round < 2; round++) {
        pair(sp, &c, 65535);
        queued = 0;
        while (send(sp[1], "filler", 6, MSG_DONTWAIT) == 6)
            queued++;
        assert_true(errno == EAGAIN && queued > 0);
        assert_int_equal(send(sp[0], "late", 4, 0), 4);
        d.fd = sp[0];
        d.count = queued;
        d.drained = 0;
        if (round == 0)
            assert_int_equal(pthread_create(&t, NULL, drain_later, &d), 0);
        t0 = nr_now_ms();
        assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
        if (round == 0) {
            pthread_join(t, NULL);
            assert_int_equal(ev.outcome, UDP_REPLIED);
            assert_int_equal(d.drained, queued);
            assert_int_equal(recv(sp[0], big_out, sizeof(big_out), MSG_DONTWAIT), 12);
            assert_memory_equal(big_out, "Hello, late!", 12);
        } else {
            assert_int_equal(ev.outcome, UDP_SEND_FAILED);
            assert_int_equal(ev.err, EAGAIN);
            assert_true(nr_now_ms() - t0 >= UDP_SEND_STALL_MS - 5);
        }
        close(sp[0]);
        close(sp[1]);
    }
}

/* A reply that fails for good (the client's end is closed: ECONNREFUSED)
 * is reported at once with its error: no wait for room, no retry. */
static void handler_reports_send_error_at_once(void **state)
{
    struct udp_event ev;
    struct udp_ctx c;
    int sp[2];
    int64_t t0;

    (void)state;
    pair(sp, &c, 65535);
    assert_int_equal(send(sp[0], "gone", 4, 0), 4);
    close(sp[0]);
    t0 = nr_now_ms();
    assert_int_equal(udp_handle_datagram(sp[1], &c, &ev), 1);
    if (ev.outcome != UDP_SEND_FAILED || ev.err != ECONNREFUSED)
        fail_msg("outcome %d err %s, want UDP_SEND_FAILED (%d) and ECONNREFUSED", ev.outcome,
                 strerrorname_np(ev.err) ? strerrorname_np(ev.err) : "0", UDP_SEND_FAILED);
    assert_int_equal(ev.in_len, 4);
    if (nr_now_ms() - t0 >= UDP_SEND_STALL_MS)
        fail_msg("took %lld ms: a refused reply was retried", (long long)(nr_now_ms() - t0));
    close(sp[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_and_plain),
        cmocka_unit_test(max_payload_limits),
        cmocka_unit_test(handler_keeps_boundaries),
        cmocka_unit_test(handler_drops_truncated_and_too_big),
        cmocka_unit_test(handler_clears_unused_fields),
        cmocka_unit_test(handler_empty_datagram_stale_errno),
        cmocka_unit_test(handler_waits_out_eagain),
        cmocka_unit_test(handler_reports_send_error_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
