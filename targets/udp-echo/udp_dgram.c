/* udp_dgram.c - receive a datagram, answer "Hello, <data>!" (see udp_dgram.h). */
#include "udp_dgram.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>

#include "hello_reply.h"

/* Send the reply m, retrying EINTR, and EAGAIN (the send buffer is full
 * for the moment) after waiting for room, for UDP_SEND_STALL_MS in all.
 * Returns 0, or -errno (nr_err.h). */
static int send_reply(int fd, const struct msghdr *m)
{
    int64_t deadline = nr_now_ms() + UDP_SEND_STALL_MS;
    ssize_t n;
    int e;

    for (;;) {
        n = sendmsg(fd, m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        e = errno;
        if (e == EINTR)
            continue;
        if ((e != EAGAIN && e != EWOULDBLOCK) || nr_wait_fd(fd, POLLOUT, nr_ms_left(deadline)) <= 0)
            break;
    }
    return -e;
}

int udp_handle_datagram(int fd, const struct udp_ctx *c, struct udp_event *ev)
{
    struct iovec iov = { .iov_base = c->in, .iov_len = c->insize };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;
    long r;
    int named, sent;

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
#ifdef NETRIG_PLANT_BUG_UDP_TRUNC_OFF_BY_ONE
    /* Planted for fuzz/selftest.sh only: a datagram one byte longer than
     * the buffer is taken as whole, and read one byte past the buffer. */
    if ((size_t)n > c->insize + 1) {
#else
    if ((m.msg_flags & MSG_TRUNC) || (size_t)n > c->insize) {
#endif
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
    if ((sent = send_reply(fd, &m)) < 0) {
        ev->outcome = UDP_SEND_FAILED;
        ev->err = -sent;
        return 1;
    }
    ev->outcome = UDP_REPLIED;
    return 1;
}
