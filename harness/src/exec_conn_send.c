/* exec_conn_send.c - the send step: datagrams on UDP; on TCP a payload
 * of any size written while the input is drained (an echoing peer never
 * blocks it), paced behind the capture, and matched ahead against the
 * expect that reads it next (the bytes matcher of exec_match.c). */
#define _GNU_SOURCE
#include "exec_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- lookahead ----------------------------------------------------------- */

/* A send that outruns its peer must read while it writes (else both sides
 * block on full buffers), and an echo of a 64 MiB send would pile up in
 * k->rx until the expect after the send reads it.  So once that much is
 * held, the bytes are matched against that expect now and let go: the
 * expect step later starts where the lookahead stopped, and still judges
 * (a differing byte stops the lookahead where it is, for the step to
 * report with its diff).  Memory per connection stays near AHEAD_MIN. */
#define AHEAD_MIN (256 * 1024)
#define SEND_PIECE 65536 /* bytes of the payload made and written at a time */

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

/* Before a TCP send on k: look ahead to the expect that reads k next (a
 * send after a send keeps the lookahead it has).  The payload is made
 * quietly: if that fails, the expect step reports it when it runs. */
static void ahead_begin(struct exec_ctx *c, struct exec_conn *k)
{
    const struct nr_step *t = next_reader(c, k);
    struct exec_ctx quiet = *c;

    if (!t || k->ahead == t)
        return;
    exec_conn_ahead_end(k);
    quiet.fail = quiet.fbuf = NULL;
    quiet.fstream = NULL;
    if (!(k->ahead_m = malloc(sizeof(*k->ahead_m))))
        return;
    if (exec_match_init(&quiet, t, &t->u.expect, k->ahead_m) < 0) {
        free(quiet.fail);
        free(k->ahead_m);
        k->ahead_m = NULL;
        return;
    }
    k->ahead = t;
}

/* Match what k holds against the expect ahead, once AHEAD_MIN is held:
 * the bytes matcher consumes what matches and stops at a differing byte. */
static void ahead_match(struct exec_conn *k)
{
    size_t used = 0;

    if (!k->ahead || k->ahead_stopped || exec_rx_avail(k) < AHEAD_MIN)
        return;
    if (k->ahead_m->row->match(k->ahead_m, k->rx + k->rxoff, exec_rx_avail(k), EXEC_IN_OPEN,
                               &used) == EXEC_MATCH_FAIL)
        k->ahead_stopped = 1;
    k->rxoff += used;
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
        if (exec_conn_addr(c, s, &s->u.send.to, &to, 1, k->rec.is_unix) < 0)
            return -1;
        dst = &to;
    } else if (!k->rec.have_peer) {
        exec_fail(c, s, "'%s' has no peer yet: it must receive a datagram first", k->rec.name);
        return -1;
    }
    if (chunk > EXEC_UDP_MAX) {
        exec_fail(c, s, "datagram of %llu bytes exceeds %d", (unsigned long long)chunk, EXEC_UDP_MAX);
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
        exec_conn_note_dgram(&k->rec.dg_sent, &k->rec.n_dg_sent, n);
        pos += n;
        if (s->u.send.delay_ms && pos < g->total)
            poll(NULL, 0, s->u.send.delay_ms);
    } while (pos < g->total);
    free(buf);
    return 0;
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
            exec_rx_drain(k);
            ahead_match(k);
        }
    }
    return 0;
}

int exec_send(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = exec_conn_need(c, s);
    struct exec_gen g;
    struct exec_pacer pace;
    uint8_t buf[SEND_PIECE];
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
    exec_pace_init(c, &pace, exec_rx_on_wire(k));
    while (pos < g.total && r == 0) {
        uint64_t n = g.total - pos;
        if (n > chunk)
            n = chunk;
        for (uint64_t done = 0; done < n && r == 0;) {
            size_t piece = n - done > sizeof(buf) ? sizeof(buf) : (size_t)(n - done);
            exec_gen_fill(&g, pos + done, buf, piece);
            r = write_draining(c, s, k, buf, piece, t, &progress);
            done += piece;
            /* (pace.cap first: without a capture, no ioctls per piece) */
            if (pace.cap && exec_pace(c, &pace, exec_rx_on_wire(k)))
                progress = nr_now_ms(); /* waiting for the capture is no stall */
        }
        pos += n;
        if (r == 0 && s->u.send.delay_ms && pos < g.total) {
            int64_t until = nr_now_ms() + s->u.send.delay_ms;
            while (nr_ms_left(until) > 0 && !k->eof && !k->reset) {
                exec_rx_wait(k, nr_ms_left(until));
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
