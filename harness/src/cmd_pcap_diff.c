/* cmd_pcap_diff.c - `netrig pcap diff A B`: semantic comparison.
 *
 * Connections are matched per protocol in order of first appearance;
 * ports, sequence-number bases and timestamps are ignored.  Compared: the
 * number of connections, each one's zeek state, its stream bytes per
 * direction, and for UDP the datagrams of each direction (size, bytes) in
 * order. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_pcap.h"

#define MAX_REPORTED 20

struct diffout {
    int json;
    int count;
};

static void report(struct diffout *o, const char *proto, long idx, const char *what,
                   const char *detail)
{
    o->count++;
    if (o->count > MAX_REPORTED)
        return;
    if (o->json) {
        printf("%s{\"proto\":\"%s\",\"difference\":", o->count > 1 ? "," : "", proto);
        cmd_pcap_json_record(stdout, "index", idx, "what", what, "detail", detail);
        putchar('}');
    } else if (idx < 0) {
        printf("%s: %s: %s\n", proto, what, detail);
    } else {
        printf("%s connection %ld: %s: %s\n", proto, idx, what, detail);
    }
}

/* The i-th conversation of protocol proto, or NULL. */
static size_t collect(const struct nr_pktfile *cap, int proto, const struct nr_conn **out,
                      size_t max)
{
    size_t n = nr_flowtab_count(cap->ft), k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct nr_conn *c = nr_flowtab_conn(cap->ft, i);
        if (c->proto == proto) {
            if (out && k < max)
                out[k] = c;
            k++;
        }
    }
    return k;
}

static void cmp_stream(struct diffout *o, const char *proto, long idx, int dir,
                       const struct nr_conn *x, const struct nr_conn *y)
{
    static const char *const dn[2] = { "client->server stream", "server->client stream" };
    const struct nr_bytes *a = &x->stream[dir], *b = &y->stream[dir];
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    char d[200];

    while (i < n && a->data[i] == b->data[i])
        i++;
    if (i == n && a->len == b->len)
        return;
    if (i < n)
        snprintf(d, sizeof(d), "first difference at byte %zu (0x%02x vs 0x%02x); lengths %zu vs %zu",
                 i, a->data[i], b->data[i], a->len, b->len);
    else
        snprintf(d, sizeof(d), "lengths %zu vs %zu (one is a prefix of the other)", a->len,
                 b->len);
    report(o, proto, idx, dn[dir], d);
}

/* The next datagram chunk of direction dir at or after *i, or NULL. */
static const struct nr_chunk *next_dgram(const struct nr_conn *c, int dir, size_t *i)
{
    for (; *i < c->nchunks; (*i)++)
        if (c->chunks[*i].dir == dir && c->chunks[*i].kind == NR_CHUNK_DATA)
            return &c->chunks[(*i)++];
    return NULL;
}

/* UDP: per direction, the same datagrams (size and bytes) in the same
 * order; how the two directions interleave is timing and is ignored. */
static void cmp_datagrams(struct diffout *o, long idx, const struct nr_conn *x,
                          const struct nr_conn *y)
{
    static const char *const dn[2] = { "orig", "resp" };
    char d[200];

    for (int dir = 0; dir < 2; dir++) {
        size_t ix = 0, iy = 0, k = 0;
        for (;; k++) {
            const struct nr_chunk *a = next_dgram(x, dir, &ix), *b = next_dgram(y, dir, &iy);
            if (!a && !b)
                break;
            if (!a || !b) {
                snprintf(d, sizeof(d), "%s datagram %zu exists only in %s", dn[dir], k,
                         a ? "the first capture" : "the second capture");
            } else if (a->len != b->len) {
                snprintf(d, sizeof(d), "%s datagram %zu: %" PRIu64 " vs %" PRIu64 " bytes", dn[dir],
                         k, a->len, b->len);
            } else if (a->off + a->len <= x->stream[dir].len &&
                       b->off + b->len <= y->stream[dir].len &&
                       memcmp(x->stream[dir].data + a->off, y->stream[dir].data + b->off,
                              (size_t)a->len) != 0) {
                snprintf(d, sizeof(d), "%s datagram %zu: same size (%" PRIu64 "), other bytes",
                         dn[dir], k, a->len);
            } else {
                continue;
            }
            report(o, "udp", idx, "datagrams", d);
            break;
        }
    }
}

static int cmp_proto(struct diffout *o, int proto, const struct nr_pktfile *ca,
                     const struct nr_pktfile *cb)
{
    const char *pn = proto == IPPROTO_TCP ? "tcp" : "udp";
    size_t na = collect(ca, proto, NULL, 0), nb = collect(cb, proto, NULL, 0), n;
    const struct nr_conn **xa = calloc(na + 1, sizeof(*xa)), **xb = calloc(nb + 1, sizeof(*xb));
    char d[200];
    int rc = -1;

    if (!xa || !xb)
        goto out;
    collect(ca, proto, xa, na);
    collect(cb, proto, xb, nb);
    if (na != nb) {
        snprintf(d, sizeof(d), "%zu vs %zu", na, nb);
        report(o, pn, -1, proto == IPPROTO_TCP ? "connection count" : "flow count", d);
    }
    n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        const char *sa = nr_conn_state(xa[i]), *sb = nr_conn_state(xb[i]);
        if (strcmp(sa, sb) != 0) {
            snprintf(d, sizeof(d), "%s vs %s", sa, sb);
            report(o, pn, (long)i, "state", d);
        }
        if (proto == IPPROTO_TCP) {
            cmp_stream(o, pn, (long)i, 0, xa[i], xb[i]);
            cmp_stream(o, pn, (long)i, 1, xa[i], xb[i]);
        } else {
            cmp_datagrams(o, (long)i, xa[i], xb[i]);
        }
    }
    rc = 0;
out:
    free(xa);
    free(xb);
    return rc;
}

int cmd_pcap_diff(struct cmd_pcap_args *a)
{
    struct nr_pktfile ca, cb;
    struct diffout o = { .json = a->json };
    int rc = PCAP_EXIT_ERR;

    if (cmd_pcap_load(a->pos[0], 1, &ca) < 0)
        return PCAP_EXIT_ERR;
    if (cmd_pcap_load(a->pos[1], 1, &cb) < 0) {
        nr_pktfile_free(&ca);
        return PCAP_EXIT_ERR;
    }
    if (a->json)
        fputs("{\"differences\":[", stdout);
    if (cmp_proto(&o, 6, &ca, &cb) < 0 || cmp_proto(&o, 17, &ca, &cb) < 0) {
        fprintf(stderr, "netrig pcap diff: out of memory\n");
        goto out;
    }
    if (a->json)
        printf("],\"count\":%d,\"equal\":%s}\n", o.count, o.count ? "false" : "true");
    else if (o.count > MAX_REPORTED)
        printf("... %d differences in all\n", o.count);
    else if (!o.count)
        printf("equal: same connections, states and stream contents\n");
    rc = o.count ? PCAP_EXIT_FOUND : PCAP_EXIT_OK;
out:
    nr_pktfile_free(&ca);
    nr_pktfile_free(&cb);
    return rc;
}
