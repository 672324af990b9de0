/* Unit tests of the http-get body framing decoder: every input is fed
 * whole, byte by byte, and split in two at every offset (each piece in an
 * exact-size heap copy); all ways must give the same result and body. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http-get/http_body.h"
#include "nr_err.h"
#include "tnames.h"

/* A body result by name, for failure messages. */
static const char *rc_name(long v)
{
    static const char *const n[] = { "HG_BODY_ETRUNC", "HG_BODY_ETOOBIG", "HG_BODY_ESINK",
                                      "HG_BODY_EMALFORMED", "HG_BODY_MORE", "HG_BODY_DONE" };
    return v >= -4 && v <= 1 ? n[v + 4] : "an unknown result";
}

struct out {
    uint8_t buf[256];
    size_t len;
};

static int collect(void *ctx, const uint8_t *p, size_t n)
{
    struct out *o = ctx;

    assert_true(n <= sizeof(o->buf) - o->len);
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

/* Feed in[0..n) in pieces cut at the offsets cuts[0..ncuts) (ascending),
 * then signal EOF if the body is still incomplete.  Returns the result. */
static int feed(const char *in, size_t n, enum hg_framing fr, uint64_t cl, const size_t *cuts,
                size_t ncuts, struct out *o, char *err)
{
    struct hg_body b;
    size_t start = 0, used;
    int rc = HG_BODY_MORE;

    o->len = 0;
    hg_body_init(&b, fr, cl, 100, 0, collect, o);
    for (size_t i = 0; i <= ncuts && rc == HG_BODY_MORE; i++) {
        size_t end = i < ncuts ? cuts[i] : n, len = end - start;
        uint8_t *piece = malloc(len ? len : 1);
        memcpy(piece, in + start, len);
        rc = hg_body_feed(&b, piece, len, &used, err);
        free(piece);
        if (rc == HG_BODY_MORE)
            assert_int_equal(used, len);
        start = end;
    }
    if (rc == HG_BODY_MORE)
        rc = hg_body_eof(&b, err);
    return rc;
}

/* Feed every way; assert all agree with want_rc and (on success) body. */
static void check(const char *in, size_t n, enum hg_framing fr, uint64_t cl, int want_rc,
                  const char *body, const char *why)
{
    size_t *cuts = malloc((n + 1) * sizeof(*cuts));
    char err[NR_ERRBUF_SIZE] = "";
    struct out o;
    int rc;

    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    rc = feed(in, n, fr, cl, NULL, 0, &o, err);
    assert_int_equal(rc, want_rc);
    if (why && !strstr(err, why))
        fail_msg("'%s' does not mention '%s'", err, why);
    if (body) {
        assert_int_equal(o.len, strlen(body));
        assert_memory_equal(o.buf, body, o.len);
    }
    assert_int_equal(feed(in, n, fr, cl, cuts, n ? n - 1 : 0, &o, err), want_rc);
    if (body)
        assert_memory_equal(o.buf, body, o.len);
    for (size_t k = 0; k <= n; k++) {
        assert_int_equal(feed(in, n, fr, cl, &k, 1, &o, err), want_rc);
        if (body) {
            assert_int_equal(o.len, strlen(body));
            assert_memory_equal(o.buf, body, o.len);
        }
    }
    free(cuts);
}

#define OK(lit, fr, cl, body) check(lit, sizeof(lit) - 1, fr, cl, HG_BODY_DONE, body, NULL)
#define ERR(lit, fr, rc, why) check(lit, sizeof(lit) - 1, fr, 0, rc, NULL, why)

static void content_length(void **state)
{
    struct hg_body b;
    size_t used;

    (void)state;
    OK("hello", HG_BODY_LENGTH, 5, "hello");
    OK("hello world", HG_BODY_LENGTH, 5, "hello");
    OK("", HG_BODY_LENGTH, 0, "");
    check("hel", 3, HG_BODY_LENGTH, 5, HG_BODY_ETRUNC, "hel", "after 3 of 5 bytes");
    /* Bytes after the body are left unused. */
    hg_body_init(&b, HG_BODY_LENGTH, 2, 0, 0, NULL, NULL);
    assert_int_equal(hg_body_feed(&b, (const uint8_t *)"abcd", 4, &used, NULL), HG_BODY_DONE);
    assert_int_equal(used, 2);
}

static void until_close(void **state)
{
    (void)state;
    OK("anything\r\n0\r\n", HG_BODY_CLOSE, 0, "anything\r\n0\r\n");
    OK("", HG_BODY_CLOSE, 0, "");
}

static void chunked_valid(void **state)
{
    (void)state;
    OK("5\r\nhello\r\n0\r\n\r\n", HG_BODY_CHUNKED, 0, "hello");
    OK("3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", HG_BODY_CHUNKED, 0, "abc0123456789");
    OK("a\r\n0123456789\r\n0\r\n\r\n", HG_BODY_CHUNKED, 0, "0123456789");
    OK("0003;name=val;x=\"q;\"\r\nabc\r\n0;last\r\n\r\n", HG_BODY_CHUNKED, 0, "abc");
    OK("3 ;ext\r\nabc\r\n0\r\n\r\n", HG_BODY_CHUNKED, 0, "abc");
    OK("3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n", HG_BODY_CHUNKED, 0, "abc");
    OK("0\r\n\r\nextra", HG_BODY_CHUNKED, 0, "");
    OK("00000000000000000000003\r\nabc\r\n0\r\n\r\n", HG_BODY_CHUNKED, 0, "abc");
}

static void chunked_malformed(void **state)
{
    (void)state;
    ERR("ffffffffffffffffff\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED,
        "chunk size overflow at offset 115");
    ERR("8000000000000000\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "chunk size overflow");
    ERR("-5\r\nhello\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED,
        "bad chunk size at offset 100");
    ERR("\r\nhello\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "bad chunk size");
    ERR(";x\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "bad chunk size");
    ERR("5x\r\nhello\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "bad chunk size");
    ERR("5\rhello\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "expected LF");
    ERR("5\nhello\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "bad chunk size");
    ERR("5\r\nhelloX\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED,
        "missing CRLF after chunk data at offset 108");
    ERR("5\r\nhello\rX0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "missing CRLF");
    ERR("1;a\x01\r\nx\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "chunk extension");
    ERR("0\r\nX-Sum 1\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "trailer field name");
    ERR("0\r\n:v\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "bad trailer field");
    ERR("0\r\nA: \x7f\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "control character");
    ERR("0\r\n\rX", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "expected LF after last chunk");
    /* Whitespace may follow the size, never sit inside it. */
    ERR("1 2\r\nx\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED,
        "bad chunk size at offset 102");
    ERR("1\t2\r\nx\r\n0\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED, "bad chunk size");
    /* A NUL is no token character. */
    ERR("0\r\nX\0Y: v\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED,
        "bad trailer field name at offset 104");
    ERR("0\r\n\0: v\r\n\r\n", HG_BODY_CHUNKED, HG_BODY_EMALFORMED,
        "bad trailer field at offset 103");
}

/* RFC 9110 tchar, written out: the bytes a trailer field name may hold. */
static int tchar(int ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch > 0 && memchr("!#$%&'*+-.^_`|~", ch, 15) != NULL);
}

static int tchar_or_colon(int ch)
{
    return tchar(ch) || ch == ':';
}

/* Field-value and chunk-extension bytes: HTAB, SP, VCHAR, obs-text. */
static int text(int ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Every byte value in each place of the chunked framing: as a chunk size
 * digit, in a chunk extension, as the first and a later byte of a trailer
 * field name, and in a trailer value.  Accepted exactly when the grammar
 * allows it; refused as malformed otherwise. */
static void every_byte_in_every_place(void **state)
{
    /* '@' stands for the byte: in a chunk extension (a CR there ends the
     * line: then "\r\r" is bad); as the first byte of a trailer name (a CR
     * there is the final CRLF's); as a later one (':' ends the name: "N::v"
     * is fine); in a trailer value. */
    static const struct {
        const char *in;
        int (*ok)(int ch);
    } places[] = {
        { "1;x@y\r\nz\r\n0\r\n\r\n", text },
        { "0\r\n@N: v\r\n\r\n", tchar },
        { "0\r\nN@M: v\r\n\r\n", tchar_or_colon },
        { "0\r\nN: a@b\r\n\r\n", text },
    };
    char in[64], err[NR_ERRBUF_SIZE], want[32];
    struct out o;

    (void)state;
    for (int ch = 0; ch < 256; ch++) {
        int hex = (ch >= '0' && ch <= '9') ? ch - '0'
                  : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                  : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
        size_t n;
        int rc;

        /* A one-digit chunk size: that many bytes of data. */
        n = (size_t)snprintf(in, sizeof(in), "%c\r\n%.*s\r\n0\r\n\r\n", ch,
                             hex > 0 ? hex : 0, "0123456789abcdef");
        in[0] = (char)ch;
        snprintf(want, sizeof(want), "%.*s", hex > 0 ? hex : 0, "0123456789abcdef");
        rc = feed(in, n, HG_BODY_CHUNKED, 0, NULL, 0, &o, err);
        if (hex < 0 && rc != HG_BODY_EMALFORMED)
            fail_msg("chunk size byte 0x%02x: %s, want malformed", ch, rc_name(rc));
        /* ("0": the last chunk, and the empty line after it ends the body) */
        if (hex >= 0 && (rc != HG_BODY_DONE || o.len != strlen(want) ||
                        memcmp(o.buf, want, o.len) != 0))
            fail_msg("chunk size byte 0x%02x: %s, %zu bytes", ch, rc_name(rc), o.len);
        for (size_t k = 0; k < sizeof(places) / sizeof(places[0]); k++) {
            n = strlen(places[k].in);
            memcpy(in, places[k].in, n);
            *(char *)memchr(in, '@', n) = (char)ch;
            rc = feed(in, n, HG_BODY_CHUNKED, 0, NULL, 0, &o, err);
            if (rc != (places[k].ok(ch) ? HG_BODY_DONE : HG_BODY_EMALFORMED))
                fail_msg("byte 0x%02x in %s: %s", ch, places[k].in, rc_name(rc));
        }
    }
}

static void chunked_truncated(void **state)
{
    (void)state;
    ERR("5\r\nhel", HG_BODY_CHUNKED, HG_BODY_ETRUNC, "truncated chunked body");
    ERR("5\r\nhello\r\n", HG_BODY_CHUNKED, HG_BODY_ETRUNC, "at offset 110");
    ERR("5\r\nhello\r\n0\r\n", HG_BODY_CHUNKED, HG_BODY_ETRUNC, "truncated");
    ERR("5\r\nhello\r\n0\r\nA: b\r\n", HG_BODY_CHUNKED, HG_BODY_ETRUNC, "truncated");
    ERR("", HG_BODY_CHUNKED, HG_BODY_ETRUNC, "truncated");
}

static int refuse(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return -1;
}

static void limits_and_sink_errors(void **state)
{
    char line[HG_CHUNK_LINE_MAX + 8], err[NR_ERRBUF_SIZE];
    struct hg_body b;

    (void)state;
    hg_body_init(&b, HG_BODY_CHUNKED, 0, 0, 4, NULL, NULL);
    assert_int_equal(hg_body_feed(&b, (const uint8_t *)"5\r\nhello", 8, NULL, err),
                     HG_BODY_ETOOBIG);
    hg_body_init(&b, HG_BODY_LENGTH, 4, 0, 4, NULL, NULL);
    assert_int_equal(hg_body_feed(&b, (const uint8_t *)"abcd", 4, NULL, err), HG_BODY_DONE);
    /* The largest chunk size taken is 2^63 - 1 (2^63 is an overflow). */
    hg_body_init(&b, HG_BODY_CHUNKED, 0, 0, 0, NULL, NULL);
    assert_int_equal(hg_body_feed(&b, (const uint8_t *)"7fffffffffffffff\r\nab", 20, NULL, err),
                     HG_BODY_MORE);
    hg_body_init(&b, HG_BODY_CLOSE, 0, 0, 0, refuse, NULL);
    assert_int_equal(hg_body_feed(&b, (const uint8_t *)"x", 1, NULL, err), HG_BODY_ESINK);
    memset(line, ' ', sizeof(line));
    line[0] = '1';
    hg_body_init(&b, HG_BODY_CHUNKED, 0, 0, 0, NULL, NULL);
    assert_int_equal(hg_body_feed(&b, (const uint8_t *)line, sizeof(line), NULL, err),
                     HG_BODY_EMALFORMED);
    assert_non_null(strstr(err, "chunk size line too long"));
}

/* The trailer section (after the last chunk's size line) may be exactly
 * HG_TRAILER_MAX bytes, its final CRLF included, whatever the size line
 * before it; one byte more is refused.  Each chunk's size line has its own
 * HG_CHUNK_LINE_MAX. */
static void trailer_and_size_line_limits(void **state)
{
    static char in[HG_TRAILER_MAX + 64];
    char err[NR_ERRBUF_SIZE];
    struct hg_body b;
    size_t n, used;

    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        /* "0;ext\r\n" then "X: aaa...\r\n\r\n" of HG_TRAILER_MAX + extra bytes. */
        n = (size_t)sprintf(in, "0;ext\r\nX: ");
        memset(in + n, 'a', HG_TRAILER_MAX + (size_t)extra - 7);
        n += HG_TRAILER_MAX + (size_t)extra - 7;
        memcpy(in + n, "\r\n\r\n", 4);
        n += 4;
        hg_body_init(&b, HG_BODY_CHUNKED, 0, 0, 0, NULL, NULL);
        if (extra == 0) {
            assert_named_equal(hg_body_feed(&b, (const uint8_t *)in, n, &used, err),
                               HG_BODY_DONE, rc_name);
            assert_ret_equal(used, n);
        } else {
            assert_named_equal(hg_body_feed(&b, (const uint8_t *)in, n, NULL, err),
                               HG_BODY_EMALFORMED, rc_name);
            assert_non_null(strstr(err, "trailer section too long"));
        }
    }
    /* Two chunks whose size lines are each HG_CHUNK_LINE_MAX bytes. */
    n = 0;
    for (int i = 0; i < 2; i++) {
        in[n++] = '1';
        memset(in + n, ' ', HG_CHUNK_LINE_MAX - 3);
        n += HG_CHUNK_LINE_MAX - 3;
        memcpy(in + n, "\r\nx\r\n", 5);
        n += 5;
    }
    memcpy(in + n, "0\r\n\r\n", 5);
    n += 5;
    hg_body_init(&b, HG_BODY_CHUNKED, 0, 0, 0, NULL, NULL);
    assert_named_equal(hg_body_feed(&b, (const uint8_t *)in, n, &used, err), HG_BODY_DONE,
                       rc_name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_length),
        cmocka_unit_test(until_close),
        cmocka_unit_test(chunked_valid),
        cmocka_unit_test(chunked_malformed),
        cmocka_unit_test(chunked_truncated),
        cmocka_unit_test(every_byte_in_every_place),
        cmocka_unit_test(limits_and_sink_errors),
        cmocka_unit_test(trailer_and_size_line_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
