/* preload.c - LD_PRELOAD desocketing: serve an unmodified TCP server's
 * connections from a stateful fuzz input (fz_records.h) instead of the
 * network, so afl-fuzz (forkserver + AFL_PRELOAD) can fuzz the binary.
 *
 * The first IPv4/IPv6 stream socket the program binds becomes, in place
 * (same descriptor number and flags), an AF_UNIX listener on an abstract
 * address private to the process; nothing is bound on the network.  When
 * the program listens on it, the input ($NETRIG_FUZZ_INPUT, else stdin) is
 * played as one client per conn_id; accept, poll and epoll all see real
 * sockets.  Records that need not wait for the program are played at once,
 * inside listen(); when that is the whole input (no drain owes a reply
 * before further records, at most PL_INLINE_MAX bytes sent, no more
 * connections than the listen backlog) the clients stay half-closed and,
 * once the program has accepted and closed every connection, close() makes
 * the listener readable.  Otherwise a helper thread plays the rest, waiting
 * where drains say so; at the end every client half-closes, reads until EOF
 * (at most NETRIG_FUZZ_FINISH_MS, default 1000) and closes, and once the
 * program has closed every accepted connection (same bound) the thread
 * makes the listener readable.  Either way the program's next accept() ends
 * the process with _exit(0).  A crash in the program stays a crash.  With
 * AFL_DEFER_FORKSRV=1 an afl-clang-fast program forks its executions at the
 * listener's bind (fork_here()).
 *
 * Environment: NETRIG_FUZZ_INPUT (input file; default stdin),
 * NETRIG_FUZZ_DRAIN_MS (wait for a reply per drain record, default 50),
 * NETRIG_FUZZ_SPEAKS_FIRST (1: a drain on a fresh connection waits for the
 * program's greeting; default 0: drains wait only for answers),
 * NETRIG_FUZZ_FINISH_MS, NETRIG_FUZZ_REPLIES (file receiving every reply
 * chunk as a FZ_SEND record of its conn_id, for tests). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lib/fz_player.h"
#include "../lib/fz_records.h"

#define EXPORT __attribute__((visibility("default")))
#define PL_FDMAX 4096          /* accepted descriptors tracked */
#define PL_INPUT_MAX (1u << 20) /* input bytes read */
#define PL_STACK (128u << 10)   /* helper thread stack (its deepest frame, the
                                 * player's read, holds 16 KiB) */
#define PL_MAX_OPENS 32         /* connections one input may open */
#define PL_INLINE_MAX (32u << 10) /* bytes an input may send and still be played inline */

static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_close)(int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);

static pthread_once_t pl_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pl_lock = PTHREAD_MUTEX_INITIALIZER;
static int pl_listener = -1;             /* the desocketed listener's fd */
static struct sockaddr_storage pl_local; /* address the program asked for */
static socklen_t pl_local_len;
static struct sockaddr_un pl_un;         /* abstract address clients connect to */
static socklen_t pl_un_len;
static int pl_started;
static atomic_int pl_done;               /* input played: next accept exits */
static atomic_int pl_live;               /* accepted and not yet closed */
static pthread_cond_t pl_closed = PTHREAD_COND_INITIALIZER; /* pl_live reached 0 (pl_lock) */
static atomic_uchar pl_accepted[PL_FDMAX];
static atomic_int pl_peers;
static int pl_backlog;                   /* connections that fit the listen queue */
static atomic_int pl_fed;                /* inline mode: the whole input is played */
static atomic_int pl_opened;             /* clients connected */
static atomic_int pl_nacc;               /* connections accepted */

static void pl_init(void)
{
    real_bind = dlsym(RTLD_NEXT, "bind");
    real_listen = dlsym(RTLD_NEXT, "listen");
    real_accept = dlsym(RTLD_NEXT, "accept");
    real_accept4 = dlsym(RTLD_NEXT, "accept4");
    real_close = dlsym(RTLD_NEXT, "close");
    real_getsockname = dlsym(RTLD_NEXT, "getsockname");
    real_getpeername = dlsym(RTLD_NEXT, "getpeername");
    real_setsockopt = dlsym(RTLD_NEXT, "setsockopt");
}

static void pl_setup(void)
{
    pthread_once(&pl_once, pl_init);
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);

    return v && *v ? atoi(v) : dflt;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the client side, in the helper thread ---------------------------- */

/* The clients are played by fz_player.c (shared with the in-process
 * driver, compiled into this library: it needs only libc). */
static struct fz_player pl_pl;  /* the clients: played inline, then by the helper */
static struct nr_cursor pl_cur; /* the next record to play */
static int pl_replies = -1;     /* NETRIG_FUZZ_REPLIES fd or -1 */
static int pl_drain_ms, pl_finish_ms;

static void log_reply(void *ctx, unsigned i, const uint8_t *buf, size_t len)
{
    uint8_t hdr[FZ_REC_HDR] = { (uint8_t)i, FZ_SEND, (uint8_t)(len >> 8), (uint8_t)len };

    (void)ctx;
    if (pl_replies < 0)
        return;
    if (write(pl_replies, hdr, sizeof(hdr)) < 0 || write(pl_replies, buf, len) < 0)
        pl_replies = -1;
}

static int connect_one(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&pl_un, pl_un_len) < 0) {
        real_close(fd);
        return -1;
    }
    return fd;
}

/* The player's open hook: a client connected to the desocketed listener,
 * or -1 (the record is ignored). */
static int client_open(void *ctx, unsigned conn)
{
    int fd = connect_one();

    (void)ctx;
    (void)conn;
    if (fd >= 0)
        atomic_fetch_add(&pl_opened, 1);
    return fd;
}

static const struct fz_player_ops pl_ops = { .open = client_open, .on_reply = log_reply };

/* Played inline (can_wait 0), the program cannot answer yet: drains do
 * not wait and a full socket buffer drops the rest of a payload; played by
 * the helper, drains wait NETRIG_FUZZ_DRAIN_MS and a full buffer up to
 * NETRIG_FUZZ_FINISH_MS per stall. */
static void set_waits(struct fz_player *p, int can_wait)
{
    p->drain_ms = can_wait ? pl_drain_ms : 0;
    p->stall_ms = can_wait ? pl_finish_ms : -1;
}

/* The input, in static storage: the helper thread never calls malloc, which
 * would make glibc set up a thread arena (a 64 MiB reservation) at every
 * execution.  Only the pages an input fills are ever touched. */
static uint8_t pl_input[PL_INPUT_MAX];

/* Read the whole input (at most PL_INPUT_MAX bytes) into pl_input.
 * Returns its length; 0 on any error. */
static size_t read_input(void)
{
    const char *path = getenv("NETRIG_FUZZ_INPUT");
    int fd = path && *path ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    size_t n = 0;
    ssize_t r;

    if (fd < 0)
        goto done;
    while (n < PL_INPUT_MAX) {
        r = read(fd, pl_input + n, PL_INPUT_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
done:
    if (fd > 0)
        real_close(fd);
    return n;
}

/* Wait until the program has closed every accepted connection, or the
 * deadline (monotonic ms) passes; close() signals pl_closed. */
static void wait_all_closed(int64_t deadline)
{
    struct timespec ts;

    pthread_mutex_lock(&pl_lock);
    while (atomic_load(&pl_live) > 0 && now_ms() < deadline) {
        int64_t left = deadline - now_ms();
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pl_closed, &pl_lock, &ts);
    }
    pthread_mutex_unlock(&pl_lock);
}

/* The program's end: make its listener readable once; its next accept()
 * then ends the process (accepted()). */
static void wake(void)
{
    if (!atomic_exchange(&pl_done, 1))
        connect_one(); /* never closed: the process exits */
}

/* Inline mode: once the whole input is played and the program has accepted
 * every connection and closed it, wake it.  Called by close() and at the end
 * of inline playing. */
static void maybe_wake(void)
{
    if (atomic_load(&pl_fed) && atomic_load(&pl_live) == 0 &&
        atomic_load(&pl_nacc) >= atomic_load(&pl_opened))
        wake();
}

/* Must the record r, just read from cur, wait for the program?  Then it
 * cannot be played inline, inside listen(): a drain that owes a reply and is
 * followed by more records, a connection past the program's listen backlog
 * (connect would block), or sends beyond PL_INLINE_MAX (the socket buffers
 * must hold every byte and every echo of it). */
static int must_wait(const struct fz_player *p, const struct nr_cursor *cur, const struct fz_rec *r)
{
    struct nr_cursor ahead = *cur;
    struct fz_rec next;
    const struct fz_client *c = &p->cl[r->conn];

    if (c->fd < 0 && p->opens >= pl_backlog)
        return 1;
    if (r->action == FZ_SEND)
        return p->sent + r->len > PL_INLINE_MAX;
    if (r->action == FZ_DRAIN && c->fd >= 0 && c->unanswered)
        return fz_rec_next(&ahead, &next);
    return 0;
}

/* Play records from cur.  With can_wait 0, stop before the first one that
 * must wait for the program (must_wait) and leave cur at it.  Returns 1
 * when the input is played to its end, 0 when it stopped. */
static int play(struct fz_player *p, struct nr_cursor *cur, int can_wait)
{
    struct nr_cursor at;
    struct fz_rec r;

    set_waits(p, can_wait);
    for (;;) {
        at = *cur;
        if (!fz_rec_next(cur, &r))
            return 1;
        if (!can_wait && must_wait(p, cur, &r)) {
            *cur = at;
            return 0;
        }
        fz_play_record(p, &r);
    }
}

/* The rest of the input, in the helper thread: play it waiting for the
 * program where the records say so, read every client to EOF, close them,
 * wait for the program to close its side (NETRIG_FUZZ_FINISH_MS at most
 * each), then wake it. */
static void *feeder(void *arg)
{
    struct fz_player *p = arg;

    play(p, &pl_cur, 1);
    fz_play_shut_all(p);
    p->finish_ms = pl_finish_ms;
    fz_play_close_all(p);
    wait_all_closed(now_ms() + pl_finish_ms);
    wake();
    for (;;)
        pause(); /* the process ends in accept(); exiting the thread first
                  * would only cost time (all signals are blocked here) */
    return NULL;
}

/* In listen(): read the input and play what needs no waiting right here,
 * on the program's own thread.  An input played to its end this way needs
 * no helper thread at all (the common case, and much cheaper per
 * execution): its clients stay half-closed, the program runs, and close()
 * wakes it when it has closed every connection.  Otherwise start the
 * helper thread for the rest (should it fail to start, the input ends where
 * inline playing stopped). */
static void feed(void)
{
    const char *rpath = getenv("NETRIG_FUZZ_REPLIES");
    struct fz_player *p = &pl_pl;
    pthread_attr_t attr;
    pthread_t th;
    sigset_t all;
    int th_ok;

    pl_replies = rpath && *rpath ? open(rpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    pl_drain_ms = env_int("NETRIG_FUZZ_DRAIN_MS", 50);
    pl_finish_ms = env_int("NETRIG_FUZZ_FINISH_MS", 1000);
    fz_play_init(p, &pl_ops, NULL, PL_MAX_OPENS);
    p->speaks_first = env_int("NETRIG_FUZZ_SPEAKS_FIRST", 0);
    nr_cur_init(&pl_cur, pl_input, read_input());
    if (!play(p, &pl_cur, 0)) {
        /* a small stack: less to map and tear down at every execution */
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, PL_STACK);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* the program's signals are the program's: never delivered here */
        sigfillset(&all);
        pthread_attr_setsigmask_np(&attr, &all);
        th_ok = pthread_create(&th, &attr, feeder, p) == 0;
        pthread_attr_destroy(&attr);
        if (th_ok)
            return;
        /* no thread to play the rest: the input ends here, so the
         * program still ends */
    }
    fz_play_shut_all(p);
    atomic_store(&pl_fed, 1);
    maybe_wake();
}

/* Inline mode at the process's end: every reply is queued in the clients
 * (the program closed its side); log them for NETRIG_FUZZ_REPLIES. */
static void log_inline_replies(void)
{
    if (!atomic_load(&pl_fed) || pl_replies < 0)
        return;
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        fz_play_read(&pl_pl, i);
}

/* ---- the interposed calls --------------------------------------------- */

static int is_inet_stream(int fd, const struct sockaddr *addr)
{
    int type = 0;
    socklen_t tl = sizeof(type);

    if (!addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
        return 0;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
}

/* Put an abstract AF_UNIX socket in place of fd, keeping its flags. */
static int desocket(int fd)
{
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    int u = socket(AF_UNIX, SOCK_STREAM, 0);

    if (u < 0 || fl < 0 || fdfl < 0)
        goto fail;
    memset(&pl_un, 0, sizeof(pl_un));
    pl_un.sun_family = AF_UNIX;
    snprintf(pl_un.sun_path + 1, sizeof(pl_un.sun_path) - 1, "netrig-fuzz-%d-%d",
             (int)getpid(), fd);
    pl_un_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                            strlen(pl_un.sun_path + 1));
    if (real_bind(u, (struct sockaddr *)&pl_un, pl_un_len) < 0 ||
        dup3(u, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0 ||
        fcntl(fd, F_SETFL, fl) < 0)
        goto fail;
    real_close(u);
    return 0;
fail:
    if (u >= 0)
        real_close(u);
    return -1;
}

/* Under afl-fuzz with AFL_DEFER_FORKSRV=1, a program built with
 * afl-clang-fast waits for a call to __afl_manual_init() to start its
 * forkserver.  Calling it here, at the bind of the listener, forks every
 * execution from a process whose start-up is already done; each child
 * returns from it and binds its own listener. */
static void fork_here(void)
{
    void (*manual_init)(void);

    if (!getenv("__AFL_DEFER_FORKSRV"))
        return;
    manual_init = (void (*)(void))dlsym(RTLD_DEFAULT, "__afl_manual_init");
    if (manual_init)
        manual_init();
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int r = -1, inet, mine;

    pl_setup();
    inet = len <= sizeof(pl_local) && is_inet_stream(fd, addr);
    if (inet && pl_listener < 0)
        fork_here();
    pthread_mutex_lock(&pl_lock);
    mine = inet && pl_listener < 0;
    if (mine && desocket(fd) == 0) {
        memcpy(&pl_local, addr, len);
        pl_local_len = len;
        pl_listener = fd;
        r = 0;
    }
    pthread_mutex_unlock(&pl_lock);
    return mine ? r : real_bind(fd, addr, len);
}

EXPORT int listen(int fd, int backlog)
{
    int r, start;

    pl_setup();
    r = real_listen(fd, backlog);
    pthread_mutex_lock(&pl_lock);
    start = r == 0 && fd == pl_listener && !pl_started;
    if (start) {
        pl_started = 1;
        /* AF_UNIX queues backlog + 1 connections (the kernel caps it) */
        pl_backlog = backlog < 1 ? 1 : backlog > PL_MAX_OPENS ? PL_MAX_OPENS : backlog;
    }
    pthread_mutex_unlock(&pl_lock);
    if (start)
        feed();
    return r;
}

/* Bookkeeping of an accepted descriptor, fake peer address for it (cap:
 * the caller's *alen before the real call overwrote it). */
static int accepted(int lfd, int fd, struct sockaddr *addr, socklen_t *alen, socklen_t cap)
{
    struct sockaddr_in peer = { .sin_family = AF_INET };

    if (fd < 0 || lfd != pl_listener)
        return fd;
    if (atomic_load(&pl_done)) {
        log_inline_replies();
        _exit(0);
    }
    if (fd < PL_FDMAX && !atomic_exchange(&pl_accepted[fd], 1)) {
        atomic_fetch_add(&pl_live, 1); /* before pl_nacc: see maybe_wake */
        atomic_fetch_add(&pl_nacc, 1);
    }
    if (addr && alen) {
        peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        peer.sin_port = htons((uint16_t)(40000 + atomic_fetch_add(&pl_peers, 1) % 20000));
        memcpy(addr, &peer, cap < sizeof(peer) ? cap : sizeof(peer));
        *alen = sizeof(peer);
    }
    return fd;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
    socklen_t cap = alen ? *alen : 0;

    pl_setup();
    return accepted(fd, real_accept(fd, addr, alen), addr, alen, cap);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
    socklen_t cap = alen ? *alen : 0;

    pl_setup();
    return accepted(fd, real_accept4(fd, addr, alen, flags), addr, alen, cap);
}

EXPORT int close(int fd)
{
    pl_setup();
    if (fd >= 0 && fd < PL_FDMAX && atomic_exchange(&pl_accepted[fd], 0)) {
        int r = real_close(fd);
        if (atomic_fetch_sub(&pl_live, 1) == 1) {
            pthread_mutex_lock(&pl_lock);
            pthread_cond_broadcast(&pl_closed);
            pthread_mutex_unlock(&pl_lock);
            maybe_wake();
        }
        return r;
    }
    return real_close(fd);
}

static int is_ours(int fd)
{
    return fd >= 0 && (fd == pl_listener || (fd < PL_FDMAX && atomic_load(&pl_accepted[fd])));
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *alen)
{
    pl_setup();
    if (!is_ours(fd) || !addr || !alen)
        return real_getsockname(fd, addr, alen);
    memcpy(addr, &pl_local, *alen < pl_local_len ? *alen : pl_local_len);
    *alen = pl_local_len;
    return 0;
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *alen)
{
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40000) };

    pl_setup();
    if (fd == pl_listener || !is_ours(fd) || !addr || !alen)
        return real_getpeername(fd, addr, alen);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memcpy(addr, &peer, *alen < sizeof(peer) ? *alen : sizeof(peer));
    *alen = sizeof(peer);
    return 0;
}

/* TCP and IP options mean nothing on the AF_UNIX stand-ins: accept them. */
EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    pl_setup();
    if (is_ours(fd) && level != SOL_SOCKET)
        return 0;
    return real_setsockopt(fd, level, name, val, len);
}
