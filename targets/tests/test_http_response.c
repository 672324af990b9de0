/* Unit tests of the http-get response head parser: every input is parsed
 * whole and as every prefix (each in an exact-size heap copy, so ASan sees
 * any over-read); a complete head must give -2 for every shorter prefix and
 * the same result for every longer one. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http-get/http_response.h"
#include "nr_err.h"
#include "tnames.h"

/* Names for failure messages: a parse result, a body framing. */
static const char *rc_name(long v)
{
    return v == HG_RESP_INCOMPLETE ? "HG_RESP_INCOMPLETE"
           : v == HG_RESP_MALFORMED ? "HG_RESP_MALFORMED"
           : v >= 0                 ? "a complete head of that many bytes"
                                    : "an unknown result";
}

static const char *framing_name(long v)
{
    static const char *const n[] = { "HG_BODY_NONE", "HG_BODY_LENGTH", "HG_BODY_CHUNKED",
                                      "HG_BODY_CLOSE" };
    return v >= 0 && v < 4 ? n[v] : "an unknown framing";
}

static struct hg_header hdrs[8];
static uint8_t *kept; /* the last parsed copy: views in results point here */

static long parse_n(const char *s, size_t n, struct hg_response *r, size_t max_bytes, char *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    long rc;

    free(kept);
    kept = copy;
    memcpy(copy, s, n);
    memset(r, 0, sizeof(*r));
    r->headers = hdrs;
    r->max_headers = 8;
    r->max_bytes = max_bytes;
    rc = hg_resp_parse(copy, n, r, err);
    return rc;
}

/* Parse s whole, then every prefix; returns the whole result. */
static long parse_all(const char *s, size_t n, struct hg_response *out, char *err)
{
    struct hg_response r;
    long full, rc;

    full = parse_n(s, n, &r, 4096, NULL);
    for (size_t k = 0; k < n; k++) {
        rc = parse_n(s, k, &r, 4096, NULL);
        if (full > 0 && (long)k < full)
            assert_named_equal(rc, HG_RESP_INCOMPLETE, rc_name);
        else if (full > 0)
            assert_named_equal(rc, full, rc_name);
        else
            assert_true(rc == HG_RESP_INCOMPLETE || rc == HG_RESP_MALFORMED);
    }
    assert_named_equal(parse_n(s, n, out, 4096, err), full, rc_name);
    return full;
}

#define PARSE(lit, r, err) parse_all(lit, sizeof(lit) - 1, r, err)

static void valid_heads(void **state)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  v a l  \r\n"
                             "Empty:\r\n\r\nhello";
    struct hg_response r;
    char err[NR_ERRBUF_SIZE];

    (void)state;
    assert_named_equal(PARSE(ok, &r, err), (long)sizeof(ok) - 1 - 5, rc_name);
    assert_ret_equal(r.status, 200);
    assert_ret_equal(r.minor, 1);
    assert_ret_equal(r.nheaders, 3);
    assert_memory_equal(r.reason, "OK", 2);
    assert_named_equal(r.framing, HG_BODY_LENGTH, framing_name);
    assert_ret_equal(r.content_length, 5);
    assert_ret_equal(r.headers[1].value_len, 5);
    assert_memory_equal(r.headers[1].value, "v a l", 5);
    assert_ret_equal(r.headers[2].value_len, 0);
    assert_non_null(hg_resp_header(&r, "x-a"));
    assert_null(hg_resp_header(&r, "x-b"));

    assert_true(PARSE("HTTP/1.0 404 \r\n\r\n", &r, err) > 0);
    assert_ret_equal(r.status, 404);
    assert_ret_equal(r.minor, 0);
    assert_ret_equal(r.reason_len, 0);
    assert_named_equal(r.framing, HG_BODY_CLOSE, framing_name);

    assert_true(PARSE("HTTP/1.1 200 Fine\r\nTransfer-Encoding: Chunked\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_CHUNKED, framing_name);
    /* A list with empty elements and blanks around "chunked": one coding. */
    assert_true(PARSE("HTTP/1.1 200 Fine\r\nTransfer-Encoding: , chunked \t, \t ,\r\n\r\n", &r,
                      err) > 0);
    assert_named_equal(r.framing, HG_BODY_CHUNKED, framing_name);
    /* elements right after a comma, with no blank */
    assert_true(PARSE("HTTP/1.1 200 Fine\r\nTransfer-Encoding: ,,chunked\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_CHUNKED, framing_name);
    assert_true(PARSE("HTTP/1.1 204 No\r\nContent-Length: 3\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_NONE, framing_name);
    /* 304 has no body whatever it announces; 303 and 305 do (make mutate) */
    assert_true(PARSE("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_NONE, framing_name);
    assert_true(PARSE("HTTP/1.1 303 See\r\nContent-Length: 3\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_LENGTH, framing_name);
    assert_true(PARSE("HTTP/1.1 305 Use\r\nContent-Length: 3\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_LENGTH, framing_name);
    assert_true(PARSE("HTTP/1.1 199 Early\r\nContent-Length: 3\r\n\r\n", &r, err) > 0);
    assert_named_equal(r.framing, HG_BODY_NONE, framing_name);
    assert_true(PARSE("HTTP/1.1 900 Odd\r\n\r\n", &r, err) > 0);
    assert_ret_equal(r.status, 900);
    assert_true(PARSE("HTTP/1.1 200 x\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n", &r,
                      err) > 0);
    assert_ret_equal(r.content_length, 7);
    assert_true(PARSE("HTTP/1.1 200 x\r\nContent-Length: 9223372036854775807\r\n\r\n", &r,
                      err) > 0);
}

/* Each malformed head is rejected, with the reason in err. */
static void expect_bad(const char *s, size_t n, const char *why)
{
    struct hg_response r;
    char err[NR_ERRBUF_SIZE] = "";

    assert_named_equal(parse_all(s, n, &r, err), HG_RESP_MALFORMED, rc_name);
    if (!strstr(err, why))
        fail_msg("'%s' does not mention '%s'", err, why);
}

#define BAD(lit, why) expect_bad(lit, sizeof(lit) - 1, why)

static void malformed_heads(void **state)
{
    (void)state;
    BAD("HTTP/2.0 200 OK\r\n\r\n", "expected 'HTTP/1.' at offset 0");
    BAD("HTTP/1.1x200 OK\r\n\r\n", "expected SP after version at offset 8");
    BAD("HTTP/1.a 200 OK\r\n\r\n", "bad HTTP minor version at offset 7");
    BAD("HTTP/1.1 200 O\x7fK\r\n\r\n", "control character in reason at offset 14");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "unsupported transfer coding (only chunked) at offset 17");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, Chunked\r\n\r\n",
        "chunked applied more than once");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n", "empty Transfer-Encoding");
    BAD("HTTP/1.1 20 OK\r\n\r\n", "status code");
    BAD("HTTP/1.1 099 OK\r\n\r\n", "bad status code at offset 9");
    BAD("HTTP/1.1 x99 OK\r\n\r\n", "bad status code at offset 9");
    BAD("HTTP/1.1 2x9 OK\r\n\r\n", "bad status code at offset 10");
    BAD("HTTP/1.1 20\r\n\r\n", "short status code at offset 9");
    BAD("HTTP/1.1 200-OK\r\n\r\n", "SP after status code at offset 12");
    BAD("HTTP/1.1 2000 OK\r\n\r\n", "SP after status");
    BAD("HTTP/1.1 200OK\r\n\r\n", "SP after status");
    BAD("HTTP/1.1 200\r\n\r\n", "status");
    BAD("HTTP/1.x 200 OK\r\n\r\n", "minor");
    BAD("HTTP/1.1 200 O\x01K\r\n\r\n", "reason");
    BAD("HTTP/1.1 200 OK\nA: b\n\n", "CRLF) at offset 15");
    BAD("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "bare CR");
    BAD("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "obs-fold");
    BAD("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "invalid character in header name");
    BAD("HTTP/1.1 200 OK\r\nNocolon\r\n\r\n", "missing colon");
    BAD("HTTP/1.1 200 OK\r\n: v\r\n\r\n", "empty header name");
    BAD("HTTP/1.1 200 OK\r\nA : v\r\n\r\n", "header name at offset 18");
    BAD("HTTP/1.1 200 OK\r\nA\0B: v\r\n\r\n", "header name at offset 18");
    BAD("HTTP/1.1 200 OK\r\nA: v\0w\r\n\r\n", "control character in header value");
    BAD("HTTP/1.1 200 OK\r\nA: v\x1fw\r\n\r\n", "control character in header value");
    BAD("HTTP/1.1 200 OK\r\nA: v\x7fw\r\n\r\n", "control character in header value");
    BAD("HTTP/1.1 200 O\x1fK\r\n\r\n", "control character in reason at offset 14");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", "overflow");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", "overflow");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "non-digit");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", "non-digit");
    BAD("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "empty Content-Length");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported transfer coding");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "unsupported");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "more than once");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "both Transfer-Encoding and Content-Length");
}

static void limits(void **state)
{
    static const char nine[] = "HTTP/1.1 200 OK\r\nA: 1\r\nA: 2\r\nA: 3\r\nA: 4\r\nA: 5\r\n"
                               "A: 6\r\nA: 7\r\nA: 8\r\nA: 9\r\n\r\n";
    struct hg_response r;
    char err[NR_ERRBUF_SIZE], big[200];
    long full;

    (void)state;
    assert_named_equal(parse_n(nine, sizeof(nine) - 1, &r, 4096, err), HG_RESP_MALFORMED,
                       rc_name);
    assert_non_null(strstr(err, "more than 8 header fields at offset"));
    /* 8 fields fit exactly: drop the ninth ("A: 9\r\n" is 6 bytes). */
    memcpy(big, nine, sizeof(nine) - 1 - 8);
    memcpy(big + sizeof(nine) - 1 - 8, "\r\n", 2);
    assert_named_equal(parse_n(big, sizeof(nine) - 1 - 6, &r, 4096, err), (long)sizeof(nine) - 7,
                       rc_name);
    assert_ret_equal(r.nheaders, 8);
    full = parse_n("HTTP/1.1 200 OK\r\nA: 1\r\n\r\n", 25, &r, 4096, err);
    assert_ret_equal(full, 25);
    /* A head longer than max_bytes is malformed, also while incomplete. */
    assert_named_equal(parse_n("HTTP/1.1 200 OK\r\nA: 1\r\n\r\n", 25, &r, 24, err),
                       HG_RESP_MALFORMED, rc_name);
    assert_non_null(strstr(err, "header block longer than 24 bytes"));
    assert_named_equal(parse_n("HTTP/1.1 200 OK\r\nA: 1\r\n\r\n", 25, &r, 25, err), 25, rc_name);
    memset(big, 'a', sizeof(big));
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    assert_named_equal(parse_n(big, sizeof(big), &r, 100, err), HG_RESP_MALFORMED, rc_name);
    assert_named_equal(parse_n(big, 99, &r, 100, err), HG_RESP_INCOMPLETE, rc_name);
    assert_named_equal(parse_n(big, 100, &r, 100, err), HG_RESP_MALFORMED, rc_name);
}

static void truncated(void **state)
{
    struct hg_response r;
    char err[NR_ERRBUF_SIZE];

    (void)state;
    assert_named_equal(PARSE("HTTP/1.1 200 OK\r\nA: b\r\n", &r, err), HG_RESP_INCOMPLETE, rc_name);
    assert_named_equal(PARSE("HTTP/1.1 200 OK\r\nA: b\r\n\r", &r, err), HG_RESP_INCOMPLETE,
                       rc_name);
    assert_named_equal(PARSE("", &r, err), HG_RESP_INCOMPLETE, rc_name);
}

/* RFC 9110 tchar and field/reason text, written out. */
static int tchar(int ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch > 0 && memchr("!#$%&'*+-.^_`|~", ch, 15) != NULL);
}

static int text(int ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Every byte value in each place of a head ('@' in the templates): the
 * minor version and each status digit (digits only, the first not 0), the
 * reason, a header name (tokens; ':' ends it) and value (text; CR and LF
 * make a bare CR or LF), a Content-Length digit (or trailing blank).  Accepted exactly when
 * http_response.h allows it, with the value read right; refused as
 * malformed at the byte's offset otherwise. */
static void every_byte_in_every_place(void **state)
{
    static const struct {
        const char *in;
        int place;
    } t[] = {
        { "HTTP/1.@ 200 OK\r\n\r\n", 0 },   { "HTTP/1.1 @00 OK\r\n\r\n", 1 },
        { "HTTP/1.1 2@0 OK\r\n\r\n", 2 },   { "HTTP/1.1 20@ OK\r\n\r\n", 2 },
        { "HTTP/1.1 200 O@K\r\n\r\n", 3 },  { "HTTP/1.1 200 OK\r\nA@B: v\r\n\r\n", 4 },
        { "HTTP/1.1 200 OK\r\nA: v@w\r\n\r\n", 3 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1@\r\n\r\n", 5 },
    };
    struct hg_header h[2];
    struct hg_response r = { .headers = h, .max_headers = 2, .max_bytes = 4096 };
    char in[64], err[NR_ERRBUF_SIZE];

    (void)state;
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        size_t n = strlen(t[k].in), at = (size_t)(strchr(t[k].in, '@') - t[k].in);

        for (int ch = 0; ch < 256; ch++) {
            int digit = ch >= '0' && ch <= '9', ok;
            size_t want_off;
            long rc;

            memcpy(in, t[k].in, n);
            in[at] = (char)ch;
            switch (t[k].place) {
            case 0: case 2: ok = digit; break;
            case 5: ok = digit || ch == ' ' || ch == '\t'; break; /* trailing blanks trimmed */
            case 1: ok = digit && ch != '0'; break;
            case 3: ok = text(ch); break;
            default: ok = tchar(ch) || ch == ':'; break;
            }
            rc = hg_resp_parse((const uint8_t *)in, n, &r, err);
            if (ok ? rc != (long)n : rc != HG_RESP_MALFORMED)
                fail_msg("byte 0x%02x at %zu of %s: %s (%s)", ch, at, t[k].in, rc_name(rc),
                         rc < 0 ? err : "");
            /* (a bad Content-Length is reported at its line) */
            want_off = t[k].place == 5 && text(ch) ? 17 : at;
            if (!ok && ch != '\r' && ch != '\n' && r.err_off != want_off)
                fail_msg("byte 0x%02x at %zu of %s: malformed at %zu", ch, at, t[k].in, r.err_off);
            if (ok && t[k].place == 0)
                assert_int_equal(r.minor, ch - '0');
            if (ok && (t[k].place == 1 || t[k].place == 2))
                assert_int_equal(r.status, t[k].place == 1 ? (ch - '0') * 100
                                           : at == 10 ? 200 + (ch - '0') * 10 : 200 + ch - '0');
            if (ok && t[k].place == 5)
                assert_int_equal(r.content_length, digit ? 10 + (uint64_t)(ch - '0') : 1);
        }
    }
}

/* Header names are looked up in any ASCII case: 'A'-'Z' and 'a'-'z' fold,
 * nothing else does ('`' and '^' stay themselves). */
static void header_lookup_folds_letters_only(void **state)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nAZaz`^: 1\r\nX-Y: 2\r\n\r\n";
    struct hg_header h[2];
    struct hg_response r = { .headers = h, .max_headers = 2, .max_bytes = 4096 };

    (void)state;
    assert_named_equal(hg_resp_parse((const uint8_t *)head, sizeof(head) - 1, &r, NULL),
                       (long)sizeof(head) - 1, rc_name);
    assert_ptr_equal(hg_resp_header(&r, "azAZ`^"), &h[0]);
    assert_ptr_equal(hg_resp_header(&r, "AZAZ`^"), &h[0]);
    assert_ptr_equal(hg_resp_header(&r, "azaz`^"), &h[0]);
    assert_null(hg_resp_header(&r, "azaz@~"));
    assert_null(hg_resp_header(&r, "AZaz`"));
    assert_ptr_equal(hg_resp_header(&r, "x-y"), &h[1]);
    assert_null(hg_resp_header(&r, "x-"));
    assert_null(hg_resp_header(&r, "x-yz"));
}

/* A struct that held a complete head is reused: each parse resets every
 * output field, so a failed or incomplete one shows only what it reached
 * (http_response.h). */
static void reused_struct_is_reset(void **state)
{
    static const char good[] = "HTTP/1.0 404 Nope\r\nContent-Length: 3\r\nA: b\r\n\r\n";
    static const struct {
        const char *in;
        int minor, status;  /* what the failed parse reached */
        size_t nheaders, err_off;
        long rc;
    } cases[] = {
        { "", 0, 0, 0, 0, HG_RESP_INCOMPLETE },
        { "HTTP/1.1 2x0 OK\r\n\r\n", 1, 0, 0, 10, HG_RESP_MALFORMED },
        { "HTTP/1.1 200 OK\r\nA: b\r\nBad\r\n\r\n", 1, 200, 1, 26, HG_RESP_MALFORMED },
        { "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 1, 200, 1, 17, HG_RESP_MALFORMED },
    };
    struct hg_header h[4];
    struct hg_response r = { .headers = h, .max_headers = 4, .max_bytes = 4096 };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_named_equal(hg_resp_parse((const uint8_t *)good, sizeof(good) - 1, &r, NULL),
                           (long)sizeof(good) - 1, rc_name);
        assert_ret_equal(r.content_length, 3);
        assert_named_equal(hg_resp_parse((const uint8_t *)cases[i].in, strlen(cases[i].in), &r,
                                         NULL), cases[i].rc, rc_name);
        assert_ret_equal(r.status, cases[i].status);
        assert_ret_equal(r.minor, cases[i].minor);
        if (cases[i].status)
            assert_ptr_equal(r.reason, cases[i].in + 13);
        else
            assert_null(r.reason);
        assert_ret_equal(r.reason_len, cases[i].status ? 2 : 0);
        assert_ret_equal(r.nheaders, cases[i].nheaders);
        assert_named_equal(r.framing, HG_BODY_CLOSE, framing_name);
        assert_ret_equal(r.content_length, 0);
        assert_ret_equal(r.err_off, cases[i].err_off);
        /* and a complete head after a failure has no problem offset */
        assert_named_equal(hg_resp_parse((const uint8_t *)good, sizeof(good) - 1, &r, NULL),
                           (long)sizeof(good) - 1, rc_name);
        assert_ret_equal(r.err_off, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_heads),
        cmocka_unit_test(malformed_heads),
        cmocka_unit_test(limits),
        cmocka_unit_test(truncated),
        cmocka_unit_test(reused_struct_is_reset),
        cmocka_unit_test(every_byte_in_every_place),
        cmocka_unit_test(header_lookup_folds_letters_only),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    free(kept);
    return rc;
}
