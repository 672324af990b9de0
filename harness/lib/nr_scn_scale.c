/* nr_scn_scale.c - `netrig run --time-scale X`, applied once: every
 * duration a step gives is multiplied by X when the scenario is loaded, so
 * the runner reads the steps' times as they are meant.  The scenario's
 * `timeout` and `deadline` stay as written: the runner scales them with its
 * own overrides (--timeout, --deadline) when a run starts. */
#include "nr_scn.h"

#include <limits.h>

/* ms (-1: not given) times x, within an int. */
static int scaled_ms(int ms, double x)
{
    double v = ms * x;

    return ms <= 0 ? ms : v >= INT_MAX ? INT_MAX : (int)v;
}

static int scale_step(const struct nr_step *cs, unsigned depth, unsigned when, void *arg)
{
    struct nr_step *s = (struct nr_step *)cs; /* nr_scn_scale's caller owns the tree */
    double x = *(const double *)arg;
    struct nr_toxic *t;

    (void)depth;
    (void)when;
    s->timeout_ms = scaled_ms(s->timeout_ms, x);
    switch (s->kind) {
    case NR_S_SLEEP:
        s->u.sleep.ms = scaled_ms(s->u.sleep.ms, x);
        break;
    case NR_S_SEND: /* a delay stays one: at least 1 ms */
        if (s->u.send.delay_ms > 0 && !(s->u.send.delay_ms = scaled_ms(s->u.send.delay_ms, x)))
            s->u.send.delay_ms = 1;
        break;
    case NR_S_FAULT: /* times longer, a bandwidth smaller (at least a byte) */
        t = &s->u.fault.tox;
        t->ms = (uint64_t)((double)t->ms * x);
        t->jitter_ms = (uint64_t)((double)t->jitter_ms * x);
        if (t->kind == NR_TOX_BANDWIDTH)
            t->bytes = (uint64_t)((double)t->bytes / x) ? (uint64_t)((double)t->bytes / x) : 1;
        break;
    default:
        break;
    }
    return 0;
}

void nr_scn_scale(struct nr_scn *s, double x)
{
    if (x != 1.0)
        nr_steps_walk(&s->steps, NR_WALK_BEFORE, scale_step, &x);
}
