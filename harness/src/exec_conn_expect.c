/* exec_conn_expect.c - the expect step: one wait loop for TCP, one
 * receive for UDP, both driving the matcher table of exec_match.c.  The
 * loop offers the matcher what the receive buffer holds, consumes what it
 * took, and waits for more while it asks for more, within the budget its
 * row names; the row's report says why it failed. */
#define _GNU_SOURCE
#include "exec_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- TCP ------------------------------------------------------------------- */

/* Milliseconds the wait for more input may take now. */
static int stream_budget(struct exec_ctx *c, const struct nr_step *s, enum exec_budget how,
                         int64_t start, int64_t progress)
{
    int64_t until;

    switch (how) {
    case EXEC_BUDGET_START:
        return exec_wait_budget(c, s, start);
    case EXEC_BUDGET_QUIET: /* the whole time, even past the deadline */
        until = start + (s->timeout_ms >= 0 ? s->timeout_ms : c->st->step_timeout);
        return nr_ms_left(until);
    case EXEC_BUDGET_STALL:
        break;
    }
    return exec_wait_budget(c, s, s->timeout_ms >= 0 ? start : progress);
}

/* Match m against k's input until it holds (0) or fails (-1 after its
 * report).  Matching counts as progress, as does input arriving or a wait
 * for the capture. */
static int expect_stream(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k,
                         struct exec_match *m)
{
    const struct exec_matcher *row = m->row;
    struct exec_pacer pace;
    int64_t t = nr_now_ms(), progress = t;
    const char *why;

    if (row->paced)
        exec_pace_init(c, &pace, exec_rx_on_wire(k));
    for (;;) {
        const uint8_t *in = k->rx + k->rxoff;
        size_t avail = exec_rx_avail(k), used = 0;
        enum exec_match_rc rc;
        int budget;

        /* after the deadline, input left fails a claim not yet complete */
        if (row->deadline_cut && avail > 0 && exec_deadline_passed(c) &&
            row->match(m, in, 0, EXEC_IN_OPEN, &used) != EXEC_MATCH_DONE) {
            why = "scenario deadline exceeded";
            break;
        }
        m->why = NULL;
        rc = row->match(m, in, avail, exec_rx_end(k), &used);
        k->rxoff += used;
        if (used)
            progress = nr_now_ms();
        if (rc == EXEC_MATCH_DONE)
            return 0;
        if (rc == EXEC_MATCH_FAIL) {
            why = m->why ? m->why : exec_rx_end_reason(k);
            break;
        }
        budget = stream_budget(c, s, row->budget, t, progress);
        if (budget == 0 && row->budget == EXEC_BUDGET_QUIET)
            return 0; /* nothing came all along */
        if (k->eof || k->reset || k->sock_err || budget == 0) {
            why = exec_rx_end_reason(k);
            break;
        }
        /* reading more lets the peer send more: not while the capture is
         * behind (waiting for it is no stall) */
        if (row->paced && pace.cap && exec_pace(c, &pace, exec_rx_on_wire(k)))
            progress = nr_now_ms();
        if (exec_rx_wait(k, budget) > 0)
            progress = nr_now_ms();
    }
    row->report(c, s, m, k->rx + k->rxoff, exec_rx_avail(k), exec_rx_end(k), why);
    return -1;
}

/* ---- UDP ------------------------------------------------------------------- */

/* One datagram (or, for `nothing`, none) within the step's time, from the
 * sender `from` names, judged whole by the matcher. */
static int expect_datagram(struct exec_ctx *c, const struct nr_step *s, struct exec_conn *k)
{
    const struct nr_match *want = &s->u.expect;
    const struct exec_matcher *row = exec_matcher(want->kind);
    static const size_t cap = EXEC_UDP_MAX;
    uint8_t *buf = malloc(cap + 1); /* + the NUL after the datagram (regexec) */
    struct nr_addr from, want_from;
    struct exec_match m;
    char as[NR_ADDRSTR_SIZE], ws[NR_ADDRSTR_SIZE];
    int64_t t = nr_now_ms();
    ssize_t n = -1;
    size_t got, used = 0, seen;
    int r = -1, budget = exec_wait_budget(c, s, t);

    if (!buf) {
        exec_fail(c, s, "out of memory");
        return -1;
    }
    if (want->from.nsegs > 0 &&
        exec_conn_addr(c, s, &want->from, &want_from, 0, k->rec.is_unix) < 0)
        goto out;
    if (want->kind == NR_M_NOTHING) /* its whole time, past the deadline too (as on TCP) */
        budget = s->timeout_ms >= 0 ? s->timeout_ms : c->st->step_timeout;
    if (nr_wait_fd(k->fd, POLLIN, budget) > 0) {
        from.len = sizeof(from.ss);
        n = recvfrom(k->fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&from.ss,
                     &from.len);
    }
    if (n < 0 && errno == ECONNREFUSED) {
        exec_fail(c, s, "the datagram was refused (ICMP port unreachable)");
        goto out;
    }
    if (want->kind == NR_M_NOTHING) {
        if (n < 0)
            r = 0;
        else
            exec_fail(c, s, "expected no datagram, got one of %zd bytes", n);
        goto out;
    }
    if (n < 0) {
        exec_fail(c, s, "no datagram within %lld ms", (long long)(nr_now_ms() - t));
        goto out;
    }
    k->rec.received += (uint64_t)n;
    exec_conn_note_dgram(&k->rec.dg_recv, &k->rec.n_dg_recv, (size_t)n);
    if (k->rec.listener) {
        k->rec.peer = from;
        k->rec.have_peer = 1;
    }
    got = (size_t)n > cap ? cap : (size_t)n; /* MSG_TRUNC: n is the datagram's size */
    buf[got] = '\0';
    if (want->from.nsegs > 0 && !exec_conn_addr_equal(&from, &want_from)) {
        exec_fail_datagram(c, s, buf, got, &from, "the datagram came from %s, expected it from %s",
                  nr_addr_format((const struct sockaddr *)&from.ss, as, sizeof(as)),
                  nr_addr_format((const struct sockaddr *)&want_from.ss, ws, sizeof(ws)));
        goto out;
    }
    if (!row || !row->report_dgram) {
        exec_fail(c, s, "eof/reset/until do not apply to UDP");
        goto out;
    }
    if (exec_match_init(c, s, want, &m) < 0)
        goto out;
    seen = row->sizes_only ? (size_t)n : got;
    if (row->match(&m, buf, seen, EXEC_IN_DATAGRAM, &used) == EXEC_MATCH_DONE &&
        (!row->whole || used == (size_t)n))
        r = 0;
    else
        row->report_dgram(c, s, &m, buf, got, (size_t)n, &from);
    exec_match_free(&m);
out:
    free(buf);
    return r;
}

/* ---- the step -------------------------------------------------------------- */

int exec_expect(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = exec_conn_need(c, s);
    struct exec_match m, *ahead = NULL;
    int r;

    if (!k)
        return -1;
    if (k->ahead && k->ahead != s && k->ahead_m->done > 0) { /* next_reader() was wrong */
        exec_fail(c, s, "internal error: %llu bytes of '%s' were matched for line %u, not this "
                        "step", (unsigned long long)k->ahead_m->done, k->rec.name, k->ahead->line);
        return -1;
    }
    if (k->ahead == s) { /* take over the match the lookahead began */
        ahead = k->ahead_m;
        k->ahead_m = NULL;
    }
    exec_conn_ahead_end(k);
    if (ahead && ahead->done)
        exec_log(c->st, "%s%u: %llu bytes of '%s' matched ahead, while sending",
                 c->index >= 0 ? "  " : "", s->line, (unsigned long long)ahead->done,
                 k->rec.name);
    if (k->rec.proto == IPPROTO_UDP || k->rec.listener) {
        if (ahead)
            exec_match_free(ahead);
        free(ahead);
        if (k->rec.proto == IPPROTO_UDP)
            return expect_datagram(c, s, k);
        exec_fail(c, s, "'%s' is a listener: accept a connection first", k->rec.name);
        return -1;
    }
    if (ahead) {
        m = *ahead;
        free(ahead);
    } else if (exec_match_init(c, s, &s->u.expect, &m) < 0) {
        return -1;
    }
    r = expect_stream(c, s, k, &m);
    exec_match_free(&m);
    return r;
}
