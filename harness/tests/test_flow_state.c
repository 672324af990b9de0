/* Unit tests: nr_flowtab - every zeek conn state from a crafted packet
 * sequence, history letters and their repeat rules, counters, connection
 * reuse, kept stream chunks and UDP flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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
    (void)state;
    memset(&sink, 0, sizeof(sink));
    sink.ft = nr_flowtab_new(&o);
    pg_conn_init(&cn, &sink, 40000, 80, 1000, 0xfffffff0u);
    return sink.ft ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nr_flowtab_free(sink.ft);
    return 0;
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
    assert_int_equal(c->first_fin, 0);
    assert_int_equal(c->first_rst, -1);
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
    assert_int_equal(only()->first_rst, 0);
}

static void st_rstr(void **st)
{
    (void)st;
    pg_handshake(&cn);
    pg_seg(&cn, 0, A, "x", 1);
    pg_seg(&cn, 1, R | A, NULL, 0);
    expect("RSTR", "ShADr");
    assert_int_equal(only()->first_rst, 1);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(st_s0), T(st_s1), T(st_sf), T(st_rej), T(st_s2), T(st_s3), T(st_rsto), T(st_rstr),
        T(st_rstos0), T(st_rstrh), T(st_sh), T(st_shr), T(st_oth),
        T(history_retransmission_zero_window_and_gaps),
        T(connection_reuse_starts_a_new_connection), T(udp_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
