/* smtp-send's message builder: bodies and attachments round-trip through
 * an independent decoder (smtp_mime_check.h); base64 against RFC 4648's
 * vectors; quoted-printable edges; the boundary moves away from content
 * that contains it; RFC 2231 and RFC 2047 forms; DATA dot-stuffing.  The
 * decoder is shown to catch corrupted messages. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "smtp-send/smtp_cmd.h"
#include "fault_inproc.h"
#include "tests/smtp_mime_check.h"

static const char *const to1[] = { "bob@b.test" };

static struct ss_msg base_msg(const char *body, const struct ss_part *parts, size_t nparts)
{
    return (struct ss_msg){ .from = "alice@a.test", .to = to1, .nto = 1, .subject = "s",
                            .body = (const uint8_t *)body, .body_len = strlen(body),
                            .parts = parts, .nparts = nparts, .date = 0,
                            .message_id = "id@test", .boundary_seed = "=_b" };
}

static void build(const struct ss_msg *m, struct ss_buf *b)
{
    char err[256];

    memset(b, 0, sizeof(*b));
    if (ss_mime_build(m, b, err) < 0)
        fail_msg("build: %s", err);
    assert_int_equal(ss_buf_add(b, "", 1), 0); /* NUL for strstr */
    b->len--;
}

static void test_b64_vectors(void **state)
{
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy" };
    (void)state;
    for (size_t i = 0; i < 7; i++) {
        struct ss_buf b = { 0 };
        ss_b64_encode(&b, (const uint8_t *)in[i], strlen(in[i]), 0);
        assert_int_equal(b.len, strlen(out[i]));
        assert_memory_equal(b.p ? b.p : (uint8_t *)"", out[i], b.len);
        ss_buf_free(&b);
    }
}

static void test_roundtrip_bodies(void **state)
{
    static const char *const bodies[] = {
        "", "plain\n", "crlf\r\nlines\r\n", "no newline", ".dot\n..two\n.\n", "tab\tend \n",
        "trailing space \r\nx", "Grüße\n", "lone\rcr\n", "a=b=c\n", "=\n",
        "bare\nlf\nand\r\ncrlf", "\n\n\n",
    };
    char why[160];

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct ss_msg m = base_msg(bodies[i], NULL, 0);
        struct ss_part p = { "f.bin", (const uint8_t *)"x", 1 };
        if (smc_roundtrip(&m, why) != 0)
            fail_msg("body %zu alone: %s", i, why);
        m.parts = &p;
        m.nparts = 1;
        if (smc_roundtrip(&m, why) != 0)
            fail_msg("body %zu with an attachment: %s", i, why);
    }
}

static void test_roundtrip_long_and_binary(void **state)
{
    size_t n = 5000;
    uint8_t *bin = malloc(n);
    char *text = malloc(n + 1), why[160];
    struct ss_part parts[3];
    struct ss_msg m;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        bin[i] = (uint8_t)(i * 7 + i / 256);
        text[i] = i % 1500 == 1499 ? '\n' : (char)('a' + i % 26);
    }
    text[n] = '\0';
    parts[0] = (struct ss_part){ "a.bin", bin, n };
    parts[1] = (struct ss_part){ "empty.txt", bin, 0 };
    parts[2] = (struct ss_part){ "dir/one byte.png", bin, 1 };
    m = base_msg(text, parts, 3); /* lines of 1499 bytes: must go quoted-printable */
    if (smc_roundtrip(&m, why) != 0)
        fail_msg("%s", why);
    for (size_t cut = 0; cut < 3; cut++) { /* every base64 padding */
        parts[0].len = n - cut;
        if (smc_roundtrip(&m, why) != 0)
            fail_msg("cut %zu: %s", cut, why);
    }
    free(bin);
    free(text);
}

static void test_forms(void **state)
{
    struct ss_part p[3] = {
        { "/x/report.PDF", (const uint8_t *)"%PDF", 4 },
        { "résumé.txt", (const uint8_t *)"r", 1 },
        { "a very long name with ünïcödé characters that needs continuations.bin",
          (const uint8_t *)"c", 1 },
    };
    struct ss_msg m = base_msg("Grüße\n", p, 3);
    struct ss_buf b;
    char *s;

    (void)state;
    m.subject = "Grüße aus Köln";
    build(&m, &b);
    s = (char *)b.p;
    assert_non_null(strstr(s, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
    assert_non_null(strstr(s, "Subject: =?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"));
    assert_non_null(strstr(s, "Content-Type: application/pdf\r\n"));
    assert_non_null(strstr(s, " filename=\"report.PDF\"\r\n"));
    assert_non_null(strstr(s, " filename*=utf-8''r%C3%A9sum%C3%A9.txt\r\n"));
    assert_non_null(strstr(s, " filename*0*=utf-8''a%20very%20long"));
    assert_non_null(strstr(s, ";\r\n filename*1*="));
    assert_non_null(strstr(s, "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n"));
    assert_string_equal(ss_mime_type("x.tar.gz"), "application/gzip");
    assert_string_equal(ss_mime_type("noext"), "application/octet-stream");
    assert_string_equal(ss_mime_type("dot.dir/file"), "application/octet-stream");
    assert_string_equal(ss_mime_type("dir/report.PDF"), "application/pdf");
    ss_buf_free(&b);
}

static void test_boundary_avoids_content(void **state)
{
    struct ss_part p = { "b.txt", (const uint8_t *)"=_b =_b_1\n", 10 };
    struct ss_msg m = base_msg("text with =_b and =_b_2 in it\n", &p, 1);
    struct ss_buf b;
    char why[160];

    (void)state;
    p.name = "=_b_3.txt"; /* the name is in the part's headers: avoided too */
    build(&m, &b);
    /* "=_b" is in the text, "=_b_3" in the name; "=_b_1" in neither */
    assert_non_null(strstr((char *)b.p, "boundary=\"=_b_1\""));
    ss_buf_free(&b);
    m.subject = "=_b_1"; /* and the message's own headers (found by smtp-mime) */
    build(&m, &b);
    assert_non_null(strstr((char *)b.p, "boundary=\"=_b_4\""));
    ss_buf_free(&b);
    assert_int_equal(smc_roundtrip(&m, why), 0);
}

static void test_refused(void **state)
{
    const char *const bad_to[] = { "a b@x" };
    struct ss_msg m = base_msg("", NULL, 0);
    struct ss_buf b = { 0 };
    char err[256];

    (void)state;
    m.subject = "line\r\nBcc: injected";
    assert_int_equal(ss_mime_build(&m, &b, err), -1);
    assert_non_null(strstr(err, "control character"));
    m = base_msg("", NULL, 0);
    m.to = bad_to;
    assert_int_equal(ss_mime_build(&m, &b, err), -1);
    m = base_msg("", NULL, 0);
    m.from = "<evil>";
    assert_int_equal(ss_mime_build(&m, &b, err), -1);
    ss_buf_free(&b);
}

static void test_dot_stuffing(void **state)
{
    static const struct { const char *in, *out; } cases[] = {
        { "", ".\r\n" },
        { "a", "a\r\n.\r\n" },
        { ".", "..\r\n.\r\n" },
        { "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },
        { "x\n.y\rz", "x\r\n..y\r\nz\r\n.\r\n" },
        { "a.\r\n", "a.\r\n.\r\n" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ss_buf b = { 0 };
        ss_data_stuff(&b, (const uint8_t *)cases[i].in, strlen(cases[i].in));
        assert_int_equal(b.len, strlen(cases[i].out));
        assert_memory_equal(b.p, cases[i].out, b.len);
        ss_buf_free(&b);
    }
}

/* The decoder the round trips rely on must catch a broken message. */
static void test_checker_catches_corruption(void **state)
{
    static const uint8_t data[] = "attachment bytes";
    struct ss_part p = { "d.bin", data, sizeof(data) - 1 };
    struct ss_msg m = base_msg("body\n", &p, 1);
    struct ss_buf b;
    struct smc_msg d;
    char *s;

    (void)state;
    build(&m, &b);
    s = strstr((char *)b.p, "YXR0");           /* base64 of "att" */
    assert_non_null(s);
    s[0] = 'Z';                                 /* one changed character */
    assert_int_equal(smc_decode(b.p, b.len, &d), 0);
    assert_false(d.len[1] == p.len && memcmp(d.data[1], data, p.len) == 0);
    smc_free(&d);
    s[0] = '\n';                                /* a bare LF */
    assert_int_equal(smc_decode(b.p, b.len, &d), -1);
    assert_non_null(strstr(d.err, "bare LF"));
    s[0] = 'Y';
    s = strstr((char *)b.p, "body");            /* the boundary inside content */
    memcpy(s, "=_b ", 4);
    assert_int_equal(smc_decode(b.p, b.len, &d), -1);
    assert_non_null(strstr(d.err, "boundary occurs inside content"));
    ss_buf_free(&b);
}

/* ss_addr_ok at its bounds: printable ASCII from '!' to '~' without the
 * specials, space, DEL and bytes past it refused; SS_ADDR_MAX bytes taken,
 * one more refused; empty only when allowed. */
static void test_addr_bounds(void **state)
{
    char big[SS_ADDR_MAX + 2];

    (void)state;
    assert_true(ss_addr_ok("!a~@b", 0));
    assert_false(ss_addr_ok("a b@c", 0));
    assert_false(ss_addr_ok("a\x7f@c", 0));
    assert_false(ss_addr_ok("a\x80@c", 0));
    assert_false(ss_addr_ok("a\x1f@c", 0));
    for (const char *sp = "<>(),;\"\\"; *sp; sp++) {
        char a[8] = { 'a', *sp, '@', 'b', 0 };
        if (ss_addr_ok(a, 0))
            fail_msg("'%s' taken", a);
    }
    assert_true(ss_addr_ok("", 1));
    assert_false(ss_addr_ok("", 0));
    memset(big, 'a', sizeof(big));
    big[SS_ADDR_MAX] = '\0';
    assert_true(ss_addr_ok(big, 0));
    big[SS_ADDR_MAX] = 'a';
    big[SS_ADDR_MAX + 1] = '\0';
    assert_false(ss_addr_ok(big, 0));
}

/* base64 of a last group of one or two bytes reads nothing past them:
 * the bytes after (0xff here) change nothing. */
static void test_b64_tail_bounds(void **state)
{
    static const uint8_t in[] = { 'f', 'o', 0xff, 0xff };
    struct ss_buf b = { 0 };

    (void)state;
    assert_int_equal(ss_b64_encode(&b, in, 2, 0), 0);
    assert_int_equal(ss_b64_encode(&b, in, 1, 0), 0);
    assert_true(b.len >= 8);
    assert_memory_equal(b.p, "Zm8=", 4);
    assert_memory_equal(b.p + b.len - 4 - (b.p[b.len - 1] == '\n' ? 2 : 0), "Zg==", 4);
    ss_buf_free(&b);
}

/* The body goes 7bit exactly when it is printable ASCII (0x20-0x7e) or
 * TAB, lines of at most 998 bytes, no bare CR and a final LF (README);
 * anything else goes quoted-printable, and both decode to the body. */
static void test_body_7bit_bounds(void **state)
{
    static char body[1100];
    char why[160];

    (void)state;
    for (int c = 1; c < 256; c++) {
        struct ss_msg m;
        struct ss_buf b;
        int seven = (c >= 0x20 && c <= 0x7e) || c == '\t';
        if (c == '\n' || c == '\r')
            continue;
        snprintf(body, sizeof(body), "a%cb\n", c);
        m = base_msg(body, NULL, 0);
        build(&m, &b);
        if (!strstr((char *)b.p, seven ? "Content-Transfer-Encoding: 7bit\r\n"
                                       : "Content-Transfer-Encoding: quoted-printable\r\n"))
            fail_msg("byte 0x%02x: want %s in '%s'", c, seven ? "7bit" : "quoted-printable",
                     (char *)b.p);
        ss_buf_free(&b);
        if (smc_roundtrip(&m, why) != 0)
            fail_msg("byte 0x%02x: %s", c, why);
    }
    for (size_t len = 997; len <= 999; len++) {
        struct ss_msg m;
        struct ss_buf b;
        memset(body, 'x', len);
        memcpy(body + len, "\r\n", 3);
        m = base_msg(body, NULL, 0);
        build(&m, &b);
        if (!strstr((char *)b.p, len <= 998 ? "Content-Transfer-Encoding: 7bit\r\n"
                                            : "Content-Transfer-Encoding: quoted-printable\r\n"))
            fail_msg("a line of %zu bytes: the wrong encoding", len);
        ss_buf_free(&b);
        if (smc_roundtrip(&m, why) != 0)
            fail_msg("a line of %zu bytes: %s", len, why);
    }
}

/* Quoted-printable lines are filled: a soft break comes only when the
 * next character would pass 75 (76 with the '='); a file name is its
 * last path component, even of one byte. */
static void test_qp_fill_and_name(void **state)
{
    static char body[101], want[256];
    struct ss_part part = { "x/a", (const uint8_t *)"x", 1 };
    struct ss_msg m;
    struct ss_buf b;

    (void)state;
    memset(body, 'a', 100);
    m = base_msg(body, &part, 1);
    build(&m, &b);
    snprintf(want, sizeof(want), "quoted-printable\r\n\r\n%.75s=\r\n%.25s=\r\n", body, body);
    if (!strstr((char *)b.p, want))
        fail_msg("no '%s' in '%s'", want, (char *)b.p);
    assert_non_null(strstr((char *)b.p, " filename=\"a\"\r\n"));
    ss_buf_free(&b);
}

/* The builder reads only body[0..body_len): a quoted-printable body
 * ("\xc3\xa9 ", ending in a space, no final line break) placed at the very
 * end of a readable page followed by an unreadable one, so a read past it
 * is a crash; its last space is encoded (it ends the line), then a soft
 * break. */
static void test_qp_reads_only_body(void **state)
{
    static const char body[] = "\xc3\xa9 ";
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = sizeof(body) - 1;
    struct ss_msg m;
    struct ss_buf b;
    uint8_t *map;

    (void)state;
    map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
    memcpy(map + page - n, body, n);
    m = base_msg("", NULL, 0);
    m.body = map + page - n;
    m.body_len = n;
    build(&m, &b);
    if (!strstr((char *)b.p, "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                             "=C3=A9=20=\r\n"))
        fail_msg("no '=C3=A9=20=' body in '%s'", (char *)b.p);
    ss_buf_free(&b);
    munmap(map, 2 * page);
}

/* *field (a text of m) of n bytes 'a' is taken, of n + 1 refused with
 * the message want. */
static void at_limit(struct ss_msg *m, const char **field, size_t n, const char *want)
{
    static char text[1024];
    struct ss_buf b = { 0 };
    char err[256];

    memset(text, 'a', n + 1);
    text[n] = '\0';
    *field = text;
    assert_int_equal(ss_mime_build(m, &b, err), 0);
    ss_buf_free(&b);
    text[n] = 'a';
    text[n + 1] = '\0';
    err[0] = '\0';
    assert_int_equal(ss_mime_build(m, &b, err), -1);
    assert_string_equal(err, want);
    ss_buf_free(&b);
}

/* The file name's forms: plain filename="..." for printable ASCII up to
 * 60 bytes without '"' or '\\'; otherwise RFC 2231, each byte as is when
 * it is an attr-char (RFC 2231: ALPHA DIGIT !#$&+-.^_`|~) and %XX when
 * not, in one filename*= when the encoded value is at most 54 characters,
 * else in continuations of at most 54 encoded characters each. */
static void test_name_forms(void **state)
{
    static const char attr[] = "!#$&+-.^_`|~";
    struct ss_part part = { NULL, (const uint8_t *)"x", 1 };
    struct ss_msg m = base_msg("", &part, 1);
    char name[80], want[160];
    struct ss_buf b;

    (void)state;
    for (int c = 1; c < 256; c++) {
        int as_is = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    strchr(attr, c);
        if (c == '/')
            continue; /* a path separator: not in the name */
        snprintf(name, sizeof(name), "\x7f%c", c); /* 0x7f: not plain */
        part.name = name;
        build(&m, &b);
        if (as_is)
            snprintf(want, sizeof(want), " filename*=utf-8''%%7F%c\r\n", c);
        else
            snprintf(want, sizeof(want), " filename*=utf-8''%%7F%%%02X\r\n", c);
        if (!strstr((char *)b.p, want))
            fail_msg("byte 0x%02x: no '%s' in '%s'", c, want, (char *)b.p);
        ss_buf_free(&b);
    }
    for (size_t n = 59; n <= 61; n++) { /* 60 bytes plain, 61 not */
        memset(name, 'p', n);
        name[n] = '\0';
        build(&m, &b);
        if (n <= 60)
            snprintf(want, sizeof(want), " filename=\"%s\"\r\n", name);
        else /* 61 encoded characters: 54 and 7 */
            snprintf(want, sizeof(want), " filename*0*=utf-8''%.54s;\r\n filename*1*=%s\r\n", name,
                     name + 54);
        if (!strstr((char *)b.p, want))
            fail_msg("a name of %zu bytes: no '%s' in '%s'", n, want, (char *)b.p);
        ss_buf_free(&b);
    }
    for (size_t n = 53; n <= 55; n++) { /* %7F and n - 3 more: 54 encoded in one piece, 55 not */
        memset(name, 'q', n);
        memcpy(name, "\x7f", 1);
        name[n - 2] = '\0';
        build(&m, &b);
        if (n <= 54)
            snprintf(want, sizeof(want), ";\r\n filename*=utf-8''%%7F%s\r\n", name + 1);
        else
            snprintf(want, sizeof(want), ";\r\n filename*0*=utf-8''%%7F%.51s;\r\n filename*1*=%s\r\n",
                     name + 1, name + 1 + 51);
        if (!strstr((char *)b.p, want))
            fail_msg("%zu encoded characters: no '%s' in '%s'", n, want, (char *)b.p);
        ss_buf_free(&b);
    }
}

/* Each limit ss_mime_build checks (smtp_mime.h) taken at N, refused at
 * N + 1 with -1 and its message: subject bytes, a control byte in it,
 * message id length and form, boundary seed length and characters,
 * attachment name length (of its last path component), no recipient;
 * an address of SS_ADDR_MAX bytes taken, one more refused. */
static void test_check_limits(void **state)
{
    static const struct {
        int field; /* 0 subject, 1 message id, 2 boundary seed */
        const char *value, *err; /* err NULL: taken */
    } forms[] = {
        { 0, "a\x7f", "control character in the subject" },
        { 0, "a\x1f", "control character in the subject" },
        { 0, "\t", "control character in the subject" }, { 0, " ~\x80", NULL },
        { 1, "", "invalid message id" }, { 1, "a b", "invalid message id" },
        { 2, "", "invalid boundary seed" }, { 2, "AZaz09=_.-", NULL }, { 2, "a+", "invalid boundary seed" },
    };
    static char big[1024];
    struct ss_part part = { NULL, (const uint8_t *)"x", 1 };
    const char *to_big[1];
    struct ss_buf b = { 0 };
    struct ss_msg m;
    char err[256], name[300];

    (void)state;
#define TAKEN(what) do { \
        assert_int_equal(ss_mime_build(&m, &b, err), 0); \
        ss_buf_free(&b); \
    } while (0)
#define REFUSED(msg) do { \
        err[0] = '\0'; \
        assert_int_equal(ss_mime_build(&m, &b, err), -1); \
        assert_string_equal(err, msg); \
        ss_buf_free(&b); \
    } while (0)
    memset(big, 'a', sizeof(big));
    m = base_msg("", NULL, 0);
    at_limit(&m, &m.subject, 900, "subject longer than 900 bytes");
    m = base_msg("", NULL, 0);
    at_limit(&m, &m.message_id, 200, "invalid message id");
    m = base_msg("", NULL, 0);
    at_limit(&m, &m.boundary_seed, 50, "invalid boundary seed");
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        m = base_msg("", NULL, 0);
        *(forms[i].field == 0 ? &m.subject : forms[i].field == 1 ? &m.message_id : &m.boundary_seed) =
            forms[i].value;
        err[0] = '\0';
        assert_int_equal(ss_mime_build(&m, &b, err), forms[i].err ? -1 : 0);
        assert_string_equal(err, forms[i].err ? forms[i].err : "");
        ss_buf_free(&b);
    }
    m = base_msg("", &part, 1);
    memset(name, 'n', sizeof(name));
    memcpy(name, "d/", 2);
    name[2 + 255] = '\0'; /* a last component of 255 bytes */
    part.name = name;
    TAKEN();
    name[2 + 255] = 'n';
    name[2 + 256] = '\0';
    REFUSED("attachment name longer than 255 bytes");
    m = base_msg("", NULL, 0);
    m.nto = 0;
    REFUSED("no recipient");
    m = base_msg("", NULL, 0);
    memcpy(big, "a@", 2);
    big[254] = '\0';
    to_big[0] = big;
    m.to = to_big;
    TAKEN();
    big[254] = 'a';
    big[255] = '\0';
    REFUSED("invalid recipient address 'a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
#undef TAKEN
#undef REFUSED
}

/* The EHLO domain: printable ASCII from '!' to '~', 1 to 255 bytes. */
static void test_hello_domain(void **state)
{
    struct ss_buf b = { 0 };
    char big[257];

    (void)state;
    assert_int_equal(ss_cmd_hello(&b, "EHLO", "!a~"), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.p, "EHLO !a~\r\n", 10);
    assert_int_equal(ss_cmd_hello(&b, "EHLO", "a b"), -1);
    assert_int_equal(ss_cmd_hello(&b, "EHLO", "a\x7f"), -1);
    assert_int_equal(ss_cmd_hello(&b, "EHLO", ""), -1);
    memset(big, 'a', sizeof(big));
    big[255] = '\0';
    assert_int_equal(ss_cmd_hello(&b, "HELO", big), 0);
    big[255] = 'a';
    big[256] = '\0';
    assert_int_equal(ss_cmd_hello(&b, "HELO", big), -1);
    ss_buf_free(&b);
}

/* A subject that needs encoding goes in encoded words of at most 45 bytes
 * of text each, never splitting a UTF-8 sequence of 2, 3 or 4 bytes: a
 * word ends before a sequence that would take it past 45. */
static void test_subject_words(void **state)
{
    static const struct {
        const char *subject, *want;
    } cases[] = {
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9" "b",
          "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=?=\r\n"
          " =?utf-8?B?w6li?=\r\n" },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe2\x82\xac" "b",
          "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh4oKs?=\r\n"
          " =?utf-8?B?Yg==?=\r\n" },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xf0\x9f\x98\x80" "c",
          "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWHwn5iA?=\r\n"
          " =?utf-8?B?Yw==?=\r\n" },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe2\x82\xac",
          "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=\r\n"
          " =?utf-8?B?4oKs?=\r\n" },
    };
    struct ss_msg m = base_msg("", NULL, 0);
    struct ss_buf b;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m.subject = cases[i].subject;
        build(&m, &b);
        if (!strstr((char *)b.p, cases[i].want))
            fail_msg("case %zu: no '%s' in '%s'", i, cases[i].want, (char *)b.p);
        ss_buf_free(&b);
    }
}

/* The same at every lead byte the UTF-8 length depends on: the sequence
 * (lead, three 0x80s) starts 45 - len or 46 - len bytes in, so it ends the
 * first word exactly or begins the second; a stray byte (a continuation
 * byte, 0xf8 and above) is one byte long. */
static void test_subject_lead_bytes(void **state)
{
    static const struct {
        int pre;
        unsigned char lead;
        const char *want;
    } cases[] = {
        { 44, 0xbf, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWG/?=\r\n =?utf-8?B?gICAeg==?=\r\n" },
        { 45, 0xbf, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n =?utf-8?B?v4CAgHo=?=\r\n" },
        { 43, 0xc2, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYcKA?=\r\n =?utf-8?B?gIB6?=\r\n" },
        { 44, 0xc2, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=?=\r\n =?utf-8?B?woCAgHo=?=\r\n" },
        { 43, 0xdf, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYd+A?=\r\n =?utf-8?B?gIB6?=\r\n" },
        { 44, 0xdf, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=?=\r\n =?utf-8?B?34CAgHo=?=\r\n" },
        { 42, 0xe0, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh4ICA?=\r\n =?utf-8?B?gHo=?=\r\n" },
        { 43, 0xe0, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=\r\n =?utf-8?B?4ICAgHo=?=\r\n" },
        { 42, 0xe1, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh4YCA?=\r\n =?utf-8?B?gHo=?=\r\n" },
        { 43, 0xe1, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=\r\n =?utf-8?B?4YCAgHo=?=\r\n" },
        { 42, 0xef, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh74CA?=\r\n =?utf-8?B?gHo=?=\r\n" },
        { 43, 0xef, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=\r\n =?utf-8?B?74CAgHo=?=\r\n" },
        { 41, 0xf0, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWHwgICA?=\r\n =?utf-8?B?eg==?=\r\n" },
        { 42, 0xf0, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n =?utf-8?B?8ICAgHo=?=\r\n" },
        { 41, 0xf1, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWHxgICA?=\r\n =?utf-8?B?eg==?=\r\n" },
        { 42, 0xf1, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n =?utf-8?B?8YCAgHo=?=\r\n" },
        { 41, 0xf4, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWH0gICA?=\r\n =?utf-8?B?eg==?=\r\n" },
        { 42, 0xf4, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n =?utf-8?B?9ICAgHo=?=\r\n" },
        { 43, 0xc0, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYcCA?=\r\n =?utf-8?B?gIB6?=\r\n" },
        { 44, 0xc0, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=?=\r\n =?utf-8?B?wICAgHo=?=\r\n" },
        { 41, 0xf7, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWH3gICA?=\r\n =?utf-8?B?eg==?=\r\n" },
        { 42, 0xf7, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n =?utf-8?B?94CAgHo=?=\r\n" },
        { 42, 0xf8, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh+ICA?=\r\n =?utf-8?B?gHo=?=\r\n" },
        { 43, 0xf8, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=\r\n =?utf-8?B?+ICAgHo=?=\r\n" },
        { 42, 0xf9, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh+YCA?=\r\n =?utf-8?B?gHo=?=\r\n" },
        { 43, 0xf9, "Subject: =?utf-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=\r\n =?utf-8?B?+YCAgHo=?=\r\n" },
    };
    struct ss_msg m = base_msg("", NULL, 0);
    struct ss_buf b;
    char subj[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(subj, 'a', (size_t)cases[i].pre);
        subj[cases[i].pre] = (char)cases[i].lead;
        memcpy(subj + cases[i].pre + 1, "\x80\x80\x80z", 5);
        m.subject = subj;
        build(&m, &b);
        if (!strstr((char *)b.p, cases[i].want))
            fail_msg("lead 0x%02x at %d: no '%s' in '%s'", cases[i].lead, cases[i].pre, cases[i].want,
                     (char *)b.p);
        ss_buf_free(&b);
    }
}

/* Out of memory at each allocation of a build with five parts (more than
 * fit the builder's own table) in turn: SS_MIME_NOMEM (not -1, an invalid
 * message) with "out of memory", or 0 when the
 * allocation was one the C library can do without; never a crash. */
static void test_out_of_memory(void **state)
{
    static const char *const fns[] = { "calloc", "malloc", "realloc" };
    struct ss_part parts[5];
    struct ss_msg m;
    struct ss_buf b;
    char err[256], rule[32];
    unsigned long failed;
    int r;

    (void)state;
    for (int i = 0; i < 5; i++)
        parts[i] = (struct ss_part){ "p.txt", (const uint8_t *)"data", 4 };
    m = base_msg("body\r\n", parts, 5);
    for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
        failed = 1;
        for (int n = 1; failed; n++) {
            memset(&b, 0, sizeof(b));
            err[0] = '\0';
            snprintf(rule, sizeof(rule), "%s:%d", fns[f], n);
            assert_int_equal(fault_inproc_set(rule), 1);
            r = ss_mime_build(&m, &b, err);
            failed = fault_inproc_off();
            if (r != (failed ? SS_MIME_NOMEM : 0)) /* a failed allocation is never a message */
                fail_msg("%s: ss_mime_build %d with %lu allocations failed", rule, r, failed);
            if (r < 0)
                assert_string_equal(err, "out of memory");
            ss_buf_free(&b);
        }
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_roundtrip_bodies),
        cmocka_unit_test(test_roundtrip_long_and_binary),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_boundary_avoids_content),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_dot_stuffing),
        cmocka_unit_test(test_checker_catches_corruption),
        cmocka_unit_test(test_addr_bounds),
        cmocka_unit_test(test_body_7bit_bounds),
        cmocka_unit_test(test_check_limits),
        cmocka_unit_test(test_name_forms),
        cmocka_unit_test(test_qp_fill_and_name),
        cmocka_unit_test(test_qp_reads_only_body),
        cmocka_unit_test(test_hello_domain),
        cmocka_unit_test(test_b64_tail_bounds),
        cmocka_unit_test(test_subject_words),
        cmocka_unit_test(test_subject_lead_bytes),
        cmocka_unit_test(test_out_of_memory),
    };

    (void)argc;
    fault_inproc_init(argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
