/* exec_wire.c - judging a scenario on the wire: the finished capture is
 * read with the packet analysis library and compared with what the
 * runner's own sockets sent and received; then the scenario's `wire`
 * steps (state, first FIN, RST, handshake, datagrams, retransmissions,
 * bytes) are checked against the connections or flows they named, and
 * its `flows ... count N` steps against the capture's flows. */
#define _GNU_SOURCE
#include "exec.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "nr_pktfile.h"

#define FLOWS_SHOWN 32 /* flows a message lists at most */

/* The flow named name, defined in c or an enclosing context, or NULL. */
static const struct exec_flowsel *find_flow(struct exec_ctx *c, const char *name)
{
    for (; c; c = c->outer)
        for (size_t i = c->nflows; i-- > 0;)
            if (strcmp(c->flows[i].name, name) == 0)
                return &c->flows[i];
    return NULL;
}

/* Make one end of a flow concrete: "PORT" or "HOST:PORT" after expansion.
 * Returns 0, or -1 after exec_fail. */
static int endpoint_of(struct exec_ctx *c, const struct nr_step *s, const struct nr_tmpl *t,
                       struct exec_endpoint *ep, char *text, size_t len)
{
    char errbuf[NR_ERRBUF_SIZE], *v;
    struct nr_addr a;
    size_t n;

    memset(ep, 0, sizeof(*ep));
    if (t->nsegs == 0)
        return 0;
    if (!(v = exec_expand(c, s, t, &n)))
        return -1;
    ep->set = 1;
    if (n > 0 && n <= 5 && strspn(v, "0123456789") == n && atoi(v) >= 1 && atoi(v) <= 65535) {
        ep->any_host = 1;
        ep->port = atoi(v);
    } else if (nr_addr_parse(v, &a, errbuf) == 0 && nr_addr_port((struct sockaddr *)&a.ss) > 0) {
        ep->family = a.ss.ss_family;
        ep->port = nr_addr_port((struct sockaddr *)&a.ss);
        if (ep->family == AF_INET)
            memcpy(ep->host, &((struct sockaddr_in *)&a.ss)->sin_addr, 4);
        else
            memcpy(ep->host, &((struct sockaddr_in6 *)&a.ss)->sin6_addr, 16);
    } else {
        exec_fail(c, s, "expected a port 1-65535 or an address HOST:PORT, got '%s'", v);
        free(v);
        return -1;
    }
    snprintf(text, len, "%s", v);
    free(v);
    return 0;
}

/* The flow selection of a `flow` or `flows` step, made concrete. */
static int flowsel_of(struct exec_ctx *c, const struct nr_step *s, struct exec_flowsel *f)
{
    char to[NR_ADDRSTR_SIZE] = "", from[NR_ADDRSTR_SIZE] = "", *ix = NULL;
    size_t n, o;

    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", s->name);
    f->proto = s->u.wire.proto;
    f->index = -1;
    if (endpoint_of(c, s, &s->u.wire.to, &f->to, to, sizeof(to)) < 0 ||
        endpoint_of(c, s, &s->u.wire.from, &f->from, from, sizeof(from)) < 0)
        return -1;
    if (s->u.wire.index.nsegs > 0) {
        if (!(ix = exec_expand(c, s, &s->u.wire.index, &n)))
            return -1;
        if (n == 0 || n > 10 || strspn(ix, "0123456789") != n || strtoull(ix, NULL, 10) > UINT32_MAX) {
            exec_fail(c, s, "expected an index 0-4294967295, got '%s'", ix);
            free(ix);
            return -1;
        }
        f->index = (long)strtoull(ix, NULL, 10);
        free(ix);
    }
    o = (size_t)snprintf(f->text, sizeof(f->text), "%s", f->proto == IPPROTO_TCP ? "tcp" : "udp");
    if (f->to.set)
        o += (size_t)snprintf(f->text + o, sizeof(f->text) - o, " to %s", to);
    if (f->from.set && o < sizeof(f->text))
        o += (size_t)snprintf(f->text + o, sizeof(f->text) - o, " from %s", from);
    if (f->index >= 0 && o < sizeof(f->text))
        snprintf(f->text + o, sizeof(f->text) - o, " index %ld", f->index);
    return 0;
}

/* Add w to the noted wire steps.  Returns 0, or -1 after exec_fail. */
static int note(struct exec_ctx *c, const struct nr_step *s, const struct exec_wire *w)
{
    struct exec_state *st = c->st;
    struct exec_wire *nv;

    pthread_mutex_lock(&st->lock);
    nv = realloc(st->wires, (st->nwires + 1) * sizeof(*nv));
    if (nv) {
        st->wires = nv;
        nv[st->nwires++] = *w;
    }
    pthread_mutex_unlock(&st->lock);
    if (!nv)
        exec_fail(c, s, "out of memory");
    return nv ? 0 : -1;
}

int exec_wire_note(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_wire w;
    struct exec_flowsel *nf;
    const struct exec_flowsel *f;
    struct exec_conn *k;

    memset(&w, 0, sizeof(w));
    w.step = s;
    w.index = c->index;
    switch (s->u.wire.kind) {
    case NR_WIRE_FLOW:
        if (flowsel_of(c, s, &w.sel) < 0)
            return -1;
        nf = realloc(c->flows, (c->nflows + 1) * sizeof(*nf));
        if (!nf) {
            exec_fail(c, s, "out of memory");
            return -1;
        }
        c->flows = nf;
        c->flows[c->nflows++] = w.sel;
        exec_log(c->st, "flow %s = %s (judged on the capture)", s->name, w.sel.text);
        return 0;
    case NR_WIRE_COUNT:
        w.what = EXEC_WIRE_COUNT;
        return flowsel_of(c, s, &w.sel) < 0 ? -1 : note(c, s, &w);
    case NR_WIRE_CLAIM:
        break;
    }
    k = exec_find_conn(c, s->name);
    if (k) {
        w.what = EXEC_WIRE_CONN;
        w.rec = k->rec;
        w.rec.dg_sent = w.rec.dg_recv = NULL;
        return note(c, s, &w);
    }
    f = find_flow(c, s->name);
    if (!f) {
        exec_fail(c, s, "no open connection or flow named '%s'", s->name);
        return -1;
    }
    w.what = EXEC_WIRE_FLOW;
    w.sel = *f;
    return note(c, s, &w);
}

/* ---- digests: the streams, read once, in constant memory ---------------- */

/* Whether k is a connection of this protocol between ports a and b. */
static int same_pair(const struct nr_conn *k, int proto, int a, int b)
{
    return k->proto == proto &&
           ((k->port[0] == a && k->port[1] == b) || (k->port[0] == b && k->port[1] == a));
}

/* Where a runner socket's counts fall in one capture connection: the hash
 * of the first at[d] bytes of direction d (at[us] = what it sent, at[!us]
 * = what it received), taken as the stream goes by. */
struct mark {
    uint64_t at[2], hash[2];
    uint8_t reached[2];
    /* A relayed leg's (record.relay) on its other leg's connection: the
     * hash of what that leg received, less the relayed leg's skips, over
     * as many bytes as the relayed leg sent (relay_at: the stream offset
     * fed up to; a hole breaks it). */
    XXH3_state_t *relay_hs;
    uint64_t relay_at, relay_fed, relay_hash;
    uint8_t relay_dir, relay_done, relay_broken;
};

/* What the judge keeps of one capture connection instead of its bytes:
 * each direction's length and hash, a mark per runner socket on its port
 * pair, and for UDP the size of each datagram in order. */
struct digest {
    int wanted;            /* some runner socket is on its port pair */
    uint64_t len[2], hash[2];
    XXH3_state_t *hs[2];   /* the hashes so far (hash[] is their value) */
    struct mark *marks;    /* one per probe (only those on the pair used) */
    struct nr_chunk *dg;   /* UDP: dir and len of each datagram */
    size_t ndg, dgcap;
};

/* The digests of a capture, and the runner sockets they are judged for
 * (probes): every record, then the record each connection claim noted when
 * its `wire` step ran (a snapshot: counts of that moment). */
struct digests {
    const struct exec_record **probe;
    size_t nprobe;
    size_t *other;         /* a relayed leg's other leg (a probe), or SIZE_MAX */
    struct digest **v;     /* by capture connection index */
    size_t n;
    int oom;
};

static int record_ports(const struct exec_record *r, int *lport, int *pport)
{
    if (r->listener || !r->have_peer || r->is_unix)
        return -1;
    *lport = nr_addr_port((const struct sockaddr *)&r->local.ss);
    *pport = nr_addr_port((const struct sockaddr *)&r->peer.ss);
    return *lport > 0 && *pport > 0 ? 0 : -1;
}

/* If probe i is a relayed leg whose other leg is on k: start hashing what
 * that leg received (direction dir of k).  Returns 0, -1 when out of memory. */
static int relay_start(struct digests *ds, const struct nr_conn *k, struct digest *d, size_t i)
{
    const struct exec_record *o;
    struct mark *m = &d->marks[i];
    int lport, pport;

    if (!ds->other || ds->other[i] == SIZE_MAX)
        return 0;
    o = ds->probe[ds->other[i]];
    if (record_ports(o, &lport, &pport) < 0 || !same_pair(k, IPPROTO_TCP, lport, pport))
        return 0;
    d->wanted = 1;
    m->relay_dir = k->port[0] == lport ? 1 : 0; /* what the other leg received */
    m->relay_hash = exec_hash(NULL, 0);
    m->relay_done = ds->probe[i]->sent == 0;
    return m->relay_done || (m->relay_hs = exec_hash_new()) ? 0 : -1;
}

/* Fold a run of direction dir, at stream offset off, into the relay hashes
 * on this connection: the bytes outside the skips, until each relayed leg's
 * count is reached. */
static void relay_data(struct digests *ds, struct digest *d, int dir, uint64_t off,
                       const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < ds->nprobe; i++) {
        struct mark *m = &d->marks[i];
        const struct exec_record *r = ds->probe[i];
        uint64_t at = off, end = off + len;
        if (!m->relay_hs || m->relay_done || m->relay_broken || m->relay_dir != dir)
            continue;
        if (off != m->relay_at) { /* a hole (or an overlap): no longer the stream */
            m->relay_broken = 1;
            continue;
        }
        while (at < end && m->relay_fed < r->sent) {
            const struct exec_skip *in = NULL;
            uint64_t stop = end;
            for (size_t s = 0; s < r->n_relay_skip && s < EXEC_RELAY_SKIPS; s++) {
                const struct exec_skip *sk = &r->relay_skip[s];
                if (at >= sk->off && at - sk->off < sk->len)
                    in = sk;
                else if (sk->off > at && sk->off < stop)
                    stop = sk->off;
            }
            if (in) { /* swallowed by the proxy: not in the relayed leg's stream */
                at = in->off + in->len < end ? in->off + in->len : end;
                continue;
            }
            if (stop - at > r->sent - m->relay_fed)
                stop = at + (r->sent - m->relay_fed);
            m->relay_hash = exec_hash_add(m->relay_hs, data + (at - off), (size_t)(stop - at));
            m->relay_fed += stop - at;
            at = stop;
        }
        m->relay_at = end;
        m->relay_done = m->relay_fed == r->sent;
    }
}

/* The digest of capture connection k, made on first sight.  NULL when out
 * of memory (ds->oom set). */
static struct digest *digest_of(struct digests *ds, const struct nr_conn *k)
{
    struct digest *d = NULL;

    if (k->index >= ds->n) {
        size_t n = ds->n ? ds->n : 16;
        struct digest **nv;
        while (n <= k->index)
            n *= 2;
        if (!(nv = realloc(ds->v, n * sizeof(*nv))))
            goto oom;
        memset(nv + ds->n, 0, (n - ds->n) * sizeof(*nv));
        ds->v = nv;
        ds->n = n;
    }
    if ((d = ds->v[k->index]))
        return d;
    if (!(d = calloc(1, sizeof(*d))) || !(d->marks = calloc(ds->nprobe + 1, sizeof(*d->marks))) ||
        !(d->hs[0] = exec_hash_new()) || !(d->hs[1] = exec_hash_new()))
        goto oom;
    d->hash[0] = d->hash[1] = exec_hash(NULL, 0);
    for (size_t i = 0; i < ds->nprobe; i++) {
        const struct exec_record *r = ds->probe[i];
        int lport, pport, us;
        if (record_ports(r, &lport, &pport) < 0 ||
            !same_pair(k, r->proto, lport, pport))
            continue;
        us = k->port[0] == lport ? 0 : 1;
        d->wanted = 1;
        d->marks[i].at[us] = r->sent;
        d->marks[i].at[!us] = r->received;
        for (int dir = 0; dir < 2; dir++)
            if (d->marks[i].at[dir] == 0) {
                d->marks[i].hash[dir] = d->hash[dir];
                d->marks[i].reached[dir] = 1;
            }
    }
    for (size_t i = 0; i < ds->nprobe; i++)
        if (relay_start(ds, k, d, i) < 0)
            goto oom;
    ds->v[k->index] = d;
    return d;
oom:
    for (size_t i = 0; d && d->marks && i < ds->nprobe; i++)
        XXH3_freeState(d->marks[i].relay_hs);
    if (d) {
        free(d->marks);
        XXH3_freeState(d->hs[0]);
        XXH3_freeState(d->hs[1]);
    }
    free(d);
    ds->oom = 1;
    return NULL;
}

/* nr_flow_data_fn: fold one run of stream bytes (or one datagram) into the
 * digest of its connection. */
static void digest_data(void *ctx, const struct nr_conn *k, int dir, uint64_t off,
                        const uint8_t *data, size_t len)
{
    struct digests *ds = ctx;
    struct digest *d = digest_of(ds, k);

    if (!d || !d->wanted)
        return;
    if (k->proto == IPPROTO_UDP) {
        if (d->ndg == d->dgcap) {
            size_t n = d->dgcap ? 2 * d->dgcap : 16;
            struct nr_chunk *nv = realloc(d->dg, n * sizeof(*nv));
            if (!nv) {
                ds->oom = 1;
                return;
            }
            d->dg = nv;
            d->dgcap = n;
        }
        d->dg[d->ndg++] = (struct nr_chunk){ .dir = (uint8_t)dir, .kind = NR_CHUNK_DATA,
                                             .off = off, .len = len };
        return;
    }
    /* After a hole (off > len) the hashes cover less than the offsets say:
     * they match no socket's, and check_tcp() reports the hole.  The run is
     * hashed in pieces that end where a socket's mark is. */
    for (uint64_t at = off, end = off + len; at < end;) {
        uint64_t stop = end;
        for (size_t i = 0; i < ds->nprobe; i++)
            if (!d->marks[i].reached[dir] && d->marks[i].at[dir] > at &&
                d->marks[i].at[dir] < stop)
                stop = d->marks[i].at[dir];
        d->hash[dir] = exec_hash_add(d->hs[dir], data + (at - off), (size_t)(stop - at));
        for (size_t i = 0; i < ds->nprobe; i++)
            if (!d->marks[i].reached[dir] && d->marks[i].at[dir] == stop) {
                d->marks[i].hash[dir] = d->hash[dir];
                d->marks[i].reached[dir] = 1;
            }
        at = stop;
    }
    d->len[dir] = off + len;
    relay_data(ds, d, dir, off, data, len);
}

static void digests_free(struct digests *ds)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i]) {
            for (size_t j = 0; j < ds->nprobe; j++)
                XXH3_freeState(ds->v[i]->marks[j].relay_hs);
            free(ds->v[i]->marks);
            free(ds->v[i]->dg);
            XXH3_freeState(ds->v[i]->hs[0]);
            XXH3_freeState(ds->v[i]->hs[1]);
            free(ds->v[i]);
        }
    free(ds->v);
    free(ds->probe);
    free(ds->other);
}

/* The digest of k, made now when no byte was folded into it (a
 * connection that carried none); an empty one when out of memory. */
static const struct digest *digest_get(struct digests *ds, const struct nr_conn *k)
{
    static struct digest empty;
    const struct digest *d = digest_of(ds, k);

    if (d)
        return d;
    empty.hash[0] = empty.hash[1] = exec_hash(NULL, 0);
    return &empty;
}

/* Whether TCP connection k begins with what probe pi's socket had sent and
 * received when it was taken (its direction us). */
static int carries(struct digests *ds, const struct nr_conn *k, size_t pi, int us)
{
    const struct digest *d = digest_get(ds, k);
    const struct exec_record *r = ds->probe[pi];
    const struct mark *m = d->marks ? &d->marks[pi] : NULL;

    if (r->relay) /* no hashes: the connection whose bytes match the counts */
        return m && m->reached[us] && m->reached[!us] && d->len[us] == r->sent;
    return m && m->reached[us] && m->reached[!us] && m->hash[us] == r->sent_hash &&
           m->hash[!us] == r->recv_hash;
}

/* The capture's connection for probe pi (a runner socket), and which of
 * its two directions the runner sent (0: the runner was the originator).
 * On loopback the kernel reuses the port pair of a connection in
 * TIME_WAIT, so one pair may carry several TCP connections, one after
 * another: then it is the first that carries the socket's bytes (else the
 * first). */
static struct nr_conn *conn_of(struct nr_pktfile *cap, struct digests *ds, size_t pi,
                               int *us)
{
    const struct exec_record *r = ds->probe[pi];
    int proto = r->proto, lport, pport;
    size_t n = nr_flowtab_count(cap->ft), pairs = 0;
    struct nr_conn *first = NULL, *k;

    if (record_ports(r, &lport, &pport) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        k = nr_flowtab_conn(cap->ft, i);
        if (same_pair(k, proto, lport, pport) && pairs++ == 0)
            first = k;
    }
    for (size_t i = 0; pairs > 1 && proto == IPPROTO_TCP && i < n; i++) {
        k = nr_flowtab_conn(cap->ft, i);
        if (same_pair(k, proto, lport, pport) && carries(ds, k, pi, k->port[0] == lport ? 0 : 1)) {
            first = k;
            break;
        }
    }
    if (first)
        *us = first->port[0] == lport ? 0 : 1;
    return first;
}

static const char *label(const struct exec_record *r, char *buf, size_t len)
{
    char a[NR_ADDRSTR_SIZE], b[NR_ADDRSTR_SIZE];

    snprintf(buf, len, "'%s' (%s -> %s)", r->name,
             nr_addr_format((const struct sockaddr *)&r->local.ss, a, sizeof(a)),
             nr_addr_format((const struct sockaddr *)&r->peer.ss, b, sizeof(b)));
    return buf;
}

/* Relayed leg pi: whether its other leg's connection carried, in what
 * that leg received less the skips, the bytes whose hash is sent_hash. */
static int relay_carried(struct nr_pktfile *cap, struct digests *ds, size_t pi,
                         uint64_t sent_hash)
{
    const struct digest *d;
    struct nr_conn *k;
    int us;

    if (ds->other[pi] == SIZE_MAX)
        return ds->probe[pi]->sent == 0;
    if (!(k = conn_of(cap, ds, ds->other[pi], &us)))
        return 0;
    d = digest_get(ds, k);
    return d->marks && d->marks[pi].relay_done && d->marks[pi].relay_hash == sent_hash;
}

/* TCP: the runner's bytes on the wire, exactly; the peer's bytes the runner
 * read are a prefix of what the peer put on the wire. */
static void check_tcp(struct exec_ctx *c, struct nr_pktfile *cap, struct digests *ds,
                      size_t pi, const struct nr_conn *k, int us)
{
    const struct exec_record *r = ds->probe[pi];
    const struct digest *d = digest_get(ds, k);
    const struct mark *m = d->marks ? &d->marks[pi] : NULL;
    unsigned long long out = d->len[us], in = d->len[!us];
    char name[200];

    label(r, name, sizeof(name));
    if (k->rs[0].gap_bytes || k->rs[1].gap_bytes) {
        exec_fail(c, NULL, "wire: connection %s has holes in the capture (%llu + %llu bytes)",
                  name, (unsigned long long)k->rs[0].gap_bytes,
                  (unsigned long long)k->rs[1].gap_bytes);
        return;
    }
    if (r->cut ? out > r->sent : out != r->sent) {
        exec_fail(c, NULL, "wire: connection %s: the runner sent %llu bytes, the wire carried %llu",
                  name, (unsigned long long)r->sent, out);
        return;
    }
    if (r->relay && !r->cut && !relay_carried(cap, ds, pi, d->hash[us])) {
        exec_fail(c, NULL, "wire: connection %s: the %llu bytes on the wire are not the bytes "
                           "the proxy's other leg received (lost, duplicated or reordered)",
                  name, out);
        return;
    }
    if (!r->relay && !r->cut && d->hash[us] != r->sent_hash) {
        exec_fail(c, NULL, "wire: connection %s: the %llu bytes on the wire differ from the "
                           "bytes the runner sent (lost, duplicated or reordered)", name, out);
        return;
    }
    if (!m || !m->reached[!us] || (!r->relay && m->hash[!us] != r->recv_hash))
        exec_fail(c, NULL, "wire: connection %s: the runner received %llu bytes that are not "
                           "what the peer put on the wire (%llu bytes)",
                  name, (unsigned long long)r->received, in);
}

/* UDP: every datagram the runner sent appears once, in order, with its
 * size; the datagrams it received are the first ones the peer sent. */
static void check_udp(struct exec_ctx *c, struct digests *ds, size_t pi,
                      const struct nr_conn *k, int us)
{
    const struct exec_record *r = ds->probe[pi];
    const struct digest *d = digest_get(ds, k);
    size_t sent = 0, recv = 0;
    char name[200];

    label(r, name, sizeof(name));
    for (size_t i = 0; i < d->ndg; i++) {
        const struct nr_chunk *ch = &d->dg[i];
        if (ch->dir == us) {
            if (sent >= r->n_dg_sent || ch->len != r->dg_sent[sent]) {
                exec_fail(c, NULL, "wire: %s: datagram %zu on the wire has %llu bytes, the runner "
                                   "sent %s", name, sent, (unsigned long long)ch->len,
                          sent >= r->n_dg_sent ? "fewer datagrams" : "another size");
                return;
            }
            sent++;
        } else if (recv < r->n_dg_recv) {
            if (ch->len != r->dg_recv[recv]) {
                exec_fail(c, NULL, "wire: %s: datagram %zu from the peer has %llu bytes on the wire, "
                                   "%u at the socket", name, recv, (unsigned long long)ch->len,
                          r->dg_recv[recv]);
                return;
            }
            recv++;
        }
    }
    if (sent != r->n_dg_sent || recv != r->n_dg_recv)
        exec_fail(c, NULL, "wire: %s: %zu of %zu datagrams sent and %zu of %zu received appear on "
                           "the wire", name, sent, r->n_dg_sent, recv, r->n_dg_recv);
}

static void check_records(struct exec_ctx *c, struct nr_pktfile *cap, struct digests *ds)
{
    struct exec_state *st = c->st;

    for (size_t i = 0; i < st->nrecords && !c->fail; i++) {
        const struct exec_record *r = ds->probe[i];
        struct nr_conn *k;
        char name[200];
        int us = 0;

        if (r->listener || !r->have_peer || (r->proto == IPPROTO_UDP && !r->sent && !r->received))
            continue;
        if (r->is_unix) { /* libpcap does not see unix-domain traffic */
            exec_log(st, "wire: %s is a unix socket: not in the capture, not checked", r->name);
            continue;
        }
        k = conn_of(cap, ds, i, &us);
        if (!k) {
            exec_fail(c, NULL, "wire: connection %s is not in the capture",
                      label(r, name, sizeof(name)));
            return;
        }
        if (r->proto == IPPROTO_TCP)
            check_tcp(c, cap, ds, i, k, us);
        else
            check_udp(c, ds, i, k, us);
    }
}

/* The words for the two sides of what a claim is about: for a runner's
 * connection "us" (direction us, the runner's socket) and "peer"; for a
 * flow "client" (the originator, direction 0) and "server". */
struct sides {
    const char *mine, *theirs; /* the words for direction us and !us */
    const char *both;          /* "us and peer" / "client and server" */
    int us;
};

static struct sides conn_sides(int us)
{
    return (struct sides){ "us", "peer", "us and peer", us };
}

static const struct sides flow_sides = { "client", "server", "client and server", 0 };

/* The name of direction dir (0 originator, 1 responder): "us"/"peer" or
 * "client"/"server"; "nobody" for -1.  Every side a message shows goes
 * through here, so what it says was seen and what it says was expected
 * cannot name the same side by mistake. */
static const char *side_name(int dir, const struct sides *sd)
{
    return dir < 0 ? "nobody" : dir == sd->us ? sd->mine : sd->theirs;
}

/* The sides whose bit is set in mask, as words: one side, both, or
 * "nobody". */
static const char *sides_of(unsigned mask, const struct sides *sd)
{
    unsigned mine = 1u << sd->us, theirs = 1u << !sd->us;

    if ((mask & mine) && (mask & theirs))
        return sd->both;
    return (mask & mine) ? sd->mine : (mask & theirs) ? sd->theirs : "nobody";
}

/* Payload bytes direction dir carried: for TCP the byte stream
 * (retransmitted bytes counted once, holes included), for UDP the sum of
 * the datagrams. */
static unsigned long long payload_of(const struct nr_conn *k, int dir)
{
    return k->proto == IPPROTO_TCP ? (unsigned long long)nr_conn_stream_size(k, dir)
                         : (unsigned long long)k->payload[dir];
}

/* A decimal count: digits only, at most 19 of them. */
static int parse_count(const char *w, unsigned long long *v)
{
    size_t n = strspn(w, "0123456789");

    if (n == 0 || n > 19 || w[n] != '\0')
        return -1;
    *v = strtoull(w, NULL, 10);
    return 0;
}

/* Judge one `wire NAME PROPERTY [SIDE] [VALUE]` step on k, whose sides sd
 * names; value is the claim's value expanded ("" when it has none).
 * Returns 0 or -1 (failed). */
static int judge_step(struct exec_ctx *c, const struct exec_wire *w, struct nr_conn *k,
                      const struct sides *sd, const char *value)
{
    const struct nr_step *s = w->step;
    int us = sd->us, dir = s->u.wire.theirs ? !us : us;
    unsigned long long want = 0;

    if ((s->u.wire.prop == NR_WP_DATAGRAMS || s->u.wire.prop == NR_WP_BYTES) &&
        parse_count(value, &want) < 0) {
        exec_fail(c, s, "wire: expected a count (digits, at most 19), got '%s'", value);
        return -1;
    }
    switch (s->u.wire.prop) {
    case NR_WP_STATE:
        if (strcmp(nr_conn_state(k), value) == 0)
            return 0;
        exec_fail(c, s, "wire: state is %s (history %s), expected %s", nr_conn_state(k), k->history,
                  value);
        break;
    case NR_WP_HANDSHAKE:
        if (k->handshake)
            return 0;
        exec_fail(c, s, "wire: no complete handshake: SYN %s, SYN-ACK %s, final ACK not seen "
                        "(history %s)", k->syn_seen[0] ? "seen" : "not seen",
                  k->syn_seen[1] ? "seen" : "not seen", k->history);
        break;
    case NR_WP_FIRST_FIN:
        if (k->first_fin == dir)
            return 0;
        exec_fail(c, s, "wire: first FIN from %s, expected %s (history %s)",
                  side_name(k->first_fin, sd), side_name(dir, sd), k->history);
        break;
    case NR_WP_NO_RST:
        if (!k->rst_dirs)
            return 0;
        exec_fail(c, s, "wire: RST from %s (history %s)", sides_of(k->rst_dirs, sd), k->history);
        break;
    case NR_WP_RST:
        if (k->rst_dirs & (1u << dir))
            return 0;
        exec_fail(c, s, "wire: no RST from %s, RST from %s (history %s)", side_name(dir, sd),
                  sides_of(k->rst_dirs, sd), k->history);
        break;
    case NR_WP_NO_RETRANS:
        if (!k->retrans[0] && !k->retrans[1])
            return 0;
        exec_fail(c, s, "wire: retransmitted segments: %u from %s, %u from %s (history %s)",
                  k->retrans[us], sd->mine, k->retrans[!us], sd->theirs, k->history);
        break;
    case NR_WP_DATAGRAMS:
        if (k->pkts[0] + k->pkts[1] == want)
            return 0;
        exec_fail(c, s, "wire: %llu datagrams (%llu from %s, %llu from %s), expected %llu",
                  (unsigned long long)(k->pkts[0] + k->pkts[1]), (unsigned long long)k->pkts[us],
                  sd->mine, (unsigned long long)k->pkts[!us], sd->theirs, want);
        break;
    case NR_WP_BYTES:
        if (payload_of(k, dir) == want)
            return 0;
        exec_fail(c, s, "wire: %llu payload bytes from %s (%llu from %s), expected %llu",
                  payload_of(k, dir), side_name(dir, sd), payload_of(k, !dir),
                  side_name(!dir, sd), want);
        break;
    }
    return -1;
}

/* Does end dir of k match endpoint ep? */
static int end_matches(const struct nr_conn *k, int dir, const struct exec_endpoint *ep)
{
    if (!ep->set)
        return 1;
    if (k->port[dir] != ep->port)
        return 0;
    if (ep->any_host)
        return 1;
    if (ep->family == AF_INET)
        return k->ipver == 4 && memcmp(k->addr[dir], ep->host, 4) == 0;
    return k->ipver == 6 && memcmp(k->addr[dir], ep->host, 16) == 0;
}

static int flow_matches(const struct nr_conn *k, const struct exec_flowsel *f)
{
    return k->proto == f->proto && end_matches(k, 1, &f->to) &&
           end_matches(k, 0, &f->from);
}

/* List the capture's flows (at most FLOWS_SHOWN) under a failure message. */
static void list_flows(FILE *f, struct nr_pktfile *cap, const struct exec_flowsel *sel)
{
    size_t n = nr_flowtab_count(cap->ft);
    char a[NR_ADDRSTR_SIZE], b[NR_ADDRSTR_SIZE];

    fprintf(f, "  flows seen (%zu; client -> server, state, history):\n", n);
    for (size_t i = 0; i < n && i < FLOWS_SHOWN; i++) {
        const struct nr_conn *k = nr_flowtab_conn(cap->ft, i);
        fprintf(f, "    #%zu %s %s -> %s %s %s%s\n", i, k->proto == IPPROTO_TCP ? "tcp" : "udp",
                nr_conn_endpoint(k, 0, a, sizeof(a)), nr_conn_endpoint(k, 1, b, sizeof(b)),
                nr_conn_state(k), k->proto == IPPROTO_TCP ? k->history : "-",
                flow_matches(k, sel) ? "  (matches)" : "");
    }
    if (n > FLOWS_SHOWN)
        fprintf(f, "    ... and %zu more\n", n - FLOWS_SHOWN);
}

/* The flow a claim on a `flow` is about: the index-th match (the only one
 * without an index).  NULL after exec_fail, with the flows that were seen. */
static struct nr_conn *select_flow(struct exec_ctx *c, const struct exec_wire *w,
                                   struct nr_pktfile *cap)
{
    const struct exec_flowsel *f = &w->sel;
    size_t n = nr_flowtab_count(cap->ft), matches = 0;
    struct nr_conn *found = NULL;
    FILE *out;

    for (size_t i = 0; i < n; i++) {
        struct nr_conn *k = nr_flowtab_conn(cap->ft, i);
        if (!flow_matches(k, f))
            continue;
        if (f->index < 0 ? matches == 0 : (long)matches == f->index)
            found = k;
        matches++;
    }
    if (found && (f->index >= 0 || matches == 1))
        return found;
    out = exec_fail_begin(c, w->step);
    if (out) {
        if (matches == 0)
            fprintf(out, "  wire: flow '%s' (%s): no such flow in the capture\n", f->name,
                    f->text);
        else if (f->index >= 0)
            fprintf(out, "  wire: flow '%s' (%s): only %zu flows match, so no index %ld\n",
                    f->name, f->text, matches, f->index);
        else
            fprintf(out, "  wire: flow '%s' (%s): %zu flows match: pick one with 'index N' "
                         "(0-%zu, in capture order)\n", f->name, f->text, matches, matches - 1);
        list_flows(out, cap, f);
    }
    exec_fail_end(c);
    return NULL;
}

/* Judge a `flows PROTO ... count N` step. */
static void judge_count(struct exec_ctx *c, const struct exec_wire *w, struct nr_pktfile *cap)
{
    size_t n = nr_flowtab_count(cap->ft);
    unsigned long long got = 0;
    FILE *out;

    for (size_t i = 0; i < n; i++)
        got += flow_matches(nr_flowtab_conn(cap->ft, i), &w->sel);
    if (got == w->step->u.wire.count)
        return;
    out = exec_fail_begin(c, w->step);
    if (out) {
        fprintf(out, "  wire: %llu flows %s, expected %llu\n", got, w->sel.text,
                (unsigned long long)w->step->u.wire.count);
        list_flows(out, cap, &w->sel);
    }
    exec_fail_end(c);
}

static void check_steps(struct exec_ctx *c, struct nr_pktfile *cap, struct digests *ds)
{
    struct exec_state *st = c->st;

    for (size_t i = 0; i < st->nwires && !c->fail; i++) {
        const struct exec_wire *w = &st->wires[i];
        const struct nr_tmpl *v = &w->step->u.wire.value;
        struct exec_ctx sub = { .st = st, .index = w->index };
        struct nr_conn *k = NULL;
        char *value;
        struct sides sd = flow_sides;
        int us = 0;

        if (w->what == EXEC_WIRE_COUNT) {
            judge_count(&sub, w, cap);
        } else if (w->what == EXEC_WIRE_FLOW) {
            k = select_flow(&sub, w, cap);
        } else {
            k = conn_of(cap, ds, st->nrecords + i, &us);
            sd = conn_sides(us);
            if (!k)
                exec_fail(&sub, w->step, "wire: connection '%s' is not in the capture",
                          w->rec.name);
        }
        if (sub.fail || w->what == EXEC_WIRE_COUNT) {
            c->fail = sub.fail;
            if (sub.fail)
                return;
            continue;
        }
        value = v->nsegs ? exec_expand(&sub, w->step, v, NULL) : strdup("");
        if (value)
            judge_step(&sub, w, k, &sd, value);
        else if (!sub.fail)
            exec_fail(&sub, w->step, "out of memory");
        free(value);
        if (sub.fail) {
            c->fail = sub.fail;
            return;
        }
    }
}

/* Pair each relayed leg among the first n probes (the records) with the
 * other leg of its connection.  Returns 0, -1 when out of memory. */
static int relay_pairs(struct digests *ds, size_t n)
{
    if (!(ds->other = malloc((ds->nprobe + 1) * sizeof(*ds->other))))
        return -1;
    for (size_t i = 0; i <= ds->nprobe; i++)
        ds->other[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; ds->probe[i]->relay && j < n; j++)
            if (j != i && ds->probe[j]->relay == ds->probe[i]->relay)
                ds->other[i] = j;
    return 0;
}

void exec_wire_judge(struct exec_ctx *c, const char *pcap_path)
{
    struct exec_state *st = c->st;
    struct digests ds = { .nprobe = st->nrecords + st->nwires };
    struct nr_pktfile_opts o = { .on_data = digest_data, .data_ctx = &ds };
    struct nr_pktfile cap;
    char errbuf[NR_ERRBUF_SIZE];

    if (!(ds.probe = calloc(ds.nprobe + 1, sizeof(*ds.probe)))) {
        exec_fail(c, NULL, "wire: out of memory");
        return;
    }
    for (size_t i = 0; i < st->nrecords; i++)
        ds.probe[i] = &st->records[i];
    for (size_t i = 0; i < st->nwires; i++)
        ds.probe[st->nrecords + i] = &st->wires[i].rec;
    if (relay_pairs(&ds, st->nrecords) < 0) {
        exec_fail(c, NULL, "wire: out of memory");
        digests_free(&ds);
        return;
    }
    if (nr_pktfile_read_file(pcap_path, &o, &cap, errbuf) < 0) {
        exec_fail(c, NULL, "wire: cannot read the capture: %s", errbuf);
        digests_free(&ds);
        return;
    }
    exec_log(st, "capture: %llu frames, %zu connections/flows",
             (unsigned long long)cap.st.frames, nr_flowtab_count(cap.ft));
    if (ds.oom)
        exec_fail(c, NULL, "wire: out of memory while reading the capture");
    check_records(c, &cap, &ds);
    check_steps(c, &cap, &ds);
    digests_free(&ds);
    nr_pktfile_free(&cap);
}
