/* Unit tests: nr_scn_print, the canonical printer.  Printing a parsed
 * scenario, parsing the text and printing again must give the same text:
 * for one scenario with every step kind and option, and for every
 * scenario bundled with netrig (suite, examples, must-fail cases). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <malloc.h>
#include <unistd.h>

#include "nr_err.h"
#include "nr_scn.h"
#include "heap_exact.h"

/* s printed (malloc'd text). */
static char *print(const struct nr_scn *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    assert_int_equal(nr_scn_print(f, s), 0);
    fclose(f);
    return text;
}

/* Print s, parse that, print again: the two texts must be equal, and the
 * steps as many.  Returns the first text (malloc'd). */
static char *stable(const struct nr_scn *s, const char *what)
{
    char *one = print(s), *two, err[NR_ERRBUF_SIZE];
    struct nr_scn again;

    if (nr_scn_parse((const uint8_t *)one, strlen(one), "printed.scn", &again, err) < 0)
        fail_msg("%s: its printed form does not parse: %s\n%s", what, err, one);
    two = print(&again);
    if (strcmp(one, two) != 0)
        fail_msg("%s: printed twice, it differs:\n--- first\n%s--- second\n%s", what, one, two);
    assert_int_equal(again.steps.n, s->steps.n);
    nr_scn_free(&again);
    free(two);
    return one;
}

static const char every_kind[] =
    "timeout 300ms\n"
    "deadline 1m\n"
    "param port = 0\n"
    "set greeting = \"a \\\"b\\\"\\t${port}\\$\\x01\\xff\"\n"
    "set raw = x\"00 0d 0a\"\n"
    "target srv nowait ready stderr /listening on (.*)/ cwd /tmp activate tcp 127.0.0.1:0 "
    "env A=1 env \"B=two words\" stop-signal KILL clean 3 clean signal USR1 = prog --x \"y z\"\n"
    "target web ready port 8080 = nginx\n"
    "target w2 ready port = nginx\n"
    "target f ready file \"${tmp}/pid\" = sh -c \"echo > x\"\n"
    "target l ready \"up: \" = prog\n"
    "connect a = tcp ${srv} retry within 2s\n"
    "connect r = udp [::1]:9 refused\n"
    "listen u = udp 127.0.0.1:0\n"
    "listen t = tcp 127.0.0.1:0\n"
    "accept b = t within 1.5s\n"
    "listen x = unix @abstract\n"
    "connect y = unixgram /tmp/sock\n"
    "send a \"hi\" * 3 chunk 2 delay 10ms\n"
    "send a pattern 100\n"
    "send a file \"${dir}/f.bin\"\n"
    "send u x\"ff\" to 127.0.0.1:5\n"
    "expect a \"hi\\n\" within 100ms\n"
    "expect a /a\\/b\\.c${greeting}/\n"
    "expect a until \"\\r\\n\"\n"
    "expect a length 7\n"
    "expect a eof\n"
    "expect a reset\n"
    "expect a nothing within 50ms\n"
    "expect u \"x\" from 127.0.0.1:7\n"
    "expect u pattern 4\n"
    "shutdown a write\n"
    "close b\n"
    "abort a\n"
    "sleep 1.5s\n"
    "exit srv 3\n"
    "exit web signal TERM\n"
    "exit w2 clean within 1s\n"
    "stop f\n"
    "stop l signal 9 expect signal 9 within 2s\n"
    "stdout srv \"ok\"\n"
    "stderr srv /warn/\n"
    "file ${tmp}/out x\"41\"\n"
    "file /etc/x absent\n"
    "file f.txt /re/ within 1s\n"
    "parallel 2\n"
    "  connect c = tcp ${t}\n"
    "  repeat 3\n"
    "    send c \"${i}\"\n"
    "  end\n"
    "end\n"
    "flow fl = tcp to 8080 from 127.0.0.1:5000 index 1\n"
    "flows udp to ${web.port} count 2\n"
    "wire fl state SF\n"
    "wire fl bytes server 5\n"
    "wire fl first-fin client\n"
    "connect z = tcp 127.0.0.1:9\n"
    "wire z datagrams ${port}\n"
    "wire z rst us\n"
    "wire z first-fin peer\n"
    "wire z no-rst\n"
    "wire z handshake\n"
    "wire z no-retransmissions\n"
    "proxy p = tcp ${web}\n"
    "proxy q = udp 127.0.0.1:53\n"
    "fault p up latency 10ms jitter 2ms\n"
    "fault p bandwidth 1000\n"
    "fault p down slicer 3 var 1 delay 1ms\n"
    "fault p limit_data 100\n"
    "fault p reset_peer after 10\n"
    "fault p reset_peer after 1s\n"
    "fault p reset_peer\n"
    "fault p timeout 1s\n"
    "fault p slow_close 2s\n"
    "fault p half_close\n"
    "fault p stall\n"
    "fault q drop 12.5%\n"
    "fault q duplicate 1%\n"
    "fault q reorder 30% gap 2\n"
    "fault q corrupt 0.01%\n"
    "fault q delay 5ms\n"
    "fault q truncate 10\n"
    "heal p up latency\n"
    "heal p\n"
    "ledger p up bytes_in 10..20\n"
    "ledger p cut 3 within 1s\n"
    "ledger q dropped = down datagrams_in\n";

static void every_step_kind_and_option(void **state)
{
    char err[NR_ERRBUF_SIZE], *text;
    struct nr_scn s;

    (void)state;
    if (nr_scn_parse((const uint8_t *)every_kind, strlen(every_kind), "t.scn", &s, err) < 0)
        fail_msg("%s", err);
    text = stable(&s, "every_kind");
    /* the canonical forms: ms, numbered signals, strings, defaults spelled out */
    assert_non_null(strstr(text, "timeout 300ms\ndeadline 60000ms\n"));
    assert_non_null(strstr(text, "stop-signal 9 clean 3 clean signal 10 ="));
    assert_non_null(strstr(text, "stop f expect clean\n"));
    assert_non_null(strstr(text, "sleep 1500ms\n"));
    assert_non_null(strstr(text, "set greeting = \"a \\\"b\\\"\\t${port}\\$\\x01\\xff\"\n"));
    assert_non_null(strstr(text, "expect a /a\\/b\\.c${greeting}/\n"));
    assert_non_null(strstr(text, "wire fl bytes server \"5\"\n"));
    assert_non_null(strstr(text, "fault q both drop 12.50%\n"));
    assert_non_null(strstr(text, "ledger p both cut 3..3 within 1000ms\n"));
    assert_non_null(strstr(text, "  end\nend\n"));
    free(text);
    nr_scn_free(&s);
}

/* every_kind's canonical text, whole: each field of each step as the
 * printer writes it (defaults spelled out, durations in ms, signals as
 * numbers). */
static const char every_kind_printed[] =
    "timeout 300ms\n"
    "deadline 60000ms\n"
    "param port = \"0\"\n"
    "set greeting = \"a \\\"b\\\"\\t${port}\\$\\x01\\xff\"\n"
    "set raw = \"\\x00\\r\\n\"\n"
    "target srv nowait ready stderr /listening on (.*)/ cwd \"/tmp\" activate tcp \"127.0.0.1:0\" env \"A=1\" env \"B=two words\" stop-signal 9 clean 3 clean signal 10 = \"prog\" \"--x\" \"y z\"\n"
    "target web ready port 8080 = \"nginx\"\n"
    "target w2 ready port  = \"nginx\"\n"
    "target f ready file \"${tmp}/pid\" = \"sh\" \"-c\" \"echo > x\"\n"
    "target l ready stdout \"up: \" = \"prog\"\n"
    "connect a = tcp \"${srv}\" retry within 2000ms\n"
    "connect r = udp \"[::1]:9\" refused\n"
    "listen u = udp \"127.0.0.1:0\"\n"
    "listen t = tcp \"127.0.0.1:0\"\n"
    "accept b = t within 1500ms\n"
    "listen x = unix \"@abstract\"\n"
    "connect y = unixgram \"/tmp/sock\"\n"
    "send a \"hi\" * 3 chunk 2 delay 10ms\n"
    "send a pattern 100\n"
    "send a file \"${dir}/f.bin\"\n"
    "send u \"\\xff\" to \"127.0.0.1:5\"\n"
    "expect a \"hi\\n\" within 100ms\n"
    "expect a /a\\/b\\.c${greeting}/\n"
    "expect a until \"\\r\\n\"\n"
    "expect a length 7\n"
    "expect a eof\n"
    "expect a reset\n"
    "expect a nothing within 50ms\n"
    "expect u \"x\" from \"127.0.0.1:7\"\n"
    "expect u pattern 4\n"
    "shutdown a write\n"
    "close b\n"
    "abort a\n"
    "sleep 1500ms\n"
    "exit srv 3\n"
    "exit web signal 15\n"
    "exit w2 clean within 1000ms\n"
    "stop f expect clean\n"
    "stop l signal 9 expect signal 9 within 2000ms\n"
    "stdout srv \"ok\"\n"
    "stderr srv /warn/\n"
    "file \"${tmp}/out\" \"A\"\n"
    "file \"/etc/x\" absent\n"
    "file \"f.txt\" /re/ within 1000ms\n"
    "parallel 2\n"
    "  connect c = tcp \"${t}\"\n"
    "  repeat 3\n"
    "    send c \"${i}\"\n"
    "  end\n"
    "end\n"
    "flow fl = tcp to \"8080\" from \"127.0.0.1:5000\" index 1\n"
    "flows udp to \"${web.port}\" count 2\n"
    "wire fl state \"SF\"\n"
    "wire fl bytes server \"5\"\n"
    "wire fl first-fin client\n"
    "connect z = tcp \"127.0.0.1:9\"\n"
    "wire z datagrams \"${port}\"\n"
    "wire z rst us\n"
    "wire z first-fin peer\n"
    "wire z no-rst\n"
    "wire z handshake\n"
    "wire z no-retransmissions\n"
    "proxy p = tcp \"${web}\"\n"
    "proxy q = udp \"127.0.0.1:53\"\n"
    "fault p up latency 10ms jitter 2ms\n"
    "fault p both bandwidth 1000\n"
    "fault p down slicer 3 var 1 delay 1ms\n"
    "fault p both limit_data 100\n"
    "fault p both reset_peer after 10\n"
    "fault p both reset_peer after 1000ms\n"
    "fault p both reset_peer\n"
    "fault p both timeout 1000ms\n"
    "fault p both slow_close 2000ms\n"
    "fault p both half_close\n"
    "fault p both stall\n"
    "fault q both drop 12.50%\n"
    "fault q both duplicate 1.00%\n"
    "fault q both reorder 30.00% gap 2\n"
    "fault q both corrupt 0.01%\n"
    "fault q both delay 5ms\n"
    "fault q both truncate 10\n"
    "heal p up latency\n"
    "heal p both\n"
    "ledger p up bytes_in 10..20\n"
    "ledger p both cut 3..3 within 1000ms\n"
    "ledger q both dropped = down datagrams_in\n";

/* Zero and default values: a 0 ms timeout, index 0, 0% drop, an empty
 * payload are printed (and parse back to the same); a repeat count of 1,
 * no delay and no jitter are the defaults and not printed. */
static const char zeros[] =
    "timeout 0\n"
    "deadline 0\n"
    "target srv ready port 1 = prog\n"
    "connect a = tcp 127.0.0.1:0 within 0\n"
    "listen u = udp 127.0.0.1:0\n"
    "send a \"\" within 0\n"
    "send a \"x\" * 1 chunk 1 delay 0\n"
    "send a pattern 0\n"
    "expect a \"\" within 0ms\n"
    "expect a length 0\n"
    "expect a nothing within 0\n"
    "expect u pattern 0\n"
    "sleep 0\n"
    "exit srv 0\n"
    "exit srv 0 within 0\n"
    "stop srv expect 0 within 0\n"
    "flow fl = tcp to 1 index 0\n"
    "flows udp to 1 count 0\n"
    "wire fl bytes client 0\n"
    "wire fl datagrams 0\n"
    "proxy q = udp 127.0.0.1:53\n"
    "proxy p = tcp 127.0.0.1:54\n"
    "fault q drop 0%\n"
    "fault p up latency 0ms jitter 0ms\n"
    "fault p limit_data 0\n"
    "fault p reset_peer after 0\n"
    "fault q truncate 0\n"
    "ledger q up bytes_in 0..0 within 0\n"
    "ledger q cut 0\n";

static const char zeros_printed[] =
    "timeout 0ms\n"
    "deadline 0ms\n"
    "target srv ready port 1 = \"prog\"\n"
    "connect a = tcp \"127.0.0.1:0\" within 0ms\n"
    "listen u = udp \"127.0.0.1:0\"\n"
    "send a \"\" within 0ms\n"
    "send a \"x\" chunk 1\n"
    "send a pattern 0\n"
    "expect a \"\" within 0ms\n"
    "expect a length 0\n"
    "expect a nothing within 0ms\n"
    "expect u pattern 0\n"
    "sleep 0ms\n"
    "exit srv 0\n"
    "exit srv 0 within 0ms\n"
    "stop srv expect 0 within 0ms\n"
    "flow fl = tcp to \"1\" index 0\n"
    "flows udp to \"1\" count 0\n"
    "wire fl bytes client \"0\"\n"
    "wire fl datagrams \"0\"\n"
    "proxy q = udp \"127.0.0.1:53\"\n"
    "proxy p = tcp \"127.0.0.1:54\"\n"
    "fault q both drop 0.00%\n"
    "fault p up latency 0ms\n"
    "fault p both limit_data 0\n"
    "fault p both reset_peer after 0\n"
    "fault q both truncate 0\n"
    "ledger q up bytes_in 0..0 within 0ms\n"
    "ledger q both cut 0..0\n";

static void canonical_text(const char *scn, const char *want)
{
    char err[NR_ERRBUF_SIZE], *text;
    struct nr_scn s;

    if (nr_scn_parse((const uint8_t *)scn, strlen(scn), "t.scn", &s, err) < 0)
        fail_msg("%s", err);
    text = stable(&s, "canonical");
    assert_string_equal(text, want);
    free(text);
    nr_scn_free(&s);
}

static void whole_canonical_texts(void **state)
{
    (void)state;
    canonical_text(every_kind, every_kind_printed);
    canonical_text(zeros, zeros_printed);
}

/* Parsing every kind of step and freeing the scenario gives back every
 * byte (mallinfo2, glibc's thread cache off: see main): a free left out of
 * nr_scn_free or of an error path shows here, without ASan. */
static void parse_and_free_leave_nothing(void **state)
{
    struct mallinfo2 before, after;
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;
    int rc;

    (void)state;
    rc = nr_scn_parse((const uint8_t *)every_kind, strlen(every_kind), "t.scn", &s, err);
    assert_int_equal(rc, 0);
    nr_scn_free(&s);
    before = mallinfo2();
    rc = nr_scn_parse((const uint8_t *)every_kind, strlen(every_kind), "t.scn", &s, err);
    nr_scn_free(&s);
    after = mallinfo2();
    assert_int_equal(rc, 0);
    assert_int_equal(after.uordblks, before.uordblks);
    /* a parse error after many steps frees what it built */
    before = mallinfo2();
    rc = nr_scn_parse((const uint8_t *)every_kind, strlen(every_kind) - 4, "t.scn", &s, err);
    after = mallinfo2();
    assert_int_equal(rc, -1);
    assert_int_equal(after.uordblks, before.uordblks);
}

/* The comparison can fail: a step changed after parsing prints otherwise. */
static void a_changed_step_prints_otherwise(void **state)
{
    char err[NR_ERRBUF_SIZE], *before, *after;
    struct nr_scn s;

    (void)state;
    assert_int_equal(nr_scn_parse((const uint8_t *)every_kind, strlen(every_kind), "t.scn", &s,
                                  err), 0);
    before = print(&s);
    s.steps.v[s.steps.n - 1].u.ledger.rel_dirs = NR_DIR_UP;
    after = print(&s);
    assert_string_not_equal(before, after);
    free(before);
    free(after);
    nr_scn_free(&s);
}

static size_t nfiles;

static int check_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;
    size_t n = strlen(path);

    (void)st;
    (void)ftw;
    if (type != FTW_F || n < 4 || strcmp(path + n - 4, ".scn") != 0)
        return 0;
    if (nr_scn_load(path, &s, err) < 0)
        return 0; /* a parse-error case: nothing to print */
    free(stable(&s, path));
    nr_scn_free(&s);
    nfiles++;
    return 0;
}

static void every_bundled_scenario(void **state)
{
    static const char *const dirs[] = { "harness/scenarios", "harness/doc/examples",
                                        "harness/tests/must-fail" };
    const char *src = getenv("NR_SRC");
    char path[512];

    (void)state;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s%s", src ? src : "", src ? "/" : "", dirs[i]);
        assert_int_equal(nftw(path, check_file, 16, FTW_PHYS), 0);
    }
    if (nfiles < 100)
        fail_msg("only %zu bundled scenarios found (run from the source tree or set NR_SRC)",
                 nfiles);
}

/* text (len bytes) parsed: 0, or -1 with the message in err. */
static int parse_text(const char *text, size_t len, char *err)
{
    struct nr_scn s;

    err[0] = '\0';
    if (nr_scn_parse((const uint8_t *)text, len, "t.scn", &s, err) < 0)
        return -1;
    nr_scn_free(&s);
    return 0;
}

/* A lexer error right after any token of any step (every_kind's lines cut
 * after each of their tokens, then an unterminated string) fails the
 * parse, with the lexer's message at that place: no step goes on after
 * the token it asked for could not be read. */
static void lexer_error_after_every_token(void **state)
{
    static const char bad[] = " \"x\n";
    char err[NR_ERRBUF_SIZE], want[64];
    const char *line = every_kind;
    size_t tried = 0;
    int r;

    (void)state;
    for (unsigned lineno = 1; *line; lineno++) {
        const char *nl = strchr(line, '\n');
        size_t before = (size_t)(line - every_kind), n = (size_t)(nl - line);
        char *text = malloc(before + n + sizeof(bad));

        assert_non_null(text);
        memcpy(text, every_kind, before + n);
        for (size_t j = 0; j <= n; j++) {
            if (j < n && line[j] != ' ')
                continue;
            /* a cut inside a string or a regex is no token boundary */
            text[before + j] = '\n';
            if (parse_text(text, before + j + 1, err) < 0 && strstr(err, "expected a closing")) {
                text[before + j] = ' ';
                continue;
            }
            memcpy(text + before + j, bad, sizeof(bad) - 1);
            snprintf(want, sizeof(want), "t.scn:%u:%zu: expected a closing '\"'", lineno, j + 2);
            r = parse_text(text, before + j + sizeof(bad) - 1, err);
            if (r != -1 || strncmp(err, want, strlen(want)) != 0)
                fail_msg("line %u cut after '%.*s': %d (%s), want -1 (%s)", lineno, (int)j, line,
                         r, err[0] ? err : "no error", want);
            memcpy(text + before + j, line + j, n - j);
            tried++;
        }
        free(text);
        line = nl + 1;
    }
    assert_true(tried > 300);
}

int main(int argc, char **argv)
{
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact for the leak checks */
    const struct CMUnitTest tests[] = {
        heap_exact_test(every_step_kind_and_option),
        heap_exact_test(a_changed_step_prints_otherwise),
        heap_exact_test(whole_canonical_texts),
        heap_exact_test(parse_and_free_leave_nothing),
        heap_exact_test(every_bundled_scenario),
        heap_exact_test(lexer_error_after_every_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
