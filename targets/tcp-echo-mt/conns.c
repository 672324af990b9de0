/* conns.c - tcp-echo-mt's connection threads (see conns.h). */
#define _GNU_SOURCE
#include "conns.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "tcp-echo/echo.h"

enum { SLOT_FREE, SLOT_RUNNING, SLOT_DONE };

/* A connection thread's stack: its deepest frame holds the ECHO_BUF buffer;
 * the rest is for logging and, in sanitizer builds, redzones.  Far below the
 * default 8 MiB, so thousands of connections fit and a thread starts and
 * ends cheaply. */
#define EMT_STACK (256u << 10)

struct emt_slot {
    struct emt *m;
    pthread_t tid;
    int state;  /* SLOT_*; FREE<->RUNNING by the main thread, RUNNING->DONE by the slot's thread */
    int fd;
    char peer[NR_ADDRSTR_SIZE];
};

int emt_init(struct emt *m, const struct srv *srv, int max, int idle_ms, char *errbuf)
{
    memset(m, 0, sizeof(*m));
    m->srv = srv;
    m->max = max;
    m->idle_ms = idle_ms;
    m->slots = calloc((size_t)max, sizeof(*m->slots));
    if (!m->slots)
        return nr_seterr(errbuf, "out of memory for %d connection slots", max);
    m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->stop_fd < 0) {
        free(m->slots);
        return nr_seterr_errno(errbuf, errno, "eventfd");
    }
    pthread_mutex_init(&m->lock, NULL);
    for (int i = 0; i < max; i++) {
        m->slots[i].m = m;
        m->slots[i].fd = -1;
    }
    return 0;
}

/* Thread body: echo one connection, log how it ended, close it. */
static void *conn_main(void *arg)
{
    struct emt_slot *sl = arg;
    struct emt *m = sl->m;
    uint64_t moved = 0;
    int r = echo_serve_conn(sl->fd, m->stop_fd, m->idle_ms, &moved);

    srv_log(m->srv, "%s: %s after %llu bytes echoed", sl->peer, echo_result_str(r),
            (unsigned long long)moved);
    pthread_mutex_lock(&m->lock);
    close(sl->fd); /* under the lock: once the fd is gone the slot is DONE */
    sl->fd = -1;
    sl->state = SLOT_DONE;
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* The slot's state, read under the lock (its thread may be changing it). */
static int slot_state(struct emt *m, const struct emt_slot *sl)
{
    int state;

    pthread_mutex_lock(&m->lock);
    state = sl->state;
    pthread_mutex_unlock(&m->lock);
    return state;
}

/* Join the finished threads and free their slots.  Returns a free slot or
 * NULL. */
static struct emt_slot *reap(struct emt *m)
{
    struct emt_slot *free_slot = NULL;

    for (int i = 0; i < m->max; i++) {
        struct emt_slot *sl = &m->slots[i];
        int state = slot_state(m, sl);

        if (state == SLOT_DONE) {
            pthread_join(sl->tid, NULL);
            sl->state = state = SLOT_FREE;
        }
        if (state == SLOT_FREE && !free_slot)
            free_slot = sl;
    }
    return free_slot;
}

int emt_start(struct emt *m, int fd, const char *peer)
{
    struct emt_slot *sl = reap(m);
    pthread_attr_t attr;
    int r;

    if (!sl)
        return 1;
    sl->fd = fd;
    snprintf(sl->peer, sizeof(sl->peer), "%s", peer);
    sl->state = SLOT_RUNNING;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, EMT_STACK);
    r = pthread_create(&sl->tid, &attr, conn_main, sl);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        sl->fd = -1;
        sl->state = SLOT_FREE;
        return -r;
    }
    return 0;
}

int emt_active(struct emt *m)
{
    int n = 0;

    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->max; i++)
        n += m->slots[i].state == SLOT_RUNNING;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void emt_refuse(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

int emt_stop(struct emt *m, int timeout_ms)
{
    uint64_t one = 1;
    struct timespec deadline;
    int left = 0;

    if (write(m->stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return m->max; /* cannot wake them: nothing can be joined safely */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    for (int i = 0; i < m->max; i++) {
        struct emt_slot *sl = &m->slots[i];

        if (slot_state(m, sl) == SLOT_FREE)
            continue;
        if (pthread_timedjoin_np(sl->tid, NULL, &deadline) == 0)
            sl->state = SLOT_FREE;
        else
            left++;
    }
    return left;
}

void emt_free(struct emt *m)
{
    close(m->stop_fd);
    pthread_mutex_destroy(&m->lock);
    free(m->slots);
    m->slots = NULL;
}
