/* nr_pktfile.h - read a pcap/pcapng capture into an nr_flowtab.
 *
 * Reading goes through libpcap (pcap_fopen_offline on a stdio cookie
 * stream over a file descriptor or a memory buffer).  For classic pcap the
 * cookie validates the global header and every record header as libpcap
 * reads them (magic, caplen <= snaplen, caplen within the file), so a bad
 * file is reported with the byte offset of the offending header; for
 * pcapng libpcap's own error text is reported with the read position.
 * IP fragments are reassembled (nr_frag.h) before the transport is
 * decoded.  The packet loop does no per-packet allocation (but for held
 * fragments). */
#ifndef NR_PKTFILE_H
#define NR_PKTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "nr_err.h"
#include "nr_flow.h"
#include "nr_frag.h"
#include "nr_pkt.h"

/* Whole-capture counters. */
struct nr_capstats {
    uint64_t frames, frame_bytes;
    uint64_t tcp, udp, nonip, other_l4;
    uint64_t fragments;               /* frames holding an IP fragment */
    struct nr_fragstats frag;         /* their reassembly (nr_frag.h) */
    uint64_t truncated, malformed;    /* frames with an error or warning */
    uint64_t reasons[NR_R_COUNT];     /* per enum nr_pkt_reason */
};

/* Per-frame observer: status is an enum nr_pkt_status, conn the index in
 * the table or -1.  frame is valid only during the call.  A frame whose
 * fragment completed an IP datagram is passed with the status and *p of
 * the reassembled datagram (p->payload then points into the reassembly
 * buffer); the other fragments with NR_PKT_FRAG. */
typedef void (*nr_pktfile_fn)(void *ctx, int64_t ts_ns, const uint8_t *frame, uint32_t caplen,
                              int status, const struct nr_pkt *p, long conn);

struct nr_pktfile_opts {
    int keep_data;    /* keep stream bytes (follow, diff, seeds) */
    int partial_ok;   /* a damaged capture yields what came before the damage */
    nr_pktfile_fn fn; /* optional */
    void *ctx;
    nr_flow_data_fn on_data; /* optional stream observer (nr_flow_opts) */
    void *data_ctx;
};

struct nr_pktfile {
    int dlt;                  /* link type (DLT_*) */
    int pcapng;               /* 1 for pcapng input */
    struct nr_capstats st;
    struct nr_flowtab *ft;    /* owned; freed by nr_pktfile_free */
    struct nr_fragtab *frags; /* while reading only (NULL after) */
};

/* Read the capture at path ("-" for stdin).  Returns 0 and fills *out, or
 * -1 with errbuf set ("FILE: record at offset N: ...").  On failure *out
 * holds nothing to free.  With o->partial_ok, a capture damaged after its
 * headers returns 1: errbuf says what is wrong where, and *out holds every
 * complete record before the damage (free it).  Free a success with
 * nr_pktfile_free.  The file it opened is closed when it returns (whatever
 * its descriptor); stdin is left open. */
int nr_pktfile_read_file(const char *path, const struct nr_pktfile_opts *o,
                         struct nr_pktfile *out, char *errbuf);

/* Same for a capture held in buf[0..len) (not copied, not owned). */
int nr_pktfile_read_mem(const uint8_t *buf, size_t len, const struct nr_pktfile_opts *o,
                        struct nr_pktfile *out, char *errbuf);

/* Release the flow table of a capture. */
void nr_pktfile_free(struct nr_pktfile *c);

/* Name of a DLT ("EN10MB", "LINUX_SLL"...), static. */
const char *nr_pktfile_dlt_name(int dlt);

#endif
