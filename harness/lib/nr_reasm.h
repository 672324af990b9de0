/* nr_reasm.h - reassembly of one direction of a TCP byte stream.
 *
 * Segments are fed with their sequence number; bytes come out in order
 * through a delivery callback exactly once.  Sequence numbers wrap (all
 * comparisons are modulo 2^32).  One overlap policy: the first copy of a
 * byte wins, whether it was delivered or is held.  Data that was already
 * delivered is dropped (counted as retransmitted); data ahead of a hole
 * waits in an out-of-order list bounded by bytes (NR_REASM_MAX_BYTES,
 * counted in overflows when exceeded: the first hole is then skipped as a
 * gap); a segment starting more than NR_REASM_WINDOW ahead is junk
 * (counted, never stream data).  Holes are skipped as gaps when the peer
 * acknowledges past them (nr_reasm_skip_to) or at the end of the capture.
 * With keep == 0 the list holds only ranges (no payload). */
#ifndef NR_REASM_H
#define NR_REASM_H

#include <stddef.h>
#include <stdint.h>

/* Bound of the out-of-order list per direction: held payload plus
 * NR_REASM_SEG_COST per held range. */
#define NR_REASM_MAX_BYTES (32u << 20)
#define NR_REASM_SEG_COST 32u
/* Farthest a segment may start ahead of the next expected byte: the
 * largest TCP window (65535 << 14). */
#define NR_REASM_WINDOW (1u << 30)

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
    uint32_t junk;             /* segments too far ahead, dropped */
    uint32_t overflows;        /* holes skipped because the list was full */
    uint32_t nsegs;            /* ranges held */
    size_t held;               /* cost held out of order (bytes + per-range cost) */
    struct nr_reasm_seg *head; /* sorted by seq */
};

/* Result bits of nr_reasm_add. */
#define NR_REASM_NEW 1     /* some new bytes delivered */
#define NR_REASM_RETRANS 2 /* some or all bytes were already delivered */
#define NR_REASM_OOO 4     /* held ahead of a hole */
#define NR_REASM_JUNK 8    /* too far ahead: dropped */

/* Start a direction at sequence number next (the ISN + 1 after a SYN, or
 * the first seen sequence number midstream). */
void nr_reasm_start(struct nr_reasm *r, uint32_t next, int keep);

/* Feed a segment covering [seq, seq + wirelen); data holds the first
 * caplen (<= wirelen) bytes, the rest was not captured and becomes a gap.
 * Returns NR_REASM_* bits (0 for an empty segment). */
int nr_reasm_add(struct nr_reasm *r, uint32_t seq, const uint8_t *data, size_t caplen,
                 size_t wirelen, nr_reasm_deliver_fn fn, void *ctx);

/* Bring the stream up to seq (an acknowledged or FIN position): deliver
 * what is held before it and skip the holes as gaps.  Nothing happens when
 * seq is not ahead of the next expected byte or more than NR_REASM_WINDOW
 * ahead. */
void nr_reasm_skip_to(struct nr_reasm *r, uint32_t seq, nr_reasm_deliver_fn fn, void *ctx);

/* Deliver everything held, skipping holes as gaps (end of capture). */
void nr_reasm_flush(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx);

/* Free held segments. */
void nr_reasm_free(struct nr_reasm *r);

#endif
