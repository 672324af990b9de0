/* Out of memory inside the capture analysis (the fault injector in-process,
 * targets/tests/fault_inproc.h): each allocation of nr_flow, nr_reasm and
 * nr_frag failed alone gives the result its header promises (NULL, -1, or
 * bytes left to become a gap), and the table works again once memory
 * returns.  make check runs it under ASan too: nothing leaks on the way. */
#define _GNU_SOURCE /* memrchr in fault_inproc.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nr_flow_int.h"
#include "nr_frag.h"
#include "nr_reasm.h"
#include "pktgen.h"
#include "tests/fault_inproc.h"

#define S NR_TCP_SYN
#define A NR_TCP_ACK
#define F NR_TCP_FIN

static struct nr_pkt udp(uint16_t sport, const char *data)
{
    static uint8_t f[4][128];
    static int k;
    struct nr_pkt p;
    uint8_t *b = f[k++ % 4];
    size_t n = pg_udp4(b, 0x0a000001, sport, 0x0a000002, 9999, data, strlen(data));

    assert_int_equal(nr_pkt_decode(DLT_EN10MB, b, n, &p), NR_PKT_UDP);
    return p;
}

static void table_allocations(void **state)
{
    struct nr_flow_opts keep = { .keep_data = 1 };
    struct nr_flowtab *ft;
    struct nr_pkt p;
    long r;

    (void)state;
    fault_inproc_set("calloc:1");
    ft = nr_flowtab_new(&keep);
    assert_int_equal(fault_inproc_off(), 1);
    assert_null(ft);
    fault_inproc_set("calloc:2");
    ft = nr_flowtab_new(&keep);
    assert_int_equal(fault_inproc_off(), 1);
    assert_null(ft);
    ft = nr_flowtab_new(&keep);
    assert_non_null(ft);

    p = udp(1000, "a");
    fault_inproc_set("realloc:1"); /* the connection array */
    r = nr_flowtab_add(ft, &p, 1, 60);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    fault_inproc_set("calloc:1"); /* the connection */
    r = nr_flowtab_add(ft, &p, 1, 60);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    assert_int_equal(nr_flowtab_count(ft), 0);
    fault_inproc_set("realloc:1"); /* the kept bytes */
    r = nr_flowtab_add(ft, &p, 1, 60);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    p = udp(1000, "b");
    fault_inproc_set("realloc:2"); /* the chunk list */
    r = nr_flowtab_add(ft, &p, 1, 60);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    p = udp(1000, "c");
    assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 0);
    assert_int_equal(nr_flowtab_count(ft), 1);
    assert_int_equal(nr_flowtab_conn(ft, 0)->nchunks, 1); /* "c" only */

    /* the hash buckets double at 1024 connections */
    for (uint16_t i = 1; i < 1024; i++) {
        p = udp((uint16_t)(1000 + i), "");
        assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), i);
    }
    p = udp(3000, "");
    fault_inproc_set("calloc:1"); /* the doubled buckets (before the connection) */
    r = nr_flowtab_add(ft, &p, 1, 60);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 1024);
    p = udp(1000, "d");
    assert_int_equal(nr_flowtab_add(ft, &p, 1, 60), 0);
    nr_flowtab_free(ft);
}

/* nr_flow_keep (nr_flow_int.h: 0 or -1): a chunk list or a stream buffer
 * that cannot grow is -1, and what was kept stays as it was. */
static void keep_returns_minus_one(void **state)
{
    struct nr_conn c;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.proto = IPPROTO_UDP;
    fault_inproc_set("realloc:1"); /* the chunk list */
    assert_int_equal(nr_flow_keep(&c, 0, NR_CHUNK_FIN, NULL, 0, 0), -1);
    assert_int_equal(fault_inproc_off(), 1);
    fault_inproc_set("realloc:1"); /* the stream's bytes */
    assert_int_equal(nr_flow_keep(&c, 1, NR_CHUNK_DATA, (const uint8_t *)"abc", 3, 0), -1);
    assert_int_equal(fault_inproc_off(), 1);
    fault_inproc_set("realloc:2"); /* the chunk list after the bytes */
    assert_int_equal(nr_flow_keep(&c, 1, NR_CHUNK_DATA, (const uint8_t *)"abc", 3, 0), -1);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(c.nchunks, 0);
    assert_int_equal(nr_flow_keep(&c, 1, NR_CHUNK_DATA, (const uint8_t *)"abc", 3, 0), 0);
    assert_int_equal(c.nchunks, 1);
    assert_int_equal(c.stream[1].len, 3);
    free(c.chunks);
    free(c.stream[1].data);
}

/* TCP: stream bytes or a FIN that cannot be kept make the packet's
 * nr_flowtab_add return -1. */
static void tcp_keep_failures(void **state)
{
    struct nr_flow_opts keep = { .keep_data = 1 };
    struct pg_sink sk = { 0 };
    struct pg_conn k;
    static uint8_t f[256];
    struct nr_pkt p;
    size_t n;
    long r;

    (void)state;
    sk.ft = nr_flowtab_new(&keep);
    assert_non_null(sk.ft);
    pg_conn_init(&k, &sk, 40000, 8080, 1000, 5000);
    pg_handshake(&k);
    n = pg_tcp4(f, k.ip[0], 40000, k.ip[1], 8080, k.seq[0], k.seq[1], F | A, 100, NULL, 0);
    assert_int_equal(nr_pkt_decode(DLT_EN10MB, f, n, &p), NR_PKT_TCP);
    fault_inproc_set("realloc:1"); /* the FIN's chunk */
    r = nr_flowtab_add(sk.ft, &p, 5000000, (uint32_t)n);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    n = pg_tcp4(f, k.ip[1], 8080, k.ip[0], 40000, k.seq[1], k.seq[0] + 1, A, 100, "data", 4);
    assert_int_equal(nr_pkt_decode(DLT_EN10MB, f, n, &p), NR_PKT_TCP);
    fault_inproc_set("realloc:1"); /* the delivered bytes */
    r = nr_flowtab_add(sk.ft, &p, 6000000, (uint32_t)n);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    nr_flowtab_free(sk.ft);
}

static void deliver(void *ctx, const uint8_t *data, size_t len, int gap)
{
    size_t *gaps = ctx;

    (void)data;
    if (gap)
        *gaps += len;
}

/* A segment ahead of a hole that cannot be held is not held: its bytes
 * become a gap when the stream is brought past them. */
static void reasm_hold_failure(void **state)
{
    struct nr_reasm r;
    size_t gaps = 0;
    int res;

    (void)state;
    nr_reasm_start(&r, 100, 1);
    fault_inproc_set("malloc:1");
    res = nr_reasm_add(&r, 110, (const uint8_t *)"abcd", 4, 4, deliver, &gaps);
    assert_int_equal(fault_inproc_off(), 1);
    assert_false(res & NR_REASM_OOO);
    assert_int_equal(r.nsegs, 0);
    assert_int_equal(r.held, 0);
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"0123456789", 10, 10, deliver, &gaps),
                     NR_REASM_NEW);
    nr_reasm_skip_to(&r, 114, deliver, &gaps);
    assert_int_equal(gaps, 4);
    assert_int_equal(r.delivered, 10);
    nr_reasm_free(&r);
}

static struct nr_pkt frag(uint32_t id, uint32_t off, int more, const uint8_t *data, size_t len)
{
    struct nr_pkt p;

    memset(&p, 0, sizeof(p));
    p.ipver = 4;
    p.proto = IPPROTO_UDP;
    p.fragment = 1;
    memcpy(p.src, "\x0a\x00\x00\x01", 4);
    memcpy(p.dst, "\x0a\x00\x00\x02", 4);
    p.frag = (struct nr_ipfrag){ .id = id, .off = off, .more = (uint8_t)more, .hdrlen = 20 };
    p.payload = data;
    p.caplen = p.wirelen = len;
    return p;
}

/* nr_frag_add: -1 when the datagram or its buffers cannot be allocated,
 * and the datagram is gone (its next fragment starts a new one). */
static void frag_allocations(void **state)
{
    static const uint8_t d[16] = "0123456789abcdef";
    struct nr_fragtab *t;
    struct nr_pkt p;
    int r;

    (void)state;
    fault_inproc_set("calloc:1");
    t = nr_frag_new();
    assert_int_equal(fault_inproc_off(), 1);
    assert_null(t);
    t = nr_frag_new();
    assert_non_null(t);
    for (int which = 0; which < 3; which++) {
        static const char *const spec[] = { "calloc:1", "realloc:1", "realloc:2" };
        p = frag((uint32_t)which, 0, 1, d, 8);
        fault_inproc_set(spec[which]);
        r = nr_frag_add(t, &p, 0);
        assert_int_equal(fault_inproc_off(), 1);
        assert_int_equal(r, -1);
        p = frag((uint32_t)which, 8, 0, d + 8, 8);
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
        p = frag((uint32_t)which, 0, 1, d, 8);
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
        assert_memory_equal(p.payload, d, 16);
    }
    /* the datagram that could not grow is gone: its later fragments start
     * a new one, timed from the first of them (30 s of capture time) */
    p = frag(9, 0, 1, d, 8);
    fault_inproc_set("realloc:1");
    r = nr_frag_add(t, &p, 0);
    assert_int_equal(fault_inproc_off(), 1);
    assert_int_equal(r, -1);
    p = frag(9, 8, 0, d + 8, 8);
    assert_int_equal(nr_frag_add(t, &p, 29 * 1000000000LL), NR_FRAG_HELD);
    p = frag(9, 0, 1, d, 8);
    assert_int_equal(nr_frag_add(t, &p, 31 * 1000000000LL), NR_FRAG_DONE);
    assert_int_equal(nr_frag_stats(t)->timeouts, 0);
    /* a fragment inside the buffer already held (up to its last byte)
     * needs no memory: it is held while every allocation would fail */
    p = frag(10, 0, 1, d, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    fault_inproc_set("realloc:1");
    for (uint32_t end = 24; end <= 2048; end += 8) {
        static const uint8_t z[8];
        p = frag(10, end - 8, 1, z, 8);
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    }
    assert_int_equal(fault_inproc_off(), 0);
    nr_frag_finish(t);
    assert_int_equal(nr_frag_stats(t)->incomplete, 1);
    nr_frag_free(t);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_allocations),
        cmocka_unit_test(tcp_keep_failures),
        cmocka_unit_test(keep_returns_minus_one),
        cmocka_unit_test(reasm_hold_failure),
        cmocka_unit_test(frag_allocations),
    };
    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
