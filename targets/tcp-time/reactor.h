/* reactor.h - a tiny epoll event loop in the manner of redis' ae.c: register
 * a descriptor with an event mask and a callback, change the mask, remove
 * it, and run one round of dispatch at a time.  No globals; single thread.
 * Errors follow nr_err.h: creation returns NULL with a line in errbuf, the
 * rest are thin epoll wrappers and return -errno. */
#ifndef REACTOR_H
#define REACTOR_H

#include <stdint.h>

struct tt_loop;

/* Called with the fd's ready events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void tt_io_fn(struct tt_loop *l, int fd, uint32_t events, void *arg);

/* Create an empty loop.  Returns it (caller frees with tt_loop_destroy), or
 * NULL with errbuf set. */
struct tt_loop *tt_loop_create(char *errbuf);

/* Watch fd for events (EPOLLIN/EPOLLOUT, level-triggered), calling fn(arg).
 * The loop does not own fd.  Returns 0, or -errno. */
int tt_loop_add(struct tt_loop *l, int fd, uint32_t events, tt_io_fn *fn, void *arg);

/* Change the events watched for a registered fd.  Returns 0, or -errno. */
int tt_loop_mod(struct tt_loop *l, int fd, uint32_t events);

/* Stop watching fd (call before closing it).  Events of fd already fetched
 * in the current round are not delivered.  Returns 0, or -errno. */
int tt_loop_del(struct tt_loop *l, int fd);

/* Wait up to timeout_ms (<0: forever) and dispatch the ready callbacks.
 * Tri-state: returns the number of events dispatched (> 0), 0 on timeout or
 * EINTR, or -errno when epoll_wait fails. */
int tt_loop_run_once(struct tt_loop *l, int timeout_ms);

/* Free the loop (registered descriptors are not closed). */
void tt_loop_destroy(struct tt_loop *l);

#endif
