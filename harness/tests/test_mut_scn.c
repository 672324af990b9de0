/* Unit tests of the scenario lexer written for make mutate's survivors:
 * every hex digit, upper and lower case, in a "\xHH" escape and in x"..."
 * hex bytes is read as its value (an uppercase digit read one less passed
 * every other test: none used A-F). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nr_err.h"
#include "nr_scn.h"
#include "nr_scn_lex.h"
#include "heap_exact.h"

/* The bytes of the one literal segment of the payload of step idx of s. */
static void expect_payload(const struct nr_scn *s, size_t idx, const void *want, size_t len)
{
    const struct nr_step *t;

    assert_true(idx < s->steps.n);
    t = &s->steps.v[idx];
    assert_int_equal(t->kind, NR_S_SEND);
    assert_int_equal(t->u.send.payload.tmpl.nsegs, 1);
    assert_int_equal(t->u.send.payload.tmpl.segs[0].len, len);
    assert_memory_equal(t->u.send.payload.tmpl.segs[0].data, want, len);
}

static void hex_digits_both_cases(void **state)
{
    static const char text[] = "connect c = tcp 127.0.0.1:1\n"
                               "send c \"\\x0A\\xBC\\xDE\\xF9\\xab\\xcd\\xef\\x10\"\n"
                               "send c x\"0123456789 ABCDEF abcdef aF\"\n";
    static const uint8_t esc[] = { 0x0a, 0xbc, 0xde, 0xf9, 0xab, 0xcd, 0xef, 0x10 };
    static const uint8_t hex[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                   0xab, 0xcd, 0xef, 0xaf };
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;

    (void)state;
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err) != 0)
        fail_msg("parse error: %s", err);
    expect_payload(&s, 1, esc, sizeof(esc));
    expect_payload(&s, 2, hex, sizeof(hex));
    nr_scn_free(&s);
}

/* A letter past F is no hex digit, in either case and either form. */
static void not_hex_digits(void **state)
{
    static const char *const texts[] = {
        "connect c = tcp 127.0.0.1:1\nsend c \"\\xAG\"\n",
        "connect c = tcp 127.0.0.1:1\nsend c \"\\xg0\"\n",
        "connect c = tcp 127.0.0.1:1\nsend c x\"0G\"\n",
        "connect c = tcp 127.0.0.1:1\nsend c x\"g0\"\n",
    };
    char err[NR_ERRBUF_SIZE];
    struct nr_scn s;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (nr_scn_parse((const uint8_t *)texts[i], strlen(texts[i]), "t.scn", &s, err) == 0) {
            nr_scn_free(&s);
            fail_msg("parsed: %s", texts[i]);
        }
        assert_non_null(strstr(err, "t.scn:2:"));
    }
}

static int lookup(void *ctx, const char *name, const uint8_t **val, size_t *len)
{
    (void)name;
    *val = ctx;
    *len = strlen(ctx);
    return 0;
}

/* A template expanding to far more than the expansion buffer's first 64
 * bytes: a 100-byte literal and a 300-byte variable value. */
static void long_expansion(void **state)
{
    static char text[256], value[301];
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;
    uint8_t *out = NULL;
    size_t outlen = 0;

    (void)state;
    memset(value, 'v', 300);
    snprintf(text, sizeof(text), "connect c = tcp 127.0.0.1:1\nsend c \"%0100d${tmp}\"\n", 0);
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err) != 0)
        fail_msg("parse error: %s", err);
    assert_int_equal(nr_tmpl_expand(&s.steps.v[1].u.send.payload.tmpl, lookup, value, &out,
                                    &outlen, err), 0);
    assert_int_equal(outlen, 400);
    assert_int_equal(out[99], '0');
    assert_int_equal(out[100], 'v');
    assert_int_equal(out[399], 'v');
    assert_int_equal(out[400], '\0');
    free(out);
    nr_scn_free(&s);
}

/* nr_scn_print reports a failed write (an unbuffered /dev/full). */
static void print_write_error(void **state)
{
    static const char text[] = "connect c = tcp 127.0.0.1:1\n";
    char err[NR_ERRBUF_SIZE] = "";
    struct nr_scn s;
    FILE *f = fopen("/dev/full", "w");

    (void)state;
    assert_non_null(f);
    setvbuf(f, NULL, _IONBF, 0);
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "t.scn", &s, err) != 0)
        fail_msg("parse error: %s", err);
    assert_int_equal(nr_scn_print(f, &s), -1);
    fclose(f);
    nr_scn_free(&s);
}

/* The template builders and the array growth (nr_scn_lex.h): 0 on
 * success, exactly -1 on a size that cannot be held, nothing touched. */
static void builders_contract(void **state)
{
    struct nr_tmpl t = { 0 };
    uint64_t *v = NULL;
    void *keep;

    (void)state;
    assert_int_equal(nr_tmpl_add_var(&t, "x", SIZE_MAX), -1);
    assert_int_equal(t.nsegs, 0);
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"ab", 2), 0);
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"zz", 0), 0); /* nothing to add */
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"c", SIZE_MAX - 2), -1);
    assert_int_equal(t.nsegs, 1);
    assert_int_equal(t.segs[0].len, 2);
    assert_string_equal((const char *)t.segs[0].data, "ab");
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"cd", 1), 0); /* one byte more */
    assert_int_equal(t.segs[0].len, 3);
    assert_string_equal((const char *)t.segs[0].data, "abc");
    assert_int_equal(nr_tmpl_add_var(&t, "vv", 1), 0); /* a copy of name[0..1) */
    assert_int_equal(t.nsegs, 2);
    assert_int_equal(t.segs[1].is_var, 1);
    assert_string_equal((const char *)t.segs[1].data, "v");
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"d", 1), 0); /* after a variable: new */
    assert_int_equal(t.nsegs, 3);
    nr_tmpl_free(&t);
    assert_null(t.segs);
    assert_int_equal(t.nsegs, 0);

    assert_int_equal(nr_scn_grow((void **)&v, 0, sizeof(*v)), 0);
    assert_non_null(v);
    v[0] = 1;
    keep = v;
    assert_int_equal(nr_scn_grow((void **)&v, 3, sizeof(*v)), 0); /* room is left */
    assert_ptr_equal(v, keep);
    assert_int_equal(nr_scn_grow((void **)&v, (size_t)1 << 62, sizeof(*v)), -1);
    assert_int_equal(nr_scn_grow((void **)&v, (size_t)1 << 63, 1), -1); /* 2n wraps */
    assert_ptr_equal(v, keep);
    assert_int_equal(v[0], 1);
    free(v);
}

struct vars {
    const char *name[3];
    const char *val[3];
    size_t huge; /* nonzero: "big" has this length */
};

static int vars_lookup(void *ctx, const char *name, const uint8_t **val, size_t *len)
{
    struct vars *vs = ctx;

    if (vs->huge && strcmp(name, "big") == 0) {
        *val = (const uint8_t *)"";
        *len = vs->huge;
        return 0;
    }
    for (size_t i = 0; i < 3 && vs->name[i]; i++) {
        if (strcmp(vs->name[i], name) == 0) {
            *val = (const uint8_t *)vs->val[i];
            *len = strlen(vs->val[i]);
            return 0;
        }
    }
    return -1;
}

/* Expand "<ref>" (one variable segment between two literals); returns the
 * result of nr_tmpl_expand and the text in out (or the error in err). */
static int expand_ref(struct vars *vs, const char *ref, char *out, size_t outsz, char *err)
{
    struct nr_tmpl t = { 0 };
    uint8_t *o = (uint8_t *)"unset";
    size_t olen = 7;
    int rc;

    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"<", 1), 0);
    assert_int_equal(nr_tmpl_add_var(&t, ref, strlen(ref)), 0);
    assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)">", 1), 0);
    err[0] = '\0';
    rc = nr_tmpl_expand(&t, vars_lookup, vs, &o, &olen, err);
    if (rc == 0) {
        assert_non_null(o);
        assert_int_equal(o[olen], '\0');
        assert_int_equal(strlen((char *)o), olen);
        snprintf(out, outsz, "%s", (char *)o);
        free(o);
    } else {
        assert_null(o);
        assert_int_equal(olen, 0);
    }
    nr_tmpl_free(&t);
    return rc;
}

/* name.host / name.port split at the last ':'; brackets come off the host
 * only when they enclose it all. */
static void expand_address_fields(void **state)
{
    struct vars vs = { .name = { "a", "b", "c" }, .val = { "h:1", "[::1]:8080", "[]:9" } };
    char out[128], err[NR_ERRBUF_SIZE];
    static const char *const cases[][3] = {
        { "a", "h:1", "" },        { "a.host", "h", "" },      { "a.port", "1", "" },
        { "b.host", "::1", "" },   { "b.port", "8080", "" },   { "b", "[::1]:8080", "" },
        { "c.host", "", "" },      { "c.port", "9", "" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[64];

        if (expand_ref(&vs, cases[i][0], out, sizeof(out), err) != 0)
            fail_msg("%s: %s", cases[i][0], err);
        snprintf(want, sizeof(want), "<%s>", cases[i][1]);
        assert_string_equal(out, want);
        assert_string_equal(err, ""); /* a success writes no message */
    }
    vs.val[0] = "[x]y:5"; /* not all of the host in brackets */
    assert_int_equal(expand_ref(&vs, "a.host", out, sizeof(out), err), 0);
    assert_string_equal(out, "<[x]y>");
    vs.val[0] = "x]:5";
    assert_int_equal(expand_ref(&vs, "a.host", out, sizeof(out), err), 0);
    assert_string_equal(out, "<x]>");
    vs.val[0] = "[x:5";
    assert_int_equal(expand_ref(&vs, "a.host", out, sizeof(out), err), 0);
    assert_string_equal(out, "<[x>");
    vs.val[0] = ":7";
    assert_int_equal(expand_ref(&vs, "a.host", out, sizeof(out), err), 0);
    assert_string_equal(out, "<>");
    assert_int_equal(expand_ref(&vs, "a.port", out, sizeof(out), err), 0);
    assert_string_equal(out, "<7>");
    vs.val[0] = "h:";
    assert_int_equal(expand_ref(&vs, "a.port", out, sizeof(out), err), 0);
    assert_string_equal(out, "<>");
}

/* Each failure: exactly -1, *out NULL, its own message (not "out of
 * memory"), a name of NR_SCN_NAME_MAX - 1 bytes still taken. */
static void expand_errors(void **state)
{
    struct vars vs = { .name = { "a", "abcdefghijklmnopqrstuvwxyz01234", "n" },
                       .val = { "h:1", "h:2", "noport" } };
    char out[128], err[NR_ERRBUF_SIZE];

    (void)state;
    assert_int_equal(expand_ref(&vs, "zz", out, sizeof(out), err), -1);
    assert_string_equal(err, "unknown variable 'zz'");
    {   /* the failed expansion frees its buffer (mallinfo2: see main) */
        struct nr_tmpl t = { 0 };
        struct mallinfo2 before, after;
        uint8_t *o = NULL;
        size_t olen = 0;
        int rc;

        assert_int_equal(nr_tmpl_add_lit(&t, (const uint8_t *)"lit", 3), 0);
        assert_int_equal(nr_tmpl_add_var(&t, "zz", 2), 0);
        before = mallinfo2();
        rc = nr_tmpl_expand(&t, vars_lookup, &vs, &o, &olen, err);
        after = mallinfo2();
        assert_int_equal(rc, -1);
        assert_int_equal(after.uordblks, before.uordblks);
        nr_tmpl_free(&t);
    }
    assert_int_equal(expand_ref(&vs, "zz.port", out, sizeof(out), err), -1);
    assert_string_equal(err, "unknown variable 'zz'");
    assert_int_equal(expand_ref(&vs, "n.port", out, sizeof(out), err), -1);
    assert_string_equal(err, "variable 'n' is not an address HOST:PORT");
    assert_int_equal(expand_ref(&vs, "abcdefghijklmnopqrstuvwxyz01234.port", out, sizeof(out),
                                err), 0);
    assert_string_equal(out, "<2>");
    {   /* a long name then a short one in one template: "a", not more */
        struct nr_tmpl t = { 0 };
        uint8_t *o = NULL;
        size_t olen = 0;
        static const char longer[] = "abcdefghijklmnopqrstuvwxyz01234.port";

        assert_int_equal(nr_tmpl_add_var(&t, longer, sizeof(longer) - 1), 0);
        assert_int_equal(nr_tmpl_add_var(&t, "a.port", 6), 0);
        assert_int_equal(nr_tmpl_expand(&t, vars_lookup, &vs, &o, &olen, err), 0);
        assert_string_equal((char *)o, "21");
        free(o);
        nr_tmpl_free(&t);
    }
    assert_int_equal(expand_ref(&vs, "abcdefghijklmnopqrstuvwxyz012345.port", out, sizeof(out),
                                err), -1);
    assert_string_equal(err, "variable name too long in 'abcdefghijklmnopqrstuvwxyz012345.port'");
    /* a value no buffer can hold: out of memory, and said so */
    vs.huge = SIZE_MAX / 2;
    assert_int_equal(expand_ref(&vs, "big", out, sizeof(out), err), -1);
    assert_string_equal(err, "out of memory expanding a template");
    vs.huge = SIZE_MAX - 8;
    assert_int_equal(expand_ref(&vs, "big", out, sizeof(out), err), -1);
    assert_string_equal(err, "out of memory expanding a template");
}

/* An empty template expands to an empty, NUL-terminated buffer. */
static void expand_empty(void **state)
{
    struct nr_tmpl t = { 0 };
    uint8_t *o = NULL;
    size_t olen = 9;
    char err[NR_ERRBUF_SIZE] = "";

    (void)state;
    assert_int_equal(nr_tmpl_expand(&t, vars_lookup, NULL, &o, &olen, err), 0);
    assert_non_null(o);
    assert_int_equal(olen, 0);
    assert_int_equal(o[0], '\0');
    assert_string_equal(err, "");
    free(o);
}

/* nr_scn_read_file reads at most NR_SCN_FILE_MAX bytes: a file of exactly
 * that size whole, one a byte longer refused (it used to read up to twice
 * the limit); a missing file is -1 with the path and the cause. */
static void read_file_limit(void **state)
{
    char path[] = "/tmp/nr-scn-max-XXXXXX", err[NR_ERRBUF_SIZE], want[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, NR_SCN_FILE_MAX), 0);
    assert_int_equal(pwrite(fd, "ab", 2, NR_SCN_FILE_MAX - 2), 2);
    assert_int_equal(nr_scn_read_file(path, &buf, &len, err), 0);
    assert_int_equal(len, NR_SCN_FILE_MAX);
    assert_int_equal(buf[0], 0);
    assert_memory_equal(buf + NR_SCN_FILE_MAX - 2, "ab", 2);
    free(buf);
    assert_int_equal(pwrite(fd, "c", 1, NR_SCN_FILE_MAX), 1);
    buf = NULL;
    len = 7;
    assert_int_equal(nr_scn_read_file(path, &buf, &len, err), -1);
    snprintf(want, sizeof(want), "%s: larger than %u bytes", path, NR_SCN_FILE_MAX);
    assert_string_equal(err, want);
    assert_null(buf);
    assert_int_equal(len, 7);
    close(fd);
    unlink(path);
    assert_int_equal(nr_scn_read_file(path, &buf, &len, err), -1);
    snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);
    {
        struct nr_scn scn;
        memset(&scn, 0x5a, sizeof(scn));
        assert_int_equal(nr_scn_load(path, &scn, err), -1); /* exactly -1, as nr_scn_parse */
        assert_string_equal(err, want);
        assert_int_equal(scn.steps.n, 0); /* *out left empty */
        assert_null(scn.steps.v);
    }
    /* a small file: every byte, in order */
    strcpy(path + strlen(path) - 6, "XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "sleep 1ms\n", 10), 10);
    close(fd);
    assert_int_equal(nr_scn_read_file(path, &buf, &len, err), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(buf, "sleep 1ms\n", 10);
    free(buf);
    {   /* nr_scn_load frees the text it read: load and free leave the heap
         * as it was (mallinfo2: see main) */
        struct nr_scn scn;
        size_t before = mallinfo2().uordblks;
        for (int i = 0; i < 4; i++) {
            assert_int_equal(nr_scn_load(path, &scn, err), 0);
            assert_int_equal(scn.steps.n, 1);
            nr_scn_free(&scn);
        }
        assert_int_equal(mallinfo2().uordblks, before);
    }
    /* a directory cannot be read */
    assert_int_equal(nr_scn_read_file("/", &buf, &len, err), -1);
    snprintf(want, sizeof(want), "/: cannot read: %s", strerror(EISDIR));
    assert_string_equal(err, want);
    unlink(path);
}

static int eintr_wfd = -1;

static void close_writer(int sig)
{
    (void)sig;
    close(eintr_wfd);
}

/* A read interrupted by a signal is retried; the end of the file after it
 * still ends the read although errno is EINTR then (a pipe whose writer the
 * signal handler closes).  In a child, so a loop shows as a timeout. */
static void read_file_eintr(void **state)
{
    pid_t pid, w = 0;
    int status = 0;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int p[2];
        char path[64], err[NR_ERRBUF_SIZE];
        uint8_t *buf = NULL;
        size_t len = 0;
        struct sigaction sa = { .sa_handler = close_writer }; /* no SA_RESTART */
        struct itimerval it = { .it_value = { .tv_usec = 100000 } };

        if (pipe(p) < 0 || write(p[1], "abc", 3) != 3)
            _exit(3);
        eintr_wfd = p[1];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
        sigaction(SIGALRM, &sa, NULL);
        setitimer(ITIMER_REAL, &it, NULL); /* while the read waits for more */
        if (nr_scn_read_file(path, &buf, &len, err) != 0)
            _exit(4);
        _exit(len == 3 && memcmp(buf, "abc", 3) == 0 ? 0 : 5);
    }
    for (int i = 0; i < 300 && (w = waitpid(pid, &status, WNOHANG)) == 0; i++)
        usleep(10000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("nr_scn_read_file did not return after EOF that followed EINTR");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* --time-scale at the edges: 1 ms and a 1 ms delay scaled up, a delay not
 * given stays none, a bandwidth never becomes 0, a duration saturates at
 * INT_MAX, other faults' byte counts stay. */
static void scale_edges(void **state)
{
    static const char text[] = "proxy p = tcp 127.0.0.1:1\n"
                               "connect a = tcp 127.0.0.1:1\n"
                               "sleep 1ms\n"
                               "send a \"x\" delay 1ms\n"
                               "send a \"y\"\n"
                               "fault p down bandwidth 2\n"
                               "fault p up latency 1ms\n"
                               "sleep 86400s\n"
                               "sleep 0\n"
                               "send a \"z\" delay 10ms\n"
                               "sleep 10ms\n";
    struct nr_scn scn;
    char err[NR_ERRBUF_SIZE];
    const struct nr_step *v;

    (void)state;
    if (nr_scn_parse((const uint8_t *)text, strlen(text), "s.scn", &scn, err) < 0)
        fail_msg("%s", err);
    v = scn.steps.v;
    assert_int_equal(v[4].u.send.delay_ms, 0);
    assert_int_equal(v[6].u.fault.tox.bytes, 0);
    nr_scn_scale(&scn, 2.5);
    assert_int_equal(v[2].u.sleep.ms, 2);
    assert_int_equal(v[3].u.send.delay_ms, 2);
    assert_int_equal(v[4].u.send.delay_ms, 0);
    assert_int_equal(v[5].u.fault.tox.bytes, 1); /* 2 / 2.5 */
    assert_int_equal(v[6].u.fault.tox.ms, 2);
    assert_int_equal(v[6].u.fault.tox.bytes, 0);
    assert_int_equal(v[7].u.sleep.ms, 216000000);
    assert_int_equal(v[8].u.sleep.ms, 0);
    assert_int_equal(v[9].u.send.delay_ms, 25); /* 10 ms x 2.5 */
    assert_int_equal(v[9].kind, NR_S_SEND);
    assert_int_equal(v[10].u.sleep.ms, 25);
    nr_scn_scale(&scn, 100.0);
    assert_int_equal(v[7].u.sleep.ms, INT_MAX);
    nr_scn_free(&scn);
}

int main(int argc, char **argv)
{
    (void)argc;
    heap_exact_init(argv); /* mallinfo2 exact for the leak checks */
    const struct CMUnitTest tests[] = {
        heap_exact_test(hex_digits_both_cases),
        heap_exact_test(not_hex_digits),
        heap_exact_test(long_expansion),
        heap_exact_test(print_write_error),
        heap_exact_test(builders_contract),
        heap_exact_test(expand_address_fields),
        heap_exact_test(expand_errors),
        heap_exact_test(expand_empty),
        heap_exact_test(read_file_limit),
        heap_exact_test(read_file_eintr),
        heap_exact_test(scale_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
