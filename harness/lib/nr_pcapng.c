/* nr_pcapng.c - pcapng blocks: section headers, interfaces, packets. */
#include "nr_pcapng.h"

#include <stdlib.h>
#include <string.h>

#include "nr_cursor.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_OPB 2u
#define BT_SPB 3u
#define BT_EPB 6u
#define BOM 0x1A2B3C4Du

static int rd32(const struct nr_pcapng *g, struct nr_cursor *c, uint32_t *v)
{
    return g->swapped ? nr_cur_be32(c, v) : nr_cur_le32(c, v);
}

static int rd16(const struct nr_pcapng *g, struct nr_cursor *c, uint16_t *v)
{
    return g->swapped ? nr_cur_be16(c, v) : nr_cur_le16(c, v);
}

int nr_pcapng_block_len(struct nr_pcapng *g, const uint8_t *hdr, uint32_t *len, char *err)
{
    struct nr_cursor c;
    uint32_t type = 0, bom = 0;

    nr_cur_init(&c, hdr, 12);
    nr_cur_le32(&c, &type);
    if (type == BT_SHB) {
        nr_cur_skip(&c, 4);
        nr_cur_le32(&c, &bom);
        if (bom == BOM)
            g->swapped = 0;
        else if (bom == 0x4D3C2B1Au)
            g->swapped = 1;
        else
            return nr_seterr(err, "section header with bad byte-order magic 0x%08x", bom);
        g->in_section = 1;
        g->nifs = 0;
    } else if (!g->in_section) {
        return nr_seterr(err, "block type 0x%08x before any section header", type);
    }
    nr_cur_init(&c, hdr + 4, 4);
    rd32(g, &c, len);
    if (*len < 12 || *len % 4)
        return nr_seterr(err, "block length %u is not a multiple of 4 of at least 12", *len);
    if (*len > NR_PCAPNG_MAX_BLOCK)
        return nr_seterr(err, "block length %u exceeds the maximum of %u", *len,
                         NR_PCAPNG_MAX_BLOCK);
    return 0;
}

/* The timestamp in units of the interface's resolution, in nanoseconds
 * since the epoch, saturated. */
static int64_t ts_ns(const struct nr_pcapng_if *i, uint64_t units)
{
    unsigned __int128 ns;
    uint8_t r = i->tsresol;

    if (r & 0x80) {
        unsigned n = r & 0x7f;
        ns = n >= 64 ? 0 : ((unsigned __int128)units * 1000000000u) >> n;
    } else if (r <= 9) {
        uint64_t mul = 1;
        for (unsigned k = r; k < 9; k++)
            mul *= 10;
        ns = (unsigned __int128)units * mul;
    } else {
        unsigned __int128 div = 1;
        for (unsigned k = 9; k < r && k < 40; k++)
            div *= 10;
        ns = units / div;
    }
    ns += (unsigned __int128)((__int128)i->tsoffset * 1000000000);
    return ns > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static int add_if(struct nr_pcapng *g, struct nr_cursor *c, char *err)
{
    uint16_t lt, code, olen;
    uint32_t snap;
    struct nr_pcapng_if *i;

    if (rd16(g, c, &lt) < 0 || nr_cur_skip(c, 2) < 0 || rd32(g, c, &snap) < 0)
        return nr_seterr(err, "interface description block shorter than 8 bytes");
    if (g->nifs == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 4;
        struct nr_pcapng_if *n = realloc(g->ifs, ncap * sizeof(*n));
        if (!n)
            return nr_seterr(err, "out of memory");
        g->ifs = n;
        g->cap = ncap;
    }
    i = &g->ifs[g->nifs++];
    *i = (struct nr_pcapng_if){ .dlt = lt, .snaplen = snap, .tsresol = 6 };
    while (rd16(g, c, &code) == 0 && rd16(g, c, &olen) == 0 && code != 0) {
        const uint8_t *v;
        if (nr_cur_bytes(c, olen, &v) < 0 || nr_cur_skip(c, (size_t)(-olen & 3)) < 0)
            break; /* a damaged option list: the interface is still usable */
        if (code == 9 && olen >= 1) {
            i->tsresol = v[0];
        } else if (code == 14 && olen == 8) {
            struct nr_cursor oc;
            uint32_t lo, hi;
            nr_cur_init(&oc, v, 8);
            rd32(g, &oc, g->swapped ? &hi : &lo);
            rd32(g, &oc, g->swapped ? &lo : &hi);
            i->tsoffset = (int64_t)(((uint64_t)hi << 32) | lo);
        }
    }
    return 0;
}

int nr_pcapng_block(struct nr_pcapng *g, const uint8_t *buf, uint32_t len,
                    struct nr_pcapng_pkt *pkt, char *err)
{
    struct nr_cursor c, t;
    uint32_t type = 0, blen = 0, tail = 0, ifid = 0, hi = 0, lo = 0, caplen = 0, plen = 0;
    uint16_t id16;
    const uint8_t *data = NULL;

    nr_cur_init(&c, buf, len);
    rd32(g, &c, &type); /* in the section's byte order, like every field after it */
    rd32(g, &c, &blen);
    nr_cur_init(&t, buf + len - 4, 4);
    rd32(g, &t, &tail);
    if (tail != blen)
        return nr_seterr(err, "block length %u at the end does not match %u at the start", tail,
                         blen);
    c.len = len - 4; /* the body */
    switch (type) {
    case BT_IDB:
        return add_if(g, &c, err) < 0 ? -1 : 0;
    case BT_EPB:
    case BT_OPB:
        if (type == BT_EPB) {
            if (rd32(g, &c, &ifid) < 0)
                return nr_seterr(err, "enhanced packet block shorter than 20 bytes");
        } else {
            if (rd16(g, &c, &id16) < 0 || nr_cur_skip(&c, 2) < 0)
                return nr_seterr(err, "packet block shorter than 20 bytes");
            ifid = id16;
        }
        if (rd32(g, &c, &hi) < 0 || rd32(g, &c, &lo) < 0 || rd32(g, &c, &caplen) < 0 ||
            rd32(g, &c, &plen) < 0)
            return nr_seterr(err, "packet block shorter than 20 bytes");
        if (nr_cur_bytes(&c, caplen, &data) < 0)
            return nr_seterr(err, "captured length %u exceeds the block's %zu bytes of data",
                             caplen, nr_cur_left(&c));
        break;
    case BT_SPB:
        if (rd32(g, &c, &plen) < 0)
            return nr_seterr(err, "simple packet block shorter than 4 bytes");
        caplen = plen < nr_cur_left(&c) ? plen : (uint32_t)nr_cur_left(&c);
        if (g->nifs && g->ifs[0].snaplen && caplen > g->ifs[0].snaplen)
            caplen = g->ifs[0].snaplen;
        nr_cur_bytes(&c, caplen, &data);
        break;
    default:
        return 0;
    }
    if (ifid >= g->nifs)
        return nr_seterr(err, "packet for interface %u, but %zu interfaces are described", ifid,
                         g->nifs);
    pkt->dlt = g->ifs[ifid].dlt;
    pkt->ts_ns = ts_ns(&g->ifs[ifid], ((uint64_t)hi << 32) | lo);
    pkt->data = data;
    pkt->caplen = caplen;
    pkt->len = plen < caplen ? caplen : plen;
    return 1;
}

void nr_pcapng_free(struct nr_pcapng *g)
{
    free(g->ifs);
    g->ifs = NULL;
    g->nifs = g->cap = 0;
}
