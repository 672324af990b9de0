/* nr_flow_tcp.c - zeek's TCP analyzer (endpoint states, history, sizes)
 * and the stream reassembly of a connection.
 *
 * The rules are those of zeek's packet_analysis/protocol/tcp/
 * TCPSessionAdapter.cc (Process, init_endpoint, update_history,
 * update_window, update_ack_seq, update_last_seq, the Update*State
 * functions, IsReuse) and analyzer/protocol/tcp/TCP_Endpoint.cc (Size,
 * CheckHistory, DidRxmit, ZeroWindow, Gap), re-expressed over nr_conn:
 * index 0 is always the current originator, so a flip swaps the arrays
 * (nr_flow_flip).  harness/doc/pcap.md lists the differences. */
#include "nr_flow_int.h"

#include <string.h>

/* zeek's history mask bits (TCP_Endpoint.h), shifted by 16 for the responder. */
enum {
    HIST_SYN = 0x1, HIST_FIN = 0x2, HIST_RST = 0x4, HIST_FIN_RST = 0x8,
    HIST_DATA = 0x10, HIST_ACK = 0x20, HIST_MULTI = 0x40,
};
/* Scaled letters (index into nr_zep.cnt). */
enum { SC_T, SC_W, SC_G, SC_C };

#define TOO_LARGE_SEQ_DELTA 1048576

struct deliver_ctx {
    struct nr_conn *c;
    int dir;
    const struct nr_flow_opts *o;
    int err;
};

static int32_t sd(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

void nr_flow_hist_put(struct nr_conn *c, int dir, char letter)
{
    if (c->hist_len >= NR_HIST_MAX)
        return;
    if (letter >= 'a' && letter <= 'z' && dir == 0)
        letter = (char)(letter - 'a' + 'A');
    c->history[c->hist_len++] = letter;
    c->history[c->hist_len] = '\0';
}

/* Connection::ScaledHistoryEntry: the 1st, 10th, 100th... occurrence. */
static void hist_scaled(struct nr_conn *c, int dir, int which, char letter)
{
    struct nr_zep *z = &c->zep[dir];

    if (!z->thresh[which])
        z->thresh[which] = 1;
    if (++z->cnt[which] == z->thresh[which]) {
        nr_flow_hist_put(c, dir, letter);
        if (z->thresh[which] * 10u <= z->thresh[which])
            z->cnt[which] = 0;
        else
            z->thresh[which] *= 10;
    }
}

/* TCP_Endpoint::CheckHistory: 1 when the event was already recorded;
 * otherwise records it.  A connection whose history is just "H" (it began
 * with a SYN-ACK) flips on its first ACK or data instead. */
static int hist_check(struct nr_conn *c, int *dir, uint32_t mask, char code)
{
    if ((code == 'a' || code == 'd') && c->hist_len == 1 && c->history[0] == 'H') {
        nr_flow_flip(c);
        *dir = !*dir;
        strcpy(c->history, "^h");
        c->hist_len = 2;
        c->first_seen |= 1;
    }
    if (*dir)
        mask <<= 16;
    if (c->hist_seen & mask)
        return 1;
    c->hist_seen |= mask;
    nr_flow_hist_put(c, *dir, code);
    return 0;
}

static uint64_t full_seq(uint32_t seq, uint32_t wraps)
{
    return ((uint64_t)wraps << 32) | seq;
}

static void zep_init_seqs(struct nr_zep *z, uint32_t start, uint32_t last)
{
    z->start_seq = z->ack_seq = start;
    z->last_seq = last;
    z->seq_wraps = z->ack_wraps = 0;
    z->started = 1;
}

static void zep_update_last(struct nr_zep *z, uint32_t seq)
{
    if (seq < z->last_seq && sd(seq, z->last_seq) > 0)
        z->seq_wraps++;
    z->last_seq = seq;
}

static void zep_update_ack(struct nr_zep *z, uint32_t seq)
{
    if (seq < z->ack_seq && sd(seq, z->ack_seq) > 0)
        z->ack_wraps++;
    z->ack_seq = seq;
}

static void set_state(struct nr_conn *c, int dir, int s)
{
    if (c->state[dir] == s)
        return;
    c->prev_state[dir] = c->state[dir];
    c->state[dir] = (uint8_t)s;
}

/* init_endpoint: sequence numbers from the first packet, or a new SYN. */
static void init_endpoint(struct nr_conn *c, int e, const struct nr_pkt *p, uint32_t last)
{
    struct nr_zep *z = &c->zep[e];
    int syn = p->flags & NR_TCP_SYN;

    switch (c->state[e]) {
    case NR_EP_INACTIVE:
        if (syn)
            zep_init_seqs(z, p->seq, last);
        else
            zep_init_seqs(z, p->seq - 1, p->seq);
        break;
    case NR_EP_SYN_SENT:
    case NR_EP_SYN_ACK_SENT:
        if (syn && p->seq != z->start_seq)
            zep_init_seqs(z, p->seq, last);
        break;
    case NR_EP_ESTABLISHED:
    case NR_EP_PARTIAL:
        if (syn)
            zep_init_seqs(z, p->seq, last);
        break;
    case NR_EP_RESET:
        if (syn && c->prev_state[e] == NR_EP_INACTIVE)
            zep_init_seqs(z, p->seq, last);
        break;
    default:
        break;
    }
}

/* get_relative_seq: seq relative to the endpoint's start, in 64 bits. */
static uint64_t rel_seq(const struct nr_zep *z, uint32_t cur, uint32_t last, uint32_t wraps,
                        int *underflow)
{
    int32_t delta = sd(cur, last);

    if (delta < 0 && wraps && cur > last)
        wraps--;
    else if (delta > 0 && cur < last)
        wraps++;
    if (wraps == 0) {
        delta = sd(cur, z->start_seq);
        if (underflow && delta < 0)
            *underflow = 1;
        return (uint64_t)(int64_t)delta;
    }
    return full_seq(cur, wraps) - z->start_seq;
}

/* update_history: one letter per packet kind (multi-flag packets only Q or I). */
static void update_history(struct nr_conn *c, int *e, const struct nr_pkt *p, uint64_t rel,
                           uint32_t len)
{
    int fl = p->flags;
    int bits = !!(fl & NR_TCP_SYN) + !!(fl & NR_TCP_FIN) + !!(fl & NR_TCP_RST);
    struct nr_zep *z;

    if (bits > 1) {
        if ((fl & NR_TCP_FIN) && (fl & NR_TCP_RST))
            hist_check(c, e, HIST_FIN_RST, 'i');
        else
            hist_check(c, e, HIST_MULTI, 'q');
        return;
    }
    if (bits == 1) {
        z = &c->zep[*e];
        if (fl & NR_TCP_SYN) {
            char code = fl & NR_TCP_ACK ? 'h' : 's';
            if (hist_check(c, e, HIST_SYN, code) && rel != z->hist_last_syn)
                nr_flow_hist_put(c, *e, code);
            z->hist_last_syn = rel;
        } else if (fl & NR_TCP_FIN) {
            if (hist_check(c, e, HIST_FIN, 'f') && rel + len != z->hist_last_fin)
                nr_flow_hist_put(c, *e, 'f');
            z->hist_last_fin = rel + len;
        } else {
            if (hist_check(c, e, HIST_RST, 'r') && rel != z->hist_last_rst)
                nr_flow_hist_put(c, *e, 'r');
            z->hist_last_rst = rel;
        }
        return;
    }
    if (len)
        hist_check(c, e, HIST_DATA, 'd');
    else if (fl & NR_TCP_ACK)
        hist_check(c, e, HIST_ACK, 'a');
}

/* update_last_seq: returns how far the packet moved the endpoint's last
 * sequence number; a data packet that does not is a retransmission ('T'). */
static int32_t update_last_seq(struct nr_conn *c, int e, uint32_t last, int fl, uint32_t len)
{
    struct nr_zep *z = &c->zep[e];
    int32_t delta = sd(last, z->last_seq);

    if ((fl & (NR_TCP_SYN | NR_TCP_RST)) &&
        (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
        ;
    else if ((fl & NR_TCP_FIN) && z->last_seq == z->start_seq + 1)
        zep_update_last(z, last);
    else if (c->state[e] == NR_EP_RESET)
        ;
    else if (delta > 0)
        zep_update_last(z, last);
    else if (len > 0)
        hist_scaled(c, e, SC_T, 't');
    return delta;
}

/* A FIN closes the endpoint, a RST resets it (after a FIN); returns 1 when
 * either happened. */
static int closing_flags(struct nr_conn *c, int e, int fin, int rst)
{
    if (fin)
        set_state(c, e, NR_EP_CLOSED);
    if (rst)
        set_state(c, e, NR_EP_RESET);
    return fin || rst;
}

/* UpdateInactiveState and friends: the endpoint state machine.  *e and *pe
 * follow a flip; is_orig is the role the packet had when it arrived. */
static int update_state(struct nr_conn *c, int *e, int *pe, const struct nr_pkt *p, uint32_t len,
                        int is_orig, int32_t delta_last)
{
    int fl = p->flags, close = 0;
    int syn = fl & NR_TCP_SYN, ack = fl & NR_TCP_ACK, fin = fl & NR_TCP_FIN, rst = fl & NR_TCP_RST;

    (void)delta_last;
    switch (c->state[*e]) {
    case NR_EP_INACTIVE:
        if (syn) {
            if (is_orig) {
                set_state(c, *e, ack ? NR_EP_SYN_ACK_SENT : NR_EP_SYN_SENT);
            } else {
                if (!ack && c->state[*pe] == NR_EP_SYN_ACK_SENT &&
                    p->seq == c->zep[*e].start_seq) {
                    /* SYN/SYN-ACK reversal */
                    c->is_partial = 0;
                    nr_flow_flip(c);
                    *e = !*e;
                    *pe = !*pe;
                    set_state(c, *pe, NR_EP_ESTABLISHED);
                    c->first_seen |= 1;
                }
                if (c->state[*pe] == NR_EP_SYN_SENT)
                    set_state(c, *pe, NR_EP_ESTABLISHED);
                set_state(c, *e, NR_EP_ESTABLISHED);
            }
        }
        close |= closing_flags(c, *e, fin, rst);
        if (c->state[*e] == NR_EP_INACTIVE) {
            if (!is_orig && len == 0 && c->state[0] == NR_EP_SYN_SENT)
                ;
            else if (ack && c->state[*pe] == NR_EP_ESTABLISHED) {
                set_state(c, *e, NR_EP_ESTABLISHED);
                c->is_partial = 0;
                c->first_seen |= (uint8_t)(is_orig ? 1 : 2);
            } else {
                set_state(c, *e, NR_EP_PARTIAL);
            }
        }
        break;
    case NR_EP_SYN_SENT:
    case NR_EP_SYN_ACK_SENT:
        close |= closing_flags(c, *e, fin, rst);
        break;
    case NR_EP_ESTABLISHED:
    case NR_EP_PARTIAL:
        if (syn && !ack && c->state[*e] == NR_EP_PARTIAL && c->state[*pe] == NR_EP_INACTIVE)
            set_state(c, *e, NR_EP_SYN_SENT);
        if (fin && !rst) {
            set_state(c, *e, NR_EP_CLOSED);
            if (c->state[*pe] == NR_EP_RESET && c->prev_state[*pe] == NR_EP_CLOSED)
                set_state(c, *pe, NR_EP_CLOSED);
            close = 1;
        }
        if (rst) {
            set_state(c, *e, NR_EP_RESET);
            close = 1;
        }
        break;
    case NR_EP_CLOSED:
        if (rst && c->state[*pe] != NR_EP_CLOSED) {
            set_state(c, *e, NR_EP_RESET);
            if (!c->zep[*e].did_close)
                close = 1;
        }
        break;
    default:
        break;
    }
    return close;
}

static void on_deliver(void *ctx, const uint8_t *data, size_t len, int is_gap)
{
    struct deliver_ctx *d = ctx;

    if (is_gap)
        hist_scaled(d->c, d->dir, SC_G, 'g');
    else if (d->o->on_data)
        d->o->on_data(d->o->data_ctx, d->c, d->dir, nr_conn_stream_size(d->c, d->dir) - len,
                      data, len);
    if (d->o->keep_data && nr_flow_keep(d->c, d->dir, is_gap ? NR_CHUNK_GAP : NR_CHUNK_DATA,
                                        data, len, 1) < 0)
        d->err = 1;
}

/* A FIN is kept at its place in the stream: once every byte before it was
 * delivered or skipped. */
static void place_fin(struct nr_conn *c, int dir, const struct nr_flow_opts *o, int *err)
{
    uint8_t bit = (uint8_t)(1u << dir);

    if (!(c->fin_pending & bit) || sd(c->rs[dir].next, c->fin_seq[dir]) < 0)
        return;
    c->fin_pending &= (uint8_t)~bit;
    if (o->keep_data && !(c->fin_kept & bit)) {
        c->fin_kept |= bit;
        if (nr_flow_keep(c, dir, NR_CHUNK_FIN, NULL, 0, 0) < 0)
            *err = 1;
    }
}

void nr_flow_tcp_init(struct nr_conn *c)
{
    c->state[0] = c->state[1] = NR_EP_INACTIVE;
    nr_flow_ana_init(c);
}

int nr_flow_tcp_is_reuse(const struct nr_conn *c, const struct nr_pkt *p)
{
    int e = 0;

    if (!(p->flags & NR_TCP_SYN))
        return 0;
    if (p->flags & NR_TCP_ACK) {
        if (c->state[0] != NR_EP_INACTIVE)
            return 0; /* not a half connection */
        e = 1;
    }
    if (!c->zep[0].did_close && !c->zep[1].did_close) {
        if (p->seq == c->zep[e].start_seq)
            return 0;
        if (!(p->flags & NR_TCP_ACK) && c->state[e] == NR_EP_SYN_ACK_SENT &&
            c->state[1] == NR_EP_INACTIVE && p->seq == c->zep[1].start_seq)
            return 0; /* SYN and SYN-ACK seen in reverse order */
    }
    return 1;
}

/* Ack-driven gaps: the peer acknowledged bytes of direction dir that were
 * never captured (up to the FIN, which takes a sequence number). */
static void acked(struct nr_conn *c, int dir, uint32_t ack, struct deliver_ctx *d)
{
    struct nr_reasm *r = &c->rs[dir];

    if (!r->started)
        return;
    if ((c->fin_seen & (1u << dir)) && sd(ack, c->fin_seq[dir]) > 0)
        ack = c->fin_seq[dir];
    nr_reasm_skip_to(r, ack, on_deliver, d);
}

/* The zeek part of a packet: sequence bookkeeping, history, window, state.
 * Returns the packet's direction after any flip. */
static int zeek_packet(struct nr_conn *c, int dir, const struct nr_pkt *p)
{
    int e = dir, pe = !dir, is_orig = dir == 0, fl = p->flags, under = 0;
    uint32_t len = (uint32_t)p->wirelen, seg_len = len;
    uint64_t rel;
    int32_t delta;

    if (is_orig && !(c->first_seen & 1))
        c->is_partial = !(fl & NR_TCP_SYN) || (fl & NR_TCP_ACK);
    else if (!is_orig && !(c->first_seen & 2) && !c->is_partial)
        c->is_partial = !(fl & NR_TCP_SYN);
    seg_len += !!(fl & NR_TCP_SYN) + !!(fl & NR_TCP_FIN);
    if (fl & NR_TCP_RST)
        seg_len -= len;
    init_endpoint(c, e, p, p->seq + seg_len);
    rel = rel_seq(&c->zep[e], p->seq, c->zep[e].last_seq, c->zep[e].seq_wraps, &under);
    update_history(c, &e, p, rel, len);
    pe = !e;
    /* update_window: zero windows, not on RST, nor after the peer's FIN */
    if (p->win == 0 && !(fl & NR_TCP_RST) && c->state[pe] != NR_EP_CLOSED &&
        c->state[e] != NR_EP_RESET)
        hist_scaled(c, e, SC_W, 'w');
    if (fl & NR_TCP_FIN)
        c->zep[e].fin_cnt++;
    if (fl & NR_TCP_ACK) {
        if (c->state[pe] == NR_EP_INACTIVE) {
            zep_init_seqs(&c->zep[pe], p->ack - 1, p->ack - 1);
        } else {
            int au = 0;
            struct nr_zep *pz = &c->zep[pe];
            rel_seq(pz, p->ack, pz->ack_seq, pz->ack_wraps, &au);
            if (!au && !(fl & NR_TCP_RST)) {
                int32_t da = sd(p->ack, pz->ack_seq);
                if (!(p->ack == 0 && da > TOO_LARGE_SEQ_DELTA) && da > 0)
                    zep_update_ack(pz, p->ack);
            }
        }
    }
    delta = update_last_seq(c, e, p->seq + seg_len, fl, len);
    if (update_state(c, &e, &pe, p, len, is_orig, delta))
        c->zep[e].did_close = 1;
    return e;
}

int nr_flow_tcp_packet(struct nr_conn *c, int dir, const struct nr_pkt *p,
                       const struct nr_flow_opts *o)
{
    int keep = o->keep_data || o->on_data != NULL; /* held segments need their bytes */
    uint32_t dseq = p->seq;
    struct deliver_ctx d = { .c = c, .o = o, .err = 0 };
    int res;

    dir = zeek_packet(c, dir, p);
    d.dir = dir;
    if (p->flags & NR_TCP_SYN) {
        if (!c->syn_seen[dir]) {
            c->syn_seen[dir] = 1;
            c->isn[dir] = p->seq;
            c->syn_opt[dir] = p->opt;
            if (!c->rs[dir].started || c->rs[dir].delivered == 0) {
                /* segments held against a start guessed before the SYN */
                nr_reasm_free(&c->rs[dir]);
                nr_reasm_start(&c->rs[dir], p->seq + 1, keep);
            }
        }
        dseq = p->seq + 1;
    } else if (!c->rs[dir].started) {
        nr_reasm_start(&c->rs[dir], p->seq, keep);
    }
    /* The final ACK: from the originator, after both SYNs, acknowledging
     * the SYN-ACK (data or a FIN may ride on it; a RST aborts instead). */
    if ((p->flags & (NR_TCP_SYN | NR_TCP_ACK | NR_TCP_RST)) == NR_TCP_ACK && dir == 0 &&
        c->syn_seen[0] && c->syn_seen[1] && !c->handshake &&
        (int32_t)(p->ack - (c->isn[1] + 1)) >= 0)
        c->handshake = 1;
    if (p->win == 0 && !(p->flags & (NR_TCP_RST | NR_TCP_SYN)))
        c->zero_win[dir]++;
    if ((p->flags & NR_TCP_FIN) && c->first_fin < 0)
        c->first_fin = (int8_t)dir;
    if (p->flags & NR_TCP_RST) {
        if (c->first_rst < 0)
            c->first_rst = (int8_t)dir;
        c->rst_dirs |= (uint8_t)(1u << dir);
        return 0; /* RST payload is diagnostic text, not stream data */
    }
    if ((p->flags & NR_TCP_FIN) && !(c->fin_seen & (1u << dir))) {
        c->fin_seen |= (uint8_t)(1u << dir);
        c->fin_pending |= (uint8_t)(1u << dir);
        c->fin_seq[dir] = dseq + (uint32_t)p->wirelen;
    }
    res = nr_reasm_add(&c->rs[dir], dseq, p->payload, p->caplen, p->wirelen, on_deliver, &d);
    if (res & NR_REASM_RETRANS)
        c->retrans[dir]++;
    if (res & NR_REASM_OOO)
        c->ooo[dir]++;
    if ((p->flags & NR_TCP_ACK) && c->rs[!dir].started) {
        struct deliver_ctx pd = { .c = c, .dir = !dir, .o = o, .err = 0 };
        acked(c, !dir, p->ack, &pd);
        place_fin(c, !dir, o, &pd.err);
        d.err |= pd.err;
    }
    place_fin(c, dir, o, &d.err);
    return d.err ? -1 : 0;
}

void nr_flow_tcp_finish(struct nr_conn *c, const struct nr_flow_opts *o)
{
    for (int dir = 0; dir < 2; dir++) {
        struct deliver_ctx d = { .c = c, .dir = dir, .o = o, .err = 0 };
        if (!c->rs[dir].started)
            continue;
        nr_reasm_flush(&c->rs[dir], on_deliver, &d);
        if (c->fin_pending & (1u << dir))
            nr_reasm_skip_to(&c->rs[dir], c->fin_seq[dir], on_deliver, &d);
        place_fin(c, dir, o, &d.err);
    }
}

uint64_t nr_conn_zeek_size(const struct nr_conn *c, int dir)
{
    const struct nr_zep *z = &c->zep[dir];
    uint64_t last, ack, size;

    if (c->proto != IPPROTO_TCP)
        return c->payload[dir];
    if (!z->started)
        return 0;
    if (c->prev_state[dir] == NR_EP_SYN_SENT && c->state[dir] == NR_EP_RESET &&
        c->state[!dir] == NR_EP_INACTIVE) {
        uint64_t a = full_seq(z->ack_seq, z->ack_wraps);
        if (!(a == z->start_seq || a == (uint64_t)z->start_seq + 1))
            return 0;
    }
    last = full_seq(z->last_seq, z->seq_wraps);
    ack = full_seq(z->ack_seq, z->ack_wraps);
    size = (last > ack ? last : ack) - z->start_seq;
    if (size)
        size--;
    if (z->fin_cnt && size)
        size--;
    return size;
}
