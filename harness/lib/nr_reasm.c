/* nr_reasm.c - in-order delivery of one TCP direction. */
#include "nr_reasm.h"

#include <stdlib.h>
#include <string.h>

static int32_t sdiff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

void nr_reasm_start(struct nr_reasm *r, uint32_t next, int keep)
{
    memset(r, 0, sizeof(*r));
    r->started = 1;
    r->keep = keep ? 1 : 0;
    r->next = next;
}

static void deliver(struct nr_reasm *r, const uint8_t *data, size_t len, nr_reasm_deliver_fn fn,
                    void *ctx)
{
    if (!len)
        return;
    r->next += (uint32_t)len;
    r->delivered += len;
    if (fn)
        fn(ctx, r->keep ? data : NULL, len, 0);
}

static void gap(struct nr_reasm *r, size_t len, nr_reasm_deliver_fn fn, void *ctx)
{
    if (!len)
        return;
    r->next += (uint32_t)len;
    r->gaps++;
    r->gap_bytes += len;
    if (fn)
        fn(ctx, NULL, len, 1);
}

/* Deliver held segments that now touch r->next. */
static void drain(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx)
{
    struct nr_reasm_seg *s;

    while ((s = r->head) && sdiff(s->seq, r->next) <= 0) {
        int32_t d = sdiff(r->next, s->seq);
        r->head = s->next;
        r->nsegs--;
        r->held -= s->len;
        if ((uint32_t)d < s->len) {
            if (d > 0)
                r->overlaps++;
            deliver(r, s->data + (r->keep ? (size_t)d : 0), s->len - (uint32_t)d, fn, ctx);
        } else {
            r->retrans++;
        }
        free(s);
    }
}

/* Skip the hole before the first held segment. */
static void skip_hole(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx)
{
    if (r->head) {
        gap(r, (uint32_t)sdiff(r->head->seq, r->next), fn, ctx);
        drain(r, fn, ctx);
    }
}

static int hold(struct nr_reasm *r, uint32_t seq, const uint8_t *data, size_t len,
                nr_reasm_deliver_fn fn, void *ctx)
{
    struct nr_reasm_seg *s, **pp;

    for (pp = &r->head; *pp && sdiff((*pp)->seq, seq) < 0; pp = &(*pp)->next)
        ;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= len) {
        r->retrans++;
        return NR_REASM_RETRANS;
    }
    s = malloc(sizeof(*s) + (r->keep ? len : 0));
    if (!s) { /* out of memory: lose the data as a gap later */
        return 0;
    }
    s->seq = seq;
    s->len = (uint32_t)len;
    if (r->keep)
        memcpy(s->data, data, len);
    s->next = *pp;
    *pp = s;
    r->nsegs++;
    r->held += len;
    r->ooo++;
    while (r->head && (r->nsegs > NR_REASM_MAX_SEGS || r->held > NR_REASM_MAX_BYTES))
        skip_hole(r, fn, ctx);
    return NR_REASM_OOO;
}

int nr_reasm_add(struct nr_reasm *r, uint32_t seq, const uint8_t *data, size_t caplen,
                 size_t wirelen, nr_reasm_deliver_fn fn, void *ctx)
{
    int res = 0;
    int32_t d;

    if (wirelen == 0)
        return 0;
    if (wirelen > 0x7fffffff || caplen > wirelen)
        return 0;
    if (sdiff(seq + (uint32_t)wirelen, r->next) <= 0) {
        r->retrans++;
        return NR_REASM_RETRANS;
    }
    d = sdiff(r->next, seq);
    if (d > 0) { /* starts before next: drop the old part */
        res |= NR_REASM_RETRANS;
        r->retrans++;
        seq += (uint32_t)d;
        wirelen -= (size_t)d;
        if ((size_t)d < caplen) {
            data += d;
            caplen -= (size_t)d;
        } else {
            caplen = 0;
        }
    }
    if (seq != r->next) {
        if (caplen < wirelen) /* hold only what was captured */
            wirelen = caplen;
        return wirelen ? res | hold(r, seq, data, caplen, fn, ctx) : res;
    }
    deliver(r, data, caplen, fn, ctx);
    gap(r, wirelen - caplen, fn, ctx);
    drain(r, fn, ctx);
    return res | NR_REASM_NEW;
}

void nr_reasm_flush(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx)
{
    while (r->head)
        skip_hole(r, fn, ctx);
}

void nr_reasm_free(struct nr_reasm *r)
{
    struct nr_reasm_seg *s;

    while ((s = r->head)) {
        r->head = s->next;
        free(s);
    }
    r->nsegs = 0;
    r->held = 0;
}
