/* fz_player.c - the client side of a stateful fuzz input (see fz_player.h).
 * libc only: preload compiles this file into its own library. */
#include "fz_player.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll one fd for events, up to ms, retrying EINTR within the time.
 * Returns > 0 ready, 0 timed out or failed. */
static int wait_fd(int fd, short events, int ms)
{
    int64_t deadline = now_ms() + ms;
    struct pollfd p = { .fd = fd, .events = events };
    int r, left = ms;

    for (;;) {
        r = poll(&p, 1, left);
        if (r >= 0 || errno != EINTR)
            return r > 0 ? r : 0;
        left = (int)(deadline - now_ms());
        if (left <= 0)
            return 0;
    }
}

void fz_play_init(struct fz_player *pl, const struct fz_player_ops *ops, void *ctx,
                  int max_opens)
{
    memset(pl, 0, sizeof(*pl));
    pl->ops = ops;
    pl->ctx = ctx;
    pl->max_opens = max_opens;
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        pl->cl[i].fd = -1;
}

/* A short read took all that was queued (socketpairs and unix sockets hand
 * over whole queues), so it ends the call without asking again; what
 * arrives later is read by the next call. */
size_t fz_play_read(struct fz_player *pl, unsigned i)
{
    struct fz_client *c = &pl->cl[i];
    uint8_t buf[16384];
    size_t total = 0;
    ssize_t n;

    while (c->fd >= 0 && !c->eof) {
        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            total += (size_t)n;
            if (pl->ops->on_reply)
                pl->ops->on_reply(pl->ctx, i, buf, (size_t)n);
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

void fz_play_drain(struct fz_player *pl, unsigned i, int ms, int until_eof)
{
    struct fz_client *c = &pl->cl[i];
    int64_t deadline = now_ms() + ms;
    int left;

    while (c->fd >= 0 && !c->eof) {
        left = (int)(deadline - now_ms());
        if (left < 0 || wait_fd(c->fd, POLLIN, left) == 0)
            return;
        if (fz_play_read(pl, i) > 0 && !until_eof)
            return;
    }
}

/* The send buffer of connection i is full: may the send go on? */
static int stall(struct fz_player *pl, unsigned i, int tries)
{
    if (pl->ops->stalled)
        return pl->ops->stalled(pl->ctx, i, tries);
    if (pl->stall_ms < 0 || (pl->max_stalls > 0 && tries >= pl->max_stalls))
        return 0;
    return wait_fd(pl->cl[i].fd, POLLOUT | POLLIN, pl->stall_ms) > 0;
}

/* Send as much of p[0..len) as the connection takes; a server that has gone
 * or reads nothing loses the rest, as on a wire. */
static void send_bytes(struct fz_player *pl, unsigned i, const uint8_t *p, size_t len)
{
    struct fz_client *c = &pl->cl[i];
    int tries = 0;
    ssize_t n;

    if (pl->conn_cap > 0 && len > pl->conn_cap - c->queued)
        len = pl->conn_cap - c->queued;
    while (len > 0 && c->fd >= 0 && !c->shut) {
        n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            if (pl->ops->on_send)
                pl->ops->on_send(pl->ctx, i, p, (size_t)n);
            p += n;
            len -= (size_t)n;
            c->queued += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return;
        if (!stall(pl, i, tries++))
            return;
        fz_play_read(pl, i);
    }
}

static void shut(struct fz_player *pl, unsigned i)
{
    struct fz_client *c = &pl->cl[i];

    if (c->fd < 0)
        return;
    if (pl->ops->before_shut)
        pl->ops->before_shut(pl->ctx, i);
    if (!c->shut) {
        shutdown(c->fd, SHUT_WR);
        c->shut = 1;
    }
}

/* The client of i takes what is left and closes for good. */
static void client_close(struct fz_player *pl, unsigned i)
{
    struct fz_client *c = &pl->cl[i];

    if (c->fd < 0)
        return;
    if (pl->ops->before_shut)
        pl->ops->before_shut(pl->ctx, i);
    fz_play_read(pl, i);
    close(c->fd);
    c->fd = -1;
    if (pl->ops->on_close)
        pl->ops->on_close(pl->ctx, i, c->fin);
}

/* Open the client of slot i.  Returns 0 (open, or the record is ignored:
 * c->fd stays -1), or -1 to abandon the input. */
static int client_open(struct fz_player *pl, unsigned i)
{
    struct fz_client *c = &pl->cl[i];
    int fd;

    if (pl->opens >= pl->max_opens)
        return 0;
    *c = (struct fz_client){ .fd = -1, .unanswered = pl->speaks_first };
    fd = pl->ops->open(pl->ctx, i);
    if (fd == FZ_PLAY_OPEN_ABANDON)
        return -1;
    pl->opens++;
    c->fd = fd < 0 ? -1 : fd;
    return 0;
}

int fz_play_record(struct fz_player *pl, const struct fz_rec *r)
{
    unsigned i = r->conn;
    struct fz_client *c = &pl->cl[i];

    if (c->fd < 0) {
        if (client_open(pl, i) < 0)
            return -1;
        if (c->fd < 0)
            return 0;
    }
    switch (r->action) {
    case FZ_SEND:
        send_bytes(pl, i, r->data, r->len);
        pl->sent += r->len;
        c->unanswered |= r->len > 0;
        break;
    case FZ_SHUT_WR:
        shut(pl, i);
        break;
    case FZ_CLOSE:
        client_close(pl, i);
        break;
    case FZ_DRAIN:
        /* a server that was told nothing new owes no reply: do not wait */
        if (pl->drain_ms > 0 && c->unanswered)
            fz_play_drain(pl, i, pl->drain_ms, 0);
        else if (pl->ops->settle)
            pl->ops->settle(pl->ctx);
        else
            fz_play_read(pl, i);
        c->unanswered = 0;
        break;
    }
    return 1;
}

void fz_play_shut_all(struct fz_player *pl)
{
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        shut(pl, i);
}

void fz_play_close_all(struct fz_player *pl)
{
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++) {
        if (pl->finish_ms > 0)
            fz_play_drain(pl, i, pl->finish_ms, 1);
        client_close(pl, i);
    }
}
