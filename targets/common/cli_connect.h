/* cli_connect.h - how the client targets (http-get, smtp-send) reach their
 * server: resolve a host name, skip every address that is not loopback
 * unless remote destinations are allowed, connect to the first one that
 * answers, with a timeout.  Errors follow nr_err.h: negative codes that
 * name the cause (CLI_E*, for the clients' exit codes) with one line in the
 * caller's errbuf. */
#ifndef CLI_CONNECT_H
#define CLI_CONNECT_H

#include "nr_err.h"

/* Results of cli_connect besides a descriptor. */
#define CLI_ERESOLVE (-1) /* the name does not resolve */
#define CLI_EREMOTE (-2)  /* every address was non-loopback and remote is not allowed */
#define CLI_ENET (-3)     /* refused, unreachable, reset */
#define CLI_ETIMEOUT (-4) /* no answer within timeout_ms */

/* Connect to host:port (port as decimal text).  Returns the connected,
 * blocking fd (the caller closes it), or a negative CLI_E* with one line
 * in errbuf (NR_ERRBUF_SIZE): the resolver's message, the first refused
 * non-loopback address, or the connect error. */
int cli_connect(const char *host, const char *port, int allow_remote, int timeout_ms,
                char *errbuf);

#endif
