/* nr_frag.c - IP fragment reassembly: a hash of datagrams in progress, an
 * age list for timeouts and the byte cap, a bitmap of the bytes held. */
#include "nr_frag.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 256
#define MAX_PAYLOAD 65535u /* payload bytes of one datagram */
#define GROW 2048u         /* buffers grow in steps of this many bytes */

struct dgram {
    struct dgram *hnext;         /* hash chain */
    struct dgram *older, *newer; /* age list, by first fragment */
    uint8_t ipver, proto, tail_known;
    uint8_t src[16], dst[16];
    uint32_t id;
    int64_t first_ns;
    uint32_t total;      /* payload bytes, once tail_known */
    uint32_t have;       /* distinct payload bytes held */
    uint32_t max_end;    /* highest end of a fragment */
    uint32_t uncaptured; /* first byte cut by the snap length, or UINT32_MAX */
    uint32_t cap;        /* bytes of data; bits has cap / 8 */
    uint16_t hdrlen;     /* of the fragment at offset 0 */
    uint8_t *data, *bits;
};

struct nr_fragtab {
    struct dgram *buckets[NBUCKETS];
    struct dgram *oldest, *newest;
    struct dgram *done; /* completed: its data is the caller's until the next call */
    size_t held;        /* bytes allocated to datagrams in progress */
    struct nr_fragstats st;
};

static size_t addr_len(int ipver)
{
    return ipver == 6 ? 16 : 4;
}

static size_t cost(const struct dgram *d)
{
    return sizeof(*d) + d->cap + d->cap / 8;
}

static unsigned bucket_of(int ipver, uint32_t id, const uint8_t *src, const uint8_t *dst)
{
    uint32_t h = id * 0x9e3779b1u;
    for (size_t i = 0; i < addr_len(ipver); i++)
        h = (h ^ src[i] ^ (uint32_t)dst[i] << 8) * 16777619u;
    return (h ^ h >> 16) % NBUCKETS;
}

/* Take d out of the hash and the age list (not freed). */
static void unlink_dgram(struct nr_fragtab *t, struct dgram *d)
{
    struct dgram **pp = &t->buckets[bucket_of(d->ipver, d->id, d->src, d->dst)];

    while (*pp && *pp != d)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = d->hnext;
    if (d->older)
        d->older->newer = d->newer;
    else
        t->oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        t->newest = d->older;
    t->held -= cost(d);
}

static void free_dgram(struct dgram *d)
{
    if (!d)
        return;
    free(d->data);
    free(d->bits);
    free(d);
}

static void release(struct nr_fragtab *t, struct dgram *d)
{
    unlink_dgram(t, d);
    free_dgram(d);
}

static struct dgram *find(const struct nr_fragtab *t, const struct nr_pkt *p)
{
    size_t al = addr_len(p->ipver);
    struct dgram *d = t->buckets[bucket_of(p->ipver, p->frag.id, p->src, p->dst)];

    for (; d; d = d->hnext)
        if (d->ipver == p->ipver && d->id == p->frag.id && (p->ipver == 6 || d->proto == p->proto) &&
            !memcmp(d->src, p->src, al) && !memcmp(d->dst, p->dst, al))
            return d;
    return NULL;
}

static struct dgram *create(struct nr_fragtab *t, const struct nr_pkt *p, int64_t ts_ns)
{
    struct dgram *d = calloc(1, sizeof(*d));
    unsigned b = bucket_of(p->ipver, p->frag.id, p->src, p->dst);

    if (!d)
        return NULL;
    d->ipver = p->ipver;
    d->proto = p->proto;
    d->id = p->frag.id;
    memcpy(d->src, p->src, addr_len(p->ipver));
    memcpy(d->dst, p->dst, addr_len(p->ipver));
    d->first_ns = ts_ns;
    d->uncaptured = UINT32_MAX;
    d->hnext = t->buckets[b];
    t->buckets[b] = d;
    d->older = t->newest;
    if (t->newest)
        t->newest->newer = d;
    else
        t->oldest = d;
    t->newest = d;
    t->held += cost(d);
    return d;
}

/* Drop the datagrams whose first fragment is more than the timeout older
 * than ts_ns (capture time; a capture running backwards expires nothing). */
static void expire(struct nr_fragtab *t, int64_t ts_ns)
{
    while (t->oldest && ts_ns > t->oldest->first_ns &&
           (uint64_t)ts_ns - (uint64_t)t->oldest->first_ns > (uint64_t)NR_FRAG_TIMEOUT_NS) {
        release(t, t->oldest);
        t->st.timeouts++;
    }
}

/* Room for end bytes in d, dropping the oldest other datagrams while the
 * table would hold more than NR_FRAG_MAX_BYTES.  Returns 0 or -1 (out of
 * memory). */
static int grow(struct nr_fragtab *t, struct dgram *d, uint32_t end)
{
    uint32_t ncap = (end + GROW - 1) / GROW * GROW;
    size_t add;
    uint8_t *nd, *nb;

    if (end <= d->cap)
        return 0;
    if (ncap > MAX_PAYLOAD + 1)
        ncap = MAX_PAYLOAD + 1; /* 65536: a multiple of 8 */
    add = (ncap - d->cap) + (ncap - d->cap) / 8;
    for (struct dgram *o = t->oldest, *next; o && t->held + add > NR_FRAG_MAX_BYTES; o = next) {
        next = o->newer;
        if (o != d) {
            release(t, o);
            t->st.overflows++;
        }
    }
    if (!(nd = realloc(d->data, ncap)))
        return -1;
    d->data = nd;
    if (!(nb = realloc(d->bits, ncap / 8)))
        return -1;
    memset(nb + d->cap / 8, 0, (ncap - d->cap) / 8);
    d->bits = nb;
    t->held += add;
    d->cap = ncap;
    return 0;
}

/* A fragment that fits no datagram (before anything is changed). */
static int refused(const struct dgram *d, const struct nr_pkt *p, uint32_t end)
{
    if (end > MAX_PAYLOAD || (p->ipver == 4 && end + p->frag.hdrlen > 65535u))
        return 1; /* past the largest datagram */
    if (p->wirelen == 0 && p->frag.more)
        return 1; /* an empty fragment that is not the last */
    if (!d)
        return 0;
    if (d->tail_known)
        return end > d->total || (!p->frag.more && end != d->total);
    return !p->frag.more && d->max_end > end; /* a last fragment before held data */
}

/* Copy the fragment's bytes that d does not hold yet (the first copy of a
 * byte wins).  Returns 1 when some bytes were held already. */
static int copy_new(struct dgram *d, const struct nr_pkt *p, uint32_t off, uint32_t end)
{
    int overlap = 0;

    for (uint32_t i = off; i < end; i++) {
        uint8_t bit = (uint8_t)(1u << (i & 7));
        if (d->bits[i >> 3] & bit) {
            overlap = 1;
            continue;
        }
        d->bits[i >> 3] |= bit;
        d->have++;
        if (i - off < p->caplen) {
            d->data[i] = p->payload[i - off];
        } else {
            d->data[i] = 0;
            if (i < d->uncaptured)
                d->uncaptured = i;
        }
    }
    return overlap;
}

int nr_frag_add(struct nr_fragtab *t, struct nr_pkt *p, int64_t ts_ns)
{
    struct dgram *d;
    uint32_t off = p->frag.off, end;

    free_dgram(t->done);
    t->done = NULL;
    expire(t, ts_ns);
    if (p->wirelen > MAX_PAYLOAD || off > MAX_PAYLOAD)
        return NR_FRAG_BAD;
    end = off + (uint32_t)p->wirelen;
    d = find(t, p);
    if (refused(d, p, end))
        return NR_FRAG_BAD;
    if (!d && !(d = create(t, p, ts_ns)))
        return -1;
    if (grow(t, d, end) < 0) {
        release(t, d);
        return -1;
    }
    if (!p->frag.more) {
        d->tail_known = 1;
        d->total = end;
    }
    if (off == 0) {
        d->hdrlen = p->frag.hdrlen;
        d->proto = p->proto; /* IPv6: the next header of the first fragment */
    }
    t->st.overlaps += (uint64_t)copy_new(d, p, off, end);
    if (end > d->max_end)
        d->max_end = end;
    if (!d->tail_known || d->have < d->total)
        return NR_FRAG_HELD;
    unlink_dgram(t, d);
    t->done = d;
    t->st.reassembled++;
    p->payload = d->data;
    p->wirelen = d->total;
    p->caplen = d->uncaptured < d->total ? d->uncaptured : d->total;
    p->proto = d->proto;
    p->iplen = (uint32_t)d->hdrlen + d->total;
    p->fragment = 1;
    p->reason = p->caplen < p->wirelen ? NR_R_TRUNC_DATA : NR_R_NONE;
    return NR_FRAG_DONE;
}

struct nr_fragtab *nr_frag_new(void)
{
    return calloc(1, sizeof(struct nr_fragtab));
}

void nr_frag_finish(struct nr_fragtab *t)
{
    free_dgram(t->done);
    t->done = NULL;
    while (t->oldest) {
        release(t, t->oldest);
        t->st.incomplete++;
    }
}

const struct nr_fragstats *nr_frag_stats(const struct nr_fragtab *t)
{
    return &t->st;
}

void nr_frag_free(struct nr_fragtab *t)
{
    if (!t)
        return;
    free_dgram(t->done);
    while (t->oldest)
        release(t, t->oldest);
    free(t);
}
