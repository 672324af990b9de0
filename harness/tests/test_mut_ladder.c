/* Unit test of nr_ladder.c's model written for make mutate's survivors:
 * one crafted capture (two TCP connections, one with a band of data and
 * ACKs, a pause, a retransmission, a zero window and a close; a UDP
 * exchange) read into a ladder, and every number of every lane and event
 * compared with what the capture holds, written out below (relative
 * sequence numbers from the ISNs 1000 and 5000, times 1 ms apart from
 * 1000 s, frames from 1). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_ladder.h"
#include "pktgen.h"
#include "heap_exact.h"

/* The ladder as text: one line per lane, then one per event. */
static char *dump(const struct nr_ladder *l)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    fprintf(f, "lanes %zu conns %llu frames %llu drawn %llu cut %llu outside %llu undrawable %llu "
               "gap %llu first %lld last %lld\n",
            l->nlanes, (unsigned long long)l->conns, (unsigned long long)l->frames,
            (unsigned long long)l->drawn_pkts, (unsigned long long)l->cut_pkts,
            (unsigned long long)l->outside, (unsigned long long)l->undrawable,
            (unsigned long long)l->gap_bytes, (long long)l->first_ns, (long long)l->last_ns);
    for (size_t i = 0; i < l->nlanes; i++)
        fprintf(f, "lane %zu '%s' %s v%u port %u others %u pkts %llu\n", i, l->lanes[i].name,
                l->lanes[i].addr, l->lanes[i].ipver, l->lanes[i].port, l->lanes[i].others,
                (unsigned long long)l->lanes[i].pkts);
    for (size_t i = 0; i < l->nev; i++) {
        const struct nr_ladder_event *e = &l->ev[i];
        fprintf(f, "ev %lld-%lld f%llu %u>%u c%u band %u flags %02x marks %02x pkts %u back %u "
                   "zwin %u bytes %llu seq %u ack %u win %u prev %u\n",
                (long long)(e->ts_ns - l->first_ns), (long long)(e->end_ns - l->first_ns),
                (unsigned long long)e->frame, e->from, e->to, e->conn, e->band, e->flags,
                e->marks, e->npkts, e->nback, e->nzwin, (unsigned long long)e->bytes, e->rseq,
                e->rack, e->win, e->npreview);
    }
    fclose(f);
    return text;
}

static char path[] = "/tmp/nr-mut-ladder-XXXXXX";

/* A new capture file at path, open in s. */
static void open_capture(struct pg_sink *s)
{
    int fd;

    strcpy(path + strlen(path) - 6, "XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pg_open_file(s, path), 0);
}

/* The capture: see the file comment. */
static void write_capture(void)
{
    struct pg_sink s = { .t_ns = 1000000000000LL };
    struct pg_conn a, b;
    uint8_t blk[100], frame[200];
    int fd;

    strcpy(path + strlen(path) - 6, "XXXXXX");
    fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    memset(blk, 'd', sizeof(blk));
    assert_int_equal(pg_open_file(&s, path), 0);
    pg_conn_init(&a, &s, 40000, 7000, 1000, 5000);
    pg_handshake(&a);                                     /* frames 1-3 */
    for (int i = 0; i < 10; i++) {                        /* frames 4-18 */
        pg_seg(&a, 0, NR_TCP_ACK, blk, sizeof(blk));
        if (i % 2)
            pg_seg(&a, 1, NR_TCP_ACK, NULL, 0);
    }
    s.t_ns += 30000000;                                   /* a pause ends the burst */
    pg_seg_at(&a, 0, NR_TCP_ACK, a.seq[0] - 100, blk, sizeof(blk)); /* 19: retransmission */
    pg_seg(&a, 0, NR_TCP_PSH | NR_TCP_ACK, "hi", 2);      /* 20 */
    a.win = 0;
    pg_seg(&a, 1, NR_TCP_ACK, NULL, 0);                   /* 21: zero window */
    a.win = 65535;
    pg_udp4(frame, 0x7f000001, 5353, 0x7f000002, 53, "q", 1);
    pg_emit(&s, frame, pg_udp4(frame, 0x7f000001, 5353, 0x7f000002, 53, "q", 1)); /* 22 */
    pg_emit(&s, frame, pg_udp4(frame, 0x7f000002, 53, 0x7f000001, 5353, "ans", 3)); /* 23 */
    pg_conn_init(&b, &s, 40001, 7000, 77, 88);
    pg_seg(&b, 0, NR_TCP_SYN, NULL, 0);                   /* 24 */
    pg_seg(&b, 1, NR_TCP_RST | NR_TCP_ACK, NULL, 0);      /* 25: refused */
    pg_close(&a, 0);                                      /* 26-28 */
    pg_close_file(&s);
}

static const char want[] =
    "lanes 5 conns 3 frames 28 drawn 28 cut 0 outside 0 undrawable 0 gap 0 first 1000001000000 last 1000058000000\n"
    "lane 0 '' 127.0.0.1:40000 v4 port 40000 others 0 pkts 16\n"
    "lane 1 '' 127.0.0.1:7000 v4 port 7000 others 0 pkts 9\n"
    "lane 2 '' 127.0.0.1:5353 v4 port 5353 others 0 pkts 1\n"
    "lane 3 '' 127.0.0.2:53 v4 port 53 others 0 pkts 1\n"
    "lane 4 '' 127.0.0.1:40001 v4 port 40001 others 0 pkts 1\n"
    "ev 0-0 f1 0>1 c0 band 0 flags 02 marks 01 pkts 1 back 0 zwin 0 bytes 0 seq 0 ack 0 win 65535 prev 0\n"
    "ev 1000000-1000000 f2 1>0 c0 band 0 flags 12 marks 01 pkts 1 back 0 zwin 0 bytes 0 seq 0 ack 1 win 65535 prev 0\n"
    "ev 2000000-2000000 f3 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 0 seq 1 ack 1 win 65535 prev 0\n"
    "ev 3000000-17000000 f4 0>1 c0 band 1 flags 10 marks 00 pkts 15 back 5 zwin 0 bytes 1000 seq 1 ack 1 win 65535 prev 0\n"
    "ev 48000000-48000000 f19 0>1 c0 band 0 flags 10 marks 08 pkts 1 back 0 zwin 0 bytes 100 seq 901 ack 1 win 65535 prev 48\n"
    "ev 49000000-49000000 f20 0>1 c0 band 0 flags 18 marks 00 pkts 1 back 0 zwin 0 bytes 2 seq 1001 ack 1 win 65535 prev 2\n"
    "ev 50000000-50000000 f21 1>0 c0 band 0 flags 10 marks 10 pkts 1 back 0 zwin 0 bytes 0 seq 1 ack 1003 win 0 prev 0\n"
    "ev 51000000-51000000 f22 2>3 c1 band 0 flags 00 marks 40 pkts 1 back 0 zwin 0 bytes 1 seq 0 ack 0 win 0 prev 1\n"
    "ev 52000000-52000000 f23 3>2 c1 band 0 flags 00 marks 40 pkts 1 back 0 zwin 0 bytes 3 seq 0 ack 0 win 0 prev 3\n"
    "ev 53000000-53000000 f24 4>1 c2 band 0 flags 02 marks 01 pkts 1 back 0 zwin 0 bytes 0 seq 0 ack 0 win 65535 prev 0\n"
    "ev 54000000-54000000 f25 1>4 c2 band 0 flags 14 marks 04 pkts 1 back 0 zwin 0 bytes 0 seq 0 ack 1 win 65535 prev 0\n"
    "ev 55000000-55000000 f26 0>1 c0 band 0 flags 11 marks 02 pkts 1 back 0 zwin 0 bytes 0 seq 1003 ack 1 win 65535 prev 0\n"
    "ev 56000000-56000000 f27 1>0 c0 band 0 flags 11 marks 02 pkts 1 back 0 zwin 0 bytes 0 seq 1 ack 1004 win 65535 prev 0\n"
    "ev 57000000-57000000 f28 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 0 seq 1004 ack 2 win 65535 prev 0\n";

/* Write the capture, read its ladder under o into *l (free it, then
 * done_ladder). */
static void read_ladder(const struct nr_ladder_opts *o, struct nr_ladder *l)
{
    char err[NR_ERRBUF_SIZE];

    write_capture();
    if (nr_ladder_read(path, NULL, 0, o, NULL, l, err) < 0)
        fail_msg("%s", err);
}

static void done_ladder(struct nr_ladder *l)
{
    nr_ladder_free(l);
    unlink(path);
}

/* The ladder of the capture under o, dumped, must be want. */
static void ladder_is(const struct nr_ladder_opts *o, const char *want_text)
{
    struct nr_ladder l;
    char *text;

    read_ladder(o, &l);
    text = dump(&l);
    assert_string_equal(text, want_text);
    free(text);
    done_ladder(&l);
}

static void whole_ladder(void **state)
{
    struct nr_ladder_opts o = { 0 };

    (void)state;
    ladder_is(&o, want);
}

static const char want_limited[] =
    "lanes 2 conns 1 frames 28 drawn 6 cut 16 outside 6 undrawable 0 gap 0 first 1000001000000 last 1000058000000\n"
    "lane 0 '' 127.0.0.1:40000 v4 port 40000 others 0 pkts 15\n"
    "lane 1 '' 127.0.0.1:7000 v4 port 7000 others 0 pkts 7\n"
    "ev 2000000-2000000 f3 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 0 seq 1 ack 1 win 65535 prev 0\n"
    "ev 3000000-3000000 f4 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 100 seq 1 ack 1 win 65535 prev 48\n"
    "ev 4000000-4000000 f5 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 100 seq 101 ack 1 win 65535 prev 48\n"
    "ev 5000000-5000000 f6 1>0 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 0 seq 1 ack 201 win 65535 prev 0\n"
    "ev 6000000-6000000 f7 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 100 seq 201 ack 1 win 65535 prev 48\n"
    "ev 7000000-7000000 f8 0>1 c0 band 0 flags 10 marks 00 pkts 1 back 0 zwin 0 bytes 100 seq 301 ack 1 win 65535 prev 48\n";

/* The same capture with limits: 2 lanes (the rest in the lane of others),
 * 6 events, no band under 20 packets, only the first connection, from
 * 2 ms on. */
static void limited_ladder(void **state)
{
    struct nr_ladder_opts o = { .max_events = 6, .max_lanes = 2, .band_min = 20, .has_flow = 1,
                                .flow_index = 0, .from_ns = 2000000 };

    (void)state;
    ladder_is(&o, want_limited);
}

/* Two lanes for three connections: the third lane is the lane of others,
 * holding every endpoint past the first two. */
static void lane_of_others(void **state)
{
    struct nr_ladder l;
    struct nr_ladder_opts o = { .max_lanes = 2 };

    (void)state;
    read_ladder(&o, &l);
    assert_int_equal(l.nlanes, 3);
    assert_string_equal(l.lanes[2].addr, "");
    assert_int_equal(l.lanes[2].others, 3);
    assert_int_equal(l.lanes[2].pkts, 3);
    assert_int_equal(l.ev[7].from, 2); /* the UDP query */
    assert_int_equal(l.ev[7].to, 2);
    assert_int_equal(l.ev[9].from, 2); /* the second connection's SYN */
    assert_int_equal(l.ev[9].to, 1);
    done_ladder(&l);
}

/* A burst of exactly band_min packets is a band (15 here: the 10 data
 * segments and 5 ACKs), one packet fewer than band_min is not. */
static void band_at_its_minimum(void **state)
{
    (void)state;
    for (uint32_t min = 15; min <= 16; min++) {
        struct nr_ladder l;
        struct nr_ladder_opts o = { .band_min = min };

        read_ladder(&o, &l);
        assert_int_equal(l.ev[3].band, min == 15);
        assert_int_equal(l.ev[3].npkts, min == 15 ? 15 : 1);
        assert_int_equal(l.nev, min == 15 ? 14 : 28);
        done_ladder(&l);
    }
}

/* A pause longer than band_gap_ns ends a burst: three data segments, 30 ms,
 * three more are two bands of 3 (band_min 3), not one of 6. */
static void pause_ends_a_burst(void **state)
{
    struct pg_sink s = { .t_ns = 1000000000000LL };
    struct pg_conn a;
    struct nr_ladder l;
    struct nr_ladder_opts o = { .band_min = 3 };
    char err[NR_ERRBUF_SIZE];

    (void)state;
    open_capture(&s);
    pg_conn_init(&a, &s, 40000, 7000, 1000, 5000);
    pg_handshake(&a);                                      /* frames 1-3 */
    for (int i = 0; i < 6; i++) {                          /* frames 4-9 */
        if (i == 3)
            s.t_ns += 30000000;
        pg_seg(&a, 0, NR_TCP_ACK, "data", 4);
    }
    pg_close_file(&s);
    if (nr_ladder_read(path, NULL, 0, &o, NULL, &l, err) < 0)
        fail_msg("%s", err);
    assert_int_equal(l.nev, 5);
    for (size_t i = 3; i < 5; i++) {
        assert_int_equal(l.ev[i].band, 1);
        assert_int_equal(l.ev[i].npkts, 3);
        assert_int_equal(l.ev[i].frame, 4 + 3 * (i - 3));
    }
    nr_ladder_free(&l);
    unlink(path);
}

/* 70 connections (past the first table of 64); a bare RST after the
 * handshake has no relative ack (0), its seq is relative. */
static void many_conns_bare_rst(void **state)
{
    struct pg_sink s = { .t_ns = 1000000000000LL };
    struct pg_conn a;
    struct nr_ladder l;
    struct nr_ladder_opts o = { .max_lanes = 200, .max_events = 1000 };
    char err[NR_ERRBUF_SIZE];
    int fd;

    strcpy(path + strlen(path) - 6, "XXXXXX");
    fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pg_open_file(&s, path), 0);
    pg_conn_init(&a, &s, 30000, 80, 10, 20);
    pg_handshake(&a);
    pg_seg(&a, 0, NR_TCP_RST, NULL, 0);
    for (uint16_t i = 1; i < 70; i++) {
        struct pg_conn c;
        pg_conn_init(&c, &s, (uint16_t)(30000 + i), 80, 10, 20);
        pg_seg(&c, 0, NR_TCP_SYN, NULL, 0);
    }
    pg_close_file(&s);
    alarm(20);
    if (nr_ladder_read(path, NULL, 0, &o, NULL, &l, err) < 0)
        fail_msg("%s", err);
    alarm(0);
    assert_int_equal(l.conns, 70);
    assert_int_equal(l.nev, 73);
    assert_int_equal(l.ev[3].flags, NR_TCP_RST);
    assert_int_equal(l.ev[3].rseq, 1);
    assert_int_equal(l.ev[3].rack, 0);
    assert_int_equal(l.ev[72].conn, 69);
    nr_ladder_free(&l);
    unlink(path);
    strcpy(path + strlen(path) - 6, "XXXXXX");
}

/* Reading a ladder and freeing it gives back every byte (mallinfo2 with
 * glibc's thread cache off: see main). */
static void read_and_free_leave_nothing(void **state)
{
    struct nr_ladder l;
    struct nr_ladder_opts o = { .band_min = 4 };
    struct mallinfo2 before, after;

    (void)state;
    read_ladder(&o, &l);
    done_ladder(&l);
    write_capture();
    before = mallinfo2();
    {
        char err[NR_ERRBUF_SIZE];
        int rc = nr_ladder_read(path, NULL, 0, &o, NULL, &l, err);
        if (rc == 0)
            nr_ladder_free(&l);
        after = mallinfo2();
        assert_int_equal(rc, 0);
    }
    unlink(path);
    assert_int_equal(after.uordblks, before.uordblks);
}

int main(int argc, char **argv)
{
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact for the leak checks */
    const struct CMUnitTest tests[] = {
        heap_exact_test(whole_ladder),
        heap_exact_test(limited_ladder),
        heap_exact_test(lane_of_others),
        heap_exact_test(band_at_its_minimum),
        heap_exact_test(pause_ends_a_burst),
        heap_exact_test(many_conns_bare_rst),
        heap_exact_test(read_and_free_leave_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
