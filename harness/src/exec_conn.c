/* exec_conn.c - the scenario's connections: the table of open ones (a
 * slot per name, in the context that opened it), the records they leave
 * for the wire check when they close, their addresses, and the steps that
 * end them: shutdown, close, abort.  See exec_conn.h for the other
 * exec_conn*.c modules. */
#define _GNU_SOURCE
#include "exec_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the table ---------------------------------------------------------- */

struct exec_conn *exec_conn_need(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = exec_find_conn(c, s->name);

    if (!k)
        exec_fail(c, s, "no open connection named '%s'", s->name);
    return k;
}

struct exec_conn *exec_conn_new(struct exec_ctx *c, const struct nr_step *s, int proto, int fd)
{
    struct exec_conn *k, *nv;

    nv = realloc(c->conns, (c->nconns + 1) * sizeof(*nv));
    if (!nv) {
        close(fd);
        exec_fail(c, s, "out of memory");
        return NULL;
    }
    c->conns = nv;
    k = &c->conns[c->nconns++];
    memset(k, 0, sizeof(*k));
    snprintf(k->rec.name, sizeof(k->rec.name), "%s", s->name);
    k->rec.proto = proto;
    k->rec.sent_hash = k->rec.recv_hash = exec_hash(NULL, 0);
    k->hs_sent = exec_hash_new();
    k->hs_recv = exec_hash_new();
    if (!k->hs_sent || !k->hs_recv) {
        exec_fail(c, s, "out of memory");
        XXH3_freeState(k->hs_sent);
        XXH3_freeState(k->hs_recv);
        c->nconns--;
        close(fd);
        return NULL;
    }
    k->fd = fd;
    nr_local_addr(fd, &k->rec.local, NULL);
    k->rec.is_unix = k->rec.local.ss.ss_family == AF_UNIX;
    nr_set_nonblock(fd, 1);
    return k;
}

void exec_conn_note_dgram(uint32_t **v, size_t *n, size_t size)
{
    uint32_t *nv = realloc(*v, (*n + 1) * sizeof(**v));

    if (!nv)
        return;
    nv[(*n)++] = (uint32_t)size;
    *v = nv;
}

void exec_conn_ahead_end(struct exec_conn *k)
{
    if (k->ahead_m)
        exec_match_free(k->ahead_m);
    free(k->ahead_m);
    k->ahead_m = NULL;
    k->ahead = NULL;
    k->ahead_stopped = 0;
}

/* Will closing k lose bytes the runner sent?  Yes when it is reset or
 * aborted, and when its send queue still holds bytes or unread input
 * remains (the kernel then answers the close with a RST). */
static int close_cuts(const struct exec_conn *k)
{
    int outq = 0, inq = 0;

    if (k->aborted || k->reset || k->rxoff < k->rxlen)
        return 1;
    if (k->fd < 0 || k->rec.proto != IPPROTO_TCP || k->rec.listener)
        return 0;
    return (ioctl(k->fd, SIOCOUTQ, &outq) == 0 && outq > 0) ||
           (ioctl(k->fd, SIOCINQ, &inq) == 0 && inq > 0);
}

/* Close k's socket and move its record into the scenario's list. */
static void retire(struct exec_state *st, struct exec_conn *k)
{
    struct exec_record *nv;

    k->rec.cut = close_cuts(k);
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    free(k->rx);
    k->rx = NULL;
    exec_conn_ahead_end(k);
    XXH3_freeState(k->hs_sent);
    XXH3_freeState(k->hs_recv);
    k->hs_sent = k->hs_recv = NULL;
    pthread_mutex_lock(&st->lock);
    nv = realloc(st->records, (st->nrecords + 1) * sizeof(*nv));
    if (nv) {
        st->records = nv;
        st->records[st->nrecords++] = k->rec;
    } else {
        free(k->rec.dg_sent);
        free(k->rec.dg_recv);
    }
    pthread_mutex_unlock(&st->lock);
}

void exec_conn_drop(struct exec_ctx *c, struct exec_conn *k)
{
    for (struct exec_ctx *o = c; o; o = o->outer) {
        if (k >= o->conns && k < o->conns + o->nconns) {
            size_t i = (size_t)(k - o->conns);
            retire(c->st, k);
            memmove(&o->conns[i], &o->conns[i + 1], (o->nconns - i - 1) * sizeof(*k));
            o->nconns--;
            return;
        }
    }
}

void exec_conns_free(struct exec_ctx *c)
{
    for (size_t i = 0; i < c->nconns; i++)
        retire(c->st, &c->conns[i]);
    free(c->conns);
    c->conns = NULL;
    c->nconns = 0;
    free(c->flows);
    c->flows = NULL;
    c->nflows = 0;
}

/* ---- addresses ------------------------------------------------------- */

int exec_conn_addr(struct exec_ctx *c, const struct nr_step *s, const struct nr_tmpl *t,
                   struct nr_addr *a, int destination, int is_unix)
{
    char errbuf[NR_ERRBUF_SIZE], *text = exec_expand(c, s, t, NULL);
    int r;

    if (!text)
        return -1;
    r = is_unix ? nr_addr_unix(text, a, errbuf) : nr_addr_parse(text, a, errbuf);
    free(text);
    if (r < 0) {
        exec_fail(c, s, "%s", errbuf);
        return -1;
    }
    if (destination && !nr_addr_is_loopback((struct sockaddr *)&a->ss) &&
        !c->st->o->allow_remote) {
        char as[NR_ADDRSTR_SIZE];
        exec_fail(c, s, "refusing non-loopback destination %s (pass --allow-remote to permit)",
                  nr_addr_format((struct sockaddr *)&a->ss, as, sizeof(as)));
        return -1;
    }
    return 0;
}

int exec_conn_addr_equal(const struct nr_addr *a, const struct nr_addr *b)
{
    const struct sockaddr *x = (const struct sockaddr *)&a->ss;
    const struct sockaddr *y = (const struct sockaddr *)&b->ss;

    if (x->sa_family != y->sa_family || nr_addr_port(x) != nr_addr_port(y))
        return 0;
    if (x->sa_family == AF_INET)
        return ((const struct sockaddr_in *)x)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)y)->sin_addr.s_addr;
    if (x->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)x)->sin6_addr,
                      &((const struct sockaddr_in6 *)y)->sin6_addr, 16) == 0;
    return 0;
}

void exec_conn_publish(struct exec_ctx *c, const char *name, const struct sockaddr *sa)
{
    char as[NR_ADDRSTR_SIZE];

    if (c->in_parallel)
        return; /* instances' names are private; the table is shared */
    nr_addr_format(sa, as, sizeof(as));
    exec_setvar(c->st, name, as, strlen(as));
}


/* ---- shutdown / close / abort -------------------------------------------- */

int exec_shutdown(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *k = exec_conn_need(c, s);

    if (!k)
        return -1;
    if (shutdown(k->fd, SHUT_WR) < 0) {
        exec_fail(c, s, "shutdown: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int exec_close(struct exec_ctx *c, const struct nr_step *s, int abortive)
{
    struct exec_conn *k = exec_conn_need(c, s);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    if (!k)
        return -1;
    if (abortive && setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
        exec_fail(c, s, "SO_LINGER: %s", strerror(errno));
        return -1;
    }
    k->aborted = abortive;
    exec_conn_drop(c, k);
    return 0;
}

