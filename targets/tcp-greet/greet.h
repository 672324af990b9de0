/* greet.h - tcp-greet's protocol: one greeting line, then close. */
#ifndef GREET_H
#define GREET_H

#include <stddef.h>
#include <stdint.h>

#define GREET_DEFAULT "Welcome!"
#define GREET_MAX 4096 /* longest greeting, in bytes, without the newline */

/* Check that msg[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF) and holds no CR, LF or NUL, so it is one line.
 * Returns 0, or -1 with the offset of the first bad byte in *bad_off. */
int greet_validate(const uint8_t *msg, size_t len, size_t *bad_off);

/* Build the greeting line "msg\n" into out[cap].  Returns its length, or -1
 * when it does not fit. */
long greet_line(const uint8_t *msg, size_t len, uint8_t *out, size_t cap);

/* Serve one connection: send the line and close fd.  Returns 0, or -errno
 * from the write (the connection is closed either way). */
int greet_serve(int fd, const uint8_t *line, size_t len, int timeout_ms);

#endif
