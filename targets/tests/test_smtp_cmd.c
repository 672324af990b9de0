/* Unit tests of smtp-send's buffer (smtp_buf.c) and command writer
 * (smtp_cmd.c), each call against its comment: the exact bytes appended,
 * the limits taken and the one past them refused with nothing appended,
 * and out of memory (the fault injector in-process, fault_inproc.h): -1,
 * oom set, and every later append refused so a writer checks once. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fault_inproc.h"
#include "smtp-send/smtp_buf.h"
#include "smtp-send/smtp_cmd.h"
#include "tnames.h"

/* b holds exactly the text want. */
static void holds(const struct ss_buf *b, const char *want)
{
    if (b->len != strlen(want) || (b->len && memcmp(b->p, want, b->len) != 0))
        fail_msg("buffer '%.*s' (%zu bytes), want '%s'", (int)b->len, b->p ? (const char *)b->p : "",
                 b->len, want);
}

/* The buffer starts at 256 bytes and doubles only when the bytes do not
 * fit (what fits is appended without an allocation); appends keep what
 * was there. */
static void buf_growth(void **state)
{
    struct ss_buf b = { 0 };
    uint8_t big[600];
    int r;

    (void)state;
    memset(big, 'x', sizeof(big));
    fault_inproc_set("realloc:1+,malloc:1+");
    r = ss_buf_add(&b, "", 0);
    assert_ret_equal(fault_inproc_off(), 0);
    assert_ret_equal(r, 0);
    assert_null(b.p);
    assert_ret_equal(b.cap, 0);
    assert_ret_equal(ss_buf_add(&b, "ab", 2), 0);
    assert_ret_equal(b.cap, 256);
    fault_inproc_set("realloc:1+,malloc:1+");
    r = ss_buf_add(&b, big, 254); /* exactly full */
    assert_ret_equal(fault_inproc_off(), 0);
    assert_ret_equal(r, 0);
    assert_ret_equal(b.cap, 256);
    assert_ret_equal(b.len, 256);
    assert_ret_equal(ss_buf_add(&b, big, 256), 0); /* one doubling, exactly full again */
    assert_ret_equal(b.cap, 512);
    assert_ret_equal(ss_buf_add(&b, "c", 1), 0);
    assert_ret_equal(b.cap, 1024);
    assert_ret_equal(ss_buf_add(&b, big, 600), 0); /* 1113: one more doubling */
    assert_ret_equal(b.cap, 2048);
    assert_ret_equal(b.len, 1113);
    assert_memory_equal(b.p, "abxx", 4);
    assert_int_equal(b.p[512], 'c');
    assert_int_equal(b.p[1112], 'x');
    assert_false(b.oom);
    ss_buf_free(&b);
    assert_null(b.p);
    assert_ret_equal(b.len, 0);
    assert_ret_equal(b.cap, 0);
    assert_ret_equal(ss_buf_str(&b, "hello"), 0);
    assert_ret_equal(ss_buf_fmt(&b, " %d-%s", 42, "x"), 0);
    holds(&b, "hello 42-x");
    assert_ret_equal(ss_buf_fmt(&b, "%s", ""), 0); /* nothing to append is no failure */
    holds(&b, "hello 42-x");
    assert_false(b.oom);
    ss_buf_free(&b);
}

/* A size no buffer can reach, a formatted text over 1023 bytes, and a
 * failed realloc: -1 with oom set, the contents left as they were, and
 * every later append (even of nothing) refused. */
static void buf_failures(void **state)
{
    struct ss_buf b = { 0 };
    char text[1100];
    unsigned long n;

    (void)state;
    assert_ret_equal(ss_buf_str(&b, "kept"), 0);
    assert_ret_equal(ss_buf_add(&b, "x", SIZE_MAX), -1);
    assert_true(b.oom);
    holds(&b, "kept");
    assert_ret_equal(ss_buf_add(&b, "", 0), -1);
    assert_ret_equal(ss_buf_str(&b, "more"), -1);
    holds(&b, "kept");
    ss_buf_free(&b);
    assert_false(b.oom);

    memset(text, 'y', sizeof(text));
    text[1023] = '\0'; /* 1023 bytes: the most one call formats */
    assert_ret_equal(ss_buf_fmt(&b, "%s", text), 0);
    assert_ret_equal(b.len, 1023);
    text[1023] = 'y';
    text[1024] = '\0';
    assert_ret_equal(ss_buf_fmt(&b, "%s", text), -1);
    assert_true(b.oom);
    assert_ret_equal(b.len, 1023);
    assert_ret_equal(ss_buf_add(&b, "z", 1), -1);
    assert_ret_equal(b.len, 1023);
    ss_buf_free(&b);

    assert_ret_equal(ss_buf_str(&b, "ab"), 0);
    fault_inproc_set("realloc:1");
    assert_ret_equal(ss_buf_add(&b, text, 300), -1);
    n = fault_inproc_off();
    assert_ret_equal(n, 1);
    assert_true(b.oom);
    holds(&b, "ab");
    assert_ret_equal(ss_buf_add(&b, "c", 1), -1);
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"abc", 3, 76), -1);
    holds(&b, "ab");
    ss_buf_free(&b);
}

/* base64 in lines of line_max characters (a multiple of 4), each ending
 * CRLF, the last one too; 0: one line without CRLF. */
static void b64_lines(void **state)
{
    struct ss_buf b = { 0 };

    (void)state;
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"", 0, 4), 0);
    holds(&b, "");
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"abcdefg", 7, 0), 0);
    holds(&b, "YWJjZGVmZw==");
    ss_buf_free(&b);
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"abcdefg", 7, 4), 0);
    holds(&b, "YWJj\r\nZGVm\r\nZw==\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"abcdef", 6, 8), 0);
    holds(&b, "YWJjZGVm\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"abcdefgh", 8, 8), 0);
    holds(&b, "YWJjZGVm\r\nZ2g=\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_b64_encode(&b, (const uint8_t *)"\xff\xfe\x00", 3, 0), 0);
    holds(&b, "//4A");
    ss_buf_free(&b);
}

/* EHLO/HELO: "VERB domain\r\n" for a domain of 1 to 255 bytes, each from
 * '!' to '~'; any other byte, at the first, a middle or the last place,
 * and a length of 0 or 256, is -1 with nothing appended. */
static void hello_domain(void **state)
{
    struct ss_buf b = { 0 };
    char d[258];

    (void)state;
    assert_ret_equal(ss_cmd_hello(&b, "EHLO", "!x~"), 0);
    holds(&b, "EHLO !x~\r\n");
    ss_buf_free(&b);
    for (int c = 1; c < 256; c++) {
        int ok = c >= 0x21 && c <= 0x7e;
        for (size_t at = 0; at < 3; at++) {
            char want[300];
            snprintf(d, sizeof(d), "abc");
            d[at] = (char)c;
            if (ss_cmd_hello(&b, "HELO", d) != (ok ? 0 : -1))
                fail_msg("byte 0x%02x at %zu of 3: want %s", c, at, ok ? "0" : "-1");
            snprintf(want, sizeof(want), "HELO %s\r\n", d);
            holds(&b, ok ? want : "");
            ss_buf_free(&b);
        }
    }
    assert_ret_equal(ss_cmd_hello(&b, "EHLO", ""), -1);
    memset(d, 'h', sizeof(d));
    d[255] = '\0';
    assert_ret_equal(ss_cmd_hello(&b, "EHLO", d), 0);
    assert_ret_equal(b.len, 5 + 255 + 2);
    ss_buf_free(&b);
    d[255] = 'h';
    d[256] = '\0';
    assert_ret_equal(ss_cmd_hello(&b, "EHLO", d), -1);
    holds(&b, "");
}

/* MAIL, RCPT: the exact command; SIZE only when non-zero; an address
 * ss_addr_ok refuses is -1 with nothing appended (MAIL takes the empty
 * reverse path, RCPT does not). */
static void mail_and_rcpt(void **state)
{
    struct ss_buf b = { 0 };

    (void)state;
    assert_ret_equal(ss_cmd_mail(&b, "a@example.org", 0), 0);
    holds(&b, "MAIL FROM:<a@example.org>\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_mail(&b, "a@example.org", 18446744073709551615ULL), 0);
    holds(&b, "MAIL FROM:<a@example.org> SIZE=18446744073709551615\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_mail(&b, "", 1), 0);
    holds(&b, "MAIL FROM:<> SIZE=1\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_mail(&b, "a b@example.org", 0), -1);
    holds(&b, "");
    assert_ret_equal(ss_cmd_rcpt(&b, "c@example.org"), 0);
    holds(&b, "RCPT TO:<c@example.org>\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_rcpt(&b, ""), -1);
    holds(&b, "");
    assert_ret_equal(ss_cmd_rcpt(&b, "c<d@example.org"), -1);
    holds(&b, "");
    ss_buf_free(&b);
}

/* AUTH PLAIN and LOGIN lines: the base64 of the exact credentials; a user
 * or password of 255 bytes is taken, 256 or one with a line break is -1
 * with nothing appended. */
static void auth_lines(void **state)
{
    struct ss_buf b = { 0 };
    char u255[257], p255[257];

    (void)state;
    assert_ret_equal(ss_cmd_auth_plain(&b, "tim", "tanstaaftanstaaf"), 0);
    holds(&b, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"); /* RFC 4616's example */
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_auth_plain(&b, "", ""), 0);
    holds(&b, "AUTH PLAIN AAA=\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_auth_login_line(&b, "tim"), 0);
    holds(&b, "dGlt\r\n");
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_auth_login_line(&b, ""), 0);
    holds(&b, "\r\n");
    ss_buf_free(&b);

    memset(u255, 'u', sizeof(u255));
    memset(p255, 'p', sizeof(p255));
    u255[255] = p255[255] = '\0';
    assert_ret_equal(ss_cmd_auth_plain(&b, u255, p255), 0);
    assert_ret_equal(b.len, strlen("AUTH PLAIN ") + 4 * ((2 + 255 + 255 + 2) / 3) + 2);
    ss_buf_free(&b);
    assert_ret_equal(ss_cmd_auth_login_line(&b, u255), 0);
    assert_ret_equal(b.len, 4 * 85 + 2);
    ss_buf_free(&b);
    u255[255] = 'u';
    u255[256] = '\0';
    assert_ret_equal(ss_cmd_auth_plain(&b, u255, "p"), -1);
    assert_ret_equal(ss_cmd_auth_plain(&b, "u", u255), -1);
    assert_ret_equal(ss_cmd_auth_login_line(&b, u255), -1);
    assert_ret_equal(ss_cmd_auth_plain(&b, "u\r", "p"), -1);
    assert_ret_equal(ss_cmd_auth_plain(&b, "u", "p\n"), -1);
    assert_ret_equal(ss_cmd_auth_login_line(&b, "a\nb"), -1);
    assert_ret_equal(ss_cmd_auth_login_line(&b, "a\rb"), -1);
    holds(&b, "");
    ss_buf_free(&b);
}

/* DATA transparency: a leading dot doubled on every line, bare CR and LF
 * become CRLF, a final CRLF added when missing, then ".\r\n"; the input
 * is read within its n bytes (a CR last included). */
static void data_stuffing(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "", ".\r\n" },
        { "a", "a\r\n.\r\n" },
        { "a\r\n", "a\r\n.\r\n" },
        { ".", "..\r\n.\r\n" },
        { ".a\r\n.\r\nb.c\n.", "..a\r\n..\r\nb.c\r\n..\r\n.\r\n" },
        { "a\rb\nc\r", "a\r\nb\r\nc\r\n.\r\n" },
        { "\r\n\r\n", "\r\n\r\n.\r\n" },
        { "x\n\n.y", "x\r\n\r\n..y\r\n.\r\n" },
        { "a\r", "a\r\n.\r\n" },
        { "\r", "\r\n.\r\n" },
    };
    struct ss_buf b = { 0 };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* a heap copy of exactly n bytes: no byte past them is read (ASan) */
        size_t n = strlen(cases[i].in);
        uint8_t *in = malloc(n ? n : 1);
        assert_non_null(in);
        memcpy(in, cases[i].in, n);
        assert_ret_equal(ss_data_stuff(&b, in, n), 0);
        free(in);
        holds(&b, cases[i].out);
        ss_buf_free(&b);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_growth),
        cmocka_unit_test(buf_failures),
        cmocka_unit_test(b64_lines),
        cmocka_unit_test(hello_domain),
        cmocka_unit_test(mail_and_rcpt),
        cmocka_unit_test(auth_lines),
        cmocka_unit_test(data_stuffing),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
