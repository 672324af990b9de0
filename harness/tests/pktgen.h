/* pktgen.h - crafted Ethernet/IPv4 (and IPv6 UDP) frames for the packet
 * analysis tests: build frames, feed them to an nr_flowtab, or write them to
 * a pcap file with pcap_dump. */
#ifndef PKTGEN_H
#define PKTGEN_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nr_flow.h"
#include "nr_pkt.h"

#define PG_MAXFRAME 70000

static inline void pg_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void pg_be32(uint8_t *p, uint32_t v)
{
    pg_be16(p, v >> 16);
    pg_be16(p + 2, v & 0xffff);
}

/* Ethernet + IPv4 (no options) header for proto with l4len bytes after it.
 * Returns the header length (34). */
static inline size_t pg_eth_ip4(uint8_t *b, uint32_t src, uint32_t dst, int proto, size_t l4len)
{
    memset(b, 0, 34);
    pg_be16(b + 12, 0x0800);
    b[14] = 0x45;
    pg_be16(b + 16, (unsigned)(20 + l4len));
    b[22] = 64;
    b[23] = (uint8_t)proto;
    pg_be32(b + 26, src);
    pg_be32(b + 30, dst);
    return 34;
}

/* A TCP segment (no options) in an Ethernet/IPv4 frame.  Returns its length. */
static inline size_t pg_tcp4(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst,
                             uint16_t dport, uint32_t seq, uint32_t ack, int flags, uint16_t win,
                             const void *data, size_t len)
{
    size_t h = pg_eth_ip4(b, src, dst, 6, 20 + len);
    uint8_t *t = b + h;
    memset(t, 0, 20);
    pg_be16(t, sport);
    pg_be16(t + 2, dport);
    pg_be32(t + 4, seq);
    pg_be32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = (uint8_t)flags;
    pg_be16(t + 14, win);
    if (len)
        memcpy(t + 20, data, len);
    return h + 20 + len;
}

/* A UDP header and its data at u.  Returns their length. */
static inline size_t pg_udp_at(uint8_t *u, uint16_t sport, uint16_t dport, const void *data,
                               size_t len)
{
    pg_be16(u, sport);
    pg_be16(u + 2, dport);
    pg_be16(u + 4, (unsigned)(8 + len));
    pg_be16(u + 6, 0);
    if (len)
        memcpy(u + 8, data, len);
    return 8 + len;
}

static inline size_t pg_udp4(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst,
                             uint16_t dport, const void *data, size_t len)
{
    size_t h = pg_eth_ip4(b, src, dst, 17, 8 + len);
    return h + pg_udp_at(b + h, sport, dport, data, len);
}

/* Ethernet + IPv6 (no extension headers) header for proto with l4len bytes
 * after it.  Returns the header length (54). */
static inline size_t pg_eth_ip6(uint8_t *b, const uint8_t src[16], const uint8_t dst[16],
                                int proto, size_t l4len)
{
    memset(b, 0, 54);
    pg_be16(b + 12, 0x86dd);
    b[14] = 0x60;
    pg_be16(b + 18, (unsigned)l4len);
    b[20] = (uint8_t)proto;
    b[21] = 64;
    memcpy(b + 22, src, 16);
    memcpy(b + 38, dst, 16);
    return 54;
}

/* A UDP datagram in an Ethernet/IPv6 frame.  Returns its length. */
static inline size_t pg_udp6(uint8_t *b, const uint8_t src[16], uint16_t sport,
                             const uint8_t dst[16], uint16_t dport, const void *data, size_t len)
{
    size_t h = pg_eth_ip6(b, src, dst, 17, 8 + len);
    return h + pg_udp_at(b + h, sport, dport, data, len);
}

/* Where crafted frames go: a flow table (decoded here) and/or a pcap file. */
struct pg_sink {
    struct nr_flowtab *ft;
    pcap_dumper_t *dump;
    pcap_t *pc;
    int64_t t_ns;
};

static inline int pg_open_file(struct pg_sink *s, const char *path)
{
    s->pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
    if (!s->pc)
        return -1;
    s->dump = pcap_dump_open(s->pc, path);
    return s->dump ? 0 : -1;
}

static inline void pg_close_file(struct pg_sink *s)
{
    if (s->dump)
        pcap_dump_close(s->dump);
    if (s->pc)
        pcap_close(s->pc);
    s->dump = NULL;
    s->pc = NULL;
}

static inline void pg_emit(struct pg_sink *s, const uint8_t *frame, size_t len)
{
    s->t_ns += 1000000;
    if (s->ft) {
        struct nr_pkt p;
        int st = nr_pkt_decode(DLT_EN10MB, frame, len, &p);
        if (st == NR_PKT_TCP || st == NR_PKT_UDP)
            nr_flowtab_add(s->ft, &p, s->t_ns, (uint32_t)len);
    }
    if (s->dump) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = s->t_ns / 1000000000;
        h.ts.tv_usec = (s->t_ns % 1000000000); /* nanoseconds: the dead handle is nano */
        h.caplen = h.len = (bpf_u_int32)len;
        pcap_dump((u_char *)s->dump, &h, frame);
    }
}

/* A TCP connection between client (dir 0) and server (dir 1). */
struct pg_conn {
    struct pg_sink *s;
    uint32_t ip[2];
    uint16_t port[2];
    uint32_t seq[2]; /* next sequence number per direction */
    uint16_t win;
};

static inline void pg_conn_init(struct pg_conn *c, struct pg_sink *s, uint16_t cport,
                                uint16_t sport, uint32_t isn_c, uint32_t isn_s)
{
    c->s = s;
    c->ip[0] = 0x7f000001;
    c->ip[1] = 0x7f000001;
    c->port[0] = cport;
    c->port[1] = sport;
    c->seq[0] = isn_c;
    c->seq[1] = isn_s;
    c->win = 65535;
}

/* Send a segment at an explicit sequence number (nothing advances). */
static inline void pg_seg_at(struct pg_conn *c, int dir, int flags, uint32_t seq,
                             const void *data, size_t len)
{
    static uint8_t frame[PG_MAXFRAME];
    uint32_t ack = (flags & NR_TCP_ACK) ? c->seq[!dir] : 0;
    size_t n = pg_tcp4(frame, c->ip[dir], c->port[dir], c->ip[!dir], c->port[!dir], seq, ack,
                       flags, c->win, data, len);
    pg_emit(c->s, frame, n);
}

/* Send the next segment of direction dir and advance its sequence number
 * (SYN and FIN count one). */
static inline void pg_seg(struct pg_conn *c, int dir, int flags, const void *data, size_t len)
{
    pg_seg_at(c, dir, flags, c->seq[dir], data, len);
    c->seq[dir] += (uint32_t)len + ((flags & NR_TCP_SYN) ? 1 : 0) + ((flags & NR_TCP_FIN) ? 1 : 0);
}

/* SYN, SYN-ACK, ACK. */
static inline void pg_handshake(struct pg_conn *c)
{
    pg_seg(c, 0, NR_TCP_SYN, NULL, 0);
    pg_seg(c, 1, NR_TCP_SYN | NR_TCP_ACK, NULL, 0);
    pg_seg(c, 0, NR_TCP_ACK, NULL, 0);
}

/* FIN from dir, FIN back, last ACK. */
static inline void pg_close(struct pg_conn *c, int dir)
{
    pg_seg(c, dir, NR_TCP_FIN | NR_TCP_ACK, NULL, 0);
    pg_seg(c, !dir, NR_TCP_FIN | NR_TCP_ACK, NULL, 0);
    pg_seg(c, dir, NR_TCP_ACK, NULL, 0);
}

#endif
