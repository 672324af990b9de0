/* Tests of the scenario capture as a user meets it: netrig run writes
 * capture.pcap, and a scenario process killed mid-run (as netrig kills one
 * that overruns its deadline) leaves a capture that `netrig pcap` reads,
 * holding what was sent before the kill. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_proc.h"
#include "runner_util.h"

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static long long size_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* The process that has path open for writing: the scenario process (the
 * capture file is close-on-exec, targets do not hold it).  0 if none. */
static pid_t holder_of(const char *path)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;

    while (proc && !found && (e = readdir(proc))) {
        char fddir[300], link[600], target[PATH_MAX];
        DIR *fds;
        struct dirent *f;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(fddir, sizeof(fddir), "/proc/%s/fd", e->d_name);
        if (!(fds = opendir(fddir)))
            continue;
        while (!found && (f = readdir(fds))) {
            ssize_t n;
            snprintf(link, sizeof(link), "%s/%s", fddir, f->d_name);
            n = readlink(link, target, sizeof(target) - 1);
            if (n > 0 && (target[n] = '\0', strcmp(target, path) == 0))
                found = (pid_t)atoi(e->d_name);
        }
        closedir(fds);
    }
    if (proc)
        closedir(proc);
    return found;
}

static void killed_scenario_leaves_a_readable_capture(void **state)
{
    char *argv[] = { NULL, "run", "--keep", "-a", "art", "kill.scn", NULL };
    char pcap[PATH_MAX], *log = NULL, *out;
    struct nr_proc p;
    pid_t victim = 0;

    (void)state;
    ru_write("kill.scn", "deadline 120s\n"
                         "target srv = tcp-echo --port 0 -q\n"
                         "connect a = tcp ${srv}\n"
                         "send a pattern 300000\n"
                         "expect a pattern 300000\n"
                         "sleep 60s\n");
    snprintf(pcap, sizeof(pcap), "%s/art/kill.scn/capture.pcap", ru_dir);
    ru_spawn(argv, &p);
    /* Until the echo is complete (its step is logged when it ends)... */
    for (int i = 0; i < 600 && !(log && strstr(log, "5: expect a pattern 300000  [ok")); i++) {
        sleep_ms(50);
        log = ru_read("art/kill.scn/steps.log");
    }
    if (!log || !strstr(log, "5: expect a pattern 300000  [ok")) {
        nr_proc_stop(&p, 100);
        fail_msg("the echo step did not complete:\n%s", log ? log : "(no steps.log)");
    }
    /* ... and the capture thread has had time to write it (both ways). */
    for (int i = 0; i < 100 && size_of(pcap) < 600000; i++)
        sleep_ms(20);
    for (int i = 0; i < 100 && !(victim = holder_of(pcap)); i++)
        sleep_ms(20);
    if (victim <= 0) {
        nr_proc_stop(&p, 100);
        fail_msg("no process holds %s", pcap);
    }
    assert_int_equal(kill(victim, SIGKILL), 0);
    if (nr_proc_wait(&p, 60000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("netrig did not finish after its scenario was killed");
    }
    nr_proc_release(&p);
    ru_assert_contains(ru_out(), "kill.scn");

    /* The capture reads without error and holds the whole echo. */
    assert_int_equal(ru_netrig("pcap", "summary", "--json", "art/kill.scn/capture.pcap", NULL), 0);
    out = ru_out();
    ru_assert_contains(out, "\"proto\":\"tcp\"");
    ru_assert_contains(out, "\"stream_bytes\":[300000,300000]");
    ru_assert_contains(out, "\"truncated\":0");
}

static void passing_scenario_capture_is_complete(void **state)
{
    (void)state;
    ru_write("ok.scn", "target srv = tcp-echo --port 0 -q\n"
                       "connect a = tcp ${srv}\n"
                       "send a pattern 200000\n"
                       "shutdown a write\n"
                       "expect a pattern 200000\n"
                       "expect a eof\n");
    assert_int_equal(ru_netrig("run", "--keep", "-a", "art", "ok.scn", NULL), 0);
    ru_assert_contains(ru_read("art/ok.scn/steps.log"), ", 0 dropped by the kernel");
    assert_int_equal(ru_netrig("pcap", "summary", "--json", "art/ok.scn/capture.pcap", NULL), 0);
    ru_assert_contains(ru_out(), "\"stream_bytes\":[200000,200000]");
    ru_assert_contains(ru_out(), "\"state\":\"SF\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passing_scenario_capture_is_complete),
        cmocka_unit_test(killed_scenario_leaves_a_readable_capture),
    };
    return cmocka_run_group_tests(tests, ru_setup, ru_teardown);
}
