/* Unit tests: nr_flowtab - every zeek conn state from a crafted packet
 * sequence, history letters and their repeat rules, counters, connection
 * reuse, kept stream chunks and UDP flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "heap_exact.h"

#include "pktgen.h"

#define S NR_TCP_SYN
#define A NR_TCP_ACK
#define F NR_TCP_FIN
#define R NR_TCP_RST

static struct pg_sink sink;
static struct pg_conn cn;

static int setup(void **state)
{
    struct nr_flow_opts o = { .keep_data = 1 };
    heap_exact_begin(state); /* the table and all it holds are checked for leaks */
    memset(&sink, 0, sizeof(sink));
    sink.ft = nr_flowtab_new(&o);
    pg_conn_init(&cn, &sink, 40000, 80, 1000, 0xfffffff0u);
    return sink.ft ? 0 : -1;
}

static int teardown(void **state)
{
    nr_flowtab_free(sink.ft);
    return heap_exact_end(state);
}

static const struct nr_conn *only(void)
{
    assert_int_equal(nr_flowtab_count(sink.ft), 1);
    nr_flowtab_finish(sink.ft);
    return nr_flowtab_conn(sink.ft, 0);
}

static void expect(const char *state, const char *history)
{
    const struct nr_conn *c = only();
    if (strcmp(nr_conn_state(c), state) || strcmp(c->history, history))
        fail_msg("got %s %s, want %s %s", nr_conn_state(c), c->history, state, history);
}

/* A direction by name, for failure messages that say what they mean. */
static const char *dir_name(int d)
{
    return d == 0 ? "orig" : d == 1 ? "resp" : d < 0 ? "none" : "invalid";
}

#define assert_dir(actual, want)                                                                 \
    do {                                                                                         \
        int ad_a_ = (actual), ad_w_ = (want);                                                    \
        if (ad_a_ != ad_w_)                                                                      \
            fail_msg("%s is %s, want %s", #actual, dir_name(ad_a_), dir_name(ad_w_));            \
    } while (0)

/* Unsigned counts compared in decimal. */
#define assert_count(actual, want)                                                               \
    do {                                                                                         \
        unsigned long long ac_a_ = (actual), ac_w_ = (want);                                     \
        if (ac_a_ != ac_w_)                                                                      \
            fail_msg("%s is %llu, want %llu", #actual, ac_a_, ac_w_);                            \
    } while (0)

static void st_s0(void **st)
{
    (void)st;
    pg_seg(&cn, 0, S, NULL, 0);
    pg_seg_at(&cn, 0, S, 1000, NULL, 0); /* retransmitted SYN, same seq: one 'S' */
    expect("S0", "S");
}

static void st_s1(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "hello", 5);
    pg_seg(&cn, 1, A, "hi", 2);
    pg_seg(&cn, 0, A, "again", 5); /* 'D' once only */
    expect("S1", "ShADd");
    assert_true(only()->handshake);
}

static void st_sf(void **st)
{
    const struct nr_conn *c;
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "GET /", 5);
    pg_seg(&cn, 1, A, "200 OK", 6);
    pg_close(&cn, 0);
    expect("SF", "ShADdFf"); /* no pure ACK from the server: no "a" */
    c = only();
    assert_dir(c->first_fin, 0);
    assert_dir(c->first_rst, -1);
    assert_int_equal(c->pkts[0], 5);
    assert_int_equal(c->pkts[1], 3);
    assert_int_equal(c->payload[0], 5);
    assert_int_equal(c->rs[1].delivered, 6); /* server ISN wraps past 0 */
    assert_int_equal(c->stream[0].len, 5);
    assert_memory_equal(c->stream[1].data, "200 OK", 6);
    /* chunks: orig data, resp data, orig FIN, resp FIN */
    assert_int_equal(c->nchunks, 4);
    assert_int_equal(c->chunks[0].dir, 0);
    assert_int_equal(c->chunks[1].dir, 1);
    assert_int_equal(c->chunks[2].kind, NR_CHUNK_FIN);
    assert_int_equal(c->chunks[3].kind, NR_CHUNK_FIN);
}

static void st_rej(void **st)
{
    (void)st;
    pg_seg(&cn, 0, S, NULL, 0);
    pg_seg(&cn, 1, R | A, NULL, 0);
    expect("REJ", "Sr");
}

static void st_s2(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, F | A, NULL, 0);
    expect("S2", "ShAF");
}

static void st_s3(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 1, F | A, NULL, 0);
    expect("S3", "ShAf");
}

static void st_rsto(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "x", 1);
    pg_seg(&cn, 0, R | A, NULL, 0);
    expect("RSTO", "ShADR");
    assert_dir(only()->first_rst, 0);
}

static void st_rstr(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "x", 1);
    pg_seg(&cn, 1, R | A, NULL, 0);
    expect("RSTR", "ShADr");
    assert_dir(only()->first_rst, 1);
}

static void st_rstos0(void **st)
{
    (void)st;
    pg_seg(&cn, 0, S, NULL, 0);
    pg_seg(&cn, 0, R, NULL, 0);
    expect("RSTOS0", "SR");
}

static void st_rstrh(void **st)
{
    const struct nr_conn *c;
    (void)st;
    cn.seq[0] = 1001;
    pg_seg(&cn, 1, S | A, NULL, 0); /* SYN-ACK seen first: direction flipped */
    pg_seg(&cn, 1, R, NULL, 0);
    expect("RSTRH", "^hr");
    c = only();
    assert_int_equal(c->port[0], 40000);
    assert_int_equal(c->port[1], 80);
}

static void st_sh(void **st)
{
    (void)st;
    pg_seg(&cn, 0, S, NULL, 0);
    pg_seg(&cn, 0, F, NULL, 0);
    expect("SH", "SF");
}

static void st_shr(void **st)
{
    (void)st;
    cn.seq[0] = 1001;
    pg_seg(&cn, 1, S | A, NULL, 0);
    pg_seg(&cn, 1, F | A, NULL, 0);
    expect("SHR", "^hf");
}

static void st_oth(void **st)
{
    (void)st;
    pg_seg(&cn, 0, A, "mid", 3); /* midstream: no SYN seen */
    pg_seg(&cn, 1, A, NULL, 0);
    expect("OTH", "Da");
    assert_false(only()->handshake);
}

static void history_retransmission_zero_window_and_gaps(void **st)
{
    const struct nr_conn *c;
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "abcd", 4);
    for (int i = 0; i < 10; i++)
        pg_seg_at(&cn, 0, A, 1001, "abcd", 4); /* 10 retransmissions: 'T' twice */
    cn.win = 0;
    pg_seg(&cn, 1, A, NULL, 0); /* zero window from the responder */
    cn.win = 65535;
    pg_seg_at(&cn, 0, A, cn.seq[0] + 4, "late", 4); /* leaves a 4-byte hole */
    pg_seg(&cn, 0, F | A, NULL, 0);
    c = only();
    assert_string_equal(c->history, "ShADTTawFG");
    assert_int_equal(c->retrans[0], 10);
    assert_int_equal(c->zero_win[1], 1);
    assert_int_equal(c->ooo[0], 1);
    assert_int_equal(c->rs[0].gap_bytes, 4);
    assert_int_equal(c->stream[0].len, 8);
}

static void connection_reuse_starts_a_new_connection(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_close(&cn, 0);
    cn.seq[0] = 777777;
    pg_handshake(&cn);
    pg_seg(&cn, 0, R, NULL, 0);
    assert_int_equal(nr_flowtab_count(sink.ft), 2);
    nr_flowtab_finish(sink.ft);
    assert_string_equal(nr_conn_state(nr_flowtab_conn(sink.ft, 0)), "SF");
    assert_string_equal(nr_conn_state(nr_flowtab_conn(sink.ft, 1)), "RSTO");
    assert_ptr_equal(nr_flowtab_find_ports(sink.ft, 6, 80, 40000), nr_flowtab_conn(sink.ft, 0));
    assert_null(nr_flowtab_find_ports(sink.ft, 17, 80, 40000));
}

static void udp_flows(void **st)
{
    static uint8_t f[200];
    const struct nr_conn *c;
    (void)st;
    pg_emit(&sink, f, pg_udp4(f, 0x0a000001, 5000, 0x0a000002, 53, "query", 5));
    pg_emit(&sink, f, pg_udp4(f, 0x0a000002, 53, 0x0a000001, 5000, "answer!", 7));
    pg_emit(&sink, f, pg_udp4(f, 0x0a000003, 5000, 0x0a000002, 53, "x", 1));
    assert_int_equal(nr_flowtab_count(sink.ft), 2);
    c = nr_flowtab_conn(sink.ft, 0);
    assert_string_equal(nr_conn_state(c), "SF");
    assert_int_equal(c->nchunks, 2);
    assert_int_equal(c->chunks[1].len, 7);
    assert_string_equal(nr_conn_state(nr_flowtab_conn(sink.ft, 1)), "S0");
}

/* One packet sequence per history letter (upper case: the originator),
 * with the repeat rule of each: s h f r again only on a new sequence
 * number, a d i q once per direction, t w g at the 1st, 10th, 100th. */
static void history_letters(void **st)
{
    const struct nr_conn *c;
    (void)st;
    /* s (a retransmitted SYN adds nothing; a new ISN would be a new
     * connection, see syn_with_new_isn_is_a_new_connection), h */
    pg_seg(&cn, 0, S, NULL, 0);
    pg_seg_at(&cn, 0, S, 1000, NULL, 0);
    cn.seq[0] = 1001;
    pg_seg(&cn, 1, S | A, NULL, 0);
    /* a once, d once per direction */
    pg_seg(&cn, 0, A, NULL, 0);
    pg_seg(&cn, 0, A, NULL, 0);
    pg_seg(&cn, 1, A, "x", 1);
    pg_seg(&cn, 1, A, "y", 1);
    pg_seg(&cn, 1, A, NULL, 0);
    /* w once below 10 zero windows */
    cn.win = 0;
    for (int i = 0; i < 9; i++)
        pg_seg(&cn, 0, A, NULL, 0);
    cn.win = 65535;
    /* f, and again only with a new sequence number */
    pg_seg_at(&cn, 1, F | A, cn.seq[1], NULL, 0);
    pg_seg_at(&cn, 1, F | A, cn.seq[1], NULL, 0);
    c = only();
    assert_string_equal(c->history, "ShAdaWf");
    assert_count(c->zero_win[0], 9);
}

static void history_fin_and_rst_together_is_i(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, F | R | A, NULL, 0);
    pg_seg_at(&cn, 0, F | R | A, cn.seq[0] + 5, NULL, 0); /* zeek: I once, no F or R */
    expect("RSTO", "ShAI");
}

static void history_syn_with_fin_or_rst_is_q(void **st)
{
    (void)st;
    pg_seg(&cn, 0, S | F, NULL, 0); /* zeek: only Q for a multi-flag packet */
    expect("SH", "Q");
}

static void history_syn_ack_first_is_caret(void **st)
{
    const struct nr_conn *c;
    (void)st;
    cn.seq[0] = 1001;
    pg_seg(&cn, 1, S | A, NULL, 0);
    pg_seg(&cn, 0, A, "req", 3);
    pg_seg(&cn, 1, A, "resp", 4);
    c = only();
    assert_string_equal(c->history, "^hDd");
    assert_true(c->flipped);
    assert_false(c->handshake); /* the originator's SYN was never seen */
}

/* Retransmissions are written at the 1st, 10th and 100th; gaps too. */
static void history_logarithmic_letters(void **st)
{
    const struct nr_conn *c;
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 1, A, "abcd", 4);
    for (int i = 0; i < 100; i++)
        pg_seg_at(&cn, 1, A, cn.seq[1] - 4, "abcd", 4);
    pg_seg_at(&cn, 1, A, cn.seq[1] + 2, "zz", 2); /* a 2-byte hole, skipped at the end */
    c = only();
    assert_string_equal(c->history, "ShAdtttg");
    assert_count(c->retrans[1], 100);
    assert_count(c->rs[1].gap_bytes, 2);
}

/* Bytes on a RST are diagnostic text: never stream data, on either side,
 * not even when the stream has a hole the RST's bytes would fill. */
static void rst_payload_is_not_stream_data(void **st)
{
    const struct nr_conn *c;
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "abc", 3);
    pg_seg(&cn, 1, A, "ok", 2);
    pg_seg_at(&cn, 0, A, cn.seq[0] + 1, "ef", 2); /* held ahead of a 1-byte hole */
    pg_seg(&cn, 0, R | A, "D", 1);                /* would fill the hole */
    pg_seg(&cn, 1, R | A, "connection reset: bye", 21);
    c = only();
    assert_string_equal(nr_conn_state(c), "RSTR");
    assert_count(c->stream[0].len, 5);
    assert_memory_equal(c->stream[0].data, "abcef", 5);
    assert_count(c->rs[0].gap_bytes, 1);
    assert_count(c->stream[1].len, 2);
    assert_memory_equal(c->stream[1].data, "ok", 2);
    assert_count(nr_conn_stream_size(c, 1), 2);
    assert_count(c->payload[1], 23); /* counted as payload, not as stream */
    assert_count(c->retrans[0] + c->retrans[1], 0);
}

/* handshake: the originator's SYN, the responder's SYN-ACK, and an ACK
 * from the originator that acknowledges the SYN-ACK and does not abort. */
static void handshake_needs_the_final_ack(void **st)
{
    static const struct {
        const char *what;
        int dir, flags, ack_off; /* the third segment; ack_off moves its ack number */
        size_t len;
        int complete;
    } cases[] = {
        { "no third segment", -1, 0, 0, 0, 0 },
        { "responder's ACK", 1, A, 0, 0, 0 },
        { "responder's data", 1, A, 0, 2, 0 },
        { "originator's RST-ACK", 0, R | A, 0, 0, 0 },
        { "originator's RST", 0, R, 0, 0, 0 },
        { "originator's ACK of an older number", 0, A, -1, 0, 0 },
        { "originator's ACK", 0, A, 0, 0, 1 },
        { "originator's data with ACK", 0, A, 0, 2, 1 },
        { "originator's FIN-ACK", 0, F | A, 0, 0, 1 },
    };
    (void)st;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nr_flow_opts o = { .keep_data = 1 };
        struct pg_sink sk = { .ft = nr_flowtab_new(&o) };
        struct pg_conn k;
        const struct nr_conn *c;
        assert_non_null(sk.ft);
        pg_conn_init(&k, &sk, 40000, 80, 1000, 0xfffffff0u);
        pg_seg(&k, 0, S, NULL, 0);
        pg_seg(&k, 1, S | A, NULL, 0);
        if (cases[i].dir >= 0) {
            k.seq[1] += (uint32_t)cases[i].ack_off;
            pg_seg(&k, cases[i].dir, cases[i].flags, "hi", cases[i].len);
        }
        nr_flowtab_finish(sk.ft);
        c = nr_flowtab_conn(sk.ft, 0);
        if (c->handshake != cases[i].complete)
            fail_msg("%s after SYN, SYN-ACK: handshake %s, want %s (history %s)", cases[i].what,
                     c->handshake ? "complete" : "incomplete",
                     cases[i].complete ? "complete" : "incomplete", c->history);
        nr_flowtab_free(sk.ft);
    }
}

/* A held out-of-order segment resent longer: the extra bytes count. */
static void longer_retransmission_of_a_held_segment(void **st)
{
    const struct nr_conn *c;
    uint32_t base;
    (void)st;
    pg_handshake(&cn);
    base = cn.seq[0];
    pg_seg_at(&cn, 0, A, base + 3, "def", 3);      /* held ahead of a hole */
    pg_seg_at(&cn, 0, A, base + 3, "defghi", 6);   /* resent with 3 more bytes */
    pg_seg_at(&cn, 0, A, base + 3, "de", 2);       /* and shorter: nothing new */
    pg_seg_at(&cn, 0, A, base, "abc", 3);          /* fills the hole */
    cn.seq[0] = base + 9;
    pg_close(&cn, 0);
    c = only();
    assert_string_equal(nr_conn_state(c), "SF");
    assert_count(c->stream[0].len, 9);
    assert_memory_equal(c->stream[0].data, "abcdefghi", 9);
    assert_count(c->rs[0].gap_bytes, 0);
    assert_dir(c->first_fin, 0);
}

/* What a stream observer (nr_flow_opts.on_data) was shown: per connection
 * and direction, the bytes in order and the offset each run claimed. */
struct seen {
    uint8_t bytes[2][2][64];
    size_t len[2][2];
    int bad_offset;
};

static void observe(void *ctx, const struct nr_conn *c, int dir, uint64_t off,
                    const uint8_t *data, size_t len)
{
    struct seen *sn = ctx;
    size_t *n = &sn->len[c->index][dir];

    if (off != *n || *n + len > sizeof(sn->bytes[0][0]))
        sn->bad_offset = 1;
    else
        memcpy(sn->bytes[c->index][dir] + *n, data, len);
    *n += len;
}

/* A TCP connection with a held segment, a retransmission and data both
 * ways, and a UDP flow: the same packets for every table. */
static void observed_traffic(struct pg_sink *sk)
{
    static uint8_t f[200];
    struct pg_conn k;
    uint32_t base;

    pg_conn_init(&k, sk, 40000, 80, 1000, 0xfffffff0u);
    pg_handshake(&k);
    base = k.seq[0];
    pg_seg_at(&k, 0, A, base + 3, "def", 3); /* held ahead of a hole */
    pg_seg_at(&k, 0, A, base, "abc", 3);
    pg_seg_at(&k, 0, A, base, "abc", 3);     /* retransmitted */
    k.seq[0] = base + 6;
    pg_seg(&k, 1, A, "reply", 5);            /* across the sequence wrap */
    pg_close(&k, 0);
    pg_emit(sk, f, pg_udp4(f, 0x0a000001, 5000, 0x0a000002, 53, "query", 5));
    pg_emit(sk, f, pg_udp4(f, 0x0a000002, 53, 0x0a000001, 5000, "answer!", 7));
    pg_emit(sk, f, pg_udp4(f, 0x0a000001, 5000, 0x0a000002, 53, "q2", 2));
}

/* Without keep_data, the observer is shown exactly the bytes keep_data
 * keeps, in order, at their offsets; with it, the kept streams are the
 * same as without an observer. */
static void stream_observer_sees_what_keep_data_keeps(void **st)
{
    struct nr_flow_opts keep = { .keep_data = 1 };
    struct seen sn = { 0 }, sk2 = { 0 };
    struct nr_flow_opts obs = { .on_data = observe, .data_ctx = &sn };
    struct nr_flow_opts both = { .keep_data = 1, .on_data = observe, .data_ctx = &sk2 };
    struct pg_sink a = { .ft = nr_flowtab_new(&keep) }, b = { .ft = nr_flowtab_new(&obs) },
                   c = { .ft = nr_flowtab_new(&both) };
    (void)st;
    assert_true(a.ft && b.ft && c.ft);
    observed_traffic(&a);
    observed_traffic(&b);
    observed_traffic(&c);
    nr_flowtab_finish(a.ft);
    nr_flowtab_finish(b.ft);
    nr_flowtab_finish(c.ft);
    assert_int_equal(nr_flowtab_count(b.ft), 2);
    assert_false(sn.bad_offset);
    assert_false(sk2.bad_offset);
    for (uint32_t i = 0; i < 2; i++)
        for (int d = 0; d < 2; d++) {
            const struct nr_conn *kc = nr_flowtab_conn(a.ft, i);
            const struct nr_conn *bc = nr_flowtab_conn(b.ft, i);
            const struct nr_conn *cc = nr_flowtab_conn(c.ft, i);
            assert_int_equal(sn.len[i][d], kc->stream[d].len);
            assert_memory_equal(sn.bytes[i][d], kc->stream[d].data, kc->stream[d].len);
            assert_int_equal(sk2.len[i][d], kc->stream[d].len);
            assert_int_equal(cc->stream[d].len, kc->stream[d].len);
            assert_int_equal(bc->stream[d].len, 0); /* nothing kept */
            assert_string_equal(bc->history, kc->history);
        }
    assert_memory_equal(sn.bytes[0][0], "abcdef", 6);
    assert_memory_equal(sn.bytes[1][0], "queryq2", 7);
    nr_flowtab_free(a.ft);
    nr_flowtab_free(b.ft);
    nr_flowtab_free(c.ft);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(st_s0), T(st_s1), T(st_sf), T(st_rej), T(st_s2), T(st_s3), T(st_rsto), T(st_rstr),
        T(st_rstos0), T(st_rstrh), T(st_sh), T(st_shr), T(st_oth),
        T(history_retransmission_zero_window_and_gaps),
        T(connection_reuse_starts_a_new_connection), T(udp_flows),
        T(history_letters), T(history_fin_and_rst_together_is_i),
        T(history_syn_with_fin_or_rst_is_q), T(history_syn_ack_first_is_caret),
        T(history_logarithmic_letters), T(rst_payload_is_not_stream_data),
        T(handshake_needs_the_final_ack), T(longer_retransmission_of_a_held_segment),
        heap_exact_test(stream_observer_sees_what_keep_data_keeps),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
