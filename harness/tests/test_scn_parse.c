/* Unit tests of the scenario parser (nr_scn_parse.c, nr_scn_lex.c) and of
 * template expansion (nr_scn_tmpl.c). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_scn.h"
#include "heap_exact.h"

#define EXAMPLES "harness/doc/examples/"

/* Parse text, which must succeed. */
static void parse_ok(const char *text, struct nr_scn *s)
{
    char err[NR_ERRBUF_SIZE] = "";
    int rc = nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", s, err);

    if (rc != 0)
        fail_msg("unexpected parse error: %s", err);
}

/* Parse text, which must fail with a message starting with want. */
static void parse_err(const char *text, const char *want)
{
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;
    int rc = nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err);

    if (rc != -1)
        fail_msg("parsed, but expected error: %s\n--- input:\n%s", want, text);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("error\n  got:  %s\n  want: %s...", err, want);
    assert_null(s.steps.v);
    assert_null(s.path);
}

/* A template shown as text: ${name} for variables, \xHH for bytes that are
 * not printable, \$ for a literal dollar. */
static const char *show(const struct nr_tmpl *t)
{
    static char buf[1024];
    size_t o = 0;

    buf[0] = 0;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct nr_seg *g = &t->segs[i];
        if (g->is_var) {
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "${%s}", (const char *)g->data);
            continue;
        }
        for (size_t k = 0; k < g->len && o < sizeof(buf) - 8; k++) {
            uint8_t c = g->data[k];
            if (c == '$')
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\$");
            else if (c >= 0x20 && c < 0x7f)
                buf[o++] = (char)c;
            else
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
        }
        buf[o] = 0;
    }
    return buf;
}

static const struct nr_step *only_step(const struct nr_scn *s, size_t idx, enum nr_step_kind k)
{
    assert_true(idx < s->steps.n);
    assert_int_equal(s->steps.v[idx].kind, k);
    return &s->steps.v[idx];
}

static void target_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("target srv nowait ready \"up at \" activate udp 127.0.0.1:0 env A=1 "
             "env \"B=x y\" = ${bin}/prog --port 0 \"two words\" # comment\n", &s);
    t = only_step(&s, 0, NR_S_TARGET);
    assert_string_equal(t->name, "srv");
    assert_int_equal(t->line, 1);
    assert_int_equal(t->col, 1);
    assert_int_equal(t->timeout_ms, -1);
    assert_int_equal(t->u.target.nowait, 1);
    assert_string_equal(show(&t->u.target.ready), "up at ");
    assert_int_equal(t->u.target.activate, 1);
    assert_int_equal(t->u.target.act_proto, IPPROTO_UDP);
    assert_string_equal(show(&t->u.target.act_addr), "127.0.0.1:0");
    assert_int_equal(t->u.target.nenv, 2);
    assert_string_equal(show(&t->u.target.env[0]), "A=1");
    assert_string_equal(show(&t->u.target.env[1]), "B=x y");
    assert_int_equal(t->u.target.nargv, 4);
    assert_string_equal(show(&t->u.target.argv[0]), "${bin}/prog");
    assert_string_equal(show(&t->u.target.argv[1]), "--port");
    assert_string_equal(show(&t->u.target.argv[3]), "two words");
    assert_int_equal(s.needs_ipv6, 0);
    assert_string_equal(s.path, "t.scn");
    nr_scn_free(&s);

    parse_ok("target t = prog\n", &s);
    t = only_step(&s, 0, NR_S_TARGET);
    assert_int_equal(t->u.target.nowait, 0);
    assert_int_equal(t->u.target.ready.nsegs, 0);
    assert_int_equal(t->u.target.activate, 0);
    assert_int_equal(t->u.target.nenv, 0);
    assert_int_equal(t->u.target.nargv, 1);
    nr_scn_free(&s);

    parse_ok("target t ready \"\" = prog\n", &s); /* explicit empty: one empty segment */
    t = only_step(&s, 0, NR_S_TARGET);
    assert_int_equal(t->u.target.ready.nsegs, 1);
    assert_int_equal(t->u.target.ready.segs[0].len, 0);
    nr_scn_free(&s);
}

/* Target options and steps about how a target ends: stop-signal, clean,
 * ready stdout|stderr, stop ... signal/expect, exit ... clean. */
static void lifecycle_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("target t stop-signal INT clean 0 clean signal INT clean 130 "
             "ready stderr \"up \" = prog\n"
             "target u ready stdout \"x\" = prog\n"
             "target v ready \"stdout\" stop-signal SIGHUP = prog\n"
             "stop t signal INT\nstop t expect 3\nstop t expect signal KILL within 2s\n"
             "stop t signal 9 expect signal KILL\nstop t expect clean within 1s\n"
             "exit t clean\nexit t clean within 1s\n",
             &s);
    assert_int_equal(s.steps.n, 10);
    t = only_step(&s, 0, NR_S_TARGET);
    assert_int_equal(t->u.target.stop_sig, SIGINT);
    assert_int_equal(t->u.target.nclean, 3);
    assert_int_equal(t->u.target.clean[0].kind, NR_END_EXIT);
    assert_int_equal(t->u.target.clean[0].code, 0);
    assert_int_equal(t->u.target.clean[1].kind, NR_END_SIGNAL);
    assert_int_equal(t->u.target.clean[1].code, SIGINT);
    assert_int_equal(t->u.target.clean[2].kind, NR_END_EXIT);
    assert_int_equal(t->u.target.clean[2].code, 130);
    assert_int_equal(t->u.target.ready_stderr, 1);
    assert_string_equal(show(&t->u.target.ready), "up ");
    t = only_step(&s, 1, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_stderr, 0);
    assert_string_equal(show(&t->u.target.ready), "x");
    assert_int_equal(t->u.target.stop_sig, 0);
    assert_int_equal(t->u.target.nclean, 0);
    t = only_step(&s, 2, NR_S_TARGET); /* a quoted "stdout" is the text */
    assert_int_equal(t->u.target.ready_stderr, 0);
    assert_string_equal(show(&t->u.target.ready), "stdout");
    assert_int_equal(t->u.target.stop_sig, SIGHUP);
    t = only_step(&s, 3, NR_S_STOP);
    assert_int_equal(t->u.exit.sig, SIGINT);
    assert_int_equal(t->u.exit.expect.kind, NR_END_CLEAN);
    assert_int_equal(t->timeout_ms, -1);
    t = only_step(&s, 4, NR_S_STOP);
    assert_int_equal(t->u.exit.sig, 0);
    assert_int_equal(t->u.exit.expect.kind, NR_END_EXIT);
    assert_int_equal(t->u.exit.expect.code, 3);
    t = only_step(&s, 5, NR_S_STOP);
    assert_int_equal(t->u.exit.sig, 0);
    assert_int_equal(t->u.exit.expect.kind, NR_END_SIGNAL);
    assert_int_equal(t->u.exit.expect.code, SIGKILL);
    assert_int_equal(t->timeout_ms, 2000);
    t = only_step(&s, 6, NR_S_STOP);
    assert_int_equal(t->u.exit.sig, SIGKILL);
    assert_int_equal(t->u.exit.expect.kind, NR_END_SIGNAL);
    assert_int_equal(t->u.exit.expect.code, SIGKILL);
    t = only_step(&s, 7, NR_S_STOP);
    assert_int_equal(t->u.exit.expect.kind, NR_END_CLEAN);
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 8, NR_S_EXIT);
    assert_int_equal(t->u.exit.expect.kind, NR_END_CLEAN);
    assert_int_equal(t->timeout_ms, -1);
    t = only_step(&s, 9, NR_S_EXIT);
    assert_int_equal(t->u.exit.expect.kind, NR_END_CLEAN);
    assert_int_equal(t->timeout_ms, 1000);
    nr_scn_free(&s);
    /* signal numbers 1-64, both ends */
    parse_ok("target t = prog\nstop t signal 64 expect signal 1\n", &s);
    t = only_step(&s, 1, NR_S_STOP);
    assert_int_equal(t->u.exit.sig, 64);
    assert_int_equal(t->u.exit.expect.kind, NR_END_SIGNAL);
    assert_int_equal(t->u.exit.expect.code, 1);
    nr_scn_free(&s);
}

/* Readiness of programs that print no "listening on": ready /regex/ on
 * stdout or stderr, ready port [PORT], ready file PATH; cwd DIR; ${dir}. */
static void readiness_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("target a ready port = prog\n"
             "target b ready port 8080 nowait = prog\n"
             "set p = 9000\n"
             "target c ready port ${p} = prog\n"
             "target d ready stderr /port ([0-9]+)/ = prog\n"
             "target e ready /up at (.*)$/ cwd ${dir}/x = prog\n"
             "target f ready file ${tmp}/pid cwd \"/a b\" = prog ${dir}\n",
             &s);
    t = only_step(&s, 0, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_kind, NR_READY_PORT);
    assert_int_equal(t->u.target.ready.nsegs, 0);
    t = only_step(&s, 1, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_kind, NR_READY_PORT);
    assert_string_equal(show(&t->u.target.ready), "8080");
    assert_int_equal(t->u.target.nowait, 1);
    t = only_step(&s, 3, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_kind, NR_READY_PORT);
    assert_string_equal(show(&t->u.target.ready), "${p}");
    t = only_step(&s, 4, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_kind, NR_READY_REGEX);
    assert_int_equal(t->u.target.ready_stderr, 1);
    assert_string_equal(show(&t->u.target.ready), "port ([0-9]+)");
    t = only_step(&s, 5, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_kind, NR_READY_REGEX);
    assert_int_equal(t->u.target.ready_stderr, 0);
    assert_string_equal(show(&t->u.target.ready), "up at (.*)\\$");
    assert_string_equal(show(&t->u.target.cwd), "${dir}/x");
    t = only_step(&s, 6, NR_S_TARGET);
    assert_int_equal(t->u.target.ready_kind, NR_READY_FILE);
    assert_string_equal(show(&t->u.target.ready), "${tmp}/pid");
    assert_string_equal(show(&t->u.target.cwd), "/a b");
    nr_scn_free(&s);
}

static void readiness_errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "target t ready port 0 = p\n", "t.scn:1:21: expected a port 1-65535, got '0'" },
        { "target t ready port 65536 = p\n", "t.scn:1:21: expected a port 1-65535, got '65536'" },
        { "target t ready port 80x = p\n", "t.scn:1:21: expected a port 1-65535, got '80x'" },
        { "target t ready file = p\n", "t.scn:1:21: expected a file path, got '='" },
        { "target t ready = p\n",
          "t.scn:1:16: expected a \"readiness text\", /regex/, port or file, got '='" },
        { "target t ready stderr = p\n",
          "t.scn:1:23: expected a \"readiness text\", /regex/, port or file, got '='" },
        { "target t ready port ready file x = p\n",
          "t.scn:1:21: expected '=' or an option: nowait, ready [stdout|stderr] \"TEXT\"|/RE/, "
          "ready port [PORT], ready file PATH, activate tcp|udp ADDR, env NAME=VALUE, cwd DIR, "
          "stop-signal SIG, clean CODE|signal SIG, got 'ready'" },
        { "target t cwd = p\n", "t.scn:1:14: expected a directory, got '='" },
        { "set dir = x\n", "t.scn:1:5: expected a new name, got 'dir' (a builtin variable)" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_err(cases[i].text, cases[i].want);
}

/* In-memory files for include: "dir/NAME" -> text. */
static const struct {
    const char *path, *text;
} memfiles[] = {
    { "d/common.scn", "param greeting = \"Welcome!\"\ntarget srv = tcp-greet --message ${greeting}\n"
                      "connect a = tcp ${srv}\n" },
    { "d/sub/deeper.scn", "expect a \"x\"\n" },
    { "d/nested.scn", "include sub/deeper.scn\n" },
    { "d/badline.scn", "send a \"x\"\nexpect a until\n" },
    { "d/self.scn", "include self.scn\n" },
    { "d/open.scn", "repeat 2\nsleep 1ms\n" },
    { "d/deep.scn", "include deep2.scn\n" },
    { "d/deep2.scn", "include deep3.scn\n" },
    { "d/deep3.scn", "include deep4.scn\n" },
    { "d/deep4.scn", "include deep5.scn\n" },
    { "d/deep5.scn", "include deep6.scn\n" },
    { "d/deep6.scn", "include deep7.scn\n" },
    { "d/deep7.scn", "include deep8.scn\n" },
    { "d/deep8.scn", "include deep9.scn\n" },
    { "d/deep9.scn", "sleep 1ms\n" },
};

static int mem_read(const char *path, uint8_t **buf, size_t *len, char *errbuf)
{
    for (size_t i = 0; i < sizeof(memfiles) / sizeof(memfiles[0]); i++)
        if (strcmp(memfiles[i].path, path) == 0) {
            *buf = (uint8_t *)strdup(memfiles[i].text);
            *len = strlen(memfiles[i].text);
            return *buf ? 0 : -1;
        }
    return nr_seterr(errbuf, "%s: cannot open: No such file or directory", path);
}

static int parse_with(const char *text, struct nr_scn *s, char *err)
{
    return nr_scn_parse_with((const uint8_t *)text, strlen(text), "d/main.scn", mem_read, s, err);
}

/* include: steps of another file in place, relative to the including file,
 * each step knowing its file, line and text; param: a variable -D may set. */
static void include_and_param(void **state)
{
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    if (parse_with("include common.scn\n  include nested.scn\nexpect a \"${greeting}\"\n", &s,
                   err) != 0)
        fail_msg("unexpected parse error: %s", err);
    assert_int_equal(s.steps.n, 5);
    assert_int_equal(s.nfiles, 4);
    assert_string_equal(s.files[0], "d/main.scn");
    assert_string_equal(s.files[1], "d/common.scn");
    assert_string_equal(s.files[3], "d/sub/deeper.scn");
    t = only_step(&s, 0, NR_S_SET);
    assert_int_equal(t->u.set.is_param, 1);
    assert_int_equal(t->file, 1);
    assert_int_equal(t->line, 1);
    assert_string_equal(t->text, "param greeting = \"Welcome!\"");
    t = only_step(&s, 3, NR_S_EXPECT);
    assert_int_equal(t->file, 3);
    assert_int_equal(t->line, 1);
    t = only_step(&s, 4, NR_S_EXPECT);
    assert_int_equal(t->file, 0);
    assert_int_equal(t->line, 3);
    assert_string_equal(t->text, "expect a \"${greeting}\"");
    nr_scn_free(&s);
    parse_ok("set v = 1\nparam p = x\"00ff\"\n", &s);
    assert_int_equal(only_step(&s, 0, NR_S_SET)->u.set.is_param, 0);
    assert_int_equal(only_step(&s, 1, NR_S_SET)->u.set.is_param, 1);
    nr_scn_free(&s);
}

static void include_errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "include\n", "d/main.scn:1:8: expected a file to include (a path without variables), "
                       "got end of line" },
        { "set v = x\ninclude ${v}\n", "d/main.scn:2:9: expected a file to include (a path "
                                        "without variables), got '${v}'" },
        { "include none.scn\n", "d/main.scn:1:1: expected a file to include: d/none.scn: cannot "
                                "open: No such file or directory" },
        { "include common.scn x\n",
          "d/main.scn:1:20: expected end of line after the included file, got 'x'" },
        { "target srv = p\nconnect a = tcp ${srv}\ninclude badline.scn\n",
          "d/badline.scn:2:15: expected a non-empty \"delimiter\", got end of line (included "
          "from d/main.scn:3)" },
        { "include self.scn\n", "d/self.scn:1:9: expected a file that does not include itself, "
                                "got 'd/self.scn' (an include cycle) (included from d/main.scn:1)" },
        { "include open.scn\n", "d/open.scn:1:1: expected 'end' to close this repeat block, got "
                                "end of file (included from d/main.scn:1)" },
        { "include deep.scn\n", "d/deep8.scn:1:1: expected includes nested at most 8 deep" },
        { "repeat 2\nparam p = 1\nend\n",
          "d/main.scn:2:1: expected 'param' outside blocks, got it in a block" },
        { "include common.scn\nparam greeting = 2\n",
          "d/main.scn:2:7: expected a new name, got 'greeting' (a variable defined at line 1)" },
    };
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        if (parse_with(cases[i].text, &s, err) != -1)
            fail_msg("parsed, but expected error: %s", cases[i].want);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("error\n  got:  %s\n  want: %s...", err, cases[i].want);
    }
    parse_err("include x.scn\n", "t.scn:1:1: expected no 'include' here (files cannot be read)");
}

/* unix (stream) and unixgram sockets: paths or @names; never on the wire. */
static void unix_sockets(void **state)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        { "connect a = unix\n", "t.scn:1:17: expected a socket path or @name, got end of line" },
        { "connect a = unix \"\"\n",
          "t.scn:1:18: expected a socket path of 1-107 bytes or @name, got '\"\"'" },
        { "connect a = unix /tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
          "t.scn:1:18: expected a socket path of 1-107 bytes or @name" },
        { "connect a = unixgram @x retry\n",
          "t.scn:1:25: expected 'within DUR' or end of line ('retry' is for TCP" },
        { "connect a = unix @x\nwire a state SF\n",
          "t.scn:2:6: expected a TCP or UDP connection or a flow, got 'a' (a unix socket: its "
          "traffic is not in the capture)" },
        { "listen l = unix @x\naccept a = l\nwire a no-rst\n",
          "t.scn:3:6: expected a TCP or UDP connection or a flow, got 'a' (a unix socket" },
        { "listen l = unixgram @x\naccept a = l\n",
          "t.scn:2:12: expected a unix listener, got 'l' (a unixgram listener)" },
        { "target t activate unix @x = p\n", "t.scn:1:19: expected 'tcp' or 'udp', got 'unix'" },
        { "connect a = sctp 1.2.3.4:5\n",
          "t.scn:1:13: expected 'tcp', 'udp', 'unix' or 'unixgram', got 'sctp'" },
    };
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("listen l = unix ${tmp}/s.sock\nconnect a = unix @abstract retry within 1s\n"
             "listen u = unixgram @dg\nconnect d = unixgram ${tmp}/d refused\n"
             "connect b = unix \"/tmp/a b\"\n",
             &s);
    t = only_step(&s, 0, NR_S_LISTEN);
    assert_int_equal(t->u.sock.is_unix, 1);
    assert_int_equal(t->u.sock.proto, IPPROTO_TCP);
    assert_string_equal(show(&t->u.sock.addr), "${tmp}/s.sock");
    t = only_step(&s, 1, NR_S_CONNECT);
    assert_int_equal(t->u.sock.is_unix, 1);
    assert_int_equal(t->u.sock.retry, 1);
    assert_string_equal(show(&t->u.sock.addr), "@abstract");
    t = only_step(&s, 2, NR_S_LISTEN);
    assert_int_equal(t->u.sock.proto, IPPROTO_UDP);
    assert_int_equal(t->u.sock.is_unix, 1);
    assert_int_equal(only_step(&s, 3, NR_S_CONNECT)->u.sock.refused, 1);
    assert_int_equal(s.needs_ipv6, 0);
    nr_scn_free(&s);
    parse_ok("connect a = tcp 127.0.0.1:1\n", &s);
    assert_int_equal(only_step(&s, 0, NR_S_CONNECT)->u.sock.is_unix, 0);
    nr_scn_free(&s);
    /* accept after 0..16 other names: at some count the name table grows
     * while accept still needs its listener's entry (ASan: use after free) */
    for (int n = 0; n <= 16; n++) {
        char text[1024];
        int at = snprintf(text, sizeof(text), "listen l = unix @l\n");
        for (int k = 0; k < n; k++)
            at += snprintf(text + at, sizeof(text) - (size_t)at, "set v%d = x\n", k);
        snprintf(text + at, sizeof(text) - (size_t)at, "accept a = l\nwire a no-rst\n");
        parse_err(text, "t.scn:");
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_err(bad[i].text, bad[i].want);
}

static void lifecycle_errors(void **state)
{
#define TGT "target t = prog\n"
#define OPTS "t.scn:1:%s: expected '=' or an option: nowait, ready [stdout|stderr] \"TEXT\"|/RE/, " \
             "ready port [PORT], ready file PATH, activate tcp|udp ADDR, env NAME=VALUE, " \
             "cwd DIR, stop-signal SIG, clean CODE|signal SIG, got "
    static const struct {
        const char *text, *want;
    } cases[] = {
        { TGT "stop t 0\n", "t.scn:2:8: expected 'expect CODE' (the outcome stop waits for "
                            "follows 'expect'), got '0'" },
        { TGT "stop t 9\n", "t.scn:2:8: expected 'expect CODE' (the outcome stop waits for "
                            "follows 'expect'), got '9'" }, /* the last digit too */
        { TGT "stop t signal TERM 0\n", "t.scn:2:20: expected 'expect CODE' (the outcome stop "
                                        "waits for follows 'expect'), got '0'" },
        { TGT "stop t expect\n",
          "t.scn:2:14: expected an exit code 0-255, 'signal SIG' or 'clean', got end of line" },
        { TGT "stop t expect 256\n",
          "t.scn:2:15: expected an exit code 0-255, 'signal SIG' or 'clean', got '256'" },
        { TGT "stop t expect signal FOO\n",
          "t.scn:2:22: expected a signal like TERM, KILL, SEGV or a number 1-64, got 'FOO'" },
        { TGT "stop t expect 3 signal INT\n",
          "t.scn:2:17: expected 'within DUR' or end of line, got 'signal'" },
        { TGT "stop t expect 3 4\n", "t.scn:2:17: expected 'within DUR' or end of line, got '4'" },
        { TGT "stop t signal INT now\n",
          "t.scn:2:19: expected 'expect OUTCOME', 'within DUR' or end of line, got 'now'" },
        { TGT "stop t now\n", "t.scn:2:8: expected 'signal SIG', 'expect OUTCOME', 'within DUR' "
                              "or end of line, got 'now'" },
        { TGT "stop t signal\n",
          "t.scn:2:14: expected a signal like TERM, KILL, SEGV or a number 1-64, got end of line" },
        { TGT "stop t signal 0\n", "t.scn:2:15: expected a signal like TERM" },
        { TGT "stop t signal 65\n",
          "t.scn:2:15: expected a signal like TERM, KILL, SEGV or a number 1-64, got '65'" },
        { TGT "stop t within 1s expect 3\n", "t.scn:2:18: expected end of line, got 'expect'" },
        { TGT "exit t\n",
          "t.scn:2:7: expected an exit code 0-255, 'signal SIG' or 'clean', got end of line" },
        { TGT "exit t expect 3\n",
          "t.scn:2:8: expected an exit code 0-255, 'signal SIG' or 'clean', got 'expect'" },
        { TGT "exit t clean 1s\n", "t.scn:2:14: expected 'within DUR' or end of line, got '1s'" },
        { "target t clean clean = prog\n",
          "t.scn:1:16: expected an exit code 0-255 or 'signal SIG', got 'clean'" },
        { "target t clean 256 = prog\n",
          "t.scn:1:16: expected an exit code 0-255 or 'signal SIG', got '256'" },
        { "target t clean signal KIL = prog\n",
          "t.scn:1:23: expected a signal like TERM, KILL, SEGV or a number 1-64, got 'KIL'" },
        { "target t clean = prog\n",
          "t.scn:1:16: expected an exit code 0-255 or 'signal SIG', got '='" },
        { "target t stop-signal FOO = prog\n",
          "t.scn:1:22: expected a signal like TERM, KILL, SEGV or a number 1-64, got 'FOO'" },
        { "target t stop-signal = prog\n",
          "t.scn:1:22: expected a signal like TERM, KILL, SEGV or a number 1-64, got '='" },
        { "target t ready stderr = prog\n", "t.scn:1:23: expected a \"readiness text\", /regex/, port or file, got '='" },
        { "target t ready = prog\n", "t.scn:1:16: expected a \"readiness text\", /regex/, port or file, got '='" },
        { "target t ready stdout\n",
          "t.scn:1:22: expected a \"readiness text\", /regex/, port or file, got end of line" },
    };
    char want[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_err(cases[i].text, cases[i].want);
    snprintf(want, sizeof(want), OPTS "'stop-signal'", "26");
    parse_err("target t stop-signal INT stop-signal TERM = prog\n", want);
    snprintf(want, sizeof(want), OPTS "'ready'", "20");
    parse_err("target t ready \"a\" ready \"b\" = prog\n", want);
    snprintf(want, sizeof(want), OPTS "'expect'", "10");
    parse_err("target t expect 0 = prog\n", want);
#undef TGT
#undef OPTS
}

static void socket_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("listen l = tcp [::1]:0\n"
             "connect c = udp ${l} refused within 300ms\n"
             "accept a = l within 1s\n"
             "connect d = tcp ${l.host}:${l.port}\n",
             &s);
    assert_int_equal(s.needs_ipv6, 1);
    t = only_step(&s, 0, NR_S_LISTEN);
    assert_string_equal(t->name, "l");
    assert_int_equal(t->u.sock.proto, IPPROTO_TCP);
    assert_string_equal(show(&t->u.sock.addr), "[::1]:0");
    t = only_step(&s, 1, NR_S_CONNECT);
    assert_int_equal(t->u.sock.proto, IPPROTO_UDP);
    assert_int_equal(t->u.sock.refused, 1);
    assert_int_equal(t->timeout_ms, 300);
    assert_int_equal(t->u.sock.addr.nsegs, 1);
    assert_int_equal(t->u.sock.addr.segs[0].is_var, 1);
    assert_string_equal((const char *)t->u.sock.addr.segs[0].data, "l");
    t = only_step(&s, 2, NR_S_ACCEPT);
    assert_string_equal(t->name, "a");
    assert_string_equal(t->u.accept.listener, "l");
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 3, NR_S_CONNECT);
    assert_int_equal(t->u.sock.refused, 0);
    assert_int_equal(t->timeout_ms, -1);
    assert_int_equal(t->u.sock.addr.nsegs, 3);
    assert_string_equal(show(&t->u.sock.addr), "${l.host}:${l.port}");
    nr_scn_free(&s);

    parse_ok("connect c = tcp [::ffff:10.0.0.1]:5\n", &s);
    assert_int_equal(s.needs_ipv6, 1);
    nr_scn_free(&s);
}

#define CONN "connect c = tcp 127.0.0.1:1\n"

/* connect ... retry, expect ... from ADDR, send ... to ADDR. */
static void retry_and_udp_peer_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("connect c = tcp 127.0.0.1:80 retry within 3s\n"
             "connect d = tcp 127.0.0.1:80 retry\n"
             "listen u = udp 127.0.0.1:0\n"
             "expect u \"hi\" from ${c}\n"
             "expect u /h/ from 127.0.0.1:9 within 1s\n"
             "expect u length 2\n"
             "send u \"x\" to ${d} within 1s\n"
             "send u \"x\" chunk 1 to [::1]:7\n"
             "send u \"x\"\n",
             &s);
    t = only_step(&s, 0, NR_S_CONNECT);
    assert_int_equal(t->u.sock.retry, 1);
    assert_int_equal(t->u.sock.refused, 0);
    assert_int_equal(t->timeout_ms, 3000);
    t = only_step(&s, 1, NR_S_CONNECT);
    assert_int_equal(t->u.sock.retry, 1);
    assert_int_equal(t->timeout_ms, -1);
    t = only_step(&s, 3, NR_S_EXPECT);
    assert_int_equal(t->u.expect.kind, NR_M_BYTES);
    assert_string_equal(show(&t->u.expect.from), "${c}");
    t = only_step(&s, 4, NR_S_EXPECT);
    assert_int_equal(t->u.expect.kind, NR_M_REGEX);
    assert_string_equal(show(&t->u.expect.from), "127.0.0.1:9");
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 5, NR_S_EXPECT);
    assert_int_equal(t->u.expect.from.nsegs, 0);
    t = only_step(&s, 6, NR_S_SEND);
    assert_string_equal(show(&t->u.send.to), "${d}");
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 7, NR_S_SEND);
    assert_string_equal(show(&t->u.send.to), "[::1]:7");
    assert_int_equal(t->u.send.chunk, 1);
    assert_int_equal(s.needs_ipv6, 1);
    t = only_step(&s, 8, NR_S_SEND);
    assert_int_equal(t->u.send.to.nsegs, 0);
    nr_scn_free(&s);
}

/* flow NAME = ..., flows ... count N, and wire claims on flows. */
static void flow_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("listen web = tcp 127.0.0.1:0\n"
             "connect cli = tcp ${web}\n"
             "flow f = tcp to ${web.port}\n"
             "flow g = tcp from ${cli}\n"
             "flow h = tcp to 8080 from 127.0.0.1:5000 index 2\n"
             "flow u = udp to [::1]:53\n"
             "wire f state SF\n"
             "wire u datagrams 2\n"
             "flows tcp to ${web.port} count 10\n"
             "repeat 2\n  flow r = tcp to 80 index ${i}\n  wire r bytes server 5\nend\n",
             &s);
    t = only_step(&s, 2, NR_S_WIRE);
    assert_int_equal(t->u.wire.kind, NR_WIRE_FLOW);
    assert_string_equal(t->name, "f");
    assert_int_equal(t->u.wire.proto, IPPROTO_TCP);
    assert_string_equal(show(&t->u.wire.to), "${web.port}");
    assert_int_equal(t->u.wire.from.nsegs, 0);
    assert_int_equal(t->u.wire.index.nsegs, 0);
    t = only_step(&s, 3, NR_S_WIRE);
    assert_int_equal(t->u.wire.to.nsegs, 0);
    assert_string_equal(show(&t->u.wire.from), "${cli}");
    t = only_step(&s, 4, NR_S_WIRE);
    assert_string_equal(show(&t->u.wire.to), "8080");
    assert_string_equal(show(&t->u.wire.from), "127.0.0.1:5000");
    assert_string_equal(show(&t->u.wire.index), "2");
    t = only_step(&s, 5, NR_S_WIRE);
    assert_int_equal(t->u.wire.proto, IPPROTO_UDP);
    assert_int_equal(s.needs_ipv6, 1);
    t = only_step(&s, 6, NR_S_WIRE);
    assert_int_equal(t->u.wire.kind, NR_WIRE_CLAIM);
    assert_string_equal(t->name, "f");
    assert_int_equal(t->u.wire.prop, NR_WP_STATE);
    assert_string_equal(show(&t->u.wire.value), "SF");
    t = only_step(&s, 8, NR_S_WIRE);
    assert_int_equal(t->u.wire.kind, NR_WIRE_COUNT);
    assert_string_equal(t->name, "");
    assert_string_equal(show(&t->u.wire.to), "${web.port}");
    assert_int_equal(t->u.wire.count, 10);
    t = only_step(&s, 9, NR_S_REPEAT);
    assert_int_equal(t->u.block.body.n, 2);
    assert_string_equal(show(&t->u.block.body.v[0].u.wire.index), "${i}");
    nr_scn_free(&s);
}

static void flow_and_peer_errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "connect c = udp 127.0.0.1:1 retry\n",
          "t.scn:1:29: expected 'within DUR' or end of line ('retry' is for TCP: a UDP connect is never refused), got 'retry'" },
        { "connect c = tcp 127.0.0.1:1 refused retry\n",
          "t.scn:1:37: expected 'within DUR' or end of line, got 'retry'" },
        { "connect c = tcp 127.0.0.1:1 retry refused\n",
          "t.scn:1:35: expected 'within DUR' or end of line, got 'refused'" },
        { CONN "expect c \"x\" from 127.0.0.1:2\n",
          "t.scn:2:14: expected 'within DUR' or end of line ('from ADDR' is for UDP), got 'from'" },
        { "listen u = udp 127.0.0.1:0\nexpect u nothing from 127.0.0.1:2\n",
          "t.scn:2:18: expected 'within DUR' or end of line ('from' does not apply to nothing), got 'from'" },
        { "listen u = udp 127.0.0.1:0\nexpect u \"x\" from\n",
          "t.scn:2:18: expected an address like 127.0.0.1:0, [::1]:8080 or ${name}, got end of line" },
        { "connect u = udp 127.0.0.1:1\nsend u \"x\" to 127.0.0.1:2\n",
          "t.scn:2:12: expected 'chunk N', 'delay DUR', 'within DUR' or end of line ('to ADDR' is for a UDP listener), got 'to'" },
        { "listen u = udp 127.0.0.1:0\nsend u \"x\" to 127.0.0.1:2 to 127.0.0.1:3\n",
          "t.scn:2:27: expected 'within DUR' or end of line, got 'to'" },
        { "listen u = udp 127.0.0.1:0\nsend u \"x\" fast\n",
          "t.scn:2:12: expected 'chunk N', 'delay DUR', 'to ADDR', 'within DUR' or end of line, got 'fast'" },
        { "flow f = tcp\n", "t.scn:1:13: expected 'to PORT|ADDR' or 'from PORT|ADDR', got end of line" },
        { "flow f = tcp index 1\n", "t.scn:1:14: expected 'to PORT|ADDR' or 'from PORT|ADDR', got 'index'" },
        { "flow f tcp to 80\n", "t.scn:1:8: expected '=', got 'tcp'" },
        { "flow f = sctp to 80\n", "t.scn:1:10: expected 'tcp' or 'udp', got 'sctp'" },
        { "flow f = tcp to\n", "t.scn:1:16: expected a port 1-65535 or an address like 127.0.0.1:80, got end of line" },
        { "flow f = tcp to 0\n", "t.scn:1:17: expected a port 1-65535 or an address like 127.0.0.1:80, got '0'" },
        { "flow f = tcp to 65536\n", "t.scn:1:17: expected a port 1-65535 or an address like 127.0.0.1:80, got '65536'" },
        { "flow f = tcp to localhost:80\n", "t.scn:1:17: expected a port 1-65535 or an address like 127.0.0.1:80, got 'localhost:80'" },
        { "flow f = tcp to 80 to 81\n", "t.scn:1:20: expected 'from PORT|ADDR', 'index N' or end of line, got 'to'" },
        { "flow f = tcp from 80 from 81\n", "t.scn:1:22: expected 'to PORT|ADDR', 'index N' or end of line, got 'from'" },
        { "flow f = tcp to 80 index x\n", "t.scn:1:26: expected an index 0-4294967295 (0: the first match), got 'x'" },
        { "flow f = tcp to 80 index 1 within 1s\n", "t.scn:1:28: expected end of line, got 'within'" },
        { "flow f = tcp to 80 count 1\n", "t.scn:1:20: expected 'from PORT|ADDR', 'index N' or end of line, got 'count'" },
        { "flows tcp to 80\n", "t.scn:1:16: expected 'from PORT|ADDR' or 'count N', got end of line" },
        { "flows tcp to 80 index 1 count 1\n", "t.scn:1:17: expected 'from PORT|ADDR' or 'count N', got 'index'" },
        { "flows tcp to 80 count x\n", "t.scn:1:23: expected a flow count, got 'x'" },
        { "flows f = tcp to 80 count 1\n", "t.scn:1:7: expected 'tcp' or 'udp', got 'f'" },
        { "flow f = tcp to 80\nflow f = tcp to 81\n", "t.scn:2:6: expected a new name, got 'f' (a flow defined at line 1)" },
        { "flow f = tcp to 80\nsend f \"x\"\n", "t.scn:2:6: expected a connection or UDP listener, got 'f' (a flow defined at line 1)" },
        { "flow f = tcp to 80\nclose f\n", "t.scn:2:7: expected a connection or listener, got 'f' (a flow defined at line 1)" },
        { "flow f = tcp to 80\nset v = ${f}\n", "t.scn:2:9: expected a variable with a value, got '${f}' (a flow has none)" },
        { "wire f state SF\n", "t.scn:1:6: expected a connection or flow defined earlier, got 'f'" },
        { "target t = p\nwire t state SF\n", "t.scn:2:6: expected a connection or flow, got 't' (a target defined at line 1)" },
        { "flow f = tcp to 80\nwire f\n", "t.scn:2:7: expected a wire property (state S, handshake, first-fin SIDE, no-rst, rst SIDE, no-retransmissions, datagrams N, bytes SIDE N), got end of line" },
        { "flow f = tcp to 80\nwire f flags S\n", "t.scn:2:8: expected a wire property (state S, handshake, first-fin SIDE, no-rst, rst SIDE, no-retransmissions, datagrams N, bytes SIDE N), got 'flags'" },
        { "flow f = tcp to 80\nwire f rst us\n", "t.scn:2:12: expected a side: client or server, got 'us'" },
        { "flow f = tcp to 80\nwire f state SYN\n", "t.scn:2:14: expected a zeek state (S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH), got 'SYN'" },
        { "flow f = tcp to 80\nwire f state\n", "t.scn:2:13: expected a zeek state (S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH), got end of line" },
        { "flow f = tcp to 80\nwire f bytes server 1e3\n", "t.scn:2:21: expected a count (digits, at most 19), got '1e3'" },
        { "flow f = udp to 53\nwire f datagrams 12345678901234567890\n", "t.scn:2:18: expected a count (digits, at most 19), got '12345678901234567890'" },
        { "flow f = tcp to 80\nwire f handshake now\n", "t.scn:2:18: expected end of line, got 'now'" },
        { "repeat 2\nflow f = tcp to 80\nend\nwire f state SF\n", "t.scn:4:6: expected a connection or flow defined earlier, got 'f'" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_err(cases[i].text, cases[i].want);
}

static void send_fields(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok(CONN "send c \"a\\r\\n\" * 3 chunk 2 delay 10ms within 1s\n"
                  "send c x\"00ff 10\"\n"
                  "send c file \"${tmp}/blob\"\n"
                  "send c pattern 67108864\n"
                  "send c pattern 18446744073709551615 * 2\n",
             &s);
    t = only_step(&s, 1, NR_S_SEND);
    assert_string_equal(t->name, "c");
    assert_int_equal(t->u.send.payload.kind, NR_PL_BYTES);
    assert_string_equal(show(&t->u.send.payload.tmpl), "a\\x0d\\x0a");
    assert_int_equal(t->u.send.payload.repeat, 3);
    assert_int_equal(t->u.send.chunk, 2);
    assert_int_equal(t->u.send.delay_ms, 10);
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 2, NR_S_SEND);
    assert_int_equal(t->u.send.payload.tmpl.nsegs, 1);
    assert_int_equal(t->u.send.payload.tmpl.segs[0].len, 3);
    assert_memory_equal(t->u.send.payload.tmpl.segs[0].data, "\x00\xff\x10", 3);
    assert_int_equal(t->u.send.payload.repeat, 1);
    assert_int_equal(t->u.send.chunk, 0);
    t = only_step(&s, 3, NR_S_SEND);
    assert_int_equal(t->u.send.payload.kind, NR_PL_FILE);
    assert_string_equal(show(&t->u.send.payload.tmpl), "${tmp}/blob");
    t = only_step(&s, 4, NR_S_SEND);
    assert_int_equal(t->u.send.payload.kind, NR_PL_PATTERN);
    assert_true(t->u.send.payload.count == 67108864u);
    t = only_step(&s, 5, NR_S_SEND);
    assert_true(t->u.send.payload.count == UINT64_MAX);
    assert_int_equal(t->u.send.payload.repeat, 2);
    nr_scn_free(&s);
}

static void expect_fields(void **state)
{
    static const struct {
        const char *line;
        enum nr_match_kind kind;
        const char *text; /* shown template (payload or text), NULL: none */
    } cases[] = {
        { "expect c \"hi\"\n", NR_M_BYTES, "hi" },
        { "expect c /^HTTP\\/1\\.1 ${c} \\$x$/\n", NR_M_REGEX, "^HTTP/1\\.1 ${c} \\\\$x\\$" },
        { "expect c /a\\r\\n\\t\\.\\/ /\n", NR_M_REGEX, "a\\x0d\\x0a\\x09\\./ " },
        { "expect c length 12\n", NR_M_LENGTH, NULL },
        { "expect c until \"\\r\\n\\r\\n\"\n", NR_M_UNTIL, "\\x0d\\x0a\\x0d\\x0a" },
        { "expect c eof\n", NR_M_EOF, NULL },
        { "expect c reset\n", NR_M_RESET, NULL },
        { "expect c nothing within 200ms\n", NR_M_NOTHING, NULL },
        { "expect c pattern 10 * 2\n", NR_M_BYTES, NULL },
    };
    char text[256];
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), CONN "%s", cases[i].line);
        parse_ok(text, &s);
        t = only_step(&s, 1, NR_S_EXPECT);
        assert_int_equal(t->u.expect.kind, cases[i].kind);
        if (cases[i].kind == NR_M_BYTES && cases[i].text)
            assert_string_equal(show(&t->u.expect.payload.tmpl), cases[i].text);
        else if (cases[i].text)
            assert_string_equal(show(&t->u.expect.text), cases[i].text);
        if (cases[i].kind == NR_M_LENGTH)
            assert_int_equal(t->u.expect.length, 12);
        if (cases[i].kind == NR_M_NOTHING)
            assert_int_equal(t->timeout_ms, 200);
        if (strstr(cases[i].line, "pattern")) {
            assert_int_equal(t->u.expect.payload.kind, NR_PL_PATTERN);
            assert_int_equal(t->u.expect.payload.count, 10);
            assert_int_equal(t->u.expect.payload.repeat, 2);
        }
        nr_scn_free(&s);
    }
}

static void simple_steps(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("target p = prog\n" CONN "shutdown c write\nclose c\nsleep 1.5s\n"
             "connect c = tcp 127.0.0.1:2\nabort c\n"
             "exit p 3 within 2m\nexit p signal SEGV\nexit p signal SIGKILL\nexit p signal 9\n"
             "stop p\nstop p expect 1\nstop p signal TERM within 1s\n"
             "stdout p \"ok\"\nstderr p /warn/\n"
             "file ${tmp}/out x\"41\"\nfile /etc/x absent\nfile f.txt /re/ within 1s\n"
             "set v = \"a ${p}\"\nset v = word\nset w = x\"0a\"\n"
             "connect c = tcp 127.0.0.1:3\nwire c bytes peer ${v}\n",
             &s);
    assert_int_equal(s.steps.n, 24);
    only_step(&s, 2, NR_S_SHUTDOWN);
    t = only_step(&s, 3, NR_S_CLOSE);
    assert_string_equal(t->name, "c");
    t = only_step(&s, 4, NR_S_SLEEP);
    assert_int_equal(t->u.sleep.ms, 1500);
    only_step(&s, 6, NR_S_ABORT);
    t = only_step(&s, 7, NR_S_EXIT);
    assert_int_equal(t->u.exit.expect.kind, NR_END_EXIT);
    assert_int_equal(t->u.exit.expect.code, 3);
    assert_int_equal(t->timeout_ms, 120000);
    t = only_step(&s, 8, NR_S_EXIT);
    assert_int_equal(t->u.exit.expect.kind, NR_END_SIGNAL);
    assert_int_equal(t->u.exit.expect.code, SIGSEGV);
    assert_int_equal(s.steps.v[9].u.exit.expect.code, SIGKILL);
    assert_int_equal(s.steps.v[10].u.exit.expect.code, 9);
    t = only_step(&s, 11, NR_S_STOP);
    assert_int_equal(t->u.exit.expect.kind, NR_END_CLEAN);
    assert_int_equal(t->u.exit.sig, 0);
    t = only_step(&s, 12, NR_S_STOP);
    assert_int_equal(t->u.exit.expect.kind, NR_END_EXIT);
    assert_int_equal(t->u.exit.expect.code, 1);
    assert_int_equal(t->u.exit.sig, 0);
    t = only_step(&s, 13, NR_S_STOP);
    assert_int_equal(t->u.exit.sig, SIGTERM);
    assert_int_equal(t->u.exit.expect.kind, NR_END_CLEAN);
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 14, NR_S_OUTPUT);
    assert_int_equal(t->u.output.is_stderr, 0);
    assert_int_equal(t->u.output.match.kind, NR_M_BYTES);
    t = only_step(&s, 15, NR_S_OUTPUT);
    assert_int_equal(t->u.output.is_stderr, 1);
    assert_int_equal(t->u.output.match.kind, NR_M_REGEX);
    assert_string_equal(show(&t->u.output.match.text), "warn");
    t = only_step(&s, 16, NR_S_FILE);
    assert_string_equal(show(&t->u.file.path), "${tmp}/out");
    assert_string_equal(show(&t->u.file.match.payload.tmpl), "A");
    t = only_step(&s, 17, NR_S_FILE);
    assert_int_equal(t->u.file.absent, 1);
    t = only_step(&s, 18, NR_S_FILE);
    assert_int_equal(t->u.file.match.kind, NR_M_REGEX);
    assert_int_equal(t->timeout_ms, 1000);
    t = only_step(&s, 19, NR_S_SET);
    assert_string_equal(t->name, "v");
    assert_string_equal(show(&t->u.set.value), "a ${p}");
    t = only_step(&s, 23, NR_S_WIRE);
    assert_int_equal(t->u.wire.prop, NR_WP_BYTES);
    assert_int_equal(t->u.wire.theirs, 1);
    assert_string_equal(show(&t->u.wire.value), "${v}");
    nr_scn_free(&s);
}

static void lexical(void **state)
{
    struct nr_scn s;
    const struct nr_step *t;

    (void)state;
    parse_ok("set a = \"\\n\\r\\t\\0\\\\\\\"\\x41\\$x$ {}\"\n"
             "set b = x\"\"\n"
             "set c = http://${a}/index?q=1,2@[x]%+\n"
             "set d = \"$\\${a}${a}\"\n"
             "\t  # comment only\n\r\n\n"
             "set e = \"#not a comment\"  # but this is\r\n"
             "sleep 0\nsleep 200ms\nsleep 2m\nsleep 0.001s\nsleep 1.0005s\n",
             &s);
    t = only_step(&s, 0, NR_S_SET);
    assert_int_equal(t->u.set.value.nsegs, 1);
    assert_int_equal(t->u.set.value.segs[0].len, 13);
    assert_memory_equal(t->u.set.value.segs[0].data, "\n\r\t\0\\\"A$x$ {}", 13);
    t = only_step(&s, 1, NR_S_SET);
    assert_int_equal(t->u.set.value.nsegs, 1);
    assert_int_equal(t->u.set.value.segs[0].len, 0);
    assert_string_equal(show(&s.steps.v[2].u.set.value), "http://${a}/index?q=1,2@[x]%+");
    assert_string_equal(show(&s.steps.v[3].u.set.value), "\\$\\${a}${a}");
    assert_string_equal(show(&s.steps.v[4].u.set.value), "#not a comment");
    assert_int_equal(s.steps.v[4].line, 8);
    assert_int_equal(s.steps.v[5].u.sleep.ms, 0);
    assert_int_equal(s.steps.v[6].u.sleep.ms, 200);
    assert_int_equal(s.steps.v[7].u.sleep.ms, 120000);
    assert_int_equal(s.steps.v[8].u.sleep.ms, 1);
    assert_int_equal(s.steps.v[9].u.sleep.ms, 1000);
    assert_int_equal(s.step_timeout_ms, 2000);
    assert_int_equal(s.deadline_ms, 60000);
    nr_scn_free(&s);

    parse_ok("timeout 500ms\ndeadline 1m\n", &s);
    assert_int_equal(s.step_timeout_ms, 500);
    assert_int_equal(s.deadline_ms, 60000 * 1);
    assert_int_equal(s.steps.n, 0);
    nr_scn_free(&s);

    parse_ok("", &s);
    assert_int_equal(s.steps.n, 0);
    nr_scn_free(&s);
}

static void blocks(void **state)
{
    struct nr_scn s;
    const struct nr_step *b, *inner;

    (void)state;
    parse_ok("target srv = prog\n"
             "parallel 3\n"
             "  connect c = tcp ${srv}\n"
             "  repeat 2\n"
             "    send c \"${i}\"\n"
             "  end\n"
             "  close c\n"
             "end\n"
             "repeat 1\n"
             "  connect c = tcp ${srv}   # a new c: the other one was private\n"
             "end\n"
             "sleep 1s\n",
             &s);
    assert_int_equal(s.steps.n, 4);
    b = only_step(&s, 1, NR_S_PARALLEL);
    assert_int_equal(b->u.block.count, 3);
    assert_int_equal(b->u.block.body.n, 3);
    inner = &b->u.block.body.v[1];
    assert_int_equal(inner->kind, NR_S_REPEAT);
    assert_int_equal(inner->line, 4);
    assert_int_equal(inner->col, 3);
    assert_int_equal(inner->u.block.count, 2);
    assert_int_equal(inner->u.block.body.n, 1);
    assert_string_equal(show(&inner->u.block.body.v[0].u.send.payload.tmpl), "${i}");
    assert_int_equal(b->u.block.body.v[2].kind, NR_S_CLOSE);
    b = only_step(&s, 2, NR_S_REPEAT);
    assert_int_equal(b->u.block.body.n, 1);
    only_step(&s, 3, NR_S_SLEEP);
    nr_scn_free(&s);

    /* nesting up to the limit */
    {
        char text[1024] = "";
        for (int i = 0; i < NR_SCN_DEPTH_MAX; i++)
            strcat(text, "repeat 2\n");
        strcat(text, "sleep 0\n");
        for (int i = 0; i < NR_SCN_DEPTH_MAX; i++)
            strcat(text, "end\n");
        parse_ok(text, &s);
        nr_scn_free(&s);
        parse_err(strcat(text, "repeat 2\n"), "t.scn:34:1: expected 'end' to close this repeat");
    }
}

static void names_and_scopes(void **state)
{
    struct nr_scn s;

    (void)state;
    /* a closed connection's name may be defined again */
    parse_ok(CONN "close c\n" CONN "abort c\n" CONN, &s);
    assert_int_equal(s.steps.n, 5);
    nr_scn_free(&s);
    /* names of 31 characters are fine */
    parse_ok("connect abcdefghijklmnopqrstuvwxyz01234 = tcp 127.0.0.1:1\n", &s);
    nr_scn_free(&s);
}

static void errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "bogus x\n", "t.scn:1:1: expected a step like" },
        { "\n  connect c tcp 127.0.0.1:1\n", "t.scn:2:13: expected '=', got 'tcp'" },
        { "set a = \"abc\n", "t.scn:1:9: expected a closing '\"' for this string, got end of line" },
        { CONN "expect c /abc\n", "t.scn:2:10: expected a closing '/' for this regex" },
        { CONN "expect c /abc\\\n", "t.scn:2:10: expected a closing '/' for this regex" },
        { CONN "expect c //\n", "t.scn:2:10: expected a non-empty regex, got '//'" },
        { CONN "send c x\"00\n", "t.scn:2:8: expected a closing '\"' for these hex bytes" },
        { CONN "send c x\"00 1\"\n", "t.scn:2:13: expected hex digits in pairs, got '1'" },
        { CONN "send c x\"0g\"\n", "t.scn:2:10: expected hex digits in pairs, got '0'" },
        { CONN "send c x\"zz\"\n", "t.scn:2:10: expected a hex digit, got 'z'" },
        { "set a = \"a\\q\"\n", "t.scn:1:11: expected an escape" },
        { "set a = \"a\\x4\"\n", "t.scn:1:11: expected an escape" },
        { CONN "expect c \"x\" within 200\n",
          "t.scn:2:21: expected a duration like 200ms or 1s, got '200'" },
        { "sleep 1.s\n", "t.scn:1:7: expected a duration like 200ms or 1s, got '1.s'" },
        { "sleep 25h\n", "t.scn:1:7: expected a duration like 200ms or 1s, got '25h'" },
        { "sleep 1441m\n", "t.scn:1:7: expected a duration of at most 86400s, got '1441m'" },
        { "sleep 99999999999s\n", "t.scn:1:7: expected a duration like 200ms" },
        { CONN "send c pattern 18446744073709551616\n",
          "t.scn:2:16: expected a number below 2^64, got '18446744073709551616'" },
        { CONN "send c pattern 12k\n", "t.scn:2:16: expected a byte count, got '12k'" },
        { CONN "send c pattern -1\n", "t.scn:2:16: expected a byte count, got '-1'" },
        { "connect abcdefghijklmnopqrstuvwxyz012345 = tcp 127.0.0.1:1\n",
          "t.scn:1:9: expected a name of at most 31 characters" },
        { "set v = \"${abcdefghijklmnopqrstuvwxyz012345}\"\n",
          "t.scn:1:10: expected a variable name of at most 31 characters" },
        { "end\n", "t.scn:1:1: expected a step ('end' closes a parallel or repeat block, none is open), got 'end'" },
        { "sleep 0\n\nrepeat 2\nsleep 0\n", "t.scn:3:1: expected 'end' to close this repeat block, got end of file" },
        { "parallel 2\n  repeat 3\n  end\n", "t.scn:1:1: expected 'end' to close this parallel block" },
        { "repeat 2\nend x\n", "t.scn:2:5: expected end of line after 'end', got 'x'" },
        { "sleep 1s 2s\n", "t.scn:1:10: expected end of line, got '2s'" },
        { CONN "close c now\n", "t.scn:2:9: expected end of line, got 'now'" },
        { CONN "expect c \"a\" within 1s x\n", "t.scn:2:24: expected end of line, got 'x'" },
        { "set a = \"x\"y\n", "t.scn:1:12: expected a space or end of line after a token, got 'y'" },
        { "set a = b!\n", "t.scn:1:10: expected a space or end of line after a token, got '!'" },
        { "target t = prog\nexit t signal FOO\n",
          "t.scn:2:15: expected a signal like TERM, KILL, SEGV or a number 1-64, got 'FOO'" },
        { "target t = prog\nexit t signal 65\n", "t.scn:2:15: expected a signal like TERM" },
        { "target t = prog\nexit t 256\n", "t.scn:2:8: expected an exit code 0-255, 'signal SIG' or 'clean', got '256'" },
        { "target t =\n", "t.scn:1:11: expected a program and its arguments after '=', got end of line" },
        { "target t = prog 'x'\n", "t.scn:1:17: expected a word, \"string\", x\"hex\" or comment" },
        { "target t nowait\n", "t.scn:1:16: expected '=' or an option" },
        { "target t env 1=2 = prog\n", "t.scn:1:14: expected an environment setting NAME=VALUE, got '1=2'" },
        { "set a = \"${\"\n", "t.scn:1:10: expected a variable reference like ${name} or ${name.port}, got '${'" },
        { "set a = ${9}\n", "t.scn:1:9: expected a variable reference like ${name}" },
        { "set a = ${x\n", "t.scn:1:9: expected a variable reference like ${name}" },
        { "set a = \"${tmp.\"\n", "t.scn:1:10: expected a variable reference like ${name}" },
        { "set x = 1\nset a = \"${x.path}\"\n", "t.scn:2:10: expected ${name}, ${name.host} or ${name.port}, got '${x.path}'" },
        { "set a = \"${nope}\"\n", "t.scn:1:10: expected a variable defined earlier, got '${nope}'" },
        { "set a = ${i}\n", "t.scn:1:9: expected ${i} only inside a parallel or repeat block" },
        { "set a = ${tmp.port}\n", "t.scn:1:9: expected ${tmp} without a field, got '${tmp.port}'" },
        { "connect c = tcp ${c}\n", "t.scn:1:17: expected a variable defined earlier, got '${c}'" },
        { "send b \"x\"\n", "t.scn:1:6: expected a connection or UDP listener defined earlier, got 'b'" },
        { "listen l = tcp 127.0.0.1:0\nsend l \"x\"\n", "t.scn:2:6: expected a connection or UDP listener, got 'l' (a listener defined at line 1)" },
        { "listen l = tcp 127.0.0.1:0\nclose l\nclose l\n", "t.scn:3:7: expected an open connection, got 'l' (closed at line 2)" },
        { "target t = p\nsend t \"x\"\n", "t.scn:2:6: expected a connection or UDP listener, got 't' (a target defined at line 1)" },
        { CONN "close c\nsend c \"x\"\n", "t.scn:3:6: expected an open connection, got 'c' (closed at line 2)" },
        { CONN CONN, "t.scn:2:9: expected a new name, got 'c' (a connection defined at line 1)" },
        { "target c = p\nset c = 1\n", "t.scn:2:5: expected a new name, got 'c' (a target defined at line 1)" },
        { "set tmp = 1\n", "t.scn:1:5: expected a new name, got 'tmp' (a builtin variable)" },
        { "repeat 2\n" CONN "end\nsend c \"x\"\n", "t.scn:4:6: expected a connection or UDP listener defined earlier, got 'c'" },
        { "connect r = tcp 127.0.0.1:1 refused\nsend r \"x\"\n", "t.scn:2:6: expected an open connection, got 'r' (closed at line 1)" },
        { "set a = \"a\\q\"\n", "t.scn:1:11: expected an escape \\n \\r \\t \\0 \\\\ \\\" \\$ or \\xHH, got '\\q'" },
        /* a bad \x escape is quoted whole: the backslash, x and both digits */
        { "set a = \"a\\xG1\"\n", "t.scn:1:11: expected an escape \\n \\r \\t \\0 \\\\ \\\" \\$ or \\xHH, got '\\xG1'" },
        { "set a = \"a\\x4G\"\n", "t.scn:1:11: expected an escape \\n \\r \\t \\0 \\\\ \\\" \\$ or \\xHH, got '\\x4G'" },
        { "listen u = udp 127.0.0.1:1\naccept a = u\n", "t.scn:2:12: expected a TCP listener, got 'u' (a UDP listener)" },
        { "accept a = nol\n", "t.scn:1:12: expected a listener defined earlier, got 'nol'" },
        { "connect c = sctp 127.0.0.1:1\n", "t.scn:1:13: expected 'tcp', 'udp', 'unix' or 'unixgram', got 'sctp'" },
        { CONN "close c /x\n", "t.scn:2:9: expected end of line, got '/x'" }, /* no regex */
        { CONN "abort c /x\n", "t.scn:2:9: expected end of line, got '/x'" },
        { CONN "send c /x\n", /* not lexed as a regex */
          "t.scn:2:8: expected a payload: \"string\", x\"hex\", file PATH or pattern N, got '/x'" },
        { CONN "send c 12\n", "t.scn:2:8: expected a payload: \"string\", x\"hex\", file PATH or pattern N, got '12'" },
        { CONN "send c \"a\" * 0\n", "t.scn:2:14: expected a repeat count >= 1, got '0'" },
        { CONN "send c \"a\" chunk 0\n", "t.scn:2:18: expected a chunk size >= 1, got '0'" },
        { CONN "send c \"a\" fast\n", "t.scn:2:12: expected 'chunk N', 'delay DUR', 'within DUR' or end of line" },
        { CONN "expect c until \"\"\n", "t.scn:2:16: expected a non-empty \"delimiter\", got '\"\"'" },
        { CONN "expect c soon\n", "t.scn:2:10: expected \"string\", x\"hex\", file, pattern, /regex/" },
        { "target t = p\nstdout t eof\n", "t.scn:2:10: expected \"string\", x\"hex\", file PATH, pattern N or /regex/, got 'eof'" },
        { CONN "shutdown c read\n", "t.scn:2:12: expected 'write'" },
        { "parallel 0\nend\n", "t.scn:1:10: expected an instance count 1-1024, got '0'" },
        { "parallel 1025\nend\n", "t.scn:1:10: expected an instance count 1-1024" },
        { "repeat x\nend\n", "t.scn:1:8: expected a repeat count 1-1000000, got 'x'" },
        { CONN "wire c\n", "t.scn:2:7: expected a wire property (state S, handshake, first-fin SIDE, no-rst, rst SIDE, no-retransmissions, datagrams N, bytes SIDE N), got end of line" },
        { CONN "wire c first-fin server\n", "t.scn:2:18: expected a side: us or peer, got 'server'" },
        { CONN "expect c /a(/\n", "t.scn:2:10: expected a valid regular expression (POSIX extended): Unmatched ( or \\(, got /a(/" },
        { "target t ready /x{2,1}/ = p\n", "t.scn:1:16: expected a valid regular expression (POSIX extended): Invalid content of \\{\\}, got /x{2,1}/" },
        { "target t = p\nstdout t /[z-a]/\n", "t.scn:2:10: expected a valid regular expression (POSIX extended): Invalid range end, got /[z-a]/" },
        { "connect c = tcp localhost:80\n", "t.scn:1:17: expected an address like 127.0.0.1:0, [::1]:8080 or ${name}, got 'localhost:80'" },
        { "listen u = udp 127.0.0.1:0\nsend u \"x\" to localhost:53\n", "t.scn:2:15: expected an address like 127.0.0.1:0, [::1]:8080 or ${name}, got 'localhost:53'" },
        { "sleep 0\ntimeout 1s\n", "t.scn:2:1: expected 'timeout' only before the first step" },
        { "repeat 1\ndeadline 1s\nend\n", "t.scn:2:1: expected 'deadline' only before the first step" },
        { "listen l = tcp 127.0.0.1:1\nconnect c = tcp 127.0.0.1:1 within 1s refused\n", "t.scn:2:39: expected end of line, got 'refused'" },
        { "\xff\n", "t.scn:1:1: expected a word, \"string\", x\"hex\" or comment (quote special characters), got '\\xff'" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_err(cases[i].text, cases[i].want);
}

static void errors_with_nul_and_long_lines(void **state)
{
    static const char nul[] = "sleep 0\n\0";
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;
    uint8_t *big;
    size_t n = NR_SCN_LINE_MAX + 10;

    (void)state;
    assert_int_equal(nr_scn_parse((const uint8_t *)nul, sizeof(nul) - 1, "t.scn", &s, err), -1);
    assert_string_equal(err, "t.scn:2:1: expected text, got a NUL byte");

    big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "sleep 0", 7);
    assert_int_equal(nr_scn_parse(big, n, "t.scn", &s, err), -1);
    assert_string_equal(err, "t.scn:1:65537: expected a line of at most 65536 bytes, got a longer one");
    memset(big, ' ', n);
    big[NR_SCN_LINE_MAX] = '\n';
    memcpy(big, "sleep 0", 7);
    assert_int_equal(nr_scn_parse(big, n, "t.scn", &s, err), 0);
    nr_scn_free(&s);
    free(big);

    /* no terminating newline, NULL path, NULL errbuf */
    assert_int_equal(nr_scn_parse((const uint8_t *)"sleep 1s", 8, NULL, &s, NULL), 0);
    assert_string_equal(s.path, "<scenario>");
    nr_scn_free(&s);
    assert_int_equal(nr_scn_parse((const uint8_t *)"sleep", 5, NULL, &s, NULL), -1);
    nr_scn_free(&s); /* safe on the zeroed result */
}

static void examples(void **state)
{
    static const char *const files[] = { "echo.scn", "http-get.scn", "udp.scn" };
    char path[256], err[NR_ERRBUF_SIZE] = "";
    const char *dir = getenv("NR_SRC");
    struct nr_scn s;

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s" EXAMPLES "%s", dir ? dir : "", dir ? "/" : "",
                 files[i]);
        if (nr_scn_load(path, &s, err) != 0)
            fail_msg("%s", err);
        assert_string_equal(s.path, path);
        assert_true(s.steps.n > 3);
        if (strcmp(files[i], "echo.scn") == 0) {
            assert_int_equal(s.step_timeout_ms, 2000);
            assert_int_equal(s.deadline_ms, 30000);
            assert_int_equal(s.needs_ipv6, 0);
        }
        if (strcmp(files[i], "udp.scn") == 0)
            assert_int_equal(s.needs_ipv6, 1);
        nr_scn_free(&s);
    }
    assert_int_equal(nr_scn_load("/nonexistent/x.scn", &s, err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.scn: cannot open"));
}

/* --- nr_tmpl_expand ----------------------------------------------------- */

static int lookup(void *ctx, const char *name, const uint8_t **val, size_t *len)
{
    static const char *const vars[][2] = {
        { "srv", "127.0.0.1:8080" }, { "v6", "[::1]:99" }, { "word", "plain" }, { "tmp", "/t" },
    };

    (void)ctx;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (strcmp(name, vars[i][0]) == 0) {
            *val = (const uint8_t *)vars[i][1];
            *len = strlen(vars[i][1]);
            return 0;
        }
    return -1;
}

/* Expand the value of `set x = TEXT` (TEXT in scenario syntax). */
static int expand(const char *text, uint8_t **out, size_t *len, char *err)
{
    char src[512];
    struct nr_scn s;
    int rc;

    snprintf(src, sizeof(src), "listen srv = tcp 127.0.0.1:1\nlisten v6 = tcp 127.0.0.1:1\nset word = w\n"
                               "set x = %s\n", text);
    parse_ok(src, &s);
    rc = nr_tmpl_expand(&s.steps.v[3].u.set.value, lookup, NULL, out, len, err);
    nr_scn_free(&s);
    return rc;
}

static void tmpl_expand(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "\"GET http://${srv}/ HTTP/1.1\"", "GET http://127.0.0.1:8080/ HTTP/1.1" },
        { "${srv.host}-${srv.port}", "127.0.0.1-8080" },
        { "${v6.host}/${v6.port}/${v6}", "::1/99/[::1]:99" },
        { "\"${tmp}/f${word}\"", "/t/fplain" },
        { "\"\"", "" },
    };
    char err[NR_ERRBUF_SIZE];
    uint8_t *out;
    size_t len;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(expand(cases[i].in, &out, &len, err), 0);
        assert_int_equal(len, strlen(cases[i].out));
        assert_string_equal((char *)out, cases[i].out);
        free(out);
    }
    assert_int_equal(expand("x\"00 41\"", &out, &len, err), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "\0A\0", 3);
    free(out);
    assert_int_equal(expand("${word.port}", &out, &len, err), -1);
    assert_string_equal(err, "variable 'word' is not an address HOST:PORT");
    assert_null(out);
    assert_int_equal(expand("\"${bin}\"", &out, &len, err), -1);
    assert_string_equal(err, "unknown variable 'bin'");
    assert_null(out);
}

/* --- robustness --------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Parse; the result does not matter, only that nothing crashes or leaks. */
static void parse_any(const uint8_t *buf, size_t len)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;

    if (nr_scn_parse(buf, len, "f.scn", &s, err) == 0)
        nr_scn_free(&s);
    else
        assert_int_equal(strncmp(err, "f.scn:", 6), 0);
}

static void malformed_table(void **state)
{
    static const char *const bad[] = {
        "\"", "x\"", "/", "${", "$", "${}", "${a.}", "${.a}", "\\", "\"\\", "\"\\x", "\"\\x4",
        "set a = \"\\", "expect", "expect c", "target", "target t", "target t =", "target t = \"",
        "target t ready", "target t activate", "target t activate tcp", "target t env",
        "connect", "connect c", "connect c =", "connect c = tcp", "send", "file", "file x",
        "set", "set a", "set a =", "parallel", "repeat", "end", "end end", "wire", "exit",
        "stop", "stdout", "stderr x", "sleep", "sleep 1", "timeout", "deadline x", "*", "* *",
        "connect c = tcp 127.0.0.1:1\nsend c pattern", "connect c = tcp 127.0.0.1:1\nsend c \"a\" *",
        "connect c = tcp 127.0.0.1:1\nexpect c until", "connect c = tcp 127.0.0.1:1\nexpect c length",
        "connect c = tcp 127.0.0.1:1\nexpect c /${c", "repeat 1\nrepeat 1\nrepeat 1", "\r\r\r\n\t",
        "target t = p\nexit t signal", "target t = p\nexit t signal SIG", "# only",
        "x\"0", "x\"00 0", "set a = x\"0 0\"", "target t stop-signal", "target t clean",
        "target t clean signal", "target t ready stderr \"x", "target t = p\nstop t expect",
        "target t = p\nstop t signal", "target t = p\nstop t signal 2 expect signal",
        "target t = p\nexit t clean within", "flow", "flow f", "flow f = tcp to",
        "flow f = tcp to 1 index", "flows", "flows tcp from 1 count", "flows udp to [::1]:1",
        "listen u = udp 127.0.0.1:1\nsend u \"x\" to", "listen u = udp 127.0.0.1:1\nexpect u \"x\" from",
        "connect c = tcp 127.0.0.1:1 retry within",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        parse_any((const uint8_t *)bad[i], n);
        for (size_t k = 0; k < n; k++) /* every prefix too */
            parse_any((const uint8_t *)bad[i], k);
    }
}

static void random_bytes(void **state)
{
    static const char *const words[] = {
        "target ", "t ", "= ", "prog ", "connect ", "c ", "tcp ", "udp ", "127.0.0.1:0 ",
        "listen ", "l ", "accept ", "send ", "expect ", "\"a${c}\" ", "x\"0a\" ", "/r${t}/ ",
        "pattern ", "9 ", "* ", "chunk ", "within ", "1s ", "eof ", "close ", "abort ", "\n",
        "parallel 2\n", "repeat 2\n", "end\n", "${i} ", "set ", "v ", "stop ", "exit ", "signal ",
        "TERM ", "file ", "absent ", "wire ", "stdout ", "until ", "\"\\x", "# ", "[::1]:1 ",
        "clean ", "stop-signal ", "ready ", "stderr ", "expect ",
    };
    uint8_t buf[512];
    FILE *f;
    uint8_t *ex = NULL;
    size_t exlen = 0;

    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) { /* random bytes, biased to text */
        size_t n = rnd() % 201;
        for (size_t k = 0; k < n; k++) {
            uint64_t r = rnd();
            buf[k] = r % 4 ? (uint8_t)" \n\"\\$/{}x0a=#*\t"[r >> 8 & 15] : (uint8_t)(r >> 16);
        }
        parse_any(buf, n);
    }
    for (int i = 0; i < 5000; i++) { /* random sequences of grammar words */
        size_t n = 0, w = rnd() % 30;
        for (size_t k = 0; k < w; k++) {
            const char *s = words[rnd() % (sizeof(words) / sizeof(words[0]))];
            size_t sl = strlen(s);
            if (n + sl > sizeof(buf))
                break;
            memcpy(buf + n, s, sl);
            n += sl;
        }
        parse_any(buf, n);
    }
    f = open_memstream((char **)&ex, &exlen);
    assert_non_null(f);
    {
        FILE *in = fopen(EXAMPLES "echo.scn", "rb");
        int c;
        if (in) {
            while ((c = fgetc(in)) != EOF)
                fputc(c, f);
            fclose(in);
        } else {
            fputs("target srv = p\nconnect a = tcp ${srv}\nsend a \"x\"\nexpect a eof\n", f);
        }
    }
    fclose(f);
    for (int i = 0; i < 5000; i++) { /* mutations of a valid scenario */
        uint8_t *m = malloc(exlen + 1);
        size_t n = exlen;
        assert_non_null(m);
        memcpy(m, ex, exlen);
        for (int k = 1 + (int)(rnd() % 4); k > 0 && n > 0; k--) {
            size_t at = rnd() % n;
            switch (rnd() % 3) {
            case 0:
                m[at] = (uint8_t)rnd();
                break;
            case 1:
                memmove(m + at, m + at + 1, n - at - 1);
                n--;
                break;
            default:
                n = at;
                break;
            }
        }
        parse_any(m, n);
        free(m);
    }
    free(ex);
}

/* The one duration grammar, as netrig run's options read it too. */
static void durations(void **state)
{
    static const struct {
        const char *text;
        int rc, ms;
    } cases[] = {
        { "0", 0, 0 },         { "200ms", 0, 200 },  { "1.5s", 0, 1500 },   { "2m", 0, 120000 },
        { "0.0015s", 0, 1 },   { "86400s", 0, 86400000 }, { "86401s", -2, 0 }, { "200", -1, 0 },
        { "0x2s", -1, 0 },     { "1e3ms", -1, 0 },   { "-1s", -1, 0 },     { "1.s", -1, 0 },
        { "s", -1, 0 },        { "", -1, 0 },        { "5h", -1, 0 },      { "1.5 s", -1, 0 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int ms = -7, rc = nr_scn_dur((const uint8_t *)cases[i].text, strlen(cases[i].text), &ms);
        if (rc != cases[i].rc || (rc == 0 && ms != cases[i].ms))
            fail_msg("'%s': got %d (%d ms), want %d (%d ms)", cases[i].text, rc, ms, cases[i].rc,
                     cases[i].ms);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        heap_exact_test(durations),
        heap_exact_test(target_fields),
        heap_exact_test(lifecycle_fields),
        heap_exact_test(lifecycle_errors),
        heap_exact_test(readiness_fields),
        heap_exact_test(readiness_errors),
        heap_exact_test(include_and_param),
        heap_exact_test(include_errors),
        heap_exact_test(unix_sockets),
        heap_exact_test(socket_fields),
        heap_exact_test(send_fields),
        heap_exact_test(retry_and_udp_peer_fields),
        heap_exact_test(flow_fields),
        heap_exact_test(flow_and_peer_errors),
        heap_exact_test(expect_fields),
        heap_exact_test(simple_steps),
        heap_exact_test(lexical),
        heap_exact_test(blocks),
        heap_exact_test(names_and_scopes),
        heap_exact_test(errors),
        heap_exact_test(errors_with_nul_and_long_lines),
        heap_exact_test(examples),
        heap_exact_test(tmpl_expand),
        heap_exact_test(malformed_table),
        heap_exact_test(random_bytes),
    };

    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact: every case is checked for leaks */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
