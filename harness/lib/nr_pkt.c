/* nr_pkt.c - link, IP and transport header decoding through nr_cursor. */
#include "nr_pkt.h"

#include <string.h>

#include "nr_cursor.h"

/* DLT values as in pcap/dlt.h (kept here so the decoder has no libpcap
 * dependency: fuzzers can call it alone). */
#define DLT_NULL_ 0
#define DLT_EN10MB_ 1
#define DLT_RAW_ 12
#define DLT_RAW_OPENBSD_ 14
#define LINKTYPE_RAW_ 101
#define DLT_LOOP_ 108
#define DLT_LINUX_SLL_ 113
#define DLT_IPV4_ 228
#define DLT_IPV6_ 229
#define DLT_LINUX_SLL2_ 276

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100

#define MAX_VLAN 64 /* tshark has no limit; each tag costs 4 captured bytes */
#define MAX_V6EXT 16

static const char *const reason_names[NR_R_COUNT] = {
    [NR_R_NONE] = "none",
    [NR_R_TRUNC_LINK] = "truncated-link",
    [NR_R_TRUNC_IP] = "truncated-ip",
    [NR_R_TRUNC_L4] = "truncated-l4",
    [NR_R_TRUNC_DATA] = "truncated-payload",
    [NR_R_BAD_LINK] = "bad-link",
    [NR_R_BAD_IPVER] = "bad-ip-version",
    [NR_R_BAD_IPHLEN] = "bad-ip-header-length",
    [NR_R_BAD_IPLEN] = "bad-ip-length",
    [NR_R_BAD_IPV6EXT] = "bad-ipv6-ext-chain",
    [NR_R_BAD_TCPHLEN] = "bad-tcp-header-length",
    [NR_R_BAD_TCPOPT] = "bad-tcp-option",
    [NR_R_BAD_UDPLEN] = "bad-udp-length",
    [NR_R_BAD_FRAG] = "bad-fragment",
};

const char *nr_pkt_reason_name(int reason)
{
    if (reason < 0 || reason >= NR_R_COUNT)
        return "unknown";
    return reason_names[reason];
}

int nr_pkt_reason_is_trunc(int reason)
{
    return reason == NR_R_TRUNC_LINK || reason == NR_R_TRUNC_IP || reason == NR_R_TRUNC_L4 ||
           reason == NR_R_TRUNC_DATA;
}

int nr_pkt_dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_NULL_: case DLT_EN10MB_: case DLT_RAW_: case DLT_RAW_OPENBSD_:
    case LINKTYPE_RAW_: case DLT_LOOP_: case DLT_LINUX_SLL_: case DLT_IPV4_:
    case DLT_IPV6_: case DLT_LINUX_SLL2_:
        return 1;
    default:
        return 0;
    }
}

static int fail(struct nr_pkt *p, int reason)
{
    p->reason = (uint8_t)reason;
    return NR_PKT_ERROR;
}

int nr_tcpopt_parse(const uint8_t *buf, size_t len, struct nr_tcpopt *o)
{
    struct nr_cursor c;
    uint8_t kind, olen;
    const uint8_t *v;

    memset(o, 0, sizeof(*o));
    nr_cur_init(&c, buf, len);
    while (nr_cur_u8(&c, &kind) == 0) {
        if (kind == 0)
            return 0;
        if (kind == 1)
            continue;
        if (nr_cur_u8(&c, &olen) < 0 || olen < 2 || nr_cur_bytes(&c, olen - 2u, &v) < 0)
            return -1;
        struct nr_cursor oc;
        nr_cur_init(&oc, v, olen - 2u);
        switch (kind) {
        case 2:
            if (olen != 4 || nr_cur_be16(&oc, &o->mss) < 0)
                return -1;
            o->has_mss = 1;
            break;
        case 3:
            if (olen != 3 || nr_cur_u8(&oc, &o->wscale) < 0)
                return -1;
            o->has_wscale = 1;
            break;
        case 4:
            if (olen != 2)
                return -1;
            o->sack_ok = 1;
            break;
        case 8:
            if (olen != 10 || nr_cur_be32(&oc, &o->tsval) < 0 || nr_cur_be32(&oc, &o->tsecr) < 0)
                return -1;
            o->has_ts = 1;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* TCP header at the start of c (which holds the captured part of an L4
 * payload of wirelen bytes). */
static int decode_tcp(struct nr_cursor *c, size_t wirelen, struct nr_pkt *p)
{
    uint8_t off, fl;
    size_t hlen;
    const uint8_t *opts;

    if (wirelen < 20)
        return fail(p, NR_R_BAD_TCPHLEN);
    if (nr_cur_be16(c, &p->sport) < 0 || nr_cur_be16(c, &p->dport) < 0 ||
        nr_cur_be32(c, &p->seq) < 0 || nr_cur_be32(c, &p->ack) < 0 ||
        nr_cur_u8(c, &off) < 0 || nr_cur_u8(c, &fl) < 0 || nr_cur_be16(c, &p->win) < 0 ||
        nr_cur_skip(c, 4) < 0)
        return fail(p, NR_R_TRUNC_L4);
    hlen = (size_t)(off >> 4) * 4;
    if (hlen < 20 || hlen > wirelen)
        return fail(p, NR_R_BAD_TCPHLEN);
    if (nr_cur_bytes(c, hlen - 20, &opts) < 0)
        return fail(p, NR_R_TRUNC_L4);
    p->flags = fl & 0x3f;
    if (nr_tcpopt_parse(opts, hlen - 20, &p->opt) < 0)
        p->reason = NR_R_BAD_TCPOPT;
    p->payload = nr_cur_ptr(c);
    p->caplen = nr_cur_left(c);
    p->wirelen = wirelen - hlen;
    if (p->caplen > p->wirelen)
        p->caplen = p->wirelen;
    if (p->caplen < p->wirelen && p->reason == NR_R_NONE)
        p->reason = NR_R_TRUNC_DATA;
    return NR_PKT_TCP;
}

static int decode_udp(struct nr_cursor *c, size_t wirelen, struct nr_pkt *p)
{
    uint16_t ulen;

    if (wirelen < 8)
        return fail(p, NR_R_BAD_UDPLEN);
    if (nr_cur_be16(c, &p->sport) < 0 || nr_cur_be16(c, &p->dport) < 0 ||
        nr_cur_be16(c, &ulen) < 0 || nr_cur_skip(c, 2) < 0)
        return fail(p, NR_R_TRUNC_L4);
    if (ulen < 8 || ulen > wirelen)
        return fail(p, NR_R_BAD_UDPLEN);
    p->payload = nr_cur_ptr(c);
    p->wirelen = ulen - 8u;
    p->caplen = nr_cur_left(c) < p->wirelen ? nr_cur_left(c) : p->wirelen;
    if (p->caplen < p->wirelen)
        p->reason = NR_R_TRUNC_DATA;
    return NR_PKT_UDP;
}

static int decode_l4(struct nr_cursor *c, size_t wirelen, struct nr_pkt *p)
{
    if (p->proto == IPPROTO_TCP)
        return decode_tcp(c, wirelen, p);
    if (p->proto == IPPROTO_UDP)
        return decode_udp(c, wirelen, p);
    return NR_PKT_SKIP_L4;
}

/* The rest of the IP payload (wirelen bytes, the captured part in c) is
 * a fragment's data. */
static int fragment(struct nr_cursor *c, size_t wirelen, struct nr_pkt *p)
{
    p->fragment = 1;
    p->payload = nr_cur_ptr(c);
    p->wirelen = wirelen;
    p->caplen = nr_cur_left(c) < wirelen ? nr_cur_left(c) : wirelen;
    if (p->caplen < p->wirelen)
        p->reason = NR_R_TRUNC_DATA;
    return NR_PKT_FRAG;
}

int nr_pkt_decode_l4(struct nr_pkt *p)
{
    struct nr_cursor c;

    nr_cur_init(&c, p->payload, p->caplen);
    p->reason = NR_R_NONE;
    return decode_l4(&c, p->wirelen, p);
}

static int decode_ipv4(struct nr_cursor *c, struct nr_pkt *p)
{
    uint8_t vihl, ttl;
    uint16_t totlen, id, frag;
    const uint8_t *a;
    size_t hlen;

    if (nr_cur_u8(c, &vihl) < 0)
        return fail(p, NR_R_TRUNC_IP);
    if (vihl >> 4 != 4)
        return fail(p, NR_R_BAD_IPVER);
    hlen = (size_t)(vihl & 15) * 4;
    if (hlen < 20)
        return fail(p, NR_R_BAD_IPHLEN);
    if (nr_cur_skip(c, 1) < 0 || nr_cur_be16(c, &totlen) < 0 || nr_cur_be16(c, &id) < 0 ||
        nr_cur_be16(c, &frag) < 0 || nr_cur_u8(c, &ttl) < 0 || nr_cur_u8(c, &p->proto) < 0 ||
        nr_cur_skip(c, 2) < 0)
        return fail(p, NR_R_TRUNC_IP);
    if (nr_cur_bytes(c, 4, &a) < 0)
        return fail(p, NR_R_TRUNC_IP);
    memcpy(p->src, a, 4);
    if (nr_cur_bytes(c, 4, &a) < 0)
        return fail(p, NR_R_TRUNC_IP);
    memcpy(p->dst, a, 4);
    if (totlen < hlen)
        return fail(p, totlen < 20 ? NR_R_BAD_IPLEN : NR_R_BAD_IPHLEN);
    p->iplen = totlen;
    if (nr_cur_skip(c, hlen - 20) < 0)
        return fail(p, NR_R_TRUNC_IP);
    p->ipver = 4;
    /* Ethernet padding: the captured tail beyond totlen is not payload. */
    if (nr_cur_left(c) > (size_t)totlen - hlen)
        c->len = c->off + ((size_t)totlen - hlen);
    if (frag & 0x3fff) { /* MF or an offset */
        p->frag = (struct nr_ipfrag){ .id = id, .off = (uint32_t)(frag & 0x1fff) * 8,
                                      .more = (frag & 0x2000) != 0, .hdrlen = (uint16_t)hlen };
        return fragment(c, (size_t)totlen - hlen, p);
    }
    return decode_l4(c, (size_t)totlen - hlen, p);
}

static int decode_ipv6(struct nr_cursor *c, struct nr_pkt *p)
{
    uint8_t v, nh, elen;
    uint16_t plen, fragoff;
    uint32_t fragid;
    const uint8_t *a;
    size_t left, ext = 0;

    if (nr_cur_u8(c, &v) < 0)
        return fail(p, NR_R_TRUNC_IP);
    if (v >> 4 != 6)
        return fail(p, NR_R_BAD_IPVER);
    if (nr_cur_skip(c, 3) < 0 || nr_cur_be16(c, &plen) < 0 || nr_cur_u8(c, &nh) < 0 ||
        nr_cur_skip(c, 1) < 0 || nr_cur_bytes(c, 16, &a) < 0)
        return fail(p, NR_R_TRUNC_IP);
    memcpy(p->src, a, 16);
    if (nr_cur_bytes(c, 16, &a) < 0)
        return fail(p, NR_R_TRUNC_IP);
    memcpy(p->dst, a, 16);
    p->ipver = 6;
    left = plen ? plen : nr_cur_left(c); /* plen 0: jumbogram, trust capture */
    p->iplen = (uint32_t)(40 + left);
    if (nr_cur_left(c) > left)
        c->len = c->off + left;
    for (int i = 0;; i++) {
        size_t start = c->off, hl;
        uint8_t next;
        if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
            break;
        if (i >= MAX_V6EXT)
            return fail(p, NR_R_BAD_IPV6EXT);
        if (nr_cur_u8(c, &next) < 0 || nr_cur_u8(c, &elen) < 0)
            return fail(p, left < 2 ? NR_R_BAD_IPLEN : NR_R_TRUNC_IP);
        if (nh == 44) {
            hl = 8;
            if (nr_cur_be16(c, &fragoff) < 0 || nr_cur_be32(c, &fragid) < 0)
                return fail(p, left < 8 ? NR_R_BAD_IPLEN : NR_R_TRUNC_IP);
            if (fragoff & 0xfff9) { /* an offset or M: not an atomic fragment */
                p->proto = next;
                p->frag = (struct nr_ipfrag){ .id = fragid, .off = fragoff & 0xfff8u,
                                              .more = fragoff & 1, .hdrlen = (uint16_t)(40 + ext) };
                return fragment(c, left - 8, p);
            }
        } else {
            hl = nh == 51 ? ((size_t)elen + 2) * 4 : ((size_t)elen + 1) * 8;
        }
        if (hl > left)
            return fail(p, NR_R_BAD_IPLEN);
        c->off = start;
        if (nr_cur_skip(c, hl) < 0)
            return fail(p, NR_R_TRUNC_IP);
        left -= hl;
        ext += hl;
        nh = next;
    }
    p->proto = nh;
    if (nh == 59)
        return NR_PKT_SKIP_L4;
    return decode_l4(c, left, p);
}

static int decode_ip(struct nr_cursor *c, struct nr_pkt *p)
{
    if (nr_cur_left(c) < 1)
        return fail(p, NR_R_TRUNC_IP);
    switch (nr_cur_ptr(c)[0] >> 4) {
    case 4:
        return decode_ipv4(c, p);
    case 6:
        return decode_ipv6(c, p);
    default:
        return fail(p, NR_R_BAD_IPVER);
    }
}

static int decode_ethertype(struct nr_cursor *c, uint16_t type, struct nr_pkt *p)
{
    if (type == ETH_IPV4)
        return nr_cur_left(c) ? decode_ipv4(c, p) : fail(p, NR_R_TRUNC_IP);
    if (type == ETH_IPV6)
        return nr_cur_left(c) ? decode_ipv6(c, p) : fail(p, NR_R_TRUNC_IP);
    return NR_PKT_SKIP_NONIP;
}

static int decode_eth(struct nr_cursor *c, struct nr_pkt *p)
{
    uint16_t type;

    if (nr_cur_skip(c, 12) < 0 || nr_cur_be16(c, &type) < 0)
        return fail(p, NR_R_TRUNC_LINK);
    for (int i = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; i++) {
        if (i >= MAX_VLAN)
            return NR_PKT_SKIP_NONIP;
        if (nr_cur_skip(c, 2) < 0 || nr_cur_be16(c, &type) < 0)
            return fail(p, NR_R_TRUNC_LINK);
    }
    return decode_ethertype(c, type, p);
}

/* BSD loopback: a 4-byte address family in host or network order. */
static int decode_null(struct nr_cursor *c, struct nr_pkt *p)
{
    uint32_t le, be;
    struct nr_cursor peek;

    peek = *c;
    if (nr_cur_le32(&peek, &le) < 0 || nr_cur_be32(c, &be) < 0)
        return fail(p, NR_R_TRUNC_LINK);
    if (le == 2 || be == 2)
        return nr_cur_left(c) ? decode_ipv4(c, p) : fail(p, NR_R_TRUNC_IP);
    if (le == 24 || le == 28 || le == 30 || be == 24 || be == 28 || be == 30)
        return nr_cur_left(c) ? decode_ipv6(c, p) : fail(p, NR_R_TRUNC_IP);
    return NR_PKT_SKIP_NONIP;
}

static int decode_sll(struct nr_cursor *c, struct nr_pkt *p)
{
    uint16_t type;

    if (nr_cur_skip(c, 14) < 0 || nr_cur_be16(c, &type) < 0)
        return fail(p, NR_R_TRUNC_LINK);
    return decode_ethertype(c, type, p);
}

static int decode_sll2(struct nr_cursor *c, struct nr_pkt *p)
{
    uint16_t type;

    if (nr_cur_be16(c, &type) < 0 || nr_cur_skip(c, 18) < 0)
        return fail(p, NR_R_TRUNC_LINK);
    return decode_ethertype(c, type, p);
}

int nr_pkt_decode(int dlt, const uint8_t *frame, size_t caplen, struct nr_pkt *p)
{
    struct nr_cursor c;

    memset(p, 0, offsetof(struct nr_pkt, seq)); /* up to the addresses and ports */
    p->payload = NULL;
    p->caplen = p->wirelen = 0;
    p->flags = 0;
    nr_cur_init(&c, frame, caplen);
    switch (dlt) {
    case DLT_EN10MB_:
        return decode_eth(&c, p);
    case DLT_NULL_:
    case DLT_LOOP_:
        return decode_null(&c, p);
    case DLT_LINUX_SLL_:
        return decode_sll(&c, p);
    case DLT_LINUX_SLL2_:
        return decode_sll2(&c, p);
    case DLT_RAW_:
    case DLT_RAW_OPENBSD_:
    case LINKTYPE_RAW_:
        return decode_ip(&c, p);
    case DLT_IPV4_:
        return nr_cur_left(&c) ? decode_ipv4(&c, p) : fail(p, NR_R_TRUNC_IP);
    case DLT_IPV6_:
        return nr_cur_left(&c) ? decode_ipv6(&c, p) : fail(p, NR_R_TRUNC_IP);
    default:
        return fail(p, NR_R_BAD_LINK);
    }
}
