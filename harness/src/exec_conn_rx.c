/* exec_conn_rx.c - the receive buffer of a TCP connection: what arrived
 * and no expect has consumed yet (k->rx[rxoff..rxlen), always followed by
 * a NUL: regexec reads to one, REG_STARTEND or not, when ASan intercepts
 * it), how the stream ended, and how much of the connection's payload has crossed the wire. */
#define _GNU_SOURCE
#include "exec_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define RX_CHUNK 65536
#define RX_DRAIN_MAX (1024 * 1024) /* bytes one exec_rx_drain() reads at most */

/* Read what is available into k->rx without blocking, at most about
 * RX_DRAIN_MAX bytes: a peer that writes as fast as it is read (an echo
 * during a long send) would otherwise keep one call reading, and k->rx
 * growing, for as long as it sends.  Returns the number of bytes added;
 * sets eof/reset/sock_err. */
size_t exec_rx_drain(struct exec_conn *k)
{
    size_t added = 0;

    while (!k->eof && !k->reset && !k->sock_err && added < RX_DRAIN_MAX) {
        ssize_t n;
        if (k->rxoff > 0 && k->rxoff == k->rxlen) {
            k->rxoff = k->rxlen = 0;
            k->rx[0] = '\0';
        }
        if (k->rxcap - k->rxlen < RX_CHUNK) {
            if (k->rxoff > k->rxcap / 2) {
                memmove(k->rx, k->rx + k->rxoff, k->rxlen - k->rxoff);
                k->rxlen -= k->rxoff;
                k->rxoff = 0;
                k->rx[k->rxlen] = '\0';
            } else {
                size_t ncap = k->rxcap ? k->rxcap * 2 : 4 * RX_CHUNK;
                uint8_t *nb = realloc(k->rx, ncap);
                if (!nb) {
                    k->sock_err = ENOMEM;
                    break;
                }
                k->rx = nb;
                k->rxcap = ncap;
            }
        }
        /* one byte kept for the NUL after the data */
        n = recv(k->fd, k->rx + k->rxlen, k->rxcap - k->rxlen - 1, MSG_DONTWAIT);
        if (n > 0) {
            k->rec.recv_hash = exec_hash_add(k->hs_recv, k->rx + k->rxlen, (size_t)n);
            k->rxlen += (size_t)n;
            k->rx[k->rxlen] = '\0';
            k->rec.received += (uint64_t)n;
            added += (size_t)n;
        } else if (n == 0) {
            k->eof = 1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno == ECONNRESET) {
            k->reset = 1;
        } else {
            k->sock_err = errno;
        }
    }
    return added;
}

/* Wait up to ms for more input on k, then drain.  Returns bytes added. */
size_t exec_rx_wait(struct exec_conn *k, int ms)
{
    size_t n = exec_rx_drain(k);

    if (n || k->eof || k->reset || k->sock_err)
        return n;
    if (nr_wait_fd(k->fd, POLLIN, ms) > 0)
        n = exec_rx_drain(k);
    return n;
}

size_t exec_rx_avail(const struct exec_conn *k)
{
    return k->rxlen - k->rxoff;
}

const char *exec_rx_end_reason(const struct exec_conn *k)
{
    if (k->reset)
        return "connection reset by peer";
    if (k->eof)
        return "EOF";
    if (k->sock_err)
        return strerror(k->sock_err);
    return "timeout";
}

enum exec_in_end exec_rx_end(const struct exec_conn *k)
{
    if (k->reset)
        return EXEC_IN_RESET;
    if (k->eof)
        return EXEC_IN_EOF;
    return k->sock_err ? EXEC_IN_ERROR : EXEC_IN_OPEN;
}

/* Payload bytes of k that have crossed the wire, both ways: what was sent
 * less what still waits in the send queue, and what was received, read or
 * still waiting in the receive queue (it is in the capture's ring too). */
uint64_t exec_rx_on_wire(const struct exec_conn *k)
{
    int unsent = 0, unread = 0;

    if (ioctl(k->fd, SIOCOUTQNSD, &unsent) < 0 || unsent < 0)
        unsent = 0;
    if (ioctl(k->fd, SIOCINQ, &unread) < 0 || unread < 0)
        unread = 0;
    return k->rec.sent - (uint64_t)unsent + k->rec.received + (uint64_t)unread;
}
