/* exec_proxy.c - the fault proxy: `proxy NAME = tcp|udp UPSTREAM`, its
 * toxics (`fault`, `heal`) and its ledger (`ledger`).
 *
 * Each proxy listens on a loopback port of its own (${NAME}) and relays
 * between its clients and UPSTREAM on a thread of its own: a poll loop over
 * its sockets with timers for delayed bytes.  What to do with the bytes is
 * decided by nr_fault.c (pure functions over byte runs and datagrams, seeded
 * from the run's seed); this file only does it.  Every socket of the proxy
 * keeps a struct exec_record like the runner's own sockets, so the
 * automatic wire check covers both legs of every relayed connection.
 *
 * While a TCP direction has no toxic, its bytes go from one leg to the
 * other through a pipe with splice(2), as they come, and never enter the
 * proxy's memory; with a toxic they are read, planned and written.  A
 * switch waits until the other path is empty (the pipe is flushed before a
 * toxic applies; the planned queue is written before plain relaying
 * resumes), so the stream keeps its order.  The proxy does not hash the
 * bytes it relays: the wire check compares its two legs with each other on
 * the capture (record.relay), the ranges a toxic swallowed named
 * (record.relay_skip).
 *
 * The legs' congestion control and socket buffers are chosen (set_legs):
 * with this system's default, BBR, whose sends are paced, a 64 MiB echo
 * through the proxy measured +43% over the direct echo; with reno +5%
 * (harness/doc/faults.md, Cost). */
#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define PX_READ 65536                 /* bytes per read of a TCP leg (toxics active) */
/* The pipe a direction with no toxic splices through (the kernel may give
 * less), and the socket buffers of the proxy's TCP legs (SO_RCVBUF and
 * SO_SNDBUF; the kernel doubles them): small enough that the bytes in
 * flight stay in the CPUs' caches and a transfer's tail after its last send
 * is short. */
#define PX_PIPE_SIZE (1024 * 1024)
#define PX_SOCK_BUF (256 * 1024)
#define PX_CONGESTION "reno" /* not paced; always allowed (no privilege needed) */
#define PX_RELAY_TURN (1024u * 1024)  /* bytes one turn relays per direction at most */
#define PX_QUEUE_MAX (256u * 1024)    /* queued bytes before a direction stops reading */
#define PX_UDP_MAX 65536
#define PX_HOLD_MAX_US 200000         /* a reordered datagram waits at most this long */
#define PX_TICK_MS 100                /* the loop looks at its stop flag this often */
#define PX_CONNECT_POLL_MS 2          /* exec_proxy_connected polls this often */
#define PX_PACE_STEP (256u * 1024)    /* bytes moved between looks at the capture's pace */
#define PX_TAKE_S 5                   /* a fault step waits this long for the loop to take it */

/* Bytes read in one run and the slices nr_tcp_plan made of them. */
struct px_seg {
    uint8_t *buf;
    struct nr_piece *pc;
    size_t np, pi;          /* slices; the next one to write */
    size_t done;            /* bytes of slice pi already written */
    int slices;             /* written by the slicer: counted in the ledger */
    struct px_seg *next;
};

/* One direction of a TCP link. */
struct px_dir {
    struct nr_tcp_state ts;
    struct nr_rng rng;
    struct px_seg *head, *tail;
    size_t queued;          /* bytes in the segments, not yet written */
    int pipe[2];            /* splice's pipe while no toxic is active (-1: not yet made) */
    size_t inpipe;          /* bytes in it: spliced in, not yet out */
    int eof;                /* the sender's FIN arrived */
    int64_t eof_us;         /* when */
    int fin_sent;           /* shutdown(SHUT_WR) on the receiver done */
    int stalled;            /* a stall began (counted once per stall) */
    enum nr_tcp_action after; /* what to do once the queue is written */
};

/* One socket of the proxy and what it saw. */
struct px_leg {
    int fd;
    struct exec_record rec;
};

/* A relayed TCP connection (leg 0: the client's, leg 1: upstream's) or a
 * UDP session (one client address; leg 0 describes it, its fd is the
 * proxy's listening socket). */
struct px_link {
    struct px_leg leg[2];
    struct px_dir dir[2];   /* 0: up (leg 0 -> leg 1), 1: down */
    unsigned no;            /* 1, 2, ... in accept order */
    int connecting;         /* TCP: the upstream connect is in progress */
    int64_t born_us;
    struct px_link *next;
};

/* A datagram on its way (UDP). */
struct px_dg {
    struct px_link *link;
    int dir;
    uint8_t *buf;
    size_t len;
    int64_t at_us;          /* not before */
    uint64_t hold;          /* reorder: later datagrams still to let pass */
    int64_t held_us;        /* reorder: when it was held back */
    struct px_dg *next;
};

/* What exec_proxy_connected waits for: the fate of a client's upstream. */
struct px_client {
    int port;               /* the client's source port */
    int state;              /* 0 pending, 1 reached, 2 failed */
    int err;
};

struct exec_proxy {
    char name[NR_SCN_NAME_MAX];
    const struct nr_step *step;
    struct exec_state *st;
    int proto;
    struct nr_addr upstream, addr; /* where it relays to; where it listens */
    int lfd;                /* listening TCP / bound UDP socket */
    int wake[2];            /* a pipe: fault steps and stop wake the loop */
    pthread_t thread;
    uint64_t seed;
    pthread_mutex_t lock;   /* everything below */
    struct nr_faults faults[2];
    int64_t added_us[2][NR_TOX_COUNT]; /* when each toxic was (re)added */
    struct nr_ledger ledger[2];
    struct px_client *clients;
    size_t nclients;
    char *fail;             /* the first failure of the proxy (owned) */
    int fail_reported;      /* a connect step reported it */
    int stop;
    uint64_t fault_gen;     /* fault steps so far, */
    uint64_t taken_gen;     /* and how many of them the loop has taken */
    int loop_ended;         /* the loop returned (a fault step waits no more) */
    pthread_cond_t taken;   /* taken_gen moved or the loop ended */
    struct exec_proxy *next;
    /* the loop's own (only its thread touches them) */
    struct px_link *links;
    struct px_dg *dgs;
    unsigned nlinks;
    uint64_t io;            /* bytes read and written on all legs (for pacing) */
    struct exec_ctx pace_ctx; /* exec_pace's view of the scenario */
    struct exec_pacer pacer;
    uint64_t paced_io;      /* io when the loop last looked at the capture */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t exec_proxy_default_seed(const char *path)
{
    const char *p = path + strlen(path);
    int slashes = 0;

    while (p > path && !(p[-1] == '/' && ++slashes == 2))
        p--;
    return nr_fault_hash(p);
}

/* ---- the ledger and the proxy's failure --------------------------------- */

static void count(struct exec_proxy *px, int dir, enum nr_ledger_item i, uint64_t n)
{
    if (!n)
        return;
    pthread_mutex_lock(&px->lock);
    px->ledger[dir].v[i] += n;
    pthread_mutex_unlock(&px->lock);
}

/* Note the proxy's first failure (later ones are only logged). */
static void px_fail(struct exec_proxy *px, const char *msg)
{
    exec_log(px->st, "proxy %s: %s", px->name, msg);
    pthread_mutex_lock(&px->lock);
    if (!px->fail)
        px->fail = strdup(msg);
    pthread_mutex_unlock(&px->lock);
}

static void set_client(struct exec_proxy *px, int port, int state, int err)
{
    struct px_client *nv;

    pthread_mutex_lock(&px->lock);
    for (size_t i = px->nclients; i-- > 0;)
        if (px->clients[i].port == port) {
            px->clients[i].state = state;
            px->clients[i].err = err;
            pthread_mutex_unlock(&px->lock);
            return;
        }
    nv = realloc(px->clients, (px->nclients + 1) * sizeof(*nv));
    if (nv) {
        px->clients = nv;
        px->clients[px->nclients++] = (struct px_client){ port, state, err };
    }
    pthread_mutex_unlock(&px->lock);
}

/* ---- records ------------------------------------------------------------ */

static void leg_init(struct px_leg *g, const char *proxy, unsigned no, const char *side,
                     int proto, int fd)
{
    memset(g, 0, sizeof(*g));
    g->fd = fd;
    snprintf(g->rec.name, sizeof(g->rec.name), "%.12s#%u.%s", proxy, no, side);
    g->rec.proto = proto;
    g->rec.sent_hash = g->rec.recv_hash = exec_hash(NULL, 0);
    g->rec.have_peer = 1;
}

/* The relay id of a new TCP connection's two legs: unique in the process. */
static uint64_t next_relay(void)
{
    static _Atomic uint64_t last;

    return ++last;
}

/* Name len bytes at offset off of what leg[d] received as swallowed (never
 * delivered, the stream going on after them) in the record of the leg that
 * relays them, leg[!d]. */
static void note_skip(struct exec_proxy *px, struct px_link *k, int d, uint64_t off, size_t len)
{
    struct exec_record *r = &k->leg[!d].rec;
    struct exec_skip *last = r->n_relay_skip ? &r->relay_skip[r->n_relay_skip - 1] : NULL;

    if (last && last->off + last->len == off) {
        last->len += len;
        return;
    }
    if (r->n_relay_skip == EXEC_RELAY_SKIPS) {
        px_fail(px, "a connection swallowed bytes in more separate runs than the wire check "
                    "can follow (timeout, healed and added again, more than 16 times)");
        return;
    }
    r->relay_skip[r->n_relay_skip++] = (struct exec_skip){ off, len };
}

static void note_dg(uint32_t **v, size_t *n, size_t len)
{
    uint32_t *nv = realloc(*v, (*n + 1) * sizeof(**v));

    if (nv) {
        nv[(*n)++] = (uint32_t)len;
        *v = nv;
    }
}

/* Hand a leg's record to the scenario's list for the wire check. */
static void keep_record(struct exec_state *st, struct exec_record *r)
{
    struct exec_record *nv;

    pthread_mutex_lock(&st->lock);
    nv = realloc(st->records, (st->nrecords + 1) * sizeof(*nv));
    if (nv) {
        st->records = nv;
        st->records[st->nrecords++] = *r;
        r->dg_sent = r->dg_recv = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    free(r->dg_sent);
    free(r->dg_recv);
}

/* ---- TCP links ------------------------------------------------------------ */

/* Free a link (its sockets are closed by link_end). */
static void link_free(struct px_link *k)
{
    free(k);
}

static void seg_free(struct px_seg *g)
{
    free(g->buf);
    free(g->pc);
    free(g);
}

/* Drop what a direction still queues or holds in its pipe; returns the
 * bytes dropped. */
static size_t dir_clear(struct px_dir *d)
{
    size_t n = d->queued + d->inpipe;

    if (d->pipe[0] >= 0) {
        close(d->pipe[0]);
        close(d->pipe[1]);
        d->pipe[0] = d->pipe[1] = -1;
    }
    d->inpipe = 0;

    while (d->head) {
        struct px_seg *g = d->head;
        d->head = g->next;
        seg_free(g);
    }
    d->tail = NULL;
    d->queued = 0;
    return n;
}

/* Would closing this TCP socket lose bytes (queued or unread)? */
static int leg_cuts(int fd)
{
    int outq = 0, inq = 0;

    return (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > 0) ||
           (ioctl(fd, SIOCINQ, &inq) == 0 && inq > 0);
}

/* End a link: reset (RST on both legs) or close; keep both records. */
static void link_end(struct exec_proxy *px, struct px_link *k, int reset, const char *why)
{
    static const struct linger rst = { 1, 0 };
    size_t cut[2];

    for (int d = 0; d < 2; d++) {
        cut[d] = dir_clear(&k->dir[d]);
        count(px, d, NR_L_CUT, cut[d]);
    }
    for (int i = 0; i < 2; i++) {
        struct px_leg *g = &k->leg[i];
        if (g->fd < 0)
            continue;
        g->rec.cut = reset || cut[0] || cut[1] || leg_cuts(g->fd);
        if (reset)
            setsockopt(g->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
        close(g->fd);
        g->fd = -1;
    }
    if (why)
        exec_log(px->st, "proxy %s: connection #%u %s (up: %llu bytes relayed, down: %llu; "
                 "%zu + %zu queued bytes cut)", px->name, k->no, why,
                 (unsigned long long)k->leg[1].rec.sent, (unsigned long long)k->leg[0].rec.sent,
                 cut[0], cut[1]);
    for (int i = 0; i < 2; i++)
        if (k->leg[i].rec.have_peer && k->leg[i].rec.local.len)
            keep_record(px->st, &k->leg[i].rec);
}

static void link_unlink(struct exec_proxy *px, struct px_link *k)
{
    for (struct px_link **pp = &px->links; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    link_free(k);
}

/* The sender of direction d reset, or its receiver failed: reset both. */
static void dir_failed(struct exec_proxy *px, struct px_link *k, int d, int sender)
{
    if (sender)
        k->leg[d].rec.cut = 1;
    link_end(px, k, 1, sender ? (d == 0 ? "reset by the client" : "reset by upstream")
                              : (d == 0 ? "upstream failed (reset)" : "client failed (reset)"));
    link_unlink(px, k);
}

/* Give a TCP socket of the proxy its congestion control and small buffers
 * (PX_CONGESTION, PX_SOCK_BUF); the listening socket's are inherited by the
 * connections it accepts.  Either may be refused: the defaults work too. */
static void set_legs(int fd)
{
    static const int size = PX_SOCK_BUF;

    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, PX_CONGESTION, strlen(PX_CONGESTION));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* A client connected: start its upstream connect.  Returns -1 when no
 * connection was waiting. */
static int tcp_accept(struct exec_proxy *px)
{
    static const int one = 1;
    struct nr_addr peer;
    struct px_link *k;
    int fd, up, port;

    peer.len = sizeof(peer.ss);
    fd = accept4(px->lfd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    k = calloc(1, sizeof(*k));
    up = socket(px->upstream.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!k || up < 0) {
        free(k);
        close(fd);
        if (up >= 0)
            close(up);
        px_fail(px, "out of memory or sockets for a new connection");
        return 0;
    }
    k->no = ++px->nlinks;
    k->born_us = now_us();
    /* slices must reach the wire as the slicer cut them, not coalesced */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    set_legs(up); /* before its connect: the window it offers fits them */
    leg_init(&k->leg[0], px->name, k->no, "client", IPPROTO_TCP, fd);
    leg_init(&k->leg[1], px->name, k->no, "upstream", IPPROTO_TCP, up);
    k->leg[0].rec.relay = k->leg[1].rec.relay = next_relay();
    for (int d = 0; d < 2; d++)
        k->dir[d].pipe[0] = k->dir[d].pipe[1] = -1;
    k->leg[0].rec.local = px->addr;
    k->leg[0].rec.peer = peer;
    k->leg[1].rec.peer = px->upstream;
    for (int d = 0; d < 2; d++)
        nr_rng_init(&k->dir[d].rng, px->seed, nr_fault_hash(px->name) + k->no * 2u + (unsigned)d);
    port = nr_addr_port((struct sockaddr *)&peer.ss);
    set_client(px, port, 0, 0);
    count(px, 0, NR_L_CONNS, 1);
    k->connecting = 1;
    /* done at once, in progress or failed: the loop's POLLOUT reports which */
    (void)connect(up, (const struct sockaddr *)&px->upstream.ss, px->upstream.len);
    k->next = px->links;
    px->links = k;
    return 0;
}

/* The upstream connect of k finished: go on, or reset the client. */
static int tcp_connected(struct exec_proxy *px, struct px_link *k)
{
    int err = 0, port = nr_addr_port((struct sockaddr *)&k->leg[0].rec.peer.ss);
    socklen_t el = sizeof(err);
    char as[NR_ADDRSTR_SIZE], cs[NR_ADDRSTR_SIZE], msg[300];

    if (getsockopt(k->leg[1].fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    k->connecting = 0;
    if (err == 0) {
        nr_local_addr(k->leg[1].fd, &k->leg[1].rec.local, NULL);
        set_client(px, port, 1, 0);
        return 0;
    }
    snprintf(msg, sizeof(msg), "upstream %s: %s, for connection #%u from client %s (the "
             "client is reset)",
             nr_addr_format((struct sockaddr *)&px->upstream.ss, as, sizeof(as)), strerror(err),
             k->no, nr_addr_format((struct sockaddr *)&k->leg[0].rec.peer.ss, cs, sizeof(cs)));
    count(px, 0, NR_L_REFUSED, 1);
    set_client(px, port, 2, err);
    px_fail(px, msg);
    close(k->leg[1].fd);
    k->leg[1].fd = -1;
    k->leg[1].rec.have_peer = 0; /* never connected: nothing on the wire to check */
    link_end(px, k, 1, NULL);
    return -1;
}

/* Read what the sender of direction d has, plan it, queue it.  Returns -1
 * when the link ended. */
static int tcp_read(struct exec_proxy *px, struct px_link *k, int d, const struct nr_faults *f)
{
    struct px_dir *dd = &k->dir[d];
    struct px_leg *src = &k->leg[d];
    uint8_t *buf = malloc(PX_READ);
    struct nr_piece *pc = NULL;
    struct nr_tcp_plan plan;
    struct px_seg *g;
    ssize_t n;
    size_t np;

    if (!buf)
        return 0;
    n = recv(src->fd, buf, PX_READ, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        free(buf);
        return 0;
    }
    if (n <= 0) {
        free(buf);
        if (n < 0) { /* the sender reset: so does the proxy, to the receiver */
            dir_failed(px, k, d, 1);
            return -1;
        }
        dd->eof = 1;
        dd->eof_us = now_us();
        return 0;
    }
    src->rec.received += (uint64_t)n;
    px->io += (uint64_t)n;
    count(px, d, NR_L_BYTES_IN, (uint64_t)n);
    if (!nr_tcp_delivers(f)) { /* a blackhole: say nothing */
        count(px, d, NR_L_CUT, (uint64_t)n);
        note_skip(px, k, d, src->rec.received - (uint64_t)n, (size_t)n);
        free(buf);
        return 0;
    }
    np = nr_tcp_max_pieces(f, (size_t)n);
    pc = malloc(np * sizeof(*pc));
    g = calloc(1, sizeof(*g));
    if (!pc || !g || nr_tcp_plan(f, &dd->rng, &dd->ts, (size_t)n, now_us(), pc, np, &plan) < 0) {
        free(buf);
        free(pc);
        free(g);
        px_fail(px, "out of memory");
        return 0;
    }
    count(px, d, NR_L_CUT, plan.cut);
    count(px, d, NR_L_DELAYED, plan.delayed);
    if (plan.action != NR_TCP_GO)
        dd->after = plan.action;
    g->buf = buf;
    g->pc = pc;
    g->np = plan.npieces;
    g->slices = nr_faults_has(f, NR_TOX_SLICER);
    dd->queued += plan.kept;
    if (dd->tail)
        dd->tail->next = g;
    else
        dd->head = g;
    dd->tail = g;
    return 0;
}

/* Splice what the sender of direction d has into its pipe (made on first
 * use), which is empty.  Returns the bytes moved (0 at EOF or when none
 * waited), -1 when the link ended. */
static ssize_t relay_in(struct exec_proxy *px, struct px_link *k, int d)
{
    struct px_dir *dd = &k->dir[d];
    struct px_leg *src = &k->leg[d];
    ssize_t n;

    if (dd->pipe[0] < 0) {
        if (pipe2(dd->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
            dd->pipe[0] = dd->pipe[1] = -1;
            px_fail(px, "out of pipes for splice");
            link_end(px, k, 1, "reset: out of pipes for splice");
            link_unlink(px, k);
            return -1;
        }
        /* a bigger pipe moves more per call; at the user's pipe limit the
         * kernel refuses, and the default (64 KiB) works too */
        (void)fcntl(dd->pipe[1], F_SETPIPE_SZ, PX_PIPE_SIZE);
    }
    n = splice(src->fd, NULL, dd->pipe[1], NULL, PX_PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n < 0) {
        dir_failed(px, k, d, 1);
        return -1;
    }
    if (n == 0) {
        dd->eof = 1;
        dd->eof_us = now_us();
        return 0;
    }
    src->rec.received += (uint64_t)n;
    dd->inpipe = (size_t)n;
    px->io += (uint64_t)n;
    nr_tcp_relayed(&dd->ts, (size_t)n, now_us());
    count(px, d, NR_L_BYTES_IN, (uint64_t)n);
    return n;
}

/* n, the result of a write to direction d's receiver: count what went
 * out.  Returns the bytes written (0 when its socket was full), -1 when the
 * link ended (the write failed: both legs are reset). */
static ssize_t wrote(struct exec_proxy *px, struct px_link *k, int d, ssize_t n)
{
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n < 0) {
        dir_failed(px, k, d, 0);
        return -1;
    }
    k->leg[!d].rec.sent += (uint64_t)n;
    px->io += (uint64_t)n;
    count(px, d, NR_L_BYTES_OUT, (uint64_t)n);
    return n;
}

/* Splice what direction d's pipe holds to its receiver.  Returns the bytes
 * moved, -1 when the link ended. */
static ssize_t relay_out(struct exec_proxy *px, struct px_link *k, int d)
{
    struct px_dir *dd = &k->dir[d];
    ssize_t n;

    if (!dd->inpipe)
        return 0;
    n = splice(dd->pipe[0], NULL, k->leg[!d].fd, NULL, dd->inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if ((n = wrote(px, k, d, n)) > 0) {
        dd->inpipe -= (size_t)n;
        count(px, d, NR_L_PLAIN, (uint64_t)n);
    }
    return n;
}

/* What the proxy has moved, as its pacing counts it: px->io less link k's
 * bytes still in its legs' send queues (not on the wire yet), plus those in
 * their receive queues (on the wire and in the capture's ring, not read
 * yet), as the runner's own sockets count (exec_rx_on_wire).  Without the
 * receive queues a proxy that read fast ran ahead of a capture that fell
 * behind, and the ring overflowed. */
static uint64_t pace_io(const struct exec_proxy *px, const struct px_link *k)
{
    uint64_t io = px->io;

    for (int i = 0; i < 2; i++) {
        int unsent = 0, unread = 0;
        if (k->leg[i].fd < 0)
            continue;
        if (ioctl(k->leg[i].fd, SIOCOUTQNSD, &unsent) == 0 && unsent > 0 &&
            (uint64_t)unsent <= io)
            io -= (uint64_t)unsent;
        if (ioctl(k->leg[i].fd, SIOCINQ, &unread) == 0 && unread > 0)
            io += (uint64_t)unread;
    }
    return io;
}

/* Wait while the capture is behind what the proxy moved (exec_pace), when
 * there is a capture and PX_PACE_STEP more bytes moved since the last look
 * (pace_io's system calls are not free at a look per read). */
static void pace(struct exec_proxy *px, const struct px_link *k)
{
    if (!px->pacer.cap || px->io - px->paced_io < PX_PACE_STEP)
        return;
    px->paced_io = px->io;
    exec_pace(&px->pace_ctx, &px->pacer, pace_io(px, k));
}

/* Direction d has no toxic and nothing queued: relay its bytes as they
 * come until neither side moves any (or PX_RELAY_TURN, so the other links
 * and the capture's pacing get their turn).  Returns -1 when the link
 * ended. */
static int tcp_relay(struct exec_proxy *px, struct px_link *k, int d)
{
    struct px_dir *dd = &k->dir[d];
    size_t moved = 0;

    while (moved < PX_RELAY_TURN) {
        ssize_t in = 0, out;
        /* each round may move a pipe's worth on two legs: the capture
         * must keep up (see tcp_turn) */
        pace(px, k);
        if (!dd->eof && !dd->inpipe && (in = relay_in(px, k, d)) < 0)
            return -1;
        if ((out = relay_out(px, k, d)) < 0)
            return -1;
        /* nothing moved, or the receiver's socket filled up (a send now
         * would only fail with EAGAIN: wait for POLLOUT) */
        if ((in == 0 && out == 0) || dd->inpipe)
            break;
        moved += (size_t)in;
    }
    return 0;
}

/* Write the due slices of direction d, after what its pipe still
 * holds (read before a toxic was added: it goes first).  Returns the time (us)
 * of the next slice not yet due, 0 when none waits for time, -1 when the
 * link ended. */
static int64_t tcp_write(struct exec_proxy *px, struct px_link *k, int d, int64_t now)
{
    struct px_dir *dd = &k->dir[d];
    struct px_leg *dst = &k->leg[!d];

    if (dd->inpipe && relay_out(px, k, d) < 0)
        return -1;
    while (dd->head && !dd->inpipe) {
        struct px_seg *g = dd->head;
        struct nr_piece *p;
        ssize_t n;
        if (g->pi == g->np) {
            dd->head = g->next;
            if (!dd->head)
                dd->tail = NULL;
            seg_free(g);
            continue;
        }
        p = &g->pc[g->pi];
        if (p->at_us > now)
            return p->at_us;
        n = wrote(px, k, d, send(dst->fd, g->buf + p->off + g->done, p->len - g->done,
                                 MSG_NOSIGNAL));
        if (n <= 0)
            return n;
        dd->queued -= (size_t)n;
        g->done += (size_t)n;
        if (g->done == p->len) {
            g->done = 0;
            g->pi++;
            if (g->slices)
                count(px, d, NR_L_SLICES, 1);
        }
    }
    return 0;
}

/* When the toxic `kind` on direction d began for link k. */
static int64_t since(const struct px_link *k, int d, int kind, int64_t added[2][NR_TOX_COUNT])
{
    return added[d][kind] > k->born_us ? added[d][kind] : k->born_us;
}

/* The timers and ends of a link: reset_peer after a time, timeout, the
 * FIN (slow_close, half_close), limit and reset after bytes.  Returns the
 * next time (us) something is due, 0 for none, -1 when the link ended. */
static int64_t tcp_events(struct exec_proxy *px, struct px_link *k, const struct nr_faults f[2],
                          int64_t added[2][NR_TOX_COUNT], int64_t now)
{
    int64_t next = 0;

    for (int d = 0; d < 2; d++) {
        struct px_dir *dd = &k->dir[d];
        int64_t at;
        enum nr_tcp_action a = nr_tcp_timer(&f[d], since(k, d, NR_TOX_RESET_PEER, added),
                                            since(k, d, NR_TOX_TIMEOUT, added), &at);
        if (a != NR_TCP_GO && now >= at) {
            count(px, d, a == NR_TCP_RESET ? NR_L_RESETS : NR_L_CLOSES, 1);
            link_end(px, k, a == NR_TCP_RESET,
                     a == NR_TCP_RESET ? "reset by reset_peer (after a time)" : "closed by timeout");
            link_unlink(px, k);
            return -1;
        }
        if (a != NR_TCP_GO)
            next = next && next < at ? next : at;
        if (dd->head || dd->inpipe || dd->after == NR_TCP_GO)
            continue;
        count(px, d, dd->after == NR_TCP_RESET ? NR_L_RESETS : NR_L_CLOSES, 1);
        link_end(px, k, dd->after == NR_TCP_RESET,
                 dd->after == NR_TCP_RESET ? "reset by reset_peer (after its bytes)"
                                           : "closed by limit_data");
        link_unlink(px, k);
        return -1;
    }
    for (int d = 0; d < 2; d++) {
        struct px_dir *dd = &k->dir[d];
        int64_t at;
        int both;
        if (!dd->eof || dd->head || dd->inpipe || dd->fin_sent)
            continue;
        at = nr_tcp_fin(&f[d], dd->eof_us, &both);
        if (now < at) {
            next = next && next < at ? next : at;
            continue;
        }
        if (both) {
            count(px, d, NR_L_CLOSES, 1);
            link_end(px, k, 0, "closed by half_close (a FIN closes both ways)");
            link_unlink(px, k);
            return -1;
        }
        shutdown(k->leg[!d].fd, SHUT_WR);
        dd->fin_sent = 1;
    }
    if (k->dir[0].fin_sent && k->dir[1].fin_sent) {
        link_end(px, k, 0, "ended (FIN both ways)");
        link_unlink(px, k);
        return -1;
    }
    return next;
}

/* ---- UDP sessions --------------------------------------------------------- */

static struct px_link *udp_session(struct exec_proxy *px, const struct nr_addr *from)
{
    struct px_link *k;
    int up;

    for (k = px->links; k; k = k->next)
        if (k->leg[0].rec.peer.len == from->len &&
            memcmp(&k->leg[0].rec.peer.ss, &from->ss, from->len) == 0)
            return k;
    k = calloc(1, sizeof(*k));
    up = socket(px->upstream.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!k || up < 0 ||
        connect(up, (const struct sockaddr *)&px->upstream.ss, px->upstream.len) < 0) {
        free(k);
        if (up >= 0)
            close(up);
        px_fail(px, "cannot open a UDP socket to upstream");
        return NULL;
    }
    k->no = ++px->nlinks;
    for (int d = 0; d < 2; d++)
        k->dir[d].pipe[0] = k->dir[d].pipe[1] = -1; /* TCP's: never made */
    leg_init(&k->leg[0], px->name, k->no, "client", IPPROTO_UDP, -1); /* sends through lfd */
    leg_init(&k->leg[1], px->name, k->no, "upstream", IPPROTO_UDP, up);
    k->leg[0].rec.local = px->addr;
    k->leg[0].rec.peer = *from;
    k->leg[1].rec.peer = px->upstream;
    nr_local_addr(up, &k->leg[1].rec.local, NULL);
    for (int d = 0; d < 2; d++)
        nr_rng_init(&k->dir[d].rng, px->seed, nr_fault_hash(px->name) + k->no * 2u + (unsigned)d);
    count(px, 0, NR_L_CONNS, 1);
    k->next = px->links;
    px->links = k;
    return k;
}

/* Queue a datagram (copy) for delivery; count each held-back one it passes. */
static void udp_queue(struct exec_proxy *px, struct px_link *k, int d, const uint8_t *b,
                      size_t len, const struct nr_udp_verdict *v, int64_t now)
{
    struct px_dg *g = calloc(1, sizeof(*g)), **pp;

    if (!g || !(g->buf = malloc(len ? len : 1))) {
        free(g);
        px_fail(px, "out of memory");
        return;
    }
    memcpy(g->buf, b, len);
    g->link = k;
    g->dir = d;
    g->len = len;
    g->at_us = now + v->delay_us;
    g->hold = v->hold;
    g->held_us = now;
    for (pp = &px->dgs; *pp; pp = &(*pp)->next)
        ;
    *pp = g;
}

/* A datagram arrived on direction d of session k. */
static void udp_arrive(struct exec_proxy *px, struct px_link *k, int d, uint8_t *b, size_t len,
                       const struct nr_faults *f)
{
    struct nr_udp_verdict v;
    int64_t now = now_us();

    note_dg(&k->leg[d].rec.dg_recv, &k->leg[d].rec.n_dg_recv, len);
    k->leg[d].rec.received += len;
    count(px, d, NR_L_DG_IN, 1);
    count(px, d, NR_L_BYTES_IN, len);
    nr_udp_decide(f, &k->dir[d].rng, len, &v);
    if (v.drop) {
        count(px, d, NR_L_DROPPED, 1);
        return;
    }
    count(px, d, NR_L_TRUNCATED, v.len < len);
    count(px, d, NR_L_CORRUPTED, v.corrupt_at >= 0);
    count(px, d, NR_L_DUPLICATED, v.copies > 1);
    count(px, d, NR_L_REORDERED, v.hold > 0);
    count(px, d, NR_L_DG_DELAYED, v.delay_us > 0);
    nr_udp_corrupt(&v, b, v.len);
    for (int i = 0; i < v.copies; i++)
        udp_queue(px, k, d, b, v.len, &v, now);
}

/* Is datagram g due at now (its delay over; held back by reorder until
 * enough later ones passed, or PX_HOLD_MAX_US)?  *due gets its time. */
static int dg_due(const struct px_dg *g, int64_t now, int64_t *due)
{
    *due = g->at_us;
    if (g->hold && g->held_us + PX_HOLD_MAX_US > *due)
        *due = g->held_us + PX_HOLD_MAX_US;
    return now >= *due;
}

/* Send datagram g (not yet unlinked).  Returns 0, or -1 on EAGAIN (it stays
 * queued). */
static int dg_send(struct exec_proxy *px, struct px_dg *g)
{
    struct px_leg *dst = &g->link->leg[!g->dir];
    ssize_t n;

    if (g->dir == 0)
        n = send(dst->fd, g->buf, g->len, 0);
    else
        n = sendto(px->lfd, g->buf, g->len, 0, (const struct sockaddr *)&dst->rec.peer.ss,
                   dst->rec.peer.len);
    if (n < 0 && errno == EAGAIN)
        return -1;
    if (n >= 0) {
        note_dg(&dst->rec.dg_sent, &dst->rec.n_dg_sent, g->len);
        dst->rec.sent += g->len;
        count(px, g->dir, NR_L_DG_OUT, 1);
        count(px, g->dir, NR_L_BYTES_OUT, g->len);
        return 0;
    }
    /* an ICMP error of an earlier datagram (ECONNREFUSED: nobody listens
     * upstream) comes back on this send: it is lost */
    count(px, g->dir, NR_L_CUT, g->len);
    exec_log(px->st, "proxy %s: a datagram of session #%u (%s) was not sent: %s", px->name,
             g->link->no, g->dir ? "down" : "up", strerror(errno));
    return 0;
}

/* Send the due datagrams, in arrival order; each one sent counts against
 * the held-back ones that arrived before it in its direction (reorder: they
 * go once `gap` later ones have overtaken them).  Returns the next time one
 * is due, or 0. */
static int64_t udp_flush(struct exec_proxy *px, int64_t now)
{
    int64_t next, due;
    int progress = 1;

    while (progress) {
        progress = 0;
        next = 0;
        for (struct px_dg **pp = &px->dgs; *pp;) {
            struct px_dg *g = *pp;
            if (!dg_due(g, now, &due)) {
                next = next && next < due ? next : due;
                pp = &g->next;
                continue;
            }
            if (dg_send(px, g) < 0) {
                next = now + 1000;
                pp = &g->next;
                continue;
            }
            for (struct px_dg *h = px->dgs; h != g; h = h->next)
                if (h->dir == g->dir && h->hold && --h->hold == 0)
                    progress = 1; /* released: goes in the next round, after g */
            *pp = g->next;
            free(g->buf);
            free(g);
        }
    }
    return next;
}

/* Read one datagram from fd (the listening socket: from a client; else a
 * session's upstream socket).  Returns -1 when none was waiting. */
static int udp_read(struct exec_proxy *px, int fd, struct px_link *k, const struct nr_faults f[2])
{
    static __thread uint8_t buf[PX_UDP_MAX];
    struct nr_addr from;
    ssize_t n;

    from.len = sizeof(from.ss);
    n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from.ss, &from.len);
    if (n < 0)
        return -1;
    if (!k && !(k = udp_session(px, &from)))
        return 0;
    udp_arrive(px, k, fd == px->lfd ? 0 : 1, buf, (size_t)n, &f[fd == px->lfd ? 0 : 1]);
    return 0;
}

/* ---- the loop --------------------------------------------------------------- */

/* Whether direction dd relays its bytes plainly: no toxic is active and
 * nothing planned waits to be written. */
static int relays(const struct px_dir *dd, const struct nr_faults *f)
{
    return f->on == 0 && !dd->head;
}

/* Poll events for one TCP link's legs under the toxics f. */
static void tcp_events_of(const struct px_link *k, const struct nr_faults f[2], short ev[2])
{
    ev[0] = ev[1] = 0;
    if (k->connecting) {
        ev[1] = POLLOUT;
        return;
    }
    for (int d = 0; d < 2; d++) {
        const struct px_dir *dd = &k->dir[d];
        /* no toxic: read once the queue and the pipe are
         * written; toxics: read once the pipe is flushed */
        int room = !dd->inpipe && (relays(dd, &f[d]) || dd->queued < PX_QUEUE_MAX);
        if (!dd->eof && dd->after == NR_TCP_GO && room && nr_tcp_reads(&f[d]))
            ev[d] |= POLLIN;
        if (dd->head || dd->inpipe)
            ev[!d] |= POLLOUT;
    }
}

/* One turn of a TCP link: connect, read, write, timers.  Returns the next
 * due time, 0 for none. */
static int64_t tcp_turn(struct exec_proxy *px, struct px_link *k, const short re[2],
                        const struct nr_faults f[2], int64_t added[2][NR_TOX_COUNT])
{
    int64_t next = 0, t;

    if (k->connecting) {
        if (!(re[1] & (POLLOUT | POLLERR | POLLHUP)))
            return 0;
        if (tcp_connected(px, k) < 0) {
            link_unlink(px, k);
            return 0;
        }
    }
    /* the proxy moves bulk traffic on two legs: like the runner's own
     * sends it waits while the capture is behind (else the kernel drops) */
    if ((re[0] | re[1]) & POLLIN)
        pace(px, k);
    for (int d = 0; d < 2; d++) {
        struct px_dir *dd = &k->dir[d];
        int stall = !nr_tcp_reads(&f[d]);
        if (stall && !dd->stalled)
            count(px, d, NR_L_STALLS, 1);
        dd->stalled = stall;
        if (relays(dd, &f[d])) {
            if (((re[d] & (POLLIN | POLLHUP | POLLERR)) || (re[!d] & POLLOUT)) &&
                tcp_relay(px, k, d) < 0)
                return 0;
        } else if ((re[d] & (POLLIN | POLLHUP | POLLERR)) && !stall && !dd->eof &&
                   !dd->inpipe && tcp_read(px, k, d, &f[d]) < 0) {
            return 0;
        }
    }
    for (int d = 0; d < 2; d++) {
        t = tcp_write(px, k, d, now_us());
        if (t < 0)
            return 0;
        next = t && (!next || t < next) ? t : next;
    }
    t = tcp_events(px, k, f, added, now_us());
    if (t < 0)
        return 0;
    return t && (!next || t < next) ? t : next;
}

/* The loop takes the toxics as the fault steps left them (px->lock held),
 * and lets a fault step waiting for that go on. */
static void take_faults(struct exec_proxy *px, struct nr_faults f[2],
                        int64_t added[2][NR_TOX_COUNT])
{
    memcpy(f, px->faults, 2 * sizeof(*f));
    memcpy(added, px->added_us, sizeof(px->added_us));
    if (px->taken_gen != px->fault_gen) {
        px->taken_gen = px->fault_gen;
        pthread_cond_broadcast(&px->taken);
    }
}

static void *proxy_main(void *arg)
{
    struct exec_proxy *px = arg;
    struct nr_faults f[2];
    int64_t added[2][NR_TOX_COUNT];
    struct pollfd *pf = NULL;
    struct px_link **who = NULL;
    size_t cap = 0;
    int64_t next = 0;

    pthread_setname_np(pthread_self(), "nr-proxy");
    px->pace_ctx.st = px->st;
    px->pace_ctx.index = -1;
    exec_pace_init(&px->pace_ctx, &px->pacer, 0);

    for (;;) {
        size_t n = 0, need = 2;
        int64_t wait_us = PX_TICK_MS * 1000, now;
        struct timespec ts;
        int stop;

        pthread_mutex_lock(&px->lock);
        stop = px->stop;
        take_faults(px, f, added);
        pthread_mutex_unlock(&px->lock);
        if (stop)
            break;
        for (struct px_link *k = px->links; k; k = k->next)
            need += 2;
        if (need > cap) {
            struct pollfd *np = realloc(pf, need * sizeof(*pf));
            struct px_link **nw = np ? realloc(who, need * sizeof(*who)) : NULL;
            if (np)
                pf = np;
            if (!nw) {
                px_fail(px, "out of memory");
                break;
            }
            who = nw;
            cap = need;
        }
        pf[n] = (struct pollfd){ .fd = px->wake[0], .events = POLLIN };
        who[n++] = NULL;
        pf[n] = (struct pollfd){ .fd = px->lfd, .events = POLLIN };
        who[n++] = NULL;
        for (struct px_link *k = px->links; k; k = k->next) {
            short ev[2] = { 0, 0 };
            if (px->proto == IPPROTO_TCP)
                tcp_events_of(k, f, ev);
            else
                ev[1] = POLLIN;
            for (int i = 0; i < 2; i++) {
                /* a leg with nothing to wait for is left out: a POLLHUP it
                 * keeps reporting (FIN both ways, the link not yet ended by
                 * slow_close) would spin the loop */
                pf[n] = (struct pollfd){ .fd = ev[i] ? k->leg[i].fd : -1, .events = ev[i] };
                who[n++] = k;
            }
        }
        now = now_us();
        if (next) /* to the microsecond: a latency toxic is as exact as the timer */
            wait_us = next <= now ? 0 : next - now < wait_us ? next - now : wait_us;
        ts.tv_sec = (time_t)(wait_us / 1000000);
        ts.tv_nsec = (long)(wait_us % 1000000) * 1000;
        if (ppoll(pf, n, &ts, NULL) < 0 && errno != EINTR)
            break;
        /* a fault step that woke the loop applies to what arrived with it */
        pthread_mutex_lock(&px->lock);
        take_faults(px, f, added);
        pthread_mutex_unlock(&px->lock);
        if (pf[0].revents & POLLIN) {
            char drain[64];
            while (read(px->wake[0], drain, sizeof(drain)) > 0)
                ;
        }
        for (int i = 0; i < 64 && (pf[1].revents & POLLIN); i++) {
            if (px->proto == IPPROTO_TCP ? tcp_accept(px) < 0 : udp_read(px, px->lfd, NULL, f) < 0)
                break;
        }
        next = 0;
        /* links may end (and be freed) during their turn: walk by index pairs */
        for (size_t i = 2; i + 1 < n; i += 2) {
            struct px_link *k = who[i];
            short re[2] = { pf[i].revents, pf[i + 1].revents };
            int64_t t = 0;
            int alive = 0;
            for (struct px_link *q = px->links; q; q = q->next)
                alive |= q == k;
            if (!alive)
                continue;
            if (px->proto == IPPROTO_TCP)
                t = tcp_turn(px, k, re, f, added);
            else
                for (int j = 0; j < 64 && (re[1] & POLLIN); j++)
                    if (udp_read(px, k->leg[1].fd, k, f) < 0)
                        break;
            next = t && (!next || t < next) ? t : next;
        }
        if (px->proto == IPPROTO_UDP) {
            int64_t t = udp_flush(px, now_us());
            next = t && (!next || t < next) ? t : next;
        }
    }
    free(pf);
    free(who);
    pthread_mutex_lock(&px->lock);
    px->loop_ended = 1;
    pthread_cond_broadcast(&px->taken);
    pthread_mutex_unlock(&px->lock);
    return NULL;
}

/* ---- steps ------------------------------------------------------------------ */

static struct exec_proxy *find_proxy(struct exec_state *st, const char *name)
{
    for (struct exec_proxy *px = st->proxies; px; px = px->next)
        if (strcmp(px->name, name) == 0)
            return px;
    return NULL;
}

static struct exec_proxy *need_proxy(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_proxy *px = find_proxy(c->st, s->name);

    if (!px)
        exec_fail(c, s, "no proxy named '%s' is running", s->name);
    return px;
}

/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;

    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

int exec_proxy_start(struct exec_ctx *c, const struct nr_step *s)
{
    char errbuf[NR_ERRBUF_SIZE], as[NR_ADDRSTR_SIZE], us[NR_ADDRSTR_SIZE];
    char *text = exec_expand(c, s, &s->u.proxy.upstream, NULL);
    struct exec_proxy *px = calloc(1, sizeof(*px));
    struct nr_addr bind_at;
    int rc = -1;

    if (!text || !px) {
        if (!px)
            exec_fail(c, s, "out of memory");
        goto out;
    }
    snprintf(px->name, sizeof(px->name), "%s", s->name);
    px->step = s;
    px->st = c->st;
    px->proto = s->u.proxy.proto;
    px->lfd = px->wake[0] = px->wake[1] = -1;
    px->seed = c->st->seed;
    pthread_mutex_init(&px->lock, NULL);
    cond_init_monotonic(&px->taken);
    if (nr_addr_parse(text, &px->upstream, errbuf) < 0) {
        exec_fail(c, s, "%s", errbuf);
        goto out;
    }
    if (!nr_addr_is_loopback((struct sockaddr *)&px->upstream.ss) && !c->st->o->allow_remote) {
        exec_fail(c, s, "refusing non-loopback upstream %s (pass --allow-remote to permit)", text);
        goto out;
    }
    nr_addr_from_host(px->upstream.ss.ss_family == AF_INET6 ? "::1" : "127.0.0.1", 0, &bind_at,
                      NULL);
    px->lfd = nr_bind_socket(&bind_at, px->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, 512,
                             errbuf);
    if (px->lfd < 0 || nr_local_addr(px->lfd, &px->addr, errbuf) < 0 ||
        pipe2(px->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        exec_fail(c, s, "proxy socket: %s", px->lfd < 0 ? errbuf : strerror(errno));
        goto out;
    }
    nr_set_nonblock(px->lfd, 1);
    if (px->proto == IPPROTO_TCP)
        set_legs(px->lfd); /* no client can have connected yet */
    nr_addr_format((struct sockaddr *)&px->addr.ss, as, sizeof(as));
    if (exec_setvar(c->st, s->name, as, strlen(as)) < 0 ||
        pthread_create(&px->thread, NULL, proxy_main, px) != 0) {
        exec_fail(c, s, "cannot start the proxy");
        goto out;
    }
    px->next = c->st->proxies;
    c->st->proxies = px;
    exec_log(c->st, "proxy %s: %s %s -> %s, seed %llu", px->name,
             px->proto == IPPROTO_TCP ? "tcp" : "udp", as,
             nr_addr_format((struct sockaddr *)&px->upstream.ss, us, sizeof(us)),
             (unsigned long long)px->seed);
    px = NULL;
    rc = 0;
out:
    if (px) {
        if (px->lfd >= 0)
            close(px->lfd);
        if (px->wake[0] >= 0) {
            close(px->wake[0]);
            close(px->wake[1]);
        }
        pthread_mutex_destroy(&px->lock);
        pthread_cond_destroy(&px->taken);
        free(px);
    }
    free(text);
    return rc;
}

/* "up", "down" or "up and down" for a direction mask. */
static const char *dirs_text(unsigned dirs)
{
    return dirs == NR_DIR_UP ? "up" : dirs == NR_DIR_DOWN ? "down" : "up and down";
}

/* Wait until the loop took fault step gen (it wakes at once), so that a
 * byte sent after the step meets the change: the loop may have been in the
 * middle of a turn under the toxics before it.  Returns 0 when it had not
 * within PX_TAKE_S or ended. */
static int fault_taken(struct exec_proxy *px, uint64_t gen)
{
    struct timespec until;
    int ok;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += PX_TAKE_S;
    pthread_mutex_lock(&px->lock);
    while (px->taken_gen < gen && !px->loop_ended &&
           pthread_cond_timedwait(&px->taken, &px->lock, &until) == 0)
        ;
    ok = px->taken_gen >= gen;
    pthread_mutex_unlock(&px->lock);
    return ok;
}

int exec_proxy_fault(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_proxy *px = need_proxy(c, s);
    struct nr_toxic tox = s->u.fault.tox; /* scaled by --time-scale at load (nr_scn_scale) */
    int64_t now = now_us();
    uint64_t gen;

    if (!px)
        return -1;
    pthread_mutex_lock(&px->lock);
    for (int d = 0; d < 2; d++) {
        if (!(s->u.fault.dirs & (1u << d)))
            continue;
        if (s->u.fault.heal) {
            nr_faults_remove(&px->faults[d], s->u.fault.all ? -1 : (int)s->u.fault.tox.kind);
        } else {
            nr_faults_add(&px->faults[d], &tox);
            px->added_us[d][s->u.fault.tox.kind] = now;
        }
    }
    gen = ++px->fault_gen;
    pthread_mutex_unlock(&px->lock);
    if (write(px->wake[1], "", 1) < 0 && errno != EAGAIN)
        exec_log(c->st, "proxy %s: cannot wake its loop: %s", px->name, strerror(errno));
    if (!fault_taken(px, gen))
        exec_log(c->st, "proxy %s: its loop had not taken the change within %d s", px->name,
                 PX_TAKE_S);
    exec_log(c->st, "proxy %s: %s %s on %s", px->name, s->u.fault.heal ? "healed" : "added",
             s->u.fault.all ? "every toxic" : nr_tox_name(s->u.fault.tox.kind),
             dirs_text(s->u.fault.dirs));
    return 0;
}

static uint64_t ledger_value(struct exec_proxy *px, unsigned dirs, enum nr_ledger_item i)
{
    uint64_t v = 0;

    pthread_mutex_lock(&px->lock);
    for (int d = 0; d < 2; d++)
        if (dirs & (1u << d))
            v += px->ledger[d].v[i];
    pthread_mutex_unlock(&px->lock);
    return v;
}

/* The whole ledger as one line per direction, into f. */
static void ledger_print(FILE *f, struct exec_proxy *px, const char *indent)
{
    pthread_mutex_lock(&px->lock);
    for (int d = 0; d < 2; d++) {
        fprintf(f, "%sproxy %s %s:", indent, px->name, d ? "down" : "up");
        for (int i = 0; i < NR_L_COUNT; i++)
            if (px->ledger[d].v[i])
                fprintf(f, " %s %llu", nr_ledger_name((enum nr_ledger_item)i),
                        (unsigned long long)px->ledger[d].v[i]);
        fputc('\n', f);
    }
    pthread_mutex_unlock(&px->lock);
}

int exec_proxy_ledger(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_proxy *px = need_proxy(c, s);
    int64_t t = nr_now_ms();
    uint64_t v = 0, w = 0;
    FILE *f;

    if (!px)
        return -1;
    for (;;) {
        v = ledger_value(px, s->u.ledger.dirs, s->u.ledger.item);
        if (s->u.ledger.rel) {
            w = ledger_value(px, s->u.ledger.rel_dirs, s->u.ledger.rel_item);
            if (v == w)
                return 0;
        } else if (v >= s->u.ledger.lo && v <= s->u.ledger.hi) {
            return 0;
        }
        if (exec_wait_budget(c, s, t) == 0)
            break;
        poll(NULL, 0, 5);
    }
    f = exec_fail_begin(c, s);
    if (!f)
        return -1;
    if (s->u.ledger.rel)
        fprintf(f, "  ledger: %s %s is %llu, %s %s is %llu\n", dirs_text(s->u.ledger.dirs),
                nr_ledger_name(s->u.ledger.item), (unsigned long long)v,
                dirs_text(s->u.ledger.rel_dirs), nr_ledger_name(s->u.ledger.rel_item),
                (unsigned long long)w);
    else if (s->u.ledger.lo == s->u.ledger.hi)
        fprintf(f, "  ledger: %s %s is %llu, expected %llu\n", dirs_text(s->u.ledger.dirs),
                nr_ledger_name(s->u.ledger.item), (unsigned long long)v,
                (unsigned long long)s->u.ledger.lo);
    else
        fprintf(f, "  ledger: %s %s is %llu, expected %llu..%llu\n", dirs_text(s->u.ledger.dirs),
                nr_ledger_name(s->u.ledger.item), (unsigned long long)v,
                (unsigned long long)s->u.ledger.lo, (unsigned long long)s->u.ledger.hi);
    ledger_print(f, px, "  ");
    exec_fail_end(c);
    return -1;
}

/* Is a the address proxy px listens on? */
static int is_proxy_addr(const struct exec_proxy *px, const struct nr_addr *a)
{
    return a->ss.ss_family == px->addr.ss.ss_family &&
           nr_addr_port((const struct sockaddr *)&a->ss) ==
               nr_addr_port((const struct sockaddr *)&px->addr.ss);
}

int exec_proxy_connected(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k;
    struct exec_proxy *px = NULL;
    int64_t t = nr_now_ms();
    int port, state = 0, err = 0;

    if (!c->st->proxies || s->u.sock.proto != IPPROTO_TCP || s->u.sock.refused ||
        !(k = exec_find_conn(c, s->name)))
        return 0;
    for (px = c->st->proxies; px && !(px->proto == IPPROTO_TCP && is_proxy_addr(px, &k->rec.peer));)
        px = px->next;
    if (!px)
        return 0;
    port = nr_addr_port((const struct sockaddr *)&k->rec.local.ss);
    for (;;) {
        pthread_mutex_lock(&px->lock);
        for (size_t i = 0; i < px->nclients; i++)
            if (px->clients[i].port == port) {
                state = px->clients[i].state;
                err = px->clients[i].err;
            }
        if (state == 2)
            px->fail_reported = 1;
        pthread_mutex_unlock(&px->lock);
        if (state != 0 || exec_wait_budget(c, s, t) == 0)
            break;
        poll(NULL, 0, PX_CONNECT_POLL_MS);
    }
    if (state == 2) {
        char us[NR_ADDRSTR_SIZE];
        exec_fail(c, s, "proxy %s: its upstream %s: %s (the proxy reset this connection)",
                  px->name, nr_addr_format((struct sockaddr *)&px->upstream.ss, us, sizeof(us)),
                  strerror(err));
        return -1;
    }
    if (state == 0)
        exec_log(c->st, "connect %s: proxy %s had not reached its upstream within the step's "
                 "time", s->name, px->name);
    return 0;
}

/* Stop one proxy's loop and release everything; its records go to the
 * scenario's list. */
static void proxy_stop(struct exec_ctx *c, struct exec_proxy *px)
{
    char *fail, *text = NULL;
    size_t len = 0;
    int reported;
    FILE *f;

    pthread_mutex_lock(&px->lock);
    px->stop = 1;
    pthread_mutex_unlock(&px->lock);
    if (write(px->wake[1], "", 1) < 0 && errno != EAGAIN)
        exec_log(c->st, "proxy %s: cannot wake its loop: %s", px->name, strerror(errno));
    pthread_join(px->thread, NULL);
    while (px->links) {
        struct px_link *k = px->links;
        if (k->connecting) {
            close(k->leg[1].fd);
            k->leg[1].fd = -1;
            k->leg[1].rec.have_peer = 0;
        }
        link_end(px, k, 0, px->proto == IPPROTO_TCP ? "closed at the end of the scenario" : NULL);
        link_unlink(px, k);
    }
    while (px->dgs) {
        struct px_dg *g = px->dgs;
        px->dgs = g->next;
        count(px, g->dir, NR_L_CUT, g->len);
        free(g->buf);
        free(g);
    }
    close(px->lfd);
    close(px->wake[0]);
    close(px->wake[1]);
    if ((f = open_memstream(&text, &len))) {
        ledger_print(f, px, "         ");
        fclose(f);
        exec_log(c->st, "proxy %s: ledger at the end\n%.*s", px->name,
                 len ? (int)len - 1 : 0, text);
        free(text);
    }
    pthread_mutex_lock(&px->lock);
    fail = px->fail;
    px->fail = NULL;
    reported = px->fail_reported;
    pthread_mutex_unlock(&px->lock);
    if (fail && !reported)
        exec_fail(c, px->step, "proxy %s: %s", px->name, fail);
    free(fail);
    free(px->clients);
    pthread_mutex_destroy(&px->lock);
    pthread_cond_destroy(&px->taken);
}

void exec_proxies_stop(struct exec_ctx *c)
{
    struct exec_proxy *px = c->st->proxies;
    uint64_t seed = c->st->seed;
    char *joined;

    if (!px)
        return;
    c->st->proxies = NULL;
    while (px) {
        struct exec_proxy *next = px->next;
        proxy_stop(c, px);
        free(px);
        px = next;
    }
    if (c->fail && asprintf(&joined, "%s  (fault proxies' seed %llu: netrig run --seed %llu "
                                     "replays their choices)\n",
                            c->fail, (unsigned long long)seed, (unsigned long long)seed) >= 0) {
        free(c->fail);
        c->fail = joined;
    }
}
