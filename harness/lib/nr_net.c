/* nr_net.c - socket helpers: addresses, bind/listen, connect with timeout,
 * full writes, socket activation. */
#define _GNU_SOURCE
#include "nr_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int nr_addr_from_host(const char *host, int port, struct nr_addr *out, char *errbuf)
{
    char tmp[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;

    if (port < 0 || port > 65535)
        return nr_seterr(errbuf, "port %d out of range 0-65535", port);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof(tmp))
            return nr_seterr(errbuf, "address too long: %s", host);
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        host = tmp;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->len = sizeof(*v6);
        return 0;
    }
    return nr_seterr(errbuf, "not a numeric IPv4 or IPv6 address: '%s'", host);
}

int nr_addr_parse(const char *text, struct nr_addr *out, char *errbuf)
{
    const char *colon = strrchr(text, ':');
    char host[INET6_ADDRSTRLEN + 2], *end;
    long port;
    size_t hlen;

    if (!colon || colon == text)
        return nr_seterr(errbuf, "expected HOST:PORT, got '%s'", text);
    if (text[0] != '[' && memchr(text, ':', (size_t)(colon - text)))
        return nr_seterr(errbuf, "IPv6 address needs brackets: '[addr]:port', got '%s'", text);
    hlen = (size_t)(colon - text);
    if (hlen >= sizeof(host))
        return nr_seterr(errbuf, "address too long: '%s'", text);
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
        return nr_seterr(errbuf, "bad port in '%s'", text);
    return nr_addr_from_host(host, (int)port, out, errbuf);
}

char *nr_addr_format(const struct sockaddr *sa, char *buf, size_t buflen)
{
    char ip[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
        snprintf(buf, buflen, "%s:%u", ip, ntohs(v4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, buflen, "[%s]:%u", ip, ntohs(v6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t max = sizeof(un->sun_path) - 1;
        if (un->sun_path[0] == '\0') /* abstract: "@name"; unnamed: "@" */
            snprintf(buf, buflen, "@%.*s", (int)strnlen(un->sun_path + 1, max), un->sun_path + 1);
        else
            snprintf(buf, buflen, "%.*s", (int)strnlen(un->sun_path, max + 1), un->sun_path);
    } else {
        snprintf(buf, buflen, "(family %d)", sa->sa_family);
    }
    return buf;
}

int nr_addr_unix(const char *text, struct nr_addr *out, char *errbuf)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
    size_t n = strlen(text);

    memset(out, 0, sizeof(*out));
    if (n == 0 || n >= sizeof(un->sun_path) || (text[0] == '@' && n < 2))
        return nr_seterr(errbuf, "'%s': expected a socket path of 1-107 bytes or @name", text);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, text, n);
    if (text[0] == '@') /* the abstract namespace: a leading NUL, no terminator */
        un->sun_path[0] = '\0';
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (text[0] != '@'));
    return 0;
}

int nr_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

int nr_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return (a >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return sa->sa_family == AF_UNIX; /* never leaves the machine */
}

int nr_bind_socket(const struct nr_addr *addr, int type, int backlog, char *errbuf)
{
    int fd, one = 1;
    char as[NR_ADDRSTR_SIZE];

    fd = socket(addr->ss.ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nr_seterr_errno(errbuf, errno, "socket");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto error;
    if (addr->ss.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        goto error;
    if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
        goto error;
    if (type == SOCK_STREAM && listen(fd, backlog) < 0)
        goto error;
    return fd;
error:
    nr_seterr_errno(errbuf, errno, "bind/listen on %s",
                    nr_addr_format((const struct sockaddr *)&addr->ss, as, sizeof(as)));
    close(fd);
    return -1;
}

int nr_local_addr(int fd, struct nr_addr *out, char *errbuf)
{
    out->len = sizeof(out->ss);
    if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) < 0)
        return nr_seterr_errno(errbuf, errno, "getsockname");
    return 0;
}

int nr_wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    int64_t deadline = timeout_ms < 0 ? -1 : nr_now_ms() + timeout_ms;
    int r;

    for (;;) {
        r = poll(&p, 1, nr_ms_left(deadline));
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

int nr_connect_tcp(const struct nr_addr *addr, int timeout_ms, int *err_out,
                   struct nr_addr *local_out, char *errbuf)
{
    char as[NR_ADDRSTR_SIZE];
    int fd, err = 0, r;
    socklen_t elen = sizeof(err);

    nr_addr_format((const struct sockaddr *)&addr->ss, as, sizeof(as));
    fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err = errno;
        goto error;
    }
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            if (err == ENOENT && addr->ss.ss_family == AF_UNIX && err_out) {
                /* no socket at that path: nobody listens, as a refusal says */
                *err_out = ECONNREFUSED;
                close(fd);
                return nr_seterr_errno(errbuf, ENOENT, "connect to %s (refused)", as);
            }
            goto error;
        }
        r = nr_wait_fd(fd, POLLOUT, timeout_ms);
        if (r <= 0) {
            err = r == 0 ? ETIMEDOUT : -r;
            goto error;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            err = errno;
        if (err)
            goto error;
    }
    if ((r = nr_set_nonblock(fd, 0)) < 0) {
        err = -r;
        goto error;
    }
    if (err_out)
        *err_out = 0;
    if (local_out)
        nr_local_addr(fd, local_out, NULL);
    return fd;
error:
    if (err_out)
        *err_out = err;
    if (local_out && fd >= 0)
        nr_local_addr(fd, local_out, NULL);
    if (fd >= 0)
        close(fd);
    return nr_seterr_errno(errbuf, err, "connect to %s", as);
}

int nr_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    const uint8_t *p = buf;
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = nr_wait_fd(fd, POLLOUT, timeout_ms);
            if (r == 0)
                return -ETIMEDOUT;
            if (r < 0)
                return r;
            continue;
        }
        return n < 0 ? -errno : -EIO;
    }
    return 0;
}

ssize_t nr_read(int fd, void *buf, size_t len)
{
    ssize_t n;

    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

int nr_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0)
        return -errno;
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int64_t nr_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nr_ms_left(int64_t deadline_ms)
{
    int64_t left;

    if (deadline_ms < 0)
        return -1;
    left = deadline_ms - nr_now_ms();
    if (left < 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

int nr_activation_fd(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    int ok;

    if (!pid || !fds)
        return -1;
    ok = strtol(pid, NULL, 10) == (long)getpid() && strtol(fds, NULL, 10) >= 1;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!ok)
        return -1;
    fcntl(3, F_SETFD, FD_CLOEXEC);
    return 3;
}
