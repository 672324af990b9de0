/* exec_conn.c - scenario connections: connect, listen, accept, send and
 * expect over TCP and UDP, close/shutdown/abort.
 *
 * TCP bytes are read into a per-connection buffer whenever the executor
 * waits, including while it sends, so an echo of a payload larger than the
 * socket buffers cannot deadlock.  Expectations consume from that buffer. */
#define _GNU_SOURCE
#include "exec.h"
#include "nr_cursor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RX_CHUNK 65536
#define RX_DRAIN_MAX (1024 * 1024) /* bytes one rx_drain() reads at most */
#define UDP_MAX 65536
#define REGEX_WINDOW (1u << 20) /* bytes a regex may need before it matches */
#define DIFF_CONTEXT 48
#define RETRY_PAUSE_MS 20 /* between attempts of `connect ... retry` */
#define DGRAM_SHOWN 256   /* bytes of a datagram a failure shows */

/* ---- lookup ------------------------------------------------------------ */

static struct exec_conn *need_conn(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = exec_find_conn(c, s->name);

    if (!k)
        exec_fail(c, s, "no open connection named '%s'", s->name);
    return k;
}

/* Add a connection slot named after the step (replacing a closed one). */
static struct exec_conn *new_conn(struct exec_ctx *c, const struct nr_step *s,
                                  int proto, int fd)
{
    struct exec_conn *k, *nv;

    nv = realloc(c->conns, (c->nconns + 1) * sizeof(*nv));
    if (!nv) {
        close(fd);
        exec_fail(c, s, "out of memory");
        return NULL;
    }
    c->conns = nv;
    k = &c->conns[c->nconns++];
    memset(k, 0, sizeof(*k));
    snprintf(k->rec.name, sizeof(k->rec.name), "%s", s->name);
    k->rec.proto = proto;
    k->rec.sent_hash = k->rec.recv_hash = exec_hash(NULL, 0);
    k->hs_sent = exec_hash_new();
    k->hs_recv = exec_hash_new();
    if (!k->hs_sent || !k->hs_recv) {
        exec_fail(c, s, "out of memory");
        XXH3_freeState(k->hs_sent);
        XXH3_freeState(k->hs_recv);
        c->nconns--;
        close(fd);
        return NULL;
    }
    k->fd = fd;
    nr_local_addr(fd, &k->rec.local, NULL);
    k->rec.is_unix = k->rec.local.ss.ss_family == AF_UNIX;
    nr_set_nonblock(fd, 1);
    return k;
}

/* Append a datagram size to a record's list. */
static void note_datagram(uint32_t **v, size_t *n, size_t size)
{
    uint32_t *nv = realloc(*v, (*n + 1) * sizeof(**v));

    if (!nv)
        return;
    nv[(*n)++] = (uint32_t)size;
    *v = nv;
}

static void ahead_end(struct exec_conn *k);

/* Will closing k lose bytes the runner sent?  Yes when it is reset or
 * aborted, and when its send queue still holds bytes or unread input
 * remains (the kernel then answers the close with a RST). */
static int close_cuts(const struct exec_conn *k)
{
    int outq = 0, inq = 0;

    if (k->aborted || k->reset || k->rxoff < k->rxlen)
        return 1;
    if (k->fd < 0 || k->rec.proto != IPPROTO_TCP || k->rec.listener)
        return 0;
    return (ioctl(k->fd, SIOCOUTQ, &outq) == 0 && outq > 0) ||
           (ioctl(k->fd, SIOCINQ, &inq) == 0 && inq > 0);
}

/* Close k's socket and move its record into the scenario's list. */
static void retire(struct exec_state *st, struct exec_conn *k)
{
    struct exec_record *nv;

    k->rec.cut = close_cuts(k);
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    free(k->rx);
    k->rx = NULL;
    ahead_end(k);
    XXH3_freeState(k->hs_sent);
    XXH3_freeState(k->hs_recv);
    k->hs_sent = k->hs_recv = NULL;
    pthread_mutex_lock(&st->lock);
    nv = realloc(st->records, (st->nrecords + 1) * sizeof(*nv));
    if (nv) {
        st->records = nv;
        st->records[st->nrecords++] = k->rec;
    } else {
        free(k->rec.dg_sent);
        free(k->rec.dg_recv);
    }
    pthread_mutex_unlock(&st->lock);
}

static void drop_conn(struct exec_ctx *c, struct exec_conn *k)
{
    for (struct exec_ctx *o = c; o; o = o->outer) {
        if (k >= o->conns && k < o->conns + o->nconns) {
            size_t i = (size_t)(k - o->conns);
            retire(c->st, k);
            memmove(&o->conns[i], &o->conns[i + 1], (o->nconns - i - 1) * sizeof(*k));
            o->nconns--;
            return;
        }
    }
}

void exec_conns_free(struct exec_ctx *c)
{
    for (size_t i = 0; i < c->nconns; i++)
        retire(c->st, &c->conns[i]);
    free(c->conns);
    c->conns = NULL;
    c->nconns = 0;
    free(c->flows);
    c->flows = NULL;
    c->nflows = 0;
}

/* ---- addresses ------------------------------------------------------- */

/* Expand the address template t of step s into *a; a destination must be
 * loopback unless --allow-remote.  Returns 0, or -1 after exec_fail. */
static int parse_addr_of(struct exec_ctx *c, const struct nr_step *s, const struct nr_tmpl *t,
                         struct nr_addr *a, int destination, int is_unix)
{
    char errbuf[NR_ERRBUF_SIZE], *text = exec_expand(c, s, t, NULL);
    int r;

    if (!text)
        return -1;
    r = is_unix ? nr_addr_unix(text, a, errbuf) : nr_addr_parse(text, a, errbuf);
    free(text);
    if (r < 0) {
        exec_fail(c, s, "%s", errbuf);
        return -1;
    }
    if (destination && !nr_addr_is_loopback((struct sockaddr *)&a->ss) &&
        !c->st->o->allow_remote) {
        char as[NR_ADDRSTR_SIZE];
        exec_fail(c, s, "refusing non-loopback destination %s (pass --allow-remote to permit)",
                  nr_addr_format((struct sockaddr *)&a->ss, as, sizeof(as)));
        return -1;
    }
    return 0;
}

static int parse_addr(struct exec_ctx *c, const struct nr_step *s, struct nr_addr *a,
                      int destination)
{
    return parse_addr_of(c, s, &s->u.sock.addr, a, destination, s->u.sock.is_unix);
}

/* Same family, host and port? */
static int addr_equal(const struct nr_addr *a, const struct nr_addr *b)
{
    const struct sockaddr *x = (const struct sockaddr *)&a->ss;
    const struct sockaddr *y = (const struct sockaddr *)&b->ss;

    if (x->sa_family != y->sa_family || nr_addr_port(x) != nr_addr_port(y))
        return 0;
    if (x->sa_family == AF_INET)
        return ((const struct sockaddr_in *)x)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)y)->sin_addr.s_addr;
    if (x->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)x)->sin6_addr,
                      &((const struct sockaddr_in6 *)y)->sin6_addr, 16) == 0;
    return 0;
}

static void publish_addr(struct exec_ctx *c, const char *name, const struct sockaddr *sa)
{
    char as[NR_ADDRSTR_SIZE];

    if (c->in_parallel)
        return; /* instances' names are private; the table is shared */
    nr_addr_format(sa, as, sizeof(as));
    exec_setvar(c->st, name, as, strlen(as));
}

/* ---- connect / listen / accept ------------------------------------------ */

/* `connect u = udp ADDR refused`: an empty probe datagram must draw an ICMP
 * port-unreachable, seen as ECONNREFUSED on the connected socket. */
static int udp_refused(struct exec_ctx *c, const struct nr_step *s, int fd)
{
    int64_t t = nr_now_ms();
    char b;
    ssize_t n = send(fd, "", 0, 0);
    int err = n < 0 ? errno : 0, answered = 0;

    /* n is send's result until recv runs: "nothing came back" must not be
     * read from it as a reply. */
    if (n == 0 && nr_wait_fd(fd, POLLIN, exec_wait_budget(c, s, t)) > 0) {
        n = recv(fd, &b, 1, MSG_DONTWAIT);
        err = n < 0 ? errno : 0;
        answered = n >= 0;
    }
    close(fd);
    if (err == ECONNREFUSED)
        return 0;
    exec_fail(c, s, "expected the datagram to be refused (ICMP port unreachable), %s%s",
              answered ? "but a reply came" : err && err != EAGAIN ? "got: " : "but nothing came back",
              !answered && err && err != EAGAIN ? strerror(err) : "");
    return -1;
}

static int connect_udp(struct exec_ctx *c, const struct nr_step *s, const struct nr_addr *a)
{
    static const sa_family_t autobind = AF_UNIX;
    struct exec_conn *k;
    struct nr_addr local;
    int fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), is_unix = s->u.sock.is_unix;
    int rc;

    /* a unix datagram client needs an address of its own to be answered:
     * the kernel picks an abstract one */
    if (fd >= 0 && is_unix && bind(fd, (const struct sockaddr *)&autobind, sizeof(autobind)) < 0) {
        exec_fail(c, s, "unixgram bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    rc = fd < 0 ? -1 : connect(fd, (const struct sockaddr *)&a->ss, a->len);
    if (rc < 0 && fd >= 0 && is_unix && s->u.sock.refused &&
        (errno == ECONNREFUSED || errno == ENOENT)) {
        close(fd); /* nobody has that address: refused, as wanted */
        return 0;
    }
    if (rc < 0) {
        exec_fail(c, s, "%s connect: %s", is_unix ? "unixgram" : "udp", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (s->u.sock.refused && is_unix) {
        close(fd);
        exec_fail(c, s, "expected no socket at that address, but the connect succeeded");
        return -1;
    }
    if (s->u.sock.refused)
        return udp_refused(c, s, fd);
    k = new_conn(c, s, IPPROTO_UDP, fd);
    if (!k)
        return -1;
    k->rec.peer = *a;
    k->rec.have_peer = 1;
    if (nr_local_addr(fd, &local, NULL) == 0)
        publish_addr(c, s->name, (struct sockaddr *)&local.ss);
    return 0;
}

/* `connect ... retry`: connect again while the connection is refused
 * (ECONNREFUSED), pausing RETRY_PAUSE_MS between attempts, until it is
 * accepted or the step's time (`within`, else the step timeout, both from
 * the step's start t) runs out.  Returns the socket, or -1 with *err and
 * errbuf of the last attempt; *refused counts the refused attempts. */
static int connect_retrying(struct exec_ctx *c, const struct nr_step *s, const struct nr_addr *a,
                            int64_t t, int *err, struct nr_addr *local, char *errbuf,
                            unsigned *refused)
{
    int fd, left;

    *refused = 0;
    for (;;) {
        fd = nr_connect_tcp(a, exec_wait_budget(c, s, t), err, local, errbuf);
        if (fd >= 0 || *err != ECONNREFUSED)
            return fd;
        (*refused)++;
        left = exec_wait_budget(c, s, t);
        if (left == 0)
            return -1;
        poll(NULL, 0, left < RETRY_PAUSE_MS ? left : RETRY_PAUSE_MS);
    }
}

int exec_connect(struct exec_ctx *c, const struct nr_step *s)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a, local;
    struct exec_conn *k;
    int64_t t = nr_now_ms();
    int fd, err = 0;


    if (parse_addr(c, s, &a, 1) < 0)
        return -1;
    if (s->u.sock.proto == IPPROTO_UDP)
        return connect_udp(c, s, &a);
    memset(&local, 0, sizeof(local));
    if (s->u.sock.retry) {
        unsigned refused = 0;
        fd = connect_retrying(c, s, &a, t, &err, &local, errbuf, &refused);
        if (fd < 0 && refused > 0 && (err == ECONNREFUSED || exec_wait_budget(c, s, t) == 0)) {
            exec_fail(c, s, "connection refused on every attempt: %u attempts in %lld ms "
                            "(retry ends when the step's time runs out)",
                      refused, (long long)(nr_now_ms() - t));
            return -1;
        }
        if (fd < 0 && refused > 0) {
            exec_fail(c, s, "%s (after %u refused attempts)", errbuf, refused);
            return -1;
        }
        if (fd >= 0 && refused > 0)
            exec_log(c->st, "connect %s: accepted after %u refused attempts (%lld ms)", s->name,
                     refused, (long long)(nr_now_ms() - t));
    } else {
        fd = nr_connect_tcp(&a, exec_wait_budget(c, s, t), &err, &local, errbuf);
    }
    if (s->u.sock.refused) {
        if (fd >= 0) {
            close(fd);
            exec_fail(c, s, "expected the connection to be refused, but it was accepted");
            return -1;
        }
        if (err != ECONNREFUSED) {
            exec_fail(c, s, "expected connection refused, got: %s", errbuf);
            return -1;
        }
        return 0;
    }
    if (fd < 0 && err == ECONNRESET) {
        /* The handshake completed and the peer reset at once (a refusal is
         * ECONNREFUSED): a connection whose stream ended with a reset. */
        fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            k = new_conn(c, s, IPPROTO_TCP, fd);
            if (!k)
                return -1;
            k->reset = 1;
            k->rec.local = local;
            k->rec.peer = a;
            k->rec.have_peer = 1;
            return 0;
        }
    }
    if (fd < 0) {
        exec_fail(c, s, "%s", errbuf);
        return -1;
    }
    k = new_conn(c, s, IPPROTO_TCP, fd);
    if (!k)
        return -1;
    k->rec.peer = a;
    k->rec.have_peer = 1;
    if (nr_local_addr(fd, &local, NULL) == 0)
        publish_addr(c, s->name, (struct sockaddr *)&local.ss);
    return 0;
}

int exec_listen(struct exec_ctx *c, const struct nr_step *s)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a, local;
    struct exec_conn *k;
    int type = s->u.sock.proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, fd;

    if (parse_addr(c, s, &a, 0) < 0)
        return -1;
    fd = nr_bind_socket(&a, type, 128, errbuf);
    if (fd < 0) {
        exec_fail(c, s, "%s", errbuf);
        return -1;
    }
    k = new_conn(c, s, s->u.sock.proto, fd);
    if (!k)
        return -1;
    k->rec.listener = 1;
    if (nr_local_addr(fd, &local, NULL) == 0)
        publish_addr(c, s->name, (struct sockaddr *)&local.ss);
    return 0;
}

int exec_accept(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *l = exec_find_conn(c, s->u.accept.listener), *k;
    struct nr_addr peer;
    int64_t t = nr_now_ms();
    int fd, r;

    if (!l || !l->rec.listener || l->rec.proto != IPPROTO_TCP) {
        exec_fail(c, s, "'%s' is not a TCP listener", s->u.accept.listener);
        return -1;
    }
    r = nr_wait_fd(l->fd, POLLIN, exec_wait_budget(c, s, t));
    if (r <= 0) {
        exec_fail(c, s, "no connection arrived within %lld ms", (long long)(nr_now_ms() - t));
        return -1;
    }
    peer.len = sizeof(peer.ss);
    fd = accept4(l->fd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_CLOEXEC);
    if (fd < 0) {
        exec_fail(c, s, "accept: %s", strerror(errno));
        return -1;
    }
    k = new_conn(c, s, IPPROTO_TCP, fd);
    if (!k)
        return -1;
    k->rec.peer = peer;
    k->rec.have_peer = 1;
    publish_addr(c, s->name, (struct sockaddr *)&peer.ss);
    return 0;
}

/* ---- receiving ----------------------------------------------------------- */

/* Read what is available into k->rx without blocking, at most about
 * RX_DRAIN_MAX bytes: a peer that writes as fast as it is read (an echo
 * during a long send) would otherwise keep one call reading, and k->rx
 * growing, for as long as it sends.  Returns the number of bytes added;
 * sets eof/reset/sock_err. */
static size_t rx_drain(struct exec_conn *k)
{
    size_t added = 0;

    while (!k->eof && !k->reset && !k->sock_err && added < RX_DRAIN_MAX) {
        ssize_t n;
        if (k->rxoff > 0 && k->rxoff == k->rxlen)
            k->rxoff = k->rxlen = 0;
        if (k->rxcap - k->rxlen < RX_CHUNK) {
            if (k->rxoff > k->rxcap / 2) {
                memmove(k->rx, k->rx + k->rxoff, k->rxlen - k->rxoff);
                k->rxlen -= k->rxoff;
                k->rxoff = 0;
            } else {
                size_t ncap = k->rxcap ? k->rxcap * 2 : 4 * RX_CHUNK;
                uint8_t *nb = realloc(k->rx, ncap);
                if (!nb) {
                    k->sock_err = ENOMEM;
                    break;
                }
                k->rx = nb;
                k->rxcap = ncap;
            }
        }
        n = recv(k->fd, k->rx + k->rxlen, k->rxcap - k->rxlen, MSG_DONTWAIT);
        if (n > 0) {
            k->rec.recv_hash = exec_hash_add(k->hs_recv, k->rx + k->rxlen, (size_t)n);
            k->rxlen += (size_t)n;
            k->rec.received += (uint64_t)n;
            added += (size_t)n;
        } else if (n == 0) {
            k->eof = 1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno == ECONNRESET) {
            k->reset = 1;
        } else {
            k->sock_err = errno;
        }
    }
    return added;
}

/* Wait up to ms for more input on k, then drain.  Returns bytes added. */
static size_t rx_wait(struct exec_conn *k, int ms)
{
    size_t n = rx_drain(k);

    if (n || k->eof || k->reset || k->sock_err)
        return n;
    if (nr_wait_fd(k->fd, POLLIN, ms) > 0)
        n = rx_drain(k);
    return n;
}

static size_t rx_avail(const struct exec_conn *k)
{
    return k->rxlen - k->rxoff;
}

static const char *end_reason(const struct exec_conn *k)
{
    if (k->reset)
        return "connection reset by peer";
    if (k->eof)
        return "EOF";
    if (k->sock_err)
        return strerror(k->sock_err);
    return "timeout";
}

/* ---- lookahead ----------------------------------------------------------- */

/* A send that outruns its peer must read while it writes (else both sides
 * block on full buffers), and an echo of a 64 MiB send would pile up in
 * k->rx until the expect after the send reads it.  So once that much is
 * held, the bytes are matched against that expect now and let go: the
 * expect step later starts where the lookahead stopped, and still judges
 * (a differing byte stops the lookahead where it is, for the step to
 * report with its diff).  Memory per connection stays near AHEAD_MIN. */
#define AHEAD_MIN (256 * 1024)

/* The step that will read k's input next, when it is an `expect k` of
 * bytes or the pattern and only steps that cannot read k, nor change what
 * that expect means, come between: shutdowns, sleeps, sends, expects on
 * other connections, wire notes, output and file checks.  Else NULL. */
static const struct nr_step *next_reader(const struct exec_ctx *c, const struct exec_conn *k)
{
    for (size_t i = c->seq ? c->seq_at + 1 : 0; c->seq && i < c->seq->n; i++) {
        const struct nr_step *t = &c->seq->v[i];
        int mine = strcmp(t->name, k->rec.name) == 0;

        switch (t->kind) {
        case NR_S_EXPECT:
            if (!mine)
                continue;
            return t->u.expect.kind == NR_M_BYTES &&
                           t->u.expect.payload.kind != NR_PL_FILE /* may change meanwhile */
                       ? t
                       : NULL;
        case NR_S_SEND:
        case NR_S_SHUTDOWN:
        case NR_S_SLEEP:
        case NR_S_WIRE:
        case NR_S_OUTPUT:
        case NR_S_FILE:
            continue;
        default:
            return NULL;
        }
    }
    return NULL;
}

static void ahead_end(struct exec_conn *k)
{
    if (k->ahead_gen)
        exec_gen_free(k->ahead_gen);
    free(k->ahead_gen);
    k->ahead_gen = NULL;
    k->ahead = NULL;
    k->ahead_done = 0;
    k->ahead_stopped = 0;
}

/* Before a TCP send on k: look ahead to the expect that reads k next (a
 * send after a send keeps the lookahead it has).  The payload is made
 * quietly: if that fails, the expect step reports it when it runs. */
static void ahead_begin(struct exec_ctx *c, struct exec_conn *k)
{
    const struct nr_step *t = next_reader(c, k);
    struct exec_ctx quiet = *c;

    if (!t || k->ahead == t)
        return;
    ahead_end(k);
    quiet.fail = quiet.fbuf = NULL;
    quiet.fstream = NULL;
    if (!(k->ahead_gen = malloc(sizeof(*k->ahead_gen))))
        return;
    if (exec_gen_init(&quiet, t, &t->u.expect.payload, k->ahead_gen) < 0) {
        free(quiet.fail);
        free(k->ahead_gen);
        k->ahead_gen = NULL;
        return;
    }
    k->ahead = t;
}

/* Match what k holds against the expect ahead, once AHEAD_MIN is held. */
static void ahead_match(struct exec_conn *k)
{
    uint8_t buf[4096];

    if (!k->ahead || rx_avail(k) < AHEAD_MIN)
        return;
    while (!k->ahead_stopped && rx_avail(k) > 0 && k->ahead_done < k->ahead_gen->total) {
        const uint8_t *in = k->rx + k->rxoff;
        size_t n = rx_avail(k), d = 0;

        if (n > k->ahead_gen->total - k->ahead_done)
            n = (size_t)(k->ahead_gen->total - k->ahead_done);
        if (n > sizeof(buf))
            n = sizeof(buf);
        exec_gen_fill(k->ahead_gen, k->ahead_done, buf, n);
        if (memcmp(buf, in, n) == 0)
            d = n;
        else
            while (buf[d] == in[d])
                d++;
        k->rxoff += d;
        k->ahead_done += d;
        k->ahead_stopped = d < n;
    }
}

/* ---- send ---------------------------------------------------------------- */

static int send_udp(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k,
                    const struct exec_gen *g)
{
    uint64_t chunk = s->u.send.chunk ? s->u.send.chunk : g->total;
    const struct nr_addr *dst = &k->rec.peer;
    struct nr_addr to;
    uint8_t *buf;
    uint64_t pos = 0;

    if (s->u.send.to.nsegs > 0) { /* `to ADDR`: this peer, not the last sender */
        if (parse_addr_of(c, s, &s->u.send.to, &to, 1, k->rec.is_unix) < 0)
            return -1;
        dst = &to;
    } else if (!k->rec.have_peer) {
        exec_fail(c, s, "'%s' has no peer yet: it must receive a datagram first", k->rec.name);
        return -1;
    }
    if (chunk > UDP_MAX) {
        exec_fail(c, s, "datagram of %llu bytes exceeds %d", (unsigned long long)chunk, UDP_MAX);
        return -1;
    }
    buf = malloc(chunk ? chunk : 1);
    if (!buf) {
        exec_fail(c, s, "out of memory");
        return -1;
    }
    do {
        size_t n = (size_t)(g->total - pos < chunk ? g->total - pos : chunk);
        ssize_t r;
        exec_gen_fill(g, pos, buf, n);
        do
            r = sendto(k->fd, buf, n, 0, (const struct sockaddr *)&dst->ss, dst->len);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            exec_fail(c, s, "sendto: %s", strerror(errno));
            free(buf);
            return -1;
        }
        k->rec.sent += n;
        note_datagram(&k->rec.dg_sent, &k->rec.n_dg_sent, n);
        pos += n;
        if (s->u.send.delay_ms && pos < g->total)
            poll(NULL, 0, (int)(s->u.send.delay_ms * c->st->o->time_scale));
    } while (pos < g->total);
    free(buf);
    return 0;
}

/* Payload bytes of k that have crossed the wire, both ways: what was sent
 * less what still waits in the send queue, and what was received, read or
 * still waiting in the receive queue (it is in the capture's ring too). */
static uint64_t on_wire(const struct exec_conn *k)
{
    int unsent = 0, unread = 0;

    if (ioctl(k->fd, SIOCOUTQNSD, &unsent) < 0 || unsent < 0)
        unsent = 0;
    if (ioctl(k->fd, SIOCINQ, &unread) < 0 || unread < 0)
        unread = 0;
    return k->rec.sent - (uint64_t)unsent + k->rec.received + (uint64_t)unread;
}

/* Write n bytes of buf, draining input while the socket is full.  A stall
 * is timed from *progress (the last write that moved bytes, kept across
 * calls: one send step makes many), or with `within` from the step's start. */
static int write_draining(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k,
                          const uint8_t *buf, size_t n, int64_t step_start, int64_t *progress)
{
    while (n > 0) {
        ssize_t w;
        struct pollfd p = { .fd = k->fd, .events = POLLOUT | POLLIN };
        if (exec_deadline_passed(c)) {
            exec_fail(c, s, "scenario deadline (%s) exceeded while sending (%llu bytes sent)",
                      c->st->deadline_text, (unsigned long long)k->rec.sent);
            return -1;
        }
        w = send(k->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            k->rec.sent_hash = exec_hash_add(k->hs_sent, buf, (size_t)w);
            buf += w;
            n -= (size_t)w;
            k->rec.sent += (uint64_t)w;
            *progress = nr_now_ms();
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            exec_fail(c, s, "send failed after %llu bytes: %s", (unsigned long long)k->rec.sent,
                      strerror(errno));
            return -1;
        }
        if (k->eof || k->reset)
            p.events = POLLOUT;
        if (poll(&p, 1, exec_wait_budget(c, s, s->timeout_ms >= 0 ? step_start : *progress)) <= 0) {
            exec_fail(c, s, "send stalled: peer not reading (%llu bytes sent)",
                      (unsigned long long)k->rec.sent);
            return -1;
        }
        if (p.revents & POLLIN) {
            rx_drain(k);
            ahead_match(k);
        }
    }
    return 0;
}

int exec_send(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = need_conn(c, s);
    struct exec_gen g;
    struct exec_pacer pace;
    uint8_t buf[RX_CHUNK];
    uint64_t pos = 0, chunk;
    int64_t t = nr_now_ms(), progress = t;
    int r = 0;

    if (!k || exec_gen_init(c, s, &s->u.send.payload, &g) < 0)
        return -1;
    if (k->rec.proto == IPPROTO_UDP) {
        r = send_udp(c, s, k, &g);
        exec_gen_free(&g);
        return r;
    }
    if (k->rec.listener) {
        exec_gen_free(&g);
        exec_fail(c, s, "'%s' is a listener: accept a connection first", k->rec.name);
        return -1;
    }
    chunk = s->u.send.chunk ? s->u.send.chunk : sizeof(buf);
    ahead_begin(c, k);
    exec_pace_init(c, &pace, on_wire(k));
    while (pos < g.total && r == 0) {
        uint64_t n = g.total - pos;
        if (n > chunk)
            n = chunk;
        for (uint64_t done = 0; done < n && r == 0;) {
            size_t piece = n - done > sizeof(buf) ? sizeof(buf) : (size_t)(n - done);
            exec_gen_fill(&g, pos + done, buf, piece);
            r = write_draining(c, s, k, buf, piece, t, &progress);
            done += piece;
            if (exec_pace(c, &pace, on_wire(k)))
                progress = nr_now_ms(); /* waiting for the capture is no stall */
        }
        pos += n;
        if (r == 0 && s->u.send.delay_ms && pos < g.total) {
            int64_t until = nr_now_ms() + (int64_t)(s->u.send.delay_ms * c->st->o->time_scale);
            while (nr_ms_left(until) > 0 && !k->eof && !k->reset) {
                rx_wait(k, nr_ms_left(until));
                ahead_match(k);
            }
            if (exec_deadline_passed(c)) {
                exec_fail(c, s, "scenario deadline exceeded while sending");
                r = -1;
            }
        }
    }
    exec_gen_free(&g);
    return r;
}

/* ---- expect: TCP --------------------------------------------------------- */

/* Report a byte mismatch: expected from the generator vs what arrived,
 * around stream offset `at` (relative to this expect). */
static void fail_bytes(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k,
                       const struct exec_gen *g, uint64_t matched, const char *why)
{
    uint64_t from = matched > DIFF_CONTEXT ? (matched - DIFF_CONTEXT) & ~(uint64_t)15 : 0;
    size_t back = (size_t)(matched - from), act_n = back + rx_avail(k), exp_n;
    uint8_t *exp, *act;
    FILE *f;

    if (act_n > back + 4 * DIFF_CONTEXT)
        act_n = back + 4 * DIFF_CONTEXT;
    exp_n = (size_t)(g->total - from < back + 4 * DIFF_CONTEXT ? g->total - from
                                                                : back + 4 * DIFF_CONTEXT);
    exp = malloc(exp_n + 1);
    act = malloc(act_n + 1);
    f = exec_fail_begin(c, s);
    if (f && exp && act) {
        exec_gen_fill(g, from, exp, exp_n);
        memcpy(act, exp, back); /* bytes before `matched` were equal and consumed */
        memcpy(act + back, k->rx + k->rxoff, act_n - back);
        fprintf(f, "  %s: expected %llu bytes, %llu matched, %zu more received\n", why,
                (unsigned long long)g->total, (unsigned long long)matched, rx_avail(k));
        run_hexdiff(f, from, exp, exp_n, act, act_n);
    } else if (f) {
        fprintf(f, "  %s\n", why);
    }
    exec_fail_end(c);
    free(exp);
    free(act);
}

/* The bytes of payload p, next in k's input; the first `matched` of them
 * were matched ahead (during a send). */
static int expect_bytes(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k,
                        const struct nr_payload *p, uint64_t matched)
{
    struct exec_gen g;
    struct exec_pacer pace;
    uint8_t buf[4096];
    int64_t t = nr_now_ms(), progress = t;
    int consumed = 0; /* bytes already received were matched since the last wait */

    if (exec_gen_init(c, s, p, &g) < 0)
        return -1;
    exec_pace_init(c, &pace, on_wire(k));
    while (matched < g.total) {
        size_t avail = rx_avail(k);
        if (avail == 0) {
            int budget;
            /* Matching what a long send drained into k->rx can take seconds
             * under load; that is progress, so a stall starts only when the
             * buffer runs dry (else the step failed with data still queued
             * in the socket, never read). */
            if (consumed)
                progress = nr_now_ms();
            consumed = 0;
            budget = exec_wait_budget(c, s, s->timeout_ms >= 0 ? t : progress);
            if (k->eof || k->reset || k->sock_err || budget == 0) {
                fail_bytes(c, s, k, &g, matched, end_reason(k));
                exec_gen_free(&g);
                return -1;
            }
            /* reading more lets the peer send more: not while the capture
             * is behind (waiting for it is no stall) */
            if (exec_pace(c, &pace, on_wire(k)))
                progress = nr_now_ms();
            if (rx_wait(k, budget) > 0)
                progress = nr_now_ms();
            continue;
        }
        if (exec_deadline_passed(c)) {
            fail_bytes(c, s, k, &g, matched, "scenario deadline exceeded");
            exec_gen_free(&g);
            return -1;
        }
        if (avail > g.total - matched)
            avail = (size_t)(g.total - matched);
        if (avail > sizeof(buf))
            avail = sizeof(buf);
        exec_gen_fill(&g, matched, buf, avail);
        if (memcmp(buf, k->rx + k->rxoff, avail) != 0) {
            size_t d = 0;
            while (buf[d] == k->rx[k->rxoff + d])
                d++;
            k->rxoff += d;
            matched += d;
            fail_bytes(c, s, k, &g, matched, "bytes differ");
            exec_gen_free(&g);
            return -1;
        }
        k->rxoff += avail;
        matched += avail;
        consumed = 1;
    }
    exec_gen_free(&g);
    return 0;
}

/* Show up to 256 received bytes in a failure message. */
static void show_received(FILE *f, const struct exec_conn *k)
{
    size_t n = rx_avail(k) > 256 ? 256 : rx_avail(k);

    fprintf(f, "  received (%zu bytes unconsumed, %s):\n", rx_avail(k),
            k->eof ? "then EOF" : k->reset ? "then reset" : "still open");
    run_hexdiff(f, 0, NULL, 0, k->rx + k->rxoff, n);
}

static int expect_regex(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k)
{
    char *pat = exec_expand(c, s, &s->u.expect.text, NULL);
    regex_t re;
    regmatch_t m;
    int64_t t = nr_now_ms(), progress = t;
    int rc, r = -1;

    if (!pat)
        return -1;
    rc = regcomp(&re, pat, REG_EXTENDED);
    if (rc != 0) {
        char e[128];
        regerror(rc, &re, e, sizeof(e));
        exec_fail(c, s, "bad regex /%s/: %s", pat, e);
        free(pat);
        return -1;
    }
    for (;;) {
        int budget;
        m.rm_so = 0;
        m.rm_eo = (regoff_t)rx_avail(k);
        if (rx_avail(k) > 0 &&
            regexec(&re, (const char *)k->rx + k->rxoff, 1, &m, REG_STARTEND) == 0) {
            k->rxoff += (size_t)m.rm_eo;
            r = 0;
            break;
        }
        budget = exec_wait_budget(c, s, s->timeout_ms >= 0 ? t : progress);
        if (k->eof || k->reset || k->sock_err || budget == 0 || rx_avail(k) > REGEX_WINDOW) {
            FILE *f = exec_fail_begin(c, s);
            if (f) {
                fprintf(f, "  no match for /%s/ (%s)\n", pat,
                        rx_avail(k) > REGEX_WINDOW ? "over 1 MiB without a match" : end_reason(k));
                show_received(f, k);
            }
            exec_fail_end(c);
            break;
        }
        if (rx_wait(k, budget) > 0)
            progress = nr_now_ms();
    }
    regfree(&re);
    free(pat);
    return r;
}

static int expect_until(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k)
{
    size_t dlen;
    char *delim = exec_expand(c, s, &s->u.expect.text, &dlen);
    int64_t t = nr_now_ms(), progress = t;
    int r = -1;

    if (!delim)
        return -1;
    for (;;) {
        struct nr_cursor cur;
        long at;
        int budget;
        nr_cur_init(&cur, k->rx + k->rxoff, rx_avail(k));
        at = nr_cur_find(&cur, delim, dlen);
        if (at >= 0) {
            k->rxoff += (size_t)at + dlen;
            r = 0;
            break;
        }
        budget = exec_wait_budget(c, s, s->timeout_ms >= 0 ? t : progress);
        if (k->eof || k->reset || k->sock_err || budget == 0) {
            FILE *f = exec_fail_begin(c, s);
            if (f) {
                fprintf(f, "  delimiter not seen (%s)\n", end_reason(k));
                show_received(f, k);
            }
            exec_fail_end(c);
            break;
        }
        if (rx_wait(k, budget) > 0)
            progress = nr_now_ms();
    }
    free(delim);
    return r;
}

static int expect_length(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k)
{
    uint64_t need = s->u.expect.length, got = 0;
    int64_t t = nr_now_ms(), progress = t;
    struct exec_pacer pace;

    exec_pace_init(c, &pace, on_wire(k));
    while (got < need) {
        size_t take = rx_avail(k);
        int budget;
        if (take > need - got)
            take = (size_t)(need - got);
        k->rxoff += take;
        got += take;
        if (got == need)
            break;
        budget = exec_wait_budget(c, s, s->timeout_ms >= 0 ? t : progress);
        if (k->eof || k->reset || k->sock_err || budget == 0) {
            exec_fail(c, s, "got %llu of %llu bytes (%s)", (unsigned long long)got,
                      (unsigned long long)need, end_reason(k));
            return -1;
        }
        if (exec_pace(c, &pace, on_wire(k)))
            progress = nr_now_ms();
        if (rx_wait(k, budget) > 0)
            progress = nr_now_ms();
    }
    return 0;
}

/* eof, reset, nothing: conditions on the end of the stream. */
static int expect_end(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k)
{
    enum nr_match_kind want = s->u.expect.kind;
    int64_t t = nr_now_ms();
    int budget;

    if (want == NR_M_NOTHING) {
        int64_t until = t + (s->timeout_ms >= 0 ? (int64_t)(s->timeout_ms * c->st->o->time_scale)
                                                : c->st->step_timeout);
        /* A receive error ends the wait too: it is something, not nothing. */
        while (rx_avail(k) == 0 && !k->eof && !k->reset && !k->sock_err && nr_ms_left(until) > 0)
            rx_wait(k, nr_ms_left(until));
        if (rx_avail(k) == 0 && !k->eof && !k->reset && !k->sock_err)
            return 0;
        FILE *f = exec_fail_begin(c, s);
        if (f) {
            fprintf(f, "  expected nothing, got %s\n", rx_avail(k) ? "data" : end_reason(k));
            show_received(f, k);
        }
        exec_fail_end(c);
        return -1;
    }
    for (;;) {
        if (want == NR_M_EOF && rx_avail(k) > 0) {
            FILE *f = exec_fail_begin(c, s);
            if (f) {
                fputs("  expected EOF, got more data\n", f);
                show_received(f, k);
            }
            exec_fail_end(c);
            return -1;
        }
        if (want == NR_M_RESET && rx_avail(k) > 0)
            k->rxoff = k->rxlen; /* data queued before the RST is not judged */
        if (want == NR_M_EOF && k->eof)
            return 0;
        if (want == NR_M_RESET && k->reset)
            return 0;
        budget = exec_wait_budget(c, s, t);
        if (k->eof || k->reset || k->sock_err || budget == 0) {
            exec_fail(c, s, "expected %s, got %s", want == NR_M_EOF ? "EOF" : "a reset",
                      end_reason(k));
            return -1;
        }
        rx_wait(k, budget);
    }
}

/* ---- expect: UDP ----------------------------------------------------------- */

/* A failed datagram expectation: why, then the datagram's bytes (the
 * first DGRAM_SHOWN) as a hexdump and where it came from. */
static void fail_datagram(struct exec_ctx *c, const struct nr_step *s, const uint8_t *buf,
                          size_t n, const struct nr_addr *from, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void fail_datagram(struct exec_ctx *c, const struct nr_step *s, const uint8_t *buf,
                          size_t n, const struct nr_addr *from, const char *fmt, ...)
{
    FILE *f = exec_fail_begin(c, s);
    char as[NR_ADDRSTR_SIZE];
    va_list ap;

    if (f) {
        fputs("  ", f);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fprintf(f, "\n  the datagram (%zu bytes, from %s):\n", n,
                nr_addr_format((const struct sockaddr *)&from->ss, as, sizeof(as)));
        run_hexdiff(f, 0, NULL, 0, buf, n > DGRAM_SHOWN ? DGRAM_SHOWN : n);
    }
    exec_fail_end(c);
}

static int expect_datagram(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k)
{
    const struct nr_match *m = &s->u.expect;
    static const size_t cap = UDP_MAX;
    uint8_t *buf = malloc(cap);
    struct nr_addr from, want_from;
    char as[NR_ADDRSTR_SIZE], ws[NR_ADDRSTR_SIZE];
    int64_t t = nr_now_ms();
    ssize_t n = -1;
    size_t got;
    int r = -1, budget = exec_wait_budget(c, s, t);

    if (!buf) {
        exec_fail(c, s, "out of memory");
        return -1;
    }
    if (m->from.nsegs > 0 && parse_addr_of(c, s, &m->from, &want_from, 0, k->rec.is_unix) < 0)
        goto out;
    if (m->kind == NR_M_NOTHING && s->timeout_ms < 0)
        budget = c->st->step_timeout;
    if (nr_wait_fd(k->fd, POLLIN, budget) > 0) {
        from.len = sizeof(from.ss);
        n = recvfrom(k->fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&from.ss,
                     &from.len);
    }
    if (n < 0 && errno == ECONNREFUSED) {
        exec_fail(c, s, "the datagram was refused (ICMP port unreachable)");
        goto out;
    }
    if (m->kind == NR_M_NOTHING) {
        if (n < 0) {
            r = 0;
        } else {
            exec_fail(c, s, "expected no datagram, got one of %zd bytes", n);
        }
        goto out;
    }
    if (n < 0) {
        exec_fail(c, s, "no datagram within %lld ms", (long long)(nr_now_ms() - t));
        goto out;
    }
    k->rec.received += (uint64_t)n;
    note_datagram(&k->rec.dg_recv, &k->rec.n_dg_recv, (size_t)n);
    if (k->rec.listener) {
        k->rec.peer = from;
        k->rec.have_peer = 1;
    }
    got = (size_t)n > cap ? cap : (size_t)n; /* MSG_TRUNC: n is the datagram's size */
    if (m->from.nsegs > 0 && !addr_equal(&from, &want_from)) {
        fail_datagram(c, s, buf, got, &from, "the datagram came from %s, expected it from %s",
                      nr_addr_format((const struct sockaddr *)&from.ss, as, sizeof(as)),
                      nr_addr_format((const struct sockaddr *)&want_from.ss, ws, sizeof(ws)));
        goto out;
    }
    if (m->kind == NR_M_LENGTH) {
        if ((uint64_t)n == m->length)
            r = 0;
        else
            fail_datagram(c, s, buf, got, &from, "datagram of %zd bytes, expected %llu", n,
                          (unsigned long long)m->length);
    } else if (m->kind == NR_M_REGEX) {
        char *pat = exec_expand(c, s, &m->text, NULL);
        regex_t re;
        regmatch_t rm = { .rm_so = 0, .rm_eo = (regoff_t)n };
        if (pat && regcomp(&re, pat, REG_EXTENDED) == 0) {
            if (regexec(&re, (const char *)buf, 1, &rm, REG_STARTEND) == 0)
                r = 0;
            else
                fail_datagram(c, s, buf, got, &from, "datagram of %zd bytes does not match /%s/",
                              n, pat);
            regfree(&re);
        } else if (pat) {
            exec_fail(c, s, "bad regex /%s/", pat);
        }
        free(pat);
    } else if (m->kind == NR_M_BYTES) {
        struct exec_gen g;
        if (exec_gen_init(c, s, &m->payload, &g) == 0) {
            uint8_t *exp = malloc(g.total ? (size_t)g.total : 1);
            if (exp && g.total <= cap) {
                exec_gen_fill(&g, 0, exp, (size_t)g.total);
                if (g.total == (uint64_t)n && memcmp(exp, buf, (size_t)n) == 0) {
                    r = 0;
                } else {
                    FILE *f = exec_fail_begin(c, s);
                    if (f) {
                        fprintf(f, "  datagram differs: expected %llu bytes, got %zd (from %s)\n",
                                (unsigned long long)g.total, n,
                                nr_addr_format((const struct sockaddr *)&from.ss, as, sizeof(as)));
                        run_hexdiff(f, 0, exp, (size_t)g.total, buf, got);
                    }
                    exec_fail_end(c);
                }
            } else {
                exec_fail(c, s, "expected datagram too large");
            }
            free(exp);
            exec_gen_free(&g);
        }
    } else {
        exec_fail(c, s, "eof/reset/until do not apply to UDP");
    }
out:
    free(buf);
    return r;
}

int exec_expect(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = need_conn(c, s);
    uint64_t ahead;

    if (!k)
        return -1;
    if (k->ahead && k->ahead != s && k->ahead_done > 0) { /* next_reader() was wrong */
        exec_fail(c, s, "internal error: %llu bytes of '%s' were matched for line %u, not this "
                        "step", (unsigned long long)k->ahead_done, k->rec.name, k->ahead->line);
        return -1;
    }
    ahead = k->ahead == s ? k->ahead_done : 0;
    ahead_end(k);
    if (ahead)
        exec_log(c->st, "%s%u: %llu bytes of '%s' matched ahead, while sending",
                 c->index >= 0 ? "  " : "", s->line, (unsigned long long)ahead, k->rec.name);
    if (k->rec.proto == IPPROTO_UDP)
        return expect_datagram(c, s, k);
    if (k->rec.listener) {
        exec_fail(c, s, "'%s' is a listener: accept a connection first", k->rec.name);
        return -1;
    }
    switch (s->u.expect.kind) {
    case NR_M_BYTES:
        return expect_bytes(c, s, k, &s->u.expect.payload, ahead);
    case NR_M_REGEX:
        return expect_regex(c, s, k);
    case NR_M_UNTIL:
        return expect_until(c, s, k);
    case NR_M_LENGTH:
        return expect_length(c, s, k);
    case NR_M_EOF:
    case NR_M_RESET:
    case NR_M_NOTHING:
        return expect_end(c, s, k);
    }
    return -1;
}

/* ---- shutdown / close / abort -------------------------------------------- */

int exec_shutdown(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = need_conn(c, s);

    if (!k)
        return -1;
    if (shutdown(k->fd, SHUT_WR) < 0) {
        exec_fail(c, s, "shutdown: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int exec_close(struct exec_ctx *c, const struct nr_step *s, int abortive)
{
    struct exec_conn *k = need_conn(c, s);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    if (!k)
        return -1;
    if (abortive && setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
        exec_fail(c, s, "SO_LINGER: %s", strerror(errno));
        return -1;
    }
    k->aborted = abortive;
    drop_conn(c, k);
    return 0;
}
