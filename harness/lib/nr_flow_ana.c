/* nr_flow_ana.c - tshark's TCP sequence analysis (tcp.analysis.* flags).
 *
 * The rules of wireshark's epan/dissectors/packet-tcp.c
 * (tcp_analyze_sequence_number, 4.0), re-expressed per direction of an
 * nr_conn: zero window (and probe), lost segment, keep-alive, window
 * update, window full, keep-alive ACK, duplicate ACK, ACKed unseen
 * segment, then fast retransmission, out-of-order, spurious retransmission
 * or retransmission for a segment (or SYN/FIN) that does not advance the
 * next expected sequence number.  Counts go to c->ta[dir][flag]. */
#include "nr_flow_int.h"

#include <string.h>

#define F(x) (1u << (x))
#define SYN_FIN_RST (NR_TCP_SYN | NR_TCP_FIN | NR_TCP_RST)

static int32_t sd(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* Window scaling as tshark learns it from the SYN and SYN-ACK options
 * (verify_tcp_window_scaling): a SYN or SYN-ACK without the option turns
 * scaling off both ways; a SYN-ACK with it after a SYN without it does not
 * turn it on. */
static void learn_scale(struct nr_conn *c, int dir, const struct nr_pkt *p)
{
    struct nr_tsa *f = &c->tsa[dir], *r = &c->tsa[!dir];

    if (!(p->flags & NR_TCP_SYN))
        return;
    if (p->opt.has_wscale)
        f->win_scale = p->opt.wscale > 14 ? 14 : p->opt.wscale;
    if (f->win_scale == -1) {
        f->win_scale = -2;
        r->win_scale = -2;
    } else if ((p->flags & NR_TCP_ACK) && r->win_scale == -2) {
        f->win_scale = -2;
    }
}

/* The segment-level checks before the retransmission class; returns the
 * flags raised (a probe, a keep-alive ACK or a probe's ACK ends them). */
static uint32_t window_checks(const struct nr_conn *c, int dir, const struct nr_pkt *p,
                              uint32_t seglen, uint32_t win)
{
    const struct nr_tsa *f = &c->tsa[dir], *r = &c->tsa[!dir];
    uint32_t fl = p->flags, seq = p->seq, ack = p->ack, t = 0;
    int plain = !(fl & SYN_FIN_RST);

    if (seglen == 1 && seq == f->nextseq && r->window == 0)
        return F(NR_TA_ZERO_WIN_PROBE);
    if (win == 0 && plain)
        t |= F(NR_TA_ZERO_WIN);
    if (f->nextseq && sd(seq, f->nextseq) > 0 && !(fl & NR_TCP_RST))
        t |= F(NR_TA_LOST);
    if (seglen <= 1 && seq == f->nextseq - 1 && plain)
        t |= F(NR_TA_KEEP_ALIVE);
    if (seglen == 0 && win && win != f->window && seq == f->nextseq && ack == f->lastack && plain)
        t |= F(NR_TA_WIN_UPDATE);
    if (seglen > 0 && r->win_scale != -1 && plain &&
        seq + seglen == r->lastack + (r->win_scale >= 0 ? r->window << r->win_scale : r->window))
        t |= F(NR_TA_WIN_FULL);
    /* (tshark's zero window probe ACK, a repeated zero window after a
     * probe, is not counted and ends the checks: only a duplicate ACK,
     * which needs a window, could follow) */
    if (seglen == 0 && plain && seq == f->nextseq && win && win == f->window &&
        ack == f->lastack)
        t |= r->last_flags & F(NR_TA_KEEP_ALIVE) ? F(NR_TA_KEEP_ALIVE_ACK) : F(NR_TA_DUP_ACK);
    return t;
}

/* Spurious retransmission (bytes the peer acknowledged already), fast
 * retransmission, out-of-order or retransmission, in tshark 4.0's order. */
static uint32_t rexmit_class(const struct nr_conn *c, int dir, const struct nr_pkt *p,
                             uint32_t seglen, int64_t ts)
{
    const struct nr_tsa *f = &c->tsa[dir], *r = &c->tsa[!dir];
    uint32_t seq = p->seq, end = seq + seglen + ((p->flags & (NR_TCP_SYN | NR_TCP_FIN)) ? 1 : 0);
    int behind = f->nextseq && sd(seq, f->nextseq) < 0;
    int64_t ooo = c->ta_rtt_ns > 0 ? c->ta_rtt_ns : 3000000;

    if (seglen > 1 && seq == f->nextseq - 1)
        behind = 0; /* new data after a possible zero window probe */
    if (seglen > 0 && r->lastack && sd(seq + seglen, r->lastack) <= 0)
        return F(NR_TA_SPURIOUS) | F(NR_TA_RETRANS);
    if (behind && r->dupacks >= 2 && r->lastack == seq && ts - r->lastack_ns < 20000000)
        return F(NR_TA_FAST_RETRANS) | F(NR_TA_RETRANS);
    if (behind && ts - f->nextseq_ns < ooo && f->nextseq != end)
        return F(NR_TA_OOO);
    return behind ? F(NR_TA_RETRANS) : 0;
}

void nr_flow_ana_packet(struct nr_conn *c, int dir, const struct nr_pkt *p, int64_t ts)
{
    struct nr_tsa *f = &c->tsa[dir], *r = &c->tsa[!dir];
    uint32_t fl = p->flags, seq = p->seq, ack = p->ack;
    uint32_t seglen = (uint32_t)p->wirelen, win, t, nextseq;

    if ((fl & (NR_TCP_SYN | NR_TCP_ACK)) == NR_TCP_SYN)
        c->ta_syn_ns = ts;
    else if ((fl & (NR_TCP_SYN | NR_TCP_ACK | NR_TCP_RST | NR_TCP_FIN)) == NR_TCP_ACK &&
             c->ta_syn_ns && !c->ta_rtt_ns && c->tsa[!dir].base_set)
        c->ta_rtt_ns = ts - c->ta_syn_ns >= 0 ? ts - c->ta_syn_ns : 1; /* 0: taken again */
    learn_scale(c, dir, p);
    win = p->win; /* as tshark: the header's window; only window_full scales it */
    if (!f->base_set) {
        f->base_set = 1;
        f->base_seq = fl & NR_TCP_SYN ? seq : seq - 1;
    }
    if (!r->base_set && (fl & NR_TCP_ACK)) {
        r->base_set = 1;
        r->base_seq = ack - 1;
    }
    t = window_checks(c, dir, p, seglen, win);
    if (!(t & F(NR_TA_DUP_ACK)))
        f->dupacks = 0;
    else
        f->dupacks = f->dupacks < 0 ? 1 : f->dupacks + 1;
    /* ACKed unseen: once per missing run; while the sender of those bytes
     * sends no new ACK, further ACKs past them are not flagged again */
    if (r->maxseqtobeacked && sd(ack, r->maxseqtobeacked) > 0 && (fl & NR_TCP_ACK)) {
        if (r->maxseqtobeacked > r->nextseq) { /* as tshark: plain numbers, not modulo 2^32 */
            r->maxseqtobeacked = r->nextseq;
            t |= F(NR_TA_ACK_LOST);
        } else if (r->dupacks == 0) {
            t |= F(NR_TA_ACK_LOST);
            r->dupacks = -1;
        }
    }
    if ((seglen > 0 || (fl & (NR_TCP_SYN | NR_TCP_FIN))) && !(t & F(NR_TA_KEEP_ALIVE)))
        t |= rexmit_class(c, dir, p, seglen, ts);
    nextseq = seq + seglen + ((fl & (NR_TCP_SYN | NR_TCP_FIN)) ? 1 : 0);
    if (!(t & F(NR_TA_ZERO_WIN_PROBE))) {
        if (!f->nextseq || sd(nextseq, f->nextseq) > 0) {
            f->nextseq = nextseq;
            f->nextseq_ns = ts;
        }
        if (!f->maxseqtobeacked || seq == f->maxseqtobeacked)
            f->maxseqtobeacked = f->nextseq;
    }
    f->window = win;
    f->lastack = ack;
    f->lastack_ns = ts;
    f->last_flags = t;
    for (int k = 0; k < NR_TA_COUNT; k++)
        if (t & F(k))
            c->ta[dir][k]++;
}

void nr_flow_ana_init(struct nr_conn *c)
{
    memset(c->tsa, 0, sizeof(c->tsa));
    c->tsa[0].win_scale = c->tsa[1].win_scale = -1;
}

int nr_flow_ana_splits(const struct nr_conn *c, int dir, const struct nr_pkt *p)
{
    return (p->flags & (NR_TCP_SYN | NR_TCP_ACK)) == NR_TCP_SYN && c->tsa[dir].base_set &&
           p->seq != c->tsa[dir].base_seq;
}

const char *nr_ta_name(int flag)
{
    static const char *const names[NR_TA_COUNT] = {
        "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
        "lost_segment", "ack_lost_segment", "zero_window", "zero_window_probe", "window_full",
        "window_update", "duplicate_ack", "keep_alive", "keep_alive_ack",
    };
    return flag >= 0 && flag < NR_TA_COUNT ? names[flag] : "?";
}
