/* Unit tests: nr_reasm - in-order delivery with out-of-order, overlapping
 * and retransmitted segments, sequence wraparound, gaps and bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "heap_exact.h"

#include "nr_reasm.h"

struct sink {
    uint8_t buf[1 << 16];
    size_t len;
    size_t gaps, gap_bytes;
    int null_data;
};

static void collect(void *ctx, const uint8_t *data, size_t len, int gap)
{
    struct sink *s = ctx;
    if (gap) {
        s->gaps++;
        s->gap_bytes += len;
        memset(s->buf + s->len, '?', len);
    } else if (!data) {
        s->null_data++;
        memset(s->buf + s->len, '#', len);
    } else {
        memcpy(s->buf + s->len, data, len);
    }
    s->len += len;
}

static const uint8_t text[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* Feed text[from, to) at isn + from. */
static int feed(struct nr_reasm *r, struct sink *s, uint32_t isn, size_t from, size_t to)
{
    return nr_reasm_add(r, isn + (uint32_t)from, text + from, to - from, to - from, collect, s);
}

/* NR_REASM_* result bits by name ("NEW|RETRANS", "none"). */
static const char *res_name(int bits, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", bits & NR_REASM_NEW ? "|NEW" : "",
             bits & NR_REASM_RETRANS ? "|RETRANS" : "", bits & NR_REASM_OOO ? "|OOO" : "",
             bits ? "" : "|none");
    return buf + 1;
}

#define assert_res(actual, want)                                                                 \
    do {                                                                                         \
        char ar_a_[40], ar_w_[40];                                                               \
        int ar_got_ = (actual);                                                                  \
        if (ar_got_ != (want))                                                                   \
            fail_msg("%s gave %s, want %s", #actual, res_name(ar_got_, ar_a_, sizeof(ar_a_)),    \
                     res_name((want), ar_w_, sizeof(ar_w_)));                                    \
    } while (0)

static void in_order(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 100, 1);
    assert_int_equal(feed(&r, &s, 100, 0, 10), NR_REASM_NEW);
    assert_int_equal(feed(&r, &s, 100, 10, 36), NR_REASM_NEW);
    assert_int_equal(s.len, 36);
    assert_memory_equal(s.buf, text, 36);
    assert_int_equal(r.retrans + r.ooo + r.gaps, 0);
    nr_reasm_free(&r);
}

static void out_of_order(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 5000, 1);
    assert_int_equal(feed(&r, &s, 5000, 20, 30), NR_REASM_OOO);
    assert_int_equal(feed(&r, &s, 5000, 10, 20), NR_REASM_OOO);
    assert_int_equal(s.len, 0);
    assert_int_equal(feed(&r, &s, 5000, 0, 10), NR_REASM_NEW);
    assert_int_equal(s.len, 30);
    assert_memory_equal(s.buf, text, 30);
    assert_int_equal(r.ooo, 2);
    assert_int_equal(r.nsegs, 0);
    assert_int_equal(r.held, 0);
    nr_reasm_free(&r);
}

static void overlaps_and_retransmissions(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 0, 1);
    feed(&r, &s, 0, 0, 10);
    assert_int_equal(feed(&r, &s, 0, 0, 10), NR_REASM_RETRANS);      /* exact duplicate */
    assert_int_equal(feed(&r, &s, 0, 5, 15), NR_REASM_RETRANS | NR_REASM_NEW); /* overlap */
    assert_int_equal(feed(&r, &s, 0, 25, 30), NR_REASM_OOO);
    assert_int_equal(feed(&r, &s, 0, 25, 30), NR_REASM_RETRANS);     /* duplicate while held */
    assert_int_equal(feed(&r, &s, 0, 20, 28), NR_REASM_OOO);         /* overlaps the held one */
    assert_int_equal(feed(&r, &s, 0, 12, 22), NR_REASM_RETRANS | NR_REASM_NEW);
    assert_int_equal(s.len, 30);
    assert_memory_equal(s.buf, text, 30);
    assert_int_equal(r.gaps, 0);
    nr_reasm_free(&r);
}

static void sequence_wraparound(void **state)
{
    static struct sink s;
    struct nr_reasm r;
    uint32_t isn = 0xfffffff0u;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, isn, 1);
    assert_int_equal(feed(&r, &s, isn, 20, 36), NR_REASM_OOO); /* beyond the wrap */
    assert_int_equal(feed(&r, &s, isn, 0, 12), NR_REASM_NEW);
    assert_int_equal(feed(&r, &s, isn, 8, 20), NR_REASM_NEW | NR_REASM_RETRANS);
    assert_int_equal(s.len, 36);
    assert_memory_equal(s.buf, text, 36);
    assert_int_equal(r.next, isn + 36);
    assert_int_equal(feed(&r, &s, isn, 0, 16), NR_REASM_RETRANS); /* old, across the wrap */
    nr_reasm_free(&r);
}

static void gap_at_flush(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 1, 1);
    feed(&r, &s, 1, 0, 10);
    feed(&r, &s, 1, 15, 20);
    nr_reasm_flush(&r, collect, &s);
    assert_int_equal(s.len, 20);
    assert_memory_equal(s.buf, "0123456789?????fghij", 20);
    assert_int_equal(r.gaps, 1);
    assert_int_equal(r.gap_bytes, 5);
    assert_int_equal(s.gaps, 1);
    nr_reasm_free(&r);
}

static void snap_truncated_segment_is_a_gap(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 0, 1);
    assert_int_equal(nr_reasm_add(&r, 0, text, 4, 10, collect, &s), NR_REASM_NEW);
    feed(&r, &s, 0, 10, 12);
    assert_int_equal(s.len, 12);
    assert_memory_equal(s.buf, "0123??????ab", 12);
    nr_reasm_free(&r);
}

static void out_of_order_list_is_bounded(void **state)
{
    static uint8_t big[65536];
    struct nr_reasm r;
    uint32_t n = 3 * (NR_REASM_MAX_BYTES / sizeof(big));

    (void)state;
    nr_reasm_start(&r, 0, 1);
    /* Every other 64 KiB block: a hole before each, never filled. */
    for (uint32_t i = 0; i < n; i++) {
        nr_reasm_add(&r, 2 * (uint32_t)sizeof(big) * i + (uint32_t)sizeof(big), big, sizeof(big),
                     sizeof(big), NULL, NULL);
        assert_true(r.held <= NR_REASM_MAX_BYTES);
    }
    assert_true(r.overflows > 0);
    assert_true(r.gaps > 0);
    assert_true(r.delivered > 0);
    nr_reasm_flush(&r, NULL, NULL);
    assert_int_equal(r.nsegs, 0);
    assert_int_equal(r.delivered, (uint64_t)sizeof(big) * n);
    assert_int_equal(r.gap_bytes, (uint64_t)sizeof(big) * n);
    nr_reasm_free(&r);
}

/* One early loss with a thousand segments (1 MB) held behind it: the
 * retransmission fills the hole and nothing is lost (no segment limit). */
static void early_loss_with_many_held_segments_loses_nothing(void **state)
{
    static uint8_t seg[1000];
    struct nr_reasm r;

    (void)state;
    nr_reasm_start(&r, 0, 0);
    for (uint32_t i = 1; i <= 1000; i++)
        assert_res(nr_reasm_add(&r, 1000 * i, seg, sizeof(seg), sizeof(seg), NULL, NULL),
                   NR_REASM_OOO);
    assert_int_equal(r.delivered, 0);
    assert_res(nr_reasm_add(&r, 0, seg, sizeof(seg), sizeof(seg), NULL, NULL), NR_REASM_NEW);
    assert_int_equal(r.delivered, 1001000);
    assert_int_equal(r.gap_bytes, 0);
    assert_int_equal(r.overflows, 0);
    nr_reasm_free(&r);
}

/* The first copy of a held byte wins: a later, longer segment at the same
 * sequence number only adds the bytes past it; an in-order segment
 * overlapping held bytes yields to them. */
static void held_bytes_first_copy_wins(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 0, 1);
    assert_res(nr_reasm_add(&r, 10, (const uint8_t *)"AAAAA", 5, 5, collect, &s), NR_REASM_OOO);
    assert_res(nr_reasm_add(&r, 10, (const uint8_t *)"BBBBBBBBBB", 10, 10, collect, &s),
               NR_REASM_OOO);
    assert_res(nr_reasm_add(&r, 22, (const uint8_t *)"CC", 2, 2, collect, &s), NR_REASM_OOO);
    assert_res(nr_reasm_add(&r, 0, (const uint8_t *)"0123456789xxxxxyyyyyzz", 22, 22, collect, &s),
               NR_REASM_NEW);
    assert_int_equal(s.len, 24);
    assert_memory_equal(s.buf, "0123456789AAAAABBBBBzzCC", 24);
    assert_int_equal(r.nsegs, 0);
    nr_reasm_free(&r);
}

/* A segment more than NR_REASM_WINDOW ahead is junk: dropped, counted,
 * never a gap; an acknowledgement skips holes up to what it acknowledges. */
static void junk_far_ahead_and_acked_holes(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 100, 1);
    assert_res(nr_reasm_add(&r, 100 + NR_REASM_WINDOW + 1, (const uint8_t *)"JUNK", 4, 4, collect,
                            &s), NR_REASM_JUNK);
    assert_int_equal(r.junk, 1);
    assert_res(nr_reasm_add(&r, 110, (const uint8_t *)"late", 4, 4, collect, &s), NR_REASM_OOO);
    nr_reasm_skip_to(&r, 120, collect, &s);
    assert_int_equal(r.gap_bytes, 16);
    assert_int_equal(r.delivered, 4);
    assert_int_equal(r.next, 120);
    nr_reasm_skip_to(&r, 120 + NR_REASM_WINDOW + 1, collect, &s); /* implausible: ignored */
    assert_int_equal(r.next, 120);
    nr_reasm_flush(&r, collect, &s);
    assert_int_equal(r.gap_bytes, 16);
    nr_reasm_free(&r);
}

static void without_keep_no_data_is_passed(void **state)
{
    static struct sink s;
    struct nr_reasm r;

    (void)state;
    memset(&s, 0, sizeof(s));
    nr_reasm_start(&r, 0, 0);
    feed(&r, &s, 0, 10, 20);
    feed(&r, &s, 0, 0, 10);
    assert_int_equal(s.len, 20);
    assert_int_equal(s.null_data, 2);
    assert_int_equal(r.delivered, 20);
    nr_reasm_free(&r);
}

/* A held segment resent longer (same start, or an earlier start and a
 * later end): its extra bytes are held too, never dropped as a duplicate;
 * a shorter resend is the duplicate.  With and without kept data. */
static void longer_retransmission_of_held_segment(void **state)
{
    for (int keep = 0; keep <= 1; keep++) {
        static struct sink s;
        struct nr_reasm r;

        (void)state;
        memset(&s, 0, sizeof(s));
        nr_reasm_start(&r, 7000, keep);
        assert_res(feed(&r, &s, 7000, 10, 15), NR_REASM_OOO);
        assert_res(feed(&r, &s, 7000, 10, 20), NR_REASM_OOO);      /* 5 more bytes */
        assert_res(feed(&r, &s, 7000, 10, 14), NR_REASM_RETRANS);  /* shorter: duplicate */
        assert_res(feed(&r, &s, 7000, 25, 28), NR_REASM_OOO);
        assert_res(feed(&r, &s, 7000, 22, 30), NR_REASM_OOO);      /* around the held one */
        assert_int_equal(s.len, 0);
        assert_res(feed(&r, &s, 7000, 0, 10), NR_REASM_NEW);
        assert_int_equal(s.len, 20);
        assert_res(feed(&r, &s, 7000, 20, 22), NR_REASM_NEW);
        if (s.len != 30 || r.delivered != 30 || r.gap_bytes != 0)
            fail_msg("keep %d: %zu bytes out (%llu delivered, %llu in gaps), want 30, 0 gaps", keep,
                     s.len, (unsigned long long)r.delivered, (unsigned long long)r.gap_bytes);
        if (keep)
            assert_memory_equal(s.buf, text, 30);
        assert_int_equal(r.nsegs, 0);
        assert_int_equal(r.held, 0);
        nr_reasm_free(&r);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(in_order),
        heap_exact_test(out_of_order),
        heap_exact_test(overlaps_and_retransmissions),
        heap_exact_test(sequence_wraparound),
        heap_exact_test(gap_at_flush),
        heap_exact_test(snap_truncated_segment_is_a_gap),
        heap_exact_test(out_of_order_list_is_bounded),
        heap_exact_test(early_loss_with_many_held_segments_loses_nothing),
        heap_exact_test(held_bytes_first_copy_wins),
        heap_exact_test(junk_far_ahead_and_acked_holes),
        heap_exact_test(without_keep_no_data_is_passed),
        heap_exact_test(longer_retransmission_of_held_segment),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
