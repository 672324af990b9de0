/* Unit tests of nr_fault.c's PRNG and name hash written for make mutate's
 * survivors: a run seed must reproduce the same faults in every build, so
 * the streams are pinned to splitmix64's and FNV-1a's published values (a
 * changed mixing constant passed every test that only compared two runs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nr_fault.h"
#include "heap_exact.h"

/* splitmix64 from state 0: the reference implementation's first outputs. */
static void splitmix64_reference(void **state)
{
    struct nr_rng r = { .s = 0 };

    (void)state;
    assert_int_equal(nr_rng_next(&r), 0xe220a8397b1dcdafull);
    assert_int_equal(nr_rng_next(&r), 0x6e789e6aa1b965f4ull);
    assert_int_equal(nr_rng_next(&r), 0x06c45d188009454full);
}

/* nr_rng_init mixes the salt in and discards one draw: seed 1, salt 2. */
static void seeded_stream(void **state)
{
    struct nr_rng r;

    (void)state;
    nr_rng_init(&r, 1, 2);
    assert_int_equal(nr_rng_next(&r), 0xf977a0eab49ffb2full);
    assert_int_equal(nr_rng_next(&r), 0xaa2f8b9354b1699bull);
}

/* below(0) is 0 without mattering; chance(0) never, chance(10000) always. */
static void bounds(void **state)
{
    struct nr_rng r = { .s = 0 };

    (void)state;
    assert_int_equal(nr_rng_below(&r, 0), 0);
    assert_int_equal(nr_rng_below(&r, 1), 0);
    for (int i = 0; i < 1000; i++) {
        assert_false(nr_rng_chance(&r, 0));
        assert_true(nr_rng_chance(&r, 10000));
        assert_true(nr_rng_below(&r, 7) < 7);
    }
    r.s = 0;
    assert_int_equal(nr_rng_below(&r, 1000), 0xe220a8397b1dcdafull % 1000);
}

/* FNV-1a 64 test vectors. */
static void name_hash(void **state)
{
    (void)state;
    assert_int_equal(nr_fault_hash(""), 0xcbf29ce484222325ull);
    assert_int_equal(nr_fault_hash("a"), 0xaf63dc4c8601ec8cull);
    assert_int_equal(nr_fault_hash("latency"), 0xaf0c611526eab2b9ull);
}

/* A ledger item past the last has no name ("?"), the last one has one. */
static void ledger_name_bound(void **state)
{
    (void)state;
    assert_string_equal(nr_ledger_name(NR_L_COUNT), "?");
    assert_string_not_equal(nr_ledger_name((enum nr_ledger_item)(NR_L_COUNT - 1)), "?");
}

/* chance(bp) is the first draw modulo 10000 below bp: the draw from state 0
 * is ...cdaf, 7535 modulo 10000 (3400 modulo 9999). */
static void chance_threshold(void **state)
{
    struct nr_rng r = { .s = 0 };

    (void)state;
    assert_false(nr_rng_chance(&r, 7535));
    r.s = 0;
    assert_true(nr_rng_chance(&r, 7536));
    r.s = 0;
    assert_false(nr_rng_chance(&r, 3401));
}

/* nr_tcp_max_pieces: at least 1 (an empty run too), 1 without slicer or
 * bandwidth, up to len under slicer 1; and never fewer than the slices
 * nr_tcp_plan then makes, for slow and fast bandwidths, slicers, both. */
static void max_pieces_bound(void **state)
{
    static const struct { int slicer, band; uint64_t size, var, rate; } cfg[] = {
        { 0, 0, 0, 0, 0 },    { 1, 0, 1, 0, 0 },    { 1, 0, 5, 4, 0 },   { 0, 1, 0, 0, 50 },
        { 0, 1, 0, 0, 99 },   { 0, 1, 0, 0, 100 },  { 0, 1, 0, 0, 1000 }, { 1, 1, 7, 2, 1000 },
        { 1, 1, 3, 0, 250 },
    };
    static const size_t lens[] = { 0, 1, 9, 10, 11, 100, 1000, 4097 };
    static struct nr_piece out[8192];
    struct nr_faults f = { 0 };
    struct nr_toxic sl = { .kind = NR_TOX_SLICER, .bytes = 1 };

    (void)state;
    assert_int_equal(nr_tcp_max_pieces(&f, 0), 1);
    assert_int_equal(nr_tcp_max_pieces(&f, 1000), 1);
    nr_faults_add(&f, &sl);
    assert_int_equal(nr_tcp_max_pieces(&f, 50), 50);
    assert_int_equal(nr_tcp_max_pieces(&f, 0), 1);
    {   /* 10 bytes a slice at 1000 B/s, each maybe cut once more: 1 + 100/10 + 1 */
        struct nr_faults h = { 0 };
        struct nr_toxic b = { .kind = NR_TOX_BANDWIDTH, .bytes = 1000 };
        nr_faults_add(&h, &b);
        assert_int_equal(nr_tcp_max_pieces(&h, 100), 12);
    }
    for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            struct nr_faults g = { 0 };
            struct nr_toxic a = { .kind = NR_TOX_SLICER, .bytes = cfg[i].size, .var = cfg[i].var };
            struct nr_toxic b = { .kind = NR_TOX_BANDWIDTH, .bytes = cfg[i].rate };
            struct nr_tcp_state st = { 0 };
            struct nr_tcp_plan plan;
            struct nr_rng r = { .s = i * 31 + j };
            size_t max;

            if (cfg[i].slicer)
                nr_faults_add(&g, &a);
            if (cfg[i].band)
                nr_faults_add(&g, &b);
            max = nr_tcp_max_pieces(&g, lens[j]);
            assert_true(max >= 1 && max <= (lens[j] ? lens[j] : 1));
            assert_int_equal(nr_tcp_plan(&g, &r, &st, lens[j], 0, out, max, &plan), 0);
            if (plan.npieces > max)
                fail_msg("config %zu, %zu bytes: %zu slices, max_pieces %zu", i, lens[j],
                         plan.npieces, max);
            assert_int_equal(plan.kept, lens[j]);
            if (max > 1) /* one slot fewer is refused */
                assert_int_equal(nr_tcp_plan(&g, &r, &st, lens[j], 0, out, max - 1, &plan), -1);
        }
    }
}

/* slicer sizes are avg +- var and at least 1: with avg 1 var 1 both 1 and
 * 2 come (and nothing else); with avg 3 var 1, 2, 3 and 4. */
static void slice_sizes(void **state)
{
    static const uint64_t avg[] = { 1, 3 };
    static struct nr_piece out[2048];

    (void)state;
    for (size_t a = 0; a < 2; a++) {
        struct nr_faults f = { 0 };
        struct nr_toxic sl = { .kind = NR_TOX_SLICER, .bytes = avg[a], .var = 1 };
        struct nr_tcp_state st = { 0 };
        struct nr_tcp_plan plan;
        struct nr_rng r = { .s = 7 };
        unsigned seen[8] = { 0 };

        nr_faults_add(&f, &sl);
        assert_int_equal(nr_tcp_plan(&f, &r, &st, 1000, 0, out, nr_tcp_max_pieces(&f, 1000),
                                     &plan), 0);
        for (size_t i = 0; i + 1 < plan.npieces; i++) /* the last may be cut short */
            seen[out[i].len < 8 ? out[i].len : 7]++;
        for (uint64_t k = 0; k < 8; k++) {
            int want = k >= (avg[a] > 1 ? avg[a] - 1 : 1) && k <= avg[a] + 1;
            if ((seen[k] > 0) != want)
                fail_msg("avg %d var 1: %u slices of %d bytes", (int)avg[a], seen[k], (int)k);
        }
    }
}

/* Names at the table's ends; a kind past the last is neither added nor
 * removed; removing kind 0 removes only it. */
static void toxic_sets(void **state)
{
    struct { struct nr_faults f; uint8_t after[64]; } g;
    struct nr_toxic bad = { .kind = NR_TOX_COUNT, .ms = 5 };
    struct nr_toxic lat = { .kind = NR_TOX_LATENCY, .ms = 5 };
    struct nr_toxic bw = { .kind = NR_TOX_BANDWIDTH, .bytes = 5 };
    static const uint8_t zero[64];

    (void)state;
    assert_string_equal(nr_tox_name(NR_TOX_COUNT), "?");
    assert_string_equal(nr_tox_name(NR_TOX_LATENCY), "latency");
    assert_string_equal(nr_tox_name(NR_TOX_TRUNCATE), "truncate");
    for (int k = 0; k < NR_TOX_COUNT; k++) {
        const char *n = nr_tox_name((enum nr_tox_kind)k);
        assert_int_equal(nr_tox_lookup(n, strlen(n)), k);
    }
    assert_int_equal(nr_tox_lookup("latencyx", 8), -1);
    assert_int_equal(nr_tox_lookup("latencyx", 7), NR_TOX_LATENCY);
    memset(&g, 0, sizeof(g));
    nr_faults_add(&g.f, &bad);
    assert_int_equal(g.f.on, 0);
    assert_memory_equal(g.after, zero, sizeof(zero));
    nr_faults_add(&g.f, &lat);
    nr_faults_add(&g.f, &bw);
    assert_int_equal(g.f.on, 3u);
    nr_faults_remove(&g.f, NR_TOX_COUNT);
    assert_int_equal(g.f.on, 3u);
    nr_faults_remove(&g.f, 0);
    assert_int_equal(g.f.on, 2u);
    nr_faults_remove(&g.f, -1);
    assert_int_equal(g.f.on, 0);
}

/* latency ms +- jitter: the first draw from state 0 (...cdaf) is 3552
 * modulo 4001, so 10 ms +- 2 ms is 11.552 ms; a jitter that would go below
 * 0 gives 0 (0 ms +- 5 ms: 3262 - 5000 < 0). */
static void latency_jitter(void **state)
{
    static const struct { uint64_t ms, jitter; int64_t want; } cases[] = {
        { 10, 2, 11552 }, { 0, 5, 0 }, { 7, 0, 7000 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nr_faults f = { 0 };
        struct nr_toxic lat = { .kind = NR_TOX_LATENCY, .ms = cases[i].ms,
                                .jitter_ms = cases[i].jitter };
        struct nr_tcp_state st = { 0 };
        struct nr_tcp_plan plan;
        struct nr_piece out[1];
        struct nr_rng r = { .s = 0 };

        nr_faults_add(&f, &lat);
        assert_int_equal(nr_tcp_plan(&f, &r, &st, 10, 1000000, out, 1, &plan), 0);
        assert_int_equal(plan.npieces, 1);
        assert_int_equal(out[0].at_us - 1000000, cases[i].want);
        assert_int_equal(plan.delayed, cases[i].want > 0 ? 10 : 0);
    }
}

/* limit_data reached with a reset_peer after more bytes: a close, not a
 * reset; 100000 B/s goes out in 1000-byte slices 10 ms apart; a slicer of
 * 5 bytes bounds 100 bytes at 21 slices. */
static void limits_and_pace(void **state)
{
    struct nr_faults f = { 0 };
    struct nr_toxic lim = { .kind = NR_TOX_LIMIT_DATA, .bytes = 5 };
    struct nr_toxic rst = { .kind = NR_TOX_RESET_PEER, .bytes = 100, .by_bytes = 1 };
    struct nr_toxic bw = { .kind = NR_TOX_BANDWIDTH, .bytes = 100000 };
    struct nr_toxic sl = { .kind = NR_TOX_SLICER, .bytes = 5 };
    struct nr_tcp_state st = { 0 };
    struct nr_tcp_plan plan;
    struct nr_piece out[16];
    struct nr_rng r = { .s = 0 };

    (void)state;
    nr_faults_add(&f, &lim);
    nr_faults_add(&f, &rst);
    assert_int_equal(nr_tcp_plan(&f, &r, &st, 10, 0, out, 16, &plan), 0);
    assert_int_equal(plan.action, NR_TCP_CLOSE);
    assert_int_equal(plan.kept, 5);
    assert_int_equal(plan.cut, 5);
    memset(&f, 0, sizeof(f));
    memset(&st, 0, sizeof(st));
    nr_faults_add(&f, &bw);
    assert_int_equal(nr_tcp_plan(&f, &r, &st, 5000, 0, out, 16, &plan), 0);
    assert_int_equal(plan.npieces, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(out[i].len, 1000);
        assert_int_equal(out[i].off, 1000 * i);
        assert_int_equal(out[i].at_us, 10000 * (int64_t)i);
    }
    assert_int_equal(st.free_us, 50000);
    memset(&f, 0, sizeof(f));
    nr_faults_add(&f, &sl);
    assert_int_equal(nr_tcp_max_pieces(&f, 100), 21);
}

/* One datagram's verdict under each toxic at 100%: a drop is only a drop;
 * corruption of a 1-byte datagram flips a bit of byte 0; reorder holds for
 * its gap (1 when none given); truncate cuts to its size; delay only when
 * on; a verdict's corruption never writes past the length given. */
static void udp_verdicts(void **state)
{
    struct nr_toxic drop = { .kind = NR_TOX_DROP, .bp = 10000 };
    struct nr_toxic cor = { .kind = NR_TOX_CORRUPT, .bp = 10000 };
    struct nr_toxic reo = { .kind = NR_TOX_REORDER, .bp = 10000 };
    struct nr_toxic dup = { .kind = NR_TOX_DUPLICATE, .bp = 10000 };
    struct nr_toxic trunc = { .kind = NR_TOX_TRUNCATE, .bytes = 4 };
    struct nr_toxic delay = { .kind = NR_TOX_DELAY, .ms = 3 };
    struct nr_faults f = { 0 };
    struct nr_udp_verdict v;
    struct nr_rng r = { .s = 1 };
    uint8_t buf[8] = { 0 }, zero[8] = { 0 };

    (void)state;
    nr_faults_add(&f, &drop);
    nr_faults_add(&f, &cor);
    nr_faults_add(&f, &dup);
    nr_udp_decide(&f, &r, 10, &v);
    assert_int_equal(v.drop, 1);
    assert_int_equal(v.copies, 0);
    assert_int_equal(v.corrupt_at, -1);
    memset(&f, 0, sizeof(f));
    nr_faults_add(&f, &cor);
    nr_faults_add(&f, &reo);
    nr_faults_add(&f, &dup);
    nr_udp_decide(&f, &r, 1, &v);
    assert_int_equal(v.drop, 0);
    assert_int_equal(v.copies, 2);
    assert_int_equal(v.len, 1);
    assert_int_equal(v.corrupt_at, 0);
    assert_true(v.corrupt_mask != 0 && (v.corrupt_mask & (v.corrupt_mask - 1)) == 0);
    assert_int_equal(v.hold, 1);
    assert_int_equal(v.delay_us, 0);
    nr_udp_corrupt(&v, buf, 1);
    assert_int_equal(buf[0], v.corrupt_mask);
    reo.gap = 3;
    nr_faults_add(&f, &reo);
    nr_faults_add(&f, &trunc);
    nr_faults_add(&f, &delay);
    nr_udp_decide(&f, &r, 10, &v);
    assert_int_equal(v.hold, 3);
    assert_int_equal(v.len, 4);
    assert_true(v.corrupt_at >= 0 && v.corrupt_at < 4);
    assert_int_equal(v.delay_us, 3000);
    nr_udp_decide(&f, &r, 4, &v); /* exactly the truncation size */
    assert_int_equal(v.len, 4);
    for (v.corrupt_at = 3; v.corrupt_at <= 5; v.corrupt_at += 2) { /* at the length, past it */
        memset(buf, 0, sizeof(buf));
        nr_udp_corrupt(&v, buf, 3);
        assert_memory_equal(buf, zero, sizeof(buf));
    }
    /* bandwidth 101 B/s: 1-byte slices 9900 us apart (10^6 / 101, rounded down) */
    {
        struct nr_faults g = { 0 };
        struct nr_toxic bw = { .kind = NR_TOX_BANDWIDTH, .bytes = 101 };
        struct nr_tcp_state st = { 0 };
        struct nr_tcp_plan plan;
        struct nr_piece out[8];

        nr_faults_add(&g, &bw);
        assert_int_equal(nr_tcp_plan(&g, &r, &st, 2, 0, out, 8, &plan), 0);
        assert_int_equal(plan.npieces, 2);
        assert_int_equal(out[1].at_us, 9900);
        assert_int_equal(st.free_us, 19800);
    }
    /* a slow_close removed again: the FIN goes at once */
    {
        struct nr_faults g = { 0 };
        struct nr_toxic sc = { .kind = NR_TOX_SLOW_CLOSE, .ms = 50 };
        int both = 7;

        nr_faults_add(&g, &sc);
        assert_int_equal(nr_tcp_fin(&g, 1000, &both), 51000);
        assert_int_equal(both, 0);
        nr_faults_remove(&g, NR_TOX_SLOW_CLOSE);
        assert_int_equal(nr_tcp_fin(&g, 1000, &both), 1000);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(splitmix64_reference),
        heap_exact_test(seeded_stream),
        heap_exact_test(bounds),
        heap_exact_test(name_hash),
        heap_exact_test(ledger_name_bound),
        heap_exact_test(chance_threshold),
        heap_exact_test(max_pieces_bound),
        heap_exact_test(slice_sizes),
        heap_exact_test(toxic_sets),
        heap_exact_test(latency_jitter),
        heap_exact_test(limits_and_pace),
        heap_exact_test(udp_verdicts),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
