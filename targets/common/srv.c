/* srv.c - shared server plumbing (see srv.h). */
#define _GNU_SOURCE
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

void srv_init(struct srv *s, const char *name, int type, int default_port)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->bind = "127.0.0.1";
    s->port = default_port;
    s->type = type;
    s->fd = s->sigfd = s->reserve_fd = -1;
}

int srv_option(struct srv *s, int opt, const char *arg)
{
    char *end;
    long v;

    switch (opt) {
    case 'b':
        s->bind = arg;
        return 0;
    case 'p':
        errno = 0;
        v = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || errno || v < 0 || v > 65535) {
            fprintf(stderr, "%s: --port: expected 0-65535, got '%s'\n", s->name, arg);
            return -1;
        }
        s->port = (int)v;
        return 0;
    case 'q':
        s->quiet = 1;
        return 0;
    default:
        return 1;
    }
}

static int acquire_socket(struct srv *s, char *errbuf)
{
    struct nr_addr addr;
    int fd = nr_activation_fd(), type;
    socklen_t tlen = sizeof(type);

    if (fd >= 0) {
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
            return nr_seterr_errno(errbuf, errno, "activation fd 3");
        if (type != s->type)
            return nr_seterr(errbuf, "activation fd 3 is not a %s socket",
                             s->type == SOCK_STREAM ? "stream" : "datagram");
        s->fd = fd;
        return 0;
    }
    if (nr_addr_from_host(s->bind, s->port, &addr, errbuf) < 0)
        return -1;
    s->fd = nr_bind_socket(&addr, s->type, 128, errbuf);
    return s->fd < 0 ? -1 : 0;
}

int srv_start(struct srv *s)
{
    char errbuf[NR_ERRBUF_SIZE], as[NR_ADDRSTR_SIZE];
    sigset_t set;
    int r;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        srv_err(s, "signalfd: %s", strerror(errno));
        return -1;
    }
    if (acquire_socket(s, errbuf) < 0 || nr_local_addr(s->fd, &s->local, errbuf) < 0) {
        srv_err(s, "%s", errbuf);
        return -1;
    }
    if ((r = nr_set_nonblock(s->fd, 1)) < 0) { /* accept after poll must never block */
        srv_err(s, "O_NONBLOCK on listening socket: %s", strerror(-r));
        return -1;
    }
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    printf("listening on %s\n", nr_addr_format((struct sockaddr *)&s->local.ss, as, sizeof(as)));
    fflush(stdout);
    return 0;
}

int srv_accept(struct srv *s, struct nr_addr *peer)
{
    int fd, e;

    peer->len = sizeof(peer->ss);
    fd = accept4(s->fd, (struct sockaddr *)&peer->ss, &peer->len, SOCK_CLOEXEC);
    if (fd >= 0)
        return fd;
    e = errno;
    if (e != EMFILE && e != ENFILE)
        return -e;
    if (s->reserve_fd < 0) {
        srv_err(s, "accept: %s", strerror(e));
        poll(NULL, 0, 100); /* no reserve: back off instead of spinning */
        return -e;
    }
    /* accept4 fails for want of a descriptor before it looks at the queue:
     * with the reserve's, take the waiting connection and close it */
    close(s->reserve_fd);
    fd = nr_wait_fd(s->fd, POLLIN, 0) > 0 ? accept4(s->fd, NULL, NULL, SOCK_CLOEXEC) : -1;
    if (fd >= 0) {
        close(fd);
        srv_err(s, "accept: %s: shedding one connection", strerror(e));
    } else { /* none waited (the listener may block: it was polled first) */
        e = EAGAIN;
    }
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return -e;
}

int srv_next_conn(struct srv *s, char *peerstr)
{
    struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = s->sigfd, .events = POLLIN } };
    struct nr_addr peer;
    int fd;

    if (poll(p, 2, -1) < 0)
        return -errno; /* EINTR: a signal other than the two */
    if (p[1].revents)
        return SRV_STOP;
    if (!p[0].revents)
        return -EAGAIN;
    fd = srv_accept(s, &peer);
    if (fd >= 0)
        nr_addr_format((struct sockaddr *)&peer.ss, peerstr, NR_ADDRSTR_SIZE);
    return fd;
}

int srv_stopping(struct srv *s)
{
    struct pollfd p = { .fd = s->sigfd, .events = POLLIN };

    return poll(&p, 1, 0) > 0;
}

static void vlog(const struct srv *s, const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s: ", s->name);

    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    fprintf(stderr, "%s\n", line);
}

void srv_log(const struct srv *s, const char *fmt, ...)
{
    va_list ap;

    if (s->quiet)
        return;
    va_start(ap, fmt);
    vlog(s, fmt, ap);
    va_end(ap);
}

void srv_err(const struct srv *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(s, fmt, ap);
    va_end(ap);
}

void srv_close(struct srv *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    s->fd = s->sigfd = s->reserve_fd = -1;
}
