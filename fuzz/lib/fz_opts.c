/* fz_opts.c - per-input limits drawn from an options record (fz_opts.h). */
#include "fz_opts.h"

void fz_opts_take(struct fz_opts *o, const uint8_t **data, size_t *size)
{
    const uint8_t *p = *data;
    size_t len;

    *o = (struct fz_opts){ 0 };
    if (*size < 4 || p[1] != FZ_OPTS)
        return;
    len = (size_t)p[2] << 8 | p[3];
    if (len > *size - 4)
        return;
    o->p = p + 4;
    o->n = len;
    *data = p + 4 + len;
    *size -= 4 + len;
}

/* Map a raw option value v (0: default) into [lo, hi]. */
static unsigned map(unsigned v, unsigned dflt, unsigned lo, unsigned hi)
{
    if (v == 0 || hi < lo)
        return dflt;
    return lo + (v - 1) % (hi - lo + 1);
}

unsigned fz_opt_u8(struct fz_opts *o, unsigned dflt, unsigned lo, unsigned hi)
{
    if (o->i + 1 > o->n) {
        o->i = o->n;
        return dflt;
    }
    return map(o->p[o->i++], dflt, lo, hi);
}

unsigned fz_opt_u16(struct fz_opts *o, unsigned dflt, unsigned lo, unsigned hi)
{
    unsigned v;

    if (o->i + 2 > o->n) {
        o->i = o->n;
        return dflt;
    }
    v = (unsigned)o->p[o->i] << 8 | o->p[o->i + 1];
    o->i += 2;
    return map(v, dflt, lo, hi);
}
