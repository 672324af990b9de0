/* nr_pkt.h - decode one captured frame down to TCP or UDP.
 *
 * Link types: Ethernet (with up to 64 VLAN tags), BSD NULL/LOOP, Linux SLL
 * and SLL2, raw IPv4/IPv6.  IPv4 options are skipped by IHL, IPv6
 * extension headers (hop-by-hop, routing, destination options, fragment,
 * AH) are walked with bounds.  An IP fragment is described (nr_pkt.frag)
 * for nr_frag, which reassembles it; nr_pkt_decode_l4 then decodes the
 * datagram.  Every read goes through nr_cursor; nothing is copied: the
 * decoded packet points into the caller's buffer. */
#ifndef NR_PKT_H
#define NR_PKT_H

#include <netinet/in.h> /* IPPROTO_TCP, IPPROTO_UDP: struct nr_pkt.proto */
#include <stddef.h>
#include <stdint.h>

/* What nr_pkt_decode found. */
enum nr_pkt_status {
    NR_PKT_TCP = 0,    /* TCP segment decoded */
    NR_PKT_UDP,        /* UDP datagram decoded */
    NR_PKT_SKIP_NONIP, /* not IP (ARP, ...): ignored */
    NR_PKT_SKIP_L4,    /* IP, but neither TCP nor UDP */
    NR_PKT_FRAG,       /* an IP fragment (first or later): see nr_pkt.frag */
    NR_PKT_ERROR       /* truncated or malformed: see nr_pkt.reason */
};

/* Why a packet is truncated or malformed (or a non-fatal warning). */
enum nr_pkt_reason {
    NR_R_NONE = 0,
    NR_R_TRUNC_LINK,   /* captured length ends inside the link header */
    NR_R_TRUNC_IP,     /* ... inside the IP header or its options/ext hdrs */
    NR_R_TRUNC_L4,     /* ... inside the TCP/UDP header */
    NR_R_TRUNC_DATA,   /* payload cut by the snap length (warning) */
    NR_R_BAD_LINK,     /* unsupported link type or address family */
    NR_R_BAD_IPVER,    /* IP version field disagrees with the link */
    NR_R_BAD_IPHLEN,   /* IPv4 IHL < 5 or beyond total length */
    NR_R_BAD_IPLEN,    /* IP total/payload length inconsistent */
    NR_R_BAD_IPV6EXT,  /* extension header chain too long */
    NR_R_BAD_TCPHLEN,  /* TCP data offset < 5 or beyond the segment */
    NR_R_BAD_TCPOPT,   /* TCP option with bad length (warning) */
    NR_R_BAD_UDPLEN,   /* UDP length < 8 or beyond the IP payload */
    NR_R_BAD_FRAG,     /* IP fragment that fits no datagram (set by the caller of nr_frag_add) */
    NR_R_COUNT
};

/* TCP flag bits. */
#define NR_TCP_FIN 0x01
#define NR_TCP_SYN 0x02
#define NR_TCP_RST 0x04
#define NR_TCP_PSH 0x08
#define NR_TCP_ACK 0x10
#define NR_TCP_URG 0x20

/* Parsed TCP options (only those present are flagged). */
struct nr_tcpopt {
    uint8_t has_mss, has_wscale, sack_ok, has_ts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t tsval, tsecr;
};

/* An IP fragment (status NR_PKT_FRAG).  nr_pkt.payload, caplen and wirelen
 * are then the fragment's data. */
struct nr_ipfrag {
    uint32_t id;       /* IPv4 identification, IPv6 fragment header id */
    uint32_t off;      /* offset of the data in the datagram's payload, bytes */
    uint8_t more;      /* more fragments follow (MF / M) */
    uint16_t hdrlen;   /* IP header bytes the datagram keeps: IPv4 IHL * 4, IPv6
                        * 40 + extension headers before the fragment header */
};

/* A decoded packet: views into the caller's frame buffer. */
struct nr_pkt {
    uint8_t ipver;              /* 4 or 6 */
    uint8_t proto;              /* IPPROTO_TCP / IPPROTO_UDP / other */
    uint8_t fragment;           /* 1 when an IP fragment, or a datagram reassembled from them */
    uint8_t reason;             /* enum nr_pkt_reason: error, or a warning */
    uint32_t iplen;             /* IP bytes per the header (v4 total length, v6 40 + payload) */
    uint8_t src[16], dst[16];   /* IPv4 uses the first 4 bytes */
    uint16_t sport, dport;
    uint32_t seq, ack;          /* TCP only */
    uint16_t win;
    uint8_t flags;              /* NR_TCP_* */
    struct nr_tcpopt opt;
    const uint8_t *payload;     /* captured payload bytes */
    size_t caplen;              /* payload bytes captured */
    size_t wirelen;             /* payload bytes per the headers (>= caplen) */
    struct nr_ipfrag frag;      /* NR_PKT_FRAG only */
};

/* Decode frame[0..caplen) of link type dlt (a DLT_ value as returned by
 * pcap_datalink).  Fills *p and returns an enum nr_pkt_status; on
 * NR_PKT_ERROR p->reason says why.  p->reason may also carry a warning
 * (NR_R_TRUNC_DATA, NR_R_BAD_TCPOPT) with a decoded status.  Whatever *p
 * held before, a status without a transport or fragment leaves payload
 * NULL and caplen, wirelen and flags 0, and ipver, proto, fragment,
 * reason, iplen, the addresses and the ports are 0 until a header sets
 * them. */
int nr_pkt_decode(int dlt, const uint8_t *frame, size_t caplen, struct nr_pkt *p);

/* Decode the TCP or UDP header of a reassembled datagram: p->payload holds
 * p->caplen captured bytes of its p->wirelen payload bytes, p->proto says
 * which transport (nr_frag_add leaves p so).  Fills the transport fields of
 * *p as nr_pkt_decode does and returns an enum nr_pkt_status. */
int nr_pkt_decode_l4(struct nr_pkt *p);

/* Parse TCP options from buf[0..len) into *o.  Returns 0, or -1 when an
 * option's length is invalid (options before it stay parsed). */
int nr_tcpopt_parse(const uint8_t *buf, size_t len, struct nr_tcpopt *o);

/* Short stable name of a reason ("truncated-ip"...). */
const char *nr_pkt_reason_name(int reason);

/* 1 when the reason is a truncation, 0 when a malformation. */
int nr_pkt_reason_is_trunc(int reason);

/* 1 when the link type is supported by nr_pkt_decode. */
int nr_pkt_dlt_supported(int dlt);

#endif
