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

static char dir[64];
static char bin[512];

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Run netrig with args (NULL-terminated) from the temp dir; returns the exit
 * status (or -1 for a signal) and leaves stdout/stderr in dir/out, dir/err. */
static int netrig(const char *first, ...)
{
    char *argv[24], out[128], err[128], errbuf[NR_ERRBUF_SIZE], netrig_path[600];
    struct nr_proc p;
    int argc = 0;
    va_list ap;

    snprintf(netrig_path, sizeof(netrig_path), "%s/netrig", bin);
    argv[argc++] = netrig_path;
    argv[argc++] = (char *)first;
    va_start(ap, first);
    for (char *a; (a = va_arg(ap, char *)) && argc < 22;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(err, sizeof(err), "%s/err", dir);
    struct nr_spawn sp = { .argv = argv, .stdout_path = out, .stderr_path = err,
                           .activation_fd = -1 };
    if (nr_proc_spawn(&sp, &p, errbuf) < 0)
        fail_msg("%s", errbuf);
    if (nr_proc_wait(&p, 120000) != 1) {
        nr_proc_stop(&p, 100);
        fail_msg("netrig did not finish");
    }
    nr_proc_release(&p);
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

static char *out_text(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/out", dir);
    return read_file(path);
}

static char *err_text(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/err", dir);
    return read_file(path);
}

static int setup(void **state)
{
    const char *b = getenv("NR_BIN") ? getenv("NR_BIN") : "build/bin";

    (void)state;
    if (!realpath(b, bin))
        return -1;
    snprintf(dir, sizeof(dir), "/tmp/nrtest.XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void passing_scenario_exits_zero(void **state)
{
    (void)state;
    write_file("ok.scn", "target srv = tcp-greet --port 0\n"
                         "connect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n"
                         "expect a eof\n");
    assert_int_equal(netrig("run", "-a", "art", "ok.scn", NULL), 0);
    assert_non_null(strstr(out_text(), "PASS"));
    assert_non_null(strstr(out_text(), "1 passed, 0 failed"));
}

static void mismatch_shows_hexdiff(void **state)
{
    char *out;

    (void)state;
    write_file("bad.scn", "target srv = tcp-greet --port 0 --message Welcome?\n"
                          "connect a = tcp ${srv}\n"
                          "expect a \"Welcome!\\n\"\n");
    assert_int_equal(netrig("run", "-a", "art", "bad.scn", NULL), 1);
    out = out_text();
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
    write_file("good.scn", "target srv = tcp-greet --port 0\n");
    write_file("worse.scn", "target srv = tcp-greet --port 0\n"
                            "connect a = tcp ${srv}\n"
                            "expect a \"unterminated\n");
    assert_int_equal(netrig("run", "-a", "never", "good.scn", "worse.scn", NULL), 2);
    err = err_text();
    assert_non_null(strstr(err, "worse.scn:3:"));
    assert_int_equal(stat("never", &sb), -1); /* not one scenario started */
}

static void tap_and_junit_reports(void **state)
{
    char *out, *xml;

    (void)state;
    write_file("ok.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    write_file("no.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Goodbye\"\n");
    assert_int_equal(netrig("run", "-a", "art", "--tap", "--junit", "j.xml", "ok.scn", "no.scn",
                            NULL), 1);
    out = out_text();
    assert_true(strncmp(out, "TAP version 14\n1..2\n", 20) == 0);
    assert_non_null(strstr(out, "\nok 1 - ok.scn\n"));
    assert_non_null(strstr(out, "\nnot ok 2 - no.scn\n  ---\n"));
    xml = read_file("j.xml");
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<testsuite name=\"no.scn\" tests=\"1\" failures=\"1\""));
    assert_non_null(strstr(xml, "<failure message="));
    assert_non_null(strstr(xml, "<system-out>artifacts: art/no.scn"));
}

static void crashed_target_fails_with_its_stderr(void **state)
{
    char *out;

    (void)state;
    write_file("crash.scn", "target t nowait = sh -c \"echo dying >&2; kill -SEGV $$\"\n"
                            "sleep 200ms\n");
    assert_int_equal(netrig("run", "-a", "art", "crash.scn", NULL), 1);
    out = out_text();
    assert_non_null(strstr(out, "crash.scn: at the end of the scenario:"));
    assert_non_null(strstr(out, "target 't' (line 1): crashed: signal 11"));
    assert_non_null(strstr(out, "dying"));
}

/* prove (Perl's TAP::Harness) runs netrig's TAP output. */
static void prove_accepts_the_tap_stream(void **state)
{
    char cmd[1024];

    (void)state;
    write_file("p1.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    snprintf(cmd, sizeof(cmd), "prove --exec '%s/netrig run -a art --tap' p1.scn > prove.out 2>&1",
             bin);
    assert_int_equal(system(cmd), 0);
    assert_non_null(strstr(read_file("prove.out"), "Result: PASS"));
}

static void glob_filter_matches_path_tails(void **state)
{
    (void)state;
    assert_int_equal(mkdir("sub", 0755) == 0 || errno == EEXIST, 1);
    write_file("sub/f1.scn", "sleep 1ms\n");
    write_file("sub/f2.scn", "sleep 1ms\n");
    write_file("other.scn", "sleep 1ms\n");
    assert_int_equal(netrig("run", "-a", "art", "--filter", "sub/*.scn", ".", NULL), 0);
    assert_non_null(strstr(out_text(), "2 passed, 0 failed"));
}

/* On the shared host loopback, scenarios binding the same fixed port must
 * not run at the same time. */
static void fixed_ports_share_the_host_one_at_a_time(void **state)
{
    (void)state;
    write_file("fix1.scn", "listen l = tcp 127.0.0.1:47811\nsleep 300ms\n");
    write_file("fix2.scn", "listen l = tcp 127.0.0.1:47811\nsleep 300ms\n");
    assert_int_equal(netrig("run", "-a", "art", "--no-netns", "-j", "2", "fix1.scn", "fix2.scn",
                            NULL), 0);
    assert_non_null(strstr(out_text(), "2 passed, 0 failed"));
}

static void refuses_remote_destinations(void **state)
{
    (void)state;
    write_file("remote.scn", "connect a = tcp 192.0.2.1:80\n");
    assert_int_equal(netrig("run", "-a", "art", "remote.scn", NULL), 1);
    assert_non_null(strstr(out_text(), "refusing non-loopback destination 192.0.2.1:80"));
}

/* Kill netrig with SIGKILL mid-scenario: its target must not survive. */
static void killing_netrig_leaves_no_process(void **state)
{
    char *argv[8], netrig_path[600], errbuf[NR_ERRBUF_SIZE], *log, *pidp;
    struct nr_proc p;
    pid_t target = 0;

    (void)state;
    write_file("long.scn", "target srv = tcp-echo --port 0\n"
                           "connect a = tcp ${srv}\n"
                           "sleep 30s\n");
    snprintf(netrig_path, sizeof(netrig_path), "%s/netrig", bin);
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
        log = read_file("art/long.scn/steps.log");
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
        assert_int_equal(netrig("run", "-a", "art", "ok.scn", NULL), 0);
        return;
    }
    write_file("ok.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    assert_int_equal(chmod(dir, 0777), 0);
    snprintf(netrig_path, sizeof(netrig_path), "%s/netrig", bin);
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
        fail_msg("unprivileged run failed: %s", read_file("unpriv.out"));
    assert_null(strstr(read_file("unpriv.out"), "namespaces unavailable"));
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
    return cmocka_run_group_tests(tests, setup, teardown);
}
