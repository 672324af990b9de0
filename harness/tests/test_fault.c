/* Unit tests of the toxics (nr_fault.c): each toxic's effect on a byte run
 * or a datagram, the PRNG's determinism, and the parser rows of `proxy`,
 * `fault`, `heal` and `ledger` with their errors (file:line:col). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_fault.h"
#include "nr_scn.h"
#include "heap_exact.h"

#define RUN_MAX 4096

static struct nr_piece pieces[RUN_MAX];

static struct nr_faults one(enum nr_tox_kind k, struct nr_toxic t)
{
    struct nr_faults f;

    memset(&f, 0, sizeof(f));
    t.kind = k;
    nr_faults_add(&f, &t);
    return f;
}

/* Plan len bytes at now_us; the plan must succeed and cover kept bytes in
 * order with nondecreasing times. */
static struct nr_tcp_plan plan(const struct nr_faults *f, struct nr_rng *r, struct nr_tcp_state *st,
                               size_t len, int64_t now_us)
{
    struct nr_tcp_plan p;
    size_t off = 0;

    assert_int_equal(nr_tcp_plan(f, r, st, len, now_us, pieces, RUN_MAX, &p), 0);
    for (size_t i = 0; i < p.npieces; i++) {
        assert_int_equal(pieces[i].off, off);
        assert_true(pieces[i].len > 0);
        assert_true(pieces[i].at_us >= now_us);
        if (i)
            assert_true(pieces[i].at_us >= pieces[i - 1].at_us);
        off += pieces[i].len;
    }
    assert_int_equal(off, p.kept);
    assert_int_equal(p.kept + p.cut, len);
    return p;
}

/* ---- PRNG ------------------------------------------------------------------ */

static void rng_is_seeded(void **state)
{
    struct nr_rng a, b, c;
    int same = 1, hits = 0;

    (void)state;
    nr_rng_init(&a, 42, 7);
    nr_rng_init(&b, 42, 7);
    nr_rng_init(&c, 43, 7);
    for (int i = 0; i < 100; i++) {
        uint64_t x = nr_rng_next(&a);
        assert_int_equal(x, nr_rng_next(&b));
        same &= x == nr_rng_next(&c);
    }
    assert_false(same); /* another seed, another stream */
    for (int i = 0; i < 10000; i++) {
        assert_false(nr_rng_chance(&a, 0));
        assert_true(nr_rng_chance(&a, 10000));
        hits += nr_rng_chance(&a, 3000);
        assert_true(nr_rng_below(&a, 7) < 7);
    }
    assert_in_range(hits, 2800, 3200); /* 30% of 10000, 4 sigma */
}

static void names_round_trip(void **state)
{
    (void)state;
    for (int k = 0; k < NR_TOX_COUNT; k++) {
        const char *n = nr_tox_name((enum nr_tox_kind)k);
        assert_int_equal(nr_tox_lookup(n, strlen(n)), k);
        assert_int_equal(nr_tox_is_udp((enum nr_tox_kind)k), k >= NR_TOX_DROP);
    }
    for (int i = 0; i < NR_L_COUNT; i++) {
        const char *n = nr_ledger_name((enum nr_ledger_item)i);
        assert_int_equal(nr_ledger_lookup(n, strlen(n)), i);
    }
    assert_int_equal(nr_tox_lookup("latencyx", 8), -1);
    assert_int_equal(nr_tox_lookup("latenc", 6), -1);
    assert_int_equal(nr_ledger_lookup("drop", 4), -1);
}

/* ---- TCP toxics -------------------------------------------------------------- */

static void no_toxic_passes_at_once(void **state)
{
    struct nr_faults f = { 0 };
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;

    (void)state;
    nr_rng_init(&r, 1, 0);
    p = plan(&f, &r, &st, 1000, 5000);
    assert_int_equal(p.npieces, 1);
    assert_int_equal(pieces[0].at_us, 5000);
    assert_int_equal(p.delayed, 0);
    assert_int_equal(p.action, NR_TCP_GO);
    assert_int_equal(nr_tcp_max_pieces(&f, 10), 1);
    assert_int_equal(nr_tcp_plan(&f, &r, &st, 10, 0, pieces, 0, &p), -1); /* max too small */
}

static void latency_and_jitter(void **state)
{
    struct nr_faults f = one(NR_TOX_LATENCY, (struct nr_toxic){ .ms = 50 });
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;
    int64_t prev = 0, at[201];

    (void)state;
    nr_rng_init(&r, 1, 0);
    p = plan(&f, &r, &st, 100, 1000000);
    assert_int_equal(p.npieces, 1);
    assert_int_equal(pieces[0].at_us, 1050000);
    assert_int_equal(p.delayed, 100);
    /* jitter: each read lands within +-10 ms, and never before the previous
     * one (the stream stays in order) */
    f = one(NR_TOX_LATENCY, (struct nr_toxic){ .ms = 50, .jitter_ms = 10 });
    memset(&st, 0, sizeof(st));
    for (int i = 0; i < 201; i++) {
        int64_t now = (int64_t)i * 100000; /* reads 100 ms apart: no overtaking */
        plan(&f, &r, &st, 10, now);
        at[i] = pieces[0].at_us - now;
        assert_in_range(at[i], 40000, 60000);
        assert_true(pieces[0].at_us >= prev);
        prev = pieces[0].at_us;
    }
    /* reads 1 ms apart: a smaller draw waits for the slice before it */
    memset(&st, 0, sizeof(st));
    for (int i = 0; i < 50; i++) {
        plan(&f, &r, &st, 1, (int64_t)i * 1000);
        assert_true(pieces[0].at_us >= prev || i == 0);
        prev = pieces[0].at_us;
    }
}

static void bandwidth_paces(void **state)
{
    struct nr_faults f = one(NR_TOX_BANDWIDTH, (struct nr_toxic){ .bytes = 1000 });
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;

    (void)state;
    nr_rng_init(&r, 1, 0);
    p = plan(&f, &r, &st, 100, 0);
    /* 10 ms worth of 1000 B/s is 10 bytes: ten writes, 10 ms apart */
    assert_int_equal(p.npieces, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(pieces[i].len, 10);
        assert_int_equal(pieces[i].at_us, (int64_t)i * 10000);
    }
    assert_int_equal(st.free_us, 100000);
    /* the next run waits for the pipe */
    p = plan(&f, &r, &st, 10, 50000);
    assert_int_equal(pieces[0].at_us, 100000);
    /* an idle pipe does not save up credit */
    p = plan(&f, &r, &st, 10, 1000000);
    assert_int_equal(pieces[0].at_us, 1000000);
}

static void slicer_cuts_small_writes(void **state)
{
    struct nr_faults f = one(NR_TOX_SLICER, (struct nr_toxic){ .bytes = 1 });
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;
    size_t lo = 100, hi = 0;

    (void)state;
    nr_rng_init(&r, 9, 0);
    assert_int_equal(nr_tcp_max_pieces(&f, 5), 5);
    p = plan(&f, &r, &st, 5, 0);
    assert_int_equal(p.npieces, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(pieces[i].len, 1);
    f = one(NR_TOX_SLICER, (struct nr_toxic){ .bytes = 4, .var = 2, .ms = 3 });
    p = plan(&f, &r, &st, 4000, 0);
    for (size_t i = 0; i + 1 < p.npieces; i++) { /* the last one takes the rest */
        lo = pieces[i].len < lo ? pieces[i].len : lo;
        hi = pieces[i].len > hi ? pieces[i].len : hi;
        if (i)
            assert_int_equal(pieces[i].at_us - pieces[i - 1].at_us, 3000);
    }
    assert_int_equal(lo, 2);
    assert_int_equal(hi, 6);
}

/* nr_tcp_max_pieces bounds every plan, whatever mix of slicer and bandwidth:
 * the proxy sizes its slice array by it. */
static void max_pieces_bounds_the_plan(void **state)
{
    struct nr_rng pick;

    (void)state;
    nr_rng_init(&pick, 2024, 0);
    for (int i = 0; i < 3000; i++) {
        struct nr_faults f = { 0 };
        struct nr_toxic sl = { .kind = NR_TOX_SLICER, .bytes = 1 + nr_rng_below(&pick, 12),
                               .var = nr_rng_below(&pick, 12) };
        struct nr_toxic bw = { .kind = NR_TOX_BANDWIDTH, .bytes = 1 + nr_rng_below(&pick, 9000) };
        struct nr_tcp_state st = { 0 };
        struct nr_tcp_plan p;
        struct nr_rng r;
        size_t len = 1 + nr_rng_below(&pick, RUN_MAX), mx;
        if (i % 3 != 1)
            nr_faults_add(&f, &sl);
        if (i % 3 != 0)
            nr_faults_add(&f, &bw);
        mx = nr_tcp_max_pieces(&f, len);
        assert_true(mx >= 1 && mx <= len);
        nr_rng_init(&r, (uint64_t)i, 0);
        assert_int_equal(nr_tcp_plan(&f, &r, &st, len, 0, pieces, mx, &p), 0);
        assert_true(p.npieces <= mx);
        assert_int_equal(p.kept, len);
    }
}

static void limit_data_closes_at_the_limit(void **state)
{
    struct nr_faults f = one(NR_TOX_LIMIT_DATA, (struct nr_toxic){ .bytes = 10 });
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;

    (void)state;
    nr_rng_init(&r, 1, 0);
    p = plan(&f, &r, &st, 6, 0);
    assert_int_equal(p.kept, 6);
    assert_int_equal(p.action, NR_TCP_GO);
    p = plan(&f, &r, &st, 6, 0);
    assert_int_equal(p.kept, 4);
    assert_int_equal(p.cut, 2);
    assert_int_equal(p.action, NR_TCP_CLOSE);
    /* exactly at the limit: the close follows the last byte */
    memset(&st, 0, sizeof(st));
    p = plan(&f, &r, &st, 10, 0);
    assert_int_equal(p.kept, 10);
    assert_int_equal(p.action, NR_TCP_CLOSE);
}

/* Bytes the proxy relayed with no toxic (as read, no plan) count toward a
 * limit added later, as planned bytes do; and a plan made after them
 * releases nothing before they went. */
static void relayed_bytes_count_toward_a_later_limit(void **state)
{
    struct nr_faults f = one(NR_TOX_LIMIT_DATA, (struct nr_toxic){ .bytes = 10 });
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;
    struct nr_piece pc[4];

    (void)state;
    nr_rng_init(&r, 1, 0);
    nr_tcp_relayed(&st, 7, 5000);
    assert_int_equal(st.planned, 7);
    assert_int_equal(st.last_us, 5000);
    nr_tcp_relayed(&st, 0, 4000); /* the clock never goes back */
    assert_int_equal(st.last_us, 5000);
    assert_int_equal(nr_tcp_plan(&f, &r, &st, 6, 1000, pc, 4, &p), 0);
    assert_int_equal(p.kept, 3);
    assert_int_equal(p.cut, 3);
    assert_int_equal(p.action, NR_TCP_CLOSE);
    assert_int_equal(pc[0].at_us, 5000);
}

static void reset_peer_after_bytes(void **state)
{
    struct nr_faults f = one(NR_TOX_RESET_PEER, (struct nr_toxic){ .bytes = 5, .by_bytes = 1 });
    struct nr_tcp_state st = { 0 };
    struct nr_rng r;
    struct nr_tcp_plan p;

    (void)state;
    nr_rng_init(&r, 1, 0);
    p = plan(&f, &r, &st, 3, 0);
    assert_int_equal(p.action, NR_TCP_GO);
    p = plan(&f, &r, &st, 1000, 0);
    assert_int_equal(p.kept, 2);
    assert_int_equal(p.cut, 998);
    assert_int_equal(p.action, NR_TCP_RESET);
    /* by time it is the caller's timer: the planner passes everything */
    f = one(NR_TOX_RESET_PEER, (struct nr_toxic){ .ms = 100, .by_time = 1 });
    memset(&st, 0, sizeof(st));
    p = plan(&f, &r, &st, 1000, 0);
    assert_int_equal(p.kept, 1000);
    assert_int_equal(p.action, NR_TCP_GO);
}

static void close_and_timer_toxics(void **state)
{
    struct nr_faults f = { 0 };
    struct nr_toxic t = { 0 };
    int64_t at;
    int both = 7;

    (void)state;
    assert_int_equal(nr_tcp_fin(&f, 5000, &both), 5000); /* the FIN goes at once */
    assert_false(both);
    assert_int_equal(nr_tcp_timer(&f, 0, 0, &at), NR_TCP_GO);
    assert_int_equal(at, 0);
    assert_true(nr_tcp_reads(&f) && nr_tcp_delivers(&f));
    t = (struct nr_toxic){ .kind = NR_TOX_SLOW_CLOSE, .ms = 200 };
    nr_faults_add(&f, &t);
    assert_int_equal(nr_tcp_fin(&f, 5000, &both), 205000);
    assert_false(both);
    t = (struct nr_toxic){ .kind = NR_TOX_HALF_CLOSE };
    nr_faults_add(&f, &t);
    nr_tcp_fin(&f, 5000, &both);
    assert_true(both);
    t = (struct nr_toxic){ .kind = NR_TOX_STALL };
    nr_faults_add(&f, &t);
    assert_false(nr_tcp_reads(&f));
    assert_true(nr_tcp_delivers(&f));
    /* timeout 0 blackholes forever; with a time it closes */
    t = (struct nr_toxic){ .kind = NR_TOX_TIMEOUT, .ms = 0 };
    nr_faults_add(&f, &t);
    assert_false(nr_tcp_delivers(&f));
    assert_int_equal(nr_tcp_timer(&f, 0, 1000, &at), NR_TCP_GO);
    t.ms = 300;
    nr_faults_add(&f, &t);
    assert_int_equal(nr_tcp_timer(&f, 0, 1000, &at), NR_TCP_CLOSE);
    assert_int_equal(at, 301000);
    /* reset_peer at once (ms 0) comes first; after 500 ms the timeout does */
    t = (struct nr_toxic){ .kind = NR_TOX_RESET_PEER, .by_time = 1 };
    nr_faults_add(&f, &t);
    assert_int_equal(nr_tcp_timer(&f, 2000, 1000, &at), NR_TCP_RESET);
    assert_int_equal(at, 2000);
    t.ms = 500;
    nr_faults_add(&f, &t);
    assert_int_equal(nr_tcp_timer(&f, 2000, 1000, &at), NR_TCP_CLOSE);
    assert_int_equal(at, 301000);
    /* reset after bytes is the planner's, not a timer */
    t = (struct nr_toxic){ .kind = NR_TOX_RESET_PEER, .by_bytes = 1, .bytes = 9 };
    nr_faults_add(&f, &t);
    nr_faults_remove(&f, NR_TOX_TIMEOUT);
    assert_int_equal(nr_tcp_timer(&f, 0, 0, &at), NR_TCP_GO);
}

/* ---- UDP toxics ---------------------------------------------------------------- */

static void udp_nothing_by_default(void **state)
{
    struct nr_faults f = { 0 };
    struct nr_udp_verdict v;
    struct nr_rng r;

    (void)state;
    nr_rng_init(&r, 3, 0);
    for (int i = 0; i < 1000; i++) {
        nr_udp_decide(&f, &r, 100, &v);
        assert_false(v.drop);
        assert_int_equal(v.copies, 1);
        assert_int_equal(v.len, 100);
        assert_int_equal(v.corrupt_at, -1);
        assert_int_equal(v.delay_us, 0);
        assert_int_equal(v.hold, 0);
    }
}

/* Count a verdict field over n datagrams under one toxic. */
static int udp_count(struct nr_faults f, int which, int n)
{
    struct nr_udp_verdict v;
    struct nr_rng r;
    int hits = 0;

    nr_rng_init(&r, 5, 1);
    for (int i = 0; i < n; i++) {
        nr_udp_decide(&f, &r, 64, &v);
        hits += which == 0 ? v.drop : which == 1 ? v.copies == 2 : which == 2 ? v.hold > 0
                                                                           : v.corrupt_at >= 0;
    }
    return hits;
}

static void udp_probabilities(void **state)
{
    (void)state;
    assert_int_equal(udp_count(one(NR_TOX_DROP, (struct nr_toxic){ .bp = 10000 }), 0, 500), 500);
    assert_int_equal(udp_count(one(NR_TOX_DROP, (struct nr_toxic){ .bp = 0 }), 0, 500), 0);
    assert_in_range(udp_count(one(NR_TOX_DROP, (struct nr_toxic){ .bp = 3000 }), 0, 10000), 2800,
                    3200);
    assert_in_range(udp_count(one(NR_TOX_DUPLICATE, (struct nr_toxic){ .bp = 5000 }), 1, 10000),
                    4800, 5200);
    assert_in_range(udp_count(one(NR_TOX_REORDER, (struct nr_toxic){ .bp = 2000, .gap = 1 }), 2,
                              10000), 1800, 2200);
    assert_in_range(udp_count(one(NR_TOX_CORRUPT, (struct nr_toxic){ .bp = 150 }), 3, 10000), 100,
                    200);
}

static void udp_effects(void **state)
{
    struct nr_faults f;
    struct nr_udp_verdict v;
    struct nr_rng r;
    uint8_t buf[16], orig[16];

    (void)state;
    nr_rng_init(&r, 11, 0);
    f = one(NR_TOX_CORRUPT, (struct nr_toxic){ .bp = 10000 });
    for (int i = 0; i < 200; i++) {
        int flipped = 0;
        for (size_t j = 0; j < sizeof(buf); j++)
            buf[j] = orig[j] = (uint8_t)(j * 37 + i);
        nr_udp_decide(&f, &r, sizeof(buf), &v);
        assert_in_range(v.corrupt_at, 0, sizeof(buf) - 1);
        nr_udp_corrupt(&v, buf, sizeof(buf));
        for (size_t j = 0; j < sizeof(buf); j++)
            flipped += __builtin_popcount(buf[j] ^ orig[j]);
        assert_int_equal(flipped, 1); /* exactly one bit of one byte */
    }
    f = one(NR_TOX_TRUNCATE, (struct nr_toxic){ .bytes = 4 });
    nr_udp_decide(&f, &r, 10, &v);
    assert_int_equal(v.len, 4);
    nr_udp_decide(&f, &r, 3, &v);
    assert_int_equal(v.len, 3);
    f = one(NR_TOX_DELAY, (struct nr_toxic){ .ms = 20, .jitter_ms = 5 });
    for (int i = 0; i < 200; i++) {
        nr_udp_decide(&f, &r, 10, &v);
        assert_in_range(v.delay_us, 15000, 25000);
    }
    f = one(NR_TOX_REORDER, (struct nr_toxic){ .bp = 10000, .gap = 3 });
    nr_udp_decide(&f, &r, 10, &v);
    assert_int_equal(v.hold, 3);
    f = one(NR_TOX_DUPLICATE, (struct nr_toxic){ .bp = 10000 });
    nr_udp_decide(&f, &r, 10, &v);
    assert_int_equal(v.copies, 2);
}

/* The n-th datagram's fate depends only on the seed and n: adding another
 * toxic does not shift the drops. */
static void udp_draws_are_stable(void **state)
{
    struct nr_faults a = one(NR_TOX_DROP, (struct nr_toxic){ .bp = 5000 }), b = a;
    struct nr_toxic dup = { .kind = NR_TOX_DUPLICATE, .bp = 5000 };
    struct nr_udp_verdict va, vb;
    struct nr_rng ra, rb;

    (void)state;
    nr_faults_add(&b, &dup);
    nr_rng_init(&ra, 77, 2);
    nr_rng_init(&rb, 77, 2);
    for (int i = 0; i < 1000; i++) {
        nr_udp_decide(&a, &ra, 10, &va);
        nr_udp_decide(&b, &rb, 10, &vb);
        assert_int_equal(va.drop, vb.drop);
    }
    nr_faults_remove(&b, NR_TOX_DROP);
    assert_false(nr_faults_has(&b, NR_TOX_DROP));
    assert_true(nr_faults_has(&b, NR_TOX_DUPLICATE));
    nr_faults_remove(&b, -1);
    assert_int_equal(b.on, 0);
}

/* ---- the parser rows ------------------------------------------------------------ */

static void parse_ok(const char *text, struct nr_scn *s)
{
    char err[NR_ERRBUF_SIZE] = "";

    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", s, err) != 0)
        fail_msg("unexpected parse error: %s", err);
}

static void parser_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *v;

    (void)state;
    parse_ok("proxy p = tcp 127.0.0.1:80\n"
             "fault p up latency 100ms jitter 5ms\n"
             "fault p slicer 4 var 2 delay 1ms\n"
             "fault p down reset_peer after 1000 bytes\n"
             "fault p reset_peer after 200ms\n"
             "fault p both stall\n"
             "heal p up latency\n"
             "heal p\n"
             "ledger p down resets 1..2 within 1s\n"
             "proxy q = udp ${p}\n"
             "fault q up drop 12.5%\n"
             "fault q reorder 100% gap 3\n"
             "ledger q datagrams_in 7\n"
             "ledger q down datagrams_in = up datagrams_out\n", &s);
    v = s.steps.v;
    assert_int_equal(s.steps.n, 14);
    assert_true(v[13].u.ledger.rel);
    assert_int_equal(v[13].u.ledger.dirs, NR_DIR_DOWN);
    assert_int_equal(v[13].u.ledger.item, NR_L_DG_IN);
    assert_int_equal(v[13].u.ledger.rel_dirs, NR_DIR_UP);
    assert_int_equal(v[13].u.ledger.rel_item, NR_L_DG_OUT);
    assert_int_equal(v[0].kind, NR_S_PROXY);
    assert_int_equal(v[0].u.proxy.proto, IPPROTO_TCP);
    assert_int_equal(v[1].kind, NR_S_FAULT);
    assert_int_equal(v[1].u.fault.dirs, NR_DIR_UP);
    assert_int_equal(v[1].u.fault.tox.kind, NR_TOX_LATENCY);
    assert_int_equal(v[1].u.fault.tox.ms, 100);
    assert_int_equal(v[1].u.fault.tox.jitter_ms, 5);
    assert_int_equal(v[2].u.fault.dirs, NR_DIR_UP | NR_DIR_DOWN);
    assert_int_equal(v[2].u.fault.tox.bytes, 4);
    assert_int_equal(v[2].u.fault.tox.var, 2);
    assert_int_equal(v[2].u.fault.tox.ms, 1);
    assert_true(v[3].u.fault.tox.by_bytes);
    assert_int_equal(v[3].u.fault.tox.bytes, 1000);
    assert_true(v[4].u.fault.tox.by_time);
    assert_int_equal(v[4].u.fault.tox.ms, 200);
    assert_int_equal(v[5].u.fault.tox.kind, NR_TOX_STALL);
    assert_true(v[6].u.fault.heal);
    assert_false(v[6].u.fault.all);
    assert_true(v[7].u.fault.heal && v[7].u.fault.all);
    assert_int_equal(v[8].kind, NR_S_LEDGER);
    assert_int_equal(v[8].u.ledger.item, NR_L_RESETS);
    assert_int_equal(v[8].u.ledger.lo, 1);
    assert_int_equal(v[8].u.ledger.hi, 2);
    assert_int_equal(v[8].timeout_ms, 1000);
    assert_int_equal(v[9].u.proxy.proto, IPPROTO_UDP);
    assert_int_equal(v[10].u.fault.tox.bp, 1250);
    assert_int_equal(v[11].u.fault.tox.gap, 3);
    assert_int_equal(v[11].u.fault.tox.bp, 10000);
    assert_int_equal(v[12].u.ledger.lo, 7);
    assert_int_equal(v[12].u.ledger.hi, 7);
    nr_scn_free(&s);
}

static void parser_errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "proxy p = tcp 127.0.0.1:80\nfault p up jitter 5ms\n",
          "t.scn:2:12: expected a TCP toxic: latency, bandwidth, slicer, limit_data, reset_peer, "
          "timeout, slow_close, half_close or stall, got 'jitter'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p drop 5%\n",
          "t.scn:2:9: expected a TCP toxic" },
        { "proxy p = udp 127.0.0.1:80\nfault p latency 5ms\n",
          "t.scn:2:9: expected a UDP toxic: drop, duplicate, reorder, corrupt, delay or truncate, "
          "got 'latency'" },
        { "proxy p = udp 127.0.0.1:80\nfault p drop 101%\n",
          "t.scn:2:14: expected a percentage 0-100% like 30% or 0.5%, got '101%'" },
        { "proxy p = udp 127.0.0.1:80\nfault p drop 5\n",
          "t.scn:2:14: expected a percentage 0-100% like 30% or 0.5%, got '5'" },
        { "proxy p = udp 127.0.0.1:80\nfault p drop -5%\n",
          "t.scn:2:14: expected a percentage" },
        { "proxy p = udp 127.0.0.1:80\nfault p drop 0.125%\n",
          "t.scn:2:14: expected a percentage" },
        { "proxy p = udp 127.0.0.1:80\nfault p reorder 5% gap 0\n",
          "t.scn:2:24: expected a gap of 1-1000 datagrams, got '0'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p latency 601s\n",
          "t.scn:2:17: expected a toxic duration of at most 600s, got '601s'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p latency -5ms\n",
          "t.scn:2:17: expected a duration like 200ms or 1s, got '-5ms'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p latency 5\n",
          "t.scn:2:17: expected a duration like 200ms or 1s, got '5'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p bandwidth 0\n",
          "t.scn:2:19: expected a rate of 1-1000000000 bytes/s, got '0'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p bandwidth 99999999999\n",
          "t.scn:2:19: expected a rate of 1-1000000000 bytes/s" },
        { "proxy p = tcp 127.0.0.1:80\nfault p slicer 0\n",
          "t.scn:2:16: expected a slice size of 1-1048576 bytes, got '0'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p stall now\n",
          "t.scn:2:15: expected end of line, got 'now'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p reset_peer after x\n",
          "t.scn:2:26: expected a duration like 200ms or 1s, got 'x'" },
        { "proxy p = tcp 127.0.0.1:80\nfault p sideways stall\n",
          "t.scn:2:9: expected a TCP toxic" },
        { "target t = x\nfault t stall\n",
          "t.scn:2:7: expected a proxy, got 't' (a target defined at line 1)" },
        { "fault nope stall\n", "t.scn:1:7: expected a proxy defined earlier, got 'nope'" },
        { "proxy p = tcp 127.0.0.1:80\nledger p drops 1\n",
          "t.scn:2:10: expected a ledger item" },
        { "proxy p = tcp 127.0.0.1:80\nledger p cut 5..2\n",
          "t.scn:2:14: expected a range N..M with N <= M" },
        { "proxy p = tcp 127.0.0.1:80\nledger p cut 1..2 \"x\n", /* a lexer error after a range */
          "t.scn:2:19: expected a closing '\"' for this string, got end of line" },
        { "proxy p = tcp 127.0.0.1:80\nledger p cut 3 \"x\n", /* and after a count */
          "t.scn:2:16: expected a closing '\"' for this string, got end of line" },
        { "proxy p = tcp 127.0.0.1:80\nledger p cut\n",
          "t.scn:2:13: expected a count N, a range N..M or '= [up|down] ITEM', got end of line" },
        { "proxy p = tcp 127.0.0.1:80\nledger p cut = up\n",
          "t.scn:2:18: expected a ledger item" },
        { "proxy p = tcp 127.0.0.1:80\nproxy p = tcp 127.0.0.1:81\n",
          "t.scn:2:7: expected a new name, got 'p' (a proxy defined at line 1)" },
        { "proxy p = icmp 127.0.0.1:80\n", "t.scn:1:11: expected 'tcp' or 'udp', got 'icmp'" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[NR_ERRBUF_SIZE] = "";
        struct nr_scn s;
        if (nr_scn_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), "t.scn", &s,
                         err) != -1)
            fail_msg("case %zu parsed, expected: %s", i, cases[i].want);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu\n  got:  %s\n  want: %s", i, err, cases[i].want);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(rng_is_seeded),
        heap_exact_test(names_round_trip),
        heap_exact_test(no_toxic_passes_at_once),
        heap_exact_test(latency_and_jitter),
        heap_exact_test(bandwidth_paces),
        heap_exact_test(slicer_cuts_small_writes),
        heap_exact_test(max_pieces_bounds_the_plan),
        heap_exact_test(limit_data_closes_at_the_limit),
        heap_exact_test(relayed_bytes_count_toward_a_later_limit),
        heap_exact_test(reset_peer_after_bytes),
        heap_exact_test(close_and_timer_toxics),
        heap_exact_test(udp_nothing_by_default),
        heap_exact_test(udp_probabilities),
        heap_exact_test(udp_effects),
        heap_exact_test(udp_draws_are_stable),
        heap_exact_test(parser_fields),
        heap_exact_test(parser_errors),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
