/* nr_net.h - socket plumbing shared by the targets and the harness.
 *
 * Every function retries EINTR and creates descriptors close-on-exec.
 * Failures follow nr_err.h: the address, bind and connect functions return
 * -1 with one line in the caller's errbuf (NR_ERRBUF_SIZE bytes, may be
 * NULL); the I/O wrappers (nr_wait_fd, nr_write_all, nr_read,
 * nr_set_nonblock) take no errbuf and return -errno. */
#ifndef NR_NET_H
#define NR_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nr_err.h"

/* Longest "[v6addr%scope]:port" text nr_addr_format can produce. */
#define NR_ADDRSTR_SIZE 72

/* An address with its length, as bind/connect want it. */
struct nr_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Parse a numeric host ("127.0.0.1", "::1", "[::1]") and port into *out.
 * No name resolution.  Returns 0, or -1 with errbuf set. */
int nr_addr_from_host(const char *host, int port, struct nr_addr *out, char *errbuf);

/* Parse "HOST:PORT" / "[V6]:PORT" (numeric only) into *out.
 * Returns 0, or -1 with errbuf set. */
int nr_addr_parse(const char *text, struct nr_addr *out, char *errbuf);

/* A unix-domain address: a path, or "@name" in the abstract namespace.
 * Returns 0, or -1 with errbuf set (empty, or too long for sun_path). */
int nr_addr_unix(const char *text, struct nr_addr *out, char *errbuf);

/* Write "1.2.3.4:80", "[::1]:80", a unix path or "@name" into buf
 * (NR_ADDRSTR_SIZE bytes; a unix path is cut to fit).
 * Returns buf, for use in printf arguments. */
char *nr_addr_format(const struct sockaddr *sa, char *buf, size_t buflen);

/* Port of an AF_INET/AF_INET6 address, or -1 for another family (a query,
 * not a failure: a unix address has no port). */
int nr_addr_port(const struct sockaddr *sa);

/* True when the address is loopback (127/8 or ::1 or ::ffff:127/104) or a
 * unix-domain one. */
int nr_addr_is_loopback(const struct sockaddr *sa);

/* Create a socket of type SOCK_STREAM or SOCK_DGRAM bound to addr (with
 * SO_REUSEADDR; IPV6_V6ONLY for v6) and, for streams, listening with the
 * given backlog.  Returns the fd, or -1 with errbuf set. */
int nr_bind_socket(const struct nr_addr *addr, int type, int backlog, char *errbuf);

/* Local address of fd into *out. Returns 0, or -1 with errbuf set. */
int nr_local_addr(int fd, struct nr_addr *out, char *errbuf);

/* Connect a new TCP socket to addr, waiting at most timeout_ms (<0: forever).
 * Returns the connected, blocking fd, or -1 with errbuf set; *err_out (if
 * non-NULL) receives the errno of the failure (ECONNREFUSED, ETIMEDOUT...),
 * *local_out (if non-NULL) the socket's local address, also on failure. */
int nr_connect_tcp(const struct nr_addr *addr, int timeout_ms, int *err_out,
                   struct nr_addr *local_out, char *errbuf);

/* Wait until fd is ready for events (POLLIN/POLLOUT) or timeout_ms passes
 * (<0: forever).  Tri-state: returns > 0 ready (POLLERR/POLLHUP/POLLNVAL
 * count as ready: the next call on fd reports them), 0 timed out, or -errno
 * when poll itself fails (-ENOMEM, -EINVAL). */
int nr_wait_fd(int fd, short events, int timeout_ms);

/* Write all len bytes to fd, retrying EINTR and partial writes, and waiting
 * with poll on EAGAIN up to timeout_ms per stall (<0: forever).
 * Returns 0, or -errno (-ETIMEDOUT on a stall, -EPIPE, -ECONNRESET...). */
int nr_write_all(int fd, const void *buf, size_t len, int timeout_ms);

/* read(2) retrying EINTR. Returns bytes read, 0 on EOF, or -errno. */
ssize_t nr_read(int fd, void *buf, size_t len);

/* Set or clear O_NONBLOCK. Returns 0, or -errno (-EBADF). */
int nr_set_nonblock(int fd, int on);

/* Monotonic clock in milliseconds. */
int64_t nr_now_ms(void);

/* Milliseconds left until deadline_ms (monotonic), clamped to >= 0; a
 * negative deadline means "no deadline" and returns -1. */
int nr_ms_left(int64_t deadline_ms);

/* The first socket passed by systemd-style socket activation: returns fd 3
 * when LISTEN_PID is this process and LISTEN_FDS >= 1, else -1 (a query:
 * none was passed, which is not a failure).
 * Unsets the variables so children do not inherit them. */
int nr_activation_fd(void);

#endif
