/* tcp-greet - accept a connection, send one greeting line, close. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greet.h"
#include "srv.h"

#define DEFAULT_PORT 9999
#define WRITE_TIMEOUT_MS 5000

static void usage(FILE *f)
{
    fprintf(f, "usage: tcp-greet [options]\n"
               "Send one greeting line to each client, then close the connection.\n"
               "  -m, --message TEXT  greeting (UTF-8, one line; default '" GREET_DEFAULT "')\n"
               SRV_USAGE_COMMON, DEFAULT_PORT);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SRV_LONGOPTS, { "message", required_argument, NULL, 'm' }, { 0 }
    };
    const char *msg = GREET_DEFAULT;
    uint8_t line[GREET_MAX + 1];
    long linelen;
    size_t bad;
    struct srv s;
    int opt, r;

    srv_init(&s, "tcp-greet", SOCK_STREAM, DEFAULT_PORT);
    while ((opt = getopt_long(argc, argv, SRV_SHORTOPTS "m:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 'm') {
            msg = optarg;
            continue;
        }
        if (srv_option(&s, opt, optarg) != 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tcp-greet: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (greet_validate((const uint8_t *)msg, strlen(msg), &bad) < 0) {
        fprintf(stderr, "tcp-greet: --message: invalid UTF-8 or line break at byte %zu\n", bad);
        return 2;
    }
    linelen = greet_line((const uint8_t *)msg, strlen(msg), line, sizeof(line));
    if (linelen < 0) {
        fprintf(stderr, "tcp-greet: --message longer than %d bytes\n", GREET_MAX);
        return 2;
    }
    if (srv_start(&s) < 0)
        return 1;
    for (;;) {
        char as[NR_ADDRSTR_SIZE];
        int fd = srv_next_conn(&s, as);

        if (fd == SRV_STOP)
            break;
        if (fd < 0)
            continue;
        srv_log(&s, "connection from %s", as);
        r = greet_serve(fd, line, (size_t)linelen, WRITE_TIMEOUT_MS);
        if (r < 0)
            srv_log(&s, "%s: send failed: %s", as, strerror(-r));
        else
            srv_log(&s, "%s: greeted, closed", as);
    }
    srv_log(&s, "shutting down");
    srv_close(&s);
    return 0;
}
