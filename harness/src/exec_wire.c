/* exec_wire.c - judging a scenario on the wire: the finished capture is
 * read with the packet analysis library and compared with what the
 * runner's own sockets sent and received; then the scenario's `wire`
 * steps (state, first FIN, RST, handshake, datagrams, retransmissions)
 * are checked against the connections they named. */
#define _GNU_SOURCE
#include "exec.h"

#include <stdlib.h>
#include <string.h>

#include "nr_pktfile.h"

int exec_wire_note(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = exec_find_conn(c, s->name);
    struct exec_wire *nv;
    struct exec_state *st = c->st;

    if (!k) {
        exec_fail(c, s, "no open connection named '%s'", s->name);
        return -1;
    }
    pthread_mutex_lock(&st->lock);
    nv = realloc(st->wires, (st->nwires + 1) * sizeof(*nv));
    if (nv) {
        st->wires = nv;
        nv[st->nwires].step = s;
        nv[st->nwires].rec = k->rec;
        nv[st->nwires].rec.dg_sent = nv[st->nwires].rec.dg_recv = NULL;
        nv[st->nwires].index = c->index;
        st->nwires++;
    }
    pthread_mutex_unlock(&st->lock);
    if (!nv)
        exec_fail(c, s, "out of memory");
    return nv ? 0 : -1;
}

/* Whether TCP connection k begins with what r's socket had sent and
 * received when r was taken (its direction us). */
static int carries(const struct nr_conn *k, const struct exec_record *r, int us)
{
    const struct nr_bytes *out = &k->stream[us], *in = &k->stream[!us];

    return out->len >= r->sent && in->len >= r->received &&
           exec_fnv(EXEC_FNV_INIT, out->data, (size_t)r->sent) == r->sent_hash &&
           exec_fnv(EXEC_FNV_INIT, in->data, (size_t)r->received) == r->recv_hash;
}

/* Whether k is a connection of this protocol between ports a and b. */
static int same_pair(const struct nr_conn *k, int proto, int a, int b)
{
    return k->proto == proto &&
           ((k->port[0] == a && k->port[1] == b) || (k->port[0] == b && k->port[1] == a));
}

/* The capture's connection for a runner socket, and which of its two
 * directions the runner sent (0: the runner was the originator).  On
 * loopback the kernel reuses the port pair of a connection in TIME_WAIT,
 * so one pair may carry several TCP connections, one after another: then
 * it is the first that carries the socket's bytes (else the first). */
static struct nr_conn *conn_of(struct nr_capture *cap, const struct exec_record *r, int *us)
{
    int lport = nr_addr_port((const struct sockaddr *)&r->local.ss);
    int pport = nr_addr_port((const struct sockaddr *)&r->peer.ss);
    int proto = r->proto == NR_TCP ? 6 : 17;
    size_t n = nr_flowtab_count(cap->ft), pairs = 0;
    struct nr_conn *first = NULL, *k;

    if (lport <= 0 || pport <= 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        k = nr_flowtab_conn(cap->ft, i);
        if (same_pair(k, proto, lport, pport) && pairs++ == 0)
            first = k;
    }
    for (size_t i = 0; pairs > 1 && proto == 6 && i < n; i++) {
        k = nr_flowtab_conn(cap->ft, i);
        if (same_pair(k, proto, lport, pport) && carries(k, r, k->port[0] == lport ? 0 : 1)) {
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

/* TCP: the runner's bytes on the wire, exactly; the peer's bytes the runner
 * read are a prefix of what the peer put on the wire. */
static void check_tcp(struct exec_ctx *c, const struct exec_record *r, struct nr_conn *k, int us)
{
    const struct nr_bytes *out = &k->stream[us], *in = &k->stream[!us];
    char name[200];

    label(r, name, sizeof(name));
    if (k->rs[0].gap_bytes || k->rs[1].gap_bytes) {
        exec_fail(c, NULL, "wire: connection %s has holes in the capture (%llu + %llu bytes)",
                  name, (unsigned long long)k->rs[0].gap_bytes,
                  (unsigned long long)k->rs[1].gap_bytes);
        return;
    }
    if (r->cut ? out->len > r->sent : out->len != r->sent) {
        exec_fail(c, NULL, "wire: connection %s: the runner sent %llu bytes, the wire carried %zu",
                  name, (unsigned long long)r->sent, out->len);
        return;
    }
    if (!r->cut && exec_fnv(EXEC_FNV_INIT, out->data, out->len) != r->sent_hash) {
        exec_fail(c, NULL, "wire: connection %s: the %zu bytes on the wire differ from the "
                           "bytes the runner sent (lost, duplicated or reordered)", name, out->len);
        return;
    }
    if (in->len < r->received ||
        exec_fnv(EXEC_FNV_INIT, in->data, (size_t)r->received) != r->recv_hash)
        exec_fail(c, NULL, "wire: connection %s: the runner received %llu bytes that are not "
                           "what the peer put on the wire (%zu bytes)",
                  name, (unsigned long long)r->received, in->len);
}

/* UDP: every datagram the runner sent appears once, in order, with its
 * size; the datagrams it received are the first ones the peer sent. */
static void check_udp(struct exec_ctx *c, const struct exec_record *r, struct nr_conn *k, int us)
{
    size_t sent = 0, recv = 0;
    char name[200];

    label(r, name, sizeof(name));
    for (size_t i = 0; i < k->nchunks; i++) {
        const struct nr_chunk *ch = &k->chunks[i];
        if (ch->kind != NR_CHUNK_DATA)
            continue;
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

static void check_records(struct exec_ctx *c, struct nr_capture *cap)
{
    struct exec_state *st = c->st;

    for (size_t i = 0; i < st->nrecords && !c->fail; i++) {
        const struct exec_record *r = &st->records[i];
        struct nr_conn *k;
        char name[200];
        int us = 0;

        if (r->listener || !r->have_peer || (r->proto == NR_UDP && !r->sent && !r->received))
            continue;
        k = conn_of(cap, r, &us);
        if (!k) {
            exec_fail(c, NULL, "wire: connection %s is not in the capture",
                      label(r, name, sizeof(name)));
            return;
        }
        if (r->proto == NR_TCP)
            check_tcp(c, r, k, us);
        else
            check_udp(c, r, k, us);
    }
}

/* Which direction a word names: "us" (the runner's socket) or "peer";
 * -1 for any other word. */
static int side(const char *w, int us)
{
    if (strcmp(w, "us") == 0)
        return us;
    if (strcmp(w, "peer") == 0)
        return !us;
    return -1;
}

/* The name of direction dir (0 originator, 1 responder) for a runner whose
 * socket sent direction us: "us" or "peer"; "nobody" for -1.  Every side a
 * message shows goes through here, so what it says was seen and what it
 * says was expected cannot name the same side by mistake. */
static const char *side_name(int dir, int us)
{
    return dir < 0 ? "nobody" : dir == us ? "us" : "peer";
}

/* The sides whose bit is set in mask, as words: "us", "peer", "us and
 * peer" or "nobody". */
static const char *sides_of(unsigned mask, int us)
{
    unsigned mine = 1u << us, theirs = 1u << !us;

    if ((mask & mine) && (mask & theirs))
        return "us and peer";
    return (mask & mine) ? "us" : (mask & theirs) ? "peer" : "nobody";
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

/* Judge one `wire CONN PROPERTY [ARG]` step.  Returns 0 or -1 (failed). */
static int judge_step(struct exec_ctx *c, const struct exec_wire *w, struct nr_conn *k, int us,
                      char **words, size_t n)
{
    const struct nr_step *s = w->step;
    const char *p = words[0], *arg = n > 1 ? words[1] : "";
    unsigned long long want;

    if (strcmp(p, "state") == 0 && n == 2) {
        if (strcmp(nr_conn_state(k), arg) == 0)
            return 0;
        exec_fail(c, s, "wire: state is %s (history %s), expected %s", nr_conn_state(k), k->history,
                  arg);
    } else if (strcmp(p, "handshake") == 0 && n == 1) {
        if (k->handshake)
            return 0;
        exec_fail(c, s, "wire: no complete handshake: SYN %s, SYN-ACK %s, final ACK not seen "
                        "(history %s)", k->syn_seen[0] ? "seen" : "not seen",
                  k->syn_seen[1] ? "seen" : "not seen", k->history);
    } else if (strcmp(p, "first-fin") == 0 && n == 2 && side(arg, us) >= 0) {
        int want_dir = side(arg, us);
        if (k->first_fin == want_dir)
            return 0;
        exec_fail(c, s, "wire: first FIN from %s, expected %s (history %s)",
                  side_name(k->first_fin, us), side_name(want_dir, us), k->history);
    } else if (strcmp(p, "no-rst") == 0 && n == 1) {
        if (!k->rst_dirs)
            return 0;
        exec_fail(c, s, "wire: RST from %s (history %s)", sides_of(k->rst_dirs, us), k->history);
    } else if (strcmp(p, "rst") == 0 && n == 2 && side(arg, us) >= 0) {
        int want_dir = side(arg, us);
        if (k->rst_dirs & (1u << want_dir))
            return 0;
        exec_fail(c, s, "wire: no RST from %s, RST from %s (history %s)", side_name(want_dir, us),
                  sides_of(k->rst_dirs, us), k->history);
    } else if (strcmp(p, "no-retransmissions") == 0 && n == 1) {
        if (!k->retrans[0] && !k->retrans[1])
            return 0;
        exec_fail(c, s, "wire: retransmitted segments: %u from us, %u from peer (history %s)",
                  k->retrans[us], k->retrans[!us], k->history);
    } else if (strcmp(p, "datagrams") == 0 && n == 2 && parse_count(arg, &want) == 0) {
        unsigned long long got = k->pkts[0] + k->pkts[1];
        if (got == want)
            return 0;
        exec_fail(c, s, "wire: %llu datagrams (%llu from us, %llu from peer), expected %llu", got,
                  (unsigned long long)k->pkts[us], (unsigned long long)k->pkts[!us], want);
    } else {
        exec_fail(c, s, "wire: unknown property (state S, handshake, first-fin us|peer, no-rst, "
                        "rst us|peer, no-retransmissions, datagrams N)");
    }
    return -1;
}

static void check_steps(struct exec_ctx *c, struct nr_capture *cap)
{
    struct exec_state *st = c->st;

    for (size_t i = 0; i < st->nwires && !c->fail; i++) {
        const struct exec_wire *w = &st->wires[i];
        struct exec_ctx sub = { .st = st, .index = w->index };
        char *words[4] = { 0 };
        size_t n = w->step->u.wire.nwords;
        struct nr_conn *k;
        int us = 0;

        k = conn_of(cap, &w->rec, &us);
        if (!k) {
            exec_fail(c, w->step, "wire: connection '%s' is not in the capture", w->rec.name);
            return;
        }
        if (n > 4) {
            exec_fail(c, w->step, "wire: too many words");
            return;
        }
        for (size_t j = 0; j < n; j++)
            if (!(words[j] = exec_expand(&sub, w->step, &w->step->u.wire.words[j], NULL)))
                break;
        if (!sub.fail)
            judge_step(&sub, w, k, us, words, n);
        for (size_t j = 0; j < n; j++)
            free(words[j]);
        if (sub.fail) {
            c->fail = sub.fail;
            return;
        }
    }
}

void exec_wire_judge(struct exec_ctx *c, const char *pcap_path)
{
    struct nr_capture_opts o = { .keep_data = 1 };
    struct nr_capture cap;
    char errbuf[NR_ERRBUF_SIZE];

    if (nr_capture_read_file(pcap_path, &o, &cap, errbuf) < 0) {
        exec_fail(c, NULL, "wire: cannot read the capture: %s", errbuf);
        return;
    }
    exec_log(c->st, "capture: %llu frames, %zu connections/flows",
             (unsigned long long)cap.st.frames, nr_flowtab_count(cap.ft));
    check_records(c, &cap);
    check_steps(c, &cap);
    nr_capture_free(&cap);
}
