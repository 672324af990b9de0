/* udp_dgram.h - udp-echo's datagram handling on any datagram socket (a
 * bound UDP socket, or one end of a SOCK_DGRAM socketpair in a fuzz
 * harness): receive one datagram, answer its sender, report what happened. */
#ifndef UDP_DGRAM_H
#define UDP_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "nr_net.h"

/* Buffers and limits for udp_handle_datagram; the caller owns them. */
struct udp_ctx {
    uint8_t *in;          /* receive buffer */
    size_t insize;        /* its size: longer datagrams are dropped */
    uint8_t *out;         /* reply buffer */
    size_t outsize;       /* its size, >= max_payload */
    size_t max_payload;   /* largest reply sent (hello_max_payload) */
};

enum udp_outcome {
    UDP_REPLIED = 1,      /* the reply was sent (0 is no outcome: no datagram handled) */
    UDP_TRUNCATED,        /* datagram longer than insize: dropped */
    UDP_TOO_BIG,          /* reply longer than max_payload: not sent */
    UDP_SEND_FAILED       /* sendmsg failed (err), or found no room for UDP_SEND_STALL_MS */
};

/* What one call did, for the caller's log line.  The fields an outcome
 * does not use are 0 (err unless UDP_SEND_FAILED, out_len of a truncated
 * datagram). */
struct udp_event {
    enum udp_outcome outcome;
    size_t in_len;        /* real datagram length (also when truncated) */
    size_t out_len;       /* reply length (also when too big) */
    int err;              /* errno of a failed send */
    struct nr_addr peer;  /* sender; len <= sizeof(sa_family_t) when unnamed */
};

/* Longest wait for room in the send buffer before a reply is given up
 * (UDP_SEND_FAILED with EAGAIN): an EAGAIN is transient, a reply is not
 * dropped for one. */
#define UDP_SEND_STALL_MS 100

/* Receive one datagram from fd (non-blocking or not) and handle it as
 * udp-echo does.  Returns 1 with *ev filled when a datagram was handled, 0
 * when none was pending (EAGAIN), or -errno when receiving failed. */
int udp_handle_datagram(int fd, const struct udp_ctx *c, struct udp_event *ev);

#endif
