/* tcp-echo-mt - echo server with one thread per connection, at most
 * --max-conns at a time; connections past the cap are refused with an RST. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conns.h"
#include "srv.h"
#include "tcp-echo/echo.h"

#define DEFAULT_PORT 12346
#define DEFAULT_MAX_CONNS 64
#define MAX_MAX_CONNS 65536
#define STOP_JOIN_MS 800 /* bound on waiting for the threads at shutdown */

static void usage(FILE *f)
{
    fprintf(f, "usage: tcp-echo-mt [options]\n"
               "Echo every byte back, one thread per client.  After a client shuts down\n"
               "its sending side, everything received is echoed, then it is closed.\n"
               "  -n, --max-conns N      serve at most N clients at once (1-%d, default %d);\n"
               "                         a client past the cap is accepted and at once\n"
               "                         closed with an RST (logged 'refused: at capacity')\n"
               "  -t, --idle-timeout MS  drop a client after MS ms without progress\n"
               "                         (default 0: never)\n"
               "On SIGINT/SIGTERM it stops accepting, closes every client, waits for the\n"
               "threads and exits 0 (1 if a thread did not finish within %d ms).\n",
            MAX_MAX_CONNS, DEFAULT_MAX_CONNS, STOP_JOIN_MS);
    fprintf(f, SRV_USAGE_COMMON, DEFAULT_PORT);
}

/* Accept and dispatch connections until a shutdown signal. */
static void serve(struct srv *s, struct emt *m)
{
    for (;;) {
        char as[NR_ADDRSTR_SIZE];
        int fd = srv_next_conn(s, as), r;

        if (fd == SRV_STOP)
            return;
        if (fd < 0)
            continue;
        r = emt_start(m, fd, as);
        if (r == 0) {
            srv_log(s, "%s: connected", as);
            continue;
        }
        if (r == 1)
            srv_log(s, "%s: refused: at capacity (%d)", as, m->max);
        else
            srv_err(s, "%s: refused: cannot start a thread: %s", as, strerror(-r));
        emt_refuse(fd); /* after the log line: the client may look at it once reset */
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SRV_LONGOPTS,
        { "max-conns", required_argument, NULL, 'n' },
        { "idle-timeout", required_argument, NULL, 't' },
        { 0 }
    };
    char errbuf[NR_ERRBUF_SIZE];
    int opt, idle_ms = 0, max_conns = DEFAULT_MAX_CONNS, left;
    /* static: when threads are given up (emt_stop), main returns while they
     * still use m and s (and m's slots must stay reachable for LSan) */
    static struct srv s;
    static struct emt m;

    srv_init(&s, "tcp-echo-mt", SOCK_STREAM, DEFAULT_PORT);
    while ((opt = getopt_long(argc, argv, SRV_SHORTOPTS "n:t:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 'n' && echo_parse_int(optarg, 1, MAX_MAX_CONNS, &max_conns) < 0) {
            fprintf(stderr, "tcp-echo-mt: --max-conns: expected 1-%d, got '%s'\n",
                    MAX_MAX_CONNS, optarg);
            return 2;
        }
        if (opt == 't' && echo_parse_int(optarg, 0, 86400000, &idle_ms) < 0) {
            fprintf(stderr, "tcp-echo-mt: --idle-timeout: expected 0-86400000, got '%s'\n", optarg);
            return 2;
        }
        if (opt != 'n' && opt != 't' && srv_option(&s, opt, optarg) != 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tcp-echo-mt: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    /* The table first: everything the idle server holds exists before its
     * readiness line (emt_init starts no thread, so the signal mask that
     * srv_start sets is still inherited by every connection thread). */
    if (emt_init(&m, &s, max_conns, idle_ms ? idle_ms : -1, errbuf) < 0) {
        srv_err(&s, "%s", errbuf);
        return 1;
    }
    if (srv_start(&s) < 0) {
        emt_free(&m);
        return 1;
    }
    serve(&s, &m);
    srv_log(&s, "shutting down (%d clients)", emt_active(&m));
    left = emt_stop(&m, STOP_JOIN_MS);
    if (left) {
        srv_err(&s, "%d connection threads did not finish", left);
        return 1;
    }
    emt_free(&m);
    srv_close(&s);
    return 0;
}
