/* exec_conn_open.c - the steps that open connections: connect (TCP, UDP,
 * unix; `refused`, `retry`), listen, accept.  Each adds a slot to the
 * table of exec_conn.c and publishes its address as ${NAME}. */
#define _GNU_SOURCE
#include "exec_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RETRY_PAUSE_MS 20 /* between attempts of `connect ... retry` */

/* The address of a connect or listen step. */
static int parse_addr(struct exec_ctx *c, const struct nr_step *s, struct nr_addr *a,
                      int destination)
{
    return exec_conn_addr(c, s, &s->u.sock.addr, a, destination, s->u.sock.is_unix);
}

/* `connect u = udp ADDR refused`: an empty probe datagram must draw an ICMP
 * port-unreachable, seen as ECONNREFUSED on the connected socket. */
static int udp_refused(struct exec_ctx *c, const struct nr_step *s, int fd)
{
    int64_t t = nr_now_ms();
    char b;
    ssize_t n = send(fd, "", 0, 0);
    int err = n < 0 ? errno : 0, answered = 0;

    /* n is send's result until recv runs: "nothing came back" must not be
     * read from it as a reply. */
    if (n == 0 && nr_wait_fd(fd, POLLIN, exec_wait_budget(c, s, t)) > 0) {
        n = recv(fd, &b, 1, MSG_DONTWAIT);
        err = n < 0 ? errno : 0;
        answered = n >= 0;
    }
    close(fd);
    if (err == ECONNREFUSED)
        return 0;
    exec_fail(c, s, "expected the datagram to be refused (ICMP port unreachable), %s%s",
              answered ? "but a reply came" : err && err != EAGAIN ? "got: " : "but nothing came back",
              !answered && err && err != EAGAIN ? strerror(err) : "");
    return -1;
}

static int connect_udp(struct exec_ctx *c, const struct nr_step *s, const struct nr_addr *a)
{
    static const sa_family_t autobind = AF_UNIX;
    struct exec_conn *k;
    struct nr_addr local;
    int fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), is_unix = s->u.sock.is_unix;
    int rc;

    /* a unix datagram client needs an address of its own to be answered:
     * the kernel picks an abstract one */
    if (fd >= 0 && is_unix && bind(fd, (const struct sockaddr *)&autobind, sizeof(autobind)) < 0) {
        exec_fail(c, s, "unixgram bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    rc = fd < 0 ? -1 : connect(fd, (const struct sockaddr *)&a->ss, a->len);
    if (rc < 0 && fd >= 0 && is_unix && s->u.sock.refused &&
        (errno == ECONNREFUSED || errno == ENOENT)) {
        close(fd); /* nobody has that address: refused, as wanted */
        return 0;
    }
    if (rc < 0) {
        exec_fail(c, s, "%s connect: %s", is_unix ? "unixgram" : "udp", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (s->u.sock.refused && is_unix) {
        close(fd);
        exec_fail(c, s, "expected no socket at that address, but the connect succeeded");
        return -1;
    }
    if (s->u.sock.refused)
        return udp_refused(c, s, fd);
    k = exec_conn_new(c, s, IPPROTO_UDP, fd);
    if (!k)
        return -1;
    k->rec.peer = *a;
    k->rec.have_peer = 1;
    if (nr_local_addr(fd, &local, NULL) == 0)
        exec_conn_publish(c, s->name, (struct sockaddr *)&local.ss);
    return 0;
}

/* `connect ... retry`: connect again while the connection is refused
 * (ECONNREFUSED), pausing RETRY_PAUSE_MS between attempts, until it is
 * accepted or the step's time (`within`, else the step timeout, both from
 * the step's start t) runs out.  Returns the socket, or -1 with *err and
 * errbuf of the last attempt; *refused counts the refused attempts. */
static int connect_retrying(struct exec_ctx *c, const struct nr_step *s, const struct nr_addr *a,
                            int64_t t, int *err, struct nr_addr *local, char *errbuf,
                            unsigned *refused)
{
    int fd, left;

    *refused = 0;
    for (;;) {
        fd = nr_connect_tcp(a, exec_wait_budget(c, s, t), err, local, errbuf);
        if (fd >= 0 || *err != ECONNREFUSED)
            return fd;
        (*refused)++;
        left = exec_wait_budget(c, s, t);
        if (left == 0)
            return -1;
        poll(NULL, 0, left < RETRY_PAUSE_MS ? left : RETRY_PAUSE_MS);
    }
}

int exec_connect(struct exec_ctx *c, const struct nr_step *s)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a, local;
    struct exec_conn *k;
    int64_t t = nr_now_ms();
    int fd, err = 0;


    if (parse_addr(c, s, &a, 1) < 0)
        return -1;
    if (s->u.sock.proto == IPPROTO_UDP)
        return connect_udp(c, s, &a);
    memset(&local, 0, sizeof(local));
    if (s->u.sock.retry) {
        unsigned refused = 0;
        fd = connect_retrying(c, s, &a, t, &err, &local, errbuf, &refused);
        if (fd < 0 && refused > 0 && (err == ECONNREFUSED || exec_wait_budget(c, s, t) == 0)) {
            exec_fail(c, s, "connection refused on every attempt: %u attempts in %lld ms "
                            "(retry ends when the step's time runs out)",
                      refused, (long long)(nr_now_ms() - t));
            return -1;
        }
        if (fd < 0 && refused > 0) {
            exec_fail(c, s, "%s (after %u refused attempts)", errbuf, refused);
            return -1;
        }
        if (fd >= 0 && refused > 0)
            exec_log(c->st, "connect %s: accepted after %u refused attempts (%lld ms)", s->name,
                     refused, (long long)(nr_now_ms() - t));
    } else {
        fd = nr_connect_tcp(&a, exec_wait_budget(c, s, t), &err, &local, errbuf);
    }
    if (s->u.sock.refused) {
        if (fd >= 0) {
            close(fd);
            exec_fail(c, s, "expected the connection to be refused, but it was accepted");
            return -1;
        }
        if (err != ECONNREFUSED) {
            exec_fail(c, s, "expected connection refused, got: %s", errbuf);
            return -1;
        }
        return 0;
    }
    if (fd < 0 && err == ECONNRESET) {
        /* The handshake completed and the peer reset at once (a refusal is
         * ECONNREFUSED): a connection whose stream ended with a reset. */
        fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            k = exec_conn_new(c, s, IPPROTO_TCP, fd);
            if (!k)
                return -1;
            k->reset = 1;
            k->rec.local = local;
            k->rec.peer = a;
            k->rec.have_peer = 1;
            return 0;
        }
    }
    if (fd < 0) {
        exec_fail(c, s, "%s", errbuf);
        return -1;
    }
    k = exec_conn_new(c, s, IPPROTO_TCP, fd);
    if (!k)
        return -1;
    k->rec.peer = a;
    k->rec.have_peer = 1;
    if (nr_local_addr(fd, &local, NULL) == 0)
        exec_conn_publish(c, s->name, (struct sockaddr *)&local.ss);
    return 0;
}

int exec_listen(struct exec_ctx *c, const struct nr_step *s)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct nr_addr a, local;
    struct exec_conn *k;
    int type = s->u.sock.proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, fd;

    if (parse_addr(c, s, &a, 0) < 0)
        return -1;
    fd = nr_bind_socket(&a, type, 128, errbuf);
    if (fd < 0) {
        exec_fail(c, s, "%s", errbuf);
        return -1;
    }
    k = exec_conn_new(c, s, s->u.sock.proto, fd);
    if (!k)
        return -1;
    k->rec.listener = 1;
    if (nr_local_addr(fd, &local, NULL) == 0)
        exec_conn_publish(c, s->name, (struct sockaddr *)&local.ss);
    return 0;
}

int exec_accept(struct exec_ctx *c, const struct nr_step *s)
{
    struct exec_conn *l = exec_find_conn(c, s->u.accept.listener), *k;
    struct nr_addr peer;
    int64_t t = nr_now_ms();
    int fd, r;

    if (!l || !l->rec.listener || l->rec.proto != IPPROTO_TCP) {
        exec_fail(c, s, "'%s' is not a TCP listener", s->u.accept.listener);
        return -1;
    }
    r = nr_wait_fd(l->fd, POLLIN, exec_wait_budget(c, s, t));
    if (r <= 0) {
        exec_fail(c, s, "no connection arrived within %lld ms", (long long)(nr_now_ms() - t));
        return -1;
    }
    peer.len = sizeof(peer.ss);
    fd = accept4(l->fd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_CLOEXEC);
    if (fd < 0) {
        exec_fail(c, s, "accept: %s", strerror(errno));
        return -1;
    }
    k = exec_conn_new(c, s, IPPROTO_TCP, fd);
    if (!k)
        return -1;
    k->rec.peer = peer;
    k->rec.have_peer = 1;
    exec_conn_publish(c, s->name, (struct sockaddr *)&peer.ss);
    return 0;
}
