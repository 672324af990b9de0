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

static void unlink_head(struct nr_reasm *r)
{
    struct nr_reasm_seg *s = r->head;

    r->head = s->next;
    r->nsegs--;
    r->held -= s->len + NR_REASM_SEG_COST;
    free(s);
}

/* Deliver held segments that now touch r->next. */
static void drain(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx)
{
    struct nr_reasm_seg *s;

    while ((s = r->head) && sdiff(s->seq, r->next) <= 0) {
        int32_t d = sdiff(r->next, s->seq);
        if ((uint32_t)d < s->len)
            deliver(r, s->data + (r->keep ? (size_t)d : 0), s->len - (uint32_t)d, fn, ctx);
        unlink_head(r);
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

/* Insert [seq, seq + len) before *pp.  Returns 0 or -1 (no memory). */
static int insert(struct nr_reasm *r, struct nr_reasm_seg **pp, uint32_t seq,
                  const uint8_t *data, uint32_t len)
{
    struct nr_reasm_seg *s = malloc(sizeof(*s) + (r->keep ? len : 0));

    if (!s)
        return -1;
    s->seq = seq;
    s->len = len;
    if (r->keep)
        memcpy(s->data, data, len);
    s->next = *pp;
    *pp = s;
    r->nsegs++;
    r->held += len + NR_REASM_SEG_COST;
    return 0;
}

/* Hold the parts of [seq, seq + len) that no held segment covers yet (the
 * first copy wins; held ranges never overlap). */
static int hold(struct nr_reasm *r, uint32_t seq, const uint8_t *data, size_t len,
                nr_reasm_deliver_fn fn, void *ctx)
{
    struct nr_reasm_seg **pp = &r->head;
    uint32_t cur = seq, end = seq + (uint32_t)len;
    int added = 0;

    while (sdiff(end, cur) > 0) {
        struct nr_reasm_seg *s = *pp;
        uint32_t upto = end;
        if (s && sdiff(s->seq + s->len, cur) <= 0) { /* entirely before cur */
            pp = &s->next;
            continue;
        }
        if (s && sdiff(s->seq, cur) <= 0) { /* covers cur: first copy wins */
            cur = s->seq + s->len;
            pp = &s->next;
            continue;
        }
        if (s && sdiff(s->seq, end) < 0)
            upto = s->seq;
        if (insert(r, pp, cur, data + (r->keep ? (size_t)(cur - seq) : 0), upto - cur) < 0)
            break; /* out of memory: the bytes become a gap later */
        added = 1;
        pp = &(*pp)->next;
        cur = upto;
    }
    if (!added) {
        r->retrans++;
        return NR_REASM_RETRANS;
    }
    r->ooo++;
    while (r->head && r->held > NR_REASM_MAX_BYTES) {
        r->overflows++;
        skip_hole(r, fn, ctx);
    }
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
    if (d < 0 && (uint32_t)-d > NR_REASM_WINDOW) {
        r->junk++;
        return NR_REASM_JUNK;
    }
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
    /* In order: the first copy wins over held bytes it overlaps. */
    while (caplen && r->head && sdiff(r->head->seq, seq + (uint32_t)caplen) < 0) {
        uint32_t before = (uint32_t)sdiff(r->head->seq, seq);
        deliver(r, data, before, fn, ctx);
        data += before;
        caplen -= before;
        wirelen -= before;
        seq += before;
        drain(r, fn, ctx);
        d = sdiff(r->next, seq);
        if ((size_t)d >= caplen) {
            wirelen -= (size_t)d < wirelen ? (size_t)d : wirelen;
            caplen = 0;
            seq = r->next;
            break;
        }
        data += d;
        caplen -= (size_t)d;
        wirelen -= (size_t)d;
        seq = r->next;
    }
    if (seq == r->next) {
        deliver(r, data, caplen, fn, ctx);
        gap(r, wirelen - caplen, fn, ctx);
    }
    drain(r, fn, ctx);
    return res | NR_REASM_NEW;
}

void nr_reasm_skip_to(struct nr_reasm *r, uint32_t seq, nr_reasm_deliver_fn fn, void *ctx)
{
    int32_t d = sdiff(seq, r->next);

    if (d <= 0 || (uint32_t)d > NR_REASM_WINDOW)
        return;
    while (r->head && sdiff(r->head->seq, seq) < 0)
        skip_hole(r, fn, ctx);
    d = sdiff(seq, r->next);
    if (d > 0)
        gap(r, (uint32_t)d, fn, ctx);
}

void nr_reasm_flush(struct nr_reasm *r, nr_reasm_deliver_fn fn, void *ctx)
{
    while (r->head)
        skip_hole(r, fn, ctx);
}

void nr_reasm_free(struct nr_reasm *r)
{
    while (r->head)
        unlink_head(r);
}
