/* nr_reasm.h - reassembly of one direction of a TCP byte stream.
 *
 * Segments are fed with their sequence number; bytes come out in order
 * through a delivery callback exactly once.  Sequence numbers wrap (all
 * comparisons are modulo 2^32).  Data that was already delivered is
 * dropped (counted as retransmitted), data ahead of a hole waits in a
 * bounded out-of-order list; when that list is full, or at the end of the
 * capture, the hole is skipped and recorded as a gap.  With keep == 0 the
 * list holds only ranges (no payload), so memory stays constant. */
#ifndef NR_REASM_H
#define NR_REASM_H

#include <stddef.h>
#include <stdint.h>

/* Default bounds of the out-of-order list, per direction. */
#define NR_REASM_MAX_SEGS 256
#define NR_REASM_MAX_BYTES (1u << 20)

/* Called for each in-order run of bytes; data is NULL when keep == 0 or
 * for a gap (then gap is 1 and len is the number of missing bytes). */
typedef void (*nr_reasm_deliver_fn)(void *ctx, const uint8_t *data, size_t len, int gap);

struct nr_reasm_seg {
    uint32_t seq, len;
    struct nr_reasm_seg *next;
    uint8_t data[]; /* len bytes when keep */
};

struct nr_reasm {
    uint8_t started, keep;
    uint32_t next;             /* next expected sequence number */
    uint64_t delivered;        /* bytes delivered */
    uint64_t gap_bytes;        /* bytes skipped over holes */
    uint32_t gaps, retrans, ooo, overlaps;
    uint32_t nsegs;            /* segments held */
    size_t held;               /* bytes held out of order */
    struct nr_reasm_seg *head; /* sorted by seq */
};

/* Result bits of nr_reasm_add. */
#define NR_REASM_NEW 1     /* some new bytes delivered */
#define NR_REASM_RETRANS 2 /* some or all bytes were already delivered */
#define NR_REASM_OOO 4     /* held ahead of a hole */

/* Start a direction at sequence number next (the ISN + 1 after a SYN, or
 * the first seen sequence number midstream). */
void nr_reasm_start(struct nr_reasm *r, uint32_t next, int keep);

/* Feed a segment covering [seq, seq + wirelen); data holds the first
 * caplen (<= wirelen) bytes, the rest was not captured and becomes a gap.
 * Returns NR_REASM_* bits (0 for an empty segment). */
int nr_reasm_add(struct nr_reasm *r, uint32_t seq, const uint8_t *data, size_t caplen,
                 size_t wirelen, nr_reasm_deliver_fn fn, void *ctx);

/* Deliver everything held, skipping holes as gaps (end of capture). */
void nr_reasm_flush(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx);

/* Free held segments. */
void nr_reasm_free(struct nr_reasm *r);

#endif
