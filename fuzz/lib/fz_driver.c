/* fz_driver.c - the socketpair feeder behind every in-process server harness. */
#include "fz_driver.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nr_net.h"

struct fz_conn {
    int cli;      /* client end (the driver's, non-blocking), -1 when closed */
    int srv;      /* INLINE: server end until served, else -1 */
    int shut;     /* client write side shut */
    int eof;      /* client saw EOF (or an error) from the server */
    int fin;      /* that EOF was orderly: a read returned 0 */
    size_t queued; /* INLINE: client bytes written so far */
    int unanswered; /* THREAD, SPAWN: a reply is owed (bytes sent since the
                     * last drain, or a greeting from a server that speaks first) */
};

struct fz_thread {
    pthread_t th;
    const struct fz_server *srv;
    unsigned conn;
    int fd;
};

struct fz_run {
    const struct fz_server *srv;
    struct fz_conn conn[FZ_MAX_CONNS];
    struct fz_thread threads[FZ_MAX_OPENS];
    int nthreads;
    int opens;
};

static void *serve_thread(void *arg)
{
    struct fz_thread *t = arg;

    t->srv->serve(t->srv->ctx, t->conn, t->fd);
    return NULL;
}

/* Read what the server has sent on connection i without blocking, handing
 * it to on_reply.  A short read took all that was queued (socketpairs hand
 * over whole queues), so it ends the call without asking again; what
 * arrives later is read by the next call.  Returns the number of bytes read
 * (EOF sets c->eof). */
static size_t read_avail(struct fz_run *run, unsigned i)
{
    struct fz_conn *c = &run->conn[i];
    uint8_t buf[16384];
    size_t total = 0;
    ssize_t n;

    while (c->cli >= 0 && !c->eof) {
        n = recv(c->cli, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            total += (size_t)n;
            if (run->srv->on_reply)
                run->srv->on_reply(run->srv->ctx, i, buf, (size_t)n);
            if ((size_t)n < sizeof(buf))
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            c->eof = c->fin = 1;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            c->eof = 1;
        break;
    }
    return total;
}

/* LOOP: run the event loop until an iteration handles no event and brings
 * no reply bytes (at most FZ_LOOP_SPINS iterations).  That is a fixed
 * point: the loop runs in this thread only, and a client that read nothing
 * freed no buffer space the server could be waiting for. */
static void loop_settle(struct fz_run *run)
{
    for (int spin = 0; spin < FZ_LOOP_SPINS; spin++) {
        int events = run->srv->run_once(run->srv->ctx);
        size_t got = 0;

        for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
            got += read_avail(run, i);
        if (events <= 0 && got == 0)
            return;
    }
}

/* THREAD: wait up to ms for reply bytes on connection i, then take all that
 * is available.  With until_eof, keep reading until EOF or ms has passed. */
static void thread_drain(struct fz_run *run, unsigned i, int ms, int until_eof)
{
    struct fz_conn *c = &run->conn[i];
    int64_t deadline = nr_now_ms() + ms;

    while (c->cli >= 0 && !c->eof) {
        if (nr_wait_fd(c->cli, POLLIN, nr_ms_left(deadline)) <= 0)
            return;
        if (read_avail(run, i) > 0 && !until_eof)
            return;
    }
}

/* Open connection slot i: a socketpair whose server end goes to the server
 * code.  Returns 0, 1 when the input has opened FZ_MAX_OPENS already (the
 * record is ignored), or -1 on failure. */
static int conn_open(struct fz_run *run, unsigned i)
{
    const struct fz_server *srv = run->srv;
    struct fz_conn *c = &run->conn[i];
    int sv[2];

    if (run->opens >= FZ_MAX_OPENS)
        return 1;
    /* the client end stays blocking: every call on it says MSG_DONTWAIT */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    run->opens++;
    *c = (struct fz_conn){ .cli = sv[0], .srv = -1, .unanswered = srv->speaks_first };
    if (srv->mode == FZ_MODE_INLINE) {
        c->srv = sv[1];
    } else if (srv->mode == FZ_MODE_SPAWN) {
        srv->serve(srv->ctx, i, sv[1]);
    } else if (srv->mode == FZ_MODE_THREAD) {
        struct fz_thread *t = &run->threads[run->nthreads];

        t->srv = srv;
        t->conn = i;
        t->fd = sv[1];
        if (pthread_create(&t->th, NULL, serve_thread, t) != 0) {
            close(sv[1]);
            return -1;
        }
        run->nthreads++;
    } else if (srv->add(srv->ctx, sv[1]) < 0) {
        c->eof = 1; /* refused: the server closed its end */
    }
    return 0;
}

/* INLINE: shut the client's write side and serve the connection now. */
static void inline_serve(struct fz_run *run, unsigned i)
{
    struct fz_conn *c = &run->conn[i];
    int fd = c->srv;

    if (fd < 0)
        return;
    shutdown(c->cli, SHUT_WR);
    c->shut = 1;
    c->srv = -1;
    run->srv->serve(run->srv->ctx, i, fd);
    read_avail(run, i);
}

/* Client sends bytes on connection i, as far as the mode allows. */
static void conn_send(struct fz_run *run, unsigned i, const uint8_t *p, size_t len)
{
    struct fz_conn *c = &run->conn[i];
    enum fz_mode mode = run->srv->mode;
    int spins = 0;
    ssize_t n;

    if (c->shut)
        return;
    if (mode == FZ_MODE_INLINE) {
        if (len > FZ_INLINE_CAP - c->queued)
            len = FZ_INLINE_CAP - c->queued;
    }
    while (len > 0) {
        n = send(c->cli, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            if (run->srv->on_send)
                run->srv->on_send(run->srv->ctx, i, p, (size_t)n);
            p += n;
            len -= (size_t)n;
            c->queued += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return; /* the server has gone: the rest is lost, as on a wire */
        if (mode == FZ_MODE_INLINE || spins++ >= FZ_LOOP_SPINS)
            return; /* buffer full and nobody reading: drop the rest */
        if (mode == FZ_MODE_LOOP)
            run->srv->run_once(run->srv->ctx);
        else if (nr_wait_fd(c->cli, POLLOUT | POLLIN, FZ_FINISH_MS) <= 0)
            return;
        read_avail(run, i);
    }
}

/* Client closes connection i for good, after taking what is left. */
static void conn_close(struct fz_run *run, unsigned i)
{
    struct fz_conn *c = &run->conn[i];

    if (c->cli < 0)
        return;
    if (run->srv->mode == FZ_MODE_INLINE)
        inline_serve(run, i);
    read_avail(run, i);
    close(c->cli);
    c->cli = -1;
    if (run->srv->on_close)
        run->srv->on_close(run->srv->ctx, i, c->fin);
}

/* Does the server answer from threads of its own, so replies are waited for? */
static int waits(enum fz_mode mode)
{
    return mode == FZ_MODE_THREAD || mode == FZ_MODE_SPAWN;
}

/* Apply one record. Returns 0, or -1 on resource failure. */
static int apply(struct fz_run *run, const struct fz_rec *r)
{
    struct fz_conn *c = &run->conn[r->conn];
    enum fz_mode mode = run->srv->mode;
    int o;

    if (c->cli < 0) {
        o = conn_open(run, r->conn);
        if (o != 0)
            return o < 0 ? -1 : 0;
    }
    switch (r->action) {
    case FZ_SEND:
        conn_send(run, r->conn, r->data, r->len);
        c->unanswered |= r->len > 0;
        break;
    case FZ_SHUT_WR:
        if (mode == FZ_MODE_INLINE)
            inline_serve(run, r->conn);
        shutdown(c->cli, SHUT_WR);
        c->shut = 1;
        break;
    case FZ_CLOSE:
        conn_close(run, r->conn);
        break;
    case FZ_DRAIN:
        /* a server that was told nothing new owes no reply: do not wait */
        if (waits(mode) && c->unanswered)
            thread_drain(run, r->conn,
                         run->srv->drain_ms > 0 ? run->srv->drain_ms : FZ_DRAIN_MS, 0);
        else if (mode == FZ_MODE_LOOP)
            loop_settle(run);
        else
            read_avail(run, r->conn);
        c->unanswered = 0;
        break;
    }
    if (mode == FZ_MODE_LOOP && r->action != FZ_DRAIN)
        run->srv->run_once(run->srv->ctx);
    return 0;
}

/* End of input: every client half-closes, takes the rest of its reply and
 * closes; server threads are joined. */
static void finish(struct fz_run *run)
{
    enum fz_mode mode = run->srv->mode;
    unsigned i;

    for (i = 0; i < FZ_MAX_CONNS; i++) {
        struct fz_conn *c = &run->conn[i];

        if (c->cli < 0)
            continue;
        if (mode == FZ_MODE_INLINE) {
            inline_serve(run, i);
        } else if (!c->shut) {
            shutdown(c->cli, SHUT_WR);
            c->shut = 1;
        }
    }
    if (mode == FZ_MODE_LOOP)
        loop_settle(run);
    for (i = 0; i < FZ_MAX_CONNS; i++) {
        if (waits(mode) && run->conn[i].cli >= 0)
            thread_drain(run, i, FZ_FINISH_MS, 1);
        conn_close(run, i);
    }
    if (mode == FZ_MODE_LOOP)
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
    int applied = 0, rc = 0;

    if (!sigpipe_ignored) {
        signal(SIGPIPE, SIG_IGN);
        sigpipe_ignored = 1;
    }
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        run.conn[i] = (struct fz_conn){ .cli = -1, .srv = -1 };
    nr_cur_init(&cur, data, size);
    while (fz_rec_next(&cur, &r)) {
        if (apply(&run, &r) < 0) {
            rc = -1;
            break;
        }
        applied++;
    }
    finish(&run);
    return rc < 0 ? -1 : applied;
}
