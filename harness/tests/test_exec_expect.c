/* Unit tests: the runner's expect matchers (exec_match.c), first as pure
 * functions over (bytes, length, how the input ended), then driven in-process
 * over real loopback sockets: the test parses a scenario, runs its steps
 * with the executor's functions and plays the peer itself (writes, FIN,
 * RST, datagrams, late or never).  Every matcher is shown passing, then
 * each part of its claim is falsified alone: different bytes, a prefix, a
 * stream that ends early or goes silent, extra data, the wrong length,
 * data during `nothing`, a reset for an EOF and back, the wrong sender. */
#define _GNU_SOURCE
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <malloc.h>
#include <pthread.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../src/exec.h"
#include "../src/exec_conn.h"
#include "../src/exec_match.h"
#include "../src/run.h"
#include "../../targets/tests/fault_inproc.h"

#define STEP_MS 300 /* the scenario's step timeout: how long a failing wait takes */

/* One scenario run by hand: state, context, and the peer's sockets. */
static struct {
    struct nr_scn scn;
    struct run_opts o;
    struct exec_state st;
    struct exec_ctx c;
    char *log;          /* the step log (exec_log) */
    size_t loglen;
    int lfd;            /* TCP listener / UDP socket the scenario talks to */
    int peer;           /* the accepted TCP connection */
    uint16_t port;
    char *fail;         /* the last step's failure (owned) */
} F;

static int teardown(void **state)
{
    (void)state;
    exec_conns_free(&F.c);
    free(F.c.fail);
    free(F.fail);
    if (F.st.log)
        fclose(F.st.log);
    free(F.log);
    for (size_t i = 0; i < F.st.nvars; i++)
        free(F.st.vars[i].val);
    free(F.st.vars);
    for (size_t i = 0; i < F.st.nrecords; i++) {
        free(F.st.records[i].dg_sent);
        free(F.st.records[i].dg_recv);
    }
    free(F.st.records);
    nr_scn_free(&F.scn);
    pthread_mutex_destroy(&F.st.lock);
    if (F.peer >= 0)
        close(F.peer);
    if (F.lfd >= 0)
        close(F.lfd);
    memset(&F, 0, sizeof(F));
    F.peer = F.lfd = -1; /* a second teardown (the case's, then cmocka's) closes nothing */
    return 0;
}

static int run_step(size_t i)
{
    const struct nr_step *s = &F.scn.steps.v[i];

    F.c.seq = &F.scn.steps;
    F.c.seq_at = i;
    switch (s->kind) {
    case NR_S_CONNECT:
        return exec_connect(&F.c, s);
    case NR_S_LISTEN:
        return exec_listen(&F.c, s);
    case NR_S_SEND:
        return exec_send(&F.c, s);
    case NR_S_EXPECT:
        return exec_expect(&F.c, s);
    case NR_S_SHUTDOWN:
        return exec_shutdown(&F.c, s);
    default:
        fail_msg("step kind %d is not run by this test", (int)s->kind);
    }
    return -1;
}

/* Parse the scenario text into F, make its state and context, and run its
 * first step. */
static void begin(const char *text)
{
    char errbuf[NR_ERRBUF_SIZE];

    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &F.scn, errbuf) < 0)
        fail_msg("%s", errbuf);
    F.o.time_scale = 1.0;
    F.st.scn = &F.scn;
    F.st.o = &F.o;
    F.st.step_timeout = F.scn.step_timeout_ms;
    F.st.t0 = nr_now_ms();
    F.st.deadline = F.st.t0 + 20000;
    F.st.log = open_memstream(&F.log, &F.loglen);
    pthread_mutex_init(&F.st.lock, NULL);
    F.c.st = &F.st;
    F.c.index = -1;
    assert_int_equal(run_step(0), 0);
}

/* Parse "connect a = PROTO 127.0.0.1:PORT" + steps (PORT: a socket of the
 * test's, also written for "{port}" in steps), and run the connect; for
 * TCP accept it as the peer.  proto -1: "listen a = udp 127.0.0.1:0"
 * instead, the test's UDP socket at PORT being one sender. */
static void start(int proto, const char *steps)
{
    int listener = proto < 0;
    char *text, *p;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);

    memset(&F, 0, sizeof(F));
    F.peer = -1;
    proto = listener ? IPPROTO_UDP : proto;
    F.lfd = socket(AF_INET, (proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    assert_true(F.lfd >= 0);
    assert_int_equal(bind(F.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(F.lfd, (struct sockaddr *)&sa, &sl), 0);
    F.port = ntohs(sa.sin_port);
    if (proto == IPPROTO_TCP)
        assert_int_equal(listen(F.lfd, 4), 0);
    if (listener)
        assert_true(asprintf(&text, "timeout %dms\nlisten a = udp 127.0.0.1:0\n%s", STEP_MS,
                             steps) > 0);
    else
        assert_true(asprintf(&text, "timeout %dms\nconnect a = %s 127.0.0.1:%u\n%s", STEP_MS,
                             proto == IPPROTO_TCP ? "tcp" : "udp", F.port, steps) > 0);
    while ((p = strstr(text, "{port}"))) {
        char *t;
        *p = '\0';
        assert_true(asprintf(&t, "%s%u%s", text, F.port, p + 6) > 0);
        free(text);
        text = t;
    }
    begin(text);
    free(text);
    if (proto == IPPROTO_TCP)
        assert_true((F.peer = accept4(F.lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0);
}

/* Run step i; returns its failure message (kept in F.fail) or NULL. */
static const char *step(size_t i)
{
    int r = run_step(i);

    free(F.fail);
    F.fail = F.c.fail;
    F.c.fail = NULL;
    /* a step returns 0, or -1 after exec_fail (exec.h) */
    if ((r != 0 && r != -1) || (r == 0) != (F.fail == NULL))
        fail_msg("step %zu returned %d with failure '%s'", i, r, F.fail ? F.fail : "(none)");
    return F.fail;
}

#define step_passes(i)                                                                           \
    do {                                                                                         \
        const char *f_ = step(i);                                                                \
        if (f_)                                                                                  \
            fail_msg("step %d should pass, it failed:\n%s", (int)(i), f_);                      \
    } while (0)

#define step_fails_with(i, text)                                                                 \
    do {                                                                                         \
        const char *f_ = step(i);                                                                \
        if (!f_ || !strstr(f_, text))                                                            \
            fail_msg("step %d should fail with '%s', got:\n%s", (int)(i), text,                  \
                     f_ ? f_ : "(passed)");                                                      \
    } while (0)

/* ---- the peer ------------------------------------------------------------ */

static void peer_write(const void *p, size_t n)
{
    assert_int_equal(write(F.peer, p, n), (ssize_t)n);
}

static void peer_fin(void)
{
    assert_int_equal(shutdown(F.peer, SHUT_WR), 0);
}

static void peer_rst(void)
{
    struct linger l = { 1, 0 };
    assert_int_equal(setsockopt(F.peer, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
    close(F.peer);
    F.peer = -1;
}

/* What a thread does to the peer after a delay: write, FIN, echo. */
struct later {
    int ms;
    const char *data;
    int fin;
    pthread_t th;
};

static void *later_main(void *arg)
{
    struct later *l = arg;

    usleep((useconds_t)l->ms * 1000);
    if (l->data && write(F.peer, l->data, strlen(l->data)) < 0)
        return NULL;
    if (l->fin)
        shutdown(F.peer, SHUT_WR);
    return NULL;
}

static void later(struct later *l)
{
    assert_int_equal(pthread_create(&l->th, NULL, later_main, l), 0);
}

/* ---- the matchers as functions ------------------------------------------ */

/* One call of a matcher: the claim (an expect step's text), the input and
 * how it ended, and what it must return and consume.  Each claim holds,
 * then each part of it is falsified alone. */
struct match_case {
    const char *claim, *in;
    enum exec_in_end end;
    enum exec_match_rc rc;
    size_t used;
    const char *why; /* FAIL: m.why, "" for NULL (the stream's end) */
};

static const struct match_case match_cases[] = {
    { "\"hello\"", "hello", EXEC_IN_OPEN, EXEC_MATCH_DONE, 5, NULL },
    { "\"hello\"", "hello world", EXEC_IN_OPEN, EXEC_MATCH_DONE, 5, NULL }, /* the rest stays */
    { "\"hello\"", "hel", EXEC_IN_OPEN, EXEC_MATCH_MORE, 3, NULL },          /* short: taken */
    { "\"hello\"", "hel", EXEC_IN_EOF, EXEC_MATCH_MORE, 3, NULL },           /* the loop fails it */
    { "\"hello\"", "help!", EXEC_IN_OPEN, EXEC_MATCH_FAIL, 3, "bytes differ" },
    { "\"hello\"", "xhello", EXEC_IN_OPEN, EXEC_MATCH_FAIL, 0, "bytes differ" },
    { "\"hello\"", "hello", EXEC_IN_DATAGRAM, EXEC_MATCH_DONE, 5, NULL },
    { "\"ab\" * 3", "ababab", EXEC_IN_OPEN, EXEC_MATCH_DONE, 6, NULL },
    { "\"ab\" * 3", "ababba", EXEC_IN_OPEN, EXEC_MATCH_FAIL, 4, "bytes differ" },
    { "\"\"", "x", EXEC_IN_OPEN, EXEC_MATCH_DONE, 0, NULL },
    { "/he+llo/", "xx heeello rest", EXEC_IN_OPEN, EXEC_MATCH_DONE, 10, NULL },
    { "/he+llo/", "hallo", EXEC_IN_OPEN, EXEC_MATCH_MORE, 0, NULL },
    { "/he+llo/", "hallo", EXEC_IN_EOF, EXEC_MATCH_MORE, 0, NULL },
    { "/^$/", "", EXEC_IN_OPEN, EXEC_MATCH_MORE, 0, NULL },   /* a stream waits for a byte */
    { "/^$/", "", EXEC_IN_DATAGRAM, EXEC_MATCH_DONE, 0, NULL }, /* an empty datagram is one */
    { "/^a$/", "ab", EXEC_IN_DATAGRAM, EXEC_MATCH_MORE, 0, NULL },
    { "until \"\\r\\n\"", "abc\r\ndef", EXEC_IN_OPEN, EXEC_MATCH_DONE, 5, NULL },
    { "until \"\\r\\n\"", "abc\r", EXEC_IN_OPEN, EXEC_MATCH_MORE, 0, NULL },
    { "until \"\\r\\n\"", "\r\nabc", EXEC_IN_OPEN, EXEC_MATCH_DONE, 2, NULL }, /* at 0 */
    { "until \"\\r\\n\"", "", EXEC_IN_OPEN, EXEC_MATCH_MORE, 0, NULL },
    { "until \"\\r\\n\"", "abc\n\r", EXEC_IN_EOF, EXEC_MATCH_MORE, 0, NULL },
    { "length 4", "abcdef", EXEC_IN_OPEN, EXEC_MATCH_DONE, 4, NULL },
    { "length 4", "abcd", EXEC_IN_DATAGRAM, EXEC_MATCH_DONE, 4, NULL },
    { "length 4", "abc", EXEC_IN_OPEN, EXEC_MATCH_MORE, 3, NULL },
    { "length 0", "", EXEC_IN_OPEN, EXEC_MATCH_DONE, 0, NULL },
    { "eof", "", EXEC_IN_EOF, EXEC_MATCH_DONE, 0, NULL },
    { "eof", "x", EXEC_IN_EOF, EXEC_MATCH_FAIL, 0, "more data" },
    { "eof", "x", EXEC_IN_OPEN, EXEC_MATCH_FAIL, 0, "more data" },
    { "eof", "", EXEC_IN_OPEN, EXEC_MATCH_MORE, 0, NULL },
    { "eof", "", EXEC_IN_RESET, EXEC_MATCH_MORE, 0, NULL },
    { "reset", "", EXEC_IN_RESET, EXEC_MATCH_DONE, 0, NULL },
    { "reset", "unread", EXEC_IN_RESET, EXEC_MATCH_DONE, 6, NULL }, /* not judged */
    { "reset", "", EXEC_IN_EOF, EXEC_MATCH_MORE, 0, NULL },
    { "reset", "x", EXEC_IN_OPEN, EXEC_MATCH_MORE, 1, NULL },
    { "nothing", "", EXEC_IN_OPEN, EXEC_MATCH_MORE, 0, NULL },
    { "nothing", "x", EXEC_IN_OPEN, EXEC_MATCH_FAIL, 0, "data" },
    { "nothing", "", EXEC_IN_EOF, EXEC_MATCH_FAIL, 0, "" },
    { "nothing", "", EXEC_IN_RESET, EXEC_MATCH_FAIL, 0, "" },
    { "nothing", "", EXEC_IN_ERROR, EXEC_MATCH_FAIL, 0, "" },
};

static void matcher_table(void **st)
{
    static const char *const rc_name[] = { "DONE", "MORE", "FAIL" };
    (void)st;
    /* every kind of match has a row, and only those */
    for (int k = NR_M_BYTES; k <= NR_M_NOTHING; k++) {
        const struct exec_matcher *row = exec_matcher((enum nr_match_kind)k);
        assert_non_null(row);
        assert_int_equal(row->kind, k);
        assert_non_null(row->report);
    }
    assert_null(exec_matcher((enum nr_match_kind)(NR_M_NOTHING + 1)));
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *t = &match_cases[i];
        const struct nr_step *s;
        struct exec_match m;
        enum exec_match_rc rc;
        size_t used = 12345;
        char *steps;

        assert_true(asprintf(&steps, "expect a %s\n", t->claim) > 0);
        start(IPPROTO_TCP, steps);
        free(steps);
        s = &F.scn.steps.v[1];
        assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
        rc = m.row->match(&m, (const uint8_t *)t->in, strlen(t->in), t->end, &used);
        if (rc != t->rc || used != t->used ||
            (t->why && strcmp(m.why ? m.why : "", t->why) != 0))
            fail_msg("case %zu, %s on \"%s\" (end %d): got %s, %zu used, why \"%s\"; expected "
                     "%s, %zu used, why \"%s\"", i, t->claim, t->in, (int)t->end, rc_name[rc],
                     used, m.why ? m.why : "", rc_name[t->rc], t->used, t->why ? t->why : "");
        exec_match_free(&m);
        teardown(NULL);
    }
}

/* Input that comes in pieces: a streaming matcher takes each as it comes. */
static void matcher_in_pieces(void **st)
{
    const struct nr_step *s;
    struct exec_match m;
    size_t used;
    (void)st;
    start(IPPROTO_TCP, "expect a \"hello\"\nexpect a length 5\n");
    s = &F.scn.steps.v[1];
    assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
    assert_int_equal(m.row->match(&m, (const uint8_t *)"he", 2, EXEC_IN_OPEN, &used),
                     EXEC_MATCH_MORE);
    assert_int_equal(used, 2);
    assert_int_equal(m.row->match(&m, (const uint8_t *)"lp", 2, EXEC_IN_OPEN, &used),
                     EXEC_MATCH_FAIL);
    assert_int_equal(used, 1);
    assert_int_equal(m.done, 3);
    exec_match_free(&m);
    assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
    assert_int_equal(m.row->match(&m, (const uint8_t *)"hel", 3, EXEC_IN_OPEN, &used),
                     EXEC_MATCH_MORE);
    assert_int_equal(m.row->match(&m, (const uint8_t *)"lo!", 3, EXEC_IN_OPEN, &used),
                     EXEC_MATCH_DONE);
    assert_int_equal(used, 2);
    exec_match_free(&m);
    s = &F.scn.steps.v[2];
    assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
    assert_int_equal(m.row->match(&m, (const uint8_t *)"abc", 3, EXEC_IN_OPEN, &used),
                     EXEC_MATCH_MORE);
    assert_int_equal(m.row->match(&m, (const uint8_t *)"defg", 4, EXEC_IN_OPEN, &used),
                     EXEC_MATCH_DONE);
    assert_int_equal(used, 2);
    exec_match_free(&m);
}

/* A regex that has not matched in 1 MiB gives up. */
static void matcher_regex_window(void **st)
{
    const struct nr_step *s;
    struct exec_match m;
    size_t used, n = (1u << 20) + 1;
    uint8_t *big = malloc(n + 1);
    (void)st;
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0'; /* ASan's regexec reads to a NUL despite REG_STARTEND */
    start(IPPROTO_TCP, "expect a /y/\n");
    s = &F.scn.steps.v[1];
    assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
    assert_int_equal(m.row->match(&m, big, n - 1, EXEC_IN_OPEN, &used), EXEC_MATCH_MORE);
    assert_int_equal(m.row->match(&m, big, n, EXEC_IN_OPEN, &used), EXEC_MATCH_FAIL);
    assert_string_equal(m.why, "over 1 MiB without a match");
    big[n - 1] = 'y';
    assert_int_equal(m.row->match(&m, big, n, EXEC_IN_OPEN, &used), EXEC_MATCH_DONE);
    assert_int_equal(used, n);
    exec_match_free(&m);
    free(big);
}

/* ---- one claim, one peer: the table ------------------------------------ */

enum peer_end { OPEN, FIN, RST };

/* The peer writes `sent`, then ends as `end`; steps 1.. run in order and
 * all pass, except the last when `fail` says how it must fail. */
struct tcp_case {
    const char *what, *steps, *sent;
    enum peer_end end;
    const char *fail;
};

static const struct tcp_case tcp_cases[] = {
    { "bytes: exact", "expect a \"hello\"\nexpect a eof\n", "hello", FIN, NULL },
    { "bytes: different", "expect a \"hello\"\n", "help!", OPEN,
      "bytes differ: expected 5 bytes, 3 matched" },
    { "bytes: a prefix, then EOF", "expect a \"hello\"\n", "hel", FIN,
      "EOF: expected 5 bytes, 3 matched" },
    { "bytes: a prefix, then silence", "expect a \"hello\"\n", "hell", OPEN,
      "timeout: expected 5 bytes, 4 matched" },
    { "bytes: a prefix, then a reset", "expect a \"hello\"\n", "he", RST,
      "connection reset by peer: expected 5 bytes, 2 matched" },
    { "bytes: the rest is the next step's",
      "expect a \"hello\"\nexpect a \" world\"\nexpect a eof\n", "hello world", FIN, NULL },
    { "bytes: repeated, one short", "expect a \"ab\" * 3\n", "ababa", FIN,
      "EOF: expected 6 bytes, 5 matched" },
    { "regex: consumes through the match", "expect a /he+llo/\nexpect a \" rest\"\n",
      "xx heeello rest", OPEN, NULL },
    { "regex: no match, then EOF", "expect a /he+llo/\n", "hallo", FIN,
      "no match for /he+llo/ (EOF)" },
    { "regex: no match, then silence", "expect a /he+llo/\n", "hell", OPEN,
      "no match for /he+llo/ (timeout)" },
    { "until: through the delimiter", "expect a until \"\\r\\n\"\nexpect a \"def\"\n",
      "abc\r\ndef", OPEN, NULL },
    { "until: no delimiter", "expect a until \"\\r\\n\"\n", "abc\r", FIN,
      "delimiter not seen (EOF)" },
    { "length: exact, the rest is the next step's", "expect a length 4\nexpect a \"ef\"\n",
      "abcdef", OPEN, NULL },
    { "length: short, then EOF", "expect a length 4\n", "abc", FIN, "got 3 of 4 bytes (EOF)" },
    { "length: short, then silence", "expect a length 4\n", "ab", OPEN,
      "got 2 of 4 bytes (timeout)" },
    { "eof", "expect a eof\n", "", FIN, NULL },
    { "eof: data first", "expect a eof\n", "x", FIN,
      "expected EOF, got more data\n  received (1 bytes unconsumed, then EOF):\n" },
    { "eof: a reset", "expect a eof\n", "", RST, "expected EOF, got connection reset by peer" },
    { "eof: still open", "expect a eof\n", "", OPEN, "expected EOF, got timeout" },
    { "reset, data before it unjudged", "expect a reset\n", "unread", RST, NULL },
    { "reset: an EOF", "expect a reset\n", "", FIN, "expected a reset, got EOF" },
    { "reset: still open", "expect a reset\n", "", OPEN, "expected a reset, got timeout" },
    { "nothing", "expect a nothing within 100ms\n", "", OPEN, NULL },
    { "nothing: data", "expect a nothing within 100ms\n", "x", OPEN,
      "expected nothing, got data" },
    { "nothing: EOF", "expect a nothing within 100ms\n", "", FIN, "expected nothing, got EOF" },
    { "nothing: a reset", "expect a nothing within 100ms\n", "", RST,
      "expected nothing, got connection reset by peer" },
    { "regex: no match, then a reset", "expect a /he+llo/\n", "hallo", RST,
      "no match for /he+llo/ (connection reset by peer)" },
    { "until: no delimiter, then silence", "expect a until \"\\r\\n\"\n", "abc\n", OPEN,
      "delimiter not seen (timeout)" },
    { "until: no delimiter, then a reset", "expect a until \"\\r\\n\"\n", "abc", RST,
      "delimiter not seen (connection reset by peer)" },
    { "length: short, then a reset", "expect a length 4\n", "abc", RST,
      "got 3 of 4 bytes (connection reset by peer)" },
    { "bytes: extra data is the next step's", "expect a \"hello\"\nexpect a eof\n", "hello!",
      FIN, "expected EOF, got more data" },
};

static void tcp_table(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof(tcp_cases) / sizeof(tcp_cases[0]); i++) {
        const struct tcp_case *t = &tcp_cases[i];
        size_t n = 0;
        const char *f;

        for (const char *p = t->steps; *p; p++)
            n += *p == '\n';
        start(IPPROTO_TCP, t->steps);
        peer_write(t->sent, strlen(t->sent));
        if (t->end == FIN)
            peer_fin();
        if (t->end == RST) {
            usleep(20000); /* the data first */
            peer_rst();
        }
        for (size_t k = 1; k <= n; k++) {
            f = step(k);
            if (k < n || !t->fail) {
                if (f)
                    fail_msg("%s: step %zu should pass, it failed:\n%s", t->what, k, f);
            } else if (!f || !strstr(f, t->fail)) {
                fail_msg("%s: step %zu should fail with '%s', got:\n%s", t->what, k, t->fail,
                         f ? f : "(passed)");
            }
        }
        teardown(NULL);
    }
}

/* ---- TCP: what a table cannot say --------------------------------------- */

static void bytes_arriving_in_pieces(void **st)
{
    struct later l = { .ms = 50, .data = "llo" };
    (void)st;
    start(IPPROTO_TCP, "expect a \"hello\"\n");
    peer_write("he", 2);
    later(&l);
    step_passes(1);
    pthread_join(l.th, NULL);
}

static void pattern_one_byte_wrong(void **st)
{
    enum { N = 100000, AT = 70000 };
    static uint8_t buf[N];
    (void)st;
    for (size_t i = 0; i < N; i++)
        buf[i] = nr_pattern_byte(i);
    buf[AT] ^= 1;
    start(IPPROTO_TCP, "expect a pattern 100000\n");
    peer_write(buf, N);
    step_fails_with(1, "bytes differ: expected 100000 bytes, 70000 matched");
}

static void pattern_whole(void **st)
{
    enum { N = 100000 };
    static uint8_t buf[N];
    (void)st;
    for (size_t i = 0; i < N; i++)
        buf[i] = nr_pattern_byte(i);
    start(IPPROTO_TCP, "expect a pattern 100000\n");
    peer_write(buf, N);
    step_passes(1);
}

static void nothing_but_late_data(void **st)
{
    struct later l = { .ms = 100, .data = "late" };
    (void)st;
    start(IPPROTO_TCP, "expect a nothing within 250ms\n");
    later(&l);
    step_fails_with(1, "expected nothing, got data");
    pthread_join(l.th, NULL);
}

/* regexec reads the receive buffer up to a NUL, REG_STARTEND or not, when
 * ASan intercepts it: the buffer keeps one after its bytes.  A drain that
 * stops at its 1 MiB read limit with the buffer just full (256 KiB, then
 * 256 KiB more, then 512 KiB into a 1 MiB buffer) left none, and a regex
 * over it read past the buffer's end. */
static void rx_buffer_keeps_a_nul_after_its_bytes(void **st)
{
    enum { N = 1536 * 1024 };
    static uint8_t buf[N];
    int big = 8 << 20, queued = 0;
    struct exec_conn *k;
    size_t off = 0;
    (void)st;
    memset(buf, 'a', N);
    start(IPPROTO_TCP, "expect a /b/\n");
    k = exec_find_conn(&F.c, "a");
    assert_non_null(k);
    /* room for all of it in the queue (FORCE: past rmem_max, as root) */
    if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
        assert_int_equal(setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
    if (setsockopt(F.peer, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        assert_int_equal(setsockopt(F.peer, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
    for (int64_t until = nr_now_ms() + 5000; off < N && nr_now_ms() < until;) {
        ssize_t n = send(F.peer, buf + off, N - off, MSG_DONTWAIT);
        if (n > 0)
            off += (size_t)n;
        else
            usleep(1000);
    }
    assert_int_equal(off, N);
    for (int64_t until = nr_now_ms() + 5000; queued < N && nr_now_ms() < until;) {
        assert_int_equal(ioctl(k->fd, SIOCINQ, &queued), 0);
        if (queued < N)
            usleep(1000);
    }
    assert_int_equal(queued, N);
    while (k->rxlen - k->rxoff < N) {
        assert_true(exec_rx_drain(k) > 0);
        assert_true(k->rxlen < k->rxcap);
        assert_int_equal(k->rx[k->rxlen], 0);
    }
    assert_int_equal(k->rxlen - k->rxoff, N);
    /* regexec runs over the whole buffer (an ASan build saw it read past the
     * end), then gives up: more than the regex window */
    peer_write("b", 1);
    step_fails_with(1, "no match for /b/ (over 1 MiB without a match)");
}


/* The message of a stream's mismatch: the counts in decimal, and around
 * the first difference the expected bytes (4 x 48 past the matched ones,
 * rows from a 16-aligned offset 48 before them) beside the received. */
static void bytes_mismatch_message(void **st)
{
    enum { N = 100, AT = 60 };
    uint8_t buf[N];
    (void)st;
    for (size_t i = 0; i < N; i++)
        buf[i] = nr_pattern_byte(i);
    buf[AT] ^= 1;
    start(IPPROTO_TCP, "expect a pattern 1000\n");
    peer_write(buf, N);
    peer_fin();
    step_fails_with(1, "  bytes differ: expected 1000 bytes, 60 matched, 40 more received\n"
                       "  first difference at offset 60 (0x3c)\n");
    /* 60 + 192 expected bytes from offset 0, rows 16-95 shown */
    if (!strstr(F.fail, "\n  00000010  ") || !strstr(F.fail, "\n> 00000030  ") ||
        !strstr(F.fail, "\n  ... 156 more bytes\n") || strstr(F.fail, "\n  00000000  "))
        fail_msg("the rows around offset 60 are not shown:\n%s", F.fail);
    {
        /* the expected column holds the payload's bytes 48-63 */
        char row[80];
        int o = snprintf(row, sizeof(row), "\n> 00000030  ");
        for (int i = 0; i < 16; i++)
            o += snprintf(row + o, sizeof(row) - (size_t)o, "%02x%c", nr_pattern_byte(48 + i),
                          i == 7 ? '-' : ' ');
        if (!strstr(F.fail, row))
            fail_msg("no '%s' in:\n%s", row + 1, F.fail);
    }
    teardown(NULL);
    buf[AT] ^= 1;
    buf[71] ^= 1; /* 71 matched: rows from offset 16 (71 - 48, 16-aligned) */
    start(IPPROTO_TCP, "expect a pattern 1000\n");
    peer_write(buf, N);
    peer_fin();
    step_fails_with(1, "  bytes differ: expected 1000 bytes, 71 matched, 29 more received\n"
                       "  first difference at offset 71 (0x47)\n");
    if (!strstr(F.fail, "\n  00000020  ") || !strstr(F.fail, "\n> 00000040  ") ||
        !strstr(F.fail, "\n  ... 151 more bytes\n"))
        fail_msg("the rows around offset 71 are not shown:\n%s", F.fail);
    teardown(NULL);
    /* fewer expected bytes than the window: all of them (230) */
    buf[71] ^= 1;
    buf[AT] ^= 1;
    start(IPPROTO_TCP, "expect a pattern 230\n");
    peer_write(buf, N);
    peer_fin();
    step_fails_with(1, "  bytes differ: expected 230 bytes, 60 matched, 40 more received\n");
    if (!strstr(F.fail, "\n  ... 134 more bytes\n"))
        fail_msg("not the 230 expected bytes:\n%s", F.fail);
    teardown(NULL);
    /* more received than the window: 192 bytes past the matched ones */
    start(IPPROTO_TCP, "expect a pattern 100\n");
    peer_write(buf, N);
    peer_write(buf, N);
    peer_write(buf, N);
    peer_write(buf, N);
    peer_fin();
    step_fails_with(1, "  bytes differ: expected 100 bytes, 60 matched, 340 more received\n");
    if (!strstr(F.fail, "\n  ... 156 more bytes\n"))
        fail_msg("not 252 received bytes shown:\n%s", F.fail);
    teardown(NULL);
    /* fewer received than the window: all of them (230) */
    start(IPPROTO_TCP, "expect a pattern 100\n");
    peer_write(buf, N);
    peer_write(buf, N);
    peer_write(buf, 30);
    peer_fin();
    step_fails_with(1, "  bytes differ: expected 100 bytes, 60 matched, 170 more received\n");
    if (!strstr(F.fail, "\n  ... 134 more bytes\n"))
        fail_msg("not the 230 received bytes:\n%s", F.fail);
}

/* After the scenario's deadline a bytes claim is not matched against input
 * already read, complete or not (exec_match.h: deadline_cut); one that
 * needs no byte still holds.  Others (length) take it. */
static void deadline_cuts_bytes_left_in_the_buffer(void **st)
{
    (void)st;
    start(IPPROTO_TCP, "expect a \"hello\"\nexpect a \" world\"\nexpect a \"\"\n"
                       "expect a length 6\n");
    peer_write("hello world", 11);
    usleep(20000);
    step_passes(1); /* reads all 11 bytes */
    F.st.deadline = nr_now_ms() - 1;
    step_passes(3);
    step_fails_with(2, "  scenario deadline exceeded: expected 6 bytes, 0 matched, 6 more received\n");
    step_passes(4);
}


/* ---- budgets: the stall timeout, `within`, the step's time ------------- */

/* The peer writes one byte every `every` ms, `n` times. */
struct trickle {
    int every, n;
    const char *data;
    pthread_t th;
};

static void *trickle_main(void *arg)
{
    struct trickle *t = arg;

    for (int i = 0; i < t->n; i++) {
        usleep((useconds_t)t->every * 1000);
        if (write(F.peer, t->data + i, 1) != 1)
            return NULL;
    }
    return NULL;
}

/* Run step 1 with the peer trickling; returns its duration in ms. */
static int64_t trickled(const char *steps, struct trickle *t, const char *fail)
{
    int64_t t0;

    start(IPPROTO_TCP, steps);
    assert_int_equal(pthread_create(&t->th, NULL, trickle_main, t), 0);
    t0 = nr_now_ms();
    if (fail)
        step_fails_with(1, fail);
    else
        step_passes(1);
    t0 = nr_now_ms() - t0;
    pthread_join(t->th, NULL);
    return t0;
}

/* Without `within` a stream match may take longer than the step timeout
 * (300 ms) while bytes keep coming; with it, the whole step is bounded. */
static void stall_timeout_counts_from_progress(void **st)
{
    struct trickle t = { .every = 100, .n = 6, .data = "hello!" };
    int64_t ms;
    (void)st;
    ms = trickled("expect a \"hello!\"\n", &t, NULL);
    assert_true(ms >= 450);
    teardown(NULL);
    ms = trickled("expect a \"hello!\" within 350ms\n", &t,
                  "  timeout: expected 6 bytes, 3 matched, 0 more received\n");
    assert_true(ms >= 330 && ms < 2000);
}

/* reset and eof wait the step's time from its start: data that keeps
 * coming does not extend it. */
static void reset_waits_from_the_start(void **st)
{
    struct trickle t = { .every = 100, .n = 8, .data = "abcdefgh" };
    int64_t ms;
    (void)st;
    ms = trickled("expect a reset\n", &t, "  expected a reset, got timeout\n");
    assert_true(ms >= 280 && ms < 1000); /* from the last byte: 1100 ms */
}

/* eof and reset wait the step's time from its start, but stop at the
 * scenario's deadline (unlike nothing, below). */
static void eof_and_reset_stop_at_the_deadline(void **st)
{
    static const char *const steps[] = { "expect a eof within 3s\n",
                                         "expect a reset within 3s\n" };
    (void)st;
    for (size_t k = 0; k < 2; k++) {
        int64_t t0;
        start(IPPROTO_TCP, steps[k]);
        F.st.deadline = nr_now_ms() + 100;
        t0 = nr_now_ms();
        step_fails_with(1, "");
        t0 = nr_now_ms() - t0;
        if (t0 < 90 || t0 > 2000)
            fail_msg("%s with the deadline 100 ms away: failed after %lld ms", steps[k],
                     (long long)t0);
        teardown(NULL);
    }
}

/* nothing waits its whole time: the step timeout, or `within`; even past
 * the scenario's deadline (the others stop there). */
static void nothing_waits_its_whole_time(void **st)
{
    int64_t t0;
    (void)st;
    start(IPPROTO_TCP, "expect a nothing\nexpect a nothing within 100ms\nexpect a \"x\"\n");
    t0 = nr_now_ms();
    step_passes(1);
    assert_true(nr_now_ms() - t0 >= 290);
    F.st.deadline = nr_now_ms() - 1;
    F.st.step_timeout = 3000; /* `within` is what counts, not this */
    t0 = nr_now_ms();
    step_passes(2);
    t0 = nr_now_ms() - t0;
    assert_true(t0 >= 95 && t0 < 2000);
    t0 = nr_now_ms();
    step_fails_with(3, "  timeout: expected 1 bytes, 0 matched, 0 more received\n");
    assert_true(nr_now_ms() - t0 < 80);
    teardown(NULL);
    start(IPPROTO_UDP, "expect a nothing\nexpect a nothing within 100ms\n");
    F.st.deadline = nr_now_ms() - 1;
    t0 = nr_now_ms();
    step_passes(1);
    assert_true(nr_now_ms() - t0 >= 290);
    F.st.step_timeout = 3000;
    t0 = nr_now_ms();
    step_passes(2);
    t0 = nr_now_ms() - t0;
    assert_true(t0 >= 95 && t0 < 2000);
}


/* ---- the messages' parts -------------------------------------------------- */

/* A failure shows the unconsumed input (at most 256 bytes, from offset 0)
 * and how the stream ended. */
static void unconsumed_input_and_its_end(void **st)
{
    static const struct {
        const char *steps;
        enum peer_end end;
        const char *shown, *why;
    } cases[] = {
        { "expect a /z/\n", FIN, "  received (300 bytes unconsumed, then EOF):\n",
          "\n  no match for /z/ (EOF)\n" },
        { "expect a until \"z\"\n", RST, "  received (300 bytes unconsumed, then reset):\n",
          "\n  delimiter not seen (connection reset by peer)\n" },
        { "expect a /z/\n", OPEN, "  received (300 bytes unconsumed, still open):\n",
          "\n  no match for /z/ (timeout)\n" },
        { "expect a nothing within 50ms\n", OPEN,
          "  received (300 bytes unconsumed, still open):\n", "\n  expected nothing, got data\n" },
        { "expect a eof\n", FIN, "  received (300 bytes unconsumed, then EOF):\n",
          "\n  expected EOF, got more data\n" },
    };
    char buf[300];
    (void)st;
    memset(buf, 'x', sizeof(buf));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        start(IPPROTO_TCP, cases[i].steps);
        peer_write(buf, sizeof(buf));
        if (cases[i].end == FIN)
            peer_fin();
        usleep(20000);
        if (cases[i].end == RST)
            peer_rst();
        usleep(20000);
        step_fails_with(1, cases[i].shown);
        if (!strstr(F.fail, cases[i].why))
            fail_msg("case %zu: no '%s' in:\n%s", i, cases[i].why, F.fail);
        if (!strstr(F.fail, "\n> 00000000  ") || !strstr(F.fail, "|  78 78 78 78 78 78 78 78-") ||
            !strstr(F.fail, "\n  ... 208 more bytes\n"))
            fail_msg("case %zu: not the first 256 bytes from offset 0:\n%s", i, F.fail);
        teardown(NULL);
    }
}

/* exec_match_init returns -1 after exec_fail: a regex that does not
 * compile (from a variable: a literal one is refused when parsed), a kind
 * the table does not know. */
static void match_init_failures(void **st)
{
    const struct nr_step *s;
    struct exec_match m;
    struct nr_match odd;
    (void)st;
    start(IPPROTO_TCP, "set r = x\nexpect a /${r}/\n");
    assert_int_equal(exec_setvar(&F.st, "r", "a(", 2), 0);
    s = &F.scn.steps.v[2];
    assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), -1);
    if (!F.c.fail || !strstr(F.c.fail, "\n  bad regex /a(/: Unmatched ( or \\(\n"))
        fail_msg("got: %s", F.c.fail ? F.c.fail : "(none)");
    {
        /* a failed init keeps nothing: 200 of them leave the heap as it was */
        size_t before = mallinfo2().uordblks;
        for (int i = 0; i < 200; i++) {
            free(F.c.fail);
            F.c.fail = NULL;
            assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), -1);
        }
        free(F.c.fail);
        F.c.fail = NULL;
        if (mallinfo2().uordblks > before + 512)
            fail_msg("200 failed inits left %zu bytes", mallinfo2().uordblks - before);
    }
    free(F.c.fail);
    F.c.fail = NULL;
    memset(&m, 0, sizeof(m)); /* the row's init alone: -1 too */
    m.want = &s->u.expect;
    m.row = exec_matcher(NR_M_REGEX);
    assert_int_equal(m.row->init(&F.c, s, &m), -1);
    assert_non_null(F.c.fail);
    exec_match_free(&m);
    free(F.c.fail);
    F.c.fail = NULL;
    odd = s->u.expect;
    odd.kind = (enum nr_match_kind)99;
    assert_int_equal(exec_match_init(&F.c, s, &odd, &m), -1);
    if (!F.c.fail || !strstr(F.c.fail, "  unknown match kind 99\n"))
        fail_msg("got: %s", F.c.fail ? F.c.fail : "(none)");
}

/* exec_match_free leaves nothing to free: a second call does nothing. */
static void match_free_twice(void **st)
{
    const struct nr_step *s;
    struct exec_match m;
    (void)st;
    start(IPPROTO_TCP, "expect a /he+llo/\nexpect a \"hello\"\nexpect a until \"x\"\n");
    for (size_t i = 1; i <= 3; i++) {
        s = &F.scn.steps.v[i];
        assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
        exec_match_free(&m);
        assert_int_equal(m.have_gen, 0);
        assert_int_equal(m.have_re, 0);
        assert_null(m.text);
        exec_match_free(&m);
    }
}

/* Every matcher that reads a stream waits on progress, not from the start
 * (the bytes one: stall_timeout_counts_from_progress). */
static void stall_timeout_for_each_reading_matcher(void **st)
{
    static const char *const steps[] = { "expect a /xxxxy/\n", "expect a length 5\n",
                                         "expect a until \"y\"\n" };
    (void)st;
    for (size_t i = 0; i < 3; i++) {
        struct trickle t = { .every = 100, .n = 5, .data = "xxxxy" };
        assert_true(trickled(steps[i], &t, NULL) >= 380);
        teardown(NULL);
    }
}


/* A row's init returns -1 after exec_fail (exec_match.h), as
 * exec_match_init does: a payload file that cannot be read. */
static void row_init_failures(void **st)
{
    const struct nr_step *s;
    struct exec_match m;
    (void)st;
    start(IPPROTO_TCP, "expect a file \"/nonexistent/payload\"\n");
    s = &F.scn.steps.v[1];
    memset(&m, 0, sizeof(m));
    m.want = &s->u.expect;
    m.row = exec_matcher(NR_M_BYTES);
    assert_int_equal(m.row->init(&F.c, s, &m), -1);
    assert_non_null(F.c.fail);
    /* and 0 when it works */
    teardown(NULL);
    start(IPPROTO_TCP, "expect a \"x\"\nexpect a /x/\nexpect a until \"x\"\n");
    for (size_t i = 1; i <= 3; i++) {
        s = &F.scn.steps.v[i];
        memset(&m, 0, sizeof(m));
        m.want = &s->u.expect;
        m.row = exec_matcher(s->u.expect.kind);
        assert_int_equal(m.row->init(&F.c, s, &m), 0);
        exec_match_free(&m);
    }
    teardown(NULL);
    start(IPPROTO_TCP, "expect a file \"/nonexistent/payload\"\n");
    s = &F.scn.steps.v[1];
    free(F.c.fail);
    F.c.fail = NULL;
    assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), -1);
    assert_non_null(strstr(F.c.fail, "/nonexistent/payload"));
}

/* An expect on a connection that is not open (the parser refuses most;
 * here its name is changed after parsing): -1, named. */
static void expect_on_a_closed_connection(void **st)
{
    (void)st;
    start(IPPROTO_TCP, "expect a \"x\"\n");
    snprintf(F.scn.steps.v[1].name, sizeof(F.scn.steps.v[1].name), "zz");
    step_fails_with(1, "  no open connection named 'zz'\n");
}


/* A lookahead that matched bytes for another step than the one that reads
 * them is the runner's own error: said, and -1. */
static void lookahead_for_another_step(void **st)
{
    struct exec_conn *k;
    (void)st;
    start(IPPROTO_TCP, "expect a \"x\"\nexpect a \"y\"\n");
    k = exec_find_conn(&F.c, "a");
    k->ahead = &F.scn.steps.v[2];
    k->ahead_m = calloc(1, sizeof(*k->ahead_m));
    assert_non_null(k->ahead_m);
    k->ahead_m->done = 5;
    peer_write("x", 1); /* what step 1 wants is there: it must not be matched */
    step_fails_with(1, "  internal error: 5 bytes of 'a' were matched for line 4, not this step\n");
    free(k->ahead_m);
    k->ahead_m = NULL;
    k->ahead = NULL;
}

/* An expect on a TCP listener (the parser refuses it; here the name is
 * changed after parsing) names the fix. */
static void expect_on_a_listener(void **st)
{
    (void)st;
    start(IPPROTO_TCP, "listen b = tcp 127.0.0.1:0\nexpect a \"x\"\n");
    assert_int_equal(run_step(1), 0);
    snprintf(F.scn.steps.v[2].name, sizeof(F.scn.steps.v[2].name), "b");
    step_fails_with(2, "  'b' is a listener: accept a connection first\n");
}

/* `nothing within 0ms` looks once and holds at once (not the step timeout). */
static void nothing_within_zero(void **st)
{
    int64_t t0;
    (void)st;
    start(IPPROTO_TCP, "expect a nothing within 0ms\n");
    F.st.step_timeout = 3000; /* what a wrong reading of `within 0ms` would wait */
    t0 = nr_now_ms();
    step_passes(1);
    assert_true(nr_now_ms() - t0 < 2000);
    teardown(NULL);
    start(IPPROTO_UDP, "expect a nothing within 0ms\n");
    F.st.step_timeout = 3000;
    t0 = nr_now_ms();
    step_passes(1);
    assert_true(nr_now_ms() - t0 < 2000);
}

/* ---- lookahead: the echo of a send matched while sending ------------------ */

/* The peer echoes everything, with one byte flipped at flip (or none). */
struct echo {
    long flip;
    pthread_t th;
};

static void *echo_main(void *arg)
{
    struct echo *e = arg;
    static uint8_t buf[65536];
    long at = 0;
    ssize_t n;

    while ((n = read(F.peer, buf, sizeof(buf))) > 0) {
        if (e->flip >= at && e->flip < at + n)
            buf[e->flip - at] ^= 0x55;
        at += n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(F.peer, buf + off, (size_t)(n - off));
            if (w <= 0)
                return NULL;
            off += w;
        }
    }
    shutdown(F.peer, SHUT_WR);
    return NULL;
}

/* Run steps (four, all passing) against an echoing peer; returns the
 * step log. */
static const char *echo_run(const char *steps)
{
    struct echo e = { .flip = -1 };

    start(IPPROTO_TCP, steps);
    assert_int_equal(pthread_create(&e.th, NULL, echo_main, &e), 0);
    for (size_t i = 1; i <= 4; i++)
        step_passes(i);
    pthread_join(e.th, NULL);
    fflush(F.st.log);
    return F.log;
}

static void lookahead_matches_the_echo_while_sending(void **st)
{
    const char *log, *p;
    (void)st;
    log = echo_run("send a pattern 16777216\nshutdown a write\nexpect a pattern 16777216\n"
                   "expect a eof\n");
    if (!strstr(log, "of 'a' matched ahead, while sending"))
        fail_msg("the echo was not matched ahead:\n%s", log);
    /* the step's line after the time stamp (indented in an instance) */
    p = strstr(log, " 5: ");
    if (!p || !isdigit((unsigned char)p[-1]) || !strstr(p, " bytes of 'a' matched ahead"))
        fail_msg("no '5: N bytes of 'a' matched ahead' line:\n%s", log);
}

static void lookahead_stops_at_a_differing_byte(void **st)
{
    struct echo e = { .flip = 12345678 };
    (void)st;
    start(IPPROTO_TCP, "send a pattern 16777216\nshutdown a write\nexpect a pattern 16777216\n");
    F.c.index = 0; /* as in a repeat: its log lines are indented */
    assert_int_equal(pthread_create(&e.th, NULL, echo_main, &e), 0);
    step_passes(1);
    step_passes(2);
    step_fails_with(3, "bytes differ: expected 16777216 bytes, 12345678 matched");
    pthread_join(e.th, NULL);
    fflush(F.st.log);
    {
        /* (a starved sender may have matched nothing ahead: no line then) */
        const char *p = strstr(F.log, "   5: ");
        if (strstr(F.log, "matched ahead") &&
            (!p || !isdigit((unsigned char)p[-1]) || !isdigit((unsigned char)p[6]) ||
             !strstr(p, " bytes of 'a' matched ahead, while sending\n")))
            fail_msg("the lookahead line is not indented:\n%s", F.log);
    }
}

/* Only an expect of bytes is matched ahead; another kind waits its turn. */
static void lookahead_only_for_bytes(void **st)
{
    const char *log;
    (void)st;
    log = echo_run("send a pattern 4194304\nshutdown a write\nexpect a length 4194304\n"
                   "expect a eof\n");
    if (strstr(log, "matched ahead"))
        fail_msg("a length expect was matched ahead:\n%s", log);
}

/* ---- UDP ------------------------------------------------------------------ */

/* Send a datagram from the test's socket (or a fresh one: other_port) to
 * the scenario's connection "a". */
static void datagram(const char *data, int other_port)
{
    struct exec_conn *k = exec_find_conn(&F.c, "a");
    int fd = F.lfd;

    assert_non_null(k);
    if (other_port)
        assert_true((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
    assert_int_equal(sendto(fd, data, strlen(data), 0, (const struct sockaddr *)&k->rec.local.ss,
                            k->rec.local.len),
                     (ssize_t)strlen(data));
    if (other_port)
        close(fd);
}

static void udp_bytes_exact(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a \"hi\"\n");
    datagram("hi", 0);
    step_passes(1);
}

static void udp_bytes_longer_datagram(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a \"hi\"\n");
    datagram("hi!", 0);
    step_fails_with(1, "datagram differs: expected 2 bytes, got 3");
}

/* The datagram beside the expected bytes, from the first one. */
static void udp_bytes_differ_shows_both(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a \"hello\"\n");
    datagram("help!", 0);
    step_fails_with(1, "  datagram differs: expected 5 bytes, got 5 (from 127.0.0.1:");
    if (!strstr(F.fail, "  first difference at offset 3 (0x3)\n") ||
        !strstr(F.fail, "> 00000000  68 65 6c 6c 6f ") || !strstr(F.fail, "|hello           |") ||
        !strstr(F.fail, "|help!           |"))
        fail_msg("the expected bytes are not shown from offset 0:\n%s", F.fail);
}

static void udp_bytes_prefix_datagram(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a \"hi!\"\n");
    datagram("hi", 0);
    step_fails_with(1, "datagram differs: expected 3 bytes, got 2");
}

static void udp_length(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a length 3\nexpect a length 3\nexpect a length 3\n");
    datagram("abc", 0);
    step_passes(1);
    datagram("abcd", 0);
    step_fails_with(2, "datagram of 4 bytes, expected 3");
    datagram("ab", 0);
    step_fails_with(3, "datagram of 2 bytes, expected 3");
}

static void udp_regex(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a /^Hello, .*!$/\nexpect a /^Hello, .*!$/\n");
    datagram("Hello, you!", 0);
    step_passes(1);
    datagram("Hello, you", 0);
    step_fails_with(2, "/^Hello, .*!$/");
}

static void udp_regex_empty_datagram(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a /^$/\nexpect a /^$/\n");
    datagram("", 0);
    step_passes(1);
    datagram("x", 0);
    step_fails_with(2, "datagram of 1 bytes does not match /^$/");
}

/* A stream's ends and delimiters mean nothing to datagrams. */
static void udp_stream_claims(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a until \"x\"\nexpect a eof\nexpect a reset\n");
    for (size_t i = 1; i <= 3; i++) {
        datagram("x", 0);
        step_fails_with(i, "eof/reset/until do not apply to UDP");
    }
}

/* What a received datagram leaves for the wire check: its size counted
 * and noted, failing or not; a listener's peer is its sender. */
static void udp_received_is_recorded(void **st)
{
    struct exec_conn *k;
    (void)st;
    start(IPPROTO_UDP, "expect a \"hi!\"\nexpect a length 2\n");
    k = exec_find_conn(&F.c, "a");
    datagram("hi!", 0);
    step_passes(1);
    datagram("abcd", 0);
    step_fails_with(2, "datagram of 4 bytes, expected 2");
    assert_int_equal(k->rec.received, 7);
    assert_int_equal(k->rec.n_dg_recv, 2);
    assert_int_equal(k->rec.dg_recv[0], 3);
    assert_int_equal(k->rec.dg_recv[1], 4);
    assert_int_equal(k->rec.have_peer, 1); /* connected: its peer from the start */
    teardown(NULL);
    start(-1, "expect a \"hi\"\n");
    k = exec_find_conn(&F.c, "a");
    assert_int_equal(k->rec.have_peer, 0);
    datagram("hi", 0);
    step_passes(1);
    assert_int_equal(k->rec.have_peer, 1);
    assert_int_equal(nr_addr_port((const struct sockaddr *)&k->rec.peer.ss), F.port);
}

/* A datagram to a port nobody has: the ICMP error is the reason. */
static void udp_refused(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "send a \"x\"\nexpect a \"hi\"\n");
    close(F.lfd);
    F.lfd = -1;
    step_passes(1);
    step_fails_with(2, "  the datagram was refused (ICMP port unreachable)\n");
}

/* A UDP failure shows the datagram, its size and its sender. */
static void udp_failure_shows_the_datagram(void **st)
{
    char want[128];
    (void)st;
    start(IPPROTO_UDP, "expect a /^Hello/\n");
    datagram("Goodbye", 0);
    snprintf(want, sizeof(want), "  datagram of 7 bytes does not match /^Hello/\n"
                                 "  the datagram (7 bytes, from 127.0.0.1:%u):\n", F.port);
    step_fails_with(1, want);
    if (!strstr(F.fail, "\n> 00000000  ") || !strstr(F.fail, "|  47 6f 6f 64 62 79 65   -"))
        fail_msg("the datagram is not shown from offset 0:\n%s", F.fail);
    teardown(NULL);
    /* at most its first 256 bytes */
    {
        char big[301];
        memset(big, 'G', 300);
        big[300] = '\0';
        start(IPPROTO_UDP, "expect a /^Hello/\n");
        datagram(big, 0);
        step_fails_with(1, "  datagram of 300 bytes does not match /^Hello/\n"
                           "  the datagram (300 bytes, from 127.0.0.1:");
        if (!strstr(F.fail, "\n  ... 208 more bytes\n"))
            fail_msg("not the first 256 bytes:\n%s", F.fail);
    }
}

/* A UDP expect of more than 65536 bytes cannot hold; 65536 can. */
static void udp_expected_datagram_too_large(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a pattern 65537\nexpect a pattern 65536\n");
    datagram("x", 0);
    step_fails_with(1, "  expected datagram too large\n");
    datagram("x", 0);
    step_fails_with(2, "  datagram differs: expected 65536 bytes, got 1 (from");
}

/* ---- out of memory ------------------------------------------------------------ */

/* A mismatch whose hexdump cannot be made still fails, saying why. */
static void out_of_memory_in_the_mismatch_report(void **st)
{
    const struct nr_step *s;
    struct exec_match m;
    unsigned long hit;
    (void)st;
    start(IPPROTO_TCP, "expect a \"hello\"\n");
    s = &F.scn.steps.v[1];
    for (int n = 1; n <= 2; n++) { /* the expected bytes, the received ones */
        char spec[16];
        assert_int_equal(exec_match_init(&F.c, s, &s->u.expect, &m), 0);
        m.done = 3;
        snprintf(spec, sizeof(spec), "malloc:%d", n);
        fault_inproc_set(spec);
        m.row->report(&F.c, s, &m, (const uint8_t *)"p!", 2, EXEC_IN_EOF, "EOF");
        hit = fault_inproc_off();
        exec_match_free(&m);
        assert_int_equal(hit, 1);
        if (!F.c.fail || !strstr(F.c.fail, "expect a \"hello\"\n  EOF\n") ||
            strstr(F.c.fail, "matched"))
            fail_msg("%s: got %s", spec, F.c.fail ? F.c.fail : "(none)");
        free(F.c.fail);
        F.c.fail = NULL;
    }
}

/* Each matcher's init that expands its text returns 0, or -1 after
 * exec_fail (exec_match.h), whichever allocation fails (regcomp gets over
 * some of its own), and 0 once none fails.  (Under ASan the expansion's
 * realloc is not the injector's to fail: there only the regex's allocations
 * are.) */
static void out_of_memory_in_a_matcher_init(void **st)
{
    static const char *const steps[] = { "expect a \"hello\"\n", "expect a until \"x\"\n",
                                         "expect a /he+llo/\n" };
    (void)st;
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        int r = -1, n, failed = 0;
        start(IPPROTO_TCP, steps[k]);
        for (n = 1; n < 20 && r != 0; n++) {
            const struct nr_step *s = &F.scn.steps.v[1];
            struct exec_match m;
            char spec[16];
            unsigned long hit;
            memset(&m, 0, sizeof(m));
            m.want = &s->u.expect;
            m.row = exec_matcher(s->u.expect.kind);
            snprintf(spec, sizeof(spec), "malloc:%d", n);
            fault_inproc_set(spec);
            r = m.row->init(&F.c, s, &m);
            hit = fault_inproc_off();
            exec_match_free(&m);
            failed += r == -1;
            if (r != 0 && r != -1)
                fail_msg("%s with %s failing: init returned %d", steps[k], spec, r);
            if ((r == -1) != (F.c.fail != NULL))
                fail_msg("%s with %s failing: returned %d, failure %s", steps[k], spec, r,
                         F.c.fail ? F.c.fail : "(none)");
            if (!hit && r != 0)
                fail_msg("%s: init returned %d with no allocation failed", steps[k], r);
            free(F.c.fail);
            F.c.fail = NULL;
        }
        assert_int_equal(r, 0);
#ifndef __SANITIZE_ADDRESS__
        if (!failed)
            fail_msg("%s: no failed allocation made its init fail", steps[k]);
#endif
        teardown(NULL);
    }
}

/* A UDP expect that cannot allocate its buffer fails with -1. */
static void out_of_memory_receiving_a_datagram(void **st)
{
    int r;
    unsigned long hit;
    (void)st;
    start(IPPROTO_UDP, "expect a \"hi\"\n");
    datagram("hi", 0);
    F.c.seq = &F.scn.steps;
    F.c.seq_at = 1;
    fault_inproc_set("malloc:1");
    r = exec_expect(&F.c, &F.scn.steps.v[1]);
    hit = fault_inproc_off();
    assert_int_equal(hit, 1);
    assert_int_equal(r, -1);
    if (!F.c.fail || !strstr(F.c.fail, "expect a \"hi\"\n  out of memory\n"))
        fail_msg("got %s", F.c.fail ? F.c.fail : "(none)");
    /* nothing was read: the datagram is there for the next expect */
    free(F.c.fail);
    F.c.fail = NULL;
    r = exec_expect(&F.c, &F.scn.steps.v[1]);
    if (r != 0)
        fail_msg("the datagram after the failure: %d, %s", r, F.c.fail ? F.c.fail : "(none)");
}

/* A unix datagram may be larger than the 64 KiB the runner keeps: a
 * length claim judges its whole size (exec_match.h: sizes_only). */
static void unix_datagram_longer_than_the_buffer(void **st)
{
    enum { N = 70000 };
    static char big[N];
    char *text;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, sndbuf = 1 << 20;
    (void)st;
    memset(&F, 0, sizeof(F));
    F.peer = F.lfd = -1;
    assert_true(asprintf(&text, "timeout %dms\nlisten a = unixgram @nr-test-exec-expect-%d\n"
                                "expect a length %d\nexpect a length %d\n",
                         STEP_MS, (int)getpid(), N, N - 1) > 0);
    begin(text);
    free(text);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
    snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "nr-test-exec-expect-%d", (int)getpid());
    for (int i = 0; i < 2; i++)
        assert_int_equal(sendto(fd, big, N, 0, (struct sockaddr *)&sa,
                                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                                            strlen(sa.sun_path + 1))), N);
    close(fd);
    step_passes(1);
    step_fails_with(2, "  datagram of 70000 bytes, expected 69999\n");
}

/* An expect step frees what its match allocated: 300 regex expects leave
 * the heap as it was, within a few hundred bytes. */
static void expect_frees_its_match(void **st)
{
    static char xs[301];
    size_t before;
    (void)st;
    memset(xs, 'x', 300);
    start(IPPROTO_TCP, "expect a /x/\n");
    peer_write(xs, 300);
    step_passes(1); /* warm up: reads all 300 */
    before = mallinfo2().uordblks;
    for (int i = 0; i < 299; i++)
        step_passes(1);
    if (mallinfo2().uordblks > before + 512)
        fail_msg("299 expects left %zu bytes", mallinfo2().uordblks - before);
}

static void udp_none_arrives(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a \"hi\"\n");
    step_fails_with(1, "no datagram within");
}

static void udp_nothing(void **st)
{
    (void)st;
    start(IPPROTO_UDP, "expect a nothing within 100ms\nexpect a nothing within 100ms\n"
                       "expect a nothing within 100ms\n");
    step_passes(1);
    datagram("hi", 0);
    step_fails_with(2, "expected no datagram, got one of 2 bytes");
    datagram("", 0); /* an empty datagram is a datagram */
    step_fails_with(3, "expected no datagram, got one of 0 bytes");
}

static void udp_from_the_wrong_sender(void **st)
{
    (void)st;
    start(-1, "expect a \"hi\" from 127.0.0.1:{port}\nexpect a \"hi\" from 127.0.0.1:{port}\n");
    datagram("hi", 1);
    step_fails_with(1, "the datagram came from 127.0.0.1:");
    datagram("hi", 0);
    step_passes(2);
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int main(int argc, char **argv)
{
    /* fastest and most telling first: make mutate runs it with CMOCKA_TEST_ABORT=1 */
    const struct CMUnitTest tests[] = {
        T(matcher_table), T(matcher_in_pieces), T(match_init_failures), T(match_free_twice),
        T(row_init_failures), T(expect_on_a_closed_connection), T(expect_on_a_listener),
        T(lookahead_for_another_step),
        T(out_of_memory_in_the_mismatch_report), T(out_of_memory_receiving_a_datagram),
        T(udp_bytes_exact), T(udp_bytes_longer_datagram), T(udp_bytes_differ_shows_both),
        T(udp_bytes_prefix_datagram), T(udp_length), T(udp_regex), T(udp_regex_empty_datagram),
        T(udp_stream_claims), T(udp_failure_shows_the_datagram), T(udp_expected_datagram_too_large),
        T(udp_from_the_wrong_sender), T(udp_received_is_recorded), T(udp_refused),
        T(unix_datagram_longer_than_the_buffer), T(expect_frees_its_match),
        T(bytes_mismatch_message), T(unconsumed_input_and_its_end),
        T(deadline_cuts_bytes_left_in_the_buffer), T(nothing_within_zero),
        T(eof_and_reset_stop_at_the_deadline), T(out_of_memory_in_a_matcher_init),
        T(bytes_arriving_in_pieces), T(matcher_regex_window), T(tcp_table), T(pattern_whole),
        T(pattern_one_byte_wrong), T(nothing_but_late_data),
        T(rx_buffer_keeps_a_nul_after_its_bytes), T(lookahead_matches_the_echo_while_sending),
        T(lookahead_stops_at_a_differing_byte), T(lookahead_only_for_bytes), T(udp_none_arrives),
        T(udp_nothing), T(stall_timeout_counts_from_progress), T(reset_waits_from_the_start),
        T(nothing_waits_its_whole_time), T(stall_timeout_for_each_reading_matcher),
    };
    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
