/* smtp-send's reply parser and EHLO keywords: every valid reply is
 * complete whole, incomplete at every shorter prefix (a reply split at any
 * offset, or fed byte by byte, reads the same), and stops at its own end
 * when the next reply follows; malformed replies are named at their
 * offset, also when only a prefix has arrived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nr_err.h"
#include "smtp-send/smtp_reply.h"

struct ok_case {
    const char *in;
    int code;
    size_t nlines;
    const char *first;
};

static const struct ok_case ok_cases[] = {
    { "220 mx.test ESMTP\r\n", 220, 1, "mx.test ESMTP" },
    { "250\r\n", 250, 1, "" },
    { "250 \r\n", 250, 1, "" },
    { "250-mx.test\r\n250-SIZE 1000\r\n250 PIPELINING\r\n", 250, 3, "mx.test" },
    { "250-\r\n250\r\n", 250, 2, "" },
    { "554 5.7.1 tab\there\r\n", 554, 1, "5.7.1 tab\there" },
    { "334 VXNlcm5hbWU6\r\n", 334, 1, "VXNlcm5hbWU6" },
    { "421-a\r\n421-b\r\n421 c\r\n", 421, 3, "a" },
};

static void test_ok_every_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        const struct ok_case *c = &ok_cases[i];
        size_t n = strlen(c->in);
        char buf[256], err[NR_ERRBUF_SIZE] = "";
        struct ss_reply r = { 0 };
        const uint8_t *t;
        size_t t_len;

        for (size_t k = 0; k < n; k++) {
            long rc = ss_reply_parse((const uint8_t *)c->in, k, &r, err);
            if (rc != SS_REPLY_INCOMPLETE)
                fail_msg("'%s' cut at %zu: %ld (%s)", c->in, k, rc, err);
        }
        assert_int_equal(ss_reply_parse((const uint8_t *)c->in, n, &r, err), (long)n);
        assert_int_equal(r.code, c->code);
        assert_int_equal(r.nlines, c->nlines);
        assert_int_equal(r.first_len, strlen(c->first));
        assert_memory_equal(r.first, c->first, r.first_len);
        /* the first line's text is a view of it that ends at its CRLF (also
         * when empty, after a bare code), the one ss_reply_line gives */
        assert_memory_equal(r.first + r.first_len, "\r\n", 2);
        assert_int_equal(ss_reply_line(&r, 0, &t, &t_len), 0);
        assert_ptr_equal(t, r.first);
        assert_int_equal(t_len, r.first_len);
        /* followed by the next reply (pipelining): stops at its own end */
        snprintf(buf, sizeof(buf), "%s250 next\r\n", c->in);
        assert_int_equal(ss_reply_parse((const uint8_t *)buf, strlen(buf), &r, err), (long)n);
    }
}

struct bad_case {
    const char *in;
    size_t off;
    const char *why;
};

static const struct bad_case bad_cases[] = {
    { "220 mx\n", 6, "bare LF" },
    { "220 m\rx\r\n", 5, "bare CR" },
    { "220 m\rx", 5, "bare CR" }, /* known bare before any CRLF arrived */
    { "22x ok\r\n", 2, "not 3 digits" },
    { "x", 0, "not 3 digits" },
    { "620 ok\r\n", 0, "out of range" },
    { "160 ok\r\n", 0, "out of range" },
    { "270 ok\r\n", 0, "out of range" },
    { "25\r\n", 2, "shorter than a code" },
    { "250_ok\r\n", 3, "no '-' or ' '" },
    { "250-a\r\n251 b\r\n", 7, "different codes" },
    { "250 a\x01b\r\n", 5, "control character" },
    { "250 a\x7f\r\n", 5, "control character" },
};

static void test_malformed_at_offset(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char err[NR_ERRBUF_SIZE] = "";
        struct ss_reply r = { 0 };
        long rc = ss_reply_parse((const uint8_t *)c->in, strlen(c->in), &r, err);

        if (rc != SS_REPLY_MALFORMED || r.err_off != c->off || !strstr(err, c->why))
            fail_msg("'%s': rc %ld off %zu err '%s', want malformed at %zu (%s)", c->in, rc,
                     r.err_off, err, c->off, c->why);
        /* a prefix is incomplete or already malformed at the same place */
        for (size_t k = 0; k < strlen(c->in); k++) {
            rc = ss_reply_parse((const uint8_t *)c->in, k, &r, err);
            if (rc != SS_REPLY_INCOMPLETE && !(rc == SS_REPLY_MALFORMED && r.err_off == c->off))
                fail_msg("'%s' cut at %zu: rc %ld off %zu", c->in, k, rc, r.err_off);
        }
    }
}

static void test_limits(void **state)
{
    static uint8_t buf[3 * SS_REPLY_LINE_MAX];
    char err[NR_ERRBUF_SIZE];
    struct ss_reply r = { .max_lines = 2 };
    const char *three = "250-a\r\n250-b\r\n250 c\r\n";

    (void)state;
    assert_int_equal(ss_reply_parse((const uint8_t *)three, strlen(three), &r, err),
                     SS_REPLY_MALFORMED);
    assert_non_null(strstr(err, "too many reply lines"));
    r.max_lines = 3;
    assert_int_equal(ss_reply_parse((const uint8_t *)three, strlen(three), &r, err),
                     (long)strlen(three));
    /* a line of 2046 bytes + CRLF is accepted, one byte more is not */
    memset(buf, 'x', sizeof(buf));
    memcpy(buf, "250 ", 4);
    memcpy(buf + SS_REPLY_LINE_MAX - 2, "\r\n", 2);
    r.max_lines = 0;
    assert_int_equal(ss_reply_parse(buf, SS_REPLY_LINE_MAX, &r, err), SS_REPLY_LINE_MAX);
    memset(buf, 'x', sizeof(buf));
    memcpy(buf, "250 ", 4);
    assert_int_equal(ss_reply_parse(buf, SS_REPLY_LINE_MAX - 1, &r, err), SS_REPLY_INCOMPLETE);
    assert_int_equal(ss_reply_parse(buf, sizeof(buf), &r, err), SS_REPLY_MALFORMED);
    assert_non_null(strstr(err, "longer than 2048"));
}

static void test_ehlo_keywords(void **state)
{
    const char *in = "250-mx.test hello\r\n250-size 10240000\r\n250-pipelining\r\n"
                     "250-8BITMIME\r\n250-AUTH LOGIN CRAM-MD5 PLAIN\r\n250 X-FOO SIZE\r\n";
    const char *none = "250-mx PIPELINING\r\n250-SIZE 99999999999999999999\r\n250-AUTH=PLAIN\r\n"
                       "250 AUTH CRAM-MD5\r\n";
    struct ss_reply r = { 0 };
    struct ss_ehlo e;
    const uint8_t *t;
    size_t n;

    (void)state;
    assert_true(ss_reply_parse((const uint8_t *)in, strlen(in), &r, NULL) > 0);
    ss_ehlo_parse(&r, &e);
    assert_true(e.size && e.pipelining && e.eightbit && e.auth_plain && e.auth_login);
    assert_int_equal(e.size_max, 10240000);
    assert_int_equal(ss_reply_line(&r, 4, &t, &n), 0);
    assert_int_equal(n, strlen("AUTH LOGIN CRAM-MD5 PLAIN"));
    assert_int_equal(ss_reply_line(&r, 6, &t, &n), -1);
    /* the first line is the greeting, not a keyword; a SIZE over 2^63 and
     * AUTH=PLAIN (an old form) are not taken */
    assert_true(ss_reply_parse((const uint8_t *)none, strlen(none), &r, NULL) > 0);
    ss_ehlo_parse(&r, &e);
    assert_false(e.pipelining || e.size || e.auth_plain || e.auth_login);
}

/* ss_reply_line: each line's text without code, separator and CRLF (a bare
 * code: empty), -1 past the last line, and -1 for every line when the last
 * parse did not give a complete reply (incomplete or malformed), though it
 * counted the lines it had checked. */
static void test_reply_lines(void **state)
{
    static const struct {
        const char *in;
        const char *lines[4];
    } cases[] = {
        { "250-mx.test\r\n250-SIZE 1000\r\n250 PIPELINING\r\n", { "mx.test", "SIZE 1000", "PIPELINING" } },
        { "250-\r\n250\r\n", { "", "" } },
        { "220\r\n", { "" } },
        { "554-a\tb\r\n554 \r\n", { "a\tb", "" } },
    };
    static const char *const unfinished[] = { "250-a\r\n250-b\r\n250 c", "250-a\r\n251 b\r\n" };
    struct ss_reply r = { 0 };
    const uint8_t *t;
    size_t n, i;

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_int_equal(ss_reply_parse((const uint8_t *)cases[k].in, strlen(cases[k].in), &r, NULL),
                         (long)strlen(cases[k].in));
        for (i = 0; cases[k].lines[i]; i++) {
            t = NULL;
            n = 99;
            assert_int_equal(ss_reply_line(&r, i, &t, &n), 0);
            if (n != strlen(cases[k].lines[i]) || (n && memcmp(t, cases[k].lines[i], n) != 0))
                fail_msg("'%s' line %zu: '%.*s', want '%s'", cases[k].in, i, (int)n,
                         t ? (const char *)t : "", cases[k].lines[i]);
        }
        assert_int_equal(r.nlines, i);
        assert_int_equal(ss_reply_line(&r, i, &t, &n), -1);
        assert_int_equal(ss_reply_line(&r, (size_t)-1, &t, &n), -1);
    }
    for (size_t k = 0; k < sizeof(unfinished) / sizeof(unfinished[0]); k++) {
        assert_true(ss_reply_parse((const uint8_t *)unfinished[k], strlen(unfinished[k]), &r, NULL) < 0);
        assert_true(r.nlines > 0);
        for (i = 0; i <= r.nlines; i++)
            assert_int_equal(ss_reply_line(&r, i, &t, &n), -1);
    }
}

/* max_lines is input: a call keeps it, so the next reply parsed with the
 * same struct has the same limit. */
static void test_max_lines_kept(void **state)
{
    const char *two = "250-a\r\n250 b\r\n", *three = "250-a\r\n250-b\r\n250 c\r\n";
    struct ss_reply r = { .max_lines = 2 };

    (void)state;
    assert_int_equal(ss_reply_parse((const uint8_t *)two, strlen(two), &r, NULL), (long)strlen(two));
    assert_int_equal(r.max_lines, 2);
    assert_int_equal(ss_reply_parse((const uint8_t *)three, strlen(three), &r, NULL),
                     SS_REPLY_MALFORMED);
    assert_int_equal(r.max_lines, 2);
    r.max_lines = 3;
    assert_int_equal(ss_reply_parse((const uint8_t *)three, strlen(three), &r, NULL),
                     (long)strlen(three));
}

/* SIZE alone is advertised with no limit; its argument is taken up to
 * 2^63 - 1, and one that is 2^63, has a non-digit or is empty after the
 * space is not taken (RFC 1870). */
static void test_ehlo_size(void **state)
{
    static const struct {
        const char *in;
        int size;
        uint64_t max;
    } cases[] = {
        { "250-mx\r\n250 SIZE\r\n", 1, 0 },
        { "250-mx\r\n250 SIZE 0\r\n", 1, 0 },
        { "250-mx\r\n250 size 9223372036854775807\r\n", 1, UINT64_C(9223372036854775807) },
        { "250-mx\r\n250 SIZE 9223372036854775808\r\n", 0, 0 },
        { "250-mx\r\n250 SIZE 92233720368547758070\r\n", 0, 0 },
        { "250-mx\r\n250 SIZE 12a\r\n", 0, 0 },
        { "250-mx\r\n250 SIZE \r\n", 0, 0 },
        { "250-mx\r\n250 SIZES 5\r\n", 0, 0 },
        { "250 SIZE 5\r\n", 0, 0 },
    };
    struct ss_reply r = { 0 };
    struct ss_ehlo e;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(ss_reply_parse((const uint8_t *)cases[i].in, strlen(cases[i].in), &r, NULL) > 0);
        assert_int_equal(ss_ehlo_parse(&r, &e), 0);
        if (e.size != cases[i].size || e.size_max != cases[i].max)
            fail_msg("'%s': size %d max %llu, want %d %llu", cases[i].in, e.size,
                     (unsigned long long)e.size_max, cases[i].size,
                     (unsigned long long)cases[i].max);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_every_prefix),
        cmocka_unit_test(test_malformed_at_offset),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ehlo_keywords),
        cmocka_unit_test(test_reply_lines),
        cmocka_unit_test(test_ehlo_size),
        cmocka_unit_test(test_max_lines_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
