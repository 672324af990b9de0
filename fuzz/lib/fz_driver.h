/* fz_driver.h - drive in-process server code through real socketpairs from
 * a stateful fuzz input (fz_records.h).
 *
 * For every connection an input names, the driver creates an AF_UNIX stream
 * socketpair, hands one end to the server code under test and plays the
 * client on the other: it writes the records' bytes, half-closes, closes and
 * drains replies.  Everything it creates is released before fz_drive returns
 * (persistent fuzzing runs millions of inputs in one process).  SIGPIPE is
 * ignored process-wide on the first call, as every netrig server does. */
#ifndef FZ_DRIVER_H
#define FZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "fz_records.h"

#define FZ_MAX_OPENS 32          /* connections one input may open in all */
#define FZ_INLINE_CAP (64 * 1024) /* INLINE: client bytes kept per connection */
#define FZ_LOOP_SPINS 64         /* LOOP: most run_once calls per wait */
#define FZ_DRAIN_MS 20           /* THREAD: default wait for a reply */
#define FZ_FINISH_MS 1000        /* THREAD: wait for the server's EOF at the end */

enum fz_mode {
    /* serve(fd) is called synchronously once the client's write side is shut
     * (a half-close/close record, or the end of the input); by then all of
     * the connection's bytes are queued, so serving never blocks on input.
     * Drain records on a connection not yet served read nothing. */
    FZ_MODE_INLINE,
    /* serve(fd) runs in a thread of its own from the connection's first
     * record; records are applied as they come and threads are joined
     * before fz_drive returns. */
    FZ_MODE_THREAD,
    /* add(fd) hands the connection to an event loop; the driver calls
     * run_once() after every record and while waiting for replies. */
    FZ_MODE_LOOP,
    /* serve(fd) is called synchronously when the connection opens and must
     * return at once, having handed fd to threads of the server's own (as a
     * thread-per-connection server's accept loop does); replies are waited
     * for as in THREAD, and the harness joins the server's threads. */
    FZ_MODE_SPAWN,
};

struct fz_server {
    enum fz_mode mode;
    /* INLINE, THREAD, SPAWN: serve one connection of slot conn
     * (0..FZ_MAX_CONNS-1); owns fd and must close it. */
    void (*serve)(void *ctx, unsigned conn, int fd);
    /* LOOP: take ownership of a new connection fd (it is blocking; set
     * O_NONBLOCK if the server would).  Returns 0, or -1 if refused, in
     * which case the callee has closed fd. */
    int (*add)(void *ctx, int fd);
    /* LOOP: one iteration of the event loop that must not block.  Returns
     * the number of events it handled: 0 when nothing was ready. */
    int (*run_once)(void *ctx);
    /* Optional: reply bytes the client of connection conn read, in order. */
    void (*on_reply)(void *ctx, unsigned conn, const uint8_t *buf, size_t len);
    /* Optional: client bytes the server end accepted on connection conn, in
     * order (what the driver dropped, over a cap or a full buffer, is not
     * reported): the reference a content oracle compares replies with. */
    void (*on_send)(void *ctx, unsigned conn, const uint8_t *buf, size_t len);
    /* Optional: the client of connection conn has closed (after its last
     * drain); lets a harness check a whole reply.  eof is 1 when the client
     * had read the server's orderly end of stream (a read of 0 bytes) before
     * closing, so every reply byte was read; 0 when it closed first or saw
     * an error (a reset). */
    void (*on_close)(void *ctx, unsigned conn, int eof);
    void *ctx;
    int drain_ms; /* THREAD, SPAWN: wait for a reply per drain record (0: FZ_DRAIN_MS) */
    /* THREAD, SPAWN: the server talks first (a greeting), so a drain on a
     * fresh connection waits for it; otherwise a drain waits only for the
     * answer to bytes sent since the previous drain. */
    int speaks_first;
};

/* Play input data[0..size) against srv.  Returns the number of records
 * applied, or -1 when a resource ran out (socketpair, thread): the input is
 * then abandoned, everything opened so far released. */
int fz_drive(const struct fz_server *srv, const uint8_t *data, size_t size);

#endif
