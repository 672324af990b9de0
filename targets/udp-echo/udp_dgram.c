/* udp_dgram.c - receive a datagram, answer "Hello, <data>!" (see udp_dgram.h). */
#include "udp_dgram.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "hello_reply.h"

int udp_handle_datagram(int fd, const struct udp_ctx *c, struct udp_event *ev)
{
    struct iovec iov = { .iov_base = c->in, .iov_len = c->insize };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;
    long r;
    int named;

    memset(ev, 0, sizeof(*ev));
    m.msg_name = &ev->peer.ss;
    m.msg_namelen = sizeof(ev->peer.ss);
    /* MSG_TRUNC: return the datagram's real length even when it is longer. */
    do
        n = recvmsg(fd, &m, MSG_TRUNC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    ev->peer.len = m.msg_namelen;
    ev->in_len = (size_t)n;
    if ((m.msg_flags & MSG_TRUNC) || (size_t)n > c->insize) {
        ev->outcome = UDP_TRUNCATED;
        return 1;
    }
    r = hello_reply_format(c->in, (size_t)n, c->out,
                           c->max_payload < c->outsize ? c->max_payload : c->outsize);
    if (r < 0) {
        ev->outcome = UDP_TOO_BIG;
        ev->out_len = (size_t)n + HELLO_OVERHEAD;
        return 1;
    }
    ev->out_len = (size_t)r;
    iov.iov_base = c->out;
    iov.iov_len = (size_t)r;
    /* An unnamed peer (socketpair) has no address: reply on the connection. */
    named = ev->peer.len > sizeof(sa_family_t);
    m.msg_name = named ? &ev->peer.ss : NULL;
    m.msg_namelen = named ? ev->peer.len : 0;
    m.msg_flags = 0;
    do
        n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        ev->outcome = UDP_SEND_FAILED;
        ev->err = errno;
        return 1;
    }
    ev->outcome = UDP_REPLIED;
    return 1;
}
