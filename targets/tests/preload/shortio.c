/* shortio.c - LD_PRELOAD fault injector for the targets' tests: every
 * socket read and write the program makes goes through here and is made as
 * awkward as the kernel is allowed to make it.
 *
 * On a stream socket each write (write, send, sendto, sendmsg, writev) moves
 * at most 1..NR_SHORTIO_MAX bytes (default 7, drawn per call) and each read
 * (read, recv, recvfrom, recvmsg, readv) returns at most as many; on a
 * non-blocking socket (O_NONBLOCK, or MSG_DONTWAIT on the call) half the
 * calls, at random but never three running on one descriptor and direction,
 * fail with EAGAIN and do nothing.  Datagram sockets get the EAGAINs but no cap (a capped datagram
 * would be a different datagram).  Blocking sockets never get EAGAIN (the
 * kernel never gives one there).  Descriptors that are not sockets are left
 * alone.
 *
 * Environment: NR_SHORTIO_MAX (1-4096, default 7), NR_SHORTIO_EAGAIN (0: no
 * EAGAINs; default 1), NR_SHORTIO_SEED (cap sequence, default 1),
 * NR_SHORTIO_STATS (file that receives, at exit, one line
 * "writes=N short_writes=N write_eagains=N reads=N short_reads=N
 * read_eagains=N", so a test can check the injector really ran).
 *
 * Self-contained and never sanitized: it is preloaded into the normal and
 * the sanitized builds alike (ASan wants verify_asan_link_order=0 then). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define SIO_FDMAX 65536
#define SIO_IOVMAX 64

enum { DIR_WRITE, DIR_READ };
enum { ST_CALLS, ST_SHORT, ST_EAGAIN, ST_N };

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_readv)(int, const struct iovec *, int);

static size_t cap_max = 7;
static int eagain_on = 1;
static unsigned long long seed = 1;
static const char *stats_path;
static atomic_ulong stats[2][ST_N];
static atomic_uchar run[SIO_FDMAX][2]; /* EAGAINs running, per descriptor and direction */
static _Thread_local unsigned long long rng;

/* Look the real functions up and read the settings, once, before main. */
__attribute__((constructor)) static void sio_init(void)
{
    const char *v;

    real_write = dlsym(RTLD_NEXT, "write");
    real_read = dlsym(RTLD_NEXT, "read");
    real_send = dlsym(RTLD_NEXT, "send");
    real_recv = dlsym(RTLD_NEXT, "recv");
    real_sendto = dlsym(RTLD_NEXT, "sendto");
    real_recvfrom = dlsym(RTLD_NEXT, "recvfrom");
    real_sendmsg = dlsym(RTLD_NEXT, "sendmsg");
    real_recvmsg = dlsym(RTLD_NEXT, "recvmsg");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_readv = dlsym(RTLD_NEXT, "readv");
    if ((v = getenv("NR_SHORTIO_MAX")) && atoi(v) >= 1 && atoi(v) <= 4096)
        cap_max = (size_t)atoi(v);
    if ((v = getenv("NR_SHORTIO_EAGAIN")))
        eagain_on = atoi(v) != 0;
    if ((v = getenv("NR_SHORTIO_SEED")))
        seed = strtoull(v, NULL, 10);
    stats_path = getenv("NR_SHORTIO_STATS");
}

/* Write the counters to NR_SHORTIO_STATS at exit. */
__attribute__((destructor)) static void sio_fini(void)
{
    char line[256];
    int fd, n;

    if (!stats_path || !real_write)
        return;
    n = snprintf(line, sizeof(line),
                 "writes=%lu short_writes=%lu write_eagains=%lu reads=%lu short_reads=%lu "
                 "read_eagains=%lu\n",
                 atomic_load(&stats[DIR_WRITE][ST_CALLS]), atomic_load(&stats[DIR_WRITE][ST_SHORT]),
                 atomic_load(&stats[DIR_WRITE][ST_EAGAIN]), atomic_load(&stats[DIR_READ][ST_CALLS]),
                 atomic_load(&stats[DIR_READ][ST_SHORT]), atomic_load(&stats[DIR_READ][ST_EAGAIN]));
    fd = open(stats_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (real_write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}

/* The socket type of fd (SOCK_STREAM, SOCK_DGRAM...), or 0 when fd is not
 * a socket. */
static int sock_type(int fd)
{
    struct stat st;
    int type = 0;
    socklen_t len = sizeof(type);

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return 0;
    return type;
}

/* Next number of this thread's xorshift sequence (seeded per thread). */
static unsigned long long next_rand(void)
{
    if (!rng)
        rng = seed * 0x9e3779b97f4a7c15ull + (unsigned long long)gettid() + 1;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* What to do with one call: 0 pass through, -1 fail it with EAGAIN, or
 * a cap > 0 on the bytes it may move.  len is what the caller asked for. */
static long plan(int fd, int dir, int flags, size_t len)
{
    int type, nonblock;
    size_t cap;

    if (!real_write) /* called before the constructor ran */
        sio_init();
    type = sock_type(fd);
    if (!type)
        return 0;
    atomic_fetch_add(&stats[dir][ST_CALLS], 1);
    nonblock = (flags & MSG_DONTWAIT) || (fcntl(fd, F_GETFL) & O_NONBLOCK);
    /* EAGAIN for half the calls at random (a strict alternation would
     * always hit the same call of a loop that makes two per round), but
     * never three times running on one descriptor and direction. */
    if (eagain_on && nonblock && fd < SIO_FDMAX) {
        if (atomic_load(&run[fd][dir]) < 2 && (next_rand() >> 32 & 1)) {
            atomic_fetch_add(&run[fd][dir], 1);
            atomic_fetch_add(&stats[dir][ST_EAGAIN], 1);
            return -1;
        }
        atomic_store(&run[fd][dir], 0);
    }
    if (type != SOCK_STREAM && type != SOCK_SEQPACKET)
        return 0;
    cap = 1 + (size_t)(next_rand() % cap_max);
    if (cap >= len)
        return 0;
    atomic_fetch_add(&stats[dir][ST_SHORT], 1);
    return (long)cap;
}

/* Copy iov[0..cnt) into out[SIO_IOVMAX] holding at most cap bytes in all.
 * Returns the number of entries used. */
static int cut_iov(const struct iovec *iov, int cnt, size_t cap, struct iovec *out)
{
    int n = 0;

    for (int i = 0; i < cnt && n < SIO_IOVMAX && cap > 0; i++) {
        out[n] = iov[i];
        if (out[n].iov_len > cap)
            out[n].iov_len = cap;
        cap -= out[n].iov_len;
        n++;
    }
    return n;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;

    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* Apply plan p to a (buffer, length) call: returns the length to pass on,
 * or sets errno and returns SIZE_MAX to fail with EAGAIN. */
static size_t apply(long p, size_t len)
{
    if (p < 0) {
        errno = EAGAIN;
        return SIZE_MAX;
    }
    return p > 0 ? (size_t)p : len;
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    size_t n = apply(plan(fd, DIR_WRITE, 0, len), len);

    return n == SIZE_MAX ? -1 : real_write(fd, buf, n);
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    size_t n = apply(plan(fd, DIR_READ, 0, len), len);

    return n == SIZE_MAX ? -1 : real_read(fd, buf, n);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    size_t n = apply(plan(fd, DIR_WRITE, flags, len), len);

    return n == SIZE_MAX ? -1 : real_send(fd, buf, n, flags);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    size_t n = apply(plan(fd, DIR_READ, flags, len), len);

    return n == SIZE_MAX ? -1 : real_recv(fd, buf, n, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *to, socklen_t tolen)
{
    size_t n = apply(plan(fd, DIR_WRITE, flags, len), len);

    return n == SIZE_MAX ? -1 : real_sendto(fd, buf, n, flags, to, tolen);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                        socklen_t *fromlen)
{
    size_t n = apply(plan(fd, DIR_READ, flags, len), len);

    return n == SIZE_MAX ? -1 : real_recvfrom(fd, buf, n, flags, from, fromlen);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    struct iovec iov[SIO_IOVMAX];
    struct msghdr mm;
    long p = plan(fd, DIR_WRITE, flags, iov_total(m->msg_iov, (int)m->msg_iovlen));

    if (p <= 0)
        return apply(p, 0) == SIZE_MAX ? -1 : real_sendmsg(fd, m, flags);
    mm = *m;
    mm.msg_iov = iov;
    mm.msg_iovlen = (size_t)cut_iov(m->msg_iov, (int)m->msg_iovlen, (size_t)p, iov);
    return real_sendmsg(fd, &mm, flags);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    struct iovec iov[SIO_IOVMAX], *orig = m->msg_iov;
    size_t origlen = m->msg_iovlen;
    long p = plan(fd, DIR_READ, flags, iov_total(m->msg_iov, (int)m->msg_iovlen));
    ssize_t r;

    if (p <= 0)
        return apply(p, 0) == SIZE_MAX ? -1 : real_recvmsg(fd, m, flags);
    m->msg_iov = iov;
    m->msg_iovlen = (size_t)cut_iov(orig, (int)origlen, (size_t)p, iov);
    r = real_recvmsg(fd, m, flags);
    m->msg_iov = orig;
    m->msg_iovlen = origlen;
    return r;
}

EXPORT ssize_t writev(int fd, const struct iovec *v, int cnt)
{
    struct iovec iov[SIO_IOVMAX];
    long p = plan(fd, DIR_WRITE, 0, iov_total(v, cnt));

    if (p <= 0)
        return apply(p, 0) == SIZE_MAX ? -1 : real_writev(fd, v, cnt);
    return real_writev(fd, iov, cut_iov(v, cnt, (size_t)p, iov));
}

EXPORT ssize_t readv(int fd, const struct iovec *v, int cnt)
{
    struct iovec iov[SIO_IOVMAX];
    long p = plan(fd, DIR_READ, 0, iov_total(v, cnt));

    if (p <= 0)
        return apply(p, 0) == SIZE_MAX ? -1 : real_readv(fd, v, cnt);
    return real_readv(fd, iov, cut_iov(v, cnt, (size_t)p, iov));
}
