/* test_fault_inproc.c - the in-process use of the fault injector
 * (fault_inproc.h): an armed rule fails exactly the call it names, counts
 * from the arming, and nothing fails once disarmed; calls from many
 * threads at once are each counted once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault_inproc.h"

/* An allocation the compiler cannot drop or merge. */
static void *volatile keep[4];

static void nth_malloc_fails_and_only_it(void **state)
{
    int failed[4], err = 0;
    unsigned long n;

    (void)state;
    assert_int_equal(fault_inproc_set("malloc:2"), 1);
    for (int i = 0; i < 4; i++) {
        errno = 0;
        keep[i] = malloc(32);
        failed[i] = keep[i] == NULL;
        if (failed[i])
            err = errno;
    }
    n = fault_inproc_off();
    for (int i = 0; i < 4; i++)
        free(keep[i]);
    assert_int_equal(n, 1);
    assert_int_equal(failed[0], 0);
    assert_int_equal(failed[1], 1);
    assert_int_equal(err, ENOMEM);
    assert_int_equal(failed[2], 0);
    assert_int_equal(failed[3], 0);
}

static void onward_rule_fails_every_later_call_until_disarmed(void **state)
{
    void *p = malloc(8), *q;
    int failed[2];
    unsigned long n;

    (void)state;
    assert_non_null(p);
    assert_int_equal(fault_inproc_set("realloc:1+"), 1);
    for (int i = 0; i < 2; i++) {
        q = realloc(p, 64 << i);
        failed[i] = q == NULL;
        if (q)
            p = q;
    }
    n = fault_inproc_off();
    q = realloc(p, 256);
    if (q)
        p = q;
    free(p);
    assert_int_equal(failed[0], 1);
    assert_int_equal(failed[1], 1);
    assert_int_equal(n, 2);
    assert_non_null(q);
}

static void a_malformed_rule_is_refused(void **state)
{
    (void)state;
    assert_int_equal(fault_inproc_set("malloc:0"), 0);
    assert_int_equal(fault_inproc_set("nosuchcall:1"), 0);
    keep[0] = malloc(8);
    assert_int_equal(fault_inproc_off(), 0);
    assert_non_null(keep[0]);
    free(keep[0]);
}

/* ---- calls from many threads ------------------------------------------- */

#define TH_N 4
#define TH_ROUNDS 2000
#define TH_FNS 5 /* read write poll epoll_wait recvmsg */

static const char *const th_names[TH_FNS] = { "read", "write", "poll", "epoll_wait", "recvmsg" };
static const int th_errno[TH_FNS] = { EIO, EIO, ENOMEM, EINVAL, ENOMEM }; /* fault.c's defaults */

/* What the threads share (read only) and what each counts on its own. */
struct th_arg {
    pthread_barrier_t *start;
    int zero, null, ep, sock;
    int failed[TH_FNS], wrong_errno;
};

/* One thread: TH_ROUNDS calls of each of the five, all threads let go at
 * once; counts its calls that failed, and those that failed with another
 * errno than the injector's. */
static void *th_calls(void *p)
{
    struct th_arg *a = p;
    char byte = 0;

    pthread_barrier_wait(a->start);
    for (int i = 0; i < TH_ROUNDS; i++) {
        for (int f = 0; f < TH_FNS; f++) {
            struct pollfd pfd = { .fd = a->null, .events = POLLOUT };
            struct epoll_event ev;
            struct iovec iov = { &byte, 1 };
            struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
            long r = 0;

            errno = 0;
            switch (f) {
            case 0: r = read(a->zero, &byte, 1); break;
            case 1: r = write(a->null, &byte, 1); break;
            case 2: r = poll(&pfd, 1, 0); break;
            case 3: r = epoll_wait(a->ep, &ev, 1, 0); break;
            case 4: r = recvmsg(a->sock, &m, MSG_DONTWAIT); break; /* let through: EAGAIN */
            }
            if (r >= 0 || (f == 4 && errno == EAGAIN))
                continue;
            a->failed[f]++;
            a->wrong_errno += errno != th_errno[f];
        }
    }
    return NULL;
}

/* TH_N threads make TH_ROUNDS calls each of read, write, poll, epoll_wait
 * and recvmsg, all at once, with every call from the (TH_N * TH_ROUNDS /
 * 2 + 1)th of each failing: exactly half of each function's calls fail
 * and the injector says it failed that many (a count shared without
 * atomics loses some of them). */
static void calls_from_threads_counted_once_each(void **state)
{
    pthread_barrier_t start;
    pthread_t th[TH_N];
    struct th_arg a[TH_N];
    int sv[2], zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC), ep = epoll_create1(EPOLL_CLOEXEC);
    char spec[256];
    size_t off = 0;
    unsigned long n;
    int started = 0;

    (void)state;
    assert_true(zero >= 0 && null >= 0 && ep >= 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(pthread_barrier_init(&start, NULL, TH_N), 0);
    for (int f = 0; f < TH_FNS; f++)
        off += (size_t)snprintf(spec + off, sizeof(spec) - off, "%s%s:%d+", f ? "," : "",
                                th_names[f], TH_N * TH_ROUNDS / 2 + 1);
    assert_int_equal(fault_inproc_set(spec), TH_FNS);
    for (int t = 0; t < TH_N; t++) {
        a[t] = (struct th_arg){ .start = &start, .zero = zero, .null = null, .ep = ep,
                                .sock = sv[0] };
        started += pthread_create(&th[t], NULL, th_calls, &a[t]) == 0;
    }
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    n = fault_inproc_off();
    pthread_barrier_destroy(&start);
    close(zero);
    close(null);
    close(ep);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(started, TH_N);
    for (int f = 0; f < TH_FNS; f++) {
        int failed = 0;
        for (int t = 0; t < TH_N; t++)
            failed += a[t].failed[f];
        if (failed != TH_N * TH_ROUNDS / 2)
            fail_msg("%s: %d of %d calls failed, want %d", th_names[f], failed,
                     TH_N * TH_ROUNDS, TH_N * TH_ROUNDS / 2);
    }
    for (int t = 0; t < TH_N; t++)
        assert_int_equal(a[t].wrong_errno, 0);
    assert_int_equal(n, (unsigned long)TH_FNS * TH_N * TH_ROUNDS / 2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nth_malloc_fails_and_only_it),
        cmocka_unit_test(onward_rule_fails_every_later_call_until_disarmed),
        cmocka_unit_test(a_malformed_rule_is_refused),
        cmocka_unit_test(calls_from_threads_counted_once_each),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
