/* tcp-time - answer every chunk a client sends with "[<ctime>] <chunk>",
 * serving all clients from one thread with an epoll reactor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "srv.h"
#include "tcp-time/tt_server.h"

#define DEFAULT_PORT 21567

struct app {
    struct srv srv;
    int stop;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tcp-time [options]\n"
               "Answer each chunk of data a client sends with '[<ctime>] <data>' (local\n"
               "time, e.g. '[Mon Nov 23 17:55:39 2026] hello'). TCP keeps no message\n"
               "boundaries: one reply goes out per read() chunk, of at most --read-size\n"
               "bytes, so a message may be answered in several replies. All clients are\n"
               "served at once by one non-blocking event loop; a client whose pending\n"
               "replies reach --out-cap bytes is not read from until they drain. After a\n"
               "client's EOF its pending replies are sent, then the connection is closed.\n"
               "  -r, --read-size N  bytes per read, i.e. per reply (default %d)\n"
               "  -c, --out-cap N    pending reply bytes per client before reads pause\n"
               "                     (default %d)\n"
               SRV_USAGE_COMMON,
            TT_READ_SIZE, TT_OUT_CAP, DEFAULT_PORT);
}

static int parse_size(const char *opt, const char *arg, size_t max, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(arg, &end, 10);
    if (*arg < '0' || *arg > '9' || *end != '\0' || errno || v < 1 || v > max) {
        fprintf(stderr, "tcp-time: %s: expected 1-%zu, got '%s'\n", opt, max, arg);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int accept_hook(void *ctx, int listen_fd, struct nr_addr *peer)
{
    struct app *a = ctx;

    (void)listen_fd;
    return srv_accept(&a->srv, peer);
}

static void log_hook(void *ctx, const char *line)
{
    struct app *a = ctx;

    srv_log(&a->srv, "%s", line);
}

static void signal_io(struct tt_loop *l, int fd, uint32_t events, void *arg)
{
    struct app *a = arg;

    (void)l;
    (void)fd;
    (void)events;
    a->stop = 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SRV_LONGOPTS,
        { "read-size", required_argument, NULL, 'r' },
        { "out-cap", required_argument, NULL, 'c' },
        { 0 }
    };
    struct tt_config cfg = { .read_size = 0 };
    char errbuf[NR_ERRBUF_SIZE];
    struct tt_server *ts = NULL;
    struct app a = { .stop = 0 };
    int opt, r, rc = 1;

    srv_init(&a.srv, "tcp-time", SOCK_STREAM, DEFAULT_PORT);
    while ((opt = getopt_long(argc, argv, SRV_SHORTOPTS "r:c:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 'r' || opt == 'c') {
            if (parse_size(opt == 'r' ? "--read-size" : "--out-cap", optarg,
                           opt == 'r' ? 16u << 20 : 1u << 30,
                           opt == 'r' ? &cfg.read_size : &cfg.out_cap) < 0)
                return 2;
            continue;
        }
        if (srv_option(&a.srv, opt, optarg) != 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tcp-time: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    cfg.accept = accept_hook;
    cfg.log = log_hook;
    cfg.ctx = &a;
    /* Everything the server needs exists before the readiness line. */
    if (!(ts = tt_server_create(&cfg, errbuf))) {
        srv_err(&a.srv, "%s", errbuf);
        return 1;
    }
    if (srv_start(&a.srv) < 0)
        goto out;
    if ((r = tt_server_listen(ts, a.srv.fd)) < 0 ||
        (r = tt_loop_add(tt_server_loop(ts), a.srv.sigfd, EPOLLIN, signal_io, &a)) < 0) {
        srv_err(&a.srv, "%s", strerror(-r));
        goto out;
    }
    while (!a.stop) {
        if ((r = tt_server_run_once(ts, -1)) < 0) {
            srv_err(&a.srv, "event loop: %s", strerror(-r));
            goto out;
        }
    }
    srv_log(&a.srv, "shutting down, closing %zu clients", tt_server_clients(ts));
    rc = 0;
out:
    tt_loop_del(tt_server_loop(ts), a.srv.sigfd);
    tt_server_destroy(ts);
    srv_close(&a.srv);
    return rc;
}
