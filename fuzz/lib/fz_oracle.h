/* fz_oracle.h - helpers for harness oracles: a growable log of the bytes a
 * client sent (the reference replies are compared with) and a failure that
 * aborts, so AFL++ and the replay program report it as a crash. */
#ifndef FZ_ORACLE_H
#define FZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes logged in order; memory is kept across inputs (persistent mode). */
struct fz_log {
    uint8_t *buf;
    size_t len, cap;
};

/* Append buf[0..len) to l (aborts when out of memory: an oracle that lost
 * its reference cannot judge). */
void fz_log_add(struct fz_log *l, const uint8_t *buf, size_t len);

/* Forget the logged bytes, keeping the memory. */
void fz_log_clear(struct fz_log *l);

/* Echo oracle: reply bytes buf[0..len) that connection conn's client read
 * after `at` earlier ones must be the logged bytes at offset at, in order
 * (fz_fail otherwise, naming harness).  Returns at + len. */
size_t fz_log_match(const struct fz_log *l, size_t at, const uint8_t *buf, size_t len,
                    const char *harness, unsigned conn);

/* An oracle was violated: print "harness: message" on stderr and abort. */
void fz_fail(const char *harness, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

#endif
