/* Unit tests: nr_pkt_decode on one hex fixture per link type, truncated at
 * every length, plus IPv4 options, IPv6 extension headers, TCP options and
 * malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_pkt.h"

/* Ethernet, IPv4 127.0.0.1:40000 -> 127.0.0.2:80 TCP SYN seq 1000, MSS 1460 SACK-perm TS 1/0 WS 7 */
static const uint8_t eth_tcp_syn[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x3c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00,
    0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
/* BSD NULL (AF_INET=2, little-endian), IPv4 UDP 5353 -> 53 'hi' */
static const uint8_t null_udp[] = {
    0x02, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00,
    0x68, 0x69,
};
/* BSD LOOP (AF_INET6=30, big-endian), IPv6 ::1:1234 -> ::2:443 TCP ACK with 3 bytes 'abc' */
static const uint8_t loop_tcp6[] = {
    0x00, 0x00, 0x00, 0x1e, 0x60, 0x00, 0x00, 0x00, 0x00, 0x17, 0x06, 0x40, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0xd2, 0x01, 0xbb,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x09, 0x50, 0x10, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0x61, 0x62, 0x63,
};
/* Linux cooked SLL, IPv4 UDP 1000 -> 2000 'xyz!' */
static const uint8_t sll_udp[] = {
    0x00, 0x00, 0x03, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x02, 0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0c, 0x00, 0x00, 0x78, 0x79, 0x7a, 0x21,
};
/* Linux cooked SLL2, IPv6 UDP 1000 -> 2000 'q' */
static const uint8_t sll2_udp6[] = {
    0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x09, 0x11, 0x40, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xe8, 0x07, 0xd0,
    0x00, 0x09, 0x00, 0x00, 0x71,
};
/* raw IPv4 with 4 bytes of options (NOP NOP NOP EOL), TCP 1:2 SYN-ACK seq 5 ack 1001 */
static const uint8_t raw_tcp_ipopt[] = {
    0x46, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x02, 0x01, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x03, 0xe9, 0x50, 0x12, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};
/* Ethernet with an 802.1Q tag (VLAN 5), IPv4 UDP 7 -> 8 'v' */
static const uint8_t vlan_udp[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x81, 0x00, 0x00, 0x05,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x1d, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0x7f, 0x00,
    0x00, 0x01, 0x7f, 0x00, 0x00, 0x02, 0x00, 0x07, 0x00, 0x08, 0x00, 0x09, 0x00, 0x00, 0x76,
};
/* raw IPv6 with hop-by-hop and destination-options headers, TCP 9:10 FIN+ACK */
static const uint8_t ip6_ext_tcp[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x64,
    0x00, 0x00, 0x00, 0xc8, 0x50, 0x11, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};
/* raw IPv6 non-first fragment (offset 16) of a UDP datagram */
static const uint8_t ip6_frag_later[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x2c, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x2a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* raw IPv4 (LINKTYPE_IPV4) non-first fragment, offset 8, of a UDP datagram */
static const uint8_t ip4_frag_later[] = {
    0x45, 0x00, 0x00, 0x24, 0x00, 0x01, 0x00, 0x01, 0x40, 0x11, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};
/* raw IPv4 first fragment (MF set) of a UDP datagram 3:4 */
static const uint8_t ip4_frag_first[] = {
    0x45, 0x00, 0x00, 0x24, 0x00, 0x01, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};
static const struct fixture {
    const char *name;
    int dlt;
    const uint8_t *frame;
    size_t len;
} fixtures[] = {
    { "eth_tcp_syn", 1, eth_tcp_syn, sizeof(eth_tcp_syn) },
    { "null_udp", 0, null_udp, sizeof(null_udp) },
    { "loop_tcp6", 108, loop_tcp6, sizeof(loop_tcp6) },
    { "sll_udp", 113, sll_udp, sizeof(sll_udp) },
    { "sll2_udp6", 276, sll2_udp6, sizeof(sll2_udp6) },
    { "raw_tcp_ipopt", 12, raw_tcp_ipopt, sizeof(raw_tcp_ipopt) },
    { "vlan_udp", 1, vlan_udp, sizeof(vlan_udp) },
    { "ip6_ext_tcp", 229, ip6_ext_tcp, sizeof(ip6_ext_tcp) },
    { "ip6_frag_later", 229, ip6_frag_later, sizeof(ip6_frag_later) },
    { "ip4_frag_later", 228, ip4_frag_later, sizeof(ip4_frag_later) },
    { "ip4_frag_first", 228, ip4_frag_first, sizeof(ip4_frag_first) },
};

static const int expect_status[] = {
    NR_PKT_TCP, NR_PKT_UDP, NR_PKT_TCP, NR_PKT_UDP, NR_PKT_UDP, NR_PKT_TCP,
    NR_PKT_UDP, NR_PKT_TCP, NR_PKT_FRAG, NR_PKT_FRAG, NR_PKT_FRAG,
};

static int decode_fx(size_t i, size_t len, struct nr_pkt *p)
{
    return nr_pkt_decode(fixtures[i].dlt, fixtures[i].frame, len, p);
}

static void every_fixture_decodes(void **state)
{
    struct nr_pkt p;

    (void)state;
    assert_int_equal(sizeof(expect_status) / sizeof(expect_status[0]),
                     sizeof(fixtures) / sizeof(fixtures[0]));
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        int st = decode_fx(i, fixtures[i].len, &p);
        if (st != expect_status[i])
            fail_msg("%s: status %d, want %d (reason %s)", fixtures[i].name, st,
                     expect_status[i], nr_pkt_reason_name(p.reason));
        assert_int_equal(p.reason, NR_R_NONE);
    }
}

static void link_types_and_fields(void **state)
{
    struct nr_pkt p;
    static const uint8_t v6two[16] = { [15] = 2 };

    (void)state;
    assert_int_equal(decode_fx(0, sizeof(eth_tcp_syn), &p), NR_PKT_TCP);
    assert_int_equal(p.ipver, 4);
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 80);
    assert_int_equal(p.seq, 1000);
    assert_int_equal(p.flags, NR_TCP_SYN);
    assert_int_equal(p.wirelen, 0);

    assert_int_equal(decode_fx(1, sizeof(null_udp), &p), NR_PKT_UDP);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.caplen, 2);
    assert_memory_equal(p.payload, "hi", 2);

    assert_int_equal(decode_fx(2, sizeof(loop_tcp6), &p), NR_PKT_TCP);
    assert_int_equal(p.ipver, 6);
    assert_memory_equal(p.dst, v6two, 16);
    assert_int_equal(p.ack, 9);
    assert_memory_equal(p.payload, "abc", 3);

    assert_int_equal(decode_fx(3, sizeof(sll_udp), &p), NR_PKT_UDP);
    assert_memory_equal(p.payload, "xyz!", 4);
    assert_int_equal(decode_fx(4, sizeof(sll2_udp6), &p), NR_PKT_UDP);
    assert_int_equal(p.ipver, 6);
    assert_int_equal(p.caplen, 1);
    assert_int_equal(decode_fx(6, sizeof(vlan_udp), &p), NR_PKT_UDP);
    assert_int_equal(p.dport, 8);
}

static void ipv4_options_skipped(void **state)
{
    struct nr_pkt p;

    (void)state;
    assert_int_equal(decode_fx(5, sizeof(raw_tcp_ipopt), &p), NR_PKT_TCP);
    assert_int_equal(p.sport, 1);
    assert_int_equal(p.dport, 2);
    assert_int_equal(p.flags, NR_TCP_SYN | NR_TCP_ACK);
    assert_int_equal(p.ack, 1001);
}

static void ipv6_ext_headers_and_fragments(void **state)
{
    struct nr_pkt p;

    (void)state;
    assert_int_equal(decode_fx(7, sizeof(ip6_ext_tcp), &p), NR_PKT_TCP);
    assert_int_equal(p.sport, 9);
    assert_int_equal(p.flags, NR_TCP_FIN | NR_TCP_ACK);
    assert_int_equal(decode_fx(8, sizeof(ip6_frag_later), &p), NR_PKT_FRAG);
    assert_int_equal(p.fragment, 1);
    assert_int_equal(p.frag.id, 42);
    assert_int_equal(p.frag.off, 16);
    assert_int_equal(p.frag.more, 1);
    assert_int_equal(p.frag.hdrlen, 40);
    assert_int_equal(p.proto, IPPROTO_UDP);
    assert_int_equal(p.wirelen, 16);
    assert_int_equal(decode_fx(9, sizeof(ip4_frag_later), &p), NR_PKT_FRAG);
    assert_int_equal(p.fragment, 1);
    assert_int_equal(p.frag.id, 1);
    assert_int_equal(p.frag.off, 8);
    assert_int_equal(p.frag.more, 0);
    assert_int_equal(p.frag.hdrlen, 20);
    assert_int_equal(p.wirelen, 16);
    /* a first fragment is held whole: its transport header is read once
     * the datagram is reassembled (nr_frag, nr_pkt_decode_l4) */
    assert_int_equal(decode_fx(10, sizeof(ip4_frag_first), &p), NR_PKT_FRAG);
    assert_int_equal(p.fragment, 1);
    assert_int_equal(p.frag.off, 0);
    assert_int_equal(p.frag.more, 1);
    assert_int_equal(p.caplen, 16);
}

/* Cutting a frame anywhere never crashes and is reported as truncation:
 * an error with a truncation reason, or the full result with the payload
 * marked truncated. */
static void truncated_at_every_length(void **state)
{
    struct nr_pkt p;

    (void)state;
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        for (size_t len = 0; len < fixtures[i].len; len++) {
            int st = decode_fx(i, len, &p);
            if (st == NR_PKT_ERROR) {
                if (!nr_pkt_reason_is_trunc(p.reason))
                    fail_msg("%s cut at %zu: reason %s", fixtures[i].name, len,
                             nr_pkt_reason_name(p.reason));
            } else if (st != expect_status[i]) {
                fail_msg("%s cut at %zu: status %d", fixtures[i].name, len, st);
            } else {
                assert_int_equal(p.reason, NR_R_TRUNC_DATA);
                assert_true(p.caplen < p.wirelen);
            }
            /* the same bytes in a buffer of exactly that length: nothing
             * past it is read (ASan in make check) */
            uint8_t *copy = malloc(len ? len : 1);
            assert_non_null(copy);
            memcpy(copy, fixtures[i].frame, len);
            assert_int_equal(nr_pkt_decode(fixtures[i].dlt, copy, len, &p), st);
            free(copy);
        }
    }
}

static void tcp_options(void **state)
{
    struct nr_tcpopt o;
    struct nr_pkt p;
    static const uint8_t bad_len[] = { 2, 1, 0, 0 };       /* MSS with length 1 */
    static const uint8_t overrun[] = { 1, 8, 10, 0, 0, 0 }; /* TS longer than the options */
    static const uint8_t eol[] = { 4, 2, 0, 2, 4, 5, 0 };   /* SACK-perm, EOL, junk */

    (void)state;
    assert_int_equal(decode_fx(0, sizeof(eth_tcp_syn), &p), NR_PKT_TCP);
    assert_true(p.opt.has_mss);
    assert_int_equal(p.opt.mss, 1460);
    assert_true(p.opt.sack_ok);
    assert_true(p.opt.has_ts);
    assert_int_equal(p.opt.tsval, 1);
    assert_int_equal(p.opt.tsecr, 0);
    assert_true(p.opt.has_wscale);
    assert_int_equal(p.opt.wscale, 7);
    assert_int_equal(nr_tcpopt_parse(bad_len, sizeof(bad_len), &o), -1);
    assert_int_equal(nr_tcpopt_parse(overrun, sizeof(overrun), &o), -1);
    assert_int_equal(nr_tcpopt_parse(eol, sizeof(eol), &o), 0);
    assert_true(o.sack_ok);
    assert_false(o.has_mss);
    assert_int_equal(nr_tcpopt_parse(NULL, 0, &o), 0);
}

static void malformed_headers(void **state)
{
    uint8_t f[128];
    struct nr_pkt p;

    (void)state;
    memcpy(f, raw_tcp_ipopt, sizeof(raw_tcp_ipopt));
    f[0] = 0x44; /* IHL 4 */
    assert_int_equal(nr_pkt_decode(12, f, sizeof(raw_tcp_ipopt), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPHLEN);
    f[0] = 0x46;
    f[24 + 12] = 4 << 4; /* TCP data offset 4 */
    assert_int_equal(nr_pkt_decode(12, f, sizeof(raw_tcp_ipopt), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_TCPHLEN);
    f[24 + 12] = 15 << 4; /* data offset beyond the segment */
    assert_int_equal(nr_pkt_decode(12, f, sizeof(raw_tcp_ipopt), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_TCPHLEN);
    f[0] = 0x75; /* IP version 7 */
    assert_int_equal(nr_pkt_decode(12, f, sizeof(raw_tcp_ipopt), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPVER);

    memcpy(f, sll_udp, sizeof(sll_udp));
    f[16 + 20 + 5] = 4; /* UDP length 4 */
    assert_int_equal(nr_pkt_decode(113, f, sizeof(sll_udp), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_UDPLEN);

    memcpy(f, eth_tcp_syn, sizeof(eth_tcp_syn));
    f[14 + 20 + 20 + 1] = 9; /* MSS option length 9: warning, still decoded */
    assert_int_equal(nr_pkt_decode(1, f, sizeof(eth_tcp_syn), &p), NR_PKT_TCP);
    assert_int_equal(p.reason, NR_R_BAD_TCPOPT);

    assert_int_equal(nr_pkt_decode(147, f, sizeof(eth_tcp_syn), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_LINK);
}

static void ipv6_ext_chain_is_bounded(void **state)
{
    uint8_t f[40 + 8 * 20];
    struct nr_pkt p;

    (void)state;
    memset(f, 0, sizeof(f));
    f[0] = 0x60;
    f[4] = 0;
    f[5] = 8 * 20;
    f[6] = 0; /* hop-by-hop, then 19 more */
    for (int i = 0; i < 20; i++)
        f[40 + 8 * i] = 0;
    assert_int_equal(nr_pkt_decode(229, f, sizeof(f), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPV6EXT);
    f[5] = 16; /* payload length shorter than the chain */
    assert_int_equal(nr_pkt_decode(229, f, sizeof(f), &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPLEN);
}

/* Every reason has its own name; only the four truncations are
 * truncations; exactly the documented link types are supported. */
static void reasons_and_link_types(void **state)
{
    static const int dlts[] = { 0, 1, 12, 14, 101, 108, 113, 228, 229, 276 };

    (void)state;
    for (int r = 0; r < NR_R_COUNT; r++) {
        assert_string_not_equal(nr_pkt_reason_name(r), "unknown");
        for (int q = 0; q < r; q++)
            assert_string_not_equal(nr_pkt_reason_name(r), nr_pkt_reason_name(q));
        assert_int_equal(nr_pkt_reason_is_trunc(r),
                         r == NR_R_TRUNC_LINK || r == NR_R_TRUNC_IP || r == NR_R_TRUNC_L4 ||
                             r == NR_R_TRUNC_DATA);
    }
    assert_string_equal(nr_pkt_reason_name(NR_R_TRUNC_IP), "truncated-ip");
    assert_string_equal(nr_pkt_reason_name(-1), "unknown");
    assert_string_equal(nr_pkt_reason_name(NR_R_COUNT), "unknown");
    for (int d = -1; d < 300; d++) {
        int want = 0;
        for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++)
            want |= dlts[i] == d;
        if (nr_pkt_dlt_supported(d) != want)
            fail_msg("link type %d: supported %d, want %d", d, nr_pkt_dlt_supported(d), want);
    }
}

/* A UDP datagram 7 -> 8 with payload "hi" after an IPv4 header. */
static size_t ip4_udp(uint8_t *b)
{
    static const uint8_t ip[] = { 0x45, 0, 0, 30, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
                                  10, 0, 0, 2, 0, 7, 0, 8, 0, 10, 0, 0, 'h', 'i' };
    memcpy(b, ip, sizeof(ip));
    return sizeof(ip);
}

/* BSD NULL/LOOP: the address family in either byte order; 2 is IPv4, 24,
 * 28 and 30 are IPv6 (the BSDs' AF_INET6), anything else is not IP. */
static void null_families(void **state)
{
    uint8_t f[128];
    struct nr_pkt p;

    (void)state;
    for (uint32_t fam = 0; fam < 40; fam++) {
        for (int be = 0; be < 2; be++) {
            int want = fam == 2 ? NR_PKT_UDP
                       : (fam == 24 || fam == 28 || fam == 30) ? NR_PKT_ERROR : NR_PKT_SKIP_NONIP;
            memset(f, 0, 4);
            f[be ? 3 : 0] = (uint8_t)fam;
            ip4_udp(f + 4); /* an IPv4 packet where IPv6 is expected: bad version */
            if (nr_pkt_decode(be ? 108 : 0, f, 34, &p) != want)
                fail_msg("family %u (%s): status %d, want %d", fam, be ? "big-endian" : "little-endian",
                         nr_pkt_decode(be ? 108 : 0, f, 34, &p), want);
            if (want == NR_PKT_ERROR)
                assert_int_equal(p.reason, NR_R_BAD_IPVER);
            if (want != NR_PKT_SKIP_NONIP) {
                assert_int_equal(nr_pkt_decode(0, f, 4, &p), NR_PKT_ERROR);
                assert_int_equal(p.reason, NR_R_TRUNC_IP);
            }
        }
    }
    assert_int_equal(nr_pkt_decode(0, f, 3, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_LINK);
}

/* Ethernet: up to 64 stacked VLAN tags (802.1Q, 802.1ad, the old QinQ
 * type) are walked, a 65th makes the frame not IP; non-IP types are
 * skipped; an IP type with no IP bytes is a truncation. */
static void ethernet_vlans_and_types(void **state)
{
    static uint8_t f[14 + 65 * 4 + 64];
    static const uint16_t tags[] = { 0x8100, 0x88a8, 0x9100 };
    struct nr_pkt p;

    (void)state;
    for (int ntags = 0; ntags <= 65; ntags++) {
        size_t at = 12;
        memset(f, 0, 12);
        for (int i = 0; i < ntags; i++, at += 4) {
            f[at] = (uint8_t)(tags[i % 3] >> 8);
            f[at + 1] = (uint8_t)tags[i % 3];
            f[at + 2] = 0;
            f[at + 3] = (uint8_t)i;
        }
        f[at] = 0x08;
        f[at + 1] = 0x00;
        at += 2;
        at += ip4_udp(f + at);
        if (nr_pkt_decode(1, f, at, &p) != (ntags <= 64 ? NR_PKT_UDP : NR_PKT_SKIP_NONIP))
            fail_msg("%d VLAN tags: status %d", ntags, nr_pkt_decode(1, f, at, &p));
        if (ntags <= 64)
            assert_memory_equal(p.payload, "hi", 2);
        /* cut inside the last tag: a truncated link header */
        if (ntags > 0 && ntags <= 64) {
            assert_int_equal(nr_pkt_decode(1, f, 12 + 4 * (size_t)ntags, &p), NR_PKT_ERROR);
            assert_int_equal(p.reason, NR_R_TRUNC_LINK);
        }
    }
    memset(f, 0, 14);
    f[12] = 0x08;
    f[13] = 0x06; /* ARP */
    assert_int_equal(nr_pkt_decode(1, f, 60, &p), NR_PKT_SKIP_NONIP);
    f[13] = 0x00;
    assert_int_equal(nr_pkt_decode(1, f, 14, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    f[12] = 0x86;
    f[13] = 0xdd;
    assert_int_equal(nr_pkt_decode(1, f, 14, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    assert_int_equal(nr_pkt_decode(1, f, 13, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_LINK);
    /* SLL2 carrying IPv4; SLL with an unknown protocol */
    memset(f, 0, 20);
    f[0] = 0x08;
    assert_int_equal(nr_pkt_decode(276, f, 20 + ip4_udp(f + 20), &p), NR_PKT_UDP);
    assert_int_equal(nr_pkt_decode(276, f, 19, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_LINK);
    memset(f, 0, 16);
    f[14] = 0x12;
    assert_int_equal(nr_pkt_decode(113, f, 16 + ip4_udp(f + 16), &p), NR_PKT_SKIP_NONIP);
    /* raw links: the version decides; each fixed-version link checks it */
    assert_int_equal(nr_pkt_decode(12, f, 0, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    assert_int_equal(nr_pkt_decode(228, f, 0, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    assert_int_equal(nr_pkt_decode(229, f, 0, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    ip4_udp(f);
    assert_int_equal(nr_pkt_decode(14, f, 30, &p), NR_PKT_UDP);
    assert_int_equal(nr_pkt_decode(101, f, 30, &p), NR_PKT_UDP);
    assert_int_equal(nr_pkt_decode(229, f, 30, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPVER);
    f[0] = 0x55;
    assert_int_equal(nr_pkt_decode(12, f, 30, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPVER);
    assert_int_equal(nr_pkt_decode(12, f, 1, &p), NR_PKT_ERROR); /* one byte is enough to tell */
    assert_int_equal(p.reason, NR_R_BAD_IPVER);
}

/* IPv4: the total length bounds the payload (Ethernet padding is not
 * payload), DF alone is not a fragment, MF or an offset is. */
static void ipv4_lengths_and_fragments(void **state)
{
    uint8_t f[128];
    struct nr_pkt p;

    (void)state;
    memset(f, 0xaa, sizeof(f));
    ip4_udp(f);
    assert_int_equal(nr_pkt_decode(228, f, 60, &p), NR_PKT_UDP); /* 30 bytes of padding */
    assert_int_equal(p.caplen, 2);
    assert_int_equal(p.wirelen, 2);
    assert_int_equal(p.iplen, 30);
    assert_int_equal(p.reason, NR_R_NONE);
    f[6] = 0x40; /* DF */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_UDP);
    assert_int_equal(p.fragment, 0);
    f[6] = 0x20; /* MF */
    assert_int_equal(nr_pkt_decode(228, f, 60, &p), NR_PKT_FRAG);
    assert_int_equal(p.frag.off, 0);
    assert_int_equal(p.frag.more, 1);
    assert_int_equal(p.caplen, 10);
    assert_int_equal(p.wirelen, 10);
    f[6] = 0x00;
    f[7] = 0x03; /* offset 24, last */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_FRAG);
    assert_int_equal(p.frag.off, 24);
    assert_int_equal(p.frag.more, 0);
    assert_int_equal(nr_pkt_decode(228, f, 25, &p), NR_PKT_FRAG); /* cut: a truncated fragment */
    assert_int_equal(p.caplen, 5);
    assert_int_equal(p.wirelen, 10);
    assert_int_equal(p.reason, NR_R_TRUNC_DATA);
    f[7] = 0;
    f[3] = 19; /* total length below the header */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPLEN);
    f[3] = 20;
    f[0] = 0x46; /* a 24-byte header in 20 bytes */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPHLEN);
    f[0] = 0x45;
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_ERROR); /* no room for UDP */
    assert_int_equal(p.reason, NR_R_BAD_UDPLEN);
    f[3] = 30;
    f[25] = 7; /* UDP length below its header */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_UDPLEN);
    f[25] = 11; /* one past the IP payload */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_UDPLEN);
    f[25] = 9; /* shorter than the IP payload: the UDP length wins */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_UDP);
    assert_int_equal(p.wirelen, 1);
    assert_int_equal(p.caplen, 1);
    f[25] = 10;
    assert_int_equal(nr_pkt_decode(228, f, 29, &p), NR_PKT_UDP);
    assert_int_equal(p.caplen, 1);
    assert_int_equal(p.wirelen, 2);
    assert_int_equal(p.reason, NR_R_TRUNC_DATA);
    f[3] = 28;
    f[25] = 8; /* an empty datagram: a header of 8 bytes and nothing else */
    assert_int_equal(nr_pkt_decode(228, f, 28, &p), NR_PKT_UDP);
    assert_int_equal(p.wirelen, 0);
    assert_int_equal(p.caplen, 0);
    assert_int_equal(p.reason, NR_R_NONE);
    f[3] = 30;
    f[25] = 10;
    f[9] = 1; /* ICMP */
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_SKIP_L4);
    assert_int_equal(p.proto, 1);
}

/* IPv6 header (payload length plen, first next header nh) at b. */
static size_t ip6_hdr(uint8_t *b, size_t plen, uint8_t nh)
{
    memset(b, 0, 40);
    b[0] = 0x60;
    b[4] = (uint8_t)(plen >> 8);
    b[5] = (uint8_t)plen;
    b[6] = nh;
    b[7] = 64;
    b[23] = 1;
    b[39] = 2;
    return 40;
}

/* A TCP header 9 -> 10, ACK, at b. */
static size_t tcp_hdr(uint8_t *b)
{
    memset(b, 0, 20);
    b[1] = 9;
    b[3] = 10;
    b[7] = 100;
    b[12] = 5 << 4;
    b[13] = NR_TCP_ACK;
    return 20;
}

/* IPv6 extension headers: hop-by-hop, routing and destination options are
 * (len + 1) * 8 bytes, AH is (len + 2) * 4; a fragment header with offset 0
 * and no M is walked (an atomic fragment, reserved bits ignored); at most
 * 16 headers. */
static void ipv6_extension_lengths(void **state)
{
    uint8_t f[40 + 17 * 16 + 40];
    struct nr_pkt p;
    size_t at;

    (void)state;
    /* hop-by-hop (16 bytes), routing (8), AH (24), fragment (atomic), dest opts (8), TCP + "xy" */
    at = 40;
    memset(f + at, 0, 16), f[at] = 43, f[at + 1] = 1, at += 16;
    memset(f + at, 0, 8), f[at] = 51, at += 8;
    memset(f + at, 0, 24), f[at] = 44, f[at + 1] = 4, at += 24;
    memset(f + at, 0, 8), f[at] = 60, f[at + 3] = 0x06, at += 8;
    memset(f + at, 0, 8), f[at] = 6, at += 8;
    at += tcp_hdr(f + at);
    memcpy(f + at, "xy", 2), at += 2;
    ip6_hdr(f, at - 40, 0);
    assert_int_equal(nr_pkt_decode(229, f, at, &p), NR_PKT_TCP);
    assert_int_equal(p.sport, 9);
    assert_int_equal(p.dport, 10);
    assert_int_equal(p.seq, 100);
    assert_int_equal(p.wirelen, 2);
    assert_memory_equal(p.payload, "xy", 2);
    assert_int_equal(p.iplen, at);
    /* the same chain with a fragment that is not atomic: a fragment whose
     * header length counts what came before it */
    f[40 + 16 + 8 + 24 + 3] = 0x01; /* M */
    assert_int_equal(nr_pkt_decode(229, f, at, &p), NR_PKT_FRAG);
    assert_int_equal(p.frag.hdrlen, 40 + 16 + 8 + 24);
    assert_int_equal(p.proto, 60);
    assert_int_equal(p.wirelen, at - (40 + 16 + 8 + 24 + 8));
    f[40 + 16 + 8 + 24 + 3] = 0x08; /* offset 8, last */
    assert_int_equal(nr_pkt_decode(229, f, at, &p), NR_PKT_FRAG);
    assert_int_equal(p.frag.off, 8);
    assert_int_equal(p.frag.more, 0);
    /* a fragment header cut short: by the capture, or by the payload length */
    assert_int_equal(nr_pkt_decode(229, f, 40 + 16 + 8 + 24 + 6, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    ip6_hdr(f, 16 + 8 + 24 + 6, 0);
    assert_int_equal(nr_pkt_decode(229, f, at, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPLEN);
    /* an AH longer than the payload */
    ip6_hdr(f, 16 + 8 + 20, 0);
    assert_int_equal(nr_pkt_decode(229, f, at, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPLEN);
    /* 16 headers are walked, 17 are too many */
    for (int n = 16; n <= 17; n++) {
        at = 40;
        for (int i = 0; i < n; i++, at += 8) {
            memset(f + at, 0, 8);
            f[at] = i == n - 1 ? 6 : 60;
        }
        at += tcp_hdr(f + at);
        ip6_hdr(f, at - 40, 0);
        assert_int_equal(nr_pkt_decode(229, f, at, &p), n == 16 ? NR_PKT_TCP : NR_PKT_ERROR);
        if (n == 17)
            assert_int_equal(p.reason, NR_R_BAD_IPV6EXT);
    }
    /* a hop-by-hop header that fills the payload exactly, then nothing */
    ip6_hdr(f, 8, 0);
    memset(f + 40, 0, 8);
    f[40] = 59;
    assert_int_equal(nr_pkt_decode(229, f, 48, &p), NR_PKT_SKIP_L4);
    assert_int_equal(p.proto, 59);
    /* no next header; ICMPv6; an extension header cut after one byte */
    ip6_hdr(f, 0, 59);
    assert_int_equal(nr_pkt_decode(229, f, 40, &p), NR_PKT_SKIP_L4);
    assert_int_equal(p.proto, 59);
    ip6_hdr(f, 8, 58);
    f[40] = 128; /* an echo request, decoded into the p of a TCP segment */
    assert_int_equal(nr_pkt_decode(229, f, 48, &p), NR_PKT_SKIP_L4);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.sport, 0); /* no ports without a transport header */
    assert_int_equal(p.dport, 0);
    assert_int_equal(p.dst[15], 2);
    ip6_hdr(f, 1, 0);
    assert_int_equal(nr_pkt_decode(229, f, 41, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_IPLEN);
    ip6_hdr(f, 8, 0);
    assert_int_equal(nr_pkt_decode(229, f, 41, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_IP);
    /* payload length 0 (a jumbogram): the captured bytes */
    at = 40 + tcp_hdr(f + 40);
    ip6_hdr(f, 0, 6);
    assert_int_equal(nr_pkt_decode(229, f, at + 3, &p), NR_PKT_TCP);
    assert_int_equal(p.wirelen, 3);
    assert_int_equal(p.iplen, at + 3);
    ip6_hdr(f, 21, 6); /* a shorter payload length cuts the capture */
    assert_int_equal(nr_pkt_decode(229, f, at + 3, &p), NR_PKT_TCP);
    assert_int_equal(p.wirelen, 1);
    assert_int_equal(p.caplen, 1);
}

/* TCP: flags are the low six bits, the data offset bounds the header,
 * options are parsed by kind and length, a bad option is a warning that a
 * cut payload does not hide. */
static void tcp_header_rules(void **state)
{
    uint8_t f[128];
    struct nr_pkt p;
    struct nr_tcpopt o;
    static const uint8_t ws_bad[] = { 3, 4, 7, 0 }, sack_bad[] = { 4, 3, 0 },
                         ts_bad[] = { 8, 9, 0, 0, 0, 0, 0, 0, 0 }, short_len[] = { 5, 1 },
                         unknown[] = { 1, 30, 4, 9, 9, 3, 3, 5, 0 }, mss_bad[] = { 2, 3, 1 };

    (void)state;
    memset(f, 0, sizeof(f));
    ip4_udp(f);
    f[9] = 6;
    f[3] = 20 + 20 + 4;
    tcp_hdr(f + 20);
    f[33] = 0xff; /* every flag bit */
    memcpy(f + 40, "abcd", 4);
    assert_int_equal(nr_pkt_decode(228, f, 44, &p), NR_PKT_TCP);
    assert_int_equal(p.flags, 0x3f);
    assert_int_equal(p.wirelen, 4);
    memcpy(f + 40, "\x01\x01\x01\x00", 4);
    f[32] = 6 << 4; /* a 24-byte header: all of the segment */
    assert_int_equal(nr_pkt_decode(228, f, 44, &p), NR_PKT_TCP);
    assert_int_equal(p.wirelen, 0);
    assert_int_equal(p.caplen, 0);
    assert_int_equal(p.reason, NR_R_NONE);
    f[32] = 7 << 4; /* past it */
    assert_int_equal(nr_pkt_decode(228, f, 44, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_TCPHLEN);
    f[32] = 6 << 4;
    memcpy(f + 40, "\x02\x03\x01\x01", 4); /* MSS of length 3: a warning */
    assert_int_equal(nr_pkt_decode(228, f, 42, &p), NR_PKT_ERROR); /* options cut */
    assert_int_equal(p.reason, NR_R_TRUNC_L4);
    f[3] = 20 + 24 + 2;
    assert_int_equal(nr_pkt_decode(228, f, 45, &p), NR_PKT_TCP); /* and the payload cut */
    assert_int_equal(p.reason, NR_R_BAD_TCPOPT);
    f[3] = 39; /* a segment shorter than a TCP header */
    assert_int_equal(nr_pkt_decode(228, f, 44, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_BAD_TCPHLEN);
    f[3] = 40;
    assert_int_equal(nr_pkt_decode(228, f, 39, &p), NR_PKT_ERROR);
    assert_int_equal(p.reason, NR_R_TRUNC_L4);
    assert_int_equal(nr_tcpopt_parse(ws_bad, sizeof(ws_bad), &o), -1);
    assert_int_equal(nr_tcpopt_parse(sack_bad, sizeof(sack_bad), &o), -1);
    assert_int_equal(nr_tcpopt_parse(ts_bad, sizeof(ts_bad), &o), -1);
    assert_int_equal(nr_tcpopt_parse(short_len, sizeof(short_len), &o), -1);
    assert_int_equal(nr_tcpopt_parse(mss_bad, sizeof(mss_bad), &o), -1);
    assert_int_equal(nr_tcpopt_parse(unknown, sizeof(unknown), &o), 0);
    assert_true(o.has_wscale);
    assert_int_equal(o.wscale, 5);
    assert_false(o.has_mss || o.sack_ok || o.has_ts);
}

/* A status without a transport leaves no payload behind: nothing of the
 * previous packet decoded into the same struct. */
static void no_payload_left_from_the_last_packet(void **state)
{
    uint8_t f[64], arp[60] = { [12] = 0x08, [13] = 0x06 };
    struct nr_pkt p;

    (void)state;
    ip4_udp(f);
    f[6] = 0x20;
    assert_int_equal(nr_pkt_decode(228, f, 30, &p), NR_PKT_FRAG);
    assert_int_equal(nr_pkt_decode(1, arp, sizeof(arp), &p), NR_PKT_SKIP_NONIP);
    assert_null(p.payload);
    assert_int_equal(p.caplen, 0);
    assert_int_equal(p.wirelen, 0);
    assert_int_equal(p.fragment, 0);
    assert_int_equal(p.reason, NR_R_NONE);
    assert_int_equal(p.iplen, 0);
    assert_int_equal(decode_fx(0, sizeof(eth_tcp_syn), &p), NR_PKT_TCP);
    assert_int_equal(nr_pkt_decode(1, arp, sizeof(arp), &p), NR_PKT_SKIP_NONIP);
    assert_int_equal(p.flags, 0);
    assert_null(p.payload);
    /* decode_l4 over a reassembled datagram: the transport of p->proto */
    ip4_udp(f);
    p.payload = f + 20;
    p.caplen = p.wirelen = 10;
    p.proto = IPPROTO_UDP;
    p.reason = NR_R_TRUNC_DATA;
    assert_int_equal(nr_pkt_decode_l4(&p), NR_PKT_UDP);
    assert_int_equal(p.reason, NR_R_NONE);
    assert_int_equal(p.sport, 7);
    assert_memory_equal(p.payload, "hi", 2);
    p.payload = f + 20;
    p.caplen = p.wirelen = 10;
    p.proto = 1;
    assert_int_equal(nr_pkt_decode_l4(&p), NR_PKT_SKIP_L4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_decodes),
        cmocka_unit_test(link_types_and_fields),
        cmocka_unit_test(ipv4_options_skipped),
        cmocka_unit_test(ipv6_ext_headers_and_fragments),
        cmocka_unit_test(truncated_at_every_length),
        cmocka_unit_test(tcp_options),
        cmocka_unit_test(malformed_headers),
        cmocka_unit_test(ipv6_ext_chain_is_bounded),
        cmocka_unit_test(reasons_and_link_types),
        cmocka_unit_test(null_families),
        cmocka_unit_test(ethernet_vlans_and_types),
        cmocka_unit_test(ipv4_lengths_and_fragments),
        cmocka_unit_test(ipv6_extension_lengths),
        cmocka_unit_test(tcp_header_rules),
        cmocka_unit_test(no_payload_left_from_the_last_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
