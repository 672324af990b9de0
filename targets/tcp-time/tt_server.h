/* tt_server.h - tcp-time's event-driven server: one thread, one epoll loop,
 * every client non-blocking.  Each read() chunk from a client (at most
 * read_size bytes) is answered with "[<ctime>] <chunk>": TCP keeps no
 * message boundaries, so the reply granularity is whatever one read returns.
 *
 * A client's replies queue in its own output buffer.  Once that holds
 * out_cap bytes or more the server stops reading from the client until the
 * buffer drains (backpressure): a slow client never blocks the others and
 * no byte is dropped.  After a client's EOF its pending output is flushed,
 * then the connection is closed.  Errors (RST) close it at once.
 *
 * The clock is a parameter and there are no globals, so a fuzz harness can
 * drive a server deterministically with socketpair ends via
 * tt_server_add_client and tt_server_run_once. */
#ifndef TT_SERVER_H
#define TT_SERVER_H

#include <stddef.h>
#include <time.h>

#include "nr_net.h"
#include "reactor.h"

#define TT_READ_SIZE 4096          /* default bytes per read, i.e. per reply */
#define TT_OUT_CAP (1024 * 1024)   /* default output buffer cap per client */

/* Current time for a reply. */
typedef time_t tt_clock_fn(void *ctx);

/* Accept one connection on listen_fd; returns the new fd or -errno
 * (nr_err.h: -EAGAIN when none is pending). */
typedef int tt_accept_fn(void *ctx, int listen_fd, struct nr_addr *peer);

/* Receive one connection-event log line (without newline). */
typedef void tt_log_fn(void *ctx, const char *line);

struct tt_config {
    size_t read_size;         /* bytes per read, >= 1 (0: TT_READ_SIZE) */
    size_t out_cap;           /* output buffer cap, >= 1 (0: TT_OUT_CAP) */
    tt_clock_fn *clock;       /* NULL: time(NULL) */
    tt_accept_fn *accept;     /* NULL: accept4 */
    tt_log_fn *log;           /* NULL: no log */
    void *ctx;                /* passed to clock, accept and log */
};

struct tt_server;

/* Create a server per cfg (copied), with no listening socket and no client.
 * Returns the server (free with tt_server_destroy), or NULL with errbuf set. */
struct tt_server *tt_server_create(const struct tt_config *cfg, char *errbuf);

/* Accept connections from listen_fd (made non-blocking; it stays the
 * caller's, to close after tt_server_destroy).  At most one listening
 * socket.  Returns 0, or -errno. */
int tt_server_listen(struct tt_server *s, int listen_fd);

/* The server's event loop, to register more descriptors (e.g. a signalfd). */
struct tt_loop *tt_server_loop(struct tt_server *s);

/* Serve a connected stream socket; the server takes ownership of fd (sets
 * it non-blocking, closes it when done, also on failure).  peer may be NULL.
 * Returns 0, or -errno. */
int tt_server_add_client(struct tt_server *s, int fd, const struct nr_addr *peer);

/* One round of the event loop, waiting at most timeout_ms (<0: forever).
 * Returns the number of events handled, or -errno. */
int tt_server_run_once(struct tt_server *s, int timeout_ms);

/* Number of clients currently served. */
size_t tt_server_clients(const struct tt_server *s);

/* Close every client (pending output is discarded), free everything. */
void tt_server_destroy(struct tt_server *s);

#endif
