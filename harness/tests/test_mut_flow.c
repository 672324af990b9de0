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
    int64_t dt_ms;    /* capture time since the previous packet (0: 1 ms) */
    int wscale;       /* window scale option (SYN only), -1: none */
    const char *want; /* tshark's analysis flags on this packet, by name */
};

/* A case: its packets and the two initial sequence numbers. */
struct flow_case {
    const char *name;
    uint32_t isn[2];
    const struct step *steps;
    size_t n;
};

/* A TCP segment with an optional window scale option. */
static size_t frame_of(uint8_t *b, const struct flow_case *fc, const struct step *s)
{
    static const uint8_t data[20000] = { 'a' };
    uint32_t ip[2] = { 0x0a000001, 0x0a000002 };
    uint16_t port[2] = { 40000, 8080 };
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
    struct nr_flowtab *ft = nr_flowtab_new(NULL);
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

        t += (s->dt_ms ? s->dt_ms : 1) * MS;
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
        } else if (strcmp(got, s->want)) {
            fail_msg("%s, frame %zu: flags '%s', tshark's '%s'", fc->name, i + 1, got, s->want);
        }
    }
    pg_close_file(&dump);
    nr_flowtab_finish(ft);
    return ft;
}

#define CASE(nm, c, s, st) { nm, { c, s }, st, sizeof(st) / sizeof(st[0]) }
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

/* Spurious: data the peer had acknowledged already. */
static const struct step spurious[] = {
    HS,
    { 0, P | A, 1, 1, 20, W, 0, -1, "" },
    { 1, A, 1, 21, 0, W, 0, -1, "" },
    { 0, P | A, 1, 1, 20, W, 500, -1, "retransmission spurious_retransmission" },
    { 0, P | A, 11, 1, 10, W, 500, -1, "retransmission spurious_retransmission" },
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
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tshark_flags_per_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
