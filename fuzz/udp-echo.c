/* udp-echo.c - fuzz harness for udp-echo's datagram handling over a real
 * SOCK_DGRAM socketpair: every send record (fz_records.h; conn_id and the
 * other actions are ignored) is one datagram that udp_handle_datagram
 * answers.
 *
 * Options (fz_opts.h): [u16 receive buffer (--bufsize), 1-65535, default
 * 512][u16 reply limit (the largest UDP payload), 1-65535, default 300].
 * Both buffers are allocated at exactly their size, so ASan sees a byte
 * read or written past either.
 *
 * Oracle, per datagram of n bytes, as targets/udp-echo/README.md defines
 * it: n > bufsize is UDP_TRUNCATED (in_len n, no reply); otherwise a reply
 * of n + 8 bytes over the limit is UDP_TOO_BIG (out_len n + 8, no reply);
 * otherwise exactly one reply "Hello, <datagram>!" is sent (the harness
 * reads each reply before the next datagram, so a send never lacks room). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fz_opts.h"
#include "lib/fz_oracle.h"
#include "lib/fz_records.h"
#include "udp-echo/hello_reply.h"
#include "udp-echo/udp_dgram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UDP_FUZZ_IN 512  /* default receive buffer */
#define UDP_FUZZ_OUT 300 /* default reply limit */

static const char *outcome_name(enum udp_outcome o)
{
    switch (o) {
    case UDP_REPLIED: return "replied";
    case UDP_TRUNCATED: return "truncated";
    case UDP_TOO_BIG: return "too big";
    case UDP_SEND_FAILED: return "send failed";
    }
    return "?";
}

static void check_reply(int cli, const struct udp_ctx *c, const struct fz_rec *r,
                        const struct udp_event *ev)
{
    static uint8_t got[HELLO_MAX_UDP4 + 16];
    size_t limit = c->max_payload < c->outsize ? c->max_payload : c->outsize;
    enum udp_outcome want = r->len > c->insize                  ? UDP_TRUNCATED
                            : r->len + HELLO_OVERHEAD > limit ? UDP_TOO_BIG
                                                              : UDP_REPLIED;
    ssize_t n = recv(cli, got, sizeof(got), MSG_DONTWAIT);

    if (ev->in_len != r->len)
        fz_fail("udp-echo", "a %zu-byte datagram reported as %zu bytes", r->len, ev->in_len);
    if (ev->outcome != want)
        fz_fail("udp-echo", "a %zu-byte datagram (bufsize %zu, limit %zu): %s, want %s",
                r->len, c->insize, limit, outcome_name(ev->outcome), outcome_name(want));
    if (want != UDP_REPLIED) {
        if (n >= 0)
            fz_fail("udp-echo", "a %zd-byte reply was sent for a %s datagram", n,
                    outcome_name(want));
        if (want == UDP_TOO_BIG && ev->out_len != r->len + HELLO_OVERHEAD)
            fz_fail("udp-echo", "too-big reply reported as %zu bytes, not %zu", ev->out_len,
                    r->len + HELLO_OVERHEAD);
        return;
    }
    if (n != (ssize_t)(r->len + HELLO_OVERHEAD) || ev->out_len != (size_t)n ||
        memcmp(got, "Hello, ", 7) != 0 || memcmp(got + 7, r->data, r->len) != 0 ||
        got[n - 1] != '!')
        fz_fail("udp-echo", "wrong reply (%zd bytes) to a %zu-byte datagram", n, r->len);
    if (recv(cli, got, sizeof(got), MSG_DONTWAIT) >= 0)
        fz_fail("udp-echo", "two replies to one %zu-byte datagram", r->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct udp_ctx c = { 0 };
    struct fz_opts o;
    struct nr_cursor cur;
    struct udp_event ev;
    struct fz_rec r;
    int sv[2], big;

    fz_opts_take(&o, &data, &size);
    c.insize = fz_opt_u16(&o, UDP_FUZZ_IN, 1, 65535);
    c.outsize = c.max_payload = fz_opt_u16(&o, UDP_FUZZ_OUT, 1, 65535);
    c.in = malloc(c.insize);
    c.out = malloc(c.outsize);
    if (!c.in || !c.out || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        goto out;
    /* room for the largest datagram and its reply in either direction */
    big = 4 * 65536;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    nr_cur_init(&cur, data, size);
    while (fz_rec_next(&cur, &r)) {
        if (r.action != FZ_SEND)
            continue;
        if (send(sv[0], r.data, r.len, MSG_NOSIGNAL) < 0)
            continue;
        if (udp_handle_datagram(sv[1], &c, &ev) != 1)
            fz_fail("udp-echo", "a %zu-byte datagram was sent but not handled", r.len);
        check_reply(sv[0], &c, &r, &ev);
    }
    close(sv[0]);
    close(sv[1]);
out:
    free(c.in);
    free(c.out);
    return 0;
}
