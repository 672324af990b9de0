/* Unit tests of nr_reasm.c written for make mutate's survivors: a segment
 * whose captured length exceeds its wire length (or whose wire length is
 * past 2^31) is ignored; skipping up to the start of a held segment
 * delivers the gap before it and keeps the segment held until it is due. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "heap_exact.h"

#include "nr_reasm.h"

/* What the delivery callback saw: bytes as they are, each gap as "[gap N]". */
struct sink {
    char text[256];
    size_t len;
};

static void deliver(void *ctx, const uint8_t *data, size_t len, int gap)
{
    struct sink *k = ctx;

    if (gap)
        k->len += (size_t)snprintf(k->text + k->len, sizeof(k->text) - k->len, "[gap %zu]", len);
    else if (k->len + len < sizeof(k->text))
        memcpy(k->text + k->len, data, len), k->len += len;
    k->text[k->len] = '\0';
}

static void impossible_lengths_ignored(void **state)
{
    struct nr_reasm r;
    struct sink k = { "", 0 };

    (void)state;
    nr_reasm_start(&r, 100, 1);
    /* an empty segment: nothing happened, 0 as nr_reasm.h says */
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"", 0, 0, deliver, &k), 0);
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"abcdef", 6, 4, deliver, &k), 0);
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"abcdef", 6, 0x80000000u, deliver, &k),
                     0);
    assert_int_equal(k.len, 0);
    assert_int_equal(r.next, 100);
    assert_int_equal(r.delivered, 0);
    /* a segment wholly before next: a retransmission, counted */
    r.next = 200;
    assert_int_equal(nr_reasm_add(&r, 150, (const uint8_t *)"abcdef", 6, 6, deliver, &k),
                     NR_REASM_RETRANS);
    assert_int_equal(r.retrans, 1);
    r.next = 100;
    /* the same segment with sane lengths is taken */
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"abcdef", 4, 6, deliver, &k),
                     NR_REASM_NEW);
    assert_string_equal(k.text, "abcd[gap 2]");
    nr_reasm_free(&r);
}

static void skip_to_a_held_segment(void **state)
{
    struct nr_reasm r;
    struct sink k = { "", 0 };

    (void)state;
    nr_reasm_start(&r, 0, 1);
    assert_int_equal(nr_reasm_add(&r, 10, (const uint8_t *)"XYZ", 3, 3, deliver, &k), NR_REASM_OOO);
    nr_reasm_skip_to(&r, 10, deliver, &k);
    assert_string_equal(k.text, "[gap 10]");
    assert_int_equal(r.next, 10);
    assert_int_equal(r.nsegs, 1);
    nr_reasm_flush(&r, deliver, &k);
    assert_string_equal(k.text, "[gap 10]XYZ");
    assert_int_equal(r.nsegs, 0);
    nr_reasm_free(&r);
}

/* The out-of-order list may hold exactly NR_REASM_MAX_BYTES (payload plus
 * per-range cost) without skipping a hole; one byte more overflows. */
static void hold_limit_exact(void **state)
{
    struct nr_reasm r;
    struct sink k = { "", 0 };
    uint32_t len = NR_REASM_MAX_BYTES - NR_REASM_SEG_COST;

    (void)state;
    static const uint8_t none[1];

    nr_reasm_start(&r, 0, 0); /* ranges only: the payload is never read */
    assert_int_equal(nr_reasm_add(&r, 1, none, len, len, deliver, &k), NR_REASM_OOO);
    assert_int_equal(r.held, NR_REASM_MAX_BYTES);
    assert_int_equal(r.overflows, 0);
    assert_int_equal(r.nsegs, 1);
    nr_reasm_free(&r);
    nr_reasm_start(&r, 0, 0);
    assert_true(nr_reasm_add(&r, 1, none, len + 1, len + 1, deliver, &k) != 0);
    assert_int_equal(r.overflows, 1);
    nr_reasm_free(&r);
}

/* Callbacks: a segment with nothing captured gives one gap and no empty
 * data run; held ranges never overlap (the parts of a longer copy around a
 * held range are held, the held range once). */
static int calls;

static void count(void *ctx, const uint8_t *data, size_t len, int gap)
{
    (void)data;
    (void)gap;
    calls++;
    if (len == 0)
        (*(int *)ctx)++;
}

static void no_empty_runs_and_no_overlap(void **state)
{
    struct nr_reasm r;
    int empty = 0;

    (void)state;
    nr_reasm_start(&r, 100, 1);
    calls = 0;
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"", 0, 5, count, &empty), NR_REASM_NEW);
    assert_int_equal(calls, 1);
    assert_int_equal(empty, 0);
    assert_int_equal(r.next, 105);
    /* held [115, 120), then [110, 125) around it */
    assert_int_equal(nr_reasm_add(&r, 115, (const uint8_t *)"HHHHH", 5, 5, count, &empty),
                     NR_REASM_OOO);
    assert_int_equal(nr_reasm_add(&r, 110, (const uint8_t *)"aaaaaXXXXXbbbbb", 15, 15, count,
                                  &empty), NR_REASM_OOO);
    assert_int_equal(r.nsegs, 3);
    assert_int_equal(r.held, 15 + 3 * NR_REASM_SEG_COST);
    /* ahead of the hole with none of its bytes captured: nothing held, and
     * no retransmission (none of its bytes came before) */
    assert_int_equal(nr_reasm_add(&r, 200, (const uint8_t *)"", 0, 10, count, &empty) &
                         (NR_REASM_RETRANS | NR_REASM_OOO),
                     0);
    assert_int_equal(r.nsegs, 3);
    assert_int_equal(r.retrans, 0);
    nr_reasm_free(&r);
    assert_int_equal(r.held, 0);
}

/* A segment one byte old is trimmed and delivered; one whose captured part
 * is all old gives only its uncaptured new bytes as a gap; the stream may be
 * skipped exactly NR_REASM_WINDOW ahead. */
static void trims_and_window_edge(void **state)
{
    struct nr_reasm r;
    struct sink k = { "", 0 };

    (void)state;
    nr_reasm_start(&r, 100, 1);
    assert_int_equal(nr_reasm_add(&r, 100, (const uint8_t *)"ab", 2, 2, deliver, &k), NR_REASM_NEW);
    assert_int_equal(nr_reasm_add(&r, 101, (const uint8_t *)"bcd", 3, 3, deliver, &k),
                     NR_REASM_NEW | NR_REASM_RETRANS);
    assert_string_equal(k.text, "abcd");
    assert_int_equal(nr_reasm_add(&r, 99, (const uint8_t *)"xy", 2, 10, deliver, &k),
                     NR_REASM_NEW | NR_REASM_RETRANS);
    assert_string_equal(k.text, "abcd[gap 5]");
    assert_int_equal(r.delivered, 4);
    assert_int_equal(r.next, 109);
    nr_reasm_skip_to(&r, 109 + NR_REASM_WINDOW, deliver, &k);
    assert_int_equal(r.gap_bytes, 5 + (uint64_t)NR_REASM_WINDOW);
    nr_reasm_free(&r);
}

/* A held segment is freed once it is delivered: filling the hole 200
 * times leaves the heap where it was (before nr_reasm_free). */
static void delivered_segments_are_freed(void **state)
{
    struct nr_reasm r;
    struct sink k = { "", 0 };
    size_t before;

    (void)state;
    nr_reasm_start(&r, 0, 1);
    before = mallinfo2().uordblks;
    for (uint32_t i = 0; i < 200; i++) {
        k.len = 0;
        assert_int_equal(nr_reasm_add(&r, 8 * i + 4, (const uint8_t *)"efgh", 4, 4, deliver, &k),
                         NR_REASM_OOO);
        assert_int_equal(nr_reasm_add(&r, 8 * i, (const uint8_t *)"abcd", 4, 4, deliver, &k),
                         NR_REASM_NEW);
        assert_string_equal(k.text, "abcdefgh");
        assert_null(r.head);
    }
    assert_true(mallinfo2().uordblks <= before + 256);
    nr_reasm_free(&r);
}

/* A held segment that the in-order segment's uncaptured tail reaches into:
 * the captured bytes, the uncaptured rest as a gap (nr_reasm.h), then the
 * held bytes past that gap, and nothing left held. */
static void held_segment_after_an_uncaptured_tail(void **state)
{
    struct nr_reasm r;
    struct sink k = { "", 0 };
    uint8_t held[100], now[50];
    char want[256];

    (void)state;
    memset(held, 'A', 50);
    memset(held + 50, 'B', 50);
    memset(now, 'x', sizeof(now));
    snprintf(want, sizeof(want), "%.50s[gap 100]%.50s", (const char *)now,
             (const char *)held + 50);
    nr_reasm_start(&r, 1000, 1);
    assert_int_equal(nr_reasm_add(&r, 1100, held, 100, 100, deliver, &k), NR_REASM_OOO);
    assert_int_equal(r.nsegs, 1);
    /* [1000, 1150): 50 bytes captured, 100 not */
    assert_int_equal(nr_reasm_add(&r, 1000, now, 50, 150, deliver, &k), NR_REASM_NEW);
    assert_string_equal(k.text, want);
    assert_int_equal(r.next, 1200);
    assert_int_equal(r.delivered, 100);
    assert_int_equal(r.gap_bytes, 100);
    assert_int_equal(r.nsegs, 0);
    assert_null(r.head);
    assert_int_equal(r.held, 0);
    nr_reasm_free(&r);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(impossible_lengths_ignored),
        heap_exact_test(skip_to_a_held_segment),
        heap_exact_test(hold_limit_exact),
        heap_exact_test(no_empty_runs_and_no_overlap),
        heap_exact_test(trims_and_window_edge),
        heap_exact_test(delivered_segments_are_freed),
        heap_exact_test(held_segment_after_an_uncaptured_tail),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
