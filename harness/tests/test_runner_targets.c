/* Tests of how `netrig run` starts, stops and judges targets: a target that
 * ends by itself without a step expecting it fails the scenario; the
 * teardown stops every target at once within one grace period and judges
 * the end against the target's clean set; `stop` sends the signal asked
 * for and judges the outcome asked for; readiness lines anywhere in the
 * output; the target's own environment and PATH. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner_util.h"

/* The end of a shell target that serves until a signal ends it: the shell
 * forks once, before its readiness line, then waits (a trapped signal
 * interrupts `wait` at once; no fork is under way when a signal comes). */
#define SERVE "sleep 100 & echo listening on 127.0.0.1:1; wait"
#define READY "echo listening on 127.0.0.1:1; "

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- targets that end by themselves ----------------------------------- */

static void early_exit_0_fails(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("e0.scn", "target t nowait = sh -c \"echo bye-zero >&2; exit 0\"\n"
                                        "sleep 300ms\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "e0.scn: at the end of the scenario:");
    ru_assert_contains(out, "target 't' (line 1): ended by itself with exit 0 before the end of "
                            "the scenario, and no 'exit' or 'stop' step expected it");
    ru_assert_contains(out, "bye-zero");
}

/* A server that exits 1 right after its readiness line. */
static void early_exit_1_fails(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("e1.scn", "sleep 1ms\n"
                                       "target srv = sh -c \"" READY "echo oops-one >&2; exit 1\"\n"
                                       "sleep 300ms\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "target 'srv' (line 2): ended by itself with exit 1 before the end");
    ru_assert_contains(out, "oops-one");
}

static void early_signal_fails(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("es.scn", "target t nowait = sh -c \"echo by-usr1 >&2; kill -USR1 $$\"\n"
                                       "sleep 300ms\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "target 't' (line 1): crashed: signal 10 (User defined signal 1) "
                            "before the end of the scenario, and no 'exit' or 'stop' step "
                            "expected it");
    ru_assert_contains(out, "by-usr1");
}

/* The early end is added to an earlier step failure, and the stderr shown
 * is the tail of the target's stderr. */
static void early_end_adds_to_step_failure_with_stderr_tail(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("tail.scn",
                             "target t nowait = sh -c \"echo FIRST-LINE >&2; "
                             "head -c 3000 /dev/zero | tr -c a a >&2; echo LAST-LINE >&2; exit 2\"\n"
                             "sleep 300ms\n"
                             "file ${tmp}/nothing absent\n"
                             "file ${tmp} absent\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "tail.scn:4: file ${tmp} absent");
    ru_assert_contains(out, "tail.scn: at the end of the scenario:");
    ru_assert_contains(out, "ended by itself with exit 2");
    ru_assert_contains(out, "  ...\n");
    ru_assert_contains(out, "LAST-LINE");
    assert_null(strstr(out, "FIRST-LINE"));
}

static void exit_step_expecting_the_end_passes(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("x3.scn", "target t nowait = sh -c \"exit 3\"\nexit t 3\n"), 0);
    assert_int_equal(ru_run_scn("xc.scn", "target t nowait = sh -c \"exit 0\"\nexit t clean\n"), 0);
    assert_int_equal(ru_run_scn("x4.scn", "target t nowait = sh -c \"echo why-three >&2; exit 3\"\n"
                                       "exit t 4\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "x4.scn:2: exit t 4\n  't' ended with exit 3, expected exit 4");
    ru_assert_contains(out, "why-three");
    assert_null(strstr(out, "at the end of the scenario")); /* judged once, by its step */
}

/* --- the teardown -------------------------------------------------------- */

/* socat and many others exit 128+15 on SIGTERM: a clean end. */
static void teardown_exit_143_passes(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("t143.scn", "target t = sh -c \"trap 'exit 143' TERM; " SERVE
                                         "\"\nsleep 50ms\n"),
                     0);
    ru_assert_contains(ru_read("art/t143.scn/steps.log"), "t ended: exit 143 (stopped at end)");
}

static void teardown_exit_1_fails(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("t1.scn", "target t = sh -c \"trap 'echo term-exit-1 >&2; exit 1' "
                                       "TERM; " SERVE "\"\nsleep 50ms\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "target 't' (line 1): ended with exit 1 after SIGTERM at the end of "
                            "the scenario (clean: exit 0, exit 143 or SIGTERM)");
    ru_assert_contains(out, "term-exit-1");
}

/* A target that ignores its stop signal is killed after the grace period. */
static void teardown_kills_what_does_not_stop(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("tk.scn", "target t = sh -c \"trap '' TERM; " SERVE "\"\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "target 't' (line 1): did not stop within 1000 ms of SIGTERM: killed");
    ru_assert_contains(ru_read("art/tk.scn/steps.log"), "t ended: signal 9 (Killed) (killed at end)");
}

/* Five targets that each take 0.5 s to exit on SIGTERM share one grace
 * period of 1 s: every one is signalled before any has ended, and all of
 * them stop cleanly (one at a time, the later ones would run out of it). */
static void teardown_of_five_is_concurrent(void **state)
{
    char text[2048], *log, *last_sent, *first_end;
    size_t n = 0;

    (void)state;
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "target t%d = sh -c \"trap 'sleep 0.5; exit 0' TERM; " SERVE
                              "\"\n",
                              i);
    assert_int_equal(ru_run_scn("five.scn", text), 0);
    log = ru_read("art/five.scn/steps.log");
    for (int i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof(want), "t%d ended: exit 0 (stopped at end)", i);
        ru_assert_contains(log, want);
    }
    last_sent = strstr(log, "to t4 at the end");
    first_end = strstr(log, "t0 ended:");
    assert_non_null(last_sent);
    assert_non_null(first_end);
    if (last_sent > first_end)
        fail_msg("t0 ended before t4 was signalled:\n%s", log);
}

/* The children of a forking server got the stop signal too and may finish
 * their shutdown after the server itself exited: they are not killed at
 * once. */
static void teardown_lets_children_finish(void **state)
{
    char text[1024], mark[128];

    (void)state;
    snprintf(mark, sizeof(mark), "%s/child-done", ru_dir);
    snprintf(text, sizeof(text),
             "target t = sh -c \"(trap 'sleep 0.3; echo done > %s; exit 0' TERM; "
             "sleep 100 & wait) & sleep 0.2; trap 'exit 0' TERM; " SERVE "\"\nsleep 100ms\n",
             mark);
    assert_int_equal(ru_run_scn("kids.scn", text), 0);
    ru_assert_contains(ru_read(mark), "done");
}

/* --- stop ---------------------------------------------------------------- */

static void stop_sends_the_signal_asked_for(void **state)
{
    (void)state;
    /* INT gives 7, TERM would give 9 */
    assert_int_equal(ru_run_scn("int.scn", "target t = sh -c \"trap 'echo got-int >&2; exit 7' INT; "
                                        "trap 'exit 9' TERM; " SERVE "\"\n"
                                        "stop t signal INT expect 7\n"
                                        "stderr t \"got-int\"\n"),
                     0);
    /* the default outcome is clean relative to the signal sent: exit 130 */
    assert_int_equal(ru_run_scn("int130.scn", "target t = sh -c \"trap 'exit 130' INT; " SERVE
                                           "\"\nstop t signal INT within 1s\n"),
                     0);
    assert_int_equal(ru_run_scn("plain.scn", "target t = sh -c \"" SERVE "\"\nstop t\n"), 0);
}

static void stop_judges_the_outcome_asked_for(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("s3.scn", "target t = sh -c \"trap 'exit 3' TERM; " SERVE "\"\n"
                                       "stop t expect 3\n"),
                     0);
    assert_int_equal(ru_run_scn("sk.scn", "target t = sh -c \"trap '' TERM; " SERVE "\"\n"
                                       "stop t signal KILL expect signal KILL\n"),
                     0);
    assert_int_equal(ru_run_scn("s4.scn", "target t = sh -c \"trap 'echo three >&2; exit 3' TERM; "
                                       SERVE "\"\nstop t expect 4\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "s4.scn:2: stop t expect 4\n  't' ended with exit 3, expected exit 4");
    ru_assert_contains(out, "three");
    assert_int_equal(ru_run_scn("skf.scn", "target t = sh -c \"trap 'exit 0' TERM; " SERVE "\"\n"
                                        "stop t expect signal KILL\n"),
                     1);
    ru_assert_contains(ru_out(), "'t' ended with exit 0, expected SIGKILL");
    /* exit 3 is not clean by default */
    assert_int_equal(ru_run_scn("sc.scn", "target t = sh -c \"trap 'exit 3' TERM; " SERVE "\"\n"
                                       "stop t within 1s\n"),
                     1);
    ru_assert_contains(ru_out(), "'t' ended with exit 3, expected a clean end (exit 0, exit 143 "
                                 "or SIGTERM)");
}

/* --- target options: clean, stop-signal ----------------------------------- */

static void clean_and_stop_signal_options(void **state)
{
    (void)state;
    /* teardown sends HUP; 129 = 128 + HUP is clean for it */
    assert_int_equal(ru_run_scn("hup.scn", "target t stop-signal HUP = sh -c \"trap 'exit 129' HUP; "
                                        "trap 'exit 0' TERM; " SERVE "\"\n"),
                     0);
    /* a plain stop sends it too, and judges by it */
    assert_int_equal(ru_run_scn("hups.scn", "target t stop-signal HUP = sh -c \"trap 'exit 1' TERM; "
                                         SERVE "\"\nstop t within 1s\n"),
                     0);
    assert_int_equal(ru_run_scn("c5.scn", "target t clean 5 = sh -c \"trap 'exit 5' TERM; "
                                       SERVE "\"\n"),
                     0);
    /* the listed outcomes replace the default set: exit 0 is not clean */
    assert_int_equal(ru_run_scn("c5x.scn", "target t clean 5 clean signal HUP = sh -c \"trap 'exit 0' "
                                        "TERM; " SERVE "\"\n"),
                     1);
    ru_assert_contains(ru_out(), "ended with exit 0 after SIGTERM at the end of the scenario "
                                 "(clean: exit 5 or SIGHUP)");
    assert_int_equal(ru_run_scn("c5s.scn", "target t clean 5 = sh -c \"trap 'exit 0' TERM; "
                                        SERVE "\"\nstop t\n"),
                     1);
    ru_assert_contains(ru_out(), "'t' ended with exit 0, expected a clean end (exit 5)");
}

/* --- readiness ------------------------------------------------------------- */

static void ready_line_after_lots_of_output(void **state)
{
    (void)state;
    assert_int_equal(
        ru_run_scn("big.scn",
                "target t = sh -c \"i=0; while [ $i -lt 100 ]; do echo noise line $i "
                "......................................................................; "
                "i=$((i+1)); done; head -c 12000 /dev/zero | tr -c y y; echo; "
                "sleep 100 & echo listening on 127.0.0.1:9; wait\"\n"
                "target c nowait = sh -c \"echo ${t} > ${tmp}/addr\"\n"
                "exit c 0\n"
                "file ${tmp}/addr \"127.0.0.1:9\\n\"\n"),
        0);
}

static void ready_on_stderr(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("rerr.scn",
                             "target t ready stderr \"up at \" = sh -c \"echo up at 1.1.1.1:1; "
                             "sleep 100 & echo not this >&2; echo up at 127.0.0.1:7 >&2; wait\"\n"
                             "target c nowait = sh -c \"echo ${t} > ${tmp}/addr\"\n"
                             "exit c 0\n"
                             "file ${tmp}/addr \"127.0.0.1:7\\n\"\n"),
                     0);
    assert_int_equal(ru_run_scn("rnone.scn", "timeout 300ms\n"
                                          "target t ready stderr \"up at \" = sh -c \"echo up at "
                                          "1.1.1.1:1; sleep 100\"\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "'t' not ready within 300 ms (waiting for a line starting with 'up at ' "
                            "on stderr)");
    assert_null(strstr(out, "at the end of the scenario")); /* it was stopped cleanly */
}

/* A target that exits before its readiness line fails its step at once,
 * with its status and its stderr. */
static void ready_fails_at_once_when_the_target_exits(void **state)
{
    char *out;
    int64_t t0 = now_ms();

    (void)state;
    assert_int_equal(ru_run_scn("rexit.scn", "timeout 10s\n"
                                          "target t = sh -c \"echo cannot-bind >&2; exit 4\"\n"),
                     1);
    assert_true(now_ms() - t0 < 5000);
    out = ru_out();
    ru_assert_contains(out, "rexit.scn:2: target t = sh");
    ru_assert_contains(out, "'t' ended (exit 4) before it was ready (waiting for a line starting "
                            "with 'listening on ' on stdout)");
    ru_assert_contains(out, "cannot-bind");
    assert_null(strstr(out, "at the end of the scenario")); /* reported once */
}

/* --- environment and program lookup ------------------------------------- */

static void target_env_and_path(void **state)
{
    char *out;

    (void)state;
    setenv("NR_LIFE_MARK", "inherited", 1);
    assert_int_equal(ru_run_scn("env.scn",
                             "target a nowait env PATH=/custom = /bin/sh -c \"echo $PATH > "
                             "${tmp}/path\"\n"
                             "exit a 0\n"
                             "file ${tmp}/path \"/custom\\n\"\n"
                             "target b nowait = sh -c \"echo $NR_LIFE_MARK > ${tmp}/mark\"\n"
                             "exit b 0\n"
                             "file ${tmp}/mark \"inherited\\n\"\n"
                             "target c nowait env NR_LIFE_MARK=mine = sh -c \"echo "
                             "$NR_LIFE_MARK > ${tmp}/mark2\"\n"
                             "exit c 0\n"
                             "file ${tmp}/mark2 \"mine\\n\"\n"
                             /* PROG is looked up in the target's own PATH */
                             "target mk nowait = sh -c \"mkdir ${tmp}/pbin && printf "
                             "'#!/bin/sh\\\\necho found-me\\\\n' > ${tmp}/pbin/mytool && chmod +x "
                             "${tmp}/pbin/mytool\"\n"
                             "exit mk 0\n"
                             "target u nowait env PATH=${tmp}/pbin = mytool\n"
                             "exit u 0\n"
                             "stdout u \"found-me\"\n"),
                     0);
    unsetenv("NR_LIFE_MARK");
    assert_int_equal(ru_run_scn("nf.scn", "target n nowait env PATH=/nowhere:/neither = "
                                       "no-such-prog-xyz\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "cannot run 'no-such-prog-xyz': not an executable file in ");
    ru_assert_contains(out, "nor in PATH=/nowhere:/neither");
}

/* LISTEN_PID is the pid of the program itself, LISTEN_FDS 1. */
static void activation_env(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("act.scn",
                             "target t nowait activate tcp 127.0.0.1:0 = sh -c \"if [ "
                             "$LISTEN_PID = $$ ] && [ $LISTEN_FDS = 1 ]; then exit 0; fi; echo "
                             "$LISTEN_PID $$ $LISTEN_FDS >&2; exit 1\"\n"
                             "exit t 0\n"),
                     0);
}

/* --- readiness of programs that print nothing useful ------------------ */

/* ready port: given, or discovered among the target's own sockets (port 0,
 * behind an exec); UDP too; the address is the one a client uses
 * (127.0.0.1, not the wildcard), and the wait uses up no connection. */
static void ready_port_given_and_discovered(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("rport.scn",
                             "target a ready port 7000 = socat TCP-LISTEN:7000,reuseaddr EXEC:cat\n"
                             "target b ready port = sh -c \"exec socat TCP-LISTEN:0,fork EXEC:cat\"\n"
                             "target u ready port 7002 = socat UDP-RECVFROM:7002,fork EXEC:cat\n"
                             "connect x = tcp ${a}\nsend x \"1\"\nexpect x \"1\"\n"
                             "connect y = tcp ${b}\nsend y \"2\"\nexpect y \"2\"\n"
                             "connect z = udp ${u}\nsend z \"3\"\nexpect z \"3\"\n"
                             "set both = \"${a} ${u}\"\n"
                             "target c nowait = sh -c \"echo ${both} > ${tmp}/addr\"\n"
                             "exit c 0\n"
                             "file ${tmp}/addr \"127.0.0.1:7000 127.0.0.1:7002\\n\"\n"),
                     0);
}

/* A one-shot server that ends when the scenario's connection closes at the
 * end has not ended "before the end of the scenario" (and exit 0 is clean). */
static void ending_when_the_scenario_closes_is_clean(void **state)
{
    (void)state;
    ru_write("oneshot.scn", "target a ready port 7000 = socat TCP-LISTEN:7000,reuseaddr EXEC:cat\n"
                            "connect x = tcp ${a}\nsend x \"1\"\nexpect x \"1\"\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "-j", "2", "-r", "20", "oneshot.scn", NULL), 0);
    ru_write("oneshot1.scn", "target a ready port 7000 = sh -c \"trap '' TERM; "
                             "socat TCP-LISTEN:7000,reuseaddr EXEC:cat; exit 1\"\n"
                             "connect x = tcp ${a}\nsend x \"1\"\nexpect x \"1\"\n");
    assert_int_equal(ru_netrig("run", "-a", "art", "oneshot1.scn", NULL), 1);
    ru_assert_contains(ru_out(), "target 'a' (line 1): ended with exit 1 ");
}

/* Never ready: the failure names the condition and the time; ended before
 * ready: its status and stderr at once. */
static void ready_port_failures(void **state)
{
    char *out;
    int64_t t0;

    (void)state;
    assert_int_equal(ru_run_scn("rnever.scn", "timeout 300ms\ntarget t ready port 7001 = sleep 100\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "rnever.scn:2: target t ready port 7001 = sleep 100");
    ru_assert_contains(out, "'t' not ready within 300 ms (waiting for a listening socket on "
                            "port 7001)");
    t0 = now_ms();
    assert_int_equal(ru_run_scn("rdead.scn", "timeout 10s\n"
                             "target t ready port = sh -c \"echo cannot bind >&2; exit 3\"\n"),
                     1);
    assert_true(now_ms() - t0 < 5000); /* at once, not at the 10 s step timeout */
    out = ru_out();
    ru_assert_contains(out, "'t' ended (exit 3) before it was ready (waiting for a listening "
                            "socket of its own)");
    ru_assert_contains(out, "cannot bind");
}

/* ready /regex/: the first group is the address; ready file PATH. */
static void ready_regex_and_file(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("rre.scn",
                             "target e ready stdout /on ([0-9.]+:[0-9]+)$/ = tcp-echo --port 0\n"
                             "connect a = tcp ${e}\nsend a \"hi\"\nexpect a \"hi\"\n"
                             "target f ready file ${tmp}/flag = sh -c \"sleep 0.1; "
                             "echo x > ${tmp}/flag; " SERVE "\"\n"
                             "file ${tmp}/flag \"x\\n\"\n"),
                     0);
    assert_int_equal(ru_run_scn("rre2.scn", "timeout 300ms\n"
                                         "target e ready stderr /on ([0-9.]+:[0-9]+)$/ = "
                                         "tcp-echo --port 0\n"),
                     1);
    ru_assert_contains(ru_out(), "(waiting for a match of /on ([0-9.]+:[0-9]+)$/ on stderr)");
}

/* ${dir} is the scenario's directory, programs are found there first,
 * ${tmp} is absolute, and cwd sets the target's working directory. */
static void dir_tmp_and_cwd(void **state)
{
    (void)state;
    assert_int_equal(mkdir("sdir", 0755) == 0 || errno == EEXIST, 1);
    ru_write("sdir/where.sh", "#!/bin/sh\npwd > where.out\necho \"$1\" >> where.out\n" SERVE "\n");
    assert_int_equal(chmod("sdir/where.sh", 0755), 0);
    ru_write("sdir/cwd.scn", "target w cwd ${tmp} = where.sh ${dir}\n"
                             "file ${tmp}/where.out /^\\/.*\\/tmp\\n\\/.*\\/sdir\\n$/\n");
    assert_int_equal(ru_netrig("run", "-k", "-a", "art", "sdir/cwd.scn", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(early_exit_0_fails),
        cmocka_unit_test(early_exit_1_fails),
        cmocka_unit_test(early_signal_fails),
        cmocka_unit_test(early_end_adds_to_step_failure_with_stderr_tail),
        cmocka_unit_test(exit_step_expecting_the_end_passes),
        cmocka_unit_test(teardown_exit_143_passes),
        cmocka_unit_test(teardown_exit_1_fails),
        cmocka_unit_test(teardown_kills_what_does_not_stop),
        cmocka_unit_test(teardown_of_five_is_concurrent),
        cmocka_unit_test(teardown_lets_children_finish),
        cmocka_unit_test(stop_sends_the_signal_asked_for),
        cmocka_unit_test(stop_judges_the_outcome_asked_for),
        cmocka_unit_test(clean_and_stop_signal_options),
        cmocka_unit_test(ready_line_after_lots_of_output),
        cmocka_unit_test(ready_on_stderr),
        cmocka_unit_test(ready_fails_at_once_when_the_target_exits),
        cmocka_unit_test(target_env_and_path),
        cmocka_unit_test(activation_env),
        cmocka_unit_test(ready_port_given_and_discovered),
        cmocka_unit_test(ready_port_failures),
        cmocka_unit_test(ending_when_the_scenario_closes_is_clean),
        cmocka_unit_test(ready_regex_and_file),
        cmocka_unit_test(dir_tmp_and_cwd),
    };
    return cmocka_run_group_tests(tests, ru_setup, ru_teardown);
}
