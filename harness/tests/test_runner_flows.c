/* Tests of `netrig run` for servers driven from outside the runner's own
 * sockets: `connect ... retry` for a server whose readiness cannot be
 * observed; claims on any flow of the capture (`flow`, `flows ... count`),
 * including one between two targets (http-get and nginx); UDP listeners
 * that check who sent a datagram (`expect ... from`) and answer a chosen
 * peer (`send ... to`).  The claims that must fail are in
 * harness/tests/must-fail/ (flow-*, flows-*, connect-tcp-retry-*,
 * expect-udp-from-*, send-udp-to-*). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner_util.h"

/* The steps.log of scenario name (run by ru_run_scn). */
static char *steps_log(const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "art/%s/steps.log", name);
    return ru_read(path);
}

/* --- connect ... retry --------------------------------------------------- */

/* The server starts listening 300 ms after the scenario asks: a plain
 * connect is refused, a retrying one gets through and says after how many
 * refusals. */
#define LATE_SERVER                                                                              \
    "target srv nowait = sh -c \"sleep 0.3; exec \\\"$1\\\" --port 7411\" sh ${bin}/tcp-greet\n"

static void connect_retry_waits_for_a_late_server(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("late.scn", LATE_SERVER
                                         "connect a = tcp 127.0.0.1:7411 retry within 5s\n"
                                         "expect a \"Welcome!\\n\"\n"
                                         "expect a eof\n"),
                     0);
    ru_assert_contains(steps_log("late.scn"), "connect a: accepted after ");
    assert_int_equal(ru_run_scn("late-noretry.scn", LATE_SERVER
                                                 "connect a = tcp 127.0.0.1:7411 within 5s\n"
                                                 "expect a \"Welcome!\\n\"\n"),
                     1);
    ru_assert_contains(ru_out(), "late-noretry.scn:2: connect a = tcp 127.0.0.1:7411 within 5s");
    ru_assert_contains(ru_out(), "Connection refused");
}

/* Without `within`, retrying ends with the step timeout; the failure counts
 * the refused attempts. */
static void connect_retry_ends_with_the_step_timeout(void **state)
{
    char *out, *at;
    unsigned attempts = 0;
    long ms = 0;

    (void)state;
    assert_int_equal(ru_run_scn("never.scn", "timeout 400ms\n"
                                          "listen l = tcp 127.0.0.1:0\n"
                                          "close l\n"
                                          "connect a = tcp ${l} retry\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "never.scn:4: connect a = tcp ${l} retry\n"
                            "  connection refused on every attempt: ");
    at = strstr(out, "every attempt: ");
    assert_int_equal(sscanf(at, "every attempt: %u attempts in %ld ms", &attempts, &ms), 2);
    assert_true(attempts >= 2);
    assert_true(ms >= 400 && ms < 1500);
}

/* --- flows ------------------------------------------------------------------ */

/* socat sends "hello" to tcp-echo and half-closes; every claim about that
 * connection, which the runner never touched, holds. */
static void flow_between_two_targets(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("pair.scn",
                             "target srv = tcp-echo --port 0\n"
                             "target cli nowait = sh -c \"printf hello | socat - TCP:$1\" sh ${srv}\n"
                             "exit cli 0 within 2s\n"
                             "flow f = tcp to ${srv.port}\n"
                             "wire f state SF\n"
                             "wire f handshake\n"
                             "wire f first-fin client\n"
                             "wire f no-rst\n"
                             "wire f no-retransmissions\n"
                             "wire f bytes client 5\n"
                             "wire f bytes server 5\n"
                             "flow g = tcp to ${srv.host}:${srv.port} index 0\n"
                             "wire g bytes server 5\n"
                             "flows tcp to ${srv.port} count 1\n"
                             "flows udp to ${srv.port} count 0\n"
                             "flows tcp from ${srv} count 0\n"),
                     0);
    ru_assert_contains(steps_log("pair.scn"), "flow f = tcp to ");
}

/* http-get fetches a file from nginx: the connection between the two
 * targets is judged on the wire. */
static void flow_http_get_to_nginx(void **state)
{
    char conf[1024], scn[1400];

    (void)state;
    if (access("/usr/sbin/nginx", X_OK) != 0)
        fail_msg("nginx is not installed (ci/packages.txt has it)");
    assert_int_equal(mkdir("www", 0755) == 0 || errno == EEXIST, 1);
    ru_write("www/hello.txt", "hello\n");
    snprintf(conf, sizeof(conf),
             "daemon off; master_process on; worker_processes 1; user root root;\n"
             "events { worker_connections 64; }\n"
             "http { access_log off; server { listen 127.0.0.1:8080; root %s/www; } }\n",
             ru_dir);
    ru_write("nginx.conf", conf);
    snprintf(scn, sizeof(scn),
             "target web ready port 8080 = /usr/sbin/nginx -c %s/nginx.conf -e stderr "
             "-g \"pid ${tmp}/nginx.pid;\"\n"
             "target get nowait = http-get -o ${tmp}/hello.txt http://${web}/hello.txt\n"
             "exit get 0 within 3s\n"
             "file ${tmp}/hello.txt \"hello\\n\"\n"
             "flow h = tcp to ${web.port}\n"
             "wire h handshake\n"
             "wire h no-rst\n"
             "wire h bytes server %d\n"
             "flows tcp to ${web.port} count 1\n",
             ru_dir, 0);
    /* the response's size depends on nginx's headers: first learn it from
     * the failure, then claim it exactly */
    snprintf(conf, sizeof(conf), "%s/nart", ru_dir); /* ${tmp} must be absolute for nginx */
    ru_write("nginx-flow.scn", scn);
    assert_int_equal(ru_netrig("run", "-a", conf, "nginx-flow.scn", NULL), 1);
    {
        char *at = strstr(ru_out(), "wire: ");
        unsigned long long got = 0, other = 0;
        assert_non_null(at);
        assert_int_equal(sscanf(at, "wire: %llu payload bytes from server (%llu from client), "
                                    "expected 0", &got, &other), 2);
        assert_true(got > 6 && other > 20);
        ru_assert_contains(ru_out(), "nginx-flow.scn:8: wire h bytes server 0");
        snprintf(scn, sizeof(scn),
                 "target web ready port 8080 = /usr/sbin/nginx -c %s/nginx.conf -e stderr "
                 "-g \"pid ${tmp}/nginx.pid;\"\n"
                 "target get nowait = http-get -o ${tmp}/hello.txt http://${web}/hello.txt\n"
                 "exit get 0 within 3s\n"
                 "flow h = tcp to ${web.port}\n"
                 "wire h handshake\n"
                 "wire h no-rst\n"
                 "wire h bytes server %llu\n"
                 "wire h bytes client %llu\n"
                 "flows tcp to ${web.port} count 1\n",
                 ru_dir, got, other);
    }
    ru_write("nginx-flow.scn", scn);
    assert_int_equal(ru_netrig("run", "-a", conf, "nginx-flow.scn", NULL), 0);
}

/* Flows inside a block: `index ${i}` picks each connection in turn. */
static void flow_index_in_a_block(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("blk.scn", "target srv = tcp-greet --port 0\n"
                                        "repeat 3\n"
                                        "  connect c = tcp ${srv}\n"
                                        "  expect c \"Welcome!\\n\"\n"
                                        "  expect c eof\n"
                                        "end\n"
                                        "repeat 3\n"
                                        "  flow f = tcp to ${srv.port} index ${i}\n"
                                        "  wire f first-fin server\n"
                                        "  wire f bytes server 9\n"
                                        "end\n"
                                        "flows tcp to ${srv.port} count 3\n"),
                     0);
}

/* A flow end that is not an address once expanded fails where it is
 * written. */
static void flow_bad_endpoint_at_run_time(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("badep.scn", "set p = nowhere\n"
                                          "flow f = tcp to ${p}\n"
                                          "wire f state SF\n"),
                     1);
    ru_assert_contains(ru_out(), "badep.scn:2: flow f = tcp to ${p}\n"
                                 "  expected a port 1-65535 or an address HOST:PORT, got 'nowhere'");
}

/* --- UDP peers -------------------------------------------------------------- */

/* A UDP listener checks each sender and answers the one it is told to,
 * not only its last sender. */
static void udp_listener_answers_a_chosen_peer(void **state)
{
    (void)state;
    assert_int_equal(ru_run_scn("peers.scn", "listen u = udp 127.0.0.1:0\n"
                                          "connect a = udp ${u}\n"
                                          "connect b = udp ${u}\n"
                                          "send a \"from a\"\n"
                                          "expect u \"from a\" from ${a}\n"
                                          "send b \"from b\"\n"
                                          "expect u /b$/ from ${b}\n"
                                          "send u \"to a\" to ${a}\n"
                                          "send u \"to b\"\n"
                                          "expect a \"to a\"\n"
                                          "expect b \"to b\"\n"
                                          "expect a nothing within 100ms\n"
                                          "expect b nothing within 100ms\n"
                                          "flow fa = udp from ${a}\n"
                                          "wire fa datagrams 2\n"
                                          "flows udp to ${u} count 2\n"),
                     0);
}

/* A datagram from elsewhere fails, showing its sender and its bytes. */
static void udp_expect_from_shows_the_datagram(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(ru_run_scn("wrongpeer.scn", "listen u = udp 127.0.0.1:0\n"
                                              "connect a = udp ${u}\n"
                                              "connect b = udp ${u}\n"
                                              "send a \"hi there\"\n"
                                              "expect u \"hi there\" from ${b}\n"),
                     1);
    out = ru_out();
    ru_assert_contains(out, "wrongpeer.scn:5: expect u \"hi there\" from ${b}\n"
                            "  the datagram came from 127.0.0.1:");
    ru_assert_contains(out, ", expected it from 127.0.0.1:");
    ru_assert_contains(out, "the datagram (8 bytes, from 127.0.0.1:");
    ru_assert_contains(out, "68 69 20 74 68 65 72 65");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_retry_waits_for_a_late_server),
        cmocka_unit_test(connect_retry_ends_with_the_step_timeout),
        cmocka_unit_test(flow_between_two_targets),
        cmocka_unit_test(flow_http_get_to_nginx),
        cmocka_unit_test(flow_index_in_a_block),
        cmocka_unit_test(flow_bad_endpoint_at_run_time),
        cmocka_unit_test(udp_listener_answers_a_chosen_peer),
        cmocka_unit_test(udp_expect_from_shows_the_datagram),
    };

    return cmocka_run_group_tests(tests, ru_setup, ru_teardown);
}
