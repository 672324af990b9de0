/* conns.h - tcp-echo-mt's connection threads: a fixed table of at most N
 * slots, one thread per connection running echo_serve_conn, a shared stop
 * descriptor that wakes every thread, and bounded reaping (every thread is
 * joined; nothing is detached). */
#ifndef CONNS_H
#define CONNS_H

#include <pthread.h>

#include "nr_net.h"
#include "srv.h"

struct emt_slot;

struct emt {
    const struct srv *srv;   /* for log lines (srv_log); not owned */
    pthread_mutex_t lock;    /* guards the slots' state and fd */
    struct emt_slot *slots;  /* max entries, owned */
    int max;                 /* capacity (--max-conns) */
    int stop_fd;             /* eventfd, readable once emt_stop is called */
    int idle_ms;             /* per-connection idle bound (<0: none) */
};

/* Set up a table for at most max concurrent connections.  srv is used for
 * logging only and must outlive m.  Returns 0, or -1 with errbuf set. */
int emt_init(struct emt *m, const struct srv *srv, int max, int idle_ms, char *errbuf);

/* Reap the threads that have finished, then hand fd (connected; ownership
 * passes to the table on success) to a new thread echoing it.  peer is the
 * client's address text, copied for log lines.  Returns 0 when started, 1 when
 * all max slots are busy (fd untouched: refuse it), or -errno when the thread
 * could not be created (fd untouched). */
int emt_start(struct emt *m, int fd, const char *peer);

/* Number of connections whose thread has not finished yet. */
int emt_active(struct emt *m);

/* Close fd with an RST instead of a FIN (SO_LINGER {1, 0}): how connections
 * past the capacity are refused. */
void emt_refuse(int fd);

/* Wake every connection thread (they close their client and end) and join
 * them all, waiting at most timeout_ms in total.  Returns the number of
 * threads that did not finish in time (0: all reaped). */
int emt_stop(struct emt *m, int timeout_ms);

/* Release the table (call after emt_stop returned 0). */
void emt_free(struct emt *m);

#endif
