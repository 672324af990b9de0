/* nr_flow.c - the connection table: lookup, creation, UDP, kept data. */
#include "nr_flow_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nr_flowtab {
    struct nr_flow_opts opts;
    struct nr_conn **conns;
    size_t n, cap;
    uint32_t *buckets; /* index + 1 of the newest conn in the chain, 0 = empty */
    size_t nbuckets;   /* power of two */
};

static size_t addr_len(int ipver)
{
    return ipver == 6 ? 16 : 4;
}

static uint32_t ep_hash(const uint8_t *addr, size_t alen, uint16_t port)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < alen; i++)
        h = (h ^ addr[i]) * 16777619u;
    h = (h ^ port) * 16777619u;
    h ^= h >> 15;
    return h * 0x2c1b3c6du;
}

/* Symmetric in the two endpoints. */
static uint32_t key_hash(int proto, int ipver, const uint8_t *a, uint16_t pa, const uint8_t *b,
                         uint16_t pb)
{
    size_t al = addr_len(ipver);
    uint32_t h = ep_hash(a, al, pa) + ep_hash(b, al, pb) + (uint32_t)proto * 0x9e3779b9u;
    h ^= h >> 16;
    return h * 0x7feb352du;
}

static uint32_t conn_hash(const struct nr_conn *c)
{
    return key_hash(c->proto, c->ipver, c->addr[0], c->port[0], c->addr[1], c->port[1]);
}

/* Direction of p on c: 0, 1, or -1 when it does not belong to c. */
static int conn_dir(const struct nr_conn *c, const struct nr_pkt *p)
{
    size_t al = addr_len(p->ipver);

    if (c->proto != p->proto || c->ipver != p->ipver)
        return -1;
    if (c->port[0] == p->sport && c->port[1] == p->dport && !memcmp(c->addr[0], p->src, al) &&
        !memcmp(c->addr[1], p->dst, al))
        return 0;
    if (c->port[1] == p->sport && c->port[0] == p->dport && !memcmp(c->addr[1], p->src, al) &&
        !memcmp(c->addr[0], p->dst, al))
        return 1;
    return -1;
}

struct nr_flowtab *nr_flowtab_new(const struct nr_flow_opts *opts)
{
    struct nr_flowtab *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    if (opts)
        t->opts = *opts;
    t->nbuckets = 1024;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

static void bucket_insert(struct nr_flowtab *t, struct nr_conn *c)
{
    uint32_t *b = &t->buckets[conn_hash(c) & (t->nbuckets - 1)];
    c->hnext = *b;
    *b = c->index + 1;
}

static int grow(struct nr_flowtab *t)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        struct nr_conn **nc = realloc(t->conns, ncap * sizeof(*nc));
        if (!nc)
            return -1;
        t->conns = nc;
        t->cap = ncap;
    }
    if (t->n >= t->nbuckets) {
        uint32_t *nb = calloc(t->nbuckets * 2, sizeof(*nb));
        if (!nb)
            return -1;
        free(t->buckets);
        t->buckets = nb;
        t->nbuckets *= 2;
        for (size_t i = 0; i < t->n; i++)
            bucket_insert(t, t->conns[i]);
    }
    return 0;
}

static struct nr_conn *lookup(struct nr_flowtab *t, const struct nr_pkt *p, int *dir)
{
    uint32_t h = key_hash(p->proto, p->ipver, p->src, p->sport, p->dst, p->dport);
    uint32_t i = t->buckets[h & (t->nbuckets - 1)];

    while (i) {
        struct nr_conn *c = t->conns[i - 1];
        int d = conn_dir(c, p);
        if (d >= 0) {
            *dir = d;
            return c;
        }
        i = c->hnext;
    }
    return NULL;
}

/* zeek's likely_server_ports with its default scripts: the ports its
 * analyzers register (the ports registered under scripts/base/protocols with Analyzer::register_for_ports,
 * zeek commit a13de64). */
static const uint16_t server_tcp[] = {
    21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 443, 445, 465, 502, 514, 563, 585, 587,
    614, 631, 636, 989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3306, 3389, 5222,
    5223, 5269, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
};
static const uint16_t server_udp[] = {
    53, 67, 68, 88, 123, 137, 161, 162, 443, 514, 784, 853, 1812, 2123, 2152, 3389, 3544,
    4011, 4754, 5060, 5072, 5353, 5355, 20000,
};

int nr_flow_likely_server_port(int proto, uint16_t port)
{
    const uint16_t *v = proto == IPPROTO_TCP ? server_tcp : server_udp;
    size_t n = proto == IPPROTO_TCP ? sizeof(server_tcp) / sizeof(*v) : sizeof(server_udp) / sizeof(*v);

    for (size_t i = 0; i < n; i++)
        if (v[i] == port)
            return 1;
    return 0;
}

/* zeek's WantConnection: does the first packet's receiver become the
 * originator?  TCP: only for a connection not starting with a plain SYN,
 * by the likely-server-port rule; UDP: source port a server port and the
 * destination not. */
static int first_packet_flips(const struct nr_pkt *p)
{
    int ss = nr_flow_likely_server_port(p->proto, p->sport);
    int ds = nr_flow_likely_server_port(p->proto, p->dport);

    if (p->proto != IPPROTO_TCP)
        return ss && !ds;
    if ((p->flags & (NR_TCP_SYN | NR_TCP_ACK)) == NR_TCP_SYN || !ss)
        return 0;
    if (ds)
        return !(p->flags & NR_TCP_SYN) && p->sport < p->dport;
    return 1;
}

static struct nr_conn *create(struct nr_flowtab *t, const struct nr_pkt *p, int64_t ts_ns)
{
    struct nr_conn *c;
    size_t al = addr_len(p->ipver);

    if (grow(t) < 0 || !(c = calloc(1, sizeof(*c))))
        return NULL;
    c->index = (uint32_t)t->n;
    c->proto = p->proto;
    c->ipver = p->ipver;
    memcpy(c->addr[0], p->src, al);
    memcpy(c->addr[1], p->dst, al);
    c->port[0] = p->sport;
    c->port[1] = p->dport;
    c->first_ns = ts_ns;
    c->first_fin = c->first_rst = -1;
    if (p->proto == IPPROTO_TCP)
        nr_flow_tcp_init(c);
    if (first_packet_flips(p))
        nr_flow_flip(c);
    t->conns[t->n++] = c;
    bucket_insert(t, c);
    return c;
}

#define SWAP(a, b)                                                                                 \
    do {                                                                                           \
        __typeof__(a) tmp_ = (a);                                                                  \
        (a) = (b);                                                                                 \
        (b) = tmp_;                                                                                \
    } while (0)

void nr_flow_flip(struct nr_conn *c)
{
    uint8_t a[16];

    memcpy(a, c->addr[0], 16);
    memcpy(c->addr[0], c->addr[1], 16);
    memcpy(c->addr[1], a, 16);
    SWAP(c->port[0], c->port[1]);
    SWAP(c->pkts[0], c->pkts[1]);
    SWAP(c->bytes[0], c->bytes[1]);
    SWAP(c->ip_bytes[0], c->ip_bytes[1]);
    SWAP(c->payload[0], c->payload[1]);
    SWAP(c->state[0], c->state[1]);
    SWAP(c->prev_state[0], c->prev_state[1]);
    SWAP(c->syn_seen[0], c->syn_seen[1]);
    SWAP(c->isn[0], c->isn[1]);
    SWAP(c->retrans[0], c->retrans[1]);
    SWAP(c->ooo[0], c->ooo[1]);
    SWAP(c->zero_win[0], c->zero_win[1]);
    SWAP(c->syn_opt[0], c->syn_opt[1]);
    SWAP(c->rs[0], c->rs[1]);
    SWAP(c->zep[0], c->zep[1]);
    SWAP(c->tsa[0], c->tsa[1]);
    SWAP(c->fin_seq[0], c->fin_seq[1]);
    SWAP(c->stream[0], c->stream[1]);
    for (int k = 0; k < NR_TA_COUNT; k++)
        SWAP(c->ta[0][k], c->ta[1][k]);
    if (c->first_fin >= 0)
        c->first_fin = (int8_t)!c->first_fin;
    if (c->first_rst >= 0)
        c->first_rst = (int8_t)!c->first_rst;
    c->rst_dirs = (uint8_t)(((c->rst_dirs & 1) << 1) | ((c->rst_dirs >> 1) & 1));
    c->fin_kept = (uint8_t)(((c->fin_kept & 1) << 1) | ((c->fin_kept >> 1) & 1));
    c->fin_pending = (uint8_t)(((c->fin_pending & 1) << 1) | ((c->fin_pending >> 1) & 1));
    c->fin_seen = (uint8_t)(((c->fin_seen & 1) << 1) | ((c->fin_seen >> 1) & 1));
    c->first_seen = (uint8_t)(((c->first_seen & 1) << 1) | ((c->first_seen >> 1) & 1));
    for (size_t i = 0; i < c->nchunks; i++)
        c->chunks[i].dir = (uint8_t)!c->chunks[i].dir;
    c->flipped = 1;
    nr_flow_hist_put(c, 0, '^');
}

int nr_flow_keep(struct nr_conn *c, int dir, int kind, const uint8_t *data, size_t len,
                 int merge)
{
    struct nr_chunk *last = c->nchunks ? &c->chunks[c->nchunks - 1] : NULL;
    struct nr_bytes *s = &c->stream[dir];

    if (kind == NR_CHUNK_DATA && len) {
        if (s->len + len > s->cap) {
            size_t ncap = s->cap ? s->cap : 4096;
            while (ncap < s->len + len)
                ncap *= 2;
            uint8_t *nd = realloc(s->data, ncap);
            if (!nd)
                return -1;
            s->data = nd;
            s->cap = ncap;
        }
        memcpy(s->data + s->len, data, len);
    }
    if (merge && last && last->dir == dir && last->kind == kind && kind != NR_CHUNK_FIN) {
        last->len += len;
    } else {
        if (c->nchunks == c->chunk_cap) {
            size_t ncap = c->chunk_cap ? c->chunk_cap * 2 : 16;
            struct nr_chunk *nc = realloc(c->chunks, ncap * sizeof(*nc));
            if (!nc)
                return -1;
            c->chunks = nc;
            c->chunk_cap = ncap;
        }
        uint64_t soff = s->len;
        if (c->proto == IPPROTO_TCP)
            soff = nr_conn_stream_size(c, dir) - (kind == NR_CHUNK_FIN ? 0 : len);
        c->chunks[c->nchunks++] = (struct nr_chunk){
            .dir = (uint8_t)dir, .kind = (uint8_t)kind, .off = s->len, .len = len,
            .soff = soff, .ts_ns = c->last_ns,
        };
    }
    if (kind == NR_CHUNK_DATA)
        s->len += len;
    return 0;
}

/* A TCP connection that zeek splits but tshark does not keeps tshark's
 * analysis state (the counts stay with the connection they belong to). */
static void carry_analysis(struct nr_conn *to, int tdir, const struct nr_conn *from, int fdir)
{
    to->tsa[tdir] = from->tsa[fdir];
    to->tsa[!tdir] = from->tsa[!fdir];
    to->ta_syn_ns = from->ta_syn_ns;
    to->ta_rtt_ns = from->ta_rtt_ns;
}

long nr_flowtab_add(struct nr_flowtab *t, const struct nr_pkt *p, int64_t ts_ns,
                    uint32_t frame_len)
{
    int dir = 0, odir = 0;
    struct nr_conn *c = lookup(t, p, &dir), *old = NULL;

    if (c && c->proto == IPPROTO_TCP && nr_flow_tcp_is_reuse(c, p)) {
        if (!nr_flow_ana_splits(c, dir, p))
            old = c;
        odir = dir;
        c = NULL;
    }
    if (!c) {
        if (!(c = create(t, p, ts_ns)))
            return -1;
        dir = c->flipped;
        if (old)
            carry_analysis(c, dir, old, odir);
    }
    c->last_ns = ts_ns;
    c->pkts[dir]++;
    c->bytes[dir] += frame_len;
    c->ip_bytes[dir] += p->iplen;
    c->payload[dir] += p->wirelen;
    if (c->proto == IPPROTO_TCP) {
        nr_flow_ana_packet(c, dir, p, ts_ns);
        if (nr_flow_tcp_packet(c, dir, p, &t->opts) < 0)
            return -1;
        return (long)c->index;
    }
    if (t->opts.on_data)
        t->opts.on_data(t->opts.data_ctx, c, dir, c->payload[dir] - p->wirelen, p->payload,
                        p->caplen);
    if (t->opts.keep_data && nr_flow_keep(c, dir, NR_CHUNK_DATA, p->payload, p->caplen, 0) < 0)
        return -1;
    return (long)c->index;
}

void nr_flowtab_finish(struct nr_flowtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->conns[i]->proto == IPPROTO_TCP)
            nr_flow_tcp_finish(t->conns[i], &t->opts);
}

size_t nr_flowtab_count(const struct nr_flowtab *t)
{
    return t->n;
}

struct nr_conn *nr_flowtab_conn(const struct nr_flowtab *t, size_t i)
{
    return i < t->n ? t->conns[i] : NULL;
}

struct nr_conn *nr_flowtab_find_ports(const struct nr_flowtab *t, int proto, uint16_t a,
                                      uint16_t b)
{
    for (size_t i = 0; i < t->n; i++) {
        struct nr_conn *c = t->conns[i];
        if (c->proto == proto && ((c->port[0] == a && c->port[1] == b) ||
                                  (c->port[0] == b && c->port[1] == a)))
            return c;
    }
    return NULL;
}

void nr_flowtab_free(struct nr_flowtab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        struct nr_conn *c = t->conns[i];
        nr_reasm_free(&c->rs[0]);
        nr_reasm_free(&c->rs[1]);
        free(c->stream[0].data);
        free(c->stream[1].data);
        free(c->chunks);
        free(c);
    }
    free(t->conns);
    free(t->buckets);
    free(t);
}

uint64_t nr_conn_stream_size(const struct nr_conn *c, int dir)
{
    if (c->proto != IPPROTO_TCP)
        return c->payload[dir];
    return c->rs[dir].delivered + c->rs[dir].gap_bytes;
}

char *nr_conn_endpoint(const struct nr_conn *c, int dir, char *buf, size_t buflen)
{
    char a[INET6_ADDRSTRLEN];

    inet_ntop(c->ipver == 6 ? AF_INET6 : AF_INET, c->addr[dir], a, sizeof(a));
    if (c->ipver == 6)
        snprintf(buf, buflen, "[%s]:%u", a, c->port[dir]);
    else
        snprintf(buf, buflen, "%s:%u", a, c->port[dir]);
    return buf;
}

static int ep_inactive(int s)
{
    return s == NR_EP_INACTIVE || s == NR_EP_PARTIAL;
}

/* 1 when the history matches zeek's /^\^?S[^HAFGIQ]*R.* / */
static int hist_rstos0(const char *h)
{
    if (*h == '^')
        h++;
    if (*h++ != 'S')
        return 0;
    for (; *h; h++) {
        if (*h == 'R')
            return 1;
        if (strchr("HAFGIQ", *h))
            return 0;
    }
    return 0;
}

const char *nr_conn_state(const struct nr_conn *c)
{
    int os = c->state[0], rs = c->state[1];

    if (c->proto != IPPROTO_TCP) {
        if (c->pkts[0])
            return c->pkts[1] ? "SF" : "S0";
        return c->pkts[1] ? "SHR" : "OTH";
    }
    if (rs == NR_EP_RESET) {
        if (os == NR_EP_SYN_SENT || os == NR_EP_SYN_ACK_SENT ||
            (os == NR_EP_RESET && nr_conn_zeek_size(c, 0) == 0 &&
             nr_conn_zeek_size(c, 1) == 0))
            return "REJ";
        return ep_inactive(os) ? "RSTRH" : "RSTR";
    }
    if (os == NR_EP_RESET) {
        if (ep_inactive(rs))
            return hist_rstos0(c->history) ? "RSTOS0" : "OTH";
        return "RSTO";
    }
    if (rs == NR_EP_CLOSED && os == NR_EP_CLOSED)
        return "SF";
    if (os == NR_EP_CLOSED)
        return ep_inactive(rs) ? "SH" : "S2";
    if (rs == NR_EP_CLOSED)
        return ep_inactive(os) ? "SHR" : "S3";
    if (os == NR_EP_SYN_SENT && rs == NR_EP_INACTIVE)
        return "S0";
    if (os == NR_EP_ESTABLISHED && rs == NR_EP_ESTABLISHED)
        return "S1";
    return "OTH";
}
