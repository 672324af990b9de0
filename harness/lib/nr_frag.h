/* nr_frag.h - IPv4 and IPv6 fragment reassembly, bounded in memory and time.
 *
 * Fragments decoded by nr_pkt_decode (status NR_PKT_FRAG) are held per
 * datagram, keyed like the kernel's: IPv4 by source, destination, protocol
 * and identification; IPv6 by source, destination and fragment id.  When
 * every byte of a datagram's payload has arrived (its last fragment gave
 * the length), the payload is handed back for nr_pkt_decode_l4.
 *
 * Overlaps: the first copy of a byte wins, as in netrig's TCP reassembly
 * (tshark keeps the bytes of the fragment with the lowest offset instead;
 * harness/doc/pcap.md).  A fragment that fits no datagram (past 65535
 * bytes, a second, different end, data past the end, an empty fragment
 * that is not the last) is refused and changes nothing.
 * Bounds: the fragment data held for all datagrams is at most
 * NR_FRAG_MAX_BYTES (buffers counted as allocated); to make room the
 * oldest datagrams are dropped (counted as overflows).  A datagram not
 * complete NR_FRAG_TIMEOUT_NS of capture time after its first fragment is
 * dropped (counted as a timeout) when a later fragment arrives. */
#ifndef NR_FRAG_H
#define NR_FRAG_H

#include <stdint.h>

#include "nr_pkt.h"

#define NR_FRAG_MAX_BYTES (8u << 20)                 /* held data, all datagrams */
#define NR_FRAG_TIMEOUT_NS (30 * 1000000000LL)       /* Linux's ipfrag_time */

/* What nr_frag_add did with a fragment. */
enum nr_frag_result {
    NR_FRAG_HELD = 0, /* kept; its datagram needs more fragments */
    NR_FRAG_DONE = 1, /* it completed its datagram: see nr_frag_add */
    NR_FRAG_BAD = 2   /* malformed: fits no datagram, dropped */
};

/* Counters of a table's life. */
struct nr_fragstats {
    uint64_t reassembled; /* datagrams completed */
    uint64_t timeouts;    /* datagrams dropped incomplete after NR_FRAG_TIMEOUT_NS */
    uint64_t overflows;   /* datagrams dropped to stay within NR_FRAG_MAX_BYTES */
    uint64_t incomplete;  /* datagrams still incomplete at nr_frag_finish */
    uint64_t overlaps;    /* fragments that repeated bytes already held */
};

struct nr_fragtab;

/* New empty table, or NULL when out of memory.  Free with nr_frag_free. */
struct nr_fragtab *nr_frag_new(void);

/* Offer the fragment p (status NR_PKT_FRAG from nr_pkt_decode) captured at
 * ts_ns.  Returns an enum nr_frag_result, or -1 when out of memory.  On
 * NR_FRAG_DONE *p describes the whole datagram: payload, caplen (the bytes
 * captured from its start; less than wirelen when a fragment was cut by
 * the snap length), wirelen, proto and iplen; payload is owned by the
 * table and valid until the next call.  Call nr_pkt_decode_l4(p) next. */
int nr_frag_add(struct nr_fragtab *t, struct nr_pkt *p, int64_t ts_ns);

/* End of input: the datagrams still held are counted as incomplete and
 * released. */
void nr_frag_finish(struct nr_fragtab *t);

/* The table's counters (valid until nr_frag_free). */
const struct nr_fragstats *nr_frag_stats(const struct nr_fragtab *t);

/* Release the table and everything it holds (NULL is ignored). */
void nr_frag_free(struct nr_fragtab *t);

#endif
