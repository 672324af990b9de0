/* nr_flow_tcp.c - zeek-style TCP endpoint states, history and reassembly. */
#include "nr_flow_int.h"

#include <string.h>

/* Logarithmic letters (index into hist_cnt). */
enum { LOG_T, LOG_W, LOG_G, LOG_C };
/* Sequence-checked letters (index into hist_fseq). */
enum { SEQ_S, SEQ_H, SEQ_F, SEQ_R };
/* Once-only letters (bit index, + 4 for the responder). */
enum { ONCE_A, ONCE_D, ONCE_I, ONCE_Q };

struct deliver_ctx {
    struct nr_conn *c;
    int dir;
    const struct nr_flow_opts *o;
    int err;
};

static void hist_put(struct nr_conn *c, int dir, char letter)
{
    if (c->hist_len >= NR_HIST_MAX)
        return;
    c->history[c->hist_len++] = dir ? letter : (char)(letter - 'a' + 'A');
    c->history[c->hist_len] = '\0';
}

static void hist_once(struct nr_conn *c, int dir, int which, char letter)
{
    uint16_t bit = (uint16_t)(1u << (which + 4 * dir));
    if (c->hist_once & bit)
        return;
    c->hist_once |= bit;
    hist_put(c, dir, letter);
}

/* Written at the 1st, 10th, 100th ... occurrence. */
static void hist_log(struct nr_conn *c, int dir, int which, char letter)
{
    uint32_t n = ++c->hist_cnt[dir][which];
    if (c->hist_next[dir][which] == 0)
        c->hist_next[dir][which] = 1;
    if (n == c->hist_next[dir][which]) {
        hist_put(c, dir, letter);
        c->hist_next[dir][which] = n >= 400000000u ? 0xffffffffu : n * 10;
    }
}

/* Written again only when the sequence number differs from the last one. */
static void hist_seq(struct nr_conn *c, int dir, int which, char letter, uint32_t seq)
{
    uint8_t bit = (uint8_t)(1u << which);
    if ((c->hist_fseen[dir] & bit) && c->hist_fseq[dir][which] == seq)
        return;
    c->hist_fseen[dir] |= bit;
    c->hist_fseq[dir][which] = seq;
    hist_put(c, dir, letter);
}

static void set_state(struct nr_conn *c, int dir, int s)
{
    c->prev_state[dir] = c->state[dir];
    c->state[dir] = (uint8_t)s;
}

/* zeek's TCP endpoint state machine, for a packet sent by endpoint dir. */
static void update_state(struct nr_conn *c, int dir, const struct nr_pkt *p)
{
    int peer = !dir, fl = p->flags;
    int syn = fl & NR_TCP_SYN, ack = fl & NR_TCP_ACK, fin = fl & NR_TCP_FIN, rst = fl & NR_TCP_RST;

    switch (c->state[dir]) {
    case NR_EP_INACTIVE:
        if (syn) {
            if (dir == 0) {
                set_state(c, dir, ack ? NR_EP_SYN_ACK_SENT : NR_EP_SYN_SENT);
            } else {
                if (c->state[peer] == NR_EP_SYN_SENT)
                    set_state(c, peer, NR_EP_ESTABLISHED);
                set_state(c, dir, NR_EP_ESTABLISHED);
            }
        }
        if (fin)
            set_state(c, dir, NR_EP_CLOSED);
        if (rst)
            set_state(c, dir, NR_EP_RESET);
        if (c->state[dir] == NR_EP_INACTIVE) {
            if (dir == 1 && p->wirelen == 0 && c->state[0] == NR_EP_SYN_SENT)
                break;
            if (ack && c->state[peer] == NR_EP_ESTABLISHED)
                set_state(c, dir, NR_EP_ESTABLISHED);
            else
                set_state(c, dir, NR_EP_PARTIAL);
        }
        break;
    case NR_EP_SYN_SENT:
    case NR_EP_SYN_ACK_SENT:
        if (fin)
            set_state(c, dir, NR_EP_CLOSED);
        if (rst)
            set_state(c, dir, NR_EP_RESET);
        break;
    case NR_EP_ESTABLISHED:
    case NR_EP_PARTIAL:
        if (syn && !ack && c->state[dir] == NR_EP_PARTIAL && c->state[peer] == NR_EP_INACTIVE)
            set_state(c, dir, NR_EP_SYN_SENT);
        if (fin && !rst) {
            set_state(c, dir, NR_EP_CLOSED);
            if (c->state[peer] == NR_EP_RESET && c->prev_state[peer] == NR_EP_CLOSED)
                set_state(c, peer, NR_EP_CLOSED);
        }
        if (rst)
            set_state(c, dir, NR_EP_RESET);
        break;
    case NR_EP_CLOSED:
        if (rst && c->state[peer] != NR_EP_CLOSED)
            set_state(c, dir, NR_EP_RESET);
        break;
    default:
        break;
    }
}

static void update_history(struct nr_conn *c, int dir, const struct nr_pkt *p)
{
    int fl = p->flags;

    if ((fl & NR_TCP_SYN) && (fl & (NR_TCP_FIN | NR_TCP_RST)))
        hist_once(c, dir, ONCE_Q, 'q');
    else if ((fl & NR_TCP_FIN) && (fl & NR_TCP_RST))
        hist_once(c, dir, ONCE_I, 'i');
    if (fl & NR_TCP_SYN) {
        if (fl & NR_TCP_ACK)
            hist_seq(c, dir, SEQ_H, 'h', p->seq);
        else
            hist_seq(c, dir, SEQ_S, 's', p->seq);
    }
    if (fl & NR_TCP_FIN)
        hist_seq(c, dir, SEQ_F, 'f', p->seq);
    if (fl & NR_TCP_RST)
        hist_seq(c, dir, SEQ_R, 'r', p->seq);
    if (p->wirelen)
        hist_once(c, dir, ONCE_D, 'd');
    else if ((fl & (NR_TCP_ACK | NR_TCP_SYN | NR_TCP_FIN | NR_TCP_RST)) == NR_TCP_ACK)
        hist_once(c, dir, ONCE_A, 'a');
    if (p->win == 0 && !(fl & (NR_TCP_RST | NR_TCP_SYN)))
        hist_log(c, dir, LOG_W, 'w');
}

static void on_deliver(void *ctx, const uint8_t *data, size_t len, int is_gap)
{
    struct deliver_ctx *d = ctx;

    if (is_gap)
        hist_log(d->c, d->dir, LOG_G, 'g');
    else if (d->o->on_data)
        d->o->on_data(d->o->data_ctx, d->c, d->dir, nr_conn_stream_size(d->c, d->dir) - len,
                      data, len);
    if (d->o->keep_data && nr_flow_keep(d->c, d->dir, is_gap ? NR_CHUNK_GAP : NR_CHUNK_DATA,
                                        data, len, 1) < 0)
        d->err = 1;
}

void nr_flow_tcp_init(struct nr_conn *c)
{
    c->state[0] = c->state[1] = NR_EP_INACTIVE;
    if (c->flipped) {
        c->history[0] = '^';
        c->history[1] = '\0';
        c->hist_len = 1;
    }
}

int nr_flow_tcp_is_reuse(const struct nr_conn *c, const struct nr_pkt *p)
{
    int closed = c->state[0] == NR_EP_CLOSED || c->state[0] == NR_EP_RESET ||
                 c->state[1] == NR_EP_CLOSED || c->state[1] == NR_EP_RESET;
    int sender_is_orig = !memcmp(c->addr[0], p->src, c->ipver == 6 ? 16 : 4) &&
                         c->port[0] == p->sport;

    if ((p->flags & (NR_TCP_SYN | NR_TCP_ACK | NR_TCP_RST)) != NR_TCP_SYN || !closed)
        return 0;
    return !(sender_is_orig && c->syn_seen[0] && c->isn[0] == p->seq);
}

int nr_flow_tcp_packet(struct nr_conn *c, int dir, const struct nr_pkt *p,
                       const struct nr_flow_opts *o)
{
    struct deliver_ctx d = { .c = c, .dir = dir, .o = o, .err = 0 };
    int keep = o->keep_data || o->on_data != NULL; /* held segments need their bytes */
    uint32_t dseq = p->seq;
    int res;

    update_history(c, dir, p);
    update_state(c, dir, p);
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
    }
    if (p->flags & NR_TCP_RST)
        return 0; /* RST payload is diagnostic text, not stream data */
    res = nr_reasm_add(&c->rs[dir], dseq, p->payload, p->caplen, p->wirelen, on_deliver, &d);
    if (res & NR_REASM_RETRANS) {
        c->retrans[dir]++;
        hist_log(c, dir, LOG_T, 't');
    }
    if (res & NR_REASM_OOO)
        c->ooo[dir]++;
    if ((p->flags & NR_TCP_FIN) && o->keep_data && !d.err && !(c->fin_kept & (1u << dir))) {
        c->fin_kept |= (uint8_t)(1u << dir);
        if (nr_flow_keep(c, dir, NR_CHUNK_FIN, NULL, 0, 0) < 0)
            d.err = 1;
    }
    return d.err ? -1 : 0;
}

void nr_flow_tcp_finish(struct nr_conn *c, const struct nr_flow_opts *o)
{
    for (int dir = 0; dir < 2; dir++) {
        struct deliver_ctx d = { .c = c, .dir = dir, .o = o, .err = 0 };
        if (c->rs[dir].started)
            nr_reasm_flush(&c->rs[dir], on_deliver, &d);
    }
}
