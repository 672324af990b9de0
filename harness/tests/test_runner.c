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
#include <dirent.h>

#include "nr_proc.h"
#include "runner_util.h"

/* The flake tests repeat 200 times; a sanitized netrig (10x slower to start
 * a scenario) repeats 20 times, which still covers its own code paths. */
#if defined(__SANITIZE_ADDRESS__)
#define REPEATS "20"
#else
#define REPEATS "200"
#endif

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

static void tap_and_junit_reports(void **state)
{
    char *out, *xml;

    (void)state;
    ru_write("ok.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\n");
    ru_write("no.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Goodbye\"\n");
    /* -j 1: TAP numbers follow the order in which scenarios end */
    assert_int_equal(ru_netrig("run", "-j", "1", "-a", "art", "--tap", "--junit", "j.xml", "ok.scn",
                               "no.scn", NULL), 1);
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

/* Processes whose environment holds NRTEST_MARK=mark (the test's own). */
static int count_marked(const char *mark)
{
    char want[96], path[300], buf[65536];
    struct dirent *e;
    DIR *d = opendir("/proc");
    int n = 0;

    assert_non_null(d);
    snprintf(want, sizeof(want), "NRTEST_MARK=%s", mark);
    while ((e = readdir(d))) {
        int fd;
        ssize_t len;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        for (char *p = buf; p < buf + len; p += strlen(p) + 1)
            if (strcmp(p, want) == 0) {
                n++;
                break;
            }
    }
    closedir(d);
    return n;
}

/* Start netrig on a scenario, wait until the steps.log in artifacts dir
 * art/logdir shows `line` has run, then send it sig; returns netrig's wait
 * status. */
static int signal_mid_run(const char *scn, const char *art, const char *logdir,
                          const char *line, int sig, const char *extra)
{
    char *argv[12], logpath[256], *log;
    struct nr_proc p;
    int argc = 1, seen = 0;

    argv[argc++] = "run";
    argv[argc++] = "-j";
    argv[argc++] = "1";
    argv[argc++] = "-a";
    argv[argc++] = (char *)art;
    if (extra) {
        argv[argc++] = "--tap";
        argv[argc++] = "--junit";
        argv[argc++] = (char *)extra;
    }
    argv[argc++] = (char *)scn;
    argv[argc] = NULL;
    ru_spawn(argv, &p);
    snprintf(logpath, sizeof(logpath), "%s/%s/steps.log", art, logdir);
    for (int i = 0; i < 1000 && !seen; i++) {
        usleep(10000);
        log = ru_read(logpath);
        seen = log && strstr(log, line);
    }
    assert_true(seen);
    kill(p.pid, sig);
    assert_int_equal(nr_proc_wait(&p, 10000), 1);
    nr_proc_release(&p);
    return p.status;
}

/* Kill netrig with SIGKILL mid-scenario: nginx (master and workers) and a
 * forking server's children and daemonised grandchild must not survive. */
static void killing_netrig_leaves_no_process(void **state)
{
    char conf[2048], mark[64], scn[4096];

    (void)state;
    snprintf(mark, sizeof(mark), "k%d", (int)getpid());
    snprintf(conf, sizeof(conf),
             "daemon off; master_process on; worker_processes 2; pid %s/nginx.pid;\n"
             "env NRTEST_MARK; error_log stderr notice;\n"
             "events { worker_connections 64; }\n"
             "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
             "  fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
             "  server { listen 127.0.0.1:8080; root %s; } }\n",
             ru_dir, ru_dir, ru_dir, ru_dir, ru_dir, ru_dir, ru_dir);
    ru_write("nginx.conf", conf);
    snprintf(scn, sizeof(scn),
             "target web nowait env NRTEST_MARK=%s = /usr/sbin/nginx -c %s/nginx.conf -e stderr\n"
             "target srv env NRTEST_MARK=%s = %s/../tests/helpers/forksrv --daemon\n"
             "connect a = tcp ${srv}\n"
             "send a \"x\"\n"
             "expect a \"x\"\n"
             "stderr web /worker process/ within 5s\n"
             "sleep 30s\n", mark, ru_dir, mark, ru_bin);
    ru_write("long.scn", scn);
    if (access("/usr/sbin/nginx", X_OK) != 0)
        fail_msg("nginx is not installed (ci/packages.txt has it)");
    signal_mid_run("long.scn", "art", "long.scn", "6: stderr web", SIGKILL, NULL);
    for (int i = 0; i < 300 && count_marked(mark) != 0; i++)
        usleep(10000);
    assert_int_equal(count_marked(mark), 0);
}

/* SIGINT or SIGTERM mid-run: the unfinished scenarios are "not run", never
 * passed, in the summary, TAP and JUnit; the exit status says interrupted. */
static void interrupt_reports_not_run(void **state)
{
    char *out, *xml;
    int ws;

    (void)state;
    assert_int_equal(mkdir("intr", 0755) == 0 || errno == EEXIST, 1);
    ru_write("intr/a.scn", "sleep 1ms\n");
    ru_write("intr/b.scn", "target srv = tcp-echo --port 0\nconnect a = tcp ${srv}\nsleep 20s\n");
    ru_write("intr/c.scn", "sleep 1ms\n");
    ru_write("intr/d.scn", "sleep 1ms\n");
    ws = signal_mid_run("intr", "iart", "intr/b.scn", "2: connect a", SIGINT, "intr.xml");
    (void)ws;
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 130);
    out = ru_out();
    ru_assert_contains(out, "1..4\n");
    ru_assert_contains(out, "\nok 1 - intr/a.scn\n");
    ru_assert_contains(out, "\nnot ok 2 - intr/b.scn # interrupted by SIGINT: not finished\n");
    ru_assert_contains(out, "\nnot ok 3 - intr/c.scn # interrupted by SIGINT: not run\n");
    ru_assert_contains(out, "\nnot ok 4 - intr/d.scn # interrupted by SIGINT: not run\n");
    ru_assert_contains(ru_err(), "1 passed, 0 failed, 0 errors, 0 skipped, 3 not run "
                                 "(interrupted by SIGINT)");
    xml = ru_read("intr.xml");
    ru_assert_contains(xml, "<skipped message=\"interrupted by SIGINT: not run\">");
    ru_assert_contains(xml, "tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\"");

    ws = signal_mid_run("intr/b.scn", "iart2", "intr/b.scn", "2: connect a", SIGTERM, NULL);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 143);
    ru_assert_contains(ru_out(), "0 passed, 0 failed, 0 errors, 0 skipped, 1 not run");
}

/* A skipped scenario (no capture for its wire step) fails the run unless
 * --allow-skip. */
static void skip_fails_unless_allowed(void **state)
{
    (void)state;
    ru_write("skip.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                         "expect a \"Welcome!\\n\"\nwire a state SF\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "--no-capture", "skip.scn", NULL), 1);
    ru_assert_contains(ru_out(), "SKIP ");
    ru_assert_contains(ru_out(), "0 passed, 0 failed, 0 errors, 1 skipped, 0 not run");
    ru_assert_contains(ru_out(), "skipped scenarios fail the run");
    assert_int_equal(ru_netrig("run", "-a", "art", "--no-capture", "--allow-skip", "skip.scn",
                               NULL), 0);
}

/* --time-scale takes a finite number above 0 and nothing else: anything
 * else is a usage error (exit 2) naming the value, and nothing runs. */
static void bad_time_scale_is_a_usage_error(void **state)
{
    static const char *const bad[] = { "nan", "inf", "-inf", "2x", "0", "-1", "", "1e999" };

    (void)state;
    ru_write("ts.scn", "sleep 1ms\n");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[64];

        assert_int_equal(ru_netrig("run", "-a", "art", "--no-capture", "--time-scale", bad[i],
                                   "ts.scn", NULL), 2);
        snprintf(want, sizeof(want), "bad value for --time-scale: '%s'", bad[i]);
        ru_assert_contains(ru_err(), want);
    }
    assert_int_equal(ru_netrig("run", "-a", "art", "--no-capture", "--time-scale", "0.5",
                               "ts.scn", NULL), 0);
}

/* A report that cannot be written is a usage error found before anything
 * runs. */
static void unwritable_report_runs_nothing(void **state)
{
    struct stat sb;

    (void)state;
    ru_write("ok.scn", "sleep 1ms\n");
    assert_int_equal(ru_netrig("run", "-a", "never-made", "--junit", "no/such/dir/j.xml",
                               "ok.scn", NULL), 2);
    ru_assert_contains(ru_err(), "cannot write the report no/such/dir/j.xml");
    assert_int_equal(stat("never-made", &sb), -1);
}

/* Every malformed file is reported, as an error test case; the good ones
 * still run (unless --fail-fast); the exit status is 2. */
static void malformed_files_are_errors_and_good_ones_run(void **state)
{
    char *out, *xml;

    (void)state;
    ru_write("mgood.scn", "target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\n"
                          "expect a \"Welcome!\\n\"\n");
    ru_write("mbad1.scn", "connect a = tcp\n");
    ru_write("mbad2.scn", "sleep 200\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "--tap", "--junit", "m.xml", "mbad1.scn",
                               "mgood.scn", "mbad2.scn", NULL), 2);
    out = ru_out();
    ru_assert_contains(out, "1..3\n");
    ru_assert_contains(out, "not ok 1 - mbad1.scn # error");
    ru_assert_contains(out, "not ok 2 - mbad2.scn # error"); /* numbered as reported */
    ru_assert_contains(out, "ok 3 - mgood.scn\n");
    ru_assert_contains(out, "mbad2.scn:1:7: expected a duration");
    ru_assert_contains(ru_err(), "1 passed, 0 failed, 2 errors, 0 skipped, 0 not run");
    xml = ru_read("m.xml");
    ru_assert_contains(xml, "<error message=\"mbad1.scn:1:");
    ru_assert_contains(xml, "tests=\"1\" failures=\"0\" errors=\"1\"");
    assert_int_equal(ru_netrig("run", "-a", "art", "--fail-fast", "mbad1.scn", "mgood.scn",
                               NULL), 2);
    ru_assert_contains(ru_out(), "0 passed, 0 failed, 1 errors, 0 skipped, 1 not run");
}

/* A server whose forked children close their connections after the server
 * itself was told to stop, from a session of their own: the capture must
 * hold their FIN, because the scenario waits for every process of it. */
static void forked_children_are_waited_for(void **state)
{
    char scn[1024];

    (void)state;
    snprintf(scn, sizeof(scn),
             "target srv = %s/../tests/helpers/forksrv --setsid --linger 300\n"
             "connect a = tcp ${srv}\n"
             "send a \"ping\"\n"
             "expect a \"ping\"\n"
             "shutdown a write\n"
             "wire a state SF\n", ru_bin);
    ru_write("fork1.scn", scn);
    assert_int_equal(ru_netrig("run", "-a", "art", "fork1.scn", NULL), 0);
}

/* 200 runs of a forking server whose child closes last: no flake. */
static void forking_server_wire_state_200_times(void **state)
{
    char scn[1024];

    (void)state;
    snprintf(scn, sizeof(scn),
             "target srv = %s/../tests/helpers/forksrv --linger 20\n"
             "connect a = tcp ${srv}\n"
             "send a \"ping\"\n"
             "expect a \"ping\"\n"
             "shutdown a write\n"
             "wire a state SF\n"
             "wire a first-fin us\n", ru_bin);
    ru_write("fork200.scn", scn);
    assert_int_equal(ru_netrig("run", "-a", "art", "-j", "2", "-r", REPEATS, "fork200.scn", NULL),
                     0);
    ru_assert_contains(ru_out(), REPEATS " passed, 0 failed");
}

/* nginx with two workers, 200 runs: the worker's FIN after our half-close
 * is always in the capture, and no nginx process outlives its scenario. */
static void nginx_workers_wire_state_200_times(void **state)
{
    char conf[1024], scn[1024], mark[64];

    (void)state;
    if (access("/usr/sbin/nginx", X_OK) != 0)
        fail_msg("nginx is not installed (ci/packages.txt has it)");
    snprintf(mark, sizeof(mark), "n%d", (int)getpid());
    assert_int_equal(mkdir("www", 0755) == 0 || errno == EEXIST, 1);
    ru_write("www/hello.txt", "hello\n");
    snprintf(conf, sizeof(conf),
             "daemon off; master_process on; worker_processes 2; user root root;\n"
             "env NRTEST_MARK;\n"
             "events { worker_connections 64; }\n"
             "http { access_log off; server { listen 127.0.0.1:8080; root %s/www; } }\n",
             ru_dir);
    ru_write("nginx200.conf", conf);
    snprintf(scn, sizeof(scn),
             "target web nowait env NRTEST_MARK=%s = /usr/sbin/nginx -c %s/nginx200.conf "
             "-e stderr -g \"pid ${tmp}/nginx.pid;\"\n"
             "file ${tmp}/nginx.pid /^[0-9]+/\n"
             "connect a = tcp 127.0.0.1:8080\n"
             "send a \"GET /hello.txt HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n\"\n"
             "expect a /HTTP\\/1.1 200 OK/\n"
             "expect a until \"hello\\n\"\n"
             "shutdown a write\n"
             "wire a state SF\n"
             "wire a first-fin us\n", mark, ru_dir);
    ru_write("nginx200.scn", scn);
    snprintf(scn, sizeof(scn), "%s/nart", ru_dir); /* ${tmp} must be absolute for nginx */
    assert_int_equal(ru_netrig("run", "-a", scn, "-j", "2", "-r", REPEATS, "nginx200.scn", NULL),
                     0);
    ru_assert_contains(ru_out(), REPEATS " passed, 0 failed");
    assert_int_equal(count_marked(mark), 0);
}

/* Write NAME: an echo, reached directly (via "") or through a proxy (via
 * "proxy"), a round trip, then a step that never returns by itself (a
 * file step reading a FIFO nobody writes), under a deadline of 1 s. */
static void write_hang(const char *name, const char *via)
{
    char text[1024];

    assert_int_equal(mkfifo("fifo", 0644) == 0 || errno == EEXIST, 1);
    snprintf(text, sizeof(text),
             "deadline 1s\n"
             "target srv = tcp-echo --port 0\n"
             "%s"
             "connect a = tcp ${%s}\n"
             "send a \"hello\"\n"
             "expect a \"hello\"\n"
             "file %s/fifo \"never\"\n",
             *via ? "proxy p = tcp ${srv}\n" : "", *via ? "p" : "srv", ru_dir);
    ru_write(name, text);
}

/* A step that never returns by itself: the watchdog names the step at the
 * deadline, the step log is complete and the capture readable. */
static void deadline_overrun_names_the_step(void **state)
{
    char cmd[1024];

    (void)state;
    write_hang("hang.scn", "");
    assert_int_equal(ru_netrig("run", "-a", "art", "hang.scn", NULL), 1);
    ru_assert_contains(ru_out(), "hang.scn:6: file ");
    ru_assert_contains(ru_out(), "scenario deadline (1 s) exceeded: this step was still running");
    ru_assert_contains(ru_read("art/hang.scn/steps.log"), "watchdog: ");
    snprintf(cmd, sizeof(cmd), "%s/netrig pcap summary art/hang.scn/capture.pcap > sum.out 2>&1",
             ru_bin);
    assert_int_equal(system(cmd), 0);
    ru_assert_contains(ru_read("sum.out"), "tcp");
}

/* With a fault proxy, the watchdog's failure gives the proxies' seed, as
 * every other failure of such a scenario does: the run can be replayed. */
static void deadline_overrun_gives_the_proxy_seed(void **state)
{
    (void)state;
    write_hang("hangpx.scn", "proxy");
    assert_int_equal(ru_netrig("run", "--seed", "77", "-a", "art", "hangpx.scn", NULL), 1);
    ru_assert_contains(ru_out(), "hangpx.scn:7: file ");
    ru_assert_contains(ru_out(), "scenario deadline (1 s) exceeded: this step was still running");
    ru_assert_contains(ru_out(), "fault proxies' seed 77: netrig run --seed 77 replays");
}

/* A scenario process that cannot even report (stopped by SIGSTOP, so its
 * watchdog is frozen too) is killed after its deadline and its margin, and
 * the run fails naming the last thing its step log says. */
static void frozen_scenario_is_killed_and_failed(void **state)
{
    char *argv[8], logpath[] = "art/frozen.scn/steps.log", *log;
    struct nr_proc p;
    pid_t scn = 0;
    int seen = 0;

    (void)state;
    ru_write("frozen.scn", "deadline 500ms\nsleep 100ms\nsleep 300ms\n");
    argv[1] = "run";
    argv[2] = "-a";
    argv[3] = "art";
    argv[4] = "frozen.scn";
    argv[5] = NULL;
    ru_spawn(argv, &p);
    for (int i = 0; i < 500 && !seen; i++) { /* until the first sleep is logged */
        usleep(5000);
        log = ru_read(logpath);
        seen = log && strstr(log, "2: sleep 100ms");
    }
    assert_true(seen);
    for (int i = 0; i < 100 && scn <= 0; i++) { /* netrig's child: the scenario's process */
        char path[64], *stat;
        struct dirent *e;
        DIR *d = opendir("/proc");
        while (d && (e = readdir(d)) && scn <= 0) {
            snprintf(path, sizeof(path), "/proc/%.20s/stat", e->d_name);
            stat = ru_read(path);
            if (stat && atoi(e->d_name) > 0 && strrchr(stat, ')') &&
                atoi(strrchr(stat, ')') + 4) == p.pid)
                scn = atoi(e->d_name);
        }
        if (d)
            closedir(d);
    }
    assert_true(scn > 0);
    assert_int_equal(kill(scn, SIGSTOP), 0);
    assert_int_equal(nr_proc_wait(&p, 30000), 1);
    nr_proc_release(&p);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 1);
    ru_assert_contains(ru_out(), "FAIL  frozen.scn");
    ru_assert_contains(ru_out(), "scenario deadline exceeded; its process did not report and "
                                 "was killed\n  last in steps.log: ");
    {   /* the line quoted is the step log's last step line (the freeze may
         * land in step 2 or, on a loaded machine, in step 3) */
        char quoted[256], *at = strstr(ru_out(), "last in steps.log: ");
        size_t n = strcspn(at + 19, "\n");
        snprintf(quoted, sizeof(quoted), "%.*s", (int)n, at + 19);
        assert_true(strncmp(quoted, "2: sleep 100ms", 14) == 0 ||
                    strncmp(quoted, "3: sleep 300ms", 14) == 0);
        ru_assert_contains(ru_read(logpath), quoted);
    }
}

/* A long transfer that keeps progressing still ends at the deadline. */
static void deadline_cuts_a_progressing_step(void **state)
{
    (void)state;
    ru_write("long.scn", "deadline 1s\n"
                         "target srv = tcp-echo --port 0\n"
                         "connect a = tcp ${srv}\n"
                         "send a pattern 4000000000\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "long.scn", NULL), 1);
    ru_assert_contains(ru_out(), "long.scn:4: send a pattern 4000000000");
    ru_assert_contains(ru_out(), "scenario deadline (1 s) exceeded");
}

/* param + -D: one value replaces the default; several run each scenario
 * that declares the param once per value, named by it; a -D no scenario
 * declares is a usage error; include shares steps between files. */
static void params_matrix_and_include(void **state)
{
    char *out;
    struct stat sb;

    (void)state;
    assert_int_equal(mkdir("pm", 0755) == 0 || errno == EEXIST, 1);
    ru_write("pm/greet.inc", "param msg = \"Welcome!\"\n"
                             "target srv = tcp-greet --port 0 --message ${msg}\n"
                             "connect a = tcp ${srv}\n");
    ru_write("pm/p.scn", "include greet.inc\nexpect a \"${msg}\\n\"\nexpect a eof\n");
    ru_write("pm/q.scn", "sleep 1ms\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "pm/p.scn", NULL), 0);
    assert_int_equal(ru_netrig("run", "-k", "-a", "art", "-D", "msg=hi,good day", "pm", NULL), 0);
    out = ru_out();
    ru_assert_contains(out, "PASS  pm/p.scn [msg=hi] ");
    ru_assert_contains(out, "PASS  pm/p.scn [msg=good day] ");
    ru_assert_contains(out, "PASS  pm/q.scn ");
    ru_assert_contains(out, "3 passed, 0 failed");
    assert_int_equal(stat("art/pm/p.scn[msg=hi]/steps.log", &sb), 0);
    assert_int_equal(stat("art/pm/p.scn[msg=good,day]/steps.log", &sb), 0);
    ru_assert_contains(ru_read("art/pm/p.scn[msg=hi]/steps.log"), "param msg = hi (-D)");
    /* the value is really used: a wrong expectation fails under the matrix */
    ru_write("pm/r.scn", "include greet.inc\nexpect a \"Welcome!\\n\"\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "-D", "msg=hi", "pm/r.scn", NULL), 1);
    /* "\," is a comma inside a value */
    assert_int_equal(ru_netrig("run", "-a", "art", "-D", "msg=a\\,b,c", "pm/p.scn", NULL), 0);
    ru_assert_contains(ru_out(), "PASS  pm/p.scn [msg=a,b] ");
    ru_assert_contains(ru_out(), "PASS  pm/p.scn [msg=c] ");
    assert_int_equal(ru_netrig("run", "-a", "art", "-D", "nope=1", "pm", NULL), 2);
    ru_assert_contains(ru_err(), "-D nope: no scenario declares 'param nope'");
    assert_int_equal(ru_netrig("run", "-a", "art", "-D", "no-equals", "pm", NULL), 2);
    ru_assert_contains(ru_err(), "bad value for -D: 'no-equals'");
}

/* unix stream and datagram sockets, by path and in the abstract namespace,
 * both as client and server; they are not on the captured wire, and the
 * step log says so rather than passing a check it could not make. */
static void unix_sockets_both_ways(void **state)
{
    char *log;

    (void)state;
    ru_write("unix.scn",
             "listen l = unix ${tmp}/s.sock\n"
             "target cli nowait = socat - UNIX-CONNECT:${tmp}/s.sock\n"
             "accept a = l\n"
             "send a \"hello\\n\"\n"
             "stdout cli \"hello\\n\"\n"
             "close a\n"
             "exit cli 0\n"
             "target echo nowait = socat ABSTRACT-LISTEN:nrtest-echo,fork EXEC:cat\n"
             "connect b = unix @nrtest-echo retry\n"
             "send b x\"00ff\"\n"
             "expect b x\"00ff\"\n"
             "shutdown b write\n"
             "expect b eof\n"
             "connect gone = unix ${tmp}/none.sock refused\n"
             "listen u = unixgram @nrtest-dg\n"
             "connect d = unixgram @nrtest-dg\n"
             "send d \"ping\"\n"
             "expect u \"ping\"\n"
             "send u \"pong\"\n"
             "expect d \"pong\"\n"
             "connect nod = unixgram @nrtest-nobody refused\n");
    assert_int_equal(ru_netrig("run", "-k", "-a", "art", "unix.scn", NULL), 0);
    log = ru_read("art/unix.scn/steps.log");
    ru_assert_contains(log, "wire: b is a unix socket: not in the capture, not checked");
    ru_assert_contains(log, "wire: d is a unix socket: not in the capture, not checked");
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

/* A run into the artifacts of an earlier one starts with its folder empty
 * (${tmp} too), and a symbolic link a target left there is removed, not
 * followed. */
static void rerun_starts_with_empty_artifacts(void **state)
{
    static const char scn[] = "file ${tmp}/mark absent\n"
                              "target t nowait = sh -c \"echo x > ${tmp}/mark; "
                              "ln -s $PWD/keep ${tmp}/link\"\n"
                              "exit t 0\n"
                              "file ${tmp}/mark \"x\\n\"\n";
    struct stat sb;

    (void)state;
    assert_int_equal(mkdir("keep", 0755), 0);
    ru_write("keep/precious", "do not delete\n");
    assert_int_equal(ru_run_scn("fresh.scn", scn), 0);
    assert_int_equal(ru_run_scn("fresh.scn", scn), 0);
    assert_int_equal(stat("keep/precious", &sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passing_scenario_exits_zero),
        cmocka_unit_test(mismatch_shows_hexdiff),
        cmocka_unit_test(tap_and_junit_reports),
        cmocka_unit_test(crashed_target_fails_with_its_stderr),
        cmocka_unit_test(prove_accepts_the_tap_stream),
        cmocka_unit_test(glob_filter_matches_path_tails),
        cmocka_unit_test(fixed_ports_share_the_host_one_at_a_time),
        cmocka_unit_test(refuses_remote_destinations),
        cmocka_unit_test(killing_netrig_leaves_no_process),
        cmocka_unit_test(interrupt_reports_not_run),
        cmocka_unit_test(skip_fails_unless_allowed),
        cmocka_unit_test(bad_time_scale_is_a_usage_error),
        cmocka_unit_test(unwritable_report_runs_nothing),
        cmocka_unit_test(malformed_files_are_errors_and_good_ones_run),
        cmocka_unit_test(forked_children_are_waited_for),
        cmocka_unit_test(forking_server_wire_state_200_times),
        cmocka_unit_test(nginx_workers_wire_state_200_times),
        cmocka_unit_test(deadline_overrun_names_the_step),
        cmocka_unit_test(deadline_overrun_gives_the_proxy_seed),
        cmocka_unit_test(deadline_cuts_a_progressing_step),
        cmocka_unit_test(frozen_scenario_is_killed_and_failed),
        cmocka_unit_test(params_matrix_and_include),
        cmocka_unit_test(unix_sockets_both_ways),
        cmocka_unit_test(runs_without_root),
        cmocka_unit_test(rerun_starts_with_empty_artifacts),
    };
    return cmocka_run_group_tests(tests, ru_setup, ru_teardown);
}
