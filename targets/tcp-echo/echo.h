/* echo.h - the echo protocol shared by tcp-echo and tcp-echo-mt: move every
 * byte read from one descriptor to another until EOF, honouring a stop
 * descriptor, so it can be driven by a server thread or by a fuzz harness
 * through a socketpair. */
#ifndef ECHO_H
#define ECHO_H

#include <stdint.h>

#define ECHO_STOPPED 1 /* echo_pump / echo_serve_conn: stop_fd became readable */

/* Copy bytes from in_fd to out_fd (both should be non-blocking; they may be
 * the same socket) until in_fd reaches EOF and everything read has been
 * written.  Never calls a blocking read or write: each wait is a poll on the
 * descriptor and on stop_fd (-1: none).  idle_ms bounds each wait without
 * progress (<0: no bound).  *moved (may be NULL) receives the number of bytes
 * written.  Returns 0 on EOF with everything echoed, ECHO_STOPPED when
 * stop_fd became readable, or -errno (-ECONNRESET, -EPIPE, -ETIMEDOUT after
 * idle_ms without progress...).  Closes nothing. */
int echo_pump(int in_fd, int out_fd, int stop_fd, int idle_ms, uint64_t *moved);

/* Serve one connected socket (or socketpair end) fd: make it non-blocking and
 * echo everything back until the peer half-closes or closes (see echo_pump
 * for stop_fd, idle_ms, moved and the return value).  The caller keeps
 * ownership of fd and closes it. */
int echo_serve_conn(int fd, int stop_fd, int idle_ms, uint64_t *moved);

/* One-word description of an echo_pump result for log lines ("closed",
 * "stopped", or strerror of the error).  Returns a static string. */
const char *echo_result_str(int r);

/* Parse a decimal integer in [min, max] from arg (the whole string).
 * Returns 0 with *out set, or -1. */
int echo_parse_int(const char *arg, int min, int max, int *out);

#endif
