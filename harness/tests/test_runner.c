/* Tests of `netrig run` as a user meets it: scenario files written to a
 * temp dir, netrig spawned from $NR_BIN, its exit status, output, reports
 * and the processes it leaves (none) checked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_proc.h"
#include "runner_util.h"

static void passing_scenario_exits_zero(void **state)
{
    (void)state;
    ru_write("ok.scn", "target srv = tcp-greet --port 0\n"
                         "connect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n"
                         "expect a eof\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "ok.scn", NULL), 0);
    assert_non_null(strstr(ru_out(), "PASS"));
    assert_non_null(strstr(ru_out(), "1 passed, 0 failed"));
}

static void mismatch_shows_hexdiff(void **state)
{
    char *out;

    (void)state;
    ru_write("bad.scn", "target srv = tcp-greet --port 0 --message Welcome?\n"
                          "connect a = tcp ${srv}\n"
                          "expect a \"Welcome!\\n\"\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "bad.scn", NULL), 1);
    out = ru_out();
    assert_non_null(strstr(out, "FAIL"));
    assert_non_null(strstr(out, "bad.scn:3: expect a \"Welcome!\\n\""));
    assert_non_null(strstr(out, "first difference at offset 7"));
    assert_non_null(strstr(out, "> 00000000"));
    assert_non_null(strstr(out, "|Welcome!."));
    assert_non_null(strstr(out, "|Welcome?."));
}

static void malformed_scenario_runs_nothing(void **state)
{
    char *err;
    struct stat sb;

    (void)state;
    ru_write("good.scn", "target srv = tcp-greet --port 0\n");
    ru_write("worse.scn", "target srv = tcp-greet --port 0\n"
                            "connect a = tcp ${srv}\n"
                            "expect a \"unterminated\n");
    assert_int_equal(ru_netrig("run", "-a", "never", "good.scn", "worse.scn", NULL), 2);
    err = ru_err();
    assert_non_null(strstr(err, "worse.scn:3:"));
    assert_int_equal(stat("never", &sb), -1); /* not one scenario started */
}

static void tap_and_junit_reports(void **state)
{
    char *out, *xml;

    (void)state;
    ru_write("ok.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    ru_write("no.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Goodbye\"\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "--tap", "--junit", "j.xml", "ok.scn", "no.scn",
                            NULL), 1);
    out = ru_out();
    assert_true(strncmp(out, "TAP version 14\n1..2\n", 20) == 0);
    assert_non_null(strstr(out, "\nok 1 - ok.scn\n"));
    assert_non_null(strstr(out, "\nnot ok 2 - no.scn\n  ---\n"));
    xml = ru_read("j.xml");
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<testsuite name=\"no.scn\" tests=\"1\" failures=\"1\""));
    assert_non_null(strstr(xml, "<failure message="));
    assert_non_null(strstr(xml, "<system-out>artifacts: art/no.scn"));
}

static void crashed_target_fails_with_its_stderr(void **state)
{
    char *out;

    (void)state;
    ru_write("crash.scn", "target t nowait = sh -c \"echo dying >&2; kill -SEGV $$\"\n"
                            "sleep 200ms\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "crash.scn", NULL), 1);
    out = ru_out();
    assert_non_null(strstr(out, "crash.scn: at the end of the scenario:"));
    assert_non_null(strstr(out, "target 't' (line 1): crashed: signal 11"));
    assert_non_null(strstr(out, "dying"));
}

/* prove (Perl's TAP::Harness) runs netrig's TAP output. */
static void prove_accepts_the_tap_stream(void **state)
{
    char cmd[1024];

    (void)state;
    ru_write("p1.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    snprintf(cmd, sizeof(cmd), "prove --exec '%s/netrig run -a art --tap' p1.scn > prove.out 2>&1",
             ru_bin);
    assert_int_equal(system(cmd), 0);
    assert_non_null(strstr(ru_read("prove.out"), "Result: PASS"));
}

static void glob_filter_matches_path_tails(void **state)
{
    (void)state;
    assert_int_equal(mkdir("sub", 0755) == 0 || errno == EEXIST, 1);
    ru_write("sub/f1.scn", "sleep 1ms\n");
    ru_write("sub/f2.scn", "sleep 1ms\n");
    ru_write("other.scn", "sleep 1ms\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "--filter", "sub/*.scn", ".", NULL), 0);
    assert_non_null(strstr(ru_out(), "2 passed, 0 failed"));
}

/* On the shared host loopback, scenarios binding the same fixed port must
 * not run at the same time. */
static void fixed_ports_share_the_host_one_at_a_time(void **state)
{
    (void)state;
    ru_write("fix1.scn", "listen l = tcp 127.0.0.1:47811\nsleep 300ms\n");
    ru_write("fix2.scn", "listen l = tcp 127.0.0.1:47811\nsleep 300ms\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "--no-netns", "-j", "2", "fix1.scn", "fix2.scn",
                            NULL), 0);
    assert_non_null(strstr(ru_out(), "2 passed, 0 failed"));
}

static void refuses_remote_destinations(void **state)
{
    (void)state;
    ru_write("remote.scn", "connect a = tcp 192.0.2.1:80\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "remote.scn", NULL), 1);
    assert_non_null(strstr(ru_out(), "refusing non-loopback destination 192.0.2.1:80"));
}

/* Kill netrig with SIGKILL mid-scenario: its target must not survive. */
static void killing_netrig_leaves_no_process(void **state)
{
    char *argv[8], netrig_path[600], errbuf[NR_ERRBUF_SIZE], *log, *pidp;
    struct nr_proc p;
    pid_t target = 0;

    (void)state;
    ru_write("long.scn", "target srv = tcp-echo --port 0\n"
                           "connect a = tcp ${srv}\n"
                           "sleep 30s\n");
    snprintf(netrig_path, sizeof(netrig_path), "%s/netrig", ru_bin);
    argv[0] = netrig_path;
    argv[1] = "run";
    argv[2] = "-a";
    argv[3] = "art";
    argv[4] = "long.scn";
    argv[5] = NULL;
    struct nr_spawn sp = { .argv = argv, .activation_fd = -1 };
    assert_int_equal(nr_proc_spawn(&sp, &p, errbuf), 0);
    for (int i = 0; i < 500 && !target; i++) { /* wait for "started srv (pid N)" */
        usleep(10000);
        log = ru_read("art/long.scn/steps.log");
        if (log && (pidp = strstr(log, "(pid ")) && strstr(log, "2: connect"))
            target = (pid_t)atoi(pidp + 5);
    }
    assert_true(target > 0);
    assert_int_equal(kill(target, 0), 0);
    kill(p.pid, SIGKILL);
    assert_int_equal(nr_proc_wait(&p, 5000), 1);
    nr_proc_release(&p);
    for (int i = 0; i < 200 && kill(target, 0) == 0; i++)
        usleep(10000);
    assert_int_equal(kill(target, 0), -1);
    assert_int_equal(errno, ESRCH);
}

/* As an unprivileged user (when run as root: drop to nobody), scenarios
 * still run in their own user+network namespaces. */
static void runs_without_root(void **state)
{
    pid_t pid;
    int ws;
    char netrig_path[600];

    (void)state;
    if (geteuid() != 0) {
        assert_int_equal(ru_netrig("run", "-a", "art", "ok.scn", NULL), 0);
        return;
    }
    ru_write("ok.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    assert_int_equal(chmod(ru_dir, 0777), 0);
    snprintf(netrig_path, sizeof(netrig_path), "%s/netrig", ru_bin);
    pid = fork();
    if (pid == 0) {
        int fd = open("unpriv.out", O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || setgroups(0, NULL) < 0 ||
            setgid(65534) < 0 || setuid(65534) < 0)
            _exit(99);
        execl(netrig_path, netrig_path, "run", "-a", "unpriv-art", "ok.scn", (char *)NULL);
        _exit(98);
    }
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        fail_msg("unprivileged run failed: %s", ru_read("unpriv.out"));
    assert_null(strstr(ru_read("unpriv.out"), "namespaces unavailable"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passing_scenario_exits_zero),
        cmocka_unit_test(mismatch_shows_hexdiff),
        cmocka_unit_test(malformed_scenario_runs_nothing),
        cmocka_unit_test(tap_and_junit_reports),
        cmocka_unit_test(crashed_target_fails_with_its_stderr),
        cmocka_unit_test(prove_accepts_the_tap_stream),
        cmocka_unit_test(glob_filter_matches_path_tails),
        cmocka_unit_test(fixed_ports_share_the_host_one_at_a_time),
        cmocka_unit_test(refuses_remote_destinations),
        cmocka_unit_test(killing_netrig_leaves_no_process),
        cmocka_unit_test(runs_without_root),
    };
    return cmocka_run_group_tests(tests, ru_setup, ru_teardown);
}
