/* thread_cost.c - benchmark reference for fuzz/bench.sh: what one thread
 * costs on this machine, i.e. the floor of any execution that serves a
 * connection on a thread of its own (tcp-echo-mt's design).  Creates and
 * joins N threads (argv[1], default 20000) one after another, each with the
 * 256 KiB stack tcp-echo-mt gives its connection threads and touching 8 KiB
 * of it, and prints the mean time per thread in microseconds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STACK (256u << 10)

static void *body(void *arg)
{
    volatile char buf[8192];

    buf[0] = 1;
    buf[sizeof(buf) - 1] = 1;
    return arg;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    struct timespec t0, t1;
    pthread_attr_t attr;
    pthread_t th;

    if (n <= 0 || pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, STACK) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&th, &attr, body, NULL) != 0 || pthread_join(th, NULL) != 0)
            return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.1f\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / n);
    pthread_attr_destroy(&attr);
    return 0;
}
