/* nr_sockinfo.h - the sockets of the caller's network namespace, as the
 * kernel lists them (/proc/net/tcp, tcp6, udp, udp6), and the sockets a
 * process tree holds (/proc/PID/fd).  Used to tell when a program that
 * prints nothing is ready: its listening socket exists, no connection
 * consumed. */
#ifndef NR_SOCKINFO_H
#define NR_SOCKINFO_H

#include <stddef.h>
#include <sys/types.h>

#include "nr_err.h"

/* Find a socket that serves in the caller's network namespace: a listening
 * TCP socket, else a bound, unconnected UDP socket.  With port > 0, one bound
 * to that port (any owner); with port 0, one held by process owner or one of
 * its descendants (as the caller's /proc shows them).  Writes the address a
 * client of the namespace uses, "HOST:PORT" or "[V6]:PORT" (a wildcard bind
 * becomes 127.0.0.1 or [::1]), into out[outlen].  Returns 1 found, 0 not
 * (yet), -1 with errbuf set when the tables cannot be read. */
int nr_sock_find_server(int port, pid_t owner, char *out, size_t outlen, char *errbuf);

#endif
