/* Unit tests of the socketpair driver (fuzz/lib/fz_driver.c) in its three
 * modes, against small echo servers written here. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/fz_driver.h"
#include "nr_net.h"

#define REPLY_CAP 256

struct echo {
    uint8_t reply[FZ_MAX_CONNS][REPLY_CAP];
    size_t len[FZ_MAX_CONNS];
    int closes[FZ_MAX_CONNS];
    int fins[FZ_MAX_CONNS];        /* closes after an orderly EOF */
    uint8_t sent[FZ_MAX_CONNS][REPLY_CAP]; /* what on_send reported */
    size_t sentlen[FZ_MAX_CONNS];
    int served;
    int fds[FZ_MAX_OPENS]; /* LOOP: connections of the reactor, -1 free */
    pthread_t tids[FZ_MAX_OPENS]; /* SPAWN: the server's own threads */
    int ntids;
};

/* Blocking echo of one connection until EOF. */
static void echo_serve(void *ctx, unsigned conn, int fd)
{
    struct echo *e = ctx;
    uint8_t buf[512];
    ssize_t n;

    assert_true(conn < FZ_MAX_CONNS);
    __atomic_add_fetch(&e->served, 1, __ATOMIC_SEQ_CST);
    while ((n = nr_read(fd, buf, sizeof(buf))) > 0)
        if (nr_write_all(fd, buf, (size_t)n, 1000) < 0)
            break;
    close(fd);
}

struct spawned {
    struct echo *e;
    unsigned conn;
    int fd;
};

static void *spawned_main(void *arg)
{
    struct spawned *sp = arg;

    echo_serve(sp->e, sp->conn, sp->fd);
    free(sp);
    return NULL;
}

/* SPAWN: hand the connection to a thread of "the server" and return. */
static void spawn_serve(void *ctx, unsigned conn, int fd)
{
    struct echo *e = ctx;
    struct spawned *sp = malloc(sizeof(*sp));

    assert_non_null(sp);
    *sp = (struct spawned){ .e = e, .conn = conn, .fd = fd };
    assert_int_equal(pthread_create(&e->tids[e->ntids++], NULL, spawned_main, sp), 0);
}

static void join_spawned(struct echo *e)
{
    for (int i = 0; i < e->ntids; i++)
        pthread_join(e->tids[i], NULL);
}

static int echo_add(void *ctx, int fd)
{
    struct echo *e = ctx;

    e->served++;
    nr_set_nonblock(fd, 1);
    for (int i = 0; i < FZ_MAX_OPENS; i++) {
        if (e->fds[i] < 0) {
            e->fds[i] = fd;
            return 0;
        }
    }
    close(fd);
    return -1;
}

/* One non-blocking pass of a poll reactor echoing what is readable.
 * Returns the number of connections it served. */
static int echo_run_once(void *ctx)
{
    struct echo *e = ctx;
    uint8_t buf[512];
    ssize_t n;
    int served = 0;

    for (int i = 0; i < FZ_MAX_OPENS; i++) {
        if (e->fds[i] < 0 || nr_wait_fd(e->fds[i], POLLIN, 0) <= 0)
            continue;
        served++;
        n = nr_read(e->fds[i], buf, sizeof(buf));
        if (n > 0 && nr_write_all(e->fds[i], buf, (size_t)n, 0) == 0)
            continue;
        if (n == -EAGAIN)
            continue;
        close(e->fds[i]);
        e->fds[i] = -1;
    }
    return served;
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct echo *e = ctx;

    assert_true(len <= REPLY_CAP - e->len[conn]);
    memcpy(e->reply[conn] + e->len[conn], buf, len);
    e->len[conn] += len;
}

static void on_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct echo *e = ctx;

    assert_true(len <= REPLY_CAP - e->sentlen[conn]);
    memcpy(e->sent[conn] + e->sentlen[conn], buf, len);
    e->sentlen[conn] += len;
}

static void on_close(void *ctx, unsigned conn, int eof)
{
    struct echo *e = ctx;

    e->closes[conn]++;
    e->fins[conn] += eof;
}

static void init(struct echo *e, struct fz_server *s, enum fz_mode mode)
{
    memset(e, 0, sizeof(*e));
    for (int i = 0; i < FZ_MAX_OPENS; i++)
        e->fds[i] = -1;
    *s = (struct fz_server){
        .mode = mode, .serve = mode == FZ_MODE_SPAWN ? spawn_serve : echo_serve,
        .add = echo_add, .run_once = echo_run_once,
        .on_reply = on_reply, .on_send = on_send, .on_close = on_close, .ctx = e,
        .drain_ms = 2000,
    };
}

static void teardown_loop(struct echo *e)
{
    for (int i = 0; i < FZ_MAX_OPENS; i++)
        if (e->fds[i] >= 0)
            close(e->fds[i]);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static size_t script(uint8_t *buf, size_t cap)
{
    size_t used = 0;

    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "abc", 3), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 5, FZ_SEND, "xyz", 3), 0); /* conn 1 */
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_DRAIN, NULL, 0), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "def", 3), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 1, FZ_DRAIN, NULL, 0), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 1, FZ_CLOSE, NULL, 0), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 2, 7, "junk", 4), 0); /* unknown action */
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SHUT_WR, NULL, 0), 0);
    assert_int_equal(fz_rec_put(buf, cap, &used, 0, FZ_SEND, "lost", 4), 0); /* after shut */
    return used;
}

static void check_echo(const struct echo *e)
{
    assert_int_equal(e->served, 2);
    assert_int_equal(e->len[0], 6);
    assert_memory_equal(e->reply[0], "abcdef", 6);
    assert_int_equal(e->len[1], 3);
    assert_memory_equal(e->reply[1], "xyz", 3);
    assert_int_equal(e->closes[0], 1);
    assert_int_equal(e->closes[1], 1);
    assert_int_equal(e->closes[2], 0);
    /* the bytes sent after the half-close were dropped, not reported */
    assert_int_equal(e->sentlen[0], 6);
    assert_memory_equal(e->sent[0], "abcdef", 6);
    assert_int_equal(e->sentlen[1], 3);
    assert_int_equal(e->fins[0], 1); /* read until the server's EOF at the end */
}

static void mode_echoes(enum fz_mode mode)
{
    uint8_t in[128];
    size_t n = script(in, sizeof(in));
    struct fz_server s;
    struct echo e;

    init(&e, &s, mode);
    assert_int_equal(fz_drive(&s, in, n), 8);
    if (mode == FZ_MODE_LOOP)
        teardown_loop(&e);
    join_spawned(&e);
    check_echo(&e);
}

static void inline_echoes(void **state)
{
    (void)state;
    mode_echoes(FZ_MODE_INLINE);
}

static void thread_echoes(void **state)
{
    (void)state;
    mode_echoes(FZ_MODE_THREAD);
}

static void spawn_echoes(void **state)
{
    (void)state;
    mode_echoes(FZ_MODE_SPAWN);
}

static void loop_echoes(void **state)
{
    (void)state;
    mode_echoes(FZ_MODE_LOOP);
}

/* The reactor must have seen every connection's EOF by the time fz_drive
 * returns: nothing is left open in it. */
static void loop_server_sees_all_closes(void **state)
{
    uint8_t in[128];
    size_t n = script(in, sizeof(in));
    struct fz_server s;
    struct echo e;

    (void)state;
    init(&e, &s, FZ_MODE_LOOP);
    fz_drive(&s, in, n);
    for (int i = 0; i < FZ_MAX_OPENS; i++)
        assert_int_equal(e.fds[i], -1);
}

static void opens_are_bounded(void **state)
{
    uint8_t in[4 * (FZ_MAX_OPENS + 8)];
    size_t used = 0;
    struct fz_server s;
    struct echo e;

    (void)state;
    for (int i = 0; i < FZ_MAX_OPENS + 8; i++)
        assert_int_equal(fz_rec_put(in, sizeof(in), &used, 0, FZ_CLOSE, NULL, 0), 0);
    init(&e, &s, FZ_MODE_THREAD);
    assert_int_equal(fz_drive(&s, in, used), FZ_MAX_OPENS + 8);
    assert_int_equal(e.served, FZ_MAX_OPENS);
    assert_int_equal(e.closes[0], FZ_MAX_OPENS);
}

/* Many runs of every mode, including arbitrary bytes, leave no descriptor
 * behind. */
static void no_fd_leaks(void **state)
{
    static const enum fz_mode modes[] = { FZ_MODE_INLINE, FZ_MODE_THREAD, FZ_MODE_LOOP,
                                          FZ_MODE_SPAWN };
    uint8_t in[128], junk[64];
    size_t n = script(in, sizeof(in));
    uint32_t x = 12345;
    struct fz_server s;
    struct echo e;
    int before = open_fds();

    (void)state;
    for (int round = 0; round < 60; round++) {
        for (size_t i = 0; i < sizeof(junk); i++) {
            x = x * 1103515245u + 12345u;
            junk[i] = (uint8_t)(x >> 16);
            if (i % 4 == 1)
                junk[i] &= 3; /* mostly valid actions */
            if (i % 4 == 2)
                junk[i] = 0;  /* short lengths */
        }
        for (int m = 0; m < 4; m++) {
            init(&e, &s, modes[m]);
            s.drain_ms = 1;
            fz_drive(&s, round % 2 ? junk : in, round % 2 ? sizeof(junk) : n);
            teardown_loop(&e);
            join_spawned(&e);
        }
    }
    assert_int_equal(open_fds(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inline_echoes),
        cmocka_unit_test(thread_echoes),
        cmocka_unit_test(spawn_echoes),
        cmocka_unit_test(loop_echoes),
        cmocka_unit_test(loop_server_sees_all_closes),
        cmocka_unit_test(opens_are_bounded),
        cmocka_unit_test(no_fd_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
