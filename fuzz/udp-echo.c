/* udp-echo.c - fuzz harness for udp-echo's datagram handling over a real
 * SOCK_DGRAM socketpair: every send record (fz_records.h; conn_id and the
 * other actions are ignored) is one datagram that udp_handle_datagram
 * answers.  A receive buffer of 512 bytes and a reply limit of 300 bytes
 * (in a buffer of exactly that size, so ASan sees a write past it) reach
 * the truncation and too-big paths.  Oracle: a reply is
 * "Hello, <datagram>!" exactly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fz_records.h"
#include "udp-echo/hello_reply.h"
#include "udp-echo/udp_dgram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UDP_FUZZ_IN 512
#define UDP_FUZZ_OUT 300

static void check_reply(int cli, const struct fz_rec *r, const struct udp_event *ev)
{
    static uint8_t got[HELLO_MAX_UDP4 + 16];
    ssize_t n = recv(cli, got, sizeof(got), MSG_DONTWAIT);

    if (ev->outcome != UDP_REPLIED) {
        if (n >= 0) {
            fprintf(stderr, "udp-echo: a reply was sent for outcome %d\n", (int)ev->outcome);
            abort();
        }
        return;
    }
    if (n != (ssize_t)r->len + HELLO_OVERHEAD || memcmp(got, "Hello, ", 7) != 0 ||
        memcmp(got + 7, r->data, r->len) != 0 || got[n - 1] != '!') {
        fprintf(stderr, "udp-echo: wrong reply (%zd bytes) to a %zu-byte datagram\n", n, r->len);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t in[UDP_FUZZ_IN];
    static uint8_t *out;
    struct udp_ctx c = { .in = in, .insize = sizeof(in), .outsize = UDP_FUZZ_OUT,
                         .max_payload = UDP_FUZZ_OUT };
    struct nr_cursor cur;
    struct udp_event ev;
    struct fz_rec r;
    int sv[2];

    if (!out)
        out = malloc(UDP_FUZZ_OUT); /* kept for the process: persistent mode */
    if (!out || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        return 0;
    c.out = out;
    nr_cur_init(&cur, data, size);
    while (fz_rec_next(&cur, &r)) {
        if (r.action != FZ_SEND)
            continue;
        if (send(sv[0], r.data, r.len, MSG_NOSIGNAL) < 0)
            continue;
        if (udp_handle_datagram(sv[1], &c, &ev) == 1)
            check_reply(sv[0], &r, &ev);
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
