/* nr_err.h - the error convention of the netrig library (harness/lib) and
 * of the targets' shared code (targets/common, the tcp-time reactor), which
 * link the same library.
 *
 * 1. A function that can fail returns a negative value on failure and 0, or
 *    a non-negative result (descriptor, count, pid), on success; one that
 *    returns a pointer returns NULL on failure and takes an errbuf.  Nothing
 *    is reported through errno: a caller never reads errno after a call.
 * 2. Text.  A function whose failure a person has to read about (an address
 *    that does not parse, a program not found, a file that cannot be opened)
 *    takes `char *errbuf` as its last parameter: NR_ERRBUF_SIZE bytes, like
 *    libpcap's errbuf, or NULL for no text.  On failure it writes one line
 *    there and returns -1 (`return nr_seterr(errbuf, ...)`), unless its
 *    comment names other negative results for causes a caller acts on
 *    (cli_connect's CLI_E*, a parser's "malformed"/"too long").  A function
 *    that makes no system call and can fail for one plain cause only (a
 *    table lookup that finds nothing, an in-memory builder out of memory)
 *    returns -1 for it without an errbuf, as its comment says.
 * 3. Codes.  A function whose failure one errno value says completely (the
 *    thin wrappers of read, write, poll, fcntl, accept, epoll) takes no
 *    errbuf and returns -errno: callers act on the cause (-EAGAIN: retry,
 *    -ETIMEDOUT, -EPIPE) and print strerror(-r).  Such a function never
 *    returns a bare -1 (which would read as -EPERM).
 * 4. Waits are tri-state, and say so in their comment: > 0 ready (or 1
 *    reaped, found), 0 timed out, negative as in 2 or 3.
 * 5. Not failures: a predicate returns 1/0; a query with no answer (the port
 *    of a unix address, no socket-activation fd) returns -1 as its comment
 *    says; an outcome that is not an error (nr_proc_stop had to kill)
 *    returns 1/0.
 *
 * Why two forms and not one: the text form is for callers that report and
 * give up (the harness, a target's start-up), the code form for the loops
 * of servers and clients that decide per cause and must not format text on
 * their hot path.  A function that needs both returns -1 with text and hands
 * the errno out through a parameter (nr_connect_tcp's err_out). */
#ifndef NR_ERR_H
#define NR_ERR_H

#include <stddef.h>

#define NR_ERRBUF_SIZE 256

/* Format a message into errbuf (may be NULL: then nothing is written).
 * Always returns -1 so callers can write `return nr_seterr(...)`. */
int nr_seterr(char *errbuf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like nr_seterr, appending ": strerror(errnum)". Returns -1. */
int nr_seterr_errno(char *errbuf, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
