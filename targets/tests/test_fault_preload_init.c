/* test_fault_preload_init.c - the fault injector (preload/fault.c) used
 * by threads before it has resolved the real functions: a thread whose
 * first call comes while another thread resolves them must wait for it,
 * not call a real function still unknown (NULL: a crash).  As preloaded,
 * the resolution is over before main; a library's constructor that starts
 * threads can meet it half done.  Here the injector is compiled in, its
 * wrappers renamed (nothing interposed), and each forked child forgets the
 * resolution before its threads race to their first fi_read. */
#define _GNU_SOURCE
#define FI_NAME(f) fi_##f
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes" /* its wrappers: named for no header */
#include "preload/fault.c"
#pragma GCC diagnostic pop

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "nr_net.h"

#define RACE_THREADS 8
#define RACE_CHILDREN 20

static pthread_barrier_t race_start;
static int race_zero;

/* One thread: let go with the others, then 100 reads of /dev/zero
 * through the injector, the first of them racing the resolution. */
static void *race_reads(void *arg)
{
    char byte;

    (void)arg;
    pthread_barrier_wait(&race_start);
    for (int i = 0; i < 100; i++)
        if (fi_read(race_zero, &byte, 1) != 1)
            _exit(3);
    return NULL;
}

/* A forked child: nothing resolved, RACE_THREADS threads at once.  Exits
 * 0 when every read read its byte. */
static void race_child(void)
{
    pthread_t th[RACE_THREADS];

    signal(SIGSEGV, SIG_DFL); /* cmocka's handler would make a crash an exit */
    atomic_store(&ready, 0);  /* as before the constructor ran */
    real_read = NULL;
    race_zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (race_zero < 0 || pthread_barrier_init(&race_start, NULL, RACE_THREADS) != 0)
        _exit(2);
    for (int i = 0; i < RACE_THREADS; i++)
        if (pthread_create(&th[i], NULL, race_reads, NULL) != 0)
            _exit(2);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(th[i], NULL);
    _exit(0);
}

/* Wait up to ms for child pid to end, into *status; returns pid, or 0
 * when it has not. */
static pid_t wait_ms(pid_t pid, int *status, int ms)
{
    int64_t give_up = nr_now_ms() + ms;
    pid_t r;

    while ((r = waitpid(pid, status, WNOHANG)) == 0 && nr_now_ms() < give_up)
        usleep(1000);
    return r;
}

/* RACE_CHILDREN children race their threads against the resolution;
 * every one must exit 0 (seen before the fix: 8, 13 and 15 of 20 died of
 * SIGSEGV, a thread calling the real read while it was still NULL). */
static void first_calls_wait_for_the_resolution(void **state)
{
    int crashed = 0, other = 0, status = 0;

    (void)state;
    for (int c = 0; c < RACE_CHILDREN; c++) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0)
            race_child();
        if (wait_ms(pid, &status, 5000) != pid) { /* killed, reaped, failed */
            kill(pid, SIGKILL);
            fail_msg("child %d: no exit within 5 s of its threads' first reads%s", c,
                     wait_ms(pid, &status, 2000) == pid ? "" : " (nor 2 s after SIGKILL)");
        }
        crashed += WIFSIGNALED(status);
        other += WIFEXITED(status) && WEXITSTATUS(status) != 0;
    }
    if (crashed || other)
        fail_msg("%d of %d children died of a signal, %d exited non-zero", crashed,
                 RACE_CHILDREN, other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_calls_wait_for_the_resolution),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
