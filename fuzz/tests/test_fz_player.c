/* Unit tests of the record player (fuzz/lib/fz_player.c) on its own, with
 * socketpairs for connections and recording hooks: the open limit and the
 * open hook's two refusals, the per-connection cap, a full buffer dropped
 * at once or handed to the stalled hook until it gives up, the hooks of a
 * shut and a close, a drain that waits for an owed reply and one that
 * settles instead, a read of more than one buffer, and the end of an input
 * reading to EOF. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/fz_player.h"

/* What the hooks saw; srv[] is the server end of each open connection. */
struct seen {
    int open_result;     /* 0: a socketpair; else returned as is */
    int srv[FZ_MAX_CONNS];
    int opens, shuts, settles, closes, close_eof;
    int stalls, stall_limit;
    size_t sent, replied;
    uint8_t reply[64];
};

static int hook_open(void *ctx, unsigned conn)
{
    struct seen *s = ctx;
    int sv[2];

    s->opens++;
    if (s->open_result != 0)
        return s->open_result;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    s->srv[conn] = sv[1];
    return sv[0];
}

static void hook_shut(void *ctx, unsigned conn)
{
    (void)conn;
    ((struct seen *)ctx)->shuts++;
}

static int hook_stalled(void *ctx, unsigned conn, int tries)
{
    struct seen *s = ctx;

    (void)conn;
    assert_int_equal(tries, s->stalls);
    s->stalls++;
    return tries + 1 < s->stall_limit;
}

static void hook_settle(void *ctx)
{
    ((struct seen *)ctx)->settles++;
}

static void hook_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct seen *s = ctx;

    (void)conn;
    if (s->replied + len <= sizeof(s->reply))
        memcpy(s->reply + s->replied, buf, len);
    s->replied += len;
}

static void hook_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    (void)conn;
    (void)buf;
    ((struct seen *)ctx)->sent += len;
}

static void hook_close(void *ctx, unsigned conn, int eof)
{
    struct seen *s = ctx;

    (void)conn;
    s->closes++;
    s->close_eof = eof;
}

static const struct fz_player_ops ops = {
    .open = hook_open, .before_shut = hook_shut, .on_reply = hook_reply,
    .on_send = hook_send, .on_close = hook_close,
};

static struct fz_rec rec(unsigned conn, enum fz_action action, const void *data, size_t len)
{
    return (struct fz_rec){ .conn = conn, .action = action, .data = data, .len = len };
}

static void close_servers(struct seen *s)
{
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        if (s->srv[i] >= 0)
            close(s->srv[i]);
}

static void init(struct fz_player *pl, struct seen *s, const struct fz_player_ops *o, int max)
{
    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        s->srv[i] = -1;
    fz_play_init(pl, o, s, max);
}

static void open_limit_and_refusals(void **state)
{
    struct fz_player pl;
    struct seen s;
    struct fz_rec r;

    (void)state;
    init(&pl, &s, &ops, 1);
    r = rec(0, FZ_SEND, "a", 1);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    r = rec(1, FZ_SEND, "b", 1); /* a second connection: over the limit */
    assert_int_equal(fz_play_record(&pl, &r), 0);
    assert_int_equal(s.opens, 1);
    assert_int_equal(pl.opens, 1);
    assert_int_equal(pl.cl[1].fd, -1);
    assert_int_equal(pl.sent, 1);
    fz_play_close_all(&pl);
    close_servers(&s);

    init(&pl, &s, &ops, 4);
    s.open_result = -1; /* ignored: counts as an open */
    assert_int_equal(fz_play_record(&pl, &r), 0);
    assert_int_equal(pl.opens, 1);
    s.open_result = FZ_PLAY_OPEN_ABANDON;
    assert_int_equal(fz_play_record(&pl, &r), -1);
    assert_int_equal(pl.opens, 1);
    assert_int_equal(s.sent, 0);
}

static void cap_and_full_buffer(void **state)
{
    static uint8_t big[1 << 20];
    struct fz_player_ops stalling = ops;
    struct fz_player pl;
    struct seen s;
    struct fz_rec r;

    (void)state;
    init(&pl, &s, &ops, 4);
    pl.conn_cap = 4;
    r = rec(0, FZ_SEND, "0123456789", 10);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.sent, 4);
    assert_int_equal(pl.cl[0].queued, 4);
    assert_int_equal(pl.sent, 10); /* what the records asked for */
    /* nobody reads: with stall_ms < 0 the rest is dropped at once */
    pl.conn_cap = 0;
    pl.stall_ms = -1;
    r = rec(0, FZ_SEND, big, sizeof(big));
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_true(s.sent > 4 && s.sent < 4 + sizeof(big));
    fz_play_close_all(&pl);
    close_servers(&s);

    /* the stalled hook is asked with 0, 1, 2... until it gives up */
    stalling.stalled = hook_stalled;
    init(&pl, &s, &stalling, 4);
    s.stall_limit = 3;
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.stalls, 3);
    fz_play_close_all(&pl);
    close_servers(&s);
}

/* Thread: write "HI" on *arg 100 ms from now. */
static void *answer_late(void *arg)
{
    usleep(100 * 1000);
    if (write(*(int *)arg, "HI", 2) != 2)
        return arg;
    return NULL;
}

static void shut_close_and_drain(void **state)
{
    struct fz_player_ops settling = ops;
    struct fz_player pl;
    struct seen s;
    struct fz_rec r;
    pthread_t th;
    char b[8];

    (void)state;
    init(&pl, &s, &ops, 4);
    pl.drain_ms = 2000;
    r = rec(2, FZ_SEND, "hi", 2);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(read(s.srv[2], b, sizeof(b)), 2);
    assert_int_equal(pthread_create(&th, NULL, answer_late, &s.srv[2]), 0);
    r = rec(2, FZ_DRAIN, NULL, 0); /* owed: waits for the late answer */
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(s.replied, 2);
    assert_memory_equal(s.reply, "HI", 2);
    assert_int_equal(pl.cl[2].unanswered, 0);
    r = rec(2, FZ_SHUT_WR, NULL, 0);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.shuts, 1);
    assert_int_equal(read(s.srv[2], b, sizeof(b)), 0); /* the server sees EOF */
    r = rec(2, FZ_SEND, "x", 1); /* after the shut: not sent */
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.sent, 2);
    /* the server answers and closes: a drain takes the answer (a short read
     * ends it), the close then reads the orderly end */
    assert_int_equal(write(s.srv[2], "bye", 3), 3);
    close(s.srv[2]);
    s.srv[2] = -1;
    r = rec(2, FZ_DRAIN, NULL, 0);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.replied, 5);
    assert_int_equal(pl.cl[2].fin, 0);
    r = rec(2, FZ_CLOSE, NULL, 0);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.shuts, 2);
    assert_int_equal(s.closes, 1);
    assert_int_equal(s.close_eof, 1);
    assert_int_equal(pl.cl[2].fd, -1);

    /* a drain that owes nothing settles instead of waiting */
    settling.settle = hook_settle;
    init(&pl, &s, &settling, 4);
    pl.drain_ms = 2000;
    pl.speaks_first = 0;
    r = rec(0, FZ_DRAIN, NULL, 0);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(s.settles, 1);
    fz_play_close_all(&pl);
    assert_int_equal(s.close_eof, 0); /* closed before the server's EOF */
    close_servers(&s);
}

/* A read takes all that is queued, more than one buffer's worth too. */
static void read_takes_the_queue(void **state)
{
    static uint8_t big[20000];
    struct fz_player pl;
    struct seen s;
    struct fz_rec r;

    (void)state;
    init(&pl, &s, &ops, 4);
    r = rec(0, FZ_SEND, "", 0);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(write(s.srv[0], big, sizeof(big)), (ssize_t)sizeof(big));
    assert_int_equal(fz_play_read(&pl, 0), sizeof(big));
    assert_int_equal(pl.cl[0].eof, 0);
    fz_play_close_all(&pl);
    close_servers(&s);
}

/* The end: shut every client, read each to EOF within finish_ms. */
static void end_reads_to_eof(void **state)
{
    struct fz_player pl;
    struct seen s;
    struct fz_rec r;
    char b[8];

    (void)state;
    init(&pl, &s, &ops, 4);
    pl.finish_ms = 2000;
    pl.speaks_first = 1;
    r = rec(1, FZ_SEND, "q", 1);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    r = rec(3, FZ_SEND, "q", 1);
    assert_int_equal(fz_play_record(&pl, &r), 1);
    assert_int_equal(pl.cl[3].unanswered, 1);
    fz_play_shut_all(&pl);
    assert_int_equal(s.shuts, 2);
    assert_int_equal(pl.cl[1].shut, 1);
    /* each server reads its byte (unread bytes would make its close a
     * reset), answers and closes */
    assert_int_equal(read(s.srv[1], b, sizeof(b)), 1);
    assert_int_equal(read(s.srv[3], b, sizeof(b)), 1);
    assert_int_equal(write(s.srv[1], "r1", 2), 2);
    close(s.srv[1]);
    s.srv[1] = -1;
    assert_int_equal(write(s.srv[3], "r3", 2), 2);
    close(s.srv[3]);
    s.srv[3] = -1;
    fz_play_close_all(&pl);
    assert_int_equal(s.closes, 2);
    assert_int_equal(s.close_eof, 1);
    assert_int_equal(s.replied, 4);
    close_servers(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_limit_and_refusals),
        cmocka_unit_test(cap_and_full_buffer),
        cmocka_unit_test(shut_close_and_drain),
        cmocka_unit_test(read_takes_the_queue),
        cmocka_unit_test(end_reads_to_eof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
