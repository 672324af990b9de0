/* nr_pcapng.h - a pcapng block reader (no libpcap: it reads sections with
 * interfaces of different link types, names the offset of a bad block, and
 * keeps timestamps from overflowing).
 *
 * The caller hands over one whole block at a time (nr_pcapng_block_len
 * says how long the block at the start of a buffer is); packets come out
 * through nr_pcapng_block's result. */
#ifndef NR_PCAPNG_H
#define NR_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "nr_err.h"

#define NR_PCAPNG_MAX_BLOCK (16u << 20) /* libpcap's limit */

struct nr_pcapng_if {
    int dlt;
    uint32_t snaplen;
    uint8_t tsresol;        /* if_tsresol: 10^-n (bit 7 clear) or 2^-n */
    int64_t tsoffset;       /* if_tsoffset, seconds */
};

struct nr_pcapng {
    int swapped;            /* section in the other byte order */
    int in_section;
    struct nr_pcapng_if *ifs;
    size_t nifs, cap;
};

/* One packet of a block, a view into the block. */
struct nr_pcapng_pkt {
    int dlt;
    int64_t ts_ns;          /* saturated to INT64_MAX */
    const uint8_t *data;
    uint32_t caplen, len;
};

/* Length of the block whose first 12 bytes are hdr (a section header
 * block fixes the byte order for the rest of its section).  Returns 0 with
 * *len set, or -1 with err set (message without the offset). */
int nr_pcapng_block_len(struct nr_pcapng *g, const uint8_t *hdr, uint32_t *len, char *err);

/* Interpret the whole block buf[0..len).  Returns 1 when it is a packet
 * (*pkt filled), 0 for any other block, -1 with err set when it is
 * malformed.  Interfaces are kept in g (free with nr_pcapng_free). */
int nr_pcapng_block(struct nr_pcapng *g, const uint8_t *buf, uint32_t len,
                    struct nr_pcapng_pkt *pkt, char *err);

/* Release the interface table; g is left with none (nifs and cap 0). */
void nr_pcapng_free(struct nr_pcapng *g);

#endif
