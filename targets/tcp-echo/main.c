/* tcp-echo - iterative echo server: one client at a time (the next waits in
 * the listen backlog); every byte is echoed until the client closes or
 * half-closes its side. */
#include <stdlib.h>
#include <unistd.h>

#include "echo.h"
#include "srv.h"

#define DEFAULT_PORT 12345

static void usage(FILE *f)
{
    fprintf(f, "usage: tcp-echo [options]\n"
               "Echo every byte back, serving one client at a time; further clients\n"
               "wait in the listen backlog.  After the client shuts down its sending\n"
               "side, everything received is echoed, then the connection is closed.\n"
               "  -t, --idle-timeout MS  drop a client after MS ms without progress\n"
               "                         (default 0: never; a stalled client blocks\n"
               "                         the server, but SIGINT/SIGTERM still stop it)\n"
               SRV_USAGE_COMMON, DEFAULT_PORT);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SRV_LONGOPTS, { "idle-timeout", required_argument, NULL, 't' }, { 0 }
    };
    struct srv s;
    int opt, idle_ms = 0;

    srv_init(&s, "tcp-echo", SOCK_STREAM, DEFAULT_PORT);
    while ((opt = getopt_long(argc, argv, SRV_SHORTOPTS "t:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 't' && echo_parse_int(optarg, 0, 86400000, &idle_ms) < 0) {
            fprintf(stderr, "tcp-echo: --idle-timeout: expected 0-86400000, got '%s'\n", optarg);
            return 2;
        }
        if (opt != 't' && srv_option(&s, opt, optarg) != 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tcp-echo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (srv_start(&s) < 0)
        return 1;
    for (;;) {
        char as[NR_ADDRSTR_SIZE];
        uint64_t moved;
        int fd = srv_next_conn(&s, as), r;

        if (fd == SRV_STOP)
            break;
        if (fd < 0)
            continue;
        srv_log(&s, "%s: connected", as);
        r = echo_serve_conn(fd, s.sigfd, idle_ms ? idle_ms : -1, &moved);
        close(fd);
        srv_log(&s, "%s: %s after %llu bytes echoed", as, echo_result_str(r),
                (unsigned long long)moved);
        if (r == ECHO_STOPPED)
            break;
    }
    srv_log(&s, "shutting down");
    srv_close(&s);
    return 0;
}
