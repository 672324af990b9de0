/* nr_err.h - the error convention of the netrig library.
 *
 * Functions return 0 (or a non-negative count/fd) on success and a negative
 * value on failure.  Human-readable detail goes into a caller-supplied
 * buffer of NR_ERRBUF_SIZE bytes, like libpcap's errbuf. */
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
