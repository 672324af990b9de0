/* tt_server.c - tcp-time's reactor server (see tt_server.h). */
#define _GNU_SOURCE
#include "tt_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "time_reply.h"

#define TT_PREFIX_MAX 64  /* room kept for a reply's "[date] " prefix */
#define TT_ACCEPT_BURST 64 /* connections accepted per readiness event */
#define TT_KEEP_BUF 65536 /* a drained output buffer larger than this is freed */

struct tt_client {
    struct tt_client *prev, *next;
    struct tt_server *srv;
    int fd;
    int eof;             /* the peer has finished sending */
    uint32_t events;     /* events currently watched */
    uint8_t *out;        /* pending output is out[off..len) */
    size_t off, len, size;
    char name[NR_ADDRSTR_SIZE];
};

struct tt_server {
    struct tt_config cfg;
    struct tt_loop *loop;
    int listen_fd;       /* -1: none */
    struct tt_client *clients;
    size_t nclients;
    uint8_t *rbuf;       /* read_size bytes */
};

static void logf_(struct tt_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct tt_server *s, const char *fmt, ...)
{
    char line[320];
    va_list ap;

    if (!s->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.ctx, line);
}

static void client_close(struct tt_client *c, const char *why)
{
    struct tt_server *s = c->srv;

    logf_(s, "%s: closed (%s)", c->name, why);
    tt_loop_del(s->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients--;
    free(c->out);
    free(c);
}

/* Make room for `need` more bytes after out[len].  Returns 0 or -ENOMEM. */
static int out_reserve(struct tt_client *c, size_t need)
{
    size_t size;
    uint8_t *p;

    if (c->off > 0) {
        memmove(c->out, c->out + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->size - c->len >= need)
        return 0;
    size = c->size ? c->size : 4096;
    while (size - c->len < need)
        size *= 2;
    p = realloc(c->out, size);
    if (!p)
        return -ENOMEM;
    c->out = p;
    c->size = size;
    return 0;
}

/* Write as much pending output as the socket takes.  Returns 0 or -errno. */
static int out_flush(struct tt_client *c)
{
    while (c->off < c->len) {
        ssize_t n = write(c->fd, c->out + c->off, c->len - c->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return -errno;
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    if (c->size > TT_KEEP_BUF) {
        free(c->out);
        c->out = NULL;
        c->size = 0;
    }
    return 0;
}

/* Watch what the client's state calls for, or close it when it is done.
 * Returns 0, or -1 when the client was closed. */
static int client_update(struct tt_client *c)
{
    size_t pending = c->len - c->off;
    uint32_t want = 0;
    int r;

    if (c->eof && pending == 0) {
        client_close(c, "EOF, all replies sent");
        return -1;
    }
    if (!c->eof && pending < c->srv->cfg.out_cap)
        want |= EPOLLIN;
    if (pending > 0)
        want |= EPOLLOUT;
    if (want != c->events) {
        if ((r = tt_loop_mod(c->srv->loop, c->fd, want)) < 0) {
            client_close(c, strerror(-r));
            return -1;
        }
        c->events = want;
    }
    return 0;
}

/* Queue the reply to one chunk of input.  Returns 0 or -errno. */
static int queue_reply(struct tt_client *c, const uint8_t *data, size_t n)
{
    struct tt_server *s = c->srv;
    time_t now = s->cfg.clock ? s->cfg.clock(s->cfg.ctx) : time(NULL);
    long len;
    int r;

    if ((r = out_reserve(c, TT_PREFIX_MAX + n)) < 0)
        return r;
    len = tt_reply_format(now, data, n, c->out + c->len, c->size - c->len, NULL);
    if (len == -EOVERFLOW) /* a clock beyond the calendar: answer as of the epoch */
        len = tt_reply_format(0, data, n, c->out + c->len, c->size - c->len, NULL);
    if (len < 0)
        return (int)len;
    c->len += (size_t)len;
    return 0;
}

/* Read one chunk and answer it.  Returns 0, or -1 when the client was closed. */
static int client_read(struct tt_client *c)
{
    struct tt_server *s = c->srv;
    ssize_t n = nr_read(c->fd, s->rbuf, s->cfg.read_size);
    int r;

    if (n == -EAGAIN || n == -EWOULDBLOCK)
        return 0;
    if (n < 0) {
        client_close(c, strerror((int)-n));
        return -1;
    }
    if (n == 0) {
        c->eof = 1;
        logf_(s, "%s: EOF, %zu bytes of replies pending", c->name, c->len - c->off);
        return 0;
    }
    if ((r = queue_reply(c, s->rbuf, (size_t)n)) < 0) {
        client_close(c, strerror(-r));
        return -1;
    }
    return 0;
}

static void client_io(struct tt_loop *l, int fd, uint32_t events, void *arg)
{
    struct tt_client *c = arg;
    int r, err = 0;
    socklen_t elen = sizeof(err);

    (void)l;
    if (events & EPOLLERR) {
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        client_close(c, err ? strerror(err) : "socket error");
        return;
    }
    if (events & EPOLLHUP) {
#ifdef NETRIG_PLANT_BUG_TIME_CLOSE_UAF
        /* Planted for fuzz/selftest.sh only: a client that hangs up while a
         * reply is pending is used after client_close freed it. */
        int pending = c->off < c->len;

        client_close(c, "hang-up");
        if (pending)
            client_update(c);
#else
        client_close(c, "hang-up");
#endif
        return;
    }
    if ((events & EPOLLIN) && (c->events & EPOLLIN) && client_read(c) < 0)
        return;
    if ((r = out_flush(c)) < 0) {
        client_close(c, strerror(-r));
        return;
    }
    client_update(c);
}

int tt_server_add_client(struct tt_server *s, int fd, const struct nr_addr *peer)
{
    struct tt_client *c;
    int r;

    if (fd < 0)
        return -EBADF;
    if ((r = nr_set_nonblock(fd, 1)) < 0) {
        close(fd);
        return r;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->srv = s;
    c->fd = fd;
    c->events = EPOLLIN;
    if (peer && peer->len > 0 &&
        (peer->ss.ss_family == AF_INET || peer->ss.ss_family == AF_INET6))
        nr_addr_format((const struct sockaddr *)&peer->ss, c->name, sizeof(c->name));
    else
        snprintf(c->name, sizeof(c->name), "fd %d", fd);
    if ((r = tt_loop_add(s->loop, fd, EPOLLIN, client_io, c)) < 0) {
        close(fd);
        free(c);
        return r;
    }
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    logf_(s, "connection from %s", c->name);
    return 0;
}

static int default_accept(int listen_fd, struct nr_addr *peer)
{
    int fd;

    peer->len = sizeof(peer->ss);
    fd = accept4(listen_fd, (struct sockaddr *)&peer->ss, &peer->len, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static void listener_io(struct tt_loop *l, int fd, uint32_t events, void *arg)
{
    struct tt_server *s = arg;
    struct nr_addr peer;
    int i, cfd, r;

    (void)l;
    (void)events;
    for (i = 0; i < TT_ACCEPT_BURST; i++) {
        memset(&peer, 0, sizeof(peer));
        cfd = s->cfg.accept ? s->cfg.accept(s->cfg.ctx, fd, &peer) : default_accept(fd, &peer);
        if (cfd < 0) {
            if (cfd == -EINTR || cfd == -ECONNABORTED || cfd == -EPROTO ||
                ((cfd == -EMFILE || cfd == -ENFILE) && s->cfg.accept))
                continue; /* transient, or one connection shed by the accept hook */
            if (cfd != -EAGAIN && cfd != -EWOULDBLOCK)
                logf_(s, "accept: %s", strerror(-cfd));
            return;
        }
        if ((r = tt_server_add_client(s, cfd, &peer)) < 0)
            logf_(s, "cannot serve a new connection: %s", strerror(-r));
    }
}

struct tt_server *tt_server_create(const struct tt_config *cfg, char *errbuf)
{
    struct tt_server *s = calloc(1, sizeof(*s));

    if (!s) {
        nr_seterr(errbuf, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->listen_fd = -1;
    if (!s->cfg.read_size)
        s->cfg.read_size = TT_READ_SIZE;
    if (!s->cfg.out_cap)
        s->cfg.out_cap = TT_OUT_CAP;
    s->rbuf = malloc(s->cfg.read_size);
    if (!s->rbuf) {
        nr_seterr(errbuf, "out of memory");
        goto fail;
    }
    if (!(s->loop = tt_loop_create(errbuf)))
        goto fail;
    return s;
fail:
    tt_loop_destroy(s->loop);
    free(s->rbuf);
    free(s);
    return NULL;
}

int tt_server_listen(struct tt_server *s, int listen_fd)
{
    int r;

    if (s->listen_fd >= 0)
        return -EBUSY;
    if ((r = nr_set_nonblock(listen_fd, 1)) < 0)
        return r;
    if ((r = tt_loop_add(s->loop, listen_fd, EPOLLIN, listener_io, s)) < 0)
        return r;
    s->listen_fd = listen_fd;
    return 0;
}

struct tt_loop *tt_server_loop(struct tt_server *s)
{
    return s->loop;
}

int tt_server_run_once(struct tt_server *s, int timeout_ms)
{
    return tt_loop_run_once(s->loop, timeout_ms);
}

size_t tt_server_clients(const struct tt_server *s)
{
    return s->nclients;
}

void tt_server_destroy(struct tt_server *s)
{
    if (!s)
        return;
    while (s->clients)
        client_close(s->clients, "server shutting down");
    if (s->listen_fd >= 0)
        tt_loop_del(s->loop, s->listen_fd);
    tt_loop_destroy(s->loop);
    free(s->rbuf);
    free(s);
}
