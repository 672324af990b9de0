/* time_reply.h - tcp-time's protocol: each chunk of data read from a client
 * is answered with "[<ctime>] <data>", ctime without its newline. */
#ifndef TIME_REPLY_H
#define TIME_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Length of "[Mon Nov 23 17:55:39 2026] " for four-digit years. */
#define TT_PREFIX_LEN 27

/* Format "[<ctime of t in local time>] " followed by data[0..len) into
 * out[cap] (not NUL-terminated; data may hold any bytes).  Returns the reply
 * length; -E2BIG when it does not fit in cap (nothing usable written), with
 * the length it needs in *need when need is non-NULL; -EOVERFLOW when t has
 * no calendar representation.  Caller owns all buffers. */
long tt_reply_format(time_t t, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                     size_t *need);

#endif
