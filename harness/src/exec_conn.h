/* exec_conn.h - what the connection modules share (exec_conn*.c); the
 * steps themselves are declared in exec.h.
 *
 *   exec_conn.c         the connection table: slots, records, addresses,
 *                       shutdown / close / abort
 *   exec_conn_rx.c      the receive buffer of a TCP connection
 *   exec_conn_open.c    connect / listen / accept
 *   exec_conn_send.c    send, and the lookahead that matches while sending
 *   exec_conn_expect.c  expect: one wait loop for TCP, one receive for UDP,
 *                       over the matchers of exec_match.c
 *
 * TCP bytes are read into a per-connection buffer whenever the executor
 * waits, including while it sends, so an echo of a payload larger than the
 * socket buffers cannot deadlock.  Expectations consume from that buffer. */
#ifndef EXEC_CONN_H
#define EXEC_CONN_H

#include "exec.h"
#include "exec_match.h"

#define EXEC_UDP_MAX 65536 /* the largest datagram sent or received */

/* --- exec_conn.c ------------------------------------------------------------ */

/* The open connection step s names, or NULL after exec_fail. */
struct exec_conn *exec_conn_need(struct exec_ctx *c, const struct nr_step *s);

/* Add a connection slot named after step s for fd (nonblocking from now,
 * owned by the slot).  Returns it, or NULL after exec_fail (fd closed). */
struct exec_conn *exec_conn_new(struct exec_ctx *c, const struct nr_step *s, int proto, int fd);

/* Close k's socket, keep its record for the wire check, and remove it from
 * whichever context of c holds it. */
void exec_conn_drop(struct exec_ctx *c, struct exec_conn *k);

/* Append a datagram size to a record's list (dropped when out of memory). */
void exec_conn_note_dgram(uint32_t **v, size_t *n, size_t size);

/* End the lookahead of k (exec_conn_send.c), freeing its match. */
void exec_conn_ahead_end(struct exec_conn *k);

/* Expand the address template t of step s into *a (a unix-domain one when
 * is_unix); a destination must be loopback unless --allow-remote.
 * Returns 0, or -1 after exec_fail. */
int exec_conn_addr(struct exec_ctx *c, const struct nr_step *s, const struct nr_tmpl *t,
                   struct nr_addr *a, int destination, int is_unix);

/* Same family, host and port? */
int exec_conn_addr_equal(const struct nr_addr *a, const struct nr_addr *b);

/* ${name} = the address sa (not inside parallel blocks: the table is shared). */
void exec_conn_publish(struct exec_ctx *c, const char *name, const struct sockaddr *sa);

/* --- exec_conn_rx.c --------------------------------------------------------- */

/* Read what is available into k->rx without blocking (about 1 MiB at
 * most).  Returns the bytes added; sets eof/reset/sock_err. */
size_t exec_rx_drain(struct exec_conn *k);

/* Wait up to ms for more input on k, then drain.  Returns bytes added. */
size_t exec_rx_wait(struct exec_conn *k, int ms);

/* Bytes received and not yet consumed. */
size_t exec_rx_avail(const struct exec_conn *k);

/* How k's input has ended, as the matchers see it. */
enum exec_in_end exec_rx_end(const struct exec_conn *k);

/* Why k's input stopped: "connection reset by peer", "EOF", an error's
 * text, or "timeout" while it is still open. */
const char *exec_rx_end_reason(const struct exec_conn *k);

/* Payload bytes of k that have crossed the wire, both ways (for pacing). */
uint64_t exec_rx_on_wire(const struct exec_conn *k);

#endif
