/* Unit tests: IP fragment reassembly (nr_frag): any arrival order, the
 * first copy of a byte wins, fragments that fit no datagram are refused
 * and change nothing, timeouts by capture time, the byte cap, fragments
 * cut by the snap length, and random hostile fragments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heap_exact.h"

#include "nr_frag.h"
#include "nr_pkt.h"

#define SEC 1000000000LL

/* A UDP datagram 3:4 with 24 bytes of payload 'a'..'x': 32 bytes. */
static uint8_t dgram[32];

static void make_dgram(void)
{
    static const uint8_t udp[8] = { 0, 3, 0, 4, 0, 32, 0, 0 };
    memcpy(dgram, udp, 8);
    for (int i = 0; i < 24; i++)
        dgram[8 + i] = (uint8_t)('a' + i);
}

/* IPv4 fragment of datagram id: data[0..len) at offset off. */
static struct nr_pkt frag4(uint32_t id, uint32_t off, int more, const uint8_t *data, size_t len)
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

/* The three fragments (0..8, 8..16, 16..32) of dgram, in the order given. */
static int add_in_order(struct nr_fragtab *t, const int order[3], struct nr_pkt *last)
{
    static const uint32_t off[3] = { 0, 8, 16 }, len[3] = { 8, 8, 16 };
    int r = -1;

    for (int i = 0; i < 3; i++) {
        int k = order[i];
        *last = frag4(7, off[k], k < 2, dgram + off[k], len[k]);
        r = nr_frag_add(t, last, i * SEC / 100);
        if (i < 2)
            assert_int_equal(r, NR_FRAG_HELD);
    }
    return r;
}

static void reassembles_in_any_order(void **state)
{
    static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                                      { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    (void)state;
    make_dgram();
    for (int o = 0; o < 6; o++) {
        struct nr_fragtab *t = nr_frag_new();
        struct nr_pkt p;
        assert_non_null(t);
        assert_int_equal(add_in_order(t, orders[o], &p), NR_FRAG_DONE);
        assert_int_equal(p.wirelen, 32);
        assert_int_equal(p.caplen, 32);
        assert_int_equal(p.iplen, 52);
        assert_memory_equal(p.payload, dgram, 32);
        assert_int_equal(nr_pkt_decode_l4(&p), NR_PKT_UDP);
        assert_int_equal(p.sport, 3);
        assert_int_equal(p.dport, 4);
        assert_int_equal(p.caplen, 24);
        assert_memory_equal(p.payload, "abcdefghijklmnopqrstuvwx", 24);
        assert_int_equal(nr_frag_stats(t)->reassembled, 1);
        nr_frag_finish(t);
        assert_int_equal(nr_frag_stats(t)->incomplete, 0);
        nr_frag_free(t);
    }
}

/* Bytes already held are never replaced: a later copy at the same or a
 * lower offset only adds the bytes nobody sent yet. */
static void first_copy_of_a_byte_wins(void **state)
{
    static const uint8_t xs[16] = "XXXXXXXXXXXXXXXX";
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(1, 8, 1, dgram + 8, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(1, 8, 1, xs, 8); /* same offset, other bytes */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(1, 0, 1, xs, 16); /* lower offset over the held 8..16 */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(1, 16, 0, dgram + 16, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_memory_equal(p.payload, xs, 8);
    assert_memory_equal(p.payload + 8, dgram + 8, 24);
    assert_int_equal(nr_frag_stats(t)->overlaps, 2);
    nr_frag_free(t);
}

/* Each refused fragment returns NR_FRAG_BAD and the datagram still
 * completes with its own bytes. */
static void refuses_fragments_that_fit_no_datagram(void **state)
{
    static uint8_t big[2000];
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(2, 65528, 0, big, 16); /* ends past 65535 */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(2, 65000, 0, big, 516); /* 65516: with the 20-byte header past 65535 */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(2, 8, 1, big, 0); /* empty, not the last */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(2, 16, 1, dgram + 16, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(2, 8, 0, big, 8); /* a last fragment ending before held data */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(2, 24, 0, dgram + 24, 8); /* the real last one: 32 bytes */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(2, 24, 0, big, 16); /* a second, different end */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(2, 24, 1, big, 16); /* data past the end */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(2, 0, 1, dgram, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 32);
    assert_memory_equal(p.payload, dgram, 32);
    nr_frag_free(t);
}

/* A datagram is given up NR_FRAG_TIMEOUT_NS of capture time after its
 * first fragment; its later fragments start a new one. */
static void times_out_by_capture_time(void **state)
{
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(3, 0, 1, dgram, 16);
    assert_int_equal(nr_frag_add(t, &p, 100 * SEC), NR_FRAG_HELD);
    p = frag4(4, 0, 1, dgram, 16);
    assert_int_equal(nr_frag_add(t, &p, 100 * SEC + NR_FRAG_TIMEOUT_NS - 1), NR_FRAG_HELD);
    p = frag4(4, 16, 0, dgram + 16, 16); /* id 4 is in time: completes */
    assert_int_equal(nr_frag_add(t, &p, 100 * SEC + NR_FRAG_TIMEOUT_NS), NR_FRAG_DONE);
    p = frag4(3, 16, 0, dgram + 16, 16); /* id 3 has expired: held anew */
    assert_int_equal(nr_frag_add(t, &p, 100 * SEC + NR_FRAG_TIMEOUT_NS + 1), NR_FRAG_HELD);
    assert_int_equal(nr_frag_stats(t)->timeouts, 1);
    p = frag4(3, 0, 1, dgram, 16); /* a capture going backwards expires nothing */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(nr_frag_stats(t)->timeouts, 1);
    nr_frag_free(t);
}

/* Datagrams whose buffers would pass NR_FRAG_MAX_BYTES push out the oldest
 * ones (counted); the newest still complete. */
static void byte_cap_drops_the_oldest(void **state)
{
    static uint8_t z[8], head[65000];
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;
    uint32_t n = 300; /* each holds a 64 KiB buffer: ~21 MiB in all */

    (void)state;
    for (uint32_t id = 0; id < n; id++) {
        p = frag4(100 + id, 65000, 0, z, 8);
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    }
    assert_true(nr_frag_stats(t)->overflows > n / 2);
    assert_true(nr_frag_stats(t)->overflows < n);
    p = frag4(100 + n - 1, 0, 1, head, sizeof(head)); /* the newest completes */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 65008);
    p = frag4(100, 0, 1, head, sizeof(head)); /* the oldest is gone: held anew */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    nr_frag_finish(t);
    assert_int_equal(nr_frag_stats(t)->incomplete + nr_frag_stats(t)->overflows + 1, n + 1);
    nr_frag_free(t);
}

/* A fragment cut by the snap length: the datagram completes, with the
 * bytes captured from its start. */
static void snap_cut_fragment_gives_a_captured_prefix(void **state)
{
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(5, 0, 1, dgram, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(5, 8, 1, dgram + 8, 8);
    p.caplen = 3;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(5, 16, 0, dgram + 16, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 32);
    assert_int_equal(p.caplen, 11);
    assert_int_equal(p.reason, NR_R_TRUNC_DATA);
    assert_int_equal(nr_pkt_decode_l4(&p), NR_PKT_UDP);
    assert_int_equal(p.caplen, 3);
    assert_int_equal(p.wirelen, 24);
    assert_int_equal(p.reason, NR_R_TRUNC_DATA);
    nr_frag_free(t);
}

/* IPv6: keyed by addresses and id; the transport is the next header of
 * the fragment at offset 0. */
static void ipv6_takes_the_first_fragments_next_header(void **state)
{
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(6, 16, 0, dgram + 16, 16);
    p.ipver = 6;
    p.proto = 59; /* whatever a later fragment says */
    p.frag.hdrlen = 40;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(6, 0, 1, dgram, 16);
    p.ipver = 6;
    p.frag.hdrlen = 40;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.proto, IPPROTO_UDP);
    assert_int_equal(p.iplen, 72);
    assert_int_equal(nr_pkt_decode_l4(&p), NR_PKT_UDP);
    nr_frag_free(t);
}

/* The edges of what fits: a datagram of exactly 65535 bytes (IPv4:
 * header included), an empty last fragment, a fragment ending exactly at
 * the known end; fragments keyed apart by id, addresses and (IPv4)
 * protocol. */
static void limits_and_keys(void **state)
{
    static uint8_t big[65535];
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(20, 65000, 0, big, 515); /* 65515 + 20 header bytes: the largest */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(20, 0, 1, big, 65000);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 65515);
    assert_int_equal(p.iplen, 65535);
    p = frag4(21, 0, 1, big, 65528); /* IPv6: 65535 payload bytes after the header */
    p.ipver = 6;
    p.frag.hdrlen = 40;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(21, 65528, 0, big, 7);
    p.ipver = 6;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 65535);
    p = frag4(22, 0, 0, big, 65536); /* longer than any datagram */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(22, 0, 0, big, 8); /* a length past 2^32 (no decoder gives one) */
    p.wirelen = ((size_t)1 << 32) + 8;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(22, 65536, 0, big, 0); /* an offset past it */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(23, 65535, 1, big, 1); /* ends at 65536 */
    p.ipver = 6;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_BAD);
    p = frag4(26, 65535, 0, big, 0); /* an empty last one at the largest offset */
    p.ipver = 6;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(26, 0, 1, big, 65535);
    p.ipver = 6;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 65535);

    /* an empty last fragment gives the end; a fragment ending at it fits */
    p = frag4(24, 32, 0, dgram, 0);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(24, 8, 1, dgram + 8, 24);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    /* the same id from another source, to another destination, with
     * another protocol: other datagrams */
    p = frag4(24, 0, 1, big, 8);
    p.src[3] = 9;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(24, 0, 1, big, 8);
    p.dst[3] = 9;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(24, 0, 1, big, 8);
    p.proto = IPPROTO_TCP;
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(25, 0, 1, big, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(24, 0, 1, dgram, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 32);
    assert_memory_equal(p.payload, dgram, 32);
    assert_int_equal(p.reason, NR_R_NONE);
    assert_int_equal(nr_frag_stats(t)->reassembled, 4);
    assert_int_equal(nr_frag_stats(t)->overlaps, 0);
    nr_frag_finish(t);
    assert_int_equal(nr_frag_stats(t)->incomplete, 4);
    nr_frag_finish(t);
    assert_int_equal(nr_frag_stats(t)->incomplete, 4);
    nr_frag_free(t);
}

/* The cap counts the buffers as allocated (2 KiB steps, with their bitmaps):
 * 3000 datagrams holding 2 KiB each fit in NR_FRAG_MAX_BYTES, nothing is
 * dropped; 4000 do not. */
static void byte_cap_counts_what_is_allocated(void **state)
{
    static uint8_t z[2048];
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    for (uint32_t id = 0; id < 4000; id++) {
        p = frag4(1000 + id, 0, 1, z, sizeof(z));
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
        if (id == 2999)
            assert_int_equal(nr_frag_stats(t)->overflows, 0);
    }
    assert_true(nr_frag_stats(t)->overflows > 0);
    /* the first datagram was dropped: its last fragment starts a new one */
    p = frag4(1000, 2048, 0, z, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    /* the newest is still whole */
    p = frag4(1000 + 3999, 2048, 0, z, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 2056);
    nr_frag_free(t);
}

/* Buffers are whole 2 KiB steps: a datagram holding 2049 bytes has 4 KiB
 * (and its bitmap) counted, so 2000 of them pass NR_FRAG_MAX_BYTES and
 * push out the oldest; the newest is whole, every byte where it was put. */
static void byte_cap_rounds_up_to_a_step(void **state)
{
    static uint8_t z[2049];
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    for (size_t i = 0; i < sizeof(z); i++)
        z[i] = (uint8_t)(i % 251);
    for (uint32_t id = 0; id < 2000; id++) {
        p = frag4(5000 + id, 0, 1, z, sizeof(z));
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    }
    assert_true(nr_frag_stats(t)->overflows > 0);
    p = frag4(5000 + 1999, 2049, 0, z, 7);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 2056);
    assert_memory_equal(p.payload, z, sizeof(z));
    assert_memory_equal(p.payload + sizeof(z), z, 7);
    nr_frag_free(t);
}

/* A repeated last fragment is an overlap, not a second end; a last
 * fragment ending exactly at the held data fits; completed datagrams give
 * back exactly what they held (after 200 of them a second small datagram
 * still fits beside the first). */
static void repeats_and_accounting(void **state)
{
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    make_dgram();
    p = frag4(30, 16, 0, dgram + 16, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(30, 16, 0, dgram + 16, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(30, 0, 1, dgram, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    p = frag4(31, 8, 1, dgram + 8, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(31, 0, 0, dgram, 16);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(nr_frag_stats(t)->overlaps, 2);
    p = frag4(32, 0, 1, dgram, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    for (uint32_t id = 100; id < 300; id++) {
        p = frag4(id, 16, 0, dgram + 16, 16);
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
        p = frag4(id, 0, 1, dgram, 16);
        assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    }
    p = frag4(33, 0, 1, dgram, 8);
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    assert_int_equal(nr_frag_stats(t)->overflows, 0);
    assert_int_equal(nr_frag_stats(t)->reassembled, 202);
    nr_frag_free(t);
}

/* The first copy of a byte wins across every growth of the buffers: the
 * bytes held before a growth (to 2, 4 and 6 KiB here, the last fragment
 * first) keep their bits, so later overlapping copies change nothing and
 * the datagram completes only when every byte came. */
static void held_bytes_survive_each_growth(void **state)
{
    static uint8_t a[6144], x[6144];
    struct nr_fragtab *t = nr_frag_new();
    struct nr_pkt p;

    (void)state;
    memset(a, 'a', sizeof(a));
    memset(x, 'X', sizeof(x));
    p = frag4(40, 0, 1, a, 2048); /* 2 KiB */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(40, 4000, 1, a + 4000, 96); /* grows to 4 KiB */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(40, 6000, 0, a + 6000, 144); /* to 6 KiB: the end, 6144 */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(40, 1024, 1, x, 3072); /* over all of 1024..2048, and 1024 new bytes */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(40, 3072, 1, x, 2048); /* over 4000..4096, new bytes around it */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_HELD);
    p = frag4(40, 5120, 1, x, 1024); /* over 6000..6144 */
    assert_int_equal(nr_frag_add(t, &p, 0), NR_FRAG_DONE);
    assert_int_equal(p.wirelen, 6144);
    for (uint32_t i = 0; i < 6144; i++) {
        int held_first = i < 2048 || (i >= 4000 && i < 4096) || i >= 6000;
        if (p.payload[i] != (held_first ? 'a' : 'X'))
            fail_msg("byte %u is '%c'", i, p.payload[i]);
    }
    assert_int_equal(nr_frag_stats(t)->overlaps, 3);
    nr_frag_free(t);
}

/* Random fragments of a few datagrams: any offsets, lengths, ends and
 * snap cuts.  Nothing crashes (ASan/UBSan in make check), a completed
 * datagram is within bounds, and memory stays under the cap. */
static void random_hostile_fragments(void **state)
{
    static uint8_t junk[700];
    struct nr_fragtab *t = nr_frag_new();
    uint32_t seed = 14;
    int64_t ts = 0;
    int done = 0, bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)i;
    for (int i = 0; i < 20000; i++) {
        struct nr_pkt p;
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        uint32_t off = (r & 1) ? (r >> 1) % 65536 : ((r >> 1) % 64) * 8;
        size_t len = (r >> 7) % sizeof(junk);
        p = frag4((r >> 17) % 5, off, (r >> 20) & 1, junk, len);
        if ((r >> 21) % 8 == 0)
            p.caplen = len / 2;
        if ((r >> 24) % 16 == 0)
            p.ipver = 6;
        ts += (int64_t)((r >> 12) % 16) * SEC / 8;
        int rc = nr_frag_add(t, &p, ts);
        assert_true(rc >= 0);
        if (rc == NR_FRAG_DONE) {
            done++;
            assert_true(p.caplen <= p.wirelen && p.wirelen <= 65535);
            nr_pkt_decode_l4(&p);
        }
        bad += rc == NR_FRAG_BAD;
    }
    assert_true(done > 0 && bad > 0);
    nr_frag_free(t);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(reassembles_in_any_order),
        heap_exact_test(first_copy_of_a_byte_wins),
        heap_exact_test(refuses_fragments_that_fit_no_datagram),
        heap_exact_test(times_out_by_capture_time),
        heap_exact_test(byte_cap_drops_the_oldest),
        heap_exact_test(snap_cut_fragment_gives_a_captured_prefix),
        heap_exact_test(ipv6_takes_the_first_fragments_next_header),
        heap_exact_test(limits_and_keys),
        heap_exact_test(byte_cap_counts_what_is_allocated),
        heap_exact_test(repeats_and_accounting),
        heap_exact_test(byte_cap_rounds_up_to_a_step),
        heap_exact_test(held_bytes_survive_each_growth),
        heap_exact_test(random_hostile_fragments),
    };
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
