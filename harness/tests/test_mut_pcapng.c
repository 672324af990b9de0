/* Unit tests of pcapng reading (nr_pcapng.c through nr_pktfile_read_mem)
 * written for make mutate's survivors: each interface's timestamp
 * resolution (the default microseconds, decimal and binary if_tsresol, one
 * finer than nanoseconds) and if_tsoffset give the right nanoseconds; a
 * simple packet block is cut to its interface's snap length; the capture
 * is reported as pcapng with the first interface's link type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_pktfile.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolutions_offsets_snaplen),
        cmocka_unit_test(truncated_file_record),
        cmocka_unit_test(short_packet_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
