/* Unit tests of the capture analysis (nr_flow.c, nr_flow_tcp.c,
 * nr_flow_ana.c) written for make mutate's survivors: tshark's analysis
 * flags packet by packet (zero-window probes, window updates and full
 * windows with and without window scaling, keep-alives, duplicate ACKs and
 * fast retransmissions inside and outside their 20 ms, out-of-order against
 * the handshake RTT, lost and ACKed-unseen segments), and zeek's per-side
 * facts (which side reset or finished first, FIN positions after a role
 * flip, sizes across a sequence wrap).  The expected flags are tshark
 * 4.0's: with NR_TEST_PCAP_DIR set, every case is also written to
 * DIR/<case>.pcap with the flags netrig gave each frame on stdout, to be
 * compared with `tshark -r DIR/<case>.pcap -T fields -e frame.number -e
 * tcp.analysis.flags ...`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heap_exact.h"

#include "nr_flow_int.h"
#include "pktgen.h"

#define S NR_TCP_SYN
#define A NR_TCP_ACK
#define F NR_TCP_FIN
#define R NR_TCP_RST
#define P NR_TCP_PSH
#define MS 1000000LL
#define MAX_CONNS 8

/* One packet of a case: sequence and acknowledgement numbers relative to
 * the sender's and the receiver's initial sequence numbers. */
struct step {
    int dir;          /* 0 client -> server, 1 back */
    int fl;           /* NR_TCP_* */
    int64_t seq, ack; /* relative; ack is sent only with A */
    uint16_t len;     /* payload bytes ('a'...) */
    uint16_t win;
    int64_t dt_ms;    /* capture time since the previous packet (0: 1 ms, -1: none) */
    int wscale;       /* window scale option (SYN only), -1: none */
    const char *want; /* tshark's analysis flags on this packet, by name (NULL: not checked) */
};

/* A case: its packets and the two initial sequence numbers. */
struct flow_case {
    const char *name;
    uint32_t isn[2];
    const struct step *steps;
    size_t n;
    uint16_t server_port; /* 0: 8080, one of zeek's likely server ports */
};

/* A TCP segment with an optional window scale option. */
static size_t frame_of(uint8_t *b, const struct flow_case *fc, const struct step *s)
{
    static const uint8_t data[20000] = { 'a' };
    uint32_t ip[2] = { 0x0a000001, 0x0a000002 };
    uint16_t port[2] = { 40000, fc->server_port ? fc->server_port : 8080 };
    size_t hl = s->wscale >= 0 ? 24 : 20, h;
    uint8_t *t;

    h = pg_eth_ip4(b, ip[s->dir], ip[!s->dir], 6, hl + s->len);
    t = b + h;
    memset(t, 0, hl);
    pg_be16(t, port[s->dir]);
    pg_be16(t + 2, port[!s->dir]);
    pg_be32(t + 4, fc->isn[s->dir] + (uint32_t)s->seq);
    pg_be32(t + 8, (s->fl & A) ? fc->isn[!s->dir] + (uint32_t)s->ack : 0);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = (uint8_t)s->fl;
    pg_be16(t + 14, s->win);
    if (s->wscale >= 0) {
        t[20] = 3;
        t[21] = 3;
        t[22] = (uint8_t)s->wscale;
        t[23] = 1;
    }
    memcpy(t + hl, data, s->len);
    return h + hl + s->len;
}

/* Names of the flags set in counts now[] that were not in before[]. */
static void flags_raised(const uint32_t before[2][NR_TA_COUNT], const struct nr_conn *c,
                         char *buf, size_t len)
{
    size_t at = 0;

    buf[0] = '\0';
    for (int k = 0; k < NR_TA_COUNT; k++)
        if (c->ta[0][k] + c->ta[1][k] != before[0][k] + before[1][k])
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "", nr_ta_name(k));
}

/* Feed the case packet by packet; fail on the first packet whose flags are
 * not tshark's.  Returns the table (the caller frees it). */
static struct nr_flowtab *run_case(const struct flow_case *fc)
{
    struct nr_flow_opts keep = { .keep_data = 1 }; /* a failure to keep shows as -1 */
    struct nr_flowtab *ft = nr_flowtab_new(&keep);
    const char *dir = getenv("NR_TEST_PCAP_DIR");
    struct pg_sink dump = { 0 };
    static uint8_t frame[PG_MAXFRAME];
    int64_t t = 1000 * MS;
    char path[512], got[256];
    static uint32_t snap[MAX_CONNS][2][NR_TA_COUNT];

    assert_non_null(ft);
    if (dir && *dir) {
        snprintf(path, sizeof(path), "%s/%s.pcap", dir, fc->name);
        assert_int_equal(pg_open_file(&dump, path), 0);
    }
    for (size_t i = 0; i < fc->n; i++) {
        const struct step *s = &fc->steps[i];
        uint32_t before[2][NR_TA_COUNT] = { { 0 } };
        const struct nr_conn *c;
        struct nr_pkt p;
        size_t n = frame_of(frame, fc, s), had = nr_flowtab_count(ft);
        long ci;

        t += (s->dt_ms < 0 ? 0 : s->dt_ms ? s->dt_ms : 1) * MS;
        assert_int_equal(nr_pkt_decode(DLT_EN10MB, frame, n, &p), NR_PKT_TCP);
        for (size_t k = 0; k < had && k < MAX_CONNS; k++)
            memcpy(snap[k], nr_flowtab_conn(ft, k)->ta, sizeof(snap[k]));
        ci = nr_flowtab_add(ft, &p, t, (uint32_t)n);
        assert_true(ci >= 0 && ci < MAX_CONNS);
        c = nr_flowtab_conn(ft, (size_t)ci);
        if ((size_t)ci < had) /* else a new connection: everything it has is new */
            memcpy(before, snap[ci], sizeof(before));
        flags_raised(before, c, got, sizeof(got));
        if (dump.dump) {
            dump.t_ns = t - MS; /* pg_emit adds 1 ms */
            pg_emit(&dump, frame, n);
            printf("%s\t%zu\t%s\n", fc->name, i + 1, got);
        } else if (s->want && strcmp(got, s->want)) {
            fail_msg("%s, frame %zu: flags '%s', tshark's '%s'", fc->name, i + 1, got, s->want);
        }
    }
    pg_close_file(&dump);
    nr_flowtab_finish(ft);
    return ft;
}

#define CASE(nm, c, s, st) { nm, { c, s }, st, sizeof(st) / sizeof(st[0]), 0 }
#define W 8192

static void check_case(const struct flow_case *fc)
{
    nr_flowtab_free(run_case(fc));
}

/* The handshake of most cases: no window scaling. */
#define HS                                                                                         \
    { 0, S, 0, 0, 0, W, 0, -1, "" }, { 1, S | A, 0, 1, 0, W, 0, -1, "" },                          \
    { 0, A, 1, 1, 0, W, 0, -1, "" }

/* Zero window, a 1-byte probe at the next sequence number, its ACK (not a
 * flag of its own: tshark's zero_window_probe_ack is not counted), a second
 * probe, then the window opens. */
static const struct step zwp[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, A, 1, 11, 0, 0, 0, -1, "zero_window" },
    { 0, P | A, 11, 1, 1, W, 0, -1, "zero_window_probe" },
    { 1, A, 1, 11, 0, 0, 0, -1, "zero_window" },
    { 0, P | A, 11, 1, 1, W, 0, -1, "zero_window_probe" },
    { 1, A, 1, 11, 0, W, 0, -1, "window_update" },
    { 0, P | A, 11, 1, 2, W, 0, -1, "" },
    { 1, A, 1, 13, 0, W, 0, -1, "" },
};

/* A window change alone is a window update; the same ACK again is a
 * duplicate ACK; a changed ACK with a new window is neither. */
static const struct step winupd[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, A, 1, 11, 0, 1000, 0, -1, "" },
    { 1, A, 1, 11, 0, 2000, 0, -1, "window_update" },
    { 1, A, 1, 11, 0, 2000, 0, -1, "duplicate_ack" },
    { 0, P | A, 11, 1, 10, W, 0, -1, "" },
    { 1, A, 1, 21, 0, 3000, 0, -1, "" },
};

/* Keep-alives: a segment one below the next sequence number, empty or with
 * one byte; the peer's unchanged ACK while the sender's last segment was one
 * is a keep-alive ACK, after new data a duplicate ACK. */
static const struct step keepalive[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, A, 1, 11, 0, W, 0, -1, "" },
    { 0, A, 10, 1, 0, W, 500, -1, "keep_alive" },
    { 1, A, 1, 11, 0, W, 0, -1, "keep_alive_ack" },
    { 0, A, 10, 1, 1, W, 500, -1, "keep_alive" },
    { 1, A, 1, 11, 0, W, 0, -1, "keep_alive_ack" },
    { 1, A, 1, 11, 0, W, 0, -1, "keep_alive_ack" }, /* the client's last was one still */
    { 0, P | A, 11, 1, 5, W, 0, -1, "" },
    { 1, A, 1, 11, 0, W, 0, -1, "duplicate_ack" },
};

/* Bytes 101-200 lost, the ACK of the first 100 and one duplicate of it. */
#define LOST_AND_DUP                                                                               \
    { 0, P | A, 1, 1, 100, W, 0, -1, "" }, { 0, P | A, 201, 1, 100, W, 0, -1, "lost_segment" },    \
    { 1, A, 1, 101, 0, W, 0, -1, "" }, { 1, A, 1, 101, 0, W, 0, -1, "duplicate_ack" }

/* A lost segment, two duplicate ACKs, the resend 1 ms later: a fast
 * retransmission; the first resend's ACK acknowledges everything. */
static const struct step fastrx[] = {
    HS, LOST_AND_DUP,
    { 1, A, 1, 101, 0, W, 0, -1, "duplicate_ack" },
    { 0, P | A, 101, 1, 100, W, 1, -1, "retransmission fast_retransmission" },
    { 1, A, 1, 301, 0, W, 0, -1, "" },
};

/* The same with one duplicate ACK only, and with the resend 25 ms after
 * the last ACK: retransmissions, not fast ones. */
static const struct step onedup[] = {
    HS, LOST_AND_DUP,
    { 0, P | A, 101, 1, 100, W, 30, -1, "retransmission" },
};
static const struct step lateresend[] = {
    HS, LOST_AND_DUP,
    { 1, A, 1, 101, 0, W, 0, -1, "duplicate_ack" },
    { 0, P | A, 101, 1, 100, W, 25, -1, "retransmission" },
};
/* A resend that is not the segment the duplicate ACKs asked for. */
static const struct step otherresend[] = {
    HS,
    { 0, P | A, 1, 1, 100, W, 0, -1, "" },
    { 0, P | A, 101, 1, 100, W, 0, -1, "" },
    { 0, P | A, 301, 1, 100, W, 0, -1, "lost_segment" },
    { 1, A, 1, 201, 0, W, 0, -1, "" },
    { 1, A, 1, 201, 0, W, 0, -1, "duplicate_ack" },
    { 1, A, 1, 201, 0, W, 0, -1, "duplicate_ack" },
    { 0, P | A, 101, 1, 100, W, 1, -1, "retransmission spurious_retransmission" },
};

/* Out of order against the handshake RTT (40 ms here): a segment behind
 * the next sequence number 30 ms after it is out of order, one 50 ms after
 * is a retransmission. */
static const struct step ooo_rtt[] = {
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 1, S | A, 0, 1, 0, W, 20, -1, "" },
    { 0, A, 1, 1, 0, W, 20, -1, "" },
    { 0, P | A, 101, 1, 100, W, 0, -1, "lost_segment" },
    { 0, P | A, 1, 1, 100, W, 30, -1, "out_of_order" },
    { 0, P | A, 301, 1, 100, W, 0, -1, "lost_segment" },
    { 0, P | A, 201, 1, 100, W, 50, -1, "retransmission" },
};
/* Without a handshake the threshold is 3 ms. */
static const struct step ooo_nortt[] = {
    { 0, P | A, 1, 1, 100, W, 0, -1, "" },
    { 0, P | A, 201, 1, 100, W, 0, -1, "lost_segment" },
    { 0, P | A, 101, 1, 100, W, 2, -1, "out_of_order" },
    { 0, P | A, 401, 1, 100, W, 0, -1, "lost_segment" },
    { 0, P | A, 301, 1, 100, W, 4, -1, "retransmission" },
};

/* Within the 3 ms, a resend ending one short of the next sequence number
 * is out of order; one ending exactly at it is a retransmission. */
/* One byte missing is a lost segment too. */
static const struct step lost_one_byte[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 0, P | A, 12, 1, 10, W, 0, -1, "lost_segment" },
    { 0, P | A, 22, 1, 10, W, 0, -1, "" },
};

static const struct step resend_to_next[] = {
    { 0, P | A, 1, 1, 100, W, 0, -1, "" },
    { 0, P | A, 101, 1, 100, W, 0, -1, "" },
    { 0, P | A, 101, 1, 99, W, 1, -1, "out_of_order" },
    { 0, P | A, 101, 1, 100, W, 1, -1, "retransmission" },
    { 0, P | A, 51, 1, 150, W, -1, -1, "retransmission" },
};

/* Spurious: data the peer had acknowledged already. */
static const struct step spurious[] = {
    HS,
    { 0, P | A, 1, 1, 20, W, 0, -1, "" },
    { 1, A, 1, 21, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 20, W, 500, -1, "retransmission spurious_retransmission" },
    { 0, P | A, 11, 1, 10, W, 500, -1, "retransmission spurious_retransmission" },
    { 0, P | A, 1, 1, 21, W, 500, -1, "retransmission" }, /* one byte past the ACK */
};

/* ACKed unseen: the peer acknowledges bytes never captured. */
static const struct step ackunseen[] = {
    HS,
    { 0, P | A, 1, 1, 20, W, 0, -1, "" },
    { 1, A, 1, 41, 0, W, 0, -1, "ack_lost_segment" },
    { 0, P | A, 41, 1, 20, W, 0, -1, "lost_segment" },
    { 1, A, 1, 61, 0, W, 0, -1, "ack_lost_segment" },
};

/* Window full without scaling (one side offered none): the segment that
 * ends exactly at the peer's window edge. */
static const struct step winfull[] = {
    { 0, S, 0, 0, 0, W, 0, 7, "" },
    { 1, S | A, 0, 1, 0, 100, 0, -1, "" },
    { 0, A, 1, 1, 0, 100, 0, -1, "" },
    { 0, P | A, 1, 1, 60, 100, 0, -1, "" },
    { 0, P | A, 61, 1, 40, 100, 0, -1, "window_full" },
    { 1, A, 1, 101, 0, 100, 0, -1, "" },
};
/* With scaling on both sides (client 2, server 1): the server's window of
 * 50 is 100 bytes.  tshark compares the header's windows (50 after the
 * SYN-ACK's 100 is a window update, not a duplicate ACK) and scales only
 * for window_full. */
static const struct step winfull_scaled[] = {
    { 0, S, 0, 0, 0, W, 0, 2, "" },
    { 1, S | A, 0, 1, 0, 100, 0, 1, "" },
    { 0, A, 1, 1, 0, 100, 0, -1, "" },
    { 1, A, 1, 1, 0, 50, 0, -1, "window_update" },
    { 0, P | A, 1, 1, 60, 100, 0, -1, "" },
    { 0, P | A, 61, 1, 40, 100, 0, -1, "window_full" },
    { 1, A, 1, 101, 0, 50, 0, -1, "" },
};

/* tshark clamps a window scale above 14 to 14: the server's window of 1
 * is 16384 bytes. */
static const struct step scale_clamped[] = {
    { 0, S, 0, 0, 0, W, 0, 0, "" },
    { 1, S | A, 0, 1, 0, W, 0, 15, "" },
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 1, A, 1, 1, 0, 1, 0, -1, "window_update" },
    { 0, P | A, 1, 1, 16384, W, 0, -1, "window_full" },
};
/* Only the server offers a scale: not negotiated, the window is as sent
 * (netrig scaled it by the server's offer before 2026-12-02). */
static const struct step scale_one_sided[] = {
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 1, S | A, 0, 1, 0, 100, 0, 2, "" },
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 100, W, 0, -1, "window_full" },
};
/* The SYN-ACK (with a scale) seen before the SYN (without): the SYN turns
 * scaling off both ways. */
static const struct step scale_synack_first[] = {
    { 1, S | A, 0, 1, 0, 100, 0, 2, "" },
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 100, W, 0, -1, "window_full" },
};
/* No handshake seen: the scale is unknown, so no window is ever full. */
static const struct step scale_unknown[] = {
    { 1, A, 1, 1, 0, 100, 0, -1, "" },
    { 0, P | A, 1, 1, 100, W, 0, -1, "" },
    { 1, A, 1, 101, 0, 100, 0, -1, "" },
};
/* A SYN with the first ISN again after the close: zeek starts a second
 * connection, tshark keeps the stream (and its analysis): the SYN is a
 * retransmission there. */
static const struct step closed_same_isn[] = {
    HS,
    { 0, F | A, 1, 1, 0, W, 0, -1, "" },
    { 1, F | A, 1, 2, 0, W, 0, -1, "" },
    { 0, A, 2, 2, 0, W, 0, -1, "" },
    { 0, S, 0, 0, 0, W, 0, -1, "retransmission" },
    { 1, S | A, 0, 1, 0, W, 0, -1, "retransmission" },
};
/* Midstream, then a SYN from the server at the sequence number the
 * client's first ACK implied: zeek's new connection, tshark's same stream. */
static const struct step midstream_server_syn[] = {
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 1, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, S, 0, 0, 0, W, 0, -1, "out_of_order" },
};
/* The same with a SYN at another number: a new stream for tshark too. */
static const struct step midstream_server_new_syn[] = {
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 1, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, S, 5000, 0, 0, W, 0, -1, "" },
};

/* Probes of tshark's finer rules (expectations filled from tshark). */
static const struct step ack_lost_twice[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, A, 1, 31, 0, W, 0, -1, "ack_lost_segment" },
    { 1, P | A, 1, 31, 7, W, 0, -1, "" },
    { 1, A, 8, 31, 0, W, 0, -1, "duplicate_ack" },
    { 1, A, 8, 31, 0, W, 0, -1, "duplicate_ack" },
    { 0, A, 11, 8, 0, W, 0, -1, "" },
    { 1, A, 8, 31, 0, W, 0, -1, "ack_lost_segment duplicate_ack" },
};
static const struct step one_below_next[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 0, P | A, 10, 1, 5, W, 0, -1, "" },
    { 0, P | A, 14, 1, 2, W, 500, -1, "" }, /* two bytes: not a keep-alive */
    { 0, P | A, 15, 1, 1, W, 500, -1, "keep_alive" },
};
static const struct step spurious_fast[] = {
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 1, S | A, 0, 1, 0, W, 20, -1, "" },
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 20, W, 0, -1, "" },
    { 1, A, 1, 21, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 10, W, 0, -1, "retransmission spurious_retransmission" },
};
static const struct step fin_resend_fast[] = {
    HS,
    { 0, F | A, 1, 1, 0, W, 0, -1, "" },
    { 0, F | A, 1, 1, 0, W, 0, -1, "retransmission" },
};

/* Midstream, closed, then a SYN at the number before the first byte seen:
 * zeek's new connection, tshark's same stream (its base was seq - 1). */
static const struct step midstream_closed_syn[] = {
    { 0, P | A, 1, 1, 5, W, 0, -1, "" },
    { 1, A, 1, 6, 0, W, 0, -1, "" },
    { 0, F | A, 6, 1, 0, W, 0, -1, "" },
    { 1, F | A, 1, 7, 0, W, 0, -1, "" },
    { 0, A, 7, 2, 0, W, 0, -1, "" },
    { 0, S, 0, 0, 0, W, 0, -1, "retransmission" },
};

/* ACKed unseen across the client's sequence wrap (tshark compares the
 * highest number to be ACKed with the next one as plain numbers). */
static const struct step ack_lost_across_wrap[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 0, P | A, 21, 1, 10, W, 0, -1, "lost_segment" },
    { 1, A, 1, 41, 0, W, 0, -1, "ack_lost_segment" },
    { 1, P | A, 1, 41, 5, W, 0, -1, "ack_lost_segment" },
    { 1, A, 6, 41, 0, W, 0, -1, "duplicate_ack" },
};

/* A one-byte FIN one below the next sequence number (not a keep-alive: it
 * carries a FIN). */
static const struct step fin_one_below[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 0, F | A, 10, 1, 1, W, 0, -1, "out_of_order" },
};

/* One byte fills a window of one. */
static const struct step winfull_one[] = {
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 1, S | A, 0, 1, 0, 1, 0, -1, "" },
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 1, W, 0, -1, "window_full" },
};
/* A handshake within one timestamp: no RTT, the 3 ms threshold. */
static const struct step rtt_zero[] = {
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 1, S | A, 0, 1, 0, W, -1, -1, "" },
    { 0, A, 1, 1, 0, W, -1, -1, "" },
    { 0, P | A, 101, 1, 100, W, 0, -1, "lost_segment" },
    { 0, P | A, 1, 1, 100, W, 2, -1, "retransmission" },
};

/* The same with the data at that timestamp too and the resend on a FIN
 * (which never takes the RTT). */
static const struct step rtt_zero_fin[] = {
    { 0, S, 0, 0, 0, W, 0, -1, "" },
    { 1, S | A, 0, 1, 0, W, -1, -1, "" },
    { 0, A, 1, 1, 0, W, -1, -1, "" },
    { 0, P | A, 101, 1, 100, W, -1, -1, "lost_segment" },
    { 0, F | A, 1, 1, 100, W, 2, -1, "out_of_order" },
};

/* The server's first bytes seen are not its first (ten lost), then its
 * SYN at the number the client's ACK implied: tshark's base came from
 * that ACK. */
static const struct step midstream_server_gap_syn[] = {
    { 0, A, 1, 1, 0, W, 0, -1, "" },
    { 1, P | A, 11, 1, 10, W, 0, -1, "" },
    { 1, S, 0, 0, 0, W, 0, -1, "out_of_order" },
};
/* An ACK one byte past what was sent. */
static const struct step ack_one_past[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, A, 1, 12, 0, W, 0, -1, "ack_lost_segment" },
};

/* Duplicate ACKs from a side whose own bytes were just ACKed unseen. */
static const struct step dup_after_ack_lost[] = {
    HS,
    { 0, P | A, 1, 1, 10, W, 0, -1, "" },
    { 1, P | A, 1, 1, 10, W, 0, -1, "" },
    { 0, A, 11, 31, 0, W, 0, -1, "ack_lost_segment" },
    { 1, A, 11, 1, 0, W, 0, -1, "duplicate_ack" },
    { 1, A, 11, 1, 0, W, 0, -1, "duplicate_ack" },
    { 0, P | A, 1, 31, 10, W, 0, -1, "retransmission fast_retransmission" },
};

static void tshark_flags_per_packet(void **state)
{
    static const struct flow_case cases[] = {
        CASE("zero-window-probe", 1000, 5000, zwp),
        CASE("window-update", 1000, 5000, winupd),
        CASE("keep-alive", 1000, 5000, keepalive),
        CASE("fast-retransmission", 1000, 5000, fastrx),
        CASE("one-dup-ack", 1000, 5000, onedup),
        CASE("resend-after-20ms", 1000, 5000, lateresend),
        CASE("other-resend", 1000, 5000, otherresend),
        CASE("out-of-order-rtt", 1000, 5000, ooo_rtt),
        CASE("out-of-order-no-rtt", 1000, 5000, ooo_nortt),
        CASE("resend-to-next", 1000, 5000, resend_to_next),
        CASE("lost-one-byte", 1000, 5000, lost_one_byte),
        CASE("spurious", 1000, 5000, spurious),
        CASE("ack-unseen", 1000, 5000, ackunseen),
        CASE("window-full", 1000, 5000, winfull),
        CASE("window-full-scaled", 1000, 5000, winfull_scaled),
        CASE("wrap-fast-retransmission", 0xffffff80u, 0xfffffff0u, fastrx),
        CASE("wrap-window-update", 0xfffffff5u, 0xfffffffeu, winupd),
        CASE("scale-clamped", 1000, 5000, scale_clamped),
        CASE("scale-one-sided", 1000, 5000, scale_one_sided),
        CASE("scale-unknown", 1000, 5000, scale_unknown),
        CASE("scale-synack-first", 1000, 5000, scale_synack_first),
        CASE("closed-same-isn", 1000, 5000, closed_same_isn),
        CASE("midstream-server-syn", 1000, 5000, midstream_server_syn),
        CASE("midstream-server-new-syn", 1000, 5000, midstream_server_new_syn),
        CASE("ack-lost-twice", 1000, 5000, ack_lost_twice),
        CASE("one-below-next", 1000, 5000, one_below_next),
        CASE("spurious-fast", 1000, 5000, spurious_fast),
        CASE("fin-resend-fast", 1000, 5000, fin_resend_fast),
        CASE("dup-after-ack-lost", 1000, 5000, dup_after_ack_lost),
        CASE("midstream-closed-syn", 1000, 5000, midstream_closed_syn),
        CASE("ack-lost-across-wrap", 0xfffffff0u, 5000, ack_lost_across_wrap),
        CASE("fin-one-below", 1000, 5000, fin_one_below),
        CASE("window-full-one-byte", 1000, 5000, winfull_one),
        CASE("rtt-zero", 1000, 5000, rtt_zero),
        CASE("rtt-zero-fin", 1000, 5000, rtt_zero_fin),
        CASE("midstream-server-gap-syn", 1000, 5000, midstream_server_gap_syn),
        CASE("ack-one-past", 1000, 5000, ack_one_past),
        CASE("ack-lost-twice-wrap", 0xfffffffau, 0xfffffff0u, ack_lost_twice),
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
    assert_string_equal(nr_ta_name(NR_TA_RETRANS), "retransmission");
    assert_string_equal(nr_ta_name(NR_TA_KEEP_ALIVE_ACK), "keep_alive_ack");
    assert_string_equal(nr_ta_name(NR_TA_COUNT), "?");
    assert_string_equal(nr_ta_name(-1), "?");
}

/* --- zeek's side and the table --------------------------------------------- */

/* nr_flow_flip swaps every per-direction field (nr_flow_int.h), flips the
 * direction-valued ones and appends '^'; flipping twice restores all. */
static void fill_side(struct nr_conn *c, int d)
{
    unsigned v = (unsigned)d + 1;

    memset(c->addr[d], (int)(0x10 * v), 16);
    c->port[d] = (uint16_t)(100 * v);
    c->pkts[d] = v;
    c->bytes[d] = 10 * v;
    c->ip_bytes[d] = 20 * v;
    c->payload[d] = 30 * v;
    c->state[d] = (uint8_t)v;
    c->prev_state[d] = (uint8_t)(v + 2);
    c->syn_seen[d] = (uint8_t)(d == 0);
    c->isn[d] = 1000 * v;
    c->retrans[d] = 40 * v;
    c->ooo[d] = 50 * v;
    c->zero_win[d] = 60 * v;
    c->syn_opt[d].mss = (uint16_t)(70 * v);
    c->rs[d].next = 80 * v;
    c->zep[d].start_seq = 90 * v;
    c->tsa[d].base_seq = 110 * v;
    c->fin_seq[d] = 120 * v;
    c->stream[d].len = 130 * v;
    for (int k = 0; k < NR_TA_COUNT; k++)
        c->ta[d][k] = (uint32_t)(k * 10) + v;
}

static void check_side(const struct nr_conn *c, int d, unsigned v)
{
    uint8_t a[16];

    memset(a, (int)(0x10 * v), 16);
    assert_memory_equal(c->addr[d], a, 16);
    assert_int_equal(c->port[d], 100 * v);
    assert_int_equal(c->pkts[d], v);
    assert_int_equal(c->bytes[d], 10 * v);
    assert_int_equal(c->ip_bytes[d], 20 * v);
    assert_int_equal(c->payload[d], 30 * v);
    assert_int_equal(c->state[d], v);
    assert_int_equal(c->prev_state[d], v + 2);
    assert_int_equal(c->syn_seen[d], v == 1);
    assert_int_equal(c->isn[d], 1000 * v);
    assert_int_equal(c->retrans[d], 40 * v);
    assert_int_equal(c->ooo[d], 50 * v);
    assert_int_equal(c->zero_win[d], 60 * v);
    assert_int_equal(c->syn_opt[d].mss, 70 * v);
    assert_int_equal(c->rs[d].next, 80 * v);
    assert_int_equal(c->zep[d].start_seq, 90 * v);
    assert_int_equal(c->tsa[d].base_seq, 110 * v);
    assert_int_equal(c->fin_seq[d], 120 * v);
    assert_int_equal(c->stream[d].len, 130 * v);
    for (int k = 0; k < NR_TA_COUNT; k++)
        assert_int_equal(c->ta[d][k], (unsigned)(k * 10) + v);
}

static void flip_swaps_every_side(void **state)
{
    struct nr_conn *c = calloc(1, sizeof(*c));
    struct nr_chunk ch[3] = { { .dir = 0 }, { .dir = 1 }, { .dir = 0 } };

    (void)state;
    assert_non_null(c);
    fill_side(c, 0);
    fill_side(c, 1);
    c->first_fin = 0;
    c->first_rst = 1;
    c->rst_dirs = 1;
    c->fin_kept = 2;
    c->fin_pending = 1;
    c->fin_seen = 2;
    c->first_seen = 1;
    c->chunks = ch;
    c->nchunks = 3;
    nr_flow_flip(c);
    check_side(c, 0, 2);
    check_side(c, 1, 1);
    assert_int_equal(c->first_fin, 1);
    assert_int_equal(c->first_rst, 0);
    assert_int_equal(c->rst_dirs, 2);
    assert_int_equal(c->fin_kept, 1);
    assert_int_equal(c->fin_pending, 2);
    assert_int_equal(c->fin_seen, 1);
    assert_int_equal(c->first_seen, 2);
    assert_int_equal(ch[0].dir, 1);
    assert_int_equal(ch[1].dir, 0);
    assert_int_equal(ch[2].dir, 1);
    assert_true(c->flipped);
    assert_string_equal(c->history, "^");
    /* first FIN and RST flip back (0 is a direction too) */
    nr_flow_flip(c);
    assert_int_equal(c->first_fin, 0);
    assert_int_equal(c->first_rst, 1);
    assert_int_equal(c->rst_dirs, 1);
    assert_int_equal(c->fin_kept, 2);
    assert_int_equal(c->fin_pending, 1);
    assert_int_equal(c->fin_seen, 2);
    assert_int_equal(c->first_seen, 1);
    nr_flow_flip(c);
    assert_int_equal(c->first_rst, 0);
    assert_int_equal(c->first_fin, 1);
    /* both bits set, none set, no first FIN or RST: unchanged */
    c->rst_dirs = 3;
    c->fin_kept = 0;
    c->fin_pending = 3;
    c->fin_seen = 0;
    c->first_seen = 3;
    c->first_fin = c->first_rst = -1;
    nr_flow_flip(c);
    check_side(c, 0, 1);
    check_side(c, 1, 2);
    assert_int_equal(c->rst_dirs, 3);
    assert_int_equal(c->fin_kept, 0);
    assert_int_equal(c->fin_pending, 3);
    assert_int_equal(c->fin_seen, 0);
    assert_int_equal(c->first_seen, 3);
    assert_int_equal(c->first_fin, -1);
    assert_int_equal(c->first_rst, -1);
    assert_string_equal(c->history, "^^^^");
    free(c);
}

static void check_chunk(const struct nr_conn *c, size_t i, int dir, int kind, uint64_t off,
                        uint64_t len, uint64_t soff)
{
    const struct nr_chunk *k = &c->chunks[i];

    if (i >= c->nchunks || k->dir != dir || k->kind != kind || k->off != off || k->len != len ||
        k->soff != soff)
        fail_msg("chunk %zu of %zu: dir %d kind %d off %llu len %llu soff %llu, want %d %d %llu "
                 "%llu %llu", i, c->nchunks, k->dir, k->kind, (unsigned long long)k->off,
                 (unsigned long long)k->len, (unsigned long long)k->soff, dir, kind,
                 (unsigned long long)off, (unsigned long long)len, (unsigned long long)soff);
}

/* nr_flow_keep: a run merges with the last chunk when it has the same
 * direction and kind (never a FIN, never with merge 0); DATA bytes go to
 * the direction's buffer; soff is the stream offset (UDP: bytes before). */
static void keep_merges_and_grows(void **state)
{
    struct nr_conn *c = calloc(1, sizeof(*c));
    static uint8_t big[10000];

    (void)state;
    assert_non_null(c);
    c->proto = IPPROTO_UDP;
    c->last_ns = 77;
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_DATA, (const uint8_t *)"ab", 2, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_DATA, (const uint8_t *)"cd", 2, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_DATA, (const uint8_t *)"ef", 2, 0), 0);
    assert_int_equal(nr_flow_keep(c, 1, NR_CHUNK_DATA, (const uint8_t *)"x", 1, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_DATA, (const uint8_t *)"g", 1, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_FIN, NULL, 0, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_FIN, NULL, 0, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_GAP, NULL, 3, 1), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_GAP, NULL, 2, 1), 0);
    check_chunk(c, 0, 0, NR_CHUNK_DATA, 0, 4, 0);
    check_chunk(c, 1, 0, NR_CHUNK_DATA, 4, 2, 4);
    check_chunk(c, 2, 1, NR_CHUNK_DATA, 0, 1, 0);
    check_chunk(c, 3, 0, NR_CHUNK_DATA, 6, 1, 6);
    check_chunk(c, 4, 0, NR_CHUNK_FIN, 7, 0, 7);
    check_chunk(c, 5, 0, NR_CHUNK_FIN, 7, 0, 7);
    check_chunk(c, 6, 0, NR_CHUNK_GAP, 7, 5, 7);
    assert_int_equal(c->nchunks, 7);
    assert_int_equal(c->chunks[0].ts_ns, 77);
    assert_int_equal(c->stream[0].len, 7);
    assert_memory_equal(c->stream[0].data, "abcdefg", 7);
    /* more chunks than the first allocation, more bytes than the first buffer */
    for (int i = 0; i < 30; i++) {
        big[i] = (uint8_t)i;
        assert_int_equal(nr_flow_keep(c, i & 1, NR_CHUNK_DATA, big + i, 1, 1), 0);
    }
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    assert_int_equal(nr_flow_keep(c, 1, NR_CHUNK_DATA, big, sizeof(big), 0), 0);
    assert_int_equal(c->nchunks, 38);
    check_chunk(c, 36, 1, NR_CHUNK_DATA, 15, 1, 15);
    check_chunk(c, 37, 1, NR_CHUNK_DATA, 16, sizeof(big), 16);
    assert_int_equal(c->stream[1].len, 16 + sizeof(big));
    assert_true(c->stream[1].cap >= c->stream[1].len);
    assert_memory_equal(c->stream[1].data + 16, big, sizeof(big));
    assert_int_equal(c->stream[0].data[7 + 14], 28);
    /* TCP: soff counts the stream's delivered and skipped bytes */
    c->proto = IPPROTO_TCP;
    c->rs[0].delivered = 100;
    c->rs[0].gap_bytes = 5;
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_DATA, (const uint8_t *)"abc", 3, 0), 0);
    assert_int_equal(nr_flow_keep(c, 0, NR_CHUNK_FIN, NULL, 0, 0), 0);
    check_chunk(c, 38, 0, NR_CHUNK_DATA, 22, 3, 102);
    check_chunk(c, 39, 0, NR_CHUNK_FIN, 25, 0, 105);
    free(c->stream[0].data);
    free(c->stream[1].data);
    free(c->chunks);
    free(c);
}

static void endpoints_are_formatted(void **state)
{
    struct nr_conn c;
    char buf[64];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.ipver = 4;
    memcpy(c.addr[0], "\x0a\x00\x00\x01", 4);
    memcpy(c.addr[1], "\xc0\xa8\x01\xfe", 4);
    c.port[0] = 40000;
    c.port[1] = 80;
    assert_string_equal(nr_conn_endpoint(&c, 0, buf, sizeof(buf)), "10.0.0.1:40000");
    assert_string_equal(nr_conn_endpoint(&c, 1, buf, sizeof(buf)), "192.168.1.254:80");
    c.ipver = 6;
    memset(c.addr[1], 0, 16);
    c.addr[1][15] = 1;
    assert_string_equal(nr_conn_endpoint(&c, 1, buf, sizeof(buf)), "[::1]:80");
}

/* A UDP or TCP packet built as nr_pkt_decode leaves it (garbage beyond an
 * IPv4 address, as in a reused struct). */
static struct nr_pkt mkpkt(int ipver, int proto, uint32_t src, uint16_t sport, uint32_t dst,
                           uint16_t dport, int flags)
{
    struct nr_pkt p;

    memset(&p, 0xee, sizeof(p));
    p.ipver = (uint8_t)ipver;
    p.proto = (uint8_t)proto;
    p.fragment = 0;
    p.reason = 0;
    p.iplen = 28;
    pg_be32(p.src, src);
    pg_be32(p.dst, dst);
    if (ipver == 6) {
        memset(p.src + 4, 0, 12);
        memset(p.dst + 4, 0, 12);
    }
    p.sport = sport;
    p.dport = dport;
    p.seq = 1000;
    p.ack = 1;
    p.win = 100;
    p.flags = (uint8_t)flags;
    memset(&p.opt, 0, sizeof(p.opt));
    p.payload = (const uint8_t *)"x";
    p.caplen = p.wirelen = 1;
    return p;
}

/* Thousands of flows: the table grows past its first buckets and still
 * finds every flow from either side; protocol and IP version tell flows
 * apart. */
static void many_flows_are_kept_apart(void **state)
{
    struct nr_flowtab *ft = nr_flowtab_new(NULL);
    enum { N = 3000 };
    struct nr_pkt p;

    (void)state;
    assert_non_null(ft);
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < N; i++) {
            p = mkpkt(4, IPPROTO_UDP, 0x0a000000 + i / 7, (uint16_t)(30000 + i % 7), 0x0b000001,
                      9999, 0);
            assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), (long)i);
        }
    for (uint32_t i = 0; i < N; i += 97) {
        p = mkpkt(4, IPPROTO_UDP, 0x0b000001, 9999, 0x0a000000 + i / 7, (uint16_t)(30000 + i % 7),
                  0);
        assert_int_equal(nr_flowtab_add(ft, &p, 2, 60), (long)i);
    }
    assert_int_equal(nr_flowtab_count(ft), N);
    assert_null(nr_flowtab_conn(ft, N));
    for (uint32_t i = 0; i < N; i++) {
        const struct nr_conn *c = nr_flowtab_conn(ft, i);
        assert_int_equal(c->index, i);
        assert_int_equal(c->pkts[0], 2);
        assert_int_equal(c->pkts[1], i % 97 == 0);
        assert_int_equal(c->bytes[0], 120);
        assert_int_equal(c->ip_bytes[0], 56);
        assert_int_equal(c->payload[0], 2);
    }
    /* the same addresses and ports over TCP, and over IPv6 */
    p = mkpkt(4, IPPROTO_TCP, 0x0a000000, 30000, 0x0b000001, 9999, A);
    assert_int_equal(nr_flowtab_add(ft, &p, 3, 60), N);
    p = mkpkt(6, IPPROTO_UDP, 0x0a000000, 30000, 0x0b000001, 9999, 0);
    assert_int_equal(nr_flowtab_add(ft, &p, 3, 80), N + 1);
    p = mkpkt(6, IPPROTO_UDP, 0x0b000001, 9999, 0x0a000000, 30000, 0);
    assert_int_equal(nr_flowtab_add(ft, &p, 4, 80), N + 1);
    assert_int_equal(nr_flowtab_conn(ft, N + 1)->pkts[1], 1);
    assert_ptr_equal(nr_flowtab_find_ports(ft, IPPROTO_UDP, 9999, 30001), nr_flowtab_conn(ft, 1));
    assert_ptr_equal(nr_flowtab_find_ports(ft, IPPROTO_UDP, 30001, 9999), nr_flowtab_conn(ft, 1));
    assert_ptr_equal(nr_flowtab_find_ports(ft, IPPROTO_TCP, 9999, 30000), nr_flowtab_conn(ft, N));
    assert_null(nr_flowtab_find_ports(ft, IPPROTO_TCP, 9999, 30001));
    assert_null(nr_flowtab_find_ports(ft, IPPROTO_UDP, 9998, 30001));
    nr_flowtab_free(ft);
}

/* The same addresses and ports over UDP, TCP and IPv6 are three flows,
 * for thousands of them (enough that some share a hash bucket). */
static void same_ends_other_protocol_or_version(void **state)
{
    struct nr_flowtab *ft = nr_flowtab_new(NULL);
    enum { N = 3000 };
    struct nr_pkt p;

    (void)state;
    assert_non_null(ft);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t src = 0x0a000000 + i / 50;
        uint16_t sport = (uint16_t)(20000 + i % 50);
        p = mkpkt(4, IPPROTO_UDP, src, sport, 0x0b000001, 53, 0);
        assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 3 * (long)i);
        p = mkpkt(4, IPPROTO_TCP, src, sport, 0x0b000001, 53, A);
        assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 3 * (long)i + 1);
        p = mkpkt(6, IPPROTO_UDP, src, sport, 0x0b000001, 53, 0);
        assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 3 * (long)i + 2);
    }
    assert_int_equal(nr_flowtab_count(ft), 3 * N);
    nr_flowtab_free(ft);
}

/* zeek's originator of a flow's first packet (WantConnection with the
 * likely server ports) and the UDP conn_states. */
static void first_packet_roles(void **state)
{
    static const struct {
        int proto, flags;
        uint16_t sport, dport;
        int flipped;
        const char *state;
    } cases[] = {
        { IPPROTO_UDP, 0, 5000, 53, 0, "S0" },     /* to a server port */
        { IPPROTO_UDP, 0, 53, 5000, 1, "SHR" },    /* from one: the receiver originates */
        { IPPROTO_UDP, 0, 53, 123, 0, "S0" },      /* both server ports */
        { IPPROTO_UDP, 0, 5000, 5001, 0, "S0" },
        { IPPROTO_TCP, S, 8080, 40000, 0, NULL },  /* a SYN never flips */
        { IPPROTO_TCP, S | A, 8080, 40000, 1, NULL },
        { IPPROTO_TCP, A, 8080, 40000, 1, NULL },
        { IPPROTO_TCP, A, 40000, 8080, 0, NULL },
        { IPPROTO_TCP, A, 8080, 80, 0, NULL },     /* both: the lower port is the server */
        { IPPROTO_TCP, A, 80, 8080, 1, NULL },
        { IPPROTO_TCP, A, 80, 80, 0, NULL },       /* the same port: as it came */
        { IPPROTO_TCP, S | A, 80, 8080, 0, NULL }, /* both, a SYN-ACK: as it came */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nr_flowtab *ft = nr_flowtab_new(NULL);
        struct nr_pkt p = mkpkt(4, cases[i].proto, 0x0a000001, cases[i].sport, 0x0a000002,
                                cases[i].dport, cases[i].flags);
        const struct nr_conn *c;
        assert_non_null(ft);
        assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 0);
        c = nr_flowtab_conn(ft, 0);
        if (c->flipped != cases[i].flipped || c->port[0] != (cases[i].flipped ? cases[i].dport : cases[i].sport))
            fail_msg("case %zu (%u -> %u): flipped %d, originator port %u", i, cases[i].sport,
                     cases[i].dport, c->flipped, c->port[0]);
        assert_int_equal(c->pkts[cases[i].flipped], 1);
        if (cases[i].state)
            assert_string_equal(nr_conn_state(c), cases[i].state);
        nr_flowtab_free(ft);
    }
}

/* Feed steps (flags not checked) and return the table. */
static struct nr_flowtab *feed_port(const char *name, uint32_t isn_c, uint32_t isn_s,
                                    const struct step *st, size_t n, uint16_t server_port)
{
    struct flow_case fc = { name, { isn_c, isn_s }, st, n, server_port };
    return run_case(&fc);
}

static struct nr_flowtab *feed(const char *name, uint32_t isn_c, uint32_t isn_s,
                               const struct step *st, size_t n)
{
    return feed_port(name, isn_c, isn_s, st, n, 0);
}
#define FEED(name, c, s, st) feed(name, c, s, st, sizeof(st) / sizeof(st[0]))

static void check_conn(const struct nr_conn *c, const char *state, const char *history,
                       uint64_t size0, uint64_t size1)
{
    if (strcmp(nr_conn_state(c), state) || strcmp(c->history, history) ||
        nr_conn_zeek_size(c, 0) != size0 || nr_conn_zeek_size(c, 1) != size1)
        fail_msg("got %s %s sizes %llu %llu, want %s %s %llu %llu", nr_conn_state(c), c->history,
                 (unsigned long long)nr_conn_zeek_size(c, 0),
                 (unsigned long long)nr_conn_zeek_size(c, 1), state, history,
                 (unsigned long long)size0, (unsigned long long)size1);
}

/* zeek's sizes: from the highest sequence number sent or acknowledged, SYN
 * and FIN not counted, across the sequence wrap. */
static void zeek_sizes(void **state)
{
    static const struct step acked[] = {
        HS,
        { 0, P | A, 1, 1, 10, W, 0, -1, NULL },
        { 1, A, 1, 31, 0, W, 0, -1, NULL },      /* 20 bytes acked, never seen */
        { 1, P | A, 1, 31, 7, W, 0, -1, NULL },
        { 0, F | A, 31, 8, 0, W, 0, -1, NULL },
        { 1, F | A, 8, 32, 0, W, 0, -1, NULL },
        { 0, A, 32, 9, 0, W, 0, -1, NULL },
    };
    /* a SYN, a bare ACK from the responder acknowledging 1000 bytes, the
     * originator's RST: zeek's size of an endpoint reset from SYN_SENT
     * whose peer never started is 0 unless the ACK was 0 or 1 */
    static const struct step rst_after_odd_ack[] = {
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
        { 1, A, 0, 1000, 0, W, 0, -1, NULL },
        { 0, R, 1, 0, 0, W, 0, -1, NULL },
    };
    static const struct step rst_after_ack1[] = {
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
        { 1, A, 0, 1, 0, W, 0, -1, NULL },
        { 0, R, 1, 0, 0, W, 0, -1, NULL },
    };
    /* a RST far ahead (more than 1 MiB) is not counted; one exactly 1 MiB
     * ahead is */
    static const struct step rst_far[] = {
        HS,
        { 0, P | A, 1, 1, 10, W, 0, -1, NULL },
        { 0, R, 1 + 10 + 1048577, 0, 0, W, 0, -1, NULL },
    };
    static const struct step rst_1mib[] = {
        HS,
        { 0, P | A, 1, 1, 10, W, 0, -1, NULL },
        { 0, R, 1 + 10 + 1048576, 0, 0, W, 0, -1, NULL },
    };
    /* data and a FIN across the wrap, never acknowledged: from the last
     * sequence number (its wrap counted), the FIN not counted */
    static const struct step unacked_wrap[] = {
        HS,
        { 0, P | A, 1, 1, 20, W, 0, -1, NULL },
        { 0, F | A, 21, 1, 0, W, 0, -1, NULL },
    };
    /* 20 bytes acknowledged unseen across the wrap, then an older ACK
     * arriving late: the highest acknowledged number counts */
    static const struct step acked_nofin[] = {
        HS,
        { 0, P | A, 1, 1, 10, W, 0, -1, NULL },
        { 1, A, 1, 31, 0, W, 0, -1, NULL },
        { 1, A, 1, 21, 0, W, 0, -1, NULL },
    };
    /* a side never seen, whose bytes are acknowledged: each ACK restarts its
     * numbers (it is inactive), so its size stays 0 */
    static const struct step acked_only[] = {
        { 0, A, 1, 1, 0, W, 0, -1, NULL },
        { 0, A, 1, 11, 0, W, 0, -1, NULL },
    };
    /* data midstream without a SYN, then the sender's RST: the history
     * does not start with S, so zeek's RSTOS0 pattern does not match */
    static const struct step data_rst_nosyn[] = {
        { 0, P, 1, 0, 5, W, 0, -1, NULL },
        { 0, R, 6, 0, 0, W, 0, -1, NULL },
    };
    /* reset from SYN_SENT with nothing acknowledged: the RST's position */
    static const struct step syn_rst_ahead[] = {
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
        { 0, R, 100, 0, 0, W, 0, -1, NULL },
    };
    /* a FIN after the sender's RST, nothing sent before: it still counts */
    static const struct step fin_after_rst[] = {
        HS,
        { 0, R, 1, 0, 0, W, 0, -1, NULL },
        { 0, F | A, 51, 1, 0, W, 0, -1, NULL },
    };
    struct nr_flowtab *ft;

    (void)state;
    ft = FEED("acked", 1000, 5000, acked);
    check_conn(nr_flowtab_conn(ft, 0), "SF", "ShADaGdFf", 30, 7);
    nr_flowtab_free(ft);
    ft = FEED("acked-wrap", 0xfffffff8u, 0xfffffffcu, acked);
    check_conn(nr_flowtab_conn(ft, 0), "SF", "ShADaGdFf", 30, 7);
    nr_flowtab_free(ft);
    ft = FEED("rst-after-odd-ack", 1000, 5000, rst_after_odd_ack);
    check_conn(nr_flowtab_conn(ft, 0), "OTH", "SaGR", 0, 0); /* the acked bytes are a gap */
    nr_flowtab_free(ft);
    ft = FEED("rst-after-ack1", 1000, 5000, rst_after_ack1);
    check_conn(nr_flowtab_conn(ft, 0), "RSTOS0", "SaR", 0, 0);
    nr_flowtab_free(ft);
    ft = feed("syn-alone", 1000, 5000, rst_after_odd_ack, 1); /* the responder never started */
    assert_int_equal(nr_conn_zeek_size(nr_flowtab_conn(ft, 0), 0), 0);
    assert_int_equal(nr_conn_zeek_size(nr_flowtab_conn(ft, 0), 1), 0);
    assert_false(nr_flowtab_conn(ft, 0)->zep[1].started);
    nr_flowtab_free(ft);
    ft = FEED("acked-wrap-nofin", 0xfffffff8u, 5000, acked_nofin);
    check_conn(nr_flowtab_conn(ft, 0), "S1", "ShADaG", 30, 0);
    nr_flowtab_free(ft);
    ft = FEED("unacked-wrap", 0xfffffff8u, 5000, unacked_wrap);
    check_conn(nr_flowtab_conn(ft, 0), "S2", "ShADF", 20, 0);
    nr_flowtab_free(ft);
    ft = FEED("acked-only", 1000, 5000, acked_only);
    assert_int_equal(nr_conn_zeek_size(nr_flowtab_conn(ft, 0), 1), 0);
    nr_flowtab_free(ft);
    ft = FEED("syn-rst-ahead", 1000, 5000, syn_rst_ahead);
    check_conn(nr_flowtab_conn(ft, 0), "RSTOS0", "SR", 99, 0);
    nr_flowtab_free(ft);
    ft = FEED("data-rst-nosyn", 1000, 5000, data_rst_nosyn);
    assert_string_equal(nr_flowtab_conn(ft, 0)->history, "DR");
    assert_string_equal(nr_conn_state(nr_flowtab_conn(ft, 0)), "OTH");
    nr_flowtab_free(ft);
    ft = FEED("fin-after-rst", 1000, 5000, fin_after_rst);
    check_conn(nr_flowtab_conn(ft, 0), "RSTO", "ShARFG", 50, 0);
    nr_flowtab_free(ft);
    ft = FEED("rst-far", 1000, 5000, rst_far);
    check_conn(nr_flowtab_conn(ft, 0), "RSTO", "ShADR", 10, 0);
    nr_flowtab_free(ft);
    ft = FEED("rst-1mib", 1000, 5000, rst_1mib);
    check_conn(nr_flowtab_conn(ft, 0), "RSTO", "ShADR", 10 + 1048576, 0);
    nr_flowtab_free(ft);
}

/* A SYN-ACK seen before its SYN (ports no server list names): the SYN is
 * the same connection (zeek's IsReuse), whose roles then flip (the SYN's
 * sender originates); a SYN with another number is a new connection. */
static void syn_after_its_syn_ack(void **state)
{
    for (int other = 0; other < 2; other++) {
        struct nr_flowtab *ft = nr_flowtab_new(NULL);
        struct nr_pkt p = mkpkt(4, IPPROTO_TCP, 0x0a000002, 9999, 0x0a000001, 40001, S | A);
        const struct nr_conn *c;
        (void)state;
        assert_non_null(ft);
        p.seq = 5000;
        p.ack = 1001;
        p.caplen = p.wirelen = 0;
        assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 0);
        p = mkpkt(4, IPPROTO_TCP, 0x0a000001, 40001, 0x0a000002, 9999, S);
        p.seq = other ? 7000 : 1000;
        p.caplen = p.wirelen = 0;
        assert_int_equal(nr_flowtab_add(ft, &p, 2, 60), other);
        p = mkpkt(4, IPPROTO_TCP, 0x0a000001, 40001, 0x0a000002, 9999, A);
        p.seq = other ? 7001 : 1001;
        p.ack = 5001;
        p.caplen = p.wirelen = 0;
        assert_int_equal(nr_flowtab_add(ft, &p, 3, 60), other);
        nr_flowtab_finish(ft);
        c = nr_flowtab_conn(ft, (size_t)other);
        if (!other) {
            assert_int_equal(c->port[0], 40001);
            assert_true(c->flipped);
            assert_true(c->handshake);
            check_conn(c, "S1", "Hs^A", 0, 0);
        } else {
            assert_int_equal(nr_flowtab_count(ft), 2);
            check_conn(nr_flowtab_conn(ft, 0), "OTH", "H", 0, 0);
        }
        nr_flowtab_free(ft);
    }
}

/* zeek's endpoint states across unusual orders (conn_state and history). */
static void zeek_state_orders(void **state)
{
    /* a SYN at the start guessed from a midstream first packet: the same
     * connection, its originator back to SYN_SENT */
    static const struct step partial_then_syn[] = {
        { 0, A, 1, 1, 0, W, 0, -1, NULL },
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
    };
    /* the responder's FIN then RST, the originator's FIN: the responder
     * counts as closed again (SF, not RSTR) */
    static const struct step fin_rst_fin[] = {
        HS,
        { 1, F | A, 1, 1, 0, W, 0, -1, NULL },
        { 1, R, 2, 0, 0, W, 0, -1, NULL },
        { 0, F | A, 1, 2, 0, W, 0, -1, NULL },
    };
    /* the responder's RST (no FIN before it), then the originator's FIN:
     * the responder stays reset (RSTR; zeek turns a reset peer back into
     * closed only when it had sent a FIN before its RST) */
    static const struct step rst_then_fin[] = {
        HS,
        { 1, R, 1, 0, 0, W, 0, -1, NULL },
        { 0, F | A, 1, 1, 0, W, 0, -1, NULL },
    };
    /* a RST after both FINs leaves it SF */
    static const struct step rst_after_close[] = {
        HS,
        { 0, F | A, 1, 1, 0, W, 0, -1, NULL },
        { 1, F | A, 1, 2, 0, W, 0, -1, NULL },
        { 0, R, 2, 0, 0, W, 0, -1, NULL },
    };
    /* after the originator's FIN only, its RST resets it */
    static const struct step rst_after_own_fin[] = {
        HS,
        { 0, F | A, 1, 1, 0, W, 0, -1, NULL },
        { 0, R, 2, 0, 0, W, 0, -1, NULL },
    };
    /* a midstream responder answering a midstream originator */
    static const struct step midstream_both[] = {
        { 0, P | A, 1, 1, 3, W, 0, -1, NULL },
        { 1, P | A, 1, 4, 2, W, 0, -1, NULL },
        { 0, F | A, 4, 3, 0, W, 0, -1, NULL },
        { 1, F | A, 3, 5, 0, W, 0, -1, NULL },
    };
    /* the originator's SYN-ACK again at a new number: its endpoint starts
     * over, so no second 'H' (zeek's init_endpoint) */
    static const struct step synack_twice[] = {
        { 1, S | A, 0, 1, 0, W, 0, -1, NULL },
        { 1, S | A, 700, 1, 0, W, 0, -1, NULL },
    };
    /* a SYN-ACK and then a FIN from the same side: no role flip (only its
     * ACK or data would flip it) */
    static const struct step synack_fin[] = {
        { 1, S | A, 0, 1, 0, W, 0, -1, NULL },
        { 1, F | A, 1, 1, 0, W, 0, -1, NULL },
    };
    /* SYN+FIN after the handshake: 'Q' (its own mask bit, whatever came before) */
    static const struct step synfin_late[] = {
        HS,
        { 0, S | F | A, 1, 1, 0, W, 0, -1, NULL },
    };
    static const struct {
        const char *name;
        const struct step *st;
        size_t n;
        const char *state, *history;
        uint16_t server_port; /* 9999: no likely server port, the first sender originates */
    } cases[] = {
        { "partial-then-syn", partial_then_syn, 2, "S0", "AS", 0 },
        { "fin-rst-fin", fin_rst_fin, 6, "SF", "ShAfrF", 0 },
        { "rst-then-fin", rst_then_fin, 5, "RSTR", "ShArF", 0 },
        { "rst-after-close", rst_after_close, 6, "SF", "ShAFfR", 0 },
        { "rst-after-own-fin", rst_after_own_fin, 5, "RSTO", "ShAFR", 0 },
        { "midstream-both", midstream_both, 4, "SF", "DdFf", 0 },
        { "syn-ack-twice", synack_twice, 2, "OTH", "H", 9999 },
        { "syn-ack-then-fin", synack_fin, 2, "SH", "HF", 9999 },
        { "syn-fin-late", synfin_late, 4, "S2", "ShAQG", 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nr_flowtab *ft = feed_port(cases[i].name, 1000, 5000, cases[i].st, cases[i].n,
                                          cases[i].server_port);
        const struct nr_conn *c = nr_flowtab_conn(ft, 0);
        assert_int_equal(nr_flowtab_count(ft), 1);
        if (strcmp(nr_conn_state(c), cases[i].state) || strcmp(c->history, cases[i].history))
            fail_msg("%s: %s %s, want %s %s", cases[i].name, nr_conn_state(c), c->history,
                     cases[i].state, cases[i].history);
        if (!strcmp(cases[i].name, "midstream-both")) { /* both streams started midstream */
            assert_int_equal(c->stream[0].len, 3);
            assert_int_equal(c->stream[1].len, 2);
        }
        if (!strcmp(cases[i].name, "fin-rst-fin")) { /* the responder's FIN first, then ours */
            assert_int_equal(c->fin_seen, 3);
            assert_int_equal(c->first_fin, 1);
            assert_int_equal(c->nchunks, 2);
            assert_int_equal(c->chunks[0].dir, 1);
            assert_int_equal(c->chunks[1].dir, 0);
            assert_int_equal(c->chunks[1].kind, NR_CHUNK_FIN);
        }
        nr_flowtab_free(ft);
    }
}

/* The originator's SYN again after its bytes crossed the 2^32 wrap: zeek
 * starts the endpoint's sequence space over (no wrap counted), so the size
 * is what follows that SYN. */
static void syn_again_after_a_wrap(void **state)
{
    static const struct step st[] = {
        HS,
        { 0, P | A, 1, 1, 32, W, 0, -1, NULL },
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
        { 0, P | A, 33, 1, 8, W, 0, -1, NULL },
    };
    struct nr_flowtab *ft;
    const struct nr_conn *c;

    (void)state;
    ft = FEED("syn-again-after-wrap", 0xfffffff0u, 5000, st);
    c = nr_flowtab_conn(ft, 0);
    assert_int_equal(nr_flowtab_count(ft), 1);
    assert_int_equal(nr_conn_zeek_size(c, 0), 40);
    assert_string_equal(c->history, "ShAD");
    nr_flowtab_free(ft);
}

/* nr_flowtab_free without nr_flowtab_finish frees the segments still held
 * out of order, in both directions (heap_exact_test). */
static void free_with_segments_held(void **state)
{
    struct nr_flow_opts keep = { .keep_data = 1 };
    struct pg_sink sk = { 0 };
    struct pg_conn k;

    (void)state;
    for (int dir = 0; dir < 2; dir++) {
        sk.ft = nr_flowtab_new(&keep);
        assert_non_null(sk.ft);
        pg_conn_init(&k, &sk, 40000, 8080, 1000, 5000);
        pg_handshake(&k);
        pg_seg_at(&k, dir, A, k.seq[dir] + 10, "late", 4); /* after a gap: held */
        assert_int_equal(nr_flowtab_conn(sk.ft, 0)->rs[dir].nsegs, 1);
        nr_flowtab_free(sk.ft);
    }
}

/* A FIN carrying data, then the same FIN alone at the number after that
 * data: one FIN (zeek compares where each FIN ends). */
static void fin_resent_without_its_data(void **state)
{
    static const struct step st[] = {
        HS,
        { 0, F | A, 1, 1, 5, W, 0, -1, NULL },
        { 0, F | A, 6, 1, 0, W, 0, -1, NULL },
    };
    struct nr_flowtab *ft;
    const char *h;

    (void)state;
    ft = FEED("fin-resent-without-data", 1000, 5000, st);
    h = nr_flowtab_conn(ft, 0)->history;
    if (!strchr(h, 'F') || strchr(h, 'F') != strrchr(h, 'F'))
        fail_msg("history %s: not one F", h);
    nr_flowtab_free(ft);
}

/* A SYN-ACK seen first from a port zeek does not take for a server's: the
 * history is "H" until the other side's first ACK flips the roles, then
 * "^h" and that ACK (zeek: OTH, ^hA). */
static void synack_first_flips_on_the_ack(void **state)
{
    static const struct step st[] = {
        { 1, S | A, 0, 1, 0, W, 0, -1, NULL },
        { 0, A, 1, 1, 0, W, 0, -1, NULL },
    };
    struct nr_flowtab *ft;
    const struct nr_conn *c;

    (void)state;
    ft = feed_port("synack-first-no-server-port", 1000, 5000, st, 2, 5555);
    c = nr_flowtab_conn(ft, 0);
    assert_int_equal(nr_flowtab_count(ft), 1);
    assert_string_equal(c->history, "^hA");
    assert_string_equal(nr_conn_state(c), "OTH");
    assert_true(c->flipped);
    assert_int_equal(c->port[1], 5555);
    nr_flowtab_free(ft);
}

/* Segments held against a start guessed before the SYN (an ACK came
 * first, then bytes after a gap) are dropped when the SYN shows the real
 * start: the stream is what follows that SYN, and nothing held is lost
 * (heap_exact_test). */
static void syn_after_held_segments(void **state)
{
    static const struct step late_syn[] = {
        { 0, A, 1, 1, 0, W, 0, -1, NULL },     /* the guessed start: 1 */
        { 0, P | A, 6, 1, 5, W, 0, -1, NULL }, /* held after a gap */
        { 0, S, 0, 0, 0, W, 0, -1, NULL },     /* the SYN before it: the same connection */
        { 0, P | A, 1, 1, 5, W, 0, -1, NULL },
        { 0, P | A, 6, 1, 5, W, 0, -1, NULL },
    };
    struct nr_flowtab *ft;
    const struct nr_conn *c;

    (void)state;
    ft = FEED("late-syn", 1000, 5000, late_syn);
    c = nr_flowtab_conn(ft, 0);
    assert_int_equal(nr_flowtab_count(ft), 1);
    assert_int_equal(c->stream[0].len, 10);
    assert_int_equal(c->rs[0].delivered, 10);
    nr_flowtab_free(ft);
}

/* The handshake needs the responder's SYN; a SYN with the first ISN after a
 * RST, or after a FIN from its SYN_SENT endpoint, is a new connection
 * (zeek: the endpoint's close was reported); without keep_data no chunk is
 * kept, not even a FIN. */
static void handshake_reuse_and_no_chunks(void **state)
{
    static const struct step no_synack[] = {
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
        { 0, A, 1, 1, 0, W, 0, -1, NULL },
    };
    static const struct step both_reset[] = {
        HS,
        { 0, R | A, 1, 1, 0, W, 0, -1, NULL },
        { 1, R | A, 1, 1, 0, W, 0, -1, NULL },
    };
    static const struct step syn_fin_syn[] = { /* a FIN closes a SYN_SENT endpoint */
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
        { 0, F, 1, 0, 0, W, 0, -1, NULL },
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
    };
    static const struct step rst_then_syn[] = {
        HS,
        { 0, R, 1, 0, 0, W, 0, -1, NULL },
        { 0, S, 0, 0, 0, W, 0, -1, NULL },
    };
    struct nr_flowtab *ft;
    struct nr_flow_opts none = { 0 };
    struct pg_sink sk = { 0 };
    struct pg_conn k;

    (void)state;
    ft = FEED("no-synack", 1000, 5000, no_synack);
    assert_false(nr_flowtab_conn(ft, 0)->handshake);
    nr_flowtab_free(ft);
    ft = FEED("rst-then-syn", 1000, 5000, rst_then_syn);
    assert_int_equal(nr_flowtab_count(ft), 2);
    nr_flowtab_free(ft);
    ft = FEED("syn-fin-syn", 1000, 5000, syn_fin_syn);
    assert_int_equal(nr_flowtab_count(ft), 2);
    nr_flowtab_free(ft);
    ft = FEED("both-reset", 1000, 5000, both_reset);
    assert_int_equal(nr_flowtab_conn(ft, 0)->first_rst, 0); /* the originator's came first */
    assert_int_equal(nr_flowtab_conn(ft, 0)->rst_dirs, 3);
    nr_flowtab_free(ft);
    /* nr_flow_tcp_is_reuse (nr_flow_int.h) says 1 for a SYN with a new number */
    ft = FEED("reuse", 1000, 5000, both_reset);
    {
        struct nr_pkt p = mkpkt(4, IPPROTO_TCP, 0x0a000001, 40000, 0x0a000002, 8080, S);
        p.seq = 777;
        assert_int_equal(nr_flow_tcp_is_reuse(nr_flowtab_conn(ft, 0), &p), 1);
        p.seq = 1000;
        p.flags = A;
        assert_int_equal(nr_flow_tcp_is_reuse(nr_flowtab_conn(ft, 0), &p), 0);
    }
    nr_flowtab_free(ft);
    sk.ft = nr_flowtab_new(&none);
    assert_non_null(sk.ft);
    pg_conn_init(&k, &sk, 40000, 8080, 1000, 5000);
    pg_handshake(&k);
    pg_seg(&k, 0, A, "abc", 3);
    pg_close(&k, 0);
    nr_flowtab_finish(sk.ft);
    assert_int_equal(nr_flowtab_conn(sk.ft, 0)->nchunks, 0);
    assert_int_equal(nr_flowtab_conn(sk.ft, 0)->stream[0].len, 0);
    assert_int_equal(nr_flowtab_conn(sk.ft, 0)->rs[0].delivered, 3);
    nr_flowtab_free(sk.ft);
}

/* nr_flow_tcp_packet (nr_flow_int.h) returns 0 when nothing failed. */
static void tcp_packet_returns_zero(void **state)
{
    struct nr_flow_opts keep = { .keep_data = 1 };
    struct nr_flowtab *ft = nr_flowtab_new(&keep);
    struct nr_pkt p = mkpkt(4, IPPROTO_TCP, 0x0a000001, 40001, 0x0a000002, 9999, S);

    (void)state;
    assert_non_null(ft);
    p.caplen = p.wirelen = 0;
    assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 0);
    p.flags = A;
    p.seq = 1001;
    p.caplen = p.wirelen = 1;
    assert_int_equal(nr_flow_tcp_packet(nr_flowtab_conn(ft, 0), 0, &p, &keep), 0);
    assert_int_equal(nr_flowtab_conn(ft, 0)->stream[0].len, 1);
    nr_flowtab_free(ft);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(tshark_flags_per_packet),
        heap_exact_test(flip_swaps_every_side),
        heap_exact_test(keep_merges_and_grows),
        heap_exact_test(endpoints_are_formatted),
        heap_exact_test(many_flows_are_kept_apart),
        heap_exact_test(same_ends_other_protocol_or_version),
        heap_exact_test(first_packet_roles),
        heap_exact_test(zeek_sizes),
        heap_exact_test(syn_after_its_syn_ack),
        heap_exact_test(tcp_packet_returns_zero),
        heap_exact_test(zeek_state_orders),
        heap_exact_test(handshake_reuse_and_no_chunks),
        heap_exact_test(syn_after_held_segments),
        heap_exact_test(synack_first_flips_on_the_ack),
        heap_exact_test(syn_again_after_a_wrap),
        heap_exact_test(free_with_segments_held),
        heap_exact_test(fin_resent_without_its_data),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
