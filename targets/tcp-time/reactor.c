/* reactor.c - epoll event loop (see reactor.h).
 *
 * Registrations live in an array indexed by fd.  Each carries a generation
 * number, stored with the fd in the epoll data, so an event fetched for an
 * fd that a callback removed (and perhaps reused) in the same round is
 * recognised as stale and skipped. */
#include "reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "nr_err.h"

#define TT_MAX_EVENTS 64

struct tt_reg {
    tt_io_fn *fn;     /* NULL: not registered */
    void *arg;
    uint32_t gen;     /* bumped on every add */
};

struct tt_loop {
    int epfd;
    struct tt_reg *regs;
    size_t nregs;
    uint32_t next_gen;
};

struct tt_loop *tt_loop_create(char *errbuf)
{
    struct tt_loop *l = calloc(1, sizeof(*l));

    if (!l) {
        nr_seterr(errbuf, "out of memory");
        return NULL;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        nr_seterr_errno(errbuf, errno, "epoll_create1");
        free(l);
        return NULL;
    }
    return l;
}

static struct tt_reg *reg_of(struct tt_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nregs || !l->regs[fd].fn)
        return NULL;
    return &l->regs[fd];
}

static int grow(struct tt_loop *l, int fd)
{
    size_t n = l->nregs ? l->nregs : 64;
    struct tt_reg *r;

    while (n <= (size_t)fd)
        n *= 2;
    if (n == l->nregs)
        return 0;
    r = realloc(l->regs, n * sizeof(*r));
    if (!r)
        return -ENOMEM;
    memset(r + l->nregs, 0, (n - l->nregs) * sizeof(*r));
    l->regs = r;
    l->nregs = n;
    return 0;
}

static int ctl(struct tt_loop *l, int op, int fd, uint32_t events)
{
    struct epoll_event ev = { .events = events };

    ev.data.u64 = (uint64_t)l->regs[fd].gen << 32 | (uint32_t)fd;
    return epoll_ctl(l->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int tt_loop_add(struct tt_loop *l, int fd, uint32_t events, tt_io_fn *fn, void *arg)
{
    int r;

    if (fd < 0 || !fn)
        return -EINVAL;
    if ((r = grow(l, fd)) < 0)
        return r;
    if (l->regs[fd].fn)
        return -EEXIST;
    l->regs[fd].gen = ++l->next_gen;
    if ((r = ctl(l, EPOLL_CTL_ADD, fd, events)) < 0)
        return r;
    l->regs[fd].fn = fn;
    l->regs[fd].arg = arg;
    return 0;
}

int tt_loop_mod(struct tt_loop *l, int fd, uint32_t events)
{
    if (!reg_of(l, fd))
        return -ENOENT;
    return ctl(l, EPOLL_CTL_MOD, fd, events);
}

int tt_loop_del(struct tt_loop *l, int fd)
{
    struct tt_reg *r = reg_of(l, fd);

    if (!r)
        return -ENOENT;
    r->fn = NULL;
    r->arg = NULL;
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int tt_loop_run_once(struct tt_loop *l, int timeout_ms)
{
    struct epoll_event evs[TT_MAX_EVENTS];
    int n, i;

    n = epoll_wait(l->epfd, evs, TT_MAX_EVENTS, timeout_ms < 0 ? -1 : timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        struct tt_reg *r = reg_of(l, fd);

        if (r && r->gen == gen)
            r->fn(l, fd, evs[i].events, r->arg);
    }
    return n;
}

void tt_loop_destroy(struct tt_loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l->regs);
    free(l);
}
