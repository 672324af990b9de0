/* Unit tests of tcp-time's event loop (targets/tcp-time/reactor.c): the
 * errors of add, mod and del, dispatch counts, a timeout and an interrupted
 * wait returning 0, a callback that removes (and reuses) a descriptor whose
 * event was already fetched, and descriptors far above the first table. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../harness/tests/heap_exact.h"
#include "nr_err.h"
#include "tcp-time/reactor.h"
#include "tcp-time/tt_server.h"
#include "tnames.h"

/* What the callbacks saw. */
struct seen {
    int calls;
    int fd;
    uint32_t events;
    int del_fd;      /* >= 0: the callback removes this fd ... */
    int reuse_fd;    /* ... and, if >= 0, registers this one (same number) again */
};

static void on_io(struct tt_loop *l, int fd, uint32_t events, void *arg)
{
    struct seen *s = arg;

    s->calls++;
    s->fd = fd;
    s->events = events;
    if (s->del_fd >= 0) {
        assert_ret_equal(tt_loop_del(l, s->del_fd), 0);
        if (s->reuse_fd >= 0)
            assert_ret_equal(tt_loop_add(l, s->reuse_fd, EPOLLIN, on_io, s), 0);
        s->del_fd = -1;
    }
}

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static struct tt_loop *loop(void)
{
    char errbuf[NR_ERRBUF_SIZE];
    struct tt_loop *l = tt_loop_create(errbuf);

    if (!l)
        fail_msg("%s", errbuf);
    return l;
}

/* The errors each call names, and that a failed add leaves nothing behind. */
static void errors(void **state)
{
    struct tt_loop *l = loop();
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    int sv[2], file;

    (void)state;
    pair(sv);
    assert_ret_equal(tt_loop_add(l, -1, EPOLLIN, on_io, &s), -EINVAL);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, NULL, &s), -EINVAL);
    assert_ret_equal(tt_loop_mod(l, sv[0], EPOLLOUT), -ENOENT);
    assert_ret_equal(tt_loop_mod(l, -1, EPOLLOUT), -ENOENT);
    assert_ret_equal(tt_loop_mod(l, 100000, EPOLLOUT), -ENOENT);
    assert_ret_equal(tt_loop_del(l, sv[0]), -ENOENT);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, on_io, &s), 0);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLOUT, on_io, &s), -EEXIST);
    /* the refused add left the first registration as it was */
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.events, EPOLLIN);
    /* epoll refuses a regular file: the add fails and registers nothing. */
    file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    assert_true(file >= 0);
    assert_ret_equal(tt_loop_add(l, file, EPOLLIN, on_io, &s), -EPERM);
    assert_ret_equal(tt_loop_mod(l, file, EPOLLIN), -ENOENT);
    assert_ret_equal(tt_loop_del(l, file), -ENOENT);
    assert_ret_equal(tt_loop_del(l, sv[0]), 0);
    assert_ret_equal(tt_loop_del(l, sv[0]), -ENOENT);
    /* Every descriptor number not registered, whatever the table's size. */
    for (int fd = 0; fd < 1100; fd++) {
        assert_ret_equal(tt_loop_mod(l, fd, EPOLLOUT), -ENOENT);
        assert_ret_equal(tt_loop_del(l, fd), -ENOENT);
    }
    close(file);
    close(sv[0]);
    close(sv[1]);
    tt_loop_destroy(l);
}

/* Destroying a loop releases every descriptor it made: the lowest free
 * number before create is the lowest free one again after destroy. */
static void destroy_releases_descriptors(void **state)
{
    int before = open("/dev/null", O_RDONLY | O_CLOEXEC), after;

    (void)state;
    assert_true(before >= 0);
    close(before);
    tt_loop_destroy(loop());
    after = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(after);
    assert_int_equal(after, before);
}

/* A round returns how many events it dispatched; nothing ready within the
 * timeout is 0; mod changes what is watched. */
static void dispatch_and_timeout(void **state)
{
    struct tt_loop *l = loop();
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    int sv[2];

    (void)state;
    pair(sv);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, on_io, &s), 0);
    errno = EBADF; /* a stale errno must not leak into a timeout's result */
    assert_ret_equal(tt_loop_run_once(l, 0), 0);
    assert_ret_equal(tt_loop_run_once(l, 20), 0);
    assert_int_equal(s.calls, 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.fd, sv[0]);
    assert_int_equal(s.events, EPOLLIN);
    assert_ret_equal(tt_loop_mod(l, sv[0], EPOLLOUT), 0);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.events, EPOLLOUT);
    assert_ret_equal(tt_loop_mod(l, sv[0], 0), 0);
    assert_ret_equal(tt_loop_run_once(l, 0), 0);
    assert_int_equal(s.calls, 2);
    tt_loop_destroy(l);
    close(sv[0]);
    close(sv[1]);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A wait interrupted by a signal returns 0 (not an error, not an event). */
static void interrupted(void **state)
{
    struct sigaction sa = { .sa_handler = on_alarm }, old;
    struct tt_loop *l = loop();
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    int sv[2];

    (void)state;
    pair(sv);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, on_io, &s), 0);
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0); /* no SA_RESTART */
    ualarm(50000, 0);
    assert_ret_equal(tt_loop_run_once(l, 5000), 0);
    assert_int_equal(s.calls, 0);
    sigaction(SIGALRM, &old, NULL);
    tt_loop_destroy(l);
    close(sv[0]);
    close(sv[1]);
}

/* Two descriptors ready in one round: the first callback removes the
 * second, closes it and registers a new descriptor under the same number;
 * the event already fetched for the old one is not delivered to it. */
static void stale_event_skipped(void **state)
{
    struct tt_loop *l = loop();
    struct seen a = { .del_fd = -1, .reuse_fd = -1 }, b = { .del_fd = -1, .reuse_fd = -1 };
    int p[2], q[2], second, n;

    (void)state;
    pair(p);
    pair(q);
    assert_ret_equal(tt_loop_add(l, p[0], EPOLLIN, on_io, &a), 0);
    assert_ret_equal(tt_loop_add(l, q[0], EPOLLIN, on_io, &b), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(write(q[1], "y", 1), 1);
    /* Whichever is dispatched first removes the other. */
    a.del_fd = q[0];
    b.del_fd = p[0];
    n = tt_loop_run_once(l, 1000);
    assert_int_equal(n, 2); /* fetched: two events, one of them stale */
    assert_int_equal(a.calls + b.calls, 1);
    second = a.calls ? q[0] : p[0];
    /* The removed one stays removed. */
    assert_ret_equal(tt_loop_del(l, second), -ENOENT);
    tt_loop_destroy(l);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

/* Removed and registered again under the same number within the round:
 * the new registration gets only its own events, in a later round. */
static void reused_number_gets_new_events_only(void **state)
{
    struct tt_loop *l = loop();
    struct seen a = { .del_fd = -1, .reuse_fd = -1 }, b = { .del_fd = -1, .reuse_fd = -1 };
    int p[2], q[2], n;

    (void)state;
    pair(p);
    pair(q);
    assert_ret_equal(tt_loop_add(l, p[0], EPOLLIN, on_io, &a), 0);
    assert_ret_equal(tt_loop_add(l, q[0], EPOLLIN, on_io, &b), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(write(q[1], "y", 1), 1);
    /* p's callback removes q[0] and registers q[0] anew (same number);
     * q's callback removes p[0] and registers it anew.  Whichever runs
     * first, the other's fetched event is stale and skipped. */
    a.del_fd = a.reuse_fd = q[0];
    b.del_fd = b.reuse_fd = p[0];
    n = tt_loop_run_once(l, 1000);
    assert_int_equal(n, 2);
    assert_int_equal(a.calls + b.calls, 1);
    /* Next round: both are ready (their data is unread), each dispatched
     * once, the re-registered one to the registration made in the callback. */
    n = tt_loop_run_once(l, 1000);
    assert_int_equal(n, 2);
    assert_int_equal(a.calls + b.calls, 3);
    tt_loop_destroy(l);
    for (int i = 0; i < 2; i++) {
        close(p[i]);
        close(q[i]);
    }
}

/* A descriptor numbered far past the first table (64 entries) is served. */
static void high_descriptor(void **state)
{
    struct tt_loop *l = loop();
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    int sv[2], hi;

    (void)state;
    pair(sv);
    hi = fcntl(sv[0], F_DUPFD_CLOEXEC, 300);
    assert_true(hi >= 300);
    assert_ret_equal(tt_loop_add(l, hi, EPOLLIN, on_io, &s), 0);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, on_io, &s), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_ret_equal(tt_loop_run_once(l, 1000), 2);
    assert_int_equal(s.calls, 2);
    assert_ret_equal(tt_loop_del(l, hi), 0);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.fd, sv[0]);
    tt_loop_destroy(l);
    close(hi);
    close(sv[0]);
    close(sv[1]);
}

/* Descriptor 0 (stdin closed) is added, served, changed and removed like
 * any other. */
static void descriptor_zero(void **state)
{
    struct tt_loop *l = loop();
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), sv[2];

    (void)state;
    assert_true(saved >= 0);
    close(0);
    pair(sv);
    assert_int_equal(sv[0], 0);
    assert_ret_equal(tt_loop_add(l, 0, EPOLLIN, on_io, &s), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.fd, 0);
    assert_ret_equal(tt_loop_mod(l, 0, EPOLLOUT), 0);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.events & (EPOLLIN | EPOLLOUT), EPOLLOUT);
    assert_ret_equal(tt_loop_del(l, 0), 0);
    assert_ret_equal(tt_loop_del(l, 0), -ENOENT);
    assert_ret_equal(tt_loop_run_once(l, 0), 0);
    tt_loop_destroy(l);
    close(sv[1]);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
}

/* The loop's own epoll descriptor may be number 0 (stdin closed when the
 * loop is made): creation succeeds and the loop works on it. */
static void loop_on_descriptor_zero(void **state)
{
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    char link[64] = "";
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), sv[2];
    struct tt_loop *l;

    (void)state;
    assert_true(saved >= 0);
    close(0);
    l = loop();
    assert_true(readlink("/proc/self/fd/0", link, sizeof(link) - 1) > 0);
    assert_string_equal(link, "anon_inode:[eventpoll]");
    pair(sv);
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, on_io, &s), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_ret_equal(tt_loop_run_once(l, 1000), 1);
    assert_int_equal(s.fd, sv[0]);
    tt_loop_destroy(l);
    /* destroy closed it: 0 is the lowest free number again */
    assert_int_equal(fcntl(0, F_GETFD), -1);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
}

/* Writes one byte to fd after a pause. */
struct late_writer {
    int fd, pause_ms;
};

static void *write_late(void *arg)
{
    struct late_writer *w = arg;

    usleep((useconds_t)w->pause_ms * 1000);
    if (write(w->fd, "x", 1) != 1)
        return arg;
    return NULL;
}

/* A negative timeout waits for the next event however long it takes (here
 * 100 ms): the round returns it dispatched, not 0.  (A watchdog alarm after
 * 3 s ends a wait that would never end: the round then returns 0.) */
static void negative_timeout_waits(void **state)
{
    struct sigaction sa = { .sa_handler = on_alarm }, old;
    struct tt_loop *l = loop();
    struct seen s = { .del_fd = -1, .reuse_fd = -1 };
    struct late_writer w = { .pause_ms = 100 };
    pthread_t t;
    void *res;
    int sv[2], n;

    (void)state;
    pair(sv);
    w.fd = sv[1];
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0); /* no SA_RESTART */
    assert_ret_equal(tt_loop_add(l, sv[0], EPOLLIN, on_io, &s), 0);
    assert_int_equal(pthread_create(&t, NULL, write_late, &w), 0);
    alarm(3);
    n = tt_loop_run_once(l, -1);
    alarm(0);
    sigaction(SIGALRM, &old, NULL);
    assert_ret_equal(n, 1);
    assert_int_equal(pthread_join(t, &res), 0);
    assert_null(res);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.fd, sv[0]);
    tt_loop_destroy(l);
    close(sv[0]);
    close(sv[1]);
}

/* No descriptor free for the epoll instance (RLIMIT_NOFILE at the lowest
 * free number): creation fails with NULL and the cause in errbuf. */
static void create_fails_without_descriptors(void **state)
{
    char errbuf[NR_ERRBUF_SIZE] = "", want[NR_ERRBUF_SIZE];
    int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct rlimit old, low;
    struct tt_loop *l;

    (void)state;
    assert_true(lowest >= 0);
    close(lowest);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    l = tt_loop_create(errbuf);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_null(l);
    snprintf(want, sizeof(want), "epoll_create1: %s", strerror(EMFILE));
    assert_string_equal(errbuf, want);
}

/* Drains the byte that made fd readable and counts the call. */
static void on_io_drain(struct tt_loop *l, int fd, uint32_t events, void *arg)
{
    char c;

    (void)l;
    (void)events;
    if (read(fd, &c, 1) == 1)
        ++*(int *)arg;
}

/* Descriptors numbered at each edge of the table's sizes (64, 128, 256
 * entries: one below, at, one above), each the first of a new loop and
 * then all in one loop, are watched and served. */
static void table_edges(void **state)
{
    static const int nums[] = { 63, 64, 65, 127, 128, 129, 255, 256, 257 };
    const int n = (int)(sizeof(nums) / sizeof(nums[0]));
    struct tt_loop *all = loop();
    int sv[2], calls = 0;

    (void)state;
    pair(sv);
    for (int i = 0; i < n; i++) {
        struct tt_loop *l = loop();
        assert_int_equal(fcntl(nums[i], F_GETFD), -1); /* free */
        assert_int_equal(dup2(sv[0], nums[i]), nums[i]);
        assert_ret_equal(tt_loop_add(l, nums[i], EPOLLIN, on_io_drain, &calls), 0);
        assert_int_equal(write(sv[1], "x", 1), 1);
        assert_ret_equal(tt_loop_run_once(l, 1000), 1);
        assert_int_equal(calls, i + 1);
        assert_ret_equal(tt_loop_mod(l, nums[i], EPOLLIN | EPOLLOUT), 0);
        assert_ret_equal(tt_loop_del(l, nums[i]), 0);
        tt_loop_destroy(l);
        assert_ret_equal(tt_loop_add(all, nums[i], EPOLLOUT, on_io, &(struct seen){ 0 }), 0);
    }
    for (int i = 0; i < n; i++) {
        assert_ret_equal(tt_loop_mod(all, nums[i], EPOLLIN), 0);
        assert_ret_equal(tt_loop_del(all, nums[i]), 0);
        assert_ret_equal(tt_loop_del(all, nums[i]), -ENOENT);
        close(nums[i]);
    }
    tt_loop_destroy(all);
    close(sv[0]);
    close(sv[1]);
}

/* More descriptors ready than one round fetches (64): every one is
 * dispatched exactly once over the rounds, none twice, none invented. */
static void more_ready_than_one_round(void **state)
{
    enum { N = 70 };
    struct tt_loop *l = loop();
    int sv[N][2], calls = 0, n, rounds = 0, total = 0;

    (void)state;
    for (int i = 0; i < N; i++) {
        pair(sv[i]);
        assert_ret_equal(tt_loop_add(l, sv[i][0], EPOLLIN, on_io_drain, &calls), 0);
        assert_int_equal(write(sv[i][1], "x", 1), 1);
    }
    while (rounds < 100 && (n = tt_loop_run_once(l, 0)) > 0) { /* bounded: a broken loop fails */
        assert_true(n <= 64);
        total += n;
        rounds++;
    }
    assert_ret_equal(n, 0);
    assert_int_equal(total, N);
    assert_int_equal(calls, N);
    assert_int_equal(rounds, 2);
    for (int i = 0; i < N; i++) {
        char c;
        assert_int_equal(recv(sv[i][0], &c, 1, MSG_DONTWAIT), -1); /* drained once, by its callback */
        close(sv[i][0]);
        close(sv[i][1]);
    }
    tt_loop_destroy(l);
}

/* A tcp-time server takes one listening socket (made non-blocking); a
 * second is -EBUSY and left as it was, also when the first is descriptor
 * 0.  A descriptor that cannot be made non-blocking or watched is refused
 * with the cause and taken for nothing: a good one is accepted after it. */
static void server_listens_once(void **state)
{
    struct tt_config cfg = { 0 };
    char errbuf[NR_ERRBUF_SIZE];
    struct tt_server *ts = tt_server_create(&cfg, errbuf);
    int a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), file, saved;

    (void)state;
    if (!ts)
        fail_msg("%s", errbuf);
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(listen(a, 4), 0);
    assert_int_equal(listen(b, 4), 0);
    assert_ret_equal(tt_server_listen(ts, a), 0);
    assert_true(fcntl(a, F_GETFL) & O_NONBLOCK);
    assert_ret_equal(tt_server_listen(ts, b), -EBUSY);
    assert_int_equal(fcntl(b, F_GETFL) & O_NONBLOCK, 0);
    assert_ret_equal(tt_server_clients(ts), 0);
    tt_server_destroy(ts);
    close(a);

    ts = tt_server_create(&cfg, errbuf);
    assert_non_null(ts);
    file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    assert_true(file >= 0);
    assert_ret_equal(tt_server_listen(ts, -1), -EBADF);
    assert_ret_equal(tt_server_listen(ts, file), -EPERM);
    close(file);
    saved = fcntl(0, F_DUPFD_CLOEXEC, 3);
    assert_true(saved >= 0);
    assert_int_equal(dup2(b, 0), 0);
    assert_ret_equal(tt_server_listen(ts, 0), 0);
    assert_ret_equal(tt_server_listen(ts, b), -EBUSY);
    tt_server_destroy(ts);
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    close(b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(errors),
        heap_exact_test(dispatch_and_timeout),
        heap_exact_test(interrupted),
        heap_exact_test(stale_event_skipped),
        heap_exact_test(reused_number_gets_new_events_only),
        heap_exact_test(high_descriptor),
        heap_exact_test(descriptor_zero),
        heap_exact_test(loop_on_descriptor_zero),
        heap_exact_test(negative_timeout_waits),
        heap_exact_test(create_fails_without_descriptors),
        heap_exact_test(table_edges),
        heap_exact_test(more_ready_than_one_round),
        heap_exact_test(destroy_releases_descriptors),
        heap_exact_test(server_listens_once),
    };
    (void)argc;
    heap_exact_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
