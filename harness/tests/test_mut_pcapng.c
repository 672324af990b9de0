/* Unit tests of pcapng reading (nr_pcapng.c through nr_pktfile_read_mem)
 * written for make mutate's survivors: each interface's timestamp
 * resolution (the default microseconds, decimal and binary if_tsresol, one
 * finer than nanoseconds) and if_tsoffset give the right nanoseconds; a
 * simple packet block is cut to its interface's snap length; the capture
 * is reported as pcapng with the first interface's link type. */
#define _GNU_SOURCE /* memrchr (fault_inproc.h) */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "heap_exact.h"
#include "tests/fault_inproc.h"

#include "nr_err.h"
#include "nr_pcapng.h"
#include "nr_pktfile.h"
#include "pktgen.h"

/* A capture under construction, little-endian. */
struct cap {
    uint8_t b[4096];
    size_t n;
};

static void put32(struct cap *c, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        c->b[c->n++] = (uint8_t)(v >> (8 * i));
}

static void put16(struct cap *c, uint16_t v)
{
    c->b[c->n++] = (uint8_t)v;
    c->b[c->n++] = (uint8_t)(v >> 8);
}

/* Open a block of type t; returns its start for end_block. */
static size_t begin_block(struct cap *c, uint32_t t)
{
    size_t at = c->n;

    put32(c, t);
    put32(c, 0); /* length, set by end_block */
    return at;
}

static void end_block(struct cap *c, size_t at)
{
    uint32_t len;

    while (c->n % 4)
        c->b[c->n++] = 0;
    len = (uint32_t)(c->n - at + 4);
    put32(c, len);
    for (int i = 0; i < 4; i++)
        c->b[at + 4 + (size_t)i] = (uint8_t)(len >> (8 * i));
}

static void shb(struct cap *c)
{
    size_t at = begin_block(c, 0x0a0d0d0a);

    put32(c, 0x1a2b3c4d);
    put16(c, 1);
    put16(c, 0);
    put32(c, 0xffffffff);
    put32(c, 0xffffffff);
    end_block(c, at);
}

/* An interface of link type 1 (Ethernet) with snaplen snap; tsresol < 0:
 * no if_tsresol option; tsoffset_s != 0: an if_tsoffset option. */
static void idb(struct cap *c, uint32_t snap, int tsresol, int64_t tsoffset_s)
{
    size_t at = begin_block(c, 1);

    put16(c, 1);
    put16(c, 0);
    put32(c, snap);
    if (tsresol >= 0) {
        put16(c, 9);
        put16(c, 1);
        put32(c, (uint32_t)tsresol); /* the value byte, then padding */
    }
    if (tsoffset_s) {
        put16(c, 14);
        put16(c, 8);
        put32(c, (uint32_t)tsoffset_s);
        put32(c, (uint32_t)((uint64_t)tsoffset_s >> 32));
    }
    put16(c, 0);
    put16(c, 0);
    end_block(c, at);
}

static void epb(struct cap *c, uint32_t ifid, uint64_t units, uint32_t caplen)
{
    size_t at = begin_block(c, 6);

    put32(c, ifid);
    put32(c, (uint32_t)(units >> 32));
    put32(c, (uint32_t)units);
    put32(c, caplen);
    put32(c, caplen);
    memset(c->b + c->n, 0, caplen);
    c->n += caplen;
    end_block(c, at);
}

static void spb(struct cap *c, uint32_t len)
{
    size_t at = begin_block(c, 3);

    put32(c, len);
    memset(c->b + c->n, 0, len);
    c->n += len;
    end_block(c, at);
}

/* What the per-frame observer saw. */
struct seen {
    int n;
    int64_t ts[8];
    uint32_t caplen[8];
};

static void observe(void *ctx, int64_t ts_ns, const uint8_t *frame, uint32_t caplen, int status,
                    const struct nr_pkt *p, long conn)
{
    struct seen *s = ctx;

    (void)frame, (void)status, (void)p, (void)conn;
    if (s->n < 8) {
        s->ts[s->n] = ts_ns;
        s->caplen[s->n] = caplen;
    }
    s->n++;
}

static void resolutions_offsets_snaplen(void **state)
{
    static struct cap c;
    struct seen seen = { 0 };
    struct nr_pktfile_opts o = { .fn = observe, .ctx = &seen };
    struct nr_pktfile pf;
    char err[NR_ERRBUF_SIZE] = "";

    (void)state;
    c.n = 0;
    shb(&c);
    idb(&c, 40, -1, 0);       /* 0: microseconds by default */
    idb(&c, 0, 9, 0);         /* 1: nanoseconds */
    idb(&c, 0, 3, 0);         /* 2: milliseconds */
    idb(&c, 0, 0x80 | 10, 0); /* 3: 2^-10 s */
    idb(&c, 0, 12, 5);        /* 4: picoseconds, 5 s offset */
    epb(&c, 0, 1000000, 20);
    epb(&c, 1, 1000000, 20);
    epb(&c, 2, 1000000, 20);
    epb(&c, 3, 1000000, 20);
    epb(&c, 4, 1000000, 20);
    spb(&c, 60);              /* interface 0: cut to its 40-byte snaplen */
    if (nr_pktfile_read_mem(c.b, c.n, &o, &pf, err) != 0)
        fail_msg("read: %s", err);
    assert_int_equal(pf.pcapng, 1);
    assert_int_equal(pf.dlt, 1);
    assert_int_equal(seen.n, 6);
    assert_int_equal(seen.ts[0], 1000000000LL);
    assert_int_equal(seen.ts[1], 1000000LL);
    assert_int_equal(seen.ts[2], 1000000000000LL);
    assert_int_equal(seen.ts[3], 976562500000LL);
    assert_int_equal(seen.ts[4], 5000001000LL);
    assert_int_equal(seen.caplen[0], 20);
    assert_int_equal(seen.caplen[5], 40);
    nr_pktfile_free(&pf);
}

/* A classic pcap file (microseconds) whose last record claims more bytes
 * than the file holds: read from a file, the first frame's time is in
 * nanoseconds, the error names the record's offset and the bytes left, and
 * what came before is kept with partial_ok. */
static void truncated_file_record(void **state)
{
    static struct cap c;
    char path[] = "/tmp/mutpcap.XXXXXX", err[NR_ERRBUF_SIZE] = "";
    struct seen seen = { 0 };
    struct nr_pktfile_opts o = { .partial_ok = 1, .fn = observe, .ctx = &seen };
    struct nr_pktfile pf;
    FILE *f;
    int fd, rc;

    (void)state;
    c.n = 0;
    put32(&c, 0xa1b2c3d4); /* microsecond pcap, little-endian */
    put16(&c, 2);
    put16(&c, 4);
    put32(&c, 0);
    put32(&c, 0);
    put32(&c, 65535);
    put32(&c, 1);
    for (int rec = 0; rec < 2; rec++) {
        put32(&c, 1); /* 1 s 5 us */
        put32(&c, 5);
        put32(&c, rec ? 100 : 20); /* the second claims 100 bytes */
        put32(&c, rec ? 100 : 20);
        memset(c.b + c.n, 0, 20);
        c.n += 20;
    }
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(c.b, 1, c.n, f), c.n);
    fclose(f);
    rc = nr_pktfile_read_file(path, &o, &pf, err);
    unlink(path);
    assert_int_equal(rc, 1);
    if (!strstr(err, "record at offset 60: caplen 100 but only 20 bytes left in the file"))
        fail_msg("error '%s'", err);
    assert_int_equal(pf.st.frames, 1);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ts[0], 1000005000LL);
    nr_pktfile_free(&pf);
}

/* An obsolete packet block (type 2) too short for its fixed fields is
 * damage, reported at its offset. */
static void short_packet_block(void **state)
{
    static struct cap c;
    struct nr_pktfile_opts o = { 0 };
    struct nr_pktfile pf;
    char err[NR_ERRBUF_SIZE] = "";
    size_t at;

    (void)state;
    c.n = 0;
    shb(&c);
    idb(&c, 0, -1, 0);
    at = begin_block(&c, 2);
    put16(&c, 0); /* interface, drops count, then only 4 of 16 bytes */
    put16(&c, 0);
    put32(&c, 0);
    end_block(&c, at);
    assert_int_equal(nr_pktfile_read_mem(c.b, c.n, &o, &pf, err), -1);
    if (!strstr(err, "packet block shorter than 20 bytes"))
        fail_msg("error '%s'", err);
}

/* A block cut by one byte at the end of the file is damage named at its
 * offset; what came before it is kept with partial_ok. */
static void block_cut_by_one_byte(void **state)
{
    static struct cap c;
    struct seen seen = { 0 };
    struct nr_pktfile_opts o = { .partial_ok = 1, .fn = observe, .ctx = &seen };
    struct nr_pktfile pf;
    char err[NR_ERRBUF_SIZE] = "";

    (void)state;
    c.n = 0;
    shb(&c);
    idb(&c, 0, -1, 0);
    epb(&c, 0, 1, 20); /* at 52 */
    epb(&c, 0, 2, 20); /* at 104, 52 bytes */
    assert_int_equal(nr_pktfile_read_mem(c.b, c.n - 1, &o, &pf, err), 1);
    if (!strstr(err, "block at offset 104: truncated (51 of 52 bytes)"))
        fail_msg("error '%s'", err);
    assert_int_equal(seen.n, 1);
    assert_int_equal(pf.st.frames, 1);
    nr_pktfile_free(&pf);
    assert_int_equal(nr_pktfile_read_mem(c.b, c.n, &o, &pf, err), 0);
    assert_int_equal(pf.st.frames, 2);
    nr_pktfile_free(&pf);
}

/* A block whose length is impossible: damage named with the block's
 * offset and what is wrong with the length. */
static void bad_block_length_named(void **state)
{
    static struct cap c;
    struct nr_pktfile_opts o = { .partial_ok = 1 };
    struct nr_pktfile pf;
    char err[NR_ERRBUF_SIZE] = "";

    (void)state;
    c.n = 0;
    shb(&c);
    idb(&c, 0, -1, 0); /* the packet block at 52 */
    epb(&c, 0, 1, 20);
    c.b[52 + 4] = 13; /* a length that is not a multiple of 4 */
    assert_int_equal(nr_pktfile_read_mem(c.b, c.n, &o, &pf, err), 1);
    if (!strstr(err, ": block at offset 52: ") || !strstr(err, "13"))
        fail_msg("error '%s'", err);
    nr_pktfile_free(&pf);
}

/* A path that opens but cannot be read (a directory): -1 naming the read
 * error, at once. */
static void unreadable_path(void **state)
{
    struct nr_pktfile pf;
    char err[NR_ERRBUF_SIZE] = "";

    (void)state;
    assert_int_equal(nr_pktfile_read_file("/tmp", NULL, &pf, err), -1);
    if (!strstr(err, "/tmp") || !strstr(err, strerror(EISDIR)))
        fail_msg("error '%s'", err);
}

/* A capture file to read: the two-record classic pcap of 88 bytes. */
static void write_capture(char *path)
{
    static const uint8_t hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                     0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0 };
    uint8_t rec[16 + 20] = { 1, 0, 0, 0, 5, 0, 0, 0, 20, 0, 0, 0, 20, 0, 0, 0 };
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, hdr, sizeof(hdr)), sizeof(hdr));
    assert_int_equal(write(fd, rec, sizeof(rec)), sizeof(rec));
    assert_int_equal(write(fd, rec, sizeof(rec)), sizeof(rec));
    assert_int_equal(close(fd), 0);
}

/* The file read is closed when the call returns, even when it was opened
 * as descriptor 0 (stdin closed); "-" reads stdin and leaves it open. */
static void read_file_closes_what_it_opened(void **state)
{
    char path[] = "/tmp/mutpcap.XXXXXX", err[NR_ERRBUF_SIZE] = "";
    struct nr_pktfile pf;
    int saved = dup(0), fd;

    (void)state;
    assert_true(saved >= 0);
    write_capture(path);
    close(0);
    assert_int_equal(nr_pktfile_read_file(path, NULL, &pf, err), 0);
    assert_int_equal(pf.st.frames, 2);
    nr_pktfile_free(&pf);
    errno = 0;
    if (fcntl(0, F_GETFD) != -1 || errno != EBADF)
        fail_msg("the capture opened as descriptor 0 is still open");
    fd = open(path, O_RDONLY);
    assert_int_equal(fd, 0); /* stdin is now the capture */
    assert_int_equal(nr_pktfile_read_file("-", NULL, &pf, err), 0);
    assert_int_equal(pf.st.frames, 2);
    nr_pktfile_free(&pf);
    assert_int_not_equal(fcntl(0, F_GETFD), -1);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    unlink(path);
}

/* A TCP segment from 10.0.0.1:40000 to 10.0.0.2:80 with 5 bytes, as a
 * frame of f (Ethernet): its length. */
static size_t tcp_frame(uint8_t *f)
{
    return pg_tcp4(f, 0x0a000001, 40000, 0x0a000002, 80, 1000, 0, NR_TCP_SYN, 1000, "hello", 5);
}

/* Words (a record's header or a block's fields), then a frame. */
static void put_record(struct cap *c, const uint32_t *w, size_t nw, const uint8_t *f, size_t n)
{
    for (size_t i = 0; i < nw; i++)
        put32(c, w[i]);
    memcpy(c->b + c->n, f, n);
    c->n += n;
}

/* Every allocation of a read failing in turn (malloc, calloc, realloc):
 * -1 with the memory blamed, and nothing left to free (heap_exact_test);
 * the same capture read whole once the fault is off.  Classic pcap and
 * pcapng. */
static void read_out_of_memory(void **state)
{
    static const char *const fns[] = { "malloc", "calloc", "realloc" };
    static struct cap classic, ng;
    uint8_t f[128];
    size_t n = tcp_frame(f), at;
    struct cap *caps[2] = { &classic, &ng };
    int failed = 0;

    (void)state;
    classic.n = 0;
    put32(&classic, 0xa1b2c3d4);
    put16(&classic, 2);
    put16(&classic, 4);
    for (int i = 0; i < 3; i++)
        put32(&classic, i == 2 ? 65535 : 0);
    put32(&classic, 1);
    put_record(&classic, (const uint32_t[]){ 1, 0, (uint32_t)n, (uint32_t)n }, 4, f, n);
    ng.n = 0;
    shb(&ng);
    idb(&ng, 0, -1, 0);
    at = begin_block(&ng, 6);
    put_record(&ng, (const uint32_t[]){ 0, 0, 1, (uint32_t)n, (uint32_t)n }, 5, f, n);
    end_block(&ng, at);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < 3; i++) {
            for (int nth = 1; nth < 100; nth++) {
                struct nr_pktfile pf;
                char spec[32], err[NR_ERRBUF_SIZE] = "";
                unsigned long hit;
                int rc;
                snprintf(spec, sizeof(spec), "%s:%d", fns[i], nth);
                fault_inproc_set(spec);
                rc = nr_pktfile_read_mem(caps[k]->b, caps[k]->n, NULL, &pf, err);
                hit = fault_inproc_off();
                if (!hit) {
                    if (rc != 0)
                        fail_msg("%s, capture %d: %d, %s", spec, k, rc, err);
                    assert_int_equal(pf.st.tcp, 1);
                    assert_int_equal(nr_flowtab_count(pf.ft), 1);
                    nr_pktfile_free(&pf);
                    break;
                }
                if (rc == 0) { /* a failure something else absorbed */
                    nr_pktfile_free(&pf);
                    continue;
                }
                if (rc != -1 || (!strstr(err, "out of memory") && !strstr(err, "Cannot allocate")))
                    fail_msg("%s, capture %d: returned %d, '%s'", spec, k, rc, err);
                failed++;
            }
        }
    }
    assert_true(failed >= 6);
}

/* --- the block functions themselves, in either byte order ---------------- */

/* A block of type t in byte order be (1: big-endian) from 32-bit words
 * (body), with its two lengths. */
struct blk {
    uint8_t b[256];
    uint32_t len;
};

static void w32(uint8_t *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (be ? 24 - 8 * i : 8 * i));
}

static void mkblk(struct blk *k, int be, uint32_t type, const uint32_t *body, size_t nbody)
{
    k->len = (uint32_t)(12 + 4 * nbody);
    w32(k->b, type, be);
    w32(k->b + 4, k->len, be);
    for (size_t i = 0; i < nbody; i++)
        w32(k->b + 8 + 4 * i, body[i], be);
    w32(k->b + k->len - 4, k->len, be);
}

/* Two 16-bit values as one 32-bit word of the body in byte order be. */
static uint32_t pair(uint16_t a, uint16_t b, int be)
{
    return be ? (uint32_t)a << 16 | b : (uint32_t)b << 16 | a;
}

static void block_lengths(void **state)
{
    struct nr_pcapng g = { .nifs = 3 };
    uint8_t h[12];
    uint32_t len = 0;
    char err[NR_ERRBUF_SIZE];

    (void)state;
    w32(h, 6, 0);
    w32(h + 4, 32, 0);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), -1);
    assert_string_equal(err, "block type 0x00000006 before any section header");
    /* a big-endian section */
    w32(h, 0x0a0d0d0a, 1);
    w32(h + 4, 28, 1);
    w32(h + 8, 0x1a2b3c4d, 1);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), 0);
    assert_int_equal(len, 28);
    assert_int_equal(g.swapped, 1);
    assert_int_equal(g.in_section, 1);
    assert_int_equal(g.nifs, 0); /* a new section describes its own interfaces */
    w32(h, 6, 1);
    w32(h + 4, 12, 1);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), 0);
    assert_int_equal(len, 12);
    w32(h + 4, 16u << 20, 1);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), 0);
    assert_int_equal(len, 16u << 20);
    w32(h + 4, (16u << 20) + 4, 1);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), -1);
    assert_string_equal(err, "block length 16777220 exceeds the maximum of 16777216");
    w32(h + 4, 8, 1);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), -1);
    assert_string_equal(err, "block length 8 is not a multiple of 4 of at least 12");
    w32(h + 4, 14, 1);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), -1);
    assert_string_equal(err, "block length 14 is not a multiple of 4 of at least 12");
    /* back to little-endian in the next section */
    w32(h, 0x0a0d0d0a, 0);
    w32(h + 4, 28, 0);
    w32(h + 8, 0x1a2b3c4d, 0);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), 0);
    assert_int_equal(g.swapped, 0);
    assert_int_equal(len, 28);
    w32(h + 8, 0x1a2b3c4e, 0);
    assert_int_equal(nr_pcapng_block_len(&g, h, &len, err), -1);
    assert_string_equal(err, "section header with bad byte-order magic 0x1a2b3c4e");
    nr_pcapng_free(&g);
}

/* Interfaces and packets of every kind, in both byte orders (a big-endian
 * section's block types were read little-endian: its interfaces and packets
 * were skipped as unknown blocks). */
static void blocks_both_orders(void **state)
{
    char err[NR_ERRBUF_SIZE];

    (void)state;
    for (int be = 0; be <= 1; be++) {
        struct nr_pcapng g = { .swapped = be, .in_section = 1 };
        struct nr_pcapng_pkt pkt;
        struct blk k;
        /* link type 113, snaplen 6, if_tsresol 3 (ms), if_tsoffset 2 s, end */
        const uint32_t idb0[] = { pair(113, 0, be), 6, pair(9, 1, be), be ? 3u << 24 : 3, pair(14, 8, be),
                                  be ? 0 : 2, be ? 2 : 0, pair(0, 0, be) };
        const uint32_t idb1[] = { pair(1, 0, be), 0 }; /* no options at all */
        const uint32_t epb[] = { 1, 0, 7, 4, 9, 0x61626364 };
        const uint32_t opb[] = { pair(0, 0, be), 0, 5, 4, 4, 0x65666768 };
        const uint32_t spb[] = { 9, 0x31323334, 0x35363738 };
        const uint32_t spb_short[] = { 3, 0x31323334 };

        mkblk(&k, be, 1, idb0, 8);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
        assert_int_equal(g.nifs, 1);
        assert_int_equal(g.ifs[0].dlt, 113);
        assert_int_equal(g.ifs[0].snaplen, 6);
        assert_int_equal(g.ifs[0].tsresol, 3);
        assert_int_equal(g.ifs[0].tsoffset, 2);
        mkblk(&k, be, 1, idb1, 2);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
        assert_int_equal(g.ifs[1].tsresol, 6); /* the default: microseconds */
        assert_int_equal(g.ifs[1].tsoffset, 0);
        /* an enhanced packet on interface 1 */
        mkblk(&k, be, 6, epb, 6);
        memset(&pkt, 0, sizeof(pkt));
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        assert_int_equal(pkt.dlt, 1);
        assert_int_equal(pkt.ts_ns, 7000);
        assert_int_equal(pkt.caplen, 4);
        assert_int_equal(pkt.len, 9);
        assert_ptr_equal(pkt.data, k.b + 28);
        /* an obsolete packet block on interface 0: ms plus 2 s */
        mkblk(&k, be, 2, opb, 6);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        assert_int_equal(pkt.dlt, 113);
        assert_int_equal(pkt.ts_ns, 2005000000);
        assert_int_equal(pkt.len, 4);
        /* the same on interface 1: its link type, microseconds, no offset */
        const uint32_t opb1[] = { pair(1, 0, be), 0, 5, 4, 4, 0x65666768 };
        mkblk(&k, be, 2, opb1, 6);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        assert_int_equal(pkt.dlt, 1);
        assert_int_equal(pkt.ts_ns, 5000);
        /* a simple packet: interface 0, cut to its snap length 6 */
        mkblk(&k, be, 3, spb, 3);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        assert_int_equal(pkt.dlt, 113);
        assert_int_equal(pkt.caplen, 6);
        assert_int_equal(pkt.len, 9);
        assert_ptr_equal(pkt.data, k.b + 12);
        /* shorter than its block: its own length */
        mkblk(&k, be, 3, spb_short, 2);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        assert_int_equal(pkt.caplen, 3);
        assert_int_equal(pkt.len, 3);
        /* a block of no interest */
        mkblk(&k, be, 5, spb, 3);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
        nr_pcapng_free(&g);
        assert_null(g.ifs);
        assert_int_equal(g.nifs, 0);
        assert_int_equal(g.cap, 0);
    }
}

static void block_errors(void **state)
{
    struct nr_pcapng g = { .in_section = 1 };
    struct nr_pcapng_pkt pkt;
    struct blk k;
    char err[NR_ERRBUF_SIZE];
    const uint32_t idb[] = { pair(1, 0, 0), 0 };
    const uint32_t epb_if1[] = { 1, 0, 0, 0, 0 };
    const uint32_t epb_big[] = { 0, 0, 0, 100, 100, 0 };
    const uint32_t epb_short[] = { 0, 0, 0, 0 };
    const uint32_t opb_short[] = { 0, 0, 0, 0 };
    const uint32_t spb_none[] = { 0 };

    (void)state;
    mkblk(&k, 0, 1, idb, 1);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "interface description block shorter than 8 bytes");
    /* a packet before any interface: the simple block's interface 0 too */
    mkblk(&k, 0, 3, spb_none, 1);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "packet for interface 0, but 0 interfaces are described");
    mkblk(&k, 0, 1, idb, 2);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
    mkblk(&k, 0, 3, spb_none, 1);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
    assert_int_equal(pkt.caplen, 0);
    assert_int_equal(pkt.ts_ns, 0); /* a simple packet block has no time */
    mkblk(&k, 0, 6, epb_if1, 5);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "packet for interface 1, but 1 interfaces are described");
    mkblk(&k, 0, 6, epb_big, 6);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "captured length 100 exceeds the block's 4 bytes of data");
    mkblk(&k, 0, 6, epb_short, 4);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "packet block shorter than 20 bytes");
    mkblk(&k, 0, 6, epb_short, 0);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "enhanced packet block shorter than 20 bytes");
    mkblk(&k, 0, 2, opb_short, 0);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "packet block shorter than 20 bytes");
    mkblk(&k, 0, 3, spb_none, 0);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "simple packet block shorter than 4 bytes");
    mkblk(&k, 0, 6, epb_short, 4);
    w32(k.b + k.len - 4, 36, 0);
    assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), -1);
    assert_string_equal(err, "block length 36 at the end does not match 28 at the start");
    nr_pcapng_free(&g);
}

/* Timestamps at the edges of the resolutions: 2^-64 s, 2^-63 s, 1 s units,
 * one finer than ns, 10^-127 s, saturation, a negative offset; five
 * interfaces (the table grows past 4); options cut short. */
static void timestamp_edges(void **state)
{
    static const struct { uint8_t res; uint64_t units; int64_t off; int64_t want; } cases[] = {
        { 0x80 | 64, (uint64_t)1 << 63, 0, 0 },
        { 0x80 | 63, (uint64_t)1 << 63, 0, 1000000000 },
        { 0x80 | 1, 3, 0, 1500000000 },
        { 0, 5, 0, 5000000000 },
        { 9, 5, 0, 5 },
        { 10, 55, 0, 5 },
        { 0x7f, UINT64_MAX, 0, 0 },
        { 0, (uint64_t)1 << 40, 0, INT64_MAX },
        { 6, 3000000, -1, 2000000000 },
    };
    char err[NR_ERRBUF_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nr_pcapng g = { .in_section = 1 };
        struct nr_pcapng_pkt pkt;
        struct blk k;
        const uint32_t idb0[] = { pair(1, 0, 0), 0 };
        const uint32_t idb[] = { pair(1, 0, 0), 0, pair(9, 1, 0), cases[i].res, pair(14, 8, 0),
                                 (uint32_t)cases[i].off, (uint32_t)((uint64_t)cases[i].off >> 32),
                                 pair(0, 0, 0) };
        const uint32_t epb[] = { 4, (uint32_t)(cases[i].units >> 32), (uint32_t)cases[i].units,
                                 0, 0 };

        for (int n = 0; n < 4; n++) {
            mkblk(&k, 0, 1, idb0, 2);
            assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
        }
        mkblk(&k, 0, 1, idb, 8);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
        assert_int_equal(g.nifs, 5);
        mkblk(&k, 0, 6, epb, 5);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        if (pkt.ts_ns != cases[i].want)
            fail_msg("case %zu: %lld ns, want %lld", i, (long long)pkt.ts_ns,
                     (long long)cases[i].want);
        nr_pcapng_free(&g);
    }
    {
        struct nr_pcapng g = { .in_section = 1 };
        struct nr_pcapng_pkt pkt;
        struct blk k;
        /* a 1-byte tsresol (padded), an empty one and a short tsoffset (both
         * ignored), then an option running past the block: still usable */
        const uint32_t idb[] = { pair(1, 0, 0), 0, pair(9, 1, 0), 0x0a, pair(9, 0, 0),
                                 pair(14, 4, 0), 5, pair(2, 40, 0) };
        const uint32_t epb[] = { 0, 0, 50, 0, 0 };

        mkblk(&k, 0, 1, idb, 8);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 0);
        assert_int_equal(g.ifs[0].tsresol, 10);
        assert_int_equal(g.ifs[0].tsoffset, 0);
        mkblk(&k, 0, 6, epb, 5);
        assert_int_equal(nr_pcapng_block(&g, k.b, k.len, &pkt, err), 1);
        assert_int_equal(pkt.ts_ns, 5);
        nr_pcapng_free(&g);
    }
}

/* A file read whole: a TCP stream with a hole the capture never fills is
 * flushed at the end (the hole a gap: 3 + 10 + 3 bytes of stream), stdin
 * ("-") is read and left open, a missing file is -1 with its path and
 * cause and *out zeroed. */
static void file_end_flushes(void **state)
{
    char path[] = "/tmp/nr-mut-pktfile-XXXXXX", err[NR_ERRBUF_SIZE], want[160];
    struct pg_sink sink = { 0 };
    struct pg_conn c;
    struct nr_pktfile out;
    int fd = mkstemp(path), saved;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pg_open_file(&sink, path), 0);
    pg_conn_init(&c, &sink, 40000, 80, 1000, 5000);
    pg_handshake(&c);
    pg_seg(&c, 0, NR_TCP_ACK, "abc", 3);
    pg_seg_at(&c, 0, NR_TCP_ACK, c.seq[0] + 10, "xyz", 3);
    pg_close_file(&sink);
    assert_int_equal(nr_pktfile_read_file(path, NULL, &out, err), 0);
    assert_int_equal(out.st.frames, 5);
    assert_int_equal(nr_flowtab_count(out.ft), 1);
    assert_int_equal(nr_conn_stream_size(nr_flowtab_conn(out.ft, 0), 0), 16);
    nr_pktfile_free(&out);
    /* the same through stdin */
    saved = dup(0);
    fd = open(path, O_RDONLY);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    assert_int_equal(nr_pktfile_read_file("-", NULL, &out, err), 0);
    assert_int_equal(out.st.frames, 5);
    assert_true(fcntl(0, F_GETFD) >= 0); /* not closed */
    nr_pktfile_free(&out);
    dup2(saved, 0);
    close(saved);
    unlink(path);
    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(nr_pktfile_read_file(path, NULL, &out, err), -1);
    snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);
    assert_null(out.ft);
    assert_int_equal(out.st.frames, 0);
}

/* A classic pcap written big-endian (magic a1b2c3d4 in that byte order,
 * and the nanosecond a1b23c4d) is read: its one record, its time. */
static void classic_big_endian(void **state)
{
    static const uint32_t magics[] = { 0xa1b2c3d4u, 0xa1b23c4du };

    (void)state;
    for (size_t m = 0; m < 2; m++) {
        uint8_t cap[24 + 16 + 60] = { 0 };
        struct nr_pktfile out;
        char err[NR_ERRBUF_SIZE];

        w32(cap, magics[m], 1);
        cap[4] = 0, cap[5] = 2, cap[6] = 0, cap[7] = 4; /* version 2.4 */
        w32(cap + 16, 65535, 1);                        /* snaplen */
        w32(cap + 20, 1, 1);                            /* Ethernet */
        w32(cap + 24, 7, 1);                            /* seconds */
        w32(cap + 28, 9, 1);                            /* us or ns */
        w32(cap + 32, 60, 1);
        w32(cap + 36, 60, 1);
        cap[40 + 12] = 0x08; /* an Ethernet frame of zeros, type IPv4 */
        assert_int_equal(nr_pktfile_read_mem(cap, sizeof(cap), NULL, &out, err), 0);
        assert_int_equal(out.st.frames, 1);
        assert_int_equal(out.pcapng, 0);
        nr_pktfile_free(&out);
    }
}

/* A block larger than the reader's first 64 KiB buffer (an EPB of a
 * 70000-byte frame, built on the heap): the buffer grows to hold it, and
 * the frame comes out whole.  An alarm ends the run if the growth never
 * ends (a failure, not a hang). */
static void block_over_64k(void **state)
{
    enum { CAPLEN = 70000 };
    static struct cap c;
    size_t head, total;
    uint8_t *buf, *p;
    struct seen seen = { 0 };
    struct nr_pktfile_opts o = { .fn = observe, .ctx = &seen };
    struct nr_pktfile pf;
    char err[NR_ERRBUF_SIZE] = "";
    uint32_t blen = 32 + CAPLEN; /* header 8, fields 20, frame, trailer 4 */
    int rc;

    (void)state;
    c.n = 0;
    shb(&c);
    idb(&c, 0, -1, 0);
    head = c.n;
    total = head + blen;
    buf = calloc(1, total);
    assert_non_null(buf);
    memcpy(buf, c.b, head);
    p = buf + head;
    w32(p, 6, 0);
    w32(p + 4, blen, 0);
    w32(p + 8, 0, 0);       /* interface 0 */
    w32(p + 12, 0, 0);      /* time, high */
    w32(p + 16, 7, 0);      /* time, low: 7 us */
    w32(p + 20, CAPLEN, 0); /* captured */
    w32(p + 24, CAPLEN, 0); /* on the wire */
    w32(p + blen - 4, blen, 0);
    alarm(3); /* the read takes well under 1 ms */
    rc = nr_pktfile_read_mem(buf, total, &o, &pf, err);
    alarm(0);
    free(buf);
    if (rc != 0)
        fail_msg("read: %d, %s", rc, err);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.caplen[0], CAPLEN);
    assert_int_equal(seen.ts[0], 7000);
    assert_int_equal(pf.st.frames, 1);
    nr_pktfile_free(&pf);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(resolutions_offsets_snaplen),
        heap_exact_test(truncated_file_record),
        heap_exact_test(short_packet_block),
        heap_exact_test(block_cut_by_one_byte),
        heap_exact_test(bad_block_length_named),
        heap_exact_test(unreadable_path),
        heap_exact_test(read_file_closes_what_it_opened),
        heap_exact_test(read_out_of_memory),
        heap_exact_test(block_lengths),
        heap_exact_test(blocks_both_orders),
        heap_exact_test(block_errors),
        heap_exact_test(timestamp_edges),
        heap_exact_test(file_end_flushes),
        heap_exact_test(classic_big_endian),
        heap_exact_test(block_over_64k),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
