/* hello_reply.h - udp-echo's protocol: each datagram "<data>" is answered
 * with one datagram "Hello, <data>!". */
#ifndef HELLO_REPLY_H
#define HELLO_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define HELLO_OVERHEAD 8        /* strlen("Hello, ") + strlen("!") */
#define HELLO_MAX_UDP4 65507    /* largest UDP payload over IPv4 */
#define HELLO_MAX_UDP6 65527    /* largest UDP payload over IPv6 (no jumbograms) */

/* Format "Hello, " data[0..len) "!" into out[cap] (data may hold any bytes,
 * including none; out is not NUL-terminated).  Returns the reply length, or
 * -E2BIG when it needs more than cap bytes (nothing usable written).  Caller
 * owns the buffers. */
long hello_reply_format(const uint8_t *data, size_t len, uint8_t *out, size_t cap);

/* Largest UDP payload for a socket of address family af: HELLO_MAX_UDP6 for
 * AF_INET6, HELLO_MAX_UDP4 for anything else (including AF_UNIX test pairs). */
size_t hello_max_payload(int af);

#endif
