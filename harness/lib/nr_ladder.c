/* nr_ladder.c - a capture as a ladder: lanes, arrows, bands; and the step
 * log that names and annotates it. */
#define _GNU_SOURCE
#include "nr_ladder.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nr_cursor.h"
#include "nr_net.h"

#define DEF_MAX_EVENTS 5000
#define DEF_MAX_LANES 16
#define DEF_BAND_MIN 8
#define DEF_BAND_GAP_NS 20000000LL

/* ---- the step log ------------------------------------------------------ */

/* The next line of c (without its '\n') through *line, *n.  Returns 0, or
 * -1 at the end. */
static int next_line(struct nr_cursor *c, const char **line, size_t *n)
{
    const uint8_t *p = nr_cur_ptr(c), *nl;
    size_t left = nr_cur_left(c);

    if (left == 0)
        return -1;
    nl = memchr(p, '\n', left);
    *line = (const char *)p;
    *n = nl ? (size_t)(nl - p) : left;
    nr_cur_skip(c, *n + (nl ? 1 : 0));
    return 0;
}

/* Parse a decimal (digits, an optional '.' and digits) at s[*i..n) in
 * units of 10^-digits.  Returns 0, or -1 when there is none. */
static int decimal(const char *s, size_t n, size_t *i, int digits, int64_t *out)
{
    int64_t v = 0, frac = 0, one = 1, scale;
    size_t start = *i;

    for (int k = 0; k < digits; k++)
        one *= 10;
    scale = one;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9' && v < INT64_MAX / one / 10)
        v = v * 10 + (s[(*i)++] - '0');
    if (*i < n && s[*i] == '.')
        for ((*i)++; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
            if (scale > 1)
                frac += (s[*i] - '0') * (scale /= 10);
    if (*i == start)
        return -1;
    *out = v * one + frac;
    return 0;
}

static int add_name(struct nr_ladder_log *log, const char *name, size_t nlen, const char *addr,
                    size_t alen)
{
    void *nv = realloc(log->names, (log->nnames + 1) * sizeof(*log->names));

    if (!nv)
        return -1;
    log->names = nv;
    snprintf(log->names[log->nnames].name, sizeof(log->names[0].name), "%.*s", (int)nlen, name);
    snprintf(log->names[log->nnames].addr, sizeof(log->names[0].addr), "%.*s", (int)alen, addr);
    log->nnames++;
    return 0;
}

/* "endpoint NAME tcp|udp LOCAL PEER" or "endpoint NAME target ADDR". */
static int parse_endpoint(struct nr_ladder_log *log, const char *s, size_t n)
{
    const char *w[4];
    size_t wl[4], k = 0, i = 0;

    while (k < 4 && i < n) {
        w[k] = s + i;
        while (i < n && s[i] != ' ')
            i++;
        wl[k] = (size_t)(s + i - w[k]);
        k++;
        while (i < n && s[i] == ' ')
            i++;
    }
    if (k < 3 || wl[0] == 0)
        return 0;
    return add_name(log, w[0], wl[0], w[2], wl[2]);
}

/* "LINE: TEXT  [ok, N ms]" or "[FAILED, N ms]", at log time t_us. */
static int parse_step(struct nr_ladder_log *log, int64_t t_us, const char *s, size_t n)
{
    struct nr_ladder_step *st, *nv;
    size_t i = 0, close, open;
    unsigned line = 0;
    int64_t dur = 0;

    while (i < n && s[i] == ' ')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && line < 100000000)
        line = line * 10 + (unsigned)(s[i++] - '0');
    if (i + 1 >= n || s[i] != ':' || s[i + 1] != ' ' || s[n - 1] != ']')
        return 0;
    for (open = n - 1; open > i && s[open] != '['; open--)
        ;
    close = n - 1;
    if (open <= i + 2 || s[open - 1] != ' ' || s[open - 2] != ' ')
        return 0;
    {
        const char *comma = memchr(s + open, ',', close - open);
        size_t k;
        if (!comma)
            return 0;
        k = (size_t)(comma - s) + 1;
        while (k < close && s[k] == ' ')
            k++;
        if (decimal(s, close, &k, 3, &dur) < 0) /* "N ms": in us */
            return 0;
    }
    nv = realloc(log->steps, (log->nsteps + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    log->steps = nv;
    st = &log->steps[log->nsteps];
    st->end_us = t_us;
    st->start_us = t_us - dur;
    st->line = line;
    st->failed = n - open > 8 && memcmp(s + open, "[FAILED", 7) == 0;
    st->text = strndup(s + i + 2, open - 2 - (i + 2));
    if (!st->text)
        return -1;
    log->nsteps++;
    return 0;
}

/* "capture: N packets, M dropped by the kernel; ...": add M. */
static void parse_drops(struct nr_ladder_log *log, const char *s, size_t n)
{
    static const char w[] = " dropped by the kernel";
    const char *at = memmem(s, n, w, sizeof(w) - 1);
    uint64_t v = 0, scale = 1;

    if (!at)
        return;
    for (const char *p = at; p > s && p[-1] >= '0' && p[-1] <= '9' && scale < UINT64_MAX / 10;
         p--, scale *= 10)
        v += (uint64_t)(p[-1] - '0') * scale;
    log->dropped += v;
}

int nr_ladder_log_parse(const uint8_t *buf, size_t len, struct nr_ladder_log *log)
{
    static const char clock_w[] = "clock: 0 is ", ep_w[] = "endpoint ";
    struct nr_cursor c;
    const char *s;
    size_t n;

    memset(log, 0, sizeof(*log));
    nr_cur_init(&c, buf, len);
    while (next_line(&c, &s, &n) == 0) {
        size_t i = 0;
        int64_t t;
        int r = 0;
        while (i < n && s[i] == ' ')
            i++;
        if (decimal(s, n, &i, 6, &t) < 0 || i >= n || s[i] != ' ')
            continue; /* a failure message's lines, or anything else */
        s += i + 1;
        n -= i + 1;
        if (n > sizeof(clock_w) - 1 && !memcmp(s, clock_w, sizeof(clock_w) - 1)) {
            size_t k = sizeof(clock_w) - 1;
            if (decimal(s, n, &k, 6, &log->clock_us) == 0)
                log->have_clock = 1;
        } else if (n > 9 && !memcmp(s, "capture: ", 9)) {
            parse_drops(log, s, n);
        } else if (n > sizeof(ep_w) - 1 && !memcmp(s, ep_w, sizeof(ep_w) - 1)) {
            r = parse_endpoint(log, s + sizeof(ep_w) - 1, n - (sizeof(ep_w) - 1));
        } else {
            r = parse_step(log, t, s, n);
        }
        if (r < 0) {
            nr_ladder_log_free(log);
            return -1;
        }
    }
    return 0;
}

void nr_ladder_log_free(struct nr_ladder_log *log)
{
    for (size_t i = 0; i < log->nsteps; i++)
        free(log->steps[i].text);
    free(log->steps);
    free(log->names);
    memset(log, 0, sizeof(*log));
}

/* ---- reading a capture --------------------------------------------------- */

/* A burst being collected on one direction of a connection: its packets
 * are kept as events until it is long enough to be a band. */
struct run {
    struct nr_ladder_event *ev; /* the packets so far (at most band_min) */
    size_t n, cap;
    struct nr_ladder_event band; /* the band, once n reached band_min */
    int is_band;
};

/* What the ladder remembers of each connection. */
struct cstate {
    int seen;                  /* 0: not yet; 1: drawn; -1: left out (flow) */
    uint32_t lane[2];          /* of the originator and responder */
    uint32_t base[2];          /* first seq seen per direction */
    uint8_t have_base[2];
    uint32_t retrans[2], zero_win[2], ooo[2]; /* counters before this packet */
    struct run run[2];         /* bursts of data from each direction */
};

struct rd {
    struct nr_ladder *l;
    const struct nr_ladder_log *log;
    struct nr_pktfile cap;     /* being read: cap.ft is the live table */
    struct cstate *cs;
    size_t ncs;
    int failed;                /* out of memory */
};

static int push_event(struct nr_ladder *l, const struct nr_ladder_event *e)
{
    if (l->nev == l->evcap) {
        size_t cap = l->evcap ? 2 * l->evcap : 256;
        struct nr_ladder_event *nv = realloc(l->ev, cap * sizeof(*nv));
        if (!nv)
            return -1;
        l->ev = nv;
        l->evcap = cap;
    }
    l->ev[l->nev++] = *e;
    return 0;
}

/* Is a's address the wildcard (0.0.0.0 or ::)? */
static int unspecified(const struct nr_addr *a)
{
    static const uint8_t zero[16];

    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == 0;
    return a->ss.ss_family == AF_INET6 &&
           !memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr, zero, 16);
}

/* Does the step log's address text name endpoint (ip, port)? */
static int names_endpoint(const char *text, int ipver, const uint8_t *ip, uint16_t port)
{
    struct nr_addr a;

    if (nr_addr_parse(text, &a, NULL) < 0 || nr_addr_port((struct sockaddr *)&a.ss) != port)
        return 0;
    if (unspecified(&a))
        return 1;
    if (ipver == 4 && a.ss.ss_family == AF_INET)
        return !memcmp(&((struct sockaddr_in *)&a.ss)->sin_addr, ip, 4);
    return ipver == 6 && a.ss.ss_family == AF_INET6 &&
           !memcmp(&((struct sockaddr_in6 *)&a.ss)->sin6_addr, ip, 16);
}

/* The names the log gives an endpoint, joined by ' ' (each once). */
static void lane_name(const struct nr_ladder_log *log, struct nr_ladder_lane *ln)
{
    size_t at = 0;

    for (size_t i = 0; log && i < log->nnames; i++) {
        const char *nm = log->names[i].name;
        size_t k = strlen(nm);
        char *hit;
        if (!names_endpoint(log->names[i].addr, ln->ipver, ln->ip, ln->port))
            continue;
        hit = strstr(ln->name, nm);
        if (hit && (hit == ln->name || hit[-1] == ' ') && (hit[k] == ' ' || hit[k] == '\0'))
            continue;
        if (at + (at > 0) + k + 1 > sizeof(ln->name))
            break;
        at += (size_t)snprintf(ln->name + at, sizeof(ln->name) - at, "%s%s", at ? " " : "", nm);
    }
}

/* The lane of endpoint dir of connection c: found, made, or the lane of
 * others past max_lanes.  Returns its index, or -1 when out of memory. */
static long lane_of(struct rd *r, const struct nr_conn *c, int dir)
{
    struct nr_ladder *l = r->l;
    size_t alen = c->ipver == 6 ? 16 : 4;
    struct nr_ladder_lane *ln, *nv;

    for (size_t i = 0; i < l->nlanes; i++) {
        ln = &l->lanes[i];
        if (!ln->others && ln->ipver == c->ipver && ln->port == c->port[dir] &&
            !memcmp(ln->ip, c->addr[dir], alen))
            return (long)i;
    }
    if (l->nlanes > l->o.max_lanes) { /* the last lane is the lane of others */
        l->lanes[l->nlanes - 1].others++;
        return (long)l->nlanes - 1;
    }
    nv = realloc(l->lanes, (l->nlanes + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    l->lanes = nv;
    ln = &l->lanes[l->nlanes];
    memset(ln, 0, sizeof(*ln));
    if (l->nlanes == l->o.max_lanes) {
        ln->others = 1;
        snprintf(ln->name, sizeof(ln->name), "others");
    } else {
        ln->ipver = c->ipver;
        ln->port = c->port[dir];
        memcpy(ln->ip, c->addr[dir], alen);
        nr_conn_endpoint(c, dir, ln->addr, sizeof(ln->addr));
        lane_name(r->log, ln);
    }
    return (long)l->nlanes++;
}

/* Is connection c in the flow the options ask for? */
static int selected(const struct nr_ladder_opts *o, const struct nr_conn *c)
{
    char a[80], b[80], both[170];

    if (o->has_flow)
        return c->index == o->flow_index;
    if (!o->flow_spec)
        return 1;
    nr_conn_endpoint(c, 0, a, sizeof(a));
    nr_conn_endpoint(c, 1, b, sizeof(b));
    snprintf(both, sizeof(both), "%s-%s", a, b);
    if (!strcmp(both, o->flow_spec))
        return 1;
    snprintf(both, sizeof(both), "%s-%s", b, a);
    return !strcmp(both, o->flow_spec);
}

/* Emit what a burst collected: its packets, or its band. */
static int run_flush(struct nr_ladder *l, struct run *u)
{
    int rc = 0;

    if (u->is_band)
        rc = push_event(l, &u->band);
    for (size_t i = 0; !u->is_band && i < u->n && rc == 0; i++)
        rc = push_event(l, &u->ev[i]);
    u->n = 0;
    u->is_band = 0;
    return rc;
}

/* Add a plain packet e to burst u; data says whether it carries bytes
 * (else it is an ACK of the other direction's burst).  Returns 0 / -1. */
static int run_add(struct nr_ladder *l, struct run *u, const struct nr_ladder_event *e, int data)
{
    if (u->is_band) {
        u->band.end_ns = e->ts_ns;
        u->band.npkts++;
        u->band.nback += !data;
        u->band.nzwin += (e->marks & NR_LM_ZEROWIN) != 0;
        u->band.bytes += data ? e->bytes : 0;
        return 0;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 2;
        struct nr_ladder_event *nv = realloc(u->ev, cap * sizeof(*nv));
        if (!nv)
            return -1;
        u->ev = nv;
        u->cap = cap;
    }
    u->ev[u->n++] = *e;
    if (u->n < l->o.band_min)
        return 0;
    u->band = u->ev[0]; /* the first packet is data: a burst starts with data */
    u->band.band = 1;
    u->band.marks = 0;
    u->band.npkts = 0;
    u->band.nback = 0;
    u->band.nzwin = 0;
    u->band.bytes = 0;
    u->band.npreview = 0;
    for (size_t i = 0; i < u->n; i++) {
        int fwd = u->ev[i].from == u->band.from && u->ev[i].bytes > 0;
        u->band.npkts++;
        u->band.nback += !fwd;
        u->band.nzwin += (u->ev[i].marks & NR_LM_ZEROWIN) != 0;
        u->band.bytes += fwd ? u->ev[i].bytes : 0;
    }
    u->band.end_ns = e->ts_ns;
    u->is_band = 1;
    u->n = 0;
    return 0;
}

/* Direction of p on c (0: from the originator). */
static int pkt_dir(const struct nr_conn *c, const struct nr_pkt *p)
{
    return !(p->sport == c->port[0] && !memcmp(p->src, c->addr[0], p->ipver == 6 ? 16 : 4));
}

static struct cstate *cstate_of(struct rd *r, long conn)
{
    if ((size_t)conn >= r->ncs) {
        size_t n = r->ncs ? r->ncs : 64;
        struct cstate *nv;
        while (n <= (size_t)conn)
            n *= 2;
        nv = realloc(r->cs, n * sizeof(*nv));
        if (!nv)
            return NULL;
        memset(nv + r->ncs, 0, (n - r->ncs) * sizeof(*nv));
        r->cs = nv;
        r->ncs = n;
    }
    return &r->cs[conn];
}

/* The event of one packet: lanes, relative numbers, marks, preview. */
static void packet_event(struct cstate *s, const struct nr_conn *c, int dir, uint64_t frame,
                         int64_t ts, const struct nr_pkt *p, struct nr_ladder_event *e)
{
    memset(e, 0, sizeof(*e));
    e->ts_ns = e->end_ns = ts;
    e->frame = frame;
    e->from = s->lane[dir];
    e->to = s->lane[!dir];
    e->conn = c->index;
    e->npkts = 1;
    e->bytes = p->wirelen;
    e->npreview = (uint8_t)(p->caplen < NR_LADDER_PREVIEW ? p->caplen : NR_LADDER_PREVIEW);
    memcpy(e->preview, p->payload, e->npreview);
    if (c->proto != IPPROTO_TCP) {
        e->marks = NR_LM_UDP;
        return;
    }
    e->flags = p->flags;
    e->win = p->win;
    if (!s->have_base[dir]) {
        s->base[dir] = p->seq;
        s->have_base[dir] = 1;
    }
    e->rseq = p->seq - s->base[dir];
    e->rack = s->have_base[!dir] && (p->flags & NR_TCP_ACK) ? p->ack - s->base[!dir] : 0;
    e->marks = (p->flags & NR_TCP_SYN ? NR_LM_SYN : 0) | (p->flags & NR_TCP_FIN ? NR_LM_FIN : 0) |
               (p->flags & NR_TCP_RST ? NR_LM_RST : 0) |
               (c->retrans[dir] != s->retrans[dir] ? NR_LM_RETRANS : 0) |
               (c->zero_win[dir] != s->zero_win[dir] ? NR_LM_ZEROWIN : 0) |
               (c->ooo[dir] != s->ooo[dir] ? NR_LM_OOO : 0);
    s->retrans[dir] = c->retrans[dir];
    s->zero_win[dir] = c->zero_win[dir];
    s->ooo[dir] = c->ooo[dir];
}

/* One packet of one connection: burst or arrow. */
static int place(struct nr_ladder *l, struct cstate *s, int dir, const struct nr_ladder_event *e)
{
    struct run *mine = &s->run[dir], *other = &s->run[!dir];
    int plain = e->marks == 0 || e->marks == NR_LM_UDP || e->marks == NR_LM_ZEROWIN;
    int pure_ack = (e->marks == 0 || e->marks == NR_LM_ZEROWIN) && e->bytes == 0 &&
                   e->flags == NR_TCP_ACK;
    int64_t last;

    if (!pure_ack && (!plain || e->bytes == 0)) { /* drawn alone, after the bursts */
        if (run_flush(l, mine) < 0 || run_flush(l, other) < 0)
            return -1;
        return push_event(l, e);
    }
    if (pure_ack) { /* an ACK of the other side's burst joins it */
        if (other->n == 0 && !other->is_band)
            return push_event(l, e);
        return run_add(l, other, e, 0);
    }
    last = mine->is_band ? mine->band.end_ns : mine->n ? mine->ev[mine->n - 1].ts_ns : e->ts_ns;
    if (e->ts_ns - last > l->o.band_gap_ns && run_flush(l, mine) < 0)
        return -1;
    return run_add(l, mine, e, 1);
}

static void on_frame(void *ctx, int64_t ts, const uint8_t *frame, uint32_t caplen, int status,
                     const struct nr_pkt *p, long conn)
{
    struct rd *r = ctx;
    struct nr_ladder *l = r->l;
    const struct nr_conn *c;
    struct cstate *s;
    struct nr_ladder_event e;
    int dir;

    (void)frame;
    (void)caplen;
    l->frames++;
    if (!l->first_ns)
        l->first_ns = ts;
    l->last_ns = ts;
    if (r->failed)
        return;
    if ((status != NR_PKT_TCP && status != NR_PKT_UDP) || conn < 0) {
        l->undrawable++;
        return;
    }
    c = nr_flowtab_conn(r->cap.ft, (size_t)conn);
    if (!(s = cstate_of(r, conn))) {
        r->failed = 1;
        return;
    }
    if (s->seen == 0) {
        long a = 0, b = 0;
        s->seen = selected(&l->o, c) ? 1 : -1;
        l->conns += s->seen > 0;
        if (s->seen > 0 && ((a = lane_of(r, c, 0)) < 0 || (b = lane_of(r, c, 1)) < 0)) {
            r->failed = 1;
            return;
        }
        if (s->seen > 0) {
            s->lane[0] = (uint32_t)a;
            s->lane[1] = (uint32_t)b;
        }
    }
    dir = pkt_dir(c, p);
    packet_event(s, c, dir, l->frames, ts, p, &e);
    if (s->seen < 0 || ts - l->first_ns < l->o.from_ns ||
        (l->o.to_ns > 0 && ts - l->first_ns > l->o.to_ns)) {
        l->outside++;
        return;
    }
    l->lanes[e.from].pkts++;
    if (place(l, s, dir, &e) < 0)
        r->failed = 1;
}

static int cmp_event(const void *a, const void *b)
{
    const struct nr_ladder_event *x = a, *y = b;

    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

/* Flush every burst, sort the events, keep max_events of them. */
static int finish(struct rd *r)
{
    struct nr_ladder *l = r->l;
    int rc = 0;

    for (size_t i = 0; i < r->ncs && rc == 0; i++)
        for (int d = 0; d < 2 && rc == 0; d++)
            if (r->cs[i].seen > 0)
                rc = run_flush(l, &r->cs[i].run[d]);
    if (rc < 0)
        return -1;
    qsort(l->ev, l->nev, sizeof(*l->ev), cmp_event);
    for (size_t i = 0; i < l->nev; i++) {
        if (i < l->o.max_events)
            l->drawn_pkts += l->ev[i].npkts;
        else
            l->cut_pkts += l->ev[i].npkts;
    }
    if (l->nev > l->o.max_events)
        l->nev = l->o.max_events;
    for (size_t i = 0; i < nr_flowtab_count(r->cap.ft); i++) {
        const struct nr_conn *c = nr_flowtab_conn(r->cap.ft, i);
        if (i < r->ncs && r->cs[i].seen > 0)
            l->gap_bytes += c->rs[0].gap_bytes + c->rs[1].gap_bytes;
    }
    return 0;
}

int nr_ladder_read(const char *path, const uint8_t *buf, size_t len,
                   const struct nr_ladder_opts *o, const struct nr_ladder_log *log,
                   struct nr_ladder *l, char *errbuf)
{
    struct rd r = { .l = l, .log = log };
    struct nr_pktfile_opts co = { .fn = on_frame, .ctx = &r };
    int rc;

    memset(l, 0, sizeof(*l));
    if (o)
        l->o = *o;
    if (!l->o.max_events)
        l->o.max_events = DEF_MAX_EVENTS;
    if (!l->o.max_lanes)
        l->o.max_lanes = DEF_MAX_LANES;
    if (!l->o.band_min)
        l->o.band_min = DEF_BAND_MIN;
    if (!l->o.band_gap_ns)
        l->o.band_gap_ns = DEF_BAND_GAP_NS;
    /* nr_pktfile_read_* set r.cap.ft before the first frame: on_frame
     * reads the connection table as it grows. */
    rc = path ? nr_pktfile_read_file(path, &co, &r.cap, errbuf)
              : nr_pktfile_read_mem(buf, len, &co, &r.cap, errbuf);
    if (rc == 0 && r.failed)
        rc = nr_seterr(errbuf, "%s: out of memory", path ? path : "capture");
    if (rc == 0)
        l->st = r.cap.st;
    if (rc == 0 && finish(&r) < 0)
        rc = nr_seterr(errbuf, "%s: out of memory", path ? path : "capture");
    if (rc != 0)
        nr_ladder_free(l);
    if (r.cap.ft)
        nr_pktfile_free(&r.cap);
    for (size_t i = 0; i < r.ncs; i++)
        for (int d = 0; d < 2; d++)
            free(r.cs[i].run[d].ev);
    free(r.cs);
    return rc;
}

void nr_ladder_free(struct nr_ladder *l)
{
    free(l->lanes);
    free(l->ev);
    memset(l, 0, sizeof(*l));
}

uint64_t nr_ladder_packets(const struct nr_ladder *l)
{
    return l->drawn_pkts + l->cut_pkts;
}
