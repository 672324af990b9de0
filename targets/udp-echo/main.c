/* udp-echo - answer each UDP datagram "<data>" with "Hello, <data>!". */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv.h"
#include "udp-echo/hello_reply.h"
#include "udp-echo/udp_dgram.h"

#define DEFAULT_PORT 9999
#define DEFAULT_BUFSIZE 65535
#define MAX_BUFSIZE (1 << 20)
#define BURST 64 /* datagrams handled between checks for a stop signal */

static void usage(FILE *f)
{
    fprintf(f, "usage: udp-echo [options]\n"
               "Answer each datagram '<data>' with one datagram 'Hello, <data>!' to its\n"
               "sender (datagram boundaries kept; an empty datagram gets 'Hello, !').\n"
               "A datagram longer than --bufsize is dropped unanswered and logged as\n"
               "'truncated datagram from ADDR: N bytes > bufsize M, dropped'. A reply\n"
               "longer than the largest UDP payload (65507 bytes over IPv4, 65527 over\n"
               "IPv6) is not sent and logged as 'reply of N bytes exceeds max UDP\n"
               "payload'. Nothing is ever cut short.\n"
               "  -B, --bufsize N   receive buffer, 1-%d bytes (default %d)\n"
               SRV_USAGE_COMMON,
            MAX_BUFSIZE, DEFAULT_BUFSIZE, DEFAULT_PORT);
}

static int parse_bufsize(const char *arg, size_t *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno || v < 1 || v > MAX_BUFSIZE) {
        fprintf(stderr, "udp-echo: --bufsize: expected 1-%d, got '%s'\n", MAX_BUFSIZE, arg);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Log what udp_handle_datagram did with one datagram. */
static void log_event(const struct srv *s, const struct udp_ctx *c, const struct udp_event *ev)
{
    char as[NR_ADDRSTR_SIZE];

    if (ev->peer.len > sizeof(sa_family_t))
        nr_addr_format((const struct sockaddr *)&ev->peer.ss, as, sizeof(as));
    else
        snprintf(as, sizeof(as), "unnamed peer");
    switch (ev->outcome) {
    case UDP_REPLIED:
        srv_log(s, "datagram from %s: %zu bytes, replied %zu bytes", as, ev->in_len, ev->out_len);
        break;
    case UDP_TRUNCATED:
        srv_log(s, "truncated datagram from %s: %zu bytes > bufsize %zu, dropped", as,
                ev->in_len, c->insize);
        break;
    case UDP_TOO_BIG:
        srv_log(s, "reply of %zu bytes exceeds max UDP payload (%zu), not sent to %s",
                ev->out_len, c->max_payload, as);
        break;
    case UDP_SEND_FAILED:
        srv_log(s, "reply to %s failed: %s", as, strerror(ev->err));
        break;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SRV_LONGOPTS, { "bufsize", required_argument, NULL, 'B' }, { 0 }
    };
    struct udp_ctx c = { .insize = DEFAULT_BUFSIZE };
    struct udp_event ev;
    struct srv s;
    int opt, r, i, rc = 1;

    srv_init(&s, "udp-echo", SOCK_DGRAM, DEFAULT_PORT);
    while ((opt = getopt_long(argc, argv, SRV_SHORTOPTS "B:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 'B') {
            if (parse_bufsize(optarg, &c.insize) < 0)
                return 2;
            continue;
        }
        if (srv_option(&s, opt, optarg) != 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "udp-echo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    c.in = malloc(c.insize);
    c.outsize = HELLO_MAX_UDP6;
    c.out = malloc(c.outsize);
    if (!c.in || !c.out) {
        fprintf(stderr, "udp-echo: out of memory\n");
        goto out;
    }
    if (srv_start(&s) < 0)
        goto out;
    c.max_payload = hello_max_payload(s.local.ss.ss_family);
    for (;;) {
        struct pollfd p[2] = { { .fd = s.fd, .events = POLLIN }, { .fd = s.sigfd, .events = POLLIN } };

        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            srv_err(&s, "poll: %s", strerror(errno));
            goto out;
        }
        if (p[1].revents)
            break;
        for (i = 0; i < BURST && p[0].revents; i++) {
            r = udp_handle_datagram(s.fd, &c, &ev);
            if (r == 0)
                break;
            if (r < 0)
                srv_log(&s, "recvmsg: %s", strerror(-r));
            else
                log_event(&s, &c, &ev);
        }
    }
    srv_log(&s, "shutting down");
    rc = 0;
out:
    srv_close(&s);
    free(c.in);
    free(c.out);
    return rc;
}
