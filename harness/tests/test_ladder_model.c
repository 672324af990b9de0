/* test_ladder_model.c - the ladder of a capture (nr_ladder), the step log
 * it reads, and the one escaping function of the HTML and SVG output
 * (nr_markup). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "nr_ladder.h"
#include "nr_markup.h"
#include "pktgen.h"
#include "heap_exact.h"

/* ---- escaping ------------------------------------------------------------ */

/* nr_markup_esc of buf into a string (static, for comparison). */
static const char *esc(const void *buf, size_t len, int oneline, size_t *bad)
{
    static char out[4096];
    FILE *f = fmemopen(out, sizeof(out), "w");
    size_t b;

    assert_non_null(f);
    b = nr_markup_esc(f, buf, len, oneline);
    fclose(f);
    if (bad)
        *bad = b;
    return out;
}

static void test_esc_markup(void **state)
{
    static const char in[] = "<script>alert(1)</script> ]]> & \"q\" 'a'";
    size_t bad;

    (void)state;
    assert_string_equal(esc(in, strlen(in), 0, &bad),
                        "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; &quot;q&quot; &#39;a&#39;");
    assert_int_equal(bad, 0);
}

static void test_esc_utf8(void **state)
{
    /* é, a 4-byte emoji: kept; \xff, overlong '/' (c0 af), a surrogate
     * (ed a0 80), past U+10FFFF (f4 90 80 80), a cut sequence (e2 82) and
     * U+FFFE (ef bf be): each invalid byte shown as \xNN */
    static const uint8_t in[] = { 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xc0, 0xaf,
                                  0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xef, 0xbf,
                                  0xbe, 0xe2, 0x82 };
    size_t bad;

    (void)state;
    assert_string_equal(esc(in, sizeof(in), 0, &bad),
                        "\xc3\xa9\xf0\x9f\x98\x80\\xff\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80"
                        "\\x80\\xef\\xbf\\xbe\\xe2\\x82");
    assert_int_equal(bad, 15);
}

static void test_esc_controls(void **state)
{
    static const char in[] = "a\tb\nc\rd\x01\x7f";

    (void)state;
    assert_string_equal(esc(in, sizeof(in) - 1, 0, NULL), "a\tb\nc\\x0dd\\x01\\x7f");
    assert_string_equal(esc(in, sizeof(in) - 1, 1, NULL), "a\\tb\\nc\\rd\\x01\\x7f");
    assert_string_equal(esc("\0x", 2, 1, NULL), "\\x00x");
    assert_int_equal(nr_markup_str(stdout, NULL, 0), 0);
}

/* ---- the step log ---------------------------------------------------------- */

static const char steps_log[] =
    "  0.004862 scenario x.scn (own network namespace)\n"
    "  0.009336 clock: 0 is 1796146567.222168 s wall clock\n"
    "  0.102680 2: target srv = tcp-echo-mt --port 0  [ok, 72.366 ms]\n"
    "  0.103013 3: connect a = tcp ${srv}  [ok, 0.317 ms]\n"
    "  0.200000   7: send c \"x [y]\"  [ok, 1.5 ms]\n"
    "  0.300000 9: expect a \"\xff<b>\"  [FAILED, 20.000 ms]\n"
    "x.scn:9: expect a\n"
    "  expected 3 bytes\n"
    "   1.000 10: old format  [ok, 3 ms]\n"
    "  0.400000 endpoint a tcp 127.0.0.1:40000 127.0.0.1:7000\n"
    "  0.400001 endpoint srv target 127.0.0.1:7000\n"
    "  0.400002 endpoint w tcp 0.0.0.0:8080 -\n"
    "  0.45 capture: 14 packets, 3 dropped by the kernel; peak RSS so far 1 KiB\n"
    "  0.46 capture: 14 frames, 1 connections/flows\n"
    "  0.5 garbage [ok, ms]\n"
    "  0.6 11: no bracket\n";

static void test_log_parse(void **state)
{
    struct nr_ladder_log log;

    (void)state;
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)steps_log, strlen(steps_log), &log), 0);
    assert_true(log.have_clock);
    assert_true(log.clock_us == 1796146567222168LL);
    assert_int_equal(log.nsteps, 5);
    assert_int_equal(log.steps[0].line, 2);
    assert_true(log.steps[0].end_us == 102680 && log.steps[0].start_us == 102680 - 72366);
    assert_string_equal(log.steps[0].text, "target srv = tcp-echo-mt --port 0");
    assert_string_equal(log.steps[2].text, "send c \"x [y]\"");
    assert_true(log.steps[2].start_us == 200000 - 1500);
    assert_false(log.steps[2].failed);
    assert_true(log.steps[3].failed);
    assert_string_equal(log.steps[3].text, "expect a \"\xff<b>\"");
    assert_true(log.steps[4].line == 10 && log.steps[4].start_us == 997000);
    assert_int_equal(log.nnames, 3);
    assert_string_equal(log.names[0].name, "a");
    assert_string_equal(log.names[0].addr, "127.0.0.1:40000");
    assert_string_equal(log.names[1].name, "srv");
    assert_string_equal(log.names[2].addr, "0.0.0.0:8080");
    assert_int_equal(log.dropped, 3);
    nr_ladder_log_free(&log);
    /* every prefix parses (never past its end) */
    for (size_t n = 0; n <= strlen(steps_log); n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, steps_log, n);
        assert_int_equal(nr_ladder_log_parse(copy, n, &log), 0);
        nr_ladder_log_free(&log);
        free(copy);
    }
}

/* ---- captures -------------------------------------------------------------- */

static char cap_path[] = "/tmp/nr-ladder-XXXXXX";

struct cap {
    struct pg_sink s;
};

static void cap_open(struct cap *c)
{
    int fd = mkstemp(cap_path);

    assert_true(fd >= 0);
    close(fd);
    memset(c, 0, sizeof(*c));
    c->s.t_ns = 1000000000000LL;
    assert_int_equal(pg_open_file(&c->s, cap_path), 0);
}

/* A capture with one connection 127.0.0.1:40000 -> :7000, handshake done. */
static void cap_conn(struct cap *c, struct pg_conn *k)
{
    cap_open(c);
    pg_conn_init(k, &c->s, 40000, 7000, 1000, 5000);
    pg_handshake(k);
}

/* Close the capture and read its ladder. */
static void cap_ladder(struct cap *c, const struct nr_ladder_opts *o,
                       const struct nr_ladder_log *log, struct nr_ladder *l)
{
    char err[NR_ERRBUF_SIZE];

    pg_close_file(&c->s);
    if (nr_ladder_read(cap_path, NULL, 0, o, log, l, err) < 0)
        fail_msg("%s", err);
    unlink(cap_path);
    strcpy(cap_path + strlen(cap_path) - 6, "XXXXXX");
}

/* Arrows plus the packets of bands. */
static uint64_t count_drawn(const struct nr_ladder *l)
{
    uint64_t n = 0;

    for (size_t i = 0; i < l->nev; i++)
        n += l->ev[i].npkts;
    return n;
}

static void test_ladder_small(void **state)
{
    static const char names[] = "  0.1 endpoint a tcp 127.0.0.1:40000 127.0.0.1:7000\n"
                                "  0.1 endpoint srv target 127.0.0.1:7000\n";
    struct nr_ladder_log log;
    struct nr_ladder l;
    struct pg_conn k;
    struct cap c;

    (void)state;
    cap_conn(&c, &k);
    pg_seg(&k, 0, NR_TCP_PSH | NR_TCP_ACK, "<hello>\n", 8);
    pg_seg(&k, 1, NR_TCP_ACK, NULL, 0);
    pg_close(&k, 0);
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)names, strlen(names), &log), 0);
    cap_ladder(&c, NULL, &log, &l);
    assert_int_equal(l.nlanes, 2);
    assert_string_equal(l.lanes[0].name, "a");
    assert_string_equal(l.lanes[0].addr, "127.0.0.1:40000");
    assert_string_equal(l.lanes[1].name, "srv");
    assert_int_equal(l.nev, 8); /* few packets: every one an arrow */
    assert_int_equal(count_drawn(&l), 8);
    assert_int_equal(l.drawn_pkts, 8);
    assert_int_equal(l.frames, 8);
    assert_true(l.ev[0].marks == NR_LM_SYN && l.ev[0].from == 0 && l.ev[0].to == 1);
    assert_true(l.ev[1].marks == NR_LM_SYN && l.ev[1].from == 1 && l.ev[1].rack == 1);
    assert_true(l.ev[3].rseq == 1 && l.ev[3].rack == 1 && l.ev[3].bytes == 8);
    assert_memory_equal(l.ev[3].preview, "<hello>\n", 8);
    assert_int_equal(l.ev[4].rack, 9);
    assert_true(l.ev[5].marks & NR_LM_FIN);
    for (size_t i = 1; i < l.nev; i++)
        assert_true(l.ev[i].ts_ns > l.ev[i - 1].ts_ns);
    nr_ladder_free(&l);
    nr_ladder_log_free(&log);
}

/* One TCP connection 127.0.0.1:40000 -> :7000 carrying "x", read into a
 * ladder with the step log names (log and l to be freed). */
static void named_ladder(const char *names, struct nr_ladder_log *log, struct nr_ladder *l)
{
    struct pg_conn k;
    struct cap c;

    cap_conn(&c, &k);
    pg_seg(&k, 0, NR_TCP_PSH | NR_TCP_ACK, "x", 1);
    pg_close(&k, 0);
    assert_int_equal(nr_ladder_log_parse((const uint8_t *)names, strlen(names), log), 0);
    cap_ladder(&c, NULL, log, l);
}

/* A wildcard address in the step log ([::] or 0.0.0.0, with the port)
 * names the endpoint on that port, whatever its address; another port
 * does not. */
static void test_ladder_wildcard_names(void **state)
{
    static const char names[] = "  0.1 endpoint srv target [::]:7000\n"
                                "  0.1 endpoint any target 0.0.0.0:40000\n"
                                "  0.1 endpoint no target [::]:7001\n";
    struct nr_ladder_log log;
    struct nr_ladder l;

    (void)state;
    named_ladder(names, &log, &l);
    assert_int_equal(l.nlanes, 2);
    assert_string_equal(l.lanes[0].name, "any");
    assert_string_equal(l.lanes[1].name, "srv");
    nr_ladder_free(&l);
    nr_ladder_log_free(&log);
}

/* The names of one endpoint are joined by ' ' while the whole fits in a
 * lane's name (63 bytes and its NUL); a name that does not fit is left
 * out, not cut. */
static void test_ladder_names_fit(void **state)
{
    static const char a31[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b31[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    char names[512], want[64];
    struct nr_ladder_log log;
    struct nr_ladder l;

    (void)state;
    for (int extra = 0; extra < 2; extra++) { /* 31 + 1 + 31 bytes fit; 31 + 1 + 32 do not */
        snprintf(names, sizeof(names),
                 "  0.1 endpoint %s target 127.0.0.1:7000\n"
                 "  0.1 endpoint %s%s target 127.0.0.1:7000\n", a31, b31, extra ? "b" : "");
        named_ladder(names, &log, &l);
        assert_int_equal(l.nlanes, 2);
        snprintf(want, sizeof(want), "%s%s%s", a31, extra ? "" : " ", extra ? "" : b31);
        assert_string_equal(l.lanes[1].name, want);
        nr_ladder_free(&l);
        nr_ladder_log_free(&log);
    }
}

/* A burst of data is one band; whatever is special stays an arrow. */
static void test_ladder_band(void **state)
{
    static uint8_t blk[1000];
    struct nr_ladder l;
    struct pg_conn k;
    struct cap c;
    size_t bands = 0;

    (void)state;
    cap_conn(&c, &k);
    for (int i = 0; i < 30; i++) {
        pg_seg(&k, 0, NR_TCP_ACK, blk, sizeof(blk));
        if (i % 2)
            pg_seg(&k, 1, NR_TCP_ACK, NULL, 0);
    }
    pg_seg_at(&k, 0, NR_TCP_ACK, k.seq[0] - 1000, blk, sizeof(blk)); /* retransmission */
    k.win = 0;
    pg_seg(&k, 1, NR_TCP_ACK, NULL, 0); /* zero window */
    k.win = 65535;
    pg_seg(&k, 0, NR_TCP_RST, NULL, 0);
    cap_ladder(&c, NULL, NULL, &l);
    assert_int_equal(l.frames, 3 + 30 + 15 + 3);
    assert_int_equal(count_drawn(&l), l.frames);
    assert_int_equal(l.drawn_pkts, l.frames);
    for (size_t i = 0; i < l.nev; i++) {
        if (!l.ev[i].band)
            continue;
        bands++;
        assert_int_equal(l.ev[i].npkts, 45);
        assert_int_equal(l.ev[i].nback, 15);
        assert_int_equal(l.ev[i].bytes, 30000);
    }
    assert_int_equal(bands, 1);
    assert_int_equal(l.nev, 3 + 1 + 3);
    assert_true(l.ev[4].marks & NR_LM_RETRANS);
    assert_true(l.ev[5].marks & NR_LM_ZEROWIN);
    assert_true(l.ev[6].marks & NR_LM_RST);
    nr_ladder_free(&l);
}

/* The zero-window ACKs of a receiver that does not read are counted in the
 * burst they answer; one that answers no burst is an arrow. */
static void test_ladder_zero_window_band(void **state)
{
    static uint8_t blk[500];
    struct nr_ladder l;
    struct pg_conn k;
    struct cap c;

    (void)state;
    cap_conn(&c, &k);
    for (int i = 0; i < 10; i++) {
        k.win = 65535; /* pg_conn has one window for both sides */
        pg_seg(&k, 0, NR_TCP_ACK, blk, sizeof(blk));
        k.win = i % 2 ? 0 : 512;
        pg_seg(&k, 1, NR_TCP_ACK, NULL, 0);
    }
    k.win = 512;
    pg_seg(&k, 0, NR_TCP_FIN | NR_TCP_ACK, NULL, 0);
    k.win = 0;
    pg_seg(&k, 1, NR_TCP_ACK, NULL, 0);
    cap_ladder(&c, NULL, NULL, &l);
    assert_int_equal(l.nev, 3 + 1 + 2);
    assert_true(l.ev[3].band && l.ev[3].npkts == 20 && l.ev[3].nback == 10);
    assert_int_equal(l.ev[3].nzwin, 5);
    assert_true(!l.ev[5].band && (l.ev[5].marks & NR_LM_ZEROWIN));
    assert_int_equal(count_drawn(&l), l.frames);
    nr_ladder_free(&l);
}

/* A hole (lost segment) marks the segment after it, and its bytes are
 * counted as missing at the end. */
static void test_ladder_gap(void **state)
{
    struct nr_ladder l;
    struct pg_conn k;
    struct cap c;

    (void)state;
    cap_conn(&c, &k);
    k.seq[0] += 5; /* 5 bytes never captured */
    pg_seg(&k, 0, NR_TCP_PSH | NR_TCP_ACK, "after", 5);
    cap_ladder(&c, NULL, NULL, &l);
    assert_int_equal(l.nev, 4);
    assert_true(l.ev[3].marks & NR_LM_OOO);
    assert_int_equal(l.gap_bytes, 5);
    nr_ladder_free(&l);
}

/* Options: max_events cuts (and says how much), a window and a flow
 * select, past max_lanes endpoints share the lane of others. */
static void test_ladder_options(void **state)
{
    struct nr_ladder_opts o = { .max_events = 5 };
    struct nr_ladder l;
    struct pg_conn k[4];
    struct cap c;

    (void)state;
    for (int pass = 0; pass < 4; pass++) {
        cap_open(&c);
        for (int i = 0; i < 4; i++) {
            pg_conn_init(&k[i], &c.s, (uint16_t)(40000 + i), 7000, 1000, 5000);
            pg_handshake(&k[i]); /* 3 packets each, 1 ms apart */
        }
        if (pass == 0) {
            cap_ladder(&c, &o, NULL, &l);
            assert_int_equal(l.nev, 5);
            assert_int_equal(l.drawn_pkts, 5);
            assert_int_equal(l.cut_pkts, 7);
            assert_int_equal(nr_ladder_packets(&l), 12);
        } else if (pass == 1) {
            struct nr_ladder_opts w = { .from_ns = 3000000, .to_ns = 5000000 };
            cap_ladder(&c, &w, NULL, &l);
            assert_int_equal(l.nev, 3); /* frames 4, 5, 6 */
            assert_int_equal(l.outside, 9);
            assert_int_equal(l.ev[0].frame, 4);
        } else if (pass == 2) {
            struct nr_ladder_opts fl = { .has_flow = 1, .flow_index = 2 };
            struct nr_ladder_opts sp = { .flow_spec = "127.0.0.1:7000-127.0.0.1:40003" };
            cap_ladder(&c, &fl, NULL, &l);
            assert_int_equal(l.nev, 3);
            assert_string_equal(l.lanes[0].addr, "127.0.0.1:40002");
            nr_ladder_free(&l);
            cap_open(&c);
            for (int i = 0; i < 4; i++) {
                pg_conn_init(&k[i], &c.s, (uint16_t)(40000 + i), 7000, 1000, 5000);
                pg_handshake(&k[i]);
            }
            cap_ladder(&c, &sp, NULL, &l);
            assert_int_equal(l.nev, 3);
            assert_string_equal(l.lanes[0].addr, "127.0.0.1:40003");
        } else {
            struct nr_ladder_opts ml = { .max_lanes = 3 };
            cap_ladder(&c, &ml, NULL, &l);
            assert_int_equal(l.nlanes, 4);
            assert_int_equal(l.lanes[3].others, 2);
            assert_int_equal(count_drawn(&l), 12);
        }
        nr_ladder_free(&l);
    }
}

/* A capture that cannot be read: an error naming the offset, nothing to free. */
static void test_ladder_unreadable(void **state)
{
    static const uint8_t junk[] = "<script>not a capture</script>";
    uint8_t hdr_only[24 + 16] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_ladder l;

    (void)state;
    assert_int_equal(nr_ladder_read(NULL, junk, sizeof(junk) - 1, NULL, NULL, &l, err), -1);
    assert_non_null(strstr(err, "offset"));
    assert_null(l.ev);
    hdr_only[16] = 0xff; /* snaplen 255 */
    hdr_only[20] = 1;    /* Ethernet */
    hdr_only[24 + 8] = 0xff; /* caplen past the snaplen and the file */
    assert_int_equal(nr_ladder_read(NULL, hdr_only, sizeof(hdr_only), NULL, NULL, &l, err), -1);
    assert_non_null(strstr(err, "offset 24"));
    assert_int_equal(nr_ladder_read("/nonexistent/capture.pcap", NULL, 0, NULL, NULL, &l, err), -1);
    assert_non_null(strstr(err, "No such file"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(test_esc_markup),     heap_exact_test(test_esc_utf8),
        heap_exact_test(test_esc_controls),   heap_exact_test(test_log_parse),
        heap_exact_test(test_ladder_small),   heap_exact_test(test_ladder_wildcard_names),
        heap_exact_test(test_ladder_names_fit),
           heap_exact_test(test_ladder_band),
        heap_exact_test(test_ladder_gap),     heap_exact_test(test_ladder_options),
        heap_exact_test(test_ladder_zero_window_band),
        heap_exact_test(test_ladder_unreadable),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
