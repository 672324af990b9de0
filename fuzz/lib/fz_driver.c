/* fz_driver.c - the socketpair feeder behind every in-process server harness.
 * The records are played by fz_player.c, shared with the LD_PRELOAD library;
 * this file is the server side: a socketpair per connection, handed to the
 * server code as each mode says. */
#include "fz_driver.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fz_player.h"

struct fz_thread {
    pthread_t th;
    const struct fz_server *srv;
    unsigned conn;
    int fd;
};

struct fz_run {
    const struct fz_server *srv;
    struct fz_player pl;          /* the clients (fz_player.h) */
    int srv_fd[FZ_MAX_CONNS];     /* INLINE: server end until served, else -1 */
    struct fz_thread threads[FZ_MAX_OPENS];
    int nthreads;
};

static void *serve_thread(void *arg)
{
    struct fz_thread *t = arg;

    t->srv->serve(t->srv->ctx, t->conn, t->fd);
    return NULL;
}

/* LOOP: run the event loop until an iteration handles no event and brings
 * no reply bytes (at most FZ_LOOP_SPINS iterations).  That is a fixed
 * point: the loop runs in this thread only, and a client that read nothing
 * freed no buffer space the server could be waiting for. */
static void loop_settle(void *ctx)
{
    struct fz_run *run = ctx;

    for (int spin = 0; spin < FZ_LOOP_SPINS; spin++) {
        int events = run->srv->run_once(run->srv->ctx);
        size_t got = 0;

        for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
            got += fz_play_read(&run->pl, i);
        if (events <= 0 && got == 0)
            return;
    }
}

/* LOOP: a send found the buffer full: run the loop once (at most
 * FZ_LOOP_SPINS times per send), then try again. */
static int loop_stalled(void *ctx, unsigned conn, int tries)
{
    struct fz_run *run = ctx;

    (void)conn;
    if (tries >= FZ_LOOP_SPINS)
        return 0;
    run->srv->run_once(run->srv->ctx);
    return 1;
}

/* Open connection slot i: a socketpair whose server end goes to the server
 * code.  Returns the client end, or FZ_PLAY_OPEN_ABANDON. */
static int conn_open(void *ctx, unsigned i)
{
    struct fz_run *run = ctx;
    const struct fz_server *srv = run->srv;
    int sv[2];

    /* the client end stays blocking: every call on it says MSG_DONTWAIT */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return FZ_PLAY_OPEN_ABANDON;
    run->srv_fd[i] = -1;
    if (srv->mode == FZ_MODE_INLINE) {
        run->srv_fd[i] = sv[1];
    } else if (srv->mode == FZ_MODE_SPAWN) {
        srv->serve(srv->ctx, i, sv[1]);
    } else if (srv->mode == FZ_MODE_THREAD) {
        struct fz_thread *t = &run->threads[run->nthreads];

        t->srv = srv;
        t->conn = i;
        t->fd = sv[1];
        if (pthread_create(&t->th, NULL, serve_thread, t) != 0) {
            close(sv[0]);
            close(sv[1]);
            return FZ_PLAY_OPEN_ABANDON;
        }
        run->nthreads++;
    } else if (srv->add(srv->ctx, sv[1]) < 0) {
        run->pl.cl[i].eof = 1; /* refused: the server closed its end */
    }
    return sv[0];
}

/* INLINE, before the client shuts or closes: shut the client's write side
 * and serve the connection now (once). */
static void inline_serve(void *ctx, unsigned i)
{
    struct fz_run *run = ctx;
    struct fz_client *c = &run->pl.cl[i];
    int fd = run->srv_fd[i];

    if (fd < 0)
        return;
    shutdown(c->fd, SHUT_WR);
    c->shut = 1;
    run->srv_fd[i] = -1;
    run->srv->serve(run->srv->ctx, i, fd);
    fz_play_read(&run->pl, i);
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    const struct fz_server *srv = ((struct fz_run *)ctx)->srv;

    if (srv->on_reply)
        srv->on_reply(srv->ctx, conn, buf, len);
}

static void on_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    const struct fz_server *srv = ((struct fz_run *)ctx)->srv;

    if (srv->on_send)
        srv->on_send(srv->ctx, conn, buf, len);
}

static void on_close(void *ctx, unsigned conn, int eof)
{
    const struct fz_server *srv = ((struct fz_run *)ctx)->srv;

    if (srv->on_close)
        srv->on_close(srv->ctx, conn, eof);
}

static const struct fz_player_ops inline_ops = {
    .open = conn_open, .before_shut = inline_serve,
    .on_reply = on_reply, .on_send = on_send, .on_close = on_close,
};
static const struct fz_player_ops thread_ops = {
    .open = conn_open, .on_reply = on_reply, .on_send = on_send, .on_close = on_close,
};
static const struct fz_player_ops loop_ops = {
    .open = conn_open, .stalled = loop_stalled, .settle = loop_settle,
    .on_reply = on_reply, .on_send = on_send, .on_close = on_close,
};

/* The player's hooks and settings for srv's mode. */
static void player_setup(struct fz_run *run)
{
    const struct fz_server *srv = run->srv;
    struct fz_player *pl = &run->pl;

    switch (srv->mode) {
    case FZ_MODE_INLINE:
        fz_play_init(pl, &inline_ops, run, FZ_MAX_OPENS);
        pl->conn_cap = FZ_INLINE_CAP; /* every byte waits in the socket */
        pl->stall_ms = -1;            /* buffer full and nobody reading: drop the rest */
        break;
    case FZ_MODE_LOOP:
        fz_play_init(pl, &loop_ops, run, FZ_MAX_OPENS);
        break;
    case FZ_MODE_THREAD:
    case FZ_MODE_SPAWN:
        /* the server answers from threads of its own: wait for replies */
        fz_play_init(pl, &thread_ops, run, FZ_MAX_OPENS);
        pl->drain_ms = srv->drain_ms > 0 ? srv->drain_ms : FZ_DRAIN_MS;
        pl->stall_ms = FZ_FINISH_MS;
        pl->max_stalls = FZ_LOOP_SPINS;
        pl->finish_ms = FZ_FINISH_MS;
        break;
    }
    pl->speaks_first = srv->speaks_first;
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        run->srv_fd[i] = -1;
}

/* End of input: every client half-closes, takes the rest of its reply and
 * closes; server threads are joined. */
static void finish(struct fz_run *run)
{
    int loop = run->srv->mode == FZ_MODE_LOOP;

    fz_play_shut_all(&run->pl);
    if (loop)
        loop_settle(run);
    fz_play_close_all(&run->pl);
    if (loop)
        loop_settle(run);
    for (int t = 0; t < run->nthreads; t++)
        pthread_join(run->threads[t].th, NULL);
}

int fz_drive(const struct fz_server *srv, const uint8_t *data, size_t size)
{
    static int sigpipe_ignored;
    struct fz_run run = { .srv = srv };
    struct nr_cursor cur;
    struct fz_rec r;
    int applied = 0, rc = 0, played;

    if (!sigpipe_ignored) {
        signal(SIGPIPE, SIG_IGN);
        sigpipe_ignored = 1;
    }
    player_setup(&run);
    nr_cur_init(&cur, data, size);
    while (fz_rec_next(&cur, &r)) {
        if ((played = fz_play_record(&run.pl, &r)) < 0) {
            rc = -1;
            break;
        }
        if (played && srv->mode == FZ_MODE_LOOP && r.action != FZ_DRAIN)
            srv->run_once(srv->ctx);
        applied++; /* an ignored record counts as applied */
    }
    finish(&run);
    return rc < 0 ? -1 : applied;
}
