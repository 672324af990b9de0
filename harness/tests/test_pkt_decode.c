/* Unit tests: nr_pkt_decode on one hex fixture per link type, truncated at
 * every length, plus IPv4 options, IPv6 extension headers, TCP options and
 * malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
