/* srv.h - the plumbing every netrig server target shares: common options,
 * the listening socket (bound, or handed over by socket activation), the
 * readiness line, shutdown signals, accept with EMFILE handling, logging.
 *
 * Errors follow nr_err.h, the convention of the nr_ library these servers
 * link: the accept path returns -errno (a server's loop decides per cause
 * and prints strerror(-r)); srv_option and srv_start, the program's own
 * front end, print their one line on stderr themselves (srv_err) and
 * return -1.  cli_connect.h, the clients' counterpart, returns negative
 * CLI_E* codes with one line in an errbuf. */
#ifndef SRV_H
#define SRV_H

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "nr_net.h"

struct srv {
    const char *name;  /* program name, used in log lines */
    const char *bind;  /* --bind address (default 127.0.0.1) */
    int port;          /* --port (0: ephemeral) */
    int quiet;         /* -q: no per-connection log lines */
    int type;          /* SOCK_STREAM or SOCK_DGRAM */
    int fd;            /* the listening / bound socket after srv_start */
    int sigfd;         /* signalfd readable on SIGINT/SIGTERM */
    int reserve_fd;    /* spare descriptor released to shed a connection on EMFILE */
    struct nr_addr local; /* address actually bound */
};

/* Long options shared by every server; put first in each program's table. */
#define SRV_LONGOPTS                              \
    { "bind", required_argument, NULL, 'b' },     \
    { "port", required_argument, NULL, 'p' },     \
    { "quiet", no_argument, NULL, 'q' },          \
    { "help", no_argument, NULL, 'h' }
#define SRV_SHORTOPTS "b:p:qh"

/* Usage lines for the shared options, to append to a program's --help. */
#define SRV_USAGE_COMMON                                                          \
    "  -b, --bind ADDR   address to listen on (default 127.0.0.1; IPv6: ::1)\n"   \
    "  -p, --port N      port to listen on (0: ephemeral; default %d)\n"          \
    "  -q, --quiet       no per-connection log lines on stderr\n"                 \
    "  -h, --help        this help\n"                                             \
    "A listening socket passed as fd 3 by socket activation (LISTEN_FDS=1,\n"     \
    "LISTEN_PID) is used instead of --bind/--port. After listening, one line\n"   \
    "'listening on ADDR:PORT' is printed on stdout. SIGINT/SIGTERM stop it.\n"

/* Initialise s with defaults for a server of the given type and port. */
void srv_init(struct srv *s, const char *name, int type, int default_port);

/* Handle one of the shared getopt options.  Tri-state: returns 0 when
 * handled, 1 when opt is not a shared option (the caller's to handle), -1
 * on a bad value (message printed on stderr). */
int srv_option(struct srv *s, int opt, const char *arg);

/* Block SIGINT/SIGTERM into a signalfd, ignore SIGPIPE, acquire the socket
 * (activation or bind), print the readiness line.  Call before starting any
 * thread.  Returns 0, or -1 with a message printed on stderr. */
int srv_start(struct srv *s);

/* Accept one connection on s->fd into a close-on-exec fd.  On EMFILE/ENFILE
 * the pending connection is accepted and closed via the reserve descriptor
 * (logged "shedding one connection"), so the loop neither spins nor dies.
 * Returns the fd, or -errno (-EAGAIN, -ECONNABORTED... are transient;
 * -EMFILE/-ENFILE: one connection shed; -EAGAIN also when out of
 * descriptors with none waiting, so an accept burst stops). */
int srv_accept(struct srv *s, struct nr_addr *peer);

/* srv_next_conn: SIGINT/SIGTERM arrived.  An errno value neither poll nor
 * accept returns, so it cannot be mistaken for a failure of theirs. */
#define SRV_STOP (-ECANCELED)

/* Wait (without bound) for a connection or a shutdown signal, whichever
 * comes first, and accept it with srv_accept.  The peer's address is written
 * into peerstr[NR_ADDRSTR_SIZE].  Tri-state: returns the connected fd
 * (caller owns and closes it), SRV_STOP once a shutdown signal is pending,
 * or another -errno on a transient failure (call again). */
int srv_next_conn(struct srv *s, char *peerstr);

/* True once SIGINT or SIGTERM has arrived (consumes nothing: level-checked). */
int srv_stopping(struct srv *s);

/* Log one line "<name>: <message>" on stderr unless quiet. */
void srv_log(const struct srv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print an error line on stderr regardless of quiet. */
void srv_err(const struct srv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close the socket and signalfd. */
void srv_close(struct srv *s);

#endif
