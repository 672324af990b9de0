/* nr_fault.c - toxics as pure functions: the PRNG, the TCP slice planner,
 * the UDP verdict, and the names of toxics and ledger items. */
#include "nr_fault.h"

#include <string.h>

/* ---- PRNG ------------------------------------------------------------- */

uint64_t nr_rng_next(struct nr_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void nr_rng_init(struct nr_rng *r, uint64_t seed, uint64_t salt)
{
    r->s = seed ^ (salt * 0xd1b54a32d192ed03ull);
    (void)nr_rng_next(r);
}

uint64_t nr_rng_below(struct nr_rng *r, uint64_t n)
{
    uint64_t x = nr_rng_next(r);

    /* the modulo bias is below 2^-40 for every n a scenario can give */
    return n ? x % n : 0;
}

int nr_rng_chance(struct nr_rng *r, unsigned bp)
{
    return nr_rng_below(r, 10000) < bp;
}

uint64_t nr_fault_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* ---- names -------------------------------------------------------------- */

static const char *const tox_names[NR_TOX_COUNT] = {
    [NR_TOX_LATENCY] = "latency",       [NR_TOX_BANDWIDTH] = "bandwidth",
    [NR_TOX_SLICER] = "slicer",         [NR_TOX_LIMIT_DATA] = "limit_data",
    [NR_TOX_RESET_PEER] = "reset_peer", [NR_TOX_TIMEOUT] = "timeout",
    [NR_TOX_SLOW_CLOSE] = "slow_close", [NR_TOX_HALF_CLOSE] = "half_close",
    [NR_TOX_STALL] = "stall",           [NR_TOX_DROP] = "drop",
    [NR_TOX_DUPLICATE] = "duplicate",   [NR_TOX_REORDER] = "reorder",
    [NR_TOX_CORRUPT] = "corrupt",       [NR_TOX_DELAY] = "delay",
    [NR_TOX_TRUNCATE] = "truncate",
};

static const char *const ledger_names[NR_L_COUNT] = {
    [NR_L_BYTES_IN] = "bytes_in",     [NR_L_BYTES_OUT] = "bytes_out",
    [NR_L_PLAIN] = "plain",
    [NR_L_DELAYED] = "delayed",       [NR_L_SLICES] = "slices",
    [NR_L_CUT] = "cut",               [NR_L_RESETS] = "resets",
    [NR_L_CLOSES] = "closes",         [NR_L_STALLS] = "stalls",
    [NR_L_CONNS] = "conns",           [NR_L_REFUSED] = "refused",
    [NR_L_DG_IN] = "datagrams_in",    [NR_L_DG_OUT] = "datagrams_out",
    [NR_L_DROPPED] = "dropped",       [NR_L_DUPLICATED] = "duplicated",
    [NR_L_REORDERED] = "reordered",   [NR_L_CORRUPTED] = "corrupted",
    [NR_L_TRUNCATED] = "truncated",   [NR_L_DG_DELAYED] = "datagrams_delayed",
};

/* Index of name[0..len) in a table of n names, or -1. */
static int lookup_in(const char *const *names, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return i;
    return -1;
}

const char *nr_tox_name(enum nr_tox_kind k)
{
    return (unsigned)k < NR_TOX_COUNT ? tox_names[k] : "?";
}

int nr_tox_lookup(const char *name, size_t len)
{
    return lookup_in(tox_names, NR_TOX_COUNT, name, len);
}

int nr_tox_is_udp(enum nr_tox_kind k)
{
    return k >= NR_TOX_DROP && k < NR_TOX_COUNT;
}

const char *nr_ledger_name(enum nr_ledger_item i)
{
    return (unsigned)i < NR_L_COUNT ? ledger_names[i] : "?";
}

int nr_ledger_lookup(const char *name, size_t len)
{
    return lookup_in(ledger_names, NR_L_COUNT, name, len);
}

/* ---- toxic sets --------------------------------------------------------- */

void nr_faults_add(struct nr_faults *f, const struct nr_toxic *t)
{
    if ((unsigned)t->kind >= NR_TOX_COUNT)
        return;
    f->t[t->kind] = *t;
    f->on |= 1u << t->kind;
}

void nr_faults_remove(struct nr_faults *f, int k)
{
    if (k < 0)
        f->on = 0;
    else if (k < NR_TOX_COUNT)
        f->on &= ~(1u << k);
}

/* ms +- jitter ms, in microseconds, never negative; draws once. */
static int64_t jittered_us(struct nr_rng *r, uint64_t ms, uint64_t jitter_ms)
{
    int64_t d = (int64_t)ms * 1000;
    uint64_t span = jitter_ms * 2000 + 1;
    int64_t j = (int64_t)nr_rng_below(r, span) - (int64_t)jitter_ms * 1000;

    d += jitter_ms ? j : 0;
    return d < 0 ? 0 : d;
}

/* ---- TCP ---------------------------------------------------------------- */

/* How many of len bytes fit before a byte limit (limit bytes in all, planned
 * so far); *hit set when the limit is reached within them. */
static size_t under_limit(uint64_t limit, uint64_t planned, size_t len, int *hit)
{
    uint64_t rem = limit > planned ? limit - planned : 0;

    if ((uint64_t)len >= rem) {
        *hit = 1;
        return (size_t)rem;
    }
    return len;
}

/* The size of the next slicer slice: avg +- var, at least 1. */
static size_t slice_size(const struct nr_toxic *t, struct nr_rng *r)
{
    uint64_t lo = t->bytes > t->var ? t->bytes - t->var : 1;
    uint64_t hi = t->bytes + t->var;
    uint64_t s = lo + nr_rng_below(r, hi - lo + 1);

    return s ? (size_t)s : 1;
}

size_t nr_tcp_max_pieces(const struct nr_faults *f, size_t len)
{
    size_t n = 1, m;

    if (nr_faults_has(f, NR_TOX_SLICER)) {
        const struct nr_toxic *sl = &f->t[NR_TOX_SLICER];
        size_t least = sl->bytes > sl->var ? (size_t)(sl->bytes - sl->var) : 1;
        n = len / least + 1;
    }
    if (nr_faults_has(f, NR_TOX_BANDWIDTH)) {
        size_t cap = f->t[NR_TOX_BANDWIDTH].bytes / 100 ? (size_t)(f->t[NR_TOX_BANDWIDTH].bytes / 100)
                                                          : 1;
        /* each slice may be cut once more at a bandwidth boundary */
        m = len / cap + 1;
        n = n + m;
    }
    return n < len ? n : len ? len : 1;
}

int nr_tcp_plan(const struct nr_faults *f, struct nr_rng *r, struct nr_tcp_state *st,
                size_t len, int64_t now_us, struct nr_piece *out, size_t max,
                struct nr_tcp_plan *plan)
{
    const struct nr_toxic *sl = &f->t[NR_TOX_SLICER], *bw = &f->t[NR_TOX_BANDWIDTH];
    int slicer = nr_faults_has(f, NR_TOX_SLICER), band = nr_faults_has(f, NR_TOX_BANDWIDTH);
    size_t keep = len, off = 0;
    int64_t t = now_us;
    int hit = 0;

    memset(plan, 0, sizeof(*plan));
    if (max < nr_tcp_max_pieces(f, len))
        return -1;
    if (nr_faults_has(f, NR_TOX_LIMIT_DATA)) {
        keep = under_limit(f->t[NR_TOX_LIMIT_DATA].bytes, st->planned, keep, &hit);
        if (hit)
            plan->action = NR_TCP_CLOSE;
    }
    if (nr_faults_has(f, NR_TOX_RESET_PEER) && f->t[NR_TOX_RESET_PEER].by_bytes) {
        hit = 0;
        keep = under_limit(f->t[NR_TOX_RESET_PEER].bytes, st->planned, keep, &hit);
        if (hit)
            plan->action = NR_TCP_RESET;
    }
    plan->cut = len - keep;
    if (nr_faults_has(f, NR_TOX_LATENCY))
        t += jittered_us(r, f->t[NR_TOX_LATENCY].ms, f->t[NR_TOX_LATENCY].jitter_ms);
    if (t < st->last_us)
        t = st->last_us;
    while (off < keep) {
        size_t sz = keep - off;
        if (slicer) {
            size_t s = slice_size(sl, r);
            sz = s < sz ? s : sz;
            if (plan->npieces > 0)
                t += (int64_t)sl->ms * 1000;
        }
        if (band) {
            /* at most 10 ms worth of bytes per write, so the pace is even */
            size_t cap = bw->bytes / 100 ? (size_t)(bw->bytes / 100) : 1;
            sz = cap < sz ? cap : sz;
            if (t < st->free_us)
                t = st->free_us;
            st->free_us = t + (int64_t)((uint64_t)sz * 1000000u / bw->bytes);
        }
        out[plan->npieces].off = off;
        out[plan->npieces].len = sz;
        out[plan->npieces].at_us = t;
        plan->npieces++;
        if (t > now_us)
            plan->delayed += sz;
        off += sz;
    }
    st->last_us = t;
    st->planned += keep;
    plan->kept = keep;
    return 0;
}

void nr_tcp_relayed(struct nr_tcp_state *st, size_t len, int64_t now_us)
{
    st->planned += len;
    if (st->last_us < now_us)
        st->last_us = now_us;
}

int64_t nr_tcp_fin(const struct nr_faults *f, int64_t eof_us, int *both)
{
    *both = nr_faults_has(f, NR_TOX_HALF_CLOSE);
    if (!nr_faults_has(f, NR_TOX_SLOW_CLOSE))
        return eof_us;
    return eof_us + (int64_t)f->t[NR_TOX_SLOW_CLOSE].ms * 1000;
}

enum nr_tcp_action nr_tcp_timer(const struct nr_faults *f, int64_t reset_since_us,
                                int64_t timeout_since_us, int64_t *at)
{
    const struct nr_toxic *rp = &f->t[NR_TOX_RESET_PEER], *to = &f->t[NR_TOX_TIMEOUT];
    enum nr_tcp_action a = NR_TCP_GO;

    *at = 0;
    if (nr_faults_has(f, NR_TOX_RESET_PEER) && !rp->by_bytes) {
        *at = reset_since_us + (int64_t)rp->ms * 1000;
        a = NR_TCP_RESET;
    }
    if (nr_faults_has(f, NR_TOX_TIMEOUT) && to->ms) {
        int64_t t = timeout_since_us + (int64_t)to->ms * 1000;
        if (a == NR_TCP_GO || t < *at) {
            *at = t;
            a = NR_TCP_CLOSE;
        }
    }
    return a;
}

int nr_tcp_reads(const struct nr_faults *f)
{
    return !nr_faults_has(f, NR_TOX_STALL);
}

int nr_tcp_delivers(const struct nr_faults *f)
{
    return !nr_faults_has(f, NR_TOX_TIMEOUT);
}

/* ---- UDP ---------------------------------------------------------------- */

/* The probability of a percentage toxic, 0 when it is off. */
static unsigned bp_of(const struct nr_faults *f, enum nr_tox_kind k)
{
    return nr_faults_has(f, k) ? f->t[k].bp : 0;
}

void nr_udp_decide(const struct nr_faults *f, struct nr_rng *r, size_t len,
                   struct nr_udp_verdict *v)
{
    int drop = nr_rng_chance(r, bp_of(f, NR_TOX_DROP));
    int dup = nr_rng_chance(r, bp_of(f, NR_TOX_DUPLICATE));
    int reorder = nr_rng_chance(r, bp_of(f, NR_TOX_REORDER));
    int corrupt = nr_rng_chance(r, bp_of(f, NR_TOX_CORRUPT));
    uint64_t pos = nr_rng_next(r), bit = nr_rng_below(r, 8);
    int64_t delay = jittered_us(r, f->t[NR_TOX_DELAY].ms, f->t[NR_TOX_DELAY].jitter_ms);

    memset(v, 0, sizeof(*v));
    v->corrupt_at = -1;
    v->len = len;
    if (nr_faults_has(f, NR_TOX_TRUNCATE) && len > f->t[NR_TOX_TRUNCATE].bytes)
        v->len = (size_t)f->t[NR_TOX_TRUNCATE].bytes;
    if (drop) {
        v->drop = 1;
        return;
    }
    v->copies = dup ? 2 : 1;
    if (corrupt && v->len > 0) {
        v->corrupt_at = (long)(pos % v->len);
        v->corrupt_mask = (uint8_t)(1u << bit);
    }
    v->delay_us = nr_faults_has(f, NR_TOX_DELAY) ? delay : 0;
    v->hold = reorder ? (f->t[NR_TOX_REORDER].gap ? f->t[NR_TOX_REORDER].gap : 1) : 0;
}

void nr_udp_corrupt(const struct nr_udp_verdict *v, uint8_t *buf, size_t len)
{
    if (v->corrupt_at >= 0 && (size_t)v->corrupt_at < len)
        buf[v->corrupt_at] ^= v->corrupt_mask;
}
